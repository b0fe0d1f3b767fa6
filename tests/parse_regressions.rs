//! Parser regressions found on real-looking input: each test fails on the code before its fix.

use pgconn_top::engine::{Engine, EngineConfig};

const PREFIX: &str = "%m [%p] %q%u@%d ";

/// An engine that has read `log` as a stderr log written with [`PREFIX`].
fn replay(log: impl std::io::Read) -> Engine {
    let mut e = Engine::new(EngineConfig {
        prefix: Some(PREFIX.into()),
        ..EngineConfig::default()
    });
    let id = e.add_source("regression.log");
    e.read_to_end(id, log).unwrap();
    e
}

/// A database name holding a newline: PostgreSQL prints the rest of the name on a tab-led
/// continuation line. The FATAL is still a failed attempt, and its session does not stay open.
#[test]
fn fatal_with_a_tab_led_continuation_is_a_failure() {
    let log = b"2026-11-27 20:21:03.093 CET [71] [unknown]@[unknown] LOG:  connection received: host=10.0.0.1 port=5000\n\
2026-11-27 20:21:03.095 CET [71] bob@a FATAL:  database \"a\n\
\tb\" does not exist\n\
2026-11-27 20:21:03.096 CET [72] [unknown]@[unknown] LOG:  connection received: host=10.0.0.1 port=5001\n\
2026-11-27 20:21:03.097 CET [72] ann@db LOG:  connection authorized: user=ann database=db\n";
    let e = replay(&log[..]);
    let s = e.store.summary(&Default::default());
    assert_eq!(s.failures_total, 1, "{s:?}");
    assert_eq!(s.pending, 0, "pid 71 must not stay pending: {s:?}");
    assert_eq!(s.active_total, 1, "{s:?}");
    assert_eq!(e.line_stats().unparsed, 0);
}

/// The same failure in a FATAL whose whole message sits on one line still counts once (the
/// guard against forged lines must not swallow honest ones).
#[test]
fn fatal_without_continuation_is_a_failure() {
    let log = b"2026-11-27 20:21:03.093 CET [71] [unknown]@[unknown] LOG:  connection received: host=10.0.0.1 port=5000\n\
2026-11-27 20:21:03.095 CET [71] bob@nope FATAL:  database \"nope\" does not exist\n";
    let s = replay(&log[..]).store.summary(&Default::default());
    assert_eq!(s.failures_total, 1, "{s:?}");
    assert_eq!(s.pending, 0, "{s:?}");
}

/// The realistic form: `%d` in the prefix prints the name raw (its newline splits the prefix),
/// the message prints it with a tab after the newline.
#[test]
fn fatal_with_newline_in_prefix_and_message_is_a_failure() {
    let log = b"2026-11-27 20:21:03.093 CET [71] [unknown]@[unknown] LOG:  connection received: host=10.0.0.1 port=5000\n\
2026-11-27 20:21:03.095 CET [71] bob@a\n\
b FATAL:  database \"a\n\
\tb\" does not exist\n";
    let e = replay(&log[..]);
    let s = e.store.summary(&Default::default());
    assert_eq!(s.failures_total, 1, "{s:?}");
    assert_eq!(s.pending, 0, "{s:?}");
}

const CHECKPOINT: &str = "2026-11-27 20:21:03.000 CET [70] LOG:  checkpoint starting: time\n";

/// An authorized session refused right after (its database name holds a newline), then more
/// lines: the whole log as one string.
fn refused_after_authorized() -> String {
    let mut log = CHECKPOINT.repeat(40);
    log += "2026-11-27 20:21:03.093 CET [71] [unknown]@[unknown] LOG:  connection received: host=10.0.0.1 port=5000\n\
2026-11-27 20:21:03.094 CET [71] bob@a LOG:  connection authorized: user=bob database=a\n\
2026-11-27 20:21:03.095 CET [71] bob@a FATAL:  database \"a\n\
\tb\" does not exist\n";
    log += &CHECKPOINT.repeat(2);
    log
}

/// Lines fed one at a time, as the live tailer delivers them: the FATAL arrives before its
/// continuation line and must wait for it instead of being read as an unknown FATAL.
#[test]
fn fatal_fed_before_its_continuation_line_is_a_failure() {
    let log = refused_after_authorized();
    let mut e = Engine::new(EngineConfig {
        prefix: Some(PREFIX.into()),
        ..EngineConfig::default()
    });
    let id = e.add_source("live.log");
    for line in log.split_inclusive('\n') {
        e.feed(id, line.as_bytes()).unwrap();
    }
    let s = e.store.summary(&Default::default());
    assert_eq!(s.failures_total, 1, "{s:?}");
    assert_eq!(
        s.active_total, 0,
        "the refused session must not stay open: {s:?}"
    );
    let st = e.line_stats();
    assert_eq!((st.read, st.entries), (46, 45), "{st:?}");
}

/// The same when a reader hands the log over in pieces that end between the FATAL and its
/// continuation line.
#[test]
fn fatal_read_in_pieces_is_a_failure() {
    let log = refused_after_authorized();
    let cut = log.find("\tb\"").unwrap();
    let (a, b) = log.as_bytes().split_at(cut);
    // 64 KiB of filler first, so that the format is known before the cut arrives.
    let mut filler = CHECKPOINT.repeat(70_000 / CHECKPOINT.len()).into_bytes();
    filler.extend_from_slice(a);
    let pieces = [filler.as_slice(), b];
    let e = replay(Pieces(pieces.iter().map(|p| p.to_vec()).collect()));
    let s = e.store.summary(&Default::default());
    assert_eq!(s.failures_total, 1, "{s:?}");
    assert_eq!(s.active_total, 0, "{s:?}");
}

/// A reader that returns one piece per call.
struct Pieces(std::collections::VecDeque<Vec<u8>>);

impl std::io::Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(mut p) = self.0.pop_front() else {
            return Ok(0);
        };
        let n = p.len().min(buf.len());
        buf[..n].copy_from_slice(&p[..n]);
        if n < p.len() {
            self.0.push_front(p.split_off(n));
        }
        Ok(n)
    }
}

/// A fragment (the first line of someone else's entry, cut by a name holding a newline) just
/// before an honest FATAL with a continuation line must not take the FATAL over: the FATAL is
/// its own pid's, whose session then ends.
#[test]
fn fragment_before_a_fatal_with_continuation_does_not_steal_it() {
    let log = b"2026-11-27 20:21:03.093 CET [71] [unknown]@[unknown] LOG:  connection received: host=10.0.0.1 port=5000\n\
2026-11-27 20:21:03.094 CET [71] bob@a LOG:  connection authorized: user=bob database=a\n\
2026-11-27 20:21:03.090 CET [60] \n\
2026-11-27 20:21:03.095 CET [71] bob@a FATAL:  database \"a\n\
\tb\" does not exist\n";
    let e = replay(&log[..]);
    let s = e.store.summary(&Default::default());
    assert_eq!(s.failures_total, 1, "{s:?}");
    assert_eq!(s.active_total, 0, "pid 71 was refused: {s:?}");
}
