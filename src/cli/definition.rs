//! The command line, as clap sees it. Nothing here talks to a cluster; `session` turns these
//! raw flags into a resolved scope.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Init containers, made visible: where every pod is in its init sequence, and why.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-initctl",
    bin_name = "kubectl initctl",
    version = crate::util::version::LONG,
    propagate_version = true,
    after_help = "Examples:\n  kubectl initctl status -n shop\n  kubectl initctl status deploy/orders -o wide\n  kubectl initctl status -f examples/cluster-dump.yaml"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags shared by every command, with kubectl's names and meanings.
#[derive(Debug, Clone, Args)]
pub struct GlobalOpts {
    /// Path to the kubeconfig file to use (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The name of the kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Namespace scope (default: the context's namespace, else "default").
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// List across all namespaces.
    #[arg(short = 'A', long, global = true)]
    pub all_namespaces: bool,
    /// Label selector to filter on, e.g. -l app=web,tier!=cache.
    #[arg(short = 'l', long, global = true, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Field selector to filter on, e.g. --field-selector status.phase=Pending.
    #[arg(long, global = true, value_name = "SELECTOR")]
    pub field_selector: Option<String>,
    /// How long to wait for a whole server request, body included: "30", "30s", "1m", "2h". "0"
    /// (the default) means no overall limit, but a server silent for 60 s is given up on.
    #[arg(long, global = true, value_name = "DURATION", default_value = "0")]
    pub request_timeout: String,
    /// Read objects from a YAML/JSON file instead of a cluster ("-" for stdin). Repeatable.
    #[arg(short = 'f', long = "filename", global = true, value_name = "FILE")]
    pub filenames: Vec<PathBuf>,
    /// Don't print column headers.
    #[arg(long, global = true)]
    pub no_headers: bool,
    /// When to use colours: auto (only on a terminal, never with NO_COLOR), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// With -f: measure ages and "stuck for" as of TIME (RFC 3339, e.g. 2026-11-27T10:04:00Z),
    /// or "now". Default: the newest time in the input, so a dump reads as when it was taken.
    #[arg(long, global = true, value_name = "TIME", requires = "filenames", value_parser = parse_as_of)]
    pub as_of: Option<AsOf>,
}

/// `--as-of`: the clock offline ages are read against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    Now,
    Time(k8s_openapi::jiff::Timestamp),
}

fn parse_as_of(text: &str) -> Result<AsOf, String> {
    if text == "now" {
        return Ok(AsOf::Now);
    }
    text.parse().map(AsOf::Time).map_err(|_| {
        "expected an RFC 3339 time such as 2026-11-27T10:04:00Z, or \"now\"".to_string()
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
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
    #[command(flatten)]
    pub change: ChangeOpts,
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
    #[command(flatten)]
    pub change: ChangeOpts,
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

  # Offline, from a dump made with kubectl get pods -o yaml
  kubectl initctl status -f examples/cluster-dump.yaml";

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// Pods (NAME or pod/NAME) or workloads (deploy/NAME, sts/NAME, ds/NAME, rs/NAME, job/NAME, cronjob/NAME).
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Output format: wide (one line per init container), json or yaml.
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<StatusOutput>,
    /// Same as -o wide.
    #[arg(long)]
    pub containers: bool,
    /// After listing, keep watching for changes.
    #[arg(short = 'w', long)]
    pub watch: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusOutput {
    Wide,
    Json,
    Yaml,
}
