//! Measures the envelope layer: opens a (compressed) log, detects its envelope on the first
//! 64 KiB, unwraps it all in 256 KiB reads, and prints the envelope, the counts and the time.
//! `cargo run --release --example unwrap_count -- FILE [--in-time-order]` (the latter through
//! `read_in_time_order`, reversing a newest-first export).

use pgconn_top::envelope::{detect_at_eof, Context, Unwrapper};
use std::io::Read;
use std::time::Instant;

fn main() -> std::io::Result<()> {
    let path = std::env::args_os()
        .nth(1)
        .expect("usage: unwrap_count FILE");
    let start = Instant::now();
    if std::env::args().nth(2).as_deref() == Some("--in-time-order") {
        let mut head = vec![0u8; 64 << 10];
        let n = pgconn_top::source::compressed::open_log(std::path::Path::new(&path))?
            .read(&mut head)?;
        let env = detect_at_eof(&head[..n]);
        let r = pgconn_top::source::compressed::open_log(std::path::Path::new(&path))?;
        let mut out_bytes = 0u64;
        let stats = pgconn_top::envelope::read_in_time_order(r, env, Context::now(), |l| {
            out_bytes += l.len() as u64;
        })?;
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{}: {stats:?}; {out_bytes} bytes out in {secs:.3} s",
            env.name()
        );
        return Ok(());
    }
    let mut r = pgconn_top::source::compressed::open_log(std::path::Path::new(&path))?;
    let mut chunk = vec![0u8; 256 << 10];
    let mut input = Vec::new();
    let mut out = Vec::new();
    let mut unwrapper: Option<Unwrapper> = None;
    let (mut bytes, mut out_bytes) = (0u64, 0u64);
    loop {
        let n = r.read(&mut chunk)?;
        bytes += n as u64;
        input.extend_from_slice(&chunk[..n]);
        let u = unwrapper.get_or_insert_with(|| {
            let env = detect_at_eof(&input[..input.len().min(64 << 10)]);
            Unwrapper::new(env, Context::now())
        });
        let used = u.unwrap(&input, n == 0, &mut out);
        input.drain(..used);
        out_bytes += out.len() as u64;
        out.clear();
        if n == 0 {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let u = unwrapper.expect("read once");
    println!(
        "{}: {:?}; {bytes} bytes in, {out_bytes} out, {secs:.3} s ({:.0} MB/s in)",
        u.envelope().name(),
        u.stats(),
        bytes as f64 / secs / 1e6
    );
    Ok(())
}
