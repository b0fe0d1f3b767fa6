//! The Summary's connection setup pane (PostgreSQL 18 `connection ready` lines): p50 / p90 /
//! p99 of setup total, fork and authentication per application and, when wide, per host.

use super::app::App;
use super::text;
use crate::store::filter::NONE_LABEL;
use crate::store::setup::{Quantiles, SetupRow};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Widget};

/// The pane's height for a body of `body_h` lines: 0 when the log has no setup times.
pub fn height(app: &App, body_h: u16) -> u16 {
    let st = app.engine.store.setup_times();
    if st.lines() == 0 {
        return 0;
    }
    let rows = st.table(app.engine.store.names()).by_application.len() as u16;
    rows.clamp(1, (body_h / 10).max(1)) + 2
}

/// `12.3` ms from microseconds, one decimal (two below 10 ms).
fn ms(us: u32) -> String {
    if us < 10_000 {
        format!("{:.2}", f64::from(us) / 1000.0)
    } else {
        format!("{:.1}", f64::from(us) / 1000.0)
    }
}

fn triple(q: Quantiles) -> String {
    format!("{}/{}/{}", ms(q.p50_us), ms(q.p90_us), ms(q.p99_us))
}

fn lines(app: &App, rows: &[SetupRow], width: usize, host: bool) -> Vec<Line<'static>> {
    let th = app.theme;
    let wide = width >= 80;
    let name_w = if wide { 14 } else { 12 };
    rows.iter()
        .map(|r| {
            let label = if r.unset && !host {
                NONE_LABEL.to_string()
            } else {
                text::app_name(&r.name)
            };
            let mut v = vec![
                Span::styled(
                    format!(" {:<name_w$}", text::fit(&label, name_w)),
                    if r.unset { th.dim() } else { th.text() },
                ),
                Span::styled(format!("n={:<5}", text::count(r.count)), th.dim()),
                Span::raw(format!("total {:<17}", triple(r.total))),
            ];
            if wide {
                v.push(Span::styled(
                    format!("fork {:<15}", triple(r.fork)),
                    th.dim(),
                ));
            }
            v.push(Span::raw(format!("auth {}", triple(r.authentication))));
            Line::from(v)
        })
        .collect()
}

/// Draws the pane in `area` (see [`height`]).
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let th = app.theme;
    let store = &app.engine.store;
    let t = store.setup_times().table(store.names());
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(th.border())
        .title(Span::styled(
            format!(
                " Connection setup, ms p50/p90/p99 ({} ready lines) ",
                text::count(store.setup_times().lines())
            ),
            th.title(),
        ));
    let inner = block.inner(area);
    block.render(area, buf);
    let two = inner.width >= 128;
    let cols = if two {
        Layout::horizontal([Constraint::Fill(1); 2]).split(inner)
    } else {
        Layout::horizontal([Constraint::Fill(1)]).split(inner)
    };
    Paragraph::new(lines(
        app,
        &t.by_application,
        usize::from(cols[0].width),
        false,
    ))
    .render(cols[0], buf);
    if two {
        Paragraph::new(lines(app, &t.by_host, usize::from(cols[1].width), true))
            .render(cols[1], buf);
    }
}
