//! Regular files are read outside the feed's lock: the worker holding the feed only reads a
//! small probe where the next chunk should end, finds the entry boundary there, and claims the
//! range; it reads the range itself with a positioned read after letting go. Past the last
//! boundary before the file's length when opened (the file may still grow), after a reader
//! error, or where no boundary is near, the feed reads as for any reader.

use super::feed::{Chunk, Feed, CHUNK};
use super::mapped::Mapped;
use crate::engine::ReadError;
use crate::parse::lines::entry_cut;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

/// How far around the planned end of a chunk its boundary is looked for.
/// A few lines each side are enough for a boundary: the probe is read under the feed's lock,
/// for every chunk, so it is kept short (where none is found, the chunk is read as a stream).
const PROBE: usize = 4 << 10;

/// An open file that the feed and the workers share.
pub struct SharedFile {
    file: Arc<File>,
    /// Its length when opened: claims stay well before it.
    len: u64,
}

impl SharedFile {
    /// Shares `file` (positioned where replay starts).
    pub fn new(file: File) -> std::io::Result<SharedFile> {
        let meta = file.metadata()?;
        let len = if meta.is_file() { meta.len() } else { 0 };
        Ok(SharedFile {
            file: Arc::new(file),
            len,
        })
    }
}

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        (&*self.file).read(buf)
    }
}

/// A range of a file for a worker to read: the bytes of chunk `seq`.
pub(super) struct Claim {
    pub seq: u64,
    pub index: usize,
    file: Arc<File>,
    start: u64,
    end: u64,
}

impl Claim {
    /// The claimed bytes mapped in place; None when they cannot be (then [`Claim::read`]).
    pub fn map(&self) -> Option<Mapped> {
        Mapped::map(&self.file, self.start, (self.end - self.start) as usize)
    }

    /// Reads the claimed bytes into `buf`; their length.
    pub fn read(&self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
        let len = (self.end - self.start) as usize;
        if buf.len() < len {
            *buf = vec![0; len];
        }
        self.file.read_exact_at(&mut buf[..len], self.start)?;
        Ok(len)
    }
}

/// The start of the first file, read in place to detect the format from.
pub(super) struct Peeked {
    pub map: Mapped,
    /// The map reaches the file's end (its length when opened).
    pub eof: bool,
}

/// What a worker gets from the feed.
pub(super) enum Piece {
    /// A chunk already read into the worker's buffer.
    Read(Chunk),
    /// A range to read.
    Claim(Claim),
}

impl<I: Iterator<Item = std::io::Result<SharedFile>>> Feed<I, SharedFile> {
    /// The start of the first file (a chunk, or all of it) mapped in place: no copy, and the
    /// file stays where it is, so its first chunk is claimed as any other. None when it cannot
    /// be mapped (an empty file, not a regular file, no map): then [`Feed::sample`] reads it.
    pub fn peek(&mut self) -> Result<Option<Peeked>, (usize, ReadError)> {
        if !self.open_first()? {
            return Ok(None);
        }
        let Some(cur) = self.current() else {
            return Ok(None);
        };
        let Ok(here) = (&*cur.file).stream_position() else {
            return Ok(None);
        };
        let left = cur.len.saturating_sub(here);
        let len = left.min(CHUNK as u64) as usize;
        let eof = left < CHUNK as u64;
        Ok(Mapped::map(&cur.file, here, len).map(|map| Peeked { map, eof }))
    }

    /// The next piece of work; None when every file is read (or reading failed).
    pub fn next_piece(&mut self, buf: &mut Vec<u8>) -> Option<Piece> {
        match self.claim() {
            Some(c) => Some(Piece::Claim(c)),
            None => self.next_chunk(buf).map(Piece::Read),
        }
    }

    /// A claim on the next chunk of the current file, when it is a regular file with room left.
    /// The next file is opened here when the last one ended, so that its first chunk is
    /// claimed too, not read as a stream under the feed's lock.
    fn claim(&mut self) -> Option<Claim> {
        if self.error.is_some() || !self.cut_entries || !self.open_current() || !self.plain() {
            return None;
        }
        let cur = self.current()?;
        let (file, len) = (Arc::clone(&cur.file), cur.len);
        let here = (&*file).stream_position().ok()?;
        let pos = here.checked_sub(self.tail_len() as u64)?;
        // The boundary is looked for around the planned end, or, for the file's last chunk,
        // just before its length when opened: only the few lines past that boundary (and
        // whatever the file gained since) are left for the feed to read as a stream.
        let probe_at = (pos + (CHUNK - PROBE) as u64).min(len.checked_sub(2 * PROBE as u64)?);
        if probe_at <= pos {
            return None;
        }
        if self.probe.len() < 2 * PROBE {
            self.probe = vec![0; 2 * PROBE];
        }
        let n = file.read_at(&mut self.probe[..2 * PROBE], probe_at).ok()?;
        let end = probe_at + entry_cut(&self.probe[..n])? as u64;
        if end < here || end > len {
            return None;
        }
        (&*file).seek(SeekFrom::Start(end)).ok()?;
        self.total += end - here;
        self.clear_tail();
        Some(Claim {
            seq: self.take_seq(),
            index: self.index(),
            file,
            start: pos,
            end,
        })
    }
}
