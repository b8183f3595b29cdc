//! `kubectl initctl edit POD`: kubectl's editing loop with the guard in front of the server.
//! Refused changes never reach it; an init image change is planned, confirmed and made to run
//! (recreate a bare pod, or change the owner's template); a copy of the user's text is kept
//! whenever an edit is not applied.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::change::editor::{self, Editor};
use crate::change::follow::{self, Followed};
use crate::change::guard::{self, Classification};
use crate::change::plan::{self, Action, Ownership};
use crate::change::recreate::{self, RecreateOptions};
use crate::change::{backup, patch};
use crate::cli::{ChangeOpts, EditArgs, EditFormat};
use crate::cluster::owner;
use crate::cluster::{Cluster, Kind};
use crate::error::{Error, Result};
use crate::input::target::Target;
use crate::render::change;
use crate::session::{Environment, Session, Source};

/// Prints where the user's text was kept.
pub fn keep(err: &mut dyn Write, path: &Path) {
    let _ = writeln!(
        err,
        "A copy of your changes has been stored to \"{}\"",
        path.display()
    );
}

/// The cluster, the namespace and the pod name a pod-changing command works on.
pub fn pod_target<'a>(ctx: &'a Session, target: &str) -> Result<(&'a Cluster, String, String)> {
    let Source::Cluster(cluster) = &ctx.source else {
        return Err(Error::Input(
            "this command changes pods, so it needs a cluster, not -f; to classify a change offline use kubectl initctl check OLD NEW".into(),
        ));
    };
    let ns = ctx
        .namespaces
        .single()
        .ok_or_else(|| {
            Error::Input("a pod cannot be changed across all namespaces; use -n NAMESPACE".into())
        })?
        .to_string();
    let name = match Target::parse(target)? {
        Target::Pod(name) => name,
        Target::Workload(kind, name) => {
            return Err(Error::Input(format!(
                "edit works on a pod, not {}/{name}: to change the template use kubectl edit {}/{name}",
                kind.kind().to_lowercase(),
                kind.kind().to_lowercase()
            )));
        }
    };
    Ok((cluster, ns, name))
}

fn render(value: &Value, json: bool) -> Result<String> {
    if json {
        serde_json::to_string_pretty(value)
            .map(|s| s + "\n")
            .map_err(|e| Error::Input(e.to_string()))
    } else {
        crate::input::yaml::to_string(value).map_err(Error::Input)
    }
}

/// The parts of a pod an edit may change; status and server bookkeeping are not compared.
fn editable(pod: &Value) -> Value {
    let mut v = serde_json::json!({
        "metadata": pod.get("metadata").cloned().unwrap_or_default(),
        "spec": pod.get("spec").cloned().unwrap_or_default(),
    });
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in [
            "managedFields",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "uid",
        ] {
            meta.remove(key);
        }
    }
    v
}

fn parse_edited(text: &str, json: bool) -> std::result::Result<Value, String> {
    let stripped = editor::strip_comments(text);
    let docs = if json {
        crate::input::yaml::json_documents(&stripped)
    } else {
        crate::input::yaml::documents(&stripped)
    };
    match docs {
        Ok(mut docs) if docs.len() == 1 => Ok(docs.remove(0)),
        Ok(docs) => Err(format!("expected one object, found {}", docs.len())),
        Err(l) => Err(format!(
            "line {} column {}: {}",
            l.line, l.column, l.message
        )),
    }
}

/// Equal once comments and layout are ignored (kubectl compares the objects, not the text).
fn same(a: &str, b: &str, json: bool) -> bool {
    match (parse_edited(a, json), parse_edited(b, json)) {
        (Ok(x), Ok(y)) => x == y,
        _ => editor::strip_comments(a).trim() == editor::strip_comments(b).trim(),
    }
}

pub fn parse_timeout(opts: &ChangeOpts) -> Result<Duration> {
    Ok(crate::util::duration::parse_timeout(&opts.timeout)?.unwrap_or(Duration::from_secs(300)))
}

/// Asks before a change; never without a terminal.
pub fn confirm(opts: &ChangeOpts, env: &Environment, question: &str) -> Result<bool> {
    if opts.yes {
        return Ok(true);
    }
    if !env.interactive {
        return Err(Error::NotApplied(
            "not applied: there is no terminal to confirm on; run again with --yes to apply".into(),
        ));
    }
    dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
        .map_err(|e| Error::Input(format!("cannot ask for confirmation: {e}")))
}

pub async fn run(
    ctx: &Session,
    env: &Environment,
    args: &EditArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let (cluster, ns, name) = pod_target(ctx, &args.target)?;
    let live = cluster.get_json(Kind::Pod, &ns, &name).await?;
    let json = args.output == EditFormat::Json;
    let mut shown = live.clone();
    if let Some(meta) = shown.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    let original = render(&shown, json)?;
    let editor = Editor::resolve(env.editor.as_deref(), env.shell.as_deref());
    let mut reasons: Vec<(String, Vec<String>)> = Vec::new();
    let mut previous: Option<String> = None;
    let mut last_file: Option<PathBuf> = None;
    loop {
        let body = match &previous {
            Some(p) => format!("{}\n", editor::strip_comments(p)),
            None => original.clone(),
        };
        // kubectl writes no header into JSON, which has no comments.
        let text = if json {
            body
        } else {
            editor::header_with(&reasons) + &body
        };
        let path = editor::temp_file(&text, json)?;
        if let Some(old) = last_file.replace(path.clone()) {
            let _ = std::fs::remove_file(old);
        }
        if let Err(e) = editor.edit(&path) {
            keep(err, &path);
            return Err(e);
        }
        let edited = std::fs::read_to_string(&path).map_err(|source| Error::ReadFile {
            path: path.display().to_string(),
            source,
        })?;
        if let Some(prev) = &previous
            && same(prev, &edited, json)
        {
            keep(err, &path);
            return Err(Error::NotApplied(
                "Edit cancelled, no valid changes were saved.".into(),
            ));
        }
        if same(&original, &edited, json) {
            let _ = std::fs::remove_file(&path);
            let _ = writeln!(err, "Edit cancelled, no changes made.");
            return Ok(());
        }
        if editor::strip_comments(&edited).trim().is_empty() {
            let _ = std::fs::remove_file(&path);
            let _ = writeln!(err, "Edit cancelled, saved file was empty.");
            return Ok(());
        }
        let parsed = match parse_edited(&edited, json) {
            Ok(v) => v,
            Err(why) => {
                let _ = writeln!(err, "error: the edited file had a syntax error: {why}");
                reasons = vec![("The edited file had a syntax error".into(), vec![why])];
                if env.interactive {
                    previous = Some(edited);
                    continue;
                }
                keep(err, &path);
                return Err(Error::NotApplied(
                    "Edit cancelled, the edited file had a syntax error.".into(),
                ));
            }
        };
        let identity = |v: &Value| {
            (
                v.get("apiVersion").cloned(),
                v.get("kind").cloned(),
                v.pointer("/metadata/name").cloned(),
            )
        };
        if identity(&parsed) != identity(&live) {
            keep(err, &path);
            return Err(Error::NotApplied(
                "At least one of apiVersion, kind and name was changed".into(),
            ));
        }
        let classification = guard::classify(&live, &parsed);
        let entries = classification.entries();
        match classification {
            Classification::NoChange => {
                let _ = std::fs::remove_file(&path);
                let _ = writeln!(err, "Edit cancelled, no changes made.");
                return Ok(());
            }
            Classification::Rejected(violations) => {
                let _ = writeln!(
                    err,
                    "error: pods \"{name}\" is invalid: the API server would refuse this change"
                );
                change::write_violations(err, &violations)?;
                reasons = vec![(
                    format!("pods \"{name}\" was not valid"),
                    violations
                        .iter()
                        .map(|v| format!("{}: Forbidden: {}", v.path, v.rule))
                        .collect(),
                )];
                if env.interactive {
                    previous = Some(edited);
                    continue;
                }
                keep(err, &path);
                return Err(Error::NotApplied(format!(
                    "pods \"{name}\" was not changed: nothing was sent to the server"
                )));
            }
            Classification::Allowed(_) => {
                let _ = writeln!(err, "{}", change::diff(&entries));
                let _ = writeln!(err, "plan: patch pod/{name} in place (no restart)");
                if args.change.dry_run {
                    let _ = std::fs::remove_file(&path);
                    let _ = writeln!(err, "dry run: nothing was changed");
                    return Ok(());
                }
                return apply_patch(cluster, &ns, &name, &live, &parsed, &path, out, err).await;
            }
            Classification::InitImages { images, others } => {
                let _ = writeln!(err, "{}", change::diff(&entries));
                let ownership = owner::resolve(cluster, &live).await?;
                let typed: k8s_openapi::api::core::v1::Pod =
                    serde_json::from_value(live.clone())
                        .map_err(|e| Error::Input(format!("cannot read pod/{name}: {e}")))?;
                let p = plan::plan(&typed, &images, &others, args.restart, &ownership);
                for line in change::plan_lines(&p, &name, &ownership) {
                    let _ = writeln!(err, "{line}");
                }
                if let Action::Refuse { reason } = &p.action {
                    keep(err, &path);
                    return Err(Error::NotApplied(format!("not applied: {reason}")));
                }
                if args.change.dry_run {
                    let _ = std::fs::remove_file(&path);
                    let _ = writeln!(err, "dry run: nothing was changed");
                    return Ok(());
                }
                match confirm(&args.change, env, "Apply this change?") {
                    Ok(true) => {}
                    Ok(false) => {
                        keep(err, &path);
                        return Err(Error::NotApplied(
                            "Edit cancelled at the confirmation.".into(),
                        ));
                    }
                    Err(e) => {
                        keep(err, &path);
                        return Err(e);
                    }
                }
                return execute(
                    ctx, env, args, cluster, &ns, &name, &live, &parsed, &p.action, &ownership,
                    &path, out, err,
                )
                .await;
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn apply_patch(
    cluster: &Cluster,
    ns: &str,
    name: &str,
    live: &Value,
    edited: &Value,
    path: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let Some(body) = patch::two_way(&editable(live), &editable(edited)) else {
        let _ = std::fs::remove_file(path);
        let _ = writeln!(err, "Edit cancelled, no changes made.");
        return Ok(());
    };
    let mut body = patch::with_element_order(body, edited);
    // The resourceVersion read before editing: a pod changed meanwhile is a 409, not a merge.
    body["metadata"]["resourceVersion"] = live
        .pointer("/metadata/resourceVersion")
        .cloned()
        .unwrap_or_default();
    match cluster.patch_json(Kind::Pod, ns, name, &body).await {
        Ok(_) => {
            let _ = std::fs::remove_file(path);
            writeln!(out, "pod/{name} edited").map_err(Error::Output)
        }
        Err(e) => {
            keep(err, path);
            Err(e)
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn execute(
    ctx: &Session,
    env: &Environment,
    args: &EditArgs,
    cluster: &Cluster,
    ns: &str,
    name: &str,
    live: &Value,
    edited: &Value,
    action: &Action,
    ownership: &Ownership,
    path: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let timeout = parse_timeout(&args.change)?;
    let followed = match action {
        Action::Patch => {
            apply_patch(cluster, ns, name, live, edited, path, out, err).await?;
            Followed::Pod {
                namespace: ns.into(),
                name: name.into(),
            }
        }
        Action::Recreate => {
            let new = backup::for_create(edited, args.change.keep_node);
            let opts = RecreateOptions {
                state_dir: env.state_dir.as_deref(),
                stamp: stamp(ctx),
                timeout,
            };
            if let Err(e) = recreate::recreate(cluster, live, &new, &opts, err).await {
                keep(err, path);
                return Err(e);
            }
            let _ = std::fs::remove_file(path);
            writeln!(out, "pod/{name} recreated").map_err(Error::Output)?;
            Followed::Pod {
                namespace: ns.into(),
                name: name.into(),
            }
        }
        Action::OwnerTemplate {
            kind,
            name: owner_name,
            delete_pod,
        } => {
            let images = changed_images(live, edited);
            let template = serde_json::json!({"spec": {"template": {"spec": images}}});
            let workload = Kind::Workload(*kind);
            let replacements =
                follow::Replacements::of_workload(cluster, ns, *kind, owner_name).await?;
            if let Err(e) = cluster
                .patch_json(workload, ns, owner_name, &template)
                .await
            {
                keep(err, path);
                return Err(e);
            }
            let _ = std::fs::remove_file(path);
            writeln!(out, "{}/{owner_name} patched", kind.resource()).map_err(Error::Output)?;
            if *delete_pod {
                cluster.delete_pod_as_read(live).await?;
                writeln!(out, "pod/{name} deleted").map_err(Error::Output)?;
            }
            let expected = match ownership {
                Ownership::Workload { replicas, .. } => *replicas,
                _ => None,
            };
            replacements.followed(expected, image_list(edited))
        }
        Action::Refuse { reason } => return Err(Error::NotApplied(reason.clone())),
    };
    if args.change.wait {
        follow::follow(cluster, &followed, timeout, env.interactive, err).await?;
    }
    Ok(())
}

/// The strategic-merge fragment of a pod spec with the edited images of every container whose
/// image changed, for an owner's template.
fn changed_images(live: &Value, edited: &Value) -> Value {
    let mut spec = serde_json::Map::new();
    for list in ["initContainers", "containers"] {
        let old = live
            .pointer(&format!("/spec/{list}"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let changed: Vec<Value> = edited
            .pointer(&format!("/spec/{list}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|c| {
                !old.iter()
                    .any(|o| o.get("name") == c.get("name") && o.get("image") == c.get("image"))
            })
            .map(|c| serde_json::json!({"name": c.get("name"), "image": c.get("image")}))
            .collect();
        if !changed.is_empty() {
            spec.insert(list.into(), Value::Array(changed));
        }
    }
    Value::Object(spec)
}

/// Container name → image, for every container of the edited pod.
fn image_list(edited: &Value) -> Vec<(String, String)> {
    ["initContainers", "containers"]
        .iter()
        .flat_map(|list| {
            edited
                .pointer(&format!("/spec/{list}"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|c| {
            Some((
                c.get("name")?.as_str()?.to_string(),
                c.get("image")?.as_str()?.to_string(),
            ))
        })
        .collect()
}

/// Names backup files by the time of the command.
pub fn stamp(ctx: &Session) -> String {
    ctx.now.strftime("%Y%m%dT%H%M%SZ").to_string()
}
