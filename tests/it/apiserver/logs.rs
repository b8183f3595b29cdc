//! `pods/log`: container choice, the log a test set, the errors kubelet-less pods give, and
//! `tailLines`, `timestamps`, `limitBytes`, `sinceSeconds`/`sinceTime`, `follow`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::Response;
use hyper::body::Frame;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::http::{Call, full};
use super::status::ApiError;
use super::store;
use super::{Body, Shared, Target, name, ns};

/// A container's log as the kubelet keeps it: lines, each with the time it was written (None:
/// a log set without times, stamped "now" when asked for timestamps).
#[derive(Debug, Clone, Default)]
pub(super) struct LogText {
    lines: Vec<(Option<Timestamp>, String)>,
}

impl LogText {
    pub(super) fn untimed(text: &str) -> LogText {
        LogText {
            lines: text.lines().map(|l| (None, l.to_string())).collect(),
        }
    }

    pub(super) fn timed(lines: &[(&str, &str)]) -> LogText {
        LogText {
            lines: lines
                .iter()
                .map(|(t, l)| (Some(t.parse().expect("RFC 3339 time")), l.to_string()))
                .collect(),
        }
    }

    pub(super) fn push_now(&mut self, line: &str) {
        self.lines.push((Some(Timestamp::now()), line.to_string()));
    }
}

pub(super) fn logs(
    shared: &Arc<Shared>,
    target: &Target,
    call: &Call,
) -> Result<Response<Body>, ApiError> {
    let state = shared.lock();
    let pod_name = name(target);
    let pod = state
        .store
        .get(target.res, ns(target), pod_name)
        .ok_or_else(|| ApiError::not_found(target.res, pod_name))?;
    let container = chosen_container(pod, pod_name, call)?;
    let previous = call.flag("previous");
    let key = (
        ns(target).to_string(),
        pod_name.to_string(),
        container.clone(),
        previous,
    );
    if call.param("sinceSeconds").is_some() && call.param("sinceTime").is_some() {
        return Err(ApiError::bad_request(
            "PodLogOptions.meta.k8s.io \"\" is invalid: sinceSeconds: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified",
        ));
    }
    let text = match state.logs.get(&key) {
        Some(text) => text.clone(),
        None => LogText::untimed(&log_not_set(pod, pod_name, &container, previous)?),
    };
    let follow = call.flag("follow") && !previous && is_running(pod, &container);
    drop(state);
    let first = shaped(&text.lines, call);
    if !follow {
        return Ok(Response::builder()
            .status(200)
            .header("Content-Type", "text/plain")
            .body(full(first))
            .expect("log response"));
    }
    Ok(Response::builder()
        .status(200)
        .header("Content-Type", "text/plain")
        .body(following(
            shared.clone(),
            key,
            text.lines.len(),
            first,
            call,
        ))
        .expect("log response"))
}

/// Whether the container's current state is running (a follow of anything else ends at once).
fn is_running(pod: &Value, container: &str) -> bool {
    [
        "initContainerStatuses",
        "containerStatuses",
        "ephemeralContainerStatuses",
    ]
    .iter()
    .filter_map(|l| {
        pod.pointer(&format!("/status/{l}"))
            .and_then(Value::as_array)
    })
    .flatten()
    .find(|s| s["name"] == container)
    .is_some_and(|s| s.pointer("/state/running").is_some())
}

/// How often a follow looks for new lines and for the container's end.
const FOLLOW_POLL: Duration = Duration::from_millis(25);

/// `follow=true`: the log so far, then each line the container writes (`append_log`), until the
/// container stops running or the pod is gone — as the kubelet ends a follow when the
/// container exits.
fn following(
    shared: Arc<Shared>,
    key: (String, String, String, bool),
    mut sent: usize,
    first: String,
    call: &Call,
) -> Body {
    let stamps = call.flag("timestamps");
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        if tx.send(Bytes::from(first)).await.is_err() {
            return;
        }
        loop {
            tokio::time::sleep(FOLLOW_POLL).await;
            let (new, running) = {
                let state = shared.lock();
                let lines = state
                    .logs
                    .get(&key)
                    .map(|t| t.lines.clone())
                    .unwrap_or_default();
                let running = state
                    .store
                    .get(
                        super::resources::by_kind("v1", "Pod").expect("pods"),
                        &key.0,
                        &key.1,
                    )
                    .is_some_and(|pod| is_running(pod, &key.2));
                (
                    lines.get(sent..).map(<[_]>::to_vec).unwrap_or_default(),
                    running,
                )
            };
            sent += new.len();
            let text: String = new.iter().map(|(t, l)| line(*t, l, stamps)).collect();
            if !text.is_empty() && tx.send(Bytes::from(text)).await.is_err() {
                return;
            }
            if !running {
                return;
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok(Frame::data(b)), rx))
    });
    StreamBody::new(stream).boxed()
}

/// One line as the kubelet writes it: with `timestamps`, its RFC 3339 time with nanoseconds.
fn line(time: Option<Timestamp>, text: &str, stamps: bool) -> String {
    if !stamps {
        return format!("{text}\n");
    }
    let stamp = match time {
        Some(t) => format!("{t:.9}"),
        None => store::now().replace('Z', ".000000000Z"),
    };
    format!("{stamp} {text}\n")
}

/// The `container` parameter, checked against the pod, or the only app container.
fn chosen_container(pod: &Value, pod_name: &str, call: &Call) -> Result<String, ApiError> {
    let names = |list: &str| -> Vec<String> {
        pod.pointer(&format!("/spec/{list}"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|c| c["name"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (containers, inits, ephemeral) = (
        names("containers"),
        names("initContainers"),
        names("ephemeralContainers"),
    );
    match call.param("container") {
        Some(c) => {
            if !containers
                .iter()
                .chain(&inits)
                .chain(&ephemeral)
                .any(|n| n == c)
            {
                return Err(ApiError::bad_request(format!(
                    "container {c} is not valid for pod {pod_name}"
                )));
            }
            Ok(c.to_string())
        }
        None if containers.len() == 1 => Ok(containers[0].clone()),
        None if containers.is_empty() => Err(ApiError::bad_request(format!(
            "a container name must be specified for pod {pod_name}"
        ))),
        None => {
            let mut msg = format!(
                "a container name must be specified for pod {pod_name}, choose one of: [{}]",
                containers.join(" ")
            );
            if !inits.is_empty() {
                msg.push_str(&format!(
                    " or one of the init containers: [{}]",
                    inits.join(" ")
                ));
            }
            if !ephemeral.is_empty() {
                msg.push_str(&format!(
                    " or one of the ephemeral containers: [{}]",
                    ephemeral.join(" ")
                ));
            }
            Err(ApiError::bad_request(msg))
        }
    }
}

/// What the server answers for a container no test gave a log: an error, or an empty log.
fn log_not_set(
    pod: &Value,
    pod_name: &str,
    container: &str,
    previous: bool,
) -> Result<String, ApiError> {
    if previous {
        return Err(ApiError::bad_request(format!(
            "previous terminated container \"{container}\" in pod \"{pod_name}\" not found"
        )));
    }
    // An unscheduled pod has no kubelet to ask: the apiserver answers an empty log.
    if pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Ok(String::new());
    }
    let status = [
        "containerStatuses",
        "initContainerStatuses",
        "ephemeralContainerStatuses",
    ]
    .iter()
    .filter_map(|l| {
        pod.pointer(&format!("/status/{l}"))
            .and_then(Value::as_array)
    })
    .flatten()
    .find(|s| s["name"] == container);
    // A container waiting to restart: the kubelet serves its last run's log.
    if status.is_some_and(|s| s.pointer("/lastState/terminated").is_some()) {
        return Ok(String::new());
    }
    match status
        .and_then(|s| s.pointer("/state/waiting/reason"))
        .and_then(Value::as_str)
    {
        Some("ErrImagePull" | "ImagePullBackOff") => Err(ApiError::bad_request(format!(
            "container \"{container}\" in pod \"{pod_name}\" is waiting to start: image can't be pulled"
        ))),
        Some(reason) => Err(ApiError::bad_request(format!(
            "container \"{container}\" in pod \"{pod_name}\" is waiting to start: {reason}"
        ))),
        None => Ok(String::new()),
    }
}

/// The log as `tailLines`, `sinceSeconds`/`sinceTime`, `timestamps` and `limitBytes` ask for
/// it: the kubelet takes the last N lines, then drops those older than the since time.
fn shaped(lines: &[(Option<Timestamp>, String)], call: &Call) -> String {
    let mut lines: Vec<&(Option<Timestamp>, String)> = lines.iter().collect();
    if let Some(tail) = call
        .param("tailLines")
        .and_then(|t| t.parse::<usize>().ok())
    {
        lines = lines.split_off(lines.len().saturating_sub(tail));
    }
    let since = match (call.param("sinceSeconds"), call.param("sinceTime")) {
        (Some(secs), _) => secs
            .parse::<i64>()
            .ok()
            .map(|s| Timestamp::now() - k8s_openapi::jiff::SignedDuration::from_secs(s)),
        (None, Some(time)) => time.parse::<Timestamp>().ok(),
        (None, None) => None,
    };
    if let Some(since) = since {
        // A line without a time was written "now".
        lines.retain(|(t, _)| t.is_none_or(|t| t >= since));
    }
    let stamps = call.flag("timestamps");
    let mut out: String = lines.iter().map(|(t, l)| line(*t, l, stamps)).collect();
    if let Some(limit) = call
        .param("limitBytes")
        .and_then(|l| l.parse::<usize>().ok())
    {
        let mut cut = limit.min(out.len());
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}
