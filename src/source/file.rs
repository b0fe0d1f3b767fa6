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

use super::chain::{self, Rank};
use super::error::describe_io_error;
use super::follow::{drain, finish, send_chunk, Closed, Out, Replay, Waker};
use super::tail::Tail;
use super::{FollowOptions, SourceId, SourceMsg, Start, SwitchReason};

/// A file head shorter than this that is a prefix of a known head is not judged yet.
const SURE_HEAD: usize = 24;
/// A file is finished once a newer one has content and it was not modified for this long.
const SETTLE: Duration = Duration::from_millis(25);
/// How many heads of files (or truncated generations) already read are remembered.
const HISTORY: usize = 256;

#[path = "file_copies.rs"]
mod copies;
use copies::Judged;

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
        copies: HashMap::new(),
        history: VecDeque::new(),
        lost: VecDeque::new(),
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
    /// Files read to their end and still linked: inode -> (bytes read, first bytes). The first
    /// bytes tell a new file that got the inode of a deleted one (inodes are reused) from it.
    done: HashMap<u64, (u64, Vec<u8>)>,
    /// Copies (copytruncate, `copy`) of content read from the original: inode -> first bytes.
    copies: HashMap<u64, Vec<u8>>,
    /// Heads of files and truncated generations already read.
    history: VecDeque<Vec<u8>>,
    /// Held files truncated before we read them, with the first bytes they had.
    lost: VecDeque<((u64, u64), Vec<u8>)>,
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
                let head = Tail::open(&m.path, Start::Beginning)
                    .ok()
                    .and_then(|(t, _)| t.peek_head().ok())
                    .unwrap_or_default();
                self.done.insert(m.ino, (size, head));
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
        if pos == 0 {
            // Known only by a peek, never read: its old content is in a copy, which must now
            // be judged again (it is new content) and read before the file.
            let id = tail.ident();
            self.forget_copies_of(&head);
            self.note_lost((id, head));
            return self.scan().await.map(drop);
        }
        self.remember(head.clone());
        self.read_copy(&head, pos, pending).await?;
        self.out.switched(&path, SwitchReason::Truncated).await?;
        // Content that went through the file between two looks (a rewrite, then a
        // copytruncate) is in a copy nothing matches: it goes before the restarted file.
        self.scan().await.map(drop)
    }

    /// Lists the chain, refreshes names and ranks of held files, opens every file that passed
    /// through the name and is not known yet, and sorts the waiting files in rotation order.
    /// Returns false if the directory kept changing while it was looked at (nothing was added
    /// then: the caller must not move on before a complete look).
    async fn scan(&mut self) -> Result<bool, Closed> {
        self.last_scan = Instant::now();
        // The first bytes of held files not read yet: a copy of them is then known as one,
        // and their truncation (copytruncate before we read them) is noticed.
        let mut lost = Vec::new();
        let mut newly_lost = Vec::new();
        for h in self.tails.iter_mut().filter(|h| h.tail.pos() == 0) {
            if h.tail.truncated().unwrap_or(false) {
                // Truncated before we read it: its copy, taken for a copy of a file we will
                // read, holds content read from nowhere else, so it is judged again.
                let head = h.tail.head().to_vec();
                if h.tail.restart().is_ok() {
                    newly_lost.push((h.tail.ident(), head.clone()));
                    lost.push(head);
                }
            } else if let Ok(peek) = h.tail.peek_head() {
                h.tail.set_peek(peek);
            }
        }
        for head in lost {
            self.forget_copies_of(&head);
        }
        for l in newly_lost {
            self.note_lost(l);
        }
        let mut attempts = 0;
        let (members, fresh) = loop {
            let members = match chain::list(&self.path) {
                Ok(m) => m,
                Err(e) => {
                    let msg = describe_io_error(&self.path, &e);
                    self.out.status(msg).await?;
                    return Ok(false);
                }
            };
            match self.open_unknown(&members) {
                Some(fresh) => break (members, fresh),
                // A name moved between listing and opening: a file judged now could be
                // newer than one missed, so the whole look is taken again.
                None if attempts < 16 => attempts += 1,
                None => return Ok(false),
            }
        };
        let present: HashSet<u64> = members.iter().map(|m| m.ino).collect();
        self.done.retain(|ino, _| present.contains(ino));
        self.copies.retain(|ino, _| present.contains(ino));
        // Held files: current name and rank. A waiting file no longer listed keeps the rank of
        // the one before it, so it stays where it was in the order; the front keeps its last
        // rank (restarted after a truncation, it holds the newest content it ever had).
        let mut prev_rank = Rank::Named(String::new());
        for (i, h) in self.tails.iter_mut().enumerate() {
            match members.iter().find(|m| m.ino == h.tail.ident().1) {
                Some(m) => {
                    h.rank = m.rank.clone();
                    h.tail.path.clone_from(&m.path);
                }
                None if i > 0 => h.rank = prev_rank.clone(),
                None => {}
            }
            prev_rank = h.rank.clone();
        }
        if fresh.is_empty() {
            return Ok(true);
        }
        // The front keeps its place once something of it was read, and once its name is gone:
        // a file deleted while it was the oldest is older than anything found after it (its
        // last rank says nothing about names given since).
        let keep = usize::from(self.tails.front().is_some_and(|h| {
            h.tail.pos() > 0 || !members.iter().any(|m| m.ino == h.tail.ident().1)
        }));
        let mut rest: Vec<Held> = self.tails.drain(keep..).collect();
        let copies_of: Vec<Option<(u64, u64)>> = fresh.iter().map(|h| self.lost_to(h)).collect();
        let fresh_ids: Vec<(u64, u64)> = fresh.iter().map(|h| h.tail.ident()).collect();
        rest.extend(fresh);
        rest.sort_by(|a, b| a.rank.cmp(&b.rank));
        // A copy of content a held file lost (truncated before we read it) goes right
        // before that file, wherever its name puts it.
        for (id, of) in fresh_ids.into_iter().zip(copies_of) {
            let Some(of) = of else { continue };
            let at = |rest: &Vec<Held>, id| rest.iter().position(|h| h.tail.ident() == id);
            let (Some(from), Some(to)) = (at(&rest, id), at(&rest, of)) else {
                continue;
            };
            if from > to {
                let moved = rest.remove(from);
                rest.insert(to, moved);
            }
        }
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
        Ok(true)
    }

    /// Opens the listed files not known yet that hold new content (see [`Self::judge`]);
    /// `None` if a name no longer held the listed file when it was opened.
    fn open_unknown(&mut self, members: &[chain::Member]) -> Option<Vec<Held>> {
        let mut fresh: Vec<Held> = Vec::new();
        for m in members {
            let held = |h: &Held| h.tail.ident().1 == m.ino;
            if self.copies.contains_key(&m.ino)
                || self.tails.iter().any(held)
                || fresh.iter().any(held)
            {
                continue;
            }
            let Ok((tail, size)) = Tail::open(&m.path, Start::Beginning) else {
                return None; // gone or renamed meanwhile
            };
            if tail.ident().1 != m.ino {
                return None;
            }
            let head = tail.peek_head().unwrap_or_default();
            let same_file = |(read, known): &(u64, Vec<u8>)| {
                size >= *read && (known.is_empty() || head.starts_with(known))
            };
            if self.done.get(&m.ino).is_some_and(same_file) {
                continue;
            }
            let judged = if head.is_empty() && m.rank != Rank::Current {
                // An empty rotated file may be a copy being made: judged once it has content
                // (a file renamed away before it was written is judged when it gets some).
                Judged::NotYet
            } else {
                match self.copy_of_unread(&head) {
                    Judged::New => self.judge(&head),
                    other => other,
                }
            };
            match judged {
                Judged::New => fresh.push(Held {
                    tail,
                    rank: m.rank.clone(),
                }),
                Judged::Copy => {
                    self.copies.insert(m.ino, head);
                }
                Judged::NotYet => {}
            }
        }
        Some(fresh)
    }

    /// Reads the front file; moves on to the next one once the front is finished: a newer file
    /// has content (the writer moved on), or the front was quiet for `rotate_quiet`, or
    /// `rotate_grace` passed since the newer file was seen.
    async fn read(&mut self) -> Result<(), Closed> {
        let mut scanned = false;
        loop {
            if self.tails.is_empty() {
                return Ok(());
            }
            self.check_truncation().await?;
            self.drain_front().await?;
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
            // ...and the front was left alone for a moment (a copy being made is still written).
            let settled = front.unmodified_for().is_ok_and(|d| d >= SETTLE);
            let newer_has_data = newer_has_data && front.pending.is_empty() && settled;
            let quiet =
                front.last_growth.elapsed() >= self.opts.rotate_quiet && front.pending.is_empty();
            let late = self
                .next_since
                .is_some_and(|t| t.elapsed() >= self.opts.rotate_grace);
            if !(newer_has_data || quiet || late) {
                return Ok(());
            }
            if !scanned {
                // A file that passed through the name since the last look (or the copy of a
                // waiting file that was truncated) must be ordered before the front moves on.
                scanned = true;
                if !self.scan().await? {
                    return Ok(()); // the directory is changing: look again on the next wake-up
                }
                continue;
            }
            scanned = false;
            let mut old = self.tails.pop_front().expect("front").tail;
            // The writer moved on before we looked: what is in the old file now is all of it.
            drain(&mut old, &mut self.out, &mut self.replay, true).await?;
            if let Some(p) = old.take_partial() {
                self.out.lines(p).await?;
            }
            if let Ok((_, links)) = old.stat() {
                if links > 0 {
                    self.done
                        .insert(old.ident().1, (old.pos(), old.head().to_vec()));
                }
            }
            self.remember(old.head().to_vec());
            self.next_since = (self.tails.len() > 1).then(Instant::now);
            let p = self.tails[0].tail.path.clone();
            self.out.switched(&p, SwitchReason::Replaced).await?;
        }
    }

    /// Reads the front file to its current end. Each chunk is checked before it is sent: the
    /// first chunk of a file (or generation) only once no file found in the directory has to go
    /// before it (a copy holding what was truncated away before we read it), later chunks only
    /// if the file was not truncated meanwhile (else its copy is read from our offset).
    async fn drain_front(&mut self) -> Result<(), Closed> {
        loop {
            let Some(front) = self.tails.front_mut() else {
                return Ok(());
            };
            let tail = &mut front.tail;
            let before = tail.snapshot();
            let from = tail.pos();
            let bytes = match tail.read_chunk() {
                Ok(Some(b)) => b,
                Ok(None) => return finish(&mut self.out, &mut self.replay).await,
                Err(e) => {
                    let msg = describe_io_error(&tail.path, &e);
                    return self.out.status(msg).await;
                }
            };
            let consumed = tail.pos() - from;
            if from == 0 {
                let after = tail.snapshot();
                let id = tail.ident();
                if tail.restore(&before).is_err() {
                    return Ok(());
                }
                if !self.scan().await? {
                    return Ok(()); // nothing sent: read again after a complete look
                }
                let tail = &mut self.tails[0].tail;
                if tail.ident() != id {
                    continue; // an older file goes first; this one is read again later
                }
                if tail.restore(&after).is_err() {
                    return Ok(());
                }
            } else if tail.truncated().unwrap_or(false) {
                if tail.restore(&before).is_err() {
                    return Ok(());
                }
                self.check_truncation().await?;
                continue;
            }
            send_chunk(&mut self.out, &mut self.replay, bytes, consumed).await?;
        }
    }
}
