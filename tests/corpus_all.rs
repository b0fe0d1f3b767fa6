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

#[path = "support/corpus.rs"]
mod support;

use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;
use support::*;

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
    ("wrapped/cnpg", &[k("json", ENVELOPE_CNPG, "jsonlog")]),
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
                if !got["warnings"].as_array().is_some_and(Vec::is_empty) {
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
