//! The dashboard's view state, piece by piece: tabs, modes, the filter line being edited, and
//! what each tab remembers (focus, selection, sort, bucket, window, pause).

use crate::store::intern::{Dim, Sym};
use crate::store::views::ActiveSession;

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
    /// The whole text is selected (the line opens so, holding the filter in force): the first
    /// character typed replaces it; a movement or editing key keeps it and edits it.
    pub selected: bool,
    /// The history entry shown by Up / Down (index from the newest), `None`: the line typed.
    pub recall: Option<usize>,
    /// The line typed before Up recalled history, given back by Down past the newest entry.
    pub draft: String,
}

/// What keys go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// The help overlay is shown.
    Help,
    /// Asking y/n before clearing the statistics.
    Confirm,
    /// The details of one open session (source, pid).
    Details(u16, u32),
    /// The filter input line is open.
    Filter(FilterInput),
    /// The Watch tab's search line is open.
    Search(FilterInput),
}

/// The panes of the Summary tab that take focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    By(Dim),
    Sessions,
    /// The failures by reason, user and host (scrolls).
    Failures,
}

impl Pane {
    /// In focus order (the Server pane, drawn on top, is reached by ← from the first table;
    /// it shows, and takes focus, only with more than one server).
    pub const ALL: [Pane; 7] = [
        Pane::By(Dim::Database),
        Pane::By(Dim::User),
        Pane::By(Dim::Application),
        Pane::By(Dim::Host),
        Pane::Sessions,
        Pane::Failures,
        Pane::By(Dim::Server),
    ];

    /// Position in `Pane::ALL`.
    pub fn index(self) -> usize {
        Pane::ALL.iter().position(|&p| p == self).unwrap_or(0)
    }
}

/// What a selection holds on to, so it follows its row when rows re-sort or arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKey {
    /// A name of a by-dimension table.
    Name(Sym),
    /// An open session (source, pid).
    Session(u16, u32),
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

    /// Whether the column's values read downwards (▾) in the unreversed order: ages do
    /// (oldest session first), the others ascend (▴).
    pub fn descends(self) -> bool {
        self == SortBy::Age
    }

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
    /// Selected row (the Failures pane: first line shown) of each pane, in `Pane::ALL` order;
    /// where the selection falls back to when its row is gone.
    pub selected: [usize; Pane::ALL.len()],
    /// The row each pane's selection holds on to.
    pub picked: [Option<RowKey>; Pane::ALL.len()],
    pub sort: SortBy,
    /// The sort order is reversed (`r`).
    pub reversed: bool,
}

impl SummaryState {
    /// Every selection back to the first row.
    pub fn reset_selection(&mut self) {
        self.selected = [0; Pane::ALL.len()];
        self.picked = [None; Pane::ALL.len()];
    }
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
