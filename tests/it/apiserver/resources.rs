//! The resource table the stand-in serves and the discovery documents built from it
//! (`/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`), with the names, short names,
//! categories, verbs and subresources kube-apiserver v1.33 advertises for them.

use serde_json::{Value, json};

pub struct ResourceDef {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    /// In the `all` category (what `kubectl get all` lists).
    pub all: bool,
    /// Subresource name, kind it speaks, verbs.
    pub subresources: &'static [(&'static str, &'static str, &'static [&'static str])],
}

const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const NS_VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];
const STATUS: (&str, &str, &[&str]) = ("status", "", &["get", "patch", "update"]);
const SCALE: (&str, &str, &[&str]) = ("scale", "Scale", &["get", "patch", "update"]);

/// Where a resource lives, and whether `kubectl get all` lists it (the `all` category).
#[derive(Clone, Copy)]
enum Scope {
    Namespaced,
    NamespacedInAll,
    Cluster,
}

// A table row reads best as one positional call per resource.
const fn res(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    scope: Scope,
    short_names: &'static [&'static str],
    subresources: &'static [(&'static str, &'static str, &'static [&'static str])],
) -> ResourceDef {
    ResourceDef {
        group,
        version,
        plural,
        kind,
        namespaced: !matches!(scope, Scope::Cluster),
        short_names,
        all: matches!(scope, Scope::NamespacedInAll),
        subresources,
    }
}

pub static RESOURCES: &[ResourceDef] = &[
    res(
        "",
        "v1",
        "pods",
        "Pod",
        Scope::NamespacedInAll,
        &["po"],
        &[
            ("attach", "PodAttachOptions", &["create", "get"]),
            ("binding", "Binding", &["create"]),
            ("ephemeralcontainers", "", &["get", "patch", "update"]),
            ("eviction", "Eviction", &["create"]),
            ("exec", "PodExecOptions", &["create", "get"]),
            ("log", "", &["get"]),
            ("portforward", "PodPortForwardOptions", &["create", "get"]),
            (
                "proxy",
                "PodProxyOptions",
                &["create", "delete", "get", "patch", "update"],
            ),
            ("resize", "", &["get", "patch", "update"]),
            STATUS,
        ],
    ),
    res("", "v1", "events", "Event", Scope::Namespaced, &["ev"], &[]),
    res(
        "",
        "v1",
        "services",
        "Service",
        Scope::NamespacedInAll,
        &["svc"],
        &[STATUS],
    ),
    res(
        "",
        "v1",
        "endpoints",
        "Endpoints",
        Scope::Namespaced,
        &["ep"],
        &[],
    ),
    res(
        "",
        "v1",
        "configmaps",
        "ConfigMap",
        Scope::Namespaced,
        &["cm"],
        &[],
    ),
    res("", "v1", "secrets", "Secret", Scope::Namespaced, &[], &[]),
    res(
        "",
        "v1",
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        Scope::Namespaced,
        &["pvc"],
        &[STATUS],
    ),
    res(
        "",
        "v1",
        "nodes",
        "Node",
        Scope::Cluster,
        &["no"],
        &[STATUS],
    ),
    res(
        "",
        "v1",
        "namespaces",
        "Namespace",
        Scope::Cluster,
        &["ns"],
        &[("finalize", "", &["update"]), STATUS],
    ),
    res(
        "",
        "v1",
        "serviceaccounts",
        "ServiceAccount",
        Scope::Namespaced,
        &["sa"],
        &[("token", "TokenRequest", &["create"])],
    ),
    res(
        "",
        "v1",
        "replicationcontrollers",
        "ReplicationController",
        Scope::NamespacedInAll,
        &["rc"],
        &[SCALE, STATUS],
    ),
    res(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        Scope::NamespacedInAll,
        &["deploy"],
        &[SCALE, STATUS],
    ),
    res(
        "apps",
        "v1",
        "replicasets",
        "ReplicaSet",
        Scope::NamespacedInAll,
        &["rs"],
        &[SCALE, STATUS],
    ),
    res(
        "apps",
        "v1",
        "statefulsets",
        "StatefulSet",
        Scope::NamespacedInAll,
        &["sts"],
        &[SCALE, STATUS],
    ),
    res(
        "apps",
        "v1",
        "daemonsets",
        "DaemonSet",
        Scope::NamespacedInAll,
        &["ds"],
        &[STATUS],
    ),
    res(
        "batch",
        "v1",
        "jobs",
        "Job",
        Scope::NamespacedInAll,
        &[],
        &[STATUS],
    ),
    res(
        "batch",
        "v1",
        "cronjobs",
        "CronJob",
        Scope::NamespacedInAll,
        &["cj"],
        &[STATUS],
    ),
    res(
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "EndpointSlice",
        Scope::Namespaced,
        &[],
        &[],
    ),
    // explain reads these for claims of classes without a provisioner.
    res(
        "",
        "v1",
        "persistentvolumes",
        "PersistentVolume",
        Scope::Cluster,
        &["pv"],
        &[STATUS],
    ),
    res(
        "storage.k8s.io",
        "v1",
        "storageclasses",
        "StorageClass",
        Scope::Cluster,
        &["sc"],
        &[],
    ),
];

const GROUPS: &[(&str, &str)] = &[
    ("apps", "v1"),
    ("batch", "v1"),
    ("discovery.k8s.io", "v1"),
    ("storage.k8s.io", "v1"),
];

impl ResourceDef {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `plural[.group]`, the way error messages name a resource.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// Workloads whose spec changes bump `metadata.generation`.
    pub fn has_generation(&self) -> bool {
        matches!(self.group, "apps" | "batch") || self.plural == "replicationcontrollers"
    }

    pub fn has_subresource(&self, sub: &str) -> bool {
        self.subresources.iter().any(|(name, _, _)| *name == sub)
    }
}

pub fn by_plural(group: &str, version: &str, plural: &str) -> Option<&'static ResourceDef> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceDef> {
    RESOURCES
        .iter()
        .find(|r| r.api_version() == api_version && r.kind == kind)
}

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "gitVersion": "v1.33.1",
        "gitCommit": "8adc0f041b8e7ad1d30e29cc59c6ae7a15e19828",
        "gitTreeState": "clean",
        "buildDate": "2025-05-15T08:19:08Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// `/api`: the legacy group's versions.
pub fn core_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]
    })
}

/// `/apis`: every named group.
pub fn group_list() -> Value {
    let groups: Vec<Value> = GROUPS.iter().map(|(g, v)| group(g, v)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn group(name: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{name}/{version}"), "version": version});
    json!({"name": name, "versions": [gv.clone()], "preferredVersion": gv})
}

/// `/apis/<group>`.
pub fn group_doc(name: &str) -> Option<Value> {
    GROUPS.iter().find(|(g, _)| *g == name).map(|(g, v)| {
        let mut doc = group(g, v);
        doc["kind"] = json!("APIGroup");
        doc["apiVersion"] = json!("v1");
        doc
    })
}

/// `/api/v1` or `/apis/<group>/<version>`: the APIResourceList.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let known = (group.is_empty() && version == "v1") || GROUPS.contains(&(group, version));
    if !known {
        return None;
    }
    let mut resources = Vec::new();
    for r in RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        let verbs = if r.plural == "namespaces" {
            NS_VERBS
        } else {
            VERBS
        };
        let mut entry = json!({
            "name": r.plural,
            "singularName": r.kind.to_lowercase(),
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": verbs,
        });
        if !r.short_names.is_empty() {
            entry["shortNames"] = json!(r.short_names);
        }
        if r.all {
            entry["categories"] = json!(["all"]);
        }
        resources.push(entry);
        for (sub, kind, verbs) in r.subresources {
            let mut entry = json!({
                "name": format!("{}/{sub}", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": if kind.is_empty() { r.kind } else { kind },
                "verbs": verbs,
            });
            match *kind {
                "Scale" => {
                    entry["group"] = json!("autoscaling");
                    entry["version"] = json!("v1");
                }
                "Eviction" => {
                    entry["group"] = json!("policy");
                    entry["version"] = json!("v1");
                }
                "TokenRequest" => {
                    entry["group"] = json!("authentication.k8s.io");
                    entry["version"] = json!("v1");
                }
                _ => {}
            }
            resources.push(entry);
        }
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}),
    )
}
