//! Log formats (stderr with any `log_line_prefix`, csvlog, jsonlog) decoded into connection events.
//!
//! Decoders find candidate entries in one pass over the whole buffer and parse only those;
//! everything else is counted, never copied. Stderr is scanned for severity tags that open a
//! connection message ([`scan`]), csvlog and jsonlog with a multi-pattern search for the
//! messages' texts ([`candidates`]).

pub mod csvlog;
pub mod detect;
pub mod infer;
pub mod jsonlog;
pub(crate) mod lines;
pub mod message;
mod nopid;
pub mod prefix;
pub(crate) mod scan;
pub mod stderr;
pub mod time;

use crate::model::{ConnectionEvent, EventKind, LogTime};
use aho_corasick::AhoCorasick;
use message::{MessageFields, Severity};
pub use prefix::Prefix;
use std::sync::OnceLock;

/// The three ways PostgreSQL writes its log: the one log-format enum (decoders, sources and
/// directories of log files all use it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `log_destination = stderr`: `.log` files (or no extension).
    #[default]
    Stderr,
    /// `csvlog`: `.csv` files.
    Csvlog,
    /// `jsonlog`: `.json` files.
    Jsonlog,
}

impl Format {
    /// The name used on the command line, in the header, in `log_destination` and in
    /// `current_logfiles`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Stderr => "stderr",
            Format::Csvlog => "csvlog",
            Format::Jsonlog => "jsonlog",
        }
    }

    /// Parses a hint: `log`/`stderr`, `csv`/`csvlog`, `json`/`jsonlog` (case-insensitive,
    /// leading '.' allowed).
    pub fn from_hint(hint: &str) -> Option<Format> {
        match hint.trim_start_matches('.').to_ascii_lowercase().as_str() {
            "log" | "stderr" | "txt" => Some(Format::Stderr),
            "csv" | "csvlog" => Some(Format::Csvlog),
            "json" | "jsonlog" => Some(Format::Jsonlog),
            _ => None,
        }
    }

    /// The file extension PostgreSQL uses for this family.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Stderr => "log",
            Format::Csvlog => "csv",
            Format::Jsonlog => "json",
        }
    }
}

/// Counts of what a decoder read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LineStats {
    /// Physical lines read.
    pub read: u64,
    /// Log entries (a multi-line entry counts once).
    pub entries: u64,
    /// Candidate entries that could not be parsed.
    pub unparsed: u64,
}

/// Texts that mark a csvlog or jsonlog entry as worth parsing (stderr has [`scan`]);
/// everything else is skipped unread. Each is
/// chosen to begin with bytes that are rare in ordinary log lines, so the SIMD prefilter
/// seldom stops anywhere else.
const CANDIDATES: [&str; 11] = [
    "FATAL",
    "DETAIL:  Role \"", // a password failure's DETAIL naming a missing role
    "d: host=",         // connection received: host=
    "d: user=",         // connection authorized: user= (also replication)
    ": session time: ", // disconnection: session time:
    "system is ",       // database system is ready to accept / shut down
    "starting PostgreSQL ",
    "shutdown request",
    "server processes", // terminating any other active / all server processes terminated
    "d: identity=",     // connection authenticated: identity= (user= is matched above)
    "y: setup total=",  // connection ready: setup total= (PostgreSQL 18)
];

/// Finds candidate entries: the packed SIMD (Teddy) searcher where the CPU has it, else an
/// Aho-Corasick automaton.
pub(crate) enum Candidates {
    Packed(aho_corasick::packed::Searcher),
    Automaton(AhoCorasick),
}

impl Candidates {
    /// The start of the first candidate text in `buf[from..]`.
    pub(crate) fn find(&self, buf: &[u8], from: usize) -> Option<usize> {
        match self {
            Candidates::Packed(s) => s
                .find_in(buf, aho_corasick::Span::from(from..buf.len()))
                .map(|m| m.start()),
            Candidates::Automaton(a) => a
                .find(aho_corasick::Input::new(buf).span(from..buf.len()))
                .map(|m| m.start()),
        }
    }

    /// Whether `buf` holds a candidate text.
    pub(crate) fn is_match(&self, buf: &[u8]) -> bool {
        self.find(buf, 0).is_some()
    }
}

/// The shared candidate searcher.
pub(crate) fn candidates() -> &'static Candidates {
    static SEARCHER: OnceLock<Candidates> = OnceLock::new();
    SEARCHER.get_or_init(|| {
        match aho_corasick::packed::Config::new()
            .builder()
            .extend(CANDIDATES)
            .build()
        {
            Some(s) => Candidates::Packed(s),
            None => Candidates::Automaton(
                AhoCorasick::new(CANDIDATES).expect("candidate patterns compile"),
            ),
        }
    })
}

/// One source's decoder: its format, prefix, counters and scratch space.
#[derive(Debug)]
pub struct Decoder {
    format: Format,
    prefix: Option<Prefix>,
    stats: LineStats,
    last_time: LogTime,
    scratch: Vec<u8>,
    /// Pseudo pids for entries without a process id (a prefix lacking `%p`), once seen.
    nopid: Option<Box<nopid::NoPidSessions>>,
    /// Events handed to a sink so far (an index into a replay worker's batch).
    emitted: u32,
    /// In a replay worker: the indices of events whose entry had no time of its own. They took
    /// the newest time of the worker's chunk, which the thread applying them corrects.
    untimed: Option<Vec<u32>>,
}

/// What a replay worker's decoder read from one chunk, to merge into the source's decoder.
#[derive(Debug, Default)]
pub(crate) struct ChunkState {
    pub stats: LineStats,
    /// The newest time of the chunk; `Millis::MIN` when it had none.
    pub last_time: LogTime,
    /// Indices of the chunk's events that took `last_time` for want of their own.
    pub untimed: Vec<u32>,
}

/// Fields of one entry as the format (prefix, CSV columns, JSON keys) gave them, before the
/// message is read; raw bytes borrowed from the entry.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EntryFields<'a> {
    pub time: Option<LogTime>,
    pub pid: Option<u32>,
    pub session_id: Option<&'a [u8]>,
    pub user: Option<&'a [u8]>,
    pub database: Option<&'a [u8]>,
    pub application: Option<&'a [u8]>,
    pub host: Option<&'a [u8]>,
    pub port: Option<u16>,
    pub sqlstate: Option<&'a [u8]>,
    /// Structured formats give exact user and database columns; prefer them to the message.
    pub exact_names: bool,
}

impl Decoder {
    /// A decoder for a known format (a prefix is needed for stderr).
    pub fn new(format: Format, prefix: Option<Prefix>) -> Decoder {
        Decoder {
            format,
            prefix,
            stats: LineStats::default(),
            last_time: LogTime::default(),
            scratch: Vec::new(),
            nopid: None,
            emitted: 0,
            untimed: None,
        }
    }

    /// A decoder for a replay worker: this one's format and prefix, counting from nothing, with
    /// no time known yet (see [`Decoder::take_chunk`]).
    pub(crate) fn worker(&self) -> Decoder {
        let mut d = Decoder::new(self.format, self.prefix.clone());
        d.untimed = Some(Vec::new());
        d.last_time.millis = crate::model::Millis::MIN;
        d
    }

    /// A worker's account of the chunk it just decoded; it starts afresh for the next one.
    pub(crate) fn take_chunk(&mut self) -> ChunkState {
        let state = ChunkState {
            stats: std::mem::take(&mut self.stats),
            last_time: self.last_time,
            untimed: self.untimed.replace(Vec::new()).unwrap_or_default(),
        };
        self.last_time = LogTime {
            millis: crate::model::Millis::MIN,
            offset_secs: 0,
        };
        self.emitted = 0;
        state
    }

    /// Adds a worker's chunk (decoded after everything this decoder has seen) to its counts and
    /// clock.
    pub(crate) fn absorb(&mut self, stats: LineStats, last_time: LogTime) {
        self.stats.read += stats.read;
        self.stats.entries += stats.entries;
        self.stats.unparsed += stats.unparsed;
        if last_time.millis > self.last_time.millis {
            self.last_time = last_time;
        }
    }

    /// The format decoded.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Reads on with another stderr prefix (the log's prefix changed).
    pub fn set_prefix(&mut self, prefix: Prefix) {
        self.prefix = Some(prefix);
    }

    /// The stderr prefix in use.
    pub fn prefix(&self) -> Option<&Prefix> {
        self.prefix.as_ref()
    }

    /// What was read so far.
    pub fn stats(&self) -> LineStats {
        self.stats
    }

    /// Whether entries came without a process id, so sessions are paired by their names.
    pub fn pairs_by_name(&self) -> bool {
        self.nopid.is_some()
    }

    /// The newest time seen in an entry that was parsed.
    pub fn last_time(&self) -> LogTime {
        self.last_time
    }

    /// Decodes the complete entries at the start of `buf` and returns how many bytes they took.
    /// With `eof`, a last entry lacking its newline is decoded too.
    pub fn decode(
        &mut self,
        buf: &[u8],
        eof: bool,
        sink: &mut dyn FnMut(&ConnectionEvent<'_>),
    ) -> usize {
        match self.format {
            Format::Stderr => stderr::decode(self, buf, eof, sink),
            Format::Csvlog => csvlog::decode(self, buf, eof, sink),
            Format::Jsonlog => jsonlog::decode(self, buf, eof, sink),
        }
    }

    /// Turns one entry's fields and message into an event for the sink; counts what fails.
    pub(crate) fn emit(
        &mut self,
        fields: EntryFields<'_>,
        severity: Severity,
        message: &[u8],
        sink: &mut dyn FnMut(&ConnectionEvent<'_>),
    ) {
        if let Some(t) = fields.time {
            if t.millis > self.last_time.millis {
                self.last_time = t;
            }
        }
        let known = (fields.user, fields.database);
        let Some((kind, m)) = message::classify(severity, message, fields.sqlstate, known) else {
            return;
        };
        let time = fields.time.unwrap_or(self.last_time);
        let mut ev = assemble(time, 0, kind, fields, m);
        match fields
            .pid
            .or_else(|| pid_from_session_id(fields.session_id))
        {
            Some(pid) => ev.pid = pid,
            None => {
                // No process id in the prefix: pair sessions by their names instead.
                let pairing = self.nopid.get_or_insert_with(Default::default);
                match pairing.pid_for(&ev.kind, time, ev.user, ev.database) {
                    Some(pid) => ev.pid = pid,
                    None => return,
                }
                if matches!(ev.kind, EventKind::Disconnected { .. }) {
                    if let Some(cause) = pairing.take_ending(time) {
                        sink(&ConnectionEvent {
                            kind: EventKind::Ending { cause },
                            ..ev
                        });
                        // Keep a replay worker's event index in step with what was emitted.
                        self.emitted = self.emitted.wrapping_add(1);
                    }
                }
            }
        }
        if let (None, Some(untimed)) = (fields.time, self.untimed.as_mut()) {
            untimed.push(self.emitted);
        }
        self.emitted = self.emitted.wrapping_add(1);
        sink(&ev);
    }
}

/// `%c` is `<start time hex>.<pid hex>`: the pid when the prefix has no `%p`.
fn pid_from_session_id(sid: Option<&[u8]>) -> Option<u32> {
    let sid = sid?;
    let dot = memchr::memchr(b'.', sid)?;
    u32::from_str_radix(std::str::from_utf8(&sid[dot + 1..]).ok()?, 16).ok()
}

/// PostgreSQL keeps at most 63 bytes of application_name (NAMEDATALEN - 1), cut at a
/// character boundary; the log prints it whole.
fn clip_name(v: &[u8]) -> &[u8] {
    if v.len() <= 63 {
        return v;
    }
    let mut cut = 63;
    while cut > 0 && (v[cut] & 0xC0) == 0x80 {
        cut -= 1;
    }
    &v[..cut]
}

fn assemble<'a>(
    time: LogTime,
    pid: u32,
    kind: EventKind<'a>,
    e: EntryFields<'a>,
    m: MessageFields<'a>,
) -> ConnectionEvent<'a> {
    let (user, database) = if e.exact_names {
        (e.user.or(m.user), e.database.or(m.database))
    } else {
        (m.user.or(e.user), m.database.or(e.database))
    };
    ConnectionEvent {
        time,
        pid,
        session_id: e.session_id,
        kind,
        user,
        database,
        application: m.application.or(e.application).map(clip_name),
        host: m.host.or(e.host),
        port: m.port.or(e.port),
    }
}
