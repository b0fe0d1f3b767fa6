//! Servers as sources, end to end.
//!
//! - A fleet file (tests/fixtures/fleet/two.toml) of two corpus servers: `--once --json` counts
//!   each server's open sessions as its `truth.json` does, with its own restart state.
//! - Two real PostgreSQL servers the test starts, followed by `--stream --json` as two labelled
//!   sources, `b` through a `!tail -F -n +1` command source. Sessions open on both, then `b`
//!   restarts (`pg_ctl restart -m fast`): only `b`'s sessions end, and at the end the open
//!   sessions per server (from the streamed events, each naming its `server`) equal each
//!   server's `pg_stat_activity` client backends.
//!
//! Without a PostgreSQL build or psql the second test says why and returns; with `CI=true` it fails.

#[path = "support/corpus.rs"]
#[allow(dead_code)]
mod corpus;
#[path = "support/pg.rs"]
mod pg;

use pg::{Server, Via};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_pgconn-top");

fn truth(folder: &str, file: &str) -> Value {
    corpus::read_json(&corpus::corpus().join(folder).join(file))
}

#[test]
fn a_fleet_file_of_two_corpus_servers() {
    let fleet = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fleet/two.toml");
    let v = corpus::once_json(&fleet, &["--fleet"]).unwrap_or_else(|e| panic!("{e}"));
    let servers = v["servers"].as_array().expect("a servers section");
    let names: Vec<&str> = servers
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["berlin", "nyc"]);
    let berlin = truth("pg15-debian-berlin", "truth.json");
    let nyc = truth("pg15-rds-newyork", "truth-after-restart.json");
    assert_eq!(servers[0]["active_total"], berlin["active_total"]);
    assert_eq!(servers[1]["active_total"], nyc["active_total"]);
    assert_eq!(
        v["active_total"].as_u64().unwrap(),
        berlin["active_total"].as_u64().unwrap() + nyc["active_total"].as_u64().unwrap()
    );
    // Each keeps its own state: only nyc's log holds a restart after its start.
    assert!(servers[0]["up_since"].is_string());
    assert!(servers[1]["up_since"].is_string());
    assert_ne!(servers[0]["up_since"], servers[1]["up_since"]);
    assert_ne!(servers[0]["log_time"], servers[1]["log_time"]);
    // The fleet file's settings were used: berlin's prefix came from it, nyc read as csvlog.
    let sources = v["sources"].as_array().unwrap();
    assert_eq!(sources[0]["prefix"], "%m [%p] %q%u@%d ");
    assert_eq!(sources[0]["how"], "flag");
    assert_eq!(sources[1]["format"], "csvlog");

    // A fleet server whose source is a command, merged with a positional labelled one: with
    // --once the command runs once and is read to its end.
    let dir = tempfile::tempdir().unwrap();
    let corpus = corpus::corpus();
    let cmd_fleet = dir.path().join("fleet.toml");
    std::fs::write(
        &cmd_fleet,
        format!(
            "[[server]]\nname = \"viassh\"\nsource = \"!cat '{}'\"\n",
            corpus.join("pg15-debian-berlin/postgresql.log").display()
        ),
    )
    .unwrap();
    let nyc_arg = format!(
        "nyc={}",
        corpus.join("pg15-rds-newyork/postgresql.log").display()
    );
    let fleet_arg = cmd_fleet.to_str().unwrap();
    let v = corpus::once_json(Path::new(&nyc_arg), &["--fleet", fleet_arg])
        .unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = v["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["viassh", "nyc"]);
    assert_eq!(v["servers"][0]["active_total"], berlin["active_total"]);
    let nyc_before = truth("pg15-rds-newyork", "truth.json");
    assert_eq!(v["servers"][1]["active_total"], nyc_before["active_total"]);

    // An error names the file, the line and the key.
    let bad = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        bad.path(),
        "[[server]]\nname = \"a\"\nsource = \"/x\"\nformat = \"xml\"\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["--once", "--fleet"])
        .arg(bad.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:4: key `format`", bad.path().display())),
        "{err}"
    );
}

/// A started server logging connections to `pg_ctl -l`'s file, or None (said why).
fn server(test: &str) -> Option<Server> {
    let (build, psql) = pg::newest_runnable(test)?;
    let conf = "shared_buffers = '16MB'\nfsync = off\nlogging_collector = off\n\
                log_connections = on\nlog_disconnections = on\n\
                log_line_prefix = '%m [%p] %q%u@%d '\nlog_timezone = 'UTC'\n";
    let hba = "local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n";
    let srv = Server::init(build, psql, conf, hba);
    srv.pg_ctl(&[], "start");
    Some(srv)
}

/// Client backends in `pg_stat_activity`, without the asking session.
fn clients(srv: &Server) -> BTreeSet<i64> {
    let q = "select pid from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()";
    srv.run(Via::Socket, "postgres", "postgres", "check", "", q)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

/// The open sessions per server, from the events so far.
#[derive(Default)]
struct Open {
    by_server: BTreeMap<String, BTreeSet<i64>>,
    /// Disconnects (pid) per server.
    ended: BTreeMap<String, Vec<i64>>,
    resets: Vec<String>,
}

impl Open {
    fn take(&mut self, ev: &Value) {
        let server = ev["server"]
            .as_str()
            .expect("every event names its server")
            .to_string();
        let set = self.by_server.entry(server.clone()).or_default();
        match ev["kind"].as_str().unwrap() {
            "connect" => {
                set.insert(ev["pid"].as_i64().unwrap());
            }
            "disconnect" => {
                let pid = ev["pid"].as_i64().unwrap();
                set.remove(&pid);
                self.ended.entry(server).or_default().push(pid);
            }
            "reset" => {
                set.clear();
                self.resets.push(server);
            }
            _ => {}
        }
    }
}

/// Reads events until `done` holds, for at most 20 s.
fn until(rx: &mpsc::Receiver<Value>, open: &mut Open, what: &str, done: impl Fn(&Open) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(open) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(ev) => open.take(&ev),
            Err(_) => panic!(
                "timed out waiting for {what}: open {:?}, ended {:?}, resets {:?}",
                open.by_server, open.ended, open.resets
            ),
        }
    }
}

#[test]
fn two_real_servers_one_restarts_only_its_sessions_end() {
    const T: &str = "two_real_servers_one_restarts_only_its_sessions_end";
    let Some(a) = server(T) else { return };
    let Some(b) = server(T) else { return };
    let log_a = a.root.path().join("pg_ctl.log");
    let log_b = b.root.path().join("pg_ctl.log");
    let mut child = Command::new(BIN)
        .args(["--stream", "--json"])
        .arg(format!("a={}", log_a.display()))
        .arg(format!("b=!tail -F -n +1 '{}'", log_b.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            let v: Value = serde_json::from_str(&line).unwrap();
            if tx.send(v).is_err() {
                return;
            }
        }
    });
    let mut open = Open::default();
    let on_a: Vec<_> = (0..3)
        .map(|i| {
            a.session(Via::V4, "postgres", "postgres", &format!("a{i}"), "")
                .unwrap()
        })
        .collect();
    let on_b: Vec<_> = (0..2)
        .map(|i| {
            b.session(Via::Socket, "postgres", "postgres", &format!("b{i}"), "")
                .unwrap()
        })
        .collect();
    let pids_a: BTreeSet<i64> = on_a.iter().map(|s| s.pid).collect();
    let pids_b: BTreeSet<i64> = on_b.iter().map(|s| s.pid).collect();
    until(&rx, &mut open, "the sessions of both servers", |o| {
        o.by_server.get("a").is_some_and(|s| pids_a.is_subset(s))
            && o.by_server.get("b").is_some_and(|s| pids_b.is_subset(s))
    });

    // Each server's start, replayed from its log, was a reset of its own; from here on only
    // b's restart is.
    open.resets.clear();
    b.pg_ctl(&["-m", "fast"], "restart");
    let after = b
        .session(Via::Socket, "postgres", "postgres", "b-after", "")
        .unwrap();
    until(&rx, &mut open, "b's restart and its new session", |o| {
        o.resets.iter().any(|s| s == "b")
            && o.by_server.get("b").is_some_and(|s| s.contains(&after.pid))
    });
    // Only b's sessions ended: a's are all still open, and none of a's ended.
    assert!(
        open.by_server["a"].is_superset(&pids_a),
        "{:?}",
        open.by_server
    );
    assert!(
        open.by_server["b"].is_disjoint(&pids_b),
        "{:?}",
        open.by_server
    );
    assert!(open.resets.iter().all(|s| s == "b"), "{:?}", open.resets);
    assert!(
        open.ended
            .get("a")
            .is_none_or(|v| v.iter().all(|p| !pids_a.contains(p))),
        "{:?}",
        open.ended
    );

    // Final: what the stream says is open, per server, is what each server says.
    let (want_a, want_b) = (clients(&a), clients(&b));
    assert_eq!(want_a, pids_a);
    assert_eq!(want_b, BTreeSet::from([after.pid]));
    // The checks' own sessions end too: wait until both servers agree with the stream.
    until(&rx, &mut open, "the final state", |o| {
        o.by_server.get("a") == Some(&want_a) && o.by_server.get("b") == Some(&want_b)
    });
    let _ = child.kill();
    let _ = child.wait();
    drop((on_a, on_b, after));
}

/// The dashboard's header over two servers, one read through a command that fails: the
/// command's state and its last stderr line (made visible) show on the source line, and the
/// clock line shows each server's own state.
#[test]
fn the_header_shows_a_failing_command_and_each_servers_state() {
    use pgconn_top::engine::{Engine, EngineConfig};
    use pgconn_top::source::command::{follow_command, CommandOptions};
    use pgconn_top::ui::{self, fixed_clock, App, SourceMsg, UiOptions};
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    let corpus = corpus::corpus();
    let mut engine = Engine::new(EngineConfig::default());
    let a = engine.add_source("berlin.log");
    engine.store.set_server(a, 0, "berlin");
    let berlin = corpus.join("pg15-debian-berlin/postgresql.log");
    engine
        .read_to_end(a, std::fs::File::open(berlin).unwrap())
        .unwrap();
    let cmd = format!(
        "cat '{}'; echo 'boom \\033[31m' >&2; exit 3",
        corpus
            .join("pg15-rds-newyork/postgresql.after-restart.log")
            .display()
    );
    let b = engine.add_source(&format!("!{cmd}"));
    engine.store.set_server(b, 1, "nyc");
    let now = engine.store.now().millis;
    let mut app = App::new(
        engine,
        &UiOptions {
            clock: fixed_clock(now),
            color: false,
            ..UiOptions::default()
        },
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let opts = CommandOptions {
            first_backoff: Duration::from_secs(30),
            ..CommandOptions::default()
        };
        let task = tokio::spawn(follow_command(usize::from(b), cmd, opts, tx));
        loop {
            let msg = rx.recv().await.unwrap();
            let done =
                matches!(&msg, SourceMsg::Status { message, .. } if message.contains("exited"));
            app.input(msg);
            if done {
                break;
            }
        }
        drop(rx);
        task.await.unwrap();
    });
    let (w, h) = (250u16, 30u16);
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, &app)).unwrap();
    let buf = t.backend().buffer();
    let lines: Vec<String> = (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect())
        .collect();
    let header = lines[..4].join("\n");
    assert!(
        header.contains("exited with code 3, restarting in 30s; last stderr: boom \\x1b[31m"),
        "{header}"
    );
    assert!(!header.contains('\x1b'));
    assert!(header.contains("berlin up since"), "{header}");
    assert!(header.contains("nyc up since"), "{header}");
    let berlin_truth = truth("pg15-debian-berlin", "truth.json");
    let nyc_truth = truth("pg15-rds-newyork", "truth-after-restart.json");
    let want = berlin_truth["active_total"].as_u64().unwrap()
        + nyc_truth["active_total"].as_u64().unwrap();
    let filter = pgconn_top::store::filter::Filter::default();
    assert_eq!(app.engine.store.active_sessions(&filter).len() as u64, want);
}

/// A log directory holding one log written three ways (stderr, csvlog, jsonlog) is read once:
/// its jsonlog files, said on standard error; the figures are the server's, not three times.
#[test]
fn a_directory_of_three_destinations_is_read_once() {
    let corpus =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus/pg15-debian-berlin");
    let dir = tempfile::tempdir().unwrap();
    for ext in ["log", "csv", "json"] {
        std::fs::copy(
            corpus.join(format!("postgresql.{ext}")),
            dir.path()
                .join(format!("postgresql-2026-11-27_202103.{ext}")),
        )
        .unwrap();
    }
    let out = Command::new(BIN)
        .args(["--once", "--json"])
        .arg(format!("berlin={}", dir.path().display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "holds the same log as jsonlog and csvlog and stderr: reading the jsonlog files only"
        ),
        "{err}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = truth("pg15-debian-berlin", "truth.json");
    assert_eq!(v["sources"].as_array().unwrap().len(), 1);
    assert_eq!(v["sources"][0]["format"], "jsonlog");
    assert_eq!(v["active_total"], t["active_total"]);
    assert_eq!(v["connects"], t["connects"]);
}
