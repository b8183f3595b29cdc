//! The command line, as clap sees it. Nothing here talks to a cluster; `session` turns these
//! raw flags into a resolved scope.
//!
//! How flags are placed (add yours the same way):
//! - A command has exactly the flags that apply to it; a flag it does not take is a usage error
//!   (exit 2), never silently ignored. So nothing here is `global = true`.
//! - Flags every cluster-reading command shares live in groups, one `Args` struct each, under
//!   their own help heading: [`ConnectionFlags`] ("Connection": kubeconfig, credentials, TLS,
//!   --request-timeout, -v), [`NamespaceFlag`] and [`SelectionFlags`] ("Scope"),
//!   [`OfflineFlags`] ("Offline input": -f and what only applies to it), [`ColorFlag`] and
//!   [`HeadersFlag`] ("Output"). A command's args struct flattens the groups it uses;
//!   its own flags (`-o`, `--watch`, `--tail`…) are fields of that struct.
//! - A new shared flag goes into its group (every command with the group gets it); a new group
//!   is a new struct with `next_help_heading`, a field in [`GlobalOpts`], and a line in
//!   [`Command::global_opts`] for each command that flattens it.
//! - A new command: its args struct flattens its groups, and [`Command::global_opts`] gets an
//!   arm that copies them into the [`GlobalOpts`] `Session` reads (the rest stay default).
//! - Flags typed before the command name (`kubectl initctl -n shop status`) are moved behind it
//!   by [`Cli::parse_args`] (cli/hoist.rs), so they are checked against that command too.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::cli::flags::*;

/// Init containers, made visible: where every pod is in its init sequence, and why.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-initctl",
    bin_name = "kubectl initctl",
    version = crate::util::version::LONG,
    propagate_version = true,
    after_help = "Each command takes the flags that apply to it (kubectl's connection flags, -n, -A, -l, -o …),\nlisted by `kubectl initctl help COMMAND`.\n\nExamples:\n  kubectl initctl status -n shop\n  kubectl initctl status deploy/orders -o wide\n  kubectl initctl status -f examples/cluster-dump.yaml"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show where every pod is in its init sequence.
    #[command(after_help = STATUS_EXAMPLES)]
    Status(StatusArgs),
    /// Explain why pods are stuck in Pending or Init, with evidence and a next step.
    #[command(after_help = EXPLAIN_EXAMPLES)]
    Explain(ExplainArgs),
    /// Edit a pod like kubectl edit, guarded: refused changes never reach the server, and a
    /// changed init image is made to run.
    #[command(after_help = EDIT_EXAMPLES)]
    Edit(EditArgs),
    /// Re-run a pod's init containers: recreate a bare pod safely, delete an owned pod, or
    /// roll a workload.
    #[command(after_help = RESTART_EXAMPLES)]
    Restart(RestartArgs),
    /// Show the init containers' logs in order, each under a header saying how it ended.
    #[command(after_help = LOGS_EXAMPLES)]
    Logs(LogsArgs),
    /// Show where a pod's startup time went: each step on a shared time axis.
    #[command(after_help = TIMELINE_EXAMPLES)]
    Timeline(TimelineArgs),
    /// Classify the change between two pod manifests as edit would (exit 0 allowed, 3 refused).
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Print the version and the git commit it was built from.
    #[command(after_help = "Examples:\n  kubectl initctl version")]
    Version,
    /// Print a shell completion script for kubectl-initctl.
    #[command(after_help = COMPLETION_EXAMPLES)]
    Completion(CompletionArgs),
    /// Completion candidates in cobra's `__complete` format, for the kubectl_complete-initctl
    /// helper that kubectl (>= 1.26) runs to complete plugin arguments. Called as
    /// `__complete -- WORDS…`: after `--` no typed word is taken for one of our global flags.
    #[command(name = "__complete", hide = true, disable_help_flag = true)]
    Complete(CompleteArgs),
    /// Render the man pages from this definition (docs/man is regenerated with this).
    #[command(name = "__man", hide = true)]
    Man(ManArgs),
}

impl Command {
    /// The shared flags of this command for `Session`: the groups it flattens, every other group
    /// at its default (a command without a group never sees one of its flags: clap refused it).
    pub fn global_opts(&self) -> GlobalOpts {
        match self {
            Command::Status(a) => GlobalOpts {
                connection: a.connection.clone(),
                namespace: a.namespace.clone(),
                selection: a.selection.clone(),
                offline: a.offline.clone(),
                color: a.color.clone(),
                headers: a.headers.clone(),
            },
            Command::Explain(a) => GlobalOpts {
                connection: a.connection.clone(),
                namespace: a.namespace.clone(),
                selection: a.selection.clone(),
                offline: a.offline.clone(),
                color: a.color.clone(),
                ..GlobalOpts::default()
            },
            Command::Edit(EditArgs {
                connection,
                namespace,
                color,
                ..
            })
            | Command::Restart(RestartArgs {
                connection,
                namespace,
                color,
                ..
            }) => GlobalOpts {
                connection: connection.clone(),
                namespace: namespace.clone(),
                color: color.clone(),
                ..GlobalOpts::default()
            },
            Command::Logs(a) => GlobalOpts {
                connection: a.connection.clone(),
                namespace: a.namespace.clone(),
                color: a.color.clone(),
                ..GlobalOpts::default()
            },
            Command::Timeline(a) => GlobalOpts {
                connection: a.connection.clone(),
                namespace: a.namespace.clone(),
                offline: a.offline.clone(),
                color: a.color.clone(),
                ..GlobalOpts::default()
            },
            Command::Check(a) => GlobalOpts {
                color: a.color.clone(),
                ..GlobalOpts::default()
            },
            Command::Version | Command::Completion(_) | Command::Complete(_) | Command::Man(_) => {
                GlobalOpts::default()
            }
        }
    }
}

const EDIT_EXAMPLES: &str = "Examples:
  # Edit in $KUBE_EDITOR / $EDITOR; an init image change is applied and made to run
  kubectl initctl edit myapp-pod

  # See the classification, diff and plan without changing anything
  kubectl initctl edit myapp-pod --dry-run

  # Apply without asking, then follow the new pod until it is Ready
  kubectl initctl edit myapp-pod --yes --wait";

const RESTART_EXAMPLES: &str = "Examples:
  # A bare pod: back it up, delete it, create it again (its init containers run again)
  kubectl initctl restart myapp-pod --wait

  # A Deployment-owned pod: delete it and let the controller recreate it
  kubectl initctl restart orders-7d9c8b6f5-x2x9q

  # Every pod of a workload, as kubectl rollout restart
  kubectl initctl restart deploy/orders --yes";

const CHECK_EXAMPLES: &str = "Examples:
  # In CI: fail when a pod manifest change would be refused by the API server
  kubectl initctl check live-pod.yaml edited-pod.yaml

  # Against the live pod
  kubectl get pod myapp-pod -o yaml | kubectl initctl check - edited.yaml";

/// How long a change may wait by default (--timeout).
pub const DEFAULT_TIMEOUT: &str = "5m";

/// Flags shared by commands that change pods.
#[derive(Debug, Clone, Args)]
pub struct ChangeOpts {
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Show what would be done, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Follow the new pod(s) until they are Ready (or fail, or --timeout passes).
    #[arg(long)]
    pub wait: bool,
    /// How long --wait (and waiting for a deleted pod to go) may take, e.g. 90s, 5m.
    #[arg(long, value_name = "DURATION", default_value = DEFAULT_TIMEOUT)]
    pub timeout: String,
    /// Recreate the pod on the same node (keep spec.nodeName).
    #[arg(long)]
    pub keep_node: bool,
}

#[derive(Debug, Clone, Args)]
pub struct EditArgs {
    /// The pod: NAME or pod/NAME.
    #[arg(value_name = "POD")]
    pub target: String,
    /// The format to edit in.
    #[arg(short = 'o', long, value_enum, default_value_t = EditFormat::Yaml)]
    pub output: EditFormat,
    /// When to restart after an init image change: auto (only where the new image would not
    /// run otherwise), always, never.
    #[arg(long, value_enum, default_value_t = crate::change::plan::RestartMode::Auto)]
    pub restart: crate::change::plan::RestartMode,
    /// Write the file for the editor with CRLF line endings (as kubectl, the default on
    /// Windows; `--windows-line-endings=false` turns it off).
    #[arg(long, num_args = 0..=1, default_value_t = cfg!(windows), default_missing_value = "true",
        action = clap::ArgAction::Set, value_name = "BOOL")]
    pub windows_line_endings: bool,
    #[command(flatten)]
    pub change: ChangeOpts,
    #[command(flatten)]
    pub namespace: NamespaceFlag,
    #[command(flatten)]
    pub connection: ConnectionFlags,
    #[command(flatten)]
    pub color: ColorFlag,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EditFormat {
    Yaml,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct RestartArgs {
    /// A pod (NAME, pod/NAME) or a workload (deploy/NAME, sts/NAME, ds/NAME, rs/NAME, rc/NAME).
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Recreate the bare pod TARGET from this manifest (a file, or - for stdin), e.g. the copy
    /// a refused edit kept: the diff against the live pod is shown, then the safe recreate.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    #[command(flatten)]
    pub change: ChangeOpts,
    #[command(flatten)]
    pub namespace: NamespaceFlag,
    #[command(flatten)]
    pub connection: ConnectionFlags,
    #[command(flatten)]
    pub color: ColorFlag,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The pod as it is (a file, or - for stdin).
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The pod as edited (a file, or - for stdin).
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// When to restart after an init image change, for the plan (as edit --restart).
    #[arg(long, value_enum, default_value_t = crate::change::plan::RestartMode::Auto)]
    pub restart: crate::change::plan::RestartMode,
    /// The verdict as a document: json or yaml (default: readable text).
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<DocumentOutput>,
    #[command(flatten)]
    pub color: ColorFlag,
}

const COMPLETION_EXAMPLES: &str = "Examples:
  # bash: completion for kubectl-initctl in this shell
  source <(kubectl initctl completion bash)

  # zsh: install once (any directory on $fpath)
  kubectl initctl completion zsh > \"${fpath[1]}/_kubectl-initctl\"

  # fish
  kubectl initctl completion fish > ~/.config/fish/completions/kubectl-initctl.fish

  # PowerShell
  kubectl initctl completion powershell | Out-String | Invoke-Expression

`kubectl initctl <TAB>` itself is completed by kubectl (>= 1.26) through the
kubectl_complete-initctl helper shipped in the release archive; see docs/install.md.";

#[derive(Debug, Clone, Args)]
pub struct CompletionArgs {
    /// The shell to print the script for.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Clone, Args)]
pub struct CompleteArgs {
    /// The words after `kubectl initctl`, the last one being the word under the cursor
    /// (empty when a new word is started). Taken verbatim: flags in them are not parsed here.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub words: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// Write kubectl-initctl.1 and one page per command into DIR (default: the main page to stdout).
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

const EXPLAIN_EXAMPLES: &str = "Examples:
  # Every pod in the namespace that is not Running and Ready
  kubectl initctl explain

  # The whole cluster: a summary, then one group per owner and cause (--no-group: every pod)
  kubectl initctl explain -A

  # One pod, with the last 20 log lines of the failing init container
  kubectl initctl explain myapp-pod --tail 20

  # As data, for scripts and alerts
  kubectl initctl explain deploy/orders -o json

  # Offline, from a dump of pods, events, services and endpointslices
  kubectl initctl explain -f examples/cluster-dump.yaml";

#[derive(Debug, Clone, Args)]
pub struct ExplainArgs {
    /// Pods (NAME or pod/NAME) or workloads (deploy/NAME, sts/NAME, ds/NAME, rs/NAME, job/NAME, cronjob/NAME).
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Output format: json or yaml (default: readable text).
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<DocumentOutput>,
    /// Log lines to quote from a failing or waiting init container.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub tail: u32,
    /// Explain every pod in full, instead of one group per owner and cause (and read every
    /// such pod's log, not one per group).
    #[arg(long)]
    pub no_group: bool,
    #[command(flatten)]
    pub namespace: NamespaceFlag,
    #[command(flatten)]
    pub selection: SelectionFlags,
    #[command(flatten)]
    pub offline: OfflineFlags,
    #[command(flatten)]
    pub connection: ConnectionFlags,
    #[command(flatten)]
    pub color: ColorFlag,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocumentOutput {
    Json,
    Yaml,
}

const STATUS_EXAMPLES: &str = "Examples:
  # Every pod in the current namespace
  kubectl initctl status

  # One line per init container, with durations and image drift
  kubectl initctl status myapp-pod -o wide

  # The pods of a Deployment, kept current as they change
  kubectl initctl status deploy/orders -w

  # Only the pods explain would explain, most restarts last
  kubectl initctl status -A --stuck --sort-by '{.restarts}'

  # Columns of your own, or a template, over the -o json items (kubectl's syntax)
  kubectl initctl status -o custom-columns='NAME:.name,CURRENT:.init.current'
  kubectl initctl status -o jsonpath='{range .items[*]}{.name}{\"\\t\"}{.status}{\"\\n\"}{end}'

  # Offline, from a dump made with kubectl get pods -o yaml
  kubectl initctl status -f examples/cluster-dump.yaml";

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// Pods (NAME or pod/NAME) or workloads (deploy/NAME, sts/NAME, ds/NAME, rs/NAME, job/NAME, cronjob/NAME).
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Output format: wide (one line per init container), json, yaml, name,
    /// jsonpath=TEMPLATE, jsonpath-as-json=TEMPLATE or custom-columns=HEADER:PATH,… (kubectl's
    /// syntax, over the items of the json document).
    #[arg(short = 'o', long, value_parser = StatusOutputParser, value_name = "FORMAT")]
    pub output: Option<StatusOutput>,
    /// Same as -o wide.
    #[arg(long)]
    pub containers: bool,
    /// After listing, keep watching for changes.
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// With --watch, add an EVENT column (ADDED, MODIFIED, DELETED), as kubectl does.
    #[arg(long)]
    pub output_watch_events: bool,
    /// Sort by a field of the json document's items, as kubectl: {.restarts}, {.name}, {.age}…
    #[arg(long, value_name = "JSONPATH")]
    pub sort_by: Option<String>,
    /// Only the pods explain would explain: not Running-and-Ready, not Succeeded, or with init
    /// image drift.
    #[arg(long)]
    pub stuck: bool,
    #[command(flatten)]
    pub namespace: NamespaceFlag,
    #[command(flatten)]
    pub selection: SelectionFlags,
    #[command(flatten)]
    pub offline: OfflineFlags,
    #[command(flatten)]
    pub connection: ConnectionFlags,
    #[command(flatten)]
    pub color: ColorFlag,
    #[command(flatten)]
    pub headers: HeadersFlag,
}

/// `status -o`: kubectl's printers over the `initctl/v1 InitStatusList` document. Templates are
/// kept as text here and parsed by the command, so a bad one is an input error (exit 1, as kubectl).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusOutput {
    Wide,
    Json,
    Yaml,
    Name,
    JsonPath(String),
    JsonPathAsJson(String),
    CustomColumns(String),
}

#[derive(Debug, Clone, Copy)]
pub struct StatusOutputParser;

impl clap::builder::TypedValueParser for StatusOutputParser {
    type Value = StatusOutput;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<StatusOutput, clap::Error> {
        let text = value.to_string_lossy();
        let template = |prefix: &str| text.strip_prefix(prefix).map(str::to_string);
        Ok(match text.as_ref() {
            "wide" => StatusOutput::Wide,
            "json" => StatusOutput::Json,
            "yaml" => StatusOutput::Yaml,
            "name" => StatusOutput::Name,
            _ => {
                if let Some(t) = template("jsonpath=") {
                    StatusOutput::JsonPath(t)
                } else if let Some(t) = template("jsonpath-as-json=") {
                    StatusOutput::JsonPathAsJson(t)
                } else if let Some(t) = template("custom-columns=") {
                    StatusOutput::CustomColumns(t)
                } else {
                    let formats =
                        "wide, json, yaml, name, jsonpath=, jsonpath-as-json=, custom-columns=";
                    return Err(clap::Error::raw(
                        clap::error::ErrorKind::InvalidValue,
                        format!("unknown output format {text:?}; expected one of: {formats}\n"),
                    )
                    .with_cmd(cmd));
                }
            }
        })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let values = [
            "wide",
            "json",
            "yaml",
            "name",
            "jsonpath=",
            "jsonpath-as-json=",
            "custom-columns=",
        ];
        Some(Box::new(
            values.into_iter().map(clap::builder::PossibleValue::new),
        ))
    }
}

// `logs` and `timeline` (issue 12, items 4 and 5): their own args structs, one block.

const LOGS_EXAMPLES: &str = "Examples:
  # Every init container's log, in order, under a header saying how each ended
  kubectl initctl logs myapp-pod

  # Follow the running init container, then the next ones, until init completes
  kubectl initctl logs myapp-pod -f

  # The pod of a Deployment that is stuck in init, the previous run of one container
  kubectl initctl logs deploy/orders init-migrate --previous";

#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// A pod (NAME, pod/NAME) or a workload (deploy/NAME, sts/NAME…: its pod stuck in init, else
    /// the newest).
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Only this container (an init container, or any container of the pod).
    #[arg(value_name = "INIT_CONTAINER")]
    pub container: Option<String>,
    /// Follow the running init container, then each next one as the pod progresses.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Continue into the app containers after the init containers.
    #[arg(long)]
    pub all_containers: bool,
    /// The log of the previous (last terminated) instance of each container.
    #[arg(short = 'p', long, conflicts_with = "follow")]
    pub previous: bool,
    /// Lines of recent log to show per container (-1: all).
    #[arg(long, value_name = "N", default_value_t = -1, allow_negative_numbers = true)]
    pub tail: i64,
    /// Only lines newer than this duration, e.g. 10s, 5m, 1h (kubectl's syntax).
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// Prefix each line with its RFC 3339 timestamp.
    #[arg(long)]
    pub timestamps: bool,
    #[command(flatten)]
    pub namespace: NamespaceFlag,
    #[command(flatten)]
    pub connection: ConnectionFlags,
    #[command(flatten)]
    pub color: ColorFlag,
}

const TIMELINE_EXAMPLES: &str = "Examples:
  # Where did this pod's startup time go?
  kubectl initctl timeline myapp-pod

  # Every pod of a Deployment: p50 / p95 / max per step
  kubectl initctl timeline deploy/orders

  # Offline, from a dump with the pod and its events
  kubectl initctl timeline myapp-pod -f dump.yaml -o json";

#[derive(Debug, Clone, Args)]
pub struct TimelineArgs {
    /// A pod (NAME, pod/NAME) or a workload (deploy/NAME, sts/NAME, ds/NAME, rs/NAME, job/NAME, cronjob/NAME).
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Output format: json or yaml (default: the picture).
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<DocumentOutput>,
    #[command(flatten)]
    pub namespace: NamespaceFlag,
    #[command(flatten)]
    pub offline: OfflineFlags,
    #[command(flatten)]
    pub connection: ConnectionFlags,
    #[command(flatten)]
    pub color: ColorFlag,
}
