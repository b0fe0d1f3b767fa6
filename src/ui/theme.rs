//! Colours, emphasis and glyphs of the dashboard, fitted to the terminal: with `NO_COLOR` only
//! bold / reverse / dim remain; a terminal without 256 colours (`TERM=linux`, `vt100`...) gets
//! the 16 basic colours; one that may not draw box-drawing or block glyphs gets plain ASCII.

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier, Style};

/// Whether colours are wanted: `NO_COLOR` set to anything non-empty turns them off.
pub fn color_from_env() -> bool {
    !matches!(std::env::var_os("NO_COLOR"), Some(v) if !v.is_empty())
}

/// Terminals known to draw neither 256 colours nor (reliably) box-drawing glyphs.
fn plain_term(term: &str) -> bool {
    matches!(
        term,
        "linux" | "dumb" | "ansi" | "cons25" | "sun" | "wsvt25"
    ) || term.starts_with("vt")
}

/// Whether only the 16 basic colours are safe, from `COLORTERM` and `TERM`.
pub fn basic_colors(colorterm: Option<&str>, term: Option<&str>) -> bool {
    if colorterm.is_some_and(|c| !c.is_empty()) {
        return false;
    }
    match term {
        None => true,
        Some(t) => !(t.contains("256color") || t.contains("truecolor") || t.contains("direct")),
    }
}

/// Whether to draw plain ASCII glyphs, from `TERM`.
pub fn ascii(term: Option<&str>) -> bool {
    term.is_none_or(plain_term)
}

/// [`basic_colors`] of this process's environment.
pub fn basic_colors_from_env() -> bool {
    basic_colors(
        std::env::var("COLORTERM").ok().as_deref(),
        std::env::var("TERM").ok().as_deref(),
    )
}

/// [`ascii`] of this process's environment.
pub fn ascii_from_env() -> bool {
    ascii(std::env::var("TERM").ok().as_deref())
}

/// The ASCII stand-in of a glyph the dashboard draws, if it is one.
fn ascii_of(s: &str) -> Option<&'static str> {
    Some(match s {
        "─" | "━" | "═" => "-",
        "│" | "┃" | "║" => "|",
        "╭" | "╮" | "╰" | "╯" | "┌" | "┐" | "└" | "┘" | "├" | "┤" | "┬" | "┴" | "┼" => {
            "+"
        }
        "█" | "▉" | "▊" | "▇" => "#",
        "▋" | "▌" | "▍" | "▆" | "▅" => "=",
        "▎" | "▏" | "▄" | "▃" => "-",
        "▂" | "▁" => "_",
        "…" => "~",
        "·" => "-",
        "●" => "*",
        "▾" | "↓" => "v",
        "▴" | "↑" => "^",
        "←" => "<",
        "→" => ">",
        _ => return None,
    })
}

/// Replaces the dashboard's own glyphs in a drawn frame by ASCII (names from the log, which
/// are data, stay as they are).
pub fn to_ascii(buf: &mut Buffer) {
    for cell in buf.content.iter_mut() {
        if let Some(a) = ascii_of(cell.symbol()) {
            cell.set_symbol(a);
        }
    }
}

/// The styles every widget draws with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Theme {
    /// False under `NO_COLOR`.
    pub color: bool,
    /// Only the 16 basic colours.
    pub basic: bool,
    /// Plain ASCII glyphs (applied to the whole frame by [`to_ascii`]).
    pub ascii: bool,
}

impl Theme {
    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    /// Plain text.
    pub fn text(self) -> Style {
        Style::new()
    }
    /// Secondary text.
    pub fn dim(self) -> Style {
        Style::new().add_modifier(Modifier::DIM)
    }
    /// Titles and headline figures.
    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    /// Key names in the footer and help.
    pub fn key(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    /// A connect.
    pub fn connect(self) -> Style {
        self.fg(Color::Green)
    }
    /// A disconnect.
    pub fn disconnect(self) -> Style {
        self.fg(Color::Yellow)
    }
    /// A failure, a crash, an error.
    pub fn failure(self) -> Style {
        self.fg(Color::Red)
    }
    /// Something to look at (leak, too-small terminal).
    pub fn warning(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    /// Proportional bars.
    pub fn bar(self) -> Style {
        self.fg(Color::Blue)
    }
    /// The selected row of the focused table.
    pub fn selected(self) -> Style {
        if self.color {
            // A background, not reverse video: a reversed bar would vanish.
            let bg = if self.basic {
                Color::Blue
            } else {
                Color::Indexed(238)
            };
            Style::new().bg(bg).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }
    /// The border of the focused pane.
    pub fn focus(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    /// The border of other panes.
    pub fn border(self) -> Style {
        self.fg(Color::DarkGray)
    }
    /// The active tab.
    pub fn tab_active(self) -> Style {
        self.fg(Color::Cyan)
            .add_modifier(Modifier::BOLD | Modifier::REVERSED)
    }
    /// The `DEMO` badge and the paused marker.
    pub fn badge(self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_keeps_only_emphasis() {
        let plain = Theme::default();
        assert_eq!(plain.connect(), Style::new());
        assert_eq!(plain.failure(), Style::new());
        assert!(plain.selected().add_modifier.contains(Modifier::REVERSED));
        assert!(plain.badge().add_modifier.contains(Modifier::REVERSED));
        let colour = Theme {
            color: true,
            ..Theme::default()
        };
        assert_eq!(colour.connect().fg, Some(Color::Green));
        assert_eq!(colour.selected().bg, Some(Color::Indexed(238)));
        let basic = Theme {
            basic: true,
            ..colour
        };
        assert_eq!(basic.selected().bg, Some(Color::Blue));
    }

    #[test]
    fn terminal_capabilities_choose_colours_and_glyphs() {
        assert!(basic_colors(None, Some("linux")));
        assert!(basic_colors(None, Some("xterm")));
        assert!(!basic_colors(None, Some("xterm-256color")));
        assert!(!basic_colors(Some("truecolor"), Some("xterm")));
        assert!(ascii(Some("linux")));
        assert!(ascii(Some("vt100")));
        assert!(ascii(None));
        assert!(!ascii(Some("xterm-256color")));
        assert!(!ascii(Some("screen")));
    }

    #[test]
    fn frames_go_ascii() {
        let mut buf = Buffer::with_lines(["╭─ a ·█▏…●▾─╮", "│日本│"]);
        to_ascii(&mut buf);
        assert_eq!(buf, Buffer::with_lines(["+- a -#-~*v-+", "|日本|"]));
    }
}
