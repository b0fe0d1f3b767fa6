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
    /// The built-in demo log, replayed in a loop.
    Demo,
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
}

fn source_format(f: FormatArg) -> source::Format {
    match f {
        FormatArg::Csvlog => source::Format::Csv,
        FormatArg::Jsonlog => source::Format::Json,
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

/// Decides the sources: `--demo`, the paths given, or the local server's log; with nothing
/// found, the demo when `demo_fallback` (the dashboard), else an error sentence.
pub fn plan(cli: &Cli, demo_fallback: bool) -> Result<Plan, String> {
    let demo = |notice| Plan {
        inputs: vec![("demo".into(), Input::Demo)],
        prefix: None,
        demo: true,
        notice,
    };
    if cli.demo {
        return Ok(demo(None));
    }
    if !cli.paths.is_empty() {
        let specs =
            expand_paths(&cli.paths, source_format(cli.format)).map_err(|e| e.to_string())?;
        let inputs = specs
            .into_iter()
            .map(|s| (label(&s), Input::Follow(s)))
            .collect();
        return Ok(Plan {
            inputs,
            prefix: cli.prefix.clone(),
            demo: false,
            notice: None,
        });
    }
    match discover() {
        Ok(d) => {
            let inputs = d
                .sources
                .into_iter()
                .map(|s| (label(&s), Input::Follow(s)))
                .collect();
            Ok(Plan {
                inputs,
                prefix: cli.prefix.clone().or(d.log_line_prefix),
                demo: false,
                notice: None,
            })
        }
        Err(e @ SourceError::NoLogFound { .. }) if demo_fallback => Ok(demo(Some(e.to_string()))),
        Err(e) => Err(e.to_string()),
    }
}

/// Starts one task per input; they send batches on the returned channel.
pub fn spawn(plan: &mut Plan, cli: &Cli) -> mpsc::Receiver<SourceMsg> {
    let (tx, rx) = mpsc::channel(256);
    let opts = FollowOptions {
        start: if cli.from_end {
            Start::End
        } else {
            Start::Beginning
        },
        ..FollowOptions::default()
    };
    for (id, (_, input)) in plan.inputs.drain(..).enumerate() {
        match input {
            Input::Follow(spec) => {
                source::spawn_source(id, spec, opts.clone(), tx.clone());
            }
            Input::Demo => {
                source::demo::spawn(id, tx.clone());
            }
        }
    }
    rx
}

/// Applies one source message to the engine; returns a status sentence to show, if any.
pub fn apply(engine: &mut Engine, msg: SourceMsg) -> Option<String> {
    match msg {
        SourceMsg::Lines { source, bytes } => engine.feed(source as u16, &bytes).err().map(|e| {
            format!(
                "cannot tell the log format of {}: {e}",
                engine.sources()[source].label
            )
        }),
        SourceMsg::Switched { source, .. } => {
            engine.switched(source as u16);
            None
        }
        SourceMsg::CaughtUp { source, .. } => engine.settle(source as u16).err().map(|e| {
            format!(
                "cannot tell the log format of {}: {e}",
                engine.sources()[source].label
            )
        }),
        SourceMsg::Progress { .. } => None,
        SourceMsg::Status { message, .. } => Some(message),
    }
}

/// How long a connect waits before it is printed, so that a refusal logged right after it
/// (authorized, then FATAL) can withdraw it.
const CONNECT_HOLD: Duration = Duration::from_millis(5);

/// `--stream`: follow and print each connection event as one line, flushed per event.
pub async fn stream(cli: Cli, mut engine: Engine) -> std::process::ExitCode {
    let mut plan = match plan(&cli, false) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("pgconn-top: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    if cli.prefix.is_none() {
        if let Some(p) = &plan.prefix {
            engine.set_prefix(p);
        }
    }
    for (label, _) in &plan.inputs {
        engine.add_source(label);
    }
    let mut rx = spawn(&mut plan, &cli);
    let filter = cli.filter();
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
                    eprintln!("pgconn-top: {s}");
                }
                arrivals.push_back((engine.store.feed().next_seq(), Instant::now()));
            }
            () = wake => {}
        }
        held = false;
        let resolved = filter.resolve(engine.store.names());
        let now = Instant::now();
        let feed = engine.store.feed();
        for e in feed.after(printed) {
            let arrived = arrivals
                .iter()
                .find(|(end, _)| e.seq < *end)
                .map(|(_, at)| *at);
            if matches!(e.kind, FeedKind::Connect)
                && arrived.is_some_and(|at| at + CONNECT_HOLD > now)
            {
                held = true;
                break;
            }
            printed = e.seq;
            let reset = matches!(e.kind, FeedKind::Reset { .. });
            if e.refused || !(reset || resolved.matches(&engine.store.names().combo_of(e.combo))) {
                continue;
            }
            let line = if cli.json {
                feedline::json_line(&engine.store, e).to_string()
            } else {
                feedline::text_line(&engine.store, e)
            };
            if writeln!(stdout, "{line}")
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return std::process::ExitCode::SUCCESS;
            }
        }
        while arrivals.front().is_some_and(|(end, _)| *end <= printed + 1) {
            arrivals.pop_front();
        }
    }
    // Input ended (stdin): print what is left.
    for e in engine.store.feed().after(printed) {
        if !e.refused {
            let line = if cli.json {
                feedline::json_line(&engine.store, e).to_string()
            } else {
                feedline::text_line(&engine.store, e)
            };
            let _ = writeln!(stdout, "{line}");
        }
    }
    let _ = stdout.flush();
    std::process::ExitCode::SUCCESS
}

/// A source message as the dashboard's input.
pub fn to_ui(msg: SourceMsg) -> crate::ui::UiInput {
    use crate::ui::UiInput;
    match msg {
        SourceMsg::Lines { source, bytes } => UiInput::Lines {
            source: source as u16,
            bytes,
        },
        SourceMsg::Switched { source, .. } => UiInput::Switched {
            source: source as u16,
        },
        SourceMsg::CaughtUp { source, .. } => UiInput::CaughtUp {
            source: source as u16,
        },
        SourceMsg::Progress {
            source,
            done,
            total,
        } => UiInput::Progress {
            source: source as u16,
            done,
            total,
        },
        SourceMsg::Status { source, message } => UiInput::Status {
            source: source as u16,
            message,
        },
    }
}
