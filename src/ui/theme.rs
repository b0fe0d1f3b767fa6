//! Colours and emphasis of the dashboard; with `NO_COLOR` set, only bold / reverse / dim remain.

use ratatui::style::{Color, Modifier, Style};

/// Whether colours are wanted: `NO_COLOR` set to anything non-empty turns them off.
pub fn color_from_env() -> bool {
    !matches!(std::env::var_os("NO_COLOR"), Some(v) if !v.is_empty())
}

/// The styles every widget draws with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// False under `NO_COLOR`.
    pub color: bool,
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
            Style::new()
                .bg(Color::Indexed(238))
                .add_modifier(Modifier::BOLD)
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
        let plain = Theme { color: false };
        assert_eq!(plain.connect(), Style::new());
        assert_eq!(plain.failure(), Style::new());
        assert!(plain.selected().add_modifier.contains(Modifier::REVERSED));
        assert!(plain.badge().add_modifier.contains(Modifier::REVERSED));
        let colour = Theme { color: true };
        assert_eq!(colour.connect().fg, Some(Color::Green));
    }
}
