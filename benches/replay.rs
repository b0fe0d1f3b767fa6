//! Replay throughput and peak memory on a large generated stderr log, as one file and as a
//! directory of 8 files, against `rg -c` for the same messages in the same run (runs
//! interleaved, page cache warm, medians).
//!
//! Run: `cargo build --release && cargo bench --bench replay` (BENCH_MB=250 by default,
//! BENCH_RUNS=7, BENCH_DIR=/tmp/pgconn-top-bench). The one file and the directory, a tenth of
//! a second a run, take at least 31 runs: on a shared host their medians drift by a tenth
//! over 7 or 11.

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::synth::{generate, SynthConfig};
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The four connection messages, as a user would grep for them.
const PATTERN: &str = "connection received|connection authorized|disconnection: session time|FATAL";

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn build_log(path: &Path, mb: u64) -> (u64, u64) {
    let dir = path.parent().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let meta = dir.join(format!("big-{mb}.meta"));
    if let (Ok(m), Ok(s)) = (std::fs::metadata(path), std::fs::read_to_string(&meta)) {
        let mut it = s.split_whitespace().map(|x| x.parse::<u64>().unwrap_or(0));
        if let (Some(lines), Some(events)) = (it.next(), it.next()) {
            if m.len() > 0 {
                return (lines, events);
            }
        }
    }
    // About 1 MB per 57 generated minutes at this noise level.
    let cfg = SynthConfig {
        minutes: (mb * 57) as u32,
        noise_per_minute: 110,
        crash_at: Some(600),
        restart_at: Some(300),
        pid_range: (2000, 30_000),
        ..SynthConfig::default()
    };
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let t = generate(&cfg, &mut out);
    drop(out);
    std::fs::write(&meta, format!("{} {}", t.lines, t.event_lines)).unwrap();
    (t.lines, t.event_lines)
}

/// The big log cut into 8 files at entry starts, named and dated as the collector would.
fn build_dir(big: &Path, mb: u64) -> PathBuf {
    let dir = big.parent().unwrap().join(format!("dir-{mb}"));
    let bytes = std::fs::read(big).unwrap();
    let done = dir.join("done");
    if done.exists() {
        return dir;
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut start = 0;
    for k in 1..=8 {
        let mut end = bytes.len() * k / 8;
        while end < bytes.len() && !(bytes[end - 1] == b'\n' && bytes[end] != b'\t') {
            end += 1;
        }
        let name = format!("postgresql-2025-11-24_{k:02}0000.log");
        std::fs::write(dir.join(name), &bytes[start..end]).unwrap();
        start = end;
        std::thread::sleep(std::time::Duration::from_millis(20)); // distinct mtimes, in order
    }
    std::fs::write(done, b"").unwrap();
    dir
}

/// A log of nothing but connection lines (those of `big`, repeated to its size): the densest
/// input for memory, where every line is an event kept until it is applied.
fn build_dense(big: &Path, mb: u64) -> PathBuf {
    let path = big.with_file_name(format!("dense-{mb}.log"));
    if path.exists() {
        return path;
    }
    let bytes = std::fs::read(big).unwrap();
    let mut lines = Vec::new();
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let text = String::from_utf8_lossy(line);
        if text.contains("LOG:  connection ") || text.contains("LOG:  disconnection: ") {
            lines.extend_from_slice(line);
        }
    }
    let mut out = Vec::with_capacity(bytes.len());
    while out.len() < bytes.len() && !lines.is_empty() {
        out.extend_from_slice(&lines);
    }
    std::fs::write(&path, out).unwrap();
    path
}

fn warm(path: &Path) {
    let mut buf = vec![0u8; 1 << 20];
    let files: Vec<PathBuf> = if path.is_dir() {
        std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    } else {
        vec![path.to_path_buf()]
    };
    for f in files {
        let mut f = std::fs::File::open(f).unwrap();
        while f.read(&mut buf).unwrap() > 0 {}
    }
}

/// Wall seconds, CPU seconds (user + system, 0 when unknown) and peak RSS (MB) of one run,
/// through `/usr/bin/time` when it is there.
fn run(cmd: &[&str], time: bool) -> Option<(f64, f64, f64)> {
    let mut c = if time {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "%U %S %M"]).args(cmd);
        c
    } else {
        let mut c = Command::new(cmd[0]);
        c.args(&cmd[1..]);
        c
    };
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    let t = Instant::now();
    let out = c.output().ok()?;
    let secs = t.elapsed().as_secs_f64();
    if !out.status.success() {
        return None;
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let fields: Vec<f64> = err
        .lines()
        .last()
        .map(|l| {
            l.split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    match fields[..] {
        [user, sys, kb] => Some((secs, user + sys, kb / 1024.0)),
        _ => Some((secs, 0.0, 0.0)),
    }
}

/// Times `pgconn-top --once --json` and `rg -c` on `target`, interleaved, and prints a line:
/// wall medians and their ratio, and CPU medians (both use every core they can).
fn compare(label: &str, bin: &Path, target: &Path, size_mb: f64, runs: u64) {
    let time = Path::new("/usr/bin/time").exists();
    let target = target.to_str().unwrap();
    let bin = bin.to_str().unwrap();
    let (mut ours, mut ours_cpu, mut rss) = (Vec::new(), Vec::new(), 0.0f64);
    let (mut rg, mut rg_cpu) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        if let Some((s, cpu, m)) = run(&[bin, "--once", "--json", target], time) {
            ours.push(s);
            ours_cpu.push(cpu);
            rss = rss.max(m);
        }
        if let Some((s, cpu, _)) = run(&["rg", "-c", PATTERN, target], time) {
            rg.push(s);
            rg_cpu.push(cpu);
        }
    }
    if ours.is_empty() {
        println!("{label}: pgconn-top failed");
        return;
    }
    let m = median(ours);
    let (rss, cpu) = if time {
        (
            format!("peak RSS {rss:.1} MB"),
            format!(", CPU {:.3} s", median(ours_cpu)),
        )
    } else {
        (
            "peak RSS unknown (install /usr/bin/time)".into(),
            String::new(),
        )
    };
    let vs_rg = if rg.is_empty() {
        "rg not installed".to_string()
    } else {
        let r = median(rg);
        let rg_cpu = if time {
            format!(", CPU {:.3} s", median(rg_cpu))
        } else {
            String::new()
        };
        format!(
            "rg -c {r:.3} s = {:.0} MB/s{rg_cpu}; ratio pgconn-top / rg = {:.2}x",
            size_mb / r,
            m / r
        )
    };
    println!(
        "{label}: pgconn-top --once --json median {m:.3} s = {:.0} MB/s{cpu}, {rss}; {vs_rg}",
        size_mb / m
    );
}

fn main() {
    let mb = env_num("BENCH_MB", 250);
    let runs = env_num("BENCH_RUNS", 7).max(1);
    let path = PathBuf::from(
        std::env::var("BENCH_DIR").unwrap_or_else(|_| "/tmp/pgconn-top-bench".into()),
    )
    .join(format!("big-{mb}.log"));
    let (lines, events) = build_log(&path, mb);
    let dir = build_dir(&path, mb);
    let size = std::fs::metadata(&path).unwrap().len();
    let size_mb = size as f64 / 1e6;
    warm(&path);
    warm(&dir);
    println!(
        "log: {} ({size_mb:.0} MB, {lines} lines, {events} connection event lines); directory: {} (8 files)",
        path.display(),
        dir.display()
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let quick = runs.max(31);
    println!(
        "{cores} cores; {quick} runs of the file and the directory, {runs} of the others, interleaved; medians"
    );

    let mut inproc = Vec::new();
    for _ in 0..runs.min(5) {
        let mut e = Engine::new(EngineConfig::default());
        let t = Instant::now();
        e.read_path(&path).unwrap();
        inproc.push(t.elapsed().as_secs_f64());
    }
    let m = median(inproc);
    println!(
        "in process (Engine::read_path): median {m:.3} s = {:.0} MB/s",
        size_mb / m
    );

    // The release binary next to this bench's own directory (target/release/deps/..).
    let bin = std::env::current_exe()
        .ok()
        .and_then(|p| Some(p.parent()?.parent()?.join("pgconn-top")))
        .filter(|p| p.exists());
    let Some(bin) = bin else {
        println!("whole process: build the binary first (cargo build --release)");
        return;
    };
    compare("one file", &bin, &path, size_mb, quick);
    compare("directory of 8 files", &bin, &dir, size_mb, quick);
    compare_gz(&bin, &path, size_mb, runs);
    let dense = build_dense(&path, mb);
    warm(&dense);
    let dense_mb = std::fs::metadata(&dense).unwrap().len() as f64 / 1e6;
    compare("only connection lines", &bin, &dense, dense_mb, runs);
}

/// Times `pgconn-top --once --json big.log.gz` against `zcat big.log.gz | wc -l`, interleaved.
fn compare_gz(bin: &Path, big: &Path, size_mb: f64, runs: u64) {
    let gz = big.with_extension("log.gz");
    if !gz.exists() {
        let out = std::fs::File::create(&gz).unwrap();
        let ok = Command::new("gzip")
            .args(["-c", "-6"])
            .arg(big)
            .stdout(out)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = std::fs::remove_file(&gz);
            println!(".gz: gzip not installed");
            return;
        }
    }
    warm(&gz);
    let time = Path::new("/usr/bin/time").exists();
    let (gz_s, bin_s) = (gz.to_str().unwrap(), bin.to_str().unwrap());
    let zcat = format!("zcat '{gz_s}' | wc -l");
    let (mut ours, mut rss, mut base) = (Vec::new(), 0.0f64, Vec::new());
    for _ in 0..runs {
        if let Some((s, _, m)) = run(&[bin_s, "--once", "--json", gz_s], time) {
            ours.push(s);
            rss = rss.max(m);
        }
        if let Some((s, _, _)) = run(&["sh", "-c", &zcat], false) {
            base.push(s);
        }
    }
    if ours.is_empty() || base.is_empty() {
        println!(".gz: a run failed");
        return;
    }
    let (m, z) = (median(ours), median(base));
    println!(
        "one file .gz: pgconn-top --once --json median {m:.3} s = {:.0} MB/s (uncompressed), peak RSS {rss:.1} MB; zcat | wc -l {z:.3} s; ratio pgconn-top / zcat = {:.2}x",
        size_mb / m,
        m / z
    );
}
