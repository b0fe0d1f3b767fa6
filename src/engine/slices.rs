//! Decoding a buffer slice by slice, so that a prefix that stops explaining the lines (changed
//! in `postgresql.conf` and reloaded) is read again where the change happened, not a buffer
//! later.

use super::decide;
use super::source::Source;
use crate::store::Store;

/// Bytes decoded between two looks at the unparsed share.
const SLICE: usize = 32 << 10;

/// Decodes the complete entries of `buf` (all of it with `eof`) for source `id`; returns the
/// bytes used.
pub(super) fn decode(store: &mut Store, id: u16, src: &mut Source, buf: &[u8], eof: bool) -> usize {
    let mut pos = 0;
    loop {
        let rest = &buf[pos..];
        let cut = match rest.len() > SLICE {
            true => memchr::memchr(b'\n', &rest[SLICE..]).map_or(rest.len(), |i| SLICE + i + 1),
            false => rest.len(),
        };
        let last = cut == rest.len();
        let Source {
            decoder, events, ..
        } = src;
        let Some(dec) = decoder.as_mut() else {
            return pos;
        };
        let mut sink = |ev: &crate::model::ConnectionEvent<'_>| {
            *events += 1;
            store.apply(id, ev);
        };
        let mut n = dec.decode(&rest[..cut], eof && last, &mut sink);
        if n == 0 && !last {
            // An entry longer than a slice: the rest at once.
            n = dec.decode(rest, eof, &mut sink);
            pos += n;
            store.advance_clock(dec.last_time());
            break;
        }
        store.advance_clock(dec.last_time());
        pos += n;
        decide::watch_unparsed(src);
        if last {
            break;
        }
        if src.recheck {
            decide::recheck_on(src, &buf[pos..]);
        }
    }
    pos
}
