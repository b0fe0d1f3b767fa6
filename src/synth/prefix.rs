//! Renders a `log_line_prefix` for generated lines, as PostgreSQL would print it.

/// What a generated line's prefix can show.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineContext<'a> {
    /// Epoch milliseconds (UTC).
    pub millis: i64,
    pub pid: u32,
    /// `None` for postmaster / background lines (`%q` stops there).
    pub session: Option<SessionContext<'a>>,
    pub line_number: u32,
    pub sqlstate: &'a str,
}

/// Session values for the prefix; empty strings print as `[unknown]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionContext<'a> {
    pub user: &'a str,
    pub database: &'a str,
    pub application: &'a str,
    pub host: &'a str,
    pub port: Option<u16>,
    pub start_millis: i64,
}

fn civil(millis: i64, offset_secs: i32) -> (i64, u32, u32, u32, u32, u32, u32) {
    let t = millis + i64::from(offset_secs) * 1000;
    let ms = t.rem_euclid(1000) as u32;
    let secs = t.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u32;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 3600, rem / 60 % 60, rem % 60, ms)
}

/// `2026-11-27 20:21:03.010 CET` (`with_ms`) or `2026-11-27 20:21:03 CET`.
pub fn format_time(out: &mut String, millis: i64, zone: (&str, i32), with_ms: bool) {
    use std::fmt::Write;
    let (y, mo, d, h, mi, s, ms) = civil(millis, zone.1);
    let _ = write!(out, "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}");
    if with_ms {
        let _ = write!(out, ".{ms:03}");
    }
    let _ = write!(out, " {}", zone.0);
}

fn or_unknown(v: &str) -> &str {
    if v.is_empty() {
        "[unknown]"
    } else {
        v
    }
}

/// Appends the rendered prefix to `out`.
pub fn render(out: &mut String, prefix: &str, zone: (&str, i32), cx: &LineContext<'_>) {
    use std::fmt::Write;
    let b = prefix.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' || i + 1 >= b.len() {
            out.push(b[i] as char);
            i += 1;
            continue;
        }
        let c = b[i + 1];
        i += 2;
        let s = cx.session;
        match c {
            b'q' if s.is_none() => return,
            b'q' => {}
            b'm' => format_time(out, cx.millis, zone, true),
            b't' => format_time(out, cx.millis, zone, false),
            b'n' => {
                let _ = write!(
                    out,
                    "{}.{:03}",
                    cx.millis.div_euclid(1000),
                    cx.millis.rem_euclid(1000)
                );
            }
            b'p' => {
                let _ = write!(out, "{}", cx.pid);
            }
            b'l' => {
                let _ = write!(out, "{}", cx.line_number);
            }
            b'e' => out.push_str(if cx.sqlstate.is_empty() {
                "00000"
            } else {
                cx.sqlstate
            }),
            b'c' => {
                let start = s.map_or(cx.millis, |s| s.start_millis) / 1000;
                let _ = write!(out, "{start:x}.{:x}", cx.pid);
            }
            b'u' => out.push_str(s.map_or("", |s| or_unknown(s.user))),
            b'd' => out.push_str(s.map_or("", |s| or_unknown(s.database))),
            b'a' => out.push_str(s.map_or("", |s| or_unknown(s.application))),
            b'h' => out.push_str(s.map_or("", |s| s.host)),
            b'r' => {
                if let Some(s) = s {
                    out.push_str(s.host);
                    if let Some(p) = s.port {
                        let _ = write!(out, "({p})");
                    }
                }
            }
            b'%' => out.push('%'),
            _ => {}
        }
    }
}
