//! The filter input line: readline editing (Ctrl-A / E / U / W / K, arrows, Home / End,
//! Backspace / Delete at the cursor), earlier filters recalled with Up / Down, and the filter in
//! force shown selected on opening, so that typing replaces it and any editing key keeps it.

use super::state::FilterInput;
use crate::store::filter::Filter;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Filters kept for Up / Down.
pub const HISTORY_LEN: usize = 50;

/// What a key did to the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Still editing.
    Editing,
    /// Enter on a good filter.
    Apply(Filter),
    /// Esc.
    Cancel,
}

/// The line as it opens: the filter in force, selected, the cursor at its end.
pub fn open(current: &Filter) -> FilterInput {
    let text = current.to_text();
    FilterInput {
        cursor: text.chars().count(),
        selected: !text.is_empty(),
        text,
        ..FilterInput::default()
    }
}

/// Remembers an applied filter text (newest last, no repeat of the newest, bounded).
pub fn remember(history: &mut Vec<String>, text: &str) {
    if text.trim().is_empty() || history.last().is_some_and(|l| l == text) {
        return;
    }
    history.push(text.to_string());
    if history.len() > HISTORY_LEN {
        history.remove(0);
    }
}

fn set_text(input: &mut FilterInput, chars: &[char]) {
    input.text = chars.iter().collect();
    input.error = None;
}

/// Edits the line with one key; `history` holds earlier filters, newest last.
pub fn edit(input: &mut FilterInput, k: KeyEvent, history: &[String]) -> Outcome {
    let mut chars: Vec<char> = input.text.chars().collect();
    let len = chars.len();
    let cur = input.cursor.min(len);
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    let selected = std::mem::replace(&mut input.selected, false);
    match k.code {
        KeyCode::Enter => match Filter::parse(&input.text) {
            Ok(f) => return Outcome::Apply(f),
            Err(e) => input.error = Some(e.to_string()),
        },
        KeyCode::Esc => return Outcome::Cancel,
        KeyCode::Char('a' | 'A') if ctrl => input.cursor = 0,
        KeyCode::Char('e' | 'E') if ctrl => input.cursor = len,
        KeyCode::Char('u' | 'U') if ctrl => {
            chars.drain(..cur);
            input.cursor = 0;
            set_text(input, &chars);
        }
        KeyCode::Char('k' | 'K') if ctrl => {
            chars.truncate(cur);
            set_text(input, &chars);
        }
        KeyCode::Char('w' | 'W') if ctrl => {
            let mut from = cur;
            while from > 0 && chars[from - 1].is_whitespace() {
                from -= 1;
            }
            while from > 0 && !chars[from - 1].is_whitespace() {
                from -= 1;
            }
            chars.drain(from..cur);
            input.cursor = from;
            set_text(input, &chars);
        }
        KeyCode::Char(_) if ctrl || k.modifiers.contains(KeyModifiers::ALT) => {
            input.selected = selected;
        }
        KeyCode::Char(c) => {
            let at = if selected {
                chars.clear();
                0
            } else {
                cur
            };
            chars.insert(at, c);
            input.cursor = at + 1;
            set_text(input, &chars);
        }
        KeyCode::Backspace | KeyCode::Delete if selected => {
            input.cursor = 0;
            set_text(input, &[]);
        }
        KeyCode::Backspace if cur > 0 => {
            chars.remove(cur - 1);
            input.cursor = cur - 1;
            set_text(input, &chars);
        }
        KeyCode::Delete if cur < len => {
            chars.remove(cur);
            set_text(input, &chars);
        }
        KeyCode::Left => input.cursor = cur.saturating_sub(1),
        KeyCode::Right => input.cursor = (cur + 1).min(len),
        KeyCode::Home => input.cursor = 0,
        KeyCode::End => input.cursor = len,
        KeyCode::Up | KeyCode::Down => recall(input, k.code == KeyCode::Up, history),
        _ => input.selected = selected,
    }
    Outcome::Editing
}

/// Up: the next older filter; Down: the next newer, then the line typed before recalling.
fn recall(input: &mut FilterInput, older: bool, history: &[String]) {
    let next = match (input.recall, older) {
        (None, true) if !history.is_empty() => Some(0),
        (Some(i), true) => Some((i + 1).min(history.len().saturating_sub(1))),
        (Some(0), false) => None,
        (Some(i), false) => Some(i - 1),
        (None, _) => return,
    };
    if input.recall.is_none() {
        input.draft = std::mem::take(&mut input.text);
    }
    input.recall = next;
    input.text = match next {
        Some(i) => history[history.len() - 1 - i].clone(),
        None => std::mem::take(&mut input.draft),
    };
    input.cursor = input.text.chars().count();
    input.error = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }
    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }
    fn typed(i: &mut FilterInput, s: &str) {
        for c in s.chars() {
            edit(i, key(KeyCode::Char(c)), &[]);
        }
    }

    #[test]
    fn readline_keys_edit_instead_of_typing_letters() {
        let mut i = FilterInput::default();
        typed(&mut i, "db=a user=bob");
        edit(&mut i, ctrl('w'), &[]);
        assert_eq!((i.text.as_str(), i.cursor), ("db=a ", 5));
        edit(&mut i, ctrl('a'), &[]);
        assert_eq!(i.cursor, 0);
        typed(&mut i, "x");
        assert_eq!(i.text, "xdb=a ");
        edit(&mut i, key(KeyCode::Delete), &[]);
        assert_eq!(i.text, "xb=a ");
        edit(&mut i, ctrl('e'), &[]);
        edit(&mut i, key(KeyCode::Left), &[]);
        edit(&mut i, ctrl('u'), &[]);
        assert_eq!((i.text.as_str(), i.cursor), (" ", 0));
        typed(&mut i, "app=z");
        edit(&mut i, key(KeyCode::Home), &[]);
        edit(&mut i, ctrl('k'), &[]);
        assert_eq!(i.text, "");
    }

    #[test]
    fn opens_selected_typing_replaces_editing_keeps() {
        let f = Filter::parse("db=production").unwrap();
        let mut i = open(&f);
        assert_eq!(
            (i.text.as_str(), i.cursor, i.selected),
            ("db=production", 13, true)
        );
        typed(&mut i, "user=x");
        assert_eq!(i.text, "user=x");
        let mut i = open(&f);
        edit(&mut i, key(KeyCode::End), &[]);
        typed(&mut i, " user=x");
        assert_eq!(i.text, "db=production user=x");
        let mut i = open(&f);
        edit(&mut i, key(KeyCode::Backspace), &[]);
        assert_eq!(i.text, "");
        assert!(!open(&Filter::default()).selected);
    }

    #[test]
    fn up_and_down_recall_earlier_filters() {
        let mut h = Vec::new();
        remember(&mut h, "db=a");
        remember(&mut h, "db=b");
        remember(&mut h, "db=b");
        assert_eq!(h, ["db=a", "db=b"]);
        let mut i = FilterInput::default();
        typed(&mut i, "user=");
        edit(&mut i, key(KeyCode::Up), &h);
        assert_eq!(i.text, "db=b");
        edit(&mut i, key(KeyCode::Up), &h);
        edit(&mut i, key(KeyCode::Up), &h);
        assert_eq!(i.text, "db=a");
        edit(&mut i, key(KeyCode::Down), &h);
        assert_eq!(i.text, "db=b");
        edit(&mut i, key(KeyCode::Down), &h);
        assert_eq!((i.text.as_str(), i.cursor), ("user=", 5));
    }
}
