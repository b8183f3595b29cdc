//! Writes: POST (create), PUT (update) and PATCH, with the generic registry's checks,
//! defaulting and pod update validation.

use std::sync::Arc;

use hyper::Response;
use serde_json::{Value, json};

use super::http::{Call, json_response, parse_body};
use super::status::{self, ApiError};
use super::store::{self, meta_str};
use super::{Body, Shared, Target, name, ns, patch, resources, validation};

pub(super) fn create(
    shared: &Arc<Shared>,
    target: &Target,
    call: &Call,
) -> Result<Response<Body>, ApiError> {
    let mut obj = parse_body(&call.body)?;
    let res = target.res;
    if !obj.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON object",
        ));
    }
    if let Some(kind) = obj.get("kind").and_then(Value::as_str)
        && kind != res.kind
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({}) does not match the expected API version ({})",
            obj["apiVersion"].as_str().unwrap_or_default(),
            res.api_version()
        )));
    }
    obj["kind"] = json!(res.kind);
    obj["apiVersion"] = json!(res.api_version());
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    let body_ns = meta_str(&obj, "namespace").to_string();
    if res.namespaced {
        if !body_ns.is_empty() && body_ns != ns(target) {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        obj["metadata"]["namespace"] = json!(ns(target));
    }
    let mut state = shared.lock();
    if meta_str(&obj, "name").is_empty() {
        let generate = meta_str(&obj, "generateName").to_string();
        if generate.is_empty() {
            return Err(ApiError::invalid(
                res,
                "",
                &[status::FieldError::required(
                    "metadata.name",
                    "name or generateName is required",
                )],
            ));
        }
        obj["metadata"]["name"] = json!(format!("{generate}{}", state.store.name_suffix()));
    }
    let obj_name = meta_str(&obj, "name").to_string();
    if res.namespaced && !state.store.namespace_exists(ns(target)) {
        let namespaces = resources::by_plural("", "v1", "namespaces").expect("namespaces resource");
        return Err(ApiError::not_found(namespaces, ns(target)));
    }
    if state.store.get(res, ns(target), &obj_name).is_some() {
        return Err(ApiError::already_exists(res, &obj_name));
    }
    let meta = obj["metadata"].as_object_mut().expect("metadata object");
    for server_set in [
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "resourceVersion",
    ] {
        meta.remove(server_set);
    }
    let uid = state.store.new_uid();
    meta.insert("uid".into(), json!(uid));
    meta.insert("creationTimestamp".into(), json!(store::now()));
    if res.has_generation() {
        meta.insert("generation".into(), json!(1));
    }
    validation::default_pod_specs(res, &mut obj);
    if res.plural == "pods" && res.group.is_empty() {
        validation::admit_pod_create(&mut obj["spec"]);
        if obj.get("status").is_none_or(|s| s.get("phase").is_none()) {
            let qos = validation::qos_class(&obj["spec"]);
            obj["status"] = json!({"phase": "Pending", "qosClass": qos});
        }
    }
    if call.dry_run(None) {
        return Ok(json_response(201, &obj));
    }
    let rv = state.store.next_rv();
    obj["metadata"]["resourceVersion"] = json!(rv.to_string());
    state.store.commit("ADDED", res, obj.clone());
    Ok(json_response(201, &obj))
}

fn without_rv(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
    }
    o
}

/// The body must name the object of the URL (a missing name is filled in), and a
/// resourceVersion or uid it carries must be the stored one.
fn check_identity(new: &mut Value, current: &Value, target: &Target) -> Result<(), ApiError> {
    let (res, obj_name) = (target.res, name(target));
    if !new.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON object",
        ));
    }
    if !new.get("metadata").is_some_and(Value::is_object) {
        new["metadata"] = json!({});
    }
    let body_name = meta_str(new, "name").to_string();
    if body_name.is_empty() {
        new["metadata"]["name"] = json!(obj_name);
    } else if body_name != obj_name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({obj_name})"
        )));
    }
    let body_ns = meta_str(new, "namespace").to_string();
    if res.namespaced && !body_ns.is_empty() && body_ns != ns(target) {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    let body_rv = meta_str(new, "resourceVersion");
    if !body_rv.is_empty() && body_rv != meta_str(current, "resourceVersion") {
        return Err(ApiError::stale(res, obj_name));
    }
    let (body_uid, current_uid) = (meta_str(new, "uid"), meta_str(current, "uid"));
    if !body_uid.is_empty() && body_uid != current_uid {
        return Err(ApiError::conflict(
            res.group,
            res.plural,
            obj_name,
            &format!(
                "Precondition failed: UID in precondition: {body_uid}, UID in object meta: {current_uid}"
            ),
        ));
    }
    Ok(())
}

/// PUT, and PATCH after the patch is applied: the update path of the generic registry.
pub(super) fn update(
    shared: &Arc<Shared>,
    target: &Target,
    mut new: Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let res = target.res;
    let obj_name = name(target);
    let mut state = shared.lock();
    let current = state
        .store
        .get(res, ns(target), obj_name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(res, obj_name))?;
    check_identity(&mut new, &current, target)?;
    new["kind"] = json!(res.kind);
    new["apiVersion"] = json!(res.api_version());
    for server_set in [
        "uid",
        "creationTimestamp",
        "namespace",
        "generation",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        match current["metadata"].get(server_set) {
            Some(v) => new["metadata"][server_set] = v.clone(),
            None => {
                new["metadata"]
                    .as_object_mut()
                    .expect("metadata")
                    .remove(server_set);
            }
        }
    }
    let is_status = target.sub.as_deref() == Some("status");
    let m = new.as_object_mut().expect("object");
    if is_status {
        // The status subresource writes status only.
        for (k, v) in current.as_object().expect("stored object") {
            if k != "status" {
                m.insert(k.clone(), v.clone());
            }
        }
    } else {
        // The main resource ignores status.
        match current.get("status") {
            Some(s) => m.insert("status".into(), s.clone()),
            None => m.remove("status"),
        };
        validation::default_pod_specs(res, &mut new);
        if (res.group, res.plural) == ("", "pods") {
            validation::admit_pod_update(&mut new["spec"], &current["spec"]);
        }
        let errs = match (res.group, res.plural) {
            ("", "pods") => validation::validate_pod_update(&new, &current),
            ("batch", "jobs") => validation::validate_job_update(&new, &current),
            _ => Vec::new(),
        };
        if !errs.is_empty() {
            return Err(ApiError::invalid(res, obj_name, &errs));
        }
        if res.has_generation() && new.get("spec") != current.get("spec") {
            let generation = current["metadata"]["generation"].as_i64().unwrap_or(1);
            new["metadata"]["generation"] = json!(generation + 1);
        }
    }
    new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
    // A no-op write keeps the resourceVersion and sends no event.
    if without_rv(&new) == without_rv(&current) || dry_run {
        return Ok(new);
    }
    let rv = state.store.next_rv();
    new["metadata"]["resourceVersion"] = json!(rv.to_string());
    state.store.commit("MODIFIED", res, new.clone());
    Ok(new)
}

pub(super) fn patch(
    shared: &Arc<Shared>,
    target: &Target,
    call: &Call,
) -> Result<Response<Body>, ApiError> {
    let res = target.res;
    let current = shared
        .lock()
        .store
        .get(res, ns(target), name(target))
        .cloned()
        .ok_or_else(|| ApiError::not_found(res, name(target)))?;
    let media = call
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    let patch_body: Value = serde_json::from_slice(&call.body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let mut patched = current;
    match media {
        "application/merge-patch+json" => patch::merge_patch(&mut patched, &patch_body),
        "application/strategic-merge-patch+json" => {
            patch::strategic_merge(&mut patched, &patch_body).map_err(ApiError::bad_request)?;
        }
        "application/json-patch+json" => {
            patch::json_patch(&mut patched, &patch_body)
                .map_err(|e| ApiError::new(422, "Invalid", e))?;
        }
        _ => {
            return Err(ApiError::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {media})"
                ),
            ));
        }
    }
    update(shared, target, patched, call.dry_run(None)).map(|v| json_response(200, &v))
}
