//! Containers: the init container STATUS points at (pull, config, crash, or waiting on
//! something), native sidecars, app containers after init, and init images that never ran.

mod config;
mod crash;
mod pull;
mod service;
mod sidecars;
mod waiting;

use crate::diagnosis::untrusted_all;
use crate::util::sanitize::Untrusted;
use k8s_openapi::api::core::v1::{Container, ContainerStatus, Event};

use super::related::event_line;
use super::{Diagnosis, Finding, FindingCode, Severity, Stage};
use crate::status::init_timeline::{self, InitKind};
use config::config_error;
use crash::failed;
use pull::image_pull;
use sidecars::sidecar_not_started;
pub(super) use sidecars::sidecars;
use waiting::waiting_on;

/// The container a finding is about: its spec and status, and how messages name it.
struct DiagnosedContainer<'a> {
    spec: &'a Container,
    status: &'a ContainerStatus,
    /// For messages: "init container init-migrate (2/2)", "sidecar proxy", "container app".
    label: String,
    /// The events' fieldPath for this container.
    field_path: String,
}

fn init_statuses<'a>(d: &Diagnosis<'a>) -> &'a [ContainerStatus] {
    d.pod
        .status
        .as_ref()
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or_default()
}

fn init_specs<'a>(d: &Diagnosis<'a>) -> &'a [Container] {
    d.pod
        .spec
        .as_ref()
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default()
}

fn container_events<'a>(d: &Diagnosis<'a>, field_path: &str) -> Vec<&'a Event> {
    d.events
        .iter()
        .copied()
        .filter(|e| e.involved_object.field_path.as_deref() == Some(field_path))
        .collect()
}

/// The latest events with one of `reasons`, newest last, at most `n`.
fn latest<'a>(events: &[&'a Event], reasons: &[&str], n: usize) -> Vec<&'a Event> {
    let matching: Vec<&Event> = events
        .iter()
        .copied()
        .filter(|e| e.reason.as_deref().is_some_and(|r| reasons.contains(&r)))
        .collect();
    matching[matching.len().saturating_sub(n)..].to_vec()
}

fn initialized(d: &Diagnosis) -> bool {
    d.condition("Initialized")
        .is_some_and(|c| c.status == "True")
}

pub(super) fn init_sequence(d: &mut Diagnosis) {
    let Some(current) = d.summary.current.clone() else {
        return;
    };
    // A sidecar failing after initialization holds nothing back: `sidecars` reports it.
    if current.sidecar && initialized(d) {
        return;
    }
    let specs = init_specs(d);
    let (Some(spec), Some(status)) = (
        specs.get(current.index),
        init_statuses(d).iter().find(|s| s.name == current.name),
    ) else {
        return;
    };
    let regular_total = specs
        .iter()
        .filter(|c| !crate::status::print_pod::is_sidecar(c))
        .count();
    let label = if current.sidecar {
        format!("sidecar {}", current.name)
    } else {
        let position = specs[..=current.index]
            .iter()
            .filter(|c| !crate::status::print_pod::is_sidecar(c))
            .count();
        format!(
            "init container {} ({position}/{regular_total})",
            current.name
        )
    };
    let container = DiagnosedContainer {
        spec,
        status,
        label,
        field_path: format!("spec.initContainers{{{}}}", current.name),
    };
    let stage = if current.sidecar {
        Stage::Sidecar
    } else {
        Stage::Init
    };
    let state = status.state.clone().unwrap_or_default();
    if let Some(waiting) = &state.waiting
        && let Some(reason) = waiting
            .reason
            .as_deref()
            .filter(|r| !r.is_empty() && *r != "PodInitializing")
    {
        let at = d.findings.len();
        waiting_with_reason(
            d,
            stage,
            &container,
            reason,
            waiting.message.as_deref().unwrap_or_default(),
        );
        if stage == Stage::Init && reason == "CrashLoopBackOff" {
            waiting::mesh_after_failure(d, &container, true, at);
        }
    } else if let Some(t) = &state.terminated {
        let at = d.findings.len();
        failed(d, stage, &container, t, false);
        if stage == Stage::Init {
            waiting::mesh_after_failure(d, &container, false, at);
        }
    } else if state.running.is_some() {
        if current.sidecar {
            sidecar_not_started(d, &container, specs.get(current.index + 1));
        } else {
            waiting_on(d, &container);
        }
    }
}

/// A container held in `waiting` with a reason: pull, config, crash loop, or another start error.
fn waiting_with_reason(
    d: &mut Diagnosis,
    stage: Stage,
    container: &DiagnosedContainer,
    reason: &str,
    message: &str,
) {
    let events = container_events(d, &container.field_path);
    let state = format!(
        "state: waiting, {reason}{}",
        if message.is_empty() {
            String::new()
        } else {
            format!(": {}", message)
        }
    );
    match reason {
        "ErrImagePull"
        | "ImagePullBackOff"
        | "ErrImageNeverPull"
        | "RegistryUnavailable"
        | "InvalidImageName"
        | "ImageInspectError" => image_pull(d, stage, container, reason, state, &events),
        "CreateContainerConfigError" => config_error(d, stage, container, message, state),
        "CrashLoopBackOff" => {
            let last = container
                .status
                .last_state
                .as_ref()
                .and_then(|s| s.terminated.clone())
                .unwrap_or_default();
            failed(d, stage, container, &last, true);
            if let Some(f) = d.findings.last_mut() {
                f.evidence.insert(0, state.into());
            }
        }
        _ => {
            let mut evidence = vec![state];
            evidence.extend(
                latest(
                    &events,
                    &["Failed", "FailedPostStartHook", "FailedPreStopHook"],
                    2,
                )
                .into_iter()
                .map(event_line),
            );
            d.findings.push(Finding {
                stage,
                severity: Severity::Blocker,
                code: FindingCode::ContainerStartFailed,
                message: Untrusted::from(format!("{} cannot start: {reason}", container.label)),
                evidence: untrusted_all(evidence),
                next: Untrusted::from("read the message above: the container runtime refused to create or start the container (bad command, missing binary, security context, or a failing lifecycle hook)"),
            });
        }
    }
}

/// Init is done: app containers that cannot start.
pub(super) fn app_containers(d: &mut Diagnosis) {
    if d.summary.current.is_some() {
        return;
    }
    let Some(status) = d.pod.status.as_ref() else {
        return;
    };
    if !crate::status::print_pod::has_condition(d.pod, "Initialized") {
        return;
    }
    let pod = d.pod;
    let specs: &[Container] = pod
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or_default();
    for cs in status.container_statuses.iter().flatten() {
        let Some(spec) = specs.iter().find(|c| c.name == cs.name) else {
            continue;
        };
        let container = DiagnosedContainer {
            spec,
            status: cs,
            label: format!("container {}", cs.name),
            field_path: format!("spec.containers{{{}}}", cs.name),
        };
        let state = cs.state.clone().unwrap_or_default();
        if let Some(w) = &state.waiting
            && let Some(reason) = w
                .reason
                .as_deref()
                .filter(|r| !r.is_empty() && *r != "PodInitializing" && *r != "ContainerCreating")
        {
            waiting_with_reason(
                d,
                Stage::AppStart,
                &container,
                reason,
                w.message.as_deref().unwrap_or_default(),
            );
        } else if let Some(t) = state.terminated.as_ref().filter(|t| t.exit_code != 0)
            && d.pod.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Succeeded")
        {
            failed(d, Stage::AppStart, &container, t, false);
        }
    }
}

/// Init containers whose spec image is not the image that ran: an edit that never took effect.
pub(super) fn image_drift(d: &mut Diagnosis) {
    let drifted: Vec<_> = init_timeline::init_containers(d.pod, d.now)
        .into_iter()
        .filter(|c| c.image_drift)
        .collect();
    for c in drifted {
        let kind = if c.kind == InitKind::Sidecar {
            "sidecar"
        } else {
            "init container"
        };
        // Raw text: the finding's fields are Untrusted and escape it once, when shown.
        let (name, image) = (c.name.raw(), c.image.raw());
        let ran = c.ran_image.as_ref().map(Untrusted::raw).unwrap_or_default();
        let will_run = c.kind == InitKind::Sidecar
            || matches!(
                c.state,
                init_timeline::RunState::Waiting | init_timeline::RunState::Pending
            );
        let next = if will_run {
            format!("{name} picks the new image up when it next starts")
        } else {
            format!(
                "the new image runs only when the pod is recreated: kubectl initctl restart pod/{} (or change the workload's template)",
                d.name()
            )
        };
        d.findings.push(Finding {
            stage: Stage::Init,
            severity: Severity::Warning,
            code: FindingCode::InitImageDrift,
            message: Untrusted::from(format!("{kind} {name} spec image {image} has not run: it last ran {ran}")),
            evidence: untrusted_all(vec![format!("spec image: {image}"), format!("image that ran: {ran}"), "since Kubernetes 1.20 a changed init image does not restart the pod (kubernetes#88886)".into()]),
            next: Untrusted::from(next),
        });
    }
}
