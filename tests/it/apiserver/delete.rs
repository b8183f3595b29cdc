//! DELETE: preconditions, pods that linger for a deletion delay, and the response per kind.

use std::sync::Arc;

use hyper::Response;
use serde_json::{Value, json};

use super::http::{Call, json_response, parse_body};
use super::resources::ResourceDef;
use super::status::ApiError;
use super::store::{Store, meta_str};
use super::{Body, Shared, Target, name, ns};

pub(super) fn delete(
    shared: &Arc<Shared>,
    target: &Target,
    call: &Call,
) -> Result<Response<Body>, ApiError> {
    let res = target.res;
    let obj_name = name(target).to_string();
    let opts: Value = if call.body.is_empty() {
        json!({})
    } else {
        parse_body(&call.body)?
    };
    let grace = call
        .param("gracePeriodSeconds")
        .and_then(|g| g.parse::<i64>().ok())
        .or_else(|| opts.get("gracePeriodSeconds").and_then(Value::as_i64));
    let dry_run = call.dry_run(Some(&opts));
    let mut state = shared.lock();
    let mut current = state
        .store
        .get(res, ns(target), &obj_name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(res, &obj_name))?;
    // `rest.BeforeDelete` checks preconditions first.
    check_preconditions(&opts, &current, res, &obj_name)?;
    let is_pod = res.plural == "pods" && res.group.is_empty();
    let delay = state.deletion_delay;
    if is_pod && !delay.is_zero() && grace != Some(0) {
        if current["metadata"].get("deletionTimestamp").is_some() || dry_run {
            return Ok(json_response(200, &current));
        }
        let seconds = grace
            .or_else(|| {
                current
                    .pointer("/spec/terminationGracePeriodSeconds")
                    .and_then(Value::as_i64)
            })
            .unwrap_or(30);
        let at = k8s_openapi::jiff::Timestamp::now()
            + k8s_openapi::jiff::SignedDuration::from_secs(seconds);
        current["metadata"]["deletionTimestamp"] =
            json!(at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
        current["metadata"]["deletionGracePeriodSeconds"] = json!(seconds);
        let rv = state.store.next_rv();
        current["metadata"]["resourceVersion"] = json!(rv.to_string());
        state.store.commit("MODIFIED", res, current.clone());
        let (shared, ns) = (shared.clone(), ns(target).to_string());
        let uid = meta_str(&current, "uid").to_string();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let mut state = shared.lock();
            if let Some(obj) = state.store.get(res, &ns, &obj_name).cloned()
                && meta_str(&obj, "uid") == uid
            {
                remove(&mut state.store, res, obj);
            }
        });
        return Ok(json_response(200, &current));
    }
    let removed = if dry_run {
        current
    } else {
        remove(&mut state.store, res, current)
    };
    if is_pod {
        return Ok(json_response(200, &removed));
    }
    let mut details =
        json!({"name": obj_name, "kind": res.plural, "uid": meta_str(&removed, "uid")});
    if !res.group.is_empty() {
        details["group"] = json!(res.group);
    }
    Ok(json_response(
        200,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}),
    ))
}

/// `rest.BeforeDelete`'s precondition checks, which name the resource by its Kind.
fn check_preconditions(
    opts: &Value,
    current: &Value,
    res: &ResourceDef,
    obj_name: &str,
) -> Result<(), ApiError> {
    let (cur_uid, cur_rv) = (
        meta_str(current, "uid").to_string(),
        meta_str(current, "resourceVersion").to_string(),
    );
    if let Some(uid) = opts.pointer("/preconditions/uid").and_then(Value::as_str)
        && uid != cur_uid
    {
        return Err(ApiError::conflict(
            res.group,
            res.kind,
            obj_name,
            &format!(
                "the UID in the precondition ({uid}) does not match the UID in record ({cur_uid}). The object might have been deleted and then recreated"
            ),
        ));
    }
    if let Some(rv) = opts
        .pointer("/preconditions/resourceVersion")
        .and_then(Value::as_str)
        && rv != cur_rv
    {
        return Err(ApiError::conflict(
            res.group,
            res.kind,
            obj_name,
            &format!(
                "the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record ({cur_rv}). The object might have been modified"
            ),
        ));
    }
    Ok(())
}

/// Removes an object with a DELETED event carrying a fresh resourceVersion.
fn remove(store: &mut Store, res: &'static ResourceDef, mut obj: Value) -> Value {
    let rv = store.next_rv();
    obj["metadata"]["resourceVersion"] = json!(rv.to_string());
    store.commit("DELETED", res, obj.clone());
    obj
}
