//! API I/O against a live cluster: the client built from the kubeconfig as kubectl builds it,
//! and the few requests the commands make. No analysis here.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{Stream, StreamExt};
use http_body_util::BodyExt;
use k8s_openapi::api::core::v1::{Pod, Secret};
use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope};
use kube::Client;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, LogParams, WatchEvent,
    WatchParams,
};
use kube::core::Status;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::cluster::connect::{self, Bound};
use crate::cluster::pod_pages::{PodSelection, RawPodPage};
use crate::cluster::{failure, gzip, throttle};
use crate::error::{Error, Result};
use crate::input::pod_json::{PodView, pod_from_slice};
use crate::input::target::WorkloadKind;
use crate::util::sanitize::redact_url;

/// Pods per LIST page: big enough that most namespaces are one request, small enough that
/// output starts quickly and memory stays bounded on large clusters.
pub(crate) const PAGE_SIZE: u32 = 500;

#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// The other connection flags (--server, --token, --as, TLS files…).
    pub overrides: crate::cluster::Overrides,
    pub request_timeout: Option<Duration>,
    /// `-v`: 6 logs each request, 8 its headers too.
    pub verbosity: u8,
}

#[derive(Clone)]
pub struct Cluster {
    client: Client,
    spare: SpareBuffers,
    /// The same for the gzipped bodies pages are inflated from.
    spare_gzipped: SpareBuffers,
    /// The server's URL for messages, its password already redacted: every error that names
    /// the server takes it from here.
    server: String,
    bound: Bound,
}

/// Buffers of pod LIST pages already decoded, for the next pages to be read into: memory the
/// process has touched is reused, where a fresh buffer per page made the kernel zero new pages
/// (a fifth of `status -A`'s time at 10k pods, docs/benchmarks.md). As many are kept as pages
/// can be in hand at once: one fetched, those decoded ahead of the caller, the one it prints.
#[derive(Clone, Default)]
struct SpareBuffers(Arc<Mutex<Vec<Vec<u8>>>>);

impl SpareBuffers {
    const KEPT: usize = 5;

    fn take(&self) -> Vec<u8> {
        self.lock().pop().unwrap_or_default()
    }

    fn give_back(&self, buffer: Vec<u8>) {
        let mut spare = self.lock();
        if spare.len() < Self::KEPT {
            spare.push(buffer);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
        // A panic aborts the process (panic = "abort"), so a poisoned lock still holds buffers.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
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
    /// certificates and insecure-skip-tls-verify are handled by kube's config loader; reading
    /// the files, completing scheme-less servers and bounding exec plugins by `connect`.
    pub async fn connect(opts: &ConnectOptions) -> Result<Cluster> {
        let mut config = connect::load_config(opts).await?;
        // kube retries 429/503/504 up to 15 times with backoff reaching minutes; a CLI answers
        // promptly instead (as kubectl does): `call` honours a 429's Retry-After a few times,
        // and recreate retries itself where it must.
        config.default_retry = false;
        let bound = Bound::from_options(opts);
        // Every read waits at most the bound for its next byte (a server that accepts the
        // connection and never answers); `call` also bounds whole requests by --request-timeout.
        config.connect_timeout = Some(bound.duration());
        config.read_timeout = Some(bound.duration());
        config.write_timeout = Some(bound.duration());
        // The bound counts from the request, not from when a pooled connection went idle.
        config.reset_reader_on_write = true;
        // The one place the server's URL is made fit for messages: every error naming it (here,
        // in cluster/failure.rs, in Error::kube) takes it from the Cluster.
        let server = redact_url(config.cluster_url.to_string().trim_end_matches('/')).into_owned();
        let client = connect::build_client(config, bound, &server, opts.verbosity).await?;
        Ok(Cluster {
            client,
            spare: SpareBuffers::default(),
            spare_gzipped: SpareBuffers::default(),
            server,
            bound,
        })
    }

    /// The context's namespace, or "default".
    pub fn default_namespace(&self) -> &str {
        self.client.default_namespace()
    }

    fn err(&self, context: &str) -> impl Fn(kube::Error) -> Error + '_ {
        let context = context.to_string();
        move |e| failure::from_kube(&context, &self.server, self.bound, e)
    }

    /// Every request goes through here: bounded as a whole by --request-timeout (body
    /// included), and a 429 retried after its Retry-After a few times. `request` makes the
    /// request's future afresh for each try (a plain closure rather than an `async ||` one: its
    /// future borrows nothing from the closure, so it can be `Send` for the prefetching task).
    async fn call<T, F>(&self, context: &str, mut request: impl FnMut() -> F) -> Result<T>
    where
        F: Future<Output = kube::Result<T>>,
    {
        let mut throttled = 0;
        loop {
            let outcome = match self.bound {
                Bound::Whole(d) => match tokio::time::timeout(d, request()).await {
                    Ok(outcome) => outcome,
                    Err(_) => return Err(failure::silent(context, &self.server, self.bound)),
                },
                Bound::Idle(_) => request().await,
            };
            match outcome {
                Err(kube::Error::Api(status)) if status.code == 429 => {
                    let wait = throttle::wait(&status, throttled)
                        .map_err(|text| Error::client(context, failure::Said(text)))?;
                    throttled += 1;
                    tokio::time::sleep(wait).await;
                }
                other => return other.map_err(self.err(context)),
            }
        }
    }

    fn pods(&self, namespace: Option<&str>) -> Api<Pod> {
        match namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        }
    }

    /// For `cluster::logs`, which streams logs itself: the pods API, its errors, the bound.
    pub(super) fn pods_in(&self, namespace: &str) -> Api<Pod> {
        self.pods(Some(namespace))
    }

    pub(super) fn kube_error(&self, context: &str, e: kube::Error) -> Error {
        self.err(context)(e)
    }

    /// --request-timeout as a whole-request bound, and the error when it is hit.
    pub(super) fn whole_bound(&self) -> Option<(Duration, Error)> {
        match self.bound {
            Bound::Whole(d) => Some((d, failure::silent("read logs", &self.server, self.bound))),
            Bound::Idle(_) => None,
        }
    }

    /// One pod, read as a LIST's pods are (lean: no managedFields).
    pub async fn get_pod(&self, namespace: &str, name: &str) -> Result<Pod> {
        let path = <Pod as kube::Resource>::url_path(&(), Some(namespace));
        let body = self
            .call("get pod", || {
                read_body(&self.client, &path, Read::Get(name), Vec::new(), None)
            })
            .await?;
        pod_from_slice(&body).map_err(self.unreadable("get pod"))
    }

    /// One page of a pod LIST (`limit` + `continue`).
    pub async fn list_pods_page(
        &self,
        namespace: Option<&str>,
        labels: Option<&str>,
        fields: Option<&str>,
        continue_token: Option<String>,
    ) -> Result<PodPage> {
        let selection = PodSelection {
            namespace: namespace.map(str::to_string),
            labels: labels.map(str::to_string),
            fields: fields.map(str::to_string),
        };
        let mut page = self.list_pods_raw(&selection, continue_token).await?;
        Ok(PodPage {
            pods: self.decode_pods(&mut page, PodView::Whole)?,
            resource_version: page.resource_version,
            next: page.next,
        })
    }

    /// One page of a pod LIST as the server sent it (gzipped answers inflated here: `gzip`), its
    /// list metadata read; the pods are decoded with [`Cluster::decode_pods`]. The body is read
    /// into one buffer and parsed from there, unlike kube's typed `list` (which copies it into a
    /// `String` first and decodes every managedFields entry).
    pub(crate) async fn list_pods_raw(
        &self,
        selection: &PodSelection,
        continue_token: Option<String>,
    ) -> Result<RawPodPage> {
        let mut lp = ListParams::default().limit(PAGE_SIZE);
        lp.label_selector = selection.labels.clone();
        lp.field_selector = selection.fields.clone();
        lp.continue_token = continue_token;
        let path = <Pod as kube::Resource>::url_path(&(), selection.namespace.as_deref());
        let body = self
            .call("list pods", || {
                let spare = self.spare.take();
                read_body(
                    &self.client,
                    &path,
                    Read::List(&lp),
                    spare,
                    Some(&self.spare_gzipped),
                )
            })
            .await?;
        RawPodPage::new(body).map_err(self.unreadable("list pods"))
    }

    /// Hands a decoded page's buffer back, for the next page to be read into.
    pub(crate) fn recycle(&self, page: RawPodPage) {
        self.spare.give_back(page.into_body());
    }

    /// The pods of a page, decoded from its body on this thread (an item that is not a pod is an
    /// error that says where it is).
    fn decode_pods(&self, page: &mut RawPodPage, view: PodView) -> Result<Vec<Pod>> {
        self.read_pods(page.pods(view))
    }

    /// A page's pods as decoded (`pod_pages::Decoding`), an item that is not a pod an error that
    /// says where it is.
    pub(crate) fn read_pods(&self, pods: serde_json::Result<Vec<Pod>>) -> Result<Vec<Pod>> {
        pods.map_err(self.unreadable("list pods"))
    }

    fn unreadable(&self, context: &str) -> impl Fn(serde_json::Error) -> Error + '_ {
        let err = self.err(context);
        move |e| err(kube::Error::SerdeError(e))
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
        let api = self.pods(namespace);
        let bound = self.bound;
        let stream = self
            .call("watch pods", || api.watch(&wp, resource_version))
            .await?;
        // A stream that breaks (idle past the bound, connection lost) just ends: the caller
        // re-opens it from where it stopped, as it does when the server ends it.
        let broken = |e: &kube::Result<WatchEvent<Pod>>| {
            matches!(
                e,
                Err(kube::Error::ReadEvents(_)
                    | kube::Error::HyperError(_)
                    | kube::Error::Service(_))
            )
        };
        Ok(stream
            .take_while(move |e| futures::future::ready(!broken(e)))
            .map(move |e| e.map_err(|e| failure::watch_event(&server, bound, e))))
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

    /// The objects of a namespaced kind named `name`, in every namespace: one LIST filtered by
    /// `metadata.name` on the server, so its answer is a handful of objects.
    pub async fn list_named_everywhere<K>(&self, name: &str) -> Result<Vec<K>>
    where
        K: kube::Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
    {
        let api: Api<K> = Api::all(self.client.clone());
        let lp = ListParams::default()
            .fields(&format!("metadata.name={name}"))
            .limit(PAGE_SIZE);
        let list = self
            .call("list objects", async || api.list(&lp).await)
            .await?;
        Ok(list.items)
    }

    /// The names of the Secrets in a namespace, from a metadata-only list: no secret data is read.
    pub async fn secret_names(&self, namespace: &str) -> Result<Vec<String>> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let mut names = Vec::new();
        let mut lp = ListParams::default().limit(PAGE_SIZE);
        let mut pages = Pages::default();
        loop {
            let list = self.call("list secrets", || api.list_metadata(&lp)).await?;
            names.extend(list.items.into_iter().filter_map(|s| s.metadata.name));
            match pages.next(list.metadata.continue_, "secrets")? {
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
        let read = async {
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
            Ok::<_, Error>(bytes)
        };
        // --request-timeout bounds the whole read, body included, as for every other request.
        let bytes = match self.bound {
            Bound::Whole(d) => tokio::time::timeout(d, read)
                .await
                .map_err(|_| failure::silent("read logs", &self.server, self.bound))??,
            Bound::Idle(_) => read.await?,
        };
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
        let obj = self.call("get workload", || api.get(name)).await?;
        serde_json::to_value(obj).map_err(|e| Error::client("read workload", e))
    }

    fn dynamic(&self, kind: Kind, namespace: &str) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), namespace, &kind.api_resource())
    }

    /// Any object, as the server's JSON (unknown fields kept, unlike typed reads).
    pub async fn get_json(&self, kind: Kind, namespace: &str, name: &str) -> Result<Value> {
        let api = self.dynamic(kind, namespace);
        let obj = self.call("get object", || api.get(name)).await?;
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
        let api = self.dynamic(kind, namespace);
        let obj = self
            .call("patch object", || api.patch(name, &params, &body))
            .await?;
        to_json(obj)
    }

    pub async fn create_json(&self, kind: Kind, namespace: &str, object: &Value) -> Result<Value> {
        let obj: DynamicObject = serde_json::from_value(object.clone())
            .map_err(|e| Error::Input(format!("cannot create this object: {e}")))?;
        let api = self.dynamic(kind, namespace);
        let params = kube::api::PostParams {
            field_manager: Some("kubectl-initctl".into()),
            ..Default::default()
        };
        let created = self
            .call("create object", || api.create(&params, &obj))
            .await?;
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
        let api = self.pods(Some(&namespace));
        let name = text("/metadata/name").unwrap_or_default();
        self.call("delete pod", || api.delete(&name, &params))
            .await?;
        Ok(())
    }

    /// The pod if it exists.
    pub async fn find_pod(&self, namespace: &str, name: &str) -> Result<Option<Pod>> {
        let api = self.pods(Some(namespace));
        self.call("get pod", || api.get_opt(name)).await
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
    let mut pages = Pages::default();
    loop {
        let list = cluster.call("list objects", || api.list(&lp)).await?;
        items.extend(list.items);
        match pages.next(list.metadata.continue_, "objects")? {
            Some(next) => lp.continue_token = Some(next),
            None => return Ok(items),
        }
    }
}

/// Continue tokens of one paginated LIST: a token that comes back means the list loops, and
/// would never end.
#[derive(Default)]
pub(crate) struct Pages {
    seen: std::collections::HashSet<String>,
}

/// More pages than any cluster needs (5 million objects at 500 a page): the list is looping.
const MAX_PAGES: usize = 10_000;

impl Pages {
    /// The token to continue with (None: the list is complete), or an error when it loops.
    pub(crate) fn next(&mut self, token: Option<String>, what: &str) -> Result<Option<String>> {
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let pages = self.seen.len() + 1;
        let looping = if !self.seen.insert(token.clone()) {
            format!(
                "the server sent a continue token it had already sent, so the list would never end; stopped after {pages} pages"
            )
        } else if pages > MAX_PAGES {
            format!("the list did not end after {MAX_PAGES} pages; stopped")
        } else {
            return Ok(Some(token));
        };
        Err(Error::client(
            format!("list {what}"),
            failure::Said(looping),
        ))
    }
}

/// A read whose answer is decoded by the caller.
#[derive(Clone, Copy)]
enum Read<'a> {
    Get(&'a str),
    List(&'a ListParams),
}

/// The most bytes one answer read by [`read_body`] may hold, sent or inflated: a server that
/// sends without end, or a small gzip body that inflates without end, stops there (one line,
/// not memory exhausted). A LIST page of 500 pods is a few MB; 500 of the largest objects etcd
/// stores (1.5 MiB each) stay under it.
const MAX_ANSWER_BYTES: usize = 1 << 30;

/// The body of a GET's or LIST's answer, read frame by frame into `buffer` (emptied first; a
/// spare one keeps its capacity; gzipped ones inflated there, from a buffer taken from and
/// handed back to `spare_gzipped`, if given); a 4xx/5xx answer is the `Status` it carries (or
/// its text), exactly as kube's own requests turn it into `kube::Error::Api`.
async fn read_body(
    client: &Client,
    path: &str,
    read: Read<'_>,
    mut buffer: Vec<u8>,
    spare_gzipped: Option<&SpareBuffers>,
) -> kube::Result<Vec<u8>> {
    let resource = kube::core::Request::new(path);
    let (request, verb) = match read {
        Read::Get(name) => (resource.get(name, &Default::default()), "get"),
        Read::List(lp) => (resource.list(lp), "list"),
    };
    let mut request = request.map_err(kube::Error::BuildRequest)?;
    // As kube's own Api marks its requests (the name of their trace span).
    request.extensions_mut().insert(verb);
    request.extensions_mut().insert(gzip::InflateHere);
    let answer = client.send(request.map(kube::client::Body::from)).await?;
    let code = answer.status();
    let gzipped = answer.extensions().get::<gzip::StillGzipped>().copied();
    let mut body = answer.into_body();
    buffer.clear();
    let unreadable = |text: String| {
        kube::Error::SerdeError(serde_json::Error::io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            text,
        )))
    };
    // A gzipped body is gathered as it came (in one allocation where its length is known),
    // then inflated into the buffer in one go.
    let mut gathered = spare_gzipped.map(SpareBuffers::take).unwrap_or_default();
    gathered.clear();
    if let Some(gzip::StillGzipped(Some(length))) = gzipped {
        gathered.reserve_exact(length.min(MAX_ANSWER_BYTES));
    }
    let into = if gzipped.is_some() {
        &mut gathered
    } else {
        &mut buffer
    };
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            if into.len() + data.len() > MAX_ANSWER_BYTES {
                return Err(unreadable(format!(
                    "it is longer than {MAX_ANSWER_BYTES} bytes"
                )));
            }
            into.extend_from_slice(&data);
        }
    }
    if gzipped.is_some() {
        gzip::inflate(&gathered, &mut buffer, MAX_ANSWER_BYTES).map_err(unreadable)?;
        if let Some(spare) = spare_gzipped {
            spare.give_back(gathered);
        }
    }
    if !(code.is_client_error() || code.is_server_error()) {
        return Ok(buffer);
    }
    let text = String::from_utf8(buffer).map_err(kube::Error::FromUtf8)?;
    let status = serde_json::from_str::<Status>(&text).unwrap_or_else(|_| {
        Status::failure(text.trim(), "Failed to parse error data").with_code(code.as_u16())
    });
    Err(kube::Error::Api(status.boxed()))
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

/// The most bytes of a log `logs` reads for `tail` lines: 16 KiB a line (a line is quoted up to
/// 4096 characters of up to 4 bytes), and never more than 4 MiB in all.
pub(crate) fn log_limit_bytes(tail: u32) -> u64 {
    (u64::from(tail) * 16 * 1024).clamp(16 * 1024, 4 * 1024 * 1024)
}
