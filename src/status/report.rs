//! Pod → the `status` command's record: kubectl's columns plus the init sequence. Pure: the same
//! record feeds the table, `-o wide`, and the `initctl/v1 InitStatusList` document.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use crate::status::init_timeline::{self, InitContainerState};
use crate::status::print_pod::{self, PodStatusSummary};
use crate::util::duration;
use crate::util::sanitize::Untrusted;

pub const API_VERSION: &str = "initctl/v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    pub kind: Untrusted,
    pub name: Untrusted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InitProgress {
    pub done: usize,
    pub total: usize,
    pub current: Option<Untrusted>,
}

/// One pod in the `InitStatusList` document (the scripting contract, see docs/json-schema.md).
/// Text read from the pod is [`Untrusted`]: the table can only show it escaped, the documents
/// carry it raw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InitStatus {
    pub namespace: Untrusted,
    pub name: Untrusted,
    pub phase: Option<Untrusted>,
    pub status: Untrusted,
    pub ready: String,
    pub restarts: i32,
    pub last_restart: Option<Timestamp>,
    pub node: Option<Untrusted>,
    pub age: String,
    pub created: Option<Timestamp>,
    pub owner: Option<Owner>,
    pub init: InitProgress,
    pub init_containers: Vec<InitContainerState>,
    /// Not part of the document: the summary the table renders from.
    #[serde(skip)]
    pub summary: PodStatusSummary,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InitStatusList<'a> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub items: &'a [InitStatus],
}

impl<'a> InitStatusList<'a> {
    pub fn new(items: &'a [InitStatus]) -> Self {
        InitStatusList {
            api_version: API_VERSION,
            kind: "InitStatusList",
            items,
        }
    }
}

/// How much of the record its reader needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// What a table row shows: kubectl's columns and the init progress. `owner` is None and
    /// `init_containers` empty: each init container's state was a fifth of `status -A`'s main
    /// thread at 10k pods, for a table that does not show it.
    Row,
    /// All of it: the documents, `-o wide`, sorting, watching.
    Full,
}

pub fn report(pod: &Pod, now: Timestamp, detail: Detail) -> InitStatus {
    let summary = print_pod::summarize(pod);
    let created = pod.metadata.creation_timestamp.as_ref().map(|t| t.0);
    InitStatus {
        namespace: pod.metadata.namespace.as_deref().unwrap_or_default().into(),
        name: pod.metadata.name.as_deref().unwrap_or_default().into(),
        phase: pod
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref().map(Untrusted::from)),
        status: summary.status.as_str().into(),
        ready: summary.ready.clone(),
        restarts: summary.restarts,
        last_restart: summary.last_restart,
        node: pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .filter(|n| !n.is_empty())
            .map(Untrusted::from),
        age: duration::since(created, now),
        created,
        owner: match detail {
            Detail::Full => owner(pod),
            Detail::Row => None,
        },
        init: InitProgress {
            done: summary.init_done,
            total: summary.init_total,
            current: summary.current.as_ref().map(|c| c.name.as_str().into()),
        },
        init_containers: match detail {
            Detail::Full => init_timeline::init_containers(pod, now),
            Detail::Row => Vec::new(),
        },
        summary,
    }
}

/// The workload that owns the pod, as users name it: a Deployment rather than its ReplicaSet.
/// A Deployment's ReplicaSet is named `<deployment>-<pod-template-hash>`, which the pod carries as
/// a label, so no extra request is needed to walk up one level.
pub fn owner(pod: &Pod) -> Option<Owner> {
    let reference = pod
        .metadata
        .owner_references
        .as_ref()?
        .iter()
        .find(|r| r.controller == Some(true))?;
    let hash = pod
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("pod-template-hash"));
    if reference.kind == "ReplicaSet"
        && let Some(deployment) = hash.and_then(|h| reference.name.strip_suffix(&format!("-{h}")))
    {
        return Some(Owner {
            kind: "Deployment".into(),
            name: deployment.into(),
        });
    }
    Some(Owner {
        kind: reference.kind.as_str().into(),
        name: reference.name.as_str().into(),
    })
}
