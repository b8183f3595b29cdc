//! Writes: create, delete (preconditions, deletion delay), the three patch types, pod
//! update validation.

use super::*;

#[test]
fn create_fills_server_fields_honours_dry_run_and_generate_name() {
    let server = seeded();
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "myapp-"},
        "spec": {"containers": [{"name": "c", "image": "busybox", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}});
    let dry = http(
        &server,
        "POST",
        &format!("{SEED_PODS}?dryRun=All"),
        &[],
        &pod.to_string(),
    );
    assert_eq!(dry.status, 201);
    let dry_name = dry.json()["metadata"]["name"].as_str().unwrap().to_string();
    assert!(
        server.get("v1", "Pod", Some("seed"), &dry_name).is_none(),
        "dry run stores nothing"
    );

    let created = http(&server, "POST", SEED_PODS, &[], &pod.to_string());
    assert_eq!(created.status, 201);
    let obj = created.json();
    let name = obj["metadata"]["name"].as_str().unwrap();
    assert!(
        name.starts_with("myapp-") && name.len() == "myapp-".len() + 5,
        "{name}"
    );
    assert!(obj["metadata"]["uid"].as_str().unwrap().len() == 36);
    assert!(
        obj["metadata"]["creationTimestamp"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(
        obj["status"],
        json!({"phase": "Pending", "qosClass": "Guaranteed"})
    );
    assert_eq!(obj["spec"]["containers"][0]["imagePullPolicy"], "Always");
    assert_eq!(obj["spec"]["tolerations"].as_array().unwrap().len(), 2);
    assert_eq!(server.get("v1", "Pod", Some("seed"), name).unwrap(), obj);

    let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
        "spec": {"selector": {"matchLabels": {"app": "api"}}, "template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{"name": "api", "image": "api:1"}]}}}});
    let made = http(
        &server,
        "POST",
        "/apis/apps/v1/namespaces/seed/deployments",
        &[],
        &deploy.to_string(),
    )
    .json();
    assert_eq!(made["metadata"]["generation"], 1);
    let bumped = patch(
        &server,
        "/apis/apps/v1/namespaces/seed/deployments/api",
        "application/merge-patch+json",
        json!({"spec": {"replicas": 3}}),
    )
    .json();
    assert_eq!(bumped["metadata"]["generation"], 2);
    let labelled = patch(
        &server,
        "/apis/apps/v1/namespaces/seed/deployments/api",
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"a": "b"}}}),
    )
    .json();
    assert_eq!(
        labelled["metadata"]["generation"], 2,
        "metadata changes keep the generation"
    );
}

#[test]
fn delete_checks_preconditions_and_returns_the_pod() {
    let server = seeded();
    let path = format!("{SEED_PODS}/web-0");
    let wrong_uid =
        json!({"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "other"}});
    let resp = http(
        &server,
        "DELETE",
        &path,
        &[("Content-Type", "application/json")],
        &wrong_uid.to_string(),
    );
    assert_eq!(resp.status, 409);
    let status = resp.json();
    assert_eq!(
        status["message"],
        "Operation cannot be fulfilled on Pod \"web-0\": the UID in the precondition (other) does not match the UID in record (0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f). The object might have been deleted and then recreated"
    );
    assert_eq!(status["reason"], "Conflict");
    assert_eq!(status["details"], json!({"name": "web-0", "kind": "Pod"}));
    let wrong_rv = json!({"preconditions": {"uid": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "resourceVersion": "1"}});
    let resp = http(&server, "DELETE", &path, &[], &wrong_rv.to_string());
    assert!(
        resp.json()["message"]
            .as_str()
            .unwrap()
            .contains("the ResourceVersion in the precondition (1) does not match the ResourceVersion in record (130)")
    );

    let right = json!({"preconditions": {"uid": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "resourceVersion": "130"}});
    let resp = http(&server, "DELETE", &path, &[], &right.to_string());
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["kind"], "Pod");
    assert!(server.get("v1", "Pod", Some("seed"), "web-0").is_none());
    assert_eq!(http(&server, "DELETE", &path, &[], "").status, 404);

    let svc = http(
        &server,
        "DELETE",
        "/api/v1/namespaces/seed/services/web",
        &[],
        "",
    )
    .json();
    assert_eq!(svc["kind"], "Status");
    assert_eq!(svc["status"], "Success");
    assert_eq!(svc["details"]["kind"], "services");
}

#[test]
fn deletion_delay_keeps_a_terminating_pod_then_sends_deleted() {
    let server = seeded();
    server.set_deletion_delay(Duration::from_millis(300));
    let rv = get(&server, SEED_PODS).json()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let mut watch = Watch::open(
        &server,
        &format!("{SEED_PODS}?watch=true&resourceVersion={rv}&fieldSelector=metadata.name%3Dweb-1"),
    );
    let resp = http(&server, "DELETE", &format!("{SEED_PODS}/web-1"), &[], "");
    assert_eq!(resp.status, 200);
    let pod = resp.json();
    assert!(pod["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(pod["metadata"]["deletionGracePeriodSeconds"], 30);
    assert!(server.get("v1", "Pod", Some("seed"), "web-1").is_some());
    let modified = watch.next().unwrap();
    assert_eq!(modified["type"], "MODIFIED");
    let deleted = watch.next().unwrap();
    assert_eq!(deleted["type"], "DELETED");
    assert!(server.get("v1", "Pod", Some("seed"), "web-1").is_none());
}

#[test]
fn strategic_merge_patches_lists_by_name_and_other_patch_types_apply() {
    let server = seeded();
    let before = server.get("v1", "Pod", Some("seed"), "myapp-pod").unwrap();
    let resp = patch(
        &server,
        &pod_path("myapp-pod"),
        "application/strategic-merge-patch+json",
        json!({"spec": {"initContainers": [{"name": "init-mydb", "image": "busybox:1.36"}]}}),
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    let pod = resp.json();
    let inits = pod["spec"]["initContainers"].as_array().unwrap();
    assert_eq!(inits.len(), 2);
    assert_eq!(inits[0]["name"], "init-myservice");
    assert_eq!(inits[0]["image"], "busybox:1.28");
    assert_eq!(inits[1]["image"], "busybox:1.36");
    assert_eq!(
        inits[1]["command"],
        before["spec"]["initContainers"][1]["command"]
    );
    let rv = |obj: &Value| -> u64 {
        obj["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(rv(&pod) > rv(&before));

    let merged = patch(
        &server,
        &pod_path("myapp-pod"),
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"tier": null, "x": "y"}}}),
    )
    .json();
    assert_eq!(
        merged["metadata"]["labels"],
        json!({"app.kubernetes.io/name": "MyApp", "x": "y"})
    );
    let ops = json!([{"op": "test", "path": "/spec/containers/0/name", "value": "myapp-container"},
                     {"op": "replace", "path": "/spec/containers/0/image", "value": "busybox:1.37"}]);
    let jp = patch(
        &server,
        &pod_path("myapp-pod"),
        "application/json-patch+json",
        ops,
    )
    .json();
    assert_eq!(jp["spec"]["containers"][0]["image"], "busybox:1.37");
    let failing = patch(
        &server,
        &pod_path("myapp-pod"),
        "application/json-patch+json",
        json!([{"op": "test", "path": "/spec/nodeName", "value": "elsewhere"}]),
    );
    assert_eq!(failing.status, 422);

    // Unchanged content keeps the resourceVersion (no event).
    let again = patch(
        &server,
        &pod_path("myapp-pod"),
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"x": "y"}}}),
    )
    .json();
    assert_eq!(
        again["metadata"]["resourceVersion"],
        jp["metadata"]["resourceVersion"]
    );
    // Status is ignored on the main resource and written through /status.
    let ignored = patch(
        &server,
        &pod_path("myapp-pod"),
        "application/merge-patch+json",
        json!({"status": {"phase": "Running"}}),
    )
    .json();
    assert_eq!(ignored["status"]["phase"], "Pending");
    let status = patch(
        &server,
        &format!("{}/status", pod_path("myapp-pod")),
        "application/merge-patch+json",
        json!({"status": {"phase": "Running"}, "spec": {"nodeName": "x"}}),
    )
    .json();
    assert_eq!(status["status"]["phase"], "Running");
    assert_eq!(status["spec"]["nodeName"], "node-1");
    // Directives: delete one container's env entry and replace a list.
    let web = patch(
        &server,
        &pod_path("web-0"),
        "application/strategic-merge-patch+json",
        json!({"spec": {"$setElementOrder/containers": [{"name": "log-shipper"}, {"name": "nginx"}], "containers": [{"name": "nginx", "image": "nginx:1.28"}]}}),
    );
    assert_eq!(
        web.status, 422,
        "reordering containers is a forbidden pod update"
    );
}

#[test]
fn pod_updates_are_validated_like_validate_pod_update() {
    let server = seeded();
    let smp = |body: Value| {
        patch(
            &server,
            &pod_path("myapp-pod"),
            "application/strategic-merge-patch+json",
            body,
        )
    };

    let ok = smp(
        json!({"spec": {"initContainers": [{"name": "init-myservice", "image": "busybox:1.36"}], "activeDeadlineSeconds": 600}}),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);

    let cmd = smp(
        json!({"spec": {"initContainers": [{"name": "init-mydb", "command": ["sh", "-c", "true"]}]}}),
    );
    assert_eq!(cmd.status, 422);
    let status = cmd.json();
    assert_eq!(status["reason"], "Invalid");
    assert_eq!(status["details"]["kind"], "Pod");
    assert_eq!(status["details"]["name"], "myapp-pod");
    let message = status["message"].as_str().unwrap();
    assert!(message.starts_with("Pod \"myapp-pod\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"), "{message}");
    assert!(
        message.contains("initContainers[1].command[2]"),
        "{message}"
    );
    let cause = &status["details"]["causes"][0];
    assert_eq!(cause["reason"], "FieldValueForbidden");
    assert_eq!(cause["field"], "spec");
    assert!(
        cause["message"]
            .as_str()
            .unwrap()
            .starts_with("Forbidden: pod updates may not change fields other than")
    );

    let add =
        smp(json!({"spec": {"initContainers": [{"name": "init-extra", "image": "busybox"}]}}));
    assert_eq!(
        add.json()["message"],
        "Pod \"myapp-pod\" is invalid: spec.initContainers: Forbidden: pod updates may not add or remove containers"
    );

    // Adding a toleration is allowed; removing it again is not. (Dropping the default
    // not-ready/unreachable ones is no change: DefaultTolerationSeconds adds them back.)
    let dedicated =
        json!({"key": "example.com/dedicated", "operator": "Exists", "effect": "NoSchedule"});
    let added = smp(json!({"spec": {"tolerations": [dedicated]}}));
    assert_eq!(added.status, 200, "{}", added.body);
    let defaults_dropped = smp(json!({"spec": {"tolerations": [dedicated]}}));
    assert_eq!(defaults_dropped.status, 200, "{}", defaults_dropped.body);
    let tolerations = smp(
        json!({"spec": {"tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}]}}),
    );
    assert_eq!(tolerations.status, 422);
    assert_eq!(
        tolerations.json()["details"]["causes"][0]["message"],
        "Forbidden: existing toleration can not be modified except its tolerationSeconds"
    );

    let longer = smp(json!({"spec": {"activeDeadlineSeconds": 900}}));
    assert!(
        longer.json()["message"]
            .as_str()
            .unwrap()
            .contains("spec.activeDeadlineSeconds: Invalid value: 900: must be less than or equal to previous value")
    );

    let empty = smp(json!({"spec": {"containers": [{"name": "myapp-container", "image": ""}]}}));
    assert!(
        empty.json()["message"]
            .as_str()
            .unwrap()
            .contains("spec.containers[0].image: Required value")
    );

    let job = patch(
        &server,
        "/apis/batch/v1/namespaces/seed/jobs/seed-db",
        "application/strategic-merge-patch+json",
        json!({"spec": {"template": {"spec": {"containers": [{"name": "seed", "image": "postgres:17"}]}}}}),
    );
    assert_eq!(job.status, 422);
    let message = job.json()["message"].as_str().unwrap().to_string();
    assert!(
        message.starts_with("Job.batch \"seed-db\" is invalid: spec.template: Invalid value: "),
        "{message}"
    );
    assert!(message.ends_with(": field is immutable"), "{message}");
}
