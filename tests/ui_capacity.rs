//! The header's capacity figure on the real corpus log: cut at the moment the server said
//! "sorry, too many clients already" (every slot taken) and read to its end (slots freed
//! again), with the limits configured or only learnt from the refusals.

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::report::{json_report, text_report, ReportOptions};
use pgconn_top::store::capacity::Limits;
use pgconn_top::store::filter::Filter;
use pgconn_top::ui::{self, fixed_clock, App, Tab, UiOptions};
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;
use std::path::Path;

/// The corpus log up to and including its first line holding `upto` (all of it for `None`).
fn log(upto: Option<&str>) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus/pg15-debian-berlin/postgresql.log");
    let text = std::fs::read_to_string(path).unwrap();
    let Some(upto) = upto else {
        return text.into_bytes();
    };
    let mut out = String::new();
    for l in text.lines() {
        out.push_str(l);
        out.push('\n');
        if l.contains(upto) {
            break;
        }
    }
    out.into_bytes()
}

fn app(bytes: &[u8], max: Option<u32>, filter: &str, color: bool, size: (u16, u16)) -> App {
    let mut engine = Engine::new(EngineConfig::default());
    let id = engine.add_source("pg15-debian-berlin/postgresql.log");
    engine.read_to_end(id, bytes).unwrap();
    engine.store.set_limits(&Limits {
        max_connections: max,
        ..Limits::default()
    });
    let now = engine.store.now().millis;
    let opts = UiOptions {
        filter: Filter::parse(filter).unwrap(),
        clock: fixed_clock(now + 30_000),
        color,
        ..UiOptions::default()
    };
    let mut a = App::new(engine, &opts);
    a.tab = Tab::Summary;
    a.size = size;
    a
}

fn screen(app: &App) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(app.size.0, app.size.1)).unwrap();
    t.draw(|f| ui::draw(f, app)).unwrap();
    t
}

fn header(app: &App) -> String {
    let t = screen(app);
    let buf = t.backend().buffer();
    (0..app.size.0).map(|x| buf[(x, 0)].symbol()).collect()
}

const FULL: Option<&str> = Some("sorry, too many clients already");

#[test]
fn full_server_at_80x24() {
    let a = app(&log(FULL), Some(30), "", false, (80, 24));
    let h = header(&a);
    assert!(h.contains("● 30/30 active, 0 free"), "{h}");
    assert!(h.contains("refused 2 at 20:21:04 (no free slots)"), "{h}");
    insta::assert_snapshot!(screen(&a).backend());
}

#[test]
fn full_server_at_120x36() {
    let a = app(&log(FULL), Some(30), "", false, (120, 36));
    let h = header(&a);
    assert!(
        h.contains("● 30/30 active, 0 free · refused 2 clients at 20:21:04 (no free slots)"),
        "{h}"
    );
    insta::assert_snapshot!(screen(&a).backend());
}

/// The cell where the capacity figure begins (the `●`).
fn figure_cell(a: &App) -> ratatui::buffer::Cell {
    let t = screen(a);
    let buf = t.backend().buffer();
    let x = (0..a.size.0)
        .find(|&x| buf[(x, 0)].symbol() == "●")
        .unwrap();
    buf[(x, 0)].clone()
}

#[test]
fn colour_follows_the_fill_level() {
    // Every slot taken: red in reverse video (which stays visible without colours).
    let c = figure_cell(&app(&log(FULL), Some(30), "", true, (120, 36)));
    assert_eq!(c.fg, Color::Red);
    assert!(c.modifier.contains(Modifier::REVERSED));
    let plain = figure_cell(&app(&log(FULL), Some(30), "", false, (120, 36)));
    assert!(plain.modifier.contains(Modifier::REVERSED));
    // At the end of the log 15 of 27 usable slots (30 less 3 reserved): 55 %, green.
    let end = app(&log(None), Some(30), "", true, (120, 36));
    assert!(header(&end).contains("● 15/30 active, 12 free"));
    assert_eq!(figure_cell(&end).fg, Color::Green);
    // 15 of 17 usable (20 less 3): 88 %, yellow.
    let warn = app(&log(None), Some(20), "", true, (120, 36));
    assert!(header(&warn).contains("● 15/20 active, 2 free"));
    assert_eq!(figure_cell(&warn).fg, Color::Yellow);
}

#[test]
fn learnt_from_refusals_when_not_configured() {
    let a = app(&log(None), None, "", false, (120, 36));
    let h = header(&a);
    assert!(
        h.contains("● 15 active (30+ slots, 15 free) · refused 2 clients at 20:21:04"),
        "{h}"
    );
    // Nothing refused yet, nothing configured: the plain count.
    let early = app(
        &log(Some("too many connections for role")),
        None,
        "",
        false,
        (120, 36),
    );
    let h = header(&early);
    assert!(
        h.contains(" active · ") && !h.contains("free") && !h.contains("refused"),
        "{h}"
    );
}

#[test]
fn under_a_filter_the_server_figure_follows() {
    let a = app(&log(FULL), Some(30), "db=production", false, (120, 36));
    let h = header(&a);
    assert!(h.contains("● 21 active (server 30/30) · "), "{h}");
    assert!(!h.contains("refused"), "room for the filter: {h}");
}

#[test]
fn once_reports_the_capacity_server_wide() {
    let mut engine = Engine::new(EngineConfig::default());
    let id = engine.add_source("corpus");
    engine.read_to_end(id, &log(FULL)[..]).unwrap();
    engine.store.set_limits(&Limits {
        max_connections: Some(30),
        origin: Some("--max-connections".into()),
        ..Limits::default()
    });
    let opts = ReportOptions {
        filter: Filter::parse("db=production").unwrap(),
        ..ReportOptions::default()
    };
    let j = json_report(&engine, &opts);
    let c = &j["capacity"];
    assert_eq!(j["active_total"], 21, "the filter's count");
    assert_eq!(c["active"], 30, "the server's count");
    assert_eq!(
        (
            &c["max_connections"],
            &c["reserved"],
            &c["usable"],
            &c["headroom"]
        ),
        (&30.into(), &3.into(), &27.into(), &0.into())
    );
    assert_eq!(
        (&c["level"], &c["refused_total"]),
        (&"alarm".into(), &2.into())
    );
    assert_eq!(c["floor_from_refusals"], 30);
    assert_eq!(c["role_limits"][0]["name"], "limited");
    assert_eq!(c["database_limits"][0]["name"], "test");
    let t = text_report(&engine, &ReportOptions::default());
    assert!(
        t.contains("Capacity: 30/30 active, 0 free (27 usable by ordinary roles, 3 reserved; from --max-connections)"),
        "{t}"
    );
    assert!(t.contains("refused 2 for lack of slots"), "{t}");
}
