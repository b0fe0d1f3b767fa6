//! Fuzzing of every envelope reader: arbitrary bytes and mutated real lines, cut into any
//! pieces: no panic, only whole lines out, and a record that continues another (a syslog
//! `#011` or split chunk, a tab-led payload, a CRI / Docker final part) never comes out as a
//! line that starts an entry.

use pgconn_top::envelope::{detect, detect_at_eof, Context, Envelope, Unwrapper};
use proptest::prelude::*;
use std::path::Path;

/// Feeds `input` cut at `cuts`, flushing between pieces when asked; checks the output.
fn run(env: Envelope, input: &[u8], cuts: &[usize], flush: bool) -> Vec<u8> {
    let mut u = Unwrapper::new(env, Context::utc(2026, 11));
    let mut out = Vec::new();
    let mut carry = Vec::new();
    let mut at = 0;
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    points.sort_unstable();
    for p in points.into_iter().chain([input.len()]) {
        carry.extend_from_slice(&input[at..p.max(at)]);
        at = p.max(at);
        let used = u.unwrap(&carry, false, &mut out);
        assert!(used <= carry.len());
        carry.drain(..used);
        if flush {
            u.flush(&mut out);
        }
        assert!(
            out.is_empty() || out.ends_with(b"\n"),
            "{env:?}: whole lines only"
        );
    }
    let used = u.unwrap(&carry, true, &mut out);
    assert_eq!(used, carry.len(), "{env:?}: eof consumes all");
    assert!(out.is_empty() || out.ends_with(b"\n"));
    let s = u.stats();
    assert_eq!(
        s.lines_out,
        out.iter().filter(|&&b| b == b'\n').count() as u64
    );
    assert!(s.example.as_ref().is_none_or(|e| e.len() <= 200 * 3));
    out
}

/// The first lines of a real fixture of `env`.
fn real_lines(env: Envelope) -> Vec<Vec<u8>> {
    let rel = match env {
        Envelope::Plain => "corpus/pg15-debian-berlin/postgresql.log",
        Envelope::Syslog3164 => "syslog/pg15-syslog-default/postgresql.syslog",
        Envelope::Syslog5424 => "syslog/pg15-syslog-default/postgresql.syslog5424",
        Envelope::Syslog3339 => "syslog/pg15-syslog-default/postgresql.syslog3339",
        Envelope::JournaldJson => "wrapped/journald-json/postgresql.json",
        Envelope::JournaldShort => "wrapped/journald-short/postgresql.log",
        Envelope::DockerJson => "wrapped/docker-json/postgresql.json",
        Envelope::Timestamped => "wrapped/kubectl-ts/postgresql.log",
        Envelope::Cri => "wrapped/cri/postgresql.log",
        Envelope::Cnpg => "wrapped/cnpg/postgresql.json",
        Envelope::CloudLogging => "wrapped/cloudsql/postgresql.json",
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    let text = std::fs::read(path).unwrap();
    let mut lines: Vec<Vec<u8>> = text.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    // The part with the split message and the failures, where the chunks are.
    let start = lines.len().saturating_sub(120).min(270);
    lines.drain(..start);
    lines.truncate(80);
    lines
}

fn any_envelope() -> impl Strategy<Value = Envelope> {
    proptest::sample::select(Envelope::ALL.to_vec())
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
    DuplicateLine(usize),
    DropLine(usize),
    SwapLines(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (
            any::<usize>(),
            prop_oneof![
                Just(b'#'),
                Just(b'"'),
                Just(b'\\'),
                Just(b'\n'),
                Just(b'['),
                Just(b'{'),
                Just(b' '),
                Just(b'\t'),
                any::<u8>()
            ]
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        any::<usize>().prop_map(Mutation::DropLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn mutate(mut lines: Vec<Vec<u8>>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let n = lines.len().max(1);
        match *m {
            Mutation::DuplicateLine(i) if !lines.is_empty() => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Mutation::DropLine(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Mutation::SwapLines(a, b) if !lines.is_empty() => lines.swap(a % n, b % n),
            Mutation::Flip(i, b) | Mutation::Insert(i, b) if !lines.is_empty() => {
                let l = &mut lines[i % n];
                let at = (i / n) % (l.len() + 1);
                if matches!(m, Mutation::Flip(..)) && at < l.len() {
                    l[at] = b;
                } else {
                    l.insert(at, b);
                }
            }
            Mutation::Delete(i) | Mutation::Truncate(i) if !lines.is_empty() => {
                let l = &mut lines[i % n];
                if !l.is_empty() {
                    let at = (i / n) % l.len();
                    if matches!(m, Mutation::Delete(_)) {
                        l.remove(at);
                    } else {
                        l.truncate(at);
                    }
                }
            }
            _ => {}
        }
    }
    lines.join(&b'\n')
}

/// Text a continuation carries: it must never begin an entry line.
const INVENTED: &str = "LOG:  connection authorized: user=INVENTED database=x";

/// Records of `env` that continue something before them, carrying [`INVENTED`].
fn continuations(env: Envelope, pid: u32, kind: u8) -> Vec<u8> {
    let t = "2026-11-29T08:50:47.000000+00:00";
    let chunk = |mark: &str, body: &str| match env {
        Envelope::Syslog3164 => format!("Nov 29 08:50:47 h postgres[{pid}]: {mark} {body}"),
        Envelope::Syslog5424 => format!("<134>1 {t} h postgres {pid} - -  {mark} {body}"),
        _ => format!("{t} h postgres[{pid}]: {mark} {body}"),
    };
    let s = match env {
        Envelope::Syslog3164 | Envelope::Syslog5424 | Envelope::Syslog3339 => match kind % 4 {
            0 => chunk("[8-2]", &format!("#011{INVENTED}")),
            1 => chunk("[8-2]", &format!(" {INVENTED}")),
            2 => chunk("[8-3]", INVENTED),
            _ => chunk("[2]", &format!(" {INVENTED}")),
        },
        Envelope::JournaldJson => format!("{{\"MESSAGE\":\"\\t{INVENTED}\",\"_PID\":\"{pid}\"}}"),
        Envelope::DockerJson if kind.is_multiple_of(2) => {
            format!("{{\"log\":\"\\t{INVENTED}\\n\"}}")
        }
        Envelope::DockerJson => format!("{{\"log\":\"x\"}}\n{{\"log\":\"{INVENTED}\\n\"}}"),
        Envelope::CloudLogging if kind.is_multiple_of(2) => {
            format!("{{\"textPayload\":\"\\t{INVENTED}\",\"timestamp\":\"{t}\"}}")
        }
        Envelope::CloudLogging => {
            format!("{{\"textPayload\":\"x\\n{INVENTED}\",\"timestamp\":\"{t}\"}}")
        }
        Envelope::Cri => format!("{t} stderr P x\n{t} stderr F {INVENTED}"),
        Envelope::Timestamped => format!("{t} \t{INVENTED}"),
        Envelope::JournaldShort => format!("{t} h postgres[{pid}]: \t{INVENTED}"),
        Envelope::Cnpg | Envelope::Plain => String::new(),
    };
    s.into_bytes()
}

/// Whether a normalized line begins an entry with the invented text.
fn begins_invented(line: &[u8]) -> bool {
    if line.first() == Some(&b'\t') {
        return false;
    }
    let mut rest = line;
    if rest.len() > 28 && rest[24..28] == *b"UTC " {
        rest = &rest[28..];
    }
    if rest.first() == Some(&b'[') {
        if let Some(i) = rest.iter().position(|&b| b == b']') {
            rest = rest[i + 1..].strip_prefix(b" ").unwrap_or(&rest[i + 1..]);
        }
    }
    rest.starts_with(INVENTED.as_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(env in any_envelope(), input in proptest::collection::vec(any::<u8>(), 0..1500),
                                   cuts in proptest::collection::vec(any::<usize>(), 0..6), flush in any::<bool>()) {
        run(env, &input, &cuts, flush);
        let _ = detect(&input);
        let _ = detect_at_eof(&input);
    }

    #[test]
    fn mutated_real_lines_never_panic(env in any_envelope(), muts in proptest::collection::vec(mutation(), 0..12),
                                      cuts in proptest::collection::vec(any::<usize>(), 0..6), flush in any::<bool>()) {
        let input = mutate(real_lines(env), &muts);
        run(env, &input, &cuts, flush);
        let _ = detect(&input);
    }

    #[test]
    fn continuations_never_begin_an_entry(env in any_envelope(), picks in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
                                          cuts in proptest::collection::vec(any::<usize>(), 0..6), flush in any::<bool>()) {
        let mut lines = real_lines(env);
        for (at, kind) in picks {
            let pid = [9214u32, 9302, 4140, 77][at % 4];
            let n = lines.len() + 1;
            lines.insert(at % n, continuations(env, pid, kind));
        }
        let input = lines.join(&b'\n');
        let out = run(env, &input, &cuts, flush);
        for line in out.split(|&b| b == b'\n') {
            prop_assert!(!begins_invented(line), "{:?}: {}", env, String::from_utf8_lossy(line));
        }
    }
}
