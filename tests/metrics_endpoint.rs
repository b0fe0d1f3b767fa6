//! The metrics endpoint end to end: the alerting rules pass promtool, and a real Prometheus
//! scraping `pgconn-top --serve` every second sees each server's truth, accepts every query of
//! the Grafana dashboard, fires the leak alert, parses hostile label values, and sees no counter
//! go down across a restart in a followed log; a clear (`c`) in the dashboard leaves them.
//!
//! Needs `promtool` and `prometheus` (Debian package `prometheus`); without them the tests skip,
//! unless `CI=true`, where that is a failure.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_pgconn-top");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn corpus(dir: &str, file: &str) -> PathBuf {
    root().join("tests/fixtures/corpus").join(dir).join(file)
}

fn truth(dir: &str, file: &str) -> Value {
    serde_json::from_slice(&std::fs::read(corpus(dir, file)).unwrap()).unwrap()
}

/// Whether `tool` runs; without it the test skips, or fails under `CI=true`.
fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{tool} is missing (install the Debian package prometheus)"
        );
        eprintln!("skipped: {tool} is missing");
    }
    ok
}

#[test]
fn alerting_rules_pass_promtool() {
    if !have("promtool") {
        return;
    }
    let dir = root().join("assets/prometheus");
    for args in [
        ["check", "rules", "pgconn-top-rules.yml"],
        ["test", "rules", "pgconn-top-rules.test.yml"],
    ] {
        let out = Command::new("promtool")
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A free loopback port (taken again at once by the caller).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET path` over HTTP/1.0 (no chunking): (status, body). Test code only.
fn get(port: u16, path: &str, accept: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: {accept}\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_string()))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A PromQL instant query: the result vector, or the error Prometheus gave.
fn query(port: u16, q: &str) -> Result<Vec<Value>, String> {
    let (status, body) = get(
        port,
        &format!("/api/v1/query?query={}", urlencode(q)),
        "*/*",
    )
    .map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(&body).map_err(|e| format!("{status}: {e}: {body}"))?;
    if v["status"] != "success" {
        return Err(format!("{q}: {body}"));
    }
    Ok(v["data"]["result"].as_array().cloned().unwrap_or_default())
}

/// `sum by (label)` results as label value → number.
fn by(port: u16, q: &str, label: &str) -> std::collections::BTreeMap<String, f64> {
    query(port, q)
        .unwrap()
        .iter()
        .map(|r| {
            let k = r["metric"][label].as_str().unwrap_or("").to_string();
            let v = r["value"][1].as_str().unwrap().parse::<f64>().unwrap();
            (k, v)
        })
        .collect()
}

/// Polls `f` until it returns Some, for at most `secs`.
fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Kills a child process when dropped.
struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The hostile application name written into a log, and the label value it must become.
const HOSTILE: &[u8] = b"evil\"app\\x \x1b[31m\xff";
const HOSTILE_LABEL: &str = "evil\"app\\x \\x1b[31m\u{fffd}";

/// A log with a leaking application: 3 hours, one leaked session every 5 minutes, ending just
/// after the corpus logs (the store has one clock for all sources: leaks are looked for in
/// the last hour of the newest log).
fn leaky_log() -> Vec<u8> {
    use pgconn_top::synth::{generate, SynthConfig};
    let cfg = SynthConfig {
        // 2026-11-27 16:25 UTC: ends at 19:25 UTC, the corpus' last entries at 19:21 UTC.
        start_millis: 1_795_796_700_000,
        restart_at: None,
        crash_at: None,
        minutes: 180,
        ..SynthConfig::default()
    };
    let mut out = Vec::new();
    generate(&cfg, &mut out);
    out
}

#[test]
fn prometheus_scrapes_two_servers_and_sees_their_truth() {
    if !have("prometheus") || !have("promtool") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // berlin first without its restart (appended later), rds whole, a leak, hostile names.
    let berlin_all =
        std::fs::read(corpus("pg15-debian-berlin", "postgresql.after-restart.log")).unwrap();
    let berlin_first = std::fs::read(corpus("pg15-debian-berlin", "postgresql.log")).unwrap();
    assert!(berlin_all.starts_with(&berlin_first));
    std::fs::write(dir.join("berlin.log"), &berlin_first).unwrap();
    std::fs::copy(
        corpus("pg15-rds-newyork", "postgresql.log"),
        dir.join("rds.log"),
    )
    .unwrap();
    std::fs::write(dir.join("leaky.log"), leaky_log()).unwrap();
    let mut hostile = Vec::new();
    for line in berlin_first.split_inclusive(|&b| b == b'\n') {
        match line.windows(21).position(|w| w == b"application_name=psql") {
            Some(i) => {
                hostile.extend_from_slice(&line[..i + 17]);
                hostile.extend_from_slice(HOSTILE);
                hostile.extend_from_slice(&line[i + 21..]);
            }
            None => hostile.extend_from_slice(line),
        }
    }
    std::fs::write(dir.join("hostile.log"), &hostile).unwrap();

    let mport = free_port();
    let arg = |name: &str| format!("{name}={}", dir.join(format!("{name}.log")).display());
    let top = Kill(
        Command::new(BIN)
            .args(["--serve", "--metrics", &format!("127.0.0.1:{mport}")])
            .args(["--max-connections", "100"])
            .args([arg("berlin"), arg("rds"), arg("leaky"), arg("hostile")])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );

    // Our own scrape first: both formats parse, OpenMetrics ends in # EOF.
    let om = wait_for(20, "the metrics endpoint", || {
        get(
            mport,
            "/metrics",
            "application/openmetrics-text; version=1.0.0",
        )
        .ok()
        .filter(|(s, b)| *s == 200 && b.contains("server=\"rds\""))
    });
    assert!(om.1.ends_with("# EOF\n"));
    let (_, text) = get(mport, "/metrics", "text/plain").unwrap();
    assert!(!text.contains("# EOF"));
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    check
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(out.status.success(), "promtool check metrics: {out:?}");

    // Prometheus: 1 s scrapes, the rules with every `for:` at 0s so that they fire at once.
    let rules = std::fs::read_to_string(root().join("assets/prometheus/pgconn-top-rules.yml"))
        .unwrap()
        .lines()
        .map(|l| match l.trim_start().starts_with("for:") {
            true => "        for: 0s".to_string(),
            false => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.join("rules.yml"), rules).unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: pgconn-top\n    static_configs:\n      - targets: ['127.0.0.1:{mport}']\n",
        dir.join("rules.yml").display()
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let pport = free_port();
    let _prom = Kill(
        Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{pport}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let active_q = "sum by (server) (pgconn_top_active_sessions)";
    let active = wait_for(40, "a scrape with every server", || {
        let m = query(pport, active_q).ok()?;
        (m.len() >= 4).then(|| by(pport, active_q, "server"))
    });
    for (server, dir_name) in [
        ("berlin", "pg15-debian-berlin"),
        ("rds", "pg15-rds-newyork"),
    ] {
        let t = truth(dir_name, "truth.json");
        assert_eq!(
            active[server],
            t["active_total"].as_f64().unwrap(),
            "{server}"
        );
        let q =
            format!("sum by (reason) (pgconn_top_failed_connections_total{{server=\"{server}\"}})");
        let failures = by(pport, &q, "reason");
        let want: std::collections::BTreeMap<String, f64> = t["failures"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_f64().unwrap()))
            .collect();
        assert_eq!(failures, want, "{server}");
    }

    // --max-connections reaches the gauge the "slots nearly exhausted" alert compares with.
    let max = by(pport, "pgconn_top_max_connections", "server");
    assert_eq!(max.get("berlin"), Some(&100.0), "{max:?}");
    assert_eq!(max.len(), 4, "{max:?}");

    // Hostile names reach Prometheus as the label value they must be.
    let q = "pgconn_top_active_sessions{server=\"hostile\",application!=\"\"}";
    let apps: Vec<String> = query(pport, q)
        .unwrap()
        .iter()
        .map(|r| r["metric"]["application"].as_str().unwrap().to_string())
        .collect();
    assert!(apps.iter().any(|a| a == HOSTILE_LABEL), "{apps:?}");

    // Every query of the Grafana dashboard is accepted.
    let dash: Value = serde_json::from_slice(
        &std::fs::read(root().join("assets/grafana/pgconn-top.json")).unwrap(),
    )
    .unwrap();
    let mut n = 0;
    for panel in dash["panels"].as_array().unwrap() {
        for t in panel["targets"].as_array().into_iter().flatten() {
            let expr = t["expr"]
                .as_str()
                .unwrap()
                .replace("$server", ".*")
                .replace("$__rate_interval", "1m");
            query(pport, &expr).unwrap_or_else(|e| panic!("{}: {e}", panel["title"]));
            n += 1;
        }
    }
    assert!(n >= 20, "{n} queries");

    // The leaking application makes the leak alert fire, on its server only.
    let fired = wait_for(30, "the leak alert", || {
        let (_, body) = get(pport, "/api/v1/alerts", "*/*").ok()?;
        let v: Value = serde_json::from_str(&body).ok()?;
        let alerts = v["data"]["alerts"].as_array()?.clone();
        let leak: Vec<Value> = alerts
            .into_iter()
            .filter(|a| a["labels"]["alertname"] == "PgconnTopLeakSuspected")
            .filter(|a| a["state"] == "firing")
            .collect();
        (!leak.is_empty()).then_some(leak)
    });
    let servers: Vec<&str> = fired
        .iter()
        .filter_map(|a| a["labels"]["server"].as_str())
        .collect();
    assert_eq!(servers, vec!["leaky"]);

    // A restart in berlin's log: sessions end as `reset`, no counter goes down.
    let counters = "{__name__=~\"pgconn_top_.*_total|pgconn_top_.*_(count|bucket)\"}";
    let before = query(pport, counters).unwrap();
    let ended_q = "sum by (server) (pgconn_top_sessions_ended_total{how=~\"terminated|reset\"})";
    let ended_before = by(pport, ended_q, "server");
    std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("berlin.log"))
        .unwrap()
        .write_all(&berlin_all[berlin_first.len()..])
        .unwrap();
    let after_truth = truth("pg15-debian-berlin", "truth-after-restart.json");
    let want = after_truth["active_total"].as_f64().unwrap();
    wait_for(30, "berlin's sessions after its restart", || {
        let a = by(pport, active_q, "server");
        (a.get("berlin") == Some(&want)).then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    let after = query(pport, counters).unwrap();
    let value = |r: &Value| r["value"][1].as_str().unwrap().parse::<f64>().unwrap();
    for b in &before {
        let a = after
            .iter()
            .find(|a| a["metric"] == b["metric"])
            .unwrap_or_else(|| panic!("series gone: {}", b["metric"]));
        assert!(value(a) >= value(b), "{} went down", b["metric"]);
    }
    for name in [
        "sessions_started_total",
        "sessions_ended_total",
        "sessions_refused_total",
        "failed_connections_total",
        "log_lines_read_total",
        "log_lines_unparsed_total",
        "session_duration_seconds_count",
    ] {
        let resets = by(pport, &format!("sum(resets(pgconn_top_{name}[5m]))"), "");
        assert_eq!(
            resets.values().sum::<f64>(),
            0.0,
            "Prometheus saw {name} reset"
        );
    }
    // The fast restart terminated berlin's 15 sessions (each logged its disconnection).
    let ended_after = by(pport, ended_q, "server");
    assert_eq!(ended_after["berlin"] - ended_before["berlin"], 15.0);
    assert_eq!(
        ended_after["rds"], ended_before["rds"],
        "only berlin restarted"
    );
    drop(top);
}

#[test]
fn clear_in_the_dashboard_leaves_the_metrics() {
    use pgconn_top::engine::{Engine, EngineConfig};
    use pgconn_top::metrics::{Dims, Exposition, Metrics, DEFAULT_CAP};
    use pgconn_top::ui::{fixed_clock, App, UiOptions};
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    let mut engine = Engine::new(EngineConfig::default());
    let metrics = Metrics::new(Dims::default(), DEFAULT_CAP, 60);
    metrics.add_source(0, "berlin");
    engine.set_observer(metrics.observer());
    let id = engine.add_source("postgresql.log");
    let log = std::fs::File::open(corpus("pg15-debian-berlin", "postgresql.log")).unwrap();
    engine.read_to_end(id, log).unwrap();
    engine.observe_batch();
    let before = metrics.render(Exposition::Prometheus);
    assert!(before.contains("pgconn_top_sessions_started_total{server=\"berlin\""));
    let opts = UiOptions {
        clock: fixed_clock(engine.store.now().millis),
        color: false,
        ..UiOptions::default()
    };
    let mut app = App::new(engine, &opts);
    for c in ['c', 'y'] {
        app.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    let connects: u64 = app
        .engine
        .store
        .combo_stats()
        .iter()
        .map(|c| c.connects)
        .sum();
    assert_eq!(connects, 0, "the dashboard's counters were cleared");
    app.engine.observe_batch();
    assert_eq!(metrics.render(Exposition::Prometheus), before);
}
