//! The mouse: a click on a tab title switches tab, on a row selects it (on the selected row,
//! or a double click, it does what Enter does), on a column header of the sessions sorts by it
//! (again: reverses); the wheel scrolls the focused list. Widgets note where they drew what
//! ([`Hits`]) and a click looks it up.

use super::app::App;
use super::keys::Action;
use super::state::{Mode, Pane, SortBy, Tab};
use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};
use std::cell::RefCell;

/// What a region of the last frame shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Tab(Tab),
    /// Row `n` (from the first, not the first shown) of a Summary pane.
    Row(Pane, usize),
    /// A column header of the sessions table.
    Header(SortBy),
    /// Anywhere else in a pane: focuses it.
    Pane(Pane),
}

/// Regions of the last frame and what they show; the newest registered wins.
#[derive(Debug, Default)]
pub struct Hits(RefCell<Vec<(Rect, Target)>>);

impl Hits {
    /// Forgets the last frame's regions.
    pub fn clear(&self) {
        self.0.borrow_mut().clear();
    }

    /// Notes that `area` shows `target`.
    pub fn add(&self, area: Rect, target: Target) {
        if area.width > 0 && area.height > 0 {
            self.0.borrow_mut().push((area, target));
        }
    }

    /// What the cell at (`x`, `y`) shows.
    pub fn at(&self, x: u16, y: u16) -> Option<Target> {
        let p = Position::new(x, y);
        self.0
            .borrow()
            .iter()
            .rev()
            .find(|(r, _)| r.contains(p))
            .map(|(_, t)| *t)
    }
}

/// Notes the tab titles as the tab bar in `area` draws them (` 1 Summary ` and a space each,
/// after one space).
pub fn note_tabs(hits: &Hits, area: Rect) {
    let mut x = area.x + 1;
    for (i, t) in Tab::ALL.iter().enumerate() {
        let w = format!(" {} {} ", i + 1, t.title()).chars().count() as u16;
        hits.add(
            Rect::new(x, area.y, w.min(area.right().saturating_sub(x)), 1),
            Target::Tab(*t),
        );
        x = x.saturating_add(w + 1);
    }
}

impl App {
    /// Reacts to a mouse event.
    pub fn mouse(&mut self, m: MouseEvent) {
        match m.kind {
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                if self.mode == Mode::Normal && self.tab != Tab::History {
                    let up = m.kind == MouseEventKind::ScrollUp;
                    self.apply(if up { Action::Up } else { Action::Down });
                } else if self.mode == Mode::Help {
                    let up = m.kind == MouseEventKind::ScrollUp;
                    self.scroll_help(if up { Action::Up } else { Action::Down });
                    self.dirty = true;
                }
            }
            MouseEventKind::Down(MouseButton::Left) => self.click(m.column, m.row),
            _ => {}
        }
    }

    fn click(&mut self, x: u16, y: u16) {
        match self.mode {
            Mode::Normal => {}
            // A click closes what only shows.
            Mode::Help | Mode::Details(..) => {
                self.mode = Mode::Normal;
                self.dirty = true;
                return;
            }
            _ => return,
        }
        let Some(target) = self.hits.at(x, y) else {
            return;
        };
        self.dirty = true;
        match target {
            Target::Tab(t) => self.apply(Action::GoTab(t)),
            Target::Header(col) => {
                if self.summary.sort == col {
                    self.summary.reversed = !self.summary.reversed;
                } else {
                    self.summary.sort = col;
                    self.summary.reversed = false;
                }
            }
            Target::Pane(p) => self.summary.focus = p,
            Target::Row(pane, n) => {
                let keys = self.row_keys(pane);
                let Some(key) = keys.get(n).copied() else {
                    self.summary.focus = pane;
                    return;
                };
                let again = self.summary.focus == pane && self.selected_in(pane, &keys) == n;
                self.summary.focus = pane;
                let i = pane.index();
                self.summary.selected[i] = n;
                self.summary.picked[i] = Some(key);
                if again {
                    self.apply(Action::Select);
                }
            }
        }
    }
}
