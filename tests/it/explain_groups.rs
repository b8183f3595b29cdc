//! `explain` on many stuck pods (SPEC, explain, "At scale"): pods of one owner stopped by the
//! same finding are one group, shown once with its count; logs are read for one representative
//! per group, at most 8 at once; `--no-group` explains every pod; `-o json` keeps one item per
//! pod and adds `groups`; offline input groups the same way. Asserted on the stand-in server's
//! request log.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{Value, json};

use crate::apiserver::{ApiServer, Fault};
use crate::harness::{self, initctl};

/// The stuck pods: copies of the explain scenarios' pods (tests/fixtures/explain), renamed and
/// re-owned as their controllers would name them.
struct Cluster {
    objects: Vec<Value>,
    /// (namespace, pod, container, previous) → log text.
    logs: Vec<(String, String, String, bool, String)>,
}

fn template(scenario: &str) -> (Value, Vec<Value>) {
    let path = harness::fixtures().join(format!("explain/{scenario}.yaml"));
    let doc: Value = serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let items = doc["items"].as_array().unwrap();
    let pod = items.iter().find(|o| o["kind"] == "Pod").unwrap().clone();
    let nodes = items
        .iter()
        .filter(|o| o["kind"] == "Node")
        .cloned()
        .collect();
    (pod, nodes)
}

/// A replica's random-looking, deterministic 5-character suffix (the ReplicaSet's alphabet).
fn suffix(i: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut n = i * 7919 + 104_729;
    (0..5)
        .map(|_| {
            let c = ALPHABET[n % ALPHABET.len()] as char;
            n /= ALPHABET.len();
            c
        })
        .collect()
}

/// `template` as pod `name` in `namespace`, controlled by `owner` (kind, name), with its
/// restart counts varied by `i` (pods of one cause differ in such details).
fn copy(
    template: &Value,
    namespace: &str,
    name: &str,
    owner: Option<(&str, &str)>,
    i: usize,
) -> Value {
    // The template's own name, uid and namespace also appear in its messages (a CrashLoopBackOff
    // names `pod=NAME_NS(UID)`): the copy's are its own.
    let text = serde_json::to_string(template).unwrap();
    let uid = format!("5e1c0000-0000-4000-8000-{i:012}");
    let text = text
        .replace(template["metadata"]["name"].as_str().unwrap(), name)
        .replace(template["metadata"]["uid"].as_str().unwrap(), &uid)
        .replace("_seed(", &format!("_{namespace}("));
    let mut pod: Value = serde_json::from_str(&text).unwrap();
    let meta = &mut pod["metadata"];
    meta["name"] = json!(name);
    meta["namespace"] = json!(namespace);
    let meta = meta.as_object_mut().unwrap();
    meta.remove("resourceVersion");
    meta.remove("generateName");
    let labels = meta.entry("labels").or_insert(json!({}));
    labels.as_object_mut().unwrap().remove("pod-template-hash");
    match owner {
        None => {
            meta.remove("ownerReferences");
        }
        Some((kind, owner)) => {
            if kind == "ReplicaSet" {
                let hash = owner.rsplit_once('-').unwrap().1;
                labels["pod-template-hash"] = json!(hash);
                meta.insert("generateName".into(), json!(format!("{owner}-")));
            } else {
                labels["app.kubernetes.io/name"] = json!(owner);
                labels["statefulset.kubernetes.io/pod-name"] = json!(name);
            }
            let api = "apps/v1";
            meta.insert(
                "ownerReferences".into(),
                json!([{"apiVersion": api, "kind": kind, "name": owner, "controller": true,
                    "blockOwnerDeletion": true, "uid": format!("0badc0de-0000-4000-8000-{:012}", owner.len())}]),
            );
        }
    }
    if let Some(statuses) = pod["status"]["initContainerStatuses"].as_array_mut() {
        for s in statuses
            .iter_mut()
            .filter(|s| s["restartCount"].as_i64() > Some(0))
        {
            s["restartCount"] = json!(4 + i % 7);
        }
    }
    pod
}

fn stuck_cluster() -> Cluster {
    let (waiting, _) = template("waiting-service-missing");
    let (crashing, _) = template("init-crashloop");
    let (pulling, _) = template("image-not-found");
    let (pending, nodes) = template("insufficient-memory");
    let healthy: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(harness::fixtures().join("pods/running.yaml")).unwrap(),
    )
    .unwrap();
    let mut objects = nodes;
    // A Service that exists, so that a dump of pods and Services (offline) can tell that the
    // one the orders pods wait for does not.
    objects.push(json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "orders-api", "namespace": "shop", "uid": "0badc0de-0000-4000-8000-00000000005e"},
        "spec": {"type": "ClusterIP", "clusterIP": "10.96.14.20", "clusterIPs": ["10.96.14.20"],
            "selector": {"app.kubernetes.io/name": "orders-api"},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]}}));
    let mut logs = Vec::new();
    let mut n = 0;
    let mut add = |objects: &mut Vec<Value>, t: &Value, ns: &str, name: String, owner| {
        n += 1;
        objects.push(copy(t, ns, &name, owner, n));
        name
    };
    for i in 0..40 {
        let rs = "orders-6d4cf56db6";
        let name = add(
            &mut objects,
            &waiting,
            "shop",
            format!("{rs}-{}", suffix(i)),
            Some(("ReplicaSet", rs)),
        );
        logs.push((
            "shop".into(),
            name,
            "init-myservice".into(),
            false,
            "waiting for myservice\n".repeat(12),
        ));
        // The replicas started over a few minutes: each has been stuck for a different time.
        let pod = objects.last_mut().unwrap();
        let start = format!("2026-11-27T11:4{}:00Z", 5 + i % 5);
        pod["status"]["startTime"] = json!(start);
        pod["status"]["initContainerStatuses"][0]["state"]["running"]["startedAt"] = json!(start);
    }
    for i in 0..40 {
        let rs = "billing-5b7f9c8d4";
        let name = format!("{rs}-{}", suffix(100 + i));
        // One Deployment, two causes: most replicas crash, some cannot pull their image.
        if i < 30 {
            let name = add(
                &mut objects,
                &crashing,
                "shop",
                name,
                Some(("ReplicaSet", rs)),
            );
            logs.push((
                "shop".into(),
                name,
                "init-migrate".into(),
                true,
                "ERROR: relation \"users\" does not exist\n".into(),
            ));
        } else {
            add(
                &mut objects,
                &pulling,
                "shop",
                name,
                Some(("ReplicaSet", rs)),
            );
        }
    }
    for i in 0..40 {
        let rs = "search-7c9d5f6b8";
        add(
            &mut objects,
            &pending,
            "shop",
            format!("{rs}-{}", suffix(200 + i)),
            Some(("ReplicaSet", rs)),
        );
    }
    objects.push(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "shop", "uid": "0badc0de-0000-4000-8000-000000000002"},
        "spec": {"replicas": 3, "serviceName": "db",
            "selector": {"matchLabels": {"app.kubernetes.io/name": "db"}},
            "template": {"metadata": {"labels": {"app.kubernetes.io/name": "db"}},
                "spec": crashing["spec"].clone()}},
        "status": {"replicas": 3, "readyReplicas": 0, "currentReplicas": 3}}));
    for i in 0..3 {
        let name = add(
            &mut objects,
            &crashing,
            "shop",
            format!("db-{i}"),
            Some(("StatefulSet", "db")),
        );
        logs.push((
            "shop".into(),
            name,
            "init-migrate".into(),
            true,
            "FATAL: password authentication failed\n".into(),
        ));
    }
    for i in 0..10 {
        let name = add(
            &mut objects,
            &crashing,
            "tools",
            format!("tool-{i:02}"),
            None,
        );
        logs.push((
            "tools".into(),
            name,
            "init-migrate".into(),
            true,
            "exit 1\n".into(),
        ));
    }
    for i in 0..5 {
        let rs = "web-59d8c7f4b6";
        add(
            &mut objects,
            &healthy,
            "shop",
            format!("{rs}-{}", suffix(300 + i)),
            Some(("ReplicaSet", rs)),
        );
    }
    Cluster { objects, logs }
}

/// The groups the cluster above has: (owner, namespace, code) → pods.
fn expected_groups() -> BTreeMap<(String, String, String), usize> {
    let mut want = BTreeMap::new();
    for (owner, code, n) in [
        ("Deployment/orders", "ServiceMissing", 40),
        ("Deployment/search", "Unschedulable", 40),
        ("Deployment/billing", "CrashLoopBackOff", 30),
        ("Deployment/billing", "ImagePullFailed", 10),
        ("StatefulSet/db", "CrashLoopBackOff", 3),
    ] {
        want.insert((owner.to_string(), "shop".to_string(), code.to_string()), n);
    }
    for i in 0..10 {
        want.insert(
            (
                format!("Pod/tool-{i:02}"),
                "tools".into(),
                "CrashLoopBackOff".into(),
            ),
            1,
        );
    }
    want
}

fn serve(cluster: &Cluster) -> ApiServer {
    let server = ApiServer::start();
    for obj in &cluster.objects {
        server.insert(obj.clone());
    }
    for (ns, pod, container, previous, text) in &cluster.logs {
        server.set_log(ns, pod, container, *previous, text);
    }
    // Slow logs, so that reads made at once overlap and the peak shows the real concurrency.
    server.fault(Fault::delay("/log", Duration::from_millis(300)));
    server
}

fn groups_of(doc: &Value) -> BTreeMap<(String, String, String), usize> {
    doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let owner = format!(
                "{}/{}",
                g["owner"]["kind"].as_str().unwrap(),
                g["owner"]["name"].as_str().unwrap()
            );
            let key = (
                owner,
                g["namespace"].as_str().unwrap().to_string(),
                g["code"].as_str().unwrap().to_string(),
            );
            (key, g["pods"].as_array().unwrap().len())
        })
        .collect()
}

/// The pods whose logs were read, each once (asserted).
fn log_reads(server: &ApiServer) -> BTreeSet<String> {
    let reads: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/log"))
        .map(|r| {
            r.path
                .trim_end_matches("/log")
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    let unique: BTreeSet<String> = reads.iter().cloned().collect();
    assert_eq!(
        reads.len(),
        unique.len(),
        "one log read per pod at most: {reads:?}"
    );
    unique
}

#[test]
fn a_cluster_of_stuck_pods_is_explained_one_group_at_a_time_within_the_budget() {
    let cluster = stuck_cluster();
    let server = serve(&cluster);
    let kubeconfig = server.kubeconfig(Some("shop"));
    server.clear_requests();
    server.reset_peak_in_flight();
    let run = initctl(&["explain", "-A", "-o", "json"], Some(&kubeconfig));
    let doc: Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(
        doc["items"].as_array().unwrap().len(),
        133,
        "one item per stuck pod"
    );
    assert_eq!(groups_of(&doc), expected_groups());
    let groups = doc["groups"].as_array().unwrap();
    let counts: Vec<usize> = groups
        .iter()
        .map(|g| g["pods"].as_array().unwrap().len())
        .collect();
    assert!(
        counts.windows(2).all(|w| w[0] >= w[1]),
        "most pods first: {counts:?}"
    );

    // Logs: exactly the representatives (each group's first pod) of the groups that quote one.
    let quoting: BTreeSet<String> = groups
        .iter()
        .filter(|g| ["ServiceMissing", "CrashLoopBackOff"].contains(&g["code"].as_str().unwrap()))
        .map(|g| g["pods"][0].as_str().unwrap().to_string())
        .collect();
    assert_eq!(quoting.len(), 13);
    assert_eq!(
        log_reads(&server),
        quoting,
        "one log per group that quotes one"
    );
    let peak = server.peak_in_flight();
    assert!(
        (2..=8).contains(&peak),
        "logs read in parallel, at most 8 at once: peak {peak}"
    );

    // The rest of the budget: one pods LIST, one events LIST per namespace, nodes once.
    let requests = server.requests();
    let count = |pred: &dyn Fn(&str) -> bool| requests.iter().filter(|r| pred(&r.path)).count();
    assert_eq!(count(&|p| p == "/api/v1/pods"), 1, "one pods LIST");
    assert_eq!(
        count(&|p| p.ends_with("/events")),
        2,
        "one events LIST per namespace"
    );
    assert_eq!(count(&|p| p == "/api/v1/nodes"), 1);
    assert!(count(&|p| p.ends_with("/services")) <= 2);
    assert_eq!(requests.len(), count(&|p| !p.ends_with("/log")) + 13);

    // The representative carries the log; the others say who stands for them.
    let item = |name: &str| {
        doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .unwrap()
            .clone()
    };
    let orders: Vec<&str> = groups
        .iter()
        .find(|g| g["owner"]["name"] == "orders")
        .map(|g| {
            g["pods"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect()
        })
        .unwrap();
    assert!(
        serde_json::to_string(&item(orders[0]))
            .unwrap()
            .contains("waiting for myservice")
    );
    let other = serde_json::to_string(&item(orders[1])["notes"]).unwrap();
    assert!(
        other.contains(&format!("pod/{} stands for this pod's group", orders[0])),
        "{other}"
    );
}

#[test]
fn text_opens_with_the_scope_and_shows_each_group_once() {
    let cluster = stuck_cluster();
    let server = serve(&cluster);
    let kubeconfig = server.kubeconfig(Some("shop"));
    let out = initctl(&["explain", "-A"], Some(&kubeconfig))
        .ok()
        .to_string();
    let head: Vec<&str> = out.lines().take(3).collect();
    assert_eq!(
        head[0], "138 pods in scope, 133 to explain (133 blocked), in 15 groups, most pods first:",
        "{out}"
    );
    assert!(
        head[1].starts_with("  by stage: Stuck in init 93, Unschedulable 40"),
        "{out}"
    );
    assert!(head[2].starts_with("  by cause: CrashLoopBackOff 43, ServiceMissing 40, Unschedulable 40, ImagePullFailed 10"), "{out}");
    for header in [
        "Deployment/orders (namespace shop): 40 pods, Init:0/2",
        "Deployment/search (namespace shop): 40 pods, Pending",
        "Deployment/billing (namespace shop): 30 pods, Init:CrashLoopBackOff",
        "Deployment/billing (namespace shop): 10 pods, Init:ErrImagePull",
        "StatefulSet/db (namespace shop): 3 pods",
    ] {
        assert_eq!(out.matches(header).count(), 1, "{header} once in\n{out}");
    }
    assert!(out.contains("  pods: db-0, db-1, db-2\n"), "{out}");
    assert!(out.contains("\n  Stuck in init for 11m to 15m\n"), "{out}");
    assert_eq!(out.matches("+37 more").count(), 2, "{out}");
    assert_eq!(
        out.matches("BLOCKER ServiceMissing").count(),
        1,
        "the finding once: {out}"
    );
    for i in 0..10 {
        assert_eq!(
            out.matches(&format!("pod/tool-{i:02} (namespace tools"))
                .count(),
            1
        );
    }
    // Groups, most pods first.
    let at = |s: &str| out.find(s).unwrap_or_else(|| panic!("{s} in {out}"));
    assert!(at("Deployment/orders") < at("Deployment/billing (namespace shop): 30"));
    assert!(at("Deployment/billing (namespace shop): 10") < at("StatefulSet/db"));
    assert!(at("StatefulSet/db") < at("pod/tool-00"));
    assert!(
        out.lines().count() < 400,
        "readable: {} lines",
        out.lines().count()
    );
}

#[test]
fn no_group_explains_every_pod_and_reads_every_log_still_eight_at_a_time() {
    let cluster = stuck_cluster();
    let server = serve(&cluster);
    let kubeconfig = server.kubeconfig(Some("shop"));
    server.clear_requests();
    server.reset_peak_in_flight();
    let out = initctl(&["explain", "-A", "--no-group"], Some(&kubeconfig))
        .ok()
        .to_string();
    assert_eq!(
        out.matches("\npod/").count() + usize::from(out.starts_with("pod/")),
        133
    );
    assert!(!out.contains("in scope"), "every pod as before, no summary");
    assert_eq!(
        log_reads(&server).len(),
        40 + 30 + 3 + 10,
        "every quoting pod's log"
    );
    let peak = server.peak_in_flight();
    assert!((2..=8).contains(&peak), "peak {peak}");
}

#[test]
fn tail_zero_reads_no_log() {
    let cluster = stuck_cluster();
    let server = serve(&cluster);
    let kubeconfig = server.kubeconfig(Some("shop"));
    server.clear_requests();
    let doc: Value = serde_json::from_str(
        initctl(
            &["explain", "-A", "-o", "json", "--tail", "0"],
            Some(&kubeconfig),
        )
        .ok(),
    )
    .unwrap();
    assert_eq!(groups_of(&doc), expected_groups());
    assert!(log_reads(&server).is_empty());
    let grouped = initctl(
        &["explain", "-A", "--tail", "0", "--no-group"],
        Some(&kubeconfig),
    );
    grouped.ok();
    assert!(
        log_reads(&server).is_empty(),
        "--no-group --tail 0 reads none either"
    );
}

#[test]
fn offline_input_is_grouped_the_same_way() {
    let cluster = stuck_cluster();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dump.json");
    let list = json!({"apiVersion": "v1", "kind": "List", "items": cluster.objects});
    std::fs::write(&file, serde_json::to_string(&list).unwrap()).unwrap();
    let f = file.to_str().unwrap();
    let doc: Value =
        serde_json::from_str(initctl(&["explain", "-A", "-o", "json", "-f", f], None).ok())
            .unwrap();
    assert_eq!(groups_of(&doc), expected_groups());
    let out = initctl(&["explain", "-A", "-f", f], None).ok().to_string();
    assert!(
        out.starts_with("138 pods in scope, 133 to explain"),
        "{out}"
    );
    assert_eq!(
        out.matches("Deployment/orders (namespace shop): 40 pods")
            .count(),
        1
    );
}

#[test]
fn one_pod_reads_as_before_and_a_workload_is_summarised() {
    let cluster = stuck_cluster();
    let server = serve(&cluster);
    let kubeconfig = server.kubeconfig(Some("shop"));
    let one = initctl(&["explain", "db-1"], Some(&kubeconfig))
        .ok()
        .to_string();
    assert!(
        one.starts_with("pod/db-1 (namespace shop, Init:CrashLoopBackOff)\n  Stuck in init for "),
        "{one}"
    );
    assert!(
        one.contains("FATAL: password authentication failed"),
        "its own log: {one}"
    );
    assert!(!one.contains("in scope"));
    let sts = initctl(&["explain", "sts/db"], Some(&kubeconfig))
        .ok()
        .to_string();
    assert!(
        sts.starts_with("3 pods in scope, 3 to explain (3 blocked), in 1 group,"),
        "{sts}"
    );
    assert!(
        sts.contains("StatefulSet/db (namespace shop): 3 pods"),
        "{sts}"
    );
}
