//! The connection events the parser produces and the store consumes.
//!
//! Events borrow their text from the log buffer, so the parse → store path allocates nothing.

/// Milliseconds since the Unix epoch (UTC), taken from the log line itself.
pub type Millis = i64;

/// A point in log time: UTC milliseconds plus the zone offset the log printed.
/// Which source (log) an event came from: its position in the engine's source list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SourceId(pub u16);

impl SourceId {
    /// The position as an index into per-source vectors.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogTime {
    /// Milliseconds since the Unix epoch, UTC.
    pub millis: Millis,
    /// The offset of the log's time zone east of UTC, in seconds (for display only).
    pub offset_secs: i32,
}

/// Why a connection attempt failed: one stable key per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureReason {
    PasswordFailed,
    RoleMissing,
    DatabaseMissing,
    RoleLimit,
    DatabaseLimit,
    TooManyClients,
    ReservedSlots,
    LoginNotPermitted,
    HbaReject,
    NoHbaEntry,
    PermissionDenied,
    StartupShutdown,
    NotAccepting,
    AuthTimeout,
    Other,
}

impl FailureReason {
    /// Every reason, in display order.
    pub const ALL: [FailureReason; 15] = [
        Self::PasswordFailed,
        Self::RoleMissing,
        Self::DatabaseMissing,
        Self::RoleLimit,
        Self::DatabaseLimit,
        Self::TooManyClients,
        Self::ReservedSlots,
        Self::LoginNotPermitted,
        Self::HbaReject,
        Self::NoHbaEntry,
        Self::PermissionDenied,
        Self::StartupShutdown,
        Self::NotAccepting,
        Self::AuthTimeout,
        Self::Other,
    ];

    /// The stable key used in JSON and on screen (`password_failed`, ...).
    pub fn key(self) -> &'static str {
        match self {
            Self::PasswordFailed => "password_failed",
            Self::RoleMissing => "role_missing",
            Self::DatabaseMissing => "database_missing",
            Self::RoleLimit => "role_limit",
            Self::DatabaseLimit => "database_limit",
            Self::TooManyClients => "too_many_clients",
            Self::ReservedSlots => "reserved_slots",
            Self::LoginNotPermitted => "login_not_permitted",
            Self::HbaReject => "hba_reject",
            Self::NoHbaEntry => "no_hba_entry",
            Self::PermissionDenied => "permission_denied",
            Self::StartupShutdown => "startup_shutdown",
            Self::NotAccepting => "not_accepting",
            Self::AuthTimeout => "auth_timeout",
            Self::Other => "other",
        }
    }

    /// Index into per-reason arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// How a session ended other than by its client (logged as FATAL before the `disconnection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndCause {
    /// `terminating connection due to administrator command` (pg_terminate_backend, shutdown).
    Administrator,
    /// Idle-session or idle-in-transaction timeout.
    IdleTimeout,
    /// `connection to client lost`.
    ClientLost,
    /// Recovery conflict, crash of another process, postmaster exit, replication timeout.
    ServerSide,
}

/// What the server did, as far as sessions are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerChange {
    /// `starting PostgreSQL ...`
    Starting,
    /// `database system is ready to accept connections` (also read-only).
    Ready,
    /// `received fast/smart/immediate shutdown request`.
    ShutdownRequested,
    /// `database system is shut down`.
    ShutDown,
    /// `terminating any other active server processes`: a backend crashed.
    CrashReset,
    /// `all server processes terminated; reinitializing`.
    Reinitializing,
}

/// PostgreSQL 18's `connection ready: setup total=... ms, fork=... ms, authentication=... ms`,
/// in microseconds (the log prints milliseconds with three decimals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SetupTimes {
    /// From the postmaster accepting the connection to the backend being ready.
    pub total_us: u32,
    /// Forking the backend.
    pub fork_us: u32,
    /// Authenticating the client.
    pub auth_us: u32,
}

/// The authentication method of a `connection authenticated` line (PostgreSQL 14+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    Trust,
    Reject,
    Md5,
    Password,
    ScramSha256,
    Gss,
    Sspi,
    Ident,
    Peer,
    Pam,
    Ldap,
    Radius,
    Cert,
    Bsd,
    OAuth,
    /// A method this version does not know.
    Other,
}

impl AuthMethod {
    /// Reads the word after `method=`.
    pub fn from_word(w: &[u8]) -> AuthMethod {
        match w {
            b"trust" => Self::Trust,
            b"reject" => Self::Reject,
            b"md5" => Self::Md5,
            b"password" => Self::Password,
            b"scram-sha-256" => Self::ScramSha256,
            b"gss" => Self::Gss,
            b"sspi" => Self::Sspi,
            b"ident" => Self::Ident,
            b"peer" => Self::Peer,
            b"pam" => Self::Pam,
            b"ldap" => Self::Ldap,
            b"radius" => Self::Radius,
            b"cert" => Self::Cert,
            b"bsd" => Self::Bsd,
            b"oauth" => Self::OAuth,
            _ => Self::Other,
        }
    }

    /// The word as pg_hba.conf spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Trust => "trust",
            Self::Reject => "reject",
            Self::Md5 => "md5",
            Self::Password => "password",
            Self::ScramSha256 => "scram-sha-256",
            Self::Gss => "gss",
            Self::Sspi => "sspi",
            Self::Ident => "ident",
            Self::Peer => "peer",
            Self::Pam => "pam",
            Self::Ldap => "ldap",
            Self::Radius => "radius",
            Self::Cert => "cert",
            Self::Bsd => "bsd",
            Self::OAuth => "oauth",
            Self::Other => "other",
        }
    }
}

/// One connection-relevant fact read from the log. Text fields are raw bytes from the log
/// (possibly invalid UTF-8 and hostile); `None` when the log did not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind<'a> {
    /// `connection received: host=H [port=P]`.
    Received,
    /// `connection authorized: user=U database=D [application_name=A]` (and replication);
    /// `ssl`: what `SSL enabled (...)` said inside its parentheses.
    Authorized {
        replication: bool,
        ssl: Option<&'a [u8]>,
    },
    /// `connection authenticated: identity="I" method=M (file:line)` (PostgreSQL 14+); a
    /// `user="U" method=trust` line has no identity.
    Authenticated {
        method: AuthMethod,
        identity: Option<&'a [u8]>,
    },
    /// `connection ready: setup total=... ms, fork=... ms, authentication=... ms` (PostgreSQL 18).
    Ready { setup: SetupTimes },
    /// `disconnection: session time: H:MM:SS.mmm ...`.
    Disconnected { session_millis: Option<u64> },
    /// A failed connection attempt (FATAL during connection set-up).
    Failed { reason: FailureReason },
    /// A FATAL that ends an established session; a `disconnection` line follows.
    Ending { cause: EndCause },
    /// A server lifecycle change.
    Server(ServerChange),
    /// A FATAL not understood: a failure if the session was still starting.
    OtherFatal { message: &'a [u8] },
    /// The DETAIL of the failure the same process just logged, when it tells the reason better
    /// (`Role "x" does not exist.` after a password failure): `reason` is the better one.
    FailureDetail { reason: FailureReason },
}

impl EventKind<'_> {
    /// A detail of a session (its authentication, its setup times), not a connection event of
    /// its own: sources do not count it among their events, so the share of lines that parse
    /// (which re-opens an inferred prefix) reads as before these lines were understood.
    pub fn is_detail(&self) -> bool {
        matches!(
            self,
            EventKind::Authenticated { .. } | EventKind::Ready { .. }
        )
    }
}

/// A parsed connection event with everything the line said about its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionEvent<'a> {
    /// When, by the log's clock.
    pub time: LogTime,
    /// Backend process id.
    pub pid: u32,
    /// `%c` / session_id when the format has it.
    pub session_id: Option<&'a [u8]>,
    /// What happened.
    pub kind: EventKind<'a>,
    /// User name.
    pub user: Option<&'a [u8]>,
    /// Database name.
    pub database: Option<&'a [u8]>,
    /// application_name.
    pub application: Option<&'a [u8]>,
    /// Client host, or `[local]` for the Unix socket.
    pub host: Option<&'a [u8]>,
    /// Client port.
    pub port: Option<u16>,
}

impl<'a> ConnectionEvent<'a> {
    /// An event with only time, pid and kind set.
    pub fn new(time: LogTime, pid: u32, kind: EventKind<'a>) -> Self {
        Self {
            time,
            pid,
            session_id: None,
            kind,
            user: None,
            database: None,
            application: None,
            host: None,
            port: None,
        }
    }
}
