//! The offline first pass's walk of one list item, by hand, where the item is a Pod written the
//! way `kubectl get pods -o json` writes one (`apiVersion` and `kind` first): every value
//! checked as serde_json checks it (strings, escapes, integers, literals, brackets), duplicate
//! keys refused at every level, the Pod's name required, its times noted. It answers only what
//! the serde walk (`json_stream::ObjectSeed` over `json_walk`) would answer: anything else, or
//! anything it would read differently (floats, numbers past `i64`, a non-empty name that is
//! not a string, metadata before `kind`, nesting past [`MAX_DEPTH`]…), is `Declined`, and the
//! serde walk reads the item, which also places every error. That walk was half of an
//! offline run's instructions (docs/benchmarks.md).

use crate::input::json_cursor::{Cursor, Declined, Read};
use crate::input::json_walk::key_hash;
use crate::input::newest::{Newest, is_time_key};

/// Deeper than this is left to serde_json (whose own limit is 128), so that nothing nested
/// without end can exhaust a thread's stack here.
const MAX_DEPTH: usize = 100;

/// The newest time a Pod item records, if it is a Pod (its own `kind`, or `inherited` from
/// a `PodList`) that the serde walk would accept.
pub(crate) fn pod_item(text: &str, inherited: Option<&str>) -> Read<Newest> {
    let mut c = Cursor::new(text);
    let mut newest = Newest::default();
    let mut pod = inherited == Some("Pod");
    let (mut walked, mut named) = (false, false);
    let mut keys = Keys::default();
    if c.next_byte() != Some(b'{') {
        return Err(Declined);
    }
    c.object(|c, key| {
        keys.first(key)?;
        match key {
            "kind" => match c.str()?.as_ref() {
                "Pod" => pod = true,
                _ => return Err(Declined),
            },
            // Kept as a field until the item is known to be a Pod: only a string, here.
            "apiVersion" if !pod => drop(c.str()?),
            _ if !pod => return Err(Declined),
            "metadata" => {
                walked = true;
                named = metadata(c, &mut newest)?;
            }
            _ => {
                walked = true;
                value(c, &mut newest, is_time_key(key), 1)?;
            }
        }
        Ok(())
    })?;
    c.end()?;
    match pod && walked && named {
        true => Ok(newest),
        false => Err(Declined),
    }
}

/// A Pod's metadata: an object with a non-empty string `name` (anything else about the name is
/// the serde walk's to say).
fn metadata(c: &mut Cursor, newest: &mut Newest) -> Read<bool> {
    if c.next_byte() != Some(b'{') {
        return Err(Declined);
    }
    let mut keys = Keys::default();
    let mut named = false;
    c.object(|c, key| {
        keys.first(key)?;
        if key != "name" {
            return value(c, newest, is_time_key(key), 2);
        }
        if c.str()?.is_empty() {
            return Err(Declined);
        }
        named = true;
        Ok(())
    })?;
    Ok(named)
}

/// Any value, checked; a string under a time key noted as a time.
fn value(c: &mut Cursor, newest: &mut Newest, time: bool, depth: usize) -> Read<()> {
    match c.next_byte().ok_or(Declined)? {
        b'"' if time => c.str().map(|text| newest.observe(&text)),
        b'"' => c.check_str(),
        b'{' if depth < MAX_DEPTH => {
            let mut keys = Keys::default();
            c.object(|c, key| {
                keys.first(key)?;
                value(c, newest, is_time_key(key), depth + 1)
            })
        }
        b'[' if depth < MAX_DEPTH => c.array(|c| value(c, newest, false, depth + 1)),
        b't' | b'f' => c.bool().map(drop),
        b'n' => c.null().map(drop),
        b'-' | b'0'..=b'9' => c.i64().map(drop),
        _ => Err(Declined),
    }
}

/// The keys of one object so far, by hash (as the serde walk keeps them), in place: a second
/// key with the same hash is declined, and so is an object with more keys than it holds
/// (a Pod's objects have a few dozen at most; allocating a list per object cost more than
/// hashing).
struct Keys {
    hashes: [u64; Keys::MOST],
    len: usize,
}

impl Default for Keys {
    fn default() -> Self {
        Keys {
            hashes: [0; Keys::MOST],
            len: 0,
        }
    }
}

impl Keys {
    const MOST: usize = 48;

    fn first(&mut self, key: &str) -> Read<()> {
        let hash = key_hash(key);
        let seen = &self.hashes[..self.len];
        if self.len == Self::MOST || seen.contains(&hash) {
            return Err(Declined);
        }
        self.hashes[self.len] = hash;
        self.len += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn newest(text: &str, inherited: Option<&str>) -> Option<String> {
        pod_item(text, inherited)
            .ok()
            .map(|n| n.get().map(|t| t.to_string()).unwrap_or_default())
    }

    #[test]
    fn a_pod_as_kubectl_writes_it_gives_its_newest_time() {
        let text = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a",
            "creationTimestamp":"2026-11-01T10:00:00Z","labels":{"startedAt":"x"}},
            "spec":{"containers":[{"name":"c","ports":[{"containerPort":80}]}],"hostNetwork":false},
            "status":{"startTime":"2026-11-02T10:00:00Z","conditions":[{"lastProbeTime":null,
            "lastTransitionTime":"2026-11-03T10:00:00\u005a"}]}}"#;
        assert_eq!(newest(text, None).as_deref(), Some("2026-11-03T10:00:00Z"));
        // A PodList's item without a kind of its own.
        let bare = r#"{"metadata":{"name":"a"},"status":{"startTime":"2026-11-02T10:00:00Z"}}"#;
        assert_eq!(
            newest(bare, Some("Pod")).as_deref(),
            Some("2026-11-02T10:00:00Z")
        );
        assert_eq!(newest(bare, None), None);
    }

    #[test]
    fn what_it_does_not_answer_for_is_declined() {
        let deep = format!(
            r#"{{"kind":"Pod","metadata":{{"name":"a"}},"spec":{}{}}}"#,
            "[".repeat(150),
            "]".repeat(150)
        );
        for text in [
            r#"{"kind":"Service","metadata":{"name":"a"}}"#,
            r#"{"metadata":{"name":"a"},"kind":"Pod"}"#,
            r#"{"kind":"Pod","metadata":{"name":""}}"#,
            r#"{"kind":"Pod","metadata":{"name":null}}"#,
            r#"{"kind":"Pod","metadata":{"name":"a","name":"b"}}"#,
            r#"{"kind":"Pod","metadata":{"name":"a"},"spec":{"x":1,"x":2}}"#,
            r#"{"kind":"Pod","metadata":{"name":"a"},"spec":{"x":1.5}}"#,
            r#"{"kind":"Pod","metadata":{"name":"a"},"spec":{"x":01}}"#,
            r#"{"kind":"Pod","metadata":{"name":"a"},"spec":{"x":"\q"}}"#,
            r#"{"kind":"Pod","metadata":{"name":"a"},"spec":{"x":"\ud800"}}"#,
            r#"{"kind":"Pod","metadata":{"name":"a"},"spec":{"x":tru}}"#,
            r#"{"kind":"Pod","metadata":{"name":"a"},"spec":[1,]}"#,
            r#"{"kind":"Pod","metadata":{"name":"a"}} x"#,
            r#"{"kind":"Pod"}"#,
            &deep,
        ] {
            assert_eq!(pod_item(text, None).err(), Some(Declined), "{text}");
        }
    }
}
