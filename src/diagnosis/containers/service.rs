//! An init container waiting for a Service: does it exist, expose the port, have ready endpoints.
//! The verdicts are pure ([`service_verdict`], [`endpoints_verdict`]); [`check_service`] looks
//! the objects up and turns the verdict into a finding.

use crate::diagnosis::untrusted_all;
use std::ops::ControlFlow::{self, Break, Continue};

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

use super::DiagnosedContainer;
use crate::diagnosis::related::Lookup;
use crate::diagnosis::wait_for::{ServiceRef, WaitTarget};
use crate::diagnosis::{Diagnosis, Finding, FindingCode, Severity, Stage};

/// What the Service objects say about a wait on one Service.
#[derive(Debug, PartialEq, Eq)]
enum ServiceVerdict<'s> {
    /// No Service of that name; the names of those that do exist in its namespace.
    Missing { existing: Vec<&'s str> },
    /// The wait connects to a port the Service does not expose.
    PortNotExposed { port: u16, exposed: Vec<i32> },
    /// An ExternalName Service: nothing in the cluster to count.
    ExternalName { external_name: &'s str },
    /// It takes the connection, but no endpoint address is ready.
    NoReadyEndpoints {
        total: usize,
        selector: Option<String>,
    },
    /// It routes to `ready` ready endpoint addresses: the Service is not what holds the wait.
    Ready { ready: usize },
}

/// A Service that exists and takes the connection: its EndpointSlices decide.
#[derive(Debug, PartialEq, Eq)]
struct Routed {
    /// `key=value,…`; `None` when its endpoints are managed by hand.
    selector: Option<String>,
}

/// The verdict on Service `name` from the Services of its namespace, for a wait on `port`; or,
/// when the Service takes the connection, that its endpoints decide ([`endpoints_verdict`]).
fn service_verdict<'s>(
    services: &'s [Service],
    name: &str,
    port: Option<u16>,
) -> ControlFlow<ServiceVerdict<'s>, Routed> {
    let Some(service) = services
        .iter()
        .find(|s| s.metadata.name.as_deref() == Some(name))
    else {
        return Break(ServiceVerdict::Missing {
            existing: services
                .iter()
                .filter_map(|s| s.metadata.name.as_deref())
                .collect(),
        });
    };
    let Some(spec) = service.spec.as_ref() else {
        return Continue(Routed { selector: None });
    };
    let external = spec.type_.as_deref() == Some("ExternalName");
    if let Some(port) = port {
        let exposed: Vec<i32> = spec.ports.iter().flatten().map(|p| p.port).collect();
        // A Service without ports says nothing about which port answers.
        if !external && !exposed.is_empty() && !exposed.contains(&i32::from(port)) {
            return Break(ServiceVerdict::PortNotExposed { port, exposed });
        }
    }
    if external {
        return Break(ServiceVerdict::ExternalName {
            external_name: spec.external_name.as_deref().unwrap_or_default(),
        });
    }
    let selector = spec
        .selector
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    Continue(Routed {
        selector: Some(selector).filter(|s| !s.is_empty()),
    })
}

/// The verdict on a routed Service `name` from the EndpointSlices of its namespace. An endpoint
/// whose readiness is unknown counts as ready.
fn endpoints_verdict(
    slices: &[EndpointSlice],
    name: &str,
    routed: Routed,
) -> ServiceVerdict<'static> {
    let (ready, total) = slices
        .iter()
        .filter(|s| {
            s.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("kubernetes.io/service-name"))
                .is_some_and(|n| n == name)
        })
        .flat_map(|s| s.endpoints.iter().flatten())
        .fold((0, 0), |(r, t), e| {
            let is_ready = e.conditions.as_ref().and_then(|c| c.ready) != Some(false);
            (
                r + usize::from(is_ready) * e.addresses.len(),
                t + e.addresses.len(),
            )
        });
    if ready == 0 {
        ServiceVerdict::NoReadyEndpoints {
            total,
            selector: routed.selector,
        }
    } else {
        ServiceVerdict::Ready { ready }
    }
}

/// One wait on a Service, as its findings describe it.
struct ServiceWait<'a> {
    service: &'a ServiceRef,
    target: &'a WaitTarget,
    /// "init container x (1/2) has been running for 10m, waiting for Service y"
    waits: String,
    pod: &'a str,
    container: &'a str,
}

impl ServiceWait<'_> {
    /// The finding when the Service (or its endpoints) could not be looked at.
    fn unchecked(&self, evidence: Vec<String>, next: String) -> Finding {
        Finding {
            stage: Stage::Init,
            severity: Severity::Warning,
            code: FindingCode::WaitingForService,
            message: self.waits.as_str().into(),
            evidence: untrusted_all(evidence),
            next: next.into(),
        }
    }

    /// The Service is missing where the command looks, but exists in `namespaces`.
    fn in_other_namespace(&self, namespaces: &[String]) -> Finding {
        let (name, ns) = (&self.service.name, &self.service.namespace);
        let there = &namespaces[0];
        Finding {
            stage: Stage::Init,
            severity: Severity::Blocker,
            code: FindingCode::ServiceInOtherNamespace,
            message: format!(
                "{}, which does not exist in namespace {ns} but does in namespace {}",
                self.waits,
                namespaces.join(", ")
            )
            .into(),
            evidence: vec![format!(
                "Service {name} exists in namespace(s) {}, not in {ns}",
                namespaces.join(", ")
            )
            .into()],
            next: format!(
                "{}'s command looks for it in namespace {ns}: use the fully qualified name {name}.{there}.svc.cluster.local (or {name}.{there}), or create the Service in {ns}",
                self.container
            )
            .into(),
        }
    }

    /// The finding for a verdict, its evidence the verdict's own line.
    fn finding(&self, verdict: &ServiceVerdict) -> Finding {
        let (waits, name, ns) = (&self.waits, &self.service.name, &self.service.namespace);
        let (severity, code, message, line, next) = match verdict {
            ServiceVerdict::Missing { existing } => (
                Severity::Blocker,
                FindingCode::ServiceMissing,
                format!("{waits}, which does not exist"),
                format!(
                    "Services in {ns}: {}",
                    if existing.is_empty() {
                        "none".to_string()
                    } else {
                        existing.join(", ")
                    }
                ),
                format!(
                    "create Service {name} in namespace {ns} (or deploy what provides it), or fix the name {} waits for",
                    self.container
                ),
            ),
            ServiceVerdict::PortNotExposed { port, exposed } => (
                Severity::Blocker,
                FindingCode::ServicePortNotExposed,
                format!("{waits} on port {port}, which the Service does not expose"),
                format!(
                    "Service {name} exposes port(s) {}",
                    exposed
                        .iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                format!("connect to one of the Service's ports, or add port {port} to Service {name}"),
            ),
            ServiceVerdict::ExternalName { external_name } => (
                Severity::Warning,
                FindingCode::WaitingForService,
                waits.clone(),
                format!("Service {name} is an ExternalName for {external_name}"),
                "check that the external name resolves and answers from the pod's network".into(),
            ),
            ServiceVerdict::NoReadyEndpoints { total, selector } => (
                Severity::Blocker,
                FindingCode::ServiceWithoutEndpoints,
                format!("{waits}, which has no ready endpoints"),
                format!(
                    "Service {name} has {total} endpoint(s), none ready; selector: {}",
                    selector
                        .as_deref()
                        .unwrap_or("none (endpoints are managed by hand)")
                ),
                match selector {
                    Some(sel) => format!(
                        "start (or fix) the pods behind it: kubectl get pods -n {ns} -l {sel}; they must be Ready to become endpoints"
                    ),
                    None => "the Service has no selector: create its EndpointSlices, or give it a selector".to_string(),
                },
            ),
            ServiceVerdict::Ready { ready } => (
                Severity::Warning,
                FindingCode::WaitingDespiteReadyService,
                format!("{waits}, which exists and has ready endpoints"),
                format!("Service {name} exists with {ready} ready endpoint(s)"),
                if matches!(self.target.tool.as_str(), "nslookup" | "dig" | "host" | "getent") {
                    "the name should resolve now: check the exact name in the command (namespace, cluster domain) and cluster DNS (kubectl get pods -n kube-system -l k8s-app=kube-dns)".to_string()
                } else {
                    format!(
                        "the Service is up: check NetworkPolicies between the pods, and that the port answers (kubectl logs {} -c {})",
                        self.pod, self.container
                    )
                },
            ),
        };
        Finding {
            stage: Stage::Init,
            severity,
            code,
            message: message.into(),
            evidence: vec![line.into()],
            next: next.into(),
        }
    }
}

/// Adds the finding about `container` waiting on Service `svc`, once the Services (and, when
/// they route it, the EndpointSlices) of its namespace have been fetched.
pub(super) fn check_service(
    d: &mut Diagnosis,
    container: &DiagnosedContainer,
    target: &WaitTarget,
    svc: &ServiceRef,
    running_for: &str,
    mut evidence: Vec<String>,
    log_evidence: &dyn Fn(&mut Vec<String>),
) {
    let pod = d.name().to_string();
    let wait = ServiceWait {
        service: svc,
        target,
        waits: format!(
            "{} has been running for {running_for}, waiting for Service {}",
            container.label,
            describe_service(svc, d.namespace())
        ),
        pod: &pod,
        container: &container.spec.name,
    };
    let ns = &svc.namespace;
    let verdict = match d.related.services(ns) {
        Lookup::Got(services) => service_verdict(services, &svc.name, target.port),
        Lookup::Unavailable(why) => {
            let why = why.to_string();
            log_evidence(&mut evidence);
            d.note(format!("cannot check Services in {ns}: {why}"));
            let next = format!(
                "check that Service {} exists and has ready endpoints",
                svc.name
            );
            d.findings.push(wait.unchecked(evidence, next));
            return;
        }
        Lookup::Unfetched => return,
    };
    let verdict = match verdict {
        Break(verdict) => verdict,
        Continue(routed) => match d.related.endpoint_slices(ns) {
            Lookup::Got(slices) => endpoints_verdict(slices, &svc.name, routed),
            Lookup::Unavailable(why) => {
                let why = why.to_string();
                d.note(format!("cannot check EndpointSlices in {ns}: {why}"));
                log_evidence(&mut evidence);
                let next = format!(
                    "check the Service's endpoints: kubectl get endpointslices -n {ns} -l kubernetes.io/service-name={}",
                    svc.name
                );
                d.findings.push(wait.unchecked(evidence, next));
                return;
            }
            Lookup::Unfetched => return,
        },
    };
    if matches!(verdict, ServiceVerdict::Missing { .. }) {
        match elsewhere(d, svc) {
            Some(namespaces) if !namespaces.is_empty() => {
                let mut finding = wait.in_other_namespace(&namespaces);
                log_evidence(&mut evidence);
                let mut all = untrusted_all(evidence);
                all.append(&mut finding.evidence);
                finding.evidence = all;
                d.findings.push(finding);
                return;
            }
            None => return,
            Some(_) => {}
        }
    }
    let mut finding = wait.finding(&verdict);
    let mut logs = Vec::new();
    log_evidence(&mut logs);
    let mut all = untrusted_all(evidence);
    all.append(&mut finding.evidence);
    all.extend(untrusted_all(logs));
    finding.evidence = all;
    d.findings.push(finding);
}

/// The other namespaces that have a Service of the missing one's name (one LIST across
/// namespaces filtered by that name, made only when a waited-for Service is missing); `None`
/// until it is fetched.
fn elsewhere(d: &mut Diagnosis, svc: &ServiceRef) -> Option<Vec<String>> {
    match d.related.services_named(&svc.name) {
        Lookup::Got(all) => {
            let mut found: Vec<String> = all
                .iter()
                .filter_map(|s| s.metadata.namespace.clone())
                .filter(|ns| *ns != svc.namespace)
                .collect();
            found.sort();
            found.dedup();
            Some(found)
        }
        Lookup::Unavailable(why) => {
            let why = why.to_string();
            d.note(format!(
                "cannot look for Service {} in other namespaces: {why}",
                svc.name
            ));
            Some(Vec::new())
        }
        Lookup::Unfetched => None,
    }
}

fn describe_service(svc: &ServiceRef, pod_ns: &str) -> String {
    if svc.namespace == pod_ns {
        svc.name.clone()
    } else {
        format!("{}/{}", svc.namespace, svc.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn services(list: serde_json::Value) -> Vec<Service> {
        serde_json::from_value(list).unwrap()
    }

    fn slices(list: serde_json::Value) -> Vec<EndpointSlice> {
        serde_json::from_value(list).unwrap()
    }

    fn redis() -> Vec<Service> {
        services(json!([
            {"metadata": {"name": "postgres"}},
            {"metadata": {"name": "redis"},
             "spec": {"selector": {"app": "redis", "tier": "cache"}, "ports": [{"port": 6379}]}},
            {"metadata": {"name": "billing"},
             "spec": {"type": "ExternalName", "externalName": "billing.example.com",
                      "ports": [{"port": 443}]}}
        ]))
    }

    #[test]
    fn a_service_that_does_not_exist_lists_those_that_do() {
        assert_eq!(
            service_verdict(&redis(), "myservice", None),
            Break(ServiceVerdict::Missing {
                existing: vec!["postgres", "redis", "billing"]
            })
        );
        assert_eq!(
            service_verdict(&[], "myservice", Some(80)),
            Break(ServiceVerdict::Missing { existing: vec![] })
        );
    }

    #[test]
    fn a_port_the_service_does_not_expose_is_the_verdict() {
        assert_eq!(
            service_verdict(&redis(), "redis", Some(6380)),
            Break(ServiceVerdict::PortNotExposed {
                port: 6380,
                exposed: vec![6379]
            })
        );
        // A Service without ports, or an ExternalName, says nothing about which port answers.
        assert_eq!(
            service_verdict(&redis(), "postgres", Some(5432)),
            Continue(Routed { selector: None })
        );
        assert_eq!(
            service_verdict(&redis(), "billing", Some(8443)),
            Break(ServiceVerdict::ExternalName {
                external_name: "billing.example.com"
            })
        );
    }

    #[test]
    fn a_routed_service_leaves_the_verdict_to_its_endpoints() {
        let routed = Continue(Routed {
            selector: Some("app=redis,tier=cache".into()),
        });
        assert_eq!(service_verdict(&redis(), "redis", Some(6379)), routed);
        assert_eq!(service_verdict(&redis(), "redis", None), routed);
    }

    #[test]
    fn endpoints_of_the_service_decide_whether_it_is_ready() {
        let list = slices(json!([
            {"metadata": {"name": "redis-a", "labels": {"kubernetes.io/service-name": "redis"}},
             "addressType": "IPv4",
             "endpoints": [
                {"addresses": ["10.0.0.1"], "conditions": {"ready": false}},
                {"addresses": ["10.0.0.2", "10.0.0.3"], "conditions": {"ready": false}}
             ]},
            {"metadata": {"name": "other", "labels": {"kubernetes.io/service-name": "other"}},
             "addressType": "IPv4",
             "endpoints": [{"addresses": ["10.0.0.9"], "conditions": {"ready": true}}]}
        ]));
        let by_hand = || Routed { selector: None };
        assert_eq!(
            endpoints_verdict(&list, "redis", by_hand()),
            ServiceVerdict::NoReadyEndpoints {
                total: 3,
                selector: None
            }
        );
        assert_eq!(
            endpoints_verdict(&list, "other", by_hand()),
            ServiceVerdict::Ready { ready: 1 }
        );
        assert_eq!(
            endpoints_verdict(
                &[],
                "redis",
                Routed {
                    selector: Some("app=redis".into())
                }
            ),
            ServiceVerdict::NoReadyEndpoints {
                total: 0,
                selector: Some("app=redis".into())
            }
        );
        // Readiness not reported counts as ready.
        let unknown = slices(json!([
            {"metadata": {"name": "redis-b", "labels": {"kubernetes.io/service-name": "redis"}},
             "addressType": "IPv4",
             "endpoints": [{"addresses": ["10.0.0.4"]}]}
        ]));
        assert_eq!(
            endpoints_verdict(&unknown, "redis", by_hand()),
            ServiceVerdict::Ready { ready: 1 }
        );
    }
}
