//! `edit`'s session: kubectl's editing loop with the guard in front of the server. Refused
//! changes never reach it; an init image change is planned, confirmed and made to run
//! (recreate a bare pod, or change the owner's template); a copy of the user's text is kept
//! whenever an edit is not applied.

mod apply;
mod copy;
mod text;

use std::io::Write;

use serde_json::Value;

use crate::change::backup::shell_quoted;
use crate::change::context::ChangeContext;
use crate::change::editor::{self, Editor};
use crate::change::guard::{self, Change, Classification, DiffEntry, ImageChange};
use crate::change::plan::Ownership;
use crate::cli::{EditArgs, EditFormat};
use crate::cluster::{Kind, owner};
use crate::error::{Error, Result};
use crate::input::target::Target;
use crate::render::change;
use crate::session::{Environment, Session};

use copy::EditCopy;

/// One pod being edited, and how.
pub(crate) struct EditSession<'a> {
    change: ChangeContext<'a>,
    args: &'a EditArgs,
    name: String,
    /// The pod as read before editing.
    live: Value,
    json: bool,
}

/// Comments at the top of a reopened file: a heading, and its points.
type Reasons = Vec<(String, Vec<String>)>;

/// An edit of init container images, with the other allowed changes that come with it.
struct InitImageEdit {
    edited: Value,
    images: Vec<ImageChange>,
    others: Vec<Change>,
}

/// What one round in the editor came to.
enum Round {
    /// Nothing to apply: the copy goes, and this is said.
    Nothing(&'static str),
    /// Not applied, and not offered again: the copy stays. `guard`: the guard refused it (so
    /// a bare pod can be recreated from the copy instead).
    Refused {
        error: Error,
        guard: bool,
    },
    /// Reopen the editor with these reasons at the top.
    Reopen {
        reasons: Reasons,
        guard: bool,
    },
    /// Allowed changes outside init containers, patched in place.
    Patch(Value, Vec<DiffEntry>),
    InitImages(InitImageEdit, Vec<DiffEntry>),
}

impl<'a> EditSession<'a> {
    /// Reads the pod the target names.
    pub(crate) async fn open(
        session: &'a Session,
        env: &'a Environment,
        args: &'a EditArgs,
    ) -> Result<EditSession<'a>> {
        let change = ChangeContext::new(
            session,
            env,
            &args.change,
            "this command changes pods, so it needs a cluster, not -f; to classify a change offline use kubectl initctl check OLD NEW",
            "a pod cannot be changed across all namespaces; use -n NAMESPACE",
        )?;
        let name = match Target::parse(&args.target)? {
            Target::Pod(name) => name,
            Target::Workload(kind, name) => {
                let kind = kind.kind().to_lowercase();
                return Err(Error::Input(format!(
                    "edit works on a pod, not {kind}/{name}: to change the template use kubectl edit {kind}/{name}"
                )));
            }
        };
        let live = change
            .cluster
            .get_json(Kind::Pod, &change.namespace, &name)
            .await?;
        Ok(EditSession {
            change,
            args,
            name,
            live,
            json: args.output == EditFormat::Json,
        })
    }

    /// Edits until the change is applied, refused, or there is nothing to apply.
    pub(crate) async fn run(&self, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
        let mut shown = self.live.clone();
        if let Some(meta) = shown.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
        }
        let original = text::render(&shown, self.json)?;
        let env = self.change.env;
        let editor = Editor::resolve(env.editor.as_deref(), env.shell.as_deref());
        let mut reasons = Reasons::new();
        let mut previous: Option<(String, EditCopy)> = None;
        // Whether the guard refused the previous round (a reopen): saving it unchanged ends
        // the edit the same way as a refusal without a terminal.
        let mut refused_before = false;
        loop {
            let body = match &previous {
                Some((text, _)) => format!("{}\n", editor::strip_comments(text)),
                None => original.clone(),
            };
            // kubectl writes no header into JSON, which has no comments.
            let text = if self.json {
                body
            } else {
                editor::header_with(&reasons) + &body
            };
            let text = editor::with_line_endings(text, self.args.windows_line_endings);
            let copy = EditCopy::write(&text, self.json)?;
            let previous_text = previous.take().map(|(text, old_copy)| {
                old_copy.discard();
                text
            });
            copy.or_keep(err, editor.edit(copy.path()))?;
            let edited = copy.read()?;
            match self.review(&original, previous_text.as_deref(), &edited, err)? {
                Round::Nothing(why) => return copy.discard_saying(err, why),
                Round::Refused { error, guard } => {
                    let result = copy.or_keep(err, Err(error));
                    if guard || (refused_before && previous_text.is_some()) {
                        self.offer_recreate(copy.path(), err);
                    }
                    return result;
                }
                Round::Reopen {
                    reasons: why,
                    guard,
                } => {
                    reasons = why;
                    refused_before = guard;
                    previous = Some((edited, copy));
                }
                Round::Patch(edited, entries) => {
                    let _ = writeln!(err, "{}", change::diff(&entries));
                    return self.patch_in_place(&edited, copy, out, err).await;
                }
                Round::InitImages(edit, entries) => {
                    let _ = writeln!(err, "{}", change::diff(&entries));
                    return self.change_init_images(&edit, copy, out, err).await;
                }
            }
        }
    }

    /// What the user's text amounts to, compared with the pod (and with the previous round).
    fn review(
        &self,
        original: &str,
        previous: Option<&str>,
        edited: &str,
        err: &mut dyn Write,
    ) -> Result<Round> {
        if let Some(previous) = previous
            && text::same(previous, edited, self.json)
        {
            return Ok(Round::Refused {
                error: Error::NotApplied("Edit cancelled, no valid changes were saved.".into()),
                guard: false,
            });
        }
        if text::same(original, edited, self.json) {
            return Ok(Round::Nothing("Edit cancelled, no changes made."));
        }
        if editor::strip_comments(edited).trim().is_empty() {
            return Ok(Round::Nothing("Edit cancelled, saved file was empty."));
        }
        let parsed = match text::parse_edited(edited, self.json) {
            Ok(v) => v,
            Err(why) => {
                let _ = writeln!(err, "error: the edited file had a syntax error: {why}");
                return Ok(self.reopen_or_refuse(
                    vec![("The edited file had a syntax error".into(), vec![why])],
                    "Edit cancelled, the edited file had a syntax error.".into(),
                    false,
                ));
            }
        };
        if text::identity(&parsed) != text::identity(&self.live) {
            return Ok(Round::Refused {
                error: Error::NotApplied(
                    "At least one of apiVersion, kind and name was changed".into(),
                ),
                guard: false,
            });
        }
        let classification = guard::classify(&self.live, &parsed);
        let entries = classification.entries();
        let name = &self.name;
        Ok(match classification {
            Classification::NoChange => Round::Nothing("Edit cancelled, no changes made."),
            Classification::Rejected(violations) => {
                let _ = writeln!(
                    err,
                    "error: pods \"{name}\" is invalid: the API server would refuse this change"
                );
                change::write_violations(err, &violations)?;
                let heading = format!("pods \"{name}\" was not valid");
                let points = violations.iter().map(change::forbidden).collect();
                self.reopen_or_refuse(
                    vec![(heading, points)],
                    format!("pods \"{name}\" was not changed: nothing was sent to the server"),
                    true,
                )
            }
            Classification::Allowed(_) => Round::Patch(parsed, entries),
            Classification::InitImages { images, others } => Round::InitImages(
                InitImageEdit {
                    edited: parsed,
                    images,
                    others,
                },
                entries,
            ),
        })
    }

    /// On a terminal the user gets another go; elsewhere the edit ends with `refusal`.
    fn reopen_or_refuse(&self, reasons: Reasons, refusal: String, guard: bool) -> Round {
        if self.change.env.interactive {
            Round::Reopen { reasons, guard }
        } else {
            Round::Refused {
                error: Error::NotApplied(refusal),
                guard,
            }
        }
    }

    /// After the guard refused an edit of a bare pod: the one command that recreates it from
    /// the kept copy (an owned pod's way forward, its template, was named with the refusal).
    fn offer_recreate(&self, copy: &std::path::Path, err: &mut dyn Write) {
        if owner::from_manifest(&self.live) != Ownership::Bare {
            return;
        }
        let _ = writeln!(
            err,
            "To recreate the pod with your changes: kubectl initctl restart {} -n {} --from {}",
            shell_quoted(&self.name),
            shell_quoted(&self.change.namespace),
            shell_quoted(&copy.display().to_string())
        );
    }
}
