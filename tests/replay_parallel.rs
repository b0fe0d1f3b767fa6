//! Parallel replay gives exactly what reading the same bytes one after another on one thread
//! gives: the same JSON report, for one file, for a directory of files, with and without times
//! in the prefix, and with a reader that cannot be opened.

use pgconn_top::engine::{Engine, EngineConfig, ReadError};
use pgconn_top::replay::{replay_files, replay_readers};
use pgconn_top::report::{json_report, ReportOptions};
use pgconn_top::synth::{generate, SynthConfig};
use std::path::PathBuf;

/// A generated log of a few MiB (several chunks), written with `prefix`.
fn log(prefix: &str, minutes: u32) -> Vec<u8> {
    let cfg = SynthConfig {
        minutes,
        noise_per_minute: 110,
        prefix: prefix.into(),
        pid_range: (2000, 30_000),
        ..SynthConfig::default()
    };
    let mut buf = Vec::new();
    generate(&cfg, &mut buf);
    buf
}

fn engine(prefix: &str) -> Engine {
    Engine::new(EngineConfig {
        prefix: Some(prefix.into()),
        ..EngineConfig::default()
    })
}

/// `bytes` cut into `n` files at line starts (not always entry starts: a continuation line may
/// begin a file, as when a server rotates mid-entry).
fn split_into_files(bytes: &[u8], n: usize, dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut start = 0;
    for k in 1..=n {
        let target = bytes.len() * k / n;
        let end = if k == n {
            bytes.len()
        } else {
            memchr::memchr(b'\n', &bytes[target..]).map_or(bytes.len(), |i| target + i + 1)
        };
        let path = dir.join(format!("postgresql-2025-11-24_{k:02}.log"));
        std::fs::write(&path, &bytes[start..end]).unwrap();
        files.push(path);
        start = end;
    }
    files
}

fn report(e: &Engine) -> String {
    serde_json::to_string_pretty(&json_report(e, &ReportOptions::default())).unwrap()
}

fn same_as_sequential(prefix: &str, minutes: u32) {
    let bytes = log(prefix, minutes);
    assert!(bytes.len() > 3 << 20, "several chunks: {}", bytes.len());
    let dir = tempfile::tempdir().unwrap();
    let files = split_into_files(&bytes, 8, dir.path());

    let mut seq = engine(prefix);
    let id = seq.add_source("dir");
    for f in &files {
        seq.read_to_end(id, std::fs::File::open(f).unwrap())
            .unwrap();
    }
    let mut par = engine(prefix);
    let id = par.add_source("dir");
    let read = replay_files(&mut par, id, &files).unwrap();
    assert_eq!(read, bytes.len() as u64);
    assert_eq!(report(&par), report(&seq), "directory, prefix {prefix:?}");
    let connects = par.store.summary(&Default::default()).connects;
    assert!(connects > 300, "{connects}");

    let mut one_seq = engine(prefix);
    let id = one_seq.add_source("one");
    one_seq.read_to_end(id, bytes.as_slice()).unwrap();
    let mut one_par = engine(prefix);
    let id = one_par.add_source("one");
    replay_readers(&mut one_par, id, [Ok(bytes.as_slice())]).unwrap();
    assert_eq!(
        report(&one_par),
        report(&one_seq),
        "one file, prefix {prefix:?}"
    );

    // A file large enough for workers to claim ranges of it and read them themselves.
    let whole = dir.path().join("whole.log");
    std::fs::write(&whole, &bytes).unwrap();
    let mut claimed = engine(prefix);
    let id = claimed.add_source("one");
    let read = replay_files(&mut claimed, id, &[whole]).unwrap();
    assert_eq!(read, bytes.len() as u64);
    assert_eq!(
        report(&claimed),
        report(&one_seq),
        "claimed, prefix {prefix:?}"
    );
}

#[test]
fn a_file_opened_past_its_start_is_replayed_from_there() {
    const PREFIX: &str = "%m [%p] %q%u@%d ";
    let bytes = log(PREFIX, 300);
    let from = bytes.len() / 5;
    let from = from + memchr::memchr(b'\n', &bytes[from..]).unwrap() + 1;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("postgresql.log");
    std::fs::write(&path, &bytes).unwrap();
    let mut file = std::fs::File::open(&path).unwrap();
    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(from as u64)).unwrap();
    let mut par = engine(PREFIX);
    let id = par.add_source("one");
    let read = pgconn_top::replay::replay_open_files(&mut par, id, [Ok(file)]).unwrap();
    assert_eq!(read, (bytes.len() - from) as u64);
    let mut seq = engine(PREFIX);
    let id = seq.add_source("one");
    seq.read_to_end(id, &bytes[from..]).unwrap();
    assert_eq!(report(&par), report(&seq));
}

#[test]
fn parallel_replay_matches_sequential_replay() {
    same_as_sequential("%m [%p] %q%u@%d ", 250);
}

#[test]
fn parallel_replay_matches_sequential_replay_without_times() {
    // No time in the prefix: every event takes the newest time seen, across chunks.
    same_as_sequential("[%p] %q%u@%d ", 250);
}

#[test]
fn a_missing_file_is_named_and_what_came_before_is_kept() {
    let bytes = log("%m [%p] %q%u@%d ", 60);
    let dir = tempfile::tempdir().unwrap();
    let mut files = split_into_files(&bytes, 2, dir.path());
    files.insert(1, dir.path().join("postgresql-missing.log"));
    let mut e = engine("%m [%p] %q%u@%d ");
    let id = e.add_source("dir");
    let err = replay_files(&mut e, id, &files).unwrap_err();
    assert_eq!(err.path, files[1]);
    assert!(
        matches!(err.error, ReadError::Io(ref io) if io.kind() == std::io::ErrorKind::NotFound)
    );
    let mut first = engine("%m [%p] %q%u@%d ");
    let id = first.add_source("dir");
    first
        .read_to_end(id, std::fs::File::open(&files[0]).unwrap())
        .unwrap();
    assert_eq!(report(&e), report(&first));
}

/// A reader that hands out its bytes a few hundred at a time, as a pipe or a decompressor does.
struct Trickle(std::io::Cursor<Vec<u8>>, usize);

impl std::io::Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.1 = self.1 % 977 + 131;
        let n = buf.len().min(self.1);
        self.0.read(&mut buf[..n])
    }
}

#[test]
fn any_reader_and_overlong_entries_give_the_same_figures() {
    const PREFIX: &str = "%m [%p] %q%u@%d ";
    let mut bytes = log(PREFIX, 120);
    // Entries longer than any connection message (one without a newline for 5 MiB), a FATAL
    // whose continuation line follows it, and lines with stray tabs.
    let at = bytes.len() / 3;
    let at = at + memchr::memchr(b'\n', &bytes[at..]).unwrap() + 1;
    let mut insert =
        b"2025-11-24 16:00:00.000 UTC [77] x@y LOG:  connection authorized: user=".to_vec();
    insert.extend(std::iter::repeat_n(b'a', 5 << 20));
    insert.extend_from_slice(b"\n\tstill\tthe same entry\n");
    insert.extend_from_slice(
        b"2025-11-24 16:00:00.001 UTC [78] bob@a FATAL:  database \"a\n\tb\" does not exist\n",
    );
    bytes.splice(at..at, insert);

    let mut seq = engine(PREFIX);
    let id = seq.add_source("one");
    seq.read_to_end(id, bytes.as_slice()).unwrap();
    let mut par = engine(PREFIX);
    let id = par.add_source("one");
    let reader = Trickle(std::io::Cursor::new(bytes.clone()), 0);
    let read = replay_readers(&mut par, id, [Ok(reader)]).unwrap();
    assert_eq!(read, bytes.len() as u64);
    assert_eq!(report(&par), report(&seq));
    assert_eq!(par.line_stats(), seq.line_stats());
    assert!(par.line_stats().unparsed >= 1, "{:?}", par.line_stats());
}

#[test]
fn long_entries_around_chunk_ends_give_the_same_figures_from_a_file() {
    // Every 50 kB a statement of 7 to 45 kB over tab-led lines, and a line of 12 kB without a
    // break: where a chunk should end, the boundary is often farther than the few lines the
    // feed looks at there, and that chunk is read as a stream instead.
    const PREFIX: &str = "%m [%p] %q%u@%d ";
    let base = log(PREFIX, 360);
    let mut bytes = Vec::with_capacity(base.len() * 2);
    let (mut last, mut x) = (0, 7u32);
    for line in base.split_inclusive(|&b| b == b'\n') {
        bytes.extend_from_slice(line);
        if bytes.len() - last > 50_000 && !line.starts_with(b"\t") {
            last = bytes.len();
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let lines = 300 + (x >> 16) % 1500; // irregular, so chunk ends fall anywhere in them
            bytes.extend_from_slice(
                b"2025-11-24 16:00:00.000 UTC [91] x@y ERROR:  syntax error\n\tSTATEMENT:  SELECT",
            );
            for k in 0..lines {
                bytes.extend_from_slice(format!("\n\t  , column_{k} AS c{k}").as_bytes());
            }
            bytes.extend_from_slice(b"\n2025-11-24 16:00:00.000 UTC [92] x@y LOG:  duration: ");
            bytes.extend(std::iter::repeat_n(b'7', 12 << 10));
            bytes.push(b'\n');
        }
    }
    assert!(bytes.len() > 4 << 20, "several chunks: {}", bytes.len());
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.log");
    std::fs::write(&whole, &bytes).unwrap();

    let mut seq = engine(PREFIX);
    let id = seq.add_source("one");
    seq.read_to_end(id, bytes.as_slice()).unwrap();
    let mut par = engine(PREFIX);
    let id = par.add_source("one");
    let read = replay_files(&mut par, id, &[whole]).unwrap();
    assert_eq!(read, bytes.len() as u64);
    assert_eq!(report(&par), report(&seq));
    assert_eq!(par.line_stats(), seq.line_stats());
    let connects = par.store.summary(&Default::default()).connects;
    assert!(connects > 300, "{connects}");
}
