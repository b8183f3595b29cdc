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

mod server_view;

use serde::Serialize;
use serde_json::{Map, Value, json};

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
    containers(List::Init, &old, &new, &mut found);
    containers(List::App, &old, &new, &mut found);
    spec_fields(&old, &new, &mut found);
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
                "recreate the pod with the new spec instead (kubectl initctl restart)".to_string()
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

#[derive(Clone, Copy, PartialEq)]
enum List {
    Init,
    App,
}

impl List {
    fn key(self) -> &'static str {
        match self {
            List::Init => "initContainers",
            List::App => "containers",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            List::Init => "init containers",
            List::App => "containers",
        }
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

/// `ValidateContainerUpdates` plus the by-index munging of images, field by field.
fn containers(list: List, old: &View, new: &View, found: &mut Verdicts) {
    let key = list.key();
    let path = format!("spec.{key}");
    let (o_shown, n_shown) = (items(&old.spec_shown, key), items(&new.spec_shown, key));
    if o_shown.len() != n_shown.len() {
        let why = format!("a pod's {} are fixed when it is created", list.noun());
        found.reject(
            &path,
            "pod updates may not add or remove containers",
            old.spec_shown.get(key),
            new.spec_shown.get(key),
            found.recreate(&why),
        );
        return;
    }
    let labels = o_shown
        .iter()
        .enumerate()
        .map(|(i, c)| label(&name_of(c), i))
        .collect();
    let lists = Containers {
        list,
        path,
        o_cmp: items(&old.spec_cmp, key),
        n_cmp: items(&new.spec_cmp, key),
        o_shown,
        n_shown,
        labels,
    };
    lists.image_values(found);
    for (i, j) in lists.pairs(found) {
        lists.compare(i, j, found);
    }
}

/// One container list of both pods, of the same length: as shown, and as compared.
struct Containers {
    list: List,
    /// `spec.initContainers` or `spec.containers`.
    path: String,
    o_shown: Vec<Value>,
    n_shown: Vec<Value>,
    o_cmp: Vec<Value>,
    n_cmp: Vec<Value>,
    /// Each live container's label in paths.
    labels: Vec<String>,
}

impl Containers {
    /// Every edited image must be a non-empty reference without surrounding whitespace.
    fn image_values(&self, found: &mut Verdicts) {
        for (i, c) in self.n_shown.iter().enumerate() {
            let image = c.get("image").and_then(Value::as_str).unwrap_or("");
            let rule = if image.is_empty() {
                "Required value"
            } else if image.trim() != image {
                "must not have leading or trailing whitespace"
            } else {
                continue;
            };
            found.reject(
                &format!("{}[{}].image", self.path, self.labels[i]),
                rule,
                self.o_shown[i].get("image"),
                c.get("image"),
                "set a non-empty image reference without surrounding whitespace".into(),
            );
        }
    }

    /// Pairs of (live index, edited index) to compare field by field: by index, or by name
    /// after a reorder (refused once, as a whole).
    fn pairs(&self, found: &mut Verdicts) -> Vec<(usize, usize)> {
        let o_names: Vec<String> = self.o_shown.iter().map(name_of).collect();
        let n_names: Vec<String> = self.n_shown.iter().map(name_of).collect();
        let mut sorted = (o_names.clone(), n_names.clone());
        sorted.0.sort();
        sorted.1.sort();
        let reordered =
            o_names != n_names && sorted.0 == sorted.1 && o_names.iter().all(|n| !n.is_empty());
        if !reordered {
            return (0..self.o_shown.len()).map(|i| (i, i)).collect();
        }
        let why = format!(
            "{} run in list order, which is fixed for the pod's lifetime",
            self.list.noun()
        );
        found.reject(
            &self.path,
            UPDATABLE_RULE,
            Some(&json!(o_names)),
            Some(&json!(n_names)),
            found.recreate(&why),
        );
        o_names
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n_names.iter().position(|m| m == n).map(|j| (i, j)))
            .collect()
    }

    /// Live container `i` against edited container `j`.
    fn compare(&self, i: usize, j: usize, found: &mut Verdicts) {
        let (o_shown, n_shown) = (&self.o_shown[i], &self.n_shown[j]);
        let (oc, nc) = (&self.o_cmp[i], &self.n_cmp[j]);
        let prefix = format!("{}[{}]", self.path, self.labels[i]);
        if oc.get("name") != nc.get("name") {
            found.reject(
                &format!("{prefix}.name"),
                UPDATABLE_RULE,
                o_shown.get("name"),
                n_shown.get("name"),
                found.recreate("a container's name is fixed for the pod's lifetime"),
            );
        }
        let image = |c: &Value| {
            c.get("image")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let sidecar = o_shown.get("restartPolicy").and_then(Value::as_str) == Some("Always");
        let (o_image, n_image) = (image(o_shown), image(n_shown));
        if o_image != n_image {
            match self.list {
                List::Init => found.images.push(ImageChange {
                    index: i,
                    name: name_of(o_shown),
                    sidecar,
                    old: o_image,
                    new: n_image,
                }),
                List::App => found.change(
                    &format!("{prefix}.image"),
                    o_shown.get("image"),
                    n_shown.get("image"),
                ),
            }
        }
        for field in union_keys(oc, nc) {
            if field == "name" || field == "image" || oc.get(field) == nc.get(field) {
                continue;
            }
            let instead =
                container_instead(self.list, self.list == List::Init && sidecar, field, found);
            found.reject(
                &format!("{prefix}.{field}"),
                UPDATABLE_RULE,
                o_shown.get(field),
                n_shown.get(field),
                instead,
            );
        }
    }
}

fn container_instead(list: List, sidecar: bool, field: &str, found: &Verdicts) -> String {
    match (list, field) {
        (List::Init, "resources") if !sidecar => found.recreate(
            "resources for non-sidecar init containers are immutable, even through the resize subresource",
        ),
        (_, "resources") => format!(
            "resize CPU and memory through the resize subresource (kubectl patch pod NAME --subresource resize --patch …), or {}",
            found.recreate
        ),
        (List::Init, _) => found.recreate("only the image of an init container can change on a live pod"),
        (List::App, _) => found.recreate("only the image of a container can change on a live pod"),
    }
}

/// Every spec field other than the container lists.
fn spec_fields(old: &View, new: &View, found: &mut Verdicts) {
    let gated = old
        .spec_cmp
        .get("schedulingGates")
        .and_then(Value::as_array)
        .is_some_and(|g| !g.is_empty());
    for key in union_keys(&old.spec_cmp, &new.spec_cmp) {
        let (o, n) = (old.spec_cmp.get(key), new.spec_cmp.get(key));
        if key == "initContainers" || key == "containers" || o == n {
            continue;
        }
        let (o_shown, n_shown) = (old.spec_shown.get(key), new.spec_shown.get(key));
        let path = format!("spec.{key}");
        match key {
            "activeDeadlineSeconds" => active_deadline(o, n, o_shown, n_shown, found),
            "tolerations" => tolerations(o, n, o_shown, n_shown, found),
            "schedulingGates" => scheduling_gates(o, n, o_shown, n_shown, found),
            "terminationGracePeriodSeconds" => {
                let (o, n) = (o.and_then(Value::as_i64), n.and_then(Value::as_i64));
                if o.is_some_and(|o| o < 0) && n == Some(1) {
                    found.change(&path, o_shown, n_shown);
                } else {
                    let instead = found.recreate(
                        "the grace period is fixed for a live pod (only a negative one may be set to 1); for a single deletion pass --grace-period to kubectl delete",
                    );
                    found.reject(&path, UPDATABLE_RULE, o_shown, n_shown, instead);
                }
            }
            "nodeSelector" if gated => {
                let empty = Map::new();
                let o_map = o.and_then(Value::as_object).unwrap_or(&empty);
                let n_map = n.and_then(Value::as_object).unwrap_or(&empty);
                if o_map.iter().all(|(k, v)| n_map.get(k) == Some(v)) {
                    found.change(&path, o_shown, n_shown);
                } else {
                    found.reject(
                        &path,
                        "only additions to spec.nodeSelector are allowed (no mutations or deletions)",
                        o_shown,
                        n_shown,
                        "while the pod is gated, only add node selector entries; keep the existing ones".into(),
                    );
                }
            }
            "affinity" => affinity(old, new, gated, found),
            "ephemeralContainers" => found.reject(
                &path,
                UPDATABLE_RULE,
                o_shown,
                n_shown,
                "add an ephemeral container with kubectl debug (the ephemeralcontainers subresource); existing ones can never be changed or removed".into(),
            ),
            _ => {
                let why = match key {
                    "nodeName" => "the node is bound once, by the scheduler or at creation",
                    "nodeSelector" => "node selector entries can only be added while the pod has scheduling gates",
                    _ => "only the fields the server lists may change on a live pod",
                };
                let instead = found.recreate(why);
                found.reject(&path, UPDATABLE_RULE, o_shown, n_shown, instead);
            }
        }
    }
}

fn active_deadline(
    o: Option<&Value>,
    n: Option<&Value>,
    o_shown: Option<&Value>,
    n_shown: Option<&Value>,
    found: &mut Verdicts,
) {
    const PATH: &str = "spec.activeDeadlineSeconds";
    let (o, n) = (o.and_then(Value::as_i64), n.and_then(Value::as_i64));
    let rule = match (o, n) {
        // The update check allows 0..=MaxInt32; the spec check on every write requires ≥ 1.
        (_, Some(n)) if !(0..=i64::from(i32::MAX)).contains(&n) => {
            "must be between 0 and 2147483647, inclusive"
        }
        (_, Some(0)) => "must be between 1 and 2147483647, inclusive",
        (Some(o), Some(n)) if n > o => "must be less than or equal to previous value",
        (Some(_), None) => "must not update from a positive integer to nil value",
        (_, Some(_)) => {
            found.change(PATH, o_shown, n_shown);
            return;
        }
        // Present but not an integer: the server could not even decode it.
        (None, None) => UPDATABLE_RULE,
    };
    found.reject(
        PATH,
        rule,
        o_shown,
        n_shown,
        "set it only from unset to a positive value, or lower it".into(),
    );
}

/// `validateOnlyAddedTolerations`: every stored toleration must still be there, compared
/// without its `tolerationSeconds`.
fn tolerations(
    o: Option<&Value>,
    n: Option<&Value>,
    o_shown: Option<&Value>,
    n_shown: Option<&Value>,
    found: &mut Verdicts,
) {
    let strip = |list: Option<&Value>| -> Vec<Value> {
        list.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|t| {
                let mut t = t.clone();
                if let Some(m) = t.as_object_mut() {
                    m.shift_remove("tolerationSeconds");
                }
                t
            })
            .collect()
    };
    let (o_list, n_list) = (strip(o), strip(n));
    if o_list.iter().all(|t| n_list.contains(t)) {
        found.change("spec.tolerations", o_shown, n_shown);
    } else {
        found.reject(
            "spec.tolerations",
            "existing toleration can not be modified except its tolerationSeconds",
            o_shown,
            n_shown,
            "keep every existing toleration (only its tolerationSeconds may change) and add new ones beside them".into(),
        );
    }
}

/// `validateOnlyDeletedSchedulingGates`: gates can only be removed (in any order).
fn scheduling_gates(
    o: Option<&Value>,
    n: Option<&Value>,
    o_shown: Option<&Value>,
    n_shown: Option<&Value>,
    found: &mut Verdicts,
) {
    let names = |list: Option<&Value>| -> Vec<String> {
        list.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(name_of)
            .collect()
    };
    let old_names = names(o);
    let mut added = false;
    for (i, name) in names(n).into_iter().enumerate() {
        if !old_names.contains(&name) {
            added = true;
            found.reject(
                &format!("spec.schedulingGates[{i}].name"),
                &format!("only deletion is allowed, but found new scheduling gate '{name}'"),
                None,
                Some(&json!(name)),
                found.recreate("scheduling gates can only be removed from a pod"),
            );
        }
    }
    if !added {
        found.change("spec.schedulingGates", o_shown, n_shown);
    }
}

/// Pod (anti-)affinity is fixed; required node affinity may be narrowed while the pod is gated
/// (`validateNodeAffinityMutation`), and then the rest of node affinity may change with it.
fn affinity(old: &View, new: &View, gated: bool, found: &mut Verdicts) {
    let part = |v: &View, cmp: bool, key: &str| {
        let spec = if cmp { &v.spec_cmp } else { &v.spec_shown };
        spec.get("affinity").and_then(|a| a.get(key)).cloned()
    };
    let (o_aff, n_aff) = (
        old.spec_cmp.get("affinity").cloned().unwrap_or(json!({})),
        new.spec_cmp.get("affinity").cloned().unwrap_or(json!({})),
    );
    for key in union_keys(&o_aff, &n_aff) {
        if key == "nodeAffinity" || o_aff.get(key) == n_aff.get(key) {
            continue;
        }
        let instead =
            found.recreate("pod affinity and anti-affinity are fixed for a pod's lifetime");
        found.reject(
            &format!("spec.affinity.{key}"),
            UPDATABLE_RULE,
            part(old, false, key).as_ref(),
            part(new, false, key).as_ref(),
            instead,
        );
    }
    let (o_na, n_na) = (
        part(old, true, "nodeAffinity"),
        part(new, true, "nodeAffinity"),
    );
    if o_na == n_na {
        return;
    }
    const PATH: &str = "spec.affinity.nodeAffinity";
    let (o_shown, n_shown) = (
        part(old, false, "nodeAffinity"),
        part(new, false, "nodeAffinity"),
    );
    if !gated {
        let instead =
            found.recreate("node affinity can only be narrowed while the pod has scheduling gates");
        found.reject(
            PATH,
            UPDATABLE_RULE,
            o_shown.as_ref(),
            n_shown.as_ref(),
            instead,
        );
        return;
    }
    let terms = |na: &Option<Value>| -> Option<Vec<Value>> {
        let required = na
            .as_ref()?
            .get("requiredDuringSchedulingIgnoredDuringExecution")?;
        Some(items(required, "nodeSelectorTerms"))
    };
    let terms_path =
        format!("{PATH}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms");
    let instead = "while the pod is gated, only add match expressions or fields to the existing node selector terms";
    let before = found.violations.len();
    if let Some(old_terms) = terms(&o_na) {
        let new_terms = terms(&n_na).unwrap_or_default();
        if !old_terms.is_empty() && old_terms.len() != new_terms.len() {
            found.reject(
                &terms_path,
                "no additions/deletions to non-empty NodeSelectorTerms list are allowed",
                Some(&json!(old_terms)),
                Some(&json!(new_terms)),
                instead.into(),
            );
        } else {
            for (i, (o_term, n_term)) in old_terms.iter().zip(&new_terms).enumerate() {
                if !only_additions(o_term, n_term) {
                    found.reject(
                        &format!("{terms_path}[{i}]"),
                        "only additions are allowed (no mutations or deletions)",
                        Some(o_term),
                        Some(n_term),
                        instead.into(),
                    );
                }
            }
        }
    }
    if found.violations.len() == before {
        found.change(PATH, o_shown.as_ref(), n_shown.as_ref());
    }
}

/// `validateNodeSelectorTermHasOnlyAdditions`: each requirement list keeps its old entries as a
/// prefix; an empty term must stay empty.
fn only_additions(old: &Value, new: &Value) -> bool {
    let lists = ["matchExpressions", "matchFields"];
    if lists.iter().all(|l| items(old, l).is_empty())
        && lists.iter().any(|l| !items(new, l).is_empty())
    {
        return false;
    }
    lists.iter().all(|l| {
        let (o, n) = (items(old, l), items(new, l));
        n.len() >= o.len() && n[..o.len()] == o[..]
    })
}

#[cfg(test)]
mod tests;
