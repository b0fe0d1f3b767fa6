//! The frame around the tabs: header (sources, clocks, totals, filter, server), tab bar, footer.

use super::app::{App, Mode, Tab};
use super::fitline::{fit, Seg};
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
        let w = usize::from(area.width);
        Paragraph::new(vec![totals(app, w), sources(app, w), clocks(app, w)]).render(area, buf);
    }
}

/// Whether lines are arriving (a rate over the last seconds).
fn arriving(app: &App) -> bool {
    app.lines_per_sec() > 0.0
}

/// How long the log has been quiet: wall time since its newest line, when lines are not
/// arriving and that is more than a minute.
fn idle_ms(app: &App) -> Option<i64> {
    let log = app.engine.store.now().millis;
    let quiet = app.wall() - log;
    (log != 0 && !arriving(app) && quiet > 60_000).then_some(quiet)
}

/// Active count, totals and the filter in force.
fn totals(app: &App, max: usize) -> Line<'static> {
    let th = app.theme;
    let store = &app.engine.store;
    let s = store.summary(&app.filter);
    let mut segs = Vec::new();
    let mut head = vec![Span::styled(" pgconn-top ", th.title())];
    if app.demo {
        head.push(Span::styled(" DEMO ", th.badge()));
        head.push(Span::raw(" "));
    }
    // `● N/max active, F free` (under a filter, with the server's figure after it), then the
    // last refusal for lack of slots: it shortens after the totals and goes last.
    head.extend(
        super::capacity::header_spans(app, s.active_total)
            .into_iter()
            .take(if app.filter.is_empty() { 1 } else { usize::MAX }),
    );
    segs.push(Seg::new(
        1,
        0,
        head.clone(),
        Some(head.into_iter().skip(1).collect()),
    ));
    if app.filter.is_empty() {
        let c = app.engine.store.capacity();
        let now = app.engine.store.now();
        if let (Some(full), Some(short)) = (
            super::capacity::refused_text(c, now, false),
            super::capacity::refused_text(c, now, true),
        ) {
            let style = th.failure().add_modifier(ratatui::style::Modifier::BOLD);
            segs.push(Seg::new(
                2,
                1,
                vec![Span::styled(full, style)],
                Some(vec![Span::styled(short, style)]),
            ));
        }
    }
    let counted = |n, one, many, style| {
        let full = text::counted(n, one, many);
        let short = format!("{}{}", text::count(n), &one[..1]);
        Seg::new(
            3,
            0,
            vec![Span::styled(full, style)],
            Some(vec![Span::styled(short, style)]),
        )
    };
    segs.push(counted(s.connects, "connect", "connects", th.connect()));
    segs.push(counted(
        s.disconnects,
        "disconnect",
        "disconnects",
        th.disconnect(),
    ));
    segs.push(Seg::new(
        2,
        0,
        vec![Span::styled(
            text::counted(s.failures_total, "failure", "failures"),
            th.failure(),
        )],
        Some(vec![Span::styled(
            format!("{}f", text::count(s.failures_total)),
            th.failure(),
        )]),
    ));
    if app.filter.is_empty() {
        segs.push(Seg::drop(4, vec![Span::styled("no filter", th.dim())]));
    } else {
        let f = text::name(app.filter.to_text().as_bytes());
        segs.push(Seg::new(
            2,
            0,
            vec![
                Span::styled("filter: ", th.dim()),
                Span::styled(f.clone(), th.warning()),
            ],
            Some(vec![Span::styled(text::fit(&f, 24), th.warning())]),
        ));
    }
    fit(Span::raw(""), segs, &sep(app), max)
}

/// Each source with its format and prefix (or why it has none) and its state (replaying,
/// live, idle), then lines read and lines/s.
fn sources(app: &App, max: usize) -> Line<'static> {
    let th = app.theme;
    let mut segs = Vec::new();
    let sources = app.engine.sources();
    if sources.is_empty() {
        segs.push(Seg::keep(vec![Span::styled("no log source", th.dim())]));
    }
    let idle = idle_ms(app);
    let now = app.engine.store.now();
    for (i, src) in sources.iter().enumerate() {
        let label = text::name(src.label.as_bytes());
        let base = match src.label.strip_prefix('!') {
            // A command source: its program and the host it reaches.
            Some(cmd) => format!("!{}", crate::source::command::server_name(cmd)),
            None => label.rsplit('/').next().unwrap_or(&label).to_string(),
        };
        let warnings = crate::engine::warnings::source_warnings(src);
        let why = match warnings.first() {
            Some(w) if src.format().is_none() => {
                Span::styled(format!(" ({})", text::name(w.as_bytes())), th.failure())
            }
            _ => Span::styled(
                format!(" ({})", text::name(src.describe().as_bytes())),
                th.dim(),
            ),
        };
        // The format and prefix go first, then the directories of the path.
        segs.push(Seg::new(
            4,
            0,
            vec![Span::raw(label), why],
            Some(vec![Span::raw(base)]),
        ));
        if let Some(n) = app.notes.get(i) {
            if let Some((done, total)) = n.progress {
                let pct = (done * 100).checked_div(total).unwrap_or(100);
                segs.push(Seg::keep(vec![Span::styled(
                    format!("replaying {pct}%"),
                    th.warning(),
                )]));
            } else if n.caught_up {
                segs.push(Seg::keep(vec![match idle {
                    // An old file that is not growing is not live.
                    Some(_) => Span::styled(
                        format!("idle since {}", when(now, wall_of(app))),
                        th.warning(),
                    ),
                    None => Span::styled("live", th.connect()),
                }]));
            }
            if let Some(m) = &n.status {
                let m = text::name(m.as_bytes());
                segs.push(Seg::new(
                    2,
                    0,
                    vec![Span::styled(m.clone(), th.warning())],
                    Some(vec![Span::styled(text::fit(&m, 40), th.warning())]),
                ));
            }
        }
    }
    let lines = app.engine.line_stats();
    segs.push(Seg::drop(
        2,
        vec![Span::raw(format!("{} lines", text::count(lines.read)))],
    ));
    segs.push(Seg::drop(
        3,
        vec![Span::raw(format!("{:.0} lines/s", app.lines_per_sec()))],
    ));
    fit(Span::raw(" "), segs, &sep(app), max)
}

/// The wall clock as a log time in the log's zone.
fn wall_of(app: &App) -> LogTime {
    LogTime {
        millis: app.wall(),
        offset_secs: app.engine.store.now().offset_secs,
    }
}

/// Log time against wall time, and the server's state.
fn clocks(app: &App, max: usize) -> Line<'static> {
    let th = app.theme;
    let store = &app.engine.store;
    let now = store.now();
    let wall = wall_of(app);
    let mut segs = Vec::new();
    if now.millis == 0 {
        segs.push(Seg::keep(vec![Span::styled(
            "log time: none yet",
            th.dim(),
        )]));
        segs.push(Seg::drop(
            2,
            vec![Span::raw(format!("wall {}", text::clock(wall)))],
        ));
    } else {
        segs.push(Seg::new(
            4,
            0,
            vec![Span::raw(format!(
                "log {} {}",
                local_clock(now),
                text::offset(now.offset_secs)
            ))],
            Some(vec![Span::raw(format!("log {}", when(now, wall)))]),
        ));
        let lag = wall.millis - now.millis;
        // A lag is only "behind" while lines arrive; a quiet log is quiet, not late.
        let state = if lag.abs() < 2000 {
            "in step".to_string()
        } else if lag > 0 && arriving(app) {
            format!("log {} behind", human_ms(lag as u64))
        } else if lag > 0 {
            format!("quiet for {}", human_ms(lag as u64))
        } else {
            format!("log {} ahead", human_ms(lag.unsigned_abs()))
        };
        segs.push(Seg::new(
            3,
            0,
            vec![Span::raw(format!("wall {} ({state})", when(wall, now)))],
            Some(vec![Span::raw(state)]),
        ));
    }
    if fleet_states(app, &mut segs) {
        return fit(Span::raw(" "), segs, &sep(app), max);
    }
    let srv = store.server();
    segs.push(match srv.up_since {
        Some(t) => Seg::new(
            2,
            1,
            vec![Span::styled(
                format!("server up since {}", when(t, now)),
                th.connect(),
            )],
            Some(vec![Span::styled(
                format!("up {}", when(t, now)),
                th.connect(),
            )]),
        ),
        None if srv.last_restart.is_some() || srv.last_crash.is_some() => {
            Seg::keep(vec![Span::styled(
                "server down or restarting",
                th.failure(),
            )])
        }
        None => Seg::drop(
            3,
            vec![Span::styled("server start not in the log", th.dim())],
        ),
    });
    if let Some(t) = srv.last_restart {
        segs.push(Seg::new(
            2,
            2,
            vec![Span::raw(format!("last restart {}", when(t, now)))],
            Some(vec![Span::raw(format!("restart {}", when(t, now)))]),
        ));
    }
    if let Some(t) = srv.last_crash {
        segs.push(Seg::keep(vec![Span::styled(
            format!("last crash {}", when(t, now)),
            th.failure(),
        )]));
    }
    fit(Span::raw(" "), segs, &sep(app), max)
}

/// With several servers: each one's own state (`prod up since 09:12:03`, `db3 down or restarting`,
/// `db3 crashed at 10:01:40`) instead of one server's; false (nothing added) for one server.
fn fleet_states(app: &App, segs: &mut Vec<Seg>) -> bool {
    let th = app.theme;
    let states = app.engine.store.servers();
    if states.iter().filter(|s| !s.name.is_empty()).count() < 2 {
        return false;
    }
    for st in states.iter().filter(|s| !s.name.is_empty()) {
        let name = text::name(st.name.as_bytes());
        let i = &st.info;
        let (what, style) = match (i.up_since, i.last_crash) {
            (_, Some(c)) if !matches!(i.up_since, Some(u) if u.millis > c.millis) => {
                (format!("crashed at {}", when(c, st.now)), th.failure())
            }
            (Some(t), _) => (format!("up since {}", when(t, st.now)), th.connect()),
            (None, _) if i.last_restart.is_some() => {
                ("down or restarting".to_string(), th.failure())
            }
            (None, _) => ("start not in the log".to_string(), th.dim()),
        };
        segs.push(Seg::keep(vec![Span::styled(
            format!("{name} {what}"),
            style,
        )]));
    }
    true
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
            Mode::Help => vec![
                ("Esc ? q", "close help"),
                ("↑↓ PgUp PgDn", "scroll"),
                ("Ctrl-C", "quit"),
            ],
            Mode::Details(..) => vec![("Esc Enter", "close"), ("Ctrl-C", "quit")],
            Mode::Confirm => CONFIRM_HELP.to_vec(),
            Mode::Filter(_) | Mode::Search(_) => FILTER_HELP.to_vec(),
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
