//! Widgets drawn over a tab: the help, a session's details, the clear confirmation and the
//! filter input line.

use super::app::{App, FilterInput, Tab};
use super::details;
use super::keys::{self, Scope, CONFIRM_HELP, FILTER_HELP, FILTER_SYNTAX};
use super::text;
use super::theme::Theme;
use crate::parse::time::local_clock;
use crate::store::filter::{Filter, NONE_LABEL};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Flex, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget, Wrap};

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(r);
    r
}

/// Every key, by where it works, and the filter syntax; scrolls when the terminal is short.
pub struct Help<'a> {
    pub app: &'a App,
}

/// The help's lines.
fn help_lines(th: Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let row = |k: &str, what: &str| {
        Line::from(vec![
            Span::styled(format!("  {k:<15}"), th.key()),
            Span::raw(what.to_string()),
        ])
    };
    let groups = [
        ("Everywhere", Scope::Global),
        ("Summary, Watch and Failures", Scope::Lists),
        ("All tabs but Watch", Scope::Except(Tab::Watch)),
        ("Summary", Scope::On(Tab::Summary)),
        ("History", Scope::On(Tab::History)),
        ("Watch", Scope::On(Tab::Watch)),
        ("Failures", Scope::On(Tab::Failures)),
    ];
    for (title, scope) in groups {
        lines.push(Line::styled(title, th.title()));
        for b in keys::NORMAL
            .iter()
            .filter(|b| b.scope == scope && !b.help.is_empty())
        {
            lines.push(row(b.label, b.help));
        }
    }
    lines.push(Line::styled("Filter line", th.title()));
    for (k, what) in FILTER_HELP {
        lines.push(row(k, what));
    }
    lines.push(Line::styled("Filter syntax (AND across keys)", th.title()));
    for (k, what) in FILTER_SYNTAX {
        lines.push(row(k, what));
    }
    lines
}

/// The help's layout over a body `area` of (width, height): (columns, lines per column, lines
/// shown); it scrolls when the lines per column exceed the lines shown.
fn help_layout(n: usize, width: u16, height: u16) -> (u16, usize, usize) {
    let tall = n as u16 + 2 > height;
    let columns: u16 = if tall && width >= 2 * 64 { 2 } else { 1 };
    let per = n.div_ceil(usize::from(columns));
    let shown = usize::from((per as u16 + 2).min(height).saturating_sub(2));
    (columns, per, shown)
}

/// How far the help scrolls on a terminal of `size` (header, tab bar and footer take 5 lines).
pub fn help_max_scroll(size: (u16, u16)) -> usize {
    let n = help_lines(Theme::default()).len();
    let (_, per, shown) = help_layout(n, size.0, size.1.saturating_sub(5));
    per.saturating_sub(shown)
}

impl Widget for Help<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let th = self.app.theme;
        let lines = help_lines(th);
        let n = lines.len();
        // Two columns when one does not fit the height (but the width allows); else it scrolls.
        let (columns, per, shown) = help_layout(n, area.width, area.height);
        let r = centered(area, 64 * columns, per as u16 + 2);
        Clear.render(r, buf);
        let scrolls = per > shown;
        let top = self.app.help_scroll.min(per.saturating_sub(shown));
        let bottom = if scrolls {
            format!(
                " ↑↓ PgUp PgDn scroll · {}-{} of {n} · Esc closes ",
                top + 1,
                (top + shown).min(n)
            )
        } else {
            " Esc closes ".to_string()
        };
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(th.focus())
            .title(" Keys ")
            .title_bottom(bottom);
        let inner = block.inner(r);
        block.render(r, buf);
        let cols = Layout::horizontal(vec![
            Constraint::Ratio(1, u32::from(columns));
            usize::from(columns)
        ])
        .split(inner);
        let mut rest = lines;
        for col in cols.iter() {
            let tail = rest.split_off(per.min(rest.len()));
            Paragraph::new(std::mem::replace(&mut rest, tail))
                .scroll((top as u16, 0))
                .render(*col, buf);
        }
    }
}

/// The details of one open session: who, from where, since when.
pub struct Details<'a> {
    pub app: &'a App,
    pub source: u16,
    pub pid: u32,
}

impl Widget for Details<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.app;
        let th = app.theme;
        let all = app.engine.store.active_sessions(&Filter::default());
        let s = all
            .iter()
            .find(|s| s.source == self.source && s.pid == self.pid);
        let row = |k: &str, v: Span<'static>| {
            Line::from(vec![Span::styled(format!(" {k:<13}"), th.title()), v])
        };
        let lines = match s {
            None => vec![Line::styled(
                format!(" session {} has ended", self.pid),
                th.dim(),
            )],
            Some(s) => {
                let host = match s.port {
                    Some(p) => format!("{}:{p}", text::app_name(&s.host)),
                    None => text::app_name(&s.host),
                };
                let mut v = vec![
                    row("pid", Span::raw(s.pid.to_string())),
                    row("user", Span::raw(text::app_name(&s.user))),
                    row("database", Span::raw(text::app_name(&s.database))),
                    row(
                        "application",
                        match &s.application {
                            Some(a) => Span::raw(text::app_name(a)),
                            None => Span::styled(NONE_LABEL, th.dim()),
                        },
                    ),
                    row("host:port", Span::raw(host)),
                    row("connected at", Span::raw(local_clock(s.since))),
                    row(
                        "age",
                        Span::raw(text::age(app.reference_millis() - s.since.millis)),
                    ),
                ];
                if app.engine.sources().len() > 1 {
                    let label = app
                        .engine
                        .sources()
                        .get(usize::from(s.source))
                        .map_or_else(String::new, |x| text::name(x.label.as_bytes()));
                    v.push(row("log", Span::raw(label)));
                }
                if let Some(d) = app.engine.store.session_details(s.source, s.pid) {
                    let room = usize::from(area.height.saturating_sub(2)).saturating_sub(v.len());
                    v.extend(details::lines(app, &d, room));
                }
                v
            }
        };
        let width = if area.width >= 100 { 84 } else { 72 };
        let r = centered(area, width, lines.len() as u16 + 2);
        Clear.render(r, buf);
        Paragraph::new(lines)
            .block(
                Block::bordered()
                    .border_type(BorderType::Rounded)
                    .border_style(th.focus())
                    .title(format!(" Session {} ", self.pid))
                    .title_bottom(" Esc closes "),
            )
            .render(r, buf);
    }
}

/// Asks y/n before clearing every statistic.
pub struct Confirm<'a> {
    pub app: &'a App,
}

impl Widget for Confirm<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let th = self.app.theme;
        let r = centered(area, 52, 5);
        Clear.render(r, buf);
        let keys: Vec<Span> = CONFIRM_HELP
            .iter()
            .flat_map(|(k, w)| {
                [
                    Span::styled(k.to_string(), th.key()),
                    Span::raw(format!(" {w}   ")),
                ]
            })
            .collect();
        Paragraph::new(vec![
            Line::raw("Clear all statistics, history and the feed?"),
            Line::raw(""),
            Line::from(keys),
        ])
        .wrap(Wrap { trim: true })
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .border_style(th.warning())
                .title(" Clear "),
        )
        .render(r, buf);
    }
}

/// The filter input line, with its error if the last Enter was refused.
pub struct FilterLine<'a> {
    pub app: &'a App,
    pub input: &'a FilterInput,
}

/// A one-line text input in a rounded box: `label`, then the typed text (shown as selected
/// while the first key would replace it), `title` on the border. The filter and the search
/// share it.
pub(super) fn input_line<'a>(
    th: Theme,
    label: &'a str,
    input: &FilterInput,
    title: Span<'a>,
    border: ratatui::style::Style,
) -> Paragraph<'a> {
    let typed = text::name(input.text.as_bytes());
    Paragraph::new(Line::from(vec![
        Span::styled(label, th.key()),
        if input.selected {
            Span::styled(typed, th.selected())
        } else {
            Span::raw(typed)
        },
    ]))
    .block(
        Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(border)
            .title(title),
    )
}

impl FilterLine<'_> {
    /// Where the cursor goes in `area`.
    pub fn cursor(area: Rect, input: &FilterInput) -> Option<Position> {
        let before: String = input.text.chars().take(input.cursor).collect();
        let w = unicode_width::UnicodeWidthStr::width(text::name(before.as_bytes()).as_str());
        let x = area.x + 1 + 9 + w as u16;
        (x < area.right().saturating_sub(1)).then_some(Position::new(x, area.y + 1))
    }
}

impl Widget for FilterLine<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let th = self.app.theme;
        Clear.render(area, buf);
        let (title, style) = match &self.input.error {
            Some(e) => (format!(" {e} "), th.failure()),
            None => (
                " db=a,b user!=x app~re app=(none) · Enter applies · Esc cancels ".to_string(),
                th.focus(),
            ),
        };
        input_line(
            th,
            " filter: ",
            self.input,
            Span::styled(title, style),
            style,
        )
        .render(area, buf);
    }
}
