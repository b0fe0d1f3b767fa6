//! Claimed ranges of regular files read in place through a memory map, with no copy into a
//! buffer. A file cut short while it is mapped (copytruncate) would raise SIGBUS on access; a
//! handler turns such faults inside these maps into zero pages and marks the map, which then
//! reports the short read that a positioned read would have reported.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Maps alive at once (one per worker is the usual need); beyond, reads copy.
const SLOTS: usize = 64;
/// Maps reach out to this boundary of the file on both sides of the bytes asked for, and only
/// those bytes are read ahead into it. The page cache may hold a file in folios of up to
/// 2 MiB, and a map whose offset and address are so aligned takes each whole one with one
/// page-table entry; a map of a 1 MiB range as it falls takes 256 entries, set up and torn
/// down again (10% of a directory replay's CPU). A file cached in small pages (written line by
/// line) costs the same either way: the pages outside the range are never touched.
const SPAN: u64 = 2 << 20;

/// The address range of one live map, and whether a fault cut it.
struct Slot {
    start: AtomicUsize,
    end: AtomicUsize,
    cut: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)] // each array element is its own slot
const FREE: Slot = Slot {
    start: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
    cut: AtomicBool::new(false),
};
static LIVE: [Slot; SLOTS] = [FREE; SLOTS];
/// Slots taken (start is set once the map exists).
static TAKEN: [AtomicBool; SLOTS] = [const { AtomicBool::new(false) }; SLOTS];
static PAGE: AtomicUsize = AtomicUsize::new(4096);
/// The SIGBUS action before ours, called for faults outside our maps.
static PREVIOUS: OnceLock<Option<libc::sigaction>> = OnceLock::new();

/// Bytes of a file mapped read-only; unmapped on drop.
pub(super) struct Mapped {
    base: *mut libc::c_void,
    map_len: usize,
    offset: usize,
    len: usize,
    slot: usize,
}

// SAFETY: the map is read-only and owned by this value; nothing else unmaps it.
unsafe impl Send for Mapped {}

impl Mapped {
    /// Maps `len` bytes of `file` from `start` (within the [`SPAN`]-aligned range around
    /// them), pages read ahead; None when no slot is free, the guard could not be set, or the
    /// kernel refuses (the caller reads instead).
    pub fn map(file: &File, start: u64, len: usize) -> Option<Mapped> {
        if len == 0 || !guard_installed() {
            return None;
        }
        let slot = (0..SLOTS).find(|&i| {
            TAKEN[i]
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        })?;
        let aligned = start - start % SPAN;
        let offset = (start - aligned) as usize;
        let map_len = (offset + len).next_multiple_of(SPAN as usize);
        // SAFETY: a fresh read-only private map of an open file; the kernel picks the address.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                aligned as libc::off_t,
            )
        };
        if base == libc::MAP_FAILED {
            TAKEN[slot].store(false, Ordering::Release);
            return None;
        }
        let page = PAGE.load(Ordering::Relaxed);
        let first = offset - offset % page;
        let end = (offset + len).next_multiple_of(page).min(map_len);
        // SAFETY: a range of the map just made. A kernel without MADV_POPULATE_READ (before
        // 5.14) refuses it, and the pages come on first touch instead.
        unsafe {
            libc::madvise(
                base.cast::<u8>().add(first).cast(),
                end - first,
                libc::MADV_POPULATE_READ,
            )
        };
        let s = &LIVE[slot];
        s.cut.store(false, Ordering::Release);
        s.end.store(base as usize + map_len, Ordering::Release);
        s.start.store(base as usize, Ordering::Release);
        Some(Mapped {
            base,
            map_len,
            offset,
            len,
            slot,
        })
    }

    /// The mapped bytes. Those past a cut read as zeros.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: the map covers offset..offset+len and lives as long as self; a fault in it
        // is answered with zero pages by the guard.
        unsafe { std::slice::from_raw_parts(self.base.cast::<u8>().add(self.offset), self.len) }
    }

    /// Whether the file was cut short under the map while its bytes were read: then what
    /// they gave is not the file's and the read failed as a positioned read would have.
    pub fn was_cut(&self) -> bool {
        LIVE[self.slot].cut.load(Ordering::Acquire)
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        let s = &LIVE[self.slot];
        s.start.store(0, Ordering::Release);
        s.end.store(0, Ordering::Release);
        // SAFETY: base and map_len are those mmap returned; nothing borrows the bytes now.
        unsafe { libc::munmap(self.base, self.map_len) };
        TAKEN[self.slot].store(false, Ordering::Release);
    }
}

/// Installs the SIGBUS guard once; whether it is in place.
fn guard_installed() -> bool {
    PREVIOUS
        .get_or_init(|| {
            // SAFETY: sysconf has no preconditions.
            let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            if page > 0 {
                PAGE.store(page as usize, Ordering::Relaxed);
            }
            // SAFETY: a zeroed sigaction is a valid value to fill; the handler is async-signal
            // safe (atomics and the mmap system call only).
            unsafe {
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = on_sigbus as *const () as usize;
                new.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
                libc::sigemptyset(&mut new.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                (libc::sigaction(libc::SIGBUS, &new, &mut old) == 0).then_some(old)
            }
        })
        .is_some()
}

/// A fault inside a live map: zero pages from the faulting page to the map's end, and the map
/// marked as cut. Any other fault goes to the action that was there before.
extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for a SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    let page = PAGE.load(Ordering::Relaxed);
    for s in &LIVE {
        let (start, end) = (
            s.start.load(Ordering::Acquire),
            s.end.load(Ordering::Acquire),
        );
        if start != 0 && (start..end).contains(&addr) {
            let at = addr - addr % page;
            // SAFETY: replaces pages of our own read-only map, which nothing else uses.
            let r = unsafe {
                libc::mmap(
                    at as *mut libc::c_void,
                    end - at,
                    libc::PROT_READ,
                    libc::MAP_FIXED | libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if r != libc::MAP_FAILED {
                s.cut.store(true, Ordering::Release);
                return;
            }
        }
    }
    match PREVIOUS.get().copied().flatten() {
        Some(old)
            if old.sa_flags & libc::SA_SIGINFO != 0
                && old.sa_sigaction != libc::SIG_DFL
                && old.sa_sigaction != libc::SIG_IGN =>
        {
            // SAFETY: the previous handler was installed with SA_SIGINFO, so it takes these.
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                unsafe { std::mem::transmute(old.sa_sigaction) };
            f(sig, info, ctx);
        }
        _ => {
            // The default action: the fault repeats on return and ends the process.
            // SAFETY: signal() with SIG_DFL is async-signal safe.
            unsafe { libc::signal(sig, libc::SIG_DFL) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn maps_the_range_asked_for() {
        let mut f = tempfile::tempfile().unwrap();
        let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        f.write_all(&data).unwrap();
        let m = Mapped::map(&f, 5_000, 10_000).unwrap();
        assert_eq!(m.bytes(), &data[5_000..15_000]);
        assert!(!m.was_cut());
    }

    #[test]
    fn ranges_across_span_boundaries_and_up_to_the_end_read_the_file() {
        let mut f = tempfile::tempfile().unwrap();
        let data: Vec<u8> = (0..9_000_000u32).map(|i| (i % 253) as u8).collect();
        f.write_all(&data).unwrap();
        let span = SPAN as usize;
        for (start, len) in [
            (span - 100, (1 << 20) + 7),               // across a boundary
            (2 * span, 1 << 20),                       // from one
            (3, span),                                 // up to one, unaligned
            (4 * span + 1, data.len() - 4 * span - 1), // to the file's end, past its last span
        ] {
            let m = Mapped::map(&f, start as u64, len).unwrap();
            assert_eq!(m.bytes(), &data[start..start + len], "{start} + {len}");
        }
    }

    #[test]
    fn a_file_cut_short_under_the_map_reads_as_zeros_and_is_reported() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&vec![b'x'; 1 << 20]).unwrap();
        let m = Mapped::map(&f, 0, 1 << 20).unwrap();
        assert_eq!(m.bytes()[100], b'x');
        f.set_len(8192).unwrap(); // copytruncate, while the map is read
        let tail_sum: u64 = m.bytes()[64 << 10..].iter().map(|&b| u64::from(b)).sum();
        assert_eq!(tail_sum, 0, "pages past the cut read as zeros");
        assert!(m.was_cut());
        drop(m);
        // A later map of the same slot starts clean.
        let m = Mapped::map(&f, 0, 8192).unwrap();
        assert!(!m.was_cut());
        assert_eq!(m.bytes()[0], b'x');
    }
}
