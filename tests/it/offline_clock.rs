//! The offline clock: with `-f`, ages are measured as of the newest time in the input (one
//! stderr note says so), or `--as-of TIME|now`; a pinned clock (KUBECTL_INITCTL_NOW) stands for
//! an `--as-of`. `--as-of` without `-f` is a usage error.

use std::path::Path;

use serde_json::{Value, json};

use crate::apiserver::ApiServer;
use crate::harness::{self, NOW, Run, table};

/// A dump taken at 10:04:00Z: a pod created at 10:00, its init container running since 10:01,
/// and an event seen last at 10:04.
fn dump() -> Value {
    json!({
        "apiVersion": "v1",
        "items": [
            {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "web-0", "namespace": "shop", "uid": "u-1",
                    "creationTimestamp": "2026-11-27T10:00:00Z",
                    "managedFields": [{"manager": "kubelet", "operation": "Update",
                        "time": "2026-11-28T00:00:00Z", "fieldsType": "FieldsV1",
                        "fieldsV1": {"f:status": {"f:phase": {}}}}]},
                "spec": {
                    "initContainers": [{"name": "wait-db", "image": "busybox:1.36"}],
                    "containers": [{"name": "app", "image": "nginx:1.27"}],
                    "nodeName": "node-1"},
                "status": {
                    "phase": "Pending", "startTime": "2026-11-27T10:00:05Z",
                    "conditions": [
                        {"type": "Initialized", "status": "False",
                         "lastTransitionTime": "2026-11-27T10:00:05Z",
                         "reason": "ContainersNotInitialized"},
                        {"type": "PodScheduled", "status": "True",
                         "lastTransitionTime": "2026-11-27T10:00:01Z"}],
                    "initContainerStatuses": [{"name": "wait-db", "image": "busybox:1.36",
                        "imageID": "", "ready": false, "restartCount": 0, "started": true,
                        "state": {"running": {"startedAt": "2026-11-27T10:01:00Z"}}}],
                    "containerStatuses": [{"name": "app", "image": "nginx:1.27", "imageID": "",
                        "ready": false, "restartCount": 0, "started": false,
                        "state": {"waiting": {"reason": "PodInitializing"}}}]}
            },
            {
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": "web-0.1", "namespace": "shop",
                    "creationTimestamp": "2026-11-27T10:01:00Z"},
                "involvedObject": {"kind": "Pod", "name": "web-0", "namespace": "shop"},
                "reason": "Started", "message": "Started container wait-db", "type": "Normal",
                "firstTimestamp": "2026-11-27T10:01:00Z", "lastTimestamp": "2026-11-27T10:04:00Z",
                "count": 1
            }
        ],
        "kind": "List",
        "metadata": {"resourceVersion": ""}
    })
}

/// The dump as JSON and as YAML, in `dir`.
fn write_dumps(dir: &Path) -> [String; 2] {
    let json = dir.join("dump.json");
    std::fs::write(&json, serde_json::to_string_pretty(&dump()).unwrap()).unwrap();
    let yaml = dir.join("dump.yaml");
    std::fs::write(&yaml, serde_saphyr::to_string(&dump()).unwrap()).unwrap();
    [json, yaml].map(|p| p.to_str().unwrap().to_string())
}

/// `kubectl-initctl ARGS` with the wall clock (no KUBECTL_INITCTL_NOW), or `pinned`.
fn run(args: &[&str], pinned: Option<&str>) -> Run {
    let mut cmd = harness::scrubbed(&harness::bin());
    cmd.env_remove("KUBECTL_INITCTL_NOW");
    if let Some(now) = pinned {
        cmd.env("KUBECTL_INITCTL_NOW", now);
    }
    let out = cmd.args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn age(run: &Run) -> String {
    let rows = table(run.ok());
    assert_eq!(rows.len(), 2, "a header and one row: {}", run.stdout);
    assert_eq!(rows[0].last().map(String::as_str), Some("AGE"));
    rows[1].last().cloned().unwrap_or_default()
}

const NOTE: &str = "note: ages are as of 2026-11-27T10:04:00Z, the newest time in the input; --as-of now for the current time\n";

#[test]
fn a_dump_reads_as_of_its_newest_time_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    for file in write_dumps(dir.path()) {
        let status = run(&["status", "-f", &file], None);
        // 10:00 to 10:04, whenever it is read (managedFields times are not moments that happened).
        assert_eq!(age(&status), "4m", "{file}");
        assert_eq!(status.stderr, NOTE, "{file}");
        let explain = run(&["explain", "web-0", "-n", "shop", "-f", &file], None);
        assert!(explain.ok().contains("wait-db"), "{}", explain.stdout);
        assert_eq!(explain.stderr, NOTE, "{file}");
    }
    // stdin too.
    let mut cmd = harness::scrubbed(&harness::bin());
    cmd.env_remove("KUBECTL_INITCTL_NOW")
        .args(["status", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let text = serde_json::to_string(&dump()).unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), NOTE);
    assert!(String::from_utf8_lossy(&out.stdout).contains(" 4m\n"));
}

#[test]
fn as_of_a_time_or_now_replaces_the_inputs_clock_without_a_note() {
    let dir = tempfile::tempdir().unwrap();
    for file in write_dumps(dir.path()) {
        let at = run(
            &["status", "-f", &file, "--as-of", "2026-11-27T11:00:00Z"],
            None,
        );
        assert_eq!(age(&at), "60m");
        assert_eq!(at.stderr, "");
        // An offset is the same moment.
        let offset = run(
            &[
                "status",
                "-f",
                &file,
                "--as-of",
                "2026-11-27T12:00:00+01:00",
            ],
            None,
        );
        assert_eq!(age(&offset), "60m");
        // `now`: the wall clock, later than the dump (so not its 4m), and no note.
        let now = run(&["status", "-f", &file, "--as-of", "now"], None);
        assert_ne!(age(&now), "4m");
        assert_eq!(now.stderr, "");
    }
}

#[test]
fn a_pinned_clock_stands_for_as_of() {
    let dir = tempfile::tempdir().unwrap();
    let [json, _] = write_dumps(dir.path());
    // KUBECTL_INITCTL_NOW (12:00) is the clock, as `--as-of` would be; `--as-of now` is it too.
    let pinned = run(&["status", "-f", &json], Some(NOW));
    assert_eq!(age(&pinned), "120m");
    assert_eq!(pinned.stderr, "");
    let now = run(&["status", "-f", &json, "--as-of", "now"], Some(NOW));
    assert_eq!(age(&now), "120m");
    // An explicit time beats the pinned clock.
    let at = run(
        &["status", "-f", &json, "--as-of", "2026-11-27T10:30:00Z"],
        Some(NOW),
    );
    assert_eq!(age(&at), "30m");
}

#[test]
fn a_bad_as_of_is_one_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let [json, _] = write_dumps(dir.path());
    let bad = run(&["status", "-f", &json, "--as-of", "yesterday"], None);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert_eq!(
        bad.stderr.lines().next().unwrap(),
        "error: invalid value 'yesterday' for '--as-of <TIME>': expected an RFC 3339 time such as 2026-11-27T10:04:00Z, or \"now\""
    );
    assert_eq!(bad.stdout, "");
}

#[test]
fn as_of_with_a_cluster_is_refused() {
    let server = ApiServer::start();
    let kubeconfig = server.kubeconfig(Some("shop"));
    for command in ["status", "explain"] {
        let run = run(
            &[
                command,
                "--kubeconfig",
                kubeconfig.to_str().unwrap(),
                "--as-of",
                "now",
            ],
            None,
        );
        // Next to a connection flag it is refused as a conflict (clap does not ask for a
        // --filename that would conflict with the flag given); alone, -f is asked for.
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.starts_with(
                "error: the argument '--as-of <TIME>' cannot be used with:\n  --kubeconfig <PATH>"
            ),
            "{}",
            run.stderr
        );
        let alone = self::run(&[command, "--as-of", "now"], None);
        assert_eq!(alone.code, 2, "{}", alone.stderr);
        assert!(
            alone.stderr.starts_with(
                "error: the following required arguments were not provided:\n  --filename <FILE>"
            ),
            "{}",
            alone.stderr
        );
    }
    assert!(server.requests().is_empty(), "refused before any request");
}
