//! What the registry does to a pod (or pod template) on write: defaulting as the v1 defaulters
//! and admission plugins do it, QoS class on create, and `ValidatePodUpdate` (section 2 of the
//! shared Kubernetes semantics reference), on the JSON form.

use std::ops::ControlFlow;

use serde_json::{Map, Value, json};

use super::resources::ResourceDef;
use super::status::FieldError;

/// The list `ValidatePodUpdate` quotes, joined by "," with no space as upstream does.
const UPDATABLE_POD_SPEC_FIELDS: &str = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

fn set_default(map: &mut Map<String, Value>, key: &str, value: Value) {
    map.entry(key.to_string()).or_insert(value);
}

/// `SetDefaults_PodSpec` / `SetDefaults_Container`: applied on every write, so a client that
/// omits a defaulted field does not change it.
pub fn default_pod_spec(spec: &mut Value) {
    let Some(map) = spec.as_object_mut() else {
        return;
    };
    set_default(map, "restartPolicy", json!("Always"));
    set_default(map, "dnsPolicy", json!("ClusterFirst"));
    set_default(map, "schedulerName", json!("default-scheduler"));
    set_default(map, "terminationGracePeriodSeconds", json!(30));
    set_default(map, "securityContext", json!({}));
    set_default(map, "enableServiceLinks", json!(true));
    for list in ["initContainers", "containers"] {
        if let Some(Value::Array(containers)) = map.get_mut(list) {
            for c in containers.iter_mut().filter_map(Value::as_object_mut) {
                let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
                let last = image.rsplit('/').next().unwrap_or_default();
                let latest =
                    !last.contains(':') && !image.contains('@') || last.ends_with(":latest");
                set_default(
                    c,
                    "imagePullPolicy",
                    json!(if latest { "Always" } else { "IfNotPresent" }),
                );
                set_default(c, "terminationMessagePath", json!("/dev/termination-log"));
                set_default(c, "terminationMessagePolicy", json!("File"));
                set_default(c, "resources", json!({}));
            }
        }
    }
}

/// Defaulting the registry applies to every stored object of a kind with a pod spec.
pub fn default_pod_specs(res: &ResourceDef, obj: &mut Value) {
    let pointer = match (res.group, res.plural) {
        ("", "pods") => "/spec",
        ("batch", "cronjobs") => "/spec/jobTemplate/spec/template/spec",
        _ => "/spec/template/spec",
    };
    if let Some(spec) = obj.pointer_mut(pointer) {
        default_pod_spec(spec);
    }
}

/// Admission on pod create: the ServiceAccount plugin, Priority and DefaultTolerationSeconds.
pub fn admit_pod_create(spec: &mut Value) {
    let Some(map) = spec.as_object_mut() else {
        return;
    };
    set_default(map, "serviceAccountName", json!("default"));
    let sa = map["serviceAccountName"].clone();
    set_default(map, "serviceAccount", sa);
    set_default(map, "priority", json!(0));
    set_default(map, "preemptionPolicy", json!("PreemptLowerPriority"));
    add_default_tolerations(map);
}

/// Admission on pod update: the Priority plugin keeps the stored priority and preemption
/// policy when an update leaves them out, and DefaultTolerationSeconds (registered for
/// updates too) adds its tolerations back, so dropping either from an edit is no change.
pub fn admit_pod_update(spec: &mut Value, stored: &Value) {
    let Some(map) = spec.as_object_mut() else {
        return;
    };
    for key in ["priority", "preemptionPolicy"] {
        if map.get(key).is_none_or(Value::is_null)
            && let Some(v) = stored.get(key)
        {
            map.insert(key.into(), v.clone());
        }
    }
    add_default_tolerations(map);
    // Conversion, not admission: the internal pod has only serviceAccountName, and v1's
    // deprecated serviceAccount is written back as its mirror, so editing or dropping the
    // alias alone changes nothing.
    if let Some(name) = map.get("serviceAccountName").cloned() {
        map.insert("serviceAccount".into(), name);
    }
}

/// DefaultTolerationSeconds: tolerate not-ready/unreachable nodes for 300s unless the pod says.
fn add_default_tolerations(map: &mut serde_json::Map<String, Value>) {
    let tolerations = map.entry("tolerations").or_insert_with(|| json!([]));
    if let Value::Array(list) = tolerations {
        for key in [
            "node.kubernetes.io/not-ready",
            "node.kubernetes.io/unreachable",
        ] {
            if !list
                .iter()
                .any(|t| t.get("key").and_then(Value::as_str) == Some(key))
            {
                list.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
            }
        }
    }
}

/// `GetPodQOS` over requests/limits of all containers.
pub fn qos_class(spec: &Value) -> &'static str {
    let containers: Vec<&Value> = ["initContainers", "containers"]
        .iter()
        .filter_map(|l| spec.get(*l).and_then(Value::as_array))
        .flatten()
        .collect();
    let mut any = false;
    let mut guaranteed = true;
    for c in containers {
        let limits = c.pointer("/resources/limits").and_then(Value::as_object);
        let requests = c.pointer("/resources/requests").and_then(Value::as_object);
        if limits.is_some_and(|m| !m.is_empty()) || requests.is_some_and(|m| !m.is_empty()) {
            any = true;
        }
        for res in ["cpu", "memory"] {
            let limit = limits.and_then(|m| m.get(res));
            let request = requests.and_then(|m| m.get(res)).or(limit);
            if limit.is_none() || request != limit {
                guaranteed = false;
            }
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

fn array<'a>(v: &'a Value, key: &str) -> Vec<&'a Value> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// `ValidatePodUpdate`'s spec rules, in upstream order; empty when the update is allowed.
pub fn validate_pod_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let null = Value::Null;
    let new_spec = new.get("spec").unwrap_or(&null);
    let old_spec = old.get("spec").unwrap_or(&null);
    let mut errs = Vec::new();
    // Adding or removing containers stops validation right there.
    if check_containers(new_spec, old_spec, &mut errs).is_break() {
        return errs;
    }
    check_active_deadline(new_spec, old_spec, &mut errs);
    check_tolerations(new_spec, old_spec, &mut errs);
    let old_gates = gate_names(old_spec);
    check_scheduling_gates(new_spec, &old_gates, &mut errs);
    if new_spec == old_spec {
        return errs;
    }
    let munged = munged_spec(new_spec, old_spec, &old_gates, &mut errs);
    if munged != *old_spec {
        errs.push(FieldError::forbidden(
            "spec",
            format!(
                "pod updates may not change fields other than {UPDATABLE_POD_SPEC_FIELDS}\n{}",
                spec_diff(old_spec, &munged)
            ),
        ));
    }
    errs
}

/// Container counts may not change (Break: stop validating), images must be set and trimmed.
fn check_containers(
    new_spec: &Value,
    old_spec: &Value,
    errs: &mut Vec<FieldError>,
) -> ControlFlow<()> {
    for list in ["containers", "initContainers"] {
        let (n, o) = (array(new_spec, list), array(old_spec, list));
        if n.len() != o.len() {
            errs.push(FieldError::forbidden(
                format!("spec.{list}"),
                "pod updates may not add or remove containers",
            ));
            return ControlFlow::Break(());
        }
        for (i, c) in n.iter().enumerate() {
            let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
            let field = format!("spec.{list}[{i}].image");
            if image.is_empty() {
                errs.push(FieldError::required(field, ""));
            } else if image.trim() != image {
                errs.push(FieldError::invalid(
                    field,
                    format!("{image:?}"),
                    "must not have leading or trailing whitespace",
                ));
            }
        }
    }
    ControlFlow::Continue(())
}

/// `activeDeadlineSeconds` may only be set to a positive value or lowered, never removed.
fn check_active_deadline(new_spec: &Value, old_spec: &Value, errs: &mut Vec<FieldError>) {
    let new_ads = new_spec
        .get("activeDeadlineSeconds")
        .and_then(Value::as_i64);
    let old_ads = old_spec
        .get("activeDeadlineSeconds")
        .and_then(Value::as_i64);
    // ValidatePodSpec, which the update runs on the new pod first, wants at least 1.
    if new_ads.is_some_and(|n| n < 1) {
        errs.push(FieldError::invalid(
            "spec.activeDeadlineSeconds",
            new_ads.unwrap_or_default().to_string(),
            "must be between 1 and 2147483647, inclusive",
        ));
    }
    if let Some(n) = new_ads
        && !(0..=i64::from(i32::MAX)).contains(&n)
    {
        errs.push(FieldError::invalid(
            "spec.activeDeadlineSeconds",
            n.to_string(),
            "must be between 0 and 2147483647, inclusive",
        ));
    }
    match (old_ads, new_ads) {
        (Some(o), Some(n)) if n > o => errs.push(FieldError::invalid(
            "spec.activeDeadlineSeconds",
            n.to_string(),
            "must be less than or equal to previous value",
        )),
        (Some(_), None) => errs.push(FieldError::invalid(
            "spec.activeDeadlineSeconds",
            "null",
            "must not update from a positive integer to nil value",
        )),
        _ => {}
    }
}

/// Old tolerations must survive, ignoring tolerationSeconds.
fn check_tolerations(new_spec: &Value, old_spec: &Value, errs: &mut Vec<FieldError>) {
    let strip = |t: &Value| {
        let mut t = t.clone();
        if let Some(m) = t.as_object_mut() {
            m.remove("tolerationSeconds");
        }
        t
    };
    let new_tols: Vec<Value> = array(new_spec, "tolerations")
        .into_iter()
        .map(strip)
        .collect();
    for old_tol in array(old_spec, "tolerations") {
        if !new_tols.contains(&strip(old_tol)) {
            errs.push(FieldError::forbidden(
                "spec.tolerations",
                "existing toleration can not be modified except its tolerationSeconds",
            ));
            break;
        }
    }
}

fn gate_names(spec: &Value) -> Vec<String> {
    let gate_name = |g: &Value| {
        g.get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    array(spec, "schedulingGates")
        .into_iter()
        .map(gate_name)
        .collect()
}

/// Scheduling gates may only be removed.
fn check_scheduling_gates(new_spec: &Value, old_gates: &[String], errs: &mut Vec<FieldError>) {
    for (i, gate) in array(new_spec, "schedulingGates").into_iter().enumerate() {
        let name = gate.get("name").and_then(Value::as_str).unwrap_or_default();
        if !old_gates.iter().any(|g| g == name) {
            errs.push(FieldError::forbidden(
                format!("spec.schedulingGates[{i}].name"),
                format!("only deletion is allowed, but found new scheduling gate '{name}'"),
            ));
        }
    }
}

/// The new spec with what an update may change put back to the old values (images by index,
/// activeDeadlineSeconds, schedulingGates, tolerations, a -1→1 grace period, node selector
/// additions while gated), so that any other difference is forbidden.
fn munged_spec(
    new_spec: &Value,
    old_spec: &Value,
    old_gates: &[String],
    errs: &mut Vec<FieldError>,
) -> Value {
    let mut munged = new_spec.clone();
    for list in ["containers", "initContainers"] {
        if let Some(Value::Array(items)) = munged.get_mut(list) {
            for (i, c) in items.iter_mut().enumerate() {
                let old_image = old_spec
                    .get(list)
                    .and_then(|l| l.get(i))
                    .and_then(|c| c.get("image"))
                    .cloned();
                if let (Some(m), Some(img)) = (c.as_object_mut(), old_image) {
                    m.insert("image".into(), img);
                }
            }
        }
    }
    if let Some(m) = munged.as_object_mut() {
        for key in ["activeDeadlineSeconds", "schedulingGates", "tolerations"] {
            match old_spec.get(key) {
                Some(v) => m.insert(key.into(), v.clone()),
                None => m.remove(key),
            };
        }
        let old_grace = old_spec
            .get("terminationGracePeriodSeconds")
            .and_then(Value::as_i64);
        let new_grace = m
            .get("terminationGracePeriodSeconds")
            .and_then(Value::as_i64);
        if old_grace.is_some_and(|g| g < 0) && new_grace == Some(1) {
            m.insert("terminationGracePeriodSeconds".into(), json!(old_grace));
        }
        // While the old pod is gated, node selector additions are allowed.
        if !old_gates.is_empty() {
            let old_sel = old_spec
                .get("nodeSelector")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let new_sel = m
                .get("nodeSelector")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            if old_sel.iter().all(|(k, v)| new_sel.get(k) == Some(v)) {
                match old_spec.get("nodeSelector") {
                    Some(v) => m.insert("nodeSelector".into(), v.clone()),
                    None => m.remove("nodeSelector"),
                };
            } else {
                errs.push(FieldError::invalid(
                    "spec.nodeSelector",
                    Value::Object(new_sel).to_string(),
                    "only additions to spec.nodeSelector are allowed (no mutations or deletions)",
                ));
            }
        }
    }
    munged
}

/// A readable stand-in for go-cmp's `cmp.Diff(oldPod.Spec, mungedPodSpec)`: one `-`/`+` pair per
/// differing leaf, named by its JSON path.
fn spec_diff(old: &Value, new: &Value) -> String {
    let mut lines = vec!["  core.PodSpec{".to_string()];
    diff_values("", old, new, &mut lines);
    lines.push("  }".to_string());
    lines.join("\n")
}

fn diff_values(path: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.extend(n.keys().filter(|k| !o.contains_key(*k)));
            for k in keys {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                diff_values(
                    &child,
                    o.get(k).unwrap_or(&Value::Null),
                    n.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(o), Value::Array(n)) if o.len() == n.len() => {
            for (i, (a, b)) in o.iter().zip(n).enumerate() {
                diff_values(&format!("{path}[{i}]"), a, b, out);
            }
        }
        _ => {
            if !old.is_null() {
                out.push(format!("- \t{path}: {old}"));
            }
            if !new.is_null() {
                out.push(format!("+ \t{path}: {new}"));
            }
        }
    }
}

/// Job `spec.template` is immutable (`ValidateImmutableField` in `ValidateJobSpecUpdate`).
pub fn validate_job_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let (n, o) = (new.pointer("/spec/template"), old.pointer("/spec/template"));
    if n != o {
        let shown = n.map(Value::to_string).unwrap_or_else(|| "null".into());
        return vec![FieldError::invalid(
            "spec.template",
            shown,
            "field is immutable",
        )];
    }
    Vec::new()
}
