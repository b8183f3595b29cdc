//! The only module that touches the YAML engine (serde-saphyr, kube's own). Everything else
//! sees `serde_json::Value` documents and located errors, so a swap is a one-file change.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserializer, Serialize};

/// A position in a text, 1-based as editors show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub line: u64,
    pub column: u64,
    pub message: String,
}

/// Every document of a YAML stream (JSON is YAML too), as JSON values. Empty documents are dropped.
pub fn documents(text: &str) -> Result<Vec<serde_json::Value>, Located> {
    let docs: Vec<Option<serde_json::Value>> =
        serde_saphyr::from_str_multiple_with_options(text, options_for(text))
            .map_err(|e| locate_yaml(&e))?;
    Ok(docs
        .into_iter()
        .flatten()
        .filter(|d| !d.is_null())
        .collect())
}

/// The engine's defaults cap a stream at 250,000 nodes and 1,024 documents to fend off hostile
/// input; a `kubectl get pods -A -o yaml` of a large cluster is far bigger than that. The size
/// limits here grow with the text the user gave us (a node or a document needs at least a
/// byte); the alias and anchor limits, which stop "billion laughs" expansions, stay as they are.
fn options_for(text: &str) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::budget::Budget::default();
    budget.max_nodes = budget.max_nodes.max(text.len());
    budget.max_events = budget.max_events.max(2 * text.len());
    budget.max_documents = budget.max_documents.max(text.len());
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(text.len());
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options
}

/// Serialises `text` as a double-quoted YAML scalar, whatever it holds.
pub(crate) fn double_quoted<S: serde::Serializer>(text: &str, ser: S) -> Result<S::Ok, S::Error> {
    serde_saphyr::DoubleQuoted(text).serialize(ser)
}

/// Serialises a value as YAML, the way kubectl's `-o yaml` lays objects out.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, String> {
    serde_saphyr::to_string(value).map_err(|e| e.to_string())
}

/// Reads one document (or `items[item]` of a `kind: List` document) as `T` straight from its
/// text, so that a type error carries the deserializer's own position. YAML is read as YAML:
/// a plain scalar such as `1` is accepted where a string is expected, as users write it.
pub fn reparse<T: DeserializeOwned>(text: &str, item: Option<usize>) -> Result<T, Located> {
    let seed = Pick::<T> {
        item,
        marker: PhantomData,
    };
    let missing = || Located {
        line: 1,
        column: 1,
        message: "list item not found".into(),
    };
    if text.trim_start().starts_with(['{', '[']) {
        let mut de = serde_json::Deserializer::from_str(text);
        return match seed.deserialize(&mut de) {
            Ok(v) => v.ok_or_else(missing),
            Err(e) => Err(Located {
                line: e.line() as u64,
                column: e.column() as u64,
                message: strip_json_position(&e.to_string()),
            }),
        };
    }
    match serde_saphyr::with_deserializer_from_str_with_options(text, options_for(text), |de| {
        seed.deserialize(de)
    }) {
        Ok(v) => v.ok_or_else(missing),
        Err(e) => Err(locate_yaml(&e)),
    }
}

/// A JSON syntax error, located.
pub fn json_documents(text: &str) -> Result<Vec<serde_json::Value>, Located> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<serde_json::Value>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Located {
            line: e.line() as u64,
            column: e.column() as u64,
            message: strip_json_position(&e.to_string()),
        })
}

fn strip_json_position(text: &str) -> String {
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text.to_string(),
    }
}

fn locate_yaml(err: &serde_saphyr::Error) -> Located {
    let (line, column) = err.location().map_or((0, 0), |l| (l.line(), l.column()));
    let rendered = err.without_snippet().to_string();
    let first = rendered
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    // The engine appends its own "at line X column Y"; the caller prints file:line:column.
    let message = match first.rfind(" at line ") {
        Some(i) => first[..i].to_string(),
        None => first,
    };
    Located {
        line,
        column,
        message,
    }
}

/// Deserialises the whole document as `T`, or only `items[n]` as `T` (the other items skipped),
/// so that the deserializer's own position is reported for the failing object.
struct Pick<T> {
    item: Option<usize>,
    marker: PhantomData<T>,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Pick<T> {
    type Value = Option<T>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Option<T>, D::Error> {
        match self.item {
            None => T::deserialize(de).map(Some),
            Some(n) => de.deserialize_map(ListVisitor::<T> {
                n,
                marker: PhantomData,
            }),
        }
    }
}

struct ListVisitor<T> {
    n: usize,
    marker: PhantomData<T>,
}

impl<'de, T: DeserializeOwned> Visitor<'de> for ListVisitor<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a List object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<T>, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                found = map.next_value_seed(NthItem::<T> {
                    n: self.n,
                    marker: PhantomData,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

struct NthItem<T> {
    n: usize,
    marker: PhantomData<T>,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for NthItem<T> {
    type Value = Option<T>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Option<T>, D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for NthItem<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<T>, A::Error> {
        for _ in 0..self.n {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(None);
            }
        }
        let found = seq.next_element::<T>()?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn large_dumps_fit_the_budget() {
        // More nodes than the engine's default cap of 250,000, as a big cluster's dump has.
        let text = format!("kind: List\nitems:\n{}", "- {a: 1}\n".repeat(130_000));
        let docs = super::documents(&text).unwrap();
        assert_eq!(docs[0]["items"].as_array().unwrap().len(), 130_000);
    }

    #[test]
    fn alias_bombs_are_still_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        assert!(super::documents(&text).is_err());
    }
}

#[cfg(test)]
mod round_trip {
    /// `edit` shows pods as YAML and compares what comes back: every realistic object must read
    /// back exactly as it was written (quoted "true"/"08"/"1.0" strings, block scalars, unicode).
    #[test]
    fn every_fixture_object_reads_back_as_written() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut checked = 0;
        for dir in ["pods", "explain"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_none_or(|e| e != "yaml") {
                    continue;
                }
                for doc in super::documents(&std::fs::read_to_string(&path).unwrap()).unwrap() {
                    let text = super::to_string(&doc).unwrap();
                    let back = super::documents(&text).unwrap();
                    assert_eq!(back, vec![doc], "{}", path.display());
                    checked += 1;
                }
            }
        }
        let tricky = serde_json::json!({"a": "true", "b": "08", "c": "1.0", "d": "line1\nline2\n", "e": "  lead", "f": "ü: x", "g": "", "h": null, "i": "~", "j": "0x1F"});
        assert_eq!(
            super::documents(&super::to_string(&tricky).unwrap()).unwrap(),
            vec![tricky]
        );
        assert!(checked > 60);
    }
}
