//! `--since`: finds, by binary search over the file, the first entry of the last period of
//! log time, so a large log is not read from its start.

use crate::parse::time::parse_timestamp;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// How much is read around a probe point.
const PROBE: usize = 16 << 10;

/// The time at the start of a line: `%m`/`%t` at the front (stderr, csvlog) or jsonlog's
/// first key; else the first timestamp within the line's first 64 bytes.
fn line_time(line: &[u8]) -> Option<i64> {
    let line = line.strip_prefix(b"{\"timestamp\":\"").unwrap_or(line);
    (0..line.len().min(64)).find_map(|i| {
        let ok = i == 0 || !line[i - 1].is_ascii_digit();
        ok.then(|| parse_timestamp(&line[i..]))
            .flatten()
            .map(|(t, _)| t.millis)
    })
}

/// The first line start at or after `from` (`from` itself when `line_start`), and the time of the first timed line
/// from there (within one probe).
fn probe(file: &File, from: u64, size: u64, line_start: bool) -> io::Result<Option<(u64, i64)>> {
    let mut buf = vec![0u8; PROBE.min((size - from) as usize)];
    file.read_exact_at(&mut buf, from)?;
    let mut start = if from == 0 || line_start {
        0
    } else {
        match memchr::memchr(b'\n', &buf) {
            Some(i) => i + 1,
            None => return Ok(None),
        }
    };
    while start < buf.len() {
        let end = memchr::memchr(b'\n', &buf[start..]).map_or(buf.len(), |i| start + i);
        if buf[start] != b'\t' {
            if let Some(t) = line_time(&buf[start..end]) {
                return Ok(Some((from + start as u64, t)));
            }
        }
        start = end + 1;
    }
    Ok(None)
}

/// The time of the last timed line of the file.
fn last_time(file: &File, size: u64) -> io::Result<Option<i64>> {
    let from = size.saturating_sub(PROBE as u64);
    let mut buf = vec![0u8; (size - from) as usize];
    file.read_exact_at(&mut buf, from)?;
    Ok(buf
        .split(|&c| c == b'\n')
        .rev()
        .filter(|l| l.first() != Some(&b'\t'))
        .find_map(line_time))
}

/// The offset of the first entry less than `secs` older than the file's last entry
/// (0 when the file has no readable times).
pub fn offset_since(file: &File, size: u64, secs: u32) -> io::Result<u64> {
    if size == 0 {
        return Ok(0);
    }
    let Some(end) = last_time(file, size)? else {
        return Ok(0);
    };
    let cutoff = end - i64::from(secs) * 1000;
    // Invariant: the answer lies in [lo, hi]; lo is a line start.
    let (mut lo, mut hi) = (0u64, size);
    while hi - lo > PROBE as u64 {
        let mid = lo + (hi - lo) / 2;
        match probe(file, mid, size, false)? {
            Some((at, t)) if t < cutoff => lo = at,
            _ => hi = mid,
        }
    }
    // Finish with a scan of the last stretch.
    let mut pos = lo;
    while pos < size {
        match probe(file, pos, size, true)? {
            Some((at, t)) if t >= cutoff => return Ok(at),
            Some((at, _)) => {
                let mut one = [0u8; PROBE];
                let n = file.read_at(&mut one, at)?;
                match memchr::memchr(b'\n', &one[..n]) {
                    Some(i) => pos = at + i as u64 + 1,
                    None => return Ok(size),
                }
            }
            None => return Ok(size),
        }
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn finds_the_first_entry_of_the_period() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        let mut offsets = Vec::new();
        let mut pos = 0u64;
        for m in 0..600u32 {
            offsets.push(pos);
            let line = format!(
                "2026-11-27 {:02}:{:02}:00.000 UTC [1] LOG:  line {m}\n\tcontinuation 2026-11-27 23:59:59 UTC\n",
                10 + m / 60,
                m % 60
            );
            f.write_all(line.as_bytes()).unwrap();
            pos += line.len() as u64;
        }
        f.flush().unwrap();
        let file = File::open(f.path()).unwrap();
        // Last entry at 19:59; the last 2 h start at 17:59 → minute 479.
        assert_eq!(offset_since(&file, pos, 7200).unwrap(), offsets[479]);
        assert_eq!(offset_since(&file, pos, 60).unwrap(), offsets[598]);
        assert_eq!(offset_since(&file, pos, 100_000).unwrap(), 0);
        assert_eq!(
            line_time(b"{\"timestamp\":\"2026-11-27 10:00:00.000 UTC\",\"pid\":1}"),
            Some(1_795_773_600_000)
        );
    }
}
