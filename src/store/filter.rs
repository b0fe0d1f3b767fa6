//! The filter (one condition per [`Dim`]: database, user, application, host, server; AND
//! across dimensions) that narrows every figure: exact names (raw bytes), `(none)` for no
//! value, `a,b` alternatives, `!=` negation and `~` regexes.
//!
//! Text form, read by [`Filter::parse`] and written by [`Filter::to_text`]:
//! `db=production user!=postgres app~^worker host=10.0.0.1,10.0.0.2 app=(none)`. A quoted value
//! (`app="metabase reporting"`, `app="(none)"`, `db=""`) is always a literal name; inside quotes
//! `\"`, `\\` and `\xNN` (a raw byte) are escapes.

use super::intern::{Combo, Dim, Interner, Sym, OTHER, UNKNOWN};
use std::collections::HashSet;

/// The keyword for "the log gave no value" (an application that set no application_name).
pub const NONE_LABEL: &str = "(none)";

/// A name as the dashboard and the feed show it: [`NONE_LABEL`] for the unset value, a real
/// name that reads like the label in quotes (`"(none)"`), anything else made visible-safe.
pub fn display_name(names: &Interner, sym: Sym) -> String {
    if sym == UNKNOWN {
        return NONE_LABEL.to_string();
    }
    let n = names.name(sym);
    if &n[..] == NONE_LABEL.as_bytes() {
        return format!("\"{NONE_LABEL}\"");
    }
    crate::sanitize::visible(n)
}

/// One accepted value of a dimension.
#[derive(Debug, Clone)]
pub enum Value {
    /// The log gave no value.
    Missing,
    /// Exactly these bytes (a name may be invalid UTF-8).
    Exact(Vec<u8>),
    /// Names the regex finds anywhere in them (anchor with `^` / `$`).
    Regex(regex::bytes::Regex),
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Missing, Value::Missing) => true,
            (Value::Exact(a), Value::Exact(b)) => a == b,
            (Value::Regex(a), Value::Regex(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}
impl Eq for Value {}

/// What one dimension must be: one of `values`, or none of them when `negate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cond {
    /// `!=` / `!~`: keep what matches none of the values.
    pub negate: bool,
    /// The alternatives (never empty).
    pub values: Vec<Value>,
}

impl Cond {
    /// Exactly one name.
    pub fn exact(name: &[u8]) -> Cond {
        Cond {
            negate: false,
            values: vec![Value::Exact(name.to_vec())],
        }
    }

    /// No value in the log.
    pub fn missing() -> Cond {
        Cond {
            negate: false,
            values: vec![Value::Missing],
        }
    }
}

/// The conditions in force, one per dimension; `None` keeps everything for that dimension.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    conds: [Option<Cond>; Dim::COUNT],
}

/// Why a filter text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("unknown key '{0}': use {keys}", keys = key_list())]
    UnknownKey(String),
    #[error("'{0}' needs the form key=value (or key!=, key~, key!~)")]
    MissingEquals(String),
    #[error("a quote is not closed")]
    Unclosed,
    #[error(
        "'{0}' has no value: write {0}NAME, {0}\"\" for the empty name or {0}(none) for no name"
    )]
    EmptyValue(String),
    #[error("{0} is given twice: write {0}=a,b for either")]
    Repeated(String),
    #[error("'{0}' is not a regex: {1}")]
    Regex(String, String),
}

/// `db=, user=, app=, host= or server=`: every dimension's filter key.
fn key_list() -> String {
    let keys: Vec<String> = Dim::ALL
        .iter()
        .map(|d| format!("{}=", d.filter_key()))
        .collect();
    match keys.split_last() {
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Reads a quoted value after its opening quote; `\xNN` gives a raw byte.
fn quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Vec<u8>, FilterError> {
    let mut out = Vec::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Ok(out),
            '\\' => match chars.next() {
                Some('x') => {
                    let hex: String = [chars.next(), chars.next()].into_iter().flatten().collect();
                    match u8::from_str_radix(&hex, 16) {
                        Ok(b) if hex.len() == 2 => out.push(b),
                        _ => out.extend_from_slice(format!("\\x{hex}").as_bytes()),
                    }
                }
                Some(c) => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                None => return Err(FilterError::Unclosed),
            },
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    Err(FilterError::Unclosed)
}

/// A value as text `parse` reads back: bare when it can be, else quoted with escapes.
fn write_value(out: &mut String, v: &[u8]) {
    let bare = std::str::from_utf8(v).ok().filter(|s| {
        !s.is_empty()
            && s != &NONE_LABEL
            && !s.contains(|c: char| c.is_whitespace() || c.is_control() || "\",\\".contains(c))
    });
    if let Some(s) = bare {
        out.push_str(s);
        return;
    }
    out.push('"');
    for chunk in v.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' | '\\' => {
                    out.push('\\');
                    out.push(c);
                }
                c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
}

impl Filter {
    /// True when nothing is filtered.
    pub fn is_empty(&self) -> bool {
        self.conds.iter().all(Option::is_none)
    }

    /// The condition on one dimension.
    pub fn get(&self, dim: Dim) -> Option<&Cond> {
        self.conds[dim.index()].as_ref()
    }

    /// Sets (or with `None` lifts) the condition on one dimension.
    pub fn set(&mut self, dim: Dim, cond: Option<Cond>) {
        self.conds[dim.index()] = cond;
    }

    /// The filter keeping exactly one name (raw bytes) on one dimension.
    pub fn exact(dim: Dim, name: &[u8]) -> Filter {
        let mut f = Filter::default();
        f.set(dim, Some(Cond::exact(name)));
        f
    }

    /// The one name a dimension must have, when its condition is a single exact name.
    pub fn exact_value(&self, dim: Dim) -> Option<&[u8]> {
        match self.get(dim) {
            Some(Cond {
                negate: false,
                values,
            }) => match values.as_slice() {
                [Value::Exact(v)] => Some(v),
                _ => None,
            },
            _ => None,
        }
    }

    /// The condition on one dimension for reports: a single exact name as itself (invalid
    /// UTF-8 replaced), anything else as its filter text after the key (`a,b`, `!=postgres`,
    /// `~^w`, `(none)`).
    pub fn text_of(&self, dim: Dim) -> Option<String> {
        match self.exact_value(dim) {
            Some(v) => Some(String::from_utf8_lossy(v).into_owned()),
            None => self.syntax_of(dim),
        }
    }

    /// The condition on one dimension as filter text, what follows the key (a plain `=` is
    /// left out).
    fn syntax_of(&self, dim: Dim) -> Option<String> {
        let c = self.get(dim)?;
        let mut out = String::new();
        let op = op_of(c);
        if op != "=" {
            out.push_str(op);
        }
        for (i, v) in c.values.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match v {
                Value::Missing => out.push_str(NONE_LABEL),
                Value::Exact(b) => write_value(&mut out, b),
                // A bare regex runs to the next space, with no escapes of its own.
                Value::Regex(r)
                    if !r.as_str().starts_with('"')
                        && !r.as_str().contains(char::is_whitespace) =>
                {
                    out.push_str(r.as_str());
                }
                Value::Regex(r) => write_value(&mut out, r.as_str().as_bytes()),
            }
        }
        Some(out)
    }

    /// Reads `db=X user!=Y app~regex host=a,b app="metabase reporting"` (any order, any subset,
    /// each key once).
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let mut f = Filter::default();
        let mut chars = text.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if chars.peek().is_none() {
                return Ok(f);
            }
            let mut key = String::new();
            while let Some(&c) = chars.peek() {
                if "=!~".contains(c) || c.is_whitespace() {
                    break;
                }
                key.push(c);
                chars.next();
            }
            let negate = chars.next_if_eq(&'!').is_some();
            let op = match chars.next() {
                Some('=') => '=',
                Some('~') => '~',
                _ => return Err(FilterError::MissingEquals(key)),
            };
            let Some(dim) = Dim::from_key(&key) else {
                return Err(FilterError::UnknownKey(key));
            };
            let written = format!("{}{}{op}", dim.filter_key(), if negate { "!" } else { "" });
            if f.get(dim).is_some() {
                return Err(FilterError::Repeated(dim.filter_key().to_string()));
            }
            let mut values = Vec::new();
            if op == '~' {
                let src = if chars.next_if_eq(&'"').is_some() {
                    String::from_utf8_lossy(&quoted(&mut chars)?).into_owned()
                } else {
                    let mut s = String::new();
                    while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                        s.push(c);
                    }
                    s
                };
                if src.is_empty() {
                    return Err(FilterError::EmptyValue(written));
                }
                let re = regex::bytes::Regex::new(&src)
                    .map_err(|e| FilterError::Regex(src.clone(), first_line(&e.to_string())))?;
                values.push(Value::Regex(re));
            } else {
                loop {
                    let v = if chars.next_if_eq(&'"').is_some() {
                        Value::Exact(quoted(&mut chars)?)
                    } else {
                        let mut s = String::new();
                        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != ',') {
                            s.push(c);
                        }
                        match s.as_str() {
                            "" => return Err(FilterError::EmptyValue(written)),
                            NONE_LABEL => Value::Missing,
                            _ => Value::Exact(s.into_bytes()),
                        }
                    };
                    values.push(v);
                    if chars.next_if_eq(&',').is_none() {
                        break;
                    }
                }
            }
            f.set(dim, Some(Cond { negate, values }));
        }
    }

    /// The filter as text that `parse` reads back.
    pub fn to_text(&self) -> String {
        let mut parts = Vec::new();
        for dim in Dim::ALL {
            let (Some(c), Some(t)) = (self.get(dim), self.syntax_of(dim)) else {
                continue;
            };
            let eq = if op_of(c) == "=" { "=" } else { "" };
            parts.push(format!("{}{eq}{t}", dim.filter_key()));
        }
        parts.join(" ")
    }

    /// One sentence per exact name no session or failure ever had (why the figures are zero):
    /// `no session ever had database 'x'`.
    pub fn unknown_names(&self, names: &Interner) -> Vec<String> {
        let mut out = Vec::new();
        for dim in Dim::ALL {
            let Some(c) = self.get(dim) else { continue };
            for v in &c.values {
                let missing = match v {
                    Value::Exact(b) if names.lookup(b).is_none() => {
                        crate::sanitize::visible(b).to_string()
                    }
                    Value::Regex(r) if !any_name(names, dim, |n| r.is_match(n)) => {
                        format!("~{}", r.as_str())
                    }
                    _ => continue,
                };
                out.push(format!("no session ever had {} '{missing}'", dim.key()));
            }
        }
        out
    }

    /// The filter resolved against the interned names, for fast matching.
    pub fn resolve(&self, names: &Interner) -> Resolved {
        let mut out: [Option<Accept>; Dim::COUNT] = Default::default();
        for dim in Dim::ALL {
            let Some(c) = self.get(dim) else { continue };
            let mut syms: Vec<Sym> = Vec::new();
            for v in &c.values {
                match v {
                    Value::Missing => syms.push(UNKNOWN),
                    Value::Exact(b) => syms.extend(names.lookup(b)),
                    Value::Regex(r) => {
                        let mut seen = HashSet::new();
                        for id in 0..names.combo_count() {
                            let s = names.combo_of(id as u32).get(dim);
                            if s != UNKNOWN
                                && s != OTHER
                                && seen.insert(s)
                                && r.is_match(names.name(s))
                            {
                                syms.push(s);
                            }
                        }
                    }
                }
            }
            syms.sort_unstable();
            syms.dedup();
            out[dim.index()] = Some(Accept {
                negate: c.negate,
                syms,
            });
        }
        Resolved(out)
    }
}

/// The operator of a condition: `=`, `!=`, `~` or `!~`.
fn op_of(c: &Cond) -> &'static str {
    let regex = c.values.iter().any(|v| matches!(v, Value::Regex(_)));
    match (c.negate, regex) {
        (false, false) => "=",
        (true, false) => "!=",
        (false, true) => "~",
        (true, true) => "!~",
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Whether some combination has a name on `dim` that passes `test`.
fn any_name(names: &Interner, dim: Dim, test: impl Fn(&[u8]) -> bool) -> bool {
    (0..names.combo_count()).any(|id| {
        let s = names.combo_of(id as u32).get(dim);
        s != UNKNOWN && s != OTHER && test(names.name(s))
    })
}

/// The symbols one dimension accepts (or refuses, when negated).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Accept {
    negate: bool,
    /// Sorted.
    syms: Vec<Sym>,
}

/// A filter ready to test combinations.
#[derive(Debug, Clone)]
pub struct Resolved([Option<Accept>; Dim::COUNT]);

impl Resolved {
    /// Whether a combination passes.
    pub fn matches(&self, c: &Combo) -> bool {
        Dim::ALL.iter().all(|&d| match &self.0[d.index()] {
            None => true,
            Some(a) => a.syms.binary_search(&c.get(d)).is_ok() != a.negate,
        })
    }

    /// Whether one dimension's name passes (the other dimensions are not looked at).
    pub fn matches_dim(&self, dim: Dim, sym: Sym) -> bool {
        match &self.0[dim.index()] {
            None => true,
            Some(a) => a.syms.binary_search(&sym).is_ok() != a.negate,
        }
    }

    /// True when every combination passes.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }
}
