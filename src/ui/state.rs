//! The dashboard's view state, piece by piece: tabs, modes, the filter line being edited, and
//! what each tab remembers (focus, selection, sort, bucket, window, pause).

use crate::store::filter::Filter;
use crate::store::intern::Dim;
use crate::store::views::ActiveSession;
use ratatui::crossterm::event::{KeyCode, KeyEvent};

/// The tabs, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    Summary,
    History,
    Watch,
    Failures,
}

impl Tab {
    /// Every tab, in order.
    pub const ALL: [Tab; 4] = [Tab::Summary, Tab::History, Tab::Watch, Tab::Failures];

    /// The tab's title.
    pub fn title(self) -> &'static str {
        match self {
            Tab::Summary => "Summary",
            Tab::History => "History",
            Tab::Watch => "Watch",
            Tab::Failures => "Failures",
        }
    }

    /// Position in `Tab::ALL`.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The filter input line being edited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterInput {
    /// The text typed so far.
    pub text: String,
    /// Cursor position, in characters.
    pub cursor: usize,
    /// Why the last Enter was refused.
    pub error: Option<String>,
}

/// What keys go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// The help overlay is shown.
    Help,
    /// Asking y/n before clearing the statistics.
    Confirm,
    /// The filter input line is open.
    Filter(FilterInput),
}

/// The panes of the Summary tab that take focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    By(Dim),
    Sessions,
}

impl Pane {
    /// In focus order.
    pub const ALL: [Pane; 5] = [
        Pane::By(Dim::Database),
        Pane::By(Dim::User),
        Pane::By(Dim::Application),
        Pane::By(Dim::Host),
        Pane::Sessions,
    ];
}

/// Columns the session list sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Age,
    Pid,
    User,
    Database,
    Application,
    Host,
}

impl SortBy {
    /// Every column, in the order `s` cycles.
    pub const ALL: [SortBy; 6] = [
        SortBy::Age,
        SortBy::Pid,
        SortBy::User,
        SortBy::Database,
        SortBy::Application,
        SortBy::Host,
    ];

    /// Sorts sessions: oldest first for age, ascending otherwise, pid breaking ties.
    pub fn sort(self, v: &mut [ActiveSession]) {
        v.sort_by(|a, b| {
            let o = match self {
                SortBy::Age => a.since.millis.cmp(&b.since.millis),
                SortBy::Pid => a.pid.cmp(&b.pid),
                SortBy::User => a.user.cmp(&b.user),
                SortBy::Database => a.database.cmp(&b.database),
                SortBy::Application => a.application.cmp(&b.application),
                SortBy::Host => a.host.cmp(&b.host),
            };
            o.then(a.pid.cmp(&b.pid)).then(a.source.cmp(&b.source))
        });
    }
}

/// View state of the Summary tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryState {
    pub focus: Pane,
    /// Selected row of each pane, in `Pane::ALL` order.
    pub selected: [usize; 5],
    pub sort: SortBy,
}

/// History bucket sizes, in seconds.
pub const BUCKETS: [u32; 4] = [60, 300, 900, 3600];
/// History windows, in seconds.
pub const WINDOWS: [u32; 3] = [3600, 6 * 3600, 24 * 3600];

/// View state of the History tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryState {
    pub bucket_secs: u32,
    pub window_secs: u32,
}

/// View state of the Watch tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WatchState {
    /// Paused by the user: the view stays still while events arrive.
    pub paused: bool,
    /// The newest entry shown when not following (paused or scrolled back); `None` follows.
    pub anchor: Option<u64>,
}

/// Per-source notes the header shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceNote {
    pub status: Option<String>,
    pub caught_up: bool,
    pub progress: Option<(u64, u64)>,
}

/// Edits the filter line with one key; returns the parsed filter on a good Enter.
pub(super) fn edit(input: &mut FilterInput, k: KeyEvent) -> Option<Filter> {
    let byte = |s: &str, c: usize| s.char_indices().nth(c).map_or(s.len(), |(i, _)| i);
    let len = input.text.chars().count();
    match k.code {
        KeyCode::Enter => match Filter::parse(&input.text) {
            Ok(f) => return Some(f),
            Err(e) => input.error = Some(e.to_string()),
        },
        KeyCode::Char(c) => {
            let at = byte(&input.text, input.cursor);
            input.text.insert(at, c);
            input.cursor += 1;
            input.error = None;
        }
        KeyCode::Backspace if input.cursor > 0 => {
            input.cursor -= 1;
            let at = byte(&input.text, input.cursor);
            input.text.remove(at);
            input.error = None;
        }
        KeyCode::Delete if input.cursor < len => {
            let at = byte(&input.text, input.cursor);
            input.text.remove(at);
            input.error = None;
        }
        KeyCode::Left => input.cursor = input.cursor.saturating_sub(1),
        KeyCode::Right => input.cursor = (input.cursor + 1).min(len),
        KeyCode::Home => input.cursor = 0,
        KeyCode::End => input.cursor = len,
        _ => {}
    }
    None
}
