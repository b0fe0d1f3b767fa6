//! The frame around the tabs: header (sources, clocks, totals, filter, server), tab bar, footer.

use super::app::{App, Mode, Tab};
use super::keys::{self, CONFIRM_HELP, FILTER_HELP};
use super::text;
use crate::model::LogTime;
use crate::parse::time::local_clock;
use crate::report::human_ms;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// A time as `HH:MM:SS` on the log's current day, with the date otherwise.
fn when(t: LogTime, now: LogTime) -> String {
    let (a, b) = (local_clock(t), local_clock(now));
    if a.get(..10) == b.get(..10) {
        text::clock(t)
    } else {
        a
    }
}

/// Three lines: totals and filter; sources and reading rate; clocks and server state.
pub struct Header<'a> {
    pub app: &'a App,
}

fn sep(app: &App) -> Span<'static> {
    Span::styled(" · ", app.theme.dim())
}

impl Widget for Header<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.app;
        Paragraph::new(vec![totals(app), sources(app), clocks(app)]).render(area, buf);
    }
}

/// Active count, totals and the filter in force.
fn totals(app: &App) -> Line<'static> {
    let th = app.theme;
    let store = &app.engine.store;
    let s = store.summary(&app.filter);
    let mut l1 = vec![Span::styled(" pgconn-top ", th.title())];
    if app.demo {
        l1.push(Span::styled(" DEMO ", th.badge()));
        l1.push(Span::raw(" "));
    }
    l1.extend(super::capacity::header_spans(app, s.active_total));
    l1.extend([
        sep(app),
        Span::styled(
            text::counted(s.connects, "connect", "connects"),
            th.connect(),
        ),
        sep(app),
        Span::styled(
            text::counted(s.disconnects, "disconnect", "disconnects"),
            th.disconnect(),
        ),
        sep(app),
        Span::styled(
            text::counted(s.failures_total, "failure", "failures"),
            th.failure(),
        ),
        sep(app),
    ]);
    if app.filter.is_empty() {
        l1.push(Span::styled("no filter", th.dim()));
    } else {
        l1.push(Span::styled("filter: ", th.dim()));
        l1.push(Span::styled(
            text::name(app.filter.to_text().as_bytes()),
            th.warning(),
        ));
    }

    Line::from(l1)
}

/// Each source with its format and prefix (or why it has none), then lines read and lines/s.
fn sources(app: &App) -> Line<'static> {
    let th = app.theme;
    let mut l2 = vec![Span::raw(" ")];
    let sources = app.engine.sources();
    if sources.is_empty() {
        l2.push(Span::styled("no log source", th.dim()));
    }
    for (i, src) in sources.iter().enumerate() {
        if i > 0 {
            l2.push(Span::styled(" | ", th.dim()));
        }
        l2.push(Span::raw(text::name(src.label.as_bytes())));
        let warnings = crate::engine::warnings::source_warnings(src);
        match warnings.first() {
            Some(w) if src.format().is_none() => l2.push(Span::styled(
                format!(" ({})", text::name(w.as_bytes())),
                th.failure(),
            )),
            _ => l2.push(Span::styled(
                format!(" ({})", text::name(src.describe().as_bytes())),
                th.dim(),
            )),
        }
        if let Some(n) = app.notes.get(i) {
            if let Some((done, total)) = n.progress {
                let pct = (done * 100).checked_div(total).unwrap_or(100);
                l2.push(Span::styled(format!(" replaying {pct}%"), th.warning()));
            } else if n.caught_up {
                l2.push(Span::styled(" live", th.connect()));
            }
            if let Some(m) = &n.status {
                l2.push(Span::styled(
                    format!(" {}", text::name(m.as_bytes())),
                    th.warning(),
                ));
            }
        }
    }
    let lines = app.engine.line_stats();
    l2.extend([
        sep(app),
        Span::raw(format!("{} lines", text::count(lines.read))),
        sep(app),
        Span::raw(format!("{:.0} lines/s", app.lines_per_sec())),
    ]);

    Line::from(l2)
}

/// Log time against wall time, and the server's state.
fn clocks(app: &App) -> Line<'static> {
    let th = app.theme;
    let store = &app.engine.store;
    let now = store.now();
    let wall = LogTime {
        millis: app.wall(),
        offset_secs: now.offset_secs,
    };
    let mut l3 = vec![Span::raw(" ")];
    if now.millis == 0 {
        l3.push(Span::styled("log time: none yet", th.dim()));
        l3.push(sep(app));
        l3.push(Span::raw(format!("wall {}", text::clock(wall))));
    } else {
        l3.push(Span::raw(format!(
            "log {} {}",
            local_clock(now),
            text::offset(now.offset_secs)
        )));
        l3.push(sep(app));
        let lag = wall.millis - now.millis;
        let behind = if lag.abs() < 2000 {
            "in step".to_string()
        } else if lag > 0 {
            format!("log {} behind", human_ms(lag as u64))
        } else {
            format!("log {} ahead", human_ms(lag.unsigned_abs()))
        };
        l3.push(Span::raw(format!("wall {} ({behind})", when(wall, now))));
    }
    let srv = store.server();
    l3.push(sep(app));
    match srv.up_since {
        Some(t) => l3.push(Span::styled(
            format!("server up since {}", when(t, now)),
            th.connect(),
        )),
        None if srv.last_restart.is_some() || srv.last_crash.is_some() => {
            l3.push(Span::styled("server down or restarting", th.failure()));
        }
        None => l3.push(Span::styled("server start not in the log", th.dim())),
    }
    if let Some(t) = srv.last_restart {
        l3.push(sep(app));
        l3.push(Span::raw(format!("last restart {}", when(t, now))));
    }
    if let Some(t) = srv.last_crash {
        l3.push(sep(app));
        l3.push(Span::styled(
            format!("last crash {}", when(t, now)),
            th.failure(),
        ));
    }
    Line::from(l3)
}

/// The tab titles with their number keys.
pub struct TabBar<'a> {
    pub app: &'a App,
}

impl Widget for TabBar<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let th = self.app.theme;
        let mut spans = vec![Span::raw(" ")];
        for (i, t) in Tab::ALL.iter().enumerate() {
            let label = format!(" {} {} ", i + 1, t.title());
            let style = if *t == self.app.tab {
                th.tab_active()
            } else {
                th.dim()
            };
            spans.push(Span::styled(label, style));
            spans.push(Span::raw(" "));
        }
        Paragraph::new(Line::from(spans)).render(area, buf);
    }
}

/// `Tab/S-Tab` → `Tab` in the footer (the help lists both); `/` stays `/`.
fn footer_label(label: &str) -> &str {
    match label.split_once('/') {
        Some((first, _)) if !first.is_empty() => first,
        _ => label,
    }
}

/// The keys that work here, one line.
pub struct Footer<'a> {
    pub app: &'a App,
}

impl Widget for Footer<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let th = self.app.theme;
        let pairs: Vec<(&str, &str)> = match &self.app.mode {
            Mode::Normal => keys::NORMAL
                .iter()
                .filter(|b| !b.short.is_empty() && keys::in_scope(b.scope, self.app.tab))
                .map(|b| (footer_label(b.label), b.short))
                .collect(),
            Mode::Help => vec![("Esc ? q", "close help"), ("Ctrl-C", "quit")],
            Mode::Confirm => CONFIRM_HELP.to_vec(),
            Mode::Filter(_) => FILTER_HELP.to_vec(),
        };
        let mut spans = vec![Span::raw(" ")];
        let mut used = 1;
        for (k, what) in pairs {
            let w = k.chars().count() + what.chars().count() + 3;
            if used + w > usize::from(area.width) {
                break;
            }
            used += w;
            spans.push(Span::styled(k.to_string(), th.key()));
            spans.push(Span::raw(format!(" {what}  ")));
        }
        Paragraph::new(Line::from(spans)).render(area, buf);
    }
}
