//! The Failures tab: failed connection attempts by user × host × reason with count, rate per
//! minute, first and last seen; hosts that look like password guessing flagged on top and
//! their rows first; sortable (`s`), scrollable, and filtered by the global filter.

use super::app::App;
use super::keys::Action;
use super::text;
use crate::store::failures::{reason_words, FailureSort, FailureView};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, BorderType, Cell, Paragraph, Row, StatefulWidget, Table, TableState, Widget,
};

/// View state of the Failures tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailuresState {
    /// Sort column (descending).
    pub sort: FailureSort,
    /// Selected row.
    pub selected: usize,
}

impl FailuresState {
    /// The next sort column.
    pub fn cycle_sort(&mut self) {
        let all = FailureSort::ALL;
        let p = all.iter().position(|&s| s == self.sort).unwrap_or(0);
        self.sort = all[(p + 1) % all.len()];
        self.selected = 0;
    }

    /// Moves the selection over `len` rows.
    pub fn scroll(&mut self, a: Action, len: usize) {
        let last = len.saturating_sub(1);
        let cur = self.selected.min(last);
        self.selected = match a {
            Action::Up => cur.saturating_sub(1),
            Action::Down => (cur + 1).min(last),
            Action::PageUp => cur.saturating_sub(10),
            Action::PageDown => (cur + 10).min(last),
            Action::Home => 0,
            _ => last,
        };
    }
}

/// Draws the Failures tab from the app state.
pub struct FailuresView<'a> {
    pub app: &'a App,
}

/// `12.5/min`, `0.2/min`, `—` for none.
fn per_minute(r: f64) -> String {
    if r <= 0.0 {
        "—".to_string()
    } else if r >= 10.0 {
        format!("{r:.0}/min")
    } else {
        format!("{r:.1}/min")
    }
}

impl FailuresView<'_> {
    fn view(&self) -> FailureView {
        self.app
            .engine
            .store
            .failure_view(&self.app.filter, self.app.failures.sort)
    }

    fn flags(&self, v: &FailureView) -> Vec<Line<'static>> {
        let th = self.app.theme;
        if v.brute_force.is_empty() {
            return vec![Line::styled(
                " no password guessing seen (5+ users or 30+ failures a minute from one host)",
                th.dim(),
            )];
        }
        v.brute_force
            .iter()
            .map(|b| {
                Line::from(vec![
                    Span::styled(
                        " brute force? ",
                        th.failure()
                            .add_modifier(Modifier::BOLD | Modifier::REVERSED),
                    ),
                    Span::styled(
                        format!(
                            " {} · {} · {} · {}",
                            text::name(&b.host),
                            text::counted(b.users as u64, "user", "users"),
                            per_minute(b.per_minute),
                            text::counted(b.failures, "failure", "failures"),
                        ),
                        th.failure().add_modifier(Modifier::BOLD),
                    ),
                ])
            })
            .collect()
    }
}

impl Widget for &FailuresView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.app;
        let th = app.theme;
        let v = self.view();
        let flags = self.flags(&v);
        let flag_h = (flags.len() as u16).min(area.height / 3).max(1);
        let [top, table] =
            Layout::vertical([Constraint::Length(flag_h), Constraint::Min(3)]).areas(area);
        Paragraph::new(flags).render(top, buf);
        let total: u64 = v.rows.iter().map(|r| r.count).sum();
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(th.focus())
            .title(Span::styled(
                format!(
                    " Failed attempts: {} in {} ▾{} ",
                    text::count(total),
                    text::counted(v.rows.len() as u64, "row", "rows"),
                    app.failures.sort.title()
                ),
                th.focus(),
            ));
        if v.rows.is_empty() {
            Paragraph::new(Line::styled(" no failed connection attempts", th.dim()))
                .block(block)
                .render(table, buf);
            return;
        }
        let now = app.engine.store.now();
        let wide = table.width >= 110;
        let header: Vec<&str> = if wide {
            vec![
                "user",
                "host",
                "reason",
                "count",
                "rate",
                "first seen",
                "last seen",
            ]
        } else {
            vec!["user", "host", "reason", "count", "rate", "last"]
        };
        let inner = table.width.saturating_sub(2);
        // count, rate, the times, and one space between columns.
        let fixed: u16 = if wide {
            7 + 9 + 10 + 10 + 6
        } else {
            7 + 9 + 8 + 5
        };
        let flexible = inner.saturating_sub(fixed);
        let (uw, hw, rw) = (
            flexible * 30 / 100,
            flexible * 30 / 100,
            flexible * 40 / 100,
        );
        let rows: Vec<Row> = v
            .rows
            .iter()
            .map(|r| {
                let clock = |t| {
                    if crate::parse::time::local_clock(t).get(..10)
                        == crate::parse::time::local_clock(now).get(..10)
                    {
                        text::clock(t)
                    } else {
                        crate::parse::time::local_clock(t)
                    }
                };
                let mut cells = vec![
                    Cell::from(text::fit(&text::name(&r.user), uw as usize)),
                    Cell::from(text::fit(&text::name(&r.host), hw as usize)),
                    Cell::from(text::fit(reason_words(r.reason), rw as usize)),
                    Cell::from(format!("{:>7}", text::count(r.count))),
                    Cell::from(format!("{:>9}", per_minute(r.per_minute))),
                ];
                if wide {
                    cells.push(Cell::from(clock(r.first)));
                }
                cells.push(Cell::from(clock(r.last)));
                let row = Row::new(cells);
                if r.brute_force {
                    row.style(th.failure())
                } else {
                    row
                }
            })
            .collect();
        let mut widths = vec![
            Constraint::Length(uw),
            Constraint::Length(hw),
            Constraint::Length(rw),
            Constraint::Length(7),
            Constraint::Length(9),
        ];
        let time_w = if wide { 10 } else { 8 };
        if wide {
            widths.push(Constraint::Length(time_w));
        }
        widths.push(Constraint::Length(time_w));
        let t = Table::new(rows, widths)
            .header(Row::new(header).style(th.title()))
            .block(block)
            .row_highlight_style(th.selected());
        let mut state =
            TableState::default().with_selected(Some(app.failures.selected.min(v.rows.len() - 1)));
        StatefulWidget::render(t, table, buf, &mut state);
    }
}

/// Rows the Failures tab shows under the app's filter (for scrolling).
pub fn row_count(app: &App) -> usize {
    app.engine
        .store
        .failure_view(&app.filter, app.failures.sort)
        .rows
        .len()
}
