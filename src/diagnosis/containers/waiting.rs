//! A regular init container that runs and does not finish: what its command waits for.

use super::DiagnosedContainer;
use super::service::check_service;
use crate::diagnosis::related::{LogKey, Lookup};
use crate::diagnosis::untrusted_all;
use crate::diagnosis::wait_for;
use crate::diagnosis::{Diagnosis, Finding, FindingCode, Severity, Stage, logs, mesh};
use crate::util::sanitize::Untrusted;

/// A regular init container that is running: usually a loop waiting for something.
pub(super) fn waiting_on(d: &mut Diagnosis, container: &DiagnosedContainer) {
    let ns = d.namespace().to_string();
    let started = container
        .status
        .state
        .as_ref()
        .and_then(|s| s.running.as_ref())
        .and_then(|r| r.started_at.as_ref())
        .map(|t| t.0);
    let running_for = started
        .map(|t| d.ago(t))
        .unwrap_or_else(|| "a while".into());
    let targets = wait_for::wait_targets(container.spec, &ns);
    // `--tail 0` asks for no log at all: not even to find the repeating line.
    let log_text = match d.tail {
        0 => None,
        _ => match d.related.log(&LogKey {
            namespace: ns.clone(),
            pod: d.name().to_string(),
            container: container.spec.name.clone(),
            previous: false,
        }) {
            Lookup::Got(t) => Some(t.clone()),
            _ => None,
        },
    };
    let repeating = log_text
        .as_deref()
        .and_then(|t| logs::repeating_line(t, d.tail.max(1) as usize));
    let tail = d.tail;
    let log_evidence = |evidence: &mut Vec<String>| {
        if let Some((line, n)) = &repeating {
            evidence.push(format!(
                "log repeats: {line:?} ({n} of the last {tail} lines)"
            ));
        }
    };
    let before = d.findings.len();
    // Which finding each target gave, for the mesh check below.
    let mut gave: Vec<(usize, &wait_for::WaitTarget, Option<wait_for::ServiceRef>)> = Vec::new();
    for target in &targets {
        let count = d.findings.len();
        let svc = wait_for::resolve_service(&target.host, &ns);
        let address = match target.port {
            Some(port) => format!("{}:{port}", target.host),
            None => target.host.clone(),
        };
        let mut evidence = vec![
            format!("command: {}", &target.fragment),
            format!("waits for: {address}"),
        ];
        match &svc {
            Some(svc) => check_service(
                d,
                container,
                target,
                svc,
                &running_for,
                evidence,
                &log_evidence,
            ),
            None => {
                log_evidence(&mut evidence);
                d.findings.push(Finding {
                    stage: Stage::Init,
                    severity: Severity::Warning,
                    code: FindingCode::WaitingForExternalHost,
                    message: Untrusted::from(format!("{} has been running for {running_for}, waiting for {}{} (outside the cluster's Services)", container.label, target.host, target.port.map(|p| format!(":{p}")).unwrap_or_default())),
                    evidence: untrusted_all(evidence),
                    next: Untrusted::from(format!("check that {} is reachable from the pod's node and network (DNS, firewall, NetworkPolicy)", target.host)),
                });
            }
        }
        if d.findings.len() > count {
            gave.push((count, target, svc));
        }
    }
    mesh_blocks(d, container, &gave, log_text.as_deref());
    if d.findings.len() == before {
        let mut evidence = Vec::new();
        log_evidence(&mut evidence);
        still_running(d, container, &running_for, evidence);
    } else if repeating.is_none() || d.findings[before].severity != Severity::Blocker {
        // Quote the log tail once, on the first finding: when the cause is not plain (the
        // Service is up, or outside the cluster), the container's own words are the evidence.
        let quoted = logs::quote(d, &container.spec.name, false);
        d.findings[before].evidence.extend(untrusted_all(quoted));
    }
}

/// No target read from the command: the container runs, and that is all that can be said.
fn still_running(
    d: &mut Diagnosis,
    container: &DiagnosedContainer,
    running_for: &str,
    log_lines: Vec<String>,
) {
    let ns = d.namespace().to_string();
    let command: Vec<String> = container
        .spec
        .command
        .iter()
        .flatten()
        .chain(container.spec.args.iter().flatten())
        .cloned()
        .collect();
    let mut evidence = vec![format!("command: {}", &command.join(" "))];
    evidence.extend(log_lines);
    evidence.extend(logs::quote(d, &container.spec.name, false));
    d.findings.push(Finding {
        stage: Stage::Init,
        severity: Severity::Warning,
        code: FindingCode::InitStillRunning,
        message: Untrusted::from(format!("{} has been running for {running_for} and has not finished", container.label)),
        evidence: untrusted_all(evidence),
        next: Untrusted::from(format!("an init container must exit 0 before the next one starts: check what {} is doing (its log above, or kubectl logs {} -c {} -n {ns})", container.spec.name, d.name(), container.spec.name)),
    });
}

/// Findings that leave the cause open (the Service is ready, or the host is outside the
/// cluster and the log shows connections failing) become the mesh's, when a non-native mesh
/// proxy is what the init container's traffic is sent to.
fn mesh_blocks(
    d: &mut Diagnosis,
    container: &DiagnosedContainer,
    gave: &[(usize, &wait_for::WaitTarget, Option<wait_for::ServiceRef>)],
    log: Option<&str>,
) {
    let index = super::init_specs(d)
        .iter()
        .position(|c| c.name == container.spec.name)
        .unwrap_or(0);
    let Some(blocking) = mesh::blocking_mesh(d.pod, index) else {
        return;
    };
    let errors = log.map(mesh::connection_errors).unwrap_or_default();
    for (at, target, svc) in gave {
        let code = d.findings[*at].code;
        let open = code == FindingCode::WaitingDespiteReadyService
            || (!errors.is_empty()
                && matches!(
                    code,
                    FindingCode::WaitingForExternalHost | FindingCode::WaitingForService
                ));
        if !open {
            continue;
        }
        let evidence = d.findings[*at]
            .evidence
            .iter()
            .map(|e| e.raw().to_string())
            .collect();
        let call = mesh::InitCall {
            container: container.spec,
            label: &container.label,
            target,
            service: svc.as_ref(),
            evidence,
            errors: errors.clone(),
        };
        if let Some(finding) = mesh::finding(d, &blocking, call) {
            d.findings[*at] = finding;
        }
    }
}

/// An init container that exited after connection errors (its log, `previous` while it waits
/// to restart) in a pod whose non-native mesh proxy receives its traffic: the mesh finding goes
/// before the failure, which is its consequence. The log is the one the failure already quotes.
pub(super) fn mesh_after_failure(
    d: &mut Diagnosis,
    container: &DiagnosedContainer,
    previous: bool,
    at: usize,
) {
    if d.tail == 0 {
        return;
    }
    let Some(index) = super::init_specs(d)
        .iter()
        .position(|c| c.name == container.spec.name)
    else {
        return;
    };
    let Some(blocking) = mesh::blocking_mesh(d.pod, index) else {
        return;
    };
    let ns = d.namespace().to_string();
    let key = LogKey {
        namespace: ns.clone(),
        pod: d.name().to_string(),
        container: container.spec.name.clone(),
        previous,
    };
    let Lookup::Got(log) = d.related.log(&key) else {
        return;
    };
    let errors = mesh::connection_errors(log);
    let targets = wait_for::wait_targets(container.spec, &ns);
    let Some(target) = targets.first().filter(|_| !errors.is_empty()) else {
        return;
    };
    let svc = wait_for::resolve_service(&target.host, &ns);
    let address = match target.port {
        Some(port) => format!("{}:{port}", target.host),
        None => target.host.clone(),
    };
    let call = mesh::InitCall {
        container: container.spec,
        label: &container.label,
        target,
        service: svc.as_ref(),
        evidence: vec![
            format!("command: {}", target.fragment),
            format!("connects to: {address}"),
        ],
        errors,
    };
    if let Some(finding) = mesh::finding(d, &blocking, call) {
        d.findings.insert(at.min(d.findings.len()), finding);
    }
}
