//! The ring of recent events behind the live feed (Watch tab and `--stream`).

use super::intern::ComboId;
use crate::model::{EndCause, FailureReason, LogTime, ServerChange};
use std::collections::VecDeque;

/// What a feed entry reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    /// A session was authorized.
    Connect,
    /// A session ended with its `disconnection` line.
    Disconnect {
        /// Session time, from the line or from the connect seen.
        millis: Option<u64>,
        /// Why, when a FATAL said so before the disconnection.
        cause: Option<EndCause>,
    },
    /// A connection attempt failed.
    Failed { reason: FailureReason },
    /// The server restarted or crashed: every session of the source ended.
    Reset { change: ServerChange, ended: u32 },
}

/// One entry of the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedEvent {
    /// Increasing number of the entry.
    pub seq: u64,
    pub time: LogTime,
    pub kind: FeedKind,
    /// Index of the source (log) it came from.
    pub source: u16,
    pub pid: u32,
    pub combo: ComboId,
    pub port: Option<u16>,
    /// A connect that PostgreSQL then refused (authorized, then FATAL): not a session.
    pub refused: bool,
}

/// A bounded ring of feed entries.
#[derive(Debug)]
pub struct Feed {
    ring: VecDeque<FeedEvent>,
    capacity: usize,
    next_seq: u64,
}

impl Feed {
    /// A ring keeping the newest `capacity` entries.
    pub fn new(capacity: usize) -> Feed {
        Feed {
            ring: VecDeque::with_capacity(capacity.min(1 << 16)),
            capacity: capacity.max(1),
            next_seq: 1,
        }
    }

    /// Adds an entry and returns its number.
    pub fn push(&mut self, mut e: FeedEvent) -> u64 {
        e.seq = self.next_seq;
        self.next_seq += 1;
        if self.ring.len() == self.capacity {
            self.ring.pop_front();
        }
        self.ring.push_back(e);
        e.seq
    }

    /// Marks the connect entry `seq` as refused, if it is still in the ring.
    pub fn mark_refused(&mut self, seq: u64) {
        let Some(first) = self.ring.front().map(|e| e.seq) else {
            return;
        };
        if seq >= first {
            if let Some(e) = self.ring.get_mut((seq - first) as usize) {
                e.refused = true;
            }
        }
    }

    /// Entries oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &FeedEvent> + ExactSizeIterator {
        self.ring.iter()
    }

    /// Entries with a number above `seq`.
    pub fn after(&self, seq: u64) -> impl Iterator<Item = &FeedEvent> {
        let first = self.ring.front().map_or(self.next_seq, |e| e.seq);
        let skip = seq.saturating_add(1).saturating_sub(first) as usize;
        self.ring.iter().skip(skip)
    }

    /// The number the next entry will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Forgets every entry (numbers keep increasing).
    pub fn clear(&mut self) {
        self.ring.clear();
    }
}
