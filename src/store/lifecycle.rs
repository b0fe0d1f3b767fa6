//! How each connection event moves a session: authorized, disconnected, refused, ended by a
//! server restart or crash, or given up while pending.

use super::*;

impl Store {
    pub(super) fn authorize(
        &mut self,
        source: u16,
        key: (u16, u32),
        sid: u64,
        ev: &ConnectionEvent<'_>,
    ) {
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

    pub(super) fn disconnect(
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

    pub(super) fn fail(
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

    pub(super) fn server_change(
        &mut self,
        source: u16,
        ev: &ConnectionEvent<'_>,
        change: ServerChange,
    ) {
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
    pub(super) fn end_lost(&mut self, key: (u16, u32), at: LogTime) {
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
    pub(super) fn expire_pending(&mut self) {
        let cutoff = self.now.millis - PENDING_TIMEOUT_MS;
        let before = self.sessions.len();
        self.sessions
            .retain(|_, s| s.phase != Phase::Pending || s.received.millis >= cutoff);
        self.incomplete += (before - self.sessions.len()) as u64;
    }
}
