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
    /// The one command that brings the old pod back, quoted so that it works when pasted into
    /// a shell. `kubectl create` never replaces a pod: if the old one is somehow still there,
    /// the command fails with AlreadyExists instead of touching it.
    pub(super) fn restore_command(&self) -> String {
        format!(
            "kubectl create -f {}",
            shell_quoted(&self.restore.display().to_string())
        )
    }
}

/// A word as a POSIX shell reads it back unchanged: as is when it holds only characters no
/// shell treats specially, else in single quotes (a single quote inside becomes `'\''`).
pub(crate) fn shell_quoted(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+=:@%,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
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
        .ok_or_else(|| {
            Error::Input(format!(
                "no place for backups: set {}",
                crate::util::platform::state_dir_hint()
            ))
        })?
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
    let backup = reserve(&dir, &format!("{stamp}-{ns}-{name}"))?;
    save(&backup.live, live)?;
    save(&backup.new, new)?;
    save(&backup.restore, &for_create(live, true))?;
    Ok(backup)
}

/// Names the three files `BASE.*.yaml`, or `BASE-2.*.yaml`, `BASE-3…` when a backup of the same
/// pod was taken in the same second: the live file is created exclusively, so two recreates
/// (even two processes) never overwrite each other's backup.
fn reserve(dir: &Path, base: &str) -> Result<Backup> {
    let mut n = 1u32;
    loop {
        let base = if n == 1 {
            base.to_string()
        } else {
            format!("{base}-{n}")
        };
        let file = |suffix: &str| dir.join(format!("{base}.{suffix}.yaml"));
        let backup = Backup {
            live: file("live"),
            new: file("new"),
            restore: file("restore"),
        };
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&backup.live)
        {
            Ok(_) => return Ok(backup),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 10_000 => n += 1,
            Err(source) => {
                return Err(Error::WriteFile {
                    path: backup.live,
                    source,
                });
            }
        }
    }
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
        let again = write(Some(dir.path()), &live, &clean, "20261127T120000Z").unwrap();
        assert!(
            again
                .live
                .ends_with("backups/20261127T120000Z-seed-p-2.live.yaml"),
            "a second backup in the same second does not overwrite the first: {}",
            again.live.display()
        );
        assert!(b.live.exists() && again.restore.exists());
        assert!(
            write(None, &live, &clean, "x").is_err(),
            "no backup place, no backup"
        );
    }

    #[test]
    fn restore_commands_survive_a_shell() {
        assert_eq!(shell_quoted("/home/a/x.yaml"), "/home/a/x.yaml");
        assert_eq!(shell_quoted("/home/a b/x.yaml"), "'/home/a b/x.yaml'");
        assert_eq!(shell_quoted("/tmp/it's"), "'/tmp/it'\\''s'");
        assert_eq!(shell_quoted("/tmp/$(rm -rf x)"), "'/tmp/$(rm -rf x)'");
        assert_eq!(shell_quoted(""), "''");
    }
}
