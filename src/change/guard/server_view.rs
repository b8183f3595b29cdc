//! A pod as the API server sees it when it validates an update: after decoding (v1 → internal
//! conversion), defaulting and the admission plugins that touch pods on update.
//!
//! Why this matters: `kubectl edit` (and `check`) hand us the user's text, where a line may be
//! missing that the server would put back before `ValidatePodUpdate` ever compares old and new.
//! Defaulting runs on every decode, updates included (the v1 defaulters are registered on the
//! scheme; a strategic-merge patch is applied to the stored JSON and the result decoded, a PUT
//! body is decoded), so a deleted `terminationMessagePath: /dev/termination-log` comes back and is
//! no change at all. We therefore compare *defaulted* pods, and only report what would still
//! differ. Sources: `SetDefaults_PodSpec`, `SetDefaults_Pod`, `SetDefaults_Container`,
//! `SetDefaults_Probe`, `SetDefaults_HTTPGetAction`, `SetDefaults_ObjectFieldSelector`,
//! `SetDefaults_Volume` and the volume-source defaulters in kubernetes/kubernetes
//! `pkg/apis/core/v1/defaults.go`; the `DefaultTolerationSeconds` and `Priority` admission plugins
//! (both act on update); the deprecated `serviceAccount` alias, which conversion drops.
//!
//! Then values are made comparable the way `apiequality.Semantic.DeepEqual` compares Go structs:
//! `null`, `""` and `[]` equal an absent field (omitempty scalars, nil-vs-empty slices), an empty
//! map equals an absent map, and resource quantities compare by value (`500m` = `0.5`). An empty
//! *object* is kept, because for a pointer-to-struct (`securityContext: {}`) it is not nil.

use serde_json::{Map, Value, json};

use crate::util::quantity::Quantity;

/// Keys whose values are Go maps, where `{}` and absent are the same to the server.
const MAP_KEYS: &[&str] = &[
    "labels",
    "annotations",
    "nodeSelector",
    "limits",
    "requests",
    "overhead",
    "matchLabels",
    "volumeAttributes",
];

/// Keys whose values are `ResourceList`s: quantities, compared by value.
const QUANTITY_MAPS: &[&str] = &["limits", "requests", "overhead"];

/// Node taints the `DefaultTolerationSeconds` plugin makes every pod tolerate for 300 s.
const DEFAULT_TOLERATED_TAINTS: &[&str] = &[
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
];

/// One side of an update, defaulted (`*_shown`, what a message should quote) and canonical
/// (`*_cmp`, what equality is decided on). Array indices line up between the two forms.
pub(super) struct View {
    pub meta_shown: Value,
    pub meta_cmp: Value,
    pub spec_shown: Value,
    pub spec_cmp: Value,
}

/// The server's view of `pod`. `live` is given when `pod` is the edited side: admission on update
/// restores some fields from the stored pod when the new object leaves them out.
pub(super) fn view(pod: &Value, live: Option<&Value>) -> View {
    let mut spec = pod.get("spec").cloned().unwrap_or_else(|| json!({}));
    if let Some(spec) = spec.as_object_mut() {
        convert_service_account(spec);
        let live_spec = live.and_then(|l| l.get("spec"));
        if let Some(live_spec) = live_spec {
            restore_priority(spec, live_spec);
        }
        default_tolerations(spec, live_spec);
        default_pod_spec(spec);
    }
    let mut meta = pod.get("metadata").cloned().unwrap_or_else(|| json!({}));
    if let Some(meta) = meta.as_object_mut() {
        // Server-managed bookkeeping: not part of what an edit can change (resourceVersion is
        // the server's concurrency check, generation and managedFields are recomputed).
        for key in ["managedFields", "resourceVersion", "generation", "selfLink"] {
            meta.shift_remove(key);
        }
    }
    let mut spec_cmp = canonical(&spec, None).unwrap_or_else(|| json!({}));
    // Tolerations are a set to the scheduler and the kubelet, and admission appends the ones it
    // restores: their order is no change.
    if let Some(Value::Array(tolerations)) = spec_cmp.get_mut("tolerations") {
        tolerations.sort_by_cached_key(Value::to_string);
    }
    View {
        meta_cmp: canonical(&meta, None).unwrap_or_else(|| json!({})),
        meta_shown: meta,
        spec_cmp,
        spec_shown: spec,
    }
}

/// v1 `serviceAccount` is a deprecated alias that conversion folds into `serviceAccountName`
/// (used only when the latter is empty) and then forgets.
fn convert_service_account(spec: &mut Map<String, Value>) {
    let alias = spec.shift_remove("serviceAccount");
    let name_empty = spec
        .get("serviceAccountName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty);
    if name_empty && let Some(alias) = alias.filter(|a| a.as_str().is_some_and(|s| !s.is_empty())) {
        spec.insert("serviceAccountName".into(), alias);
    }
}

/// The Priority admission plugin keeps the stored `priority` / `preemptionPolicy` when an update
/// leaves them out (changing them is still refused by validation).
fn restore_priority(spec: &mut Map<String, Value>, live_spec: &Value) {
    for key in ["priority", "preemptionPolicy"] {
        if spec.get(key).is_none_or(Value::is_null)
            && let Some(old) = live_spec.get(key).filter(|v| !v.is_null())
        {
            spec.insert(key.into(), old.clone());
        }
    }
}

/// `DefaultTolerationSeconds` adds a `NoExecute` toleration for each default taint that no
/// toleration covers (a toleration covers it with the same or an empty key and effect). On the
/// edited side the stored toleration is put back, so a cluster's own `tolerationSeconds` survives.
fn default_tolerations(spec: &mut Map<String, Value>, live_spec: Option<&Value>) {
    let field = |t: &Value, k: &str| t.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let covers = |t: &Value, key: &str| {
        let (k, effect) = (field(t, "key"), field(t, "effect"));
        (k == key || k.is_empty()) && (effect == "NoExecute" || effect.is_empty())
    };
    let list = spec.entry("tolerations").or_insert(Value::Null);
    if list.is_null() {
        *list = json!([]);
    }
    for key in DEFAULT_TOLERATED_TAINTS {
        let Some(items) = list.as_array_mut() else {
            return;
        };
        if items.iter().any(|t| covers(t, key)) {
            continue;
        }
        let stored = live_spec
            .and_then(|s| s.get("tolerations"))
            .and_then(Value::as_array)
            .and_then(|old| {
                old.iter().find(|t| {
                    field(t, "key") == *key
                        && field(t, "operator") == "Exists"
                        && field(t, "effect") == "NoExecute"
                })
            });
        items.push(stored.cloned().unwrap_or_else(|| {
            json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300})
        }));
    }
}

fn set_default(map: &mut Map<String, Value>, key: &str, value: Value) {
    let slot = map.entry(key).or_insert(Value::Null);
    if slot.is_null() || slot.as_str() == Some("") {
        *slot = value;
    }
}

fn default_pod_spec(spec: &mut Map<String, Value>) {
    set_default(spec, "dnsPolicy", json!("ClusterFirst"));
    set_default(spec, "restartPolicy", json!("Always"));
    set_default(spec, "securityContext", json!({}));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default(spec, "schedulerName", json!("default-scheduler"));
    set_default(spec, "enableServiceLinks", json!(true));
    let host_network = spec.get("hostNetwork").and_then(Value::as_bool) == Some(true);
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        let Some(Value::Array(items)) = spec.get_mut(list) else {
            continue;
        };
        for c in items.iter_mut().filter_map(Value::as_object_mut) {
            default_container(c, host_network, list != "ephemeralContainers");
        }
    }
    if let Some(Value::Array(volumes)) = spec.get_mut("volumes") {
        for v in volumes.iter_mut().filter_map(Value::as_object_mut) {
            default_volume(v);
        }
    }
}

/// `SetDefaults_Container` (+ `SetDefaults_Pod`'s requests-from-limits, which is for regular and
/// init containers only, and host-network host ports).
fn default_container(c: &mut Map<String, Value>, host_network: bool, pod_resources: bool) {
    let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
    let policy = if crate::status::image_ref::tag(image) == "latest" {
        "Always"
    } else {
        "IfNotPresent"
    };
    set_default(c, "imagePullPolicy", json!(policy));
    set_default(c, "terminationMessagePath", json!("/dev/termination-log"));
    set_default(c, "terminationMessagePolicy", json!("File"));
    // ResourceRequirements is a value struct: it is always there, as `{}` at least.
    set_default(c, "resources", json!({}));
    if pod_resources
        && let Some(Value::Object(res)) = c.get_mut("resources")
        && let Some(Value::Object(limits)) = res.get("limits").cloned()
    {
        let requests = res.entry("requests").or_insert(Value::Null);
        if requests.is_null() {
            *requests = json!({});
        }
        if let Some(requests) = requests.as_object_mut() {
            for (k, v) in limits {
                requests.entry(k).or_insert(v);
            }
        }
    }
    if let Some(Value::Array(ports)) = c.get_mut("ports") {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_default(p, "protocol", json!("TCP"));
            if host_network && let Some(port) = p.get("containerPort").cloned() {
                let host = p.entry("hostPort").or_insert(Value::Null);
                if host.is_null() || host.as_i64() == Some(0) {
                    *host = port;
                }
            }
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(Value::Object(p)) = c.get_mut(probe) {
            for (k, v) in [
                ("timeoutSeconds", 1),
                ("periodSeconds", 10),
                ("successThreshold", 1),
                ("failureThreshold", 3),
            ] {
                let slot = p.entry(k).or_insert(Value::Null);
                if slot.is_null() || slot.as_i64() == Some(0) {
                    *slot = json!(v);
                }
            }
        }
    }
    for value in c.values_mut() {
        default_nested(value);
    }
}

/// Types that are defaulted wherever they occur and are always found under the same key:
/// `HTTPGetAction` (probes, lifecycle hooks) and `ObjectFieldSelector` (env, downward API).
fn default_nested(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match (key.as_str(), child.as_object_mut()) {
                    ("httpGet", Some(get)) => {
                        set_default(get, "path", json!("/"));
                        set_default(get, "scheme", json!("HTTP"));
                    }
                    ("fieldRef", Some(sel)) => set_default(sel, "apiVersion", json!("v1")),
                    _ => {}
                }
                default_nested(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(default_nested),
        _ => {}
    }
}

/// `SetDefaults_Volume` (no source → emptyDir) and the volume sources' `defaultMode` (0644) and
/// projected service-account-token `expirationSeconds` (1 h).
fn default_volume(v: &mut Map<String, Value>) {
    if v.iter().all(|(k, val)| k == "name" || val.is_null()) {
        v.insert("emptyDir".into(), json!({}));
    }
    for source in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(Value::Object(s)) = v.get_mut(source) {
            set_default(s, "defaultMode", json!(420));
        }
    }
    let sources = v.get_mut("projected").and_then(|p| p.get_mut("sources"));
    if let Some(Value::Array(sources)) = sources {
        for s in sources.iter_mut() {
            if let Some(Value::Object(token)) = s.get_mut("serviceAccountToken") {
                set_default(token, "expirationSeconds", json!(3600));
            }
        }
    }
    for value in v.values_mut() {
        default_nested(value);
    }
}

/// The comparable form of `value` (found under `key`); `None` when it equals an absent field.
pub(super) fn canonical(value: &Value, key: Option<&str>) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::Number(n) => Some(match n.as_f64() {
            // YAML `1.0` and `1` decode to the same Go integer.
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => json!(f as i64),
            _ => value.clone(),
        }),
        Value::Array(items) if items.is_empty() => None,
        Value::Array(items) => Some(Value::Array(
            // Elements stay in place (a null stays null) so indices match the shown form.
            items
                .iter()
                .map(|i| canonical(i, None).unwrap_or(Value::Null))
                .collect(),
        )),
        Value::Object(map) => {
            let quantities = key.is_some_and(|k| QUANTITY_MAPS.contains(&k));
            let out: Map<String, Value> = map
                .iter()
                .filter_map(|(k, v)| {
                    let v = if quantities { quantity(v) } else { v.clone() };
                    canonical(&v, Some(k)).map(|c| (k.clone(), c))
                })
                .collect();
            if out.is_empty() && key.is_some_and(|k| MAP_KEYS.contains(&k)) {
                None
            } else {
                Some(Value::Object(out))
            }
        }
        _ => Some(value.clone()),
    }
}

/// A quantity by value (nano-units), or the value unchanged when it is not one.
fn quantity(value: &Value) -> Value {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return value.clone(),
    };
    Quantity::parse(&text).map_or_else(|_| value.clone(), |q| json!(format!("{}n", q.nanos())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_treats_go_zero_values_as_absent() {
        let v = json!({"a": null, "b": "", "c": [], "labels": {}, "d": {}, "e": 1.0});
        assert_eq!(canonical(&v, None), Some(json!({"d": {}, "e": 1})));
        let res = json!({"limits": {"cpu": "0.5", "memory": "1Gi"}});
        let same = json!({"limits": {"cpu": "500m", "memory": 1073741824}});
        assert_eq!(canonical(&res, None), canonical(&same, None));
    }

    #[test]
    fn defaulting_restores_deleted_defaults() {
        let pod = json!({"spec": {"containers": [{"name": "a", "image": "busybox",
            "ports": [{"containerPort": 80}],
            "readinessProbe": {"httpGet": {"port": 80}},
            "resources": {"limits": {"cpu": "1"}}}],
            "serviceAccount": "robot"}});
        let v = view(&pod, None);
        let c = &v.spec_shown["containers"][0];
        assert_eq!(c["imagePullPolicy"], "Always");
        assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(c["ports"][0]["protocol"], "TCP");
        assert_eq!(c["readinessProbe"]["periodSeconds"], 10);
        assert_eq!(c["readinessProbe"]["httpGet"]["scheme"], "HTTP");
        assert_eq!(c["resources"]["requests"]["cpu"], "1");
        assert_eq!(v.spec_shown["serviceAccountName"], "robot");
        assert!(v.spec_shown.get("serviceAccount").is_none());
        assert_eq!(v.spec_shown["tolerations"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn admission_restores_priority_and_stored_tolerations() {
        let live = json!({"spec": {"priority": 0, "preemptionPolicy": "PreemptLowerPriority",
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                "effect": "NoExecute", "tolerationSeconds": 600}]}});
        let v = view(&json!({"spec": {}}), Some(&live));
        assert_eq!(v.spec_shown["priority"], 0);
        assert_eq!(v.spec_shown["preemptionPolicy"], "PreemptLowerPriority");
        assert_eq!(v.spec_shown["tolerations"][0]["tolerationSeconds"], 600);
        assert_eq!(v.spec_shown["tolerations"][1]["tolerationSeconds"], 300);
    }
}
