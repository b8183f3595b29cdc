//! GET of one object (and of its `status` subresource); a pod as a one-row Table when asked.

use std::sync::Arc;

use hyper::Response;
use serde_json::json;

use super::http::{Call, json_response};
use super::list::pod_table_request;
use super::status::ApiError;
use super::table;
use super::{Body, Shared, Target, name, ns};

pub(super) fn get(
    shared: &Arc<Shared>,
    target: &Target,
    call: &Call,
) -> Result<Response<Body>, ApiError> {
    let state = shared.lock();
    let obj = state
        .store
        .get(target.res, ns(target), name(target))
        .ok_or_else(|| ApiError::not_found(target.res, name(target)))?;
    if let Some((version, include)) = pod_table_request(target, call)? {
        let metadata = json!({"resourceVersion": obj["metadata"]["resourceVersion"]});
        let now = state.now();
        let table = table::pod_table(std::slice::from_ref(obj), metadata, version, include, now);
        return Ok(json_response(200, &table));
    }
    Ok(json_response(200, obj))
}
