//! Tells the format of a log, and its `log_line_prefix`, from its first lines.

use super::infer::{infer_prefix, Inference};
use super::prefix::Prefix;
use super::time::parse_timestamp;
use super::Format;

/// How many entry lines detection looks at.
const SAMPLE_LINES: usize = 400;

/// Why a format could not be told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetectError {
    #[error("no log_line_prefix explains its connection lines; pass the server's setting with --prefix '...' (SHOW log_line_prefix)")]
    UnknownPrefix,
    #[error("it does not look like a PostgreSQL log (stderr, csvlog or jsonlog); pass --format if it is one")]
    NotALog,
    /// No connection line yet (a freshly started server logs only postmaster lines, which
    /// `%q` may cut): ask again with more lines.
    #[error("no connection line yet to read log_line_prefix from; waiting for one (or pass --prefix '...')")]
    Undecided,
}

fn entry_lines(sample: &[u8]) -> impl Iterator<Item = &[u8]> {
    sample
        .split(|&c| c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty() && l[0] != b'\t')
        .take(SAMPLE_LINES)
}

/// The format of a sample: jsonlog and csvlog by their shape, else stderr.
/// `hint` is the file's extension (`csv`, `json`, `log`), used when the sample is empty.
pub fn detect_format(sample: &[u8], hint: Option<&str>) -> Format {
    let first = entry_lines(sample).next();
    match first {
        Some(l) if l.starts_with(b"{\"") => Format::Jsonlog,
        Some(l) => match parse_timestamp(l) {
            // csvlog: the time, then the user column (quoted, or empty); a stderr prefix
            // such as `%t, %p` has a space there.
            Some((_, n))
                if l.get(n) == Some(&b',') && matches!(l.get(n + 1), Some(b'"' | b',')) =>
            {
                Format::Csvlog
            }
            _ => Format::Stderr,
        },
        None => match hint {
            Some("csv") => Format::Csvlog,
            Some("json") => Format::Jsonlog,
            _ => Format::Stderr,
        },
    }
}

/// The sample's `log_line_prefix`, inferred from its lines ([`infer_prefix`]), for callers
/// that must commit now. Where inference is undecided (no connection line yet) this falls back
/// to [`guess_prefix`]; callers that can wait should call [`infer_prefix`] and buffer on
/// [`Inference::Undecided`] instead.
pub fn detect_prefix(sample: &[u8]) -> Result<Prefix, DetectError> {
    match infer_prefix(sample) {
        Inference::Decided { prefix, .. } => Ok(prefix),
        Inference::Undecided => Ok(guess_prefix(sample)),
        Inference::Failed { .. } => Err(DetectError::UnknownPrefix),
        Inference::NotALog { .. } => Err(DetectError::NotALog),
    }
}

/// Settings a sample without connection lines is matched against when a caller must commit:
/// its lines cannot tell a `%q` setting from one without, so this is a guess.
const GUESSES: [&str; 4] = [
    "%m [%p] %q%u@%d ",
    "%m [%p] ",
    "%t [%p]: user=%u,db=%d,app=%a,client=%h ",
    "%t:%r:%u@%d:[%p]:",
];

/// The guess that splits most of the sample's lines, then most of them whole, then the one
/// with more fields (Debian's default for an empty sample): only for a sample inference
/// cannot decide.
pub fn guess_prefix(sample: &[u8]) -> Prefix {
    let lines: Vec<&[u8]> = entry_lines(sample).collect();
    if lines.is_empty() {
        return Prefix::compile(GUESSES[0]);
    }
    GUESSES
        .iter()
        .map(|g| Prefix::compile(g))
        .enumerate()
        .max_by_key(|(i, p)| {
            let splits = lines.iter().filter_map(|l| p.split(l));
            let (n, full) = splits.fold((0, 0), |(n, f), s| (n + 1, f + usize::from(s.full)));
            (n, full, p.field_count(), std::cmp::Reverse(*i))
        })
        .map_or_else(|| Prefix::compile(GUESSES[0]), |(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_wraps_inference() {
        let fresh = b"2026-11-29 08:54:10.190 UTC [26476] LOG:  starting PostgreSQL 17.10\n";
        assert_eq!(infer_prefix(fresh), Inference::Undecided);
        // A caller that must commit gets the old guess; an empty sample Debian's default.
        assert_eq!(detect_prefix(fresh).unwrap().as_str(), "%m [%p] ");
        assert_eq!(detect_prefix(b"").unwrap().as_str(), "%m [%p] %q%u@%d ");
        let custom = b"[42] 2026-11-27 20:21:03 UTC | LOG:  connection received: host=x\n";
        assert_eq!(detect_prefix(custom).unwrap().as_str(), "[%p] %t | ");
        assert_eq!(detect_prefix(b"hello\n"), Err(DetectError::NotALog));
        assert_eq!(
            detect_format(b"2026-11-27 19:20:57.705 UTC,,,3939,,x\n", None),
            Format::Csvlog
        );
        assert_eq!(
            detect_format(b"2026-11-27 19:20:57 UTC, [1] LOG:  x\n", None),
            Format::Stderr
        );
    }
}
