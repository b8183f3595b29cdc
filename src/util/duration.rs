//! kubectl's `HumanDuration` (k8s.io/apimachinery/pkg/util/duration) and the `--request-timeout`
//! parser. Ages and "(Xm ago)" must read exactly as `kubectl get pods` prints them.

use std::time::Duration;

use k8s_openapi::jiff::{SignedDuration, Timestamp};

use crate::error::Error;

/// The age of `since` at `now`, as `kubectl get` prints it; `<unknown>` for a missing timestamp.
pub fn since(since: Option<Timestamp>, now: Timestamp) -> String {
    match since {
        Some(t) => human(now.duration_since(t)),
        None => "<unknown>".to_string(),
    }
}

/// HumanDuration: two significant units at most, coarser as the duration grows.
pub fn human(d: SignedDuration) -> String {
    // Go converts with int(d.Seconds()): truncation toward zero, so -1.5s is "0s".
    let seconds = d.as_secs();
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let (days, h) = (hours / 24, hours % 24);
        return if h == 0 {
            format!("{days}d")
        } else {
            format!("{days}d{h}h")
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let years = hours / 24 / 365;
        let days = (hours / 24) % 365;
        return if days == 0 {
            format!("{years}y")
        } else {
            format!("{years}y{days}d")
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// The units of a Go `time.Duration` string, in seconds.
const GO_UNITS: &[(&str, f64)] = &[
    ("h", 3600.0),
    ("m", 60.0),
    ("s", 1.0),
    ("ms", 1e-3),
    ("µs", 1e-6),
    ("us", 1e-6),
    ("ns", 1e-9),
];

/// The units `--request-timeout` takes.
const TIMEOUT_UNITS: &[(&str, f64)] = &[("h", 3600.0), ("m", 60.0), ("s", 1.0), ("ms", 1e-3)];

/// A Go `time.Duration` string (`1h2m3.5s`, `512ms`, `1.2µs`) in seconds; a unit is required.
pub(crate) fn go_duration_seconds(text: &str) -> Option<f64> {
    go_duration_in(text, GO_UNITS)
}

/// A Go duration whose units are all among `units`.
fn go_duration_in(text: &str, units: &[(&str, f64)]) -> Option<f64> {
    if text.is_empty() {
        return None;
    }
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let value: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (_, scale) = units.iter().find(|(unit, _)| *unit == &rest[..unit_len])?;
        total += value * scale;
        rest = &rest[unit_len..];
    }
    Some(total)
}

/// kubectl's `--request-timeout`: a bare integer is seconds, otherwise a Go duration with
/// units h, m, s, ms (e.g. "1m30s"). "0" means no limit.
pub fn parse_timeout(text: &str) -> Result<Option<Duration>, Error> {
    let invalid = || {
        Error::Input(format!(
            "invalid --request-timeout {text:?}: use a number of seconds or a duration such as 30s, 1m, 2h"
        ))
    };
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Ok((secs > 0).then(|| Duration::from_secs(secs)));
    }
    let seconds = go_duration_in(text, TIMEOUT_UNITS).ok_or_else(invalid)?;
    // A finite but enormous value ("99999999999999999999h") is bad input, not a panic.
    let total = Duration::try_from_secs_f64(seconds).map_err(|_| invalid())?;
    Ok((!total.is_zero()).then_some(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(secs: i64) -> String {
        human(SignedDuration::from_secs(secs))
    }

    #[test]
    fn go_durations_in_seconds() {
        assert_eq!(go_duration_seconds("1h2m3s"), Some(3723.0));
        assert_eq!(go_duration_seconds("512ms"), Some(0.512));
        assert_eq!(go_duration_seconds("5"), None, "a unit is required");
        assert_eq!(go_duration_seconds("5x"), None);
    }

    #[test]
    fn human_duration_matches_apimachinery_branches() {
        assert_eq!(h(-5), "<invalid>");
        assert_eq!(human(SignedDuration::from_millis(-1500)), "0s");
        assert_eq!(h(0), "0s");
        assert_eq!(h(119), "119s");
        assert_eq!(h(120), "2m");
        assert_eq!(h(330), "5m30s");
        assert_eq!(h(600), "10m");
        assert_eq!(h(179 * 60 + 59), "179m");
        assert_eq!(h(3 * 3600), "3h");
        assert_eq!(h(3 * 3600 + 12 * 60 + 5), "3h12m");
        assert_eq!(h(8 * 3600), "8h");
        assert_eq!(h(47 * 3600 + 59 * 60), "47h");
        assert_eq!(h(48 * 3600), "2d");
        assert_eq!(h(2 * 86400 + 5 * 3600), "2d5h");
        assert_eq!(h(8 * 86400), "8d");
        assert_eq!(h(400 * 86400), "400d");
        assert_eq!(h(730 * 86400), "2y");
        assert_eq!(h(800 * 86400), "2y70d");
        assert_eq!(h(9 * 365 * 86400), "9y");
    }

    #[test]
    fn request_timeout_accepts_kubectl_forms() {
        assert_eq!(parse_timeout("0").unwrap(), None);
        assert_eq!(parse_timeout("30").unwrap(), Some(Duration::from_secs(30)));
        assert_eq!(
            parse_timeout("1m30s").unwrap(),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse_timeout("500ms").unwrap(),
            Some(Duration::from_millis(500))
        );
        assert!(parse_timeout("soon").is_err());
        assert!(parse_timeout("5x").is_err());
        assert!(parse_timeout("1us").is_err(), "only h, m, s and ms");
        assert!(
            parse_timeout("99999999999999999999999h").is_err(),
            "too big is an error, not a panic"
        );
    }
}
