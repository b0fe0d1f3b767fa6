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
    #[inline]
    fn advance(&mut self, minute: i64) {
        if minute <= self.last {
            return;
        }
        self.fill_to(minute);
    }

    /// [`Trend::advance`] past the newest change (kept out of line: most changes need none).
    #[inline(never)]
    fn fill_to(&mut self, minute: i64) {
        let held = u16::try_from(self.active).unwrap_or(u16::MAX);
        // The minutes after the last change, at most a ring's worth, from one division.
        let steps = (minute - self.last).min(MINUTES as i64) as usize;
        let first = (minute - steps as i64 + 1).rem_euclid(MINUTES as i64) as usize;
        let (to_end, wrapped) = (
            steps.min(MINUTES - first),
            steps.saturating_sub(MINUTES - first),
        );
        self.peaks[first..first + to_end].fill(held);
        self.peaks[..wrapped].fill(held);
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
    by_dim: [NameTrends; Dim::COUNT],
    /// Changes are not followed (nothing draws them): every series is `None`.
    off: bool,
}

/// One dimension's trends, found by symbol through a direct index (symbols are small dense
/// numbers): every applied event visits one per dimension, so no hashing.
#[derive(Debug, Default)]
struct NameTrends {
    /// Per symbol: its position in `trends`, or [`NONE`].
    slot: Vec<u32>,
    trends: Vec<Trend>,
}

/// No trend for this symbol.
const NONE: u32 = u32::MAX;

impl NameTrends {
    fn get(&self, sym: Sym) -> Option<&Trend> {
        let i = *self.slot.get(sym as usize)?;
        self.trends.get(i as usize)
    }

    /// The trend of `sym` (of `(other)` past the cap), made at `minute` when new.
    #[inline]
    fn entry(&mut self, sym: Sym, minute: i64) -> &mut Trend {
        match self.slot.get(sym as usize) {
            Some(&i) if i != NONE => &mut self.trends[i as usize],
            _ => self.add(sym, minute),
        }
    }

    /// [`NameTrends::entry`] for a symbol without a trend yet.
    #[inline(never)]
    fn add(&mut self, sym: Sym, minute: i64) -> &mut Trend {
        let sym = if self.trends.len() >= MAX_NAMES {
            OTHER
        } else {
            sym
        };
        let at = sym as usize;
        if at >= self.slot.len() {
            self.slot.resize(at + 1, NONE);
        }
        if self.slot[at] == NONE {
            self.slot[at] = self.trends.len() as u32;
            self.trends.push(Trend::new(minute));
        }
        &mut self.trends[self.slot[at] as usize]
    }
}

impl Trends {
    /// Trends that follow no change, for a store whose figures nothing draws as sparklines.
    pub fn off() -> Trends {
        Trends {
            off: true,
            ..Trends::default()
        }
    }

    /// The active count of `combo`'s names (one per dimension) changed by `delta` at `at`.
    pub fn change(&mut self, at: Millis, combo: Combo, delta: i32) {
        if self.off {
            return;
        }
        let minute = at.div_euclid(MINUTE_MS);
        // The ring index of `minute`, once for the five names (most changes fall in the
        // minute of the name's last change).
        let index = minute.rem_euclid(MINUTES as i64) as usize;
        for (names, d) in self.by_dim.iter_mut().zip(Dim::ALL) {
            let t = names.entry(combo.get(d), minute);
            t.advance(minute);
            t.active = t.active.saturating_add_signed(delta);
            // A change older than the newest (the log went back in time) counts in the newest.
            let i = if t.last == minute {
                index
            } else {
                t.last.rem_euclid(MINUTES as i64) as usize
            };
            let slot = &mut t.peaks[i];
            *slot = (*slot).max(u16::try_from(t.active).unwrap_or(u16::MAX));
        }
    }

    /// The peaks of `sym` of `dim` over the 60 minutes up to `now`, oldest first; `None` when
    /// the name was never active (or folded into `(other)`).
    pub fn series(&self, dim: Dim, sym: Sym, now: Millis) -> Option<[u16; MINUTES]> {
        let t = self.by_dim[dim.index()].get(sym)?;
        Some(t.series(now.div_euclid(MINUTE_MS)))
    }

    /// Forgets the past, keeps each name's active count (the server's state).
    pub fn clear(&mut self, now: Millis) {
        let minute = now.div_euclid(MINUTE_MS);
        for names in &mut self.by_dim {
            for t in &mut names.trends {
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

    #[test]
    fn trends_turned_off_follow_nothing() {
        let mut t = Trends::off();
        let c = Combo {
            database: 5,
            ..Combo::default()
        };
        t.change(600_000, c, 1);
        assert!(t.series(Dim::Database, 5, 600_000).is_none());
    }

    #[test]
    fn names_past_the_cap_fold_into_other() {
        let mut t = Trends::default();
        let combo = |sym: Sym| Combo {
            database: sym,
            ..Combo::default()
        };
        // Symbols 2.. are names: the first MAX_NAMES get their own trend, the last ten share
        // OTHER's.
        for sym in 2..(MAX_NAMES as Sym + 12) {
            t.change(60_000, combo(sym), 1);
        }
        let first = t.series(Dim::Database, 2, 60_000).unwrap();
        assert_eq!(first[MINUTES - 1], 1);
        let last = MAX_NAMES as Sym + 11;
        assert!(t.series(Dim::Database, last, 60_000).is_none());
        let other = t.series(Dim::Database, OTHER, 60_000).unwrap();
        assert_eq!(other[MINUTES - 1], 10);
        // A known name keeps its own trend after the cap.
        t.change(60_000, combo(2), 1);
        assert_eq!(t.series(Dim::Database, 2, 60_000).unwrap()[MINUTES - 1], 2);
    }

    #[test]
    fn advancing_fills_the_minutes_passed_across_the_ring_end() {
        for last in [0_i64, 5, 58, 59, 60, 119, -3] {
            for gap in 0..130 {
                let mut t = Trend::new(last);
                t.peaks = std::array::from_fn(|i| 100 + i as u16);
                t.active = 7;
                let mut want = t.peaks;
                for m in (last + 1)..=(last + gap) {
                    want[m.rem_euclid(MINUTES as i64) as usize] = 7;
                }
                t.advance(last + gap);
                assert_eq!(t.peaks, want, "from minute {last}, {gap} on");
                assert_eq!(t.last, last + gap);
            }
        }
    }
}
