//! Leak suspects: applications (users, hosts) whose open sessions keep growing over the window
//! while few of them close. A pool that fills once and then holds steady is not flagged, unless
//! it holds a growing share of the server's slots with no ends, or holds many sessions that never
//! close while the slots run out (clients refused, or every usable slot taken).

use super::filter::Filter;
use super::intern::{Dim, Name, Sym};
use super::Store;
use std::collections::HashMap;

/// The least growth over the window that can make a suspect.
pub const MIN_GROWTH: i64 = 5;
/// A name holding this share (percent) of the usable slots, growing with no ends, is a suspect.
pub const SHARE_GROWING_PCT: i64 = 50;
/// While slots run out, a name holding this share (percent) with no ends is a suspect.
pub const SHARE_RAN_OUT_PCT: i64 = 25;

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
    /// Its share of the usable slots, in percent, when the capacity is known.
    pub share_pct: Option<u32>,
    /// Clients were refused for lack of slots in the window, or every usable slot is taken.
    pub slots_ran_out: bool,
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
        let usable = self.capacity.usable().map(i64::from);
        let ran_out = self.capacity.last_refused.is_some_and(|t| t.millis >= from)
            || usable.is_some_and(|u| self.active_now() as i64 >= u);
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
                let share = usable.map(|u| a.active * 100 / u.max(1));
                let steady_rise =
                    growth >= MIN_GROWTH && growing >= 3 && !shrinking && a.ends * 2 <= a.connects;
                // No ends at all in the window, and enough sessions to matter.
                let holds = a.ends == 0 && a.active >= MIN_GROWTH;
                let growing_share =
                    holds && growth > 0 && share.is_some_and(|p| p >= SHARE_GROWING_PCT);
                let ran_out_holding =
                    holds && ran_out && share.is_none_or(|p| p >= SHARE_RAN_OUT_PCT);
                if steady_rise || growing_share || ran_out_holding {
                    out.push(LeakSuspect {
                        dimension: dim,
                        name: self.names.name(sym).clone(),
                        active: a.active,
                        growth,
                        connects: a.connects,
                        disconnects: a.ends,
                        growing_quarters: growing,
                        window_minutes: (window_ms / 60_000) as u32,
                        share_pct: share.map(|p| p.clamp(0, i64::from(u32::MAX)) as u32),
                        slots_ran_out: ran_out,
                    });
                }
            }
        }
        out.sort_by(|a, b| b.growth.cmp(&a.growth).then_with(|| a.name.cmp(&b.name)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, EngineConfig};
    use crate::store::capacity::Limits;

    fn corpus() -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/corpus/pg15-debian-berlin/postgresql.log");
        std::fs::read_to_string(path).unwrap()
    }

    fn engine(text: &str, max: Option<u32>) -> Engine {
        let mut e = Engine::new(EngineConfig::default());
        e.store.set_limits(&Limits {
            max_connections: max,
            ..Limits::default()
        });
        let id = e.add_source("corpus");
        e.read_to_end(id, text.as_bytes()).unwrap();
        e
    }

    /// The corpus up to and including the line holding `upto`.
    fn through(upto: &str) -> String {
        let t = corpus();
        let i = t.find(upto).unwrap();
        t[..i + t[i..].find('\n').unwrap() + 1].to_string()
    }

    /// The corpus up to the line holding `upto`, without it.
    fn before(upto: &str) -> String {
        let t = corpus();
        let i = t.find(upto).unwrap();
        t[..t[..i].rfind('\n').unwrap() + 1].to_string()
    }

    fn leaks(text: &str, max: Option<u32>) -> Vec<LeakSuspect> {
        engine(text, max)
            .store
            .leak_suspects(&Filter::default(), 60)
    }

    #[test]
    fn sessions_that_never_close_while_slots_run_out_are_a_leak() {
        // When the server said "sorry, too many clients already", `flood` held 12 sessions it
        // had opened in the last second, none closed: one quarter of growth, so only the slot
        // rule can see it.
        let cut = through("sorry, too many clients already");
        let found = leaks(&cut, Some(30));
        let names: Vec<(Dim, &[u8])> = found.iter().map(|l| (l.dimension, &*l.name)).collect();
        assert_eq!(names, vec![(Dim::Application, &b"flood"[..])]);
        let l = &found[0];
        assert_eq!((l.active, l.disconnects, l.growing_quarters), (12, 0, 1));
        assert_eq!((l.share_pct, l.slots_ran_out), (Some(44), true));
        // Without a configured max the refusal alone says the slots ran out.
        let found = leaks(&cut, None);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].share_pct, found[0].slots_ran_out),
            (Some(40), true)
        );
    }

    #[test]
    fn once_the_sessions_close_nothing_is_suspected() {
        assert!(leaks(&corpus(), Some(30)).is_empty());
    }

    #[test]
    fn a_small_share_is_no_suspect_until_the_slots_run_out() {
        // Just before the first refusal: `flood` holds its sessions, nobody was refused yet.
        let cut = before("remaining connection slots are reserved");
        assert!(
            leaks(&cut, Some(1000)).is_empty(),
            "a few percent of 997 slots"
        );
        // Every usable slot taken (max_connections = open + 3 reserved): the holder is suspect.
        let open = engine(&cut, None).store.active_now() as u32;
        let full = leaks(&cut, Some(open + 3));
        assert!(
            full.iter()
                .any(|l| &*l.name == b"flood" && l.slots_ran_out && l.share_pct.is_some()),
            "{full:?}"
        );
    }
}
