//! The dashboard with a fleet: two real corpus logs as servers `a` and `b`. The Server pane's
//! rows equal each log's truth, Enter on a server row filters `server=`, Watch lines and the
//! History tab name their server, and with one server none of it shows.

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::store::filter::Filter;
use pgconn_top::store::intern::Dim;
use pgconn_top::ui::app::Pane;
use pgconn_top::ui::servers::{server_rows, ServersPane};
use pgconn_top::ui::{self, fixed_clock, App, Tab, UiOptions};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::widgets::Widget;
use ratatui::Terminal;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus")
        .join(rel)
}

fn truth(rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(corpus(rel)).unwrap()).unwrap()
}

/// Server a: the full Berlin log; server b: the New York log that ends after a restart.
const SERVERS: [(&str, &str); 2] = [
    ("a", "pg15-debian-berlin/postgresql.log"),
    ("b", "pg15-rds-newyork/postgresql.after-restart.log"),
];

/// The app over `servers` (name, corpus log), its wall clock 30 s after the last line.
fn app(servers: &[(&str, &str)], filter: &str) -> App {
    let mut engine = Engine::new(EngineConfig::default());
    for (i, (name, rel)) in servers.iter().enumerate() {
        engine.store.set_server(i as u16, i as u16, name);
        // A relative label, so the snapshots do not depend on the checkout path.
        let id = engine.add_source(rel);
        engine
            .read_to_end(id, std::fs::File::open(corpus(rel)).unwrap())
            .unwrap();
    }
    let now = engine.store.now().millis;
    let opts = UiOptions {
        filter: Filter::parse(filter).unwrap(),
        clock: fixed_clock(now + 30_000),
        color: false,
        ..UiOptions::default()
    };
    App::new(engine, &opts)
}

/// A widget drawn alone, as plain lines.
fn drawn(w: u16, h: u16, draw: impl FnOnce(Rect, &mut Buffer)) -> Vec<String> {
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    draw(area, &mut buf);
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect())
        .collect()
}

#[test]
fn server_rows_equal_each_truth() {
    let a = app(&SERVERS, "");
    let rows = server_rows(&a.engine.store, &a.filter);
    let names: Vec<&[u8]> = rows.iter().map(|r| &r.name[..]).collect();
    assert_eq!(names, [&b"a"[..], &b"b"[..]]);
    let ta = truth("pg15-debian-berlin/truth.json");
    let tb = truth("pg15-rds-newyork/truth-after-restart.json");
    assert_eq!(rows[0].active, ta["active_total"].as_u64().unwrap());
    assert_eq!(rows[1].active, tb["active_total"].as_u64().unwrap());
    let failures: u64 = ta["failures"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(rows[0].failures, failures);
    // A filter on another dimension narrows every server's figures.
    let prod = Filter::parse("db=production").unwrap();
    let rows = server_rows(&a.engine.store, &prod);
    assert_eq!(
        rows[0].active,
        ta["by_database"]["production"].as_u64().unwrap()
    );
    assert_eq!(
        rows[1].active,
        tb["by_database"]["production"].as_u64().unwrap()
    );
    // A server filter keeps its own row.
    let only_b = server_rows(&a.engine.store, &Filter::exact(Dim::Server, b"b"));
    assert_eq!(only_b.len(), 1);
    assert_eq!(&only_b[0].name[..], b"b");
}

#[test]
fn server_pane_draws_one_row_per_server() {
    let a = app(&SERVERS, "");
    let lines = drawn(60, 5, |area, buf| ServersPane { app: &a }.render(area, buf));
    insta::assert_snapshot!(lines.join("\n"));
    assert!(lines[0].contains("Server (2)"));
    let row_a: Vec<&str> = lines[2].trim_matches('│').split_whitespace().collect();
    assert_eq!(row_a[..2], ["a", "15"]);
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

fn key(app: &mut App, code: KeyCode) {
    app.key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn on_tab(t: Tab) -> App {
    let mut a = app(&SERVERS, "");
    a.tab = t;
    a
}

#[test]
fn summary_with_a_fleet_80x24() {
    insta::assert_snapshot!(screen(&on_tab(Tab::Summary), 80, 24).backend());
}

#[test]
fn summary_with_a_fleet_120x36() {
    let a = on_tab(Tab::Summary);
    let l = lines(&a, 120, 36);
    insta::assert_snapshot!(screen(&a, 120, 36).backend());
    let row = |name: &str| {
        l.iter()
            .find(|x| {
                x.trim_start_matches(['│', ' '])
                    .starts_with(&format!("{name} "))
            })
            .unwrap_or_else(|| panic!("a row for {name}"))
            .clone()
    };
    assert_eq!(row("a").split_whitespace().nth(1), Some("15"));
    assert_eq!(row("b").split_whitespace().nth(1), Some("3"));
}

#[test]
fn watch_lines_name_their_server() {
    let a = on_tab(Tab::Watch);
    insta::assert_snapshot!(screen(&a, 120, 36).backend());
    let l = lines(&a, 120, 36);
    let events: Vec<&String> = l.iter().filter(|x| x.contains(" pid ")).collect();
    assert!(!events.is_empty());
    // The newest events are b's (its log ends later); each names a server after its marker.
    for e in &events {
        let after = e.split("] ").nth(1).unwrap_or_default();
        assert!(after.starts_with("a ") || after.starts_with("b "), "{e}");
    }
}

#[test]
fn watch_and_summary_are_as_before_with_one_server() {
    let a = app(&SERVERS[..1], "");
    let l = lines(&a, 120, 36).join("\n");
    assert!(!l.contains("Server ("), "no Server pane with one server");
    let mut w = app(&SERVERS[..1], "");
    w.tab = Tab::Watch;
    let l = lines(&w, 120, 36);
    assert!(l
        .iter()
        .filter(|x| x.contains(" pid "))
        .all(|x| !x.contains("] a ")));
    // Focus never lands on the hidden pane.
    let mut f = app(&SERVERS[..1], "");
    for _ in 0..10 {
        key(&mut f, KeyCode::Left);
        assert_ne!(f.summary.focus, Pane::By(Dim::Server));
    }
}

#[test]
fn history_per_server_80x24_and_120x36() {
    let a = on_tab(Tab::History);
    insta::assert_snapshot!("history_80x24", screen(&a, 80, 24).backend());
    insta::assert_snapshot!("history_120x36", screen(&a, 120, 36).backend());
    let l = lines(&a, 120, 36);
    assert!(l.iter().any(|x| x.contains("Active per server")));
}

#[test]
fn enter_on_a_server_row_filters_by_it() {
    let mut a = on_tab(Tab::Summary);
    assert_eq!(a.summary.focus, Pane::By(Dim::Database));
    key(&mut a, KeyCode::Left);
    assert_eq!(a.summary.focus, Pane::By(Dim::Server));
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.filter.exact_value(Dim::Server), Some(&b"b"[..]));
    assert_eq!(a.filter.to_text(), "server=b");
    let tb = truth("pg15-rds-newyork/truth-after-restart.json");
    assert_eq!(
        a.engine.store.summary(&a.filter).active_total,
        tb["active_total"].as_u64().unwrap()
    );
    let l = lines(&a, 120, 36).join("\n");
    assert!(l.contains("Active connections (server=b): 3"), "{l}");
}

/// The cost of the fleet panes with 50 servers (each the Berlin log): the Server pane's rows
/// and a whole Summary and History frame. A measure, not a check: run with
/// `cargo test --release --test ui_fleet -- --ignored --nocapture`.
#[test]
#[ignore]
fn fifty_servers_frame_cost() {
    let names: Vec<String> = (0..50).map(|i| format!("s{i:02}")).collect();
    let servers: Vec<(&str, &str)> = names
        .iter()
        .map(|n| (n.as_str(), "pg15-debian-berlin/postgresql.log"))
        .collect();
    let mut a = app(&servers, "");
    let rows = server_rows(&a.engine.store, &a.filter);
    assert_eq!(rows.len(), 50);
    assert!(rows.iter().all(|r| r.active == 15));
    let time = |what: &str, f: &mut dyn FnMut()| {
        let n = 20;
        let t = std::time::Instant::now();
        for _ in 0..n {
            f();
        }
        println!(
            "{what}: {:.2} ms",
            t.elapsed().as_secs_f64() * 1000.0 / f64::from(n)
        );
    };
    time("server_rows, 50 servers", &mut || {
        std::hint::black_box(server_rows(&a.engine.store, &a.filter));
    });
    time("Summary frame 120x36, 50 servers", &mut || {
        std::hint::black_box(screen(&a, 120, 36));
    });
    a.tab = Tab::History;
    time("History frame 120x36, 50 servers", &mut || {
        std::hint::black_box(screen(&a, 120, 36));
    });
    // For reference: the same 50 logs as one server (no fleet panes).
    let one: Vec<(&str, &str)> = servers.iter().map(|(_, l)| ("one", *l)).collect();
    let mut b = app(&one, "");
    time(
        "Summary frame 120x36, one server of 50 sources",
        &mut || {
            std::hint::black_box(screen(&b, 120, 36));
        },
    );
    b.tab = Tab::History;
    time(
        "History frame 120x36, one server of 50 sources",
        &mut || {
            std::hint::black_box(screen(&b, 120, 36));
        },
    );
}
