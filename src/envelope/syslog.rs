//! syslog: the headers of RFC 3164, RFC 5424 and rsyslog's RFC 3339 file format, and the
//! chunks PostgreSQL cuts its messages into (`[N-M] ` marks, `[M] ` without sequence numbers),
//! joined per process: chunk 1 begins a message; a later chunk is a new prefixed line (DETAIL,
//! STATEMENT), a `#011`-led continuation line, or the rest of a line cut at 900 bytes (led by
//! a space), joined to it. A chunk that continues something never comes out as an entry.

use super::timefmt::{epoch_secs, parse_rfc3164, parse_rfc3339, write_pid, write_utc_millis};
use super::{note_not_understood, Context, Envelope, Outcome, UnwrapStats};
use memchr::memchr;

/// A syslog header read off a line.
pub(crate) struct Header<'a> {
    /// UTC milliseconds (RFC 3339 / 5424 times).
    pub millis: Option<i64>,
    /// (month, day, seconds of the day) of an RFC 3164 time, local and without a year.
    pub t3164: Option<(u32, u32, u32)>,
    /// The process id of the header (`postgres[pid]:`, RFC 5424 PROCID).
    pub pid: Option<u32>,
    /// The program name (`syslog_ident`, RFC 5424 APP-NAME).
    pub tag: &'a [u8],
    /// The message after the header (leading spaces kept).
    pub msg: &'a [u8],
}

/// ` host tag[pid]: msg` or ` host tag: msg`.
fn tag_part(b: &[u8]) -> Option<(&[u8], Option<u32>, &[u8])> {
    let b = b.strip_prefix(b" ")?;
    let sp = memchr(b' ', b)?;
    let b = &b[sp + 1..];
    let end = b.iter().position(|&c| matches!(c, b'[' | b':' | b' '))?;
    let (pid, rest) = match b[end] {
        b'[' => {
            let close = memchr(b']', &b[end..])? + end;
            let pid = super::timefmt::num(&b[end + 1..close]);
            (pid, b[close + 1..].strip_prefix(b":")?)
        }
        b':' => (None, &b[end + 1..]),
        _ => return None,
    };
    Some((&b[..end], pid, rest))
}

/// `Nov 29 08:50:45 host postgres[pid]: msg`.
pub(crate) fn header_3164(rec: &[u8]) -> Option<Header<'_>> {
    let t = parse_rfc3164(rec)?;
    let (tag, pid, msg) = tag_part(&rec[15..])?;
    Some(Header {
        tag,
        millis: None,
        t3164: Some(t),
        pid,
        msg,
    })
}

/// `2026-11-29T08:50:45.755070+00:00 host postgres[pid]: msg`.
pub(crate) fn header_3339(rec: &[u8]) -> Option<Header<'_>> {
    let (millis, used) = parse_rfc3339(rec)?;
    let (tag, pid, msg) = tag_part(&rec[used..])?;
    Some(Header {
        tag,
        millis: Some(millis),
        t3164: None,
        pid,
        msg,
    })
}

/// `<134>1 2026-11-29T08:50:45.755070+00:00 host app procid msgid sd msg`.
pub(crate) fn header_5424(rec: &[u8]) -> Option<Header<'_>> {
    let rest = rec.strip_prefix(b"<")?;
    let close = memchr(b'>', &rest[..rest.len().min(4)])?;
    super::timefmt::num(&rest[..close])?;
    let rest = &rest[close + 1..];
    let sp = memchr(b' ', rest)?;
    super::timefmt::num(&rest[..sp])?;
    let mut fields = [&b""[..]; 5];
    let mut rest = &rest[sp + 1..];
    for f in &mut fields {
        let sp = memchr(b' ', rest)?;
        *f = &rest[..sp];
        rest = &rest[sp + 1..];
    }
    let millis = if fields[0] == b"-" {
        None
    } else {
        Some(parse_rfc3339(fields[0])?.0)
    };
    let pid = super::timefmt::num(fields[3]);
    // Structured data: `-` or one or more `[...]` elements (`\]` escapes inside).
    let msg = if let Some(r) = rest.strip_prefix(b"-") {
        r
    } else {
        let mut i = 0;
        while rest.get(i) == Some(&b'[') {
            let mut esc = false;
            i += 1;
            loop {
                match rest.get(i)? {
                    b'\\' if !esc => esc = true,
                    b']' if !esc => break,
                    _ => esc = false,
                }
                i += 1;
            }
            i += 1;
        }
        if i == 0 {
            return None;
        }
        &rest[i..]
    };
    let msg = msg.strip_prefix(b" ").unwrap_or(msg);
    let msg = msg.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(msg);
    Some(Header {
        tag: fields[2],
        millis,
        t3164: None,
        pid,
        msg,
    })
}

/// A chunk mark: `[N-M] ` (sequence number, chunk) or `[M] `; returns the content after it.
pub(crate) fn mark(msg: &[u8]) -> Option<(Option<u64>, u32, &[u8])> {
    let b = msg.strip_prefix(b"[")?;
    let close = memchr(b']', &b[..b.len().min(24)])?;
    let inner = &b[..close];
    let (seq, chunk) = match memchr(b'-', inner) {
        Some(d) => (
            Some(u64::from(super::timefmt::num(&inner[..d])?)),
            &inner[d + 1..],
        ),
        None => (None, inner),
    };
    let chunk = super::timefmt::num(chunk)?;
    let rest = &b[close + 1..];
    match rest.first() {
        None => Some((seq, chunk, rest)),
        Some(b' ') => Some((seq, chunk, &rest[1..])),
        _ => None,
    }
}

/// Whether `line` (a later chunk of a message, prefix included) is one of the lines PostgreSQL
/// adds to a message: its first severity tag is DETAIL, HINT, CONTEXT, STATEMENT, QUERY,
/// LOCATION or BACKTRACE.
fn secondary_line(line: &[u8]) -> bool {
    const SECONDARY: [&[u8]; 7] = [
        b"DETAIL",
        b"HINT",
        b"CONTEXT",
        b"STATEMENT",
        b"QUERY",
        b"LOCATION",
        b"BACKTRACE",
    ];
    const PRIMARY: [&[u8]; 8] = [
        b"LOG", b"FATAL", b"ERROR", b"WARNING", b"PANIC", b"NOTICE", b"INFO", b"DEBUG",
    ];
    for colon in memchr::memmem::find_iter(line, b":  ") {
        let start = line[..colon]
            .iter()
            .rposition(|c| !c.is_ascii_alphanumeric())
            .map_or(0, |i| i + 1);
        let word = &line[start..colon];
        if SECONDARY.contains(&word) {
            return true;
        }
        if PRIMARY.iter().any(|p| word.starts_with(p)) {
            return false;
        }
    }
    false
}

/// Decodes rsyslog's `#ooo` escapes (`#011` tab, `#033` ESC) into `dst`.
pub(crate) fn decode_escapes(src: &[u8], dst: &mut Vec<u8>) {
    dst.clear();
    let mut i = 0;
    while let Some(h) = memchr(b'#', &src[i..]) {
        let h = i + h;
        dst.extend_from_slice(&src[i..h]);
        let oct = src
            .get(h + 1..h + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match oct {
            Some(d) if d[0] <= b'3' => {
                dst.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i = h + 4;
            }
            _ => {
                dst.push(b'#');
                i = h + 1;
            }
        }
    }
    dst.extend_from_slice(&src[i..]);
}

/// PostgreSQL's `PG_SYSLOG_LIMIT`: longer lines are cut at a word boundary before it.
const SPLIT_LIMIT: usize = 900;
/// A line whose last part is at least this long may be continued by a split chunk: it is
/// held until its process's next chunk (or a flush).
const HOLD_MIN: usize = 600;
/// At most this many processes' state is kept.
const MAX_PROCS: usize = 128;
/// A held line is cut at this length (bounded memory: 128 processes x 32 KiB at most).
const MAX_LINE: usize = 32 << 10;

/// What is known of one process's current message.
struct Proc {
    pid: u32,
    seq: Option<u64>,
    chunk: u32,
    /// The line not yet written (a split chunk may still extend it); empty when none.
    held: Vec<u8>,
    held_millis: i64,
    /// Length of the last part of the held line.
    last_len: usize,
    used: u64,
}

/// Reads syslog lines into normalized `%m [%p] ` stderr lines.
pub(crate) struct SyslogReader {
    envelope: Envelope,
    cx: Context,
    year: i32,
    last_month: u32,
    procs: Vec<Proc>,
    last_written: Option<u32>,
    /// The program name of PostgreSQL's lines, learned from the first chunk-marked line;
    /// other programs' lines (a shared `/var/log/syslog`) are skipped.
    ident: Option<Vec<u8>>,
    scratch: Vec<u8>,
    tick: u64,
}

impl SyslogReader {
    pub(crate) fn new(envelope: Envelope, cx: Context) -> SyslogReader {
        SyslogReader {
            envelope,
            cx,
            year: cx.year,
            last_month: 0,
            procs: Vec::new(),
            last_written: None,
            ident: None,
            scratch: Vec::new(),
            tick: 0,
        }
    }

    /// The UTC time of an RFC 3164 stamp: the year from the context, rolled over Dec -> Jan.
    fn time_3164(&mut self, (month, day, sod): (u32, u32, u32)) -> Option<i64> {
        let mut year = self.year;
        if self.last_month == 0 {
            year = if month > self.cx.month {
                self.cx.year - 1
            } else {
                self.cx.year
            };
            self.year = year;
            self.last_month = month;
        } else if month + 6 <= self.last_month {
            self.year += 1;
            year = self.year;
            self.last_month = month;
        } else if month >= self.last_month + 6 {
            year -= 1; // a late line of last year's December after January's
        } else {
            self.last_month = month;
        }
        let secs = epoch_secs(u32::try_from(year).ok()?, month, day, 0, 0, 0)? + i64::from(sod);
        Some((secs - i64::from(self.cx.utc_offset_secs)) * 1000)
    }

    pub(crate) fn record(
        &mut self,
        rec: &[u8],
        out: &mut Vec<u8>,
        stats: &mut UnwrapStats,
    ) -> Outcome {
        let header = match self.envelope {
            Envelope::Syslog3164 => header_3164(rec),
            Envelope::Syslog5424 => header_5424(rec),
            _ => header_3339(rec),
        };
        let Some(h) = header else {
            return Outcome::NotUnderstood;
        };
        let millis = match (h.millis, h.t3164) {
            (Some(m), _) => Some(m),
            (None, Some(t)) => self.time_3164(t),
            _ => None,
        };
        let (Some(pid), Some(millis)) = (h.pid, millis) else {
            return Outcome::NotUnderstood;
        };
        let msg = &h.msg[h.msg.iter().take_while(|&&c| c == b' ').count()..];
        match &self.ident {
            Some(ident) if ident.as_slice() != h.tag => return Outcome::Skipped,
            None if mark(msg).is_some() => self.ident = Some(h.tag.to_vec()),
            _ => {}
        }
        self.tick += 1;
        let idx = self.proc_index(pid, out);
        let mut content = std::mem::take(&mut self.scratch);
        let outcome = match mark(msg) {
            None => {
                decode_escapes(msg, &mut content);
                self.start_message(idx, None, 1, millis, &content, out);
                Outcome::Done
            }
            Some((seq, chunk, raw)) => {
                decode_escapes(raw, &mut content);
                let p = &self.procs[idx];
                let follows = p.chunk > 0 && p.seq == seq && p.chunk.checked_add(1) == Some(chunk);
                let continues = matches!(content.first(), Some(b' ' | b'\t'));
                if chunk == 1 || (!follows && seq.is_none() && !continues) {
                    self.start_message(idx, seq, chunk, millis, &content, out);
                } else if follows {
                    self.procs[idx].chunk = chunk;
                    self.continue_message(idx, millis, &content, out, stats, rec);
                } else {
                    note_not_understood(stats, rec);
                }
                Outcome::Done
            }
        };
        self.scratch = content;
        outcome
    }

    /// The index of `pid`'s state, made room for (the least recently used flushed) if new.
    fn proc_index(&mut self, pid: u32, out: &mut Vec<u8>) -> usize {
        if let Some(i) = self.procs.iter().position(|p| p.pid == pid) {
            self.procs[i].used = self.tick;
            return i;
        }
        if self.procs.len() >= MAX_PROCS {
            let lru = (0..self.procs.len())
                .min_by_key(|&i| self.procs[i].used)
                .unwrap_or(0);
            self.write_held(lru, out);
            self.procs.swap_remove(lru);
        }
        self.procs.push(Proc {
            pid,
            seq: None,
            chunk: 0,
            held: Vec::new(),
            held_millis: 0,
            last_len: 0,
            used: self.tick,
        });
        self.procs.len() - 1
    }

    fn start_message(
        &mut self,
        idx: usize,
        seq: Option<u64>,
        chunk: u32,
        millis: i64,
        content: &[u8],
        out: &mut Vec<u8>,
    ) {
        self.write_held(idx, out);
        let p = &mut self.procs[idx];
        p.seq = seq;
        p.chunk = chunk;
        self.new_lines(idx, millis, content, out);
    }

    /// Each `\n`-separated part of `content` as a line of its own (entry or continuation).
    fn new_lines(&mut self, idx: usize, millis: i64, content: &[u8], out: &mut Vec<u8>) {
        let mut parts = content.split(|&c| c == b'\n').peekable();
        while let Some(part) = parts.next() {
            self.write_held(idx, out);
            let p = &mut self.procs[idx];
            p.held.extend_from_slice(&part[..part.len().min(MAX_LINE)]);
            p.held_millis = millis;
            p.last_len = part.len();
            if parts.peek().is_some() || part.len() < HOLD_MIN {
                self.write_held(idx, out);
            }
        }
    }

    fn continue_message(
        &mut self,
        idx: usize,
        millis: i64,
        content: &[u8],
        out: &mut Vec<u8>,
        stats: &mut UnwrapStats,
        rec: &[u8],
    ) {
        let p = &self.procs[idx];
        let first = content.split(|&c| c == b'\n').next().unwrap_or(&[]);
        let joins = content.first() == Some(&b' ')
            || (p.last_len + 3 >= SPLIT_LIMIT && content.first() != Some(&b'\t'));
        if joins {
            if p.held.is_empty() {
                // Its line was written already (or lost): never an entry of its own.
                note_not_understood(stats, rec);
                return;
            }
            let p = &mut self.procs[idx];
            let room = MAX_LINE.saturating_sub(p.held.len());
            p.held.extend_from_slice(&first[..first.len().min(room)]);
            p.last_len = first.len();
            let rest = &content[first.len()..];
            if let Some(rest) = rest.strip_prefix(b"\n") {
                self.new_lines(idx, millis, rest, out);
            } else if first.len() < HOLD_MIN {
                self.write_held(idx, out);
            }
            return;
        }
        if content.first() == Some(&b'\t') {
            self.write_held(idx, out);
            if self.last_written != Some(self.procs[idx].pid) {
                // Its entry is no longer the line before: drop it rather than misplace it.
                note_not_understood(stats, rec);
                return;
            }
        } else if !secondary_line(first) {
            // A later line of one message is its DETAIL, HINT, STATEMENT...: one that reads
            // as a LOG or FATAL entry of its own was not written by the server.
            note_not_understood(stats, rec);
            return;
        }
        self.new_lines(idx, millis, content, out);
    }

    /// Writes `procs[idx]`'s held line, if any.
    fn write_held(&mut self, idx: usize, out: &mut Vec<u8>) {
        let p = &mut self.procs[idx];
        if p.held.is_empty() {
            return;
        }
        if p.held[0] != b'\t' {
            write_utc_millis(out, p.held_millis);
            write_pid(out, p.pid);
        }
        out.extend_from_slice(&p.held);
        out.push(b'\n');
        p.held.clear();
        if p.held.capacity() > 4096 {
            p.held = Vec::new();
        }
        self.last_written = Some(p.pid);
    }

    /// Writes every held line.
    pub(crate) fn flush(&mut self, out: &mut Vec<u8>) {
        for i in 0..self.procs.len() {
            self.write_held(i, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_and_escapes() {
        assert_eq!(mark(b"[8-10]  x"), Some((Some(8), 10, &b" x"[..])));
        assert_eq!(mark(b"[3] x"), Some((None, 3, &b"x"[..])));
        assert_eq!(mark(b"[local] x"), None);
        let mut d = Vec::new();
        decode_escapes(b"#011 WHERE #033[31m #999 #", &mut d);
        assert_eq!(d, b"\t WHERE \x1b[31m #999 #");
    }

    #[test]
    fn rfc3164_year_rolls_over_in_january() {
        let mut r = SyslogReader::new(Envelope::Syslog3164, Context::utc(2027, 1));
        let dec = r.time_3164((12, 31, 86_399)).unwrap();
        let jan = r.time_3164((1, 1, 0)).unwrap();
        assert_eq!(jan - dec, 1000);
        let mut out = Vec::new();
        write_utc_millis(&mut out, dec);
        assert_eq!(out, b"2026-12-31 23:59:59.000 UTC ");
    }
}
