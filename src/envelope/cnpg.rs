//! CloudNativePG pod output: PostgreSQL entries sit under `"record"` with csvlog field names;
//! each is rewritten as a one-line jsonlog object (jsonlog key names) that `parse::jsonlog`
//! reads. The operator's own lines are skipped.

use super::json::{members, Val};
use super::timefmt::{parse_rfc3339, write_utc_millis};
use super::Outcome;
use crate::parse::time::parse_epoch;

/// The jsonlog name of a csvlog (or jsonlog) field name, and whether it is a number.
fn jsonlog_key(k: &[u8]) -> Option<(&'static str, bool)> {
    Some(match k {
        b"log_time" | b"timestamp" => ("timestamp", false),
        b"user_name" | b"user" => ("user", false),
        b"database_name" | b"dbname" => ("dbname", false),
        b"process_id" | b"pid" => ("pid", true),
        b"remote_host" => ("remote_host", false),
        b"remote_port" => ("remote_port", true),
        b"session_id" => ("session_id", false),
        b"error_severity" => ("error_severity", false),
        b"sql_state_code" | b"state_code" => ("state_code", false),
        b"message" => ("message", false),
        b"application_name" => ("application_name", false),
        b"detail" => ("detail", false),
        b"hint" => ("hint", false),
        b"backend_type" => ("backend_type", false),
        _ => return None,
    })
}

fn put_key(out: &mut Vec<u8>, first: &mut bool, key: &str) {
    out.push(if *first { b'{' } else { b',' });
    *first = false;
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

fn put_str(out: &mut Vec<u8>, first: &mut bool, key: &str, raw: &[u8]) {
    put_key(out, first, key);
    out.push(b'"');
    out.extend_from_slice(raw);
    out.push(b'"');
}

/// Digits only (a pid or port given as a string or a number).
fn digits(raw: &[u8]) -> Option<&[u8]> {
    (!raw.is_empty() && raw.len() <= 10 && raw.iter().all(u8::is_ascii_digit)).then_some(raw)
}

/// Reads one CloudNativePG line; writes the jsonlog line of a PostgreSQL record.
pub(crate) fn record(rec: &[u8], out: &mut Vec<u8>, scratch: &mut Vec<u8>) -> Outcome {
    let (mut record, mut ts, mut logger, mut operator) = (None, None, None, false);
    if !members(rec, |k, v| match (k, v) {
        (b"record", Val::Obj(o)) => record = Some(o),
        (b"ts", v) => ts = Some(v),
        (b"logger", Val::Str(s)) => logger = Some(s),
        (b"msg" | b"level", _) => operator = true,
        _ => {}
    }) {
        return Outcome::NotUnderstood;
    }
    let Some(record) = record.filter(|_| matches!(logger, None | Some(b"postgres"))) else {
        return if operator {
            Outcome::Skipped
        } else {
            Outcome::NotUnderstood
        };
    };
    let start = out.len();
    let mut first = true;
    let mut has_time = false;
    let ok = members(record, |k, v| {
        let Some((key, numeric)) = jsonlog_key(k) else {
            if let (b"connection_from", Val::Str(raw)) = (k, v) {
                let split = raw
                    .iter()
                    .rposition(|&c| c == b':')
                    .filter(|&i| i > 0 && digits(&raw[i + 1..]).is_some());
                match split {
                    Some(i) => {
                        put_str(out, &mut first, "remote_host", &raw[..i]);
                        put_key(out, &mut first, "remote_port");
                        out.extend_from_slice(&raw[i + 1..]);
                    }
                    None => put_str(out, &mut first, "remote_host", raw),
                }
            }
            return;
        };
        let raw = match v {
            Val::Str(s) | Val::Other(s) => s,
            _ => return,
        };
        if numeric {
            if let Some(d) = digits(raw) {
                put_key(out, &mut first, key);
                out.extend_from_slice(d);
            }
        } else if matches!(v, Val::Str(_)) {
            has_time |= key == "timestamp";
            put_str(out, &mut first, key, raw);
        }
    });
    if !ok || first {
        out.truncate(start);
        return Outcome::NotUnderstood;
    }
    if !has_time {
        if let Some(millis) = ts.and_then(ts_millis) {
            scratch.clear();
            write_utc_millis(scratch, millis);
            let t = scratch.trim_ascii_end();
            put_str(out, &mut first, "timestamp", t);
        }
    }
    out.extend_from_slice(b"}\n");
    Outcome::Done
}

/// `ts` as RFC 3339 or epoch seconds (a number or a string).
fn ts_millis(v: Val<'_>) -> Option<i64> {
    let raw = match v {
        Val::Str(s) | Val::Other(s) => s,
        _ => return None,
    };
    parse_rfc3339(raw)
        .map(|(m, _)| m)
        .or_else(|| parse_epoch(raw).map(|(t, _)| t.millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_becomes_jsonlog_and_operator_lines_are_skipped() {
        let mut out = Vec::new();
        let mut s = Vec::new();
        let rec = br#"{"level":"info","ts":1795807263.59,"logger":"postgres","msg":"record","record":{"process_id":"4141","connection_from":"::1:54002","error_severity":"LOG","message":"connection received: host=::1 port=54002"}}"#;
        assert_eq!(record(rec, &mut out, &mut s), Outcome::Done);
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "{\"pid\":4141,\"remote_host\":\"::1\",\"remote_port\":54002,\"error_severity\":\"LOG\",\"message\":\"connection received: host=::1 port=54002\",\"timestamp\":\"2026-11-27 19:21:03.590 UTC\"}\n"
        );
        let op =
            br#"{"level":"info","ts":"2026-11-27T19:21:03.094Z","msg":"Readiness probe failing"}"#;
        assert_eq!(record(op, &mut out, &mut s), Outcome::Skipped);
    }
}
