//! The stderr format: entries are lines that do not start with a tab, split by the prefix.

use super::message::Severity;
use super::{candidates, Decoder, EntryFields};
use crate::model::ConnectionEvent;
use memchr::{memchr, memchr_iter, memmem, memrchr};

/// Counts lines and entries (lines not continuing the entry before) in `buf`.
pub(crate) fn count_lines(buf: &[u8], with_tail: bool) -> (u64, u64) {
    let lines = memchr_iter(b'\n', buf).count() as u64 + u64::from(with_tail);
    let continued =
        memmem::find_iter(buf, b"\n\t").count() as u64 + u64::from(buf.first() == Some(&b'\t'));
    (lines, lines.saturating_sub(continued))
}

pub(crate) fn decode(
    d: &mut Decoder,
    buf: &[u8],
    eof: bool,
    sink: &mut dyn FnMut(&ConnectionEvent<'_>),
) -> usize {
    let complete = memrchr(b'\n', buf).map_or(0, |i| i + 1);
    let end = if eof { buf.len() } else { complete };
    let buf = &buf[..end];
    let (lines, entries) = count_lines(buf, end > complete);
    d.stats.read += lines;
    d.stats.entries += entries;
    let Some(prefix) = d.prefix.take() else {
        return end;
    };
    let ac = candidates();
    let mut pos = 0;
    while pos < buf.len() {
        let Some(hit) = ac.find(buf, pos) else { break };
        let start = memrchr(b'\n', &buf[..hit]).map_or(0, |i| i + 1);
        let line_end = memchr(b'\n', &buf[hit..]).map_or(buf.len(), |i| hit + i);
        pos = line_end + 1;
        let mut line = &buf[start..line_end];
        if line.first() == Some(&b'\t') {
            continue;
        }
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        let Some(split) = prefix.split(line) else {
            d.stats.unparsed += 1;
            continue;
        };
        let f = split.fields;
        let fields = EntryFields {
            time: f.time,
            pid: f.pid,
            session_id: f.session_id,
            user: f.user,
            database: f.database,
            application: f.application,
            host: f.host,
            port: f.port,
            sqlstate: f.sqlstate,
            exact_names: false,
        };
        d.emit(
            fields,
            Severity::from_tag(split.severity),
            split.message,
            sink,
        );
    }
    d.prefix = Some(prefix);
    end
}
