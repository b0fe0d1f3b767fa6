//! The snapshot written as pretty JSON by hand where it is long: the open sessions, straight
//! from the store (no text copied per session), byte for byte what
//! `serde_json::to_writer_pretty` writes for [`super::Snapshot`], at a fraction of its cost (a
//! busy server has thousands of open sessions).

use crate::parse::time::{rfc3339, rfc3339_into, RFC3339_MAX};
use crate::store::views::ActiveSession;
use serde_json::{Map, Value};
use std::io::Write;

/// Writes the snapshot (its figures, then the open sessions as [`write_active`] wrote them)
/// as `serde_json::to_writer_pretty` writes [`super::Snapshot`].
pub fn write_snapshot(
    figures: &Map<String, Value>,
    active: &[u8],
    mut out: impl Write,
) -> serde_json::Result<()> {
    let io = serde_json::Error::io;
    let head = serde_json::to_vec_pretty(figures)?;
    // `{\n  "key": value,...\n}`: the object stays open for the session list, its last key.
    match head.strip_suffix(b"\n}") {
        Some(open) => {
            out.write_all(open).map_err(io)?;
            out.write_all(b",\n").map_err(io)?;
        }
        None => out.write_all(b"{\n").map_err(io)?, // `{}`: no figures
    }
    out.write_all(active).map_err(io)?;
    out.write_all(b"\n}").map_err(io)
}

/// `  "active": [...]` at the snapshot's second level of indentation, each session naming its
/// server in a fleet.
pub fn write_active(
    active: &[ActiveSession],
    fleet: bool,
    out: &mut impl Write,
) -> serde_json::Result<()> {
    let io = serde_json::Error::io;
    if active.is_empty() {
        return out.write_all(b"  \"active\": []").map_err(io);
    }
    out.write_all(b"  \"active\": [").map_err(io)?;
    let mut num = itoa::Buffer::new();
    let mut time = [0; RFC3339_MAX];
    for (i, a) in active.iter().enumerate() {
        out.write_all(if i == 0 { b"\n    {\n" } else { b",\n    {\n" })
            .map_err(io)?;
        out.write_all(b"      \"pid\": ").map_err(io)?;
        out.write_all(num.format(a.pid).as_bytes()).map_err(io)?;
        out.write_all(b",\n      \"user\": ").map_err(io)?;
        text(out, &a.user)?;
        out.write_all(b",\n      \"database\": ").map_err(io)?;
        text(out, &a.database)?;
        out.write_all(b",\n      \"application\": ").map_err(io)?;
        match &a.application {
            Some(app) => text(out, app)?,
            None => out.write_all(b"null").map_err(io)?,
        }
        out.write_all(b",\n      \"host\": ").map_err(io)?;
        text(out, &a.host)?;
        out.write_all(b",\n      \"port\": ").map_err(io)?;
        match a.port {
            Some(p) => out.write_all(num.format(p).as_bytes()).map_err(io)?,
            None => out.write_all(b"null").map_err(io)?,
        }
        out.write_all(b",\n      \"since\": ").map_err(io)?;
        match rfc3339_into(a.since, &mut time) {
            Some(n) => {
                out.write_all(b"\"").map_err(io)?;
                out.write_all(&time[..n]).map_err(io)?;
                out.write_all(b"\"").map_err(io)?;
            }
            None => serde_json::to_writer(&mut *out, &rfc3339(a.since))?,
        }
        out.write_all(b",\n      \"source\": ").map_err(io)?;
        out.write_all(num.format(a.source).as_bytes()).map_err(io)?;
        if let Some(server) = a.server.as_ref().filter(|_| fleet) {
            out.write_all(b",\n      \"server\": ").map_err(io)?;
            text(out, server)?;
        }
        out.write_all(b"\n    }").map_err(io)?;
    }
    out.write_all(b"\n  ]").map_err(io)
}

/// A name as a JSON string: invalid UTF-8 replaced, as [`crate::sanitize::lossy`] does.
fn text(out: &mut impl Write, bytes: &[u8]) -> serde_json::Result<()> {
    // Most names are ASCII that JSON takes as it is (no control character, quote or
    // backslash to escape): written between quotes straight away.
    if bytes
        .iter()
        .all(|&b| (0x20..0x80).contains(&b) && b != b'"' && b != b'\\')
    {
        let io = serde_json::Error::io;
        out.write_all(b"\"").map_err(io)?;
        out.write_all(bytes).map_err(io)?;
        return out.write_all(b"\"").map_err(io);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => serde_json::to_writer(&mut *out, s),
        Err(_) => serde_json::to_writer(&mut *out, &String::from_utf8_lossy(bytes)),
    }
}
