//! A source's decisions, each taken on evidence and deferred when the lines cannot tell:
//! its envelope, its format, and its `log_line_prefix` (the flag, the server's configuration,
//! else read off its own session lines), taken again on a new file or when most connection
//! lines stop parsing.

use super::source::{PrefixOrigin, Problem, Source};
use crate::envelope::{self, Context, Detection, Envelope, Unwrapper};
use crate::parse::detect::{detect_format, guess_prefix, DetectError};
use crate::parse::infer::{infer_prefix, Inference};
use crate::parse::{Decoder, Format, Prefix};
use memchr::memmem;

/// Lines a decision wants before it is taken on replayed content.
const DECIDE_LINES: usize = 16;
/// Bytes after which a decision is taken whatever the line count.
const DECIDE_BYTES: usize = 64 << 10;
/// The window of lines prefix inference reads.
const SAMPLE_BYTES: usize = 64 << 10;
/// What an undecided source holds at most; past it the oldest lines are dropped (counted).
const UNDECIDED_CAP: usize = 1 << 20;
/// Connection lines that fail to parse, more than those that parse, before the prefix is
/// read again.
const RECHECK_UNPARSED: u64 = 16;
/// Connection lines (parsed or not) per window in which the unparsed share is judged.
const RECHECK_WINDOW: u64 = 256;

/// The settings that stand before inference.
pub(super) struct Defaults<'a> {
    pub format: Option<Format>,
    pub flag: Option<&'a str>,
    pub configured: Option<&'a str>,
}

/// The complete lines at the start of `buf` (all of it at the end of input).
fn complete(buf: &[u8], eof: bool) -> &[u8] {
    if eof {
        return buf;
    }
    &buf[..memchr::memrchr(b'\n', buf).map_or(0, |i| i + 1)]
}

fn enough(buf: &[u8], live: bool, eof: bool) -> bool {
    if eof || buf.len() >= DECIDE_BYTES {
        return true;
    }
    let lines = memchr::memchr_iter(b'\n', buf).take(DECIDE_LINES).count();
    lines >= DECIDE_LINES || (live && lines > 0)
}

/// Year and zone for envelopes whose records lack them (RFC 3164 syslog): the file's
/// modification time and this machine's zone.
pub(super) fn context_for(label: &str) -> Context {
    std::fs::metadata(label)
        .and_then(|m| m.modified())
        .map_or_else(|_| Context::now(), Context::at)
}

/// Decides the envelope when the buffered lines can tell; returns whether reading goes on.
pub(super) fn envelope(src: &mut Source, eof: bool) -> bool {
    if src.envelope.is_some() {
        return true;
    }
    if !enough(&src.carry, src.live, eof) {
        return false;
    }
    let env = if eof || src.live {
        // The input ended, or is followed live: whatever lines there are decide.
        envelope::detect_at_eof(complete(&src.carry, eof))
    } else {
        match envelope::detect(complete(&src.carry, eof)) {
            Detection::Decided(e) => e,
            Detection::Undecided if src.carry.len() >= UNDECIDED_CAP => Envelope::Plain,
            Detection::Undecided => return false,
        }
    };
    set_envelope(src, env);
    true
}

/// Records the envelope of a source and starts its unwrapper.
pub(super) fn set_envelope(src: &mut Source, env: Envelope) {
    src.envelope = Some(env);
    src.synthetic = env.synthetic_prefix();
    if env != Envelope::Plain {
        src.unwrapper = Some(Unwrapper::new(env, context_for(&src.label)));
    }
}

/// The lines inference reads: a window around the first connection line when the buffer is
/// large, else all of it.
fn sample(work: &[u8]) -> &[u8] {
    if work.len() <= SAMPLE_BYTES {
        return work;
    }
    let at = memmem::find(work, b"connection ")
        .or_else(|| memmem::find(work, b"disconnection"))
        .unwrap_or(0);
    let from = at.saturating_sub(SAMPLE_BYTES / 2);
    let from = memchr::memrchr(b'\n', &work[..from]).map_or(0, |i| i + 1);
    let to = (from + SAMPLE_BYTES).min(work.len());
    let to = memchr::memrchr(b'\n', &work[..to]).map_or(to, |i| i + 1);
    &work[from..to.max(from)]
}

/// Drops the oldest complete lines of an undecided buffer past its cap; returns how many.
fn drop_oldest(work: &mut Vec<u8>, eof: bool) -> u64 {
    if !eof && work.len() <= UNDECIDED_CAP {
        return 0;
    }
    let cut = if eof {
        work.len()
    } else {
        let half = work.len() / 2;
        memchr::memchr(b'\n', &work[half..]).map_or(work.len(), |i| half + i + 1)
    };
    let lines = memchr::memchr_iter(b'\n', &work[..cut]).count() as u64;
    work.drain(..cut);
    lines
}

/// Sets the decoder (or what stops it) once the buffered lines can tell.
pub(super) fn decoder(
    src: &mut Source,
    d: &Defaults<'_>,
    wrapped: bool,
    eof: bool,
) -> Result<(), DetectError> {
    if src.decoder.is_some() {
        if src.recheck {
            recheck(src, wrapped);
        }
        return Ok(());
    }
    let work = if wrapped { &src.inner } else { &src.carry };
    if !enough(work, src.live, eof) {
        return Ok(());
    }
    let lines = complete(work, eof);
    let format = match choose(src.ext.as_deref(), d, src.synthetic, wrapped, lines) {
        Choice::Decoder(dec, origin) => return set(src, dec, origin),
        Choice::Wait(format, problem) => (format, problem),
    };
    let (format, problem) = format;
    let not_a_log = matches!(problem, Problem::NotALog { .. });
    if eof && problem == Problem::Undecided {
        // The input ended before any connection line: read its server lines with the likeliest
        // setting (nothing more can come to tell), and keep saying the prefix is unknown.
        src.decoder = Some(Decoder::new(format, Some(guess_prefix(lines))));
        src.origin = Some(PrefixOrigin::Guessed);
        src.problem = Some(problem);
        return Ok(());
    }
    src.problem = Some(problem);
    let work = if wrapped {
        &mut src.inner
    } else {
        &mut src.carry
    };
    src.dropped += drop_oldest(work, eof);
    if not_a_log && (eof || src.live) {
        return Err(DetectError::NotALog);
    }
    Ok(())
}

/// What the lines say: a decoder, or why there is none yet (with the format they showed).
pub(super) enum Choice {
    Decoder(Decoder, PrefixOrigin),
    Wait(Format, Problem),
}

/// The decoder for these complete lines: the format forced or detected; for stderr, the
/// prefix from the flag, the server's configuration (plain logs), else read off the lines.
pub(super) fn choose(
    ext: Option<&str>,
    d: &Defaults<'_>,
    synthetic: &str,
    wrapped: bool,
    lines: &[u8],
) -> Choice {
    let format = d.format.unwrap_or_else(|| detect_format(lines, ext));
    if format != Format::Stderr {
        let origin = match d.format {
            Some(_) => PrefixOrigin::Flag,
            None => PrefixOrigin::Inferred,
        };
        return Choice::Decoder(Decoder::new(format, None), origin);
    }
    let chosen = match (d.flag, d.configured) {
        (Some(p), _) => Some((p, PrefixOrigin::Flag)),
        (None, Some(p)) if !wrapped => Some((p, PrefixOrigin::Configuration)),
        _ => None,
    };
    if let Some((p, origin)) = chosen {
        let prefix = Prefix::compile(&format!("{synthetic}{p}"));
        return Choice::Decoder(Decoder::new(format, Some(prefix)), origin);
    }
    let problem = match infer_prefix(sample(lines)) {
        Inference::Decided { prefix, .. } => {
            return Choice::Decoder(Decoder::new(format, Some(prefix)), PrefixOrigin::Inferred)
        }
        Inference::Undecided => Problem::Undecided,
        Inference::Failed { example } => Problem::UnknownPrefix { example },
        Inference::NotALog { example } => Problem::NotALog { example },
    };
    Choice::Wait(format, problem)
}

pub(super) fn set(src: &mut Source, dec: Decoder, origin: PrefixOrigin) -> Result<(), DetectError> {
    src.decoder = Some(dec);
    src.origin = Some(origin);
    src.problem = None;
    src.recheck = false;
    src.at_decision = (src.events, 0);
    Ok(())
}

/// Reads the prefix again from the next lines; a different prefix that explains them
/// replaces the one in use.
fn recheck(src: &mut Source, wrapped: bool) {
    let work = std::mem::take(if wrapped {
        &mut src.inner
    } else {
        &mut src.carry
    });
    recheck_on(src, &work);
    *(if wrapped {
        &mut src.inner
    } else {
        &mut src.carry
    }) = work;
}

/// Reads the prefix again from `lines` (the ones about to be decoded), once they are enough.
pub(super) fn recheck_on(src: &mut Source, lines: &[u8]) {
    if !enough(lines, true, false) {
        return;
    }
    src.recheck = false;
    if let Inference::Decided { prefix, .. } = infer_prefix(sample(complete(lines, false))) {
        if let Some(dec) = src.decoder.as_mut() {
            if dec.prefix() != Some(&prefix) {
                dec.set_prefix(prefix);
            }
        }
    }
}

/// Marks an inferred prefix for a new reading when most connection lines stop parsing.
pub(super) fn watch_unparsed(src: &mut Source) {
    if src.origin != Some(PrefixOrigin::Inferred) {
        return;
    }
    let Some(dec) = src.decoder.as_ref() else {
        return;
    };
    let unparsed = dec.stats().unparsed;
    let (events0, unparsed0) = src.at_decision;
    let bad = unparsed.saturating_sub(unparsed0);
    let good = src.events.saturating_sub(events0);
    if bad >= RECHECK_UNPARSED && bad > good {
        src.recheck = true;
        src.at_decision = (src.events, unparsed);
    } else if bad + good >= RECHECK_WINDOW {
        // A new window, so that a change late in a long log shows as soon as in a short one.
        src.at_decision = (src.events, unparsed);
    }
}
