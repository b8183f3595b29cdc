//! The container lists: `ValidateContainerUpdates`, the by-index munging of images, and the
//! reorder the server reports as one spec change.

use serde_json::{Value, json};

use super::server_view::View;
use super::{ImageChange, UPDATABLE_RULE, Verdicts, items, label, name_of, union_keys};

#[derive(Clone, Copy, PartialEq)]
pub(super) enum List {
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

/// `ValidateContainerUpdates` plus the by-index munging of images, field by field.
pub(super) fn compare(list: List, old: &View, new: &View, found: &mut Verdicts) {
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
