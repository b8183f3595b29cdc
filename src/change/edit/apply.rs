//! Carrying out an edit the guard allows: a patch in place, or for init images the plan's
//! action (patch, recreate, or the owner's template), confirmed first.

use std::io::Write;

use serde_json::Value;

use super::copy::EditCopy;
use super::{EditSession, InitImageEdit, text};
use crate::change::container_images;
use crate::change::context::stop_if_held;
use crate::change::follow::{Followed, Replacements};
use crate::change::patch;
use crate::change::plan::{self, Action, Ownership};
use crate::cluster::{Kind, owner};
use crate::error::{Error, Result};
use crate::input::target::WorkloadKind;
use crate::render::change;

const DRY_RUN: &str = "dry run: nothing was changed";

impl EditSession<'_> {
    /// Allowed changes outside init containers: a patch, as kubectl edit makes.
    pub(super) async fn patch_in_place(
        &self,
        edited: &Value,
        copy: EditCopy,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Result<()> {
        let _ = writeln!(err, "{}", change::patch_plan(&self.name));
        if self.change.opts.dry_run {
            return copy.discard_saying(err, DRY_RUN);
        }
        self.patch(edited, copy, out, err).await
    }

    /// Init image changes: the plan, then (confirmed) its action, then --wait.
    pub(super) async fn change_init_images(
        &self,
        edit: &InitImageEdit,
        copy: EditCopy,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Result<()> {
        let ownership = owner::resolve(self.change.cluster, &self.live).await?;
        let typed: k8s_openapi::api::core::v1::Pod = serde_json::from_value(self.live.clone())
            .map_err(|e| Error::Input(format!("cannot read pod/{}: {e}", self.name)))?;
        let plan = plan::for_edit(
            &typed,
            &edit.images,
            &edit.others,
            self.args.restart,
            &ownership,
        );
        for line in change::plan_lines(&plan, &self.name, &ownership) {
            let _ = writeln!(err, "{line}");
        }
        if let Action::Refuse { reason } = &plan.action {
            return copy.or_keep(
                err,
                Err(Error::NotApplied(format!("not applied: {reason}"))),
            );
        }
        if self.change.opts.dry_run {
            return copy.discard_saying(err, DRY_RUN);
        }
        let confirmed = self.change.confirm("Apply this change?").and_then(|yes| {
            yes.then_some(())
                .ok_or_else(|| Error::NotApplied("Edit cancelled at the confirmation.".into()))
        });
        copy.or_keep(err, confirmed)?;
        let timeout = self.change.timeout()?;
        let edited = &edit.edited;
        let followed = match &plan.action {
            Action::Patch => {
                self.patch(edited, copy, out, err).await?;
                self.this_pod()
            }
            Action::Recreate => {
                let recreated = self.change.recreate(&self.live, edited, timeout, err).await;
                let held = copy.or_keep(err, recreated)?;
                copy.discard();
                writeln!(out, "pod/{} recreated", self.name).map_err(Error::Output)?;
                stop_if_held(
                    held,
                    format!("pod/{} was recreated with your changes", self.name),
                )?;
                self.this_pod()
            }
            Action::OwnerTemplate {
                kind,
                name,
                delete_pod,
            } => {
                let replacements = self
                    .change_template(edited, *kind, name, copy, out, err)
                    .await?;
                if *delete_pod {
                    self.change.cluster.delete_pod_as_read(&self.live).await?;
                    writeln!(out, "pod/{} deleted", self.name).map_err(Error::Output)?;
                }
                let expected = match ownership {
                    Ownership::Workload { replicas, .. } => replicas,
                    _ => None,
                };
                replacements.followed(expected, container_images(edited))
            }
            Action::Refuse { reason } => return Err(Error::NotApplied(reason.clone())),
        };
        self.change.follow(&followed, timeout, err).await
    }

    fn this_pod(&self) -> Followed {
        Followed::Pod {
            namespace: self.change.namespace.clone(),
            name: self.name.clone(),
        }
    }

    /// The changed images go to the owner's pod template; returns the pods to follow.
    async fn change_template(
        &self,
        edited: &Value,
        kind: WorkloadKind,
        owner: &str,
        copy: EditCopy,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Result<Replacements> {
        let spec = text::changed_images(&self.live, edited);
        let template = serde_json::json!({"spec": {"template": {"spec": spec}}});
        let (cluster, ns) = (self.change.cluster, &self.change.namespace);
        let replacements = Replacements::of_workload(cluster, ns, kind, owner).await?;
        let patched = cluster
            .patch_json(Kind::Workload(kind), ns, owner, &template)
            .await;
        copy.or_keep(err, patched)?;
        copy.discard();
        writeln!(out, "{}/{owner} patched", kind.resource()).map_err(Error::Output)?;
        Ok(replacements)
    }

    /// The patch of the pod itself, against the version read before editing.
    async fn patch(
        &self,
        edited: &Value,
        copy: EditCopy,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Result<()> {
        let Some(body) = patch::two_way(&text::editable(&self.live), &text::editable(edited))
        else {
            return copy.discard_saying(err, "Edit cancelled, no changes made.");
        };
        let mut body = patch::with_element_order(body, edited);
        // The resourceVersion read before editing: a pod changed meanwhile is a 409, not a merge.
        body["metadata"]["resourceVersion"] = self
            .live
            .pointer("/metadata/resourceVersion")
            .cloned()
            .unwrap_or_default();
        let cluster = self.change.cluster;
        let patched = cluster
            .patch_json(Kind::Pod, &self.change.namespace, &self.name, &body)
            .await;
        copy.or_keep(err, patched)?;
        copy.discard();
        writeln!(out, "pod/{} edited", self.name).map_err(Error::Output)
    }
}
