//! The Failures tab: the real corpus log (every common failure once or twice), then followed by
//! a password-guessing burst written in the same format (12 users, 3 tries each, 20 seconds,
//! from 10.9.8.7): that host is flagged and its rows come first; keys sort, move and filter.

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::report::{json_report, ReportOptions};
use pgconn_top::store::failures::FailureSort;
use pgconn_top::store::filter::Filter;
use pgconn_top::ui::{self, fixed_clock, App, Tab, UiOptions};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use std::fmt::Write;
use std::path::Path;

const GUESSER: &str = "10.9.8.7";

/// The corpus log, then the burst (as PostgreSQL 15 logs a wrong password over TCP).
fn log(burst: bool) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus/pg15-debian-berlin/postgresql.log");
    let mut text = std::fs::read_to_string(path).unwrap();
    if burst {
        let users = [
            "admin", "root", "oracle", "test", "guest", "user", "sa", "dba", "web", "backup",
            "pgsql", "support",
        ];
        for i in 0..36u32 {
            let user = users[i as usize % users.len()];
            let ms = 5_000 + i * 555;
            let t = format!("2026-11-27 20:21:{:02}.{:03} CET", ms / 1000, ms % 1000);
            let pid = 6000 + i;
            let _ = writeln!(
                text,
                "{t} [{pid}] [unknown]@[unknown] LOG:  connection received: host={GUESSER} port={}",
                40_000 + i
            );
            let _ = writeln!(
                text,
                "{t} [{pid}] {user}@postgres FATAL:  password authentication failed for user \"{user}\""
            );
            let _ = writeln!(
                text,
                "{t} [{pid}] {user}@postgres DETAIL:  Connection matched pg_hba.conf line 94: \"host    all             all             0.0.0.0/0            scram-sha-256\""
            );
        }
    }
    text.into_bytes()
}

fn engine(burst: bool) -> Engine {
    let mut engine = Engine::new(EngineConfig::default());
    let id = engine.add_source("pg15-debian-berlin/postgresql.log");
    engine.read_to_end(id, &log(burst)[..]).unwrap();
    engine
}

fn app(burst: bool, filter: &str, size: (u16, u16)) -> App {
    let engine = engine(burst);
    let now = engine.store.now().millis;
    let opts = UiOptions {
        filter: Filter::parse(filter).unwrap(),
        clock: fixed_clock(now + 30_000),
        color: false,
        ..UiOptions::default()
    };
    let mut a = App::new(engine, &opts);
    a.size = size;
    key(&mut a, KeyCode::Char('4'));
    a
}

fn key(a: &mut App, code: KeyCode) {
    a.key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn screen(a: &App) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(a.size.0, a.size.1)).unwrap();
    t.draw(|f| ui::draw(f, a)).unwrap();
    t
}

fn lines(a: &App) -> Vec<String> {
    let t = screen(a);
    let buf = t.backend().buffer();
    (0..a.size.1)
        .map(|y| (0..a.size.0).map(|x| buf[(x, y)].symbol()).collect())
        .collect()
}

#[test]
fn brute_force_at_120x36() {
    let a = app(true, "", (120, 36));
    assert_eq!(a.tab, Tab::Failures);
    let l = lines(&a);
    assert!(
        l[4].contains("brute force?") && l[4].contains(&format!("{GUESSER} · 12 users")),
        "{}",
        l[4]
    );
    // The table's first row is the guessing host, then the corpus's own failures.
    let first = l.iter().position(|x| x.starts_with("│user")).unwrap() + 1;
    assert!(l[first].contains(GUESSER), "{}", l[first]);
    assert!(l
        .iter()
        .any(|x| x.contains("app_user") && x.contains("wrong password")));
    insta::assert_snapshot!(screen(&a).backend());
}

#[test]
fn brute_force_at_80x24() {
    let a = app(true, "", (80, 24));
    insta::assert_snapshot!(screen(&a).backend());
}

#[test]
fn the_real_log_alone_flags_nobody() {
    let a = app(false, "", (120, 36));
    let l = lines(&a).join("\n");
    assert!(l.contains("no password guessing seen"), "{l}");
    assert!(l.contains("Failed attempts: 16 in 12 rows"), "{l}");
    assert!(l.contains("ghost") && l.contains("role does not exist"));
}

#[test]
fn keys_sort_move_and_the_filter_applies() {
    let mut a = app(true, "", (120, 36));
    assert_eq!(a.failures.sort, FailureSort::Count);
    key(&mut a, KeyCode::Char('s'));
    assert_eq!(a.failures.sort, FailureSort::Rate);
    key(&mut a, KeyCode::Char('s'));
    assert_eq!(a.failures.sort, FailureSort::LastSeen);
    assert!(lines(&a)[5].contains("▾last seen"));
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Down);
    assert_eq!(a.failures.selected, 2);
    key(&mut a, KeyCode::End);
    assert_eq!(
        a.failures.selected,
        12 + 12 - 1,
        "12 guessed users + 12 corpus rows"
    );
    // Only the corpus's own host: nothing flagged.
    let a = app(true, "host=127.0.0.1", (120, 36));
    let l = lines(&a).join("\n");
    assert!(
        !l.contains(GUESSER) && l.contains("no password guessing seen"),
        "{l}"
    );
    // The global filter's user.
    let a = app(true, "user=admin", (120, 36));
    let v = a.engine.store.failure_view(&a.filter, FailureSort::Count);
    assert_eq!(v.rows.len(), 1);
    assert_eq!((v.rows[0].count, &*v.rows[0].host), (3, GUESSER.as_bytes()));
}

#[test]
fn json_lists_the_guessing_host_first_with_its_rate() {
    let e = engine(true);
    let j = json_report(&e, &ReportOptions::default());
    let rows = j["failures_detail"].as_array().unwrap();
    assert_eq!(rows.len(), 24);
    assert_eq!(rows[0]["host"], GUESSER);
    assert_eq!(rows[0]["brute_force"], true);
    assert_eq!(rows[0]["count"], 3);
    assert_eq!(rows[0]["reason_words"], "wrong password");
    // 36 failures from 20:21:05 to 20:21:24.4, the log ending there: a full minute's worth.
    let total: f64 = rows
        .iter()
        .filter(|r| r["host"] == GUESSER)
        .map(|r| r["per_minute"].as_f64().unwrap())
        .sum();
    assert!((35.0..=37.0).contains(&total), "{total}");
    assert!(rows
        .iter()
        .filter(|r| r["host"] != GUESSER)
        .all(|r| r["brute_force"] == false));
}
