//! The metrics' own view of the sessions: fed the same connection events as the store, it keeps
//! counters that only go up (a dashboard `c` does not reach them) and the active sessions gauge.
//! Plain synchronous code driven by the log's own clock.

use super::names::{Names, Sym, NONE, UNKNOWN};
use super::table::{Hist, Key, SetupTime, Table};
use super::Dims;
use crate::model::{ConnectionEvent, EndCause, EventKind, FailureReason, ServerChange};
use std::collections::HashMap;

/// Sessions tracked at most (as the store).
const MAX_SESSIONS: usize = 100_000;
/// A pending connection older than this (log time) was a client that gave up.
const PENDING_TIMEOUT_MS: i64 = 60_000;

/// How a session ended: the `how` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// Its `disconnection` line.
    Disconnect = 0,
    /// Ended by `pg_terminate_backend` (or a shutdown), then its `disconnection` line.
    Terminated = 1,
    /// Never seen to end: its pid (or session id) served a new session.
    Lost = 2,
    /// Ended by a restart or crash of its server.
    Reset = 3,
}

impl How {
    /// Every way, by tag.
    pub const ALL: [How; 4] = [How::Disconnect, How::Terminated, How::Lost, How::Reset];

    /// The label value.
    pub fn name(self) -> &'static str {
        match self {
            How::Disconnect => "disconnect",
            How::Terminated => "terminated",
            How::Lost => "lost",
            How::Reset => "reset",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Pending,
    Active,
    Replication,
}

/// One backend's session.
#[derive(Debug, Clone, Copy)]
struct Open {
    phase: Phase,
    sid: u64,
    /// database, user, application, host (all four, whatever the labels).
    dims: [Sym; 4],
    received: i64,
    since: i64,
    terminated: bool,
}

/// What one server (one or more sources) shows beyond its sessions.
#[derive(Debug, Clone, Default)]
pub struct ServerFigures {
    pub name: String,
    pub lines_read: u64,
    pub lines_unparsed: u64,
    pub up: bool,
    /// Seconds between an entry's log time and its reading, for the newest entries read.
    pub lag_secs: f64,
    pub max_connections: Option<u64>,
    /// (dimension, label value, sessions open on this server) per leak suspect.
    pub leaks: Vec<(&'static str, String, i64)>,
}

/// Per source: which server it is, and what was read of it at the last look.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct SourceMark {
    pub server: u16,
    pub read: u64,
    pub unparsed: u64,
    pub last_event_millis: Option<i64>,
    pub fresh: bool,
}

/// Every figure the endpoint serves.
#[derive(Debug)]
pub struct State {
    pub(super) dims: Dims,
    pub(super) cap: usize,
    pub(super) names: Names,
    pub(super) servers: Vec<ServerFigures>,
    pub(super) sources: Vec<SourceMark>,
    sessions: HashMap<(u16, u32), Open, foldhash::fast::RandomState>,
    applied: u64,
    now: i64,
    /// Open sessions by series key (exact; capped when encoded).
    pub(super) active: HashMap<Key, i64>,
    pub(super) started: Table<u64>,
    pub(super) ended: Table<u64>,
    pub(super) refused: Table<u64>,
    pub(super) failed: Table<u64>,
    pub(super) durations: Table<Hist>,
    /// PostgreSQL 18 connection setup (`connection ready: setup total=`) by application.
    pub(super) setup: Table<Hist<SetupTime>>,
}

fn hash_sid(sid: Option<&[u8]>) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let Some(s) = sid else { return 0 };
    let mut h = foldhash::fast::FixedState::with_seed(7).build_hasher();
    h.write(s);
    h.finish() | 1
}

impl State {
    /// Empty figures with `cap` named series per metric over the dimensions `dims`.
    pub fn new(dims: Dims, cap: usize) -> State {
        State {
            dims,
            cap,
            names: Names::new(cap.saturating_mul(16).max(1024)),
            servers: Vec::new(),
            sources: Vec::new(),
            sessions: HashMap::default(),
            applied: 0,
            now: i64::MIN,
            active: HashMap::new(),
            started: Table::new(cap),
            ended: Table::new(cap),
            refused: Table::new(cap),
            failed: Table::new(cap),
            durations: Table::new(cap),
            setup: Table::new(cap),
        }
    }

    /// Source `source` (its engine index) belongs to server `name`; sources of one name share
    /// one server.
    pub fn add_source(&mut self, source: u16, name: &str) {
        // A file's name can hold control characters too.
        let name = super::names::label_value(name.as_bytes());
        let server = match self.servers.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                self.servers.push(ServerFigures {
                    name: name.clone(),
                    up: true,
                    ..ServerFigures::default()
                });
                self.servers.len() - 1
            }
        } as u16;
        let i = source as usize;
        if self.sources.len() <= i {
            self.sources.resize(i + 1, SourceMark::default());
        }
        self.sources[i].server = server;
    }

    fn server_of(&mut self, source: u16) -> u16 {
        if source as usize >= self.sources.len() {
            let name = format!("source{source}");
            self.add_source(source, &name);
        }
        self.sources[source as usize].server
    }

    /// The label dimensions of a session's names.
    fn masked(&self, dims: [Sym; 4]) -> [Sym; 4] {
        let on = self.dims.0;
        std::array::from_fn(|i| if on[i] { dims[i] } else { NONE })
    }

    fn key(&self, server: u16, tag: u8, dims: [Sym; 4]) -> Key {
        Key {
            server,
            tag,
            dims: self.masked(dims),
        }
    }

    /// Applies one event of source `source`.
    pub fn event(&mut self, source: u16, ev: &ConnectionEvent<'_>) {
        let server = self.server_of(source);
        self.now = self.now.max(ev.time.millis);
        let mark = &mut self.sources[source as usize];
        mark.last_event_millis = Some(ev.time.millis);
        mark.fresh = true;
        self.applied += 1;
        if self.applied.is_multiple_of(4096) {
            self.expire_pending();
        }
        if self.names.wants_collection(self.sessions.len()) {
            self.collect_names();
        }
        let at = (source, ev.pid);
        let sid = hash_sid(ev.session_id);
        if sid != 0
            && self
                .sessions
                .get(&at)
                .is_some_and(|s| s.sid != 0 && s.sid != sid)
        {
            self.end(server, at, How::Lost);
        }
        match ev.kind {
            EventKind::Received => {
                self.end(server, at, How::Lost);
                if self.sessions.len() >= MAX_SESSIONS {
                    self.expire_pending();
                    if self.sessions.len() >= MAX_SESSIONS {
                        return;
                    }
                }
                let host = self.names.sym(ev.host);
                let t = ev.time.millis;
                let open = Open {
                    phase: Phase::Pending,
                    sid,
                    dims: [UNKNOWN, UNKNOWN, UNKNOWN, host],
                    received: t,
                    since: t,
                    terminated: false,
                };
                self.sessions.insert(at, open);
            }
            EventKind::Authorized {
                replication: false, ..
            } => {
                let host = match self.sessions.get(&at).copied() {
                    Some(s) if s.phase == Phase::Pending && s.dims[3] != UNKNOWN => s.dims[3],
                    Some(s) if s.phase == Phase::Pending => self.names.sym(ev.host),
                    Some(_) => {
                        self.end(server, at, How::Lost);
                        self.names.sym(ev.host)
                    }
                    None => self.names.sym(ev.host),
                };
                let dims = [
                    self.names.sym(ev.database),
                    self.names.sym(ev.user),
                    self.names.sym(ev.application),
                    host,
                ];
                let key = self.key(server, 0, dims);
                *self.active.entry(key).or_default() += 1;
                *self.started.slot(key) += 1;
                let received = self
                    .sessions
                    .get(&at)
                    .map_or(ev.time.millis, |s| s.received);
                let open = Open {
                    phase: Phase::Active,
                    sid,
                    dims,
                    received,
                    since: ev.time.millis,
                    terminated: false,
                };
                self.sessions.insert(at, open);
            }
            EventKind::Authorized {
                replication: true, ..
            } => {
                if let Some(s) = self.sessions.get_mut(&at) {
                    s.phase = Phase::Replication;
                }
            }
            EventKind::Disconnected { session_millis } => {
                self.disconnect(server, at, ev, session_millis);
            }
            EventKind::Failed { reason } => self.fail(server, at, ev, reason),
            EventKind::Ending { cause } => {
                if let Some(s) = self.sessions.get_mut(&at) {
                    s.terminated |= cause == EndCause::Administrator;
                }
            }
            EventKind::OtherFatal { .. } => {
                if self
                    .sessions
                    .get(&at)
                    .is_some_and(|s| s.phase == Phase::Pending)
                {
                    self.fail(server, at, ev, FailureReason::Other);
                }
            }
            // Failures count under the server's own wording (as `truth.json` does); a DETAIL
            // that refines it only feeds the dashboard's failures view.
            EventKind::FailureDetail { .. } | EventKind::Authenticated { .. } => {}
            EventKind::Ready { setup } => {
                let app = self.sessions.get(&at).map_or(UNKNOWN, |s| s.dims[2]);
                let key = self.key(server, 0, [NONE, NONE, app, NONE]);
                self.setup
                    .slot(key)
                    .observe(f64::from(setup.total_us) / 1e6);
            }
            EventKind::Server(ServerChange::ShutdownRequested) => {}
            EventKind::Server(_) => {
                let mine: Vec<(u16, u32)> = self
                    .sessions
                    .keys()
                    .filter(|k| k.0 == source)
                    .copied()
                    .collect();
                for k in mine {
                    self.end(server, k, How::Reset);
                }
            }
        }
    }

    fn disconnect(
        &mut self,
        server: u16,
        at: (u16, u32),
        ev: &ConnectionEvent<'_>,
        millis: Option<u64>,
    ) {
        let (dims, how, millis) = match self.sessions.remove(&at) {
            Some(s) if s.phase == Phase::Active => {
                self.leave(server, s.dims);
                let seen = u64::try_from(ev.time.millis - s.since).ok();
                let how = match s.terminated {
                    true => How::Terminated,
                    false => How::Disconnect,
                };
                (s.dims, how, millis.or(seen))
            }
            Some(s) if s.phase == Phase::Replication => return,
            _ => {
                // Began before the log: counted as ended, never as a negative gauge.
                let dims = [
                    self.names.sym(ev.database),
                    self.names.sym(ev.user),
                    self.names.sym(ev.application),
                    self.names.sym(ev.host),
                ];
                (dims, How::Disconnect, millis)
            }
        };
        *self.ended.slot(self.key(server, how as u8, dims)) += 1;
        if let Some(ms) = millis {
            let app = [NONE, NONE, dims[2], NONE];
            let key = self.key(server, 0, app);
            self.durations.slot(key).observe(ms as f64 / 1000.0);
        }
    }

    fn fail(&mut self, server: u16, at: (u16, u32), ev: &ConnectionEvent<'_>, why: FailureReason) {
        let prior = self.sessions.remove(&at);
        let mut known = [UNKNOWN; 4];
        if let Some(s) = prior {
            known = s.dims;
            if s.phase == Phase::Active {
                self.leave(server, s.dims);
                *self.refused.slot(self.key(server, 0, s.dims)) += 1;
            }
        }
        let user = match ev.user {
            Some(_) => self.names.sym(ev.user),
            None => known[1],
        };
        let host = match ev.host {
            Some(_) => self.names.sym(ev.host),
            None => known[3],
        };
        let key = self.key(server, why.index() as u8, [NONE, user, NONE, host]);
        *self.failed.slot(key) += 1;
    }

    /// One session of these names left the active gauge.
    fn leave(&mut self, server: u16, dims: [Sym; 4]) {
        let key = self.key(server, 0, dims);
        if let Some(v) = self.active.get_mut(&key) {
            *v -= 1;
            if *v <= 0 {
                self.active.remove(&key);
            }
        }
    }

    /// Ends a session without its disconnection line.
    fn end(&mut self, server: u16, at: (u16, u32), how: How) {
        if let Some(s) = self.sessions.remove(&at) {
            if s.phase == Phase::Active {
                self.leave(server, s.dims);
                *self.ended.slot(self.key(server, how as u8, s.dims)) += 1;
            }
        }
    }

    /// Frees the names no open session and no series refers to.
    fn collect_names(&mut self) {
        let mut used = vec![false; self.names.slots()];
        let mut mark = |dims: &[Sym; 4]| {
            for &d in dims {
                if let Some(u) = used.get_mut(d as usize) {
                    *u = true;
                }
            }
        };
        self.sessions.values().for_each(|s| mark(&s.dims));
        self.active.keys().for_each(|k| mark(&k.dims));
        for t in [&self.started, &self.ended, &self.refused, &self.failed] {
            t.iter().for_each(|(k, _)| mark(&k.dims));
        }
        self.durations.iter().for_each(|(k, _)| mark(&k.dims));
        self.setup.iter().for_each(|(k, _)| mark(&k.dims));
        self.names
            .collect(|s| used.get(s as usize).copied().unwrap_or(true));
    }

    fn expire_pending(&mut self) {
        let cutoff = self.now.saturating_sub(PENDING_TIMEOUT_MS);
        self.sessions
            .retain(|_, s| s.phase != Phase::Pending || s.received >= cutoff);
    }

    /// Sessions open on each server whose `dim` (0 database .. 3 host) is `sym`.
    pub(super) fn open_with(&self, dim: usize, sym: Sym) -> Vec<i64> {
        let mut per = vec![0i64; self.servers.len()];
        for (k, s) in &self.sessions {
            if s.phase == Phase::Active && s.dims[dim] == sym {
                if let Some(m) = self.sources.get(k.0 as usize) {
                    if let Some(n) = per.get_mut(m.server as usize) {
                        *n += 1;
                    }
                }
            }
        }
        per
    }

    /// Open sessions by server (exact, whatever the cap).
    pub fn active_by_server(&self) -> Vec<i64> {
        let mut per = vec![0i64; self.servers.len()];
        for (k, v) in &self.active {
            if let Some(n) = per.get_mut(k.server as usize) {
                *n += v;
            }
        }
        per
    }

    /// The servers' own figures.
    pub fn servers(&self) -> &[ServerFigures] {
        &self.servers
    }
}
