//! Who decides a pod's spec: the pod itself, or the top-level workload whose template its
//! controller recreates it from (ReplicaSet → Deployment). API reads only, and the facts about
//! ownerReferences and controller-added labels they rest on.

use serde_json::Value;

use crate::change::plan::Ownership;
use crate::cluster::{Cluster, Kind};
use crate::error::Result;
use crate::input::target::WorkloadKind;

/// The kind and name of the ownerReference marked `controller: true`, if any.
pub(crate) fn controller_ref(obj: &Value) -> Option<(String, String)> {
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

/// Labels a controller adds to each pod for its template revision; a replacement made from
/// another revision carries a different value.
const REVISION_LABELS: [&str; 2] = ["pod-template-hash", "controller-revision-hash"];

/// A label selector (`k=v,…`) for the pod's replacement: its labels without the revision ones.
pub(crate) fn replacement_selector(pod: &Value) -> String {
    pod.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|l| {
            l.iter()
                .filter(|(k, _)| !REVISION_LABELS.contains(&k.as_str()))
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// How many pods the workload wants: a DaemonSet's are as many as nodes it schedules to.
pub(crate) fn replicas(obj: &Value, kind: WorkloadKind) -> Option<i32> {
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

/// What a pod's controller is, before anything is read: a Job, a workload kind that controls
/// pods directly (its kind given), or something else.
enum Controller {
    Job(String),
    Workload(WorkloadKind, String),
    Other(String, String),
}

fn controller(pod: &Value) -> Option<Controller> {
    let (kind, name) = controller_ref(pod)?;
    Some(match WorkloadKind::from_kind(&kind) {
        Some(WorkloadKind::Job) => Controller::Job(name),
        Some(
            k @ (WorkloadKind::ReplicaSet
            | WorkloadKind::StatefulSet
            | WorkloadKind::DaemonSet
            | WorkloadKind::ReplicationController),
        ) => Controller::Workload(k, name),
        _ => Controller::Other(kind, name),
    })
}

/// Without a cluster (`check`): what the pod's own ownerReferences say, one level only.
pub(crate) fn from_manifest(pod: &Value) -> Ownership {
    match controller(pod) {
        None => Ownership::Bare,
        Some(Controller::Job(name)) => Ownership::Job { name },
        Some(Controller::Workload(kind, name)) => Ownership::Workload {
            kind,
            name,
            replicas: None,
            // Unread, a ReplicaSet is taken to be a Deployment's, which replaces its pods.
            on_delete: kind == WorkloadKind::ReplicationController,
        },
        Some(Controller::Other(kind, name)) => Ownership::Other { kind, name },
    }
}

/// Walks up from the pod to the workload whose template matters.
pub(crate) async fn resolve(cluster: &Cluster, pod: &Value) -> Result<Ownership> {
    let ns = pod
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let (kind, name) = match controller(pod) {
        None => return Ok(Ownership::Bare),
        Some(Controller::Job(name)) => return Ok(Ownership::Job { name }),
        Some(Controller::Other(kind, name)) => return Ok(Ownership::Other { kind, name }),
        Some(Controller::Workload(kind, name)) => (kind, name),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn owned_by(kind: &str, controller: bool) -> Value {
        json!({"metadata": {
            "labels": {"app": "web", "pod-template-hash": "5d8f", "controller-revision-hash": "web-7c"},
            "ownerReferences": [{"kind": kind, "name": "web", "controller": controller}]}})
    }

    #[test]
    fn only_the_controlling_reference_counts() {
        assert_eq!(
            from_manifest(&owned_by("ReplicaSet", false)),
            Ownership::Bare
        );
        assert_eq!(
            controller_ref(&owned_by("StatefulSet", true)),
            Some(("StatefulSet".into(), "web".into()))
        );
        assert_eq!(
            from_manifest(&owned_by("Job", true)),
            Ownership::Job { name: "web".into() }
        );
        assert_eq!(
            from_manifest(&owned_by("Deployment", true)),
            Ownership::Other {
                kind: "Deployment".into(),
                name: "web".into()
            },
            "a Deployment never controls a pod directly"
        );
    }

    #[test]
    fn a_replacement_is_selected_without_revision_labels() {
        assert_eq!(
            replacement_selector(&owned_by("ReplicaSet", true)),
            "app=web"
        );
    }
}
