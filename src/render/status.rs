//! The `status` table: kubectl's columns with INIT and CURRENT, and in wide mode one indented
//! line per init container.

use std::io::{self, Write};

use k8s_openapi::jiff::Timestamp;

use super::{Columns, Palette, Tone};
use crate::status::init_timeline::{InitContainerState, InitKind, RunState};
use crate::status::report::InitStatus;
use crate::util::duration;
use crate::util::sanitize::Untrusted;

#[derive(Debug, Clone, Copy)]
pub struct TableOptions {
    pub show_namespace: bool,
    pub wide: bool,
    pub headers: bool,
    pub palette: Palette,
}

const HEADER: [&str; 7] = [
    "NAME", "READY", "STATUS", "INIT", "CURRENT", "RESTARTS", "AGE",
];
const INIT_HEADER: [&str; 10] = [
    "#",
    "INIT CONTAINER",
    "TYPE",
    "STATE",
    "REASON",
    "EXIT",
    "RESTARTS",
    "STARTED",
    "DURATION",
    "IMAGE",
];
const INDENT: &str = "  ";

/// A row of the table: the pod, and for a watch the change that brought it.
#[derive(Debug, Clone, Copy)]
pub struct TableRow<'a> {
    pub item: &'a InitStatus,
    /// The EVENT column (`--output-watch-events`): ADDED, MODIFIED or DELETED.
    pub event: Option<&'static str>,
    /// The pod is gone: its last row, with STATUS `Deleted`.
    pub deleted: bool,
}

/// The columns of a table printed block by block: fixed by the first block (see
/// [`Columns`]), so a long listing stays aligned from page to page and watch lines line up
/// with the header.
#[derive(Debug, Default, Clone)]
pub struct TableLayout {
    pods: Columns,
    inits: Columns,
}

impl TableLayout {
    /// Watch lines from now on: the columns stay as the listing left them.
    pub fn freeze(&mut self) {
        self.pods.freeze();
        self.inits.freeze();
    }
}

/// Writes one block of rows (a page, or one watch event) on the layout's columns.
/// `headers` should be true for the first block only.
pub fn write_table(
    out: &mut dyn Write,
    rows: &[TableRow],
    opts: TableOptions,
    now: Timestamp,
    layout: &mut TableLayout,
) -> io::Result<()> {
    let mut pod_rows = Vec::with_capacity(rows.len() + 1);
    let mut init_rows = Vec::new();
    let events = rows.iter().any(|r| r.event.is_some());
    if opts.headers {
        let mut header: Vec<String> = HEADER.iter().map(|s| s.to_string()).collect();
        if opts.show_namespace {
            header.insert(0, "NAMESPACE".into());
        }
        if events {
            header.insert(0, "EVENT".into());
        }
        pod_rows.push(header);
        if opts.wide {
            init_rows.push(
                INIT_HEADER
                    .iter()
                    .map(|s| opts.palette.paint(Tone::Dim, s))
                    .collect(),
            );
        }
    }
    for row in rows {
        let mut cells = pod_row(row.item, opts, now);
        if row.deleted {
            let status = usize::from(opts.show_namespace) + 2;
            cells[status] = opts.palette.paint(Tone::Dim, "Deleted");
        }
        if let Some(event) = row.event {
            // As wide as the widest event from the start, so later events keep the columns.
            cells.insert(0, format!("{event:<8}"));
        }
        pod_rows.push(cells);
        if opts.wide {
            init_rows.extend(
                row.item
                    .init_containers
                    .iter()
                    .map(|c| init_row(c, opts.palette, now)),
            );
        }
    }
    let pods = layout.pods.lay_out(&pod_rows);
    let inits = layout.inits.lay_out(&init_rows);
    let mut inits = inits.iter();
    let mut pods = pods.iter();
    // The block as one text, written once: line by line, each line and its break went through
    // the terminal writer's escaping on their own (a tenth of the table's time at 10k pods).
    let mut text = String::with_capacity(pods.len() * 128);
    let mut line = |indent: &str, line: &str| {
        text.push_str(indent);
        text.push_str(line);
        text.push('\n');
    };
    if opts.headers {
        line("", pods.next().map(String::as_str).unwrap_or_default());
        if opts.wide {
            line(INDENT, inits.next().map(String::as_str).unwrap_or_default());
        }
    }
    for (row, pod) in rows.iter().zip(pods) {
        line("", pod);
        if opts.wide {
            for sub in inits.by_ref().take(row.item.init_containers.len()) {
                line(INDENT, sub);
            }
        }
    }
    out.write_all(text.as_bytes())
}

fn pod_row(item: &InitStatus, opts: TableOptions, now: Timestamp) -> Vec<String> {
    // Every cell quoting the pod is `Untrusted`: shown escaped.
    let current = match (&item.init.current, &item.summary.current) {
        (Some(name), Some(c)) if c.sidecar => format!("{name} [sidecar]"),
        (Some(name), _) => name.to_string(),
        (None, _) => "-".to_string(),
    };
    // A manifest that never reached a cluster has no phase, so printPod's STATUS is empty; an
    // empty cell would shift the columns after it.
    let status = if item.status.is_empty() {
        "<none>".to_string()
    } else {
        item.status.to_string()
    };
    let mut row = vec![
        item.name.to_string(),
        item.ready.clone(),
        opts.palette.paint(status_tone(item.status.raw()), &status),
        format!("{}/{}", item.init.done, item.init.total),
        current,
        item.summary.restarts_column(now),
        item.age.clone(),
    ];
    if opts.show_namespace {
        row.insert(0, item.namespace.to_string());
    }
    row
}

fn init_row(c: &InitContainerState, palette: Palette, now: Timestamp) -> Vec<String> {
    let dash = || "-".to_string();
    let state = match c.state {
        RunState::Pending => "pending",
        RunState::Waiting => "waiting",
        RunState::Running => "running",
        RunState::Terminated => "terminated",
    };
    let failed = c.exit_code.is_some_and(|code| code != 0);
    let tone = match c.state {
        RunState::Terminated if !failed => Tone::Good,
        RunState::Running if c.kind == InitKind::Sidecar && c.started => Tone::Good,
        RunState::Waiting if c.reason.as_ref().is_some_and(|r| is_error_reason(r.raw())) => {
            Tone::Bad
        }
        RunState::Terminated => Tone::Bad,
        _ => Tone::Progress,
    };
    let exit_text = |code: i32, signal: Option<i32>| match signal {
        Some(sig) => format!("signal {sig}"),
        None => code.to_string(),
    };
    // A container waiting to restart shows how its previous run ended.
    let exit = match (c.exit_code, &c.last_termination) {
        (Some(code), _) => exit_text(code, c.signal),
        (None, Some(last)) => format!("{} (last)", exit_text(last.exit_code, last.signal)),
        (None, None) => dash(),
    };
    let image = if c.image_drift {
        let ran = c.ran_image.clone().unwrap_or_default();
        format!(
            "{} {}",
            c.image,
            palette.paint(Tone::Bad, &format!("[drift: ran {ran}]"))
        )
    } else {
        c.image.to_string()
    };
    vec![
        c.index.to_string(),
        c.name.to_string(),
        match c.kind {
            InitKind::Init => "init".into(),
            InitKind::Sidecar => "sidecar".into(),
        },
        palette.paint(tone, state),
        c.reason.as_ref().map_or_else(dash, Untrusted::to_string),
        exit,
        c.restarts.to_string(),
        c.started_at.map_or_else(dash, |t| {
            format!("{} ago", duration::human(now.duration_since(t)))
        }),
        c.duration_seconds.map_or_else(dash, |s| {
            duration::human(k8s_openapi::jiff::SignedDuration::from_secs(s))
        }),
        image,
    ]
}

fn is_error_reason(reason: &str) -> bool {
    [
        "Err",
        "BackOff",
        "Error",
        "Invalid",
        "OOMKilled",
        "ExitCode",
        "Signal",
        "Failed",
        "Evicted",
        "Unknown",
    ]
    .iter()
    .any(|bad| reason.contains(bad))
}

fn status_tone(status: &str) -> Tone {
    match status {
        "Running" | "Completed" | "Succeeded" => Tone::Good,
        s if is_error_reason(s) => Tone::Bad,
        _ => Tone::Progress,
    }
}
