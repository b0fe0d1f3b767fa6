//! Server names of sources: `prod=/var/log/postgresql/` labels a path; an unlabelled path is
//! named after its file (or directory).

use std::path::{Path, PathBuf};

/// Whether `s` can be a server label: `[A-Za-z0-9_.-]+`.
fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Splits `label=path` into the label and the path when the part before the first `=` is a
/// label and the rest names an existing path or contains a `/`; anything else (a file whose
/// name holds `=`) is a path without a label.
pub fn split(arg: &Path) -> (Option<String>, PathBuf) {
    if let Some(s) = arg.to_str() {
        if let Some((label, rest)) = s.split_once('=') {
            if is_label(label)
                && !rest.is_empty()
                && (rest.contains('/') || Path::new(rest).exists())
            {
                return (Some(label.to_string()), PathBuf::from(rest));
            }
        }
    }
    (None, arg.to_path_buf())
}

/// The server name of an unlabelled source: its file's name without the extension (a
/// directory's name), `stdin` for `-`.
pub fn server_name(label: &str) -> String {
    if label == "-" {
        return "stdin".into();
    }
    let p = Path::new(label);
    let name = match p.is_dir() {
        true => p.file_name(),
        false => p.file_stem().or_else(|| p.file_name()),
    };
    match name.and_then(|n| n.to_str()) {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => label.to_string(),
    }
}

/// Server names of sources given as (label, source path): the label, else [`server_name`];
/// unlabelled sources in different directories whose names agree get their directory's name in
/// front (`main/postgresql`, `replica/postgresql`).
pub fn server_names(sources: &[(Option<String>, String)]) -> Vec<String> {
    let plain: Vec<String> = sources.iter().map(|(_, p)| server_name(p)).collect();
    let parent = |p: &str| {
        Path::new(p)
            .parent()
            .and_then(|d| d.file_name())
            .and_then(|d| d.to_str())
            .map(str::to_string)
    };
    sources
        .iter()
        .enumerate()
        .map(|(i, (label, path))| {
            if let Some(l) = label {
                return l.clone();
            }
            let clash = sources.iter().enumerate().any(|(j, (l, p))| {
                j != i && l.is_none() && plain[j] == plain[i] && parent(p) != parent(path)
            });
            match (clash, parent(path)) {
                (true, Some(d)) => format!("{d}/{}", plain[i]),
                _ => plain[i].clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_paths() {
        let s = |a: &str| split(Path::new(a));
        assert_eq!(
            s("prod=/var/log/postgresql/"),
            (Some("prod".into()), PathBuf::from("/var/log/postgresql/"))
        );
        assert_eq!(
            s("db-3.eu_1=logs/x.log"),
            (Some("db-3.eu_1".into()), PathBuf::from("logs/x.log"))
        );
        // Not a label: a space, an empty label, a relative name that does not exist.
        assert_eq!(s("my db=/x").0, None);
        assert_eq!(s("=/x").0, None);
        assert_eq!(
            s("a=nothing-here.log"),
            (None, PathBuf::from("a=nothing-here.log"))
        );
        assert_eq!(s("/var/log/pg.log").0, None);
        assert_eq!(
            server_name("/var/log/postgresql/postgresql-16-main.log"),
            "postgresql-16-main"
        );
        assert_eq!(server_name("-"), "stdin");
        let names = server_names(&[
            (None, "/a/main/postgresql.log".into()),
            (None, "/b/replica/postgresql.log".into()),
            (Some("prod".into()), "/c/postgresql.log".into()),
            (None, "/d/other.log".into()),
        ]);
        assert_eq!(
            names,
            ["main/postgresql", "replica/postgresql", "prod", "other"]
        );
    }
}
