//! `check -o json|yaml`: the guard's verdict as a document, with the same exit codes.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::harness::{self, initctl};

fn myapp_pod() -> Value {
    let path = harness::fixtures().join("pods/init-0of2-myapp-pod.yaml");
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn write(dir: &Path, name: &str, pod: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(pod).unwrap()).unwrap();
    path
}

#[test]
fn check_gives_its_verdict_as_a_document() {
    let dir = tempfile::tempdir().unwrap();
    let pod = myapp_pod();
    let old = write(dir.path(), "old.json", &pod);
    let mut edited = pod.clone();
    edited["spec"]["initContainers"][1]["image"] = json!("busybox:1.37");
    edited["metadata"]["labels"]["tier"] = json!("web");
    let image = write(dir.path(), "image.json", &edited);
    let (old, image) = (old.to_str().unwrap(), image.to_str().unwrap());

    let run = initctl(&["check", old, image, "-o", "json"], None);
    let doc: Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(doc["apiVersion"], "initctl/v1");
    assert_eq!(doc["kind"], "EditCheck");
    assert_eq!(doc["pod"], "myapp-pod");
    assert_eq!(doc["classification"], "initImages");
    assert_eq!(doc["allowed"], true);
    let paths: Vec<&str> = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"spec.initContainers[init-mydb].image"),
        "{paths:?}"
    );
    assert!(
        paths.iter().any(|p| p.starts_with("metadata.labels")),
        "{paths:?}"
    );
    let plan = &doc["plan"];
    assert_eq!(plan["action"], "patch", "{plan}");
    assert_eq!(plan["images"][0]["name"], "init-mydb");
    assert_eq!(
        plan["images"][0]["index"], 2,
        "1-based, as status numbers them"
    );
    assert_eq!(plan["images"][0]["new"], "busybox:1.37");
    assert_eq!(
        plan["images"][0]["effect"], "runsByItself",
        "not started yet: {plan}"
    );

    let mut bad = pod.clone();
    bad["spec"]["initContainers"][0]["command"] = json!(["true"]);
    let bad = write(dir.path(), "bad.json", &bad);
    let run = initctl(&["check", old, bad.to_str().unwrap(), "-o", "yaml"], None);
    assert_eq!(run.code, 3, "rejected keeps its exit code: {}", run.stderr);
    let doc: Value = serde_saphyr::from_str(&run.stdout).unwrap();
    assert_eq!(doc["classification"], "rejected");
    assert_eq!(doc["allowed"], false);
    assert_eq!(doc["plan"], Value::Null);
    let violation = &doc["violations"][0];
    assert_eq!(
        violation["path"],
        "spec.initContainers[init-myservice].command"
    );
    assert_eq!(violation["new"], json!(["true"]));
    assert!(
        violation["instead"].as_str().unwrap().len() > 10,
        "{violation}"
    );

    let same = initctl(&["check", old, old, "-o", "json"], None);
    let doc: Value = serde_json::from_str(same.ok()).unwrap();
    assert_eq!(doc["classification"], "noChange");
    assert_eq!(doc["changes"], json!([]));
}
