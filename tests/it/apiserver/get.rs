//! GET of one object (and of its `status` subresource).

use std::sync::Arc;

use hyper::Response;

use super::http::json_response;
use super::status::ApiError;
use super::{Body, Shared, Target, name, ns};

pub(super) fn get(shared: &Arc<Shared>, target: &Target) -> Result<Response<Body>, ApiError> {
    let state = shared.lock();
    let obj = state
        .store
        .get(target.res, ns(target), name(target))
        .ok_or_else(|| ApiError::not_found(target.res, name(target)))?;
    Ok(json_response(200, obj))
}
