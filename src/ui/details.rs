//! The lines a session's details add to its names: authentication method and identity, SSL,
//! the PostgreSQL 18 setup times, and its newest lines of the live feed.

use super::app::App;
use super::text;
use crate::feedline;
use crate::store::extras::SessionDetails;
use ratatui::text::{Line, Span};

/// `10.876 ms`.
fn ms(us: u32) -> String {
    format!("{:.3} ms", f64::from(us) / 1000.0)
}

/// The extra lines of `d`, at most `room` of them (the feed lines give way first).
pub fn lines(app: &App, d: &SessionDetails, room: usize) -> Vec<Line<'static>> {
    let th = app.theme;
    let row = |k: &str, v: Span<'static>| {
        Line::from(vec![Span::styled(format!(" {k:<13}"), th.title()), v])
    };
    let unknown = |what: &str| Span::styled(what.to_string(), th.dim());
    let mut v = Vec::new();
    v.push(row(
        "auth method",
        match d.method {
            Some(m) => Span::raw(m.name()),
            None => unknown("not logged (log_connections = on, PostgreSQL 14+)"),
        },
    ));
    if let Some(id) = &d.identity {
        v.push(row("identity", Span::raw(text::name(id))));
    }
    v.push(row(
        "SSL",
        match &d.ssl {
            Some(s) => Span::raw(text::name(s)),
            None => unknown("no"),
        },
    ));
    v.push(row(
        "setup",
        match d.setup {
            Some(t) => Span::raw(format!(
                "total {} · fork {} · authentication {}",
                ms(t.total_us),
                ms(t.fork_us),
                ms(t.auth_us)
            )),
            None => unknown("not logged (PostgreSQL 18, log_connections = all)"),
        },
    ));
    let left = room.saturating_sub(v.len() + 1);
    if left > 0 && !d.lines.is_empty() {
        v.push(Line::styled(" log lines (live feed)", th.title()));
        let store = &app.engine.store;
        for e in &d.lines[d.lines.len().saturating_sub(left)..] {
            v.push(Line::from(vec![
                Span::styled(format!("  {} ", text::clock(e.time)), th.dim()),
                Span::raw(feedline::marker(e)),
                Span::raw(" "),
                Span::raw(feedline::describe(store, e)),
            ]));
        }
    }
    v.truncate(room);
    v
}
