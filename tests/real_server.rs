//! End to end against a REAL PostgreSQL server: the test starts its own cluster (temp dir, own
//! port and socket dir, logging_collector on, a tiny log_rotation_size so the log rotates during
//! the test), runs the real binary as `pgconn-top --stream --json`, opens, closes and refuses
//! sessions with psql, restarts the server, and checks that the set of open sessions rebuilt from
//! the event stream equals `pg_stat_activity` every time.
//!
//! Without PostgreSQL binaries the test says why and returns; with `CI=true` it fails instead.

use pgconn_top::source::{discover_in, DiscoverEnv, SourceSpec};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_pgconn-top");
/// application_name of the psql runs that query pg_stat_activity (left out of both views).
const CHECKER: &str = "pgconn-top-check";
const WAIT: Duration = Duration::from_secs(15);

/// (user, database, application, host) of one open session.
type Who = (String, String, Option<String>, String);
/// pid → who.
type View = BTreeMap<i64, Who>;

/// Missing prerequisites: a message and an early return, or a failure under CI.
fn unavailable(why: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("real_server: {why} (CI=true: a real PostgreSQL server is required)");
    }
    eprintln!("real_server: skipped: {why}");
}

/// The newest `/usr/lib/postgresql/*/bin` that has initdb, pg_ctl and postgres.
fn find_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            ["initdb", "pg_ctl", "postgres"]
                .iter()
                .all(|p| bin.join(p).is_file())
                .then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b)
}

fn euid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2)?.parse().ok())
        })
        .unwrap_or(u32::MAX)
}

fn free_port() -> u16 {
    for _ in 0..50 {
        let Ok(l) = std::net::TcpListener::bind("127.0.0.1:0") else {
            continue;
        };
        let port = l.local_addr().unwrap().port();
        drop(l);
        // The server listens on ::1 too when it can; the port must be free there as well.
        if std::net::TcpListener::bind(("::1", port)).is_ok()
            || std::net::TcpListener::bind("[::1]:0").is_err()
        {
            return port;
        }
    }
    panic!("no free TCP port");
}

#[derive(Clone, Copy)]
enum Via {
    Socket,
    V4,
    V6,
}

/// The server, its sessions and the tool under test; dropping it kills the children and stops
/// the server (before the temp dir goes).
struct Cluster {
    bin: PathBuf,
    psql: PathBuf,
    as_root: bool,
    data: PathBuf,
    sock: PathBuf,
    port: u16,
    ipv6: bool,
    children: Vec<Child>,
    root: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = self
            .pg("pg_ctl")
            .args(["-m", "immediate", "-w", "-t", "20", "stop", "-D"])
            .arg(&self.data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Runs `pg_ctl [extra] ACTION` on the data directory, waiting for it, and asserts it worked.
fn pg_ctl(pg: &Cluster, data: &Path, extra: &[&str], action: &str) {
    let log = pg.root.path().join("pg_ctl.log");
    let out = pg
        .pg("pg_ctl")
        .args(extra)
        .args(["-w", "-t", "30", "-l"])
        .arg(&log)
        .arg("-D")
        .arg(data)
        .arg(action)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pg_ctl {action}: {}{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}

impl Cluster {
    /// A server program, run as the postgres OS user when we are root.
    fn pg(&self, prog: &str) -> Command {
        let mut c = if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(prog));
            c
        } else {
            Command::new(self.bin.join(prog))
        };
        c.current_dir(self.root.path());
        c
    }

    fn host(&self, via: Via) -> String {
        match via {
            Via::Socket => self.sock.display().to_string(),
            Via::V4 => "127.0.0.1".into(),
            Via::V6 if self.ipv6 => "::1".into(),
            Via::V6 => "127.0.0.1".into(),
        }
    }

    /// psql as `user` on `db` over `via`, with application_name `app`.
    fn psql(&self, via: Via, user: &str, db: &str, app: &str, password: &str) -> Command {
        let mut c = Command::new(&self.psql);
        c.args(["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(self.host(via))
            .args(["-p", &self.port.to_string(), "-U", user, "-d", db])
            .env("PGAPPNAME", app)
            .env("PGPASSWORD", password)
            .env("PGCONNECT_TIMEOUT", "5")
            .env("PGSSLMODE", "disable")
            .env_remove("PGSERVICE")
            .env_remove("PGOPTIONS")
            .current_dir(self.root.path())
            .stdin(Stdio::null());
        c
    }

    /// Runs SQL as postgres over the socket; the output, or None if psql failed.
    fn query(&self, sql: &str) -> Option<String> {
        let out = self
            .psql(Via::Socket, "postgres", "postgres", CHECKER, "")
            .args(["-F", "\x1f", "-c", sql])
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// A session held open in the background by `select pg_sleep(secs)`.
    fn session(&mut self, via: Via, user: &str, db: &str, app: &str, pw: &str, secs: f64) -> usize {
        let child = self
            .psql(via, user, db, app, pw)
            .args(["-c", &format!("select pg_sleep({secs})")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn psql");
        self.children.push(child);
        self.children.len() - 1
    }

    /// A connection attempt that must fail; returns psql's error text.
    fn refused(&self, via: Via, user: &str, db: &str, pw: &str) -> String {
        let out = self
            .psql(via, user, db, "psql", pw)
            .args(["-c", "select 1"])
            .output()
            .expect("run psql");
        assert!(
            !out.status.success(),
            "{user}@{db} should have been refused"
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Client backends in pg_stat_activity, without the querying psql itself.
    fn activity(&self) -> Option<View> {
        let out = self.query(
            "select pid, usename, datname, application_name, coalesce(host(client_addr), '[local]')
             from pg_stat_activity
             where backend_type = 'client backend' and pid <> pg_backend_pid()",
        )?;
        let mut v = View::new();
        for line in out.lines().filter(|l| !l.is_empty()) {
            let f: Vec<&str> = line.split('\x1f').collect();
            assert_eq!(f.len(), 5, "pg_stat_activity row: {line:?}");
            let app = (!f[3].is_empty()).then(|| f[3].to_string());
            v.insert(
                f[0].parse().unwrap(),
                (f[1].into(), f[2].into(), app, f[4].into()),
            );
        }
        Some(v)
    }

    fn log_dir(&self) -> PathBuf {
        self.data.join("log")
    }

    /// Every line of the server log that mentions one of `pids` (for failure messages).
    fn log_lines_of(&self, pids: &BTreeSet<i64>) -> String {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.log_dir())
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        let mut out = String::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            for line in text.lines() {
                if pids.iter().any(|p| line.contains(&format!("[{p}]"))) {
                    out.push_str(&format!(
                        "  {}: {line}\n",
                        f.file_name().unwrap().to_string_lossy()
                    ));
                }
            }
        }
        out
    }
}

/// What the stream has said so far.
struct Stream {
    rx: mpsc::Receiver<(String, Value)>,
    stderr: Arc<Mutex<String>>,
    active: View,
    lines: Vec<String>,
    resets: usize,
    failures: Vec<String>,
    checker_seen: bool,
}

impl Stream {
    fn drain(&mut self) {
        while let Ok((line, v)) = self.rx.try_recv() {
            self.lines.push(line.clone());
            let s = |k: &str| v[k].as_str().map(str::to_string);
            match v["kind"].as_str() {
                Some("connect") => {
                    let pid = v["pid"].as_i64().unwrap_or_else(|| panic!("pid in {line}"));
                    let app = s("application");
                    self.checker_seen |= app.as_deref() == Some(CHECKER);
                    let who = (
                        s("user").unwrap_or_default(),
                        s("database").unwrap_or_default(),
                        app,
                        s("host").unwrap_or_default(),
                    );
                    self.active.insert(pid, who);
                }
                Some("disconnect") => {
                    if let Some(pid) = v["pid"].as_i64() {
                        self.active.remove(&pid);
                    }
                }
                Some("reset") => {
                    self.resets += 1;
                    self.active.clear();
                }
                Some("failed") => self.failures.push(s("reason").unwrap_or_default()),
                _ => panic!("unexpected stream line: {line}"),
            }
        }
    }

    /// The open sessions without the checker's own psql runs.
    fn view(&self) -> View {
        self.active
            .iter()
            .filter(|(_, w)| w.2.as_deref() != Some(CHECKER))
            .map(|(p, w)| (*p, w.clone()))
            .collect()
    }

    fn tail(&self, n: usize) -> String {
        let from = self.lines.len().saturating_sub(n);
        self.lines[from..].join("\n")
    }
}

/// Polls until the stream's open sessions equal pg_stat_activity's (and `settled` holds for them);
/// panics with both sides, the differing sessions' server log lines and the stream's last lines
/// on timeout.
fn converge(pg: &Cluster, st: &mut Stream, what: &str) -> View {
    converge_to(pg, st, what, |_| true)
}

fn converge_to(pg: &Cluster, st: &mut Stream, what: &str, settled: impl Fn(&View) -> bool) -> View {
    let deadline = Instant::now() + WAIT;
    let mut last = (View::new(), View::new());
    loop {
        if let Some(expected) = pg.activity() {
            st.drain();
            let got = st.view();
            if got == expected && settled(&got) {
                return got;
            }
            last = (expected, got);
        }
        if Instant::now() > deadline {
            let (expected, got) = last;
            let diff: BTreeSet<i64> = expected
                .iter()
                .filter(|(p, w)| got.get(p) != Some(w))
                .chain(got.iter().filter(|(p, w)| expected.get(p) != Some(w)))
                .map(|(p, _)| *p)
                .collect();
            panic!(
                "{what}: the stream and pg_stat_activity did not settle on the expected open sessions\n\
                 pg_stat_activity: {expected:#?}\nstream: {got:#?}\n\
                 server log lines of the differing pids:\n{}\n\
                 last stream lines:\n{}\npgconn-top stderr:\n{}",
                pg.log_lines_of(&diff),
                st.tail(40),
                st.stderr.lock().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(150));
    }
}

/// Polls (querying pg_stat_activity meanwhile, which makes log traffic) until `done`.
fn wait_for(pg: &Cluster, st: &mut Stream, what: &str, done: impl Fn(&Stream) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        st.drain();
        if done(st) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\nlast stream lines:\n{}\npgconn-top stderr:\n{}",
            st.tail(40),
            st.stderr.lock().unwrap()
        );
        let _ = pg.activity();
        std::thread::sleep(Duration::from_millis(150));
    }
}

fn who(user: &str, db: &str, app: &str, host: &str) -> Who {
    (user.into(), db.into(), Some(app.into()), host.into())
}

#[test]
fn stream_matches_pg_stat_activity_on_a_real_server() {
    let started = Instant::now();
    let Some(bin) = find_bin() else {
        return unavailable("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin");
    };
    let psql = [bin.join("psql"), PathBuf::from("/usr/bin/psql")]
        .into_iter()
        .find(|p| p.is_file());
    let Some(psql) = psql else {
        return unavailable("no psql");
    };
    let as_root = euid() == 0;
    if as_root
        && !Command::new("id")
            .arg("postgres")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    {
        return unavailable("running as root and there is no `postgres` OS user to run initdb");
    }

    let root = tempfile::Builder::new()
        .prefix("pgconn-top-real.")
        .tempdir()
        .unwrap();
    let data = root.path().join("data");
    let sock = root.path().join("sock");
    std::fs::create_dir(&sock).unwrap();
    let mut pg = Cluster {
        bin,
        psql,
        as_root,
        data: data.clone(),
        sock: sock.clone(),
        port: free_port(),
        ipv6: std::net::TcpListener::bind("[::1]:0").is_ok(),
        children: Vec::new(),
        root,
    };
    if as_root {
        let ok = Command::new("chown")
            .args(["-R", "postgres:"])
            .arg(pg.root.path())
            .status()
            .unwrap();
        assert!(ok.success(), "chown the temp dir to postgres");
    }
    let out = pg
        .pg("initdb")
        .args(["-N", "-U", "postgres", "-E", "UTF8", "--locale=C"])
        .args(["--auth-local=trust", "--auth-host=scram-sha-256", "-D"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The settings go into postgresql.conf, where discovery reads them.
    let listen = if pg.ipv6 {
        "127.0.0.1,::1"
    } else {
        "127.0.0.1"
    };
    let conf = format!(
        "\n# pgconn-top real-server test\n\
         port = {port}\n\
         listen_addresses = '{listen}'\n\
         unix_socket_directories = '{sock}'\n\
         max_connections = 30\n\
         shared_buffers = '16MB'\n\
         fsync = off\n\
         password_encryption = 'scram-sha-256'\n\
         client_connection_check_interval = '200ms'\n\
         logging_collector = on\n\
         log_directory = 'log'\n\
         log_filename = 'postgresql-%Y-%m-%d_%H%M%S.log'\n\
         log_rotation_size = '8kB'\n\
         log_rotation_age = 0\n\
         log_connections = on\n\
         log_disconnections = on\n\
         log_line_prefix = '%m [%p] %q%u@%d '\n\
         log_timezone = 'UTC'\n",
        port = pg.port,
        sock = sock.display(),
    );
    let conf_path = data.join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf_path).unwrap();
    text.push_str(&conf);
    std::fs::write(&conf_path, text).unwrap();
    pg_ctl(&pg, &data, &[], "start");
    for sql in [
        "create role alice login password 'alice-pw'",
        "create role bob login password 'bob-pw'",
        "create role \"report user\" login password 'report-pw'",
        "create database shop",
        "create database \"my db\"",
    ] {
        assert!(pg.query(sql).is_some(), "setup failed: {sql}");
    }

    // Which form: with no path and PGDATA=<datadir>, discovery looks at running postmasters
    // (/proc) first. When it lands on this cluster the test runs `pgconn-top --stream --json`
    // with no path; when it would pick another server on the machine (a system cluster), the
    // test names the log directory: `pgconn-top --stream --json <datadir>/log`.
    let ours = std::fs::canonicalize(pg.log_dir()).unwrap();
    let found = discover_in(&DiscoverEnv {
        pgdata: Some(data.clone()),
        ..DiscoverEnv::system()
    });
    // PGCONN_TOP_TEST_LOG_PATH=1 forces the explicit form.
    let forced = std::env::var_os("PGCONN_TOP_TEST_LOG_PATH").is_some_and(|v| v == "1");
    let discovered = !forced
        && matches!(&found, Ok(d) if d.sources.iter().any(|s| matches!(s,
        SourceSpec::Dir(dir) if std::fs::canonicalize(&dir.dir).ok().as_ref() == Some(&ours))));
    let mut cmd = Command::new(BIN);
    cmd.args(["--stream", "--json"]).env("PGDATA", &data);
    if discovered {
        eprintln!("real_server: form: pgconn-top --stream --json (no path, PGDATA, discovery)");
    } else {
        eprintln!(
            "real_server: form: pgconn-top --stream --json {} (discovery gave {found:?})",
            ours.display()
        );
        cmd.arg(&ours);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let v = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            if tx.send((line, v)).is_err() {
                break;
            }
        }
    });
    let stderr_text = Arc::new(Mutex::new(String::new()));
    let sink = stderr_text.clone();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let mut s = sink.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    });
    pg.children.push(child);
    let mut st = Stream {
        rx,
        stderr: stderr_text,
        active: View::new(),
        lines: Vec::new(),
        resets: 0,
        failures: Vec::new(),
        checker_seen: false,
    };

    // The tool is live once it reports the checker's own sessions.
    wait_for(&pg, &mut st, "the first event from the stream", |s| {
        s.checker_seen
    });
    converge(&pg, &mut st, "before any session");

    // Sessions held open: several applications, users, databases and all three transports.
    let v6 = if pg.ipv6 { "::1" } else { "127.0.0.1" };
    pg.session(Via::V4, "alice", "shop", "rails", "alice-pw", 60.0);
    let closing = pg.session(Via::V4, "alice", "shop", "rails", "alice-pw", 60.0);
    pg.session(Via::Socket, "bob", "postgres", "sidekiq", "", 60.0);
    pg.session(
        Via::V6,
        "report user",
        "my db",
        "metabase reporting",
        "report-pw",
        60.0,
    );
    pg.session(Via::Socket, "postgres", "shop", "psql", "", 60.0);
    pg.session(Via::V6, "bob", "shop", "cron", "bob-pw", 0.3); // ends on its own
    let view = converge_to(&pg, &mut st, "sessions opened", |v| {
        v.len() == 5 && v.values().all(|w| w.2.as_deref() != Some("cron"))
    });
    let mut whos: Vec<&Who> = view.values().collect();
    whos.sort();
    assert_eq!(
        whos,
        vec![
            &who("alice", "shop", "rails", "127.0.0.1"),
            &who("alice", "shop", "rails", "127.0.0.1"),
            &who("bob", "postgres", "sidekiq", "[local]"),
            &who("postgres", "shop", "psql", "[local]"),
            &who("report user", "my db", "metabase reporting", v6),
        ],
        "the open sessions (the 0.3 s cron session has ended)"
    );

    // Short sessions until the collector has rotated the log by size (8kB) at least once, so the
    // sessions above connected in one file and end in another.
    let deadline = Instant::now() + WAIT;
    while std::fs::read_dir(pg.log_dir()).unwrap().count() < 2 {
        assert!(Instant::now() < deadline, "the log did not rotate");
        for _ in 0..5 {
            let ok = pg
                .psql(Via::V4, "bob", "shop", "burst", "bob-pw")
                .args(["-c", "select 1"])
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(ok.success());
        }
    }
    converge_to(&pg, &mut st, "after the log rotated", |v| v.len() == 5);

    // Close some: one client goes away (the server notices within client_connection_check_interval),
    // one backend is terminated by an administrator.
    let _ = pg.children[closing].kill();
    let _ = pg.children[closing].wait();
    let terminated = pg.query(
        "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'sidekiq'",
    );
    assert_eq!(terminated.as_deref().map(str::trim), Some("t"));
    let view = converge_to(&pg, &mut st, "sessions closed", |v| v.len() == 3);
    assert_eq!(view.len(), 3, "{view:#?}");

    // Refused connections: wrong password (scram over TCP), unknown database, unknown role.
    let e = pg.refused(Via::V4, "alice", "shop", "wrong-pw");
    assert!(e.contains("password authentication failed"), "{e}");
    let e = pg.refused(Via::V4, "alice", "nosuchdb", "alice-pw");
    assert!(e.contains("does not exist"), "{e}");
    let e = pg.refused(Via::Socket, "ghost", "shop", "");
    assert!(e.contains("does not exist"), "{e}");
    let want = ["password_failed", "database_missing", "role_missing"];
    wait_for(&pg, &mut st, "the three failures", |s| {
        want.iter().all(|w| s.failures.iter().any(|f| f == w))
    });
    converge(&pg, &mut st, "after the failures");
    let mut reasons = st.failures.clone();
    reasons.sort();
    assert_eq!(
        reasons,
        vec!["database_missing", "password_failed", "role_missing"]
    );

    // Fast restart: every session ends, the stream says reset, and the view starts again.
    let resets = st.resets;
    pg_ctl(&pg, &data, &["-m", "fast"], "restart");
    wait_for(&pg, &mut st, "a reset after the restart", |s| {
        s.resets > resets
    });
    pg.session(Via::V4, "alice", "shop", "rails", "alice-pw", 60.0);
    pg.session(
        Via::V6,
        "report user",
        "my db",
        "metabase reporting",
        "report-pw",
        60.0,
    );
    let view = converge_to(&pg, &mut st, "after the restart", |v| v.len() == 2);
    assert_eq!(view.len(), 2, "{view:#?}");

    let files = std::fs::read_dir(pg.log_dir()).unwrap().count();
    eprintln!(
        "real_server: ok in {:.1}s: {} stream lines, {} log files, {} reset(s)",
        started.elapsed().as_secs_f64(),
        st.lines.len(),
        files,
        st.resets
    );
}
