//! JSON input (`kubectl get … -o json`, a `kind: List`, or a stream of objects) read as a stream,
//! in two passes, so that neither the text nor its Pods are ever held whole:
//!
//! 1. [`first_pass`] checks everything and keeps what is small: every object except Pods as JSON
//!    values (events, nodes, workloads: what queries and explain look up), the newest time (the
//!    offline clock), and where the Pods are. Pods are walked without being built: duplicate
//!    keys refused, the name checked, their times noted.
//! 2. [`pods`] reads the same input again and types each Pod once, with the lean decoder
//!    (no managedFields), handing it over as it goes.
//!
//! The first pass is why a workload's selector may come after its pods, and why the clock is
//! known before the first row. Both passes report the deserializer's own line and column.

use std::fmt;

use k8s_openapi::api::core::v1::Pod;
use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::input::json_walk::{KeySeed, KeySet, MetaSeed, NameSeen, Role, Walk};
use crate::input::newest::Newest;
use crate::input::pod_json::PodView;
use crate::input::yaml::{Located, StrictValue, json_located};

/// What the first pass found in one document: where its Pods are.
#[derive(Debug)]
pub(crate) enum Shape {
    /// The document is a Pod.
    Pod,
    /// A list: which of its items are Pods.
    List(Vec<bool>),
    Other,
}

/// What the first pass keeps of one input.
#[derive(Debug, Default)]
pub(crate) struct FirstPass {
    /// Every object but Pods, in input order (a typed list's kind filled in on its items).
    pub objects: Vec<Value>,
    pub shapes: Vec<Shape>,
    pub newest: Newest,
}

/// The first pass over a JSON stream; see the module's comment.
pub(crate) fn first_pass<'de, R: serde_json::de::Read<'de>>(
    de: &mut serde_json::Deserializer<R>,
) -> Result<FirstPass, Located> {
    let mut pass = FirstPass::default();
    // As when the whole text was parsed first: a later syntax error wins over these.
    let mut deferred: Option<Located> = None;
    loop {
        let mut started = false;
        let seed = ObjectSeed {
            newest: &mut pass.newest,
            inherited: None,
            top: true,
            started: &mut started,
        };
        let facts = match seed.deserialize(&mut *de) {
            Ok(facts) => facts,
            Err(e) if e.is_eof() && !started => break,
            Err(e) => return Err(json_located(&e)),
        };
        if let Err(message) = settle(facts, &mut pass) {
            deferred.get_or_insert(Located {
                line: 1,
                column: 1,
                message,
            });
        }
    }
    match deferred {
        Some(located) => Err(located),
        None => Ok(pass),
    }
}

/// The second pass: every Pod the first pass found, typed, in input order.
pub(crate) fn pods<'de, R: serde_json::de::Read<'de>>(
    de: &mut serde_json::Deserializer<R>,
    shapes: &[Shape],
    view: PodView,
    on_pod: &mut dyn FnMut(Pod) -> crate::error::Result<()>,
) -> Result<(), PodsError> {
    let mut stopped = None;
    for shape in shapes {
        let result = match shape {
            Shape::Pod => view.deserialize(&mut *de).map(|pod| {
                if let Err(e) = on_pod(pod) {
                    stopped = Some(e);
                }
            }),
            Shape::List(is_pod) => ListSeed {
                is_pod,
                view,
                on_pod: &mut *on_pod,
                stopped: &mut stopped,
            }
            .deserialize(&mut *de),
            Shape::Other => IgnoredAny::deserialize(&mut *de).map(|_| ()),
        };
        if let Some(e) = stopped.take() {
            return Err(PodsError::Stopped(e));
        }
        result.map_err(|e| PodsError::Input(json_located(&e)))?;
    }
    Ok(())
}

/// Why the second pass ended early.
pub(crate) enum PodsError {
    /// A Pod that does not read as its type, where it is.
    Input(Located),
    /// What the receiver of the Pods returned.
    Stopped(crate::error::Error),
}

/// One document done: its objects kept, its Pods' places noted; an error that has no better
/// position than the document's start is returned as its message.
pub(super) fn settle(facts: Facts, pass: &mut FirstPass) -> Result<(), String> {
    let ObjectFacts {
        kind,
        mut fields,
        walked,
        items,
        pod_seen,
    } = match facts {
        Facts::Object(facts) => facts,
        Facts::Empty => {
            pass.shapes.push(Shape::Other);
            return Ok(());
        }
        Facts::NotAnObject => return Err("document is not an object".into()),
    };
    let Some(kind) = kind.filter(|k| !k.is_empty()) else {
        return Err("object has no \"kind\"".into());
    };
    match items {
        Some(items) if kind.ends_with("List") => {
            let item_kind = kind.trim_end_matches("List");
            let list_version = fields.get("apiVersion").cloned();
            let mut is_pod = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                is_pod.push(match item {
                    Item::Pod => true,
                    Item::NotAnObject => {
                        return Err(format!("items[{i}]: list item is not an object"));
                    }
                    Item::Object(mut map) => {
                        if kind != "List" {
                            map.entry("kind")
                                .or_insert(Value::String(item_kind.to_string()));
                            if let Some(v) = &list_version {
                                map.entry("apiVersion").or_insert(v.clone());
                            }
                        }
                        keep(Value::Object(map), pass)
                            .map_err(|message| format!("items[{i}]: {message}"))?
                    }
                });
            }
            pass.shapes.push(Shape::List(is_pod));
        }
        items => {
            // Not a list: the object keeps its items as they were (a Pod among them, which
            // only a list may hold, is not kept).
            if let Some(items) = items {
                let values = items
                    .into_iter()
                    .filter_map(|item| match item {
                        Item::Object(map) => Some(Value::Object(map)),
                        _ => None,
                    })
                    .collect();
                fields.insert("items".into(), Value::Array(values));
            }
            if kind == "Pod" && (walked || pod_seen) {
                pass.shapes.push(Shape::Pod);
            } else {
                let pod = keep(Value::Object(fields), pass)?;
                pass.shapes
                    .push(if pod { Shape::Pod } else { Shape::Other });
            }
        }
    }
    Ok(())
}

/// An object read whole (its kind came after its other fields, or it is no Pod): kept, or, if
/// it is a Pod, checked and left in the input. Returns whether it is a Pod.
fn keep(value: Value, pass: &mut FirstPass) -> Result<bool, String> {
    pass.newest.observe_value(&value);
    if value.get("kind").and_then(Value::as_str) != Some("Pod") {
        pass.objects.push(value);
        return Ok(false);
    }
    let named = value
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    if !named {
        return Err("Pod has no metadata.name".into());
    }
    Ok(true)
}

/// One value of the stream as the first pass sees it.
pub(super) enum Facts {
    Empty,
    NotAnObject,
    Object(ObjectFacts),
}

pub(super) struct ObjectFacts {
    pub(super) kind: Option<String>,
    /// The fields read whole (all of them, unless it is a Pod).
    fields: Map<String, Value>,
    /// Some fields were walked and not kept: it is a Pod, checked.
    walked: bool,
    /// It is a Pod whose every field was walked (none kept).
    pod_seen: bool,
    pub(super) items: Option<Vec<Item>>,
}

/// An item of a list after the first pass.
pub(super) enum Item {
    Pod,
    Object(Map<String, Value>),
    NotAnObject,
}

impl Item {
    pub(super) fn of(facts: Facts) -> Item {
        match facts {
            Facts::Object(facts) if facts.pod_seen => Item::Pod,
            Facts::Object(facts) => Item::Object(facts.fields),
            Facts::Empty | Facts::NotAnObject => Item::NotAnObject,
        }
    }
}

/// Reads one object: its fields whole, until it is known to be a Pod (its own `kind`, or the
/// kind of the typed list it is in); from then on its fields are walked and not kept.
pub(super) struct ObjectSeed<'a> {
    pub(super) newest: &'a mut Newest,
    /// A typed list's item kind ("Pod" for a PodList), for items that leave theirs off.
    pub(super) inherited: Option<&'a str>,
    /// A document of the stream (it may hold `items`), not a list item.
    pub(super) top: bool,
    /// Set as soon as anything is read: an end of input before that is the stream's end.
    pub(super) started: &'a mut bool,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = Facts;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Facts, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = Facts;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_unit<E>(self) -> Result<Facts, E> {
        *self.started = true;
        Ok(if self.top {
            Facts::Empty
        } else {
            Facts::NotAnObject
        })
    }
    fn visit_bool<E>(self, _: bool) -> Result<Facts, E> {
        *self.started = true;
        Ok(Facts::NotAnObject)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Facts, E> {
        *self.started = true;
        Ok(Facts::NotAnObject)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Facts, E> {
        *self.started = true;
        Ok(Facts::NotAnObject)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Facts, E> {
        *self.started = true;
        Ok(Facts::NotAnObject)
    }
    fn visit_str<E>(self, _: &str) -> Result<Facts, E> {
        *self.started = true;
        Ok(Facts::NotAnObject)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Facts, A::Error> {
        *self.started = true;
        while seq.next_element_seed(StrictValue)?.is_some() {}
        Ok(Facts::NotAnObject)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Facts, A::Error> {
        *self.started = true;
        let mut facts = ObjectFacts {
            kind: None,
            fields: Map::new(),
            walked: false,
            pod_seen: false,
            items: None,
        };
        let mut keys = KeySet::default();
        let mut name = NameSeen::Absent;
        loop {
            let pod = match &facts.kind {
                Some(kind) => kind == "Pod",
                None => self.inherited == Some("Pod"),
            };
            let Some(key) = map.next_key_seed(KeySeed {
                keys: &keys,
                keep: !pod,
            })?
            else {
                break;
            };
            match key.role {
                Role::Items if self.top && facts.items.is_none() && !pod => {
                    let item_kind = facts
                        .kind
                        .as_deref()
                        .filter(|k| k.ends_with("List") && *k != "List")
                        .map(|k| k.trim_end_matches("List"));
                    match &facts.kind {
                        Some(kind) if !kind.ends_with("List") => {
                            let value = map.next_value_seed(StrictValue)?;
                            facts.fields.insert(key.text(), value);
                        }
                        _ => {
                            facts.items = map.next_value_seed(ItemsSeed {
                                newest: &mut *self.newest,
                                inherited: item_kind,
                            })?;
                            if facts.items.is_none() {
                                // Not a sequence: read as it was, as any other field.
                                facts.fields.insert(key.text(), Value::Null);
                            }
                        }
                    }
                }
                Role::Metadata if pod => {
                    facts.walked = true;
                    name = map.next_value_seed(MetaSeed {
                        newest: &mut *self.newest,
                    })?;
                }
                _ if pod && key.role != Role::Kind => {
                    facts.walked = true;
                    map.next_value_seed(Walk {
                        newest: &mut *self.newest,
                        time: key.role == Role::Time,
                    })?;
                }
                _ => {
                    let value = map.next_value_seed(StrictValue)?;
                    if key.role == Role::Kind {
                        facts.kind = value.as_str().map(str::to_string);
                    }
                    facts.fields.insert(key.text(), value);
                }
            }
            keys.insert::<A::Error>(key)?;
        }
        let pod = match &facts.kind {
            Some(kind) => kind == "Pod",
            None => self.inherited == Some("Pod"),
        };
        if pod && facts.walked {
            // Read as a Pod: where its name is missing, said here, after its last field, as
            // typing it as something named does.
            let has_metadata_value = facts.fields.contains_key("metadata");
            if name == NameSeen::Absent && !has_metadata_value {
                return Err(A::Error::custom("Pod has no metadata.name"));
            }
            if has_metadata_value {
                // Its metadata came before its kind: checked as a value.
                let value = facts.fields.get("metadata").cloned().unwrap_or_default();
                let named = value
                    .get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| !n.is_empty());
                if !named {
                    return Err(A::Error::custom("Pod has no metadata.name"));
                }
                self.newest.observe_value(&value);
            }
            facts.pod_seen = true;
            for value in facts.fields.values() {
                self.newest.observe_value(value);
            }
        }
        Ok(Facts::Object(facts))
    }
}

/// `items`: each one read as it comes, and, if a Pod, walked and not kept.
struct ItemsSeed<'a> {
    newest: &'a mut Newest,
    inherited: Option<&'a str>,
}

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_> {
    type Value = Option<Vec<Item>>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_> {
    type Value = Option<Vec<Item>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let mut started = false;
            let seed = ObjectSeed {
                newest: &mut *self.newest,
                inherited: self.inherited,
                top: false,
                started: &mut started,
            };
            let Some(facts) = seq.next_element_seed(seed)? else {
                break;
            };
            items.push(Item::of(facts));
        }
        Ok(Some(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        // Anything but a sequence: not a list's items. Checked, not kept.
        Walk::checked(map)?;
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// A list in the second pass: its Pods typed and handed over, everything else skipped.
struct ListSeed<'a, 'b> {
    is_pod: &'a [bool],
    view: PodView,
    on_pod: &'a mut dyn FnMut(Pod) -> crate::error::Result<()>,
    stopped: &'b mut Option<crate::error::Error>,
}

impl<'de> DeserializeSeed<'de> for ListSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a List object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let empty = KeySet::default();
        let mut done = false;
        while let Some(key) = map.next_key_seed(KeySeed {
            keys: &empty,
            keep: false,
        })? {
            if key.role == Role::Items && !done {
                done = true;
                map.next_value_seed(PodItems {
                    is_pod: self.is_pod,
                    view: self.view,
                    on_pod: &mut *self.on_pod,
                    stopped: &mut *self.stopped,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct PodItems<'a, 'b> {
    is_pod: &'a [bool],
    view: PodView,
    on_pod: &'a mut dyn FnMut(Pod) -> crate::error::Result<()>,
    stopped: &'b mut Option<crate::error::Error>,
}

impl<'de> DeserializeSeed<'de> for PodItems<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for PodItems<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        for &pod in self.is_pod {
            if !pod {
                if seq.next_element::<IgnoredAny>()?.is_none() {
                    return Ok(());
                }
                continue;
            }
            let Some(pod) = seq.next_element_seed(self.view)? else {
                return Ok(());
            };
            if let Err(e) = (self.on_pod)(pod) {
                *self.stopped = Some(e);
                return Err(A::Error::custom("stopped"));
            }
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> Result<FirstPass, Located> {
        first_pass(&mut serde_json::Deserializer::from_str(text))
    }

    fn names(text: &str, shapes: &[Shape]) -> Vec<String> {
        let mut names = Vec::new();
        let mut de = serde_json::Deserializer::from_str(text);
        let done = pods(&mut de, shapes, PodView::Rows, &mut |pod| {
            names.push(pod.metadata.name.unwrap_or_default());
            Ok(())
        });
        assert!(done.is_ok());
        names
    }

    #[test]
    fn lists_and_streams_give_their_pods_and_keep_the_rest() {
        let text = r#"
            {"apiVersion": "v1", "items": [
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a",
                    "creationTimestamp": "2026-11-27T10:00:00Z"}},
                {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"},
                    "lastTimestamp": "2026-11-27T10:05:00Z"},
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b"},
                    "status": {"startTime": "2026-11-27T10:06:00Z"}}
            ], "kind": "List", "metadata": {"resourceVersion": ""}}
            {"kind": "PodList", "apiVersion": "v1", "items": [{"metadata": {"name": "c"}}]}
            {"metadata": {"name": "d"}, "kind": "Pod"}
        "#;
        let pass = scan(text).unwrap();
        assert_eq!(pass.objects.len(), 1, "the event");
        assert_eq!(pass.objects[0]["kind"], "Event");
        assert_eq!(
            pass.newest.get().unwrap().to_string(),
            "2026-11-27T10:06:00Z"
        );
        assert_eq!(names(text, &pass.shapes), ["a", "b", "c", "d"]);
    }

    #[test]
    fn checks_are_located_where_the_whole_reading_located_them() {
        let dup = scan("{\"kind\": \"Pod\",\n \"metadata\": {\"name\": \"a\", \"name\": \"b\"}}")
            .unwrap_err();
        assert_eq!(dup.line, 2);
        assert!(dup.message.contains("key \"name\" already set"), "{dup:?}");
        let nameless =
            scan("{\"kind\": \"List\", \"items\": [\n{\"kind\": \"Pod\", \"metadata\": {}}]}")
                .unwrap_err();
        assert_eq!(
            (nameless.line, nameless.message.as_str()),
            (2, "Pod has no metadata.name")
        );
        let kindless = scan("{\"a\": 1}\n{\"kind\": ").unwrap_err();
        assert_eq!(kindless.line, 2, "a syntax error wins: {kindless:?}");
        assert_eq!(
            scan("{\"a\": 1}").unwrap_err().message,
            "object has no \"kind\""
        );
        assert_eq!(
            scan("[1]").unwrap_err().message,
            "document is not an object"
        );
    }
}
