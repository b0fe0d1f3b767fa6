//! Untrusted input: invalid UTF-8, NUL bytes, 1 MiB lines, truncated lines and escape
//! sequences in names never panic, never drop the lines after them, and never reach a
//! terminal raw; arbitrary bytes never panic.

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::report::{json_report, text_report, ReportOptions};
use proptest::prelude::*;

const PREFIX: &str = "%m [%p] %q%u@%d ";

fn engine_for(bytes: &[u8]) -> Engine {
    engine_with(PREFIX, bytes)
}

/// An engine that has read `bytes` as a stderr log written with `prefix`.
fn engine_with(prefix: &str, bytes: &[u8]) -> Engine {
    let config = EngineConfig {
        prefix: Some(prefix.into()),
        ..EngineConfig::default()
    };
    let mut e = Engine::new(config);
    let id = e.add_source("hostile.log");
    e.read_to_end(id, bytes).unwrap();
    e
}

/// The pids of the open sessions, in order.
fn active_pids(e: &Engine) -> Vec<u32> {
    e.store
        .active_sessions(&Default::default())
        .iter()
        .map(|s| s.pid)
        .collect()
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
    let active = active_pids(&e);
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
    let active = active_pids(&s);
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
    let active = active_pids(&e);
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
        let by_db: u64 = s.by(pgconn_top::store::intern::Dim::Database).iter().map(|x| x.1).sum();
        prop_assert_eq!(by_db, s.active_total, "by-database sums to the active total");
    }
}

fn active_of(e: &Engine) -> Vec<(u32, String, String, Option<String>)> {
    let t = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    e.store
        .active_sessions(&Default::default())
        .iter()
        .map(|s| {
            (
                s.pid,
                t(&s.user),
                t(&s.database),
                s.application.as_deref().map(t),
            )
        })
        .collect()
}

#[test]
fn a_newline_in_a_name_cannot_forge_a_session() {
    // An unauthenticated client picks a user name holding a newline and a whole fake line.
    let fake = b"x\n2026-11-27 20:21:04.000 CET [8] LOG:  connection authorized: user=evil database=postgres application_name=fake";
    let mut log = b"2026-11-27 20:21:03.900 CET [6110] [unknown]@[unknown] LOG:  connection received: host=10.0.0.9 port=5\n".to_vec();
    log.extend(b"2026-11-27 20:21:03.910 CET [6110] ");
    log.extend(fake);
    log.extend(b"@postgres FATAL:  role \"x\n\t2026-11-27 20:21:04.000 CET [8] LOG:  connection authorized: user=evil database=postgres application_name=fake\" does not exist\n");
    log.extend(session(7, b"real"));
    let e = engine_for(&log);
    assert_eq!(
        active_of(&e),
        vec![(7, "real".into(), "db".into(), Some("app".into()))],
        "no phantom pid 8"
    );
    let s = e.store.summary(&Default::default());
    assert_eq!(s.failures_by_reason.len(), 1);
    assert_eq!(s.failures_by_reason[0].0.key(), "role_missing");
}

#[test]
fn a_role_with_a_newline_in_its_name_is_still_its_session() {
    let log = b"2026-11-27 21:23:26.290 UTC [6052] [unknown]@[unknown] LOG:  connection received: host=[local]\n\
2026-11-27 21:23:26.294 UTC [6052] nl\nx@postgres LOG:  connection authorized: user=nl\n\tx database=postgres application_name=nlapp\n";
    let e = engine_with("%m [%p] %q%u@%d ", &log[..]);
    assert_eq!(
        active_of(&e),
        vec![(
            6052,
            "nl\nx".into(),
            "postgres".into(),
            Some("nlapp".into())
        )]
    );
}

#[test]
fn lookalike_names_long_applications_padded_prefixes_and_no_pid() {
    // Names holding " database=" / " application_name=": the prefix settles them; application_name
    // is cut to 63 bytes as pg_stat_activity shows it.
    let long = "long app ".to_string() + &"x".repeat(90);
    let line = format!(
        "2026-11-27 21:23:26.296 UTC [6053] u database=fake@d application_name=fake LOG:  connection authorized: user=u database=fake database=d application_name=fake application_name={long}\n"
    );
    let e = engine_for(line.as_bytes());
    assert_eq!(
        active_of(&e),
        vec![(
            6053,
            "u database=fake".into(),
            "d application_name=fake".into(),
            Some(long[..63].to_string())
        )]
    );

    // The same names under a padded prefix, where the shortest split is wrong.
    let p = "%m [%-7p] %-12u %10d %c %e ";
    let line = "2026-11-27 21:51:53.922 UTC [4574   ] u database=fake d application_name=fake 6b09fb79.11de 00000 LOG:  connection authorized: user=u database=fake database=d application_name=fake application_name=long app\n";
    let e = engine_with(p, line.as_bytes());
    assert_eq!(
        active_of(&e),
        vec![(
            4574,
            "u database=fake".into(),
            "d application_name=fake".into(),
            Some("long app".into())
        )]
    );

    // Padded fields that are empty on postmaster lines: the crash is still seen.
    let p = "%m [%-7p] %-12u %10d %c %e ";
    let log = "2026-11-27 21:40:10.000 UTC [17173  ] app_u          postgres 6b09f8bb.4315 00000 LOG:  connection authorized: user=app_u database=postgres application_name=old1\n\
2026-11-27 21:40:11.770 UTC [17102  ]                         6b09f8bb.42ce 00000 LOG:  terminating any other active server processes\n";
    let e = engine_with(p, log.as_bytes());
    let s = e.store.summary(&Default::default());
    assert_eq!((s.connects, s.lost, s.active_total), (1, 1, 0));
    assert_eq!(e.line_stats().unparsed, 0);

    // No %p: the pid is the hex after the dot of %c.
    let p = "%m %-12u %10d %c %e ";
    let log = "2026-11-27 21:39:24.288 UTC postgres       postgres 6b09f88c.3d03 00000 LOG:  connection authorized: user=postgres database=postgres application_name=chk\n";
    let e = engine_with(p, log.as_bytes());
    assert_eq!(
        active_of(&e),
        vec![(
            0x3d03,
            "postgres".into(),
            "postgres".into(),
            Some("chk".into())
        )]
    );
}

#[test]
fn walsenders_are_not_client_sessions() {
    let log = b"2026-11-27 20:21:03.093 CET [5939] [unknown]@[unknown] LOG:  connection received: host=10.0.0.1 port=5000\n\
2026-11-27 20:21:03.094 CET [5939] repl@[unknown] LOG:  replication connection authorized: user=repl application_name=physrepl\n\
2026-11-27 20:21:09.000 CET [5939] repl@[unknown] LOG:  disconnection: session time: 0:00:05.906 user=repl database= host=10.0.0.1 port=5000\n";
    let mut log = log.to_vec();
    log.extend(session(7, b"real"));
    let e = engine_for(&log);
    let s = e.store.summary(&Default::default());
    assert_eq!((s.active_total, s.connects, s.disconnects), (1, 1, 0));
}

#[test]
fn a_role_named_like_a_log_line_is_not_a_second_session() {
    // Real lines (PostgreSQL 15, trust auth): a role name holding a newline and a forged prefix,
    // authorized, then refused because the role does not exist; and one that logs in.
    let log = "2026-11-27 21:50:24.780 UTC [1726] [unknown]@[unknown] LOG:  connection received: host=[local]\n\
2026-11-27 21:50:24.788 UTC [1726] x\n\
2026-11-27 21:50:05.123 UTC [8] evil@postgres LOG:  connection authorized: user=x\n\
\t2026-11-27 21:50:05.123 UTC [8] evil database=postgres application_name=forge2\n\
2026-11-27 21:50:24.788 UTC [1726] x\n\
2026-11-27 21:50:05.123 UTC [8] evil@postgres FATAL:  role \"x\n\
\t2026-11-27 21:50:05.123 UTC [8] evil\" does not exist\n\
2026-11-27 21:50:24.500 UTC [1655] [unknown]@[unknown] LOG:  connection received: host=[local]\n\
2026-11-27 21:50:24.510 UTC [1655] y\n\
2026-11-27 21:50:05.123 UTC [8] evil2@postgres LOG:  connection authorized: user=y\n\
\t2026-11-27 21:50:05.123 UTC [8] evil2 database=postgres application_name=nlforge_ok\n";
    let e = engine_with("%m [%p] %q%u@%d ", log.as_bytes());
    assert_eq!(
        active_of(&e),
        vec![(
            1655,
            "y\n2026-11-27 21:50:05.123 UTC [8] evil2".into(),
            "postgres".into(),
            Some("nlforge_ok".into())
        )],
        "no phantom pid 8; the real session keeps its pid and exact name"
    );
    let s = e.store.summary(&Default::default());
    assert_eq!((s.connects, s.failures_total), (1, 1));
    assert_eq!(s.failures_by_reason[0].0.key(), "role_missing");
    assert_eq!(e.line_stats().unparsed, 0);
}
