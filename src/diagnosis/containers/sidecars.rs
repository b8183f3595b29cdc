//! Native sidecars (init containers with restartPolicy Always): one that has not started, and
//! ones that crash-loop after initialization.

use crate::diagnosis::untrusted_all;
use crate::util::sanitize::Untrusted;
use k8s_openapi::api::core::v1::{Container, Probe};

use super::crash::failed;
use super::{DiagnosedContainer, container_events, init_specs, init_statuses, initialized, latest};
use crate::diagnosis::related::event_line;
use crate::diagnosis::{Diagnosis, Finding, FindingCode, Severity, Stage, logs};

fn probe_text(p: &Probe) -> String {
    if let Some(h) = &p.http_get {
        let port = match &h.port {
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i) => i.to_string(),
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
        };
        format!(
            "httpGet {}:{port}{}",
            h.scheme.as_deref().unwrap_or("HTTP").to_lowercase(),
            h.path.as_deref().unwrap_or("/")
        )
    } else if let Some(t) = &p.tcp_socket {
        let port = match &t.port {
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i) => i.to_string(),
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
        };
        format!("tcpSocket :{port}")
    } else if let Some(e) = &p.exec {
        format!("exec {}", e.command.clone().unwrap_or_default().join(" "))
    } else if let Some(g) = &p.grpc {
        format!("grpc :{}", g.port)
    } else {
        "probe".into()
    }
}

/// A sidecar that runs but has not reported `started`: its startup probe holds the next init container.
pub(super) fn sidecar_not_started(
    d: &mut Diagnosis,
    container: &DiagnosedContainer,
    next_container: Option<&Container>,
) {
    let events = container_events(d, &container.field_path);
    let mut evidence = vec![format!(
        "state: running, started=false, restarts {}",
        container.status.restart_count
    )];
    if let Some(p) = &container.spec.startup_probe {
        evidence.push(format!(
            "startupProbe: {} every {}s, failureThreshold {}",
            probe_text(p),
            p.period_seconds.unwrap_or(10),
            p.failure_threshold.unwrap_or(3)
        ));
    }
    evidence.extend(
        latest(&events, &["Unhealthy"], 2)
            .into_iter()
            .map(event_line),
    );
    let blocked = next_container
        .map(|c| format!(", so {} cannot start", c.name))
        .unwrap_or_default();
    evidence.extend(logs::quote(d, &container.spec.name, false));
    d.findings.push(Finding {
        stage: Stage::Sidecar,
        severity: Severity::Blocker,
        code: FindingCode::SidecarNotStarted,
        message: Untrusted::from(format!("{} has not passed its startup probe{blocked}", container.label)),
        evidence: untrusted_all(evidence),
        next: Untrusted::from(format!("make {}'s startup probe succeed (or fix the probe): native sidecars must be started before the next init container runs", container.spec.name)),
    });
}

/// Sidecars other than the current one that are crash-looping.
pub(in crate::diagnosis) fn sidecars(d: &mut Diagnosis) {
    let current = d.summary.current.as_ref().map(|c| c.name.clone());
    let specs = init_specs(d);
    for status in init_statuses(d) {
        let Some(spec) = specs
            .iter()
            .find(|c| c.name == status.name && crate::status::print_pod::is_sidecar(c))
        else {
            continue;
        };
        if current.as_deref() == Some(status.name.as_str()) && !initialized(d) {
            continue;
        }
        let waiting = status
            .state
            .as_ref()
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.clone());
        if waiting.as_deref() != Some("CrashLoopBackOff") {
            continue;
        }
        let container = DiagnosedContainer {
            spec,
            status,
            label: format!("sidecar {}", spec.name),
            field_path: format!("spec.initContainers{{{}}}", spec.name),
        };
        let last = status
            .last_state
            .as_ref()
            .and_then(|s| s.terminated.clone())
            .unwrap_or_default();
        failed(d, Stage::Sidecar, &container, &last, true);
        if let Some(f) = d.findings.last_mut() {
            // After initialization a crashing sidecar does not hold the pod back, but it is not serving.
            f.severity = Severity::Warning;
            f.code = FindingCode::SidecarCrashLoop;
        }
    }
}
