//! `--fleet fleet.toml`: the servers to follow, each with its source (a path, glob, directory
//! or `!command`) and, when its log cannot tell them, its prefix, time zone and format.
//!
//! ```toml
//! [[server]]
//! name = "prod"
//! source = "/var/log/postgresql/"
//! prefix = "%m [%p] %q%u@%d "
//! timezone = "Europe/Berlin"
//! format = "stderr"
//! ```

use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// One `[[server]]` of a fleet file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetServer {
    /// The server's name (a label: `[A-Za-z0-9_.-]+`).
    pub name: String,
    /// Where its log is: a path, glob or directory (relative to the fleet file), or `!command`.
    pub source: String,
    /// Its `log_line_prefix`, if given.
    pub prefix: Option<String>,
    /// Its `log_timezone`, if given (kept for the report; the log's own zone names are read).
    pub timezone: Option<String>,
    /// Its log format, if given.
    pub format: Option<crate::parse::Format>,
}

/// A fleet file that cannot be used, in one sentence naming the file, the line and the key.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// The file cannot be read.
    #[error("cannot read the fleet file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not a valid fleet file.
    #[error("{path}:{line}: {what}")]
    Invalid {
        path: PathBuf,
        line: usize,
        what: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    server: Vec<Spanned<Entry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: Spanned<String>,
    source: Spanned<String>,
    prefix: Option<String>,
    timezone: Option<Spanned<String>>,
    format: Option<Spanned<String>>,
}

/// Reads a fleet file.
pub fn load(path: &Path) -> Result<Vec<FleetServer>, FleetError> {
    let text = std::fs::read_to_string(path).map_err(|source| FleetError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut servers = parse(path, &text)?;
    // A relative path is read from the fleet file's directory, as a reader of the file expects.
    let base = path.parent().unwrap_or(Path::new(""));
    for s in &mut servers {
        if !s.source.starts_with('!') && Path::new(&s.source).is_relative() && s.source != "-" {
            s.source = base.join(&s.source).to_string_lossy().into_owned();
        }
    }
    Ok(servers)
}

/// The 1-based line of byte `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The key set on the line of byte `at`, when that line is `key = ...`.
fn key_at(text: &str, at: usize) -> Option<&str> {
    let at = at.min(text.len());
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')).then_some(key)
}

/// Parses the text of a fleet file named `path` (for the error sentences).
pub fn parse(path: &Path, text: &str) -> Result<Vec<FleetServer>, FleetError> {
    let invalid = |at: usize, what: String| FleetError::Invalid {
        path: path.to_path_buf(),
        line: line_of(text, at),
        what,
    };
    let file: File = toml::from_str(text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start);
        let msg = e.message().trim().trim_end_matches('.').to_string();
        let what = match key_at(text, at) {
            Some(k) if !msg.contains(&format!("`{k}`")) => format!("key `{k}`: {msg}"),
            _ => msg,
        };
        invalid(
            at,
            format!("{what}; see the README's \"Several servers\" for the keys"),
        )
    })?;
    if file.server.is_empty() {
        return Err(invalid(
            0,
            "no [[server]] table; give each server a name and a source".into(),
        ));
    }
    let mut out: Vec<FleetServer> = Vec::new();
    for s in file.server {
        let e = s.into_inner();
        let name = e.name.get_ref();
        let ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !ok {
            return Err(invalid(
                e.name.span().start,
                format!("key `name`: {name:?} is not a server name; use letters, digits, '_', '.' and '-'"),
            ));
        }
        if out.iter().any(|o| &o.name == name) {
            return Err(invalid(
                e.name.span().start,
                format!(
                    "key `name`: the server {name:?} is named twice; give each server its own name"
                ),
            ));
        }
        if e.source.get_ref().trim().is_empty() {
            return Err(invalid(
                e.source.span().start,
                "key `source`: empty; name a log file, directory, glob or !command".into(),
            ));
        }
        let format = match &e.format {
            None => None,
            Some(f) => Some(match f.get_ref().as_str() {
                "stderr" => crate::parse::Format::Stderr,
                "csvlog" => crate::parse::Format::Csvlog,
                "jsonlog" => crate::parse::Format::Jsonlog,
                other => {
                    return Err(invalid(
                        f.span().start,
                        format!("key `format`: {other:?} is not a log format; use stderr, csvlog or jsonlog"),
                    ))
                }
            }),
        };
        if let Some(tz) = &e.timezone {
            if tz.get_ref().trim().is_empty() {
                return Err(invalid(
                    tz.span().start,
                    "key `timezone`: empty; give the server's log_timezone, e.g. Europe/Berlin"
                        .into(),
                ));
            }
        }
        out.push(FleetServer {
            name: name.clone(),
            source: e.source.into_inner(),
            prefix: e.prefix,
            timezone: e.timezone.map(Spanned::into_inner),
            format,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(Path::new("f.toml"), text).unwrap_err().to_string()
    }

    #[test]
    fn servers_and_their_settings() {
        let t = r#"
[[server]]
name = "prod"
source = "/var/log/postgresql/"
prefix = "%m [%p] %q%u@%d "
timezone = "Europe/Berlin"
format = "stderr"

[[server]]
name = "db3"
source = "!ssh db3 tail -F -n +1 /var/log/postgresql/postgresql-16-main.log"
"#;
        let v = parse(Path::new("f.toml"), t).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].prefix.as_deref(), Some("%m [%p] %q%u@%d "));
        assert_eq!(v[0].format, Some(crate::parse::Format::Stderr));
        assert_eq!(v[0].timezone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(v[1].name, "db3");
        assert!(v[1].source.starts_with("!ssh"));
        assert_eq!(v[1].format, None);
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = err("[[server]]\nname = \"a\"\nsource = \"/x\"\nformat = \"xml\"\n");
        assert!(
            e.starts_with("f.toml:4: key `format`: \"xml\" is not a log format"),
            "{e}"
        );
        let e = err("[[server]]\nname = \"a\"\n");
        assert!(e.starts_with("f.toml:1: ") && e.contains("`source`"), "{e}");
        let e = err("[[server]]\nname = \"a\"\nsource = 3\n");
        assert!(e.starts_with("f.toml:3: key `source`: "), "{e}");
        let e = err("[[server]]\nname = \"a\"\nsource = \"/x\"\nport = 5\n");
        assert!(e.starts_with("f.toml:4: ") && e.contains("`port`"), "{e}");
        let e = err("[[server]]\nname = \"a b\"\nsource = \"/x\"\n");
        assert!(
            e.starts_with("f.toml:2: key `name`: \"a b\" is not a server name"),
            "{e}"
        );
        let e = err("[[server]]\nname = \"a\"\nsource = \"/x\"\n[[server]]\nname = \"a\"\nsource = \"/y\"\n");
        assert!(
            e.starts_with("f.toml:5: key `name`: the server \"a\" is named twice"),
            "{e}"
        );
        let e = err("name = \"a\"\n");
        assert!(e.starts_with("f.toml:1: "), "{e}");
        assert!(err("").contains("no [[server]] table"));
    }
}
