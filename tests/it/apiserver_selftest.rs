//! The stand-in API server's own behaviour, over plain HTTP/1.1 on a `TcpStream`, so what is
//! checked is the wire format a client sees, not what a client library makes of it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::apiserver::{ApiServer, Fault};

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/apiserver/testdata")
        .join(name)
}

fn seeded() -> ApiServer {
    let server = ApiServer::start();
    server.load_file(testdata("seed.json"));
    server
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn connect(server: &ApiServer) -> TcpStream {
    let stream = TcpStream::connect(server.url().trim_start_matches("http://")).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream
}

fn send(stream: &mut TcpStream, method: &str, path: &str, headers: &[(&str, &str)], body: &str) {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).expect("send request");
}

fn read_head(reader: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    reader.read_line(&mut line).expect("status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("header");
        let l = line.trim_end();
        if l.is_empty() {
            return (status, headers);
        }
        let (k, v) = l.split_once(':').expect("header line");
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
}

/// Reads one chunk of a chunked body; `None` at the last chunk or end of stream.
fn read_chunk(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut size = String::new();
    if reader.read_line(&mut size).ok()? == 0 {
        return None;
    }
    let n = usize::from_str_radix(size.trim(), 16).ok()?;
    if n == 0 {
        return None;
    }
    let mut data = vec![0; n + 2];
    reader.read_exact(&mut data).ok()?;
    data.truncate(n);
    Some(data)
}

fn http(
    server: &ApiServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let mut stream = connect(server);
    send(&mut stream, method, path, headers, body);
    let mut reader = BufReader::new(stream);
    let (status, headers) = read_head(&mut reader);
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let mut raw = Vec::new();
    if chunked {
        while let Some(chunk) = read_chunk(&mut reader) {
            raw.extend(chunk);
        }
    } else {
        reader.read_to_end(&mut raw).expect("body");
    }
    Resp {
        status,
        headers,
        body: String::from_utf8(raw).expect("utf-8 body"),
    }
}

fn get(server: &ApiServer, path: &str) -> Resp {
    http(server, "GET", path, &[], "")
}

fn patch(server: &ApiServer, path: &str, content_type: &str, body: Value) -> Resp {
    http(
        server,
        "PATCH",
        path,
        &[("Content-Type", content_type)],
        &body.to_string(),
    )
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["metadata"]["name"].as_str().expect("name").to_string())
        .collect()
}

/// A watch stream read event by event.
struct Watch {
    reader: BufReader<TcpStream>,
    pending: String,
}

impl Watch {
    fn open(server: &ApiServer, path: &str) -> Watch {
        let mut stream = connect(server);
        send(&mut stream, "GET", path, &[], "");
        let mut reader = BufReader::new(stream);
        let (status, _) = read_head(&mut reader);
        assert_eq!(status, 200, "watch {path}");
        Watch {
            reader,
            pending: String::new(),
        }
    }

    fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(i) = self.pending.find('\n') {
                let line: String = self.pending.drain(..=i).collect();
                return Some(serde_json::from_str(&line).expect("watch event JSON"));
            }
            let chunk = read_chunk(&mut self.reader)?;
            self.pending
                .push_str(std::str::from_utf8(&chunk).expect("utf-8"));
        }
    }
}

const SEED_PODS: &str = "/api/v1/namespaces/seed/pods";

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

fn pod_path(name: &str) -> String {
    format!("{SEED_PODS}/{name}")
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
    let old_rv: u64 = before["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let new_rv: u64 = pod["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(new_rv > old_rv);

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
