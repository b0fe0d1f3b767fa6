//! The active count of every name (database, user, application, host) over the last hour, as
//! a ring of 60 one-minute peaks per name, for the Summary rows' sparklines. Names past a cap
//! fold into `(other)`, so memory stays bounded.

use super::intern::{Combo, Dim, Sym, OTHER};
use crate::model::Millis;

/// Minutes a sparkline covers.
pub const MINUTES: usize = 60;
/// Names followed per dimension; later ones fold into `(other)`.
pub const MAX_NAMES: usize = 2048;
const MINUTE_MS: i64 = 60_000;

/// One name's active count and its peak of each of the last 60 minutes.
#[derive(Debug, Clone)]
struct Trend {
    active: u32,
    /// The minute of the newest change.
    last: i64,
    /// Peaks by minute index modulo 60.
    peaks: [u16; MINUTES],
}

impl Trend {
    fn new(minute: i64) -> Trend {
        Trend {
            active: 0,
            last: minute,
            peaks: [0; MINUTES],
        }
    }

    /// Moves to `minute`: the minutes passed held the active count all along.
    fn advance(&mut self, minute: i64) {
        if minute <= self.last {
            return;
        }
        let held = u16::try_from(self.active).unwrap_or(u16::MAX);
        // The minutes after the last change, at most a ring's worth, from one division.
        let steps = (minute - self.last).min(MINUTES as i64);
        let mut i = (minute - steps + 1).rem_euclid(MINUTES as i64) as usize;
        for _ in 0..steps {
            self.peaks[i] = held;
            i = if i + 1 == MINUTES { 0 } else { i + 1 };
        }
        self.last = minute;
    }

    fn series(&self, now_minute: i64) -> [u16; MINUTES] {
        let held = u16::try_from(self.active).unwrap_or(u16::MAX);
        let mut out = [0; MINUTES];
        for (k, v) in out.iter_mut().enumerate() {
            let i = now_minute - (MINUTES as i64 - 1) + k as i64;
            *v = if i > self.last {
                held
            } else if i <= self.last - MINUTES as i64 {
                0
            } else {
                self.peaks[i.rem_euclid(MINUTES as i64) as usize]
            };
        }
        out
    }
}

/// Per dimension, per name: the last hour's active peaks.
#[derive(Debug, Default)]
pub struct Trends {
    by_dim: [super::FastMap<Sym, Trend>; Dim::COUNT],
}

fn dim_index(d: Dim) -> usize {
    d.index()
}

impl Trends {
    /// The active count of `combo`'s names (one per dimension) changed by `delta` at `at`.
    pub fn change(&mut self, at: Millis, combo: Combo, delta: i32) {
        let minute = at.div_euclid(MINUTE_MS);
        for (i, d) in Dim::ALL.iter().enumerate() {
            let map = &mut self.by_dim[i];
            let mut sym = combo.get(*d);
            if map.len() >= MAX_NAMES && !map.contains_key(&sym) {
                sym = OTHER;
            }
            let t = map.entry(sym).or_insert_with(|| Trend::new(minute));
            t.advance(minute);
            t.active = t.active.saturating_add_signed(delta);
            let slot = &mut t.peaks[t.last.rem_euclid(MINUTES as i64) as usize];
            *slot = (*slot).max(u16::try_from(t.active).unwrap_or(u16::MAX));
        }
    }

    /// The peaks of `sym` of `dim` over the 60 minutes up to `now`, oldest first; `None` when
    /// the name was never active (or folded into `(other)`).
    pub fn series(&self, dim: Dim, sym: Sym, now: Millis) -> Option<[u16; MINUTES]> {
        let t = self.by_dim[dim_index(dim)].get(&sym)?;
        Some(t.series(now.div_euclid(MINUTE_MS)))
    }

    /// Forgets the past, keeps each name's active count (the server's state).
    pub fn clear(&mut self, now: Millis) {
        let minute = now.div_euclid(MINUTE_MS);
        for map in &mut self.by_dim {
            for t in map.values_mut() {
                let active = t.active;
                *t = Trend::new(minute.max(t.last));
                t.active = active;
                t.peaks[t.last.rem_euclid(MINUTES as i64) as usize] =
                    u16::try_from(active).unwrap_or(u16::MAX);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_per_minute_over_the_last_hour() {
        let mut t = Trends::default();
        let c = Combo {
            database: 5,
            user: 6,
            application: 7,
            host: 8,
            server: 9,
        };
        // Minute 10: up to 3, back to 1. Minute 12: up to 2.
        for _ in 0..3 {
            t.change(600_000, c, 1);
        }
        t.change(601_000, c, -1);
        t.change(602_000, c, -1);
        t.change(720_000, c, 1);
        let s = t.series(Dim::Application, 7, 13 * 60_000).unwrap();
        assert_eq!(&s[MINUTES - 4..], &[3, 1, 2, 2]);
        assert!(s[..MINUTES - 4].iter().all(|&v| v == 0));
        // An hour later only the held count remains.
        let s = t.series(Dim::Database, 5, 200 * 60_000).unwrap();
        assert!(s.iter().all(|&v| v == 2));
        assert!(t.series(Dim::Host, 9, 0).is_none());
        t.clear(13 * 60_000);
        let s = t.series(Dim::User, 6, 13 * 60_000).unwrap();
        assert_eq!(&s[MINUTES - 2..], &[0, 2]);
    }
}
