//! `kubectl initctl timeline TARGET`: fetch the pod(s) and their namespace's events (one LIST
//! each), build each startup timeline, aggregate a workload's, render.

use std::collections::BTreeMap;
use std::io::Write;

use k8s_openapi::api::core::v1::Event;

use crate::cli::{DocumentOutput, TimelineArgs};
use crate::cluster::{events, pod_query};
use crate::error::{Error, Result};
use crate::input::target::Target;
use crate::render::timeline::{Canvas, PodDocument, WorkloadDocument, write_aggregate, write_pod};
use crate::render::{write_json, write_yaml};
use crate::session::{Environment, Session};
use crate::status::startup_aggregate::aggregate;
use crate::status::startup_timeline::{StartupTimeline, timeline};

pub async fn run(
    ctx: &Session,
    env: &Environment,
    args: &TimelineArgs,
    out: &mut dyn Write,
) -> Result<()> {
    let target = Target::parse(&args.target)?;
    let pods = pod_query::target_pods(ctx, &target).await?;
    if pods.is_empty() {
        return Err(Error::Input(format!("{} selects no pods", args.target)));
    }
    let mut by_namespace: BTreeMap<String, std::result::Result<Vec<Event>, String>> =
        BTreeMap::new();
    for pod in &pods {
        let ns = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        if let std::collections::btree_map::Entry::Vacant(slot) = by_namespace.entry(ns) {
            let found = events::in_namespace(&ctx.source, slot.key()).await;
            slot.insert(found);
        }
    }
    let timelines: Vec<StartupTimeline> = pods
        .iter()
        .map(|pod| {
            let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
            let evs = match &by_namespace[ns] {
                Ok(list) => Ok(list.as_slice()),
                Err(why) => Err(why.as_str()),
            };
            timeline(pod, evs, ctx.now)
        })
        .collect();
    let canvas = Canvas {
        columns: env.columns,
        unicode: env.unicode,
        palette: ctx.palette,
    };
    let written = match (&target, args.output) {
        (Target::Pod(_), Some(DocumentOutput::Json)) => {
            write_json(out, &PodDocument::new(&timelines[0]))
        }
        (Target::Pod(_), Some(DocumentOutput::Yaml)) => {
            write_yaml(out, &PodDocument::new(&timelines[0]))
        }
        (Target::Pod(_), None) => write_pod(out, &timelines[0], &canvas),
        (Target::Workload(..), output) => {
            let summary = aggregate(&timelines);
            match output {
                Some(DocumentOutput::Json) => write_json(
                    out,
                    &WorkloadDocument::new(&args.target, &summary, &timelines),
                ),
                Some(DocumentOutput::Yaml) => write_yaml(
                    out,
                    &WorkloadDocument::new(&args.target, &summary, &timelines),
                ),
                None => write_aggregate(out, &args.target, &summary, &canvas),
            }
        }
    };
    written.map_err(Error::Output)
}
