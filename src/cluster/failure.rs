//! What went wrong with a request, in one line the user can act on: the server could not be
//! reached, does not speak TLS, said nothing for too long, or cut its answer off. kube hands
//! these over as nested transport errors; they are told apart here by their causes.

use std::error::Error as StdError;

use crate::cluster::connect::{Bound, bound_hint, shown};
use crate::error::{BoxError, Depth, Error, chain_text};

/// A finished sentence standing in as an error's cause.
#[derive(Debug)]
pub(crate) struct Said(pub(crate) String);

impl std::fmt::Display for Said {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Said {}

/// A failure of `context` ("get pod") against `server`, where `bound` applied.
pub(crate) fn from_kube(context: &str, server: &str, bound: Bound, err: kube::Error) -> Error {
    match err {
        kube::Error::Api(_) => Error::kube(context, server, err),
        kube::Error::Service(source) => transport(context, server, bound, source, false),
        kube::Error::HyperError(e) => transport(context, server, bound, Box::new(e), true),
        kube::Error::SerdeError(e) => said(
            context,
            format!("the answer of the server at {server} could not be read: {e}"),
        ),
        other => Error::kube(context, server, other),
    }
}

/// A failure inside an open watch stream.
pub(crate) fn watch_event(server: &str, bound: Bound, err: kube::Error) -> Error {
    const CONTEXT: &str = "watch pods";
    match err {
        // A line that is neither an event nor a real Status parses as an empty Status (code 0).
        kube::Error::Api(status) if status.code == 0 => said(
            CONTEXT,
            format!(
                "a watch event from the server at {server} could not be read (it is neither an event nor a Status)"
            ),
        ),
        kube::Error::SerdeError(e) => said(
            CONTEXT,
            format!("a watch event from the server at {server} could not be read: {e}"),
        ),
        other => from_kube(CONTEXT, server, bound, other),
    }
}

/// A transport failure, told by its causes (kube hands them over boxed; only their texts
/// say what happened). `answered`: the status line had arrived.
fn transport(context: &str, server: &str, bound: Bound, source: BoxError, answered: bool) -> Error {
    if timed_out(source.as_ref()) {
        return silent(context, server, bound);
    }
    let text = chain_text(source.as_ref(), Depth::Full);
    if answered
        || text.contains("error reading a body")
        || text.contains("before message length reached")
    {
        return said(
            context,
            format!(
                "the server at {server} answered, but its answer was cut off before the end ({})",
                chain_text(source.as_ref(), Depth::RootCause)
            ),
        );
    }
    if text.contains("InvalidContentType") || text.contains("corrupt message") {
        return Error::Unreachable {
            server: server.to_string(),
            source: Box::new(Said(format!(
                "the server does not speak TLS (it answered the TLS handshake in plain text); if it serves plain HTTP, write its address as http://{} in the kubeconfig",
                server.trim_start_matches("https://")
            ))),
        };
    }
    if text.contains("connection closed before message completed") {
        return said(
            context,
            format!("the server at {server} closed the connection without answering"),
        );
    }
    Error::Unreachable {
        server: server.to_string(),
        source,
    }
}

/// The bound was hit: name it, and how to change it.
pub(crate) fn silent(context: &str, server: &str, bound: Bound) -> Error {
    let text = match bound {
        Bound::Whole(d) => format!(
            "the server at {server} did not answer within --request-timeout {}",
            shown(d)
        ),
        Bound::Idle(d) => format!(
            "the server at {server} sent nothing for {} ({})",
            shown(d),
            bound_hint(bound)
        ),
    };
    said(context, text)
}

fn said(context: &str, text: String) -> Error {
    Error::client(context, Said(text))
}

fn causes<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |e| {
        let e: &'a (dyn StdError + 'static) = *e;
        e.source()
    })
}

fn timed_out(err: &(dyn StdError + 'static)) -> bool {
    causes(err).any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
            || e.is::<tower::timeout::error::Elapsed>()
            || e.to_string() == "deadline has elapsed"
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const SERVER: &str = "https://127.0.0.1:6443";
    const IDLE: Bound = Bound::Idle(Duration::from_secs(60));

    fn service(text: &str) -> kube::Error {
        kube::Error::Service(Box::new(Said(text.into())))
    }

    #[test]
    fn a_bound_hit_names_the_flag_that_changes_it() {
        let timed_out =
            kube::Error::Service(Box::new(std::io::Error::from(std::io::ErrorKind::TimedOut)));
        let text = from_kube("get pod", SERVER, IDLE, timed_out).to_string();
        assert!(text.contains("sent nothing for 60s"), "{text}");
        assert!(text.contains("--request-timeout"), "{text}");
        let whole = silent("list pods", SERVER, Bound::Whole(Duration::from_secs(2)));
        assert!(
            whole.to_string().contains("within --request-timeout 2s"),
            "{whole}"
        );
    }

    #[test]
    fn transport_failures_are_told_apart() {
        let tls = from_kube(
            "get pod",
            SERVER,
            IDLE,
            service("received corrupt message of type InvalidContentType"),
        );
        assert!(tls.to_string().contains("does not speak TLS"), "{tls}");
        assert!(tls.to_string().contains("http://127.0.0.1:6443"), "{tls}");
        let cut = from_kube(
            "list pods",
            SERVER,
            IDLE,
            service("error reading a body from connection"),
        );
        assert!(cut.to_string().contains("cut off"), "{cut}");
        let refused = from_kube("get pod", SERVER, IDLE, service("Connection refused"));
        assert!(matches!(refused, Error::Unreachable { .. }), "{refused}");
    }

    #[test]
    fn a_watch_line_that_is_no_event_is_named_as_such() {
        let garbage = kube::Error::Api(Box::new(kube::core::Status::failure("", "")));
        let text = watch_event(SERVER, IDLE, garbage).to_string();
        assert!(text.contains("watch event"), "{text}");
        assert!(!text.contains("answered 0"), "{text}");
    }
}
