//! `kubectl initctl explain`: every row of the diagnosis catalogue (docs/explain.md) on realistic scenarios
//! (tests/fixtures/explain), through the real binary against the stand-in server; the request
//! budget; 403s that narrow instead of failing; offline input; text output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::apiserver::ApiServer;
use crate::harness::{self, NOW, initctl, kubectl_initctl};

#[derive(Debug, serde::Deserialize)]
struct Expected {
    pod: String,
    stage: String,
    first: String,
    codes: Vec<String>,
    #[serde(default)]
    mentions: Vec<String>,
}

fn dir() -> PathBuf {
    harness::fixtures().join("explain")
}

fn scenarios() -> BTreeMap<String, Expected> {
    read_scenarios(&dir())
}

/// The scenarios of `dir/expected.yaml` (written for the clock `NOW`), by name.
pub(crate) fn read_scenarios<T: serde::de::DeserializeOwned>(dir: &Path) -> BTreeMap<String, T> {
    let doc: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(dir.join("expected.yaml")).unwrap())
            .unwrap();
    assert_eq!(doc["now"], NOW);
    serde_json::from_value(doc["scenarios"].clone()).unwrap()
}

/// Loads a scenario (objects and logs) into a fresh server.
fn serve(scenario: &str) -> ApiServer {
    serve_scenario(&dir(), scenario, &scenarios()[scenario].pod)
}

/// A fresh server with a scenario's objects (`DIR/SCENARIO.yaml`) and the logs of `pod`'s
/// containers (`DIR/SCENARIO.logs/CONTAINER.log`, `CONTAINER.previous.log`).
pub(crate) fn serve_scenario(dir: &Path, scenario: &str, pod: &str) -> ApiServer {
    let server = ApiServer::start();
    server.load_file(dir.join(format!("{scenario}.yaml")));
    let logs = dir.join(format!("{scenario}.logs"));
    if logs.is_dir() {
        for entry in std::fs::read_dir(&logs).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_str().unwrap().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let (container, previous) = match file.strip_suffix(".previous.log") {
                Some(c) => (c.to_string(), true),
                None => (file.trim_end_matches(".log").to_string(), false),
            };
            server.set_log("seed", pod, &container, previous, &text);
        }
    }
    server
}

pub(crate) fn explain_json(args: &[&str], kubeconfig: Option<&Path>) -> Value {
    let run = initctl(&[&["explain", "-o", "json"], args].concat(), kubeconfig);
    serde_json::from_str(run.ok()).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// Every message, evidence line and next step, as the user reads them.
pub(crate) fn text_of(item: &Value) -> String {
    let mut text = String::new();
    for f in item["findings"].as_array().unwrap() {
        text.push_str(f["message"].as_str().unwrap());
        text.push('\n');
        for e in f["evidence"].as_array().unwrap() {
            text.push_str(e.as_str().unwrap());
            text.push('\n');
        }
        text.push_str(f["next"].as_str().unwrap());
        text.push('\n');
    }
    text
}

fn check(name: &str, want: &Expected, item: &Value, with_logs: bool) {
    let codes: Vec<&str> = item["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(item["name"], want.pod.as_str(), "{name}");
    assert_eq!(item["stage"], want.stage.as_str(), "{name}: {item:#}");
    assert_eq!(
        codes.first().copied(),
        Some(want.first.as_str()),
        "{name}: {codes:?}"
    );
    for code in &want.codes {
        assert!(
            codes.contains(&code.as_str()),
            "{name}: {code} missing from {codes:?}"
        );
    }
    let text = text_of(item);
    for m in &want.mentions {
        if with_logs || !m.contains("log") {
            assert!(
                text.contains(m.as_str()),
                "{name}: {m:?} not mentioned in {text}"
            );
        }
    }
    assert!(
        item["summary"].as_str().unwrap().len() > 10,
        "{name}: a summary sentence"
    );
    for f in item["findings"].as_array().unwrap() {
        assert!(
            !f["next"].as_str().unwrap().is_empty(),
            "{name}: every finding has a next step"
        );
        assert!(
            !f["evidence"].as_array().unwrap().is_empty(),
            "{name}: every finding has evidence"
        );
    }
}

#[test]
fn every_diagnosis_row_names_the_cause() {
    let all = scenarios();
    assert!(
        all.len() >= 25,
        "the scenarios cover the diagnosis catalogue"
    );
    for (name, want) in &all {
        let server = serve(name);
        let doc = explain_json(&[&want.pod], Some(&server.kubeconfig(Some("seed"))));
        assert_eq!(doc["kind"], "ExplanationList");
        check(name, want, &doc["items"][0], true);
    }
}

#[test]
fn offline_dumps_get_the_same_diagnosis() {
    for (name, want) in &scenarios() {
        let file = dir().join(format!("{name}.yaml"));
        let doc = explain_json(&[&want.pod, "-f", file.to_str().unwrap()], None);
        let item = &doc["items"][0];
        // Without logs offline, a log-only finding may differ; stage and cause may not.
        assert_eq!(item["stage"], want.stage.as_str(), "{name}");
        assert_eq!(item["findings"][0]["code"], want.first.as_str(), "{name}");
    }
}

#[test]
fn stays_within_the_request_budget() {
    let server = ApiServer::start();
    for name in [
        "waiting-service-missing",
        "init-crashloop",
        "image-pull-secret-missing",
        "gated",
    ] {
        server.load_file(dir().join(format!("{name}.yaml")));
    }
    let kubeconfig = server.kubeconfig(Some("seed"));
    server.clear_requests();
    let doc = explain_json(&[], Some(&kubeconfig));
    assert!(doc["items"].as_array().unwrap().len() >= 4);
    let requests = server.requests();
    let count = |pred: &dyn Fn(&crate::apiserver::Request) -> bool| {
        requests.iter().filter(|r| pred(r)).count()
    };
    assert_eq!(
        count(&|r| r.path == "/api/v1/namespaces/seed/pods"),
        1,
        "one pods LIST"
    );
    assert_eq!(
        count(&|r| r.path == "/api/v1/namespaces/seed/events"),
        1,
        "one events LIST per namespace"
    );
    assert!(count(&|r| r.path == "/api/v1/namespaces/seed/services") <= 1);
    // A waited-for Service that is missing is looked for once in the other namespaces, by
    // name (fieldSelector), never listed there in full.
    assert!(
        count(&|r| r.path == "/api/v1/services"
            && r.query
                .get("fieldSelector")
                .is_some_and(|f| f.starts_with("metadata.name=")))
            <= 1
    );
    assert_eq!(
        count(&|r| r.path.ends_with("/services")
            && !r.path.starts_with("/api/v1/namespaces/seed/")
            && !r.query.contains_key("fieldSelector")),
        0
    );
    assert!(count(&|r| r.path.ends_with("/endpointslices")) <= 1);
    assert!(count(&|r| r.path.ends_with("/secrets")) <= 1);
    assert_eq!(
        count(&|r| r.path.ends_with("/nodes")),
        0,
        "nodes are not needed here"
    );
    let logs = requests
        .iter()
        .filter(|r| r.path.ends_with("/log"))
        .map(|r| r.path.clone())
        .collect::<Vec<_>>();
    let unique: std::collections::BTreeSet<_> = logs.iter().collect();
    assert_eq!(
        logs.len(),
        unique.len(),
        "at most one log request per pod: {logs:?}"
    );
    assert!(count(&|r| r.method != "GET") == 0, "explain never writes");
}

#[test]
fn forbidden_related_objects_narrow_the_answer() {
    let server = serve("waiting-service-missing");
    server.forbid("list", "events", Some("seed"));
    server.forbid("list", "services", Some("seed"));
    let doc = explain_json(&["myapp-pod"], Some(&server.kubeconfig(Some("seed"))));
    let item = &doc["items"][0];
    let notes = serde_json::to_string(&item["notes"]).unwrap();
    assert!(
        notes.contains("events in seed are not readable: forbidden"),
        "{notes}"
    );
    assert!(
        notes.contains("services in seed are not readable: forbidden"),
        "{notes}"
    );
    assert_eq!(item["stage"], "init");
}

#[test]
fn text_output_reads_as_a_diagnosis() {
    let server = serve("waiting-service-missing");
    let kubeconfig = server.kubeconfig(Some("seed"));
    let run = initctl(&["explain", "myapp-pod"], Some(&kubeconfig));
    let out = run.ok();
    assert!(
        out.starts_with("pod/myapp-pod (namespace seed, Init:0/2)\n  Stuck in init for "),
        "{out}"
    );
    assert!(out.contains("BLOCKER ServiceMissing"), "{out}");
    assert!(
        out.contains("next: create Service myservice in namespace seed"),
        "{out}"
    );
    assert!(!out.contains('\u{1b}'), "no colour off a terminal");
    if let Some(plugin) = kubectl_initctl(&["explain", "myapp-pod"], &kubeconfig) {
        assert_eq!(
            plugin.ok(),
            out,
            "the same through kubectl's plugin discovery"
        );
    }
}

#[test]
fn healthy_scope_has_nothing_to_explain() {
    let server = ApiServer::start();
    server.load_file(harness::fixtures().join("pods/running.yaml"));
    let run = initctl(&["explain"], Some(&server.kubeconfig(Some("seed"))));
    assert_eq!(
        run.ok(),
        "Nothing to explain: every pod in scope is Running and Ready.\n"
    );
}
