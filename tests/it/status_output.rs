//! `status` output formats over the `-o json` items: `-o name`, `-o jsonpath=`, `-o
//! custom-columns=`, `--sort-by`, `--stuck`, and columns that stay put across pages.

use serde_json::{Value, json};

use crate::apiserver::ApiServer;
use crate::harness::{initctl, table};

fn dump() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/cluster-dump.yaml")
        .to_string_lossy()
        .into_owned()
}

fn status(args: &[&str]) -> crate::harness::Run {
    let dump = dump();
    let mut all = vec!["status", "-f", dump.as_str()];
    all.extend_from_slice(args);
    initctl(&all, None)
}

#[test]
fn name_prints_pod_slash_name_for_every_item() {
    let run = status(&["-o", "name"]);
    let lines: Vec<&str> = run.ok().lines().collect();
    assert_eq!(lines.len(), 7, "{}", run.stdout);
    assert_eq!(lines[0], "pod/batch-ingest-6f4c8d7b9-n7vq2");
    assert!(lines.contains(&"pod/myapp-pod"));
    assert!(lines.iter().all(|l| l.starts_with("pod/")));
}

#[test]
fn jsonpath_runs_over_the_list_or_the_one_named_pod_as_kubectl() {
    let run = status(&[
        "-o",
        r#"jsonpath={range .items[?(@.init.current)]}{.name}{"\t"}{.init.current}{"\n"}{end}"#,
    ]);
    assert_eq!(
        run.ok(),
        "billing-worker-7b9d6c8f5-4hx2m\tinit-migrate\nmyapp-pod\tinit-myservice\nreports-6b8f7c9d5-q4tzn\tinit-vault\n"
    );
    // One named pod: the template sees the item itself.
    let one = status(&[
        "myapp-pod",
        "-o",
        "jsonpath={.status} {.initContainers[*].name}",
    ]);
    assert_eq!(one.ok(), "Init:0/2 init-myservice init-mydb");
    // A missing key prints nothing (kubectl's --allow-missing-template-keys=true); a null one too.
    let missing = status(&["myapp-pod", "-o", "jsonpath=[{.nope}][{.owner.kind}]"]);
    assert_eq!(missing.ok(), "[][]");
    let as_json = status(&["myapp-pod", "-o", "jsonpath-as-json={.init}"]);
    let parsed: Value = serde_json::from_str(as_json.ok()).unwrap();
    assert_eq!(
        parsed,
        json!([{"done": 0, "total": 2, "current": "init-myservice"}])
    );
}

#[test]
fn custom_columns_show_none_where_a_field_is_missing() {
    let run = status(&[
        "-o",
        "custom-columns=POD:.name,NODE:{.node},IMAGES:.initContainers[*].image",
    ]);
    let rows = table(run.ok());
    assert_eq!(rows[0], ["POD", "NODE", "IMAGES"]);
    let gated = rows
        .iter()
        .find(|r| r[0] == "batch-ingest-6f4c8d7b9-n7vq2")
        .unwrap();
    assert_eq!(gated[1], "<none>", "not scheduled: no node");
    let myapp = rows.iter().find(|r| r[0] == "myapp-pod").unwrap();
    assert_eq!(myapp[1..], ["seed-worker", "busybox:1.28,busybox:1.28"]);
    let headerless = status(&["--no-headers", "-o", "custom-columns=N:name"]);
    assert_eq!(table(headerless.ok()).len(), 7);
}

#[test]
fn sort_by_orders_numbers_by_value_strings_naturally_and_age_by_time() {
    let names = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["-o", "name"];
        all.extend_from_slice(args);
        status(&all)
            .ok()
            .lines()
            .map(|l| l.trim_start_matches("pod/").to_string())
            .collect()
    };
    let by_restarts = names(&["--sort-by", "{.restarts}"]);
    assert_eq!(
        by_restarts[5..],
        [
            "ledger-api-5f6d7c8b9-cx8vn",
            "billing-worker-7b9d6c8f5-4hx2m"
        ],
        "1 then 11 restarts, last"
    );
    // Ties keep the listing's order (stable).
    assert_eq!(
        by_restarts[..5],
        [
            "batch-ingest-6f4c8d7b9-n7vq2",
            "ml-trainer-5d8c7b6f9-k2h7x",
            "myapp-pod",
            "orders-api-7d9c8b6f5-tq2lb",
            "reports-6b8f7c9d5-q4tzn"
        ]
    );
    // AGE is a rounded text ("402d", "5d", "2d1h"): sorted by the creation time underneath,
    // youngest first; "orders-api" (402 days) is last, though "402d" < "5d" as text.
    let by_age = names(&["--sort-by", ".age"]);
    assert_eq!(by_age.last().unwrap(), "orders-api-7d9c8b6f5-tq2lb");
    assert_eq!(by_age[5], "ledger-api-5f6d7c8b9-cx8vn");
    // Relaxed paths as kubectl takes them; the table is sorted too.
    let table_sorted = status(&["--sort-by", "status"]);
    let statuses: Vec<String> = table(table_sorted.ok())[1..]
        .iter()
        .map(|r| r[2].clone())
        .collect();
    let mut expected = statuses.clone();
    expected.sort();
    assert_eq!(statuses, expected);
}

#[test]
fn stuck_keeps_only_what_explain_would_explain() {
    let run = status(&["--stuck", "-o", "custom-columns=NAME:.name,STATUS:.status"]);
    let rows = table(run.ok());
    let statuses: Vec<&str> = rows[1..].iter().map(|r| r[1].as_str()).collect();
    assert_eq!(rows.len(), 6, "{}", run.stdout);
    assert!(!statuses.contains(&"Running"), "{statuses:?}");
    assert!(statuses.contains(&"Init:CrashLoopBackOff"));
}

#[test]
fn a_bad_template_is_one_line_and_exit_1() {
    let line = status(&["-o", "jsonpath={.items[0"])
        .one_error_line(1)
        .to_string();
    assert_eq!(
        line,
        "error: error parsing jsonpath {.items[0, unterminated array"
    );
    let line = status(&["-o", "custom-columns=NAME"])
        .one_error_line(1)
        .to_string();
    assert_eq!(
        line,
        "error: unexpected custom-columns spec: NAME, expected <header>:<json-path-expr>"
    );
    let line = status(&["--sort-by", "{.nope}"])
        .one_error_line(1)
        .to_string();
    assert_eq!(
        line,
        "error: couldn't find any field with path \"{.nope}\" in the list of objects"
    );
    let line = status(&["-o", "jsonpath={.items[9].name}"])
        .one_error_line(1)
        .to_string();
    assert!(
        line.contains("array index out of bounds: index 9, length 7"),
        "{line}"
    );
    let run = status(&["-o", "bogus"]);
    assert_eq!(run.code, 2, "an unknown format is a usage error");
}

fn pod(name: &str, restarts: i32) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "bulk", "uid": format!("uid-{name}"),
            "creationTimestamp": "2026-11-27T11:00:00Z"},
        "spec": {"nodeName": "node-1",
            "initContainers": [{"name": "init-schema", "image": "busybox:1.36"}],
            "containers": [{"name": "app", "image": "nginx:1.27"}]},
        "status": {"phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "initContainerStatuses": [{"name": "init-schema", "image": "busybox:1.36", "imageID": "",
                "ready": true, "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                    "startedAt": "2026-11-27T11:00:05Z", "finishedAt": "2026-11-27T11:00:09Z"}}}],
            "containerStatuses": [{"name": "app", "image": "nginx:1.27", "imageID": "", "ready": true,
                "started": true, "restartCount": restarts,
                "state": {"running": {"startedAt": "2026-11-27T11:00:10Z"}}}]}})
}

/// Where each column starts on a line, given the cells it holds.
fn starts(line: &str, cells: &[&str]) -> Vec<usize> {
    let mut at = 0;
    cells
        .iter()
        .map(|cell| {
            let found = line[at..].find(cell).unwrap() + at;
            at = found + cell.len();
            found
        })
        .collect()
}

#[test]
fn columns_stay_put_from_page_to_page() {
    // 1201 pods, three pages of 500 from the server: the last page holds a longer name; every
    // page before it keeps the first page's columns.
    let server = ApiServer::start();
    for i in 0..1200 {
        server.insert(pod(
            &format!("web-{i:04}"),
            if i == 1100 { 1234 } else { 0 },
        ));
    }
    server.insert(pod("zz-a-much-longer-name-on-the-last-page", 0));
    let kubeconfig = server.kubeconfig(Some("bulk"));
    let run = initctl(&["status", "--sort-by", "{.restarts}"], Some(&kubeconfig));
    // Sorted output is aligned once, like kubectl.
    assert_eq!(run.ok().lines().count(), 1202);
    let run = initctl(&["status"], Some(&kubeconfig));
    let lines: Vec<&str> = run.ok().lines().collect();
    assert_eq!(lines.len(), 1202);
    let header = starts(
        lines[0],
        &[
            "NAME", "READY", "STATUS", "INIT", "CURRENT", "RESTARTS", "AGE",
        ],
    );
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .filter(|r| r.query.contains_key("continue"))
            .count()
            >= 2,
        "listed in pages"
    );
    let starts_of = |line: &str| {
        let cells: Vec<String> = table(line).remove(0);
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        starts(line, &cells)
    };
    // Pages 1 and 2 (rows 1..=1000) sit exactly on the header's columns.
    for line in &lines[1..=1000] {
        assert_eq!(starts_of(line), header, "{line}");
    }
    // The last page holds the long name: its columns widen (never narrow), once, and all its
    // rows share them.
    let last = starts_of(lines[1001]);
    assert!(last[1] > header[1] && last[2..].iter().zip(&header[2..]).all(|(l, h)| l >= h));
    for line in &lines[1001..] {
        assert_eq!(starts_of(line), last, "{line}");
    }
}
