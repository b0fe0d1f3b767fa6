//! Test helpers for the source layer: a log writer thread (numbered lines, invalid UTF-8, partial
//! writes, pausable, reopenable) and a collector of `SourceMsg`s with exact-once checks.
#![allow(dead_code)]

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pgconn_top::source::{SourceMsg, SwitchReason};
use tokio::sync::mpsc;

/// Generous bound for any wait in these tests: reaching it fails the test.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// The bytes of line `n`: numbered, some with invalid UTF-8.
pub fn line(n: u64) -> Vec<u8> {
    let mut v = format!("line {n:06} user=app db=shop").into_bytes();
    if n % 7 == 3 {
        v.extend_from_slice(b" bad=\xff\xfe\x80\xc3");
    }
    if n % 11 == 5 {
        v.extend_from_slice(" caf\u{e9} \u{1F418}".as_bytes());
    }
    v.push(b'\n');
    v
}

/// All lines in `range`, concatenated.
pub fn lines(range: std::ops::Range<u64>) -> Vec<u8> {
    range.flat_map(line).collect()
}

fn open_append(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
}

struct Shared {
    file: Mutex<File>,
    written: AtomicU64,
    stop: AtomicBool,
}

/// A thread appending `line(n)` for n in a range, one write (or two, with a pause between) per line.
pub struct Writer {
    shared: Arc<Shared>,
    handle: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts writing lines `first..end` to `path` (created/appended), pausing `pace` between lines.
    pub fn start(path: &Path, first: u64, end: u64, pace: Duration) -> Writer {
        let shared = Arc::new(Shared {
            file: Mutex::new(open_append(path)),
            written: AtomicU64::new(first),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let handle = std::thread::spawn(move || {
            for n in first..end {
                if s.stop.load(Ordering::Relaxed) {
                    break;
                }
                let l = line(n);
                {
                    let mut f = s.file.lock().unwrap();
                    if n % 50 == 10 {
                        // A line written in two pieces with a short sleep between.
                        let cut = l.len() / 2;
                        f.write_all(&l[..cut]).unwrap();
                        std::thread::sleep(Duration::from_millis(3));
                        f.write_all(&l[cut..]).unwrap();
                    } else {
                        f.write_all(&l).unwrap();
                    }
                }
                s.written.store(n + 1, Ordering::SeqCst);
                if !pace.is_zero() {
                    std::thread::sleep(pace);
                }
            }
        });
        Writer {
            shared,
            handle: Some(handle),
        }
    }

    /// Number one past the last line completely written.
    pub fn written(&self) -> u64 {
        self.shared.written.load(Ordering::SeqCst)
    }

    /// Blocks until at least `n` lines are written.
    pub fn wait_written(&self, n: u64) {
        let deadline = Instant::now() + TIMEOUT;
        while self.written() < n {
            assert!(Instant::now() < deadline, "writer stalled");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Makes the writer (re)open `path` for its next lines (like a logger after SIGHUP).
    pub fn reopen(&self, path: &Path) {
        *self.shared.file.lock().unwrap() = open_append(path);
    }

    /// Pauses the writer while the guard lives (it is never inside a line then).
    pub fn pause(&self) -> MutexGuard<'_, File> {
        self.shared.file.lock().unwrap()
    }

    /// Waits for the writer to finish its range.
    pub fn join(mut self) {
        self.handle.take().unwrap().join().unwrap();
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

/// Everything a source sent, split into line bytes and the other messages.
#[derive(Default, Debug)]
pub struct Collected {
    pub bytes: Vec<u8>,
    pub lines: u64,
    /// Non-line messages, with the number of line bytes received before each.
    pub others: Vec<(u64, SourceMsg)>,
    /// Batches that did not end in '\n' (must stay 0).
    pub split_batches: u64,
}

impl Collected {
    pub fn switches(&self) -> Vec<SwitchReason> {
        self.others
            .iter()
            .filter_map(|(_, m)| match m {
                SourceMsg::Switched { reason, .. } => Some(*reason),
                _ => None,
            })
            .collect()
    }

    /// `(bytes received before it, its byte count)` of the `CaughtUp` message.
    pub fn caught_up(&self) -> Option<(u64, u64)> {
        self.others.iter().find_map(|(at, m)| match m {
            SourceMsg::CaughtUp { bytes, .. } => Some((*at, *bytes)),
            _ => None,
        })
    }

    pub fn progress_count(&self) -> usize {
        self.others
            .iter()
            .filter(|(_, m)| matches!(m, SourceMsg::Progress { .. }))
            .count()
    }

    pub fn statuses(&self) -> Vec<String> {
        self.others
            .iter()
            .filter_map(|(_, m)| match m {
                SourceMsg::Status { message, .. } => Some(message.clone()),
                _ => None,
            })
            .collect()
    }
}

/// Spawns a task collecting messages from `rx`.
pub fn collect(
    rt: &tokio::runtime::Runtime,
    mut rx: mpsc::Receiver<SourceMsg>,
) -> Arc<Mutex<Collected>> {
    let c = Arc::new(Mutex::new(Collected::default()));
    let c2 = c.clone();
    rt.spawn(async move {
        while let Some(m) = rx.recv().await {
            let mut c = c2.lock().unwrap();
            match m {
                SourceMsg::Lines { bytes, .. } => {
                    if bytes.last() != Some(&b'\n') {
                        c.split_batches += 1;
                    }
                    c.lines += memchr_count(&bytes);
                    c.bytes.extend_from_slice(&bytes);
                }
                other => {
                    let at = c.bytes.len() as u64;
                    c.others.push((at, other));
                }
            }
        }
    });
    c
}

fn memchr_count(b: &[u8]) -> u64 {
    b.iter().filter(|&&c| c == b'\n').count() as u64
}

/// Waits until `pred` holds on the collected messages; panics with `what` after [`TIMEOUT`].
pub fn wait_until(c: &Arc<Mutex<Collected>>, what: &str, pred: impl Fn(&Collected) -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        {
            let g = c.lock().unwrap();
            if pred(&g) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what}: got {} lines, last: {:?}, others: {:?}",
                    g.lines,
                    String::from_utf8_lossy(g.bytes.rsplit(|&b| b == b'\n').nth(1).unwrap_or(b"")),
                    g.others
                );
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Asserts the collected bytes are exactly `expected` (every line once, in order, bytes intact).
pub fn assert_exact(c: &Arc<Mutex<Collected>>, expected: &[u8]) {
    let g = c.lock().unwrap();
    assert_eq!(g.split_batches, 0, "a Lines batch did not end in a newline");
    if g.bytes != expected {
        let got: Vec<&[u8]> = g.bytes.split(|&b| b == b'\n').collect();
        let want: Vec<&[u8]> = expected.split(|&b| b == b'\n').collect();
        let i = got
            .iter()
            .zip(&want)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        panic!(
            "lines differ at index {i} (got {} lines, want {}): got {:?}, want {:?}; others: {:?}",
            got.len() - 1,
            want.len() - 1,
            got.get(i).map(|l| String::from_utf8_lossy(l)),
            want.get(i).map(|l| String::from_utf8_lossy(l)),
            g.others
        );
    }
}

/// A multi-thread runtime for one test.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `path` with `suffix` appended to its file name.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
