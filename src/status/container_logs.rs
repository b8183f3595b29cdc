//! Pod → what `logs` says about each container before its log: where it is in the sequence, how
//! its run went, and whether the kubelet has a log to give (decided as the kubelet decides, so
//! that no request is made that can only fail). Pure.

use k8s_openapi::api::core::v1::{ContainerStateTerminated, ContainerStatus, Pod};
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use crate::status::print_pod::is_sidecar;
use crate::util::duration::human;

/// Where a container's run stands, for moving on while following.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// No status yet, or waiting with no run before.
    NotStarted,
    /// Waiting after a run (back-off, a restart coming).
    Waiting,
    Running,
    /// Ended: exit 0 or not.
    Ended {
        ok: bool,
    },
}

/// One container as `logs` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerLog {
    pub name: String,
    /// `1/2` for init containers, `app 1/1` for app containers.
    pub position: String,
    pub sidecar: bool,
    pub app: bool,
    /// How it stands, for the header: `terminated: Completed, exit 0, ran 12s`.
    pub state: String,
    pub progress: Progress,
    /// The run whose log a request would return (its start), None when there is none: the
    /// same run is never printed twice while following.
    pub run: Option<Timestamp>,
    /// Why there is no log to read (the header is still printed).
    pub no_log: Option<String>,
}

fn ran(t: &ContainerStateTerminated) -> String {
    let mut text = format!(
        "{}, exit {}",
        t.reason
            .as_deref()
            .filter(|r| !r.is_empty())
            .unwrap_or("Terminated"),
        t.exit_code
    );
    if let Some(signal) = t.signal.filter(|s| *s != 0) {
        text.push_str(&format!(", signal {signal}"));
    }
    if let (Some(a), Some(b)) = (&t.started_at, &t.finished_at) {
        text.push_str(&format!(", ran {}", human(b.0.duration_since(a.0))));
    }
    text
}

fn restarts(n: i32) -> String {
    match n {
        0 => String::new(),
        1 => ", 1 restart".into(),
        n => format!(", {n} restarts"),
    }
}

/// The containers of `pod` in the order `logs` shows them: init containers in spec order, then
/// (with `apps`) the app containers. `previous` describes each one's last terminated run.
pub fn containers(pod: &Pod, now: Timestamp, previous: bool, apps: bool) -> Vec<ContainerLog> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    let status = pod.status.as_ref();
    let find = |list: Option<&Vec<ContainerStatus>>, name: &str| {
        list.and_then(|l| l.iter().find(|s| s.name == name))
            .cloned()
    };
    let inits = spec.init_containers.as_deref().unwrap_or_default();
    let mut out: Vec<ContainerLog> = inits
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let cs = find(
                status.and_then(|s| s.init_container_statuses.as_ref()),
                &c.name,
            );
            let position = format!("{}/{}", i + 1, inits.len());
            describe(&c.name, position, cs.as_ref(), now, previous).with(is_sidecar(c), false)
        })
        .collect();
    if apps {
        let n = spec.containers.len();
        out.extend(spec.containers.iter().enumerate().map(|(i, c)| {
            let cs = find(status.and_then(|s| s.container_statuses.as_ref()), &c.name);
            describe(
                &c.name,
                format!("app {}/{n}", i + 1),
                cs.as_ref(),
                now,
                previous,
            )
            .with(false, true)
        }));
    }
    out
}

impl ContainerLog {
    fn with(mut self, sidecar: bool, app: bool) -> Self {
        self.sidecar = sidecar;
        self.app = app;
        self
    }
}

fn describe(
    name: &str,
    position: String,
    cs: Option<&ContainerStatus>,
    now: Timestamp,
    previous: bool,
) -> ContainerLog {
    let mut log = ContainerLog {
        name: name.to_string(),
        position,
        sidecar: false,
        app: false,
        state: "not started yet".into(),
        progress: Progress::NotStarted,
        run: None,
        no_log: Some("it has not started yet".into()),
    };
    let Some(cs) = cs else {
        return log;
    };
    let last = cs.last_state.as_ref().and_then(|s| s.terminated.as_ref());
    let state = cs.state.as_ref();
    let (running, terminated, waiting) = (
        state.and_then(|s| s.running.as_ref()),
        state.and_then(|s| s.terminated.as_ref()),
        state.and_then(|s| s.waiting.as_ref()),
    );
    let again = restarts(cs.restart_count);
    if let Some(t) = terminated {
        log.progress = Progress::Ended {
            ok: t.exit_code == 0,
        };
        log.state = format!("terminated: {}{again}", ran(t));
        log.run = t.started_at.as_ref().map(|t| t.0);
        log.no_log = None;
    } else if let Some(r) = running {
        let since = r.started_at.as_ref().map(|t| t.0);
        log.progress = Progress::Running;
        log.state = match since {
            Some(t) => format!("running for {}{again}", human(now.duration_since(t))),
            None => format!("running{again}"),
        };
        log.run = since;
        log.no_log = None;
    } else {
        let reason = waiting
            .and_then(|w| w.reason.as_deref())
            .filter(|r| !r.is_empty())
            .unwrap_or("ContainerCreating");
        log.state = format!("waiting: {reason}");
        if let Some(l) = last {
            // The kubelet serves the last run's log while the next one waits.
            log.progress = Progress::Waiting;
            log.state
                .push_str(&format!(" (last run: {}){again}", ran(l)));
            log.run = l.started_at.as_ref().map(|t| t.0);
            log.no_log = None;
        } else if reason == "PodInitializing" {
            // The kubelet's word for "not its turn yet".
            log.state = "not started yet".into();
        } else {
            log.no_log = Some(format!("it is waiting to start: {reason}"));
        }
    }
    if previous {
        match last {
            Some(l) => {
                log.state = format!("previous run: {}{again}", ran(l));
                log.run = l.started_at.as_ref().map(|t| t.0);
                log.no_log = None;
            }
            None => {
                log.no_log = Some("no previous run: it has not restarted".into());
                log.run = None;
            }
        }
    }
    log
}

/// The pod ended or is going: nothing more will run in it.
pub fn pod_finished(pod: &Pod) -> Option<String> {
    if pod.metadata.deletion_timestamp.is_some() {
        return Some("the pod is being deleted".into());
    }
    match pod.status.as_ref().and_then(|s| s.phase.as_deref()) {
        Some(phase @ ("Failed" | "Succeeded")) => Some(format!("the pod is {phase}")),
        _ => None,
    }
}

/// `--since`: a Go duration (`5m`, `1h30m`, `10s`) as kubectl takes it, in whole seconds
/// rounded up (kubectl sends `sinceSeconds` as ⌈d⌉).
pub fn since_seconds(text: &str) -> Result<i64, String> {
    let invalid = || {
        format!("invalid --since {text:?}: use a duration such as 10s, 5m, 1h (a unit is required)")
    };
    let seconds = crate::util::duration::go_duration_seconds(text.trim()).ok_or_else(invalid)?;
    // Too big for a duration is bad input, not a panic.
    let d = SignedDuration::try_from_secs_f64(seconds).map_err(|_| invalid())?;
    Ok(d.as_secs() + i64::from(d.subsec_nanos() > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_go_durations_and_rounds_up() {
        assert_eq!(since_seconds("5m"), Ok(300));
        assert_eq!(since_seconds("1h30m"), Ok(5400));
        assert_eq!(since_seconds("1.5s"), Ok(2));
        assert!(since_seconds("5").is_err(), "a unit is required");
        assert!(since_seconds("five").is_err());
        assert!(since_seconds("99999999999999999999999h").is_err());
    }
}
