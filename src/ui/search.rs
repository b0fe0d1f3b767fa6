//! Search in the Watch tab: `/` opens a search line (the filter line's readline editing), the
//! feed's matches are highlighted, `n` / `N` jump to the next (newer) / previous (older) match
//! and Esc clears. Matching is ASCII case-insensitive on the line as drawn.

use super::app::{App, FilterInput, Mode};
use super::input::{self, Outcome};
use super::keys::Action;
use super::text;
use super::theme::Theme;
use crate::feedline;
use crate::store::feed::FeedEvent;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Clear, Widget};

/// What the Watch tab searches for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchState {
    /// The text searched for (empty: no search).
    pub query: String,
    /// The feed entry (by sequence number) of the current match.
    pub current: Option<u64>,
    /// Searches made, newest last, for Up / Down in the search line.
    pub history: Vec<String>,
}

/// The text a feed entry is searched in: what the Watch tab draws for it.
pub fn line_text(app: &App, e: &FeedEvent) -> String {
    format!(
        " {} {} {}  pid {}",
        text::clock(e.time),
        feedline::marker(e),
        feedline::describe(&app.engine.store, e),
        e.pid
    )
}

/// Whether `hay` holds `needle` (ASCII case-insensitive; `needle` already lower-case).
pub fn contains(hay: &str, needle: &str) -> bool {
    find(hay, needle, 0).is_some()
}

fn find(hay: &str, needle: &str, from: usize) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    (from..=h.len() - n.len()).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// The visible feed's entries that match, oldest first (sequence numbers).
pub fn matches(app: &App) -> Vec<u64> {
    let q = app.search.query.to_ascii_lowercase();
    if q.is_empty() {
        return Vec::new();
    }
    app.visible_feed()
        .iter()
        .filter(|e| contains(&line_text(app, e), &q))
        .map(|e| e.seq)
        .collect()
}

/// Splits styled pieces so that every match of `needle` (lower-case) is drawn with `hl`.
pub fn highlight(pieces: Vec<(String, Style)>, needle: &str, hl: Style) -> Vec<Span<'static>> {
    let whole: String = pieces.iter().map(|p| p.0.as_str()).collect();
    let mut marked = vec![false; whole.len()];
    let mut at = 0;
    while let Some(i) = find(&whole, needle, at) {
        marked[i..i + needle.len()]
            .iter_mut()
            .for_each(|m| *m = true);
        at = i + needle.len().max(1);
    }
    let mut out = Vec::new();
    let mut pos = 0;
    for (s, style) in pieces {
        let mut start = 0;
        let b = s.as_bytes();
        while start < b.len() {
            let m = marked[pos + start];
            let mut end = start + 1;
            while end < b.len() && (marked[pos + end] == m || !s.is_char_boundary(end)) {
                end += 1;
            }
            out.push(Span::styled(
                s[start..end].to_string(),
                if m { hl } else { style },
            ));
            start = end;
        }
        pos += b.len();
    }
    out
}

/// Moves to the next (newer) or previous (older) match, wrapping, and scrolls the feed to it.
fn jump(app: &mut App, newer: bool) {
    let all = matches(app);
    let Some((&first, &last)) = all.first().zip(all.last()) else {
        app.search.current = None;
        return;
    };
    let next = match app.search.current {
        None => last,
        Some(c) if newer => all.iter().copied().find(|&s| s > c).unwrap_or(first),
        Some(c) => all.iter().rev().copied().find(|&s| s < c).unwrap_or(last),
    };
    show(app, next);
}

/// Makes `seq` the current match, scrolled into view (the feed stops following).
fn show(app: &mut App, seq: u64) {
    app.search.current = Some(seq);
    let feed = app.visible_feed();
    let rows = usize::from(app.size.1.saturating_sub(7)).max(1);
    // The match in the middle of the view when there is feed below it.
    let pos = feed.iter().position(|e| e.seq == seq).unwrap_or(0);
    let bottom = (pos + rows / 2).min(feed.len().saturating_sub(1));
    app.watch.anchor = feed.get(bottom).map(|e| e.seq);
}

/// The newest match at or above the line the view ends on.
fn first_match(app: &mut App) {
    let all = matches(app);
    let limit = app.watch.anchor.unwrap_or(u64::MAX);
    match all.iter().rev().find(|&&s| s <= limit).or(all.last()) {
        Some(&s) => show(app, s),
        None => app.search.current = None,
    }
}

/// Does a search action of the normal mode.
pub fn act(app: &mut App, a: Action) {
    match a {
        Action::OpenSearch => {
            let mut line = FilterInput {
                cursor: app.search.query.chars().count(),
                selected: !app.search.query.is_empty(),
                text: app.search.query.clone(),
                ..FilterInput::default()
            };
            line.error = None;
            app.mode = Mode::Search(line);
        }
        Action::NextMatch => jump(app, true),
        Action::PrevMatch => jump(app, false),
        Action::ClearSearch => {
            app.search.query.clear();
            app.search.current = None;
        }
        _ => {}
    }
}

/// A key in the search line: Enter searches, Esc cancels, the rest edits.
pub fn on_key(app: &mut App, k: KeyEvent) {
    let Mode::Search(mut line) = std::mem::replace(&mut app.mode, Mode::Normal) else {
        return;
    };
    match k.code {
        KeyCode::Enter => {
            input::remember(&mut app.search.history, &line.text);
            app.search.query = line.text;
            app.search.current = None;
            if !app.search.query.is_empty() {
                first_match(app);
            }
        }
        KeyCode::Esc => {}
        _ => {
            if input::edit(&mut line, k, &app.search.history) == Outcome::Cancel {
                return;
            }
            app.mode = Mode::Search(line);
        }
    }
}

/// The search line at the bottom of the Watch tab.
pub struct SearchLine<'a> {
    pub theme: Theme,
    pub input: &'a FilterInput,
}

impl Widget for SearchLine<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let th = self.theme;
        Clear.render(area, buf);
        let title = Span::styled(
            " text in the feed, any case · Enter searches · Esc cancels ",
            th.focus(),
        );
        super::overlay::input_line(th, " search: ", self.input, title, th.focus())
            .render(area, buf);
    }
}
