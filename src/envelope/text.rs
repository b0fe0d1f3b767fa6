//! Time-stamp-led text envelopes: `kubectl logs --timestamps` / `docker logs -t`
//! (`<RFC 3339> <line>`), CRI files (`<RFC 3339> stderr F|P <line>`, `P` parts joined until
//! `F`) and `journalctl -o short-iso` (`<time> host postgres[pid]: <line>`). All carry the
//! server's own line, which is written as it came.

use super::syslog::{header_3164, header_3339};
use super::timefmt::parse_rfc3339;
use super::{Context, Envelope, Outcome, MAX_RECORD};
use crate::parse::time::parse_timestamp;

/// Reads one of the text envelopes.
pub(crate) struct TextReader {
    envelope: Envelope,
    /// CRI partial lines (`P`) waiting for their final part, per stream (stdout, stderr).
    partial: [Vec<u8>; 2],
    /// A partial line was flushed before its final part: the parts still to come are dropped.
    cut: [bool; 2],
    /// journald: the program name of the server's lines, learned from the first line that
    /// carries a server time; other programs' lines are skipped.
    ident: Option<Vec<u8>>,
}

impl TextReader {
    pub(crate) fn new(envelope: Envelope, _cx: Context) -> TextReader {
        TextReader {
            envelope,
            partial: [Vec::new(), Vec::new()],
            cut: [false; 2],
            ident: None,
        }
    }

    pub(crate) fn record(&mut self, rec: &[u8], out: &mut Vec<u8>) -> Outcome {
        match self.envelope {
            Envelope::Timestamped => match timestamped(rec) {
                Some(line) => write_line(out, line),
                None => Outcome::NotUnderstood,
            },
            Envelope::Cri => self.cri(rec, out),
            _ => match header_3339(rec).or_else(|| header_3164(rec)) {
                Some(h) => {
                    let msg = h.msg.strip_prefix(b" ").unwrap_or(h.msg);
                    match &self.ident {
                        Some(ident) if ident.as_slice() != h.tag => return Outcome::Skipped,
                        None if parse_timestamp(msg).is_some() => self.ident = Some(h.tag.to_vec()),
                        _ => {}
                    }
                    write_line(out, msg)
                }
                None => Outcome::NotUnderstood,
            },
        }
    }

    fn cri(&mut self, rec: &[u8], out: &mut Vec<u8>) -> Outcome {
        let Some((stream, full, line)) = cri(rec) else {
            return Outcome::NotUnderstood;
        };
        if self.cut[stream] {
            // The rest of a line already written: never a line of its own.
            self.cut[stream] = !full;
            return Outcome::NotUnderstood;
        }
        let buf = &mut self.partial[stream];
        if !full {
            let room = MAX_RECORD.saturating_sub(buf.len());
            buf.extend_from_slice(&line[..line.len().min(room)]);
            return Outcome::Done;
        }
        if buf.is_empty() {
            return write_line(out, line);
        }
        let room = MAX_RECORD.saturating_sub(buf.len());
        buf.extend_from_slice(&line[..line.len().min(room)]);
        let joined = std::mem::take(buf);
        write_line(out, &joined);
        *buf = joined;
        buf.clear();
        Outcome::Done
    }

    pub(crate) fn flush(&mut self, out: &mut Vec<u8>) {
        for i in 0..2 {
            if !self.partial[i].is_empty() {
                self.cut[i] = true;
                let joined = std::mem::take(&mut self.partial[i]);
                write_line(out, &joined);
                self.partial[i] = joined;
                self.partial[i].clear();
            }
        }
    }
}

/// Writes the server's own line as it came.
fn write_line(out: &mut Vec<u8>, line: &[u8]) -> Outcome {
    out.extend_from_slice(line);
    out.push(b'\n');
    Outcome::Done
}

/// The line after a leading RFC 3339 time and one space.
pub(crate) fn timestamped(rec: &[u8]) -> Option<&[u8]> {
    let (_, used) = parse_rfc3339(rec)?;
    rec[used..].strip_prefix(b" ")
}

/// A CRI record: (stream index, whether the line is final (`F`), the line).
pub(crate) fn cri(rec: &[u8]) -> Option<(usize, bool, &[u8])> {
    let rest = timestamped(rec)?;
    let (stream, rest) = if let Some(r) = rest.strip_prefix(b"stderr ") {
        (1, r)
    } else {
        (0, rest.strip_prefix(b"stdout ")?)
    };
    let (&tag, rest) = rest.split_first()?;
    let full = match tag {
        b'F' => true,
        b'P' => false,
        _ => return None,
    };
    // The tag may carry more fields after a colon (`F:x`); the line follows one space.
    let sp = memchr::memchr(b' ', rest);
    let line = match sp {
        Some(i) if i == 0 || rest[0] == b':' => &rest[i + 1..],
        None if rest.is_empty() => rest,
        _ => return None,
    };
    Some((stream, full, line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cri_partial_lines_join_until_final() {
        let mut r = TextReader::new(Envelope::Cri, Context::utc(2026, 11));
        let mut out = Vec::new();
        for rec in [
            &b"2026-11-27T19:21:03.010000000Z stderr P 2026-11-27 20:21:03.010 CET [41"[..],
            b"2026-11-27T19:21:03.010000001Z stdout F other",
            b"2026-11-27T19:21:03.010000002Z stderr P 32] LOG:  conn",
            b"2026-11-27T19:21:03.010000003Z stderr F ection received: host=[local]",
        ] {
            assert_eq!(r.record(rec, &mut out), Outcome::Done);
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "other\n2026-11-27 20:21:03.010 CET [4132] LOG:  connection received: host=[local]\n"
        );
    }
}
