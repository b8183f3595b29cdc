//! `kubectl initctl explain`: fetch the pods, gather what the findings need within the budget
//! (one events LIST per namespace; related kinds at most once per namespace, only when asked
//! for; one log per group, or per pod with `--no-group`), diagnose, group, render.

use std::collections::BTreeSet;
use std::io::Write;

use k8s_openapi::api::core::v1::Pod;

use crate::cli::{DocumentOutput, ExplainArgs};
use crate::cluster::pod_query;
use crate::cluster::related::{self, LogScope};
use crate::diagnosis;
use crate::error::{Error, Result};
use crate::input::pod_json::PodView;
use crate::input::target::Target;
use crate::render::explain::{ExplanationList, Report, write_report, write_text};
use crate::render::{write_json, write_yaml};
use crate::session::Session;
use crate::util::parallel;

pub async fn run(ctx: &Session, args: &ExplainArgs, out: &mut dyn Write) -> Result<()> {
    let targets = args
        .targets
        .iter()
        .map(|t| Target::parse(t))
        .collect::<Result<Vec<_>>>()?;
    let queries = pod_query::resolve(ctx, &targets).await?;
    let mut pods: Vec<Pod> = Vec::new();
    let mut seen = BTreeSet::new();
    // Listing everything, only the pods worth explaining need decoding in full.
    let view = if targets.is_empty() {
        PodView::WholeIf(diagnosis::needs_explaining)
    } else {
        PodView::Whole
    };
    let fetch = pod_query::fetch_pods(ctx, &queries, view, &mut |page| {
        let mut passed = Vec::new();
        for pod in page {
            let key = (pod.metadata.namespace.clone(), pod.metadata.name.clone());
            if seen.insert(key) && (!targets.is_empty() || diagnosis::needs_explaining(&pod)) {
                pods.push(pod);
            } else {
                passed.push(pod);
            }
        }
        parallel::drop_elsewhere(passed);
        Ok(())
    })
    .await?;

    let scope = if args.no_group {
        LogScope::EveryPod
    } else {
        LogScope::OnePerGroup
    };
    let (explanations, groups) =
        related::explain_all(&ctx.source, &pods, ctx.now, args.tail, scope).await;
    parallel::drop_elsewhere(pods);

    match args.output {
        Some(DocumentOutput::Json) => {
            write_json(out, &ExplanationList::new(&explanations, &groups))
        }
        Some(DocumentOutput::Yaml) => {
            write_yaml(out, &ExplanationList::new(&explanations, &groups))
        }
        None if explanations.is_empty() && fetch.missing.is_empty() => {
            writeln!(
                out,
                "Nothing to explain: every pod in scope is Running and Ready."
            )
        }
        // One pod (or every pod asked for in full) reads as it always did.
        None if explanations.len() == 1 || args.no_group => {
            write_text(out, &explanations, ctx.palette)
        }
        None => write_report(
            out,
            &Report {
                in_scope: seen.len(),
                explanations: &explanations,
                groups: &groups,
            },
            ctx.palette,
        ),
    }
    .map_err(Error::Output)?;
    if !fetch.missing.is_empty() {
        return Err(Error::TargetsNotFound(fetch.missing));
    }
    Ok(())
}
