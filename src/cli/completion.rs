//! `__complete WORDS…`: the answers to kubectl's plugin completion, derived from the clap
//! definition so that they cannot drift away from the real flags.
//!
//! kubectl (>= 1.26) completes `kubectl initctl …` by running an executable named
//! `kubectl_complete-initctl` from PATH with the words typed after `initctl`, the last one being
//! the word under the cursor (empty when a new word is started). It reads cobra's `__complete`
//! format back: one candidate per line (`candidate<TAB>description` allowed), then `:<directive>`
//! as the last line. The helper shipped in the release archive just runs
//! `kubectl-initctl __complete "$@"`.

mod request;

use std::io::Write;
use std::time::Duration;

use clap::CommandFactory;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{Namespace, ReplicationController};
use kube::ResourceExt;

use crate::cli::Cli;
use crate::cluster::Cluster;
use crate::error::{Error, Result};
use crate::input::target::{Target, WorkloadKind};
use request::{Request, Want, analyse};

/// cobra's ShellCompDirective bits (spf13/cobra completions.go: Error = 1 << 0, NoSpace, NoFileComp,
/// FilterFileExt, FilterDirs, KeepOrder; Default = 0, which lets the shell fall back to file names).
mod directive {
    pub(super) const DEFAULT: u32 = 0;
    pub(super) const NO_SPACE: u32 = 1 << 1;
    pub(super) const NO_FILE_COMP: u32 = 1 << 2;
}

/// Completion must never keep a user waiting at a prompt: an unreachable or slow cluster yields no
/// candidates after this long (kubectl's own completion has no such bound and just hangs).
const CLUSTER_BUDGET: Duration = Duration::from_secs(5);

/// `KIND/` prefixes offered where a TARGET is expected, in kubectl's short spellings.
const KIND_PREFIXES: [&str; 8] = [
    "pod/", "deploy/", "sts/", "ds/", "rs/", "rc/", "job/", "cronjob/",
];

/// `__complete WORDS…`: candidates for the last word. Never fails for lack of a cluster: any error
/// there means no candidates, because a completion that prints an error line would be inserted
/// into the user's command line.
pub async fn complete(words: &[String], out: &mut dyn Write) -> Result<()> {
    let mut root = Cli::command();
    root.build();
    let request = analyse(&root, words);
    let answer = match tokio::time::timeout(CLUSTER_BUDGET, answer(&request)).await {
        Ok(answer) => answer,
        Err(_) => Answer::none(),
    };
    let mut text = String::new();
    for candidate in &answer.candidates {
        text.push_str(candidate);
        text.push('\n');
    }
    text.push_str(&format!(":{}\n", answer.directive));
    out.write_all(text.as_bytes()).map_err(Error::Output)
}

/// Candidates and the directive for the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answer {
    candidates: Vec<String>,
    directive: u32,
}

impl Answer {
    fn none() -> Answer {
        Answer {
            candidates: Vec::new(),
            directive: directive::NO_FILE_COMP,
        }
    }

    /// The names that start with `prefix`; no trailing space when every one of them is an
    /// unfinished word (`deploy/`, `--output=`), so the user can type on.
    fn of(names: impl IntoIterator<Item = String>, prefix: &str) -> Answer {
        let candidates: Vec<String> = names
            .into_iter()
            .filter(|n| n.split('\t').next().unwrap_or_default().starts_with(prefix))
            .collect();
        let unfinished = !candidates.is_empty()
            && candidates
                .iter()
                .all(|c| c.ends_with('/') || c.ends_with('='));
        Answer {
            candidates,
            directive: directive::NO_FILE_COMP | if unfinished { directive::NO_SPACE } else { 0 },
        }
    }
}

async fn answer(req: &Request) -> Answer {
    let described = |list: &[(String, String)]| -> Vec<String> {
        list.iter()
            .map(|(name, help)| match help.is_empty() {
                true => name.clone(),
                false => format!("{name}\t{help}"),
            })
            .collect()
    };
    match &req.want {
        Want::Subcommand => Answer::of(described(&req.subcommands), &req.prefix),
        Want::Flag => {
            // `-` offers short and long flags; `--` only the long ones (as cobra does).
            let flags = req
                .flags
                .iter()
                .filter(|(f, _)| req.prefix.starts_with("--") <= f.starts_with("--"))
                .cloned()
                .collect::<Vec<_>>();
            Answer::of(described(&flags), &req.prefix)
        }
        Want::FlagValue { id, lead } => {
            let names = if !req.values.is_empty() {
                req.values.clone()
            } else {
                match id.as_str() {
                    "namespace" => namespaces(req).await,
                    "context" | "cluster" | "user" => kubeconfig_names(req, id),
                    // Paths: let the shell complete file names.
                    "kubeconfig"
                    | "filenames"
                    | "certificate_authority"
                    | "client_certificate"
                    | "client_key" => {
                        return Answer {
                            candidates: Vec::new(),
                            directive: directive::DEFAULT,
                        };
                    }
                    _ => Vec::new(),
                }
            };
            let mut answer = Answer::of(names, &req.prefix);
            answer.candidates = answer
                .candidates
                .into_iter()
                .map(|c| format!("{lead}{c}"))
                .collect();
            answer
        }
        Want::Positional { value_name } => {
            if !req.values.is_empty() {
                return Answer::of(req.values.clone(), &req.prefix);
            }
            if value_name.contains("TARGET") {
                targets(req, true).await
            } else if value_name.contains("POD") {
                targets(req, false).await
            } else if value_name == "INIT_CONTAINER" {
                // A container name, not a file (`logs`): the pod is not known here.
                Answer::none()
            } else {
                // Manifests (`check OLD NEW`) and other paths: the shell's file completion.
                Answer {
                    candidates: Vec::new(),
                    directive: directive::DEFAULT,
                }
            }
        }
        Want::Nothing => Answer::none(),
    }
}

async fn connect(req: &Request) -> Option<Cluster> {
    let mut opts = crate::session::connect_options(&req.connection).ok()?;
    opts.request_timeout = Some(opts.request_timeout.unwrap_or(CLUSTER_BUDGET));
    Cluster::connect(&opts).await.ok()
}

/// Pod names (one LIST in the namespace the command would use), then the `KIND/` prefixes; after
/// `KIND/`, the names of that kind's objects.
async fn targets(req: &Request, workloads: bool) -> Answer {
    let prefix = req.prefix.as_str();
    if let Some((kind, _)) = prefix.split_once('/') {
        let Ok(target) = Target::parse(&format!("{kind}/x")) else {
            return Answer::none();
        };
        let Some(cluster) = connect(req).await else {
            return Answer::none();
        };
        let ns = namespace_of(req, &cluster);
        let names = match target {
            Target::Pod(_) => pod_names(&cluster, &ns).await,
            Target::Workload(_, _) if !workloads => Vec::new(),
            Target::Workload(kind, _) => workload_names(&cluster, &ns, kind).await,
        };
        return Answer::of(names.into_iter().map(|n| format!("{kind}/{n}")), prefix);
    }
    let mut names = match connect(req).await {
        Some(cluster) => pod_names(&cluster, &namespace_of(req, &cluster)).await,
        None => Vec::new(),
    };
    names.extend(
        KIND_PREFIXES
            .iter()
            .filter(|k| workloads || **k == "pod/")
            .map(|k| k.to_string()),
    );
    Answer::of(names, prefix)
}

fn namespace_of(req: &Request, cluster: &Cluster) -> String {
    req.namespace
        .clone()
        .unwrap_or_else(|| cluster.default_namespace().to_string())
}

async fn pod_names(cluster: &Cluster, namespace: &str) -> Vec<String> {
    match cluster
        .list_pods_page(Some(namespace), None, None, None)
        .await
    {
        Ok(page) => page.pods.iter().map(|p| p.name_any()).collect(),
        Err(_) => Vec::new(),
    }
}

async fn workload_names(cluster: &Cluster, ns: &str, kind: WorkloadKind) -> Vec<String> {
    fn names<K: ResourceExt>(list: Result<Vec<K>>) -> Vec<String> {
        list.map(|l| l.iter().map(|o| o.name_any()).collect())
            .unwrap_or_default()
    }
    match kind {
        WorkloadKind::Deployment => names(cluster.list_namespaced::<Deployment>(ns).await),
        WorkloadKind::StatefulSet => names(cluster.list_namespaced::<StatefulSet>(ns).await),
        WorkloadKind::DaemonSet => names(cluster.list_namespaced::<DaemonSet>(ns).await),
        WorkloadKind::ReplicaSet => names(cluster.list_namespaced::<ReplicaSet>(ns).await),
        WorkloadKind::ReplicationController => {
            names(cluster.list_namespaced::<ReplicationController>(ns).await)
        }
        WorkloadKind::CronJob => names(cluster.list_namespaced::<CronJob>(ns).await),
        WorkloadKind::Job => cluster
            .list_jobs(ns)
            .await
            .map(|jobs| {
                jobs.iter()
                    .filter_map(|j| j["metadata"]["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

async fn namespaces(req: &Request) -> Vec<String> {
    let Some(cluster) = connect(req).await else {
        return Vec::new();
    };
    cluster
        .list_cluster::<Namespace>()
        .await
        .map(|l| l.iter().map(|n| n.name_any()).collect())
        .unwrap_or_default()
}

/// Context, cluster or user names (`--context`, `--cluster`, `--user`) from the kubeconfig the
/// command would read (no request to a cluster).
fn kubeconfig_names(req: &Request, flag: &str) -> Vec<String> {
    let config = match &req.connection.kubeconfig {
        Some(path) => kube::config::Kubeconfig::read_from(path),
        None => kube::config::Kubeconfig::read(),
    };
    let Ok(config) = config else {
        return Vec::new();
    };
    match flag {
        "cluster" => config.clusters.into_iter().map(|c| c.name).collect(),
        "user" => config.auth_infos.into_iter().map(|u| u.name).collect(),
        _ => config.contexts.into_iter().map(|c| c.name).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfinished_words_get_no_space() {
        let a = Answer::of(["deploy/".to_string(), "ds/".to_string()], "d");
        assert_eq!(a.directive, directive::NO_FILE_COMP | directive::NO_SPACE);
        let a = Answer::of(["db-0".to_string(), "deploy/".to_string()], "d");
        assert_eq!(a.directive, directive::NO_FILE_COMP);
    }
}
