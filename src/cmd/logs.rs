//! `kubectl initctl logs TARGET [INIT_CONTAINER]`: find the pod (a workload's pod stuck in init,
//! else its newest), then show each init container's log under its header, or follow them.

use std::io::Write;

use k8s_openapi::api::core::v1::Pod;

use crate::cli::LogsArgs;
use crate::cluster::logs::{self, LogOptions, Shown, Tally};
use crate::cluster::pod_query;
use crate::error::{Error, Result};
use crate::input::target::Target;
use crate::render::logs::{write_header, write_line, write_no_log};
use crate::session::{Session, Source};
use crate::status::container_logs;
use crate::status::print_pod;

pub async fn run(
    ctx: &Session,
    args: &LogsArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let Source::Cluster(cluster) = &ctx.source else {
        return Err(Error::Input(
            "logs are read from a cluster: offline input (--filename) holds no logs".into(),
        ));
    };
    let opts = LogOptions {
        previous: args.previous,
        tail: (args.tail >= 0).then_some(args.tail),
        since_seconds: args
            .since
            .as_deref()
            .map(container_logs::since_seconds)
            .transpose()
            .map_err(Error::Input)?,
        timestamps: args.timestamps,
    };
    let target = Target::parse(&args.target)?;
    let pod = pick_pod(ctx, &target, &args.target, err).await?;
    let only = args.container.as_deref();
    let apps = args.all_containers || only.is_some_and(|n| is_app_container(&pod, n));
    let containers: Vec<_> = container_logs::containers(&pod, ctx.now, args.previous, apps)
        .into_iter()
        .filter(|c| only.is_none_or(|n| n == c.name))
        .collect();
    if let Some(name) = only
        && containers.is_empty()
    {
        return Err(Error::Input(format!(
            "container {name:?} is not in pod {:?}: its init containers are {}",
            pod.metadata.name.as_deref().unwrap_or_default(),
            names(&pod)
        )));
    }
    if containers.is_empty() {
        writeln!(err, "pod/{} has no init containers", pod_name(&pod)).map_err(Error::Output)?;
        return Ok(());
    }
    let palette = ctx.palette;
    let mut notes: Vec<String> = Vec::new();
    let mut show = |shown: Shown<'_>| -> std::io::Result<()> {
        match shown {
            Shown::Header(c) => write_header(out, c, palette)?,
            Shown::Line(prefix, line) => write_line(out, prefix, line)?,
            Shown::NoLog(why) => write_no_log(out, why, palette)?,
            Shown::Note(note) => notes.push(note),
        }
        // Following is read as it happens.
        out.flush()
    };
    let tally: Tally = if args.follow {
        logs::follow(cluster, pod.clone(), only, apps, &opts, ctx.now, &mut show).await?
    } else {
        logs::show_now(cluster, &pod, &containers, &opts, &mut show).await?
    };
    for note in notes {
        writeln!(err, "{note}").map_err(Error::Output)?;
    }
    // As kubectl logs: a log that cannot be read fails the command — here only when no
    // container's log could be read at all (or the one named could not).
    if tally.failed > 0 && tally.read == 0 {
        return Err(Error::Input(format!(
            "no log could be read from pod/{}",
            pod_name(&pod)
        )));
    }
    Ok(())
}

fn pod_name(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or_default()
}

fn is_app_container(pod: &Pod, name: &str) -> bool {
    pod.spec
        .as_ref()
        .is_some_and(|s| s.containers.iter().any(|c| c.name == name))
}

fn names(pod: &Pod) -> String {
    let inits: Vec<&str> = pod
        .spec
        .iter()
        .flat_map(|s| s.init_containers.iter().flatten())
        .map(|c| c.name.as_str())
        .collect();
    if inits.is_empty() {
        "none".into()
    } else {
        format!("[{}]", inits.join(" "))
    }
}

/// The pod a target means: a pod by name; of a workload's pods the newest stuck in init, else
/// the newest — said on stderr, as kubectl says which pod `logs deploy/x` reads.
async fn pick_pod(ctx: &Session, target: &Target, text: &str, err: &mut dyn Write) -> Result<Pod> {
    let mut pods = pod_query::target_pods(ctx, target).await?;
    if matches!(target, Target::Pod(_)) {
        return pods
            .pop()
            .ok_or_else(|| Error::Input(format!("{text} not found")));
    }
    let total = pods.len();
    let created = |p: &Pod| p.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let stuck = |p: &Pod| print_pod::summarize(p).status.starts_with("Init:");
    let chosen = pods
        .iter()
        .filter(|p| stuck(p))
        .max_by_key(|p| created(p))
        .or_else(|| pods.iter().max_by_key(|p| created(p)))
        .cloned()
        .ok_or_else(|| Error::Input(format!("{text} has no pods")))?;
    let why = if stuck(&chosen) {
        "stuck in init"
    } else {
        "the newest; none is stuck in init"
    };
    writeln!(
        err,
        "Found {total} pods, using pod/{} ({why})",
        crate::util::sanitize::Untrusted::from(pod_name(&chosen))
    )
    .map_err(Error::Output)?;
    Ok(chosen)
}
