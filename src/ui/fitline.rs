//! A header line made of segments that give way by priority: when the line is wider than the
//! terminal, the least important segment first takes its short form, then goes, so that what
//! matters (the active count, the source's state, the server's state) stays on screen.

use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

/// One segment of a line. Priorities: 0 never; among the rest, the highest goes first.
#[derive(Debug, Clone)]
pub struct Seg {
    /// Priority of taking the short form.
    pub shorten: u8,
    /// Priority of dropping the segment.
    pub drop: u8,
    /// The segment in full.
    pub full: Vec<Span<'static>>,
    /// A shorter form.
    pub short: Option<Vec<Span<'static>>>,
}

impl Seg {
    /// A segment that always stays whole.
    pub fn keep(spans: Vec<Span<'static>>) -> Seg {
        Seg::new(0, 0, spans, None)
    }

    /// A segment that takes its short form at priority `shorten` and goes at priority `drop`.
    pub fn new(
        shorten: u8,
        drop: u8,
        full: Vec<Span<'static>>,
        short: Option<Vec<Span<'static>>>,
    ) -> Seg {
        Seg {
            shorten: if short.is_some() { shorten } else { 0 },
            drop,
            full,
            short,
        }
    }

    /// A segment without a short form that goes at priority `drop`.
    pub fn drop(drop: u8, full: Vec<Span<'static>>) -> Seg {
        Seg::new(0, drop, full, None)
    }
}

fn width(spans: &[Span<'_>]) -> usize {
    spans.iter().map(|s| s.content.width()).sum()
}

/// The segments joined by `sep` after `lead`, fitted into `max` cells.
pub fn fit(lead: Span<'static>, segs: Vec<Seg>, sep: &Span<'static>, max: usize) -> Line<'static> {
    // Per segment: 0 full, 1 short, 2 dropped.
    let mut state = vec![0u8; segs.len()];
    let total = |state: &[u8]| {
        let mut w = lead.content.width();
        let mut first = true;
        for (s, st) in segs.iter().zip(state) {
            let spans = match st {
                0 => &s.full,
                1 => s.short.as_ref().unwrap_or(&s.full),
                _ => continue,
            };
            if !first {
                w += sep.content.width();
            }
            first = false;
            w += width(spans);
        }
        w
    };
    while total(&state) > max {
        // The step of highest priority left (shortening before dropping at a tie, then the
        // rightmost segment).
        let pick = segs
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                let shorten = (state[i] == 0 && s.shorten > 0).then_some((s.shorten, 1, i));
                let drop = (state[i] < 2 && s.drop > 0).then_some((s.drop, 0, i));
                shorten.into_iter().chain(drop)
            })
            .max();
        let Some((_, shorten, i)) = pick else { break };
        state[i] = if shorten == 1 { 1 } else { 2 };
    }
    let mut spans = vec![lead];
    let mut first = true;
    for (s, st) in segs.into_iter().zip(state) {
        let part = match st {
            0 => s.full,
            1 => s.short.unwrap_or(s.full),
            _ => continue,
        };
        if !first {
            spans.push(sep.clone());
        }
        first = false;
        spans.extend(part);
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(l: &Line<'_>) -> String {
        l.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn least_important_gives_way_first_and_the_tail_stays() {
        let segs = || {
            vec![
                Seg::keep(vec![Span::raw("15 active")]),
                Seg::drop(2, vec![Span::raw("a long description")]),
                Seg::new(
                    1,
                    0,
                    vec![Span::raw("server up since 10:00")],
                    Some(vec![Span::raw("up 10:00")]),
                ),
                Seg::keep(vec![Span::raw("live")]),
            ]
        };
        let sep = Span::raw(" · ");
        let full = fit(Span::raw(" "), segs(), &sep, 200);
        assert_eq!(
            text(&full),
            " 15 active · a long description · server up since 10:00 · live"
        );
        let mid = fit(Span::raw(" "), segs(), &sep, 45);
        assert_eq!(text(&mid), " 15 active · server up since 10:00 · live");
        let small = fit(Span::raw(" "), segs(), &sep, 30);
        assert_eq!(text(&small), " 15 active · up 10:00 · live");
        let tiny = fit(Span::raw(" "), segs(), &sep, 10);
        assert_eq!(
            text(&tiny),
            " 15 active · up 10:00 · live",
            "cut by the terminal"
        );
    }
}
