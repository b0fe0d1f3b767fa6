//! Issue 7's acceptance test over the whole corpus: for every folder (real, syslog, versions,
//! wrapped), every file in it and both phases (before and after the restart), the real binary run
//! as `pgconn-top --once --json <file>` with NO flag reports exactly the server's view from
//! `truth.json` (active set, maps, connects, disconnects, terminated, failures by reason), says in
//! `sources[]` how it read the file, and has nothing to warn about. Also a `.gz` file, a directory
//! with a rotated `postgresql.log.1.gz` next to the live file, and Debian's logrotate leftovers.
//!
//! One test per folder, so a failure names the folder; each test checks every file of its folder
//! and reports every difference at once.
//!
//! The `sources[]` contract checked here (one entry per source):
//! `{"path": <the path as given>, "envelope": <ENVELOPE_* below>, "format": "stderr"|"csvlog"|
//! "jsonlog", "prefix": <log_line_prefix, for stderr>, "how": "inferred"|"configuration"|"flag"}`.

use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pgconn-top");

/// Envelope names in `sources[].envelope`: what wraps each entry.
const ENVELOPE_NONE: &str = "none";
const ENVELOPE_SYSLOG_3164: &str = "syslog-rfc3164";
const ENVELOPE_SYSLOG_5424: &str = "syslog-rfc5424";
const ENVELOPE_SYSLOG_3339: &str = "syslog-rfc3339";
const ENVELOPE_DOCKER: &str = "docker-json";
const ENVELOPE_KUBECTL: &str = "kubectl-timestamps";
const ENVELOPE_CRI: &str = "cri";
const ENVELOPE_JOURNALD_JSON: &str = "journald-json";
const ENVELOPE_JOURNALD_SHORT: &str = "journald-short";
const ENVELOPE_CNPG: &str = "cnpg";
const ENVELOPE_CLOUD_LOGGING: &str = "cloud-logging";

/// One kind of file in a folder: `postgresql.<ext>` and `postgresql.after-restart.<ext>`, read
/// through `envelope` as `format`.
struct Kind {
    ext: &'static str,
    envelope: &'static str,
    format: &'static str,
}

const fn k(ext: &'static str, envelope: &'static str, format: &'static str) -> Kind {
    Kind {
        ext,
        envelope,
        format,
    }
}

/// The three files PostgreSQL writes itself (no jsonlog before 15).
const PLAIN: &[Kind] = &[
    k("log", ENVELOPE_NONE, "stderr"),
    k("csv", ENVELOPE_NONE, "csvlog"),
    k("json", ENVELOPE_NONE, "jsonlog"),
];
const PLAIN_PG13: &[Kind] = &[
    k("log", ENVELOPE_NONE, "stderr"),
    k("csv", ENVELOPE_NONE, "csvlog"),
];

/// Every folder of the corpus, relative to `tests/fixtures/corpus`, and what it holds.
const FOLDERS: &[(&str, &[Kind])] = &[
    ("pg15-debian-berlin", PLAIN),
    ("pg15-default", PLAIN),
    ("pg15-pgbadger", PLAIN),
    ("pg15-rds-newyork", PLAIN),
    (
        "syslog/pg15-syslog-default",
        &[
            k("syslog", ENVELOPE_SYSLOG_3164, "stderr"),
            k("syslog5424", ENVELOPE_SYSLOG_5424, "stderr"),
            k("syslog3339", ENVELOPE_SYSLOG_3339, "stderr"),
        ],
    ),
    ("versions/pg13-default", PLAIN_PG13),
    ("versions/pg17-debian", PLAIN),
    ("versions/pg18-all", PLAIN),
    (
        "wrapped/cloudsql",
        &[k("json", ENVELOPE_CLOUD_LOGGING, "stderr")],
    ),
    ("wrapped/cnpg", &[k("json", ENVELOPE_CNPG, "csvlog")]),
    ("wrapped/cri", &[k("log", ENVELOPE_CRI, "stderr")]),
    (
        "wrapped/docker-json",
        &[k("json", ENVELOPE_DOCKER, "stderr")],
    ),
    (
        "wrapped/journald-json",
        &[k("json", ENVELOPE_JOURNALD_JSON, "stderr")],
    ),
    (
        "wrapped/journald-short",
        &[k("log", ENVELOPE_JOURNALD_SHORT, "stderr")],
    ),
    (
        "wrapped/kubectl-ts",
        &[k("log", ENVELOPE_KUBECTL, "stderr")],
    ),
];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `pgconn-top --once --json [extra...] <path>`: the JSON, or why there is none.
fn once_json(path: &Path, extra: &[&str]) -> Result<Value, String> {
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
type Session = (u64, Value, Value, Value, Value);

/// The open sessions, sorted by pid.
fn active_set(v: &Value) -> Vec<Session> {
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
fn differences(
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
fn contract_differences(
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

/// Checks every file of `folder` (both phases) with no flag; panics with every difference.
fn check_folder(folder: &str) {
    let (_, kinds) = FOLDERS
        .iter()
        .find(|(f, _)| *f == folder)
        .unwrap_or_else(|| panic!("{folder} is not in FOLDERS"));
    let dir = corpus().join(folder);
    // Cloud SQL's textPayload has no time stamp: the envelope's `timestamp` stands for `%m`.
    let alt = folder
        .starts_with("wrapped/cloudsql")
        .then_some("[%p]: [%l-1] db=%d,user=%u ");
    let mut report = String::new();
    let mut checked = 0;
    for (phase, truth_file) in [
        ("", "truth.json"),
        ("after-restart.", "truth-after-restart.json"),
    ] {
        let truth = read_json(&dir.join(truth_file));
        for kind in *kinds {
            let file = dir.join(format!("postgresql.{phase}{}", kind.ext));
            assert!(file.is_file(), "{} is missing", file.display());
            checked += 1;
            let bad = match once_json(&file, &[]) {
                Ok(got) => {
                    let mut bad = differences(&got, &truth, Some((&file, kind)), alt);
                    if !phase.is_empty() && !got["server"]["last_restart"].is_string() {
                        bad.push("server.last_restart: the restart was not seen".into());
                    }
                    bad
                }
                Err(e) => vec![e],
            };
            if !bad.is_empty() {
                let _ = writeln!(report, "{folder}/postgresql.{phase}{}:", kind.ext);
                for b in bad {
                    let _ = writeln!(report, "    {b}");
                }
            }
        }
    }
    assert_eq!(checked, 2 * kinds.len());
    assert!(
        report.is_empty(),
        "pgconn-top --once --json <file> (no flag) differs from the truth:\n{report}"
    );
}

macro_rules! folder_tests {
    ($($name:ident => $folder:literal,)*) => {$(
        #[test]
        fn $name() {
            check_folder($folder);
        }
    )*};
}

folder_tests! {
    real_pg15_debian_berlin => "pg15-debian-berlin",
    real_pg15_default => "pg15-default",
    real_pg15_pgbadger => "pg15-pgbadger",
    real_pg15_rds_newyork => "pg15-rds-newyork",
    syslog_pg15_syslog_default => "syslog/pg15-syslog-default",
    versions_pg13_default => "versions/pg13-default",
    versions_pg17_debian => "versions/pg17-debian",
    versions_pg18_all => "versions/pg18-all",
    wrapped_cloudsql => "wrapped/cloudsql",
    wrapped_cnpg => "wrapped/cnpg",
    wrapped_cri => "wrapped/cri",
    wrapped_docker_json => "wrapped/docker-json",
    wrapped_journald_json => "wrapped/journald-json",
    wrapped_journald_short => "wrapped/journald-short",
    wrapped_kubectl_ts => "wrapped/kubectl-ts",
}

/// Every folder holding a truth.json is in FOLDERS (and has a test above), and every log file in
/// it is one of its kinds: a folder or file added to the corpus cannot go unchecked.
#[test]
fn every_folder_and_file_is_listed() {
    let mut on_disk = Vec::new();
    let mut stack = vec![corpus()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "truth.json") {
                on_disk.push(d.strip_prefix(corpus()).unwrap().display().to_string());
            }
        }
    }
    on_disk.sort();
    let mut listed: Vec<String> = FOLDERS.iter().map(|(f, _)| f.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "folders with a truth.json vs FOLDERS");
    for (folder, kinds) in FOLDERS {
        let mut files: Vec<String> = std::fs::read_dir(corpus().join(folder))
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|n| n.starts_with("postgresql."))
            .collect();
        files.sort();
        let mut want: Vec<String> = kinds
            .iter()
            .flat_map(|k| {
                [
                    format!("postgresql.{}", k.ext),
                    format!("postgresql.after-restart.{}", k.ext),
                ]
            })
            .collect();
        want.sort();
        assert_eq!(files, want, "{folder}: log files");
    }
}

/// `gzip -c src > dst`.
fn gzip(src: &[u8], dst: &Path) {
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
fn split_at_entries(text: &[u8], n: usize) -> Vec<Vec<u8>> {
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
fn age(path: &Path, secs_ago: u64) {
    let t = std::time::SystemTime::now() - std::time::Duration::from_secs(secs_ago);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

fn assert_matches(
    what: &str,
    got: Result<Value, String>,
    truth: &Value,
    contract: Option<(&Path, &Kind)>,
) {
    let bad = match got {
        Ok(got) => {
            let mut bad = differences(&got, truth, contract, None);
            if contract.is_none() {
                // A directory: the contract's fields on every source, the files' order aside.
                match got["sources"].as_array() {
                    Some(s) if !s.is_empty() => {
                        for (i, s) in s.iter().enumerate() {
                            if s["format"] != "stderr"
                                || s["prefix"] != truth["log_line_prefix"]
                                || s["envelope"] != ENVELOPE_NONE
                            {
                                bad.push(format!("sources[{i}]: {s}"));
                            }
                        }
                    }
                    _ => bad.push(format!("sources: {}", got["sources"])),
                }
                if got["warnings"].as_array().is_none_or(|w| !w.is_empty()) {
                    bad.push(format!("warnings: {}", got["warnings"]));
                }
            }
            bad
        }
        Err(e) => vec![e],
    };
    assert!(
        bad.is_empty(),
        "{what} differs from the truth:\n    {}",
        bad.join("\n    ")
    );
}

/// A gzipped log reads exactly like the plain one, with no flag.
#[test]
fn gzipped_files() {
    let tmp = tempfile::tempdir().unwrap();
    for (folder, file, kind) in [
        ("pg15-debian-berlin", "postgresql.log", &PLAIN[0]),
        ("versions/pg17-debian", "postgresql.csv", &PLAIN[1]),
    ] {
        let dir = corpus().join(folder);
        let gz = tmp
            .path()
            .join(format!("{}-{file}.gz", folder.replace('/', "-")));
        gzip(&std::fs::read(dir.join(file)).unwrap(), &gz);
        let truth = read_json(&dir.join("truth.json"));
        assert_matches(
            &format!("{}", gz.display()),
            once_json(&gz, &[]),
            &truth,
            Some((&gz, kind)),
        );
    }
}

/// A log directory where the collector's file was rotated and compressed: `postgresql.log.1.gz`
/// (older) is read before the live `postgresql.log`.
#[test]
fn directory_with_a_rotated_gz_and_the_live_file() {
    let dir = corpus().join("pg15-debian-berlin");
    let tmp = tempfile::tempdir().unwrap();
    let parts = split_at_entries(&std::fs::read(dir.join("postgresql.log")).unwrap(), 2);
    let (old, live) = (
        tmp.path().join("postgresql.log.1.gz"),
        tmp.path().join("postgresql.log"),
    );
    gzip(&parts[0], &old);
    std::fs::write(&live, &parts[1]).unwrap();
    age(&old, 3600);
    let truth = read_json(&dir.join("truth.json"));
    assert_matches(
        "a directory with postgresql.log.1.gz + postgresql.log",
        once_json(tmp.path(), &[]),
        &truth,
        None,
    );
}

/// Debian's logrotate (`delaycompress`) leaves `postgresql-15-main.log.2.gz`, `.log.1` and the
/// live `.log`; read oldest first.
#[test]
fn directory_after_debian_logrotate() {
    let dir = corpus().join("pg15-debian-berlin");
    let tmp = tempfile::tempdir().unwrap();
    let parts = split_at_entries(&std::fs::read(dir.join("postgresql.log")).unwrap(), 3);
    let name = |s: &str| tmp.path().join(format!("postgresql-15-main.log{s}"));
    gzip(&parts[0], &name(".2.gz"));
    std::fs::write(name(".1"), &parts[1]).unwrap();
    std::fs::write(name(""), &parts[2]).unwrap();
    age(&name(".2.gz"), 7200);
    age(&name(".1"), 3600);
    let truth = read_json(&dir.join("truth.json"));
    assert_matches(
        "a directory after Debian's logrotate",
        once_json(tmp.path(), &[]),
        &truth,
        None,
    );
}

/// The harness itself: the stderr files, given `--prefix` (which today's code understands), and
/// the wrapped files unwrapped by this test into the plain lines they carry, equal their truth
/// files under the same comparison. This proves the comparison and the truth files, whatever the
/// state of inference and envelopes.
#[test]
fn harness_agrees_with_the_truth_given_the_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (folder, _) in FOLDERS {
        let dir = corpus().join(folder);
        for (phase, truth_file) in [
            ("", "truth.json"),
            ("after-restart.", "truth-after-restart.json"),
        ] {
            let truth = read_json(&dir.join(truth_file));
            let prefix = truth["log_line_prefix"].as_str().unwrap().to_string();
            let plain =
                |ext: &str| std::fs::read(dir.join(format!("postgresql.{phase}{ext}"))).unwrap();
            let text = match *folder {
                f if !f.starts_with("wrapped/") && !f.starts_with("syslog/") => plain("log"),
                "wrapped/docker-json" | "wrapped/journald-json" | "wrapped/cloudsql" => {
                    unwrap_json(folder, &plain("json"))
                }
                "wrapped/kubectl-ts" | "wrapped/cri" | "wrapped/journald-short" => {
                    unwrap_text(folder, &plain("log"))
                }
                _ => continue, // syslog and cnpg: no simple unwrapping
            };
            let file = tmp
                .path()
                .join(format!("{}.{phase}log", folder.replace('/', "-")));
            std::fs::write(&file, &text).unwrap();
            let bad = match once_json(&file, &["--format", "stderr", "--prefix", &prefix]) {
                Ok(got) => differences(&got, &truth, None, None),
                Err(e) => vec![e],
            };
            if !bad.is_empty() {
                failures.push(format!(
                    "{folder} {truth_file}:\n    {}",
                    bad.join("\n    ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The stderr lines inside JSON-lines envelopes (Docker `log`, journald `MESSAGE` as a string or
/// bytes, Cloud SQL `textPayload` behind its `timestamp` as `%m`).
fn unwrap_json(folder: &str, bytes: &[u8]) -> Vec<u8> {
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
fn unwrap_text(folder: &str, bytes: &[u8]) -> Vec<u8> {
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
