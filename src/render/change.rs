//! The changes `edit`, `restart` and `check` talk about, as text: diffs of fields, refused fields
//! and plans.

use std::io::Write;

use serde_json::{Value, json};
use similar::TextDiff;

use crate::change::guard::{Classification, DiffEntry, Violation};
use crate::change::plan::{Action, Effect, Ownership, Plan};
use crate::error::{Error, Result};
use crate::render::{Palette, Tone};
use crate::util::sanitize::Untrusted;

/// A unified diff (similar) of exactly the given paths' old and new values, as YAML-ish text with
/// a header line per path; for rendering rejections and plans. An absent value is empty text.
pub(crate) fn diff(violations_or_changes: &[DiffEntry]) -> String {
    let text = |v: &Option<Value>| {
        let Some(v) = v else {
            return String::new();
        };
        let mut t = crate::input::yaml::to_string(v).unwrap_or_else(|_| v.to_string());
        if !t.ends_with('\n') {
            t.push('\n');
        }
        t
    };
    let mut out = String::new();
    for (path, old, new) in violations_or_changes {
        let (old, new) = (text(old), text(new));
        let diff = TextDiff::from_lines(&old, &new);
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&format!("live {path}"), &format!("edited {path}"))
                .to_string(),
        );
    }
    out
}

/// The plan for allowed changes outside init containers.
pub(crate) fn patch_plan(pod: &str) -> String {
    format!(
        "plan: patch pod/{} in place (no restart)",
        Untrusted::from(pod)
    )
}

/// `check`'s verdict: the classification, then the refused fields, or the diff and the plan
/// (`planned`, for init image changes).
pub(crate) fn write_verdict(
    out: &mut dyn Write,
    palette: Palette,
    pod: &str,
    classification: &Classification,
    planned: Option<(&Plan, &Ownership)>,
) -> Result<()> {
    let mut lines = Vec::new();
    match classification {
        Classification::NoChange => lines.push("no change".to_string()),
        Classification::Rejected(violations) => {
            let verdict = "rejected: the API server would refuse this change";
            writeln!(out, "{}", palette.paint(Tone::Bad, verdict)).map_err(Error::Output)?;
            return write_violations(out, violations);
        }
        Classification::Allowed(_) => {
            lines.push("allowed: no init container changes".into());
            lines.push(diff(&classification.entries()));
            lines.push(patch_plan(pod));
        }
        Classification::InitImages { .. } => {
            lines.push("allowed: init container image change".into());
            lines.push(diff(&classification.entries()));
            if let Some((plan, ownership)) = planned {
                lines.extend(plan_lines(plan, pod, ownership));
            }
        }
    }
    for line in lines {
        writeln!(out, "{line}").map_err(Error::Output)?;
    }
    Ok(())
}

/// One refused field as the server words it: `PATH: Forbidden: RULE`.
pub(crate) fn forbidden(v: &Violation) -> String {
    format!("{}: Forbidden: {}", v.path, v.rule)
}

/// Each refused field: its path, the rule that refuses it, what to do instead, and its diff.
pub(crate) fn write_violations(out: &mut dyn Write, violations: &[Violation]) -> Result<()> {
    for v in violations {
        writeln!(out, "  {}", forbidden(v)).map_err(Error::Output)?;
        writeln!(out, "    instead: {}", v.instead).map_err(Error::Output)?;
    }
    let fields: Vec<_> = violations
        .iter()
        .map(|v| (v.path.clone(), v.old.clone(), v.new.clone()))
        .collect();
    writeln!(out, "{}", diff(&fields)).map_err(Error::Output)
}

/// The plan, as lines for the terminal. Names and images come from the cluster or the edited
/// file: each is shown as [`Untrusted`] (escaped), so none can break or forge a line.
pub(crate) fn plan_lines(plan: &Plan, pod: &str, ownership: &Ownership) -> Vec<String> {
    let pod = &Untrusted::from(pod);
    let mut lines = Vec::new();
    for i in &plan.images {
        let kind = if i.change.sidecar {
            "sidecar"
        } else {
            "init container"
        };
        let (tag, why) = match &i.effect {
            Effect::RunsByItself(why) => ("runs by itself", why),
            Effect::NeedsRestart(why) => ("needs a restart", why),
        };
        lines.push(format!(
            "{kind} {}: {} -> {} ({tag}: {})",
            Untrusted::from(i.change.name.as_str()),
            Untrusted::from(i.change.old.as_str()),
            Untrusted::from(i.change.new.as_str()),
            Untrusted::from(why.to_string()),
        ));
    }
    lines.push(match &plan.action {
        Action::Patch => patch_plan(pod.raw()),
        Action::Recreate => format!(
            "plan: recreate pod/{pod} from the edited manifest: back it up, delete it (only if unchanged), wait until it is gone, create it again"
        ),
        Action::OwnerTemplate { kind, name, delete_pod } => {
            let scope = match ownership {
                Ownership::Workload { replicas: Some(n), .. } => format!("{n} pod(s) will be replaced"),
                _ => "its pods will be replaced".to_string(),
            };
            let name = Untrusted::from(name.as_str());
            let mut line = format!("plan: change the pod template of {}/{name}: {scope}", kind.kind());
            if *delete_pod {
                line.push_str(&format!("; its update strategy is OnDelete, so pod/{pod} is deleted to come back with the new image"));
            }
            line
        }
        Action::Refuse { reason } => format!("refused: {}", Untrusted::from(reason.to_string())),
    });
    lines.extend(
        plan.warnings
            .iter()
            .map(|w| format!("warning: {}", Untrusted::from(w.to_string()))),
    );
    lines
}

/// `check -o json|yaml`: the verdict as a document (`initctl/v1 EditCheck`, docs/json-schema.md).
/// Values from the files are carried raw; the writers escape what a terminal must not see.
pub(crate) fn verdict_document(
    pod: &str,
    classification: &Classification,
    planned: Option<(&Plan, &Ownership)>,
) -> Value {
    let (name, allowed) = match classification {
        Classification::NoChange => ("noChange", true),
        Classification::Rejected(_) => ("rejected", false),
        Classification::InitImages { .. } => ("initImages", true),
        Classification::Allowed(_) => ("allowed", true),
    };
    let changes: Vec<Value> = classification
        .entries()
        .into_iter()
        .map(|(path, old, new)| json!({"path": path, "old": old, "new": new}))
        .collect();
    let violations = match classification {
        Classification::Rejected(v) => serde_json::to_value(v).unwrap_or_default(),
        _ => json!([]),
    };
    let plan = match (classification, planned) {
        (Classification::Allowed(_), _) => json!({"action": "patch", "restart": false,
            "images": [], "warnings": [], "text": [patch_plan(pod)]}),
        (_, Some((plan, ownership))) => plan_document(plan, pod, ownership),
        _ => Value::Null,
    };
    json!({"apiVersion": crate::status::report::API_VERSION, "kind": "EditCheck", "pod": pod,
        "classification": name, "allowed": allowed, "changes": changes,
        "violations": violations, "plan": plan})
}

fn plan_document(plan: &Plan, pod: &str, ownership: &Ownership) -> Value {
    let images: Vec<Value> = plan
        .images
        .iter()
        .map(|i| {
            let (effect, why) = match &i.effect {
                Effect::RunsByItself(why) => ("runsByItself", why),
                Effect::NeedsRestart(why) => ("needsRestart", why),
            };
            // 1-based, as `status` numbers init containers.
            json!({"index": i.change.index + 1, "name": i.change.name,
                "type": if i.change.sidecar { "sidecar" } else { "init" },
                "old": i.change.old, "new": i.change.new, "effect": effect, "why": why})
        })
        .collect();
    let mut doc = json!({"restart": plan.restart, "images": images, "warnings": plan.warnings,
        "text": plan_lines(plan, pod, ownership)
            .iter()
            .map(|l| Value::String(l.clone()))
            .collect::<Vec<_>>()});
    let action = match &plan.action {
        Action::Patch => json!({"action": "patch"}),
        Action::Recreate => json!({"action": "recreate"}),
        Action::OwnerTemplate {
            kind,
            name,
            delete_pod,
        } => json!({"action": "ownerTemplate",
            "owner": {"kind": kind.kind(), "name": name}, "deletePod": delete_pod}),
        Action::Refuse { reason } => json!({"action": "refuse", "reason": reason}),
    };
    if let (Some(doc), Some(action)) = (doc.as_object_mut(), action.as_object()) {
        for (k, v) in action {
            doc.insert(k.clone(), v.clone());
        }
    }
    doc
}
