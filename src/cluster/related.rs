//! Fills a diagnosis [`World`] with what the findings asked for: from the cluster (each kind
//! listed at most once per namespace, a 403 narrowing the answer instead of failing it), or
//! from the objects of the -f files.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{ConfigMap, Event, Node, PersistentVolumeClaim, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde::de::DeserializeOwned;

use crate::cluster::Cluster;
use crate::diagnosis::world::{Fetched, Needs, Related, World};
use crate::error::Error;
use crate::input::manifest::Inventory;
use crate::session::Source;

/// Fetches every need into the world.
pub async fn fulfil(source: &Source, world: &mut World, needs: &Needs, tail: u32) {
    for (kind, ns) in &needs.objects {
        match source {
            Source::Cluster(cluster) => fetch(cluster, world, *kind, ns).await,
            Source::Offline(inv) => offline(inv, world, *kind, ns),
        }
    }
    for key in &needs.logs {
        let log = match source {
            Source::Cluster(cluster) => cluster
                .logs(&key.namespace, &key.pod, &key.container, key.previous, tail)
                .await
                .map_err(|e| {
                    if e.is_forbidden() {
                        "pods/log is not readable: forbidden".to_string()
                    } else {
                        e.to_string()
                    }
                }),
            Source::Offline(_) => Err("logs are not part of offline (-f) input".to_string()),
        };
        world.logs.insert(key.clone(), into_fetched(log));
    }
}

fn into_fetched<T>(r: Result<T, String>) -> Fetched<T> {
    match r {
        Ok(v) => Fetched::Got(v),
        Err(why) => Fetched::Unavailable(why),
    }
}

/// What to say when a list failed: a 403 is said plainly, anything else with the error.
fn unavailable(kind: Related, ns: &str, err: &Error) -> String {
    let place = if ns.is_empty() {
        String::new()
    } else {
        format!(" in {ns}")
    };
    if err.is_forbidden() {
        format!("{}{place} are not readable: forbidden", kind.resource())
    } else {
        format!("could not read {}{place}: {err}", kind.resource())
    }
}

async fn fetch(cluster: &Cluster, world: &mut World, kind: Related, ns: &str) {
    let why = |e: Error| unavailable(kind, ns, &e);
    match kind {
        Related::Events => {
            let r = cluster.list_namespaced::<Event>(ns).await.map_err(why);
            world.events.insert(ns.into(), into_fetched(r));
        }
        Related::Services => {
            let r = cluster.list_namespaced::<Service>(ns).await.map_err(why);
            world.services.insert(ns.into(), into_fetched(r));
        }
        Related::EndpointSlices => {
            let r = cluster
                .list_namespaced::<EndpointSlice>(ns)
                .await
                .map_err(why);
            world.endpoint_slices.insert(ns.into(), into_fetched(r));
        }
        Related::PersistentVolumeClaims => {
            let r = cluster
                .list_namespaced::<PersistentVolumeClaim>(ns)
                .await
                .map_err(why);
            world.claims.insert(ns.into(), into_fetched(r));
        }
        Related::ConfigMaps => {
            let r = cluster.list_namespaced::<ConfigMap>(ns).await.map_err(why);
            world.config_maps.insert(ns.into(), into_fetched(r));
        }
        Related::Secrets => {
            let r = cluster
                .secret_names(ns)
                .await
                .map(|n| n.into_iter().collect::<BTreeSet<_>>())
                .map_err(why);
            world.secrets.insert(ns.into(), into_fetched(r));
        }
        Related::Nodes => {
            let r = cluster.list_cluster::<Node>().await.map_err(why);
            world.nodes = Some(into_fetched(r));
        }
    }
}

/// The objects of one kind in one namespace, from the files. A kind the files do not hold at
/// all is unknown rather than empty: a dump without Services says nothing about Services.
fn from_files<T: DeserializeOwned>(inv: &Inventory, kind: &str, ns: &str) -> Fetched<Vec<T>> {
    let objects: Vec<&serde_json::Value> = inv.of_kind(kind).collect();
    if objects.is_empty() {
        return Fetched::Unavailable(format!("no {kind} objects in the input files"));
    }
    Fetched::Got(
        objects
            .into_iter()
            .filter(|o| {
                ns.is_empty()
                    || o.pointer("/metadata/namespace")
                        .and_then(|v| v.as_str())
                        .unwrap_or("default")
                        == ns
            })
            .filter_map(|o| serde_json::from_value(o.clone()).ok())
            .collect(),
    )
}

fn offline(inv: &Inventory, world: &mut World, kind: Related, ns: &str) {
    match kind {
        Related::Events => {
            world.events.insert(ns.into(), from_files(inv, "Event", ns));
        }
        Related::Services => {
            world
                .services
                .insert(ns.into(), from_files(inv, "Service", ns));
        }
        Related::EndpointSlices => {
            world
                .endpoint_slices
                .insert(ns.into(), from_files(inv, "EndpointSlice", ns));
        }
        Related::PersistentVolumeClaims => {
            world
                .claims
                .insert(ns.into(), from_files(inv, "PersistentVolumeClaim", ns));
        }
        Related::ConfigMaps => {
            world
                .config_maps
                .insert(ns.into(), from_files(inv, "ConfigMap", ns));
        }
        Related::Secrets => {
            let names = match from_files::<k8s_openapi::api::core::v1::Secret>(inv, "Secret", ns) {
                Fetched::Got(secrets) => Fetched::Got(
                    secrets
                        .into_iter()
                        .filter_map(|s| s.metadata.name)
                        .collect(),
                ),
                Fetched::Unavailable(why) => Fetched::Unavailable(why),
            };
            world.secrets.insert(ns.into(), names);
        }
        Related::Nodes => world.nodes = Some(from_files(inv, "Node", "")),
    }
}
