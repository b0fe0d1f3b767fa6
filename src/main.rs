//! pgconn-top: command line → headless snapshot, event stream or dashboard.

use clap::Parser;
use pgconn_top::cli::Cli;
use pgconn_top::engine::ReadError;
use pgconn_top::live;
use pgconn_top::report;
use pgconn_top::source::{self, SourceSpec};
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
        ReadError::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
            source::describe_io_error(path, io)
        }
        ReadError::Io(io) if io.raw_os_error() == Some(21) => {
            format!("cannot read {p}: it is a directory; name a log file in it")
        }
        ReadError::Io(io) => format!("cannot read {p}: {io}"),
        ReadError::Detect(d) => format!("cannot tell the log format of {p}: {d}"),
    }
}

/// Opens a plain log file, positioned at the first entry of the last `since` seconds when given.
fn open_file_from(path: &Path, since: Option<u32>) -> std::io::Result<std::fs::File> {
    use std::io::{Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    if let Some(secs) = since {
        let size = f.metadata()?.len();
        let at = source::seek::offset_since(&f, size, secs)?;
        f.seek(SeekFrom::Start(at))?;
    }
    Ok(f)
}

/// Opens a log as [`open_file_from`] does; a compressed file (.gz, .bz2, .zst, .xz, told by
/// its magic bytes) is read whole through its decompressor.
fn open_from(path: &Path, since: Option<u32>) -> std::io::Result<Box<dyn std::io::Read + Send>> {
    if source::compressed::is_compressed(path) {
        return source::compressed::open_log(path);
    }
    Ok(Box::new(open_file_from(path, since)?))
}

/// One sentence when the `--prefix` given reads (almost) none of a source's connection lines,
/// naming its escapes: a snapshot of zeros would read as an idle server.
fn prefix_mismatch(engine: &pgconn_top::engine::Engine) -> Option<String> {
    use pgconn_top::engine::PrefixOrigin;
    engine.sources().iter().find_map(|src| {
        let st = src.stats();
        let flag = src.prefix_origin() == Some(PrefixOrigin::Flag);
        let bad = st.unparsed > 0 && (src.events() == 0 || st.unparsed * 2 > src.events() + st.unparsed);
        let prefix = src.prefix()?;
        (flag && bad).then(|| {
            format!(
                "--prefix '{prefix}' does not fit {}: {} connection lines could not be read with it ({}); pass the server's setting (SHOW log_line_prefix) or leave --prefix out to have it read off the log",
                src.label,
                st.unparsed,
                pgconn_top::cli::describe_prefix(prefix)
            )
        })
    })
}

/// `--once` over a command source: runs it once through `sh -c` and reads its output to the end.
fn read_command(engine: &mut pgconn_top::engine::Engine, id: u16, cmd: &str) -> Result<(), String> {
    let shown = pgconn_top::sanitize::visible(cmd.as_bytes());
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
    let read = match child.stdout.take() {
        Some(out) => engine.read_to_end(id, out).map(|_| ()),
        None => Ok(()),
    };
    let status = child.wait();
    read.map_err(|e| format!("cannot read the output of `{shown}`: {e}"))?;
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => {
            eprintln!("pgconn-top: `{shown}` ended with {s}; its output so far is counted");
            Ok(())
        }
        Err(e) => Err(format!("cannot wait for `{shown}`: {e}")),
    }
}

fn run_once(cli: &Cli) -> ExitCode {
    // The same sources as the live modes: the paths given, else the local server's log.
    let plan = match live::plan(cli, false) {
        Ok(plan) => plan,
        Err(sentence) => {
            eprintln!("pgconn-top: {sentence}");
            return ExitCode::from(2);
        }
    };
    let mut engine = live::engine_for(cli, &plan);
    for (_, note) in &plan.notes {
        eprintln!(
            "pgconn-top: {}",
            pgconn_top::sanitize::visible(note.as_bytes())
        );
    }
    for (i, (label, input)) in plan.inputs.into_iter().enumerate() {
        let id = live::add_input(&mut engine, &plan.readings, &plan.servers, i, &label);
        let files = match input {
            live::Input::Command(cmd) => {
                if let Err(sentence) = read_command(&mut engine, id, &cmd) {
                    eprintln!("pgconn-top: {sentence}");
                    return ExitCode::from(2);
                }
                continue;
            }
            live::Input::Demo => {
                if let Err(e) = engine.read_to_end(id, source::demo::DEMO_LOG) {
                    eprintln!("pgconn-top: {}", explain(Path::new("demo"), &e));
                    return ExitCode::from(2);
                }
                continue;
            }
            live::Input::Follow(SourceSpec::Stdin) => {
                if let Err(e) = engine.read_to_end(id, std::io::stdin().lock()) {
                    eprintln!("pgconn-top: {}", explain(Path::new("-"), &e));
                    return ExitCode::from(2);
                }
                continue;
            }
            live::Input::Follow(SourceSpec::File(p)) => vec![p],
            live::Input::Follow(SourceSpec::Dir(d)) => {
                match source::rotated::replay_set(&d, std::time::Duration::from_secs(24 * 3600)) {
                    Ok(files) if !files.is_empty() => files,
                    Ok(_) => {
                        eprintln!("pgconn-top: no PostgreSQL log file in {}; name a log file or the server's log_directory", d.dir.display());
                        return ExitCode::from(2);
                    }
                    Err(e) => {
                        eprintln!("pgconn-top: {}", explain(&d.dir, &ReadError::Io(e)));
                        return ExitCode::from(2);
                    }
                }
            }
        };
        let replayed = if files.iter().any(|f| source::compressed::is_compressed(f)) {
            let readers = files.iter().map(|f| open_from(f, cli.since));
            pgconn_top::replay::replay_readers(&mut engine, id, readers)
        } else {
            // Plain files: the replay workers read them themselves, with positioned reads.
            let files = files.iter().map(|f| open_file_from(f, cli.since));
            pgconn_top::replay::replay_open_files(&mut engine, id, files)
        };
        if let Err((i, e)) = replayed {
            eprintln!("pgconn-top: {}", explain(&files[i], &e));
            return ExitCode::from(2);
        }
    }
    if let Some(sentence) = prefix_mismatch(&engine) {
        eprintln!("pgconn-top: {sentence}");
        return ExitCode::from(2);
    }
    for w in engine.warnings() {
        eprintln!("pgconn-top: {w}");
    }
    let opts = cli.report_options();
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = if cli.json {
        report::write_json(&engine, &opts, &mut stdout)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(stdout))
    } else {
        stdout.write_all(report::text_report(&engine, &opts).as_bytes())
    };
    let written = written.and_then(|()| stdout.flush());
    // The process ends now: its memory goes back whole, without freeing every session, name
    // and history minute one by one (0.2-0.3 ms on a replay of 2,700 open sessions).
    std::mem::forget(engine);
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("pgconn-top: cannot write the snapshot: {e}");
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.json && !cli.once && !cli.stream {
        eprintln!("pgconn-top: --json goes with --once (a snapshot) or --stream (one line per event); the dashboard has no JSON");
        return ExitCode::from(2);
    }
    if cli.once {
        return run_once(&cli);
    }
    if cli.serve {
        let Some(rt) = runtime() else {
            return ExitCode::from(2);
        };
        return rt.block_on(pgconn_top::metrics::serve(cli));
    }
    if cli.stream {
        let Some(rt) = runtime() else {
            return ExitCode::from(2);
        };
        return rt.block_on(live::stream(cli));
    }
    if !std::io::stdout().is_terminal() {
        eprintln!("pgconn-top: standard output is not a terminal; use --once for a snapshot or --stream for an event feed");
        return ExitCode::from(2);
    }
    run_dashboard(&cli)
}

/// The async runtime of the live modes (two workers: the machine's size), or a sentence why not.
fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("pgconn-top: cannot start the async runtime: {e}");
            None
        }
    }
}

/// The dashboard over the logs (paths, the local server's, or the demo), replayed then followed.
fn run_dashboard(cli: &Cli) -> ExitCode {
    let Some(rt) = runtime() else {
        return ExitCode::from(2);
    };
    rt.block_on(async {
        let live = match live::start(cli, true) {
            Ok(live) => live,
            Err(sentence) => {
                eprintln!("pgconn-top: {sentence}");
                return ExitCode::from(2);
            }
        };
        let mut opts = UiOptions::from_cli(cli);
        opts.demo = live.demo;
        match ui::run(live.engine, opts, Some(live.input)).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("pgconn-top: {e:#}");
                ExitCode::FAILURE
            }
        }
    })
}
