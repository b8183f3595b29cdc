//! Pod LIST pages as `status -A` and `explain` read them (decoded from the response bytes, the
//! next page fetched while one is printed): every pod once and in the server's order, the same
//! requests as a plain paginated LIST, and an unreadable page as one clear error.

use serde_json::{Value, json};

use crate::apiserver::{ApiServer, Fault, Request};
use crate::harness::{initctl, table};

/// A realistic pod (managedFields included: they are read past, never used).
fn pod(ns: &str, name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{ns}-{name}"),
            "creationTimestamp": "2026-11-27T11:00:00Z",
            "managedFields": [{"manager": "kubelet", "operation": "Update", "apiVersion": "v1",
                "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:phase": {}}}}]},
        "spec": {"initContainers": [{"name": "init", "image": "busybox"}],
                 "containers": [{"name": "app", "image": "nginx"}]},
        "status": {"phase": "Running",
            "initContainerStatuses": [{"name": "init", "image": "busybox", "imageID": "", "ready": true,
                "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
            "containerStatuses": [{"name": "app", "image": "nginx", "imageID": "", "ready": true,
                "restartCount": 2, "state": {"running": {"startedAt": "2026-11-27T11:00:05Z"}}}]}})
}

/// A pod that needs explaining: its init container's image cannot be pulled.
fn pulling(ns: &str, name: &str) -> Value {
    let mut stuck = pod(ns, name);
    stuck["status"] = json!({"phase": "Pending",
        "initContainerStatuses": [{"name": "init", "image": "busybox", "imageID": "", "ready": false,
            "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff",
            "message": "Back-off pulling image \"busybox\""}}}]});
    stuck
}

/// 1234 pods in three namespaces (three pages of 500), and their (namespace, name) in the
/// order the server lists them.
fn big_server() -> (ApiServer, Vec<(String, String)>) {
    let server = ApiServer::start();
    let mut expected = Vec::new();
    for i in 0..1234 {
        let ns = ["alpha", "beta", "gamma"][i % 3];
        let name = format!("pod-{i:05}");
        server.insert(pod(ns, &name));
        expected.push((ns.to_string(), name));
    }
    expected.sort();
    (server, expected)
}

fn pod_requests(server: &ApiServer) -> Vec<Request> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("pods"))
        .collect()
}

/// The LIST requests of one paginated list of all namespaces: the first without a continue
/// token, each next one continuing, no request per pod, nothing asked twice.
fn assert_one_paginated_list(requests: &[Request], pages: usize) {
    assert_eq!(requests.len(), pages, "{requests:#?}");
    assert!(
        requests
            .iter()
            .all(|r| r.method == "GET" && r.path == "/api/v1/pods"),
        "{requests:#?}"
    );
    assert!(requests.iter().all(|r| r.query["limit"] == "500"));
    assert!(!requests[0].query.contains_key("continue"));
    let tokens: std::collections::BTreeSet<_> = requests[1..]
        .iter()
        .map(|r| r.query["continue"].clone())
        .collect();
    assert_eq!(tokens.len(), pages - 1, "each page asked for once");
}

#[test]
fn a_multi_page_list_prints_every_pod_once_in_order() {
    let (server, expected) = big_server();
    let kubeconfig = server.kubeconfig(None);

    let run = initctl(&["status", "-A", "--no-headers"], Some(&kubeconfig));
    let rows = table(run.ok());
    let listed: Vec<(String, String)> = rows.iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    assert_eq!(listed, expected, "every pod once, in the server's order");
    assert!(rows.iter().all(|r| r[2] == "1/1" && r[3] == "Running"));
    assert_one_paginated_list(&pod_requests(&server), 3);
    assert_eq!(
        server.gzipped_answers().len(),
        3,
        "pages this big come gzipped, as kube-apiserver sends them"
    );

    let wide = initctl(
        &["status", "-A", "-o", "wide", "--no-headers"],
        Some(&kubeconfig),
    );
    assert_eq!(table(wide.ok()).len(), expected.len());

    let json = initctl(&["status", "-A", "-o", "json"], Some(&kubeconfig));
    let doc: Value = serde_json::from_str(json.ok()).unwrap();
    let items: Vec<(String, String)> = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["namespace"].as_str().unwrap().to_string(),
                i["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(items, expected, "-o json: every pod once, in order");
    assert_eq!(pod_requests(&server).len(), 9, "three LISTs of three pages");
}

#[test]
fn a_kubeconfig_that_disables_compression_gets_the_pages_plain() {
    let (server, expected) = big_server();
    let text = server.kubeconfig_yaml(None).replacen(
        "    server: ",
        "    disable-compression: true\n    server: ",
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("no-gzip.yaml");
    std::fs::write(&kubeconfig, text).unwrap();
    let run = initctl(&["status", "-A", "--no-headers"], Some(&kubeconfig));
    assert_eq!(table(run.ok()).len(), expected.len());
    assert!(server.gzipped_answers().is_empty());
    let asked: Vec<_> = pod_requests(&server)
        .iter()
        .flat_map(|r| {
            r.header_values("accept-encoding")
                .into_iter()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(asked.iter().all(|v| !v.contains("gzip")), "{asked:?}");
}

#[test]
fn answers_kube_reads_itself_come_gzipped_and_read_too() {
    // An events LIST over 128 KiB is gzipped by the server and inflated by the client's own
    // decompression layer (the pod pages are inflated by initctl; everything else by it).
    let server = ApiServer::start();
    let stuck = pulling("shop", "stuck");
    server.insert(stuck);
    for i in 0..800 {
        server.insert(json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": format!("stuck.{i:04}"), "namespace": "shop",
                "creationTimestamp": "2026-11-27T11:00:00Z"},
            "involvedObject": {"kind": "Pod", "name": "stuck", "namespace": "shop"},
            "reason": "BackOff", "type": "Normal", "count": 1,
            "message": format!("Back-off pulling image \"busybox\" (event {i}, padded to be long enough that eight hundred of them make a list over 128 KiB)"),
            "firstTimestamp": "2026-11-27T11:00:00Z", "lastTimestamp": "2026-11-27T11:00:00Z"}));
    }
    let run = initctl(
        &["explain", "stuck", "-n", "shop", "--tail", "0"],
        Some(&server.kubeconfig(None)),
    );
    assert!(run.ok().contains("stuck"), "{}", run.ok());
    assert!(
        server
            .gzipped_answers()
            .iter()
            .any(|a| a.starts_with("/api/v1/namespaces/shop/events")),
        "{:?}",
        server.gzipped_answers()
    );
}

#[test]
fn a_page_whose_gzip_is_broken_is_one_clear_error() {
    let (server, _) = big_server();
    server.fault(Fault::garble_gzip("/pods"));
    let run = initctl(&["status", "-A"], Some(&server.kubeconfig(None)));
    let line = run.one_error_line(1);
    assert!(line.contains("list pods"), "{line}");
    assert!(line.contains("could not be read"), "{line}");
    assert!(line.contains("gzip"), "{line}");
}

#[test]
fn explain_reads_the_same_pages_with_the_same_requests() {
    let (server, expected) = big_server();
    // One pod that needs explaining, on the last page.
    let stuck = pulling("gamma", "zz-stuck");
    server.insert(stuck);
    let run = initctl(
        &["explain", "-A", "--tail", "0"],
        Some(&server.kubeconfig(None)),
    );
    let text = run.ok();
    assert!(text.contains("zz-stuck"), "{text}");
    let lists: Vec<Request> = pod_requests(&server)
        .into_iter()
        .filter(|r| r.path == "/api/v1/pods")
        .collect();
    assert_one_paginated_list(&lists, expected.len().div_ceil(500));
}

#[test]
fn an_item_that_is_not_a_pod_is_one_clear_error_after_the_pages_before_it() {
    let server = ApiServer::start();
    for i in 0..700 {
        server.insert(pod("shop", &format!("pod-{i:05}")));
    }
    // On the second page: a container status that is not a list.
    let mut bad = pod("shop", "pod-00600");
    bad["status"]["initContainerStatuses"] = json!("not a list");
    server.insert(bad);
    let run = initctl(
        &["status", "--no-headers"],
        Some(&server.kubeconfig(Some("shop"))),
    );
    let line = run.one_error_line(1);
    assert!(line.contains("list pods"), "{line}");
    assert!(line.contains("could not be read"), "{line}");
    assert!(line.contains("invalid type"), "{line}");
    let rows = table(&run.stdout);
    assert_eq!(
        rows.len(),
        500,
        "the first page was printed before the error"
    );
    assert_eq!(rows[0][0], "pod-00000");
}
