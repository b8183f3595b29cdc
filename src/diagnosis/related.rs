//! What the diagnosis knows besides the pod: events, the related objects a finding may need, and
//! log tails. A finding looks them up in [`RelatedObjects`]; a lookup of something not fetched
//! yet answers `Lookup::Unfetched` and records it in [`Unfetched`], so the I/O layer
//! (`cluster::related::fetch`) fetches exactly what the findings asked for (and nothing when they
//! asked for nothing), then the diagnosis runs again. Offline, they are whatever the files held.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use k8s_openapi::api::core::v1::{
    ConfigMap, Event, Node, PersistentVolume, PersistentVolumeClaim, Pod, Service,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::storage::v1::StorageClass;

/// One kind of related object, fetched per namespace (cluster-wide for nodes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RelatedKind {
    Events,
    Services,
    EndpointSlices,
    PersistentVolumeClaims,
    Nodes,
    Secrets,
    ConfigMaps,
    /// Cluster-scoped, like nodes.
    PersistentVolumes,
    StorageClasses,
    /// The Services of one name in every namespace (the "namespace" slot holds the name): only
    /// to find where a missing one lives.
    ServicesNamed,
}

impl RelatedKind {
    /// The plural the API server (and RBAC) uses.
    pub fn resource(self) -> &'static str {
        match self {
            RelatedKind::Events => "events",
            RelatedKind::Services => "services",
            RelatedKind::EndpointSlices => "endpointslices",
            RelatedKind::PersistentVolumeClaims => "persistentvolumeclaims",
            RelatedKind::Nodes => "nodes",
            RelatedKind::Secrets => "secrets",
            RelatedKind::ConfigMaps => "configmaps",
            RelatedKind::PersistentVolumes => "persistentvolumes",
            RelatedKind::StorageClasses => "storageclasses",
            RelatedKind::ServicesNamed => "services",
        }
    }
}

/// A log the diagnosis wants to quote.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogKey {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub previous: bool,
}

/// The answer to a lookup in [`RelatedObjects`].
pub(super) enum Lookup<'a, T> {
    Got(&'a T),
    /// Could not be had: forbidden, failed, or not in the offline input. The text says which.
    Unavailable(&'a str),
    /// Not fetched yet; recorded in [`Unfetched`].
    Unfetched,
}

/// What fetching one kind (or one log) gave.
#[derive(Debug, Clone)]
pub enum Fetched<T> {
    Got(T),
    Unavailable(String),
}

/// Related objects by namespace, and log tails, as fetched so far.
#[derive(Default)]
pub struct RelatedObjects {
    pub events: BTreeMap<String, Fetched<Vec<Event>>>,
    pub services: BTreeMap<String, Fetched<Vec<Service>>>,
    pub endpoint_slices: BTreeMap<String, Fetched<Vec<EndpointSlice>>>,
    pub claims: BTreeMap<String, Fetched<Vec<PersistentVolumeClaim>>>,
    pub nodes: Option<Fetched<Vec<Node>>>,
    /// Secret names only: their data is never needed (or fetched).
    pub secrets: BTreeMap<String, Fetched<BTreeSet<String>>>,
    pub config_maps: BTreeMap<String, Fetched<Vec<ConfigMap>>>,
    pub logs: BTreeMap<LogKey, Fetched<String>>,
    pub persistent_volumes: Option<Fetched<Vec<PersistentVolume>>>,
    pub storage_classes: Option<Fetched<Vec<StorageClass>>>,
    /// Services by name, from every namespace.
    pub services_named: BTreeMap<String, Fetched<Vec<Service>>>,
    // A Mutex, not a RefCell: pods are diagnosed on every core (util::parallel).
    unfetched: Mutex<Unfetched>,
}

/// What the diagnosis looked up and was not fetched yet: kinds by namespace, and logs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Unfetched {
    pub objects: BTreeSet<(RelatedKind, String)>,
    pub logs: BTreeSet<LogKey>,
}

impl Unfetched {
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty() && self.logs.is_empty()
    }
}

/// A panic aborts the process (panic = "abort"), so a poisoned lock still holds a good value.
fn locked(unfetched: &Mutex<Unfetched>) -> MutexGuard<'_, Unfetched> {
    unfetched.lock().unwrap_or_else(PoisonError::into_inner)
}

fn lookup<'a, T>(
    map: &'a BTreeMap<String, Fetched<T>>,
    unfetched: &Mutex<Unfetched>,
    kind: RelatedKind,
    namespace: &str,
) -> Lookup<'a, T> {
    match map.get(namespace) {
        Some(Fetched::Got(v)) => Lookup::Got(v),
        Some(Fetched::Unavailable(why)) => Lookup::Unavailable(why),
        None => {
            locked(unfetched)
                .objects
                .insert((kind, namespace.to_string()));
            Lookup::Unfetched
        }
    }
}

impl RelatedObjects {
    pub(super) fn events(&self, namespace: &str) -> Lookup<'_, Vec<Event>> {
        lookup(
            &self.events,
            &self.unfetched,
            RelatedKind::Events,
            namespace,
        )
    }

    pub(super) fn services(&self, namespace: &str) -> Lookup<'_, Vec<Service>> {
        lookup(
            &self.services,
            &self.unfetched,
            RelatedKind::Services,
            namespace,
        )
    }

    pub(super) fn endpoint_slices(&self, namespace: &str) -> Lookup<'_, Vec<EndpointSlice>> {
        lookup(
            &self.endpoint_slices,
            &self.unfetched,
            RelatedKind::EndpointSlices,
            namespace,
        )
    }

    pub(super) fn claims(&self, namespace: &str) -> Lookup<'_, Vec<PersistentVolumeClaim>> {
        lookup(
            &self.claims,
            &self.unfetched,
            RelatedKind::PersistentVolumeClaims,
            namespace,
        )
    }

    pub(super) fn secrets(&self, namespace: &str) -> Lookup<'_, BTreeSet<String>> {
        lookup(
            &self.secrets,
            &self.unfetched,
            RelatedKind::Secrets,
            namespace,
        )
    }

    pub(super) fn config_maps(&self, namespace: &str) -> Lookup<'_, Vec<ConfigMap>> {
        lookup(
            &self.config_maps,
            &self.unfetched,
            RelatedKind::ConfigMaps,
            namespace,
        )
    }

    pub(super) fn nodes(&self) -> Lookup<'_, Vec<Node>> {
        self.cluster_wide(&self.nodes, RelatedKind::Nodes)
    }

    pub(super) fn persistent_volumes(&self) -> Lookup<'_, Vec<PersistentVolume>> {
        self.cluster_wide(&self.persistent_volumes, RelatedKind::PersistentVolumes)
    }

    pub(super) fn storage_classes(&self) -> Lookup<'_, Vec<StorageClass>> {
        self.cluster_wide(&self.storage_classes, RelatedKind::StorageClasses)
    }

    /// The Services named `name` in every namespace.
    pub(super) fn services_named(&self, name: &str) -> Lookup<'_, Vec<Service>> {
        lookup(
            &self.services_named,
            &self.unfetched,
            RelatedKind::ServicesNamed,
            name,
        )
    }

    /// A kind fetched once for the whole cluster (recorded with an empty namespace).
    fn cluster_wide<'a, T>(
        &self,
        slot: &'a Option<Fetched<Vec<T>>>,
        kind: RelatedKind,
    ) -> Lookup<'a, Vec<T>> {
        match slot {
            Some(Fetched::Got(v)) => Lookup::Got(v),
            Some(Fetched::Unavailable(why)) => Lookup::Unavailable(why),
            None => {
                locked(&self.unfetched)
                    .objects
                    .insert((kind, String::new()));
                Lookup::Unfetched
            }
        }
    }

    /// The nodes if something fetched them already (or the offline input holds them), without
    /// asking for them: for checks worth making only when the list costs nothing more.
    pub(super) fn nodes_if_fetched(&self) -> Lookup<'_, Vec<Node>> {
        match &self.nodes {
            Some(Fetched::Got(v)) => Lookup::Got(v),
            Some(Fetched::Unavailable(why)) => Lookup::Unavailable(why),
            None => Lookup::Unfetched,
        }
    }

    pub(super) fn log(&self, key: &LogKey) -> Lookup<'_, String> {
        match self.logs.get(key) {
            Some(Fetched::Got(v)) => Lookup::Got(v),
            Some(Fetched::Unavailable(why)) => Lookup::Unavailable(why),
            None => {
                locked(&self.unfetched).logs.insert(key.clone());
                Lookup::Unfetched
            }
        }
    }

    /// Everything looked up since the last call that was not fetched yet.
    pub fn take_unfetched(&self) -> Unfetched {
        std::mem::take(&mut locked(&self.unfetched))
    }

    /// The events about one pod (and its containers), oldest first.
    pub(super) fn pod_events(&self, pod: &Pod) -> Result<Vec<&Event>, String> {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
        let events = match self.events(ns) {
            Lookup::Got(events) => events,
            Lookup::Unavailable(why) => return Err(why.to_string()),
            Lookup::Unfetched => return Ok(Vec::new()),
        };
        let uid = pod.metadata.uid.as_deref();
        let name = pod.metadata.name.as_deref();
        let mut mine: Vec<&Event> = events
            .iter()
            .filter(|e| {
                let o = &e.involved_object;
                o.kind.as_deref() == Some("Pod")
                    && match (uid, o.uid.as_deref()) {
                        (Some(a), Some(b)) => a == b,
                        _ => o.name.as_deref() == name,
                    }
            })
            .collect();
        mine.sort_by_key(|e| event_time(e));
        Ok(mine)
    }

    /// Events about another object (a PVC, say), oldest first.
    pub(super) fn object_events(&self, namespace: &str, kind: &str, name: &str) -> Vec<&Event> {
        let Lookup::Got(events) = self.events(namespace) else {
            return Vec::new();
        };
        let mut found: Vec<&Event> = events
            .iter()
            .filter(|e| {
                e.involved_object.kind.as_deref() == Some(kind)
                    && e.involved_object.name.as_deref() == Some(name)
            })
            .collect();
        found.sort_by_key(|e| event_time(e));
        found
    }
}

/// When an event last happened, whichever API generation wrote it.
fn event_time(e: &Event) -> Option<k8s_openapi::jiff::Timestamp> {
    e.series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref())
        .map(|t| t.0)
        .or_else(|| e.last_timestamp.as_ref().map(|t| t.0))
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.first_timestamp.as_ref().map(|t| t.0))
}

/// How many times an event was seen.
fn event_count(e: &Event) -> i32 {
    e.series
        .as_ref()
        .and_then(|s| s.count)
        .or(e.count)
        .unwrap_or(1)
        .max(1)
}

/// An event as one evidence line: type, reason, how often, and its (escaped) message.
pub(super) fn event_line(e: &Event) -> String {
    let count = event_count(e);
    let times = if count > 1 {
        format!(" (×{count})")
    } else {
        String::new()
    };
    format!(
        "event {} {}{}: {}",
        e.type_.as_deref().unwrap_or("Normal"),
        e.reason.as_deref().unwrap_or_default(),
        times,
        e.message.as_deref().unwrap_or_default().trim()
    )
}
