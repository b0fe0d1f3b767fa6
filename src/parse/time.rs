//! Timestamps as PostgreSQL prints them (`%m`, `%t`, `%n`, csvlog, jsonlog), parsed without allocation.

use crate::model::LogTime;

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() {
        return None;
    }
    let mut v: u32 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
    }
    Some(v)
}

/// Offsets (seconds east of UTC) of the zone abbreviations PostgreSQL prints for common
/// `log_timezone` settings. Unknown abbreviations read as UTC: a line is never dropped for its zone.
fn zone_offset(abbr: &[u8]) -> Option<i32> {
    const H: i32 = 3600;
    let off = match abbr {
        b"UTC" | b"GMT" | b"UT" | b"Z" | b"WET" => 0,
        b"BST" | b"IST_IE" | b"WEST" | b"CET" | b"MET" | b"WAT" => H,
        b"CEST" | b"MEST" | b"EET" | b"SAST" | b"CAT" => 2 * H,
        b"EEST" | b"MSK" | b"EAT" | b"AST_SA" | b"IDT" => 3 * H,
        b"IST" => 5 * H + 1800,
        b"PKT" => 5 * H,
        b"WIB" => 7 * H,
        b"CST_CN" | b"HKT" | b"SGT" | b"AWST" | b"PHT" | b"WITA" => 8 * H,
        b"JST" | b"KST" | b"WIT" => 9 * H,
        b"ACST" => 9 * H + 1800,
        b"ACDT" => 10 * H + 1800,
        b"AEST" | b"ChST" => 10 * H,
        b"AEDT" => 11 * H,
        b"NZST" => 12 * H,
        b"NZDT" => 13 * H,
        b"AST" | b"EDT" => -4 * H,
        b"ADT" => -3 * H,
        b"NST" => -3 * H - 1800,
        b"NDT" => -2 * H - 1800,
        b"EST" | b"CDT" => -5 * H,
        b"CST" | b"MDT" => -6 * H,
        b"MST" | b"PDT" => -7 * H,
        b"PST" | b"AKDT" => -8 * H,
        b"AKST" => -9 * H,
        b"HST" => -10 * H,
        _ => return numeric_offset(abbr),
    };
    Some(off)
}

/// `+03`, `-0530`, `+05:30`: what PostgreSQL prints for zones without an abbreviation.
fn numeric_offset(s: &[u8]) -> Option<i32> {
    let (&sign, rest) = s.split_first()?;
    let sign = match sign {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = match rest.len() {
        2 => (digits(rest)?, 0),
        4 => (digits(&rest[..2])?, digits(&rest[2..])?),
        5 if rest[2] == b':' => (digits(&rest[..2])?, digits(&rest[3..])?),
        _ => return None,
    };
    Some(sign * (h as i32 * 3600 + m as i32 * 60))
}

/// Parses `YYYY-MM-DD HH:MM:SS[.fff] ZONE` at the start of `b`; returns the time and the bytes used.
/// The zone is optional; an unknown zone reads as UTC.
pub fn parse_timestamp(b: &[u8]) -> Option<(LogTime, usize)> {
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let minute = minute_start(b[..16].try_into().ok()?)?;
    let s = digits(&b[17..19])?;
    if s > 60 {
        return None;
    }
    let mut pos = 19;
    let mut millis: i64 = 0;
    if b.get(pos) == Some(&b'.') {
        let start = pos + 1;
        // `%m` prints exactly three digits: read at once when they are there.
        if let Some(&[d1, d2, d3]) = b.get(start..start + 3) {
            let next_is_digit = b.get(start + 3).is_some_and(u8::is_ascii_digit);
            if d1.is_ascii_digit() && d2.is_ascii_digit() && d3.is_ascii_digit() && !next_is_digit {
                let v = (d1 - b'0') as i64 * 100 + (d2 - b'0') as i64 * 10 + (d3 - b'0') as i64;
                return Some(with_zone(b, start + 3, minute + i64::from(s), v));
            }
        }
        let mut end = start;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        if end == start {
            return None;
        }
        let frac = &b[start..end.min(start + 3)];
        let mut v = i64::from(digits(frac)?);
        for _ in frac.len()..3 {
            v *= 10;
        }
        millis = v;
        pos = end;
    }
    Some(with_zone(b, pos, minute + i64::from(s), millis))
}

/// The time whose local seconds and milliseconds are read, with the zone that may follow at
/// `pos`; and where the timestamp ends.
fn with_zone(b: &[u8], mut pos: usize, local: i64, millis: i64) -> (LogTime, usize) {
    let mut offset = 0;
    if b.get(pos) == Some(&b' ') {
        let zs = pos + 1;
        if let Some((ze, off)) = last_zone(b, zs) {
            return (
                LogTime {
                    millis: (local - i64::from(off)) * 1000 + millis,
                    offset_secs: off,
                },
                ze,
            );
        }
        let mut ze = zs;
        let numeric = matches!(b.get(zs), Some(b'+' | b'-'));
        if numeric {
            ze += 1;
        }
        while ze < b.len()
            && ze - zs < 8
            && (if numeric {
                b[ze].is_ascii_digit()
                    || (b[ze] == b':' && b.get(ze + 1).is_some_and(u8::is_ascii_digit))
            } else {
                b[ze].is_ascii_alphanumeric() || b[ze] == b'_'
            })
        {
            ze += 1;
        }
        // A prefix cut right after the time (`%t%q`) runs the zone into the severity tag:
        // `UTCLOG:  `.
        if !numeric {
            let long = b[zs..]
                .iter()
                .take(18)
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
            let word = &b[zs..zs + long];
            if b[zs + long..].starts_with(b":  ") {
                if let Some(sev) = crate::parse::prefix::SEVERITIES
                    .iter()
                    .find(|s| word.len() > s.len() && word.ends_with(s))
                {
                    ze = zs + long - sev.len();
                }
            }
        }
        if ze > zs && (b[zs].is_ascii_alphabetic() || matches!(b[zs], b'+' | b'-')) {
            offset = zone_offset(&b[zs..ze]).unwrap_or(0);
            // Only a word that fits is kept: a longer one run into the tag (`%t%q`) is read
            // anew each time.
            if !numeric && ze - zs <= 8 {
                let mut word = [0; 8];
                word[..ze - zs].copy_from_slice(&b[zs..ze]);
                LAST_ZONE.set((word, (ze - zs) as u8, offset));
            }
            pos = ze;
        }
    }
    let utc = local - i64::from(offset);
    (
        LogTime {
            millis: utc * 1000 + millis,
            offset_secs: offset,
        },
        pos,
    )
}

thread_local! {
    /// The last `YYYY-MM-DD HH:MM` read and its seconds since the epoch: lines of one minute
    /// share it, so most lines skip the calendar arithmetic.
    static LAST_MINUTE: std::cell::Cell<([u8; 16], i64)> = const { std::cell::Cell::new(([0; 16], 0)) };
}

thread_local! {
    /// The last zone abbreviation read (its bytes, length and offset): every line of a log
    /// has the same one, so most lines skip reading it.
    static LAST_ZONE: std::cell::Cell<([u8; 8], u8, i32)> = const { std::cell::Cell::new(([0; 8], 0, 0)) };
}

/// The zone at `b[zs..]` when it is the last one read, ending where a zone ends: its end and
/// offset. A colon after it falls through to the full reading (`UTCLOG:  ` is `UTC`).
fn last_zone(b: &[u8], zs: usize) -> Option<(usize, i32)> {
    let (word, len, offset) = LAST_ZONE.get();
    if len == 0 {
        return None;
    }
    let end = zs + usize::from(len);
    // Compared in place, as one masked word where eight bytes follow: a zone is a few bytes,
    // fewer than a call to `memcmp` costs (the word holds zeros past its length).
    let same = match b.get(zs..zs + 8) {
        Some(w) => {
            let mask = u64::MAX >> (64 - 8 * u32::from(len)); // len is 1..=8
            u64::from_le_bytes(w.try_into().unwrap_or_default()) & mask == u64::from_le_bytes(word)
        }
        None => b.get(zs..end)?.iter().zip(&word).all(|(x, y)| x == y),
    };
    if !same {
        return None;
    }
    match b.get(end) {
        Some(&c) if c.is_ascii_alphanumeric() || c == b'_' || c == b':' => None,
        _ => Some((end, offset)),
    }
}

/// Local seconds since the epoch at the start of the minute `YYYY-MM-DD HH:MM` (separators
/// already checked), or None if a part is out of range.
fn minute_start(b: &[u8; 16]) -> Option<i64> {
    let (last, secs) = LAST_MINUTE.get();
    if last == *b {
        return Some(secs);
    }
    let y = digits(&b[0..4])?;
    let mo = digits(&b[5..7])?;
    let d = digits(&b[8..10])?;
    let h = digits(&b[11..13])?;
    let mi = digits(&b[14..16])?;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 24 || mi > 59 {
        return None;
    }
    let days = days_from_civil(i64::from(y), mo, d);
    let secs = ((days * 24 + i64::from(h)) * 60 + i64::from(mi)) * 60;
    LAST_MINUTE.set((*b, secs));
    Some(secs)
}

/// Parses `%n`: Unix epoch seconds with milliseconds (`1764271263.010`).
pub fn parse_epoch(b: &[u8]) -> Option<(LogTime, usize)> {
    let mut end = 0;
    while end < b.len() && b[end].is_ascii_digit() {
        end += 1;
    }
    let secs = i64::from(digits(&b[..end.min(12)])?);
    let mut millis = 0;
    if b.get(end) == Some(&b'.') {
        let fs = end + 1;
        let mut fe = fs;
        while fe < b.len() && b[fe].is_ascii_digit() {
            fe += 1;
        }
        let frac = &b[fs..fe.min(fs + 3)];
        if !frac.is_empty() {
            let mut v = i64::from(digits(frac)?);
            for _ in frac.len()..3 {
                v *= 10;
            }
            millis = v;
        }
        end = fe;
    }
    Some((
        LogTime {
            millis: secs * 1000 + millis,
            offset_secs: 0,
        },
        end,
    ))
}

/// The civil date (year, month, day) of a day number counted from 1970-01-01: the inverse
/// of [`days_from_civil`].
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Formats a log time as RFC 3339 with the log's own offset, to the second (`Z` for UTC).
pub fn rfc3339(t: LogTime) -> String {
    let mut b = [0; RFC3339_MAX];
    if let Some(n) = rfc3339_into(t, &mut b) {
        return std::str::from_utf8(&b[..n]).unwrap_or_default().to_owned();
    }
    // chrono formats the rest (years past 9999, offsets with seconds).
    use chrono::{FixedOffset, TimeZone};
    let zone = FixedOffset::east_opt(t.offset_secs)
        .unwrap_or(FixedOffset::east_opt(0).expect("zero offset"));
    match zone.timestamp_millis_opt(t.millis) {
        chrono::LocalResult::Single(dt) => dt.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        _ => t.millis.to_string(),
    }
}

/// The longest [`rfc3339_into`] writes: `2025-11-24T16:00:00+05:30`.
pub const RFC3339_MAX: usize = 25;

/// [`rfc3339`] into `b` (ASCII), its length; None for what only chrono writes (years before
/// 0 or past 9999, offsets with seconds). Digits by hand: a snapshot writes one per open
/// session, and `format!` costs ten times as much.
pub fn rfc3339_into(t: LogTime, b: &mut [u8; RFC3339_MAX]) -> Option<usize> {
    let secs = t.millis.div_euclid(1000) + i64::from(t.offset_secs);
    let (days, day_secs) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, mo, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) || t.offset_secs % 60 != 0 || t.offset_secs.abs() >= 86_400 {
        return None;
    }
    let (h, mi, s) = (day_secs / 3600, day_secs / 60 % 60, day_secs % 60);
    let o = i64::from(t.offset_secs.abs());
    *b = *b"0000-00-00T00:00:00+00:00";
    let mut put = |at: usize, v: i64, width: usize| {
        let mut v = v;
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, y, 4);
    put(5, i64::from(mo), 2);
    put(8, i64::from(d), 2);
    put(11, h, 2);
    put(14, mi, 2);
    put(17, s, 2);
    put(20, o / 3600, 2);
    put(23, o / 60 % 60, 2);
    Some(match t.offset_secs {
        0 => {
            b[19] = b'Z';
            20
        }
        off => {
            b[19] = if off < 0 { b'-' } else { b'+' };
            25
        }
    })
}

/// Formats a log time as `YYYY-MM-DD HH:MM:SS` in the log's own zone.
pub fn local_clock(t: LogTime) -> String {
    use chrono::{FixedOffset, TimeZone};
    let zone = FixedOffset::east_opt(t.offset_secs)
        .unwrap_or(FixedOffset::east_opt(0).expect("zero offset"));
    match zone.timestamp_millis_opt(t.millis) {
        chrono::LocalResult::Single(dt) => dt.format("%Y-%m-%d %H:%M:%S").to_string(),
        _ => t.millis.to_string(),
    }
}

/// The leading ASCII digits of `s` as a number (none, or too many: None), and what follows.
pub(crate) fn leading_digits(s: &[u8]) -> Option<(u64, &[u8])> {
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 19 {
        return None;
    }
    let v = s[..n]
        .iter()
        .fold(0u64, |v, &c| v * 10 + u64::from(c - b'0'));
    Some((v, &s[n..]))
}

/// A session time, `H:MM:SS.mmm` (hours unbounded), in milliseconds.
pub(crate) fn session_millis(s: &[u8]) -> Option<u64> {
    let end = memchr::memchr(b' ', s).unwrap_or(s.len());
    let (h, rest) = leading_digits(&s[..end])?;
    let (m, rest) = leading_digits(rest.strip_prefix(b":")?)?;
    let (sec, rest) = leading_digits(rest.strip_prefix(b":")?)?;
    // Milliseconds: the first three digits of the fraction, zeros after a shorter one.
    let ms = match rest.strip_prefix(b".") {
        None => 0,
        Some(frac) => {
            let head = &frac[..frac.len().min(3)];
            if !head.iter().all(u8::is_ascii_digit) {
                return None;
            }
            head.iter()
                .chain([b'0'; 3].iter())
                .take(3)
                .fold(0, |v, &c| v * 10 + u64::from(c - b'0'))
        }
    };
    h.checked_mul(60)?
        .checked_add(m)?
        .checked_mul(60)?
        .checked_add(sec)?
        .checked_mul(1000)?
        .checked_add(ms)
}

#[cfg(test)]
#[path = "time_tests.rs"]
mod tests;
