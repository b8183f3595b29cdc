//! Offline input (`-f FILE`, `-` for stdin): YAML or JSON holding one object, a multi-document
//! stream, or a `kind: List` as `kubectl get … -o yaml|json` prints it. Every object keeps where
//! it came from, so a malformed one is reported as file:line:column.

use std::io::Read;
use std::path::Path;

use k8s_openapi::api::core::v1::Pod;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::input::yaml;

/// Where an object came from: the file, its document, and its index in a List.
#[derive(Debug, Clone)]
struct Origin {
    file: usize,
    document: usize,
    item: Option<usize>,
}

struct SourceFile {
    name: String,
    text: String,
    json: bool,
}

/// All objects read from the -f inputs, in file order.
pub struct Inventory {
    files: Vec<SourceFile>,
    objects: Vec<(Value, Origin)>,
}

impl Inventory {
    pub fn load(paths: &[impl AsRef<Path>], stdin: &mut dyn Read) -> Result<Inventory> {
        let mut inventory = Inventory {
            files: Vec::new(),
            objects: Vec::new(),
        };
        for path in paths {
            let path = path.as_ref();
            let (name, text) = if path == Path::new("-") {
                let mut text = String::new();
                stdin
                    .read_to_string(&mut text)
                    .map_err(|source| Error::ReadFile {
                        path: "<stdin>".into(),
                        source,
                    })?;
                ("<stdin>".to_string(), text)
            } else {
                let name = path.display().to_string();
                let text = std::fs::read_to_string(path).map_err(|source| Error::ReadFile {
                    path: name.clone(),
                    source,
                })?;
                (name, text)
            };
            inventory.add(name, text)?;
        }
        Ok(inventory)
    }

    /// Parses one input text; `name` is what errors call it.
    pub fn add(&mut self, name: String, text: String) -> Result<()> {
        let json = text.trim_start().starts_with('{');
        let parsed = if json {
            yaml::json_documents(&text)
        } else {
            yaml::documents(&text)
        };
        let documents = parsed.map_err(|l| Error::Parse {
            path: name.clone(),
            line: l.line,
            column: l.column,
            message: l.message,
        })?;
        let file = self.files.len();
        self.files.push(SourceFile { name, text, json });
        for (document, mut doc) in documents.into_iter().enumerate() {
            let kind = doc
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if kind.is_empty() {
                return Err(self.located(file, document, None, "object has no \"kind\"".into()));
            }
            let is_list = kind.ends_with("List") && doc.get("items").is_some_and(Value::is_array);
            // Only a list gives its items away; any other object keeps all its fields.
            let items = if is_list {
                doc.get_mut("items").map(Value::take)
            } else {
                None
            };
            match items {
                Some(Value::Array(items)) => {
                    // A typed list (PodList from the raw API) leaves kind/apiVersion off its items.
                    let item_kind = kind.trim_end_matches("List").to_string();
                    let list_version = doc.get("apiVersion").cloned();
                    for (i, mut item) in items.into_iter().enumerate() {
                        if let Value::Object(map) = &mut item {
                            if kind != "List" {
                                map.entry("kind")
                                    .or_insert(Value::String(item_kind.clone()));
                                if let Some(v) = &list_version {
                                    map.entry("apiVersion").or_insert(v.clone());
                                }
                            }
                        } else {
                            return Err(self.located(
                                file,
                                document,
                                Some(i),
                                "list item is not an object".into(),
                            ));
                        }
                        self.objects.push((
                            item,
                            Origin {
                                file,
                                document,
                                item: Some(i),
                            },
                        ));
                    }
                }
                _ => self.objects.push((
                    doc,
                    Origin {
                        file,
                        document,
                        item: None,
                    },
                )),
            }
        }
        Ok(())
    }

    /// The objects of one kind (e.g. "Pod", "Event", "Service"), as raw JSON.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.objects
            .iter()
            .filter(move |(v, _)| v.get("kind").and_then(Value::as_str) == Some(kind))
            .map(|(v, _)| v)
    }

    /// Every Pod, typed; a malformed one is an error that points into its file.
    pub fn pods(&self) -> Result<Vec<Pod>> {
        self.typed("Pod")
    }

    /// The objects of one kind, typed as `T`.
    pub fn typed<T: DeserializeOwned>(&self, kind: &str) -> Result<Vec<T>> {
        self.objects
            .iter()
            .filter(|(v, _)| v.get("kind").and_then(Value::as_str) == Some(kind))
            .map(|(v, origin)| T::deserialize(v).or_else(|e| self.reparse::<T>(origin, e)))
            .collect()
    }

    /// Reads a failing object again from its own text: YAML scalars are then taken as YAML
    /// means them (`uid: 1` is a string), and a real type error gets its file:line:column.
    fn reparse<T: DeserializeOwned>(&self, origin: &Origin, err: serde_json::Error) -> Result<T> {
        let file = &self.files[origin.file];
        let docs = if file.json {
            vec![(0, file.text.as_str())]
        } else {
            split_documents(&file.text)
        };
        let Some((first_line, text)) = docs.get(origin.document) else {
            return Err(self.located(origin.file, origin.document, origin.item, err.to_string()));
        };
        yaml::reparse::<T>(text, origin.item).map_err(|l| Error::Parse {
            path: file.name.clone(),
            line: l.line + *first_line as u64,
            column: l.column,
            message: l.message,
        })
    }

    /// An error for an object whose exact position is unknown: the start of its document.
    fn located(&self, file: usize, document: usize, item: Option<usize>, message: String) -> Error {
        let f = &self.files[file];
        let line = if f.json {
            1
        } else {
            split_documents(&f.text)
                .get(document)
                .map_or(1, |(l, _)| *l as u64 + 1)
        };
        let message = match item {
            Some(i) => format!("items[{i}]: {message}"),
            None => message,
        };
        Error::Parse {
            path: f.name.clone(),
            line,
            column: 1,
            message,
        }
    }
}

/// Splits a YAML stream at `---` document markers; each part with the 0-based line it starts on.
/// Only used to locate errors, after the whole stream has parsed.
fn split_documents(text: &str) -> Vec<(usize, &str)> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut start_line = 0;
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        if line.starts_with("---") && line[3..].trim().is_empty() || line.starts_with("--- ") {
            if !text[start..offset].trim().is_empty() {
                docs.push((start_line, &text[start..offset]));
            }
            start = offset + line.len();
            start_line = n + 1;
        }
        offset += line.len();
    }
    if !text[start..].trim().is_empty() {
        docs.push((start_line, &text[start..]));
    }
    docs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Inventory> {
        let mut inv = Inventory {
            files: Vec::new(),
            objects: Vec::new(),
        };
        inv.add("pods.yaml".into(), text.into())?;
        Ok(inv)
    }

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: c\n    image: busybox\n";

    #[test]
    fn reads_streams_and_lists() {
        let stream = format!("{POD}---\n{POD}");
        assert_eq!(load(&stream).unwrap().pods().unwrap().len(), 2);
        let list = format!(
            "apiVersion: v1\nkind: List\nitems:\n- {}",
            POD.lines().collect::<Vec<_>>().join("\n  ")
        );
        assert_eq!(load(&list).unwrap().pods().unwrap().len(), 1);
        let raw = r#"{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"a"}}]}"#;
        assert_eq!(
            load(raw).unwrap().pods().unwrap()[0]
                .metadata
                .name
                .as_deref(),
            Some("a")
        );
    }

    #[test]
    fn syntax_errors_are_located() {
        let err = load("kind: Pod\nmetadata:\n  name: [a\n")
            .err()
            .unwrap()
            .to_string();
        assert!(err.starts_with("pods.yaml:"), "{err}");
        let err = load("{\"kind\": \"Pod\",\n \"metadata\": }")
            .err()
            .unwrap()
            .to_string();
        assert!(err.starts_with("pods.yaml:2:"), "{err}");
    }

    #[test]
    fn type_errors_point_at_the_field() {
        let bad = format!(
            "{POD}---\n{}",
            POD.replace("  name: a\n", "  name: a\n  labels: [1]\n")
        );
        let err = load(&bad).unwrap().pods().err().unwrap().to_string();
        assert!(err.starts_with("pods.yaml:14:"), "{err}");
        let list = "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  metadata: {name: a}\n- kind: Pod\n  spec:\n    containers: 7\n";
        let err = load(list).unwrap().pods().err().unwrap().to_string();
        assert!(err.starts_with("pods.yaml:8:"), "{err}");
    }
}
