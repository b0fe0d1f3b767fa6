//! `--since` in the dashboard: a log directory is replayed from the window's first entry, the
//! same figures `--once --since` gives (issue 9, bug 4). Drives the dashboard's own source
//! plumbing (`live::start`) without a terminal.

use clap::Parser;
use pgconn_top::cli::Cli;
use pgconn_top::live;
use pgconn_top::source::SourceMsg;
use pgconn_top::store::filter::Filter;
use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_pgconn-top");

/// A log of `n` short sessions, one every 10 minutes from 08:00 to the last at 11:50 (24).
fn log() -> String {
    let mut out = String::new();
    for i in 0..24u32 {
        let (h, m) = (8 + i / 6, (i % 6) * 10);
        let pid = 1000 + i;
        let t = |s: u32| format!("2026-11-27 {h:02}:{m:02}:{s:02}.000 CET [{pid}]");
        let _ = writeln!(
            out,
            "{} [unknown]@[unknown] LOG:  connection received: host=127.0.0.1 port={}",
            t(1),
            40000 + i
        );
        let _ = writeln!(out, "{} app@db{i} LOG:  connection authorized: user=app database=db{i} application_name=a{i}", t(2));
        if i % 2 == 0 {
            let _ = writeln!(out, "{} app@db{i} LOG:  disconnection: session time: 0:00:03.000 user=app database=db{i} host=127.0.0.1 port={}", t(5), 40000 + i);
        }
    }
    out
}

/// What the dashboard's engine holds once every source caught up.
fn dashboard(args: &[&str]) -> (u64, u64) {
    let cli = Cli::parse_from(std::iter::once("pgconn-top").chain(args.iter().copied()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut l = live::start(&cli, false).expect("sources");
        let n = l.engine.sources().len();
        let mut caught = 0;
        while caught < n {
            let msg = tokio::time::timeout(Duration::from_secs(20), l.input.recv())
                .await
                .expect("the source catches up")
                .expect("a message");
            if matches!(msg, SourceMsg::CaughtUp { .. }) {
                caught += 1;
            }
            live::apply(&mut l.engine, msg);
        }
        let s = l.engine.store.summary(&Filter::default());
        (s.connects, s.active_total)
    })
}

fn once(args: &[&str]) -> (u64, u64) {
    let out = std::process::Command::new(BIN)
        .args(["--once", "--json"])
        .args(args)
        .env_remove("PGDATA")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        v["connects"].as_u64().unwrap(),
        v["active_total"].as_u64().unwrap(),
    )
}

#[test]
fn since_limits_a_directory_in_the_dashboard_as_in_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("postgresql-2026-11-27_080000.log"), log()).unwrap();
    let d = dir.to_str().unwrap();
    // Without --since, every session; with it, only the last hour's six.
    assert_eq!(dashboard(&[d]), (24, 12));
    let want = once(&["--since", "55m", d]);
    assert_eq!(want, (6, 3), "--once --since");
    assert_eq!(dashboard(&["--since", "55m", d]), want);
    // A file named directly was already honoured; it stays so.
    let file = dir.join("postgresql-2026-11-27_080000.log");
    assert_eq!(dashboard(&["--since", "55m", file.to_str().unwrap()]), want);
    assert!(Path::new(d).exists());
}
