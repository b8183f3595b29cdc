//! The edit guard: how an edit of a live pod would be treated, decided offline before anything is
//! sent. It is an independent statement of the API server's `ValidatePodUpdate` (section 2 of the
//! shared Kubernetes semantics reference; kubernetes/kubernetes
//! `pkg/apis/core/validation/validation.go`), sharpened where the server is vague: the server
//! answers any disallowed spec change with one `spec: Forbidden` and a Go struct diff, while the
//! guard names every offending field (`spec.initContainers[init-mydb].command`) and says what to
//! do instead.
//!
//! Decisions, beyond a literal port:
//! - Both pods are compared as the server would see them after decoding, defaulting and update
//!   admission (see [`server_view`]): a field the user deleted that defaulting puts back (e.g.
//!   `terminationMessagePath: /dev/termination-log`) is no change. `status` is ignored (the pod
//!   update strategy resets it), as are `managedFields`, `resourceVersion` (concurrency is the
//!   server's job), `generation` and `selfLink`.
//! - `metadata.uid`, `creationTimestamp`, `deletionTimestamp`, `deletionGracePeriodSeconds`,
//!   `namespace` and `generateName` left out of the edit are unchanged (the server or kubectl
//!   fills them in); a different value is refused as immutable. For `creationTimestamp` and
//!   `deletionTimestamp` the server would silently keep the old value rather than fail, and
//!   `generateName` only means something at create time: refusing says plainly that such an
//!   edit cannot take effect. A changed `apiVersion` or `kind` is refused with kubectl's own
//!   precondition message.
//! - Containers are compared by index, as the server munges by index. A permutation of the same
//!   names is reported once, as a reorder, and the containers are then compared by name so that
//!   other changes are still found; any other name difference is a rename at that index.
//! - Unlike the server, which stops at the first container list whose length changed, the guard
//!   keeps going through the rest of the pod so that one round trip reports every problem.
//! - What the server checks on any object (label syntax, toleration shape, …) is left to it; the
//!   guard decides what an *update* may change.

mod containers;
mod server_view;
mod spec;

use serde::Serialize;
use serde_json::{Map, Value, json};

use containers::List;
use server_view::View;

use crate::cluster::owner::controller_ref;

/// `ValidatePodUpdate`'s catch-all rule, with its list joined by "," and no space, as upstream.
const UPDATABLE_RULE: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

const IMMUTABLE_RULE: &str = "field is immutable";

/// `kubectl edit`'s precondition on the fields that identify the object.
const IDENTITY_RULE: &str = "At least one of apiVersion, kind and name was changed";

/// Metadata the server sets once; only its absence from an edit is harmless (it is refilled).
const IMMUTABLE_META: &[&str] = &[
    "namespace",
    "uid",
    "creationTimestamp",
    "generateName",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";
const APPARMOR_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

/// How an edit of a live pod would be treated, mirroring ValidatePodUpdate.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Classification {
    NoChange,
    /// Refused: the server would reject it (or it changes an init container other than its image).
    Rejected(Vec<Violation>),
    /// One or more init-container (incl. sidecar) image changes, possibly with other allowed changes.
    InitImages {
        images: Vec<ImageChange>,
        others: Vec<Change>,
    },
    /// Only allowed changes outside init containers (app images, labels, annotations,
    /// activeDeadlineSeconds, added tolerations, removed scheduling gates,
    /// terminationGracePeriodSeconds negative→1, and nodeSelector additions / node-affinity
    /// narrowing while the pod is gated).
    Allowed(Vec<Change>),
}

/// One field the update may not change, with the server's rule and a way forward.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    /// `spec.initContainers[init-mydb].command`, `spec.initContainers` (add/remove/reorder),
    /// `metadata.name`, `spec.tolerations`, …; containers by name, by index only if unnamed.
    pub path: String,
    /// The server's rule in its words (the detail of its field error).
    pub rule: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
    /// What to do instead.
    pub instead: String,
}

/// An init container's (or sidecar's) new image.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageChange {
    pub index: usize,
    pub name: String,
    pub sidecar: bool,
    pub old: String,
    pub new: String,
}

/// An allowed change, by path, with the values the server would compare.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub path: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

/// A `(path, old, new)` triple, as `render::change::diff` renders it.
pub type DiffEntry = (String, Option<Value>, Option<Value>);

impl Classification {
    /// What a diff should show: the offending fields of a rejection, else every change.
    pub(crate) fn entries(&self) -> Vec<DiffEntry> {
        match self {
            Classification::NoChange => Vec::new(),
            Classification::Rejected(violations) => violations
                .iter()
                .map(|v| (v.path.clone(), v.old.clone(), v.new.clone()))
                .collect(),
            Classification::InitImages { images, others } => images
                .iter()
                .map(|i| {
                    let path = format!("spec.initContainers[{}].image", label(&i.name, i.index));
                    (path, Some(json!(i.old)), Some(json!(i.new)))
                })
                .chain(others.iter().map(Change::entry))
                .collect(),
            Classification::Allowed(changes) => changes.iter().map(Change::entry).collect(),
        }
    }
}

impl Change {
    fn entry(&self) -> DiffEntry {
        (self.path.clone(), self.old.clone(), self.new.clone())
    }
}

/// Classifies the edit `live` → `edited` (both whole Pod objects as JSON).
pub fn classify(live: &Value, edited: &Value) -> Classification {
    let old = server_view::view(live, None);
    let new = server_view::view(edited, Some(live));
    let mut found = Verdicts::new(live);
    for key in ["apiVersion", "kind"] {
        if live.get(key) != edited.get(key) {
            found.reject(
                key,
                IDENTITY_RULE,
                live.get(key),
                edited.get(key),
                "keep apiVersion: v1 and kind: Pod; an edit cannot turn the pod into another object"
                    .into(),
            );
        }
    }
    metadata(&old, &new, &mut found);
    containers::compare(List::Init, &old, &new, &mut found);
    containers::compare(List::App, &old, &new, &mut found);
    spec::compare(&old, &new, &mut found);
    found.finish()
}

/// A container in a path: by name, by index only if unnamed.
fn label(name: &str, index: usize) -> String {
    if name.is_empty() {
        index.to_string()
    } else {
        name.to_string()
    }
}

/// What the guard decides about each changed field, gathered as it walks the pods.
struct Verdicts {
    violations: Vec<Violation>,
    images: Vec<ImageChange>,
    changes: Vec<Change>,
    /// The general way forward for a change a live pod cannot take; depends on its owner.
    recreate: String,
}

impl Verdicts {
    fn new(live: &Value) -> Verdicts {
        let recreate = match controller_ref(live) {
            Some((kind, name)) if kind == "Job" => format!(
                "a Job's pod template is immutable: create a new Job with the change instead of Job/{name}"
            ),
            Some((kind, name)) => {
                let above = if kind == "ReplicaSet" {
                    " (or the Deployment that owns it)"
                } else {
                    ""
                };
                format!(
                    "change the pod template of {kind}/{name}{above} instead, so that the pods it creates carry the change"
                )
            }
            None => {
                "recreate the pod with the new spec instead (kubectl initctl restart POD --from FILE)"
                    .to_string()
            }
        };
        Verdicts {
            violations: Vec::new(),
            images: Vec::new(),
            changes: Vec::new(),
            recreate,
        }
    }

    fn reject(
        &mut self,
        path: &str,
        rule: &str,
        old: Option<&Value>,
        new: Option<&Value>,
        instead: String,
    ) {
        self.violations.push(Violation {
            path: path.to_string(),
            rule: rule.to_string(),
            old: old.cloned(),
            new: new.cloned(),
            instead,
        });
    }

    fn change(&mut self, path: &str, old: Option<&Value>, new: Option<&Value>) {
        self.changes.push(Change {
            path: path.to_string(),
            old: old.cloned(),
            new: new.cloned(),
        });
    }

    /// `why` followed by the general way forward.
    fn recreate(&self, why: &str) -> String {
        format!("{why}; {}", self.recreate)
    }

    fn finish(self) -> Classification {
        if !self.violations.is_empty() {
            Classification::Rejected(self.violations)
        } else if !self.images.is_empty() {
            Classification::InitImages {
                images: self.images,
                others: self.changes,
            }
        } else if !self.changes.is_empty() {
            Classification::Allowed(self.changes)
        } else {
            Classification::NoChange
        }
    }
}

/// Keys of two objects, the first's order then the second's new keys.
fn union_keys<'a>(a: &'a Value, b: &'a Value) -> Vec<&'a str> {
    let mut keys: Vec<&str> = a
        .as_object()
        .into_iter()
        .flat_map(|m| m.keys().map(String::as_str))
        .collect();
    for k in b.as_object().into_iter().flat_map(Map::keys) {
        if !keys.contains(&k.as_str()) {
            keys.push(k);
        }
    }
    keys
}

fn metadata(old: &View, new: &View, found: &mut Verdicts) {
    for key in union_keys(&old.meta_cmp, &new.meta_cmp) {
        let (o, n) = (old.meta_cmp.get(key), new.meta_cmp.get(key));
        if o == n {
            continue;
        }
        let path = format!("metadata.{key}");
        let (o_shown, n_shown) = (old.meta_shown.get(key), new.meta_shown.get(key));
        if key == "name" || (IMMUTABLE_META.contains(&key) && n.is_some()) {
            let instead = match key {
                "name" | "namespace" | "generateName" => {
                    "create a new pod under the new name instead; this one keeps its identity until it is deleted"
                }
                _ => "leave it as it is: the API server sets it and keeps it",
            };
            found.reject(&path, IMMUTABLE_RULE, o_shown, n_shown, instead.into());
        } else if IMMUTABLE_META.contains(&key) {
            // Left out of the edit: the server (or kubectl, for the namespace) fills it back in.
        } else if key == "annotations" {
            annotations(o, n, o_shown, n_shown, found);
        } else {
            found.change(&path, o_shown, n_shown);
        }
    }
}

/// `ValidatePodSpecificAnnotationUpdates`: the mirror-pod and AppArmor annotations are fixed;
/// any other annotation may change.
fn annotations(
    o: Option<&Value>,
    n: Option<&Value>,
    o_shown: Option<&Value>,
    n_shown: Option<&Value>,
    found: &mut Verdicts,
) {
    let empty = Value::Object(Map::new());
    let (o, n) = (o.unwrap_or(&empty), n.unwrap_or(&empty));
    let protected = |k: &str| k == MIRROR_ANNOTATION || k.starts_with(APPARMOR_PREFIX);
    let mut other_changed = false;
    for key in union_keys(o, n) {
        let (ov, nv) = (o.get(key), n.get(key));
        if ov == nv {
            continue;
        }
        if !protected(key) {
            other_changed = true;
            continue;
        }
        let what = if key == MIRROR_ANNOTATION {
            "mirror pod annotation"
        } else {
            "AppArmor annotations"
        };
        let rule = if ov.is_some() {
            format!("may not remove or update {what}")
        } else {
            format!("may not add {what}")
        };
        found.reject(
            &format!("metadata.annotations[{key}]"),
            &rule,
            ov,
            nv,
            "leave this annotation as it is: it is fixed when the pod is created".into(),
        );
    }
    if other_changed {
        found.change("metadata.annotations", o_shown, n_shown);
    }
}

fn items(spec: &Value, key: &str) -> Vec<Value> {
    spec.get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn name_of(c: &Value) -> String {
    c.get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

#[cfg(test)]
mod tests;
