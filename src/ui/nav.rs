//! Moving around: the selection of each Summary pane (held by its row's key), the Failures
//! pane's scroll, Enter on a row, the Watch feed's scroll and the help's scroll.

use super::app::App;
use super::keys::Action;
use super::rows::dim_rows;
use super::state::{Mode, Pane, RowKey, Tab};

/// Lines a page moves in a Summary pane.
const PAGE: usize = 10;

/// The new position for a movement from `cur` among `len` rows.
fn moved(a: Action, cur: usize, len: usize, page: usize) -> usize {
    let last = len.saturating_sub(1);
    match a {
        Action::Up => cur.saturating_sub(1),
        Action::Down => (cur + 1).min(last),
        Action::PageUp => cur.saturating_sub(page),
        Action::PageDown => (cur + page).min(last),
        Action::Home => 0,
        _ => last,
    }
}

impl App {
    /// Lines of the Failures pane (reasons, then by user and by host with their titles).
    pub fn failure_lines(&self) -> usize {
        let s = self.engine.store.summary(&self.filter);
        let groups = [&s.failures_by_user, &s.failures_by_host];
        s.failures_by_reason.len().max(1)
            + groups
                .iter()
                .filter(|g| !g.is_empty())
                .map(|g| g.len().min(super::summary::FAILURE_ROWS) + 1)
                .sum::<usize>()
    }

    /// Moves the selection (or scroll) of the focused pane or the feed.
    pub(super) fn scroll(&mut self, a: Action) {
        match self.tab {
            Tab::Summary => {
                let pane = self.summary.focus;
                let i = pane.index();
                if pane == Pane::Failures {
                    // The first line shown; it stops where the last line is at the bottom.
                    let shown = self.failures_shown.get();
                    let len = self.failure_lines().saturating_sub(shown.max(1)) + 1;
                    let cur = self.summary.selected[i].min(len.saturating_sub(1));
                    self.summary.selected[i] = moved(a, cur, len, PAGE);
                    return;
                }
                let keys = self.row_keys(pane);
                let cur = self.selected_in(pane, &keys);
                let to = moved(a, cur, keys.len(), PAGE);
                self.summary.selected[i] = to;
                self.summary.picked[i] = keys.get(to).copied();
            }
            Tab::Watch => self.scroll_feed(a),
            Tab::Failures => self.failures.scroll(a, super::failures::row_count(self)),
            Tab::History => {}
        }
    }

    /// Enter on a row: a name filters by it (raw bytes; the unset value as `(none)`), a
    /// session opens its details.
    pub(super) fn select(&mut self) {
        let pane = self.summary.focus;
        match pane {
            Pane::By(dim) => {
                let rows = dim_rows(&self.engine.store, &self.filter, dim);
                let keys: Vec<RowKey> = rows.iter().map(|r| RowKey::Name(r.sym)).collect();
                let at = self.selected_in(pane, &keys);
                if let Some(cond) = rows.get(at).and_then(|r| r.cond()) {
                    self.filter.set(dim, Some(cond));
                    super::input::remember(&mut self.filter_history, &self.filter.to_text());
                    self.summary.reset_selection();
                }
            }
            Pane::Sessions => {
                let keys = self.row_keys(pane);
                if let Some(RowKey::Session(source, pid)) = keys.get(self.selected_in(pane, &keys))
                {
                    self.mode = Mode::Details(*source, *pid);
                }
            }
            Pane::Failures => {}
        }
    }

    /// Scrolls the help overlay.
    pub(super) fn scroll_help(&mut self, a: Action) {
        let page = usize::from(self.size.1.saturating_sub(10)).max(1);
        self.help_scroll = match a {
            Action::Up => self.help_scroll.saturating_sub(1),
            Action::Down => self.help_scroll + 1,
            Action::PageUp => self.help_scroll.saturating_sub(page),
            Action::PageDown => self.help_scroll + page,
            Action::Home => 0,
            Action::End => usize::MAX / 2,
            _ => self.help_scroll,
        };
        self.help_scroll = self
            .help_scroll
            .min(super::overlay::help_max_scroll(self.size));
    }

    /// Feed lines a page shows (terminal height less header, tabs, footer and borders).
    pub fn feed_page(&self) -> usize {
        usize::from(self.size.1.saturating_sub(8)).max(1)
    }

    fn scroll_feed(&mut self, a: Action) {
        let feed = self.visible_feed();
        if feed.is_empty() {
            return;
        }
        let page = self.feed_page();
        let newest = feed.len() - 1;
        let cur = match self.watch.anchor {
            None => newest,
            Some(s) => feed.iter().rposition(|e| e.seq <= s).unwrap_or(0),
        };
        let first_full = page.saturating_sub(1).min(newest);
        let target = match a {
            Action::Up => cur.saturating_sub(1),
            Action::Down => cur + 1,
            Action::PageUp => cur.saturating_sub(page),
            Action::PageDown => cur + page,
            Action::Home => first_full,
            _ => usize::MAX,
        };
        let target = target.max(first_full);
        if target >= newest {
            if a == Action::End || !self.watch.paused {
                self.watch.paused = false;
                self.watch.anchor = None;
            } else {
                self.watch.anchor = Some(feed[newest].seq);
            }
        } else {
            self.watch.anchor = Some(feed[target].seq);
        }
    }
}
