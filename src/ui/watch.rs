//! The Watch tab: the live feed of connects, disconnects, failures and server resets; follows
//! the newest entry unless paused or scrolled back.

use super::app::App;
use super::text;
use crate::feedline;
use crate::store::feed::FeedKind;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Widget};

/// Draws the Watch tab from the app state.
pub struct WatchView<'a> {
    pub app: &'a App,
}

impl Widget for &WatchView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.app;
        let th = app.theme;
        let store = &app.engine.store;
        let feed = app.visible_feed();
        let rows = area.height.saturating_sub(2) as usize;
        let bottom = match app.watch.anchor {
            None => feed.len(),
            Some(a) => feed.iter().rposition(|e| e.seq <= a).map_or(0, |i| i + 1),
        };
        let top = bottom.saturating_sub(rows);
        let lines: Vec<Line> = feed[top..bottom]
            .iter()
            .map(|e| {
                let (mark, what) = (feedline::marker(e), feedline::describe(store, e));
                let style = match (e.kind, e.refused) {
                    (FeedKind::Connect, true) => th.dim(),
                    (FeedKind::Connect, false) => th.connect(),
                    (FeedKind::Disconnect { .. }, _) => th.disconnect(),
                    (FeedKind::Failed { .. } | FeedKind::Reset { .. }, _) => th.failure(),
                };
                Line::from(vec![
                    Span::styled(format!(" {} ", text::clock(e.time)), th.dim()),
                    Span::styled(mark, style),
                    Span::raw(" "),
                    Span::styled(what, if e.refused { th.dim() } else { th.text() }),
                    Span::styled(format!("  pid {}", e.pid), th.dim()),
                ])
            })
            .collect();
        let unseen = app.unseen();
        let state = match (app.watch.paused, app.watch.anchor) {
            (true, _) => Span::styled(
                format!(" PAUSED · {unseen} new · space resumes "),
                th.badge(),
            ),
            (false, Some(_)) => Span::styled(
                format!(" scrolled back · {unseen} newer · End follows "),
                th.badge(),
            ),
            (false, None) => Span::styled(" following ", th.connect()),
        };
        let title = Line::from(vec![
            Span::styled(format!(" Live feed ({} events) ", feed.len()), th.title()),
            state,
        ]);
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(th.border())
            .title(title);
        if feed.is_empty() {
            Paragraph::new(Span::styled(
                " no connection event yet; new ones appear here as the log grows",
                th.dim(),
            ))
            .block(block)
            .render(area, buf);
            return;
        }
        Paragraph::new(lines).block(block).render(area, buf);
    }
}
