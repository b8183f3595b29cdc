//! One test per rule and per class; the pods are shaped like what the API server returns.

use serde_json::{Value, json};

use super::*;
use crate::render::change::diff;

/// A bare pod as stored: defaulted, with admission's tolerations, a regular init container, a
/// sidecar and one app container.
fn pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "myapp-pod", "namespace": "seed", "uid": "0b5d6c1e",
            "resourceVersion": "4711", "creationTimestamp": "2026-11-24T12:00:00Z",
            "labels": {"app": "myapp"},
            "managedFields": [{"manager": "kubectl-create", "operation": "Update"}]
        },
        "spec": {
            "initContainers": [
                {"name": "init-mydb", "image": "busybox:1.28",
                 "command": ["sh", "-c", "until nslookup mydb; do sleep 2; done"],
                 "imagePullPolicy": "IfNotPresent", "resources": {},
                 "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"},
                {"name": "log-shipper", "image": "fluent/fluent-bit:3.2.4", "restartPolicy": "Always",
                 "imagePullPolicy": "IfNotPresent", "resources": {"limits": {"memory": "128Mi"}, "requests": {"memory": "128Mi"}},
                 "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}
            ],
            "containers": [
                {"name": "app", "image": "busybox:1.36", "command": ["sleep", "3600"],
                 "env": [{"name": "MODE", "value": "prod"}],
                 "imagePullPolicy": "IfNotPresent",
                 "resources": {"requests": {"cpu": "500m"}},
                 "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}
            ],
            "dnsPolicy": "ClusterFirst", "enableServiceLinks": true, "nodeName": "node-1",
            "preemptionPolicy": "PreemptLowerPriority", "priority": 0, "restartPolicy": "Always",
            "schedulerName": "default-scheduler", "securityContext": {},
            "serviceAccount": "default", "serviceAccountName": "default",
            "terminationGracePeriodSeconds": 30,
            "tolerations": [
                {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
                {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}
            ]
        },
        "status": {"phase": "Pending", "initContainerStatuses": []}
    })
}

/// A gated pod (never scheduled), with a node selector and required node affinity.
fn gated() -> Value {
    let mut p = pod();
    let spec = p["spec"].as_object_mut().unwrap();
    spec.remove("nodeName");
    spec.insert(
        "schedulingGates".into(),
        json!([{"name": "example.com/quota"}]),
    );
    spec.insert("nodeSelector".into(), json!({"disk": "ssd"}));
    spec.insert(
        "affinity".into(),
        json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}}),
    );
    p
}

fn edit(live: &Value, f: impl FnOnce(&mut Value)) -> Classification {
    let mut edited = live.clone();
    f(&mut edited);
    classify(live, &edited)
}

fn violations(c: Classification) -> Vec<Violation> {
    match c {
        Classification::Rejected(v) => v,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn allowed(c: Classification) -> Vec<Change> {
    match c {
        Classification::Allowed(c) => c,
        other => panic!("expected allowed changes, got {other:?}"),
    }
}

fn paths(v: &[Violation]) -> Vec<&str> {
    v.iter().map(|v| v.path.as_str()).collect()
}

#[test]
fn identical_pods_are_no_change() {
    assert_eq!(classify(&pod(), &pod()), Classification::NoChange);
}

#[test]
fn status_and_server_bookkeeping_are_ignored() {
    let c = edit(&pod(), |p| {
        p["status"]["phase"] = json!("Running");
        p["metadata"]["resourceVersion"] = json!("1");
        p["metadata"]["generation"] = json!(7);
        p["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
    });
    assert_eq!(c, Classification::NoChange);
}

#[test]
fn fields_that_defaulting_or_admission_restores_are_no_change() {
    let c = edit(&pod(), |p| {
        let spec = p["spec"].as_object_mut().unwrap();
        for key in [
            "dnsPolicy",
            "enableServiceLinks",
            "restartPolicy",
            "schedulerName",
            "securityContext",
            "terminationGracePeriodSeconds",
            "serviceAccount",
            "priority",
            "preemptionPolicy",
            "tolerations",
        ] {
            spec.remove(key);
        }
        let init = p["spec"]["initContainers"][0].as_object_mut().unwrap();
        for key in [
            "imagePullPolicy",
            "resources",
            "terminationMessagePath",
            "terminationMessagePolicy",
        ] {
            init.remove(key);
        }
        // Requests default to limits.
        p["spec"]["initContainers"][1]["resources"]
            .as_object_mut()
            .unwrap()
            .remove("requests");
        // The same quantity, written another way.
        p["spec"]["containers"][0]["resources"]["requests"]["cpu"] = json!(0.5);
        p["metadata"].as_object_mut().unwrap().remove("uid");
    });
    assert_eq!(c, Classification::NoChange);
}

#[test]
fn a_restored_default_toleration_in_another_place_is_no_change() {
    // Admission appends the toleration it restores; tolerations are a set, so this is no edit.
    let c = edit(&pod(), |p| {
        p["spec"]["tolerations"].as_array_mut().unwrap().remove(0);
    });
    assert_eq!(c, Classification::NoChange);
}

#[test]
fn init_image_change_is_classified_with_its_index_and_kind() {
    let c = edit(&pod(), |p| {
        p["spec"]["initContainers"][0]["image"] = json!("busybox:1.36");
        p["spec"]["initContainers"][1]["image"] = json!("fluent/fluent-bit:3.3.0");
        p["metadata"]["labels"]["tier"] = json!("web");
    });
    let Classification::InitImages { images, others } = c else {
        panic!("expected init images, got {c:?}");
    };
    assert_eq!(
        images,
        vec![
            ImageChange {
                index: 0,
                name: "init-mydb".into(),
                sidecar: false,
                old: "busybox:1.28".into(),
                new: "busybox:1.36".into(),
            },
            ImageChange {
                index: 1,
                name: "log-shipper".into(),
                sidecar: true,
                old: "fluent/fluent-bit:3.2.4".into(),
                new: "fluent/fluent-bit:3.3.0".into(),
            },
        ]
    );
    assert_eq!(others.len(), 1);
    assert_eq!(others[0].path, "metadata.labels");
    assert_eq!(others[0].new, Some(json!({"app": "myapp", "tier": "web"})));
}

#[test]
fn app_image_change_is_allowed() {
    let changes = allowed(edit(&pod(), |p| {
        p["spec"]["containers"][0]["image"] = json!("busybox:1.37");
    }));
    assert_eq!(
        changes,
        vec![Change {
            path: "spec.containers[app].image".into(),
            old: Some(json!("busybox:1.36")),
            new: Some(json!("busybox:1.37")),
        }]
    );
}

#[test]
fn any_other_init_container_field_is_rejected_field_by_field() {
    let v = violations(edit(&pod(), |p| {
        let init = &mut p["spec"]["initContainers"][0];
        init["command"] = json!(["sh", "-c", "until nslookup mydb2; do sleep 2; done"]);
        init["env"] = json!([{"name": "X", "value": "1"}]);
        init["image"] = json!("busybox:1.36");
    }));
    assert_eq!(
        paths(&v),
        [
            "spec.initContainers[init-mydb].command",
            "spec.initContainers[init-mydb].env"
        ]
    );
    assert_eq!(v[0].rule, UPDATABLE_RULE);
    assert_eq!(
        v[0].old,
        Some(pod()["spec"]["initContainers"][0]["command"].clone())
    );
    assert!(
        v[0].instead.contains("kubectl initctl restart"),
        "{}",
        v[0].instead
    );
    assert_eq!(v[1].old, None);
}

#[test]
fn app_container_fields_other_than_image_are_rejected() {
    let v = violations(edit(&pod(), |p| {
        p["spec"]["containers"][0]["env"][0]["value"] = json!("dev");
    }));
    assert_eq!(paths(&v), ["spec.containers[app].env"]);
}

#[test]
fn resources_point_to_resize_except_for_regular_init_containers() {
    let v = violations(edit(&pod(), |p| {
        p["spec"]["initContainers"][0]["resources"] = json!({"limits": {"cpu": "1"}});
        p["spec"]["initContainers"][1]["resources"]["limits"]["memory"] = json!("256Mi");
        p["spec"]["containers"][0]["resources"]["requests"]["cpu"] = json!("1");
    }));
    assert_eq!(v.len(), 3);
    assert!(
        v[0].instead
            .contains("non-sidecar init containers are immutable")
    );
    assert!(v[1].instead.contains("--subresource resize"));
    assert!(v[2].instead.contains("--subresource resize"));
}

#[test]
fn owned_pods_are_pointed_at_their_controller() {
    let mut live = pod();
    live["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "name": "orders-5f6d", "controller": true, "uid": "x"}]);
    let v = violations(edit(&live, |p| {
        p["spec"]["initContainers"][0]["args"] = json!(["-v"]);
    }));
    assert!(
        v[0].instead.contains("ReplicaSet/orders-5f6d"),
        "{}",
        v[0].instead
    );
    assert!(v[0].instead.contains("Deployment"));

    live["metadata"]["ownerReferences"][0]["kind"] = json!("Job");
    let v = violations(edit(&live, |p| {
        p["spec"]["initContainers"][0]["args"] = json!(["-v"]);
    }));
    assert!(v[0].instead.contains("Job's pod template is immutable"));
}

#[test]
fn adding_or_removing_containers_is_rejected() {
    let v = violations(edit(&pod(), |p| {
        let extra = json!({"name": "init-extra", "image": "busybox"});
        p["spec"]["initContainers"]
            .as_array_mut()
            .unwrap()
            .push(extra);
        p["spec"]["containers"].as_array_mut().unwrap().clear();
    }));
    assert_eq!(paths(&v), ["spec.initContainers", "spec.containers"]);
    assert!(
        v.iter()
            .all(|v| v.rule == "pod updates may not add or remove containers")
    );
    assert_eq!(v[0].old.as_ref().unwrap().as_array().unwrap().len(), 2);
    assert_eq!(v[0].new.as_ref().unwrap().as_array().unwrap().len(), 3);
}

#[test]
fn reorder_is_reported_once_and_other_changes_by_name() {
    let v = violations(edit(&pod(), |p| {
        p["spec"]["initContainers"]
            .as_array_mut()
            .unwrap()
            .reverse();
        p["spec"]["initContainers"][1]["args"] = json!(["-x"]);
    }));
    assert_eq!(
        paths(&v),
        ["spec.initContainers", "spec.initContainers[init-mydb].args"]
    );
    assert_eq!(v[0].old, Some(json!(["init-mydb", "log-shipper"])));
    assert_eq!(v[0].new, Some(json!(["log-shipper", "init-mydb"])));
    assert!(v[0].instead.contains("list order"));
}

#[test]
fn rename_is_rejected_at_its_index() {
    let v = violations(edit(&pod(), |p| {
        p["spec"]["initContainers"][0]["name"] = json!("init-db");
    }));
    assert_eq!(paths(&v), ["spec.initContainers[init-mydb].name"]);
    assert_eq!(v[0].new, Some(json!("init-db")));
}

#[test]
fn unnamed_containers_are_named_by_index() {
    let mut live = pod();
    live["spec"]["initContainers"][0]
        .as_object_mut()
        .unwrap()
        .remove("name");
    let v = violations(edit(&live, |p| {
        p["spec"]["initContainers"][0]["args"] = json!(["-v"]);
    }));
    assert_eq!(paths(&v), ["spec.initContainers[0].args"]);
}

#[test]
fn empty_or_padded_images_are_rejected() {
    let v = violations(edit(&pod(), |p| {
        p["spec"]["initContainers"][0]["image"] = json!("");
        p["spec"]["containers"][0]["image"] = json!(" busybox:1.37");
    }));
    assert_eq!(
        paths(&v),
        [
            "spec.initContainers[init-mydb].image",
            "spec.containers[app].image"
        ]
    );
    assert_eq!(v[0].rule, "Required value");
    assert_eq!(v[1].rule, "must not have leading or trailing whitespace");
}

#[test]
fn identity_metadata_is_immutable() {
    let v = violations(edit(&pod(), |p| {
        p["metadata"]["name"] = json!("other");
        p["metadata"]["uid"] = json!("1234");
        p["metadata"]["creationTimestamp"] = json!("2020-01-01T00:00:00Z");
        p["metadata"]["namespace"] = json!("prod");
    }));
    assert_eq!(
        paths(&v),
        [
            "metadata.name",
            "metadata.namespace",
            "metadata.uid",
            "metadata.creationTimestamp"
        ]
    );
    assert!(v.iter().all(|v| v.rule == "field is immutable"));
}

#[test]
fn kind_and_api_version_are_kubectl_preconditions() {
    let v = violations(edit(&pod(), |p| p["kind"] = json!("Deployment")));
    assert_eq!(paths(&v), ["kind"]);
    assert_eq!(
        v[0].rule,
        "At least one of apiVersion, kind and name was changed"
    );
}

#[test]
fn labels_annotations_owners_and_finalizers_are_allowed() {
    let changes = allowed(edit(&pod(), |p| {
        p["metadata"]["labels"]["app"] = json!("other");
        p["metadata"]["annotations"] = json!({"note": "x"});
        p["metadata"]["finalizers"] = json!(["example.com/keep"]);
    }));
    let got: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        got,
        [
            "metadata.labels",
            "metadata.annotations",
            "metadata.finalizers"
        ]
    );
}

#[test]
fn mirror_and_apparmor_annotations_are_fixed() {
    let mut live = pod();
    live["metadata"]["annotations"] = json!({"kubernetes.io/config.mirror": "abc", "note": "x"});
    let v = violations(edit(&live, |p| {
        let ann = p["metadata"]["annotations"].as_object_mut().unwrap();
        ann.remove("kubernetes.io/config.mirror");
        ann.insert(
            "container.apparmor.security.beta.kubernetes.io/app".into(),
            json!("runtime/default"),
        );
    }));
    assert_eq!(v[0].rule, "may not remove or update mirror pod annotation");
    assert_eq!(v[1].rule, "may not add AppArmor annotations");
}

#[test]
fn active_deadline_may_be_set_or_lowered_only() {
    let set = |v: Value| {
        move |p: &mut Value| {
            p["spec"]["activeDeadlineSeconds"] = v;
        }
    };
    allowed(edit(&pod(), set(json!(600))));
    let mut live = pod();
    live["spec"]["activeDeadlineSeconds"] = json!(600);
    allowed(edit(&live, set(json!(300))));
    let rule = |c| violations(c)[0].rule.clone();
    assert_eq!(
        rule(edit(&live, set(json!(900)))),
        "must be less than or equal to previous value"
    );
    assert_eq!(
        rule(edit(&live, |p| {
            p["spec"]
                .as_object_mut()
                .unwrap()
                .remove("activeDeadlineSeconds");
        })),
        "must not update from a positive integer to nil value"
    );
    assert_eq!(
        rule(edit(&live, set(json!(-1)))),
        "must be between 0 and 2147483647, inclusive"
    );
    assert_eq!(
        rule(edit(&live, set(json!(0)))),
        "must be between 1 and 2147483647, inclusive"
    );
}

#[test]
fn tolerations_may_be_added_or_have_their_seconds_changed() {
    let changes = allowed(edit(&pod(), |p| {
        p["spec"]["tolerations"][0]["tolerationSeconds"] = json!(60);
        let t = json!({"key": "gpu", "operator": "Exists", "effect": "NoSchedule"});
        p["spec"]["tolerations"].as_array_mut().unwrap().push(t);
    }));
    assert_eq!(changes[0].path, "spec.tolerations");

    let mut live = pod();
    let t = json!({"key": "gpu", "operator": "Exists", "effect": "NoSchedule"});
    live["spec"]["tolerations"].as_array_mut().unwrap().push(t);
    let removed = violations(edit(&live, |p| {
        p["spec"]["tolerations"].as_array_mut().unwrap().pop();
    }));
    let modified = violations(edit(&live, |p| {
        p["spec"]["tolerations"][2]["effect"] = json!("NoExecute");
    }));
    for v in [removed, modified] {
        assert_eq!(paths(&v), ["spec.tolerations"]);
        assert_eq!(
            v[0].rule,
            "existing toleration can not be modified except its tolerationSeconds"
        );
    }
}

#[test]
fn scheduling_gates_may_only_be_removed() {
    let changes = allowed(edit(&gated(), |p| {
        p["spec"].as_object_mut().unwrap().remove("schedulingGates");
    }));
    assert_eq!(changes[0].path, "spec.schedulingGates");
    let v = violations(edit(&pod(), |p| {
        p["spec"]["schedulingGates"] = json!([{"name": "new-gate"}]);
    }));
    assert_eq!(paths(&v), ["spec.schedulingGates[0].name"]);
    assert_eq!(
        v[0].rule,
        "only deletion is allowed, but found new scheduling gate 'new-gate'"
    );
}

#[test]
fn grace_period_may_only_go_from_negative_to_one() {
    let mut live = pod();
    live["spec"]["terminationGracePeriodSeconds"] = json!(-1);
    allowed(edit(&live, |p| {
        p["spec"]["terminationGracePeriodSeconds"] = json!(1)
    }));
    let v = violations(edit(&pod(), |p| {
        p["spec"]["terminationGracePeriodSeconds"] = json!(10)
    }));
    assert_eq!(paths(&v), ["spec.terminationGracePeriodSeconds"]);
    assert_eq!(v[0].rule, UPDATABLE_RULE);
}

#[test]
fn node_selector_grows_only_while_gated() {
    allowed(edit(&gated(), |p| {
        p["spec"]["nodeSelector"]["gpu"] = json!("a100")
    }));
    let v = violations(edit(&gated(), |p| {
        p["spec"]["nodeSelector"]["disk"] = json!("hdd")
    }));
    assert_eq!(
        v[0].rule,
        "only additions to spec.nodeSelector are allowed (no mutations or deletions)"
    );
    let v = violations(edit(&pod(), |p| {
        p["spec"]["nodeSelector"] = json!({"gpu": "a100"})
    }));
    assert_eq!(paths(&v), ["spec.nodeSelector"]);
    assert_eq!(v[0].rule, UPDATABLE_RULE);
}

#[test]
fn node_affinity_narrows_only_while_gated() {
    const TERMS: &str = "/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms";
    let changes = allowed(edit(&gated(), |p| {
        let exprs = p
            .pointer_mut(&format!("{TERMS}/0/matchExpressions"))
            .unwrap();
        let req = json!({"key": "disk", "operator": "Exists"});
        exprs.as_array_mut().unwrap().push(req);
    }));
    assert_eq!(changes[0].path, "spec.affinity.nodeAffinity");

    let v = violations(edit(&gated(), |p| {
        let terms = p.pointer_mut(TERMS).unwrap().as_array_mut().unwrap();
        terms.push(json!({"matchExpressions": [{"key": "b", "operator": "Exists"}]}));
    }));
    assert_eq!(
        v[0].rule,
        "no additions/deletions to non-empty NodeSelectorTerms list are allowed"
    );
    let v = violations(edit(&gated(), |p| {
        *p.pointer_mut(&format!("{TERMS}/0/matchExpressions/0/values"))
            .unwrap() = json!(["b"]);
    }));
    assert_eq!(
        paths(&v),
        [
            "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
        ]
    );
    assert_eq!(
        v[0].rule,
        "only additions are allowed (no mutations or deletions)"
    );

    let v = violations(edit(&pod(), |p| {
        p["spec"]["affinity"] = gated()["spec"]["affinity"].clone();
    }));
    assert_eq!(paths(&v), ["spec.affinity.nodeAffinity"]);
    let v = violations(edit(&gated(), |p| {
        p["spec"]["affinity"]["podAntiAffinity"] = json!({"requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "myapp"}}}]});
    }));
    assert_eq!(paths(&v), ["spec.affinity.podAntiAffinity"]);
}

#[test]
fn ephemeral_containers_and_other_spec_fields_are_rejected() {
    let v = violations(edit(&pod(), |p| {
        p["spec"]["ephemeralContainers"] = json!([{"name": "debugger", "image": "busybox"}]);
        p["spec"]["nodeName"] = json!("node-2");
        p["spec"]["hostNetwork"] = json!(true);
    }));
    assert_eq!(
        paths(&v),
        [
            "spec.nodeName",
            "spec.ephemeralContainers",
            "spec.hostNetwork"
        ]
    );
    assert!(v[1].instead.contains("kubectl debug"));
    assert!(v.iter().all(|v| v.rule == UPDATABLE_RULE));
}

#[test]
fn classification_serializes_in_camel_case() {
    let c = edit(&pod(), |p| {
        p["spec"]["initContainers"][1]["image"] = json!("fluent/fluent-bit:3.3.0");
    });
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(v["initImages"]["images"][0]["sidecar"], true);
    assert_eq!(
        serde_json::to_value(Classification::NoChange).unwrap(),
        "noChange"
    );
}

#[test]
fn diff_shows_exactly_the_given_paths() {
    let c = edit(&pod(), |p| {
        p["spec"]["initContainers"][0]["command"][2] =
            json!("until nslookup mydb2; do sleep 2; done");
        p["spec"]["initContainers"][0]["args"] = json!(["-v"]);
    });
    let expected = "\
--- live spec.initContainers[init-mydb].command
+++ edited spec.initContainers[init-mydb].command
@@ -1,3 +1,3 @@
 - sh
 - -c
-- until nslookup mydb; do sleep 2; done
+- until nslookup mydb2; do sleep 2; done
--- live spec.initContainers[init-mydb].args
+++ edited spec.initContainers[init-mydb].args
@@ -0,0 +1 @@
+- -v
";
    assert_eq!(diff(&c.entries()), expected);
}
