//! The dashboard's state: the engine it owns, the tab, the filter, each tab's view state, and the
//! one place where events and actions change it.

use super::event::{Event, Signal};
use super::keys::{self, Action};
use super::state::edit;
pub use super::state::{
    FilterInput, HistoryState, Mode, Pane, SortBy, SourceNote, SummaryState, Tab, WatchState,
    BUCKETS, WINDOWS,
};
use super::theme::Theme;
use super::{Clock, SourceMsg, UiOptions};
use crate::engine::Engine;
use crate::store::feed::FeedEvent;
use crate::store::filter::Filter;
use crate::store::intern::Dim;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind};
use std::collections::VecDeque;

/// Everything the dashboard shows and how.
pub struct App {
    /// The engine and its store; the UI owns it, nothing else writes to it.
    pub engine: Engine,
    pub tab: Tab,
    pub mode: Mode,
    /// The filter in force on every tab.
    pub filter: Filter,
    pub summary: SummaryState,
    pub history: HistoryState,
    pub watch: WatchState,
    /// View state of the Failures tab (ui::failures).
    pub failures: super::failures::FailuresState,
    pub notes: Vec<SourceNote>,
    pub theme: Theme,
    pub demo: bool,
    pub leak_window_minutes: u32,
    /// The wall clock.
    pub clock: Clock,
    /// (wall ms, lines read) samples for lines/s.
    rate: VecDeque<(i64, u64)>,
    /// The terminal size, for paging.
    pub size: (u16, u16),
    /// Something changed since the last frame.
    pub dirty: bool,
    /// The loop should end.
    pub quit: bool,
}

impl App {
    /// An app over an engine (already fed or to be fed).
    pub fn new(engine: Engine, opts: &UiOptions) -> App {
        let bucket = BUCKETS
            .iter()
            .copied()
            .find(|&b| b >= opts.bucket_secs)
            .unwrap_or(3600);
        App {
            engine,
            tab: Tab::Summary,
            mode: Mode::Normal,
            filter: opts.filter.clone(),
            summary: SummaryState {
                focus: Pane::By(Dim::Database),
                selected: [0; 5],
                sort: SortBy::Age,
            },
            history: HistoryState {
                bucket_secs: bucket,
                window_secs: WINDOWS[1],
            },
            watch: WatchState::default(),
            failures: Default::default(),
            notes: Vec::new(),
            theme: Theme { color: opts.color },
            demo: opts.demo,
            leak_window_minutes: opts.leak_window_minutes,
            clock: opts.clock.clone(),
            rate: VecDeque::new(),
            size: (80, 24),
            dirty: true,
            quit: false,
        }
    }

    /// Wall time now, Unix milliseconds.
    pub fn wall(&self) -> i64 {
        (self.clock)()
    }

    /// The time ages are measured to: the wall clock while the log keeps up with it, else the
    /// log's own clock (a replayed old log shows ages as of its end).
    pub fn reference_millis(&self) -> i64 {
        let log = self.engine.store.now().millis;
        let wall = self.wall();
        if log != 0 && (wall - log).abs() > 5 * 60_000 {
            log
        } else {
            wall.max(log)
        }
    }

    /// Lines per second over the last few seconds of wall time.
    pub fn lines_per_sec(&self) -> f64 {
        match (self.rate.front(), self.rate.back()) {
            (Some(a), Some(b)) if b.0 > a.0 => (b.1 - a.1) as f64 * 1000.0 / (b.0 - a.0) as f64,
            _ => 0.0,
        }
    }

    /// Reacts to one event.
    pub fn handle(&mut self, ev: Event) {
        match ev {
            Event::Key(k) => self.key(k),
            Event::Resize(w, h) => {
                self.size = (w, h);
                self.dirty = true;
            }
            Event::Input(batch) => {
                for i in batch {
                    self.input(i);
                }
                self.dirty = true;
            }
            Event::Tick => {
                let now = self.wall();
                self.rate.push_back((now, self.engine.line_stats().read));
                while self.rate.len() > 6 {
                    self.rate.pop_front();
                }
                self.dirty = true;
            }
            Event::Signal(Signal::Terminate | Signal::Hangup | Signal::Interrupt) => {
                self.quit = true;
            }
        }
    }

    fn note(&mut self, source: u16) -> &mut SourceNote {
        let i = source as usize;
        if self.notes.len() <= i {
            self.notes.resize_with(i + 1, SourceNote::default);
        }
        &mut self.notes[i]
    }

    /// Applies one message from a tailer: the engine takes its part, the header notes the rest.
    pub fn input(&mut self, msg: SourceMsg) {
        let source = msg.source() as u16;
        match &msg {
            SourceMsg::CaughtUp { .. } => {
                let n = self.note(source);
                n.caught_up = true;
                n.progress = None;
            }
            SourceMsg::Progress { done, total, .. } => {
                self.note(source).progress = Some((*done, *total))
            }
            _ => {}
        }
        if let Some(sentence) = crate::live::apply(&mut self.engine, msg) {
            self.note(source).status = Some(sentence);
        }
    }

    /// Reacts to a key according to the mode.
    pub fn key(&mut self, k: KeyEvent) {
        if k.kind == KeyEventKind::Release {
            return;
        }
        self.dirty = true;
        if keys::is_interrupt(&k) {
            self.quit = true;
            return;
        }
        match &mut self.mode {
            Mode::Normal => {
                if let Some(a) = keys::normal_action(&k, self.tab) {
                    self.apply(a);
                }
            }
            Mode::Help => {
                if matches!(
                    k.code,
                    KeyCode::Esc | KeyCode::Char('?' | 'q') | KeyCode::Enter
                ) {
                    self.mode = Mode::Normal;
                }
            }
            Mode::Confirm => {
                if matches!(k.code, KeyCode::Char('y' | 'Y')) {
                    self.engine.store.clear();
                    self.summary.selected = [0; 5];
                    self.watch = WatchState::default();
                    self.rate.clear();
                }
                self.mode = Mode::Normal;
            }
            Mode::Filter(input) => {
                if let Some(f) = edit(input, k) {
                    self.filter = f;
                    self.summary.selected = [0; 5];
                    self.mode = Mode::Normal;
                } else if k.code == KeyCode::Esc {
                    self.mode = Mode::Normal;
                }
            }
        }
    }

    /// Does what an action asks.
    pub fn apply(&mut self, a: Action) {
        self.dirty = true;
        let i = Tab::ALL.len();
        match a {
            Action::Quit => self.quit = true,
            Action::NextTab => self.tab = Tab::ALL[(self.tab.index() + 1) % i],
            Action::PrevTab => self.tab = Tab::ALL[(self.tab.index() + i - 1) % i],
            Action::GoTab(t) => self.tab = t,
            Action::ToggleHelp => self.mode = Mode::Help,
            Action::OpenFilter => {
                let text = self.filter.to_text();
                let mut text = text;
                if !text.is_empty() {
                    text.push(' ');
                }
                self.mode = Mode::Filter(FilterInput {
                    cursor: text.chars().count(),
                    text,
                    error: None,
                });
            }
            Action::ClearFilter => {
                self.filter = Filter::default();
                self.summary.selected = [0; 5];
            }
            Action::AskClear => self.mode = Mode::Confirm,
            Action::CycleSort if self.tab == Tab::Failures => self.failures.cycle_sort(),
            Action::CycleSort => {
                let n = SortBy::ALL.len();
                let p = SortBy::ALL.iter().position(|&s| s == self.summary.sort);
                self.summary.sort = SortBy::ALL[(p.unwrap_or(0) + 1) % n];
            }
            Action::CycleBucket => {
                self.history.bucket_secs = next_of(&BUCKETS, self.history.bucket_secs);
            }
            Action::CycleWindow => {
                self.history.window_secs = next_of(&WINDOWS, self.history.window_secs);
            }
            Action::FocusLeft | Action::FocusRight => {
                let p = Pane::ALL.iter().position(|&x| x == self.summary.focus);
                let p = p.unwrap_or(0);
                let n = Pane::ALL.len();
                let q = if a == Action::FocusLeft {
                    (p + n - 1) % n
                } else {
                    (p + 1) % n
                };
                self.summary.focus = Pane::ALL[q];
            }
            Action::Select => self.select(),
            Action::TogglePause => self.toggle_pause(),
            Action::Up | Action::Down | Action::PageUp | Action::PageDown => self.scroll(a),
            Action::Home | Action::End => self.scroll(a),
        }
    }

    /// The rows of the focused summary pane's values, as text to filter by.
    pub fn pane_len(&self, pane: Pane) -> usize {
        let s = self.engine.store.summary(&self.filter);
        match pane {
            Pane::By(d) => by_dim(&s, d).len(),
            Pane::Sessions => s.active_total as usize,
        }
    }

    fn focus_index(&self) -> usize {
        Pane::ALL
            .iter()
            .position(|&x| x == self.summary.focus)
            .unwrap_or(0)
    }

    fn select(&mut self) {
        let Pane::By(dim) = self.summary.focus else {
            return;
        };
        let s = self.engine.store.summary(&self.filter);
        let row = self.summary.selected[self.focus_index()];
        if let Some((name, _)) = by_dim(&s, dim).get(row) {
            let value = String::from_utf8_lossy(name).into_owned();
            self.filter.set(dim, Some(value));
            self.summary.selected = [0; 5];
        }
    }

    fn toggle_pause(&mut self) {
        if self.watch.paused {
            self.watch.paused = false;
            self.watch.anchor = None;
        } else {
            self.watch.paused = true;
            self.watch.anchor = Some(self.newest_visible_seq().unwrap_or(0));
        }
    }

    /// Feed entries that pass the filter, oldest first.
    pub fn visible_feed(&self) -> Vec<FeedEvent> {
        let store = &self.engine.store;
        let names = store.names();
        let f = self.filter.resolve(names);
        let filtered = !self.filter.is_empty();
        store
            .feed()
            .iter()
            .filter(|e| {
                if matches!(e.kind, crate::store::feed::FeedKind::Reset { .. }) {
                    return true;
                }
                !filtered
                    || ((e.combo as usize) < names.combo_count()
                        && f.matches(&names.combo_of(e.combo)))
            })
            .copied()
            .collect()
    }

    fn newest_visible_seq(&self) -> Option<u64> {
        self.visible_feed().last().map(|e| e.seq)
    }

    /// Entries that arrived after the anchor (while paused or scrolled back).
    pub fn unseen(&self) -> usize {
        match self.watch.anchor {
            None => 0,
            Some(a) => self.visible_feed().iter().filter(|e| e.seq > a).count(),
        }
    }

    fn scroll(&mut self, a: Action) {
        match self.tab {
            Tab::Summary => {
                let i = self.focus_index();
                let len = self.pane_len(self.summary.focus);
                let page = 10;
                let cur = self.summary.selected[i];
                let last = len.saturating_sub(1);
                self.summary.selected[i] = match a {
                    Action::Up => cur.saturating_sub(1),
                    Action::Down => (cur + 1).min(last),
                    Action::PageUp => cur.saturating_sub(page),
                    Action::PageDown => (cur + page).min(last),
                    Action::Home => 0,
                    _ => last,
                };
            }
            Tab::Watch => self.scroll_feed(a),
            Tab::Failures => self.failures.scroll(a, super::failures::row_count(self)),
            Tab::History => {}
        }
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

/// The summary table of one dimension.
pub fn by_dim(s: &crate::store::views::Summary, d: Dim) -> &[(crate::store::intern::Name, u64)] {
    match d {
        Dim::Database => &s.by_database,
        Dim::User => &s.by_user,
        Dim::Application => &s.by_application,
        Dim::Host => &s.by_host,
    }
}

fn next_of(list: &[u32], cur: u32) -> u32 {
    let p = list.iter().position(|&x| x == cur);
    list[p.map_or(0, |p| (p + 1) % list.len())]
}
