//! Unit tests of directory sources: name patterns, path expansion, current_logfiles.
use super::*;

#[test]
fn name_pattern_by_family_and_pattern() {
    let mut s = DirSpec::new("/x", Format::Stderr);
    let re = s.name_pattern();
    assert!(re.is_match("postgresql-15-main.log"));
    assert!(re.is_match("postgresql-2024-01-01_000000"));
    assert!(!re.is_match("postgresql-15-main.log.1"));
    assert!(!re.is_match("postgresql-2024.csv"));
    s.filename_pattern = Some("postgresql-%Y-%m-%d_%H%M%S.log".into());
    let re = s.name_pattern();
    assert!(re.is_match("postgresql-2024-01-31_235959.log"));
    assert!(!re.is_match("postgresql-2024-01-31_235959.csv"));
    s.format = Format::Csvlog;
    assert!(s
        .name_pattern()
        .is_match("postgresql-2024-01-31_235959.csv"));
    s.format = Format::Jsonlog;
    s.filename_pattern = Some("pg-%a".into());
    assert!(s.name_pattern().is_match("pg-Mon.json"));
    assert_eq!(Format::from_hint(".CSV"), Some(Format::Csvlog));
    assert_eq!(Format::from_hint("jsonlog"), Some(Format::Jsonlog));
    assert_eq!(Format::from_hint("xml"), None);
}

#[test]
fn expand_paths_kinds() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("a.log"), b"").unwrap();
    fs::write(d.path().join("b.log"), b"").unwrap();
    let glob = format!("{}/*.log", d.path().display());
    let missing = d.path().join("later.log");
    let args = vec![
        PathBuf::from("-"),
        PathBuf::from(&glob),
        d.path().to_path_buf(),
        missing.clone(),
        PathBuf::from("-"),
    ];
    let specs = expand_paths(&args, Format::Csvlog).unwrap();
    assert_eq!(
        specs,
        vec![
            SourceSpec::Stdin,
            SourceSpec::File(d.path().join("a.log")),
            SourceSpec::File(d.path().join("b.log")),
            SourceSpec::Dir(DirSpec::new(d.path(), Format::Csvlog)),
            SourceSpec::File(missing),
        ]
    );
    let err = expand_paths(&[format!("{}/*.nope", d.path().display())], Format::Stderr)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("no file matches "), "{err}");
}

#[test]
fn current_logfiles_is_read() {
    let d = tempfile::tempdir().unwrap();
    fs::write(
        d.path().join("current_logfiles"),
        "stderr log/postgresql-1.log\ncsvlog log/postgresql-1.csv\n",
    )
    .unwrap();
    let mut s = DirSpec::new(d.path().join("log"), Format::Csvlog);
    s.data_dir = Some(d.path().to_path_buf());
    assert_eq!(
        current_logfile(&s),
        Some(d.path().join("log/postgresql-1.csv"))
    );
}

#[test]
fn several_destinations_are_read_once_preferring_jsonlog() {
    let d = tempfile::tempdir().unwrap();
    assert!(formats_present(d.path()).is_empty());
    for n in ["postgresql-2026-11-27.log", "postgresql-2026-11-27.csv"] {
        std::fs::write(d.path().join(n), b"x\n").unwrap();
    }
    assert_eq!(formats_present(d.path()), [Format::Csvlog, Format::Stderr]);
    std::fs::write(d.path().join("postgresql-2026-11-27.json"), b"{}\n").unwrap();
    assert_eq!(
        formats_present(d.path()),
        [Format::Jsonlog, Format::Csvlog, Format::Stderr]
    );
}
