//! Changing pods, shared by `edit`, `restart` and `check`: the guard (what the API server would
//! refuse), the plan (what must happen for a change to run), the steps that carry it out
//! (patch, editor, backup, recreate, follow), what edit and restart work with (context), and
//! the two commands' sessions (edit, restart).

mod backup;
pub(crate) mod context;
pub(crate) mod edit;
mod editor;
pub(crate) mod follow;
pub mod guard;
mod patch;
pub(crate) mod plan;
mod recreate;
pub(crate) mod restart;

use serde_json::Value;

/// Container name → image, for every container of a pod (init containers first, in spec
/// order): what `--wait` expects the replacements to run, and what tells our pod from another
/// when a create's answer was lost.
pub(crate) fn container_images(pod: &Value) -> Vec<(String, String)> {
    ["initContainers", "containers"]
        .iter()
        .flat_map(|list| {
            pod.pointer(&format!("/spec/{list}"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter_map(|c| {
            Some((
                c.get("name")?.as_str()?.to_string(),
                c.get("image")?.as_str()?.to_string(),
            ))
        })
        .collect()
}
