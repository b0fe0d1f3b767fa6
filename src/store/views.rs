//! Read-only figures of the store under a filter: summary, active sessions, history, session times.

use super::durations::Durations;
use super::feed::{FeedEvent, FeedKind};
use super::filter::{Filter, Resolved};
use super::history::Counts;
use super::intern::{Dim, Name};
use super::{Phase, Session, Store};
use crate::model::{FailureReason, LogTime};
use std::collections::HashMap;

/// Counts over the active sessions and the totals, for one filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub active_total: u64,
    /// Active sessions by name of each dimension, indexed by [`Dim::index`]: (name, count),
    /// largest first (read with [`Summary::by`]).
    pub by: [Vec<(Name, u64)>; Dim::COUNT],
    /// Authorized sessions that were not refused.
    pub connects: u64,
    /// Sessions that ended with a `disconnection` line.
    pub disconnects: u64,
    /// Sessions that ended without one (restart, crash, pid reuse).
    pub lost: u64,
    /// Sessions ended by an administrator command.
    pub terminated: u64,
    pub failures_total: u64,
    /// Non-zero failure counts, in reason order.
    pub failures_by_reason: Vec<(FailureReason, u64)>,
    pub failures_by_user: Vec<(Name, u64)>,
    pub failures_by_host: Vec<(Name, u64)>,
    /// Connections received and not yet authorized (all, unfiltered).
    pub pending: u64,
    /// Connections received that never went further (all, unfiltered).
    pub incomplete: u64,
}

/// Tests feed entries against a filter resolved once (see [`Store::feed_matcher`]).
#[derive(Debug)]
pub struct FeedMatcher<'a> {
    store: &'a Store,
    resolved: Resolved,
}

impl FeedMatcher<'_> {
    /// Whether the entry passes: its combination does, and a server reset (which names no
    /// session) when its server does. Refused connects pass like any connect: callers that
    /// hide them test [`FeedEvent::refused`].
    pub fn matches(&self, e: &FeedEvent) -> bool {
        if self.resolved.is_empty() {
            return true;
        }
        let c = self.store.names.combo_of(e.combo);
        match e.kind {
            FeedKind::Reset { .. } => self.resolved.matches_dim(Dim::Server, c.server),
            _ => self.resolved.matches(&c),
        }
    }
}

/// One open session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveSession {
    pub source: u16,
    pub pid: u32,
    pub user: Name,
    pub database: Name,
    /// `None` when the application name was not set.
    pub application: Option<Name>,
    pub host: Name,
    /// The server (source label) it is on, when the store was given names.
    pub server: Option<Name>,
    pub port: Option<u16>,
    /// When it was authorized.
    pub since: LogTime,
}

/// One bucket of the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryBucket {
    pub start: LogTime,
    pub connects: i64,
    pub disconnects: i64,
    pub lost: i64,
    pub failures: i64,
    /// Active sessions at the end of the bucket.
    pub active_end: i64,
    /// The most active sessions at any moment of the bucket (see [`super::history::History::peaks`]).
    pub active_peak: i64,
}

/// Session-time percentiles of one application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppDurations {
    pub application: Name,
    pub sessions: u64,
    pub p50_ms: u64,
    pub p90_ms: u64,
    pub p99_ms: u64,
}

impl Summary {
    /// Active sessions by name of `dim`: (name, count), largest first, then by name.
    pub fn by(&self, dim: Dim) -> &[(Name, u64)] {
        &self.by[dim.index()]
    }
}

fn sorted(map: HashMap<Name, u64>) -> Vec<(Name, u64)> {
    let mut v: Vec<(Name, u64)> = map.into_iter().filter(|(_, n)| *n > 0).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

impl Store {
    /// The one test of feed entries against `filter`, shared by the Watch tab and `--stream`.
    pub fn feed_matcher(&self, filter: &Filter) -> FeedMatcher<'_> {
        FeedMatcher {
            store: self,
            resolved: filter.resolve(&self.names),
        }
    }

    /// The feed entries that pass `filter` (see [`FeedMatcher::matches`]), oldest first.
    pub fn feed_matching(&self, filter: &Filter) -> impl DoubleEndedIterator<Item = &FeedEvent> {
        let m = self.feed_matcher(filter);
        self.feed.iter().filter(move |e| m.matches(e))
    }

    /// The summary of each named server under `filter` (the filter's own `server=` condition
    /// still applies), in the order the servers were named; empty when none was named.
    pub fn summary_by_server(&self, filter: &Filter) -> Vec<(Name, Summary)> {
        let f = filter.resolve(&self.names);
        self.server_names()
            .into_iter()
            .filter(|&s| f.matches_dim(Dim::Server, s))
            .map(|s| {
                let name = self.names.name(s).clone();
                let mut g = filter.clone();
                g.set(Dim::Server, Some(super::filter::Cond::exact(&name)));
                (name, self.summary(&g))
            })
            .collect()
    }

    /// The summary figures under `filter`.
    pub fn summary(&self, filter: &Filter) -> Summary {
        let f = filter.resolve(&self.names);
        let mut s = Summary::default();
        let mut dims: [HashMap<Name, u64>; Dim::COUNT] = Default::default();
        let mut fu: HashMap<Name, u64> = HashMap::new();
        let mut fh: HashMap<Name, u64> = HashMap::new();
        let mut reasons = [0u64; FailureReason::ALL.len()];
        for (id, st) in self.stats.iter().enumerate() {
            let c = self.names.combo_of(id as u32);
            if !f.matches(&c) {
                continue;
            }
            s.active_total += u64::from(st.active);
            s.connects += st.connects;
            s.disconnects += st.disconnects;
            s.lost += st.lost;
            s.terminated += st.terminated;
            if st.active > 0 {
                for dim in Dim::ALL {
                    *dims[dim.index()]
                        .entry(self.names.name(c.get(dim)).clone())
                        .or_default() += u64::from(st.active);
                }
            }
            let failed: u64 = st.failures.iter().sum();
            if failed > 0 {
                s.failures_total += failed;
                for (r, n) in reasons.iter_mut().zip(st.failures.iter()) {
                    *r += n;
                }
                *fu.entry(self.names.name(c.user).clone()).or_default() += failed;
                *fh.entry(self.names.name(c.host).clone()).or_default() += failed;
            }
        }
        s.by = dims.map(sorted);
        s.failures_by_reason = FailureReason::ALL
            .iter()
            .zip(reasons)
            .filter(|(_, n)| *n > 0)
            .map(|(r, n)| (*r, n))
            .collect();
        s.failures_by_user = sorted(fu);
        s.failures_by_host = sorted(fh);
        // A connection received and not followed up within the authentication timeout never
        // completed its start-up; younger ones are still pending.
        let cutoff = self.now.millis - super::PENDING_TIMEOUT_MS;
        let (young, stale) = self
            .sessions
            .values()
            .filter(|x| x.phase == Phase::Pending)
            .fold((0, 0), |(y, o), x| {
                if x.received.millis >= cutoff {
                    (y + 1, o)
                } else {
                    (y, o + 1)
                }
            });
        s.pending = young;
        s.incomplete = self.incomplete + stale;
        s
    }

    /// The open sessions under `filter`, by source and pid.
    pub fn active_sessions(&self, filter: &Filter) -> Vec<ActiveSession> {
        let f = filter.resolve(&self.names);
        // Sorted as (pid, source) keys first: moving the small keys is cheaper than moving
        // the sessions built from them.
        let mut keys: Vec<(u32, u16, &Session)> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.phase == Phase::Active)
            .map(|(&(source, pid), s)| (pid, source, s))
            .collect();
        keys.sort_unstable_by_key(|&(pid, source, _)| (pid, source));
        let mut out = Vec::with_capacity(keys.len());
        out.extend(keys.into_iter().filter_map(|(pid, source, s)| {
            let c = self.names.combo_of(s.combo);
            f.matches(&c).then(|| ActiveSession {
                source,
                pid,
                user: self.names.name(c.user).clone(),
                database: self.names.name(c.database).clone(),
                application: (c.application != super::intern::UNKNOWN)
                    .then(|| self.names.name(c.application).clone()),
                host: self.names.name(c.host).clone(),
                server: (c.server != super::intern::UNKNOWN)
                    .then(|| self.names.name(c.server).clone()),
                port: s.port,
                since: s.since,
            })
        }));
        out
    }

    /// The history under `filter` in buckets of `bucket_secs`, covering `window_secs` back from
    /// the log's clock (or everything kept, with `None`).
    pub fn history_view(
        &self,
        filter: &Filter,
        bucket_secs: u32,
        window_secs: Option<u32>,
    ) -> Vec<HistoryBucket> {
        let Some(first) = self.history.first_minute() else {
            return Vec::new();
        };
        let f = filter.resolve(&self.names);
        let keep = |id: u32| f.matches(&self.names.combo_of(id));
        let bucket_ms = i64::from(bucket_secs.max(60)) * 1000;
        let now = self.now.millis;
        let from = match window_secs {
            Some(w) => (now - i64::from(w) * 1000 + 1).max(first),
            None => first,
        };
        let offset_ms = i64::from(self.now.offset_secs) * 1000;
        let raw = self
            .history
            .buckets(from, now + 1, bucket_ms, offset_ms, keep);
        let active_now: i64 = self
            .stats
            .iter()
            .enumerate()
            .filter(|(id, _)| keep(*id as u32))
            .map(|(_, st)| i64::from(st.active))
            .sum();
        let peaks = self.history.peaks(
            from,
            now + 1,
            bucket_ms,
            offset_ms,
            filter.is_empty(),
            keep,
            active_now,
        );
        let mut out: Vec<HistoryBucket> = Vec::with_capacity(raw.len());
        let mut active = active_now;
        for ((start, c), peak) in raw.iter().zip(peaks).rev() {
            out.push(HistoryBucket {
                start: LogTime {
                    millis: *start,
                    offset_secs: self.now.offset_secs,
                },
                connects: i64::from(c.connects),
                disconnects: i64::from(c.disconnects),
                lost: i64::from(c.lost),
                failures: i64::from(c.failures),
                active_end: active.max(0),
                active_peak: peak.max(active.max(0)),
            });
            active -= Counts::net(c);
        }
        out.reverse();
        out
    }

    /// Session-time percentiles per application under `filter`, most sessions first.
    pub fn durations_by_app(&self, filter: &Filter) -> Vec<AppDurations> {
        let f = filter.resolve(&self.names);
        let mut by_app: HashMap<u32, Durations> = HashMap::new();
        for (id, st) in self.stats.iter().enumerate() {
            let c = self.names.combo_of(id as u32);
            if st.durations.total() > 0 && f.matches(&c) {
                by_app
                    .entry(c.application)
                    .or_default()
                    .merge(&st.durations);
            }
        }
        let mut v: Vec<AppDurations> = by_app
            .into_iter()
            .map(|(app, d)| AppDurations {
                application: self.names.name(app).clone(),
                sessions: d.total(),
                p50_ms: d.percentile(50.0).unwrap_or(0),
                p90_ms: d.percentile(90.0).unwrap_or(0),
                p99_ms: d.percentile(99.0).unwrap_or(0),
            })
            .collect();
        v.sort_by(|a, b| {
            b.sessions
                .cmp(&a.sessions)
                .then_with(|| a.application.cmp(&b.application))
        });
        v
    }
}
