//! Time stamps of envelopes (RFC 3339, RFC 3164) read, and the UTC time written before an
//! unwrapped line (`YYYY-MM-DD HH:MM:SS.mmm UTC`, what `parse::time::parse_timestamp` reads).

use crate::parse::time::days_from_civil;

/// The civil date of a day count from 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Reads a fixed-width run of ASCII digits.
pub(crate) fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// Seconds since the epoch of a civil date and time, when it is a valid one.
pub(crate) fn epoch_secs(y: u32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(i64::from(y), mo, d);
    Some(((days * 24 + i64::from(h)) * 60 + i64::from(mi)) * 60 + i64::from(s))
}

/// Parses an RFC 3339 time (`2026-11-29T08:50:45.755070+00:00`, `...Z`, `...+0000`) at the
/// start of `b`: milliseconds since the epoch (UTC) and the bytes used.
pub fn parse_rfc3339(b: &[u8]) -> Option<(i64, usize)> {
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let secs = epoch_secs(
        num(&b[0..4])?,
        num(&b[5..7])?,
        num(&b[8..10])?,
        num(&b[11..13])?,
        num(&b[14..16])?,
        num(&b[17..19])?,
    )?;
    let mut pos = 19;
    let mut millis = 0i64;
    if b.get(pos) == Some(&b'.') {
        let start = pos + 1;
        pos = start;
        while pos < b.len() && b[pos].is_ascii_digit() {
            pos += 1;
        }
        if pos == start {
            return None;
        }
        let frac = &b[start..pos.min(start + 3)];
        millis = i64::from(num(frac)?) * 10i64.pow(3 - frac.len() as u32);
    }
    let offset = match b.get(pos) {
        Some(b'Z' | b'z') => {
            pos += 1;
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            let (h, m, len) = if b.get(pos + 3) == Some(&b':') {
                (
                    num(b.get(pos + 1..pos + 3)?)?,
                    num(b.get(pos + 4..pos + 6)?)?,
                    6,
                )
            } else {
                (
                    num(b.get(pos + 1..pos + 3)?)?,
                    num(b.get(pos + 3..pos + 5)?)?,
                    5,
                )
            };
            pos += len;
            let off = i64::from(h * 3600 + m * 60);
            if sign == b'-' {
                -off
            } else {
                off
            }
        }
        _ => return None,
    };
    Some(((secs - offset) * 1000 + millis, pos))
}

/// Parses an RFC 3164 time (`Nov 29 08:50:45`, `Nov  5 08:50:45`) at the start of `b`:
/// (month, day, seconds of the day), 15 bytes long.
pub(crate) fn parse_rfc3164(b: &[u8]) -> Option<(u32, u32, u32)> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    if b.len() < 15 || b[3] != b' ' || b[6] != b' ' || b[9] != b':' || b[12] != b':' {
        return None;
    }
    let month = MONTHS.iter().position(|m| &b[..3] == *m)? as u32 + 1;
    let day = if b[4] == b' ' {
        num(&b[5..6])?
    } else {
        num(&b[4..6])?
    };
    let (h, m, s) = (num(&b[7..9])?, num(&b[10..12])?, num(&b[13..15])?);
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some((month, day, h * 3600 + m * 60 + s))
}

/// Appends `YYYY-MM-DD HH:MM:SS.mmm UTC ` (with the trailing space) for `millis` since the epoch.
pub fn write_utc_millis(out: &mut Vec<u8>, millis: i64) {
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000) as u32;
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400) as u32;
    let y = y.clamp(0, 9999) as u32;
    let mut buf = *b"0000-00-00 00:00:00.000 UTC ";
    put(&mut buf[0..4], y);
    put(&mut buf[5..7], mo);
    put(&mut buf[8..10], d);
    put(&mut buf[11..13], sod / 3600);
    put(&mut buf[14..16], sod / 60 % 60);
    put(&mut buf[17..19], sod % 60);
    put(&mut buf[20..23], ms);
    out.extend_from_slice(&buf);
}

fn put(dst: &mut [u8], mut v: u32) {
    for c in dst.iter_mut().rev() {
        *c = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Appends `[pid] `.
pub(crate) fn write_pid(out: &mut Vec<u8>, pid: u32) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    let mut v = pid;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.push(b'[');
    out.extend_from_slice(&buf[i..]);
    out.extend_from_slice(b"] ");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::time::parse_timestamp;

    #[test]
    fn written_time_reads_back_exactly() {
        for ms in [0i64, 1_795_807_263_010, 1_796_000_000_999, 951_782_400_000] {
            let mut out = Vec::new();
            write_utc_millis(&mut out, ms);
            let (t, used) = parse_timestamp(&out).expect("parses");
            assert_eq!(t.millis, ms, "{}", String::from_utf8_lossy(&out));
            assert_eq!(used, out.len() - 1);
        }
    }

    #[test]
    fn rfc3339_forms() {
        let a = parse_rfc3339(b"2026-11-29T08:50:45.755070+00:00 x").unwrap();
        let b = parse_rfc3339(b"2026-11-29T17:50:45.755Z").unwrap();
        let c = parse_rfc3339(b"2026-11-29T17:50:45+0900").unwrap();
        assert_eq!(a.1, 32);
        assert_eq!(a.0 + 9 * 3_600_000, b.0);
        assert_eq!(c.0, b.0 - 755 - 9 * 3_600_000);
        assert!(parse_rfc3339(b"2026-11-29 17:50:45.755 UTC").is_none());
    }

    #[test]
    fn rfc3164_forms() {
        assert_eq!(parse_rfc3164(b"Nov 29 08:50:45"), Some((11, 29, 31845)));
        assert_eq!(parse_rfc3164(b"Jan  5 00:00:01"), Some((1, 5, 1)));
        assert_eq!(parse_rfc3164(b"Foo 29 08:50:45"), None);
    }
}
