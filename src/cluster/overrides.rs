//! The connection flags merged into the kubeconfig as client-go's `DirectClientConfig` merges
//! its `ConfigOverrides` (tools/clientcmd/client_config.go): `--context`, `--cluster` and
//! `--user` choose the entries, the other flags replace what those entries say. The result is a
//! kubeconfig of one context, which kube then loads as usual.

use kube::config::{Cluster, Context, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext};

use crate::cluster::client::ConnectOptions;

/// The connection flags beyond `--kubeconfig` and `--context`, as typed.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub cluster: Option<String>,
    pub user: Option<String>,
    pub server: Option<String>,
    pub token: Option<String>,
    pub impersonate: Option<String>,
    pub impersonate_groups: Vec<String>,
    pub impersonate_uid: Option<String>,
    pub certificate_authority: Option<String>,
    pub client_certificate: Option<String>,
    pub client_key: Option<String>,
    pub insecure_skip_tls_verify: bool,
    pub tls_server_name: Option<String>,
}

/// The names of the one context, cluster and user of the merged kubeconfig.
const MERGED: &str = "merged";

/// `kubeconfig` reduced to the context the command uses, the flags merged in; `Err` says why
/// that is impossible, in client-go's terms.
pub(crate) fn merged(kubeconfig: Kubeconfig, opts: &ConnectOptions) -> Result<Kubeconfig, String> {
    let o = &opts.overrides;
    let context_name = opts
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
        .filter(|n| !n.is_empty());
    let context = match &context_name {
        Some(name) => match kubeconfig.contexts.iter().find(|c| &c.name == name) {
            Some(c) => c.context.clone().unwrap_or_default(),
            None => return Err(format!("context {name:?} does not exist")),
        },
        None => Context::default(),
    };
    let cluster_name = o.cluster.clone().unwrap_or_else(|| context.cluster.clone());
    let cluster = kubeconfig
        .clusters
        .iter()
        .find(|c| c.name == cluster_name)
        .map(|c| c.cluster.clone().unwrap_or_default());
    let mut cluster = match cluster {
        Some(cluster) => cluster,
        None if o.cluster.is_some() => {
            return Err(format!("cluster {cluster_name:?} does not exist"));
        }
        // Nothing to connect to unless --server names it.
        None if o.server.is_none() && context_name.is_none() => {
            return Err("it sets no current-context; pass --context or --server".into());
        }
        None if o.server.is_none() => {
            return Err(format!(
                "the cluster {cluster_name:?} of the context does not exist"
            ));
        }
        None => Cluster::default(),
    };
    let user_name = o.user.clone().or_else(|| context.user.clone());
    let user = user_name.as_ref().and_then(|name| {
        kubeconfig
            .auth_infos
            .iter()
            .find(|u| &u.name == name)
            .map(|u| u.auth_info.clone().unwrap_or_default())
    });
    let mut user = match (user, &o.user) {
        (Some(user), _) => user,
        (None, Some(name)) => return Err(format!("user {name:?} does not exist")),
        // client-go: a context naming a user that is not there means no credentials.
        (None, None) => Default::default(),
    };
    merge_cluster(&mut cluster, o);
    merge_user(&mut user, o);
    Ok(Kubeconfig {
        clusters: vec![NamedCluster {
            name: MERGED.into(),
            cluster: Some(cluster),
            ..Default::default()
        }],
        auth_infos: vec![NamedAuthInfo {
            name: MERGED.into(),
            auth_info: Some(user),
            ..Default::default()
        }],
        contexts: vec![NamedContext {
            name: MERGED.into(),
            context: Some(Context {
                cluster: MERGED.into(),
                user: Some(MERGED.into()),
                ..context
            }),
            ..Default::default()
        }],
        current_context: Some(MERGED.into()),
        ..Default::default()
    })
}

/// client-go's getCluster: the flags replace the entry's fields; --insecure-skip-tls-verify or
/// --certificate-authority replace the whole trust decision (CA file, CA data and skip), and
/// --server takes --tls-server-name along (clearing the kubeconfig's when none is given).
fn merge_cluster(cluster: &mut Cluster, o: &Overrides) {
    if let Some(server) = &o.server {
        cluster.server = Some(server.clone());
    }
    if o.insecure_skip_tls_verify || o.certificate_authority.is_some() {
        cluster.insecure_skip_tls_verify = Some(o.insecure_skip_tls_verify);
        cluster.certificate_authority = o.certificate_authority.clone();
        cluster.certificate_authority_data = None;
    }
    if o.tls_server_name.is_some() || o.server.is_some() {
        cluster.tls_server_name = o.tls_server_name.clone();
    }
}

/// client-go's getAuthInfo and getUserIdentificationPartialConfig: the flags replace the
/// entry's fields; a client certificate or key flag replaces the file and the inline data.
fn merge_user(user: &mut kube::config::AuthInfo, o: &Overrides) {
    if let Some(token) = &o.token {
        user.token = Some(token.clone().into());
        // client-go: an explicit token is used as is; an exec plugin is not run for it
        // (exec.go UpdateTransportConfig), and a token file is not read.
        user.token_file = None;
        user.exec = None;
        user.auth_provider = None;
    }
    if let Some(cert) = &o.client_certificate {
        user.client_certificate = Some(cert.clone());
        user.client_certificate_data = None;
    }
    if let Some(key) = &o.client_key {
        user.client_key = Some(key.clone());
        user.client_key_data = None;
    }
    if let Some(name) = &o.impersonate {
        user.impersonate = Some(name.clone());
    }
    if !o.impersonate_groups.is_empty() {
        user.impersonate_groups = Some(o.impersonate_groups.clone());
    }
    if let Some(uid) = &o.impersonate_uid {
        user.impersonate_uid = Some(uid.clone());
    }
}
