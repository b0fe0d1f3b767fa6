//! The names a log directory's files may have (`log_filename`, a strftime pattern), matched
//! by a small backtracking walk instead of a compiled regex: compiling the three patterns a
//! directory is checked against cost about 0.7 ms at every start, more than listing it.

/// One piece of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// These bytes.
    Lit(Vec<u8>),
    /// Between `min` and `max` ASCII digits.
    Digits { min: usize, max: usize },
    /// `%e`: a space or a digit, then a digit.
    DayPadded,
    /// One or more ASCII letters (`%a`, `%b`, `%Z`, ...).
    Letters,
    /// `%z`: a sign and four digits.
    Offset,
    /// Any text without a newline, shortest first (an escape PostgreSQL's strftime knows and
    /// this does not).
    Any,
    /// Any text without a dot.
    NoDot,
}

/// A file-name pattern: a name matches when one of its alternatives spells all of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePattern {
    alternatives: Vec<Vec<Item>>,
}

impl NamePattern {
    /// The names `log_filename = 'pat'` gives (`postgresql-%Y-%m-%d_%H%M%S.log`).
    pub fn strftime(pat: &str) -> NamePattern {
        NamePattern {
            alternatives: vec![strftime_items(pat)],
        }
    }

    /// PostgreSQL's default names for files ending in `.ext`: `postgresql-<anything>.ext`;
    /// with `bare_too`, also `postgresql-<anything without a dot>`.
    pub fn default_names(ext: &str, bare_too: bool) -> NamePattern {
        let lit = |s: &str| Item::Lit(s.as_bytes().to_vec());
        let mut alternatives = vec![vec![lit("postgresql-"), Item::Any, lit(&format!(".{ext}"))]];
        if bare_too {
            alternatives.push(vec![lit("postgresql-"), Item::NoDot]);
        }
        NamePattern { alternatives }
    }

    /// Whether `name` is one of the pattern's names.
    pub fn is_match(&self, name: &str) -> bool {
        let mut budget = 100_000u32;
        self.alternatives
            .iter()
            .any(|items| matches_at(items, name.as_bytes(), &mut budget))
    }
}

fn strftime_items(pat: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut lit = Vec::new();
    let mut chars = pat.chars();
    while let Some(c) = chars.next() {
        let digits = |n| Item::Digits { min: n, max: n };
        let item = match c {
            '%' => match chars.next() {
                Some('Y' | 'G') => digits(4),
                Some('y' | 'm' | 'd' | 'H' | 'M' | 'S' | 'I' | 'U' | 'W' | 'V' | 'C' | 'g') => {
                    digits(2)
                }
                Some('j') => digits(3),
                Some('u' | 'w') => digits(1),
                Some('e') => Item::DayPadded,
                Some('s') => Item::Digits {
                    min: 1,
                    max: usize::MAX,
                },
                Some('a' | 'A' | 'b' | 'B' | 'h' | 'p' | 'Z') => Item::Letters,
                Some('z') => Item::Offset,
                Some('%') => {
                    lit.push(b'%');
                    continue;
                }
                _ => Item::Any,
            },
            c => {
                lit.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                continue;
            }
        };
        if !lit.is_empty() {
            items.push(Item::Lit(std::mem::take(&mut lit)));
        }
        items.push(item);
    }
    if !lit.is_empty() {
        items.push(Item::Lit(lit));
    }
    items
}

/// Whether `items` spell all of `name`, trying the shorter lengths of a variable item first;
/// false once `budget` steps are spent (a hostile pattern and name stay cheap).
fn matches_at(items: &[Item], name: &[u8], budget: &mut u32) -> bool {
    let Some((item, rest)) = items.split_first() else {
        return name.is_empty();
    };
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    let run = |ok: fn(u8) -> bool| name.iter().take_while(|&&b| ok(b)).count();
    let (min, max) = match item {
        Item::Lit(l) => return name.starts_with(l) && matches_at(rest, &name[l.len()..], budget),
        Item::Digits { min, max } => (*min, (*max).min(run(|b| b.is_ascii_digit()))),
        Item::DayPadded => {
            let fits = name.len() >= 2
                && (name[0] == b' ' || name[0].is_ascii_digit())
                && name[1].is_ascii_digit();
            return fits && matches_at(rest, &name[2..], budget);
        }
        Item::Letters => (1, run(|b| b.is_ascii_alphabetic())),
        Item::Offset => {
            let fits = name.len() >= 5
                && matches!(name[0], b'+' | b'-')
                && name[1..5].iter().all(u8::is_ascii_digit);
            return fits && matches_at(rest, &name[5..], budget);
        }
        Item::Any => (0, run(|b| b != b'\n')),
        Item::NoDot => (0, run(|b| b != b'.')),
    };
    (min..=max).any(|n| matches_at(rest, &name[n..], budget))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The regex this matcher stands for (what the project used before it).
    fn regex_of(pat: &str) -> regex::Regex {
        let mut re = String::from("^");
        let mut chars = pat.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                re.push_str(&regex::escape(&c.to_string()));
                continue;
            }
            re.push_str(match chars.next() {
                Some('Y' | 'G') => r"[0-9]{4}",
                Some('y' | 'm' | 'd' | 'H' | 'M' | 'S' | 'I' | 'U' | 'W' | 'V' | 'C' | 'g') => {
                    r"[0-9]{2}"
                }
                Some('j') => r"[0-9]{3}",
                Some('u' | 'w') => r"[0-9]",
                Some('e') => r"[ 0-9][0-9]",
                Some('s') => r"[0-9]+",
                Some('a' | 'A' | 'b' | 'B' | 'h' | 'p' | 'Z') => r"[A-Za-z]+",
                Some('z') => r"[+-][0-9]{4}",
                Some('%') => "%",
                _ => ".*?",
            });
        }
        re.push('$');
        regex::Regex::new(&re).unwrap()
    }

    #[test]
    fn agrees_with_the_regex_on_patterns_and_names_built_to_differ() {
        let patterns = [
            "postgresql-%Y-%m-%d_%H%M%S.log",
            "postgresql-%a.log",
            "pg-%e-%j.%s",
            "%Y%m%d%z.log",
            "log-%q-%H.txt",
            "100%%-%u%w",
            "%b%d.%Z",
            "plain.log",
            "é-%Y.log",
            "%Q%Q%Q.log",
        ];
        // Pieces that fit and nearly fit each item: digits short and long, letters, signs,
        // dots, spaces, newlines and a non-ASCII letter.
        let pieces = [
            "postgresql-",
            "pg-",
            "2024",
            "01",
            "1",
            "123",
            "+0100",
            "-01",
            "Mon",
            "Z",
            " 7",
            "_",
            ".log",
            ".txt",
            ".",
            "%",
            "100%-",
            "plain",
            "é-",
            "\n",
            "a",
            "x.y",
            "",
        ];
        let mut x = 7u32;
        let mut checked = 0;
        for pat in patterns {
            let (ours, re) = (NamePattern::strftime(pat), regex_of(pat));
            for _ in 0..3000 {
                let mut name = String::new();
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                for k in 0..1 + x % 7 {
                    name.push_str(pieces[((x >> (4 * k)) as usize) % pieces.len()]);
                }
                assert_eq!(
                    ours.is_match(&name),
                    re.is_match(&name),
                    "{pat:?} on {name:?}"
                );
                checked += usize::from(re.is_match(&name));
            }
        }
        assert!(checked > 50, "names that match were tried: {checked}");
    }

    #[test]
    fn agrees_with_the_regex_one_edit_away_from_real_names() {
        let named = [
            (
                "postgresql-%Y-%m-%d_%H%M%S.log",
                "postgresql-2024-01-31_235959.log",
            ),
            ("postgresql-%a.log", "postgresql-Mon.log"),
            ("pg-%e-%j.%s", "pg- 7-123.1700000000"),
            ("%Y%m%d%z.log", "20240131+0100.log"),
            ("log-%q-%H.txt", "log-any thing-12.txt"),
            ("100%%-%u%w", "100%-12"),
            ("%b%d.%Z", "Jan31.UTC"),
            ("é-%Y.log", "é-2024.log"),
        ];
        let swaps = ['0', '9', 'a', 'Z', ' ', '.', '-', '+', '%', '\n', 'é'];
        for (pat, name) in named {
            let (ours, re) = (NamePattern::strftime(pat), regex_of(pat));
            assert!(
                ours.is_match(name) && re.is_match(name),
                "{pat:?} writes {name:?}"
            );
            let chars: Vec<char> = name.chars().collect();
            for i in 0..=chars.len() {
                let mut edits = vec![];
                if i < chars.len() {
                    let mut cut = chars.clone();
                    cut.remove(i);
                    edits.push(cut);
                }
                for &c in &swaps {
                    let mut put = chars.clone();
                    put.insert(i, c);
                    edits.push(put);
                    if i < chars.len() {
                        let mut swapped = chars.clone();
                        swapped[i] = c;
                        edits.push(swapped);
                    }
                }
                for e in edits {
                    let e: String = e.into_iter().collect();
                    assert_eq!(ours.is_match(&e), re.is_match(&e), "{pat:?} on {e:?}");
                }
            }
        }
    }

    #[test]
    fn real_names_match_their_patterns() {
        let p = NamePattern::strftime("postgresql-%Y-%m-%d_%H%M%S.log");
        assert!(p.is_match("postgresql-2024-01-31_235959.log"));
        assert!(!p.is_match("postgresql-2024-01-31_235959.log.1"));
        assert!(!p.is_match("postgresql-2024-1-31_235959.log"));
        let d = NamePattern::default_names("log", true);
        assert!(d.is_match("postgresql-Mon.log"));
        assert!(d.is_match("postgresql-main"));
        assert!(!d.is_match("postgresql-main.csv"));
        assert!(!d.is_match("postgresql.log"));
        let c = NamePattern::default_names("csv", false);
        assert!(c.is_match("postgresql-2024.csv") && !c.is_match("postgresql-main"));
    }

    #[test]
    fn a_pattern_of_many_wildcards_stays_cheap() {
        let p = NamePattern::strftime(&"%Q".repeat(40));
        let name = "a".repeat(200) + "\n";
        assert!(!p.is_match(&name)); // ends at the budget instead of trying every split
    }
}
