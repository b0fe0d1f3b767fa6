//! The dashboard's state: the engine it owns, the tab, the filter, each tab's view state, and the
//! one place where events and actions change it.

use super::event::{Event, Signal};
use super::input::{self, Outcome};
use super::keys::{self, Action};
pub use super::state::{
    FilterInput, HistoryState, Mode, Pane, RowKey, SortBy, SourceNote, SummaryState, Tab,
    WatchState, BUCKETS, WINDOWS,
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
    /// The Watch tab's search.
    pub search: super::search::SearchState,
    /// Where the last frame drew what, for the mouse.
    pub hits: super::mouse::Hits,
    /// Where `e` / `E` write (the current directory).
    pub export_dir: std::path::PathBuf,
    /// A sentence the footer shows until the next key (where an export went, or why not).
    pub status: Option<String>,
    pub notes: Vec<SourceNote>,
    pub theme: Theme,
    pub demo: bool,
    pub leak_window_minutes: u32,
    /// The wall clock.
    pub clock: Clock,
    /// (wall ms, lines read) samples for lines/s.
    pub(super) rate: VecDeque<(i64, u64)>,
    /// Filters applied, newest last, for Up / Down in the filter line.
    pub filter_history: Vec<String>,
    /// First line of the help shown (the help scrolls when the terminal is short).
    pub help_scroll: usize,
    /// Lines the Failures pane showed in the last frame (where its scrolling stops).
    pub failures_shown: std::cell::Cell<usize>,
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
                selected: [0; Pane::ALL.len()],
                picked: [None; Pane::ALL.len()],
                sort: SortBy::Age,
                reversed: false,
            },
            history: HistoryState {
                bucket_secs: bucket,
                window_secs: WINDOWS[1],
            },
            watch: WatchState::default(),
            failures: Default::default(),
            search: Default::default(),
            hits: Default::default(),
            export_dir: std::path::PathBuf::from("."),
            status: None,
            notes: Vec::new(),
            theme: Theme {
                color: opts.color,
                basic: opts.basic_colors,
                ascii: opts.ascii,
            },
            demo: opts.demo,
            leak_window_minutes: opts.leak_window_minutes,
            clock: opts.clock.clone(),
            rate: VecDeque::new(),
            filter_history: Vec::new(),
            help_scroll: 0,
            failures_shown: std::cell::Cell::new(10),
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
            Event::Mouse(m) => self.mouse(m),
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
        self.status = None;
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
                } else if let Some(a) = keys::normal_action(&k, Tab::Watch) {
                    self.scroll_help(a);
                }
            }
            Mode::Details(..) => {
                if matches!(k.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q')) {
                    self.mode = Mode::Normal;
                }
            }
            Mode::Confirm => {
                if matches!(k.code, KeyCode::Char('y' | 'Y')) {
                    self.engine.store.clear();
                    self.summary.reset_selection();
                    self.watch = WatchState::default();
                    self.rate.clear();
                }
                self.mode = Mode::Normal;
            }
            Mode::Search(_) => super::search::on_key(self, k),
            Mode::Filter(line) => match input::edit(line, k, &self.filter_history) {
                Outcome::Editing => {}
                Outcome::Apply(f) => {
                    input::remember(&mut self.filter_history, &f.to_text());
                    self.filter = f;
                    self.summary.reset_selection();
                    self.mode = Mode::Normal;
                }
                Outcome::Cancel => self.mode = Mode::Normal,
            },
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
            Action::ToggleHelp => {
                self.help_scroll = 0;
                self.mode = Mode::Help;
            }
            Action::OpenFilter => self.mode = Mode::Filter(input::open(&self.filter)),
            Action::ClearFilter => {
                self.filter = Filter::default();
                self.summary.reset_selection();
            }
            Action::ReverseSort => self.summary.reversed = !self.summary.reversed,
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
                let mut q = p;
                // The Server pane is skipped when it is not shown (one server).
                loop {
                    q = if a == Action::FocusLeft {
                        (q + n - 1) % n
                    } else {
                        (q + 1) % n
                    };
                    if Pane::ALL[q] != Pane::By(Dim::Server) || self.engine.store.is_fleet() {
                        break;
                    }
                }
                self.summary.focus = Pane::ALL[q];
            }
            Action::Select => self.select(),
            Action::TogglePause => self.toggle_pause(),
            Action::Up | Action::Down | Action::PageUp | Action::PageDown => self.scroll(a),
            Action::Home | Action::End => self.scroll(a),
            Action::ExportJson | Action::ExportCsv => {
                use super::export::{export, Format};
                let f = if a == Action::ExportJson {
                    Format::Json
                } else {
                    Format::Csv
                };
                self.status = Some(export(self, f).1);
            }
            Action::OpenSearch | Action::NextMatch | Action::PrevMatch | Action::ClearSearch => {
                super::search::act(self, a)
            }
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
        self.engine
            .store
            .feed_matching(&self.filter)
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
}

fn next_of(list: &[u32], cur: u32) -> u32 {
    let p = list.iter().position(|&x| x == cur);
    list[p.map_or(0, |p| (p + 1) % list.len())]
}
