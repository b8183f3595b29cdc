//! The flag groups commands share, each under its own help heading (see the top of
//! definition.rs for how a command takes them), and `GlobalOpts`, what `Session` reads of them.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// The shared flags as `Session` reads them: the groups of the command that ran, every group it
/// does not have at its default.
#[derive(Debug, Clone, Default)]
pub struct GlobalOpts {
    pub connection: ConnectionFlags,
    pub namespace: NamespaceFlag,
    pub selection: SelectionFlags,
    pub offline: OfflineFlags,
    pub color: ColorFlag,
    pub headers: HeadersFlag,
}

/// How to reach and authenticate to the cluster: kubectl's generic options, with their names
/// and precedence (client-go's ClientConfig; see docs/connection.md).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Connection")]
pub struct ConnectionFlags {
    /// Path to the kubeconfig file to use (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The name of the kubeconfig context to use.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// The name of the kubeconfig cluster to use.
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The name of the kubeconfig user to use.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// The address and port of the Kubernetes API server.
    #[arg(short = 's', long, value_name = "URL")]
    pub server: Option<String>,
    /// Bearer token for authentication to the API server.
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Username to impersonate for the operation (a user or a service account).
    #[arg(long = "as", value_name = "USER")]
    pub as_user: Option<String>,
    /// Group to impersonate for the operation; repeat it to name several groups.
    #[arg(long = "as-group", value_name = "GROUP")]
    pub as_group: Vec<String>,
    /// UID to impersonate for the operation.
    #[arg(long = "as-uid", value_name = "UID")]
    pub as_uid: Option<String>,
    /// Path to a cert file for the certificate authority.
    #[arg(long, value_name = "PATH")]
    pub certificate_authority: Option<PathBuf>,
    /// Path to a client certificate file for TLS.
    #[arg(long, value_name = "PATH")]
    pub client_certificate: Option<PathBuf>,
    /// Path to a client key file for TLS.
    #[arg(long, value_name = "PATH")]
    pub client_key: Option<PathBuf>,
    /// Don't check the server's certificate (insecure: HTTPS connections can be intercepted).
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// Server name to use for server certificate validation (default: the server's hostname).
    #[arg(long, value_name = "NAME")]
    pub tls_server_name: Option<String>,
    /// How long to wait for a whole server request, body included: "30", "30s", "1m", "2h". "0"
    /// (the default) means no overall limit, but a server silent for 60 s is given up on.
    #[arg(long, value_name = "DURATION")]
    pub request_timeout: Option<String>,
    /// Log level for requests, as kubectl's -v: 6 prints one line per request to stderr, 8 adds
    /// the request and response headers (credentials masked).
    #[arg(short = 'v', long = "v", value_name = "N", default_value_t = 0)]
    pub verbosity: u8,
}

/// `-n`: the one namespace a command works in.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Scope")]
pub struct NamespaceFlag {
    /// Namespace scope (default: the context's namespace, else "default").
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
}

/// Which pods a listing command looks at, beyond its targets.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Scope")]
pub struct SelectionFlags {
    /// List across all namespaces.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Label selector to filter on, e.g. -l app=web,tier!=cache.
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Field selector to filter on, e.g. --field-selector status.phase=Pending.
    #[arg(long, value_name = "SELECTOR")]
    pub field_selector: Option<String>,
}

/// Reading objects from files instead of a cluster, and what applies only then.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Offline input")]
pub struct OfflineFlags {
    /// Read objects from a YAML/JSON file instead of a cluster ("-" for stdin). Repeatable.
    /// (The connection flags do not apply then: clap refuses them together. A command with
    /// this group must flatten [`ConnectionFlags`] too, whose group id this names.)
    #[arg(
        short = 'f',
        long = "filename",
        value_name = "FILE",
        conflicts_with = "ConnectionFlags"
    )]
    pub filenames: Vec<PathBuf>,
    /// With -f: measure ages and "stuck for" as of TIME (RFC 3339, e.g. 2026-11-27T10:04:00Z),
    /// or "now". Default: the newest time in the input, so a dump reads as when it was taken.
    #[arg(long, value_name = "TIME", requires = "filenames", conflicts_with = "ConnectionFlags",
        value_parser = parse_as_of)]
    pub as_of: Option<AsOf>,
}

#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Output")]
pub struct ColorFlag {
    /// When to use colours: auto (only on a terminal, never with NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
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

#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Output")]
pub struct HeadersFlag {
    /// Don't print column headers.
    #[arg(long)]
    pub no_headers: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}
