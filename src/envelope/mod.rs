//! Envelopes: PostgreSQL log lines as syslog, journald, container runtimes and clouds carry
//! them. Detects the envelope of a source from its first lines and unwraps it into plain
//! stderr / csvlog / jsonlog text that the decoders of `crate::parse` read unchanged.
//!
//! Layers: bytes -> framing (lines, syslog chunks, CRI partial lines, a JSON array) ->
//! envelope (the inner entry, with the time and pid the envelope knows) -> normalized lines.
//! Output contract: one inner line per `\n`-terminated line; a stderr entry line is written as
//! [`Unwrapper::synthetic_prefix`] values followed by the inner line, a continuation line as
//! `\t...` right after its entry, jsonlog / csvlog entries as they are.

mod cnpg;
mod detect;
mod json;
mod order;
mod syslog;
mod text;
mod timefmt;

pub use detect::{detect, detect_at_eof, Detection};
pub use order::{is_newest_first, read_in_time_order};
pub use timefmt::{parse_rfc3339, write_utc_millis};

use memchr::memchr;
use std::time::SystemTime;

/// How a source's PostgreSQL lines are wrapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Envelope {
    /// Not wrapped: stderr, csvlog or jsonlog as the server writes it.
    Plain,
    /// rsyslog's traditional file format: `Nov 29 08:50:45 host postgres[pid]: [5-1] ...`.
    Syslog3164,
    /// RFC 5424: `<134>1 2026-...+00:00 host postgres pid - -  [5-1] ...`.
    Syslog5424,
    /// rsyslog's file format with RFC 3339 times: `2026-...+00:00 host postgres[pid]: [5-1] ...`.
    Syslog3339,
    /// `journalctl -o json`: the line in `MESSAGE` (a string or an array of bytes).
    JournaldJson,
    /// `journalctl -o short-iso` (or `short`): `<time> host postgres[pid]: <server line>`.
    JournaldShort,
    /// Docker's json-file driver: `{"log":"<line>\n","stream":...,"time":...}`.
    DockerJson,
    /// `kubectl logs --timestamps`, `docker logs -t`: `<RFC 3339 time> <line>`.
    Timestamped,
    /// containerd / CRI-O files: `<time> stderr F|P <line>`, `P` parts joined.
    Cri,
    /// CloudNativePG pods: JSON lines, PostgreSQL entries under `"record"` (csvlog names).
    Cnpg,
    /// Cloud Logging LogEntry JSON (lines or the array `gcloud logging read` prints).
    CloudLogging,
}

impl Envelope {
    /// Every envelope, for tests and listings.
    pub const ALL: [Envelope; 11] = [
        Envelope::Plain,
        Envelope::Syslog3164,
        Envelope::Syslog5424,
        Envelope::Syslog3339,
        Envelope::JournaldJson,
        Envelope::JournaldShort,
        Envelope::DockerJson,
        Envelope::Timestamped,
        Envelope::Cri,
        Envelope::Cnpg,
        Envelope::CloudLogging,
    ];

    /// The name shown in the header and in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Envelope::Plain => "none",
            Envelope::Syslog3164 => "syslog (RFC 3164)",
            Envelope::Syslog5424 => "syslog (RFC 5424)",
            Envelope::Syslog3339 => "syslog (RFC 3339 file format)",
            Envelope::JournaldJson => "journald (json)",
            Envelope::JournaldShort => "journald (short-iso)",
            Envelope::DockerJson => "docker json-file",
            Envelope::Timestamped => "timestamped (kubectl logs --timestamps)",
            Envelope::Cri => "CRI (containerd / CRI-O)",
            Envelope::Cnpg => "CloudNativePG",
            Envelope::CloudLogging => "Cloud Logging",
        }
    }

    /// The stable key used in `--once --json` (`sources[].envelope`).
    pub fn key(self) -> &'static str {
        match self {
            Envelope::Plain => "none",
            Envelope::Syslog3164 => "syslog-rfc3164",
            Envelope::Syslog5424 => "syslog-rfc5424",
            Envelope::Syslog3339 => "syslog-rfc3339",
            Envelope::JournaldJson => "journald-json",
            Envelope::JournaldShort => "journald-short",
            Envelope::DockerJson => "docker-json",
            Envelope::Timestamped => "kubectl-timestamps",
            Envelope::Cri => "cri",
            Envelope::Cnpg => "cnpg",
            Envelope::CloudLogging => "cloud-logging",
        }
    }

    /// The `log_line_prefix` text the unwrapper writes before each inner stderr entry line.
    pub fn synthetic_prefix(self) -> &'static str {
        match self {
            Envelope::Syslog3164 | Envelope::Syslog5424 | Envelope::Syslog3339 => "%m [%p] ",
            Envelope::CloudLogging => "%m ",
            _ => "",
        }
    }
}

/// What RFC 3164 lines lack: the year and the zone of their time stamps. The caller fills it
/// from the file's modification time (or now) and the machine's local zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    /// The year at the reference time (the file's mtime).
    pub year: i32,
    /// The month (1..=12) at the reference time; lines of a later month are of the year before.
    pub month: u32,
    /// The offset of syslog's local zone east of UTC, in seconds.
    pub utc_offset_secs: i32,
}

impl Context {
    /// A context at `year` / `month` in UTC.
    pub fn utc(year: i32, month: u32) -> Context {
        Context {
            year,
            month: month.clamp(1, 12),
            utc_offset_secs: 0,
        }
    }

    /// The context at `t` (e.g. a file's mtime) in the machine's local zone.
    pub fn at(t: SystemTime) -> Context {
        use chrono::{Datelike, Local, Offset};
        let dt: chrono::DateTime<Local> = t.into();
        Context {
            year: dt.year(),
            month: dt.month(),
            utc_offset_secs: dt.offset().fix().local_minus_utc(),
        }
    }

    /// The context now, in the machine's local zone.
    pub fn now() -> Context {
        Context::at(SystemTime::now())
    }
}

/// What an unwrapper has read so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnwrapStats {
    /// Records (lines, JSON objects) read.
    pub records: u64,
    /// Normalized lines written.
    pub lines_out: u64,
    /// Records neither the envelope nor plain PostgreSQL (or continuations cut off from their
    /// entry): dropped.
    pub not_understood: u64,
    /// Records known not to carry PostgreSQL entries (CloudNativePG operator lines): dropped.
    pub skipped: u64,
    /// Plain PostgreSQL lines found between enveloped ones, passed through unchanged.
    pub passed_through: u64,
    /// The first record not understood, cut to 200 bytes (lossy UTF-8), for a warning.
    pub example: Option<String>,
}

/// What a reader made of one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Understood (it may or may not have written lines).
    Done,
    /// Known not to carry a PostgreSQL entry.
    Skipped,
    /// Not this envelope.
    NotUnderstood,
}

/// The longest record kept whole; longer records are cut there (bounded memory).
pub(crate) const MAX_RECORD: usize = 1 << 20;

/// The envelope-specific part of an unwrapper.
enum Reader {
    Plain,
    Text(text::TextReader),
    Syslog(Box<syslog::SyslogReader>),
    Json(json::JsonReader),
}

/// Unwraps one source's records into normalized PostgreSQL lines.
pub struct Unwrapper {
    envelope: Envelope,
    reader: Reader,
    stats: UnwrapStats,
    /// The last line written was a plain line passed through (its continuations follow it).
    after_passthrough: bool,
    /// The rest of an over-long record is being skipped.
    skipping: bool,
    /// JSON array framing (`gcloud logging read --format=json`), decided on the first bytes.
    array: Option<bool>,
}

impl std::fmt::Debug for Unwrapper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unwrapper")
            .field("envelope", &self.envelope)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Unwrapper {
    /// An unwrapper for `envelope`; `cx` gives RFC 3164 lines their year and zone.
    pub fn new(envelope: Envelope, cx: Context) -> Unwrapper {
        let reader = match envelope {
            Envelope::Plain => Reader::Plain,
            Envelope::Syslog3164 | Envelope::Syslog5424 | Envelope::Syslog3339 => {
                Reader::Syslog(Box::new(syslog::SyslogReader::new(envelope, cx)))
            }
            Envelope::JournaldShort | Envelope::Timestamped | Envelope::Cri => {
                Reader::Text(text::TextReader::new(envelope, cx))
            }
            Envelope::JournaldJson
            | Envelope::DockerJson
            | Envelope::Cnpg
            | Envelope::CloudLogging => Reader::Json(json::JsonReader::new(envelope)),
        };
        Unwrapper {
            envelope,
            reader,
            stats: UnwrapStats::default(),
            after_passthrough: false,
            skipping: false,
            array: None,
        }
    }

    /// The envelope this unwrapper reads.
    pub fn envelope(&self) -> Envelope {
        self.envelope
    }

    /// Reads the complete records at the start of `input` (all of it with `eof`), appends the
    /// inner log lines they carry to `out`, returns the bytes consumed. Never panics on any
    /// bytes; memory stays bounded (records past 1 MiB are cut, per-process state is capped).
    /// With `eof`, everything still held (syslog lines waiting for a split continuation, CRI
    /// partial lines) is written too.
    pub fn unwrap(&mut self, input: &[u8], eof: bool, out: &mut Vec<u8>) -> usize {
        let before = out.len();
        let used = if matches!(self.reader, Reader::Json(_)) && self.is_array(input) {
            self.unwrap_array(input, eof, out)
        } else {
            self.unwrap_lines(input, eof, out)
        };
        if eof {
            self.flush_into(out);
        }
        self.count_lines(before, out);
        used
    }

    /// Writes everything held back (a syslog line that a split chunk could still continue, a
    /// CRI / Docker partial line). Call it when a followed source has been idle for a while;
    /// a continuation arriving later is then counted as not understood, never read as an entry.
    pub fn flush(&mut self, out: &mut Vec<u8>) {
        let before = out.len();
        self.flush_into(out);
        self.count_lines(before, out);
    }

    /// The `log_line_prefix` text written before each inner stderr entry line
    /// (`"%m [%p] "` for syslog, `"%m "` for Cloud Logging, `""` when lines come as they were).
    pub fn synthetic_prefix(&self) -> &'static str {
        self.envelope.synthetic_prefix()
    }

    /// What has been read so far.
    pub fn stats(&self) -> UnwrapStats {
        self.stats.clone()
    }

    fn count_lines(&mut self, before: usize, out: &[u8]) {
        let written = &out[before.min(out.len())..];
        self.stats.lines_out += memchr::memchr_iter(b'\n', written).count() as u64;
    }

    fn flush_into(&mut self, out: &mut Vec<u8>) {
        match &mut self.reader {
            Reader::Syslog(r) => r.flush(out),
            Reader::Text(r) => r.flush(out),
            Reader::Json(r) => r.flush(out),
            Reader::Plain => {}
        }
    }

    fn is_array(&mut self, input: &[u8]) -> bool {
        if let Some(a) = self.array {
            return a;
        }
        match input.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(&b) => {
                self.array = Some(b == b'[');
                b == b'['
            }
            None => false,
        }
    }

    fn unwrap_lines(&mut self, input: &[u8], eof: bool, out: &mut Vec<u8>) -> usize {
        let mut pos = 0;
        while pos < input.len() {
            let rest = &input[pos..];
            let (line, next, whole) = match memchr(b'\n', rest) {
                Some(i) => (&rest[..i], pos + i + 1, true),
                None if eof => (rest, input.len(), true),
                None if rest.len() >= MAX_RECORD => (rest, input.len(), false),
                None => break,
            };
            pos = next;
            if self.skipping {
                // The tail of an over-long record already read in part.
                self.skipping = !whole;
                continue;
            }
            self.skipping = !whole;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            self.record(line, out);
        }
        pos
    }

    fn unwrap_array(&mut self, input: &[u8], eof: bool, out: &mut Vec<u8>) -> usize {
        let mut pos = 0;
        loop {
            match json::next_object(input, pos, eof) {
                json::Next::Object(start, end) => {
                    self.record(&input[start..end], out);
                    pos = end;
                }
                json::Next::NeedMore(at) => return at,
                json::Next::TooLong(at) => {
                    self.not_understood(&input[at..input.len().min(at + 200)]);
                    return input.len();
                }
                json::Next::End => return input.len(),
            }
        }
    }

    /// Reads one record (a line or a JSON object).
    fn record(&mut self, rec: &[u8], out: &mut Vec<u8>) {
        if rec.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        self.stats.records += 1;
        let outcome = match &mut self.reader {
            Reader::Plain => {
                out.extend_from_slice(rec);
                out.push(b'\n');
                Outcome::Done
            }
            Reader::Text(r) => r.record(rec, out),
            Reader::Syslog(r) => r.record(rec, out, &mut self.stats),
            Reader::Json(r) => r.record(rec, out),
        };
        match outcome {
            Outcome::Done => self.after_passthrough = false,
            Outcome::Skipped => self.stats.skipped += 1,
            Outcome::NotUnderstood => {
                let cont = rec.first() == Some(&b'\t') && self.after_passthrough;
                if cont || detect::is_plain_line(rec) {
                    self.flush_into(out);
                    out.extend_from_slice(rec);
                    out.push(b'\n');
                    self.stats.passed_through += 1;
                    self.after_passthrough = true;
                } else {
                    self.after_passthrough = false;
                    self.not_understood(rec);
                }
            }
        }
    }

    fn not_understood(&mut self, rec: &[u8]) {
        note_not_understood(&mut self.stats, rec);
    }
}

/// Counts a record not understood and keeps the first one as an example.
pub(crate) fn note_not_understood(stats: &mut UnwrapStats, rec: &[u8]) {
    stats.not_understood += 1;
    if stats.example.is_none() {
        let cut = &rec[..rec.len().min(200)];
        stats.example = Some(String::from_utf8_lossy(cut).into_owned());
    }
}

/// Writes `text` (which may hold newlines) as normalized lines: the first line after
/// `prefix` (unless it is a tab-led continuation), every further line as a continuation
/// (tab-led), so text inside a record can never start an entry of its own.
pub(crate) fn write_text(out: &mut Vec<u8>, prefix: &[u8], text: &[u8]) {
    let text = trim_newlines(text);
    let mut first = true;
    for seg in text.split(|&b| b == b'\n') {
        let seg = seg.strip_suffix(b"\r").unwrap_or(seg);
        if first {
            if seg.first() != Some(&b'\t') {
                out.extend_from_slice(prefix);
            }
            first = false;
        } else if seg.first() != Some(&b'\t') {
            out.push(b'\t');
        }
        out.extend_from_slice(seg);
        out.push(b'\n');
    }
}

/// `text` without trailing newlines and carriage returns.
pub(crate) fn trim_newlines(mut text: &[u8]) -> &[u8] {
    while let Some((&last, rest)) = text.split_last() {
        if last == b'\n' || last == b'\r' {
            text = rest;
        } else {
            break;
        }
    }
    text
}
