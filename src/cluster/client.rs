//! API I/O against a live cluster: the client built from the kubeconfig as kubectl builds it,
//! and the few requests the commands make. No analysis here.

use std::path::PathBuf;
use std::time::Duration;

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::{Pod, Secret};
use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope};
use kube::Client;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, LogParams, WatchEvent,
    WatchParams,
};
use kube::config::{Config, KubeConfigOptions, Kubeconfig};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::input::target::WorkloadKind;

/// Pods per LIST page: big enough that most namespaces are one request, small enough that
/// output starts quickly and memory stays bounded on large clusters.
const PAGE_SIZE: u32 = 500;

#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub request_timeout: Option<Duration>,
}

#[derive(Clone)]
pub struct Cluster {
    client: Client,
    server: String,
}

/// A page of pods and where the next one starts.
pub struct PodPage {
    pub pods: Vec<Pod>,
    pub resource_version: String,
    pub next: Option<String>,
}

impl Cluster {
    /// Loads the kubeconfig the way kubectl does: --kubeconfig, else $KUBECONFIG (merged), else
    /// ~/.kube/config, else the in-cluster service account. Exec plugins, tokens, client
    /// certificates and insecure-skip-tls-verify are handled by kube's config loader.
    pub async fn connect(opts: &ConnectOptions) -> Result<Cluster> {
        let options = KubeConfigOptions {
            context: opts.context.clone(),
            ..Default::default()
        };
        let mut config = match &opts.kubeconfig {
            Some(path) => {
                let kubeconfig = Kubeconfig::read_from(path).map_err(Error::Kubeconfig)?;
                Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .map_err(Error::Kubeconfig)?
            }
            None => match Config::from_kubeconfig(&options).await {
                Ok(config) => config,
                Err(e) if opts.context.is_none() && is_missing_file(&e) => {
                    Config::incluster().map_err(|_| Error::NoKubeconfig)?
                }
                Err(e) => return Err(Error::Kubeconfig(e)),
            },
        };
        // kube retries 429/503/504 up to 15 times with backoff reaching minutes; a CLI answers
        // promptly instead (as kubectl does), and retries itself only where it must (recreate).
        config.default_retry = false;
        if let Some(timeout) = opts.request_timeout {
            config.connect_timeout = Some(timeout);
            config.read_timeout = Some(timeout);
            config.write_timeout = Some(timeout);
        }
        let server = config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string();
        let namespace = config.default_namespace.clone();
        let client = Client::try_from(config)
            .map_err(|e| Error::kube("build the API client", &server, e))?;
        debug_assert_eq!(client.default_namespace(), namespace);
        Ok(Cluster { client, server })
    }

    /// The context's namespace, or "default".
    pub fn default_namespace(&self) -> &str {
        self.client.default_namespace()
    }

    fn err(&self, context: &str) -> impl Fn(kube::Error) -> Error + '_ {
        let context = context.to_string();
        move |e| Error::kube(context.clone(), &self.server, e)
    }

    fn pods(&self, namespace: Option<&str>) -> Api<Pod> {
        match namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        }
    }

    pub async fn get_pod(&self, namespace: &str, name: &str) -> Result<Pod> {
        self.pods(Some(namespace))
            .get(name)
            .await
            .map_err(self.err("get pod"))
    }

    /// One page of a pod LIST (`limit` + `continue`).
    pub async fn list_pods_page(
        &self,
        namespace: Option<&str>,
        labels: Option<&str>,
        fields: Option<&str>,
        continue_token: Option<String>,
    ) -> Result<PodPage> {
        let mut lp = ListParams::default().limit(PAGE_SIZE);
        lp.label_selector = labels.map(str::to_string);
        lp.field_selector = fields.map(str::to_string);
        lp.continue_token = continue_token;
        let list = self
            .pods(namespace)
            .list(&lp)
            .await
            .map_err(self.err("list pods"))?;
        Ok(PodPage {
            resource_version: list.metadata.resource_version.unwrap_or_default(),
            next: list.metadata.continue_.filter(|c| !c.is_empty()),
            pods: list.items,
        })
    }

    /// Pod changes after `resource_version`, as a stream of watch events.
    pub async fn watch_pods(
        &self,
        namespace: Option<&str>,
        labels: Option<&str>,
        fields: Option<&str>,
        resource_version: &str,
    ) -> Result<impl Stream<Item = Result<WatchEvent<Pod>>> + use<>> {
        let mut wp = WatchParams::default().timeout(290);
        wp.label_selector = labels.map(str::to_string);
        wp.field_selector = fields.map(str::to_string);
        let server = self.server.clone();
        let stream = self
            .pods(namespace)
            .watch(&wp, resource_version)
            .await
            .map_err(self.err("watch pods"))?;
        Ok(stream.map(move |e| e.map_err(|e| Error::kube("watch pods", &server, e))))
    }

    /// Every object of a namespaced kind in `namespace`, page by page.
    pub async fn list_namespaced<K>(&self, namespace: &str) -> Result<Vec<K>>
    where
        K: kube::Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
    {
        list_pages(&Api::namespaced(self.client.clone(), namespace), self).await
    }

    /// Every object of a cluster-scoped kind (nodes).
    pub async fn list_cluster<K>(&self) -> Result<Vec<K>>
    where
        K: kube::Resource<Scope = ClusterResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
    {
        list_pages(&Api::all(self.client.clone()), self).await
    }

    /// The names of the Secrets in a namespace, from a metadata-only list: no secret data is read.
    pub async fn secret_names(&self, namespace: &str) -> Result<Vec<String>> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let mut names = Vec::new();
        let mut lp = ListParams::default().limit(PAGE_SIZE);
        loop {
            let list = api
                .list_metadata(&lp)
                .await
                .map_err(self.err("list secrets"))?;
            names.extend(list.items.into_iter().filter_map(|s| s.metadata.name));
            match list.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(next) => lp.continue_token = Some(next),
                None => return Ok(names),
            }
        }
    }

    /// The last `tail` lines of a container's log (of its previous instance when `previous`),
    /// at most [`log_limit_bytes`]`(tail)` bytes of them: the server is asked for no more
    /// (`limitBytes`, as `kubectl logs --limit-bytes`), and no more is read if it sends more, so
    /// a 100 MB single-line log costs neither 100 MB of memory nor of output. A character cut
    /// at the limit becomes U+FFFD.
    pub async fn logs(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        previous: bool,
        tail: u32,
    ) -> Result<String> {
        use futures::AsyncReadExt;
        let limit = log_limit_bytes(tail);
        let lp = LogParams {
            container: Some(container.to_string()),
            previous,
            tail_lines: Some(i64::from(tail)),
            limit_bytes: Some(i64::try_from(limit).unwrap_or(i64::MAX)),
            ..Default::default()
        };
        let stream = self
            .pods(Some(namespace))
            .log_stream(pod, &lp)
            .await
            .map_err(self.err("read logs"))?;
        let mut bytes = Vec::new();
        stream
            .take(limit)
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| Error::client("read logs", e))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// A workload, as JSON (only its selector and identity are used).
    pub async fn get_workload(
        &self,
        kind: WorkloadKind,
        namespace: &str,
        name: &str,
    ) -> Result<Value> {
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), namespace, &api_resource(kind));
        let obj = api.get(name).await.map_err(self.err("get workload"))?;
        serde_json::to_value(obj).map_err(|e| Error::client("read workload", e))
    }

    fn dynamic(&self, kind: Kind, namespace: &str) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), namespace, &kind.api_resource())
    }

    /// Any object, as the server's JSON (unknown fields kept, unlike typed reads).
    pub async fn get_json(&self, kind: Kind, namespace: &str, name: &str) -> Result<Value> {
        let obj = self
            .dynamic(kind, namespace)
            .get(name)
            .await
            .map_err(self.err("get object"))?;
        to_json(obj)
    }

    /// A strategic merge patch of any object, as kubectl edit sends.
    pub async fn patch_json(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
        patch: &Value,
    ) -> Result<Value> {
        let params = kube::api::PatchParams {
            field_manager: Some("kubectl-initctl".into()),
            ..Default::default()
        };
        let body = kube::api::Patch::Strategic(patch);
        let obj = self
            .dynamic(kind, namespace)
            .patch(name, &params, &body)
            .await
            .map_err(self.err("patch object"))?;
        to_json(obj)
    }

    pub async fn create_json(&self, kind: Kind, namespace: &str, object: &Value) -> Result<Value> {
        let obj: DynamicObject = serde_json::from_value(object.clone())
            .map_err(|e| Error::Input(format!("cannot create this object: {e}")))?;
        let created = self
            .dynamic(kind, namespace)
            .create(
                &kube::api::PostParams {
                    field_manager: Some("kubectl-initctl".into()),
                    ..Default::default()
                },
                &obj,
            )
            .await
            .map_err(self.err("create object"))?;
        to_json(created)
    }

    /// Deletes the pod `pod` (as read) only if it is still that pod: same uid and
    /// resourceVersion, so a pod that changed since is never deleted.
    pub async fn delete_pod_as_read(&self, pod: &Value) -> Result<()> {
        let text = |p: &str| pod.pointer(p).and_then(Value::as_str).map(str::to_string);
        let params = kube::api::DeleteParams {
            preconditions: Some(kube::api::Preconditions {
                uid: text("/metadata/uid"),
                resource_version: text("/metadata/resourceVersion"),
            }),
            ..Default::default()
        };
        let namespace = text("/metadata/namespace").unwrap_or_else(|| "default".into());
        self.pods(Some(&namespace))
            .delete(&text("/metadata/name").unwrap_or_default(), &params)
            .await
            .map_err(self.err("delete pod"))?;
        Ok(())
    }

    /// The pod if it exists.
    pub async fn find_pod(&self, namespace: &str, name: &str) -> Result<Option<Pod>> {
        self.pods(Some(namespace))
            .get_opt(name)
            .await
            .map_err(self.err("get pod"))
    }

    /// Every Job in a namespace (for resolving a CronJob to its jobs' pods).
    pub async fn list_jobs(&self, namespace: &str) -> Result<Vec<Value>> {
        let api: Api<DynamicObject> = Api::namespaced_with(
            self.client.clone(),
            namespace,
            &api_resource(WorkloadKind::Job),
        );
        let jobs = list_pages(&api, self).await?;
        Ok(jobs
            .into_iter()
            .map(|job| serde_json::to_value(job).unwrap_or_default())
            .collect())
    }
}

async fn list_pages<K>(api: &Api<K>, cluster: &Cluster) -> Result<Vec<K>>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut items = Vec::new();
    let mut lp = ListParams::default().limit(PAGE_SIZE);
    loop {
        let list = api.list(&lp).await.map_err(cluster.err("list objects"))?;
        items.extend(list.items);
        match list.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(next) => lp.continue_token = Some(next),
            None => return Ok(items),
        }
    }
}

fn to_json(obj: DynamicObject) -> Result<Value> {
    serde_json::to_value(obj).map_err(|e| Error::client("read object", e))
}

/// The kinds written by edit and restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pod,
    Workload(WorkloadKind),
}

impl Kind {
    fn api_resource(self) -> ApiResource {
        match self {
            Kind::Pod => {
                ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("", "v1", "Pod"), "pods")
            }
            Kind::Workload(w) => api_resource(w),
        }
    }
}

fn api_resource(kind: WorkloadKind) -> ApiResource {
    let (group, plural) = kind.group_and_plural();
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, "v1", kind.kind()), plural)
}

fn is_missing_file(err: &kube::config::KubeconfigError) -> bool {
    matches!(err, kube::config::KubeconfigError::FindPath)
        || matches!(err, kube::config::KubeconfigError::ReadConfig(e, _) if e.kind() == std::io::ErrorKind::NotFound)
}

/// The most bytes of a log `logs` reads for `tail` lines: 16 KiB a line (a line is quoted up to
/// 4096 characters of up to 4 bytes), and never more than 4 MiB in all.
pub(crate) fn log_limit_bytes(tail: u32) -> u64 {
    (u64::from(tail) * 16 * 1024).clamp(16 * 1024, 4 * 1024 * 1024)
}
