//! Long generated logs with a known truth: final active set, totals, failures, per-minute
//! history and leak suspects, under several prefixes and any split of the byte stream.

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::store::filter::Filter;
use pgconn_top::store::intern::Dim;
use pgconn_top::synth::{generate, SynthConfig, Truth};
use std::collections::BTreeMap;

fn log(cfg: &SynthConfig) -> (Vec<u8>, Truth) {
    let mut buf = Vec::new();
    let truth = generate(cfg, &mut buf);
    (buf, truth)
}

fn replay(bytes: &[u8]) -> Engine {
    let mut e = Engine::new(EngineConfig::default());
    let id = e.add_source("synth.log");
    e.read_to_end(id, bytes).expect("replays");
    e
}

fn check_against(e: &Engine, t: &Truth, label: &str) {
    let f = Filter::default();
    let got: BTreeMap<u32, (String, String, Option<String>, String)> = e
        .store
        .active_sessions(&f)
        .into_iter()
        .map(|s| {
            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            (
                s.pid,
                (
                    text(&s.user),
                    text(&s.database),
                    s.application.as_deref().map(text),
                    text(&s.host),
                ),
            )
        })
        .collect();
    let want: BTreeMap<u32, (String, String, Option<String>, String)> = t
        .active
        .iter()
        .map(|(p, s)| {
            (
                *p,
                (
                    s.user.clone(),
                    s.database.clone(),
                    s.application.clone(),
                    s.host.clone(),
                ),
            )
        })
        .collect();
    assert_eq!(got, want, "{label}: active set");
    let s = e.store.summary(&f);
    assert_eq!(s.connects, t.connects, "{label}: connects");
    assert_eq!(s.disconnects, t.disconnects, "{label}: disconnects");
    assert_eq!(s.lost, t.lost, "{label}: lost");
    let failures: BTreeMap<&str, u64> = s
        .failures_by_reason
        .iter()
        .map(|(r, n)| (r.key(), *n))
        .collect();
    let want_failures: BTreeMap<&str, u64> = t.failures.iter().map(|(k, v)| (*k, *v)).collect();
    assert_eq!(failures, want_failures, "{label}: failures");
    assert_eq!(e.line_stats().unparsed, 0, "{label}: unparsed");
    assert_eq!(e.line_stats().read, t.lines, "{label}: lines read");
}

#[test]
fn six_hours_with_restart_crash_leak_and_pid_reuse() {
    let cfg = SynthConfig::default();
    let (bytes, t) = log(&cfg);
    assert!(
        t.pid_reuses > 100,
        "the generator reuses pids ({})",
        t.pid_reuses
    );
    assert!(
        t.lost > 0 && t.connects > 500,
        "restart and crash happened: {t:?}",
        t = (t.lost, t.connects)
    );
    let e = replay(&bytes);
    check_against(&e, &t, "default");

    // History at 1-minute resolution equals the truth minute by minute.
    let buckets = e.store.history_view(&Filter::default(), 60, None);
    let got: BTreeMap<i64, (i64, i64, i64, i64)> = buckets
        .iter()
        .filter(|b| (b.connects, b.disconnects, b.lost, b.failures) != (0, 0, 0, 0))
        .map(|b| {
            (
                b.start.millis,
                (b.connects, b.disconnects, b.lost, b.failures),
            )
        })
        .collect();
    let want: BTreeMap<i64, (i64, i64, i64, i64)> = t
        .minutes
        .iter()
        .map(|(m, c)| (*m, (c.connects, c.disconnects, c.lost, c.failures)))
        .collect();
    assert_eq!(got, want, "per-minute history");
    assert_eq!(
        buckets.last().unwrap().active_end as usize,
        t.active.len(),
        "active at the end"
    );

    // 15-minute buckets sum to the same totals.
    let q = e.store.history_view(&Filter::default(), 900, None);
    assert_eq!(q.iter().map(|b| b.connects).sum::<i64>(), t.connects as i64);
    assert!(
        q.iter().all(|b| b.start.millis % 900_000 == 0),
        "buckets aligned to the quarter hour"
    );
}

#[test]
fn leak_is_flagged_and_steady_pools_are_not() {
    let cfg = SynthConfig {
        restart_at: None,
        crash_at: None,
        minutes: 180,
        ..SynthConfig::default()
    };
    let (bytes, t) = log(&cfg);
    let e = replay(&bytes);
    check_against(&e, &t, "leak");
    let leaks = e.store.leak_suspects(&Filter::default(), 60);
    let apps: Vec<String> = leaks
        .iter()
        .filter(|l| l.dimension == Dim::Application)
        .map(|l| String::from_utf8_lossy(&l.name).into_owned())
        .collect();
    assert_eq!(
        apps,
        vec![t.leak_app.clone()],
        "only the leaking application"
    );
    let leak = &leaks
        .iter()
        .find(|l| l.dimension == Dim::Application)
        .unwrap();
    assert_eq!(
        leak.growth, 12,
        "one leaked session every 5 minutes over 60 minutes"
    );
    for pool in &t.pool_apps {
        assert!(!apps.contains(pool), "steady pool {pool} not flagged");
    }
}

#[test]
fn every_prefix_gives_the_same_truth() {
    for prefix in [
        "%m [%p] ",
        "%t [%p]: user=%u,db=%d,app=%a,client=%h ",
        "%t:%r:%u@%d:[%p]:",
        "%n [%p] %q%u@%d %a ",
        "%m [%p-%l] %q%c %e %u@%d ",
    ] {
        let cfg = SynthConfig {
            prefix: prefix.into(),
            minutes: 120,
            zone: ("ACDT", 37_800),
            ..SynthConfig::default()
        };
        let (bytes, t) = log(&cfg);
        let mut e = Engine::new(EngineConfig {
            prefix: Some(prefix.into()),
            ..EngineConfig::default()
        });
        let id = e.add_source("x.log");
        e.read_to_end(id, bytes.as_slice()).unwrap();
        check_against(&e, &t, prefix);
    }
}

#[test]
fn any_split_of_the_stream_gives_the_same_figures() {
    let cfg = SynthConfig {
        minutes: 90,
        restart_at: Some(40),
        crash_at: Some(70),
        ..SynthConfig::default()
    };
    let (bytes, t) = log(&cfg);
    let mut e = Engine::new(EngineConfig::default());
    let id = e.add_source("stream");
    let mut pos = 0;
    let mut step = 1;
    while pos < bytes.len() {
        let end = (pos + step).min(bytes.len());
        e.feed(id, &bytes[pos..end]).unwrap();
        pos = end;
        step = step * 7 % 4093 + 1;
    }
    e.finish(id).unwrap();
    check_against(&e, &t, "streamed");
}
