//! `log_line_prefix` compiled into a matcher that splits a stderr line into prefix fields,
//! severity and message, for every escape PostgreSQL documents.

use crate::parse::EntryFields;

/// The most bytes a free-text prefix field (user, database, application, host, ...) may span.
const MAX_FIELD: usize = 512;
/// Backtracking budget per line, so a hostile line cannot make matching slow.
const STEP_BUDGET: u32 = 4096;

/// A prefix escape that produces a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Application,
    User,
    Database,
    RemoteHostPort,
    RemoteHost,
    BackendType,
    Pid,
    LeaderPid,
    Time,
    TimeMillis,
    Epoch,
    PsDisplay,
    SqlState,
    SessionId,
    LineNumber,
    SessionStart,
    VirtualXid,
    Xid,
    QueryId,
}

impl Field {
    /// Whether the value has a grammar of its own ([`fixed_len`]): all but free text, and
    /// `%r`, which is read as `host(port)` first.
    fn has_grammar(self) -> bool {
        !self.is_free() || self == Field::RemoteHostPort
    }

    /// Whether the value is free text (names, hosts, process titles), which ends only where
    /// the rest of the prefix can match.
    fn is_free(self) -> bool {
        matches!(
            self,
            Field::Application
                | Field::User
                | Field::Database
                | Field::RemoteHost
                | Field::RemoteHostPort
                | Field::BackendType
                | Field::PsDisplay
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(Literal),
    Field {
        field: Field,
        pad: i32,
    },
    /// `%q`: non-session processes stop the prefix here.
    SessionStop,
}

/// Literal text of a prefix, with its first eight bytes as a word and a mask of them: a
/// literal of up to eight bytes is compared in one step (a byte loop mispredicts its end).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Literal {
    text: Vec<u8>,
    word: u64,
    mask: u64,
}

impl Literal {
    fn token(text: Vec<u8>) -> Token {
        let n = text.len().min(8);
        let mut w = [0u8; 8];
        w[..n].copy_from_slice(&text[..n]);
        let mask = if n == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * n)) - 1
        };
        Token::Literal(Literal {
            word: u64::from_le_bytes(w),
            mask,
            text,
        })
    }

    /// Whether `line` starts with this text.
    fn starts(&self, line: &[u8]) -> bool {
        match line.first_chunk::<8>() {
            Some(w) if self.text.len() <= 8 => u64::from_le_bytes(*w) & self.mask == self.word,
            _ => starts_with(line, &self.text),
        }
    }
}

/// Values a matched prefix gave; raw bytes borrowed from the line.
pub type PrefixFields<'a> = EntryFields<'a>;

/// A stderr line split into its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitLine<'a> {
    pub fields: PrefixFields<'a>,
    pub severity: &'a [u8],
    pub message: &'a [u8],
    /// Whether the whole prefix matched (false when a `%q` stop was taken).
    pub full: bool,
}

/// Whether a candidate split (its fields and message) is the right one.
pub type Accept<'f> = &'f dyn Fn(&PrefixFields<'_>, &[u8]) -> bool;

/// The state of one backtracking search.
struct Search<'f> {
    budget: u32,
    full: bool,
    accept: Accept<'f>,
}

impl Search<'_> {
    /// The prefix ends at `pos` if a severity tag starts there and the split is accepted.
    fn end_at<'a>(
        &self,
        line: &'a [u8],
        pos: usize,
        out: &PrefixFields<'_>,
    ) -> Option<(&'a [u8], usize)> {
        severity_at(line, pos).filter(|&(_, msg)| (self.accept)(out, &line[msg..]))
    }
}

mod fields;
mod free;
pub(crate) use fields::has_severity_tag;
use fields::{fixed_len, severity_at};
use free::find_byte;
use free::{free_end, set_free};

/// A compiled `log_line_prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix {
    source: String,
    tokens: Vec<Token>,
}

/// The severity tags PostgreSQL writes.
pub(crate) const SEVERITIES: [&[u8]; 20] = [
    b"LOG",
    b"FATAL",
    b"ERROR",
    b"WARNING",
    b"DETAIL",
    b"HINT",
    b"STATEMENT",
    b"CONTEXT",
    b"PANIC",
    b"NOTICE",
    b"INFO",
    b"QUERY",
    b"LOCATION",
    b"DEBUG",
    b"DEBUG1",
    b"DEBUG2",
    b"DEBUG3",
    b"DEBUG4",
    b"DEBUG5",
    b"BACKTRACE",
];

impl Prefix {
    /// Compiles a `log_line_prefix` setting (e.g. `%m [%p] %q%u@%d `).
    pub fn compile(setting: &str) -> Prefix {
        let mut tokens = Vec::new();
        let mut lit = Vec::new();
        let b = setting.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] != b'%' || i + 1 >= b.len() {
                lit.push(b[i]);
                i += 1;
                continue;
            }
            i += 1;
            let mut pad: i32 = 0;
            let neg = b[i] == b'-';
            if neg {
                i += 1;
            }
            while i < b.len() && b[i].is_ascii_digit() {
                pad = pad
                    .saturating_mul(10)
                    .saturating_add(i32::from(b[i] - b'0'));
                i += 1;
            }
            if neg {
                pad = -pad;
            }
            let Some(&c) = b.get(i) else { break };
            i += 1;
            let field = match c {
                b'a' => Field::Application,
                b'u' => Field::User,
                b'd' => Field::Database,
                b'r' => Field::RemoteHostPort,
                b'h' => Field::RemoteHost,
                b'b' => Field::BackendType,
                b'p' => Field::Pid,
                b'P' => Field::LeaderPid,
                b't' => Field::Time,
                b'm' => Field::TimeMillis,
                b'n' => Field::Epoch,
                b'i' => Field::PsDisplay,
                b'e' => Field::SqlState,
                b'c' => Field::SessionId,
                b'l' => Field::LineNumber,
                b's' => Field::SessionStart,
                b'v' => Field::VirtualXid,
                b'x' => Field::Xid,
                b'Q' => Field::QueryId,
                b'%' => {
                    lit.push(b'%');
                    continue;
                }
                b'q' => {
                    if !lit.is_empty() {
                        tokens.push(Literal::token(std::mem::take(&mut lit)));
                    }
                    tokens.push(Token::SessionStop);
                    continue;
                }
                _ => continue, // PostgreSQL prints nothing for unknown escapes.
            };
            if !lit.is_empty() {
                tokens.push(Literal::token(std::mem::take(&mut lit)));
            }
            tokens.push(Token::Field { field, pad });
        }
        if !lit.is_empty() {
            tokens.push(Literal::token(lit));
        }
        Prefix {
            source: setting.to_string(),
            tokens,
        }
    }

    /// The setting this was compiled from.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether lines name their process (`%p`, or `%c` which ends in the pid): then sessions
    /// are exact; without, connection events cannot be paired by process.
    pub fn has_pid(&self) -> bool {
        self.tokens.iter().any(|t| {
            matches!(
                t,
                Token::Field {
                    field: Field::Pid | Field::SessionId,
                    ..
                }
            )
        })
    }

    /// Number of value-producing escapes, used to prefer the more specific of two prefixes.
    pub fn field_count(&self) -> usize {
        self.tokens
            .iter()
            .filter(|t| matches!(t, Token::Field { .. }))
            .count()
    }

    /// Splits one line (without its newline) into prefix fields, severity and message.
    pub fn split<'a>(&self, line: &'a [u8]) -> Option<SplitLine<'a>> {
        self.split_where(line, &|_, _| true)
    }

    /// Like [`Prefix::split`], taking the first split (shortest values first) that `accept`
    /// agrees with, given its fields and message: where names hold the text that follows them
    /// in the prefix, the message can tell which split is right.
    pub fn split_where<'a>(&self, line: &'a [u8], accept: Accept<'_>) -> Option<SplitLine<'a>> {
        let mut fields = PrefixFields::default();
        if let Some((severity, msg)) = self.first_path(line, &mut fields, accept) {
            return Some(SplitLine {
                fields,
                severity,
                message: &line[msg..],
                full: true,
            });
        }
        self.search(line, accept)
    }

    /// [`Prefix::split_where`] by the backtracking search alone.
    fn search<'a>(&self, line: &'a [u8], accept: Accept<'_>) -> Option<SplitLine<'a>> {
        let mut fields = PrefixFields::default();
        let mut cx = Search {
            budget: STEP_BUDGET,
            full: true,
            accept,
        };
        let (severity, msg) = self.match_from(line, 0, 0, &mut fields, &mut cx)?;
        Some(SplitLine {
            fields,
            severity,
            message: &line[msg..],
            full: cx.full,
        })
    }

    fn match_from<'a>(
        &self,
        line: &'a [u8],
        ti: usize,
        pos: usize,
        out: &mut PrefixFields<'a>,
        cx: &mut Search<'_>,
    ) -> Option<(&'a [u8], usize)> {
        cx.budget = cx.budget.checked_sub(1)?;
        let Some(token) = self.tokens.get(ti) else {
            return cx.end_at(line, pos, out);
        };
        match token {
            Token::Literal(l) => {
                if l.starts(&line[pos..]) {
                    self.match_from(line, ti + 1, pos + l.text.len(), out, cx)
                } else {
                    None
                }
            }
            Token::SessionStop => {
                let saved = *out;
                if let Some(r) = self.match_from(line, ti + 1, pos, out, cx) {
                    return Some(r);
                }
                *out = saved;
                cx.full = false;
                cx.end_at(line, pos, out)
            }
            Token::Field { field, pad } => {
                // No copy of `out` to restore on failure: a later success sets again every
                // field of the tokens it matches, and only the `%q` stop, which skips tokens,
                // restores what it saw (this runs for every candidate line).
                if let Some(end) = fixed_at(*field, *pad, line, pos, out) {
                    let r = self.match_from(line, ti + 1, end, out, cx);
                    if r.is_some() {
                        return r;
                    }
                    // `%r` read as `host(port)` up to a later `(digits)`: it may be empty
                    // (postmaster lines) or end elsewhere; try it as free text below.
                    if *field != Field::RemoteHostPort {
                        return None;
                    }
                }
                if !field.is_free() {
                    return None; // a fixed-grammar field that does not fit here
                }
                // Free text keeps its padding in the span (trimmed later): an empty padded
                // value is all spaces.
                self.match_free(line, ti, *field, *pad, pos, out, cx)
            }
        }
    }

    /// The literal right after token `ti`, if the next token is one.
    fn next_literal(&self, ti: usize) -> Option<&[u8]> {
        match self.tokens.get(ti + 1) {
            Some(Token::Literal(l)) => Some(l.text.as_slice()),
            _ => None,
        }
    }

    /// The split [`Prefix::match_from`] tries first, in one pass with no recursion: each free
    /// value as short as the literal after it allows, a `%q` stop passed over. When it is
    /// accepted it is the search's answer (the search returns the first split it finds);
    /// otherwise the caller searches in full. Nearly every line ends here.
    fn first_path<'a>(
        &self,
        line: &'a [u8],
        out: &mut PrefixFields<'a>,
        accept: Accept<'_>,
    ) -> Option<(&'a [u8], usize)> {
        let mut pos = 0;
        for (ti, token) in self.tokens.iter().enumerate() {
            match token {
                Token::Literal(l) => {
                    if !l.starts(&line[pos..]) {
                        return None;
                    }
                    pos += l.text.len();
                }
                Token::SessionStop => {}
                Token::Field { field, pad } => {
                    if let Some(end) = fixed_at(*field, *pad, line, pos, out) {
                        pos = end;
                        continue;
                    }
                    if !field.is_free() {
                        return None;
                    }
                    let limit = line.len().min(pos + MAX_FIELD);
                    let end = free_end(line, self.next_literal(ti), pos, limit)?;
                    set_free(*field, *pad, &line[pos..end], out);
                    pos = end;
                }
            }
        }
        severity_at(line, pos).filter(|&(_, msg)| accept(out, &line[msg..]))
    }

    /// A free-text field: try the shortest value first, ending where the next token can match.
    #[allow(clippy::too_many_arguments)]
    fn match_free<'a>(
        &self,
        line: &'a [u8],
        ti: usize,
        field: Field,
        pad: i32,
        start: usize,
        out: &mut PrefixFields<'a>,
        cx: &mut Search<'_>,
    ) -> Option<(&'a [u8], usize)> {
        let limit = line.len().min(start + MAX_FIELD);
        let next_lit = self.next_literal(ti);
        let mut end = start;
        while end <= limit {
            end = free_end(line, next_lit, end, limit)?;
            set_free(field, pad, &line[start..end], out);
            if let Some(r) = self.match_from(line, ti + 1, end, out, cx) {
                return Some(r);
            }
            if cx.budget == 0 {
                return None;
            }
            end += 1;
        }
        None
    }
}

/// A field with a grammar of its own at `pos` (see [`fixed_len`]), with the spaces its padding
/// allows: where it ends; None when it has no grammar or does not fit. A padded value has at
/// most `|pad|` spaces before it (right-aligned) and fills the width with spaces after it
/// (left-aligned). Either side is accepted, as a sample cannot always tell the alignment of a
/// value it saw only empty. Inlined into both matchers: it runs for every field of every
/// candidate line.
#[inline(always)]
fn fixed_at<'a>(
    field: Field,
    pad: i32,
    line: &'a [u8],
    pos: usize,
    out: &mut PrefixFields<'a>,
) -> Option<usize> {
    if !field.has_grammar() {
        return None;
    }
    let width = pad.unsigned_abs() as usize;
    let mut start = pos;
    while start - pos < width && line.get(start) == Some(&b' ') {
        start += 1;
    }
    let mut end = start + fixed_len(field, &line[start..], out)?;
    while end - pos < width && line.get(end) == Some(&b' ') {
        end += 1;
    }
    Some(end)
}

/// `line` starts with `lit`. Literals of a prefix are a few bytes: compared in place, where
/// a call to `memcmp` would cost more than the comparison.
fn starts_with(line: &[u8], lit: &[u8]) -> bool {
    line.len() >= lit.len() && line.iter().zip(lit).all(|(a, b)| a == b)
}

#[cfg(test)]
#[path = "prefix_tests.rs"]
mod tests;
