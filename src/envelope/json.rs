//! One reader for the JSON envelopes: it finds the field holding the entry (Docker `log`,
//! journald `MESSAGE` (a string or an array of bytes), Cloud Logging `textPayload` /
//! `jsonPayload.message`, CloudNativePG `record`) with a small scanner that borrows from the
//! record and decodes only that field into a reused buffer (no allocation per record).

use super::timefmt::{parse_rfc3339, write_utc_millis};
use super::{write_text, Envelope, Outcome, MAX_RECORD};
use memchr::{memchr, memchr2};

/// A JSON value as found in the text (strings raw, between their quotes).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Val<'a> {
    Str(&'a [u8]),
    Obj(&'a [u8]),
    Arr(&'a [u8]),
    Other(&'a [u8]),
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The index of the closing quote of the string whose opening quote is at `i`.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let k = j + memchr2(b'"', b'\\', b.get(j..)?)?;
        if b[k] == b'"' {
            return Some(k);
        }
        j = k + 2;
    }
}

/// The index just past the object or array opening at `i`.
fn balanced_end(b: &[u8], i: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut j = i;
    while j < b.len() {
        match b[j] {
            b'"' => j = string_end(b, j)?,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// The value starting at `i` and the index past it.
fn value(b: &[u8], i: usize) -> Option<(Val<'_>, usize)> {
    match *b.get(i)? {
        b'"' => {
            let e = string_end(b, i)?;
            Some((Val::Str(&b[i + 1..e]), e + 1))
        }
        c @ (b'{' | b'[') => {
            let e = balanced_end(b, i)?;
            let v = if c == b'{' {
                Val::Obj(&b[i..e])
            } else {
                Val::Arr(&b[i..e])
            };
            Some((v, e))
        }
        _ => {
            let mut e = i;
            while e < b.len() && !matches!(b[e], b',' | b'}' | b']') && !b[e].is_ascii_whitespace()
            {
                e += 1;
            }
            (e > i).then(|| (Val::Other(&b[i..e]), e))
        }
    }
}

/// Calls `f(raw key, value)` for each member of the object `b`; false when `b` is not one.
pub(crate) fn members<'a>(b: &'a [u8], mut f: impl FnMut(&'a [u8], Val<'a>)) -> bool {
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return false;
    }
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return true;
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return false;
        }
        let Some(ke) = string_end(b, i) else {
            return false;
        };
        let key = &b[i + 1..ke];
        i = skip_ws(b, ke + 1);
        if b.get(i) != Some(&b':') {
            return false;
        }
        let Some((v, e)) = value(b, skip_ws(b, i + 1)) else {
            return false;
        };
        f(key, v);
        i = skip_ws(b, e);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return true,
            _ => return false,
        }
    }
}

/// Decodes a raw JSON string into `dst` (appending); invalid escapes are kept as they are.
pub(crate) fn unescape(raw: &[u8], dst: &mut Vec<u8>) {
    let mut i = 0;
    while let Some(k) = memchr(b'\\', &raw[i..]) {
        let k = i + k;
        dst.extend_from_slice(&raw[i..k]);
        let Some(&c) = raw.get(k + 1) else {
            dst.push(b'\\');
            return;
        };
        i = k + 2;
        let simple = match c {
            b'n' => b'\n',
            b't' => b'\t',
            b'r' => b'\r',
            b'b' => 8,
            b'f' => 12,
            b'u' => {
                let (ch, used) = unicode(&raw[k..]);
                let mut buf = [0u8; 4];
                dst.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                i = k + used;
                continue;
            }
            other => other,
        };
        dst.push(simple);
    }
    dst.extend_from_slice(&raw[i..]);
}

/// A `\uXXXX` escape (a surrogate pair when one follows) at the start of `b`.
fn unicode(b: &[u8]) -> (char, usize) {
    let hex = |s: Option<&[u8]>| {
        s.and_then(|s| std::str::from_utf8(s).ok())
            .and_then(|s| u32::from_str_radix(s, 16).ok())
    };
    let Some(hi) = hex(b.get(2..6)) else {
        return (char::REPLACEMENT_CHARACTER, 2);
    };
    if (0xD800..0xDC00).contains(&hi) && b.get(6..8) == Some(b"\\u") {
        if let Some(lo) = hex(b.get(8..12)).filter(|lo| (0xDC00..0xE000).contains(lo)) {
            let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
            return (char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER), 12);
        }
    }
    (char::from_u32(hi).unwrap_or(char::REPLACEMENT_CHARACTER), 6)
}

/// What the array framing found.
pub(crate) enum Next {
    /// An object at `start..end`.
    Object(usize, usize),
    /// An object begins at this index but is not complete yet.
    NeedMore(usize),
    /// An object begins at this index and is longer than a record may be.
    TooLong(usize),
    /// No more objects.
    End,
}

/// The next top-level object of a JSON array (or of concatenated objects) from `pos`.
pub(crate) fn next_object(input: &[u8], pos: usize, eof: bool) -> Next {
    let Some(start) = memchr(b'{', &input[pos.min(input.len())..]).map(|i| pos + i) else {
        return Next::End;
    };
    match balanced_end(input, start) {
        Some(end) => Next::Object(start, end),
        None if !eof && input.len() - start < MAX_RECORD => Next::NeedMore(start),
        None => Next::TooLong(start),
    }
}

/// The JSON envelopes' reader.
pub(crate) struct JsonReader {
    envelope: Envelope,
    text: Vec<u8>,
    /// Docker splits lines over 16 KiB into parts without `\n`: joined here.
    partial: Vec<u8>,
    /// A partial line was flushed before its last part: the parts still to come are dropped.
    cut: bool,
    prefix: Vec<u8>,
}

impl JsonReader {
    pub(crate) fn new(envelope: Envelope) -> JsonReader {
        JsonReader {
            envelope,
            text: Vec::new(),
            partial: Vec::new(),
            cut: false,
            prefix: Vec::new(),
        }
    }

    pub(crate) fn record(&mut self, rec: &[u8], out: &mut Vec<u8>) -> Outcome {
        match self.envelope {
            Envelope::DockerJson => self.docker(rec, out),
            Envelope::JournaldJson => self.journald(rec, out),
            Envelope::Cnpg => super::cnpg::record(rec, out, &mut self.text),
            _ => self.cloud_logging(rec, out),
        }
    }

    pub(crate) fn flush(&mut self, out: &mut Vec<u8>) {
        if !self.partial.is_empty() {
            write_text(out, b"", &self.partial);
            self.partial.clear();
            self.cut = true;
        }
    }

    fn docker(&mut self, rec: &[u8], out: &mut Vec<u8>) -> Outcome {
        let mut log = None;
        if !members(rec, |k, v| {
            if let (b"log", Val::Str(s)) = (k, v) {
                log = Some(s);
            }
        }) {
            return Outcome::NotUnderstood;
        }
        let Some(log) = log else {
            return Outcome::NotUnderstood;
        };
        self.text.clear();
        unescape(log, &mut self.text);
        if self.cut {
            // The rest of a line already written: never a line of its own.
            self.cut = self.text.last() != Some(&b'\n');
            return Outcome::NotUnderstood;
        }
        if self.text.last() != Some(&b'\n') {
            let room = MAX_RECORD.saturating_sub(self.partial.len());
            self.partial
                .extend_from_slice(&self.text[..self.text.len().min(room)]);
            return Outcome::Done;
        }
        if self.partial.is_empty() {
            write_text(out, b"", &self.text);
        } else {
            let room = MAX_RECORD.saturating_sub(self.partial.len());
            self.partial
                .extend_from_slice(&self.text[..self.text.len().min(room)]);
            write_text(out, b"", &self.partial);
            self.partial.clear();
        }
        Outcome::Done
    }

    fn journald(&mut self, rec: &[u8], out: &mut Vec<u8>) -> Outcome {
        let mut msg = None;
        if !members(rec, |k, v| {
            if k == b"MESSAGE" {
                msg = Some(v);
            }
        }) {
            return Outcome::NotUnderstood;
        }
        self.text.clear();
        match msg {
            Some(Val::Str(s)) => unescape(s, &mut self.text),
            Some(Val::Arr(a)) => {
                for n in a[1..a.len() - 1].split(|&c| c == b',') {
                    let n = n.trim_ascii();
                    match super::timefmt::num(n).filter(|&v| v <= 255) {
                        Some(v) => self.text.push(v as u8),
                        None => return Outcome::NotUnderstood,
                    }
                }
            }
            _ => return Outcome::NotUnderstood,
        }
        write_text(out, b"", &self.text);
        Outcome::Done
    }

    fn cloud_logging(&mut self, rec: &[u8], out: &mut Vec<u8>) -> Outcome {
        let (mut payload, mut json, mut time, mut received) = (None, None, None, None);
        if !members(rec, |k, v| match (k, v) {
            (b"textPayload", Val::Str(s)) => payload = Some(s),
            (b"jsonPayload", Val::Obj(o)) => json = Some(o),
            (b"timestamp", Val::Str(s)) => time = Some(s),
            (b"receiveTimestamp", Val::Str(s)) => received = Some(s),
            _ => {}
        }) {
            return Outcome::NotUnderstood;
        }
        if payload.is_none() {
            if let Some(o) = json {
                members(o, |k, v| {
                    if let (b"message" | b"textPayload", Val::Str(s)) = (k, v) {
                        payload = Some(s);
                    }
                });
            }
        }
        let Some(payload) = payload else {
            return Outcome::NotUnderstood;
        };
        let Some((millis, _)) = time.or(received).and_then(parse_rfc3339) else {
            return Outcome::NotUnderstood;
        };
        self.text.clear();
        unescape(payload, &mut self.text);
        self.prefix.clear();
        write_utc_millis(&mut self.prefix, millis);
        write_text(out, &self.prefix, &self.text);
        Outcome::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_strings() {
        let mut d = Vec::new();
        unescape(br#"a\"b\\c\n\t\u00e9\ud83d\ude00\u12"#, &mut d);
        assert_eq!(
            String::from_utf8_lossy(&d),
            "a\"b\\c\n\t\u{e9}\u{1f600}\u{fffd}12"
        );
    }

    #[test]
    fn members_of_nested_objects() {
        let mut keys = Vec::new();
        assert!(members(
            br#" {"a": {"b": "}"}, "c" : [1, "]"], "d": -1.5e3}"#,
            |k, _| keys.push(k.to_vec())
        ));
        assert_eq!(keys, vec![b"a".to_vec(), b"c".to_vec(), b"d".to_vec()]);
        assert!(!members(br#"{"a": "#, |_, _| {}));
    }
}
