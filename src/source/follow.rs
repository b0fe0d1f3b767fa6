//! Follows one file path robustly: replay or end start, partial lines held back, truncation, rotation, late creation.
//!
//! linemux is used only to be woken up quickly; the bytes are read here (see `tail.rs`).
//! A stat watchdog every `poll_interval` covers missed notify events.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use linemux::MuxedEvents;
use tokio::sync::mpsc;

use super::error::describe_io_error;
use super::tail::{Change, Tail};
use super::{FollowOptions, SourceId, SourceMsg, Start, SwitchReason};

/// The receiver was dropped: the source task should end.
#[derive(Debug)]
pub(crate) struct Closed;

/// Sending side of one source, with de-duplication of repeated status sentences.
pub(crate) struct Out {
    pub id: SourceId,
    tx: mpsc::Sender<SourceMsg>,
    last_status: Option<String>,
}

impl Out {
    pub fn new(id: SourceId, tx: mpsc::Sender<SourceMsg>) -> Self {
        Out {
            id,
            tx,
            last_status: None,
        }
    }

    pub async fn send(&self, msg: SourceMsg) -> Result<(), Closed> {
        self.tx.send(msg).await.map_err(|_| Closed)
    }

    pub async fn lines(&self, bytes: Vec<u8>) -> Result<(), Closed> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.send(SourceMsg::Lines {
            source: self.id,
            bytes,
        })
        .await
    }

    pub async fn switched(&mut self, path: &Path, reason: SwitchReason) -> Result<(), Closed> {
        self.last_status = None;
        self.send(SourceMsg::Switched {
            source: self.id,
            path: path.to_path_buf(),
            reason,
        })
        .await
    }

    pub async fn caught_up(&self, bytes: u64) -> Result<(), Closed> {
        self.send(SourceMsg::CaughtUp {
            source: self.id,
            bytes,
        })
        .await
    }

    pub async fn progress(&self, done: u64, total: u64) -> Result<(), Closed> {
        self.send(SourceMsg::Progress {
            source: self.id,
            done,
            total,
        })
        .await
    }

    /// Sends a status sentence unless it equals the previous one.
    pub async fn status(&mut self, message: String) -> Result<(), Closed> {
        if self.last_status.as_deref() == Some(message.as_str()) {
            return Ok(());
        }
        self.last_status = Some(message.clone());
        self.send(SourceMsg::Status {
            source: self.id,
            message,
        })
        .await
    }

    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// Wake-ups from inotify (through linemux), or a timeout.
pub(crate) struct Waker {
    enabled: bool,
    events: Option<MuxedEvents>,
    paths: Vec<PathBuf>,
    failed_at: Option<Instant>,
}

impl Waker {
    /// A waker; with `enabled` false it only sleeps (watchdog-only following).
    pub fn new(enabled: bool) -> Self {
        Waker {
            enabled,
            events: None,
            paths: Vec::new(),
            failed_at: None,
        }
    }

    /// Replaces the watched set (a fresh inotify instance, so a replaced file's new inode is watched).
    /// A path that does not exist makes linemux watch its parent directory instead.
    pub async fn watch(&mut self, paths: &[PathBuf]) {
        self.events = None;
        if !self.enabled {
            return;
        }
        self.paths = paths.to_vec();
        let Ok(mut ev) = MuxedEvents::new() else {
            self.failed_at = Some(Instant::now());
            return;
        };
        let mut any = false;
        for p in paths {
            any |= ev.add_file(p.clone()).await.is_ok();
        }
        if any {
            self.events = Some(ev);
        } else {
            self.failed_at = Some(Instant::now());
        }
    }

    /// Waits for a file event or `timeout`, whichever comes first; then swallows events already queued.
    /// Returns true if an event looked like a file being created, removed or renamed.
    pub async fn wait(&mut self, timeout: Duration) -> bool {
        if self.events.is_none()
            && !self.paths.is_empty()
            && self
                .failed_at
                .map_or(true, |t| t.elapsed() > Duration::from_secs(1))
        {
            let paths = std::mem::take(&mut self.paths);
            self.watch(&paths).await;
        }
        let Some(ev) = self.events.as_mut() else {
            tokio::time::sleep(timeout).await;
            return false;
        };
        // `notify` is not a direct dependency, so event kinds are judged by their methods and names.
        macro_rules! structural {
            ($e:expr) => {
                $e.kind.is_create()
                    || $e.kind.is_remove()
                    || format!("{:?}", $e.kind).contains("Name")
            };
        }
        let mut seen = false;
        let ok = tokio::select! {
            r = ev.next_event() => match r {
                Ok(Some(e)) => {
                    seen |= structural!(e);
                    true
                }
                _ => false,
            },
            _ = tokio::time::sleep(timeout) => true,
        };
        if !ok {
            self.events = None;
            self.failed_at = Some(Instant::now());
            return true;
        }
        for _ in 0..1024 {
            match tokio::time::timeout(Duration::ZERO, ev.next_event()).await {
                Ok(Ok(Some(e))) => seen |= structural!(e),
                _ => break,
            }
        }
        seen
    }
}

/// Replay bookkeeping shared by file and directory sources.
pub(crate) struct Replay {
    pub caught_up: bool,
    pub done: u64,
    pub total: u64,
    pub sent: u64,
    last_progress: u64,
    every: u64,
}

impl Replay {
    pub fn new(total: u64, every: u64) -> Self {
        Replay {
            caught_up: false,
            done: 0,
            total,
            sent: 0,
            last_progress: 0,
            every: every.max(1),
        }
    }

    pub fn finished() -> Self {
        let mut r = Replay::new(0, 1);
        r.caught_up = true;
        r
    }
}

/// Reads `tail` to its current end, sending complete lines in batches, progress while replaying,
/// and `CaughtUp` the first time the end is reached if `finish_replay` is set.
pub(crate) async fn drain(
    tail: &mut Tail,
    out: &mut Out,
    replay: &mut Replay,
    finish_replay: bool,
) -> Result<(), Closed> {
    loop {
        let before = tail.pos();
        match tail.read_chunk() {
            Ok(Some(bytes)) => {
                if !replay.caught_up {
                    replay.done += tail.pos() - before;
                    replay.sent += bytes.len() as u64;
                }
                out.lines(bytes).await?;
                if !replay.caught_up && replay.done - replay.last_progress >= replay.every {
                    replay.last_progress = replay.done;
                    out.progress(replay.done, replay.total.max(replay.done))
                        .await?;
                }
            }
            Ok(None) => {
                if finish_replay && !replay.caught_up {
                    replay.caught_up = true;
                    out.caught_up(replay.sent).await?;
                }
                return Ok(());
            }
            Err(e) => {
                let msg = describe_io_error(&tail.path, &e);
                return out.status(msg).await;
            }
        }
    }
}

/// Follows the file at `path` until the receiver of `tx` is dropped.
///
/// Sends `CaughtUp` once: after replaying existing content (`Start::Beginning`), right away for
/// `Start::End`, or right away if the path cannot be opened yet (a `Status` says why; it is retried
/// every `poll_interval`, and its content is read from byte 0 once it appears).
pub async fn follow_file(
    id: SourceId,
    path: PathBuf,
    opts: FollowOptions,
    tx: mpsc::Sender<SourceMsg>,
) {
    let mut f = FileFollower {
        out: Out::new(id, tx),
        path,
        waker: Waker::new(opts.use_notify),
        opts,
        tail: None,
        replay: Replay::finished(),
        replaced_since: None,
        gone_reported: false,
    };
    let _ = f.run().await;
}

struct FileFollower {
    out: Out,
    path: PathBuf,
    opts: FollowOptions,
    tail: Option<Tail>,
    replay: Replay,
    replaced_since: Option<Instant>,
    gone_reported: bool,
    waker: Waker,
}

impl FileFollower {
    async fn run(&mut self) -> Result<(), Closed> {
        match Tail::open(&self.path, self.opts.start) {
            Ok((tail, size)) => {
                let from = tail.pos();
                self.tail = Some(tail);
                if self.opts.start != Start::End {
                    self.replay = Replay::new(size - from, self.opts.progress_every);
                } else {
                    self.out.caught_up(0).await?;
                }
            }
            Err(e) => {
                self.out.status(describe_io_error(&self.path, &e)).await?;
                self.out.caught_up(0).await?;
            }
        }
        self.waker.watch(std::slice::from_ref(&self.path)).await;
        loop {
            self.step().await?;
            if self.out.is_closed() {
                return Err(Closed);
            }
            let timeout = if self.replaced_since.is_some() {
                (self.opts.rotate_quiet / 4).max(Duration::from_millis(5))
            } else {
                self.opts.poll_interval
            };
            self.waker.wait(timeout).await;
        }
    }

    async fn step(&mut self) -> Result<(), Closed> {
        let Some(tail) = self.tail.as_mut() else {
            match Tail::open(&self.path, Start::Beginning) {
                Ok((tail, _)) => {
                    self.tail = Some(tail);
                    self.out
                        .switched(&self.path, SwitchReason::Appeared)
                        .await?;
                    self.waker.watch(std::slice::from_ref(&self.path)).await;
                    return self.read_and_maybe_switch().await;
                }
                Err(e) => return self.out.status(describe_io_error(&self.path, &e)).await,
            }
        };
        match tail.check() {
            Ok(Change::None) => {
                self.gone_reported = false;
                self.replaced_since = None;
            }
            Ok(Change::Truncated) => {
                if let Err(e) = tail.restart() {
                    let msg = describe_io_error(&self.path, &e);
                    return self.out.status(msg).await;
                }
                self.replaced_since = None;
                self.out
                    .switched(&self.path, SwitchReason::Truncated)
                    .await?;
            }
            Ok(Change::Replaced) => {
                self.replaced_since.get_or_insert_with(Instant::now);
            }
            Ok(Change::Gone) => {
                if !self.gone_reported {
                    self.gone_reported = true;
                    let msg = format!(
                        "{} was removed; reading what is left of it and waiting for it to be recreated",
                        self.path.display()
                    );
                    self.out.status(msg).await?;
                }
            }
            Err(e) => {
                let msg = describe_io_error(&self.path, &e);
                self.out.status(msg).await?;
            }
        }
        self.read_and_maybe_switch().await
    }

    async fn read_and_maybe_switch(&mut self) -> Result<(), Closed> {
        let tail = self.tail.as_mut().expect("open tail");
        drain(tail, &mut self.out, &mut self.replay, true).await?;
        let Some(since) = self.replaced_since else {
            return Ok(());
        };
        let quiet = tail.last_growth.elapsed() >= self.opts.rotate_quiet && tail.pending.is_empty();
        if !quiet && since.elapsed() < self.opts.rotate_grace {
            return Ok(());
        }
        // The old file is done: its last partial line (if any) will never be completed.
        let Ok((new, _)) = Tail::open(&self.path, Start::Beginning) else {
            return Ok(()); // vanished again: retry on the next wake-up
        };
        let mut old = std::mem::replace(tail, new);
        if let Some(p) = old.take_partial() {
            self.out.lines(p).await?;
        }
        self.replaced_since = None;
        self.gone_reported = false;
        self.out
            .switched(&self.path, SwitchReason::Replaced)
            .await?;
        self.waker.watch(std::slice::from_ref(&self.path)).await;
        let tail = self.tail.as_mut().expect("open tail");
        drain(tail, &mut self.out, &mut self.replay, true).await
    }
}
