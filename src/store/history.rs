//! Per-minute counts of connects, disconnects, lost sessions and failures, by combination,
//! kept for the last 25 hours of log time and re-aggregated for display; each minute also
//! keeps how far the active count rose within it, so a bucket shows its peak, not only its end.

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
    /// The highest the active count rose above its value at the minute's start (>= 0). Summed
    /// over combinations (as [`Counts`] of a group are) it bounds the group's rise from above.
    pub rise: i32,
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
        self.rise += o.rise;
    }

    fn note_rise(&mut self) {
        let net = i32::try_from(self.net()).unwrap_or(i32::MAX);
        self.rise = self.rise.max(net);
    }
}

/// One minute with data.
#[derive(Debug, Clone, Default)]
struct Minute {
    index: i64,
    by_combo: Vec<(ComboId, Counts)>,
    /// Every combination together: net change so far and its highest rise (exact).
    net: i32,
    rise: i32,
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
        let pos = if index == newest {
            self.minutes.len() - 1 // the minute of the last event: most events fall in it
        } else if index > newest {
            let by_combo = self.spare.pop().unwrap_or_default();
            self.minutes.push_back(Minute {
                index,
                by_combo,
                ..Minute::default()
            });
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
                            ..Minute::default()
                        },
                    );
                    p
                }
            }
        };
        let minute = &mut self.minutes[pos];
        let i = match minute.by_combo.iter().position(|(c, _)| *c == combo) {
            Some(i) => i,
            None => {
                minute.by_combo.push((combo, Counts::default()));
                minute.by_combo.len() - 1
            }
        };
        let slot = &mut minute.by_combo[i].1;
        let change = match counter {
            Counter::Connect => {
                slot.connects += delta;
                delta
            }
            Counter::Disconnect => {
                slot.disconnects += delta;
                -delta
            }
            Counter::Lost => {
                slot.lost += delta;
                -delta
            }
            Counter::Failure => {
                slot.failures += delta;
                0
            }
        };
        if change != 0 {
            slot.note_rise();
            minute.net += change;
            minute.rise = minute.rise.max(minute.net);
        }
    }

    /// The peak active count of each bucket of [`History::buckets`] (same arguments), given the
    /// active count `active_at_to` at `to`. With `all` (no filter) the peaks are exact to the
    /// event; else each minute's rise is the sum of its combinations' rises, an upper bound
    /// that is exact when one combination changed in the minute.
    #[allow(clippy::too_many_arguments)]
    pub fn peaks(
        &self,
        from: Millis,
        to: Millis,
        bucket_ms: i64,
        offset_ms: i64,
        all: bool,
        keep: impl Fn(ComboId) -> bool,
        active_at_to: i64,
    ) -> Vec<i64> {
        let align = |t: Millis| (t + offset_ms).div_euclid(bucket_ms) * bucket_ms - offset_ms;
        let first = align(from);
        let n = (((to - first).max(0) + bucket_ms - 1) / bucket_ms) as usize;
        let mut out = vec![i64::MIN; n];
        let mut active = active_at_to;
        // Walk back from the newest minute: the active count at each minute's end is known.
        let mut b_prev = n;
        for m in self.minutes.iter().rev() {
            let t = m.index * MINUTE_MS;
            if t >= to {
                continue;
            }
            if t < first {
                break;
            }
            let b = ((t - first) / bucket_ms) as usize;
            // Buckets after this minute's (back to the last seen) end where they started.
            for slot in out.iter_mut().take(b_prev).skip(b) {
                *slot = (*slot).max(active);
            }
            b_prev = b + 1;
            let (net, rise) = if all {
                (i64::from(m.net), i64::from(m.rise))
            } else {
                m.by_combo
                    .iter()
                    .filter(|(c, _)| keep(*c))
                    .fold((0, 0), |(n, r), (_, c)| {
                        (n + c.net(), r + i64::from(c.rise))
                    })
            };
            let start = active - net;
            out[b] = out[b].max(start + rise).max(active).max(start);
            active = start;
        }
        for slot in out.iter_mut().take(b_prev) {
            *slot = (*slot).max(active);
        }
        out.into_iter().map(|p| p.max(0)).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_keeps_its_peak_as_well_as_its_end() {
        let mut h = History::default();
        // Minute 0: three sessions come and go; minute 1: one comes (combo 2) and stays.
        for k in 0..3 {
            h.add(1_000 + k, 1, Counter::Connect, 1);
        }
        for k in 0..3 {
            h.add(2_000 + k, 1, Counter::Disconnect, 1);
        }
        // Another combination rises and falls in minute 0 after the first fell.
        h.add(3_000, 3, Counter::Connect, 1);
        h.add(3_001, 3, Counter::Lost, 1);
        h.add(61_000, 2, Counter::Connect, 1);
        let all = h.peaks(0, 120_000, 60_000, 0, true, |_| true, 1);
        assert_eq!(all, vec![3, 1]);
        // Only combination 1: exact (one combination changed per minute).
        let one = h.peaks(0, 120_000, 60_000, 0, false, |c| c == 1, 0);
        assert_eq!(one, vec![3, 0]);
        // Combinations 1 and 3 together: the sum of their rises bounds the true peak (3).
        let two = h.peaks(0, 120_000, 60_000, 0, false, |c| c != 2, 0);
        assert_eq!(two, vec![4, 0]);
        // One bucket of two minutes: the peak of both.
        assert_eq!(h.peaks(0, 120_000, 120_000, 0, true, |_| true, 1), vec![3]);
        // A bucket with no data in it holds the count carried through it.
        assert_eq!(
            h.peaks(0, 240_000, 60_000, 0, true, |_| true, 1),
            vec![3, 1, 1, 1]
        );
    }
}
