//! The object store: objects by resource/namespace/name, one global resourceVersion counter,
//! a bounded event history for watches that resume from a resourceVersion, and the broadcast
//! every open watch listens on.

use std::collections::{BTreeMap, VecDeque};

use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::resources::{self, ResourceDef};
use super::status::ApiError;
use super::validation;

/// How many events a watch can resume across; older resourceVersions get 410 Expired, like a
/// compacted etcd / watch cache.
const HISTORY: usize = 1000;

#[derive(Clone)]
pub struct Event {
    pub rv: u64,
    pub kind: &'static str,
    pub res: &'static ResourceDef,
    pub obj: Value,
    /// The object before this event, so selector-filtered watches can turn a MODIFIED that
    /// leaves (enters) the selection into DELETED (ADDED) the way the watch cache does.
    pub prev: Option<Value>,
}

type Key = (String, String, String);

pub struct Store {
    objects: BTreeMap<Key, Value>,
    rv: u64,
    history: VecDeque<Event>,
    /// resourceVersion of the newest event dropped from the history.
    compacted: u64,
    uid_seq: u64,
    seed: u64,
    pub tx: broadcast::Sender<Event>,
}

pub fn key(res: &ResourceDef, ns: &str, name: &str) -> Key {
    (res.qualified(), ns.to_string(), name.to_string())
}

pub fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

pub fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

impl Store {
    pub fn new() -> Store {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7);
        Store {
            objects: BTreeMap::new(),
            rv: 1000,
            history: VecDeque::new(),
            compacted: 0,
            uid_seq: 0,
            seed,
            tx: broadcast::channel(4096).0,
        }
    }

    pub fn current_rv(&self) -> u64 {
        self.rv
    }

    pub fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// A v4-shaped UID, unique per server.
    pub fn new_uid(&mut self) -> String {
        self.uid_seq += 1;
        let mut x = self.seed ^ self.uid_seq.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut hex = String::new();
        for _ in 0..2 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            hex.push_str(&format!("{x:016x}"));
        }
        format!(
            "{}-{}-4{}-a{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        )
    }

    /// A `generateName` suffix from the apiserver's alphabet (no vowels, no confusables).
    pub fn name_suffix(&mut self) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        let mut x = self.new_uid().bytes().fold(self.seed, |h, b| {
            h.wrapping_mul(31).wrapping_add(u64::from(b))
        });
        (0..5)
            .map(|_| {
                let c = ALPHABET[(x % ALPHABET.len() as u64) as usize] as char;
                x /= ALPHABET.len() as u64;
                c
            })
            .collect()
    }

    pub fn get(&self, res: &ResourceDef, ns: &str, name: &str) -> Option<&Value> {
        self.objects.get(&key(res, ns, name))
    }

    /// Objects of one resource (optionally one namespace), ordered by namespace then name.
    pub fn list(&self, res: &ResourceDef, ns: Option<&str>) -> Vec<&Value> {
        let q = res.qualified();
        self.objects
            .iter()
            .filter(|((r, n, _), _)| *r == q && ns.is_none_or(|ns| ns == n))
            .map(|(_, v)| v)
            .collect()
    }

    /// A namespace exists if a Namespace object says so, if it is one every cluster has, or if
    /// any object lives in it (fixtures often carry pods without their Namespace).
    pub fn namespace_exists(&self, ns: &str) -> bool {
        matches!(
            ns,
            "default" | "kube-system" | "kube-public" | "kube-node-lease"
        ) || self
            .objects
            .keys()
            .any(|(r, n, name)| (r == "namespaces" && name == ns) || n == ns)
    }

    /// Stores (or removes, for DELETED) an object whose resourceVersion is already set, records
    /// the event and sends it to open watches.
    pub fn commit(&mut self, kind: &'static str, res: &'static ResourceDef, obj: Value) {
        let ns = meta_str(&obj, "namespace").to_string();
        let name = meta_str(&obj, "name").to_string();
        let k = key(res, &ns, &name);
        let prev = if kind == "DELETED" {
            self.objects.remove(&k)
        } else {
            self.objects.insert(k, obj.clone())
        };
        let rv = meta_str(&obj, "resourceVersion").parse().unwrap_or(self.rv);
        let event = Event {
            rv,
            kind,
            res,
            obj,
            prev,
        };
        self.history.push_back(event.clone());
        if self.history.len() > HISTORY
            && let Some(dropped) = self.history.pop_front()
        {
            self.compacted = dropped.rv;
        }
        // No open watch is not an error.
        let _ = self.tx.send(event);
    }

    /// Puts an object in as loaded from a fixture or pushed by a test: its kind picks the
    /// resource, missing server-set metadata is filled, and a resourceVersion is assigned unless
    /// `keep_rv` and the object has one.
    /// `kind` None: ADDED, or MODIFIED when it replaces an object.
    pub fn put(&mut self, mut obj: Value, kind: Option<&'static str>, keep_rv: bool) {
        let api_version = obj
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let obj_kind = obj
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let res = resources::by_kind(&api_version, &obj_kind).unwrap_or_else(|| {
            panic!("stand-in apiserver does not serve {api_version} {obj_kind}")
        });
        if !obj.get("metadata").is_some_and(Value::is_object) {
            obj["metadata"] = json!({});
        }
        // Whatever a cluster stores went through defaulting.
        validation::default_pod_specs(res, &mut obj);
        if res.namespaced && meta_str(&obj, "namespace").is_empty() {
            obj["metadata"]["namespace"] = json!("default");
        }
        if meta_str(&obj, "uid").is_empty() {
            obj["metadata"]["uid"] = json!(self.new_uid());
        }
        if meta_str(&obj, "creationTimestamp").is_empty() {
            obj["metadata"]["creationTimestamp"] = json!(now());
        }
        let kept = meta_str(&obj, "resourceVersion")
            .parse::<u64>()
            .ok()
            .filter(|_| keep_rv);
        let rv = match kept {
            Some(rv) => {
                self.rv = self.rv.max(rv);
                rv
            }
            None => self.next_rv(),
        };
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let exists = self
            .get(res, meta_str(&obj, "namespace"), meta_str(&obj, "name"))
            .is_some();
        let kind = kind.unwrap_or(if exists { "MODIFIED" } else { "ADDED" });
        self.commit(kind, res, obj);
    }

    /// Events after `rv` plus a receiver for later ones, taken under one lock so none is lost.
    pub fn subscribe(&self, rv: u64) -> Result<(Vec<Event>, broadcast::Receiver<Event>), ApiError> {
        if rv < self.compacted {
            return Err(ApiError::expired(rv, self.compacted));
        }
        let backlog = self.history.iter().filter(|e| e.rv > rv).cloned().collect();
        Ok((backlog, self.tx.subscribe()))
    }
}
