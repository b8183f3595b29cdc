//! Both passes over a JSON file (`json_stream`'s module comment) the fast way: the file cut into
//! pieces by `json_split`, each piece read from memory by the same seeds the slow way uses.
//! Anything the fast way does not take (see `json_split`), and anything that does not read, makes
//! the caller read the file the slow way, which finds and places the error as it always has.

use std::io::Read;

use k8s_openapi::api::core::v1::Pod;
use serde::de::DeserializeSeed;

use crate::input::json_split::{Piece, Split, split};
use crate::input::json_stream::{Facts, FirstPass, Item, ObjectSeed, PodsError, Shape, settle};
use crate::input::newest::Newest;
use crate::input::pod_json::{PodView, pod_from_slice_as};
use crate::input::yaml::{Located, json_located};

/// The first pass; `Split::Unsupported` for anything the slow way must read (or reject).
pub(crate) fn first_pass(reader: impl Read) -> Result<FirstPass, Split<()>> {
    let mut pass = FirstPass::default();
    let mut items: Vec<Item> = Vec::new();
    let mut item_kind: Option<String> = None;
    let mut cut = false;
    split(reader, &mut |piece| {
        match piece {
            Piece::Head(head) => {
                let Facts::Object(facts) = read(head, &mut pass.newest, None, true)? else {
                    return Err(());
                };
                // As the slow way reads `items`: as a list's while the kind is unknown or a
                // list's, a typed list's items taking its kind.
                item_kind = match facts.kind.as_deref() {
                    None | Some("List") => None,
                    Some(kind) if kind.ends_with("List") => {
                        Some(kind.trim_end_matches("List").to_string())
                    }
                    Some(_) => return Err(()),
                };
                items.clear();
                cut = true;
            }
            Piece::Item(item) => {
                let facts = read(item, &mut pass.newest, item_kind.as_deref(), false)?;
                items.push(Item::of(facts));
            }
            Piece::Document(document) => {
                let mut facts = read(document, &mut pass.newest, None, true)?;
                let was_cut = std::mem::take(&mut cut);
                if was_cut {
                    let Facts::Object(object) = &mut facts else {
                        return Err(());
                    };
                    object.items = Some(std::mem::take(&mut items));
                }
                settle(facts, &mut pass).map_err(|_| ())?;
                // The second pass takes a cut document's Pods from its items only.
                if was_cut && !matches!(pass.shapes.last(), Some(Shape::List(_))) {
                    return Err(());
                }
            }
        }
        Ok(())
    })?;
    Ok(pass)
}

/// One piece through the first pass's seed; any error is left to the slow way.
fn read(
    bytes: &[u8],
    newest: &mut Newest,
    inherited: Option<&str>,
    top: bool,
) -> Result<Facts, ()> {
    let mut started = false;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let seed = ObjectSeed {
        newest,
        inherited,
        top,
        started: &mut started,
    };
    let facts = seed.deserialize(&mut de).map_err(|_| ())?;
    de.end().map_err(|_| ())?;
    Ok(facts)
}

/// The second pass: every Pod the first pass found, in `view`, in input order. A Pod that does
/// not read is placed within its piece only: the caller places it in the file.
pub(crate) fn pods(
    reader: impl Read,
    shapes: &[Shape],
    view: PodView,
    on_pod: &mut dyn FnMut(Pod) -> crate::error::Result<()>,
) -> Result<(), PodsError> {
    let mut document = 0;
    let mut item = 0;
    let mut decode = |bytes: &[u8]| -> Result<(), PodsError> {
        let pod = pod_from_slice_as(view, bytes).map_err(|e| PodsError::Input(json_located(&e)))?;
        on_pod(pod).map_err(PodsError::Stopped)
    };
    let read = split(reader, &mut |piece| {
        let shape = shapes.get(document).ok_or_else(changed)?;
        match (piece, shape) {
            (Piece::Head(_), _) => item = 0,
            (Piece::Item(bytes), Shape::List(is_pod)) => {
                if *is_pod.get(item).ok_or_else(changed)? {
                    decode(bytes)?;
                }
                item += 1;
            }
            (Piece::Item(_), _) => return Err(changed()),
            (Piece::Document(bytes), shape) => {
                if matches!(shape, Shape::Pod) {
                    decode(bytes)?;
                }
                document += 1;
            }
        }
        Ok(())
    });
    match read {
        Ok(()) if document == shapes.len() => Ok(()),
        Ok(()) | Err(Split::Unsupported) => Err(changed()),
        Err(Split::Io(e)) => Err(PodsError::Input(Located {
            line: 1,
            column: 1,
            message: e.to_string(),
        })),
        Err(Split::Stopped(e)) => Err(e),
    }
}

/// The file no longer reads as its first pass did.
fn changed() -> PodsError {
    PodsError::Input(Located {
        line: 1,
        column: 1,
        message: "the file changed while it was read".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::json_stream;

    const INPUTS: &[&str] = &[
        // kubectl get pods,events -A -o json: keys sorted, kind after items.
        r#"{"apiVersion": "v1", "items": [
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "x",
             "creationTimestamp": "2026-11-01T10:00:00Z"}, "spec": {"containers": [{"name": "c"}]},
             "status": {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False",
             "lastTransitionTime": "2026-11-02T10:00:00Z"}]}},
            {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"},
             "lastTimestamp": "2026-11-03T10:00:00Z", "reason": "Failed"},
            {"metadata": {"name": "b"}, "kind": "Pod"}
         ], "kind": "List", "metadata": {"resourceVersion": ""}}"#,
        // A typed list from the API: kind first, items without their own kind.
        r#"{"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "9"},
            "items": [{"metadata": {"name": "p1"}}, {"metadata": {"name": "p2"}, "spec": {}}]}"#,
        // A stream of objects, one a list of nodes.
        r#"{"kind": "Pod", "metadata": {"name": "solo"}}
           {"kind": "NodeList", "items": [{"metadata": {"name": "n1"}}]}
           {"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"items": [1, 2]}}"#,
        // An empty list, and a list without items.
        r#"{"kind": "List", "items": []} {"kind": "List"}"#,
    ];

    fn slow(text: &str) -> String {
        let pass = json_stream::first_pass(&mut serde_json::Deserializer::from_str(text));
        format!("{:?}", pass.map_err(|_| ()))
    }

    fn names(text: &str, shapes: &[Shape], fast: bool) -> Vec<String> {
        let mut names = Vec::new();
        let mut on_pod = |pod: Pod| {
            names.push(pod.metadata.name.unwrap_or_default());
            Ok(())
        };
        let done = match fast {
            true => pods(text.as_bytes(), shapes, PodView::Rows, &mut on_pod),
            false => json_stream::pods(
                &mut serde_json::Deserializer::from_str(text),
                shapes,
                PodView::Rows,
                &mut on_pod,
            ),
        };
        assert!(done.is_ok(), "{text}");
        names
    }

    #[test]
    fn the_fast_passes_find_what_the_slow_ones_find() {
        for text in INPUTS {
            let fast = first_pass(text.as_bytes()).map_err(|_| ());
            assert_eq!(format!("{fast:?}"), slow(text), "{text}");
            let shapes = fast.unwrap().shapes;
            assert_eq!(
                names(text, &shapes, true),
                names(text, &shapes, false),
                "{text}"
            );
        }
        let shapes = first_pass(INPUTS[0].as_bytes()).ok().unwrap().shapes;
        assert_eq!(names(INPUTS[0], &shapes, true), ["a", "b"]);
    }

    #[test]
    fn what_does_not_read_is_left_to_the_slow_way() {
        for text in [
            // No name, a duplicate key, no kind, an item that is not an object, bad syntax.
            r#"{"kind": "List", "items": [{"kind": "Pod", "metadata": {}}]}"#,
            r#"{"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": "a", "name": "b"}}]}"#,
            r#"{"items": []}"#,
            r#"{"kind": "List", "items": [7]}"#,
            r#"{"kind": "List", "items": [{"kind": "Pod" "metadata": {}}]}"#,
            // items under a kind that is no list's, and a Pod holding items.
            r#"{"kind": "ConfigMap", "items": [1]}"#,
            r#"{"kind": "Pod", "metadata": {"name": "a"}, "items": [1]}"#,
        ] {
            assert!(first_pass(text.as_bytes()).is_err(), "{text}");
        }
    }
}
