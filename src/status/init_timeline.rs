//! Pod → the state of each of its init containers, in spec order: what ran, for how long,
//! how it ended, and whether the image that ran is still the one the spec names.

use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateTerminated, ContainerStatus, Pod,
};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use crate::status::image_ref;
use crate::status::print_pod::is_sidecar;
use crate::util::sanitize::Untrusted;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InitKind {
    Init,
    Sidecar,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// No status reported for it yet.
    Pending,
    Waiting,
    Running,
    Terminated,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Termination {
    pub exit_code: i32,
    pub signal: Option<i32>,
    pub reason: Option<Untrusted>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
}

/// One init container, as `status -o wide` and `-o json` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InitContainerState {
    /// 1-based position in the spec.
    pub index: usize,
    pub name: Untrusted,
    #[serde(rename = "type")]
    pub kind: InitKind,
    /// The image the spec names now.
    pub image: Untrusted,
    /// The image the container last ran, as the kubelet reports it.
    pub ran_image: Option<Untrusted>,
    /// The spec image differs from the one that ran: an edit that has not taken effect.
    pub image_drift: bool,
    pub state: RunState,
    pub reason: Option<Untrusted>,
    pub message: Option<Untrusted>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub restarts: i32,
    pub started: bool,
    pub ready: bool,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    /// finished − started, or the running time so far.
    pub duration_seconds: Option<i64>,
    pub last_termination: Option<Termination>,
}

fn termination(t: &ContainerStateTerminated) -> Termination {
    Termination {
        exit_code: t.exit_code,
        signal: t.signal.filter(|s| *s != 0),
        reason: t
            .reason
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(Untrusted::from),
        started_at: t.started_at.as_ref().map(|t| t.0),
        finished_at: t.finished_at.as_ref().map(|t| t.0),
    }
}

fn seconds_between(from: Option<Timestamp>, to: Option<Timestamp>) -> Option<i64> {
    Some(to?.duration_since(from?).as_secs().max(0))
}

/// The init containers of `pod` in spec order; `now` measures containers still running.
pub fn init_containers(pod: &Pod, now: Timestamp) -> Vec<InitContainerState> {
    with_statuses(pod)
        .enumerate()
        .map(|(i, (c, status))| init_container(i + 1, c, status, now))
        .collect()
}

/// Whether any init container last ran another image than its spec names (an edit that has not
/// taken effect), without building each one's state: `explain` and `--stuck` ask it of every
/// pod.
pub fn any_image_drift(pod: &Pod) -> bool {
    with_statuses(pod).any(|(c, status)| status.is_some_and(|cs| drifted(c, cs)))
}

/// Each init container of the spec, in order, with its status if it has one yet.
fn with_statuses(pod: &Pod) -> impl Iterator<Item = (&Container, Option<&ContainerStatus>)> {
    let statuses: &[ContainerStatus] = pod
        .status
        .as_ref()
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or_default();
    let spec = pod.spec.as_ref().and_then(|s| s.init_containers.as_deref());
    spec.unwrap_or_default()
        .iter()
        .map(move |c| (c, statuses.iter().find(|s| s.name == c.name)))
}

fn ran_image(cs: &ContainerStatus) -> Option<&str> {
    Some(cs.image.as_str()).filter(|s| !s.is_empty())
}

fn drifted(c: &Container, cs: &ContainerStatus) -> bool {
    let image = c.image.as_deref().unwrap_or_default();
    image_ref::drifted(image, ran_image(cs), Some(&cs.image_id)).unwrap_or(false)
}

/// One init container: what its spec says, and what its status (if any yet) reports.
fn init_container(
    index: usize,
    c: &Container,
    status: Option<&ContainerStatus>,
    now: Timestamp,
) -> InitContainerState {
    let image = c.image.clone().unwrap_or_default();
    let kind = if is_sidecar(c) {
        InitKind::Sidecar
    } else {
        InitKind::Init
    };
    let Some(cs) = status else {
        return InitContainerState {
            index,
            name: c.name.as_str().into(),
            kind,
            image: image.into(),
            ran_image: None,
            image_drift: false,
            state: RunState::Pending,
            reason: None,
            message: None,
            exit_code: None,
            signal: None,
            restarts: 0,
            started: false,
            ready: false,
            started_at: None,
            finished_at: None,
            duration_seconds: None,
            last_termination: None,
        };
    };
    let run = CurrentRun::of(cs.state.as_ref());
    let duration_seconds = match run.state {
        RunState::Terminated => seconds_between(run.started_at, run.finished_at),
        RunState::Running => seconds_between(run.started_at, Some(now)),
        _ => None,
    };
    InitContainerState {
        index,
        name: c.name.as_str().into(),
        kind,
        image_drift: drifted(c, cs),
        image: image.into(),
        ran_image: ran_image(cs).map(Untrusted::from),
        state: run.state,
        reason: run.reason.map(Untrusted::from),
        message: run.message.filter(|m| !m.is_empty()).map(Untrusted::from),
        exit_code: run.exit_code,
        signal: run.signal,
        restarts: cs.restart_count,
        started: cs.started.unwrap_or(false),
        ready: cs.ready,
        started_at: run.started_at,
        finished_at: run.finished_at,
        duration_seconds,
        last_termination: cs
            .last_state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .map(termination),
    }
}

/// The container's current state, flattened: terminated, running, waiting (with or without a
/// reason).
struct CurrentRun {
    state: RunState,
    reason: Option<String>,
    message: Option<String>,
    exit_code: Option<i32>,
    signal: Option<i32>,
    started_at: Option<Timestamp>,
    finished_at: Option<Timestamp>,
}

impl CurrentRun {
    fn of(state: Option<&ContainerState>) -> CurrentRun {
        let waiting = CurrentRun {
            state: RunState::Waiting,
            reason: None,
            message: None,
            exit_code: None,
            signal: None,
            started_at: None,
            finished_at: None,
        };
        if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
            let term = termination(t);
            CurrentRun {
                state: RunState::Terminated,
                reason: term.reason.map(|r| r.raw().to_string()),
                message: t.message.clone(),
                exit_code: Some(t.exit_code),
                signal: term.signal,
                started_at: term.started_at,
                finished_at: term.finished_at,
            }
        } else if let Some(r) = state.and_then(|s| s.running.as_ref()) {
            CurrentRun {
                state: RunState::Running,
                started_at: r.started_at.as_ref().map(|t| t.0),
                ..waiting
            }
        } else if let Some(w) = state.and_then(|s| s.waiting.as_ref()) {
            CurrentRun {
                reason: w.reason.clone().filter(|r| !r.is_empty()),
                message: w.message.clone(),
                ..waiting
            }
        } else {
            waiting
        }
    }
}
