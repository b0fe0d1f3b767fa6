//! The headless snapshot (`--once`): plain text or one JSON object. Its shape is a contract
//! that scripts and tests rely on.

use crate::engine::Engine;
use crate::parse::time::{local_clock, rfc3339};
use crate::sanitize::{lossy, visible};
use crate::store::filter::Filter;
use crate::store::intern::{Dim, Name};
use crate::store::views::{ActiveSession, Summary};
use serde_json::{json, Map, Value};
use std::fmt::Write;

mod pretty;
mod sections;
pub use sections::setup_times_json;
use sections::{capacity_json, capacity_text, failures_json};

/// What a snapshot covers.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub filter: Filter,
    /// History bucket size, in seconds.
    pub bucket_secs: u32,
    /// Leak detection window, in minutes.
    pub leak_window_minutes: u32,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            filter: Filter::default(),
            bucket_secs: 900,
            leak_window_minutes: 60,
        }
    }
}

fn name_map(v: &[(Name, u64)]) -> Value {
    let mut m = Map::new();
    for (k, n) in v {
        m.insert(lossy(k), json!(n));
    }
    Value::Object(m)
}

/// One open session in the snapshot.
#[derive(Debug, serde::Serialize)]
pub struct ActiveOut {
    pub pid: u32,
    pub user: String,
    pub database: String,
    pub application: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    pub since: String,
    pub source: u16,
    /// The server it is on, with more than one server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

/// The snapshot: small figures as JSON values, the (possibly long) session list as structs,
/// so that writing it streams instead of building one large value.
#[derive(Debug, serde::Serialize)]
pub struct Snapshot {
    #[serde(flatten)]
    pub figures: Map<String, Value>,
    pub active: Vec<ActiveOut>,
}

/// The snapshot as one JSON object.
pub fn json_report(engine: &Engine, opts: &ReportOptions) -> Value {
    serde_json::to_value(snapshot(engine, opts)).unwrap_or(Value::Null)
}

/// Writes the snapshot as pretty JSON. The session list, most of its bytes on a busy server,
/// is written on a second thread while the figures are computed on this one.
pub fn write_json(
    engine: &Engine,
    opts: &ReportOptions,
    out: impl std::io::Write,
) -> serde_json::Result<()> {
    let active = engine.store.active_sessions(&opts.filter);
    let fleet = engine.store.is_fleet();
    let (figures, list) = std::thread::scope(|scope| {
        let list = scope.spawn(|| {
            // About 240 bytes a session: one allocation, no copy as it grows.
            let mut list = Vec::with_capacity(256 * active.len() + 64);
            pretty::write_active(&active, fleet, &mut list).map(|()| list)
        });
        let figures = figures(engine, opts, &active);
        (figures, list.join())
    });
    let list = list.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
    pretty::write_snapshot(&figures, &list, out)
}

/// The snapshot's contents.
pub fn snapshot(engine: &Engine, opts: &ReportOptions) -> Snapshot {
    let fleet = engine.store.is_fleet();
    let active = engine.store.active_sessions(&opts.filter);
    let figures = figures(engine, opts, &active);
    let active = active
        .iter()
        .map(|a| ActiveOut {
            pid: a.pid,
            user: lossy(&a.user),
            database: lossy(&a.database),
            application: a.application.as_ref().map(|x| lossy(x)),
            host: lossy(&a.host),
            port: a.port,
            since: rfc3339(a.since),
            source: a.source,
            server: a.server.as_ref().filter(|_| fleet).map(|x| lossy(x)),
        })
        .collect();
    Snapshot { figures, active }
}

/// The snapshot's figures, given its open sessions as the store gives them.
fn figures(engine: &Engine, opts: &ReportOptions, active: &[ActiveSession]) -> Map<String, Value> {
    let store = &engine.store;
    let f = &opts.filter;
    let s = store.summary(f);
    let fleet = store.is_fleet();
    let mut by_reason = Map::new();
    for (r, n) in &s.failures_by_reason {
        by_reason.insert(r.key().to_string(), json!(n));
    }
    let buckets: Vec<Value> = store
        .history_view(f, opts.bucket_secs, None)
        .iter()
        .map(|b| {
            json!({
                "start": rfc3339(b.start),
                "connects": b.connects,
                "disconnects": b.disconnects,
                "lost": b.lost,
                "failures": b.failures,
                "active_end": b.active_end,
                "active_peak": b.active_peak,
            })
        })
        .collect();
    let leaks: Vec<Value> = store
        .leak_suspects(f, opts.leak_window_minutes)
        .iter()
        .map(|l| {
            let mut v = json!({
                "dimension": l.dimension.key(),
                "name": lossy(&l.name),
                "active": l.active,
                "growth": l.growth,
                "connects": l.connects,
                "disconnects": l.disconnects,
                "window_minutes": l.window_minutes,
                "share_of_slots_pct": l.share_pct,
                "slots_ran_out": l.slots_ran_out,
            });
            v[l.dimension.key()] = json!(lossy(&l.name));
            v
        })
        .collect();
    let times: Vec<Value> = store
        .durations_by_app(f)
        .iter()
        .map(|d| json!({"application": lossy(&d.application), "sessions": d.sessions, "p50_ms": d.p50_ms, "p90_ms": d.p90_ms, "p99_ms": d.p99_ms}))
        .collect();
    let sources: Vec<Value> = engine
        .sources()
        .iter()
        .map(|src| {
            let st = src.stats();
            json!({
                "path": src.label,
                "envelope": src.envelope().map(|e| e.key()),
                "format": src.format().map(|x| x.name()),
                "prefix": src.prefix(),
                "how": src.prefix_origin().map(|o| o.name()),
                "events": src.events(),
                "lines": {"read": st.read, "entries": st.entries, "unparsed": st.unparsed},
            })
        })
        .collect();
    let server = store.server();
    let lines = engine.line_stats();
    let capacity = capacity_json(store, store.active_now());
    let failures_detail = failures_json(store, f);
    let figures = json!({
        "log_time": (store.now().millis != 0).then(|| rfc3339(store.now())),
        "filter": filter_json(f, fleet),
        "active_total": s.active_total,
        "connects": s.connects,
        "disconnects": s.disconnects,
        "lost": s.lost,
        "terminated": s.terminated,
        "pending": s.pending,
        "incomplete_startup": s.incomplete,
        "failures": {
            "total": s.failures_total,
            "by_reason": by_reason,
            "by_user": name_map(&s.failures_by_user),
            "by_host": name_map(&s.failures_by_host),
        },
        "history": {"bucket_seconds": opts.bucket_secs, "buckets": buckets},
        "leak_suspects": leaks,
        "capacity": capacity,
        "failures_detail": failures_detail,
        "session_times": times,
        "setup_times": setup_times_json(store),
        "server": {
            "up_since": server.up_since.map(rfc3339),
            "last_restart": server.last_restart.map(rfc3339),
            "last_crash": server.last_crash.map(rfc3339),
        },
        "sources": sources,
        "warnings": engine.warnings(),
        "lines": {"read": lines.read, "entries": lines.entries, "unparsed": lines.unparsed},
    });
    let Value::Object(mut figures) = figures else {
        unreachable!("an object literal")
    };
    by_dims(&mut figures, &s, fleet);
    if let Some(v) = servers_json(engine, active, &store.summary_by_server(f)) {
        figures.insert("servers".into(), v);
    }
    figures
}

/// The shown dimensions: every one with more than one server, else all but the server.
fn shown_dims(fleet: bool) -> impl Iterator<Item = Dim> {
    Dim::ALL
        .into_iter()
        .filter(move |&d| fleet || d != Dim::Server)
}

/// `by_database`, `by_user`, ... (`by_server` with more than one server) into `m`.
fn by_dims(m: &mut Map<String, Value>, s: &Summary, fleet: bool) {
    for d in shown_dims(fleet) {
        m.insert(format!("by_{}", d.key()), name_map(s.by(d)));
    }
}

/// The filter in force, by filter key (`server` only with more than one server or when set).
fn filter_json(f: &Filter, fleet: bool) -> Value {
    let mut m = Map::new();
    for d in Dim::ALL {
        let text = f.text_of(d);
        if fleet || d != Dim::Server || text.is_some() {
            m.insert(d.filter_key().into(), json!(text));
        }
    }
    Value::Object(m)
}

/// One server's section of `servers`: its totals, failures and client dimensions.
fn server_json(s: &Summary) -> Value {
    let mut by_reason = Map::new();
    for (r, n) in &s.failures_by_reason {
        by_reason.insert(r.key().to_string(), json!(n));
    }
    let mut v = json!({
        "active_total": s.active_total,
        "connects": s.connects,
        "disconnects": s.disconnects,
        "lost": s.lost,
        "terminated": s.terminated,
        "failures_total": s.failures_total,
        "failures_by_reason": by_reason,
    });
    if let Value::Object(m) = &mut v {
        by_dims(m, s, false);
    }
    v
}

/// Per server (when there are several): its name, sources, open sessions (of `active`, the
/// filtered list), restart / crash state and log clock. None for one server: the top-level
/// `server` says it all.
/// Each entry also carries the server's figures under the filter (`per`, by name; see
/// [`server_json`]): connects, disconnects, failures and the client dimensions.
fn servers_json(
    engine: &Engine,
    active: &[ActiveSession],
    per: &[(Name, Summary)],
) -> Option<Value> {
    let store = &engine.store;
    let states = store.servers();
    if states.iter().filter(|s| !s.name.is_empty()).count() < 2 {
        return None;
    }
    let of = |source: u16| store.server_of(source).map(usize::from);
    let list: Vec<Value> = states
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let sources: Vec<&str> = (0..engine.sources().len())
                .filter(|&id| of(id as u16) == Some(i))
                .map(|id| engine.sources()[id].label.as_str())
                .collect();
            let open = active.iter().filter(|a| of(a.source) == Some(i)).count();
            let mut v = json!({
                "name": st.name,
                "sources": sources,
                "active_total": open,
                "log_time": (st.now.millis != 0).then(|| rfc3339(st.now)),
                "up_since": st.info.up_since.map(rfc3339),
                "last_restart": st.info.last_restart.map(rfc3339),
                "last_crash": st.info.last_crash.map(rfc3339),
            });
            let figures = per.iter().find(|(n, _)| &n[..] == st.name.as_bytes());
            if let (Some((_, s)), Value::Object(m)) = (figures, &mut v) {
                if let Value::Object(more) = server_json(s) {
                    m.extend(more);
                }
            }
            v
        })
        .collect();
    Some(Value::Array(list))
}

fn table(out: &mut String, title: &str, rows: &[(Name, u64)]) {
    let _ = writeln!(out, "\n{title}");
    if rows.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for (name, n) in rows {
        let _ = writeln!(out, "  {:<32} {n:>6}", visible(name));
    }
}

/// The per-server lines of a fleet: active, connects, disconnects, lost, failures.
fn servers_text(out: &mut String, servers: &[(Name, Summary)]) {
    let _ = writeln!(
        out,
        "\nServers:\n  {:<24} {:>6} {:>8} {:>8} {:>6} {:>8}",
        "server", "active", "connects", "ends", "lost", "failures"
    );
    for (name, s) in servers {
        let _ = writeln!(
            out,
            "  {:<24} {:>6} {:>8} {:>8} {:>6} {:>8}",
            visible(name),
            s.active_total,
            s.connects,
            s.disconnects,
            s.lost,
            s.failures_total
        );
    }
}

/// The snapshot as plain text (every name made visible-safe).
pub fn text_report(engine: &Engine, opts: &ReportOptions) -> String {
    let store = &engine.store;
    let f = &opts.filter;
    let s = store.summary(f);
    let mut out = String::new();
    let only_db = Dim::ALL
        .iter()
        .all(|&d| d == Dim::Database || f.get(d).is_none());
    let target = match (f.exact_value(Dim::Database), f.is_empty()) {
        (_, true) => String::new(),
        (Some(db), _) if only_db => format!(" to '{}'", visible(db)),
        _ => format!(" ({})", visible(f.to_text().as_bytes())),
    };
    let _ = writeln!(out, "Active connections{target}: {}", s.active_total);
    if store.now().millis != 0 {
        let _ = writeln!(out, "Log time: {}", local_clock(store.now()));
    }
    let fleet = store.is_fleet();
    for d in shown_dims(fleet) {
        table(&mut out, &format!("By {}:", d.key()), s.by(d));
    }
    if fleet {
        servers_text(&mut out, &store.summary_by_server(f));
    }
    let _ = writeln!(
        out,
        "\nSession totals: {} connects, {} disconnects, {} lost, {} terminated",
        s.connects, s.disconnects, s.lost, s.terminated
    );
    capacity_text(&mut out, store, store.active_now());
    let _ = writeln!(out, "\nFailed connections: {}", s.failures_total);
    for (r, n) in &s.failures_by_reason {
        let _ = writeln!(out, "  {:<32} {n:>6}", r.key());
    }
    let guessing = store.failure_view(f, crate::store::failures::FailureSort::Count);
    for b in &guessing.brute_force {
        let _ = writeln!(
            out,
            "  brute force? {}: {} users, {:.1}/min, {} failures",
            visible(&b.host),
            b.users,
            b.per_minute,
            b.failures
        );
    }
    if !s.failures_by_user.is_empty() {
        table(&mut out, "Failures by user:", &s.failures_by_user);
        table(&mut out, "Failures by host:", &s.failures_by_host);
    }
    let leaks = store.leak_suspects(f, opts.leak_window_minutes);
    let _ = writeln!(
        out,
        "\nLeak suspects: {}",
        if leaks.is_empty() { "none" } else { "" }
    );
    for l in &leaks {
        let _ = writeln!(
            out,
            "  leak suspected: {} {} +{} in {} min ({} open, {} connects, {} ends){}",
            Dim::filter_key(l.dimension),
            visible(&l.name),
            l.growth,
            l.window_minutes,
            l.active,
            l.connects,
            l.disconnects,
            match (l.share_pct, l.slots_ran_out) {
                (Some(p), true) => format!(", {p}% of the usable slots, slots ran out"),
                (Some(p), false) => format!(", {p}% of the usable slots"),
                (None, true) => ", slots ran out".to_string(),
                (None, false) => String::new(),
            }
        );
    }
    let times = store.durations_by_app(f);
    if !times.is_empty() {
        let _ = writeln!(out, "\nSession time by application (p50 / p90 / p99):");
        for d in &times {
            let _ = writeln!(
                out,
                "  {:<32} {:>6} sessions  {} / {} / {}",
                visible(&d.application),
                d.sessions,
                human_ms(d.p50_ms),
                human_ms(d.p90_ms),
                human_ms(d.p99_ms)
            );
        }
    }
    let hist = store.history_view(f, opts.bucket_secs, None);
    let _ = writeln!(
        out,
        "\nTimeline ({} buckets):",
        human_ms(u64::from(opts.bucket_secs) * 1000)
    );
    let _ = writeln!(
        out,
        "  {:<19} {:>8} {:>8} {:>8} {:>8}",
        "start", "connects", "ends", "failures", "active"
    );
    for b in hist.iter().rev().take(96).rev() {
        let _ = writeln!(
            out,
            "  {:<19} {:>8} {:>8} {:>8} {:>8}",
            local_clock(b.start),
            b.connects,
            b.disconnects + b.lost,
            b.failures,
            b.active_end
        );
    }
    let lines = engine.line_stats();
    let _ = writeln!(
        out,
        "\nLines: {} read, {} entries, {} unparsed",
        lines.read, lines.entries, lines.unparsed
    );
    for src in engine.sources() {
        let _ = writeln!(
            out,
            "Source: {} ({})",
            visible(src.label.as_bytes()),
            src.describe()
        );
    }
    out
}

/// `1.2s`, `3m05s`, `2h04m`.
pub fn human_ms(ms: u64) -> String {
    let s = ms / 1000;
    if ms < 1000 {
        format!("{ms}ms")
    } else if s < 60 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}
