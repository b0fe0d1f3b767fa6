//! PLACEHOLDER (replaced by the envelope branch): logs carried inside syslog, journald,
//! container and cloud records.

/// How a source's lines are wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    Plain,
}

impl Envelope {
    /// The name shown in the header and JSON.
    pub fn name(self) -> &'static str {
        "none"
    }
}

/// What a sample says about the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    Decided(Envelope),
    Undecided,
}

/// Detects the envelope from a sample.
pub fn detect(_sample: &[u8]) -> Detection {
    Detection::Decided(Envelope::Plain)
}

/// Year and zone for records that lack them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context {
    pub year: i32,
    pub utc_offset_secs: i32,
}

/// Counts of what an unwrapper read.
#[derive(Debug, Clone, Default)]
pub struct UnwrapStats {
    pub records: u64,
    pub inner_lines: u64,
    pub not_understood: u64,
    pub example: Option<Vec<u8>>,
}

/// Turns wrapped records into plain log lines.
#[derive(Debug)]
pub struct Unwrapper {
    envelope: Envelope,
    stats: UnwrapStats,
}

impl Unwrapper {
    pub fn new(envelope: Envelope, _cx: Context) -> Unwrapper {
        Unwrapper {
            envelope,
            stats: UnwrapStats::default(),
        }
    }
    pub fn envelope(&self) -> Envelope {
        self.envelope
    }
    pub fn unwrap(&mut self, input: &[u8], eof: bool, out: &mut Vec<u8>) -> usize {
        let n = if eof {
            input.len()
        } else {
            memchr::memrchr(b'\n', input).map_or(0, |i| i + 1)
        };
        out.extend_from_slice(&input[..n]);
        n
    }
    pub fn synthetic_prefix(&self) -> &'static str {
        ""
    }
    pub fn stats(&self) -> UnwrapStats {
        self.stats.clone()
    }
}
