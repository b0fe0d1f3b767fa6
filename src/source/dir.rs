//! Follows a PostgreSQL `log_directory`: replays recent files, follows the newest, moves on to each new file.
//! Also turns CLI path arguments (files, globs, directories, `-`) into [`SourceSpec`]s.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::name_pattern::NamePattern;
use tokio::sync::mpsc;

use super::error::describe_io_error;
use super::follow::{drain, Closed, Out, Replay, Waker};
use super::tail::{Change, Tail};
use super::{
    glob, FollowOptions, SourceError, SourceId, SourceMsg, SourceSpec, Start, SwitchReason,
};

/// A file is complete once the next one has content and it was not modified for this long.
const SETTLE: Duration = Duration::from_millis(25);

/// Which log format family a directory source follows (one per source): the one log-format
/// enum, [`crate::parse::Format`].
pub use crate::parse::Format;

/// A log directory to follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirSpec {
    /// The directory.
    pub dir: PathBuf,
    /// `log_filename` (strftime pattern), if known; else `postgresql-*` names are matched.
    pub filename_pattern: Option<String>,
    /// The one format family followed.
    pub format: Format,
    /// The data directory, whose `current_logfiles` names the collector's current file.
    pub data_dir: Option<PathBuf>,
}

impl DirSpec {
    /// A directory with the default file name pattern.
    pub fn new(dir: impl Into<PathBuf>, format: Format) -> Self {
        DirSpec {
            dir: dir.into(),
            filename_pattern: None,
            format,
            data_dir: None,
        }
    }

    /// The names this directory's log files have.
    pub fn name_pattern(&self) -> NamePattern {
        let ext = self.format.extension();
        match &self.filename_pattern {
            None => NamePattern::default_names(ext, self.format == Format::Stderr),
            Some(p) => {
                let stem = p.strip_suffix(".log").unwrap_or(p);
                match self.format {
                    Format::Stderr => NamePattern::strftime(p),
                    _ => NamePattern::strftime(&format!("{stem}.{ext}")),
                }
            }
        }
    }
}

/// Turns CLI path arguments into source specs: `-` is stdin, a directory is a [`DirSpec`] with
/// `format`, a glob expands to each file (or directory) it matches, anything else is a file path
/// (which may appear later).
pub fn expand_paths<P: AsRef<Path>>(
    args: &[P],
    format: Format,
) -> Result<Vec<SourceSpec>, SourceError> {
    let mut out = Vec::new();
    for arg in args {
        let path = arg.as_ref();
        if path.as_os_str() == "-" {
            if !out.contains(&SourceSpec::Stdin) {
                out.push(SourceSpec::Stdin);
            }
            continue;
        }
        let globbed = match path.to_str() {
            Some(s) if glob::is_glob(s) && !path.exists() => {
                let found = glob::expand(s)?;
                if found.is_empty() {
                    return Err(SourceError::GlobNoMatch {
                        pattern: s.to_string(),
                    });
                }
                found
            }
            _ => vec![path.to_path_buf()],
        };
        for p in globbed {
            let spec = if p.is_dir() {
                SourceSpec::Dir(DirSpec::new(p, format))
            } else {
                SourceSpec::File(p)
            };
            if !out.contains(&spec) {
                out.push(spec);
            }
        }
    }
    Ok(out)
}

/// The log formats whose files (default `postgresql-*` names) are in `dir`, best first:
/// jsonlog, csvlog, stderr (the first two carry exact fields). A server logging to several
/// destinations writes the same entries to each: one of them is enough.
pub fn formats_present(dir: &Path) -> Vec<Format> {
    let formats = [Format::Jsonlog, Format::Csvlog, Format::Stderr];
    let names = formats.map(|f| DirSpec::new(dir, f).name_pattern());
    let mut found = [false; 3];
    // One listing for the three; a file's kind from the listing (no stat unless a link).
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let matching = std::array::from_fn::<bool, 3, _>(|i| !found[i] && names[i].is_match(name));
        if !matching.contains(&true) {
            continue;
        }
        let is_file = match e.file_type() {
            Ok(t) if t.is_symlink() => fs::metadata(e.path()).is_ok_and(|m| m.is_file()),
            Ok(t) => t.is_file(),
            Err(_) => false,
        };
        if is_file {
            found = std::array::from_fn(|i| found[i] || matching[i]);
        }
    }
    (0..3).filter(|&i| found[i]).map(|i| formats[i]).collect()
}

/// A matching file in the directory.
#[derive(Debug, Clone)]
struct Entry {
    path: PathBuf,
    mtime: SystemTime,
    size: u64,
    ident: (u64, u64),
}

fn list(spec: &DirSpec, re: &NamePattern) -> std::io::Result<Vec<Entry>> {
    let mut v = Vec::new();
    for e in fs::read_dir(&spec.dir)? {
        let Ok(e) = e else { continue };
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if !re.is_match(name) {
            continue;
        }
        let Ok(m) = fs::metadata(e.path()) else {
            continue;
        };
        if !m.is_file() {
            continue;
        }
        v.push(Entry {
            path: e.path(),
            mtime: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            size: m.len(),
            ident: (m.dev(), m.ino()),
        });
    }
    v.sort_by(|a, b| (a.mtime, &a.path).cmp(&(b.mtime, &b.path)));
    Ok(v)
}

/// The file `current_logfiles` names for this format family, if any.
fn current_logfile(spec: &DirSpec) -> Option<PathBuf> {
    let data = spec.data_dir.as_ref()?;
    let text = fs::read_to_string(data.join("current_logfiles")).ok()?;
    text.lines().find_map(|l| {
        let (kind, file) = l.split_once(' ')?;
        (kind == spec.format.name()).then(|| data.join(file.trim()))
    })
}

/// Follows the directory in `spec` until the receiver of `tx` is dropped.
pub async fn follow_dir(
    id: SourceId,
    spec: DirSpec,
    opts: FollowOptions,
    tx: mpsc::Sender<SourceMsg>,
) {
    let re = spec.name_pattern();
    let mut d = DirFollower {
        out: Out::new(id, tx),
        sentinel: spec.dir.join(".pgconn-top-wakeup"),
        spec,
        re,
        waker: Waker::new(opts.use_notify),
        opts,
        tail: None,
        left: HashMap::new(),
        switch_since: None,
        last_list: None,
        dir_changed: false,
        replay: Replay::finished(),
    };
    let _ = d.run().await;
}

struct DirFollower {
    out: Out,
    spec: DirSpec,
    re: NamePattern,
    sentinel: PathBuf,
    opts: FollowOptions,
    tail: Option<Tail>,
    /// Files already read (or skipped at start): path -> (ident, size then).
    left: HashMap<PathBuf, ((u64, u64), u64)>,
    switch_since: Option<Instant>,
    last_list: Option<Instant>,
    /// A wake-up looked like a file being created/removed/renamed.
    dir_changed: bool,
    replay: Replay,
    waker: Waker,
}

impl DirFollower {
    async fn run(&mut self) -> Result<(), Closed> {
        self.start().await?;
        loop {
            self.step().await?;
            if self.out.is_closed() {
                return Err(Closed);
            }
            let t = if self.switch_since.is_some() {
                Duration::from_millis(20)
            } else {
                self.opts.poll_interval
            };
            if !self.dir_changed {
                self.dir_changed = self.waker.wait(t).await;
            }
        }
    }

    async fn rewatch(&mut self) {
        let mut paths = vec![self.sentinel.clone()];
        if let Some(t) = &self.tail {
            paths.push(t.path.clone());
        }
        self.waker.watch(&paths).await;
    }

    async fn list_or_status(&mut self) -> Result<Option<Vec<Entry>>, Closed> {
        self.last_list = Some(Instant::now());
        match list(&self.spec, &self.re) {
            Ok(v) => Ok(Some(v)),
            Err(e) => {
                let msg = describe_io_error(&self.spec.dir, &e);
                self.out.status(msg).await?;
                Ok(None)
            }
        }
    }

    async fn start(&mut self) -> Result<(), Closed> {
        let entries = self.list_or_status().await?.unwrap_or_default();
        let current = current_logfile(&self.spec)
            .filter(|p| entries.iter().any(|e| &e.path == p))
            .or_else(|| entries.last().map(|e| e.path.clone()));
        let Some(current) = current else {
            self.no_file_status().await?;
            self.rewatch().await;
            return self.out.caught_up(0).await;
        };
        let window = match self.opts.start {
            Start::Since(secs) => Duration::from_secs(u64::from(secs)).min(self.opts.replay_window),
            _ => self.opts.replay_window,
        };
        let since = SystemTime::now()
            .checked_sub(window)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let mut replay: Vec<Entry> = Vec::new();
        for e in &entries {
            if self.opts.start != Start::End && e.mtime >= since && e.path != current {
                replay.push(e.clone());
            } else if e.path != current {
                self.left.insert(e.path.clone(), (e.ident, e.size));
            }
        }
        let cur_entry = entries.iter().find(|e| e.path == current).cloned();
        let replay_current =
            self.opts.start != Start::End && cur_entry.as_ref().is_some_and(|e| e.mtime >= since);
        let total: u64 = replay.iter().map(|e| e.size).sum::<u64>()
            + cur_entry
                .as_ref()
                .filter(|_| replay_current)
                .map_or(0, |e| e.size);
        self.replay = Replay::new(total, self.opts.progress_every);
        let mut reason = SwitchReason::Opened;
        // `--since`: each replayed file from its first entry of the window, as `--once` reads it.
        let from = match self.opts.start {
            Start::Since(secs) => Start::Since(secs),
            _ => Start::Beginning,
        };
        for e in replay {
            let Ok((mut t, _)) = Tail::open(&e.path, from) else {
                continue;
            };
            self.out.switched(&e.path, reason).await?;
            reason = SwitchReason::NextFile;
            drain(&mut t, &mut self.out, &mut self.replay, false).await?;
            if let Some(p) = t.take_partial() {
                self.out.lines(p).await?;
            }
            self.left.insert(e.path.clone(), (t.ident(), t.pos()));
        }
        let start = if replay_current { from } else { Start::End };
        match Tail::open(&current, start) {
            Ok((t, _)) => {
                self.out.switched(&current, reason).await?;
                self.tail = Some(t);
            }
            Err(e) => self.out.status(describe_io_error(&current, &e)).await?,
        }
        self.rewatch().await;
        if let Some(t) = self.tail.as_mut() {
            drain(t, &mut self.out, &mut self.replay, true).await?;
        }
        if !self.replay.caught_up {
            self.replay.caught_up = true;
            self.out.caught_up(self.replay.sent).await?;
        }
        Ok(())
    }

    async fn no_file_status(&mut self) -> Result<(), Closed> {
        let what = match &self.spec.filename_pattern {
            Some(p) => format!("matching {p}"),
            None => format!("named postgresql-*.{}", self.spec.format.extension()),
        };
        self.out
            .status(format!(
                "no log file {what} in {} yet; waiting for PostgreSQL to create one (is logging_collector on?)",
                self.spec.dir.display()
            ))
            .await
    }

    async fn step(&mut self) -> Result<(), Closed> {
        if let Some(t) = self.tail.as_mut() {
            if let Ok(Change::Truncated) = t.check() {
                if t.restart().is_ok() {
                    let p = t.path.clone();
                    self.out.switched(&p, SwitchReason::Truncated).await?;
                }
            }
            drain(t, &mut self.out, &mut self.replay, true).await?;
        }
        // Listing is cheap but not free: on file-creation events, during a pending switch, or per watchdog period.
        let due = self.dir_changed
            || self.switch_since.is_some()
            || self
                .last_list
                .is_none_or(|t| t.elapsed() >= self.opts.poll_interval);
        if !due {
            return Ok(());
        }
        self.dir_changed = false;
        let Some(entries) = self.list_or_status().await? else {
            return Ok(());
        };
        let next = entries.into_iter().find(|e| {
            let is_current = self
                .tail
                .as_ref()
                .is_some_and(|t| t.path == e.path && t.ident() == e.ident);
            let done = self
                .left
                .get(&e.path)
                .is_some_and(|&(ident, size)| ident == e.ident && e.size >= size);
            !is_current && !done
        });
        let Some(next) = next else {
            self.switch_since = None;
            if self.tail.is_none() {
                self.no_file_status().await?;
            }
            return Ok(());
        };
        let since = *self.switch_since.get_or_insert_with(Instant::now);
        if let Some(t) = self.tail.as_mut() {
            let quiet = t.last_growth.elapsed() >= self.opts.rotate_quiet && t.pending.is_empty();
            // The collector writes one file at a time: once the next one has content and the
            // current one was left alone for a moment, the current one is complete.
            let moved_on = next.size > 0
                && t.pending.is_empty()
                && t.unmodified_for().is_ok_and(|d| d >= SETTLE);
            if !quiet && !moved_on && since.elapsed() < self.opts.rotate_grace {
                return Ok(());
            }
            // What was written to it before we looked at the next file is all of it.
            drain(t, &mut self.out, &mut self.replay, true).await?;
        }
        let (new, _) = match Tail::open(&next.path, Start::Beginning) {
            Ok(t) => t,
            Err(e) => return self.out.status(describe_io_error(&next.path, &e)).await,
        };
        if let Some(mut old) = self.tail.replace(new) {
            if let Some(p) = old.take_partial() {
                self.out.lines(p).await?;
            }
            self.left.insert(old.path.clone(), (old.ident(), old.pos()));
        }
        self.switch_since = None;
        self.out
            .switched(&next.path, SwitchReason::NextFile)
            .await?;
        self.rewatch().await;
        let t = self.tail.as_mut().expect("just opened");
        drain(t, &mut self.out, &mut self.replay, true).await?;
        self.dir_changed = true; // look again at once: more files may be waiting
        Ok(())
    }
}

#[cfg(test)]
#[path = "dir_tests.rs"]
mod tests;

/// The files a one-shot read of a log directory covers: those modified within `window`,
/// plus the newest, oldest first (the order the collector wrote them).
pub fn replay_files(spec: &DirSpec, window: Duration) -> std::io::Result<Vec<PathBuf>> {
    let entries = list(spec, &spec.name_pattern())?;
    let since = SystemTime::now()
        .checked_sub(window)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let newest = entries.last().map(|e| e.path.clone());
    Ok(entries
        .into_iter()
        .filter(|e| e.mtime >= since || Some(&e.path) == newest.as_ref())
        .map(|e| e.path)
        .collect())
}
