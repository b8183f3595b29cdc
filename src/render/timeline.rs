//! `timeline`: a pod's startup as bars on one time axis, a workload's as per-step percentiles,
//! and both as `initctl/v1` documents.

use std::io::{self, Write};

use k8s_openapi::jiff::SignedDuration;
use serde::Serialize;

use crate::render::{Columns, Palette, Tone};
use crate::status::startup_aggregate::{Spread, StartupAggregate};
use crate::status::startup_timeline::{StartupTimeline, Step, StepKind, StepState, container_key};
use crate::util::duration::human;
use crate::util::sanitize::{Untrusted, cut};

/// How the picture may be drawn: its width, whether block characters print, colours.
#[derive(Debug, Clone, Copy)]
pub struct Canvas {
    pub columns: usize,
    pub unicode: bool,
    pub palette: Palette,
}

/// The narrowest the bar area gets, however narrow the terminal.
const MIN_BAR: usize = 10;
/// Step names longer than this are cut in the picture (documents keep them whole).
const LABEL_MAX: usize = 28;

impl Canvas {
    fn glyph(&self, state: StepState) -> char {
        match (state, self.unicode) {
            (StepState::Done, true) => '█',
            (StepState::Running, true) => '▒',
            (StepState::Failed, true) => '░',
            (StepState::Done, false) => '#',
            (StepState::Running, false) => '=',
            (StepState::Failed, false) => 'x',
        }
    }

    fn instant(&self) -> char {
        if self.unicode { '▏' } else { '|' }
    }
}

/// A duration as people read it: tenths below 10 s (pulls are measured that finely), kubectl's
/// HumanDuration above.
pub fn seconds_text(secs: f64) -> String {
    if secs < 10.0 && secs.fract() != 0.0 {
        let tenths = (secs * 10.0).round() / 10.0;
        return format!("{tenths}s");
    }
    human(SignedDuration::from_secs(secs.round() as i64))
}

fn label(step: &Step) -> String {
    let subject = cut(step.subject.raw(), LABEL_MAX).into_owned();
    let subject = Untrusted::from(subject).to_string();
    match step.kind {
        StepKind::Sidecar => format!("{subject} [sidecar]"),
        _ if step.key.starts_with("previous/") => format!("{subject} (previous run)"),
        _ if step.key.starts_with("earlier/") => format!("{subject} (earlier runs)"),
        _ => subject,
    }
}

/// The bar of one step: `width` cells for `axis` seconds.
fn bar(canvas: &Canvas, step: &Step, axis: f64, width: usize) -> String {
    let cell = |secs: f64| ((secs / axis) * width as f64).clamp(0.0, width as f64);
    let from = cell(step.offset_seconds).floor() as usize;
    let to = cell(step.offset_seconds + step.duration_seconds).ceil() as usize;
    let from = from.min(width.saturating_sub(1));
    let mut text = " ".repeat(from);
    if step.duration_seconds <= 0.0 || to <= from {
        text.push(canvas.instant());
    } else {
        text.extend(std::iter::repeat_n(canvas.glyph(step.state), to - from));
    }
    text
}

fn tone(step: &Step, biggest: Option<&str>) -> Option<Tone> {
    let key = container_key(&step.key);
    match step.state {
        StepState::Failed => Some(Tone::Bad),
        StepState::Running => Some(Tone::Progress),
        StepState::Done if Some(key.as_str()) == biggest => Some(Tone::Strong),
        StepState::Done => None,
    }
}

/// One pod's picture.
pub fn write_pod(out: &mut dyn Write, t: &StartupTimeline, canvas: &Canvas) -> io::Result<()> {
    let p = canvas.palette;
    let when = match t.ready_at {
        Some(_) => format!("Ready after {}", seconds_text(t.total_seconds)),
        None => format!(
            "not Ready, {} since creation",
            seconds_text(t.total_seconds)
        ),
    };
    writeln!(
        out,
        "{}: {when} (created {})",
        p.paint(Tone::Strong, &format!("pod/{}", t.name)),
        t.created
    )?;
    writeln!(out)?;
    if t.steps.is_empty() {
        writeln!(out, "No steps recorded yet.")?;
    } else {
        write_steps(out, t, canvas)?;
    }
    writeln!(out)?;
    if let Some(b) = &t.biggest {
        let line = format!(
            "{}: {}% of {}",
            b.subject,
            b.percent,
            seconds_text(t.total_seconds)
        );
        writeln!(out, "Biggest contributor: {}", p.paint(Tone::Strong, &line))?;
    }
    for note in &t.notes {
        writeln!(out, "{}", p.paint(Tone::Dim, &format!("note: {note}")))?;
    }
    Ok(())
}

fn write_steps(out: &mut dyn Write, t: &StartupTimeline, canvas: &Canvas) -> io::Result<()> {
    let biggest = t.biggest.as_ref().map(|b| b.key.as_str());
    let mut rows = vec![vec!["STEP".to_string(), "START".into(), "TOOK".into()]];
    for s in &t.steps {
        rows.push(vec![
            label(s),
            format!("+{}", seconds_text(s.offset_seconds)),
            seconds_text(s.duration_seconds),
        ]);
    }
    let aligned = Columns::default().lay_out(&rows);
    let prefix = aligned
        .iter()
        .map(|l| console::measure_text_width(l))
        .max()
        .unwrap_or(0)
        + 3;
    let width = canvas.columns.saturating_sub(prefix).max(MIN_BAR);
    let axis = t
        .steps
        .iter()
        .map(|s| s.offset_seconds + s.duration_seconds)
        .fold(t.total_seconds, f64::max)
        .max(1.0);
    let end_label = seconds_text(axis);
    let gap = width.saturating_sub(2 + end_label.len()).max(1);
    writeln!(
        out,
        "{:prefix$}{}",
        aligned[0],
        canvas
            .palette
            .paint(Tone::Dim, &format!("0s{}{end_label}", " ".repeat(gap)))
    )?;
    for (s, line) in t.steps.iter().zip(&aligned[1..]) {
        let drawn = bar(canvas, s, axis, width);
        // Only the bar is coloured, not the space before it.
        let glyphs = drawn.trim_start_matches(' ');
        let lead = &drawn[..drawn.len() - glyphs.len()];
        let drawn = match tone(s, biggest) {
            Some(tone) => format!("{lead}{}", canvas.palette.paint(tone, glyphs)),
            None => drawn.clone(),
        };
        let pad = prefix - console::measure_text_width(line);
        let note = s
            .note
            .as_ref()
            .map(|n| format!("  {}", canvas.palette.paint(Tone::Dim, &n.to_string())))
            .unwrap_or_default();
        writeln!(out, "{line}{}{drawn}{note}", " ".repeat(pad))?;
    }
    Ok(())
}

/// A workload's pods, step by step.
pub fn write_aggregate(
    out: &mut dyn Write,
    target: &str,
    a: &StartupAggregate,
    canvas: &Canvas,
) -> io::Result<()> {
    let p = canvas.palette;
    let total = a
        .total_seconds
        .map(|s| {
            format!(
                "; startup p50 {}, p95 {}, max {}",
                seconds_text(s.p50),
                seconds_text(s.p95),
                seconds_text(s.max)
            )
        })
        .unwrap_or_default();
    writeln!(
        out,
        "{}: {} pods, {} Ready{total}",
        p.paint(Tone::Strong, target),
        a.pods,
        a.ready
    )?;
    writeln!(out)?;
    let spread = |s: &Spread| [s.p50, s.p95, s.max].map(seconds_text);
    let mut rows = vec![
        ["STEP", "PODS", "P50", "P95", "MAX", "FAILED", "SHARE"]
            .map(String::from)
            .to_vec(),
    ];
    for s in &a.steps {
        let [p50, p95, max] = spread(&s.seconds);
        let subject = Untrusted::from(cut(s.subject.raw(), LABEL_MAX).into_owned()).to_string();
        let subject = match s.kind {
            StepKind::Sidecar => format!("{subject} [sidecar]"),
            _ => subject,
        };
        let mut share = format!("{}%", s.share_percent);
        let cells = (s.share_percent as usize * MIN_BAR * 2).div_ceil(100);
        if cells > 0 {
            share.push(' ');
            share.extend(std::iter::repeat_n(canvas.glyph(StepState::Done), cells));
        }
        rows.push(vec![
            subject,
            s.pods.to_string(),
            p50,
            p95,
            max,
            s.failed.to_string(),
            share,
        ]);
    }
    for (i, line) in Columns::default().lay_out(&rows).iter().enumerate() {
        let failed = i > 0 && a.steps[i - 1].failed > 0;
        let line = if failed {
            p.paint(Tone::Bad, line)
        } else {
            line.clone()
        };
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    if let Some(s) = a
        .biggest
        .as_ref()
        .and_then(|k| a.steps.iter().find(|s| &s.key == k))
    {
        let line = format!(
            "{}: {}% of all startup time (p50 {})",
            s.subject,
            s.share_percent,
            seconds_text(s.seconds.p50)
        );
        writeln!(out, "Biggest contributor: {}", p.paint(Tone::Strong, &line))?;
    }
    for note in &a.notes {
        writeln!(out, "{}", p.paint(Tone::Dim, &format!("note: {note}")))?;
    }
    Ok(())
}

/// `initctl/v1 StartupTimeline`: one pod.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodDocument<'a> {
    api_version: &'static str,
    kind: &'static str,
    #[serde(flatten)]
    timeline: &'a StartupTimeline,
}

impl<'a> PodDocument<'a> {
    pub fn new(timeline: &'a StartupTimeline) -> Self {
        PodDocument {
            api_version: "initctl/v1",
            kind: "StartupTimeline",
            timeline,
        }
    }
}

/// `initctl/v1 StartupTimelineList`: a workload's pods and their aggregate.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadDocument<'a> {
    api_version: &'static str,
    kind: &'static str,
    target: &'a str,
    aggregate: &'a StartupAggregate,
    items: &'a [StartupTimeline],
}

impl<'a> WorkloadDocument<'a> {
    pub fn new(
        target: &'a str,
        aggregate: &'a StartupAggregate,
        items: &'a [StartupTimeline],
    ) -> Self {
        WorkloadDocument {
            api_version: "initctl/v1",
            kind: "StartupTimelineList",
            target,
            aggregate,
            items,
        }
    }
}
