//! Containers that exited non-zero: how (exit code, signal, OOM), whether they will be retried,
//! and the failed instance's log.

use crate::diagnosis::untrusted_all;
use crate::util::sanitize::Untrusted;
use k8s_openapi::api::core::v1::ContainerStateTerminated;

use super::{DiagnosedContainer, container_events, latest};
use crate::diagnosis::related::event_line;
use crate::diagnosis::{Diagnosis, Finding, FindingCode, Severity, Stage, init_restarts, logs};

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

/// How a container ended, for messages: `signal 9 (SIGKILL)`, `exit code 127 (command not
/// found)`, `exit code 1`.
fn how_it_ended(t: &ContainerStateTerminated) -> String {
    if let Some(sig) = t.signal.filter(|s| *s != 0) {
        return format!("signal {sig} ({})", signal_name(sig));
    }
    match exit_meaning(t.exit_code) {
        Some(meaning) => format!("exit code {} ({meaning})", t.exit_code),
        None => format!("exit code {}", t.exit_code),
    }
}

/// A container that exited non-zero: now (terminated) or before its current back-off.
pub(super) fn failed(
    d: &mut Diagnosis,
    stage: Stage,
    container: &DiagnosedContainer,
    t: &ContainerStateTerminated,
    restarting: bool,
) {
    let mut evidence = Vec::new();
    let reason = t.reason.clone().unwrap_or_default();
    let deadline = crate::diagnosis::startup::deadline_exceeded(d)
        .filter(|_| t.exit_code == 137 || t.signal == Some(9));
    let how = match deadline {
        Some(secs) => format!(
            "exit code {} (killed when the pod's activeDeadlineSeconds, {secs}s, ran out)",
            t.exit_code
        ),
        None => how_it_ended(t),
    };
    if !reason.is_empty() {
        evidence.push(format!("last exit: {reason}, {how}"));
    } else {
        evidence.push(format!("last exit: {how}"));
    }
    if let Some(msg) = t.message.as_deref().filter(|m| !m.trim().is_empty()) {
        evidence.push(format!("termination message: {}", msg.trim()));
    }
    let restarts = container.status.restart_count;
    if restarts > 0 {
        evidence.push(format!("restarted {restarts} times"));
    }
    let oom = reason == "OOMKilled";
    let limit = container
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
    let events = container_events(d, &container.field_path);
    evidence.extend(latest(&events, &["BackOff"], 1).into_iter().map(event_line));
    let terminal = !restarting && (stage == Stage::Init && !init_restarts(d.pod));
    // The failed instance's output: the previous one while a restart is pending.
    evidence.extend(logs::quote(d, &container.spec.name, restarting));
    let next = next_step(d, container, deadline, oom.then_some(limit), terminal);
    let (code, message, stage) = if terminal {
        (
            FindingCode::InitFailedPermanently,
            format!(
                "{} failed ({how}) and the pod will never start",
                container.label
            ),
            Stage::Terminal,
        )
    } else if restarting {
        (
            FindingCode::CrashLoopBackOff,
            format!(
                "{} keeps failing ({how}), restarted {restarts} times",
                container.label
            ),
            stage,
        )
    } else {
        (
            FindingCode::ContainerFailed,
            format!("{} failed ({how})", container.label),
            stage,
        )
    };
    d.findings.push(Finding {
        stage,
        severity: if deadline.is_some() {
            Severity::Warning
        } else {
            Severity::Blocker
        },
        code,
        message: Untrusted::from(message),
        evidence: untrusted_all(evidence),
        next: Untrusted::from(next),
    });
}

/// What to do about a failed container: the deadline's doing, an OOM kill (with the memory
/// limit), a pod that will not retry, or the container's own failure.
fn next_step(
    d: &Diagnosis,
    container: &DiagnosedContainer,
    deadline: Option<i64>,
    oom_limit: Option<Option<String>>,
    terminal: bool,
) -> String {
    if deadline.is_some() {
        format!(
            "{} did not fail by itself: the kubelet stopped it with the whole pod when the deadline passed (see ActiveDeadlineExceeded)",
            container.spec.name
        )
    } else if let Some(limit) = oom_limit {
        format!(
            "raise resources.limits.memory of {} (now {}); a pod's container resources cannot be edited in place, so change the workload's template or recreate the pod",
            container.spec.name,
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
            container.spec.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exit_reads_as_its_signal_or_its_code() {
        let ended = |exit_code: i32, signal: Option<i32>| {
            how_it_ended(&ContainerStateTerminated {
                exit_code,
                signal,
                ..Default::default()
            })
        };
        assert_eq!(ended(137, Some(9)), "signal 9 (SIGKILL)");
        assert_eq!(ended(1, Some(0)), "exit code 1");
        assert_eq!(ended(127, None), "exit code 127 (command not found)");
        assert_eq!(
            ended(137, None),
            "exit code 137 (killed by SIGKILL (often the OOM killer or a failed probe))"
        );
        assert_eq!(ended(2, Some(7)), "signal 7 (signal)");
    }
}
