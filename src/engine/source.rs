//! One log source's reading state: how its lines are wrapped, their format and prefix (and
//! how each was decided), the bytes waiting for a decision, and what it read.

use crate::envelope::{Envelope, UnwrapStats, Unwrapper};
use crate::parse::detect::DetectError;
use crate::parse::{Decoder, Format, LineStats, Prefix};

/// How a source's `log_line_prefix` was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefixOrigin {
    /// `--prefix`.
    Flag,
    /// The server's `postgresql.conf`, read during discovery (or the demo's own).
    Configuration,
    /// Read off the log's own session lines.
    Inferred,
    /// The input ended before any connection line: its server lines were read with the
    /// likeliest setting.
    Guessed,
}

impl PrefixOrigin {
    /// The word used in the header and `--once --json` (`sources[].how`).
    pub fn name(self) -> &'static str {
        match self {
            PrefixOrigin::Flag => "flag",
            PrefixOrigin::Configuration => "configuration",
            PrefixOrigin::Inferred => "inferred",
            PrefixOrigin::Guessed => "guessed",
        }
    }
}

/// Why a source has no decoder yet, or reads badly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Only lines that cannot tell the prefix (server lines cut at `%q`) so far.
    Undecided,
    /// Entries no prefix explains; one of them.
    UnknownPrefix { example: Vec<u8> },
    /// Not a PostgreSQL log; one of its lines.
    NotALog { example: Vec<u8> },
}

/// One log source.
#[derive(Debug)]
pub struct Source {
    /// What the user named (a path, `-`, `demo`).
    pub label: String,
    /// The file extension, a hint for detection of an empty file.
    pub(super) ext: Option<String>,
    /// The envelope, once decided.
    pub(super) envelope: Option<Envelope>,
    /// Unwraps the records of a non-plain envelope.
    pub(super) unwrapper: Option<Unwrapper>,
    /// The prefix text the envelope's header supplies before each inner line.
    pub(super) synthetic: &'static str,
    /// What the envelope reader read, when the records were unwrapped outside (newest-first
    /// exports read in time order).
    pub(super) unwrapped_elsewhere: Option<UnwrapStats>,
    pub(super) decoder: Option<Decoder>,
    pub(super) origin: Option<PrefixOrigin>,
    /// Raw bytes not yet consumed.
    pub(super) carry: Vec<u8>,
    /// Unwrapped lines not yet decoded (wrapped sources).
    pub(super) inner: Vec<u8>,
    pub(super) skipping: bool,
    pub(super) skipped: u64,
    /// Lines dropped while the prefix could not be told and the buffer was full.
    pub(super) dropped: u64,
    pub(super) problem: Option<Problem>,
    /// Caught up with the existing content: decide on any complete line from now on.
    pub(super) live: bool,
    /// Connection events produced.
    pub(super) events: u64,
    /// Read the prefix again on the next lines (a new file, or many unparsed entries).
    pub(super) recheck: bool,
    /// (events, unparsed) when the prefix was last decided, to see the unparsed share climb.
    pub(super) at_decision: (u64, u64),
    /// The format this source's server is known to write (a fleet file), before `--format`.
    pub(super) format_set: Option<Format>,
    /// The prefix this source's server is known to use (a fleet file), before `--prefix`.
    pub(super) prefix_set: Option<String>,
}

impl Source {
    pub(super) fn new(label: &str, ext: Option<String>) -> Source {
        Source {
            label: label.to_string(),
            ext,
            envelope: None,
            unwrapper: None,
            synthetic: "",
            unwrapped_elsewhere: None,
            decoder: None,
            origin: None,
            carry: Vec::new(),
            inner: Vec::new(),
            skipping: false,
            skipped: 0,
            dropped: 0,
            problem: None,
            live: false,
            events: 0,
            recheck: false,
            at_decision: (0, 0),
            format_set: None,
            prefix_set: None,
        }
    }

    /// The detected (or forced) format, once known.
    pub fn format(&self) -> Option<Format> {
        self.decoder.as_ref().map(Decoder::format)
    }

    /// The envelope, once known (`Plain` for a log as the server writes it).
    pub fn envelope(&self) -> Option<Envelope> {
        self.envelope
    }

    /// The stderr prefix in use, once known, as the server's setting reads (without what an
    /// envelope's header supplied).
    pub fn prefix(&self) -> Option<&str> {
        let p = self.decoder.as_ref()?.prefix().map(Prefix::as_str)?;
        Some(p.strip_prefix(self.synthetic).unwrap_or(p))
    }

    /// How the reading was decided: the format (and, for stderr, the prefix) from a flag, the
    /// server's configuration, or the lines themselves.
    pub fn prefix_origin(&self) -> Option<PrefixOrigin> {
        self.origin
    }

    /// Lines read so far (for a wrapped source: the records read, and the inner entries).
    pub fn stats(&self) -> LineStats {
        let mut s = self
            .decoder
            .as_ref()
            .map(Decoder::stats)
            .unwrap_or_default();
        if let Some(w) = self.unwrap_stats() {
            s.read = w.records;
            s.unparsed += w.not_understood;
        }
        s.unparsed += self.skipped;
        s.read += self.dropped;
        s
    }

    /// What the envelope reader read, for a wrapped source.
    pub fn unwrap_stats(&self) -> Option<UnwrapStats> {
        self.unwrapper
            .as_ref()
            .map(Unwrapper::stats)
            .or_else(|| self.unwrapped_elsewhere.clone())
    }

    /// Complete lines waiting for a decision.
    pub fn waiting_lines(&self) -> u64 {
        let n = |b: &[u8]| memchr::memchr_iter(b'\n', b).count() as u64;
        n(&self.carry) + n(&self.inner) + self.dropped
    }

    /// Connection events read so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Whether the log has no process id, so sessions are paired by user and database.
    pub fn pairs_by_name(&self) -> bool {
        self.decoder.as_ref().is_some_and(Decoder::pairs_by_name)
    }

    /// Why the format could not be told, if it cannot.
    pub fn error(&self) -> Option<DetectError> {
        match self.problem {
            Some(Problem::NotALog { .. }) => Some(DetectError::NotALog),
            _ => None,
        }
    }

    /// What is wrong with the source, if anything.
    pub fn problem(&self) -> Option<&Problem> {
        self.problem.as_ref()
    }

    /// One phrase: envelope, format, prefix and how it was found (`stderr '%m [%p] '
    /// inferred`, `syslog (RFC 5424), stderr ...`).
    pub fn describe(&self) -> String {
        let mut out = String::new();
        if let Some(e) = self.envelope.filter(|e| *e != Envelope::Plain) {
            out.push_str(e.name());
            out.push_str(", ");
        }
        match self.format() {
            None => out.push_str("detecting format"),
            Some(f) => {
                out.push_str(f.name());
                if let (Some(p), Some(o)) = (self.prefix(), self.prefix_origin()) {
                    out.push_str(&format!(" '{p}' {}", o.name()));
                }
            }
        }
        out
    }
}
