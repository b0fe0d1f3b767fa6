//! The views of issue 9 driven as a user would, on real logs: PostgreSQL 18 setup times (store,
//! Summary pane, `--once --json`), session details, history peaks and row sparklines, search in
//! Watch, the mouse and export.

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::report::{self, ReportOptions};
use pgconn_top::ui::app::{Pane, SortBy};
use pgconn_top::ui::{self, fixed_clock, App, Mode, Tab, UiOptions};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::Terminal;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const BIN: &str = env!("CARGO_BIN_EXE_pgconn-top");

fn pg18(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus/versions/pg18-all")
        .join(file)
}

fn engine_of(path: &Path, label: &str) -> Engine {
    let mut engine = Engine::new(EngineConfig::default());
    let id = engine.add_source(label);
    engine
        .read_to_end(id, std::fs::File::open(path).unwrap())
        .unwrap();
    engine
}

/// The app over the PostgreSQL 18 log, its wall clock 30 s after the log's last line.
fn app18() -> App {
    let engine = engine_of(&pg18("postgresql.log"), "pg18-all/postgresql.log");
    let now = engine.store.now().millis;
    App::new(
        engine,
        &UiOptions {
            clock: fixed_clock(now + 30_000),
            color: false,
            ..UiOptions::default()
        },
    )
}

fn screen_text(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, app)).unwrap();
    let buf = t.backend().buffer();
    (0..h)
        .map(|y| {
            let l: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
            l.trim_end().to_string() + "\n"
        })
        .collect()
}

/// Exact setup figures (ms) per application and per host, read from the stderr log's lines.
type Exact = HashMap<String, [Vec<f64>; 3]>;

fn exact_setup(log: &str) -> (Exact, Exact, usize) {
    let mut app_of: HashMap<String, String> = HashMap::new();
    let mut host_of: HashMap<String, String> = HashMap::new();
    let (mut by_app, mut by_host, mut n) = (Exact::new(), Exact::new(), 0);
    for line in log.lines() {
        let Some(pid) = line.split('[').nth(1).and_then(|r| r.split(']').next()) else {
            continue;
        };
        let pid = pid.to_string();
        if let Some(r) = line.split("connection received: host=").nth(1) {
            host_of.insert(pid.clone(), r.split(' ').next().unwrap().to_string());
        } else if let Some(r) = line.split("LOG:  connection authorized: ").nth(1) {
            let app = r
                .split(" application_name=")
                .nth(1)
                .unwrap_or("unknown")
                .to_string();
            app_of.insert(pid.clone(), app);
        } else if let Some(r) = line.split("connection ready: setup ").nth(1) {
            n += 1;
            let val = |k: &str| -> f64 {
                r.split(k)
                    .nth(1)
                    .unwrap()
                    .split(' ')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            };
            let v = [val("total="), val("fork="), val("authentication=")];
            for (map, key) in [(&mut by_app, &app_of), (&mut by_host, &host_of)] {
                let e = map.entry(key[&pid].clone()).or_default();
                for i in 0..3 {
                    e[i].push(v[i]);
                }
            }
        }
    }
    (by_app, by_host, n)
}

/// Nearest-rank percentile.
fn pct(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = ((p / 100.0 * s.len() as f64).ceil() as usize).clamp(1, s.len());
    s[rank - 1]
}

/// The JSON's setup times agree with the exact figures within the histogram's resolution
/// (1/32 of the value, exact below 32 µs).
fn check_setup_json(j: &Value, log: &str) {
    let (by_app, by_host, n) = exact_setup(log);
    assert!(n > 50, "the fixture has connection ready lines");
    let st = &j["setup_times"];
    for (section, exact) in [("by_application", &by_app), ("by_host", &by_host)] {
        let obj = st[section].as_object().unwrap();
        assert_eq!(obj.len(), exact.len(), "{section}: {obj:?}");
        let total: u64 = obj.values().map(|v| v["count"].as_u64().unwrap()).sum();
        assert_eq!(total as usize, n, "{section} counts every ready line");
        for (name, figures) in exact {
            let got = &obj[name.as_str()];
            assert_eq!(got["count"].as_u64().unwrap() as usize, figures[0].len());
            for (i, part) in ["total", "fork", "authentication"].iter().enumerate() {
                for p in [50.0, 90.0, 99.0] {
                    let want = pct(&figures[i], p);
                    let have = got[part][format!("p{p}")].as_f64().unwrap();
                    assert!(
                        (have - want).abs() <= want / 32.0 + 0.0011,
                        "{section} {name} {part} p{p}: {have} vs {want}"
                    );
                }
            }
        }
    }
}

#[test]
fn setup_times_match_the_ready_lines_of_pg18() {
    let log = std::fs::read_to_string(pg18("postgresql.log")).unwrap();
    let engine = engine_of(&pg18("postgresql.log"), "postgresql.log");
    let ready = log.matches("LOG:  connection ready: setup").count();
    assert_eq!(engine.store.setup_times().lines() as usize, ready);
    check_setup_json(
        &report::json_report(&engine, &ReportOptions::default()),
        &log,
    );
    // csvlog and jsonlog carry the same lines and give the same figures.
    for f in ["postgresql.csv", "postgresql.json"] {
        let e = engine_of(&pg18(f), f);
        assert_eq!(e.store.setup_times().lines() as usize, ready, "{f}");
        check_setup_json(&report::json_report(&e, &ReportOptions::default()), &log);
    }
}

#[test]
fn once_json_has_setup_times() {
    for f in ["postgresql.log", "postgresql.json"] {
        let out = std::process::Command::new(BIN)
            .args(["--once", "--json"])
            .arg(pg18(f))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let j: Value = serde_json::from_slice(&out.stdout).unwrap();
        check_setup_json(
            &j,
            &std::fs::read_to_string(pg18("postgresql.log")).unwrap(),
        );
    }
}

#[test]
fn summary_shows_setup_times_only_when_the_log_has_them() {
    let app = app18();
    let s = screen_text(&app, 120, 36);
    assert!(s.contains("Connection setup, ms p50/p90/p99"), "{s}");
    insta::assert_snapshot!("summary_setup_120", s);
    insta::assert_snapshot!("summary_setup_80", screen_text(&app, 80, 24));
    let older = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus/versions/pg17-debian/postgresql.log");
    let e = engine_of(&older, "pg17");
    let now = e.store.now().millis;
    let a = App::new(
        e,
        &UiOptions {
            clock: fixed_clock(now),
            color: false,
            ..UiOptions::default()
        },
    );
    assert!(!screen_text(&a, 120, 36).contains("Connection setup"));
}

fn key(app: &mut App, code: KeyCode) {
    app.key(KeyEvent::new(code, KeyModifiers::NONE));
}

#[test]
fn session_details_show_authentication_setup_and_log_lines() {
    let mut a = app18();
    a.summary.focus = Pane::Sessions;
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.mode, Mode::Details(0, 26489));
    let s = screen_text(&a, 120, 36);
    for want in [
        "Session 26489",
        "auth method  scram-sha-256",
        "identity     app_user",
        "SSL          no",
        "total 9.809 ms · fork 0.597 ms · authentication 6.715 ms",
        "log lines",
        "rails connected from 127.0.0.1",
    ] {
        assert!(s.contains(want), "{want}\n{s}");
    }
    insta::assert_snapshot!("details_120", s);
    insta::assert_snapshot!("details_80", screen_text(&a, 80, 24));
    // The trust session has a method and no identity.
    key(&mut a, KeyCode::Esc);
    key(&mut a, KeyCode::Up);
    key(&mut a, KeyCode::Enter);
    let s = screen_text(&a, 120, 36);
    assert!(s.contains("auth method  trust"), "{s}");
    assert!(!s.contains("identity"), "{s}");
}

#[test]
fn session_details_show_ssl_from_the_authorized_line() {
    let log = "\
2026-11-27 10:00:00.000 UTC [7] [unknown]@[unknown] LOG:  connection received: host=10.1.1.1 port=5000
2026-11-27 10:00:00.010 UTC [7] app@shop LOG:  connection authenticated: identity=\"CN=app,O=x\" method=cert (/etc/pg_hba.conf:9)
2026-11-27 10:00:00.010 UTC [7] app@shop LOG:  connection authorized: user=app database=shop application_name=web SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)
2026-11-27 10:00:00.020 UTC [7] app@shop LOG:  connection ready: setup total=20.000 ms, fork=1.000 ms, authentication=12.500 ms
";
    let mut engine = Engine::new(EngineConfig {
        prefix: Some("%m [%p] %q%u@%d ".into()),
        ..EngineConfig::default()
    });
    let id = engine.add_source("ssl.log");
    engine.read_to_end(id, log.as_bytes()).unwrap();
    let d = engine
        .store
        .session_details(0, 7)
        .expect("session 7 is open");
    assert_eq!(
        d.ssl.as_deref(),
        Some(&b"protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256"[..])
    );
    assert_eq!(d.identity.as_deref(), Some(&b"CN=app,O=x"[..]));
    assert_eq!(d.method, Some(pgconn_top::model::AuthMethod::Cert));
    assert_eq!(d.setup.map(|t| t.auth_us), Some(12_500));
    let now = engine.store.now().millis;
    let mut a = App::new(
        engine,
        &UiOptions {
            clock: fixed_clock(now),
            color: false,
            ..UiOptions::default()
        },
    );
    a.summary.focus = Pane::Sessions;
    key(&mut a, KeyCode::Enter);
    let s = screen_text(&a, 120, 36);
    assert!(
        s.contains("SSL          protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384"),
        "{s}"
    );
    assert!(s.contains("identity     CN=app,O=x"), "{s}");
}

/// A log of `(minute, second, pid, app, connects?)` lines: a `connection received` and
/// `authorized` when connecting, a `disconnection` else.
fn synth(events: &[(u32, u32, u32, &str, bool)]) -> String {
    let mut out = String::new();
    for &(m, s, pid, app, up) in events {
        let t = format!("2026-11-27 10:{m:02}:{s:02}.000 UTC [{pid}]");
        if up {
            out += &format!(
                "{t} [unknown]@[unknown] LOG:  connection received: host=10.0.0.{} port={}\n",
                pid % 3,
                40000 + pid
            );
            out += &format!("{t} app@shop LOG:  connection authorized: user=app database=shop application_name={app}\n");
        } else {
            out += &format!("{t} app@shop LOG:  disconnection: session time: 0:01:00.000 user=app database=shop host=10.0.0.{} port={}\n", pid % 3, 40000 + pid);
        }
    }
    out
}

/// The app over a synthetic log, its wall clock at the log's end.
fn app_of(log: &str) -> App {
    let mut engine = Engine::new(EngineConfig {
        prefix: Some("%m [%p] %q%u@%d ".into()),
        ..EngineConfig::default()
    });
    let id = engine.add_source("synthetic.log");
    engine.read_to_end(id, log.as_bytes()).unwrap();
    let now = engine.store.now().millis;
    App::new(
        engine,
        &UiOptions {
            clock: fixed_clock(now),
            color: false,
            ..UiOptions::default()
        },
    )
}

/// A burst of 8 `batch` sessions at 10:02 gone by 10:06; `web` grows 1 a minute from 10:00.
fn burst() -> String {
    let mut ev = Vec::new();
    for i in 0..8 {
        ev.push((2, i, 200 + i, "batch", true));
    }
    for i in 0..8 {
        ev.push((6, i, 200 + i, "batch", false));
    }
    for m in 0..20 {
        ev.push((m, 30, 100 + m, "web", true));
    }
    ev.sort_by_key(|e| (e.0, e.1));
    synth(&ev)
}

#[test]
fn history_buckets_keep_their_peak() {
    let mut a = app_of(&burst());
    a.tab = Tab::History;
    let buckets = a
        .engine
        .store
        .history_view(&Default::default(), 900, Some(3600));
    // 10:00-10:15: 8 batch + up to 15 web at once at most, 15 web at the end.
    let first = buckets.iter().find(|b| b.connects > 0).unwrap();
    assert_eq!((first.active_end, first.active_peak), (15, 15));
    // Per minute the burst shows: 10:02 peaks at 8 batch + 3 web.
    key(&mut a, KeyCode::Char('b')); // 15m -> 1h
    key(&mut a, KeyCode::Char('b')); // 1h -> 1m
    assert_eq!(a.history.bucket_secs, 60);
    let per_min = a
        .engine
        .store
        .history_view(&Default::default(), 60, Some(3600));
    let at = |m: i64| {
        per_min
            .iter()
            .find(|b| b.start.millis.rem_euclid(3_600_000) / 60_000 == m)
            .unwrap()
    };
    assert_eq!((at(2).active_peak, at(2).active_end), (11, 11));
    assert_eq!((at(6).active_peak, at(6).active_end), (14, 7));
    // Filtered to batch: exact (one combination).
    let f = pgconn_top::store::filter::Filter::parse("app=batch").unwrap();
    let b = a.engine.store.history_view(&f, 300, Some(3600));
    let b5 = b
        .iter()
        .find(|x| x.start.millis.rem_euclid(3_600_000) / 60_000 == 5)
        .unwrap();
    assert_eq!((b5.active_peak, b5.active_end), (8, 0));
    let s = screen_text(&a, 120, 36);
    assert!(s.contains("bar = peak"), "{s}");
    insta::assert_snapshot!("history_peaks_120", s);
    insta::assert_snapshot!("history_peaks_80", screen_text(&a, 80, 24));
    // --once --json gives the peak too.
    let j = report::json_report(
        &a.engine,
        &ReportOptions {
            bucket_secs: 300,
            ..Default::default()
        },
    );
    let peaks: Vec<i64> = j["history"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["active_peak"].as_i64().unwrap())
        .collect();
    assert_eq!(peaks, vec![13, 14, 15, 20]);
}

#[test]
fn summary_rows_have_a_sparkline_of_the_last_hour() {
    let a = app_of(&burst());
    let trends = a.engine.store.trends();
    let names = a.engine.store.names();
    let now = a.engine.store.now().millis;
    let batch = names.lookup(b"batch").unwrap();
    let s = trends
        .series(pgconn_top::store::intern::Dim::Application, batch, now)
        .unwrap();
    // 10:02-10:06 at 8, nothing after; the hour ends at 10:19.
    assert_eq!(&s[60 - 18..60 - 13], &[8, 8, 8, 8, 8]);
    assert!(s[60 - 13..].iter().all(|&v| v == 0));
    let web = names.lookup(b"web").unwrap();
    let w = trends
        .series(pgconn_top::store::intern::Dim::Application, web, now)
        .unwrap();
    assert_eq!(&w[40..], &(1..=20).collect::<Vec<u16>>()[..]);
    assert_eq!(pgconn_top::ui::summary::spark(&w, 10), "      ▁▄▆█");
    let s = screen_text(&a, 120, 36);
    insta::assert_snapshot!("summary_sparklines_120", s);
    insta::assert_snapshot!("summary_sparklines_80", screen_text(&a, 80, 24));
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// The cells of row `y` drawn reversed (the highlight without colours), as text.
fn reversed_text(app: &App, w: u16, h: u16) -> Vec<String> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..h)
        .map(|y| {
            (0..w)
                .filter(|&x| {
                    buf[(x, y)]
                        .modifier
                        .contains(ratatui::style::Modifier::REVERSED)
                })
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn search_in_watch_highlights_and_jumps() {
    let mut a = app18();
    a.size = (120, 36);
    key(&mut a, KeyCode::Char('3'));
    assert_eq!(a.tab, Tab::Watch);
    key(&mut a, KeyCode::Char('/'));
    assert!(matches!(a.mode, Mode::Search(_)), "{:?}", a.mode);
    typed(&mut a, "SIDEKIQ con");
    // Readline editing: Ctrl-W drops the last word.
    a.key(KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL));
    key(&mut a, KeyCode::Backspace);
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(a.search.query, "SIDEKIQ");
    let all = ui::search::matches(&a);
    let feed = a.visible_feed();
    let want: Vec<u64> = feed
        .iter()
        .filter(|e| {
            pgconn_top::feedline::describe(&a.engine.store, e)
                .to_lowercase()
                .contains("sidekiq")
        })
        .map(|e| e.seq)
        .collect();
    assert_eq!(all, want);
    assert!(all.len() >= 3, "{all:?}");
    // The newest match is current; N goes older, n newer, wrapping.
    assert_eq!(a.search.current, all.last().copied());
    key(&mut a, KeyCode::Char('N'));
    assert_eq!(a.search.current, Some(all[all.len() - 2]));
    key(&mut a, KeyCode::Char('n'));
    key(&mut a, KeyCode::Char('n'));
    assert_eq!(a.search.current, Some(all[0]));
    let s = screen_text(&a, 120, 36);
    assert!(
        s.contains(&format!("search \"SIDEKIQ\": 1/{}", all.len())),
        "{s}"
    );
    // The current match is on screen, marked, and every match shown is highlighted.
    let first = feed.iter().find(|e| e.seq == all[0]).unwrap();
    assert!(
        s.contains(&format!(">{}", ui::text::clock(first.time))),
        "{s}"
    );
    let hl = reversed_text(&a, 120, 36);
    assert!(hl.iter().any(|r| r.contains("sidekiq")), "{hl:?}");
    insta::assert_snapshot!("watch_search_120", s);
    insta::assert_snapshot!("watch_search_80", screen_text(&a, 80, 24));
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.search.query, "");
    assert!(!screen_text(&a, 120, 36).contains("search \""));
    // `f` still filters on Watch; `/` filters elsewhere.
    key(&mut a, KeyCode::Char('f'));
    assert!(matches!(a.mode, Mode::Filter(_)));
    key(&mut a, KeyCode::Esc);
    key(&mut a, KeyCode::Char('1'));
    key(&mut a, KeyCode::Char('/'));
    assert!(matches!(a.mode, Mode::Filter(_)));
}

#[test]
fn a_search_with_no_match_says_so() {
    let mut a = app18();
    key(&mut a, KeyCode::Char('3'));
    key(&mut a, KeyCode::Char('/'));
    typed(&mut a, "no such text");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.search.current, None);
    key(&mut a, KeyCode::Char('n'));
    assert_eq!(a.search.current, None);
    let s = screen_text(&a, 120, 36);
    assert!(s.contains("search \"no such text\": -/0"), "{s}");
}

/// Draws the app (so that it knows where things are) and finds `needle` on screen: (x, y).
fn find_on_screen(app: &App, w: u16, h: u16, needle: &str) -> (u16, u16) {
    let s = screen_text(app, w, h);
    for (y, line) in s.lines().enumerate() {
        if let Some(i) = line.find(needle) {
            let x = line[..i].chars().count();
            return (x as u16, y as u16);
        }
    }
    panic!("{needle} not on screen:\n{s}");
}

fn mouse(app: &mut App, kind: MouseEventKind, (x, y): (u16, u16)) {
    app.handle(ui::Event::Mouse(MouseEvent {
        kind,
        column: x,
        row: y,
        modifiers: KeyModifiers::NONE,
    }));
}

fn click(app: &mut App, at: (u16, u16)) {
    mouse(app, MouseEventKind::Down(MouseButton::Left), at);
}

#[test]
fn mouse_clicks_tabs_rows_and_headers_and_the_wheel_scrolls() {
    let mut a = app18();
    a.size = (120, 36);
    // Tabs.
    let at = find_on_screen(&a, 120, 36, "2 History");
    click(&mut a, at);
    assert_eq!(a.tab, Tab::History);
    let at = find_on_screen(&a, 120, 36, "1 Summary");
    click(&mut a, (at.0 + 2, at.1));
    assert_eq!(a.tab, Tab::Summary);
    // A row of the Application table: the first click selects, the second filters by it.
    let at = find_on_screen(&a, 120, 36, "sidekiq ");
    click(&mut a, at);
    assert_eq!(
        a.summary.focus,
        Pane::By(pgconn_top::store::intern::Dim::Application)
    );
    assert_eq!(
        a.summary.selected[Pane::By(pgconn_top::store::intern::Dim::Application).index()],
        1
    );
    assert!(a.filter.is_empty());
    click(&mut a, at);
    assert_eq!(a.filter.to_text(), "app=sidekiq");
    key(&mut a, KeyCode::Char('x'));
    // Column headers sort the sessions; the same header again reverses.
    let at = find_on_screen(&a, 120, 36, "PID     User");
    let at = (at.0 + 9, at.1);
    click(&mut a, at);
    assert_eq!((a.summary.sort, a.summary.reversed), (SortBy::User, false));
    click(&mut a, at);
    assert_eq!((a.summary.sort, a.summary.reversed), (SortBy::User, true));
    let s = screen_text(&a, 120, 36);
    assert!(s.contains("User ▾"), "{s}");
    // A session row: select, then open its details; a click closes them.
    let at = find_on_screen(&a, 120, 36, "26493 ");
    click(&mut a, at);
    assert_eq!(a.summary.focus, Pane::Sessions);
    click(&mut a, at);
    assert_eq!(a.mode, Mode::Details(0, 26493));
    click(&mut a, (0, 0));
    assert_eq!(a.mode, Mode::Normal);
    // The wheel moves the focused list.
    let before = a.session_rows()[a.summary.selected[Pane::Sessions.index()]].pid;
    mouse(&mut a, MouseEventKind::ScrollDown, (10, 10));
    let after = a.session_rows()[a.summary.selected[Pane::Sessions.index()]].pid;
    assert_ne!(before, after);
    mouse(&mut a, MouseEventKind::ScrollUp, (10, 10));
    assert_eq!(
        a.session_rows()[a.summary.selected[Pane::Sessions.index()]].pid,
        before
    );
    // On Watch the wheel scrolls the feed back and forth.
    let at = find_on_screen(&a, 120, 36, "3 Watch");
    click(&mut a, at);
    assert_eq!(a.tab, Tab::Watch);
    mouse(&mut a, MouseEventKind::ScrollUp, (10, 10));
    assert!(a.watch.anchor.is_some());
    mouse(&mut a, MouseEventKind::ScrollDown, (10, 10));
    assert_eq!(a.watch.anchor, None);
    // Clicks on nothing change nothing; a click on the Failures pane focuses it.
    key(&mut a, KeyCode::Char('1'));
    let at = find_on_screen(&a, 120, 36, "password_failed");
    click(&mut a, at);
    assert_eq!(a.summary.focus, Pane::Failures);
}

/// Reads the one file written in `dir` whose name ends with `ext`.
fn written(dir: &Path, ext: &str) -> (String, String) {
    let mut found: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(ext))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    let p = found.pop().unwrap();
    let name = p.file_name().unwrap().to_string_lossy().into_owned();
    (name, std::fs::read_to_string(p).unwrap())
}

#[test]
fn export_writes_what_each_tab_shows() {
    let mut a = app18();
    a.size = (120, 36);
    key(&mut a, KeyCode::Char('f'));
    key(&mut a, KeyCode::Char('d')); // replaces the (empty) selection
    typed(&mut a, "b=production");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.filter.to_text(), "db=production");

    // Summary: the headline figure, the tables and the sessions in the order shown.
    let dir = tempfile::tempdir().unwrap();
    a.export_dir = dir.path().to_path_buf();
    key(&mut a, KeyCode::Char('e'));
    let (name, body) = written(dir.path(), ".json");
    assert!(
        name.starts_with("pgconn-top-summary-20261129-0854") && name.ends_with(".json"),
        "{name}"
    );
    let s = screen_text(&a, 120, 36);
    assert!(
        s.contains(&format!(
            "Summary written to {}",
            std::path::absolute(dir.path())
                .unwrap()
                .join(&name)
                .display()
        )),
        "{s}"
    );
    let j: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(j["tab"], "summary");
    assert_eq!(j["filter"], "db=production");
    let shown = a.engine.store.summary(&a.filter).active_total;
    assert!(
        s.contains(&format!("Active connections to 'production': {shown}")),
        "{s}"
    );
    assert_eq!(j["active_total"].as_u64(), Some(shown));
    assert_eq!(j["by_database"], serde_json::json!({"production": shown}));
    let pids: Vec<u64> = j["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["pid"].as_str().unwrap().parse().unwrap())
        .collect();
    let on_screen: Vec<u64> = a.session_rows().iter().map(|x| u64::from(x.pid)).collect();
    assert_eq!(pids, on_screen);
    // CSV: the sessions table, one line per session.
    key(&mut a, KeyCode::Char('E'));
    let (_, csv) = written(dir.path(), ".csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "pid,user,database,application,host,port,connected_at,age_s"
    );
    assert_eq!(lines.len() as u64, shown + 1);
    assert!(
        lines[1].starts_with(&format!("{},app_user,production,", on_screen[0])),
        "{csv}"
    );

    // History: the buckets of the window.
    key(&mut a, KeyCode::Char('2'));
    let dir = tempfile::tempdir().unwrap();
    a.export_dir = dir.path().to_path_buf();
    key(&mut a, KeyCode::Char('E'));
    let (name, csv) = written(dir.path(), ".csv");
    assert!(name.starts_with("pgconn-top-history-"), "{name}");
    let buckets = a.engine.store.history_view(
        &a.filter,
        a.history.bucket_secs,
        Some(a.history.window_secs),
    );
    assert_eq!(csv.lines().count(), buckets.len() + 1);
    let last = csv.lines().last().unwrap();
    let b = buckets.last().unwrap();
    assert!(
        last.ends_with(&format!(",{},{}", b.active_peak, b.active_end)),
        "{last}"
    );

    // Watch: every entry that passes the filter, as the feed counts them.
    key(&mut a, KeyCode::Char('3'));
    let dir = tempfile::tempdir().unwrap();
    a.export_dir = dir.path().to_path_buf();
    key(&mut a, KeyCode::Char('e'));
    let (_, body) = written(dir.path(), ".json");
    let j: Value = serde_json::from_str(&body).unwrap();
    let n = j["events"].as_array().unwrap().len();
    assert!(screen_text(&a, 120, 36).contains(&format!("Live feed ({n} events)")));
    assert!(j["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["database"] == "production" || e["kind"] == "reset"));
    key(&mut a, KeyCode::Char('E'));
    let (_, csv) = written(dir.path(), ".csv");
    assert_eq!(csv.lines().count(), n + 1);
    // The next key takes the sentence away.
    key(&mut a, KeyCode::Char('3'));
    assert_eq!(a.status, None);
}

#[test]
fn export_says_why_it_failed() {
    let mut a = app18();
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("read-only");
    std::fs::create_dir(&ro).unwrap();
    let mut perm = std::fs::metadata(&ro).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o555);
    std::fs::set_permissions(&ro, perm).unwrap();
    // Root may write anywhere but in /sys.
    let target = if std::fs::write(ro.join("probe"), b"").is_ok() {
        PathBuf::from("/sys")
    } else {
        ro
    };
    a.export_dir = target.clone();
    key(&mut a, KeyCode::Char('e'));
    let msg = a.status.clone().unwrap();
    assert!(
        msg.starts_with(&format!(
            "could not write (permission denied) {}/pgconn-top-summary-",
            target.display()
        )),
        "{msg}"
    );
    let s = screen_text(&a, 120, 36);
    assert!(s.contains("could not write"), "{s}");
    insta::assert_snapshot!(
        "export_failed_80",
        screen_text(&a, 80, 24).replace(&target.display().to_string(), "<dir>")
    );
}

#[test]
fn csv_cells_are_quoted_and_formulas_defused() {
    let t = (
        vec!["a", "b"],
        vec![
            vec!["x,y".to_string(), "=1+1".to_string()],
            vec!["say \"hi\"".to_string(), "line\nbreak".to_string()],
        ],
    );
    assert_eq!(
        ui::export::csv(&t),
        "a,b\n\"x,y\",'=1+1\n\"say \"\"hi\"\"\",\"line\nbreak\"\n"
    );
}

/// The app over the built-in demo log (three hours recorded from a real PostgreSQL 15).
fn demo_app() -> App {
    let mut engine = Engine::new(EngineConfig {
        prefix: Some(pgconn_top::source::demo::DEMO_PREFIX.into()),
        ..EngineConfig::default()
    });
    let id = engine.add_source("assets/demo.log");
    engine
        .read_to_end(id, pgconn_top::source::demo::DEMO_LOG)
        .unwrap();
    let now = engine.store.now().millis;
    App::new(
        engine,
        &UiOptions {
            clock: fixed_clock(now + 30_000),
            color: false,
            ..UiOptions::default()
        },
    )
}

/// The README's text screenshots (`assets/screenshots/*.txt`) are what the views draw today, at
/// 120x36, from real logs; `UPDATE_SCREENSHOTS=1 cargo test --test ui_views readme` renews them.
#[test]
fn readme_screenshots_are_current() {
    let mut shots: Vec<(&str, String)> = Vec::new();
    let mut a = app18();
    a.size = (120, 36);
    shots.push(("summary-setup-times", screen_text(&a, 120, 36)));
    a.summary.focus = Pane::Sessions;
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Enter);
    shots.push(("session-details", screen_text(&a, 120, 36)));
    key(&mut a, KeyCode::Esc);
    key(&mut a, KeyCode::Char('3'));
    key(&mut a, KeyCode::Char('/'));
    typed(&mut a, "sidekiq");
    key(&mut a, KeyCode::Enter);
    key(&mut a, KeyCode::Char('N'));
    shots.push(("watch-search", screen_text(&a, 120, 36)));
    let mut d = demo_app();
    d.size = (120, 36);
    shots.push(("summary-sparklines", screen_text(&d, 120, 36)));
    key(&mut d, KeyCode::Char('2'));
    shots.push(("history-peaks", screen_text(&d, 120, 36)));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/screenshots");
    let update = std::env::var_os("UPDATE_SCREENSHOTS").is_some();
    for (name, text) in shots {
        let path = dir.join(format!("{name}.txt"));
        if update {
            std::fs::write(&path, &text).unwrap();
        } else {
            let have = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                have == text,
                "{} is stale; UPDATE_SCREENSHOTS=1 cargo test --test ui_views readme renews it. Now:\n{text}",
                path.display()
            );
        }
    }
}
