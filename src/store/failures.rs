//! Failed connection attempts for an investigation: rows of user × host × reason with their
//! count, rate per minute (log clock, last 5 minutes), first and last seen, and the hosts whose
//! pattern looks like password guessing (many users, or many failures a minute).

use super::filter::Filter;
use super::intern::{Combo, ComboId, Name, Sym, OTHER};
use super::Store;
use crate::model::{FailureReason, LogTime};
use std::collections::HashMap;

/// Distinct (combination, reason) keys kept; later ones fold into one "other" row per reason.
pub const MAX_KEYS: usize = 10_000;
/// The rate window, in minutes of log time.
pub const RATE_MINUTES: i64 = 5;
/// A host with failures for at least this many distinct users (in the rate window) is flagged.
pub const BRUTE_USERS: usize = 5;
/// A host failing at least this often per minute (in the rate window) is flagged.
pub const BRUTE_PER_MINUTE: f64 = 30.0;
/// The combination id of the folded "other" rows.
const OTHER_COMBO: ComboId = ComboId::MAX;

/// The reason in words, as a DBA says it.
pub fn reason_words(r: FailureReason) -> &'static str {
    use FailureReason as R;
    match r {
        R::PasswordFailed => "wrong password",
        R::RoleMissing => "role does not exist",
        R::DatabaseMissing => "database does not exist",
        R::RoleLimit => "role connection limit",
        R::DatabaseLimit => "database connection limit",
        R::TooManyClients => "too many clients",
        R::ReservedSlots => "only reserved slots left",
        R::LoginNotPermitted => "role may not log in",
        R::HbaReject => "rejected by pg_hba.conf",
        R::NoHbaEntry => "no pg_hba.conf entry",
        R::PermissionDenied => "no CONNECT privilege",
        R::StartupShutdown => "server starting or stopping",
        R::NotAccepting => "database not accepting",
        R::AuthTimeout => "authentication timeout",
        R::Other => "other",
    }
}

/// Failures of one key: totals and a per-minute ring for the rate.
#[derive(Debug, Clone, Copy)]
struct Acc {
    count: u64,
    first: LogTime,
    last: LogTime,
    /// (minute number, failures in it), indexed by minute modulo the window.
    minutes: [(i64, u32); RATE_MINUTES as usize],
}

impl Acc {
    fn new(at: LogTime) -> Acc {
        Acc {
            count: 0,
            first: at,
            last: at,
            minutes: [(i64::MIN, 0); RATE_MINUTES as usize],
        }
    }

    fn add(&mut self, at: LogTime, n: u32) {
        self.count += u64::from(n);
        if at.millis < self.first.millis {
            self.first = at;
        }
        if at.millis >= self.last.millis {
            self.last = at;
        }
        let m = at.millis.div_euclid(60_000);
        let slot = &mut self.minutes[m.rem_euclid(RATE_MINUTES) as usize];
        if slot.0 == m {
            slot.1 = slot.1.saturating_add(n);
        } else if slot.0 < m {
            *slot = (m, n);
        }
    }

    /// Failures in the minutes of the window ending at `now`.
    fn recent(&self, now: i64) -> u64 {
        let m = now.div_euclid(60_000);
        self.minutes
            .iter()
            .filter(|(k, _)| *k > m - RATE_MINUTES && *k <= m)
            .map(|(_, n)| u64::from(*n))
            .sum()
    }
}

/// The last failure of one source: (pid, combination, reason, time).
type Last = (u32, ComboId, FailureReason, LogTime);

/// Every failed attempt, by combination and reason, memory bounded.
#[derive(Debug, Default)]
pub struct Failures {
    keys: super::FastMap<(ComboId, FailureReason), Acc>,
    /// Per source, the failure logged last, for the DETAIL that may follow it.
    last: Vec<Option<Last>>,
}

impl Failures {
    /// Counts one failure.
    pub fn record(&mut self, combo: ComboId, reason: FailureReason, at: LogTime) {
        let key = if self.keys.len() >= MAX_KEYS && !self.keys.contains_key(&(combo, reason)) {
            (OTHER_COMBO, reason)
        } else {
            (combo, reason)
        };
        self.keys
            .entry(key)
            .or_insert_with(|| Acc::new(at))
            .add(at, 1);
    }

    /// Remembers the failure `source` logged last (its DETAIL follows it).
    pub fn remember(
        &mut self,
        source: u16,
        pid: u32,
        combo: ComboId,
        r: FailureReason,
        at: LogTime,
    ) {
        let i = usize::from(source);
        if self.last.len() <= i {
            self.last.resize(i + 1, None);
        }
        self.last[i] = Some((pid, combo, r, at));
    }

    /// A DETAIL from `pid` of `source` saying the reason is `better`: a wrong password for a
    /// role that does not exist counts as a missing role. Only right after that failure.
    pub fn detail(&mut self, source: u16, pid: u32, better: FailureReason) {
        let Some(slot) = self.last.get_mut(usize::from(source)) else {
            return;
        };
        if let Some((p, combo, FailureReason::PasswordFailed, at)) = *slot {
            if p == pid && better == FailureReason::RoleMissing {
                *slot = None;
                self.reclassify(combo, FailureReason::PasswordFailed, better, at);
            }
        }
    }

    /// Moves one failure of `combo` from one reason to another (a DETAIL that tells more).
    pub fn reclassify(
        &mut self,
        combo: ComboId,
        from: FailureReason,
        to: FailureReason,
        at: LogTime,
    ) {
        let Some(a) = self.keys.get_mut(&(combo, from)) else {
            return;
        };
        a.count = a.count.saturating_sub(1);
        let m = at.millis.div_euclid(60_000);
        let slot = &mut a.minutes[m.rem_euclid(RATE_MINUTES) as usize];
        if slot.0 == m {
            slot.1 = slot.1.saturating_sub(1);
        }
        if a.count == 0 {
            self.keys.remove(&(combo, from));
        }
        self.record(combo, to, at);
    }

    /// Forgets every failure.
    pub fn clear(&mut self) {
        self.keys.clear();
        self.last.clear();
    }

    /// Keys held (for tests of the bound).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// One row of the failures view: a user failing from a host for one reason.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureRow {
    /// The user the attempt named (`(other)` for the folded row).
    pub user: Name,
    /// The client host (`[local]` for the Unix socket).
    pub host: Name,
    /// Why it failed (a wrong password for a missing role counts as `RoleMissing`).
    pub reason: FailureReason,
    /// Attempts that failed.
    pub count: u64,
    /// Failures per minute over the last 5 minutes of log time (or since the first, if later).
    pub per_minute: f64,
    /// First failure seen (log time).
    pub first: LogTime,
    /// Last failure seen (log time).
    pub last: LogTime,
    /// The host shows a password-guessing pattern.
    pub brute_force: bool,
}

/// A host flagged for password guessing (counting wrong passwords and missing roles only).
#[derive(Debug, Clone, PartialEq)]
pub struct BruteForceHost {
    /// The client host.
    pub host: Name,
    /// Distinct users that failed from it in the rate window.
    pub users: usize,
    /// Its failures per minute in the rate window.
    pub per_minute: f64,
    /// Its failures in all.
    pub failures: u64,
}

/// How the failures view sorts (descending; ties by user, host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailureSort {
    /// Most failures first.
    #[default]
    Count,
    /// Highest rate per minute first.
    Rate,
    /// Most recent first.
    LastSeen,
}

impl FailureSort {
    /// In the order a key cycles them.
    pub const ALL: [FailureSort; 3] =
        [FailureSort::Count, FailureSort::Rate, FailureSort::LastSeen];

    /// Column title.
    pub fn title(self) -> &'static str {
        match self {
            FailureSort::Count => "count",
            FailureSort::Rate => "rate",
            FailureSort::LastSeen => "last seen",
        }
    }
}

/// The failures view: flagged hosts, then rows (flagged hosts' rows first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FailureView {
    /// Hosts guessing passwords, the fastest first.
    pub brute_force: Vec<BruteForceHost>,
    /// user × host × reason rows: flagged hosts' first, then by the sort column.
    pub rows: Vec<FailureRow>,
}

/// Failures that come from guessing credentials (what a brute force produces).
pub fn is_guess(r: FailureReason) -> bool {
    matches!(
        r,
        FailureReason::PasswordFailed | FailureReason::RoleMissing
    )
}

/// A view row's sums: count, first, last, failures in the rate window.
type Sums = (u64, LogTime, LogTime, u64);

fn rate(recent: u64, first: i64, now: i64) -> f64 {
    let window_start = (now.div_euclid(60_000) - RATE_MINUTES + 1) * 60_000;
    let span = now - first.max(window_start);
    recent as f64 / (span as f64 / 60_000.0).max(1.0)
}

impl Store {
    /// The failures view under `filter`, sorted by `sort`.
    pub fn failure_view(&self, filter: &Filter, sort: FailureSort) -> FailureView {
        let f = filter.resolve(&self.names);
        let now = self.now.millis;
        let other = Combo::all(OTHER);
        // (user, host, reason) -> (count, first, last, recent)
        let mut rows: HashMap<(Sym, Sym, FailureReason), Sums> = HashMap::new();
        for (&(id, reason), a) in &self.failures.keys {
            let c = if id == OTHER_COMBO {
                other
            } else {
                self.names.combo_of(id)
            };
            if id != OTHER_COMBO && !f.matches(&c) {
                continue;
            }
            let e = rows
                .entry((c.user, c.host, reason))
                .or_insert((0, a.first, a.last, 0));
            e.0 += a.count;
            if a.first.millis < e.1.millis {
                e.1 = a.first;
            }
            if a.last.millis > e.2.millis {
                e.2 = a.last;
            }
            e.3 += a.recent(now);
        }
        // Per host: users failing recently, recent failures, first failure.
        let mut hosts: HashMap<Sym, (Vec<Sym>, u64, i64, u64)> = HashMap::new();
        for (&(user, host, reason), &(count, first, last, recent)) in &rows {
            if !is_guess(reason) {
                continue;
            }
            let h = hosts
                .entry(host)
                .or_insert((Vec::new(), 0, first.millis, 0));
            if recent > 0 && last.millis >= now - RATE_MINUTES * 60_000 && !h.0.contains(&user) {
                h.0.push(user);
            }
            h.1 += recent;
            h.2 = h.2.min(first.millis);
            h.3 += count;
        }
        let mut flagged: Vec<BruteForceHost> = hosts
            .iter()
            .filter(|(&h, _)| h != OTHER)
            .filter_map(|(&h, (users, recent, first, total))| {
                let per_minute = rate(*recent, *first, now);
                (users.len() >= BRUTE_USERS || per_minute >= BRUTE_PER_MINUTE).then(|| {
                    BruteForceHost {
                        host: self.names.name(h).clone(),
                        users: users.len(),
                        per_minute,
                        failures: *total,
                    }
                })
            })
            .collect();
        flagged.sort_by(|a, b| {
            b.per_minute
                .total_cmp(&a.per_minute)
                .then(b.users.cmp(&a.users))
                .then(a.host.cmp(&b.host))
        });
        let rank = |host: &Name| {
            flagged
                .iter()
                .position(|b| &b.host == host)
                .unwrap_or(usize::MAX)
        };
        let mut out: Vec<FailureRow> = rows
            .into_iter()
            .map(|((user, host, reason), (count, first, last, recent))| {
                let host = self.names.name(host).clone();
                FailureRow {
                    brute_force: rank(&host) != usize::MAX,
                    user: self.names.name(user).clone(),
                    host,
                    reason,
                    count,
                    per_minute: rate(recent, first.millis, now),
                    first,
                    last,
                }
            })
            .collect();
        // Flagged hosts first, the fastest first; then the sort column.
        out.sort_by(|a, b| {
            rank(&a.host)
                .cmp(&rank(&b.host))
                .then_with(|| match sort {
                    FailureSort::Count => b.count.cmp(&a.count),
                    FailureSort::Rate => b.per_minute.total_cmp(&a.per_minute),
                    FailureSort::LastSeen => b.last.millis.cmp(&a.last.millis),
                })
                .then_with(|| b.count.cmp(&a.count))
                .then_with(|| a.host.cmp(&b.host))
                .then_with(|| a.user.cmp(&b.user))
                .then_with(|| a.reason.cmp(&b.reason))
        });
        FailureView {
            brute_force: flagged,
            rows: out,
        }
    }

    /// The failure aggregates (for tests of their bound).
    pub fn failures(&self) -> &Failures {
        &self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::corpus_engine as corpus;

    #[test]
    fn a_wrong_password_for_a_missing_role_counts_as_a_missing_role() {
        for f in ["postgresql.log", "postgresql.csv", "postgresql.json"] {
            let e = corpus(f);
            let v = e.store.failure_view(&Filter::default(), FailureSort::Count);
            let row = |user: &[u8], host: &[u8]| {
                v.rows
                    .iter()
                    .filter(|r| &*r.user == user && &*r.host == host)
                    .map(|r| (r.reason, r.count))
                    .collect::<Vec<_>>()
            };
            // `password authentication failed for user "ghost"` + `DETAIL: Role "ghost" does
            // not exist.` over TCP; `role "ghost" does not exist` twice over the socket.
            assert_eq!(
                row(b"ghost", b"127.0.0.1"),
                [(FailureReason::RoleMissing, 1)],
                "{f}"
            );
            assert_eq!(
                row(b"ghost", b"[local]"),
                [(FailureReason::RoleMissing, 2)],
                "{f}"
            );
            assert_eq!(
                row(b"app_user", b"127.0.0.1")[0],
                (FailureReason::PasswordFailed, 3),
                "{f}"
            );
            assert_eq!(v.rows.iter().map(|r| r.count).sum::<u64>(), 16, "{f}");
            assert!(v.brute_force.is_empty(), "{f}");
            // The summary keeps the server's own wording (truth.json: 4 password failures).
            let s = e.store.summary(&Filter::default());
            let pw = s
                .failures_by_reason
                .iter()
                .find(|(r, _)| *r == FailureReason::PasswordFailed);
            assert_eq!(pw.map(|p| p.1), Some(4), "{f}");
        }
    }

    #[test]
    fn a_detail_counts_only_for_the_failure_just_logged_by_its_process() {
        let t = |millis| LogTime {
            millis,
            offset_secs: 0,
        };
        let mut f = Failures::default();
        f.record(7, FailureReason::PasswordFailed, t(1000));
        f.remember(0, 42, 7, FailureReason::PasswordFailed, t(1000));
        f.detail(0, 43, FailureReason::RoleMissing); // another process
        f.detail(1, 42, FailureReason::RoleMissing); // another source
        assert_eq!(f.keys[&(7, FailureReason::PasswordFailed)].count, 1);
        f.detail(0, 42, FailureReason::RoleMissing);
        f.detail(0, 42, FailureReason::RoleMissing); // only once
        assert!(!f.keys.contains_key(&(7, FailureReason::PasswordFailed)));
        assert_eq!(f.keys[&(7, FailureReason::RoleMissing)].count, 1);
    }

    #[test]
    fn rows_are_bounded_with_an_other_row() {
        let mut f = Failures::default();
        let at = LogTime::default();
        for id in 0..(MAX_KEYS as u32 + 500) {
            f.record(id, FailureReason::PasswordFailed, at);
        }
        assert_eq!(f.len(), MAX_KEYS + 1);
        assert_eq!(
            f.keys[&(OTHER_COMBO, FailureReason::PasswordFailed)].count,
            500
        );
    }

    #[test]
    fn rate_is_per_minute_over_the_last_five() {
        let t = |s: i64| LogTime {
            millis: s * 1000,
            offset_secs: 0,
        };
        let mut a = Acc::new(t(0));
        for s in 0..600 {
            a.add(t(s), 1); // one a second for ten minutes
        }
        let now = 599_000;
        assert_eq!(a.recent(now), 300);
        assert!((rate(a.recent(now), 0, now) - 60.0).abs() < 1.0);
        // A burst of 30 in ten seconds: 30 a minute, not 3.
        let mut b = Acc::new(t(0));
        for s in 0..30 {
            b.add(t(s / 3), 1);
        }
        assert_eq!(rate(b.recent(9_000), 0, 9_000), 30.0);
    }
}
