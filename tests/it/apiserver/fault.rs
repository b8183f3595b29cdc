//! Injected faults: errors, delays, dropped watches and lost answers a test asks for.

use std::time::Duration;

/// An injected failure. A request matches when its method (if set) is equal and its
/// `path?query` contains `path_contains`; the first matching rule with uses left applies.
#[derive(Debug, Clone, Default)]
pub struct Fault {
    pub method: Option<&'static str>,
    pub path_contains: String,
    /// ≥ 400: answer a Status with this code instead of serving the request.
    pub status: u16,
    pub reason: Option<String>,
    pub message: Option<String>,
    /// Sleep before answering (or before failing).
    pub delay: Option<Duration>,
    /// How many requests the rule applies to; `None` = all.
    pub times: Option<usize>,
    /// For watches: close the stream after this many events.
    pub drop_watch_after: Option<usize>,
    /// Carry the request out, then close the connection without answering: the client cannot
    /// tell whether it happened (a dropped connection, or an answer slower than its timeout).
    pub lose_answer: bool,
    /// With `status`: answer this body as `text/html` instead of a Status (a proxy's error page).
    pub html_body: Option<String>,
    /// With `status`: a watch opens (200), then sends one ERROR event carrying the Status.
    pub watch_error: bool,
    /// Serve the request as if it had no `limitBytes` (a server that ignores the limit).
    pub ignore_limit_bytes: bool,
    /// Send the answer's body a few bytes at a time, this long apart (a valid body, slowly).
    pub trickle: Option<Duration>,
    /// Send the headers (with the full Content-Length) and half the body, then close.
    pub truncate: bool,
    /// With `status: 429`: the Retry-After (header and `details.retryAfterSeconds`).
    pub retry_after: Option<u64>,
    /// LISTs answer their first page with the same `continue` token, every time.
    pub loop_continue: bool,
    /// For watches: send this raw line (not a watch event) and close the stream.
    pub watch_line: Option<String>,
    /// A gzipped answer's data broken in the middle (the HTTP framing whole).
    pub garble_gzip: bool,
}

impl Fault {
    /// Fail matching requests with `status` (reason and message as the real server gives them).
    pub fn error(path_contains: &str, status: u16) -> Fault {
        Fault {
            path_contains: path_contains.into(),
            status,
            ..Fault::default()
        }
    }

    /// Answer matching requests normally, but only after `delay`.
    pub fn delay(path_contains: &str, delay: Duration) -> Fault {
        Fault {
            path_contains: path_contains.into(),
            delay: Some(delay),
            ..Fault::default()
        }
    }

    /// End matching watch streams after `events` events.
    pub fn drop_watch(path_contains: &str, events: usize) -> Fault {
        Fault {
            path_contains: path_contains.into(),
            drop_watch_after: Some(events),
            ..Fault::default()
        }
    }

    /// Carry matching requests out, but lose their answers (the connection closes).
    pub fn lose_answer(path_contains: &str) -> Fault {
        Fault {
            path_contains: path_contains.into(),
            lose_answer: true,
            ..Fault::default()
        }
    }

    /// Fail matching requests with `status` and an HTML page, as a proxy in front of the
    /// API server does (a 502 from nginx).
    pub fn html(path_contains: &str, status: u16, page: &str) -> Fault {
        Fault {
            html_body: Some(page.into()),
            ..Fault::error(path_contains, status)
        }
    }

    /// Open matching watches, then end them with an ERROR event (code `status`, `message`).
    pub fn watch_error(path_contains: &str, status: u16, message: &str) -> Fault {
        Fault {
            message: Some(message.into()),
            watch_error: true,
            ..Fault::error(path_contains, status)
        }
    }

    /// Serve matching requests without their `limitBytes`.
    pub fn ignore_limit_bytes(path_contains: &str) -> Fault {
        Fault {
            path_contains: path_contains.into(),
            ignore_limit_bytes: true,
            ..Fault::default()
        }
    }

    /// Answer matching requests normally, but trickle the body out (`every` between chunks).
    pub fn trickle(path_contains: &str, every: Duration) -> Fault {
        Fault {
            path_contains: path_contains.into(),
            trickle: Some(every),
            ..Fault::default()
        }
    }

    /// Answer matching requests normally, but with their gzip data broken (answers small enough
    /// to go uncompressed are unchanged).
    pub fn garble_gzip(path_contains: &str) -> Fault {
        Fault {
            path_contains: path_contains.into(),
            garble_gzip: true,
            ..Fault::default()
        }
    }

    /// Answer matching requests with a body cut off halfway (the connection closes).
    pub fn truncate(path_contains: &str) -> Fault {
        Fault {
            path_contains: path_contains.into(),
            truncate: true,
            ..Fault::default()
        }
    }

    /// 429 Too Many Requests asking to come back in `seconds`.
    pub fn throttle(path_contains: &str, seconds: u64) -> Fault {
        Fault {
            retry_after: Some(seconds),
            ..Fault::error(path_contains, 429)
        }
    }

    /// Matching LISTs answer with a continue token that never changes.
    pub fn loop_continue(path_contains: &str) -> Fault {
        Fault {
            path_contains: path_contains.into(),
            loop_continue: true,
            ..Fault::default()
        }
    }

    /// Matching watches send `line` (raw) and end.
    pub fn watch_line(path_contains: &str, line: &str) -> Fault {
        Fault {
            path_contains: path_contains.into(),
            watch_line: Some(line.into()),
            ..Fault::default()
        }
    }

    /// Only for this HTTP method.
    pub fn on(self, method: &'static str) -> Fault {
        Fault {
            method: Some(method),
            ..self
        }
    }

    /// Only for the next `n` matching requests.
    pub fn times(self, n: usize) -> Fault {
        Fault {
            times: Some(n),
            ..self
        }
    }
}

/// The first rule with uses left that matches `method` and `target` (`path?query`), counted
/// as used once more.
pub(super) fn take_matching(
    faults: &mut [(Fault, usize)],
    method: &str,
    target: &str,
) -> Option<Fault> {
    faults
        .iter_mut()
        .find(|(f, used)| {
            f.method.is_none_or(|m| m == method)
                && target.contains(&f.path_contains)
                && f.times.is_none_or(|t| *used < t)
        })
        .map(|(f, used)| {
            *used += 1;
            f.clone()
        })
}
