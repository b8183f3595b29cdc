//! Two-way strategic merge patches for pods, as `kubectl edit` sends them: maps merge (removed
//! keys become null), container lists and scheduling gates merge by name, other lists are
//! replaced whole. The edit guard has already made sure only updatable fields differ.

use serde_json::{Map, Value, json};

/// Lists the API merges by `name` (patchStrategy "merge", patchMergeKey "name").
fn merge_key(path: &[&str]) -> Option<&'static str> {
    match path {
        [
            "spec",
            "containers" | "initContainers" | "ephemeralContainers" | "schedulingGates",
        ] => Some("name"),
        ["spec", "template", "spec", "containers" | "initContainers"] => Some("name"),
        _ => None,
    }
}

/// The strategic merge patch that turns `original` into `edited`, or None when they are equal.
pub(super) fn two_way(original: &Value, edited: &Value) -> Option<Value> {
    diff(original, edited, &mut Vec::new())
}

fn diff<'a>(original: &'a Value, edited: &'a Value, path: &mut Vec<&'a str>) -> Option<Value> {
    if original == edited {
        return None;
    }
    match (original, edited) {
        (Value::Object(a), Value::Object(b)) => {
            let mut patch = Map::new();
            for (k, v) in b {
                path.push(k);
                match a.get(k) {
                    Some(old) => {
                        if let Some(p) = diff(old, v, path) {
                            patch.insert(k.clone(), p);
                        }
                    }
                    None => {
                        patch.insert(k.clone(), v.clone());
                    }
                }
                path.pop();
            }
            for k in a.keys().filter(|k| !b.contains_key(*k)) {
                patch.insert(k.clone(), Value::Null);
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        (Value::Array(a), Value::Array(b)) => match merge_key(path) {
            Some(key) => Some(merge_list(a, b, key, path)),
            None => Some(edited.clone()),
        },
        _ => Some(edited.clone()),
    }
}

fn merge_list<'a>(a: &'a [Value], b: &'a [Value], key: &str, path: &mut Vec<&'a str>) -> Value {
    let id = |v: &Value| v.get(key).cloned();
    let mut items = Vec::new();
    for new in b {
        match a.iter().find(|old| id(old) == id(new)) {
            Some(old) => {
                if let Some(Value::Object(mut p)) = diff(old, new, path) {
                    p.insert(key.to_string(), id(new).unwrap_or(Value::Null));
                    items.push(Value::Object(p));
                }
            }
            None => items.push(new.clone()),
        }
    }
    for old in a
        .iter()
        .filter(|old| !b.iter().any(|new| id(new) == id(old)))
    {
        items.push(json!({ key: id(old), "$patch": "delete" }));
    }
    Value::Array(items)
}

/// The list-order directive kubectl adds when a merged list changes, so that the server keeps
/// the edited order.
pub(super) fn with_element_order(mut patch: Value, edited: &Value) -> Value {
    for list in ["containers", "initContainers"] {
        let changed = patch.pointer(&format!("/spec/{list}")).is_some();
        if let (true, Some(Value::Array(items))) =
            (changed, edited.pointer(&format!("/spec/{list}")))
        {
            let order: Vec<Value> = items
                .iter()
                .map(|c| json!({"name": c.get("name")}))
                .collect();
            if let Some(spec) = patch.get_mut("spec").and_then(Value::as_object_mut) {
                spec.insert(format!("$setElementOrder/{list}"), Value::Array(order));
            }
        }
    }
    patch
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_images_merge_by_name() {
        let old = json!({"metadata": {"labels": {"a": "1", "gone": "x"}},
            "spec": {"initContainers": [{"name": "i1", "image": "busybox:1.28", "command": ["sh"]}, {"name": "i2", "image": "b"}],
                     "tolerations": [{"key": "k", "operator": "Exists"}]}});
        let mut new = old.clone();
        new["metadata"]["labels"] = json!({"a": "2"});
        new["spec"]["initContainers"][0]["image"] = json!("busybox:1.36");
        new["spec"]["tolerations"]
            .as_array_mut()
            .unwrap()
            .push(json!({"key": "x", "operator": "Exists"}));
        let patch = two_way(&old, &new).unwrap();
        assert_eq!(
            patch,
            json!({"metadata": {"labels": {"a": "2", "gone": null}},
                   "spec": {"initContainers": [{"image": "busybox:1.36", "name": "i1"}],
                            "tolerations": [{"key": "k", "operator": "Exists"}, {"key": "x", "operator": "Exists"}]}})
        );
        assert_eq!(two_way(&old, &old), None);
    }

    #[test]
    fn removed_gates_are_deleted_by_name() {
        let old = json!({"spec": {"schedulingGates": [{"name": "a"}, {"name": "b"}]}});
        let new = json!({"spec": {"schedulingGates": [{"name": "b"}]}});
        assert_eq!(
            two_way(&old, &new).unwrap(),
            json!({"spec": {"schedulingGates": [{"name": "a", "$patch": "delete"}]}})
        );
    }
}
