//! The fields of a prefix with a grammar of their own (times, pids, `host(port)`, session ids,
//! SQLSTATEs) and the severity tag that ends every prefix.

use super::{Field, PrefixFields, MAX_FIELD, SEVERITIES};
use crate::parse::time::{parse_epoch, parse_timestamp};

/// Whether `word` is one of [`SEVERITIES`] (by length first: this runs for every line read).
pub(super) fn is_severity(word: &[u8]) -> bool {
    matches!(
        word,
        b"LOG"
            | b"FATAL"
            | b"ERROR"
            | b"WARNING"
            | b"DETAIL"
            | b"HINT"
            | b"STATEMENT"
            | b"CONTEXT"
            | b"PANIC"
            | b"NOTICE"
            | b"INFO"
            | b"QUERY"
            | b"LOCATION"
            | b"DEBUG"
            | b"DEBUG1"
            | b"DEBUG2"
            | b"DEBUG3"
            | b"DEBUG4"
            | b"DEBUG5"
            | b"BACKTRACE"
    )
}

/// If a severity tag (`LOG:  `) starts at `pos`, returns (severity, message start).
pub(super) fn severity_at(line: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let rest = &line[pos..];
    let colon = super::find_byte(b':', &rest[..rest.len().min(16)]).filter(|&c| c < 10)?;
    let sev = &rest[..colon];
    if !is_severity(sev) || !rest[colon + 1..].starts_with(b"  ") {
        return None;
    }
    Some((sev, pos + colon + 3))
}

/// Whether a severity tag (`LOG:  `, `FATAL:  `, ...) stands anywhere in `line` (also right
/// after a prefix that ends in a letter or digit, as `%c` or `%p` with nothing after them do).
pub(crate) fn has_severity_tag(line: &[u8]) -> bool {
    memchr::memmem::find_iter(line, b":  ").any(|colon| {
        let word = line[..colon]
            .rsplit(|c| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or(b"");
        SEVERITIES.iter().any(|s| word.ends_with(s))
    })
}

pub(super) fn unknown_as_none(v: &[u8]) -> Option<&[u8]> {
    if v.is_empty() || v == b"[unknown]" {
        None
    } else {
        Some(v)
    }
}

pub(super) fn trim_spaces(v: &[u8]) -> &[u8] {
    let s = v.iter().position(|&c| c != b' ').unwrap_or(v.len());
    let e = v.iter().rposition(|&c| c != b' ').map_or(s, |e| e + 1);
    &v[s..e]
}

pub(super) fn parse_u32(v: &[u8]) -> Option<u32> {
    if v.is_empty() || v.len() > 10 {
        return None;
    }
    v.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then_some(())?;
        acc.checked_mul(10)?.checked_add(u32::from(c - b'0'))
    })
}

/// Splits `host(port)` (`%r`) into host and port.
pub(super) fn split_host_port(v: &[u8]) -> (Option<&[u8]>, Option<u16>) {
    if v.last() == Some(&b')') {
        if let Some(open) = memchr::memrchr(b'(', v) {
            let port = parse_u32(&v[open + 1..v.len() - 1]).and_then(|p| u16::try_from(p).ok());
            return (unknown_as_none(&v[..open]), port);
        }
    }
    (unknown_as_none(v), None)
}

/// Length of a fixed-grammar field at the start of `s`, or None if it does not fit.
pub(super) fn fixed_len<'a>(
    field: Field,
    s: &'a [u8],
    out: &mut PrefixFields<'a>,
) -> Option<usize> {
    let run = |pred: fn(u8) -> bool| s.iter().position(|&c| !pred(c)).unwrap_or(s.len());
    match field {
        Field::Time | Field::TimeMillis => {
            let (t, n) = parse_timestamp(s)?;
            out.time = Some(t);
            Some(n)
        }
        Field::SessionStart => parse_timestamp(s).map(|(_, n)| n),
        Field::Epoch => {
            let (t, n) = parse_epoch(s)?;
            out.time = Some(t);
            Some(n)
        }
        Field::Pid => {
            let n = run(|c| c.is_ascii_digit());
            out.pid = Some(parse_u32(&s[..n])?);
            Some(n)
        }
        Field::LeaderPid | Field::LineNumber | Field::Xid => Some(run(|c| c.is_ascii_digit())),
        Field::QueryId => Some(run(|c| c.is_ascii_digit() || c == b'-')),
        Field::SessionId => {
            let mut n = run(|c| c.is_ascii_hexdigit() || c == b'.');
            // A severity tag right after it (`6b09d81f.10aFATAL:  `) is no part of it.
            if let Some(k) = (1..n).find(|&k| s[k - 1] != b'.' && severity_at(s, k).is_some()) {
                n = k;
            }
            if n == 0 || !s[..n].contains(&b'.') {
                return None;
            }
            out.session_id = Some(&s[..n]);
            Some(n)
        }
        Field::VirtualXid => Some(run(|c| c.is_ascii_digit() || c == b'/')),
        Field::RemoteHostPort => {
            // `[local]`, or `host(port)`: hosts never hold `(`, so the first `(digits)` ends it.
            if s.starts_with(b"[local]") {
                out.host = Some(&s[..7]);
                return Some(7);
            }
            let open = memchr::memchr(b'(', &s[..s.len().min(MAX_FIELD)])?;
            let digits = s[open + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if digits == 0 || s.get(open + 1 + digits) != Some(&b')') {
                return None;
            }
            (out.host, out.port) = split_host_port(&s[..open + digits + 2]);
            Some(open + digits + 2)
        }
        Field::SqlState => {
            // Five characters, even when a severity tag follows with no space (`00000LOG:`).
            let n = run(|c| c.is_ascii_alphanumeric());
            let fits = n == 5 || (n > 5 && severity_at(s, 5).is_some());
            if fits {
                out.sqlstate = Some(&s[..5]);
            }
            fits.then_some(5)
        }
        _ => None,
    }
}
