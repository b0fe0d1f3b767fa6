//! pgconn-top: command line → headless snapshot, event stream or dashboard.

use clap::Parser;
use pgconn_top::cli::Cli;
use pgconn_top::engine::{Engine, ReadError};
use pgconn_top::report;
use pgconn_top::ui::{self, UiOptions};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

/// One sentence for a path that cannot be read, naming what to do.
fn explain(path: &Path, e: &ReadError) -> String {
    let p = path.display();
    match e {
        ReadError::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
            format!("cannot read {p}: no such file; check the path (the server's log_directory) and try again")
        }
        ReadError::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => format!(
            "cannot read {p}: permission denied; join the group that owns it (e.g. sudo usermod -aG adm $USER, then log in again) or run with sudo"
        ),
        ReadError::Io(io) if io.raw_os_error() == Some(21) => {
            format!("cannot read {p}: it is a directory; name a log file in it")
        }
        ReadError::Io(io) => format!("cannot read {p}: {io}"),
        ReadError::Detect(d) => format!("cannot tell the log format of {p}: {d}"),
    }
}

/// Reads every named path (or standard input for `-`) into the engine, or says why not.
fn load(cli: &Cli, engine: &mut Engine) -> Result<(), ExitCode> {
    for path in &cli.paths {
        let read = if path.as_os_str() == "-" {
            let id = engine.add_source("-");
            engine.read_to_end(id, std::io::stdin().lock()).map(|_| ())
        } else {
            engine.read_path(path).map(|_| ())
        };
        if let Err(e) = read {
            eprintln!("pgconn-top: {}", explain(path, &e));
            return Err(ExitCode::from(2));
        }
    }
    Ok(())
}

fn run_once(cli: &Cli) -> ExitCode {
    let mut engine = Engine::new(cli.engine_config());
    if cli.paths.is_empty() {
        eprintln!("pgconn-top: --once needs at least one log path, e.g. pgconn-top --once /var/log/postgresql/postgresql-15-main.log");
        return ExitCode::from(2);
    }
    if let Err(code) = load(cli, &mut engine) {
        return code;
    }
    let opts = cli.report_options();
    let out = if cli.json {
        let mut s =
            serde_json::to_string_pretty(&report::json_report(&engine, &opts)).unwrap_or_default();
        s.push('\n');
        s
    } else {
        report::text_report(&engine, &opts)
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.once {
        return run_once(&cli);
    }
    if !std::io::stdout().is_terminal() {
        eprintln!("pgconn-top: standard output is not a terminal; use --once for a snapshot or --stream for an event feed");
        return ExitCode::from(2);
    }
    run_dashboard(&cli)
}

/// The dashboard over the named logs (read once, then shown).
fn run_dashboard(cli: &Cli) -> ExitCode {
    if cli.paths.is_empty() {
        eprintln!("pgconn-top: name a log file, e.g. pgconn-top /var/log/postgresql/postgresql-15-main.log");
        return ExitCode::from(2);
    }
    let mut engine = Engine::new(cli.engine_config());
    if let Err(code) = load(cli, &mut engine) {
        return code;
    }
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(ui::run(engine, UiOptions::from_cli(cli), None)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pgconn-top: {e:#}");
            ExitCode::FAILURE
        }
    }
}
