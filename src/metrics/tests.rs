//! Tests of the metrics over the real corpus (truth equality, a clear, a restart) and over
//! generated hostile and flooding names.

use super::*;
use crate::engine::{Engine, EngineConfig};
use crate::model::{EventKind, FailureReason, LogTime};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn corpus(dir: &str, file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus")
        .join(dir)
        .join(file)
}

fn truth(dir: &str, file: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(corpus(dir, file)).unwrap()).unwrap()
}

/// Series (name and labels) → value, of one exposition.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_string(), v.parse::<f64>().unwrap())
        })
        .collect()
}

/// Sum of a metric's samples whose series text contains every `with`.
fn sum(s: &BTreeMap<String, f64>, metric: &str, with: &[&str]) -> f64 {
    s.iter()
        .filter(|(k, _)| k.starts_with(&format!("{metric}{{")) || k.as_str() == metric)
        .filter(|(k, _)| with.iter().all(|w| k.contains(w)))
        .map(|(_, v)| v)
        .sum()
}

/// An engine with metrics attached, sources labelled `servers`.
fn engine(servers: &[&str]) -> (Engine, Metrics) {
    let mut engine = Engine::new(EngineConfig::default());
    let m = Metrics::new(Dims::default(), DEFAULT_CAP, 60);
    for (i, s) in servers.iter().enumerate() {
        engine.add_source(&format!("{s}.log"));
        m.add_source(i as u16, s);
    }
    engine.set_observer(m.observer());
    (engine, m)
}

#[test]
fn corpus_figures_equal_the_truth_per_server() {
    let (mut engine, m) = engine(&["berlin", "rds"]);
    for (id, dir) in ["pg15-debian-berlin", "pg15-rds-newyork"]
        .iter()
        .enumerate()
    {
        let f = std::fs::File::open(corpus(dir, "postgresql.log")).unwrap();
        engine.read_to_end(id as u16, f).unwrap();
    }
    engine.observe_batch();
    let s = samples(&m.render(Exposition::Prometheus));
    for (server, dir) in [
        ("berlin", "pg15-debian-berlin"),
        ("rds", "pg15-rds-newyork"),
    ] {
        let t = truth(dir, "truth.json");
        let on = format!("server=\"{server}\"");
        let active = sum(&s, "pgconn_top_active_sessions", &[&on]);
        assert_eq!(active, t["active_total"].as_f64().unwrap(), "{server}");
        let started = sum(&s, "pgconn_top_sessions_started_total", &[&on]);
        let refused = sum(&s, "pgconn_top_sessions_refused_total", &[&on]);
        assert_eq!(
            started - refused,
            t["connects"].as_f64().unwrap(),
            "{server}"
        );
        let ended = sum(&s, "pgconn_top_sessions_ended_total", &[&on]);
        assert_eq!(ended, t["disconnects"].as_f64().unwrap(), "{server}");
        let terminated = sum(
            &s,
            "pgconn_top_sessions_ended_total",
            &[&on, "how=\"terminated\""],
        );
        assert_eq!(terminated, t["terminated"].as_f64().unwrap());
        for (reason, n) in t["failures"].as_object().unwrap() {
            let r = format!("reason=\"{reason}\"");
            let got = sum(&s, "pgconn_top_failed_connections_total", &[&on, &r]);
            assert_eq!(got, n.as_f64().unwrap(), "{server} {reason}");
        }
        for (app, n) in t["by_application"].as_object().unwrap() {
            let a = format!("application=\"{app}\"");
            assert_eq!(
                sum(&s, "pgconn_top_active_sessions", &[&on, &a]),
                n.as_f64().unwrap()
            );
        }
        assert_eq!(sum(&s, "pgconn_top_source_up", &[&on]), 1.0);
        assert!(sum(&s, "pgconn_top_log_lines_read_total", &[&on]) > 300.0);
    }
    assert_eq!(m.state().active_by_server(), vec![15, 15]);
}

#[test]
fn a_parallel_replay_reaches_the_metrics_too() {
    let (mut engine, m) = engine(&["berlin"]);
    let f = std::fs::File::open(corpus("pg15-debian-berlin", "postgresql.log")).unwrap();
    crate::replay::replay_open_files(&mut engine, 0, std::iter::once(Ok(f))).unwrap();
    assert_eq!(m.state().active_by_server(), vec![15]);
}

#[test]
fn a_clear_of_the_store_leaves_the_counters() {
    let (mut engine, m) = engine(&["berlin"]);
    let f = std::fs::File::open(corpus("pg15-debian-berlin", "postgresql.log")).unwrap();
    engine.read_to_end(0, f).unwrap();
    engine.observe_batch();
    let before = m.render(Exposition::OpenMetrics);
    engine.store.clear();
    assert_eq!(
        engine
            .store
            .combo_stats()
            .iter()
            .map(|c| c.connects)
            .sum::<u64>(),
        0
    );
    engine.observe_batch();
    assert_eq!(m.render(Exposition::OpenMetrics), before);
    assert!(before.ends_with("# EOF\n"));
}

#[test]
fn a_restart_ends_sessions_and_no_counter_goes_down() {
    let (mut engine, m) = engine(&["berlin"]);
    let first = std::fs::read(corpus("pg15-debian-berlin", "postgresql.log")).unwrap();
    let all = std::fs::read(corpus("pg15-debian-berlin", "postgresql.after-restart.log")).unwrap();
    assert!(all.starts_with(&first));
    engine.feed(0, &first).unwrap();
    engine.settle(0).unwrap();
    engine.observe_batch();
    let before = samples(&m.render(Exposition::Prometheus));
    engine.feed(0, &all[first.len()..]).unwrap();
    engine.finish(0).unwrap();
    engine.observe_batch();
    let after = samples(&m.render(Exposition::Prometheus));
    for (k, v) in &before {
        if k.contains("_total") || k.contains("_bucket") || k.contains("_count") {
            assert!(
                after.get(k).is_some_and(|a| a >= v),
                "{k} went from {v} to {:?}",
                after.get(k)
            );
        }
    }
    let t = truth("pg15-debian-berlin", "truth-after-restart.json");
    assert_eq!(
        sum(&after, "pgconn_top_active_sessions", &[]),
        t["active_total"].as_f64().unwrap()
    );
    // The fast restart terminated the 15 sessions open before it (each logged its end).
    let ended = |s: &BTreeMap<String, f64>| {
        sum(
            s,
            "pgconn_top_sessions_ended_total",
            &["how=\"terminated\""],
        )
    };
    assert_eq!(ended(&after), ended(&before) + 15.0);
}

#[test]
fn a_crash_ends_only_its_servers_sessions_as_reset() {
    let m = Metrics::new(Dims::default(), DEFAULT_CAP, 60);
    m.add_source(0, "a");
    m.add_source(1, "b");
    let auth = EventKind::Authorized {
        replication: false,
        ssl: None,
    };
    for source in [0, 1] {
        m.event(source, &ev(1_000, 7, EventKind::Received, b"u"));
        m.event(source, &ev(1_001, 7, auth, b"u"));
    }
    let crash = EventKind::Server(crate::model::ServerChange::CrashReset);
    m.event(0, &ev(2_000, 1, crash, b"u"));
    // The pid serves a new session on b: the old one was lost.
    m.event(1, &ev(3_000, 7, EventKind::Received, b"u"));
    let s = samples(&m.render(Exposition::Prometheus));
    let ended = |server: &str, how: &str| {
        let (sv, h) = (format!("server=\"{server}\""), format!("how=\"{how}\""));
        sum(&s, "pgconn_top_sessions_ended_total", &[&sv, &h])
    };
    assert_eq!(ended("a", "reset"), 1.0);
    assert_eq!(ended("b", "reset"), 0.0);
    assert_eq!(ended("b", "lost"), 1.0);
    assert_eq!(m.state().active_by_server(), vec![0, 0]);
}

fn ev<'a>(t: i64, pid: u32, kind: EventKind<'a>, user: &'a [u8]) -> ConnectionEvent<'a> {
    let mut e = ConnectionEvent::new(
        LogTime {
            millis: t,
            offset_secs: 0,
        },
        pid,
        kind,
    );
    e.user = Some(user);
    e.database = Some(b"db");
    e.application = Some(user);
    e.host = Some(b"10.0.0.1");
    e
}

#[test]
fn hostile_names_are_label_values_escaped_by_the_encoder() {
    let m = Metrics::new(Dims::default(), DEFAULT_CAP, 60);
    m.add_source(0, "prod \"eu\"");
    let hostile: &[u8] = b"a\"b\\c\nd\x1b[31m\xff";
    let auth = EventKind::Authorized {
        replication: false,
        ssl: None,
    };
    m.event(0, &ev(1_000, 7, EventKind::Received, hostile));
    m.event(0, &ev(1_001, 7, auth, hostile));
    let fail = EventKind::Failed {
        reason: FailureReason::PasswordFailed,
    };
    m.event(0, &ev(1_002, 8, fail, hostile));
    for format in [Exposition::Prometheus, Exposition::OpenMetrics] {
        let text = m.render(format);
        let want = r#"user="a\"b\\c\\x0ad\\x1b[31m�""#;
        let line = text
            .lines()
            .find(|l| l.starts_with("pgconn_top_active_sessions{"))
            .unwrap();
        assert!(line.contains(want), "{line}");
        assert!(line.contains(r#"server="prod \"eu\"""#), "{line}");
        assert!(!text.contains('\x1b'));
        // Every sample is on one line: nothing but `# ` lines and samples.
        assert!(text
            .lines()
            .all(|l| l.starts_with("# ") || l.starts_with("pgconn_top_")));
    }
}

#[test]
fn series_stay_at_the_cap_while_100k_names_flow() {
    let cap = 100;
    let m = Metrics::new(Dims::default(), cap, 60);
    m.add_source(0, "prod");
    let auth = EventKind::Authorized {
        replication: false,
        ssl: None,
    };
    let fail = EventKind::Failed {
        reason: FailureReason::RoleMissing,
    };
    for i in 0..100_000u32 {
        let name = format!("user-{i}");
        let n = name.as_bytes();
        let t = i64::from(i) * 10;
        let pid = 10_000 + i % 5_000;
        m.event(0, &ev(t, pid, EventKind::Received, n));
        m.event(0, &ev(t + 1, pid, auth, n));
        if i % 2 == 0 {
            let end = EventKind::Disconnected {
                session_millis: Some(5),
            };
            m.event(0, &ev(t + 2, pid, end, n));
        }
        m.event(0, &ev(t + 3, 90_000, fail, n));
        if i % 20_000 == 0 {
            // Scrapes while the names flow.
            let _ = m.render(Exposition::OpenMetrics);
        }
    }
    let text = m.render(Exposition::Prometheus);
    let s = samples(&text);
    for metric in [
        "pgconn_top_active_sessions",
        "pgconn_top_sessions_started_total",
        "pgconn_top_sessions_ended_total",
        "pgconn_top_failed_connections_total",
        "pgconn_top_session_duration_seconds_count",
    ] {
        let series = s
            .keys()
            .filter(|k| k.starts_with(&format!("{metric}{{")))
            .count();
        // At most `cap` named series, plus `other` (per tag: how a session ended).
        assert!(series <= cap + 4, "{metric}: {series}");
        assert!(series >= 2, "{metric}: {series}");
    }
    // Every session is counted, named or folded.
    assert_eq!(sum(&s, "pgconn_top_sessions_started_total", &[]), 100_000.0);
    assert_eq!(
        sum(&s, "pgconn_top_failed_connections_total", &[]),
        100_000.0
    );
    assert!(sum(&s, "pgconn_top_sessions_started_total", &["user=\"other\""]) > 99_000.0);
    assert!(m.state().names.len() <= 16 * cap);
}

#[test]
fn postgresql_18_setup_times_fill_their_histogram() {
    let (mut engine, m) = engine(&["pg18"]);
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus/versions/pg18-all/postgresql.log");
    let text = std::fs::read_to_string(&path).unwrap();
    let ready: Vec<f64> = text
        .lines()
        .filter_map(|l| {
            l.split_once("connection ready: setup total=")?
                .1
                .split_once(" ms")
        })
        .map(|(ms, _)| ms.parse::<f64>().unwrap() / 1000.0)
        .collect();
    assert!(!ready.is_empty());
    engine
        .read_to_end(0, std::fs::File::open(&path).unwrap())
        .unwrap();
    let s = samples(&m.render(Exposition::Prometheus));
    let metric = "pgconn_top_connection_setup_seconds";
    let count = sum(&s, &format!("{metric}_count"), &["server=\"pg18\""]);
    assert_eq!(count, ready.len() as f64);
    let total = sum(&s, &format!("{metric}_sum"), &["server=\"pg18\""]);
    let want: f64 = ready.iter().sum();
    assert!((total - want).abs() < 1e-6, "{total} vs {want}");
    // The 10 ms bucket holds exactly the setups of 10 ms or less.
    let le = sum(&s, &format!("{metric}_bucket"), &["le=\"0.01\""]);
    assert_eq!(le, ready.iter().filter(|&&x| x <= 0.01).count() as f64);
}

#[test]
fn a_replay_on_every_core_feeds_the_metrics_every_event() {
    // Several MiB: the replay cuts it into chunks that worker threads decode.
    let cfg = crate::synth::SynthConfig {
        minutes: 800,
        noise_per_minute: 200,
        ..crate::synth::SynthConfig::default()
    };
    let mut log = Vec::new();
    crate::synth::generate(&cfg, &mut log);
    assert!(log.len() > 4 << 20, "{} bytes", log.len());
    let mut f = tempfile::tempfile().unwrap();
    std::io::Write::write_all(&mut f, &log).unwrap();
    std::io::Seek::rewind(&mut f).unwrap();
    let (mut engine, m) = engine(&["gen"]);
    crate::replay::replay_open_files(&mut engine, 0, std::iter::once(Ok(f))).unwrap();
    let s = engine
        .store
        .summary(&crate::store::filter::Filter::default());
    assert!(s.connects > 1000, "{}", s.connects);
    assert_eq!(m.state().active_by_server(), vec![s.active_total as i64]);
    let text = samples(&m.render(Exposition::Prometheus));
    let started = sum(&text, "pgconn_top_sessions_started_total", &[]);
    let refused = sum(&text, "pgconn_top_sessions_refused_total", &[]);
    assert_eq!(started - refused, s.connects as f64);
}
