//! What the diagnosis knows besides the pod: events, the related objects a finding may need, and
//! log tails. A finding looks them up through [`Lookups`], one pod's view of the
//! [`RelatedObjects`]; a lookup of something not fetched yet answers `Lookup::Unfetched` and is
//! recorded in that pod's [`Misses`], so the I/O layer (`cluster::related`) fetches exactly what
//! the findings asked for (and nothing when they asked for nothing), then diagnoses again only
//! the pods that missed something that came in. Offline, they are whatever the files held.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

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

/// What one pod's diagnosis looked up and had not been fetched: what it asks for, and whether it
/// looked at the nodes without asking for them. Nothing fetched is ever replaced (each kind is
/// fetched once per namespace), so the pod's explanation can change only when one of these
/// comes in.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Misses {
    pub asked: Unfetched,
    pub peeked_at_nodes: bool,
}

impl Misses {
    /// Whether something this pod missed is among what just came in.
    pub fn any_came(
        &self,
        objects: &BTreeSet<(RelatedKind, String)>,
        logs: &BTreeSet<LogKey>,
    ) -> bool {
        let nodes = (RelatedKind::Nodes, String::new());
        self.asked.objects.iter().any(|o| objects.contains(o))
            || self.asked.logs.iter().any(|l| logs.contains(l))
            || (self.peeked_at_nodes && objects.contains(&nodes))
    }
}

/// One pod's view of the [`RelatedObjects`] while it is diagnosed: every lookup of something not
/// fetched yet is recorded in its [`Misses`].
pub(super) struct Lookups<'a> {
    objects: &'a RelatedObjects,
    misses: RefCell<Misses>,
}

/// The answer to a lookup that found `fetched`; `missed` records a miss where the pod's
/// lookups keep them.
fn answer<'a, T>(fetched: Option<&'a Fetched<T>>, missed: impl FnOnce()) -> Lookup<'a, T> {
    match fetched {
        Some(Fetched::Got(v)) => Lookup::Got(v),
        Some(Fetched::Unavailable(why)) => Lookup::Unavailable(why),
        None => {
            missed();
            Lookup::Unfetched
        }
    }
}

impl<'a> Lookups<'a> {
    pub(super) fn new(objects: &'a RelatedObjects) -> Self {
        Lookups {
            objects,
            misses: RefCell::default(),
        }
    }

    /// What the lookups so far missed.
    pub(super) fn into_misses(self) -> Misses {
        self.misses.into_inner()
    }

    /// A kind listed per namespace (or, with an empty namespace, once for the whole cluster).
    fn lookup<T>(
        &self,
        fetched: Option<&'a Fetched<T>>,
        kind: RelatedKind,
        namespace: &str,
    ) -> Lookup<'a, T> {
        answer(fetched, || {
            self.misses
                .borrow_mut()
                .asked
                .objects
                .insert((kind, namespace.to_string()));
        })
    }

    pub(super) fn events(&self, namespace: &str) -> Lookup<'a, Vec<Event>> {
        self.lookup(
            self.objects.events.get(namespace),
            RelatedKind::Events,
            namespace,
        )
    }

    pub(super) fn services(&self, namespace: &str) -> Lookup<'a, Vec<Service>> {
        self.lookup(
            self.objects.services.get(namespace),
            RelatedKind::Services,
            namespace,
        )
    }

    pub(super) fn endpoint_slices(&self, namespace: &str) -> Lookup<'a, Vec<EndpointSlice>> {
        self.lookup(
            self.objects.endpoint_slices.get(namespace),
            RelatedKind::EndpointSlices,
            namespace,
        )
    }

    pub(super) fn claims(&self, namespace: &str) -> Lookup<'a, Vec<PersistentVolumeClaim>> {
        self.lookup(
            self.objects.claims.get(namespace),
            RelatedKind::PersistentVolumeClaims,
            namespace,
        )
    }

    pub(super) fn secrets(&self, namespace: &str) -> Lookup<'a, BTreeSet<String>> {
        self.lookup(
            self.objects.secrets.get(namespace),
            RelatedKind::Secrets,
            namespace,
        )
    }

    pub(super) fn config_maps(&self, namespace: &str) -> Lookup<'a, Vec<ConfigMap>> {
        self.lookup(
            self.objects.config_maps.get(namespace),
            RelatedKind::ConfigMaps,
            namespace,
        )
    }

    pub(super) fn nodes(&self) -> Lookup<'a, Vec<Node>> {
        self.lookup(self.objects.nodes.as_ref(), RelatedKind::Nodes, "")
    }

    pub(super) fn persistent_volumes(&self) -> Lookup<'a, Vec<PersistentVolume>> {
        self.lookup(
            self.objects.persistent_volumes.as_ref(),
            RelatedKind::PersistentVolumes,
            "",
        )
    }

    pub(super) fn storage_classes(&self) -> Lookup<'a, Vec<StorageClass>> {
        self.lookup(
            self.objects.storage_classes.as_ref(),
            RelatedKind::StorageClasses,
            "",
        )
    }

    /// The Services named `name` in every namespace.
    pub(super) fn services_named(&self, name: &str) -> Lookup<'a, Vec<Service>> {
        self.lookup(
            self.objects.services_named.get(name),
            RelatedKind::ServicesNamed,
            name,
        )
    }

    /// The nodes if something fetched them already (or the offline input holds them), without
    /// asking for them: for checks worth making only when the list costs nothing more. Noted
    /// all the same, since the answer changes when another pod's finding fetches them.
    pub(super) fn nodes_if_fetched(&self) -> Lookup<'a, Vec<Node>> {
        answer(self.objects.nodes.as_ref(), || {
            self.misses.borrow_mut().peeked_at_nodes = true;
        })
    }

    pub(super) fn log(&self, key: &LogKey) -> Lookup<'a, String> {
        answer(self.objects.logs.get(key), || {
            self.misses.borrow_mut().asked.logs.insert(key.clone());
        })
    }

    /// The events about one pod (and its containers), oldest first.
    pub(super) fn pod_events(&self, pod: &Pod) -> Result<Vec<&'a Event>, String> {
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
    pub(super) fn object_events(&self, namespace: &str, kind: &str, name: &str) -> Vec<&'a Event> {
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
