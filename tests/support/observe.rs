//! What pgconn-top says about a live server, as sets of open sessions: the
//! `pgconn-top --stream --json` follower (connects, disconnects, failures, resets) and the
//! `--once --json` report, plus the checks of a log without process ids.

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_pgconn-top");

/// (user, database, application, host) of one open session.
pub type Who = (String, String, Option<String>, String);
/// pid → who.
pub type View = BTreeMap<i64, Who>;

/// `pgconn-top --stream --json <dir>` and what it has said so far.
pub struct Stream {
    pub child: Child,
    pub rx: mpsc::Receiver<Value>,
    pub stderr: Arc<Mutex<String>>,
    pub active: View,
    pub resets: usize,
    pub failures: Vec<String>,
    pub lines: Vec<String>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Stream {
    pub fn start(dir: &std::path::Path, prefix: &str) -> Stream {
        let mut child = Command::new(BIN)
            .args(["--stream", "--json"])
            .args(hint(prefix))
            .arg(dir)
            .env_remove("PGDATA")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let v = serde_json::from_str(&line)
                    .unwrap_or_else(|e| Value::String(format!("not JSON ({e}): {line}")));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut s = sink
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                s.push_str(&line);
                s.push('\n');
            }
        });
        Stream {
            child,
            rx,
            stderr,
            active: View::new(),
            resets: 0,
            failures: Vec::new(),
            lines: Vec::new(),
        }
    }

    /// Waits (at most `max`) for the stream's first line: the tool has read the log as it was
    /// then, only postmaster lines, and (today) decided on them.
    pub fn wait_first(&mut self, max: Duration) {
        if let Ok(v) = self.rx.recv_timeout(max) {
            self.apply(v);
        }
    }

    pub fn drain(&mut self) {
        while let Ok(v) = self.rx.try_recv() {
            self.apply(v);
        }
    }

    pub fn apply(&mut self, v: Value) {
        self.lines.push(v.to_string());
        let s = |k: &str| v[k].as_str().map(str::to_string);
        let pid = v["pid"].as_i64();
        match (v["kind"].as_str(), pid) {
            (Some("connect"), Some(pid)) => {
                let who = (
                    s("user").unwrap_or_default(),
                    s("database").unwrap_or_default(),
                    s("application"),
                    s("host").unwrap_or_default(),
                );
                self.active.insert(pid, who);
            }
            (Some("disconnect"), Some(pid)) => {
                self.active.remove(&pid);
            }
            (Some("failed"), pid) => {
                // A session PostgreSQL authorized and then refused is no longer open.
                if let Some(pid) = pid {
                    self.active.remove(&pid);
                }
                self.failures.push(s("reason").unwrap_or_default());
            }
            (Some("reset"), _) => {
                self.resets += 1;
                self.active.clear();
            }
            _ => {}
        }
    }

    pub fn tail(&self) -> String {
        let from = self.lines.len().saturating_sub(30);
        self.lines[from..].join("\n")
    }
}

/// The open sessions of a `--once --json` report.
pub fn report_view(r: &Value) -> View {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    r["active"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    (
                        x["pid"].as_i64().unwrap_or(0),
                        (
                            s(&x["user"]),
                            s(&x["database"]),
                            x["application"].as_str().map(str::to_string),
                            s(&x["host"]),
                        ),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the prefix has the escape `%<c>` (padded or not).
pub fn has_escape(prefix: &str, c: char) -> bool {
    prefix.split('%').skip(1).any(|e| {
        e.trim_start_matches(|c: char| c == '-' || c.is_ascii_digit())
            .starts_with(c)
    })
}

/// A log without process ids: the counts by database and user, and one warning naming `%p`.
pub fn pidless_differences(r: &Value, truth: &View) -> Vec<String> {
    let mut bad = Vec::new();
    for (key, field) in [("by_database", 1), ("by_user", 0)] {
        let mut want = serde_json::Map::new();
        for w in truth.values() {
            let name = if field == 0 { &w.0 } else { &w.1 };
            let n = want.get(name).and_then(Value::as_u64).unwrap_or(0);
            want.insert(name.clone(), (n + 1).into());
        }
        if r[key] != Value::Object(want.clone()) {
            bad.push(format!(
                "--once {key}: got {}, expected {}",
                r[key],
                Value::Object(want)
            ));
        }
    }
    let warned = r["warnings"].as_array().is_some_and(|w| {
        w.iter()
            .any(|w| w.as_str().is_some_and(|w| w.contains("%p")))
    });
    if !warned {
        bad.push(format!(
            "--once warnings: none says to add %p: {}",
            r["warnings"]
        ));
    }
    bad
}

/// `["--prefix", prefix]` under `PGCONN_TOP_MATRIX_HINT=1`, else nothing.
pub fn hint(prefix: &str) -> Vec<String> {
    if std::env::var("PGCONN_TOP_MATRIX_HINT").as_deref() == Ok("1") {
        vec!["--prefix".into(), prefix.into()]
    } else {
        Vec::new()
    }
}

pub fn once(dir: &std::path::Path, prefix: &str) -> Result<Value, String> {
    let out = Command::new(BIN)
        .args(["--once", "--json"])
        .args(hint(prefix))
        .arg(dir)
        .env_remove("PGDATA")
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(format!(
            "exit {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("not JSON: {e}"))
}
