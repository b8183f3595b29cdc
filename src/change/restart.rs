//! Re-running init containers on purpose. A bare pod gets the safe recreate (backup first); an
//! owned pod is deleted (with preconditions) for its controller to replace; a workload is rolled
//! as `kubectl rollout restart` does. Each step returns what to follow, or None when nothing
//! was changed (a dry run, or a "no").

use std::io::Write;

use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use crate::change::backup;
use crate::change::context::{ChangeContext, stop_if_held};
use crate::change::follow::{Followed, Replacements};
use crate::change::plan::Ownership;
use crate::cluster::{Kind, owner};
use crate::error::{Error, Result};
use crate::input::target::WorkloadKind;
use crate::render::change::diff;
use crate::util::sanitize::Untrusted;

/// Prints the plan, then asks (or takes --yes). False, after saying so, for a dry run or a "no".
fn go_ahead(
    change: &ChangeContext<'_>,
    err: &mut dyn Write,
    plan: &str,
    question: &str,
) -> Result<bool> {
    let _ = writeln!(err, "plan: {plan}");
    if change.opts.dry_run || !change.confirm(question)? {
        let _ = writeln!(err, "nothing was changed");
        return Ok(false);
    }
    Ok(true)
}

/// Restarts one pod: recreated if bare, else deleted for its controller to replace.
pub(crate) async fn pod(
    change: &ChangeContext<'_>,
    name: String,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Option<Followed>> {
    let (cluster, ns) = (change.cluster, &change.namespace);
    let live = cluster.get_json(Kind::Pod, ns, &name).await?;
    let by = match owner::resolve(cluster, &live).await? {
        Ownership::Bare => {
            let plan = format!(
                "recreate pod/{name} from its own spec: back it up, delete it (only if unchanged), create it again; its init containers run again"
            );
            if !go_ahead(change, err, &plan, "Recreate the pod?")? {
                return Ok(None);
            }
            let held = change
                .recreate(&live, &live, change.timeout()?, err)
                .await?;
            writeln!(out, "pod/{name} restarted").map_err(Error::Output)?;
            stop_if_held(held, format!("pod/{name} was recreated"))?;
            return Ok(Some(Followed::Pod {
                namespace: ns.clone(),
                name,
            }));
        }
        Ownership::Workload { kind, name, .. } => format!("{}/{name}", kind.kind()),
        Ownership::Job { name } => format!("Job/{name}"),
        Ownership::Other { kind, name } => format!("{kind}/{name}"),
    };
    let plan = format!(
        "delete pod/{name} (only if unchanged); {by} creates a replacement whose init containers run again"
    );
    if !go_ahead(change, err, &plan, "Delete the pod?")? {
        return Ok(None);
    }
    let replacements = Replacements::of_pod(cluster, ns, &live).await?;
    cluster.delete_pod_as_read(&live).await?;
    writeln!(out, "pod/{name} deleted").map_err(Error::Output)?;
    // One replacement, whatever the others are doing.
    Ok(Some(replacements.followed(Some(1), Vec::new())))
}

/// Recreates the bare pod `name` from `manifest` (read from `from`, e.g. the copy a refused
/// edit kept): the diff against the live pod, the plan, then the same safe recreate as a plain
/// restart. An owned pod is refused: its controller would replace it from its own template.
pub(crate) async fn pod_from_manifest(
    change: &ChangeContext<'_>,
    name: String,
    mut manifest: Value,
    from: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Option<Followed>> {
    let (cluster, ns) = (change.cluster, &change.namespace);
    same_pod(&mut manifest, &name, ns, from)?;
    let live = cluster.get_json(Kind::Pod, ns, &name).await?;
    let shown = Untrusted::from(name.as_str());
    let owned_by = match owner::resolve(cluster, &live).await? {
        Ownership::Bare => None,
        Ownership::Workload { kind, name, .. } => Some(format!(
            "{}/{name}, which replaces it from its own pod template: change the template instead (kubectl edit {}/{name})",
            kind.kind(),
            kind.resource()
        )),
        Ownership::Job { name } => Some(format!(
            "Job/{name}, whose pod template cannot change: create a new Job with the change instead"
        )),
        Ownership::Other { kind, name } => Some(format!(
            "{kind}/{name}, which replaces it: change its owner instead"
        )),
    };
    if let Some(owner) = owned_by {
        return Err(Error::Input(format!(
            "pod/{shown} is not recreated from {from}: it belongs to {}",
            Untrusted::from(owner.as_str())
        )));
    }
    let keep_node = change.opts.keep_node;
    let (before, after) = (
        backup::for_create(&live, keep_node),
        backup::for_create(&manifest, keep_node),
    );
    let entries: Vec<_> = ["metadata", "spec"]
        .into_iter()
        .filter(|part| before.get(part) != after.get(part))
        .map(|part| {
            (
                part.to_string(),
                before.get(part).cloned(),
                after.get(part).cloned(),
            )
        })
        .collect();
    if entries.is_empty() {
        let _ = writeln!(
            err,
            "{from} holds the pod as it is: it is recreated unchanged"
        );
    } else {
        let _ = write!(err, "{}", diff(&entries));
    }
    let plan = format!(
        "recreate pod/{shown} from {from}: back it up, delete it (only if unchanged), create it from the file; its init containers run again"
    );
    if !go_ahead(change, err, &plan, "Recreate the pod from the file?")? {
        return Ok(None);
    }
    let held = change
        .recreate(&live, &manifest, change.timeout()?, err)
        .await?;
    writeln!(out, "pod/{shown} recreated from {from}").map_err(Error::Output)?;
    stop_if_held(held, format!("pod/{shown} was recreated from {from}"))?;
    Ok(Some(Followed::Pod {
        namespace: ns.clone(),
        name,
    }))
}

/// The manifest must describe the pod being replaced: the same name (filled in when absent)
/// and namespace.
fn same_pod(manifest: &mut Value, name: &str, ns: &str, from: &str) -> Result<()> {
    let meta = manifest
        .as_object_mut()
        .map(|pod| pod.entry("metadata").or_insert_with(|| json!({})))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| Error::Input(format!("{from}: metadata is not an object")))?;
    for (field, expected) in [("name", name), ("namespace", ns)] {
        match meta.get(field) {
            None | Some(Value::Null) => {
                meta.insert(field.to_string(), json!(expected));
            }
            Some(Value::String(found)) if found == expected => {}
            Some(found) => {
                let found = found
                    .as_str()
                    .map_or_else(|| found.to_string(), str::to_string);
                return Err(Error::Input(format!(
                    "{from} holds a pod whose {field} is \"{}\", not \"{}\": it cannot replace pod/{}",
                    Untrusted::from(found.as_str()),
                    Untrusted::from(expected),
                    Untrusted::from(name)
                )));
            }
        }
    }
    Ok(())
}

/// Rolls a workload: a new restartedAt annotation on its pod template replaces its pods.
pub(crate) async fn workload(
    change: &ChangeContext<'_>,
    kind: WorkloadKind,
    name: &str,
    now: Timestamp,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Option<Followed>> {
    if !matches!(
        kind,
        WorkloadKind::Deployment | WorkloadKind::StatefulSet | WorkloadKind::DaemonSet
    ) {
        return Err(Error::Input(format!(
            "{}/{name} cannot be rolled: only Deployments, StatefulSets and DaemonSets restart their pods from a template change (restart its pods by name instead)",
            kind.kind().to_lowercase()
        )));
    }
    let plan = format!(
        "set kubectl.kubernetes.io/restartedAt on the pod template of {}/{name}, as kubectl rollout restart does: its pods are replaced",
        kind.kind()
    );
    if !go_ahead(change, err, &plan, "Restart the workload?")? {
        return Ok(None);
    }
    let (cluster, ns) = (change.cluster, &change.namespace);
    let replacements = Replacements::of_workload(cluster, ns, kind, name).await?;
    let at = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let body = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": at}}}}});
    let patched = cluster
        .patch_json(Kind::Workload(kind), ns, name, &body)
        .await?;
    writeln!(out, "{}/{name} restarted", kind.resource()).map_err(Error::Output)?;
    let expected = owner::replicas(&patched, kind);
    Ok(Some(replacements.followed(expected, Vec::new())))
}
