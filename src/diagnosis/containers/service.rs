//! An init container waiting for a Service: does it exist, expose the port, have ready endpoints.

use super::DiagnosedContainer;
use crate::diagnosis::wait_for::{ServiceRef, WaitTarget};
use crate::diagnosis::world::Lookup;
use crate::diagnosis::{Diagnosis, Finding, FindingCode, Severity, Stage};

pub(super) fn check_service(
    d: &mut Diagnosis,
    container: &DiagnosedContainer,
    target: &WaitTarget,
    svc: &ServiceRef,
    running_for: &str,
    mut evidence: Vec<String>,
    log_evidence: &dyn Fn(&mut Vec<String>),
) {
    let waits = format!(
        "{} has been running for {running_for}, waiting for Service {}",
        container.label,
        describe_service(svc, d.namespace())
    );
    let services = match d.world.services(&svc.namespace) {
        Lookup::Got(list) => list,
        Lookup::Unavailable(why) => {
            let why = why.to_string();
            log_evidence(&mut evidence);
            d.note(format!("cannot check Services in {}: {why}", svc.namespace));
            d.findings.push(Finding {
                stage: Stage::Init,
                severity: Severity::Warning,
                code: FindingCode::WaitingForService,
                message: waits,
                evidence,
                next: format!(
                    "check that Service {} exists and has ready endpoints",
                    svc.name
                ),
            });
            return;
        }
        Lookup::Pending => return,
    };
    let Some(service) = services
        .iter()
        .find(|s| s.metadata.name.as_deref() == Some(svc.name.as_str()))
    else {
        let others: Vec<&str> = services
            .iter()
            .filter_map(|s| s.metadata.name.as_deref())
            .collect();
        evidence.push(format!(
            "Services in {}: {}",
            svc.namespace,
            if others.is_empty() {
                "none".to_string()
            } else {
                others.join(", ")
            }
        ));
        log_evidence(&mut evidence);
        d.findings.push(Finding {
            stage: Stage::Init,
            severity: Severity::Blocker,
            code: FindingCode::ServiceMissing,
            message: format!("{waits}, which does not exist"),
            evidence,
            next: format!(
                "create Service {} in namespace {} (or deploy what provides it), or fix the name {} waits for",
                svc.name, svc.namespace, container.spec.name
            ),
        });
        return;
    };
    let spec = service.spec.clone().unwrap_or_default();
    if let Some(port) = target.port {
        let ports: Vec<i32> = spec.ports.iter().flatten().map(|p| p.port).collect();
        let external = spec.type_.as_deref() == Some("ExternalName");
        if !external && !ports.is_empty() && !ports.contains(&i32::from(port)) {
            evidence.push(format!(
                "Service {} exposes port(s) {}",
                svc.name,
                ports
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            log_evidence(&mut evidence);
            d.findings.push(Finding {
                stage: Stage::Init,
                severity: Severity::Blocker,
                code: FindingCode::ServicePortNotExposed,
                message: format!("{waits} on port {port}, which the Service does not expose"),
                evidence,
                next: format!(
                    "connect to one of the Service's ports, or add port {port} to Service {}",
                    svc.name
                ),
            });
            return;
        }
    }
    if spec.type_.as_deref() == Some("ExternalName") {
        evidence.push(format!(
            "Service {} is an ExternalName for {}",
            svc.name,
            spec.external_name.unwrap_or_default()
        ));
        log_evidence(&mut evidence);
        d.findings.push(Finding {
            stage: Stage::Init,
            severity: Severity::Warning,
            code: FindingCode::WaitingForService,
            message: waits,
            evidence,
            next: "check that the external name resolves and answers from the pod's network".into(),
        });
        return;
    }
    let slices = match d.world.endpoint_slices(&svc.namespace) {
        Lookup::Got(list) => list,
        Lookup::Unavailable(why) => {
            let why = why.to_string();
            d.note(format!(
                "cannot check EndpointSlices in {}: {why}",
                svc.namespace
            ));
            log_evidence(&mut evidence);
            d.findings.push(Finding {
                stage: Stage::Init,
                severity: Severity::Warning,
                code: FindingCode::WaitingForService,
                message: waits,
                evidence,
                next: format!("check the Service's endpoints: kubectl get endpointslices -n {} -l kubernetes.io/service-name={}", svc.namespace, svc.name),
            });
            return;
        }
        Lookup::Pending => return,
    };
    let (ready, total) = slices
        .iter()
        .filter(|s| {
            s.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("kubernetes.io/service-name"))
                == Some(&svc.name)
        })
        .flat_map(|s| s.endpoints.iter().flatten())
        .fold((0, 0), |(r, t), e| {
            let is_ready = e.conditions.as_ref().and_then(|c| c.ready) != Some(false);
            (
                r + usize::from(is_ready) * e.addresses.len(),
                t + e.addresses.len(),
            )
        });
    let selector = spec
        .selector
        .as_ref()
        .map(|s| {
            s.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .filter(|s| !s.is_empty());
    if ready == 0 {
        evidence.push(format!(
            "Service {} has {} endpoint(s), none ready; selector: {}",
            svc.name,
            total,
            selector
                .clone()
                .unwrap_or_else(|| "none (endpoints are managed by hand)".into())
        ));
        log_evidence(&mut evidence);
        let next = match &selector {
            Some(sel) => format!(
                "start (or fix) the pods behind it: kubectl get pods -n {} -l {sel}; they must be Ready to become endpoints",
                svc.namespace
            ),
            None => "the Service has no selector: create its EndpointSlices, or give it a selector"
                .to_string(),
        };
        d.findings.push(Finding {
            stage: Stage::Init,
            severity: Severity::Blocker,
            code: FindingCode::ServiceWithoutEndpoints,
            message: format!("{waits}, which has no ready endpoints"),
            evidence,
            next,
        });
        return;
    }
    evidence.push(format!(
        "Service {} exists with {ready} ready endpoint(s)",
        svc.name
    ));
    log_evidence(&mut evidence);
    let dns_only = matches!(target.tool.as_str(), "nslookup" | "dig" | "host" | "getent");
    let next = if dns_only {
        "the name should resolve now: check the exact name in the command (namespace, cluster domain) and cluster DNS (kubectl get pods -n kube-system -l k8s-app=kube-dns)"
            .to_string()
    } else {
        format!(
            "the Service is up: check NetworkPolicies between the pods, and that the port answers (kubectl logs {} -c {})",
            d.name(),
            container.spec.name
        )
    };
    d.findings.push(Finding {
        stage: Stage::Init,
        severity: Severity::Warning,
        code: FindingCode::WaitingDespiteReadyService,
        message: format!("{waits}, which exists and has ready endpoints"),
        evidence,
        next,
    });
}

fn describe_service(svc: &ServiceRef, pod_ns: &str) -> String {
    if svc.namespace == pod_ns {
        svc.name.clone()
    } else {
        format!("{}/{}", svc.namespace, svc.name)
    }
}
