//! The `--once --json` snapshot is written partly by hand (the open sessions) for speed; it
//! must stay byte for byte what serde's pretty writer gives for the same snapshot: on real
//! logs, with hostile names (quotes, backslashes, control bytes, invalid UTF-8), sessions
//! without an application or a port, a fleet (each session names its server) and none open.

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::report::{snapshot, write_json, ReportOptions};
use std::path::Path;

/// What the hand-written writer gives, and what serde gives, for `engine`'s snapshot.
fn both(engine: &Engine) -> (String, String) {
    let opts = ReportOptions::default();
    let mut ours = Vec::new();
    write_json(engine, &opts, &mut ours).unwrap();
    let serde = serde_json::to_vec_pretty(&snapshot(engine, &opts)).unwrap();
    (
        String::from_utf8(ours).unwrap(),
        String::from_utf8(serde).unwrap(),
    )
}

fn assert_same(engine: &Engine, what: &str) -> serde_json::Value {
    let (ours, serde) = both(engine);
    assert_eq!(ours, serde, "{what}");
    serde_json::from_str(&ours).unwrap()
}

fn corpus(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus")
        .join(rel)
}

#[test]
fn real_logs_are_written_as_serde_writes_them() {
    for rel in [
        "pg15-default/postgresql.log",
        "pg15-debian-berlin/postgresql.csv",
        "pg15-pgbadger/postgresql.json",
    ] {
        let mut engine = Engine::new(EngineConfig::default());
        engine.read_path(&corpus(rel)).unwrap();
        let v = assert_same(&engine, rel);
        let open = v["active"].as_array().unwrap().len();
        assert!(open > 0, "{rel}: sessions are open at the end of the log");
        assert_eq!(v["active_total"], open, "{rel}");
    }
}

#[test]
fn hostile_names_missing_fields_and_no_sessions() {
    let config = EngineConfig {
        prefix: Some("%m [%p] %q%u@%d ".into()),
        ..EngineConfig::default()
    };
    let mut engine = Engine::new(config);
    let id = engine.add_source("hostile.log");
    assert_same(&engine, "nothing read");
    let names: [&[u8]; 5] = [
        b"quote\"back\\slash",
        b"\x1b[2J\x07bell\x7fdel",
        b"bad\xff\xfeutf8",
        "uni\u{2028}code\u{e9}".as_bytes(),
        b"tab\there",
    ];
    let mut log = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let pid = 100 + i;
        log.extend_from_slice(format!("2026-11-27 20:21:03.093 CET [{pid}] [unknown]@[unknown] LOG:  connection received: host=[local]\n").as_bytes());
        log.extend_from_slice(format!("2026-11-27 20:21:03.094 CET [{pid}] ").as_bytes());
        log.extend_from_slice(name);
        log.extend_from_slice(b"@db LOG:  connection authorized: user=");
        log.extend_from_slice(name);
        // Every other session names no application.
        log.extend_from_slice(if i % 2 == 0 {
            b" database=db application_name=a\"pp\n"
        } else {
            b" database=db\n"
        });
    }
    engine.read_to_end(id, &log[..]).unwrap();
    let v = assert_same(&engine, "hostile names");
    let active = v["active"].as_array().unwrap();
    assert_eq!(active.len(), names.len());
    assert!(active.iter().any(|a| a["application"].is_null()));
    assert!(active.iter().all(|a| a["port"].is_null()));
    assert_eq!(active[0]["user"], "quote\"back\\slash");
}

#[test]
fn a_fleet_names_each_sessions_server() {
    let mut engine = Engine::new(EngineConfig::default());
    for (i, (server, rel)) in [
        ("berlin", "pg15-debian-berlin/postgresql.log"),
        ("newyork", "pg15-rds-newyork/postgresql.log"),
    ]
    .into_iter()
    .enumerate()
    {
        let id = engine.add_source(&format!("{server}={}", corpus(rel).display()));
        engine.store.set_server(id, i as u16, server);
        let file = std::fs::File::open(corpus(rel)).unwrap();
        engine.read_to_end(id, file).unwrap();
    }
    let v = assert_same(&engine, "fleet");
    let active = v["active"].as_array().unwrap();
    assert!(active.iter().any(|a| a["server"] == "berlin"));
    assert!(active.iter().any(|a| a["server"] == "newyork"));
}
