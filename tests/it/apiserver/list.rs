//! LIST: label and field selectors, `limit` and continue tokens.

use std::sync::Arc;

use hyper::Response;
use serde_json::{Value, json};

use super::http::{Call, json_response};
use super::selector::{FieldSelector, LabelSelector};
use super::status::ApiError;
use super::store::meta_str;
use super::table::{self, IncludeObject};
use super::{Body, Shared, Target};

/// Continue tokens: hex of `{"rv":…,"start":"ns/name"}`; opaque to clients like the real one.
fn encode_continue(rv: u64, ns: &str, name: &str) -> String {
    json!({"rv": rv, "start": format!("{ns}/{name}")})
        .to_string()
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_continue(token: &str) -> Option<(u64, String, String)> {
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    let v: Value = serde_json::from_slice(&bytes?).ok()?;
    let (ns, name) = v["start"].as_str()?.split_once('/')?;
    Some((v["rv"].as_u64()?, ns.to_string(), name.to_string()))
}

/// The Table version a pod GET/LIST asks for in its `Accept` header, with its `includeObject`.
/// Only pods have a printer here; other kinds answer their objects (kubectl then prints
/// NAME/AGE itself).
pub(super) fn pod_table_request(
    target: &Target,
    call: &Call,
) -> Result<Option<(&'static str, IncludeObject)>, ApiError> {
    if target.res.plural != "pods" || target.sub.is_some() {
        return Ok(None);
    }
    let Some(version) = table::requested_version(&call.accept) else {
        return Ok(None);
    };
    let include =
        IncludeObject::parse(call.param("includeObject")).map_err(ApiError::bad_request)?;
    Ok(Some((version, include)))
}

pub(super) fn selectors(
    target: &Target,
    call: &Call,
) -> Result<(LabelSelector, FieldSelector), ApiError> {
    Ok((
        LabelSelector::parse(call.param("labelSelector").unwrap_or_default())?,
        FieldSelector::parse(call.param("fieldSelector").unwrap_or_default(), target.res)?,
    ))
}

pub(super) fn list(
    shared: &Arc<Shared>,
    target: &Target,
    call: &Call,
) -> Result<Response<Body>, ApiError> {
    let (labels, fields) = selectors(target, call)?;
    let continue_param = call.param("continue").filter(|_| !call.loop_continue);
    let start = match continue_param {
        Some(token) => Some(decode_continue(token).ok_or_else(|| {
            ApiError::bad_request(
                "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
            )
        })?),
        None => None,
    };
    let limit = call
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    let state = shared.lock();
    let list_rv = start
        .as_ref()
        .map(|(rv, _, _)| *rv)
        .unwrap_or(state.store.current_rv());
    let mut items: Vec<Value> = state
        .store
        .list(target.res, target.ns.as_deref())
        .into_iter()
        .filter(|o| labels.matches(o) && fields.matches(o))
        .filter(|o| {
            start.as_ref().is_none_or(|(_, ns, name)| {
                (meta_str(o, "namespace"), meta_str(o, "name")) > (ns.as_str(), name.as_str())
            })
        })
        .cloned()
        .collect();
    drop(state);
    let mut metadata = json!({"resourceVersion": list_rv.to_string()});
    if let Some(limit) = limit
        && items.len() > limit
    {
        let remaining = items.len() - limit;
        items.truncate(limit);
        let last = &items[limit - 1];
        metadata["continue"] = json!(encode_continue(
            list_rv,
            meta_str(last, "namespace"),
            meta_str(last, "name")
        ));
        // The real server cannot count what a selector would keep, so it only says when unfiltered.
        if labels.is_empty() && fields.is_empty() {
            metadata["remainingItemCount"] = json!(remaining);
        }
    }
    if call.loop_continue {
        metadata["continue"] = json!(encode_continue(list_rv, "", ""));
    }
    if let Some((version, include)) = pod_table_request(target, call)? {
        let now = shared.lock().now();
        let table = table::pod_table(&items, metadata, version, include, now);
        return Ok(json_response(200, &table));
    }
    // Items of a built-in list carry no apiVersion/kind of their own.
    for item in &mut items {
        if let Some(m) = item.as_object_mut() {
            m.remove("apiVersion");
            m.remove("kind");
        }
    }
    Ok(json_response(
        200,
        &json!({"kind": format!("{}List", target.res.kind), "apiVersion": target.res.api_version(), "metadata": metadata, "items": items}),
    ))
}
