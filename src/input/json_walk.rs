//! The first pass's walk over JSON it does not keep (see `json_stream`): every value checked
//! (syntax, duplicate keys) and its times noted, nothing built.

use std::fmt;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::input::newest::{Newest, is_time_key};
use crate::input::yaml::StrictValue;

/// Whether a Pod's metadata had a name.
#[derive(PartialEq, Eq)]
pub(crate) enum NameSeen {
    Absent,
    Present,
}

/// A Pod's metadata: walked, its name checked where typing it as something named would fail.
pub(crate) struct MetaSeed<'a> {
    pub(crate) newest: &'a mut Newest,
}

impl<'de> DeserializeSeed<'de> for MetaSeed<'_> {
    type Value = NameSeen;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<NameSeen, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MetaSeed<'_> {
    type Value = NameSeen;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the Pod's metadata")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NameSeen, A::Error> {
        let mut keys = KeySet::default();
        let mut name = NameSeen::Absent;
        while let Some(key) = map.next_key_seed(KeySeed {
            keys: &keys,
            keep: false,
        })? {
            if key.role == Role::Name {
                match map.next_value::<NameValue>()? {
                    NameValue::Empty => return Err(A::Error::custom("Pod has no metadata.name")),
                    NameValue::Other => name = NameSeen::Present,
                }
            } else {
                map.next_value_seed(Walk {
                    newest: &mut *self.newest,
                    time: key.role == Role::Time,
                })?;
            }
            keys.insert::<A::Error>(key)?;
        }
        if name == NameSeen::Absent {
            return Err(A::Error::custom("Pod has no metadata.name"));
        }
        Ok(name)
    }
    // Metadata that is not an object: left for typing the Pod to report.
    fn visit_unit<E>(self) -> Result<NameSeen, E> {
        Ok(NameSeen::Present)
    }
    fn visit_bool<E>(self, _: bool) -> Result<NameSeen, E> {
        Ok(NameSeen::Present)
    }
    fn visit_i64<E>(self, _: i64) -> Result<NameSeen, E> {
        Ok(NameSeen::Present)
    }
    fn visit_u64<E>(self, _: u64) -> Result<NameSeen, E> {
        Ok(NameSeen::Present)
    }
    fn visit_f64<E>(self, _: f64) -> Result<NameSeen, E> {
        Ok(NameSeen::Present)
    }
    fn visit_str<E>(self, _: &str) -> Result<NameSeen, E> {
        Ok(NameSeen::Present)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NameSeen, A::Error> {
        while seq.next_element_seed(StrictValue)?.is_some() {}
        Ok(NameSeen::Present)
    }
}

/// `metadata.name`: an empty or null name is no name; any other type is for typing to report.
enum NameValue {
    Empty,
    Other,
}

impl<'de> Deserialize<'de> for NameValue {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NameValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a name")
            }
            fn visit_str<E>(self, v: &str) -> Result<NameValue, E> {
                Ok(if v.is_empty() {
                    NameValue::Empty
                } else {
                    NameValue::Other
                })
            }
            fn visit_unit<E>(self) -> Result<NameValue, E> {
                Ok(NameValue::Empty)
            }
            fn visit_bool<E>(self, _: bool) -> Result<NameValue, E> {
                Ok(NameValue::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<NameValue, E> {
                Ok(NameValue::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<NameValue, E> {
                Ok(NameValue::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<NameValue, E> {
                Ok(NameValue::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NameValue, A::Error> {
                while seq.next_element_seed(StrictValue)?.is_some() {}
                Ok(NameValue::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<NameValue, A::Error> {
                Walk::checked(map)?;
                Ok(NameValue::Other)
            }
        }
        de.deserialize_any(V)
    }
}

/// Any value, walked without being built: syntax and duplicate keys checked, times noted.
pub(crate) struct Walk<'a> {
    pub(crate) newest: &'a mut Newest,
    /// The value is under a key that names a moment.
    pub(crate) time: bool,
}

impl Walk<'_> {
    /// A map walked for its checks only.
    pub(crate) fn checked<'de, A: MapAccess<'de>>(map: A) -> Result<(), A::Error> {
        let mut newest = Newest::default();
        Walk {
            newest: &mut newest,
            time: false,
        }
        .visit_map(map)
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        if self.time {
            self.newest.observe(v);
        }
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Walk {
                newest: &mut *self.newest,
                time: false,
            })?
            .is_some()
        {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys = KeySet::default();
        while let Some(key) = map.next_key_seed(KeySeed {
            keys: &keys,
            keep: false,
        })? {
            map.next_value_seed(Walk {
                newest: &mut *self.newest,
                time: key.role == Role::Time,
            })?;
            keys.insert::<A::Error>(key)?;
        }
        Ok(())
    }
}

/// What a key means to the first pass.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Kind,
    Items,
    Metadata,
    Name,
    Time,
    Other,
}

/// A key, read without being kept: its hash (for the duplicate check), its role, and its text
/// only when it is needed (kept as a field, or named in an error).
pub(crate) struct Key {
    hash: u64,
    pub(crate) role: Role,
    text: Option<String>,
    duplicate: bool,
}

impl Key {
    pub(crate) fn text(&self) -> String {
        self.text.clone().unwrap_or_default()
    }
}

/// The keys of one mapping so far, by hash: a second key with the same hash is refused as
/// a duplicate. (Two different keys of one mapping sharing a 64-bit hash is not a real risk.)
#[derive(Default)]
pub(crate) struct KeySet {
    hashes: Vec<u64>,
}

impl KeySet {
    fn contains(&self, hash: u64) -> bool {
        self.hashes.contains(&hash)
    }

    /// Called after the key's value was read, where the whole-value reading refused it too.
    pub(crate) fn insert<E: serde::de::Error>(&mut self, key: Key) -> Result<(), E> {
        if key.duplicate {
            return Err(E::custom(format!(
                "key {:?} already set in this mapping: keys must be unique",
                key.text()
            )));
        }
        // A mapping with very many keys is hostile or broken: past this, checking every key
        // against every other would be quadratic, so the hashes are kept sorted.
        if self.hashes.len() >= 64 {
            if let Err(at) = self.hashes.binary_search(&key.hash) {
                self.hashes.insert(at, key.hash);
            }
            return Ok(());
        }
        self.hashes.push(key.hash);
        if self.hashes.len() == 64 {
            self.hashes.sort_unstable();
        }
        Ok(())
    }

    fn holds(&self, hash: u64) -> bool {
        if self.hashes.len() >= 64 {
            self.hashes.binary_search(&hash).is_ok()
        } else {
            self.contains(hash)
        }
    }
}

pub(crate) struct KeySeed<'a> {
    pub(crate) keys: &'a KeySet,
    /// The key's text is wanted (the value is kept as a field).
    pub(crate) keep: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Key, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, v: &str) -> Result<Key, E> {
        let hash = key_hash(v);
        let role = match v {
            "kind" => Role::Kind,
            "items" => Role::Items,
            "metadata" => Role::Metadata,
            "name" => Role::Name,
            _ if is_time_key(v) => Role::Time,
            _ => Role::Other,
        };
        let duplicate = self.keys.holds(hash);
        // Kept as text only where it becomes a field or is named in an error.
        Ok(Key {
            hash,
            role,
            text: (self.keep || duplicate || role != Role::Other).then(|| v.to_string()),
            duplicate,
        })
    }
}

/// A key's hash, by which the walks refuse duplicates.
pub(crate) fn key_hash(text: &str) -> u64 {
    use std::hash::BuildHasher;
    // foldhash rather than std's SipHash: every key of an offline input is hashed, and SipHash
    // was 4% of reading one. A fixed seed, like the SipHash keys before it.
    foldhash::fast::FixedState::default().hash_one(text)
}
