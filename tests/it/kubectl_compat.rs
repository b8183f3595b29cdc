//! Real `kubectl` against the stand-in API server: discovery, get (with pagination and
//! selectors), describe, patch (merge, strategic, rejected), logs and delete. Skipped with a
//! note when `kubectl` is not installed (a failure with INITCTL_REQUIRE_KUBECTL=1, see
//! `harness::kubectl`). (kubectl v1.32 never runs an exec credential plugin for this
//! plain-http server, so exec credentials are left to the kube-rs tests.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::apiserver::ApiServer;
use crate::harness;

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/apiserver/testdata")
        .join(name)
}

/// A seeded server plus an isolated HOME (kubectl's discovery cache lives under it).
struct Kubectl {
    kubectl: PathBuf,
    server: ApiServer,
    home: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl Kubectl {
    #[track_caller]
    fn new() -> Option<Kubectl> {
        let kubectl = harness::kubectl("the kubectl compatibility test")?;
        let server = ApiServer::start();
        server.load_file(testdata("seed.json"));
        let kubeconfig = server.kubeconfig(Some("seed"));
        Some(Kubectl {
            kubectl,
            server,
            home: tempfile::tempdir().expect("home"),
            kubeconfig,
        })
    }

    fn run_with(&self, kubeconfig: &Path, args: &[&str]) -> Output {
        Command::new(&self.kubectl)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(args)
            .env("HOME", self.home.path())
            .env("KUBECACHEDIR", self.home.path().join("cache"))
            .env_remove("KUBECONFIG")
            .output()
            .expect("run kubectl")
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with(&self.kubeconfig, args)
    }

    /// Runs kubectl, expects success, returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "kubectl {args:?} failed: {stderr}");
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }
}

#[test]
fn kubectl_get_lists_pods_in_all_output_forms() {
    let Some(k) = Kubectl::new() else { return };
    // The stand-in renders the pod printer's Table, so kubectl prints its real columns.
    let table = k.ok(&["get", "pods", "-n", "seed"]);
    let first: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        first,
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        "{table}"
    );
    assert!(
        table.contains("myapp-pod") && table.contains("web-0") && table.contains("web-1"),
        "{table}"
    );

    let list: Value = serde_json::from_str(&k.ok(&["get", "pods", "-o", "json"])).expect("json");
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        list["items"][0]["kind"], "Pod",
        "kubectl puts the kind back on each item"
    );

    assert_eq!(
        k.ok(&["get", "pods", "-o", "name", "-l", "app=web"]),
        "pod/web-0\npod/web-1\n"
    );
    assert_eq!(
        k.ok(&[
            "get",
            "po",
            "-o",
            "name",
            "--field-selector",
            "spec.nodeName=node-1"
        ]),
        "pod/myapp-pod\npod/web-1\n"
    );
    assert_eq!(
        k.ok(&["get", "pods", "-A", "-o", "name"]),
        "pod/batch-x\npod/myapp-pod\npod/web-0\npod/web-1\n"
    );

    k.server.clear_requests();
    assert_eq!(
        k.ok(&["get", "pods", "--chunk-size=1", "-o", "name"]),
        "pod/myapp-pod\npod/web-0\npod/web-1\n"
    );
    let pages = k
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v1/namespaces/seed/pods")
        .collect::<Vec<_>>();
    assert_eq!(pages.len(), 3, "one request per page");
    assert!(pages[1].query.contains_key("continue"));
}

#[test]
fn kubectl_get_several_resource_types_by_short_name() {
    let Some(k) = Kubectl::new() else { return };
    let out = k.ok(&["get", "deploy,svc", "-o", "name"]);
    assert_eq!(out, "deployment.apps/orders\nservice/web\n");
    let deploy: Value =
        serde_json::from_str(&k.ok(&["get", "deployment", "orders", "-o", "json"])).unwrap();
    assert_eq!(
        deploy["spec"]["template"]["spec"]["initContainers"][0]["name"],
        "migrate"
    );
    let missing = k.run(&["get", "pod", "ghost"]);
    assert!(!missing.status.success());
    assert_eq!(
        String::from_utf8_lossy(&missing.stderr).trim(),
        "Error from server (NotFound): pods \"ghost\" not found"
    );
}

#[test]
fn kubectl_describe_pod_shows_its_events() {
    let Some(k) = Kubectl::new() else { return };
    let out = k.ok(&["describe", "pod", "myapp-pod"]);
    assert!(out.contains("Name:") && out.contains("myapp-pod"), "{out}");
    assert!(
        out.contains("Init Containers:") && out.contains("init-myservice:"),
        "{out}"
    );
    assert!(out.contains("Events:"), "{out}");
    assert!(
        out.contains("Successfully assigned seed/myapp-pod to node-1"),
        "{out}"
    );
    assert!(out.contains("Started container init-myservice"), "{out}");
    assert!(
        !out.contains("nginx:1.27\" already present"),
        "events of other pods stay out: {out}"
    );
}

#[test]
fn kubectl_patch_merge_and_strategic_on_an_init_container_image() {
    let Some(k) = Kubectl::new() else { return };
    let out = k.ok(&[
        "patch",
        "pod",
        "web-1",
        "--type=merge",
        "-p",
        r#"{"metadata":{"labels":{"patched":"yes"}}}"#,
    ]);
    assert_eq!(out, "pod/web-1 patched\n");
    assert_eq!(
        k.server.get("v1", "Pod", Some("seed"), "web-1").unwrap()["metadata"]["labels"]["patched"],
        "yes"
    );

    let smp = json!({"spec": {"initContainers": [{"name": "init-mydb", "image": "busybox:1.36"}]}})
        .to_string();
    assert_eq!(
        k.ok(&["patch", "pod", "myapp-pod", "--type=strategic", "-p", &smp]),
        "pod/myapp-pod patched\n"
    );
    let pod = k
        .server
        .get("v1", "Pod", Some("seed"), "myapp-pod")
        .unwrap();
    assert_eq!(pod["spec"]["initContainers"][0]["image"], "busybox:1.28");
    assert_eq!(pod["spec"]["initContainers"][1]["image"], "busybox:1.36");
    let last = k
        .server
        .requests()
        .into_iter()
        .rfind(|r| r.method == "PATCH")
        .unwrap();
    assert_eq!(
        last.content_type.as_deref(),
        Some("application/strategic-merge-patch+json")
    );

    assert_eq!(
        k.ok(&["patch", "pod", "myapp-pod", "--type=strategic", "-p", &smp]),
        "pod/myapp-pod patched (no change)\n"
    );
}

#[test]
fn kubectl_shows_a_rejected_pod_update_as_invalid() {
    let Some(k) = Kubectl::new() else { return };
    let smp = json!({"spec": {"initContainers": [{"name": "init-mydb", "command": ["sh", "-c", "true"]}]}}).to_string();
    let out = k.run(&["patch", "pod", "myapp-pod", "-p", &smp]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("The Pod \"myapp-pod\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`"),
        "{stderr}"
    );
}

#[test]
fn kubectl_logs_of_an_init_container_with_tail() {
    let Some(k) = Kubectl::new() else { return };
    k.server.set_log(
        "seed",
        "myapp-pod",
        "init-myservice",
        false,
        "line 1\nline 2\nline 3\n",
    );
    assert_eq!(
        k.ok(&["logs", "myapp-pod", "-c", "init-myservice", "--tail=2"]),
        "line 2\nline 3\n"
    );
    let req = k
        .server
        .requests()
        .into_iter()
        .rfind(|r| r.path.ends_with("/log"))
        .unwrap();
    assert_eq!(req.query.get("tailLines").map(String::as_str), Some("2"));
    let previous = k.run(&["logs", "myapp-pod", "-c", "init-myservice", "-p"]);
    assert_eq!(
        String::from_utf8_lossy(&previous.stderr).trim(),
        "Error from server (BadRequest): previous terminated container \"init-myservice\" in pod \"myapp-pod\" not found"
    );
}

#[test]
fn kubectl_delete_pod_waits_until_it_is_gone() {
    let Some(k) = Kubectl::new() else { return };
    assert_eq!(k.ok(&["delete", "pod", "web-1"]), "pod \"web-1\" deleted\n");
    assert!(k.server.get("v1", "Pod", Some("seed"), "web-1").is_none());

    k.server
        .set_deletion_delay(std::time::Duration::from_millis(500));
    assert_eq!(k.ok(&["delete", "pod", "web-0"]), "pod \"web-0\" deleted\n");
    assert!(
        k.server.get("v1", "Pod", Some("seed"), "web-0").is_none(),
        "kubectl waited for the DELETED event"
    );
}
