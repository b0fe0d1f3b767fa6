//! The figures as metric families, written by prometheus-client's encoders (OpenMetrics or the
//! Prometheus 0.0.4 text format) at each scrape. Label values are escaped by the encoder.

use super::names::{Names, NONE};
use super::state::{How, State};
use super::table::{top_n, Key, Table};
use crate::model::FailureReason;
use crate::store::intern::Dim;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

/// The dimension labels, in key order: the client dimensions (the server is its own label).
const DIM_LABELS: [Dim; 4] = Dim::CLIENT;

/// Which small tag a metric's key carries.
#[derive(Clone, Copy)]
enum Tag {
    None,
    How,
    Reason,
}

type Labels<'a> = Vec<(&'static str, Cow<'a, str>)>;

/// The scrape-time view of the shared figures.
#[derive(Debug)]
pub(super) struct Exposition(pub(super) Arc<Mutex<State>>);

fn labels<'a>(st: &'a State, names: &'a Names, k: &Key, tag: Tag) -> Labels<'a> {
    let server = st
        .servers
        .get(k.server as usize)
        .map_or("", |s| s.name.as_str());
    let mut out: Labels<'a> = vec![("server", Cow::Borrowed(server))];
    match tag {
        Tag::None => {}
        Tag::How => out.push(("how", Cow::Borrowed(How::ALL[k.tag as usize % 4].name()))),
        Tag::Reason => {
            let r = FailureReason::ALL[(k.tag as usize).min(FailureReason::ALL.len() - 1)];
            out.push(("reason", Cow::Borrowed(r.key())));
        }
    }
    for (i, &sym) in k.dims.iter().enumerate() {
        if sym != NONE {
            out.push((DIM_LABELS[i].key(), Cow::Borrowed(names.text(sym))));
        }
    }
    out
}

fn counts(t: &Table<u64>) -> impl Iterator<Item = (&Key, u64)> {
    t.iter().map(|(k, v)| (k, *v))
}

fn counter_family<'k>(
    enc: &mut DescriptorEncoder,
    st: &State,
    name: &str,
    help: &str,
    series: impl Iterator<Item = (&'k Key, u64)>,
    tag: Tag,
) -> fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Counter)?;
    let mut all: Vec<(&Key, u64)> = series.collect();
    all.sort_by_key(|(k, _)| **k);
    for (k, v) in all {
        let l = labels(st, &st.names, k, tag);
        m.encode_family(&l)?
            .encode_counter::<NoLabelSet, _, u64>(&v, None)?;
    }
    Ok(())
}

fn server_gauge(
    enc: &mut DescriptorEncoder,
    st: &State,
    name: &str,
    help: &str,
    value: impl Fn(usize) -> Option<f64>,
) -> fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (i, s) in st.servers.iter().enumerate() {
        if let Some(v) = value(i) {
            let l: Labels<'_> = vec![("server", Cow::Borrowed(s.name.as_str()))];
            m.encode_family(&l)?.encode_gauge(&v)?;
        }
    }
    Ok(())
}

fn server_counter(
    enc: &mut DescriptorEncoder,
    st: &State,
    name: &str,
    help: &str,
    value: impl Fn(usize) -> u64,
) -> fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (i, s) in st.servers.iter().enumerate() {
        let l: Labels<'_> = vec![("server", Cow::Borrowed(s.name.as_str()))];
        m.encode_family(&l)?
            .encode_counter::<NoLabelSet, _, u64>(&value(i), None)?;
    }
    Ok(())
}

impl Collector for Exposition {
    fn encode(&self, mut enc: DescriptorEncoder) -> fmt::Result {
        let st = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let st = &*st;
        {
            let mut m = enc.encode_descriptor(
                "pgconn_top_active_sessions",
                "Open client sessions (authorized, not ended), by the chosen dimensions",
                None,
                MetricType::Gauge,
            )?;
            let mut top = top_n(&st.active, st.cap);
            top.sort();
            for (k, v) in &top {
                m.encode_family(&labels(st, &st.names, k, Tag::None))?
                    .encode_gauge(v)?;
            }
        }
        counter_family(
            &mut enc,
            st,
            "pgconn_top_sessions_started",
            "Sessions authorized (refused ones included: subtract pgconn_top_sessions_refused_total)",
            counts(&st.started),
            Tag::None,
        )?;
        counter_family(
            &mut enc,
            st,
            "pgconn_top_sessions_ended",
            "Sessions ended, by how: disconnect, terminated, lost (pid reused), reset (server restart or crash)",
            counts(&st.ended),
            Tag::How,
        )?;
        counter_family(
            &mut enc,
            st,
            "pgconn_top_sessions_refused",
            "Sessions logged as authorized and then refused (a limit, a permission)",
            counts(&st.refused),
            Tag::None,
        )?;
        counter_family(
            &mut enc,
            st,
            "pgconn_top_failed_connections",
            "Failed connection attempts by reason",
            counts(&st.failed),
            Tag::Reason,
        )?;
        {
            let mut m = enc.encode_descriptor(
                "pgconn_top_session_duration_seconds",
                "Length of ended sessions",
                None,
                MetricType::Histogram,
            )?;
            let mut all: Vec<_> = st.durations.iter().collect();
            all.sort_by_key(|(k, _)| **k);
            for (k, h) in all {
                m.encode_family(&labels(st, &st.names, k, Tag::None))?
                    .encode_histogram::<NoLabelSet>(h.sum, h.count, &h.pairs(), None)?;
            }
        }
        {
            let mut m = enc.encode_descriptor(
                "pgconn_top_connection_setup_seconds",
                "Connection setup time (PostgreSQL 18 setup total: fork and authentication included)",
                None,
                MetricType::Histogram,
            )?;
            let mut all: Vec<_> = st.setup.iter().collect();
            all.sort_by_key(|(k, _)| **k);
            for (k, h) in all {
                m.encode_family(&labels(st, &st.names, k, Tag::None))?
                    .encode_histogram::<NoLabelSet>(h.sum, h.count, &h.pairs(), None)?;
            }
        }
        server_gauge(
            &mut enc,
            st,
            "pgconn_top_leak_suspects",
            "Applications, users or hosts whose open sessions keep growing while few close",
            |i| Some(st.servers[i].leaks.len() as f64),
        )?;
        {
            let mut m = enc.encode_descriptor(
                "pgconn_top_leak_suspect_sessions",
                "Open sessions of a leak suspect on this server",
                None,
                MetricType::Gauge,
            )?;
            for s in &st.servers {
                for (dim, name, n) in s.leaks.iter().take(st.cap) {
                    let l: Labels<'_> = vec![
                        ("server", Cow::Borrowed(s.name.as_str())),
                        ("dimension", Cow::Borrowed(dim)),
                        ("name", Cow::Borrowed(name.as_str())),
                    ];
                    m.encode_family(&l)?.encode_gauge(n)?;
                }
            }
        }
        server_counter(
            &mut enc,
            st,
            "pgconn_top_log_lines_read",
            "Log lines read",
            |i| st.servers[i].lines_read,
        )?;
        server_counter(
            &mut enc,
            st,
            "pgconn_top_log_lines_unparsed",
            "Log lines no format or prefix explained",
            |i| st.servers[i].lines_unparsed,
        )?;
        server_gauge(
            &mut enc,
            st,
            "pgconn_top_source_up",
            "1 while every log source of the server reads as a PostgreSQL log",
            |i| Some(f64::from(u8::from(st.servers[i].up))),
        )?;
        server_gauge(
            &mut enc,
            st,
            "pgconn_top_log_lag_seconds",
            "Wall clock minus the log time of the newest connection event, when it was read",
            |i| Some(st.servers[i].lag_secs),
        )?;
        server_gauge(
            &mut enc,
            st,
            "pgconn_top_max_connections",
            "The server's max_connections, when known",
            |i| st.servers[i].max_connections.map(|n| n as f64),
        )?;
        Ok(())
    }
}
