//! The safe recreate of a bare pod: back up, delete only the pod that was read (uid and
//! resourceVersion preconditions), wait until it is gone, create the new one, retry transient
//! failures. On a final failure the error names the backups and the one restoring command.

use std::io::Write;
use std::time::Duration;

use serde_json::Value;

use crate::change::backup::{self, Backup};
use crate::cluster::{Cluster, Kind};
use crate::error::{Error, Result};
use crate::util::interrupt::Critical;

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

/// Transient: worth another try (server trouble, throttling, the old pod not fully gone).
fn transient(e: &Error) -> bool {
    match e {
        Error::Api { code, reason, .. } => {
            *code >= 500 || *code == 429 || (*code == 409 && reason == "AlreadyExists")
        }
        Error::Unreachable { .. } | Error::Client { .. } => true,
        _ => false,
    }
}

fn failed(backup: &Backup, what: String) -> Error {
    Error::Recreate(format!(
        "{what}\nThe old pod is backed up in {}\nThe manifest that was to be created is in {}\nTo restore the old pod: {}",
        backup.live.display(),
        backup.new.display(),
        backup.restore_command()
    ))
}

/// Replaces `live` by `new` (a manifest fit for create). Returns the created pod.
pub(super) async fn recreate(
    cluster: &Cluster,
    live: &Value,
    new: &Value,
    opts: &RecreateOptions<'_>,
    err: &mut dyn Write,
) -> Result<Value> {
    let (ns, name) = (
        text(live, "/metadata/namespace"),
        text(live, "/metadata/name"),
    );
    let backup = backup::write(opts.state_dir, live, new, &opts.stamp)?;
    let _ = writeln!(err, "backed up pod/{name} to {}", backup.live.display());
    let critical = Critical::enter();
    let uid = text(live, "/metadata/uid");
    cluster.delete_pod_as_read(live).await.map_err(|e| {
        if matches!(e, Error::Api { code: 409, .. }) {
            Error::Api {
                code: 409,
                reason: "Conflict".into(),
                message: format!(
                    "pod/{name} changed since it was read, so it was not deleted: {e}"
                ),
            }
        } else {
            e
        }
    })?;
    let _ = writeln!(err, "pod/{name} deleted; waiting until it is gone");
    let deadline = tokio::time::Instant::now() + opts.timeout;
    loop {
        match cluster.find_pod(&ns, &name).await {
            Ok(None) => break,
            Ok(Some(p)) if p.metadata.uid.as_deref() != Some(uid.as_str()) => break,
            Ok(Some(_)) | Err(_) if tokio::time::Instant::now() < deadline => {}
            Ok(Some(_)) => {
                return Err(failed(
                    &backup,
                    format!(
                        "pod/{name} was still terminating after {}s; it was not recreated",
                        opts.timeout.as_secs()
                    ),
                ));
            }
            Err(e) => {
                return Err(failed(
                    &backup,
                    format!("cannot tell whether pod/{name} is gone: {e}"),
                ));
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let mut delay = Duration::from_millis(250);
    let mut attempt = 1;
    let created = loop {
        match cluster.create_json(Kind::Pod, &ns, new).await {
            Ok(created) => break created,
            Err(e) if transient(&e) && attempt < CREATE_ATTEMPTS => {
                let _ = writeln!(
                    err,
                    "create failed ({e}); retrying in {}ms",
                    delay.as_millis()
                );
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            Err(e) => {
                return Err(failed(
                    &backup,
                    format!("pod/{name} was deleted but could not be created again: {e}"),
                ));
            }
        }
    };
    let _ = writeln!(err, "pod/{name} recreated");
    if critical.interrupted() {
        return Err(Error::Interrupted);
    }
    Ok(created)
}
