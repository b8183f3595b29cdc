use super::*;
use serde_json::json;

fn pod(value: serde_json::Value) -> Pod {
    serde_json::from_value(value).unwrap()
}

fn node(value: serde_json::Value) -> Node {
    serde_json::from_value(value).unwrap()
}

fn shown(requests: &BTreeMap<String, Quantity>) -> BTreeMap<&str, String> {
    requests
        .iter()
        .map(|(k, v)| (k.as_str(), v.to_string()))
        .collect()
}

fn taint(key: &str, value: Option<&str>, effect: &str) -> Taint {
    Taint {
        key: key.into(),
        value: value.map(Into::into),
        effect: effect.into(),
        time_added: None,
    }
}

fn toleration(value: serde_json::Value) -> Toleration {
    serde_json::from_value(value).unwrap()
}

#[test]
fn parses_filter_reasons_with_taint_and_preemption() {
    let failure = parse_fit_error(
        "0/3 nodes are available: 1 node(s) had untolerated taint \
         {node-role.kubernetes.io/control-plane: }, 2 Insufficient memory. preemption: 0/3 \
         nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption \
         victims found for incoming pod.",
    )
    .unwrap();
    assert_eq!(failure.nodes, 3);
    assert_eq!(
        failure.reasons,
        vec![
            FitReason {
                count: 1,
                text: "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"
                    .into(),
                kind: FitReasonKind::UntoleratedTaint {
                    key: Some("node-role.kubernetes.io/control-plane".into()),
                    value: Some(String::new()),
                },
            },
            FitReason {
                count: 2,
                text: "Insufficient memory".into(),
                kind: FitReasonKind::Insufficient {
                    resource: "memory".into()
                },
            },
        ]
    );
    assert_eq!(
        failure.preemption.as_deref(),
        Some(
            "preemption: 0/3 nodes are available: 1 Preemption is not helpful for \
             scheduling, 2 No preemption victims found for incoming pod."
        )
    );
}

#[test]
fn parses_prefilter_message_without_counts() {
    let failure = parse_fit_error(
        "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. \
         preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    )
    .unwrap();
    assert_eq!(failure.nodes, 1);
    assert_eq!(
        failure.reasons,
        vec![FitReason {
            count: 1,
            text: "pod has unbound immediate PersistentVolumeClaims".into(),
            kind: FitReasonKind::VolumeBinding,
        }]
    );
    assert!(failure.preemption.unwrap().starts_with("preemption: 0/1"));
}

#[test]
fn parses_older_taint_text_that_contains_a_comma() {
    let failure = parse_fit_error(
        "0/6 nodes are available: 1 node(s) had taint {node-role.kubernetes.io/master: }, \
         that the pod didn't tolerate, 2 node(s) had taint {dedicated: gpu}, that the pod \
         didn't tolerate, 3 Insufficient nvidia.com/gpu.",
    )
    .unwrap();
    let kinds: Vec<_> = failure.reasons.iter().map(|r| (r.count, &r.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            (
                1,
                &FitReasonKind::UntoleratedTaint {
                    key: Some("node-role.kubernetes.io/master".into()),
                    value: Some(String::new())
                }
            ),
            (
                2,
                &FitReasonKind::UntoleratedTaint {
                    key: Some("dedicated".into()),
                    value: Some("gpu".into())
                }
            ),
            (
                3,
                &FitReasonKind::Insufficient {
                    resource: "nvidia.com/gpu".into()
                }
            ),
        ]
    );
    assert_eq!(
        failure.reasons[0].text,
        "node(s) had taint {node-role.kubernetes.io/master: }, that the pod didn't tolerate"
    );
    assert_eq!(failure.preemption, None);
}

#[test]
fn classifies_every_known_plugin_reason() {
    let failure = parse_fit_error(
        "0/30 nodes are available: 1 Too many pods, 1 node(s) didn't match Pod's node \
         affinity/selector, 1 node(s) didn't match pod affinity rules, 1 node(s) didn't \
         match pod anti-affinity rules, 1 node(s) didn't satisfy existing pods anti-affinity \
         rules, 1 node(s) didn't match pod topology spread constraints, 1 node(s) had volume \
         node affinity conflict, 1 node(s) didn't find available persistent volumes to bind, \
         1 node(s) did not have enough free storage, 1 node(s) exceed max volume count, 1 \
         node(s) were unschedulable, 1 node(s) didn't have free ports for the requested pod \
         ports, 1 node(s) didn't match the requested node name, 1 node(s) had untolerated \
         taint(s), 1 node is filtered out by the prefilter result",
    )
    .unwrap();
    use FitReasonKind::*;
    let kinds: Vec<_> = failure.reasons.into_iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        vec![
            Insufficient {
                resource: "pods".into()
            },
            NodeSelectorMismatch,
            PodAffinity,
            PodAntiAffinity,
            PodAntiAffinity,
            TopologySpread,
            VolumeBinding,
            VolumeBinding,
            VolumeBinding,
            VolumeLimits,
            Unschedulable,
            NodePorts,
            NodeName,
            UntoleratedTaint {
                key: None,
                value: None
            },
            Other,
        ]
    );
}

#[test]
fn keeps_other_postfilter_text_and_rejects_non_fit_errors() {
    let failure = parse_fit_error(
        "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod \
         ports. no new claims to deallocate, preemption: 0/1 nodes are available: 1 node(s) \
         didn't have free ports for the requested pod ports.",
    )
    .unwrap();
    assert_eq!(failure.reasons.len(), 1);
    assert!(
        failure
            .preemption
            .unwrap()
            .starts_with("no new claims to deallocate, preemption:")
    );
    assert_eq!(
        parse_fit_error("running PreBind plugin \"VolumeBinding\": x"),
        None
    );
    assert_eq!(
        parse_fit_error("0/x nodes are available: 1 Insufficient cpu."),
        None
    );
}

#[test]
fn serializes_reasons_for_json_output() {
    let failure = parse_fit_error("0/2 nodes are available: 2 Insufficient cpu.").unwrap();
    assert_eq!(
        serde_json::to_value(&failure).unwrap(),
        json!({
            "nodes": 2,
            "reasons": [{
                "count": 2,
                "text": "Insufficient cpu",
                "kind": {"type": "insufficient", "resource": "cpu"}
            }],
            "preemption": null
        })
    );
}

#[test]
fn init_container_drives_the_effective_request_with_sidecars_before_it() {
    let p = pod(json!({
        "metadata": {"name": "web"},
        "spec": {
            "initContainers": [
                {"name": "proxy", "image": "envoy", "restartPolicy": "Always",
                 "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
                {"name": "migrate", "image": "tool",
                 "resources": {"requests": {"cpu": "200m", "memory": "1Gi"}}}
            ],
            "containers": [
                {"name": "app", "image": "web",
                 "resources": {"requests": {"cpu": "500m", "memory": "256Mi"}}}
            ]
        }
    }));
    let requests = effective_requests(&p).unwrap();
    // memory: max(256Mi + 64Mi, 1Gi + 64Mi) = 1088Mi; cpu: max(500m + 100m, 200m + 100m).
    assert_eq!(
        shown(&requests),
        BTreeMap::from([("cpu", "600m".into()), ("memory", "1088Mi".into())])
    );
}

#[test]
fn sidecars_after_an_init_container_do_not_count_for_it() {
    let p = pod(json!({
        "spec": {
            "initContainers": [
                {"name": "migrate", "image": "tool",
                 "resources": {"requests": {"memory": "1Gi"}}},
                {"name": "proxy", "image": "envoy", "restartPolicy": "Always",
                 "resources": {"requests": {"memory": "512Mi"}}}
            ],
            "containers": [
                {"name": "app", "image": "web", "resources": {"requests": {"memory": "256Mi"}}}
            ]
        }
    }));
    // max(256Mi + 512Mi, 1Gi + nothing started before it) = 1Gi
    assert_eq!(shown(&effective_requests(&p).unwrap())["memory"], "1Gi");
}

#[test]
fn requests_default_to_limits_and_overhead_is_added() {
    let p = pod(json!({
        "spec": {
            "overhead": {"cpu": "250m", "memory": "120Mi"},
            "containers": [
                {"name": "a", "image": "x",
                 "resources": {"limits": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"},
                               "requests": {"cpu": "500m"}}},
                {"name": "b", "image": "x"}
            ]
        }
    }));
    assert_eq!(
        shown(&effective_requests(&p).unwrap()),
        BTreeMap::from([
            ("cpu", "750m".into()),
            ("memory", "1144Mi".into()),
            ("nvidia.com/gpu", "1".into())
        ])
    );
}

#[test]
fn pod_level_resources_override_the_container_sum() {
    let p = pod(json!({
        "spec": {
            "resources": {"requests": {"memory": "2Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}},
            "containers": [
                {"name": "a", "image": "x",
                 "resources": {"requests": {"memory": "256Mi", "ephemeral-storage": "1Gi"}}}
            ]
        }
    }));
    // memory: the pod-level request wins; cpu: no container asks, so the pod-level limit;
    // ephemeral-storage is not a pod-level resource and stays per container.
    assert_eq!(
        shown(&effective_requests(&p).unwrap()),
        BTreeMap::from([
            ("cpu", "2".into()),
            ("ephemeral-storage", "1Gi".into()),
            ("memory", "2Gi".into())
        ])
    );
}

#[test]
fn bad_quantity_names_its_field() {
    let p = pod(json!({
        "spec": {"containers": [
            {"name": "a", "image": "x", "resources": {"requests": {"memory": "1GB"}}}
        ]}
    }));
    let err = effective_requests(&p).unwrap_err();
    assert!(
        err.starts_with("container \"a\" resources.requests.memory:"),
        "{err}"
    );
}

#[test]
fn only_untolerated_blocking_taints_are_reported() {
    let taints = [
        taint("node-role.kubernetes.io/control-plane", None, "NoSchedule"),
        taint("dedicated", Some("gpu"), "NoSchedule"),
        taint("spot", Some("true"), "PreferNoSchedule"),
        taint("node.kubernetes.io/unreachable", None, "NoExecute"),
    ];
    let tolerations = [
        toleration(json!({"key": "dedicated", "operator": "Equal", "value": "gpu"})),
        toleration(
            json!({"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                          "effect": "NoExecute", "tolerationSeconds": 300}),
        ),
    ];
    let left = untolerated_taints(&taints, &tolerations);
    assert_eq!(left, vec![taints[0].clone()]);
}

#[test]
fn toleration_matching_edge_cases() {
    let gpu = taint("dedicated", Some("gpu"), "NoSchedule");
    let blocks = |t: serde_json::Value| {
        !untolerated_taints(std::slice::from_ref(&gpu), &[toleration(t)]).is_empty()
    };
    // Exists without a key tolerates every taint.
    assert!(!blocks(json!({"operator": "Exists"})));
    // An empty effect matches every effect; a different effect does not.
    assert!(!blocks(json!({"key": "dedicated", "operator": "Exists"})));
    assert!(blocks(
        json!({"key": "dedicated", "operator": "Exists", "effect": "NoExecute"})
    ));
    // The operator defaults to Equal, which compares values.
    assert!(!blocks(json!({"key": "dedicated", "value": "gpu"})));
    assert!(blocks(json!({"key": "dedicated", "value": "cpu"})));
    assert!(blocks(json!({"key": "dedicated"})));
    assert!(blocks(json!({"key": "other", "operator": "Exists"})));
    // Unknown (alpha) operators tolerate nothing.
    assert!(blocks(
        json!({"key": "dedicated", "operator": "Gt", "value": "1"})
    ));
    // An absent taint value equals an empty toleration value.
    let bare = taint("maintenance", None, "NoSchedule");
    let tol = toleration(json!({"key": "maintenance", "operator": "Equal", "value": ""}));
    assert!(untolerated_taints(&[bare], &[tol]).is_empty());
}

fn worker() -> Node {
    node(json!({
        "metadata": {"name": "worker-1", "labels": {
            "kubernetes.io/arch": "amd64",
            "topology.kubernetes.io/zone": "eu-west-1c",
            "node.example.com/cores": "8"
        }},
        "status": {"allocatable": {"cpu": "3920m", "memory": "16283220Ki", "pods": "110"}}
    }))
}

fn pod_with_affinity(node_selector: serde_json::Value, terms: serde_json::Value) -> Pod {
    pod(json!({
        "spec": {
            "nodeSelector": node_selector,
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": terms
            }}},
            "containers": [{"name": "a", "image": "x"}]
        }
    }))
}

#[test]
fn selector_and_affinity_that_match_report_nothing() {
    let p = pod_with_affinity(
        json!({"kubernetes.io/arch": "amd64"}),
        json!([
            {"matchExpressions": [{"key": "gpu", "operator": "Exists"}]},
            {"matchExpressions": [
                {"key": "topology.kubernetes.io/zone", "operator": "In",
                 "values": ["eu-west-1a", "eu-west-1c"]},
                {"key": "node.example.com/cores", "operator": "Gt", "values": ["4"]},
                {"key": "spot", "operator": "DoesNotExist"}
            ]}
        ]),
    );
    assert_eq!(selector_mismatch(&p, &worker()), Vec::<String>::new());
}

#[test]
fn selector_and_affinity_mismatches_are_explained_per_term() {
    let p = pod_with_affinity(
        json!({"kubernetes.io/arch": "arm64", "disktype": "ssd"}),
        json!([
            {"matchExpressions": [
                {"key": "topology.kubernetes.io/zone", "operator": "NotIn",
                 "values": ["eu-west-1c"]},
                {"key": "node.example.com/cores", "operator": "Gt", "values": ["16"]}
            ]},
            {"matchFields": [
                {"key": "metadata.name", "operator": "In", "values": ["worker-2"]}
            ]},
            {}
        ]),
    );
    assert_eq!(
        selector_mismatch(&p, &worker()),
        vec![
            "nodeSelector disktype=ssd: node has no label disktype",
            "nodeSelector kubernetes.io/arch=arm64: node has kubernetes.io/arch=amd64",
            "required node affinity term 1: topology.kubernetes.io/zone NotIn [eu-west-1c]: \
             node has topology.kubernetes.io/zone=eu-west-1c",
            "required node affinity term 1: node.example.com/cores Gt 16: node has \
             node.example.com/cores=8",
            "required node affinity term 2: metadata.name In [worker-2]: node name is \
             worker-1",
            "required node affinity term 3: empty term matches no node",
        ]
    );
}

#[test]
fn lt_requires_an_integer_label() {
    let p = pod_with_affinity(
        json!({}),
        json!([{"matchExpressions": [
            {"key": "topology.kubernetes.io/zone", "operator": "Lt", "values": ["3"]}
        ]}]),
    );
    assert_eq!(
        selector_mismatch(&p, &worker()),
        vec![
            "required node affinity term 1: topology.kubernetes.io/zone Lt 3: node has \
             topology.kubernetes.io/zone=eu-west-1c is not an integer"
        ]
    );
}

#[test]
fn fits_reports_resources_beyond_allocatable() {
    let requests: BTreeMap<String, Quantity> = [
        ("cpu", "500m"),
        ("memory", "24Gi"),
        ("nvidia.com/gpu", "1"),
        ("ephemeral-storage", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.parse().unwrap()))
    .collect();
    assert_eq!(
        fits(&requests, &worker()).unwrap(),
        vec![
            "memory: requests 24Gi, node allocatable 16283220Ki",
            "nvidia.com/gpu: requests 1, node allocatable 0",
        ]
    );
}
