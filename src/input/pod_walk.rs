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

/// The keys of one object so far, by hash (as the serde walk keeps them): a second key with
/// the same hash is declined, and so is an object with more keys than [`Keys::MOST`] (a Pod's
/// objects have a few dozen at most). Most objects have a handful (a managedFields entry's
/// `{"f:name":{}}`, about 240 objects a Pod): their hashes stay in place, zeroed in a few
/// stores (a 48-entry array was a `memset` each, 2% of an offline run); the rest go to a list.
#[derive(Default)]
struct Keys {
    first: [u64; Keys::IN_PLACE],
    /// Allocated for the object that needs it (an empty `Vec` was a call to free it, for every
    /// object).
    rest: Option<Box<[u64; Keys::MOST - Keys::IN_PLACE]>>,
    len: usize,
}

impl Keys {
    const IN_PLACE: usize = 8;
    const MOST: usize = 48;

    fn first(&mut self, key: &str) -> Read<()> {
        let hash = key_hash(key);
        if self.len < Self::IN_PLACE {
            if self.first[..self.len].contains(&hash) {
                return Err(Declined);
            }
            self.first[self.len] = hash;
        } else {
            let rest = self
                .rest
                .get_or_insert_with(|| Box::new([0; Self::MOST - Self::IN_PLACE]));
            let more = self.len - Self::IN_PLACE;
            if self.len == Self::MOST || self.first.contains(&hash) || rest[..more].contains(&hash)
            {
                return Err(Declined);
            }
            rest[more] = hash;
        }
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
    fn a_repeated_key_is_declined_however_many_keys_come_before_it() {
        let pod = |keys: &[String]| {
            let spec: Vec<String> = keys.iter().map(|k| format!(r#""{k}":1"#)).collect();
            let text = format!(
                r#"{{"kind":"Pod","metadata":{{"name":"a"}},"spec":{{{}}}}}"#,
                spec.join(",")
            );
            pod_item(&text, None).is_ok()
        };
        let keys: Vec<String> = (0..Keys::MOST).map(|i| format!("k{i}")).collect();
        assert!(pod(&keys));
        for n in [2, Keys::IN_PLACE, Keys::IN_PLACE + 1, Keys::MOST - 1] {
            for repeated in [0, n - 1] {
                let mut some = keys[..n].to_vec();
                some.push(keys[repeated].clone());
                assert!(!pod(&some), "{n} keys, then key {repeated} again");
            }
        }
        let mut too_many = keys.clone();
        too_many.push("one-more".into());
        assert!(!pod(&too_many));
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
