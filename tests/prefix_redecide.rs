//! The prefix is decided on evidence and decided again when the evidence changes: a source
//! started on a freshly booted server (only postmaster lines) waits for its first session line;
//! a new file, or a climbing share of connection lines that no longer parse (the server's
//! `log_line_prefix` was changed and reloaded), makes it read the prefix again.

use pgconn_top::engine::{Engine, EngineConfig, PrefixOrigin};
use pgconn_top::store::filter::Filter;
use pgconn_top::synth::{generate, SynthConfig, Truth};

fn log(prefix: &str, start_millis: i64, seed: u64) -> (Vec<u8>, Truth) {
    let cfg = SynthConfig {
        prefix: prefix.into(),
        seed,
        start_millis,
        minutes: 30,
        restart_at: None,
        crash_at: None,
        ..SynthConfig::default()
    };
    let mut bytes = Vec::new();
    let t = generate(&cfg, &mut bytes);
    (bytes, t)
}

const A: &str = "%m [%p] %q%u@%d ";
const B: &str = "%t [%p]: db=%d,user=%u,app=%a,client=%h ";

#[test]
fn a_freshly_started_server_waits_for_its_first_session_line() {
    let mut e = Engine::new(EngineConfig::default());
    let id = e.add_source("fresh.log");
    let boot = "2026-11-27 20:21:03.010 CET [4132] LOG:  starting PostgreSQL 15.18\n\
                2026-11-27 20:21:03.017 CET [4132] LOG:  database system is ready to accept connections\n";
    e.feed(id, boot.as_bytes()).unwrap();
    e.settle(id).unwrap(); // caught up: live from now on
    assert_eq!(
        e.sources()[0].prefix(),
        None,
        "postmaster lines cannot tell"
    );
    assert!(!e.warnings().is_empty(), "and it says so");
    let session = "2026-11-27 20:21:04.001 CET [4140] [unknown]@[unknown] LOG:  connection received: host=[local]\n\
                   2026-11-27 20:21:04.002 CET [4140] app@prod LOG:  connection authorized: user=app database=prod application_name=psql\n";
    e.feed(id, session.as_bytes()).unwrap();
    assert_eq!(e.sources()[0].prefix(), Some(A));
    assert_eq!(e.sources()[0].prefix_origin(), Some(PrefixOrigin::Inferred));
    let s = e.store.summary(&Filter::default());
    assert_eq!((s.active_total, s.connects), (1, 1));
    assert!(
        e.store.server().up_since.is_some(),
        "the buffered server lines were read too"
    );
}

#[test]
fn a_new_file_with_another_prefix_is_read_with_it() {
    let (a, ta) = log(A, 1_764_000_000_000, 1);
    let (b, tb) = log(B, 1_764_000_000_000 + 3_600_000, 2);
    let mut e = Engine::new(EngineConfig::default());
    let id = e.add_source("rotating.log");
    e.feed(id, &a).unwrap();
    e.switched(id);
    e.feed(id, &b).unwrap();
    e.finish(id).unwrap();
    assert_eq!(e.sources()[0].prefix(), Some(B));
    let s = e.store.summary(&Filter::default());
    assert_eq!(s.connects, ta.connects + tb.connects);
    assert_eq!(e.line_stats().unparsed, 0);
}

#[test]
fn a_prefix_changed_mid_file_is_read_again() {
    let (a, ta) = log(A, 1_764_000_000_000, 3);
    let (b, tb) = log(B, 1_764_000_000_000 + 3_600_000, 4);
    let mut e = Engine::new(EngineConfig::default());
    let id = e.add_source("reloaded.log");
    let mut all = a.clone();
    all.extend_from_slice(&b);
    e.read_to_end(id, &all[..]).unwrap();
    assert_eq!(e.sources()[0].prefix(), Some(B));
    let s = e.store.summary(&Filter::default());
    // A few connection lines are read before the switch shows; nearly all count.
    let want = ta.connects + tb.connects;
    assert!(
        s.connects + 40 >= want && s.connects <= want,
        "{} of {want}",
        s.connects
    );
}
