//! Source layer: reads and follows PostgreSQL log files (or stdin) as raw bytes and sends batches of complete lines.
//!
//! Every source runs as its own tokio task and talks to the app through one
//! `tokio::sync::mpsc::Sender<SourceMsg>`. A task ends when the receiver is
//! dropped (or, for stdin, at end of stream).

mod chain;
pub mod command;
pub mod compressed;
pub mod conf;
pub mod demo;
pub mod dir;
pub mod discover;
pub mod error;
mod file;
pub mod fleet;
pub mod follow;
pub mod glob;
pub mod label;
pub mod name_pattern;
pub mod rotated;
pub mod seek;
pub mod stdin;
mod tail;

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use dir::{expand_paths, follow_dir, DirSpec, Format};
pub use discover::{discover, discover_in, DiscoverEnv, Discovery};
pub use error::{describe_io_error, SourceError};
pub use follow::follow_file;
pub use stdin::follow_reader;

/// Which source (one per path argument / discovered log series). Index into the app's source list.
pub type SourceId = usize;

/// Largest payload of one [`SourceMsg::Lines`] batch (a single longer line is sent whole).
pub const MAX_BATCH: usize = 1 << 20;

/// A message from a source task to the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceMsg {
    /// Complete lines (every byte up to and including the last '\n'), raw bytes, never split mid-line.
    Lines { source: SourceId, bytes: Vec<u8> },
    /// The source moved to a new file (rotation, new file in a directory, truncation restart); the parser must drop any partial multi-line record state.
    Switched {
        source: SourceId,
        path: PathBuf,
        reason: SwitchReason,
    },
    /// Initial replay of existing content is complete (hand-over to live following), with byte count replayed.
    CaughtUp { source: SourceId, bytes: u64 },
    /// Progress during replay of a large file (bytes done, bytes total).
    Progress {
        source: SourceId,
        done: u64,
        total: u64,
    },
    /// Path doesn't exist yet / permission denied / other problem; human-readable sentence; following continues (retry) where it makes sense.
    /// May hold a command's stderr text: shown only through `sanitize::visible`.
    Status { source: SourceId, message: String },
}

impl SourceMsg {
    /// The source the message is about.
    pub fn source(&self) -> SourceId {
        match self {
            SourceMsg::Lines { source, .. }
            | SourceMsg::Switched { source, .. }
            | SourceMsg::CaughtUp { source, .. }
            | SourceMsg::Progress { source, .. }
            | SourceMsg::Status { source, .. } => *source,
        }
    }
}

/// Why a source switched to another file (see [`SourceMsg::Switched`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchReason {
    /// First file of a directory source (sent once, before its first lines).
    Opened,
    /// The path now names another file (rename+create, delete+recreate); the old one was read to its end first.
    Replaced,
    /// The file shrank or was rewritten (copytruncate); reading restarts at byte 0.
    Truncated,
    /// The path did not exist (or could not be read) and now can be.
    Appeared,
    /// A directory source moved on to a newer log file.
    NextFile,
}

/// Where to start reading an existing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Replay everything that exists, then follow (sends `CaughtUp` at the hand-over).
    Beginning,
    /// Only new lines (`--from-end`); a partial last line is skipped up to its newline.
    End,
    /// Replay from the first entry of the last this-many seconds of log time (`--since`),
    /// found by seeking, then follow.
    Since(u32),
}

/// Tuning of file following; `Default` is what the app should use.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// Where to start in the existing content.
    pub start: Start,
    /// Period of the stat watchdog (fallback when notify events are missed); also the directory poll period.
    pub poll_interval: Duration,
    /// After the path was replaced, the old file is read until it has been quiet this long (a writer may still hold it).
    pub rotate_quiet: Duration,
    /// ...but never longer than this after the replacement was seen.
    pub rotate_grace: Duration,
    /// Directory sources replay files modified within this window before following the newest one.
    pub replay_window: Duration,
    /// Send a `Progress` message at most every this many bytes during replay.
    pub progress_every: u64,
    /// Use inotify (through linemux) for fast wake-ups; if false only the watchdog polls (tests, odd filesystems).
    pub use_notify: bool,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            start: Start::Beginning,
            poll_interval: Duration::from_millis(250),
            rotate_quiet: Duration::from_millis(200),
            rotate_grace: Duration::from_secs(3),
            replay_window: Duration::from_secs(24 * 3600),
            progress_every: 16 << 20,
            use_notify: true,
        }
    }
}

/// What to read for one source: built by [`expand_paths`] or [`discover`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// One file path (followed across rotation; may not exist yet).
    File(PathBuf),
    /// A log directory: follow its newest matching file and move on to new ones.
    Dir(DirSpec),
    /// Standard input (`-`).
    Stdin,
}

impl SourceSpec {
    /// A short label for the UI (the path, or "stdin").
    pub fn label(&self) -> String {
        match self {
            SourceSpec::File(p) => p.display().to_string(),
            SourceSpec::Dir(d) => d.dir.display().to_string(),
            SourceSpec::Stdin => "stdin".to_string(),
        }
    }
}

/// Spawns the task that reads `spec` and sends its messages, tagged `id`, to `tx`.
pub fn spawn_source(
    id: SourceId,
    spec: SourceSpec,
    opts: FollowOptions,
    tx: mpsc::Sender<SourceMsg>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        match spec {
            SourceSpec::File(path) => follow_file(id, path, opts, tx).await,
            SourceSpec::Dir(d) => dir::follow_dir(id, d, opts, tx).await,
            SourceSpec::Stdin => follow_reader(id, tokio::io::stdin(), tx).await,
        }
    })
}
