//! The Rows view of a Pod: only the fields a `status` row is computed from (kubectl's
//! READY/STATUS/RESTARTS, the init sequence, AGE, NODE, the owner) and the fields pod selectors
//! match on. Everything else (env, probes, volumes, mounts, resources, managedFields, …) is
//! scanned past and never built: at 10k pods this decodes a LIST about 8x faster than the whole
//! Pod (docs/benchmarks.md).
//!
//! The result is still a `Pod`, so `status::print_pod` and `status::report` are the same code for
//! both views; a field outside this list is `None` in it. A test checks that every fixture's
//! status rows (table, wide and document) are the same from both views.

use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStatus, Pod, PodCondition, PodSpec, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde::Deserialize;

use crate::input::pod_json::WireMeta;

// Unknown keys are skipped by serde's default; each field keeps k8s-openapi's wire name and type,
// so a value of the wrong type is the same error the whole Pod gives. Fields k8s-openapi calls
// required are Options here too: its decoder takes them missing or null as their default.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RowPod {
    // The metadata whole (but managedFields): small, and selectors match any label.
    #[serde(default)]
    pub(super) metadata: WireMeta,
    pub(super) spec: Option<RowSpec>,
    pub(super) status: Option<RowStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RowSpec {
    pub(super) containers: Option<Vec<RowContainer>>,
    pub(super) host_network: Option<bool>,
    pub(super) init_containers: Option<Vec<RowContainer>>,
    pub(super) node_name: Option<String>,
    pub(super) restart_policy: Option<String>,
    pub(super) scheduler_name: Option<String>,
    pub(super) service_account_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RowContainer {
    pub(super) name: Option<String>,
    pub(super) image: Option<String>,
    // `Always` on an init container: a native sidecar.
    pub(super) restart_policy: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RowStatus {
    pub(super) conditions: Option<Vec<RowCondition>>,
    pub(super) container_statuses: Option<Vec<RowContainerStatus>>,
    pub(super) init_container_statuses: Option<Vec<RowContainerStatus>>,
    pub(super) message: Option<String>,
    pub(super) nominated_node_name: Option<String>,
    pub(super) phase: Option<String>,
    #[serde(rename = "podIP")]
    pub(super) pod_ip: Option<String>,
    pub(super) reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RowCondition {
    #[serde(rename = "type")]
    pub(super) type_: Option<String>,
    pub(super) status: Option<String>,
    pub(super) reason: Option<String>,
    pub(super) message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RowContainerStatus {
    pub(super) image: Option<String>,
    #[serde(rename = "imageID")]
    pub(super) image_id: Option<String>,
    pub(super) last_state: Option<ContainerState>,
    pub(super) name: Option<String>,
    pub(super) ready: Option<bool>,
    pub(super) restart_count: Option<i32>,
    pub(super) started: Option<bool>,
    pub(super) state: Option<ContainerState>,
}

impl RowPod {
    /// About how much memory this row holds: its structs, and a share for each string's text
    /// and allocation. For a budget on how many rows are kept (`json_pieces`), not exact.
    pub(crate) fn footprint(&self) -> usize {
        use std::mem::size_of;
        // A string's text with its allocation's rounding and bookkeeping.
        const TEXT: usize = 48;
        let len = |list: Option<usize>| list.unwrap_or(0);
        let meta = &self.metadata;
        let entries = [&meta.labels, &meta.annotations]
            .into_iter()
            .flatten()
            .flat_map(|map| map.iter())
            .map(|(key, value)| key.len() + value.len() + 2 * TEXT + 48)
            .sum::<usize>();
        let owners = len(meta.owner_references.as_ref().map(Vec::len));
        let spec = self.spec.as_ref();
        let containers = len(spec.and_then(|s| s.containers.as_ref().map(Vec::len)))
            + len(spec.and_then(|s| s.init_containers.as_ref().map(Vec::len)));
        let status = self.status.as_ref();
        let statuses = len(status.and_then(|s| s.container_statuses.as_ref().map(Vec::len)))
            + len(status.and_then(|s| s.init_container_statuses.as_ref().map(Vec::len)));
        let conditions = len(status.and_then(|s| s.conditions.as_ref().map(Vec::len)));
        size_of::<RowPod>()
            + 12 * TEXT
            + entries
            + owners * (size_of::<OwnerReference>() + 4 * TEXT)
            + containers * (size_of::<RowContainer>() + 3 * TEXT)
            + statuses * (size_of::<RowContainerStatus>() + 6 * TEXT)
            + conditions * (size_of::<RowCondition>() + 3 * TEXT)
    }

    pub(crate) fn into_pod(self) -> Pod {
        Pod {
            metadata: self.metadata.into_meta(),
            spec: self.spec.map(RowSpec::into_spec),
            status: self.status.map(RowStatus::into_status),
        }
    }
}

impl RowSpec {
    fn into_spec(self) -> PodSpec {
        let containers = |list: Vec<RowContainer>| -> Vec<Container> {
            // Each Container (2.3 KB, nearly all of it fields left empty here) is made where
            // it stays: built apart and moved in, the copies were 3% of a thread.
            let mut out = Vec::new();
            out.resize_with(list.len(), Container::default);
            for (container, row) in out.iter_mut().zip(list) {
                row.fill(container);
            }
            out
        };
        PodSpec {
            containers: containers(self.containers.unwrap_or_default()),
            host_network: self.host_network,
            init_containers: self.init_containers.map(containers),
            node_name: self.node_name,
            restart_policy: self.restart_policy,
            scheduler_name: self.scheduler_name,
            service_account_name: self.service_account_name,
            ..PodSpec::default()
        }
    }
}

impl RowContainer {
    fn fill(self, container: &mut Container) {
        container.name = self.name.unwrap_or_default();
        container.image = self.image;
        container.restart_policy = self.restart_policy;
    }
}

impl RowStatus {
    fn into_status(self) -> PodStatus {
        let statuses = |list: Vec<RowContainerStatus>| -> Vec<ContainerStatus> {
            list.into_iter()
                .map(RowContainerStatus::into_status)
                .collect()
        };
        PodStatus {
            conditions: self.conditions.map(|list| {
                list.into_iter()
                    .map(|c| PodCondition {
                        type_: c.type_.unwrap_or_default(),
                        status: c.status.unwrap_or_default(),
                        reason: c.reason,
                        message: c.message,
                        ..PodCondition::default()
                    })
                    .collect()
            }),
            container_statuses: self.container_statuses.map(statuses),
            init_container_statuses: self.init_container_statuses.map(statuses),
            message: self.message,
            nominated_node_name: self.nominated_node_name,
            phase: self.phase,
            pod_ip: self.pod_ip,
            reason: self.reason,
            ..PodStatus::default()
        }
    }
}

impl RowContainerStatus {
    fn into_status(self) -> ContainerStatus {
        ContainerStatus {
            image: self.image.unwrap_or_default(),
            image_id: self.image_id.unwrap_or_default(),
            last_state: self.last_state,
            name: self.name.unwrap_or_default(),
            ready: self.ready.unwrap_or_default(),
            restart_count: self.restart_count.unwrap_or_default(),
            started: self.started,
            state: self.state,
            ..ContainerStatus::default()
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::Path;

    use serde_json::Value;

    use crate::input::pod_json::{PodView, pod_from_slice_as};
    use crate::input::yaml;
    use crate::status::report;

    /// Every Pod in the project's fixtures, as compact JSON (keys in the order the files give
    /// them).
    pub(crate) fn fixture_pods() -> Vec<(String, Vec<u8>)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut pods = Vec::new();
        for dir in ["pods", "explain", "explain-rows", "startup"] {
            let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
                .collect();
            files.sort();
            for file in files {
                let text = std::fs::read_to_string(&file).unwrap();
                let Ok(docs) = yaml::documents(&text) else {
                    continue;
                };
                let mut objects: Vec<Value> = Vec::new();
                for doc in docs {
                    match doc["items"].as_array() {
                        Some(items) => objects.extend(items.iter().cloned()),
                        None => objects.push(doc),
                    }
                }
                for object in objects.into_iter().filter(|o| o["kind"] == "Pod") {
                    let name = format!("{}: {}", file.display(), object["metadata"]["name"]);
                    pods.push((name, serde_json::to_vec(&object).unwrap()));
                }
            }
        }
        pods
    }

    #[test]
    fn status_rows_are_the_same_from_the_rows_view_as_from_the_whole_pod() {
        let now = "2026-11-27T12:00:00Z".parse().unwrap();
        let pods = fixture_pods();
        assert!(pods.len() > 100, "only {} fixture pods", pods.len());
        let mut drifting = 0;
        for (name, json) in pods {
            let whole = pod_from_slice_as(PodView::Whole, &json).unwrap();
            let rows = pod_from_slice_as(PodView::Rows, &json).unwrap();
            // The record behind the table, -o wide and the InitStatusList document.
            for detail in [report::Detail::Full, report::Detail::Row] {
                assert_eq!(
                    report::report(&rows, now, detail),
                    report::report(&whole, now, detail),
                    "{name}"
                );
            }
            assert_eq!(
                crate::diagnosis::needs_explaining(&rows),
                crate::diagnosis::needs_explaining(&whole),
                "--stuck: {name}"
            );
            // The drift `explain` and `--stuck` ask of every pod is the drift the states show.
            use crate::status::init_timeline;
            let states = init_timeline::init_containers(&whole, now);
            assert_eq!(
                init_timeline::any_image_drift(&whole),
                states.iter().any(|c| c.image_drift),
                "drift: {name}"
            );
            drifting += usize::from(init_timeline::any_image_drift(&whole));
            // The plain table reads nothing a Row record leaves out.
            assert_eq!(
                table(&report::report(&rows, now, report::Detail::Row), now),
                table(&report::report(&whole, now, report::Detail::Full), now),
                "table: {name}"
            );
        }
        assert!(drifting > 0, "no fixture pod with image drift");
    }

    /// The plain `status` table (with its header) of one record.
    fn table(item: &report::InitStatus, now: k8s_openapi::jiff::Timestamp) -> String {
        use crate::render::status::{TableLayout, TableOptions, TableRow, write_table};
        let row = TableRow {
            item,
            event: None,
            deleted: false,
        };
        let opts = TableOptions {
            show_namespace: true,
            wide: false,
            headers: true,
            palette: crate::render::Palette { enabled: false },
        };
        let mut out = Vec::new();
        write_table(&mut out, &[row], opts, now, &mut TableLayout::default()).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// `input::row_read` takes every fixture pod (none is left to serde_json) to the Pod serde
    /// reads.
    #[test]
    fn every_fixture_pod_is_read_by_hand_as_serde_reads_it() {
        use serde::de::DeserializeSeed;
        for (name, json) in fixture_pods() {
            let text = std::str::from_utf8(&json).unwrap();
            let mut de = serde_json::Deserializer::from_str(text);
            let by_serde = PodView::Rows.deserialize(&mut de).unwrap();
            let by_hand = crate::input::row_read::pod_rows(text)
                .unwrap_or_else(|_| panic!("declined: {name}"));
            assert_eq!(by_hand, by_serde, "{name}");
        }
    }

    #[test]
    fn missing_or_null_required_fields_read_as_k8s_openapi_reads_them() {
        for text in [
            r#"{"spec": {}}"#,
            r#"{"spec": {"containers": null, "initContainers": [{"name": null}]}}"#,
            r#"{"status": {"containerStatuses": [{"name": "a"}], "conditions": [{}]}}"#,
        ] {
            let rows = pod_from_slice_as(PodView::Rows, text.as_bytes()).unwrap();
            let whole = pod_from_slice_as(PodView::Whole, text.as_bytes()).unwrap();
            assert_eq!(rows, whole, "{text}");
        }
    }

    #[test]
    fn a_wrongly_typed_field_the_rows_read_is_an_error() {
        for text in [
            r#"{"metadata": {"name": 7}}"#,
            r#"{"spec": {"containers": [{"name": "a", "image": 1}]}}"#,
            r#"{"status": {"containerStatuses": [{"name": "a", "ready": "yes"}]}}"#,
            r#"{"status": {"conditions": [{"type": "Ready", "status": true}]}}"#,
        ] {
            assert!(
                pod_from_slice_as(PodView::Rows, text.as_bytes()).is_err(),
                "{text}"
            );
            assert!(
                pod_from_slice_as(PodView::Whole, text.as_bytes()).is_err(),
                "{text}"
            );
        }
    }
}
