//! The files a one-shot read of a log directory covers, rotated copies included: the
//! collector's files (`postgresql-2026-11-29_101500.log`), Debian's `postgresql-15-main.log`
//! with logrotate's `.1`, `.2.gz` ... and `-20261129.gz` copies, oldest first, the live file last.

use super::DirSpec;
use std::cmp::Ordering;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// Endings of compressed copies, read transparently.
pub const COMPRESSED: [&str; 4] = [".gz", ".bz2", ".zst", ".xz"];

/// How old a copy is among its siblings: 0 for the live name, larger for older copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Age {
    /// `name-20261129[.gz]`: logrotate's `dateext`; older dates are older.
    Dated(u64),
    /// `name.N[.gz]`: a larger N is older.
    Numbered(u32),
    Live,
}

/// Splits a file name into the log name it is a copy of and its age among the copies.
fn base_and_age(name: &str) -> (&str, Age) {
    let name = COMPRESSED
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(name);
    if let Some((base, n)) = name.rsplit_once('.') {
        if !n.is_empty() && n.len() <= 4 && n.bytes().all(|c| c.is_ascii_digit()) {
            return (base, Age::Numbered(n.parse().unwrap_or(0)));
        }
    }
    if let Some((base, d)) = name.rsplit_once('-') {
        if (8..=14).contains(&d.len()) && d.bytes().all(|c| c.is_ascii_digit()) {
            return (base, Age::Dated(d.parse().unwrap_or(0)));
        }
    }
    (name, Age::Live)
}

/// Oldest first: a numbered copy with a larger number, dated copies by date, the live file last.
fn older_first(a: &Age, b: &Age) -> Ordering {
    match (a, b) {
        (Age::Numbered(x), Age::Numbered(y)) => y.cmp(x),
        _ => a.cmp(b),
    }
}

struct Found {
    path: PathBuf,
    mtime: SystemTime,
    base: String,
    age: Age,
}

/// The log files of a directory modified within `window` (and always the newest), with their
/// rotated and compressed copies, in the order they were written.
pub fn replay_set(spec: &DirSpec, window: Duration) -> std::io::Result<Vec<PathBuf>> {
    let re = spec.name_pattern();
    // Besides the collector's names, the plain `postgresql.log` many setups write.
    let plain = format!("postgresql.{}", spec.format.extension());
    let is_log = |name: &str| re.is_match(name) || name == plain;
    let mut found = Vec::new();
    for e in std::fs::read_dir(&spec.dir)? {
        let Ok(e) = e else { continue };
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let (base, age) = match base_and_age(name) {
            (base, age) if is_log(base) => (base, age),
            // A collector file named by date (`postgresql-20261129`) is a log of its own.
            _ if is_log(name) => (name, Age::Live),
            _ => continue,
        };
        let Ok(m) = std::fs::metadata(e.path()) else {
            continue;
        };
        if !m.is_file() {
            continue;
        }
        found.push(Found {
            path: e.path(),
            mtime: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            base: base.to_string(),
            age,
        });
    }
    // Files of one log name in rotation order; names by their newest write.
    let newest_of = |base: &str, found: &[Found]| {
        found
            .iter()
            .filter(|f| f.base == base)
            .map(|f| f.mtime)
            .max()
            .unwrap_or(SystemTime::UNIX_EPOCH)
    };
    let keys: Vec<SystemTime> = found.iter().map(|f| newest_of(&f.base, &found)).collect();
    let mut order: Vec<usize> = (0..found.len()).collect();
    order.sort_by(|&i, &j| {
        let (a, b) = (&found[i], &found[j]);
        (keys[i], &a.base)
            .cmp(&(keys[j], &b.base))
            .then_with(|| older_first(&a.age, &b.age))
            .then_with(|| a.path.cmp(&b.path))
    });
    let since = SystemTime::now()
        .checked_sub(window)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let last = order.last().copied();
    Ok(order
        .into_iter()
        .filter(|&i| found[i].mtime >= since || Some(i) == last)
        .map(|i| found[i].path.clone())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Format;

    #[test]
    fn names_of_rotated_copies() {
        assert_eq!(
            base_and_age("postgresql-15-main.log.2.gz"),
            ("postgresql-15-main.log", Age::Numbered(2))
        );
        assert_eq!(
            base_and_age("postgresql-15-main.log.1"),
            ("postgresql-15-main.log", Age::Numbered(1))
        );
        assert_eq!(
            base_and_age("postgresql-15-main.log-20261129.zst"),
            ("postgresql-15-main.log", Age::Dated(20261129))
        );
        assert_eq!(
            base_and_age("postgresql-2026-11-29_101500.log"),
            ("postgresql-2026-11-29_101500.log", Age::Live)
        );
    }

    #[test]
    fn oldest_copy_first_live_file_last() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "postgresql-15-main.log",
            "postgresql-15-main.log.1",
            "postgresql-15-main.log.2.gz",
            "postgresql-15-main.log.10.gz",
            "unrelated.txt",
        ] {
            std::fs::write(dir.path().join(name), "x\n").unwrap();
        }
        let spec = DirSpec::new(dir.path(), Format::Stderr);
        let got: Vec<String> = replay_set(&spec, Duration::from_secs(3600))
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            got,
            [
                "postgresql-15-main.log.10.gz",
                "postgresql-15-main.log.2.gz",
                "postgresql-15-main.log.1",
                "postgresql-15-main.log"
            ]
        );
    }
}
