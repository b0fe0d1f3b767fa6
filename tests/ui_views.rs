//! The views of issue 9 driven as a user would, on real logs: PostgreSQL 18 setup times (store,
//! Summary pane, `--once --json`), session details, history peaks and row sparklines, search in
//! Watch, the mouse and export.

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::report::{self, ReportOptions};
use pgconn_top::ui::{self, fixed_clock, App, UiOptions};
use ratatui::backend::TestBackend;
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
