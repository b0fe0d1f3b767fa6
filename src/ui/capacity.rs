//! The header's capacity figure: `17/20 active, 0 free` coloured by how full the server is
//! (ok under 80 %, warn under 95 %, alarm above), and the last time clients were refused for
//! lack of slots (`refused 3 clients at 12:01:07 (no free slots)`).

use super::app::App;
use super::text;
use super::theme::Theme;
use crate::model::LogTime;
use crate::parse::time::local_clock;
use crate::store::capacity::{Capacity, Level};
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;

/// The style of a fill level: green, yellow, and red in reverse video (which stays visible
/// without colours).
pub fn level_style(th: Theme, level: Level) -> Style {
    match level {
        Level::Unknown => th.title(),
        Level::Ok => th.connect().add_modifier(Modifier::BOLD),
        Level::Warn => th.warning(),
        Level::Alarm => th
            .failure()
            .add_modifier(Modifier::BOLD | Modifier::REVERSED),
    }
}

/// `17/20 active, 0 free`; `15 active (30+ slots, 15 free)` when only refusals taught the
/// slots; `15 active` when nothing is known.
pub fn active_text(c: &Capacity, active: u64) -> String {
    let n = text::count(active);
    match (c.max, c.usable(), c.headroom(active)) {
        (Some(max), _, Some(free)) => format!("{n}/{max} active, {free} free"),
        (None, Some(floor), Some(free)) => format!("{n} active ({floor}+ slots, {free} free)"),
        _ => format!("{n} active"),
    }
}

/// `refused 3 clients at 12:01:07 (no free slots)` (`refused 3 at ...` when `short`), or
/// nothing if no client was refused.
pub fn refused_text(c: &Capacity, now: LogTime, short: bool) -> Option<String> {
    let t = c.last_refused?;
    let at = if local_clock(t).get(..10) == local_clock(now).get(..10) {
        text::clock(t)
    } else {
        local_clock(t)
    };
    let n = if short {
        text::count(c.refused_burst)
    } else {
        text::counted(c.refused_burst, "client", "clients")
    };
    Some(format!("refused {n} at {at} (no free slots)"))
}

/// `15/20` (`15/30+` when only refusals taught the slots), or nothing when nothing is known.
pub fn server_text(c: &Capacity, active: u64) -> Option<String> {
    let n = text::count(active);
    match (c.max, c.usable()) {
        (Some(max), _) => Some(format!("{n}/{max}")),
        (None, Some(floor)) => Some(format!("{n}/{floor}+")),
        _ => None,
    }
}

/// The header's spans: the active count against the server's slots, then the refusals.
/// Slots are the server's: under a filter, `filtered` comes first and the server-wide figure
/// follows in brackets (`● 9 active (server 15/20)`), without the refusals, to leave room for
/// the filter.
pub fn header_spans(app: &App, filtered: u64) -> Vec<Span<'static>> {
    let th = app.theme;
    let store = &app.engine.store;
    let c = store.capacity();
    let active = store.active_now();
    if store.is_fleet() {
        // Slots are each server's own; the store learns them for the whole input, so a sum
        // over servers would read as one server's headroom. The count alone, then.
        return vec![Span::styled(
            format!("● {} active", text::count(filtered)),
            th.title(),
        )];
    }
    let level = c.level(active);
    if !app.filter.is_empty() {
        let mut v = vec![Span::styled(
            format!("● {} active", text::count(filtered)),
            th.title(),
        )];
        if let Some(server) = server_text(c, active) {
            v.push(Span::raw(" "));
            v.push(Span::styled(
                format!("(server {server})"),
                level_style(th, level),
            ));
        }
        return v;
    }
    let mut v = vec![Span::styled(
        format!("● {}", active_text(c, active)),
        level_style(th, level),
    )];
    if let Some(r) = refused_text(c, store.now(), app.size.0 < 100) {
        v.push(Span::styled(" · ", th.dim()));
        v.push(Span::styled(r, th.failure().add_modifier(Modifier::BOLD)));
    }
    v
}
