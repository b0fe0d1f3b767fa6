//! Export: `e` writes what the current tab shows (the filter applied) to a JSON file, `E` to a
//! CSV file, in the export directory (the current one), named
//! `pgconn-top-<tab>-<YYYYMMDD-HHMMSS>.<ext>` by the wall clock; the footer says where, or why
//! not.
//!
//! Summary: JSON holds the headline figures, the four tables and the sessions in the order
//! shown; CSV holds the sessions table. History: the buckets of the window, newest last. Watch:
//! the feed's entries that pass the filter, oldest first.

use super::app::{App, Tab};
use crate::feedline;
use crate::parse::time::rfc3339;
use crate::sanitize::lossy;
use crate::store::intern::Dim;
use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// The two file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

/// A table: the header, then rows of cells.
type Table = (Vec<&'static str>, Vec<Vec<String>>);

/// The file name for `tab` at wall time `millis` (UTC).
pub fn file_name(tab: Tab, millis: i64, format: Format) -> String {
    let t = chrono::DateTime::from_timestamp_millis(millis).unwrap_or_default();
    format!(
        "pgconn-top-{}-{}.{}",
        tab.title().to_ascii_lowercase(),
        t.format("%Y%m%d-%H%M%S"),
        match format {
            Format::Json => "json",
            Format::Csv => "csv",
        }
    )
}

/// One CSV cell: quoted when it holds a comma, quote or line break; a leading `= + - @` (a
/// formula to a spreadsheet) gets a `'` before it.
fn cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The table as CSV text.
pub fn csv((header, rows): &Table) -> String {
    let mut out = header.join(",");
    out.push('\n');
    for r in rows {
        let line: Vec<String> = r.iter().map(|c| cell(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

fn sessions_table(app: &App) -> Table {
    let now = app.reference_millis();
    let rows = app
        .session_rows()
        .iter()
        .map(|s| {
            vec![
                s.pid.to_string(),
                lossy(&s.user),
                lossy(&s.database),
                s.application.as_deref().map(lossy).unwrap_or_default(),
                lossy(&s.host),
                s.port.map(|p| p.to_string()).unwrap_or_default(),
                rfc3339(s.since),
                ((now - s.since.millis).max(0) / 1000).to_string(),
            ]
        })
        .collect();
    (
        vec![
            "pid",
            "user",
            "database",
            "application",
            "host",
            "port",
            "connected_at",
            "age_s",
        ],
        rows,
    )
}

fn history_table(app: &App) -> Table {
    let h = app.history;
    let rows = app
        .engine
        .store
        .history_view(&app.filter, h.bucket_secs, Some(h.window_secs))
        .iter()
        .map(|b| {
            vec![
                rfc3339(b.start),
                b.connects.to_string(),
                b.disconnects.to_string(),
                b.lost.to_string(),
                (b.connects - b.disconnects - b.lost).to_string(),
                b.failures.to_string(),
                b.active_peak.to_string(),
                b.active_end.to_string(),
            ]
        })
        .collect();
    (
        vec![
            "start",
            "connects",
            "disconnects",
            "lost",
            "net",
            "failures",
            "active_peak",
            "active_end",
        ],
        rows,
    )
}

const FEED_COLUMNS: [&str; 11] = [
    "time",
    "kind",
    "pid",
    "user",
    "database",
    "application",
    "host",
    "port",
    "duration_s",
    "reason",
    "source",
];

fn feed_json(app: &App) -> Vec<Value> {
    let store = &app.engine.store;
    app.visible_feed()
        .iter()
        .map(|e| feedline::json_line(store, e))
        .collect()
}

/// The Failures tab's rows in its sort order: user x host x reason with counts and rates.
fn failures_table(app: &App) -> Table {
    let v = app
        .engine
        .store
        .failure_view(&app.filter, app.failures.sort);
    let rows = v
        .rows
        .iter()
        .map(|r| {
            vec![
                lossy(&r.user),
                lossy(&r.host),
                crate::store::failures::reason_words(r.reason).to_string(),
                r.count.to_string(),
                format!("{:.1}", r.per_minute),
                rfc3339(r.first),
                rfc3339(r.last),
                r.brute_force.to_string(),
            ]
        })
        .collect();
    let header = vec![
        "user",
        "host",
        "reason",
        "count",
        "per_minute",
        "first_seen",
        "last_seen",
        "brute_force",
    ];
    (header, rows)
}

fn feed_table(app: &App) -> Table {
    let text = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let rows = feed_json(app)
        .iter()
        .map(|v| FEED_COLUMNS.iter().map(|k| text(&v[*k])).collect())
        .collect();
    (FEED_COLUMNS.to_vec(), rows)
}

/// Rows of a table as JSON objects keyed by the header.
fn objects((header, rows): &Table) -> Vec<Value> {
    rows.iter()
        .map(|r| {
            let m: Map<String, Value> = header
                .iter()
                .zip(r)
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            Value::Object(m)
        })
        .collect()
}

/// What the current tab shows, as one JSON value.
pub fn tab_json(app: &App) -> Value {
    let store = &app.engine.store;
    let filter = app.filter.to_text();
    let mut v = match app.tab {
        Tab::Summary => {
            let s = store.summary(&app.filter);
            let map = |rows: &[(crate::store::intern::Name, u64)]| {
                let m: Map<String, Value> =
                    rows.iter().map(|(k, n)| (lossy(k), json!(n))).collect();
                Value::Object(m)
            };
            let mut v = json!({
                "active_total": s.active_total,
                "connects": s.connects,
                "disconnects": s.disconnects,
                "lost": s.lost,
                "terminated": s.terminated,
                "failures": {
                    "total": s.failures_total,
                    "by_reason": s.failures_by_reason.iter().map(|(r, n)| (r.key().to_string(), json!(n))).collect::<Map<String, Value>>(),
                    "by_user": map(&s.failures_by_user),
                    "by_host": map(&s.failures_by_host),
                },
                "sessions": objects(&sessions_table(app)),
                "setup_times": crate::report::setup_times_json(store),
            });
            for d in Dim::ALL {
                if d != Dim::Server || store.is_fleet() {
                    v[format!("by_{}", d.key())] = map(s.by(d));
                }
            }
            v
        }
        Tab::History => json!({
            "bucket_seconds": app.history.bucket_secs,
            "window_seconds": app.history.window_secs,
            "buckets": objects(&history_table(app)),
        }),
        Tab::Watch => json!({"events": feed_json(app)}),
        Tab::Failures => json!({"failures": objects(&failures_table(app))}),
    };
    v["tab"] = json!(app.tab.title().to_ascii_lowercase());
    v["filter"] = json!(filter);
    v["log_time"] = json!((store.now().millis != 0).then(|| rfc3339(store.now())));
    v
}

/// What the current tab shows, as CSV.
pub fn tab_csv(app: &App) -> String {
    csv(&match app.tab {
        Tab::Summary => sessions_table(app),
        Tab::History => history_table(app),
        Tab::Watch => feed_table(app),
        Tab::Failures => failures_table(app),
    })
}

/// Writes the current tab to a new file in `app.export_dir`; the sentence the footer shows.
pub fn export(app: &App, format: Format) -> (Option<PathBuf>, String) {
    let name = file_name(app.tab, app.wall(), format);
    let path = app.export_dir.join(&name);
    let body = match format {
        Format::Json => serde_json::to_string_pretty(&tab_json(app)).unwrap_or_default() + "\n",
        Format::Csv => tab_csv(app),
    };
    let shown = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
    let write = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, body.as_bytes()));
    match write {
        Ok(()) => (
            Some(path),
            format!("{} written to {}", app.tab.title(), shown.display()),
        ),
        Err(e) => (
            None,
            format!(
                "could not write ({}) {}",
                crate::sanitize::visible(e.kind().to_string().as_bytes()),
                shown.display()
            ),
        ),
    }
}
