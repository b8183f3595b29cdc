//! managedFields blanked in JSON text before it is decoded: `"managedFields":[…]` becomes
//! `"managedFields":["   …   "]`, one string of spaces as long as what it replaces. They are
//! about two fifths of a pod LIST page's bytes and nothing reads them (`pod_json` skips them),
//! but serde_json skips a value token by token; a string of spaces it passes eight bytes at a
//! time. Found by a vectorised search for the key and ended by the cutter's block scan
//! (`json_split::container_end`), they cost a fraction of that. In place and the same length, so
//! every other byte keeps its place, and an error its line and column.
//!
//! Only for text decoded into typed Pods, where the only array named `managedFields` is
//! `metadata.managedFields` and nothing reads it: a label or annotation of that name has a string
//! value, left alone (were it an array, it stays one and fails as before). An unescaped
//! `"managedFields"` followed by a colon is always a key in JSON: its quote cannot close a string
//! (a letter cannot follow a closing quote), so it opens one. What the blanked arrays held is not
//! checked: JSON that is broken only inside one reads (docs/status.md).

use memchr::memmem;

use crate::input::json_split::container_end;

const KEY: &[u8] = b"\"managedFields\"";

/// Blanks every `managedFields` array in `json` that holds two bytes or more.
pub(crate) fn blank_managed_fields(json: &mut [u8]) {
    let finder = memmem::Finder::new(KEY);
    // `json[from..]` is as it came.
    let mut from = 0;
    while let Some(at) = finder.find(&json[from..]).map(|i| from + i) {
        let as_came = from;
        from = at + 1;
        if escaped(&json[as_came..at]) {
            continue;
        }
        let Some(open) = array_value(json, at + KEY.len()) else {
            continue;
        };
        let Some(close) = container_end(&json[open..]).map(|i| open + i) else {
            return;
        };
        if let [first, inside @ .., last] = &mut json[open + 1..close] {
            *first = b'"';
            inside.fill(b' ');
            *last = b'"';
        }
        from = close;
    }
}

/// Whether the byte after `before` is escaped: an odd run of backslashes ends `before`.
fn escaped(before: &[u8]) -> bool {
    before.iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
}

/// Where the array opens, if a colon and an array follow a key ending just before `i`.
fn array_value(json: &[u8], i: usize) -> Option<usize> {
    let colon = after_blanks(json, i)?;
    (json[colon] == b':').then_some(())?;
    let open = after_blanks(json, colon + 1)?;
    (json[open] == b'[').then_some(open)
}

fn after_blanks(json: &[u8], i: usize) -> Option<usize> {
    let skipped = json
        .get(i..)?
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))?;
    Some(i + skipped)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    fn blanked(text: &str) -> String {
        let mut bytes = text.as_bytes().to_vec();
        blank_managed_fields(&mut bytes);
        assert_eq!(bytes.len(), text.len(), "the same length");
        String::from_utf8(bytes).unwrap()
    }

    /// Every array under a key `managedFields`, at any depth, emptied: what is left is what a
    /// reader that skips them sees.
    fn unread(mut value: Value) -> Value {
        fn walk(v: &mut Value) {
            match v {
                Value::Object(map) => {
                    for (key, v) in map.iter_mut() {
                        match v {
                            Value::Array(items) if key == "managedFields" => items.clear(),
                            v => walk(v),
                        }
                    }
                }
                Value::Array(items) => items.iter_mut().for_each(walk),
                _ => {}
            }
        }
        walk(&mut value);
        value
    }

    #[test]
    fn a_pods_managed_fields_become_blanks_and_nothing_else_changes() {
        let pod = json!({
            "metadata": {
                "name": "web-0",
                "labels": {"managedFields": "a label of that name stays"},
                "annotations": {"note": "\"managedFields\":[\"inside a string\"]"},
                "managedFields": [{"manager": "kubelet", "fieldsV1": {"f:status": {".": {}}}}],
            },
            "spec": {"containers": [{"name": "app", "args": ["\\", "\\\"managedFields\\\":[1]"]}]},
        });
        for text in [pod.to_string(), serde_json::to_string_pretty(&pod).unwrap()] {
            let value: Value = serde_json::from_str(&blanked(&text)).unwrap();
            let blanks = value["metadata"]["managedFields"][0].as_str().unwrap();
            assert!(!blanks.is_empty() && blanks.bytes().all(|b| b == b' '));
            assert_eq!(unread(value.clone()), unread(pod.clone()));
            assert_eq!(
                value["metadata"]["annotations"],
                pod["metadata"]["annotations"]
            );
            assert_eq!(value["spec"], pod["spec"]);
        }
    }

    #[test]
    fn text_with_nothing_to_blank_is_left_as_it_is() {
        for text in [
            r#"{"metadata":{"name":"a"}}"#,
            r#"{"metadata":{"managedFields":[]}}"#,
            r#"{"metadata":{"managedFields":[1]}}"#,
            r#"{"metadata":{"managedFields":null}}"#,
            r#"{"a":"\"managedFields\":[1,2]"}"#,
            r#"{"a":"\\\"managedFields\\\":[1,2]"}"#,
        ] {
            assert_eq!(blanked(text), text);
        }
    }

    #[test]
    fn an_array_that_does_not_close_is_left_for_the_parser_to_report() {
        let text = r#"{"items":[{"metadata":{"managedFields":[{"a":"]"}]}},{"metadata":{"managedFields":[{"#;
        let out = blanked(text);
        assert!(out.starts_with(r#"{"items":[{"metadata":{"managedFields":["       "]}}"#));
        assert!(out.ends_with(r#"{"metadata":{"managedFields":[{"#));
        let (before, after) = (
            serde_json::from_str::<Value>(text).unwrap_err(),
            serde_json::from_str::<Value>(&out).unwrap_err(),
        );
        assert_eq!(
            (before.line(), before.column()),
            (after.line(), after.column())
        );
    }

    /// JSON values whose keys and strings are made of the pieces that could mislead the search.
    fn value() -> impl Strategy<Value = Value> {
        let piece = prop_oneof![
            Just("managedFields"),
            Just("\"managedFields\":["),
            Just("\\"),
            Just("\""),
            Just("]"),
            Just("{"),
            Just("x"),
        ];
        let text = prop::collection::vec(piece, 0..5).prop_map(|p| p.concat());
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<i32>().prop_map(Value::from),
            text.clone().prop_map(Value::from),
        ];
        leaf.prop_recursive(5, 64, 6, move |inner| {
            let key = prop_oneof![Just("managedFields".to_string()), text.clone()];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key, inner), 0..4)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn blanking_changes_nothing_a_reader_that_skips_them_sees(
            value in value(),
            pretty in any::<bool>(),
        ) {
            let text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                value.to_string()
            };
            let out: Value = serde_json::from_str(&blanked(&text)).unwrap();
            prop_assert_eq!(unread(out), unread(value));
        }
    }
}
