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
    lines::for_each_candidate(c.bytes, |line| {
        if line.first() == Some(&b'\t') {
            return; // a continuation line: part of the entry before, never an event
        }
        match prefix.split(line) {
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
