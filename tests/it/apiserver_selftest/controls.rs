//! What tests control: faults, RBAC denials, tokens, the request log, loading files.

use super::*;

#[test]
fn faults_rbac_and_tokens() {
    let server = seeded();
    server.fault(Fault::error("/pods", 503).on("GET").times(1));
    assert_eq!(get(&server, SEED_PODS).status, 503);
    assert_eq!(get(&server, SEED_PODS).status, 200);
    server.fault(Fault::error("/services", 429));
    let throttled = get(&server, "/api/v1/namespaces/seed/services");
    assert_eq!(throttled.status, 429);
    assert_eq!(throttled.header("retry-after"), Some("1"));
    assert_eq!(throttled.json()["reason"], "TooManyRequests");
    server.fault(Fault {
        reason: Some("InternalError".into()),
        message: Some("etcdserver: leader changed".into()),
        ..Fault::error("/configmaps", 500)
    });
    assert_eq!(
        get(&server, "/api/v1/namespaces/seed/configmaps").json()["message"],
        "etcdserver: leader changed"
    );
    server.fault(Fault::delay("/nodes", Duration::from_millis(300)));
    let started = Instant::now();
    assert_eq!(get(&server, "/api/v1/nodes").status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    server.forbid("list", "events", Some("seed"));
    let denied = get(&server, "/api/v1/namespaces/seed/events");
    assert_eq!(denied.status, 403);
    assert_eq!(
        denied.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "events is forbidden: User \"stand-in\" cannot list resource \"events\" in API group \"\" in the namespace \"seed\"",
               "reason": "Forbidden", "details": {"kind": "events"}, "code": 403})
    );
    assert_eq!(get(&server, "/api/v1/namespaces/other/events").status, 200);
    server.forbid("list", "deployments", None);
    assert_eq!(
        get(&server, "/apis/apps/v1/deployments").json()["message"],
        "deployments.apps is forbidden: User \"stand-in\" cannot list resource \"deployments\" in API group \"apps\" at the cluster scope"
    );
    server.forbid("get", "pods/log", Some("seed"));
    assert!(
        get(&server, &format!("{}/log", pod_path("web-1"))).json()["message"]
            .as_str()
            .unwrap()
            .starts_with(
                "pods \"web-1\" is forbidden: User \"stand-in\" cannot get resource \"pods/log\""
            )
    );

    server.clear_requests();
    server.require_token("s3cret");
    let anonymous = get(&server, "/api/v1/nodes?limit=5");
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.json()["reason"], "Unauthorized");
    assert_eq!(
        http(
            &server,
            "GET",
            "/api/v1/nodes",
            &[("Authorization", "Bearer s3cret")],
            ""
        )
        .status,
        200
    );
    assert!(server.kubeconfig_yaml(None).contains("token: s3cret"));
    let log = server.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (
            log[0].method.as_str(),
            log[0].path.as_str(),
            log[0].raw_query.as_str()
        ),
        ("GET", "/api/v1/nodes", "limit=5")
    );
    assert_eq!(log[0].query.get("limit").map(String::as_str), Some("5"));
    assert_eq!(log[1].authorization.as_deref(), Some("Bearer s3cret"));
    assert_eq!(log[0].accept, None);
}

#[test]
fn request_log_keeps_bodies_and_content_types() {
    let server = seeded();
    patch(
        &server,
        &pod_path("web-1"),
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"a": "b"}}}),
    );
    let last = server.requests().pop().unwrap();
    assert_eq!(
        last.content_type.as_deref(),
        Some("application/merge-patch+json")
    );
    assert_eq!(last.body, r#"{"metadata":{"labels":{"a":"b"}}}"#);
}

#[test]
fn load_dir_reads_yaml_streams_and_kubeconfig_is_usable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n  namespace: ns1\ndata:\n  k: v\n---\napiVersion: v1\nkind: Node\nmetadata:\n  name: node-1\n  resourceVersion: \"5000\"\n").unwrap();
    std::fs::write(
        dir.path().join("b.yml"),
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s, namespace: ns1}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("ignored.txt"), "not a manifest").unwrap();
    let server = ApiServer::start();
    server.load_dir(dir.path());
    assert_eq!(
        server.get("v1", "ConfigMap", Some("ns1"), "one").unwrap()["data"]["k"],
        "v"
    );
    let node = server.get("v1", "Node", None, "node-1").unwrap();
    assert_eq!(node["metadata"]["resourceVersion"], "5000");
    assert!(server.get("v1", "Secret", Some("ns1"), "s").is_some());
    // Later writes get resourceVersions above every loaded one.
    let list_rv: u64 = get(&server, "/api/v1/nodes").json()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(list_rv >= 5000);

    let path = server.kubeconfig(Some("seed"));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(&format!("server: {}", server.url())));
    assert!(text.contains("namespace: seed") && text.contains("current-context: stand-in"));
    assert_ne!(
        server.kubeconfig(None),
        path,
        "each call writes its own file"
    );
}
