//! The outermost layer of the client: the headers the command line adds to every request
//! (`--as`, `--as-group`, `--as-uid`, a static bearer token), and `-v` request logging in
//! kubectl's format (client-go transport/round_trippers.go): at 6 one line per request, at 8 the
//! request and response headers too, the Authorization header masked as kubectl masks it.
//! Bodies are never logged, so neither a token nor a Secret's data can reach the log.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use tower::{Layer, Service};

use crate::util::sanitize;

/// kubectl's -v level from which each request is logged (DebugURLTiming).
const LOG_REQUESTS: u8 = 6;
/// kubectl's -v level from which headers are logged too (DebugRequestHeaders, DebugResponseStatus).
const LOG_HEADERS: u8 = 8;

#[derive(Clone)]
pub(crate) struct RequestLogLayer {
    pub(crate) verbosity: u8,
    /// The server's URL (password redacted), which the relative request URIs are resolved
    /// against, as kube's base-URI layer below does.
    pub(crate) base: String,
    /// Added to every request.
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
}

impl<S> Layer<S> for RequestLogLayer {
    type Service = RequestLog<S>;

    fn layer(&self, inner: S) -> RequestLog<S> {
        RequestLog {
            inner,
            settings: self.clone(),
        }
    }
}

#[derive(Clone)]
pub(crate) struct RequestLog<S> {
    inner: S,
    settings: RequestLogLayer,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequestLog<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        for (name, value) in &self.settings.headers {
            req.headers_mut().append(name.clone(), value.clone());
        }
        let level = self.settings.verbosity;
        let line = format!(
            "{} {}{}",
            req.method(),
            self.settings.base,
            req.uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/")
        );
        if level >= LOG_HEADERS {
            let mut lines = vec![line.clone(), "Request Headers:".to_string()];
            lines.extend(header_lines(req.headers()));
            log(&lines);
        }
        let started = Instant::now();
        let answer = self.inner.call(req);
        Box::pin(async move {
            let answer = answer.await;
            if level >= LOG_REQUESTS {
                let ms = started.elapsed().as_millis();
                // A request that got no answer has no status, as in kubectl's line.
                let status = answer.as_ref().map(|r| status_text(r.status())).ok();
                let status = status.unwrap_or_default();
                if level >= LOG_HEADERS {
                    let mut lines = vec![format!("Response Status: {status} in {ms} milliseconds")];
                    lines.push("Response Headers:".into());
                    if let Ok(response) = &answer {
                        lines.extend(header_lines(response.headers()));
                    }
                    log(&lines);
                } else {
                    log(&[format!("{line} {status} in {ms} milliseconds")]);
                }
            }
            answer
        })
    }
}

/// `200 OK`, as Go's http.Response.Status.
fn status_text(status: http::StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// `    Name: value` per header, names in Go's canonical form, credentials masked.
fn header_lines(headers: &HeaderMap) -> Vec<String> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes());
            format!("    {}: {}", canonical(name.as_str()), masked(name, &value))
        })
        .collect()
}

/// client-go's maskValue: the scheme of an Authorization header stays, its credential never.
fn masked(name: &HeaderName, value: &str) -> String {
    if name != http::header::AUTHORIZATION && name != http::header::PROXY_AUTHORIZATION {
        return value.to_string();
    }
    match value.split_once(' ') {
        Some((scheme, _)) => format!("{scheme} <masked>"),
        None => "<masked>".into(),
    }
}

/// `impersonate-user` as Go writes header names: `Impersonate-User`.
fn canonical(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Lines to stderr with klog's header (`I1129 12:52:02.381617   19928 request_log.rs] `),
/// escaped for the terminal: header values come from the server.
fn log(lines: &[String]) {
    let now = k8s_openapi::jiff::Zoned::now();
    let stamp = now.strftime("%m%d %H:%M:%S%.6f").to_string();
    let pid = std::process::id();
    let mut text = String::new();
    for line in lines {
        text.push_str(&format!(
            "I{stamp} {pid:>7} request_log.rs] {}\n",
            sanitize::for_terminal(line)
        ));
    }
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_masked_and_names_canonical() {
        let auth = http::header::AUTHORIZATION;
        assert_eq!(masked(&auth, "Bearer s3cr3t"), "Bearer <masked>");
        assert_eq!(masked(&auth, "s3cr3t"), "<masked>");
        let other = HeaderName::from_static("impersonate-user");
        assert_eq!(masked(&other, "bob"), "bob");
        assert_eq!(canonical("impersonate-group"), "Impersonate-Group");
        assert_eq!(canonical("content-type"), "Content-Type");
        assert_eq!(status_text(http::StatusCode::NOT_FOUND), "404 Not Found");
    }
}
