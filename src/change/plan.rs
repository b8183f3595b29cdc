//! Edit classification + live pod + owner → what `edit` (and `check`) will do: for each changed
//! init image whether it would run by itself or needs a restart (the kubelet's rules, see
//! docs/edit.md), and how the change is applied. Pure.

use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;

use crate::change::guard::ImageChange;
use crate::input::target::WorkloadKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RestartMode {
    /// Restart only where the new image would otherwise not run.
    Auto,
    /// Restart whenever an init image changes.
    Always,
    /// Only apply the change; say which new images will not run.
    Never,
}

/// What the kubelet does with one changed init image if nothing else is done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "effect", content = "why")]
pub enum Effect {
    /// The new image runs without a restart.
    RunsByItself(String),
    /// The new image runs only if the pod is recreated.
    NeedsRestart(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImagePlan {
    pub change: ImageChange,
    pub effect: Effect,
}

/// Who owns the pod, as far as edits are concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Ownership {
    Bare,
    /// The top-level owner whose pod template decides the pod's spec.
    Workload {
        kind: WorkloadKind,
        name: String,
        replicas: Option<i32>,
        on_delete: bool,
    },
    /// A Job's template is immutable.
    Job {
        name: String,
    },
    /// A controller this tool does not know how to change (a custom resource, say).
    Other {
        kind: String,
        name: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum Action {
    /// Patch the pod in place, as `kubectl edit` does.
    Patch,
    /// Back up, delete (with preconditions), and create the pod from the edited manifest.
    Recreate,
    /// Patch the owner's pod template; with `delete_pod`, also delete this pod (OnDelete strategy).
    OwnerTemplate {
        kind: WorkloadKind,
        name: String,
        delete_pod: bool,
    },
    /// Nothing can apply it.
    Refuse { reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub images: Vec<ImagePlan>,
    pub restart: bool,
    pub action: Action,
    pub warnings: Vec<String>,
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or_default()
}

/// The kubelet's behaviour for a changed image of init container `change` (§3 of the semantics
/// reference): sidecars are restarted in place; a regular init container that completed or is
/// running keeps the old image; one that has not started, cannot pull, or failed and will be
/// retried starts next time with the new image.
fn image_effect(pod: &Pod, change: &ImageChange) -> Effect {
    if matches!(phase(pod), "Succeeded" | "Failed") {
        return Effect::NeedsRestart(format!(
            "the pod is {}: nothing in it will start again",
            phase(pod)
        ));
    }
    if change.sidecar {
        return Effect::RunsByItself(
            "a sidecar is restarted in place by the kubelet when its image changes".into(),
        );
    }
    let status = pod
        .status
        .as_ref()
        .and_then(|s| s.init_container_statuses.as_ref())
        .and_then(|l| l.iter().find(|c| c.name == change.name));
    let initialized = crate::status::print_pod::has_condition(pod, "Initialized");
    let retried = pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref()) != Some("Never");
    let state = status.and_then(|s| s.state.clone()).unwrap_or_default();
    if let Some(t) = &state.terminated {
        return if t.exit_code == 0 {
            Effect::NeedsRestart("it already completed; init containers are not run again".into())
        } else if retried {
            Effect::RunsByItself("it failed and will be retried with the new image".into())
        } else {
            Effect::NeedsRestart("it failed and the pod's restartPolicy is Never".into())
        };
    }
    if initialized {
        return Effect::NeedsRestart(
            "the pod is initialized; init containers are not run again".into(),
        );
    }
    if state.running.is_some() {
        return Effect::NeedsRestart("it is running the old image and would finish with it".into());
    }
    let reason = state
        .waiting
        .as_ref()
        .and_then(|w| w.reason.clone())
        .unwrap_or_default();
    match reason.as_str() {
        "CrashLoopBackOff" if retried => {
            Effect::RunsByItself("it is crash-looping; its next start uses the new image".into())
        }
        "ErrImagePull"
        | "ImagePullBackOff"
        | "InvalidImageName"
        | "ErrImageNeverPull"
        | "RegistryUnavailable"
        | "CreateContainerConfigError" => Effect::RunsByItself(format!(
            "it never started ({reason}); the next attempt uses the new image"
        )),
        _ => Effect::RunsByItself("it has not started yet".into()),
    }
}

/// `others`: the allowed changes that come with the image changes (labels, app images…).
pub(crate) fn for_edit(
    pod: &Pod,
    images: &[ImageChange],
    others: &[crate::change::guard::Change],
    mode: RestartMode,
    ownership: &Ownership,
) -> Plan {
    let images: Vec<ImagePlan> = images
        .iter()
        .map(|c| ImagePlan {
            change: c.clone(),
            effect: image_effect(pod, c),
        })
        .collect();
    let needed = images
        .iter()
        .any(|i| matches!(i.effect, Effect::NeedsRestart(_)));
    let restart = match mode {
        RestartMode::Auto => needed,
        RestartMode::Always => !images.is_empty(),
        RestartMode::Never => false,
    };
    let mut warnings = Vec::new();
    if mode == RestartMode::Never && needed {
        let names: Vec<&str> = images
            .iter()
            .filter(|i| matches!(i.effect, Effect::NeedsRestart(_)))
            .map(|i| i.change.name.as_str())
            .collect();
        warnings.push(format!(
            "--restart never: the new image of {} will not run until the pod is recreated",
            names.join(", ")
        ));
    }
    let action = match ownership {
        Ownership::Job { name } if !images.is_empty() => Action::Refuse {
            reason: format!(
                "the pod belongs to Job {name}, whose pod template is immutable: create a new Job with the new image (kubectl get job {name} -o yaml, edit, apply under a new name)"
            ),
        },
        Ownership::Other { kind, name } if !images.is_empty() && mode != RestartMode::Never => {
            Action::Refuse {
                reason: format!(
                    "the pod is controlled by {kind}/{name}, which would recreate it from its own template: change the image there (or use --restart never to patch only this pod)"
                ),
            }
        }
        Ownership::Workload {
            kind,
            name,
            on_delete,
            ..
        } if !images.is_empty() && mode != RestartMode::Never => Action::OwnerTemplate {
            kind: *kind,
            name: name.clone(),
            delete_pod: *on_delete,
        },
        Ownership::Workload { .. } | Ownership::Job { .. } | Ownership::Other { .. } => {
            if !images.is_empty() {
                warnings.push(
                    "the owner's template keeps the old image: pods it creates later will run it"
                        .into(),
                );
            }
            Action::Patch
        }
        Ownership::Bare if restart => Action::Recreate,
        Ownership::Bare => Action::Patch,
    };
    if matches!(action, Action::OwnerTemplate { .. }) && !others.is_empty() {
        let paths: Vec<&str> = others.iter().map(|c| c.path.as_str()).collect();
        warnings.push(format!(
            "only the images go to the template; the other changes ({}) are not applied, as the pod is replaced from its owner's template",
            paths.join(", ")
        ));
    }
    Plan {
        images,
        restart,
        action,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::change::plan_lines;
    use serde_json::json;

    fn pod(init_state: serde_json::Value, extra: serde_json::Value) -> Pod {
        let mut p = json!({
            "metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "init", "image": "a:1"}, {"name": "side", "image": "s:1", "restartPolicy": "Always"}],
                     "containers": [{"name": "app", "image": "app:1"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"name": "init", "image": "a:1", "imageID": "", "ready": false, "restartCount": 0, "state": init_state}]}});
        merge(&mut p, extra);
        serde_json::from_value(p).unwrap()
    }

    fn merge(into: &mut serde_json::Value, from: serde_json::Value) {
        match (into, from) {
            (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
                for (k, v) in b {
                    merge(a.entry(k).or_insert(serde_json::Value::Null), v);
                }
            }
            (slot, v) => *slot = v,
        }
    }

    fn change(name: &str, sidecar: bool) -> ImageChange {
        ImageChange {
            index: 0,
            name: name.into(),
            sidecar,
            old: "a:1".into(),
            new: "a:2".into(),
        }
    }

    fn needs_restart(p: &Pod, c: &ImageChange) -> bool {
        matches!(image_effect(p, c), Effect::NeedsRestart(_))
    }

    #[test]
    fn kubelet_rules_per_init_container_state() {
        let completed = pod(json!({"terminated": {"exitCode": 0}}), json!({}));
        let running = pod(json!({"running": {}}), json!({}));
        let pulling = pod(
            json!({"waiting": {"reason": "ImagePullBackOff"}}),
            json!({}),
        );
        let crashing = pod(
            json!({"waiting": {"reason": "CrashLoopBackOff"}}),
            json!({}),
        );
        let failed_never = pod(
            json!({"terminated": {"exitCode": 1}}),
            json!({"spec": {"restartPolicy": "Never"}}),
        );
        let failed_retried = pod(json!({"terminated": {"exitCode": 1}}), json!({}));
        assert!(needs_restart(&completed, &change("init", false)));
        assert!(needs_restart(&running, &change("init", false)));
        assert!(!needs_restart(&pulling, &change("init", false)));
        assert!(!needs_restart(&crashing, &change("init", false)));
        assert!(needs_restart(&failed_never, &change("init", false)));
        assert!(!needs_restart(&failed_retried, &change("init", false)));
        assert!(
            !needs_restart(&completed, &change("side", true)),
            "sidecars restart in place"
        );
        let done = pod(
            json!({"terminated": {"exitCode": 0}}),
            json!({"status": {"phase": "Succeeded"}}),
        );
        assert!(
            needs_restart(&done, &change("side", true)),
            "nothing restarts in a finished pod"
        );
    }

    #[test]
    fn actions_follow_ownership_and_mode() {
        let completed = pod(json!({"terminated": {"exitCode": 0}}), json!({}));
        let images = [change("init", false)];
        let bare = for_edit(
            &completed,
            &images,
            &[],
            RestartMode::Auto,
            &Ownership::Bare,
        );
        assert_eq!(bare.action, Action::Recreate);
        let never = for_edit(
            &completed,
            &images,
            &[],
            RestartMode::Never,
            &Ownership::Bare,
        );
        assert_eq!(never.action, Action::Patch);
        assert!(
            never.warnings[0].contains("will not run"),
            "{:?}",
            never.warnings
        );
        let deploy = Ownership::Workload {
            kind: WorkloadKind::Deployment,
            name: "orders".into(),
            replicas: Some(2),
            on_delete: false,
        };
        let owned = for_edit(&completed, &images, &[], RestartMode::Auto, &deploy);
        assert_eq!(
            owned.action,
            Action::OwnerTemplate {
                kind: WorkloadKind::Deployment,
                name: "orders".into(),
                delete_pod: false
            }
        );
        assert!(
            plan_lines(&owned, "p", &deploy)
                .iter()
                .any(|l| l.contains("Deployment/orders: 2 pod(s) will be replaced"))
        );
        let job = for_edit(
            &completed,
            &images,
            &[],
            RestartMode::Auto,
            &Ownership::Job { name: "j".into() },
        );
        assert!(matches!(job.action, Action::Refuse { .. }));
    }
}
