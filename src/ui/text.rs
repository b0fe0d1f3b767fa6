//! Small text helpers shared by the widgets: safe names, times, ages, bars.

use crate::model::LogTime;
use crate::parse::time::local_clock;
use crate::report::human_ms;

/// A name from the log, made safe to draw (escapes and control characters made visible).
pub fn name(bytes: &[u8]) -> String {
    crate::sanitize::visible(bytes)
}

/// A real name as the tables draw it: like [`name`], but quoted when it reads like the label of
/// the unset value (`"(none)"`), so the two are never confused.
pub fn app_name(bytes: &[u8]) -> String {
    if bytes == crate::store::filter::NONE_LABEL.as_bytes() {
        format!("\"{}\"", crate::store::filter::NONE_LABEL)
    } else {
        name(bytes)
    }
}

/// `s` cut to `width` terminal cells, ending in `…` when cut (wide characters measured).
pub fn fit(s: &str, width: usize) -> String {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// `HH:MM:SS` of a log time, in the log's zone.
pub fn clock(t: LogTime) -> String {
    let s = local_clock(t);
    s.get(11..).map_or(s.clone(), str::to_string)
}

/// `+01:00` for an offset in seconds east of UTC.
pub fn offset(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
}

/// A duration for an age column: `42s`, `3m05s`, `2h04m`, `3d04h`.
pub fn age(ms: i64) -> String {
    let ms = ms.max(0) as u64;
    let s = ms / 1000;
    if s >= 86_400 {
        format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600)
    } else if ms < 1000 {
        "0s".to_string()
    } else if s < 60 {
        format!("{s}s")
    } else {
        human_ms(ms)
    }
}

/// A bar of `width` cells for `n` of `max`, with eighth-cell precision.
pub fn bar(n: u64, max: u64, width: usize) -> String {
    const PARTS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    if max == 0 || width == 0 {
        return String::new();
    }
    let eighths = (n.saturating_mul(width as u64 * 8) / max) as usize;
    let eighths = if n > 0 { eighths.max(1) } else { 0 };
    let mut s = "█".repeat(eighths / 8);
    s.push_str(PARTS[eighths % 8]);
    s
}

/// Thousands separated by a thin space-free comma: `12,345`.
/// `n` with thousands separators and the noun in the number it takes: `1 failure`,
/// `2 failures`, `1,024 connects`.
pub fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

/// `n` with thousands separators.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nouns_agree_with_their_number() {
        assert_eq!(counted(1, "failure", "failures"), "1 failure");
        assert_eq!(counted(0, "failure", "failures"), "0 failures");
        assert_eq!(counted(1234, "connect", "connects"), "1,234 connects");
    }

    #[test]
    fn helpers() {
        assert_eq!(age(61_000), "1m01s");
        assert_eq!(age(5_000), "5s");
        assert_eq!(age(90_000_000), "1d01h");
        assert_eq!(bar(5, 10, 4), "██");
        assert_eq!(bar(1, 1000, 4), "▏");
        assert_eq!(bar(0, 10, 4), "");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(offset(3600), "+01:00");
        assert_eq!(offset(-16200), "-04:30");
        assert_eq!(name(b"\x1b[2J"), "\\x1b[2J");
        assert_eq!(fit("metabase reporting", 10), "metabase …");
        assert_eq!(fit("日本語", 4), "日…");
        assert_eq!(fit("abc", 3), "abc");
    }
}
