//! Containers: the init container STATUS points at (pull, config, crash, or waiting on
//! something), native sidecars, app containers after init, and init images that never ran.

use k8s_openapi::api::core::v1::{
    Container, ContainerStateTerminated, ContainerStatus, Event, Probe,
};

use super::world::{Lookup, event_line};
use super::{Diagnosis, Finding, FindingCode, Severity, Stage, init_restarts, logs};
use crate::diagnosis::wait_for::{self, ServiceRef, WaitTarget};
use crate::status::init_timeline::{self, InitKind};
use crate::util::sanitize::for_terminal;

/// Which container, for messages: "init container init-migrate (2/2)".
struct Who<'a> {
    spec: &'a Container,
    status: &'a ContainerStatus,
    label: String,
    /// The events' fieldPath for this container.
    field_path: String,
}

fn init_statuses<'a>(d: &Diagnosis<'a>) -> &'a [ContainerStatus] {
    d.pod
        .status
        .as_ref()
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or_default()
}

fn init_specs<'a>(d: &Diagnosis<'a>) -> &'a [Container] {
    d.pod
        .spec
        .as_ref()
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default()
}

fn container_events<'a>(d: &Diagnosis<'a>, field_path: &str) -> Vec<&'a Event> {
    d.events
        .iter()
        .copied()
        .filter(|e| e.involved_object.field_path.as_deref() == Some(field_path))
        .collect()
}

/// The latest events with one of `reasons`, newest last, at most `n`.
fn latest<'a>(events: &[&'a Event], reasons: &[&str], n: usize) -> Vec<&'a Event> {
    let matching: Vec<&Event> = events
        .iter()
        .copied()
        .filter(|e| e.reason.as_deref().is_some_and(|r| reasons.contains(&r)))
        .collect();
    matching[matching.len().saturating_sub(n)..].to_vec()
}

fn initialized(d: &Diagnosis) -> bool {
    d.condition("Initialized")
        .is_some_and(|c| c.status == "True")
}

pub fn init_sequence(d: &mut Diagnosis) {
    let Some(current) = d.summary.current.clone() else {
        return;
    };
    // A sidecar failing after initialization holds nothing back: `sidecars` reports it.
    if current.sidecar && initialized(d) {
        return;
    }
    let specs = init_specs(d);
    let (Some(spec), Some(status)) = (
        specs.get(current.index),
        init_statuses(d).iter().find(|s| s.name == current.name),
    ) else {
        return;
    };
    let regular_total = specs
        .iter()
        .filter(|c| !crate::status::print_pod::is_sidecar(c))
        .count();
    let label = if current.sidecar {
        format!("sidecar {}", current.name)
    } else {
        let position = specs[..=current.index]
            .iter()
            .filter(|c| !crate::status::print_pod::is_sidecar(c))
            .count();
        format!(
            "init container {} ({position}/{regular_total})",
            current.name
        )
    };
    let who = Who {
        spec,
        status,
        label,
        field_path: format!("spec.initContainers{{{}}}", current.name),
    };
    let stage = if current.sidecar {
        Stage::Sidecar
    } else {
        Stage::Init
    };
    let state = status.state.clone().unwrap_or_default();
    if let Some(waiting) = &state.waiting
        && let Some(reason) = waiting
            .reason
            .as_deref()
            .filter(|r| !r.is_empty() && *r != "PodInitializing")
    {
        problem(
            d,
            stage,
            &who,
            reason,
            waiting.message.as_deref().unwrap_or_default(),
        );
    } else if let Some(t) = &state.terminated {
        failed(d, stage, &who, t, false);
    } else if state.running.is_some() {
        if current.sidecar {
            sidecar_not_started(d, &who, specs.get(current.index + 1));
        } else {
            waiting_on(d, &who);
        }
    }
}

/// A container held in `waiting` with a reason: pull, config, crash loop, or another start error.
fn problem(d: &mut Diagnosis, stage: Stage, who: &Who, reason: &str, message: &str) {
    let events = container_events(d, &who.field_path);
    let state = format!(
        "state: waiting, {reason}{}",
        if message.is_empty() {
            String::new()
        } else {
            format!(": {}", for_terminal(message))
        }
    );
    match reason {
        "ErrImagePull"
        | "ImagePullBackOff"
        | "ErrImageNeverPull"
        | "RegistryUnavailable"
        | "InvalidImageName"
        | "ImageInspectError" => image_pull(d, stage, who, reason, state, &events),
        "CreateContainerConfigError" => config_error(d, stage, who, message, state),
        "CrashLoopBackOff" => {
            let last = who
                .status
                .last_state
                .as_ref()
                .and_then(|s| s.terminated.clone())
                .unwrap_or_default();
            failed(d, stage, who, &last, true);
            if let Some(f) = d.findings.last_mut() {
                f.evidence.insert(0, state);
            }
        }
        _ => {
            let mut evidence = vec![state];
            evidence.extend(
                latest(
                    &events,
                    &["Failed", "FailedPostStartHook", "FailedPreStopHook"],
                    2,
                )
                .into_iter()
                .map(event_line),
            );
            d.findings.push(Finding {
                stage,
                severity: Severity::Blocker,
                code: FindingCode::ContainerStartFailed,
                message: format!("{} cannot start: {reason}", who.label),
                evidence,
                next: "read the message above: the container runtime refused to create or start the container (bad command, missing binary, security context, or a failing lifecycle hook)".into(),
            });
        }
    }
}

fn image_pull(
    d: &mut Diagnosis,
    stage: Stage,
    who: &Who,
    reason: &str,
    state: String,
    events: &[&Event],
) {
    let image = who.spec.image.clone().unwrap_or_default();
    let mut evidence = vec![state];
    let pulls = latest(events, &["Failed"], 2);
    evidence.extend(pulls.iter().map(|e| event_line(e)));
    let text: String = pulls
        .iter()
        .filter_map(|e| e.message.clone())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        + &who
            .status
            .state
            .as_ref()
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.message.clone())
            .unwrap_or_default()
            .to_lowercase();
    let pull_secrets: Vec<String> = d
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.image_pull_secrets.as_ref())
        .map(|l| l.iter().map(|r| r.name.clone()).collect())
        .unwrap_or_default();
    let mut missing_secrets = Vec::new();
    if pull_secrets.is_empty() {
        evidence.push("imagePullSecrets: none".into());
    } else {
        let ns = d.namespace().to_string();
        match d.world.secrets(&ns) {
            Lookup::Got(names) => {
                for s in &pull_secrets {
                    if names.contains(s) {
                        evidence.push(format!("imagePullSecrets: {s} (exists)"));
                    } else {
                        evidence.push(format!("imagePullSecrets: {s} (does not exist in {ns})"));
                        missing_secrets.push(s.clone());
                    }
                }
            }
            Lookup::Unavailable(why) => {
                evidence.push(format!("imagePullSecrets: {}", pull_secrets.join(", ")));
                let why = why.to_string();
                d.note(format!("cannot check that the pull secrets exist: {why}"));
            }
            Lookup::Pending => {}
        }
    }
    let auth = [
        "unauthorized",
        "no basic auth",
        "authentication required",
        "denied",
        "403 forbidden",
        "401",
    ]
    .iter()
    .any(|k| text.contains(k));
    let not_found = [
        "not found",
        "manifest unknown",
        "does not exist",
        "name unknown",
    ]
    .iter()
    .any(|k| text.contains(k));
    let ns = d.namespace().to_string();
    let next = if reason == "InvalidImageName" {
        format!("fix the image reference {image:?}: it is not a valid image name")
    } else if !missing_secrets.is_empty() {
        format!(
            "create the pull secret {} in {ns} (kubectl create secret docker-registry {} -n {ns} --docker-server=… --docker-username=… --docker-password=…), or point imagePullSecrets at one that exists",
            missing_secrets.join(", "),
            missing_secrets[0]
        )
    } else if auth {
        "the registry refused the credentials: check imagePullSecrets (or the service account's) for this registry".into()
    } else if not_found {
        format!("check the image name and tag: the registry does not have {image:?}")
    } else {
        "check that the node can reach the registry and that the image exists; the kubelet keeps retrying with back-off".into()
    };
    let (code, message) = if reason == "InvalidImageName" {
        (
            FindingCode::InvalidImageName,
            format!("{} has an invalid image name {image:?}", who.label),
        )
    } else if !missing_secrets.is_empty() {
        (
            FindingCode::ImagePullSecretMissing,
            format!(
                "{} cannot pull {image}: pull secret {} does not exist",
                who.label,
                missing_secrets.join(", ")
            ),
        )
    } else {
        (
            FindingCode::ImagePullFailed,
            format!("{} cannot pull image {image}", who.label),
        )
    };
    d.findings.push(Finding {
        stage,
        severity: Severity::Blocker,
        code,
        message,
        evidence,
        next,
    });
}

/// A reference from env/envFrom to a ConfigMap or Secret (and key).
struct EnvRef {
    kind: &'static str,
    name: String,
    key: Option<String>,
    optional: bool,
}

fn env_refs(c: &Container) -> Vec<EnvRef> {
    let mut refs = Vec::new();
    for e in c.env.iter().flatten() {
        let Some(from) = &e.value_from else { continue };
        if let Some(r) = &from.config_map_key_ref {
            refs.push(EnvRef {
                kind: "ConfigMap",
                name: r.name.clone(),
                key: Some(r.key.clone()),
                optional: r.optional == Some(true),
            });
        }
        if let Some(r) = &from.secret_key_ref {
            refs.push(EnvRef {
                kind: "Secret",
                name: r.name.clone(),
                key: Some(r.key.clone()),
                optional: r.optional == Some(true),
            });
        }
    }
    for f in c.env_from.iter().flatten() {
        if let Some(r) = &f.config_map_ref {
            refs.push(EnvRef {
                kind: "ConfigMap",
                name: r.name.clone(),
                key: None,
                optional: r.optional == Some(true),
            });
        }
        if let Some(r) = &f.secret_ref {
            refs.push(EnvRef {
                kind: "Secret",
                name: r.name.clone(),
                key: None,
                optional: r.optional == Some(true),
            });
        }
    }
    refs
}

fn config_error(d: &mut Diagnosis, stage: Stage, who: &Who, message: &str, state: String) {
    let ns = d.namespace().to_string();
    let mut evidence = vec![state];
    let mut missing = Vec::new();
    for r in env_refs(who.spec).into_iter().filter(|r| !r.optional) {
        let problem = match r.kind {
            "ConfigMap" => match d.world.config_maps(&ns) {
                Lookup::Got(cms) => match cms
                    .iter()
                    .find(|cm| cm.metadata.name.as_deref() == Some(&r.name))
                {
                    None => Some(format!("ConfigMap {} does not exist in {ns}", r.name)),
                    Some(cm) => r
                        .key
                        .as_ref()
                        .filter(|k| {
                            !cm.data.as_ref().is_some_and(|m| m.contains_key(*k))
                                && !cm.binary_data.as_ref().is_some_and(|m| m.contains_key(*k))
                        })
                        .map(|k| format!("ConfigMap {} has no key {k}", r.name)),
                },
                Lookup::Unavailable(why) => {
                    let why = why.to_string();
                    d.note(format!("cannot check ConfigMaps: {why}"));
                    None
                }
                Lookup::Pending => None,
            },
            _ => match d.world.secrets(&ns) {
                Lookup::Got(names) => (!names.contains(&r.name))
                    .then(|| format!("Secret {} does not exist in {ns}", r.name)),
                Lookup::Unavailable(why) => {
                    let why = why.to_string();
                    d.note(format!("cannot check Secrets: {why}"));
                    None
                }
                Lookup::Pending => None,
            },
        };
        if let Some(p) = problem {
            evidence.push(format!("{p} (referenced by {}'s env)", who.spec.name));
            missing.push(p);
        }
    }
    let headline = if missing.is_empty() {
        for_terminal(message).into_owned()
    } else {
        missing.join("; ")
    };
    d.findings.push(Finding {
        stage,
        severity: Severity::Blocker,
        code: FindingCode::CreateContainerConfigError,
        message: format!("{} cannot be configured: {headline}", who.label),
        evidence,
        next: "create the missing ConfigMap/Secret (or key) in the pod's namespace, or mark the reference optional: the kubelet retries on its own once it exists".into(),
    });
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        6 => "SIGABRT",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        15 => "SIGTERM",
        _ => "signal",
    }
}

fn exit_meaning(code: i32) -> Option<&'static str> {
    match code {
        126 => Some("the command is not executable"),
        127 => Some("command not found"),
        137 => Some("killed by SIGKILL (often the OOM killer or a failed probe)"),
        139 => Some("segmentation fault"),
        143 => Some("terminated by SIGTERM"),
        _ => None,
    }
}

/// A container that exited non-zero: now (terminated) or before its current back-off.
fn failed(
    d: &mut Diagnosis,
    stage: Stage,
    who: &Who,
    t: &ContainerStateTerminated,
    restarting: bool,
) {
    let mut evidence = Vec::new();
    let reason = t.reason.clone().unwrap_or_default();
    let mut how = format!("exit code {}", t.exit_code);
    if let Some(sig) = t.signal.filter(|s| *s != 0) {
        how = format!("signal {sig} ({})", signal_name(sig));
    } else if let Some(meaning) = exit_meaning(t.exit_code) {
        how.push_str(&format!(" ({meaning})"));
    }
    if !reason.is_empty() {
        evidence.push(format!("last exit: {reason}, {how}"));
    } else {
        evidence.push(format!("last exit: {how}"));
    }
    if let Some(msg) = t.message.as_deref().filter(|m| !m.trim().is_empty()) {
        evidence.push(format!("termination message: {}", for_terminal(msg.trim())));
    }
    let restarts = who.status.restart_count;
    if restarts > 0 {
        evidence.push(format!("restarted {restarts} times"));
    }
    let oom = reason == "OOMKilled";
    let limit = who
        .spec
        .resources
        .as_ref()
        .and_then(|r| r.limits.as_ref())
        .and_then(|l| l.get("memory"))
        .map(|q| q.0.clone());
    if oom {
        evidence.push(format!(
            "memory limit: {}",
            limit.clone().unwrap_or_else(|| "none".into())
        ));
    }
    let events = container_events(d, &who.field_path);
    evidence.extend(latest(&events, &["BackOff"], 1).into_iter().map(event_line));
    let terminal = !restarting && (stage == Stage::Init && !init_restarts(d.pod));
    // The failed instance's output: the previous one while a restart is pending.
    evidence.extend(logs::quote(d, &who.spec.name, restarting));
    let next = if oom {
        format!(
            "raise resources.limits.memory of {} (now {}); a pod's container resources cannot be edited in place, so change the workload's template or recreate the pod",
            who.spec.name,
            limit.unwrap_or_else(|| "unset".into())
        )
    } else if terminal {
        format!(
            "the pod's restartPolicy is Never, so it will not retry: fix the cause, then recreate it (kubectl initctl restart pod/{})",
            d.name()
        )
    } else {
        format!(
            "fix what makes {} exit non-zero (see its log); the kubelet retries it with back-off up to 5m",
            who.spec.name
        )
    };
    let (code, message, stage) = if terminal {
        (
            FindingCode::InitFailedPermanently,
            format!("{} failed ({how}) and the pod will never start", who.label),
            Stage::Terminal,
        )
    } else if restarting {
        (
            FindingCode::CrashLoopBackOff,
            format!(
                "{} keeps failing ({how}), restarted {restarts} times",
                who.label
            ),
            stage,
        )
    } else {
        (
            FindingCode::ContainerFailed,
            format!("{} failed ({how})", who.label),
            stage,
        )
    };
    d.findings.push(Finding {
        stage,
        severity: Severity::Blocker,
        code,
        message,
        evidence,
        next,
    });
}

/// A regular init container that is running: usually a loop waiting for something.
fn waiting_on(d: &mut Diagnosis, who: &Who) {
    let ns = d.namespace().to_string();
    let started = who
        .status
        .state
        .as_ref()
        .and_then(|s| s.running.as_ref())
        .and_then(|r| r.started_at.as_ref())
        .map(|t| t.0);
    let running_for = started
        .map(|t| d.ago(t))
        .unwrap_or_else(|| "a while".into());
    let targets = wait_for::wait_targets(who.spec, &ns);
    let log_text = match d.world.log(&super::world::LogKey {
        namespace: ns.clone(),
        pod: d.name().to_string(),
        container: who.spec.name.clone(),
        previous: false,
    }) {
        Lookup::Got(t) => Some(t.clone()),
        _ => None,
    };
    let repeating = log_text
        .as_deref()
        .and_then(|t| logs::repeating_line(t, d.tail.max(1) as usize));
    let tail = d.tail;
    let log_evidence = |evidence: &mut Vec<String>| {
        if let Some((line, n)) = &repeating {
            evidence.push(format!(
                "log repeats: {line:?} ({n} of the last {tail} lines)"
            ));
        }
    };
    let before = d.findings.len();
    for target in &targets {
        let address = match target.port {
            Some(port) => format!("{}:{port}", target.host),
            None => target.host.clone(),
        };
        let mut evidence = vec![
            format!("command: {}", for_terminal(&target.fragment)),
            format!("waits for: {address}"),
        ];
        match wait_for::resolve_service(&target.host, &ns) {
            Some(svc) => check_service(d, who, target, &svc, &running_for, evidence, &log_evidence),
            None => {
                log_evidence(&mut evidence);
                d.findings.push(Finding {
                    stage: Stage::Init,
                    severity: Severity::Warning,
                    code: FindingCode::WaitingForExternalHost,
                    message: format!("{} has been running for {running_for}, waiting for {}{} (outside the cluster's Services)", who.label, target.host, target.port.map(|p| format!(":{p}")).unwrap_or_default()),
                    evidence,
                    next: format!("check that {} is reachable from the pod's node and network (DNS, firewall, NetworkPolicy)", target.host),
                });
            }
        }
    }
    if d.findings.len() == before {
        let command: Vec<String> = who
            .spec
            .command
            .iter()
            .flatten()
            .chain(who.spec.args.iter().flatten())
            .cloned()
            .collect();
        let mut evidence = vec![format!("command: {}", for_terminal(&command.join(" ")))];
        log_evidence(&mut evidence);
        evidence.extend(logs::quote(d, &who.spec.name, false));
        d.findings.push(Finding {
            stage: Stage::Init,
            severity: Severity::Warning,
            code: FindingCode::InitStillRunning,
            message: format!("{} has been running for {running_for} and has not finished", who.label),
            evidence,
            next: format!("an init container must exit 0 before the next one starts: check what {} is doing (its log above, or kubectl logs {} -c {} -n {ns})", who.spec.name, d.name(), who.spec.name),
        });
    } else if repeating.is_none() || d.findings[before].severity != Severity::Blocker {
        // Quote the log tail once, on the first finding: when the cause is not plain (the
        // Service is up, or outside the cluster), the container's own words are the evidence.
        let quoted = logs::quote(d, &who.spec.name, false);
        d.findings[before].evidence.extend(quoted);
    }
}

fn check_service(
    d: &mut Diagnosis,
    who: &Who,
    target: &WaitTarget,
    svc: &ServiceRef,
    running_for: &str,
    mut evidence: Vec<String>,
    log_evidence: &dyn Fn(&mut Vec<String>),
) {
    let waits = format!(
        "{} has been running for {running_for}, waiting for Service {}",
        who.label,
        describe_service(svc, d.namespace())
    );
    let services = match d.world.services(&svc.namespace) {
        Lookup::Got(list) => list,
        Lookup::Unavailable(why) => {
            let why = why.to_string();
            log_evidence(&mut evidence);
            d.note(format!("cannot check Services in {}: {why}", svc.namespace));
            d.findings.push(Finding {
                stage: Stage::Init,
                severity: Severity::Warning,
                code: FindingCode::WaitingForService,
                message: waits,
                evidence,
                next: format!(
                    "check that Service {} exists and has ready endpoints",
                    svc.name
                ),
            });
            return;
        }
        Lookup::Pending => return,
    };
    let Some(service) = services
        .iter()
        .find(|s| s.metadata.name.as_deref() == Some(svc.name.as_str()))
    else {
        let others: Vec<&str> = services
            .iter()
            .filter_map(|s| s.metadata.name.as_deref())
            .collect();
        evidence.push(format!(
            "Services in {}: {}",
            svc.namespace,
            if others.is_empty() {
                "none".to_string()
            } else {
                others.join(", ")
            }
        ));
        log_evidence(&mut evidence);
        d.findings.push(Finding {
            stage: Stage::Init,
            severity: Severity::Blocker,
            code: FindingCode::ServiceMissing,
            message: format!("{waits}, which does not exist"),
            evidence,
            next: format!(
                "create Service {} in namespace {} (or deploy what provides it), or fix the name {} waits for",
                svc.name, svc.namespace, who.spec.name
            ),
        });
        return;
    };
    let spec = service.spec.clone().unwrap_or_default();
    if let Some(port) = target.port {
        let ports: Vec<i32> = spec.ports.iter().flatten().map(|p| p.port).collect();
        let external = spec.type_.as_deref() == Some("ExternalName");
        if !external && !ports.is_empty() && !ports.contains(&i32::from(port)) {
            evidence.push(format!(
                "Service {} exposes port(s) {}",
                svc.name,
                ports
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            log_evidence(&mut evidence);
            d.findings.push(Finding {
                stage: Stage::Init,
                severity: Severity::Blocker,
                code: FindingCode::ServicePortNotExposed,
                message: format!("{waits} on port {port}, which the Service does not expose"),
                evidence,
                next: format!(
                    "connect to one of the Service's ports, or add port {port} to Service {}",
                    svc.name
                ),
            });
            return;
        }
    }
    if spec.type_.as_deref() == Some("ExternalName") {
        evidence.push(format!(
            "Service {} is an ExternalName for {}",
            svc.name,
            spec.external_name.unwrap_or_default()
        ));
        log_evidence(&mut evidence);
        d.findings.push(Finding {
            stage: Stage::Init,
            severity: Severity::Warning,
            code: FindingCode::WaitingForService,
            message: waits,
            evidence,
            next: "check that the external name resolves and answers from the pod's network".into(),
        });
        return;
    }
    let slices = match d.world.endpoint_slices(&svc.namespace) {
        Lookup::Got(list) => list,
        Lookup::Unavailable(why) => {
            let why = why.to_string();
            d.note(format!(
                "cannot check EndpointSlices in {}: {why}",
                svc.namespace
            ));
            log_evidence(&mut evidence);
            d.findings.push(Finding {
                stage: Stage::Init,
                severity: Severity::Warning,
                code: FindingCode::WaitingForService,
                message: waits,
                evidence,
                next: format!("check the Service's endpoints: kubectl get endpointslices -n {} -l kubernetes.io/service-name={}", svc.namespace, svc.name),
            });
            return;
        }
        Lookup::Pending => return,
    };
    let (ready, total) = slices
        .iter()
        .filter(|s| {
            s.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("kubernetes.io/service-name"))
                == Some(&svc.name)
        })
        .flat_map(|s| s.endpoints.iter().flatten())
        .fold((0, 0), |(r, t), e| {
            let is_ready = e.conditions.as_ref().and_then(|c| c.ready) != Some(false);
            (
                r + usize::from(is_ready) * e.addresses.len(),
                t + e.addresses.len(),
            )
        });
    let selector = spec
        .selector
        .as_ref()
        .map(|s| {
            s.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .filter(|s| !s.is_empty());
    if ready == 0 {
        evidence.push(format!(
            "Service {} has {} endpoint(s), none ready; selector: {}",
            svc.name,
            total,
            selector
                .clone()
                .unwrap_or_else(|| "none (endpoints are managed by hand)".into())
        ));
        log_evidence(&mut evidence);
        let next = match &selector {
            Some(sel) => format!(
                "start (or fix) the pods behind it: kubectl get pods -n {} -l {sel}; they must be Ready to become endpoints",
                svc.namespace
            ),
            None => "the Service has no selector: create its EndpointSlices, or give it a selector"
                .to_string(),
        };
        d.findings.push(Finding {
            stage: Stage::Init,
            severity: Severity::Blocker,
            code: FindingCode::ServiceWithoutEndpoints,
            message: format!("{waits}, which has no ready endpoints"),
            evidence,
            next,
        });
        return;
    }
    evidence.push(format!(
        "Service {} exists with {ready} ready endpoint(s)",
        svc.name
    ));
    log_evidence(&mut evidence);
    let dns_only = matches!(target.tool.as_str(), "nslookup" | "dig" | "host" | "getent");
    let next = if dns_only {
        "the name should resolve now: check the exact name in the command (namespace, cluster domain) and cluster DNS (kubectl get pods -n kube-system -l k8s-app=kube-dns)"
            .to_string()
    } else {
        format!(
            "the Service is up: check NetworkPolicies between the pods, and that the port answers (kubectl logs {} -c {})",
            d.name(),
            who.spec.name
        )
    };
    d.findings.push(Finding {
        stage: Stage::Init,
        severity: Severity::Warning,
        code: FindingCode::WaitingDespiteReadyService,
        message: format!("{waits}, which exists and has ready endpoints"),
        evidence,
        next,
    });
}

fn describe_service(svc: &ServiceRef, pod_ns: &str) -> String {
    if svc.namespace == pod_ns {
        svc.name.clone()
    } else {
        format!("{}/{}", svc.namespace, svc.name)
    }
}

fn probe_text(p: &Probe) -> String {
    if let Some(h) = &p.http_get {
        let port = match &h.port {
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i) => i.to_string(),
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
        };
        format!(
            "httpGet {}:{port}{}",
            h.scheme.as_deref().unwrap_or("HTTP").to_lowercase(),
            h.path.as_deref().unwrap_or("/")
        )
    } else if let Some(t) = &p.tcp_socket {
        let port = match &t.port {
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i) => i.to_string(),
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
        };
        format!("tcpSocket :{port}")
    } else if let Some(e) = &p.exec {
        format!("exec {}", e.command.clone().unwrap_or_default().join(" "))
    } else if let Some(g) = &p.grpc {
        format!("grpc :{}", g.port)
    } else {
        "probe".into()
    }
}

/// A sidecar that runs but has not reported `started`: its startup probe holds the next init container.
fn sidecar_not_started(d: &mut Diagnosis, who: &Who, next_container: Option<&Container>) {
    let events = container_events(d, &who.field_path);
    let mut evidence = vec![format!(
        "state: running, started=false, restarts {}",
        who.status.restart_count
    )];
    if let Some(p) = &who.spec.startup_probe {
        evidence.push(format!(
            "startupProbe: {} every {}s, failureThreshold {}",
            probe_text(p),
            p.period_seconds.unwrap_or(10),
            p.failure_threshold.unwrap_or(3)
        ));
    }
    evidence.extend(
        latest(&events, &["Unhealthy"], 2)
            .into_iter()
            .map(event_line),
    );
    let blocked = next_container
        .map(|c| format!(", so {} cannot start", c.name))
        .unwrap_or_default();
    evidence.extend(logs::quote(d, &who.spec.name, false));
    d.findings.push(Finding {
        stage: Stage::Sidecar,
        severity: Severity::Blocker,
        code: FindingCode::SidecarNotStarted,
        message: format!("{} has not passed its startup probe{blocked}", who.label),
        evidence,
        next: format!("make {}'s startup probe succeed (or fix the probe): native sidecars must be started before the next init container runs", who.spec.name),
    });
}

/// Sidecars other than the current one that are crash-looping.
pub fn sidecars(d: &mut Diagnosis) {
    let current = d.summary.current.as_ref().map(|c| c.name.clone());
    let specs = init_specs(d);
    for status in init_statuses(d) {
        let Some(spec) = specs
            .iter()
            .find(|c| c.name == status.name && crate::status::print_pod::is_sidecar(c))
        else {
            continue;
        };
        if current.as_deref() == Some(status.name.as_str()) && !initialized(d) {
            continue;
        }
        let waiting = status
            .state
            .as_ref()
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.clone());
        if waiting.as_deref() != Some("CrashLoopBackOff") {
            continue;
        }
        let who = Who {
            spec,
            status,
            label: format!("sidecar {}", spec.name),
            field_path: format!("spec.initContainers{{{}}}", spec.name),
        };
        let last = status
            .last_state
            .as_ref()
            .and_then(|s| s.terminated.clone())
            .unwrap_or_default();
        failed(d, Stage::Sidecar, &who, &last, true);
        if let Some(f) = d.findings.last_mut() {
            // After initialization a crashing sidecar does not hold the pod back, but it is not serving.
            f.severity = Severity::Warning;
            f.code = FindingCode::SidecarCrashLoop;
        }
    }
}

/// Init is done: app containers that cannot start.
pub fn app_containers(d: &mut Diagnosis) {
    if d.summary.current.is_some() {
        return;
    }
    let Some(status) = d.pod.status.as_ref() else {
        return;
    };
    if !crate::status::print_pod::has_condition(d.pod, "Initialized") {
        return;
    }
    let specs = d
        .pod
        .spec
        .as_ref()
        .map(|s| s.containers.clone())
        .unwrap_or_default();
    for cs in status.container_statuses.iter().flatten() {
        let Some(spec) = specs.iter().find(|c| c.name == cs.name) else {
            continue;
        };
        let who = Who {
            spec,
            status: cs,
            label: format!("container {}", cs.name),
            field_path: format!("spec.containers{{{}}}", cs.name),
        };
        let state = cs.state.clone().unwrap_or_default();
        if let Some(w) = &state.waiting
            && let Some(reason) = w
                .reason
                .as_deref()
                .filter(|r| !r.is_empty() && *r != "PodInitializing" && *r != "ContainerCreating")
        {
            problem(
                d,
                Stage::AppStart,
                &who,
                reason,
                w.message.as_deref().unwrap_or_default(),
            );
        } else if let Some(t) = state.terminated.as_ref().filter(|t| t.exit_code != 0)
            && d.pod.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Succeeded")
        {
            failed(d, Stage::AppStart, &who, t, false);
        }
    }
}

/// Init containers whose spec image is not the image that ran: an edit that never took effect.
pub fn image_drift(d: &mut Diagnosis) {
    let drifted: Vec<_> = init_timeline::init_containers(d.pod, d.now)
        .into_iter()
        .filter(|c| c.image_drift)
        .collect();
    for c in drifted {
        let kind = if c.kind == InitKind::Sidecar {
            "sidecar"
        } else {
            "init container"
        };
        let ran = c.ran_image.clone().unwrap_or_default();
        let will_run = c.kind == InitKind::Sidecar
            || matches!(
                c.state,
                init_timeline::RunState::Waiting | init_timeline::RunState::Pending
            );
        let next = if will_run {
            format!("{} picks the new image up when it next starts", c.name)
        } else {
            format!(
                "the new image runs only when the pod is recreated: kubectl initctl restart pod/{} (or change the workload's template)",
                d.name()
            )
        };
        d.findings.push(Finding {
            stage: Stage::Init,
            severity: Severity::Warning,
            code: FindingCode::InitImageDrift,
            message: format!("{kind} {} spec image {} has not run: it last ran {ran}", c.name, c.image),
            evidence: vec![format!("spec image: {}", c.image), format!("image that ran: {ran}"), "since Kubernetes 1.20 a changed init image does not restart the pod (kubernetes#88886)".into()],
            next,
        });
    }
}
