//! Backups taken before a pod is deleted: the live pod (full, with status), the manifest it will
//! be recreated from, and a restorable copy of the old pod. No backup, no delete.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};

pub(super) struct Backup {
    /// The live pod exactly as the server returned it.
    pub(super) live: PathBuf,
    /// What will be created.
    pub(super) new: PathBuf,
    /// The old pod without server-set fields: `kubectl create -f` this to restore it.
    pub(super) restore: PathBuf,
}

impl Backup {
    /// The one command that brings the old pod back.
    pub(super) fn restore_command(&self) -> String {
        format!("kubectl create -f {}", self.restore.display())
    }
}

/// Writes the three files under `<state_dir>/backups/`, named by time, namespace and pod.
pub(super) fn write(
    state_dir: Option<&Path>,
    live: &Value,
    new: &Value,
    stamp: &str,
) -> Result<Backup> {
    let dir = state_dir
        .ok_or_else(|| Error::Input("no place for backups: set XDG_STATE_HOME or HOME".into()))?
        .join("backups");
    std::fs::create_dir_all(&dir).map_err(|source| Error::WriteFile {
        path: dir.clone(),
        source,
    })?;
    let ns = live
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let name = live
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("pod");
    let base = format!("{stamp}-{ns}-{name}");
    let file = |suffix: &str| dir.join(format!("{base}.{suffix}.yaml"));
    let backup = Backup {
        live: file("live"),
        new: file("new"),
        restore: file("restore"),
    };
    save(&backup.live, live)?;
    save(&backup.new, new)?;
    save(&backup.restore, &for_create(live, true))?;
    Ok(backup)
}

fn save(path: &Path, value: &Value) -> Result<()> {
    let text = crate::input::yaml::to_string(value)
        .map_err(|e| Error::Input(format!("cannot serialise {}: {e}", path.display())))?;
    std::fs::write(path, text).map_err(|source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    })?;
    // Read it back: a backup that cannot be read is no backup.
    let back = std::fs::read_to_string(path).map_err(|source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    })?;
    if crate::input::yaml::documents(&back)
        .ok()
        .and_then(|d| d.into_iter().next())
        .as_ref()
        != Some(value)
    {
        return Err(Error::Input(format!(
            "the backup {} does not read back as written",
            path.display()
        )));
    }
    Ok(())
}

/// A pod manifest fit for create: server-set metadata and status removed, and `spec.nodeName`
/// too unless `keep_node` (a new pod should be scheduled afresh).
pub(super) fn for_create(pod: &Value, keep_node: bool) -> Value {
    let mut pod = pod.clone();
    if let Some(meta) = pod.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "managedFields",
            "selfLink",
            "generation",
        ] {
            meta.remove(key);
        }
    }
    if let Some(obj) = pod.as_object_mut() {
        obj.remove("status");
    }
    if !keep_node && let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("nodeName");
    }
    pod
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_server_fields_and_writes_three_files() {
        let live = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "seed", "uid": "u", "resourceVersion": "9", "labels": {"a": "b"}},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox"}]},
            "status": {"phase": "Running"}});
        let clean = for_create(&live, false);
        assert_eq!(
            clean["metadata"],
            serde_json::json!({"name": "p", "namespace": "seed", "labels": {"a": "b"}})
        );
        assert!(clean.get("status").is_none() && clean["spec"].get("nodeName").is_none());
        assert_eq!(for_create(&live, true)["spec"]["nodeName"], "n1");
        let dir = tempfile::tempdir().unwrap();
        let b = write(Some(dir.path()), &live, &clean, "20261127T120000Z").unwrap();
        assert!(
            b.live
                .ends_with("backups/20261127T120000Z-seed-p.live.yaml")
        );
        assert!(
            std::fs::read_to_string(&b.restore)
                .unwrap()
                .contains("name: p")
        );
        assert_eq!(
            b.restore_command(),
            format!("kubectl create -f {}", b.restore.display())
        );
        assert!(
            write(None, &live, &clean, "x").is_err(),
            "no backup place, no backup"
        );
    }
}
