//! Sections of the report about the incident views: capacity, failures in detail and
//! PostgreSQL 18 connection setup times.

use crate::parse::time::{local_clock, rfc3339};
use crate::sanitize::{lossy, visible};
use crate::store::filter::Filter;
use serde_json::{json, Map, Value};
use std::fmt::Write;

/// PostgreSQL 18 setup times (milliseconds) by application and by host:
/// `{by_application: {name: {count, total: {p50, p90, p99}, fork: {..}, authentication: {..}}}, by_host: {..}}`.
pub fn setup_times_json(store: &crate::store::Store) -> Value {
    use crate::store::setup::{Quantiles, SetupRow};
    let q = |x: Quantiles| {
        let ms = |us: u32| f64::from(us) / 1000.0;
        json!({"p50": ms(x.p50_us), "p90": ms(x.p90_us), "p99": ms(x.p99_us)})
    };
    let map = |rows: &[SetupRow]| {
        let mut m = Map::new();
        for r in rows {
            m.insert(
                lossy(&r.name),
                json!({"count": r.count, "total": q(r.total), "fork": q(r.fork), "authentication": q(r.authentication)}),
            );
        }
        Value::Object(m)
    };
    let t = store.setup_times().table(store.names());
    json!({"by_application": map(&t.by_application), "by_host": map(&t.by_host)})
}

/// The `capacity` object: configured and learnt slots, headroom, refusals.
pub(super) fn capacity_json(store: &crate::store::Store, active: u64) -> Value {
    let c = store.capacity();
    let learnt = |v: Vec<&crate::store::capacity::LearntLimit>| -> Vec<Value> {
        v.iter()
            .map(|l| json!({"name": lossy(&l.name), "active_at_refusal": l.active, "refused": l.refused, "last_refused": rfc3339(l.at)}))
            .collect()
    };
    json!({
        "max_connections": c.max,
        "reserved": c.reserved,
        "origin": c.origin,
        "floor_from_refusals": c.floor_from_refusals,
        "usable": c.usable(),
        "active": active,
        "headroom": c.headroom(active),
        "level": c.level(active).key(),
        "refused_total": c.refused_total,
        "refused_last_burst": c.refused_burst,
        "last_refused": c.last_refused.map(rfc3339),
        "role_limits": learnt(c.role_limits()),
        "database_limits": learnt(c.database_limits()),
    })
}

/// The `failures_detail` array: one object per user × host × reason.
pub(super) fn failures_json(store: &crate::store::Store, f: &Filter) -> Value {
    use crate::store::failures::{reason_words, FailureSort};
    let v = store.failure_view(f, FailureSort::Count);
    Value::Array(
        v.rows
            .iter()
            .map(|r| {
                json!({
                    "user": lossy(&r.user),
                    "host": lossy(&r.host),
                    "reason": r.reason.key(),
                    "reason_words": reason_words(r.reason),
                    "count": r.count,
                    "per_minute": (r.per_minute * 10.0).round() / 10.0,
                    "first_seen": rfc3339(r.first),
                    "last_seen": rfc3339(r.last),
                    "brute_force": r.brute_force,
                })
            })
            .collect(),
    )
}

/// The capacity line of the text report.
pub(super) fn capacity_text(out: &mut String, store: &crate::store::Store, active: u64) {
    let c = store.capacity();
    let _ = write!(out, "\nCapacity: ");
    match (c.max, c.usable()) {
        (Some(max), Some(usable)) => {
            let _ = write!(
                out,
                "{active}/{max} active, {} free ({usable} usable by ordinary roles, {} reserved; from {})",
                c.headroom(active).unwrap_or(0),
                c.reserved,
                c.origin.as_deref().unwrap_or("configured")
            );
        }
        (None, Some(floor)) => {
            let _ = write!(
                out,
                "{active} active; at least {floor} slots (learnt from refusals; max_connections unknown)"
            );
        }
        _ => {
            let _ = write!(out, "{active} active; max_connections unknown");
        }
    }
    let _ = writeln!(out);
    if let Some(t) = c.last_refused {
        let _ = writeln!(
            out,
            "  refused {} for lack of slots, {} in the last burst, last at {}",
            c.refused_total,
            c.refused_burst,
            local_clock(t)
        );
    }
    for (what, v) in [("role", c.role_limits()), ("database", c.database_limits())] {
        for l in v {
            let _ = writeln!(
                out,
                "  {what} {}: refused with {} of its sessions open ({} refused)",
                visible(&l.name),
                l.active,
                l.refused
            );
        }
    }
}
