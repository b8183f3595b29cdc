//! `pods/log`: container choice, the log a test set, the errors kubelet-less pods give, and
//! `tailLines`, `timestamps`, `limitBytes`.

use std::sync::Arc;

use hyper::Response;
use serde_json::Value;

use super::http::{Call, full};
use super::status::ApiError;
use super::store;
use super::{Body, Shared, Target, name, ns};

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
    let text = match state.logs.get(&key) {
        Some(text) => text.clone(),
        None => log_not_set(pod, pod_name, &container, previous)?,
    };
    drop(state);
    Ok(Response::builder()
        .status(200)
        .header("Content-Type", "text/plain")
        .body(full(shaped(&text, call)))
        .expect("log response"))
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

/// The log text as `tailLines`, `timestamps` and `limitBytes` ask for it.
fn shaped(text: &str, call: &Call) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    if let Some(tail) = call
        .param("tailLines")
        .and_then(|t| t.parse::<usize>().ok())
    {
        lines = lines.split_off(lines.len().saturating_sub(tail));
    }
    let stamp = store::now().replace('Z', ".000000000Z");
    let mut out: String = lines
        .iter()
        .map(|l| {
            if call.flag("timestamps") {
                format!("{stamp} {l}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
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
