//! The HTTP endpoint: `GET /metrics` on hyper 1, with the text format chosen by the `Accept`
//! header (OpenMetrics when asked for, else the Prometheus 0.0.4 text format).

use super::{Exposition, Metrics};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;

/// The content type of an OpenMetrics scrape.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The content type of a Prometheus 0.0.4 text scrape.
pub const PROMETHEUS: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Binds the listener now (so that a taken port is an error at start), in the current tokio
/// runtime.
pub fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, String> {
    let std = std::net::TcpListener::bind(addr).map_err(|e| {
        format!("cannot serve metrics on {addr}: {e}; choose another --metrics address")
    })?;
    std.set_nonblocking(true)
        .map_err(|e| format!("cannot serve metrics on {addr}: {e}"))?;
    tokio::net::TcpListener::from_std(std)
        .map_err(|e| format!("cannot serve metrics on {addr}: {e}"))
}

/// Which format an `Accept` header asks for: OpenMetrics when the client names it with a
/// quality (`q=`) at least that of the text format (`text/plain`, or `*/*` failing that).
pub fn negotiate(accept: Option<&HeaderValue>) -> Exposition {
    let Some(accept) = accept.and_then(|v| v.to_str().ok()) else {
        return Exposition::Prometheus;
    };
    let (mut openmetrics, mut text, mut any) = (0.0f32, None, 0.0f32);
    for item in accept.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        match media.as_str() {
            "application/openmetrics-text" => openmetrics = openmetrics.max(q),
            "text/plain" => text = Some(text.unwrap_or(0.0f32).max(q)),
            "*/*" => any = any.max(q),
            _ => {}
        }
    }
    match openmetrics > 0.0 && openmetrics >= text.unwrap_or(any) {
        true => Exposition::OpenMetrics,
        false => Exposition::Prometheus,
    }
}

/// The answer to one request.
pub fn respond(metrics: &Metrics, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let text = |status: StatusCode, body: &'static str| {
        let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
        *r.status_mut() = status;
        r.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        r
    };
    match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, "/metrics") => {
            let format = negotiate(req.headers().get(ACCEPT));
            let body = metrics.render(format);
            let mut r = Response::new(Full::new(Bytes::from(body)));
            let ct = match format {
                Exposition::OpenMetrics => OPENMETRICS,
                Exposition::Prometheus => PROMETHEUS,
            };
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(ct));
            r
        }
        (&Method::GET, "/") => text(StatusCode::OK, "pgconn-top: metrics at /metrics\n"),
        (_, "/metrics") => text(StatusCode::METHOD_NOT_ALLOWED, "GET /metrics\n"),
        _ => text(
            StatusCode::NOT_FOUND,
            "not found; metrics are at /metrics\n",
        ),
    }
}

/// Accepts connections until the runtime ends; each is served on its own task.
pub async fn serve(listener: tokio::net::TcpListener, metrics: Metrics) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let r = respond(&metrics, &req);
                async move { Ok::<_, Infallible>(r) }
            });
            // A client that never finishes its request headers is dropped.
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(std::time::Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_header_chooses_the_format() {
        let n = |a: &'static str| negotiate(Some(&HeaderValue::from_static(a)));
        // What Prometheus 2.x sends.
        let prom = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(n(prom), Exposition::OpenMetrics);
        assert_eq!(n("application/openmetrics-text"), Exposition::OpenMetrics);
        assert_eq!(n("text/plain;version=0.0.4"), Exposition::Prometheus);
        assert_eq!(n("*/*"), Exposition::Prometheus);
        assert_eq!(
            n("text/plain;q=1, application/openmetrics-text;q=0.2"),
            Exposition::Prometheus
        );
        assert_eq!(
            n("application/openmetrics-text;q=0"),
            Exposition::Prometheus
        );
        assert_eq!(negotiate(None), Exposition::Prometheus);
    }
}
