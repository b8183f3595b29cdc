//! Re-running init containers on purpose. A bare pod gets the safe recreate (backup first); an
//! owned pod is deleted (with preconditions) for its controller to replace; a workload is rolled
//! as `kubectl rollout restart` does. Each step returns what to follow, or None when nothing
//! was changed (a dry run, or a "no").

use std::io::Write;

use k8s_openapi::jiff::Timestamp;
use serde_json::json;

use crate::change::context::{ChangeContext, stop_if_held};
use crate::change::follow::{Followed, Replacements};
use crate::change::plan::Ownership;
use crate::cluster::{Kind, owner};
use crate::error::{Error, Result};
use crate::input::target::WorkloadKind;

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
