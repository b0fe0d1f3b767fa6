//! Series tables with a bounded number of series: the key of one series, counters whose named
//! series are admitted first come (so that a counter never moves into `other` and goes down),
//! and histograms of seconds.

use super::names::{Sym, NONE, OTHER};
use std::collections::HashMap;

/// One series: server, a small tag (how a session ended, a failure reason) and the four
/// dimensions (database, user, application, host), [`NONE`] where the metric has no label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub server: u16,
    pub tag: u8,
    pub dims: [Sym; 4],
}

impl Key {
    /// Whether a client-chosen name is part of the key (such series count against the cap).
    pub fn named(&self) -> bool {
        self.dims.iter().any(|&d| d != NONE && d != OTHER)
    }

    /// The key with every labelled dimension folded into `other`.
    pub fn folded(mut self) -> Key {
        for d in &mut self.dims {
            if *d != NONE {
                *d = OTHER;
            }
        }
        self
    }
}

/// Series of one metric; at most `cap` named series, later names fold into `other` (one
/// `other` series per server and tag). Admission is sticky: a counter stays in its series.
#[derive(Debug)]
pub struct Table<V> {
    map: HashMap<Key, V, foldhash::fast::RandomState>,
    named: usize,
    cap: usize,
}

impl<V: Default> Table<V> {
    /// An empty table admitting `cap` named series.
    pub fn new(cap: usize) -> Table<V> {
        Table {
            map: HashMap::default(),
            named: 0,
            cap,
        }
    }

    /// The value of a series, created (or folded into `other`, past the cap) when new.
    pub fn slot(&mut self, key: Key) -> &mut V {
        let key = if self.map.contains_key(&key) || !key.named() {
            key
        } else if self.named < self.cap {
            self.named += 1;
            key
        } else {
            key.folded()
        };
        self.map.entry(key).or_default()
    }

    /// Every series.
    pub fn iter(&self) -> impl Iterator<Item = (&Key, &V)> {
        self.map.iter()
    }

    /// Number of series.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there is no series.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Upper bounds (seconds) of a histogram's buckets; +Inf is added when encoding.
pub trait Buckets: Default + Clone + std::fmt::Debug {
    const BOUNDS: [f64; 12];
}

/// Buckets for session lengths: 10 ms to a day.
#[derive(Debug, Clone, Default)]
pub struct SessionLength;

impl Buckets for SessionLength {
    const BOUNDS: [f64; 12] = [
        0.01, 0.1, 0.5, 1.0, 5.0, 30.0, 60.0, 300.0, 1800.0, 3600.0, 14_400.0, 86_400.0,
    ];
}

/// Buckets for connection setup (PostgreSQL 18 `connection ready`): 0.5 ms to 5 s.
#[derive(Debug, Clone, Default)]
pub struct SetupTime;

impl Buckets for SetupTime {
    const BOUNDS: [f64; 12] = [
        0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 5.0,
    ];
}

/// A histogram of durations in seconds.
#[derive(Debug, Clone, Default)]
pub struct Hist<B: Buckets = SessionLength> {
    pub sum: f64,
    pub count: u64,
    /// Observations per bucket (not cumulative); the last is +Inf.
    pub buckets: [u64; 13],
    bounds: std::marker::PhantomData<B>,
}

impl<B: Buckets> Hist<B> {
    /// Records one observation.
    pub fn observe(&mut self, secs: f64) {
        self.sum += secs;
        self.count += 1;
        let i = B::BOUNDS
            .iter()
            .position(|&b| secs <= b)
            .unwrap_or(B::BOUNDS.len());
        self.buckets[i] += 1;
    }

    /// (upper bound, count) pairs as the encoder takes them.
    pub fn pairs(&self) -> Vec<(f64, u64)> {
        B::BOUNDS
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(self.buckets.iter().copied())
            .collect()
    }
}

/// The `n` largest values of a gauge, and the rest summed into `other` per server.
pub fn top_n(values: &HashMap<Key, i64>, n: usize) -> Vec<(Key, i64)> {
    let mut all: Vec<(Key, i64)> = values
        .iter()
        .filter(|(_, &v)| v != 0)
        .map(|(k, v)| (*k, *v))
        .collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut out: Vec<(Key, i64)> = Vec::new();
    let mut named = 0;
    let mut other: HashMap<Key, i64> = HashMap::new();
    for (k, v) in all {
        if !k.named() || named < n {
            named += usize::from(k.named());
            out.push((k, v));
        } else {
            *other.entry(k.folded()).or_default() += v;
        }
    }
    for (k, v) in other {
        match out.iter_mut().find(|(o, _)| *o == k) {
            Some(slot) => slot.1 += v,
            None => out.push((k, v)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: Sym) -> Key {
        Key {
            server: 0,
            tag: 0,
            dims: [NONE, name, NONE, NONE],
        }
    }

    #[test]
    fn counters_past_the_cap_fold_into_other_and_stay() {
        let mut t: Table<u64> = Table::new(2);
        *t.slot(key(10)) += 1;
        *t.slot(key(11)) += 1;
        *t.slot(key(12)) += 5;
        *t.slot(key(13)) += 1;
        *t.slot(key(10)) += 1;
        assert_eq!(t.len(), 3);
        let m: HashMap<Key, u64> = t.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(m[&key(10)], 2);
        assert_eq!(m[&key(OTHER)], 6);
    }

    #[test]
    fn gauges_keep_the_largest_and_sum_the_rest() {
        let mut g = HashMap::new();
        for (i, v) in [(10, 5), (11, 1), (12, 3), (13, 0), (14, 2)] {
            g.insert(key(i), v);
        }
        let mut top = top_n(&g, 2);
        top.sort();
        assert_eq!(top, vec![(key(OTHER), 3), (key(10), 5), (key(12), 3)]);
    }

    #[test]
    fn histogram_buckets_by_upper_bound() {
        let mut h: Hist = Hist::default();
        h.observe(0.5);
        h.observe(7200.0);
        h.observe(1e9);
        assert_eq!(h.count, 3);
        assert_eq!(h.buckets[2], 1);
        assert_eq!(h.buckets[10], 1);
        assert_eq!(h.buckets[12], 1);
        assert_eq!(h.pairs().len(), 13);
    }
}
