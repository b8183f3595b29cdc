//! `kubectl initctl status`: one row per pod, streamed page by page from a paginated LIST
//! (never a request per pod), optionally followed by a watch.

use std::io::Write;

use crate::cli::{StatusArgs, StatusOutput};
use crate::cluster::pod_query;
use crate::error::{Error, Result};
use crate::input::target::Target;
use crate::render::status_printer::{Format, StatusPrinter};
use crate::session::{Namespaces, Session, Source};

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
    let show_namespace = match ctx.namespaces {
        Namespaces::All => Some(true),
        Namespaces::One(_) => Some(false),
        Namespaces::AsInFiles => None,
    };
    let mut printer = StatusPrinter::new(out, format, show_namespace);
    if args.watch && matches!(ctx.source, Source::Offline(_)) {
        return Err(Error::Input(
            "--watch needs a cluster; it cannot be used with -f".into(),
        ));
    }
    let fetch = pod_query::fetch_pods(ctx, &queries, &mut |pods| printer.block(ctx, pods)).await?;
    printer.finish()?;
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
            .map(|(i, rv)| (&queries[i], rv))
            .collect();
        pod_query::watch(cluster, resume, &mut |pod| printer.event(ctx, pod)).await?;
    }
    Ok(())
}
