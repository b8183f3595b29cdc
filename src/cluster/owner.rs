//! Who decides a pod's spec: the pod itself, or the top-level workload whose template its
//! controller recreates it from (ReplicaSet → Deployment). API reads only.

use serde_json::Value;

use crate::change::plan::Ownership;
use crate::cluster::{Cluster, Kind};
use crate::error::Result;
use crate::input::target::WorkloadKind;

fn controller_ref(obj: &Value) -> Option<(String, String)> {
    obj.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        .map(|r| {
            let field = |k: &str| {
                r.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            (field("kind"), field("name"))
        })
}

fn replicas(obj: &Value, kind: WorkloadKind) -> Option<i32> {
    let path = if kind == WorkloadKind::DaemonSet {
        "/status/desiredNumberScheduled"
    } else {
        "/spec/replicas"
    };
    obj.pointer(path).and_then(Value::as_i64).map(|n| n as i32)
}

/// Controllers that do not replace existing pods when their template changes: the pod must be
/// deleted to come back with the new template.
fn replaces_only_on_delete(obj: &Value, kind: WorkloadKind) -> bool {
    match kind {
        WorkloadKind::StatefulSet | WorkloadKind::DaemonSet => {
            obj.pointer("/spec/updateStrategy/type")
                .and_then(Value::as_str)
                == Some("OnDelete")
        }
        WorkloadKind::ReplicaSet | WorkloadKind::ReplicationController => true,
        _ => false,
    }
}

fn workload(obj: &Value, kind: WorkloadKind, name: &str) -> Ownership {
    Ownership::Workload {
        kind,
        name: name.to_string(),
        replicas: replicas(obj, kind),
        on_delete: replaces_only_on_delete(obj, kind),
    }
}

/// Without a cluster (`check`): what the pod's own ownerReferences say, one level only.
pub fn from_manifest(pod: &Value) -> Ownership {
    match controller_ref(pod) {
        None => Ownership::Bare,
        Some((kind, name)) => match kind.as_str() {
            "Job" => Ownership::Job { name },
            "ReplicaSet" => Ownership::Workload {
                kind: WorkloadKind::ReplicaSet,
                name,
                replicas: None,
                on_delete: false,
            },
            "StatefulSet" => Ownership::Workload {
                kind: WorkloadKind::StatefulSet,
                name,
                replicas: None,
                on_delete: false,
            },
            "DaemonSet" => Ownership::Workload {
                kind: WorkloadKind::DaemonSet,
                name,
                replicas: None,
                on_delete: false,
            },
            "ReplicationController" => Ownership::Workload {
                kind: WorkloadKind::ReplicationController,
                name,
                replicas: None,
                on_delete: true,
            },
            _ => Ownership::Other { kind, name },
        },
    }
}

/// Walks up from the pod to the workload whose template matters.
pub async fn resolve(cluster: &Cluster, pod: &Value) -> Result<Ownership> {
    let ns = pod
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let Some((kind, name)) = controller_ref(pod) else {
        return Ok(Ownership::Bare);
    };
    let kind = match kind.as_str() {
        "Job" => return Ok(Ownership::Job { name }),
        "ReplicaSet" => WorkloadKind::ReplicaSet,
        "StatefulSet" => WorkloadKind::StatefulSet,
        "DaemonSet" => WorkloadKind::DaemonSet,
        "ReplicationController" => WorkloadKind::ReplicationController,
        _ => return Ok(Ownership::Other { kind, name }),
    };
    let obj = cluster.get_json(Kind::Workload(kind), ns, &name).await?;
    if kind == WorkloadKind::ReplicaSet
        && let Some((parent_kind, parent)) = controller_ref(&obj)
    {
        if parent_kind != "Deployment" {
            return Ok(Ownership::Other {
                kind: parent_kind,
                name: parent,
            });
        }
        let deployment = cluster
            .get_json(Kind::Workload(WorkloadKind::Deployment), ns, &parent)
            .await?;
        return Ok(workload(&deployment, WorkloadKind::Deployment, &parent));
    }
    Ok(workload(&obj, kind, &name))
}
