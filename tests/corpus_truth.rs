//! The snapshot of every real log (three formats, four prefixes, before and after a restart)
//! equals what the server reported in `pg_stat_activity` (truth.json).

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::report::{json_report, ReportOptions};
use pgconn_top::store::filter::Filter;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus")
}

/// The folders of real PostgreSQL 15 logs (the corpus' `real/` group) at the top of the fixtures;
/// `syslog/`, `versions/` and `wrapped/` hold groups of folders and are tested by corpus_all.rs.
fn folders() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("corpus fixtures exist")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("truth.json").is_file())
        .collect();
    v.sort();
    assert_eq!(v.len(), 4, "four recorded prefixes");
    v
}

fn snapshot(path: &Path) -> Value {
    let mut engine = Engine::new(EngineConfig::default());
    engine
        .read_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    json_report(&engine, &ReportOptions::default())
}

fn active_set(v: &Value) -> Vec<(u64, String, String, Value, String)> {
    let mut a: Vec<_> = v
        .as_array()
        .expect("active is an array")
        .iter()
        .map(|s| {
            (
                s["pid"].as_u64().unwrap(),
                s["user"].as_str().unwrap().to_string(),
                s["database"].as_str().unwrap().to_string(),
                s["application"].clone(),
                s["host"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    a.sort_by_key(|x| x.0);
    a
}

fn check(file: &Path, truth: &Value, full: bool) {
    let got = snapshot(file);
    let name = file.display();
    assert_eq!(
        active_set(&got["active"]),
        active_set(&truth["active"]),
        "{name}: active set"
    );
    assert_eq!(
        got["active_total"], truth["active_total"],
        "{name}: active_total"
    );
    for key in ["by_database", "by_user", "by_application", "by_host"] {
        assert_eq!(got[key], truth[key], "{name}: {key}");
    }
    assert_eq!(
        got["lines"]["unparsed"], 0,
        "{name}: every candidate line parsed"
    );
    if full {
        assert_eq!(got["connects"], truth["connects"], "{name}: connects");
        assert_eq!(
            got["disconnects"], truth["disconnects"],
            "{name}: disconnects"
        );
        assert_eq!(got["terminated"], truth["terminated"], "{name}: terminated");
        let want: serde_json::Map<String, Value> = truth["failures"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, n)| n.as_u64() != Some(0))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(
            got["failures"]["by_reason"],
            Value::Object(want.clone()),
            "{name}: failures by reason"
        );
        let total: u64 = want.values().map(|v| v.as_u64().unwrap()).sum();
        assert_eq!(got["failures"]["total"], total, "{name}: failures total");
    }
}

fn truth(dir: &Path, file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap()
}

#[test]
fn every_format_and_prefix_matches_pg_stat_activity() {
    for dir in folders() {
        let t = truth(&dir, "truth.json");
        for f in ["postgresql.log", "postgresql.csv", "postgresql.json"] {
            check(&dir.join(f), &t, true);
        }
    }
}

#[test]
fn after_a_restart_only_the_new_sessions_are_active() {
    for dir in folders() {
        let t = truth(&dir, "truth-after-restart.json");
        for f in [
            "postgresql.after-restart.log",
            "postgresql.after-restart.csv",
            "postgresql.after-restart.json",
        ] {
            check(&dir.join(f), &t, false);
            let got = snapshot(&dir.join(f));
            assert!(
                got["server"]["last_restart"].is_string(),
                "{}: restart seen",
                dir.display()
            );
        }
    }
}

#[test]
fn detected_prefix_is_the_servers_setting() {
    for dir in folders() {
        let t = truth(&dir, "truth.json");
        let got = snapshot(&dir.join("postgresql.log"));
        assert_eq!(
            got["sources"][0]["prefix"],
            t["log_line_prefix"],
            "{}",
            dir.display()
        );
        assert_eq!(got["sources"][0]["format"], "stderr");
        assert_eq!(
            snapshot(&dir.join("postgresql.csv"))["sources"][0]["format"],
            "csvlog"
        );
        assert_eq!(
            snapshot(&dir.join("postgresql.json"))["sources"][0]["format"],
            "jsonlog"
        );
    }
}

#[test]
fn filters_narrow_every_figure() {
    let dir = &folders()[0];
    let mut engine = Engine::new(EngineConfig::default());
    engine.read_path(&dir.join("postgresql.log")).unwrap();
    let t = truth(dir, "truth.json");
    let mut opts = ReportOptions {
        filter: Filter::parse("db=production").unwrap(),
        ..ReportOptions::default()
    };
    let got = json_report(&engine, &opts);
    assert_eq!(got["active_total"], t["by_database"]["production"]);
    assert_eq!(got["by_database"].as_object().unwrap().len(), 1);
    let n = t["active"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["database"] == "production")
        .count();
    assert_eq!(got["active"].as_array().unwrap().len(), n);
    opts.filter = Filter::parse(r#"db=production app="metabase reporting""#).unwrap();
    let got = json_report(&engine, &opts);
    assert_eq!(
        got["active_total"],
        t["by_application"]["metabase reporting"]
    );
    opts.filter = Filter::parse(r#"db=production app="metabase reporting" user=nobody"#).unwrap();
    let got = json_report(&engine, &opts);
    assert_eq!(got["active_total"], 0);
    assert_eq!(got["connects"], 0);
}
