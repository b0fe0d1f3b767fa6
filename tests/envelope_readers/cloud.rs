//! Cloud SQL through Cloud Logging: JSON lines, and the newest-first JSON array of
//! `gcloud logging read --format=json`, read in time order (also from a `.gz`).

use super::*;
use std::io::Write;

const PREFIX: &str = "%m [%p]: [%l-1] db=%d,user=%u ";

/// The fixture as `gcloud logging read --format=json` prints it: pretty, newest first.
fn gcloud_array(jsonl: &[u8]) -> Vec<u8> {
    let mut v: Vec<Value> = String::from_utf8_lossy(jsonl)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    v.reverse();
    serde_json::to_string_pretty(&v).unwrap().into_bytes()
}

fn in_time_order(input: impl std::io::Read, env: Envelope) -> Vec<u8> {
    let mut got = Vec::new();
    let stats = read_in_time_order(input, env, cx(), |lines| {
        assert_eq!(lines.last(), Some(&b'\n'), "whole lines");
        got.extend_from_slice(lines);
    })
    .unwrap();
    assert_eq!(stats.not_understood, 0);
    got
}

#[test]
fn cloud_sql_entries_read_into_exactly_the_truth() {
    for (phase, truth) in PHASES {
        let src = read(&format!("wrapped/cloudsql/{phase}.json"));
        let norm = unwrap_all(&src, Envelope::CloudLogging);
        let text = String::from_utf8_lossy(&norm);
        assert!(text.starts_with(
            "2026-11-29 09:01:06.393 UTC [11940]: [3-1] db=,user= LOG:  starting PostgreSQL"
        ));
        assert!(text.contains("\n\tConnection matched pg_hba.conf line 94"));
        let got = engine_report(&norm, "x.log", Some(PREFIX));
        check_truth(
            &got,
            &fixtures().join("wrapped/cloudsql").join(truth),
            phase == "postgresql",
        );
        assert!(!is_newest_first(
            &src[..64 * 1024],
            Envelope::CloudLogging,
            cx()
        ));
        assert_eq!(
            in_time_order(&src[..], Envelope::CloudLogging),
            norm,
            "oldest first as it is"
        );
    }
}

#[test]
fn gcloud_array_newest_first_reads_in_time_order() {
    let jsonl = read("wrapped/cloudsql/postgresql.json");
    let array = gcloud_array(&jsonl);
    assert!(array.starts_with(b"[\n  {\n"));
    assert_eq!(decided(&array), Envelope::CloudLogging);
    assert!(is_newest_first(
        &array[..64 * 1024],
        Envelope::CloudLogging,
        cx()
    ));
    let want = unwrap_all(&jsonl, Envelope::CloudLogging);
    // The array unwraps in any read sizes, newest first...
    let backwards = unwrap_all(&array, Envelope::CloudLogging);
    assert_ne!(backwards, want);
    // ...and in time order through read_in_time_order, also from a .gz.
    assert_eq!(
        String::from_utf8_lossy(&in_time_order(&array[..], Envelope::CloudLogging)),
        String::from_utf8_lossy(&want)
    );
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("export.json.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&array).unwrap();
    std::fs::write(&gz, e.finish().unwrap()).unwrap();
    assert!(pgconn_top::source::compressed::is_compressed(&gz));
    let r = pgconn_top::source::compressed::open_log(&gz).unwrap();
    assert_eq!(in_time_order(r, Envelope::CloudLogging), want);
}

#[test]
fn a_large_newest_first_export_spills_and_stays_whole() {
    // 120 000 lines (~12 MB): several 2 MiB runs go through the temporary file.
    let n = 120_000u64;
    let mut src = Vec::new();
    for i in (0..n).rev() {
        let (h, m, s) = (i / 3600 % 24, i / 60 % 60, i % 60);
        writeln!(
            src,
            "2026-11-27T{h:02}:{m:02}:{s:02}.000000000Z 2026-11-27 {h:02}:{m:02}:{s:02}.{:03} UTC [{}] LOG:  connection received: host=[local] padding padding padding",
            i % 1000, 1000 + i
        )
        .unwrap();
    }
    assert!(src.len() > 12 << 20);
    let got = in_time_order(&src[..], Envelope::Timestamped);
    let lines: Vec<&[u8]> = got
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len() as u64, n);
    for (i, l) in lines.iter().enumerate() {
        let pid = format!("[{}] ", 1000 + i as u64);
        assert!(
            l.windows(pid.len()).any(|w| w == pid.as_bytes()),
            "line {i} in order"
        );
    }
}
