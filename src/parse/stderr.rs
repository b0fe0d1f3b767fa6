//! The stderr format: entries are lines that do not start with a tab, split by the prefix.

use super::message::{self, Severity};
use super::{lines, scan, Decoder, Prefix};
use crate::model::ConnectionEvent;

pub(crate) fn decode(
    d: &mut Decoder,
    buf: &[u8],
    eof: bool,
    sink: &mut dyn FnMut(&ConnectionEvent<'_>),
) -> usize {
    let Some(prefix) = d.prefix.take() else {
        let c = lines::complete(buf, eof);
        d.stats.read += c.lines;
        d.stats.entries += c.entries;
        return c.bytes.len();
    };
    // A FATAL not understood at the very end of what has arrived may be cut short: its
    // continuation lines (a name holding a newline) are still to come. It waits for them.
    let mut held = None;
    let c = lines::complete_counted(buf, eof, |buf| {
        scan::scan(buf, |start, end| {
            candidate(d, &prefix, buf, (start, end), eof, &mut held, sink)
        })
    });
    let buf = c.bytes;
    d.prefix = Some(prefix);
    match held {
        Some(at) => {
            let kept = lines::complete(&buf[..at], false);
            d.stats.read += kept.lines;
            d.stats.entries += kept.entries;
            at
        }
        None => {
            d.stats.read += c.lines;
            d.stats.entries += c.entries;
            c.bytes.len()
        }
    }
}

/// Decodes the candidate line `start..end` of `buf` (with its continuation lines), or holds
/// it when it is a FATAL that may be cut short.
fn candidate(
    d: &mut Decoder,
    prefix: &Prefix,
    buf: &[u8],
    (start, end): (usize, usize),
    eof: bool,
    held: &mut Option<usize>,
    sink: &mut dyn FnMut(&ConnectionEvent<'_>),
) {
    if buf.get(start) == Some(&b'\t') {
        return; // a continuation line: part of the entry before, never an event
    }
    let stop = lines::continuation_end(buf, end);
    let entry = &buf[start..stop];
    let entry = entry.strip_suffix(b"\r").unwrap_or(entry);
    // A newline inside a prefix value (a name chosen by whoever connects) splits an entry
    // so that its second line can pass for an entry of its own. Such an entry shows
    // continuation lines or a second severity tag; then, if the line before is a fragment
    // (not an entry itself), the entry began there.
    let began_before = || {
        let (prev, first) = lines::previous_line(buf, start)?;
        if prefix.split(first).is_some() {
            return None;
        }
        prefix.split(&buf[prev..stop])
    };
    // Continuation lines alone are no proof: an honest entry whose message holds a newline
    // has them too, and the fragment before it belongs to someone else. The joined entry
    // is taken only when its message repeats a prefix name across the joining newline.
    // (The split is set in place step by step: moved through `or_else` and `filter`, its 176
    // bytes were copied twice a line and read back at once, a stalled load.)
    let mut split = None;
    if stop > end {
        split = began_before().filter(names_cross_newline);
    }
    if split.is_none() {
        // Names holding the text that follows them in the prefix (`u database=x`): take the
        // split the message agrees with.
        let agrees = |f: &super::EntryFields<'_>, msg: &[u8]| {
            message::confirms_names(msg, (f.user, f.database))
        };
        split = prefix.split_where(entry, &agrees);
        if split.is_none() {
            split = prefix.split(entry);
        }
        if split.as_ref().is_some_and(|s| looks_injected(entry, s)) {
            split = None;
        }
        if split.is_none() && stop <= end {
            split = began_before();
        }
    }
    if !eof && stop + 1 >= buf.len() && split.as_ref().is_some_and(incomplete_fatal) {
        *held = Some(start);
        return;
    }
    match split {
        Some(split) => d.emit(
            split.fields,
            Severity::from_tag(split.severity),
            split.message,
            sink,
        ),
        None => d.stats.unparsed += 1,
    }
}

/// A FATAL whose message is not one of the connection failures (it may lack its end).
fn incomplete_fatal(s: &super::prefix::SplitLine<'_>) -> bool {
    Severity::from_tag(s.severity) == Severity::Fatal
        && matches!(
            message::classify(Severity::Fatal, s.message, s.fields.sqlstate, (None, None)),
            Some((crate::model::EventKind::OtherFatal { .. }, _))
        )
}

/// A line forged by a newline in a name (`x\n<timestamp> [8] LOG:  connection authorized:
/// ...@db FATAL:  ...`) shows a second severity tag: in its prefix values, or in the message of
/// a LOG entry. Every tag ends in a colon and two spaces; no prefix value or connection
/// message of an honest line has that. `s` is a split of `entry`: its values lie in the text
/// before its tag, so when that text holds no mark, no value does.
fn looks_injected(entry: &[u8], s: &super::prefix::SplitLine<'_>) -> bool {
    if s.severity == b"LOG" && scan::has_tag_mark(s.message) {
        return true;
    }
    let before_tag = (s.severity.as_ptr() as usize).wrapping_sub(entry.as_ptr() as usize);
    if entry
        .get(..before_tag)
        .is_some_and(|head| !scan::has_tag_mark(head))
    {
        return false; // the values lie in the text before the tag
    }
    let f = &s.fields;
    [f.user, f.database, f.application, f.host]
        .into_iter()
        .any(|v| v.is_some_and(scan::has_tag_mark))
}

/// Whether a prefix value holding a newline (the one that joined a fragment to the line after
/// it) reappears in the message, where PostgreSQL writes each newline followed by a tab.
fn names_cross_newline(s: &super::prefix::SplitLine<'_>) -> bool {
    let f = &s.fields;
    [f.user, f.database, f.application, f.host]
        .into_iter()
        .flatten()
        .filter(|v| memchr::memchr(b'\n', v).is_some())
        .any(|v| message::holds_tabbed(s.message, v))
}
