//! The engine: each source's reader (envelope, format, prefix, decoder) feeding one store.
//! Bytes in, figures out; no I/O but reading a file to its end.

mod decide;
mod slices;
pub mod source;
pub mod warnings;

use crate::envelope::{self, Envelope};
use crate::parse::detect::DetectError;
use crate::parse::LineStats;
use crate::store::{Store, StoreConfig};
pub use source::{PrefixOrigin, Problem, Source};
use std::io::Read;
use std::path::Path;

/// Read size for replaying files.
const CHUNK: usize = 1 << 20;
/// Bytes read first to tell a file's envelope and order.
const HEAD: usize = 64 << 10;
/// The longest entry kept; longer ones are skipped (no connection message is that long).
const MAX_ENTRY: usize = 4 << 20;

/// How the engine reads its sources.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// Force a format instead of detecting it per source.
    pub format: Option<crate::parse::Format>,
    /// The server's `log_line_prefix` from `--prefix`, instead of inferring it.
    pub prefix: Option<String>,
    pub store: StoreConfig,
}

/// Told of every connection event the store gets, and of the engine after each batch
/// (the metrics of `--metrics` keep their own counters this way).
pub trait Observer: Send + std::fmt::Debug {
    /// One event, right after the store applied it.
    fn event(&mut self, source: u16, ev: &crate::model::ConnectionEvent<'_>);
    /// A batch of input was applied: a moment to read figures off the engine.
    fn batch(&mut self, engine: &Engine);
}

/// Where decoded events go: the store, then the observer if one is set. Every path that
/// applies events (following, whole reads, parallel replay) goes through it.
pub(crate) struct Applier<'a> {
    pub store: &'a mut Store,
    observer: Option<&'a mut (dyn Observer + 'static)>,
}

impl Applier<'_> {
    /// Applies one event of source `id`.
    pub fn apply(&mut self, id: u16, ev: &crate::model::ConnectionEvent<'_>) {
        self.store.apply(crate::model::SourceId(id), ev);
        if let Some(o) = self.observer.as_deref_mut() {
            o.event(id, ev);
        }
    }
}

/// Sources and the store they feed.
#[derive(Debug)]
pub struct Engine {
    pub store: Store,
    sources: Vec<Source>,
    /// Told of every event (metrics), when set.
    observer: Option<Box<dyn Observer>>,
    cfg: EngineConfig,
    /// The prefix from the server's configuration (discovery), when no flag gave one.
    configured_prefix: Option<String>,
}

impl Engine {
    /// An engine with no source yet.
    pub fn new(cfg: EngineConfig) -> Engine {
        Engine {
            store: Store::new(cfg.store),
            sources: Vec::new(),
            observer: None,
            cfg,
            configured_prefix: None,
        }
    }

    /// Tells `observer` of every event from now on.
    pub fn set_observer(&mut self, observer: Box<dyn Observer>) {
        self.observer = Some(observer);
    }

    /// Lets the observer, if any, read the engine after a batch of input.
    pub fn observe_batch(&mut self) {
        if let Some(mut o) = self.observer.take() {
            o.batch(self);
            self.observer = Some(o);
        }
    }

    /// Adds a source and returns its index.
    pub fn add_source(&mut self, label: &str) -> u16 {
        let ext = Path::new(label)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        self.sources.push(Source::new(label, ext));
        (self.sources.len() - 1) as u16
    }

    /// Reads source `id` with its server's own format and prefix (a fleet file), before the
    /// `--format` and `--prefix` flags; `None` leaves that one to the flags and detection.
    pub fn set_reading(
        &mut self,
        id: u16,
        format: Option<crate::parse::Format>,
        prefix: Option<&str>,
    ) {
        let src = &mut self.sources[id as usize];
        src.format_set = format;
        src.prefix_set = prefix.map(str::to_string);
    }

    /// Uses this `log_line_prefix` (the server's configuration) for stderr sources whose
    /// prefix is not yet known, unless `--prefix` gave one.
    pub fn set_prefix(&mut self, prefix: &str) {
        self.configured_prefix = Some(prefix.to_string());
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

    /// Every source's warnings, one sentence each.
    pub fn warnings(&self) -> Vec<String> {
        self.sources
            .iter()
            .flat_map(warnings::source_warnings)
            .collect()
    }

    /// Feeds a stream's next bytes (any split); partial entries wait for the rest.
    pub fn feed(&mut self, id: u16, bytes: &[u8]) -> Result<(), DetectError> {
        let src = &mut self.sources[id as usize];
        let mut input = bytes;
        if src.skipping {
            match memchr::memchr(b'\n', input) {
                Some(i) => {
                    input = &input[i + 1..];
                    src.skipping = false;
                }
                None => return Ok(()),
            }
        }
        src.carry.extend_from_slice(input);
        self.pump(id, false)
    }

    /// The stream ended: decide with what there is and decode the last entry.
    pub fn finish(&mut self, id: u16) -> Result<(), DetectError> {
        self.pump(id, true)
    }

    /// The source caught up with the existing content (or went quiet): from now on any
    /// complete line is enough to decide on.
    pub fn settle(&mut self, id: u16) -> Result<(), DetectError> {
        self.sources[id as usize].live = true;
        self.pump(id, false)
    }

    /// The source moved to a new file: a partial entry of the old one is dropped, and the
    /// prefix is read again from the new file's lines.
    pub fn switched(&mut self, id: u16) {
        let src = &mut self.sources[id as usize];
        if src.decoder.is_some() {
            src.carry.clear();
            src.inner.clear();
            src.recheck = src.origin == Some(PrefixOrigin::Inferred);
        }
        src.skipping = false;
    }

    /// Runs a source's bytes through envelope, decisions and decoder as far as they go.
    fn pump(&mut self, id: u16, eof: bool) -> Result<(), DetectError> {
        let Engine {
            store,
            sources,
            cfg,
            configured_prefix,
            observer,
        } = self;
        let src = &mut sources[id as usize];
        // A server's own prefix (fleet file) stands before the flag; copied out of the source
        // (once per batch) because the decisions below change the source.
        let own = src.prefix_set.clone();
        let plan = decide::Defaults {
            format: src.format_set.or(cfg.format),
            flag: own.as_deref().or(cfg.prefix.as_deref()),
            configured: configured_prefix.as_deref(),
        };
        if !decide::envelope(src, eof) {
            return Ok(());
        }
        if let Some(u) = src.unwrapper.as_mut() {
            let n = u.unwrap(&src.carry, eof, &mut src.inner);
            src.carry.drain(..n);
            if src.live {
                // Followed live: a line held for a continuation that may never come is
                // written now, so that it shows at once.
                u.flush(&mut src.inner);
            }
        }
        let wrapped = src.envelope.is_some_and(|e| e != Envelope::Plain);
        let result = decide::decoder(src, &plan, wrapped, eof);
        let slot = if wrapped {
            &mut src.inner
        } else {
            &mut src.carry
        };
        let mut work = std::mem::take(slot);
        if src.decoder.is_some() {
            let to = Applier {
                store,
                observer: observer.as_deref_mut(),
            };
            let n = slices::decode(to, id, src, &work, eof);
            work.drain(..n);
        }
        if work.len() > MAX_ENTRY && src.decoder.is_some() {
            work.clear();
            src.skipping = !wrapped;
            src.skipped += 1;
        }
        *(if wrapped {
            &mut src.inner
        } else {
            &mut src.carry
        }) = work;
        result
    }

    /// Decides source `id` from the first bytes of its input (`sample`, all of it when `eof`)
    /// if they show a plain stderr log whose prefix is known: then its chunks can be decoded
    /// apart, on every core. False (and nothing changed) for anything else: wrapped records,
    /// csvlog / jsonlog, a prefix the sample cannot tell yet.
    pub(crate) fn parallel_ready(&mut self, id: u16, sample: &[u8], eof: bool) -> bool {
        let Engine {
            sources,
            cfg,
            configured_prefix,
            ..
        } = self;
        let src = &mut sources[id as usize];
        if src.decoder.is_some() {
            return self.direct(id)
                && self.sources[id as usize].format() == Some(crate::parse::Format::Stderr)
                && self.sources[id as usize].carry.is_empty();
        }
        if src.envelope.is_some_and(|e| e != Envelope::Plain) || !src.carry.is_empty() {
            return false;
        }
        let plain = if eof {
            envelope::detect_at_eof(sample) == Envelope::Plain
        } else {
            envelope::detect(sample) == envelope::Detection::Decided(Envelope::Plain)
        };
        if !plain {
            return false;
        }
        let lines = &sample[..memchr::memrchr(b'\n', sample).map_or(0, |i| i + 1)];
        let own = src.prefix_set.clone();
        let d = decide::Defaults {
            format: src.format_set.or(cfg.format),
            flag: own.as_deref().or(cfg.prefix.as_deref()),
            configured: configured_prefix.as_deref(),
        };
        match decide::choose(src.ext.as_deref(), &d, "", false, lines) {
            // Sessions paired by name (no pid) need the whole log in order on one thread.
            decide::Choice::Decoder(dec, origin)
                if dec.format() == crate::parse::Format::Stderr
                    && dec.prefix().is_some_and(crate::parse::Prefix::has_pid) =>
            {
                decide::set_envelope(src, Envelope::Plain);
                let _ = decide::set(src, dec, origin);
                true
            }
            _ => false,
        }
    }

    /// The decoder of source `id` (once decided) and the store it feeds, for parallel replay.
    pub(crate) fn replay_parts(
        &mut self,
        id: u16,
    ) -> (Option<&mut crate::parse::Decoder>, Applier<'_>) {
        let to = Applier {
            store: &mut self.store,
            observer: self.observer.as_deref_mut(),
        };
        (self.sources[id as usize].decoder.as_mut(), to)
    }

    /// Counts an entry of source `id` skipped for its length.
    pub(crate) fn skipped_entry(&mut self, id: u16) {
        self.sources[id as usize].skipped += 1;
    }

    /// Counts connection events a parallel replay applied to source `id`.
    pub(crate) fn count_events(&mut self, id: u16, n: u64) {
        self.sources[id as usize].events += n;
    }

    /// Whether a source's bytes can go straight from a read buffer to its decoder.
    fn direct(&self, id: u16) -> bool {
        let s = &self.sources[id as usize];
        s.decoder.is_some()
            && s.unwrapper.is_none()
            && s.envelope.is_some()
            && !s.recheck
            && !s.skipping
    }

    /// Reads a file (or any reader) to its end into source `id`, in large chunks; once the
    /// source's reading is decided, lines are decoded in the read buffer without copying.
    /// Returns the bytes read.
    pub fn read_to_end(&mut self, id: u16, mut reader: impl Read) -> Result<u64, ReadError> {
        let mut buf = vec![0u8; CHUNK];
        let mut len = 0;
        let mut total = 0u64;
        if self.sources[id as usize].envelope.is_none() {
            // The head tells the envelope, and whether an export runs newest first.
            let mut eof = false;
            while len < HEAD && !eof {
                let n = read_some(&mut reader, &mut buf[len..HEAD])?;
                eof = n == 0;
                len += n;
            }
            total += len as u64;
            let head = &buf[..len];
            let env = if eof {
                envelope::detect_at_eof(head)
            } else {
                match envelope::detect(head) {
                    envelope::Detection::Decided(e) => e,
                    envelope::Detection::Undecided => Envelope::Plain,
                }
            };
            let cx = decide::context_for(&self.sources[id as usize].label);
            if env != Envelope::Plain && envelope::is_newest_first(head, env, cx) {
                let head = std::io::Cursor::new(head.to_vec());
                return self.read_newest_first(id, head.chain(reader), env, cx, total);
            }
        }

        loop {
            if !self.direct(id) {
                if len > 0 {
                    self.feed(id, &buf[..len]).map_err(ReadError::Detect)?;
                    len = 0;
                }
                let n = read_some(&mut reader, &mut buf)?;
                total += n as u64;
                if n == 0 {
                    break;
                }
                self.feed(id, &buf[..n]).map_err(ReadError::Detect)?;
                if self.direct(id) {
                    // Decided: what is left over moves into the read buffer.
                    let carry = std::mem::take(&mut self.sources[id as usize].carry);
                    if carry.len() > buf.len() {
                        buf.resize(carry.len().next_power_of_two(), 0);
                    }
                    buf[..carry.len()].copy_from_slice(&carry);
                    len = carry.len();
                }
                continue;
            }
            if len == buf.len() {
                if buf.len() < MAX_ENTRY {
                    buf.resize(buf.len() * 2, 0);
                } else {
                    // One entry longer than any connection message: skip to its end.
                    let src = &mut self.sources[id as usize];
                    src.skipped += 1;
                    src.skipping = true;
                    len = 0;
                    continue;
                }
            }
            let n = read_some(&mut reader, &mut buf[len..])?;
            total += n as u64;
            let end = len + n;
            let used = self.decode_direct(id, &buf[..end], n == 0);
            if n == 0 {
                break;
            }
            buf.copy_within(used..end, 0);
            len = end - used;
        }
        self.finish(id).map_err(ReadError::Detect)?;
        Ok(total)
    }

    /// Reads an export written newest first (log viewers, `gcloud logging read`) in time order.
    fn read_newest_first(
        &mut self,
        id: u16,
        reader: impl Read,
        env: Envelope,
        cx: envelope::Context,
        head_len: u64,
    ) -> Result<u64, ReadError> {
        let mut counted = CountingReader {
            inner: reader,
            bytes: 0,
        };
        decide::set_envelope(&mut self.sources[id as usize], env);
        self.sources[id as usize].unwrapper = None;
        let mut failed = None;
        let stats = envelope::read_in_time_order(&mut counted, env, cx, |lines| {
            let src = &mut self.sources[id as usize];
            src.inner.extend_from_slice(lines);
            if let Err(e) = self.pump(id, false) {
                failed.get_or_insert(e);
            }
        })?;
        self.sources[id as usize].unwrapped_elsewhere = Some(stats);
        if let Some(e) = failed {
            return Err(ReadError::Detect(e));
        }
        self.finish(id).map_err(ReadError::Detect)?;
        Ok(head_len.max(counted.bytes))
    }

    /// Decodes complete entries of `buf` for a decided plain source; returns bytes used.
    fn decode_direct(&mut self, id: u16, buf: &[u8], eof: bool) -> usize {
        let Engine {
            store,
            sources,
            observer,
            ..
        } = self;
        let src = &mut sources[id as usize];
        let to = Applier {
            store,
            observer: observer.as_deref_mut(),
        };
        slices::decode(to, id, src, buf, eof)
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

/// A reader that counts the bytes read through it.
struct CountingReader<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

/// One `read`, retried when interrupted.
fn read_some(reader: &mut impl Read, buf: &mut [u8]) -> Result<usize, ReadError> {
    loop {
        match reader.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ReadError::Io(e)),
        }
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
