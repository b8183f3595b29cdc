//! Bad offline input (`-f`, and `check OLD NEW`): one `error: FILE:LINE:COLUMN: …` line, exit 1,
//! never a panic, in every command that reads files; and a bound on how much one input may hold.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::{self, Run, initctl};

fn fixture(name: &str) -> PathBuf {
    harness::fixtures().join("bad-input").join(name)
}

/// The one error line of `status -f`, `explain -f` and `check FILE FILE` on the same file:
/// all three must say the same thing.
#[track_caller]
fn same_error_everywhere(file: &Path) -> String {
    let path = file.to_str().unwrap();
    let status = initctl(&["status", "-f", path], None);
    let line = status.one_error_line(1).to_string();
    let explain = initctl(&["explain", "-f", path], None);
    assert_eq!(
        explain.one_error_line(1),
        line,
        "explain says what status says"
    );
    let check = initctl(&["check", path, path], None);
    assert_eq!(check.one_error_line(1), line, "check says what status says");
    line
}

#[test]
fn invalid_utf8_names_the_first_bad_byte() {
    let file = fixture("invalid-utf8.yaml");
    let line = same_error_everywhere(&file);
    assert_eq!(
        line,
        format!(
            "error: {}:4:12: invalid UTF-8 (byte 0xff): the input must be UTF-8 text",
            file.display()
        )
    );
}

#[test]
fn an_alias_bomb_is_refused_in_one_complete_sentence() {
    let file = fixture("alias-bomb.yaml");
    let started = Instant::now();
    let line = same_error_everywhere(&file);
    // A bound against a hang (an expanding bomb never ends), not a speed claim: generous
    // enough for a loaded 2-core machine running the whole suite (it takes ~1 s of CPU).
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "refused, not expanded forever"
    );
    let prefix = format!("error: {}:11:15: ", file.display());
    assert!(line.starts_with(&prefix), "{line}");
    assert!(
        line.contains("more than 250000 nodes"),
        "names the limit: {line}"
    );
    assert!(
        line.ends_with("through an alias of the anchor at line 10, column 9"),
        "one whole sentence, naming the anchor: {line}"
    );
}

#[test]
fn duplicate_keys_name_the_key_and_where() {
    let yaml = fixture("duplicate-key.yaml");
    assert_eq!(
        same_error_everywhere(&yaml),
        format!(
            "error: {}:10:5: key \"image\" already set in this mapping: YAML keys must be unique",
            yaml.display()
        )
    );
    let json = fixture("duplicate-key.json");
    let line = same_error_everywhere(&json);
    assert!(
        line.starts_with(&format!("error: {}:4:", json.display())),
        "{line}"
    );
    assert!(line.contains("key \"name\" already set"), "{line}");
    assert!(!line.contains("DuplicateKeyPolicy"), "{line}");
}

#[test]
fn a_pod_without_a_name_is_refused_everywhere() {
    let yaml = fixture("no-name.yaml");
    assert_eq!(
        same_error_everywhere(&yaml),
        format!("error: {}:4:3: Pod has no metadata.name", yaml.display())
    );
    // In a list: the position is inside the nameless item (line 6), not the list's start.
    let json = fixture("no-name-in-list.json");
    let line = same_error_everywhere(&json);
    assert!(
        line.starts_with(&format!("error: {}:6:", json.display()))
            && line.ends_with(": Pod has no metadata.name"),
        "{line}"
    );
    let empty = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        empty.path(),
        "kind: Pod\nmetadata:\n  name: \"\"\nspec:\n  containers: []\n",
    )
    .unwrap();
    let line = same_error_everywhere(empty.path());
    assert!(line.ends_with("Pod has no metadata.name"), "{line}");
}

#[test]
fn yaml_1_1_scalars_read_as_kubectl_reads_them_in_every_command() {
    // `nodeName: n` is the boolean false for kubectl (go-yaml v2), which the API server refuses
    // for a string field: every command refuses it, at the scalar, saying how to write it.
    let file = fixture("yaml11-boolean.yaml");
    assert_eq!(
        same_error_everywhere(&file),
        format!(
            "error: {}:8:13: a string is expected, but YAML (as kubectl reads it) takes the plain \"n\" for a boolean: quote it, as \"n\"",
            file.display()
        )
    );
    // Quoted, every command reads the node's name.
    let quoted = fixture("yaml11-quoted.yaml");
    let path = quoted.to_str().unwrap();
    let status = initctl(&["status", "-o", "json", "-f", path], None);
    assert!(status.ok().contains("\"pinned\""), "{}", status.stdout);
    let explain = initctl(&["explain", "-f", path], None);
    assert!(explain.ok().contains("pod/pinned"), "{}", explain.stdout);
    let check = initctl(&["check", path, path], None);
    assert!(check.ok().contains("no change"), "{}", check.stdout);
}

/// `kubectl-initctl ARGS` with a byte limit for each input, stdin from `stdin`.
fn with_limit(args: &[&str], limit: &str, stdin: Stdio) -> Run {
    let out = harness::scrubbed(&harness::bin())
        .args(args)
        .env("KUBECTL_INITCTL_MAX_INPUT_BYTES", limit)
        .stdin(stdin)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn input_beyond_the_byte_limit_is_refused_even_when_endless() {
    let started = Instant::now();
    let run = with_limit(&["status", "-f", "/dev/zero"], "65536", Stdio::null());
    assert_eq!(
        run.one_error_line(1),
        "error: /dev/zero: larger than 65536 bytes, the most one input may hold; refused (set KUBECTL_INITCTL_MAX_INPUT_BYTES to a larger number of bytes to raise the limit)"
    );
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let run = with_limit(&["check", "-", "/dev/zero"], "65536", Stdio::from(zero));
    assert!(
        run.one_error_line(1)
            .starts_with("error: <stdin>: larger than 65536 bytes"),
        "{}",
        run.stderr
    );
    assert!(started.elapsed() < Duration::from_secs(20));

    // Under the limit, the same file reads; a limit that is not a number is named.
    let pod = harness::fixtures().join("pods/completed.yaml");
    let path = pod.to_str().unwrap();
    with_limit(&["status", "-f", path], "1048576", Stdio::null()).ok();
    let run = with_limit(&["status", "-f", path], "100", Stdio::null());
    assert!(
        run.one_error_line(1).contains("larger than 100 bytes"),
        "{}",
        run.stderr
    );
    let run = with_limit(&["status", "-f", path], "1GiB", Stdio::null());
    assert!(
        run.one_error_line(1)
            .contains("KUBECTL_INITCTL_MAX_INPUT_BYTES=\"1GiB\" is not a number of bytes"),
        "{}",
        run.stderr
    );
}

/// The peak resident memory (VmHWM) of `kubectl-initctl ARGS`, read from /proc while it runs
/// (the last reading before it exits, so at most a little under the true peak). None where
/// there is no /proc.
fn peak_rss_kib(args: &[&str]) -> Option<u64> {
    std::fs::metadata("/proc/self/status").ok()?;
    let mut child = harness::scrubbed(&harness::bin())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status)
            && let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kib);
        }
        if let Some(exit) = child.try_wait().unwrap() {
            assert!(exit.success(), "{args:?} failed");
            return Some(peak);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_large_dump_is_read_in_bounded_memory() {
    // 3,000 pods as `kubectl get pods -A -o json` prints them (indented): about 11 MB.
    let pod = |i: usize| {
        serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("web-{i}"), "namespace": format!("ns-{}", i % 7),
                "uid": format!("00000000-0000-0000-0000-{i:012}"),
                "labels": {"app": "web", "pod-template-hash": "abc123"},
                "creationTimestamp": "2026-11-27T10:00:00Z"},
            "spec": {
                "initContainers": [{"name": "init-db", "image": "busybox:1.36",
                    "command": ["sh", "-c", "until nslookup db; do sleep 2; done"]}],
                "containers": [{"name": "app", "image": "nginx:1.27",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}],
                "nodeName": format!("node-{}", i % 100)},
            "status": {"phase": "Running", "startTime": "2026-11-27T10:00:01Z",
                "conditions": [{"type": "Ready", "status": "True"}],
                "initContainerStatuses": [{"name": "init-db", "image": "busybox:1.36",
                    "imageID": "docker.io/library/busybox@sha256:abc", "ready": true,
                    "restartCount": 0, "state": {"terminated": {"exitCode": 0,
                    "reason": "Completed", "startedAt": "2026-11-27T10:00:02Z",
                    "finishedAt": "2026-11-27T10:00:05Z"}}}],
                "containerStatuses": [{"name": "app", "image": "nginx:1.27",
                    "imageID": "docker.io/library/nginx@sha256:def", "ready": true,
                    "restartCount": 0, "started": true,
                    "state": {"running": {"startedAt": "2026-11-27T10:00:06Z"}}}]}
        })
    };
    let list = serde_json::json!({
        "apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
        "items": (0..3000).map(pod).collect::<Vec<_>>(),
    });
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("dump.json");
    let text = serde_json::to_string_pretty(&list).unwrap();
    std::fs::write(&big, &text).unwrap();
    let small = harness::fixtures().join("pods/completed.yaml");

    let Some(baseline) = peak_rss_kib(&["status", "-A", "-f", small.to_str().unwrap()]) else {
        eprintln!("note: no /proc; skipping the memory measurement");
        return;
    };
    let peak = peak_rss_kib(&["status", "-A", "-f", big.to_str().unwrap()]).unwrap();
    // The text while it is read, the pods as compact JSON, one page of typed pods: well under
    // three times the input (holding every pod as JSON values and typed took over eight).
    let input_kib = text.len() as u64 / 1024;
    assert!(
        peak.saturating_sub(baseline) < 3 * input_kib,
        "peak {peak} KiB, baseline {baseline} KiB, input {input_kib} KiB"
    );
}

/// A Pod of `kubectl get pods -o json`, with managedFields as the API server returns them.
fn streamed_pod(name: &str, namespace: &str, app: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "uid": format!("uid-{name}"),
            "labels": {"app": app}, "creationTimestamp": "2026-11-27T11:00:00Z",
            "managedFields": [{"apiVersion": "v1", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}},
                "manager": "kube-controller-manager", "operation": "Update",
                "time": "2026-11-27T11:00:00Z"}]},
        "spec": {"initContainers": [{"name": "init-db", "image": "busybox:1.36"}],
                 "containers": [{"name": "app", "image": "nginx:1.27"}]},
        "status": {"phase": "Pending",
            "initContainerStatuses": [{"name": "init-db", "image": "busybox:1.36", "imageID": "",
                "ready": false, "restartCount": 0,
                "state": {"running": {"startedAt": "2026-11-27T11:00:05Z"}}}]}
    })
}

#[test]
fn a_workload_listed_after_its_pods_selects_them_from_a_file_or_stdin() {
    // kubectl prints `get pods,deploy -o json` pods first: the selector comes last.
    let list = serde_json::json!({
        "apiVersion": "v1",
        "items": [
            streamed_pod("web-1", "shop", "web"),
            streamed_pod("cache-1", "shop", "cache"),
            streamed_pod("web-2", "other", "web"),
            streamed_pod("web-3", "shop", "web"),
            {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": "web", "namespace": "shop", "uid": "d-1"},
             "spec": {"selector": {"matchLabels": {"app": "web"}}}}
        ],
        "kind": "List", "metadata": {"resourceVersion": ""}
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dump.json");
    let text = serde_json::to_string_pretty(&list).unwrap();
    std::fs::write(&file, &text).unwrap();
    let names = |out: &str| {
        out.lines()
            .skip(1)
            .map(|l| l.split_whitespace().next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let args = ["status", "deploy/web", "-n", "shop", "-f"];
    let run = initctl(&[&args[..], &[file.to_str().unwrap()]].concat(), None);
    assert_eq!(names(run.ok()), ["web-1", "web-3"], "{}", run.stdout);
    let piped = harness::initctl_stdin(&[&args[..], &["-"]].concat(), &text);
    assert_eq!(piped.ok(), run.stdout, "stdin reads as the file does");
}

#[test]
fn only_managed_fields_arrays_are_passed_over_not_what_is_named_like_them() {
    // The second pass blanks managedFields arrays before decoding: a label of that name, text
    // about them in an annotation, and the escaped keys of their ownerReferences entries (as
    // kube-controller-manager writes them) must all read as they are.
    let mut kept = streamed_pod("kept", "shop", "web");
    kept["metadata"]["labels"]["managedFields"] = serde_json::json!("kept");
    kept["metadata"]["annotations"] =
        serde_json::json!({"note": "\"managedFields\":[{\"manager\":\"x\"}], ] \\"});
    kept["metadata"]["managedFields"][0]["fieldsV1"]["f:metadata"]["f:ownerReferences"] =
        serde_json::json!({"k:{\"uid\":\"d-1\"}": {".": {}, "f:name": {}}});
    let mut other = streamed_pod("other", "shop", "web");
    other["metadata"]["labels"]["managedFields"] = serde_json::json!("other");
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [kept, other]});
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dump.json");
    std::fs::write(&file, serde_json::to_string_pretty(&list).unwrap()).unwrap();
    let path = file.to_str().unwrap();
    let run = initctl(&["status", "-f", path, "-l", "managedFields=kept"], None);
    let rows: Vec<&str> = run.ok().lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{}", run.stdout);
    assert!(rows[0].starts_with("kept "), "{}", run.stdout);
    let all = initctl(&["status", "-f", path, "-o", "name"], None);
    assert_eq!(all.ok(), "pod/kept\npod/other\n");
}

#[test]
fn a_stream_of_json_objects_gives_every_pod_once_in_order() {
    // Objects one after another (`kubectl get pod a -o json; kubectl get pod b -o json`), named
    // pods found in one reading and printed as one table.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stream.json");
    let text = ["b-pod", "a-pod", "c-pod"]
        .map(|n| serde_json::to_string_pretty(&streamed_pod(n, "shop", "x")).unwrap())
        .join("\n");
    std::fs::write(&file, text).unwrap();
    let path = file.to_str().unwrap();
    let all = initctl(&["status", "-f", path], None);
    let rows: Vec<&str> = all.ok().lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{}", all.stdout);
    assert!(rows[0].starts_with("b-pod ") && rows[2].starts_with("c-pod "));
    let named = initctl(
        &["status", "c-pod", "b-pod", "-n", "shop", "-f", path],
        None,
    );
    assert_eq!(named.ok().lines().count(), 3, "{}", named.stdout);
    let missing = initctl(&["status", "nope", "-n", "shop", "-f", path], None);
    assert_eq!(missing.one_error_line(1), "error: pods \"nope\" not found");
}

#[test]
fn a_wrongly_typed_field_deep_in_a_streamed_dump_is_located_everywhere() {
    let mut items: Vec<serde_json::Value> = (0..40)
        .map(|i| streamed_pod(&format!("web-{i}"), "shop", "web"))
        .collect();
    items[33]["spec"]["containers"] = serde_json::json!(7);
    let list = serde_json::json!({"apiVersion": "v1", "items": items, "kind": "List"});
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dump.json");
    let text = serde_json::to_string_pretty(&list).unwrap();
    std::fs::write(&file, &text).unwrap();
    let line = text
        .lines()
        .position(|l| l.trim_start().starts_with("\"containers\": 7"))
        .unwrap()
        + 1;
    let error = same_error_everywhere(&file);
    let prefix = format!("error: {}:{line}:", file.display());
    assert!(error.starts_with(&prefix), "{error}");
    assert!(
        error.ends_with("invalid type: integer `7`, expected a sequence"),
        "{error}"
    );
}

#[test]
fn a_file_the_fast_reading_leaves_to_the_slow_one_is_read_whole_both_times() {
    // A top-level `items` array on objects that are no lists: the fast reading cuts such an array
    // and gives the file up; the second pass used to take the fast way anyway and call the file
    // changed. Both passes now go the way the first one went.
    let mut pod = streamed_pod("odd-pod", "shop", "x");
    pod["items"] = serde_json::json!([1, 2]);
    let config = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cm", "namespace": "shop"}, "items": ["a"]});
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("odd.json");
    let text = [&config, &pod, &streamed_pod("plain-pod", "shop", "x")]
        .map(|o| serde_json::to_string_pretty(o).unwrap())
        .join("\n");
    std::fs::write(&file, text).unwrap();
    let run = initctl(&["status", "-f", file.to_str().unwrap()], None);
    let names: Vec<&str> = run
        .ok()
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names, ["odd-pod", "plain-pod"], "{}", run.stdout);
}
