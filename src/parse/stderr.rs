//! The stderr format: entries are lines that do not start with a tab, split by the prefix.

use super::message::Severity;
use super::{lines, Decoder};
use crate::model::ConnectionEvent;

pub(crate) fn decode(
    d: &mut Decoder,
    buf: &[u8],
    eof: bool,
    sink: &mut dyn FnMut(&ConnectionEvent<'_>),
) -> usize {
    let c = lines::complete(buf, eof);
    d.stats.read += c.lines;
    d.stats.entries += c.entries;
    let Some(prefix) = d.prefix.take() else {
        return c.bytes.len();
    };
    let buf = c.bytes;
    lines::for_each_candidate_at(buf, |start, end| {
        let raw = &buf[start..end];
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.first() == Some(&b'\t') {
            return; // a continuation line: part of the entry before, never an event
        }
        let split = prefix.split(line).filter(|s| !looks_injected(s));
        // A newline inside a prefix value (a user name chosen by whoever connects) starts a
        // line that is not an entry: read the entry from the line before.
        let split = split.or_else(|| {
            let joined = lines::with_previous_line(buf, start, end)?;
            let first = memchr::memchr(b'\n', joined).map_or(joined, |i| &joined[..i]);
            if prefix.split(first).is_some() {
                return None; // the line before is an entry of its own
            }
            prefix.split(joined)
        });
        match split {
            Some(split) => d.emit(
                split.fields,
                Severity::from_tag(split.severity),
                split.message,
                sink,
            ),
            None => d.stats.unparsed += 1,
        }
    });
    d.prefix = Some(prefix);
    c.bytes.len()
}

/// A line forged by a newline in a name (`x\n<timestamp> [8] LOG:  connection authorized:
/// ...@db FATAL:  ...`) shows a second severity tag: in its prefix values, or in the message of
/// a LOG entry. Every tag ends in a colon and two spaces; no prefix value or connection
/// message of an honest line has that.
fn looks_injected(s: &super::prefix::SplitLine<'_>) -> bool {
    let tag = |v: Option<&[u8]>| v.is_some_and(|v| memchr::memmem::find(v, b":  ").is_some());
    let f = &s.fields;
    tag(f.user)
        || tag(f.database)
        || tag(f.application)
        || tag(f.host)
        || (s.severity == b"LOG" && tag(Some(s.message)))
}
