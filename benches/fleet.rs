//! A fleet followed at once: the release binary follows 50 labelled logs
//! (`pgconn-top --stream --json --metrics ADDR s00=... s49=...`) while a writer appends 2,000
//! connection events/s in total to them (random servers; connects, disconnects and a few
//! failures). Prints the binary's CPU (% of one core), peak memory, the time of a `/metrics`
//! scrape (every second) and the append-to-output latency of sampled events. Then the same
//! load on the dashboard in a tmux pane (filtered to a marker application, Watch tab): its CPU
//! and the append-to-screen latency of marker events (time until `capture-pane` shows them).
//!
//! Run: `cargo build --release && cargo bench --bench fleet` (BENCH_SECS=30, BENCH_SERVERS=50;
//! the dashboard phase needs tmux).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// CPU seconds (user + system) of a process so far.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // After the command's closing parenthesis: state, ppid, ... utime and stime are the 12th
    // and 13th fields (the 14th and 15th of the line).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok());
    let tick = 100.0; // USER_HZ on Linux
    num(11)
        .zip(num(12))
        .map_or(0.0, |(u, s)| (u + s) as f64 / tick)
}

/// Peak resident memory of a process (KB).
fn peak_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// One `GET /metrics`: its time and body size.
fn scrape(port: u16) -> Option<(f64, usize)> {
    let t = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut body = Vec::new();
    s.read_to_end(&mut body).ok()?;
    Some((t.elapsed().as_secs_f64() * 1000.0, body.len()))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn main() {
    let secs = env_num("BENCH_SECS", 30);
    let servers = env_num("BENCH_SERVERS", 50) as usize;
    let rate = 2_000u64;
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/pgconn-top");
    assert!(
        bin.exists(),
        "build the binary first: cargo build --release"
    );
    let dir = tempfile::tempdir().unwrap();
    let stamp = || {
        chrono::Utc::now()
            .format("%Y-%m-%d %H:%M:%S%.3f UTC")
            .to_string()
    };
    let mut files = Vec::new();
    let mut args = Vec::new();
    for i in 0..servers {
        let p = dir.path().join(format!("s{i:02}.log"));
        let mut f = std::fs::File::create(&p).unwrap();
        writeln!(
            f,
            "{} [1] LOG:  database system is ready to accept connections",
            stamp()
        )
        .unwrap();
        args.push(format!("s{i:02}={}", p.display()));
        files.push(std::io::BufWriter::with_capacity(1 << 14, f));
    }
    let port = free_port();
    let mut child = Command::new(&bin)
        .args(["--stream", "--json", "--prefix", "%m [%p] %q%u@%d "])
        .args(["--metrics", &format!("127.0.0.1:{port}")])
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<(Instant, u64)>();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if let Some(p) = v["pid"].as_u64() {
                if tx.send((Instant::now(), p)).is_err() {
                    break;
                }
            }
        }
    });
    std::thread::sleep(Duration::from_millis(500));

    let cpu0 = cpu_secs(pid);
    let start = Instant::now();
    let mut sent = std::collections::HashMap::new(); // sampled disconnect pid -> written at
    let mut open: Vec<Vec<u64>> = vec![Vec::new(); servers];
    let (mut next_pid, mut events) = (100_000u64, 0u64);
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut scrapes = Vec::new();
    let mut body = 0;
    let ticks = secs * 10;
    for tick in 0..ticks {
        let s = stamp();
        let mut touched = vec![false; servers];
        for _ in 0..rate / 10 {
            let i = (rand() % servers as u64) as usize;
            let f = &mut files[i];
            touched[i] = true;
            events += 1;
            if open[i].len() > 40 && rand() % 2 == 0 {
                let k = (rand() % open[i].len() as u64) as usize;
                let p = open[i].swap_remove(k);
                writeln!(f, "{s} [{p}] app@db LOG:  disconnection: session time: 0:00:01.000 user=app database=db host=10.0.0.{i} port=5432").unwrap();
                if events % 20 == 0 {
                    sent.insert(p, None);
                }
            } else if rand() % 50 == 0 {
                let p = next_pid;
                next_pid += 1;
                writeln!(f, "{s} [{p}] [unknown]@[unknown] LOG:  connection received: host=10.0.0.{i} port=5432").unwrap();
                writeln!(
                    f,
                    "{s} [{p}] app@db FATAL:  password authentication failed for user \"app\""
                )
                .unwrap();
            } else {
                let p = next_pid;
                next_pid += 1;
                writeln!(f, "{s} [{p}] [unknown]@[unknown] LOG:  connection received: host=10.0.0.{i} port=5432").unwrap();
                writeln!(f, "{s} [{p}] app@db LOG:  connection authorized: user=app database=db application_name=app{}", p % 7).unwrap();
                open[i].push(p);
            }
        }
        let now = Instant::now();
        for (i, f) in files.iter_mut().enumerate() {
            if touched[i] {
                f.flush().unwrap();
            }
        }
        for t in sent.values_mut() {
            t.get_or_insert(now);
        }
        if tick % 10 == 5 {
            if let Some((ms, n)) = scrape(port) {
                scrapes.push(ms);
                body = n;
            }
        }
        let due = start + Duration::from_millis(100 * (tick + 1));
        if let Some(d) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = cpu_secs(pid) - cpu0;
    let mut lat = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && lat.len() < sent.len() {
        while let Ok((at, p)) = rx.try_recv() {
            if let Some(Some(t)) = sent.get(&p) {
                lat.push(at.duration_since(*t).as_secs_f64() * 1000.0);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let peak = peak_kb(pid);
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "{servers} servers, {events} connection events in {elapsed:.1} s ({:.0}/s)",
        events as f64 / elapsed
    );
    println!(
        "CPU {:.1}% of one core; peak RSS {:.1} MB",
        100.0 * cpu / elapsed,
        peak as f64 / 1024.0
    );
    println!(
        "/metrics scrape ({} scrapes, {} kB): median {:.1} ms, max {:.1} ms",
        scrapes.len(),
        body / 1000,
        pct(&mut scrapes.clone(), 0.5),
        pct(&mut scrapes, 1.0)
    );
    println!(
        "append-to-output latency ({} sampled disconnects): median {:.1} ms, p99 {:.1} ms",
        lat.len(),
        pct(&mut lat.clone(), 0.5),
        pct(&mut lat, 0.99)
    );
    dashboard(&bin, &args, &mut files, secs.min(20), &mut next_pid);
}

/// Runs a tmux command on the bench's own server.
fn tmux(args: &[&str]) -> Option<String> {
    let out = Command::new("tmux")
        .args(["-L", "pgconn-top-fleet-bench", "-f", "/dev/null"])
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The dashboard under the same load: CPU and append-to-screen latency of marker events.
fn dashboard(
    bin: &Path,
    args: &[String],
    files: &mut [std::io::BufWriter<std::fs::File>],
    secs: u64,
    next_pid: &mut u64,
) {
    if tmux(&["-V"]).is_none() && Command::new("tmux").arg("-V").output().is_err() {
        println!("dashboard: tmux not installed, phase skipped");
        return;
    }
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let cmd = format!("'{}' --app marker {}", bin.display(), quoted.join(" "));
    let _ = tmux(&["kill-server"]);
    if tmux(&[
        "new-session",
        "-d",
        "-s",
        "b",
        "-x",
        "160",
        "-y",
        "50",
        &cmd,
    ])
    .is_none()
    {
        println!("dashboard: tmux could not start it");
        return;
    }
    std::thread::sleep(Duration::from_millis(1500));
    let _ = tmux(&["send-keys", "-t", "b", "3"]);
    let pid: u32 = tmux(&["display-message", "-p", "-t", "b", "#{pane_pid}"])
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let stamp = || {
        chrono::Utc::now()
            .format("%Y-%m-%d %H:%M:%S%.3f UTC")
            .to_string()
    };
    let servers = files.len();
    let cpu0 = cpu_secs(pid);
    let start = Instant::now();
    let mut lat = Vec::new();
    let (rate, mut k) = (2_000u64, 0u64);
    for tick in 0..secs * 10 {
        let s = stamp();
        for _ in 0..rate / 10 {
            k += 1;
            let i = (k as usize * 7919) % servers;
            let p = *next_pid;
            *next_pid += 1;
            writeln!(files[i], "{s} [{p}] app@db LOG:  disconnection: session time: 0:00:01.000 user=app database=db host=10.0.0.{i} port=5432").unwrap();
        }
        // Every half second, one marker connect whose line the screen must show.
        let marker = (tick % 5 == 0).then(|| {
            let p = *next_pid;
            *next_pid += 1;
            let i = tick as usize % servers;
            writeln!(files[i], "{s} [{p}] [unknown]@[unknown] LOG:  connection received: host=10.9.9.9 port=5432").unwrap();
            writeln!(files[i], "{s} [{p}] app@db LOG:  connection authorized: user=app database=db application_name=marker").unwrap();
            p
        });
        for f in files.iter_mut() {
            f.flush().unwrap();
        }
        if let Some(p) = marker {
            let t = Instant::now();
            let needle = format!("pid {p}");
            while t.elapsed() < Duration::from_secs(2) {
                if tmux(&["capture-pane", "-p", "-t", "b"]).is_some_and(|s| s.contains(&needle)) {
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let due = start + Duration::from_millis(100 * (tick + 1));
        if let Some(d) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = cpu_secs(pid) - cpu0;
    let peak = peak_kb(pid);
    let _ = tmux(&["kill-server"]);
    println!(
        "dashboard ({servers} servers, 2,000 events/s): CPU {:.1}% of one core, peak RSS {:.1} MB",
        100.0 * cpu / elapsed,
        peak as f64 / 1024.0
    );
    println!(
        "append-to-screen latency ({} markers, found by polling tmux): median {:.1} ms, p99 {:.1} ms",
        lat.len(),
        pct(&mut lat.clone(), 0.5),
        pct(&mut lat, 0.99)
    );
}
