//! Line bookkeeping shared by the line-oriented formats (stderr, jsonlog): which part of a
//! buffer is complete, how many lines and entries it holds, and its candidate lines.

use super::candidates;
use memchr::{memchr, memrchr};

/// The complete part of `buf` (up to its last newline, or all of it at end of input),
/// with its line count and entry count (lines that do not continue the entry before).
pub(crate) struct Complete<'a> {
    pub bytes: &'a [u8],
    pub lines: u64,
    pub entries: u64,
}

/// Splits off the complete lines of `buf` and counts them.
pub(crate) fn complete(buf: &[u8], eof: bool) -> Complete<'_> {
    complete_counted(buf, eof, count_lines)
}

/// As [`complete`], with the counting pass given: `count` returns the newlines of the complete
/// part and how many of its lines begin with a tab (and may do more on the way).
pub(crate) fn complete_counted(
    buf: &[u8],
    eof: bool,
    count: impl FnOnce(&[u8]) -> (u64, u64),
) -> Complete<'_> {
    let whole = memrchr(b'\n', buf).map_or(0, |i| i + 1);
    let end = if eof { buf.len() } else { whole };
    let bytes = &buf[..end];
    let (newlines, continued) = count(bytes);
    let lines = newlines + u64::from(end > whole);
    Complete {
        bytes,
        lines,
        entries: lines.saturating_sub(continued),
    }
}

/// The newlines of `bytes`, and how many of its lines begin with a tab (continuation lines):
/// the stderr scan's one pass, with no use for its candidates.
fn count_lines(bytes: &[u8]) -> (u64, u64) {
    super::scan::scan(bytes, |_, _| {})
}

/// Calls `f` with each line (without its newline or carriage return) that holds a candidate
/// text, found by one SIMD search over the whole buffer; other lines are never looked at.
pub(crate) fn for_each_candidate(buf: &[u8], mut f: impl FnMut(&[u8])) {
    for_each_candidate_at(buf, |start, end| {
        let line = &buf[start..end];
        f(line.strip_suffix(b"\r").unwrap_or(line));
    });
}

/// As [`for_each_candidate`], giving the line's bounds in `buf` (start, end before `\n`).
fn for_each_candidate_at(buf: &[u8], mut f: impl FnMut(usize, usize)) {
    let searcher = candidates();
    let mut pos = 0;
    while pos < buf.len() {
        let Some(hit) = searcher.find(buf, pos) else {
            break;
        };
        let start = memrchr(b'\n', &buf[..hit]).map_or(0, |i| i + 1);
        let end = memchr(b'\n', &buf[hit..]).map_or(buf.len(), |i| hit + i);
        pos = end + 1;
        f(start, end);
    }
}

/// Where the entry whose first line ends at `end` ends: past its continuation lines
/// (tab-led), at the newline of the last one.
pub(crate) fn continuation_end(buf: &[u8], end: usize) -> usize {
    let mut stop = end;
    while buf.get(stop + 1) == Some(&b'\t') {
        stop = memchr(b'\n', &buf[stop + 1..]).map_or(buf.len(), |i| stop + 1 + i);
    }
    stop
}

/// The line before the one starting at `start`, unless it is a continuation line.
pub(crate) fn previous_line(buf: &[u8], start: usize) -> Option<(usize, &[u8])> {
    if start == 0 {
        return None;
    }
    let prev = memrchr(b'\n', &buf[..start - 1]).map_or(0, |i| i + 1);
    (buf.get(prev) != Some(&b'\t')).then(|| (prev, &buf[prev..start - 1]))
}

/// Where `buf` can be cut so that its two parts decode as the whole would: the start of its
/// last complete line that begins an entry (no tab) and holds no candidate text. No entry, and
/// no look back from a candidate line at the line before it, crosses such a cut. None when no
/// line after the first qualifies.
pub(crate) fn entry_cut(buf: &[u8]) -> Option<usize> {
    let mut end = memrchr(b'\n', buf)?;
    loop {
        let start = memrchr(b'\n', &buf[..end])? + 1;
        let line = &buf[start..end];
        if line.first() != Some(&b'\t') && !super::scan::is_candidate_line(line) {
            return Some(start);
        }
        end = start - 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_led_lines_are_counted_as_a_two_byte_search_would() {
        for text in [
            &b""[..],
            b"\t",
            b"\ta\n\tb\nc\td\n\t\t\n",
            b"x\n\n\t\n\t",
            b"\t\t\t",
        ] {
            let want = memchr::memmem::find_iter(text, b"\n\t").count() as u64
                + u64::from(text.first() == Some(&b'\t'));
            assert_eq!(count_lines(text).1, want, "{text:?}");
        }
        assert_eq!(count_lines(b"\ta\n\tb\nc\td\n\t\t\n").1, 3);
    }

    #[test]
    fn one_pass_counts_agree_with_two_searches() {
        // Every block boundary, runs of newlines and tabs, a tab first.
        let mut text = Vec::new();
        let mut x = 7u32;
        for _ in 0..5000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            text.push(match (x >> 16) % 5 {
                0 => b'\n',
                1 => b'\t',
                _ => b'a',
            });
        }
        for start in [0, 1, 31, 32, 33, 63, 64, 65] {
            for end in [
                start,
                start + 1,
                start + 63,
                start + 64,
                start + 129,
                text.len(),
            ] {
                let t = &text[start..end];
                let want = (
                    memchr::memchr_iter(b'\n', t).count() as u64,
                    memchr::memmem::find_iter(t, b"\n\t").count() as u64
                        + u64::from(t.first() == Some(&b'\t')),
                );
                assert_eq!(count_lines(t), want, "{start}..{end}");
            }
        }
    }

    #[test]
    fn entry_cut_is_past_no_candidate_nor_continuation() {
        let buf =
            b"a LOG:  x\n\tdetail\nb LOG:  connection received: host=h\nc LOG:  y\n\tz\npartial";
        // The last whole line is a continuation; the one before is plain: cut before it.
        let cut = entry_cut(buf).unwrap();
        assert_eq!(&buf[cut..cut + 1], b"c");
        assert_eq!(entry_cut(b"one line\n"), None);
        assert_eq!(entry_cut(b"a\n\tb\n\tc\n"), None);
    }
}
