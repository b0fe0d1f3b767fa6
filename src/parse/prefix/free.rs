//! Free-text prefix values (names, hosts, process titles): where one ends, found a few bytes
//! at a time, and the field it sets.

use super::fields::{split_host_port, trim_spaces, unknown_as_none};
use super::{Field, PrefixFields};

/// Where a free value that may end at `from` or later ends first: at the next place the
/// literal after it matches (None if it does not within `limit`), or at `from` when no literal
/// follows it.
pub(super) fn free_end(
    line: &[u8],
    next_lit: Option<&[u8]>,
    from: usize,
    limit: usize,
) -> Option<usize> {
    let Some(l) = next_lit else {
        return Some(from);
    };
    let hay = &line[from..(limit + l.len()).min(line.len())];
    let found = match l {
        [b] => find_byte(*b, hay),
        _ => memchr::memmem::find(hay, l),
    };
    found.map(|off| from + off)
}

/// Sets the free-text `field` to `raw` (spaces of a padded value trimmed).
pub(super) fn set_free<'a>(field: Field, pad: i32, raw: &'a [u8], out: &mut PrefixFields<'a>) {
    let value = if pad != 0 { trim_spaces(raw) } else { raw };
    match field {
        Field::User => out.user = unknown_as_none(value),
        Field::Database => out.database = unknown_as_none(value),
        Field::Application => out.application = unknown_as_none(value),
        Field::RemoteHost => out.host = unknown_as_none(value),
        Field::RemoteHostPort => (out.host, out.port) = split_host_port(value),
        _ => {}
    }
}

/// The first `b` in `hay`. A prefix value ends within a few bytes: the first 16 are compared
/// at once where the CPU can (a loop over them mispredicts its exit on every line), the rest (a
/// long or hostile value) go to `memchr`.
pub(super) fn find_byte(b: u8, hay: &[u8]) -> Option<usize> {
    const NEAR: usize = 16;
    #[cfg(target_arch = "x86_64")]
    if let Some(block) = hay.first_chunk::<NEAR>() {
        use std::arch::x86_64::{
            _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
        };
        // SAFETY: SSE2 is part of x86_64; the load reads the 16 bytes of `block`, unaligned.
        let hits = unsafe {
            let v = _mm_loadu_si128(block.as_ptr().cast());
            _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8)))
        };
        return match hits {
            0 => memchr::memchr(b, &hay[NEAR..]).map(|i| i + NEAR),
            h => Some(h.trailing_zeros() as usize),
        };
    }
    let near = &hay[..hay.len().min(NEAR)];
    match near.iter().position(|&c| c == b) {
        Some(i) => Some(i),
        None if hay.len() > NEAR => memchr::memchr(b, &hay[NEAR..]).map(|i| i + NEAR),
        None => None,
    }
}
