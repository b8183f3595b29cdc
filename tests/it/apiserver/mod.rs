//! A kube-apiserver stand-in on loopback, for tests that run the real binary and real `kubectl`.
//!
//! It runs on its own thread with its own tokio runtime, serves discovery, the resources the
//! plugin touches (CRUD, LIST with selectors and pagination, WATCH, pod logs), answers errors as
//! real `Status` objects, validates pod updates like `ValidatePodUpdate`, and lets a test inject
//! faults, RBAC denials and token checks. Known differences from kube-apiserver are listed in
//! `tests/it/apiserver/README.md`.

// Handlers, one file per kind of request they serve.
mod delete;
mod get;
mod list;
mod logs;
mod watch;
mod write;

// What the handlers share.
mod fault;
mod http;
mod in_flight;
mod patch;
mod resources;
mod selector;
mod slow;
mod status;
mod store;
mod table;
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
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::sync::oneshot;

pub use fault::Fault;
use http::{Call, error_response, json_response, parse_body, parse_query};
use resources::ResourceDef;
use status::ApiError;
use store::Store;
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
    /// Every header as received (lower-case names, in order), e.g. the Impersonate-* ones.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    /// The values of the header `name` (lower case), in order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

struct State {
    store: Store,
    logs: HashMap<(String, String, String, bool), logs::LogText>,
    /// Rules with how often each has fired.
    faults: Vec<(Fault, usize)>,
    forbidden: Vec<(String, String, Option<String>)>,
    token: Option<String>,
    requests: Vec<Request>,
    deletion_delay: Duration,
    /// `pin_clock`: the "now" of the Table's AGE and RESTARTS cells (else the real clock).
    clock: Option<k8s_openapi::jiff::Timestamp>,
    /// `path?query` of each answer sent gzipped.
    gzipped: Vec<String>,
}

impl State {
    fn now(&self) -> k8s_openapi::jiff::Timestamp {
        self.clock.unwrap_or_else(k8s_openapi::jiff::Timestamp::now)
    }
}

struct Shared {
    state: Mutex<State>,
    in_flight: in_flight::InFlight,
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
                clock: None,
                gzipped: Vec::new(),
            }),
            in_flight: in_flight::InFlight::default(),
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
            logs::LogText::untimed(text),
        );
    }

    /// A log whose lines were written at the given times (RFC 3339), as the kubelet keeps them:
    /// `sinceSeconds`/`sinceTime` select by them and `timestamps` prints them.
    pub fn set_timed_log(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        lines: &[(&str, &str)],
    ) {
        self.shared.lock().logs.insert(
            (namespace.into(), pod.into(), container.into(), false),
            logs::LogText::timed(lines),
        );
    }

    /// A line the running container writes now: sent to every follower of its log.
    pub fn append_log(&self, namespace: &str, pod: &str, container: &str, line: &str) {
        self.shared
            .lock()
            .logs
            .entry((namespace.into(), pod.into(), container.into(), false))
            .or_default()
            .push_now(line);
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

    /// `path?query` of each answer sent gzipped (those of 128 KiB or more, to a client that
    /// accepts gzip), in order.
    pub fn gzipped_answers(&self) -> Vec<String> {
        self.shared.lock().gzipped.clone()
    }

    /// The most requests served at once since the server started or `reset_peak_in_flight`.
    pub fn peak_in_flight(&self) -> usize {
        self.shared.in_flight.peak()
    }

    pub fn reset_peak_in_flight(&self) {
        self.shared.in_flight.reset_peak();
    }

    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// The server's clock for the Table cells (AGE, "N (Xm ago)"), e.g. `harness::NOW`, so they
    /// match what the product prints under `KUBECTL_INITCTL_NOW`.
    pub fn pin_clock(&self, rfc3339: &str) {
        self.shared.lock().clock = Some(rfc3339.parse().expect("RFC 3339 time"));
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

async fn handle(
    shared: Arc<Shared>,
    peer: tls::Peer,
    req: hyper::Request<Incoming>,
) -> Result<Response<Body>, AnswerLost> {
    let _serving = shared.in_flight.enter();
    let (parts, body) = req.into_parts();
    let body = http::body_bytes(body).await;
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
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let (fault, token) = {
        let mut state = shared.lock();
        state.requests.push(request.clone());
        let target = format!("{path}?{raw_query}");
        let fault = fault::take_matching(&mut state.faults, parts.method.as_str(), &target);
        (fault, state.token.clone())
    };
    if let Some(fault) = &fault {
        if let Some(delay) = fault.delay {
            tokio::time::sleep(delay).await;
        }
        if fault.status >= 400 {
            let mut err =
                ApiError::for_code(fault.status, fault.reason.clone(), fault.message.clone());
            if let Some(secs) = fault.retry_after {
                err.retry_after = Some(secs);
                err.details = Some(Box::new(serde_json::json!({"retryAfterSeconds": secs})));
            }
            if let Some(page) = &fault.html_body {
                return Ok(http::html_response(fault.status, page));
            }
            if fault.watch_error
                && request
                    .query
                    .get("watch")
                    .is_some_and(|w| w == "true" || w == "1")
            {
                return Ok(http::json_lines_response(&watch::watch_line(
                    "ERROR",
                    &err.to_json(),
                )));
            }
            return Ok(slow::deliver(error_response(&err), fault).await);
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
    let mut query = request.query;
    if fault.as_ref().is_some_and(|f| f.ignore_limit_bytes) {
        query.remove("limitBytes");
    }
    let call = Call {
        method: parts.method,
        query,
        content_type: request.content_type.unwrap_or_default(),
        accept: request.accept.unwrap_or_default(),
        body,
        drop_watch_after: fault.as_ref().and_then(|f| f.drop_watch_after),
        loop_continue: fault.as_ref().is_some_and(|f| f.loop_continue),
        watch_line: fault.as_ref().and_then(|f| f.watch_line.clone()),
    };
    // Watches and logs are streamed as they are; any other answer may be gzipped.
    let streamed = call.flag("watch") || path.ends_with("/log");
    let gzip = http::accepts_gzip(header("accept-encoding").as_deref()) && !streamed;
    let response = route(&shared, &path, call).unwrap_or_else(|e| error_response(&e));
    let response = match gzip {
        true => {
            let garble = fault.as_ref().is_some_and(|f| f.garble_gzip);
            let (response, gzipped) = http::gzip_large(response, garble).await;
            if gzipped {
                shared.lock().gzipped.push(format!("{path}?{raw_query}"));
            }
            response
        }
        false => response,
    };
    match fault {
        // An error from the service makes hyper close the connection with no response sent.
        Some(f) if f.lose_answer => Err(AnswerLost),
        Some(f) => Ok(slow::deliver(response, &f).await),
        None => Ok(response),
    }
}

/// The answer an injected fault threw away after the request was carried out.
#[derive(Debug)]
struct AnswerLost;

impl std::fmt::Display for AnswerLost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("answer lost on purpose (injected fault)")
    }
}

impl std::error::Error for AnswerLost {}

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
        ("list", None) => list::list(shared, &target, &call),
        ("watch", None) => watch::watch(shared, &target, &call),
        ("get", None | Some("status")) => get::get(shared, &target, &call),
        ("get", Some("log")) if target.res.plural == "pods" => logs::logs(shared, &target, &call),
        ("create", None) if target.name.is_none() => write::create(shared, &target, &call),
        ("update", None | Some("status")) => {
            let obj = parse_body(&call.body)?;
            write::update(shared, &target, obj, call.dry_run(None)).map(|v| json_response(200, &v))
        }
        ("patch", None | Some("status")) => write::patch(shared, &target, &call),
        ("delete", None) => delete::delete(shared, &target, &call),
        _ => Err(not_allowed()),
    }
}

fn name(target: &Target) -> &str {
    target.name.as_deref().unwrap_or_default()
}

fn ns(target: &Target) -> &str {
    target.ns.as_deref().unwrap_or_default()
}
