//! The dashboard with a fleet: two real corpus logs as servers `a` and `b`. The Server pane's
//! rows equal each log's truth, Enter on a server row filters `server=`, Watch lines and the
//! History tab name their server, and with one server none of it shows.

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::model::SourceId;
use pgconn_top::store::filter::Filter;
use pgconn_top::store::intern::Dim;
use pgconn_top::ui::servers::{server_rows, ServersPane};
use pgconn_top::ui::{fixed_clock, App, UiOptions};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;
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
        engine.store.set_server_name(SourceId(i as u16), name);
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
