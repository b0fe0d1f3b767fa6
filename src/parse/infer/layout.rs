//! Padding (`%-10u`, `%8p`): the spaces beside a slot that vary with its value's width
//! belong to the escape, the rest to the literal text.
//!
//! A left-aligned value of width `W` followed by `k` literal spaces shows `max(0, W - len) + k`
//! spaces: `len + spaces` is the same on every line whose value is shorter than `W`, and a
//! longer value shows exactly `k`. Where no line tells `k`, literal text next to the spaces
//! gets none and a run of spaces alone (between two values, or before the severity tag) one.

use super::template::Item;
use super::{Group, Member};

/// Per slot: its padding (negative: left-aligned); per literal: spaces kept before and after
/// its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Layout {
    pub pads: Vec<i32>,
    pub spaces: Vec<(usize, usize)>,
}

/// The width and literal spaces of a side where spaces vary with the value; None when the
/// spaces are literal text (the same on every line, and not a padding run of two or more
/// beside values of one width).
fn own(lens: &[usize], xs: &[usize], default_k: usize) -> Option<(usize, usize)> {
    let minx = *xs.iter().min()?;
    if xs.iter().all(|&x| x == minx) {
        let one_width = lens.iter().all(|&l| l == lens[0]);
        return (minx >= 2 && one_width).then(|| {
            let k = default_k.min(minx);
            (lens[0] + minx - k, k)
        });
    }
    let c = lens.iter().zip(xs).map(|(l, x)| l + x).min()?;
    let k = lens
        .iter()
        .zip(xs)
        .filter(|(l, x)| *l + *x > c)
        .map(|(_, x)| *x)
        .min()
        .unwrap_or(default_k.min(minx));
    Some((c - k, k))
}

/// Whether spaces `xs` follow value widths `lens` as padding would.
fn consistent(lens: &[usize], xs: &[usize]) -> bool {
    let Some(minx) = xs.iter().min() else {
        return false;
    };
    let c = lens.iter().zip(xs).map(|(l, x)| l + x).min().unwrap_or(0);
    lens.iter().zip(xs).all(|(l, x)| l + x == c || x == minx)
}

/// Lays out a group's spaces; `len(member, slot)` is the width of a slot's value. Where no
/// line tells whether a space between literal text and a padded value is literal, `spaced`
/// says it is (`] %11u`) or not (`]%12u`): both are tried, as the first split of a line can
/// differ between them (`[unknown]]` then splits at the first `]`).
pub(super) fn layout(
    g: &Group,
    nslots: usize,
    len: impl Fn(&Member, usize) -> usize,
    spaced: bool,
) -> Layout {
    let mut pads = vec![0i32; nslots];
    let lits: Vec<&Vec<u8>> = g
        .shape
        .iter()
        .filter_map(|i| match i {
            Item::Lit(l) => Some(l),
            Item::Slot(_) => None,
        })
        .collect();
    let mut spaces = vec![(0, 0); lits.len()];
    let col = |f: &dyn Fn(&Member) -> usize| -> Vec<usize> { g.members.iter().map(f).collect() };
    let width = |w: usize| i32::try_from(w).unwrap_or(i32::MAX);
    for (li, core) in lits.iter().enumerate() {
        // Literal `li` stands between slot `li - 1` and slot `li`.
        let a = li.checked_sub(1).filter(|&a| a < nslots);
        let b = Some(li).filter(|&b| b < nslots);
        let lead = col(&|m| m.flex[li].0);
        let trail = col(&|m| m.flex[li].1);
        match (a, b) {
            (Some(a), Some(b)) if core.is_empty() => {
                let (la, lb) = (col(&|m| len(m, a)), col(&|m| len(m, b)));
                let same = lead.iter().all(|&x| x == lead[0]);
                if same && lead[0] < 2 {
                    spaces[li].0 = lead[0];
                } else if same {
                    // A run of two or more spaces between two values, the same on every line
                    // seen (often a single line, `[unknown]     [unknown]`): padding whose
                    // side no line tells. Both sides padded is the reading that also splits
                    // longer values (`nologin_role   postgres`), where literal spaces would
                    // leave such lines unread.
                    let wa = la.iter().copied().max().unwrap_or(0);
                    pads[a] = -width(wa);
                    pads[b] = width(lb.iter().copied().max().unwrap_or(0) + lead[0] - 1);
                    spaces[li].0 = 1;
                } else if consistent(&la, &lead) {
                    let (w, k) = own(&la, &lead, 1).unwrap_or((0, lead[0]));
                    pads[a] = -width(w);
                    spaces[li].0 = k;
                } else if consistent(&lb, &lead) {
                    let (w, k) = own(&lb, &lead, 1).unwrap_or((0, lead[0]));
                    pads[b] = width(w);
                    spaces[li].0 = k;
                } else {
                    // Both padded: the left one as narrow as its values, the rest to the right.
                    let k = lead.iter().copied().min().unwrap_or(0).min(1);
                    let wa = la.iter().copied().max().unwrap_or(0);
                    let wb = (0..lead.len())
                        .map(|i| lb[i] + (lead[i] + la[i]).saturating_sub(k + wa))
                        .max()
                        .unwrap_or(0);
                    pads[a] = -width(wa);
                    pads[b] = width(wb);
                    spaces[li].0 = k;
                }
            }
            _ => {
                let at_end = b.is_none();
                if let Some(a) = a {
                    let la = col(&|m| len(m, a));
                    let k_default = usize::from(spaced || (at_end && core.is_empty()));
                    match own(&la, &lead, k_default) {
                        Some((w, k)) if pads[a] == 0 => {
                            pads[a] = -width(w);
                            spaces[li].0 = k;
                        }
                        _ => spaces[li].0 = lead[0],
                    }
                }
                if let Some(b) = b {
                    let lb = col(&|m| len(m, b));
                    match own(&lb, &trail, usize::from(spaced)) {
                        Some((w, k)) => {
                            pads[b] = width(w);
                            spaces[li].1 = k;
                        }
                        None => spaces[li].1 = trail[0],
                    }
                }
            }
        }
    }
    Layout { pads, spaces }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_or_literal_spaces() {
        // `%-7p]`: five-digit pids show two spaces, a six-digit one one.
        assert_eq!(own(&[5, 5, 6], &[2, 2, 1], 0), Some((7, 0)));
        // One width only, two spaces before `]`: padding all the same.
        assert_eq!(own(&[5, 5], &[2, 2], 0), Some((7, 0)));
        // A single space after a timestamp is literal text.
        assert_eq!(own(&[23, 23], &[1, 1], 0), None);
        // `%-12u ` before the tag: `k` defaults to one space.
        assert_eq!(own(&[5, 8], &[8, 5], 1), Some((12, 1)));
        // A value longer than the width shows the literal spaces alone.
        assert_eq!(own(&[5, 14], &[8, 1], 1), Some((12, 1)));
        assert!(consistent(&[5, 8, 14], &[8, 5, 1]));
        assert!(!consistent(&[5, 8], &[3, 9]));
    }
}
