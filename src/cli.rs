//! The command line (clap derive) and what it turns into.

use crate::engine::EngineConfig;
use crate::parse::Format;
use crate::report::ReportOptions;
use crate::store::filter::{Cond, Filter};
use crate::store::intern::Dim;
use crate::store::StoreConfig;
use clap::{Parser, ValueEnum};
use std::path::PathBuf;

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Auto,
    Stderr,
    Csvlog,
    Jsonlog,
}

/// Who is connected to PostgreSQL, live, from the server's log.
#[derive(Debug, Parser)]
#[command(name = "pgconn-top", version, about, long_about = None)]
pub struct Cli {
    /// Log files, globs or directories (`-` for standard input), each may be labelled with its
    /// server (`prod=/var/log/postgresql/`); `'!cmd args'` (or `name='!cmd args'`) reads a
    /// command's output, restarted when it exits. None: find the local server's log.
    pub paths: Vec<PathBuf>,
    /// A fleet file (TOML): `[[server]]` tables with name, source, and optionally prefix,
    /// timezone and format.
    #[arg(long, value_name = "FILE")]
    pub fleet: Option<PathBuf>,
    /// Read every path to its current end, print a snapshot and exit.
    #[arg(long, conflicts_with = "stream")]
    pub once: bool,
    /// Follow the logs and print each connection event as one line.
    #[arg(long)]
    pub stream: bool,
    /// With --once or --stream: JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Log format; auto detects it per file.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    pub format: FormatArg,
    /// The server's log_line_prefix (stderr format), e.g. '%m [%p] %q%u@%d '. Default: detected.
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,
    /// Only this database.
    #[arg(long)]
    pub db: Option<String>,
    /// Only this user.
    #[arg(long)]
    pub user: Option<String>,
    /// Only this application_name.
    #[arg(long)]
    pub app: Option<String>,
    /// Only this client host (`[local]` for the Unix socket).
    #[arg(long)]
    pub host: Option<String>,
    /// Only this server (a source's `name=` label, else its file's name).
    #[arg(long)]
    pub server: Option<String>,
    /// History bucket: 1m, 5m, 15m or 1h.
    #[arg(long, default_value = "15m", value_parser = parse_bucket)]
    pub bucket: u32,
    /// Window for leak detection, e.g. 60m.
    #[arg(long, default_value = "60m", value_parser = parse_duration_secs)]
    pub leak_window: u32,
    /// Events kept in the live feed.
    #[arg(long, default_value_t = 10_000, value_parser = parse_feed_size)]
    pub feed_size: usize,
    /// Start following at the end of the logs instead of replaying them.
    #[arg(long)]
    pub from_end: bool,
    /// Start at the first entry of the last period, e.g. 2h.
    #[arg(long, value_parser = parse_duration_secs)]
    pub since: Option<u32>,
    /// Show the built-in demo (a recorded log replayed at a lively pace).
    #[arg(long)]
    pub demo: bool,
    /// The server's max_connections, when its configuration cannot be read.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,
    /// Serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9187; loopback unless named).
    #[arg(long, value_name = "ADDR", value_parser = crate::metrics::parse_addr, conflicts_with = "once")]
    pub metrics: Option<std::net::SocketAddr>,
    /// Labels of the session metrics: database,user,application (host opt-in).
    #[arg(long, value_name = "DIMS", default_value = "database,user,application", value_parser = crate::metrics::parse_dims)]
    pub metrics_labels: crate::metrics::Dims,
    /// Follow the logs headless and only serve the metrics (--metrics, default 127.0.0.1:9187).
    #[arg(long, conflicts_with_all = ["once", "stream"])]
    pub serve: bool,
}

/// How many events the feed keeps: at least one.
pub fn parse_feed_size(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "'{s}' is not a feed size; give a number of events, 1 or more"
        )),
    }
}

/// A history bucket: one of the sizes the History tab shows (1m, 5m, 15m, 1h).
pub fn parse_bucket(s: &str) -> Result<u32, String> {
    match parse_duration_secs(s)? {
        secs @ (60 | 300 | 900 | 3600) => Ok(secs),
        _ => Err(format!(
            "'{s}' is not a history bucket; use 1m, 5m, 15m or 1h"
        )),
    }
}

/// `90s`, `15m`, `1h`, `2d`, or plain seconds.
pub fn parse_duration_secs(s: &str) -> Result<u32, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u32 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration like 90s, 15m, 1h"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("'{s}' is not a duration like 90s, 15m, 1h")),
    };
    n.checked_mul(mult)
        .filter(|&v| v > 0)
        .ok_or_else(|| format!("'{s}' is out of range"))
}

impl Cli {
    /// The filter from `--db --user --app --host --server` (each an exact name).
    pub fn filter(&self) -> Filter {
        let mut f = Filter::default();
        for (dim, v) in [
            (Dim::Database, &self.db),
            (Dim::User, &self.user),
            (Dim::Application, &self.app),
            (Dim::Host, &self.host),
            (Dim::Server, &self.server),
        ] {
            if let Some(v) = v {
                f.set(dim, Some(Cond::exact(v.as_bytes())));
            }
        }
        f
    }

    /// The engine settings.
    pub fn engine_config(&self) -> EngineConfig {
        EngineConfig {
            format: match self.format {
                FormatArg::Auto => None,
                FormatArg::Stderr => Some(Format::Stderr),
                FormatArg::Csvlog => Some(Format::Csvlog),
                FormatArg::Jsonlog => Some(Format::Jsonlog),
            },
            prefix: self.prefix.clone(),
            store: StoreConfig {
                feed_capacity: self.feed_size.max(1),
                // A snapshot shows no sparklines.
                trends: !self.once,
            },
        }
    }

    /// The report settings.
    pub fn report_options(&self) -> ReportOptions {
        ReportOptions {
            filter: self.filter(),
            bucket_secs: self.bucket.max(60),
            leak_window_minutes: (self.leak_window / 60).max(4),
        }
    }
}

/// The escapes of a `log_line_prefix`, each with what PostgreSQL puts there:
/// `%m (time with milliseconds), %p (process ID)`; an escape PostgreSQL does not know is named
/// as such.
pub fn describe_prefix(prefix: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut chars = prefix.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        let mut pad = String::new();
        while let Some(d) = chars.next_if(|d| d.is_ascii_digit() || *d == '-') {
            pad.push(d);
        }
        let Some(e) = chars.next() else {
            out.push("a lone % at the end".into());
            break;
        };
        let what = match e {
            'a' => "application name",
            'u' => "user name",
            'd' => "database name",
            'r' => "remote host and port",
            'h' => "remote host",
            'b' => "backend type",
            'p' => "process ID",
            'P' => "parallel group leader's process ID",
            't' => "time without milliseconds",
            'm' => "time with milliseconds",
            'n' => "time as a Unix epoch",
            'i' => "command tag",
            'e' => "SQLSTATE",
            'c' => "session ID",
            'l' => "line number in the session",
            's' => "session start time",
            'v' => "virtual transaction ID",
            'x' => "transaction ID",
            'q' => "end of the prefix for non-session processes",
            'Q' => "query ID",
            '%' => continue,
            _ => {
                out.push(format!(
                    "%{pad}{e} is no escape (PostgreSQL prints nothing for it)"
                ));
                continue;
            }
        };
        out.push(format!("%{pad}{e} ({what})"));
    }
    if out.is_empty() {
        "no escape at all".into()
    } else {
        out.join(", ")
    }
}

#[cfg(test)]
mod prefix_tests {
    use super::describe_prefix;

    #[test]
    fn escapes_are_named() {
        assert_eq!(describe_prefix("%x"), "%x (transaction ID)");
        assert_eq!(
            describe_prefix("%m [%-5p] %y%%"),
            "%m (time with milliseconds), %-5p (process ID), %y is no escape (PostgreSQL prints nothing for it)"
        );
        assert_eq!(describe_prefix("plain"), "no escape at all");
    }
}

#[cfg(test)]
mod config_tests {
    use super::Cli;
    use clap::Parser;

    #[test]
    fn only_the_dashboard_keeps_sparkline_trends() {
        let once = Cli::parse_from(["pgconn-top", "--once", "x.log"]);
        assert!(!once.engine_config().store.trends);
        let dashboard = Cli::parse_from(["pgconn-top", "x.log"]);
        assert!(dashboard.engine_config().store.trends);
    }
}
