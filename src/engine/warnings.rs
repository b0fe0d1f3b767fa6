//! One sentence per thing a user must know about a source: it is not understood, its prefix
//! cannot be read, it logs no connections, it has no process id. Never a silent zero.

use super::source::{Problem, Source};
use crate::envelope::Envelope;
use crate::sanitize::visible;

/// The longest example line quoted in a warning, in characters.
const EXAMPLE_CHARS: usize = 120;

fn example(line: &[u8]) -> String {
    let v = visible(line);
    match v.char_indices().nth(EXAMPLE_CHARS) {
        Some((i, _)) => format!("{}…", &v[..i]),
        None => v,
    }
}

const TURN_ON: &str = "turn on log_connections and log_disconnections (ALTER SYSTEM SET log_connections = on; ALTER SYSTEM SET log_disconnections = on; SELECT pg_reload_conf())";

/// The warnings about one source, in the order a user should act on them.
pub fn source_warnings(src: &Source) -> Vec<String> {
    let mut out = Vec::new();
    let label = &src.label;
    let st = src.stats();
    match src.problem() {
        Some(Problem::NotALog { example: ex }) => out.push(format!(
            "{label} does not look like a PostgreSQL log (stderr, csvlog or jsonlog, plain or carried by syslog, journald, containers or Cloud Logging); a line: {}",
            example(ex)
        )),
        Some(Problem::UnknownPrefix { example: ex }) => out.push(format!(
            "cannot read log_line_prefix from the lines of {label}; pass the server's setting with --prefix '...' (SHOW log_line_prefix); a line: {}",
            example(ex)
        )),
        Some(Problem::Undecided) => out.push(format!(
            "{label} has {} lines but no connection line to read log_line_prefix from yet: {TURN_ON}, or pass --prefix",
            st.read.max(src.waiting_lines())
        )),
        _ => {}
    }
    if !out.is_empty() {
        return out;
    }
    if st.read == 0 {
        if src.envelope().is_some() || src.format().is_some() {
            out.push(format!(
                "{label} is empty: the server has logged nothing there yet"
            ));
        }
        return out;
    }
    if let Some(u) = src.unwrap_stats() {
        if u.not_understood > 0 && u.not_understood * 2 >= u.records {
            let env = src.envelope().map_or("", Envelope::name);
            let ex = u
                .example
                .as_deref()
                .map(|e| example(e.as_bytes()))
                .unwrap_or_default();
            out.push(format!(
                "{} of {} records of {label} were not understood as {env}; a line: {ex}",
                u.not_understood, u.records
            ));
        }
    }
    if st.entries > 0 && src.events() == 0 && src.format().is_some() {
        out.push(format!(
            "{label} has {} entries but no connection events: {TURN_ON}",
            st.entries
        ));
    } else if st.unparsed > 8 && st.unparsed * 2 > src.events() + st.unparsed {
        out.push(format!(
            "{} of the connection lines of {label} could not be read with log_line_prefix '{}'; pass the server's setting with --prefix '...'",
            st.unparsed,
            src.prefix().unwrap_or("")
        ));
    }
    if src.pairs_by_name() {
        out.push(format!(
            "log_line_prefix '{}' of {label} has no process id, so sessions are matched by user and database: add %p to log_line_prefix to make them exact",
            src.prefix().unwrap_or("")
        ));
    }
    out
}
