//! Connection capacity: how many slots the server has (from its configuration or
//! `--max-connections`), what the log teaches about them (the count in use when clients were
//! refused for lack of slots, per-role and per-database limits), and the headroom left.

use super::intern::{Name, Sym};
use super::Store;
use crate::model::{FailureReason, LogTime};
use std::collections::HashMap;

/// PostgreSQL's default `superuser_reserved_connections`.
pub const DEFAULT_SUPERUSER_RESERVED: u32 = 3;
/// Learnt per-role / per-database limits kept at most.
const MAX_LEARNT: usize = 256;
/// Refusals closer together than this (log time) form one burst.
const BURST_GAP_MS: i64 = 60_000;

/// The slot settings as configured: each `None` when not known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// `max_connections`.
    pub max_connections: Option<u32>,
    /// `superuser_reserved_connections`.
    pub superuser_reserved: Option<u32>,
    /// `reserved_connections` (PostgreSQL 16+, for roles with `pg_use_reserved_connections`).
    pub reserved: Option<u32>,
    /// Where the figures came from (`--max-connections`, a config file path).
    pub origin: Option<String>,
}

impl Limits {
    /// The limits a settings map (lower-case names → values, as `source::conf` reads them) sets.
    pub fn from_settings(settings: &HashMap<String, String>, origin: &str) -> Limits {
        let num = |k: &str| settings.get(k).and_then(|v| v.trim().parse::<u32>().ok());
        let l = Limits {
            max_connections: num("max_connections"),
            superuser_reserved: num("superuser_reserved_connections"),
            reserved: num("reserved_connections"),
            origin: None,
        };
        Limits {
            origin: l.is_known().then(|| origin.to_string()),
            ..l
        }
    }

    /// Whether any figure is known.
    pub fn is_known(&self) -> bool {
        self.max_connections.is_some()
            || self.superuser_reserved.is_some()
            || self.reserved.is_some()
    }

    /// `self`, with the figures it lacks taken from `other` (origins joined when both count).
    pub fn or(self, other: Limits) -> Limits {
        let fills = |mine: Option<u32>, theirs: Option<u32>| mine.is_none() && theirs.is_some();
        let contributes = fills(self.max_connections, other.max_connections)
            || fills(self.superuser_reserved, other.superuser_reserved)
            || fills(self.reserved, other.reserved);
        let origin = match (self.origin, other.origin) {
            (Some(a), Some(b)) if contributes => Some(format!("{a}, {b}")),
            (None, b) if contributes => b,
            (a, _) => a,
        };
        Limits {
            max_connections: self.max_connections.or(other.max_connections),
            superuser_reserved: self.superuser_reserved.or(other.superuser_reserved),
            reserved: self.reserved.or(other.reserved),
            origin,
        }
    }
}

/// How full the server is, for colouring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// No capacity known.
    Unknown,
    /// Below 80 % of the usable slots.
    Ok,
    /// 80 % or more.
    Warn,
    /// 95 % or more, or every usable slot taken.
    Alarm,
}

impl Level {
    /// `ok`, `warn`, `alarm`, `unknown` (JSON).
    pub fn key(self) -> &'static str {
        match self {
            Level::Unknown => "unknown",
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Alarm => "alarm",
        }
    }
}

/// A limit learnt from a refusal: `too many connections for role "x"` with `active` open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearntLimit {
    /// The role or database.
    pub name: Name,
    /// Sessions of it that were open when the server refused one more.
    pub active: u32,
    /// When it was refused last.
    pub at: LogTime,
    /// Refusals seen.
    pub refused: u64,
}

/// What is known about the server's connection slots.
#[derive(Debug, Clone)]
pub struct Capacity {
    /// `max_connections`, when configured or given.
    pub max: Option<u32>,
    /// Slots ordinary roles cannot take: `superuser_reserved_connections` (default 3) plus
    /// `reserved_connections`.
    pub reserved: u32,
    /// Where `max` came from.
    pub origin: Option<String>,
    /// The most sessions open (client backends the log shows) when a client was refused for
    /// lack of slots: the usable slots, as far as the log tells.
    pub floor_from_refusals: Option<u32>,
    /// The last refusal for lack of slots (`too many clients`, `remaining connection slots are
    /// reserved`).
    pub last_refused: Option<LogTime>,
    /// Refusals for lack of slots since the start or the last clear.
    pub refused_total: u64,
    /// Refusals in the burst that ended at `last_refused` (gaps under a minute).
    pub refused_burst: u64,
    /// When that burst began.
    pub burst_start: Option<LogTime>,
    /// Per-role limits learnt from `too many connections for role`.
    roles: HashMap<Sym, LearntLimit>,
    /// Per-database limits learnt from `too many connections for database`.
    databases: HashMap<Sym, LearntLimit>,
}

impl Default for Capacity {
    fn default() -> Self {
        Capacity {
            max: None,
            reserved: DEFAULT_SUPERUSER_RESERVED,
            origin: None,
            floor_from_refusals: None,
            last_refused: None,
            refused_total: 0,
            refused_burst: 0,
            burst_start: None,
            roles: HashMap::new(),
            databases: HashMap::new(),
        }
    }
}

impl Capacity {
    /// A capacity from configured limits.
    pub fn new(limits: &Limits) -> Capacity {
        let mut c = Capacity::default();
        c.set_limits(limits);
        c
    }

    /// Takes configured limits (keeps what the log taught).
    pub fn set_limits(&mut self, l: &Limits) {
        self.max = l.max_connections;
        self.reserved = l
            .superuser_reserved
            .unwrap_or(DEFAULT_SUPERUSER_RESERVED)
            .saturating_add(l.reserved.unwrap_or(0));
        self.origin = l.origin.clone();
    }

    /// Slots ordinary roles can use: `max - reserved`, else the floor learnt from refusals.
    pub fn usable(&self) -> Option<u32> {
        match self.max {
            Some(m) => Some(m.saturating_sub(self.reserved).max(1)),
            None => self.floor_from_refusals,
        }
    }

    /// Free slots for ordinary roles with `active` sessions open, when the capacity is known.
    pub fn headroom(&self, active: u64) -> Option<u32> {
        let used = u32::try_from(active).unwrap_or(u32::MAX);
        self.usable().map(|u| u.saturating_sub(used))
    }

    /// How full: under 80 % ok, under 95 % warn, else alarm.
    pub fn level(&self, active: u64) -> Level {
        let Some(u) = self.usable() else {
            return Level::Unknown;
        };
        let pct = active.saturating_mul(100) / u64::from(u.max(1));
        if pct >= 95 {
            Level::Alarm
        } else if pct >= 80 {
            Level::Warn
        } else {
            Level::Ok
        }
    }

    /// Per-role limits learnt, by name.
    pub fn role_limits(&self) -> Vec<&LearntLimit> {
        sorted(&self.roles)
    }

    /// Per-database limits learnt, by name.
    pub fn database_limits(&self) -> Vec<&LearntLimit> {
        sorted(&self.databases)
    }

    /// Forgets the refusal counts (a clear); keeps the limits, which describe the server.
    pub fn clear_counts(&mut self) {
        self.refused_total = 0;
        self.refused_burst = 0;
        self.burst_start = None;
        self.last_refused = None;
        for l in self.roles.values_mut().chain(self.databases.values_mut()) {
            l.refused = 0;
        }
    }

    fn refused(&mut self, at: LogTime, active: u32) {
        let same_burst = self
            .last_refused
            .is_some_and(|t| at.millis - t.millis <= BURST_GAP_MS);
        if !same_burst {
            self.refused_burst = 0;
            self.burst_start = Some(at);
        }
        self.refused_burst += 1;
        self.refused_total += 1;
        if self.last_refused.is_none_or(|t| at.millis >= t.millis) {
            self.last_refused = Some(at);
        }
        if active > 0 {
            self.floor_from_refusals = Some(self.floor_from_refusals.unwrap_or(0).max(active));
        }
    }
}

fn sorted(m: &HashMap<Sym, LearntLimit>) -> Vec<&LearntLimit> {
    let mut v: Vec<&LearntLimit> = m.values().collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

fn learn(m: &mut HashMap<Sym, LearntLimit>, sym: Sym, name: &Name, active: u32, at: LogTime) {
    if let Some(l) = m.get_mut(&sym) {
        l.active = l.active.max(active);
        l.refused += 1;
        l.at = at;
    } else if m.len() < MAX_LEARNT {
        m.insert(
            sym,
            LearntLimit {
                name: name.clone(),
                active,
                at,
                refused: 1,
            },
        );
    }
}

impl Store {
    /// Open client sessions, whatever the filter (the slots in use).
    pub fn active_now(&self) -> u64 {
        self.stats.iter().map(|s| u64::from(s.active)).sum()
    }

    /// Learns from one failed attempt (called by `fail` after the refused session was taken
    /// out of the counts, so the counts are the sessions that held the slots).
    pub(crate) fn note_capacity(&mut self, reason: FailureReason, combo: u32, at: LogTime) {
        let c = self.names.combo_of(combo);
        match reason {
            FailureReason::TooManyClients | FailureReason::ReservedSlots => {
                let n = u32::try_from(self.active_now()).unwrap_or(u32::MAX);
                self.capacity.refused(at, n);
            }
            FailureReason::RoleLimit if c.user != super::intern::UNKNOWN => {
                let n: u64 = self.sum_active(|k| k.user == c.user);
                let name = self.names.name(c.user).clone();
                learn(&mut self.capacity.roles, c.user, &name, n as u32, at);
            }
            FailureReason::DatabaseLimit if c.database != super::intern::UNKNOWN => {
                let n: u64 = self.sum_active(|k| k.database == c.database);
                let name = self.names.name(c.database).clone();
                learn(
                    &mut self.capacity.databases,
                    c.database,
                    &name,
                    n as u32,
                    at,
                );
            }
            _ => {}
        }
    }

    fn sum_active(&self, pick: impl Fn(&super::intern::Combo) -> bool) -> u64 {
        self.stats
            .iter()
            .enumerate()
            .filter(|(id, st)| st.active > 0 && pick(&self.names.combo_of(*id as u32)))
            .map(|(_, st)| u64::from(st.active))
            .sum()
    }

    /// What is known about the connection slots.
    pub fn capacity(&self) -> &Capacity {
        &self.capacity
    }

    /// Sets the configured limits (config file, `--max-connections`).
    pub fn set_limits(&mut self, limits: &Limits) {
        self.capacity.set_limits(limits);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::time::rfc3339;

    use crate::test_support::corpus_engine as corpus;

    #[test]
    fn refusals_in_the_real_log_teach_the_slots() {
        let e = corpus("postgresql.log");
        let c = e.store.capacity();
        // `remaining connection slots are reserved` at 20:21:04.011, `sorry, too many clients
        // already` at 20:21:04.025: one burst of two.
        assert_eq!(c.refused_total, 2);
        assert_eq!(c.refused_burst, 2);
        let last = c.last_refused.unwrap();
        assert_eq!(
            (rfc3339(last).as_str(), last.millis % 1000),
            ("2026-11-27T20:21:04+01:00", 25)
        );
        // The server (max_connections = 30) refused `postgres` with every slot taken.
        let floor = c.floor_from_refusals.unwrap();
        assert_eq!(floor, 30);
        assert_eq!(c.max, None);
        assert_eq!(c.usable(), Some(floor));
        let roles: Vec<_> = c
            .role_limits()
            .iter()
            .map(|l| (l.name.to_vec(), l.refused))
            .collect();
        assert_eq!(roles, vec![(b"limited".to_vec(), 1)]);
        let dbs: Vec<_> = c
            .database_limits()
            .iter()
            .map(|l| l.name.to_vec())
            .collect();
        assert_eq!(dbs, vec![b"test".to_vec()]);
        assert!(c.role_limits()[0].active >= 1);
    }

    #[test]
    fn the_same_log_in_csv_and_json_agrees() {
        let want = corpus("postgresql.log").store.capacity().clone();
        for f in ["postgresql.csv", "postgresql.json"] {
            let e = corpus(f);
            let c = e.store.capacity();
            assert_eq!(
                (
                    c.refused_total,
                    c.floor_from_refusals,
                    c.last_refused.map(|t| t.millis)
                ),
                (
                    want.refused_total,
                    want.floor_from_refusals,
                    want.last_refused.map(|t| t.millis)
                ),
                "{f}"
            );
        }
    }

    #[test]
    fn clear_forgets_refusals_but_keeps_what_describes_the_server() {
        let mut e = corpus("postgresql.log");
        let floor = e.store.capacity().floor_from_refusals;
        e.store.set_limits(&Limits {
            max_connections: Some(20),
            ..Limits::default()
        });
        e.store.clear();
        let c = e.store.capacity();
        assert_eq!((c.refused_total, c.last_refused), (0, None));
        assert_eq!(c.floor_from_refusals, floor);
        assert_eq!((c.max, c.reserved, c.usable()), (Some(20), 3, Some(17)));
        assert_eq!(c.role_limits().len(), 1);
    }

    #[test]
    fn headroom_and_levels() {
        let mut s = HashMap::new();
        s.insert("max_connections".to_string(), "20".to_string());
        s.insert(
            "superuser_reserved_connections".to_string(),
            " 2".to_string(),
        );
        s.insert("reserved_connections".to_string(), "3".to_string());
        let l = Limits::from_settings(&s, "postgresql.conf");
        assert_eq!(l.origin.as_deref(), Some("postgresql.conf"));
        let c = Capacity::new(&l);
        assert_eq!(
            (c.usable(), c.headroom(10), c.headroom(99)),
            (Some(15), Some(5), Some(0))
        );
        assert_eq!(c.level(11), Level::Ok); // 73 %
        assert_eq!(c.level(12), Level::Warn); // 80 %
        assert_eq!(c.level(14), Level::Warn); // 93 %
        assert_eq!(c.level(15), Level::Alarm);
        assert_eq!(Capacity::default().level(5), Level::Unknown);
        let none = Limits::from_settings(&HashMap::new(), "x");
        assert!(!none.is_known() && none.origin.is_none());
        let flag = Limits {
            max_connections: Some(50),
            origin: Some("--max-connections".into()),
            ..Limits::default()
        };
        let merged = flag.or(l);
        assert_eq!(
            (
                merged.max_connections,
                merged.superuser_reserved,
                merged.reserved
            ),
            (Some(50), Some(2), Some(3))
        );
    }
}
