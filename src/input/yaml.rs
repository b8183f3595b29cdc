//! The only module that touches the YAML engine (serde-saphyr, kube's own). Everything else
//! sees documents of typed Pods and raw `serde_json::Value` objects, and located errors whose
//! messages are our own complete sentences, so a swap is a one-file change.
//!
//! Reading follows kubectl's: YAML 1.1 scalars (kubectl converts YAML to JSON with go-yaml v2,
//! where a plain `n`, `yes` or `off` is a boolean), then a typed reading that wants a string
//! where the API has a string. Keys must be unique within a mapping.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use serde_saphyr::budget::BudgetBreach;

use crate::input::newest::Newest;
use crate::input::pod_json::LeanPod;

/// A position in a text, 1-based as editors show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub line: u64,
    pub column: u64,
    pub message: String,
}

/// One object of the input: a Pod read into its type while the input streams by and kept as
/// compact JSON (so a large dump never exists as a tree of JSON values, nor as typed Pods, a
/// few times larger), or any other object as raw JSON.
pub enum Object {
    /// `named`: it has a non-empty `metadata.name`.
    Pod {
        json: Box<str>,
        named: bool,
        /// The newest time the Pod records.
        newest: Newest,
    },
    /// A Pod that does not read as its type: to be read again from its text, for the error.
    Unreadable,
    Raw(Value),
}

impl Object {
    pub fn into_value(self) -> Value {
        match self {
            Object::Pod { json, .. } => serde_json::from_str(&json).unwrap_or_default(),
            Object::Unreadable => Value::Null,
            Object::Raw(value) => value,
        }
    }
}

/// A top-level document: its own fields, and, when `items` is a sequence, its items as
/// objects, read one at a time. `TYPED` says whether Pods are typed as they are read.
pub enum Document<const TYPED: bool> {
    Empty,
    NotAnObject,
    Object {
        fields: Map<String, Value>,
        items: Option<Vec<Object>>,
    },
}

/// Every document of a YAML stream (JSON is YAML too), as JSON values. Empty documents are dropped.
pub fn documents(text: &str) -> Result<Vec<Value>, Located> {
    let docs: Vec<Option<Value>> =
        serde_saphyr::from_str_multiple_with_options(text, options_for(text, false))
            .map_err(|e| describe(&e, text))?;
    Ok(docs
        .into_iter()
        .flatten()
        .filter(|d| !d.is_null())
        .collect())
}

/// Every document of a JSON stream, as JSON values; a key set twice in a mapping is refused.
pub fn json_documents(text: &str) -> Result<Vec<Value>, Located> {
    let docs = serde_json::Deserializer::from_str(text)
        .into_iter::<Strict>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| json_located(&e))?;
    Ok(docs.into_iter().map(|s| s.0).collect())
}

/// A JSON value read with [`StrictValue`].
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        StrictValue.deserialize(de).map(Strict)
    }
}

/// Every document of a YAML stream as objects, Pods typed as they stream by if `TYPED`.
pub fn objects<const TYPED: bool>(text: &str) -> Result<Vec<Document<TYPED>>, Located> {
    match objects_cut::<TYPED>(text) {
        Some(docs) => Ok(docs),
        None => objects_whole::<TYPED>(text),
    }
}

fn objects_whole<const TYPED: bool>(text: &str) -> Result<Vec<Document<TYPED>>, Located> {
    let docs: Vec<Document<TYPED>> =
        serde_saphyr::from_str_multiple_with_options(text, options_for(text, false))
            .map_err(|e| describe(&e, text))?;
    Ok(docs
        .into_iter()
        .filter(|d| !matches!(d, Document::Empty))
        .collect())
}

/// A `kubectl -o yaml` list read as its head and its items apart (`input::yaml_split`), the
/// items on every core (`util::parallel`): the engine's parsing is nearly all of reading a large
/// YAML dump, and it reads one item as it would in the whole text. None, and the text is read
/// whole (which places any error), if it is not of that shape or a piece does not read alone.
fn objects_cut<const TYPED: bool>(text: &str) -> Option<Vec<Document<TYPED>>> {
    let cut = crate::input::yaml_split::cut(text)?;
    let mut docs = objects_whole::<TYPED>(&cut.head).ok()?;
    let [Document::Object { items, .. }] = docs.as_mut_slice() else {
        return None;
    };
    if !items.as_ref().is_some_and(Vec::is_empty) {
        return None;
    }
    let read = crate::util::parallel::try_map(&cut.items, |item| {
        let text = crate::input::yaml_split::item_document(item, cut.indent).ok_or(())?;
        let value = serde_saphyr::with_deserializer_from_str_with_options(
            &text,
            options_for(&text, false),
            |de| StrictValue.deserialize(de),
        )
        .map_err(|_| ())?;
        Ok::<_, ()>(object::<TYPED>(value))
    })
    .ok()?;
    *items = Some(read);
    Some(docs)
}

/// Every document of a JSON stream as objects, located on a syntax error.
pub fn json_objects<const TYPED: bool>(text: &str) -> Result<Vec<Document<TYPED>>, Located> {
    let docs = serde_json::Deserializer::from_str(text)
        .into_iter::<Document<TYPED>>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| json_located(&e))?;
    Ok(docs
        .into_iter()
        .filter(|d| !matches!(d, Document::Empty))
        .collect())
}

/// The budget of one input. The engine's defaults cap a stream at 250,000 nodes and 1,024
/// documents to fend off hostile input; a `kubectl get pods -A -o yaml` of a large cluster is
/// far bigger than that. The size limits here grow with the text the user gave us (a node or
/// a document needs at least a byte, and the text itself is capped, see `manifest`); the
/// alias and anchor limits, which stop "billion laughs" expansions, stay as they are.
fn budget_for(text: &str) -> serde_saphyr::Budget {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = budget.max_nodes.max(text.len());
    budget.max_events = budget.max_events.max(2 * text.len());
    budget.max_documents = budget.max_documents.max(text.len());
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(text.len());
    budget
}

/// `typed`: a plain scalar that YAML reads as a boolean, number or null is refused where the
/// type wants a string (`nodeName: n`), as the API server refuses what kubectl sends for it.
fn options_for(text: &str, typed: bool) -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget_for(text));
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    options.no_schema = typed;
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
/// text, so that a type error carries the deserializer's own position.
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
            Err(e) => Err(json_located(&e)),
        };
    }
    match serde_saphyr::with_deserializer_from_str_with_options(
        text,
        options_for(text, true),
        |de| seed.deserialize(de),
    ) {
        Ok(v) => v.ok_or_else(missing),
        Err(e) => Err(describe(&e, text)),
    }
}

pub(crate) fn json_located(e: &serde_json::Error) -> Located {
    let text = e.to_string();
    let message = match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    // serde_json counts a newline as column 0 of the next line; editors start at 1.
    Located {
        line: (e.line() as u64).max(1),
        column: (e.column() as u64).max(1),
        message,
    }
}

/// The engine's error as one complete sentence of ours, at the position it names. The engine's
/// own texts are written for programmers (they name its options) and may span several lines.
fn describe(err: &serde_saphyr::Error, text: &str) -> Located {
    use serde_saphyr::Error as E;
    let at = |loc: &serde_saphyr::Location| (loc.line(), loc.column());
    let (position, message) = match err {
        E::WithSnippet { error, .. } => return describe(error, text),
        E::AliasError {
            error, locations, ..
        } => {
            let inner = describe(error, text);
            let defined = &locations.defined_location;
            let (line, column) = at(&locations.reference_location);
            let line = if line == 0 { inner.line } else { line };
            let column = if line == 0 { inner.column } else { column };
            return Located {
                line,
                column,
                message: format!(
                    "{}, here through an alias of the anchor at line {}, column {}",
                    inner.message.trim_end_matches('.'),
                    defined.line(),
                    defined.column()
                ),
            };
        }
        E::DuplicateMappingKey { key, location } => (
            at(location),
            match key {
                Some(key) => {
                    format!("key {key:?} already set in this mapping: YAML keys must be unique")
                }
                None => "key already set in this mapping: YAML keys must be unique".into(),
            },
        ),
        E::QuotingRequired { value, location } => (at(location), quoting(value)),
        E::Budget { breach, location } => (at(location), breach_text(breach, &budget_for(text))),
        E::AliasReplayLimitExceeded {
            max_total_replayed_events,
            location,
            ..
        } => (
            at(location),
            format!(
                "aliases expand to more than {max_total_replayed_events} events, the limit that stops alias bombs"
            ),
        ),
        E::AliasExpansionLimitExceeded {
            max_expansions_per_anchor,
            location,
            ..
        } => (
            at(location),
            format!(
                "an anchor is used more than {max_expansions_per_anchor} times, the limit that stops alias bombs"
            ),
        ),
        E::AliasReplayStackDepthExceeded {
            max_depth,
            location,
            ..
        } => (
            at(location),
            format!("aliases nest more than {max_depth} deep, the limit that stops alias bombs"),
        ),
        E::InvalidUtf8Input => ((0, 0), "the input is not valid UTF-8".into()),
        other => (
            other.location().map_or((0, 0), |l| at(&l)),
            engine_text(other),
        ),
    };
    Located {
        line: position.0.max(1),
        column: position.1.max(1),
        message,
    }
}

/// What a budget breach means for the user, with the limit that was reached.
fn breach_text(breach: &BudgetBreach, budget: &serde_saphyr::Budget) -> String {
    let over = |what: &str, limit: usize| {
        format!("the input holds more than {limit} {what}, the most offline input may hold")
    };
    match breach {
        BudgetBreach::Nodes { .. } => format!(
            "the YAML expands to more than {} nodes (values, lists and maps), the most it may hold for its size; aliases that expand without end are refused",
            budget.max_nodes
        ),
        BudgetBreach::Events { .. } => format!(
            "the YAML expands to more than {} parser events, the most it may hold for its size; aliases that expand without end are refused",
            budget.max_events
        ),
        BudgetBreach::Aliases { .. } => over("aliases (*name)", budget.max_aliases),
        BudgetBreach::Anchors { .. } => over("anchors (&name)", budget.max_anchors),
        BudgetBreach::Depth { .. } => over("levels of nesting", budget.max_depth),
        BudgetBreach::Documents { .. } => over("documents", budget.max_documents),
        BudgetBreach::ScalarBytes { .. } => {
            over("bytes of scalar text", budget.max_total_scalar_bytes)
        }
        BudgetBreach::MergeKeys { .. } => over("merge keys (<<)", budget.max_merge_keys),
        BudgetBreach::AliasAnchorRatio { aliases, anchors } => format!(
            "the input uses {aliases} aliases for {anchors} anchors, a ratio that only alias bombs need"
        ),
        other => format!("the input exceeds a YAML size limit ({other:?})"),
    }
}

/// `nodeName: n`: what YAML 1.1 (kubectl's reading) makes of a plain scalar, and the fix.
fn quoting(value: &str) -> String {
    const BOOLEANS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
    ];
    let what = if BOOLEANS.contains(&value) {
        "a boolean"
    } else if matches!(value, "" | "~" | "null" | "Null" | "NULL") {
        "null"
    } else {
        "a number"
    };
    format!(
        "a string is expected, but YAML (as kubectl reads it) takes the plain {value:?} for {what}: quote it, as {value:?}"
    )
}

/// Any other engine error, on one line and without the position the caller prints.
fn engine_text(err: &serde_saphyr::Error) -> String {
    let rendered = err.without_snippet().to_string();
    let joined = rendered
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    strip_position(&joined).to_string()
}

/// "… at line 3, column 7" at the very end of a message: the caller prints the position.
fn strip_position(text: &str) -> &str {
    let Some(i) = text.rfind(" at line ") else {
        return text;
    };
    let tail = &text[i + " at line ".len()..];
    let is_position = tail
        .chars()
        .all(|c| c.is_ascii_digit() || c == ',' || c == ' ' || "column".contains(c));
    if is_position { &text[..i] } else { text }
}

/// Any value as JSON, refusing a key that a mapping already holds (the YAML engine refuses
/// those itself; serde_json would keep the last one silently).
pub(crate) struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Value, D::Error> {
        de.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<Value, D::Error> {
        StrictValue.deserialize(de)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element_seed(StrictValue)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(StrictValue)?;
            insert_once::<A::Error>(&mut fields, key, value)?;
        }
        Ok(Value::Object(fields))
    }
}

fn insert_once<E: serde::de::Error>(
    fields: &mut Map<String, Value>,
    key: String,
    value: Value,
) -> Result<(), E> {
    if fields.contains_key(&key) {
        return Err(E::custom(format!(
            "key {key:?} already set in this mapping: keys must be unique"
        )));
    }
    fields.insert(key, value);
    Ok(())
}

/// An item of a list, as soon as it is read: a Pod typed (if asked) without its managedFields,
/// anything else raw.
fn object<const TYPED: bool>(value: Value) -> Object {
    if TYPED && value.get("kind").and_then(Value::as_str) == Some("Pod") {
        let mut newest = Newest::default();
        newest.observe_value(&value);
        // By value: no string is copied. A Pod that does not read is read again from its
        // text, which locates the error; its value is not needed for that.
        let Ok(LeanPod(pod)) = LeanPod::deserialize(value) else {
            return Object::Unreadable;
        };
        let Ok(json) = serde_json::to_string(&pod) else {
            return Object::Unreadable;
        };
        let named = pod.metadata.name.as_deref().is_some_and(|n| !n.is_empty());
        return Object::Pod {
            json: json.into_boxed_str(),
            named,
            newest,
        };
    }
    Object::Raw(value)
}

impl<'de, const TYPED: bool> Deserialize<'de> for Document<TYPED> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        de.deserialize_any(DocumentVisitor::<TYPED>)
    }
}

struct DocumentVisitor<const TYPED: bool>;

impl<'de, const TYPED: bool> Visitor<'de> for DocumentVisitor<TYPED> {
    type Value = Document<TYPED>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Document::Empty)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Document::Empty)
    }
    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_any(self)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Document::NotAnObject)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Document::NotAnObject)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Document::NotAnObject)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Document::NotAnObject)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Document::NotAnObject)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Document::NotAnObject)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Map::new();
        let mut items = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" && items.is_none() && !fields.contains_key("items") {
                match map.next_value_seed(ItemsSeed::<TYPED>)? {
                    Items::Streamed(objects) => items = Some(objects),
                    Items::Other(value) => {
                        fields.insert(key, value);
                    }
                }
            } else if key == "items" && items.is_some() {
                return Err(serde::de::Error::custom(
                    "key \"items\" already set in this mapping: keys must be unique",
                ));
            } else {
                let value = map.next_value_seed(StrictValue)?;
                insert_once::<A::Error>(&mut fields, key, value)?;
            }
        }
        Ok(Document::Object { fields, items })
    }
}

enum Items {
    Streamed(Vec<Object>),
    Other(Value),
}

struct ItemsSeed<const TYPED: bool>;

impl<'de, const TYPED: bool> DeserializeSeed<'de> for ItemsSeed<TYPED> {
    type Value = Items;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Items, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de, const TYPED: bool> Visitor<'de> for ItemsSeed<TYPED> {
    type Value = Items;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Items, A::Error> {
        let mut objects = Vec::new();
        while let Some(v) = seq.next_element_seed(StrictValue)? {
            objects.push(object::<TYPED>(v));
        }
        Ok(Items::Streamed(objects))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Items, A::Error> {
        ValueVisitor.visit_map(map).map(Items::Other)
    }
    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<Items, D::Error> {
        de.deserialize_any(self)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Items, E> {
        Ok(Items::Other(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Items, E> {
        Ok(Items::Other(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Items, E> {
        Ok(Items::Other(Value::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Items, E> {
        Ok(Items::Other(Value::from(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Items, E> {
        Ok(Items::Other(Value::String(v.into())))
    }
    fn visit_unit<E>(self) -> Result<Items, E> {
        Ok(Items::Other(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Items, E> {
        Ok(Items::Other(Value::Null))
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
    use super::*;

    /// What a reading gives, comparable: each document's fields and its items.
    fn summary<const TYPED: bool>(docs: Vec<Document<TYPED>>) -> Vec<String> {
        let object = |o: Object| match o {
            Object::Pod {
                json,
                named,
                newest,
            } => format!("pod {named} {:?} {json}", newest.get()),
            Object::Unreadable => "unreadable".into(),
            Object::Raw(v) => format!("raw {v}"),
        };
        docs.into_iter()
            .map(|d| match d {
                Document::Empty => "empty".into(),
                Document::NotAnObject => "not an object".into(),
                Document::Object { fields, items } => format!(
                    "{} {:?}",
                    Value::Object(fields),
                    items.map(|i| i.into_iter().map(object).collect::<Vec<_>>())
                ),
            })
            .collect()
    }

    #[test]
    fn lists_read_in_pieces_read_as_they_do_whole() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("tests/fixtures"), root.join("examples")];
        let mut cut = 0;
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "yaml") {
                    continue;
                }
                // (Some fixtures are not UTF-8 on purpose.)
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let Some(pieces) = objects_cut::<true>(&text) else {
                    continue;
                };
                cut += 1;
                let whole = objects_whole::<true>(&text).unwrap();
                assert_eq!(summary(pieces), summary(whole), "{}", path.display());
                let untyped = objects_cut::<false>(&text).unwrap();
                let whole = objects_whole::<false>(&text).unwrap();
                assert_eq!(summary(untyped), summary(whole), "{}", path.display());
            }
        }
        assert!(cut >= 40, "only {cut} fixture lists were cut");
    }

    #[test]
    fn what_does_not_read_in_pieces_is_read_whole() {
        // An alias of an anchor in another item, and a key twice in one item.
        for text in [
            "items:\n- &a {kind: Pod, metadata: {name: x}}\n- *a\nkind: List\n",
            "items:\n- kind: Pod\n  kind: Pod\nkind: List\n",
        ] {
            assert!(objects_cut::<true>(text).is_none(), "{text}");
        }
        let docs = objects::<true>("items:\n- &a {kind: Event}\n- *a\nkind: List\n").unwrap();
        assert_eq!(summary(docs).len(), 1);
        assert!(objects::<true>("items:\n- kind: Pod\n  kind: Pod\nkind: List\n").is_err());
    }

    #[test]
    fn large_dumps_fit_the_budget() {
        // More nodes than the engine's default cap of 250,000, as a big cluster's dump has.
        let text = format!("kind: List\nitems:\n{}", "- {a: 1}\n".repeat(130_000));
        let docs = super::documents(&text).unwrap();
        assert_eq!(docs[0]["items"].as_array().unwrap().len(), 130_000);
    }

    #[test]
    fn engine_errors_are_one_sentence_of_ours() {
        let dup = super::documents("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(
            (dup.line, dup.column, dup.message.as_str()),
            (
                3,
                1,
                "key \"a\" already set in this mapping: YAML keys must be unique"
            )
        );
        let syntax = super::documents("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(!syntax.message.contains('\n'), "{syntax:?}");
        assert!(!syntax.message.contains(" at line "), "{syntax:?}");
        assert_eq!(super::strip_position("bad at line 3, column 7"), "bad");
        assert_eq!(
            super::strip_position("bad at line 3 of the anchor"),
            "bad at line 3 of the anchor"
        );
    }

    #[test]
    fn json_positions_start_at_column_1() {
        // A control character right after a newline: serde_json says column 0.
        let err = super::json_documents("{\"a\": \"x\n\"}").unwrap_err();
        assert_eq!((err.line, err.column), (2, 1), "{err:?}");
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
