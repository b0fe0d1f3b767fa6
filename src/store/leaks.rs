//! Leak suspects: applications (users, hosts) whose open sessions keep growing over the window
//! while few of them close. A pool that fills once and then holds steady is never flagged.

use super::filter::Filter;
use super::intern::{Dim, Name, Sym};
use super::Store;
use std::collections::HashMap;

/// The least growth over the window that can make a suspect.
pub const MIN_GROWTH: i64 = 5;

/// One suspected leak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeakSuspect {
    /// Which dimension: application, user or host.
    pub dimension: Dim,
    pub name: Name,
    /// Open sessions now.
    pub active: i64,
    /// Open sessions gained over the window.
    pub growth: i64,
    /// Connects and ends over the window.
    pub connects: i64,
    pub disconnects: i64,
    /// Quarters of the window in which the count grew (of 4).
    pub growing_quarters: u8,
    /// The window, in minutes.
    pub window_minutes: u32,
}

#[derive(Default, Clone, Copy)]
struct Acc {
    active: i64,
    connects: i64,
    ends: i64,
    quarters: [i64; 4],
}

impl Store {
    /// Leak suspects over the last `window_minutes` of log time under `filter`, largest growth first.
    pub fn leak_suspects(&self, filter: &Filter, window_minutes: u32) -> Vec<LeakSuspect> {
        let f = filter.resolve(&self.names);
        let window_ms = i64::from(window_minutes.max(4)) * 60_000;
        let now = self.now.millis;
        let from = now - window_ms;
        let mut out = Vec::new();
        for dim in [Dim::Application, Dim::User, Dim::Host] {
            let mut acc: HashMap<Sym, Acc> = HashMap::new();
            for (id, st) in self.stats.iter().enumerate() {
                let c = self.names.combo_of(id as u32);
                if st.active > 0 && f.matches(&c) {
                    acc.entry(c.get(dim)).or_default().active += i64::from(st.active);
                }
            }
            for (start, combos) in self.history.minutes_from(from) {
                let q = (((start - from).max(0) * 4) / window_ms).min(3) as usize;
                for (id, counts) in combos {
                    let c = self.names.combo_of(*id);
                    if !f.matches(&c) {
                        continue;
                    }
                    let a = acc.entry(c.get(dim)).or_default();
                    a.connects += i64::from(counts.connects);
                    a.ends += i64::from(counts.disconnects) + i64::from(counts.lost);
                    a.quarters[q] += counts.net();
                }
            }
            for (sym, a) in acc {
                let growth: i64 = a.quarters.iter().sum();
                let growing = a.quarters.iter().filter(|&&n| n > 0).count() as u8;
                let shrinking = a.quarters.iter().any(|&n| n < 0);
                if growth >= MIN_GROWTH && growing >= 3 && !shrinking && a.ends * 2 <= a.connects {
                    out.push(LeakSuspect {
                        dimension: dim,
                        name: self.names.name(sym).clone(),
                        active: a.active,
                        growth,
                        connects: a.connects,
                        disconnects: a.ends,
                        growing_quarters: growing,
                        window_minutes: (window_ms / 60_000) as u32,
                    });
                }
            }
        }
        out.sort_by(|a, b| b.growth.cmp(&a.growth).then_with(|| a.name.cmp(&b.name)));
        out
    }
}
