//! Widgets drawn over a tab: the help, the clear confirmation and the filter input line.

use super::app::{App, FilterInput, Tab};
use super::keys::{self, Scope, CONFIRM_HELP, FILTER_HELP};
use super::text;
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

/// Every key, by where it works.
pub struct Help<'a> {
    pub app: &'a App,
}

impl Widget for Help<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let th = self.app.theme;
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
        // Two columns when one does not fit the height (but the width allows).
        let tall = lines.len() as u16 + 2 > area.height;
        let columns: u16 = if tall && area.width >= 2 * 64 { 2 } else { 1 };
        let per = lines.len().div_ceil(usize::from(columns));
        let r = centered(area, 64 * columns, per as u16 + 2);
        Clear.render(r, buf);
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(th.focus())
            .title(" Keys ")
            .title_bottom(if tall && columns == 1 {
                " Esc closes · a taller terminal shows every key "
            } else {
                " Esc closes "
            });
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
            Paragraph::new(std::mem::replace(&mut rest, tail)).render(*col, buf);
        }
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
                " db=X user=Y app=\"a b\" host=W · Enter applies · Esc cancels ".to_string(),
                th.focus(),
            ),
        };
        Paragraph::new(Line::from(vec![
            Span::styled(" filter: ", th.key()),
            Span::raw(text::name(self.input.text.as_bytes())),
        ]))
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .border_style(style)
                .title(Span::styled(title, style)),
        )
        .render(area, buf);
    }
}
