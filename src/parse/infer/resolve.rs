//! Turns a group of templates into a candidate setting (which digit run is `%p`, which
//! timestamp is `%s`, where `%q` stands) and scores candidates with the real matcher.

use super::template::{self, Class, Item, Kind};
use super::{layout, refine};
use super::{Anchor, Group};
use crate::parse::message;
use crate::parse::prefix::{Prefix, SplitLine};
use crate::parse::time::parse_timestamp;

/// One piece of a setting: literal text (already `%`-escaped) or one escape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Piece {
    pub text: String,
    /// An escape (`%u`, `%-10u`), not literal text.
    pub escape: bool,
    /// `%u %d %a %h %r %i`: empty on lines of processes without a session.
    pub session_only: bool,
}

/// A candidate `log_line_prefix`, as pieces so that `%q` can be placed between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Candidate {
    pub pieces: Vec<Piece>,
}

impl Candidate {
    /// The setting, without `%q`.
    pub(super) fn setting(&self) -> String {
        self.pieces.iter().map(|p| p.text.as_str()).collect()
    }

    /// The setting with `%q` at byte `at` of [`Candidate::setting`].
    pub(super) fn with_stop(&self, at: usize) -> String {
        let mut s = self.setting();
        s.insert_str(at, "%q");
        s
    }

    /// Where `%q` may stand: before any escape, anywhere in literal text (not inside `%%`),
    /// at the end; at most [`MAX_STOPS`].
    pub(super) fn stops(&self) -> Vec<usize> {
        let mut v = Vec::new();
        let mut off = 0;
        for p in &self.pieces {
            if p.escape {
                v.push(off);
            } else {
                let mut prev_pct = false;
                for (i, ch) in p.text.char_indices() {
                    if !prev_pct {
                        v.push(off + i);
                    }
                    prev_pct = ch == '%' && !prev_pct;
                }
            }
            off += p.text.len();
        }
        v.push(off);
        v.dedup();
        v.truncate(MAX_STOPS);
        v
    }

    /// Where the first session-only escape starts.
    pub(super) fn first_session_only(&self) -> Option<usize> {
        let i = self.pieces.iter().position(|p| p.session_only)?;
        Some(self.pieces[..i].iter().map(|p| p.text.len()).sum())
    }
}

/// The most places tried for `%q`.
const MAX_STOPS: usize = 96;

/// How well a prefix explains a sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Score {
    /// Connection lines split where their message starts, with the names their message gives.
    pub agree: usize,
    /// Lines the prefix splits.
    pub matched: usize,
    /// Lines it splits without stopping at `%q`.
    pub full: usize,
}

fn slot_text<'a>(
    lines: &[&'a [u8]],
    anchors: &[Anchor<'_>],
    ai: usize,
    span: (usize, usize),
) -> &'a [u8] {
    &lines[anchors[ai].line][span.0..span.1]
}

fn number(v: &[u8]) -> u64 {
    if v.len() > 18 {
        return u64::MAX;
    }
    v.iter().fold(0, |a, &c| a * 10 + u64::from(c - b'0'))
}

/// Which digit run is which: `0` on every connection line is `%x`; `1` on every line is
/// literal text; `1` on every `connection received` line (a backend's first line) is `%l`;
/// of the others, the run equal to `%c`'s pid, or else the one with the most distinct values,
/// is `%p`; the rest are `%l`.
fn num_roles(g: &Group, lines: &[&[u8]], anchors: &[Anchor<'_>], slots: &[Class]) -> Vec<char> {
    let sid = slots.iter().position(|c| *c == Class::SessionId);
    let mut roles = vec!['?'; slots.len()];
    let mut best: Option<(usize, bool, usize)> = None; // (slot, equals sid pid, distinct)
    for (j, class) in slots.iter().enumerate() {
        if *class != Class::Num {
            continue;
        }
        let values: Vec<(Kind, u64)> = g
            .members
            .iter()
            .map(|m| {
                (
                    anchors[m.anchor].known.kind,
                    number(slot_text(lines, anchors, m.anchor, m.spans[j])),
                )
            })
            .collect();
        if values.iter().all(|(_, v)| *v == 0) {
            roles[j] = 'x';
            continue;
        }
        // `1` on every line, connection received or not: literal text (`[%l-1]`), as no
        // backend's pid is 1 and `%l` grows past a backend's first line.
        if values.len() >= 2
            && values.iter().all(|(_, v)| *v == 1)
            && values.iter().any(|(k, _)| *k != Kind::Received)
        {
            roles[j] = '1';
            continue;
        }
        roles[j] = 'l';
        // `1` on every `connection received` line (a backend's first line): `%l`.
        let received = values.iter().filter(|(k, _)| *k == Kind::Received);
        let first_lines = received.clone().count() >= 2 && received.clone().all(|(_, v)| *v == 1);
        let is_sid_pid = sid.is_some_and(|s| {
            g.members.iter().all(|m| {
                let t = slot_text(lines, anchors, m.anchor, m.spans[s]);
                let hex = t.rsplit(|&c| c == b'.').next().unwrap_or(b"");
                let pid = std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u64::from_str_radix(h, 16).ok());
                pid == Some(number(slot_text(lines, anchors, m.anchor, m.spans[j])))
            })
        });
        let mut distinct: Vec<u64> = values.iter().map(|(_, v)| *v).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let key = (j, is_sid_pid, distinct.len());
        if (is_sid_pid || !first_lines) && best.is_none_or(|b| (key.1, key.2) > (b.1, b.2)) {
            best = Some(key);
        }
    }
    if let Some((j, _, _)) = best {
        roles[j] = 'p';
    }
    roles
}

/// `%t` or, of two timestamps without milliseconds, the earlier one `%s` (the session start).
fn time_roles(g: &Group, lines: &[&[u8]], anchors: &[Anchor<'_>], slots: &[Class]) -> Vec<char> {
    let plain: Vec<usize> = (0..slots.len())
        .filter(|&j| slots[j] == Class::Time { ms: false })
        .collect();
    let mut roles: Vec<char> = slots
        .iter()
        .map(|c| {
            if *c == (Class::Time { ms: true }) {
                'm'
            } else {
                't'
            }
        })
        .collect();
    if plain.len() >= 2 {
        let sum = |j: usize| -> i64 {
            g.members
                .iter()
                .filter_map(|m| parse_timestamp(slot_text(lines, anchors, m.anchor, m.spans[j])))
                .map(|(t, _)| t.millis / 1000)
                .sum()
        };
        if let Some(&earliest) = plain.iter().min_by_key(|&&j| sum(j)) {
            if plain.iter().any(|&j| sum(j) > sum(earliest)) {
                roles[earliest] = 's';
            }
        }
    }
    roles
}

/// Ways to name a group's name slots that are tried.
const ASSIGNMENTS: usize = 6;

/// The candidate settings a group of templates spells (several where its lines leave names
/// open), or none if its lines contradict.
pub(super) fn candidates(g: &Group, lines: &[&[u8]], anchors: &[Anchor<'_>]) -> Vec<Candidate> {
    let slots: Vec<Class> = g
        .shape
        .iter()
        .filter_map(|i| match i {
            Item::Slot(c) => Some(*c),
            Item::Lit(_) => None,
        })
        .collect();
    let name_sets: Vec<u8> = (0..slots.len())
        .filter(|&j| slots[j] == Class::Name)
        .map(|j| g.sets[j])
        .collect();
    if name_sets.contains(&0) {
        return Vec::new();
    }
    let nums = num_roles(g, lines, anchors, &slots);
    let times = time_roles(g, lines, anchors, &slots);
    let width = |m: &super::Member, j: usize| m.spans[j].1 - m.spans[j].0;
    let mut lays = vec![layout::layout(g, slots.len(), width, false)];
    let spaced = layout::layout(g, slots.len(), width, true);
    if spaced != lays[0] {
        lays.push(spaced);
    }
    let assignments = template::name_assignments(&name_sets, ASSIGNMENTS);
    let mut out = Vec::new();
    for lay in lays {
        let roles = Roles {
            nums: nums.clone(),
            times: times.clone(),
            lay,
        };
        out.extend(
            assignments
                .iter()
                .map(|names| spell(g, &slots, &roles, names)),
        );
    }
    out
}

/// What a group's slots are, but for its names.
struct Roles {
    nums: Vec<char>,
    times: Vec<char>,
    lay: layout::Layout,
}

/// A group's setting, given each slot's escape.
fn spell(g: &Group, slots: &[Class], roles: &Roles, names: &[char]) -> Candidate {
    let (nums, times, lay) = (&roles.nums, &roles.times, &roles.lay);
    let mut names = names.iter().copied();
    let mut li = 0;
    let mut pieces = Vec::with_capacity(g.shape.len());
    let mut j = 0;
    for item in &g.shape {
        let Item::Slot(class) = item else {
            if let Item::Lit(l) = item {
                let (before, after) = lay.spaces[li];
                li += 1;
                let mut text = " ".repeat(before);
                template::push_literal(&mut text, l);
                text.push_str(&" ".repeat(after));
                if !text.is_empty() {
                    pieces.push(Piece {
                        text,
                        escape: false,
                        session_only: false,
                    });
                }
            }
            continue;
        };
        let c = match class {
            Class::Time { .. } => times[j],
            Class::Epoch => 'n',
            Class::SessionId => 'c',
            Class::Vxid => 'v',
            Class::SqlState => 'e',
            Class::Num => nums[j],
            Class::Name => names.next().unwrap_or('u'),
        };
        let pad = lay.pads[j];
        j += 1;
        pieces.push(Piece {
            text: match (c, pad) {
                // A constant `1` keeps its padding as literal spaces.
                ('1', p) if p > 0 => format!("{}1", " ".repeat(p.unsigned_abs() as usize - 1)),
                ('1', p) => format!(
                    "1{}",
                    " ".repeat((p.unsigned_abs() as usize).saturating_sub(1))
                ),
                (_, 0) => format!("%{c}"),
                _ => format!("%{pad}{c}"),
            },
            escape: c != '1',
            session_only: matches!(c, 'u' | 'd' | 'a' | 'h' | 'r' | 'i'),
        });
    }
    debug_assert_eq!(j, slots.len());
    Candidate { pieces }
}

/// Whether a connection line's split starts its message where the tag search did and gives
/// the names its message gives.
pub(super) fn agrees(s: &SplitLine<'_>, line: &[u8], a: &Anchor<'_>) -> bool {
    if line.len() - s.message.len() != a.msg_start {
        return false;
    }
    let eq =
        |got: Option<&[u8]>, want: Option<&[u8]>| got.is_none() || want.is_none() || got == want;
    let f = &s.fields;
    let names = match a.known.kind {
        Kind::Received => f.user.is_none() && f.database.is_none(),
        _ => eq(f.user, a.known.user) && eq(f.database, a.known.database),
    };
    // A port read as the process id: the split is wrong.
    let port = a.known.port.map(number);
    let port_as_pid = port.is_some() && f.pid.map(u64::from) == port;
    names && eq(f.host, a.known.host) && !port_as_pid
}

/// Splits a line as the stderr decoder does: the split the message's names agree with first.
pub(super) fn split<'a>(p: &Prefix, line: &'a [u8]) -> Option<SplitLine<'a>> {
    let confirm = |f: &crate::parse::EntryFields<'_>, msg: &[u8]| {
        message::confirms_names(msg, (f.user, f.database))
    };
    p.split_where(line, &confirm).or_else(|| p.split(line))
}

/// Scores a prefix; returns the lines it fails on too.
pub(super) fn score(
    p: &Prefix,
    lines: &[&[u8]],
    anchors: &[Anchor<'_>],
    failed: &mut Vec<usize>,
) -> Score {
    let mut s = Score::default();
    let mut next = anchors.iter().peekable();
    for (i, line) in lines.iter().enumerate() {
        let a = next.next_if(|a| a.line == i);
        match split(p, line) {
            Some(sp) => {
                s.matched += 1;
                s.full += usize::from(sp.full);
                s.agree += usize::from(a.is_some_and(|a| agrees(&sp, line, a)));
            }
            None => failed.push(i),
        }
    }
    s
}

/// Lines candidates are ranked on before the best are scored on the whole sample.
const RANK_LINES: usize = 160;

/// The best of the candidates over the sample, with its score.
pub(super) fn choose(
    cands: Vec<Candidate>,
    lines: &[&[u8]],
    anchors: &[Anchor<'_>],
) -> Option<(Prefix, Score)> {
    // Ranked on the first lines only; the three best are then scored on all of them.
    let few = &lines[..lines.len().min(RANK_LINES)];
    let few_anchors = &anchors[..anchors.partition_point(|a| a.line < few.len())];
    let mut scored: Vec<(Score, usize)> = cands
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let p = Prefix::compile(&c.setting());
            (score(&p, few, few_anchors, &mut Vec::new()), i)
        })
        .collect();
    // Best first; the earlier (larger) group on a tie.
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut best: Option<(Prefix, Score)> = None;
    for (rank, &(_, i)) in scored.iter().take(3).enumerate() {
        if best.as_ref().is_some_and(|b| b.1.agree == anchors.len()) {
            break; // every connection line agrees: no other candidate can do better
        }
        // Padding is repaired on the best-ranked candidate only (it costs a few ms).
        let c = if rank == 0 {
            refine::repair(&cands[i], lines, anchors)
        } else {
            cands[i].clone()
        };
        let (p, s) = refine::place_stop(&c, lines, anchors);
        if best.as_ref().is_none_or(|b| s > b.1) {
            best = Some((p, s));
        }
    }
    best
}
