//! `status` output as pods arrive: table blocks page by page on columns fixed by the first
//! page, `-o name` and `-o custom-columns` lines likewise, or the `initctl/v1 InitStatusList`
//! document (and `-o jsonpath`) at the end; with `--sort-by`, everything at the end, sorted.
//! During a watch, one line (or document) per change.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::time::Instant;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::cluster::pod_query::Change;
use crate::diagnosis;
use crate::error::{Error, Result};
use crate::render::status::{TableLayout, TableOptions, TableRow, write_table};
use crate::render::watch_screen::{self, Screen};
use crate::render::{Columns, write_json, write_yaml};
use crate::session::Session;
use crate::status::report::{self, Detail, InitStatus, InitStatusList};
use crate::util::jsonpath::Template;
use crate::util::sanitize::Untrusted;

pub(crate) enum Format {
    Table {
        wide: bool,
    },
    Json,
    Yaml,
    /// `pod/NAME`, as kubectl's `-o name`.
    Name,
    /// `-o jsonpath=` / `jsonpath-as-json=`: over the list document, or over the one item
    /// when a single pod was named (as kubectl does).
    JsonPath {
        template: Template,
        as_json: bool,
        single: bool,
    },
    /// `-o custom-columns=HEADER:PATH,…`.
    Columns(Vec<(String, Template)>),
}

impl Format {
    /// Whether the output is one document written at the end.
    fn is_document(&self) -> bool {
        matches!(self, Format::Json | Format::Yaml | Format::JsonPath { .. })
    }
}

/// Collects rows and writes them: lines as they arrive, documents at the end.
pub(crate) struct StatusPrinter<'a> {
    out: &'a mut dyn Write,
    format: Format,
    /// None: decided by the first block (offline input spanning namespaces shows them).
    show_namespace: Option<bool>,
    headers_pending: bool,
    /// Pods already printed (queries can overlap; a LIST started over hands them again). Every
    /// pod of a listing is hashed: foldhash, not SipHash (seeded per process all the same).
    seen: foldhash::HashSet<(String, String)>,
    collected: Vec<InitStatus>,
    printed: usize,
    sort_by: Option<Template>,
    layout: TableLayout,
    columns: Columns,
    /// `--output-watch-events`: an EVENT column, ADDED for the listed pods.
    events: bool,
    /// During a watch: the last row of every pod, for deletions whose final state is unknown.
    last: Option<BTreeMap<(String, String), InitStatus>>,
    /// During a watch on a terminal: the table redrawn in place, and when it started.
    screen: Option<(Screen, Instant)>,
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
            seen: foldhash::HashSet::default(),
            collected: Vec::new(),
            printed: 0,
            sort_by: None,
            layout: TableLayout::default(),
            columns: Columns::default(),
            events: false,
            last: None,
            screen: None,
        }
    }

    /// `--sort-by`: rows are collected and written sorted at the end.
    pub(crate) fn sorted_by(mut self, template: Option<Template>) -> Self {
        self.sort_by = template;
        self
    }

    /// Ready for a watch after the list: the last rows are kept, and with `events` an EVENT
    /// column is shown.
    /// On a terminal (`in_place`), a table is then redrawn in place after every change.
    pub(crate) fn watching(mut self, watch: bool, events: bool, in_place: bool) -> Self {
        self.events = watch && events;
        self.last = watch.then(BTreeMap::new);
        if watch && in_place && matches!(self.format, Format::Table { .. }) {
            self.screen = Some((Screen::default(), Instant::now()));
        }
        self
    }

    /// Rows printed (or collected) so far.
    pub(crate) fn printed(&self) -> usize {
        self.printed
    }

    /// Whether a watch redraws the table in place (on a terminal).
    pub(crate) fn in_place(&self) -> bool {
        self.screen.is_some()
    }

    pub(crate) fn is_table(&self) -> bool {
        matches!(self.format, Format::Table { .. } | Format::Columns(_))
    }

    /// One page of pods: written at once, or collected for the end.
    pub(crate) fn block(&mut self, ctx: &Session, pods: Vec<Pod>) -> Result<()> {
        let detail = self.detail();
        let on_screen = self.screen.is_some();
        // Whether each new pod needs explaining, for the watch screen: taken beside its record,
        // so a pod printed before (and left out) cannot shift the flags onto other pods.
        let mut stuck = Vec::new();
        // By reference: a Pod is 2.4 KB, and moving each out of the page was 3% of the thread.
        let items: Vec<InitStatus> = pods
            .iter()
            .filter(|p| {
                self.seen.insert((
                    p.metadata.namespace.clone().unwrap_or_default(),
                    p.metadata.name.clone().unwrap_or_default(),
                ))
            })
            .map(|p| {
                if on_screen {
                    stuck.push(diagnosis::needs_explaining(p));
                }
                report::report(p, ctx.now, detail)
            })
            .collect();
        if items.is_empty() {
            return Ok(());
        }
        self.printed += items.len();
        self.show_namespace.get_or_insert_with(|| {
            items
                .iter()
                .map(|i| i.namespace.raw())
                .collect::<HashSet<_>>()
                .len()
                > 1
        });
        if let Some(last) = &mut self.last {
            for item in &items {
                last.insert(key(item), item.clone());
            }
        }
        if let Some((screen, _)) = &mut self.screen {
            for (item, stuck) in items.iter().zip(stuck) {
                screen.listed(item.clone(), stuck);
            }
        }
        if self.sort_by.is_some() || self.format.is_document() {
            self.collected.extend(items);
            return Ok(());
        }
        let event = self.events.then_some("ADDED");
        let rows: Vec<(&InitStatus, Option<&'static str>, bool)> =
            items.iter().map(|i| (i, event, false)).collect();
        self.lines(ctx, &rows)?;
        self.out.flush().map_err(Error::Output)
    }

    /// How much of each pod's record the output reads: a listing's plain table and names only
    /// the row (watching keeps whole records to compare, and documents, `-o wide`, custom
    /// columns and sorting read the rest).
    fn detail(&self) -> Detail {
        let row_only = matches!(self.format, Format::Table { wide: false } | Format::Name);
        match row_only && self.sort_by.is_none() && self.last.is_none() && self.screen.is_none() {
            true => Detail::Row,
            false => Detail::Full,
        }
    }

    /// Lines for rows of the streaming formats (table, name, custom-columns).
    fn lines(
        &mut self,
        ctx: &Session,
        rows: &[(&InitStatus, Option<&'static str>, bool)],
    ) -> Result<()> {
        let headers = std::mem::take(&mut self.headers_pending) && ctx.headers;
        let show_namespace = self.show_namespace.unwrap_or(false);
        match &self.format {
            Format::Table { wide } => {
                let opts = TableOptions {
                    show_namespace,
                    wide: *wide,
                    headers,
                    palette: ctx.palette,
                };
                let rows: Vec<TableRow> = rows
                    .iter()
                    .map(|(item, event, deleted)| TableRow {
                        item,
                        event: *event,
                        deleted: *deleted,
                    })
                    .collect();
                write_table(self.out, &rows, opts, ctx.now, &mut self.layout).map_err(Error::Output)
            }
            Format::Name => rows.iter().try_for_each(|(item, _, _)| {
                writeln!(self.out, "pod/{}", item.name).map_err(Error::Output)
            }),
            Format::Columns(columns) => {
                let mut table = Vec::with_capacity(rows.len() + 1);
                if headers {
                    table.push(columns.iter().map(|(h, _)| h.clone()).collect());
                }
                for (item, _, _) in rows {
                    table.push(custom_row(columns, &document(item, ctx.now))?);
                }
                for line in self.columns.lay_out(&table) {
                    writeln!(self.out, "{line}").map_err(Error::Output)?;
                }
                Ok(())
            }
            Format::Json | Format::Yaml | Format::JsonPath { .. } => Ok(()),
        }
    }

    /// The watch begins: on a terminal, the first frame.
    pub(crate) fn begin_watch(&mut self, ctx: &Session) -> Result<()> {
        self.layout.freeze();
        self.columns.freeze();
        self.redraw(ctx)
    }

    /// Draws the screen's frame in place, if there is a screen.
    fn redraw(&mut self, ctx: &Session) -> Result<()> {
        let Some((screen, started)) = &mut self.screen else {
            return Ok(());
        };
        let now = live_clock(ctx.now, *started);
        let opts = TableOptions {
            show_namespace: self.show_namespace.unwrap_or(false),
            wide: matches!(self.format, Format::Table { wide: true }),
            headers: true,
            palette: ctx.palette,
        };
        let height = console::Term::stdout()
            .size_checked()
            .map(|(rows, _)| usize::from(rows))
            .filter(|rows| *rows >= 5);
        let frame = watch_screen::in_place(&screen.frame(now, opts, height));
        self.out
            .write_all(frame.as_bytes())
            .map_err(Error::Output)?;
        self.out.flush().map_err(Error::Output)
    }

    /// A watch event: the pod's row again (a line, or one document per change); on a
    /// terminal, the table redrawn.
    pub(crate) fn event(&mut self, ctx: &Session, change: Change, pod: &Pod) -> Result<()> {
        if let Some((screen, started)) = &mut self.screen {
            let now = live_clock(ctx.now, *started);
            let item = report::report(pod, now, Detail::Full);
            match change {
                Change::Deleted => screen.deleted(item.namespace.raw(), item.name.raw(), now),
                _ => screen.changed(item, diagnosis::needs_explaining(pod), now),
            }
            self.printed += 1;
            return self.redraw(ctx);
        }
        let mut item = report::report(pod, ctx.now, Detail::Full);
        let deleted = change == Change::Deleted;
        if let Some(last) = &mut self.last {
            let key = key(&item);
            if deleted {
                // A pod deleted while the watch was down is known only by name: its last row.
                if let Some(before) = last.remove(&key)
                    && pod.metadata.resource_version.is_none()
                {
                    item = before;
                }
            } else {
                last.insert(key, item.clone());
            }
        }
        self.printed += 1;
        match &self.format {
            Format::Json => write_json(self.out, &item).map_err(Error::Output)?,
            Format::Yaml => writeln!(self.out, "---")
                .and_then(|_| write_yaml(self.out, &item))
                .map_err(Error::Output)?,
            Format::JsonPath {
                template, as_json, ..
            } => {
                let text = apply_template(template, *as_json, &document(&item, ctx.now))?;
                self.out.write_all(text.as_bytes()).map_err(Error::Output)?;
            }
            _ => {
                let event = self.events.then_some(change.label());
                self.lines(ctx, &[(&item, event, deleted)])?;
            }
        }
        self.out.flush().map_err(Error::Output)
    }

    /// Writes what was collected: the sorted rows, or the document.
    pub(crate) fn finish(&mut self, ctx: &Session) -> Result<()> {
        let mut items = std::mem::take(&mut self.collected);
        if let Some(template) = &self.sort_by {
            sort(&mut items, template, ctx.now)?;
        }
        match &self.format {
            Format::Json => {
                write_json(self.out, &InitStatusList::new(&items)).map_err(Error::Output)
            }
            Format::Yaml => {
                write_yaml(self.out, &InitStatusList::new(&items)).map_err(Error::Output)
            }
            Format::JsonPath {
                template,
                as_json,
                single,
            } => {
                let data = match (single, items.as_slice()) {
                    (true, [item]) => document(item, ctx.now),
                    _ => serde_json::to_value(InitStatusList::new(&items)).unwrap_or_default(),
                };
                let text = apply_template(template, *as_json, &data)?;
                self.out.write_all(text.as_bytes()).map_err(Error::Output)
            }
            _ if items.is_empty() => Ok(()),
            _ => {
                let event = self.events.then_some("ADDED");
                let rows: Vec<_> = items.iter().map(|i| (i, event, false)).collect();
                self.lines(ctx, &rows)
            }
        }?;
        self.out.flush().map_err(Error::Output)
    }
}

/// The session's clock (pinned in tests) moved on by the time the watch has run.
fn live_clock(start: Timestamp, started: Instant) -> Timestamp {
    let elapsed =
        k8s_openapi::jiff::SignedDuration::try_from(started.elapsed()).unwrap_or_default();
    start.checked_add(elapsed).unwrap_or(start)
}

fn key(item: &InitStatus) -> (String, String) {
    (
        item.namespace.raw().to_string(),
        item.name.raw().to_string(),
    )
}

/// The item as the `-o json` document holds it.
fn document(item: &InitStatus, _now: Timestamp) -> Value {
    serde_json::to_value(item).unwrap_or_default()
}

/// A template's output; values from the cluster are escaped like every table cell.
fn apply_template(template: &Template, as_json: bool, data: &Value) -> Result<String> {
    let input = |e: crate::util::jsonpath::TemplateError| Error::Input(e.0);
    if !as_json {
        return template
            .render_escaped(data, &|text| Untrusted::from(text).to_string())
            .map_err(input);
    }
    // jsonpath-as-json: each action's results as an indented JSON array, as kubectl prints them.
    let mut text = Vec::new();
    for results in template.find(data).map_err(input)? {
        let mut ser = serde_json::Serializer::with_formatter(
            &mut text,
            serde_json::ser::PrettyFormatter::with_indent(b"    "),
        );
        serde::Serialize::serialize(&results, &mut ser).map_err(|e| Error::Input(e.to_string()))?;
        text.push(b'\n');
    }
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// One custom-columns row: each column's values joined by commas, `<none>` where there is none.
fn custom_row(columns: &[(String, Template)], data: &Value) -> Result<Vec<String>> {
    columns
        .iter()
        .map(|(_, template)| {
            let values: Vec<String> = template
                .find(data)
                .map_err(|e| Error::Input(e.0))?
                .into_iter()
                .flatten()
                .map(|v| Untrusted::from(crate::util::jsonpath::to_text(&v)).to_string())
                .collect();
            Ok(if values.is_empty() {
                "<none>".to_string()
            } else {
                values.join(",")
            })
        })
        .collect()
}

/// kubectl's `--sort-by`: by the first value the path finds in each item, items without one
/// first; numbers by value, strings in natural order (`pod-2` before `pod-10`); stable. `age`
/// is a rounded text in the document, so it is sorted by the pod's creation time (youngest
/// first, as ascending ages read).
fn sort(items: &mut Vec<InitStatus>, template: &Template, now: Timestamp) -> Result<()> {
    let mut keyed: Vec<(Option<Value>, usize)> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let mut data = document(item, now);
        if let Some(created) = item.created {
            data["age"] = now.duration_since(created).as_secs().into();
        } else if let Some(map) = data.as_object_mut() {
            map.remove("age");
        }
        let first = template
            .find(&data)
            .map_err(|e| Error::Input(e.0))?
            .into_iter()
            .flatten()
            .next();
        keyed.push((first, i));
    }
    if items.len() > 1 && keyed.iter().all(|(k, _)| k.is_none()) {
        return Err(Error::Input(format!(
            "couldn't find any field with path {:?} in the list of objects",
            template.source()
        )));
    }
    keyed.sort_by(|(a, _), (b, _)| match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => sort_order(a, b),
    });
    let mut slots: Vec<Option<InitStatus>> = items.drain(..).map(Some).collect();
    items.extend(keyed.into_iter().filter_map(|(_, i)| slots[i].take()));
    Ok(())
}

fn sort_order(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => natural(x, y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// Natural order, as kubectl's sortorder.NaturalLess: runs of digits compare by value.
fn natural(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        let (Some(x), Some(y)) = (a.chars().next(), b.chars().next()) else {
            return a.len().cmp(&b.len());
        };
        if x.is_ascii_digit() && y.is_ascii_digit() {
            let run = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let (na, nb) = (&a[..run(a)], &b[..run(b)]);
            let (ta, tb) = (na.trim_start_matches('0'), nb.trim_start_matches('0'));
            let order = ta
                .len()
                .cmp(&tb.len())
                .then(ta.cmp(tb))
                .then(na.len().cmp(&nb.len()));
            if order != Ordering::Equal {
                return order;
            }
            (a, b) = (&a[na.len()..], &b[nb.len()..]);
        } else {
            if x != y {
                return x.cmp(&y);
            }
            (a, b) = (&a[x.len_utf8()..], &b[y.len_utf8()..]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::manifest::Inventory;
    use crate::render::Palette;
    use crate::session::{Namespaces, Source};
    use std::cmp::Ordering::*;

    fn pod(name: &str, ready: bool) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "shop",
                "creationTimestamp": "2026-11-27T11:00:00Z"},
            "spec": {"containers": [{"name": "app", "image": "nginx"}]},
            "status": {"phase": if ready { "Running" } else { "Pending" },
                "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}
        }))
        .unwrap()
    }

    #[test]
    fn a_pod_listed_twice_leaves_the_others_their_own_stuck_flags() {
        let ctx = Session {
            source: Source::Offline(Inventory::empty()),
            namespaces: Namespaces::All,
            labels: None,
            fields: None,
            now: "2026-11-27T12:00:00Z".parse().unwrap(),
            clock_note: None,
            palette: Palette { enabled: false },
            headers: true,
        };
        let mut out = Vec::new();
        let mut printer = StatusPrinter::new(&mut out, Format::Table { wide: false }, Some(true))
            .watching(true, false, true);
        // Overlapping queries: the stuck pod comes again, before a healthy one.
        printer.block(&ctx, vec![pod("stuck", false)]).unwrap();
        printer
            .block(&ctx, vec![pod("stuck", false), pod("fine", true)])
            .unwrap();
        let opts = TableOptions {
            show_namespace: false,
            wide: false,
            headers: true,
            palette: ctx.palette,
        };
        let (screen, _) = printer.screen.as_mut().unwrap();
        let frame = screen.frame(ctx.now, opts, None);
        assert!(frame.contains("2 pods, 1 stuck"), "{frame}");
    }

    #[test]
    fn natural_order_compares_numbers_by_value() {
        assert_eq!(natural("pod-2", "pod-10"), Less);
        assert_eq!(natural("pod-10", "pod-9"), Greater);
        assert_eq!(natural("a", "b"), Less);
        assert_eq!(natural("web", "web-0"), Less);
        assert_eq!(natural("x-01", "x-1"), Greater);
        assert_eq!(natural("same", "same"), Equal);
    }
}
