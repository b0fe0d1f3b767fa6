//! Turns a group of templates into a candidate setting (which digit run is `%p`, which
//! timestamp is `%s`, where `%q` stands) and scores candidates with the real matcher.

use super::template::{self, Class, Item, Kind};
use super::{Anchor, Group};
use crate::parse::message;
use crate::parse::prefix::{Prefix, SplitLine};
use crate::parse::time::parse_timestamp;

/// One piece of a setting: literal text (already `%`-escaped) or one escape.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Piece {
    text: String,
    /// `%u %d %a %h %r`: empty on lines of processes without a session.
    session_only: bool,
}

/// A candidate `log_line_prefix`, as pieces so that `%q` can be placed between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Candidate {
    pieces: Vec<Piece>,
}

impl Candidate {
    /// The setting, without `%q`.
    pub(super) fn setting(&self) -> String {
        self.with_stop(None)
    }

    /// The setting with `%q` before piece `stop`.
    fn with_stop(&self, stop: Option<usize>) -> String {
        let mut s = String::new();
        for (i, p) in self.pieces.iter().enumerate() {
            if stop == Some(i) {
                s.push_str("%q");
            }
            s.push_str(&p.text);
        }
        if stop == Some(self.pieces.len()) {
            s.push_str("%q");
        }
        s
    }
}

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

fn slot_text<'a>(lines: &[&'a [u8]], anchors: &[Anchor<'_>], ai: usize, span: (usize, usize)) -> &'a [u8] {
    &lines[anchors[ai].line][span.0..span.1]
}

fn number(v: &[u8]) -> u64 {
    if v.len() > 18 {
        return u64::MAX;
    }
    v.iter().fold(0, |a, &c| a * 10 + u64::from(c - b'0'))
}

/// Which digit run is which: `0` on every connection line is `%x`; `1` on a `connection
/// received` line (a backend's first line) is `%l`; the run equal to `%c`'s pid, or else the one
/// with the most distinct values, is `%p`; the rest are `%l`.
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
            .map(|(ai, spans)| (anchors[*ai].known.kind, number(slot_text(lines, anchors, *ai, spans[j]))))
            .collect();
        if values.iter().all(|(_, v)| *v == 0) {
            roles[j] = 'x';
            continue;
        }
        roles[j] = 'l';
        if values.iter().any(|&(k, v)| k == Kind::Received && v == 1) {
            continue;
        }
        let is_sid_pid = sid.is_some_and(|s| {
            g.members.iter().all(|(ai, spans)| {
                let t = slot_text(lines, anchors, *ai, spans[s]);
                let hex = t.rsplit(|&c| c == b'.').next().unwrap_or(b"");
                let pid = std::str::from_utf8(hex).ok().and_then(|h| u64::from_str_radix(h, 16).ok());
                pid == Some(number(slot_text(lines, anchors, *ai, spans[j])))
            })
        });
        let mut distinct: Vec<u64> = values.iter().map(|(_, v)| *v).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let key = (j, is_sid_pid, distinct.len());
        if best.is_none_or(|b| (key.1, key.2) > (b.1, b.2)) {
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
        .map(|c| if *c == (Class::Time { ms: true }) { 'm' } else { 't' })
        .collect();
    if plain.len() >= 2 {
        let sum = |j: usize| -> i64 {
            g.members
                .iter()
                .filter_map(|(ai, spans)| parse_timestamp(slot_text(lines, anchors, *ai, spans[j])))
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

/// The candidate setting a group of templates spells, or None if its lines contradict.
pub(super) fn candidate(g: &Group, lines: &[&[u8]], anchors: &[Anchor<'_>]) -> Option<Candidate> {
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
        return None;
    }
    let mut names = template::name_escapes(&name_sets).into_iter();
    let nums = num_roles(g, lines, anchors, &slots);
    let times = time_roles(g, lines, anchors, &slots);
    let mut pieces = Vec::with_capacity(g.shape.len());
    let mut j = 0;
    for item in &g.shape {
        let Item::Slot(class) = item else {
            if let Item::Lit(l) = item {
                let mut text = String::new();
                template::push_literal(&mut text, l);
                pieces.push(Piece {
                    text,
                    session_only: false,
                });
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
        j += 1;
        pieces.push(Piece {
            text: format!("%{c}"),
            session_only: matches!(c, 'u' | 'd' | 'a' | 'h' | 'r'),
        });
    }
    Some(Candidate { pieces })
}

/// Whether a connection line's split starts its message where the tag search did and gives
/// the names its message gives.
fn agrees(s: &SplitLine<'_>, line: &[u8], a: &Anchor<'_>) -> bool {
    if line.len() - s.message.len() != a.msg_start {
        return false;
    }
    let eq = |got: Option<&[u8]>, want: Option<&[u8]>| got.is_none() || want.is_none() || got == want;
    let f = &s.fields;
    let names = match a.known.kind {
        Kind::Received => f.user.is_none() && f.database.is_none(),
        _ => eq(f.user, a.known.user) && eq(f.database, a.known.database),
    };
    names && eq(f.host, a.known.host)
}

/// Splits a line as the stderr decoder does: the split the message's names agree with first.
fn split<'a>(p: &Prefix, line: &'a [u8]) -> Option<SplitLine<'a>> {
    let confirm = |f: &crate::parse::EntryFields<'_>, msg: &[u8]| message::confirms_names(msg, (f.user, f.database));
    p.split_where(line, &confirm).or_else(|| p.split(line))
}

/// Scores a prefix; returns the lines it fails on too.
fn score(p: &Prefix, lines: &[&[u8]], anchors: &[Anchor<'_>], failed: &mut Vec<usize>) -> Score {
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
            s.full && f.user.is_none() && f.database.is_none() && f.application.is_none() && f.host.is_none()
        })
    })
}

/// Places `%q`: where it lets the most failing lines (postmaster lines cut there) match, or,
/// with no line to tell, before the first session-only escape unless a line shows it absent.
fn place_stop(c: &Candidate, lines: &[&[u8]], anchors: &[Anchor<'_>]) -> (Prefix, Score) {
    let base = Prefix::compile(&c.setting());
    let mut failed = Vec::new();
    let s0 = score(&base, lines, anchors, &mut failed);
    let mut best: Option<(usize, usize)> = None;
    if !failed.is_empty() {
        for k in 0..=c.pieces.len() {
            let p = Prefix::compile(&c.with_stop(Some(k)));
            let n = failed.iter().filter(|&&i| split(&p, lines[i]).is_some()).count();
            if n > best.map_or(0, |b| b.1) {
                best = Some((k, n));
            }
        }
    }
    let stop = match best {
        Some((k, _)) => Some(k),
        None if !shows_full_postmaster_line(&base, lines, anchors) => c.pieces.iter().position(|p| p.session_only),
        None => None,
    };
    match stop {
        Some(k) => {
            let p = Prefix::compile(&c.with_stop(Some(k)));
            let s = score(&p, lines, anchors, &mut Vec::new());
            if s >= s0 {
                return (p, s);
            }
            (base, s0)
        }
        None => (base, s0),
    }
}

/// The best of the candidates over the sample, with its score.
pub(super) fn choose(cands: Vec<Candidate>, lines: &[&[u8]], anchors: &[Anchor<'_>]) -> Option<(Prefix, Score)> {
    let mut scored: Vec<(Score, usize)> = cands
        .iter()
        .enumerate()
        .map(|(i, c)| (score(&Prefix::compile(&c.setting()), lines, anchors, &mut Vec::new()), i))
        .collect();
    // Best first; the earlier (larger) group on a tie.
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut best: Option<(Prefix, Score)> = None;
    for &(_, i) in scored.iter().take(3) {
        let (p, s) = place_stop(&cands[i], lines, anchors);
        if best.as_ref().is_none_or(|b| s > b.1) {
            best = Some((p, s));
        }
    }
    best
}
