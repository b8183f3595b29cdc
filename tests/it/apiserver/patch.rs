//! The three patch types kube-apiserver accepts for built-in resources: JSON merge patch
//! (RFC 7386), JSON patch (RFC 6902) and strategic merge patch, whose list-merge keys are taken
//! from the Go struct tags (`patchMergeKey` / `patchStrategy`) of the core and apps types.

use serde_json::{Map, Value};

/// RFC 7386.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let map = target.as_object_mut().expect("made an object above");
    for (k, v) in patch_map {
        if v.is_null() {
            map.remove(k);
        } else {
            merge_patch(map.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// RFC 6902. Errors carry the text the apiserver wraps in its 422.
pub fn json_patch(target: &mut Value, ops: &Value) -> Result<(), String> {
    let ops = ops
        .as_array()
        .ok_or("json patch must be an array of operations")?;
    for op in ops {
        let kind = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or("operation missing \"op\"")?;
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or("operation missing \"path\"")?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| format!("missing value for {kind} operation"))
        };
        match kind {
            "add" => add(target, path, value()?)?,
            "remove" => {
                remove(target, path)?;
            }
            "replace" => {
                remove(target, path)?;
                add(target, path, value()?)?;
            }
            "move" | "copy" => {
                let from = op
                    .get("from")
                    .and_then(Value::as_str)
                    .ok_or("operation missing \"from\"")?;
                let v = if kind == "move" {
                    remove(target, from)?
                } else {
                    target
                        .pointer(from)
                        .cloned()
                        .ok_or_else(|| format!("missing path: {from}"))?
                };
                add(target, path, v)?;
            }
            "test" => {
                if target.pointer(path) != Some(&value()?) {
                    return Err(format!("testing value {path} failed: test failed"));
                }
            }
            other => return Err(format!("Unexpected kind: {other}")),
        }
    }
    Ok(())
}

fn split_pointer(path: &str) -> Result<(String, String), String> {
    let idx = path
        .rfind('/')
        .ok_or_else(|| format!("invalid path: {path}"))?;
    let last = path[idx + 1..].replace("~1", "/").replace("~0", "~");
    Ok((path[..idx].to_string(), last))
}

fn add(target: &mut Value, path: &str, v: Value) -> Result<(), String> {
    if path.is_empty() {
        *target = v;
        return Ok(());
    }
    let (parent, last) = split_pointer(path)?;
    let missing =
        || format!("add operation does not apply: doc is missing path: \"{path}\": missing value");
    match target.pointer_mut(&parent).ok_or_else(missing)? {
        Value::Object(m) => {
            m.insert(last, v);
        }
        Value::Array(a) => {
            let i = if last == "-" {
                a.len()
            } else {
                last.parse::<usize>().map_err(|_| missing())?
            };
            if i > a.len() {
                return Err(missing());
            }
            a.insert(i, v);
        }
        _ => return Err(missing()),
    }
    Ok(())
}

fn remove(target: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, last) = split_pointer(path)?;
    let missing = || {
        format!("remove operation does not apply: doc is missing path: \"{path}\": missing value")
    };
    match target.pointer_mut(&parent).ok_or_else(missing)? {
        Value::Object(m) => m.remove(&last).ok_or_else(missing),
        Value::Array(a) => {
            let i = last.parse::<usize>().map_err(|_| missing())?;
            if i >= a.len() {
                return Err(missing());
            }
            Ok(a.remove(i))
        }
        _ => Err(missing()),
    }
}

/// How a list field merges under strategic merge patch.
enum ListStrategy {
    /// `patchStrategy:"merge"` with this `patchMergeKey`.
    MergeByKey(&'static str),
    /// `patchStrategy:"merge"` on a list of scalars (finalizers): a set union.
    MergeScalars,
    /// No strategy: the patch's list replaces the whole list (args, command, tolerations…).
    Replace,
}

/// The strategy of list field `field`, whose enclosing fields are `parents` (outermost first).
fn list_strategy(parents: &[String], field: &str) -> ListStrategy {
    let in_container = parents.iter().any(|p| {
        matches!(
            p.as_str(),
            "containers" | "initContainers" | "ephemeralContainers"
        )
    });
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "schedulingGates"
        | "resourceClaims" => ListStrategy::MergeByKey("name"),
        "ports" if in_container => ListStrategy::MergeByKey("containerPort"),
        "ports" if parents.last().is_some_and(|p| p == "spec") => ListStrategy::MergeByKey("port"),
        "volumeMounts" => ListStrategy::MergeByKey("mountPath"),
        "volumeDevices" => ListStrategy::MergeByKey("devicePath"),
        "hostAliases" => ListStrategy::MergeByKey("ip"),
        "topologySpreadConstraints" => ListStrategy::MergeByKey("topologyKey"),
        "conditions" => ListStrategy::MergeByKey("type"),
        "ownerReferences" => ListStrategy::MergeByKey("uid"),
        "finalizers" => ListStrategy::MergeScalars,
        _ => ListStrategy::Replace,
    }
}

/// Applies a strategic merge patch (`$patch`, `$setElementOrder/…`, `$deleteFromPrimitiveList/…`,
/// `$retainKeys` directives included).
pub fn strategic_merge(target: &mut Value, patch: &Value) -> Result<(), String> {
    merge_map(target, patch, &mut Vec::new())
}

fn merge_map(target: &mut Value, patch: &Value, path: &mut Vec<String>) -> Result<(), String> {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return Ok(());
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    match patch_map.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut clean = patch_map.clone();
            clean.remove("$patch");
            *target = Value::Object(clean);
            return Ok(());
        }
        Some("delete") => {
            *target = Value::Object(Map::new());
            return Ok(());
        }
        Some(other) => return Err(format!("Unknown patch type: {other}")),
        None => {}
    }
    if let Some(Value::Array(keep)) = patch_map.get("$retainKeys") {
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        target
            .as_object_mut()
            .expect("object")
            .retain(|k, _| keep.contains(&k.as_str()));
    }
    for (k, v) in patch_map {
        if k.starts_with('$') {
            continue;
        }
        let map = target.as_object_mut().expect("object");
        if v.is_null() {
            map.remove(k);
            continue;
        }
        path.push(k.clone());
        let slot = map.entry(k.clone()).or_insert(Value::Null);
        match v {
            Value::Array(items) => merge_list(slot, items, path, patch_map)?,
            Value::Object(_) => merge_map(slot, v, path)?,
            _ => *slot = v.clone(),
        }
        path.pop();
    }
    // Directive-only keys (`$setElementOrder/x`, `$deleteFromPrimitiveList/x`) for lists the patch
    // does not otherwise mention.
    for (k, v) in patch_map {
        let map = target.as_object_mut().expect("object");
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(list)), Value::Array(drop)) = (map.get_mut(field), v) {
                list.retain(|x| !drop.contains(x));
            }
        } else if let Some(field) = k.strip_prefix("$setElementOrder/")
            && !patch_map.contains_key(field)
        {
            let parents = path.clone();
            if let (Some(list), Value::Array(order)) = (map.get_mut(field), v)
                && let ListStrategy::MergeByKey(key) = list_strategy(&parents, field)
            {
                reorder(list, order, key);
            }
        }
    }
    Ok(())
}

fn merge_list(
    slot: &mut Value,
    items: &[Value],
    path: &mut Vec<String>,
    patch_map: &Map<String, Value>,
) -> Result<(), String> {
    let field = path.last().cloned().unwrap_or_default();
    let parents = &path[..path.len() - 1];
    match list_strategy(parents, &field) {
        ListStrategy::Replace => *slot = Value::Array(items.to_vec()),
        ListStrategy::MergeScalars => {
            let mut list = slot.as_array().cloned().unwrap_or_default();
            for item in items {
                if !list.contains(item) {
                    list.push(item.clone());
                }
            }
            *slot = Value::Array(list);
        }
        ListStrategy::MergeByKey(key) => {
            let replace = items
                .iter()
                .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"));
            if replace {
                let kept: Vec<Value> = items
                    .iter()
                    .filter(|i| i.get("$patch").is_none())
                    .cloned()
                    .collect();
                *slot = Value::Array(kept);
                return Ok(());
            }
            let mut list = slot.as_array().cloned().unwrap_or_default();
            for item in items {
                let id = item.get(key).cloned();
                let pos = id
                    .as_ref()
                    .and_then(|id| list.iter().position(|e| e.get(key) == Some(id)));
                if item.get("$patch").and_then(Value::as_str) == Some("delete") {
                    if let Some(pos) = pos {
                        list.remove(pos);
                    }
                    continue;
                }
                match pos {
                    Some(pos) => merge_map(&mut list[pos], item, path)?,
                    None => {
                        let mut fresh = Value::Object(Map::new());
                        merge_map(&mut fresh, item, path)?;
                        list.push(fresh);
                    }
                }
            }
            *slot = Value::Array(list);
            if let Some(Value::Array(order)) = patch_map.get(&format!("$setElementOrder/{field}")) {
                reorder(slot, order, key);
            }
        }
    }
    Ok(())
}

/// Sorts a keyed list into the `$setElementOrder` order; elements it does not name keep their
/// relative order after the named ones.
fn reorder(list: &mut Value, order: &[Value], key: &str) {
    let Value::Array(items) = list else { return };
    let rank = |v: &Value| {
        order
            .iter()
            .position(|o| o.get(key) == v.get(key))
            .unwrap_or(usize::MAX)
    };
    items.sort_by_key(rank);
}
