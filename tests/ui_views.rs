//! The views of issue 9 on real logs: PostgreSQL 18 setup times (store, Summary pane,
//! `--once --json`), session details, history peaks and row sparklines, and the README's text
//! screenshots. Search, mouse and export are in tests/ui_views_input.rs.

#[path = "support/views.rs"]
mod support;

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::report::{self, ReportOptions};
use pgconn_top::ui::app::Pane;
use pgconn_top::ui::{fixed_clock, App, Mode, Tab, UiOptions};
use ratatui::crossterm::event::KeyCode;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use support::*;

const BIN: &str = env!("CARGO_BIN_EXE_pgconn-top");

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
