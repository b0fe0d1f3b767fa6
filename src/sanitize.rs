//! Makes untrusted text from the log safe to show: control characters, escape sequences,
//! bidirectional overrides and invalid UTF-8 become visible escapes (`\x1b`).

use std::fmt::Write;

/// Whether a character must be shown as an escape rather than drawn: control characters
/// (newline included), and invisible or bidirectional formatting characters.
pub(crate) fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// The bytes as a string a terminal can show safely, with `\\` doubled so escapes are unambiguous.
pub fn visible(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else if hidden(c) {
                push_escape(&mut out, c);
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Writes a hidden character as the text `\xNN` (below 0x100) or `\u{NNNN}`.
pub(crate) fn push_escape(out: &mut String, c: char) {
    let n = c as u32;
    if n < 0x100 {
        let _ = write!(out, "\\x{n:02x}");
    } else {
        let _ = write!(out, "\\u{{{n:x}}}");
    }
}

/// The bytes as text with invalid UTF-8 replaced (for JSON, where escapes are kept intact).
pub fn lossy(bytes: &[u8]) -> String {
    // Valid text (nearly every name) is checked on the fast path and copied once.
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_made_visible() {
        assert_eq!(visible(b"app_user"), "app_user");
        assert_eq!(visible(b"\x1b[2Jevil\x07"), "\\x1b[2Jevil\\x07");
        assert_eq!(visible(b"bad\xff\xfe"), "bad\\xff\\xfe");
        assert_eq!(visible("a\u{202e}b".as_bytes()), "a\\u{202e}b");
        assert_eq!(visible("日本 ü".as_bytes()), "日本 ü");
        assert_eq!(visible(b"a\\x1b"), "a\\\\x1b");
        assert_eq!(visible("\u{9b}".as_bytes()), "\\x9b");
        assert_eq!(lossy(b"\x1b[31m\xff"), "\x1b[31m\u{fffd}");
    }
}
