//! Real `kubectl get pods` against the stand-in's server-side Table (apiserver/table.rs): on
//! every golden fixture, kubectl's READY / STATUS / RESTARTS / AGE equal `kubectl initctl
//! status`'s and the hand-derived goldens of tests/fixtures/pods/expected.yaml. Three readings
//! of upstream printPod (the stand-in's, the product's, the goldens') checked against each other.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::apiserver::ApiServer;
use crate::harness::{self, NOW, kubectl_initctl, table};

/// Every golden fixture, each in a namespace named after its file (several share a pod name),
/// with the goldens' columns by namespace.
fn load_goldens(server: &ApiServer) -> BTreeMap<String, Value> {
    let pods = harness::fixtures().join("pods");
    let text = std::fs::read_to_string(pods.join("expected.yaml")).unwrap();
    let doc: Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(doc["now"], NOW, "goldens are computed at the harness clock");
    let mut by_namespace = BTreeMap::new();
    for (file, golden) in doc["pods"].as_object().unwrap() {
        let text = std::fs::read_to_string(pods.join(file)).unwrap();
        let mut pod: Value = serde_saphyr::from_str(&text).unwrap();
        let namespace = file.trim_end_matches(".yaml").to_string();
        pod["metadata"]["namespace"] = Value::from(namespace.clone());
        server.insert(pod);
        by_namespace.insert(namespace, golden.clone());
    }
    by_namespace
}

/// `kubectl ARGS` with an isolated HOME (its discovery cache) and the stand-in's kubeconfig.
fn kubectl(kubectl: &Path, kubeconfig: &Path, args: &[&str]) -> String {
    let home = tempfile::tempdir().unwrap();
    let out = harness::scrubbed(kubectl)
        .env("HOME", home.path())
        .env("KUBECONFIG", kubeconfig)
        .args(args)
        .output()
        .expect("run kubectl");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "kubectl {args:?}: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

/// Rows keyed by (namespace, name), cells by header name.
fn rows_by_pod(text: &str) -> BTreeMap<(String, String), BTreeMap<String, String>> {
    let mut rows = table(text).into_iter();
    let header = rows.next().expect("a header line");
    rows.map(|cells| {
        assert_eq!(cells.len(), header.len(), "{cells:?} under {header:?}");
        let row: BTreeMap<String, String> = header.iter().cloned().zip(cells).collect();
        ((row["NAMESPACE"].clone(), row["NAME"].clone()), row)
    })
    .collect()
}

#[test]
fn kubectl_get_pods_prints_the_server_side_table_initctl_agrees_with() {
    let Some(kubectl_bin) = harness::kubectl("the server-side Table test") else {
        return;
    };
    let server = ApiServer::start();
    server.pin_clock(NOW);
    let goldens = load_goldens(&server);
    let kubeconfig = server.kubeconfig(None);

    let kubectl_text = kubectl(&kubectl_bin, &kubeconfig, &["get", "pods", "-A"]);
    let header: Vec<&str> = kubectl_text.lines().next().unwrap().split("   ").collect();
    let header: Vec<&str> = header
        .iter()
        .map(|h| h.trim())
        .filter(|h| !h.is_empty())
        .collect();
    assert_eq!(
        header,
        ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        "kubectl prints the Table's priority-0 columns:\n{kubectl_text}"
    );
    let asked_table = server.requests().iter().any(|r| {
        r.path == "/api/v1/pods"
            && r.accept
                .as_deref()
                .is_some_and(|a| a.starts_with("application/json;as=Table;v=v1;g=meta.k8s.io"))
    });
    assert!(asked_table, "kubectl asked for the Table");
    let from_kubectl = rows_by_pod(&kubectl_text);
    assert_eq!(from_kubectl.len(), goldens.len(), "{kubectl_text}");

    let Some(initctl) = kubectl_initctl(&["status", "-A"], &kubeconfig) else {
        return;
    };
    let from_initctl = rows_by_pod(initctl.ok());
    assert_eq!(from_initctl.len(), goldens.len(), "{}", initctl.stdout);

    for ((namespace, name), row) in &from_kubectl {
        let golden = &goldens[namespace];
        let ours = &from_initctl[&(namespace.clone(), name.clone())];
        for column in ["READY", "STATUS", "RESTARTS", "AGE"] {
            let key = column.to_lowercase();
            assert_eq!(
                row[column], ours[column],
                "{namespace}/{name}: {column} of kubectl vs kubectl initctl status"
            );
            assert_eq!(
                row[column], golden[&key],
                "{namespace}/{name}: {column} of kubectl vs the golden"
            );
        }
    }
}

#[test]
fn wide_columns_and_single_pod_tables() {
    let Some(kubectl_bin) = harness::kubectl("the server-side Table test") else {
        return;
    };
    let server = ApiServer::start();
    server.pin_clock(NOW);
    load_goldens(&server);
    let kubeconfig = server.kubeconfig(Some("running"));

    // -o wide shows the priority-1 columns: the first pod IP, the node, the nominated node and
    // the readiness gates, "<none>" where empty.
    let wide = kubectl(&kubectl_bin, &kubeconfig, &["get", "pods", "-o", "wide"]);
    let rows = table(&wide);
    assert_eq!(
        rows[0],
        [
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED NODE",
            "READINESS GATES"
        ],
        "{wide}"
    );
    let pod = server.get("v1", "Pod", Some("running"), "orders-api-7d9c8b6f5-tq2lb");
    let pod = pod.expect("the running fixture");
    assert_eq!(rows[1][5], pod["status"]["podIPs"][0]["ip"], "{wide}");
    assert_eq!(rows[1][6], pod["spec"]["nodeName"], "{wide}");
    assert_eq!(rows[1][7..], ["<none>", "<none>"], "{wide}");

    // One pod by name: a one-row Table, and the unschedulable pod has no IP or node.
    let one = kubectl(
        &kubectl_bin,
        &kubeconfig,
        &[
            "get",
            "pod",
            "-n",
            "unschedulable",
            "ml-trainer-5d8c7b6f9-k2h7x",
            "-o",
            "wide",
        ],
    );
    let rows = table(&one);
    assert_eq!(rows.len(), 2, "{one}");
    assert_eq!(
        rows[1][..3],
        ["ml-trainer-5d8c7b6f9-k2h7x", "0/1", "Pending"]
    );
    assert_eq!(rows[1][5..7], ["<none>", "<none>"], "{one}");

    // Asked for the objects (`-o json`), the server answers the pods, not a Table.
    let json: Value = serde_json::from_str(&kubectl(
        &kubectl_bin,
        &kubeconfig,
        &["get", "pods", "-o", "json"],
    ))
    .unwrap();
    assert_eq!(json["items"][0]["kind"], "Pod");
    assert!(json["items"][0]["spec"]["containers"].is_array());
}
