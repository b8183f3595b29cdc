//! The pod as text in the editor, and the user's text read back.

use serde_json::Value;

use crate::change::editor;
use crate::error::{Error, Result};

/// The pod as the user edits it: YAML, or JSON with `-o json`.
pub(super) fn render(value: &Value, json: bool) -> Result<String> {
    if json {
        serde_json::to_string_pretty(value)
            .map(|s| s + "\n")
            .map_err(|e| Error::Input(e.to_string()))
    } else {
        crate::input::yaml::to_string(value).map_err(Error::Input)
    }
}

/// The one object the user's text holds, or why it does not.
pub(super) fn parse_edited(text: &str, json: bool) -> std::result::Result<Value, String> {
    let stripped = editor::strip_comments(text);
    let docs = if json {
        crate::input::yaml::json_documents(&stripped)
    } else {
        crate::input::yaml::documents(&stripped)
    };
    match docs {
        Ok(mut docs) if docs.len() == 1 => Ok(docs.remove(0)),
        Ok(docs) => Err(format!("expected one object, found {}", docs.len())),
        Err(l) => Err(format!(
            "line {} column {}: {}",
            l.line, l.column, l.message
        )),
    }
}

/// Equal once comments and layout are ignored (kubectl compares the objects, not the text).
pub(super) fn same(a: &str, b: &str, json: bool) -> bool {
    match (parse_edited(a, json), parse_edited(b, json)) {
        (Ok(x), Ok(y)) => x == y,
        _ => editor::strip_comments(a).trim() == editor::strip_comments(b).trim(),
    }
}

/// What kubectl edit refuses to let an edit change: which object it is.
pub(super) fn identity(v: &Value) -> (Option<&Value>, Option<&Value>, Option<&Value>) {
    (
        v.get("apiVersion"),
        v.get("kind"),
        v.pointer("/metadata/name"),
    )
}

/// The parts of a pod an edit may change; status and server bookkeeping are not compared.
pub(super) fn editable(pod: &Value) -> Value {
    let mut v = serde_json::json!({
        "metadata": pod.get("metadata").cloned().unwrap_or_default(),
        "spec": pod.get("spec").cloned().unwrap_or_default(),
    });
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in [
            "managedFields",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "uid",
        ] {
            meta.remove(key);
        }
    }
    v
}

/// The strategic-merge fragment of a pod spec with the edited images of every container whose
/// image changed, for an owner's template.
pub(super) fn changed_images(live: &Value, edited: &Value) -> Value {
    let mut spec = serde_json::Map::new();
    for list in ["initContainers", "containers"] {
        let old = live
            .pointer(&format!("/spec/{list}"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let changed: Vec<Value> = edited
            .pointer(&format!("/spec/{list}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|c| {
                !old.iter()
                    .any(|o| o.get("name") == c.get("name") && o.get("image") == c.get("image"))
            })
            .map(|c| serde_json::json!({"name": c.get("name"), "image": c.get("image")}))
            .collect();
        if !changed.is_empty() {
            spec.insert(list.into(), Value::Array(changed));
        }
    }
    Value::Object(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn comments_and_layout_are_no_change() {
        assert!(same(
            "# header\nkind: Pod\nspec: {a: 1}\n",
            "kind: Pod\nspec:\n  a: 1\n",
            false
        ));
        assert!(!same("kind: Pod\n", "kind: Job\n", false));
        assert_eq!(
            parse_edited("a: 1\n---\nb: 2\n", false).unwrap_err(),
            "expected one object, found 2"
        );
    }

    #[test]
    fn only_changed_images_go_to_the_template() {
        let live = json!({"spec": {"initContainers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}],
                                   "containers": [{"name": "app", "image": "app:1"}]}});
        let mut edited = live.clone();
        edited["spec"]["initContainers"][1]["image"] = json!("b:2");
        assert_eq!(
            changed_images(&live, &edited),
            json!({"initContainers": [{"name": "b", "image": "b:2"}]})
        );
        assert_eq!(crate::change::container_images(&edited).len(), 3);
    }
}
