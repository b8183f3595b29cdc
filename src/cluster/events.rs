//! A namespace's events for `timeline`, from the cluster (one LIST) or from the -f files; what
//! cannot be had is said (a 403, a dump without events), never an error of the command.

use k8s_openapi::api::core::v1::Event;

use crate::session::Source;

/// The events of `namespace`, or why there are none to read.
pub(crate) async fn in_namespace(source: &Source, namespace: &str) -> Result<Vec<Event>, String> {
    match source {
        Source::Cluster(cluster) => {
            cluster
                .list_namespaced::<Event>(namespace)
                .await
                .map_err(|e| {
                    if e.is_forbidden() {
                        format!("events in {namespace} are not readable: forbidden")
                    } else {
                        format!("could not read events in {namespace}: {e}")
                    }
                })
        }
        Source::Offline(inv) => {
            let all: Vec<&serde_json::Value> = inv.of_kind("Event").collect();
            if all.is_empty() {
                return Err("the input files hold no Event objects".into());
            }
            Ok(all
                .into_iter()
                .filter(|o| {
                    o.pointer("/metadata/namespace")
                        .and_then(|v| v.as_str())
                        .unwrap_or("default")
                        == namespace
                })
                .filter_map(|o| serde_json::from_value(o.clone()).ok())
                .collect())
        }
    }
}
