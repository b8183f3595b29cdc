//! The safe recreate of a bare pod: back up, delete only the pod that was read (uid and
//! resourceVersion preconditions), wait until it is gone, create the new one, retry transient
//! failures. Once the delete has been *sent*, every way out either leaves the new pod in place
//! or names the backups and the one restoring command: an answer lost on the way back (a
//! dropped connection, a timeout) is settled by reading the pod again, never by guessing.

use crate::util::sanitize::Untrusted;
use std::io::Write;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use serde_json::Value;

use crate::change::backup::{self, Backup};
use crate::change::container_images;
use crate::cluster::{Cluster, Kind};
use crate::error::{Error, Result};
use crate::util::interrupt::{Critical, Signal};

pub(super) struct RecreateOptions<'a> {
    pub(super) state_dir: Option<&'a std::path::Path>,
    /// Names the backup files, e.g. 20261127T120000Z.
    pub(super) stamp: String,
    /// How long to wait for the old pod to go away.
    pub(super) timeout: Duration,
}

const CREATE_ATTEMPTS: u32 = 6;

fn text(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Transient: worth another try (server trouble, throttling, the old pod not fully gone, an
/// answer that never came).
fn transient(e: &Error) -> bool {
    match e {
        Error::Api { code, reason, .. } => {
            *code >= 500 || *code == 429 || (*code == 409 && reason == "AlreadyExists")
        }
        Error::Unreachable { .. } | Error::Client { .. } => true,
        _ => false,
    }
}

/// The server said it did not carry the request out (a 4xx Status). Anything else — a dropped
/// connection, a timeout, a body that never came, a 5xx from a proxy or from the server's own
/// timeout — leaves open whether it was.
fn refused(e: &Error) -> bool {
    matches!(e, Error::Api { code, .. } if *code < 500)
}

fn failed(backup: &Backup, what: String) -> Error {
    Error::Recreate(format!(
        "{what}\nThe old pod is backed up in {}\nThe manifest that was to be created is in {}\nTo restore the old pod: {}",
        backup.live.display(),
        backup.new.display(),
        backup.restore_command()
    ))
}

/// A pod found under the name after a create whose answer was lost: ours when it is not the
/// old pod and runs exactly the containers we asked for.
fn is_ours(found: &Pod, old_uid: &str, new: &Value) -> bool {
    if found.metadata.uid.as_deref() == Some(old_uid) {
        return false;
    }
    let Ok(found) = serde_json::to_value(found) else {
        return false;
    };
    container_images(&found) == container_images(new)
}

/// Replaces `live` by `new` (a manifest fit for create). Ok once the new pod exists, with the
/// terminating signal that arrived while the pod was away and was held until it was back: the
/// caller then stops, after saying what was done.
pub(super) async fn recreate(
    cluster: &Cluster,
    live: &Value,
    new: &Value,
    opts: &RecreateOptions<'_>,
    err: &mut dyn Write,
) -> Result<Option<Signal>> {
    let (ns, name) = (
        text(live, "/metadata/namespace"),
        text(live, "/metadata/name"),
    );
    let backup = backup::write(opts.state_dir, live, new, &opts.stamp)?;
    let shown = Untrusted::from(name.as_str());
    let _ = writeln!(err, "backed up pod/{shown} to {}", backup.live.display());
    let critical = Critical::enter(format!("pod/{shown} exists again"));
    let uid = text(live, "/metadata/uid");
    if let Err(e) = cluster.delete_pod_as_read(live).await {
        delete_failed(cluster, &backup, &ns, &name, &uid, e).await?;
    }
    let _ = writeln!(err, "pod/{shown} deleted; waiting until it is gone");
    wait_gone(cluster, &backup, &ns, &name, &uid, opts.timeout).await?;
    create(cluster, &backup, &ns, &name, &uid, new, err).await?;
    let _ = writeln!(err, "pod/{shown} recreated");
    Ok(critical.interrupted())
}

/// A delete that did not answer success. Ok when it was carried out all the same (its answer
/// was lost), so the recreate goes on; an error otherwise, naming the backup whenever the pod
/// may be gone.
async fn delete_failed(
    cluster: &Cluster,
    backup: &Backup,
    ns: &str,
    name: &str,
    uid: &str,
    e: Error,
) -> Result<()> {
    match e {
        // The preconditions failed: the pod changed since it was read and was left alone.
        Error::Api { code: 409, .. } => Err(Error::Api {
            code: 409,
            reason: "Conflict".into(),
            message: format!("pod/{name} changed since it was read, so it was not deleted: {e}"),
        }),
        e if refused(&e) && !matches!(e, Error::Api { code: 404, .. }) => {
            Err(failed(backup, format!("pod/{name} was not deleted: {e}")))
        }
        e => match cluster.find_pod(ns, name).await {
            Ok(Some(p))
                if p.metadata.uid.as_deref() == Some(uid)
                    && p.metadata.deletion_timestamp.is_none() =>
            {
                Err(failed(
                    backup,
                    format!("pod/{name} was not deleted (the delete failed: {e}); it is unchanged"),
                ))
            }
            // Gone, terminating, or already replaced by someone else: the delete happened.
            Ok(_) => Ok(()),
            Err(again) => Err(failed(
                backup,
                format!(
                    "the delete of pod/{name} was sent but its answer was lost ({e}), and whether the pod is gone cannot be told ({again}); it was not recreated"
                ),
            )),
        },
    }
}

/// Waits until no pod with the old uid holds the name.
async fn wait_gone(
    cluster: &Cluster,
    backup: &Backup,
    ns: &str,
    name: &str,
    uid: &str,
    timeout: Duration,
) -> Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match cluster.find_pod(ns, name).await {
            Ok(None) => return Ok(()),
            Ok(Some(p)) if p.metadata.uid.as_deref() != Some(uid) => return Ok(()),
            Ok(Some(_)) | Err(_) if tokio::time::Instant::now() < deadline => {}
            Ok(Some(_)) => {
                return Err(failed(
                    backup,
                    format!(
                        "pod/{name} was still terminating after {}s; it was not recreated",
                        timeout.as_secs()
                    ),
                ));
            }
            Err(e) => {
                return Err(failed(
                    backup,
                    format!("cannot tell whether pod/{name} is gone: {e}"),
                ));
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Creates the new pod, retrying transient failures. A failure whose answer may have been
/// lost (or an AlreadyExists on a retry) is settled by reading the pod: if ours is there, the
/// create happened.
async fn create(
    cluster: &Cluster,
    backup: &Backup,
    ns: &str,
    name: &str,
    old_uid: &str,
    new: &Value,
    err: &mut dyn Write,
) -> Result<()> {
    let mut delay = Duration::from_millis(250);
    let mut attempt = 1;
    loop {
        let e = match cluster.create_json(Kind::Pod, ns, new).await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        let may_exist = !refused(&e) || matches!(&e, Error::Api { code: 409, .. });
        if may_exist
            && let Ok(Some(found)) = cluster.find_pod(ns, name).await
            && is_ours(&found, old_uid, new)
        {
            return Ok(());
        }
        if !transient(&e) || attempt >= CREATE_ATTEMPTS {
            return Err(failed(
                backup,
                format!("pod/{name} was deleted but could not be created again: {e}"),
            ));
        }
        let _ = writeln!(
            err,
            "create failed ({e}); retrying in {}ms",
            delay.as_millis()
        );
        tokio::time::sleep(delay).await;
        delay *= 2;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(uid: &str, image: &str) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "uid": uid},
            "spec": {"initContainers": [{"name": "i", "image": image}],
                     "containers": [{"name": "c", "image": "app:1"}]}
        }))
        .unwrap()
    }

    #[test]
    fn a_pod_found_after_a_lost_create_is_ours_only_with_a_new_uid_and_our_images() {
        let new = serde_json::json!({"spec": {
            "initContainers": [{"name": "i", "image": "migrate:2"}],
            "containers": [{"name": "c", "image": "app:1"}]}});
        assert!(is_ours(&pod("new-uid", "migrate:2"), "old-uid", &new));
        assert!(
            !is_ours(&pod("old-uid", "migrate:2"), "old-uid", &new),
            "the old pod is never taken for the new one"
        );
        assert!(
            !is_ours(&pod("new-uid", "migrate:1"), "old-uid", &new),
            "someone else's pod with other images is not ours"
        );
    }
}
