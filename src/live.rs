//! Live mode plumbing: which sources to follow (paths, discovery of the local server, the
//! demo), feeding their batches into the engine, and the `--stream` printer.

use crate::cli::{Cli, FormatArg};
use crate::engine::Engine;
use crate::feedline;
use crate::source::{
    self, discover, expand_paths, FollowOptions, SourceError, SourceMsg, SourceSpec, Start,
};
use crate::store::feed::FeedKind;
use std::io::Write;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What to follow.
pub enum Input {
    /// A file, directory or stdin.
    Follow(SourceSpec),
    /// A command (`!cmd`) whose standard output is the log, restarted when it exits.
    Command(String),
    /// The built-in demo log, replayed in a loop.
    Demo,
}

/// How a server's log is read when the log cannot tell (a fleet file's settings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    /// Its log format.
    pub format: Option<crate::parse::Format>,
    /// Its `log_line_prefix`.
    pub prefix: Option<String>,
    /// Its `log_timezone` (informational: the log's own zone names are read).
    pub timezone: Option<String>,
}

/// The sources to open, and what was learnt on the way.
pub struct Plan {
    /// (label, input) per source, in source-id order.
    pub inputs: Vec<(String, Input)>,
    /// The `log_line_prefix` from the server's configuration, when discovery read it.
    pub prefix: Option<String>,
    /// Showing the demo.
    pub demo: bool,
    /// A sentence for the header (e.g. why the demo is shown).
    pub notice: Option<String>,
    /// The server each input belongs to (its `name=` label, else its file's name).
    pub servers: Vec<String>,
    /// Per input: what its server is known to write (fleet file), else the default.
    pub readings: Vec<Reading>,
    /// (input, sentence) for the source status line (e.g. which of a directory's copies is read).
    pub notes: Vec<(usize, String)>,
}

fn source_format(f: FormatArg) -> source::Format {
    match f {
        FormatArg::Csvlog => source::Format::Csvlog,
        FormatArg::Jsonlog => source::Format::Jsonlog,
        _ => source::Format::Stderr,
    }
}

fn label(spec: &SourceSpec) -> String {
    match spec {
        SourceSpec::File(p) => p.display().to_string(),
        SourceSpec::Dir(d) => d.dir.display().to_string(),
        SourceSpec::Stdin => "-".into(),
    }
}

/// One source argument before expansion: its server label (if given), what it names and how
/// its server writes.
struct Wanted {
    server: Option<String>,
    arg: String,
    reading: Reading,
}

/// The arguments to follow: the fleet file's servers, then the positional sources.
fn wanted(cli: &Cli) -> Result<Vec<Wanted>, String> {
    let mut out = Vec::new();
    if let Some(f) = &cli.fleet {
        for s in source::fleet::load(f).map_err(|e| e.to_string())? {
            out.push(Wanted {
                server: Some(s.name),
                arg: s.source,
                reading: Reading {
                    format: s.format,
                    prefix: s.prefix,
                    timezone: s.timezone,
                },
            });
        }
    }
    for p in &cli.paths {
        let arg = p.to_string_lossy().into_owned();
        if let Some((server, cmd)) = source::command::split(&arg) {
            out.push(Wanted {
                server,
                arg: format!("!{cmd}"),
                reading: Reading::default(),
            });
            continue;
        }
        let (server, path) = source::label::split(p);
        out.push(Wanted {
            server,
            arg: path.to_string_lossy().into_owned(),
            reading: Reading::default(),
        });
    }
    Ok(out)
}

/// The format a directory source follows: the one asked for, else (auto) jsonlog over csvlog
/// over stderr when the directory holds several (the same log, written to several
/// destinations: jsonlog and csvlog carry exact fields); with a sentence saying so.
fn dir_format(
    dir: &std::path::Path,
    asked: Option<source::Format>,
) -> (source::Format, Option<String>) {
    if let Some(f) = asked {
        return (f, None);
    }
    let present = source::dir::formats_present(dir);
    let Some(&best) = present.first() else {
        return (source::Format::Stderr, None);
    };
    let skipped: Vec<&str> = present[1..].iter().map(|f| f.name()).collect();
    let note = (!skipped.is_empty()).then(|| {
        format!(
            "{} holds the same log as {} and {}: reading the {} files only",
            dir.display(),
            best.name(),
            skipped.join(" and "),
            best.name()
        )
    });
    (best, note)
}

/// Decides the sources: `--demo`, the fleet file and paths given, or the local server's log;
/// with nothing found, the demo when `demo_fallback` (the dashboard), else an error sentence.
pub fn plan(cli: &Cli, demo_fallback: bool) -> Result<Plan, String> {
    let demo = |notice| Plan {
        inputs: vec![("demo".into(), Input::Demo)],
        prefix: None,
        demo: true,
        notice,
        servers: vec!["demo".into()],
        readings: vec![Reading::default()],
        notes: Vec::new(),
    };
    if cli.demo {
        return Ok(demo(None));
    }
    let wanted = wanted(cli)?;
    if !wanted.is_empty() {
        // `name=path` labels a server (source::label); each path expands on its own.
        let (mut inputs, mut readings, mut notes) = (Vec::new(), Vec::new(), Vec::new());
        let mut named: Vec<(Option<String>, String)> = Vec::new();
        let mut seen: Vec<SourceSpec> = Vec::new();
        for w in wanted {
            if let Some(cmd) = w.arg.strip_prefix('!') {
                let cmd = cmd.trim().to_string();
                let server = w.server.unwrap_or_else(|| {
                    // An unlabelled command is named after it; a second one alike gets `-2`.
                    let base = source::command::server_name(&cmd);
                    let taken = |n: &str| named.iter().any(|(s, _)| s.as_deref() == Some(n));
                    let mut name = base.clone();
                    let mut k = 1;
                    while taken(&name) {
                        k += 1;
                        name = format!("{base}-{k}");
                    }
                    name
                });
                let l = format!("!{cmd}");
                named.push((Some(server), l.clone()));
                inputs.push((l, Input::Command(cmd)));
                readings.push(w.reading);
                continue;
            }
            // One log-format enum: the server's reading is what the directory follows.
            let asked = match (w.reading.format, cli.format) {
                (Some(f), _) => Some(f),
                (None, FormatArg::Auto) => None,
                (None, f) => Some(source_format(f)),
            };
            let specs = expand_paths(&[&w.arg], asked.unwrap_or(source::Format::Stderr))
                .map_err(|e| e.to_string())?;
            for mut s in specs {
                if let SourceSpec::Dir(d) = &mut s {
                    let (f, note) = dir_format(&d.dir, asked);
                    d.format = f;
                    if let Some(n) = note {
                        notes.push((inputs.len(), n));
                    }
                }
                if seen.contains(&s) {
                    continue;
                }
                seen.push(s.clone());
                let l = label(&s);
                named.push((w.server.clone(), l.clone()));
                inputs.push((l, Input::Follow(s)));
                readings.push(w.reading.clone());
            }
        }
        let servers = source::label::server_names(&named);
        return Ok(Plan {
            inputs,
            prefix: cli.prefix.clone(),
            demo: false,
            notice: None,
            servers,
            readings,
            notes,
        });
    }
    match discover() {
        Ok(d) => {
            let inputs: Vec<(String, Input)> = d
                .sources
                .into_iter()
                .map(|s| (label(&s), Input::Follow(s)))
                .collect();
            let named: Vec<(Option<String>, String)> =
                inputs.iter().map(|(l, _)| (None, l.clone())).collect();
            let servers = source::label::server_names(&named);
            Ok(Plan {
                readings: vec![Reading::default(); inputs.len()],
                inputs,
                prefix: cli.prefix.clone().or(d.log_line_prefix),
                demo: false,
                notice: None,
                servers,
                notes: Vec::new(),
            })
        }
        Err(e @ SourceError::NoLogFound { .. }) if demo_fallback => Ok(demo(Some(e.to_string()))),
        Err(e) => Err(e.to_string()),
    }
}

/// Adds input `i` of a plan (labelled `label`) to the engine, with its server (`servers`:
/// the plan's server name per input; inputs of one name are one server) and its server's
/// reading (`readings`, per input).
pub fn add_input(
    engine: &mut Engine,
    readings: &[Reading],
    servers: &[String],
    i: usize,
    label: &str,
) -> u16 {
    let id = engine.add_source(label);
    if let Some(r) = readings.get(i) {
        engine.set_reading(id, r.format, r.prefix.as_deref());
    }
    if let Some(name) = servers.get(i) {
        let index = servers.iter().position(|n| n == name).unwrap_or(i);
        // The index of the name among the distinct names, in order of first appearance.
        let distinct = servers[..index]
            .iter()
            .enumerate()
            .filter(|(k, n)| servers[..*k].iter().all(|m| m != *n))
            .count();
        engine.store.set_server(id, distinct as u16, name);
    }
    id
}

/// An engine for the planned sources: the `--prefix` flag, else the prefix the server's
/// configuration sets (read during discovery), else inferred per source from its lines.
pub fn engine_for(cli: &Cli, plan: &Plan) -> Engine {
    let mut engine = Engine::new(cli.engine_config());
    let specs = plan.inputs.iter().filter_map(|(_, i)| match i {
        Input::Follow(s) => Some(s),
        Input::Command(_) | Input::Demo => None,
    });
    engine
        .store
        .set_limits(&source::conf::connection_limits(cli.max_connections, specs));
    if plan.demo {
        engine.set_prefix(source::demo::DEMO_PREFIX);
    } else if let (None, Some(p)) = (&cli.prefix, &plan.prefix) {
        engine.set_prefix(p);
    }
    engine
}

/// The engine set up for the planned sources, and the channel their tasks send on.
pub struct Live {
    pub engine: Engine,
    pub input: mpsc::Receiver<SourceMsg>,
    /// Showing the built-in demo.
    pub demo: bool,
}

/// Plans the sources (see [`plan`]), sets up the engine for them and starts one task per
/// source (inside a tokio runtime). A notice (why the demo is shown) arrives as a status.
pub fn start(cli: &Cli, demo_fallback: bool) -> Result<Live, String> {
    let mut plan = plan(cli, demo_fallback)?;
    let mut engine = engine_for(cli, &plan);
    crate::metrics::attach(cli, &plan.servers, &mut engine)?;
    let (tx, input) = mpsc::channel(256);
    if let Some(message) = plan.notice.take() {
        let _ = tx.try_send(SourceMsg::Status { source: 0, message });
    }
    for (source, message) in std::mem::take(&mut plan.notes) {
        let _ = tx.try_send(SourceMsg::Status { source, message });
    }
    let start = match (cli.from_end, cli.since) {
        (true, _) => Start::End,
        (false, Some(secs)) => Start::Since(secs),
        (false, None) => Start::Beginning,
    };
    let opts = FollowOptions {
        start,
        ..FollowOptions::default()
    };
    for (id, (label, input)) in plan.inputs.into_iter().enumerate() {
        add_input(&mut engine, &plan.readings, &plan.servers, id, &label);
        match input {
            Input::Follow(spec) => {
                source::spawn_source(id, spec, opts.clone(), tx.clone());
            }
            Input::Command(cmd) => {
                let opts = source::command::CommandOptions::default();
                tokio::spawn(source::command::follow_command(id, cmd, opts, tx.clone()));
            }
            Input::Demo => {
                source::demo::spawn(id, tx.clone());
            }
        }
    }
    Ok(Live {
        engine,
        input,
        demo: plan.demo,
    })
}

/// Applies one source message to the engine; returns a sentence to show about the source,
/// if any. Messages about a source the engine does not have change nothing.
pub fn apply(engine: &mut Engine, msg: SourceMsg) -> Option<String> {
    let id = msg.source();
    let known = id < engine.sources().len();
    let undetected = |engine: &Engine, e| {
        format!(
            "cannot tell the log format of {}: {e}",
            engine.sources()[id].label
        )
    };
    let said = match msg {
        SourceMsg::Status { message, .. } => Some(message),
        _ if !known => None,
        SourceMsg::Lines { bytes, .. } => engine
            .feed(id as u16, &bytes)
            .err()
            .map(|e| undetected(engine, e)),
        SourceMsg::Switched { .. } => {
            engine.switched(id as u16);
            None
        }
        SourceMsg::CaughtUp { .. } => engine
            .settle(id as u16)
            .err()
            .map(|e| undetected(engine, e)),
        SourceMsg::Progress { .. } => None,
    };
    engine.observe_batch();
    said
}

/// How long a connect waits before it is printed, so that a refusal logged right after it
/// (authorized, then FATAL) can withdraw it.
const CONNECT_HOLD: Duration = Duration::from_millis(5);

/// `--stream`: follow and print each connection event as one line, flushed per event.
pub async fn stream(cli: Cli) -> std::process::ExitCode {
    let Live {
        mut engine,
        input: mut rx,
        ..
    } = match start(&cli, false) {
        Ok(live) => live,
        Err(e) => {
            eprintln!("pgconn-top: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let mut printed = 0u64;
    let mut arrivals: std::collections::VecDeque<(u64, Instant)> = Default::default();
    let mut stdout = std::io::stdout().lock();
    let mut held = false;
    loop {
        let wake = tokio::time::sleep(if held {
            CONNECT_HOLD
        } else {
            Duration::from_secs(3600)
        });
        tokio::select! {
            msg = rx.recv() => {
                let Some(msg) = msg else { break };
                if let Some(s) = apply(&mut engine, msg) {
                    // A command's stderr reaches this sentence: never raw to the terminal.
                    eprintln!("pgconn-top: {}", crate::sanitize::visible(s.as_bytes()));
                }
                arrivals.push_back((engine.store.feed().next_seq(), Instant::now()));
            }
            () = wake => {}
        }
        match print_feed(&engine, &cli, &arrivals, &mut printed, true, &mut stdout) {
            Ok(h) => held = h,
            Err(_) => return std::process::ExitCode::SUCCESS, // the reader went away
        }
        while arrivals.front().is_some_and(|(end, _)| *end <= printed + 1) {
            arrivals.pop_front();
        }
    }
    // Input ended (stdin): what every source still holds is read as the end of its input.
    for id in 0..engine.sources().len() {
        if let Err(e) = engine.finish(id as u16) {
            eprintln!("pgconn-top: {}: {e}", engine.sources()[id].label);
        }
    }
    // Nothing more can refuse a connect; print what is left.
    let _ = print_feed(&engine, &cli, &arrivals, &mut printed, false, &mut stdout);
    std::process::ExitCode::SUCCESS
}

/// Prints the feed entries after `printed` that pass the filter, one line each, flushed.
/// With `hold`, a connect that arrived less than [`CONNECT_HOLD`] ago stops the printing
/// (returns true) so that a refusal logged right after it can still withdraw it.
fn print_feed(
    engine: &Engine,
    cli: &Cli,
    arrivals: &std::collections::VecDeque<(u64, Instant)>,
    printed: &mut u64,
    hold: bool,
    out: &mut impl Write,
) -> std::io::Result<bool> {
    let filter = cli.filter();
    let matcher = engine.store.feed_matcher(&filter);
    let now = Instant::now();
    for e in engine.store.feed().after(*printed) {
        let arrived = arrivals
            .iter()
            .find(|(end, _)| e.seq < *end)
            .map(|(_, at)| *at);
        if hold
            && matches!(e.kind, FeedKind::Connect)
            && arrived.is_some_and(|at| at + CONNECT_HOLD > now)
        {
            return Ok(true);
        }
        *printed = e.seq;
        if e.refused || !matcher.matches(e) {
            continue;
        }
        let line = if cli.json {
            let mut v = feedline::json_line(&engine.store, e);
            if v.get("server").is_none() {
                // The server the event is from (its label), for a fleet in one stream.
                let store = &engine.store;
                let name = store
                    .server_of(e.source)
                    .and_then(|i| store.servers().get(usize::from(i)))
                    .map(|s| s.name.as_str())
                    .filter(|n| !n.is_empty());
                v["server"] = name.map_or(serde_json::Value::Null, |n| n.into());
            }
            v.to_string()
        } else {
            feedline::text_line(&engine.store, e)
        };
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    Ok(false)
}
