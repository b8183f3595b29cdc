//! Pod + events + related objects → why the pod is not running, most blocking first, each
//! finding with the evidence it rests on and a next step. Pure: a finding looks related objects
//! up through [`related::Lookups`], which records what was not fetched yet ([`Misses`]) for the
//! I/O layer to fetch.

mod containers;
pub mod grouping;
mod logs;
mod mesh;
mod node;
pub mod related;
mod scheduling;
mod startup;
pub mod wait_for;

use k8s_openapi::api::core::v1::{ContainerStatus, Event, Pod, PodCondition, PodSpec, PodStatus};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use crate::status::print_pod::{self, PodStatusSummary};
use crate::util::duration;
use crate::util::sanitize::Untrusted;
use related::{Lookups, Misses, RelatedObjects};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Blocker,
    Warning,
    Info,
}

/// Where in its life the pod is held up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// The pod's node is not ready or gone: nothing on the pod progresses.
    Node,
    Gated,
    Unschedulable,
    NotScheduled,
    Sandbox,
    Init,
    Sidecar,
    Terminal,
    AppStart,
    Running,
    Completed,
    Terminating,
}

impl Stage {
    fn phrase(self) -> &'static str {
        match self {
            Stage::Node => "On a node that is not ready",
            Stage::Gated => "Held by scheduling gates",
            Stage::Unschedulable => "Unschedulable",
            Stage::NotScheduled => "Not picked up by a scheduler",
            Stage::Sandbox => "Setting up the pod sandbox and volumes",
            Stage::Init => "Stuck in init",
            Stage::Sidecar => "Waiting on a sidecar",
            Stage::Terminal => "Failed for good",
            Stage::AppStart => "Starting app containers",
            Stage::Running => "Running",
            Stage::Completed => "Completed",
            Stage::Terminating => "Terminating",
        }
    }
}

/// What a finding says, as a stable name: `-o json` prints it as `code`, and docs/explain.md
/// catalogues every one, so a variant's serialised string never changes once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FindingCode {
    SchedulingGated,
    NotScheduled,
    SchedulerError,
    Unschedulable,
    InsufficientResources,
    UntoleratedTaint,
    NodeSelectorMismatch,
    UnboundVolumeClaim,
    SchedulingConstraint,
    PreemptionPending,
    PreemptionNotPossible,
    VolumeSourceMissing,
    SandboxFailed,
    VolumeAttachFailed,
    VolumeMountFailed,
    ImagePullFailed,
    ImagePullSecretMissing,
    InvalidImageName,
    CreateContainerConfigError,
    CrashLoopBackOff,
    ContainerFailed,
    InitFailedPermanently,
    ContainerStartFailed,
    ServiceMissing,
    ServicePortNotExposed,
    ServiceWithoutEndpoints,
    WaitingDespiteReadyService,
    WaitingForExternalHost,
    WaitingForService,
    InitStillRunning,
    SidecarNotStarted,
    SidecarCrashLoop,
    InitImageDrift,
    PodFailed,
    Terminating,
    NodeNotReady,
    NodeGone,
    MeshProxyNotStarted,
    TooManyPods,
    HostPortConflict,
    TopologySpreadUnsatisfiable,
    VolumeNodeAffinityConflict,
    NoPersistentVolumeForClaim,
    ImagePullRateLimited,
    ActiveDeadlineExceeded,
    ServiceInOtherNamespace,
}

impl FindingCode {
    /// The code as `-o json` and the text output print it (the variant's name).
    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::SchedulingGated => "SchedulingGated",
            FindingCode::NotScheduled => "NotScheduled",
            FindingCode::SchedulerError => "SchedulerError",
            FindingCode::Unschedulable => "Unschedulable",
            FindingCode::InsufficientResources => "InsufficientResources",
            FindingCode::UntoleratedTaint => "UntoleratedTaint",
            FindingCode::NodeSelectorMismatch => "NodeSelectorMismatch",
            FindingCode::UnboundVolumeClaim => "UnboundVolumeClaim",
            FindingCode::SchedulingConstraint => "SchedulingConstraint",
            FindingCode::PreemptionPending => "PreemptionPending",
            FindingCode::PreemptionNotPossible => "PreemptionNotPossible",
            FindingCode::VolumeSourceMissing => "VolumeSourceMissing",
            FindingCode::SandboxFailed => "SandboxFailed",
            FindingCode::VolumeAttachFailed => "VolumeAttachFailed",
            FindingCode::VolumeMountFailed => "VolumeMountFailed",
            FindingCode::ImagePullFailed => "ImagePullFailed",
            FindingCode::ImagePullSecretMissing => "ImagePullSecretMissing",
            FindingCode::InvalidImageName => "InvalidImageName",
            FindingCode::CreateContainerConfigError => "CreateContainerConfigError",
            FindingCode::CrashLoopBackOff => "CrashLoopBackOff",
            FindingCode::ContainerFailed => "ContainerFailed",
            FindingCode::InitFailedPermanently => "InitFailedPermanently",
            FindingCode::ContainerStartFailed => "ContainerStartFailed",
            FindingCode::ServiceMissing => "ServiceMissing",
            FindingCode::ServicePortNotExposed => "ServicePortNotExposed",
            FindingCode::ServiceWithoutEndpoints => "ServiceWithoutEndpoints",
            FindingCode::WaitingDespiteReadyService => "WaitingDespiteReadyService",
            FindingCode::WaitingForExternalHost => "WaitingForExternalHost",
            FindingCode::WaitingForService => "WaitingForService",
            FindingCode::InitStillRunning => "InitStillRunning",
            FindingCode::SidecarNotStarted => "SidecarNotStarted",
            FindingCode::SidecarCrashLoop => "SidecarCrashLoop",
            FindingCode::InitImageDrift => "InitImageDrift",
            FindingCode::PodFailed => "PodFailed",
            FindingCode::Terminating => "Terminating",
            FindingCode::NodeNotReady => "NodeNotReady",
            FindingCode::NodeGone => "NodeGone",
            FindingCode::MeshProxyNotStarted => "MeshProxyNotStarted",
            FindingCode::TooManyPods => "TooManyPods",
            FindingCode::HostPortConflict => "HostPortConflict",
            FindingCode::TopologySpreadUnsatisfiable => "TopologySpreadUnsatisfiable",
            FindingCode::VolumeNodeAffinityConflict => "VolumeNodeAffinityConflict",
            FindingCode::NoPersistentVolumeForClaim => "NoPersistentVolumeForClaim",
            FindingCode::ImagePullRateLimited => "ImagePullRateLimited",
            FindingCode::ActiveDeadlineExceeded => "ActiveDeadlineExceeded",
            FindingCode::ServiceInOtherNamespace => "ServiceInOtherNamespace",
        }
    }
}

impl std::fmt::Display for FindingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every text a finding or an explanation carries is [`Untrusted`]: it quotes the cluster (reasons,
/// messages, names, log lines), so renderers get it only in the type that displays escaped, and
/// a new field cannot be printed raw by mistake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub code: FindingCode,
    pub message: Untrusted,
    pub evidence: Vec<Untrusted>,
    pub next: Untrusted,
    /// The stage this finding belongs to (the first blocker's stage is the pod's).
    #[serde(skip)]
    stage: Stage,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub namespace: Untrusted,
    pub name: Untrusted,
    pub status: Untrusted,
    pub stage: Stage,
    pub stuck_for_seconds: Option<i64>,
    pub summary: Untrusted,
    pub findings: Vec<Finding>,
    /// What could not be checked (forbidden, not in the input…), so silence is not mistaken for health.
    pub notes: Vec<Untrusted>,
}

/// Evidence lines, each as [`Untrusted`] text.
fn untrusted_all<T: Into<Untrusted>>(lines: impl IntoIterator<Item = T>) -> Vec<Untrusted> {
    lines.into_iter().map(Into::into).collect()
}

/// Working state while one pod is diagnosed.
struct Diagnosis<'a> {
    pod: &'a Pod,
    related: Lookups<'a>,
    now: Timestamp,
    tail: u32,
    summary: PodStatusSummary,
    /// The pod's events, oldest first: looked up once, read by every finding.
    events: Vec<&'a Event>,
    findings: Vec<Finding>,
    notes: Vec<String>,
    /// Since when the pod's node has been not ready (or gone), once [`node`] found it so.
    node_down_since: Option<Timestamp>,
}

impl Diagnosis<'_> {
    fn namespace(&self) -> &str {
        self.pod.metadata.namespace.as_deref().unwrap_or("default")
    }

    fn name(&self) -> &str {
        self.pod.metadata.name.as_deref().unwrap_or_default()
    }

    /// Records that something could not be checked, once.
    fn note(&mut self, text: String) {
        if !self.notes.contains(&text) {
            self.notes.push(text);
        }
    }

    fn condition(&self, kind: &str) -> Option<&PodCondition> {
        self.pod
            .status
            .as_ref()?
            .conditions
            .as_ref()?
            .iter()
            .find(|c| c.type_ == kind)
    }

    fn ago(&self, t: Timestamp) -> String {
        duration::human(self.now.duration_since(t))
    }
}

/// The pod's restart policy for init containers: regular init containers are restarted unless
/// the pod's policy is Never.
fn init_restarts(pod: &Pod) -> bool {
    pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref()) != Some("Never")
}

/// Pods worth explaining when no target is named: anything not Running-and-Ready (finished
/// pods excepted), and running pods whose init image never ran.
pub(crate) fn needs_explaining(pod: &Pod) -> bool {
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or_default();
    if phase == "Succeeded" && pod.metadata.deletion_timestamp.is_none() {
        return false;
    }
    let healthy = phase == "Running"
        && crate::status::print_pod::has_condition(pod, "Ready")
        && pod.metadata.deletion_timestamp.is_none();
    !healthy || crate::status::init_timeline::any_image_drift(pod)
}

/// The pod explained with what `related` holds, and what it looked up there and did not find:
/// only one of those coming in can change its explanation.
pub fn explain(
    pod: &Pod,
    related: &RelatedObjects,
    now: Timestamp,
    tail: u32,
) -> (Explanation, Misses) {
    let summary = print_pod::summarize(pod);
    let related = Lookups::new(related);
    let (events, unreadable) = match related.pod_events(pod) {
        Ok(events) => (events, None),
        Err(why) => (Vec::new(), Some(why)),
    };
    let mut d = Diagnosis {
        pod,
        related,
        now,
        tail,
        summary,
        events,
        findings: Vec::new(),
        notes: Vec::new(),
        node_down_since: None,
    };
    if let Some(why) = unreadable {
        d.note(why);
    }
    // Borrowed, not cloned: a clone of the spec and status was a tenth of `explain -A`.
    let (empty_status, empty_spec) = (PodStatus::default(), PodSpec::default());
    let status = pod.status.as_ref().unwrap_or(&empty_status);
    let phase = status.phase.as_deref().unwrap_or_default();
    let spec = pod.spec.as_ref().unwrap_or(&empty_spec);

    // A dead node first: everything else the pod's status says is stale. A pod being deleted
    // is left to `terminating`, which names the lost node and how to finish the deletion.
    if phase != "Succeeded" && phase != "Failed" && pod.metadata.deletion_timestamp.is_none() {
        node::node_down(&mut d);
    }
    if let Some(deleted) = pod.metadata.deletion_timestamp.as_ref().map(|t| t.0) {
        startup::terminating(&mut d, deleted);
    } else if phase == "Succeeded" {
        // Nothing is wrong with a pod that finished its work.
    } else if spec
        .scheduling_gates
        .as_ref()
        .is_some_and(|g| !g.is_empty())
    {
        startup::gated(&mut d);
    } else if spec.node_name.as_deref().unwrap_or_default().is_empty() && phase != "Failed" {
        scheduling::unscheduled(&mut d);
    } else {
        if phase == "Failed"
            && let Some(reason) = status.reason.as_deref().filter(|r| !r.is_empty())
        {
            startup::pod_failed(
                &mut d,
                reason,
                status.message.as_deref().unwrap_or_default(),
            );
        }
        containers::init_sequence(&mut d);
        containers::sidecars(&mut d);
        if d.findings.iter().all(|f| f.severity != Severity::Blocker) {
            startup::sandbox(&mut d);
            containers::app_containers(&mut d);
        }
    }
    containers::image_drift(&mut d);

    // Most blocking first; the order of discovery breaks ties (it follows the pod's life).
    d.findings.sort_by_key(|f| f.severity);
    let stage = stage_of(&d, phase);
    let since = stuck_since(&d, stage);
    let stuck_for_seconds = since.map(|t| now.duration_since(t).as_secs().max(0));
    let lead = d.findings.first().map(|f| f.message.raw());
    let summary = summary_line(stage, lead, stuck_for_seconds);
    (
        Explanation {
            namespace: d.namespace().into(),
            name: d.name().into(),
            status: d.summary.status.as_str().into(),
            stage,
            stuck_for_seconds,
            summary: summary.into(),
            findings: d.findings,
            notes: d.notes.into_iter().map(Untrusted::from).collect(),
        },
        d.related.into_misses(),
    )
}

/// The one sentence that sums a pod up: its stage, how long it has been stuck, the lead finding.
fn summary_line(stage: Stage, lead: Option<&str>, stuck_for_seconds: Option<i64>) -> String {
    match (stage, lead, stuck_for_seconds) {
        (Stage::Running | Stage::Completed, None, _) => {
            format!("{}: nothing to explain.", stage.phrase())
        }
        (_, Some(msg), Some(secs)) => {
            format!(
                "{} for {}: {}",
                stage.phrase(),
                duration::human(k8s_openapi::jiff::SignedDuration::from_secs(secs)),
                msg
            )
        }
        (_, Some(msg), None) => format!("{}: {}", stage.phrase(), msg),
        (_, None, _) => format!("{}.", stage.phrase()),
    }
}

fn stage_of(d: &Diagnosis, phase: &str) -> Stage {
    if let Some(f) = d.findings.iter().find(|f| f.severity == Severity::Blocker) {
        return f.stage;
    }
    if d.pod.metadata.deletion_timestamp.is_some() {
        return Stage::Terminating;
    }
    match phase {
        "Succeeded" => Stage::Completed,
        "Running" if d.condition("Ready").is_some_and(|c| c.status == "True") => Stage::Running,
        _ => d.findings.first().map_or(Stage::Running, |f| f.stage),
    }
}

/// When the pod entered the stage it is stuck in.
fn stuck_since(d: &Diagnosis, stage: Stage) -> Option<Timestamp> {
    let created = d.pod.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let transition = |kind: &str| {
        d.condition(kind)
            .and_then(|c| c.last_transition_time.as_ref())
            .map(|t| t.0)
    };
    let status = d.pod.status.as_ref();
    let started = status.and_then(|s| s.start_time.as_ref()).map(|t| t.0);
    match stage {
        Stage::Node => d.node_down_since.or(created),
        Stage::Gated | Stage::Unschedulable | Stage::NotScheduled => created,
        Stage::Sandbox => transition("PodScheduled").or(started).or(created),
        Stage::Init | Stage::Sidecar | Stage::Terminal => {
            let current = d.summary.current.as_ref()?;
            let statuses: &[ContainerStatus] = status?
                .init_container_statuses
                .as_deref()
                .unwrap_or_default();
            // Stuck on this init container since the one before it finished (or the pod started).
            let previous_end = statuses[..current.index.min(statuses.len())]
                .iter()
                .filter_map(|cs| {
                    let state = cs.state.as_ref()?;
                    state
                        .terminated
                        .as_ref()
                        .and_then(|t| t.finished_at.as_ref())
                        .or(state.running.as_ref().and_then(|r| r.started_at.as_ref()))
                        .map(|t| t.0)
                })
                .max();
            previous_end.or(started).or(created)
        }
        Stage::AppStart => transition("Initialized").or(started).or(created),
        Stage::Terminating => d.pod.metadata.deletion_timestamp.as_ref().map(|t| t.0),
        Stage::Running | Stage::Completed => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The codes are a JSON contract (`-o json`): pin each one's string.
    #[test]
    fn finding_codes_serialise_to_their_documented_names() {
        let pinned = [
            (FindingCode::SchedulingGated, "SchedulingGated"),
            (FindingCode::NotScheduled, "NotScheduled"),
            (FindingCode::SchedulerError, "SchedulerError"),
            (FindingCode::Unschedulable, "Unschedulable"),
            (FindingCode::InsufficientResources, "InsufficientResources"),
            (FindingCode::UntoleratedTaint, "UntoleratedTaint"),
            (FindingCode::NodeSelectorMismatch, "NodeSelectorMismatch"),
            (FindingCode::UnboundVolumeClaim, "UnboundVolumeClaim"),
            (FindingCode::SchedulingConstraint, "SchedulingConstraint"),
            (FindingCode::PreemptionPending, "PreemptionPending"),
            (FindingCode::PreemptionNotPossible, "PreemptionNotPossible"),
            (FindingCode::VolumeSourceMissing, "VolumeSourceMissing"),
            (FindingCode::SandboxFailed, "SandboxFailed"),
            (FindingCode::VolumeAttachFailed, "VolumeAttachFailed"),
            (FindingCode::VolumeMountFailed, "VolumeMountFailed"),
            (FindingCode::ImagePullFailed, "ImagePullFailed"),
            (
                FindingCode::ImagePullSecretMissing,
                "ImagePullSecretMissing",
            ),
            (FindingCode::InvalidImageName, "InvalidImageName"),
            (
                FindingCode::CreateContainerConfigError,
                "CreateContainerConfigError",
            ),
            (FindingCode::CrashLoopBackOff, "CrashLoopBackOff"),
            (FindingCode::ContainerFailed, "ContainerFailed"),
            (FindingCode::InitFailedPermanently, "InitFailedPermanently"),
            (FindingCode::ContainerStartFailed, "ContainerStartFailed"),
            (FindingCode::ServiceMissing, "ServiceMissing"),
            (FindingCode::ServicePortNotExposed, "ServicePortNotExposed"),
            (
                FindingCode::ServiceWithoutEndpoints,
                "ServiceWithoutEndpoints",
            ),
            (
                FindingCode::WaitingDespiteReadyService,
                "WaitingDespiteReadyService",
            ),
            (
                FindingCode::WaitingForExternalHost,
                "WaitingForExternalHost",
            ),
            (FindingCode::WaitingForService, "WaitingForService"),
            (FindingCode::InitStillRunning, "InitStillRunning"),
            (FindingCode::SidecarNotStarted, "SidecarNotStarted"),
            (FindingCode::SidecarCrashLoop, "SidecarCrashLoop"),
            (FindingCode::InitImageDrift, "InitImageDrift"),
            (FindingCode::PodFailed, "PodFailed"),
            (FindingCode::Terminating, "Terminating"),
            (FindingCode::NodeNotReady, "NodeNotReady"),
            (FindingCode::NodeGone, "NodeGone"),
            (FindingCode::MeshProxyNotStarted, "MeshProxyNotStarted"),
            (FindingCode::TooManyPods, "TooManyPods"),
            (FindingCode::HostPortConflict, "HostPortConflict"),
            (
                FindingCode::TopologySpreadUnsatisfiable,
                "TopologySpreadUnsatisfiable",
            ),
            (
                FindingCode::VolumeNodeAffinityConflict,
                "VolumeNodeAffinityConflict",
            ),
            (
                FindingCode::NoPersistentVolumeForClaim,
                "NoPersistentVolumeForClaim",
            ),
            (FindingCode::ImagePullRateLimited, "ImagePullRateLimited"),
            (
                FindingCode::ActiveDeadlineExceeded,
                "ActiveDeadlineExceeded",
            ),
            (
                FindingCode::ServiceInOtherNamespace,
                "ServiceInOtherNamespace",
            ),
        ];
        for (code, name) in pinned {
            assert_eq!(serde_json::to_value(code).unwrap(), name);
            assert_eq!(code.as_str(), name);
            assert_eq!(code.to_string(), name);
        }
    }
}
