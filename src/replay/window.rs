//! How far decoding may run ahead of applying: a number of batches per worker, so that a
//! thread the host pauses does not stall the others at once, and a number of bytes of decoded
//! events waiting to be applied, so that memory stays flat whatever the log holds (a log of
//! nothing but connection lines makes batches a hundred times larger than a busy server's).

use std::sync::atomic::{AtomicU64, Ordering};

/// Batches a worker may decode ahead of the one being applied.
const AHEAD: u64 = 16;
/// Bytes of decoded events that may wait to be applied.
const PENDING_MAX: u64 = 2 << 20;

/// The chunks handed out, the batches applied, and the bytes decoded but not applied.
pub(super) struct Window {
    handed: AtomicU64,
    applied: AtomicU64,
    pending: AtomicU64,
    ahead: u64,
}

impl Window {
    /// A window for `workers` threads decoding.
    pub fn new(workers: usize) -> Window {
        Window {
            handed: AtomicU64::new(0),
            applied: AtomicU64::new(0),
            pending: AtomicU64::new(0),
            ahead: AHEAD * workers as u64,
        }
    }

    /// Chunk `seq` is handed out.
    pub fn hand(&self, seq: u64) {
        self.handed.fetch_max(seq + 1, Ordering::AcqRel);
    }

    /// A batch of `bytes` is decoded and waits to be applied.
    pub fn decoded(&self, bytes: u64) {
        self.pending.fetch_add(bytes, Ordering::AcqRel);
    }

    /// The batches before `seq` are applied, the last of them holding `bytes`.
    pub fn applied(&self, seq: u64, bytes: u64) {
        self.pending.fetch_sub(bytes, Ordering::AcqRel);
        self.applied.store(seq, Ordering::Release);
    }

    /// Whether another chunk may be decoded now.
    pub fn open(&self) -> bool {
        let (handed, applied) = (
            self.handed.load(Ordering::Acquire),
            self.applied.load(Ordering::Acquire),
        );
        handed <= applied + self.ahead && self.pending.load(Ordering::Acquire) <= PENDING_MAX
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closes_on_batches_ahead_or_bytes_waiting_and_opens_as_they_are_applied() {
        let w = Window::new(2);
        for seq in 0..=AHEAD * 2 {
            assert!(w.open(), "chunk {seq} may go");
            w.hand(seq);
            w.decoded(10);
        }
        assert!(!w.open(), "too many batches ahead");
        w.applied(1, 10);
        assert!(w.open());
        w.hand(AHEAD * 2 + 1);
        w.decoded(PENDING_MAX);
        assert!(!w.open(), "too many bytes waiting");
        w.applied(2, 10);
        assert!(!w.open(), "still too many bytes waiting");
        w.applied(3, PENDING_MAX);
        assert!(w.open());
    }
}
