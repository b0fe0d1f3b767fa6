//! The snapshot written as pretty JSON by hand where it is long: the open sessions, one per
//! line group, byte for byte what `serde_json::to_writer_pretty` writes for [`Snapshot`], at a
//! fraction of its cost (a busy server has thousands of open sessions).

use super::{ActiveOut, Snapshot};
use std::io::Write;

/// Writes `snap` as `serde_json::to_writer_pretty` would: the figures through serde, the
/// session list by hand.
pub fn write_snapshot(snap: &Snapshot, mut out: impl Write) -> serde_json::Result<()> {
    let head = serde_json::to_vec_pretty(&snap.figures)?;
    // `{\n  "key": value,...\n}`: the object stays open for the session list, its last key.
    match head.strip_suffix(b"\n}") {
        Some(open) => {
            out.write_all(open).map_err(serde_json::Error::io)?;
            out.write_all(b",\n").map_err(serde_json::Error::io)?;
        }
        None => out.write_all(b"{\n").map_err(serde_json::Error::io)?, // `{}`: no figures
    }
    write_active(&snap.active, &mut out)?;
    out.write_all(b"\n}").map_err(serde_json::Error::io)
}

/// `  "active": [...]` at the snapshot's second level of indentation.
fn write_active(active: &[ActiveOut], out: &mut impl Write) -> serde_json::Result<()> {
    let io = serde_json::Error::io;
    if active.is_empty() {
        return out.write_all(b"  \"active\": []").map_err(io);
    }
    out.write_all(b"  \"active\": [").map_err(io)?;
    let mut num = itoa::Buffer::new();
    for (i, a) in active.iter().enumerate() {
        out.write_all(if i == 0 { b"\n    {\n" } else { b",\n    {\n" })
            .map_err(io)?;
        out.write_all(b"      \"pid\": ").map_err(io)?;
        out.write_all(num.format(a.pid).as_bytes()).map_err(io)?;
        out.write_all(b",\n      \"user\": ").map_err(io)?;
        serde_json::to_writer(&mut *out, &a.user)?;
        out.write_all(b",\n      \"database\": ").map_err(io)?;
        serde_json::to_writer(&mut *out, &a.database)?;
        out.write_all(b",\n      \"application\": ").map_err(io)?;
        match &a.application {
            Some(app) => serde_json::to_writer(&mut *out, app)?,
            None => out.write_all(b"null").map_err(io)?,
        }
        out.write_all(b",\n      \"host\": ").map_err(io)?;
        serde_json::to_writer(&mut *out, &a.host)?;
        out.write_all(b",\n      \"port\": ").map_err(io)?;
        match a.port {
            Some(p) => out.write_all(num.format(p).as_bytes()).map_err(io)?,
            None => out.write_all(b"null").map_err(io)?,
        }
        out.write_all(b",\n      \"since\": ").map_err(io)?;
        serde_json::to_writer(&mut *out, &a.since)?;
        out.write_all(b",\n      \"source\": ").map_err(io)?;
        out.write_all(num.format(a.source).as_bytes()).map_err(io)?;
        if let Some(server) = &a.server {
            out.write_all(b",\n      \"server\": ").map_err(io)?;
            serde_json::to_writer(&mut *out, server)?;
        }
        out.write_all(b"\n    }").map_err(io)?;
    }
    out.write_all(b"\n  ]").map_err(io)
}
