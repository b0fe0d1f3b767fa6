//! Every wrapped and syslog fixture: `detect` names its envelope, and the unwrapped lines are
//! exactly the server's own lines (the plain file of the same run), or, where no plain file
//! was kept (syslog, Cloud SQL), read by the engine into exactly `truth.json`.

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::envelope::{
    detect, detect_at_eof, is_newest_first, read_in_time_order, Context, Detection, Envelope,
    Unwrapper,
};
use pgconn_top::report::{json_report, ReportOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn cx() -> Context {
    Context::utc(2026, 11)
}

/// Unwraps `input` fed in pieces of `step` bytes, as a tailer would (unconsumed bytes kept).
fn unwrap_in_steps(input: &[u8], env: Envelope, step: usize) -> (Vec<u8>, Unwrapper) {
    let mut u = Unwrapper::new(env, cx());
    let mut out = Vec::new();
    let mut carry: Vec<u8> = Vec::new();
    for piece in input.chunks(step.max(1)) {
        carry.extend_from_slice(piece);
        let used = u.unwrap(&carry, false, &mut out);
        carry.drain(..used);
    }
    let used = u.unwrap(&carry, true, &mut out);
    assert_eq!(used, carry.len(), "eof consumes everything");
    (out, u)
}

fn unwrap_all(input: &[u8], env: Envelope) -> Vec<u8> {
    let (whole, u) = unwrap_in_steps(input, env, usize::MAX);
    let (pieces, _) = unwrap_in_steps(input, env, 997);
    assert_eq!(
        String::from_utf8_lossy(&whole),
        String::from_utf8_lossy(&pieces),
        "{env:?}: the same lines whatever the read sizes"
    );
    assert_eq!(u.stats().not_understood, 0, "{env:?}: {:?}", u.stats());
    whole
}

fn decided(sample: &[u8]) -> Envelope {
    match detect(&sample[..sample.len().min(64 * 1024)]) {
        Detection::Decided(e) => e,
        Detection::Undecided => panic!("undecided on 64 KiB"),
    }
}

const BERLIN: &str = "corpus/pg15-debian-berlin";
const PHASES: [(&str, &str); 2] = [
    ("postgresql", "truth.json"),
    ("postgresql.after-restart", "truth-after-restart.json"),
];

#[test]
fn detect_names_every_fixture() {
    let cases = [
        ("wrapped/docker-json", "json", Envelope::DockerJson),
        ("wrapped/kubectl-ts", "log", Envelope::Timestamped),
        ("wrapped/cri", "log", Envelope::Cri),
        ("wrapped/journald-json", "json", Envelope::JournaldJson),
        ("wrapped/journald-short", "log", Envelope::JournaldShort),
        ("wrapped/cnpg", "json", Envelope::Cnpg),
        ("wrapped/cloudsql", "json", Envelope::CloudLogging),
        ("syslog/pg15-syslog-default", "syslog", Envelope::Syslog3164),
        (
            "syslog/pg15-syslog-default",
            "syslog5424",
            Envelope::Syslog5424,
        ),
        (
            "syslog/pg15-syslog-default",
            "syslog3339",
            Envelope::Syslog3339,
        ),
    ];
    for (dir, ext, want) in cases {
        for (phase, _) in PHASES {
            let rel = format!("{dir}/{phase}.{ext}");
            assert_eq!(decided(&read(&rel)), want, "{rel}");
        }
    }
    for dir in [
        "pg15-debian-berlin",
        "pg15-default",
        "pg15-pgbadger",
        "pg15-rds-newyork",
    ] {
        for ext in ["log", "csv", "json"] {
            let rel = format!("corpus/{dir}/postgresql.{ext}");
            assert_eq!(decided(&read(&rel)), Envelope::Plain, "{rel}");
        }
    }
    let few = b"2026-11-27T19:21:03.010000000Z stderr F x\n";
    assert_eq!(detect(few), Detection::Undecided);
    assert_eq!(detect_at_eof(few), Envelope::Cri);
}

#[test]
fn container_and_journald_envelopes_give_back_the_servers_lines() {
    let cases = [
        ("wrapped/docker-json", "json", Envelope::DockerJson),
        ("wrapped/kubectl-ts", "log", Envelope::Timestamped),
        ("wrapped/cri", "log", Envelope::Cri),
        ("wrapped/journald-json", "json", Envelope::JournaldJson),
        ("wrapped/journald-short", "log", Envelope::JournaldShort),
    ];
    for (dir, ext, env) in cases {
        for (phase, _) in PHASES {
            let got = unwrap_all(&read(&format!("{dir}/{phase}.{ext}")), env);
            let want = read(&format!("{BERLIN}/{phase}.log"));
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want),
                "{dir} {phase}"
            );
            assert_eq!(env.synthetic_prefix(), "");
        }
    }
}

#[test]
fn cri_partial_lines_are_joined() {
    let src = read("wrapped/cri/postgresql.log");
    let mut split = Vec::new();
    for (i, line) in src.split_inclusive(|&b| b == b'\n').enumerate() {
        let line = std::str::from_utf8(line).unwrap();
        let (head, body) = line.split_at(31);
        let body = body.strip_prefix("stderr F ").unwrap();
        let cut = (i * 7) % body.len().max(1);
        let cut = (0..=cut).rev().find(|&c| body.is_char_boundary(c)).unwrap();
        if cut > 0 && i % 3 != 0 {
            split.extend_from_slice(format!("{head}stderr P {}\n", &body[..cut]).as_bytes());
            split.extend_from_slice(format!("{head}stdout F interleaved\n").as_bytes());
        }
        split.extend_from_slice(
            format!(
                "{head}stderr F {}",
                if cut > 0 && i % 3 != 0 {
                    &body[cut..]
                } else {
                    body
                }
            )
            .as_bytes(),
        );
    }
    let got = unwrap_all(&split, Envelope::Cri);
    let want = read(&format!("{BERLIN}/postgresql.log"));
    let got: Vec<&[u8]> = got
        .split(|&b| b == b'\n')
        .filter(|l| *l != b"interleaved")
        .collect();
    let want: Vec<&[u8]> = want.split(|&b| b == b'\n').collect();
    assert_eq!(got, want);
}

#[test]
fn journald_message_byte_arrays_are_read() {
    let src = String::from_utf8(read("wrapped/journald-json/postgresql.json")).unwrap();
    let mut arrays = 0;
    let mut out = String::new();
    for (i, line) in src.lines().enumerate() {
        let mut v: Value = serde_json::from_str(line).unwrap();
        if i % 2 == 0 {
            let bytes: Vec<Value> = v["MESSAGE"]
                .as_str()
                .unwrap()
                .bytes()
                .map(Value::from)
                .collect();
            v["MESSAGE"] = Value::Array(bytes);
            arrays += 1;
        }
        out.push_str(&v.to_string());
        out.push('\n');
    }
    assert!(arrays > 100);
    assert_eq!(decided(out.as_bytes()), Envelope::JournaldJson);
    let got = unwrap_all(out.as_bytes(), Envelope::JournaldJson);
    assert_eq!(got, read(&format!("{BERLIN}/postgresql.log")));
    // Not UTF-8 at all: the bytes come through as they are.
    let raw = br#"{"MESSAGE":[50,48,50,54,45,49,49,45,50,55,32,50,48,58,50,49,58,48,51,46,48,57,52,32,67,69,84,32,91,52,49,52,48,93,32,76,79,71,58,32,32,255]}"#;
    assert_eq!(
        unwrap_all(raw, Envelope::JournaldJson),
        b"2026-11-27 20:21:03.094 CET [4140] LOG:  \xff\n"
    );
}

/// The jsonlog keys a CloudNativePG record carries.
const CNPG_KEYS: [&str; 12] = [
    "timestamp",
    "user",
    "dbname",
    "pid",
    "remote_host",
    "remote_port",
    "session_id",
    "error_severity",
    "message",
    "application_name",
    "detail",
    "backend_type",
];

#[test]
fn cloudnativepg_records_become_the_servers_jsonlog_entries() {
    for (phase, truth) in PHASES {
        let src = read(&format!("wrapped/cnpg/{phase}.json"));
        let (got, u) = unwrap_in_steps(&src, Envelope::Cnpg, 4096);
        let want = String::from_utf8(read(&format!("{BERLIN}/{phase}.json"))).unwrap();
        let got = String::from_utf8(got).unwrap();
        assert_eq!(got.lines().count(), want.lines().count(), "{phase}");
        for (g, w) in got.lines().zip(want.lines()) {
            let g: Value = serde_json::from_str(g).unwrap_or_else(|e| panic!("{e}: {g}"));
            let w: Value = serde_json::from_str(w).unwrap();
            for k in CNPG_KEYS {
                assert_eq!(g[k], w[k], "{phase}: {k} of {w}");
            }
        }
        let s = u.stats();
        assert_eq!(
            s.skipped,
            src.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count() as u64
                - want.lines().count() as u64
        );
        assert_eq!(s.not_understood, 0);
        check_truth(
            &engine_report(got.as_bytes(), "x.json", None),
            &fixtures().join("wrapped/cnpg").join(truth),
            phase == "postgresql",
        );
    }
}

fn engine_report(norm: &[u8], label: &str, prefix: Option<&str>) -> Value {
    let mut engine = Engine::new(EngineConfig {
        prefix: prefix.map(str::to_string),
        ..EngineConfig::default()
    });
    let id = engine.add_source(label);
    engine.feed(id, norm).expect("feeds");
    engine.finish(id).expect("finishes");
    json_report(&engine, &ReportOptions::default())
}

fn active_set(v: &Value) -> Vec<String> {
    let mut a: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {} {} {} {}",
                s["pid"], s["user"], s["database"], s["application"], s["host"]
            )
        })
        .collect();
    a.sort();
    a
}

/// The engine's figures from the unwrapped lines equal the server's truth.
fn check_truth(got: &Value, truth: &Path, full: bool) {
    let t: Value = serde_json::from_str(&std::fs::read_to_string(truth).unwrap()).unwrap();
    let name = truth.display();
    assert_eq!(
        active_set(&got["active"]),
        active_set(&t["active"]),
        "{name}: active"
    );
    for key in [
        "active_total",
        "by_database",
        "by_user",
        "by_application",
        "by_host",
    ] {
        assert_eq!(got[key], t[key], "{name}: {key}");
    }
    assert_eq!(got["lines"]["unparsed"], 0, "{name}: unparsed");
    if full {
        for key in ["connects", "disconnects", "terminated"] {
            assert_eq!(got[key], t[key], "{name}: {key}");
        }
        let total: u64 = t["failures"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(got["failures"]["total"], total, "{name}: failures");
    }
}

#[path = "envelope_readers/cloud.rs"]
mod cloud;
#[path = "envelope_readers/syslog.rs"]
mod syslog;

/// Prefixes of every kind (the issue's list): a log written with them is `Plain`, and the
/// same log inside Docker, kubectl and CRI envelopes comes back byte for byte.
#[test]
fn any_prefix_is_plain_and_survives_the_container_envelopes() {
    use pgconn_top::synth::{generate, SynthConfig};
    let prefixes = [
        "%m [%p] %q%u@%d ",
        "%t [%p]: db=%d,user=%u,app=%a,client=%h ",
        "%t-%c-",
        "%m %u@%d(%p) %a: ",
        "time=%m pid=%p user=%u db=%d app=%a ",
        "< %m > ",
        "",
        "[%p] %m ",
        "%n [%p] ",
        "%m [%p]: [%l-1] db=%d,user=%u ",
    ];
    for prefix in prefixes {
        let cfg = SynthConfig {
            minutes: 8,
            prefix: prefix.into(),
            ..SynthConfig::default()
        };
        let mut log = Vec::new();
        generate(&cfg, &mut log);
        assert!(
            log.len() > 20_000 && log.windows(2).any(|w| w == b"\n\t"),
            "{prefix:?}: entries and continuations"
        );
        assert_eq!(decided(&log), Envelope::Plain, "{prefix:?}");
        let (mut docker, mut kubectl, mut cri) = (Vec::new(), Vec::new(), Vec::new());
        for line in String::from_utf8(log.clone()).unwrap().lines() {
            let t = "2026-11-27T19:21:03.010000000Z";
            let rec =
                serde_json::json!({"log": format!("{line}\n"), "stream": "stderr", "time": t});
            docker.extend_from_slice(format!("{rec}\n").as_bytes());
            kubectl.extend_from_slice(format!("{t} {line}\n").as_bytes());
            cri.extend_from_slice(format!("{t} stderr F {line}\n").as_bytes());
        }
        for (wrapped, env) in [
            (docker, Envelope::DockerJson),
            (kubectl, Envelope::Timestamped),
            (cri, Envelope::Cri),
        ] {
            assert_eq!(decided(&wrapped), env, "{prefix:?}");
            assert_eq!(unwrap_all(&wrapped, env), log, "{prefix:?} {env:?}");
        }
    }
}

#[test]
fn plain_lines_mixed_in_pass_through_and_the_rest_is_counted() {
    let input = concat!(
        "{\"log\":\"2026-11-27 20:21:03.010 CET [4132] LOG:  one\\n\",\"stream\":\"stderr\"}\n",
        "2026-11-27 20:21:04.000 CET [4133] FATAL:  database \"x\" does not exist\n",
        "\tcontinued\n",
        "some banner the entrypoint printed\n",
        "\tnot after a plain line\n",
        "{\"log\":\"2026-11-27 20:21:05.010 CET [4132] LOG:  two\\n\",\"stream\":\"stderr\"}\n",
    );
    let mut u = Unwrapper::new(Envelope::DockerJson, cx());
    let mut out = Vec::new();
    u.unwrap(input.as_bytes(), true, &mut out);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "2026-11-27 20:21:03.010 CET [4132] LOG:  one\n2026-11-27 20:21:04.000 CET [4133] FATAL:  database \"x\" does not exist\n\tcontinued\n2026-11-27 20:21:05.010 CET [4132] LOG:  two\n"
    );
    let s = u.stats();
    assert_eq!(
        (s.records, s.lines_out, s.passed_through, s.not_understood),
        (6, 4, 2, 2)
    );
    assert_eq!(
        s.example.as_deref(),
        Some("some banner the entrypoint printed")
    );
}
