//! HTTP plumbing shared by the handlers: response builders, query decoding, the request
//! summary (`Call`) and body parsing.

use std::collections::BTreeMap;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Response};
use serde_json::Value;

use super::Body;
use super::status::ApiError;

/// kube-apiserver's threshold for gzipping an answer (responsewriters' defaultGzipThresholdBytes).
const GZIP_FROM: usize = 128 * 1024;

/// Whether an `Accept-Encoding` header asks for gzip, read as kube-apiserver reads it: comma
/// separated tokens, one of them exactly `gzip`.
pub(super) fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    accept_encoding.is_some_and(|v| v.split(',').any(|token| token.trim() == "gzip"))
}

/// An object answer as kube-apiserver sends it to a client that accepts gzip: gzipped when it is
/// 128 KiB or more (APIResponseCompression, on since 1.16). `garble` breaks the gzip data in the
/// middle on purpose (a fault); the HTTP framing stays whole. Returns whether it was gzipped.
pub(super) async fn gzip_large(response: Response<Body>, garble: bool) -> (Response<Body>, bool) {
    let (mut parts, body) = response.into_parts();
    let bytes = body_bytes(body).await;
    if bytes.len() < GZIP_FROM {
        return (Response::from_parts(parts, full(bytes)), false);
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut encoder, &bytes).expect("gzip");
    let mut gz = encoder.finish().expect("gzip");
    if garble {
        let middle = gz.len() / 2;
        for b in &mut gz[middle..middle + 16] {
            *b ^= 0x5a;
        }
    }
    parts.headers.insert(
        hyper::header::CONTENT_ENCODING,
        "gzip".parse().expect("header"),
    );
    parts.headers.insert(
        hyper::header::VARY,
        "Accept-Encoding".parse().expect("header"),
    );
    parts.headers.remove(hyper::header::CONTENT_LENGTH);
    (Response::from_parts(parts, full(gz)), true)
}

/// A whole body, a request's or a response's (empty if it failed part way).
pub(super) async fn body_bytes<B: hyper::body::Body>(body: B) -> Bytes {
    body.collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default()
}

pub(super) fn full(body: impl Into<Bytes>) -> Body {
    Full::new(body.into()).boxed()
}

pub(super) fn json_response(code: u16, value: &Value) -> Response<Body> {
    Response::builder()
        .status(code)
        .header("Content-Type", "application/json")
        .header("Cache-Control", "no-cache, private")
        .body(full(value.to_string()))
        .expect("response")
}

/// An error page as a proxy sends it.
pub(super) fn html_response(code: u16, page: &str) -> Response<Body> {
    Response::builder()
        .status(code)
        .header("Content-Type", "text/html")
        .body(full(page.to_string()))
        .expect("response")
}

/// A finished watch stream: these lines, then the end.
pub(super) fn json_lines_response(lines: &Bytes) -> Response<Body> {
    Response::builder()
        .status(200)
        .header("Content-Type", "application/json")
        .body(full(lines.clone()))
        .expect("response")
}

pub(super) fn error_response(err: &ApiError) -> Response<Body> {
    let mut resp = json_response(err.code, &err.to_json());
    if let Some(secs) = err.retry_after {
        resp.headers_mut().insert("Retry-After", secs.into());
    }
    resp
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) fn parse_query(raw: &str) -> BTreeMap<String, String> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Everything a handler needs about one request.
pub(super) struct Call {
    pub(super) method: Method,
    pub(super) query: BTreeMap<String, String>,
    pub(super) content_type: String,
    /// The `Accept` header: a pod GET/LIST answers a server-side Table when it asks for one.
    pub(super) accept: String,
    pub(super) body: Bytes,
    pub(super) drop_watch_after: Option<usize>,
    /// A `Fault::loop_continue`: the first page, with a continue token that never changes.
    pub(super) loop_continue: bool,
    /// A `Fault::watch_line`: the watch sends this raw line and ends.
    pub(super) watch_line: Option<String>,
}

impl Call {
    pub(super) fn param(&self, key: &str) -> Option<&str> {
        self.query
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub(super) fn flag(&self, key: &str) -> bool {
        matches!(self.param(key), Some("true" | "1"))
    }

    pub(super) fn dry_run(&self, body: Option<&Value>) -> bool {
        self.param("dryRun") == Some("All")
            || body
                .and_then(|b| b.get("dryRun"))
                .is_some_and(|d| d.as_array().is_some_and(|a| a.iter().any(|x| x == "All")))
    }
}

pub(super) fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
    })
}
