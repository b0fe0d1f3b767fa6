//! Search in Watch, the mouse and export, driven through the app as a user would (keys and
//! synthesized crossterm mouse events in, screen, state and files out), on the real PostgreSQL
//! 18 corpus.

#[path = "support/views.rs"]
mod support;

use pgconn_top::ui::app::{Pane, SortBy};
use pgconn_top::ui::{self, Mode, Tab};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEventKind};
use serde_json::Value;
use std::path::PathBuf;
use support::*;

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
