//! FATAL and DETAIL messages: refused connection attempts, with their reasons and the names
//! they carry, and the ends of sessions a FATAL reports.

use super::{after, find, quoted_after, MessageFields};
use crate::model::{EndCause, EventKind, FailureReason};

fn hba_fields<'a>(msg: &'a [u8], f: &mut MessageFields<'a>) {
    // ... for host "H", user "U", database "D", no encryption
    let (Some(h), Some(u)) = (find(msg, b"host \""), find(msg, b"\", user \"")) else {
        return;
    };
    if h + 6 <= u {
        f.host = Some(&msg[h + 6..u]);
    }
    let ustart = u + 9;
    match find(&msg[ustart..], b"\", database \"") {
        Some(d) => {
            f.user = Some(&msg[ustart..ustart + d]);
            let dstart = ustart + d + 13;
            if let Some(end) = memchr::memrchr(b'"', msg).filter(|&e| e >= dstart) {
                f.database = Some(&msg[dstart..end]);
            }
        }
        None => {
            if let Some(end) = memchr::memrchr(b'"', msg).filter(|&e| e >= ustart) {
                f.user = Some(&msg[ustart..end]);
            }
        }
    }
}

/// Messages that quote a role or a database name, by the text before and after the name, and
/// the failure each reports.
const QUOTED: [(&[u8], &[u8], FailureReason); 4] = [
    (b"role \"", b"\" does not exist", FailureReason::RoleMissing),
    (
        b"role \"",
        b"\" is not permitted to log in",
        FailureReason::LoginNotPermitted,
    ),
    (
        b"database \"",
        b"\" does not exist",
        FailureReason::DatabaseMissing,
    ),
    (
        b"database \"",
        b"\" is not currently accepting connections",
        FailureReason::NotAccepting,
    ),
];

/// Starts of the messages that end a session, and why it ended; the first that fits counts
/// (`terminating connection ` alone is any other server-side end).
const ENDINGS: [(&[u8], EndCause); 6] = [
    (
        b"terminating connection due to administrator command",
        EndCause::Administrator,
    ),
    (b"terminating connection due to idle", EndCause::IdleTimeout),
    (
        b"terminating connection due to transaction timeout",
        EndCause::IdleTimeout,
    ),
    (b"connection to client lost", EndCause::ClientLost),
    (b"terminating connection ", EndCause::ServerSide),
    (b"terminating walsender", EndCause::ServerSide),
];

/// A FATAL message: a failed attempt, the end of a session, or something else.
pub(super) fn fatal<'a>(
    msg: &'a [u8],
    sqlstate: Option<&[u8]>,
) -> (EventKind<'a>, MessageFields<'a>) {
    use FailureReason as R;
    let mut f = MessageFields::default();
    let failed = |reason| EventKind::Failed { reason };
    let kind = if find(msg, b"authentication failed for user \"").is_some() {
        f.user = quoted_after(msg, b"for user \"");
        failed(R::PasswordFailed)
    } else if msg.starts_with(b"role \"") || msg.starts_with(b"database \"") {
        let quoted = QUOTED.iter().find_map(|&(lead, end, reason)| {
            Some((lead, after(msg, lead)?.strip_suffix(end)?, reason))
        });
        match quoted {
            Some((b"role \"", name, reason)) => {
                f.user = Some(name);
                failed(reason)
            }
            Some((_, name, reason)) => {
                f.database = Some(name);
                failed(reason)
            }
            None => EventKind::OtherFatal { message: msg },
        }
    } else if msg.starts_with(b"too many connections for role \"") {
        f.user = quoted_after(msg, b"role \"");
        failed(R::RoleLimit)
    } else if msg.starts_with(b"too many connections for database \"") {
        f.database = quoted_after(msg, b"database \"");
        failed(R::DatabaseLimit)
    } else if msg.starts_with(b"sorry, too many clients already") {
        failed(R::TooManyClients)
    } else if msg.starts_with(b"remaining connection slots are reserved") {
        failed(R::ReservedSlots)
    } else if msg.starts_with(b"permission denied for database \"") {
        f.database = quoted_after(msg, b"database \"");
        failed(R::PermissionDenied)
    } else if msg.starts_with(b"pg_hba.conf rejects ") {
        hba_fields(msg, &mut f);
        failed(R::HbaReject)
    } else if msg.starts_with(b"no pg_hba.conf entry for ") {
        hba_fields(msg, &mut f);
        failed(R::NoHbaEntry)
    } else if msg.starts_with(b"the database system is ") {
        failed(R::StartupShutdown)
    } else if msg.starts_with(b"canceling authentication due to timeout") {
        failed(R::AuthTimeout)
    } else if let Some(&(_, cause)) = ENDINGS.iter().find(|(start, _)| msg.starts_with(start)) {
        EventKind::Ending { cause }
    } else {
        by_sqlstate(sqlstate).unwrap_or(EventKind::OtherFatal { message: msg })
    };
    (kind, f)
}

/// `Role "x" does not exist.` (what a password failure's DETAIL says of a missing role).
pub(super) fn detail(msg: &[u8]) -> Option<(EventKind<'static>, MessageFields<'_>)> {
    let rest = after(msg, b"Role \"")?;
    let end = find(rest, b"\" does not exist.")?;
    let f = MessageFields {
        user: Some(&rest[..end]),
        ..MessageFields::default()
    };
    Some((
        EventKind::FailureDetail {
            reason: FailureReason::RoleMissing,
        },
        f,
    ))
}

/// For messages in another language: the SQLSTATE still says what happened.
fn by_sqlstate(code: Option<&[u8]>) -> Option<EventKind<'static>> {
    use FailureReason as R;
    let failed = |reason| Some(EventKind::Failed { reason });
    match code? {
        b"28P01" => failed(R::PasswordFailed),
        b"3D000" => failed(R::DatabaseMissing),
        b"42501" => failed(R::PermissionDenied),
        b"57P03" => failed(R::StartupShutdown),
        b"53300" => failed(R::TooManyClients),
        b"57P01" => Some(EventKind::Ending {
            cause: EndCause::Administrator,
        }),
        b"57P05" | b"25P03" | b"25P04" => Some(EventKind::Ending {
            cause: EndCause::IdleTimeout,
        }),
        b"08006" => Some(EventKind::Ending {
            cause: EndCause::ClientLost,
        }),
        _ => None,
    }
}
