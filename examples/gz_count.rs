//! Measures decompression through `source::compressed::open_log`: counts the newlines of a
//! (compressed) log and prints the count, the uncompressed bytes and the time taken.
//! Compare with `zcat FILE | wc -l`:
//! `cargo run --release --example gz_count -- FILE.gz`

use std::io::Read;
use std::time::Instant;

fn main() -> std::io::Result<()> {
    let path = std::env::args_os().nth(1).expect("usage: gz_count FILE");
    let start = Instant::now();
    let mut r = pgconn_top::source::compressed::open_log(std::path::Path::new(&path))?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut lines, mut bytes) = (0u64, 0u64);
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{lines} lines, {bytes} bytes in {secs:.3} s ({:.0} MB/s)",
        bytes as f64 / secs / 1e6
    );
    Ok(())
}
