//! Compact batches of events: what a worker decoded from one chunk, owned, for the thread that
//! applies them in log order.

use crate::model::{ConnectionEvent, EventKind};
use crate::parse::ChunkState;

/// A span of a batch's arena, `u32::MAX` for none.
#[derive(Clone, Copy)]
struct Span(u32, u32);

const NONE: Span = Span(u32::MAX, 0);

/// One recorded event; its texts live in the batch's arena.
struct Rec {
    time: crate::model::LogTime,
    pid: u32,
    port: Option<u16>,
    kind: EventKind<'static>,
    /// session id, user, database, application, host, and the kind's own text (the message of an
    /// unknown FATAL, an authorized session's SSL, an authenticated identity).
    spans: [Span; 6],
}

/// What a worker decoded from one chunk.
pub(super) struct Batch {
    /// The chunk's place in the input.
    pub seq: u64,
    recs: Vec<Rec>,
    arena: Vec<u8>,
    /// Counts and clock of the chunk.
    pub state: ChunkState,
}

impl Batch {
    /// An empty batch for chunk `seq`.
    pub fn new(seq: u64) -> Batch {
        Batch {
            seq,
            recs: Vec::new(),
            arena: Vec::new(),
            state: ChunkState::default(),
        }
    }

    /// This batch emptied for chunk `seq`, keeping its space (batches are passed back to the
    /// workers once applied, so that they do not grow anew for every chunk).
    pub fn reuse(mut self, seq: u64) -> Batch {
        self.seq = seq;
        self.recs.clear();
        self.arena.clear();
        self.state = ChunkState::default();
        self
    }

    /// Keeps a copy of `ev`.
    pub fn record(&mut self, ev: &ConnectionEvent<'_>) {
        let arena = &mut self.arena;
        let mut span = |v: Option<&[u8]>| match v {
            Some(v) => {
                let at = arena.len() as u32;
                arena.extend_from_slice(v);
                Span(at, v.len() as u32)
            }
            None => NONE,
        };
        let (kind, message) = match ev.kind {
            EventKind::Received => (EventKind::Received, None),
            EventKind::Authorized { replication, ssl } => (
                EventKind::Authorized {
                    replication,
                    ssl: None,
                },
                ssl,
            ),
            EventKind::Authenticated { method, identity } => (
                EventKind::Authenticated {
                    method,
                    identity: None,
                },
                identity,
            ),
            EventKind::Ready { setup } => (EventKind::Ready { setup }, None),
            EventKind::Disconnected { session_millis } => {
                (EventKind::Disconnected { session_millis }, None)
            }
            EventKind::Failed { reason } => (EventKind::Failed { reason }, None),
            EventKind::Ending { cause } => (EventKind::Ending { cause }, None),
            EventKind::Server(change) => (EventKind::Server(change), None),
            EventKind::FailureDetail { reason } => (EventKind::FailureDetail { reason }, None),
            EventKind::OtherFatal { message } => {
                (EventKind::OtherFatal { message: &[] }, Some(message))
            }
        };
        let spans = [
            span(ev.session_id),
            span(ev.user),
            span(ev.database),
            span(ev.application),
            span(ev.host),
            span(message),
        ];
        self.recs.push(Rec {
            time: ev.time,
            pid: ev.pid,
            port: ev.port,
            kind,
            spans,
        });
    }

    /// The bytes its events take.
    pub fn bytes(&self) -> u64 {
        (self.recs.len() * std::mem::size_of::<Rec>() + self.arena.len()) as u64
    }

    /// How many events the batch holds.
    pub fn len(&self) -> usize {
        self.recs.len()
    }

    fn text(&self, s: Span) -> Option<&[u8]> {
        (s.0 != u32::MAX).then(|| {
            let a = s.0 as usize;
            self.arena.get(a..a + s.1 as usize).unwrap_or_default()
        })
    }

    /// Event `k` as the decoder gave it.
    pub fn event(&self, k: usize) -> ConnectionEvent<'_> {
        let r = &self.recs[k];
        let kind = match r.kind {
            EventKind::OtherFatal { .. } => EventKind::OtherFatal {
                message: self.text(r.spans[5]).unwrap_or_default(),
            },
            EventKind::Authorized { replication, .. } => EventKind::Authorized {
                replication,
                ssl: self.text(r.spans[5]),
            },
            EventKind::Authenticated { method, .. } => EventKind::Authenticated {
                method,
                identity: self.text(r.spans[5]),
            },
            other => other,
        };
        ConnectionEvent {
            time: r.time,
            pid: r.pid,
            session_id: self.text(r.spans[0]),
            kind,
            user: self.text(r.spans[1]),
            database: self.text(r.spans[2]),
            application: self.text(r.spans[3]),
            host: self.text(r.spans[4]),
            port: r.port,
        }
    }
}
