//! Before any container runs: scheduling gates, the scheduler, sandbox and volumes; and the
//! pod-level ends (deletion, eviction).

use k8s_openapi::api::core::v1::{Event, Node, Taint, Toleration, Volume};
use k8s_openapi::jiff::Timestamp;

use super::related::{Lookup, event_line};
use super::{Diagnosis, Finding, FindingCode, Severity, Stage};
use crate::diagnosis::scheduling::{self, FitReasonKind};
use crate::util::sanitize::for_terminal;

pub(super) fn gated(d: &mut Diagnosis) {
    let gates: Vec<String> = d
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.scheduling_gates.as_ref())
        .map(|g| g.iter().map(|g| g.name.clone()).collect())
        .unwrap_or_default();
    let mut evidence = vec![format!("spec.schedulingGates: {}", gates.join(", "))];
    if let Some(c) = d
        .condition("PodScheduled")
        .filter(|c| c.reason.as_deref() == Some("SchedulingGated"))
    {
        evidence.push(format!(
            "condition PodScheduled=False (SchedulingGated): {}",
            c.message.clone().unwrap_or_default()
        ));
    }
    let (ns, name) = (d.namespace().to_string(), d.name().to_string());
    d.findings.push(Finding {
        stage: Stage::Gated,
        severity: Severity::Blocker,
        code: FindingCode::SchedulingGated,
        message: format!("the scheduler will not consider the pod until its scheduling gates are removed: {}", gates.join(", ")),
        evidence,
        next: format!(
            "gates are removed by the controller that added them (check it is running); to release the pod by hand: kubectl patch pod {name} -n {ns} --type=json -p '[{{\"op\":\"remove\",\"path\":\"/spec/schedulingGates\"}}]'"
        ),
    });
}

pub(super) fn unscheduled(d: &mut Diagnosis) {
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
            message: format!(
                "the scheduler failed internally: {}",
                for_terminal(&message)
            ),
            evidence: vec![format!(
                "condition PodScheduled=False (SchedulerError): {}",
                for_terminal(&message)
            )],
            next: "check the kube-scheduler's logs; this is not a property of the pod".into(),
        });
        return;
    }
    let mut evidence = vec![format!(
        "condition PodScheduled=False ({}): {}",
        cond.reason.clone().unwrap_or_default(),
        for_terminal(&message)
    )];
    if let Some(e) = failed.last() {
        evidence.push(event_line(e));
    }
    let Some(fit) = scheduling::parse_fit_error(&message) else {
        d.findings.push(Finding {
            stage: Stage::Unschedulable,
            severity: Severity::Blocker,
            code: FindingCode::Unschedulable,
            message: format!(
                "the scheduler cannot place the pod: {}",
                for_terminal(&message)
            ),
            evidence,
            next: "read the scheduler's message above".into(),
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
        message: format!(
            "no node can run the pod (0/{} nodes): {}",
            fit.nodes,
            summary.join("; ")
        ),
        evidence,
        next: "see the findings below for each reason".into(),
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
        message: format!("no scheduler has looked at the pod yet (schedulerName: {scheduler})"),
        evidence: vec![
            format!("spec.schedulerName: {scheduler}"),
            "no PodScheduled condition".into(),
        ],
        next: if custom {
            format!("check that the scheduler {scheduler:?} is deployed and running")
        } else {
            "check the kube-scheduler (kubectl get pods -n kube-system -l component=kube-scheduler)"
                .into()
        },
    });
}

/// Whether preemption is making room for the pod, or cannot.
fn preemption(d: &mut Diagnosis, fit: &scheduling::FitFailure) {
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
            message: format!(
                "the scheduler is preempting lower-priority pods on {nominated} to make room"
            ),
            evidence: vec![format!("status.nominatedNodeName: {nominated}")],
            next: "wait: the pod is scheduled there once the victims have terminated".into(),
        });
    } else if let Some(p) = &fit.preemption {
        d.findings.push(Finding {
        stage: Stage::Unschedulable,
        severity: Severity::Info,
        code: FindingCode::PreemptionNotPossible,
        message: "preemption cannot help: evicting lower-priority pods would not make room".into(),
        evidence: vec![format!("scheduler: {}", for_terminal(p))],
        next: "free capacity or add nodes; a higher priorityClassName only helps if lower-priority pods hold the resources".into(),
    });
    }
}

/// Evidence lines `node NAME: …` for each node, from `about`; a note when nodes cannot be read.
fn per_node(d: &mut Diagnosis, about: impl Fn(&Node) -> Vec<String>) -> Vec<String> {
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

fn fit_reason(d: &mut Diagnosis, reason: &scheduling::FitReason) {
    match &reason.kind {
        FitReasonKind::Insufficient { resource } => insufficient(d, reason, resource),
        FitReasonKind::UntoleratedTaint { key, value } => {
            untolerated_taint(d, reason, key.as_deref(), value.as_deref())
        }
        FitReasonKind::NodeSelectorMismatch => node_selector_mismatch(d, reason),
        FitReasonKind::VolumeBinding => unbound_claims(d, reason),
        _ => scheduling_constraint(d, reason),
    }
}

/// `Insufficient <resource>`: the pod's effective request against each node's allocatable.
fn insufficient(d: &mut Diagnosis, reason: &scheduling::FitReason, resource: &str) {
    let requests = match scheduling::effective_requests(d.pod) {
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
        lines.extend(scheduling::fits(&requests, node).unwrap_or_default());
        lines
    }));
    d.findings.push(Finding {
        stage: Stage::Unschedulable,
        severity: Severity::Blocker,
        code: FindingCode::InsufficientResources,
        message: format!("{} node(s) lack enough free {resource} for the pod's request {}", reason.count, wanted.unwrap_or_default()),
        evidence,
        next: format!("lower the pod's {resource} request, free capacity on the nodes, or add a node (the cluster autoscaler does this if configured)"),
    });
}

/// An untolerated taint: the pod's tolerations against each node's taints.
fn untolerated_taint(
    d: &mut Diagnosis,
    reason: &scheduling::FitReason,
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
        let taints = node
            .spec
            .as_ref()
            .and_then(|s| s.taints.clone())
            .unwrap_or_default();
        let blocking = scheduling::untolerated_taints(&taints, &tolerations);
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
    d.findings.push(Finding {
        stage: Stage::Unschedulable,
        severity: Severity::Blocker,
        code: FindingCode::UntoleratedTaint,
        message: format!("{} node(s) have {taint}, which the pod does not tolerate", reason.count),
        evidence,
        next: format!(
            "add a toleration for {} if the pod belongs on those nodes; otherwise those nodes are reserved for other workloads",
            key.unwrap_or("the taint")
        ),
    });
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
fn node_selector_mismatch(d: &mut Diagnosis, reason: &scheduling::FitReason) {
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
    evidence.extend(per_node(d, |node| {
        scheduling::selector_mismatch(d.pod, node)
    }));
    d.findings.push(Finding {
        stage: Stage::Unschedulable,
        severity: Severity::Blocker,
        code: FindingCode::NodeSelectorMismatch,
        message: format!("{} node(s) do not match the pod's nodeSelector / node affinity", reason.count),
        evidence,
        next: "fix the pod's nodeSelector/affinity, or label a node to match (kubectl label node NODE key=value)".into(),
    });
}

/// Any other scheduler reason (affinity, topology spread, ports…): its text.
fn scheduling_constraint(d: &mut Diagnosis, reason: &scheduling::FitReason) {
    d.findings.push(Finding {
        stage: Stage::Unschedulable,
        severity: Severity::Blocker,
        code: FindingCode::SchedulingConstraint,
        message: format!(
            "{}{}",
            if reason.count > 0 {
                format!("{} ", reason.count)
            } else {
                String::new()
            },
            reason.text
        ),
        evidence: vec![format!("scheduler: {}", reason.text)],
        next: "relax the constraint or make room on a node that satisfies it".into(),
    });
}

fn claim_names(d: &Diagnosis) -> Vec<String> {
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

fn unbound_claims(d: &mut Diagnosis, reason: &scheduling::FitReason) {
    let ns = d.namespace().to_string();
    let mut evidence = vec![format!("scheduler: {}", reason.text)];
    let mut unbound = Vec::new();
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
                                for_terminal(e.message.as_deref().unwrap_or_default())
                            ));
                        }
                        evidence.push(line);
                        unbound.push(name);
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
    d.findings.push(Finding {
        stage: Stage::Unschedulable,
        severity: Severity::Blocker,
        code: FindingCode::UnboundVolumeClaim,
        message: if unbound.is_empty() { reason.text.clone() } else { format!("PersistentVolumeClaim(s) not bound: {}", unbound.join(", ")) },
        evidence,
        next: "make the claim bindable: an existing StorageClass with a working provisioner, or a matching PersistentVolume (kubectl describe pvc)".into(),
    });
}

/// Bound to a node, but containers have not started: sandbox, network or volume trouble.
pub(super) fn sandbox(d: &mut Diagnosis) {
    let trouble: Vec<&Event> = d
        .events
        .iter()
        .copied()
        .filter(|e| {
            matches!(
                e.reason.as_deref(),
                Some(
                    "FailedCreatePodSandBox"
                        | "FailedMount"
                        | "FailedAttachVolume"
                        | "FailedKillPod"
                        | "NetworkNotReady"
                )
            )
        })
        .collect();
    let started = |statuses: Option<&Vec<k8s_openapi::api::core::v1::ContainerStatus>>| {
        statuses.into_iter().flatten().any(|cs| {
            cs.state
                .as_ref()
                .is_some_and(|s| s.running.is_some() || s.terminated.is_some())
        })
    };
    let status = d.pod.status.as_ref();
    let any_started = started(status.and_then(|s| s.init_container_statuses.as_ref()))
        || started(status.and_then(|s| s.container_statuses.as_ref()));
    if any_started {
        return;
    }
    let ready_to_start = d
        .condition("PodReadyToStartContainers")
        .map(|c| c.status == "True");
    let mut evidence: Vec<String> = Vec::new();
    if ready_to_start == Some(false) {
        evidence.push("condition PodReadyToStartContainers=False: the sandbox (network, volumes) is not ready".into());
    }
    let by_reason = |reason: &str| {
        trouble
            .iter()
            .rev()
            .find(|e| e.reason.as_deref() == Some(reason))
            .copied()
    };
    for reason in [
        "FailedCreatePodSandBox",
        "NetworkNotReady",
        "FailedAttachVolume",
        "FailedMount",
    ] {
        if let Some(e) = by_reason(reason) {
            evidence.push(event_line(e));
        }
    }
    // Volume sources are checked (a list of Secrets and ConfigMaps) only when mounting failed.
    let missing = if by_reason("FailedMount").is_some() {
        missing_volume_sources(d)
    } else {
        Vec::new()
    };
    evidence.extend(missing.iter().cloned());
    if trouble.is_empty() && missing.is_empty() {
        return;
    }
    let (code, message, next) = if !missing.is_empty() {
        (FindingCode::VolumeSourceMissing, format!("the pod cannot start: {}", missing.join("; ")), "create the missing Secret/ConfigMap (or mark the volume optional); the kubelet retries the mount".to_string())
    } else if by_reason("FailedCreatePodSandBox").is_some()
        || by_reason("NetworkNotReady").is_some()
    {
        (FindingCode::SandboxFailed, "the node cannot create the pod's sandbox (network or runtime)".to_string(), "check the node's CNI plugin and container runtime (kubectl describe node; the CNI pods in kube-system)".to_string())
    } else if by_reason("FailedAttachVolume").is_some() {
        (FindingCode::VolumeAttachFailed, "a volume cannot be attached to the node".to_string(), "check the volume's CSI driver and that the volume is not attached elsewhere (kubectl describe pvc / volumeattachment)".to_string())
    } else {
        (
            FindingCode::VolumeMountFailed,
            "a volume cannot be mounted".to_string(),
            "read the FailedMount message: a missing object, a CSI error, or a permissions problem"
                .to_string(),
        )
    };
    d.findings.push(Finding {
        stage: Stage::Sandbox,
        severity: Severity::Blocker,
        code,
        message,
        evidence,
        next,
    });
}

fn missing_volume_sources(d: &mut Diagnosis) -> Vec<String> {
    let ns = d.namespace().to_string();
    let volumes: Vec<Volume> = d
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.clone())
        .unwrap_or_default();
    let mut wanted: Vec<(&'static str, String, String)> = Vec::new();
    for v in &volumes {
        if let Some(s) = v.secret.as_ref().filter(|s| s.optional != Some(true)) {
            wanted.push((
                "Secret",
                s.secret_name.clone().unwrap_or_default(),
                v.name.clone(),
            ));
        }
        if let Some(c) = v.config_map.as_ref().filter(|c| c.optional != Some(true)) {
            wanted.push(("ConfigMap", c.name.clone(), v.name.clone()));
        }
        for source in v.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
            if let Some(s) = source.secret.as_ref().filter(|s| s.optional != Some(true)) {
                wanted.push(("Secret", s.name.clone(), v.name.clone()));
            }
            if let Some(c) = source
                .config_map
                .as_ref()
                .filter(|c| c.optional != Some(true))
            {
                wanted.push(("ConfigMap", c.name.clone(), v.name.clone()));
            }
        }
    }
    let mut missing = Vec::new();
    for (kind, name, volume) in wanted {
        let exists = if kind == "Secret" {
            match d.related.secrets(&ns) {
                Lookup::Got(names) => Some(names.contains(&name)),
                Lookup::Unavailable(why) => {
                    let why = why.to_string();
                    d.note(format!("cannot check Secrets: {why}"));
                    None
                }
                Lookup::Unfetched => None,
            }
        } else {
            match d.related.config_maps(&ns) {
                Lookup::Got(cms) => Some(
                    cms.iter()
                        .any(|c| c.metadata.name.as_deref() == Some(name.as_str())),
                ),
                Lookup::Unavailable(why) => {
                    let why = why.to_string();
                    d.note(format!("cannot check ConfigMaps: {why}"));
                    None
                }
                Lookup::Unfetched => None,
            }
        };
        if exists == Some(false) {
            missing.push(format!(
                "volume {volume}: {kind} {name} does not exist in {ns}"
            ));
        }
    }
    missing
}

pub(super) fn terminating(d: &mut Diagnosis, deleted: Timestamp) {
    let grace = d.pod.metadata.deletion_grace_period_seconds.unwrap_or(30);
    let overdue = d.now.duration_since(deleted).as_secs() - grace;
    let mut evidence = vec![format!(
        "deletionTimestamp: {deleted} ({} ago), grace period {grace}s",
        d.ago(deleted)
    )];
    let finalizers = d.pod.metadata.finalizers.clone().unwrap_or_default();
    if !finalizers.is_empty() {
        evidence.push(format!("finalizers: {}", finalizers.join(", ")));
    }
    let node_lost = d.pod.status.as_ref().and_then(|s| s.reason.as_deref()) == Some("NodeLost");
    if node_lost {
        evidence.push("status.reason: NodeLost (the node stopped reporting)".into());
    }
    let (severity, message, next) = if overdue > 30 {
        (
            Severity::Blocker,
            format!(
                "the pod has been terminating for {} (grace period {grace}s)",
                d.ago(deleted)
            ),
            if !finalizers.is_empty() {
                "a finalizer holds it: the controller that owns the finalizer must remove it"
                    .to_string()
            } else if node_lost {
                "the node is unreachable: once it is gone for good, delete the pod with --force --grace-period=0".to_string()
            } else {
                "the kubelet has not confirmed the containers stopped: check the node".to_string()
            },
        )
    } else {
        (
            Severity::Info,
            "the pod is being deleted".to_string(),
            "wait for the grace period to end".to_string(),
        )
    };
    d.findings.push(Finding {
        stage: Stage::Terminating,
        severity,
        code: FindingCode::Terminating,
        message,
        evidence,
        next,
    });
}

/// A pod-level failure such as an eviction.
pub(super) fn pod_failed(d: &mut Diagnosis, reason: &str, message: &str) {
    let owned = d
        .pod
        .metadata
        .owner_references
        .as_ref()
        .is_some_and(|o| o.iter().any(|r| r.controller == Some(true)));
    d.findings.push(Finding {
        stage: Stage::Terminal,
        severity: Severity::Blocker,
        code: FindingCode::PodFailed,
        message: format!("the pod failed: {reason}"),
        evidence: vec![format!("status.reason: {reason}"), format!("status.message: {}", for_terminal(message))],
        next: if owned {
            "its controller creates a replacement; this pod object stays for the record until it is deleted".into()
        } else {
            format!("a bare pod is not replaced: recreate it once the cause is fixed (kubectl initctl restart pod/{})", d.name())
        },
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
