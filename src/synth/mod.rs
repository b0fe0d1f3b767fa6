//! A generator of long PostgreSQL stderr logs with a known truth: hours of traffic from steady
//! pools, short sessions, one leaking application, failures (some authorized and then refused),
//! PID reuse, a restart, a crash and multi-line noise, under any `log_line_prefix`.
//!
//! The truth is what the simulated server did, kept apart from any parsing.

mod prefix;
mod sim;

pub use prefix::format_time;

use std::collections::BTreeMap;
use std::io::Write;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    pub seed: u64,
    /// Log start, epoch milliseconds.
    pub start_millis: i64,
    /// Length of the log in minutes.
    pub minutes: u32,
    /// The `log_line_prefix` lines are written with.
    pub prefix: String,
    /// Zone abbreviation and offset printed in timestamps.
    pub zone: (&'static str, i32),
    /// Lines that are not connection events, per minute (statements, errors, checkpoints).
    pub noise_per_minute: u32,
    /// The leaking application opens one session this often (minutes) and never closes it.
    pub leak_every_minutes: u32,
    /// Minute of a fast restart, if any.
    pub restart_at: Option<u32>,
    /// Minute of a crash (a backend killed, every session lost), if any.
    pub crash_at: Option<u32>,
    /// Backend pids are drawn from this range, so they are reused.
    pub pid_range: (u32, u32),
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            seed: 7,
            start_millis: 1_764_000_000_000,
            minutes: 6 * 60,
            prefix: "%m [%p] %q%u@%d ".into(),
            zone: ("UTC", 0),
            noise_per_minute: 20,
            leak_every_minutes: 5,
            restart_at: Some(150),
            crash_at: Some(250),
            pid_range: (2000, 2600),
        }
    }
}

/// One open session in the truth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruthSession {
    pub user: String,
    pub database: String,
    pub application: Option<String>,
    pub host: String,
}

/// Per-minute counts in the truth.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MinuteTruth {
    pub connects: i64,
    pub disconnects: i64,
    pub lost: i64,
    pub failures: i64,
}

/// What the simulated server did.
#[derive(Debug, Clone, Default)]
pub struct Truth {
    /// Open sessions at the end, by pid.
    pub active: BTreeMap<u32, TruthSession>,
    pub connects: u64,
    pub disconnects: u64,
    pub lost: u64,
    pub failures: BTreeMap<&'static str, u64>,
    /// By minute start (epoch ms).
    pub minutes: BTreeMap<i64, MinuteTruth>,
    /// The leaking application and the steady pools.
    pub leak_app: String,
    pub pool_apps: Vec<String>,
    /// Lines written.
    pub lines: u64,
    /// Connection event lines written (received, authorized, disconnection, FATAL).
    pub event_lines: u64,
    /// Times the same pid served two sessions.
    pub pid_reuses: u64,
    pub end_millis: i64,
}

/// Writes a log to `out` and returns what the simulated server did.
pub fn generate<W: Write>(cfg: &SynthConfig, out: &mut W) -> Truth {
    sim::simulate(cfg, out)
}
