//! The readers of one replay cut into chunks, in order. Each chunk holds whole entries of one
//! reader: a stderr chunk ends where [`entry_cut`] allows, so decoding the chunks one by one
//! gives what decoding each reader whole would. Whoever holds the feed reads into its own buffer
//! (a worker, so that the bytes are hot in its cache), and only the short rest of the last
//! line moves on to the next chunk.

use crate::engine::ReadError;
use crate::parse::lines::entry_cut;
use std::io::Read;

/// Size of one chunk (and of the sample the format is detected from).
pub(super) const CHUNK: usize = 1 << 20;
/// The longest entry kept; longer ones are skipped (no connection message is that long).
pub(super) const MAX_ENTRY: usize = 4 << 20;

/// A chunk handed out: `buf[..len]`, number `seq`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Chunk {
    pub seq: u64,
    pub len: usize,
}

/// The readers and what was read of them but not handed out yet.
pub(super) struct Feed<I, R> {
    readers: I,
    current: Option<R>,
    /// The current reader returned its end already (while the format was detected).
    current_ended: bool,
    /// The index of the current reader.
    index: usize,
    opened: usize,
    /// Bytes read but not handed out: the start of the next chunk.
    tail: Vec<u8>,
    /// Where a claim reads the bytes around its planned end (kept: one per claim otherwise).
    pub(super) probe: Vec<u8>,
    skipping: bool,
    /// Cut at entry boundaries (stderr); else hand out what was read, and take back what the
    /// decoder left (see [`Feed::give_back`]).
    pub cut_entries: bool,
    next_seq: u64,
    /// Bytes read.
    pub total: u64,
    /// Entries skipped for their length.
    pub skipped: u64,
    /// Why reading stopped early, with the index of the reader.
    pub error: Option<(usize, ReadError)>,
}

impl<I: Iterator<Item = std::io::Result<R>>, R: Read> Feed<I, R> {
    /// A feed over `readers`.
    pub fn new(readers: I) -> Self {
        Feed {
            readers,
            current: None,
            current_ended: false,
            index: 0,
            opened: 0,
            tail: Vec::new(),
            probe: Vec::new(),
            skipping: false,
            cut_entries: true,
            next_seq: 0,
            total: 0,
            skipped: 0,
            error: None,
        }
    }

    /// Opens the first reader unless it is open; false when there is none, an error when it
    /// cannot be opened.
    pub fn open_first(&mut self) -> Result<bool, (usize, ReadError)> {
        if self.open_current() {
            return Ok(true);
        }
        self.error.take().map_or(Ok(false), Err)
    }

    /// Reads the start of the first reader (a full chunk, or all of it) into `buf`; the
    /// bytes stay in the feed. Returns them, to detect the format from; an error if the first
    /// reader cannot be opened or read.
    pub fn sample(&mut self, buf: &mut Vec<u8>) -> Result<usize, (usize, ReadError)> {
        if !self.open_first()? {
            return Ok(0);
        }
        if buf.len() < CHUNK {
            *buf = vec![0; CHUNK]; // zeroed by the allocator, lazily
        }
        let mut len = 0;
        while len < buf.len() {
            match self.read(buf, len) {
                Ok(0) => {
                    self.current_ended = true;
                    break;
                }
                Ok(n) => len += n,
                Err(e) => return Err((self.index, e)),
            }
        }
        self.tail.extend_from_slice(&buf[..len]);
        Ok(len)
    }

    /// The reader being read.
    pub fn current(&self) -> Option<&R> {
        self.current.as_ref()
    }

    /// Whether the current reader is read plainly: not skipping an overlong entry, not ended.
    pub fn plain(&self) -> bool {
        !self.skipping && !self.current_ended
    }

    /// Bytes read but not handed out.
    pub fn tail_len(&self) -> usize {
        self.tail.len()
    }

    /// Forgets the bytes read but not handed out (they will be read again).
    pub fn clear_tail(&mut self) {
        self.tail.clear();
    }

    /// Numbers the next chunk.
    pub fn take_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq - 1
    }

    /// The index of the current reader.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Whether there was a reader at all.
    pub fn started(&self) -> bool {
        self.opened > 0
    }

    /// Fills `buf` with the next chunk; None when every reader is read or reading failed
    /// (then [`Feed::error`] says why).
    pub fn next_chunk(&mut self, buf: &mut Vec<u8>) -> Option<Chunk> {
        if self.error.is_some() {
            return None;
        }
        loop {
            if !self.open_current() {
                return None;
            }
            let len = self.tail.len();
            if buf.len() < CHUNK.max(len) {
                *buf = vec![0; CHUNK.max(2 * len).min(MAX_ENTRY.max(len))];
            }
            buf[..len].copy_from_slice(&self.tail);
            self.tail.clear();
            match self.fill(buf, len) {
                Ok(Some(chunk)) => return Some(chunk),
                Ok(None) => {} // an empty end of a reader: on to the next one
                Err(e) => {
                    self.error = Some((self.index, e));
                    self.current = None;
                    return None;
                }
            }
        }
    }

    /// Whether a reader is open: the current one, or else the next, opened now; false when
    /// none is left (or opening failed: see `error`).
    pub fn open_current(&mut self) -> bool {
        self.current.is_some() || (self.error.is_none() && self.open_next())
    }

    /// Opens the next reader; false when there is none (or it failed: see `error`).
    fn open_next(&mut self) -> bool {
        self.current = None;
        self.current_ended = false;
        self.skipping = false;
        match self.readers.next() {
            None => false,
            Some(r) => {
                self.index = self.opened;
                self.opened += 1;
                match r {
                    Ok(r) => {
                        self.current = Some(r);
                        true
                    }
                    Err(e) => {
                        self.error = Some((self.index, ReadError::Io(e)));
                        false
                    }
                }
            }
        }
    }

    fn read(&mut self, buf: &mut [u8], at: usize) -> Result<usize, ReadError> {
        if self.current_ended {
            return Ok(0);
        }
        let Some(reader) = self.current.as_mut() else {
            return Ok(0);
        };
        loop {
            match reader.read(&mut buf[at..]) {
                Ok(n) => {
                    self.total += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
    }

    /// Reads on from `buf[..len]` until a chunk can be cut; None at an empty end of reader.
    fn fill(&mut self, buf: &mut Vec<u8>, mut len: usize) -> Result<Option<Chunk>, ReadError> {
        loop {
            if len == buf.len() {
                if buf.len() < MAX_ENTRY {
                    buf.resize((buf.len() * 2).min(MAX_ENTRY), 0);
                } else {
                    // One entry longer than any connection message: skip to its end.
                    len = 0;
                    self.skipping = true;
                    self.skipped += 1;
                }
            }
            let n = self.read(buf, len)?;
            let eof = n == 0;
            let mut end = len + n;
            if self.skipping {
                match memchr::memchr(b'\n', &buf[len..end]) {
                    Some(i) => {
                        buf.copy_within(len + i + 1..end, 0);
                        end -= len + i + 1;
                        self.skipping = false;
                    }
                    None => {
                        len = 0;
                        if eof {
                            self.current = None;
                            return Ok(None);
                        }
                        continue;
                    }
                }
            }
            if !eof && end < buf.len() {
                len = end; // fill the chunk first
                continue;
            }
            let cut = if eof || !self.cut_entries {
                Some(end)
            } else {
                entry_cut(&buf[..end]).or_else(|| {
                    // No safe cut in a buffer at its largest: cut at the last newline.
                    (buf.len() >= MAX_ENTRY)
                        .then(|| memchr::memrchr(b'\n', &buf[..end]).map(|i| i + 1))
                        .flatten()
                })
            };
            let Some(cut) = cut else {
                len = end; // grow until an entry ends
                continue;
            };
            self.tail.extend_from_slice(&buf[cut..end]);
            if eof {
                self.current = None;
                if cut == 0 {
                    return Ok(None);
                }
            }
            let seq = self.next_seq;
            self.next_seq += 1;
            return Ok(Some(Chunk { seq, len: cut }));
        }
    }
}
