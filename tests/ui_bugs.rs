//! Issue 9's dashboard bugs, each driven through the app as a user would (keys in, screen and
//! state out): one label for no application, Enter on raw names and on sessions, the Failures
//! pane, the filter line, help scrolling, sort arrows, selection by session, header fitting,
//! the plain-terminal theme and the idle / quiet wording.

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::store::intern::Dim;
use pgconn_top::ui::app::{Pane, SortBy};
use pgconn_top::ui::rows::dim_rows;
use pgconn_top::ui::{self, fixed_clock, App, Mode, SourceMsg, Tab, UiOptions};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

const PREFIX: &str = "%m [%p] %q%u@%d ";

/// One session: received, authorized (with `app` as application_name when given).
fn session(out: &mut Vec<u8>, sec: u32, pid: u32, user: &str, app: Option<&[u8]>) {
    let t = format!(
        "2026-11-27 10:{:02}:{:02}.000 CET [{pid}]",
        sec / 60,
        sec % 60
    );
    out.extend(
        format!(
            "{t} [unknown]@[unknown] LOG:  connection received: host=10.0.0.{} port={}\n",
            pid % 7,
            40000 + pid
        )
        .bytes(),
    );
    out.extend(
        format!("{t} {user}@prod LOG:  connection authorized: user={user} database=prod").bytes(),
    );
    if let Some(a) = app {
        out.extend(b" application_name=");
        out.extend(a);
    }
    out.push(b'\n');
}

/// Sessions 101-102 of an application really named `unknown`, 103 with none, 104 named
/// with invalid UTF-8, 105 really named `(none)`; 30 users failing their password.
fn log() -> Vec<u8> {
    let mut out = Vec::new();
    session(&mut out, 1, 101, "alice", Some(b"unknown"));
    session(&mut out, 2, 102, "bob", Some(b"unknown"));
    session(&mut out, 3, 103, "carol", None);
    session(&mut out, 4, 104, "dave", Some(b"caf\xe9"));
    session(&mut out, 5, 105, "erin", Some(b"(none)"));
    for i in 0..30u32 {
        let pid = 300 + i;
        let t = format!("2026-11-27 10:01:{:02}.000 CET [{pid}]", i);
        out.extend(
            format!(
                "{t} [unknown]@[unknown] LOG:  connection received: host=10.9.9.{i} port=5{i:04}\n"
            )
            .bytes(),
        );
        out.extend(format!("{t} user{i:02}@prod FATAL:  password authentication failed for user \"user{i:02}\"\n").bytes());
    }
    out
}

fn app_with(opts: UiOptions) -> App {
    let mut engine = Engine::new(EngineConfig {
        prefix: Some(PREFIX.into()),
        ..EngineConfig::default()
    });
    let id = engine.add_source("postgresql.log");
    engine.read_to_end(id, &log()[..]).unwrap();
    let now = engine.store.now().millis;
    App::new(
        engine,
        &UiOptions {
            clock: fixed_clock(now + 30_000),
            color: false,
            ..opts
        },
    )
}

fn app() -> App {
    app_with(UiOptions::default())
}

fn press(a: &mut App, code: KeyCode) {
    a.key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn ctrl(a: &mut App, c: char) {
    a.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
}

fn typed(a: &mut App, s: &str) {
    for c in s.chars() {
        press(a, KeyCode::Char(c));
    }
}

fn screen(a: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, a)).unwrap();
    t
}

fn text(a: &App, w: u16, h: u16) -> Vec<String> {
    let t = screen(a, w, h);
    let buf = t.backend().buffer();
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect())
        .collect()
}

fn active(a: &App) -> u64 {
    a.engine.store.summary(&a.filter).active_total
}

fn pids(a: &App) -> Vec<u32> {
    let mut v: Vec<u32> = a.session_rows().iter().map(|s| s.pid).collect();
    v.sort_unstable();
    v
}

/// Focuses the Application pane and presses Enter on the row drawn as `label`.
fn enter_on_app(a: &mut App, label: &str) {
    a.summary.focus = Pane::By(Dim::Application);
    press(a, KeyCode::Home);
    let rows = dim_rows(&a.engine.store, &a.filter, Dim::Application);
    let at = rows.iter().position(|r| r.label == label).expect(label);
    for _ in 0..at {
        press(a, KeyCode::Down);
    }
    press(a, KeyCode::Enter);
}

#[test]
fn no_application_has_one_label_and_enter_filters_exactly_it() {
    let mut a = app();
    let all = text(&a, 120, 36).join("\n");
    assert!(all.contains("(none)"), "{all}");
    assert!(
        !all.contains("(not set)") && !all.contains("client"),
        "{all}"
    );
    let rows = dim_rows(&a.engine.store, &a.filter, Dim::Application);
    let labels: Vec<(&str, u64)> = rows.iter().map(|r| (r.label.as_str(), r.count)).collect();
    assert_eq!(
        labels,
        [
            ("unknown", 2),
            ("\"(none)\"", 1),
            ("caf\\xe9", 1),
            ("(none)", 1)
        ]
    );
    enter_on_app(&mut a, "(none)");
    assert_eq!(a.filter.to_text(), "app=(none)");
    assert_eq!(pids(&a), [103]);
    press(&mut a, KeyCode::Char('x'));
    enter_on_app(&mut a, "unknown");
    assert_eq!(pids(&a), [101, 102]);
    press(&mut a, KeyCode::Char('x'));
    enter_on_app(&mut a, "\"(none)\"");
    assert_eq!(a.filter.to_text(), "app=\"(none)\"");
    assert_eq!(pids(&a), [105]);
    // The feed uses the same label.
    press(&mut a, KeyCode::Char('x'));
    a.tab = Tab::Watch;
    let feed = text(&a, 120, 50).join("\n");
    assert!(feed.contains("(none) connected from 10.0.0.5"), "{feed}");
}

#[test]
fn enter_on_an_invalid_utf8_name_filters_its_session() {
    let mut a = app();
    enter_on_app(&mut a, "caf\\xe9");
    assert_eq!(a.filter.to_text(), "app=\"caf\\xe9\"");
    assert_eq!(pids(&a), [104]);
    assert_eq!(active(&a), 1);
    // Typed back into the filter line, the escape means the same byte.
    press(&mut a, KeyCode::Char('/'));
    press(&mut a, KeyCode::Enter);
    assert_eq!(pids(&a), [104]);
}

#[test]
fn enter_on_a_session_opens_its_details() {
    let mut a = app();
    a.summary.focus = Pane::Sessions;
    press(&mut a, KeyCode::Down);
    press(&mut a, KeyCode::Down);
    press(&mut a, KeyCode::Enter);
    assert_eq!(a.mode, Mode::Details(0, 103));
    let s = text(&a, 80, 24).join("\n");
    for want in [
        "Session 103",
        "carol",
        "prod",
        "(none)",
        "10.0.0.5:40103",
        "2026-11-27 10:00:03",
        "age",
    ] {
        assert!(s.contains(want), "{want}\n{s}");
    }
    insta::assert_snapshot!(screen(&a, 80, 24).backend());
    press(&mut a, KeyCode::Esc);
    assert_eq!(a.mode, Mode::Normal);
}

#[test]
fn failures_pane_takes_focus_and_scrolls() {
    let mut a = app();
    press(&mut a, KeyCode::Left);
    assert_eq!(a.summary.focus, Pane::Failures);
    let before = text(&a, 80, 24);
    let title = |s: &[String]| {
        s.iter()
            .find(|l| l.contains("Failures (30)"))
            .cloned()
            .unwrap()
    };
    assert!(
        title(&before).contains("Failures (30) 1-"),
        "{}",
        before.join("\n")
    );
    press(&mut a, KeyCode::Down);
    press(&mut a, KeyCode::Down);
    press(&mut a, KeyCode::Down);
    let after = text(&a, 80, 24);
    assert!(
        title(&after).contains("Failures (30) 4-"),
        "{}",
        after.join("\n")
    );
    press(&mut a, KeyCode::End);
    let end = text(&a, 80, 24).join("\n");
    assert!(end.contains("10.9.9.") && end.contains("55-63/63"), "{end}");
}

#[test]
fn filter_line_edits_like_readline_and_recalls_history() {
    let mut a = app();
    press(&mut a, KeyCode::Char('/'));
    typed(&mut a, "user=alice");
    ctrl(&mut a, 'a');
    typed(&mut a, "db=prod ");
    ctrl(&mut a, 'e');
    ctrl(&mut a, 'w');
    typed(&mut a, "user=bob");
    press(&mut a, KeyCode::Enter);
    assert_eq!(a.filter.to_text(), "db=prod user=bob");
    assert_eq!(pids(&a), [102]);
    // Reopened: the filter in force, selected; typing replaces it.
    press(&mut a, KeyCode::Char('/'));
    typed(&mut a, "user=alice,bob");
    press(&mut a, KeyCode::Enter);
    assert_eq!(pids(&a), [101, 102]);
    press(&mut a, KeyCode::Char('/'));
    ctrl(&mut a, 'u');
    press(&mut a, KeyCode::Up);
    press(&mut a, KeyCode::Up);
    press(&mut a, KeyCode::Enter);
    assert_eq!(a.filter.to_text(), "db=prod user=bob");
}

#[test]
fn filter_says_what_is_wrong_and_why_figures_are_zero() {
    let mut a = app();
    let error = |a: &App| match &a.mode {
        Mode::Filter(i) => i.error.clone().unwrap_or_default(),
        m => panic!("{m:?}"),
    };
    press(&mut a, KeyCode::Char('/'));
    typed(&mut a, "db=");
    press(&mut a, KeyCode::Enter);
    assert!(error(&a).starts_with("'db=' has no value"), "{}", error(&a));
    ctrl(&mut a, 'u');
    typed(&mut a, "db=a db=b");
    press(&mut a, KeyCode::Enter);
    assert_eq!(error(&a), "db is given twice: write db=a,b for either");
    ctrl(&mut a, 'u');
    typed(&mut a, "user!=alice app~^unk");
    press(&mut a, KeyCode::Enter);
    assert_eq!(pids(&a), [102]);
    press(&mut a, KeyCode::Char('/'));
    typed(&mut a, "db=nosuch");
    press(&mut a, KeyCode::Enter);
    let s = text(&a, 120, 36).join("\n");
    assert!(s.contains("no session ever had database 'nosuch'"), "{s}");
}

#[test]
fn help_scrolls_on_a_small_terminal() {
    let mut a = app();
    press(&mut a, KeyCode::Char('?'));
    let top = text(&a, 80, 24);
    assert!(
        top.iter().any(|l| l.contains("scroll · 1-")),
        "{}",
        top.join("\n")
    );
    insta::assert_snapshot!(screen(&a, 80, 24).backend());
    press(&mut a, KeyCode::PageDown);
    press(&mut a, KeyCode::End);
    let end = text(&a, 80, 24).join("\n");
    assert!(end.contains("app=(none)"), "the last line shows: {end}");
    assert_eq!(a.mode, Mode::Help);
    // One line up from the end shows one line less of the tail.
    press(&mut a, KeyCode::Up);
    let up = text(&a, 80, 24).join("\n");
    assert_ne!(up, end);
    assert!(up.contains("scroll · 27-43 of 44"), "{up}");
    press(&mut a, KeyCode::Home);
    assert_eq!(text(&a, 80, 24), top);
}

#[test]
fn sort_arrow_tells_the_direction_and_r_reverses() {
    let mut a = app();
    let head = |a: &App| {
        text(a, 120, 36)
            .into_iter()
            .find(|l| l.contains("PID"))
            .unwrap()
    };
    assert!(head(&a).contains("Age ▾"), "{}", head(&a));
    press(&mut a, KeyCode::Char('s'));
    assert_eq!(a.summary.sort, SortBy::Pid);
    assert!(head(&a).contains("PID ▴"), "{}", head(&a));
    assert_eq!(a.session_rows()[0].pid, 101);
    press(&mut a, KeyCode::Char('r'));
    assert!(head(&a).contains("PID ▾"), "{}", head(&a));
    assert_eq!(a.session_rows()[0].pid, 105);
}

#[test]
fn selection_follows_its_session_when_rows_move() {
    let mut a = app();
    a.summary.focus = Pane::Sessions;
    press(&mut a, KeyCode::Char('s')); // by pid: 101..105
    press(&mut a, KeyCode::Down);
    press(&mut a, KeyCode::Down);
    let picked = |a: &mut App| {
        press(a, KeyCode::Enter);
        let m = a.mode.clone();
        press(a, KeyCode::Esc);
        m
    };
    assert_eq!(picked(&mut a), Mode::Details(0, 103));
    // A new session sorts before it: the selection stays on 103.
    let mut more = Vec::new();
    session(&mut more, 10, 50, "zed", Some(b"psql"));
    a.engine.feed(0, &more).unwrap();
    assert_eq!(a.session_rows()[0].pid, 50);
    assert_eq!(picked(&mut a), Mode::Details(0, 103));
    // Re-sorted, still 103.
    press(&mut a, KeyCode::Char('r'));
    assert_eq!(picked(&mut a), Mode::Details(0, 103));
    press(&mut a, KeyCode::Down);
    assert_eq!(picked(&mut a), Mode::Details(0, 102));
}

#[test]
fn header_keeps_what_matters_at_80_and_120_columns() {
    let a = app();
    for w in [80u16, 120] {
        let s = text(&a, w, 36);
        assert!(
            s[0].contains("5 active") && s[0].contains("30 failures"),
            "{w}: {}",
            s[0]
        );
        assert!(s[1].contains("lines"), "{w}: {}", s[1]);
        assert!(s[2].contains("quiet for 30.0s"), "{w}: {}", s[2]);
    }
    insta::assert_snapshot!("header_80", text(&a, 80, 24)[..3].join("\n"));
    insta::assert_snapshot!("header_120", text(&a, 120, 36)[..3].join("\n"));
}

#[test]
fn plain_terminal_gets_ascii_glyphs() {
    let a = app_with(UiOptions {
        ascii: true,
        basic_colors: true,
        ..UiOptions::default()
    });
    let s = text(&a, 80, 24);
    for l in &s {
        // The only non-ASCII left is the data (none here but the escaped name).
        assert!(l.is_ascii(), "{l}");
    }
    insta::assert_snapshot!(screen(&a, 80, 24).backend());
}

#[test]
fn an_old_quiet_log_is_idle_not_live_nor_behind() {
    let mut a = app();
    a.input(SourceMsg::CaughtUp {
        source: 0,
        bytes: 1,
    });
    let s = text(&a, 120, 36);
    assert!(s[1].contains(" live"), "{}", s[1]);
    assert!(
        s[2].contains("quiet for 30.0s") && !s[2].contains("behind"),
        "{}",
        s[2]
    );
    let log = a.engine.store.now().millis;
    a.clock = fixed_clock(log + 37 * 3600 * 1000);
    let s = text(&a, 120, 36);
    assert!(s[1].contains("idle since 2026-11-27 10:01:29"), "{}", s[1]);
    assert!(!s[1].contains(" live"), "{}", s[1]);
    assert!(s[2].contains("quiet for 37h00m"), "{}", s[2]);
}
