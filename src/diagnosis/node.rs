//! The pod's node is not ready (the kubelet stopped posting status, or reports NotReady) or is
//! gone: whatever the pod's status says is stale, so this comes before anything else about it.
//!
//! Nodes are listed only when the pod hints at trouble (a NodeNotReady event, `NodeLost`, an
//! eviction by the taint manager) or another finding fetched them already; the budget of a
//! healthy-node explain stays untouched.

use k8s_openapi::api::core::v1::{Node, NodeCondition};

use super::related::{Lookup, event_line};
use super::{Diagnosis, Finding, FindingCode, Severity, Stage, untrusted_all};
use crate::util::sanitize::Untrusted;

/// The taints the node lifecycle controller puts on a node that is not ready.
pub(super) const NODE_DOWN_TAINTS: [&str; 2] = [
    "node.kubernetes.io/unreachable",
    "node.kubernetes.io/not-ready",
];

/// What the pod itself says about its node: evidence lines, empty when it says nothing.
fn hints(d: &Diagnosis) -> Vec<String> {
    let mut lines: Vec<String> = d
        .events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("NodeNotReady"))
        .map(|e| event_line(e))
        .collect();
    lines.truncate(2);
    let status = d.pod.status.as_ref();
    if status.and_then(|s| s.reason.as_deref()) == Some("NodeLost") {
        lines.push("status.reason: NodeLost".into());
    }
    if let Some(c) = d
        .condition("DisruptionTarget")
        .filter(|c| c.reason.as_deref() == Some("DeletionByTaintManager"))
    {
        lines.push(format!(
            "condition DisruptionTarget=True (DeletionByTaintManager): {}",
            c.message.as_deref().unwrap_or_default()
        ));
    }
    lines
}

pub(super) fn node_down(d: &mut Diagnosis) {
    let Some(name) = d
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .filter(|n| !n.is_empty())
    else {
        return;
    };
    let hinted = hints(d);
    let nodes = if hinted.is_empty() {
        d.related.nodes_if_fetched()
    } else {
        d.related.nodes()
    };
    match nodes {
        Lookup::Got(nodes) => {
            match nodes
                .iter()
                .find(|n| n.metadata.name.as_deref() == Some(name.as_str()))
            {
                Some(node) => not_ready(d, &name, node, hinted),
                // Absent without a hint is left alone: a dump may hold only some nodes, and the
                // pod garbage collector removes pods of deleted nodes within a minute anyway.
                None if !hinted.is_empty() => gone(d, &name, nodes.len(), hinted),
                None => {}
            }
        }
        Lookup::Unavailable(why) => {
            if !hinted.is_empty() {
                let why = why.to_string();
                d.note(format!("cannot check node {name}: {why}"));
                push(
                    d,
                    FindingCode::NodeNotReady,
                    format!("node {name} was reported not ready: the pod's status may be stale"),
                    hinted,
                    next_unknown(&name),
                );
            }
        }
        Lookup::Unfetched => {}
    }
}

fn push(
    d: &mut Diagnosis,
    code: FindingCode,
    message: String,
    evidence: Vec<String>,
    next: String,
) {
    d.findings.push(Finding {
        stage: Stage::Node,
        severity: Severity::Blocker,
        code,
        message: Untrusted::from(message),
        evidence: untrusted_all(evidence),
        next: Untrusted::from(next),
    });
}

const NEVER_TOLERATE: &str = "do not add tolerations for node.kubernetes.io/unreachable or not-ready: they only keep pods bound to a dead node";

fn next_unknown(name: &str) -> String {
    format!(
        "check the machine behind node {name}: is it up, is the kubelet running, can it reach the API server (kubectl describe node {name}). If it is gone for good, delete the Node so the pod's controller replaces the pod elsewhere (a bare pod must be recreated by hand); {NEVER_TOLERATE}"
    )
}

fn ready_condition(node: &Node) -> Option<&NodeCondition> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
}

fn not_ready(d: &mut Diagnosis, name: &str, node: &Node, hinted: Vec<String>) {
    let Some(ready) = ready_condition(node).filter(|c| c.status != "True") else {
        return;
    };
    let since = ready.last_transition_time.as_ref().map(|t| t.0);
    d.node_down_since = since;
    let state = if ready.status == "Unknown" {
        "Unknown"
    } else {
        "NotReady"
    };
    let reason = ready.reason.clone().unwrap_or_default();
    let said = ready.message.clone().unwrap_or_default();
    let when = since
        .map(|t| format!(" since {t} ({} ago)", d.ago(t)))
        .unwrap_or_default();
    let mut evidence = vec![format!(
        "node {name}: condition Ready={}{}{when}: {said}",
        ready.status,
        if reason.is_empty() {
            String::new()
        } else {
            format!(" ({reason})")
        }
    )];
    if let Some(beat) = ready.last_heartbeat_time.as_ref().map(|t| t.0) {
        evidence.push(format!(
            "node {name}: last heartbeat {beat} ({} ago)",
            d.ago(beat)
        ));
    }
    let taints: Vec<String> = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .into_iter()
        .flatten()
        .filter(|t| NODE_DOWN_TAINTS.contains(&t.key.as_str()))
        .map(|t| format!("{}:{}", t.key, t.effect))
        .collect();
    if !taints.is_empty() {
        evidence.push(format!("node {name}: taints {}", taints.join(", ")));
    }
    evidence.extend(hinted);
    let message = if state == "Unknown" {
        format!(
            "node {name} is Unknown{when}: the kubelet stopped posting node status, so the pod's status is stale and nothing on it progresses"
        )
    } else {
        let why = if reason.is_empty() {
            String::new()
        } else {
            format!(" ({reason})")
        };
        format!(
            "node {name} is NotReady{why}{when}: the pod's status is stale and nothing on it progresses"
        )
    };
    let next = if state == "Unknown" {
        next_unknown(name)
    } else {
        format!(
            "fix the node: the kubelet reports it not ready (container runtime, network plugin, kubelet health; kubectl describe node {name}). Cordon and drain it if it will not recover soon, so the pod's controller replaces the pod elsewhere; {NEVER_TOLERATE}"
        )
    };
    push(d, FindingCode::NodeNotReady, message, evidence, next);
}

fn gone(d: &mut Diagnosis, name: &str, listed: usize, hinted: Vec<String>) {
    let mut evidence = vec![
        format!("spec.nodeName: {name}"),
        format!("node {name} is not among the {listed} node(s) that exist"),
    ];
    evidence.extend(hinted);
    let pod = d.name().to_string();
    push(
        d,
        FindingCode::NodeGone,
        format!(
            "node {name} no longer exists: the pod's status is stale and it will never run there"
        ),
        evidence,
        format!(
            "the pod garbage collector deletes pods bound to a deleted node and the pod's controller creates a replacement; a bare pod must be recreated (kubectl initctl restart pod/{pod}); if it hangs in Terminating, kubectl delete pod {pod} --force --grace-period=0"
        ),
    );
}
