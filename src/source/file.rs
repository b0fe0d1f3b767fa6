//! Follows one file path exactly once whatever the rotation schedule.
//!
//! Files are tracked by (device, inode), not by name. When the name moves, the old file stays
//! open and is read to its end. Every file that passed through the name (renamed chains, files
//! created and rotated away between two wake-ups) is found in the directory and read once, in
//! rotation order, before the next. A copytruncate copy is recognised by its first bytes: only
//! the part not read yet from the original is read from it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::chain::{self, prefix_match, Rank};
use super::error::describe_io_error;
use super::follow::{drain, Closed, Out, Replay, Waker};
use super::tail::Tail;
use super::{FollowOptions, SourceId, SourceMsg, Start, SwitchReason};

/// A file head shorter than this that is a prefix of a known head is not judged yet.
const SURE_HEAD: usize = 24;
/// How many heads of files (or truncated generations) already read are remembered.
const HISTORY: usize = 64;

/// Follows the file at `path` until the receiver of `tx` is dropped.
///
/// Sends `CaughtUp` once: after replaying existing content (`Start::Beginning`), right away for
/// `Start::End`, or right away if the path cannot be opened yet (a `Status` says why; it is retried
/// every `poll_interval`, and its content is read from byte 0 once it appears).
pub async fn follow_file(
    id: SourceId,
    path: PathBuf,
    opts: FollowOptions,
    tx: mpsc::Sender<SourceMsg>,
) {
    let mut f = FileFollower {
        out: Out::new(id, tx),
        waker: Waker::new(opts.use_notify),
        path,
        opts,
        tails: VecDeque::new(),
        done: HashMap::new(),
        copies: HashSet::new(),
        history: VecDeque::new(),
        replay: Replay::finished(),
        next_since: None,
        last_scan: Instant::now(),
        gone_reported: false,
        ever_opened: false,
    };
    let _ = f.run().await;
}

/// An open file of the chain and its place in the rotation order.
struct Held {
    tail: Tail,
    rank: Rank,
}

struct FileFollower {
    out: Out,
    path: PathBuf,
    opts: FollowOptions,
    /// Open files, oldest first: the front is being read, the others wait for it to end.
    tails: VecDeque<Held>,
    /// Files read to their end and still linked: inode -> bytes read.
    done: HashMap<u64, u64>,
    /// Inodes of copies (copytruncate, `copy`) whose content was already read from the original.
    copies: HashSet<u64>,
    /// Heads of files and truncated generations already read.
    history: VecDeque<Vec<u8>>,
    replay: Replay,
    /// When a newer file than the front was first held.
    next_since: Option<Instant>,
    last_scan: Instant,
    gone_reported: bool,
    ever_opened: bool,
    waker: Waker,
}

impl FileFollower {
    async fn run(&mut self) -> Result<(), Closed> {
        match Tail::open(&self.path, self.opts.start) {
            Ok((tail, size)) => {
                let from = tail.pos();
                self.tails.push_back(Held {
                    tail,
                    rank: Rank::Current,
                });
                self.ever_opened = true;
                if self.opts.start != Start::End {
                    self.replay = Replay::new(size - from, self.opts.progress_every);
                } else {
                    self.out.caught_up(0).await?;
                }
            }
            Err(e) => {
                self.out.status(describe_io_error(&self.path, &e)).await?;
                self.out.caught_up(0).await?;
            }
        }
        // Rotated files present at start are before our time: never read.
        let held: Vec<u64> = self.tails.iter().map(|h| h.tail.ident().1).collect();
        for m in chain::list(&self.path).unwrap_or_default() {
            if !held.contains(&m.ino) {
                let size = std::fs::metadata(&m.path).map_or(0, |md| md.len());
                self.done.insert(m.ino, size);
            }
        }
        self.last_scan = Instant::now();
        self.waker.watch(std::slice::from_ref(&self.path)).await;
        let mut structural = false;
        loop {
            self.step(structural).await?;
            if self.out.is_closed() {
                return Err(Closed);
            }
            let timeout = if self.tails.len() > 1 {
                Duration::from_millis(10)
            } else {
                self.opts.poll_interval
            };
            structural = self.waker.wait(timeout).await;
        }
    }

    async fn step(&mut self, structural: bool) -> Result<(), Closed> {
        self.check_truncation().await?;
        let at_path = chain::ident_of(&self.path);
        let held = at_path.is_some_and(|id| self.tails.iter().any(|h| h.tail.ident() == id));
        match at_path {
            Some(_) => self.gone_reported = false,
            None if !self.gone_reported && self.ever_opened => {
                self.gone_reported = true;
                let msg = format!(
                    "{} was removed; reading what is left of it and waiting for it to be recreated",
                    self.path.display()
                );
                self.out.status(msg).await?;
            }
            None => {}
        }
        let poll_due = self.last_scan.elapsed() >= self.opts.poll_interval;
        if (at_path.is_some() && !held) || structural || poll_due {
            self.scan().await?;
        }
        if self.tails.is_empty() && at_path.is_none() {
            if let Err(e) = std::fs::metadata(&self.path) {
                self.out.status(describe_io_error(&self.path, &e)).await?;
            }
        }
        self.read().await
    }

    /// A truncated front file restarts at byte 0; what it held beyond our offset is read from
    /// its copy first, if one is found.
    async fn check_truncation(&mut self) -> Result<(), Closed> {
        let Some(front) = self.tails.front_mut() else {
            return Ok(());
        };
        let tail = &mut front.tail;
        match tail.truncated() {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(e) => {
                let msg = describe_io_error(&tail.path, &e);
                return self.out.status(msg).await;
            }
        }
        let pos = tail.pos();
        let pending = std::mem::take(&mut tail.pending);
        let head = tail.head().to_vec();
        if let Err(e) = tail.restart() {
            let msg = describe_io_error(&tail.path, &e);
            return self.out.status(msg).await;
        }
        let path = tail.path.clone();
        self.remember(head.clone());
        self.read_copy(&head, pos, pending).await?;
        self.out.switched(&path, SwitchReason::Truncated).await
    }

    /// Reads, from byte `pos` on, the copy of a truncated file whose first bytes were `head`.
    async fn read_copy(&mut self, head: &[u8], pos: u64, pending: Vec<u8>) -> Result<(), Closed> {
        if head.is_empty() {
            return Ok(());
        }
        let Ok(members) = chain::list(&self.path) else {
            return Ok(());
        };
        // The largest copy that starts like the truncated file (an older `copy` may be shorter).
        let mut best: Option<(u64, PathBuf)> = None;
        for m in members {
            if m.rank == Rank::Current || self.tails.iter().any(|h| h.tail.ident().1 == m.ino) {
                continue;
            }
            let Ok((probe, size)) = Tail::open(&m.path, Start::Beginning) else {
                continue;
            };
            let Ok(h) = probe.peek_head() else { continue };
            if !prefix_match(&h, head).is_some_and(|n| n >= SURE_HEAD.min(head.len())) {
                continue;
            }
            self.copies.insert(m.ino);
            if size > pos && best.as_ref().map_or(true, |(s, _)| size > *s) {
                best = Some((size, m.path));
            }
        }
        let Some((_, copy)) = best else {
            return Ok(());
        };
        let Ok(mut rest) = Tail::open_at(&copy, pos, pending) else {
            return Ok(());
        };
        drain(&mut rest, &mut self.out, &mut self.replay, false).await?;
        if let Some(p) = rest.take_partial() {
            self.out.lines(p).await?;
        }
        Ok(())
    }

    fn remember(&mut self, head: Vec<u8>) {
        if head.is_empty() {
            return;
        }
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(head);
    }

    /// Lists the chain, refreshes names and ranks of held files, opens every file that passed
    /// through the name and is not known yet, and sorts the waiting files in rotation order.
    async fn scan(&mut self) -> Result<(), Closed> {
        self.last_scan = Instant::now();
        let members = match chain::list(&self.path) {
            Ok(m) => m,
            Err(e) => {
                let msg = describe_io_error(&self.path, &e);
                return self.out.status(msg).await;
            }
        };
        let present: HashSet<u64> = members.iter().map(|m| m.ino).collect();
        self.done.retain(|ino, _| present.contains(ino));
        self.copies.retain(|ino| present.contains(ino));
        // Held files: current name and rank; a file no longer listed keeps the rank of the
        // one before it, so it stays where it was in the order.
        let mut prev_rank = Rank::Named(String::new());
        for h in self.tails.iter_mut() {
            match members.iter().find(|m| m.ino == h.tail.ident().1) {
                Some(m) => {
                    h.rank = m.rank.clone();
                    h.tail.path.clone_from(&m.path);
                }
                None => h.rank = prev_rank.clone(),
            }
            prev_rank = h.rank.clone();
        }
        let mut fresh = Vec::new();
        for m in members {
            if self.copies.contains(&m.ino) || self.tails.iter().any(|h| h.tail.ident().1 == m.ino)
            {
                continue;
            }
            let Ok((tail, size)) = Tail::open(&m.path, Start::Beginning) else {
                continue; // gone meanwhile
            };
            if self.done.get(&m.ino).is_some_and(|&read| size >= read) {
                continue;
            }
            let head = tail.peek_head().unwrap_or_default();
            match self.judge(&head) {
                Judged::New => fresh.push(Held { tail, rank: m.rank }),
                Judged::Copy => {
                    self.copies.insert(m.ino);
                }
                Judged::NotYet => {}
            }
        }
        if fresh.is_empty() {
            return Ok(());
        }
        // The front keeps its place once something of it was read.
        let keep = usize::from(self.tails.front().is_some_and(|h| h.tail.pos() > 0));
        let mut rest: Vec<Held> = self.tails.drain(keep..).collect();
        rest.extend(fresh);
        rest.sort_by(|a, b| a.rank.cmp(&b.rank));
        let was_empty = self.tails.is_empty();
        let old_front = self.tails.front().map(|h| h.tail.ident());
        self.tails.extend(rest);
        if self.tails.len() > 1 {
            self.next_since.get_or_insert_with(Instant::now);
        }
        let new_front = self.tails.front().map(|h| h.tail.ident());
        if new_front != old_front {
            let p = self.tails[0].tail.path.clone();
            let reason = if was_empty && !self.ever_opened {
                SwitchReason::Appeared
            } else {
                SwitchReason::Replaced
            };
            self.ever_opened = true;
            self.out.switched(&p, reason).await?;
        }
        self.waker.watch(std::slice::from_ref(&self.path)).await;
        Ok(())
    }

    /// Whether a file not known yet is new content, a copy of content already read, or too
    /// short to say.
    fn judge(&self, head: &[u8]) -> Judged {
        if head.is_empty() {
            return Judged::New;
        }
        let live = self.tails.iter().map(|h| h.tail.head());
        let mut short = false;
        for known in live.chain(self.history.iter().map(Vec::as_slice)) {
            if known.is_empty() {
                continue;
            }
            if let Some(n) = prefix_match(head, known) {
                if n >= SURE_HEAD || (n == head.len() && n == known.len()) {
                    return Judged::Copy;
                }
                short = true;
            }
        }
        if short {
            Judged::NotYet
        } else {
            Judged::New
        }
    }

    /// Reads the front file; moves on to the next one once the front is finished: a newer file
    /// has content (the writer moved on), or the front was quiet for `rotate_quiet`, or
    /// `rotate_grace` passed since the newer file was seen.
    async fn read(&mut self) -> Result<(), Closed> {
        loop {
            let Some(front) = self.tails.front_mut() else {
                return Ok(());
            };
            drain(&mut front.tail, &mut self.out, &mut self.replay, true).await?;
            if self.tails.len() < 2 {
                self.next_since = None;
                return Ok(());
            }
            let newer_has_data = self
                .tails
                .iter()
                .skip(1)
                .any(|h| h.tail.stat().is_ok_and(|(len, _)| len > 0));
            let front = &self.tails[0].tail;
            let quiet =
                front.last_growth.elapsed() >= self.opts.rotate_quiet && front.pending.is_empty();
            let late = self
                .next_since
                .is_some_and(|t| t.elapsed() >= self.opts.rotate_grace);
            if !(newer_has_data || quiet || late) {
                return Ok(());
            }
            let mut old = self.tails.pop_front().expect("front").tail;
            // The writer moved on before we looked: what is in the old file now is all of it.
            drain(&mut old, &mut self.out, &mut self.replay, true).await?;
            if let Some(p) = old.take_partial() {
                self.out.lines(p).await?;
            }
            if let Ok((_, links)) = old.stat() {
                if links > 0 {
                    self.done.insert(old.ident().1, old.pos());
                }
            }
            self.remember(old.head().to_vec());
            self.next_since = (self.tails.len() > 1).then(Instant::now);
            let p = self.tails[0].tail.path.clone();
            self.out.switched(&p, SwitchReason::Replaced).await?;
        }
    }
}

/// What a file found in the chain is.
enum Judged {
    /// Content that passed through the name and was not read yet.
    New,
    /// A copy of content already read.
    Copy,
    /// Its first bytes are too few to tell.
    NotYet,
}
