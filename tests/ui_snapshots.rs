//! Dashboard snapshots: each tab drawn on a `TestBackend` from the real corpus log with a fixed
//! clock, with and without a filter, and the figures on screen checked against `truth.json`.

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::store::filter::Filter;
use pgconn_top::store::intern::Dim;
use pgconn_top::ui::{self, fixed_clock, App, Tab, UiOptions};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus/pg15-debian-berlin")
}

/// The app over the corpus log, its wall clock 30 s after the log's last line.
fn app(filter: &str) -> App {
    let mut engine = Engine::new(EngineConfig::default());
    // A relative label, so the header (and the snapshots) do not depend on the checkout path.
    let id = engine.add_source("pg15-debian-berlin/postgresql.log");
    let file = std::fs::File::open(dir().join("postgresql.log")).unwrap();
    engine.read_to_end(id, file).unwrap();
    let now = engine.store.now().millis;
    let opts = UiOptions {
        filter: Filter::parse(filter).unwrap(),
        clock: fixed_clock(now + 30_000),
        color: false,
        ..UiOptions::default()
    };
    App::new(engine, &opts)
}

fn screen(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, app)).unwrap();
    t
}

/// The screen as plain lines.
fn lines(app: &App, w: u16, h: u16) -> Vec<String> {
    let t = screen(app, w, h);
    let buf = t.backend().buffer();
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect())
        .collect()
}

fn truth() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("truth.json")).unwrap()).unwrap()
}

fn key(app: &mut App, code: KeyCode) {
    app.key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn tab(filter: &str, t: Tab) -> App {
    let mut a = app(filter);
    a.tab = t;
    a
}

#[test]
fn summary_tab() {
    insta::assert_snapshot!(screen(&tab("", Tab::Summary), 120, 36).backend());
}

#[test]
fn summary_tab_filtered_by_database() {
    insta::assert_snapshot!(screen(&tab("db=production", Tab::Summary), 120, 36).backend());
}

#[test]
fn summary_tab_small_terminal() {
    insta::assert_snapshot!(screen(&tab("", Tab::Summary), 80, 24).backend());
}

#[test]
fn history_tab() {
    insta::assert_snapshot!(screen(&tab("", Tab::History), 120, 36).backend());
}

#[test]
fn history_tab_filtered() {
    insta::assert_snapshot!(screen(&tab("app=rails", Tab::History), 120, 36).backend());
}

#[test]
fn watch_tab() {
    insta::assert_snapshot!(screen(&tab("", Tab::Watch), 120, 36).backend());
}

#[test]
fn watch_tab_filtered() {
    let a = tab(r#"user="report user""#, Tab::Watch);
    insta::assert_snapshot!(screen(&a, 120, 36).backend());
}

#[test]
fn help_overlay() {
    let mut a = app("");
    key(&mut a, KeyCode::Char('?'));
    insta::assert_snapshot!(screen(&a, 100, 40).backend());
}

#[test]
fn help_overlay_in_two_columns_on_a_short_wide_terminal() {
    let mut a = app("");
    key(&mut a, KeyCode::Char('?'));
    let text = format!("{:?}", screen(&a, 140, 24).backend());
    insta::assert_snapshot!(text.clone());
    assert!(
        text.contains("Filter line") && text.contains("Everywhere"),
        "every group is on screen"
    );
}

#[test]
fn filter_line_with_error() {
    let mut a = app("");
    key(&mut a, KeyCode::Char('/'));
    for c in "colour=red".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    key(&mut a, KeyCode::Enter);
    insta::assert_snapshot!(screen(&a, 100, 30).backend());
}

#[test]
fn clear_confirmation() {
    let mut a = app("");
    key(&mut a, KeyCode::Char('c'));
    insta::assert_snapshot!(screen(&a, 100, 30).backend());
}

#[test]
fn too_small() {
    let l = lines(&app(""), 59, 15);
    assert_eq!(
        l[0].trim_end(),
        "terminal too small (need 60x15, have 59x15)"
    );
    let l = lines(&app(""), 60, 14);
    assert_eq!(
        l[0].trim_end(),
        "terminal too small (need 60x15, have 60x14)"
    );
    // The smallest size draws the dashboard (the header keeps the active count first).
    let l = lines(&app(""), 60, 15);
    assert!(l[0].starts_with("● 15 active"), "{l:#?}");
    assert!(l[3].contains("1 Summary"), "{l:#?}");
}

#[test]
fn empty_state_names_the_settings_to_enable() {
    let mut engine = Engine::new(EngineConfig::default());
    let id = engine.add_source("quiet.log");
    let log = "2026-11-27 20:21:03.010 CET [4132] LOG:  starting PostgreSQL 15.18 on x86_64\n\
               2026-11-27 20:21:03.017 CET [4132] LOG:  database system is ready to accept connections\n";
    engine.feed(id, log.as_bytes()).unwrap();
    engine.finish(id).unwrap();
    let opts = UiOptions {
        clock: fixed_clock(engine.store.now().millis),
        color: false,
        ..UiOptions::default()
    };
    let a = App::new(engine, &opts);
    let text = lines(&a, 100, 30).join("\n");
    assert!(text.contains("log_connections = on"), "{text}");
    assert!(text.contains("log_disconnections = on"), "{text}");
    insta::assert_snapshot!(screen(&a, 100, 30).backend());
}

/// `name  count` as a row of one of the summary tables.
fn has_row(screen: &[String], name: &str, n: u64) -> bool {
    screen.iter().any(|l| {
        l.split('│').any(|cell| {
            let cell = cell.trim_start();
            cell.strip_prefix(name).is_some_and(|rest| {
                let mut w = rest.split_whitespace();
                w.next() == Some(&n.to_string()) && !rest.starts_with(|c: char| !c.is_whitespace())
            })
        })
    })
}

#[test]
fn figures_on_screen_match_truth() {
    let t = truth();
    let a = app("");
    let s = lines(&a, 140, 45);
    let all = s.join("\n");
    let active = t["active_total"].as_u64().unwrap();
    assert!(
        all.contains(&format!("Active connections: {active}")),
        "{all}"
    );
    assert!(all.contains(&format!("● {active} active")), "{all}");
    assert!(
        all.contains(&format!("{} connects", t["connects"])),
        "{all}"
    );
    assert!(
        all.contains(&format!("{} disconnects", t["disconnects"])),
        "{all}"
    );
    let failures: u64 = t["failures"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(all.contains(&format!("{failures} failures")), "{all}");
    for (reason, n) in t["failures"].as_object().unwrap() {
        let n = n.as_u64().unwrap();
        if n > 0 {
            assert!(
                s.iter().any(|l| l.contains(&format!("{n:>5} {reason}"))),
                "failure {reason} {n}\n{all}"
            );
        }
    }
    for k in ["by_database", "by_user", "by_application", "by_host"] {
        for (name, n) in t[k].as_object().unwrap() {
            let n = n.as_u64().unwrap();
            // The truth counts an unset application as `unknown` (corpus README); the
            // dashboard's one label for it is `(none)`.
            let name = match (k, name.as_str()) {
                ("by_application", "unknown") => "(none)",
                _ => name.as_str(),
            };
            assert!(has_row(&s, name, n), "{k}: {name} {n}\n{all}");
        }
    }
    assert!(
        all.contains(&format!("Active sessions ({active})")),
        "{all}"
    );
    for sess in t["active"].as_array().unwrap() {
        let pid = sess["pid"].as_u64().unwrap();
        let row = s
            .iter()
            .find(|l| l.contains(&format!("│{pid} ")))
            .unwrap_or_else(|| panic!("pid {pid}\n{all}"));
        for f in ["user", "database", "host"] {
            assert!(
                row.contains(sess[f].as_str().unwrap()),
                "{f} of {pid}: {row}"
            );
        }
        let app = sess["application"].as_str().unwrap_or("(none)");
        assert!(row.contains(app), "application of {pid}: {row}");
    }
}

#[test]
fn filtered_figures_match_truth() {
    let t = truth();
    for (db, n) in t["by_database"].as_object().unwrap() {
        let filter = Filter::exact(Dim::Database, db.as_bytes());
        let a = app(&filter.to_text());
        let all = lines(&a, 140, 45).join("\n");
        assert!(
            all.contains(&format!("Active connections to '{db}': {n}")),
            "{db}\n{all}"
        );
        let want = t["active"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["database"] == db.as_str())
            .count();
        assert!(all.contains(&format!("Active sessions ({want})")), "{all}");
    }
}

#[test]
fn history_and_watch_agree_with_truth() {
    let t = truth();
    let a = tab("", Tab::History);
    let all = lines(&a, 120, 36).join("\n");
    let net = t["connects"].as_i64().unwrap() - t["disconnects"].as_i64().unwrap();
    let row = all
        .lines()
        .find(|l| l.contains("2026-11-27 20:15:00"))
        .unwrap_or_else(|| panic!("{all}"));
    let cells: Vec<&str> = row.trim_matches('│').split_whitespace().collect();
    assert_eq!(cells[2], t["connects"].to_string(), "{row}");
    assert_eq!(cells[3], t["disconnects"].to_string(), "{row}");
    assert_eq!(cells[5], format!("{net:+}"), "{row}");
    // Columns 7 and 8: the bucket's peak, then the count at its end.
    assert_eq!(cells[8], t["active_total"].to_string(), "{row}");
    assert!(cells[7].parse::<i64>().unwrap() >= net, "{row}");
    let w = tab("", Tab::Watch);
    let all = lines(&w, 120, 36).join("\n");
    assert!(
        all.contains("[+] rails connected from 127.0.0.1 (user: app_user, db: production)")
            || all.contains("[-] "),
        "{all}"
    );
}

#[test]
fn hostile_names_are_drawn_as_visible_escapes() {
    let mut engine = Engine::new(EngineConfig::default());
    let id = engine.add_source("evil.log");
    let log = "2026-11-27 20:21:03.010 CET [4132] LOG:  database system is ready to accept connections\n\
        2026-11-27 20:21:04.000 CET [5000] [unknown]@[unknown] LOG:  connection received: host=10.9.9.9 port=4000\n\
        2026-11-27 20:21:04.010 CET [5000] \x1b[2Jx@production LOG:  connection authorized: user=\x1b[2Jx database=production application_name=a\u{202e}b\x07\n\
        2026-11-27 20:21:05.000 CET [5001] [unknown]@[unknown] LOG:  connection received: host=10.9.9.9 port=4001\n\
        2026-11-27 20:21:05.010 CET [5001] \x1b]0;pwned\x07@production FATAL:  password authentication failed for user \"\x1b]0;pwned\x07\"\n";
    engine.feed(id, log.as_bytes()).unwrap();
    engine.finish(id).unwrap();
    let opts = UiOptions {
        clock: fixed_clock(engine.store.now().millis),
        color: false,
        ..UiOptions::default()
    };
    let mut a = App::new(engine, &opts);
    for t in [Tab::Summary, Tab::Watch] {
        a.tab = t;
        let s = lines(&a, 140, 40).join("\n");
        assert!(
            !s.contains(|c: char| c.is_control() && c != '\n' || c == '\u{202e}'),
            "raw control character on screen:\n{s}"
        );
        assert!(s.contains("\\x1b[2Jx"), "{s}");
        if t == Tab::Summary {
            assert!(s.contains("a\\u{202e}b\\x07"), "{s}");
        } else {
            assert!(s.contains("\\x1b]0;pwned\\x07"), "{s}");
        }
    }
}

#[test]
fn demo_badge_and_tailer_status_show_in_the_header() {
    let mut a = app("");
    a.demo = true;
    a.input(ui::SourceMsg::Status {
        source: 0,
        message: "waiting for the log to be created".into(),
    });
    a.input(ui::SourceMsg::Progress {
        source: 0,
        done: 50,
        total: 200,
    });
    let l = lines(&a, 160, 30);
    assert!(l[0].contains(" DEMO "), "{l:#?}");
    assert!(l[1].contains("replaying 25%"), "{l:#?}");
    assert!(l[1].contains("waiting for the log to be created"), "{l:#?}");
    a.input(ui::SourceMsg::CaughtUp {
        source: 0,
        bytes: 0,
    });
    let l = lines(&a, 160, 30);
    assert!(l[1].contains(" live"), "{l:#?}");
}

/// A name cut to its column ends in `…`, so that a cut value never passes for another one
/// (`127.0.0` for `127.0.0.1`, `app_use` for `app_user`).
#[test]
fn cut_session_cells_end_in_an_ellipsis() {
    let a = tab("", Tab::Summary);
    let rows: Vec<String> = lines(&a, 80, 24)
        .into_iter()
        .filter(|l| l.starts_with("│41"))
        .collect();
    assert!(rows.len() > 3, "{rows:#?}");
    for row in &rows {
        let cells = row.split('│').nth(1).unwrap();
        for bad in ["127.0.0 ", "app_use ", "postgre ", "product "] {
            assert!(!cells.contains(bad), "cut without an ellipsis: {row}");
        }
        assert!(cells.contains('…') || cells.contains("[local]"), "{row}");
    }
}

/// A source that cannot be read says why in the empty state, whole, instead of the advice to
/// turn on log_connections (which would be wrong).
#[test]
fn an_unreadable_source_says_why_in_the_empty_state() {
    let mut engine = Engine::new(EngineConfig::default());
    engine.add_source("/nonexistent/postgresql.log");
    let opts = UiOptions {
        clock: fixed_clock(1_764_271_263_000),
        color: false,
        ..UiOptions::default()
    };
    let mut a = App::new(engine, &opts);
    let why = "cannot read /nonexistent/postgresql.log: no such file; check the path (the server's log_directory) and try again";
    a.input(pgconn_top::source::SourceMsg::Status {
        source: 0,
        message: why.into(),
    });
    let text = lines(&a, 100, 30).join(" ").replace('│', " ");
    let squeezed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(squeezed.contains("check the path (the server's"), "{text}");
    assert!(squeezed.contains("log_directory) and try again"), "{text}");
    assert!(!text.contains("log_connections = on"), "{text}");
}
