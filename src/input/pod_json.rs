//! Pods decoded the way every reading command needs them: a whole `Pod` except
//! `metadata.managedFields` (and `selfLink`), which nothing reads. managedFields are about a third
//! of a Pod's bytes and, typed, half the cost of decoding a LIST (each entry's `fieldsV1` becomes a
//! tree of JSON values); skipped here they are scanned and never built.
//!
//! Used for pod LIST pages from the API server and for Pods in `-f` input, so online and offline
//! decode the same way. `edit` and `check` read whole objects elsewhere. [`PodView::Rows`] is the
//! narrower reading `status` asks for (`input::row_pod`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, PodSpec, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use serde::de::DeserializeSeed;
use serde::{Deserialize, Deserializer};

use crate::input::row_pod::RowPod;
use crate::input::row_read;
use crate::util::utf8;

/// How much of each Pod a reading command needs decoded.
#[derive(Debug, Clone, Copy)]
pub enum PodView {
    /// The whole Pod but its managedFields: explain, logs, timeline, anything that diagnoses.
    Whole,
    /// Only what a `status` row is computed from (`input::row_pod`).
    Rows,
    /// The whole Pod where `picks(rows)` holds; a pod it does not pick may come in the Rows
    /// view only. `explain -A` decodes in full only the pods it will explain: a LIST page's
    /// items (`cluster::pod_pages`) and any Pod read from bytes (`pod_from_slice_as`: offline
    /// input); read from a stream (the slow way through a file) it reads as `Whole`.
    WholeIf(fn(&Pod) -> bool),
}

/// Reads one Pod in this view: `view.deserialize(deserializer)`, or as a sequence element
/// (`next_element_seed(view)`).
impl<'de> DeserializeSeed<'de> for PodView {
    type Value = Pod;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Pod, D::Error> {
        match self {
            PodView::Whole | PodView::WholeIf(..) => {
                LeanPod::deserialize(deserializer).map(|lean| lean.0)
            }
            PodView::Rows => RowPod::deserialize(deserializer).map(RowPod::into_pod),
        }
    }
}

/// A Pod decoded without its managedFields: `LeanPod::deserialize(…)?.0`, or as the element type
/// of a sequence (`Vec<LeanPod>`, a streaming `items` visitor).
#[derive(Debug, Clone)]
pub(crate) struct LeanPod(pub Pod);

impl<'de> Deserialize<'de> for LeanPod {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WirePod::deserialize(deserializer)?;
        Ok(LeanPod(wire.into_pod()))
    }
}

/// Decodes one Pod from JSON bytes, without its managedFields.
pub(crate) fn pod_from_slice(bytes: &[u8]) -> serde_json::Result<Pod> {
    pod_from_slice_as(PodView::Whole, bytes)
}

/// Decodes one Pod from JSON bytes in `view`. From bytes, [`PodView::WholeIf`] reads the Pod
/// in the Rows view first, and again whole only if it is picked.
pub(crate) fn pod_from_slice_as(view: PodView, bytes: &[u8]) -> serde_json::Result<Pod> {
    match utf8(bytes) {
        Some(text) => pod_from_str_as(view, text),
        // As bytes, only the strings read are checked: the error, if any, is the same.
        None => pod_read_as(
            view,
            || serde_json::Deserializer::from_slice(bytes),
            || None,
        ),
    }
}

/// [`pod_from_slice_as`] of a text known to be UTF-8: serde_json checks no string again, which
/// one by one was a tenth of decoding a LIST page.
pub(crate) fn pod_from_str_as(view: PodView, text: &str) -> serde_json::Result<Pod> {
    let by_hand = || row_read::pod_rows(text).ok();
    pod_read_as(view, || serde_json::Deserializer::from_str(text), by_hand)
}

/// `view` read by serde_json from `reader`, the Rows view from `by_hand` where it reads there
/// (`input::row_read`, which declines what it does not read as serde_json would).
fn pod_read_as<'de, R: serde_json::de::Read<'de>>(
    view: PodView,
    reader: impl Fn() -> serde_json::Deserializer<R>,
    by_hand: impl Fn() -> Option<Pod>,
) -> serde_json::Result<Pod> {
    let read = |view: PodView| {
        if let PodView::Rows = view
            && let Some(pod) = by_hand()
        {
            return Ok(pod);
        }
        let mut de = reader();
        let pod = view.deserialize(&mut de)?;
        de.end()?;
        Ok(pod)
    };
    match view {
        PodView::WholeIf(picks) => {
            let rows = read(PodView::Rows)?;
            if picks(&rows) {
                read(PodView::Whole)
            } else {
                Ok(rows)
            }
        }
        view => read(view),
    }
}

// Unknown keys (apiVersion, kind, managedFields, selfLink, fields of newer API versions) are
// skipped by serde's default, as k8s-openapi's own decoder skips unknown fields.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePod {
    #[serde(default)]
    metadata: WireMeta,
    spec: Option<PodSpec>,
    status: Option<PodStatus>,
}

/// A Pod's metadata without managedFields and selfLink (both views read it whole: it is small
/// next to a spec and a status).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireMeta {
    pub(super) annotations: Option<BTreeMap<String, String>>,
    pub(super) creation_timestamp: Option<Time>,
    pub(super) deletion_grace_period_seconds: Option<i64>,
    pub(super) deletion_timestamp: Option<Time>,
    pub(super) finalizers: Option<Vec<String>>,
    pub(super) generate_name: Option<String>,
    pub(super) generation: Option<i64>,
    pub(super) labels: Option<BTreeMap<String, String>>,
    pub(super) name: Option<String>,
    pub(super) namespace: Option<String>,
    pub(super) owner_references: Option<Vec<OwnerReference>>,
    pub(super) resource_version: Option<String>,
    pub(super) uid: Option<String>,
}

impl WirePod {
    fn into_pod(self) -> Pod {
        Pod {
            metadata: self.metadata.into_meta(),
            spec: self.spec,
            status: self.status,
        }
    }
}

impl WireMeta {
    pub(super) fn into_meta(self) -> ObjectMeta {
        ObjectMeta {
            annotations: self.annotations,
            creation_timestamp: self.creation_timestamp,
            deletion_grace_period_seconds: self.deletion_grace_period_seconds,
            deletion_timestamp: self.deletion_timestamp,
            finalizers: self.finalizers,
            generate_name: self.generate_name,
            generation: self.generation,
            labels: self.labels,
            managed_fields: None,
            name: self.name,
            namespace: self.namespace,
            owner_references: self.owner_references,
            resource_version: self.resource_version,
            self_link: None,
            uid: self.uid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> serde_json::Value {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": "web-0", "namespace": "shop", "uid": "u-1", "resourceVersion": "42",
                "generateName": "web-", "generation": 1,
                "creationTimestamp": "2026-11-01T10:00:00Z",
                "labels": {"app": "web"}, "annotations": {"a": "b"},
                "finalizers": ["f"],
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web",
                    "uid": "s-1", "controller": true}],
                "managedFields": [{"manager": "kubelet", "operation": "Update",
                    "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:phase": {}}}}],
                "selfLink": "/api/v1/namespaces/shop/pods/web-0"
            },
            "spec": {"initContainers": [{"name": "init", "image": "busybox"}],
                     "containers": [{"name": "app", "image": "nginx"}]},
            "status": {"phase": "Pending"}
        })
    }

    #[test]
    fn a_lean_pod_is_the_typed_pod_without_managed_fields() {
        let value = sample();
        let lean = pod_from_slice(&serde_json::to_vec(&value).unwrap()).unwrap();
        let mut full: Pod = serde_json::from_value(value).unwrap();
        assert!(full.metadata.managed_fields.is_some());
        full.metadata.managed_fields = None;
        full.metadata.self_link = None;
        assert_eq!(lean, full);
    }

    #[test]
    fn a_list_item_without_api_version_or_kind_decodes() {
        let mut value = sample();
        let object = value.as_object_mut().unwrap();
        object.remove("apiVersion");
        object.remove("kind");
        let pod = pod_from_slice(&serde_json::to_vec(&value).unwrap()).unwrap();
        assert_eq!(pod.metadata.name.as_deref(), Some("web-0"));
    }

    #[test]
    fn a_wrongly_typed_field_is_an_error_not_a_default() {
        let err = pod_from_slice(br#"{"metadata": {"name": 7}}"#).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
    }
}
