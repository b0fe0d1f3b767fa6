//! Live-tail figures of the release binary (`pgconn-top --stream --json FILE`):
//! 1. append-to-output latency of single events (median, p99), for disconnects (printed at
//!    once) and connects (held 5 ms so a refusal can withdraw them);
//! 2. a writer appending 100,000 lines/s (5% connection events) for BENCH_SECS (60) seconds:
//!    every event printed exactly once, and the resident memory sampled along the way.
//!
//! Run: `cargo build --release && cargo bench --bench tail`.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn bin() -> std::path::PathBuf {
    let b = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/pgconn-top");
    assert!(b.exists(), "build the binary first: cargo build --release");
    b
}

fn start(path: &Path) -> (Child, mpsc::Receiver<(Instant, serde_json::Value)>) {
    let mut child = Command::new(bin())
        .args(["--stream", "--json", "--prefix", "%m [%p] %q%u@%d "])
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            if tx.send((Instant::now(), v)).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn latency(dir: &Path) {
    let path = dir.join("latency.log");
    std::fs::write(&path, "").unwrap();
    let (mut child, rx) = start(&path);
    std::thread::sleep(Duration::from_millis(300));
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    for (label, connect) in [("disconnect", false), ("connect", true)] {
        let mut samples = Vec::new();
        for i in 0..300u32 {
            let pid = 10_000 + i + if connect { 1000 } else { 0 };
            let text = if connect {
                format!("2026-11-27 20:21:03.094 UTC [{pid}] a@b LOG:  connection authorized: user=a database=b application_name=bench\n")
            } else {
                format!("2026-11-27 20:21:03.094 UTC [{pid}] a@b LOG:  disconnection: session time: 0:00:01.000 user=a database=b host=h port=1\n")
            };
            let t = Instant::now();
            f.write_all(text.as_bytes()).unwrap();
            let (at, v) = rx
                .recv_timeout(Duration::from_secs(5))
                .expect("event printed");
            assert_eq!(v["pid"], pid);
            samples.push(at.duration_since(t).as_secs_f64() * 1000.0);
            std::thread::sleep(Duration::from_millis(10));
        }
        let (p50, p99) = (pct(&mut samples, 0.5), pct(&mut samples, 0.99));
        println!(
            "append-to-output latency ({label}, 300 events): median {p50:.2} ms, p99 {p99:.2} ms"
        );
    }
    child.kill().unwrap();
    let _ = child.wait();
}

fn throughput(dir: &Path, secs: u64) {
    let path = dir.join("flood.log");
    std::fs::write(&path, "").unwrap();
    let (mut child, rx) = start(&path);
    std::thread::sleep(Duration::from_millis(300));
    let mut f = std::io::BufWriter::with_capacity(
        1 << 16,
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap(),
    );
    let noise = "2026-11-27 20:21:03.094 UTC [77] a@b LOG:  duration: 0.042 ms  statement: SELECT * FROM orders WHERE id = 1\n";
    let start_t = Instant::now();
    let mut written = 0u64;
    let mut events = 0u64;
    let mut rss = Vec::new();
    let per_tick = 10_000u64; // lines every 100 ms
    for tick in 0..secs * 10 {
        for i in 0..per_tick {
            if i % 20 == 0 {
                events += 1;
                writeln!(f, "2026-11-27 20:21:03.094 UTC [{}] a@b LOG:  disconnection: session time: 0:00:01.000 user=a database=b host=h port=1", 100_000 + events).unwrap();
            } else {
                f.write_all(noise.as_bytes()).unwrap();
            }
            written += 1;
        }
        f.flush().unwrap();
        if tick % 50 == 0 {
            rss.push(rss_kb(child.id()));
        }
        let due = start_t + Duration::from_millis(100 * (tick + 1));
        if let Some(d) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
    }
    let elapsed = start_t.elapsed().as_secs_f64();
    let mut seen = 0u64;
    let mut last = 0u64;
    let mut in_order = true;
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen < events && Instant::now() < deadline {
        if let Ok((_, v)) = rx.recv_timeout(Duration::from_secs(1)) {
            let pid = v["pid"].as_u64().unwrap_or(0);
            in_order &= pid == last + 1 || last == 0;
            last = pid;
            seen += 1;
        }
    }
    rss.push(rss_kb(child.id()));
    child.kill().unwrap();
    let _ = child.wait();
    println!(
        "flood: {written} lines in {elapsed:.1} s ({:.0} lines/s), {events} events written, {seen} printed, in order: {in_order}",
        written as f64 / elapsed
    );
    println!("flood: resident memory every 5 s (KB): {rss:?}");
}

fn main() {
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let dir = tempfile::tempdir().unwrap();
    latency(dir.path());
    throughput(dir.path(), secs);
}
