//! The server-side Table kube-apiserver renders for pods when a client asks for it
//! (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, as `kubectl get` does): the pod
//! printer's column definitions, one row per pod with `cells` and the object as
//! `PartialObjectMetadata`.
//!
//! The cells restate kube-apiserver's `printPod` (kubernetes/kubernetes
//! `pkg/printers/internalversion/printers.go`, v1.35 shape with kubernetes#124766's `errorReason`)
//! and apimachinery's `duration.HumanDuration`, read from upstream on their own: this file must not
//! share code with the product's `src/status/print_pod.rs`, or the suite would check the product
//! against itself (see README.md). Also used by `benches/scale.rs` (included by path), so it
//! depends on nothing else in this module.

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};

/// The Table version the first acceptable entry of an `Accept` header asks for (`v1` or
/// `v1beta1`), or `None` when the client wants the objects themselves. kube-apiserver takes the
/// first media type it can serve, so a plain `application/json` listed first wins.
pub fn requested_version(accept: &str) -> Option<&'static str> {
    for clause in accept.split(',') {
        let mut parts = clause.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default();
        if !matches!(media, "application/json" | "application/*" | "*/*") {
            continue;
        }
        let (mut kind, mut group, mut version) = (None, None, None);
        for param in parts {
            match param.split_once('=') {
                Some(("as", v)) => kind = Some(v),
                Some(("g", v)) => group = Some(v),
                Some(("v", v)) => version = Some(v),
                _ => {}
            }
        }
        match (kind, group, version) {
            (None, _, _) => return None,
            (Some("Table"), Some("meta.k8s.io"), Some("v1")) => return Some("v1"),
            (Some("Table"), Some("meta.k8s.io"), Some("v1beta1")) => return Some("v1beta1"),
            // A conversion this server does not offer (PartialObjectMetadata, another version):
            // kube-apiserver skips it and tries the next entry.
            _ => {}
        }
    }
    None
}

/// `includeObject`: what each row's `object` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    /// The query parameter as kube-apiserver reads it; `Err` is its 400 message.
    pub fn parse(param: Option<&str>) -> Result<IncludeObject, String> {
        match param.unwrap_or_default() {
            "" | "Metadata" => Ok(IncludeObject::Metadata),
            "Object" => Ok(IncludeObject::Object),
            "None" => Ok(IncludeObject::None),
            other => Err(format!("unrecognized includeObject value: {other:?}")),
        }
    }
}

const NAME_DOC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const CREATED_DOC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// The pod printer's columns; the last four have priority 1 (shown by `kubectl get -o wide`).
pub fn pod_column_definitions() -> Value {
    let column = |name: &str, format: &str, priority: u8, description: &str| json!({"name": name, "type": "string", "format": format, "description": description, "priority": priority});
    json!([
        column("Name", "name", 0, NAME_DOC),
        column(
            "Ready",
            "",
            0,
            "The aggregate readiness state of this pod for accepting traffic."
        ),
        column(
            "Status",
            "",
            0,
            "The aggregate status of the containers in this pod."
        ),
        column(
            "Restarts",
            "",
            0,
            "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."
        ),
        column("Age", "", 0, CREATED_DOC),
        column(
            "IP",
            "",
            1,
            "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."
        ),
        column(
            "Node",
            "",
            1,
            "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName."
        ),
        column(
            "Nominated Node",
            "",
            1,
            "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods."
        ),
        column(
            "Readiness Gates",
            "",
            1,
            "If specified, all readiness gates will be evaluated for pod readiness."
        ),
    ])
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn items(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn time(v: &Value) -> Option<Timestamp> {
    v.as_str().and_then(|s| s.parse().ok())
}

/// The later of two optional times (`None` is Go's zero time).
fn later(current: Option<Timestamp>, candidate: Option<Timestamp>) -> Option<Timestamp> {
    match (current, candidate) {
        (Some(c), Some(n)) if n > c => Some(n),
        (None, n) => n,
        (c, _) => c,
    }
}

/// apimachinery `duration.HumanDuration`.
pub fn human_duration(d: SignedDuration) -> String {
    let seconds = d.as_secs();
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return match seconds % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{}d", hours / 24),
            h => format!("{}d{h}h", hours / 24),
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        return match (hours / 24) % 365 {
            0 => format!("{}y", hours / 24 / 365),
            d => format!("{}y{d}d", hours / 24 / 365),
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// printers.go `translateTimestampSince`.
fn since(at: Option<Timestamp>, now: Timestamp) -> String {
    match at {
        Some(at) => human_duration(now.duration_since(at)),
        None => "<unknown>".into(),
    }
}

fn last_terminated_at(status: &Value) -> Option<Timestamp> {
    time(&status["lastState"]["terminated"]["finishedAt"])
}

fn exit_code(terminated: &Value) -> i64 {
    terminated["exitCode"].as_i64().unwrap_or(0)
}

fn terminated_reason(prefix: &str, terminated: &Value) -> String {
    let reason = text(&terminated["reason"]);
    let signal = terminated["signal"].as_i64().unwrap_or(0);
    if !reason.is_empty() {
        format!("{prefix}{reason}")
    } else if signal != 0 {
        format!("{prefix}Signal:{signal}")
    } else {
        format!("{prefix}ExitCode:{}", exit_code(terminated))
    }
}

/// READY / STATUS / RESTARTS as printPod computes them.
struct Summary {
    ready: usize,
    total: usize,
    reason: String,
    restarts: i64,
    last_restart: Option<Timestamp>,
}

/// What the init-container pass leaves: `Some(reason)` while the pod is initializing, and the
/// native sidecars' share of the restarts (all that counts once the app containers are walked).
struct InitPass {
    initializing: Option<String>,
    sidecar_restarts: i64,
    sidecar_last: Option<Timestamp>,
}

fn init_pass(pod: &Value, s: &mut Summary) -> InitPass {
    let init_specs = items(&pod["spec"]["initContainers"]);
    // printPod keys the specs by name (the last one wins); a status without a spec is no sidecar.
    let sidecar = |name: &str| {
        init_specs
            .iter()
            .rev()
            .find(|c| text(&c["name"]) == name)
            .is_some_and(|c| text(&c["restartPolicy"]) == "Always")
    };
    let mut sidecar_restarts = 0;
    let mut sidecar_last = None;
    let mut initializing = None;
    for (i, status) in items(&pod["status"]["initContainerStatuses"])
        .iter()
        .enumerate()
    {
        let count = status["restartCount"].as_i64().unwrap_or(0);
        s.restarts += count;
        s.last_restart = later(s.last_restart, last_terminated_at(status));
        let is_sidecar = sidecar(text(&status["name"]));
        if is_sidecar {
            sidecar_restarts += count;
            sidecar_last = later(sidecar_last, last_terminated_at(status));
        }
        let terminated = &status["state"]["terminated"];
        let waiting_reason = text(&status["state"]["waiting"]["reason"]);
        if terminated.is_object() && exit_code(terminated) == 0 {
            continue;
        }
        if is_sidecar && status["started"].as_bool() == Some(true) {
            if status["ready"].as_bool() == Some(true) {
                s.ready += 1;
            }
            continue;
        }
        initializing = Some(if terminated.is_object() {
            terminated_reason("Init:", terminated)
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            format!("Init:{waiting_reason}")
        } else {
            format!("Init:{i}/{}", init_specs.len())
        });
        break;
    }
    InitPass {
        initializing,
        sidecar_restarts,
        sidecar_last,
    }
}

fn condition_true(conditions: &[Value], kind: &str, first_only: bool) -> bool {
    let mut matching = conditions.iter().filter(|c| text(&c["type"]) == kind);
    if first_only {
        matching
            .next()
            .is_some_and(|c| text(&c["status"]) == "True")
    } else {
        matching.any(|c| text(&c["status"]) == "True")
    }
}

/// The app-container pass (walked from the last status to the first, as printPod does).
fn app_pass(pod: &Value, s: &mut Summary) {
    let mut has_running = false;
    let mut error_reason = None;
    for status in items(&pod["status"]["containerStatuses"]).iter().rev() {
        s.restarts += status["restartCount"].as_i64().unwrap_or(0);
        s.last_restart = later(s.last_restart, last_terminated_at(status));
        let waiting_reason = text(&status["state"]["waiting"]["reason"]);
        let terminated = &status["state"]["terminated"];
        if !waiting_reason.is_empty() {
            s.reason = waiting_reason.to_string();
        } else if terminated.is_object() {
            s.reason = terminated_reason("", terminated);
            if exit_code(terminated) != 0 {
                error_reason = Some(s.reason.clone());
            }
        } else if status["ready"].as_bool() == Some(true) && status["state"]["running"].is_object()
        {
            has_running = true;
            s.ready += 1;
        }
    }
    if s.reason == "Completed" {
        let conditions = items(&pod["status"]["conditions"]);
        if has_running && condition_true(conditions, "Ready", false) {
            s.reason = "Running".into();
        } else if let Some(error) = error_reason {
            s.reason = error;
        } else if has_running {
            s.reason = "NotReady".into();
        }
    }
}

fn summarize(pod: &Value) -> Summary {
    let (spec, status) = (&pod["spec"], &pod["status"]);
    let conditions = items(&status["conditions"]);
    let sidecars = items(&spec["initContainers"])
        .iter()
        .filter(|c| text(&c["restartPolicy"]) == "Always")
        .count();
    let phase = text(&status["phase"]);
    let mut reason = match text(&status["reason"]) {
        "" => phase.to_string(),
        r => r.to_string(),
    };
    if conditions
        .iter()
        .any(|c| text(&c["type"]) == "PodScheduled" && text(&c["reason"]) == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }
    let mut s = Summary {
        ready: 0,
        total: items(&spec["containers"]).len() + sidecars,
        reason,
        restarts: 0,
        last_restart: None,
    };
    let init = init_pass(pod, &mut s);
    if let Some(init_reason) = &init.initializing {
        s.reason = init_reason.clone();
    }
    if init.initializing.is_none() || condition_true(conditions, "Initialized", true) {
        s.restarts = init.sidecar_restarts;
        s.last_restart = init.sidecar_last;
        app_pass(pod, &mut s);
    }
    let deleting = !pod["metadata"]["deletionTimestamp"].is_null();
    if deleting && text(&status["reason"]) == "NodeLost" {
        s.reason = "Unknown".into();
    } else if deleting && !matches!(phase, "Succeeded" | "Failed") {
        s.reason = "Terminating".into();
    }
    s
}

/// The nine cells of a pod's row, as kube-apiserver renders them (always the wide set).
pub fn pod_cells(pod: &Value, now: Timestamp) -> Vec<String> {
    let s = summarize(pod);
    let restarts = match s.last_restart {
        Some(at) if s.restarts != 0 => format!("{} ({} ago)", s.restarts, since(Some(at), now)),
        _ => s.restarts.to_string(),
    };
    let (spec, status) = (&pod["spec"], &pod["status"]);
    let or_none = |v: &str| if v.is_empty() { "<none>" } else { v }.to_string();
    let ip = items(&status["podIPs"])
        .first()
        .map(|p| text(&p["ip"]))
        .unwrap_or_default();
    let gates = items(&spec["readinessGates"]);
    let readiness_gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let conditions = items(&status["conditions"]);
        let true_count = gates
            .iter()
            .filter(|g| {
                conditions
                    .iter()
                    .find(|c| c["type"] == g["conditionType"])
                    .is_some_and(|c| text(&c["status"]) == "True")
            })
            .count();
        format!("{true_count}/{}", gates.len())
    };
    vec![
        text(&pod["metadata"]["name"]).to_string(),
        format!("{}/{}", s.ready, s.total),
        s.reason,
        restarts,
        since(time(&pod["metadata"]["creationTimestamp"]), now),
        or_none(ip),
        or_none(text(&spec["nodeName"])),
        or_none(text(&status["nominatedNodeName"])),
        readiness_gates,
    ]
}

/// `meta.AsPartialObjectMetadata`: the object's metadata under the Table's group version;
/// `managedFields` are left out (this stand-in, like the benchmark's, serves rows without them).
pub fn partial_object_metadata(obj: &Value, version: &str) -> Value {
    let mut metadata = obj["metadata"].as_object().cloned().unwrap_or_default();
    metadata.remove("managedFields");
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": format!("meta.k8s.io/{version}"),
        "metadata": metadata,
    })
}

/// One row; `object` is the full pod with its apiVersion/kind for `includeObject=Object`.
pub fn pod_row(pod: &Value, version: &str, include: IncludeObject, now: Timestamp) -> Value {
    let mut row = Map::new();
    row.insert("cells".into(), json!(pod_cells(pod, now)));
    // printPod marks finished pods with a Completed condition (podSuccessConditions / podFailedConditions).
    let finished = match text(&pod["status"]["phase"]) {
        "Succeeded" => Some(("Succeeded", "The pod has completed successfully.")),
        "Failed" => Some(("Failed", "The pod failed.")),
        _ => None,
    };
    if let Some((reason, message)) = finished {
        row.insert(
            "conditions".into(),
            json!([{"type": "Completed", "status": "True", "reason": reason, "message": message}]),
        );
    }
    match include {
        IncludeObject::None => {}
        IncludeObject::Metadata => {
            row.insert("object".into(), partial_object_metadata(pod, version));
        }
        IncludeObject::Object => {
            let mut object = pod.clone();
            if let Some(m) = object.as_object_mut() {
                m.insert("apiVersion".into(), json!("v1"));
                m.insert("kind".into(), json!("Pod"));
            }
            row.insert("object".into(), object);
        }
    }
    Value::Object(row)
}

/// A whole Table of pods; `list_metadata` is the list's (resourceVersion, continue, …).
pub fn pod_table(
    pods: &[Value],
    list_metadata: Value,
    version: &str,
    include: IncludeObject,
    now: Timestamp,
) -> Value {
    let rows: Vec<Value> = pods
        .iter()
        .map(|p| pod_row(p, version, include, now))
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": format!("meta.k8s.io/{version}"),
        "metadata": list_metadata,
        "columnDefinitions": pod_column_definitions(),
        "rows": rows,
    })
}
