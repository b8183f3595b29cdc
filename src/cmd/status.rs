//! `kubectl initctl status`: one row per pod, streamed page by page from a paginated LIST
//! (never a request per pod), optionally followed by a watch.

use std::io::Write;

use crate::cli::{StatusArgs, StatusOutput};
use crate::cluster::pod_query::{self, Known};
use crate::diagnosis;
use crate::error::{Error, Result};
use crate::input::pod_json::PodView;
use crate::input::target::Target;
use crate::render::status_printer::{Format, StatusPrinter};
use crate::session::{Environment, Namespaces, Session, Source};
use crate::util::jsonpath::Template;

pub async fn run(
    ctx: &Session,
    env: &Environment,
    args: &StatusArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let targets = args
        .targets
        .iter()
        .map(|t| Target::parse(t))
        .collect::<Result<Vec<_>>>()?;
    // As kubectl: a template applies to the one object when a single pod is named.
    let single = matches!(targets.as_slice(), [Target::Pod(_)]);
    let format = format(args, single)?;
    let sort_by = args
        .sort_by
        .as_deref()
        .map(|path| Template::relaxed(path).map_err(|e| Error::Input(e.0)))
        .transpose()?;
    if args.watch && matches!(ctx.source, Source::Offline(_)) {
        return Err(Error::Input(
            "--watch needs a cluster; it cannot be used with -f".into(),
        ));
    }
    let queries = pod_query::resolve(ctx, &targets).await?;
    let show_namespace = match ctx.namespaces {
        Namespaces::All => Some(true),
        Namespaces::One(_) => Some(false),
        Namespaces::AsInFiles => None,
    };
    let mut printer = StatusPrinter::new(out, format, show_namespace)
        .sorted_by(sort_by)
        .watching(args.watch, args.output_watch_events, env.stdout_is_terminal);
    let mut known = Known::default();
    let fetch = pod_query::fetch_pods(ctx, &queries, PodView::Rows, &mut |mut pods| {
        if args.stuck {
            pods.retain(diagnosis::needs_explaining);
        }
        if args.watch {
            known.note(&queries, &pods);
        }
        printer.block(ctx, pods)
    })
    .await?;
    printer.finish(ctx)?;
    if printer.printed() == 0 && fetch.missing.is_empty() && printer.is_table() {
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
            .map(|(i, rv)| (i, &queries[i], rv))
            .collect();
        printer.begin_watch(ctx)?;
        pod_query::watch(cluster, resume, known, &mut |change, pod| {
            // A pod that recovers leaves a --stuck listing; on a terminal its row is updated.
            if args.stuck && !printer.in_place() && !diagnosis::needs_explaining(pod) {
                return Ok(());
            }
            printer.event(ctx, change, pod)
        })
        .await?;
    }
    Ok(())
}

/// `-o` (and `--containers`) as a printer format; templates parsed here, so a bad one is one
/// line and exit 1, as kubectl.
fn format(args: &StatusArgs, single: bool) -> Result<Format> {
    let template = |text: &str| {
        if text.is_empty() {
            return Err(Error::Input(
                "template format specified but no template given".into(),
            ));
        }
        Template::parse(text).map_err(|e| Error::Input(e.0))
    };
    Ok(match (&args.output, args.containers) {
        (Some(StatusOutput::Json), _) => Format::Json,
        (Some(StatusOutput::Yaml), _) => Format::Yaml,
        (Some(StatusOutput::Name), _) => Format::Name,
        (Some(StatusOutput::JsonPath(t)), _) => Format::JsonPath {
            template: template(t)?,
            as_json: false,
            single,
        },
        (Some(StatusOutput::JsonPathAsJson(t)), _) => Format::JsonPath {
            template: template(t)?,
            as_json: true,
            single,
        },
        (Some(StatusOutput::CustomColumns(spec)), _) => Format::Columns(custom_columns(spec)?),
        (Some(StatusOutput::Wide), _) | (None, true) => Format::Table { wide: true },
        (None, false) => Format::Table { wide: false },
    })
}

/// `HEADER:PATH,…`, as kubectl reads a custom-columns spec.
fn custom_columns(spec: &str) -> Result<Vec<(String, Template)>> {
    if spec.is_empty() {
        return Err(Error::Input(
            "custom-columns format specified but no custom columns given".into(),
        ));
    }
    spec.split(',')
        .map(|column| {
            let (header, path) = column.split_once(':').ok_or_else(|| {
                Error::Input(format!(
                    "unexpected custom-columns spec: {column}, expected <header>:<json-path-expr>"
                ))
            })?;
            let template = Template::relaxed(path).map_err(|e| Error::Input(e.0))?;
            Ok((header.to_string(), template))
        })
        .collect()
}
