//! `status` output as pods arrive: table blocks page by page (and a row per watch event), or
//! the `initctl/v1 InitStatusList` document at the end.

use std::collections::HashSet;
use std::io::Write;

use k8s_openapi::api::core::v1::Pod;

use crate::error::{Error, Result};
use crate::render::status::{TableOptions, write_table};
use crate::render::{write_json, write_yaml};
use crate::session::Session;
use crate::status::report::{self, InitStatus, InitStatusList};

pub(crate) enum Format {
    Table { wide: bool },
    Json,
    Yaml,
}

/// Collects rows and writes them: table blocks as they arrive, documents at the end.
pub(crate) struct StatusPrinter<'a> {
    out: &'a mut dyn Write,
    format: Format,
    /// None: decided by the first block (offline input spanning namespaces shows them).
    show_namespace: Option<bool>,
    headers_pending: bool,
    seen: HashSet<(String, String)>,
    collected: Vec<InitStatus>,
    printed: usize,
}

impl StatusPrinter<'_> {
    pub(crate) fn block(&mut self, ctx: &Session, pods: Vec<Pod>) -> Result<()> {
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
                .map(|i| i.namespace.raw())
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
    pub(crate) fn event(&mut self, ctx: &Session, pod: &Pod) -> Result<()> {
        match self.format {
            Format::Table { .. } => {
                self.seen.clear();
                self.block(ctx, vec![pod.clone()])
            }
            Format::Json => write_json(self.out, &report::report(pod, ctx.now))
                .and_then(|()| self.out.flush())
                .map_err(Error::Output),
            Format::Yaml => {
                let doc = report::report(pod, ctx.now);
                writeln!(self.out, "---")
                    .and_then(|_| write_yaml(self.out, &doc))
                    .and_then(|()| self.out.flush())
                    .map_err(Error::Output)
            }
        }
    }

    pub(crate) fn finish(&mut self) -> Result<()> {
        let list = InitStatusList::new(&self.collected);
        match self.format {
            Format::Json => write_json(self.out, &list),
            Format::Yaml => write_yaml(self.out, &list),
            Format::Table { .. } => Ok(()),
        }
        .map_err(Error::Output)
    }
}

impl<'a> StatusPrinter<'a> {
    /// `show_namespace`: None lets the first block decide (offline input spanning namespaces
    /// shows them).
    pub(crate) fn new(
        out: &'a mut dyn Write,
        format: Format,
        show_namespace: Option<bool>,
    ) -> StatusPrinter<'a> {
        StatusPrinter {
            out,
            format,
            show_namespace,
            headers_pending: true,
            seen: HashSet::new(),
            collected: Vec::new(),
            printed: 0,
        }
    }

    /// Rows printed (or collected) so far.
    pub(crate) fn printed(&self) -> usize {
        self.printed
    }

    pub(crate) fn is_table(&self) -> bool {
        matches!(self.format, Format::Table { .. })
    }
}
