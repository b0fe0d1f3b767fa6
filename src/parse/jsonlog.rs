//! The jsonlog format: one JSON object per line (PostgreSQL 15+).

use super::message::Severity;
use super::time::parse_timestamp;
use super::{lines, Decoder, EntryFields};
use crate::model::ConnectionEvent;
use serde::Deserialize;
use std::borrow::Cow;

/// The keys of a jsonlog entry that connection tracking reads.
#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    user: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    dbname: Option<Cow<'a, str>>,
    #[serde(default)]
    pid: Option<u32>,
    #[serde(borrow, default)]
    remote_host: Option<Cow<'a, str>>,
    #[serde(default)]
    remote_port: Option<u16>,
    #[serde(borrow, default)]
    session_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    error_severity: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    state_code: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    detail: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    application_name: Option<Cow<'a, str>>,
}

fn bytes<'a>(v: &'a Option<Cow<'_, str>>) -> Option<&'a [u8]> {
    v.as_deref().map(str::as_bytes).filter(|b| !b.is_empty())
}

fn emit_entry(d: &mut Decoder, e: &Entry<'_>, sink: &mut dyn FnMut(&ConnectionEvent<'_>)) {
    let fields = EntryFields {
        time: e
            .timestamp
            .as_deref()
            .and_then(|t| parse_timestamp(t.as_bytes()))
            .map(|(t, _)| t),
        pid: e.pid,
        session_id: bytes(&e.session_id),
        user: bytes(&e.user),
        database: bytes(&e.dbname),
        application: bytes(&e.application_name),
        host: bytes(&e.remote_host),
        port: e.remote_port,
        sqlstate: bytes(&e.state_code),
        exact_names: true,
    };
    let severity = Severity::from_tag(e.error_severity.as_deref().unwrap_or("").as_bytes());
    let message = e.message.as_deref().unwrap_or("").as_bytes();
    d.emit(fields, severity, message, sink);
    if let (Severity::Fatal, Some(detail)) = (severity, bytes(&e.detail)) {
        d.emit(fields, Severity::Detail, detail, sink);
    }
}

pub(crate) fn decode(
    d: &mut Decoder,
    buf: &[u8],
    eof: bool,
    sink: &mut dyn FnMut(&ConnectionEvent<'_>),
) -> usize {
    let c = lines::complete(buf, eof);
    d.stats.read += c.lines;
    d.stats.entries += c.lines;
    lines::for_each_candidate(c.bytes, |line| {
        match serde_json::from_slice::<Entry<'_>>(line) {
            Ok(e) => emit_entry(d, &e, sink),
            Err(_) => {
                // Invalid UTF-8 inside a string: read it with replacement characters.
                let text = String::from_utf8_lossy(line);
                match serde_json::from_str::<Entry<'_>>(&text) {
                    Ok(e) if matches!(text, Cow::Owned(_)) => emit_entry(d, &e, sink),
                    _ => d.stats.unparsed += 1,
                }
            }
        }
    });
    c.bytes.len()
}
