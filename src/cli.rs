//! The command line, as clap sees it. Nothing here talks to a cluster; `context` turns these
//! raw flags into a resolved scope.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Init containers, made visible: where every pod is in its init sequence, and why.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-initctl",
    bin_name = "kubectl initctl",
    version = crate::version::LONG,
    propagate_version = true,
    disable_help_subcommand = true,
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
    /// How long to wait for a single server request: "0" (no limit), "30", "30s", "1m", "2h".
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
    /// Print the version and the git commit it was built from.
    Version,
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
