//! Connecting: the kubeconfig read as kubectl reads it (every file named in its errors,
//! scheme-less servers completed as client-go completes them), the client built with its
//! bounds, and an exec credential plugin that can neither hold the command forever nor hide why
//! it failed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::Client;
use kube::config::{Config, KubeConfigOptions, Kubeconfig, KubeconfigError};

use crate::cluster::client::ConnectOptions;
use crate::cluster::gzip::HandOffLayer;
use crate::cluster::overrides;
use crate::cluster::request_log::RequestLogLayer;
use crate::error::{Error, Result};
use crate::util::sanitize;

/// How long a request may go without receiving a byte when no `--request-timeout` is given.
pub(crate) const DEFAULT_IDLE: Duration = Duration::from_secs(60);

/// Overrides [`DEFAULT_IDLE`] (a duration as `--request-timeout` takes it); the tests use it to
/// exercise the bound in seconds rather than minutes.
pub(crate) const IDLE_ENV: &str = "KUBECTL_INITCTL_IDLE_TIMEOUT";

/// What bounds every request of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    /// `--request-timeout`: the whole request, body included.
    Whole(Duration),
    /// No `--request-timeout`: a request that receives nothing for this long ends.
    Idle(Duration),
}

impl Bound {
    pub(crate) fn from_options(opts: &ConnectOptions) -> Bound {
        match opts.request_timeout {
            Some(t) => Bound::Whole(t),
            None => Bound::Idle(idle_from_env().unwrap_or(DEFAULT_IDLE)),
        }
    }

    pub(crate) fn duration(self) -> Duration {
        match self {
            Bound::Whole(d) | Bound::Idle(d) => d,
        }
    }
}

fn idle_from_env() -> Option<Duration> {
    let text = std::env::var(IDLE_ENV).ok()?;
    crate::util::duration::parse_timeout(&text).ok().flatten()
}

/// The client configuration kubectl would use: the kubeconfig (--kubeconfig, else the files of
/// $KUBECONFIG merged, else ~/.kube/config) with the command line's connection flags merged in
/// as client-go merges them; without any kubeconfig, the flags alone (`-s URL --token T`), else
/// the in-cluster service account.
pub(crate) async fn load_config(opts: &ConnectOptions) -> Result<Config> {
    let (kubeconfig, files) = match &opts.kubeconfig {
        Some(path) => (read_file(path)?, vec![path.clone()]),
        None => match read_default()? {
            Some(found) => found,
            // client-go: an empty configuration that the flags do not complete falls back to
            // the in-cluster service account (with a --token replacing its token).
            None if opts.context.is_none() && opts.overrides.server.is_none() => {
                let mut config = Config::incluster().map_err(|_| Error::NoKubeconfig)?;
                if let Some(token) = &opts.overrides.token {
                    config.auth_info.token = Some(token.clone().into());
                    config.auth_info.token_file = None;
                }
                return Ok(config);
            }
            None if opts.overrides.server.is_none() => return Err(Error::NoKubeconfig),
            None => (Kubeconfig::default(), Vec::new()),
        },
    };
    let unusable_files = |why: String| {
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        match files.is_empty() {
            true => Error::Input(format!("cannot connect: {}", line(&why))),
            false => Error::Input(format!(
                "cannot use the kubeconfig {}: {}",
                line(&files.join(", ")),
                line(&why)
            )),
        }
    };
    let kubeconfig = overrides::merged(kubeconfig, opts).map_err(unusable_files)?;
    let kubeconfig = complete_servers(kubeconfig);
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| unusable_files(unusable(e)))?;
    check_server(&config)?;
    defer_trust_roots(&mut config);
    Ok(config)
}

/// With no certificate authority configured, kube's TLS setup reads every certificate of the
/// system's trust store (/etc/ssl/certs: ~150 files) when the client is built. A connection that
/// never verifies a certificate against them does not need them: a plain http:// server (unless
/// reached through an https:// proxy), or insecure-skip-tls-verify (its verifier accepts
/// anything). There an empty root store stands in, and nothing is read.
fn defer_trust_roots(config: &mut Config) {
    let proxy_tls = config
        .proxy_url
        .as_ref()
        .is_some_and(|p| p.scheme_str() == Some("https"));
    let plain_http = config.cluster_url.scheme_str() == Some("http") && !proxy_tls;
    if config.root_cert.is_none() && (plain_http || config.accept_invalid_certs) {
        config.root_cert = Some(Vec::new());
    }
}

/// Why a kubeconfig that was read cannot be used, in kubectl's words where it has them.
fn unusable(e: KubeconfigError) -> String {
    match e {
        KubeconfigError::CurrentContextNotSet => {
            "it sets no current-context; pass --context".into()
        }
        KubeconfigError::LoadContext(name) => format!("context {name:?} does not exist"),
        KubeconfigError::LoadClusterOfContext(name) => {
            format!("the cluster {name:?} of the context does not exist")
        }
        KubeconfigError::MissingClusterUrl => {
            "the context's cluster has no server; pass --server".into()
        }
        KubeconfigError::ParseClusterUrl(err) => {
            format!("the context's cluster server is not a URL ({err})")
        }
        other => Error::Kubeconfig(other).to_string(),
    }
}

/// The files of $KUBECONFIG merged (empty entries skipped), else ~/.kube/config, with the
/// files read; None when none of them exists.
fn read_default() -> Result<Option<(Kubeconfig, Vec<PathBuf>)>> {
    let paths: Vec<PathBuf> = match std::env::var_os("KUBECONFIG") {
        Some(value) => std::env::split_paths(&value)
            .filter(|p| !p.as_os_str().is_empty())
            .collect(),
        None => Vec::new(),
    };
    if paths.is_empty() {
        let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) else {
            return Ok(None);
        };
        let path = PathBuf::from(home).join(".kube/config");
        if !path.exists() {
            return Ok(None);
        }
        return Ok(Some((read_file(&path)?, vec![path])));
    }
    let mut merged: Option<Kubeconfig> = None;
    let mut read = Vec::new();
    for path in paths {
        // kubectl skips files of $KUBECONFIG that do not exist.
        if !path.exists() {
            continue;
        }
        let next = read_file(&path)?;
        merged = Some(match merged {
            None => next,
            Some(m) => m.merge(next).map_err(|e| kubeconfig_error(&path, &e))?,
        });
        read.push(path);
    }
    Ok(merged.map(|m| (m, read)))
}

/// One kubeconfig file; its errors name it, with line:column where the YAML has one.
pub(crate) fn read_file(path: &Path) -> Result<Kubeconfig> {
    Kubeconfig::read_from(path).map_err(|e| match &e {
        KubeconfigError::Parse(_) => {
            let located = std::fs::read_to_string(path)
                .ok()
                .and_then(|text| crate::input::yaml::documents(&text).err());
            match located {
                Some(at) => Error::Input(format!(
                    "{}:{}:{}: the kubeconfig is not valid YAML: {}",
                    path.display(),
                    at.line,
                    at.column,
                    line(&at.message)
                )),
                None => kubeconfig_error(path, &e),
            }
        }
        _ => kubeconfig_error(path, &e),
    })
}

fn kubeconfig_error(path: &Path, e: &KubeconfigError) -> Error {
    let text = match e {
        KubeconfigError::ReadConfig(io, _) => io.to_string(),
        other => other.to_string(),
    };
    Error::Input(format!(
        "cannot use the kubeconfig {}: {}",
        path.display(),
        line(&text)
    ))
}

/// `server: 127.0.0.1:6443` (no scheme) as client-go reads it: https when the cluster has a
/// certificate authority or skips verification, or a context pairs it with a client
/// certificate; http otherwise (DefaultServerURL).
fn complete_servers(mut kubeconfig: Kubeconfig) -> Kubeconfig {
    let cert_users: Vec<String> = kubeconfig
        .auth_infos
        .iter()
        .filter(|u| {
            u.auth_info.as_ref().is_some_and(|a| {
                a.client_certificate.is_some() || a.client_certificate_data.is_some()
            })
        })
        .map(|u| u.name.clone())
        .collect();
    let cert_clusters: Vec<String> = kubeconfig
        .contexts
        .iter()
        .filter_map(|c| c.context.as_ref())
        .filter(|c| c.user.as_ref().is_some_and(|u| cert_users.contains(u)))
        .map(|c| c.cluster.clone())
        .collect();
    for named in &mut kubeconfig.clusters {
        let with_cert = cert_clusters.contains(&named.name);
        let Some(cluster) = named.cluster.as_mut() else {
            continue;
        };
        let Some(server) = cluster.server.as_deref() else {
            continue;
        };
        if server.contains("://") {
            continue;
        }
        let tls = with_cert
            || cluster.certificate_authority.is_some()
            || cluster.certificate_authority_data.is_some()
            || cluster.insecure_skip_tls_verify == Some(true);
        let scheme = if tls { "https" } else { "http" };
        cluster.server = Some(format!("{scheme}://{server}"));
    }
    kubeconfig
}

/// A server the client can send requests to: http(s) with a host. (kube would panic on a URL
/// without scheme or host when it sends the first request.)
fn check_server(config: &Config) -> Result<()> {
    let url = &config.cluster_url;
    let scheme_ok = matches!(url.scheme_str(), Some("http" | "https"));
    if scheme_ok && url.authority().is_some_and(|a| !a.host().is_empty()) {
        return Ok(());
    }
    Err(Error::Input(format!(
        "the kubeconfig's cluster server {:?} is not a usable URL: use https://HOST:PORT",
        line(&url.to_string())
    )))
}

/// Builds the client. An exec credential plugin runs here, synchronously inside kube: then the
/// client is built on its own thread, so that `bound` can stop waiting for the plugin (the
/// thread is left behind and ends with the process). `server` is the server as errors name it
/// (its password already redacted).
pub(crate) async fn build_client(
    mut config: Config,
    bound: Bound,
    server: &str,
    verbosity: u8,
) -> Result<Client> {
    let log = request_layer(&mut config, verbosity, server)?;
    let plugin = config
        .auth_info
        .exec
        .as_ref()
        .and_then(|e| e.command.clone());
    let Some(plugin) = plugin else {
        return client(config, bound, log)
            .map_err(|e| Error::kube("build the API client", server, e));
    };
    let (tx, rx) = futures::channel::oneshot::channel();
    let runtime = tokio::runtime::Handle::current();
    let spawned = std::thread::Builder::new()
        .name("connect".into())
        .spawn(move || {
            let _entered = runtime.enter();
            let _ = tx.send(client(config, bound, log));
        });
    if let Err(e) = spawned {
        return Err(Error::client("build the API client", e));
    }
    let built = match tokio::time::timeout(bound.duration(), rx).await {
        Ok(Ok(built)) => built,
        Ok(Err(_)) => {
            return Err(Error::Input(
                "the API client could not be built from this kubeconfig".into(),
            ));
        }
        Err(_) => {
            return Err(Error::Input(format!(
                "the credential plugin {:?} of the kubeconfig did not finish within {}; {}",
                line(&plugin),
                shown(bound.duration()),
                bound_hint(bound)
            )));
        }
    };
    built.map_err(|e| match e {
        kube::Error::Auth(auth) => plugin_error(&plugin, auth),
        e => Error::kube("build the API client", server, e),
    })
}

/// kube's client with the bound over its whole service stack: the time to an answer, kube's
/// auth layer included (it re-runs an exec plugin when the plugin's token expires).
/// Gzip is negotiated by our own decompression layer, not kube's, so that the answers
/// `read_body` inflates itself pass through it (`cluster::gzip`); a kubeconfig's
/// `disable-compression: true` still turns it off, as in kube and kubectl.
fn client(mut config: Config, bound: Bound, log: RequestLogLayer) -> kube::Result<Client> {
    let gzip = !config.disable_compression;
    config.disable_compression = true;
    let builder = kube::client::ClientBuilder::try_from(config)?;
    let decompression = tower_http::decompression::DecompressionLayer::new()
        .no_br()
        .no_deflate()
        .no_zstd()
        .gzip(gzip);
    Ok(builder
        .with_layer(&HandOffLayer)
        .with_layer(&decompression)
        .with_layer(&tower::timeout::TimeoutLayer::new(bound.duration()))
        .with_layer(&log)
        .build())
}

/// The outermost layer: `-v` logging, and the headers that kube would add below it moved into
/// it, so that `-v 8` shows what is sent: impersonation (--as, --as-group, --as-uid) and a
/// static bearer token (masked in the log). A token from an exec plugin, an auth provider or a
/// token file stays with kube, which refreshes it; it is added below the log and not shown.
fn request_layer(config: &mut Config, verbosity: u8, server: &str) -> Result<RequestLogLayer> {
    let value = |flag: &str, text: &str| {
        http::HeaderValue::from_str(text).map_err(|_| {
            Error::Input(format!(
                "{flag} {:?} cannot be sent in an HTTP header",
                line(text)
            ))
        })
    };
    let auth = &mut config.auth_info;
    let mut headers = Vec::new();
    if let Some(user) = auth.impersonate.take() {
        headers.push((IMPERSONATE_USER, value("--as", &user)?));
    }
    if let Some(uid) = auth.impersonate_uid.take() {
        headers.push((IMPERSONATE_UID, value("--as-uid", &uid)?));
    }
    for group in auth.impersonate_groups.take().unwrap_or_default() {
        headers.push((IMPERSONATE_GROUP, value("--as-group", &group)?));
    }
    let static_token = auth.exec.is_none()
        && auth.auth_provider.is_none()
        && (auth.username.is_none() || auth.password.is_none());
    if static_token && let Some(token) = auth.token.take() {
        use secrecy::ExposeSecret;
        let mut bearer = value("the token", &format!("Bearer {}", token.expose_secret()))
            .map_err(|_| Error::Input("the token cannot be sent in an HTTP header".into()))?;
        bearer.set_sensitive(true);
        headers.push((http::header::AUTHORIZATION, bearer));
    }
    Ok(RequestLogLayer {
        verbosity,
        base: server.to_string(),
        headers,
    })
}

const IMPERSONATE_USER: http::HeaderName = http::HeaderName::from_static("impersonate-user");
const IMPERSONATE_UID: http::HeaderName = http::HeaderName::from_static("impersonate-uid");
const IMPERSONATE_GROUP: http::HeaderName = http::HeaderName::from_static("impersonate-group");

/// What to change when a bound was hit.
pub(crate) fn bound_hint(bound: Bound) -> String {
    match bound {
        Bound::Whole(_) => "a longer --request-timeout waits longer".into(),
        Bound::Idle(d) => format!(
            "without --request-timeout a request gives up after {} without an answer; pass --request-timeout to set the limit",
            shown(d)
        ),
    }
}

/// A failing credential plugin, told by its name, exit status and (bounded) stderr, never
/// by the environment it was given.
fn plugin_error(cmd: &str, err: kube::client::AuthError) -> Error {
    use kube::client::AuthError;
    let cmd = line(cmd);
    Error::Input(match err {
        AuthError::AuthExecStart(io) if io.kind() == std::io::ErrorKind::NotFound => format!(
            "the credential plugin {cmd:?} named in the kubeconfig was not found: install it or put it on PATH"
        ),
        AuthError::AuthExecStart(io) => {
            format!("the credential plugin {cmd:?} could not be started: {io}")
        }
        AuthError::AuthExecRun { out, .. } => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stderr = bounded(stderr.trim(), 400);
            let status = match out.status.code() {
                Some(code) => format!("exit status {code}"),
                None => "killed by a signal".into(),
            };
            if stderr.is_empty() {
                format!(
                    "the credential plugin {cmd:?} failed ({status}) and printed nothing on stderr"
                )
            } else {
                format!("the credential plugin {cmd:?} failed ({status}): {stderr}")
            }
        }
        AuthError::AuthExecParse(e) => format!(
            "the credential plugin {cmd:?} printed something that is not an ExecCredential: {}",
            bounded(&e.to_string(), 200)
        ),
        other => format!(
            "the credential plugin {cmd:?} failed: {}",
            bounded(&other.to_string(), 400)
        ),
    })
}

/// Text from a file, a server or a plugin, escaped for the terminal.
fn line(text: &str) -> String {
    sanitize::for_terminal(text).into_owned()
}

/// A bound as the user would type it: `60s`, `1500ms`.
pub(crate) fn shown(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// `text` on one line, escaped, at most `max` characters (the end kept: that is where a
/// program says what went wrong).
fn bounded(text: &str, max: usize) -> String {
    let one_line = line(&text.lines().collect::<Vec<_>>().join(" | "));
    let count = one_line.chars().count();
    if count <= max {
        return one_line;
    }
    let tail: String = one_line.chars().skip(count - max).collect();
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubeconfig(server: &str, cluster_extra: &str, user_extra: &str) -> Kubeconfig {
        Kubeconfig::from_yaml(&format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n{cluster_extra}contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: t\n{user_extra}current-context: x\n"
        ))
        .unwrap()
    }

    fn server_of(k: Kubeconfig) -> String {
        complete_servers(k).clusters[0]
            .cluster
            .as_ref()
            .unwrap()
            .server
            .clone()
            .unwrap()
    }

    #[test]
    fn scheme_less_servers_are_completed_as_client_go_does() {
        assert_eq!(
            server_of(kubeconfig("127.0.0.1:6443", "", "")),
            "http://127.0.0.1:6443"
        );
        assert_eq!(
            server_of(kubeconfig(
                "127.0.0.1:6443",
                "    insecure-skip-tls-verify: true\n",
                ""
            )),
            "https://127.0.0.1:6443"
        );
        assert_eq!(
            server_of(kubeconfig("h:1", "", "    client-certificate-data: QQ==\n")),
            "https://h:1"
        );
        assert_eq!(server_of(kubeconfig("https://h:1", "", "")), "https://h:1");
    }

    #[test]
    fn long_plugin_output_is_bounded_and_keeps_its_end() {
        let text = format!("{}\nthe real reason", "x".repeat(1000));
        let b = bounded(&text, 50);
        assert!(b.chars().count() <= 51, "{b}");
        assert!(b.ends_with("the real reason"), "{b}");
    }
}
