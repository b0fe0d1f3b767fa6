//! Reading one rendered prefix (the text before a connection message's severity tag) as a
//! template: typed slots (timestamps, numbers, session ids, the names the message repeats)
//! between literal text. Lines whose templates have the same shape are grouped, so that what
//! one line leaves open (`[unknown]` could be `%u`, `%d` or `%a`) another line settles.

use crate::parse::time::parse_timestamp;

/// Escapes a name-valued slot can be, as a bit set.
pub(super) const U: u8 = 1;
pub(super) const D: u8 = 2;
pub(super) const A: u8 = 4;
pub(super) const H: u8 = 8;
pub(super) const R: u8 = 16;
pub(super) const B: u8 = 32;
pub(super) const I: u8 = 64;
/// The escapes of a set, in the order ties are given out.
const ORDER: [(u8, char); 7] = [
    (U, 'u'),
    (D, 'd'),
    (A, 'a'),
    (H, 'h'),
    (R, 'r'),
    (B, 'b'),
    (I, 'i'),
];
/// What `%i` (the ps display) shows on connection lines: empty on `connection received`,
/// `authentication` on `connection authorized`, then `startup` and `idle`.
const PS_DISPLAY: [&[u8]; 4] = [
    b"authentication",
    b"startup",
    b"idle in transaction",
    b"idle",
];

/// What kind of connection message a line carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Received,
    Authorized,
    Disconnection,
    /// A FATAL failed attempt naming a user, database or host.
    Failure,
}

/// The values a connection message names, which its prefix may repeat.
#[derive(Debug, Clone, Copy)]
pub(super) struct Known<'a> {
    pub kind: Kind,
    pub user: Option<&'a [u8]>,
    pub database: Option<&'a [u8]>,
    pub host: Option<&'a [u8]>,
    pub port: Option<&'a [u8]>,
}

/// What a slot holds; the shape of a template is its literals and slot classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Class {
    /// `%m` (with milliseconds) or `%t` / `%s`.
    Time { ms: bool },
    /// `%n`.
    Epoch,
    /// `%c`: `hex.hex`.
    SessionId,
    /// `%v`: `n/n`.
    Vxid,
    /// `%e` on a LOG line: `00000`.
    SqlState,
    /// A digit run: `%p`, `%l`, `%x` or `%Q`.
    Num,
    /// A name the message gave, or a value known on connection lines: `%u %d %a %h %r %b %i`.
    Name,
}

/// One item of a template's shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Item {
    Lit(Vec<u8>),
    Slot(Class),
}

/// A rendered prefix read as a template.
#[derive(Debug, Clone)]
pub(super) struct Template {
    pub shape: Vec<Item>,
    /// Per slot (in order): its span in the rendered prefix.
    pub spans: Vec<(usize, usize)>,
    /// Per slot: the escapes a `Name` slot can be (0 for other classes).
    pub sets: Vec<u8>,
    /// Per literal item (in order): the spaces taken off its start (after a slot) and its end
    /// (before a slot). They may be padding (`%-10u`, `%8p`), which varies with the value's
    /// width, so the shape keeps only the rest; a literal of spaces alone between two slots,
    /// or before the first or after the last, keeps an empty text.
    pub flex: Vec<(usize, usize)>,
}

/// The most bytes of a rendered prefix read as a template.
pub(super) const MAX_RENDERED: usize = 1024;

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit() && !c.is_ascii_uppercase()
}

fn run(s: &[u8], pred: fn(u8) -> bool) -> usize {
    s.iter().position(|&c| !pred(c)).unwrap_or(s.len())
}

/// A typed value at the start of `s`: its class and length.
fn typed_at(s: &[u8], prev: Option<u8>) -> Option<(Class, usize)> {
    // A value never starts in the middle of a word or number.
    if prev.is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    if let Some((_, n)) = parse_timestamp(s) {
        return Some((
            Class::Time {
                ms: s.get(19) == Some(&b'.'),
            },
            n,
        ));
    }
    let digits = run(s, |c| c.is_ascii_digit());
    let after_alnum = |n: usize| s.get(n).is_some_and(u8::is_ascii_alphanumeric);
    if digits == 10 && s.get(10) == Some(&b'.') && run(&s[11..], |c| c.is_ascii_digit()) == 3 {
        return Some((Class::Epoch, 14));
    }
    let hex = run(s, is_hex);
    if hex > 0 && s.get(hex) == Some(&b'.') {
        let tail = run(&s[hex + 1..], is_hex);
        let end = hex + 1 + tail;
        if tail > 0 && !after_alnum(end) && s.get(end) != Some(&b'.') {
            return Some((Class::SessionId, end));
        }
    }
    if digits > 0 && s.get(digits) == Some(&b'/') {
        let tail = run(&s[digits + 1..], |c| c.is_ascii_digit());
        if tail > 0 {
            return Some((Class::Vxid, digits + 1 + tail));
        }
    }
    if s.starts_with(b"00000") && !after_alnum(5) {
        return Some((Class::SqlState, 5));
    }
    None
}

/// Names the message gave that may stand in the prefix, with the escapes each can be.
fn names<'a>(k: &Known<'a>, host_port: &'a [u8]) -> Vec<(&'a [u8], u8)> {
    let mut v: Vec<(&[u8], u8)> = Vec::with_capacity(6);
    let mut add = |val: &'a [u8], set: u8| {
        if val.is_empty() {
            return;
        }
        match v.iter_mut().find(|(x, _)| *x == val) {
            Some(e) => e.1 |= set,
            None => v.push((val, set)),
        }
    };
    if let Some(u) = k.user {
        add(u, U);
    }
    if let Some(d) = k.database {
        add(d, D);
    }
    if let Some(h) = k.host {
        add(h, if h == b"[local]" { H | R } else { H });
    }
    // `[unknown]`: before authentication the user and database; the application is unset
    // on every connection message (it is applied after them).
    add(
        b"[unknown]",
        if k.kind == Kind::Received {
            U | D | A
        } else {
            A
        },
    );
    add(b"client backend", B);
    for ps in PS_DISPLAY {
        add(ps, I);
    }
    add(host_port, R);
    // Longest first, so `host(port)` wins over `host`.
    v.sort_by_key(|(x, _)| std::cmp::Reverse(x.len()));
    v
}

/// A host followed by `(digits)` is `%r`, though the message did not give the port.
fn with_port(s: &[u8], n: usize, set: u8) -> (Class, usize, u8) {
    if set & H != 0 && set & R == 0 && s.get(n) == Some(&b'(') {
        let digits = run(&s[n + 1..], |c| c.is_ascii_digit());
        if digits > 0 && s.get(n + 1 + digits) == Some(&b')') {
            return (Class::Name, n + digits + 2, R);
        }
    }
    (Class::Name, n, set)
}

/// A host another line named, at the start of `s`: `%r` when `(port)` follows, else `%h`.
fn known_host(s: &[u8], hosts: &[&[u8]]) -> Option<(Class, usize, u8)> {
    let h = hosts
        .iter()
        .filter(|h| s.starts_with(h))
        .max_by_key(|h| h.len())?;
    let rest = &s[h.len()..];
    if rest.first() == Some(&b'(') {
        let digits = run(&rest[1..], |c| c.is_ascii_digit());
        if digits > 0 && rest.get(1 + digits) == Some(&b')') {
            return Some((Class::Name, h.len() + digits + 2, R));
        }
    }
    Some((
        Class::Name,
        h.len(),
        if *h == b"[local]" { H | R } else { H },
    ))
}

/// Reads a rendered prefix as a template, given what its message says.
/// `hosts` are the client hosts other connection lines of the sample named: a `connection
/// authorized` line does not name its host, but its `connection received` line did.
pub(super) fn read(rendered: &[u8], known: &Known<'_>, hosts: &[&[u8]]) -> Template {
    let r = &rendered[..rendered.len().min(MAX_RENDERED)];
    let mut host_port = Vec::new();
    if let (Some(h), Some(p)) = (known.host, known.port) {
        host_port.extend_from_slice(h);
        host_port.push(b'(');
        host_port.extend_from_slice(p);
        host_port.push(b')');
    }
    let names = names(known, &host_port);
    let mut t = Template {
        shape: Vec::new(),
        spans: Vec::new(),
        sets: Vec::new(),
        flex: Vec::new(),
    };
    let mut lit: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < r.len() {
        let prev = i.checked_sub(1).map(|p| r[p]);
        let name = || {
            names
                .iter()
                .find(|(v, _)| r[i..].starts_with(v))
                .map(|(v, set)| with_port(&r[i..], v.len(), *set))
                .or_else(|| known_host(&r[i..], hosts))
        };
        let typed = || typed_at(&r[i..], prev).map(|(c, n)| (c, n, 0));
        let slot = parse_timestamp(&r[i..])
            .filter(|_| !prev.is_some_and(|c| c.is_ascii_alphanumeric()))
            .and_then(|_| typed())
            .or_else(name)
            .or_else(typed)
            .or_else(|| {
                let n = run(&r[i..], |c| c.is_ascii_digit());
                (n > 0 && !prev.is_some_and(|c| c.is_ascii_alphanumeric())).then_some((
                    Class::Num,
                    n,
                    0,
                ))
            });
        match slot {
            Some((class, n, set)) => {
                if !lit.is_empty() {
                    t.shape.push(Item::Lit(std::mem::take(&mut lit)));
                }
                t.shape.push(Item::Slot(class));
                t.spans.push((i, i + n));
                t.sets.push(set);
                i += n;
            }
            None => {
                lit.push(r[i]);
                i += 1;
            }
        }
    }
    if !lit.is_empty() {
        t.shape.push(Item::Lit(lit));
    }
    take_spaces(&mut t);
    t
}

/// Moves the spaces next to slots out of the literals into `flex`, adding an empty literal
/// where spaces alone stand beside a slot at either end or between two slots.
fn take_spaces(t: &mut Template) {
    let mut shape = Vec::with_capacity(t.shape.len() + 2);
    let mut flex = Vec::new();
    let n = t.shape.len();
    for (i, item) in std::mem::take(&mut t.shape).into_iter().enumerate() {
        let slot_before = i > 0;
        let slot_after = i + 1 < n;
        match item {
            Item::Lit(l) => {
                let lead = if slot_before {
                    l.iter().take_while(|&&c| c == b' ').count()
                } else {
                    0
                };
                let rest = &l[lead..];
                let trail = if slot_after {
                    rest.iter().rev().take_while(|&&c| c == b' ').count()
                } else {
                    0
                };
                shape.push(Item::Lit(rest[..rest.len() - trail].to_vec()));
                flex.push((lead, trail));
            }
            slot => {
                // Two slots side by side, or a slot at an end: an empty literal keeps the place.
                if !matches!(shape.last(), Some(Item::Lit(_))) {
                    shape.push(Item::Lit(Vec::new()));
                    flex.push((0, 0));
                }
                shape.push(slot);
            }
        }
    }
    if !matches!(shape.last(), Some(Item::Lit(_))) {
        shape.push(Item::Lit(Vec::new()));
        flex.push((0, 0));
    }
    t.shape = shape;
    t.flex = flex;
}

/// The ways to give each name slot one escape of its set, no escape twice (sets were
/// narrowed by every line of the group, so `[unknown]` of a `connection received` line and
/// `user` of a `connection authorized` line settle on `%u`); at most `cap`, the order
/// `%u %d %a %h %r %b %i` first. The lines decide between them.
pub(super) fn name_assignments(sets: &[u8], cap: usize) -> Vec<Vec<char>> {
    fn walk(sets: &[u8], used: u8, cur: &mut Vec<char>, out: &mut Vec<Vec<char>>, cap: usize) {
        if out.len() >= cap {
            return;
        }
        let Some((&set, rest)) = sets.split_first() else {
            out.push(cur.clone());
            return;
        };
        for &(b, c) in &ORDER {
            if set & b != 0 && used & b == 0 {
                cur.push(c);
                walk(rest, used | b, cur, out, cap);
                cur.pop();
            }
        }
    }
    let mut out = Vec::new();
    walk(sets, 0, &mut Vec::new(), &mut out, cap);
    if out.is_empty() {
        // More slots than escapes (a name printed twice): the first of each set.
        let first = |set: u8| {
            ORDER
                .iter()
                .find(|(b, _)| set & b != 0)
                .map_or('u', |o| o.1)
        };
        out.push(sets.iter().map(|&s| first(s)).collect());
    }
    out
}

/// Appends literal text to a setting, doubling `%`.
pub(super) fn push_literal(out: &mut String, lit: &[u8]) {
    for ch in String::from_utf8_lossy(lit).chars() {
        if ch == '%' {
            out.push('%');
        }
        out.push(ch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known<'a>(kind: Kind, u: &'a str, d: &'a str, h: &'a str, p: &'a str) -> Known<'a> {
        let o = |s: &'a str| (!s.is_empty()).then_some(s.as_bytes());
        Known {
            kind,
            user: o(u),
            database: o(d),
            host: o(h),
            port: o(p),
        }
    }

    #[test]
    fn reads_slots_and_literals() {
        let t = read(
            b"2026-11-27 14:21:13 EST:127.0.0.1(41026):[unknown]@[unknown]:[4526]:",
            &known(Kind::Received, "", "", "127.0.0.1", "41026"),
            &[],
        );
        assert_eq!(
            t.shape,
            vec![
                Item::Lit(Vec::new()),
                Item::Slot(Class::Time { ms: false }),
                Item::Lit(b":".to_vec()),
                Item::Slot(Class::Name),
                Item::Lit(b":".to_vec()),
                Item::Slot(Class::Name),
                Item::Lit(b"@".to_vec()),
                Item::Slot(Class::Name),
                Item::Lit(b":[".to_vec()),
                Item::Slot(Class::Num),
                Item::Lit(b"]:".to_vec()),
            ]
        );
        assert_eq!(t.sets, vec![0, R, U | D | A, U | D | A, 0]);
        let t = read(
            b"2026-11-27 19:21:08.123 UTC-6b09d81f.1078-00000 3/0 ",
            &known(Kind::Authorized, "a", "b", "", ""),
            &[b"10.1.2.3"],
        );
        let classes: Vec<_> = t
            .shape
            .iter()
            .filter_map(|i| match i {
                Item::Slot(c) => Some(*c),
                Item::Lit(_) => None,
            })
            .collect();
        assert_eq!(
            classes,
            vec![
                Class::Time { ms: true },
                Class::SessionId,
                Class::SqlState,
                Class::Vxid
            ]
        );
    }

    #[test]
    fn escapes_are_given_out_once() {
        assert_eq!(
            name_assignments(&[U | D | A, U | D | A, A], 9),
            vec![vec!['u', 'd', 'a'], vec!['d', 'u', 'a']]
        );
        assert_eq!(name_assignments(&[H | R], 9), vec![vec!['h'], vec!['r']]);
        assert_eq!(name_assignments(&[U, U], 9), vec![vec!['u', 'u']]);
        let mut s = String::new();
        push_literal(&mut s, b"100% ");
        assert_eq!(s, "100%% ");
    }
}
