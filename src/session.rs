//! Global flags resolved once: where objects come from (a cluster, or -f files), the namespace
//! scope, selectors, the clock and colours. Commands receive this and never read flags or the
//! environment themselves.

use std::io::{Read, Write};

use k8s_openapi::jiff::Timestamp;

use crate::cli::{AsOf, ColorChoice, ConnectionFlags, GlobalOpts};
use crate::cluster::{Cluster, ConnectOptions, Overrides};
use crate::error::{Error, Result};
use crate::input::manifest::Inventory;
use crate::input::pod_json::PodView;
use crate::input::selector::{FieldSelector, Selector};
use crate::render::Palette;

/// What `main` knows about the process's surroundings.
#[derive(Debug, Clone)]
pub struct Environment {
    pub now: Timestamp,
    pub stdout_is_terminal: bool,
    /// NO_COLOR is set to a non-empty value.
    pub no_color: bool,
    /// Prompts need a terminal on both ends.
    pub interactive: bool,
    /// The first non-empty of KUBE_EDITOR and EDITOR.
    pub editor: Option<String>,
    /// $SHELL, for editors that must run through a shell.
    pub shell: Option<String>,
    /// Where backups go: $XDG_STATE_HOME/kubectl-initctl, else ~/.local/state/kubectl-initctl.
    pub state_dir: Option<std::path::PathBuf>,
    /// Width for pictures (`timeline`): the terminal's, else $COLUMNS, else 80.
    pub columns: usize,
    /// The locale is UTF-8 (LC_ALL, else LC_CTYPE, else LANG): block characters print.
    pub unicode: bool,
}

pub enum Source {
    Cluster(Cluster),
    Offline(Inventory),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Namespaces {
    All,
    One(String),
    /// Offline input without -n: whatever namespaces the files hold.
    AsInFiles,
}

impl Namespaces {
    pub fn single(&self) -> Option<&str> {
        match self {
            Namespaces::One(ns) => Some(ns),
            _ => None,
        }
    }
}

/// Colours from `--color`, the terminal and NO_COLOR; also for commands that need no session.
pub fn palette(global: &GlobalOpts, env: &Environment) -> Palette {
    let enabled = match global.color.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => env.stdout_is_terminal && !env.no_color,
    };
    Palette { enabled }
}

pub struct Session {
    pub source: Source,
    pub namespaces: Namespaces,
    /// `-l`, parsed; `None` when absent or empty.
    pub labels: Option<Selector>,
    /// `--field-selector`, parsed; `None` when absent or empty.
    pub fields: Option<FieldSelector>,
    /// What ages are measured against: the wall clock with a cluster; offline, `--as-of`, else
    /// the newest time in the input (see [`offline_clock`]).
    pub now: Timestamp,
    /// Said once on stderr when the input chose the clock.
    pub clock_note: Option<String>,
    pub palette: Palette,
    pub headers: bool,
}

/// The environment variable that pins the clock (RFC 3339), for tests and documentation.
pub const PINNED_CLOCK_ENV: &str = "KUBECTL_INITCTL_NOW";

impl Session {
    /// `listing`: the view the command first lists its pods in (offline, `Rows` lets a JSON
    /// file be read once: `Inventory::load`).
    pub async fn new(
        global: &GlobalOpts,
        env: &Environment,
        stdin: &mut dyn Read,
        listing: PodView,
    ) -> Result<Session> {
        let explicit = if global.selection.all_namespaces {
            Some(Namespaces::All)
        } else {
            global.namespace.namespace.clone().map(Namespaces::One)
        };
        let mut now = env.now;
        let mut clock_note = None;
        let (source, namespaces) = if global.offline.filenames.is_empty() {
            let cluster = Cluster::connect(&connect_options(&global.connection)?).await?;
            let namespaces = explicit
                .unwrap_or_else(|| Namespaces::One(cluster.default_namespace().to_string()));
            (Source::Cluster(cluster), namespaces)
        } else {
            let inventory = Inventory::load(&global.offline.filenames, stdin, listing)?;
            (now, clock_note) = offline_clock(global.offline.as_of, env.now, inventory.newest());
            (
                Source::Offline(inventory),
                explicit.unwrap_or(Namespaces::AsInFiles),
            )
        };
        let labels = parse_unless_empty(global.selection.selector.as_deref(), Selector::parse)?;
        let fields = parse_unless_empty(
            global.selection.field_selector.as_deref(),
            FieldSelector::parse,
        )?;
        Ok(Session {
            source,
            namespaces,
            labels,
            fields,
            now,
            clock_note,
            palette: palette(global, env),
            headers: !global.headers.no_headers,
        })
    }
}

/// The connection flags as the cluster layer takes them.
pub(crate) fn connect_options(flags: &ConnectionFlags) -> Result<ConnectOptions> {
    let path = |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.display().to_string());
    let request_timeout = match &flags.request_timeout {
        Some(text) => crate::util::duration::parse_timeout(text)?,
        None => None,
    };
    Ok(ConnectOptions {
        kubeconfig: flags.kubeconfig.clone(),
        context: flags.context.clone(),
        overrides: Overrides {
            cluster: flags.cluster.clone(),
            user: flags.user.clone(),
            server: flags.server.clone(),
            token: flags.token.clone(),
            impersonate: flags.as_user.clone(),
            impersonate_groups: flags.as_group.clone(),
            impersonate_uid: flags.as_uid.clone(),
            certificate_authority: path(&flags.certificate_authority),
            client_certificate: path(&flags.client_certificate),
            client_key: path(&flags.client_key),
            insecure_skip_tls_verify: flags.insecure_skip_tls_verify,
            tls_server_name: flags.tls_server_name.clone(),
        },
        request_timeout,
        verbosity: flags.verbosity,
    })
}

impl Session {
    /// The note that says what offline ages are measured against, when the input chose it.
    pub fn write_clock_note(&self, err: &mut dyn Write) -> Result<()> {
        match &self.clock_note {
            Some(note) => writeln!(err, "note: {note}").map_err(Error::Output),
            None => Ok(()),
        }
    }
}

/// The clock of offline input, and the note that says so: `--as-of TIME|now` as given; else
/// the pinned clock ([`PINNED_CLOCK_ENV`], which stands for an `--as-of`); else the newest time
/// in the input, so that a dump reads as it did when it was taken; else (no times at all) now.
fn offline_clock(
    as_of: Option<AsOf>,
    now: Timestamp,
    newest: Option<Timestamp>,
) -> (Timestamp, Option<String>) {
    let pinned = std::env::var(PINNED_CLOCK_ENV)
        .ok()
        .is_some_and(|t| t.parse::<Timestamp>().is_ok());
    match (as_of, newest) {
        (Some(AsOf::Time(time)), _) => (time, None),
        (Some(AsOf::Now), _) => (now, None),
        (None, _) if pinned => (now, None),
        (None, Some(newest)) => (
            newest,
            Some(format!(
                "ages are as of {newest}, the newest time in the input; --as-of now for the current time"
            )),
        ),
        (None, None) => (now, None),
    }
}

/// A selector flag, parsed; an empty one (which always parses) is no selector.
fn parse_unless_empty<T>(
    text: Option<&str>,
    parse: impl Fn(&str) -> Result<T>,
) -> Result<Option<T>> {
    text.filter(|t| !t.is_empty()).map(parse).transpose()
}
