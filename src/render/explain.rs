//! `explain` as readable text: one pod as a summary sentence, then each finding with its
//! evidence and next step; several pods as a summary of the scope, then one block per group of
//! pods (diagnosis::grouping), most pods first. Every text comes as `Untrusted`, which displays
//! escaped.

use std::io::{self, Write};

use k8s_openapi::jiff::SignedDuration;
use serde::Serialize;

use super::{Palette, Tone};
use crate::diagnosis::grouping::{Group, Tally, tally};
use crate::diagnosis::{Explanation, Finding, Severity};
use crate::status::report::API_VERSION;
use crate::util::duration;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExplanationList<'a> {
    api_version: &'static str,
    kind: &'static str,
    items: &'a [Explanation],
    groups: &'a [Group],
}

impl<'a> ExplanationList<'a> {
    pub fn new(items: &'a [Explanation], groups: &'a [Group]) -> Self {
        ExplanationList {
            api_version: API_VERSION,
            kind: "ExplanationList",
            items,
            groups,
        }
    }
}

/// Pod names a group's header lists before `and N more`.
const NAMES_SHOWN: usize = 3;
/// Causes the summary names before `and N more`, so it stays one screen.
const CAUSES_SHOWN: usize = 10;
/// Distinct STATUS values a group's header lists.
const STATUSES_SHOWN: usize = 3;

/// What a multi-pod text explanation shows: the scope and its groups.
pub struct Report<'a> {
    /// Pods the query returned, healthy ones included.
    pub in_scope: usize,
    pub explanations: &'a [Explanation],
    pub groups: &'a [Group],
}

/// Several pods: the scope's summary, then each group (a group of one pod in full).
pub fn write_report(out: &mut dyn Write, report: &Report, palette: Palette) -> io::Result<()> {
    write_summary(
        out,
        report.in_scope,
        &tally(report.explanations),
        report.groups.len(),
    )?;
    for g in report.groups {
        writeln!(out)?;
        if g.members.len() == 1 {
            write_pod(out, &report.explanations[g.representative()], palette)?;
        } else {
            write_group(out, g, report.explanations, palette)?;
        }
    }
    Ok(())
}

fn write_summary(out: &mut dyn Write, in_scope: usize, t: &Tally, groups: usize) -> io::Result<()> {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    writeln!(
        out,
        "{} in scope, {} to explain ({} blocked), in {}, most pods first:",
        plural(in_scope, "pod", "pods"),
        t.explained,
        t.blocked,
        plural(groups, "group", "groups"),
    )?;
    let stages: Vec<String> = t
        .by_stage
        .iter()
        .map(|(stage, n)| format!("{stage} {n}"))
        .collect();
    writeln!(out, "  by stage: {}", stages.join(", "))?;
    let mut causes: Vec<String> = t
        .by_cause
        .iter()
        .take(CAUSES_SHOWN)
        .map(|(code, n)| match code {
            Some(code) => format!("{code} {n}"),
            None => format!("(no finding) {n}"),
        })
        .collect();
    if t.by_cause.len() > CAUSES_SHOWN {
        let rest: usize = t.by_cause[CAUSES_SHOWN..].iter().map(|(_, n)| n).sum();
        causes.push(format!(
            "and {} more causes ({rest} pods)",
            t.by_cause.len() - CAUSES_SHOWN
        ));
    }
    writeln!(out, "  by cause: {}", causes.join(", "))
}

/// A group of pods: the owner, the count, a few names, how long, then the representative's
/// lead finding once.
fn write_group(
    out: &mut dyn Write,
    g: &Group,
    explanations: &[Explanation],
    palette: Palette,
) -> io::Result<()> {
    let members: Vec<&Explanation> = g.members.iter().map(|&m| &explanations[m]).collect();
    let rep = members[0];
    writeln!(
        out,
        "{} {}",
        palette.paint(Tone::Strong, &format!("{}/{}", g.owner.kind, g.owner.name)),
        palette.paint(
            Tone::Dim,
            &format!(
                "(namespace {}): {} pods, {}",
                g.namespace,
                members.len(),
                statuses(&members)
            )
        )
    )?;
    let mut names: Vec<String> = g
        .pods
        .iter()
        .take(NAMES_SHOWN)
        .map(ToString::to_string)
        .collect();
    if g.pods.len() > NAMES_SHOWN {
        names.push(format!("+{} more", g.pods.len() - NAMES_SHOWN));
    }
    writeln!(out, "  pods: {}", names.join(", "))?;
    writeln!(out, "  {}", stuck_for(g, &members))?;
    match rep.findings.first() {
        Some(lead) => write_finding(out, lead, palette)?,
        None => writeln!(out, "  {}", rep.summary)?,
    }
    let others: Vec<String> = rep.findings[1.min(rep.findings.len())..]
        .iter()
        .map(|f| format!("{} ({})", f.code, severity_word(f.severity)))
        .collect();
    let mut from = format!("evidence from pod/{}", rep.name);
    if !others.is_empty() {
        from.push_str(&format!(", which also has {}", others.join(", ")));
    }
    writeln!(
        out,
        "  {}",
        palette.paint(
            Tone::Dim,
            &format!(
                "({from}: kubectl initctl explain {} -n {})",
                rep.name, g.namespace
            )
        )
    )?;
    for note in &rep.notes {
        writeln!(out, "  {} {note}", palette.paint(Tone::Dim, "note:"))?;
    }
    Ok(())
}

/// The members' STATUS values, most common first: `Init:0/2 ×38, Init:Error ×2`.
fn statuses(members: &[&Explanation]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for e in members {
        match counts.iter_mut().find(|(s, _)| *s == e.status.raw()) {
            Some((_, n)) => *n += 1,
            None => counts.push((e.status.raw(), 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let shown: Vec<String> = counts
        .iter()
        .take(STATUSES_SHOWN)
        .map(|(status, n)| {
            let status = crate::util::sanitize::Untrusted::from(*status);
            if counts.len() == 1 {
                status.to_string()
            } else {
                format!("{status} ×{n}")
            }
        })
        .collect();
    let more = counts.len().saturating_sub(STATUSES_SHOWN);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// `Stuck in init for 2m10s to 3h`: the stage and the shortest and longest time in it.
fn stuck_for(g: &Group, members: &[&Explanation]) -> String {
    let phrase = g.stage_phrase;
    let times: Vec<i64> = members.iter().filter_map(|e| e.stuck_for_seconds).collect();
    let human = |s: i64| duration::human(SignedDuration::from_secs(s));
    match (times.iter().min(), times.iter().max()) {
        (Some(&lo), Some(&hi)) if human(lo) != human(hi) => {
            format!("{phrase} for {} to {}", human(lo), human(hi))
        }
        (Some(&lo), _) => format!("{phrase} for {}", human(lo)),
        _ => phrase.to_string(),
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Blocker => "blocker",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

fn write_finding(out: &mut dyn Write, f: &Finding, palette: Palette) -> io::Result<()> {
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
    writeln!(out, "    {} {}", palette.paint(Tone::Good, "next:"), f.next)
}

/// One pod in full: the summary sentence, every finding, the notes.
fn write_pod(out: &mut dyn Write, e: &Explanation, palette: Palette) -> io::Result<()> {
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
        write_finding(out, f, palette)?;
    }
    for note in &e.notes {
        writeln!(out, "  {} {note}", palette.paint(Tone::Dim, "note:"))?;
    }
    Ok(())
}

/// Every pod in full, one after another (one pod, or `--no-group`).
pub fn write_text(out: &mut dyn Write, items: &[Explanation], palette: Palette) -> io::Result<()> {
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        write_pod(out, e, palette)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::{FindingCode, Stage};

    fn pod(status: &str) -> Explanation {
        Explanation {
            namespace: "shop".into(),
            name: "p".into(),
            status: status.into(),
            stage: Stage::Init,
            stuck_for_seconds: None,
            summary: "Stuck in init.".into(),
            findings: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn the_summary_stays_one_screen() {
        let codes = [
            FindingCode::ServiceMissing,
            FindingCode::CrashLoopBackOff,
            FindingCode::ImagePullFailed,
            FindingCode::InvalidImageName,
            FindingCode::ContainerFailed,
            FindingCode::SchedulingGated,
            FindingCode::NotScheduled,
            FindingCode::Unschedulable,
            FindingCode::SandboxFailed,
            FindingCode::VolumeMountFailed,
            FindingCode::PodFailed,
            FindingCode::Terminating,
        ];
        let t = Tally {
            explained: 30,
            blocked: 30,
            by_stage: vec![("Stuck in init", 30)],
            by_cause: codes.iter().map(|c| (Some(*c), 2)).collect(),
        };
        let mut out = Vec::new();
        write_summary(&mut out, 1000, &t, 12).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(text.starts_with("1000 pods in scope, 30 to explain (30 blocked), in 12 groups"));
        assert!(text.contains("by stage: Stuck in init 30\n"), "{text}");
        assert!(
            text.ends_with("VolumeMountFailed 2, and 2 more causes (4 pods)\n"),
            "{text}"
        );
    }

    #[test]
    fn a_groups_statuses_are_counted_most_first() {
        let (a, b, c) = (pod("Init:0/2"), pod("Init:Error"), pod("Init:0/2"));
        assert_eq!(statuses(&[&a, &b, &c]), "Init:0/2 ×2, Init:Error ×1");
        assert_eq!(statuses(&[&a, &c]), "Init:0/2");
        let odd: Vec<Explanation> = (0..5).map(|i| pod(&format!("Init:{i}/5"))).collect();
        let odd: Vec<&Explanation> = odd.iter().collect();
        assert_eq!(
            statuses(&odd),
            "Init:0/5 ×1, Init:1/5 ×1, Init:2/5 ×1 and 2 more"
        );
        let hostile = pod("Init:\u{1b}[31mX");
        assert!(!statuses(&[&hostile]).contains('\u{1b}'), "escaped");
    }
}
