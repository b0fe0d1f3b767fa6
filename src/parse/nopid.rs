//! Sessions in a log whose `log_line_prefix` has no process id (no `%p`, no `%c`): a
//! `disconnection` is paired with the oldest open session of the same user and database, so
//! that connects, disconnects, failures, the active total and the counts by database and user
//! stay exact; which application or host a session had is a best guess.

use crate::model::{EndCause, EventKind, FailureReason, LogTime, ServerChange};
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

/// Pseudo process ids start above any real one (Linux's pid_max is at most 2^22).
const FIRST_PSEUDO_PID: u32 = 0x4000_0000;
/// Open sessions remembered; past this the oldest are forgotten (the store caps sessions too).
const MAX_OPEN: usize = 100_000;
/// FATALs that end sessions, remembered for their `disconnection` lines.
const MAX_ENDINGS: usize = 1024;
/// A refusal follows its `connection authorized` line within this long (and a
/// `disconnection` the FATAL that ended its session).
const REFUSAL_WINDOW_MS: i64 = 2_000;

/// Pseudo process ids for the sessions of a log without `%p`.
#[derive(Debug, Default)]
pub(crate) struct NoPidSessions {
    /// Open sessions by (user, database), oldest first.
    open: HashMap<u64, VecDeque<u32>>,
    count: usize,
    next: u32,
    /// The last session authorized, for a refusal logged right after it.
    last_authorized: Option<Authorized>,
    /// Why sessions are ending (FATALs naming no session), oldest first, for the
    /// `disconnection` lines their backends log right after (a shutdown interleaves them).
    endings: VecDeque<(EndCause, LogTime)>,
}

/// The last session authorized.
#[derive(Debug, Clone, Copy)]
struct Authorized {
    key: u64,
    user: u64,
    database: u64,
    pid: u32,
    time: LogTime,
}

fn hash_of(v: impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

fn names_key(user: Option<&[u8]>, database: Option<&[u8]>) -> u64 {
    hash_of((user, database))
}

/// Failures PostgreSQL can log after `connection authorized` (it checks the database, the
/// role's login right and the connection limits only then).
fn may_follow_authorization(reason: FailureReason) -> bool {
    matches!(
        reason,
        FailureReason::DatabaseMissing
            | FailureReason::RoleMissing
            | FailureReason::RoleLimit
            | FailureReason::DatabaseLimit
            | FailureReason::ReservedSlots
            | FailureReason::LoginNotPermitted
            | FailureReason::PermissionDenied
            | FailureReason::Other
    )
}

impl NoPidSessions {
    fn fresh(&mut self) -> u32 {
        self.next = self.next.wrapping_add(1);
        FIRST_PSEUDO_PID | (self.next & 0x3FFF_FFFF)
    }

    /// The pseudo pid an event of this kind and these names belongs to; `None` when no
    /// session can be told (a `connection received`, a FATAL that ends some session).
    pub(crate) fn pid_for(
        &mut self,
        kind: &EventKind<'_>,
        time: LogTime,
        user: Option<&[u8]>,
        database: Option<&[u8]>,
    ) -> Option<u32> {
        match *kind {
            EventKind::Ending { cause } => {
                if self.endings.len() >= MAX_ENDINGS {
                    self.endings.pop_front();
                }
                self.endings.push_back((cause, time));
                None
            }
            EventKind::Received
            | EventKind::OtherFatal { .. }
            | EventKind::FailureDetail { .. }
            | EventKind::Authenticated { .. }
            | EventKind::Ready { .. } => None,
            EventKind::Authorized { replication, .. } => {
                let pid = self.fresh();
                if !replication {
                    let key = names_key(user, database);
                    if self.count >= MAX_OPEN {
                        self.open.clear();
                        self.count = 0;
                    }
                    self.open.entry(key).or_default().push_back(pid);
                    self.count += 1;
                    self.last_authorized = Some(Authorized {
                        key,
                        user: hash_of(user),
                        database: hash_of(database),
                        pid,
                        time,
                    });
                }
                Some(pid)
            }
            EventKind::Disconnected { .. } => {
                let key = names_key(user, database);
                match self.open.get_mut(&key).and_then(VecDeque::pop_front) {
                    Some(pid) => {
                        self.count -= 1;
                        Some(pid)
                    }
                    None => Some(self.fresh()),
                }
            }
            EventKind::Failed { reason } => Some(self.refused(reason, time, user, database)),
            EventKind::Server(ServerChange::ShutdownRequested) => {
                // Sessions still end one by one after a shutdown request.
                Some(self.fresh())
            }
            EventKind::Server(_) => {
                // Every session of the source ends; the store does the same.
                self.open.clear();
                self.count = 0;
                self.last_authorized = None;
                Some(self.fresh())
            }
        }
    }

    /// The cause the oldest pending session-ending FATAL gave, for this `disconnection`.
    pub(crate) fn take_ending(&mut self, time: LogTime) -> Option<EndCause> {
        while let Some((cause, at)) = self.endings.pop_front() {
            if time.millis - at.millis <= REFUSAL_WINDOW_MS {
                return Some(cause);
            }
        }
        None
    }

    /// A failure right after a `connection authorized` whose names it does not contradict
    /// refuses that session; any other failure is an attempt of its own.
    fn refused(
        &mut self,
        reason: FailureReason,
        time: LogTime,
        user: Option<&[u8]>,
        database: Option<&[u8]>,
    ) -> u32 {
        if let Some(a) = self.last_authorized {
            let (key, pid) = (a.key, a.pid);
            let recent = (0..=REFUSAL_WINDOW_MS).contains(&(time.millis - a.time.millis));
            let open = self.open.get(&key).and_then(|q| q.back()) == Some(&pid);
            let agrees = user.is_none_or(|u| hash_of(Some(u)) == a.user)
                && database.is_none_or(|d| hash_of(Some(d)) == a.database);
            if may_follow_authorization(reason) && recent && open && agrees {
                self.last_authorized = None;
                if let Some(q) = self.open.get_mut(&key) {
                    q.pop_back();
                    self.count -= 1;
                }
                return pid;
            }
        }
        self.fresh()
    }
}
