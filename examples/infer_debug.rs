use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::parse::infer::infer_prefix;
use pgconn_top::store::filter::Filter;
use pgconn_top::synth::{generate, SynthConfig};
fn main() {
    let p = std::env::args().nth(1).unwrap();
    let cfg = SynthConfig { seed: 5, minutes: 40, prefix: p.clone(), noise_per_minute: 6, restart_at: Some(15), crash_at: Some(30), ..SynthConfig::default() };
    let mut b = Vec::new();
    let t = generate(&cfg, &mut b);
    let n = b.len().min(65536);
    if let Some(x) = std::env::args().nth(2) { print!("{}", String::from_utf8_lossy(&b[..x.parse().unwrap()])); }
    println!("{:?}", infer_prefix(&b[..n]));
    for q in std::env::args().skip(3).chain([p]) {
        let mut e = Engine::new(EngineConfig { prefix: Some(q.clone()), ..EngineConfig::default() });
        let id = e.add_source("x.log");
        e.read_to_end(id, &b[..]).unwrap();
        let s = e.store.summary(&Filter::default());
        println!("{q:?}: active {} connects {} disc {} lost {} unparsed {} | truth {} {} {} {}", e.store.active_sessions(&Filter::default()).len(), s.connects, s.disconnects, s.lost, e.line_stats().unparsed, t.active.len(), t.connects, t.disconnects, t.lost);
    }
}
