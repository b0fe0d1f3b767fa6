//! The Watch tab: the live feed of connects, disconnects, failures and server resets; follows
//! the newest entry unless paused or scrolled back.

use super::app::App;
use super::search;
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
        let query = app.search.query.to_ascii_lowercase();
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
                let current = app.search.current == Some(e.seq);
                let pieces = vec![
                    (
                        format!(
                            "{}{} ",
                            if current { ">" } else { " " },
                            text::clock(e.time)
                        ),
                        th.dim(),
                    ),
                    (mark.to_string(), style),
                    (" ".to_string(), th.text()),
                    // A fleet: the server the event is from (ui::servers).
                    (
                        super::servers::watch_server(store, e).unwrap_or_default(),
                        th.title(),
                    ),
                    (what, if e.refused { th.dim() } else { th.text() }),
                    (format!("  pid {}", e.pid), th.dim()),
                ];
                if query.is_empty() {
                    Line::from(
                        pieces
                            .into_iter()
                            .map(|(t, st)| Span::styled(t, st))
                            .collect::<Vec<_>>(),
                    )
                } else {
                    let hl = if current { th.badge() } else { th.selected() };
                    Line::from(search::highlight(pieces, &query, hl))
                }
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
        let mut block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(th.border())
            .title(title);
        if !app.search.query.is_empty() {
            let all = search::matches(app);
            let at = app
                .search
                .current
                .and_then(|c| all.iter().position(|&s| s == c))
                .map_or_else(|| "-".to_string(), |i| (i + 1).to_string());
            block = block.title_bottom(Span::styled(
                format!(
                    " search \"{}\": {at}/{} · n/N · Esc clears ",
                    text::name(app.search.query.as_bytes()),
                    all.len()
                ),
                if all.is_empty() {
                    th.warning()
                } else {
                    th.key()
                },
            ));
        }

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
