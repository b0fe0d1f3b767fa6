//! What a session's details show beyond its names: the authentication method and identity
//! (`connection authenticated`, PostgreSQL 14+), SSL (`connection authorized: ... SSL enabled
//! (...)`) and the PostgreSQL 18 setup times. Kept per open session in a few bytes; the texts
//! are interned in a capped table of their own.

use super::feed::FeedEvent;
use super::intern::Name;
use super::{Phase, Store};
use crate::model::{AuthMethod, ConnectionEvent, EventKind, LogTime, SetupTimes};
use std::sync::Arc;

/// Texts come from clients: the names' seeded hasher (fast on short keys, unlike SipHash).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::quality::RandomState>;

/// Distinct identity and SSL texts kept; later ones read `(other)`.
const MAX_TEXTS: usize = 4096;
/// A text longer than this is cut (an identity is a role or a certificate's name).
const MAX_TEXT_LEN: usize = 256;
/// Feed entries a session's details list at most.
pub const MAX_SESSION_LINES: usize = 20;

/// Index into [`Texts`]; 0 is no text.
pub type TextId = u16;

/// A capped table of texts: identities and SSL descriptions repeat across sessions.
#[derive(Debug)]
pub struct Texts {
    list: Vec<Name>,
    index: HashMap<Name, TextId>,
}

impl Default for Texts {
    fn default() -> Self {
        Texts {
            list: vec![Arc::from(&b""[..]), Arc::from(&b"(other)"[..])],
            index: HashMap::default(),
        }
    }
}

impl Texts {
    /// The id of `text` (0 for none), interning it while there is room.
    pub fn id(&mut self, text: Option<&[u8]>) -> TextId {
        let Some(t) = text else { return 0 };
        let t = &t[..t.len().min(MAX_TEXT_LEN)];
        if let Some(&id) = self.index.get(t) {
            return id;
        }
        if self.list.len() >= MAX_TEXTS {
            return 1;
        }
        let name: Name = Arc::from(t);
        let id = self.list.len() as TextId;
        self.list.push(name.clone());
        self.index.insert(name, id);
        id
    }

    /// The text of `id`; `None` for 0.
    pub fn get(&self, id: TextId) -> Option<&Name> {
        (id != 0).then(|| self.list.get(usize::from(id))).flatten()
    }
}

/// A session's extras (a few bytes, copied with the session).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extras {
    /// The method of its `connection authenticated` line.
    pub method: Option<AuthMethod>,
    /// The authenticated identity (a [`Texts`] id).
    pub identity: TextId,
    /// What `SSL enabled (...)` said (a [`Texts`] id); 0: no SSL.
    pub ssl: TextId,
    /// Its PostgreSQL 18 setup times.
    pub setup: Option<SetupTimes>,
}

/// The details of one open session beyond what the sessions table shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDetails {
    /// When its `connection received` line came (or its authorization, without one).
    pub received: LogTime,
    pub method: Option<AuthMethod>,
    pub identity: Option<Name>,
    /// `None`: the log did not say SSL was enabled.
    pub ssl: Option<Name>,
    pub setup: Option<SetupTimes>,
    /// Its newest feed entries, oldest first (at most [`MAX_SESSION_LINES`]).
    pub lines: Vec<FeedEvent>,
}

impl Store {
    /// Notes a session's authentication or setup times; setup times also count per
    /// application and host.
    pub(super) fn extras(&mut self, key: (u16, u32), ev: &ConnectionEvent<'_>) {
        match ev.kind {
            EventKind::Authenticated { method, identity } => {
                let identity = self.texts.id(identity);
                if let Some(s) = self.sessions.get_mut(&key) {
                    s.extra.method = Some(method);
                    s.extra.identity = identity;
                }
            }
            EventKind::Ready { setup } => {
                let (app, host) = match self.sessions.get_mut(&key) {
                    Some(s) if s.phase == Phase::Active => {
                        s.extra.setup = Some(setup);
                        let c = self.names.combo_of(s.combo);
                        (c.application, c.host)
                    }
                    _ => (self.names.sym(ev.application), self.names.sym(ev.host)),
                };
                self.setup.record(app, host, setup);
            }
            _ => {}
        }
    }

    /// PostgreSQL 18 setup times by application and host.
    pub fn setup_times(&self) -> &super::setup::SetupStats {
        &self.setup
    }

    /// The details of the open session (`source`, `pid`), if it is open.
    pub fn session_details(&self, source: u16, pid: u32) -> Option<SessionDetails> {
        let s = self.sessions.get(&(source, pid))?;
        if s.phase != Phase::Active {
            return None;
        }
        let x = s.extra;
        let mut lines: Vec<FeedEvent> = self
            .feed
            .iter()
            .rev()
            .filter(|e| e.source == source && e.pid == pid && e.time.millis >= s.received.millis)
            .take(MAX_SESSION_LINES)
            .copied()
            .collect();
        lines.reverse();
        Some(SessionDetails {
            received: s.received,
            method: x.method,
            identity: self.texts.get(x.identity).cloned(),
            ssl: self.texts.get(x.ssl).cloned(),
            setup: x.setup,
            lines,
        })
    }

    /// Each name's active peaks over the last hour (the Summary rows' sparklines).
    pub fn trends(&self) -> &super::trend::Trends {
        &self.trends
    }
}
