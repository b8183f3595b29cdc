//! `kubectl initctl explain`: fetch the pods, gather what the findings need within the budget
//! (one events LIST per namespace; related kinds at most once per namespace, only when asked
//! for; one log per pod that quotes one), diagnose, render.

use std::collections::BTreeSet;
use std::io::Write;

use k8s_openapi::api::core::v1::Pod;

use crate::cli::{DocumentOutput, ExplainArgs};
use crate::cluster::pod_query;
use crate::cluster::related;
use crate::diagnosis::related::{RelatedKind, RelatedObjects, Unfetched};
use crate::diagnosis::{self, Explanation};
use crate::error::{Error, Result};
use crate::input::target::Target;
use crate::render::explain::{ExplanationList, write_text};
use crate::render::{write_json, write_yaml};
use crate::session::Session;
use crate::status::init_timeline;

/// What to fetch is discovered as the diagnosis learns more (events first, then what they point
/// at); each round fetches only new kinds, so this bounds the rounds, not the requests.
const MAX_ROUNDS: usize = 4;

/// Pods worth explaining when no target is named: anything not Running-and-Ready (finished
/// pods excepted), and running pods whose init image never ran.
fn needs_explaining(pod: &Pod, now: k8s_openapi::jiff::Timestamp) -> bool {
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or_default();
    if phase == "Succeeded" && pod.metadata.deletion_timestamp.is_none() {
        return false;
    }
    let healthy = phase == "Running"
        && crate::status::print_pod::has_condition(pod, "Ready")
        && pod.metadata.deletion_timestamp.is_none();
    !healthy
        || init_timeline::init_containers(pod, now)
            .iter()
            .any(|c| c.image_drift)
}

pub async fn run(ctx: &Session, args: &ExplainArgs, out: &mut dyn Write) -> Result<()> {
    let targets = args
        .targets
        .iter()
        .map(|t| Target::parse(t))
        .collect::<Result<Vec<_>>>()?;
    let queries = pod_query::resolve(ctx, &targets).await?;
    let mut pods: Vec<Pod> = Vec::new();
    let mut seen = BTreeSet::new();
    let fetch = pod_query::fetch_pods(ctx, &queries, &mut |page| {
        for pod in page {
            let key = (pod.metadata.namespace.clone(), pod.metadata.name.clone());
            if seen.insert(key) && (!targets.is_empty() || needs_explaining(&pod, ctx.now)) {
                pods.push(pod);
            }
        }
        Ok(())
    })
    .await?;

    let mut objects = RelatedObjects::default();
    // Events are always needed: one LIST per namespace, up front.
    let namespaces: BTreeSet<String> = pods
        .iter()
        .map(|p| {
            p.metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into())
        })
        .collect();
    let mut unfetched = Unfetched::default();
    unfetched
        .objects
        .extend(namespaces.into_iter().map(|ns| (RelatedKind::Events, ns)));
    let mut explanations = Vec::new();
    for _ in 0..MAX_ROUNDS {
        related::fetch(&ctx.source, &mut objects, &unfetched, args.tail).await;
        explanations = pods
            .iter()
            .map(|p| diagnosis::explain(p, &objects, ctx.now, args.tail))
            .collect::<Vec<Explanation>>();
        unfetched = objects.take_unfetched();
        if unfetched.is_empty() {
            break;
        }
    }

    match args.output {
        Some(DocumentOutput::Json) => write_json(out, &ExplanationList::new(&explanations)),
        Some(DocumentOutput::Yaml) => write_yaml(out, &ExplanationList::new(&explanations)),
        None if explanations.is_empty() && fetch.missing.is_empty() => {
            writeln!(
                out,
                "Nothing to explain: every pod in scope is Running and Ready."
            )
        }
        None => write_text(out, &explanations, ctx.palette),
    }
    .map_err(Error::Output)?;
    if !fetch.missing.is_empty() {
        return Err(Error::TargetsNotFound(fetch.missing));
    }
    Ok(())
}
