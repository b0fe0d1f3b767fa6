//! Inference on hand-written lines of shapes the corpus lacks.

use super::*;

fn setting(sample: &str) -> String {
    match infer_prefix(sample.as_bytes()) {
        Inference::Decided { prefix, .. } => prefix.as_str().to_string(),
        other => panic!("not decided: {other:?}"),
    }
}

#[test]
fn ps_display_and_backend_type() {
    let log = "\
2026-11-29 08:50:45.755 UTC [9169] postmaster : LOG:  database system is ready to accept connections
2026-11-29 08:50:46.001 UTC [9201] client backend : LOG:  connection received: host=10.0.0.7 port=40022
2026-11-29 08:50:46.004 UTC [9201] client backend authentication: LOG:  connection authorized: user=app database=shop application_name=web
2026-11-29 08:50:47.500 UTC [9201] client backend idle: LOG:  disconnection: session time: 0:00:01.499 user=app database=shop host=10.0.0.7 port=40022
";
    assert_eq!(setting(log), "%m [%p] %b %i: ");
}

/// A split's pid, user and database.
type PidNames<'a> = (Option<u32>, Option<&'a [u8]>, Option<&'a [u8]>);

#[test]
fn logfmt_bracketed_and_padded() {
    let logfmt = "\
time=2026-11-29 08:50:45.755 UTC pid=9169 user= db= app= client= LOG:  database system is ready to accept connections
time=2026-11-29 08:50:46.001 UTC pid=9201 user=[unknown] db=[unknown] app=[unknown] client=::1 LOG:  connection received: host=::1 port=40022
time=2026-11-29 08:50:46.004 UTC pid=9201 user=a b db=c=d app=[unknown] client=::1 LOG:  connection authorized: user=a b database=c=d
";
    assert_eq!(
        setting(logfmt),
        "time=%m pid=%p user=%u db=%d app=%a client=%h "
    );
    let padded = "\
2026-11-29 08:50:45.755 UTC [9169   ]                         LOG:  database system is ready to accept connections
2026-11-29 08:50:46.001 UTC [9201   ] [unknown]     [unknown] LOG:  connection received: host=[local]
2026-11-29 08:50:46.004 UTC [9201   ] app_u          postgres LOG:  connection authorized: user=app_u database=postgres
2026-11-29 08:50:46.101 UTC [19202  ] [unknown]     [unknown] LOG:  connection received: host=[local]
2026-11-29 08:50:46.104 UTC [19202  ] reporting          shop LOG:  connection authorized: user=reporting database=shop
";
    let p = setting(padded);
    let compiled = Prefix::compile(&p);
    let names: Vec<PidNames<'_>> = padded
        .lines()
        .map(|line| {
            let s = compiled
                .split(line.as_bytes())
                .unwrap_or_else(|| panic!("{p}: {line}"));
            (s.fields.pid, s.fields.user, s.fields.database)
        })
        .collect();
    let (app, pg, rep, shop) = (
        Some(&b"app_u"[..]),
        Some(&b"postgres"[..]),
        Some(&b"reporting"[..]),
        Some(&b"shop"[..]),
    );
    assert_eq!(
        names,
        vec![
            (Some(9169), None, None),
            (Some(9201), None, None),
            (Some(9201), app, pg),
            (Some(19202), None, None),
            (Some(19202), rep, shop),
        ],
        "{p}"
    );
    assert!(p.starts_with("%m [%-7p] "), "{p}");
}

#[test]
fn disagreeing_lines_fail_with_a_bounded_example() {
    let mut s = String::new();
    for i in 0..20 {
        s.push_str(&format!(
            "{} LOG:  connection authorized: user=u{i} database=d\n",
            "z".repeat(i)
        ));
    }
    s.push_str(&format!(
        "{} LOG:  connection received: host=h\n",
        "q".repeat(5000)
    ));
    match infer_prefix(s.as_bytes()) {
        Inference::Failed { example } => {
            assert!(!example.is_empty() && example.len() <= MAX_EXAMPLE)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn failures_alone_decide() {
    // `log_connections` off: only failed attempts name their user and database.
    let log = "\
2026-11-29 08:50:45.755 UTC [9169] LOG:  database system is ready to accept connections
2026-11-29 08:50:46.004 UTC [9201] app@shop FATAL:  password authentication failed for user \"app\"
2026-11-29 08:50:46.104 UTC [9202] ghost@shop FATAL:  role \"ghost\" does not exist
2026-11-29 08:50:46.204 UTC [9203] app@nodb FATAL:  database \"nodb\" does not exist
2026-11-29 08:50:46.304 UTC [9204] eve@hr FATAL:  no pg_hba.conf entry for host \"10.9.9.9\", user \"eve\", database \"hr\", no encryption
2026-11-29 08:50:46.404 UTC [9205] app@shop FATAL:  terminating connection due to administrator command
";
    assert_eq!(setting(log), "%m [%p] %q%u@%d ");
}

#[test]
fn one_line_of_padded_names_leaves_room_for_longer_names() {
    // `%-12u %10d`, and only the first session line has arrived (a follower decides on it):
    // the run of spaces between the two values is padding, not literal text, so a later
    // 12-character user with a 3-space gap still splits.
    let first = "\
2026-11-29 13:54:10.219 UTC [24707  ]                         LOG:  database system is ready to accept connections
2026-11-29 13:54:13.303 UTC [24722  ] [unknown]     [unknown] LOG:  connection received: host=[local]
";
    let p = Prefix::compile(&setting(first));
    let later = b"2026-11-29 13:54:14.146 UTC [24762  ] nologin_role   postgres FATAL:  role \"nologin_role\" is not permitted to log in";
    let s = p.split(later).expect("the later line splits");
    assert_eq!(s.fields.pid, Some(24762));
    assert_eq!(
        (s.fields.user, s.fields.database),
        (Some(&b"nologin_role"[..]), Some(&b"postgres"[..]))
    );
    assert_eq!(s.severity, b"FATAL");
    let wide = b"2026-11-29 13:54:14.160 UTC [24734  ] alice              shop LOG:  disconnection: session time: 0:00:01.000 user=alice database=shop host=[local]";
    let s = p
        .split(wide)
        .expect("a short name with wide padding splits");
    assert_eq!(
        (s.fields.user, s.fields.database),
        (Some(&b"alice"[..]), Some(&b"shop"[..]))
    );
}
