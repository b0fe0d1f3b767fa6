//! Finds the local server's log when no path is given: running postmaster (/proc), then $PGDATA, then /var/log/postgresql.

use std::fs;
use std::path::{Path, PathBuf};

use super::conf::{is_on, load_conf, Settings};
use super::{DirSpec, Format, SourceError, SourceSpec};

/// What discovery found: sources to follow plus the settings the parser needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    /// What to follow: a log directory (logging_collector on) or log file(s).
    pub sources: Vec<SourceSpec>,
    /// Format family, from `log_destination`.
    pub format: Format,
    /// `log_line_prefix`, if a config file was read and sets it.
    pub log_line_prefix: Option<String>,
    /// `log_timezone`, if a config file was read and sets it.
    pub log_timezone: Option<String>,
    /// The data directory, if known.
    pub data_directory: Option<PathBuf>,
    /// What was tried, one short phrase each (for messages).
    pub tried: Vec<String>,
}

/// Where discovery looks (the real system by default; temp dirs in tests).
#[derive(Debug, Clone)]
pub struct DiscoverEnv {
    /// Usually `/proc`.
    pub proc_root: PathBuf,
    /// Usually `$PGDATA`.
    pub pgdata: Option<PathBuf>,
    /// Usually `/var/log/postgresql`.
    pub var_log: PathBuf,
    /// Usually `/etc/postgresql` (Debian cluster configs, for the prefix of a found log).
    pub etc: PathBuf,
}

impl DiscoverEnv {
    /// The real system.
    pub fn system() -> Self {
        DiscoverEnv {
            proc_root: "/proc".into(),
            pgdata: std::env::var_os("PGDATA")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            var_log: "/var/log/postgresql".into(),
            etc: "/etc/postgresql".into(),
        }
    }
}

/// Finds the local server's log; the error sentence lists what was tried.
pub fn discover() -> Result<Discovery, SourceError> {
    discover_in(&DiscoverEnv::system())
}

/// [`discover`] with explicit places to look.
pub fn discover_in(env: &DiscoverEnv) -> Result<Discovery, SourceError> {
    let mut tried = Vec::new();
    let mut fallback: Option<Discovery> = None;
    let pms = postmasters(&env.proc_root);
    if pms.is_empty() {
        tried.push(format!(
            "{} (no running postmaster)",
            env.proc_root.display()
        ));
    }
    for pm in &pms {
        let (mut d, s) = from_cluster(&pm.data_dir, pm.config_file.as_deref(), &pm.overrides);
        d.sources = cluster_sources(&d, &s, pm.stderr.as_ref());
        if !d.sources.is_empty() {
            tried.push(format!("postmaster {}", pm.pid));
            d.tried = tried;
            return Ok(d);
        }
        tried.push(format!("postmaster {} (log location not readable)", pm.pid));
        fallback.get_or_insert(d);
    }
    match &env.pgdata {
        None => tried.push("$PGDATA (unset)".into()),
        Some(data) => {
            let (mut d, s) = from_cluster(data, None, &Settings::new());
            d.sources = cluster_sources(&d, &s, None);
            if !d.sources.is_empty() {
                tried.push(format!("$PGDATA={}", data.display()));
                d.tried = tried;
                return Ok(d);
            }
            tried.push(format!(
                "$PGDATA={} (logging_collector off or no postgresql.conf)",
                data.display()
            ));
            fallback.get_or_insert(d);
        }
    }
    match newest_debian_log(&env.var_log) {
        Ok(Some(log)) => {
            tried.push(env.var_log.display().to_string());
            let mut d = fallback.unwrap_or_else(|| debian_settings(&env.etc, &log));
            d.sources = vec![SourceSpec::File(log)];
            d.format = Format::Stderr;
            d.tried = tried;
            Ok(d)
        }
        Ok(None) => {
            tried.push(format!("{} (empty)", env.var_log.display()));
            Err(SourceError::NoLogFound { tried })
        }
        Err(e) => {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "missing",
                std::io::ErrorKind::PermissionDenied => "permission denied",
                _ => "unreadable",
            };
            tried.push(format!("{} ({why})", env.var_log.display()));
            Err(SourceError::NoLogFound { tried })
        }
    }
}

/// A running postmaster found in /proc.
#[derive(Debug)]
struct Postmaster {
    pid: u32,
    data_dir: PathBuf,
    config_file: Option<PathBuf>,
    /// GUCs from the command line (`-c name=value`, `--name=value`).
    overrides: Settings,
    /// Where its stderr (fd 2) points, if readable.
    stderr: Option<PathBuf>,
}

fn postmasters(proc_root: &Path) -> Vec<Postmaster> {
    let Ok(rd) = fs::read_dir(proc_root) else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = rd
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    pids.into_iter()
        .filter_map(|pid| parse_postmaster(&proc_root.join(pid.to_string()), pid))
        .collect()
}

fn parse_postmaster(dir: &Path, pid: u32) -> Option<Postmaster> {
    let raw = fs::read(dir.join("cmdline")).ok()?;
    let args: Vec<String> = raw
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let prog = Path::new(args.first()?).file_name()?.to_str()?;
    if prog != "postgres" && prog != "postmaster" {
        return None;
    }
    let mut data: Option<String> = None;
    let mut overrides = Settings::new();
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        if a == "-D" {
            data = it.next().cloned();
        } else if let Some(d) = a.strip_prefix("-D") {
            data = Some(d.to_string());
        } else if a == "-c" || a.starts_with("--") || a.starts_with("-c") {
            let kv = if a == "-c" {
                it.next().cloned().unwrap_or_default()
            } else if let Some(kv) = a.strip_prefix("--") {
                kv.to_string()
            } else {
                a[2..].to_string()
            };
            if let Some((k, v)) = kv.split_once('=') {
                overrides.insert(k.replace('-', "_").to_ascii_lowercase(), v.to_string());
            }
        }
    }
    let data = data
        .or_else(|| overrides.get("data_directory").cloned())
        .or_else(|| environ_var(&dir.join("environ"), "PGDATA"))?;
    let cwd = fs::read_link(dir.join("cwd")).unwrap_or_else(|_| PathBuf::from("/"));
    let data_dir = cwd.join(data);
    let stderr = fs::read_link(dir.join("fd/2"))
        .ok()
        .filter(|p| p.is_absolute() && !p.starts_with("/dev") && p.is_file());
    Some(Postmaster {
        pid,
        config_file: overrides.get("config_file").map(|c| cwd.join(c)),
        data_dir,
        overrides,
        stderr,
    })
}

fn environ_var(path: &Path, name: &str) -> Option<String> {
    let raw = fs::read(path).ok()?;
    raw.split(|&b| b == 0).find_map(|kv| {
        let kv = std::str::from_utf8(kv).ok()?;
        let (k, v) = kv.split_once('=')?;
        (k == name && !v.is_empty()).then(|| v.to_string())
    })
}

/// Settings of a cluster: its config file, then `postgresql.auto.conf` of the data directory.
fn d_settings(data: &Path, config_file: Option<&Path>) -> Settings {
    let mut s = Settings::new();
    let conf = config_file
        .map(Path::to_path_buf)
        .unwrap_or_else(|| data.join("postgresql.conf"));
    load_conf(&conf, &mut s);
    let data = s
        .get("data_directory")
        .map(|d| data.join(d))
        .unwrap_or_else(|| data.to_path_buf());
    load_conf(&data.join("postgresql.auto.conf"), &mut s);
    s
}

fn from_cluster(
    data: &Path,
    config_file: Option<&Path>,
    overrides: &Settings,
) -> (Discovery, Settings) {
    let mut s = d_settings(data, config_file);
    s.extend(overrides.clone());
    let data_dir = s
        .get("data_directory")
        .map(|d| data.join(d))
        .unwrap_or_else(|| data.to_path_buf());
    let dest = s.get("log_destination").map_or("stderr", String::as_str);
    let kinds: Vec<&str> = dest.split(',').map(str::trim).collect();
    // Several destinations write the same entries: jsonlog, then csvlog, carry exact fields.
    let format = [Format::Jsonlog, Format::Csvlog, Format::Stderr]
        .into_iter()
        .find(|f| kinds.iter().any(|k| k.eq_ignore_ascii_case(f.name())))
        .unwrap_or(Format::Stderr);
    let d = Discovery {
        sources: Vec::new(),
        format,
        log_line_prefix: s.get("log_line_prefix").cloned(),
        log_timezone: s.get("log_timezone").cloned(),
        data_directory: Some(data_dir),
        tried: Vec::new(),
    };
    (d, s)
}

/// Where a cluster's log goes: the collector's directory, or the file its stderr points to.
fn cluster_sources(d: &Discovery, s: &Settings, stderr: Option<&PathBuf>) -> Vec<SourceSpec> {
    let data = d.data_directory.clone().unwrap_or_default();
    let dest = s
        .get("log_destination")
        .map_or("stderr", String::as_str)
        .to_ascii_lowercase();
    let to_files = ["stderr", "csvlog", "jsonlog"]
        .iter()
        .any(|k| dest.contains(k));
    if !to_files {
        return Vec::new();
    }
    if s.get("logging_collector").is_some_and(|v| is_on(v)) {
        let dir = data.join(s.get("log_directory").map_or("log", String::as_str));
        let pattern = s
            .get("log_filename")
            .cloned()
            .unwrap_or_else(|| "postgresql-%Y-%m-%d_%H%M%S.log".into());
        return vec![SourceSpec::Dir(DirSpec {
            dir,
            filename_pattern: Some(pattern),
            format: d.format,
            data_dir: Some(data),
        })];
    }
    match stderr {
        Some(p) => vec![SourceSpec::File(p.clone())],
        None => Vec::new(),
    }
}

/// Newest `postgresql-*.log` in a Debian-style log directory.
fn newest_debian_log(dir: &Path) -> std::io::Result<Option<PathBuf>> {
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for e in fs::read_dir(dir)? {
        let Ok(e) = e else { continue };
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if !(name.starts_with("postgresql-") && name.ends_with(".log")) {
            continue;
        }
        let Ok(m) = e.metadata() else { continue };
        let t = m.modified().unwrap_or(std::time::SystemTime::UNIX_EPOCH);
        if m.is_file() && best.as_ref().is_none_or(|(bt, _)| t > *bt) {
            best = Some((t, e.path()));
        }
    }
    Ok(best.map(|(_, p)| p))
}

/// Settings for a Debian log `postgresql-VER-CLUSTER.log` from `/etc/postgresql/VER/CLUSTER/`.
fn debian_settings(etc: &Path, log: &Path) -> Discovery {
    let stem = log
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("postgresql-")?.strip_suffix(".log"))
        .unwrap_or("");
    let conf_dir = stem
        .split_once('-')
        .map(|(ver, cluster)| etc.join(ver).join(cluster));
    match conf_dir {
        Some(c) if c.join("postgresql.conf").is_file() => {
            let (d, _) = from_cluster(&c, Some(&c.join("postgresql.conf")), &Settings::new());
            Discovery {
                data_directory: d.data_directory.filter(|p| p != &c),
                ..d
            }
        }
        _ => Discovery {
            sources: Vec::new(),
            format: Format::Stderr,
            log_line_prefix: None,
            log_timezone: None,
            data_directory: None,
            tried: Vec::new(),
        },
    }
}

#[cfg(test)]
#[path = "discover_tests.rs"]
mod tests;
