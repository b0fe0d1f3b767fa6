//! Synchronous core of file following: one open file, its offset and identity, and the partial last line.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{Start, MAX_BATCH};

/// How many leading bytes are remembered to notice a file rewritten in place.
const HEAD_LEN: usize = 256;
/// A "line" longer than this without a newline is passed on with a '\n' added (safety valve).
const MAX_PENDING: usize = 8 << 20;

/// What [`Tail::check`] found out about the file and its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// Nothing unusual.
    None,
    /// The open file shrank below the offset or its first bytes changed: restart at 0.
    Truncated,
    /// The path now names another file (different device/inode).
    Replaced,
    /// The path no longer exists (the open handle may still get writes).
    Gone,
}

/// A saved reading state of a [`Tail`].
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pos: u64,
    pending: Vec<u8>,
    head: Vec<u8>,
    skip_partial: bool,
}

/// One open file being read line by line, as raw bytes.
#[derive(Debug)]
pub(crate) struct Tail {
    /// The path this file was opened under.
    pub path: PathBuf,
    file: File,
    ident: (u64, u64),
    /// Bytes consumed from the file (sent or held in `pending`).
    pos: u64,
    /// Partial last line: read, not sent yet.
    pub pending: Vec<u8>,
    /// The first up to `HEAD_LEN` bytes of the file.
    head: Vec<u8>,
    /// Drop bytes up to the first '\n' (started mid-line).
    skip_partial: bool,
    /// Last time a read returned data.
    pub last_growth: Instant,
}

impl Tail {
    /// Opens `path`; returns the tail and the file's size at open.
    pub fn open(path: &Path, start: Start) -> io::Result<(Tail, u64)> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(io::Error::other("it is a directory"));
        }
        let size = meta.len();
        let mut tail = Tail {
            path: path.to_path_buf(),
            ident: (meta.dev(), meta.ino()),
            pos: 0,
            pending: Vec::new(),
            head: Vec::new(),
            skip_partial: false,
            last_growth: Instant::now(),
            file,
        };
        if let Start::Since(secs) = start {
            let at = super::seek::offset_since(&tail.file, size, secs)?;
            tail.file.seek(SeekFrom::Start(at))?;
            tail.pos = at;
            let mut head = vec![0u8; (size as usize).min(HEAD_LEN)];
            tail.file.read_exact_at(&mut head, 0)?;
            tail.head = head;
        }
        if start == Start::End && size > 0 {
            tail.file.seek(SeekFrom::Start(size))?;
            tail.pos = size;
            let mut last = [0u8; 1];
            tail.file.read_exact_at(&mut last, size - 1)?;
            tail.skip_partial = last[0] != b'\n';
            let mut head = vec![0u8; (size as usize).min(HEAD_LEN)];
            tail.file.read_exact_at(&mut head, 0)?;
            tail.head = head;
        }
        Ok((tail, size))
    }

    /// Device and inode of the open file.
    pub fn ident(&self) -> (u64, u64) {
        self.ident
    }

    /// Bytes consumed so far.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// Reads up to about [`MAX_BATCH`] new bytes. `Ok(None)` at end of file; otherwise
    /// the complete lines now available (possibly empty while a line is still partial).
    pub fn read_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut buf = std::mem::take(&mut self.pending);
        let old_len = buf.len();
        let n = match (&mut self.file)
            .take(MAX_BATCH as u64)
            .read_to_end(&mut buf)
        {
            Ok(n) => n,
            Err(e) => {
                buf.truncate(old_len);
                self.pending = buf;
                return Err(e);
            }
        };
        if n == 0 {
            self.pending = buf;
            return Ok(None);
        }
        // `head` holds the file's bytes from offset 0: extend it with what this read adds.
        let held = self.head.len() as u64;
        if held < HEAD_LEN as u64 && self.pos <= held && self.pos + n as u64 > held {
            let from = (held - self.pos) as usize;
            let want = (HEAD_LEN - self.head.len()).min(n - from);
            self.head
                .extend_from_slice(&buf[old_len + from..old_len + from + want]);
        }
        self.pos += n as u64;
        self.last_growth = Instant::now();
        if self.skip_partial {
            match memchr::memchr(b'\n', &buf) {
                Some(i) => {
                    buf.drain(..=i);
                    self.skip_partial = false;
                }
                None => return Ok(Some(Vec::new())),
            }
        }
        match memchr::memrchr(b'\n', &buf) {
            Some(i) => {
                self.pending = buf.split_off(i + 1);
                Ok(Some(buf))
            }
            None if buf.len() > MAX_PENDING => {
                buf.push(b'\n');
                Ok(Some(buf))
            }
            None => {
                self.pending = buf;
                Ok(Some(Vec::new()))
            }
        }
    }

    /// Takes the partial last line, with a '\n' added (for a file that will not be read again).
    pub fn take_partial(&mut self) -> Option<Vec<u8>> {
        if self.pending.is_empty() || self.skip_partial {
            return None;
        }
        let mut p = std::mem::take(&mut self.pending);
        p.push(b'\n');
        Some(p)
    }

    /// Moves on to byte `at`, continuing the partial line `pending`
    /// (the rest of a truncated file's content, read from its copy).
    pub fn reposition(&mut self, at: u64, pending: Vec<u8>) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(at))?;
        self.pos = at;
        self.pending = pending;
        self.head.clear();
        self.skip_partial = false;
        Ok(())
    }

    /// The first bytes read from this file (up to 256; empty before the first read at byte 0).
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// The first up to 256 bytes of the file as it is now (read without moving the offset).
    pub fn peek_head(&self) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; HEAD_LEN];
        let mut n = 0;
        while n < HEAD_LEN {
            match self.file.read_at(&mut buf[n..], n as u64)? {
                0 => break,
                k => n += k,
            }
        }
        buf.truncate(n);
        Ok(buf)
    }

    /// The reading state (offset, partial line, head), to go back to with [`Tail::restore`].
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            pos: self.pos,
            pending: self.pending.clone(),
            head: self.head.clone(),
            skip_partial: self.skip_partial,
        }
    }

    /// Goes back to a state taken by [`Tail::snapshot`]: what was read since is read again.
    pub fn restore(&mut self, s: &Snapshot) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(s.pos))?;
        self.pos = s.pos;
        self.pending.clone_from(&s.pending);
        self.head.clone_from(&s.head);
        self.skip_partial = s.skip_partial;
        Ok(())
    }

    /// How long ago the open file was last modified (zero if its time is in the future).
    pub fn unmodified_for(&self) -> io::Result<std::time::Duration> {
        let t = self.file.metadata()?.modified()?;
        Ok(t.elapsed().unwrap_or_default())
    }

    /// Takes `peek` (the file's first bytes, from [`Tail::peek_head`]) as the head of a file not
    /// read yet, so that a truncation before its first read is noticed by [`Tail::truncated`].
    /// Ignored once reading started or if `peek` does not extend the head known so far.
    pub fn set_peek(&mut self, peek: Vec<u8>) {
        if self.pos == 0
            && self.pending.is_empty()
            && peek.len() > self.head.len()
            && peek.starts_with(&self.head)
        {
            self.head = peek;
        }
    }

    /// Current size and link count of the open file.
    pub fn stat(&self) -> io::Result<(u64, u64)> {
        let m = self.file.metadata()?;
        Ok((m.len(), m.nlink()))
    }

    /// Whether the open file shrank below the offset or its first bytes changed (truncation,
    /// copytruncate, rewrite in place). Does not look at the path.
    pub fn truncated(&self) -> io::Result<bool> {
        let meta = self.file.metadata()?;
        if meta.len() < self.pos {
            return Ok(true);
        }
        if !self.head.is_empty() {
            let mut now = [0u8; HEAD_LEN];
            let now = &mut now[..self.head.len()];
            match self.file.read_exact_at(now, 0) {
                Ok(()) if *now == *self.head => {}
                Ok(()) => return Ok(true),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(true),
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }

    /// Looks for truncation, in-place rewrite, replacement or removal of the path.
    pub fn check(&self) -> io::Result<Change> {
        if self.truncated()? {
            return Ok(Change::Truncated);
        }
        match fs::metadata(&self.path) {
            Ok(m) if (m.dev(), m.ino()) != self.ident => Ok(Change::Replaced),
            Ok(_) => Ok(Change::None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Change::Gone),
            Err(_) => Ok(Change::None),
        }
    }

    /// Restarts reading at byte 0 of the same open file (after truncation).
    pub fn restart(&mut self) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(0))?;
        self.pos = 0;
        self.pending.clear();
        self.head.clear();
        self.skip_partial = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn all(t: &mut Tail) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(b) = t.read_chunk().unwrap() {
            out.extend(b);
        }
        out
    }

    #[test]
    fn holds_partial_line_and_passes_invalid_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        let mut f = File::create(&p).unwrap();
        f.write_all(b"one\n\xff\xfe two\nthr").unwrap();
        let (mut t, size) = Tail::open(&p, Start::Beginning).unwrap();
        assert_eq!(size, 14);
        assert_eq!(all(&mut t), b"one\n\xff\xfe two\n");
        f.write_all(b"ee\n").unwrap();
        assert_eq!(all(&mut t), b"three\n");
        assert_eq!(t.check().unwrap(), Change::None);
    }

    #[test]
    fn start_end_skips_partial_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        let mut f = File::create(&p).unwrap();
        f.write_all(b"old\nhalf").unwrap();
        let (mut t, _) = Tail::open(&p, Start::End).unwrap();
        assert_eq!(all(&mut t), b"");
        f.write_all(b" done\nnew\n").unwrap();
        assert_eq!(all(&mut t), b"new\n");
        assert_eq!(t.check().unwrap(), Change::None);
    }

    #[test]
    fn detects_truncation_rewrite_replacement_and_removal() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        fs::write(&p, b"aaaa\nbbbb\n").unwrap();
        let (mut t, _) = Tail::open(&p, Start::Beginning).unwrap();
        all(&mut t);
        // Rewritten in place, longer than before.
        fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .write_all(b"cccc\ndddd\neeee\n")
            .unwrap();
        assert_eq!(t.check().unwrap(), Change::Truncated);
        t.restart().unwrap();
        assert_eq!(all(&mut t), b"cccc\ndddd\neeee\n");
        fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(0)
            .unwrap();
        assert_eq!(t.check().unwrap(), Change::Truncated);
        fs::rename(&p, dir.path().join("a.log.1")).unwrap();
        assert_eq!(t.check().unwrap(), Change::Truncated);
        t.restart().unwrap();
        assert_eq!(t.check().unwrap(), Change::Gone);
        fs::write(&p, b"x\n").unwrap();
        assert_eq!(t.check().unwrap(), Change::Replaced);
    }
}
