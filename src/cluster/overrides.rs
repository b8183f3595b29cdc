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

#[cfg(test)]
mod tests {
    use super::*;

    const KUBECONFIG: &str = "apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://prod:6443
    certificate-authority-data: QQ==
    tls-server-name: prod.internal
- name: other
  cluster:
    server: https://other:6443
users:
- name: alice
  user:
    client-certificate-data: QQ==
    client-key-data: QQ==
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: login
- name: bob
  user:
    token: bob-token
contexts:
- name: main
  context:
    cluster: prod
    user: alice
    namespace: shop
current-context: main
";

    fn merge(o: Overrides, context: Option<&str>) -> Result<Kubeconfig, String> {
        let opts = ConnectOptions {
            context: context.map(str::to_string),
            overrides: o,
            ..Default::default()
        };
        merged(Kubeconfig::from_yaml(KUBECONFIG).unwrap(), &opts)
    }

    fn parts(k: &Kubeconfig) -> (&Cluster, &kube::config::AuthInfo, &Context) {
        (
            k.clusters[0].cluster.as_ref().unwrap(),
            k.auth_infos[0].auth_info.as_ref().unwrap(),
            k.contexts[0].context.as_ref().unwrap(),
        )
    }

    #[test]
    fn server_replaces_the_server_and_clears_the_old_tls_server_name() {
        let k = merge(
            Overrides {
                server: Some("https://10.0.0.1:6443".into()),
                ..Default::default()
            },
            None,
        )
        .unwrap();
        let (cluster, _, context) = parts(&k);
        assert_eq!(cluster.server.as_deref(), Some("https://10.0.0.1:6443"));
        assert_eq!(cluster.tls_server_name, None);
        // The CA stays (only a CA or skip-verify flag replaces it); so does the namespace.
        assert_eq!(cluster.certificate_authority_data.as_deref(), Some("QQ=="));
        assert_eq!(context.namespace.as_deref(), Some("shop"));
    }

    #[test]
    fn skip_verify_or_a_ca_flag_replace_the_whole_trust_decision() {
        let k = merge(
            Overrides {
                insecure_skip_tls_verify: true,
                ..Default::default()
            },
            None,
        )
        .unwrap();
        let (cluster, _, _) = parts(&k);
        assert_eq!(cluster.insecure_skip_tls_verify, Some(true));
        assert_eq!(cluster.certificate_authority_data, None);
        assert_eq!(cluster.tls_server_name.as_deref(), Some("prod.internal"));

        let k = merge(
            Overrides {
                certificate_authority: Some("/ca.crt".into()),
                ..Default::default()
            },
            None,
        )
        .unwrap();
        let (cluster, _, _) = parts(&k);
        assert_eq!(cluster.certificate_authority.as_deref(), Some("/ca.crt"));
        assert_eq!(cluster.certificate_authority_data, None);
        assert_eq!(cluster.insecure_skip_tls_verify, Some(false));
    }

    #[test]
    fn user_flags_replace_files_and_data_and_a_token_wins_over_exec() {
        let k = merge(
            Overrides {
                token: Some("t".into()),
                client_key: Some("/k.pem".into()),
                impersonate_groups: vec!["a".into(), "b".into()],
                ..Default::default()
            },
            None,
        )
        .unwrap();
        let (_, user, _) = parts(&k);
        assert!(user.token.is_some() && user.exec.is_none());
        assert_eq!(user.client_key.as_deref(), Some("/k.pem"));
        assert!(user.client_key_data.is_none());
        // The certificate was not overridden: its data stays.
        assert_eq!(user.client_certificate_data.as_deref(), Some("QQ=="));
        assert_eq!(
            user.impersonate_groups.as_deref(),
            Some(&["a".to_string(), "b".to_string()][..])
        );
    }

    #[test]
    fn cluster_and_user_pick_entries_and_unknown_names_are_errors() {
        let k = merge(
            Overrides {
                cluster: Some("other".into()),
                user: Some("bob".into()),
                ..Default::default()
            },
            None,
        )
        .unwrap();
        let (cluster, user, _) = parts(&k);
        assert_eq!(cluster.server.as_deref(), Some("https://other:6443"));
        assert!(user.token.is_some() && user.exec.is_none());

        let no_cluster = Overrides {
            cluster: Some("nope".into()),
            ..Default::default()
        };
        assert_eq!(
            merge(no_cluster, None).unwrap_err(),
            "cluster \"nope\" does not exist"
        );
        assert_eq!(
            merge(Overrides::default(), Some("gone")).unwrap_err(),
            "context \"gone\" does not exist"
        );
    }

    #[test]
    fn without_a_kubeconfig_the_flags_are_the_configuration() {
        let opts = ConnectOptions {
            overrides: Overrides {
                server: Some("https://h:1".into()),
                token: Some("t".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let k = merged(Kubeconfig::default(), &opts).unwrap();
        let (cluster, user, _) = parts(&k);
        assert_eq!(cluster.server.as_deref(), Some("https://h:1"));
        assert!(user.token.is_some());
        let nothing = merged(Kubeconfig::default(), &ConnectOptions::default()).unwrap_err();
        assert!(nothing.contains("--server"), "{nothing}");
    }
}
