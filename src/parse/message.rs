//! A log message (the text after `LOG:  ` / `FATAL:  `) turned into a connection event kind
//! and the names it carries.

mod failure;

use super::time::{leading_digits, session_millis};
use crate::model::{AuthMethod, EventKind, ServerChange, SetupTimes};
use failure::{detail, fatal};

/// Names and numbers a message carried, raw bytes borrowed from it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageFields<'a> {
    pub user: Option<&'a [u8]>,
    pub database: Option<&'a [u8]>,
    pub application: Option<&'a [u8]>,
    pub host: Option<&'a [u8]>,
    pub port: Option<u16>,
}

/// The severity of an entry, as far as connection tracking cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Log,
    Fatal,
    /// A DETAIL line of its own (stderr), or the detail field of a csvlog / jsonlog entry.
    Detail,
    Other,
}

impl Severity {
    /// Reads the severity tag (`LOG`, `FATAL`, ...).
    pub fn from_tag(tag: &[u8]) -> Severity {
        match tag {
            b"LOG" => Severity::Log,
            b"FATAL" => Severity::Fatal,
            b"DETAIL" => Severity::Detail,
            _ => Severity::Other,
        }
    }
}

#[inline]
fn after<'a>(s: &'a [u8], needle: &[u8]) -> Option<&'a [u8]> {
    s.strip_prefix(needle)
}

/// Messages are short: below this, a search anchored on the needle's last byte beats building
/// a `memmem` searcher for every call.
const SHORT: usize = 256;

/// The first `needle` in `s`, a short text (see [`SHORT`]).
pub(crate) fn find(s: &[u8], needle: &[u8]) -> Option<usize> {
    let Some((&last, _)) = needle.split_last() else {
        return Some(0);
    };
    if s.len() > SHORT {
        return memchr::memmem::find(s, needle);
    }
    let k = needle.len() - 1;
    memchr::memchr_iter(last, s.get(k..)?).find(|&j| &s[j..=j + k] == needle)
}

/// The last `needle` in `s`, a short text (see [`SHORT`]).
pub(crate) fn rfind(s: &[u8], needle: &[u8]) -> Option<usize> {
    let Some((&last, _)) = needle.split_last() else {
        return Some(s.len());
    };
    if s.len() > SHORT {
        return memchr::memmem::rfind(s, needle);
    }
    let k = needle.len() - 1;
    memchr::memrchr_iter(last, s.get(k..)?).find(|&j| &s[j..=j + k] == needle)
}

fn port(s: &[u8]) -> Option<u16> {
    u16::try_from(leading_digits(s)?.0).ok()
}

/// The text between the first `"` after `lead` and the last `"` of `s`.
fn quoted_after<'a>(s: &'a [u8], lead: &[u8]) -> Option<&'a [u8]> {
    let start = find(s, lead)? + lead.len();
    let end = memchr::memrchr(b'"', s)?;
    (end >= start).then(|| &s[start..end])
}

/// The names part of a `connection authorized` message (`U database=D application_name=A`,
/// without the `SSL enabled (...)` / `GSS (...)` tail), and whether it is a replication one.
fn authorized_names(msg: &[u8]) -> Option<(&[u8], bool)> {
    authorized_parts(msg).map(|(body, replication, _)| (body, replication))
}

/// The names part, whether it is a replication connection, and the SSL text.
type AuthorizedParts<'a> = (&'a [u8], bool, Option<&'a [u8]>);

/// [`authorized_names`] and the text inside `SSL enabled (...)`, when the session uses SSL.
fn authorized_parts(msg: &[u8]) -> Option<AuthorizedParts<'_>> {
    // By the first letter: this runs for every candidate line, most of them no such message.
    let (mut body, replication) = match msg.first() {
        Some(b'c') => (after(msg, b"connection authorized: user=")?, false),
        Some(b'r') => (
            after(msg, b"replication connection authorized: user=")?,
            true,
        ),
        _ => return None,
    };
    let mut ssl = None;
    if body.last() != Some(&b')') {
        return Some((body, replication, ssl)); // no `SSL enabled (...)` nor `GSS (...)` tail
    }
    for tail in [&b" SSL enabled ("[..], b" GSS ("] {
        if let Some(i) = rfind(body, tail) {
            if tail[1] == b'S' {
                let inner = &body[i + tail.len()..];
                ssl = Some(inner.strip_suffix(b")").unwrap_or(inner));
            }
            body = &body[..i];
        }
    }
    Some((body, replication, ssl))
}

/// `12.345` (milliseconds, up to three decimals) in microseconds, saturating.
fn millis_to_us(s: &[u8]) -> Option<u32> {
    let end = s
        .iter()
        .position(|c| !c.is_ascii_digit() && *c != b'.')
        .unwrap_or(s.len());
    let s = &s[..end];
    let (int, frac) = match memchr::memchr(b'.', s) {
        Some(d) => (&s[..d], &s[d + 1..]),
        None => (s, &b""[..]),
    };
    if int.is_empty() || int.len() > 9 || frac.iter().any(|c| !c.is_ascii_digit()) {
        return None;
    }
    let mut us: u64 = 0;
    for &c in int {
        us = us * 10 + u64::from(c - b'0');
    }
    for k in 0..3 {
        us = us * 10 + frac.get(k).map_or(0, |c| u64::from(c - b'0'));
    }
    Some(u32::try_from(us).unwrap_or(u32::MAX))
}

/// `setup total=10.876 ms, fork=0.444 ms, authentication=0.379 ms` (PostgreSQL 18).
fn setup_times(rest: &[u8]) -> Option<SetupTimes> {
    let field = |name: &[u8]| find(rest, name).and_then(|i| millis_to_us(&rest[i + name.len()..]));
    Some(SetupTimes {
        total_us: field(b"total=")?,
        fork_us: field(b"fork=").unwrap_or(0),
        auth_us: field(b"authentication=").unwrap_or(0),
    })
}

/// `identity="I" method=M (file:line)` or `user="U" method=M (...)` (no identity: trust).
fn authenticated(rest: &[u8]) -> EventKind<'_> {
    let m = rfind(rest, b" method=");
    let method = m.map_or(AuthMethod::Other, |i| {
        let w = &rest[i + 8..];
        let end = memchr::memchr(b' ', w).unwrap_or(w.len());
        AuthMethod::from_word(&w[..end])
    });
    let identity = rest.strip_prefix(b"identity=\"").and_then(|id| {
        let end = m.map_or(id.len(), |i| i.saturating_sub(10));
        let id = id.get(..end)?;
        Some(id.strip_suffix(b"\"").unwrap_or(id))
    });
    EventKind::Authenticated { method, identity }
}

/// `connection authorized: user=U database=D application_name=A SSL enabled (...)`.
/// `known` holds the user and database the entry's prefix or columns gave, which settle
/// names that themselves contain ` database=` or ` application_name=`.
fn authorized<'a>(
    body: &'a [u8],
    replication: bool,
    ssl: Option<&'a [u8]>,
    known: Known<'_>,
) -> (EventKind<'a>, MessageFields<'a>) {
    let mut body = body;
    if let Some(f) = with_known_names(body, replication, known) {
        return (EventKind::Authorized { replication, ssl }, f);
    }
    let mut f = MessageFields::default();
    if let Some(i) = find(body, b" application_name=") {
        f.application = Some(&body[i + 18..]);
        body = &body[..i];
    }
    if let Some(i) = find(body, b" database=") {
        f.database = Some(&body[i + 10..]);
        body = &body[..i];
    }
    f.user = Some(body);
    (EventKind::Authorized { replication, ssl }, f)
}

/// The user and database an entry's prefix or structured columns gave.
pub type Known<'k> = (Option<&'k [u8]>, Option<&'k [u8]>);

/// Whether a `connection authorized` message agrees with the user and database an entry's
/// prefix gave (any other message, or a prefix without both names, agrees).
pub fn confirms_names(msg: &[u8], known: Known<'_>) -> bool {
    match (known, authorized_names(msg)) {
        ((Some(_), Some(_)), Some((body, replication))) => {
            with_known_names(body, replication, known).is_some()
        }
        _ => true,
    }
}

/// How many bytes of `body` spell `known` at its start; a message continues each of its
/// newlines with a tab, which the prefix's copy of the name does not have.
fn known_len(body: &[u8], known: &[u8]) -> Option<usize> {
    // A name without a newline is spelled byte for byte: one compare (most names).
    if !known.contains(&b'\n') {
        return (body.get(..known.len()) == Some(known)).then_some(known.len());
    }
    let mut b = 0;
    for &c in known {
        if body.get(b) != Some(&c) {
            return None;
        }
        b += 1;
        if c == b'\n' && body.get(b) == Some(&b'\t') {
            b += 1;
        }
    }
    Some(b)
}

/// Whether `msg` holds `name` as a message writes it (a tab after each newline).
pub(crate) fn holds_tabbed(msg: &[u8], name: &[u8]) -> bool {
    let Some(&first) = name.first() else {
        return false;
    };
    memchr::memchr_iter(first, msg).any(|i| known_len(&msg[i..], name).is_some())
}

/// Splits `U database=D application_name=A` knowing U and D exactly.
fn with_known_names<'a>(
    body: &'a [u8],
    replication: bool,
    (user, db): Known<'_>,
) -> Option<MessageFields<'a>> {
    let user = user?;
    // The known names are confirmed by the message: they are left to the entry's own fields
    // (a prefix value keeps a newline as logged, the message adds a tab after it).
    let mut f = MessageFields::default();
    let mut pos = known_len(body, user)?;
    if !replication {
        let db = db?;
        body[pos..].strip_prefix(b" database=")?;
        let start = pos + 10;
        pos = start + known_len(&body[start..], db)?;
    }
    if pos < body.len() {
        body[pos..].strip_prefix(b" application_name=")?;
        f.application = Some(&body[pos + 18..]);
    }
    Some(f)
}

/// `session time: 0:00:01.692 user=U database=D host=H port=P`.
fn disconnection(rest: &[u8]) -> (EventKind<'static>, MessageFields<'_>) {
    let mut f = MessageFields::default();
    let millis = session_millis(rest);
    if let Some(u) = find(rest, b" user=") {
        let mut body = &rest[u + 6..];
        if let Some(i) = rfind(body, b" port=") {
            f.port = port(&body[i + 6..]);
            body = &body[..i];
        }
        if let Some(i) = rfind(body, b" host=") {
            f.host = Some(&body[i + 6..]);
            body = &body[..i];
        }
        if let Some(i) = find(body, b" database=") {
            f.database = Some(&body[i + 10..]);
            body = &body[..i];
        }
        f.user = Some(body);
    }
    (
        EventKind::Disconnected {
            session_millis: millis,
        },
        f,
    )
}

fn server_change(msg: &[u8]) -> Option<ServerChange> {
    let change = if msg.starts_with(b"starting PostgreSQL ") {
        ServerChange::Starting
    } else if msg.starts_with(b"database system is ready to accept") {
        ServerChange::Ready
    } else if msg.starts_with(b"received ") && msg.ends_with(b" shutdown request") {
        ServerChange::ShutdownRequested
    } else if msg.starts_with(b"database system is shut down") {
        ServerChange::ShutDown
    } else if msg.starts_with(b"terminating any other active server processes") {
        ServerChange::CrashReset
    } else if msg.starts_with(b"all server processes terminated; reinitializing") {
        ServerChange::Reinitializing
    } else {
        return None;
    };
    Some(change)
}

/// Classifies one message. `None`: nothing about connections.
pub fn classify<'a>(
    severity: Severity,
    msg: &'a [u8],
    sqlstate: Option<&[u8]>,
    known: Known<'_>,
) -> Option<(EventKind<'a>, MessageFields<'a>)> {
    match severity {
        Severity::Fatal => Some(fatal(msg, sqlstate)),
        Severity::Detail => detail(msg),
        Severity::Other => None,
        // The first letter tells the message families apart: a message is compared with the
        // starts of its own family only (this runs for every candidate line).
        Severity::Log => {
            let event = match msg.first() {
                Some(b'c') => connection(msg, known),
                Some(b'd') => after(msg, b"disconnection: session time: ").map(disconnection),
                Some(b'r') => authorized_parts(msg)
                    .map(|(body, replication, ssl)| authorized(body, replication, ssl, known)),
                _ => None,
            };
            event.or_else(|| {
                server_change(msg).map(|c| (EventKind::Server(c), MessageFields::default()))
            })
        }
    }
}

/// A `LOG` message that starts with `connection `: received, authorized, authenticated, ready.
fn connection<'a>(msg: &'a [u8], known: Known<'_>) -> Option<(EventKind<'a>, MessageFields<'a>)> {
    if let Some(rest) = after(msg, b"connection received: host=") {
        let mut f = MessageFields::default();
        match find(rest, b" port=") {
            Some(i) => {
                f.host = Some(&rest[..i]);
                f.port = port(&rest[i + 6..]);
            }
            None => f.host = Some(rest),
        }
        Some((EventKind::Received, f))
    } else if let Some((body, replication, ssl)) = authorized_parts(msg) {
        Some(authorized(body, replication, ssl, known))
    } else if let Some(rest) = after(msg, b"connection authenticated: ") {
        Some((authenticated(rest), MessageFields::default()))
    } else {
        let setup = setup_times(after(msg, b"connection ready: setup ")?)?;
        Some((EventKind::Ready { setup }, MessageFields::default()))
    }
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
