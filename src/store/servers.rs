//! Each server's own state: which sources are one server, its restart / crash state and its
//! log clock (a fleet followed at once: one server's restart is not another's).

use super::ServerInfo;
use crate::model::{LogTime, ServerChange};

impl ServerInfo {
    /// Takes in a change the log tells of.
    pub(super) fn note(&mut self, change: ServerChange, at: LogTime) {
        self.last_change = Some((change, at));
        match change {
            ServerChange::ShutdownRequested => {}
            ServerChange::Ready => self.up_since = Some(at),
            ServerChange::Starting => self.last_restart = Some(at),
            ServerChange::CrashReset => self.last_crash = Some(at),
            ServerChange::ShutDown | ServerChange::Reinitializing => self.up_since = None,
        }
    }
}

/// One server's state as its own sources' logs tell it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerState {
    /// The server's name (empty for a source no name was given for).
    pub name: String,
    /// Its restart / crash state.
    pub info: ServerInfo,
    /// Its log clock: the newest time its sources logged.
    pub now: LogTime,
}

impl ServerState {
    pub(super) fn advance(&mut self, t: LogTime) {
        if t.millis > self.now.millis {
            self.now = t;
        }
    }
}

/// Servers and which source belongs to which.
#[derive(Debug, Default)]
pub(super) struct Servers {
    /// By server index.
    pub(super) states: Vec<ServerState>,
    /// By source: its server index.
    pub(super) index: Vec<Option<u16>>,
}

impl Servers {
    pub(super) fn set(&mut self, source: u16, server: u16, name: &str) {
        let (s, i) = (source as usize, server as usize);
        if self.index.len() <= s {
            self.index.resize(s + 1, None);
        }
        self.index[s] = Some(server);
        if self.states.len() <= i {
            self.states.resize_with(i + 1, ServerState::default);
        }
        self.states[i].name = name.to_string();
    }

    /// The state of source `source`'s server; a source never set becomes a server of its own.
    pub(super) fn of(&mut self, source: u16) -> &mut ServerState {
        let s = source as usize;
        let i = match self.index.get(s).copied().flatten() {
            Some(i) => i as usize,
            None => {
                if self.index.len() <= s {
                    self.index.resize(s + 1, None);
                }
                self.states.push(ServerState::default());
                self.index[s] = Some((self.states.len() - 1) as u16);
                self.states.len() - 1
            }
        };
        &mut self.states[i]
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{ConnectionEvent, EventKind, LogTime, ServerChange, SourceId};
    use crate::store::filter::Filter;
    use crate::store::{Store, StoreConfig};

    fn ev(pid: u32, secs: i64, kind: EventKind<'static>) -> ConnectionEvent<'static> {
        let t = LogTime {
            millis: secs * 1000,
            offset_secs: 0,
        };
        ConnectionEvent::new(t, pid, kind)
    }

    #[test]
    fn one_servers_restart_ends_its_sessions_only_and_is_its_own() {
        let mut s = Store::new(StoreConfig::default());
        // Sources 0 and 1 are server "a" (one log written two ways), 2 is "b".
        s.set_server(0, 0, "a");
        s.set_server(1, 0, "a");
        s.set_server(2, 1, "b");
        let auth = EventKind::Authorized {
            replication: false,
            ssl: None,
        };
        for (src, pid) in [(0, 10), (1, 11), (2, 20), (2, 21)] {
            s.apply(SourceId(src), &ev(pid, 100, EventKind::Received));
            s.apply(SourceId(src), &ev(pid, 100, auth));
        }
        assert_eq!(s.active_sessions(&Filter::default()).len(), 4);
        s.apply(
            SourceId(0),
            &ev(1, 200, EventKind::Server(ServerChange::Starting)),
        );
        s.apply(
            SourceId(0),
            &ev(1, 201, EventKind::Server(ServerChange::Ready)),
        );
        s.apply(
            SourceId(2),
            &ev(
                20,
                150,
                EventKind::Disconnected {
                    session_millis: None,
                },
            ),
        );
        // a's restart ended both of a's sources' sessions; b keeps its open one.
        let left: Vec<u32> = s
            .active_sessions(&Filter::default())
            .iter()
            .map(|x| x.pid)
            .collect();
        assert_eq!(left, [21]);
        let [a, b] = s.servers() else {
            panic!("two servers")
        };
        assert_eq!((a.name.as_str(), b.name.as_str()), ("a", "b"));
        assert_eq!(a.info.up_since.map(|t| t.millis), Some(201_000));
        assert_eq!(a.info.last_restart.map(|t| t.millis), Some(200_000));
        assert_eq!(b.info.last_restart, None);
        assert_eq!((a.now.millis, b.now.millis), (201_000, 150_000));
        // The whole: as with one server.
        assert_eq!(s.server().last_restart.map(|t| t.millis), Some(200_000));
        assert_eq!(s.now().millis, 201_000);
        assert_eq!(s.server_of(1), Some(0));
        // A source never named is a server of its own.
        s.apply(SourceId(5), &ev(50, 300, EventKind::Received));
        assert_eq!(s.server_of(5), Some(2));
        assert_eq!(s.servers()[2].name, "");
    }
}
