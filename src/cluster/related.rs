//! Fetches what a diagnosis looked up and did not have ([`Unfetched`]) into its
//! [`RelatedObjects`]: from the cluster (each kind listed at most once per namespace, a 403
//! narrowing the answer instead of failing it), or from the objects of the -f files.

use std::collections::{BTreeSet, HashSet};

use futures::{StreamExt, stream};

use k8s_openapi::api::core::v1::{
    ConfigMap, Event, Node, PersistentVolume, PersistentVolumeClaim, Pod, Service,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::jiff::Timestamp;
use serde::de::DeserializeOwned;

use crate::cluster::Cluster;
use crate::diagnosis::grouping::{self, Group};
use crate::diagnosis::related::{Fetched, LogKey, Misses, RelatedKind, RelatedObjects, Unfetched};
use crate::diagnosis::{self, Explanation};
use crate::error::Error;
use crate::input::manifest::Inventory;
use crate::session::Source;
use crate::util::parallel;

/// What to fetch is discovered as the diagnosis learns more (events first, then what they point
/// at, then the logs); each round fetches only new kinds, so this bounds the rounds, not the
/// requests.
const MAX_ROUNDS: usize = 6;

/// Requests in flight at once (logs, or related lists): a whole cluster's representatives and
/// namespaces are read in parallel, but never so many that an API server's
/// priority-and-fairness throttles the tool.
pub(crate) const MAX_IN_FLIGHT: usize = 8;

/// Whose logs are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogScope {
    /// Every pod that quotes one (`--no-group`: every pod is shown in full).
    EveryPod,
    /// One representative per group (diagnosis::grouping): the one whose evidence is shown.
    OnePerGroup,
}

/// Explains `pods`, fetching what their diagnoses look up (log tails of `tail` lines): events
/// first, one LIST per namespace, then each round only what the last one asked for and did
/// not have, until nothing more is asked. Logs come last, once the related objects have
/// settled the findings (and so the groups), for the pods `scope` names; `--tail 0` reads none.
/// Returns the explanations (one per pod, in order) and their groups.
pub(crate) async fn explain_all(
    source: &Source,
    pods: &[Pod],
    now: Timestamp,
    tail: u32,
    mut scope: LogScope,
) -> (Vec<Explanation>, Vec<Group>) {
    if let Source::Offline(_) = source {
        // No log is read offline, so none is passed over: each pod says so for itself.
        scope = LogScope::EveryPod;
    }
    let mut objects = RelatedObjects::default();
    let namespaces: BTreeSet<String> = pods
        .iter()
        .map(|p| {
            p.metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into())
        })
        .collect();
    let mut asked = Unfetched::default();
    asked
        .objects
        .extend(namespaces.into_iter().map(|ns| (RelatedKind::Events, ns)));
    if let Source::Offline(inv) = source {
        // Free offline: lets checks that are not worth a LIST online (is the pod's node up?)
        // see the nodes a dump holds.
        objects.nodes = Some(list_from_files(inv, "Node", ""));
    }
    let mut explanations: Vec<Explanation> = Vec::new();
    // What each pod's diagnosis looked up and did not find, beside its explanation: a round
    // diagnoses again only the pods that missed something it brought.
    let mut misses: Vec<Misses> = Vec::new();
    // Logs asked for by pods that another pod stands for: read if that changes.
    let mut passed_over: BTreeSet<LogKey> = BTreeSet::new();
    // The groups of the explanations as they stand, once found (grouping is a pass over
    // every pod; the last round's are the final ones when no log changed them).
    let mut groups: Option<Vec<Group>> = None;
    for round in 0..MAX_ROUNDS {
        let logs = if asked.objects.is_empty() && tail > 0 {
            passed_over.append(&mut asked.logs);
            let readers = log_readers(pods, &explanations, now, scope, &mut groups);
            let (read, rest): (BTreeSet<LogKey>, BTreeSet<LogKey>) =
                std::mem::take(&mut passed_over)
                    .into_iter()
                    .partition(|k| readers.contains(&(k.namespace.as_str(), k.pod.as_str())));
            passed_over = rest;
            read
        } else {
            // Asked again once the objects are in (or never, with `--tail 0`).
            asked.logs.clear();
            BTreeSet::new()
        };
        if asked.is_empty() && logs.is_empty() {
            break;
        }
        match source {
            Source::Cluster(cluster) => {
                // Put in in the order asked, as one after another they were.
                let found: Vec<Found> = stream::iter(&asked.objects)
                    .map(|(kind, ns)| fetch_from_cluster(cluster, *kind, ns.clone()))
                    .buffered(MAX_IN_FLIGHT)
                    .collect()
                    .await;
                found.into_iter().for_each(|put| put(&mut objects));
            }
            Source::Offline(inv) => {
                for (kind, ns) in &asked.objects {
                    fetch_from_files(inv, &mut objects, *kind, ns);
                }
            }
        }
        objects
            .logs
            .extend(fetch_logs(source, logs.clone(), tail).await);
        let explain = |p: &Pod| diagnosis::explain(p, &objects, now, tail);
        let regroup = if round == 0 {
            (explanations, misses) = parallel::map(pods, explain).into_iter().unzip();
            true
        } else {
            let came = |m: &Misses| m.any_came(&asked.objects, &logs);
            explain_again(pods, &mut explanations, &mut misses, came, explain)
        };
        if regroup {
            groups = None;
        }
        asked = all_missed(&misses);
    }
    let passed_over: HashSet<(String, String)> = passed_over
        .into_iter()
        .map(|k| (k.namespace, k.pod))
        .collect();
    // Notes do not move a pod to another group: the groups are final here.
    let groups = groups.unwrap_or_else(|| grouping::group(pods, &explanations, now));
    note_passed_over(&mut explanations, &groups, &passed_over);
    (explanations, groups)
}

/// The pods whose logs are read: every one, or each group's representative (the groups
/// found kept in `groups`).
fn log_readers<'a>(
    pods: &[Pod],
    explanations: &'a [Explanation],
    now: Timestamp,
    scope: LogScope,
    groups: &mut Option<Vec<Group>>,
) -> HashSet<(&'a str, &'a str)> {
    let key = |e: &'a Explanation| (e.namespace.raw(), e.name.raw());
    match scope {
        LogScope::EveryPod => explanations.iter().map(key).collect(),
        LogScope::OnePerGroup => groups
            .get_or_insert_with(|| grouping::group(pods, explanations, now))
            .iter()
            .map(|g| key(&explanations[g.representative()]))
            .collect(),
    }
}

/// A pod whose log was not read because another pod stands for its group says so, naming it.
fn note_passed_over(
    explanations: &mut [Explanation],
    groups: &[Group],
    passed_over: &HashSet<(String, String)>,
) {
    if passed_over.is_empty() {
        return;
    }
    for g in groups {
        let representative = explanations[g.representative()].name.clone();
        for &m in &g.members[1..] {
            let e = &mut explanations[m];
            if passed_over.contains(&(e.namespace.raw().to_string(), e.name.raw().to_string())) {
                e.notes.push(
                    format!(
                        "log not read: pod/{} stands for this pod's group and its log is quoted there (--no-group reads every pod's log)",
                        representative.raw()
                    )
                    .into(),
                );
            }
        }
    }
}

/// Reads `keys` (log tails of `tail` lines), at most [`MAX_IN_FLIGHT`] at once.
async fn fetch_logs(
    source: &Source,
    keys: BTreeSet<LogKey>,
    tail: u32,
) -> Vec<(LogKey, Fetched<String>)> {
    let cluster = match source {
        Source::Cluster(cluster) => cluster,
        Source::Offline(_) => {
            let why =
                || Fetched::Unavailable("logs are not part of offline (-f) input".to_string());
            return keys.into_iter().map(|k| (k, why())).collect();
        }
    };
    stream::iter(keys)
        .map(|key| async move {
            let log = cluster
                .logs(&key.namespace, &key.pod, &key.container, key.previous, tail)
                .await
                .map_err(|e| {
                    if e.is_forbidden() {
                        "pods/log is not readable: forbidden".to_string()
                    } else {
                        e.to_string()
                    }
                });
            (key, into_fetched(log))
        })
        .buffer_unordered(MAX_IN_FLIGHT)
        .collect()
        .await
}

fn into_fetched<T>(r: Result<T, String>) -> Fetched<T> {
    match r {
        Ok(v) => Fetched::Got(v),
        Err(why) => Fetched::Unavailable(why),
    }
}

/// What to say when a list failed: a 403 is said plainly, anything else with the error.
fn unavailable(kind: RelatedKind, ns: &str, err: &Error) -> String {
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

/// The pods whose diagnosis `again` picks by what it missed explained anew, across the cores
/// (after a log round, a representative per group: a thousand pods at 10k). Whether one of
/// them would be grouped differently now (a log that names the cause, say).
fn explain_again(
    pods: &[Pod],
    explanations: &mut [Explanation],
    misses: &mut [Misses],
    again: impl Fn(&Misses) -> bool,
    explain: impl Fn(&Pod) -> (Explanation, Misses) + Sync,
) -> bool {
    let changed: Vec<usize> = (0..misses.len()).filter(|&i| again(&misses[i])).collect();
    let redone = parallel::map(&changed, |&i| explain(&pods[i]));
    let mut regroup = false;
    for (i, (e, m)) in changed.into_iter().zip(redone) {
        regroup |= !grouping::placed_alike(&explanations[i], &e);
        explanations[i] = e;
        misses[i] = m;
    }
    regroup
}

/// Everything the pods' diagnoses missed: what the next round fetches. Gathered by reference
/// and copied once: many pods miss the same things (their namespace's kinds).
fn all_missed(misses: &[Misses]) -> Unfetched {
    let objects: BTreeSet<&(RelatedKind, String)> =
        misses.iter().flat_map(|m| &m.asked.objects).collect();
    let logs: BTreeSet<&LogKey> = misses.iter().flat_map(|m| &m.asked.logs).collect();
    Unfetched {
        objects: objects.into_iter().cloned().collect(),
        logs: logs.into_iter().cloned().collect(),
    }
}

/// What one related LIST found, to be put with the others (`objects`) once it is in.
type Found = Box<dyn FnOnce(&mut RelatedObjects) + Send>;

/// One related LIST from the cluster. Lists for different kinds and namespaces are read at once
/// (`MAX_IN_FLIGHT` in flight): one after another, a hundred namespaces' events and
/// services were most of `explain -A`'s time at 10k pods, the cores idle (docs/benchmarks.md).
async fn fetch_from_cluster(cluster: &Cluster, kind: RelatedKind, ns: String) -> Found {
    let why = |e: Error| unavailable(kind, &ns, &e);
    match kind {
        RelatedKind::Events => {
            let r = into_fetched(cluster.list_namespaced::<Event>(&ns).await.map_err(why));
            Box::new(move |o| _ = o.events.insert(ns, r))
        }
        RelatedKind::Services => {
            let r = into_fetched(cluster.list_namespaced::<Service>(&ns).await.map_err(why));
            Box::new(move |o| _ = o.services.insert(ns, r))
        }
        RelatedKind::EndpointSlices => {
            let r = cluster.list_namespaced::<EndpointSlice>(&ns).await;
            let r = into_fetched(r.map_err(why));
            Box::new(move |o| _ = o.endpoint_slices.insert(ns, r))
        }
        RelatedKind::PersistentVolumeClaims => {
            let r = cluster.list_namespaced::<PersistentVolumeClaim>(&ns).await;
            let r = into_fetched(r.map_err(why));
            Box::new(move |o| _ = o.claims.insert(ns, r))
        }
        RelatedKind::ConfigMaps => {
            let r = into_fetched(cluster.list_namespaced::<ConfigMap>(&ns).await.map_err(why));
            Box::new(move |o| _ = o.config_maps.insert(ns, r))
        }
        RelatedKind::Secrets => {
            let r = cluster
                .secret_names(&ns)
                .await
                .map(|n| n.into_iter().collect::<BTreeSet<_>>());
            let r = into_fetched(r.map_err(why));
            Box::new(move |o| _ = o.secrets.insert(ns, r))
        }
        RelatedKind::Nodes => {
            let r = into_fetched(cluster.list_cluster::<Node>().await.map_err(why));
            Box::new(move |o| o.nodes = Some(r))
        }
        RelatedKind::PersistentVolumes => {
            let r = cluster.list_cluster::<PersistentVolume>().await;
            let r = into_fetched(r.map_err(why));
            Box::new(move |o| o.persistent_volumes = Some(r))
        }
        RelatedKind::StorageClasses => {
            let r = into_fetched(cluster.list_cluster::<StorageClass>().await.map_err(why));
            Box::new(move |o| o.storage_classes = Some(r))
        }
        RelatedKind::ServicesNamed => {
            // `ns` holds the Service's name here.
            let r = cluster
                .list_named_everywhere::<Service>(&ns)
                .await
                .map_err(|e| unavailable(kind, "all namespaces", &e));
            let r = into_fetched(r);
            Box::new(move |o| _ = o.services_named.insert(ns, r))
        }
    }
}

/// The objects of one kind in one namespace, from the files. A kind the files do not hold at
/// all is unknown rather than empty: a dump without Services says nothing about Services.
fn list_from_files<T: DeserializeOwned>(inv: &Inventory, kind: &str, ns: &str) -> Fetched<Vec<T>> {
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

fn fetch_from_files(inv: &Inventory, objects: &mut RelatedObjects, kind: RelatedKind, ns: &str) {
    match kind {
        RelatedKind::Events => {
            objects
                .events
                .insert(ns.into(), list_from_files(inv, "Event", ns));
        }
        RelatedKind::Services => {
            objects
                .services
                .insert(ns.into(), list_from_files(inv, "Service", ns));
        }
        RelatedKind::EndpointSlices => {
            objects
                .endpoint_slices
                .insert(ns.into(), list_from_files(inv, "EndpointSlice", ns));
        }
        RelatedKind::PersistentVolumeClaims => {
            objects
                .claims
                .insert(ns.into(), list_from_files(inv, "PersistentVolumeClaim", ns));
        }
        RelatedKind::ConfigMaps => {
            objects
                .config_maps
                .insert(ns.into(), list_from_files(inv, "ConfigMap", ns));
        }
        RelatedKind::Secrets => {
            let names =
                match list_from_files::<k8s_openapi::api::core::v1::Secret>(inv, "Secret", ns) {
                    Fetched::Got(secrets) => Fetched::Got(
                        secrets
                            .into_iter()
                            .filter_map(|s| s.metadata.name)
                            .collect(),
                    ),
                    Fetched::Unavailable(why) => Fetched::Unavailable(why),
                };
            objects.secrets.insert(ns.into(), names);
        }
        RelatedKind::Nodes => objects.nodes = Some(list_from_files(inv, "Node", "")),
        RelatedKind::PersistentVolumes => {
            objects.persistent_volumes = Some(list_from_files(inv, "PersistentVolume", ""));
        }
        RelatedKind::StorageClasses => {
            objects.storage_classes = Some(list_from_files(inv, "StorageClass", ""));
        }
        RelatedKind::ServicesNamed => {
            let named = match list_from_files::<Service>(inv, "Service", "") {
                Fetched::Got(all) => Fetched::Got(
                    all.into_iter()
                        .filter(|s| s.metadata.name.as_deref() == Some(ns))
                        .collect(),
                ),
                unavailable => unavailable,
            };
            objects.services_named.insert(ns.into(), named);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::pod_json::PodView;

    /// The rounds as they were before each pod kept its misses: events first, then every pod
    /// diagnosed again each round, logs once nothing else is asked, until nothing more is.
    async fn every_pod_every_round(
        source: &Source,
        pods: &[Pod],
        now: Timestamp,
    ) -> Vec<Explanation> {
        let Source::Offline(inv) = source else {
            panic!("the files stand in for the cluster here")
        };
        let mut objects = RelatedObjects {
            nodes: Some(list_from_files(inv, "Node", "")),
            ..RelatedObjects::default()
        };
        for p in pods {
            let ns = p.metadata.namespace.as_deref().unwrap_or("default");
            fetch_from_files(inv, &mut objects, RelatedKind::Events, ns);
        }
        loop {
            let (explanations, misses): (Vec<_>, Vec<_>) = pods
                .iter()
                .map(|p| diagnosis::explain(p, &objects, now, 10))
                .unzip();
            let asked = all_missed(&misses);
            if !asked.objects.is_empty() {
                for (kind, ns) in &asked.objects {
                    fetch_from_files(inv, &mut objects, *kind, ns);
                }
            } else if !asked.logs.is_empty() {
                objects
                    .logs
                    .extend(fetch_logs(source, asked.logs, 10).await);
            } else {
                return explanations;
            }
        }
    }

    /// The objects of every explain fixture as one input, and its Pods.
    fn every_explain_fixture() -> (Inventory, Vec<Pod>) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/explain");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml") && !p.ends_with("expected.yaml"))
            .collect();
        paths.sort();
        let inv = Inventory::load(&paths, &mut std::io::empty(), PodView::Whole).unwrap();
        let mut pods = Vec::new();
        inv.for_each_pod(PodView::Whole, &mut |p| {
            pods.push(p);
            Ok(())
        })
        .unwrap();
        assert!(pods.len() > 20, "{paths:?}");
        (inv, pods)
    }

    /// Online nothing is fetched before the first round: a pod that looked at the nodes
    /// without asking for them is diagnosed again when another pod's finding brings them.
    #[test]
    fn a_look_at_nodes_not_yet_fetched_is_diagnosed_again_when_they_come() {
        let (inv, pods) = every_explain_fixture();
        let now = inv.newest().unwrap();
        let nothing = RelatedObjects::default();
        let misses: Vec<Misses> = pods
            .iter()
            .map(|p| diagnosis::explain(p, &nothing, now, 10).1)
            .collect();
        let nodes = BTreeSet::from([(RelatedKind::Nodes, String::new())]);
        let peeked: Vec<&Misses> = misses
            .iter()
            .filter(|m| m.peeked_at_nodes && m.asked.objects.is_disjoint(&nodes))
            .collect();
        assert!(!peeked.is_empty());
        let services = BTreeSet::from([(RelatedKind::Services, "nowhere".to_string())]);
        for m in peeked {
            assert!(m.any_came(&nodes, &BTreeSet::new()), "{m:?}");
            assert!(!m.any_came(&services, &BTreeSet::new()), "{m:?}");
        }
    }

    /// Every explain fixture read as one input, so one pod's lookups fetch what another's
    /// findings then see (nodes, services named elsewhere): diagnosing again only the pods that
    /// missed what a round brought gives what diagnosing every pod every round gives.
    #[test]
    fn rounds_diagnose_again_only_what_can_change() {
        let (inv, pods) = every_explain_fixture();
        let now = inv.newest().unwrap();
        let source = Source::Offline(inv);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let expected = runtime.block_on(every_pod_every_round(&source, &pods, now));
        let (explanations, _) =
            runtime.block_on(explain_all(&source, &pods, now, 10, LogScope::OnePerGroup));
        assert_eq!(explanations.len(), expected.len());
        for (got, want) in explanations.iter().zip(&expected) {
            assert_eq!(got, want, "{}", want.name.raw());
        }
    }
}
