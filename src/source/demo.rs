//! The built-in demo: a log recorded from a real PostgreSQL server (assets/demo.log),
//! replayed in a loop at a lively pace with its timestamps moved to the present.

use super::{SourceId, SourceMsg};
use crate::parse::time::parse_timestamp;
use crate::synth::format_time;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The recorded log (prefix `%m [%p] %q%u@%d `, zone UTC).
pub const DEMO_LOG: &[u8] = include_bytes!("../../assets/demo.log");
/// The prefix the demo log was recorded with.
pub const DEMO_PREFIX: &str = "%m [%p] %q%u@%d ";
/// Log time played per wall second.
const SPEED: i64 = 60;
/// Share of the log replayed at once at start, so every tab has data.
const HEAD_START: f64 = 0.6;

/// One line with its original time (continuation lines carry the time of their entry).
struct Line<'a> {
    millis: i64,
    stamp_len: usize,
    bytes: &'a [u8],
}

fn lines(log: &[u8]) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut last = 0;
    for bytes in log.split_inclusive(|&c| c == b'\n') {
        let (millis, stamp_len) = match parse_timestamp(bytes) {
            Some((t, n)) => (t.millis, n),
            None => (last, 0),
        };
        last = millis;
        out.push(Line {
            millis,
            stamp_len,
            bytes,
        });
    }
    out
}

fn shifted(line: &Line<'_>, offset: i64, out: &mut Vec<u8>) {
    if line.stamp_len == 0 {
        out.extend_from_slice(line.bytes);
        return;
    }
    let mut s = String::with_capacity(32);
    format_time(&mut s, line.millis + offset, ("UTC", 0), true);
    out.extend_from_slice(s.as_bytes());
    out.extend_from_slice(&line.bytes[line.stamp_len..]);
}

/// Starts the demo source task.
pub fn spawn(id: SourceId, tx: mpsc::Sender<SourceMsg>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let all = lines(DEMO_LOG);
        let (Some(first), Some(last)) =
            (all.first().map(|l| l.millis), all.last().map(|l| l.millis))
        else {
            return;
        };
        let span = (last - first).max(1) + 60_000;
        let wall_now = || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64)
        };
        let head = (span as f64 * HEAD_START) as i64;
        // Timestamps are moved so that the head start ends at the present.
        let mut offset = wall_now() - first - head;
        let mut position = head;
        let mut tick = Instant::now();
        let mut i = 0;
        loop {
            let mut batch = Vec::new();
            while i < all.len() && all[i].millis - first <= position {
                shifted(&all[i], offset, &mut batch);
                i += 1;
            }
            if !batch.is_empty()
                && tx
                    .send(SourceMsg::Lines {
                        source: id,
                        bytes: batch,
                    })
                    .await
                    .is_err()
            {
                return;
            }
            if i == all.len() {
                // Loop: the log plays again, later in time.
                i = 0;
                offset += span;
                position -= span;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            position += tick.elapsed().as_millis() as i64 * SPEED;
            tick = Instant::now();
        }
    })
}
