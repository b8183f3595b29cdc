//! `kubectl initctl restart TARGET`: re-run init containers on purpose. A bare pod gets the safe
//! recreate (backup first); an owned pod is deleted (with preconditions) for its controller to
//! replace; a workload is rolled as `kubectl rollout restart` does.

use std::io::Write;

use serde_json::json;

use crate::change::backup;
use crate::change::follow::{self, Followed};
use crate::change::plan::Ownership;
use crate::change::recreate::{self, RecreateOptions};
use crate::cli::RestartArgs;
use crate::cluster::Kind;
use crate::cluster::{owner, pod_query};
use crate::cmd::edit::{confirm, parse_timeout, stamp};
use crate::error::{Error, Result};
use crate::input::target::{Target, WorkloadKind};
use crate::session::{Environment, Session, Source};

/// Prints the plan, then asks (or takes --yes). False, after saying so, for a dry run or a "no".
fn go_ahead(
    args: &RestartArgs,
    env: &Environment,
    err: &mut dyn Write,
    plan: &str,
    question: &str,
) -> Result<bool> {
    let _ = writeln!(err, "plan: {plan}");
    if args.change.dry_run || !confirm(&args.change, env, question)? {
        let _ = writeln!(err, "nothing was changed");
        return Ok(false);
    }
    Ok(true)
}

pub async fn run(
    ctx: &Session,
    env: &Environment,
    args: &RestartArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let Source::Cluster(cluster) = &ctx.source else {
        return Err(Error::Input("restart needs a cluster, not -f".into()));
    };
    let ns = ctx
        .namespaces
        .single()
        .ok_or_else(|| Error::Input("restart works in one namespace; use -n NAMESPACE".into()))?
        .to_string();
    let timeout = parse_timeout(&args.change)?;
    let followed = match Target::parse(&args.target)? {
        Target::Pod(name) => {
            let live = cluster.get_json(Kind::Pod, &ns, &name).await?;
            match owner::resolve(cluster, &live).await? {
                Ownership::Bare => {
                    if !go_ahead(
                        args,
                        env,
                        err,
                        &format!(
                            "recreate pod/{name} from its own spec: back it up, delete it (only if unchanged), create it again; its init containers run again"
                        ),
                        "Recreate the pod?",
                    )? {
                        return Ok(());
                    }
                    let new = backup::for_create(&live, args.change.keep_node);
                    let opts = RecreateOptions {
                        state_dir: env.state_dir.as_deref(),
                        stamp: stamp(ctx),
                        timeout,
                    };
                    recreate::recreate(cluster, &live, &new, &opts, err).await?;
                    writeln!(out, "pod/{name} restarted").map_err(Error::Output)?;
                    Followed::Pod {
                        namespace: ns.clone(),
                        name,
                    }
                }
                ownership => {
                    let by = match &ownership {
                        Ownership::Workload { kind, name, .. } => format!("{}/{name}", kind.kind()),
                        Ownership::Job { name } => format!("Job/{name}"),
                        Ownership::Other { kind, name } => format!("{kind}/{name}"),
                        Ownership::Bare => unreachable!("handled above"),
                    };
                    if !go_ahead(
                        args,
                        env,
                        err,
                        &format!(
                            "delete pod/{name} (only if unchanged); {by} creates a replacement whose init containers run again"
                        ),
                        "Delete the pod?",
                    )? {
                        return Ok(());
                    }
                    let labels = owner::replacement_selector(&live);
                    let existing = follow::existing_uids(cluster, &ns, &labels).await?;
                    cluster.delete_pod_as_read(&live).await?;
                    writeln!(out, "pod/{name} deleted").map_err(Error::Output)?;
                    // One replacement, whatever the others are doing.
                    Followed::Selected {
                        namespace: ns.clone(),
                        labels,
                        expected: Some(1),
                        images: Vec::new(),
                        existing,
                    }
                }
            }
        }
        Target::Workload(kind, name) => {
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
            if !go_ahead(args, env, err, &plan, "Restart the workload?")? {
                return Ok(());
            }
            let before = cluster.get_json(Kind::Workload(kind), &ns, &name).await?;
            let labels = pod_query::pod_selector(kind, &before)
                .map(|s| s.to_query())
                .unwrap_or_default();
            let existing = follow::existing_uids(cluster, &ns, &labels).await?;
            let at = ctx.now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
            let body = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": at}}}}});
            let obj = cluster
                .patch_json(Kind::Workload(kind), &ns, &name, &body)
                .await?;
            writeln!(out, "{}/{name} restarted", kind.resource()).map_err(Error::Output)?;
            let expected = owner::replicas(&obj, kind);
            Followed::Selected {
                namespace: ns.clone(),
                labels,
                expected,
                images: Vec::new(),
                existing,
            }
        }
    };
    if args.change.wait {
        follow::follow(cluster, &followed, timeout, env.interactive, err).await?;
    }
    Ok(())
}
