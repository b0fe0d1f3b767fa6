//! The History tab: active connections over the window as bars, per-bucket connects,
//! disconnects and net, failure spikes and leak suspects.

use super::app::App;
use super::text;
use crate::report::human_ms;
use crate::store::views::HistoryBucket;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Bar, BarChart, BarGroup, Block, BorderType, Cell, Paragraph, Row, Table, Widget,
};

/// Draws the History tab from the app state.
pub struct HistoryView<'a> {
    pub app: &'a App,
}

/// Buckets whose failures stand out: at least 3 and at least three times the window's mean.
pub fn spikes(buckets: &[HistoryBucket]) -> Vec<bool> {
    let total: i64 = buckets.iter().map(|b| b.failures).sum();
    let n = buckets.len().max(1) as i64;
    buckets
        .iter()
        .map(|b| b.failures >= 3 && b.failures * n >= 3 * total && n > 1)
        .collect()
}

fn span_label(secs: u32) -> String {
    human_ms(u64::from(secs) * 1000)
        .replace("m00s", "m")
        .replace("h00m", "h")
}

impl Widget for &HistoryView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.app;
        let th = app.theme;
        let store = &app.engine.store;
        let h = app.history;
        let buckets = store.history_view(&app.filter, h.bucket_secs, Some(h.window_secs));
        let mut leaks = store.leak_suspects(&app.filter, app.leak_window_minutes);
        // Applications first: they name the code that leaks; users and hosts follow.
        leaks.sort_by_key(|l| match l.dimension {
            crate::store::intern::Dim::Application => 0,
            crate::store::intern::Dim::User => 1,
            _ => 2,
        });
        let spiky = spikes(&buckets);

        let mut info = vec![Line::from(vec![
            Span::styled(
                format!(
                    " {} buckets over the last {}",
                    span_label(h.bucket_secs),
                    span_label(h.window_secs)
                ),
                th.title(),
            ),
            Span::styled("  (b: bucket 1m/5m/15m/1h · w: window 1h/6h/24h)", th.dim()),
        ])];
        if leaks.is_empty() {
            info.push(Line::styled(
                format!(" no leak suspected (last {} min)", app.leak_window_minutes),
                th.dim(),
            ));
        }
        for l in leaks.iter().take(3) {
            info.push(Line::styled(
                format!(
                    " leak suspected: {} +{} in {} min ({} {} open, {}, {})",
                    leak_label(app, &l.name),
                    l.growth,
                    l.window_minutes,
                    l.active,
                    l.dimension.filter_key(),
                    text::counted(l.connects.max(0) as u64, "connect", "connects"),
                    text::counted(l.disconnects.max(0) as u64, "end", "ends")
                ),
                th.warning(),
            ));
        }
        let spike_count = spiky.iter().filter(|&&s| s).count();
        if spike_count > 0 {
            info.push(Line::styled(
                format!(" failure spikes in {spike_count} bucket(s), marked ▲ below"),
                th.failure(),
            ));
        }
        let chart_h = (area.height.saturating_sub(info.len() as u16) / 2).clamp(4, 14);
        // A fleet: one sparkline per server below the chart (ui::servers).
        let servers_h = if store.is_fleet() {
            (store.server_count() as u16 + 2)
                .min(area.height.saturating_sub(info.len() as u16 + chart_h + 3))
        } else {
            0
        };
        let [top, chart, servers_area, table] = Layout::vertical([
            Constraint::Length(info.len() as u16),
            Constraint::Length(chart_h),
            Constraint::Length(servers_h),
            Constraint::Min(3),
        ])
        .areas(area);
        if servers_h > 2 {
            super::servers::ServerHistory { app }.render(servers_area, buf);
        }
        Paragraph::new(info).render(top, buf);

        // Bars: the newest buckets that fit, each as wide as the room allows.
        let inner = chart.width.saturating_sub(2) as usize;
        let max_peak = buckets.iter().map(|b| b.active_peak).max().unwrap_or(0);
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(th.border())
            .title(Span::styled(
                format!(" Active connections: bar = peak of the bucket (max {max_peak}), number = at its end "),
                th.title(),
            ));
        if buckets.is_empty() {
            Paragraph::new(Span::styled(" no history yet", th.dim()))
                .block(block)
                .render(chart, buf);
        } else {
            let width = (inner / buckets.len()).clamp(1, 8);
            let gap = usize::from(width >= 3);
            let fit = (inner / (width + gap).max(1)).max(1);
            let shown = &buckets[buckets.len().saturating_sub(fit)..];
            let spk = &spiky[spiky.len() - shown.len()..];
            let bars: Vec<Bar> = shown
                .iter()
                .zip(spk)
                .map(|(b, &s)| {
                    let bar = Bar::default()
                        .value(b.active_peak.max(0) as u64)
                        .style(if s { th.failure() } else { th.bar() })
                        .value_style(th.badge());
                    let bar = if width >= 2 {
                        bar.text_value(b.active_end.max(0).to_string())
                    } else {
                        bar.text_value(String::new())
                    };
                    if width >= 5 {
                        bar.label(Line::from(
                            text::clock(b.start).get(..5).unwrap_or("").to_string(),
                        ))
                    } else {
                        bar
                    }
                })
                .collect();
            BarChart::default()
                .block(block)
                .bar_width(width as u16)
                .bar_gap(gap as u16)
                .data(BarGroup::default().bars(&bars))
                .render(chart, buf);
        }

        let header = Row::new(vec![
            "Bucket start",
            "Connects",
            "Disconnects",
            "Lost",
            "Net",
            "Failures",
            "Peak",
            "End",
        ])
        .style(th.title());
        let rows: Vec<Row> = buckets
            .iter()
            .zip(&spiky)
            .rev()
            .map(|(b, &spike)| {
                let net = b.connects - b.disconnects - b.lost;
                let net_style = match net {
                    n if n > 0 => th.connect(),
                    n if n < 0 => th.disconnect(),
                    _ => th.dim(),
                };
                let fail = if spike {
                    format!("{} ▲", b.failures)
                } else {
                    b.failures.to_string()
                };
                let right = |s: String| Cell::from(Line::from(s).right_aligned());
                Row::new(vec![
                    Cell::from(crate::parse::time::local_clock(b.start)),
                    right(b.connects.to_string()).style(th.connect()),
                    right(b.disconnects.to_string()).style(th.disconnect()),
                    right(b.lost.to_string()),
                    right(format!("{net:+}")).style(net_style),
                    right(fail).style(if b.failures > 0 {
                        th.failure()
                    } else {
                        th.dim()
                    }),
                    right(b.active_peak.to_string()),
                    right(b.active_end.to_string()),
                ])
            })
            .collect();
        Table::new(
            rows,
            [
                Constraint::Length(19),
                Constraint::Length(8),
                Constraint::Length(11),
                Constraint::Length(5),
                Constraint::Length(5),
                Constraint::Length(8),
                Constraint::Length(5),
                Constraint::Length(5),
            ],
        )
        .header(header)
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .border_style(th.border())
                .title(Span::styled(" Per bucket, newest first ", th.title())),
        )
        .render(table, buf);
    }
}

/// A leak suspect's name: the store names the unset value `unknown`; when no real name
/// `unknown` was ever seen, that is the unset value, drawn `(none)` like everywhere else.
fn leak_label(app: &App, name: &[u8]) -> String {
    let names = app.engine.store.names();
    if name == b"unknown" && names.lookup(name).is_none() {
        crate::store::filter::NONE_LABEL.to_string()
    } else {
        text::app_name(name)
    }
}
