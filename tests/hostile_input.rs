//! Untrusted input: invalid UTF-8, NUL bytes, 1 MiB lines, truncated lines and escape
//! sequences in names never panic, never drop the lines after them, and never reach a
//! terminal raw; arbitrary bytes never panic.

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::report::{json_report, text_report, ReportOptions};
use proptest::prelude::*;

const PREFIX: &str = "%m [%p] %q%u@%d ";

fn engine_for(bytes: &[u8]) -> Engine {
    let mut e = Engine::new(EngineConfig {
        prefix: Some(PREFIX.into()),
        ..EngineConfig::default()
    });
    let id = e.add_source("hostile.log");
    e.read_to_end(id, bytes).unwrap();
    e
}

fn session(pid: u32, user: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(format!("2026-11-27 20:21:03.093 CET [{pid}] [unknown]@[unknown] LOG:  connection received: host=10.0.0.1 port=5000\n").as_bytes());
    v.extend_from_slice(format!("2026-11-27 20:21:03.094 CET [{pid}] ").as_bytes());
    v.extend_from_slice(user);
    v.extend_from_slice(b"@db LOG:  connection authorized: user=");
    v.extend_from_slice(user);
    v.extend_from_slice(b" database=db application_name=app\n");
    v
}

fn failed_login(pid: u32, user: &[u8]) -> Vec<u8> {
    let mut v = format!("2026-11-27 20:21:04.000 CET [{pid}] ").into_bytes();
    v.extend_from_slice(user);
    v.extend_from_slice(b"@db FATAL:  password authentication failed for user \"");
    v.extend_from_slice(user);
    v.extend_from_slice(b"\"\n");
    v
}

#[test]
fn escape_sequences_stay_intact_in_json_and_visible_in_text() {
    let evil = b"\x1b[2J\x1b]0;owned\x07evil";
    let mut log = failed_login(10, evil);
    log.extend(session(11, b"ok"));
    let e = engine_for(&log);
    let json = json_report(&e, &ReportOptions::default());
    let users = json["failures"]["by_user"].as_object().unwrap();
    assert_eq!(
        users.keys().next().unwrap().as_bytes(),
        evil,
        "kept intact in JSON"
    );
    let text = serde_json::to_string(&json).unwrap();
    assert!(
        !text.as_bytes().contains(&0x1b),
        "JSON escapes it as \\u001b"
    );
    let report = text_report(&e, &ReportOptions::default());
    assert!(
        !report.contains('\x1b') && !report.contains('\x07'),
        "no raw escape reaches text output"
    );
    assert!(
        report.contains("\\x1b[2J\\x1b]0;owned\\x07evil"),
        "made visible:\n{report}"
    );
    assert_eq!(
        json["active_total"], 1,
        "the line after the hostile one still counts"
    );
}

#[test]
fn invalid_utf8_and_nul_bytes_do_not_drop_lines() {
    let mut log = Vec::new();
    log.extend(session(20, b"caf\xe9\xff"));
    log.extend(failed_login(21, b"nul\0user"));
    log.extend(b"\xff\xfe garbage line \0\0\0 FATAL:  \n");
    log.extend(session(22, b"after"));
    let e = engine_for(&log);
    let s = e.store.summary(&Default::default());
    assert_eq!(s.active_total, 2);
    assert_eq!(s.failures_total, 1);
    assert_eq!(
        e.line_stats().unparsed,
        1,
        "the garbage line is counted, not fatal"
    );
    let report = text_report(&e, &ReportOptions::default());
    assert!(
        report.contains("caf\\xe9\\xff") && report.contains("nul\\x00user"),
        "{report}"
    );
}

#[test]
fn one_mib_lines_and_longer_are_skipped_not_fatal() {
    let mut log = session(30, b"before");
    let mut big = b"2026-11-27 20:21:05.000 CET [31] a@b LOG:  statement: SELECT '".to_vec();
    big.extend(std::iter::repeat_n(b'x', 1 << 20));
    big.extend(b" connection authorized: user=fake'\n");
    log.extend(&big);
    let mut huge = b"2026-11-27 20:21:05.000 CET [32] a@b LOG:  ".to_vec();
    huge.extend(std::iter::repeat_n(b'y', 9 << 20));
    huge.push(b'\n');
    log.extend(&huge);
    log.extend(session(33, b"after"));
    let e = engine_for(&log);
    let active: Vec<u32> = e
        .store
        .active_sessions(&Default::default())
        .iter()
        .map(|s| s.pid)
        .collect();
    assert_eq!(active, vec![30, 33]);
    // The same through the streaming path, in 64 KiB pieces.
    let mut s = Engine::new(EngineConfig {
        prefix: Some(PREFIX.into()),
        ..EngineConfig::default()
    });
    let id = s.add_source("stream");
    for chunk in log.chunks(64 << 10) {
        s.feed(id, chunk).unwrap();
    }
    s.finish(id).unwrap();
    let active: Vec<u32> = s
        .store
        .active_sessions(&Default::default())
        .iter()
        .map(|s| s.pid)
        .collect();
    assert_eq!(active, vec![30, 33]);
}

#[test]
fn truncated_lines_are_survived() {
    let mut log = session(40, b"whole");
    let cut = session(41, b"cut");
    log.extend(&cut[..cut.len() - 20]);
    log.push(b'\n');
    log.extend(session(42, b"next"));
    log.extend(b"2026-11-27 20:21:0");
    let e = engine_for(&log);
    let active: Vec<u32> = e
        .store
        .active_sessions(&Default::default())
        .iter()
        .map(|s| s.pid)
        .collect();
    assert!(active.contains(&40) && active.contains(&42), "{active:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096), format in 0usize..4) {
        use pgconn_top::parse::Format;
        let format = [None, Some(Format::Stderr), Some(Format::Csvlog), Some(Format::Jsonlog)][format];
        let mut e = Engine::new(EngineConfig { format, ..EngineConfig::default() });
        let id = e.add_source("fuzz");
        let _ = e.read_to_end(id, bytes.as_slice());
        let _ = text_report(&e, &ReportOptions::default());
    }

    #[test]
    fn mutated_real_lines_never_panic(cut in 0usize..400, flip in any::<u8>(), at in 0usize..400) {
        let base = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/corpus/pg15-debian-berlin/postgresql.log")).unwrap();
        let mut bytes = base[..base.len().min(20_000)].to_vec();
        let i = at * bytes.len() / 400;
        bytes[i] ^= flip;
        bytes.truncate(bytes.len() - cut);
        let e = engine_for(&bytes);
        let s = e.store.summary(&Default::default());
        let by_db: u64 = s.by_database.iter().map(|x| x.1).sum();
        prop_assert_eq!(by_db, s.active_total, "by-database sums to the active total");
    }
}
