//! Exports written newest first (log viewers, `gcloud logging read`) read in time order: the
//! normalized lines are reversed line by line (each record of such an export is one line,
//! a continuation line included), in runs of at most 2 MiB spilled to an unlinked temporary
//! file, so memory stays bounded whatever the size of the export.

use super::{Context, Envelope, UnwrapStats, Unwrapper};
use crate::parse::time::parse_timestamp;
use memchr::{memmem, memrchr};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Normalized bytes kept in memory before a run is spilled.
const RUN_BYTES: usize = 2 << 20;
/// Timed lines looked at to tell the order.
const DECIDE_LINES: usize = 64;

/// The time of a normalized line: its leading stderr time, or a jsonlog `timestamp`.
fn line_time(line: &[u8]) -> Option<i64> {
    if line.first() == Some(&b'{') {
        let at = memmem::find(line, b"\"timestamp\":\"")? + 13;
        return parse_timestamp(&line[at..]).map(|(t, _)| t.millis);
    }
    parse_timestamp(line).map(|(t, _)| t.millis)
}

/// Steps up and steps down between successive timed lines of `norm`.
fn steps(norm: &[u8], limit: usize) -> (usize, usize, usize) {
    let (mut up, mut down, mut timed) = (0, 0, 0);
    let mut last = None;
    for line in norm.split(|&b| b == b'\n') {
        let Some(t) = line_time(line) else { continue };
        timed += 1;
        match last {
            Some(l) if t > l => up += 1,
            Some(l) if t < l => down += 1,
            _ => {}
        }
        last = Some(t);
        if timed >= limit {
            break;
        }
    }
    (up, down, timed)
}

/// Whether the entries `sample` carries are mostly written newest first.
pub fn is_newest_first(sample: &[u8], envelope: Envelope, cx: Context) -> bool {
    let mut u = Unwrapper::new(envelope, cx);
    let mut norm = Vec::new();
    u.unwrap(sample, false, &mut norm);
    let (up, down, _) = steps(&norm, usize::MAX);
    down > up
}

/// Reads a whole source (`--once`) through its envelope and hands `out` its normalized lines
/// (whole lines, one or more per call) in time order: as they come when the source is oldest
/// first, reversed when it is newest first. Memory stays bounded (runs spill to a temp file).
pub fn read_in_time_order<R: Read>(
    mut reader: R,
    envelope: Envelope,
    cx: Context,
    mut out: impl FnMut(&[u8]),
) -> io::Result<UnwrapStats> {
    let mut u = Unwrapper::new(envelope, cx);
    let mut input = Vec::with_capacity(256 << 10);
    let mut norm = Vec::new();
    let mut decided: Option<bool> = None;
    let mut rev = Reverser::default();
    let mut chunk = vec![0u8; 256 << 10];
    loop {
        let n = reader.read(&mut chunk)?;
        let eof = n == 0;
        input.extend_from_slice(&chunk[..n]);
        let used = u.unwrap(&input, eof, &mut norm);
        input.drain(..used);
        if decided.is_none() {
            let (up, down, timed) = steps(&norm, DECIDE_LINES);
            if eof || timed >= DECIDE_LINES || norm.len() >= RUN_BYTES {
                decided = Some(down > up);
            }
        }
        match decided {
            Some(false) if !norm.is_empty() => {
                out(&norm);
                norm.clear();
            }
            Some(true) => {
                rev.push(&norm)?;
                norm.clear();
            }
            _ => {}
        }
        if eof {
            break;
        }
    }
    rev.finish(&mut out)?;
    Ok(u.stats())
}

/// Normalized lines collected to be given back last first.
#[derive(Default)]
struct Reverser {
    cur: Vec<u8>,
    spill: Option<File>,
    runs: Vec<(u64, usize)>,
    spilled: u64,
}

impl Reverser {
    fn push(&mut self, lines: &[u8]) -> io::Result<()> {
        self.cur.extend_from_slice(lines);
        if self.cur.len() >= RUN_BYTES {
            let file = match &mut self.spill {
                Some(f) => f,
                None => self.spill.insert(temp_file()?),
            };
            file.write_all(&self.cur)?;
            self.runs.push((self.spilled, self.cur.len()));
            self.spilled += self.cur.len() as u64;
            self.cur.clear();
        }
        Ok(())
    }

    fn finish(mut self, out: &mut impl FnMut(&[u8])) -> io::Result<()> {
        let mut buf = Vec::new();
        emit_reversed(&self.cur, &mut buf, out);
        let mut run = std::mem::take(&mut self.cur);
        if let Some(file) = &mut self.spill {
            for &(off, len) in self.runs.iter().rev() {
                run.resize(len, 0);
                file.seek(SeekFrom::Start(off))?;
                file.read_exact(&mut run)?;
                emit_reversed(&run, &mut buf, out);
            }
        }
        Ok(())
    }
}

/// Gives `out` the lines of `run` last first (as one buffer).
fn emit_reversed(run: &[u8], buf: &mut Vec<u8>, out: &mut impl FnMut(&[u8])) {
    if run.is_empty() {
        return;
    }
    buf.clear();
    let mut end = run.len();
    if run[end - 1] == b'\n' {
        end -= 1;
    }
    loop {
        let start = memrchr(b'\n', &run[..end]).map_or(0, |i| i + 1);
        buf.extend_from_slice(&run[start..end]);
        buf.push(b'\n');
        if start == 0 {
            break;
        }
        end = start - 1;
    }
    out(buf);
}

/// A temporary file, already unlinked (it goes away with its handle).
fn temp_file() -> io::Result<File> {
    let dir = std::env::temp_dir();
    for i in 0..100u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = dir.join(format!(
            "pgconn-top-reverse-{}-{nanos}-{i}",
            std::process::id()
        ));
        match File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => {
                let _ = std::fs::remove_file(&path);
                return Ok(f);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("no temporary file name free"))
}
