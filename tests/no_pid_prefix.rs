//! Logs whose `log_line_prefix` has no process id (`'< %m > '`, the pre-10 default `''`):
//! what can be counted exactly (connects, disconnects, failures by reason, the active total,
//! the counts by database and by user) equals the generator's truth.

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::store::filter::Filter;
use pgconn_top::store::intern::Dim;
use pgconn_top::synth::{generate, SynthConfig, Truth};
use std::collections::BTreeMap;

fn counts<'a>(it: impl Iterator<Item = &'a str>) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for k in it {
        *m.entry(k.to_string()).or_insert(0) += 1;
    }
    m
}

fn check(prefix: &str) {
    let cfg = SynthConfig {
        prefix: prefix.into(),
        minutes: 180,
        restart_at: Some(60),
        crash_at: Some(120),
        ..SynthConfig::default()
    };
    let mut bytes = Vec::new();
    let t: Truth = generate(&cfg, &mut bytes);
    let mut e = Engine::new(EngineConfig {
        prefix: Some(prefix.into()),
        ..EngineConfig::default()
    });
    let id = e.add_source("nopid.log");
    e.read_to_end(id, &bytes[..]).expect("replays");
    let s = e.store.summary(&Filter::default());
    let label = format!("prefix {prefix:?}");
    assert_eq!(
        s.active_total,
        t.active.len() as u64,
        "{label}: active total"
    );
    assert_eq!(s.connects, t.connects, "{label}: connects");
    assert_eq!(s.disconnects, t.disconnects, "{label}: disconnects");
    let failures: BTreeMap<&str, u64> = s
        .failures_by_reason
        .iter()
        .map(|(r, n)| (r.key(), *n))
        .collect();
    let want: BTreeMap<&str, u64> = t.failures.iter().map(|(k, v)| (*k, *v)).collect();
    assert_eq!(failures, want, "{label}: failures");
    let text = |v: &[(pgconn_top::store::intern::Name, u64)]| -> BTreeMap<String, u64> {
        v.iter()
            .map(|(k, n)| (String::from_utf8_lossy(k).into_owned(), *n))
            .collect()
    };
    assert_eq!(
        text(s.by(Dim::Database)),
        counts(t.active.values().map(|a| a.database.as_str())),
        "{label}: by database"
    );
    assert_eq!(
        text(s.by(Dim::User)),
        counts(t.active.values().map(|a| a.user.as_str())),
        "{label}: by user"
    );
    assert!(
        e.sources()[0].pairs_by_name(),
        "{label}: the source says sessions are paired by name"
    );
}

#[test]
fn angle_bracket_time_prefix() {
    check("< %m > ");
}

#[test]
fn empty_prefix() {
    check("");
}

#[test]
fn the_generated_log_has_what_makes_pairing_hard() {
    let cfg = SynthConfig {
        prefix: "< %m > ".into(),
        minutes: 180,
        restart_at: Some(60),
        crash_at: Some(120),
        ..SynthConfig::default()
    };
    let mut bytes = Vec::new();
    let t = generate(&cfg, &mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        t.active.len() > 10,
        "sessions stay open: {}",
        t.active.len()
    );
    assert!(t.disconnects > 100 && t.connects > t.disconnects);
    assert!(
        t.failures.len() >= 3,
        "several failure kinds: {:?}",
        t.failures
    );
    // Some failures come right after a `connection authorized` of the same session.
    assert!(
        text.contains("remaining connection slots are reserved")
            || text.contains("too many connections for role")
            || text.contains("does not exist")
    );
    assert!(!text.contains(" [2"), "no pid printed");
}
