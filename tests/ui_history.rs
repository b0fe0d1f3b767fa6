//! The History tab over a generated three-hour log with a known story: steady web traffic, a
//! worker that leaks one session a minute for the last hour, and a burst of failed logins.

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::ui::{self, fixed_clock, App, Tab, UiOptions};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use std::fmt::Write;

/// `2026-11-27 HH:MM:SS.mmm UTC` for a number of seconds after 08:00.
fn ts(secs: u32, ms: u32) -> String {
    let s = 8 * 3600 + secs;
    format!(
        "2026-11-27 {:02}:{:02}:{:02}.{ms:03} UTC",
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// Three hours of log: the leak (60 sessions never closed) and the spike (12 failures at 09:30).
pub fn generated_log() -> String {
    let mut out = String::new();
    let mut pid = 10_000;
    let _ = writeln!(
        out,
        "{} [1] LOG:  database system is ready to accept connections",
        ts(0, 0)
    );
    for minute in 0..180u32 {
        let t = minute * 60;
        // Web: two short sessions a minute.
        for k in 0..2 {
            pid += 1;
            let _ = writeln!(out, "{} [{pid}] [unknown]@[unknown] LOG:  connection received: host=10.0.1.5 port=5{k:03}", ts(t + k * 10, 0));
            let _ = writeln!(out, "{} [{pid}] app_user@production LOG:  connection authorized: user=app_user database=production application_name=rails", ts(t + k * 10, 5));
            let _ = writeln!(out, "{} [{pid}] app_user@production LOG:  disconnection: session time: 0:00:05.000 user=app_user database=production host=10.0.1.5 port=5{k:03}", ts(t + k * 10 + 5, 5));
        }
        // The leak: the last hour, one session a minute that never ends.
        if minute >= 120 {
            pid += 1;
            let _ = writeln!(
                out,
                "{} [{pid}] [unknown]@[unknown] LOG:  connection received: host=10.0.2.9 port=6000",
                ts(t + 30, 0)
            );
            let _ = writeln!(out, "{} [{pid}] billing@production LOG:  connection authorized: user=billing database=production application_name=billing-worker", ts(t + 30, 5));
        }
        // The spike: a password-guessing burst at 09:30.
        if minute == 90 {
            for k in 0..12 {
                pid += 1;
                let _ = writeln!(out, "{} [{pid}] [unknown]@[unknown] LOG:  connection received: host=203.0.113.7 port=7000", ts(t + 40 + k, 0));
                let _ = writeln!(out, "{} [{pid}] admin@production FATAL:  password authentication failed for user \"admin\"", ts(t + 40 + k, 9));
            }
        }
    }
    out
}

fn app() -> App {
    let mut engine = Engine::new(EngineConfig::default());
    let id = engine.add_source("generated.log");
    engine.feed(id, generated_log().as_bytes()).unwrap();
    engine.finish(id).unwrap();
    let opts = UiOptions {
        clock: fixed_clock(engine.store.now().millis + 5_000),
        color: false,
        ..UiOptions::default()
    };
    let mut a = App::new(engine, &opts);
    a.tab = Tab::History;
    a
}

fn screen(app: &App) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
    t.draw(|f| ui::draw(f, app)).unwrap();
    t
}

fn text(app: &App) -> String {
    let t = screen(app);
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn leak_and_spike_are_called_out() {
    let a = app();
    assert_eq!(a.engine.store.summary(&Default::default()).active_total, 60);
    let s = text(&a);
    assert!(s.contains("leak suspected: billing-worker +"), "{s}");
    assert!(s.contains("failure spikes in 1 bucket(s)"), "{s}");
    assert!(s.contains("12 ▲"), "{s}");
    insta::assert_snapshot!(screen(&a).backend());
}

#[test]
fn bucket_and_window_change_the_rows() {
    let mut a = app();
    // 6 h window, 15 min buckets: 12 buckets of data (three hours), newest first.
    let rows = |s: &str| s.lines().filter(|l| l.contains("│2026-11-27 ")).count();
    assert_eq!(rows(&text(&a)), 12);
    a.key(KeyEvent::new(KeyCode::Char('b'), KeyModifiers::NONE)); // 1 h
    assert_eq!(rows(&text(&a)), 3);
    a.key(KeyEvent::new(KeyCode::Char('w'), KeyModifiers::NONE)); // 24 h window
    a.key(KeyEvent::new(KeyCode::Char('w'), KeyModifiers::NONE)); // 1 h window
    assert_eq!(
        rows(&text(&a)),
        2,
        "the hour back from 10:59 touches two hour buckets"
    );
    let s = text(&a);
    assert!(s.contains("1h buckets over the last 1h"), "{s}");
}
