//! The Summary tab: the active count, tables by database / user / application / host with
//! proportional bars, session totals, failures by reason and the open sessions themselves.

use super::app::{App, Pane, SortBy};
use super::mouse::Target;
use super::rows::{dim_rows, DimRow};
use super::state::RowKey;
use super::text;
use crate::store::filter::{Filter, NONE_LABEL};
use crate::store::intern::Dim;
use crate::store::views::Summary;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Margin, Rect};
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, BorderType, Cell, Paragraph, Row, StatefulWidget, Table, TableState, Widget, Wrap,
};

/// The last hour's per-minute peaks in `width` cells, newest at the right, each cell the peak
/// of its minutes scaled to the row's own highest (a blank: no session at all).
pub fn spark(series: &[u16], width: usize) -> String {
    const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if width == 0 || series.is_empty() {
        return String::new();
    }
    let per = series.len().div_ceil(width);
    let cells: Vec<u16> = series
        .rchunks(per)
        .rev()
        .map(|c| c.iter().copied().max().unwrap_or(0))
        .collect();
    let top = cells.iter().copied().max().unwrap_or(0).max(1);
    let mut out: String = " ".repeat(width.saturating_sub(cells.len()));
    for v in cells {
        out.push(if v == 0 {
            ' '
        } else {
            LEVELS[(usize::from(v) * 8).div_ceil(usize::from(top)).clamp(1, 8) - 1]
        });
    }
    out
}

/// Draws the Summary tab from the app state.
pub struct SummaryView<'a> {
    pub app: &'a App,
}

/// Names of the Failures pane listed per group (by user, by host); the pane scrolls.
pub const FAILURE_ROWS: usize = 200;

/// `Active connections: 15`, `Active connections to 'production': 9`, or with the filter text.
pub fn headline(filter: &Filter, n: u64) -> String {
    let only_db = Dim::ALL
        .iter()
        .all(|&d| d == Dim::Database || filter.get(d).is_none());
    match filter.exact_value(Dim::Database) {
        _ if filter.is_empty() => format!("Active connections: {n}"),
        Some(db) if only_db => {
            format!("Active connections to '{}': {n}", text::name(db))
        }
        _ => format!(
            "Active connections ({}): {n}",
            text::name(filter.to_text().as_bytes())
        ),
    }
}

fn dim_title(d: Dim) -> &'static str {
    d.title()
}

/// The sessions table's columns, left to right, as the sort they ask for.
const SORT_COLUMNS: [SortBy; 6] = [
    SortBy::Pid,
    SortBy::User,
    SortBy::Database,
    SortBy::Application,
    SortBy::Host,
    SortBy::Age,
];

impl SummaryView<'_> {
    /// Notes for the mouse the pane `area` and its `len` rows shown from `offset`, below
    /// `header` lines.
    fn note_rows(&self, pane: Pane, area: Rect, header: u16, len: usize, offset: usize) {
        let hits = &self.app.hits;
        hits.add(area, Target::Pane(pane));
        let inner = area.inner(Margin::new(1, 1));
        let top = inner.y + header;
        for k in 0..inner.height.saturating_sub(header) {
            let n = offset + usize::from(k);
            if n >= len {
                break;
            }
            hits.add(
                Rect::new(inner.x, top + k, inner.width, 1),
                Target::Row(pane, n),
            );
        }
    }
    fn block(&self, title: String, pane: Option<Pane>) -> Block<'static> {
        let th = self.app.theme;
        let focused = pane.is_some_and(|p| p == self.app.summary.focus);
        Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(if focused { th.focus() } else { th.border() })
            .title(Span::styled(
                title,
                if focused { th.focus() } else { th.title() },
            ))
    }

    fn dim_table(&self, rows_data: &[DimRow], dim: Dim, area: Rect, buf: &mut Buffer) {
        let th = self.app.theme;
        let pane = Pane::By(dim);
        let block = self.block(
            format!(" {} ({}) ", dim_title(dim), rows_data.len()),
            Some(pane),
        );
        let inner_w = area.width.saturating_sub(2) as usize;
        let max = rows_data.first().map_or(0, |r| r.count);
        let count_w = text::count(max).len().max(1);
        // A sparkline of the last hour on every row that has room; bars too when wide.
        let (bar_w, spark_w) = match inner_w {
            44.. => ((inner_w / 6).min(12), (inner_w / 4).min(20)),
            16.. => (0, (inner_w / 4).clamp(4, 12)),
            _ => (0, 0),
        };
        let name_w = inner_w.saturating_sub(bar_w + spark_w + count_w + 3);
        let trends = self.app.engine.store.trends();
        let now = self.app.engine.store.now().millis;
        let rows: Vec<Row> = rows_data
            .iter()
            .map(|r| {
                let name = text::fit(&r.label, name_w);
                Row::new(vec![
                    if r.is_none() {
                        Cell::from(Span::styled(name, th.dim()))
                    } else {
                        Cell::from(name)
                    },
                    Cell::from(Line::from(text::count(r.count)).right_aligned()),
                    Cell::from(Span::styled(
                        trends
                            .series(dim, r.sym, now)
                            .map_or_else(String::new, |v| spark(&v, spark_w)),
                        th.connect(),
                    )),
                    Cell::from(Span::styled(text::bar(r.count, max, bar_w), th.bar())),
                ])
            })
            .collect();
        if rows.is_empty() {
            Paragraph::new(Span::styled(" (none)", th.dim()))
                .block(block)
                .render(area, buf);
            return;
        }
        let table = Table::new(
            rows,
            [
                Constraint::Length(name_w as u16),
                Constraint::Length(count_w as u16),
                Constraint::Length(spark_w as u16),
                Constraint::Length(bar_w as u16),
            ],
        )
        .column_spacing(1)
        .block(block)
        .row_highlight_style(if self.app.summary.focus == pane {
            th.selected()
        } else {
            th.text()
        });
        let keys: Vec<RowKey> = rows_data.iter().map(|r| RowKey::Name(r.sym)).collect();
        let sel = self.app.selected_in(pane, &keys);
        let mut state = TableState::default().with_selected(Some(sel));
        StatefulWidget::render(table, area, buf, &mut state);
        self.note_rows(pane, area, 0, rows_data.len(), state.offset());
    }

    fn sessions(&self, area: Rect, buf: &mut Buffer) {
        let app = self.app;
        let th = app.theme;
        let v = app.session_rows();
        let now = app.reference_millis();
        let sort = app.summary.sort;
        let arrow = if sort.descends() != app.summary.reversed {
            "▾"
        } else {
            "▴"
        };
        let head = |label: &str, col: SortBy| {
            let t = if col == sort {
                format!("{label} {arrow}")
            } else {
                label.to_string()
            };
            Cell::from(t)
        };
        let header = Row::new(vec![
            head("PID", SortBy::Pid),
            head("User", SortBy::User),
            head("Database", SortBy::Database),
            head("Application", SortBy::Application),
            head("Host", SortBy::Host),
            head("Age", SortBy::Age),
        ])
        .style(th.title());
        let widths = [
            Constraint::Length(7),
            Constraint::Fill(2),
            Constraint::Fill(2),
            Constraint::Fill(3),
            Constraint::Fill(2),
            Constraint::Length(7),
        ];
        // The cells' widths as the table will lay them out, so that a cut name ends in `…`.
        let inner = Rect::new(0, 0, area.width.saturating_sub(2), 1);
        let w: Vec<usize> = Layout::horizontal(widths)
            .spacing(1)
            .split(inner)
            .iter()
            .map(|r| usize::from(r.width))
            .collect();
        let rows: Vec<Row> = v
            .iter()
            .map(|a| {
                let app_cell = match &a.application {
                    Some(n) => Cell::from(text::fit(&text::app_name(n), w[3])),
                    None => Cell::from(Span::styled(text::fit(NONE_LABEL, w[3]), th.dim())),
                };
                Row::new(vec![
                    Cell::from(a.pid.to_string()),
                    Cell::from(text::fit(&text::name(&a.user), w[1])),
                    Cell::from(text::fit(&text::name(&a.database), w[2])),
                    app_cell,
                    Cell::from(text::fit(&text::name(&a.host), w[4])),
                    Cell::from(Line::from(text::age(now - a.since.millis)).right_aligned()),
                ])
            })
            .collect();
        let block = self.block(
            format!(" Active sessions ({}) · s sorts · r reverses ", v.len()),
            Some(Pane::Sessions),
        );
        let table = Table::new(rows, widths)
            .header(header)
            .block(block)
            .row_highlight_style(if app.summary.focus == Pane::Sessions {
                th.selected()
            } else {
                th.text()
            });
        let keys: Vec<RowKey> = v.iter().map(|s| RowKey::Session(s.source, s.pid)).collect();
        let sel = app.selected_in(Pane::Sessions, &keys);
        let mut state = TableState::default().with_selected((!v.is_empty()).then_some(sel));
        StatefulWidget::render(table, area, buf, &mut state);
        self.note_rows(Pane::Sessions, area, 1, v.len(), state.offset());
        let cols = Layout::horizontal(widths)
            .spacing(1)
            .split(area.inner(Margin::new(1, 1)));
        for (r, col) in cols.iter().zip(SORT_COLUMNS) {
            self.app
                .hits
                .add(Rect::new(r.x, r.y, r.width + 1, 1), Target::Header(col));
        }
    }

    fn failures(&self, s: &Summary, area: Rect, buf: &mut Buffer) {
        let th = self.app.theme;
        // Focused, the pane lists every name (up to a bound) and scrolls; else the top four.
        let focused = self.app.summary.focus == Pane::Failures;
        let limit = if focused { FAILURE_ROWS } else { 4 };
        let mut lines = Vec::new();
        if s.failures_by_reason.is_empty() {
            lines.push(Line::styled("none", th.dim()));
        }
        for (r, n) in &s.failures_by_reason {
            lines.push(Line::from(vec![
                Span::styled(format!("{:>5} ", text::count(*n)), th.failure()),
                Span::raw(r.key()),
            ]));
        }
        for (title, list) in [
            ("by user", &s.failures_by_user),
            ("by host", &s.failures_by_host),
        ] {
            if list.is_empty() {
                continue;
            }
            lines.push(Line::styled(title, th.title()));
            for (name, n) in list.iter().take(limit) {
                lines.push(Line::from(vec![
                    Span::styled(format!("{:>5} ", text::count(*n)), th.failure()),
                    Span::raw(text::name(name)),
                ]));
            }
        }
        let inner_h = usize::from(area.height.saturating_sub(2));
        self.app.failures_shown.set(inner_h.max(1));
        let top = if focused {
            self.app.summary.selected[Pane::Failures.index()]
                .min(lines.len().saturating_sub(inner_h))
        } else {
            0
        };
        let more = lines.len() > inner_h;
        let title = if more {
            format!(
                " Failures ({}) {}-{}/{} ",
                text::count(s.failures_total),
                top + 1,
                (top + inner_h).min(lines.len()),
                lines.len()
            )
        } else {
            format!(" Failures ({}) ", text::count(s.failures_total))
        };
        self.app.hits.add(area, Target::Pane(Pane::Failures));
        Paragraph::new(lines)
            .scroll((top.min(usize::from(u16::MAX)) as u16, 0))
            .block(self.block(title, Some(Pane::Failures)))
            .render(area, buf);
    }
}

/// Why nothing is counted: what a source reported (a missing file, a log that cannot be read),
/// else what to turn on when the log has no connection event at all.
fn empty_state(app: &App, area: Rect, buf: &mut Buffer) {
    let th = app.theme;
    let mut why: Vec<String> = app.notes.iter().filter_map(|n| n.status.clone()).collect();
    why.extend(app.engine.warnings());
    let settings_help = why.is_empty() || why.iter().any(|w| w.contains("log_connections"));
    let mut lines = vec![Line::styled(
        "No connection event seen in the log yet.",
        th.warning(),
    )];
    for w in &why {
        lines.push(Line::raw(""));
        lines.push(Line::styled(text::name(w.as_bytes()), th.failure()));
    }
    if settings_help {
        lines.extend([
            Line::raw(""),
            Line::raw("pgconn-top counts sessions from the lines PostgreSQL writes when a client"),
            Line::raw("connects and disconnects. Turn them on in postgresql.conf:"),
            Line::raw(""),
            Line::styled("    log_connections = on", th.title()),
            Line::styled("    log_disconnections = on", th.title()),
            Line::raw(""),
            Line::raw("then reload: SELECT pg_reload_conf();  (no restart needed)"),
        ]);
    }
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .border_style(th.border()),
        )
        .render(area, buf);
}

impl Widget for &SummaryView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.app;
        let th = app.theme;
        let store = &app.engine.store;
        let all = store.summary(&Filter::default());
        if all.connects + all.disconnects + all.failures_total + all.active_total == 0 {
            empty_state(app, area, buf);
            return;
        }
        let s = store.summary(&app.filter);
        let tables = Dim::CLIENT.map(|d| dim_rows(store, &app.filter, d));
        let tallest = tables.iter().map(Vec::len).max().unwrap_or(0).max(1) as u16;
        let setup_h = super::setup::height(app, area.height);
        // A fleet: the Server pane above the tables (ui::servers).
        let servers_h = if store.is_fleet() {
            (store.server_count() as u16 + 3)
                .min(area.height.saturating_sub(6 + setup_h) / 2)
                .max(4)
        } else {
            0
        };
        let tables_h = (tallest + 2)
            .min(area.height.saturating_sub(6 + setup_h + servers_h) / 2)
            .max(3);
        let [head, servers_area, tables_area, setup_area, rest] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Length(servers_h),
            Constraint::Length(tables_h),
            Constraint::Length(setup_h),
            Constraint::Min(3),
        ])
        .areas(area);
        if setup_h > 0 {
            super::setup::render(app, setup_area, buf);
        }
        if servers_h > 0 {
            super::servers::ServersPane { app }.render(servers_area, buf);
        }
        let hints = app.filter.unknown_names(store.names());
        let totals = format!(
            "Sessions: {} · {} · {} lost · {} terminated · {} pending · {} never completed",
            text::counted(s.connects, "connect", "connects"),
            text::counted(s.disconnects, "disconnect", "disconnects"),
            text::count(s.lost),
            text::count(s.terminated),
            text::count(s.pending),
            text::count(s.incomplete),
        );
        Paragraph::new(vec![
            Line::from(
                Span::styled(
                    format!(" {}", headline(&app.filter, s.active_total)),
                    th.title(),
                )
                .bold(),
            ),
            if hints.is_empty() {
                Line::styled(format!(" {totals}"), th.dim())
            } else {
                Line::styled(format!(" {}", hints.join("; ")), th.warning())
            },
        ])
        .render(head, buf);
        let cols = Layout::horizontal([Constraint::Fill(1); 4]).split(tables_area);
        for (i, dim) in Dim::CLIENT.iter().enumerate() {
            self.dim_table(&tables[i], *dim, cols[i], buf);
        }
        let fail_w = if rest.width >= 100 { 34 } else { 28 };
        let [sess, fails] =
            Layout::horizontal([Constraint::Min(30), Constraint::Length(fail_w)]).areas(rest);
        self.sessions(sess, buf);
        self.failures(&s, fails, buf);
    }
}
