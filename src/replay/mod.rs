//! Replay of existing log content at the speed of the disk. A stderr log is cut into chunks at
//! entry boundaries that no entry (nor the parser's look at the line before a candidate)
//! crosses; workers, one per core, take turns taking the next chunk (mapped, or read into
//! their own buffer) and decode it into a compact batch of events. The calling thread is one of
//! them: between its own chunks it applies the batches in log order. The result is the same as
//! decoding the files one after another on one thread, and memory stays flat whatever the input
//! size: one chunk buffer per worker, and workers wait when they run too far ahead of the
//! batches applied.

mod batch;
mod claim;
mod feed;
mod mapped;
mod window;

use crate::engine::{Engine, ReadError};
use batch::Batch;
use claim::{Peeked, Piece, SharedFile};
use feed::Feed;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Mutex;
use window::Window;

/// A file that could not be replayed, and why.
#[derive(Debug, thiserror::Error)]
#[error("{}: {error}", path.display())]
pub struct FileError {
    pub path: PathBuf,
    pub error: ReadError,
}

/// Replays `files` one after another into source `source`, decoding on every core; returns the
/// bytes read. The same figures as reading each file with [`Engine::read_to_end`] in turn.
pub fn replay_files(engine: &mut Engine, source: u16, files: &[PathBuf]) -> Result<u64, FileError> {
    replay_open_files(engine, source, files.iter().map(std::fs::File::open)).map_err(
        |(i, error)| FileError {
            path: files.get(i).cloned().unwrap_or_default(),
            error,
        },
    )
}

/// Replays open files (each positioned where its replay starts: `--since` seeks) one after
/// another into source `source`, as [`replay_readers`] does; regular files are read by the
/// workers themselves, in parallel, with positioned reads.
pub fn replay_open_files<I>(
    engine: &mut Engine,
    source: u16,
    files: I,
) -> Result<u64, (usize, ReadError)>
where
    I: IntoIterator<Item = std::io::Result<std::fs::File>>,
    I::IntoIter: Send,
{
    let readers = files.into_iter().map(|f| f.and_then(SharedFile::new));
    run(
        engine,
        source,
        Feed::new(readers),
        (Feed::peek, Feed::next_piece),
    )
}

/// Replays each reader to its end, in order, into source `source`, decoding a stderr log on
/// every core (other formats on this thread); returns the bytes read, or the index of the reader
/// that could not be opened or read, and why. Whatever was read before an error is applied.
/// Any `Read + Send` will do (a file positioned where replay starts, a decompressor); the
/// workers take turns reading it.
pub fn replay_readers<I, R>(
    engine: &mut Engine,
    source: u16,
    readers: I,
) -> Result<u64, (usize, ReadError)>
where
    I: IntoIterator<Item = std::io::Result<R>>,
    I::IntoIter: Send,
    R: Read + Send,
{
    let next = |f: &mut Feed<I::IntoIter, R>, buf: &mut Vec<u8>| f.next_chunk(buf).map(Piece::Read);
    run(
        engine,
        source,
        Feed::new(readers.into_iter()),
        (|_| Ok(None), next),
    )
}

/// How a worker takes its next piece of work from the feed.
type Next<F> = fn(&mut F, &mut Vec<u8>) -> Option<Piece>;
/// How the start of the first input is looked at in place, when it can be (see [`begin`]).
type Peek<F> = fn(&mut F) -> Result<Option<Peeked>, (usize, ReadError)>;
/// How a feed is looked at first, then taken from.
type Ways<F> = (Peek<F>, Next<F>);

fn run<I, R>(
    engine: &mut Engine,
    source: u16,
    mut feed: Feed<I, R>,
    (peek, next): Ways<Feed<I, R>>,
) -> Result<u64, (usize, ReadError)>
where
    I: Iterator<Item = std::io::Result<R>> + Send,
    R: Read + Send,
{
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(16));
    if !begin(engine, source, &mut feed, peek)? || workers < 2 {
        return run_here(engine, source, feed);
    }
    let Some(protos) = engine
        .replay_parts(source)
        .0
        .map(|d| (0..workers).map(|_| d.worker()).collect::<Vec<_>>())
    else {
        return Ok(feed.total);
    };
    let feed = Mutex::new(feed);
    let spare = Spare::default();
    let window = Window::new(workers);
    let (tx, rx) = sync_channel::<Batch>(workers * 2);
    let mut protos = protos;
    let own = protos.pop();
    std::thread::scope(|scope| {
        // One worker a core, this thread included: it decodes too whenever nothing is ready to
        // apply, so no core waits on an applying thread that has nothing to do.
        for dec in protos {
            let (tx, feed, spare, window) = (tx.clone(), &feed, &spare, &window);
            scope.spawn(move || pull(dec, (feed, spare), next, tx, window));
        }
        drop(tx);
        let mut own = own.map(|dec| (dec, Vec::new()));
        let mut waiting = BTreeMap::new();
        let mut seq = 0u64;
        loop {
            while let Ok(b) = rx.try_recv() {
                waiting.insert(b.seq, b);
            }
            while let Some(b) = waiting.remove(&seq) {
                apply(engine, source, &b);
                seq += 1;
                window.applied(seq, b.bytes());
                spare.give(b);
            }
            if let (Some((dec, buf)), true) = (own.as_mut(), window.open()) {
                match work_one(dec, (&feed, &spare), next, buf, &window) {
                    Some(b) => {
                        waiting.insert(b.seq, b);
                        continue;
                    }
                    None => own = None, // the feed is dry: only the workers' batches are left
                }
            }
            match rx.recv() {
                Ok(b) => {
                    waiting.insert(b.seq, b);
                }
                Err(_) => {
                    // Every worker is done; what is left waiting is in order.
                    while let Some(b) = waiting.remove(&seq) {
                        apply(engine, source, &b);
                        seq += 1;
                    }
                    break;
                }
            }
        }
    });
    let feed = feed.into_inner().unwrap_or_else(|p| p.into_inner());
    finish(engine, source, feed)
}

/// Decides the source from the first chunk (unless decided); true when its chunks can be
/// decoded apart: a plain stderr log whose prefix the sample tells. A regular file's first
/// chunk is looked at in place; other readers' is read and kept in the feed.
fn begin<I, R>(
    engine: &mut Engine,
    source: u16,
    feed: &mut Feed<I, R>,
    peek: Peek<Feed<I, R>>,
) -> Result<bool, (usize, ReadError)>
where
    I: Iterator<Item = std::io::Result<R>>,
    R: Read,
{
    if let Some(p) = peek(feed)? {
        let ready = engine.parallel_ready(source, p.map.bytes(), p.eof);
        if p.map.was_cut() {
            return Err((feed.index(), ReadError::Io(cut_short())));
        }
        feed.cut_entries = ready;
        return Ok(ready);
    }
    let mut sample = Vec::new();
    let n = feed.sample(&mut sample)?;
    if !feed.started() {
        return Ok(false);
    }
    let ready = engine.parallel_ready(source, &sample[..n], !feed.plain());
    feed.cut_entries = ready;
    Ok(ready)
}

/// On this thread: chunk by chunk through the decided decoder, or, for anything parallel
/// replay does not take (wrapped records, csvlog / jsonlog, a prefix not told yet, exports
/// written newest first), the whole stream through [`Engine::read_to_end`].
fn run_here<I, R>(
    engine: &mut Engine,
    source: u16,
    mut feed: Feed<I, R>,
) -> Result<u64, (usize, ReadError)>
where
    I: Iterator<Item = std::io::Result<R>>,
    R: Read,
{
    if !feed.cut_entries {
        let mut reader = FeedReader {
            feed: &mut feed,
            buf: Vec::new(),
            pos: 0,
            len: 0,
        };
        let read = engine.read_to_end(source, &mut reader);
        let index = feed.index();
        read.map_err(|e| (index, e))?;
        return finish(engine, source, feed);
    }
    let mut buf = Vec::new();
    while let Some(c) = feed.next_chunk(&mut buf) {
        let (Some(dec), mut to) = engine.replay_parts(source) else {
            break;
        };
        let mut n = 0u64;
        dec.decode(&buf[..c.len], true, &mut |ev| {
            n += u64::from(!ev.kind.is_detail());
            to.apply(source, ev);
        });
        to.store.advance_clock_of(source, dec.last_time());
        engine.count_events(source, n);
    }
    finish(engine, source, feed)
}

/// The feed's chunks, in order, as one byte stream.
struct FeedReader<'f, I, R> {
    feed: &'f mut Feed<I, R>,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
}

impl<I: Iterator<Item = std::io::Result<R>>, R: Read> Read for FeedReader<'_, I, R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.len {
            match self.feed.next_chunk(&mut self.buf) {
                Some(c) => {
                    self.pos = 0;
                    self.len = c.len;
                }
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.len - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Counts what the feed skipped; its error or the bytes read.
fn finish<I, R>(
    engine: &mut Engine,
    source: u16,
    mut feed: Feed<I, R>,
) -> Result<u64, (usize, ReadError)> {
    for _ in 0..feed.skipped {
        engine.skipped_entry(source);
    }
    match feed.error.take() {
        Some(e) => Err(e),
        None => Ok(feed.total),
    }
}

/// A worker: takes the next piece of work from the feed, decodes it with its own copy of the
/// source's decoder, and sends the batch; until the feed is dry.
fn pull<I, R>(
    mut dec: crate::parse::Decoder,
    (feed, spare): (&Mutex<Feed<I, R>>, &Spare),
    next: Next<Feed<I, R>>,
    done: SyncSender<Batch>,
    window: &Window,
) where
    I: Iterator<Item = std::io::Result<R>>,
    R: Read,
{
    let mut buf = Vec::new();
    loop {
        // Memory stays flat: wait while the applying thread is far behind.
        while !window.open() {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        let Some(batch) = work_one(&mut dec, (feed, spare), next, &mut buf, window) else {
            return;
        };
        if done.send(batch).is_err() {
            return;
        }
    }
}

/// Takes the next piece of work from the feed and decodes it into a batch (read into `buf`
/// unless it can be mapped); None when the feed is dry.
fn work_one<I, R>(
    dec: &mut crate::parse::Decoder,
    (feed, spare): (&Mutex<Feed<I, R>>, &Spare),
    next: Next<Feed<I, R>>,
    buf: &mut Vec<u8>,
    window: &Window,
) -> Option<Batch>
where
    I: Iterator<Item = std::io::Result<R>>,
    R: Read,
{
    let piece = match feed.lock() {
        Ok(mut f) => next(&mut f, buf),
        Err(_) => return None,
    };
    let mut batch = match piece? {
        Piece::Read(c) => decode(dec, spare.take(c.seq), &buf[..c.len], window),
        Piece::Claim(c) => match c.map() {
            Some(m) => {
                let batch = decode(dec, spare.take(c.seq), m.bytes(), window);
                if m.was_cut() {
                    failed(feed, c.index, cut_short());
                    drop(batch);
                    let _ = dec.take_chunk(); // what the cut bytes gave is not the file's
                    decode(dec, spare.take(c.seq), &[], window)
                } else {
                    batch
                }
            }
            None => match c.read(buf) {
                Ok(n) => decode(dec, spare.take(c.seq), &buf[..n], window),
                Err(e) => {
                    failed(feed, c.index, e);
                    decode(dec, spare.take(c.seq), &[], window)
                }
            },
        },
    };
    batch.state = dec.take_chunk();
    window.decoded(batch.bytes());
    Some(batch)
}

/// Decodes a chunk into `batch` (empty, numbered), once it is counted as handed out.
fn decode(
    dec: &mut crate::parse::Decoder,
    mut batch: Batch,
    bytes: &[u8],
    window: &Window,
) -> Batch {
    window.hand(batch.seq);
    dec.decode(bytes, true, &mut |ev| batch.record(ev));
    batch
}

/// Applied batches, emptied for the workers to fill again.
#[derive(Default)]
struct Spare(Mutex<Vec<Batch>>);

impl Spare {
    /// An empty batch for chunk `seq`: a spare one if there is one.
    fn take(&self, seq: u64) -> Batch {
        let spare = self.0.lock().ok().and_then(|mut v| v.pop());
        spare.map_or_else(|| Batch::new(seq), |b| b.reuse(seq))
    }

    /// Keeps an applied batch for reuse.
    fn give(&self, b: Batch) {
        if let Ok(mut v) = self.0.lock() {
            v.push(b);
        }
    }
}

/// Why a mapped read failed: the file was cut short under the map.
fn cut_short() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        "the file was cut short while it was read",
    )
}

/// Records why reading input `index` stopped, unless an earlier error is recorded.
fn failed<I, R>(feed: &Mutex<Feed<I, R>>, index: usize, e: std::io::Error) {
    if let Ok(mut f) = feed.lock() {
        f.error.get_or_insert((index, ReadError::Io(e)));
    }
}

/// Applies one batch as if its chunk had been decoded here: events whose entry had no time take
/// the newest time seen before them, across chunks.
fn apply(engine: &mut Engine, source: u16, b: &Batch) {
    let (Some(dec), mut to) = engine.replay_parts(source) else {
        return;
    };
    let before = dec.last_time();
    let mut untimed = b.state.untimed.iter().copied().peekable();
    let mut counted = 0u64;
    for k in 0..b.len() {
        let mut ev = b.event(k);
        if untimed.peek() == Some(&(k as u32)) {
            untimed.next();
            if ev.time.millis <= before.millis {
                ev.time = before;
            }
        }
        counted += u64::from(!ev.kind.is_detail());
        to.apply(source, &ev);
    }
    dec.absorb(b.state.stats, b.state.last_time);
    to.store.advance_clock_of(source, dec.last_time());
    engine.count_events(source, counted);
}
