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
    let (y, m, d) = crate::parse::time::civil_from_days(days);
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

/// Appends `v` to `out` as `%*s` would with `pad` (negative: left-aligned).
fn padded(out: &mut String, pad: i32, v: &str) {
    let width = pad.unsigned_abs() as usize;
    let fill = width.saturating_sub(v.chars().count());
    if pad > 0 {
        out.extend(std::iter::repeat_n(' ', fill));
    }
    out.push_str(v);
    if pad < 0 {
        out.extend(std::iter::repeat_n(' ', fill));
    }
}

/// Appends the rendered prefix to `out`, as PostgreSQL's `log_line_prefix` code does: padding
/// (`%-10u`, `%8p`), and values a process without a session lacks printed as padding alone.
pub fn render(out: &mut String, prefix: &str, zone: (&str, i32), cx: &LineContext<'_>) {
    let b = prefix.as_bytes();
    let mut i = 0;
    let mut v = String::new();
    while i < b.len() {
        if b[i] != b'%' || i + 1 >= b.len() {
            let ch_len = prefix[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&prefix[i..i + ch_len]);
            i += ch_len;
            continue;
        }
        i += 1;
        let neg = b[i] == b'-';
        if neg {
            i += 1;
        }
        let mut pad: i32 = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            pad = pad
                .saturating_mul(10)
                .saturating_add(i32::from(b[i] - b'0'));
            i += 1;
        }
        if neg {
            pad = -pad;
        }
        let Some(&c) = b.get(i) else { return };
        i += 1;
        if !b"qmtsnplecbxQvudahrPi%".contains(&c) {
            continue; // PostgreSQL ignores unknown escapes
        }
        v.clear();
        if !value(&mut v, c, zone, cx) {
            if c == b'q' {
                return;
            }
            // No value: PostgreSQL prints the padding alone.
            padded(out, pad, "");
            continue;
        }
        padded(out, pad, &v);
    }
}

/// The value of escape `c` into `v`; false when the process has none (and for `%q` without a
/// session, which ends the prefix).
fn value(v: &mut String, c: u8, zone: (&str, i32), cx: &LineContext<'_>) -> bool {
    use std::fmt::Write;
    let s = cx.session;
    match c {
        b'q' => return s.is_some(),
        b'm' => format_time(v, cx.millis, zone, true),
        b't' => format_time(v, cx.millis, zone, false),
        b's' => format_time(v, s.map_or(cx.millis, |s| s.start_millis), zone, false),
        b'n' => {
            let _ = write!(
                v,
                "{}.{:03}",
                cx.millis.div_euclid(1000),
                cx.millis.rem_euclid(1000)
            );
        }
        b'p' => {
            let _ = write!(v, "{}", cx.pid);
        }
        b'l' => {
            let _ = write!(v, "{}", cx.line_number);
        }
        b'e' => v.push_str(if cx.sqlstate.is_empty() {
            "00000"
        } else {
            cx.sqlstate
        }),
        b'c' => {
            let start = s.map_or(cx.millis, |s| s.start_millis) / 1000;
            let _ = write!(v, "{start:x}.{:x}", cx.pid);
        }
        b'b' => v.push_str(if s.is_some() {
            "client backend"
        } else {
            "postmaster"
        }),
        b'x' | b'Q' => v.push('0'),
        // `%v` once the backend has its PGPROC, which `connection received` precedes.
        b'v' => match s {
            Some(s) if !s.user.is_empty() => {
                let _ = write!(v, "{}/0", cx.pid % 90 + 3);
            }
            _ => return false,
        },
        // `%i`: empty before authentication, then (simplified) `idle`.
        b'i' => match s {
            Some(s) if !s.user.is_empty() => v.push_str("idle"),
            Some(_) => {}
            None => return false,
        },
        b'u' | b'd' | b'a' => match s {
            Some(s) => v.push_str(or_unknown(match c {
                b'u' => s.user,
                b'd' => s.database,
                _ => s.application,
            })),
            None => return false,
        },
        b'h' | b'r' => match s {
            Some(s) if !s.host.is_empty() => {
                v.push_str(s.host);
                if let (b'r', Some(p)) = (c, s.port) {
                    let _ = write!(v, "({p})");
                }
            }
            _ => return false,
        },
        b'%' => v.push('%'),
        // `%P`: no parallel workers here.
        _ => return false,
    }
    true
}
