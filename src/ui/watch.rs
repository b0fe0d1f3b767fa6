//! The Watch tab: the live feed of connects, disconnects, failures and server resets; follows
//! the newest entry unless paused or scrolled back.

use super::app::App;
use super::text;
use crate::model::{EndCause, ServerChange};
use crate::report::human_ms;
use crate::store::feed::{FeedEvent, FeedKind};
use crate::store::Store;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Widget};

/// Draws the Watch tab from the app state.
pub struct WatchView<'a> {
    pub app: &'a App,
}

/// One feed entry as a line of text: marker, time, what happened (names made safe).
pub fn describe(store: &Store, e: &FeedEvent) -> (&'static str, String) {
    let names = store.names();
    let combo = ((e.combo as usize) < names.combo_count()).then(|| names.combo_of(e.combo));
    let nm = |f: fn(&crate::store::intern::Combo) -> u32| {
        combo.map_or_else(|| "unknown".to_string(), |c| text::name(names.name(f(&c))))
    };
    let (app, user, db, host) = (
        nm(|c| c.application),
        nm(|c| c.user),
        nm(|c| c.database),
        nm(|c| c.host),
    );
    let who = if app == "unknown" {
        "client".to_string()
    } else {
        app.clone()
    };
    let port = e.port.map(|p| format!(":{p}")).unwrap_or_default();
    let whom = format!("(user: {user}, db: {db})");
    match e.kind {
        FeedKind::Connect if e.refused => (
            "[x]",
            format!("{who} connected from {host}{port} {whom}, then refused"),
        ),
        FeedKind::Connect => ("[+]", format!("{who} connected from {host} {whom}")),
        FeedKind::Disconnect { millis, cause } => {
            let after = millis
                .map(|m| format!(" after {}", human_ms(m)))
                .unwrap_or_default();
            let why = match cause {
                Some(EndCause::Administrator) => ", terminated by an administrator",
                Some(EndCause::IdleTimeout) => ", idle timeout",
                Some(EndCause::ClientLost) => ", client lost",
                Some(EndCause::ServerSide) => ", ended by the server",
                None => "",
            };
            (
                "[-]",
                format!("{who} disconnected from {host}{after}{why} {whom}"),
            )
        }
        FeedKind::Failed { reason } => (
            "[!]",
            format!("{} failed: user {user}, db {db}, from {host}", reason.key()),
        ),
        FeedKind::Reset { change, ended } => {
            let what = match change {
                ServerChange::CrashReset => "server crashed and reset",
                ServerChange::Starting => "server starting",
                ServerChange::ShutDown => "server shut down",
                ServerChange::Reinitializing => "server reinitializing",
                ServerChange::Ready => "server ready",
                ServerChange::ShutdownRequested => "shutdown requested",
            };
            if ended == 0 {
                ("[*]", what.to_string())
            } else {
                ("[*]", format!("{what}: {ended} session(s) ended"))
            }
        }
    }
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
                let (mark, what) = describe(store, e);
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
