//! `kubectl initctl status`: exact kubectl columns on every printPod branch (offline and
//! through the stand-in server via kubectl's plugin discovery), the JSON contract, pagination,
//! workload targets, watch, and one-line errors.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::apiserver::{ApiServer, Fault};
use crate::harness::{self, NOW, initctl, initctl_stdin, kubectl_initctl, table};

#[derive(Debug, serde::Deserialize)]
struct Golden {
    name: String,
    ready: String,
    status: String,
    restarts: String,
    age: String,
    init: String,
    current: String,
}

fn goldens() -> BTreeMap<String, Golden> {
    let path = harness::fixtures().join("pods/expected.yaml");
    let doc: Value = serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(doc["now"], NOW, "goldens are computed at the harness clock");
    serde_json::from_value(doc["pods"].clone()).unwrap()
}

fn golden_row(g: &Golden) -> Vec<String> {
    [
        &g.name,
        &g.ready,
        &g.status,
        &g.init,
        &g.current,
        &g.restarts,
        &g.age,
    ]
    .map(|s| s.to_string())
    .to_vec()
}

fn pod_files() -> Vec<std::path::PathBuf> {
    goldens()
        .keys()
        .map(|f| harness::fixtures().join("pods").join(f))
        .collect()
}

#[test]
fn every_printpod_branch_matches_kubectl_offline() {
    let goldens = goldens();
    assert!(
        goldens.len() >= 30,
        "the golden set covers every printPod branch"
    );
    for (file, golden) in &goldens {
        let path = harness::fixtures().join("pods").join(file);
        let run = initctl(
            &["status", "--no-headers", "-f", path.to_str().unwrap()],
            None,
        );
        let rows = table(run.ok());
        assert_eq!(rows, vec![golden_row(golden)], "{file}");
    }
}

fn seeded_server() -> ApiServer {
    let server = ApiServer::start();
    for file in pod_files() {
        server.load_file(file);
    }
    server
}

#[test]
fn every_printpod_branch_matches_through_kubectl_plugin_discovery() {
    let server = seeded_server();
    let kubeconfig = server.kubeconfig(Some("seed"));
    let Some(run) = kubectl_initctl(&["status"], &kubeconfig) else {
        return;
    };
    let rows = table(run.ok());
    assert_eq!(
        rows[0],
        [
            "NAME", "READY", "STATUS", "INIT", "CURRENT", "RESTARTS", "AGE"
        ]
    );
    let mut want: Vec<Vec<String>> = goldens().values().map(golden_row).collect();
    want.sort();
    let mut got = rows[1..].to_vec();
    got.sort();
    assert_eq!(got, want);
    // One LIST for the whole namespace, and no request per pod.
    let pod_requests: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/pods"))
        .collect();
    assert_eq!(pod_requests.len(), 1, "{pod_requests:#?}");
    assert_eq!(pod_requests[0].path, "/api/v1/namespaces/seed/pods");
    assert_eq!(
        pod_requests[0].query.get("limit").map(String::as_str),
        Some("500")
    );
}

#[test]
fn json_document_follows_the_contract() {
    let path = harness::fixtures().join("pods/init-0of2-myapp-pod.yaml");
    let run = initctl(
        &["status", "-o", "json", "-f", path.to_str().unwrap()],
        None,
    );
    let doc: Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(doc["apiVersion"], "initctl/v1");
    assert_eq!(doc["kind"], "InitStatusList");
    let item = &doc["items"][0];
    assert_eq!(item["name"], "myapp-pod");
    assert_eq!(item["namespace"], "seed");
    assert_eq!(item["status"], "Init:0/2");
    assert_eq!(item["ready"], "0/1");
    assert_eq!(item["restarts"], 0);
    assert_eq!(item["age"], "15m");
    assert_eq!(
        item["init"],
        json!({"done": 0, "total": 2, "current": "init-myservice"})
    );
    let first = &item["initContainers"][0];
    assert_eq!(first["index"], 1);
    assert_eq!(first["name"], "init-myservice");
    assert_eq!(first["type"], "init");
    assert_eq!(first["state"], "running");
    assert_eq!(first["started"], true);
    assert!(first["durationSeconds"].as_i64().unwrap() > 0);
    assert_eq!(item["initContainers"][1]["state"], "waiting");
    // YAML carries the same document.
    let yaml = initctl(
        &["status", "-o", "yaml", "-f", path.to_str().unwrap()],
        None,
    );
    let from_yaml: Value = serde_saphyr::from_str(yaml.ok()).unwrap();
    assert_eq!(from_yaml, doc);
}

#[test]
fn wide_lists_every_init_container_with_durations_and_sidecars() {
    let path = harness::fixtures().join("pods/sidecar-started-init-running.yaml");
    let run = initctl(
        &["status", "-o", "wide", "-f", path.to_str().unwrap()],
        None,
    );
    let out = run.ok();
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[1]
            .trim_start()
            .starts_with("#   INIT CONTAINER   TYPE"),
        "{out}"
    );
    let sub: Vec<Vec<String>> = lines[3..]
        .iter()
        .map(|l| table(l.trim_start()).remove(0))
        .collect();
    assert_eq!(sub.len(), 3, "{out}");
    assert_eq!(
        &sub[0][..6],
        ["1", "config-fetch", "init", "terminated", "Completed", "0"]
    );
    assert_eq!(sub[0][8], "2s", "ran from startedAt to finishedAt");
    assert_eq!(&sub[1][..4], ["2", "log-shipper", "sidecar", "running"]);
    assert_eq!(&sub[2][..4], ["3", "init-migrate", "init", "running"]);
    assert_eq!(sub[2][8], "9m50s", "running time so far");
    assert_eq!(sub[2][9], "registry.example.com/ledger/migrate:5.3.0");
}

#[test]
fn wide_marks_an_init_image_that_never_ran() {
    let mut pod: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(harness::fixtures().join("pods/running.yaml")).unwrap(),
    )
    .unwrap();
    let old = pod["spec"]["initContainers"][0]["image"]
        .as_str()
        .unwrap()
        .to_string();
    pod["spec"]["initContainers"][0]["image"] = json!("busybox:9.9-edited");
    let run = initctl_stdin(&["status", "-o", "wide", "-f", "-"], &pod.to_string());
    let out = run.ok();
    assert!(out.contains("busybox:9.9-edited [drift: ran "), "{out}");
    let json = initctl_stdin(&["status", "-o", "json", "-f", "-"], &pod.to_string());
    let doc: Value = serde_json::from_str(json.ok()).unwrap();
    assert_eq!(
        doc["items"][0]["initContainers"][0]["imageDrift"], true,
        "spec {old} was edited"
    );
}

#[test]
fn pagination_streams_pages_without_per_pod_requests() {
    let server = ApiServer::start();
    let template: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(harness::fixtures().join("pods/init-1of2.yaml")).unwrap(),
    )
    .unwrap();
    for i in 0..1100 {
        let mut pod = template.clone();
        pod["metadata"]["name"] = json!(format!("bulk-{i:04}"));
        pod["metadata"]["uid"] = json!(format!("00000000-0000-0000-0000-{i:012}"));
        server.insert(pod);
    }
    let run = initctl(
        &["status", "-n", "seed", "--no-headers"],
        Some(&server.kubeconfig(None)),
    );
    let rows = table(run.ok());
    assert_eq!(rows.len(), 1100);
    assert!(rows.iter().all(|r| r[2] == "Init:1/2"));
    let lists: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("pods"))
        .collect();
    assert_eq!(lists.len(), 3, "1100 pods in pages of 500");
    assert!(
        lists
            .iter()
            .all(|r| r.method == "GET" && r.path == "/api/v1/namespaces/seed/pods")
    );
    assert!(!lists[0].query.contains_key("continue"));
    assert!(lists[1].query.contains_key("continue") && lists[2].query.contains_key("continue"));
}

#[test]
fn scope_flags_reach_the_server() {
    let server = seeded_server();
    let kubeconfig = server.kubeconfig(Some("seed"));
    let run = initctl(
        &[
            "status",
            "-A",
            "-l",
            "app.kubernetes.io/name=ledger-api",
            "--field-selector",
            "status.phase=Pending",
        ],
        Some(&kubeconfig),
    );
    let rows = table(run.ok());
    assert_eq!(rows[0][0], "NAMESPACE");
    let last = server
        .requests()
        .into_iter()
        .rfind(|r| r.path.contains("pods"))
        .unwrap();
    assert_eq!(last.path, "/api/v1/pods");
    assert_eq!(
        last.query.get("labelSelector").map(String::as_str),
        Some("app.kubernetes.io/name=ledger-api")
    );
    assert_eq!(
        last.query.get("fieldSelector").map(String::as_str),
        Some("status.phase=Pending")
    );
    assert!(rows[1..].iter().all(|r| r[0] == "seed"));
}

#[test]
fn default_namespace_comes_from_the_context() {
    let server = seeded_server();
    let none = initctl(&["status"], Some(&server.kubeconfig(None)));
    assert_eq!(none.ok(), "");
    assert_eq!(none.stderr, "No resources found in default namespace.\n");
    let seed = initctl(
        &["status", "myapp-pod"],
        Some(&server.kubeconfig(Some("seed"))),
    );
    assert_eq!(table(seed.ok())[1][0], "myapp-pod");
    let get = server
        .requests()
        .into_iter()
        .rfind(|r| r.path.contains("pods"))
        .unwrap();
    assert_eq!(
        get.path, "/api/v1/namespaces/seed/pods/myapp-pod",
        "a named pod is one GET"
    );
}

fn deployment(name: &str, app: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "seed", "uid": "9d1f3c4e-0000-4000-8000-00000000d001"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": app}},
            "template": {"metadata": {"labels": {"app.kubernetes.io/name": app}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})
}

#[test]
fn workload_targets_resolve_to_the_pods_they_select() {
    let server = seeded_server();
    server.insert(deployment("ledger-api", "ledger-api"));
    let kubeconfig = server.kubeconfig(Some("seed"));
    let run = initctl(
        &["status", "deploy/ledger-api", "--no-headers"],
        Some(&kubeconfig),
    );
    let rows = table(run.ok());
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r[0].starts_with("ledger-api-")),
        "{rows:?}"
    );
    let list = server
        .requests()
        .into_iter()
        .rfind(|r| r.path.contains("pods"))
        .unwrap();
    assert_eq!(
        list.query.get("labelSelector").map(String::as_str),
        Some("app.kubernetes.io/name=ledger-api")
    );
    // The same target offline, from a file holding the Deployment and the pods.
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.json");
    let mut items: Vec<Value> = pod_files()
        .iter()
        .map(|f| serde_saphyr::from_str(&std::fs::read_to_string(f).unwrap()).unwrap())
        .collect();
    items.push(deployment("ledger-api", "ledger-api"));
    std::fs::write(
        &dump,
        json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string(),
    )
    .unwrap();
    let offline = initctl(
        &[
            "status",
            "deployment/ledger-api",
            "--no-headers",
            "-f",
            dump.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(table(offline.ok()), rows);
}

#[test]
fn watch_prints_a_row_per_change() {
    let server = seeded_server();
    let kubeconfig = server.kubeconfig(Some("seed"));
    let mut child = harness::scrubbed(&harness::bin())
        .args(["status", "myapp-pod", "-w", "--no-headers"])
        .env("KUBECONFIG", &kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("Init:0/2"), "{first}");
    // Wait until the watch is open, then move the pod on to its second init container.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !server.requests().iter().any(|r| {
        r.query
            .get("watch")
            .is_some_and(|w| w == "true" || w == "1")
    }) {
        assert!(Instant::now() < deadline, "no watch request");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut pod = server.get("v1", "Pod", Some("seed"), "myapp-pod").unwrap();
    let statuses = pod["status"]["initContainerStatuses"]
        .as_array_mut()
        .unwrap();
    statuses[0]["state"] = json!({"terminated": {"exitCode": 0, "reason": "Completed",
        "startedAt": "2026-11-27T11:45:20Z", "finishedAt": "2026-11-27T11:59:00Z"}});
    statuses[0]["ready"] = json!(true);
    statuses[1]["state"] = json!({"running": {"startedAt": "2026-11-27T11:59:01Z"}});
    statuses[1]["started"] = json!(true);
    server.push_watch_event("MODIFIED", pod);
    let second = lines.next().unwrap().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(table(&second)[0][2], "Init:1/2", "{second}");
    assert_eq!(table(&second)[0][4], "init-mydb");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let path = harness::fixtures().join("pods/init-crashloopbackoff.yaml");
    let path = path.to_str().unwrap();
    let plain = initctl(&["status", "-f", path], None);
    assert!(!plain.ok().contains('\u{1b}'), "no colour off a terminal");
    let forced = initctl(&["status", "--color", "always", "-f", path], None);
    assert!(forced.ok().contains("\u{1b}["), "--color always colours");
    // Widths ignore escape codes: the columns still line up.
    let stripped: String = harness::strip_ansi(forced.ok());
    assert_eq!(table(&stripped), table(plain.ok()));
}

#[test]
fn cluster_text_cannot_drive_the_terminal() {
    let mut pod: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(harness::fixtures().join("pods/init-crashloopbackoff.yaml"))
            .unwrap(),
    )
    .unwrap();
    pod["status"]["initContainerStatuses"][1]["state"]["waiting"]["reason"] =
        json!("Evil\u{1b}]0;pwned\u{7}");
    let run = initctl_stdin(&["status", "-o", "wide", "-f", "-"], &pod.to_string());
    assert!(!run.ok().contains('\u{1b}'), "{}", run.stdout);
    assert!(
        run.stdout.contains("Init:Evil\\u{1b}]0;pwned\\u{7}"),
        "{}",
        run.stdout
    );
}

#[test]
fn bad_input_is_one_line_and_exit_1() {
    let server = seeded_server();
    let kubeconfig = server.kubeconfig(Some("seed"));
    let line = initctl(&["status", "svc/mydb"], Some(&kubeconfig))
        .one_error_line(1)
        .to_string();
    assert!(line.contains("unknown target kind \"svc\""), "{line}");
    let line = initctl(&["status", "nope"], Some(&kubeconfig))
        .one_error_line(1)
        .to_string();
    assert_eq!(line, "error: pods \"nope\" not found");
    let line = initctl(&["status", "deploy/nope"], Some(&kubeconfig))
        .one_error_line(1)
        .to_string();
    assert_eq!(line, "error: deployments.apps \"nope\" not found");

    server.forbid("list", "pods", Some("seed"));
    let line = initctl(&["status"], Some(&kubeconfig))
        .one_error_line(1)
        .to_string();
    assert!(line.contains("pods is forbidden"), "{line}");

    server.fault(Fault::error("/api/v1/namespaces/kube-system/pods", 500));
    let line = initctl(&["status", "-n", "kube-system"], Some(&kubeconfig))
        .one_error_line(1)
        .to_string();
    assert!(line.starts_with("error: "), "{line}");

    let dir = tempfile::tempdir().unwrap();
    let unreachable = dir.path().join("kubeconfig");
    std::fs::write(
        &unreachable,
        server
            .kubeconfig_yaml(None)
            .replace(&server.url(), "http://127.0.0.1:1"),
    )
    .unwrap();
    let line = initctl(&["status"], Some(&unreachable))
        .one_error_line(1)
        .to_string();
    assert!(
        line.contains("unable to connect to the server at http://127.0.0.1:1"),
        "{line}"
    );

    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers: [\n",
    )
    .unwrap();
    let line = initctl(&["status", "-f", bad.to_str().unwrap()], None)
        .one_error_line(1)
        .to_string();
    assert!(
        line.starts_with(&format!("error: {}:", bad.display())),
        "{line}"
    );
    let position = line.split(':').nth(2).unwrap();
    assert!(
        position.parse::<u32>().unwrap() >= 6,
        "points at the broken line: {line}"
    );

    let typed = dir.path().join("typed.yaml");
    std::fs::write(
        &typed,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers: 7\n",
    )
    .unwrap();
    let line = initctl(&["status", "-f", typed.to_str().unwrap()], None)
        .one_error_line(1)
        .to_string();
    assert!(
        line.starts_with(&format!("error: {}:6:", typed.display())),
        "{line}"
    );

    let line = initctl(&["status", "-f", "/nonexistent/pods.yaml"], None)
        .one_error_line(1)
        .to_string();
    assert!(line.contains("/nonexistent/pods.yaml"), "{line}");
}

#[test]
fn exec_credential_plugins_authenticate_like_kubectl() {
    let server = seeded_server();
    server.require_token("from-exec-plugin");
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("credential-plugin");
    std::fs::write(
        &plugin,
        "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"from-exec-plugin\"}}'\n",
    )
    .unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut std::fs::metadata(&plugin).unwrap().permissions(),
        0o755,
    );
    std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let text = server.kubeconfig_yaml(Some("seed"));
    let user_start = text.find("  user:\n").unwrap();
    let user_end = text[user_start..].find("contexts:").unwrap() + user_start;
    let exec_user = format!(
        "  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never\n",
        plugin.display()
    );
    std::fs::write(
        &kubeconfig,
        format!("{}{}{}", &text[..user_start], exec_user, &text[user_end..]),
    )
    .unwrap();
    let run = initctl(&["status", "myapp-pod", "--no-headers"], Some(&kubeconfig));
    assert_eq!(table(run.ok())[0][2], "Init:0/2");
    let stale = dir.path().join("stale-token");
    std::fs::write(
        &stale,
        text.replace("token: from-exec-plugin", "token: stale"),
    )
    .unwrap();
    let wrong = initctl(&["status"], Some(&stale));
    assert_eq!(wrong.code, 1, "a wrong token is refused: {}", wrong.stderr);
}

#[test]
fn request_timeout_bounds_a_slow_server() {
    let server = seeded_server();
    server.fault(Fault::delay("/pods", Duration::from_secs(5)));
    let started = Instant::now();
    let run = initctl(
        &["status", "--request-timeout", "1s"],
        Some(&server.kubeconfig(Some("seed"))),
    );
    run.one_error_line(1);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "gave up after the timeout"
    );
}

#[test]
fn a_manifest_that_never_ran_reads_as_such() {
    let path = harness::fixtures()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/myapp-pod.yaml");
    let run = initctl(
        &["status", "--no-headers", "-f", path.to_str().unwrap()],
        None,
    );
    assert_eq!(
        table(run.ok()),
        vec![vec![
            "myapp-pod",
            "0/1",
            "<none>",
            "0/2",
            "-",
            "0",
            "<unknown>"
        ]]
    );
}

/// Every row starts each column where the header's does.
fn assert_aligned(text: &str) {
    let mut lines = text.lines();
    let header = lines.next().expect("a header");
    let starts: Vec<usize> = header
        .char_indices()
        .filter(|&(i, c)| c != ' ' && (i == 0 || header.as_bytes()[i - 1] == b' '))
        .map(|(i, _)| i)
        .filter(|&i| i == 0 || header[..i].ends_with("   "))
        .collect();
    for line in lines {
        for &at in &starts[1..] {
            assert!(
                line.len() > at && line.as_bytes()[at - 1] == b' ' && line.as_bytes()[at] != b' ',
                "column at {at} not aligned:\n{text}"
            );
        }
    }
}

#[test]
fn several_named_pods_are_one_aligned_table() {
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cluster-dump.yaml");
    let names = [
        "myapp-pod",
        "reports-6b8f7c9d5-q4tzn",
        "billing-worker-7b9d6c8f5-4hx2m",
    ];
    let mut offline = vec!["status"];
    offline.extend(names);
    offline.extend(["-f", example.to_str().unwrap()]);
    let run = initctl(&offline, None);
    assert_eq!(run.ok().lines().count(), 4, "{}", run.stdout);
    assert_aligned(run.ok());

    let server = ApiServer::start();
    server.load_file(&example);
    let mut online = vec!["status"];
    online.extend(names);
    let run = initctl(&online, Some(&server.kubeconfig(Some("seed"))));
    assert_eq!(run.ok().lines().count(), 4, "{}", run.stdout);
    assert_aligned(run.ok());
}

/// Ctrl-C, a closed terminal (SIGHUP) or SIGTERM stop a watch at once with the shell's code for
/// the signal, also while it waits on the server (the signal is handled off the main thread,
/// which holds stdout).
#[test]
fn a_terminating_signal_stops_a_watch_at_once() {
    let server = seeded_server();
    let kubeconfig = server.kubeconfig(Some("seed"));
    for (signal, code) in [("INT", 130), ("TERM", 143), ("HUP", 129)] {
        let mut child = harness::scrubbed(&harness::bin())
            .args(["status", "myapp-pod", "-w", "--no-headers"])
            .env("KUBECONFIG", &kubeconfig)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        assert!(first.contains("Init:0/2"), "{first}");
        let killed = std::process::Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("SIG{signal} did not stop the watch");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(code), "SIG{signal}");
    }
}
