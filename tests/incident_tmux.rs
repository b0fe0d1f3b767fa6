//! Incidents end to end: a real PostgreSQL server the test starts (temp dir, own port,
//! logging_collector on), the real binary in a detached tmux pane following its log directory.
//!
//! (a) `max_connections = 20`: a pool of 17 psql sessions as an ordinary role fills every slot
//!     it may use, one more is refused (reserved slots), 3 superuser sessions take the rest and
//!     two more clients get "sorry, too many clients already". The header shows `20/20 active,
//!     0 free` in the alarm style (red, reverse video) and the refusals, the History tab flags the
//!     pool as a leak, and `c` `y` keeps the 20 sessions.
//! (b) wrong passwords for 12 users (11 of them missing roles), 3 each, from 127.0.0.2 (a
//!     loopback address the client binds its socket to) and two from 127.0.0.1: the Failures tab
//!     shows 127.0.0.2 first, flagged, with its rate.
//!
//! Without tmux, a PostgreSQL build or psql the tests say why and return; with `CI=true` they fail.

#[path = "support/pg.rs"]
mod pg;
#[path = "support/tmux.rs"]
mod tmux;

use pg::{Server, Via};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::time::{Duration, Instant};
use tmux::{Tmux, WAIT};

/// Starts the dashboard on `dir` in a 140x40 pane.
fn dashboard(tmux: &Tmux, dir: &std::path::Path) {
    let bin = env!("CARGO_BIN_EXE_pgconn-top");
    let cmd = format!("'{bin}' '{}'", dir.display());
    tmux.ok(&[
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "140",
        "-y",
        "40",
        &cmd,
    ]);
    tmux.wait_text("1 Summary   2 History");
}

/// A server with `conf` and `hba`, started, or None (with the reason said) when this machine
/// cannot run one.
fn server(test: &str, conf: &str, hba: &str) -> Option<Server> {
    if !tmux::available() {
        pg::unavailable(test, "tmux is not installed");
        return None;
    }
    let (build, psql) = pg::newest_runnable(test)?;
    let conf = format!(
        "shared_buffers = '16MB'\nfsync = off\nlogging_collector = on\nlog_directory = 'log'\n\
         log_filename = 'postgresql-%Y-%m-%d_%H%M%S.log'\nlog_connections = on\nlog_disconnections = on\n\
         log_line_prefix = '%m [%p] %q%u@%d '\nlog_timezone = 'UTC'\n{conf}"
    );
    let srv = Server::init(build, psql, &conf, hba);
    srv.pg_ctl(&[], "start");
    Some(srv)
}

fn sql(srv: &Server, q: &str) {
    srv.run(Via::Socket, "postgres", "postgres", "setup", "", q)
        .unwrap_or_else(|e| panic!("{q}: {e}"));
}

/// Waits until the setup sessions' backends are gone (an exiting backend still holds its slot).
fn settled(srv: &Server) {
    let q = "select count(*) from pg_stat_activity where backend_type = 'client backend'";
    let start = Instant::now();
    while srv
        .run(Via::Socket, "postgres", "postgres", "setup", "", q)
        .map_or(true, |n| n.trim() != "1")
    {
        assert!(start.elapsed() < WAIT, "setup sessions still open");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The backend of that last query exits too.
    std::thread::sleep(Duration::from_millis(100));
}

/// The SGR parameters in force where `needle` begins on the styled screen.
fn style_at(styled: &str, needle: &str) -> Vec<String> {
    let line = styled
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not on screen:\n{styled}"));
    let before = &line[..line.find(needle).unwrap()];
    // The parameters of the escape sequences since the last reset.
    let mut params: Vec<String> = Vec::new();
    for seq in before.split("\x1b[").skip(1) {
        let Some(end) = seq.find('m') else { continue };
        for p in seq[..end].split(';') {
            if p.is_empty() || p == "0" {
                params.clear();
            } else {
                params.push(p.to_string());
            }
        }
    }
    params
}

#[test]
fn full_server_shows_alarm_refusals_and_the_leak() {
    let test = "full_server_shows_alarm_refusals_and_the_leak";
    let hba = "local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n";
    let Some(srv) = server(
        test,
        "max_connections = 20\nsuperuser_reserved_connections = 3\n",
        hba,
    ) else {
        return;
    };
    sql(&srv, "create role app login");
    settled(&srv);
    let tmux = Tmux::new("full");
    dashboard(&tmux, &srv.data.join("log"));

    // The pool: every slot an ordinary role may use.
    let mut held = Vec::new();
    for _ in 0..17 {
        held.push(srv.session(Via::V4, "app", "postgres", "pool", "").unwrap());
    }
    let refused = srv.run(Via::V4, "app", "postgres", "pool", "", "select 1");
    assert!(
        refused.as_ref().is_err_and(|e| e.contains("reserved")),
        "{refused:?}"
    );
    for _ in 0..3 {
        held.push(
            srv.session(Via::V4, "postgres", "postgres", "dba", "")
                .unwrap(),
        );
    }
    for _ in 0..2 {
        let r = srv.run(Via::V4, "postgres", "postgres", "dba", "", "select 1");
        assert!(
            r.as_ref().is_err_and(|e| e.contains("too many clients")),
            "{r:?}"
        );
    }

    let s = tmux.wait_text("refused 3");
    assert!(
        s.contains("● 20/20 active, 0 free · refused 3 clients at "),
        "{s}"
    );
    assert!(s.contains("(no free slots)"), "{s}");
    let sgr = style_at(&tmux.styled(), "● 20/20 active");
    // Red is `31`, or palette colour 1 (`38;5;1`) as tmux writes it.
    let red = sgr.iter().any(|p| p == "31") || sgr.windows(3).any(|w| w == ["38", "5", "1"]);
    assert!(
        red && sgr.iter().any(|p| p == "7"),
        "alarm style is red reverse video: {sgr:?}"
    );

    tmux.keys(&["2"]);
    let s = tmux.wait_text("leak suspected: pool");
    assert!(s.contains("17 app open"), "{s}");

    tmux.keys(&["c"]);
    tmux.wait_text("clear everything");
    tmux.keys(&["y"]);
    let s = tmux.wait_for("statistics cleared", |s| s.contains("0 connects"));
    assert!(
        s.contains("● 20/20 active, 0 free"),
        "the sessions stay:\n{s}"
    );
    drop(held);
}

/// A StartupMessage for `user`, then a wrong password whatever the server asks (md5 or SCRAM),
/// from a socket bound to `from`. Returns the server's last message type (`E` for the error).
fn wrong_password(from: Ipv4Addr, port: u16, user: &str) -> u8 {
    let mut s = connect_from(from, port);
    let mut body = Vec::new();
    body.extend_from_slice(&196_608u32.to_be_bytes());
    for (k, v) in [("user", user), ("database", "postgres")] {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut msg = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    msg.extend_from_slice(&body);
    s.write_all(&msg).unwrap();
    loop {
        let (t, payload) = read_msg(&mut s);
        if t != b'R' {
            return t;
        }
        let code = u32::from_be_bytes(payload[..4].try_into().unwrap());
        let reply: Vec<u8> = match code {
            // MD5: any 35 characters that are not the hash.
            5 => format!("md5{}\0", "0".repeat(32)).into_bytes(),
            // SASL: SCRAM-SHA-256 with a client-first message.
            10 => {
                let first = b"n,,n=,r=pgconntopincidenttest";
                let mut r = b"SCRAM-SHA-256\0".to_vec();
                r.extend_from_slice(&(first.len() as u32).to_be_bytes());
                r.extend_from_slice(first);
                r
            }
            // SASL continue: answer with a proof of zeros.
            11 => {
                let text = String::from_utf8_lossy(&payload[4..]).into_owned();
                let nonce = text
                    .split(',')
                    .find_map(|f| f.strip_prefix("r="))
                    .unwrap_or_default()
                    .to_string();
                format!("c=biws,r={nonce},p={}=", "A".repeat(43)).into_bytes()
            }
            3 => b"wrong\0".to_vec(),
            _ => return t,
        };
        let mut m = vec![b'p'];
        m.extend_from_slice(&((reply.len() + 4) as u32).to_be_bytes());
        m.extend_from_slice(&reply);
        s.write_all(&m).unwrap();
    }
}

fn read_msg(s: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut head = [0u8; 5];
    if s.read_exact(&mut head).is_err() {
        return (0, Vec::new());
    }
    let len = u32::from_be_bytes(head[1..].try_into().unwrap()) as usize;
    let mut payload = vec![0u8; len.saturating_sub(4)];
    if s.read_exact(&mut payload).is_err() {
        return (0, Vec::new());
    }
    (head[0], payload)
}

/// A TCP connection to 127.0.0.1:`port` from `from` (bound before connecting, which the
/// standard library cannot do).
fn connect_from(from: Ipv4Addr, port: u16) -> TcpStream {
    use std::os::fd::FromRawFd;
    let sa = |ip: Ipv4Addr, port: u16| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(ip).to_be(),
        },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: plain socket calls on a descriptor this function owns; the addresses are valid
    // sockaddr_in values that live across the calls.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0, "socket");
        let local = sa(from, 0);
        let remote = sa(Ipv4Addr::LOCALHOST, port);
        assert_eq!(
            libc::bind(fd, std::ptr::addr_of!(local).cast(), len),
            0,
            "bind {from}"
        );
        assert_eq!(
            libc::connect(fd, std::ptr::addr_of!(remote).cast(), len),
            0,
            "connect"
        );
        let s = TcpStream::from_raw_fd(fd);
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    }
}

#[test]
fn password_guessing_host_comes_first_in_the_failures_view() {
    let test = "password_guessing_host_comes_first_in_the_failures_view";
    let hba = "local all all trust\nhost all all 127.0.0.0/8 md5\nhost all all ::1/128 md5\n";
    let Some(srv) = server(test, "password_encryption = 'md5'\n", hba) else {
        return;
    };
    sql(&srv, "create role app login password 'app-pw'");
    let tmux = Tmux::new("guess");
    dashboard(&tmux, &srv.data.join("log"));

    let guesser = Ipv4Addr::new(127, 0, 0, 2);
    let users = [
        "admin", "root", "oracle", "test", "guest", "user", "sa", "dba", "web", "backup", "pgsql",
        "app",
    ];
    for round in 0..3 {
        for u in users {
            assert_eq!(
                wrong_password(guesser, srv.port, u),
                b'E',
                "{u} round {round}"
            );
        }
    }
    for _ in 0..2 {
        let r = srv.run(Via::V4, "app", "postgres", "typo", "not-the-pw", "select 1");
        assert!(r.is_err_and(|e| e.contains("password authentication failed")));
    }
    // The dashboard has read them all: 36 + 2.
    tmux.wait_text("38 failures");
    tmux.keys(&["4"]);
    // The whole Failures tab is drawn (not the Summary's last frame under its first lines).
    let s = tmux.wait_for("the Failures tab", |s| {
        s.contains("brute force?") && !s.contains("Active sessions")
    });
    let flag = s.lines().find(|l| l.contains("brute force?")).unwrap();
    assert!(
        flag.contains("127.0.0.2 · 12 users · ") && flag.contains("/min · 36 failures"),
        "{flag}"
    );
    let rows: Vec<&str> = s
        .lines()
        .skip_while(|l| !l.starts_with("│user"))
        .skip(1)
        .take_while(|l| l.starts_with('│'))
        .filter(|l| {
            !l.trim_matches(|c: char| c == '│' || c.is_whitespace())
                .is_empty()
        })
        .collect();
    assert_eq!(
        rows.len(),
        13,
        "12 users from 127.0.0.2, app from 127.0.0.1:\n{s}"
    );
    // Only `app` exists: for the other 11 the server's DETAIL says the role does not exist.
    let guessed = |what: &str| {
        rows[..12]
            .iter()
            .filter(|r| r.contains("127.0.0.2") && r.contains(what) && r.contains("3.0/min"))
            .count()
    };
    assert_eq!(
        (guessed("role does not exist"), guessed("wrong password")),
        (11, 1),
        "{s}"
    );
    assert!(
        rows[12].contains("127.0.0.1") && rows[12].contains("app"),
        "{s}"
    );
    // The sort key changes the order of rows but the flagged host stays on top.
    tmux.keys(&["s"]);
    let s = tmux.wait_text("▾rate");
    let first = s
        .lines()
        .skip_while(|l| !l.starts_with("│user"))
        .nth(1)
        .unwrap();
    assert!(first.contains("127.0.0.2"), "{s}");
}
