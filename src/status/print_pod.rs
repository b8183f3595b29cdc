//! kubectl's READY / STATUS / RESTARTS for a pod: a reimplementation of `printPod` in
//! kubernetes/kubernetes `pkg/printers/internalversion/printers.go` (v1.35 shape, with the
//! native-sidecar rules and the `errorReason` fix of kubernetes#124766). The server renders
//! these columns for `kubectl get pods`; every branch is mirrored here, and documented in
//! docs/kubectl-printpod.md.

use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod};
use k8s_openapi::jiff::Timestamp;

/// The init container the pod is on, as printPod's init loop finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentInit {
    /// Position in the spec's initContainers (0-based).
    pub index: usize,
    pub name: String,
    pub sidecar: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodStatusSummary {
    /// READY, e.g. "1/2" (native sidecars count in both numbers).
    pub ready: String,
    /// STATUS, e.g. "Init:0/2", "Init:CrashLoopBackOff", "PodInitializing", "Running".
    pub status: String,
    /// RESTARTS as a number.
    pub restarts: i32,
    /// When the newest counted restart ended, for the "(Xm ago)" suffix.
    pub last_restart: Option<Timestamp>,
    /// Regular (non-sidecar) init containers that have completed.
    pub init_done: usize,
    /// Regular (non-sidecar) init containers in the spec.
    pub init_total: usize,
    /// The init container STATUS points at (only while STATUS is an `Init:` reason).
    pub current: Option<CurrentInit>,
}

impl PodStatusSummary {
    /// RESTARTS as kubectl prints it: "3" or "3 (2m ago)".
    pub fn restarts_column(&self, now: Timestamp) -> String {
        match self.last_restart {
            Some(at) if self.restarts != 0 => format!(
                "{} ({} ago)",
                self.restarts,
                crate::util::duration::human(now.duration_since(at))
            ),
            _ => self.restarts.to_string(),
        }
    }
}

/// A native sidecar: an init container with `restartPolicy: Always`.
pub fn is_sidecar(container: &Container) -> bool {
    container.restart_policy.as_deref() == Some("Always")
}

fn conditions(pod: &Pod) -> &[k8s_openapi::api::core::v1::PodCondition] {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
}

/// Whether any condition of type `kind` is True (printPod's test for `Ready`).
pub fn has_condition(pod: &Pod, kind: &str) -> bool {
    conditions(pod)
        .iter()
        .any(|c| c.type_ == kind && c.status == "True")
}

/// printPod reads `Initialized` from the first condition of that type only…
fn first_condition_true(pod: &Pod, kind: &str) -> bool {
    conditions(pod)
        .iter()
        .find(|c| c.type_ == kind)
        .is_some_and(|c| c.status == "True")
}

fn later(current: Option<Timestamp>, candidate: Option<Timestamp>) -> Option<Timestamp> {
    match (current, candidate) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn last_termination(cs: &ContainerStatus) -> Option<Timestamp> {
    cs.last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .and_then(|t| t.finished_at.as_ref())
        .map(|t| t.0)
}

/// Go's `fmt` of a terminated container without a reason: the signal wins over the exit code.
fn signal_or_exit(prefix: &str, signal: Option<i32>, exit_code: i32) -> String {
    match signal {
        Some(sig) if sig != 0 => format!("{prefix}Signal:{sig}"),
        _ => format!("{prefix}ExitCode:{exit_code}"),
    }
}

pub fn summarize(pod: &Pod) -> PodStatusSummary {
    let empty_spec = Default::default();
    let spec = pod.spec.as_ref().unwrap_or(&empty_spec);
    let empty_status = Default::default();
    let status = pod.status.as_ref().unwrap_or(&empty_status);
    let init_specs = spec.init_containers.as_deref().unwrap_or_default();
    let init_statuses = status
        .init_container_statuses
        .as_deref()
        .unwrap_or_default();
    let app_statuses = status.container_statuses.as_deref().unwrap_or_default();
    let spec_of = |name: &str| init_specs.iter().find(|c| c.name == name);
    let sidecar_named = |name: &str| spec_of(name).is_some_and(is_sidecar);

    let mut restarts = 0;
    let mut sidecar_restarts = 0;
    let total = spec.containers.len() + init_specs.iter().filter(|c| is_sidecar(c)).count();
    let mut ready = 0;
    let mut last_restart = None;
    let mut last_sidecar_restart = None;

    let mut reason = status.phase.clone().unwrap_or_default();
    if let Some(r) = status.reason.as_ref().filter(|r| !r.is_empty()) {
        reason = r.clone();
    }
    // No `break` upstream: the last PodScheduled/SchedulingGated condition wins.
    for c in conditions(pod) {
        if c.type_ == "PodScheduled" && c.reason.as_deref() == Some("SchedulingGated") {
            reason = "SchedulingGated".to_string();
        }
    }

    let mut initializing = false;
    let mut init_reason = String::new();
    let mut current = None;
    for (i, cs) in init_statuses.iter().enumerate() {
        restarts += cs.restart_count;
        last_restart = later(last_restart, last_termination(cs));
        let sidecar = sidecar_named(&cs.name);
        if sidecar {
            sidecar_restarts += cs.restart_count;
            last_sidecar_restart = later(last_sidecar_restart, last_termination(cs));
        }
        let state = cs.state.as_ref();
        let terminated = state.and_then(|s| s.terminated.as_ref());
        let waiting_reason = state
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_deref())
            .filter(|r| !r.is_empty());
        if terminated.is_some_and(|t| t.exit_code == 0) {
            continue;
        }
        if sidecar && cs.started == Some(true) {
            if cs.ready {
                ready += 1;
            }
            continue;
        }
        reason = match (terminated, waiting_reason) {
            (Some(t), _) => match t.reason.as_deref().filter(|r| !r.is_empty()) {
                Some(r) => format!("Init:{r}"),
                None => signal_or_exit("Init:", t.signal, t.exit_code),
            },
            (None, Some(w)) if w != "PodInitializing" => format!("Init:{w}"),
            _ => format!("Init:{}/{}", i, init_specs.len()),
        };
        initializing = true;
        init_reason = reason.clone();
        current = Some(CurrentInit {
            index: init_specs
                .iter()
                .position(|c| c.name == cs.name)
                .unwrap_or(i),
            name: cs.name.clone(),
            sidecar,
        });
        break;
    }

    let initialized = first_condition_true(pod, "Initialized");
    if !initializing || initialized {
        // Once initialized, the restarts of regular init containers no longer count.
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        let mut error_reason = None;
        // Reverse order: on ties the first container's reason is the one left standing.
        for cs in app_statuses.iter().rev() {
            restarts += cs.restart_count;
            last_restart = later(last_restart, last_termination(cs));
            let state = cs.state.as_ref();
            let waiting_reason = state
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.as_deref())
                .filter(|r| !r.is_empty());
            if let Some(w) = waiting_reason {
                reason = w.to_string();
            } else if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
                reason = match t.reason.as_deref().filter(|r| !r.is_empty()) {
                    Some(r) => r.to_string(),
                    None => signal_or_exit("", t.signal, t.exit_code),
                };
                if t.exit_code != 0 {
                    error_reason = Some(reason.clone());
                }
            } else if cs.ready && state.is_some_and(|s| s.running.is_some()) {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" {
            // …but accepts any `Ready` condition that is True.
            if has_running && has_condition(pod, "Ready") {
                reason = "Running".to_string();
            } else if let Some(err) = error_reason {
                reason = err;
            } else if has_running {
                reason = "NotReady".to_string();
            }
        }
    }

    let deleting = pod.metadata.deletion_timestamp.is_some();
    let phase = status.phase.as_deref().unwrap_or_default();
    if deleting && status.reason.as_deref() == Some("NodeLost") {
        reason = "Unknown".to_string();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".to_string();
    }

    let regular: Vec<&Container> = init_specs.iter().filter(|c| !is_sidecar(c)).collect();
    let init_done = if initialized {
        regular.len()
    } else {
        regular
            .iter()
            .filter(|c| {
                init_statuses.iter().any(|cs| {
                    cs.name == c.name
                        && cs
                            .state
                            .as_ref()
                            .and_then(|s| s.terminated.as_ref())
                            .is_some_and(|t| t.exit_code == 0)
                })
            })
            .count()
    };

    // CURRENT names the container STATUS points at, so only while STATUS is the init loop's.
    let current = current.filter(|_| initializing && reason == init_reason);
    PodStatusSummary {
        ready: format!("{ready}/{total}"),
        status: reason,
        restarts,
        last_restart,
        init_done,
        init_total: regular.len(),
        current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(json: serde_json::Value) -> Pod {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn duplicate_conditions_follow_printpod() {
        // Initialized: the first condition decides. Ready: any True one will do.
        let p = pod(serde_json::json!({
            "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"phase": "Running", "conditions": [
                {"type": "Ready", "status": "False"}, {"type": "Ready", "status": "True"}],
                "containerStatuses": [
                    {"name": "a", "image": "", "imageID": "", "ready": false, "restartCount": 0,
                     "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                    {"name": "b", "image": "", "imageID": "", "ready": true, "restartCount": 0,
                     "state": {"running": {}}}]}}));
        assert_eq!(summarize(&p).status, "Running");
    }

    #[test]
    fn restarts_show_how_long_ago() {
        let p = pod(serde_json::json!({
            "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "a", "image": "", "imageID": "", "ready": true, "restartCount": 3,
                 "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-11-27T11:58:00Z"}},
                 "state": {"running": {}}}]}}));
        let now: Timestamp = "2026-11-27T12:00:00Z".parse().unwrap();
        assert_eq!(summarize(&p).restarts_column(now), "3 (2m ago)");
    }
}
