use pgconn_top::parse::infer::infer_prefix;
use pgconn_top::synth::{generate, SynthConfig};
fn main() {
    let p = std::env::args().nth(1).unwrap();
    let cfg = SynthConfig { seed: 5, minutes: 40, prefix: p, noise_per_minute: 6, restart_at: Some(15), crash_at: Some(30), ..SynthConfig::default() };
    let mut b = Vec::new();
    generate(&cfg, &mut b);
    let n = b.len().min(65536);
    if std::env::args().nth(2).is_some() { print!("{}", String::from_utf8_lossy(&b[..3000])); }
    println!("{:?}", infer_prefix(&b[..n]));
}
