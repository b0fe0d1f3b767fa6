//! The full-screen dashboard: terminal guard, event loop, app state and the widgets that draw it.
//!
//! Data flows one way: [`SourceMsg`] batches feed the engine, the [`App`] owns the engine and its
//! view state, and every frame is drawn from `&App` by [`draw`].

pub mod app;
pub mod capacity;
pub mod chrome;
pub mod details;
pub mod event;
pub mod export;
pub mod failures;
pub mod fitline;
pub mod history;
pub mod input;
pub mod keys;
pub mod mouse;
pub mod nav;
pub mod overlay;
pub mod rows;
pub mod search;
pub mod servers;
pub mod setup;
pub mod state;
pub mod summary;
pub mod terminal;
pub mod text;
pub mod theme;
pub mod watch;

pub use app::{App, Mode, Tab};
pub use event::{run, Event};

use crate::cli::Cli;
use crate::store::filter::Filter;
use ratatui::layout::{Constraint, Layout};
use ratatui::widgets::{Clear, Paragraph, Widget};
use ratatui::Frame;
use std::sync::Arc;

/// The smallest terminal the dashboard draws in.
pub const MIN_WIDTH: u16 = 60;
/// The smallest terminal the dashboard draws in.
pub const MIN_HEIGHT: u16 = 15;

/// What a log tailer sends the dashboard, in batches: the source layer's messages.
pub use crate::source::SourceMsg;

/// The wall clock, in Unix milliseconds; injectable so tests draw the same frame every time.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The real wall clock.
pub fn system_clock() -> Clock {
    Arc::new(|| chrono::Utc::now().timestamp_millis())
}

/// A clock stopped at `millis`.
pub fn fixed_clock(millis: i64) -> Clock {
    Arc::new(move || millis)
}

/// How the dashboard starts.
#[derive(Clone)]
pub struct UiOptions {
    /// The filter in force at start (from `--db --user --app --host`).
    pub filter: Filter,
    /// History bucket, in seconds (60, 300, 900 or 3600).
    pub bucket_secs: u32,
    /// Leak detection window, in minutes.
    pub leak_window_minutes: u32,
    /// Show the `DEMO` badge.
    pub demo: bool,
    /// Entries the live feed keeps (informational; the store owns the ring).
    pub feed_size: usize,
    /// The wall clock.
    pub clock: Clock,
    /// Honour colours (false under `NO_COLOR`).
    pub color: bool,
    /// Only the 16 basic colours (a terminal without 256 colours, such as `TERM=linux`).
    pub basic_colors: bool,
    /// Plain ASCII glyphs (a terminal that may not draw box-drawing or block glyphs).
    pub ascii: bool,
}

impl std::fmt::Debug for UiOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UiOptions")
            .field("filter", &self.filter)
            .field("bucket_secs", &self.bucket_secs)
            .field("demo", &self.demo)
            .finish_non_exhaustive()
    }
}

impl Default for UiOptions {
    fn default() -> Self {
        UiOptions {
            filter: Filter::default(),
            bucket_secs: 900,
            leak_window_minutes: 60,
            demo: false,
            feed_size: 10_000,
            clock: system_clock(),
            color: theme::color_from_env(),
            basic_colors: false,
            ascii: false,
        }
    }
}

impl UiOptions {
    /// The options the command line asks for.
    pub fn from_cli(cli: &Cli) -> UiOptions {
        UiOptions {
            filter: cli.filter(),
            bucket_secs: cli.bucket,
            leak_window_minutes: (cli.leak_window / 60).max(4),
            demo: cli.demo,
            feed_size: cli.feed_size,
            basic_colors: theme::basic_colors_from_env(),
            ascii: theme::ascii_from_env(),
            ..UiOptions::default()
        }
    }
}

/// Draws one frame of the dashboard from the app state.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    let buf = frame.buffer_mut();
    app.hits.clear();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        Paragraph::new(format!(
            "terminal too small (need {MIN_WIDTH}x{MIN_HEIGHT}, have {}x{})",
            area.width, area.height
        ))
        .style(app.theme.warning())
        .render(area, buf);
        return;
    }
    let [head, tabs, body, foot] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    mouse::note_tabs(&app.hits, tabs);
    chrome::Header { app }.render(head, buf);
    chrome::TabBar { app }.render(tabs, buf);
    match app.tab {
        Tab::Summary => (&summary::SummaryView { app }).render(body, buf),
        Tab::History => (&history::HistoryView { app }).render(body, buf),
        Tab::Watch => (&watch::WatchView { app }).render(body, buf),
        Tab::Failures => (&failures::FailuresView { app }).render(body, buf),
    }
    chrome::Footer { app }.render(foot, buf);
    if let Some(msg) = &app.status {
        Clear.render(foot, buf);
        let style = if msg.starts_with("could not") {
            app.theme.failure()
        } else {
            app.theme.key()
        };
        Paragraph::new(format!(" {}", text::fit(msg, usize::from(foot.width) - 1)))
            .style(style)
            .render(foot, buf);
    }
    match &app.mode {
        Mode::Normal => {}
        Mode::Help => overlay::Help { app }.render(body, buf),
        Mode::Confirm => overlay::Confirm { app }.render(body, buf),
        Mode::Details(source, pid) => overlay::Details {
            app,
            source: *source,
            pid: *pid,
        }
        .render(body, buf),
        Mode::Filter(input) => {
            let [line] = Layout::vertical([Constraint::Length(3)])
                .flex(ratatui::layout::Flex::End)
                .areas(body);
            overlay::FilterLine { app, input }.render(line, buf);
            if let Some(pos) = overlay::FilterLine::cursor(line, input) {
                frame.set_cursor_position(pos);
            }
        }
        Mode::Search(input) => {
            let [line] = Layout::vertical([Constraint::Length(3)])
                .flex(ratatui::layout::Flex::End)
                .areas(body);
            search::SearchLine {
                theme: app.theme,
                input,
            }
            .render(line, buf);
            // " search: " is as wide as " filter: ".
            if let Some(pos) = overlay::FilterLine::cursor(line, input) {
                frame.set_cursor_position(pos);
            }
        }
    }
    if app.theme.ascii {
        theme::to_ascii(frame.buffer_mut());
    }
}
