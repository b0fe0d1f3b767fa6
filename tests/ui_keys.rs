//! Key handling: keys injected into the app state, state asserted (tabs, filter line, clearing
//! the filter, Enter on a row, pause, clear with confirmation, help, sort, bucket, quit).

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::store::filter::Filter;
use pgconn_top::store::intern::Dim;
use pgconn_top::ui::app::{Pane, SortBy};
use pgconn_top::ui::event::Signal;
use pgconn_top::ui::{fixed_clock, App, Event, Mode, SourceMsg, Tab, UiOptions};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::Path;

const LOG: &str = "tests/fixtures/corpus/pg15-debian-berlin/postgresql.log";

fn app() -> App {
    let mut engine = Engine::new(EngineConfig::default());
    engine
        .read_path(&Path::new(env!("CARGO_MANIFEST_DIR")).join(LOG))
        .unwrap();
    let opts = UiOptions {
        clock: fixed_clock(engine.store.now().millis),
        color: false,
        ..UiOptions::default()
    };
    App::new(engine, &opts)
}

fn press(app: &mut App, code: KeyCode) {
    app.key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn active(app: &App) -> u64 {
    app.engine.store.summary(&app.filter).active_total
}

#[test]
fn tabs_switch_with_tab_shift_tab_and_numbers() {
    let mut a = app();
    assert_eq!(a.tab, Tab::Summary);
    press(&mut a, KeyCode::Tab);
    assert_eq!(a.tab, Tab::History);
    press(&mut a, KeyCode::Tab);
    assert_eq!(a.tab, Tab::Watch);
    press(&mut a, KeyCode::Tab);
    assert_eq!(a.tab, Tab::Failures);
    press(&mut a, KeyCode::Tab);
    assert_eq!(a.tab, Tab::Summary);
    a.key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
    assert_eq!(a.tab, Tab::Failures);
    press(&mut a, KeyCode::Char('4'));
    assert_eq!(a.tab, Tab::Failures);
    press(&mut a, KeyCode::Char('2'));
    assert_eq!(a.tab, Tab::History);
    press(&mut a, KeyCode::Char('1'));
    assert_eq!(a.tab, Tab::Summary);
    press(&mut a, KeyCode::Char('3'));
    assert_eq!(a.tab, Tab::Watch);
}

#[test]
fn filter_typed_applied_and_cleared() {
    let mut a = app();
    press(&mut a, KeyCode::Char('/'));
    assert!(matches!(a.mode, Mode::Filter(_)));
    typed(&mut a, r#"db=production app="metabase reporting""#);
    press(&mut a, KeyCode::Enter);
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(
        a.filter.exact_value(Dim::Database),
        Some(&b"production"[..])
    );
    assert_eq!(
        a.filter.exact_value(Dim::Application),
        Some(&b"metabase reporting"[..])
    );
    assert_eq!(active(&a), 2);
    // Reopening shows the filter in force, selected (typing replaces it).
    press(&mut a, KeyCode::Char('/'));
    match &a.mode {
        Mode::Filter(i) => {
            assert_eq!(i.text, "db=production app=\"metabase reporting\"");
            assert!(i.selected);
        }
        m => panic!("{m:?}"),
    }
    press(&mut a, KeyCode::Esc);
    press(&mut a, KeyCode::Char('x'));
    assert!(a.filter.is_empty());
    assert_eq!(active(&a), 15);
    a.filter = Filter::parse("db=postgres").unwrap();
    press(&mut a, KeyCode::Backspace);
    assert!(a.filter.is_empty(), "Backspace clears too");
}

#[test]
fn filter_errors_stay_inline_and_esc_cancels() {
    let mut a = app();
    press(&mut a, KeyCode::Char('/'));
    typed(&mut a, "colour=red");
    press(&mut a, KeyCode::Enter);
    match &a.mode {
        Mode::Filter(i) => assert!(i.error.as_deref().unwrap().contains("unknown key 'colour'")),
        m => panic!("{m:?}"),
    }
    // Editing clears the error; bad quoting is its own error.
    for _ in 0.."colour=red".len() {
        press(&mut a, KeyCode::Backspace);
    }
    typed(&mut a, "app=\"x");
    press(&mut a, KeyCode::Enter);
    match &a.mode {
        Mode::Filter(i) => assert_eq!(i.error.as_deref(), Some("a quote is not closed")),
        m => panic!("{m:?}"),
    }
    // The cursor moves; typing inserts at it.
    press(&mut a, KeyCode::Home);
    typed(&mut a, "db=postgres ");
    match &a.mode {
        Mode::Filter(i) => assert_eq!(i.text, "db=postgres app=\"x"),
        m => panic!("{m:?}"),
    }
    press(&mut a, KeyCode::Esc);
    assert_eq!(a.mode, Mode::Normal);
    assert!(a.filter.is_empty(), "Esc keeps the old filter");
    // Keys typed into the line do not act as commands.
    press(&mut a, KeyCode::Char('/'));
    typed(&mut a, "q2c");
    assert!(!a.quit);
    assert_eq!(a.tab, Tab::Summary);
}

#[test]
fn enter_on_a_summary_row_filters_by_it() {
    let mut a = app();
    assert_eq!(a.summary.focus, Pane::By(Dim::Database));
    press(&mut a, KeyCode::Down);
    press(&mut a, KeyCode::Enter);
    assert_eq!(a.filter.exact_value(Dim::Database), Some(&b"postgres"[..]));
    assert_eq!(active(&a), 3);
    press(&mut a, KeyCode::Right);
    press(&mut a, KeyCode::Right);
    assert_eq!(a.summary.focus, Pane::By(Dim::Application));
    press(&mut a, KeyCode::End);
    press(&mut a, KeyCode::Home);
    press(&mut a, KeyCode::Enter);
    assert_eq!(a.filter.exact_value(Dim::Application), Some(&b"psql"[..]));
    assert_eq!(active(&a), 2);
    press(&mut a, KeyCode::Left);
    assert_eq!(a.summary.focus, Pane::By(Dim::User));
}

#[test]
fn sort_cycles_and_sessions_scroll() {
    let mut a = app();
    assert_eq!(a.summary.sort, SortBy::Age);
    press(&mut a, KeyCode::Char('s'));
    assert_eq!(a.summary.sort, SortBy::Pid);
    for _ in 0..5 {
        press(&mut a, KeyCode::Char('s'));
    }
    assert_eq!(a.summary.sort, SortBy::Age);
    press(&mut a, KeyCode::Left);
    assert_eq!(a.summary.focus, Pane::Failures);
    press(&mut a, KeyCode::Left);
    assert_eq!(a.summary.focus, Pane::Sessions);
    press(&mut a, KeyCode::PageDown);
    assert_eq!(a.summary.selected[4], 10);
    press(&mut a, KeyCode::End);
    assert_eq!(a.summary.selected[4], 14);
    press(&mut a, KeyCode::Home);
    assert_eq!(a.summary.selected[4], 0);
}

#[test]
fn history_bucket_and_window_cycle() {
    let mut a = app();
    press(&mut a, KeyCode::Char('2'));
    assert_eq!(a.history.bucket_secs, 900);
    press(&mut a, KeyCode::Char('b'));
    assert_eq!(a.history.bucket_secs, 3600);
    press(&mut a, KeyCode::Char('b'));
    assert_eq!(a.history.bucket_secs, 60);
    assert_eq!(a.history.window_secs, 6 * 3600);
    press(&mut a, KeyCode::Char('w'));
    assert_eq!(a.history.window_secs, 24 * 3600);
    press(&mut a, KeyCode::Char('w'));
    assert_eq!(a.history.window_secs, 3600);
}

/// Log lines for one more session, as a tailer would send them.
fn more_lines(pid: u32) -> Vec<u8> {
    format!(
        "2026-11-27 20:21:05.000 CET [{pid}] [unknown]@[unknown] LOG:  connection received: host=10.0.1.5 port=5000\n\
         2026-11-27 20:21:05.001 CET [{pid}] app_user@production LOG:  connection authorized: user=app_user database=production application_name=billing\n"
    )
    .into_bytes()
}

#[test]
fn pause_keeps_the_feed_still_and_counts_arrivals() {
    let mut a = app();
    press(&mut a, KeyCode::Char('3'));
    let newest = a.visible_feed().last().unwrap().seq;
    press(&mut a, KeyCode::Char(' '));
    assert!(a.watch.paused);
    assert_eq!(a.watch.anchor, Some(newest));
    a.handle(Event::Input(vec![
        SourceMsg::Lines {
            source: 0,
            bytes: more_lines(9001),
        },
        SourceMsg::Lines {
            source: 0,
            bytes: more_lines(9002),
        },
    ]));
    a.handle(Event::Input(vec![SourceMsg::CaughtUp {
        source: 0,
        bytes: 0,
    }]));
    assert_eq!(active(&a), 17, "live lines reach the store");
    assert_eq!(a.watch.anchor, Some(newest), "the view stays still");
    assert!(a.unseen() >= 1);
    press(&mut a, KeyCode::Up);
    assert!(a.watch.anchor.unwrap() < newest);
    press(&mut a, KeyCode::Char('p'));
    assert!(!a.watch.paused);
    assert_eq!(a.watch.anchor, None, "following again");
    assert_eq!(a.unseen(), 0);
    // Scrolling back, then End, follows again.
    press(&mut a, KeyCode::PageUp);
    assert!(a.watch.anchor.is_some());
    press(&mut a, KeyCode::End);
    assert_eq!(a.watch.anchor, None);
}

#[test]
fn clear_asks_first() {
    let mut a = app();
    press(&mut a, KeyCode::Char('c'));
    assert_eq!(a.mode, Mode::Confirm);
    press(&mut a, KeyCode::Char('n'));
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(active(&a), 15);
    press(&mut a, KeyCode::Char('c'));
    press(&mut a, KeyCode::Esc);
    assert_eq!(active(&a), 15);
    press(&mut a, KeyCode::Char('c'));
    press(&mut a, KeyCode::Char('y'));
    assert_eq!(a.mode, Mode::Normal);
    // Statistics reset; the open sessions are the server's state and stay.
    assert_eq!(active(&a), 15);
    assert_eq!(a.engine.store.summary(&Filter::default()).connects, 0);
    assert_eq!(a.engine.store.summary(&Filter::default()).failures_total, 0);
    assert_eq!(a.engine.store.feed().iter().count(), 0);
}

#[test]
fn help_opens_and_closes() {
    let mut a = app();
    press(&mut a, KeyCode::Char('?'));
    assert_eq!(a.mode, Mode::Help);
    press(&mut a, KeyCode::Char('2'));
    assert_eq!(a.tab, Tab::Summary, "help swallows other keys");
    press(&mut a, KeyCode::Esc);
    assert_eq!(a.mode, Mode::Normal);
    press(&mut a, KeyCode::Char('?'));
    press(&mut a, KeyCode::Char('?'));
    assert_eq!(a.mode, Mode::Normal);
}

#[test]
fn quit_keys_and_signals() {
    let mut a = app();
    press(&mut a, KeyCode::Char('q'));
    assert!(a.quit);
    let mut a = app();
    press(&mut a, KeyCode::Char('/'));
    a.key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(a.quit, "Ctrl-C quits from the filter line");
    for s in [Signal::Terminate, Signal::Hangup] {
        let mut a = app();
        a.handle(Event::Signal(s));
        assert!(a.quit);
    }
}

#[test]
fn every_event_marks_the_frame_dirty_and_status_shows() {
    let mut a = app();
    a.dirty = false;
    a.handle(Event::Resize(100, 30));
    assert!(a.dirty);
    assert_eq!(a.size, (100, 30));
    a.dirty = false;
    a.handle(Event::Input(vec![SourceMsg::Status {
        source: 0,
        message: "waiting for\x1b[2J the file".into(),
    }]));
    assert!(a.dirty);
    assert_eq!(
        a.notes[0].status.as_deref(),
        Some("waiting for\x1b[2J the file")
    );
    a.dirty = false;
    a.handle(Event::Tick);
    assert!(a.dirty);
}
