//! Unit tests of the pass over a stderr buffer: every level against a plain walk.
use super::*;

/// What [`scan`] must give: the lines holding a tag that matters, by a plain walk.
fn by_lines(buf: &[u8]) -> (Vec<(usize, usize)>, u64, u64) {
    let mut found = Vec::new();
    let mut start = 0;
    for line in buf.split(|&b| b == b'\n') {
        if is_candidate_line(line) {
            found.push((start, start + line.len()));
        }
        start += line.len() + 1;
    }
    let newlines = buf.iter().filter(|&&b| b == b'\n').count() as u64;
    let led = buf
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\t' && (i == 0 || buf[i - 1] == b'\n'))
        .count() as u64;
    (found, newlines, led)
}

#[test]
fn the_pass_finds_what_a_walk_over_the_lines_finds_at_every_offset() {
    let pieces: [&[u8]; 12] = [
        b"2025-01-01 00:00:00 UTC [1] LOG:  connection received: host=h port=1\n",
        b"2025-01-01 00:00:00 UTC [1] u@d LOG:  connection authorized: user=u database=d\n",
        b"x [2] FATAL:  password authentication failed for user \"a:  b\"\n",
        b"\tDETAIL:  Role \"a\" does not exist.\n",
        b"y [3] LOG:  duration: 1 ms  statement: SELECT ':  '\n",
        b"z [4] LOG:  disconnection: session time: 0:00:01.000 user=u\n",
        b"w LOG:  checkpoint starting: time\n",
        b"\n",
        b"v [5] LOG:  database system is ready to accept connections\n",
        b"tag at the end LOG:  ",
        b"u [6] LOG:  received fast shutdown request\n",
        b"FATAL:  \n",
    ];
    let mut x = 11u32;
    let mut text = Vec::new();
    for _ in 0..400 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        text.extend_from_slice(pieces[(x >> 16) as usize % pieces.len()]);
    }
    for start in 0..70 {
        for end in [
            text.len(),
            text.len() - 1,
            text.len() - 33,
            start + 65,
            start + 200,
        ] {
            let t = &text[start..end.max(start)];
            let (want, want_lines, want_led) = by_lines(t);
            for level in Level::available() {
                let mut got = Vec::new();
                let (lines, led) = scan_with(level, t, &mut |s, e| got.push((s, e)));
                assert_eq!(got, want, "{level:?} {start}..{end}");
                let counts = (want_lines, want_led);
                assert_eq!((lines, led), counts, "{level:?} {start}..{end}");
            }
        }
    }
}

#[test]
fn dense_tags_and_hostile_bytes_give_the_same_answer_on_every_level() {
    // Bytes from a small alphabet, so tags, near-tags, newlines and tabs crowd each block;
    // with message starts and high bytes spliced in.
    let alphabet = b"::  GGLL\n\t\rcoaFATL\xff\x80R";
    let splices: [&[u8]; 4] = [
        b"G:  connection received: ",
        b"L:  Role \"",
        b"FATAL:  ",
        b"G:  co",
    ];
    let mut x = 0x9e37_79b9_u32;
    let mut candidates = 0;
    for round in 0..40 {
        let mut text = Vec::new();
        while text.len() < 3000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if x.is_multiple_of(23) {
                text.extend_from_slice(splices[(x >> 8) as usize % splices.len()]);
            } else {
                text.push(alphabet[(x >> 4) as usize % alphabet.len()]);
            }
        }
        let (want, want_lines, want_led) = by_lines(&text);
        candidates += want.len();
        for level in Level::available() {
            let mut got = Vec::new();
            let counts = scan_with(level, &text, &mut |s, e| got.push((s, e)));
            assert_eq!(got, want, "{level:?} round {round}");
            assert_eq!(counts, (want_lines, want_led), "{level:?} round {round}");
        }
    }
    assert!(
        candidates > 200,
        "the text holds candidates to find: {candidates}"
    );
}

#[test]
fn the_tag_mark_is_found_wherever_it_stands() {
    for len in 0usize..60 {
        for at in 0..len.saturating_sub(2) {
            let mut text = vec![b'x'; len];
            text[at..at + 3].copy_from_slice(b":  ");
            assert!(has_tag_mark(&text), "{len} bytes, mark at {at}");
            text[at + 2] = b'x';
            assert!(!has_tag_mark(&text), "{len} bytes, one space at {at}");
        }
        let mut near = vec![b' '; len];
        near.iter_mut().step_by(3).for_each(|b| *b = b':');
        let want = near.windows(3).any(|w| w == b":  ");
        assert_eq!(
            has_tag_mark(&near),
            want,
            "{len} bytes of colons and spaces"
        );
    }
}

#[test]
fn only_tags_that_open_connection_messages_count() {
    assert!(is_candidate_line(b"a [1] FATAL:  anything"));
    assert!(is_candidate_line(
        b"a [1] DETAIL:  Role \"x\" does not exist."
    ));
    assert!(is_candidate_line(
        b"a [1] LOG:  replication connection authorized: user=r"
    ));
    assert!(!is_candidate_line(b"a [1] LOG:  connection to client lost"));
    assert!(!is_candidate_line(b"a [1] LOG:  statement: received "));
    assert!(!is_candidate_line(b"FATAL: one space"));
    assert!(!is_candidate_line(b":  "));
}
