//! Which envelope a source uses, decided on evidence from its first lines: each line votes for
//! the envelope whose shape it has; a plain PostgreSQL line (stderr led by its own time, a
//! csvlog record, a jsonlog object) votes for none. syslog's RFC 3339 file format and
//! `journalctl -o short-iso` share a shape: syslog chunks carry `[n-m] ` marks and no time of
//! their own, journald carries the server's whole line (its own prefix, usually a time), and
//! names the postmaster's pid on every line where syslog names each process.

use super::json::{members, next_object, Next, Val};
use super::syslog::{header_3164, header_3339, header_5424, mark, Header};
use super::text::{cri, timestamped};
use super::Envelope;
use crate::parse::time::parse_timestamp;
use memchr::memchr;

/// The outcome of [`detect`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detection {
    /// The envelope, decided.
    Decided(Envelope),
    /// Too few lines to tell: keep buffering (or call [`detect_at_eof`] when the source ended).
    Undecided,
}

/// Lines looked at before deciding.
const MIN_LINES: usize = 8;
/// Lines looked at, at most.
const MAX_LINES: usize = 200;
/// A sample this long decides even with fewer lines.
const ENOUGH_BYTES: usize = 64 * 1024;

/// The envelope of a source, from the first complete lines of it (a bounded sample). A
/// PostgreSQL log as the server writes it is `Plain`. Undecided while fewer than 8 lines
/// (and under 64 KiB) have been seen.
pub fn detect(sample: &[u8]) -> Detection {
    decide(sample, false)
}

/// As [`detect`], for a source that has ended: decides on whatever lines there are
/// (`Plain` when nothing tells).
pub fn detect_at_eof(sample: &[u8]) -> Envelope {
    match decide(sample, true) {
        Detection::Decided(e) => e,
        Detection::Undecided => Envelope::Plain,
    }
}

/// Whether `line` is itself a PostgreSQL line (stderr led by a time, csvlog, jsonlog).
pub(crate) fn is_plain_line(line: &[u8]) -> bool {
    parse_timestamp(line).is_some() || line.starts_with(b"{\"timestamp\":")
}

/// Votes of one line.
#[derive(Default)]
struct Votes {
    counts: [usize; Envelope::ALL.len()],
    /// syslog-shaped lines whose message has a chunk mark.
    marked: usize,
    /// syslog-shaped lines whose message begins with the server's own time.
    inner_time: usize,
    /// Distinct process ids of syslog-shaped headers (up to 8): journald names the
    /// postmaster on every line, syslog each process.
    pids: Vec<u32>,
}

impl Votes {
    fn add(&mut self, e: Envelope) {
        if let Some(i) = Envelope::ALL.iter().position(|&x| x == e) {
            self.counts[i] += 1;
        }
    }

    fn syslog(&mut self, e: Envelope, h: &Header<'_>) {
        let msg = h.msg.trim_ascii_start();
        if mark(msg).is_some() {
            self.marked += 1;
        } else if parse_timestamp(msg).is_some() {
            self.inner_time += 1;
        }
        if let Some(pid) = h.pid {
            if self.pids.len() < 8 && !self.pids.contains(&pid) {
                self.pids.push(pid);
            }
        }
        self.add(e);
    }
}

fn decide(sample: &[u8], eof: bool) -> Detection {
    let sample = &sample[..sample.len().min(1 << 20)];
    if sample.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return match next_object(sample, 0, eof) {
            Next::Object(s, e) => {
                Detection::Decided(json_envelope(&sample[s..e]).unwrap_or(Envelope::Plain))
            }
            Next::NeedMore(_) => Detection::Undecided,
            _ => Detection::Decided(Envelope::Plain),
        };
    }
    let mut votes = Votes::default();
    let mut lines = 0;
    let mut pos = 0;
    while pos < sample.len() && lines < MAX_LINES {
        let (line, next) = match memchr(b'\n', &sample[pos..]) {
            Some(i) => (&sample[pos..pos + i], pos + i + 1),
            None if eof => (&sample[pos..], sample.len()),
            None => break,
        };
        pos = next;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.trim_ascii().is_empty() || line.first() == Some(&b'\t') {
            continue;
        }
        lines += 1;
        vote(line, &mut votes);
    }
    if lines == 0 || (lines < MIN_LINES && !eof && sample.len() < ENOUGH_BYTES) {
        return if eof {
            Detection::Decided(Envelope::Plain)
        } else {
            Detection::Undecided
        };
    }
    let (best, &n) = votes
        .counts
        .iter()
        .enumerate()
        .max_by_key(|&(_, n)| *n)
        .unwrap_or((0, &0));
    if n * 2 < lines {
        return Detection::Decided(Envelope::Plain);
    }
    let e = Envelope::ALL[best];
    let e = match e {
        Envelope::Syslog3164 | Envelope::Syslog3339
            if votes.marked == 0 && (votes.inner_time > 0 || votes.pids.len() <= 2) =>
        {
            Envelope::JournaldShort
        }
        other => other,
    };
    Detection::Decided(e)
}

fn vote(line: &[u8], votes: &mut Votes) {
    if line.first() == Some(&b'{') {
        if let Some(e) = json_envelope(line) {
            votes.add(e);
        }
        return;
    }
    if let Some(h) = header_5424(line) {
        votes.syslog(Envelope::Syslog5424, &h);
    } else if let Some(h) = header_3164(line).filter(|h| h.pid.is_some()) {
        votes.syslog(Envelope::Syslog3164, &h);
    } else if let Some(inner) = timestamped(line) {
        if cri(line).is_some() {
            votes.add(Envelope::Cri);
        } else if parse_timestamp(inner).is_some() {
            votes.add(Envelope::Timestamped);
        } else if let Some(h) = header_3339(line).filter(|h| h.pid.is_some()) {
            votes.syslog(Envelope::Syslog3339, &h);
        } else {
            votes.add(Envelope::Timestamped);
        }
    }
}

/// The envelope a JSON object's keys say it is (`None`: a jsonlog entry or unknown).
fn json_envelope(obj: &[u8]) -> Option<Envelope> {
    let mut found = None;
    let mut operator = 0;
    members(obj, |k, v| match (k, v) {
        (b"log", Val::Str(_)) if found.is_none() => found = Some(Envelope::DockerJson),
        (b"MESSAGE", _) => found = Some(Envelope::JournaldJson),
        (b"record", Val::Obj(_)) | (b"logger", _) => found = Some(Envelope::Cnpg),
        (b"textPayload" | b"jsonPayload" | b"logName" | b"insertId", _) => {
            found = Some(Envelope::CloudLogging);
        }
        (b"ts" | b"msg" | b"level", _) => operator += 1,
        _ => {}
    });
    found.or((operator == 3).then_some(Envelope::Cnpg))
}
