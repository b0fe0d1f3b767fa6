//! Following a PostgreSQL log directory: replay of recent files, then each new file the collector creates.

#[path = "support/writer.rs"]
mod writer;

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use pgconn_top::source::{
    expand_paths, follow_dir, spawn_source, DirSpec, FollowOptions, Format, SourceSpec,
    SwitchReason,
};
use tokio::sync::mpsc;
use writer::*;

fn set_age(path: &Path, age: Duration) {
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - age)
        .unwrap();
}

fn spec(dir: &Path) -> DirSpec {
    DirSpec {
        filename_pattern: Some("postgresql-%Y-%m-%d_%H%M%S.log".into()),
        ..DirSpec::new(dir, Format::Stderr)
    }
}

#[test]
fn replays_recent_files_then_moves_to_each_new_file() {
    replay_then_new_files(FollowOptions::default());
}

#[test]
fn new_files_are_found_by_the_watchdog_alone() {
    replay_then_new_files(FollowOptions {
        use_notify: false,
        poll_interval: Duration::from_millis(20),
        ..FollowOptions::default()
    });
}

fn replay_then_new_files(opts: FollowOptions) {
    let d = tempfile::tempdir().unwrap();
    let name = |h: u32| {
        d.path()
            .join(format!("postgresql-2024-01-01_{h:02}0000.log"))
    };
    // Two days old: not replayed.
    let old = d.path().join("postgresql-2023-12-30_000000.log");
    fs::write(&old, b"OLD LINE\n").unwrap();
    set_age(&old, Duration::from_secs(48 * 3600));
    // One hour old: replayed first.
    fs::write(name(0), lines(0..50)).unwrap();
    set_age(&name(0), Duration::from_secs(3600));
    // Not of this source: other name, other format family.
    fs::write(d.path().join("other.txt"), b"NOT A LOG\n").unwrap();
    fs::write(d.path().join("postgresql-2024-01-01_000000.csv"), b"CSV\n").unwrap();

    let w = Writer::start(&name(1), 50, 3000, Duration::from_micros(200));
    let rt = runtime();
    let (tx, rx) = mpsc::channel(64);
    let c = collect(&rt, rx);
    rt.spawn(follow_dir(0, spec(d.path()), opts, tx));
    for (i, at) in [800u64, 1600, 2400].into_iter().enumerate() {
        w.wait_written(at);
        w.reopen(&name(i as u32 + 2)); // the collector starts a new file
    }
    w.join();
    wait_until(&c, "3000 lines", |c| c.lines >= 3000);
    std::thread::sleep(Duration::from_millis(100));
    assert_exact(&c, &lines(0..3000));
    let g = c.lock().unwrap();
    let mut want = vec![SwitchReason::Opened];
    want.extend([SwitchReason::NextFile; 4]);
    assert_eq!(g.switches(), want);
    assert!(g.caught_up().is_some());
}

#[test]
fn empty_directory_then_first_file_appears() {
    let d = tempfile::tempdir().unwrap();
    let rt = runtime();
    let (tx, rx) = mpsc::channel(64);
    let c = collect(&rt, rx);
    rt.spawn(follow_dir(3, spec(d.path()), FollowOptions::default(), tx));
    wait_until(&c, "status and CaughtUp", |c| {
        !c.statuses().is_empty() && c.caught_up().is_some()
    });
    assert!(c.lock().unwrap().statuses()[0].contains("no log file matching"));
    let w = Writer::start(
        &d.path().join("postgresql-2024-05-01_120000.log"),
        0,
        1000,
        Duration::from_micros(200),
    );
    w.join();
    wait_until(&c, "1000 lines", |c| c.lines >= 1000);
    assert_exact(&c, &lines(0..1000));
    assert_eq!(c.lock().unwrap().switches(), vec![SwitchReason::NextFile]);
}

#[test]
fn glob_arguments_become_one_source_per_file() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("a.log"), lines(0..10)).unwrap();
    fs::write(d.path().join("b.log"), lines(10..30)).unwrap();
    let specs = expand_paths(&[format!("{}/*.log", d.path().display())], Format::Stderr).unwrap();
    assert!(matches!(
        specs.as_slice(),
        [SourceSpec::File(_), SourceSpec::File(_)]
    ));
    let rt = runtime();
    let mut cs = Vec::new();
    for (id, spec) in specs.into_iter().enumerate() {
        let (tx, rx) = mpsc::channel(64);
        cs.push(collect(&rt, rx));
        let _guard = rt.enter();
        spawn_source(id, spec, FollowOptions::default(), tx);
    }
    wait_until(&cs[0], "a.log", |c| c.lines >= 10);
    wait_until(&cs[1], "b.log", |c| c.lines >= 20);
    assert_exact(&cs[0], &lines(0..10));
    assert_exact(&cs[1], &lines(10..30));
}

#[test]
fn files_created_and_closed_between_two_wakeups_are_read_whole_and_in_order() {
    // Bursts of files, each written whole, closed, and the next one created at once, faster
    // than the follower wakes up: every file is read once, completely, in order.
    let d = tempfile::tempdir().unwrap();
    let rt = runtime();
    let (tx, rx) = mpsc::channel(64);
    let c = collect(&rt, rx);
    fs::write(
        d.path().join("postgresql-2024-02-01_000000.log"),
        lines(0..10),
    )
    .unwrap();
    rt.spawn(follow_dir(0, spec(d.path()), FollowOptions::default(), tx));
    wait_until(&c, "the first file", |c| c.lines >= 10);
    let mut n = 10;
    for round in 0..5u64 {
        for s in 1..=4u64 {
            let name = format!("postgresql-2024-02-01_00{round:02}{s:02}.log");
            fs::write(d.path().join(name), lines(n..n + 300)).unwrap();
            n += 300;
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    wait_until(&c, "every file", |c| c.lines >= n);
    std::thread::sleep(Duration::from_millis(100));
    assert_exact(&c, &lines(0..n));
    assert_eq!(c.lock().unwrap().switches().len(), 21);
}
