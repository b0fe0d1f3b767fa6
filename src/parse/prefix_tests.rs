//! Tests of [`super`]: the prefix parser on real and hostile lines.

use super::fields::is_severity;
use super::*;

#[test]
fn severity_words_are_exactly_the_list() {
    for w in SEVERITIES {
        assert!(is_severity(w));
    }
    for w in [&b"LOG "[..], b"log", b"DEBUG6", b"", b"FATA", b"LOGS"] {
        assert!(!is_severity(w), "{w:?}");
    }
}

fn split<'a>(p: &str, l: &'a str) -> SplitLine<'a> {
    Prefix::compile(p)
        .split(l.as_bytes())
        .unwrap_or_else(|| panic!("no match: {l}"))
}

#[test]
fn debian_prefix_with_spaces_in_names() {
    let s = split(
        "%m [%p] %q%u@%d ",
        "2026-11-27 20:21:03.645 CET [4153] report user@my db LOG:  connection authorized: user=report user database=my db",
    );
    assert_eq!(s.fields.pid, Some(4153));
    assert_eq!(s.fields.user, Some(&b"report user"[..]));
    assert_eq!(s.fields.database, Some(&b"my db"[..]));
    assert_eq!(s.severity, b"LOG");
    assert!(s.message.starts_with(b"connection authorized"));
    let pm = split(
        "%m [%p] %q%u@%d ",
        "2026-11-27 20:21:03.010 CET [4132] LOG:  starting PostgreSQL 15",
    );
    assert_eq!(pm.fields.pid, Some(4132));
    assert!(!pm.full);
    let unk = split(
        "%m [%p] %q%u@%d ",
        "2026-11-27 20:21:03.093 CET [4140] [unknown]@[unknown] LOG:  connection received: host=[local]",
    );
    assert_eq!(unk.fields.user, None);
}

#[test]
fn rds_and_pgbadger_prefixes() {
    let s = split(
        "%t:%r:%u@%d:[%p]:",
        "2026-11-27 14:21:14 EST:127.0.0.1(44792):app_user@production:[4527]:LOG:  connection authorized: x",
    );
    assert_eq!(s.fields.host, Some(&b"127.0.0.1"[..]));
    assert_eq!(s.fields.port, Some(44792));
    assert_eq!(s.fields.pid, Some(4527));
    let v6 = split(
        "%t:%r:%u@%d:[%p]:",
        "2026-11-27 14:21:14 EST:::1(38858):a@b:[1]:FATAL:  x",
    );
    assert_eq!(v6.fields.host, Some(&b"::1"[..]));
    let b = split(
        "%t [%p]: user=%u,db=%d,app=%a,client=%h ",
        "2026-11-27 19:21:08 UTC [4333]: user=postgres,db=postgres,app=metabase reporting,client=[local] LOG:  hi",
    );
    assert_eq!(b.fields.application, Some(&b"metabase reporting"[..]));
    assert_eq!(b.fields.host, Some(&b"[local]"[..]));
}

#[test]
fn padding_sqlstate_session_and_percent() {
    let s = split(
        "%m %-8u|%10d|%e %c %l %% ",
        "2026-11-27 19:21:08.1 UTC bob     |      mydb|28P01 6b09d81f.1078 2 % FATAL:  x",
    );
    assert_eq!(s.fields.user, Some(&b"bob"[..]));
    assert_eq!(s.fields.database, Some(&b"mydb"[..]));
    assert_eq!(s.fields.sqlstate, Some(&b"28P01"[..]));
    assert_eq!(s.fields.session_id, Some(&b"6b09d81f.1078"[..]));
    assert_eq!(s.severity, b"FATAL");
    let n = split("%n [%p] ", "1764271263.010 [7] LOG:  x");
    assert_eq!(n.fields.time.unwrap().millis, 1_764_271_263_010);
}

#[test]
fn empty_padded_fields_on_postmaster_lines() {
    let p = "%m [%-7p] %-12u %10d %c %e ";
    let s = split(p, "2026-11-27 21:40:11.770 UTC [17102  ]                         6b09f8bb.42ce 00000 LOG:  terminating any other active server processes");
    assert_eq!(s.fields.pid, Some(17102));
    assert_eq!((s.fields.user, s.fields.database), (None, None));
    assert!(s.message.starts_with(b"terminating any other"));
    let s = split(
        p,
        "2026-11-27 21:40:11.770 UTC [17254  ] app_u          postgres 6b09f8bb.4366 00000 LOG:  x",
    );
    assert_eq!(
        (s.fields.user, s.fields.database),
        (Some(&b"app_u"[..]), Some(&b"postgres"[..]))
    );
}

#[test]
fn hostile_names_do_not_break_matching() {
    let s = split(
        "%m [%p] %q%u@%d ",
        "2026-11-27 20:21:03.900 CET [4216] x FATAL:  y@production FATAL:  password authentication failed",
    );
    assert_eq!(s.fields.user, Some(&b"x FATAL:  y"[..]));
    assert_eq!(s.severity, b"FATAL");
    assert!(Prefix::compile("%m [%p] ")
        .split(b"not a log line")
        .is_none());
    // An empty `%r` before text holding `(digits)`.
    let r = split("%p (%r pid=%l (%x) ", "1800 ( pid=1 (0) LOG:  x");
    assert_eq!((r.fields.pid, r.fields.host), (Some(1800), None));
    let long = format!(
        "2026-11-27 20:21:03.900 CET [1] {}@db LOG:  x",
        "a".repeat(100_000)
    );
    assert!(Prefix::compile("%m [%p] %q%u@%d ")
        .split(long.as_bytes())
        .is_none());
}

#[test]
fn literals_compared_as_words_agree_with_a_byte_compare() {
    let texts: [&[u8]; 6] = [b"", b" ", b"] ", b"@", b"12345678", b"[session 9] "];
    let line = b"] @12345678[session 9] x";
    for text in texts {
        let Token::Literal(lit) = Literal::token(text.to_vec()) else {
            unreachable!()
        };
        for start in 0..=line.len() {
            for end in start..=line.len() {
                let hay = &line[start..end];
                assert_eq!(
                    lit.starts(hay),
                    hay.starts_with(text),
                    "{text:?} at {hay:?}"
                );
            }
        }
    }
}

#[test]
fn bytes_and_literals_are_found_near_and_far() {
    for len in [0usize, 1, 15, 16, 17, 23, 24, 25, 31, 32, 33, 100] {
        for at in 0..len {
            let mut hay = vec![b'x'; len];
            hay[at] = b'@';
            if at + 1 < len {
                hay[len - 1] = b'@'; // a later one never wins
            }
            assert_eq!(find_byte(b'@', &hay), Some(at), "{len} bytes, @ at {at}");
        }
        assert_eq!(find_byte(b'@', &vec![b'x'; len]), None, "{len} bytes, none");
    }
    assert!(starts_with(b"] app", b"] "));
    assert!(!starts_with(b"]", b"] "));
    assert!(!starts_with(b"]x", b"] "));
    assert!(starts_with(b"", b""));
}

/// Every real line of the corpus, under its own prefix, and copies of them with the bytes that
/// make prefixes ambiguous (spaces, `@`, `[`, `:  `, commas) put into them at random: the
/// one-pass split gives what the backtracking search alone gives, fields, message and all.
#[test]
fn the_first_pass_agrees_with_the_search_on_real_and_mangled_lines() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus");
    let mut dirs = Vec::new();
    for top in std::fs::read_dir(&root).unwrap() {
        let top = top.unwrap().path();
        dirs.push(top.clone());
        if let Ok(inner) = std::fs::read_dir(&top) {
            dirs.extend(inner.flatten().map(|e| e.path()));
        }
    }
    let any: Accept<'_> = &|_, _| true;
    let confirm: Accept<'_> =
        &|f, msg| crate::parse::message::confirms_names(msg, (f.user, f.database));
    let (mut lines, mut differ, mut seed) = (0, Vec::new(), 0x9e37_79b9_7f4a_7c15u64);
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for dir in dirs {
        let (Ok(truth), Ok(log)) = (
            std::fs::read_to_string(dir.join("truth.json")),
            std::fs::read(dir.join("postgresql.log")),
        ) else {
            continue;
        };
        let truth: serde_json::Value = serde_json::from_str(&truth).unwrap();
        let Some(setting) = truth["log_line_prefix"].as_str() else {
            continue;
        };
        let prefix = Prefix::compile(setting);
        for line in log.split(|&b| b == b'\n') {
            let mut variants = vec![line.to_vec()];
            for _ in 0..3 {
                let mut v = line.to_vec();
                let inserts: [&[u8]; 6] = [b" ", b"@", b"[", b":  ", b",", b" LOG:  "];
                let at = (next() as usize) % (v.len() + 1);
                let what = inserts[(next() as usize) % inserts.len()];
                v.splice(at..at, what.iter().copied());
                variants.push(v);
            }
            for v in &variants {
                lines += 1;
                for accept in [any, confirm] {
                    let (fast, searched) =
                        (prefix.split_where(v, accept), prefix.search(v, accept));
                    if fast != searched {
                        differ.push(String::from_utf8_lossy(v).into_owned());
                    }
                }
            }
        }
    }
    assert!(lines > 10_000, "the corpus gave {lines} lines");
    assert!(
        differ.is_empty(),
        "{} lines differ, first: {:?}",
        differ.len(),
        differ.first()
    );
}
