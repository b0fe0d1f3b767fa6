//! Finds every file that passed through a followed name: the name itself and its rotated
//! siblings in the same directory (`log.1`, `log.2`, ..., `log-20261129`, `log.old`), oldest first.

use std::cmp::Reverse;
use std::fs;
use std::io;
use std::os::unix::fs::{DirEntryExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Suffixes of compressed rotated files: their bytes are not log lines, so they are never read.
const COMPRESSED: [&str; 8] = [".gz", ".bz2", ".xz", ".zst", ".lz4", ".Z", ".zip", ".lzma"];

/// Where a name stands in the rotation order of one chain; greater is newer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Rank {
    /// `base-20261129`, `base.old`, `base-000123`: named by date or counter, ordered by name.
    Named(String),
    /// `base.N`: a numbered chain shifted on each rotation, so a greater N is older.
    Numbered(Reverse<u64>),
    /// The followed name itself: always the newest.
    Current,
}

/// One file of the chain, as listed.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    /// Its name now.
    pub path: PathBuf,
    /// Inode (the device is that of the directory).
    pub ino: u64,
    /// Its place in the rotation order.
    pub rank: Rank,
}

/// The rank of file name `name` in the chain of `base`, or `None` if it is not part of it.
pub(crate) fn rank(base: &str, name: &str) -> Option<Rank> {
    if name == base {
        return Some(Rank::Current);
    }
    let rest = name.strip_prefix(base)?;
    let mut chars = rest.chars();
    let sep = chars.next()?;
    if !matches!(sep, '.' | '-' | '_') || rest.len() < 2 {
        return None;
    }
    if COMPRESSED.iter().any(|c| rest.ends_with(c)) {
        return None;
    }
    let tail = &rest[1..];
    if sep == '.' && tail.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = tail.parse::<u64>() {
            return Some(Rank::Numbered(Reverse(n)));
        }
    }
    Some(Rank::Named(rest.to_string()))
}

fn list_once(dir: &Path, base: &str) -> io::Result<Vec<Member>> {
    let mut v = Vec::new();
    for e in fs::read_dir(dir)? {
        let Ok(e) = e else { continue };
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(rank) = rank(base, name) else {
            continue;
        };
        v.push(Member {
            path: e.path(),
            ino: e.ino(),
            rank,
        });
    }
    v.sort_by(|a, b| a.rank.cmp(&b.rank).then(a.ino.cmp(&b.ino)));
    Ok(v)
}

/// Lists the chain of `path` (the path itself included when it exists), oldest first.
///
/// A directory listed while files are being renamed can miss one or show it twice, so it is
/// listed again until two listings agree (at most a few times).
pub(crate) fn list(path: &Path) -> io::Result<Vec<Member>> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Some(base) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(Vec::new());
    };
    let mut prev = list_once(dir, base)?;
    for _ in 0..8 {
        let now = list_once(dir, base)?;
        let same = now.len() == prev.len()
            && now
                .iter()
                .zip(&prev)
                .all(|(a, b)| a.ino == b.ino && a.rank == b.rank);
        if same {
            return Ok(now);
        }
        prev = now;
    }
    Ok(prev)
}

/// Device and inode of the file at `path`, following no rename: `None` if it is gone.
pub(crate) fn ident_of(path: &Path) -> Option<(u64, u64)> {
    fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Length of the common prefix of `a` and `b` if one is a prefix of the other, else `None`.
pub(crate) fn prefix_match(a: &[u8], b: &[u8]) -> Option<usize> {
    let n = a.len().min(b.len());
    (a[..n] == b[..n]).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_order_a_rotation_chain() {
        let b = "postgresql.log";
        let mut names = vec![
            "postgresql.log",
            "postgresql.log.1",
            "postgresql.log.10",
            "postgresql.log.2",
            "postgresql.log-20261128",
            "postgresql.log-20261127",
        ];
        names.sort_by_key(|x| rank(b, x).unwrap());
        assert_eq!(
            names,
            [
                "postgresql.log-20261127",
                "postgresql.log-20261128",
                "postgresql.log.10",
                "postgresql.log.2",
                "postgresql.log.1",
                "postgresql.log",
            ]
        );
        for other in [
            "postgresql.log.2.gz",
            "postgresql.logx",
            "postgresql.lo",
            "postgresql.log.",
            "other.log.1",
        ] {
            assert_eq!(rank(b, other), None, "{other}");
        }
    }

    #[test]
    fn lists_the_chain_of_a_path() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.log");
        for n in ["a.log", "a.log.1", "a.log.2", "a.log.3.gz", "b.log"] {
            fs::write(d.path().join(n), n).unwrap();
        }
        let got: Vec<_> = list(&p)
            .unwrap()
            .into_iter()
            .map(|m| m.path.file_name().unwrap().to_str().unwrap().to_string())
            .collect();
        assert_eq!(got, ["a.log.2", "a.log.1", "a.log"]);
        assert_eq!(prefix_match(b"abc", b"ab"), Some(2));
        assert_eq!(prefix_match(b"abc", b"ax"), None);
    }
}
