//! Keys → actions: one table per mode, also the source of the footer and the help overlay, so
//! every key that works is listed.

use super::app::Tab;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What the user asked for, independent of the key that asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    NextTab,
    PrevTab,
    GoTab(Tab),
    ToggleHelp,
    OpenFilter,
    ClearFilter,
    AskClear,
    FocusLeft,
    FocusRight,
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    /// Enter on a row: filter by its value, or open a session's details.
    Select,
    CycleSort,
    /// Reverse the sessions' order.
    ReverseSort,
    CycleBucket,
    CycleWindow,
    TogglePause,
    /// Open the Watch tab's search line.
    OpenSearch,
    /// Jump to the next (newer) / previous (older) match.
    NextMatch,
    PrevMatch,
    /// Forget the search.
    ClearSearch,
    /// Write what the tab shows to a JSON / CSV file.
    ExportJson,
    ExportCsv,
}

/// Where a binding does something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere.
    Global,
    /// On one tab only.
    On(Tab),
    /// On the Summary and Watch tabs (moving and scrolling).
    Lists,
    /// On every tab but one.
    Except(Tab),
}

/// One line of the key map.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// The keys (without modifiers; Shift is ignored for characters).
    pub keys: &'static [KeyCode],
    /// How the keys are written in the footer and help.
    pub label: &'static str,
    pub action: Action,
    /// What it does, for the help overlay; empty: covered by the line before.
    pub help: &'static str,
    /// Short word for the footer; empty: help only.
    pub short: &'static str,
    pub scope: Scope,
}

const fn b(
    keys: &'static [KeyCode],
    label: &'static str,
    action: Action,
    short: &'static str,
    help: &'static str,
    scope: Scope,
) -> Binding {
    Binding {
        keys,
        label,
        action,
        help,
        short,
        scope,
    }
}

use KeyCode as K;
use Scope::{Except, Global, Lists, On};

/// The key map of the normal mode.
#[rustfmt::skip]
pub const NORMAL: &[Binding] = &[
    b(&[K::Char('q')], "q", Action::Quit, "quit", "quit (also Ctrl-C)", Global),
    b(&[K::Char('?')], "?", Action::ToggleHelp, "help", "this help", Global),
    b(&[K::Tab], "Tab/S-Tab", Action::NextTab, "tab", "next / previous tab", Global),
    b(&[K::BackTab], "S-Tab", Action::PrevTab, "", "", Global),
    b(&[K::Char('1')], "1/2/3/4", Action::GoTab(Tab::Summary), "", "Summary / History / Watch / Failures tab", Global),
    b(&[K::Char('2')], "2", Action::GoTab(Tab::History), "", "", Global),
    b(&[K::Char('3')], "3", Action::GoTab(Tab::Watch), "", "", Global),
    b(&[K::Char('4')], "4", Action::GoTab(Tab::Failures), "", "", Global),
    b(&[K::Char('/')], "/", Action::OpenFilter, "filter", "filter (syntax below)", Except(Tab::Watch)),
    b(&[K::Char('f')], "f", Action::OpenFilter, "", "filter (also / outside Watch)", Global),
    b(&[K::Char('x'), K::Backspace], "x", Action::ClearFilter, "unfilter", "clear the filter (also Backspace)", Global),
    b(&[K::Char('c')], "c", Action::AskClear, "clear", "clear statistics (asks y/n)", Global),
    b(&[K::Char('e')], "e/E", Action::ExportJson, "export", "write the tab to a JSON / CSV file here", Global),
    b(&[K::Char('E')], "E", Action::ExportCsv, "", "", Global),
    b(&[K::Left, K::Char('h')], "←→", Action::FocusLeft, "pane", "move between tables (also h / l)", On(Tab::Summary)),
    b(&[K::Right, K::Char('l')], "→", Action::FocusRight, "", "", On(Tab::Summary)),
    b(&[K::Up, K::Char('k')], "↑↓", Action::Up, "move", "move / scroll (also k / j)", Lists),
    b(&[K::Down, K::Char('j')], "↓", Action::Down, "", "", Lists),
    b(&[K::PageUp], "PgUp/PgDn", Action::PageUp, "", "scroll a page", Lists),
    b(&[K::PageDown], "PgDn", Action::PageDown, "", "", Lists),
    b(&[K::Home], "Home/End", Action::Home, "", "first / last (End follows the feed)", Lists),
    b(&[K::End], "End", Action::End, "", "", Lists),
    b(&[K::Enter], "Enter", Action::Select, "open", "filter by the name; a session's details", On(Tab::Summary)),
    b(&[K::Char('s')], "s", Action::CycleSort, "sort", "sort sessions by the next column", On(Tab::Summary)),
    b(&[K::Char('r')], "r", Action::ReverseSort, "reverse", "reverse the sessions' order (▴ / ▾)", On(Tab::Summary)),
    b(&[K::Char('b')], "b", Action::CycleBucket, "bucket", "bucket size 1m / 5m / 15m / 1h", On(Tab::History)),
    b(&[K::Char('w')], "w", Action::CycleWindow, "window", "window 1h / 6h / 24h", On(Tab::History)),
    b(&[K::Char('s')], "s", Action::CycleSort, "sort", "sort by count / rate / last seen", On(Tab::Failures)),
    b(&[K::Char(' '), K::Char('p')], "space", Action::TogglePause, "pause", "pause / follow the feed (also p)", On(Tab::Watch)),
    b(&[K::Char('/')], "/", Action::OpenSearch, "search", "search the feed (f filters)", On(Tab::Watch)),
    b(&[K::Char('n')], "n/N", Action::NextMatch, "next", "next (newer) / previous (older) match", On(Tab::Watch)),
    b(&[K::Char('N')], "N", Action::PrevMatch, "", "", On(Tab::Watch)),
    b(&[K::Esc], "Esc", Action::ClearSearch, "", "clear the search", On(Tab::Watch)),
];

/// Whether a binding applies on a tab.
pub fn in_scope(scope: Scope, tab: Tab) -> bool {
    match scope {
        Global => true,
        On(t) => t == tab,
        Except(t) => t != tab,
        Lists => matches!(tab, Tab::Summary | Tab::Watch | Tab::Failures),
    }
}

/// Ctrl-C: quits from every mode.
pub fn is_interrupt(key: &KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && matches!(key.code, K::Char('c' | 'C'))
}

/// The action of a key in the normal mode on `tab`, if any.
pub fn normal_action(key: &KeyEvent, tab: Tab) -> Option<Action> {
    if is_interrupt(key) {
        return Some(Action::Quit);
    }
    if key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        return None;
    }
    NORMAL
        .iter()
        .find(|bnd| in_scope(bnd.scope, tab) && bnd.keys.contains(&key.code))
        .map(|bnd| bnd.action)
}

/// Keys of the filter input line, for the help overlay.
pub const FILTER_HELP: &[(&str, &str)] = &[
    ("Enter", "apply the filter"),
    ("Esc", "cancel"),
    ("←→ Home End", "move the cursor (also Ctrl-A / Ctrl-E)"),
    ("Backspace Del", "delete"),
    ("Ctrl-U Ctrl-K", "delete to the start / the end"),
    ("Ctrl-W", "delete the word before the cursor"),
    ("↑↓", "earlier filters"),
];

/// The filter syntax, for the help overlay.
pub const FILTER_SYNTAX: &[(&str, &str)] = &[
    ("db=a", "exactly a (db=\"a b\" with a space)"),
    ("db=a,b", "a or b"),
    ("user!=postgres", "anything but postgres"),
    ("app~^work", "a regex, anywhere in the name"),
    ("app=(none)", "no application_name set"),
];

/// Keys of the y/n confirmation.
pub const CONFIRM_HELP: &[(&str, &str)] = &[("y", "clear everything"), ("n / Esc", "keep")];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_a_key_and_no_key_is_bound_twice() {
        for tab in Tab::ALL {
            let mut seen = Vec::new();
            for bnd in NORMAL.iter().filter(|x| in_scope(x.scope, tab)) {
                for k in bnd.keys {
                    assert!(!seen.contains(k), "{k:?} bound twice on {tab:?}");
                    seen.push(*k);
                }
            }
        }
        let key = |c| KeyEvent::new(K::Char(c), KeyModifiers::NONE);
        assert_eq!(
            normal_action(&key('b'), Tab::History),
            Some(Action::CycleBucket)
        );
        assert_eq!(normal_action(&key('b'), Tab::Summary), None);
        assert_eq!(
            normal_action(
                &KeyEvent::new(K::Char('c'), KeyModifiers::CONTROL),
                Tab::Watch
            ),
            Some(Action::Quit)
        );
    }
}
