//! Tests of [`super`]: the message parser on real and hostile lines.

use super::*;
use crate::model::{EndCause, FailureReason};
use FailureReason as R;

fn c(sev: Severity, m: &str) -> (EventKind<'_>, MessageFields<'_>) {
    classify(sev, m.as_bytes(), None, (None, None)).unwrap_or_else(|| panic!("unclassified: {m}"))
}

#[test]
fn authorized_keeps_spaces_and_drops_ssl() {
    let (k, f) = c(
        Severity::Log,
        "connection authorized: user=readonly database=production application_name=metabase reporting SSL enabled (protocol=TLSv1.3, cipher=X, bits=256)",
    );
    assert_eq!(
        k,
        EventKind::Authorized {
            replication: false,
            ssl: Some(&b"protocol=TLSv1.3, cipher=X, bits=256"[..])
        }
    );
    assert_eq!(f.application, Some(&b"metabase reporting"[..]));
    let (_, f) = c(
        Severity::Log,
        "connection authorized: user=report user database=my db",
    );
    assert_eq!(
        (f.user, f.database, f.application),
        (Some(&b"report user"[..]), Some(&b"my db"[..]), None)
    );
    let (k, f) = c(
        Severity::Log,
        "replication connection authorized: user=rep application_name=walreceiver",
    );
    assert_eq!(
        k,
        EventKind::Authorized {
            replication: true,
            ssl: None
        }
    );
    assert_eq!(f.user, Some(&b"rep"[..]));
}

#[test]
fn only_a_closed_tail_is_the_sessions_ssl_or_gss() {
    // An application name may hold the words of a tail; the message ends in `)` when a real
    // tail follows the names.
    let (k, f) = c(
        Severity::Log,
        "connection authorized: user=u database=d application_name=x GSS (y",
    );
    assert_eq!(f.application, Some(&b"x GSS (y"[..]));
    assert!(matches!(k, EventKind::Authorized { ssl: None, .. }));
    let (k, f) = c(
        Severity::Log,
        "connection authorized: user=u database=d application_name=x GSS (y GSS (authenticated=yes, encrypted=no, principal=p)",
    );
    assert_eq!(f.application, Some(&b"x GSS (y"[..]));
    assert!(matches!(k, EventKind::Authorized { ssl: None, .. }));
}

#[test]
fn known_names_settle_lookalike_text() {
    let m = b"connection authorized: user=u database=fake database=d application_name=fake application_name=long app";
    let (_, f) = classify(
        Severity::Log,
        m,
        None,
        (Some(b"u database=fake"), Some(b"d application_name=fake")),
    )
    .unwrap();
    assert_eq!((f.user, f.database), (None, None), "the known names stand");
    assert_eq!(f.application, Some(&b"long app"[..]));
    let (_, f) = classify(Severity::Log, m, None, (Some(b"wrong"), None)).unwrap();
    assert_eq!(f.user, Some(&b"u"[..]), "falls back to the plain split");
}

#[test]
fn disconnection_with_long_hours() {
    let (k, f) = c(
        Severity::Log,
        "disconnection: session time: 123:04:05.678 user=report user database=my db host=::1 port=5",
    );
    assert_eq!(
        k,
        EventKind::Disconnected {
            session_millis: Some(((123 * 60 + 4) * 60 + 5) * 1000 + 678)
        }
    );
    assert_eq!(
        (f.user, f.database, f.host, f.port),
        (
            Some(&b"report user"[..]),
            Some(&b"my db"[..]),
            Some(&b"::1"[..]),
            Some(5)
        )
    );
    let (_, f) = c(
        Severity::Log,
        "disconnection: session time: 0:00:00.001 user=a database=b host=[local]",
    );
    assert_eq!(f.host, Some(&b"[local]"[..]));
}

#[test]
fn every_failure_wording() {
    let cases = [
        ("password authentication failed for user \"app_user\"", R::PasswordFailed),
        ("Ident authentication failed for user \"x\"", R::PasswordFailed),
        ("role \"ghost\" does not exist", R::RoleMissing),
        ("database \"nonexistent\" does not exist", R::DatabaseMissing),
        ("too many connections for role \"limited\"", R::RoleLimit),
        ("too many connections for database \"test\"", R::DatabaseLimit),
        ("sorry, too many clients already", R::TooManyClients),
        ("remaining connection slots are reserved for non-replication superuser connections", R::ReservedSlots),
        ("remaining connection slots are reserved for roles with the SUPERUSER attribute", R::ReservedSlots),
        ("role \"nologin_role\" is not permitted to log in", R::LoginNotPermitted),
        ("pg_hba.conf rejects connection for host \"127.0.0.1\", user \"blocked\", database \"postgres\", no encryption", R::HbaReject),
        ("no pg_hba.conf entry for host \"::1\", user \"app_user\", database \"test\", no encryption", R::NoHbaEntry),
        ("permission denied for database \"private\"", R::PermissionDenied),
        ("the database system is starting up", R::StartupShutdown),
        ("the database system is shutting down", R::StartupShutdown),
        ("database \"tpl\" is not currently accepting connections", R::NotAccepting),
        ("canceling authentication due to timeout", R::AuthTimeout),
    ];
    for (m, want) in cases {
        assert_eq!(
            c(Severity::Fatal, m).0,
            EventKind::Failed { reason: want },
            "{m}"
        );
    }
    let (_, f) = c(Severity::Fatal, cases[10].0);
    assert_eq!(
        (f.host, f.user, f.database),
        (
            Some(&b"127.0.0.1"[..]),
            Some(&b"blocked"[..]),
            Some(&b"postgres"[..])
        )
    );
    let (_, f) = c(Severity::Fatal, cases[3].0);
    assert_eq!(f.database, Some(&b"nonexistent"[..]));
}

#[test]
fn session_endings_and_server_changes() {
    assert_eq!(
        c(
            Severity::Fatal,
            "terminating connection due to administrator command"
        )
        .0,
        EventKind::Ending {
            cause: EndCause::Administrator
        }
    );
    // Each end by its own words; the generic `terminating connection ` only after the rest.
    for (msg, cause) in [
        (
            "terminating connection due to idle-in-transaction timeout",
            EndCause::IdleTimeout,
        ),
        (
            "terminating connection due to transaction timeout",
            EndCause::IdleTimeout,
        ),
        ("connection to client lost", EndCause::ClientLost),
        (
            "terminating connection because of crash of another server process",
            EndCause::ServerSide,
        ),
        (
            "terminating walsender process due to replication timeout",
            EndCause::ServerSide,
        ),
    ] {
        assert_eq!(
            c(Severity::Fatal, msg).0,
            EventKind::Ending { cause },
            "{msg}"
        );
    }
    assert_eq!(
        c(
            Severity::Log,
            "all server processes terminated; reinitializing"
        )
        .0,
        EventKind::Server(ServerChange::Reinitializing)
    );
    assert!(classify(
        Severity::Log,
        b"checkpoint starting: time",
        None,
        (None, None)
    )
    .is_none());
    assert_eq!(
        classify(
            Severity::Fatal,
            b"la autentificaci\xc3\xb3n fall\xc3\xb3",
            Some(b"28P01"),
            (None, None)
        )
        .unwrap()
        .0,
        EventKind::Failed {
            reason: R::PasswordFailed
        }
    );
}

#[test]
fn short_and_long_searches_agree_with_memmem() {
    let hay = b"user=a port=1 user=b port=22 database= port=";
    let long = hay.repeat(10);
    for needle in [&b" port="[..], b"user=", b"=", b"x", b"port=22 d", b""] {
        for h in [&hay[..], &long[..], &hay[..3], b""] {
            assert_eq!(
                find(h, needle),
                memchr::memmem::find(h, needle),
                "{needle:?}"
            );
            assert_eq!(
                rfind(h, needle),
                memchr::memmem::rfind(h, needle),
                "{needle:?}"
            );
        }
    }
}

#[test]
fn a_detail_naming_a_missing_role() {
    let (k, f) = c(
        Severity::Detail,
        "Role \"gh\"ost\" does not exist.\n\tConnection matched pg_hba.conf line 94: \"host all all 127.0.0.1/32 scram-sha-256\"",
    );
    assert_eq!(
        k,
        EventKind::FailureDetail {
            reason: R::RoleMissing
        }
    );
    assert_eq!(f.user, Some(&b"gh\"ost"[..]));
    for other in [
        "Connection matched pg_hba.conf line 94: \"host all all 127.0.0.1/32 md5\"",
        "User does not have CONNECT privilege.",
        "Role \"x\" does not exist",
    ] {
        assert!(
            classify(Severity::Detail, other.as_bytes(), None, (None, None)).is_none(),
            "{other}"
        );
    }
    assert_eq!(Severity::from_tag(b"DETAIL"), Severity::Detail);
}

#[test]
fn authenticated_and_ready_lines_of_pg18() {
    let (k, _) = c(
        Severity::Log,
        "connection authenticated: identity=\"app_user\" method=scram-sha-256 (/var/lib/postgresql/15/main/pg_hba.conf:122)",
    );
    assert_eq!(
        k,
        EventKind::Authenticated {
            method: crate::model::AuthMethod::ScramSha256,
            identity: Some(&b"app_user"[..])
        }
    );
    let (k, _) = c(
        Severity::Log,
        "connection authenticated: user=\"postgres\" method=trust (/etc/pg_hba.conf:120)",
    );
    assert_eq!(
        k,
        EventKind::Authenticated {
            method: crate::model::AuthMethod::Trust,
            identity: None
        }
    );
    let (k, _) = c(
        Severity::Log,
        "connection ready: setup total=10.876 ms, fork=0.444 ms, authentication=0.379 ms",
    );
    assert_eq!(
        k,
        EventKind::Ready {
            setup: crate::model::SetupTimes {
                total_us: 10_876,
                fork_us: 444,
                auth_us: 379
            }
        }
    );
    // Hostile or cut lines never panic and never invent a time.
    for m in [
        "connection ready: setup total=",
        "connection ready: setup total=x ms",
        "connection ready: setup total=99999999999.9 ms, fork=.5 ms",
        "connection authenticated: identity=\"",
        "connection authenticated: identity=\" method=",
        "connection authenticated: ",
    ] {
        let _ = classify(Severity::Log, m.as_bytes(), None, (None, None));
    }
    assert!(classify(
        Severity::Log,
        b"connection ready: setup total=x ms",
        None,
        (None, None)
    )
    .is_none());
}

#[test]
fn session_times_and_ports_read_as_digits() {
    assert_eq!(session_millis(b"0:00:01.692 user=u"), Some(1692));
    assert_eq!(
        session_millis(b"12:34:56.7"),
        Some(((12 * 60 + 34) * 60 + 56) * 1000 + 700)
    );
    assert_eq!(session_millis(b"100:00:00.0005"), Some(100 * 3600 * 1000));
    assert_eq!(session_millis(b"0:00:02"), Some(2000));
    assert_eq!(session_millis(b"0:x0:02.000"), None);
    assert_eq!(session_millis(b"99999999999999999:00:00.000"), None);
    assert_eq!(port(b"5432 x"), Some(5432));
    assert_eq!(port(b"65536"), None);
    assert_eq!(port(b"x"), None);
}
