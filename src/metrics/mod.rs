//! Prometheus metrics of `--metrics ADDR` and `--serve`: counters that only go up, fed the
//! same connection events as the store (a dashboard `c` never touches them), gauges read off
//! the engine after each batch, one `server` label per source, and a bounded number of series.
//!
//! Integration: [`attach`] (from `live::start`) installs a [`Metrics`] observer in the engine
//! and starts the HTTP endpoint ([`http`]); [`serve`] is the headless `--serve` mode.

mod encode;
pub mod http;
pub mod names;
mod state;
pub mod table;

pub use state::{How, ServerFigures, State};

use crate::cli::Cli;
use crate::engine::{Engine, Observer};
use crate::model::ConnectionEvent;
use prometheus_client::registry::Registry;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

/// Named series kept per metric by default; the rest fold into `other`.
pub const DEFAULT_CAP: usize = 100;
/// The endpoint's address when `--serve` names none.
pub const DEFAULT_ADDR: &str = "127.0.0.1:9187";
/// Leak suspects are computed at most this often.
const LEAK_EVERY: Duration = Duration::from_secs(1);

/// Which of database, user, application, host are labels of the session metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims(pub [bool; 4]);

impl Default for Dims {
    /// database, user, application: host is the one that explodes.
    fn default() -> Self {
        Dims([true, true, true, false])
    }
}

/// `--metrics-labels`: a comma-separated list of database, user, application, host (or db, app).
pub fn parse_dims(s: &str) -> Result<Dims, String> {
    use crate::store::intern::Dim;
    let mut on = [false; 4];
    for word in s.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        // The client dimensions, by key or filter key (the server is always a label).
        match Dim::from_key(word).filter(|d| Dim::CLIENT.contains(d)) {
            Some(d) => on[d.index()] = true,
            None => {
                let all: Vec<&str> = Dim::CLIENT.iter().map(|d| d.key()).collect();
                return Err(format!(
                    "'{word}' is not a metrics label; choose among {}",
                    all.join(", ")
                ));
            }
        }
    }
    Ok(Dims(on))
}

/// `--metrics ADDR`: `host:port`, `[v6]:port`, `:port` or a bare port (both loopback).
pub fn parse_addr(s: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let s = s.trim();
    let full = match s.parse::<u16>() {
        Ok(port) => format!("127.0.0.1:{port}"),
        Err(_) if s.starts_with(':') => format!("127.0.0.1{s}"),
        Err(_) => s.to_string(),
    };
    full.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| {
            format!("'{s}' is not an address to listen on; give host:port, e.g. {DEFAULT_ADDR}")
        })
}

/// Which text format a scrape gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposition {
    /// OpenMetrics 1.0 text, ending in `# EOF`.
    OpenMetrics,
    /// The Prometheus text format 0.0.4.
    Prometheus,
}

/// The metrics: shared between the engine's observer and the endpoint.
#[derive(Debug, Clone)]
pub struct Metrics {
    state: Arc<Mutex<State>>,
    registry: Arc<Registry>,
    leak_window_minutes: u32,
}

impl Metrics {
    /// Metrics over `dims`, with `cap` named series per metric, leaks looked for over
    /// `leak_window_minutes` of log time.
    pub fn new(dims: Dims, cap: usize, leak_window_minutes: u32) -> Metrics {
        let state = Arc::new(Mutex::new(State::new(dims, cap.max(1))));
        let mut registry = Registry::default();
        registry.register_collector(Box::new(encode::Exposition(state.clone())));
        Metrics {
            state,
            registry: Arc::new(registry),
            leak_window_minutes,
        }
    }

    /// The figures (locked).
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Engine source `source` belongs to server `name`.
    pub fn add_source(&self, source: u16, name: &str) {
        self.state().add_source(source, name);
    }

    /// Applies one event (what the engine's observer does).
    pub fn event(&self, source: u16, ev: &ConnectionEvent<'_>) {
        self.state().event(source, ev);
    }

    /// The server's `max_connections`, when something learnt it.
    pub fn set_max_connections(&self, server: &str, n: u64) {
        let server = names::label_value(server.as_bytes());
        let mut st = self.state();
        if let Some(s) = st.servers.iter_mut().find(|s| s.name == server) {
            s.max_connections = Some(n);
        }
    }

    /// Reads lines, lag, source health and (with `leaks`) leak suspects off the engine.
    pub fn sync(&self, engine: &Engine, leaks: bool) {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let suspects = match leaks {
            true => Some(engine.store.leak_suspects(
                &crate::store::filter::Filter::default(),
                self.leak_window_minutes,
            )),
            false => None,
        };
        let mut st = self.state();
        for s in &mut st.servers {
            s.up = true;
        }
        for (i, src) in engine.sources().iter().enumerate() {
            let Some(mut mark) = st.sources.get(i).copied() else {
                continue;
            };
            let x = src.stats();
            let server = &mut st.servers[mark.server as usize];
            // A count that went back (a source read again) adds what it has now.
            server.lines_read += x.read.checked_sub(mark.read).unwrap_or(x.read);
            server.lines_unparsed += x.unparsed.checked_sub(mark.unparsed).unwrap_or(x.unparsed);
            server.up &= src.error().is_none()
                && !matches!(
                    src.problem(),
                    Some(crate::engine::Problem::UnknownPrefix { .. })
                );
            if let (true, Some(t)) = (mark.fresh, mark.last_event_millis) {
                server.lag_secs = (now - t as f64 / 1000.0).max(0.0);
            }
            mark.read = x.read;
            mark.unparsed = x.unparsed;
            mark.fresh = false;
            st.sources[i] = mark;
        }
        if let Some(suspects) = suspects {
            let st = &mut *st;
            for s in &mut st.servers {
                s.leaks.clear();
            }
            for sus in suspects {
                // Metric labels are the client dimensions, in `Dim::CLIENT` order.
                let dim = sus.dimension.index();
                if dim >= crate::store::intern::Dim::CLIENT.len() {
                    continue;
                }
                let Some(sym) = st.names.find(&sus.name) else {
                    continue;
                };
                let per = st.open_with(dim, sym);
                let text = st.names.text(sym).to_string();
                for (server, n) in per.into_iter().enumerate() {
                    if n > 0 {
                        let d = sus.dimension.key();
                        st.servers[server].leaks.push((d, text.clone(), n));
                    }
                }
            }
        }
    }

    /// An engine observer feeding these metrics.
    pub fn observer(&self) -> Box<dyn Observer> {
        Box::new(Feed {
            metrics: self.clone(),
            leaks_at: None,
        })
    }

    /// The exposition in `format`.
    pub fn render(&self, format: Exposition) -> String {
        let mut out = String::with_capacity(16 << 10);
        let written = match format {
            Exposition::OpenMetrics => {
                prometheus_client::encoding::text::encode(&mut out, &self.registry)
            }
            Exposition::Prometheus => {
                prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
            }
        };
        if written.is_err() {
            out.clear();
        }
        out
    }
}

/// The engine observer: events go straight into the figures; after a batch, the engine's own
/// figures are read (leak suspects at most once a second).
#[derive(Debug)]
struct Feed {
    metrics: Metrics,
    leaks_at: Option<Instant>,
}

impl Observer for Feed {
    fn event(&mut self, source: u16, ev: &ConnectionEvent<'_>) {
        self.metrics.event(source, ev);
    }

    fn batch(&mut self, engine: &Engine) {
        let leaks = self.leaks_at.is_none_or(|t| t.elapsed() >= LEAK_EVERY);
        if leaks {
            self.leaks_at = Some(Instant::now());
        }
        self.metrics.sync(engine, leaks);
    }
}

/// With `--metrics` (or `--serve`): metrics for the engine's sources, named `servers` (by
/// source id), fed by an observer installed in `engine`, served over HTTP from a task on the
/// current tokio runtime. A non-loopback address is allowed, with a warning on stderr.
pub fn attach(
    cli: &Cli,
    servers: &[String],
    engine: &mut Engine,
) -> Result<Option<Metrics>, String> {
    let addr = match (cli.metrics, cli.serve) {
        (Some(a), _) => a,
        (None, true) => parse_addr(DEFAULT_ADDR)?,
        (None, false) => return Ok(None),
    };
    let metrics = Metrics::new(
        cli.metrics_labels,
        DEFAULT_CAP,
        (cli.leak_window / 60).max(4),
    );
    // max_connections as the capacity knows it (--max-connections, or the configuration found
    // next to the logs): the "slots nearly exhausted" alert compares sessions with it.
    let max = engine.store.capacity().max;
    for (id, name) in servers.iter().enumerate() {
        metrics.add_source(id as u16, name);
        if let Some(max) = max {
            metrics.set_max_connections(name, u64::from(max));
        }
    }
    if !addr.ip().is_loopback() {
        eprintln!("pgconn-top: warning: serving metrics on {addr}, reachable from other machines; the label values name your databases, users and client hosts");
    }
    let listener = http::bind(addr)?;
    tokio::spawn(http::serve(listener, metrics.clone()));
    engine.set_observer(metrics.observer());
    Ok(Some(metrics))
}

/// `--serve`: follows the sources as `--stream` does, prints nothing, serves the metrics until
/// SIGINT or SIGTERM.
pub async fn serve(cli: Cli) -> std::process::ExitCode {
    let crate::live::Live {
        mut engine,
        input: mut rx,
        ..
    } = match crate::live::start(&cli, false) {
        Ok(live) => live,
        Err(e) => {
            eprintln!("pgconn-top: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut open = true;
    let stop = stop();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            msg = rx.recv(), if open => match msg {
                Some(msg) => {
                    if let Some(s) = crate::live::apply(&mut engine, msg) {
                        eprintln!("pgconn-top: {}", crate::sanitize::visible(s.as_bytes()));
                    }
                }
                None => {
                    // Input ended (stdin): what every source holds is read as its end.
                    open = false;
                    for id in 0..engine.sources().len() {
                        let _ = engine.finish(id as u16);
                    }
                    engine.observe_batch();
                }
            },
            _ = tick.tick() => engine.observe_batch(),
            () = &mut stop => break,
        }
    }
    std::process::ExitCode::SUCCESS
}

/// Resolves at SIGINT or SIGTERM.
async fn stop() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

#[cfg(test)]
mod tests;
