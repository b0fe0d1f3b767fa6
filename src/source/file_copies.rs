//! Copies of a followed file (copytruncate, `copy`): told from new files by their first
//! bytes; what a truncated file held beyond our offset is read from its copy.

use super::{FileFollower, Held, HISTORY, SURE_HEAD};
use crate::source::chain::{self, prefix_match, Rank};
use crate::source::follow::{drain, Closed};
use crate::source::tail::Tail;
use crate::source::Start;

impl FileFollower {
    /// Reads, from byte `pos` on, the copy of a truncated file whose first bytes were `head`.
    pub(super) async fn read_copy(
        &mut self,
        head: &[u8],
        pos: u64,
        pending: Vec<u8>,
    ) -> Result<(), Closed> {
        if head.is_empty() {
            return Ok(());
        }
        let Some(mut rest) = (0..16).find_map(|_| self.find_copy(head, pos)) else {
            return Ok(());
        };
        let Some(mut rest) = rest.take() else {
            return Ok(());
        };
        if rest.reposition(pos, pending).is_err() {
            return Ok(());
        }
        drain(&mut rest, &mut self.out, &mut self.replay, false).await?;
        if let Some(p) = rest.take_partial() {
            self.out.lines(p).await?;
        }
        Ok(())
    }

    /// The largest copy (an older `copy` may be shorter) of content starting with `head`
    /// that holds more than `pos` bytes: `Some(None)` if there is none, `None` if a name
    /// moved while the directory was looked at (look again).
    pub(super) fn find_copy(&mut self, head: &[u8], pos: u64) -> Option<Option<Tail>> {
        let Ok(members) = chain::list(&self.path) else {
            return Some(None);
        };
        let mut best: Option<(u64, Tail)> = None;
        for m in members {
            if m.rank == Rank::Current || self.tails.iter().any(|h| h.tail.ident().1 == m.ino) {
                continue;
            }
            let Ok((probe, size)) = Tail::open(&m.path, Start::Beginning) else {
                return None;
            };
            if probe.ident().1 != m.ino {
                return None;
            }
            let Ok(h) = probe.peek_head() else { continue };
            if prefix_match(&h, head).is_none_or(|n| n < SURE_HEAD.min(head.len())) {
                continue;
            }
            self.copies.insert(m.ino, h);
            if size > pos && best.as_ref().is_none_or(|(s, _)| size > *s) {
                best = Some((size, probe));
            }
        }
        Some(best.map(|(_, t)| t))
    }

    /// Remembers that the held file `ident` lost content starting with `head`.
    pub(super) fn note_lost(&mut self, l: ((u64, u64), Vec<u8>)) {
        if self.lost.len() == 16 {
            self.lost.pop_front();
        }
        self.lost.push_back(l);
    }

    /// The held file whose lost content `h` starts with, if any.
    pub(super) fn lost_to(&self, h: &Held) -> Option<(u64, u64)> {
        let head = h.tail.peek_head().ok()?;
        self.lost
            .iter()
            .rev()
            .find(|(id, lost)| {
                matches!(same_content(&head, lost), Judged::Copy)
                    && self.tails.iter().any(|t| t.tail.ident() == *id)
            })
            .map(|(id, _)| *id)
    }

    /// Judges again the copies of content that starts with `head`.
    pub(super) fn forget_copies_of(&mut self, head: &[u8]) {
        self.copies
            .retain(|_, h| !matches!(same_content(h, head), Judged::Copy));
    }

    pub(super) fn remember(&mut self, head: Vec<u8>) {
        if head.is_empty() {
            return;
        }
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(head);
    }

    /// Whether `head` is that of a held file not read yet (a copy being made of it, maybe
    /// before a copytruncate): then that file's first bytes are remembered, so that its
    /// truncation is noticed and its old content read from the copy.
    pub(super) fn copy_of_unread(&mut self, head: &[u8]) -> Judged {
        let mut verdict = Judged::New;
        for h in self.tails.iter_mut().filter(|h| h.tail.pos() == 0) {
            let Ok(peek) = h.tail.peek_head() else {
                continue;
            };
            match same_content(head, &peek) {
                Judged::Copy => {
                    h.tail.set_peek(peek);
                    return Judged::Copy;
                }
                Judged::NotYet => verdict = Judged::NotYet,
                Judged::New => {}
            }
        }
        verdict
    }

    /// Whether a file not known yet is new content, a copy of content already read, or too
    /// short to say.
    pub(super) fn judge(&self, head: &[u8]) -> Judged {
        if head.is_empty() {
            return Judged::New;
        }
        let live = self.tails.iter().map(|h| h.tail.head());
        let mut short = false;
        for known in live.chain(self.history.iter().map(Vec::as_slice)) {
            match same_content(head, known) {
                Judged::Copy => return Judged::Copy,
                Judged::NotYet => short = true,
                Judged::New => {}
            }
        }
        if short {
            Judged::NotYet
        } else {
            Judged::New
        }
    }
}

/// Whether two file heads show the same content (`Copy`), different content (`New`), or one
/// is too short a prefix of the other to tell (`NotYet`).
pub(super) fn same_content(head: &[u8], known: &[u8]) -> Judged {
    if head.is_empty() || known.is_empty() {
        return Judged::New;
    }
    match prefix_match(head, known) {
        Some(n) if n >= SURE_HEAD || (n == head.len() && n == known.len()) => Judged::Copy,
        Some(_) => Judged::NotYet,
        None => Judged::New,
    }
}

/// What a file found in the chain is.
pub(super) enum Judged {
    /// Content that passed through the name and was not read yet.
    New,
    /// A copy of content already read.
    Copy,
    /// Its first bytes are too few to tell.
    NotYet,
}
