//! Replay throughput and peak memory on a large generated stderr log (about 5% connection
//! event lines), against `rg -c` / `grep -c` for the same messages in the same run.
//!
//! Run: `cargo build --release && cargo bench --bench replay` (BENCH_MB=250 by default).

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::synth::{generate, SynthConfig};
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
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
    // About 1 MB per 50 generated minutes at this noise level; noise tuned for ~5% event lines.
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

fn run_timed(cmd: &mut Command) -> Option<f64> {
    let t = Instant::now();
    let out = cmd.output().ok()?;
    out.status.success().then(|| t.elapsed().as_secs_f64())
}

fn main() {
    let mb: u64 = std::env::var("BENCH_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(250);
    let path = PathBuf::from(
        std::env::var("BENCH_DIR").unwrap_or_else(|_| "/tmp/pgconn-top-bench".into()),
    )
    .join(format!("big-{mb}.log"));
    let (lines, events) = build_log(&path, mb);
    let size = std::fs::metadata(&path).unwrap().len();
    let size_mb = size as f64 / 1e6;
    // Warm the page cache.
    let mut f = std::fs::File::open(&path).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    while f.read(&mut buf).unwrap() > 0 {}
    println!(
        "log: {} ({size_mb:.0} MB, {lines} lines, {:.1}% connection event lines)",
        path.display(),
        100.0 * events as f64 / lines as f64
    );

    let mut ours = Vec::new();
    let mut active = 0;
    for _ in 0..5 {
        let mut e = Engine::new(EngineConfig::default());
        let t = Instant::now();
        e.read_path(&path).unwrap();
        ours.push(t.elapsed().as_secs_f64());
        active = e.store.summary(&Default::default()).active_total;
    }
    let m = median(ours);
    println!(
        "pgconn-top replay (in process): median {:.3} s = {:.0} MB/s (active at end: {active})",
        m,
        size_mb / m
    );

    let pattern = "connection received|connection authorized|disconnection: session time|FATAL";
    for tool in ["rg", "grep"] {
        let mut times = Vec::new();
        for _ in 0..3 {
            let mut c = Command::new(tool);
            if tool == "grep" {
                c.arg("-E");
            }
            c.args(["-c", pattern]).arg(&path);
            if let Some(s) = run_timed(&mut c) {
                times.push(s);
            }
        }
        if times.is_empty() {
            println!("{tool} -c: not available");
        } else {
            let t = median(times);
            println!(
                "{tool} -c (same messages): median {:.3} s = {:.0} MB/s; pgconn-top runs at {:.0}% of {tool}'s speed",
                t,
                size_mb / t,
                100.0 * t / m
            );
        }
    }

    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/pgconn-top");
    if bin.exists() && Path::new("/usr/bin/time").exists() {
        {
            let p = &path;
            let out = Command::new("/usr/bin/time")
                .args(["-f", "%M %e"])
                .arg(&bin)
                .args(["--once", "--json"])
                .arg(p)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            let last = err.lines().last().unwrap_or("");
            let mut it = last.split_whitespace();
            let kb: f64 = it.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
            let secs: f64 = it.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
            println!(
                "pgconn-top --once --json (release binary): peak RSS {:.1} MB, {:.2} s wall",
                kb / 1024.0,
                secs
            );
        }
    } else {
        println!(
            "peak RSS: build the binary first (cargo build --release) and install /usr/bin/time"
        );
    }
}
