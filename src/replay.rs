//! Replay of existing log content at the speed of the disk. The calling thread reads; a
//! stderr log is cut into chunks at entry boundaries that no entry (nor the parser's look at the
//! line before a candidate) crosses; worker threads decode the chunks on every core into compact
//! event batches; the calling thread applies the batches in log order. The result is the same as
//! decoding the files one after another on one thread. Memory stays flat: a few chunk buffers
//! are in flight, reused, whatever the input size.

use crate::engine::{Engine, ReadError};
use crate::model::{ConnectionEvent, EventKind, LogTime};
use crate::parse::{lines::entry_cut, ChunkState, Decoder, Format};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

/// Size of one chunk (and of the first sample the format is detected from).
const CHUNK: usize = 1 << 20;
/// The longest entry kept; longer ones are skipped (no connection message is that long).
const MAX_ENTRY: usize = 4 << 20;
/// Chunks in flight per worker.
const DEPTH: usize = 2;

/// A file that could not be replayed, and why.
#[derive(Debug, thiserror::Error)]
#[error("{}: {error}", path.display())]
pub struct FileError {
    pub path: PathBuf,
    pub error: ReadError,
}

/// Replays `files` one after another into source `source`, decoding on every core; returns the
/// bytes read. The same events, in the same order, as reading each file with
/// [`Engine::read_to_end`].
pub fn replay_files(
    engine: &mut Engine,
    source: u16,
    files: &[PathBuf],
) -> Result<u64, FileError> {
    let readers = files.iter().map(|p| std::fs::File::open(p));
    replay_readers(engine, source, readers).map_err(|(i, error)| FileError {
        path: files.get(i).map_or_else(PathBuf::new, |p| Path::to_path_buf(p)),
        error,
    })
}

/// Replays each reader to its end, in order, into source `source` (a reader that could not be
/// opened is an error); returns the bytes read, or the index of the reader that failed and why.
/// Any `Read` will do (a file, stdin, a decompressor); it is read on the calling thread.
pub fn replay_readers<R: Read>(
    engine: &mut Engine,
    source: u16,
    readers: impl IntoIterator<Item = std::io::Result<R>>,
) -> Result<u64, (usize, ReadError)> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(16));
    let (job_tx, job_rx) = sync_channel::<Job>(workers * DEPTH);
    let (done_tx, done_rx) = sync_channel::<Batch>(workers * DEPTH + 1);
    let job_rx = Mutex::new(job_rx);
    std::thread::scope(|scope| {
        let mut run = Run {
            engine,
            id: source,
            workers,
            job_tx: Some(job_tx),
            done_tx: Some(done_tx),
            done_rx,
            job_rx: &job_rx,
            pool: Vec::new(),
            next_seq: 0,
            next_apply: 0,
            waiting: BTreeMap::new(),
        };
        let result = run.read_all(scope, readers);
        // Close the queue, let the workers finish, apply what they decoded.
        run.job_tx = None;
        run.done_tx = None;
        while run.next_apply < run.next_seq {
            if !run.wait_one() {
                break;
            }
        }
        result
    })
}

/// A chunk for a worker: `buf[..len]`, whole entries.
struct Job {
    seq: u64,
    buf: Vec<u8>,
    len: usize,
}

/// A span of a batch's arena, `u32::MAX` for none.
#[derive(Clone, Copy)]
struct Span(u32, u32);

const NONE: Span = Span(u32::MAX, 0);

/// One recorded event; its texts live in the batch's arena.
struct Rec {
    time: LogTime,
    pid: u32,
    port: Option<u16>,
    kind: EventKind<'static>,
    /// session id, user, database, application, host, message of an unknown FATAL.
    spans: [Span; 6],
}

/// What a worker decoded from one chunk.
struct Batch {
    seq: u64,
    buf: Vec<u8>,
    recs: Vec<Rec>,
    arena: Vec<u8>,
    state: ChunkState,
}

impl Batch {
    fn record(&mut self, ev: &ConnectionEvent<'_>) {
        let arena = &mut self.arena;
        let mut span = |v: Option<&[u8]>| match v {
            Some(v) => {
                let at = arena.len() as u32;
                arena.extend_from_slice(v);
                Span(at, v.len() as u32)
            }
            None => NONE,
        };
        let (kind, message) = match ev.kind {
            EventKind::Received => (EventKind::Received, None),
            EventKind::Authorized { replication } => (EventKind::Authorized { replication }, None),
            EventKind::Disconnected { session_millis } => {
                (EventKind::Disconnected { session_millis }, None)
            }
            EventKind::Failed { reason } => (EventKind::Failed { reason }, None),
            EventKind::Ending { cause } => (EventKind::Ending { cause }, None),
            EventKind::Server(change) => (EventKind::Server(change), None),
            EventKind::OtherFatal { message } => {
                (EventKind::OtherFatal { message: &[] }, Some(message))
            }
        };
        let spans = [
            span(ev.session_id),
            span(ev.user),
            span(ev.database),
            span(ev.application),
            span(ev.host),
            span(message),
        ];
        self.recs.push(Rec {
            time: ev.time,
            pid: ev.pid,
            port: ev.port,
            kind,
            spans,
        });
    }

    fn text(&self, s: Span) -> Option<&[u8]> {
        (s.0 != u32::MAX).then(|| {
            let a = s.0 as usize;
            self.arena.get(a..a + s.1 as usize).unwrap_or_default()
        })
    }

    /// Event `k` as the decoder gave it.
    fn event(&self, k: usize) -> ConnectionEvent<'_> {
        let r = &self.recs[k];
        let kind = match r.kind {
            EventKind::OtherFatal { .. } => EventKind::OtherFatal {
                message: self.text(r.spans[5]).unwrap_or_default(),
            },
            other => other,
        };
        ConnectionEvent {
            time: r.time,
            pid: r.pid,
            session_id: self.text(r.spans[0]),
            kind,
            user: self.text(r.spans[1]),
            database: self.text(r.spans[2]),
            application: self.text(r.spans[3]),
            host: self.text(r.spans[4]),
            port: r.port,
        }
    }
}

/// A worker: decodes chunks with its own copy of the source's decoder until the queue closes.
fn work(proto: Decoder, jobs: &Mutex<Receiver<Job>>, done: SyncSender<Batch>) {
    let mut dec = proto;
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => break,
        };
        let Ok(job) = job else { break };
        let mut batch = Batch {
            seq: job.seq,
            buf: Vec::new(),
            recs: Vec::new(),
            arena: Vec::new(),
            state: ChunkState::default(),
        };
        dec.decode(&job.buf[..job.len], true, &mut |ev| batch.record(ev));
        batch.state = dec.take_chunk();
        batch.buf = job.buf;
        if done.send(batch).is_err() {
            break;
        }
    }
}

/// The calling thread's side of one replay.
struct Run<'e, 'q> {
    engine: &'e mut Engine,
    id: u16,
    workers: usize,
    job_tx: Option<SyncSender<Job>>,
    done_tx: Option<SyncSender<Batch>>,
    done_rx: Receiver<Batch>,
    job_rx: &'q Mutex<Receiver<Job>>,
    pool: Vec<Vec<u8>>,
    next_seq: u64,
    next_apply: u64,
    waiting: BTreeMap<u64, Batch>,
}

impl<'q> Run<'_, 'q> {
    /// Reads every reader, handing stderr chunks to the workers (other formats are decoded
    /// here, their records may span lines).
    fn read_all<'s, R: Read>(
        &mut self,
        scope: &'s std::thread::Scope<'s, '_>,
        readers: impl IntoIterator<Item = std::io::Result<R>>,
    ) -> Result<u64, (usize, ReadError)>
    where
        'q: 's,
    {
        let mut total = 0u64;
        for (i, reader) in readers.into_iter().enumerate() {
            let mut reader = reader.map_err(|e| (i, ReadError::Io(e)))?;
            total += self.read_one(scope, &mut reader).map_err(|e| (i, e))?;
        }
        Ok(total)
    }

    fn read_one<'s>(
        &mut self,
        scope: &'s std::thread::Scope<'s, '_>,
        reader: &mut impl Read,
    ) -> Result<u64, ReadError>
    where
        'q: 's,
    {
        let mut buf = self.buffer(CHUNK);
        let mut len = 0;
        let mut total = 0u64;
        let mut skipping = false;
        let mut first = true;
        loop {
            if len == buf.len() {
                if buf.len() < MAX_ENTRY {
                    buf.resize((buf.len() * 2).min(MAX_ENTRY), 0);
                } else {
                    // One entry longer than any connection message: skip to its end.
                    len = 0;
                    skipping = true;
                    self.engine.skipped_entry(self.id);
                }
            }
            let n = match reader.read(&mut buf[len..]) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ReadError::Io(e)),
            };
            total += n as u64;
            let eof = n == 0;
            let mut end = len + n;
            if skipping {
                match memchr::memchr(b'\n', &buf[len..end]) {
                    Some(i) => {
                        buf.copy_within(len + i + 1..end, 0);
                        end -= len + i + 1;
                        skipping = false;
                    }
                    None => {
                        len = 0;
                        if eof {
                            break;
                        }
                        continue;
                    }
                }
            }
            if !eof && end < buf.len() {
                len = end; // fill the chunk first
                continue;
            }
            self.engine.detect_once(self.id, &buf[..end])?;
            let format = match self.engine.replay_parts(self.id) {
                (Some(dec), _) => dec.format(),
                (None, _) => return Ok(total),
            };
            let used = if format == Format::Stderr {
                let cut = if eof { Some(end) } else { entry_cut(&buf[..end]) };
                let cut = cut.or_else(|| {
                    // No safe cut in a buffer at its largest: cut at the last newline.
                    (buf.len() >= MAX_ENTRY)
                        .then(|| memchr::memrchr(b'\n', &buf[..end]).map(|i| i + 1))
                        .flatten()
                });
                match cut {
                    Some(cut) => {
                        let mut next = self.buffer((2 * (end - cut)).clamp(CHUNK, MAX_ENTRY));
                        next[..end - cut].copy_from_slice(&buf[cut..end]);
                        let chunk = std::mem::replace(&mut buf, next);
                        self.submit(scope, chunk, cut, first && eof);
                        first = false;
                        len = end - cut;
                        if eof {
                            break;
                        }
                        continue;
                    }
                    None => 0,
                }
            } else {
                let (Some(dec), store) = self.engine.replay_parts(self.id) else {
                    return Ok(total);
                };
                let used = dec.decode(&buf[..end], eof, &mut |ev| store.apply(self.id, ev));
                store.advance_clock(dec.last_time());
                used
            };
            if eof {
                break;
            }
            buf.copy_within(used..end, 0);
            len = end - used;
        }
        self.pool.push(buf);
        Ok(total)
    }

    /// A zeroed buffer of at least `size` bytes, reused when one is free.
    fn buffer(&mut self, size: usize) -> Vec<u8> {
        match self.pool.pop() {
            Some(mut b) if b.len() >= size => {
                b.truncate(size.max(CHUNK));
                b
            }
            _ => vec![0u8; size],
        }
    }

    /// Decodes `chunk[..len]`: on a worker, or here when it is the whole input or there is
    /// one core.
    fn submit<'s>(
        &mut self,
        scope: &'s std::thread::Scope<'s, '_>,
        chunk: Vec<u8>,
        len: usize,
        whole: bool,
    ) where
        'q: 's,
    {
        let seq = self.next_seq;
        self.next_seq += 1;
        let job = Job {
            seq,
            buf: chunk,
            len,
        };
        if self.workers < 2 || whole {
            self.decode_here(job);
            return;
        }
        let Some(job_tx) = self.job_tx.clone() else {
            self.decode_here(job);
            return;
        };
        if let Some(done_tx) = self.done_tx.take() {
            // Start every worker; the result queue closes when the last of them ends.
            if let (Some(dec), _) = self.engine.replay_parts(self.id) {
                for _ in 0..self.workers {
                    let (proto, jobs, done) = (dec.worker(), self.job_rx, done_tx.clone());
                    scope.spawn(move || work(proto, jobs, done));
                }
            }
        }
        while self.next_seq - self.next_apply > (self.workers * DEPTH) as u64 {
            if !self.wait_one() {
                break;
            }
        }
        if let Err(e) = job_tx.send(job) {
            self.decode_here(e.0);
        }
        while let Ok(b) = self.done_rx.try_recv() {
            self.waiting.insert(b.seq, b);
        }
        self.apply_ready();
    }

    /// Decodes a chunk on this thread, in order (every earlier chunk applied first).
    fn decode_here(&mut self, job: Job) {
        while self.next_apply < job.seq {
            if !self.wait_one() {
                break;
            }
        }
        let id = self.id;
        if let (Some(dec), store) = self.engine.replay_parts(id) {
            dec.decode(&job.buf[..job.len], true, &mut |ev| store.apply(id, ev));
            store.advance_clock(dec.last_time());
        }
        self.next_apply = self.next_apply.max(job.seq + 1);
        self.pool.push(job.buf);
    }

    /// Waits for one batch from the workers and applies what is ready; false when none can
    /// come any more.
    fn wait_one(&mut self) -> bool {
        if self.waiting.contains_key(&self.next_apply) {
            self.apply_ready();
            return true;
        }
        match self.done_rx.recv() {
            Ok(b) => {
                self.waiting.insert(b.seq, b);
                self.apply_ready();
                true
            }
            Err(_) => false,
        }
    }

    /// Applies the batches that are next in log order.
    fn apply_ready(&mut self) {
        while let Some(b) = self.waiting.remove(&self.next_apply) {
            self.next_apply += 1;
            self.apply(&b);
            let Batch { buf, .. } = b;
            if self.pool.len() < self.workers * DEPTH + 2 {
                self.pool.push(buf);
            }
        }
    }

    /// Applies one batch as if its chunk had been decoded here: events whose entry had no time
    /// take the newest time seen before them, across chunks.
    fn apply(&mut self, b: &Batch) {
        let id = self.id;
        let (Some(dec), store) = self.engine.replay_parts(id) else {
            return;
        };
        let before = dec.last_time();
        let mut untimed = b.state.untimed.iter().copied().peekable();
        for k in 0..b.recs.len() {
            let mut ev = b.event(k);
            if untimed.peek() == Some(&(k as u32)) {
                untimed.next();
                if ev.time.millis <= before.millis {
                    ev.time = before;
                }
            }
            store.apply(id, &ev);
        }
        dec.absorb(b.state.stats, b.state.last_time);
        store.advance_clock(dec.last_time());
    }
}
