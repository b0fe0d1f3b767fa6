//! The engine: each source's decoder feeding one store. Bytes in, figures out; no I/O but
//! reading a file to its end.

use crate::parse::detect::{detect_format, detect_prefix, DetectError};
use crate::parse::{Decoder, Format, LineStats, Prefix};
use crate::store::{Store, StoreConfig};
use std::io::Read;
use std::path::Path;

/// The longest entry kept; longer ones are skipped (no connection message is that long).
const MAX_ENTRY: usize = 4 << 20;
/// How much a source buffers before it detects its format.
const DETECT_BYTES: usize = 64 << 10;

/// How the engine reads its sources.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// Force a format instead of detecting it per source.
    pub format: Option<Format>,
    /// The server's `log_line_prefix`, instead of detecting it.
    pub prefix: Option<String>,
    pub store: StoreConfig,
}

/// One log source.
#[derive(Debug)]
pub struct Source {
    /// What the user named (a path, `-`, `demo`).
    pub label: String,
    /// The file extension, a hint for detection of an empty file.
    ext: Option<String>,
    decoder: Option<Decoder>,
    carry: Vec<u8>,
    skipping: bool,
    skipped: u64,
    error: Option<DetectError>,
    /// Caught up with the existing content: detect from the first complete line on.
    live: bool,
}

impl Source {
    /// The detected (or forced) format, once known.
    pub fn format(&self) -> Option<Format> {
        self.decoder.as_ref().map(Decoder::format)
    }

    /// The stderr prefix in use, once known.
    pub fn prefix(&self) -> Option<&str> {
        self.decoder
            .as_ref()
            .and_then(|d| d.prefix())
            .map(Prefix::as_str)
    }

    /// Lines read so far.
    pub fn stats(&self) -> LineStats {
        let mut s = self
            .decoder
            .as_ref()
            .map(Decoder::stats)
            .unwrap_or_default();
        s.unparsed += self.skipped;
        s
    }

    /// Why the format could not be told, if so.
    pub fn error(&self) -> Option<&DetectError> {
        self.error.as_ref()
    }
}

/// Sources and the store they feed.
#[derive(Debug)]
pub struct Engine {
    pub store: Store,
    sources: Vec<Source>,
    cfg: EngineConfig,
}

impl Engine {
    /// An engine with no source yet.
    pub fn new(cfg: EngineConfig) -> Engine {
        Engine {
            store: Store::new(cfg.store),
            sources: Vec::new(),
            cfg,
        }
    }

    /// Adds a source and returns its index.
    pub fn add_source(&mut self, label: &str) -> u16 {
        let ext = Path::new(label)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        self.sources.push(Source {
            label: label.to_string(),
            ext,
            decoder: None,
            carry: Vec::new(),
            skipping: false,
            skipped: 0,
            error: None,
            live: false,
        });
        (self.sources.len() - 1) as u16
    }

    /// Uses this `log_line_prefix` for stderr sources whose format is not yet known.
    pub fn set_prefix(&mut self, prefix: &str) {
        self.cfg.prefix = Some(prefix.to_string());
    }

    /// The sources, by index.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// Lines read over every source.
    pub fn line_stats(&self) -> LineStats {
        self.sources.iter().fold(LineStats::default(), |mut a, s| {
            let x = s.stats();
            a.read += x.read;
            a.entries += x.entries;
            a.unparsed += x.unparsed;
            a
        })
    }

    /// Tells the format and prefix of a source from a sample of its start.
    fn detect(&mut self, id: u16, sample: &[u8]) -> Result<(), DetectError> {
        let src = &mut self.sources[id as usize];
        let format = self
            .cfg
            .format
            .unwrap_or_else(|| detect_format(sample, src.ext.as_deref()));
        let prefix = match (format, &self.cfg.prefix) {
            (Format::Stderr, Some(p)) => Some(Prefix::compile(p)),
            (Format::Stderr, None) => match detect_prefix(sample) {
                Ok(p) => Some(p),
                Err(e) => {
                    src.error = Some(e.clone());
                    return Err(e);
                }
            },
            _ => None,
        };
        src.error = None;
        src.decoder = Some(Decoder::new(format, prefix));
        Ok(())
    }

    /// Decodes what `buf` holds for a source; returns the bytes consumed.
    fn decode(&mut self, id: u16, buf: &[u8], eof: bool) -> usize {
        let Engine { store, sources, .. } = self;
        let Some(dec) = sources[id as usize].decoder.as_mut() else {
            return 0;
        };
        let n = dec.decode(buf, eof, &mut |ev| store.apply(id, ev));
        store.advance_clock(dec.last_time());
        n
    }

    /// Feeds a stream's next bytes (any split); partial entries wait for the rest.
    pub fn feed(&mut self, id: u16, bytes: &[u8]) -> Result<(), DetectError> {
        let mut carry = std::mem::take(&mut self.sources[id as usize].carry);
        let skipping = self.sources[id as usize].skipping;
        let mut input = bytes;
        if skipping {
            match memchr::memchr(b'\n', input) {
                Some(i) => {
                    input = &input[i + 1..];
                    self.sources[id as usize].skipping = false;
                }
                None => {
                    self.sources[id as usize].carry = carry;
                    return Ok(());
                }
            }
        }
        carry.extend_from_slice(input);
        let mut result = Ok(());
        if self.sources[id as usize].decoder.is_none() {
            let lines = memchr::memchr_iter(b'\n', &carry).count();
            let live = self.sources[id as usize].live;
            if lines >= 16 || carry.len() >= DETECT_BYTES || (live && lines > 0) {
                result = self.detect(id, &carry);
            }
        }
        if self.sources[id as usize].decoder.is_some() {
            let n = self.decode(id, &carry, false);
            carry.drain(..n);
            if carry.len() > MAX_ENTRY {
                carry.clear();
                let src = &mut self.sources[id as usize];
                src.skipping = true;
                src.skipped += 1;
            }
        }
        self.sources[id as usize].carry = carry;
        result
    }

    /// The stream ended (or went quiet): detect with what there is and decode the last entry.
    pub fn finish(&mut self, id: u16) -> Result<(), DetectError> {
        let carry = std::mem::take(&mut self.sources[id as usize].carry);
        if self.sources[id as usize].decoder.is_none() {
            self.detect(id, &carry)?;
        }
        self.decode(id, &carry, true);
        Ok(())
    }

    /// Forces detection on what a live source has buffered so far (it went quiet).
    pub fn settle(&mut self, id: u16) -> Result<(), DetectError> {
        self.sources[id as usize].live = true;
        if self.sources[id as usize].decoder.is_some() || self.sources[id as usize].carry.is_empty()
        {
            return Ok(());
        }
        let carry = std::mem::take(&mut self.sources[id as usize].carry);
        let r = self.detect(id, &carry);
        self.sources[id as usize].carry = carry;
        if r.is_ok() {
            self.feed(id, &[])?;
        }
        r
    }

    /// The source moved to a new file: a partial entry of the old one is dropped.
    pub fn switched(&mut self, id: u16) {
        let src = &mut self.sources[id as usize];
        if src.decoder.is_some() {
            src.carry.clear();
        }
        src.skipping = false;
    }

    /// Reads a file (or any reader) to its end into source `id`, in large chunks without
    /// copying lines, on this thread ([`crate::replay::replay_readers`] uses every core).
    /// Returns the bytes read.
    pub fn read_to_end(&mut self, id: u16, reader: impl Read) -> Result<u64, ReadError> {
        crate::replay::replay_here(self, id, reader)
    }

    /// The decoder of source `id` (once its format is known) and the store it feeds.
    pub(crate) fn replay_parts(&mut self, id: u16) -> (Option<&mut Decoder>, &mut Store) {
        (self.sources[id as usize].decoder.as_mut(), &mut self.store)
    }

    /// Tells source `id`'s format from `sample` unless it is known already.
    pub(crate) fn detect_once(&mut self, id: u16, sample: &[u8]) -> Result<(), ReadError> {
        if self.sources[id as usize].decoder.is_some() {
            return Ok(());
        }
        self.detect(id, sample).map_err(ReadError::Detect)
    }

    /// Counts an entry of source `id` skipped for its length.
    pub(crate) fn skipped_entry(&mut self, id: u16) {
        self.sources[id as usize].skipped += 1;
    }

    /// Reads a whole file into a new source labelled by its path.
    pub fn read_path(&mut self, path: &Path) -> Result<u16, ReadError> {
        let file = std::fs::File::open(path).map_err(ReadError::Io)?;
        let id = self.add_source(&path.display().to_string());
        crate::replay::replay_open_files(self, id, std::iter::once(Ok(file)))
            .map_err(|(_, e)| e)?;
        Ok(id)
    }
}

/// Why a source could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Detect(DetectError),
}
