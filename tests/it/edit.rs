//! `edit`, `restart` and `check` through the real binary with a scripted KUBE_EDITOR, against the
//! stand-in server: every classification, the recreate and owner paths, and the fault matrix —
//! in every case the pod or its backup survives and the user's edit is kept.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::apiserver::{ApiServer, Fault, Request};
use crate::harness::{self, Run};

fn fixture(name: &str) -> Value {
    serde_saphyr::from_str(
        &std::fs::read_to_string(harness::fixtures().join("pods").join(name)).unwrap(),
    )
    .unwrap()
}

/// A bare pod (no owner) that has finished init and runs: its init containers never run again.
fn bare_running_pod() -> Value {
    let mut pod = fixture("running.yaml");
    let meta = pod["metadata"].as_object_mut().unwrap();
    meta.remove("ownerReferences");
    meta.remove("generateName");
    meta.insert("name".into(), json!("ledger-migrator"));
    pod
}

/// A scripted editor: the n-th time it runs it copies `edit-n.yaml` over the file (or leaves the
/// file alone when there is none) and records what it was shown as `seen-n.yaml`.
struct Session {
    dir: tempfile::TempDir,
    server: ApiServer,
    kubeconfig: PathBuf,
}

impl Session {
    fn new(pods: &[Value]) -> Session {
        let server = ApiServer::start();
        server
            .insert(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "seed"}}));
        for p in pods {
            server.insert(p.clone());
        }
        let kubeconfig = server.kubeconfig(Some("seed"));
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("editor.sh");
        let d = dir.path().display();
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nn=$(cat {d}/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > {d}/count\ncp \"$1\" {d}/seen-$n.yaml\n[ -f {d}/editor-delay ] && sleep 1\n[ -f {d}/edit-$n.yaml ] && cp {d}/edit-$n.yaml \"$1\"\nexit 0\n"
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        Session {
            dir,
            server,
            kubeconfig,
        }
    }

    /// The n-th editor run saves `pod` (as JSON, which is YAML too).
    fn save(&self, n: usize, pod: &Value) {
        std::fs::write(
            self.dir.path().join(format!("edit-{n}.yaml")),
            serde_json::to_string_pretty(pod).unwrap(),
        )
        .unwrap();
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = harness::scrubbed(&harness::bin());
        cmd.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("KUBE_EDITOR", self.dir.path().join("editor.sh"))
            .env("XDG_STATE_HOME", self.state())
            .env("TMPDIR", self.dir.path());
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        let out = self.command(args).output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        }
    }

    /// Requests that change something.
    fn writes(&self) -> Vec<Request> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .collect()
    }

    fn pod(&self, name: &str) -> Option<Value> {
        self.server.get("v1", "Pod", Some("seed"), name)
    }

    fn backups(&self) -> Vec<PathBuf> {
        let dir = self.state().join("kubectl-initctl/backups");
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        files.sort();
        files
    }
}

/// The path in `A copy of your changes has been stored to "PATH"`, which must exist.
fn kept_copy(run: &Run) -> PathBuf {
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("A copy of your changes has been stored to"))
        .unwrap_or_else(|| panic!("no copy kept:\n{}", run.stderr));
    let path = PathBuf::from(line.split('"').nth(1).unwrap());
    assert!(path.exists(), "the copy {} exists", path.display());
    path
}

fn with_init_image(pod: &Value, index: usize, image: &str) -> Value {
    let mut p = pod.clone();
    p["spec"]["initContainers"][index]["image"] = json!(image);
    p
}

#[test]
fn unchanged_edit_is_cancelled() {
    let s = Session::new(&[fixture("init-0of2-myapp-pod.yaml")]);
    let run = s.run(&["edit", "myapp-pod"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "Edit cancelled, no changes made.\n");
    assert!(s.writes().is_empty());
    let seen = std::fs::read_to_string(s.dir.path().join("seen-1.yaml")).unwrap();
    assert!(
        seen.starts_with(
            "# Please edit the object below. Lines beginning with a '#' will be ignored,\n"
        ),
        "{seen}"
    );
    assert!(
        seen.contains("name: myapp-pod") && !seen.contains("managedFields"),
        "{seen}"
    );
}

#[test]
fn command_edit_is_refused_before_the_server() {
    let pod = fixture("init-0of2-myapp-pod.yaml");
    let s = Session::new(std::slice::from_ref(&pod));
    let mut edited = pod.clone();
    edited["spec"]["initContainers"][1]["command"] = json!(["sh", "-c", "echo changed"]);
    s.save(1, &edited);
    let run = s.run(&["edit", "myapp-pod"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("spec.initContainers[init-mydb].command: Forbidden: pod updates may not change fields other than"), "{}", run.stderr);
    assert!(
        run.stderr.contains("echo changed"),
        "the diff shows the offending value: {}",
        run.stderr
    );
    assert!(s.writes().is_empty(), "nothing sent: {:?}", s.writes());
    let copy = kept_copy(&run);
    assert!(
        std::fs::read_to_string(copy)
            .unwrap()
            .contains("echo changed"),
        "the user's text is kept"
    );
}

#[test]
fn rejected_edit_reopens_with_the_reasons_on_a_terminal() {
    let pod = fixture("init-0of2-myapp-pod.yaml");
    let s = Session::new(std::slice::from_ref(&pod));
    let mut edited = pod.clone();
    edited["spec"]["initContainers"][0]["args"] = json!(["--fast"]);
    s.save(1, &edited);
    // Second run: the user saves it again unchanged.
    let cmd = s.command(&["edit", "myapp-pod"]);
    let line: Vec<String> = std::iter::once(cmd.get_program().to_string_lossy().into_owned())
        .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect();
    // `script` gives the command a terminal, as a user at a shell has.
    let mut script = Command::new("script");
    script
        .arg("-qec")
        .arg(
            line.iter()
                .map(|a| format!("'{a}'"))
                .collect::<Vec<_>>()
                .join(" "),
        )
        .arg("/dev/null");
    script.env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            script.env(k, v);
        }
    }
    let out = script.stdin(Stdio::null()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    assert_eq!(out.status.code(), Some(1), "{text}");
    let reopened = std::fs::read_to_string(s.dir.path().join("seen-2.yaml")).unwrap();
    assert!(reopened.contains("# pods \"myapp-pod\" was not valid:\n# * spec.initContainers[init-myservice].args: Forbidden"), "{reopened}");
    assert!(
        text.contains("Edit cancelled, no valid changes were saved."),
        "{text}"
    );
    assert!(
        text.contains("A copy of your changes has been stored to"),
        "{text}"
    );
    assert!(s.writes().is_empty());
}

#[test]
fn init_image_edit_of_an_initialized_bare_pod_recreates_it() {
    let pod = bare_running_pod();
    let s = Session::new(std::slice::from_ref(&pod));
    let old_uid = pod["metadata"]["uid"].clone();
    let new_image = "busybox:1.37-edited";
    s.save(1, &with_init_image(&pod, 0, new_image));
    let run = s.run(&["edit", "ledger-migrator", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("needs a restart: it already completed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("plan: recreate pod/ledger-migrator"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "pod/ledger-migrator recreated\n");
    let writes = s.writes();
    assert_eq!(
        writes.iter().map(|r| r.method.as_str()).collect::<Vec<_>>(),
        ["DELETE", "POST"],
        "{writes:?}"
    );
    let delete: Value = serde_json::from_str(&writes[0].body).unwrap();
    assert_eq!(
        delete["preconditions"]["uid"], old_uid,
        "deleted only if it is still the pod that was read"
    );
    assert!(delete["preconditions"]["resourceVersion"].is_string());
    let created = s.pod("ledger-migrator").unwrap();
    assert_ne!(created["metadata"]["uid"], old_uid);
    assert_eq!(created["spec"]["initContainers"][0]["image"], new_image);
    assert!(
        created["spec"].get("nodeName").is_none(),
        "scheduled afresh"
    );
    let backups = s.backups();
    assert_eq!(backups.len(), 3, "{backups:?}");
    assert!(
        backups
            .iter()
            .any(|b| b.to_string_lossy().ends_with(".live.yaml"))
    );
}

#[test]
fn init_image_edit_needs_a_yes_without_a_terminal() {
    let pod = bare_running_pod();
    let s = Session::new(std::slice::from_ref(&pod));
    s.save(1, &with_init_image(&pod, 0, "busybox:1.37"));
    let run = s.run(&["edit", "ledger-migrator"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("no terminal to confirm on"),
        "{}",
        run.stderr
    );
    kept_copy(&run);
    assert!(s.writes().is_empty());
    s.save(2, &with_init_image(&pod, 0, "busybox:1.37"));
    let dry = s.run(&["edit", "ledger-migrator", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stderr.contains("dry run: nothing was changed"));
    assert!(s.writes().is_empty());
}

#[test]
fn a_failing_init_container_takes_the_new_image_without_a_restart() {
    let mut pod = fixture("init-imagepullbackoff.yaml");
    pod["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("ownerReferences");
    let name = pod["metadata"]["name"].as_str().unwrap().to_string();
    let s = Session::new(std::slice::from_ref(&pod));
    s.save(
        1,
        &with_init_image(&pod, 0, "registry.example.com/platform/vault-init:1.18.3"),
    );
    let run = s.run(&["edit", &name, "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("runs by itself"), "{}", run.stderr);
    let writes = s.writes();
    assert!(
        writes.iter().all(|r| r.method != "DELETE"),
        "no restart needed: {writes:?}"
    );
}

#[test]
fn a_deployment_owned_pod_changes_the_deployment_template() {
    let pod = fixture("running.yaml");
    let name = pod["metadata"]["name"].as_str().unwrap().to_string();
    let s = Session::new(std::slice::from_ref(&pod));
    let labels = pod["metadata"]["labels"].clone();
    s.server.insert(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "orders-api-7d9c8b6f5", "namespace": "seed", "uid": "bbf8b6f0-3e92-40c4-a064-d064aa748076",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "orders-api", "uid": "0d7e4c1a-1111-4b5e-9c3d-5a6b7c8d9e0f", "controller": true}]},
        "spec": {"replicas": 2, "selector": {"matchLabels": labels.clone()}, "template": {"metadata": {"labels": labels.clone()}, "spec": pod["spec"].clone()}}}));
    s.server.insert(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "orders-api", "namespace": "seed", "uid": "0d7e4c1a-1111-4b5e-9c3d-5a6b7c8d9e0f"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app.kubernetes.io/name": labels["app.kubernetes.io/name"].clone()}},
            "template": {"metadata": {"labels": labels.clone()}, "spec": pod["spec"].clone()}}}));
    s.save(1, &with_init_image(&pod, 0, "busybox:1.37"));
    let run = s.run(&["edit", &name, "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "plan: change the pod template of Deployment/orders-api: 2 pod(s) will be replaced"
        ),
        "{}",
        run.stderr
    );
    let deployment = s
        .server
        .get("apps/v1", "Deployment", Some("seed"), "orders-api")
        .unwrap();
    assert_eq!(
        deployment["spec"]["template"]["spec"]["initContainers"][0]["image"],
        "busybox:1.37"
    );
    assert!(
        s.writes()
            .iter()
            .all(|r| r.method == "PATCH" && r.path.contains("deployments")),
        "{:?}",
        s.writes()
    );
}

#[test]
fn a_job_owned_pod_is_refused() {
    let mut pod = fixture("init-error.yaml");
    pod["metadata"]["ownerReferences"] = json!([{"apiVersion": "batch/v1", "kind": "Job", "name": "db-migrate-29398080", "uid": "5b0c3a8e-0000-4000-8000-000000000001", "controller": true}]);
    let name = pod["metadata"]["name"].as_str().unwrap().to_string();
    let s = Session::new(std::slice::from_ref(&pod));
    s.save(1, &with_init_image(&pod, 0, "postgres:17"));
    let run = s.run(&["edit", &name, "--yes"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("whose pod template is immutable"),
        "{}",
        run.stderr
    );
    kept_copy(&run);
    assert!(s.writes().is_empty());
}

#[test]
fn a_label_edit_is_patched_with_the_version_read() {
    let pod = fixture("init-0of2-myapp-pod.yaml");
    let s = Session::new(std::slice::from_ref(&pod));
    let mut edited = pod.clone();
    edited["metadata"]["labels"]["tier"] = json!("backend");
    s.save(1, &edited);
    let run = s.run(&["edit", "myapp-pod"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "pod/myapp-pod edited\n");
    let patch = s.writes().pop().unwrap();
    assert_eq!(
        patch.content_type.as_deref(),
        Some("application/strategic-merge-patch+json")
    );
    let body: Value = serde_json::from_str(&patch.body).unwrap();
    assert_eq!(body["metadata"]["labels"]["tier"], "backend");
    assert!(body["metadata"]["resourceVersion"].is_string());
    assert_eq!(
        s.pod("myapp-pod").unwrap()["metadata"]["labels"]["tier"],
        "backend"
    );
}

#[test]
fn a_conflict_at_patch_keeps_the_copy() {
    let pod = fixture("init-0of2-myapp-pod.yaml");
    let s = Session::new(std::slice::from_ref(&pod));
    let mut edited = pod.clone();
    edited["metadata"]["labels"]["tier"] = json!("backend");
    s.save(1, &edited);
    // The pod changes while the editor is open.
    let mut changed = pod.clone();
    changed["metadata"]["annotations"] = json!({"touched": "yes"});
    let server = &s.server;
    let run = std::thread::scope(|scope| {
        scope.spawn(|| {
            let deadline = Instant::now() + Duration::from_secs(20);
            while server
                .requests()
                .iter()
                .all(|r| r.method != "GET" || !r.path.ends_with("/pods/myapp-pod"))
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            server.insert(changed.clone());
        });
        // The editor takes its time, as users do.
        std::fs::write(s.dir.path().join("editor-delay"), "").unwrap();
        s.run(&["edit", "myapp-pod"])
    });
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("the object has been modified"),
        "{}",
        run.stderr
    );
    kept_copy(&run);
}

#[test]
fn recreate_fault_matrix_never_loses_the_pod() {
    let new_image = "busybox:1.37";
    // Create keeps failing after the delete: the backup and the restore command are printed.
    {
        let pod = bare_running_pod();
        let s = Session::new(std::slice::from_ref(&pod));
        s.save(1, &with_init_image(&pod, 0, new_image));
        s.server
            .fault(Fault::error("/namespaces/seed/pods", 503).on("POST"));
        let run = s.run(&["edit", "ledger-migrator", "--yes"]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stderr
                .contains("was deleted but could not be created again"),
            "{}",
            run.stderr
        );
        let restore = run
            .stderr
            .lines()
            .find_map(|l| l.strip_prefix("To restore the old pod: kubectl create -f "))
            .expect("restore command");
        let restored: Value =
            serde_saphyr::from_str(&std::fs::read_to_string(restore).unwrap()).unwrap();
        assert_eq!(restored["metadata"]["name"], "ledger-migrator");
        assert!(
            restored["metadata"].get("uid").is_none() && restored.get("status").is_none(),
            "restorable as is"
        );
        kept_copy(&run);
        let creates = s.writes().iter().filter(|r| r.method == "POST").count();
        assert!(creates >= 3, "transient failures are retried: {creates}");
    }
    // Transient failures, then success.
    {
        let pod = bare_running_pod();
        let s = Session::new(std::slice::from_ref(&pod));
        s.save(1, &with_init_image(&pod, 0, new_image));
        s.server.fault(
            Fault::error("/namespaces/seed/pods", 500)
                .on("POST")
                .times(2),
        );
        let run = s.run(&["edit", "ledger-migrator", "--yes"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            s.pod("ledger-migrator").unwrap()["spec"]["initContainers"][0]["image"],
            new_image
        );
    }
    // Admission refuses the create: not retried, backup printed.
    {
        let pod = bare_running_pod();
        let s = Session::new(std::slice::from_ref(&pod));
        s.save(1, &with_init_image(&pod, 0, new_image));
        s.server
            .fault(Fault::error("/namespaces/seed/pods", 403).on("POST"));
        let run = s.run(&["edit", "ledger-migrator", "--yes"]);
        assert_eq!(run.code, 1);
        assert_eq!(
            s.writes().iter().filter(|r| r.method == "POST").count(),
            1,
            "a refusal is final"
        );
        assert!(
            run.stderr
                .contains("To restore the old pod: kubectl create -f"),
            "{}",
            run.stderr
        );
    }
    // The delete precondition fails (the pod changed): nothing is deleted.
    {
        let pod = bare_running_pod();
        let s = Session::new(std::slice::from_ref(&pod));
        s.save(1, &with_init_image(&pod, 0, new_image));
        s.server
            .fault(Fault::error("/namespaces/seed/pods/ledger-migrator", 409).on("DELETE"));
        let run = s.run(&["edit", "ledger-migrator", "--yes"]);
        assert_eq!(run.code, 1);
        assert!(s.pod("ledger-migrator").is_some(), "the pod is untouched");
        kept_copy(&run);
    }
}

/// Answers lost after the server carried a request out (the connection dropped, or the answer
/// came after the client's timeout) are settled by reading the pod again: never a lost pod,
/// never a false failure.
#[test]
fn lost_answers_are_settled_by_reading_the_pod() {
    let new_image = "busybox:1.37";
    // The delete happened but its answer was lost: the recreate goes on.
    {
        let pod = bare_running_pod();
        let s = Session::new(std::slice::from_ref(&pod));
        s.save(1, &with_init_image(&pod, 0, new_image));
        s.server.fault(
            Fault::lose_answer("/namespaces/seed/pods/ledger-migrator")
                .on("DELETE")
                .times(1),
        );
        let run = s.run(&["edit", "ledger-migrator", "--yes"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let created = s.pod("ledger-migrator").expect("the pod exists");
        assert_eq!(created["spec"]["initContainers"][0]["image"], new_image);
        assert_ne!(created["metadata"]["uid"], pod["metadata"]["uid"]);
    }
    // The create happened but its answer was lost: that is success, not "already exists".
    {
        let pod = bare_running_pod();
        let s = Session::new(std::slice::from_ref(&pod));
        s.save(1, &with_init_image(&pod, 0, new_image));
        s.server.fault(
            Fault::lose_answer("/namespaces/seed/pods")
                .on("POST")
                .times(1),
        );
        let run = s.run(&["edit", "ledger-migrator", "--yes"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            run.stdout.contains("pod/ledger-migrator recreated"),
            "{}",
            run.stdout
        );
        assert!(!run.stderr.contains("already exists"), "{}", run.stderr);
        assert_eq!(
            s.writes().iter().filter(|r| r.method == "POST").count(),
            1,
            "the pod found under its name is ours: no second create"
        );
        assert_eq!(
            s.pod("ledger-migrator").unwrap()["spec"]["initContainers"][0]["image"],
            new_image
        );
    }
}

/// The printed restore command works when pasted into a shell, even from a backup path with a
/// space and a quote in it.
#[test]
fn the_printed_restore_command_restores_the_pod_when_pasted() {
    let Some(kubectl) = harness::kubectl("the pasted restore command") else {
        return;
    };
    let pod = bare_running_pod();
    let s = Session::new(std::slice::from_ref(&pod));
    s.save(1, &with_init_image(&pod, 0, "busybox:1.37"));
    s.server.fault(
        Fault::error("/namespaces/seed/pods", 403)
            .on("POST")
            .times(1),
    );
    let state = s.dir.path().join("it's a state dir");
    let out = s
        .command(&["edit", "ledger-migrator", "--yes"])
        .env("XDG_STATE_HOME", &state)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(s.pod("ledger-migrator").is_none(), "the create was refused");
    let restore = stderr
        .lines()
        .find_map(|l| l.strip_prefix("To restore the old pod: "))
        .unwrap_or_else(|| panic!("no restore command: {stderr}"));
    // kubectl create validates against the server's OpenAPI document, which the stand-in does
    // not serve: a wrapper adds --validate=false, so what is tested is the shell's reading of
    // the pasted line.
    let bin = s.dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::write(
        bin.join("kubectl"),
        format!(
            "#!/bin/sh\nexec '{}' \"$@\" --validate=false\n",
            kubectl.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        bin.join("kubectl"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let pasted = harness::scrubbed(Path::new("/bin/sh"))
        .args(["-c", restore])
        .env("PATH", path)
        .env("HOME", s.dir.path())
        .env("KUBECONFIG", &s.kubeconfig)
        .output()
        .unwrap();
    assert!(
        pasted.status.success(),
        "{restore}: {}",
        String::from_utf8_lossy(&pasted.stderr)
    );
    let restored = s.pod("ledger-migrator").expect("restored");
    assert_eq!(
        restored["spec"]["initContainers"][0]["image"], pod["spec"]["initContainers"][0]["image"],
        "the old pod is back"
    );
}

/// Every terminating signal that arrives between the delete and the create is held until the
/// pod exists again; the process then stops with the shell's code for that signal.
#[test]
fn signals_between_delete_and_create_are_held_until_the_pod_is_back() {
    for (signal, code) in [("INT", 130), ("TERM", 143), ("HUP", 129), ("QUIT", 131)] {
        let pod = bare_running_pod();
        let s = Session::new(std::slice::from_ref(&pod));
        s.save(1, &with_init_image(&pod, 0, "busybox:1.37"));
        s.server.set_deletion_delay(Duration::from_secs(2));
        let child = s
            .command(&["edit", "ledger-migrator", "--yes"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !s.server.requests().iter().any(|r| r.method == "DELETE") {
            assert!(Instant::now() < deadline, "no DELETE");
            std::thread::sleep(Duration::from_millis(10));
        }
        Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(code), "SIG{signal}: {stderr}");
        assert_eq!(
            stderr
                .matches(&format!(
                    "SIG{signal} received: held until pod/ledger-migrator exists again"
                ))
                .count(),
            1,
            "said once, with why: {stderr}"
        );
        assert!(stdout.contains("pod/ledger-migrator recreated"), "{stdout}");
        assert!(
            stderr.contains("after pod/ledger-migrator was recreated with your changes"),
            "says what was done: {stderr}"
        );
        assert!(
            !stderr.contains("A copy of your changes has been stored"),
            "the edit was applied, so no copy is kept: {stderr}"
        );
        let created = s
            .pod("ledger-migrator")
            .expect("the pod was recreated before stopping");
        assert_eq!(
            created["spec"]["initContainers"][0]["image"], "busybox:1.37",
            "SIG{signal}"
        );
    }
}

#[test]
fn wait_follows_the_new_pod_through_server_errors() {
    let pod = bare_running_pod();
    let s = Session::new(std::slice::from_ref(&pod));
    s.save(1, &with_init_image(&pod, 0, "busybox:1.37"));
    let server = &s.server;
    let ready = std::thread::scope(|scope| {
        let pusher = scope.spawn(|| {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !server.requests().iter().any(|r| r.method == "POST") {
                if Instant::now() > deadline {
                    return false;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            // A few failed polls, then the kubelet reports the pod Ready.
            server.fault(
                Fault::error("/namespaces/seed/pods/ledger-migrator", 500)
                    .on("GET")
                    .times(3),
            );
            std::thread::sleep(Duration::from_millis(800));
            let mut p = server
                .get("v1", "Pod", Some("seed"), "ledger-migrator")
                .unwrap();
            p["status"] = pod["status"].clone();
            server.push_watch_event("MODIFIED", p);
            true
        });
        let run = s.run(&[
            "edit",
            "ledger-migrator",
            "--yes",
            "--wait",
            "--timeout",
            "30s",
        ]);
        assert!(pusher.join().unwrap());
        run
    });
    assert_eq!(ready.code, 0, "{}", ready.stderr);
    assert!(
        ready.stderr.contains("pod/ledger-migrator Running: ready"),
        "{}",
        ready.stderr
    );
}

#[test]
fn restart_recreates_bare_pods_deletes_owned_ones_and_rolls_workloads() {
    let bare = bare_running_pod();
    let owned = fixture("running.yaml");
    let s = Session::new(&[bare.clone(), owned.clone()]);
    let run = s.run(&["restart", "ledger-migrator", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "pod/ledger-migrator restarted\n");
    assert_ne!(
        s.pod("ledger-migrator").unwrap()["metadata"]["uid"],
        bare["metadata"]["uid"]
    );
    assert_eq!(s.backups().len(), 3);

    let owned_name = owned["metadata"]["name"].as_str().unwrap();
    s.server.insert(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "orders-api-7d9c8b6f5", "namespace": "seed", "uid": "bbf8b6f0-3e92-40c4-a064-d064aa748076"},
        "spec": {"replicas": 1, "selector": {"matchLabels": owned["metadata"]["labels"].clone()},
            "template": {"metadata": {"labels": owned["metadata"]["labels"].clone()}, "spec": owned["spec"].clone()}}}));
    s.server.clear_requests();
    let run = s.run(&["restart", owned_name, "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        s.writes()
            .iter()
            .map(|r| r.method.as_str())
            .collect::<Vec<_>>(),
        ["DELETE"]
    );

    s.server.insert(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "orders-api", "namespace": "seed", "uid": "0d7e4c1a-1111-4b5e-9c3d-5a6b7c8d9e0f"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "orders"}},
            "template": {"metadata": {"labels": {"app": "orders"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}));
    let run = s.run(&["restart", "deploy/orders-api", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let d = s
        .server
        .get("apps/v1", "Deployment", Some("seed"), "orders-api")
        .unwrap();
    assert!(
        d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .is_string()
    );
    let job = s.run(&["restart", "job/nightly"]);
    assert_eq!(job.code, 1);
}

fn write(dir: &Path, name: &str, pod: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(pod).unwrap()).unwrap();
    path
}

#[test]
fn check_classifies_offline_with_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let pod = bare_running_pod();
    let old = write(dir.path(), "old.json", &pod);
    let p = |v: &PathBuf| v.to_str().unwrap().to_string();
    let image = write(
        dir.path(),
        "image.json",
        &with_init_image(&pod, 0, "busybox:1.37"),
    );
    let run = harness::initctl(&["check", &p(&old), &p(&image)], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("allowed: init container image change\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("needs a restart"), "{}", run.stdout);
    let mut cmd = pod.clone();
    cmd["spec"]["initContainers"][0]["command"] = json!(["true"]);
    let bad = write(dir.path(), "bad.json", &cmd);
    let run = harness::initctl(&["check", &p(&old), &p(&bad)], None);
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(run.stdout.contains("command: Forbidden"), "{}", run.stdout);
    let same = harness::initctl_stdin(
        &["check", "-", &p(&old)],
        &serde_json::to_string(&pod).unwrap(),
    );
    assert_eq!(same.code, 0);
    assert_eq!(same.stdout, "no change\n");
}

#[test]
fn check_colours_its_verdict_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let pod = bare_running_pod();
    let old = write(dir.path(), "old.json", &pod);
    let mut cmd = pod.clone();
    cmd["spec"]["initContainers"][0]["command"] = json!(["true"]);
    let bad = write(dir.path(), "bad.json", &cmd);
    let (old, bad) = (old.to_str().unwrap(), bad.to_str().unwrap());
    let verdict = "rejected: the API server would refuse this change";
    let forced = harness::initctl(&["check", "--color", "always", old, bad], None);
    assert_eq!(forced.code, 3, "{}", forced.stderr);
    let first = forced.stdout.lines().next().unwrap_or_default();
    assert!(
        first.contains('\u{1b}') && first.contains(verdict),
        "{}",
        forced.stdout
    );
    for args in [
        &["check", "--color", "never", old, bad][..],
        &["check", old, bad],
    ] {
        let plain = harness::initctl(args, None);
        assert_eq!(plain.code, 3, "{}", plain.stderr);
        assert!(
            !plain.stdout.contains('\u{1b}'),
            "{args:?}: {}",
            plain.stdout
        );
        assert!(plain.stdout.starts_with(verdict), "{}", plain.stdout);
    }
}

#[test]
fn the_plan_line_escapes_the_live_image() {
    use crate::hostile::{EVIL, assert_terminal_safe};
    let pod = with_init_image(
        &bare_running_pod(),
        0,
        &format!("busybox:1.36{EVIL}\nplan: forged"),
    );
    let s = Session::new(std::slice::from_ref(&pod));
    s.save(1, &with_init_image(&pod, 0, "busybox:1.37"));
    let run = s.run(&["edit", "ledger-migrator", "--dry-run"]);
    assert_terminal_safe(&run, "edit --dry-run of a hostile live image");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("init container init-wait-db: busybox:1.36"))
        .collect();
    assert_eq!(plan.len(), 1, "{}", run.stderr);
    assert!(
        plan[0].contains("busybox:1.36\\u{1b}]52;c;aGFja2Vk\\u{7}\\u{1b}[2J\\r\\u{0}\\u{9b}31m\\u{202e}\\u{2066}x\\nplan: forged -> busybox:1.37"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.lines().any(|l| l.starts_with("plan: forged")));
}

/// A refused edit of a bare pod names the one command that recreates it from the kept copy;
/// pasted into a shell (through kubectl's plugin discovery, from a temp dir whose name needs
/// quoting) it shows the diff, backs the pod up and recreates it with the edit.
#[test]
fn a_refused_edit_of_a_bare_pod_is_recreated_with_the_printed_restart_from() {
    let pod = fixture("init-0of2-myapp-pod.yaml");
    let s = Session::new(std::slice::from_ref(&pod));
    let old_uid = pod["metadata"]["uid"].clone();
    let mut edited = pod.clone();
    edited["spec"]["initContainers"][1]["command"] = json!(["sh", "-c", "echo changed"]);
    s.save(1, &edited);
    let tmp = s.dir.path().join("it's tmp");
    std::fs::create_dir(&tmp).unwrap();
    let out = s
        .command(&["edit", "myapp-pod"])
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("To recreate the pod with your changes: "))
        .unwrap_or_else(|| panic!("no way forward named: {stderr}"));
    assert!(
        line.starts_with("kubectl initctl restart myapp-pod -n seed --from '"),
        "{line}"
    );
    assert!(s.writes().is_empty(), "the refusal sent nothing");
    let Some(kubectl) = harness::kubectl("the pasted restart --from command") else {
        return;
    };
    let bin = s.dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(harness::bin(), bin.join("kubectl-initctl")).unwrap();
    std::os::unix::fs::symlink(&kubectl, bin.join("kubectl")).unwrap();
    let pasted = harness::scrubbed(Path::new("/bin/sh"))
        .args(["-c", &format!("{line} --yes")])
        .env("PATH", &bin)
        .env("HOME", s.dir.path())
        .env("KUBECONFIG", &s.kubeconfig)
        .env("XDG_STATE_HOME", s.state())
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&pasted.stdout),
        String::from_utf8_lossy(&pasted.stderr),
    );
    assert!(pasted.status.success(), "{line}: {stderr}");
    assert!(
        stdout.starts_with("pod/myapp-pod recreated from "),
        "{stdout}"
    );
    assert!(
        stderr.contains("+  - echo changed") || stderr.contains("+- echo changed"),
        "the diff against the live pod is shown first: {stderr}"
    );
    assert!(
        stderr.contains("plan: recreate pod/myapp-pod from "),
        "{stderr}"
    );
    let created = s.pod("myapp-pod").expect("recreated");
    assert_ne!(created["metadata"]["uid"], old_uid);
    assert_eq!(
        created["spec"]["initContainers"][1]["command"],
        json!(["sh", "-c", "echo changed"])
    );
    assert_eq!(s.backups().len(), 3, "backed up first: {:?}", s.backups());
}

#[test]
fn restart_from_refuses_what_it_cannot_recreate_and_changes_nothing() {
    let pod = fixture("init-0of2-myapp-pod.yaml");
    let mut job_pod = fixture("init-error.yaml");
    job_pod["metadata"]["ownerReferences"] = json!([{"apiVersion": "batch/v1", "kind": "Job", "name": "db-migrate-29398080", "uid": "5b0c3a8e-0000-4000-8000-000000000001", "controller": true}]);
    let job_pod_name = job_pod["metadata"]["name"].as_str().unwrap().to_string();
    let s = Session::new(&[pod.clone(), job_pod.clone()]);
    let mut other = pod.clone();
    other["metadata"]["name"] = json!("someone-else");
    let other = write(s.dir.path(), "other.yaml", &other);
    let run = s.run(&[
        "restart",
        "myapp-pod",
        "--from",
        other.to_str().unwrap(),
        "--yes",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("whose name is \"someone-else\", not \"myapp-pod\""),
        "{}",
        run.stderr
    );
    let job_file = write(s.dir.path(), "job-pod.yaml", &job_pod);
    let run = s.run(&[
        "restart",
        &job_pod_name,
        "--from",
        job_file.to_str().unwrap(),
        "--yes",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("belongs to Job/db-migrate-29398080"),
        "{}",
        run.stderr
    );
    let run = s.run(&[
        "restart",
        "deploy/orders",
        "--from",
        job_file.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("--from recreates one bare pod"),
        "{}",
        run.stderr
    );
    let dry = s.run(&[
        "restart",
        "myapp-pod",
        "--from",
        job_file.to_str().unwrap(),
        "--dry-run",
    ]);
    assert_eq!(dry.code, 1, "a pod of another name: {}", dry.stderr);
    let same = write(s.dir.path(), "same.yaml", &pod);
    let dry = s.run(&[
        "restart",
        "myapp-pod",
        "--from",
        same.to_str().unwrap(),
        "--dry-run",
    ]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stderr.contains("recreated unchanged"), "{}", dry.stderr);
    assert!(dry.stderr.contains("nothing was changed"), "{}", dry.stderr);
    assert!(s.writes().is_empty(), "{:?}", s.writes());
}

#[test]
fn windows_line_endings_reach_the_editor_and_read_back_as_the_same_pod() {
    let pod = fixture("init-0of2-myapp-pod.yaml");
    let s = Session::new(std::slice::from_ref(&pod));
    let run = s.run(&["edit", "myapp-pod", "--windows-line-endings"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "Edit cancelled, no changes made.\n");
    let seen = std::fs::read_to_string(s.dir.path().join("seen-1.yaml")).unwrap();
    assert!(seen.contains("kind: Pod\r\n"), "CRLF in the editor's file");
    assert_eq!(seen.matches('\n').count(), seen.matches("\r\n").count());
    // The default on Linux is the platform's LF; =false is accepted as kubectl accepts it.
    let run = s.run(&["edit", "myapp-pod", "--windows-line-endings=false"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let seen = std::fs::read_to_string(s.dir.path().join("seen-2.yaml")).unwrap();
    assert!(!seen.contains('\r'));
}
