//! Pod + its events → where its startup time went: one step per phase (scheduled, sandbox ready,
//! each image pull, each init container run, app containers started, Ready), each with its start
//! and end as the cluster recorded them, and the biggest contributor. Pods → per-step
//! percentiles for a workload. Pure: the time is passed in, nothing is invented — a fact the
//! pod and events do not hold is a missing step and a note.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Event, Pod, PodCondition};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use serde::Serialize;

mod pulls;

use pulls::{container_of, first_time};

use crate::status::init_timeline::{self, InitContainerState, InitKind, RunState};
use crate::util::sanitize::Untrusted;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum StepKind {
    Scheduled,
    Sandbox,
    Pull,
    Init,
    Sidecar,
    ContainersStarted,
    Ready,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum StepState {
    /// Finished.
    Done,
    /// Still going at `now` (its end is `now`).
    Running,
    /// Ended in failure (a failed run, a failed pull).
    Failed,
}

/// One row of the picture.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub kind: StepKind,
    /// What the row is about: a container name, an image.
    pub subject: Untrusted,
    /// The same step across the pods of a workload (`init/init-migrate`, `pull/init-migrate`).
    pub key: String,
    pub state: StepState,
    pub start: Timestamp,
    pub end: Timestamp,
    /// Seconds from the pod's creation to `start`.
    pub offset_seconds: f64,
    pub duration_seconds: f64,
    /// Restarts of an init container (each one a failed run before this one).
    pub restarts: i32,
    /// A short fact shown beside the row: an exit code, "already present", restarts.
    pub note: Option<Untrusted>,
    /// A pull's image, whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<Untrusted>,
}

/// The step that took the largest share of the startup.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Contributor {
    pub key: String,
    pub subject: Untrusted,
    pub seconds: f64,
    pub percent: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartupTimeline {
    pub namespace: Untrusted,
    pub name: Untrusted,
    pub created: Timestamp,
    /// When the pod became Ready; None while it is not (or when that is not recorded).
    pub ready_at: Option<Timestamp>,
    /// The Ready condition is True now.
    pub ready: bool,
    /// Creation → Ready, or → now while not Ready (→ containers started when Ready's time is
    /// from a later change).
    pub total_seconds: f64,
    pub steps: Vec<Step>,
    pub biggest: Option<Contributor>,
    /// What could not be known (no events, no condition) — said, not guessed.
    pub notes: Vec<String>,
}

fn seconds(from: Timestamp, to: Timestamp) -> f64 {
    let d: SignedDuration = to.duration_since(from);
    (d.as_secs_f64()).max(0.0)
}

fn condition<'a>(pod: &'a Pod, kind: &str) -> Option<&'a PodCondition> {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
        .iter()
        .find(|c| c.type_ == kind)
}

/// When the condition became True (None while it is not True).
fn became_true(pod: &Pod, kind: &str) -> Option<Timestamp> {
    condition(pod, kind)
        .filter(|c| c.status == "True")
        .and_then(|c| c.last_transition_time.as_ref())
        .map(|t| t.0)
}

struct Builder {
    created: Timestamp,
    now: Timestamp,
    steps: Vec<Step>,
}

impl Builder {
    fn push(&mut self, kind: StepKind, subject: &str, key: String, span: Span) {
        let end = span.end.unwrap_or(self.now).max(span.start);
        self.steps.push(Step {
            kind,
            subject: subject.into(),
            key,
            state: span.state,
            start: span.start,
            end,
            offset_seconds: seconds(self.created, span.start),
            duration_seconds: span
                .exact_seconds
                .unwrap_or_else(|| seconds(span.start, end)),
            restarts: span.restarts,
            note: span.note.map(Untrusted::from),
            image: span.image.map(Untrusted::from),
        });
    }
}

/// A step's extent as found; `end: None` means still going.
struct Span {
    start: Timestamp,
    end: Option<Timestamp>,
    state: StepState,
    /// A duration the cluster measured more finely than the timestamps (a pull's "in 1.2s").
    exact_seconds: Option<f64>,
    restarts: i32,
    note: Option<String>,
    image: Option<String>,
}

impl Span {
    fn new(start: Timestamp, end: Option<Timestamp>) -> Span {
        Span {
            start,
            end,
            state: if end.is_some() {
                StepState::Done
            } else {
                StepState::Running
            },
            exact_seconds: None,
            restarts: 0,
            note: None,
            image: None,
        }
    }
}

/// The timeline of one pod. `events` are the namespace's events (or why they are not known);
/// `now` ends the steps still going.
pub fn timeline(pod: &Pod, events: Result<&[Event], &str>, now: Timestamp) -> StartupTimeline {
    let created = pod
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0)
        .unwrap_or(now);
    let mut b = Builder {
        created,
        now,
        steps: Vec::new(),
    };
    let mut notes = Vec::new();

    scheduling(&mut b, pod, &mut notes);
    let inits = init_timeline::init_containers(pod, now);
    let mut seen = Seen::default();
    match events {
        Ok(events) => {
            let mine = pod_events(pod, events);
            seen = Seen::of(&mine);
            if mine.is_empty() {
                notes.push(
                    "no events for this pod (the API server keeps them 1h by default): image pulls not shown"
                        .into(),
                );
            }
            pulls::pulls(&mut b, pod, &mine);
        }
        Err(why) => notes.push(format!(
            "events not available ({why}): image pulls not shown"
        )),
    }
    init_runs(&mut b, &inits, pod, &seen, now);
    app_start(&mut b, pod, &inits);
    let started = b
        .steps
        .iter()
        .find(|s| s.kind == StepKind::ContainersStarted && s.state == StepState::Done)
        .map(|s| s.end);
    let mut ready_at = became_true(pod, "Ready");
    if let (Some(started), Some(ready)) = (started, ready_at)
        && let Some(restart) = restarted_after(pod, started)
    {
        // Ready's lastTransitionTime is its latest change: after a container restarted later
        // on, when the pod first became Ready is no longer recorded.
        notes.push(format!(
            "a container restarted after startup (at {restart}), so Ready's last change ({ready}) says nothing about startup: Ready not shown"
        ));
        ready_at = None;
    } else if let Some(started) = started {
        let mut span = Span::new(started, ready_at);
        if ready_at.is_none() && pod_phase(pod) == Some("Succeeded") {
            span.end = Some(started);
        }
        b.push(StepKind::Ready, "ready", "ready".into(), span);
    }
    let end = match (ready_at, started) {
        (Some(ready), _) => ready,
        (None, Some(started)) if notes.iter().any(|n| n.contains("Ready not shown")) => started,
        _ => now,
    };
    let total_seconds = seconds(created, end);
    let mut steps = b.steps;
    steps.sort_by(|a, b| a.start.cmp(&b.start).then(a.kind.cmp(&b.kind)));
    let biggest = biggest(&steps, total_seconds);
    StartupTimeline {
        namespace: pod
            .metadata
            .namespace
            .as_deref()
            .unwrap_or("default")
            .into(),
        name: pod.metadata.name.as_deref().unwrap_or_default().into(),
        created,
        ready_at,
        ready: became_true(pod, "Ready").is_some(),
        total_seconds,
        steps,
        biggest,
        notes,
    }
}

fn pod_phase(pod: &Pod) -> Option<&str> {
    pod.status.as_ref().and_then(|s| s.phase.as_deref())
}

/// Creation → PodScheduled, then → PodReadyToStartContainers (the sandbox, its network and
/// volumes).
fn scheduling(b: &mut Builder, pod: &Pod, notes: &mut Vec<String>) {
    let created = b.created;
    let scheduled = became_true(pod, "PodScheduled");
    if scheduled.is_some()
        || pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_ref())
            .is_none()
    {
        let mut span = Span::new(created, scheduled);
        if let Some(c) = condition(pod, "PodScheduled").filter(|c| c.status == "False") {
            span.note = c.reason.clone();
        }
        b.push(StepKind::Scheduled, "scheduled", "scheduled".into(), span);
    }
    let sandbox = became_true(pod, "PodReadyToStartContainers");
    match (scheduled, sandbox) {
        (Some(from), Some(to)) => b.push(
            StepKind::Sandbox,
            "sandbox ready",
            "sandbox".into(),
            Span::new(from, Some(to)),
        ),
        (Some(_), None) if condition(pod, "PodReadyToStartContainers").is_none() => notes.push(
            "no PodReadyToStartContainers condition (Kubernetes < 1.29): sandbox time not shown"
                .into(),
        ),
        (Some(from), None) => b.push(
            StepKind::Sandbox,
            "sandbox ready",
            "sandbox".into(),
            Span::new(from, None),
        ),
        _ => {}
    }
}

/// The events about this pod (by uid where both have one, else by name).
fn pod_events<'a>(pod: &Pod, events: &'a [Event]) -> Vec<&'a Event> {
    let uid = pod.metadata.uid.as_deref();
    let name = pod.metadata.name.as_deref();
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    events
        .iter()
        .filter(|e| {
            let o = &e.involved_object;
            o.kind.as_deref() == Some("Pod")
                && o.namespace.as_deref().unwrap_or(ns) == ns
                && match (uid, o.uid.as_deref()) {
                    (Some(a), Some(b)) => a == b,
                    _ => o.name.as_deref() == name,
                }
        })
        .collect()
}

/// What the events say about each container: when the kubelet first turned to it (pulling,
/// creating, starting), and when it first started.
#[derive(Default)]
struct Seen {
    first_touched: BTreeMap<String, Timestamp>,
    first_started: BTreeMap<String, Timestamp>,
}

impl Seen {
    fn of(events: &[&Event]) -> Seen {
        let mut seen = Seen::default();
        for e in events {
            let (Some(c), Some(at)) = (container_of(e), first_time(e)) else {
                continue;
            };
            let reason = e.reason.as_deref().unwrap_or_default();
            if matches!(reason, "Pulling" | "Pulled" | "Created" | "Started") {
                let t = seen.first_touched.entry(c.to_string()).or_insert(at);
                *t = (*t).min(at);
            }
            if reason == "Started" {
                let t = seen.first_started.entry(c.to_string()).or_insert(at);
                *t = (*t).min(at);
            }
        }
        seen
    }
}

/// Each init container's run (its previous run too, when it restarted, and its earlier runs
/// when the events know of them); a sidecar from its start until the kubelet turned to the next
/// container (its startup gate).
fn init_runs(
    b: &mut Builder,
    inits: &[InitContainerState],
    pod: &Pod,
    seen: &Seen,
    now: Timestamp,
) {
    let next_start = |i: usize| -> Option<Timestamp> {
        let next = inits[i + 1..].first();
        let from_status = next
            .and_then(|c| {
                c.last_termination
                    .as_ref()
                    .and_then(|t| t.started_at)
                    .or(c.started_at)
            })
            .or_else(|| app_started(pod).map(|(first, _)| first));
        let touched = next.and_then(|c| seen.first_touched.get(c.name.raw()).copied());
        [from_status, touched].into_iter().flatten().min()
    };
    let app_start = app_started(pod).map(|(first, _)| first);
    for (i, c) in inits.iter().enumerate() {
        match c.kind {
            InitKind::Sidecar => sidecar_run(b, c, next_start(i), app_start),
            InitKind::Init => init_container_runs(b, c, seen, now),
        }
    }
}

/// The earliest run the status records: the last termination's, else the current one's.
fn earliest_known(c: &InitContainerState) -> Option<Timestamp> {
    c.last_termination
        .as_ref()
        .and_then(|t| t.started_at)
        .or(c.started_at)
}

/// A sidecar's startup run: from its earliest known start until the kubelet turned to the next
/// container. A run that started after the app containers (a restart later on) is not startup.
fn sidecar_run(
    b: &mut Builder,
    c: &InitContainerState,
    next: Option<Timestamp>,
    app_start: Option<Timestamp>,
) {
    let Some(start) = earliest_known(c) else {
        return;
    };
    if app_start.is_some_and(|app| start > app) {
        return;
    }
    let mut span = Span::new(start, next.filter(|t| *t >= start));
    span.note = Some("sidecar, until the next container started".into());
    let name = c.name.raw();
    b.push(StepKind::Sidecar, name, format!("init/{name}"), span);
}

/// A regular init container: its earlier runs (from events), its previous run (lastState), its
/// current run, or the wait since the last one ended.
fn init_container_runs(b: &mut Builder, c: &InitContainerState, seen: &Seen, now: Timestamp) {
    let name = c.name.raw();
    if let (Some(first), Some(known)) = (seen.first_started.get(name), earliest_known(c))
        && *first < known
    {
        let mut span = Span::new(*first, Some(known));
        span.state = StepState::Failed;
        span.note = Some("runs and back-off before, from events".into());
        b.push(StepKind::Init, name, format!("earlier/{name}"), span);
    }
    if let Some(prev) = &c.last_termination
        && let Some(start) = prev.started_at
    {
        let mut span = Span::new(start, prev.finished_at.or(Some(start)));
        span.state = if prev.exit_code == 0 {
            StepState::Done
        } else {
            StepState::Failed
        };
        span.note = Some(format!("exit {}", prev.exit_code));
        b.push(StepKind::Init, name, format!("previous/{name}"), span);
    }
    let restarts = match c.restarts {
        0 => None,
        1 => Some("1 restart".to_string()),
        n => Some(format!("{n} restarts")),
    };
    let mut span = match (c.state, c.started_at) {
        (RunState::Terminated, Some(start)) => {
            let mut s = Span::new(start, c.finished_at.or(Some(now)));
            if c.exit_code != Some(0) {
                s.state = StepState::Failed;
                s.note = Some(format!("exit {}", c.exit_code.unwrap_or_default()));
            }
            s
        }
        (RunState::Running, Some(start)) => Span::new(start, None),
        // Waiting again after a run (back-off): the wait so far.
        (RunState::Waiting, _) => {
            let Some(since) = c.last_termination.as_ref().and_then(|t| t.finished_at) else {
                return;
            };
            let mut s = Span::new(since, None);
            let reason = c.reason.as_ref().map_or("", |r| r.raw());
            s.note = Some(format!("waiting: {reason}"));
            s
        }
        _ => return,
    };
    span.restarts = c.restarts;
    if let Some(runs) = restarts {
        span.note = Some(match span.note {
            Some(n) => format!("{n}, {runs}"),
            None => runs,
        });
    }
    b.push(StepKind::Init, name, format!("init/{name}"), span);
}

/// When a container (an app container or a sidecar) last ended after `t`, if one did: the pod
/// has restarted containers since it started up.
fn restarted_after(pod: &Pod, t: Timestamp) -> Option<Timestamp> {
    let status = pod.status.as_ref()?;
    status
        .container_statuses
        .iter()
        .flatten()
        .chain(status.init_container_statuses.iter().flatten())
        .filter_map(|cs| {
            let last = cs.last_state.as_ref()?.terminated.as_ref()?;
            last.finished_at.as_ref().map(|f| f.0)
        })
        .filter(|f| *f > t)
        .max()
}

/// The first and the last start of the app containers' current runs (None until one ran).
fn app_started(pod: &Pod) -> Option<(Timestamp, Timestamp)> {
    let starts: Vec<Timestamp> = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default()
        .iter()
        .filter_map(|cs| {
            let state = cs.state.as_ref()?;
            state
                .running
                .as_ref()
                .and_then(|r| r.started_at.as_ref())
                .or_else(|| state.terminated.as_ref()?.started_at.as_ref())
                .map(|t| t.0)
        })
        .collect();
    Some((*starts.iter().min()?, *starts.iter().max()?))
}

/// From the end of init (Initialized, else the last init container's finish) to the last app
/// container's start.
fn app_start(b: &mut Builder, pod: &Pod, inits: &[InitContainerState]) {
    let init_done = became_true(pod, "Initialized").or_else(|| {
        inits
            .iter()
            .filter(|c| c.kind == InitKind::Init)
            .filter_map(|c| c.finished_at)
            .max()
    });
    let Some(from) = init_done.or_else(|| became_true(pod, "PodReadyToStartContainers")) else {
        return;
    };
    let all_inits_done = inits
        .iter()
        .filter(|c| c.kind == InitKind::Init)
        .all(|c| c.state == RunState::Terminated && c.exit_code == Some(0));
    if !all_inits_done {
        return;
    }
    let apps = pod.spec.as_ref().map_or(0, |s| s.containers.len());
    let started = app_started(pod);
    let running = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default()
        .iter()
        .filter(|cs| cs.state.as_ref().is_some_and(|s| s.waiting.is_none()))
        .count();
    let end = started
        .map(|(_, last)| last)
        .filter(|_| running >= apps)
        .map(|t| t.max(from));
    let mut span = Span::new(from, end);
    if end.is_none() {
        span.note = Some(format!("{running}/{apps} started"));
    }
    b.push(
        StepKind::ContainersStarted,
        "containers started",
        "containersStarted".into(),
        span,
    );
}

/// The step (an init container's runs counted together) with the largest share of the total.
fn biggest(steps: &[Step], total: f64) -> Option<Contributor> {
    if total <= 0.0 {
        return None;
    }
    let mut by_key: BTreeMap<String, (String, f64)> = BTreeMap::new();
    for s in steps {
        let key = container_key(&s.key);
        let entry = by_key
            .entry(key)
            .or_insert_with(|| (s.subject.raw().to_string(), 0.0));
        entry.1 += s.duration_seconds;
    }
    let (key, (subject, secs)) = by_key.into_iter().max_by(|a, b| a.1.1.total_cmp(&b.1.1))?;
    let percent = ((secs / total) * 100.0).round().clamp(0.0, 100.0) as u32;
    Some(Contributor {
        key,
        subject: subject.into(),
        seconds: secs,
        percent,
    })
}

/// The key a container's step is counted under: its earlier and previous runs count with it.
pub(crate) fn container_key(key: &str) -> String {
    match key.split_once('/') {
        Some(("previous" | "earlier", name)) => format!("init/{name}"),
        _ => key.to_string(),
    }
}
