//! Prefix inference: every stderr file of the corpus (real PostgreSQL 13, 15, 17, 18) infers the
//! server's own setting; the issue's prefixes and random ones, rendered by the generator, are
//! inferred and then the whole log parses to the generator's truth; a freshly started server
//! stays undecided until a session line arrives; hostile samples cost bounded time.

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::parse::infer::{infer_prefix, Inference};
use pgconn_top::store::filter::Filter;
use pgconn_top::synth::{generate, SynthConfig, Truth};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The sample size the engine buffers before it decides.
const SAMPLE: usize = 64 << 10;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn decided(sample: &[u8]) -> (String, usize, bool) {
    match infer_prefix(sample) {
        Inference::Decided { prefix, evidence } => {
            (prefix.as_str().to_string(), evidence, prefix.has_pid())
        }
        other => panic!("not decided: {other:?}"),
    }
}

fn head(bytes: &[u8]) -> &[u8] {
    let cut = bytes.len().min(SAMPLE);
    // Complete lines only, as the caller gives them.
    let end = bytes[..cut]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(cut, |i| i + 1);
    &bytes[..end]
}

#[test]
fn corpus_files_infer_the_servers_setting() {
    let mut checked = 0;
    for set in ["corpus", "infer"] {
        for dir in std::fs::read_dir(fixtures().join(set)).unwrap() {
            let dir = dir.unwrap().path();
            // Folders of recorded logs hold their truth; groups (syslog/, wrapped/) do not.
            if !dir.join("truth.json").is_file() || !dir.join("postgresql.log").is_file() {
                continue;
            }
            let truth: serde_json::Value =
                serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
            let want = truth["log_line_prefix"].as_str().unwrap();
            for f in ["postgresql.log", "postgresql.after-restart.log"] {
                let bytes = std::fs::read(dir.join(f)).unwrap();
                let (got, evidence, pid) = decided(head(&bytes));
                assert_eq!(got, want, "{}/{f}", dir.display());
                assert!(pid && evidence > 100, "{}/{f}: {evidence}", dir.display());
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 14, "4 real and 3 versions folders, 2 files each");
}

/// Postmaster lines of a freshly started Debian server, where `%q` hides the rest.
const FRESH: &str = "\
2026-11-29 08:54:10.190 UTC [26476] LOG:  starting PostgreSQL 17.10 on x86_64-pc-linux-gnu, compiled by gcc, 64-bit
2026-11-29 08:54:10.191 UTC [26476] LOG:  listening on IPv4 address \"127.0.0.1\", port 5432
2026-11-29 08:54:10.195 UTC [26476] LOG:  listening on Unix socket \"/var/run/postgresql/.s.PGSQL.5432\"
2026-11-29 08:54:10.199 UTC [26480] LOG:  database system was shut down at 2026-11-29 08:54:09 UTC
2026-11-29 08:54:10.202 UTC [26476] LOG:  database system is ready to accept connections
";

#[test]
fn fresh_server_is_undecided_until_a_session_line() {
    assert_eq!(infer_prefix(FRESH.as_bytes()), Inference::Undecided);
    assert_eq!(infer_prefix(b""), Inference::Undecided);
    let more = format!("{FRESH}2026-11-29 08:54:10.277 UTC [26487] app user@my db LOG:  connection authorized: user=app user database=my db application_name=psql\n");
    let (p, evidence, pid) = decided(more.as_bytes());
    assert_eq!((p.as_str(), evidence, pid), ("%m [%p] %q%u@%d ", 1, true));
    let received = format!("{FRESH}2026-11-29 08:54:10.276 UTC [26487] [unknown]@[unknown] LOG:  connection received: host=10.1.2.3 port=5555\n");
    assert_eq!(decided(received.as_bytes()).0, "%m [%p] %q%u@%d ");
}

#[test]
fn not_a_log_and_failed() {
    let r = infer_prefix(b"hello world\nthis is not a log\n");
    assert_eq!(
        r,
        Inference::NotALog {
            example: b"hello world".to_vec()
        }
    );
    // Connection lines whose prefix holds none of the values of their message in a form
    // any candidate explains: two lines, two different shapes.
    let odd = b"x LOG:  connection received: host=1.2.3.4 port=5\nyy zz LOG:  connection received: host=1.2.3.4 port=6\nqqq LOG:  connection authorized: user=a database=b\n";
    assert!(matches!(infer_prefix(odd), Inference::Failed { .. }));
}

fn small(prefix: &str, seed: u64) -> SynthConfig {
    SynthConfig {
        seed,
        minutes: 40,
        prefix: prefix.into(),
        noise_per_minute: 6,
        restart_at: Some(15),
        crash_at: Some(30),
        ..SynthConfig::default()
    }
}

/// Generates a log, infers its prefix from the first 64 KiB, replays the whole log with it.
fn infer_and_replay(cfg: &SynthConfig) -> (String, Engine, Truth) {
    let mut bytes = Vec::new();
    let truth = generate(cfg, &mut bytes);
    let prefix = match infer_prefix(head(&bytes)) {
        Inference::Decided { prefix, .. } => prefix.as_str().to_string(),
        other => panic!("{:?}: not decided: {other:?}", cfg.prefix),
    };
    let mut e = Engine::new(EngineConfig {
        prefix: Some(prefix.clone()),
        ..EngineConfig::default()
    });
    let id = e.add_source("synth.log");
    e.read_to_end(id, &bytes[..]).expect("replays");
    (prefix, e, truth)
}

/// The engine's figures equal the generator's truth.
fn check(e: &Engine, t: &Truth, label: &str) {
    let f = Filter::default();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let got: BTreeMap<u32, (String, String, Option<String>, String)> = e
        .store
        .active_sessions(&f)
        .into_iter()
        .map(|s| {
            let app = s.application.as_deref().map(text);
            (
                s.pid,
                (text(&s.user), text(&s.database), app, text(&s.host)),
            )
        })
        .collect();
    let want: BTreeMap<u32, (String, String, Option<String>, String)> = t
        .active
        .iter()
        .map(|(p, s)| {
            let v = (s.user.clone(), s.database.clone());
            (*p, (v.0, v.1, s.application.clone(), s.host.clone()))
        })
        .collect();
    assert_eq!(got, want, "{label}: active set");
    let s = e.store.summary(&f);
    assert_eq!(
        (s.connects, s.disconnects, s.lost),
        (t.connects, t.disconnects, t.lost),
        "{label}: connects, disconnects, lost"
    );
    let failures: BTreeMap<&str, u64> = s
        .failures_by_reason
        .iter()
        .map(|(r, n)| (r.key(), *n))
        .collect();
    let want_failures: BTreeMap<&str, u64> = t.failures.iter().map(|(k, v)| (*k, *v)).collect();
    assert_eq!(failures, want_failures, "{label}: failures");
    assert_eq!(e.line_stats().unparsed, 0, "{label}: unparsed");
}

/// The prefixes the issue names, and where the inferred setting may differ from the server's
/// (an equivalent one that parses every line the same).
const ISSUE_PREFIXES: [(&str, &str); 11] = [
    ("%t [%p]: db=%d,user=%u,app=%a,client=%h ", ""),
    ("%t-%c-", ""),
    ("%m %u@%d(%p) %a: ", ""),
    ("time=%m pid=%p user=%u db=%d app=%a client=%h ", ""),
    ("[%m] [%p] [%u] [%d] ", ""),
    // The syslog inner prefix behind the envelope layer's synthetic `%m [%p] `.
    ("%m [%p] user=%u,db=%d,app=%a,client=%h ", ""),
    // Cloud SQL's. The generator prints `%l` as 1 on every line, which reads as literal text
    // (real lines, where `%l` grows, infer `[%l-1]`: see `cloud_sql_line_numbers` below).
    (
        "%m [%p]: [%l-1] db=%d,user=%u ",
        "%m [%p]: [1-1] db=%d,user=%u ",
    ),
    ("%m [%p] %q%u@%d ", ""),
    ("%m [%p] ", ""),
    (
        "%m:%r:%u@%d:[%p]:%q %e %v %x ",
        "%m:%r:%u@%d:[%p]:%q %e %v %x ",
    ),
    // Padded: ten spaces between a user and a database, all padding on one line and on the
    // next, cannot be dealt between `%-12u`, a space and `%10d` by anyone; the widths read
    // off the lines trim every name alike.
    ("%m [%-7p] %-12u %10d ", "%m [%-7p] %-11u %11d "),
];

#[test]
fn issue_prefixes_are_inferred_and_parse_exactly() {
    for (i, (p, alt)) in ISSUE_PREFIXES.iter().enumerate() {
        let (got, e, t) = infer_and_replay(&small(p, i as u64 + 1));
        let want = if alt.is_empty() { p } else { alt };
        assert_eq!(&got, want, "{p}");
        check(&e, &t, p);
        assert!(t.connects > 50, "{p}: the log holds sessions");
    }
}

#[test]
fn prefixes_without_a_process_id() {
    for p in ["< %m > ", "", "%t %u@%d "] {
        let mut bytes = Vec::new();
        generate(&small(p, 3), &mut bytes);
        let (got, evidence, pid) = decided(head(&bytes));
        assert_eq!(got, p);
        assert!(!pid && evidence > 10, "{p}: {evidence}");
    }
}

/// Literal text that may follow a free-text escape (`%u %d %a %h %r %b %i`): it must not occur
/// inside any value the escape can print, or no one could tell where the value ends.
const AFTER_FREE: [&str; 17] = [
    "@", "|", ", ", ": ", "] ", ") ", " db=", " app=", " user=", " client=", " pid=", ";", " / ",
    " - ", "#", " => ", "} ",
];
/// Literal text that may follow any other escape (or start the prefix).
const AFTER_FIXED: [&str; 7] = [" ", " [", "<", " time=", "~", "-", " ("];
/// Escapes drawn for random prefixes (`%P` prints nothing in generated lines).
const ESCAPES: [char; 20] = [
    'a', 'u', 'd', 'r', 'h', 'b', 'p', 'P', 't', 'm', 'n', 'i', 'e', 'c', 'l', 's', 'v', 'x', 'Q',
    'q',
];

fn is_free(c: char) -> bool {
    matches!(c, 'a' | 'u' | 'd' | 'h' | 'r' | 'b' | 'i')
}

/// Builds a prefix from drawn escapes and literal choices. Constraints (each would make the
/// lines ambiguous for anyone, PostgreSQL's own readers included): every escape at most once;
/// a literal between any two escapes (`%p%l` or `%u%d` cannot be split); after a free-text
/// escape, literal text its values never hold; a process id (`%p` or `%c`) present, since
/// without one sessions cannot be told apart (tested separately), and before `%q`, since the
/// engine reads a restart from the postmaster's lines only with their pid.
fn build_prefix(escapes: &[usize], lits: &[usize], start: usize, end: usize) -> String {
    let mut seen = Vec::new();
    let mut s = String::new();
    if start.is_multiple_of(3) {
        s.push_str(AFTER_FIXED[start % AFTER_FIXED.len()].trim_start());
    }
    let mut prev: Option<char> = None;
    for (k, &e) in escapes.iter().enumerate() {
        let c = ESCAPES[e % ESCAPES.len()];
        // `%q` only after the process id: postmaster lines need their pid for restarts.
        if seen.contains(&c) || (c == 'q' && !seen.contains(&'p') && !seen.contains(&'c')) {
            continue;
        }
        seen.push(c);
        if let Some(p) = prev {
            if c != 'q' {
                let l = lits[k % lits.len()];
                s.push_str(if is_free(p) {
                    AFTER_FREE[l % AFTER_FREE.len()]
                } else {
                    let all = AFTER_FIXED.len() + AFTER_FREE.len();
                    match l % all {
                        i if i < AFTER_FIXED.len() => AFTER_FIXED[i],
                        i => AFTER_FREE[i - AFTER_FIXED.len()],
                    }
                });
            }
        }
        s.push('%');
        // Padding on some escapes (drawn from the literal choice).
        let pad = lits[(k + 1) % lits.len()];
        if c != 'q' && pad.is_multiple_of(5) {
            s.push_str(&format!(
                "{}{}",
                if pad.is_multiple_of(2) { "-" } else { "" },
                4 + pad % 9
            ));
        }
        s.push(c);
        if c != 'q' {
            prev = Some(c);
        }
    }
    if !seen.contains(&'p') && !seen.contains(&'c') {
        s.push_str(" [%p]");
        prev = Some('p');
    }
    let tail = [" ", ": ", "] ", ""][end % 4];
    s.push_str(if prev.is_some_and(is_free) && tail.is_empty() {
        " "
    } else {
        tail
    });
    s
}

#[test]
fn a_padding_that_empty_values_contradict_is_dropped() {
    // Found by the random test below: `23/0` then `%11l` (always 1 in generated logs) read as
    // `%-4v` and literal spaces, which `connection received` lines, with `%v` still empty,
    // contradict; the replay then missed every `connection received`.
    for prefix in ["%11a|%v %11l [%p] ", "%11n db=%v %11l [%p]] "] {
        let (got, e, t) = infer_and_replay(&small(prefix, 1));
        check(&e, &t, &format!("{prefix:?} inferred as {got:?}"));
    }
}

mod random {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // 48 cases by default (a few seconds); `PROPTEST_CASES=2000` for a longer hunt.
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn random_prefixes_are_inferred_and_parse_exactly(
            escapes in proptest::collection::vec(0usize..100, 1..7),
            lits in proptest::collection::vec(0usize..1000, 1..8),
            start in 0usize..100,
            end in 0usize..100,
            seed in 1u64..1000,
        ) {
            let prefix = build_prefix(&escapes, &lits, start, end);
            let (got, e, t) = infer_and_replay(&small(&prefix, seed));
            check(&e, &t, &format!("{prefix:?} inferred as {got:?}"));
        }
    }
}

#[test]
fn cloud_sql_line_numbers_and_azure_session_ids() {
    // Real shape: `%l` counts a backend's lines (1 on `connection received`), `-1` is literal.
    let cloud = "\
2026-11-29 08:50:45.755 UTC [9169]: [1-1] db=,user= LOG:  database system is ready to accept connections
2026-11-29 08:50:46.001 UTC [9201]: [1-1] db=[unknown],user=[unknown] LOG:  connection received: host=10.0.0.7 port=40022
2026-11-29 08:50:46.004 UTC [9201]: [2-1] db=shop,user=app LOG:  connection authorized: user=app database=shop application_name=web
2026-11-29 08:50:46.101 UTC [9202]: [1-1] db=[unknown],user=[unknown] LOG:  connection received: host=10.0.0.8 port=40023
2026-11-29 08:50:46.104 UTC [9202]: [2-1] db=postgres,user=cloudsqladmin LOG:  connection authorized: user=cloudsqladmin database=postgres
2026-11-29 08:50:47.500 UTC [9201]: [7-1] db=shop,user=app LOG:  disconnection: session time: 0:00:01.499 user=app database=shop host=10.0.0.7 port=40022
";
    assert_eq!(
        decided(cloud.as_bytes()).0,
        "%m [%p]: [%l-1] db=%d,user=%u "
    );
    let azure = "\
2026-11-29 08:50:45 UTC-6b0a8a95.23d1-LOG:  database system is ready to accept connections
2026-11-29 08:50:46 UTC-6b0a8a96.23f1-LOG:  connection received: host=10.0.0.7 port=40022
2026-11-29 08:50:46 UTC-6b0a8a96.23f1-LOG:  connection authorized: user=app database=shop application_name=web
2026-11-29 08:50:47 UTC-6b0a8a96.23f1-LOG:  disconnection: session time: 0:00:01.499 user=app database=shop host=10.0.0.7 port=40022
2026-11-29 08:50:47 UTC-6b0a8a97.23fa-FATAL:  password authentication failed for user \"app\"
";
    let (p, evidence, pid) = decided(azure.as_bytes());
    assert_eq!((p.as_str(), evidence, pid), ("%t-%c-", 4, true));
}

/// A log of `'%m [%p] %q%u@%d '` whose names carry the prefix's own text and severity tags.
fn hostile_names_log() -> String {
    let mut s = String::from(FRESH);
    let names = [
        ("x LOG:  y", "db"),
        ("a@b", "c@d"),
        ("] [1] ", "LOG:  connection authorized: user=z"),
        ("bob", "shop"),
    ];
    for (i, (u, d)) in names.iter().cycle().take(40).enumerate() {
        let pid = 30000 + i;
        s.push_str(&format!("2026-11-29 08:55:{:02}.100 UTC [{pid}] [unknown]@[unknown] LOG:  connection received: host=10.0.0.{i} port={}\n", i % 60, 1000 + i));
        s.push_str(&format!("2026-11-29 08:55:{:02}.101 UTC [{pid}] {u}@{d} LOG:  connection authorized: user={u} database={d}\n", i % 60));
    }
    s
}

#[test]
fn hostile_samples_are_bounded_and_never_panic() {
    // Names holding the prefix's literal text and severity tags: the honest lines still decide.
    let (p, evidence, _) = decided(hostile_names_log().as_bytes());
    assert_eq!(p, "%m [%p] %q%u@%d ");
    assert!(evidence >= 40, "{evidence}");

    // A 1 MiB line (one giant connection message), invalid UTF-8, and 64 KiB of lines that
    // each look like a connection line under a different prefix.
    let mut big = Vec::from(&b"2026-11-29 08:55:00.100 UTC [1] "[..]);
    big.extend(std::iter::repeat_n(b'x', 1 << 20));
    big.extend_from_slice(b" LOG:  connection authorized: user=");
    big.extend(std::iter::repeat_n(b'@', 1 << 20));
    big.push(b'\n');
    let mut junk = Vec::new();
    let mut i = 0u32;
    while junk.len() < SAMPLE {
        junk.extend_from_slice(format!("{}{} ", "%".repeat((i % 7) as usize), i * 7919).as_bytes());
        junk.extend_from_slice(b"\xff\xfe[");
        junk.extend_from_slice(format!("{i}] ").as_bytes());
        junk.extend_from_slice(b"LOG:  connection received: host=\xc3\x28 port=1\n");
        i += 1;
    }
    let mut mixed = hostile_names_log().into_bytes();
    mixed.extend_from_slice(&big);
    for sample in [&big[..], &junk[..], &mixed[..]] {
        let t = Instant::now();
        let r = infer_prefix(sample);
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        if let Inference::Failed { example } | Inference::NotALog { example } = &r {
            assert!(example.len() <= pgconn_top::parse::infer::MAX_EXAMPLE);
        }
    }
    assert_eq!(decided(&mixed).0, "%m [%p] %q%u@%d ");
}

/// Median time of `infer_prefix` on a 64 KiB sample of each corpus file (run with
/// `cargo test --release --test prefix_inference -- --ignored --nocapture`).
#[test]
#[ignore]
fn measure_inference_time() {
    let mut samples: Vec<(String, Vec<u8>)> = [
        "corpus/pg15-debian-berlin",
        "corpus/pg15-pgbadger",
        "corpus/pg15-rds-newyork",
        "infer/pg18-all",
    ]
    .iter()
    .map(|d| {
        let bytes = std::fs::read(fixtures().join(d).join("postgresql.log")).unwrap();
        (d.to_string(), head(&bytes).to_vec())
    })
    .collect();
    for p in [
        "%m [%-7p] %-12u %10d ",
        "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    ] {
        let mut bytes = Vec::new();
        generate(&small(p, 9), &mut bytes);
        samples.push((format!("generated {p:?}"), head(&bytes).to_vec()));
    }
    for (name, sample) in &samples {
        let mut times: Vec<Duration> = (0..101)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(infer_prefix(std::hint::black_box(sample)));
                t.elapsed()
            })
            .collect();
        times.sort();
        let lines = sample.iter().filter(|&&c| c == b'\n').count();
        eprintln!(
            "{name}: {} KiB, {lines} lines: median {:?}, max {:?}",
            sample.len() >> 10,
            times[50],
            times[100]
        );
    }
}

/// The inner lines of the syslog and Cloud SQL corpus as the envelope layer hands them on,
/// behind its synthetic `%m [%p] ` (`tests/fixtures/infer/*-inner.log`, 64 KiB each).
#[test]
fn envelope_inner_lines() {
    for (file, want) in [
        (
            "syslog-inner.log",
            "%m [%p] user=%u,db=%d,app=%a,client=%h ",
        ),
        ("cloudsql-inner.log", "%m [%p]: [%l-1] db=%d,user=%u "),
    ] {
        let bytes = std::fs::read(fixtures().join("infer").join(file)).unwrap();
        let (got, evidence, pid) = decided(&bytes);
        assert_eq!(got, want, "{file}");
        assert!(pid && evidence > 100, "{file}: {evidence}");
    }
}
