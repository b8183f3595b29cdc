//! A kube-apiserver stand-in on loopback, for tests that run the real binary and real `kubectl`.
//!
//! It runs on its own thread with its own tokio runtime, serves discovery, the resources the
//! plugin touches (CRUD, LIST with selectors and pagination, WATCH, pod logs), answers errors as
//! real `Status` objects, validates pod updates like `ValidatePodUpdate`, and lets a test inject
//! faults, RBAC denials and token checks. Known differences from kube-apiserver are listed in
//! `tests/it/apiserver/README.md`.

mod patch;
mod resources;
mod selector;
mod status;
mod store;
mod tls;
mod validation;

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use resources::ResourceDef;
use selector::{FieldSelector, LabelSelector};
use status::ApiError;
use store::{Store, meta_str};
pub use tls::{TlsKubeconfig, TlsOptions, unrelated_ca_pem};

type Body = BoxBody<Bytes, Infallible>;

/// One logged request.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Decoded query parameters (the last one wins when repeated).
    pub query: BTreeMap<String, String>,
    pub raw_query: String,
    pub accept: Option<String>,
    pub content_type: Option<String>,
    pub authorization: Option<String>,
    /// HTTPS with client certificates: the CN of the verified certificate the request came with.
    pub client_cert_user: Option<String>,
    pub body: String,
}

/// An injected failure. A request matches when its method (if set) is equal and its
/// `path?query` contains `path_contains`; the first matching rule with uses left applies.
#[derive(Debug, Clone, Default)]
pub struct Fault {
    pub method: Option<&'static str>,
    pub path_contains: String,
    /// ≥ 400: answer a Status with this code instead of serving the request.
    pub status: u16,
    pub reason: Option<String>,
    pub message: Option<String>,
    /// Sleep before answering (or before failing).
    pub delay: Option<Duration>,
    /// How many requests the rule applies to; `None` = all.
    pub times: Option<usize>,
    /// For watches: close the stream after this many events.
    pub drop_watch_after: Option<usize>,
}

impl Fault {
    /// Fail matching requests with `status` (reason and message as the real server gives them).
    pub fn error(path_contains: &str, status: u16) -> Fault {
        Fault {
            path_contains: path_contains.into(),
            status,
            ..Fault::default()
        }
    }

    /// Answer matching requests normally, but only after `delay`.
    pub fn delay(path_contains: &str, delay: Duration) -> Fault {
        Fault {
            path_contains: path_contains.into(),
            delay: Some(delay),
            ..Fault::default()
        }
    }

    /// End matching watch streams after `events` events.
    pub fn drop_watch(path_contains: &str, events: usize) -> Fault {
        Fault {
            path_contains: path_contains.into(),
            drop_watch_after: Some(events),
            ..Fault::default()
        }
    }

    /// Only for this HTTP method.
    pub fn on(self, method: &'static str) -> Fault {
        Fault {
            method: Some(method),
            ..self
        }
    }

    /// Only for the next `n` matching requests.
    pub fn times(self, n: usize) -> Fault {
        Fault {
            times: Some(n),
            ..self
        }
    }
}

struct State {
    store: Store,
    logs: HashMap<(String, String, String, bool), String>,
    /// Rules with how often each has fired.
    faults: Vec<(Fault, usize)>,
    forbidden: Vec<(String, String, Option<String>)>,
    token: Option<String>,
    requests: Vec<Request>,
    deletion_delay: Duration,
}

struct Shared {
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not take every later request down with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The running server; dropping it stops the thread and closes every connection.
pub struct ApiServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    dir: tempfile::TempDir,
    kubeconfigs: AtomicUsize,
    /// Set by `start_tls`: the CA and client-certificate state (tls.rs).
    tls: Option<tls::Tls>,
}

impl ApiServer {
    pub fn start() -> ApiServer {
        ApiServer::launch(None)
    }

    fn launch(tls: Option<(tls::Tls, tls::Acceptor)>) -> ApiServer {
        let (tls, acceptor) = tls.unzip();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                store: Store::new(),
                logs: HashMap::new(),
                faults: Vec::new(),
                forbidden: Vec::new(),
                token: None,
                requests: Vec::new(),
                deletion_delay: Duration::ZERO,
            }),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = oneshot::channel();
        let served = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("apiserver-{}", addr.port()))
            .spawn(move || serve(listener, served, rx, acceptor))
            .expect("spawn apiserver thread");
        ApiServer {
            shared,
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
            dir: tempfile::tempdir().expect("tempdir"),
            kubeconfigs: AtomicUsize::new(0),
            tls,
        }
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The token kubeconfigs carry: the one `require_token` set, else `stand-in-token`.
    fn token_for_kubeconfig(&self) -> String {
        self.shared
            .lock()
            .token
            .clone()
            .unwrap_or_else(|| "stand-in-token".into())
    }

    /// A kubeconfig with cluster, user (bearer token: the one `require_token` set, else
    /// `stand-in-token`) and context `stand-in` as current-context. Over HTTPS it also trusts
    /// the server's CA and, with client certificates, carries one (`tls_kubeconfig`).
    pub fn kubeconfig_yaml(&self, namespace: Option<&str>) -> String {
        if self.tls.is_some() {
            return self.kubeconfig_yaml_with(namespace, &self.tls_kubeconfig());
        }
        let token = self.token_for_kubeconfig();
        let ns = namespace
            .map(|ns| format!("    namespace: {ns}\n"))
            .unwrap_or_default();
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: stand-in\n  cluster:\n    server: {}\nusers:\n- name: stand-in\n  user:\n    token: {token}\ncontexts:\n- name: stand-in\n  context:\n    cluster: stand-in\n    user: stand-in\n{ns}current-context: stand-in\npreferences: {{}}\n",
            self.url()
        )
    }

    /// Writes `kubeconfig_yaml` to a fresh file in the server's tempdir.
    pub fn kubeconfig(&self, namespace: Option<&str>) -> PathBuf {
        self.write_kubeconfig(&self.kubeconfig_yaml(namespace))
    }

    /// Writes a kubeconfig text to a fresh file in the server's tempdir.
    fn write_kubeconfig(&self, text: &str) -> PathBuf {
        let n = self.kubeconfigs.fetch_add(1, Ordering::SeqCst);
        let path = self.dir.path().join(format!("kubeconfig-{n}"));
        std::fs::write(&path, text).expect("write kubeconfig");
        path
    }

    /// Loads a YAML or JSON file: one object, a multi-document stream or a `kind: List`.
    /// Objects keep their uid/resourceVersion/creationTimestamp; missing ones are filled.
    pub fn load_file(&self, path: impl AsRef<Path>) {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let docs: Vec<Value> = if path.extension().is_some_and(|e| e == "json") {
            vec![serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))]
        } else {
            serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        };
        let mut state = self.shared.lock();
        for doc in docs.into_iter().filter(|d| !d.is_null()) {
            let is_list = doc
                .get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| k.ends_with("List"));
            let items = if is_list {
                doc["items"].as_array().cloned().unwrap_or_default()
            } else {
                vec![doc]
            };
            for item in items {
                state.store.put(item, None, true);
            }
        }
    }

    /// Loads every `*.yaml`, `*.yml` and `*.json` file of a directory, in name order.
    pub fn load_dir(&self, dir: impl AsRef<Path>) {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.as_ref())
            .unwrap_or_else(|e| panic!("read dir {}: {e}", dir.as_ref().display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            })
            .collect();
        files.sort();
        for file in files {
            self.load_file(file);
        }
    }

    /// Creates or replaces an object (fresh resourceVersion; ADDED or MODIFIED to watches).
    pub fn insert(&self, obj: Value) {
        self.shared.lock().store.put(obj, None, false);
    }

    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let res = resources::by_kind(api_version, kind)?;
        self.shared
            .lock()
            .store
            .get(res, namespace.unwrap_or_default(), name)
            .cloned()
    }

    /// The log `kubectl logs [-p] -c container` returns.
    pub fn set_log(&self, namespace: &str, pod: &str, container: &str, previous: bool, text: &str) {
        self.shared.lock().logs.insert(
            (namespace.into(), pod.into(), container.into(), previous),
            text.into(),
        );
    }

    /// Applies an event to the store and sends it to open watches.
    pub fn push_watch_event(&self, event_type: &str, obj: Value) {
        let kind = match event_type {
            "ADDED" => "ADDED",
            "MODIFIED" => "MODIFIED",
            "DELETED" => "DELETED",
            other => panic!("unknown watch event type {other}"),
        };
        self.shared.lock().store.put(obj, Some(kind), false);
    }

    pub fn fault(&self, rule: Fault) {
        self.shared.lock().faults.push((rule, 0));
    }

    /// Deny `verb` on `resource` (`pods`, `pods/log`, `events`…) in `namespace` (None: everywhere).
    pub fn forbid(&self, verb: &str, resource: &str, namespace: Option<&str>) {
        self.shared.lock().forbidden.push((
            verb.into(),
            resource.into(),
            namespace.map(Into::into),
        ));
    }

    /// From now on every request needs `Authorization: Bearer <token>`.
    pub fn require_token(&self, token: &str) {
        self.shared.lock().token = Some(token.into());
    }

    pub fn requests(&self) -> Vec<Request> {
        self.shared.lock().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// Deleted pods keep a deletionTimestamp this long before they disappear.
    pub fn set_deletion_delay(&self, d: Duration) {
        self.shared.lock().deletion_delay = d;
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut shutdown: oneshot::Receiver<()>,
    tls: Option<tls::Acceptor>,
) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("apiserver runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let shared = shared.clone();
                    let tls = tls.clone();
                    tokio::spawn(async move {
                        match tls {
                            None => serve_connection(stream, shared, tls::Peer::default()).await,
                            Some(tls) => {
                                if let Some((stream, peer)) = tls.accept(stream).await {
                                    serve_connection(stream, shared, peer).await;
                                }
                            }
                        }
                    });
                }
            }
        }
    });
    // Open watches and pending deletions end with the runtime.
    rt.shutdown_background();
}

/// One HTTP/1.1 connection, plain or TLS; `peer` is what TLS learned about the client.
async fn serve_connection<S>(stream: S, shared: Arc<Shared>, peer: tls::Peer)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| handle(shared.clone(), peer.clone(), req));
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

fn full(body: impl Into<Bytes>) -> Body {
    Full::new(body.into()).boxed()
}

fn json_response(code: u16, value: &Value) -> Response<Body> {
    Response::builder()
        .status(code)
        .header("Content-Type", "application/json")
        .header("Cache-Control", "no-cache, private")
        .body(full(value.to_string()))
        .expect("response")
}

fn error_response(err: &ApiError) -> Response<Body> {
    let mut resp = json_response(err.code, &err.to_json());
    if let Some(secs) = err.retry_after {
        resp.headers_mut().insert("Retry-After", secs.into());
    }
    resp
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_query(raw: &str) -> BTreeMap<String, String> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Everything a handler needs about one request.
struct Call {
    method: Method,
    query: BTreeMap<String, String>,
    content_type: String,
    body: Bytes,
    drop_watch_after: Option<usize>,
}

impl Call {
    fn param(&self, key: &str) -> Option<&str> {
        self.query
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn flag(&self, key: &str) -> bool {
        matches!(self.param(key), Some("true" | "1"))
    }

    fn dry_run(&self, body: Option<&Value>) -> bool {
        self.param("dryRun") == Some("All")
            || body
                .and_then(|b| b.get("dryRun"))
                .is_some_and(|d| d.as_array().is_some_and(|a| a.iter().any(|x| x == "All")))
    }
}

async fn handle(
    shared: Arc<Shared>,
    peer: tls::Peer,
    req: hyper::Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().unwrap_or_default().to_string();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let request = Request {
        method: parts.method.to_string(),
        path: path.clone(),
        query: parse_query(&raw_query),
        raw_query: raw_query.clone(),
        accept: header("accept"),
        content_type: header("content-type"),
        authorization: header("authorization"),
        client_cert_user: peer.user.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let (fault, token) = {
        let mut state = shared.lock();
        state.requests.push(request.clone());
        let target = format!("{path}?{raw_query}");
        let fault = state
            .faults
            .iter_mut()
            .find(|(f, used)| {
                f.method.is_none_or(|m| m == parts.method.as_str())
                    && target.contains(&f.path_contains)
                    && f.times.is_none_or(|t| *used < t)
            })
            .map(|(f, used)| {
                *used += 1;
                f.clone()
            });
        (fault, state.token.clone())
    };
    if let Some(fault) = &fault {
        if let Some(delay) = fault.delay {
            tokio::time::sleep(delay).await;
        }
        if fault.status >= 400 {
            return Ok(error_response(&ApiError::for_code(
                fault.status,
                fault.reason.clone(),
                fault.message.clone(),
            )));
        }
    }
    // Like kube-apiserver's union of authenticators: a verified client certificate (x509) or
    // the required token authenticates; without either, a server that takes client
    // certificates refuses the anonymous request, and a plain one without a token admits it.
    let bearer_ok =
        |token: &str| request.authorization.as_deref() == Some(&format!("Bearer {token}"));
    let authenticated = peer.user.is_some()
        || match &token {
            Some(token) => bearer_ok(token),
            None => !peer.certs_required,
        };
    if !authenticated {
        return Ok(error_response(&ApiError::unauthorized()));
    }
    let call = Call {
        method: parts.method,
        query: request.query,
        content_type: request.content_type.unwrap_or_default(),
        body,
        drop_watch_after: fault.and_then(|f| f.drop_watch_after),
    };
    Ok(route(&shared, &path, call).unwrap_or_else(|e| error_response(&e)))
}

fn route(shared: &Arc<Shared>, path: &str, call: Call) -> Result<Response<Body>, ApiError> {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let discovery = |doc: Option<Value>| {
        doc.map(|d| json_response(200, &d))
            .ok_or_else(ApiError::unknown_path)
    };
    // Aggregated discovery (`Accept: …;as=APIGroupDiscoveryList`) is answered with the legacy
    // documents as `application/json`; clients fall back to legacy discovery on that.
    match segs.as_slice() {
        ["version"] => discovery(Some(resources::version())),
        ["api"] => discovery(Some(resources::core_versions())),
        ["apis"] => discovery(Some(resources::group_list())),
        ["api", "v1"] => discovery(resources::resource_list("", "v1")),
        ["apis", group] => discovery(resources::group_doc(group)),
        ["apis", group, version] => discovery(resources::resource_list(group, version)),
        ["api", "v1", rest @ ..] => resource_request(shared, "", "v1", rest, call),
        ["apis", group, version, rest @ ..] => resource_request(shared, group, version, rest, call),
        _ => Err(ApiError::unknown_path()),
    }
}

/// What a resource path names.
struct Target {
    res: &'static ResourceDef,
    ns: Option<String>,
    name: Option<String>,
    sub: Option<String>,
}

fn parse_target(group: &str, version: &str, segs: &[&str]) -> Option<Target> {
    let namespaced = segs.len() >= 3
        && segs[0] == "namespaces"
        && resources::by_plural(group, version, segs[2]).is_some();
    let (ns, rest) = if namespaced {
        (Some(segs[1].to_string()), &segs[2..])
    } else {
        (None, segs)
    };
    if rest.is_empty() || rest.len() > 3 {
        return None;
    }
    let res = resources::by_plural(group, version, rest[0])?;
    let name = rest.get(1).map(|s| s.to_string());
    let sub = rest.get(2).map(|s| s.to_string());
    // A namespaced resource is addressed by name only inside its namespace.
    if res.namespaced && ns.is_none() && name.is_some() || !res.namespaced && ns.is_some() {
        return None;
    }
    if sub.as_deref().is_some_and(|s| !res.has_subresource(s)) {
        return None;
    }
    Some(Target { res, ns, name, sub })
}

fn resource_request(
    shared: &Arc<Shared>,
    group: &str,
    version: &str,
    segs: &[&str],
    call: Call,
) -> Result<Response<Body>, ApiError> {
    let target = parse_target(group, version, segs).ok_or_else(ApiError::unknown_path)?;
    let verb = match (&call.method, &target.name) {
        (&Method::GET, None) if call.flag("watch") => "watch",
        (&Method::GET, None) => "list",
        (&Method::GET, Some(_)) => "get",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, None) => "deletecollection",
        (&Method::DELETE, Some(_)) => "delete",
        _ => "",
    };
    {
        let state = shared.lock();
        let resource = match &target.sub {
            Some(sub) => format!("{}/{sub}", target.res.plural),
            None => target.res.plural.to_string(),
        };
        let denied = state.forbidden.iter().any(|(v, r, ns)| {
            v == verb
                && *r == resource
                && ns.as_ref().is_none_or(|ns| Some(ns) == target.ns.as_ref())
        });
        if denied {
            return Err(ApiError::forbidden(
                target.res,
                target.sub.as_deref(),
                target.name.as_deref(),
                verb,
                target.ns.as_deref(),
            ));
        }
    }
    let not_allowed = || {
        ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    };
    match (verb, target.sub.as_deref()) {
        ("list", None) => list(shared, &target, &call),
        ("watch", None) => watch(shared, &target, &call),
        ("get", None | Some("status")) => get(shared, &target),
        ("get", Some("log")) if target.res.plural == "pods" => logs(shared, &target, &call),
        ("create", None) if target.name.is_none() => create(shared, &target, &call),
        ("update", None | Some("status")) => {
            let obj = parse_body(&call.body)?;
            write(shared, &target, obj, call.dry_run(None)).map(|v| json_response(200, &v))
        }
        ("patch", None | Some("status")) => patch(shared, &target, &call),
        ("delete", None) => delete(shared, &target, &call),
        _ => Err(not_allowed()),
    }
}

fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
    })
}

fn name(target: &Target) -> &str {
    target.name.as_deref().unwrap_or_default()
}

fn ns(target: &Target) -> &str {
    target.ns.as_deref().unwrap_or_default()
}

fn get(shared: &Arc<Shared>, target: &Target) -> Result<Response<Body>, ApiError> {
    let state = shared.lock();
    let obj = state
        .store
        .get(target.res, ns(target), name(target))
        .ok_or_else(|| ApiError::not_found(target.res, name(target)))?;
    Ok(json_response(200, obj))
}

/// Continue tokens: hex of `{"rv":…,"start":"ns/name"}`; opaque to clients like the real one.
fn encode_continue(rv: u64, ns: &str, name: &str) -> String {
    json!({"rv": rv, "start": format!("{ns}/{name}")})
        .to_string()
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_continue(token: &str) -> Option<(u64, String, String)> {
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    let v: Value = serde_json::from_slice(&bytes?).ok()?;
    let (ns, name) = v["start"].as_str()?.split_once('/')?;
    Some((v["rv"].as_u64()?, ns.to_string(), name.to_string()))
}

fn selectors(target: &Target, call: &Call) -> Result<(LabelSelector, FieldSelector), ApiError> {
    Ok((
        LabelSelector::parse(call.param("labelSelector").unwrap_or_default())?,
        FieldSelector::parse(call.param("fieldSelector").unwrap_or_default(), target.res)?,
    ))
}

fn list(shared: &Arc<Shared>, target: &Target, call: &Call) -> Result<Response<Body>, ApiError> {
    let (labels, fields) = selectors(target, call)?;
    let start = match call.param("continue") {
        Some(token) => Some(decode_continue(token).ok_or_else(|| {
            ApiError::bad_request(
                "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
            )
        })?),
        None => None,
    };
    let limit = call
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    let state = shared.lock();
    let list_rv = start
        .as_ref()
        .map(|(rv, _, _)| *rv)
        .unwrap_or(state.store.current_rv());
    let mut items: Vec<Value> = state
        .store
        .list(target.res, target.ns.as_deref())
        .into_iter()
        .filter(|o| labels.matches(o) && fields.matches(o))
        .filter(|o| {
            start.as_ref().is_none_or(|(_, ns, name)| {
                (meta_str(o, "namespace"), meta_str(o, "name")) > (ns.as_str(), name.as_str())
            })
        })
        .cloned()
        .collect();
    drop(state);
    let mut metadata = json!({"resourceVersion": list_rv.to_string()});
    if let Some(limit) = limit
        && items.len() > limit
    {
        let remaining = items.len() - limit;
        items.truncate(limit);
        let last = &items[limit - 1];
        metadata["continue"] = json!(encode_continue(
            list_rv,
            meta_str(last, "namespace"),
            meta_str(last, "name")
        ));
        // The real server cannot count what a selector would keep, so it only says when unfiltered.
        if labels.is_empty() && fields.is_empty() {
            metadata["remainingItemCount"] = json!(remaining);
        }
    }
    // Items of a built-in list carry no apiVersion/kind of their own.
    for item in &mut items {
        if let Some(m) = item.as_object_mut() {
            m.remove("apiVersion");
            m.remove("kind");
        }
    }
    Ok(json_response(
        200,
        &json!({"kind": format!("{}List", target.res.kind), "apiVersion": target.res.api_version(), "metadata": metadata, "items": items}),
    ))
}

fn watch_line(kind: &str, obj: &Value) -> Bytes {
    let mut line = json!({"type": kind, "object": obj}).to_string();
    line.push('\n');
    Bytes::from(line)
}

fn watch(shared: &Arc<Shared>, target: &Target, call: &Call) -> Result<Response<Body>, ApiError> {
    let (labels, fields) = selectors(target, call)?;
    let matches = move |o: &Value| labels.matches(o) && fields.matches(o);
    let from = call
        .param("resourceVersion")
        .filter(|rv| *rv != "0")
        .map(|rv| {
            rv.parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!(
                    "resourceVersion: Invalid value: \"{rv}\": must be a numeric value"
                ))
            })
        });
    let from = from.transpose()?;
    let send_initial = call.flag("sendInitialEvents") || from.is_none();
    let bookmark_end = call.flag("sendInitialEvents") && call.flag("allowWatchBookmarks");
    let (res, ns) = (target.res, target.ns.clone());
    let in_scope = move |e: &store::Event| {
        std::ptr::eq(e.res, res)
            && ns
                .as_deref()
                .is_none_or(|ns| ns == meta_str(&e.obj, "namespace"))
    };
    let (initial, subscribed, rv_now) = {
        let state = shared.lock();
        let initial: Vec<Value> = if send_initial {
            state
                .store
                .list(target.res, target.ns.as_deref())
                .into_iter()
                .filter(|o| matches(o))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        let rv_now = state.store.current_rv();
        (
            initial,
            state.store.subscribe(from.unwrap_or(rv_now)),
            rv_now,
        )
    };
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let deadline = call
        .param("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs);
    let drop_after = call.drop_watch_after;
    let kind = target.res.kind;
    let api_version = target.res.api_version();
    let task = async move {
        let (backlog, mut rx_events) = match subscribed {
            Ok(s) => s,
            Err(err) => {
                let _ = tx.send(watch_line("ERROR", &err.to_json())).await;
                return;
            }
        };
        let mut sent = 0usize;
        let limit_hit = |sent: usize| drop_after.is_some_and(|n| sent >= n);
        for obj in &initial {
            if limit_hit(sent) || tx.send(watch_line("ADDED", obj)).await.is_err() {
                return;
            }
            sent += 1;
        }
        if bookmark_end {
            let bookmark = json!({"kind": kind, "apiVersion": api_version, "metadata": {
                "resourceVersion": rv_now.to_string(),
                "annotations": {"k8s.io/initial-events-end": "true"}}});
            if tx.send(watch_line("BOOKMARK", &bookmark)).await.is_err() {
                return;
            }
        }
        let mut pending = backlog.into_iter();
        loop {
            if limit_hit(sent) {
                return;
            }
            let event = match pending.next() {
                Some(e) => e,
                None => match rx_events.recv().await {
                    Ok(e) => e,
                    Err(_) => return,
                },
            };
            if !in_scope(&event) {
                continue;
            }
            let now_in = event.kind != "DELETED" && matches(&event.obj);
            let was_in = match event.kind {
                "ADDED" => false,
                "DELETED" => matches(&event.obj),
                _ => event.prev.as_ref().is_some_and(&matches),
            };
            let kind = match (was_in, now_in) {
                (true, true) => "MODIFIED",
                (false, true) => "ADDED",
                (true, false) => "DELETED",
                (false, false) => continue,
            };
            if tx.send(watch_line(kind, &event.obj)).await.is_err() {
                return;
            }
            sent += 1;
        }
    };
    tokio::spawn(async move {
        match deadline {
            Some(d) => {
                let _ = tokio::time::timeout(d, task).await;
            }
            None => task.await,
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok(Frame::data(b)), rx))
    });
    Ok(Response::builder()
        .status(200)
        .header("Content-Type", "application/json")
        .header("Cache-Control", "no-cache, private")
        .body(StreamBody::new(stream).boxed())
        .expect("watch response"))
}

fn logs(shared: &Arc<Shared>, target: &Target, call: &Call) -> Result<Response<Body>, ApiError> {
    let state = shared.lock();
    let pod_name = name(target);
    let pod = state
        .store
        .get(target.res, ns(target), pod_name)
        .ok_or_else(|| ApiError::not_found(target.res, pod_name))?;
    let names = |list: &str| -> Vec<String> {
        pod.pointer(&format!("/spec/{list}"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|c| c["name"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (containers, inits, ephemeral) = (
        names("containers"),
        names("initContainers"),
        names("ephemeralContainers"),
    );
    let container = match call.param("container") {
        Some(c) => {
            if !containers
                .iter()
                .chain(&inits)
                .chain(&ephemeral)
                .any(|n| n == c)
            {
                return Err(ApiError::bad_request(format!(
                    "container {c} is not valid for pod {pod_name}"
                )));
            }
            c.to_string()
        }
        None if containers.len() == 1 => containers[0].clone(),
        None if containers.is_empty() => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {pod_name}"
            )));
        }
        None => {
            let mut msg = format!(
                "a container name must be specified for pod {pod_name}, choose one of: [{}]",
                containers.join(" ")
            );
            if !inits.is_empty() {
                msg.push_str(&format!(
                    " or one of the init containers: [{}]",
                    inits.join(" ")
                ));
            }
            if !ephemeral.is_empty() {
                msg.push_str(&format!(
                    " or one of the ephemeral containers: [{}]",
                    ephemeral.join(" ")
                ));
            }
            return Err(ApiError::bad_request(msg));
        }
    };
    let previous = call.flag("previous");
    let key = (
        ns(target).to_string(),
        pod_name.to_string(),
        container.clone(),
        previous,
    );
    let text = match state.logs.get(&key) {
        Some(text) => text.clone(),
        None if previous => {
            return Err(ApiError::bad_request(format!(
                "previous terminated container \"{container}\" in pod \"{pod_name}\" not found"
            )));
        }
        // An unscheduled pod has no kubelet to ask: the apiserver answers an empty log.
        None if pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty) =>
        {
            String::new()
        }
        None => {
            let status = [
                "containerStatuses",
                "initContainerStatuses",
                "ephemeralContainerStatuses",
            ]
            .iter()
            .filter_map(|l| {
                pod.pointer(&format!("/status/{l}"))
                    .and_then(Value::as_array)
            })
            .flatten()
            .find(|s| s["name"] == container.as_str());
            match status
                .and_then(|s| s.pointer("/state/waiting/reason"))
                .and_then(Value::as_str)
            {
                Some("ErrImagePull" | "ImagePullBackOff") => {
                    return Err(ApiError::bad_request(format!(
                        "container \"{container}\" in pod \"{pod_name}\" is waiting to start: image can't be pulled"
                    )));
                }
                Some(reason) => {
                    return Err(ApiError::bad_request(format!(
                        "container \"{container}\" in pod \"{pod_name}\" is waiting to start: {reason}"
                    )));
                }
                None => String::new(),
            }
        }
    };
    drop(state);
    let mut lines: Vec<&str> = text.lines().collect();
    if let Some(tail) = call
        .param("tailLines")
        .and_then(|t| t.parse::<usize>().ok())
    {
        lines = lines.split_off(lines.len().saturating_sub(tail));
    }
    let stamp = store::now().replace('Z', ".000000000Z");
    let mut out: String = lines
        .iter()
        .map(|l| {
            if call.flag("timestamps") {
                format!("{stamp} {l}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    if let Some(limit) = call
        .param("limitBytes")
        .and_then(|l| l.parse::<usize>().ok())
    {
        let mut cut = limit.min(out.len());
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    Ok(Response::builder()
        .status(200)
        .header("Content-Type", "text/plain")
        .body(full(out))
        .expect("log response"))
}

fn create(shared: &Arc<Shared>, target: &Target, call: &Call) -> Result<Response<Body>, ApiError> {
    let mut obj = parse_body(&call.body)?;
    let res = target.res;
    if !obj.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON object",
        ));
    }
    if let Some(kind) = obj.get("kind").and_then(Value::as_str)
        && kind != res.kind
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({}) does not match the expected API version ({})",
            obj["apiVersion"].as_str().unwrap_or_default(),
            res.api_version()
        )));
    }
    obj["kind"] = json!(res.kind);
    obj["apiVersion"] = json!(res.api_version());
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    let body_ns = meta_str(&obj, "namespace").to_string();
    if res.namespaced {
        if !body_ns.is_empty() && body_ns != ns(target) {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        obj["metadata"]["namespace"] = json!(ns(target));
    }
    let mut state = shared.lock();
    if meta_str(&obj, "name").is_empty() {
        let generate = meta_str(&obj, "generateName").to_string();
        if generate.is_empty() {
            return Err(ApiError::invalid(
                res,
                "",
                &[status::FieldError::required(
                    "metadata.name",
                    "name or generateName is required",
                )],
            ));
        }
        obj["metadata"]["name"] = json!(format!("{generate}{}", state.store.name_suffix()));
    }
    let obj_name = meta_str(&obj, "name").to_string();
    if res.namespaced && !state.store.namespace_exists(ns(target)) {
        let namespaces = resources::by_plural("", "v1", "namespaces").expect("namespaces resource");
        return Err(ApiError::not_found(namespaces, ns(target)));
    }
    if state.store.get(res, ns(target), &obj_name).is_some() {
        return Err(ApiError::already_exists(res, &obj_name));
    }
    let meta = obj["metadata"].as_object_mut().expect("metadata object");
    for server_set in [
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "resourceVersion",
    ] {
        meta.remove(server_set);
    }
    let uid = state.store.new_uid();
    meta.insert("uid".into(), json!(uid));
    meta.insert("creationTimestamp".into(), json!(store::now()));
    if res.has_generation() {
        meta.insert("generation".into(), json!(1));
    }
    validation::default_pod_specs(res, &mut obj);
    if res.plural == "pods" && res.group.is_empty() {
        validation::admit_pod_create(&mut obj["spec"]);
        if obj.get("status").is_none_or(|s| s.get("phase").is_none()) {
            let qos = validation::qos_class(&obj["spec"]);
            obj["status"] = json!({"phase": "Pending", "qosClass": qos});
        }
    }
    if call.dry_run(None) {
        return Ok(json_response(201, &obj));
    }
    let rv = state.store.next_rv();
    obj["metadata"]["resourceVersion"] = json!(rv.to_string());
    state.store.commit("ADDED", res, obj.clone());
    Ok(json_response(201, &obj))
}

fn without_rv(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
    }
    o
}

/// PUT, and PATCH after the patch is applied: the update path of the generic registry.
fn write(
    shared: &Arc<Shared>,
    target: &Target,
    mut new: Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let res = target.res;
    let obj_name = name(target);
    let mut state = shared.lock();
    let current = state
        .store
        .get(res, ns(target), obj_name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(res, obj_name))?;
    if !new.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON object",
        ));
    }
    if !new.get("metadata").is_some_and(Value::is_object) {
        new["metadata"] = json!({});
    }
    let body_name = meta_str(&new, "name").to_string();
    if body_name.is_empty() {
        new["metadata"]["name"] = json!(obj_name);
    } else if body_name != obj_name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({obj_name})"
        )));
    }
    let body_ns = meta_str(&new, "namespace").to_string();
    if res.namespaced && !body_ns.is_empty() && body_ns != ns(target) {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    let body_rv = meta_str(&new, "resourceVersion");
    if !body_rv.is_empty() && body_rv != meta_str(&current, "resourceVersion") {
        return Err(ApiError::stale(res, obj_name));
    }
    let (body_uid, current_uid) = (meta_str(&new, "uid"), meta_str(&current, "uid"));
    if !body_uid.is_empty() && body_uid != current_uid {
        return Err(ApiError::conflict(
            res.group,
            res.plural,
            obj_name,
            &format!(
                "Precondition failed: UID in precondition: {body_uid}, UID in object meta: {current_uid}"
            ),
        ));
    }
    new["kind"] = json!(res.kind);
    new["apiVersion"] = json!(res.api_version());
    for server_set in [
        "uid",
        "creationTimestamp",
        "namespace",
        "generation",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        match current["metadata"].get(server_set) {
            Some(v) => new["metadata"][server_set] = v.clone(),
            None => {
                new["metadata"]
                    .as_object_mut()
                    .expect("metadata")
                    .remove(server_set);
            }
        }
    }
    let is_status = target.sub.as_deref() == Some("status");
    let m = new.as_object_mut().expect("object");
    if is_status {
        // The status subresource writes status only.
        for (k, v) in current.as_object().expect("stored object") {
            if k != "status" {
                m.insert(k.clone(), v.clone());
            }
        }
    } else {
        // The main resource ignores status.
        match current.get("status") {
            Some(s) => m.insert("status".into(), s.clone()),
            None => m.remove("status"),
        };
        validation::default_pod_specs(res, &mut new);
        if (res.group, res.plural) == ("", "pods") {
            validation::admit_pod_update(&mut new["spec"], &current["spec"]);
        }
        let errs = match (res.group, res.plural) {
            ("", "pods") => validation::validate_pod_update(&new, &current),
            ("batch", "jobs") => validation::validate_job_update(&new, &current),
            _ => Vec::new(),
        };
        if !errs.is_empty() {
            return Err(ApiError::invalid(res, obj_name, &errs));
        }
        if res.has_generation() && new.get("spec") != current.get("spec") {
            let generation = current["metadata"]["generation"].as_i64().unwrap_or(1);
            new["metadata"]["generation"] = json!(generation + 1);
        }
    }
    new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
    // A no-op write keeps the resourceVersion and sends no event.
    if without_rv(&new) == without_rv(&current) || dry_run {
        return Ok(new);
    }
    let rv = state.store.next_rv();
    new["metadata"]["resourceVersion"] = json!(rv.to_string());
    state.store.commit("MODIFIED", res, new.clone());
    Ok(new)
}

fn patch(shared: &Arc<Shared>, target: &Target, call: &Call) -> Result<Response<Body>, ApiError> {
    let res = target.res;
    let current = shared
        .lock()
        .store
        .get(res, ns(target), name(target))
        .cloned()
        .ok_or_else(|| ApiError::not_found(res, name(target)))?;
    let media = call
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    let patch_body: Value = serde_json::from_slice(&call.body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let mut patched = current;
    match media {
        "application/merge-patch+json" => patch::merge_patch(&mut patched, &patch_body),
        "application/strategic-merge-patch+json" => {
            patch::strategic_merge(&mut patched, &patch_body).map_err(ApiError::bad_request)?;
        }
        "application/json-patch+json" => {
            patch::json_patch(&mut patched, &patch_body)
                .map_err(|e| ApiError::new(422, "Invalid", e))?;
        }
        _ => {
            return Err(ApiError::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {media})"
                ),
            ));
        }
    }
    write(shared, target, patched, call.dry_run(None)).map(|v| json_response(200, &v))
}

fn delete(shared: &Arc<Shared>, target: &Target, call: &Call) -> Result<Response<Body>, ApiError> {
    let res = target.res;
    let obj_name = name(target).to_string();
    let opts: Value = if call.body.is_empty() {
        json!({})
    } else {
        parse_body(&call.body)?
    };
    let grace = call
        .param("gracePeriodSeconds")
        .and_then(|g| g.parse::<i64>().ok())
        .or_else(|| opts.get("gracePeriodSeconds").and_then(Value::as_i64));
    let dry_run = call.dry_run(Some(&opts));
    let mut state = shared.lock();
    let mut current = state
        .store
        .get(res, ns(target), &obj_name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(res, &obj_name))?;
    // `rest.BeforeDelete` checks preconditions first and names the resource by its Kind.
    let (cur_uid, cur_rv) = (
        meta_str(&current, "uid").to_string(),
        meta_str(&current, "resourceVersion").to_string(),
    );
    if let Some(uid) = opts.pointer("/preconditions/uid").and_then(Value::as_str)
        && uid != cur_uid
    {
        return Err(ApiError::conflict(
            res.group,
            res.kind,
            &obj_name,
            &format!(
                "the UID in the precondition ({uid}) does not match the UID in record ({cur_uid}). The object might have been deleted and then recreated"
            ),
        ));
    }
    if let Some(rv) = opts
        .pointer("/preconditions/resourceVersion")
        .and_then(Value::as_str)
        && rv != cur_rv
    {
        return Err(ApiError::conflict(
            res.group,
            res.kind,
            &obj_name,
            &format!(
                "the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record ({cur_rv}). The object might have been modified"
            ),
        ));
    }
    let is_pod = res.plural == "pods" && res.group.is_empty();
    let delay = state.deletion_delay;
    if is_pod && !delay.is_zero() && grace != Some(0) {
        if current["metadata"].get("deletionTimestamp").is_some() || dry_run {
            return Ok(json_response(200, &current));
        }
        let seconds = grace
            .or_else(|| {
                current
                    .pointer("/spec/terminationGracePeriodSeconds")
                    .and_then(Value::as_i64)
            })
            .unwrap_or(30);
        let at = k8s_openapi::jiff::Timestamp::now()
            + k8s_openapi::jiff::SignedDuration::from_secs(seconds);
        current["metadata"]["deletionTimestamp"] =
            json!(at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
        current["metadata"]["deletionGracePeriodSeconds"] = json!(seconds);
        let rv = state.store.next_rv();
        current["metadata"]["resourceVersion"] = json!(rv.to_string());
        state.store.commit("MODIFIED", res, current.clone());
        let (shared, ns, uid) = (shared.clone(), ns(target).to_string(), cur_uid);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let mut state = shared.lock();
            if let Some(obj) = state.store.get(res, &ns, &obj_name).cloned()
                && meta_str(&obj, "uid") == uid
            {
                remove(&mut state.store, res, obj);
            }
        });
        return Ok(json_response(200, &current));
    }
    let removed = if dry_run {
        current
    } else {
        remove(&mut state.store, res, current)
    };
    if is_pod {
        return Ok(json_response(200, &removed));
    }
    let mut details =
        json!({"name": obj_name, "kind": res.plural, "uid": meta_str(&removed, "uid")});
    if !res.group.is_empty() {
        details["group"] = json!(res.group);
    }
    Ok(json_response(
        200,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}),
    ))
}

/// Removes an object with a DELETED event carrying a fresh resourceVersion.
fn remove(store: &mut Store, res: &'static ResourceDef, mut obj: Value) -> Value {
    let rv = store.next_rv();
    obj["metadata"]["resourceVersion"] = json!(rv.to_string());
    store.commit("DELETED", res, obj.clone());
    obj
}
