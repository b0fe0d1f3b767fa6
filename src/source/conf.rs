//! Parser for `postgresql.conf` / `postgresql.auto.conf` (quotes, optional `=`, comments, includes; later settings win).

use crate::store::capacity::Limits;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Parsed settings: lower-case name -> value (quotes removed, escapes resolved).
pub type Settings = HashMap<String, String>;

/// Parses conf text into `(name, value)` pairs in file order (names lower-cased).
/// Include directives come out as ordinary pairs named `include`, `include_if_exists`, `include_dir`.
pub fn parse_conf(text: &str) -> Vec<(String, String)> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<(String, String)> {
    let line = line.trim_start();
    let name_len = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'))
        .unwrap_or(line.len());
    if name_len == 0 {
        return None; // blank, comment, or garbage
    }
    let name = line[..name_len].to_ascii_lowercase();
    let mut rest = line[name_len..].trim_start();
    if let Some(r) = rest.strip_prefix('=') {
        rest = r.trim_start();
    }
    let value = if let Some(q) = rest.strip_prefix('\'') {
        unquote(q)?
    } else {
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '#')
            .unwrap_or(rest.len());
        rest[..end].to_string()
    };
    Some((name, value))
}

/// Reads a single-quoted value (after the opening quote): `''` and backslash escapes.
fn unquote(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if chars.peek() == Some(&'\'') => {
                chars.next();
                out.push('\'');
            }
            '\'' => return Some(out),
            '\\' => match chars.next()? {
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                d @ '0'..='7' => {
                    let mut v = d.to_digit(8).unwrap_or(0);
                    for _ in 0..2 {
                        match chars.peek().and_then(|c| c.to_digit(8)) {
                            Some(x) => {
                                v = v * 8 + x;
                                chars.next();
                            }
                            None => break,
                        }
                    }
                    out.push(char::from_u32(v).unwrap_or('?'));
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None // unterminated quote: PostgreSQL rejects the line
}

/// Loads `path` into `settings` (later settings win), following includes relative to the file's
/// directory, up to a nesting depth of 10. Returns false if `path` could not be read.
pub fn load_conf(path: &Path, settings: &mut Settings) -> bool {
    load(path, settings, 0)
}

fn load(path: &Path, settings: &mut Settings, depth: u32) -> bool {
    if depth > 10 {
        return false;
    }
    let Ok(text) = fs::read_to_string(path) else {
        return false;
    };
    let base = path.parent().unwrap_or(Path::new("/"));
    for (name, value) in parse_conf(&text) {
        match name.as_str() {
            "include" | "include_if_exists" => {
                load(&base.join(&value), settings, depth + 1);
            }
            "include_dir" => {
                let dir = base.join(&value);
                let Ok(rd) = fs::read_dir(&dir) else { continue };
                let mut files: Vec<PathBuf> = rd
                    .filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| {
                        let n = p.file_name().and_then(|n| n.to_str()).unwrap_or(".");
                        !n.starts_with('.') && n.ends_with(".conf") && p.is_file()
                    })
                    .collect();
                files.sort();
                for f in files {
                    load(&f, settings, depth + 1);
                }
            }
            _ => {
                settings.insert(name, value);
            }
        }
    }
    true
}

/// The server's connection slot settings for the logs followed: `--max-connections` first,
/// then the `postgresql.conf` (with its includes and `postgresql.auto.conf`) of the data
/// directory a log directory belongs to, or found next to a log (the log's directory, its
/// parent or grandparent: `$PGDATA/log/postgresql.log`).
pub fn connection_limits<'a>(
    flag: Option<u32>,
    specs: impl IntoIterator<Item = &'a super::SourceSpec>,
) -> Limits {
    let given = Limits {
        max_connections: flag,
        origin: flag.map(|_| "--max-connections".to_string()),
        ..Limits::default()
    };
    for spec in specs {
        let start: Option<&Path> = match spec {
            super::SourceSpec::Dir(d) => d.data_dir.as_deref().or(Some(d.dir.as_path())),
            super::SourceSpec::File(p) => p.parent(),
            super::SourceSpec::Stdin => None,
        };
        if let Some(found) = start.and_then(limits_near) {
            return given.or(found);
        }
        if let super::SourceSpec::File(p) = spec {
            if let Some(found) = debian_conf_dir(Path::new("/etc/postgresql"), p)
                .as_deref()
                .and_then(limits_near)
            {
                return given.or(found);
            }
        }
    }
    given
}

/// `/etc/postgresql/VER/CLUSTER` for a Debian log `postgresql-VER-CLUSTER.log`.
fn debian_conf_dir(etc: &Path, log: &Path) -> Option<PathBuf> {
    let stem = log
        .file_name()?
        .to_str()?
        .strip_prefix("postgresql-")?
        .strip_suffix(".log")?;
    let (ver, cluster) = stem.split_once('-')?;
    // A major version (`15`, `9.6`), not a date (`2026-11-29_...`).
    let major = ver.split('.').next().unwrap_or_default();
    let is_version = (1..=2).contains(&major.len())
        && ver.len() <= 4
        && ver.chars().all(|c| c.is_ascii_digit() || c == '.');
    (is_version && !cluster.is_empty() && !cluster.contains('/'))
        .then(|| etc.join(ver).join(cluster))
}

/// The limits of the data directory at or above `dir` (up to two levels), if one is readable.
pub fn limits_near(dir: &Path) -> Option<Limits> {
    for d in dir.ancestors().take(3) {
        let conf = d.join("postgresql.conf");
        if !conf.is_file() {
            continue;
        }
        let mut s = Settings::new();
        if !load_conf(&conf, &mut s) {
            continue;
        }
        let data = s
            .get("data_directory")
            .map_or_else(|| d.to_path_buf(), |x| d.join(x));
        load_conf(&data.join("postgresql.auto.conf"), &mut s);
        let l = Limits::from_settings(&s, &conf.display().to_string());
        // A config that sets nothing still says the defaults apply.
        return Some(Limits {
            max_connections: l.max_connections.or(Some(100)),
            origin: Some(conf.display().to_string()),
            ..l
        });
    }
    None
}

/// PostgreSQL boolean: on/true/yes/1 (and unambiguous prefixes).
pub fn is_on(v: &str) -> bool {
    let v = v.trim().to_ascii_lowercase();
    matches!(v.as_str(), "on" | "1")
        || (!v.is_empty() && ("true".starts_with(&v) || "yes".starts_with(&v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quotes_equals_comments_escapes() {
        let text = r#"
# comment
logging_collector = on		# trailing comment
Log_Directory 'pg_log'
log_filename='postgresql-%a.log'
log_line_prefix = '%m [%p] %q%u@%d '   # Debian
log_timezone = 'Europe/Paris'
weird = 'it''s \'quoted\' \101\n'
bare=42#c
  indented = 'x # not a comment'
broken = 'unterminated
= nothing
"#;
        let v = parse_conf(text);
        let m: Settings = v.into_iter().collect();
        assert_eq!(m["logging_collector"], "on");
        assert_eq!(m["log_directory"], "pg_log");
        assert_eq!(m["log_filename"], "postgresql-%a.log");
        assert_eq!(m["log_line_prefix"], "%m [%p] %q%u@%d ");
        assert_eq!(m["log_timezone"], "Europe/Paris");
        assert_eq!(m["weird"], "it's 'quoted' A\n");
        assert_eq!(m["bare"], "42");
        assert_eq!(m["indented"], "x # not a comment");
        assert!(!m.contains_key("broken"));
        assert_eq!(m.len(), 8);
    }

    #[test]
    fn later_wins_and_includes_are_followed() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir(d.path().join("conf.d")).unwrap();
        fs::write(
            d.path().join("postgresql.conf"),
            "log_directory = 'a'\ninclude 'extra.conf'\ninclude_if_exists 'missing.conf'\ninclude_dir 'conf.d'\nlog_timezone = 'UTC'\n",
        )
        .unwrap();
        fs::write(
            d.path().join("extra.conf"),
            "log_directory = 'b'\nlog_timezone = 'X'\n",
        )
        .unwrap();
        fs::write(d.path().join("conf.d/01.conf"), "log_filename = 'one'\n").unwrap();
        fs::write(d.path().join("conf.d/02.conf"), "log_filename = 'two'\n").unwrap();
        fs::write(d.path().join("conf.d/03.txt"), "log_filename = 'ignored'\n").unwrap();
        let mut s = Settings::new();
        assert!(load_conf(&d.path().join("postgresql.conf"), &mut s));
        assert_eq!(s["log_directory"], "b");
        assert_eq!(s["log_filename"], "two");
        assert_eq!(s["log_timezone"], "UTC");
        assert!(!load_conf(&d.path().join("nope.conf"), &mut s));
        assert!(is_on("ON") && is_on("t") && is_on("yes") && !is_on("off") && !is_on("0"));
    }

    #[test]
    fn connection_limits_from_the_data_directory_above_a_log() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("log")).unwrap();
        fs::write(
            d.path().join("postgresql.conf"),
            "max_connections = 20\ninclude_if_exists 'more.conf'\n",
        )
        .unwrap();
        fs::write(
            d.path().join("more.conf"),
            "superuser_reserved_connections = 2\n",
        )
        .unwrap();
        fs::write(
            d.path().join("postgresql.auto.conf"),
            "reserved_connections = '4'\n",
        )
        .unwrap();
        let log = super::super::SourceSpec::File(d.path().join("log/postgresql.log"));
        let l = connection_limits(None, [&log]);
        assert_eq!(
            (l.max_connections, l.superuser_reserved, l.reserved),
            (Some(20), Some(2), Some(4))
        );
        assert!(l.origin.unwrap().ends_with("postgresql.conf"));
        let l = connection_limits(Some(50), [&log]);
        assert_eq!(
            (l.max_connections, l.superuser_reserved),
            (Some(50), Some(2))
        );
        let l = connection_limits(Some(7), [&super::super::SourceSpec::Stdin]);
        assert_eq!(
            (l.max_connections, l.origin.as_deref()),
            (Some(7), Some("--max-connections"))
        );
        // A config that does not set max_connections: PostgreSQL's default.
        fs::write(d.path().join("postgresql.conf"), "port = 5433\n").unwrap();
        assert_eq!(connection_limits(None, [&log]).max_connections, Some(100));
    }

    #[test]
    fn debian_logs_name_their_cluster_config() {
        let etc = Path::new("/etc/postgresql");
        assert_eq!(
            debian_conf_dir(etc, Path::new("/var/log/postgresql/postgresql-15-main.log")),
            Some(PathBuf::from("/etc/postgresql/15/main"))
        );
        assert_eq!(
            debian_conf_dir(etc, Path::new("/x/postgresql-2026-11-29_120000.log")),
            None
        );
        assert_eq!(debian_conf_dir(etc, Path::new("/x/postgresql.log")), None);
    }
}
