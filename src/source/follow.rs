//! Plumbing shared by file and directory sources: the sending side, inotify wake-ups, replay
//! bookkeeping and draining a file to its end.
//!
//! linemux is used only to be woken up quickly; the bytes are read by `tail.rs`.
//! A stat watchdog every `poll_interval` covers missed notify events (and inotify queue overflow).

pub use super::file::follow_file;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use linemux::MuxedEvents;
use tokio::sync::mpsc;

use super::error::describe_io_error;
use super::tail::Tail;
use super::{SourceId, SourceMsg, SwitchReason};

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
                .is_none_or(|t| t.elapsed() > Duration::from_secs(1))
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
            Ok(Some(bytes)) => send_chunk(out, replay, bytes, tail.pos() - before).await?,
            Ok(None) => {
                if finish_replay {
                    finish(out, replay).await?;
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

/// Sends one chunk of complete lines (`consumed` file bytes) with replay bookkeeping and progress.
pub(crate) async fn send_chunk(
    out: &mut Out,
    replay: &mut Replay,
    bytes: Vec<u8>,
    consumed: u64,
) -> Result<(), Closed> {
    if !replay.caught_up {
        replay.done += consumed;
        replay.sent += bytes.len() as u64;
    }
    out.lines(bytes).await?;
    if !replay.caught_up && replay.done - replay.last_progress >= replay.every {
        replay.last_progress = replay.done;
        out.progress(replay.done, replay.total.max(replay.done))
            .await?;
    }
    Ok(())
}

/// Sends `CaughtUp` the first time the end of the replayed content is reached.
pub(crate) async fn finish(out: &mut Out, replay: &mut Replay) -> Result<(), Closed> {
    if !replay.caught_up {
        replay.caught_up = true;
        out.caught_up(replay.sent).await?;
    }
    Ok(())
}
