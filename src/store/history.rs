//! Per-minute counts of connects, disconnects, lost sessions and failures, by combination,
//! kept for the last 25 hours of log time and re-aggregated for display.

use super::intern::ComboId;
use crate::model::Millis;
use std::collections::VecDeque;

/// Minutes kept (25 h: a full day plus the hour a window may reach back).
pub const KEPT_MINUTES: i64 = 25 * 60;
const MINUTE_MS: i64 = 60_000;

/// What happened to one combination in one minute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub connects: i32,
    pub disconnects: i32,
    pub lost: i32,
    pub failures: i32,
}

impl Counts {
    /// Change of the active count: connects less every kind of end.
    pub fn net(&self) -> i64 {
        i64::from(self.connects) - i64::from(self.disconnects) - i64::from(self.lost)
    }

    fn add(&mut self, o: &Counts) {
        self.connects += o.connects;
        self.disconnects += o.disconnects;
        self.lost += o.lost;
        self.failures += o.failures;
    }
}

/// One minute with data.
#[derive(Debug, Clone, Default)]
struct Minute {
    index: i64,
    by_combo: Vec<(ComboId, Counts)>,
}

/// The minutes, oldest first; only minutes with data are stored.
#[derive(Debug, Default)]
pub struct History {
    minutes: VecDeque<Minute>,
    spare: Vec<Vec<(ComboId, Counts)>>,
}

/// Which counter an event changes.
#[derive(Debug, Clone, Copy)]
pub enum Counter {
    Connect,
    Disconnect,
    Lost,
    Failure,
}

impl History {
    /// Forgets everything.
    pub fn clear(&mut self) {
        self.minutes.clear();
    }

    /// Adds `delta` to a counter of `combo` at log time `at`.
    pub fn add(&mut self, at: Millis, combo: ComboId, counter: Counter, delta: i32) {
        let index = at.div_euclid(MINUTE_MS);
        let newest = self.minutes.back().map_or(i64::MIN, |m| m.index);
        if newest != i64::MIN && index <= newest - KEPT_MINUTES {
            return;
        }
        let pos = if index > newest {
            let by_combo = self.spare.pop().unwrap_or_default();
            self.minutes.push_back(Minute { index, by_combo });
            while self
                .minutes
                .front()
                .is_some_and(|m| m.index <= index - KEPT_MINUTES)
            {
                let mut old = self.minutes.pop_front().expect("front exists");
                old.by_combo.clear();
                self.spare.push(old.by_combo);
            }
            self.minutes.len() - 1
        } else {
            match self.minutes.binary_search_by_key(&index, |m| m.index) {
                Ok(p) => p,
                Err(p) => {
                    self.minutes.insert(
                        p,
                        Minute {
                            index,
                            by_combo: Vec::new(),
                        },
                    );
                    p
                }
            }
        };
        let minute = &mut self.minutes[pos];
        let slot = match minute.by_combo.iter().position(|(c, _)| *c == combo) {
            Some(i) => &mut minute.by_combo[i].1,
            None => {
                minute.by_combo.push((combo, Counts::default()));
                &mut minute.by_combo.last_mut().expect("just pushed").1
            }
        };
        match counter {
            Counter::Connect => slot.connects += delta,
            Counter::Disconnect => slot.disconnects += delta,
            Counter::Lost => slot.lost += delta,
            Counter::Failure => slot.failures += delta,
        }
    }

    /// Sums of the combinations that pass `keep`, in buckets of `bucket_ms` from `from` (inclusive)
    /// to `to` (exclusive), bucket starts aligned to multiples of `bucket_ms` in the log's zone
    /// (`offset_ms` east of UTC).
    pub fn buckets(
        &self,
        from: Millis,
        to: Millis,
        bucket_ms: i64,
        offset_ms: i64,
        keep: impl Fn(ComboId) -> bool,
    ) -> Vec<(Millis, Counts)> {
        let align = |t: Millis| (t + offset_ms).div_euclid(bucket_ms) * bucket_ms - offset_ms;
        let first = align(from);
        let n = ((to - first).max(0) + bucket_ms - 1) / bucket_ms;
        let mut out: Vec<(Millis, Counts)> = (0..n)
            .map(|i| (first + i * bucket_ms, Counts::default()))
            .collect();
        for m in &self.minutes {
            let t = m.index * MINUTE_MS;
            if t < first || t >= to {
                continue;
            }
            let b = ((t - first) / bucket_ms) as usize;
            for (c, counts) in &m.by_combo {
                if keep(*c) {
                    out[b].1.add(counts);
                }
            }
        }
        out
    }

    /// Sums after `after` (exclusive, by minute start) of the combinations that pass `keep`.
    pub fn since(&self, after: Millis, keep: impl Fn(ComboId) -> bool) -> Counts {
        let mut total = Counts::default();
        for m in self.minutes.iter().rev() {
            if m.index * MINUTE_MS < after {
                break;
            }
            for (c, counts) in &m.by_combo {
                if keep(*c) {
                    total.add(counts);
                }
            }
        }
        total
    }

    /// The oldest minute start kept, if any.
    pub fn first_minute(&self) -> Option<Millis> {
        self.minutes.front().map(|m| m.index * MINUTE_MS)
    }

    /// Per-minute net change of each combination that passes `keep`, from `from` on.
    pub fn minutes_from(
        &self,
        from: Millis,
    ) -> impl Iterator<Item = (Millis, &[(ComboId, Counts)])> {
        self.minutes
            .iter()
            .filter(move |m| m.index * MINUTE_MS >= from.div_euclid(MINUTE_MS) * MINUTE_MS)
            .map(|m| (m.index * MINUTE_MS, m.by_combo.as_slice()))
    }
}
