//! Why a pod cannot be scheduled: the scheduler's `0/N nodes are available: …` message taken
//! apart, and the checks behind its most common reasons redone on the objects we can see (the
//! pod's effective request, a node's taints, labels and allocatable).
//!
//! Everything here is pure: callers fetch the pod and nodes, these functions only reason.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, Node, NodeSelectorRequirement, Pod, PodSpec, Taint, Toleration,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use serde::Serialize;

use crate::util::quantity::Quantity;

mod findings;
mod placement;
mod volumes;
pub(super) use findings::unscheduled;

/// A parsed scheduler fit error (`FitError.Error()` in kube-scheduler).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FitFailure {
    /// N in `0/N nodes are available`.
    pub nodes: u32,
    /// The per-node reasons in the scheduler's order (sorted by their `count text` string).
    pub reasons: Vec<FitReason>,
    /// Everything after the reason list, verbatim: normally the PostFilter (preemption) text,
    /// `preemption: 0/N nodes are available: …`, possibly preceded by other PostFilter plugins'
    /// text such as DRA's `no new claims to deallocate,`. Not parsed: it says what preemption
    /// found, not why the nodes were rejected.
    pub preemption: Option<String>,
}

/// One `count reason` entry of a fit error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FitReason {
    /// How many nodes failed for this reason. A PreFilter message has no count because it
    /// rejects the pod before any node is looked at; it is reported with `count` = all nodes,
    /// which is what the scheduler records for every node in that case.
    pub count: u32,
    /// The reason text as the scheduler wrote it, without the count.
    pub text: String,
    pub kind: FitReasonKind,
}

/// Which scheduler plugin (and so which part of the pod or node) a reason comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub(super) enum FitReasonKind {
    /// NodeResourcesFit: `Insufficient <resource>`; `Too many pods` is resource `pods`.
    Insufficient { resource: String },
    /// TaintToleration. The message names the first untolerated taint's key and value (never its
    /// effect); since v1.35 it names none (`node(s) had untolerated taint(s)`), and neither did
    /// releases before v1.19 (`node(s) had taints that the pod didn't tolerate`): then both are
    /// `None`. [`untolerated_taints`] on the node's taints recovers the rest.
    UntoleratedTaint {
        key: Option<String>,
        value: Option<String>,
    },
    /// NodeAffinity: `nodeSelector` or required node affinity.
    NodeSelectorMismatch,
    /// InterPodAffinity, the pod's own required affinity.
    PodAffinity,
    /// InterPodAffinity, the pod's anti-affinity or existing pods' anti-affinity against it.
    PodAntiAffinity,
    /// PodTopologySpread.
    TopologySpread,
    /// VolumeBinding (and VolumeZone): unbound/missing claims, volume node affinity, capacity.
    VolumeBinding,
    /// NodeVolumeLimits: `node(s) exceed max volume count`.
    VolumeLimits,
    /// NodeUnschedulable: the node is cordoned.
    Unschedulable,
    /// NodePorts: a requested hostPort is taken.
    NodePorts,
    /// NodeName: `spec.nodeName` names another node.
    NodeName,
    /// Anything else (custom plugins, DRA, prefilter-result filtering, …): see `text`.
    Other,
}

/// Parses the scheduler's `PodScheduled=False` / `FailedScheduling` message. Returns `None` for
/// text that is not a fit error (for example a `SchedulerError`).
///
/// Format (kube-scheduler `FitError.Error`): `0/N nodes are available:` then either
/// ` <PreFilter message>.` or ` <count reason, count reason, …>.`, then optionally
/// ` <PostFilter message>`. Events may be truncated; a missing final `.` is tolerated.
pub(super) fn parse_fit_error(message: &str) -> Option<FitFailure> {
    let rest = message.trim().strip_prefix("0/")?;
    let (nodes, rest) = rest.split_once(" nodes are available:")?;
    let nodes: u32 = nodes.parse().ok()?;
    let rest = rest.trim_start();
    // Reason texts never contain ". ", so the first one ends the list.
    let (list, tail) = match rest.split_once(". ") {
        Some((list, tail)) => (list, Some(tail.trim())),
        None => (rest.strip_suffix('.').unwrap_or(rest), None),
    };
    Some(FitFailure {
        nodes,
        reasons: parse_reasons(list, nodes),
        preemption: tail.filter(|t| !t.is_empty()).map(str::to_string),
    })
}

fn parse_reasons(list: &str, nodes: u32) -> Vec<FitReason> {
    let list = list.trim();
    if list.is_empty() {
        return Vec::new();
    }
    let mut entries: Vec<(u32, String)> = Vec::new();
    for part in list.split(", ") {
        match (split_count(part), entries.last_mut()) {
            (Some((count, text)), _) => entries.push((count, text.to_string())),
            // Reason texts may themselves contain ", " (the pre-1.25 taint text
            // `node(s) had taint {k: v}, that the pod didn't tolerate`): a part without a
            // leading count continues the previous reason.
            (None, Some((_, text))) => {
                text.push_str(", ");
                text.push_str(part);
            }
            // No count on the first part: a PreFilter message, which applies to every node.
            (None, None) => {
                entries.push((nodes, list.to_string()));
                break;
            }
        }
    }
    entries
        .into_iter()
        .map(|(count, text)| FitReason {
            count,
            kind: classify(&text),
            text,
        })
        .collect()
}

fn split_count(part: &str) -> Option<(u32, &str)> {
    let (count, text) = part.split_once(' ')?;
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) || text.is_empty() {
        return None;
    }
    Some((count.parse().ok()?, text))
}

/// Maps the scheduler plugins' reason texts (kubernetes/kubernetes
/// `pkg/scheduler/framework/plugins/*`, current and older phrasings) to a kind.
fn classify(text: &str) -> FitReasonKind {
    use FitReasonKind::*;
    if let Some(resource) = text.strip_prefix("Insufficient ") {
        return Insufficient {
            resource: resource.to_string(),
        };
    }
    if let Some(kind) = classify_taint(text) {
        return kind;
    }
    match text {
        "Too many pods" => Insufficient {
            resource: "pods".into(),
        },
        "node(s) didn't match Pod's node affinity/selector"
        | "node(s) didn't match Pod's node affinity"
        | "node(s) didn't match node selector" => NodeSelectorMismatch,
        "node(s) didn't match pod affinity rules" => PodAffinity,
        "node(s) didn't match pod anti-affinity rules"
        | "node(s) didn't satisfy existing pods anti-affinity rules" => PodAntiAffinity,
        "node(s) didn't match pod topology spread constraints"
        | "node(s) didn't match pod topology spread constraints (missing required label)" => {
            TopologySpread
        }
        "pod has unbound immediate PersistentVolumeClaims"
        | "node(s) had volume node affinity conflict"
        | "node(s) didn't find available persistent volumes to bind"
        | "node(s) did not have enough free storage"
        | "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
        | "node(s) had no available volume zone" => VolumeBinding,
        "node(s) exceed max volume count" => VolumeLimits,
        "node(s) were unschedulable" => Unschedulable,
        "node(s) didn't have free ports for the requested pod ports" => NodePorts,
        "node(s) didn't match the requested node name" => NodeName,
        // VolumeBinding's PreFilter: `persistentvolumeclaim "data" not found` and similar.
        _ if text.starts_with("persistentvolumeclaim ") => VolumeBinding,
        _ => Other,
    }
}

fn classify_taint(text: &str) -> Option<FitReasonKind> {
    let named = text
        .strip_prefix("node(s) had untolerated taint {")
        .and_then(|t| t.strip_suffix('}'))
        .or_else(|| {
            text.strip_prefix("node(s) had taint {")
                .and_then(|t| t.strip_suffix("}, that the pod didn't tolerate"))
        });
    if let Some(inner) = named {
        // `{key: value}`; an empty value prints as `{key: }`.
        let (key, value) = inner.split_once(':').unwrap_or((inner, ""));
        return Some(FitReasonKind::UntoleratedTaint {
            key: Some(key.to_string()),
            value: Some(value.trim_start().to_string()),
        });
    }
    matches!(
        text,
        "node(s) had untolerated taint(s)" | "node(s) had taints that the pod didn't tolerate"
    )
    .then_some(FitReasonKind::UntoleratedTaint {
        key: None,
        value: None,
    })
}

/// The pod's effective resource request as the scheduler sums it
/// (component-helpers `resource.PodRequests`, which implements KEP-753 for sidecars):
///
/// * every resource: max(Σ app containers + Σ sidecars,
///   max over init containers i of (request of i + Σ sidecars declared before i));
/// * container requests default to limits where only a limit is given, as the API server does;
/// * pod-level resources (KEP-2837, `spec.resources`), for cpu, memory and `hugepages-*` only:
///   a pod-level request replaces the container aggregate; a resource with a pod-level limit
///   but neither a pod-level request nor any container request takes the limit (the API
///   server's defaulting of pod-level requests);
/// * then `spec.overhead` is added.
///
/// The scheduler's non-zero defaults for containers without requests (100m / 200Mi) are a
/// scoring detail and not applied: they do not affect whether a pod fits. In-place resize
/// status (`status.resources`, allocated resources) is not consulted: a Pending pod has none.
///
/// Fails on a quantity that does not parse (possible only in a manifest never sent to the
/// API server), naming the field.
pub(super) fn effective_requests(pod: &Pod) -> Result<BTreeMap<String, Quantity>, String> {
    let mut total = BTreeMap::new();
    let Some(spec) = &pod.spec else {
        return Ok(total);
    };
    for container in &spec.containers {
        add_into(&mut total, &container_requests(container)?);
    }
    let mut sidecars = BTreeMap::new();
    let mut init_peak = BTreeMap::new();
    for container in spec.init_containers.iter().flatten() {
        let requests = container_requests(container)?;
        let in_use = if container.restart_policy.as_deref() == Some("Always") {
            // A sidecar keeps running next to the app containers, and next to every init
            // container that starts after it.
            add_into(&mut total, &requests);
            add_into(&mut sidecars, &requests);
            sidecars.clone()
        } else {
            let mut in_use = requests;
            add_into(&mut in_use, &sidecars);
            in_use
        };
        max_into(&mut init_peak, &in_use);
    }
    max_into(&mut total, &init_peak);
    apply_pod_level(&mut total, spec)?;
    if let Some(overhead) = &spec.overhead {
        add_into(&mut total, &parse_list(overhead, "spec.overhead")?);
    }
    Ok(total)
}

fn container_requests(container: &Container) -> Result<BTreeMap<String, Quantity>, String> {
    let Some(resources) = &container.resources else {
        return Ok(BTreeMap::new());
    };
    let field = |part: &str| format!("container {:?} resources.{part}", container.name);
    let mut requests = match &resources.limits {
        Some(limits) => parse_list(limits, &field("limits"))?,
        None => BTreeMap::new(),
    };
    if let Some(explicit) = &resources.requests {
        requests.extend(parse_list(explicit, &field("requests"))?);
    }
    Ok(requests)
}

fn apply_pod_level(total: &mut BTreeMap<String, Quantity>, spec: &PodSpec) -> Result<(), String> {
    let Some(resources) = &spec.resources else {
        return Ok(());
    };
    let supported = |name: &str| matches!(name, "cpu" | "memory") || name.starts_with("hugepages-");
    if let Some(limits) = &resources.limits {
        for (name, limit) in parse_list(limits, "spec.resources.limits")? {
            if supported(&name) && !total.contains_key(&name) {
                total.insert(name, limit);
            }
        }
    }
    if let Some(requests) = &resources.requests {
        for (name, request) in parse_list(requests, "spec.resources.requests")? {
            if supported(&name) {
                total.insert(name, request);
            }
        }
    }
    Ok(())
}

fn parse_list(
    list: &BTreeMap<String, K8sQuantity>,
    field: &str,
) -> Result<BTreeMap<String, Quantity>, String> {
    list.iter()
        .map(|(name, q)| {
            Quantity::try_from(q)
                .map(|q| (name.clone(), q))
                .map_err(|e| format!("{field}.{name}: {e}"))
        })
        .collect()
}

fn add_into(total: &mut BTreeMap<String, Quantity>, add: &BTreeMap<String, Quantity>) {
    for (name, q) in add {
        *total.entry(name.clone()).or_default() += *q;
    }
}

fn max_into(total: &mut BTreeMap<String, Quantity>, other: &BTreeMap<String, Quantity>) {
    for (name, q) in other {
        // Only a strictly larger value replaces, so that an equal value keeps the existing
        // quantity's format (as apimachinery's max does).
        match total.get_mut(name) {
            Some(existing) if *existing >= *q => {}
            Some(existing) => *existing = *q,
            None => {
                total.insert(name.clone(), *q);
            }
        }
    }
}

/// The taints among `taints` that keep a pod with `tolerations` off the node: those with effect
/// `NoSchedule` or `NoExecute` (`PreferNoSchedule` only lowers a node's score) that no
/// toleration tolerates.
pub(super) fn untolerated_taints(taints: &[Taint], tolerations: &[Toleration]) -> Vec<Taint> {
    taints
        .iter()
        .filter(|taint| matches!(taint.effect.as_str(), "NoSchedule" | "NoExecute"))
        .filter(|taint| !tolerations.iter().any(|t| tolerates(t, taint)))
        .cloned()
        .collect()
}

/// [`untolerated_taints`] among `node`'s taints (borrowed, not cloned per node).
pub(super) fn untolerated_on(node: &Node, tolerations: &[Toleration]) -> Vec<Taint> {
    let taints = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or_default();
    untolerated_taints(taints, tolerations)
}

/// `Toleration.ToleratesTaint` (k8s.io/api core/v1): an empty effect matches every effect, an
/// empty key matches every key (valid only with `Exists`, so `Exists` without a key tolerates
/// everything), the operator defaults to `Equal`. The alpha numeric operators (`Gt`/`Lt`,
/// feature-gated) are not supported and tolerate nothing, as with the gate off.
fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect = toleration.effect.as_deref().unwrap_or_default();
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or_default();
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match toleration.operator.as_deref().unwrap_or_default() {
        // An absent value is the empty string on both sides.
        "" | "Equal" => {
            toleration.value.as_deref().unwrap_or_default()
                == taint.value.as_deref().unwrap_or_default()
        }
        "Exists" => true,
        _ => false,
    }
}

/// Why the pod's `nodeSelector` and required node affinity
/// (`requiredDuringSchedulingIgnoredDuringExecution`) reject `node`; empty when both accept it.
/// Node selector terms are ORed, so affinity reasons are listed per term, each with every
/// expression that fails (expressions within a term are ANDed).
pub(super) fn selector_mismatch(pod: &Pod, node: &Node) -> Vec<String> {
    let Some(spec) = &pod.spec else {
        return Vec::new();
    };
    let empty = BTreeMap::new();
    let labels = node.metadata.labels.as_ref().unwrap_or(&empty);
    let node_name = node.metadata.name.as_deref().unwrap_or_default();
    let mut reasons = Vec::new();

    for (key, wanted) in spec.node_selector.iter().flatten() {
        match labels.get(key) {
            Some(actual) if actual == wanted => {}
            Some(actual) => reasons.push(format!(
                "nodeSelector {key}={wanted}: node has {key}={actual}"
            )),
            None => reasons.push(format!(
                "nodeSelector {key}={wanted}: node has no label {key}"
            )),
        }
    }

    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| {
            na.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    if let Some(required) = required {
        let terms = &required.node_selector_terms;
        if terms.is_empty() {
            reasons.push(
                "required node affinity has no nodeSelectorTerms, which matches no node".into(),
            );
        }
        let mut term_reasons = Vec::new();
        for (i, term) in terms.iter().enumerate() {
            let expressions = term.match_expressions.as_deref().unwrap_or_default();
            let fields = term.match_fields.as_deref().unwrap_or_default();
            let prefix = format!("required node affinity term {}", i + 1);
            if expressions.is_empty() && fields.is_empty() {
                // API semantics: an empty node selector term matches no objects.
                term_reasons.push(format!("{prefix}: empty term matches no node"));
                continue;
            }
            let failures: Vec<String> = expressions
                .iter()
                .filter_map(|r| label_requirement_failure(r, labels))
                .chain(
                    fields
                        .iter()
                        .filter_map(|r| field_requirement_failure(r, node_name)),
                )
                .map(|why| format!("{prefix}: {why}"))
                .collect();
            if failures.is_empty() {
                // One matching term satisfies the affinity.
                term_reasons.clear();
                break;
            }
            term_reasons.extend(failures);
        }
        reasons.extend(term_reasons);
    }
    reasons
}

/// Describes a requirement as written in the manifest, e.g. `zone In [a, b]`.
fn describe(req: &NodeSelectorRequirement) -> String {
    let values = req.values.as_deref().unwrap_or_default();
    match req.operator.as_str() {
        "Exists" | "DoesNotExist" => format!("{} {}", req.key, req.operator),
        "Gt" | "Lt" => format!("{} {} {}", req.key, req.operator, values.join(", ")),
        _ => format!("{} {} [{}]", req.key, req.operator, values.join(", ")),
    }
}

/// `None` when the node's labels satisfy the `matchExpressions` entry, else why not.
fn label_requirement_failure(
    req: &NodeSelectorRequirement,
    labels: &BTreeMap<String, String>,
) -> Option<String> {
    let values = req.values.as_deref().unwrap_or_default();
    let actual = labels.get(&req.key);
    let has = || match actual {
        Some(v) => format!("node has {}={v}", req.key),
        None => format!("node has no label {}", req.key),
    };
    let ok = match req.operator.as_str() {
        "In" => actual.is_some_and(|v| values.contains(v)),
        "NotIn" => actual.is_none_or(|v| !values.contains(v)),
        "Exists" => actual.is_some(),
        "DoesNotExist" => actual.is_none(),
        op @ ("Gt" | "Lt") => {
            // Both sides must be integers; the API server admits exactly one value.
            let Some(Ok(bound)) = values.first().map(|v| v.parse::<i64>()) else {
                return Some(format!("{}: value must be one integer", describe(req)));
            };
            match actual.map(|v| v.parse::<i64>()) {
                Some(Ok(v)) => {
                    if op == "Gt" {
                        v > bound
                    } else {
                        v < bound
                    }
                }
                Some(Err(_)) => {
                    return Some(format!("{}: {} is not an integer", describe(req), has()));
                }
                None => false,
            }
        }
        other => return Some(format!("{}: unsupported operator {other}", describe(req))),
    };
    (!ok).then(|| format!("{}: {}", describe(req), has()))
}

/// `None` when the node satisfies the `matchFields` entry; only `metadata.name` with `In` /
/// `NotIn` is valid there.
fn field_requirement_failure(req: &NodeSelectorRequirement, node_name: &str) -> Option<String> {
    let values = req.values.as_deref().unwrap_or_default();
    let named = values.iter().any(|v| v == node_name);
    let ok = match (req.key.as_str(), req.operator.as_str()) {
        ("metadata.name", "In") => named,
        ("metadata.name", "NotIn") => !named,
        _ => return Some(format!("{}: unsupported field selector", describe(req))),
    };
    (!ok).then(|| format!("{}: node name is {node_name}", describe(req)))
}

/// The requested resources that exceed the node's `status.allocatable` outright, e.g.
/// `memory: requests 24Gi, node allocatable 15Gi`. Other pods on the node are ignored (seeing
/// them would mean listing every pod), so an empty result means "could fit on an empty node",
/// not "fits". Zero requests are skipped, as the scheduler skips them. Fails if an allocatable
/// quantity does not parse.
pub(super) fn fits(
    pod_requests: &BTreeMap<String, Quantity>,
    node: &Node,
) -> Result<Vec<String>, String> {
    let empty = BTreeMap::new();
    let allocatable = node
        .status
        .as_ref()
        .and_then(|s| s.allocatable.as_ref())
        .unwrap_or(&empty);
    let mut problems = Vec::new();
    for (name, requested) in pod_requests {
        if requested.is_zero() {
            continue;
        }
        let available = match allocatable.get(name) {
            Some(q) => {
                Quantity::try_from(q).map_err(|e| format!("node status.allocatable.{name}: {e}"))?
            }
            None => Quantity::default(),
        };
        if *requested > available {
            problems.push(format!(
                "{name}: requests {requested}, node allocatable {available}"
            ));
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests;
