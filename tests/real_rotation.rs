//! A real PostgreSQL server rotating its log every 8 kB under `pgbench -C` (a new connection per
//! transaction): `pgconn-top --stream --json <log_directory>`, started before the load, must
//! report as many connects as `pg_stat_database.sessions` grew by, and end with the open
//! sessions of `pg_stat_activity`.
//!
//! The test starts its own cluster (temp dir, own port and socket dir, run as the `postgres` OS
//! user when we are root). Without PostgreSQL it says why and returns; with `CI=true` it fails.

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_pgconn-top");
const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
const PREFIX: &str = "%m [%p] %q%u@%d ";
/// application_name of the sessions held open during the load.
const HOLDER: &str = "rotation-holder";
const WAIT: Duration = Duration::from_secs(20);

fn unavailable(why: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("real_rotation: {why} (CI=true: a real PostgreSQL server is required)");
    }
    eprintln!("real_rotation: skipped: {why}");
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2)?.parse::<u32>().ok())
        })
        == Some(0)
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The server and the processes of the test; dropping it kills them and stops the server.
struct Server {
    root: tempfile::TempDir,
    data: PathBuf,
    sock: PathBuf,
    port: u16,
    as_root: bool,
    children: Vec<Child>,
}

impl Drop for Server {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = self
            .cmd("pg_ctl")
            .args(["-m", "immediate", "-w", "-t", "20", "stop", "-D"])
            .arg(&self.data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Server {
    /// A PostgreSQL program, run as the postgres OS user when we are root.
    fn cmd(&self, prog: &str) -> Command {
        let path = Path::new(PG_BIN).join(prog);
        let mut c = if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        c.current_dir(self.root.path());
        c
    }

    /// A client program connecting over the socket to `db` with application_name `app`.
    fn client(&self, prog: &str, db: &str, app: &str) -> Command {
        let mut c = Command::new(Path::new(PG_BIN).join(prog));
        c.arg("-h")
            .arg(&self.sock)
            .args(["-p", &self.port.to_string(), "-U", "postgres"])
            .env("PGDATABASE", db)
            .env("PGAPPNAME", app)
            .env_remove("PGSERVICE")
            .env_remove("PGOPTIONS")
            .current_dir(self.root.path())
            .stdin(Stdio::null());
        c
    }

    fn query(&self, sql: &str) -> String {
        let out = self
            .client("psql", "postgres", "rotation-check")
            .args(["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Sessions ever established to database `bench`, once the counter stopped moving.
    fn bench_sessions(&self) -> u64 {
        let read = || {
            self.query("select coalesce(sessions, 0) from pg_stat_database where datname = 'bench'")
                .parse::<u64>()
                .unwrap()
        };
        let mut last = read();
        loop {
            std::thread::sleep(Duration::from_millis(300));
            let now = read();
            if now == last {
                return now;
            }
            last = now;
        }
    }

    /// Client backends on `bench` in pg_stat_activity: pid -> application_name.
    fn bench_activity(&self) -> BTreeMap<i64, String> {
        self.query(
            "select pid, application_name from pg_stat_activity
             where backend_type = 'client backend' and datname = 'bench'",
        )
        .lines()
        .filter_map(|l| {
            let (pid, app) = l.split_once('|')?;
            Some((pid.parse().ok()?, app.to_string()))
        })
        .collect()
    }
}

/// What the stream reported about database `bench`.
#[derive(Default)]
struct Seen {
    connects: u64,
    active: BTreeMap<i64, String>,
    lines: u64,
}

fn start_server() -> Option<Server> {
    if !Path::new(PG_BIN).join("postgres").is_file() || !Path::new(PG_BIN).join("pgbench").is_file()
    {
        unavailable(&format!("no PostgreSQL server or pgbench in {PG_BIN}"));
        return None;
    }
    let as_root = is_root();
    if as_root
        && !Command::new("id")
            .arg("postgres")
            .output()
            .is_ok_and(|o| o.status.success())
    {
        unavailable("running as root and there is no `postgres` OS user");
        return None;
    }
    let root = tempfile::Builder::new()
        .prefix("pgconn-top-rot.")
        .tempdir()
        .unwrap();
    let data = root.path().join("data");
    let sock = root.path().join("sock");
    std::fs::create_dir(&sock).unwrap();
    let pg = Server {
        data,
        sock,
        port: free_port(),
        as_root,
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
        .cmd("initdb")
        .args([
            "-N",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--auth=trust",
            "-D",
        ])
        .arg(&pg.data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let conf = format!(
        "\nport = {}\nlisten_addresses = ''\nunix_socket_directories = '{}'\n\
         max_connections = 40\nshared_buffers = '16MB'\nfsync = off\n\
         logging_collector = on\nlog_directory = 'log'\n\
         log_filename = 'postgresql-%Y-%m-%d_%H%M%S.log'\n\
         log_rotation_size = '8kB'\nlog_rotation_age = 0\n\
         log_connections = on\nlog_disconnections = on\n\
         log_line_prefix = '{PREFIX}'\nlog_timezone = 'UTC'\n",
        pg.port,
        pg.sock.display()
    );
    let conf_path = pg.data.join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf_path).unwrap();
    text.push_str(&conf);
    std::fs::write(&conf_path, text).unwrap();
    let out = pg
        .cmd("pg_ctl")
        .args(["-w", "-t", "30", "-l"])
        .arg(pg.root.path().join("pg_ctl.log"))
        .arg("-D")
        .arg(&pg.data)
        .arg("start")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pg_ctl start: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    pg.query("create database bench");
    Some(pg)
}

#[test]
fn connects_and_open_sessions_match_the_server_through_fast_rotation() {
    let started = Instant::now();
    let Some(mut pg) = start_server() else {
        return;
    };
    let log_dir = pg.data.join("log");
    let mut tool = Command::new(BIN)
        // No --prefix: the log holds only the postmaster's lines yet, so the prefix is read
        // off the first session lines pgbench brings.
        .args(["--stream", "--json"])
        .arg(&log_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (stdout, sink) = (tool.stdout.take().unwrap(), seen.clone());
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let v: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            let mut s = sink.lock().unwrap();
            s.lines += 1;
            if v["database"].as_str() != Some("bench") {
                continue;
            }
            let pid = v["pid"].as_i64().unwrap_or_default();
            match v["kind"].as_str() {
                Some("connect") => {
                    s.connects += 1;
                    let app = v["application"].as_str().unwrap_or_default().to_string();
                    s.active.insert(pid, app);
                }
                Some("disconnect") => {
                    s.active.remove(&pid);
                }
                _ => {}
            }
        }
    });
    let (stderr, (tx, rx)) = (tool.stderr.take().unwrap(), mpsc::channel::<String>());
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    pg.children.push(tool);
    let before = pg.bench_sessions();
    // Two sessions held open across the load: the final active set is not empty.
    for _ in 0..2 {
        let holder = pg
            .client("psql", "bench", HOLDER)
            .args(["-X", "-q", "-c", "select pg_sleep(60)"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        pg.children.push(holder);
    }
    let script = pg.root.path().join("select.sql");
    std::fs::write(&script, "select 1;\n").unwrap();
    let out = pg
        .client("pgbench", "bench", "pgbench")
        .args(["-n", "-C", "-c", "4", "-j", "2", "-T", "3", "-f"])
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pgbench: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let delta = pg.bench_sessions() - before;
    let files = std::fs::read_dir(&log_dir).unwrap().count();
    let deadline = Instant::now() + WAIT;
    loop {
        let expected = pg.bench_activity();
        let (connects, active, lines) = {
            let s = seen.lock().unwrap();
            (s.connects, s.active.clone(), s.lines)
        };
        if connects == delta && active == expected {
            eprintln!(
                "real_rotation: {delta} sessions, {files} log files, {lines} stream lines, {:?}",
                started.elapsed()
            );
            assert!(
                delta >= 20,
                "too little load to mean anything: {delta} sessions"
            );
            return;
        }
        if Instant::now() > deadline {
            let stderr: Vec<String> = rx.try_iter().collect();
            panic!(
                "stream: {connects} connects to bench, pg_stat_database.sessions grew by {delta} \
                 ({files} log files); open sessions: stream {active:?}, pg_stat_activity \
                 {expected:?}; pgconn-top stderr: {stderr:?}"
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
