//! The wording of one live-feed event, shared by `--stream` and anything that prints events:
//! `[+]` connect, `[-]` disconnect with session time, `[!]` failure with its reason, `[*]` reset.

use crate::model::{EndCause, ServerChange};
use crate::parse::time::{local_clock, rfc3339};
use crate::report::human_ms;
use crate::sanitize::{lossy, visible};
use crate::store::feed::{FeedEvent, FeedKind};
use crate::store::filter::display_name;
use crate::store::intern::{Dim, UNKNOWN};
use crate::store::Store;
use serde_json::{json, Value};

/// The marker of an event: `[+]` connect, `[x]` connect then refused, `[-]` disconnect,
/// `[!]` failure, `[*]` server reset.
pub fn marker(e: &FeedEvent) -> &'static str {
    match e.kind {
        FeedKind::Connect if e.refused => "[x]",
        FeedKind::Connect => "[+]",
        FeedKind::Disconnect { .. } => "[-]",
        FeedKind::Failed { .. } => "[!]",
        FeedKind::Reset { .. } => "[*]",
    }
}

fn cause_text(c: EndCause) -> &'static str {
    match c {
        EndCause::Administrator => "terminated by an administrator",
        EndCause::IdleTimeout => "idle timeout",
        EndCause::ClientLost => "client lost",
        EndCause::ServerSide => "ended by the server",
    }
}

fn change_text(c: ServerChange) -> &'static str {
    match c {
        ServerChange::Starting => "server starting",
        ServerChange::Ready => "server ready",
        ServerChange::ShutdownRequested => "shutdown requested",
        ServerChange::ShutDown => "server shut down",
        ServerChange::CrashReset => "server crashed and reset",
        ServerChange::Reinitializing => "server reinitializing",
    }
}

/// What happened, as text with every name made visible-safe (no time, marker or pid):
/// `rails connected from 10.0.1.5 (user: app_user, db: production)`.
pub fn describe(store: &Store, e: &FeedEvent) -> String {
    let names = store.names();
    let c = names.combo_of(e.combo);
    let name = |s| visible(names.name(s));
    let who = display_name(names, c.application);
    let host = name(c.host);
    let whom = format!("(user: {}, db: {})", name(c.user), name(c.database));
    match e.kind {
        FeedKind::Connect if e.refused => {
            let port = e.port.map(|p| format!(":{p}")).unwrap_or_default();
            format!("{who} connected from {host}{port} {whom}, then refused")
        }
        FeedKind::Connect => format!("{who} connected from {host} {whom}"),
        FeedKind::Disconnect { millis, cause } => {
            let after = millis
                .map(|m| format!(" after {}", human_ms(m)))
                .unwrap_or_default();
            let why = cause
                .map(|c| format!(", {}", cause_text(c)))
                .unwrap_or_default();
            format!("{who} disconnected from {host}{after}{why} {whom}")
        }
        FeedKind::Failed { reason } => {
            format!("connection failed: {} from {host} {whom}", reason.key())
        }
        FeedKind::Reset { change, ended: 0 } => change_text(change).to_string(),
        FeedKind::Reset { change, ended } => {
            format!("{}: {ended} session(s) ended", change_text(change))
        }
    }
}

/// `prod: ` with more than one server (the event's server, visible-safe), else nothing.
pub fn server_prefix(store: &Store, e: &FeedEvent) -> String {
    if !store.is_fleet() {
        return String::new();
    }
    let names = store.names();
    let c = names.combo_of(e.combo);
    format!("{}: ", display_name(names, c.server))
}

/// `2026-11-27 20:21:03 [+] rails connected from ...`; with more than one server
/// `2026-11-27 20:21:03 [+] prod: rails connected from ...`.
pub fn text_line(store: &Store, e: &FeedEvent) -> String {
    let pid = if matches!(e.kind, FeedKind::Reset { .. }) {
        String::new()
    } else {
        format!(" pid {}", e.pid)
    };
    format!(
        "{} {} {}{}{pid}",
        local_clock(e.time),
        marker(e),
        server_prefix(store, e),
        describe(store, e)
    )
}

/// The event as one JSON object (names kept intact, invalid UTF-8 replaced); with more than
/// one server it carries `server` (a reset too).
pub fn json_line(store: &Store, e: &FeedEvent) -> Value {
    let names = store.names();
    let c = names.combo_of(e.combo);
    let opt = |s| (s != UNKNOWN).then(|| lossy(names.name(s)));
    let (kind, duration, reason) = match e.kind {
        FeedKind::Connect => ("connect", None, None),
        FeedKind::Disconnect { millis, .. } => {
            ("disconnect", millis.map(|m| m as f64 / 1000.0), None)
        }
        FeedKind::Failed { reason } => ("failed", None, Some(reason.key())),
        FeedKind::Reset { .. } => ("reset", None, None),
    };
    let mut v = json!({
        "time": rfc3339(e.time),
        "kind": kind,
        "pid": e.pid,
        "port": e.port,
        "duration_s": duration,
        "reason": reason,
        "source": e.source,
    });
    for d in Dim::CLIENT {
        v[d.key()] = json!(opt(c.get(d)));
    }
    if store.is_fleet() {
        v["server"] = json!(lossy(names.name(c.server)));
    }
    if let FeedKind::Reset { ended, change } = e.kind {
        v["ended"] = json!(ended);
        v["change"] = json!(change_text(change));
        v["pid"] = Value::Null;
        for d in Dim::CLIENT {
            v[d.key()] = Value::Null;
        }
    }
    v
}
