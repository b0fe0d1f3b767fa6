//! PostgreSQL 18 connection setup times (`connection ready: setup total=... fork=...
//! authentication=...`): a fixed-bucket log histogram of each figure per application and per
//! host, with capped keys, read back as p50 / p90 / p99.

use super::intern::{self, Name, Sym};
use crate::model::SetupTimes;

/// Values below this many microseconds have a bucket each (exact).
const EXACT: u32 = 32;
/// Sub-buckets per power of two above [`EXACT`]: a bucket is at most 1/16 of its lower bound
/// wide, so its middle is within 1/32 (3.1 %) of any value in it.
const SUB_BITS: u32 = 4;
const SUB: u32 = 1 << SUB_BITS;
/// Buckets of one histogram: the exact ones, then 16 per power of two from 2^5 to 2^31.
const BUCKETS: usize = EXACT as usize + (32 - 5) * SUB as usize;
/// Keys (applications, hosts) kept each; later ones fold into `(other)`.
pub const MAX_KEYS: usize = 256;

/// A log-bucketed histogram of microsecond values (u32, up to 71 minutes).
#[derive(Debug, Clone)]
pub struct LogHistogram {
    counts: Box<[u32; BUCKETS]>,
    n: u64,
}

impl Default for LogHistogram {
    fn default() -> Self {
        LogHistogram {
            counts: Box::new([0; BUCKETS]),
            n: 0,
        }
    }
}

fn bucket_of(v: u32) -> usize {
    if v < EXACT {
        return v as usize;
    }
    let e = 31 - v.leading_zeros(); // >= 5
    let m = (v >> (e - SUB_BITS)) & (SUB - 1);
    EXACT as usize + ((e - 5) * SUB + m) as usize
}

/// The middle of bucket `b`, the value a percentile falling in it reads as.
fn middle_of(b: usize) -> u32 {
    let b = b as u32;
    if b < EXACT {
        return b;
    }
    let k = b - EXACT;
    let e = k / SUB + 5;
    let m = k % SUB;
    let width = 1u64 << (e - SUB_BITS);
    let lower = u64::from(SUB + m) * width;
    u32::try_from(lower + width / 2).unwrap_or(u32::MAX)
}

impl LogHistogram {
    /// Counts one value.
    pub fn record(&mut self, us: u32) {
        let c = &mut self.counts[bucket_of(us)];
        *c = c.saturating_add(1);
        self.n += 1;
    }

    /// Values counted.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// The nearest-rank percentile `p` (0-100), as the middle of its bucket; `None` when empty.
    /// It is within 1/32 of the exact value (exact below 32 µs).
    pub fn percentile(&self, p: f64) -> Option<u32> {
        if self.n == 0 {
            return None;
        }
        let rank = ((p / 100.0 * self.n as f64).ceil() as u64).clamp(1, self.n);
        let mut seen = 0u64;
        for (b, &c) in self.counts.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                return Some(middle_of(b));
            }
        }
        Some(middle_of(BUCKETS - 1))
    }

    /// p50, p90 and p99 (zeros when empty).
    pub fn quantiles(&self) -> Quantiles {
        let q = |p| self.percentile(p).unwrap_or(0);
        Quantiles {
            p50_us: q(50.0),
            p90_us: q(90.0),
            p99_us: q(99.0),
        }
    }
}

/// Three histograms: setup total, fork, authentication.
#[derive(Debug, Clone, Default)]
pub struct SetupHistograms {
    pub total: LogHistogram,
    pub fork: LogHistogram,
    pub authentication: LogHistogram,
}

impl SetupHistograms {
    fn record(&mut self, t: SetupTimes) {
        self.total.record(t.total_us);
        self.fork.record(t.fork_us);
        self.authentication.record(t.auth_us);
    }
}

/// p50 / p90 / p99 of one figure, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Quantiles {
    pub p50_us: u32,
    pub p90_us: u32,
    pub p99_us: u32,
}

/// What one application or host's setup times read as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupRow {
    /// The application or host (the unset value is the interner's `unknown`).
    pub name: Name,
    /// Whether the name is the unset value (no application_name).
    pub unset: bool,
    /// `connection ready` lines counted.
    pub count: u64,
    pub total: Quantiles,
    pub fork: Quantiles,
    pub authentication: Quantiles,
}

/// The setup times of every key of one dimension, most connections first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetupTable {
    pub by_application: Vec<SetupRow>,
    pub by_host: Vec<SetupRow>,
}

/// Setup-time histograms per application and per host, each map capped at [`MAX_KEYS`].
#[derive(Debug, Default)]
pub struct SetupStats {
    by_application: super::FastMap<Sym, SetupHistograms>,
    by_host: super::FastMap<Sym, SetupHistograms>,
    /// `connection ready` lines counted since the last clear.
    lines: u64,
}

fn capped(map: &mut super::FastMap<Sym, SetupHistograms>, key: Sym) -> &mut SetupHistograms {
    let key = if map.len() >= MAX_KEYS && !map.contains_key(&key) {
        intern::OTHER
    } else {
        key
    };
    map.entry(key).or_default()
}

impl SetupStats {
    /// Counts one session's setup times under its application and host.
    pub fn record(&mut self, application: Sym, host: Sym, t: SetupTimes) {
        self.lines += 1;
        capped(&mut self.by_application, application).record(t);
        capped(&mut self.by_host, host).record(t);
    }

    /// Forgets every figure.
    pub fn clear(&mut self) {
        *self = SetupStats::default();
    }

    /// `connection ready` lines counted.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// The per-key quantiles, names read from `names`.
    pub fn table(&self, names: &intern::Interner) -> SetupTable {
        let rows = |map: &super::FastMap<Sym, SetupHistograms>| {
            let mut v: Vec<SetupRow> = map
                .iter()
                .map(|(&sym, h)| SetupRow {
                    name: names.name(sym).clone(),
                    unset: sym == intern::UNKNOWN,
                    count: h.total.count(),
                    total: h.total.quantiles(),
                    fork: h.fork.quantiles(),
                    authentication: h.authentication.quantiles(),
                })
                .collect();
            v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
            v
        };
        SetupTable {
            by_application: rows(&self.by_application),
            by_host: rows(&self.by_host),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotone_and_middles_are_close() {
        let mut last = 0;
        for v in (0..5_000u32).chain([u32::MAX / 3, u32::MAX - 1, u32::MAX]) {
            let b = bucket_of(v);
            assert!(b >= last && b < BUCKETS, "{v}");
            last = b;
            let m = u64::from(middle_of(b));
            let err = m.abs_diff(u64::from(v));
            assert!(err * 32 <= u64::from(v) + 32, "{v} -> {m}");
        }
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut h = LogHistogram::default();
        assert_eq!(h.percentile(50.0), None);
        for v in 1..=100u32 {
            h.record(v * 1000);
        }
        let p50 = h.percentile(50.0).unwrap();
        let p99 = h.percentile(99.0).unwrap();
        assert!(p50.abs_diff(50_000) <= 50_000 / 32, "{p50}");
        assert!(p99.abs_diff(99_000) <= 99_000 / 32, "{p99}");
    }

    #[test]
    fn keys_are_capped() {
        let mut s = SetupStats::default();
        for k in 0..(MAX_KEYS as u32 + 50) {
            s.record(k + 2, 0, SetupTimes::default());
        }
        assert_eq!(s.by_application.len(), MAX_KEYS + 1);
        assert_eq!(s.lines(), MAX_KEYS as u64 + 50);
    }
}
