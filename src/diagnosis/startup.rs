//! Before any container runs: scheduling gates, sandbox and volumes (the scheduler's findings
//! are in `scheduling::findings`); and the pod-level ends (deletion, eviction).

use crate::diagnosis::untrusted_all;
use crate::util::sanitize::Untrusted;
use k8s_openapi::api::core::v1::{Event, Volume};
use k8s_openapi::jiff::Timestamp;

use super::related::{Lookup, event_line};
use super::{Diagnosis, Finding, FindingCode, Severity, Stage};
use crate::util::duration;

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
        message: Untrusted::from(format!("the scheduler will not consider the pod until its scheduling gates are removed: {}", gates.join(", "))),
        evidence: untrusted_all(evidence),
        next: Untrusted::from(format!(
            "gates are removed by the controller that added them (check it is running); to release the pod by hand: kubectl patch pod {name} -n {ns} --type=json -p '[{{\"op\":\"remove\",\"path\":\"/spec/schedulingGates\"}}]'"
        )),
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
        message: Untrusted::from(message),
        evidence: untrusted_all(evidence),
        next: Untrusted::from(next),
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
        message: Untrusted::from(message),
        evidence: untrusted_all(evidence),
        next: Untrusted::from(next),
    });
}

/// The pod's `activeDeadlineSeconds`, when the kubelet killed the pod for it.
pub(super) fn deadline_exceeded(d: &Diagnosis) -> Option<i64> {
    let status = d.pod.status.as_ref()?;
    if status.reason.as_deref() != Some("DeadlineExceeded") {
        return None;
    }
    Some(d.pod.spec.as_ref()?.active_deadline_seconds.unwrap_or(0))
}

/// The kubelet killed the pod when `spec.activeDeadlineSeconds` ran out (init included).
fn active_deadline(d: &mut Diagnosis, message: &str, deadline: i64) {
    let limit = duration::human(k8s_openapi::jiff::SignedDuration::from_secs(deadline));
    let mut evidence = vec![
        "status.reason: DeadlineExceeded".to_string(),
        format!("status.message: {message}"),
        format!("spec.activeDeadlineSeconds: {deadline} ({limit})"),
    ];
    if let Some(start) = d.pod.status.as_ref().and_then(|s| s.start_time.as_ref()) {
        evidence.push(format!(
            "status.startTime: {} ({} ago)",
            start.0,
            d.ago(start.0)
        ));
    }
    let job = d
        .pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.kind == "Job");
    d.findings.push(Finding {
        stage: Stage::Terminal,
        severity: Severity::Blocker,
        code: FindingCode::ActiveDeadlineExceeded,
        message: Untrusted::from(format!(
            "the pod ran longer than its spec.activeDeadlineSeconds ({deadline}s, {limit}) and the kubelet killed it; it will not run again"
        )),
        evidence: untrusted_all(evidence),
        next: Untrusted::from(format!(
            "the deadline counts from the pod's start, init containers included: make the slow step finish sooner, or raise or remove activeDeadlineSeconds in {}, then recreate the pod",
            if job { "the Job's pod template" } else { "the pod's spec (or its workload's template)" }
        )),
    });
}

/// A pod-level failure such as an eviction.
pub(super) fn pod_failed(d: &mut Diagnosis, reason: &str, message: &str) {
    if let Some(deadline) = deadline_exceeded(d) {
        active_deadline(d, message, deadline);
        return;
    }
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
        message: Untrusted::from(format!("the pod failed: {reason}")),
        evidence: untrusted_all(vec![format!("status.reason: {reason}"), format!("status.message: {}", message)]),
        next: Untrusted::from(if owned {
            "its controller creates a replacement; this pod object stays for the record until it is deleted".into()
        } else {
            format!("a bare pod is not replaced: recreate it once the cause is fixed (kubectl initctl restart pod/{})", d.name())
        }),
    });
}
