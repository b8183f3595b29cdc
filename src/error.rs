//! The library's one error type. Every variant reads as a complete sentence for the user:
//! `main` prints it as a single `error: …` line and maps it to an exit code.

use std::path::PathBuf;

use thiserror::Error;

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
    /// Something the user typed cannot be used (target, selector, duration…).
    #[error("{0}")]
    Input(String),
    /// The kubeconfig could not be loaded or does not name a usable cluster.
    #[error("{0}")]
    Kubeconfig(String),
    /// The server could not be reached at all.
    #[error("unable to connect to the server at {server}: {reason}")]
    Unreachable { server: String, reason: String },
    /// The server answered with an error Status (404, 403, 409, 422, 5xx…).
    #[error("{message}")]
    Api {
        code: u16,
        reason: String,
        message: String,
    },
    /// Any other transport or client failure, with what we were doing.
    #[error("failed to {context}: {detail}")]
    Client { context: String, detail: String },
    /// Writing the output failed (other than a closed pipe, which is not an error).
    #[error("cannot write output: {0}")]
    Output(#[source] std::io::Error),
    /// Some named targets were not found (one server message each, e.g. `pods "x" not found`);
    /// the found ones were printed.
    #[error("{}", .0.join("\n"))]
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
    /// The user interrupted the command (Ctrl-C).
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    /// Exit codes as the SPEC fixes them: 1 failure (bad input included), 130 interrupted.
    /// Usage errors (exit 2) never get here: clap reports them itself.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Interrupted => 130,
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
    /// (kubectl prints those verbatim, e.g. `pods "x" not found`).
    pub fn kube(context: impl Into<String>, server: &str, err: kube::Error) -> Error {
        match err {
            kube::Error::Api(status) => Error::Api {
                code: status.code,
                reason: status.reason.clone(),
                message: match (status.code, status.message.is_empty()) {
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
                },
            },
            kube::Error::HyperError(e) => Error::Unreachable {
                server: server.to_string(),
                reason: readable_tls(root_cause(&e)),
            },
            kube::Error::Service(e) => Error::Unreachable {
                server: server.to_string(),
                reason: readable_tls(root_cause(e.as_ref())),
            },
            other => Error::Client {
                context: context.into(),
                detail: root_cause(&other),
            },
        }
    }
}

/// The innermost message of an error chain: "connection refused" rather than a stack of wrappers.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    let text = current.to_string();
    if text.is_empty() {
        err.to_string()
    } else {
        text
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
