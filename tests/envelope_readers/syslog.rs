//! syslog fixtures: the three file formats give the same entries, read by the engine into
//! exactly `truth.json`; split messages never yield an entry; `#011` decodes; years roll over.

use super::*;

const PREFIX: &str = "%m [%p] user=%u,db=%d,app=%a,client=%h ";
const DIR: &str = "syslog/pg15-syslog-default";

/// The normalized lines without the time of entry lines (28 bytes: `YYYY-MM-DD HH:MM:SS.mmm UTC `).
fn without_times(norm: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(norm)
        .lines()
        .map(|l| {
            if l.starts_with('\t') {
                l.to_string()
            } else {
                l[28..].to_string()
            }
        })
        .collect()
}

fn times(norm: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(norm)
        .lines()
        .filter(|l| !l.starts_with('\t'))
        .map(|l| l[..28].to_string())
        .collect()
}

#[test]
fn three_formats_one_log_and_exactly_the_truth() {
    for (phase, truth) in PHASES {
        let t3164 = unwrap_all(
            &read(&format!("{DIR}/{phase}.syslog")),
            Envelope::Syslog3164,
        );
        let t5424 = unwrap_all(
            &read(&format!("{DIR}/{phase}.syslog5424")),
            Envelope::Syslog5424,
        );
        let t3339 = unwrap_all(
            &read(&format!("{DIR}/{phase}.syslog3339")),
            Envelope::Syslog3339,
        );
        assert_eq!(
            t5424, t3339,
            "{phase}: RFC 5424 and RFC 3339 carry the same times"
        );
        assert_eq!(without_times(&t3164), without_times(&t3339), "{phase}");
        // RFC 3164 has whole seconds, in the year the context gives.
        for (a, b) in times(&t3164).iter().zip(times(&t3339)) {
            assert_eq!(a[..19], b[..19], "{phase}");
            assert_eq!(&a[19..], ".000 UTC ");
        }
        for (norm, name) in [(&t3164, "3164"), (&t5424, "5424"), (&t3339, "3339")] {
            let got = engine_report(norm, "x.log", Some(PREFIX));
            check_truth(
                &got,
                &fixtures().join(DIR).join(truth),
                phase == "postgresql",
            );
            let text = String::from_utf8_lossy(norm);
            assert!(!text.contains("#011"), "{name}: escapes decoded");
            for line in text.lines() {
                if line.contains("fake") {
                    assert!(
                        line.starts_with('\t'),
                        "{name}: continuation as an entry: {line}"
                    );
                }
                assert!(
                    line.starts_with('\t') || line.as_bytes()[28..].starts_with(b"["),
                    "{line}"
                );
            }
        }
    }
}

#[test]
fn split_and_continued_chunks_join_their_message() {
    let norm = unwrap_all(
        &read(&format!("{DIR}/postgresql.syslog")),
        Envelope::Syslog3164,
    );
    let text = String::from_utf8(norm).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("ERROR:  relation \"connection_audit\""))
        .unwrap();
    assert!(lines[at].starts_with("2026-11-29 08:50:47.000 UTC [9214] user=postgres,db=postgres,app=psql,client=[local] ERROR:"));
    assert!(lines[at + 1].starts_with("2026-11-29 08:50:47.000 UTC [9214] user=postgres,"));
    assert!(lines[at + 1].ends_with("STATEMENT:  SELECT note FROM connection_audit"));
    assert_eq!(lines[at + 2], "\t WHERE note IN (");
    // Chunk [8-9], cut at 900 bytes, and [8-10] (led by a space) are one line.
    let joined = lines[at + 8];
    assert!(joined.starts_with("\t 'pgbouncer pooler"), "{joined}");
    assert!(
        joined.ends_with(" connection authorized: user=fake database=fake application_name=fake',"),
        "{joined}"
    );
    assert_eq!(lines[at + 9], "\t 'end')");
    assert!(text.contains("\n\tConnection matched pg_hba.conf line 94: \"host    all"));
}

#[test]
fn interleaved_processes_and_lost_heads() {
    let src = String::from_utf8(read(&format!("{DIR}/postgresql.syslog3339"))).unwrap();
    let lines: Vec<&str> = src.lines().collect();
    let nine = lines.iter().position(|l| l.contains("[8-9] ")).unwrap();
    let other = lines
        .iter()
        .position(|l| l.contains("postgres[9302]: [8-1]"))
        .unwrap();
    // Another process's line between [8-9] and [8-10]: the split still joins.
    let mut moved: Vec<&str> = lines.clone();
    moved.remove(other);
    moved.insert(nine + 1, lines[other]);
    let norm = unwrap_all(moved.join("\n").as_bytes(), Envelope::Syslog3339);
    let text = String::from_utf8(norm).unwrap();
    let joined = text
        .lines()
        .find(|l| l.contains("'pgbouncer pooler"))
        .unwrap();
    assert!(joined.starts_with("\t 'pgbouncer"), "{joined}");
    assert!(
        joined.ends_with(" connection authorized: user=fake database=fake application_name=fake',")
    );
    // Chunks whose head is missing (the file starts inside a message) are dropped, counted.
    let tail = lines[nine..].join("\n");
    let mut u = Unwrapper::new(Envelope::Syslog3339, cx());
    let mut out = Vec::new();
    u.unwrap(tail.as_bytes(), true, &mut out);
    assert_eq!(u.stats().not_understood, 3, "[8-9], [8-10], [8-11]");
    assert!(!String::from_utf8_lossy(&out).contains("fake"));
}

#[test]
fn without_sequence_numbers_the_same_lines() {
    let src = String::from_utf8(read(&format!("{DIR}/postgresql.syslog3339"))).unwrap();
    let re = regex::Regex::new(r"\]: \[\d+-(\d+)\] ").unwrap();
    let off = re.replace_all(&src, "]: [$1] ");
    assert!(off.contains("]: [1] user="));
    assert_eq!(decided(off.as_bytes()), Envelope::Syslog3339);
    let a = unwrap_all(src.as_bytes(), Envelope::Syslog3339);
    let b = unwrap_all(off.as_bytes(), Envelope::Syslog3339);
    assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
}

#[test]
fn rfc3164_year_comes_from_the_context_and_rolls_over() {
    let lines = b"Dec 31 23:59:59 h postgres[7]: [3-1] a LOG:  one\nJan  1 00:00:01 h postgres[7]: [4-1] a LOG:  two\n";
    let mut u = Unwrapper::new(Envelope::Syslog3164, Context::utc(2027, 1));
    let mut out = Vec::new();
    u.unwrap(lines, true, &mut out);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "2026-12-31 23:59:59.000 UTC [7] a LOG:  one\n2027-01-01 00:00:01.000 UTC [7] a LOG:  two\n"
    );
    // syslog's zone: local 10:00 at UTC+02:00 is 08:00 UTC.
    let cx = Context {
        year: 2026,
        month: 11,
        utc_offset_secs: 7200,
    };
    let mut u = Unwrapper::new(Envelope::Syslog3164, cx);
    let mut out = Vec::new();
    u.unwrap(
        b"Nov 29 10:00:00 h postgres[7]: [3-1] a LOG:  x",
        true,
        &mut out,
    );
    assert_eq!(out, b"2026-11-29 08:00:00.000 UTC [7] a LOG:  x\n");
    assert_eq!(u.synthetic_prefix(), "%m [%p] ");
}

#[test]
fn other_programs_lines_in_a_shared_syslog_are_skipped() {
    let src = String::from_utf8(read(&format!("{DIR}/postgresql.syslog"))).unwrap();
    let mut mixed = String::new();
    for (i, line) in src.lines().enumerate() {
        mixed.push_str(line);
        mixed.push('\n');
        if i % 10 == 3 {
            mixed.push_str("Nov 29 08:50:46 db-prod-01 CRON[77]: (root) CMD ([5-1] user=x LOG:  connection authorized: user=cron)\n");
            mixed.push_str(
                "Nov 29 08:50:46 db-prod-01 systemd[1]: Started session 4 of user root.\n",
            );
        }
    }
    assert_eq!(decided(mixed.as_bytes()), Envelope::Syslog3164);
    let (got, u) = unwrap_in_steps(mixed.as_bytes(), Envelope::Syslog3164, 4096);
    let want = unwrap_all(src.as_bytes(), Envelope::Syslog3164);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
    assert_eq!(
        u.stats().skipped,
        2 * src.lines().enumerate().filter(|(i, _)| i % 10 == 3).count() as u64
    );
    assert_eq!(u.stats().not_understood, 0);
}

#[test]
fn journald_short_without_server_times_is_told_by_its_single_pid() {
    // `log_line_prefix = '%u@%d '` under journald: every line names the postmaster.
    let mut s = String::new();
    for i in 0..20 {
        s.push_str(&format!("2026-11-27T19:21:0{}+0000 db1 postgres[4132]: app@db LOG:  connection authorized: user=app database=db\n", i % 10));
    }
    assert_eq!(decided(s.as_bytes()), Envelope::JournaldShort);
    let out = unwrap_all(s.as_bytes(), Envelope::JournaldShort);
    assert!(String::from_utf8(out)
        .unwrap()
        .lines()
        .all(|l| l == "app@db LOG:  connection authorized: user=app database=db"));
}
