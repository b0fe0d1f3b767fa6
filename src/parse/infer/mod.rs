//! Infers a stderr log's `log_line_prefix` from the lines themselves, for any combination of
//! escapes and literal text: connection messages name the user, database and host their prefix
//! repeats, so the text before their severity tag is read as a template, candidate settings are
//! built from those templates, and each is checked with the real matcher over the whole sample.
//!
//! Runs once on a bounded sample (the caller buffers and asks again as lines arrive); never
//! per line after a decision.

mod layout;
mod refine;
mod resolve;
mod template;

use super::message::{self, Severity};
use super::prefix::{has_severity_tag, Prefix};
use crate::model::EventKind;
use template::{Item, Kind, Known};

/// What a sample says about its `log_line_prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inference {
    /// The prefix, with how many connection lines confirmed it.
    Decided { prefix: Prefix, evidence: usize },
    /// The sample cannot tell (no connection line yet: only postmaster lines, which `%q` may
    /// cut, or nothing): keep buffering and ask again with more lines.
    Undecided,
    /// Entries are there but no prefix explains them; one such line (at most
    /// [`MAX_EXAMPLE`] bytes) for a one-sentence message.
    Failed { example: Vec<u8> },
    /// Not a PostgreSQL stderr log at all (no severity tags); its first line, bounded.
    NotALog { example: Vec<u8> },
}

/// The most lines of a sample looked at.
const MAX_LINES: usize = 1000;
/// The most bytes of one line looked at (a prefix ends long before).
const MAX_LINE: usize = 8 << 10;
/// Connection lines of each kind read as templates.
const ANCHORS_PER_KIND: usize = 24;
/// Template groups turned into candidate settings.
const MAX_GROUPS: usize = 8;
/// Bytes of an example line kept for a message.
pub const MAX_EXAMPLE: usize = 300;

/// A connection line: where its message starts and what the message names.
struct Anchor<'a> {
    line: usize,
    /// Where its severity tag starts: the rendered prefix ends there.
    tag: usize,
    msg_start: usize,
    known: Known<'a>,
}

const ANCHOR_TAGS: [(&[u8], Kind); 4] = [
    (b"LOG:  connection received: host=", Kind::Received),
    (b"LOG:  connection authorized: user=", Kind::Authorized),
    (b"LOG:  disconnection: session time: ", Kind::Disconnection),
    (b"FATAL:  ", Kind::Failure),
];

/// Searchers for [`ANCHOR_TAGS`], built once: building one costs more than searching a line.
fn anchor_finders() -> &'static [memchr::memmem::Finder<'static>; 4] {
    static FINDERS: std::sync::OnceLock<[memchr::memmem::Finder<'static>; 4]> =
        std::sync::OnceLock::new();
    FINDERS.get_or_init(|| ANCHOR_TAGS.map(|(tag, _)| memchr::memmem::Finder::new(tag)))
}

fn digits_at(s: &[u8]) -> Option<&[u8]> {
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    (n > 0).then(|| &s[..n])
}

/// Reads a line as a connection line, if it is one.
fn anchor(idx: usize, line: &[u8]) -> Option<Anchor<'_>> {
    let head = &line[..line.len().min(template::MAX_RENDERED + 64)];
    let (pos, kind) = anchor_finders()
        .iter()
        .zip(ANCHOR_TAGS)
        .filter_map(|(finder, (_, kind))| finder.find(head).map(|p| (p, kind)))
        .min_by_key(|(p, _)| *p)?;
    let msg_start = pos + if kind == Kind::Failure { 8 } else { 6 };
    let msg = &line[msg_start..];
    let mut known = Known {
        kind,
        user: None,
        database: None,
        host: None,
        port: None,
    };
    match kind {
        Kind::Received => {
            let rest = &msg[b"connection received: host=".len()..];
            match message::find(rest, b" port=") {
                Some(i) => {
                    known.host = Some(&rest[..i]);
                    known.port = digits_at(&rest[i + 6..]);
                }
                None => known.host = Some(rest),
            }
        }
        Kind::Failure => {
            // A failed attempt whose message names a user, database or host.
            let (ev, f) = message::classify(Severity::Fatal, msg, None, (None, None))?;
            if !matches!(ev, EventKind::Failed { .. }) {
                return None;
            }
            known.user = f.user.filter(|u| !u.is_empty());
            known.database = f.database.filter(|d| !d.is_empty());
            known.host = f.host.filter(|h| !h.is_empty());
            known.user.or(known.database).or(known.host)?;
        }
        Kind::Authorized | Kind::Disconnection => {
            let (_, f) = message::classify(Severity::Log, msg, None, (None, None))?;
            known.user = f.user;
            known.database = f.database;
            known.host = f.host;
            if kind == Kind::Disconnection {
                known.port = message::rfind(msg, b" port=").and_then(|i| digits_at(&msg[i + 6..]));
            }
        }
    }
    Some(Anchor {
        line: idx,
        tag: pos,
        msg_start,
        known,
    })
}

/// Entry lines of a sample: no continuation lines, each cut to [`MAX_LINE`].
fn sample_lines(sample: &[u8]) -> Vec<&[u8]> {
    sample
        .split(|&c| c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty() && l[0] != b'\t')
        .take(MAX_LINES)
        .map(|l| &l[..l.len().min(MAX_LINE)])
        .collect()
}

fn example(line: &[u8]) -> Vec<u8> {
    line[..line.len().min(MAX_EXAMPLE)].to_vec()
}

/// Infers the `log_line_prefix` from a bounded sample of complete lines (the caller buffers up
/// to ~64 KiB / a few hundred lines and asks again as more arrive).
pub fn infer_prefix(sample: &[u8]) -> Inference {
    let lines = sample_lines(sample);
    let Some(first) = lines.first() else {
        return Inference::Undecided;
    };
    if !lines.iter().any(|l| has_severity_tag(l)) {
        return Inference::NotALog {
            example: example(first),
        };
    }
    let anchors: Vec<Anchor<'_>> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| anchor(i, l))
        .collect();
    if anchors.is_empty() {
        return Inference::Undecided;
    }
    let groups = group_templates(&lines, &anchors);
    let mut cands: Vec<resolve::Candidate> = groups
        .iter()
        .flat_map(|g| resolve::candidates(g, &lines, &anchors))
        .collect();
    let mut seen = std::collections::HashSet::new();
    cands.retain(|c| seen.insert(c.setting()));
    let best = resolve::choose(cands, &lines, &anchors);
    match best {
        Some((prefix, score)) if score.agree > 0 && score.agree * 2 >= anchors.len() => {
            Inference::Decided {
                prefix,
                evidence: score.agree,
            }
        }
        _ => Inference::Failed {
            example: example(lines[anchors[0].line]),
        },
    }
}

/// One line of a group.
pub(crate) struct Member {
    anchor: usize,
    spans: Vec<(usize, usize)>,
    flex: Vec<(usize, usize)>,
}

/// Connection lines whose templates have one shape, with each name slot's escapes narrowed
/// by all of them.
pub(crate) struct Group {
    shape: Vec<Item>,
    sets: Vec<u8>,
    /// Per line: anchor index, slot spans in its line, spaces beside each literal.
    members: Vec<Member>,
}

/// Distinct client hosts connection lines named, for lines that do not name theirs.
const MAX_HOSTS: usize = 16;

fn group_templates(lines: &[&[u8]], anchors: &[Anchor<'_>]) -> Vec<Group> {
    let mut hosts: Vec<&[u8]> = Vec::new();
    for h in anchors.iter().filter_map(|a| a.known.host) {
        if hosts.len() < MAX_HOSTS && !h.is_empty() && !hosts.contains(&h) {
            hosts.push(h);
        }
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut per_kind = [0usize; 4];
    for (ai, a) in anchors.iter().enumerate() {
        let k = a.known.kind as usize;
        if per_kind[k] >= ANCHORS_PER_KIND {
            continue;
        }
        per_kind[k] += 1;
        let rendered = &lines[a.line][..a.tag];
        let t = template::read(rendered, &a.known, &hosts);
        match groups.iter_mut().find(|g| g.shape == t.shape) {
            Some(g) => {
                for (s, n) in g.sets.iter_mut().zip(&t.sets) {
                    *s &= n;
                }
                g.members.push(Member {
                    anchor: ai,
                    spans: t.spans,
                    flex: t.flex,
                });
            }
            None => groups.push(Group {
                shape: t.shape,
                sets: t.sets,
                members: vec![Member {
                    anchor: ai,
                    spans: t.spans,
                    flex: t.flex,
                }],
            }),
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.members.len()));
    groups.truncate(MAX_GROUPS);
    groups
}

#[cfg(test)]
mod tests;
