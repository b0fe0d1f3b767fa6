//! A fleet in one view: real corpus logs followed as labelled sources (`a=path b=path`) give
//! `by_server` and a per-server section in `--once --json` equal to each log's truth.json,
//! `--server a` gives truth a, sources with one label share a server, `--stream --json`
//! events carry their server, and one server keeps the snapshot's shape as before.

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::feedline;
use pgconn_top::store::filter::Filter;
use pgconn_top::store::intern::Dim;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_pgconn-top");
/// Server a: the full Berlin log (15 open sessions, every failure reason).
const A_LOG: &str = "pg15-debian-berlin/postgresql.log";
const A_TRUTH: &str = "pg15-debian-berlin/truth.json";
/// Server b: the New York log that ends after a restart (3 open sessions).
const B_LOG: &str = "pg15-rds-newyork/postgresql.after-restart.log";
const B_TRUTH: &str = "pg15-rds-newyork/truth-after-restart.json";
/// A third log (PostgreSQL 17), a server of its own beside two sources that share a label.
const C_LOG: &str = "versions/pg17-debian/postgresql.log";
const C_TRUTH: &str = "versions/pg17-debian/truth.json";

fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus")
        .join(rel)
}

fn truth(rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(corpus(rel)).unwrap()).unwrap()
}

fn labelled(label: &str, rel: &str) -> String {
    format!("{label}={}", corpus(rel).display())
}

/// `pgconn-top --once --json ARGS`, parsed.
fn once_json(args: &[String]) -> Value {
    let out = Command::new(BIN)
        .arg("--once")
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const DIMS: [&str; 4] = ["by_database", "by_user", "by_application", "by_host"];

/// The figures of one server's section (or a filtered snapshot) equal its truth.
fn assert_truth(got: &Value, t: &Value, what: &str) {
    assert_eq!(
        got["active_total"], t["active_total"],
        "{what}: active_total"
    );
    for k in DIMS {
        assert_eq!(got[k], t[k], "{what}: {k}");
    }
    if t.get("connects").is_some() {
        assert_eq!(got["connects"], t["connects"], "{what}: connects");
        assert_eq!(got["disconnects"], t["disconnects"], "{what}: disconnects");
        assert_eq!(got["terminated"], t["terminated"], "{what}: terminated");
        let failures: u64 = t["failures"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        let total = got
            .get("failures_total")
            .unwrap_or(&got["failures"]["total"]);
        assert_eq!(total, &Value::from(failures), "{what}: failures");
    }
}

/// The entry of server `name` in the snapshot's `servers` list.
fn server<'a>(got: &'a Value, name: &str) -> &'a Value {
    got["servers"]
        .as_array()
        .expect("a servers list")
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("server {name} in {}", got["servers"]))
}

/// Adds two name -> count maps.
fn merged(a: &Value, b: &Value) -> Value {
    let mut m = a.as_object().unwrap().clone();
    for (k, v) in b.as_object().unwrap() {
        let n = m.get(k).and_then(Value::as_u64).unwrap_or(0) + v.as_u64().unwrap();
        m.insert(k.clone(), n.into());
    }
    Value::Object(m)
}

#[test]
fn two_labelled_servers_each_equal_their_truth() {
    let (ta, tb) = (truth(A_TRUTH), truth(B_TRUTH));
    let got = once_json(&[labelled("a", A_LOG), labelled("b", B_LOG)]);
    assert_eq!(
        got["by_server"],
        serde_json::json!({"a": ta["active_total"], "b": tb["active_total"]})
    );
    assert_eq!(got["servers"].as_array().unwrap().len(), 2);
    assert_truth(server(&got, "a"), &ta, "server a");
    assert_truth(server(&got, "b"), &tb, "server b");
    assert_eq!(server(&got, "b")["sources"].as_array().unwrap().len(), 1);
    // The whole is the sum of its servers.
    assert_eq!(
        got["active_total"].as_u64().unwrap(),
        ta["active_total"].as_u64().unwrap() + tb["active_total"].as_u64().unwrap()
    );
    for k in DIMS {
        assert_eq!(got[k], merged(&ta[k], &tb[k]), "whole: {k}");
    }
    // Each open session names its server.
    let active = got["active"].as_array().unwrap();
    let on_b = active.iter().filter(|s| s["server"] == "b").count();
    assert_eq!(on_b as u64, tb["active_total"].as_u64().unwrap());
    assert!(active
        .iter()
        .all(|s| s["server"] == "a" || s["server"] == "b"));
}

#[test]
fn the_server_filter_gives_one_servers_truth() {
    let ta = truth(A_TRUTH);
    let args = [labelled("a", A_LOG), labelled("b", B_LOG)];
    let mut with = args.to_vec();
    with.extend(["--server".to_string(), "a".to_string()]);
    let got = once_json(&with);
    assert_truth(&got, &ta, "--server a");
    assert_eq!(
        got["by_server"],
        serde_json::json!({"a": ta["active_total"]})
    );
    assert_eq!(got["filter"]["server"], "a");
    // Every server stays listed; only a has sessions and figures under the filter.
    assert_truth(server(&got, "a"), &ta, "--server a: server a");
    assert_eq!(server(&got, "b")["active_total"], 0);
    assert!(server(&got, "b").get("connects").is_none());
    assert_eq!(
        got["history"]["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["connects"].as_i64().unwrap())
            .sum::<i64>(),
        ta["connects"].as_i64().unwrap()
    );
}

#[test]
fn sources_with_one_label_share_a_server() {
    let (tb, tc) = (truth(B_TRUTH), truth(C_TRUTH));
    // x's two sources are one server: the restart in B's log (read second) ends the sessions
    // A's log left open, so x holds exactly B's open sessions, and every dimension of x is
    // B's; y is untouched by x's restart.
    let got = once_json(&[
        labelled("x", A_LOG),
        labelled("x", B_LOG),
        labelled("y", C_LOG),
    ]);
    let n = |t: &Value| t["active_total"].as_u64().unwrap();
    assert_eq!(
        got["by_server"],
        serde_json::json!({"x": n(&tb), "y": n(&tc)})
    );
    let x = server(&got, "x");
    assert_eq!(x["sources"].as_array().unwrap().len(), 2);
    for k in DIMS {
        assert_eq!(x[k], tb[k], "server x: {k}");
    }
    assert_truth(server(&got, "y"), &tc, "server y");
}

#[test]
fn one_server_keeps_the_snapshot_shape() {
    let got = once_json(&[labelled("a", A_LOG)]);
    assert!(got.get("by_server").is_none());
    assert!(got.get("servers").is_none());
    assert!(got["filter"].get("server").is_none());
    assert!(got["active"].as_array().unwrap()[0].get("server").is_none());
    assert_truth(&got, &truth(A_TRUTH), "one server");
}

#[test]
fn text_snapshot_lists_the_servers() {
    let out = Command::new(BIN)
        .args(["--once", &labelled("a", A_LOG), &labelled("b", B_LOG)])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let section = text.split("By server:").nth(1).expect("a By server table");
    assert!(section
        .lines()
        .nth(1)
        .unwrap()
        .trim_start()
        .starts_with('a'));
    let servers = text.split("\nServers:").nth(1).expect("a Servers section");
    let row = |name: &str| {
        servers
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("a row for {name} in {servers}"))
            .split_whitespace()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    // server, active, connects, ends, lost, failures
    assert_eq!(row("a")[1], "15");
    assert_eq!(row("a")[2], "92");
    assert_eq!(row("b")[1], "3");
    // One server: no server table.
    let one = Command::new(BIN)
        .args(["--once", &labelled("a", A_LOG)])
        .output()
        .unwrap();
    let one = String::from_utf8(one.stdout).unwrap();
    assert!(!one.contains("By server:") && !one.contains("Servers:"));
}

/// The engine with `logs` as sources named `names`, read to their end.
fn engine(logs: &[(&str, &str)]) -> Engine {
    let mut e = Engine::new(EngineConfig::default());
    for (i, (name, rel)) in logs.iter().enumerate() {
        e.store.set_server(i as u16, i as u16, name);
        let path = corpus(rel);
        let id = e.add_source(&path.display().to_string());
        e.read_to_end(id, std::fs::File::open(path).unwrap())
            .unwrap();
    }
    e
}

#[test]
fn the_feed_filter_keeps_one_servers_events_and_its_resets() {
    let e = engine(&[("a", A_LOG), ("b", B_LOG)]);
    let store = &e.store;
    let all = store.feed_matching(&Filter::default()).count();
    let on = |s: &str| {
        store
            .feed_matching(&Filter::exact(Dim::Server, s.as_bytes()))
            .count()
    };
    assert!(on("a") > 0 && on("b") > 0);
    assert_eq!(
        on("a") + on("b"),
        all,
        "every entry is on exactly one server"
    );
    // b's log has a restart; its reset is b's, not a's.
    let resets = |s: &str| {
        store
            .feed_matching(&Filter::exact(Dim::Server, s.as_bytes()))
            .filter(|ev| matches!(ev.kind, pgconn_top::store::feed::FeedKind::Reset { .. }))
            .count()
    };
    assert!(resets("b") > 0);
    // A filter on another dimension still shows every reset, as before.
    let db = Filter::parse("db=production").unwrap();
    let with_db = store
        .feed_matching(&db)
        .filter(|ev| matches!(ev.kind, pgconn_top::store::feed::FeedKind::Reset { .. }))
        .count();
    assert_eq!(with_db, resets("a") + resets("b"));
    // Events say their server, in JSON and text.
    let first_b = store
        .feed_matching(&Filter::parse("server=b").unwrap())
        .next()
        .unwrap();
    assert_eq!(feedline::json_line(store, first_b)["server"], "b");
    assert!(feedline::text_line(store, first_b).contains(" b: "));
}

#[test]
fn stream_json_events_carry_their_server() {
    let mut child = Command::new(BIN)
        .args([
            "--stream",
            "--json",
            &labelled("a", A_LOG),
            &labelled("b", B_LOG),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx
                .send(serde_json::from_str::<Value>(&line).unwrap())
                .is_err()
            {
                break;
            }
        }
    });
    // Every connect of both logs (refused ones are withheld) arrives, each with its server.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = std::collections::HashMap::<String, u64>::new();
    while seen.get("a").copied().unwrap_or(0) == 0 || seen.get("b").copied().unwrap_or(0) == 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(ev) = rx.recv_timeout(left) else {
            break;
        };
        let server = ev["server"].as_str().expect("every event names its server");
        *seen.entry(server.to_string()).or_default() += 1;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen.keys().all(|s| s == "a" || s == "b"), "{seen:?}");
    assert!(seen.contains_key("a") && seen.contains_key("b"), "{seen:?}");
}
