//! Rotation torture: a seeded writer appends numbered lines at about 50,000 lines/s while a
//! rotator performs about 1,000 rotations of random kinds with random gaps of 0 to 50 ms; every
//! line must arrive exactly once, in order, bytes intact.
//!
//! A failing run prints its seed; replay it with `TORTURE_SEED=<seed> cargo test --test
//! rotation_torture`. `TORTURE_ROTATIONS=<n>` changes the number of rotations.
//!
//! Rotated names follow one consistent scheme, as a real logrotate setup does: a numbered chain
//! `log.1` ..= `log.4` shifted on every rotation, whose oldest file is moved on to
//! `log-000001`, `log-000002`, ... (never deleted: a file deleted before anyone opened it is lost
//! to every reader, so deleting unread rotated files cannot be exactly-once).
//!
//! Kinds, and what the writer and rotator do so that exactly-once is possible at all:
//! - rename + create (logrotate `create`): the writer keeps writing the old file for 0-2 ms,
//!   then reopens the name, as a logger does after SIGHUP;
//! - rename without create (`nocreate`): the writer's reopen creates the file;
//! - delete + recreate: only once the follower has read from the current file (it holds it open
//!   then) and passed the previous rotation; the writer keeps writing the deleted file for
//!   0-2 ms. A file deleted before any reader opened it is lost to all of them, and a deleted
//!   file that was also truncated before the reader looked cannot be placed among the copies
//!   that appeared meanwhile (names no longer say where it was, and there is no birth time);
//! - copytruncate: the writer is paused between copy and truncate (otherwise the lines written
//!   in between are lost in every tailer); what the follower had not read yet is in the copy,
//!   and is read from there. It is done once the follower has read past the previous rotation:
//!   with several copytruncates (and then a delete) between two looks, the copies of a file's
//!   generations never seen cannot be told apart from files that came after it (no birth time
//!   on this file system), so their order would be a guess;
//! - replaced by a shorter file: the name is rotated away and a new, shorter file already holding
//!   the next lines is renamed onto it;
//! - rewritten shorter in place (`O_TRUNC`): bytes removed from a file before a reader saw them
//!   are gone for every tailer, so the rotator first waits for the follower to have read all
//!   that was written.

#[path = "support/writer.rs"]
mod writer;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pgconn_top::source::{follow_file, FollowOptions, SourceMsg};
use tokio::sync::mpsc;

/// Lines per second the writer aims at.
const RATE: u64 = 50_000;
/// Numbered files kept before the oldest is moved on to a counter name.
const KEEP: u32 = 4;

/// xorshift64*: small, seedable, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The bytes of line `n`: numbered, some with invalid UTF-8.
fn line(n: u64, out: &mut Vec<u8>) {
    let mut digits = [b'0'; 12];
    let mut v = n;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&digits);
    out.extend_from_slice(b" torture user=app db=shop");
    if n % 13 == 7 {
        out.extend_from_slice(b" bad=\xff\xfe\x80");
    }
    out.push(b'\n');
}

fn open_append(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
}

/// The writer's file and the number of the next line; locked for every write.
struct WState {
    file: File,
    next: u64,
    /// Number of the first line written to the file the writer holds now.
    first_in_file: u64,
}

struct Writer {
    state: Arc<Mutex<WState>>,
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<()>,
}

impl Writer {
    fn start(path: &Path, seed: u64) -> Writer {
        let state = Arc::new(Mutex::new(WState {
            file: open_append(path),
            next: 0,
            first_in_file: 0,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (state.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            let mut rng = Rng::new(seed ^ 0x5eed);
            let t0 = Instant::now();
            let mut buf = Vec::with_capacity(128);
            while !st.load(Ordering::Relaxed) {
                let due = t0.elapsed().as_micros() as u64 * RATE / 1_000_000;
                let mut g = s.lock().unwrap();
                for _ in 0..256 {
                    if g.next >= due {
                        break;
                    }
                    buf.clear();
                    line(g.next, &mut buf);
                    if rng.below(64) == 0 {
                        // A line in two writes: the follower may see its first half alone.
                        let cut = 1 + rng.below(buf.len() as u64 - 1) as usize;
                        g.file.write_all(&buf[..cut]).unwrap();
                        std::thread::yield_now();
                        g.file.write_all(&buf[cut..]).unwrap();
                    } else {
                        g.file.write_all(&buf).unwrap();
                    }
                    g.next += 1;
                }
                drop(g);
                std::thread::sleep(Duration::from_micros(300));
            }
        });
        Writer {
            state,
            stop,
            handle,
        }
    }

    fn reopen(&self, path: &Path) {
        let mut g = self.state.lock().unwrap();
        g.file = open_append(path);
        g.first_in_file = g.next;
    }

    fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap();
        let next = self.state.lock().unwrap().next;
        next
    }
}

/// What the collector checked so far.
#[derive(Default)]
struct Check {
    /// Number of the next line expected (= lines received in order).
    next: u64,
    /// First difference found, if any.
    error: Option<String>,
    switches: u64,
}

fn collect(rt: &tokio::runtime::Runtime, mut rx: mpsc::Receiver<SourceMsg>) -> Arc<Mutex<Check>> {
    let c = Arc::new(Mutex::new(Check::default()));
    let c2 = c.clone();
    rt.spawn(async move {
        let mut want = Vec::with_capacity(128);
        while let Some(m) = rx.recv().await {
            let mut c = c2.lock().unwrap();
            match m {
                SourceMsg::Lines { bytes, .. } => {
                    if c.error.is_some() {
                        continue;
                    }
                    if bytes.last() != Some(&b'\n') {
                        c.error = Some("a Lines batch did not end in a newline".into());
                        continue;
                    }
                    for got in bytes.split_inclusive(|&b| b == b'\n') {
                        want.clear();
                        line(c.next, &mut want);
                        if got != want.as_slice() {
                            c.error = Some(format!(
                                "line {} expected, got {:?}",
                                c.next,
                                String::from_utf8_lossy(got)
                            ));
                            break;
                        }
                        c.next += 1;
                    }
                }
                SourceMsg::Switched { .. } => c.switches += 1,
                _ => {}
            }
        }
    });
    c
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The rotator's view of the numbered chain and counter names.
struct Chain {
    path: PathBuf,
    numbered: u32,
    archived: u64,
}

impl Chain {
    /// Moves `log.N` up by one (the oldest on to a counter name), making room for `log.1`.
    fn shift(&mut self) {
        if self.numbered == KEEP {
            self.archived += 1;
            let to = suffixed(&self.path, &format!("-{:06}", self.archived));
            fs::rename(suffixed(&self.path, &format!(".{KEEP}")), to).unwrap();
            self.numbered -= 1;
        }
        for k in (1..=self.numbered).rev() {
            fs::rename(
                suffixed(&self.path, &format!(".{k}")),
                suffixed(&self.path, &format!(".{}", k + 1)),
            )
            .unwrap();
        }
        self.numbered += 1;
    }

    /// Shifts the chain and renames the followed file to `log.1`.
    fn rotate(&mut self) {
        self.shift();
        fs::rename(&self.path, suffixed(&self.path, ".1")).unwrap();
    }
}

/// Names of the rotation kinds, by number.
const KINDS: [&str; 6] = [
    "rename+create",
    "rename",
    "delete+recreate",
    "copytruncate",
    "replaced by a shorter file",
    "rewritten shorter in place",
];

/// The rotations done so far: (number of the next line when it began, kind).
type Log = Vec<(u64, usize)>;

/// The rotations near line `n`, for a failure message.
fn near(log: &Log, n: u64) -> String {
    log.iter()
        .filter(|(at, _)| at.abs_diff(n) < 3000)
        .map(|(at, k)| format!("{at}: {}", KINDS[*k]))
        .collect::<Vec<_>>()
        .join("; ")
}

fn fail(seed: u64, log: &Log, g: &Check, e: &str) -> ! {
    panic!(
        "TORTURE_SEED={seed}: {e}; rotations near line {}: {}",
        g.next,
        near(log, g.next)
    );
}

fn wait_for(c: &Arc<Mutex<Check>>, seed: u64, log: &Log, n: u64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        {
            let g = c.lock().unwrap();
            if let Some(e) = &g.error {
                fail(seed, log, &g, e);
            }
            if g.next >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "TORTURE_SEED={seed}: timed out waiting for {what}: {} of {n} lines arrived",
                g.next
            );
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn torture(opts: FollowOptions, default_rotations: u64, salt: u64) {
    let seed = std::env::var("TORTURE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
        ^ salt;
    let rotations = std::env::var("TORTURE_ROTATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default_rotations);
    eprintln!("rotation torture: TORTURE_SEED={seed} ({rotations} rotations)");
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("postgresql.log");
    let rt = writer::runtime();
    let (tx, rx) = mpsc::channel(64);
    let c = collect(&rt, rx);
    let w = Writer::start(&path, seed);
    rt.spawn(follow_file(0, path.clone(), opts, tx));
    let mut chain = Chain {
        path: path.clone(),
        numbered: 0,
        archived: 0,
    };
    let mut kinds = [0u64; 6];
    let mut log = Log::new();
    let t0 = Instant::now();
    let jitter = |rng: &mut Rng| Duration::from_micros(rng.below(2000));
    for _ in 0..rotations {
        std::thread::sleep(Duration::from_micros(rng.below(50_001)));
        let kind = rng.below(6) as usize;
        kinds[kind] += 1;
        log.push((w.state.lock().unwrap().next, kind));
        match kind {
            0 => {
                chain.rotate();
                File::create(&path).unwrap();
                std::thread::sleep(jitter(&mut rng));
                w.reopen(&path);
            }
            1 => {
                chain.rotate();
                std::thread::sleep(jitter(&mut rng));
                w.reopen(&path);
            }
            2 => {
                // The follower holds the file (it read from it), and passed the last rotation.
                let first = w.state.lock().unwrap().first_in_file;
                let prev = log.len().checked_sub(2).map_or(0, |i| log[i].0);
                let n = first.max(prev) + 1;
                wait_for(&c, seed, &log, n, "the follower to read the current file");
                fs::remove_file(&path).unwrap();
                std::thread::sleep(jitter(&mut rng));
                w.reopen(&path);
            }
            3 => {
                // At most one rotation boundary unread when bytes are destroyed (see above).
                let prev = log.len().checked_sub(2).map_or(0, |i| log[i].0);
                wait_for(
                    &c,
                    seed,
                    &log,
                    prev + 1,
                    "the follower to pass the last rotation",
                );
                let g = w.state.lock().unwrap();
                chain.shift();
                fs::copy(&path, suffixed(&path, ".1")).unwrap();
                g.file.set_len(0).unwrap();
                drop(g);
            }
            4 => {
                let mut g = w.state.lock().unwrap();
                let tmp = dir.path().join("replacement.tmp");
                let mut content = Vec::new();
                for _ in 0..1 + rng.below(20) {
                    line(g.next, &mut content);
                    g.next += 1;
                }
                fs::write(&tmp, &content).unwrap();
                chain.rotate();
                fs::rename(&tmp, &path).unwrap();
                g.first_in_file = g.next;
                g.file = open_append(&path);
            }
            _ => {
                let mut g = w.state.lock().unwrap();
                wait_for(
                    &c,
                    seed,
                    &log,
                    g.next,
                    "the follower to read all before a rewrite",
                );
                let mut content = Vec::new();
                for _ in 0..1 + rng.below(20) {
                    line(g.next, &mut content);
                    g.next += 1;
                }
                fs::write(&path, &content).unwrap();
            }
        }
    }
    let total = w.finish();
    let elapsed = t0.elapsed();
    wait_for(&c, seed, &log, total, "every line");
    std::thread::sleep(Duration::from_millis(200)); // a line read twice would show up now
    let g = c.lock().unwrap();
    eprintln!(
        "rotation torture: {total} lines, {rotations} rotations (kinds {kinds:?}) in {elapsed:?}, {} switches",
        g.switches
    );
    if let Some(e) = &g.error {
        panic!("TORTURE_SEED={seed}: {e}");
    }
    assert_eq!(g.next, total, "TORTURE_SEED={seed}: extra lines");
}

#[test]
fn every_line_exactly_once_through_a_thousand_rotations() {
    torture(FollowOptions::default(), 1000, 0);
}

#[test]
fn every_line_exactly_once_without_inotify() {
    torture(
        FollowOptions {
            use_notify: false,
            poll_interval: Duration::from_millis(10),
            ..FollowOptions::default()
        },
        200,
        0x9e37_79b9,
    );
}
