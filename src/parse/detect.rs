//! Tells the format of a log, and its `log_line_prefix`, from its first lines.

use super::prefix::Prefix;
use super::time::parse_timestamp;
use super::Format;

/// Prefixes tried when none is given: PostgreSQL's and Debian's defaults, pgbadger's and
/// RDS's recommendations, and other common settings.
pub const COMMON_PREFIXES: [&str; 16] = [
    "%m [%p] ",
    "%m [%p] %q%u@%d ",
    "%t [%p]: user=%u,db=%d,app=%a,client=%h ",
    "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%t:%r:%u@%d:[%p]:",
    "%m:%r:%u@%d:[%p]:",
    "%t [%p]: [%l-1] ",
    "%m [%p-%l] %q%u@%d ",
    "%t [%p-%l] %q%u@%d ",
    "%m %u %d [%p] ",
    "%m [%p] %q[user=%u,db=%d,app=%a] ",
    "%m [%p] %q%u@%d/%a ",
    "< %m >",
    "%t [%p] ",
    "%m [%p] %h %u@%d ",
];

/// How many entry lines detection looks at.
const SAMPLE_LINES: usize = 400;

/// Why a format could not be told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetectError {
    #[error("no log_line_prefix we know matches its lines; pass the server's setting with --prefix '...' (SHOW log_line_prefix)")]
    UnknownPrefix,
    #[error("it does not look like a PostgreSQL log (stderr, csvlog or jsonlog); pass --format if it is one")]
    NotALog,
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
            Some((_, n)) if l.get(n) == Some(&b',') => Format::Csvlog,
            _ => Format::Stderr,
        },
        None => match hint {
            Some("csv") => Format::Csvlog,
            Some("json") => Format::Jsonlog,
            _ => Format::Stderr,
        },
    }
}

/// The prefix that matches most of the sample's lines; the more specific one on a tie.
pub fn detect_prefix(sample: &[u8]) -> Result<Prefix, DetectError> {
    let lines: Vec<&[u8]> = entry_lines(sample).collect();
    if lines.is_empty() {
        return Ok(Prefix::compile(COMMON_PREFIXES[1]));
    }
    let mut best: Option<(usize, usize, usize, Prefix)> = None;
    for p in COMMON_PREFIXES {
        let prefix = Prefix::compile(p);
        let mut matched = 0;
        let mut full = 0;
        for l in &lines {
            if let Some(s) = prefix.split(l) {
                matched += 1;
                full += usize::from(s.full);
            }
        }
        let key = (matched, full, prefix.field_count());
        if best.as_ref().map_or(true, |b| key > (b.0, b.1, b.2)) {
            best = Some((key.0, key.1, key.2, prefix));
        }
    }
    match best {
        Some((m, _, _, p)) if m * 2 >= lines.len() && m > 0 => Ok(p),
        _ if !lines.iter().any(|l| super::prefix::has_severity_tag(l)) => Err(DetectError::NotALog),
        _ => Err(DetectError::UnknownPrefix),
    }
}
