//! Targets → the pod queries that fetch them: a named pod is a GET, a workload is a LIST with
//! its selector, no target is one LIST of the whole scope. The same queries run against a
//! cluster or against offline input, so both give the same answer.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::WatchEvent;
use serde_json::Value;

use crate::cluster::Cluster;
use crate::cluster::pod_pages::{Ahead, Listing, PodSelection};
use crate::error::{Error, Result};
use crate::input::manifest::Inventory;
use crate::input::pod_json::PodView;
use crate::input::selector::{FieldSelector, Selector};
use crate::input::target::{Target, WorkloadKind};
use crate::session::{Namespaces, Session, Source};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodQuery {
    /// None: every namespace.
    pub namespace: Option<String>,
    /// A single named pod.
    pub name: Option<String>,
    pub labels: Option<Selector>,
    pub fields: Option<FieldSelector>,
}

/// Turns targets into queries. Workloads are looked up (GET) to read their selectors.
pub async fn resolve(ctx: &Session, targets: &[Target]) -> Result<Vec<PodQuery>> {
    let scope_ns = match &ctx.namespaces {
        Namespaces::One(ns) => Some(ns.clone()),
        Namespaces::All | Namespaces::AsInFiles => None,
    };
    if targets.is_empty() {
        return Ok(vec![PodQuery {
            namespace: scope_ns,
            name: None,
            labels: ctx.labels.clone(),
            fields: ctx.fields.clone(),
        }]);
    }
    if ctx.namespaces == Namespaces::All {
        return Err(Error::Input(
            "a resource cannot be retrieved by name across all namespaces; use -n NAMESPACE".into(),
        ));
    }
    let mut queries = Vec::new();
    for target in targets {
        match target {
            Target::Pod(name) => queries.push(PodQuery {
                namespace: scope_ns.clone(),
                name: Some(name.clone()),
                labels: ctx.labels.clone(),
                fields: ctx.fields.clone(),
            }),
            Target::Workload(kind, name) => {
                let found = match &ctx.source {
                    Source::Cluster(cluster) => {
                        let ns = scope_ns.as_deref().unwrap_or("default");
                        workload_queries(
                            *kind,
                            cluster.get_workload(*kind, ns, name).await?,
                            || cluster.list_jobs(ns),
                        )
                        .await?
                    }
                    Source::Offline(inv) => {
                        offline_workload(inv, *kind, scope_ns.as_deref(), name)?
                    }
                };
                queries.extend(found.into_iter().map(|(ns, sel)| PodQuery {
                    namespace: Some(ns),
                    name: None,
                    labels: Some(match &ctx.labels {
                        Some(user) => sel.and(user.clone()),
                        None => sel,
                    }),
                    fields: ctx.fields.clone(),
                }));
            }
        }
    }
    Ok(queries)
}

/// A workload's namespace and pod selector(s), read from the cluster.
async fn workload_queries<F, Fut>(
    kind: WorkloadKind,
    obj: Value,
    jobs: F,
) -> Result<Vec<(String, Selector)>>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Vec<Value>>>,
{
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let jobs = match kind {
        WorkloadKind::CronJob => jobs().await?,
        _ => Vec::new(),
    };
    workload_selectors(kind, &obj, ns, &jobs)
}

/// The pod selector(s) of a workload in namespace `ns`: a CronJob has one per Job it owns (of
/// `jobs`), any other workload its own `spec.selector`.
fn workload_selectors(
    kind: WorkloadKind,
    obj: &Value,
    ns: String,
    jobs: &[Value],
) -> Result<Vec<(String, Selector)>> {
    if kind == WorkloadKind::CronJob {
        let uid = obj
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return Ok(owned_jobs(jobs, uid)
            .into_iter()
            .filter_map(|job| pod_selector(WorkloadKind::Job, job).map(|s| (ns.clone(), s)))
            .collect());
    }
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let sel = pod_selector(kind, obj).ok_or_else(|| {
        Error::Input(format!(
            "{}/{name} has no pod selector",
            kind.kind().to_lowercase()
        ))
    })?;
    Ok(vec![(ns, sel)])
}

fn owned_jobs<'a>(jobs: &'a [Value], cronjob_uid: &str) -> Vec<&'a Value> {
    jobs.iter()
        .filter(|job| {
            job.pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|refs| {
                    refs.iter()
                        .any(|r| r.get("uid").and_then(Value::as_str) == Some(cronjob_uid))
                })
        })
        .collect()
}

/// `spec.selector` of a workload: a plain map for ReplicationControllers, a LabelSelector otherwise.
/// An empty or missing selector selects nothing.
pub fn pod_selector(kind: WorkloadKind, obj: &Value) -> Option<Selector> {
    let raw = obj.pointer("/spec/selector")?;
    let sel = if kind == WorkloadKind::ReplicationController {
        let labels = serde_json::from_value(raw.clone()).ok()?;
        Selector::from_label_selector(&LabelSelector {
            match_labels: Some(labels),
            match_expressions: None,
        })
    } else {
        Selector::from_label_selector(&serde_json::from_value(raw.clone()).ok()?)
    };
    (!sel.is_empty()).then_some(sel)
}

fn offline_workload(
    inv: &Inventory,
    kind: WorkloadKind,
    namespace: Option<&str>,
    name: &str,
) -> Result<Vec<(String, Selector)>> {
    let in_scope = |v: &&Value| {
        v.pointer("/metadata/name").and_then(Value::as_str) == Some(name)
            && namespace.is_none_or(|ns| {
                v.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns)
            })
    };
    let obj = inv
        .of_kind(kind.kind())
        .find(in_scope)
        .ok_or_else(|| Error::Api {
            code: 404,
            reason: "NotFound".into(),
            message: format!("{} {name:?} not found in the given files", kind.resource()),
        })?;
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default")
        .to_string();
    let jobs: Vec<Value> = match kind {
        WorkloadKind::CronJob => inv.of_kind("Job").cloned().collect(),
        _ => Vec::new(),
    };
    workload_selectors(kind, obj, ns, &jobs)
}

/// Offline pods are handed over in pages of this many, as a cluster's LIST pages them.
const OFFLINE_PAGE: usize = 500;

/// The pods of offline input that a query selects, in file order, page by page, read as the
/// input streams by: only one page of typed pods exists at a time. Returns how many were
/// selected.
fn offline_pods(
    inv: &Inventory,
    query: &PodQuery,
    view: PodView,
    on_page: &mut dyn FnMut(Vec<Pod>) -> Result<()>,
) -> Result<usize> {
    let mut page = Vec::new();
    let mut selected = 0;
    inv.for_each_pod(view, &mut |pod| {
        if !offline_selects(query, &pod)? {
            return Ok(());
        }
        selected += 1;
        page.push(pod);
        if page.len() == OFFLINE_PAGE {
            on_page(std::mem::take(&mut page))?;
        }
        Ok(())
    })?;
    if !page.is_empty() || selected == 0 {
        on_page(page)?;
    }
    Ok(selected)
}

/// Every query over offline input, in query order, as a cluster answers them: the pods named
/// one by one found in one reading of the input (not one per name) and handed over as one
/// page; each listing query read as the input streams by. Returns the names not found.
fn offline_fetch(
    inv: &Inventory,
    queries: &[PodQuery],
    view: PodView,
    on_page: &mut dyn FnMut(Vec<Pod>) -> Result<()>,
) -> Result<Vec<String>> {
    let mut found: Vec<Vec<Pod>> = vec![Vec::new(); queries.len()];
    if queries.iter().any(|q| q.name.is_some()) {
        inv.for_each_pod(view, &mut |pod| {
            for (i, query) in queries.iter().enumerate() {
                if query.name.is_some() && offline_selects(query, &pod)? {
                    found[i].push(pod.clone());
                }
            }
            Ok(())
        })?;
    }
    let mut missing = Vec::new();
    let mut named: Vec<Pod> = Vec::new();
    for (query, pods) in queries.iter().zip(found) {
        match &query.name {
            Some(name) if pods.is_empty() => missing.push(format!("pods {name:?} not found")),
            Some(_) => named.extend(pods),
            None => {
                hand_over(&mut named, on_page)?;
                offline_pods(inv, query, view, on_page)?;
            }
        }
    }
    hand_over(&mut named, on_page)?;
    Ok(missing)
}

fn offline_selects(query: &PodQuery, pod: &Pod) -> Result<bool> {
    let meta = &pod.metadata;
    if query
        .namespace
        .as_deref()
        .is_some_and(|ns| meta.namespace.as_deref().unwrap_or("default") != ns)
        || query
            .name
            .as_deref()
            .is_some_and(|n| meta.name.as_deref() != Some(n))
        || query
            .labels
            .as_ref()
            .is_some_and(|s| !s.matches(meta.labels.as_ref()))
    {
        return Ok(false);
    }
    match &query.fields {
        Some(fields) => fields.matches(&serde_json::to_value(pod).unwrap_or_default()),
        None => Ok(true),
    }
}

/// What fetching left over: named pods that were not found, and where each query's watch resumes.
pub struct PodFetch {
    pub missing: Vec<String>,
    /// (query index, resourceVersion) for every query that was listed from a cluster.
    pub resume: Vec<(usize, String)>,
}

/// Every pod one target means, held together (for commands that pick among them or aggregate
/// them); a named pod or workload that does not exist is an error.
pub(crate) async fn target_pods(ctx: &Session, target: &Target) -> Result<Vec<Pod>> {
    let queries = resolve(ctx, std::slice::from_ref(target)).await?;
    let mut pods: Vec<Pod> = Vec::new();
    let fetch = fetch_pods(ctx, &queries, PodView::Whole, &mut |page| {
        pods.extend(page);
        Ok(())
    })
    .await?;
    if !fetch.missing.is_empty() {
        return Err(Error::TargetsNotFound(fetch.missing));
    }
    Ok(pods)
}

/// Fetches the pods of every query, handing them over page by page: one GET per named pod, one
/// paginated LIST per other query, never a request per pod. Offline, pages of 500 per query.
pub async fn fetch_pods(
    ctx: &Session,
    queries: &[PodQuery],
    view: PodView,
    on_page: &mut dyn FnMut(Vec<Pod>) -> Result<()>,
) -> Result<PodFetch> {
    let mut fetch = PodFetch {
        missing: Vec::new(),
        resume: Vec::new(),
    };
    // Pods named one by one (`status a b c`) are handed over as one page, so that they are
    // aligned as one table like every other listing; a LIST's pages go as they come.
    let mut named: Vec<Pod> = Vec::new();
    if let Source::Offline(inv) = &ctx.source {
        fetch.missing = offline_fetch(inv, queries, view, on_page)?;
        return Ok(fetch);
    }
    for (i, query) in queries.iter().enumerate() {
        match &ctx.source {
            // Answered above, in one reading of the input.
            Source::Offline(_) => {}
            Source::Cluster(cluster) => {
                if let Some(name) = &query.name {
                    let ns = query.namespace.as_deref().unwrap_or("default");
                    match cluster.get_pod(ns, name).await {
                        Ok(pod) => {
                            fetch.resume.push((
                                i,
                                pod.metadata.resource_version.clone().unwrap_or_default(),
                            ));
                            named.push(pod);
                        }
                        Err(e) if e.is_not_found() => fetch.missing.push(e.to_string()),
                        Err(e) => return Err(e),
                    }
                    continue;
                }
                hand_over(&mut named, on_page)?;
                let rv = list_query(cluster, query, view, &mut |pods| on_page(pods)).await?;
                fetch.resume.push((i, rv));
            }
        }
    }
    hand_over(&mut named, on_page)?;
    Ok(fetch)
}

/// Hands the pods named so far over as one page, if there are any.
fn hand_over(named: &mut Vec<Pod>, on_page: &mut dyn FnMut(Vec<Pod>) -> Result<()>) -> Result<()> {
    if named.is_empty() {
        return Ok(());
    }
    on_page(std::mem::take(named))
}

/// How many times one LIST starts over after its continue token expired (410) mid-way.
const LIST_RESTARTS: u32 = 3;

fn is_gone(e: &Error) -> bool {
    matches!(e, Error::Api { code: 410, .. })
}

/// One query's paginated LIST, page by page, returning the resourceVersion to watch from. A
/// continue token that expires mid-way (410) starts the list over, as kubectl does; pages
/// handed over before are handed over again (the printer shows each pod once). While a page is
/// handed over, the next ones are already fetched and decoded (`pod_pages::Listing`, a few
/// pages ahead, no more); what goes wrong is reported in the order of the pages, after every
/// page before it is handed over.
async fn list_query(
    cluster: &Cluster,
    query: &PodQuery,
    view: PodView,
    on_page: &mut dyn FnMut(Vec<Pod>) -> Result<()>,
) -> Result<String> {
    let selection = PodSelection {
        namespace: query.namespace.clone(),
        labels: query.labels.as_ref().map(Selector::wire_text),
        fields: query.fields.as_ref().map(FieldSelector::wire_text),
    };
    let mut restarts = 0;
    'list: loop {
        let mut listing = Listing::start(cluster, &selection, view);
        loop {
            let (decoding, next) = match listing.next().await? {
                Ahead::Page(decoding, next) => (decoding, next),
                Ahead::Failed(e, continuing) => {
                    if is_gone(&e) && continuing && restarts < LIST_RESTARTS {
                        restarts += 1;
                        continue 'list;
                    }
                    return Err(e);
                }
            };
            let (page, pods) = decoding.done().await?;
            on_page(cluster.read_pods(pods)?)?;
            if next?.is_none() {
                return Ok(page.resource_version);
            }
            cluster.recycle(page);
        }
    }
}

/// Waits between watches that ended early: exponential from `FIRST` to `CAP`, and none after a
/// watch that stayed open `HEALTHY` or longer.
struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(250);
    const CAP: Duration = Duration::from_secs(30);
    const HEALTHY: Duration = Duration::from_secs(10);

    /// The wait before re-opening a watch that was open for `lasted`.
    fn after(&mut self, lasted: Duration) -> Duration {
        if lasted >= Self::HEALTHY {
            self.next = Self::FIRST;
            return Duration::ZERO;
        }
        let wait = self.next;
        self.next = (self.next * 2).min(Self::CAP);
        wait
    }
}

/// What happened to a pod, as the watch API reports it (and as a re-list finds it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Added,
    Modified,
    Deleted,
}

impl Change {
    /// The EVENT column, as `kubectl get -w --output-watch-events` prints it.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Change::Added => "ADDED",
            Change::Modified => "MODIFIED",
            Change::Deleted => "DELETED",
        }
    }
}

/// The pods a watch knows (key → resourceVersion and the query that found it), so that a
/// re-list after 410 Gone reports only what changed, and the pods deleted meanwhile.
#[derive(Debug, Default)]
pub(crate) struct Known {
    pods: HashMap<(String, String), (String, usize)>,
}

impl Known {
    /// Notes listed pods, each under the first query that selects it.
    pub(crate) fn note(&mut self, queries: &[PodQuery], pods: &[Pod]) {
        for pod in pods {
            let query = queries
                .iter()
                .position(|q| offline_selects(q, pod).unwrap_or(false))
                .unwrap_or(0);
            self.pods
                .insert(pod_key(pod), (resource_version(pod), query));
        }
    }
}

fn pod_key(pod: &Pod) -> (String, String) {
    let meta = &pod.metadata;
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

fn resource_version(pod: &Pod) -> String {
    pod.metadata.resource_version.clone().unwrap_or_default()
}

/// Follows every query's watch from where its LIST ended, calling `on_change` for every
/// added, changed or deleted pod (as `kubectl get -w` prints them), until an error. A watch
/// the server ends is re-opened from where it stopped (with a backoff when it ends early); one
/// whose resourceVersion is too old (410 Gone) lists again first, reporting only the
/// differences from what was known (pods deleted meanwhile as deleted, unchanged ones not).
/// `resume`: (query index, query, resourceVersion to watch from).
pub(crate) async fn watch(
    cluster: &Cluster,
    resume: Vec<(usize, &PodQuery, String)>,
    mut known: Known,
    on_change: &mut dyn FnMut(Change, &Pod) -> Result<()>,
) -> Result<()> {
    let mut versions: Vec<String> = resume.iter().map(|(_, _, rv)| rv.clone()).collect();
    // Queries whose resourceVersion expired (410 Gone): listed again before watching.
    let mut expired = vec![false; resume.len()];
    let mut backoff = Backoff {
        next: Backoff::FIRST,
    };
    loop {
        let opened = Instant::now();
        let mut streams = Vec::new();
        for (i, (id, query, _)) in resume.iter().enumerate() {
            if std::mem::take(&mut expired[i]) {
                versions[i] = relist(cluster, (*id, query), &mut known, on_change).await?;
            }
            let fields = match &query.name {
                Some(name) => Some(format!("metadata.name={name}")),
                None => query.fields.as_ref().map(FieldSelector::wire_text),
            };
            match cluster
                .watch_pods(
                    query.namespace.as_deref(),
                    query.labels.as_ref().map(Selector::wire_text).as_deref(),
                    fields.as_deref(),
                    &versions[i],
                )
                .await
            {
                Ok(stream) => streams.push(stream.map(move |e| (i, e)).boxed()),
                Err(e) if is_gone(&e) => expired[i] = true,
                Err(e) => return Err(e),
            }
        }
        // A watch refused as gone is listed again before the others are followed.
        if expired.contains(&true) {
            streams.clear();
        }
        let mut merged = futures::stream::select_all(streams);
        while let Some((i, event)) = merged.next().await {
            let (change, pod) = match event {
                Ok(WatchEvent::Added(pod)) => (Change::Added, pod),
                Ok(WatchEvent::Modified(pod)) => (Change::Modified, pod),
                Ok(WatchEvent::Deleted(pod)) => (Change::Deleted, pod),
                Ok(WatchEvent::Bookmark(b)) => {
                    versions[i] = b.metadata.resource_version;
                    continue;
                }
                // Our resourceVersion is too old: list again, then watch from there.
                Ok(WatchEvent::Error(status)) if status.code == 410 => {
                    expired[i] = true;
                    break;
                }
                Err(e) if is_gone(&e) => {
                    expired[i] = true;
                    break;
                }
                Ok(WatchEvent::Error(status)) => {
                    return Err(Error::Api {
                        code: status.code,
                        reason: status.reason,
                        message: status.message,
                    });
                }
                Err(e) => return Err(e),
            };
            versions[i] = resource_version(&pod);
            match change {
                Change::Deleted => known.pods.remove(&pod_key(&pod)),
                _ => known
                    .pods
                    .insert(pod_key(&pod), (resource_version(&pod), resume[i].0)),
            };
            on_change(change, &pod)?;
        }
        // The server ends every watch after its timeout: continue from where it stopped, at
        // once after a healthy watch, later and later when watches keep ending early.
        tokio::time::sleep(backoff.after(opened.elapsed())).await;
    }
}

/// A query listed again after its watch expired: pods new or changed since they were last
/// seen are handed over as added or modified, pods it held before that are gone as deleted
/// (known only by name: the printer shows their last row); the list's resourceVersion is where
/// the watch resumes.
async fn relist(
    cluster: &Cluster,
    (id, query): (usize, &PodQuery),
    known: &mut Known,
    on_change: &mut dyn FnMut(Change, &Pod) -> Result<()>,
) -> Result<String> {
    let query = PodQuery {
        fields: match &query.name {
            Some(name) => Some(FieldSelector::parse(&format!("metadata.name={name}"))?),
            None => query.fields.clone(),
        },
        name: None,
        ..query.clone()
    };
    let mut listed = HashSet::new();
    // Only `status` watches, and its rows need only the Rows view.
    let rv = list_query(cluster, &query, PodView::Rows, &mut |pods| {
        for pod in &pods {
            let key = pod_key(pod);
            let version = resource_version(pod);
            let change = match known.pods.get(&key) {
                Some((seen, _)) if *seen == version => None,
                Some(_) => Some(Change::Modified),
                None => Some(Change::Added),
            };
            listed.insert(key.clone());
            known.pods.insert(key, (version, id));
            if let Some(change) = change {
                on_change(change, pod)?;
            }
        }
        Ok(())
    })
    .await?;
    let mut gone: Vec<(String, String)> = known
        .pods
        .iter()
        .filter(|(key, (_, q))| *q == id && !listed.contains(*key))
        .map(|(key, _)| key.clone())
        .collect();
    gone.sort();
    for (namespace, name) in gone {
        known.pods.remove(&(namespace.clone(), name.clone()));
        let mut pod = Pod::default();
        pod.metadata.namespace = Some(namespace);
        pod.metadata.name = Some(name);
        on_change(Change::Deleted, &pod)?;
    }
    Ok(rv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watches_that_end_early_back_off_exponentially_up_to_a_cap() {
        let mut b = Backoff {
            next: Backoff::FIRST,
        };
        let early = Duration::from_millis(5);
        let waits: Vec<u128> = (0..10).map(|_| b.after(early).as_millis()).collect();
        assert_eq!(
            waits,
            [250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
        );
        assert_eq!(
            b.after(Backoff::HEALTHY),
            Duration::ZERO,
            "healthy: at once"
        );
        assert_eq!(
            b.after(early).as_millis(),
            250,
            "and the backoff starts over"
        );
    }
}
