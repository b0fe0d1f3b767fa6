//! Discovery on the real machine: finds a log or explains, in one sentence, what it tried.

use pgconn_top::source::{discover, SourceError};

#[test]
fn discover_finds_a_log_or_says_what_it_tried() {
    match discover() {
        Ok(d) => {
            assert!(!d.sources.is_empty());
            assert!(!d.tried.is_empty());
        }
        Err(e @ SourceError::NoLogFound { .. }) => {
            let s = e.to_string();
            assert!(s.starts_with("no PostgreSQL log found: tried "), "{s}");
            assert!(
                s.contains("(no running postmaster)") || s.contains("postmaster "),
                "{s}"
            );
            assert!(s.ends_with("or try --demo"), "{s}");
        }
        Err(other) => panic!("unexpected error: {other}"),
    }
}
