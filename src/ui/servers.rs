//! A fleet in the dashboard: the Server pane of the Summary tab (active, connects/min,
//! failures, headroom, up since per server; Enter filters `server=`), the server name of a
//! Watch line, and the History per server (one sparkline each). Shown only with more than
//! one server ([`Store::is_fleet`]); with one server nothing here is drawn.

use super::app::App;
use super::mouse::Target;
use super::rows::DimRow;
use super::state::{Pane, RowKey};
use super::text;
use crate::model::LogTime;
use crate::store::feed::FeedEvent;
use crate::store::filter::{display_name, Cond, Filter};
use crate::store::intern::{Dim, Name, Sym};
use crate::store::Store;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Margin, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, BorderType, Cell, Paragraph, Row, Sparkline, StatefulWidget, Table, TableState, Widget,
};
use std::collections::HashMap;

/// The window of the connects/min rate, in minutes of log time.
pub const RATE_MINUTES: u32 = 5;

/// One row of the Server pane.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerRow {
    /// The interned server name.
    pub sym: Sym,
    /// The raw name (a source's label).
    pub name: Name,
    /// How it is drawn (visible-safe).
    pub label: String,
    /// Open sessions under the filter.
    pub active: u64,
    /// Connects per minute over the last [`RATE_MINUTES`] minutes of the log's clock.
    pub connects_per_min: f64,
    /// Failed connections under the filter.
    pub failures: u64,
    /// Free connection slots, where the server's capacity is known (`None`: unknown; the
    /// store keeps one capacity for all sources, so a fleet's servers show none yet).
    pub headroom: Option<u32>,
    /// When the server last became ready, where its log told (the store's per-server state,
    /// [`Store::servers`]).
    pub up_since: Option<LogTime>,
}

/// The filter narrowed to one server.
fn on_server(filter: &Filter, name: &[u8]) -> Filter {
    let mut f = filter.clone();
    f.set(Dim::Server, Some(Cond::exact(name)));
    f
}

/// Each named server that passes `filter`, in the order the servers were named (rows stay
/// put while the figures change).
pub fn server_rows(store: &Store, filter: &Filter) -> Vec<ServerRow> {
    rows_with(store, filter, true)
}

/// [`server_rows`]; without `rate`, connects/min is left at 0 (it costs a history walk per
/// server).
fn rows_with(store: &Store, filter: &Filter, rate: bool) -> Vec<ServerRow> {
    let names = store.names();
    let resolved = filter.resolve(names);
    let one = store.server_count() == 1;
    // One pass over the combinations: (active, failures) by server.
    let mut by: HashMap<Sym, (u64, u64)> = HashMap::new();
    for (id, st) in store.combo_stats().iter().enumerate() {
        let failed: u64 = st.failures.iter().sum();
        if st.active == 0 && failed == 0 {
            continue;
        }
        let c = names.combo_of(id as u32);
        if resolved.matches(&c) {
            let e = by.entry(c.server).or_default();
            e.0 += u64::from(st.active);
            e.1 += failed;
        }
    }
    store
        .server_names()
        .into_iter()
        .filter(|&s| resolved.matches_dim(Dim::Server, s))
        .map(|sym| {
            let name = names.name(sym).clone();
            let f = on_server(filter, &name);
            let (active, failures) = by.get(&sym).copied().unwrap_or_default();
            let connects_per_min = if rate {
                let recent = store.history_view(&f, 60, Some(RATE_MINUTES * 60));
                let minutes = recent.len().clamp(1, RATE_MINUTES as usize) as f64;
                let connects: i64 = recent.iter().map(|b| b.connects).sum();
                connects.max(0) as f64 / minutes
            } else {
                0.0
            };
            let up_since = store
                .servers()
                .iter()
                .find(|st| st.name.as_bytes() == &name[..])
                .and_then(|st| st.info.up_since);
            ServerRow {
                sym,
                label: display_name(names, sym),
                name,
                active,
                connects_per_min,
                failures,
                // One server: the store-wide capacity is that server's.
                headroom: if one {
                    store.capacity().headroom(store.active_now())
                } else {
                    None
                },
                up_since,
            }
        })
        .collect()
}

/// The Server pane's rows as by-dimension rows (what Enter and the selection key on).
pub fn server_dim_rows(store: &Store, filter: &Filter) -> Vec<DimRow> {
    server_rows(store, filter)
        .into_iter()
        .map(|r| DimRow {
            sym: r.sym,
            name: r.name,
            label: r.label,
            count: r.active,
        })
        .collect()
}

/// `prod ` (at most 16 columns) before a Watch line's text with more than one server, else
/// `None`.
pub fn watch_server(store: &Store, e: &FeedEvent) -> Option<String> {
    if !store.is_fleet() {
        return None;
    }
    let names = store.names();
    let c = names.combo_of(e.combo);
    Some(format!(
        "{} ",
        text::fit(&display_name(names, c.server), 16)
    ))
}

/// The Server pane of the Summary tab.
pub struct ServersPane<'a> {
    pub app: &'a App,
}

impl Widget for &ServersPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.app;
        let th = app.theme;
        let pane = Pane::By(Dim::Server);
        let focused = app.summary.focus == pane;
        let data = server_rows(&app.engine.store, &app.filter);
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(if focused { th.focus() } else { th.border() })
            .title(Span::styled(
                format!(" {} ({}) ", Dim::Server.title(), data.len()),
                if focused { th.focus() } else { th.title() },
            ));
        if data.is_empty() {
            Paragraph::new(Span::styled(" (none)", th.dim()))
                .block(block)
                .render(area, buf);
            return;
        }
        let now = app.engine.store.now();
        let right = |s: String| Cell::from(Line::from(s).right_aligned());
        let rows: Vec<Row> = data
            .iter()
            .map(|r| {
                Row::new(vec![
                    Cell::from(r.label.clone()),
                    right(text::count(r.active)),
                    right(format!("{:.1}", r.connects_per_min)),
                    right(text::count(r.failures)).style(if r.failures > 0 {
                        th.failure()
                    } else {
                        th.dim()
                    }),
                    right(r.headroom.map_or("—".into(), |h| text::count(u64::from(h)))),
                    right(r.up_since.map_or("—".into(), |t| {
                        text::age(now.millis.saturating_sub(t.millis))
                    })),
                ])
            })
            .collect();
        let header = Row::new(vec![
            Cell::from("server"),
            right("active".into()),
            right("conn/min".into()),
            right("failed".into()),
            right("free".into()),
            right("up".into()),
        ])
        .style(th.title());
        let table = Table::new(
            rows,
            [
                Constraint::Fill(1),
                Constraint::Length(6),
                Constraint::Length(8),
                Constraint::Length(6),
                Constraint::Length(5),
                Constraint::Length(7),
            ],
        )
        .header(header)
        .column_spacing(1)
        .block(block)
        .row_highlight_style(if focused { th.selected() } else { th.text() });
        let keys: Vec<RowKey> = data.iter().map(|r| RowKey::Name(r.sym)).collect();
        let sel = app.selected_in(pane, &keys);
        let mut state = TableState::default().with_selected(Some(sel));
        StatefulWidget::render(table, area, buf, &mut state);
        // For the mouse: the pane, and each row shown below the header.
        app.hits.add(area, Target::Pane(pane));
        let inner = area.inner(Margin::new(1, 1));
        for k in 0..inner.height.saturating_sub(1) {
            let n = state.offset() + usize::from(k);
            if n >= data.len() {
                break;
            }
            app.hits.add(
                Rect::new(inner.x, inner.y + 1 + k, inner.width, 1),
                Target::Row(pane, n),
            );
        }
    }
}

/// The History tab per server: one sparkline of active sessions per bucket for each server,
/// with its name and current count (as many servers as fit, one line each).
pub struct ServerHistory<'a> {
    pub app: &'a App,
}

impl Widget for &ServerHistory<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.app;
        let th = app.theme;
        let store = &app.engine.store;
        let h = app.history;
        let mut rows = rows_with(store, &app.filter, false);
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(th.border())
            .title(Span::styled(" Active per server ", th.title()));
        let inner = block.inner(area);
        block.render(area, buf);
        // Only the servers that fit get their history walked.
        rows.truncate(usize::from(inner.height));
        let label_w = rows
            .iter()
            .map(|r| r.label.chars().count())
            .max()
            .unwrap_or(0)
            .clamp(4, 16) as u16;
        let lines = Layout::vertical(vec![Constraint::Length(1); rows.len()]).split(inner);
        let series: Vec<Vec<u64>> = rows
            .iter()
            .map(|r| {
                let f = on_server(&app.filter, &r.name);
                store
                    .history_view(&f, h.bucket_secs, Some(h.window_secs))
                    .iter()
                    .map(|b| b.active_end.max(0) as u64)
                    .collect()
            })
            .collect();
        // One scale for every server, so their heights compare.
        let max = series.iter().flatten().copied().max().unwrap_or(0).max(1);
        for ((r, values), line) in rows.iter().zip(&series).zip(lines.iter()) {
            let [name, count, spark] = Layout::horizontal([
                Constraint::Length(label_w + 1),
                Constraint::Length(6),
                Constraint::Fill(1),
            ])
            .areas(*line);
            Paragraph::new(text::fit(&r.label, label_w as usize)).render(name, buf);
            Paragraph::new(Line::from(text::count(r.active)).right_aligned())
                .style(th.title())
                .render(count, buf);
            let shown = &values[values
                .len()
                .saturating_sub(spark.width.saturating_sub(1) as usize)..];
            Sparkline::default()
                .data(shown)
                .max(max)
                .style(th.bar())
                .render(
                    Rect {
                        x: spark.x + 1,
                        width: spark.width.saturating_sub(1),
                        ..spark
                    },
                    buf,
                );
        }
    }
}
