//! Tests of the timestamp parser and formatter.

use super::*;

/// What chrono writes, the formatting [`rfc3339`] had before it was written by hand.
fn chrono_rfc3339(t: LogTime) -> String {
    use chrono::{FixedOffset, TimeZone};
    let zone = FixedOffset::east_opt(t.offset_secs).unwrap_or(FixedOffset::east_opt(0).unwrap());
    match zone.timestamp_millis_opt(t.millis) {
        chrono::LocalResult::Single(dt) => dt.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        _ => t.millis.to_string(),
    }
}

#[test]
fn the_last_zone_read_changes_no_reading() {
    let lines: [&[u8]; 11] = [
        b"2026-11-27 20:21:03 XLOG x",
        b"2026-11-27 20:21:03 XLOG:  x",
        b"2026-11-27 20:21:03.010 CET [4132] LOG:  x",
        b"2026-11-27 20:21:03.010 CEST [4132] LOG:  x",
        b"2026-11-27 20:21:03 CETLOG:  x",
        b"2026-11-27 20:21:03 CET:x",
        b"2026-11-27 20:21:03.5 IST_IE x",
        b"2026-11-27 20:21:03.5 IST x",
        b"2026-11-27 20:21:03 ABCDEFGHIJ x",
        b"2026-11-27 20:21:03 +05:30 x",
        b"2026-11-27 20:21:03 CET",
    ];
    let fresh = |l: &[u8]| {
        LAST_ZONE.set(([0; 8], 0, 0));
        parse_timestamp(l)
    };
    for before in lines {
        for l in lines {
            fresh(before);
            let after = parse_timestamp(l);
            assert_eq!(after, fresh(l), "{} after {}", visible(l), visible(before));
        }
    }
}

fn visible(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn rfc3339_matches_chrono() {
    let offsets = [
        0, 3600, -3600, 19_800, -12_600, 45_900, 50_400, -36_000, 90, 86_399,
    ];
    // Leap days, century years, the epoch, times before it, and years far out.
    let mut millis: Vec<i64> = vec![
        0,
        -1,
        -999,
        -1000,
        -1001,
        951_782_400_000,
        4_107_542_399_999,
        253_402_300_799_999,
        253_402_300_800_000,
        -62_167_219_200_000,
        -62_167_219_200_001,
        i64::MAX / 2,
        i64::MIN / 2,
    ];
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        millis.push((x % 8_000_000_000_000) as i64 - 1_000_000_000_000);
    }
    for &m in &millis {
        for &o in &offsets {
            let t = LogTime {
                millis: m,
                offset_secs: o,
            };
            assert_eq!(rfc3339(t), chrono_rfc3339(t), "{m} ms at offset {o}");
        }
    }
}

#[test]
fn zones_and_precision() {
    let (t, n) = parse_timestamp(b"2026-11-27 20:21:03.010 CET [4132]").unwrap();
    assert_eq!(n, 27);
    assert_eq!(t.offset_secs, 3600);
    assert_eq!(rfc3339(t), "2026-11-27T20:21:03+01:00");
    let (u, _) = parse_timestamp(b"2026-11-27 19:21:03.010 UTC").unwrap();
    assert_eq!(u.millis, t.millis);
    let (e, n) = parse_timestamp(b"2026-11-27 14:21:13 EST:[local]").unwrap();
    assert_eq!(n, 23);
    assert_eq!(e.offset_secs, -5 * 3600);
    let (x, _) = parse_timestamp(b"2026-11-27 19:21:03 XYZT rest").unwrap();
    assert_eq!(x.offset_secs, 0, "unknown zones read as UTC, never drop");
    let (k, _) = parse_timestamp(b"2026-11-28 00:51:03.010 +0530").unwrap();
    assert_eq!(k.millis, u.millis);
    let (a, _) = parse_timestamp(b"2026-11-28 05:51:03.010 ACDT").unwrap();
    assert_eq!(a.millis, u.millis);
    assert!(parse_timestamp(b"2026-13-27 19:21:03 UTC").is_none());
    let (c, n) = parse_timestamp(b"2026-11-27 20:21:03 CETLOG:  x").unwrap();
    assert_eq!((n, c.offset_secs), (23, 3600), "a zone run into the tag");
    assert!(parse_timestamp(b"garbage").is_none());
}

#[test]
fn epoch() {
    let (t, n) = parse_epoch(b"1764271263.010 [1]").unwrap();
    assert_eq!(n, 14);
    assert_eq!(t.millis, 1_764_271_263_010);
}

#[test]
fn a_long_word_run_into_the_tag_is_no_panic() {
    // `%t%q` with a zone-like word of more than eight letters before the tag.
    let line = b"2025-01-01 00:00:00 ABCDEFGHIJKLOG:  connection received: host=h";
    let (t, _) = parse_timestamp(line).expect("the time is read");
    assert_eq!(t.offset_secs, 0);
}
