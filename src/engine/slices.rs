//! Decoding a buffer slice by slice, so that a prefix that stops explaining the lines (changed
//! in `postgresql.conf` and reloaded) is read again where the change happened, not a buffer
//! later.

use super::decide;
use super::source::Source;
use crate::parse::lines::entry_cut;
use crate::parse::Format;

/// Bytes decoded between two looks at the unparsed share.
const SLICE: usize = 16 << 10;

/// Decodes the complete entries of `buf` (all of it with `eof`) for source `id`; returns the
/// bytes used.
pub(super) fn decode(
    mut to: super::Applier<'_>,
    id: u16,
    src: &mut Source,
    buf: &[u8],
    eof: bool,
) -> usize {
    let mut pos = 0;
    loop {
        let rest = &buf[pos..];
        let Source {
            decoder, events, ..
        } = src;
        let Some(dec) = decoder.as_mut() else {
            return pos;
        };
        // Cut stderr at an entry boundary (no entry, nor a look at the line before a
        // candidate, crosses it); csvlog records may span lines, so they go whole.
        let cut = match rest.len() > SLICE && dec.format() == Format::Stderr {
            true => entry_cut(&rest[..SLICE])
                .filter(|&c| c > 0)
                .unwrap_or(rest.len()),
            false => rest.len(),
        };
        let last = cut == rest.len();
        let mut sink = |ev: &crate::model::ConnectionEvent<'_>| {
            *events += u64::from(!ev.kind.is_detail());
            to.apply(id, ev);
        };
        let mut n = dec.decode(&rest[..cut], eof || !last, &mut sink);
        if n == 0 && !last {
            // An entry longer than a slice: the rest at once.
            n = dec.decode(rest, eof, &mut sink);
            pos += n;
            to.store.advance_clock_of(id, dec.last_time());
            break;
        }
        to.store.advance_clock_of(id, dec.last_time());
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
