//! `explain` as readable text: per pod a summary sentence, then each finding with its evidence
//! and next step. Every text comes as `Untrusted`, which displays escaped.

use std::io::{self, Write};

use serde::Serialize;

use super::{Palette, Tone};
use crate::diagnosis::{Explanation, Severity};
use crate::status::report::API_VERSION;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExplanationList<'a> {
    api_version: &'static str,
    kind: &'static str,
    items: &'a [Explanation],
}

impl<'a> ExplanationList<'a> {
    pub fn new(items: &'a [Explanation]) -> Self {
        ExplanationList {
            api_version: API_VERSION,
            kind: "ExplanationList",
            items,
        }
    }
}

pub fn write_text(out: &mut dyn Write, items: &[Explanation], palette: Palette) -> io::Result<()> {
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "{} {}",
            palette.paint(Tone::Strong, &format!("pod/{}", e.name)),
            palette.paint(
                Tone::Dim,
                &format!("(namespace {}, {})", e.namespace, e.status)
            )
        )?;
        writeln!(out, "  {}", e.summary)?;
        for f in &e.findings {
            let (label, tone) = match f.severity {
                Severity::Blocker => ("BLOCKER", Tone::Bad),
                Severity::Warning => ("WARNING", Tone::Progress),
                Severity::Info => ("INFO", Tone::Dim),
            };
            writeln!(out)?;
            writeln!(
                out,
                "  {} {}  {}",
                palette.paint(tone, label),
                f.code,
                f.message
            )?;
            for line in &f.evidence {
                writeln!(out, "      {line}")?;
            }
            writeln!(out, "    {} {}", palette.paint(Tone::Good, "next:"), f.next)?;
        }
        for note in &e.notes {
            writeln!(out, "  {} {note}", palette.paint(Tone::Dim, "note:"))?;
        }
    }
    Ok(())
}
