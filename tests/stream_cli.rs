//! The real binary: `--stream` follows a file through rotation and prints each event once;
//! `--stream -` reads stdin; `--once` errors are one sentence with exit status 2.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_pgconn-top");

fn connect(pid: u32, app: &str) -> String {
    format!(
        "2026-11-27 20:21:03.093 CET [{pid}] [unknown]@[unknown] LOG:  connection received: host=10.0.0.1 port=5000\n\
         2026-11-27 20:21:03.094 CET [{pid}] app_user@production LOG:  connection authorized: user=app_user database=production application_name={app}\n"
    )
}

fn refused(pid: u32) -> String {
    format!(
        "2026-11-27 20:21:04.093 CET [{pid}] [unknown]@[unknown] LOG:  connection received: host=10.0.0.2 port=5001\n\
         2026-11-27 20:21:04.094 CET [{pid}] limited@analytics LOG:  connection authorized: user=limited database=analytics application_name=etl\n\
         2026-11-27 20:21:04.094 CET [{pid}] limited@analytics FATAL:  too many connections for role \"limited\"\n"
    )
}

fn disconnect(pid: u32) -> String {
    format!("2026-11-27 20:21:05.000 CET [{pid}] app_user@production LOG:  disconnection: session time: 0:00:01.906 user=app_user database=production host=10.0.0.1 port=5000\n")
}

/// A generated three-hour log (no restart, no crash) in `dir`, with its truth.
fn three_hour_log(dir: &std::path::Path) -> (std::path::PathBuf, pgconn_top::synth::Truth) {
    use pgconn_top::synth::{generate, SynthConfig};
    let path = dir.join("long.log");
    let cfg = SynthConfig {
        minutes: 180,
        restart_at: None,
        crash_at: None,
        ..SynthConfig::default()
    };
    let mut f = std::fs::File::create(&path).unwrap();
    (path.clone(), generate(&cfg, &mut f))
}

fn append(path: &std::path::Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// Reads JSON lines from the child until `want` lines arrived or the deadline passes.
fn collect(rx: &mpsc::Receiver<serde_json::Value>, want: usize) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut out = Vec::new();
    while out.len() < want {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(v) => out.push(v),
            Err(_) => panic!("timed out after {} of {want} events: {out:?}", out.len()),
        }
    }
    out
}

#[test]
fn stream_follows_a_file_through_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("postgresql.log");
    let mut seed =
        String::from("2026-11-27 20:21:03.010 CET [4132] LOG:  starting PostgreSQL 15.18\n");
    for pid in 100..120 {
        seed.push_str(&connect(pid, "rails"));
    }
    append(&path, &seed);
    let mut child = Command::new(BIN)
        .args(["--stream", "--json", "--prefix", "%m [%p] %q%u@%d "])
        .arg(&path)
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
                .send(serde_json::from_str::<serde_json::Value>(&line).unwrap())
                .is_err()
            {
                break;
            }
        }
    });
    let first = collect(&rx, 21);
    assert_eq!(first[0]["kind"], "reset");
    assert!(first[1..]
        .iter()
        .all(|e| e["kind"] == "connect" && e["application"] == "rails"));

    // Live appends: a refused session never shows as a connect; a disconnect does.
    append(
        &path,
        &format!(
            "{}{}{}",
            refused(200),
            connect(201, "metabase reporting"),
            disconnect(100)
        ),
    );
    let live = collect(&rx, 3);
    let kinds: Vec<&str> = live.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["failed", "connect", "disconnect"]);
    assert_eq!(live[0]["reason"], "role_limit");
    assert_eq!(live[1]["application"], "metabase reporting");
    assert_eq!(live[2]["duration_s"], 1.906);

    // Rename and create: the new file is followed from its start.
    std::fs::rename(&path, dir.path().join("postgresql.log.1")).unwrap();
    append(
        &path,
        &format!("{}{}", connect(300, "sidekiq"), disconnect(101)),
    );
    let rotated = collect(&rx, 2);
    assert_eq!(rotated[0]["pid"], 300);
    assert_eq!(rotated[1]["pid"], 101);

    // A crash ends every session.
    append(
        &path,
        "2026-11-27 20:22:00.000 CET [4132] LOG:  terminating any other active server processes\n",
    );
    let reset = collect(&rx, 1);
    assert_eq!(reset[0]["kind"], "reset");
    assert_eq!(
        reset[0]["ended"], 20,
        "19 rails left, plus metabase and sidekiq, minus 1"
    );
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn stream_reads_stdin_to_its_end() {
    let mut child = Command::new(BIN)
        .args(["--stream", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let text = format!("{}{}{}", connect(1, "psql"), refused(2), disconnect(1));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.repeat(10).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        s.matches("[+] psql connected from 10.0.0.1").count(),
        10,
        "{s}"
    );
    assert_eq!(
        s.matches("[!] connection failed: role_limit from 10.0.0.2")
            .count(),
        10
    );
    assert_eq!(s.matches("[-] psql disconnected").count(), 10);
    assert!(
        !s.contains("refused"),
        "refused sessions are not printed as connects"
    );
}

#[test]
fn once_errors_are_one_sentence_and_exit_2() {
    let out = Command::new(BIN)
        .args(["--once", "/nonexistent/postgresql.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("/nonexistent/postgresql.log") && err.contains("no such file"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("odd.log");
    std::fs::write(&odd, "hello world\nthis is not a log\n".repeat(20)).unwrap();
    let out = Command::new(BIN).arg("--once").arg(&odd).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("odd.log") && err.contains("--format"), "{err}");

    let custom = dir.path().join("custom.log");
    // A prefix on no list (`[%p] %t | `) is read off its connection lines with no flag.
    std::fs::write(
        &custom,
        "[42] 2026-11-27 20:21:03 UTC | LOG:  connection received: host=x\n".repeat(20),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["--once", "--json"])
        .arg(&custom)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["pending"], 1, "inferred");
    assert_eq!(v["sources"][0]["prefix"], "[%p] %t | ");
    assert_eq!(v["sources"][0]["how"], "inferred");
    // Entries whose prefixes differ line by line are no log_line_prefix at all: a readable
    // file, so exit 0, with one sentence naming --prefix and showing a line.
    let junk = dir.path().join("junk.log");
    let lines: String = ["b&b", "~~?#b~a?", "a~&#b!a", "!c", "?#~"]
        .iter()
        .cycle()
        .take(20)
        .enumerate()
        .map(|(i, j)| format!("{j} LOG:  connection authorized: user=u{i} database=d\n"))
        .collect();
    std::fs::write(&junk, lines).unwrap();
    let out = Command::new(BIN).arg("--once").arg(&junk).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("--prefix") && err.contains("junk.log") && err.contains("b&b"),
        "{err}"
    );
    let out = Command::new(BIN)
        .args(["--once", "--json", "--prefix", "[%p] %t | "])
        .arg(&custom)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sources"][0]["how"], "flag");
    assert_eq!(v["pending"], 1, "--prefix makes an unknown prefix readable");
}

#[test]
fn since_starts_at_the_last_period_of_log_time() {
    let dir = tempfile::tempdir().unwrap();
    let (path, truth) = three_hour_log(dir.path());
    let out = Command::new(BIN)
        .args(["--once", "--json", "--bucket", "1m", "--since", "1h"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cutoff = truth.end_millis - 3_600_000;
    let want: i64 = truth
        .minutes
        .iter()
        .filter(|(m, _)| **m + 60_000 > cutoff)
        .map(|(_, c)| c.connects)
        .sum();
    let got = v["connects"].as_i64().unwrap();
    // The seek lands on the first entry within the hour: at most the first minute differs.
    let first_minute = truth
        .minutes
        .range(cutoff - 60_000..=cutoff)
        .map(|(_, c)| c.connects)
        .sum::<i64>();
    assert!(
        (want - got).abs() <= first_minute.max(1),
        "connects in the last hour: want ~{want}, got {got}"
    );
    let lines = v["lines"]["read"].as_u64().unwrap();
    assert!(
        lines < truth.lines / 2,
        "only the last hour was read ({lines} of {} lines)",
        truth.lines
    );
}

#[test]
fn a_log_that_only_starts_a_server_prints_the_reset() {
    let mut child = Command::new(BIN)
        .args(["--stream", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"2026-11-27 20:21:03.010 CET [4132] LOG:  starting PostgreSQL 15.18\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "reset");
    assert_eq!(v["user"], serde_json::Value::Null);
}

#[test]
fn stream_since_starts_at_the_last_period_of_log_time() {
    let dir = tempfile::tempdir().unwrap();
    let (path, truth) = three_hour_log(dir.path());
    let mut child = Command::new(BIN)
        .args(["--stream", "--json", "--since", "1h"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    let t = chrono::DateTime::parse_from_rfc3339(v["time"].as_str().unwrap())
        .unwrap()
        .timestamp_millis();
    let cutoff = truth.end_millis - 3_600_000;
    assert!(
        t >= cutoff - 1000 && t <= cutoff + 60_000,
        "first event {first} is at the start of the last hour"
    );
}

/// Options that cannot work together, or values the tool cannot honour, are refused in one
/// sentence with exit status 2 instead of being ignored.
#[test]
fn contradictory_or_unusable_options_are_refused() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus/pg15-default/postgresql.log");
    for (args, says) in [
        (&["--once", "--stream"][..], "--stream"),
        (&["--once", "--bucket", "7m"][..], "1m, 5m, 15m or 1h"),
        (&["--once", "--feed-size", "0"][..], "feed-size"),
        (&["--json"][..], "--once"),
    ] {
        let out = Command::new(BIN).args(args).arg(&file).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let out = Command::new(BIN)
        .args(["--once", "--json", "--bucket", "5m"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["history"]["bucket_seconds"], 300);
}

#[test]
fn once_with_a_prefix_that_reads_nothing_names_its_escapes() {
    let log = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus/pg15-debian-berlin/postgresql.log");
    let out = Command::new(BIN)
        .args(["--once", "--prefix", "%x"])
        .arg(&log)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty(), "no snapshot of zeros");
    assert!(err.contains("--prefix '%x' does not fit"), "{err}");
    assert!(err.contains("%x (transaction ID)"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    // The server's own setting still gives the snapshot.
    let ok = Command::new(BIN)
        .args(["--once", "--prefix", "%m [%p] %q%u@%d "])
        .arg(&log)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("Active connections: 15"));
}
