//! The simulated server behind the generator: sessions, failures, noise, a restart and a
//! crash, scheduled in time order, each written as PostgreSQL would log it and recorded in
//! the truth.

use super::prefix::{render, LineContext, SessionContext};
use super::{MinuteTruth, SynthConfig, Truth, TruthSession};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::io::Write;

/// The steady pools: (application, user, database, host, size).
const POOLS: [(&str, &str, &str, &str, usize); 3] = [
    ("rails", "app_user", "production", "10.0.1.5", 8),
    ("sidekiq", "app_user", "production", "10.0.1.6", 4),
    ("metabase reporting", "report user", "my db", "::1", 2),
];
const LEAK: (&str, &str, &str, &str) = ("billing-worker", "billing", "production", "10.0.2.9");

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    Minute(u32),
    Open { kind: usize },
    Close { pid: u32, generation: u64 },
    Fail { kind: usize },
    Noise,
    Restart,
    Crash,
}

struct Live {
    generation: u64,
    kind: usize,
    start: i64,
    port: u16,
    s: TruthSession,
}

struct Sim<'w, W: Write> {
    cfg: SynthConfig,
    out: &'w mut W,
    rng: u64,
    now: i64,
    seq: u64,
    queue: BinaryHeap<Reverse<(i64, u64, Action)>>,
    live: BTreeMap<u32, Live>,
    used_pids: std::collections::HashSet<u32>,
    next_pid: u32,
    generation: u64,
    truth: Truth,
    line: String,
    postmaster: u32,
}

/// Kinds of sessions: 0..3 pools, 3 leak, 4 short (cron/psql).
const KIND_LEAK: usize = 3;
const KIND_SHORT: usize = 4;
const FAILURES: [&str; 6] = [
    "password_failed",
    "role_missing",
    "database_missing",
    "role_limit",
    "reserved_slots",
    "no_hba_entry",
];

impl<'w, W: Write> Sim<'w, W> {
    fn rand(&mut self) -> u64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.rand() % n.max(1)
    }

    fn at(&mut self, t: i64, a: Action) {
        self.seq += 1;
        self.queue.push(Reverse((t, self.seq, a)));
    }

    fn minute_mut(&mut self) -> &mut MinuteTruth {
        let m = self.now.div_euclid(60_000) * 60_000;
        self.truth.minutes.entry(m).or_default()
    }

    fn pid(&mut self) -> u32 {
        let (lo, hi) = self.cfg.pid_range;
        loop {
            let p = self.next_pid;
            self.next_pid = if p + 1 >= hi { lo } else { p + 1 };
            if !self.live.contains_key(&p) && p != self.postmaster {
                if !self.used_pids.insert(p) {
                    self.truth.pid_reuses += 1;
                }
                return p;
            }
        }
    }

    fn write(
        &mut self,
        pid: u32,
        session: Option<SessionContext<'_>>,
        sev: &str,
        msg: &str,
        event: bool,
    ) {
        let cx = LineContext {
            millis: self.now,
            pid,
            session,
            line_number: 1,
            sqlstate: "",
        };
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        render(&mut line, &self.cfg.prefix, self.cfg.zone, &cx);
        line.push_str(sev);
        line.push_str(":  ");
        line.push_str(msg);
        line.push('\n');
        let _ = self.out.write_all(line.as_bytes());
        self.truth.lines += 1 + msg.matches('\n').count() as u64;
        self.truth.event_lines += u64::from(event);
        self.line = line;
    }

    /// A postmaster line (no session: `%q` ends the prefix there).
    fn server_log(&mut self, msg: &str, event: bool) {
        self.write(self.postmaster, None, "LOG", msg, event);
    }

    fn session_values(kind: usize, n: u64) -> TruthSession {
        let (app, user, db, host) = match kind {
            k if k < POOLS.len() => (POOLS[k].0, POOLS[k].1, POOLS[k].2, POOLS[k].3),
            KIND_LEAK => LEAK,
            _ if n.is_multiple_of(2) => ("", "postgres", "postgres", "[local]"),
            _ => ("cron", "app_user", "production", "10.0.3.7"),
        };
        TruthSession {
            user: user.into(),
            database: db.into(),
            application: (!app.is_empty()).then(|| app.into()),
            host: host.into(),
        }
    }

    fn open(&mut self, kind: usize) {
        let pid = self.pid();
        let n = self.rand();
        let s = Self::session_values(kind, n);
        let port = if s.host == "[local]" {
            0
        } else {
            30_000 + (n % 30_000) as u16
        };
        let received = format!(
            "connection received: host={}{}",
            s.host,
            if port > 0 {
                format!(" port={port}")
            } else {
                String::new()
            }
        );
        let pending = SessionContext {
            host: &s.host,
            port: (port > 0).then_some(port),
            start_millis: self.now,
            ..Default::default()
        };
        self.write(pid, Some(pending), "LOG", &received, true);
        let mut auth = format!(
            "connection authorized: user={} database={}",
            s.user, s.database
        );
        if let Some(a) = &s.application {
            auth.push_str(" application_name=");
            auth.push_str(a);
        }
        if n.is_multiple_of(3) {
            auth.push_str(
                " SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)",
            );
        }
        let cx = SessionContext {
            user: &s.user,
            database: &s.database,
            application: "",
            host: &s.host,
            port: (port > 0).then_some(port),
            start_millis: self.now,
        };
        self.write(pid, Some(cx), "LOG", &auth, true);
        self.generation += 1;
        let generation = self.generation;
        self.truth.connects += 1;
        self.minute_mut().connects += 1;
        let lifetime = match kind {
            k if k < POOLS.len() => Some(60_000 * (5 + self.below(90) as i64)),
            KIND_LEAK => None,
            _ => Some(50 + self.below(20_000) as i64),
        };
        if let Some(l) = lifetime {
            let t = self.now + l;
            self.at(t, Action::Close { pid, generation });
        }
        self.live.insert(
            pid,
            Live {
                generation,
                kind,
                start: self.now,
                port,
                s,
            },
        );
    }

    fn close(&mut self, pid: u32, generation: u64, cause: Option<&str>) {
        let Some(l) = self.live.get(&pid) else { return };
        if l.generation != generation {
            return;
        }
        let l = self.live.remove(&pid).expect("present");
        let ms = (self.now - l.start).max(0);
        let cx = SessionContext {
            user: &l.s.user,
            database: &l.s.database,
            application: l.s.application.as_deref().unwrap_or(""),
            host: &l.s.host,
            port: (l.port > 0).then_some(l.port),
            start_millis: l.start,
        };
        if let Some(c) = cause {
            self.write(pid, Some(cx), "FATAL", c, true);
        }
        let msg = format!(
            "disconnection: session time: {}:{:02}:{:02}.{:03} user={} database={} host={}{}",
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000,
            l.s.user,
            l.s.database,
            l.s.host,
            if l.port > 0 {
                format!(" port={}", l.port)
            } else {
                String::new()
            }
        );
        self.write(pid, Some(cx), "LOG", &msg, true);
        self.truth.disconnects += 1;
        self.minute_mut().disconnects += 1;
        if l.kind < POOLS.len() {
            // A pool keeps its size: the slot reopens shortly.
            let t = self.now + 200 + self.below(3000) as i64;
            self.at(t, Action::Open { kind: l.kind });
        }
    }

    fn fail(&mut self, kind: usize) {
        let pid = self.pid();
        let port = 40_000 + self.below(20_000) as u16;
        let host = "10.0.9.9";
        let pending = SessionContext {
            host,
            port: Some(port),
            start_millis: self.now,
            ..Default::default()
        };
        self.write(
            pid,
            Some(pending),
            "LOG",
            &format!("connection received: host={host} port={port}"),
            true,
        );
        let (user, db) = match kind {
            1 => ("ghost\x1b[31m", "production"),
            2 => ("app_user", "nonexistent"),
            3 => ("limited", "analytics"),
            _ => ("app_user", "production"),
        };
        let cx = SessionContext {
            user,
            database: db,
            application: "",
            host,
            port: Some(port),
            start_millis: self.now,
        };
        let msg = match kind {
            0 => format!("password authentication failed for user \"{user}\"\n\tConnection matched pg_hba.conf line 94: \"host all all 0.0.0.0/0 scram-sha-256\""),
            1 => format!("role \"{user}\" does not exist"),
            2 => format!("database \"{db}\" does not exist"),
            3 | 4 => {
                self.write(pid, Some(cx), "LOG", &format!("connection authorized: user={user} database={db} application_name=etl"), true);
                if kind == 3 {
                    format!("too many connections for role \"{user}\"")
                } else {
                    "remaining connection slots are reserved for non-replication superuser connections".to_string()
                }
            }
            _ => format!("no pg_hba.conf entry for host \"{host}\", user \"{user}\", database \"{db}\", no encryption"),
        };
        self.write(pid, Some(cx), "FATAL", &msg, true);
        *self.truth.failures.entry(FAILURES[kind]).or_default() += 1;
        self.minute_mut().failures += 1;
    }

    fn noise(&mut self) {
        let pid = self.cfg.pid_range.0 - 1 - self.below(50) as u32;
        let cx = SessionContext {
            user: "app_user",
            database: "production",
            application: "rails",
            host: "10.0.1.5",
            port: Some(5),
            start_millis: self.now,
        };
        match self.below(20) {
            0 => self.write(
                pid,
                Some(cx),
                "ERROR",
                "duplicate key value violates unique constraint \"users_pkey\"\n\tDETAIL:  Key (id)=(42) already exists.",
                false,
            ),
            1 => self.write(
                pid,
                Some(cx),
                "STATEMENT",
                "SELECT 'connection authorized: user=evil database=fake application_name=x'\n\t  FROM t\n\tWHERE 'disconnection: session time: 0:00:01.000 user=a database=b host=c' <> ''",
                false,
            ),
            2 => self.write(self.postmaster + 2, None, "LOG", "checkpoint starting: time", false),
            _ => {
                let ms = self.below(100_000);
                let q = format!("duration: {}.{:03} ms  statement: SELECT * FROM orders WHERE id = {} AND status = 'open'", ms / 1000, ms % 1000, self.below(1_000_000));
                self.write(pid, Some(cx), "LOG", &q, false);
            }
        }
    }

    fn end_all(&mut self, crash: bool) {
        let pids: Vec<u32> = self.live.keys().copied().collect();
        if crash {
            let victim = pids.first().copied().unwrap_or(self.postmaster + 1);
            self.server_log(
                &format!("server process (PID {victim}) was terminated by signal 9: Killed"),
                false,
            );
            self.server_log("terminating any other active server processes", true);
            let n = self.live.len() as i64;
            self.truth.lost += n as u64;
            self.minute_mut().lost += n;
            self.live.clear();
            self.server_log("all server processes terminated; reinitializing", true);
        } else {
            self.server_log("received fast shutdown request", true);
            for pid in pids {
                let g = self.live[&pid].generation;
                self.close_no_reopen(pid, g);
            }
            self.server_log("database system is shut down", true);
            self.now += 500;
            self.postmaster = self.cfg.pid_range.0 - 100 - self.below(40) as u32;
            self.server_log("starting PostgreSQL 15.18 on x86_64-pc-linux-gnu", true);
        }
        self.now += 300;
        self.server_log("database system is ready to accept connections", true);
        self.reopen_pools();
    }

    fn close_no_reopen(&mut self, pid: u32, g: u64) {
        if let Some(l) = self.live.get_mut(&pid) {
            l.kind = KIND_SHORT;
        }
        self.close(
            pid,
            g,
            Some("terminating connection due to administrator command"),
        );
    }

    fn reopen_pools(&mut self) {
        for (k, pool) in POOLS.iter().enumerate() {
            for _ in 0..pool.4 {
                let t = self.now + 1000 + self.below(20_000) as i64;
                self.at(t, Action::Open { kind: k });
            }
        }
    }

    fn run(&mut self) {
        self.server_log("starting PostgreSQL 15.18 on x86_64-pc-linux-gnu", true);
        self.server_log("database system is ready to accept connections", true);
        // Sessions begun before the log: only their disconnection is seen.
        for i in 0..3u32 {
            let pid = self.cfg.pid_range.0 - 60 - i;
            self.used_pids.insert(pid);
            self.at(
                self.now + 5_000 + i64::from(i) * 1000,
                Action::Close { pid, generation: 0 },
            );
            self.live.insert(
                pid,
                Live {
                    generation: 0,
                    kind: KIND_SHORT,
                    start: self.now - 3_600_000,
                    port: 5432,
                    s: Self::session_values(0, 0),
                },
            );
        }
        self.truth.connects = 0;
        self.reopen_pools();
        let end = self.cfg.start_millis + i64::from(self.cfg.minutes) * 60_000;
        for m in 0..self.cfg.minutes {
            self.at(
                self.cfg.start_millis + i64::from(m) * 60_000,
                Action::Minute(m),
            );
        }
        while let Some(Reverse((t, _, a))) = self.queue.pop() {
            if t >= end {
                break;
            }
            self.now = self.now.max(t);
            match a {
                Action::Minute(m) => self.minute(m),
                Action::Open { kind } => self.open(kind),
                Action::Close { pid, generation } => self.close(pid, generation, None),
                Action::Fail { kind } => self.fail(kind),
                Action::Noise => self.noise(),
                Action::Restart => self.end_all(false),
                Action::Crash => self.end_all(true),
            }
        }
        self.truth.end_millis = self.now;
        self.truth.active = self.live.iter().map(|(p, l)| (*p, l.s.clone())).collect();
        self.truth
            .minutes
            .retain(|_, m| *m != MinuteTruth::default());
    }

    fn minute(&mut self, m: u32) {
        let base = self.cfg.start_millis + i64::from(m) * 60_000;
        let jitter = |s: &mut Self| base + s.below(59_000) as i64 + 500;
        if self.cfg.leak_every_minutes > 0 && m % self.cfg.leak_every_minutes == 1 {
            let t = jitter(self);
            self.at(t, Action::Open { kind: KIND_LEAK });
        }
        for _ in 0..self.below(4) {
            let t = jitter(self);
            self.at(t, Action::Open { kind: KIND_SHORT });
        }
        if self.below(3) == 0 {
            let t = jitter(self);
            let k = self.below(FAILURES.len() as u64) as usize;
            self.at(t, Action::Fail { kind: k });
        }
        for _ in 0..self.cfg.noise_per_minute {
            let t = jitter(self);
            self.at(t, Action::Noise);
        }
        if self.cfg.restart_at == Some(m) {
            self.at(base + 30_000, Action::Restart);
        }
        if self.cfg.crash_at == Some(m) {
            self.at(base + 30_000, Action::Crash);
        }
    }
}

/// Runs the simulation, writing the log to `out`.
pub(super) fn simulate<W: Write>(cfg: &SynthConfig, out: &mut W) -> Truth {
    let mut sim = Sim {
        cfg: cfg.clone(),
        out,
        rng: cfg.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
        now: cfg.start_millis,
        seq: 0,
        queue: BinaryHeap::new(),
        live: BTreeMap::new(),
        used_pids: Default::default(),
        next_pid: cfg.pid_range.0,
        generation: 0,
        truth: Truth {
            leak_app: LEAK.0.into(),
            pool_apps: POOLS.iter().map(|p| p.0.to_string()).collect(),
            ..Truth::default()
        },
        line: String::new(),
        postmaster: cfg.pid_range.0 - 200,
    };
    sim.run();
    let _ = sim.out.flush();
    sim.truth
}
