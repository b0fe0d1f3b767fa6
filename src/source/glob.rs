//! Small shell-style glob (`*`, `?`, `[abc]`, `[!a-z]`, `\` escape) used to expand path arguments.

use std::fs;
use std::path::{Component, Path, PathBuf};

use regex::Regex;

use super::SourceError;

/// True if `s` contains a glob metacharacter.
pub fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Converts one path component pattern into an anchored regex.
pub fn component_regex(pat: &str) -> Result<Regex, String> {
    let mut re = String::from("^");
    let mut chars = pat.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '\\' => match chars.next() {
                Some(e) => re.push_str(&regex::escape(&e.to_string())),
                None => return Err("trailing backslash".into()),
            },
            '[' => {
                let mut class = String::from("[");
                if matches!(chars.peek(), Some('!') | Some('^')) {
                    chars.next();
                    class.push('^');
                }
                let mut first = true;
                loop {
                    match chars.next() {
                        None => return Err("unclosed [".into()),
                        Some(']') if !first => break,
                        Some(c @ ('\\' | '[' | ']' | '&' | '~' | '^')) => {
                            class.push('\\');
                            class.push(c);
                        }
                        Some(c) => class.push(c),
                    }
                    first = false;
                }
                class.push(']');
                re.push_str(&class);
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    Regex::new(&re).map_err(|e| e.to_string())
}

/// Expands a glob pattern into the existing paths it matches, sorted.
/// Wildcards may appear in any component; `*` does not match a leading '.'.
pub fn expand(pattern: &str) -> Result<Vec<PathBuf>, SourceError> {
    let bad = |reason: String| SourceError::BadGlob {
        pattern: pattern.to_string(),
        reason,
    };
    let mut current: Vec<PathBuf> = vec![PathBuf::new()];
    for comp in Path::new(pattern).components() {
        let text = comp.as_os_str().to_string_lossy();
        let wild = matches!(comp, Component::Normal(_)) && is_glob(&text);
        if !wild {
            for p in &mut current {
                p.push(comp.as_os_str());
            }
            continue;
        }
        let re = component_regex(&text).map_err(bad)?;
        let mut next = Vec::new();
        for base in &current {
            let dir = if base.as_os_str().is_empty() {
                Path::new(".")
            } else {
                base.as_path()
            };
            let Ok(rd) = fs::read_dir(dir) else { continue };
            let mut names: Vec<String> = rd
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| (!n.starts_with('.') || text.starts_with('.')) && re.is_match(n))
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|n| base.join(n)));
        }
        current = next;
    }
    let mut out: Vec<PathBuf> = current.into_iter().filter(|p| p.exists()).collect();
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_like_a_shell() {
        let re = component_regex("postgresql-*.log").unwrap();
        assert!(re.is_match("postgresql-15-main.log"));
        assert!(!re.is_match("postgresql-15-main.log.1"));
        let re = component_regex("a?[0-9][!x].c\\*").unwrap();
        assert!(re.is_match("ab12.c*"));
        assert!(!re.is_match("ab1x.c*"));
        assert!(component_regex("[abc").is_err());
    }

    #[test]
    fn expands_in_directories() {
        let d = tempfile::tempdir().unwrap();
        for n in ["a/x.log", "a/y.log", "b/z.log", "b/.h.log", "b/z.csv"] {
            let p = d.path().join(n);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, b"").unwrap();
        }
        let pat = format!("{}/*/*.log", d.path().display());
        let got = expand(&pat).unwrap();
        let names: Vec<_> = got
            .iter()
            .map(|p| {
                p.strip_prefix(d.path())
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["a/x.log", "a/y.log", "b/z.log"]);
        assert!(expand(&format!("{}/nope*/x", d.path().display()))
            .unwrap()
            .is_empty());
    }
}
