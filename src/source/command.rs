//! Command sources: `'!ssh db3 tail -F -n +1 /var/log/postgresql/postgresql-16-main.log'` runs
//! the command through `sh -c`, reads its standard output as a stream of log lines, restarts it
//! with exponential back-off when it exits, and reports its state (running, exited with its
//! code, the last line of its standard error) as the source's status sentence.
//!
//! A restarted command sends again what it sends again: `tail -n +1` replays the whole file.
//! Sessions are keyed by process id, so a re-sent `connection authorized` of an open session
//! replaces it and the active count stays right; totals (connects, disconnects) count the
//! re-sent lines again.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

use super::follow::{Closed, Out};
use super::{SourceId, SourceMsg, SwitchReason};

/// The longest stderr line kept for the header, in characters.
const MAX_STDERR: usize = 160;
/// Status updates from standard error at most this often.
const STDERR_EVERY: Duration = Duration::from_millis(500);

/// How a command source restarts its command.
#[derive(Debug, Clone)]
pub struct CommandOptions {
    /// Wait before the first restart.
    pub first_backoff: Duration,
    /// The wait doubles up to this.
    pub max_backoff: Duration,
    /// A run that lasted longer than this resets the wait to `first_backoff`.
    pub reset_after: Duration,
}

impl Default for CommandOptions {
    fn default() -> Self {
        CommandOptions {
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            reset_after: Duration::from_secs(60),
        }
    }
}

/// Whether `s` can be a server label: `[A-Za-z0-9_.-]+`.
fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Splits a command source argument: `label='!cmd args'` or `'!cmd args'` gives the label (if
/// any) and the command (without the `!`); None when the argument is no command source.
pub fn split(arg: &str) -> Option<(Option<String>, String)> {
    if let Some(cmd) = arg.strip_prefix('!') {
        return (!cmd.trim().is_empty()).then(|| (None, cmd.trim().to_string()));
    }
    let (label, rest) = arg.split_once('=')?;
    let cmd = rest.strip_prefix('!')?.trim();
    (is_label(label) && !cmd.is_empty()).then(|| (Some(label.to_string()), cmd.to_string()))
}

/// The server name of an unlabelled command: its program's name, then the host it reaches
/// (`ssh [opts] [user@]host ...`: the host) or, for other programs, the last plain word that
/// is a name (`kubectl logs -f cluster-example-1` is `kubectl-cluster-example-1`); words with
/// a `/` are passed over, and quotes or shell syntax end the search. `tail -F /x/pg.log` is `tail`.
pub fn server_name(cmd: &str) -> String {
    let mut words = cmd.split_whitespace();
    let prog = words
        .next()
        .map(|w| w.rsplit('/').next().unwrap_or(w))
        .filter(|w| is_label(w))
        .unwrap_or("command");
    let ssh = matches!(prog, "ssh" | "mosh" | "autossh");
    let mut plain: Vec<&str> = Vec::new();
    while let Some(w) = words.next() {
        if w.contains(['\'', '"', '`', ';', '|', '&', '$', '(', ')', '<', '>']) {
            break; // a script from here on: its words name nothing
        }
        if ssh && w.len() == 2 && "-bcDEeFIiJLlmOopQRSWw".contains(&w[1..]) && w.starts_with('-') {
            words.next(); // an option's value (`-p 22`, `-i key`), not the host
        } else if !w.starts_with(['-', '+']) {
            plain.push(w);
        }
    }
    let host = if ssh {
        plain
            .first()
            .map(|w| w.rsplit('@').next().unwrap_or(w))
            .filter(|w| is_label(w))
    } else {
        plain
            .iter()
            .skip(1)
            .rev()
            .find(|w| is_label(w) && !w.bytes().all(|b| b.is_ascii_digit()))
            .copied()
    };
    match host {
        Some(h) => format!("{prog}-{h}"),
        None => prog.to_string(),
    }
}

/// The last line of standard error (cut to [`MAX_STDERR`] characters).
#[derive(Default)]
struct Stderr {
    last: Option<String>,
}

/// One phrase for the last stderr line, if any: `; stderr: ...`.
fn stderr_tail(err: &Mutex<Stderr>) -> String {
    match err.lock().ok().and_then(|e| e.last.clone()) {
        Some(l) => format!("; last stderr: {l}"),
        None => String::new(),
    }
}

/// Reads standard error line by line, keeps the last non-empty line (cut) and
/// sends it as the source's status, at most every [`STDERR_EVERY`].
async fn read_stderr(
    id: SourceId,
    name: String,
    stderr: tokio::process::ChildStderr,
    keep: Arc<Mutex<Stderr>>,
    tx: mpsc::Sender<SourceMsg>,
) {
    let mut lines = BufReader::new(stderr);
    let mut line = Vec::new();
    let mut said = Instant::now() - STDERR_EVERY;
    loop {
        line.clear();
        match lines.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        // Kept as the command wrote it (cut): every status is made visible where it is shown
        // (the header, `--stream`'s standard error), once.
        let shown: String = String::from_utf8_lossy(text)
            .chars()
            .take(MAX_STDERR)
            .collect();
        if let Ok(mut k) = keep.lock() {
            k.last = Some(shown.clone());
        }
        if said.elapsed() >= STDERR_EVERY {
            said = Instant::now();
            let message = format!("running; last stderr: {shown} ({name})");
            if tx
                .send(SourceMsg::Status {
                    source: id,
                    message,
                })
                .await
                .is_err()
            {
                return;
            }
        }
    }
}

/// A command's process group, ended (SIGTERM, then the child itself is killed by
/// `kill_on_drop`) when its run is over or pgconn-top stops following it.
struct Group(u32);

impl Drop for Group {
    fn drop(&mut self) {
        if let Ok(pgid) = i32::try_from(self.0) {
            // SAFETY: kill(2) with a negative pid signals that process group; no memory is shared.
            unsafe {
                libc::kill(-pgid, libc::SIGTERM);
            }
        }
    }
}

/// How a run ended, in words: `exited with code 3`, `killed by signal 9`.
fn exit_text(status: std::io::Result<std::process::ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(c), _) => format!("exited with code {c}"),
            (None, Some(sig)) => format!("killed by signal {sig}"),
            _ => "exited".to_string(),
        },
        Err(e) => format!("could not be waited for: {e}"),
    }
}

/// Runs `cmd` through `sh -c` for source `id` until the receiver goes away: its standard
/// output goes out as lines, and each time it exits it is started again after a wait that
/// doubles from `first_backoff` to `max_backoff` (back to the first after a long run).
pub async fn follow_command(
    id: SourceId,
    cmd: String,
    opts: CommandOptions,
    tx: mpsc::Sender<SourceMsg>,
) {
    let mut out = Out::new(id, tx.clone());
    let _ = run(&mut out, &cmd, &opts, &tx).await;
}

async fn run(
    out: &mut Out,
    cmd: &str,
    opts: &CommandOptions,
    tx: &mpsc::Sender<SourceMsg>,
) -> Result<(), Closed> {
    // The command, for the sentences (`--stream` prints them without the source's label).
    let shown: String = cmd.chars().take(60).collect();
    let cut = if shown.len() < cmd.len() { "…" } else { "" };
    let name = format!("`{shown}{cut}`");
    let mut backoff = opts.first_backoff;
    let mut runs = 0u64;
    out.caught_up(0).await?;
    loop {
        let started = Instant::now();
        let spawned = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            // Its own process group: what the shell started (a pipeline, `tail -F` behind
            // `ssh`) ends with it, see [`Group`].
            .process_group(0)
            .spawn();
        let ended = match spawned {
            Ok(mut child) => {
                let _group = child.id().map(Group);
                runs += 1;
                if runs > 1 {
                    // The new run starts its output afresh: no partial entry carries over.
                    out.switched(std::path::Path::new(cmd), SwitchReason::Replaced)
                        .await?;
                }
                let keep = Arc::new(Mutex::new(Stderr::default()));
                let errs = child.stderr.take().map(|e| {
                    tokio::spawn(read_stderr(
                        out.id,
                        name.clone(),
                        e,
                        keep.clone(),
                        tx.clone(),
                    ))
                });
                let again = match runs {
                    1 => String::new(),
                    n => format!(" (run {n})"),
                };
                out.status(format!("running{again} ({name})")).await?;
                if let Some(stdout) = child.stdout.take() {
                    if let Err(e) = super::stdin::pump(out, stdout).await? {
                        out.status(format!("cannot read its output: {e} ({name})"))
                            .await?;
                    }
                }
                let status = child.wait().await;
                if let Some(t) = errs {
                    // Standard error is read to its end (the child is gone) before it is shown.
                    let _ = tokio::time::timeout(Duration::from_secs(1), t).await;
                }
                (exit_text(status), stderr_tail(&keep))
            }
            Err(e) => (format!("could not be started: {e}"), String::new()),
        };
        if started.elapsed() > opts.reset_after {
            backoff = opts.first_backoff;
        }
        out.status(format!(
            "{}, restarting in {}{} ({name})",
            ended.0,
            secs_text(backoff),
            ended.1
        ))
        .await?;
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = tx.closed() => return Err(Closed),
        }
        backoff = (backoff * 2).min(opts.max_backoff);
    }
}

/// `1s`, `0.05s`.
fn secs_text(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_and_names() {
        assert_eq!(
            split("db3=!ssh db3 tail -F x.log"),
            Some((Some("db3".into()), "ssh db3 tail -F x.log".into()))
        );
        assert_eq!(
            split("!kubectl logs -f cluster-example-1"),
            Some((None, "kubectl logs -f cluster-example-1".into()))
        );
        assert_eq!(split("/var/log/x.log"), None);
        assert_eq!(split("a b=!x"), None);
        assert_eq!(split("!  "), None);
        assert_eq!(
            server_name("ssh -p 22 postgres@db3 tail -F -n +1 /var/log/pg.log"),
            "ssh-db3"
        );
        assert_eq!(
            server_name("kubectl logs -f cluster-example-1"),
            "kubectl-cluster-example-1"
        );
        assert_eq!(server_name("tail -F -n +1 /var/log/pg.log"), "tail");
        assert_eq!(server_name("sh -c 'cat x; exit 3'"), "sh");
        assert_eq!(server_name("/usr/bin/docker logs -f pg1"), "docker-pg1");
    }

    /// What the command started ends with it when the source is dropped (pgconn-top exits).
    #[tokio::test]
    async fn dropping_the_source_ends_the_commands_process_group() {
        let (tx, mut rx) = mpsc::channel(64);
        let cmd = "sleep 300 & echo $!; wait".to_string();
        let task = tokio::spawn(follow_command(1, cmd, CommandOptions::default(), tx));
        let pid = loop {
            if let SourceMsg::Lines { bytes, .. } = rx.recv().await.unwrap() {
                break String::from_utf8(bytes).unwrap().trim().to_string();
            }
        };
        let proc = std::path::PathBuf::from(format!("/proc/{pid}"));
        assert!(proc.exists());
        task.abort();
        let _ = task.await;
        let deadline = Instant::now() + Duration::from_secs(5);
        // Gone, or a zombie of a parent that is itself gone (reaped by init).
        let alive = || {
            std::fs::read_to_string(proc.join("stat"))
                .is_ok_and(|s| !s.split(") ").nth(1).is_some_and(|r| r.starts_with('Z')))
        };
        while alive() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!alive(), "sleep {pid} outlived its source");
    }

    #[tokio::test]
    async fn restarts_with_back_off_and_shows_stderr() {
        let (tx, mut rx) = mpsc::channel(64);
        let opts = CommandOptions {
            first_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(40),
            reset_after: Duration::from_secs(60),
        };
        let cmd = "printf 'one\\ntwo'; echo 'bad \\033[2J thing' >&2; exit 3".to_string();
        let task = tokio::spawn(follow_command(7, cmd, opts, tx));
        let (mut lines, mut statuses, mut switched) = (Vec::new(), Vec::new(), 0);
        while statuses
            .iter()
            .filter(|s: &&String| s.contains("restarting in 0.04s"))
            .count()
            < 2
        {
            match rx.recv().await.unwrap() {
                SourceMsg::Lines { source, bytes } => {
                    assert_eq!(source, 7);
                    lines.extend(bytes);
                }
                SourceMsg::Status { message, .. } => statuses.push(message),
                SourceMsg::Switched { .. } => switched += 1,
                _ => {}
            }
        }
        drop(rx);
        task.await.unwrap();
        // Each run sends its output, the last line completed with a newline.
        assert!(
            lines.starts_with(b"one\ntwo\none\ntwo\none\ntwo\n"),
            "{lines:?}"
        );
        assert!(switched >= 2);
        let exit = statuses.iter().find(|s| s.contains("exited")).unwrap();
        assert!(
            exit.contains(
                "exited with code 3, restarting in 0.02s; last stderr: bad \x1b[2J thing ("
            ),
            "{exit}"
        );
        assert!(statuses.iter().any(|s| s.contains("running (run 2)")));
        // Raw here: shown through sanitize::visible by the header and by --stream.
        assert!(crate::sanitize::visible(exit.as_bytes()).contains("bad \\x1b[2J thing"));
    }
}

#[cfg(test)]
mod engine_tests {
    use super::*;
    use crate::engine::{Engine, EngineConfig};
    use crate::live::apply;
    use crate::store::filter::Filter;

    /// A command that replays a whole log and exits is restarted; the log comes again each
    /// time. Sessions are keyed by pid: the open ones are not counted twice (connects are).
    #[tokio::test]
    async fn a_restarted_command_resends_its_log_and_active_stays_true() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/corpus/pg15-debian-berlin");
        let truth: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
        let log = dir.join("postgresql.log");
        let cmd = format!(
            "cat '{}'; echo 'ssh: connect to host db3: \\033]0;x' >&2; exit 3",
            log.display()
        );
        let mut engine = Engine::new(EngineConfig::default());
        let id = engine.add_source(&format!("!{cmd}"));
        let (tx, mut rx) = mpsc::channel(64);
        let opts = CommandOptions {
            first_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(20),
            reset_after: Duration::from_secs(60),
        };
        let task = tokio::spawn(follow_command(id as usize, cmd, opts, tx));
        let (mut exits, mut statuses) = (0, Vec::new());
        let mut once: Option<(usize, u64)> = None;
        while exits < 3 {
            let msg = rx.recv().await.unwrap();
            if let Some(s) = apply(&mut engine, msg) {
                if s.contains("exited with code 3") {
                    exits += 1;
                    let active = engine.store.active_sessions(&Filter::default()).len();
                    let connects = engine.store.combo_stats().iter().map(|c| c.connects).sum();
                    once.get_or_insert((active, connects));
                }
                statuses.push(s);
            }
        }
        drop(rx);
        task.await.unwrap();
        let active = engine.store.active_sessions(&Filter::default()).len();
        let connects: u64 = engine.store.combo_stats().iter().map(|c| c.connects).sum();
        let want = truth["active_total"].as_u64().unwrap() as usize;
        assert_eq!(once.unwrap().0, want, "after the first run");
        assert_eq!(
            active, want,
            "after three runs, the open sessions are not doubled"
        );
        // Totals are counted again for every re-sent line (documented, not hidden).
        assert_eq!(connects, 3 * once.unwrap().1);
        let exit = statuses.iter().find(|s| s.contains("exited")).unwrap();
        assert!(
            exit.contains("exited with code 3, restarting in 0.01s; last stderr: ssh: connect to host db3: \x1b]0;x ("),
            "{exit}"
        );
        assert!(statuses.iter().any(|s| s.contains("restarting in 0.02s")));
    }
}
