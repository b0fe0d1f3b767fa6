//! Label values of the metrics: client-chosen names, interned once, made safe for a label, and
//! capped so that a flood of distinct names cannot grow memory.

use std::collections::HashMap;

/// An interned label value.
pub type Sym = u32;

/// A dimension this metric does not carry (no label).
pub const NONE: Sym = 0;
/// `unknown`: the log did not say.
pub const UNKNOWN: Sym = 1;
/// `other`: folded past the cap.
pub const OTHER: Sym = 2;
/// The first symbol of a client name.
const FIRST: Sym = 3;

/// Names interned at most; past the cap a name reads as `other` until a collection
/// ([`Names::collect`]) frees the symbols nothing uses any more.
#[derive(Debug)]
pub struct Names {
    /// Clean label text by symbol.
    text: Vec<String>,
    by_raw: HashMap<Box<[u8]>, Sym, foldhash::quality::RandomState>,
    cap: usize,
    /// Symbols freed by the last collection.
    free: Vec<Sym>,
    /// Names read as `other` since the last collection.
    misses: usize,
}

impl Names {
    /// A table keeping at most `cap` client names.
    pub fn new(cap: usize) -> Names {
        Names {
            text: vec![String::new(), "unknown".into(), "other".into()],
            by_raw: HashMap::default(),
            cap,
            free: Vec::new(),
            misses: 0,
        }
    }

    /// The symbol of a raw name from the log (`None`: `unknown`); allocates only for a name not
    /// seen before and while under the cap.
    pub fn sym(&mut self, raw: Option<&[u8]>) -> Sym {
        let Some(raw) = raw else { return UNKNOWN };
        if let Some(&s) = self.by_raw.get(raw) {
            return s;
        }
        let s = if let Some(s) = self.free.pop() {
            s
        } else if self.text.len() < self.cap + FIRST as usize {
            self.text.push(String::new());
            (self.text.len() - 1) as Sym
        } else {
            self.misses += 1;
            return OTHER;
        };
        self.text[s as usize] = label_value(raw);
        self.by_raw.insert(raw.into(), s);
        s
    }

    /// Whether enough names were turned away since the last collection to pay for one that
    /// walks `live` references.
    pub fn wants_collection(&self, live: usize) -> bool {
        self.free.is_empty() && self.misses >= (self.cap / 4).max(live / 4).max(256)
    }

    /// Frees every symbol `used` says nothing refers to any more.
    pub fn collect(&mut self, used: impl Fn(Sym) -> bool) {
        let free = &mut self.free;
        self.by_raw.retain(|_, s| {
            let keep = used(*s);
            if !keep {
                free.push(*s);
            }
            keep
        });
        for &s in free.iter() {
            self.text[s as usize].clear();
        }
        self.misses = 0;
    }

    /// The symbol of a name already interned, without adding it.
    pub fn find(&self, raw: &[u8]) -> Option<Sym> {
        self.by_raw.get(raw).copied()
    }

    /// The label text of a symbol.
    pub fn text(&self, s: Sym) -> &str {
        self.text.get(s as usize).map_or("other", String::as_str)
    }

    /// Symbols handed out so far (the bound of a symbol).
    pub fn slots(&self) -> usize {
        self.text.len()
    }

    /// Client names interned.
    pub fn len(&self) -> usize {
        self.by_raw.len()
    }

    /// Whether no client name was interned.
    pub fn is_empty(&self) -> bool {
        self.by_raw.is_empty()
    }
}

/// A raw name as a label value: invalid UTF-8 becomes U+FFFD, control and formatting
/// characters become `\xNN` / `\u{NNNN}` text. Quotes and backslashes stay as they are: the
/// exposition encoder escapes them.
pub fn label_value(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if crate::sanitize::hidden(c) {
            crate::sanitize::push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_become_safe_label_values() {
        assert_eq!(label_value(b"app_user"), "app_user");
        assert_eq!(label_value(b"\x1b[2Jx\ny"), "\\x1b[2Jx\\x0ay");
        assert_eq!(label_value(b"bad\xff"), "bad\u{fffd}");
        assert_eq!(label_value("a\u{202e}b".as_bytes()), "a\\u{202e}b");
        assert_eq!(label_value(br#"q"uo\te"#), r#"q"uo\te"#);
    }

    #[test]
    fn names_past_the_cap_read_as_other() {
        let mut n = Names::new(2);
        let a = n.sym(Some(b"a"));
        let b = n.sym(Some(b"b"));
        assert_eq!(n.sym(Some(b"c")), OTHER);
        assert_eq!(n.sym(Some(b"a")), a);
        assert_eq!(n.text(b), "b");
        assert_eq!(n.sym(None), UNKNOWN);
        assert_eq!(n.len(), 2);
        // A collection frees what nothing uses: `b`'s symbol serves `c`.
        n.collect(|s| s == a);
        assert_eq!(n.sym(Some(b"c")), b);
        assert_eq!(n.text(b), "c");
        assert_eq!(n.sym(Some(b"a")), a);
        assert_eq!(n.len(), 2);
    }
}
