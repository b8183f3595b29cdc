//! The benchmark's cluster: N realistic pods of ~9 KiB as kube-apiserver returns them, copied
//! from the golden fixtures (tests/fixtures/pods) in a mix of states, spread over many
//! namespaces, with the `managedFields` a real server keeps (kube-controller-manager for the
//! spec, the kubelet for the status).

use std::path::Path;

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};

/// Fixture and how many of every 20 pods copy it: mostly Running, the rest in the init states
/// the tool is for.
const MIX: &[(&str, usize)] = &[
    ("running.yaml", 8),
    ("sidecar-running-ready.yaml", 2),
    ("completed.yaml", 2),
    ("init-0of2-myapp-pod.yaml", 2),
    ("init-1of2.yaml", 1),
    ("init-crashloopbackoff.yaml", 1),
    ("init-errimagepull.yaml", 1),
    ("app-crashloop-after-init.yaml", 1),
    ("podinitializing.yaml", 1),
    ("init-error.yaml", 1),
];

/// `fieldsV1` of a managedFields entry for the fields present in `value`: `f:<key>` per map key,
/// `k:{"name":…}` for list items with a name, as the API server's field manager writes them.
fn fields_v1(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, child) in map {
                out.insert(format!("f:{key}"), fields_v1(child));
            }
            Value::Object(out)
        }
        Value::Array(items) if items.iter().all(|i| i.get("name").is_some()) => {
            let mut out = Map::new();
            for item in items {
                let key = json!({"name": item["name"]}).to_string();
                let mut fields = fields_v1(item);
                if let Some(m) = fields.as_object_mut() {
                    m.insert(".".into(), json!({}));
                }
                out.insert(format!("k:{key}"), fields);
            }
            Value::Object(out)
        }
        _ => json!({}),
    }
}

fn with_managed_fields(mut pod: Value) -> Value {
    let created = pod["metadata"]["creationTimestamp"].clone();
    let mut meta = pod["metadata"].clone();
    if let Some(m) = meta.as_object_mut() {
        for server_set in [
            "name",
            "namespace",
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "managedFields",
        ] {
            m.remove(server_set);
        }
    }
    let controller = json!({"metadata": meta, "spec": pod["spec"]});
    let kubelet = json!({"status": pod["status"]});
    pod["metadata"]["managedFields"] = json!([
        {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
         "time": created, "fieldsType": "FieldsV1", "fieldsV1": fields_v1(&controller)},
        {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": created,
         "fieldsType": "FieldsV1", "fieldsV1": fields_v1(&kubelet), "subresource": "status"},
    ]);
    pod
}

/// Every RFC 3339 time in `v` moved by `by`.
fn shift_times(v: &mut Value, by: SignedDuration) {
    match v {
        Value::String(s) => {
            if let Ok(t) = s.parse::<Timestamp>()
                && s.len() >= 20
                && let Ok(moved) = t.checked_add(by)
            {
                *s = moved.to_string();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| shift_times(i, by)),
        Value::Object(map) => map.values_mut().for_each(|i| shift_times(i, by)),
        _ => {}
    }
}

fn times(v: &Value, out: &mut Vec<Timestamp>) {
    match v {
        Value::String(s) if s.len() >= 20 => out.extend(s.parse::<Timestamp>().ok()),
        Value::Array(items) => items.iter().for_each(|i| times(i, out)),
        Value::Object(map) => map.values().for_each(|i| times(i, out)),
        _ => {}
    }
}

/// The fixtures' times are minutes to hours before their clock, so AGE and "N (2d23h ago)"
/// would change on the hour while the benchmark runs, and kubectl's Table (cells computed when
/// the server starts) would stop matching initctl (computed when it runs). Move every time back
/// a month or more, where HumanDuration counts whole days, and pick the hour so that no time's
/// age is within hours of a day boundary: cells stay the same for hours.
fn age_shift(templates: &[Value]) -> SignedDuration {
    let mut all = Vec::new();
    templates.iter().for_each(|t| times(t, &mut all));
    let now = Timestamp::now();
    let day = 86_400;
    let newest = all.iter().max().copied().unwrap_or(now);
    let distance_to_boundary = |shift: i64| {
        all.iter()
            .map(|t| {
                let age = now.as_second() - (t.as_second() + shift);
                let into_day = age.rem_euclid(day);
                into_day.min(day - into_day)
            })
            .min()
            .unwrap_or(day)
    };
    // The newest time goes back 30 days, plus the best of 24 hourly offsets.
    let base = now.as_second() - newest.as_second() - 30 * day;
    let best = (0..24)
        .map(|h| base - h * 3600)
        .max_by_key(|shift| distance_to_boundary(*shift))
        .unwrap_or(base);
    SignedDuration::from_secs(best)
}

fn templates() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pods");
    let mut out = Vec::new();
    for (file, weight) in MIX {
        let text = std::fs::read_to_string(dir.join(file)).expect("fixture");
        let pod: Value = serde_saphyr::from_str(&text).expect("fixture YAML");
        let pod = with_managed_fields(pod);
        out.extend(std::iter::repeat_n(pod, *weight));
    }
    let shift = age_shift(&out);
    out.iter_mut().for_each(|p| shift_times(p, shift));
    out
}

/// `n` pods sorted by namespace and name (etcd's key order, as LISTs return them), with
/// apiVersion/kind as a `kubectl get -o json` dump carries them.
pub fn cluster(n: usize) -> Vec<Value> {
    let templates = templates();
    // ~100 pods per namespace: 10 namespaces at 1k, 500 at 50k.
    let namespaces = n.div_ceil(100).max(2);
    let mut pods: Vec<Value> = (0..n)
        .map(|i| {
            let mut pod = templates[i % templates.len()].clone();
            let base = pod["metadata"]["name"]
                .as_str()
                .unwrap_or("pod")
                .to_string();
            let meta = &mut pod["metadata"];
            meta["name"] = json!(format!("{base}-{i:06}"));
            meta["namespace"] = json!(format!("team-{:03}", i % namespaces));
            meta["uid"] = json!(format!("6f1c2d3e-0000-4000-8000-{i:012}"));
            meta["resourceVersion"] = json!((100_000 + i).to_string());
            let ip = format!("10.{}.{}.{}", 64 + (i >> 16) % 64, (i >> 8) & 255, i & 255);
            if pod["status"]["podIP"].is_string() {
                pod["status"]["podIP"] = json!(ip);
                pod["status"]["podIPs"] = json!([{"ip": ip}]);
            }
            if pod["spec"]["nodeName"].is_string() {
                pod["spec"]["nodeName"] = json!(format!("node-{:03}", i % 120));
            }
            pod
        })
        .collect();
    pods.sort_by(|a, b| {
        let key = |p: &Value| {
            (
                p["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                p["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        };
        key(a).cmp(&key(b))
    });
    pods
}
