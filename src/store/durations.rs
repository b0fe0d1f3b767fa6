//! A compact log-scale histogram of session times, for percentiles per application.

/// Buckets: four per power of two of milliseconds, up to about 2^48 ms.
const BUCKETS: usize = 4 * 48;

/// Session-time histogram; allocated on the first recorded value.
#[derive(Debug, Clone, Default)]
pub struct Durations {
    counts: Option<Box<[u32; BUCKETS]>>,
    total: u64,
}

/// `floor(4 * log2(ms + 1))`: exactly, in integers, as `log2((ms + 1)^4)` below 2^32 ms (every
/// session shorter than 49 days: no float logarithm per session), by floats above.
fn bucket(ms: u64) -> usize {
    let v = u128::from(ms) + 1;
    let b = if v < 1 << 32 {
        (v * v * v * v).ilog2() as usize
    } else {
        ((v as f64).log2() * 4.0) as usize
    };
    b.min(BUCKETS - 1)
}

fn bucket_value(i: usize) -> u64 {
    // The geometric middle of the bucket.
    (2f64.powf((i as f64 + 0.5) / 4.0) - 1.0).round().max(0.0) as u64
}

impl Durations {
    /// Records one session time.
    pub fn record(&mut self, ms: u64) {
        let c = self.counts.get_or_insert_with(|| Box::new([0; BUCKETS]));
        let b = bucket(ms);
        c[b] = c[b].saturating_add(1);
        self.total += 1;
    }

    /// How many were recorded.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Adds another histogram into this one.
    pub fn merge(&mut self, o: &Durations) {
        if let Some(oc) = &o.counts {
            let c = self.counts.get_or_insert_with(|| Box::new([0; BUCKETS]));
            for (a, b) in c.iter_mut().zip(oc.iter()) {
                *a = a.saturating_add(*b);
            }
            self.total += o.total;
        }
    }

    /// The approximate `p`-th percentile (0..=100) in milliseconds.
    pub fn percentile(&self, p: f64) -> Option<u64> {
        let c = self.counts.as_ref()?;
        let rank = ((p / 100.0) * self.total as f64).ceil().max(1.0) as u64;
        let mut seen = 0u64;
        for (i, n) in c.iter().enumerate() {
            seen += u64::from(*n);
            if seen >= rank {
                return Some(bucket_value(i));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_four_a_power_of_two() {
        for ms in (0..100_000u64).chain([(1 << 32) - 2, (1 << 32) - 1, 1 << 40, u64::MAX - 1]) {
            let b = bucket(ms);
            let v = (ms as f64) + 1.0;
            // 2^(b/4) <= ms + 1 < 2^((b+1)/4), within float rounding at the edges.
            assert!(
                2f64.powf(b as f64 / 4.0) <= v * (1.0 + 1e-12),
                "{ms} in {b}"
            );
            if b < BUCKETS - 1 {
                assert!(
                    v < 2f64.powf((b + 1) as f64 / 4.0) * (1.0 + 1e-12),
                    "{ms} in {b}"
                );
            }
        }
        assert_eq!((bucket(0), bucket(1), bucket(2), bucket(3)), (0, 4, 6, 8));
    }

    #[test]
    fn percentiles_are_close() {
        let mut d = Durations::default();
        for ms in 1..=1000 {
            d.record(ms);
        }
        let p50 = d.percentile(50.0).unwrap() as f64;
        let p99 = d.percentile(99.0).unwrap() as f64;
        assert!((p50 / 500.0 - 1.0).abs() < 0.1, "{p50}");
        assert!((p99 / 990.0 - 1.0).abs() < 0.1, "{p99}");
        assert_eq!(Durations::default().percentile(50.0), None);
    }
}
