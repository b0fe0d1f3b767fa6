//! Helpers of tests/ui_views.rs and tests/ui_views_input.rs: apps over the real PostgreSQL 18
//! corpus, the demo log or a synthetic log, the screen as text, keys, clicks and exported files.

#![allow(dead_code)]

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::ui::{self, fixed_clock, App, UiOptions};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::Terminal;
use std::path::{Path, PathBuf};

pub fn pg18(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus/versions/pg18-all")
        .join(file)
}

pub fn engine_of(path: &Path, label: &str) -> Engine {
    let mut engine = Engine::new(EngineConfig::default());
    let id = engine.add_source(label);
    engine
        .read_to_end(id, std::fs::File::open(path).unwrap())
        .unwrap();
    engine
}

/// The app over the PostgreSQL 18 log, its wall clock 30 s after the log's last line.
pub fn app18() -> App {
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

pub fn screen_text(app: &App, w: u16, h: u16) -> String {
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

pub fn key(app: &mut App, code: KeyCode) {
    app.key(KeyEvent::new(code, KeyModifiers::NONE));
}

/// A log of `(minute, second, pid, app, connects?)` lines: a `connection received` and
/// `authorized` when connecting, a `disconnection` else.
pub fn synth(events: &[(u32, u32, u32, &str, bool)]) -> String {
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
pub fn app_of(log: &str) -> App {
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

pub fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// The cells of row `y` drawn reversed (the highlight without colours), as text.
pub fn reversed_text(app: &App, w: u16, h: u16) -> Vec<String> {
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

/// Draws the app (so that it knows where things are) and finds `needle` on screen: (x, y).
pub fn find_on_screen(app: &App, w: u16, h: u16, needle: &str) -> (u16, u16) {
    let s = screen_text(app, w, h);
    for (y, line) in s.lines().enumerate() {
        if let Some(i) = line.find(needle) {
            let x = line[..i].chars().count();
            return (x as u16, y as u16);
        }
    }
    panic!("{needle} not on screen:\n{s}");
}

pub fn mouse(app: &mut App, kind: MouseEventKind, (x, y): (u16, u16)) {
    app.handle(ui::Event::Mouse(MouseEvent {
        kind,
        column: x,
        row: y,
        modifiers: KeyModifiers::NONE,
    }));
}

pub fn click(app: &mut App, at: (u16, u16)) {
    mouse(app, MouseEventKind::Down(MouseButton::Left), at);
}

/// Reads the one file written in `dir` whose name ends with `ext`.
pub fn written(dir: &Path, ext: &str) -> (String, String) {
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

/// The app over the built-in demo log (three hours recorded from a real PostgreSQL 15).
pub fn demo_app() -> App {
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
