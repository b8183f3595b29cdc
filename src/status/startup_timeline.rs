//! Pod + its events → where its startup time went: one step per phase (scheduled, sandbox ready,
//! each image pull, each init container run, app containers started, Ready), each with its start
//! and end as the cluster recorded them, and the biggest contributor. Pods → per-step
//! percentiles for a workload. Pure: the time is passed in, nothing is invented — a fact the
//! pod and events do not hold is a missing step and a note.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Event, Pod, PodCondition};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use serde::Serialize;

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
    /// When the pod became Ready; None while it is not.
    pub ready_at: Option<Timestamp>,
    /// Creation → Ready, or → now while not Ready.
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
            pulls(&mut b, pod, &mine);
        }
        Err(why) => notes.push(format!(
            "events not available ({why}): image pulls not shown"
        )),
    }
    init_runs(&mut b, &inits, pod, &seen, now);
    app_start(&mut b, pod, &inits);
    let ready_at = became_true(pod, "Ready");
    if let Some(started) = b
        .steps
        .iter()
        .find(|s| s.kind == StepKind::ContainersStarted)
        .map(|s| s.end)
    {
        let mut span = Span::new(started, ready_at);
        if ready_at.is_none() && pod_phase(pod) == Some("Succeeded") {
            span.end = Some(started);
        }
        b.push(StepKind::Ready, "ready", "ready".into(), span);
    }
    let total_seconds = seconds(created, ready_at.unwrap_or(now));
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

fn first_time(e: &Event) -> Option<Timestamp> {
    e.first_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.last_timestamp.as_ref().map(|t| t.0))
}

fn last_time(e: &Event) -> Option<Timestamp> {
    e.series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref())
        .map(|t| t.0)
        .or_else(|| e.last_timestamp.as_ref().map(|t| t.0))
        .or_else(|| first_time(e))
}

/// `spec.initContainers{init-migrate}` → ("init-migrate").
fn container_of(e: &Event) -> Option<&str> {
    let path = e.involved_object.field_path.as_deref()?;
    let inner = path.split_once('{')?.1.strip_suffix('}')?;
    Some(inner)
}

/// One pull row per container whose image the kubelet pulled (or found present): from the
/// Pulling event to the Pulled event, its duration taken from Pulled's "in 1.2s" when given.
fn pulls(b: &mut Builder, pod: &Pod, events: &[&Event]) {
    let mut order: Vec<&str> = Vec::new();
    let mut by_container: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for e in events {
        let reason = e.reason.as_deref().unwrap_or_default();
        if !matches!(reason, "Pulling" | "Pulled" | "Failed" | "BackOff") {
            continue;
        }
        let Some(c) = container_of(e) else { continue };
        if reason == "Failed" || reason == "BackOff" {
            let msg = e.message.as_deref().unwrap_or_default();
            if !msg.contains("pull") {
                continue;
            }
        }
        if !order.contains(&c) {
            order.push(c);
        }
        by_container.entry(c).or_default().push(e);
    }
    let image_of = |name: &str| -> String {
        let spec = pod.spec.as_ref();
        spec.into_iter()
            .flat_map(|s| s.init_containers.iter().flatten().chain(&s.containers))
            .find(|c| c.name == name)
            .and_then(|c| c.image.clone())
            .unwrap_or_default()
    };
    for c in order {
        let evs = &by_container[c];
        let find = |r: &str| {
            evs.iter()
                .filter(|e| e.reason.as_deref() == Some(r))
                .max_by_key(|e| last_time(e))
        };
        let pulling = find("Pulling");
        let pulled = find("Pulled");
        let failed = evs
            .iter()
            .filter(|e| e.reason.as_deref() != Some("Pulling"))
            .filter(|e| e.reason.as_deref() != Some("Pulled"))
            .map(|e| e.count.unwrap_or(1).max(1))
            .sum::<i32>();
        let message = pulled
            .and_then(|e| e.message.as_deref())
            .unwrap_or_default();
        let present = message.contains("already present");
        let Some(start) = pulling
            .and_then(|e| last_time(e))
            .or_else(|| pulled.and_then(|e| last_time(e)))
        else {
            continue;
        };
        let end = pulled.and_then(|e| last_time(e)).filter(|t| *t >= start);
        let mut span = Span::new(start, end.or(present.then_some(start)));
        span.exact_seconds = pulled.and_then(|e| pulled_in(e.message.as_deref()?));
        if present {
            span.note = Some("already present".into());
            span.exact_seconds = Some(0.0);
        } else if end.is_none() && failed > 0 {
            span.state = StepState::Failed;
            span.note = Some(format!("{failed} failed pulls"));
        } else if failed > 0 {
            span.note = Some(format!("after {failed} failed pulls"));
        }
        span.restarts = failed;
        // The image's last path segment: the registry and repository path rarely fit a row
        // (documents carry `image` whole).
        let image = image_of(c);
        let short = image.rsplit('/').next().unwrap_or(&image);
        let subject = format!("pull {short}");
        span.image = Some(image.clone());
        b.push(StepKind::Pull, &subject, format!("pull/{c}"), span);
    }
}

/// The pull time in a Pulled message: `Successfully pulled image "x" in 1.2s (1.2s including
/// waiting)` — the first duration (the pull itself; the one in brackets adds queueing).
pub(crate) fn pulled_in(message: &str) -> Option<f64> {
    let rest = message.split_once("\" in ")?.1;
    let word = rest.split_whitespace().next()?;
    go_duration_seconds(word)
}

/// A Go `time.Duration.String()`: `1h2m3.5s`, `512ms`, `1.2µs`.
pub(crate) fn go_duration_seconds(text: &str) -> Option<f64> {
    let mut total = 0.0;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let value: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "µs" | "us" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += value * scale;
        rest = &rest[unit_len..];
    }
    Some(total)
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
    for (i, c) in inits.iter().enumerate() {
        let name = c.name.raw();
        let earliest_known = c
            .last_termination
            .as_ref()
            .and_then(|t| t.started_at)
            .or(c.started_at);
        if let (Some(first), Some(known)) = (seen.first_started.get(name), earliest_known)
            && *first < known
            && c.kind == InitKind::Init
        {
            let mut span = Span::new(*first, Some(known));
            span.state = StepState::Failed;
            span.note = Some("runs and back-off before, from events".into());
            b.push(kind_of(c), name, format!("earlier/{name}"), span);
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
            b.push(kind_of(c), name, format!("previous/{name}"), span);
        }
        let Some(start) = c.started_at else { continue };
        let mut span = match (c.kind, c.state) {
            (InitKind::Sidecar, _) => {
                let mut s = Span::new(start, next_start(i).filter(|t| *t >= start));
                s.note = Some("sidecar, until the next container started".into());
                s
            }
            (_, RunState::Terminated) => {
                let mut s = Span::new(start, c.finished_at.or(Some(now)));
                if c.exit_code != Some(0) {
                    s.state = StepState::Failed;
                    s.note = Some(format!("exit {}", c.exit_code.unwrap_or_default()));
                }
                s
            }
            _ => Span::new(start, None),
        };
        span.restarts = c.restarts;
        if c.restarts > 0 && c.kind == InitKind::Init {
            let runs = match c.restarts {
                1 => "1 restart".to_string(),
                n => format!("{n} restarts"),
            };
            span.note = Some(match span.note {
                Some(n) => format!("{n}, {runs}"),
                None => runs,
            });
        }
        b.push(kind_of(c), name, format!("init/{name}"), span);
    }
}

fn kind_of(c: &InitContainerState) -> StepKind {
    match c.kind {
        InitKind::Init => StepKind::Init,
        InitKind::Sidecar => StepKind::Sidecar,
    }
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
