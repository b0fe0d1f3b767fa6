//! Refining the best candidates: padding that only lines of another shape show, and where
//! `%q` stands.

use super::resolve::{agrees, score, split, Candidate, Score};
use super::Anchor;
use crate::parse::prefix::{Prefix, SplitLine};

/// How well a `%q` place does: lines matched, lines with a pid, less text in session fields.
type StopKey = (usize, usize, std::cmp::Reverse<usize>);

/// The most failing lines a `%q` place is tried on.
const MAX_FAILED: usize = 64;

/// Whether a line that is no connection line split with every session field empty: a
/// process without a session printed the whole prefix, so no `%q` cuts it.
fn shows_full_postmaster_line(p: &Prefix, lines: &[&[u8]], anchors: &[Anchor<'_>]) -> bool {
    let mut next = anchors.iter().peekable();
    lines.iter().enumerate().any(|(i, line)| {
        if next.next_if(|a| a.line == i).is_some() {
            return false;
        }
        split(p, line).is_some_and(|s| {
            let f = s.fields;
            s.full
                && f.user.is_none()
                && f.database.is_none()
                && f.application.is_none()
                && f.host.is_none()
        })
    })
}

/// Bytes a split put in free-text session fields: a `%q` in the right place leaves them
/// empty on the lines it cuts.
fn junk(s: &SplitLine<'_>) -> usize {
    let f = s.fields;
    [f.user, f.database, f.application, f.host]
        .iter()
        .map(|v| v.map_or(0, <[u8]>::len))
        .sum()
}

/// Places `%q`: where it lets the most failing lines (postmaster lines cut there) match, with
/// their process id, with the least text in session fields, earliest first; or, with no line to tell, before the first
/// session-only escape unless a line shows the whole prefix printed without a session.
pub(super) fn place_stop(
    c: &Candidate,
    lines: &[&[u8]],
    anchors: &[Anchor<'_>],
) -> (Prefix, Score) {
    let base = Prefix::compile(&c.setting());
    let mut failed = Vec::new();
    let s0 = score(&base, lines, anchors, &mut failed);
    failed.truncate(MAX_FAILED);
    let mut best: Option<(usize, StopKey)> = None;
    if !failed.is_empty() {
        for at in c.stops() {
            let p = Prefix::compile(&c.with_stop(at));
            let (mut n, mut pids, mut j) = (0, 0, 0);
            for &i in &failed {
                if let Some(s) = split(&p, lines[i]) {
                    n += 1;
                    pids += usize::from(s.fields.pid.is_some() || s.fields.session_id.is_some());
                    j += junk(&s);
                }
            }
            let key = (n, pids, std::cmp::Reverse(j));
            if n > 0 && best.is_none_or(|b| key > b.1) {
                best = Some((at, key));
            }
        }
    }
    let stop = match best {
        Some((at, _)) => Some(at),
        None if !shows_full_postmaster_line(&base, lines, anchors) => c.first_session_only(),
        None => None,
    };
    if let Some(at) = stop {
        let p = Prefix::compile(&c.with_stop(at));
        let s = score(&p, lines, anchors, &mut Vec::new());
        if s >= s0 {
            return (p, s);
        }
    }
    (base, s0)
}

/// Widths tried for a padding no connection line of the group showed.
const MAX_PAD: i32 = 24;
/// Disagreeing connection lines a padding is tried on.
const MAX_REPAIR_LINES: usize = 8;

/// Connection lines a prefix does not split as their message says.
fn disagreeing(p: &Prefix, lines: &[&[u8]], anchors: &[Anchor<'_>], cap: usize) -> Vec<usize> {
    anchors
        .iter()
        .enumerate()
        .filter(|(_, a)| !split(p, lines[a.line]).is_some_and(|s| agrees(&s, lines[a.line], a)))
        .map(|(i, _)| i)
        .take(cap)
        .collect()
}

/// A candidate with escape piece `i` padded to `pad` (0: not padded); with `absorb`, the
/// literal spaces on the padded side become part of the padding (a value as wide as the
/// padding on every line of the group showed one space that was padding).
fn with_pad(c: &Candidate, i: usize, pad: i32, absorb: bool) -> Candidate {
    let mut c = c.clone();
    let code = c.pieces[i].text.chars().last().unwrap_or('u');
    c.pieces[i].text = match pad {
        0 => format!("%{code}"),
        _ => format!("%{pad}{code}"),
    };
    let side = if pad < 0 { i + 1 } else { i.wrapping_sub(1) };
    if let Some(p) = c.pieces.get_mut(side).filter(|p| absorb && !p.escape) {
        p.text = if pad < 0 {
            p.text.trim_start_matches(' ')
        } else {
            p.text.trim_end_matches(' ')
        }
        .to_string();
    }
    c.pieces.retain(|p| !p.text.is_empty());
    c
}

/// Pads escapes where other lines need it: a value empty on some lines (`%-4v` before
/// authentication) prints its padding alone there, which the group of lines showing the
/// value cannot see. Or unpads one: values of one width followed by spaces (`23/0` and a
/// `%11l` that is always `1`) read as a padded escape, which lines with the value empty
/// (`connection received`) contradict. Tries each escape unpadded and at each width on a few
/// disagreeing and agreeing lines; keeps a change only if more connection lines agree.
pub(super) fn repair(c: &Candidate, lines: &[&[u8]], anchors: &[Anchor<'_>]) -> Candidate {
    let agree_on = |p: &Prefix, which: &[usize]| {
        which
            .iter()
            .filter(|&&ai| {
                let (a, line) = (&anchors[ai], lines[anchors[ai].line]);
                split(p, line).is_some_and(|s| agrees(&s, line, a))
            })
            .count()
    };
    let mut c = c.clone();
    for _ in 0..2 {
        let p = Prefix::compile(&c.setting());
        let before = score(&p, lines, anchors, &mut Vec::new()).agree;
        if before == anchors.len() {
            break;
        }
        let bad = disagreeing(&p, lines, anchors, MAX_REPAIR_LINES);
        // Tried on the disagreeing lines and as many agreeing ones, which a padding must
        // not break.
        let probe: Vec<usize> = (0..anchors.len())
            .filter(|i| !bad.contains(i))
            .take(MAX_REPAIR_LINES)
            .chain(bad.iter().copied())
            .collect();
        let mut best = (agree_on(&p, &probe), None);
        // No padding first, then narrow paddings, then without taking literal spaces in.
        let tries = std::iter::once((0, false)).chain(
            [false, true]
                .into_iter()
                .flat_map(|absorb| (1..=MAX_PAD).flat_map(move |w| [(-w, absorb), (w, absorb)])),
        );
        for (pad, absorb) in tries {
            for i in (0..c.pieces.len()).filter(|&i| c.pieces[i].escape) {
                let c2 = with_pad(&c, i, pad, absorb);
                let n = agree_on(&Prefix::compile(&c2.setting()), &probe);
                if n > best.0 {
                    best = (n, Some(c2));
                }
            }
        }
        let Some(c2) = best.1 else { break };
        let after = score(
            &Prefix::compile(&c2.setting()),
            lines,
            anchors,
            &mut Vec::new(),
        );
        if after.agree <= before {
            break;
        }
        c = c2;
    }
    c
}
