//! Reads: discovery, LIST (pagination, selectors), error Status objects, WATCH, pod logs.

use super::*;

#[test]
fn discovery_documents_and_unknown_paths() {
    let server = ApiServer::start();
    assert!(
        get(&server, "/version").json()["gitVersion"]
            .as_str()
            .unwrap()
            .starts_with("v1.33.")
    );
    let core = get(&server, "/api/v1").json();
    let pods = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "pods")
        .unwrap();
    assert_eq!(pods["shortNames"], json!(["po"]));
    assert_eq!(pods["categories"], json!(["all"]));
    assert_eq!(pods["namespaced"], json!(true));
    assert!(
        core["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "pods/log")
    );
    let nodes = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "nodes")
        .unwrap();
    assert_eq!(nodes["namespaced"], json!(false));
    let groups = get(&server, "/apis").json();
    assert!(
        groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "apps")
    );
    let apps = get(&server, "/apis/apps/v1").json();
    assert!(
        apps["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "deployments" && r["shortNames"] == json!(["deploy"]))
    );

    // Aggregated discovery is answered with the legacy document, which clients fall back to.
    let aggregated = http(
        &server,
        "GET",
        "/api",
        &[(
            "Accept",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
        )],
        "",
    );
    assert_eq!(aggregated.header("content-type"), Some("application/json"));
    assert_eq!(aggregated.json()["kind"], "APIVersions");

    let missing = get(&server, "/openapi/v2");
    assert_eq!(missing.status, 404);
    let status = missing.json();
    assert_eq!(status["kind"], "Status");
    assert_eq!(
        status["message"],
        "the server could not find the requested resource"
    );
    assert_eq!(status["reason"], "NotFound");
}

#[test]
fn list_paginates_with_continue_tokens_in_stable_order() {
    let server = seeded();
    let first = get(&server, &format!("{SEED_PODS}?limit=2")).json();
    assert_eq!(first["kind"], "PodList");
    assert_eq!(names(&first), ["myapp-pod", "web-0"]);
    assert_eq!(first["metadata"]["remainingItemCount"], 1);
    assert!(
        first["items"][0].get("kind").is_none(),
        "list items carry no kind"
    );
    let token = first["metadata"]["continue"]
        .as_str()
        .expect("continue token");
    let second = get(&server, &format!("{SEED_PODS}?limit=2&continue={token}")).json();
    assert_eq!(names(&second), ["web-1"]);
    assert!(second["metadata"].get("continue").is_none());
    assert_eq!(
        second["metadata"]["resourceVersion"],
        first["metadata"]["resourceVersion"]
    );

    let all = get(&server, "/api/v1/pods").json();
    assert_eq!(names(&all), ["batch-x", "myapp-pod", "web-0", "web-1"]);
    assert_eq!(
        get(&server, "/api/v1/pods?limit=1&continue=bogus").status,
        400
    );
}

#[test]
fn label_and_field_selectors_filter_lists() {
    let server = seeded();
    let sel = |q: &str| names(&get(&server, &format!("{SEED_PODS}?{q}")).json());
    assert_eq!(
        sel("labelSelector=tier%20in%20(frontend,other)"),
        ["web-0", "web-1"]
    );
    assert_eq!(
        sel("labelSelector=tier%20notin%20(frontend)"),
        ["myapp-pod"]
    );
    assert_eq!(sel("labelSelector=app!%3Dweb"), ["myapp-pod"]);
    assert_eq!(sel("labelSelector=app%3D%3Dweb,tier"), ["web-0", "web-1"]);
    assert_eq!(sel("labelSelector=!app"), ["myapp-pod"]);
    assert_eq!(
        sel("fieldSelector=spec.nodeName%3Dnode-1"),
        ["myapp-pod", "web-1"]
    );
    assert_eq!(sel("fieldSelector=status.phase!%3DRunning"), ["myapp-pod"]);
    assert_eq!(
        sel("fieldSelector=metadata.name%3Dweb-0&labelSelector=app%3Dweb"),
        ["web-0"]
    );
    let filtered = get(
        &server,
        &format!("{SEED_PODS}?labelSelector=app%3Dweb&limit=1"),
    )
    .json();
    assert!(
        filtered["metadata"].get("remainingItemCount").is_none(),
        "no count under a selector"
    );

    let events = get(&server, "/api/v1/namespaces/seed/events?fieldSelector=involvedObject.name%3Dmyapp-pod,involvedObject.kind%3DPod,type%3DNormal").json();
    assert_eq!(events["items"].as_array().unwrap().len(), 2);
    let bad = get(
        &server,
        &format!("{SEED_PODS}?fieldSelector=spec.bogus%3Dx"),
    );
    assert_eq!(bad.status, 400);
    assert!(
        bad.json()["message"]
            .as_str()
            .unwrap()
            .contains("field label not supported: spec.bogus")
    );
}

#[test]
fn errors_are_status_objects_shaped_like_kube_apiserver() {
    let server = seeded();
    let missing = get(&server, &format!("{SEED_PODS}/nope"));
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "pods \"nope\" not found",
               "reason": "NotFound", "details": {"name": "nope", "kind": "pods"}, "code": 404})
    );
    let deploy = get(&server, "/apis/apps/v1/namespaces/seed/deployments/nope").json();
    assert_eq!(deploy["message"], "deployments.apps \"nope\" not found");
    assert_eq!(deploy["details"]["group"], "apps");

    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0"}, "spec": {"containers": [{"name": "c", "image": "x:1"}]}});
    let exists = http(
        &server,
        "POST",
        SEED_PODS,
        &[("Content-Type", "application/json")],
        &pod.to_string(),
    );
    assert_eq!(exists.status, 409);
    assert_eq!(exists.json()["reason"], "AlreadyExists");
    assert_eq!(exists.json()["message"], "pods \"web-0\" already exists");
    let no_ns = http(
        &server,
        "POST",
        "/api/v1/namespaces/ghost/pods",
        &[],
        &pod.to_string(),
    );
    assert_eq!(no_ns.status, 404);
    assert_eq!(no_ns.json()["message"], "namespaces \"ghost\" not found");

    let mut stale = server.get("v1", "Pod", Some("seed"), "web-0").unwrap();
    stale["metadata"]["resourceVersion"] = json!("1");
    let conflict = http(
        &server,
        "PUT",
        &format!("{SEED_PODS}/web-0"),
        &[],
        &stale.to_string(),
    );
    assert_eq!(conflict.status, 409);
    assert_eq!(
        conflict.json()["message"],
        "Operation cannot be fulfilled on pods \"web-0\": the object has been modified; please apply your changes to the latest version and try again"
    );
    assert_eq!(
        http(&server, "POST", &format!("{SEED_PODS}/web-0"), &[], "{}").status,
        405
    );
}

#[test]
fn watch_resumes_from_a_resource_version_and_honours_selectors() {
    let server = seeded();
    let rv = get(&server, SEED_PODS).json()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let mut pod = server.get("v1", "Pod", Some("seed"), "web-0").unwrap();
    pod["metadata"]["labels"]["tier"] = json!("edge");
    server.push_watch_event("MODIFIED", pod.clone());
    let mut all = Watch::open(
        &server,
        &format!("{SEED_PODS}?watch=true&resourceVersion={rv}"),
    );
    let event = all.next().unwrap();
    assert_eq!(event["type"], "MODIFIED");
    assert_eq!(event["object"]["metadata"]["labels"]["tier"], "edge");
    let event_rv: u64 = event["object"]["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(event_rv > rv.parse().unwrap());

    // From "0": synthetic ADDED for what exists, then live events; leaving the selection is DELETED.
    let mut frontend = Watch::open(
        &server,
        &format!("{SEED_PODS}?watch=1&resourceVersion=0&labelSelector=tier%3Dfrontend"),
    );
    assert_eq!(
        frontend.next().unwrap()["object"]["metadata"]["name"],
        "web-1"
    );
    let mut web1 = server.get("v1", "Pod", Some("seed"), "web-1").unwrap();
    web1["metadata"]["labels"]["tier"] = json!("edge");
    server.insert(web1);
    let left = frontend.next().unwrap();
    assert_eq!(
        (
            left["type"].as_str(),
            left["object"]["metadata"]["name"].as_str()
        ),
        (Some("DELETED"), Some("web-1"))
    );

    // sendInitialEvents ends the initial list with an annotated bookmark.
    let mut streaming = Watch::open(
        &server,
        &format!(
            "{SEED_PODS}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan"
        ),
    );
    let kinds: Vec<String> = (0..4)
        .map(|_| {
            streaming.next().unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(kinds, ["ADDED", "ADDED", "ADDED", "BOOKMARK"]);

    let mut timed = Watch::open(
        &server,
        &format!("{SEED_PODS}?watch=true&resourceVersion={event_rv}&timeoutSeconds=1"),
    );
    let started = Instant::now();
    assert!(timed.next().is_some(), "the web-1 change");
    assert!(timed.next().is_none(), "stream ends at the timeout");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn watch_faults_and_expired_resource_versions() {
    let server = seeded();
    server.fault(Fault::drop_watch("watch=true", 2));
    let mut dropped = Watch::open(&server, &format!("{SEED_PODS}?watch=true"));
    assert!(dropped.next().is_some() && dropped.next().is_some());
    assert!(dropped.next().is_none(), "closed after two events");

    for i in 0..1001 {
        server.insert(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("cm-{i}"), "namespace": "seed"}}));
    }
    let mut expired = Watch::open(
        &server,
        "/api/v1/namespaces/seed/configmaps?watch=true&resourceVersion=101&allowWatchBookmarks=true",
    );
    let error = expired.next().unwrap();
    assert_eq!(error["type"], "ERROR");
    assert_eq!(error["object"]["code"], 410);
    assert_eq!(error["object"]["reason"], "Expired");
    assert!(
        error["object"]["message"]
            .as_str()
            .unwrap()
            .starts_with("too old resource version: 101 (")
    );
}

#[test]
fn pod_logs_follow_the_kubelet_and_registry_rules() {
    let server = seeded();
    server.set_log(
        "seed",
        "myapp-pod",
        "init-myservice",
        false,
        "waiting for myservice\nwaiting for myservice\nServer: 10.96.0.10\nnslookup failed\n",
    );
    let log = |q: &str| get(&server, &format!("{}/log?{q}", pod_path("myapp-pod")));
    let tail = log("container=init-myservice&tailLines=2");
    assert_eq!(tail.status, 200);
    assert_eq!(tail.body, "Server: 10.96.0.10\nnslookup failed\n");
    assert!(
        tail.header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(log("container=init-myservice&limitBytes=7").body, "waiting");
    let stamped = log("container=init-myservice&timestamps=true&tailLines=1").body;
    assert!(stamped.ends_with("Z nslookup failed\n"), "{stamped}");

    let previous = log("container=init-myservice&previous=true");
    assert_eq!(previous.status, 400);
    assert_eq!(
        previous.json()["message"],
        "previous terminated container \"init-myservice\" in pod \"myapp-pod\" not found"
    );
    server.set_log("seed", "myapp-pod", "init-myservice", true, "exit 1\n");
    assert_eq!(
        log("container=init-myservice&previous=true").body,
        "exit 1\n"
    );

    let unknown = log("container=nope");
    assert_eq!(
        unknown.json()["message"],
        "container nope is not valid for pod myapp-pod"
    );
    let waiting = log("container=init-mydb");
    assert_eq!(
        waiting.json()["message"],
        "container \"init-mydb\" in pod \"myapp-pod\" is waiting to start: PodInitializing"
    );
    let choose = get(&server, &format!("{}/log", pod_path("web-0")));
    assert_eq!(choose.status, 400);
    assert_eq!(
        choose.json()["message"],
        "a container name must be specified for pod web-0, choose one of: [nginx log-shipper]"
    );
    let default = log("");
    assert_eq!(
        default.json()["message"],
        "container \"myapp-container\" in pod \"myapp-pod\" is waiting to start: PodInitializing",
        "the only app container is the default"
    );
    assert_eq!(
        get(&server, &format!("{}/log", pod_path("web-1"))).body,
        "",
        "running, no log set"
    );
}
