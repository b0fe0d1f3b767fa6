//! Helpers of tests/corpus_all.rs: run the binary on a file, compare its `--once --json` report
//! with a truth file (and with the `sources[]` / `warnings[]` contract), build compressed and
//! rotated copies of corpus files, and unwrap wrapped corpus files for the harness check.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pgconn-top");

/// One kind of file in a folder: `postgresql.<ext>` and `postgresql.after-restart.<ext>`, read
/// through `envelope` as `format`.
pub struct Kind {
    pub ext: &'static str,
    pub envelope: &'static str,
    pub format: &'static str,
}

pub const fn k(ext: &'static str, envelope: &'static str, format: &'static str) -> Kind {
    Kind {
        ext,
        envelope,
        format,
    }
}

pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus")
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `pgconn-top --once --json [extra...] <path>`: the JSON, or why there is none.
pub fn once_json(path: &Path, extra: &[&str]) -> Result<Value, String> {
    let out = Command::new(BIN)
        .args(["--once", "--json"])
        .args(extra)
        .arg(path)
        .env_remove("PGDATA")
        .output()
        .expect("run pgconn-top");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("exit {}: {}", out.status, stderr.trim()));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("stdout is not JSON ({e}); stderr: {}", stderr.trim()))
}

/// (pid, user, database, application, host) of one open session.
pub type Session = (u64, Value, Value, Value, Value);

/// The open sessions, sorted by pid.
pub fn active_set(v: &Value) -> Vec<Session> {
    let mut a: Vec<_> = v
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    let f = |k: &str| s[k].clone();
                    (
                        s["pid"].as_u64().unwrap_or(0),
                        f("user"),
                        f("database"),
                        f("application"),
                        f("host"),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    a.sort_by_key(|x| x.0);
    a
}

/// Every difference between the report and the truth file; empty when they agree. `contract`
/// also checks `sources[]` and `warnings[]` (left out when the harness itself is checked with
/// `--prefix`/`--format` hints, which today's code understands).
pub fn differences(
    got: &Value,
    truth: &Value,
    contract: Option<(&Path, &Kind)>,
    alt_prefix: Option<&str>,
) -> Vec<String> {
    let mut bad = Vec::new();
    let same = |bad: &mut Vec<String>, what: &str, g: &Value, t: &Value| {
        if g != t {
            bad.push(format!("{what}: got {g}, truth {t}"));
        }
    };
    let (ga, ta) = (active_set(&got["active"]), active_set(&truth["active"]));
    if ga != ta {
        let show = |a: &[Session], b: &[Session]| -> Vec<String> {
            a.iter()
                .filter(|s| !b.contains(s))
                .map(|(p, u, d, app, h)| format!("{p} {u}@{d} app={app} host={h}"))
                .collect()
        };
        let (missing, extra) = (show(&ta, &ga), show(&ga, &ta));
        bad.push(format!(
            "active set: {} got, {} in truth; missing {missing:?}; not in truth {extra:?}",
            ga.len(),
            ta.len()
        ));
    }
    same(
        &mut bad,
        "active_total",
        &got["active_total"],
        &truth["active_total"],
    );
    for key in ["by_database", "by_user", "by_application", "by_host"] {
        same(&mut bad, key, &got[key], &truth[key]);
    }
    // Totals only where the truth has them (truth-after-restart.json holds the view alone).
    for key in ["connects", "disconnects", "terminated"] {
        if truth.get(key).is_some() {
            same(&mut bad, key, &got[key], &truth[key]);
        }
    }
    if let Some(failures) = truth.get("failures").and_then(Value::as_object) {
        let want: serde_json::Map<String, Value> = failures
            .iter()
            .filter(|(_, n)| n.as_u64() != Some(0))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let total: u64 = want.values().filter_map(Value::as_u64).sum();
        same(
            &mut bad,
            "failures.by_reason",
            &got["failures"]["by_reason"],
            &Value::Object(want),
        );
        same(
            &mut bad,
            "failures.total",
            &got["failures"]["total"],
            &total.into(),
        );
    }
    if let Some((path, kind)) = contract {
        bad.extend(contract_differences(got, truth, path, kind, alt_prefix));
    }
    bad
}

/// `sources[]` and `warnings[]` against the contract in the module docs.
pub fn contract_differences(
    got: &Value,
    truth: &Value,
    path: &Path,
    kind: &Kind,
    alt_prefix: Option<&str>,
) -> Vec<String> {
    let mut bad = Vec::new();
    match got["warnings"].as_array() {
        Some(w) if w.is_empty() => {}
        Some(w) => bad.push(format!("warnings: expected none, got {w:?}")),
        None => bad.push("warnings: no `warnings` array".into()),
    }
    let Some(sources) = got["sources"].as_array() else {
        bad.push("sources: no `sources` array".into());
        return bad;
    };
    let [s] = sources.as_slice() else {
        bad.push(format!(
            "sources: expected one entry, got {}",
            sources.len()
        ));
        return bad;
    };
    let want_path = path.display().to_string();
    let checks: [(&str, bool, String); 4] = [
        (
            "path",
            s["path"].as_str() == Some(want_path.as_str()),
            want_path.clone(),
        ),
        (
            "envelope",
            s["envelope"].as_str() == Some(kind.envelope),
            kind.envelope.into(),
        ),
        (
            "format",
            s["format"].as_str() == Some(kind.format),
            kind.format.into(),
        ),
        (
            "how",
            s["how"].as_str() == Some("inferred"),
            "inferred".into(),
        ),
    ];
    for (field, ok, want) in checks {
        if !ok {
            bad.push(format!(
                "sources[0].{field}: got {}, expected {want:?}",
                s[field]
            ));
        }
    }
    if kind.format == "stderr" {
        let t = truth["log_line_prefix"].as_str().unwrap_or_default();
        let p = s["prefix"].as_str();
        if p != Some(t) && (alt_prefix.is_none() || p != alt_prefix) {
            bad.push(format!(
                "sources[0].prefix: got {}, expected {t:?}",
                s["prefix"]
            ));
        }
    }
    bad
}

/// `gzip -c src > dst`.
pub fn gzip(src: &[u8], dst: &Path) {
    use std::io::Write;
    let mut child = Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::fs::File::create(dst).unwrap())
        .spawn()
        .expect("gzip (Debian package gzip) is needed");
    child.stdin.take().unwrap().write_all(src).unwrap();
    assert!(child.wait().unwrap().success(), "gzip {}", dst.display());
}

/// The file's bytes cut into `n` parts at the start of entries (lines starting with `2`, the
/// year of the `%m`/`%t` prefix), in order.
pub fn split_at_entries(text: &[u8], n: usize) -> Vec<Vec<u8>> {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(
            text.iter()
                .enumerate()
                .filter(|(i, &b)| b == b'\n' && text.get(i + 1) == Some(&b'2'))
                .map(|(i, _)| i + 1),
        )
        .collect();
    let cuts: Vec<usize> = (1..n).map(|k| starts[starts.len() * k / n]).collect();
    let mut parts = Vec::new();
    let mut from = 0;
    for c in cuts.into_iter().chain([text.len()]) {
        parts.push(text[from..c].to_vec());
        from = c;
    }
    parts
}

/// Sets a file's modification time to `secs_ago` seconds ago (rotated files are older).
pub fn age(path: &Path, secs_ago: u64) {
    let t = std::time::SystemTime::now() - std::time::Duration::from_secs(secs_ago);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// The stderr lines inside JSON-lines envelopes (Docker `log`, journald `MESSAGE` as a string or
/// bytes, Cloud SQL `textPayload` behind its `timestamp` as `%m`).
pub fn unwrap_json(folder: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v: Value = serde_json::from_slice(line).unwrap();
        match folder {
            "wrapped/docker-json" => out.extend_from_slice(v["log"].as_str().unwrap().as_bytes()),
            "wrapped/journald-json" => {
                match &v["MESSAGE"] {
                    Value::String(s) => out.extend_from_slice(s.as_bytes()),
                    Value::Array(a) => out.extend(a.iter().map(|b| b.as_u64().unwrap() as u8)),
                    other => panic!("MESSAGE {other}"),
                }
                out.push(b'\n');
            }
            _ => {
                let text = v["textPayload"].as_str().unwrap();
                if !text.starts_with('\t') {
                    let ts = v["timestamp"].as_str().unwrap();
                    out.extend_from_slice(format!("{} {} UTC ", &ts[..10], &ts[11..23]).as_bytes());
                }
                out.extend_from_slice(text.as_bytes());
                out.push(b'\n');
            }
        }
    }
    out
}

/// The stderr lines behind a text header (`kubectl logs --timestamps`, CRI with `P` parts joined,
/// `journalctl -o short-iso`).
pub fn unwrap_text(folder: &str, bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        match folder {
            "wrapped/kubectl-ts" => out.push_str(line.split_once(' ').unwrap().1),
            "wrapped/cri" => {
                let f: Vec<&str> = line.splitn(4, ' ').collect();
                out.push_str(f.get(3).copied().unwrap_or(""));
                if f[2] == "P" {
                    continue;
                }
            }
            _ => out.push_str(line.split_once("]: ").unwrap().1),
        }
        out.push('\n');
    }
    out.into_bytes()
}
