//! The newest time an offline input records: the clock its ages are read against by default, so
//! a dump reads as it did when it was taken (SPEC "Commands": Offline). Times are the ones the
//! API server and kubelet stamp as things happen; a deletionTimestamp is left out, as it lies a
//! grace period in the future.

use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

/// The keys whose values are the moments something happened to an object.
const TIME_KEYS: &[&str] = &[
    "creationTimestamp",
    "startTime",
    "lastTransitionTime",
    "lastProbeTime",
    "lastHeartbeatTime",
    "lastUpdateTime",
    "startedAt",
    "finishedAt",
    "firstTimestamp",
    "lastTimestamp",
    "eventTime",
    "lastObservedTime",
    "lastScheduleTime",
    "lastSuccessfulTime",
    "completionTime",
];

/// Whether a key names a moment (see [`TIME_KEYS`]).
pub(crate) fn is_time_key(key: &str) -> bool {
    // Every key the first pass meets is asked: most are turned away by their ending alone.
    (key.ends_with("Time") || key.ends_with("Timestamp") || key.ends_with("At"))
        && TIME_KEYS.contains(&key)
}

/// The newest of the times seen so far.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Newest {
    best: Option<Timestamp>,
    /// `best` as "YYYY-MM-DDTHH:MM:SS", in UTC: a UTC text that sorts before it is older, and
    /// is passed over without being parsed (most times in a dump are).
    best_second: [u8; 19],
}

impl Newest {
    pub(crate) fn get(&self) -> Option<Timestamp> {
        self.best
    }

    /// A time's text, as the API writes it (RFC 3339); anything else is not a time and ignored.
    pub(crate) fn observe(&mut self, text: &str) {
        let bytes = text.as_bytes();
        if self.best.is_some()
            && bytes.len() >= 20
            && bytes.ends_with(b"Z")
            && bytes[..19] < self.best_second[..]
        {
            return;
        }
        let Ok(time) = text.parse::<Timestamp>() else {
            return;
        };
        self.merge(time);
    }

    pub(crate) fn merge(&mut self, time: Timestamp) {
        if self.best.is_some_and(|best| best >= time) {
            return;
        }
        self.best = Some(time);
        let utc = time.strftime("%Y-%m-%dT%H:%M:%S").to_string();
        if let Some(second) = utc.as_bytes().get(..19) {
            self.best_second.copy_from_slice(second);
        }
    }

    pub(crate) fn merge_all(&mut self, other: Newest) {
        if let Some(time) = other.best {
            self.merge(time);
        }
    }

    /// Every time anywhere in a JSON value.
    pub(crate) fn observe_value(&mut self, value: &Value) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match value {
                        Value::String(text) if is_time_key(key) => self.observe(text),
                        _ => self.observe_value(value),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.observe_value(v)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_time_key_is_known_by_its_ending_too() {
        assert!(TIME_KEYS.iter().all(|k| is_time_key(k)));
        for other in ["time", "Timestamp", "restartedAt", "name", "lastTimes"] {
            assert!(!is_time_key(other), "{other}");
        }
    }

    #[test]
    fn the_newest_moment_wins_whatever_its_form() {
        let mut newest = Newest::default();
        newest.observe_value(&serde_json::json!({
            "metadata": {"creationTimestamp": "2026-11-27T10:00:00Z",
                "deletionTimestamp": "2026-11-30T00:00:00Z"},
            "status": {"conditions": [{"lastTransitionTime": "2026-11-27T10:03:00Z"}],
                "containerStatuses": [{"state": {"running": {"startedAt": "2026-11-27T10:02:00Z"}}}]},
            "managedFields": [{"time": "2026-11-29T00:00:00Z"}],
            "eventTime": "2026-11-27T10:03:00.500000Z",
            "lastTimestamp": "2026-11-27T12:03:30+02:00",
            "firstTimestamp": "not a time"
        }));
        // 12:03:30+02:00 is 10:03:30Z, after the microtime; the deletion and managedFields
        // times are not moments that happened.
        assert_eq!(newest.get().unwrap().to_string(), "2026-11-27T10:03:30Z");
    }
}
