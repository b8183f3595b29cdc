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
    /// `best` as "YYYY-MM-DDTHH:MM:SS", in UTC: a time written that way (`utc_second`) that
    /// sorts before it is older, and is passed over without being parsed (most times in a
    /// dump are).
    best_second: [u8; 19],
}

impl Newest {
    pub(crate) fn get(&self) -> Option<Timestamp> {
        self.best
    }

    /// A time's text, as the API writes it (RFC 3339); anything else is not a time and ignored.
    pub(crate) fn observe(&mut self, text: &str) {
        let second = utc_second(text.as_bytes());
        if self.best.is_some() && second.is_some_and(|second| second < &self.best_second[..]) {
            return;
        }
        let Ok(time) = text.parse::<Timestamp>() else {
            return;
        };
        if self.best.is_some_and(|best| best >= time) {
            return;
        }
        self.best = Some(time);
        match second {
            Some(second) => self.best_second.copy_from_slice(second),
            None => self.best_second = second_of(time),
        }
    }

    pub(crate) fn merge_all(&mut self, other: Newest) {
        if other
            .best
            .is_some_and(|time| self.best.is_none_or(|best| best < time))
        {
            *self = other;
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

/// A time as "YYYY-MM-DDTHH:MM:SS", in UTC.
fn second_of(time: Timestamp) -> [u8; 19] {
    let mut second = [0; 19];
    let utc = time.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    if let Some(text) = utc.as_bytes().get(..19) {
        second.copy_from_slice(text);
    }
    second
}

/// The "YYYY-MM-DDTHH:MM:SS" of a time the API wrote in UTC ("…Z" or "….ffffffZ"), which
/// [`second_of`] would give for it; None for any other form. Its digits are checked (the
/// Rows reading takes them apart: `row_read::api_time`). (Formatting each newer time was 3%
/// of an offline run; nearly every time in a dump has this form.)
pub(crate) fn utc_second(text: &[u8]) -> Option<&[u8]> {
    let (second, rest) = text.split_at_checked(19)?;
    let digits_at = |at: &[usize]| at.iter().all(|&i| second[i].is_ascii_digit());
    let form = digits_at(&[0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 18])
        && second[4] == b'-'
        && second[7] == b'-'
        && second[10] == b'T'
        && second[13] == b':'
        && second[16] == b':'
        // A leap second (":60") is read as ":59", which its text would not say.
        && (b'0'..=b'5').contains(&second[17]);
    let utc = match rest {
        [b'Z'] => true,
        [b'.', fraction @ .., b'Z'] => {
            !fraction.is_empty() && fraction.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    };
    (form && utc).then_some(second)
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
    fn a_newer_time_in_another_form_is_not_passed_over() {
        let mut newest = Newest::default();
        newest.observe("2026-11-27T10:00:00Z");
        // Sorts before the best as text (' ' < 'T'), later in time.
        newest.observe("2026-11-27 11:00:00Z");
        assert_eq!(newest.get().unwrap().to_string(), "2026-11-27T11:00:00Z");
        newest.observe("2026-11-27T12:00:00+01:00");
        assert_eq!(newest.get().unwrap().to_string(), "2026-11-27T11:00:00Z");
        // Read as :59, which the text must not be taken to say.
        newest.observe("2026-12-31T23:59:60Z");
        newest.observe("2026-12-31T23:59:59.5Z");
        assert_eq!(newest.get().unwrap().to_string(), "2026-12-31T23:59:59.5Z");
    }

    #[test]
    fn only_a_utc_time_as_the_api_writes_it_gives_its_second_as_written() {
        for (text, second) in [
            ("2026-11-27T10:00:00Z", Some("2026-11-27T10:00:00")),
            ("2026-11-27T10:00:00.123456Z", Some("2026-11-27T10:00:00")),
            ("2026-11-27T10:00:00.Z", None),
            ("2026-11-27T10:00:00+00:00", None),
            ("2026-11-27 10:00:00Z", None),
            ("2026-11-27t10:00:00Z", None),
            ("2026-11-27T10:00:60Z", None),
            ("2026-11-27T10:00:00z", None),
            ("2026-11-27T10:00:00", None),
        ] {
            let got = utc_second(text.as_bytes()).map(|s| std::str::from_utf8(s).unwrap());
            assert_eq!(got, second, "{text}");
            // What it gives is what formatting the parsed time gives.
            if let (Some(got), Ok(time)) = (got, text.parse::<Timestamp>()) {
                assert_eq!(second_of(time), got.as_bytes());
            }
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
