//! What a long-running init container waits for, read from its command line.
//!
//! Most init containers that run "forever" loop until something exists: a DNS name
//! (`until nslookup myservice; do sleep 2; done`), an open port (`nc -z db 5432`), an HTTP endpoint
//! (`wget --spider http://config/ready`), a database (`pg_isready -h db`). `explain` needs that target
//! and the Service behind it to say *why* the pod does not get past init. This module reads `command`
//! and `args` the way the kubelet and then the shell would, without running anything:
//!
//! 1. the kubelet expands `$(VAR)` from the container's `env` (literal values and the downward-API
//!    namespace, the only values knowable without the cluster) — `kubelet`;
//! 2. a shell `-c` script is split into simple commands (quotes, backslashes, `$VAR`/`${VAR}`,
//!    `$(…)`/backticks, redirections, here-documents, loops); variables known from `env` or from
//!    assignments earlier in the script are substituted, the service-account namespace file reads as
//!    the pod's namespace, anything else stays as written — `lexer`, then `analyzer`, which also
//!    sees through wrappers such as `exec`, `timeout`, `env` and nested `sh -c`;
//! 3. each simple command is matched against the tools people wait with — `tools`, reading their
//!    options with `getopt`.
//!
//! [`resolve_service`] (in `service_dns`) then names the Service a target's host reaches.
//!
//! It is a reader for real-world init scripts, not a shell: no field splitting, globbing, functions
//! or arithmetic.

mod analyzer;
mod cache;
mod getopt;
mod kubelet;
mod lexer;
mod service_dns;
#[cfg(test)]
mod tests;
mod tools;

use std::collections::HashMap;

use k8s_openapi::api::core::v1::Container;
use serde::Serialize;

use analyzer::{Analyzer, CommandContext};
use kubelet::{container_env, kubelet_expand};
pub use service_dns::resolve_service;

/// What an init container's command waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitTarget {
    /// The program that does the waiting: `nslookup`, `nc`, `curl`, `pg_isready`, `wait-for-it`,
    /// `/dev/tcp` (a bash redirection), …
    pub tool: String,
    /// The host after variable substitution, e.g. `myservice.seed.svc.cluster.local`. Variables that
    /// could not be resolved stay as written (`$DB_HOST`).
    pub host: String,
    /// The port, explicit or the protocol's default (80/443 for URLs, 5432 for PostgreSQL clients…);
    /// `None` for name lookups.
    pub port: Option<u16>,
    /// The URL, for HTTP(S) and URI-style targets.
    pub url: Option<String>,
    /// Whether the check repeats: it sits inside a shell loop (`until`, `while`, or a `for` retry
    /// loop), or the tool retries by itself (`wait-for-it`, `dockerize -wait`, …).
    pub in_loop: bool,
    /// The simple command it came from, as written, for evidence.
    pub fragment: String,
}

/// A Kubernetes Service, by name and namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceRef {
    pub name: String,
    pub namespace: String,
}

/// Everything `container` waits for, each distinct target once, in the order it appears.
pub fn wait_targets(container: &Container, pod_namespace: &str) -> Vec<WaitTarget> {
    cache::remembered(container, pod_namespace, || read(container, pod_namespace))
}

/// [`wait_targets`], read from the command line.
fn read(container: &Container, pod_namespace: &str) -> Vec<WaitTarget> {
    let env = container_env(container, pod_namespace);
    // The kubelet appends `args` to `command` and expands `$(VAR)` in both. With no `command` the
    // image's entrypoint runs `args`; the common case (busybox-like images, no entrypoint) runs them
    // directly, which is the only reading available without the image.
    let argv: Vec<String> = container
        .command
        .iter()
        .flatten()
        .chain(container.args.iter().flatten())
        .map(|arg| kubelet_expand(arg, &env))
        .collect();
    let fragment = argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ");
    let mut analyzer = Analyzer::new(pod_namespace);
    let context = CommandContext {
        fragment: &fragment,
        in_loop: false,
    };
    analyzer.argv(&argv, &env, &context);
    dedup(analyzer.into_found())
}

/// Variables known by name: the container's `env`, then a script's own assignments.
type Vars = HashMap<String, String>;

/// An argument as a shell would need it written, for fragments of exec-form commands.
fn quote(arg: &str) -> String {
    if !arg.is_empty() && !arg.contains(|c: char| c.is_whitespace() || "'\"\\;&|<>".contains(c)) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// Keeps the first of equal targets; a target seen anywhere in a loop counts as looping.
fn dedup(found: Vec<WaitTarget>) -> Vec<WaitTarget> {
    let mut out: Vec<WaitTarget> = Vec::with_capacity(found.len());
    for target in found {
        let same = out.iter_mut().find(|t| {
            (&t.tool, &t.host, t.port, &t.url)
                == (&target.tool, &target.host, target.port, &target.url)
        });
        match same {
            Some(existing) => existing.in_loop |= target.in_loop,
            None => out.push(target),
        }
    }
    out
}
