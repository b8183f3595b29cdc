//! Scheduler reasons that are about where pods fit, not how big they are: nodes full of pods
//! (`Too many pods`), host ports already taken, topology spread constraints.

use k8s_openapi::api::core::v1::Node;

use super::FitReason;
use super::findings::per_node;
use crate::diagnosis::{Diagnosis, Finding, FindingCode, Severity, Stage, untrusted_all};
use crate::util::sanitize::Untrusted;

fn push(d: &mut Diagnosis, code: FindingCode, message: String, evidence: Vec<String>, next: &str) {
    d.findings.push(Finding {
        stage: Stage::Unschedulable,
        severity: Severity::Blocker,
        code,
        message: Untrusted::from(message),
        evidence: untrusted_all(evidence),
        next: Untrusted::from(next),
    });
}

fn allocatable_pods(node: &Node) -> Option<String> {
    node.status
        .as_ref()?
        .allocatable
        .as_ref()?
        .get("pods")
        .map(|q| q.0.clone())
}

/// `Too many pods`: every pod counts one against the node's allocatable `pods` (the kubelet's
/// maxPods); there is no per-pod request to lower.
pub(super) fn too_many_pods(d: &mut Diagnosis, reason: &FitReason) {
    let mut evidence = vec![format!("scheduler: {} {}", reason.count, reason.text)];
    let tolerations = d
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.clone())
        .unwrap_or_default();
    evidence.extend(per_node(d, |node| {
        // Nodes the pod cannot use anyway (tainted against it) are not the full ones.
        if !super::untolerated_on(node, &tolerations).is_empty() {
            return Vec::new();
        }
        vec![format!(
            "allocatable pods {} (the kubelet's maxPods)",
            allocatable_pods(node).unwrap_or_else(|| "unknown".into())
        )]
    }));
    push(
        d,
        FindingCode::TooManyPods,
        format!(
            "{} node(s) already run as many pods as they allow (allocatable pods)",
            reason.count
        ),
        evidence,
        "add a node (the cluster autoscaler does this if configured) or remove pods from the full nodes; raising the kubelet's maxPods also needs enough pod IPs in the node's pod CIDR",
    );
}

/// The host ports the pod asks for, as `container: hostPort/protocol`.
fn host_ports(d: &Diagnosis) -> Vec<String> {
    let Some(spec) = d.pod.spec.as_ref() else {
        return Vec::new();
    };
    spec.init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .flat_map(|c| {
            c.ports.iter().flatten().filter_map(|p| {
                let host = p.host_port.filter(|h| *h > 0)?;
                Some(format!(
                    "{}: hostPort {host}/{}{}",
                    c.name,
                    p.protocol.as_deref().unwrap_or("TCP"),
                    p.host_ip
                        .as_deref()
                        .filter(|ip| !ip.is_empty())
                        .map(|ip| format!(" on {ip}"))
                        .unwrap_or_default()
                ))
            })
        })
        .collect()
}

pub(super) fn host_port_conflict(d: &mut Diagnosis, reason: &FitReason) {
    let ports = host_ports(d);
    let mut evidence = vec![format!("scheduler: {} {}", reason.count, reason.text)];
    evidence.extend(ports.iter().map(|p| format!("pod asks for {p}")));
    let named: Vec<String> = ports
        .iter()
        .filter_map(|p| p.split_once("hostPort ").map(|(_, rest)| rest.to_string()))
        .collect();
    let message = if named.is_empty() {
        format!(
            "{} node(s) already have the pod's host port(s) taken",
            reason.count
        )
    } else {
        format!(
            "{} node(s) already have hostPort {} taken by another pod",
            reason.count,
            named.join(", ")
        )
    };
    push(
        d,
        FindingCode::HostPortConflict,
        message,
        evidence,
        "only one pod per node can hold a hostPort: another pod (often the previous replica or a DaemonSet) holds it. Drop hostPort and reach the pod through a Service, use a port no other pod takes, or add nodes (one per replica)",
    );
}

/// `didn't match pod topology spread constraints`: each constraint as written.
pub(super) fn topology_spread(d: &mut Diagnosis, reason: &FitReason) {
    let constraints = d
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.topology_spread_constraints.clone())
        .unwrap_or_default();
    let missing_label = reason.text.contains("missing required label");
    let mut evidence = vec![format!("scheduler: {} {}", reason.count, reason.text)];
    let mut keys = Vec::new();
    for c in &constraints {
        let selector = c
            .label_selector
            .as_ref()
            .and_then(|s| s.match_labels.as_ref())
            .map(|l| {
                l.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        evidence.push(format!(
            "topologySpreadConstraint: topologyKey {}, maxSkew {}, whenUnsatisfiable {}{}{}",
            c.topology_key,
            c.max_skew,
            c.when_unsatisfiable,
            c.min_domains
                .map(|m| format!(", minDomains {m}"))
                .unwrap_or_default(),
            if selector.is_empty() {
                String::new()
            } else {
                format!(", labelSelector {selector}")
            }
        ));
        if c.when_unsatisfiable == "DoNotSchedule" {
            keys.push(format!("{} (maxSkew {})", c.topology_key, c.max_skew));
        }
    }
    if missing_label {
        let wanted: Vec<String> = constraints.iter().map(|c| c.topology_key.clone()).collect();
        evidence.extend(per_node(d, |node| {
            let labels = node.metadata.labels.clone().unwrap_or_default();
            let absent: Vec<&String> = wanted.iter().filter(|k| !labels.contains_key(*k)).collect();
            if absent.is_empty() {
                return Vec::new();
            }
            vec![format!(
                "no label {}",
                absent
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )]
        }));
    }
    let spread = if keys.is_empty() {
        "its topology spread constraints".to_string()
    } else {
        format!("topologyKey {}", keys.join(", "))
    };
    let message = if missing_label {
        format!(
            "{} node(s) lack the label of {spread}, so they count in no domain",
            reason.count
        )
    } else {
        format!(
            "{} node(s) would break the pod's spread over {spread}: placing it there makes one domain exceed the allowed skew",
            reason.count
        )
    };
    let next = if missing_label {
        "label the nodes with the topologyKey (or fix the key's spelling in the constraint)"
    } else {
        "add capacity in the domain with the fewest matching pods (a node in that zone/host), raise maxSkew, or set whenUnsatisfiable: ScheduleAnyway; with minDomains, the count of domains must be reached first"
    };
    push(
        d,
        FindingCode::TopologySpreadUnsatisfiable,
        message,
        evidence,
        next,
    );
}
