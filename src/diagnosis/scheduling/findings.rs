//! Why the scheduler cannot place the pod (or has not looked at it): one finding for the
//! scheduler's message, then one per reason in it, each checked against the pod and the nodes.

use crate::diagnosis::untrusted_all;
use crate::util::sanitize::Untrusted;
use k8s_openapi::api::core::v1::{Event, Node, Taint, Toleration};

use super::{FitFailure, FitReason, FitReasonKind};
use crate::diagnosis::related::{Lookup, event_line};
use crate::diagnosis::{Diagnosis, Finding, FindingCode, Severity, Stage};

pub(in crate::diagnosis) fn unscheduled(d: &mut Diagnosis) {
    let Some(cond) = d.condition("PodScheduled").cloned() else {
        not_scheduled(d);
        return;
    };
    let message = cond.message.clone().unwrap_or_default();
    let failed: Vec<&Event> = d
        .events
        .iter()
        .copied()
        .filter(|e| e.reason.as_deref() == Some("FailedScheduling"))
        .collect();
    if cond.reason.as_deref() == Some("SchedulerError") {
        d.findings.push(Finding {
            stage: Stage::Unschedulable,
            severity: Severity::Blocker,
            code: FindingCode::SchedulerError,
            message: Untrusted::from(format!("the scheduler failed internally: {}", &message)),
            evidence: untrusted_all(vec![format!(
                "condition PodScheduled=False (SchedulerError): {}",
                &message
            )]),
            next: Untrusted::from(
                "check the kube-scheduler's logs; this is not a property of the pod",
            ),
        });
        return;
    }
    let mut evidence = vec![format!(
        "condition PodScheduled=False ({}): {}",
        cond.reason.clone().unwrap_or_default(),
        &message
    )];
    if let Some(e) = failed.last() {
        evidence.push(event_line(e));
    }
    let Some(fit) = super::parse_fit_error(&message) else {
        d.findings.push(Finding {
            stage: Stage::Unschedulable,
            severity: Severity::Blocker,
            code: FindingCode::Unschedulable,
            message: Untrusted::from(format!("the scheduler cannot place the pod: {}", &message)),
            evidence: untrusted_all(evidence),
            next: Untrusted::from("read the scheduler's message above"),
        });
        return;
    };
    let summary: Vec<String> = fit
        .reasons
        .iter()
        .map(|r| {
            if r.count > 0 {
                format!("{} {}", r.count, r.text)
            } else {
                r.text.clone()
            }
        })
        .collect();
    d.findings.push(Finding {
        stage: Stage::Unschedulable,
        severity: Severity::Blocker,
        code: FindingCode::Unschedulable,
        message: Untrusted::from(format!(
            "no node can run the pod (0/{} nodes): {}",
            fit.nodes,
            summary.join("; ")
        )),
        evidence: untrusted_all(evidence),
        next: Untrusted::from("see the findings below for each reason"),
    });
    for reason in &fit.reasons {
        fit_reason(d, reason);
    }
    preemption(d, &fit);
}

/// No PodScheduled condition: no scheduler has picked the pod up (yet).
fn not_scheduled(d: &mut Diagnosis) {
    let scheduler = d
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.scheduler_name.clone())
        .unwrap_or_else(|| "default-scheduler".into());
    let age = d
        .pod
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| d.now.duration_since(t.0).as_secs())
        .unwrap_or(0);
    let custom = scheduler != "default-scheduler";
    d.findings.push(Finding {
        stage: Stage::NotScheduled,
        severity: if age > 30 || custom {
            Severity::Blocker
        } else {
            Severity::Info
        },
        code: FindingCode::NotScheduled,
        message: Untrusted::from(format!(
            "no scheduler has looked at the pod yet (schedulerName: {scheduler})"
        )),
        evidence: untrusted_all(vec![
            format!("spec.schedulerName: {scheduler}"),
            "no PodScheduled condition".into(),
        ]),
        next: Untrusted::from(if custom {
            format!("check that the scheduler {scheduler:?} is deployed and running")
        } else {
            "check the kube-scheduler (kubectl get pods -n kube-system -l component=kube-scheduler)"
                .into()
        }),
    });
}

/// Whether preemption is making room for the pod, or cannot.
fn preemption(d: &mut Diagnosis, fit: &FitFailure) {
    if let Some(nominated) = d
        .pod
        .status
        .as_ref()
        .and_then(|s| s.nominated_node_name.clone())
        .filter(|n| !n.is_empty())
    {
        d.findings.push(Finding {
            stage: Stage::Unschedulable,
            severity: Severity::Info,
            code: FindingCode::PreemptionPending,
            message: Untrusted::from(format!(
                "the scheduler is preempting lower-priority pods on {nominated} to make room"
            )),
            evidence: untrusted_all(vec![format!("status.nominatedNodeName: {nominated}")]),
            next: Untrusted::from(
                "wait: the pod is scheduled there once the victims have terminated",
            ),
        });
    } else if let Some(p) = &fit.preemption {
        d.findings.push(Finding {
        stage: Stage::Unschedulable,
        severity: Severity::Info,
        code: FindingCode::PreemptionNotPossible,
        message: Untrusted::from("preemption cannot help: evicting lower-priority pods would not make room"),
        evidence: untrusted_all(vec![format!("scheduler: {}", p)]),
        next: Untrusted::from("free capacity or add nodes; a higher priorityClassName only helps if lower-priority pods hold the resources"),
    });
    }
}

/// Evidence lines `node NAME: …` for each node, from `about`; a note when nodes cannot be read.
pub(super) fn per_node(d: &mut Diagnosis, about: impl Fn(&Node) -> Vec<String>) -> Vec<String> {
    let lines = match d.related.nodes() {
        Lookup::Got(nodes) => Ok(nodes
            .iter()
            .flat_map(|node| {
                let name = node.metadata.name.clone().unwrap_or_default();
                about(node)
                    .into_iter()
                    .map(move |line| format!("node {name}: {line}"))
            })
            .collect()),
        Lookup::Unavailable(why) => Err(why.to_string()),
        Lookup::Unfetched => Ok(Vec::new()),
    };
    lines.unwrap_or_else(|why| {
        d.note(format!("cannot check nodes: {why}"));
        Vec::new()
    })
}

fn fit_reason(d: &mut Diagnosis, reason: &FitReason) {
    match &reason.kind {
        FitReasonKind::Insufficient { resource } if resource == "pods" => {
            super::placement::too_many_pods(d, reason)
        }
        FitReasonKind::Insufficient { resource } => insufficient(d, reason, resource),
        FitReasonKind::NodePorts => super::placement::host_port_conflict(d, reason),
        FitReasonKind::TopologySpread => super::placement::topology_spread(d, reason),
        FitReasonKind::VolumeBinding
            if reason.text == "node(s) had volume node affinity conflict" =>
        {
            super::volumes::volume_node_affinity(d, reason)
        }
        FitReasonKind::UntoleratedTaint { key, value } => {
            untolerated_taint(d, reason, key.as_deref(), value.as_deref())
        }
        FitReasonKind::NodeSelectorMismatch => node_selector_mismatch(d, reason),
        FitReasonKind::VolumeBinding => unbound_claims(d, reason),
        _ => scheduling_constraint(d, reason),
    }
}

/// `Insufficient <resource>`: the pod's effective request against each node's allocatable.
fn insufficient(d: &mut Diagnosis, reason: &FitReason, resource: &str) {
    let requests = match super::effective_requests(d.pod) {
        Ok(r) => r,
        Err(why) => {
            d.note(format!("cannot compute the pod's requests: {why}"));
            Default::default()
        }
    };
    let wanted = requests.get(resource).map(|q| q.to_string());
    let mut evidence = vec![format!(
        "effective {resource} request (app + sidecars, or the largest init container with the sidecars before it): {}",
        wanted.clone().unwrap_or_else(|| "none".into())
    )];
    evidence.extend(per_node(d, |node| {
        let alloc = node
            .status
            .as_ref()
            .and_then(|s| s.allocatable.as_ref())
            .and_then(|a| a.get(resource))
            .map(|q| q.0.clone())
            .unwrap_or_else(|| "0".into());
        let mut lines = vec![format!("allocatable {resource} {alloc}")];
        lines.extend(super::fits(&requests, node).unwrap_or_default());
        lines
    }));
    d.findings.push(Finding {
        stage: Stage::Unschedulable,
        severity: Severity::Blocker,
        code: FindingCode::InsufficientResources,
        message: Untrusted::from(format!("{} node(s) lack enough free {resource} for the pod's request {}", reason.count, wanted.unwrap_or_default())),
        evidence: untrusted_all(evidence),
        next: Untrusted::from(format!("lower the pod's {resource} request, free capacity on the nodes, or add a node (the cluster autoscaler does this if configured)")),
    });
}

/// An untolerated taint: the pod's tolerations against each node's taints.
fn untolerated_taint(
    d: &mut Diagnosis,
    reason: &FitReason,
    key: Option<&str>,
    value: Option<&str>,
) {
    let tolerations = d
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.clone())
        .unwrap_or_default();
    let listed: Vec<String> = tolerations.iter().map(toleration_text).collect();
    let mut evidence = vec![
        format!("scheduler: {}", reason.text),
        format!(
            "pod tolerations: {}",
            if listed.is_empty() {
                "none".into()
            } else {
                listed.join(", ")
            }
        ),
    ];
    // The message names key and value only; the nodes tell the effect.
    evidence.extend(per_node(d, |node| {
        let blocking = super::untolerated_on(node, &tolerations);
        if blocking.is_empty() {
            return Vec::new();
        }
        let shown: Vec<String> = blocking.iter().map(taint_text).collect();
        vec![format!("untolerated taint(s) {}", shown.join(", "))]
    }));
    let taint = match (key, value) {
        (Some(k), Some(v)) if !v.is_empty() => format!("{k}={v}"),
        (Some(k), _) => k.to_string(),
        _ => "taints".to_string(),
    };
    if nodes_down(d, key, &tolerations) {
        d.findings.push(Finding {
            stage: Stage::Unschedulable,
            severity: Severity::Blocker,
            code: FindingCode::UntoleratedTaint,
            message: Untrusted::from(format!("{} node(s) are not ready ({taint}): the node lifecycle controller taints nodes whose kubelet is not ready or stopped reporting", reason.count)),
            evidence: untrusted_all(evidence),
            next: Untrusted::from("those nodes are down, not reserved: bring them back or remove them (kubectl describe node), and add capacity if the other nodes cannot take the pod. Do not tolerate node.kubernetes.io/unreachable or not-ready: the pod would be bound to a dead node"),
        });
        return;
    }
    d.findings.push(Finding {
        stage: Stage::Unschedulable,
        severity: Severity::Blocker,
        code: FindingCode::UntoleratedTaint,
        message: Untrusted::from(format!("{} node(s) have {taint}, which the pod does not tolerate", reason.count)),
        evidence: untrusted_all(evidence),
        next: Untrusted::from(format!(
            "add a toleration for {} if the pod belongs on those nodes; otherwise those nodes are reserved for other workloads",
            key.unwrap_or("the taint")
        )),
    });
}

/// Whether the untolerated taint is the one a not-ready node gets: named in the message, or
/// (when the message names none) the only kind the nodes' untolerated taints are.
fn nodes_down(d: &Diagnosis, key: Option<&str>, tolerations: &[Toleration]) -> bool {
    use crate::diagnosis::node::NODE_DOWN_TAINTS;
    if let Some(k) = key {
        return NODE_DOWN_TAINTS.contains(&k);
    }
    let Lookup::Got(nodes) = d.related.nodes_if_fetched() else {
        return false;
    };
    let blocking: Vec<Taint> = nodes
        .iter()
        .flat_map(|n| super::untolerated_on(n, tolerations))
        .collect();
    !blocking.is_empty()
        && blocking
            .iter()
            .all(|t| NODE_DOWN_TAINTS.contains(&t.key.as_str()))
}

/// A toleration as written: `key=value:Effect`, `key exists`, `*` for any key.
fn toleration_text(t: &Toleration) -> String {
    let key = t.key.as_deref().unwrap_or("*");
    let op = match t.operator.as_deref() {
        Some("Exists") => " exists".to_string(),
        _ => format!("={}", t.value.as_deref().unwrap_or_default()),
    };
    let effect = t
        .effect
        .as_ref()
        .map(|e| format!(":{e}"))
        .unwrap_or_default();
    format!("{key}{op}{effect}")
}

/// A taint as kubectl writes it: `key=value:Effect`, or `key:Effect` without a value.
fn taint_text(t: &Taint) -> String {
    let value = t
        .value
        .as_ref()
        .filter(|v| !v.is_empty())
        .map(|v| format!("={v}"))
        .unwrap_or_default();
    format!("{}{value}:{}", t.key, t.effect)
}

/// nodeSelector / required node affinity: which label or term each node fails.
fn node_selector_mismatch(d: &mut Diagnosis, reason: &FitReason) {
    let mut evidence = vec![format!("scheduler: {}", reason.text)];
    if let Some(sel) = d
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.node_selector.clone())
        .filter(|s| !s.is_empty())
    {
        evidence.push(format!(
            "nodeSelector: {}",
            sel.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    evidence.extend(per_node(d, |node| super::selector_mismatch(d.pod, node)));
    d.findings.push(Finding {
        stage: Stage::Unschedulable,
        severity: Severity::Blocker,
        code: FindingCode::NodeSelectorMismatch,
        message: Untrusted::from(format!("{} node(s) do not match the pod's nodeSelector / node affinity", reason.count)),
        evidence: untrusted_all(evidence),
        next: Untrusted::from("fix the pod's nodeSelector/affinity, or label a node to match (kubectl label node NODE key=value)"),
    });
}

/// Any other scheduler reason (affinity, topology spread, ports…): its text.
fn scheduling_constraint(d: &mut Diagnosis, reason: &FitReason) {
    d.findings.push(Finding {
        stage: Stage::Unschedulable,
        severity: Severity::Blocker,
        code: FindingCode::SchedulingConstraint,
        message: Untrusted::from(format!(
            "{}{}",
            if reason.count > 0 {
                format!("{} ", reason.count)
            } else {
                String::new()
            },
            reason.text
        )),
        evidence: untrusted_all(vec![format!("scheduler: {}", reason.text)]),
        next: Untrusted::from("relax the constraint or make room on a node that satisfies it"),
    });
}

pub(super) fn claim_names(d: &Diagnosis) -> Vec<String> {
    d.pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .map(|v| {
            v.iter()
                .filter_map(|v| {
                    v.persistent_volume_claim
                        .as_ref()
                        .map(|c| c.claim_name.clone())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn unbound_claims(d: &mut Diagnosis, reason: &FitReason) {
    let ns = d.namespace().to_string();
    let mut evidence = vec![format!("scheduler: {}", reason.text)];
    let mut unbound = Vec::new();
    let mut unbound_claims = Vec::new();
    match d.related.claims(&ns) {
        Lookup::Got(claims) => {
            for name in claim_names(d) {
                match claims
                    .iter()
                    .find(|c| c.metadata.name.as_deref() == Some(name.as_str()))
                {
                    None => {
                        evidence.push(format!("PersistentVolumeClaim {name} does not exist"));
                        unbound.push(name);
                    }
                    Some(c) => {
                        let phase = c
                            .status
                            .as_ref()
                            .and_then(|s| s.phase.clone())
                            .unwrap_or_else(|| "Pending".into());
                        if phase == "Bound" {
                            continue;
                        }
                        let class = c
                            .spec
                            .as_ref()
                            .and_then(|s| s.storage_class_name.clone())
                            .unwrap_or_else(|| "<default>".into());
                        let mut line =
                            format!("PersistentVolumeClaim {name}: {phase}, storageClass {class}");
                        if let Some(e) = d
                            .related
                            .object_events(&ns, "PersistentVolumeClaim", &name)
                            .last()
                        {
                            line.push_str(&format!(
                                "; latest event {}: {}",
                                e.reason.clone().unwrap_or_default(),
                                e.message.as_deref().unwrap_or_default()
                            ));
                        }
                        evidence.push(line);
                        unbound.push(name);
                        unbound_claims.push(c.clone());
                    }
                }
            }
        }
        Lookup::Unavailable(why) => {
            let why = why.to_string();
            d.note(format!("cannot check PersistentVolumeClaims: {why}"));
        }
        Lookup::Unfetched => {}
    }
    if super::volumes::no_provisioner(d, reason, &unbound_claims) {
        return;
    }
    d.findings.push(Finding {
        stage: Stage::Unschedulable,
        severity: Severity::Blocker,
        code: FindingCode::UnboundVolumeClaim,
        message: Untrusted::from(if unbound.is_empty() { reason.text.clone() } else { format!("PersistentVolumeClaim(s) not bound: {}", unbound.join(", ")) }),
        evidence: untrusted_all(evidence),
        next: Untrusted::from("make the claim bindable: an existing StorageClass with a working provisioner, or a matching PersistentVolume (kubectl describe pvc)"),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tolerations_and_taints_read_as_written() {
        let toleration =
            |v: serde_json::Value| toleration_text(&serde_json::from_value(v).unwrap());
        assert_eq!(
            toleration(
                json!({"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"})
            ),
            "dedicated=gpu:NoSchedule"
        );
        assert_eq!(
            toleration(
                json!({"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"})
            ),
            "node.kubernetes.io/unreachable exists:NoExecute"
        );
        assert_eq!(toleration(json!({"operator": "Exists"})), "* exists");
        let taint = |v: serde_json::Value| taint_text(&serde_json::from_value(v).unwrap());
        assert_eq!(
            taint(json!({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"})),
            "dedicated=gpu:NoSchedule"
        );
        assert_eq!(
            taint(
                json!({"key": "node-role.kubernetes.io/control-plane", "value": "", "effect": "NoSchedule"})
            ),
            "node-role.kubernetes.io/control-plane:NoSchedule"
        );
    }
}
