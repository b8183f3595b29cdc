//! A fast kube-apiserver stand-in for the scale benchmark: the pods are encoded once, pages are
//! assembled from the encoded items and cached, so serving costs the server next to nothing and
//! the clients' own cost is what is measured. Like kube-apiserver it pages LISTs (`limit` /
//! `continue`, `remainingItemCount`), gzips bodies over 128 KiB at level 1 when the client
//! accepts gzip, and answers the pod printer's Table to `Accept: …;as=Table;…` (cells from
//! tests/it/apiserver/table.rs, the object as PartialObjectMetadata without managedFields).
//! Everything else a command asks for (logs, events, Services, EndpointSlices, discovery) gets a
//! small, valid answer.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};
use serde_json::{Value, json};

use crate::table;

/// kube-apiserver's `defaultGzipThresholdBytes`.
const GZIP_THRESHOLD: usize = 128 * 1024;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Format {
    Pods,
    Table,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct PageKey {
    format: Format,
    /// The namespace's range of items (all pods for a cluster-wide LIST).
    scope: (usize, usize),
    start: usize,
    limit: Option<usize>,
    gzip: bool,
}

struct Page {
    body: Bytes,
    gzipped: bool,
    raw_len: usize,
}

pub struct Cluster {
    /// Each pod as a LIST item (no apiVersion/kind), compact JSON.
    items: Vec<Vec<u8>>,
    /// Each pod's Table row (cells computed when the server starts).
    rows: Vec<Vec<u8>>,
    /// (namespace, name) → index; the namespaces' ranges.
    index: HashMap<(String, String), usize>,
    namespaces: HashMap<String, (usize, usize)>,
    columns: String,
}

impl Cluster {
    pub fn new(pods: &[Value]) -> Cluster {
        let now = k8s_openapi::jiff::Timestamp::now();
        let mut items = Vec::with_capacity(pods.len());
        let mut rows = Vec::with_capacity(pods.len());
        let mut index = HashMap::new();
        let mut namespaces: HashMap<String, (usize, usize)> = HashMap::new();
        for (i, pod) in pods.iter().enumerate() {
            let mut item = pod.clone();
            if let Some(m) = item.as_object_mut() {
                m.remove("apiVersion");
                m.remove("kind");
            }
            items.push(serde_json::to_vec(&item).expect("encode"));
            let row = table::pod_row(pod, "v1", table::IncludeObject::Metadata, now);
            rows.push(serde_json::to_vec(&row).expect("encode"));
            let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default();
            let name = pod["metadata"]["name"].as_str().unwrap_or_default();
            index.insert((ns.to_string(), name.to_string()), i);
            namespaces
                .entry(ns.to_string())
                .and_modify(|r| r.1 = i + 1)
                .or_insert((i, i + 1));
        }
        Cluster {
            items,
            rows,
            index,
            namespaces,
            columns: table::pod_column_definitions().to_string(),
        }
    }

    pub fn encoded_bytes(&self) -> usize {
        self.items.iter().map(Vec::len).sum()
    }

    fn page_body(&self, key: PageKey) -> Vec<u8> {
        let (from, to) = key.scope;
        let start = (from + key.start).min(to);
        let end = key.limit.map_or(to, |l| (start + l).min(to));
        let mut meta = json!({"resourceVersion": "200000"});
        if end < to {
            meta["continue"] = json!(format!("c{}", end - from));
            meta["remainingItemCount"] = json!(to - end);
        }
        let (head, parts) = match key.format {
            Format::Pods => (
                format!(r#"{{"kind":"PodList","apiVersion":"v1","metadata":{meta},"items":["#),
                &self.items[start..end],
            ),
            Format::Table => (
                format!(
                    r#"{{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{meta},"columnDefinitions":{},"rows":["#,
                    self.columns
                ),
                &self.rows[start..end],
            ),
        };
        let mut body =
            Vec::with_capacity(head.len() + parts.iter().map(|p| p.len() + 1).sum::<usize>() + 2);
        body.extend_from_slice(head.as_bytes());
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(part);
        }
        body.extend_from_slice(b"]}");
        body
    }
}

pub struct Server {
    pub addr: SocketAddr,
    pub requests: Arc<AtomicU64>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

struct State {
    cluster: Cluster,
    pages: Mutex<HashMap<PageKey, Arc<Page>>>,
    requests: Arc<AtomicU64>,
    /// `SCALE_ENCODE_MBPS`: model kube-apiserver's encoding time (raw bytes per second).
    encode_rate: Option<f64>,
}

impl State {
    fn page(&self, key: PageKey) -> Arc<Page> {
        if let Some(page) = self.pages.lock().unwrap().get(&key) {
            return page.clone();
        }
        let raw = self.cluster.page_body(key);
        let raw_len = raw.len();
        let page = if key.gzip && raw_len > GZIP_THRESHOLD {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(1));
            gz.write_all(&raw).expect("gzip");
            Page {
                body: gz.finish().expect("gzip").into(),
                gzipped: true,
                raw_len,
            }
        } else {
            Page {
                body: raw.into(),
                gzipped: false,
                raw_len,
            }
        };
        let page = Arc::new(page);
        self.pages.lock().unwrap().insert(key, page.clone());
        page
    }
}

pub fn start(cluster: Cluster) -> Server {
    let requests = Arc::new(AtomicU64::new(0));
    let encode_rate = std::env::var("SCALE_ENCODE_MBPS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .map(|mbps| mbps * 1e6);
    let state = Arc::new(State {
        cluster,
        pages: Mutex::new(HashMap::new()),
        requests: requests.clone(),
        encode_rate,
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            loop {
                tokio::select! {
                    _ = &mut rx => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let _ = stream.set_nodelay(true);
                        let state = state.clone();
                        tokio::spawn(async move {
                            let service = hyper::service::service_fn(move |req| {
                                let state = state.clone();
                                async move { Ok::<_, Infallible>(answer(&state, req).await) }
                            });
                            let io = hyper_util::rt::TokioIo::new(stream);
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(io, service)
                                .await;
                        });
                    }
                }
            }
        });
    });
    Server {
        addr,
        requests,
        _shutdown: tx,
    }
}

fn respond(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Content-Type", content_type)
        .body(Full::new(body.into()))
        .expect("response")
}

fn json_answer(status: u16, v: &Value) -> Response<Full<Bytes>> {
    respond(status, "application/json", v.to_string())
}

fn query_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

async fn answer(state: &State, req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let gzip = header("accept-encoding").contains("gzip");
    let wants_table = table::requested_version(&header("accept")) == Some("v1");
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["api"] => json_answer(
            200,
            &json!({"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]}),
        ),
        ["apis"] => json_answer(
            200,
            &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []}),
        ),
        ["api", "v1"] => json_answer(200, &discovery()),
        ["version"] => json_answer(
            200,
            &json!({"major": "1", "minor": "32", "gitVersion": "v1.32.0"}),
        ),
        ["api", "v1", "pods"] => pods(state, None, &query, gzip, wants_table).await,
        ["api", "v1", "namespaces", ns, "pods"] => {
            pods(state, Some(ns), &query, gzip, wants_table).await
        }
        ["api", "v1", "namespaces", ns, "pods", name] => {
            match state.cluster.index.get(&(ns.to_string(), name.to_string())) {
                Some(&i) => respond(200, "application/json", state.cluster.items[i].clone()),
                None => json_answer(
                    404,
                    &json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                "message": format!("pods \"{name}\" not found"), "reason": "NotFound",
                "details": {"name": name, "kind": "pods"}, "code": 404}),
                ),
            }
        }
        ["api", "v1", "namespaces", _, "pods", _, "log"] => respond(
            200,
            "text/plain",
            "waiting for myservice\nnslookup: can't resolve 'myservice.team-000.svc.cluster.local'\n",
        ),
        // Any other collection (events, services, endpointslices, nodes…): empty.
        [.., plural] => json_answer(
            200,
            &json!({"kind": format!("{}List", kind_of(plural)),
            "apiVersion": "v1", "metadata": {"resourceVersion": "200000"}, "items": []}),
        ),
        [] => json_answer(404, &json!({})),
    }
}

fn kind_of(plural: &str) -> String {
    match plural {
        "endpointslices" => "EndpointSlice".into(),
        "services" => "Service".into(),
        "events" => "Event".into(),
        "nodes" => "Node".into(),
        other => other.trim_end_matches('s').to_string(),
    }
}

async fn pods(
    state: &State,
    ns: Option<&str>,
    query: &str,
    gzip: bool,
    table: bool,
) -> Response<Full<Bytes>> {
    let c = &state.cluster;
    let scope = match ns {
        None => (0, c.items.len()),
        Some(ns) => c.namespaces.get(ns).copied().unwrap_or((0, 0)),
    };
    let start = query_param(query, "continue")
        .and_then(|t| t.strip_prefix('c'))
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let limit = query_param(query, "limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0);
    let format = if table { Format::Table } else { Format::Pods };
    let key = PageKey {
        format,
        scope,
        start,
        limit,
        gzip,
    };
    let page = tokio::task::block_in_place(|| state.page(key));
    if let Some(rate) = state.encode_rate {
        tokio::time::sleep(Duration::from_secs_f64(page.raw_len as f64 / rate)).await;
    }
    let mut resp = respond(200, "application/json", page.body.clone());
    if page.gzipped {
        resp.headers_mut()
            .insert("Content-Encoding", "gzip".parse().unwrap());
        resp.headers_mut()
            .insert("Vary", "Accept-Encoding".parse().unwrap());
    }
    resp
}

fn discovery() -> Value {
    let resource = |name: &str, kind: &str, short: &[&str], verbs: &[&str]| {
        json!({"name": name, "singularName": "", "namespaced": true, "kind": kind,
               "verbs": verbs, "shortNames": short, "categories": ["all"]})
    };
    let read = ["get", "list", "watch"];
    json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": [
        resource("pods", "Pod", &["po"], &read),
        resource("pods/log", "Pod", &[], &["get"]),
        resource("events", "Event", &["ev"], &read),
        resource("services", "Service", &["svc"], &read),
        resource("namespaces", "Namespace", &["ns"], &read),
    ]})
}
