//! One pass over a stderr buffer that counts its lines and finds its candidate lines together:
//! every event of a stderr log sits right after a severity tag (`LOG:  connection received`,
//! `FATAL:  `, `DETAIL:  Role "`), so the pass looks for the tag's colon and two spaces, with
//! the newlines and tabs, in the same 64 bytes, and checks the few bytes around each tag.

use memchr::memchr;

/// Message starts that make a `LOG` (or `DETAIL`) entry worth parsing: the first bytes of every
/// message [`super::message::classify`] turns into an event (a superset: the parser decides).
const STARTS: [&[u8]; 12] = [
    b"connection received: ",
    b"connection authorized: ",
    b"connection authenticated: ",
    b"connection ready: ",
    b"replication connection authorized: ",
    b"received ", // ... shutdown request
    b"disconnection: ",
    b"database system is ",
    b"starting PostgreSQL ",
    b"terminating any other active server processes",
    b"all server processes terminated",
    b"Role \"", // a DETAIL naming a missing role
];

/// The eight bytes at `at` as a little-endian word, zeros past the end of `buf`.
#[inline(always)]
fn word(buf: &[u8], at: usize) -> u64 {
    match buf.get(at..at + 8) {
        Some(w) => u64::from_le_bytes(w.try_into().unwrap_or_default()),
        None => {
            let mut w = [0u8; 8];
            let rest = buf.get(at..).unwrap_or_default();
            w[..rest.len()].copy_from_slice(rest);
            u64::from_le_bytes(w)
        }
    }
}

/// The first eight bytes of a text (fewer with zeros after), as [`word`] reads them.
const fn word_of(s: &[u8]) -> u64 {
    let mut w = 0u64;
    let mut i = 0;
    while i < 8 && i < s.len() {
        w |= (s[i] as u64) << (8 * i);
        i += 1;
    }
    w
}

/// Whether the severity tag whose colon is at `colon` (followed by two spaces) opens an entry
/// worth parsing: a FATAL, or a message that starts as one of [`STARTS`]. Most tags are told
/// apart by one word compare (this runs for every tag the block masks let through).
#[inline]
fn tag_matters(buf: &[u8], colon: usize) -> bool {
    const FATAL: u64 = word_of(b"FATAL:  ");
    const FIRST: [u64; 8] = [
        word_of(STARTS[0]),  // "connecti"
        word_of(STARTS[4]),  // "replicat"
        word_of(STARTS[5]),  // "received"
        word_of(STARTS[6]),  // "disconne"
        word_of(STARTS[7]),  // "database"
        word_of(STARTS[8]),  // "starting"
        word_of(STARTS[9]),  // "terminat"
        word_of(STARTS[10]), // "all serv"
    ];
    const ROLE: u64 = word_of(STARTS[11]);
    const SIX: u64 = (1 << 48) - 1;
    if colon >= 5 && word(buf, colon - 5) == FATAL {
        return true;
    }
    // LOG and DETAIL: the tags whose messages can be events (FATAL is taken above).
    if colon == 0 || !matches!(buf[colon - 1], b'G' | b'L') {
        return false;
    }
    let w = word(buf, colon + 3);
    if !FIRST.contains(&w) && w & SIX != ROLE {
        return false;
    }
    let msg = &buf[colon + 3..];
    STARTS.iter().any(|s| msg.starts_with(s))
}

/// Whether `text` holds a colon followed by two spaces, the mark every severity tag ends in:
/// 16 bytes at a time where the CPU can (this runs on the prefix and message of every entry
/// parsed, which are short: one call, no searcher to build).
pub(crate) fn has_tag_mark(text: &[u8]) -> bool {
    let mut at = 0;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            _mm_and_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
        };
        while at + 18 <= text.len() {
            // SAFETY: SSE2 is part of x86_64; the three loads read text[at..at + 18], unaligned.
            let hits = unsafe {
                let p = text.as_ptr().add(at);
                let (colon, space) = (_mm_set1_epi8(b':' as i8), _mm_set1_epi8(b' ' as i8));
                let c = _mm_cmpeq_epi8(_mm_loadu_si128(p.cast()), colon);
                let s1 = _mm_cmpeq_epi8(_mm_loadu_si128(p.add(1).cast()), space);
                let s2 = _mm_cmpeq_epi8(_mm_loadu_si128(p.add(2).cast()), space);
                _mm_movemask_epi8(_mm_and_si128(c, _mm_and_si128(s1, s2)))
            };
            if hits != 0 {
                return true;
            }
            at += 16;
        }
    }
    text[at..].windows(3).any(|w| w == b":  ")
}

/// Whether `line` holds a severity tag that opens an entry worth parsing (what the pass below
/// calls `f` for).
pub(crate) fn is_candidate_line(line: &[u8]) -> bool {
    memchr::memmem::find_iter(line, b":  ").any(|colon| tag_matters(line, colon))
}

/// Counts the newlines of `buf` and the lines that begin with a tab (continuation lines), and
/// calls `f(start, end)` for each candidate line (bounds without the newline), once per line,
/// in order. With AVX-512 or AVX2 where the CPU has them.
pub(crate) fn scan(buf: &[u8], mut f: impl FnMut(usize, usize)) -> (u64, u64) {
    scan_with(Level::best(), buf, &mut f)
}

/// The instruction sets the pass can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Level {
    /// Every level this CPU runs, best last.
    #[cfg(test)]
    fn available() -> Vec<Level> {
        let mut levels = vec![Level::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                levels.push(Level::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512bw") {
                levels.push(Level::Avx512);
            }
        }
        levels
    }

    fn best() -> Level {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512bw") {
                return Level::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Level::Avx2;
            }
        }
        Level::Portable
    }
}

fn scan_with(level: Level, buf: &[u8], f: &mut impl FnMut(usize, usize)) -> (u64, u64) {
    match level {
        // SAFETY: `available` / `best` offer a level only where the CPU supports it.
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => unsafe { scan_avx512(buf, f) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => unsafe { scan_avx2(buf, f) },
        Level::Portable => scan_portable(buf, f),
    }
}

/// The pass without SIMD of its own: a search for the tags, then a count.
fn scan_portable(buf: &[u8], f: &mut impl FnMut(usize, usize)) -> (u64, u64) {
    let mut next = 0;
    for colon in memchr::memmem::find_iter(buf, b":  ") {
        if colon >= next && tag_matters(buf, colon) {
            let start = memchr::memrchr(b'\n', &buf[..colon]).map_or(0, |i| i + 1);
            let end = memchr(b'\n', &buf[colon..]).map_or(buf.len(), |i| colon + i);
            f(start, end);
            next = end + 1;
        }
    }
    let newlines = memchr::memchr_iter(b'\n', buf).count() as u64;
    let led = memchr::memmem::find_iter(buf, b"\n\t").count() as u64;
    (newlines, led + u64::from(buf.first() == Some(&b'\t')))
}

/// Second letters of [`STARTS`] (o e i a t l), each at the slot of its low nibble: a byte is one
/// of them when a shuffle of this table by the byte gives it back. Empty slots hold 0xff, which
/// no byte below 0x80 equals (bytes from 0x80 shuffle to 0).
const SECOND: [u8; 16] = [
    0xff, b'a', 0xff, 0xff, b't', b'e', 0xff, 0xff, 0xff, b'i', 0xff, 0xff, b'l', 0xff, 0xff, b'o',
];

/// How far ahead of the block the pass asks for bytes: a page ahead. Mapped pages of the page
/// cache are not contiguous, and the hardware prefetcher stops at each page's end (4096 to
/// 8192 were 8-17% faster than none in interleaved runs of the replay bench; 512 was slower).
const PREFETCH: usize = 4096;

/// The masks of one 64-byte block: newlines, tabs, and tags worth a look. Bit k of the tag
/// mask stands for a colon at k + 1 (the severity's last letter at k); a block function may
/// read five bytes past the block.
type Masks = (u64, u64, u64);

/// The pass, given the function that computes each block's [`Masks`]: counts lines and
/// continuation lines, and hands each candidate line to `f` once. A tag is worth a look when
/// it reads `G:  ` or `L:  ` (LOG, FATAL, DETAIL) and, after `G`, the message's second letter
/// is one [`STARTS`] have: most entries (`LOG:  duration: ...`, `ERROR:  ...`) never leave
/// the block loop.
#[inline(always)]
fn scan_blocks(
    buf: &[u8],
    f: &mut impl FnMut(usize, usize),
    block: impl Fn(*const u8) -> Masks,
) -> (u64, u64) {
    let (mut lines, mut led) = (0u64, u64::from(buf.first() == Some(&b'\t')));
    let mut carry = 0u64; // 1 when the byte before the block is a newline
    let mut line_start = 0usize; // where the line holding the block's first byte starts
    let mut next = 0usize; // candidates are looked for from here (past the last one's line)
    let mut at = 0usize;
    loop {
        // The blocks up to the next one with tags to look at, with no call in between: the
        // loop keeps its constants and counts in registers (a call, even one not taken, has
        // them reloaded and spilled on every block).
        let hit = loop {
            if at + 69 > buf.len() {
                break None;
            }
            #[cfg(target_arch = "x86_64")]
            if let Some(ahead) = buf.get(at + PREFETCH) {
                // SAFETY: a prefetch hint on a readable byte; it reads nothing.
                unsafe {
                    std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                        (ahead as *const u8).cast(),
                    )
                };
            }
            let (n, t, tags) = block(buf[at..at + 69].as_ptr());
            lines += u64::from(n.count_ones());
            led += u64::from((((n << 1) | carry) & t).count_ones());
            carry = n >> 63;
            let start = line_start;
            if n != 0 {
                line_start = at + 64 - n.leading_zeros() as usize;
            }
            at += 64;
            if tags != 0 {
                break Some((at - 64, n, tags, start));
            }
        };
        let Some((block_at, n, tags, start)) = hit else {
            break;
        };
        next = block_tags(buf, f, (block_at, n, tags), start, next);
    }
    // The tail, byte by byte (a colon at `at` was looked at: its letter is in the last block).
    let mut after_newline = carry == 1;
    for i in at..buf.len() {
        match buf[i] {
            b'\n' => {
                lines += 1;
                line_start = i + 1;
            }
            b'\t' if after_newline => led += 1,
            _ => {}
        }
        let c = i + 1;
        let tag = buf[i] != b'\n' && buf.get(c..c + 3) == Some(b":  ");
        if c >= next && tag && tag_matters(buf, c) {
            let end = memchr(b'\n', &buf[c..]).map_or(buf.len(), |j| c + j);
            f(line_start, end);
            next = end + 1;
        }
        after_newline = buf[i] == b'\n';
    }
    (lines, led)
}

/// The tags a block's masks let through (`tags`, with its newlines `n`, at `at`): each that
/// matters hands its line to `f` once; returns where the next candidate may start. Out of the
/// block loop, which most blocks never leave: the loop keeps its state in registers.
#[inline(never)]
fn block_tags(
    buf: &[u8],
    f: &mut impl FnMut(usize, usize),
    (at, n, mut tags): (usize, u64, u64),
    line_start: usize,
    mut next: usize,
) -> usize {
    while tags != 0 {
        let k = tags.trailing_zeros() as usize;
        tags &= tags - 1;
        let c = at + k + 1;
        if c < next || !tag_matters(buf, c) {
            continue;
        }
        // The letter before the colon is no newline: the line's start is before it.
        let before = n & ((1u64 << k) - 1);
        let start = match before {
            0 => line_start,
            _ => at + 64 - before.leading_zeros() as usize,
        };
        let end = memchr(b'\n', &buf[c..]).map_or(buf.len(), |i| c + i);
        f(start, end);
        next = end + 1;
    }
    next
}

/// [`scan_blocks`] with AVX2: two 32-byte halves a block.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,popcnt,lzcnt")]
unsafe fn scan_avx2(buf: &[u8], f: &mut impl FnMut(usize, usize)) -> (u64, u64) {
    use std::arch::x86_64::*;
    let (nl, tab) = (_mm256_set1_epi8(b'\n' as i8), _mm256_set1_epi8(b'\t' as i8));
    let (colon, space) = (_mm256_set1_epi8(b':' as i8), _mm256_set1_epi8(b' ' as i8));
    let (g, l) = (_mm256_set1_epi8(b'G' as i8), _mm256_set1_epi8(b'L' as i8));
    // SAFETY: SECOND is 16 readable bytes.
    let second = _mm256_broadcastsi128_si256(unsafe { _mm_loadu_si128(SECOND.as_ptr().cast()) });
    let bits = |v: __m256i| u64::from(_mm256_movemask_epi8(v) as u32);
    let eq = |a, b| _mm256_cmpeq_epi8(a, b);
    let and = |a, b| _mm256_and_si256(a, b);
    scan_blocks(buf, f, |p| {
        // SAFETY: the driver hands out blocks with 69 readable bytes; the loads are unaligned.
        let load = |k: usize| unsafe { _mm256_loadu_si256(p.add(k).cast()) };
        let half = |k: usize| {
            let v0 = load(k);
            let tag = and(
                and(eq(load(k + 1), colon), eq(load(k + 2), space)),
                eq(load(k + 3), space),
            );
            let v5 = load(k + 5);
            let log = and(eq(v0, g), eq(_mm256_shuffle_epi8(second, v5), v5));
            (
                bits(eq(v0, nl)),
                bits(eq(v0, tab)),
                bits(and(tag, _mm256_or_si256(log, eq(v0, l)))),
            )
        };
        let ((n0, t0, g0), (n1, t1, g1)) = (half(0), half(32));
        (n0 | n1 << 32, t0 | t1 << 32, g0 | g1 << 32)
    })
}

/// [`scan_blocks`] with AVX-512: a block is one register, and the compares chain in masks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,bmi1,popcnt,lzcnt")]
unsafe fn scan_avx512(buf: &[u8], f: &mut impl FnMut(usize, usize)) -> (u64, u64) {
    use std::arch::x86_64::*;
    let (nl, tab) = (_mm512_set1_epi8(b'\n' as i8), _mm512_set1_epi8(b'\t' as i8));
    let (colon, space) = (_mm512_set1_epi8(b':' as i8), _mm512_set1_epi8(b' ' as i8));
    let (g, l) = (_mm512_set1_epi8(b'G' as i8), _mm512_set1_epi8(b'L' as i8));
    // SAFETY: SECOND is 16 readable bytes.
    let second = _mm512_broadcast_i32x4(unsafe { _mm_loadu_si128(SECOND.as_ptr().cast()) });
    scan_blocks(buf, f, |p| {
        // SAFETY: the driver hands out blocks with 69 readable bytes; the loads are unaligned.
        let load = |k: usize| unsafe { _mm512_loadu_si512(p.add(k).cast()) };
        let v0 = load(0);
        let tag = _mm512_cmpeq_epi8_mask(load(1), colon);
        let tag = _mm512_mask_cmpeq_epi8_mask(tag, load(2), space);
        let tag = _mm512_mask_cmpeq_epi8_mask(tag, load(3), space);
        let v5 = load(5);
        let log = _mm512_mask_cmpeq_epi8_mask(tag, v0, g);
        let log = _mm512_mask_cmpeq_epi8_mask(log, _mm512_shuffle_epi8(second, v5), v5);
        let other = _mm512_mask_cmpeq_epi8_mask(tag, v0, l);
        (
            _mm512_cmpeq_epi8_mask(v0, nl),
            _mm512_cmpeq_epi8_mask(v0, tab),
            log | other,
        )
    })
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
