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

/// A pending entry with no follow-up for this long (log time) was a client that gave up.
pub(crate) const PENDING_TIMEOUT_MS: i64 = 60_000;
/// Sessions tracked at most (memory bound against logs without disconnections).
const MAX_SESSIONS: usize = 100_000;

/// Settings of the store.
#[derive(Debug, Clone, Copy)]
pub struct StoreConfig {
    /// Entries kept in the live feed.
    pub feed_capacity: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            feed_capacity: 10_000,
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
    sessions: std::collections::HashMap<(u16, u32), Session, foldhash::fast::RandomState>,
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
            trends: trend::Trends::default(),
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
        if self.applied % 4096 == 0 {
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

    fn authorize(&mut self, source: u16, key: (u16, u32), sid: u64, ev: &ConnectionEvent<'_>) {
        let prior = self.sessions.get(&key).copied();
        let (host, port, received, mut extra) = match prior {
            Some(s) if s.phase == Phase::Pending => {
                (s.host, s.port.or(ev.port), s.received, s.extra)
            }
            other => {
                if other.is_some() {
                    self.end_lost(key, ev.time);
                }
                let host = self.names.sym(ev.host);
                (host, ev.port, ev.time, extras::Extras::default())
            }
        };
        if let EventKind::Authorized { ssl, .. } = ev.kind {
            extra.ssl = self.texts.id(ssl);
        }
        let host = if host == intern::UNKNOWN {
            self.names.sym(ev.host)
        } else {
            host
        };
        let combo = Combo {
            database: self.names.sym(ev.database),
            user: self.names.sym(ev.user),
            application: self.names.sym(ev.application),
            host,
            server: self.server_sym(source),
        };
        let id = self.combo_id(combo);
        let st = &mut self.stats[id as usize];
        st.active += 1;
        st.connects += 1;
        self.trends.change(ev.time.millis, combo, 1);
        self.history.add(ev.time.millis, id, Counter::Connect, 1);
        let mut fev = *ev;
        fev.port = port;
        let seq = self.push_feed(source, &fev, id, FeedKind::Connect);
        self.sessions.insert(
            key,
            Session {
                phase: Phase::Active,
                sid,
                combo: id,
                host,
                port,
                received,
                since: ev.time,
                feed_seq: seq,
                cause: None,
                extra,
            },
        );
    }

    fn disconnect(
        &mut self,
        source: u16,
        key: (u16, u32),
        ev: &ConnectionEvent<'_>,
        millis: Option<u64>,
    ) {
        let (id, millis, cause, port) = match self.sessions.get(&key).copied() {
            Some(s) if s.phase == Phase::Active => {
                self.sessions.remove(&key);
                let st = &mut self.stats[s.combo as usize];
                st.active = st.active.saturating_sub(1);
                self.trends
                    .change(ev.time.millis, self.names.combo_of(s.combo), -1);
                let seen = u64::try_from(ev.time.millis - s.since.millis).ok();
                (s.combo, millis.or(seen), s.cause, s.port.or(ev.port))
            }
            Some(s) if s.phase == Phase::Replication => {
                self.sessions.remove(&key);
                return;
            }
            other => {
                // Began before the log (or its start was not logged): a disconnect, never a negative count.
                if other.is_some() {
                    self.sessions.remove(&key);
                }
                let combo = Combo {
                    database: self.names.sym(ev.database),
                    user: self.names.sym(ev.user),
                    application: self.names.sym(ev.application),
                    host: self.names.sym(ev.host),
                    server: self.server_sym(source),
                };
                (self.combo_id(combo), millis, None, ev.port)
            }
        };
        let st = &mut self.stats[id as usize];
        st.disconnects += 1;
        if cause == Some(EndCause::Administrator) {
            st.terminated += 1;
        }
        if let Some(ms) = millis {
            st.durations.record(ms);
        }
        self.history.add(ev.time.millis, id, Counter::Disconnect, 1);
        let mut fev = *ev;
        fev.port = port;
        self.push_feed(source, &fev, id, FeedKind::Disconnect { millis, cause });
    }

    fn fail(
        &mut self,
        source: u16,
        key: (u16, u32),
        ev: &ConnectionEvent<'_>,
        reason: FailureReason,
    ) {
        let prior = self.sessions.remove(&key);
        // What the refused session's `connection authorized` named, for fields the FATAL omits.
        let mut authorized: Option<Combo> = None;
        let mut host = None;
        let mut port = ev.port;
        if let Some(s) = prior {
            host = Some(s.host).filter(|&h| h != intern::UNKNOWN);
            port = port.or(s.port);
            if s.phase == Phase::Active {
                // Authorized, then refused: the session never existed.
                authorized = Some(self.names.combo_of(s.combo));
                let st = &mut self.stats[s.combo as usize];
                st.active = st.active.saturating_sub(1);
                st.connects = st.connects.saturating_sub(1);
                self.trends
                    .change(ev.time.millis, self.names.combo_of(s.combo), -1);
                if s.since.millis >= self.cleared_at {
                    self.history
                        .add(s.since.millis, s.combo, Counter::Connect, -1);
                }
                self.feed.mark_refused(s.feed_seq);
            }
        }
        let named = |v: Option<&[u8]>, names: &mut Interner, known: Option<Sym>| match v {
            Some(_) => names.sym(v),
            None => known.unwrap_or(intern::UNKNOWN),
        };
        let combo = Combo {
            database: named(ev.database, &mut self.names, authorized.map(|c| c.database)),
            user: named(ev.user, &mut self.names, authorized.map(|c| c.user)),
            application: match authorized {
                Some(c) => c.application,
                None => self.names.sym(ev.application),
            },
            host: match ev.host {
                Some(h) => self.names.sym(Some(h)),
                None => host.unwrap_or(intern::UNKNOWN),
            },
            server: self.server_sym(source),
        };
        let id = self.combo_id(combo);
        self.stats[id as usize].failures[reason.index()] += 1;
        self.failures.record(id, reason, ev.time);
        self.failures.remember(source, ev.pid, id, reason, ev.time);
        self.note_capacity(reason, id, ev.time);
        self.history.add(ev.time.millis, id, Counter::Failure, 1);
        let mut fev = *ev;
        fev.port = port;
        self.push_feed(source, &fev, id, FeedKind::Failed { reason });
    }

    fn server_change(&mut self, source: u16, ev: &ConnectionEvent<'_>, change: ServerChange) {
        // The figures of every server together (one server: its own), and its own.
        self.server.note(change, ev.time);
        self.servers.of(source).info.note(change, ev.time);
        if change == ServerChange::ShutdownRequested {
            return;
        }
        let server = self.server_of(source);
        let keys: Vec<(u16, u32)> = self
            .sessions
            .keys()
            .filter(|k| k.0 == source || (server.is_some() && self.server_of(k.0) == server))
            .copied()
            .collect();
        let mut ended = 0;
        for key in keys {
            if self
                .sessions
                .get(&key)
                .is_some_and(|s| s.phase == Phase::Active)
            {
                ended += 1;
            }
            self.end_lost(key, ev.time);
        }
        if ended > 0 || matches!(change, ServerChange::CrashReset | ServerChange::Starting) {
            // Its combination names only the server, so a `server=` filter finds it.
            let id = self.combo_id(Combo {
                server: self.server_sym(source),
                ..Combo::default()
            });
            self.push_feed(source, ev, id, FeedKind::Reset { change, ended });
        }
    }

    /// Ends a session without a disconnection line (pid reuse, restart, crash).
    fn end_lost(&mut self, key: (u16, u32), at: LogTime) {
        let Some(s) = self.sessions.remove(&key) else {
            return;
        };
        if s.phase == Phase::Active {
            let st = &mut self.stats[s.combo as usize];
            st.active = st.active.saturating_sub(1);
            st.lost += 1;
            self.trends
                .change(at.millis, self.names.combo_of(s.combo), -1);
            self.history.add(at.millis, s.combo, Counter::Lost, 1);
        }
    }

    /// Drops pending entries older than the authentication timeout.
    fn expire_pending(&mut self) {
        let cutoff = self.now.millis - PENDING_TIMEOUT_MS;
        let before = self.sessions.len();
        self.sessions
            .retain(|_, s| s.phase != Phase::Pending || s.received.millis >= cutoff);
        self.incomplete += (before - self.sessions.len()) as u64;
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
