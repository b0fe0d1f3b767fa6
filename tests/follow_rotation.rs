//! Following one file through rotation faults: every line exactly once, in order, bytes intact.

#[path = "support/writer.rs"]
mod writer;

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pgconn_top::source::{follow_file, FollowOptions, SourceMsg, Start, SwitchReason};
use tokio::sync::mpsc;
use writer::*;

const PACE: Duration = Duration::from_micros(200);

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    rt: tokio::runtime::Runtime,
    c: std::sync::Arc<std::sync::Mutex<Collected>>,
}

fn fixture(setup: impl FnOnce(&Path)) -> (Fixture, mpsc::Sender<SourceMsg>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("postgresql.log");
    setup(&path);
    let rt = runtime();
    let (tx, rx) = mpsc::channel(64);
    let c = collect(&rt, rx);
    (
        Fixture {
            _dir: dir,
            path,
            rt,
            c,
        },
        tx,
    )
}

fn follow(f: &Fixture, tx: mpsc::Sender<SourceMsg>, opts: FollowOptions) {
    f.rt.spawn(follow_file(0, f.path.clone(), opts, tx));
}

fn finish(f: &Fixture, n: u64) {
    wait_until(&f.c, &format!("{n} lines"), |c| c.lines >= n);
    std::thread::sleep(Duration::from_millis(50)); // anything extra (doubled) would show up
    assert_exact(&f.c, &lines(0..n));
}

#[test]
fn rename_and_create() {
    let (f, tx) = fixture(|_| {});
    let w = Writer::start(&f.path, 0, 3000, PACE);
    follow(&f, tx, FollowOptions::default());
    for round in 1..=3u64 {
        w.wait_written(round * 700);
        fs::rename(&f.path, with_suffix(&f.path, &format!(".{round}"))).unwrap();
        fs::File::create(&f.path).unwrap(); // logrotate `create`
        std::thread::sleep(Duration::from_millis(15)); // the writer still writes the old file
        w.reopen(&f.path); // ...until told to reopen
    }
    w.join();
    finish(&f, 3000);
    let sw = f.c.lock().unwrap().switches();
    assert_eq!(sw, vec![SwitchReason::Replaced; 3]);
}

#[test]
fn delete_and_recreate() {
    let (f, tx) = fixture(|_| {});
    let w = Writer::start(&f.path, 0, 2500, PACE);
    follow(&f, tx, FollowOptions::default());
    for round in 1..=2u64 {
        w.wait_written(round * 800);
        fs::remove_file(&f.path).unwrap();
        std::thread::sleep(Duration::from_millis(15)); // written into the deleted file
        w.reopen(&f.path);
    }
    w.join();
    finish(&f, 2500);
    let g = f.c.lock().unwrap();
    assert_eq!(g.switches(), vec![SwitchReason::Replaced; 2]);
}

#[test]
fn copytruncate() {
    let (f, tx) = fixture(|_| {});
    let w = Writer::start(&f.path, 0, 2500, PACE);
    follow(&f, tx, FollowOptions::default());
    for round in 1..=3u64 {
        w.wait_written(round * 600);
        // copytruncate loses what is written between copy and truncate, so the writer pauses,
        // and what was in the file must have been read exactly once.
        let _paused = w.pause();
        let n = w.written();
        wait_until(&f.c, "lines before copytruncate", |c| c.lines >= n);
        fs::copy(&f.path, with_suffix(&f.path, &format!(".{round}"))).unwrap();
        truncate(&f.path);
    }
    w.join();
    finish(&f, 2500);
    assert_eq!(
        f.c.lock().unwrap().switches(),
        vec![SwitchReason::Truncated; 3]
    );
}

#[test]
fn file_that_shrinks_or_is_rewritten_in_place() {
    let (f, tx) = fixture(|p| fs::write(p, lines(0..300)).unwrap());
    follow(&f, tx, FollowOptions::default());
    wait_until(&f.c, "300 lines", |c| c.lines >= 300);
    // Rewritten shorter (O_TRUNC + write).
    fs::write(&f.path, lines(300..320)).unwrap();
    wait_until(&f.c, "320 lines", |c| c.lines >= 320);
    {
        use std::io::Write;
        let mut file = OpenOptions::new().append(true).open(&f.path).unwrap();
        file.write_all(&lines(320..400)).unwrap();
    }
    wait_until(&f.c, "400 lines", |c| c.lines >= 400);
    // Rewritten longer than the old offset in one go: only the changed head reveals it.
    fs::write(&f.path, lines(400..1400)).unwrap();
    finish(&f, 1400);
    assert_eq!(
        f.c.lock().unwrap().switches(),
        vec![SwitchReason::Truncated; 2]
    );
}

#[test]
fn path_missing_at_start() {
    let (f, tx) = fixture(|_| {});
    follow(&f, tx, FollowOptions::default());
    wait_until(&f.c, "a status about the missing file", |c| {
        !c.statuses().is_empty() && c.caught_up().is_some()
    });
    let st = f.c.lock().unwrap().statuses();
    assert!(st[0].contains("does not exist (yet)"), "{st:?}");
    let w = Writer::start(&f.path, 0, 1000, PACE);
    w.join();
    finish(&f, 1000);
    assert_eq!(f.c.lock().unwrap().switches(), vec![SwitchReason::Appeared]);
}

#[test]
fn beginning_replay_hands_over_without_loss_or_doubles() {
    const PRE: u64 = 150_000;
    let (f, tx) = fixture(|p| fs::write(p, lines(0..PRE)).unwrap());
    let size = fs::metadata(&f.path).unwrap().len();
    let w = Writer::start(&f.path, PRE, PRE + 3000, Duration::from_micros(50));
    let opts = FollowOptions {
        progress_every: 1 << 20,
        ..FollowOptions::default()
    };
    follow(&f, tx, opts);
    w.join();
    finish(&f, PRE + 3000);
    let g = f.c.lock().unwrap();
    let (at, bytes) = g.caught_up().expect("CaughtUp sent");
    assert_eq!(
        at, bytes,
        "CaughtUp counts exactly the bytes sent before it"
    );
    assert!(bytes >= size, "replay covered the pre-existing content");
    assert!(g.progress_count() >= 3, "progress during replay");
}

#[test]
fn start_at_end_skips_existing_and_partial_line() {
    let (f, tx) = fixture(|p| {
        let mut pre = lines(0..100);
        pre.extend_from_slice(b"half a li");
        fs::write(p, pre).unwrap();
    });
    let opts = FollowOptions {
        start: Start::End,
        ..FollowOptions::default()
    };
    follow(&f, tx, opts);
    wait_until(&f.c, "CaughtUp", |c| c.caught_up().is_some());
    {
        use std::io::Write;
        let mut file = OpenOptions::new().append(true).open(&f.path).unwrap();
        file.write_all(b"ne\n").unwrap();
        file.write_all(&lines(0..500)).unwrap();
    }
    finish(&f, 500);
    assert_eq!(f.c.lock().unwrap().caught_up(), Some((0, 0)));
}

#[test]
fn wakeups_come_from_inotify_not_the_watchdog() {
    let (f, tx) = fixture(|p| fs::write(p, b"").unwrap());
    let opts = FollowOptions {
        poll_interval: Duration::from_secs(30),
        ..FollowOptions::default()
    };
    follow(&f, tx, opts);
    wait_until(&f.c, "CaughtUp", |c| c.caught_up().is_some());
    std::thread::sleep(Duration::from_millis(50));
    let mut file = OpenOptions::new().append(true).open(&f.path).unwrap();
    let mut lat = Vec::new();
    for n in 0..40u64 {
        use std::io::Write;
        let t0 = Instant::now();
        file.write_all(&line(n)).unwrap();
        wait_until(&f.c, "line via inotify", |c| c.lines > n);
        lat.push(t0.elapsed());
        std::thread::sleep(Duration::from_millis(5));
    }
    lat.sort();
    eprintln!(
        "append-to-delivery latency: median {:?}, max {:?}",
        lat[20], lat[39]
    );
    // With a 30 s watchdog, arriving at all within the 20 s test timeout proves the wake-up path.
    finish(&f, 40);
}

#[test]
fn watchdog_alone_survives_rotation_when_notify_events_are_missed() {
    let (f, tx) = fixture(|_| {});
    let w = Writer::start(&f.path, 0, 2000, PACE);
    let opts = FollowOptions {
        use_notify: false,
        poll_interval: Duration::from_millis(20),
        ..FollowOptions::default()
    };
    follow(&f, tx, opts);
    w.wait_written(700);
    fs::rename(&f.path, with_suffix(&f.path, ".1")).unwrap();
    std::thread::sleep(Duration::from_millis(15));
    w.reopen(&f.path);
    w.wait_written(1400);
    {
        let _paused = w.pause();
        let n = w.written();
        wait_until(&f.c, "lines before truncate", |c| c.lines >= n);
        truncate(&f.path);
    }
    w.join();
    finish(&f, 2000);
    assert_eq!(
        f.c.lock().unwrap().switches(),
        vec![SwitchReason::Replaced, SwitchReason::Truncated]
    );
}

/// Empties a file in place, as copytruncate does.
fn truncate(path: &std::path::Path) {
    OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(0)
        .unwrap();
}
