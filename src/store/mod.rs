//! The session model and the statistics kept from it, driven only by connection events and
//! the log's own clock.

pub mod capacity;
pub mod durations;
pub mod extras;
pub mod failures;
pub mod feed;
pub mod filter;
pub mod history;
pub mod intern;
pub mod leaks;
mod lifecycle;
pub mod servers;
pub mod setup;
pub mod trend;
pub mod views;

use crate::model::{
    ConnectionEvent, EndCause, EventKind, FailureReason, LogTime, Millis, ServerChange, SourceId,
};
use durations::Durations;
use feed::{Feed, FeedEvent, FeedKind};
use history::{Counter, History};
use intern::{Combo, ComboId, Interner, Sym};
pub use servers::ServerState;
use servers::Servers;

/// A map keyed by what the store makes itself (symbols, combination ids, pids), never by raw
/// client bytes: a fast seeded hasher.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A pending entry with no follow-up for this long (log time) was a client that gave up.
pub(crate) const PENDING_TIMEOUT_MS: i64 = 60_000;
/// Sessions tracked at most (memory bound against logs without disconnections).
const MAX_SESSIONS: usize = 100_000;

/// Settings of the store.
#[derive(Debug, Clone, Copy)]
pub struct StoreConfig {
    /// Entries kept in the live feed.
    pub feed_capacity: usize,
    /// Whether each name's active count is followed minute by minute for the Summary rows'
    /// sparklines: only the dashboard draws them, so a snapshot (`--once`) leaves them.
    pub trends: bool,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            feed_capacity: 10_000,
            trends: true,
        }
    }
}

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// `connection received`, not yet authorized: never counted as active.
    Pending,
    /// Authorized and not refused: counted.
    Active,
    /// A walsender (replication connection): not a client backend, so never counted; kept
    /// only so that its disconnection is recognised.
    Replication,
}

/// One backend process's session.
#[derive(Debug, Clone, Copy)]
struct Session {
    phase: Phase,
    /// Hash of `%c` / session_id, 0 when the log has none.
    sid: u64,
    combo: ComboId,
    host: Sym,
    port: Option<u16>,
    received: LogTime,
    since: LogTime,
    feed_seq: u64,
    cause: Option<EndCause>,
    /// Authentication, SSL and setup times, for its details.
    extra: extras::Extras,
}

/// Running totals of one combination.
#[derive(Debug, Clone, Default)]
pub struct ComboStats {
    pub active: u32,
    pub connects: u64,
    pub disconnects: u64,
    pub lost: u64,
    pub terminated: u64,
    pub failures: [u64; FailureReason::ALL.len()],
    pub durations: Durations,
}

/// The server's state as the log tells it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerInfo {
    pub last_change: Option<(ServerChange, LogTime)>,
    pub up_since: Option<LogTime>,
    pub last_restart: Option<LogTime>,
    pub last_crash: Option<LogTime>,
}

/// Every figure pgconn-top shows, kept incrementally.
#[derive(Debug)]
pub struct Store {
    names: Interner,
    /// Open sessions by (source, pid): a fast seeded hasher for these small keys.
    sessions: FastMap<(u16, u32), Session>,
    stats: Vec<ComboStats>,
    history: History,
    feed: Feed,
    server: ServerInfo,
    now: LogTime,
    /// Per server: its own state and log clock (see [`Store::set_server`]).
    servers: Servers,
    incomplete: u64,
    untracked: u64,
    applied: u64,
    /// Log time of the last clear: history before it is gone.
    cleared_at: Millis,
    /// Connection slots: configured and learnt (store::capacity).
    capacity: capacity::Capacity,
    /// Failed attempts by combination and reason (store::failures).
    failures: failures::Failures,
    /// PostgreSQL 18 setup times by application and host.
    setup: setup::SetupStats,
    /// Identity and SSL texts of the sessions' extras.
    texts: extras::Texts,
    /// Each name's active peaks over the last hour.
    trends: trend::Trends,
    /// The server name of each source, by source id ([`intern::UNKNOWN`] when not given).
    server_of: Vec<Sym>,
    /// How many distinct names `server_of` holds.
    server_count: usize,
}

fn hash_sid(sid: Option<&[u8]>) -> u64 {
    use std::hash::{Hash, Hasher};
    let Some(s) = sid else { return 0 };
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish() | 1
}

impl Store {
    /// An empty store.
    pub fn new(cfg: StoreConfig) -> Store {
        Store {
            names: Interner::default(),
            sessions: Default::default(),
            stats: Vec::new(),
            history: History::default(),
            feed: Feed::new(cfg.feed_capacity),
            server: ServerInfo::default(),
            now: LogTime::default(),
            servers: Servers::default(),
            incomplete: 0,
            untracked: 0,
            applied: 0,
            cleared_at: Millis::MIN,
            capacity: capacity::Capacity::default(),
            failures: failures::Failures::default(),
            setup: setup::SetupStats::default(),
            texts: extras::Texts::default(),
            trends: if cfg.trends {
                trend::Trends::default()
            } else {
                trend::Trends::off()
            },
            server_of: Vec::new(),
            server_count: 0,
        }
    }

    /// Names the server source `source` belongs to (its label): every session, failure and
    /// feed entry of that source then carries it as its [`intern::Dim::Server`] name. Sources
    /// with one name share a server. Give names before the source's first event.
    pub fn set_server_name(&mut self, source: SourceId, name: &str) {
        let sym = if name.is_empty() {
            intern::UNKNOWN
        } else {
            self.names.sym(Some(name.as_bytes()))
        };
        let i = source.index();
        if self.server_of.len() <= i {
            self.server_of.resize(i + 1, intern::UNKNOWN);
        }
        self.server_of[i] = sym;
        let s = &self.server_of;
        self.server_count = (0..s.len())
            .filter(|&i| s[i] != intern::UNKNOWN && !s[..i].contains(&s[i]))
            .count();
    }

    /// The server symbol of a source ([`intern::UNKNOWN`] when it was not named).
    pub fn server_sym(&self, source: u16) -> Sym {
        self.server_of
            .get(usize::from(source))
            .copied()
            .unwrap_or(intern::UNKNOWN)
    }

    /// How many distinct server names were given.
    pub fn server_count(&self) -> usize {
        self.server_count
    }

    /// True with more than one server: the server dimension is shown.
    pub fn is_fleet(&self) -> bool {
        self.server_count() > 1
    }

    /// The distinct server names given, in the order first given.
    pub fn server_names(&self) -> Vec<Sym> {
        let mut v: Vec<Sym> = Vec::new();
        for &s in &self.server_of {
            if s != intern::UNKNOWN && !v.contains(&s) {
                v.push(s);
            }
        }
        v
    }

    /// Clears the statistics (totals, failures, history, the feed) and keeps the sessions that
    /// are open, with their names: they are the server's state, not a statistic.
    pub fn clear(&mut self) {
        for st in &mut self.stats {
            *st = ComboStats {
                active: st.active,
                ..ComboStats::default()
            };
        }
        self.history.clear();
        self.feed.clear();
        self.setup.clear();
        self.trends.clear(self.now.millis);
        self.incomplete = 0;
        self.untracked = 0;
        self.cleared_at = self.now.millis;
        self.capacity.clear_counts();
        self.failures.clear();
    }

    /// The log's clock: the newest event time seen.
    pub fn now(&self) -> LogTime {
        self.now
    }

    /// Moves the log clock forward (e.g. from lines that were not events).
    pub fn advance_clock(&mut self, t: LogTime) {
        if t.millis > self.now.millis {
            self.now = t;
        }
    }

    /// Moves the log clock, and the clock of source `source`'s server, forward.
    pub fn advance_clock_of(&mut self, source: u16, t: LogTime) {
        self.advance_clock(t);
        self.servers.of(source).advance(t);
    }

    /// Makes source `source` part of server `server` (an index into the names the caller
    /// keeps, e.g. the plan's distinct server names), named `name`: sources of one server share
    /// its restart / crash state and clock, and a restart logged by any of them ends the
    /// sessions of all of them. A source never set is a server of its own.
    /// The name is also the source's [`intern::Dim::Server`] value (see
    /// [`Store::set_server_name`]).
    pub fn set_server(&mut self, source: u16, server: u16, name: &str) {
        self.servers.set(source, server, name);
        self.set_server_name(SourceId(source), name);
    }

    /// Each server's name, state and log clock, by server index (only servers set with
    /// [`Store::set_server`] or seen since).
    pub fn servers(&self) -> &[ServerState] {
        &self.servers.states
    }

    /// The server index of source `source`, if it was set or has been seen.
    pub fn server_of(&self, source: u16) -> Option<u16> {
        self.servers.index.get(source as usize).copied().flatten()
    }

    fn combo_id(&mut self, c: Combo) -> ComboId {
        let id = self.names.combo(c);
        if self.stats.len() <= id as usize {
            self.stats.resize_with(id as usize + 1, ComboStats::default);
        }
        id
    }

    fn push_feed(
        &mut self,
        source: u16,
        ev: &ConnectionEvent<'_>,
        combo: ComboId,
        kind: FeedKind,
    ) -> u64 {
        self.feed.push(FeedEvent {
            seq: 0,
            time: ev.time,
            kind,
            source,
            pid: ev.pid,
            combo,
            port: ev.port,
            refused: false,
        })
    }

    /// Applies one event from source `source`.
    pub fn apply(&mut self, source: SourceId, ev: &ConnectionEvent<'_>) {
        let source = source.0;
        self.advance_clock_of(source, ev.time);
        self.applied += 1;
        if self.applied.is_multiple_of(4096) {
            self.expire_pending();
        }
        let key = (source, ev.pid);
        let sid = hash_sid(ev.session_id);
        // A different session id on the same pid is a different session: the old one was lost.
        if sid != 0 {
            if let Some(s) = self.sessions.get(&key) {
                if s.sid != 0 && s.sid != sid {
                    self.end_lost(key, ev.time);
                }
            }
        }
        match ev.kind {
            EventKind::Received => {
                if self.sessions.contains_key(&key) {
                    self.end_lost(key, ev.time);
                }
                if self.sessions.len() >= MAX_SESSIONS {
                    self.expire_pending();
                    if self.sessions.len() >= MAX_SESSIONS {
                        self.untracked += 1;
                        return;
                    }
                }
                let host = self.names.sym(ev.host);
                let s = Session {
                    phase: Phase::Pending,
                    sid,
                    combo: 0,
                    host,
                    port: ev.port,
                    received: ev.time,
                    since: ev.time,
                    feed_seq: 0,
                    cause: None,
                    extra: extras::Extras::default(),
                };
                self.sessions.insert(key, s);
            }
            EventKind::Authorized {
                replication: false, ..
            } => self.authorize(source, key, sid, ev),
            EventKind::Authorized {
                replication: true, ..
            } => {
                if let Some(s) = self.sessions.get_mut(&key) {
                    s.phase = Phase::Replication;
                }
            }
            EventKind::Disconnected { session_millis } => {
                self.disconnect(source, key, ev, session_millis)
            }
            EventKind::Failed { reason } => self.fail(source, key, ev, reason),
            EventKind::Ending { cause } => {
                if let Some(s) = self.sessions.get_mut(&key) {
                    s.cause = Some(cause);
                }
            }
            EventKind::OtherFatal { .. } => {
                if self
                    .sessions
                    .get(&key)
                    .is_some_and(|s| s.phase == Phase::Pending)
                {
                    self.fail(source, key, ev, FailureReason::Other);
                }
            }
            EventKind::Server(change) => self.server_change(source, ev, change),
            EventKind::FailureDetail { reason } => self.failures.detail(source, ev.pid, reason),
            EventKind::Authenticated { .. } | EventKind::Ready { .. } => self.extras(key, ev),
        }
    }

    /// The interned names.
    pub fn names(&self) -> &Interner {
        &self.names
    }

    /// The live feed.
    pub fn feed(&self) -> &Feed {
        &self.feed
    }

    /// The server's state.
    pub fn server(&self) -> ServerInfo {
        self.server
    }

    /// Per-combination totals, indexed by combination id.
    pub fn combo_stats(&self) -> &[ComboStats] {
        &self.stats
    }

    /// The history.
    pub fn history(&self) -> &History {
        &self.history
    }
}
