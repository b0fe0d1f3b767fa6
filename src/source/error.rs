//! Errors of the source layer, each one sentence naming the path and what to do.

use std::io;
use std::path::{Path, PathBuf};

/// A source problem; `Display` is a full sentence meant for the user.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The path does not exist (yet).
    #[error("{path} does not exist (yet); waiting for it to appear — check the path, or pass the log file or directory PostgreSQL writes to")]
    NotFound { path: PathBuf },
    /// The file or directory cannot be read by this user.
    #[error("cannot read {path}: permission denied; add yourself to the group that owns it (`sudo usermod -aG {group} $USER`, then log in again) or run with sudo")]
    PermissionDenied { path: PathBuf, group: String },
    /// Some other I/O failure.
    #[error("cannot read {path}: {source}; check that it is a readable regular file or directory")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A glob argument matched nothing.
    #[error("no file matches {pattern}; check the pattern, or pass the directory to follow new files as they appear")]
    GlobNoMatch { pattern: String },
    /// A glob argument could not be parsed.
    #[error("bad pattern {pattern}: {reason}; quote it or escape the special character with [ ]")]
    BadGlob { pattern: String, reason: String },
    /// Discovery found no log.
    #[error("no PostgreSQL log found: tried {}; pass a log path, e.g. pgconn-top /var/log/postgresql/postgresql-15-main.log, or try --demo", tried.join(", "))]
    NoLogFound { tried: Vec<String> },
}

impl SourceError {
    /// Classifies an I/O error on `path` into the matching variant.
    pub fn from_io(path: &Path, err: io::Error) -> Self {
        match err.kind() {
            io::ErrorKind::NotFound => SourceError::NotFound {
                path: path.to_path_buf(),
            },
            io::ErrorKind::PermissionDenied => SourceError::PermissionDenied {
                path: path.to_path_buf(),
                group: owning_group(path).unwrap_or_else(|| "adm".to_string()),
            },
            _ => SourceError::Io {
                path: path.to_path_buf(),
                source: err,
            },
        }
    }
}

/// The name of the group owning `path` (or the nearest existing parent), from /etc/group.
fn owning_group(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let gid = path
        .ancestors()
        .find_map(|p| std::fs::metadata(p).ok())?
        .gid();
    let groups = std::fs::read_to_string("/etc/group").ok()?;
    groups.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let id: u32 = f.nth(1)?.parse().ok()?;
        (id == gid).then(|| name.to_string())
    })
}

/// The user-facing sentence for an I/O error on `path` (used for `SourceMsg::Status`).
pub fn describe_io_error(path: &Path, err: &io::Error) -> String {
    SourceError::from_io(path, io::Error::new(err.kind(), err.to_string())).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_denied_sentence() {
        let p = Path::new("/var/log/postgresql/x.log");
        let e = io::Error::from(io::ErrorKind::PermissionDenied);
        let s = describe_io_error(p, &e);
        assert!(s.starts_with("cannot read /var/log/postgresql/x.log: permission denied;"));
        assert!(s.contains("sudo usermod -aG ") && s.contains(" $USER"));
        assert!(s.contains("run with sudo"));
    }

    #[test]
    fn not_found_and_other_sentences() {
        let p = Path::new("/tmp/nope.log");
        let s = describe_io_error(p, &io::Error::from(io::ErrorKind::NotFound));
        assert!(s.starts_with("/tmp/nope.log does not exist (yet)"));
        let s = describe_io_error(p, &io::Error::other("boom"));
        assert!(s.starts_with("cannot read /tmp/nope.log: boom;"));
        let s = SourceError::NoLogFound {
            tried: vec![
                "/proc (no running postmaster)".into(),
                "$PGDATA (unset)".into(),
            ],
        }
        .to_string();
        assert_eq!(
            s,
            "no PostgreSQL log found: tried /proc (no running postmaster), $PGDATA (unset); pass a log path, e.g. pgconn-top /var/log/postgresql/postgresql-15-main.log, or try --demo"
        );
    }
}
