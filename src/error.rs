//! The library's one error type. Every variant reads as a complete sentence for the user:
//! `main` prints it as a single `error: …` line and maps it to an exit code.
//!
//! Where a failure has a cause (an I/O, kubeconfig or transport error), the variant keeps it as
//! its `source()`, and its message is rendered from it by `chain_text`, the one place that
//! walks error chains.
//!
//! Parsers follow one convention, so no parser returns a bare `String` error:
//! - a parser of something the user typed (a target, a selector, a `--request-timeout`)
//!   returns [`Error::Input`] with the finished sentence: it alone knows what was typed;
//! - a parser of data read from objects or files (a quantity, a YAML document) returns its own
//!   small typed error (`QuantityError`, `yaml::Located`), and the caller, who knows where the
//!   data came from (a file position, a field path), turns it into the message it shows.

use std::path::PathBuf;

use thiserror::Error;

use crate::util::sanitize::server_message;

#[derive(Debug, Error)]
pub enum Error {
    /// A file given with -f could not be read.
    #[error("{path}: {source}")]
    ReadFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A file given with -f is not valid YAML/JSON, or an object in it is malformed.
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: String,
        line: u64,
        column: u64,
        message: String,
    },
    /// An input given with -f is larger than the limit of each input (an endless one included).
    #[error(
        "{path}: larger than {limit} bytes, the most one input may hold; refused (set {env} to a larger number of bytes to raise the limit)"
    )]
    InputTooLarge {
        path: String,
        limit: u64,
        env: &'static str,
    },
    /// Something the user typed cannot be used (target, selector, duration…).
    #[error("{0}")]
    Input(String),
    /// The kubeconfig could not be loaded or does not name a usable cluster.
    #[error("{}", chain_text(.0, Depth::Full))]
    Kubeconfig(#[source] kube::config::KubeconfigError),
    /// No kubeconfig anywhere kubectl looks, and no in-cluster service account either.
    #[error(
        "no kubeconfig found (looked at $KUBECONFIG and ~/.kube/config) and not running inside a cluster; use --kubeconfig, or -f to read a file"
    )]
    NoKubeconfig,
    /// The server could not be reached at all.
    #[error(
        "unable to connect to the server at {server}: {}",
        readable_tls(chain_text(.source.as_ref(), Depth::RootCause))
    )]
    Unreachable {
        server: String,
        #[source]
        source: BoxError,
    },
    /// The server answered with an error Status (404, 403, 409, 422, 5xx…). Its message is
    /// the server's text, shown as one bounded line however it was built.
    #[error("{}", server_message(.message))]
    Api {
        code: u16,
        reason: String,
        message: String,
    },
    /// Any other transport or client failure, with what we were doing.
    #[error("failed to {context}: {}", chain_text(.source.as_ref(), Depth::RootCause))]
    Client {
        context: String,
        #[source]
        source: BoxError,
    },
    /// Writing the output failed (other than a closed pipe, which is not an error).
    #[error("cannot write output: {0}")]
    Output(#[source] std::io::Error),
    /// Some named targets were not found (one server message each, e.g. `pods "x" not found`);
    /// the found ones were printed.
    #[error("{}", .0.iter().map(|m| server_message(m)).collect::<Vec<_>>().join("\n"))]
    TargetsNotFound(Vec<String>),
    /// A state file (backup, copy of an edit) could not be written.
    #[error("cannot write {path}: {source}")]
    WriteFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A recreate failed after the pod was deleted; the text names the backups and the restore.
    #[error("{0}")]
    Recreate(String),
    /// An edit was not applied; its copy was kept (the command already said where).
    #[error("{0}")]
    NotApplied(String),
    /// `check` found a change the API server would refuse (exit 3).
    #[error("{0}")]
    Rejected(String),
    /// A terminating signal (Ctrl-C is SIGINT) stopped the command; `after` says what had been
    /// done when it was held until a pod existed again.
    #[error("{}", match after {
        None => "interrupted".to_string(),
        Some(done) => format!("interrupted ({}) after {done}; nothing more was done", signal.name),
    })]
    Interrupted {
        signal: crate::util::interrupt::Signal,
        after: Option<String>,
    },
}

impl Error {
    /// Exit codes as kubectl plugins use them (docs/troubleshooting.md): 1 failure (bad input included), 128 + the signal's
    /// number when a signal stopped the command (130 for Ctrl-C).
    /// Usage errors (exit 2) never get here: clap reports them itself.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Interrupted { signal, .. } => signal.exit_code(),
            Error::Rejected(_) => 3,
            _ => 1,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api { code: 404, .. })
    }

    pub fn is_forbidden(&self) -> bool {
        matches!(self, Error::Api { code: 403, .. })
    }

    /// Wraps a kube client error, keeping the server's own message for API errors
    /// (kubectl prints those verbatim, e.g. `pods "x" not found`). `server` is the URL as
    /// messages name it, its password already redacted (see `Cluster::connect`).
    pub fn kube(context: impl Into<String>, server: &str, err: kube::Error) -> Error {
        match err {
            kube::Error::Api(status) => Error::Api {
                code: status.code,
                reason: status.reason.clone(),
                // The server's text is shown as one bounded line (an HTML error page from a
                // proxy reduced to its title); the terminal guard escapes what is left.
                message: server_message(&match (status.code, status.message.is_empty()) {
                    // kube-apiserver's 401 says only "Unauthorized"; say what it means, with
                    // kubectl's wording first so the line is recognisable.
                    (401, _) => format!(
                        "You must be logged in to the server ({}): the server accepted none of the kubeconfig's credentials",
                        if status.message.is_empty() {
                            &status.reason
                        } else {
                            &status.message
                        }
                    ),
                    (_, true) => format!("the server answered {} {}", status.code, status.reason),
                    (_, false) => status.message.clone(),
                }),
            },
            kube::Error::HyperError(e) => Error::Unreachable {
                server: server.to_string(),
                source: Box::new(e),
            },
            kube::Error::Service(source) => Error::Unreachable {
                server: server.to_string(),
                source,
            },
            other => Error::client(context, other),
        }
    }

    /// A failure of something we were doing (`context`: "read object"), told by its innermost cause.
    pub fn client(context: impl Into<String>, source: impl Into<BoxError>) -> Error {
        Error::Client {
            context: context.into(),
            source: source.into(),
        }
    }
}

/// A source error of any type, as the client libraries hand them over.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How much of an error chain the user is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    /// The innermost message: "connection refused" rather than a stack of wrappers.
    RootCause,
    /// Every message, outermost first, joined as "a: b: c"; a message already contained in an
    /// earlier one is left out (many errors repeat their source's text in their own).
    Full,
}

/// The one renderer of error chains (an error and its `source()`s).
pub(crate) fn chain_text(err: &(dyn std::error::Error + 'static), depth: Depth) -> String {
    let chain = std::iter::successors(Some(err), |e| e.source());
    match depth {
        Depth::RootCause => {
            let text = chain.last().map(|e| e.to_string()).unwrap_or_default();
            if text.is_empty() {
                err.to_string()
            } else {
                text
            }
        }
        Depth::Full => {
            let mut parts: Vec<String> = Vec::new();
            for text in chain.map(|e| e.to_string()) {
                if parts.is_empty() || !parts.iter().any(|p| p.contains(&text)) {
                    parts.push(text);
                }
            }
            parts.join(": ")
        }
    }
}

/// rustls prints some certificate failures as bare enum names ("invalid peer certificate:
/// UnknownIssuer"); the text is all we get (kube does not expose the rustls error), so reword
/// those into what kubectl users know ("certificate signed by unknown authority").
fn readable_tls(reason: String) -> String {
    let Some(what) = reason.strip_prefix("invalid peer certificate: ") else {
        return reason;
    };
    let what = match what {
        "UnknownIssuer" => {
            "it is signed by an unknown authority (not by the certificate-authority the kubeconfig trusts)"
        }
        "BadSignature" => "its signature is invalid",
        "Expired" => "it has expired",
        "NotValidYet" => "it is not valid yet",
        "NotValidForName" => "it is not valid for the server's name",
        "Revoked" => "it has been revoked",
        other => other,
    };
    format!("the server's certificate could not be verified: {what}")
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    /// An error with a message and an optional source, to build chains.
    #[derive(Debug, thiserror::Error)]
    #[error("{text}")]
    struct Link {
        text: &'static str,
        #[source]
        source: Option<Box<Link>>,
    }

    fn chain(texts: &[&'static str]) -> Link {
        texts
            .iter()
            .rev()
            .fold(None, |source, text| {
                Some(Link {
                    text,
                    source: source.map(Box::new),
                })
            })
            .unwrap()
    }

    #[test]
    fn chains_render_innermost_or_whole_without_repeats() {
        let err = chain(&["connect failed: refused", "refused", "os error 111"]);
        assert_eq!(chain_text(&err, Depth::RootCause), "os error 111");
        assert_eq!(
            chain_text(&err, Depth::Full),
            "connect failed: refused: os error 111"
        );
        let silent = chain(&["outer", ""]);
        assert_eq!(chain_text(&silent, Depth::RootCause), "outer");
    }

    #[test]
    fn client_errors_keep_their_source_and_message() {
        let err = Error::client("read object", std::io::Error::other("broken"));
        assert_eq!(err.to_string(), "failed to read object: broken");
        assert_eq!(
            std::error::Error::source(&err).map(|s| s.to_string()),
            Some("broken".into())
        );
    }
}
