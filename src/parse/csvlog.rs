//! The csvlog format: one CSV record per entry; quoted fields may span lines.

use super::message::Severity;
use super::time::parse_timestamp;
use super::{candidates, Decoder, EntryFields};
use crate::model::ConnectionEvent;
use memchr::memchr2;

/// Columns we read (PostgreSQL 12 to 18 share these positions).
const COL_TIME: usize = 0;
const COL_USER: usize = 1;
const COL_DB: usize = 2;
const COL_PID: usize = 3;
const COL_FROM: usize = 4;
const COL_SESSION: usize = 5;
const COL_SEVERITY: usize = 11;
const COL_SQLSTATE: usize = 12;
const COL_MESSAGE: usize = 13;
const COL_DETAIL: usize = 14;
const COL_APP: usize = 22;
const COLS: usize = 23;

/// Where the record starting at `start` ends (index of its newline), tracking quotes.
/// Returns the end and the number of newlines inside the record.
fn record_end(buf: &[u8], start: usize) -> Option<(usize, u64)> {
    let mut quoted = false;
    let mut pos = start;
    let mut inner = 0;
    loop {
        let i = pos + memchr2(b'"', b'\n', &buf[pos..])?;
        if buf[i] == b'"' {
            quoted = !quoted;
        } else if quoted {
            inner += 1;
        } else {
            return Some((i, inner));
        }
        pos = i + 1;
    }
}

/// Field `i` of a record: raw bytes without quotes, and whether doubled quotes need undoing.
#[derive(Clone, Copy, Default)]
struct Span {
    start: usize,
    end: usize,
    escaped: bool,
}

fn split_fields(rec: &[u8], out: &mut [Span; COLS]) -> bool {
    let mut i = 0;
    let mut col = 0;
    while col < COLS {
        if rec.get(i) == Some(&b'"') {
            let start = i + 1;
            let mut j = start;
            let mut escaped = false;
            loop {
                match rec.get(j) {
                    None => return false,
                    Some(b'"') if rec.get(j + 1) == Some(&b'"') => {
                        escaped = true;
                        j += 2;
                    }
                    Some(b'"') => break,
                    Some(_) => j += 1,
                }
            }
            out[col] = Span {
                start,
                end: j,
                escaped,
            };
            i = j + 1;
        } else {
            let end = rec[i..]
                .iter()
                .position(|&c| c == b',')
                .map_or(rec.len(), |p| i + p);
            out[col] = Span {
                start: i,
                end,
                escaped: false,
            };
            i = end;
        }
        col += 1;
        match rec.get(i) {
            Some(b',') => i += 1,
            _ => break,
        }
    }
    col > COL_MESSAGE
}

pub(crate) fn decode(
    d: &mut Decoder,
    buf: &[u8],
    eof: bool,
    sink: &mut dyn FnMut(&ConnectionEvent<'_>),
) -> usize {
    let ac = candidates();
    let mut pos = 0;
    let mut scratch = std::mem::take(&mut d.scratch);
    while pos < buf.len() {
        let (end, inner) = match record_end(buf, pos) {
            Some(r) => r,
            None if eof => (buf.len(), 0),
            None => break,
        };
        let mut rec = &buf[pos..end];
        d.stats.read += 1 + inner;
        d.stats.entries += 1;
        pos = end + 1;
        if rec.last() == Some(&b'\r') {
            rec = &rec[..rec.len() - 1];
        }
        if rec.is_empty() || !ac.is_match(rec) {
            continue;
        }
        let mut spans = [Span::default(); COLS];
        if !split_fields(rec, &mut spans) {
            d.stats.unparsed += 1;
            continue;
        }
        scratch.clear();
        let mut ranges = [(false, 0usize, 0usize); COLS];
        for (k, s) in spans.iter().enumerate() {
            if s.escaped {
                let from = scratch.len();
                let raw = &rec[s.start..s.end];
                let mut i = 0;
                while i < raw.len() {
                    scratch.push(raw[i]);
                    i += if raw[i] == b'"' { 2 } else { 1 };
                }
                ranges[k] = (true, from, scratch.len());
            } else {
                ranges[k] = (false, s.start, s.end);
            }
        }
        let get = |k: usize| -> &[u8] {
            let (in_scratch, a, b) = ranges[k];
            if in_scratch {
                &scratch[a..b]
            } else {
                &rec[a..b]
            }
        };
        let nonempty = |v: &'_ [u8]| -> bool { !v.is_empty() };
        let from = get(COL_FROM);
        let (host, port) = split_connection_from(from);
        let fields = EntryFields {
            time: parse_timestamp(get(COL_TIME)).map(|(t, _)| t),
            pid: std::str::from_utf8(get(COL_PID))
                .ok()
                .and_then(|p| p.parse().ok()),
            session_id: Some(get(COL_SESSION)).filter(|v| nonempty(v)),
            user: Some(get(COL_USER)).filter(|v| nonempty(v)),
            database: Some(get(COL_DB)).filter(|v| nonempty(v)),
            application: Some(get(COL_APP)).filter(|v| nonempty(v)),
            host,
            port,
            sqlstate: Some(get(COL_SQLSTATE)).filter(|v| v.len() == 5),
            exact_names: true,
        };
        let severity = Severity::from_tag(get(COL_SEVERITY));
        let message = get(COL_MESSAGE);
        if fields.time.is_none() {
            d.stats.unparsed += 1;
            continue;
        }
        d.emit(fields, severity, message, sink);
        if severity == Severity::Fatal && nonempty(get(COL_DETAIL)) {
            d.emit(fields, Severity::Detail, get(COL_DETAIL), sink);
        }
    }
    d.scratch = scratch;
    pos.min(buf.len())
}

/// `127.0.0.1:54002`, `::1:38858`, `[local]` → host and port.
fn split_connection_from(v: &[u8]) -> (Option<&[u8]>, Option<u16>) {
    if v.is_empty() {
        return (None, None);
    }
    if v == b"[local]" {
        return (Some(v), None);
    }
    match memchr::memrchr(b':', v) {
        Some(i) => {
            let port = std::str::from_utf8(&v[i + 1..])
                .ok()
                .and_then(|p| p.parse().ok());
            if port.is_some() {
                (Some(&v[..i]), port)
            } else {
                (Some(v), None)
            }
        }
        None => (Some(v), None),
    }
}
