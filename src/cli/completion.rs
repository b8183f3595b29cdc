//! Everything derived from the clap definition rather than written by hand: the shell completion
//! scripts (`completion`), the answers to kubectl's plugin completion (`__complete`), and the man
//! pages (`__man`). Deriving them keeps them from drifting away from the real flags.
//!
//! kubectl (>= 1.26) completes `kubectl initctl …` by running an executable named
//! `kubectl_complete-initctl` from PATH with the words typed after `initctl`, the last one being
//! the word under the cursor (empty when a new word is started). It reads cobra's `__complete`
//! format back: one candidate per line (`candidate<TAB>description` allowed), then `:<directive>`
//! as the last line. The helper shipped in the release archive just runs
//! `kubectl-initctl __complete "$@"`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Arg, CommandFactory};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{Namespace, ReplicationController};
use kube::ResourceExt;

use crate::cli::{Cli, CompletionShell};
use crate::cluster::{Cluster, ConnectOptions};
use crate::error::{Error, Result};
use crate::input::target::{Target, WorkloadKind};

/// cobra's ShellCompDirective bits (spf13/cobra completions.go: Error = 1 << 0, NoSpace, NoFileComp,
/// FilterFileExt, FilterDirs, KeepOrder; Default = 0, which lets the shell fall back to file names).
pub mod directive {
    pub const DEFAULT: u32 = 0;
    pub const NO_SPACE: u32 = 1 << 1;
    pub const NO_FILE_COMP: u32 = 1 << 2;
}

/// Completion must never keep a user waiting at a prompt: an unreachable or slow cluster yields no
/// candidates after this long (kubectl's own completion has no such bound and just hangs).
const CLUSTER_BUDGET: Duration = Duration::from_secs(5);

/// `KIND/` prefixes offered where a TARGET is expected, in kubectl's short spellings.
pub const KIND_PREFIXES: [&str; 8] = [
    "pod/", "deploy/", "sts/", "ds/", "rs/", "rc/", "job/", "cronjob/",
];

/// `kubectl initctl completion SHELL`: the clap_complete script for the `kubectl-initctl` binary.
pub fn script(shell: CompletionShell, out: &mut dyn Write) -> Result<()> {
    use clap_complete::Shell;
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
        CompletionShell::Powershell => Shell::PowerShell,
    };
    let mut buf = Vec::new();
    if shell == Shell::Bash {
        // clap_complete's bash generator turns the `-` of a binary name into `__` in the
        // dispatch labels but into `__subcmd__` in the per-command sections, so no section
        // ever matches (nothing past the command name completes). Generate for a dash-free
        // stand-in name and put the real name back only where bash matches the command.
        const STAND_IN: &str = "KUBECTLxINITCTL";
        clap_complete::generate(shell, &mut visible_command(STAND_IN), STAND_IN, &mut buf);
        let text = String::from_utf8_lossy(&buf)
            .lines()
            .map(|line| match line.trim_start().starts_with("complete -F") {
                true => line.replace(&format!(" {STAND_IN}"), " kubectl-initctl"),
                false => line.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
            .replace(STAND_IN, "kubectl_initctl");
        return writeln!(out, "{text}").map_err(Error::Output);
    }
    clap_complete::generate(
        shell,
        &mut visible_command("kubectl-initctl"),
        "kubectl-initctl",
        &mut buf,
    );
    out.write_all(&buf).map_err(Error::Output)
}

/// The CLI as a user may type it: without the hidden helpers (clap_complete's bash generator
/// would offer `__complete` and `__man`), and named `kubectl-initctl` throughout (the parser's
/// `kubectl initctl` display name would give the scripts inconsistent function names).
fn visible_command(bin: &str) -> clap::Command {
    let cli = Cli::command();
    clap::Command::new("kubectl-initctl")
        .about(cli.get_about().cloned().unwrap_or_default())
        .version(crate::util::version::VERSION)
        .disable_help_subcommand(true)
        .args(cli.get_arguments().cloned())
        .subcommands(
            cli.get_subcommands()
                .filter(|s| !s.is_hide_set())
                .map(|s| s.clone().bin_name(format!("{bin} {}", s.get_name()))),
        )
}

/// The clap definition as the man pages see it: the plain version, without the git commit, so the
/// committed pages only change when the CLI does.
pub fn man_command() -> clap::Command {
    Cli::command().version(crate::util::version::VERSION)
}

/// `__man [DIR]`: the main page to `out`, or every page (`kubectl-initctl.1`,
/// `kubectl-initctl-<command>.1`) written into DIR.
pub fn man(dir: Option<&Path>, out: &mut dyn Write) -> Result<()> {
    let io = |e: std::io::Error| Error::Output(e);
    match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(io)?;
            clap_mangen::generate_to(man_command(), dir).map_err(io)
        }
        None => clap_mangen::Man::new(man_command()).render(out).map_err(io),
    }
}

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

/// What the word under the cursor is, found by walking the typed words through the clap tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    /// A command name (nothing chosen yet).
    Subcommand,
    /// A flag name.
    Flag,
    /// The value of the flag with this clap id; `lead` is what precedes the value in the word
    /// (`--output=` when completing `--output=ya`).
    FlagValue { id: String, lead: String },
    /// A positional argument with this value name (`TARGET`, `SHELL`, `OLD` …).
    Positional { value_name: String },
    /// Nothing can follow (e.g. a second argument where one is allowed).
    Nothing,
}

/// The parsed request: where in the tree we are, what is wanted, and the connection flags typed so
/// far (so pods come from the namespace and context the command will use).
#[derive(Debug, Clone)]
pub struct Request {
    /// The command names chosen, e.g. `["status"]`.
    pub path: Vec<String>,
    pub want: Want,
    /// The part of the word under the cursor that candidates must start with.
    pub prefix: String,
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    pub request_timeout: Option<String>,
    /// Every visible flag and command of the current command, for the non-cluster answers.
    flags: Vec<(String, String)>,
    subcommands: Vec<(String, String)>,
    values: Vec<String>,
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_num_args().is_some_and(|n| n.takes_values())
}

fn help_of(arg: &Arg) -> String {
    arg.get_help()
        .map(|h| h.to_string())
        .unwrap_or_default()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Walks `words` (the last one being the word under the cursor) through the clap definition.
pub fn analyse(root: &clap::Command, words: &[String]) -> Request {
    let (current, typed) = match words.split_last() {
        Some((current, typed)) => (current.as_str(), typed),
        None => ("", &[][..]),
    };
    let mut cmd = root;
    let mut path = Vec::new();
    let mut positionals = 0usize;
    let mut after_dashdash = false;
    // A value-taking flag typed last, still waiting for its value (the word under the cursor).
    let mut pending: Option<&Arg> = None;
    let mut values: Vec<(String, String)> = Vec::new();

    let mut i = 0;
    while i < typed.len() {
        let word = typed[i].as_str();
        i += 1;
        if !after_dashdash && word == "--" {
            after_dashdash = true;
            continue;
        }
        if !after_dashdash && word.starts_with("--") {
            let (name, inline) = match word[2..].split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (&word[2..], None),
            };
            let Some(arg) = cmd.get_arguments().find(|a| a.get_long() == Some(name)) else {
                continue;
            };
            if takes_value(arg) && inline.is_none() {
                match typed.get(i) {
                    Some(v) => {
                        values.push((arg.get_id().to_string(), v.clone()));
                        i += 1;
                    }
                    None => pending = Some(arg),
                }
            } else if let Some(v) = inline {
                values.push((arg.get_id().to_string(), v));
            }
            continue;
        }
        if !after_dashdash && word.starts_with('-') && word.len() > 1 {
            // A cluster of short flags (`-Aw`), the last of which may take a value, attached
            // (`-nshop`) or in the next word (`-n shop`).
            let chars: Vec<char> = word[1..].chars().collect();
            for (k, c) in chars.iter().enumerate() {
                let Some(arg) = cmd.get_arguments().find(|a| a.get_short() == Some(*c)) else {
                    break;
                };
                if takes_value(arg) {
                    let rest: String = chars[k + 1..].iter().collect();
                    let rest = rest.strip_prefix('=').map(str::to_string).unwrap_or(rest);
                    if !rest.is_empty() {
                        values.push((arg.get_id().to_string(), rest));
                    } else if let Some(v) = typed.get(i) {
                        values.push((arg.get_id().to_string(), v.clone()));
                        i += 1;
                    } else {
                        pending = Some(arg);
                    }
                    break;
                }
            }
            continue;
        }
        if path.is_empty()
            && let Some(sub) = cmd
                .get_subcommands()
                .find(|s| s.get_name() == word || s.get_all_aliases().any(|a| a == word))
        {
            path.push(sub.get_name().to_string());
            cmd = sub;
            continue;
        }
        positionals += 1;
    }

    let value = |id: &str| {
        values
            .iter()
            .rev()
            .find(|(k, _)| k == id)
            .map(|(_, v)| v.clone())
    };
    let mut prefix = current.to_string();
    let want = if let Some(arg) = pending {
        Want::FlagValue {
            id: arg.get_id().to_string(),
            lead: String::new(),
        }
    } else if !after_dashdash && current.starts_with("--") && current.contains('=') {
        let (name, v) = current[2..].split_once('=').unwrap_or_default();
        prefix = v.to_string();
        match cmd.get_arguments().find(|a| a.get_long() == Some(name)) {
            Some(arg) => Want::FlagValue {
                id: arg.get_id().to_string(),
                lead: format!("--{name}="),
            },
            None => Want::Nothing,
        }
    } else if !after_dashdash && current.starts_with('-') {
        Want::Flag
    } else if path.is_empty() && cmd.has_subcommands() {
        Want::Subcommand
    } else {
        let positional: Vec<&Arg> = cmd.get_positionals().collect();
        let slot = positional.get(positionals).copied().or_else(|| {
            // A repeatable positional (TARGET…) takes every further word.
            positional
                .last()
                .copied()
                .filter(|a| a.get_num_args().is_some_and(|n| n.max_values() > 1))
        });
        match slot {
            Some(arg) => Want::Positional {
                value_name: arg
                    .get_value_names()
                    .and_then(|n| n.first())
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| arg.get_id().to_string().to_uppercase()),
            },
            None => Want::Nothing,
        }
    };

    let flags = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_positional())
        .flat_map(|a| {
            let help = help_of(a);
            let long = a.get_long().map(|l| (format!("--{l}"), help.clone()));
            let short = a.get_short().map(|s| (format!("-{s}"), help.clone()));
            long.into_iter().chain(short)
        })
        .collect();
    let subcommands = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| {
            (
                s.get_name().to_string(),
                s.get_about().map(|a| a.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    // Fixed values (`-o wide|json|yaml`, `--color`, the SHELL of `completion`).
    let fixed_values = match &want {
        Want::FlagValue { id, .. } => cmd
            .get_arguments()
            .find(|a| a.get_id() == id.as_str())
            .map(possible_values)
            .unwrap_or_default(),
        Want::Positional { value_name } => cmd
            .get_positionals()
            .find(|a| {
                a.get_value_names()
                    .and_then(|n| n.first())
                    .is_some_and(|n| n.as_str() == value_name)
            })
            .map(possible_values)
            .unwrap_or_default(),
        _ => Vec::new(),
    };

    Request {
        path,
        want,
        prefix,
        kubeconfig: value("kubeconfig").map(PathBuf::from),
        context: value("context"),
        namespace: value("namespace"),
        request_timeout: value("request_timeout"),
        flags,
        subcommands,
        values: fixed_values,
    }
}

fn possible_values(arg: &Arg) -> Vec<String> {
    arg.get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect()
}

/// Candidates and the directive for the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub candidates: Vec<String>,
    pub directive: u32,
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
                    "context" => contexts(req),
                    // Paths: let the shell complete file names.
                    "kubeconfig" | "filenames" => {
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
    let request_timeout = req
        .request_timeout
        .as_deref()
        .and_then(|t| crate::util::duration::parse_timeout(t).ok().flatten())
        .unwrap_or(CLUSTER_BUDGET);
    Cluster::connect(&ConnectOptions {
        kubeconfig: req.kubeconfig.clone(),
        context: req.context.clone(),
        request_timeout: Some(request_timeout),
    })
    .await
    .ok()
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

/// Context names from the kubeconfig the command would read (no request to a cluster).
fn contexts(req: &Request) -> Vec<String> {
    let config = match &req.kubeconfig {
        Some(path) => kube::config::Kubeconfig::read_from(path),
        None => kube::config::Kubeconfig::read(),
    };
    config
        .map(|c| c.contexts.into_iter().map(|c| c.name).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(words: &[&str]) -> Request {
        let mut root = Cli::command();
        root.build();
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        analyse(&root, &words)
    }

    #[test]
    fn walks_flags_and_values_like_the_parser() {
        let r = req(&["-n", "shop", "status", "--context=prod", "-o", "wide", ""]);
        assert_eq!(r.path, ["status"]);
        assert_eq!(r.namespace.as_deref(), Some("shop"));
        assert_eq!(r.context.as_deref(), Some("prod"));
        assert_eq!(
            r.want,
            Want::Positional {
                value_name: "TARGET".into()
            }
        );

        let r = req(&["status", "-nshop", "-o", ""]);
        assert_eq!(r.namespace.as_deref(), Some("shop"));
        assert!(matches!(r.want, Want::FlagValue { ref id, .. } if id == "output"));
        assert_eq!(r.values, ["wide", "json", "yaml"]);

        let r = req(&["explain", "--output=j"]);
        assert_eq!(
            r.want,
            Want::FlagValue {
                id: "output".into(),
                lead: "--output=".into()
            }
        );
        assert_eq!(r.prefix, "j");

        assert_eq!(req(&["st"]).want, Want::Subcommand);
        assert_eq!(req(&["status", "--wat"]).want, Want::Flag);
        assert_eq!(req(&["version", ""]).want, Want::Nothing);
    }

    #[test]
    fn unfinished_words_get_no_space() {
        let a = Answer::of(["deploy/".to_string(), "ds/".to_string()], "d");
        assert_eq!(a.directive, directive::NO_FILE_COMP | directive::NO_SPACE);
        let a = Answer::of(["db-0".to_string(), "deploy/".to_string()], "d");
        assert_eq!(a.directive, directive::NO_FILE_COMP);
    }
}
