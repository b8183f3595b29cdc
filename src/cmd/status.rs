//! `kubectl initctl status`: one row per pod, streamed page by page from a paginated LIST
//! (never a request per pod), optionally followed by a watch.

use std::collections::HashSet;
use std::io::Write;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::WatchEvent;

use crate::cli::{StatusArgs, StatusOutput};
use crate::cluster::Cluster;
use crate::cluster::pod_query::{self, PodQuery};
use crate::error::{Error, Result};
use crate::input::selector::{FieldSelector, Selector};
use crate::input::target::Target;
use crate::render::status::{TableOptions, write_table};
use crate::render::{write_json, write_yaml};
use crate::session::{Namespaces, Session, Source};
use crate::status::report::{self, InitStatus, InitStatusList};

enum Format {
    Table { wide: bool },
    Json,
    Yaml,
}

/// Collects rows and writes them: table blocks as they arrive, documents at the end.
struct Printer<'a> {
    out: &'a mut dyn Write,
    format: Format,
    /// None: decided by the first block (offline input spanning namespaces shows them).
    show_namespace: Option<bool>,
    headers_pending: bool,
    seen: HashSet<(String, String)>,
    collected: Vec<InitStatus>,
    printed: usize,
}

impl Printer<'_> {
    fn block(&mut self, ctx: &Session, pods: Vec<Pod>) -> Result<()> {
        let items: Vec<InitStatus> = pods
            .iter()
            .filter(|p| {
                self.seen.insert((
                    p.metadata.namespace.clone().unwrap_or_default(),
                    p.metadata.name.clone().unwrap_or_default(),
                ))
            })
            .map(|p| report::report(p, ctx.now))
            .collect();
        if items.is_empty() {
            return Ok(());
        }
        self.printed += items.len();
        let show_namespace = *self.show_namespace.get_or_insert_with(|| {
            items
                .iter()
                .map(|i| i.namespace.as_str())
                .collect::<HashSet<_>>()
                .len()
                > 1
        });
        match self.format {
            Format::Table { wide } => {
                let opts = TableOptions {
                    show_namespace,
                    wide,
                    headers: self.headers_pending && ctx.headers,
                    palette: ctx.palette,
                };
                self.headers_pending = false;
                write_table(self.out, &items, opts, ctx.now).map_err(Error::Output)?;
                self.out.flush().map_err(Error::Output)
            }
            Format::Json | Format::Yaml => {
                self.collected.extend(items);
                Ok(())
            }
        }
    }

    /// A watch event: the pod's row again (a table line, or one document per change).
    fn event(&mut self, ctx: &Session, pod: &Pod) -> Result<()> {
        match self.format {
            Format::Table { .. } => {
                self.seen.clear();
                self.block(ctx, vec![pod.clone()])
            }
            Format::Json => {
                write_json(self.out, &report::report(pod, ctx.now)).map_err(Error::Output)
            }
            Format::Yaml => {
                let doc = report::report(pod, ctx.now);
                writeln!(self.out, "---")
                    .and_then(|_| write_yaml(self.out, &doc))
                    .map_err(Error::Output)
            }
        }
    }

    fn finish(&mut self) -> Result<()> {
        let list = InitStatusList::new(&self.collected);
        match self.format {
            Format::Json => write_json(self.out, &list),
            Format::Yaml => write_yaml(self.out, &list),
            Format::Table { .. } => Ok(()),
        }
        .map_err(Error::Output)
    }
}

pub async fn run(
    ctx: &Session,
    args: &StatusArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let targets = args
        .targets
        .iter()
        .map(|t| Target::parse(t))
        .collect::<Result<Vec<_>>>()?;
    let format = match (args.output, args.containers) {
        (Some(StatusOutput::Json), _) => Format::Json,
        (Some(StatusOutput::Yaml), _) => Format::Yaml,
        (Some(StatusOutput::Wide), _) | (None, true) => Format::Table { wide: true },
        (None, false) => Format::Table { wide: false },
    };
    let queries = pod_query::resolve(ctx, &targets).await?;
    let mut printer = Printer {
        out,
        format,
        show_namespace: match ctx.namespaces {
            Namespaces::All => Some(true),
            Namespaces::One(_) => Some(false),
            Namespaces::AsInFiles => None,
        },
        headers_pending: true,
        seen: HashSet::new(),
        collected: Vec::new(),
        printed: 0,
    };
    if args.watch && matches!(ctx.source, Source::Offline(_)) {
        return Err(Error::Input(
            "--watch needs a cluster; it cannot be used with -f".into(),
        ));
    }
    let fetch = pod_query::fetch_pods(ctx, &queries, &mut |pods| printer.block(ctx, pods)).await?;
    printer.finish()?;
    if printer.printed == 0
        && fetch.missing.is_empty()
        && matches!(printer.format, Format::Table { .. })
    {
        let scope = match &ctx.namespaces {
            Namespaces::One(ns) => format!(" in {ns} namespace"),
            _ => String::new(),
        };
        writeln!(err, "No resources found{scope}.").map_err(Error::Output)?;
    }
    if !fetch.missing.is_empty() {
        return Err(Error::TargetsNotFound(fetch.missing));
    }
    if args.watch
        && let Source::Cluster(cluster) = &ctx.source
    {
        let resume = fetch
            .resume
            .into_iter()
            .map(|(i, rv)| (&queries[i], rv))
            .collect();
        watch(cluster, ctx, resume, &mut printer).await?;
    }
    Ok(())
}

/// Follows every query's watch, printing a row per change (as `kubectl get -w` does).
async fn watch(
    cluster: &Cluster,
    ctx: &Session,
    resume: Vec<(&PodQuery, String)>,
    printer: &mut Printer<'_>,
) -> Result<()> {
    let mut versions: Vec<String> = resume.iter().map(|(_, rv)| rv.clone()).collect();
    let queries: Vec<&PodQuery> = resume.iter().map(|(q, _)| *q).collect();
    loop {
        let mut streams = Vec::new();
        for (i, query) in queries.iter().enumerate() {
            let fields = match &query.name {
                Some(name) => Some(format!("metadata.name={name}")),
                None => query.fields.as_ref().map(FieldSelector::wire_text),
            };
            let stream = cluster
                .watch_pods(
                    query.namespace.as_deref(),
                    query.labels.as_ref().map(Selector::wire_text).as_deref(),
                    fields.as_deref(),
                    &versions[i],
                )
                .await?;
            streams.push(stream.map(move |e| (i, e)).boxed());
        }
        let mut merged = futures::stream::select_all(streams);
        while let Some((i, event)) = merged.next().await {
            match event? {
                WatchEvent::Added(pod) | WatchEvent::Modified(pod) | WatchEvent::Deleted(pod) => {
                    versions[i] = pod.metadata.resource_version.clone().unwrap_or_default();
                    printer.event(ctx, &pod)?;
                }
                WatchEvent::Bookmark(b) => versions[i] = b.metadata.resource_version,
                WatchEvent::Error(status) if status.code == 410 => {
                    // Our resourceVersion is too old: start over from a fresh list.
                    versions[i] = String::new();
                }
                WatchEvent::Error(status) => {
                    return Err(Error::Api {
                        code: status.code,
                        reason: status.reason,
                        message: status.message,
                    });
                }
            }
        }
        // The server ends every watch after its timeout: continue from where it stopped.
    }
}
