//! Property test of the edit guard: random edits of the fixture pods, classified by
//! `initctl::change::guard::classify`, checked against a deliberately simple statement of the rules
//! written here without looking at how the guard decides:
//! - rejected iff some edit is a forbidden kind (a non-image container field, add/remove/reorder,
//!   a removed toleration, an out-of-range activeDeadlineSeconds, a new node name);
//! - else init images iff at least one init image changed;
//! - else allowed iff some edit is an allowed kind (app image, label, annotation, added
//!   toleration, activeDeadlineSeconds set);
//! - else no change (no edits, or only edits the server does not see: status, bookkeeping,
//!   re-stating a value, deleting fields that defaulting or admission restores).

use std::sync::LazyLock;

use initctl::change::guard::{Classification, classify};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::harness;

/// The fixture pods that have init containers, made into a known starting point: no
/// activeDeadlineSeconds (so "set it" is always allowed) and one toleration of their own (so
/// removing it is a real removal; the default ones come back through admission).
static PODS: LazyLock<Vec<Value>> = LazyLock::new(|| {
    let dir = harness::fixtures().join("pods");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut pods = Vec::new();
    for file in files {
        let mut pod: Value =
            serde_saphyr::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap_or(Value::Null);
        if pod["kind"] != "Pod" || pod["spec"]["initContainers"].as_array().is_none() {
            continue;
        }
        let spec = pod["spec"].as_object_mut().unwrap();
        spec.remove("activeDeadlineSeconds");
        let own =
            json!({"key": "example.com/dedicated", "operator": "Exists", "effect": "NoSchedule"});
        spec.entry("tolerations")
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .unwrap()
            .push(own);
        pods.push(pod);
    }
    assert!(pods.len() >= 20, "the fixtures hold realistic pods");
    pods
});

/// Container fields other than the image, with a value no fixture uses.
const FIELDS: &[&str] = &[
    "command",
    "args",
    "env",
    "workingDir",
    "resources",
    "securityContext",
    "ports",
    "volumeMounts",
    "readinessProbe",
    "lifecycle",
    "terminationMessagePolicy",
    "restartPolicy",
];

fn field_value(field: &str, n: u32, current: Option<&Value>) -> Value {
    match field {
        "command" => json!([format!("/bin/prop-{n}")]),
        "args" => json!([format!("--prop={n}")]),
        "env" => json!([{"name": format!("PROP_{n}"), "value": "x"}]),
        "workingDir" => json!(format!("/prop/{n}")),
        "resources" => json!({"limits": {"cpu": format!("{}3m", n + 1)}}),
        "securityContext" => json!({"runAsUser": 4000 + n}),
        "ports" => json!([{"containerPort": 40000 + n}]),
        "volumeMounts" => json!([{"name": "prop", "mountPath": format!("/prop/{n}")}]),
        "readinessProbe" => json!({"exec": {"command": ["true"]}, "periodSeconds": 11 + n}),
        "lifecycle" => json!({"preStop": {"exec": {"command": ["sleep", n.to_string()]}}}),
        "terminationMessagePolicy" => json!("FallbackToLogsOnError"),
        // A regular init container becomes a sidecar; one that has a policy gets another. Never
        // back to the original, so that two edits of the same field cannot cancel out.
        "restartPolicy" if current.is_some() => json!("OnFailure"),
        "restartPolicy" => json!("Always"),
        _ => unreachable!("{field}"),
    }
}

#[derive(Debug, Clone)]
enum Edit {
    InitImage(usize, u32),
    InitField(usize, usize, u32),
    AppImage(usize, u32),
    AppField(usize, usize, u32),
    Label(u32, u32),
    Annotation(u32),
    AddToleration(u32),
    RemoveToleration,
    ActiveDeadline(i64),
    NodeName(u32),
    AddInit,
    RemoveInit(usize),
    SwapInit,
    RemoveApp,
    /// Edits the server never sees: status, bookkeeping, a value re-stated, defaults deleted.
    Invisible(u32),
}

fn edit() -> impl Strategy<Value = Edit> {
    let n = 0u32..50;
    prop_oneof![
        3 => (any::<usize>(), n.clone()).prop_map(|(i, n)| Edit::InitImage(i, n)),
        2 => (any::<usize>(), 0..FIELDS.len(), n.clone()).prop_map(|(i, f, n)| Edit::InitField(i, f, n)),
        2 => (any::<usize>(), n.clone()).prop_map(|(i, n)| Edit::AppImage(i, n)),
        1 => (any::<usize>(), 0..FIELDS.len() - 1, n.clone()).prop_map(|(i, f, n)| Edit::AppField(i, f, n)),
        2 => (0u32..3, n.clone()).prop_map(|(k, v)| Edit::Label(k, v)),
        1 => n.clone().prop_map(Edit::Annotation),
        1 => n.clone().prop_map(Edit::AddToleration),
        1 => Just(Edit::RemoveToleration),
        1 => prop_oneof![Just(-5i64), Just(0), Just(30), Just(600)].prop_map(Edit::ActiveDeadline),
        1 => n.clone().prop_map(Edit::NodeName),
        1 => Just(Edit::AddInit),
        1 => any::<usize>().prop_map(Edit::RemoveInit),
        1 => Just(Edit::SwapInit),
        1 => Just(Edit::RemoveApp),
        3 => (0u32..5).prop_map(Edit::Invisible),
    ]
}

/// What the simple rules expect from one edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    NoOp,
    Allowed,
    InitImage,
    Forbidden,
}

fn containers<'a>(pod: &'a mut Value, list: &str) -> &'a mut Vec<Value> {
    pod["spec"][list].as_array_mut().unwrap()
}

/// Applies `edit` to `pod`, returning what kind of edit it turned out to be (`None`: skipped,
/// e.g. a swap in a pod with one init container).
fn apply(pod: &mut Value, edit: &Edit) -> Option<Kind> {
    Some(match *edit {
        Edit::InitImage(i, n) => {
            let c = containers(pod, "initContainers");
            let i = i % c.len().max(1);
            c.get(i)?;
            c[i]["image"] = json!(format!("registry.example.com/prop/init:{n}"));
            Kind::InitImage
        }
        Edit::InitField(i, f, n) | Edit::AppField(i, f, n) => {
            let list = if matches!(edit, Edit::InitField(..)) {
                "initContainers"
            } else {
                "containers"
            };
            let c = containers(pod, list);
            let len = c.len().max(1);
            let c = c.get_mut(i % len)?;
            let field = FIELDS[f];
            c[field] = field_value(field, n, c.get(field));
            Kind::Forbidden
        }
        Edit::AppImage(i, n) => {
            let c = containers(pod, "containers");
            let i = i % c.len().max(1);
            c.get(i)?;
            c[i]["image"] = json!(format!("registry.example.com/prop/app:{n}"));
            Kind::Allowed
        }
        Edit::Label(k, v) => {
            pod["metadata"]["labels"][format!("prop-{k}")] = json!(format!("v{v}"));
            Kind::Allowed
        }
        Edit::Annotation(n) => {
            pod["metadata"]["annotations"][format!("prop/{n}")] = json!("x");
            Kind::Allowed
        }
        Edit::AddToleration(n) => {
            let t =
                json!({"key": format!("prop-{n}"), "operator": "Exists", "effect": "NoSchedule"});
            containers(pod, "tolerations").push(t);
            Kind::Allowed
        }
        Edit::RemoveToleration => {
            let list = containers(pod, "tolerations");
            let own = list
                .iter()
                .position(|t| t["key"] == "example.com/dedicated")?;
            list.remove(own);
            Kind::Forbidden
        }
        Edit::ActiveDeadline(v) => {
            pod["spec"]["activeDeadlineSeconds"] = json!(v);
            if v >= 1 {
                Kind::Allowed
            } else {
                Kind::Forbidden
            }
        }
        Edit::NodeName(n) => {
            pod["spec"]["nodeName"] = json!(format!("prop-node-{n}"));
            Kind::Forbidden
        }
        Edit::AddInit => {
            let c = json!({"name": "prop-extra", "image": "busybox:1.36"});
            containers(pod, "initContainers").push(c);
            Kind::Forbidden
        }
        Edit::RemoveInit(i) => {
            let c = containers(pod, "initContainers");
            let i = i % c.len().max(1);
            c.get(i)?;
            c.remove(i);
            Kind::Forbidden
        }
        Edit::SwapInit => {
            let c = containers(pod, "initContainers");
            if c.len() < 2 {
                return None;
            }
            c.swap(0, 1);
            Kind::Forbidden
        }
        Edit::RemoveApp => {
            containers(pod, "containers").pop()?;
            Kind::Forbidden
        }
        Edit::Invisible(which) => {
            apply_invisible(pod, which);
            Kind::NoOp
        }
    })
}

/// An edit the server never sees (`Edit::Invisible`): status, bookkeeping, a value re-stated,
/// defaults deleted.
fn apply_invisible(pod: &mut Value, which: u32) {
    match which {
        0 => pod["status"]["phase"] = json!("Unknown"),
        1 => pod["metadata"]["resourceVersion"] = json!("1"),
        2 => {
            let name = pod["metadata"]["name"].clone();
            pod["metadata"]["name"] = name;
        }
        3 => {
            for c in containers(pod, "initContainers") {
                let c = c.as_object_mut().unwrap();
                c.remove("terminationMessagePath");
                c.remove("imagePullPolicy");
            }
        }
        _ => {
            let spec = pod["spec"].as_object_mut().unwrap();
            spec.remove("dnsPolicy");
            spec.remove("serviceAccount");
            spec.remove("priority");
            let tolerations = spec["tolerations"].as_array_mut().unwrap();
            tolerations.retain(|t| t["key"] != "node.kubernetes.io/not-ready");
        }
    }
}

fn class_name(c: &Classification) -> &'static str {
    match c {
        Classification::NoChange => "no change",
        Classification::Rejected(_) => "rejected",
        Classification::InitImages { .. } => "init images",
        Classification::Allowed(_) => "allowed",
    }
}

proptest! {
    // A failure prints its minimal input; it is turned into a unit test in src/guard, not kept
    // as a regression file outside the test's own source.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn classify_agrees_with_the_simple_rules(
        pod in 0..PODS.len(),
        edits in prop::collection::vec(edit(), 0..5),
    ) {
        let live = &PODS[pod];
        let mut edited = live.clone();
        let mut kinds = Vec::new();
        let mut structural = false;
        for e in &edits {
            // One add/remove/reorder per case: a second swap could undo the first.
            let is_structural = matches!(e, Edit::AddInit | Edit::RemoveInit(_) | Edit::SwapInit | Edit::RemoveApp);
            if is_structural && structural {
                continue;
            }
            if let Some(kind) = apply(&mut edited, e) {
                structural |= is_structural;
                kinds.push((e.clone(), kind));
            }
        }
        // activeDeadlineSeconds: only its last value counts.
        let last_deadline = kinds.iter().rposition(|(e, _)| matches!(e, Edit::ActiveDeadline(_)));
        let worst = kinds
            .iter()
            .enumerate()
            .filter(|(i, (e, _))| !matches!(e, Edit::ActiveDeadline(_)) || Some(*i) == last_deadline)
            .map(|(_, (_, k))| *k)
            .max()
            .unwrap_or(Kind::NoOp);
        let expected = match worst {
            Kind::Forbidden => "rejected",
            Kind::InitImage => "init images",
            Kind::Allowed => "allowed",
            Kind::NoOp => "no change",
        };
        let got = classify(live, &edited);
        prop_assert_eq!(class_name(&got), expected, "edits {:?} gave {:?}", kinds, got);

        match &got {
            Classification::Rejected(violations) if !structural => {
                // Every field edit is named by its path.
                for (e, _) in &kinds {
                    let (list, i, f) = match *e {
                        Edit::InitField(i, f, _) => ("initContainers", i, f),
                        Edit::AppField(i, f, _) => ("containers", i, f),
                        _ => continue,
                    };
                    let c = &live["spec"][list];
                    let name = c[i % c.as_array().unwrap().len()]["name"].as_str().unwrap();
                    let path = format!("spec.{list}[{name}].{}", FIELDS[f]);
                    prop_assert!(
                        violations.iter().any(|v| v.path == path),
                        "{} missing from {:?}", path, violations
                    );
                }
            }
            Classification::InitImages { images, .. } => {
                // Exactly the edited init containers, each with its live and new image.
                let mut edited_idx: Vec<usize> = kinds
                    .iter()
                    .filter_map(|(e, _)| match e {
                        Edit::InitImage(i, _) => Some(i % live["spec"]["initContainers"].as_array().unwrap().len()),
                        _ => None,
                    })
                    .collect();
                edited_idx.sort();
                edited_idx.dedup();
                let got_idx: Vec<usize> = images.iter().map(|i| i.index).collect();
                prop_assert_eq!(&got_idx, &edited_idx);
                for image in images {
                    let c = &live["spec"]["initContainers"][image.index];
                    prop_assert_eq!(c["image"].as_str(), Some(image.old.as_str()));
                    prop_assert_eq!(image.sidecar, c["restartPolicy"] == "Always");
                }
            }
            _ => {}
        }
    }
}

/// The stand-in server's own ValidatePodUpdate (tests/it/apiserver/validation.rs, written
/// separately from the guard): a PUT of the edited pod answers 422 exactly when the guard
/// refuses the edit. Two independent readings of the same upstream rules must agree.
static SERVER: LazyLock<crate::apiserver::ApiServer> =
    LazyLock::new(crate::apiserver::ApiServer::start);

/// PUTs `pod` to the stand-in server; returns the HTTP status and the whole response.
fn put(pod: &Value) -> (u16, String) {
    use std::io::{Read, Write};
    let url = SERVER.url();
    let addr = url.trim_start_matches("http://");
    let path = format!(
        "/api/v1/namespaces/{}/pods/{}",
        pod["metadata"]["namespace"].as_str().unwrap(),
        pod["metadata"]["name"].as_str().unwrap()
    );
    let body = pod.to_string();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer stand-in-token\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap();
    (status, response)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_server_refuses_exactly_what_the_guard_refuses(
        pod in 0..PODS.len(),
        edits in prop::collection::vec(edit(), 0..4),
    ) {
        let mut live = PODS[pod].clone();
        // A pod of its own per case, stored by the server as it stores any pod.
        let name = format!("{}-{}", live["metadata"]["name"].as_str().unwrap(), SERVER.requests().len());
        live["metadata"]["name"] = json!(name);
        SERVER.insert(live.clone());
        let live = SERVER.get("v1", "Pod", Some(live["metadata"]["namespace"].as_str().unwrap()), &name).unwrap();
        let mut edited = live.clone();
        let mut structural = false;
        for e in &edits {
            let is_structural = matches!(e, Edit::AddInit | Edit::RemoveInit(_) | Edit::SwapInit | Edit::RemoveApp);
            if is_structural && structural {
                continue;
            }
            if apply(&mut edited, e).is_some() {
                structural |= is_structural;
            }
        }
        let refused = matches!(classify(&live, &edited), Classification::Rejected(_));
        // A stale resourceVersion is the server's concurrency check (409), not validation.
        edited["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"].clone();
        let (status, response) = put(&edited);
        prop_assert!(status == 200 || status == 422, "unexpected {} for {:?}: {}", status, edits, response);
        prop_assert_eq!(refused, status == 422, "guard refused={} but the server answered {} for {:?}: {}", refused, status, edits, response);
    }
}
