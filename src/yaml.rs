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
        serde_saphyr::from_str_multiple(text).map_err(|e| locate_yaml(&e))?;
    Ok(docs
        .into_iter()
        .flatten()
        .filter(|d| !d.is_null())
        .collect())
}

/// Serialises a value as YAML, the way kubectl's `-o yaml` lays objects out.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, String> {
    serde_saphyr::to_string(value).map_err(|e| e.to_string())
}

/// The position of the first type error in `text` when read as `T`, for an object that failed
/// to convert after parsing. `item` selects `items[item]` of a `kind: List` document.
pub fn type_error_at<T: DeserializeOwned>(text: &str, item: Option<usize>) -> Option<Located> {
    let seed = Pick::<T> {
        item,
        marker: PhantomData,
    };
    if text.trim_start().starts_with(['{', '[']) {
        let mut de = serde_json::Deserializer::from_str(text);
        let err = seed.deserialize(&mut de).err()?;
        return Some(Located {
            line: err.line() as u64,
            column: err.column() as u64,
            message: strip_json_position(&err.to_string()),
        });
    }
    let err = serde_saphyr::with_deserializer_from_str(text, |de| seed.deserialize(de)).err()?;
    Some(locate_yaml(&err))
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
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        match self.item {
            None => T::deserialize(de).map(drop),
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
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a List object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                map.next_value_seed(NthItem::<T> {
                    n: self.n,
                    marker: PhantomData,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct NthItem<T> {
    n: usize,
    marker: PhantomData<T>,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for NthItem<T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for NthItem<T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while index < self.n {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
            index += 1;
        }
        seq.next_element::<T>()?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}
