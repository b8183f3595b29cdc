//! A server that answers 429 Too Many Requests says when to come back (`Retry-After`, and
//! `details.retryAfterSeconds` in its Status): honoured a bounded number of times, each wait
//! bounded, then a clear failure instead of a silent wait.

use std::time::Duration;

use kube::core::Status;

/// How many times one request is retried after a 429.
pub(crate) const RETRIES: u32 = 3;
/// The longest Retry-After honoured; a server asking for more gets a failure at once.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(10);
/// The wait when a 429 does not say how long.
const DEFAULT_WAIT: Duration = Duration::from_secs(1);

/// How long to wait before retry number `retried + 1`, or why not to retry.
pub(crate) fn wait(status: &Status, retried: u32) -> Result<Duration, String> {
    let asked = status
        .details
        .as_ref()
        .map(|d| d.retry_after_seconds)
        .filter(|s| *s > 0)
        .map(|s| Duration::from_secs(u64::from(s)));
    let wait = asked.unwrap_or(DEFAULT_WAIT);
    let said = crate::util::sanitize::for_terminal(&status.message).into_owned();
    if retried >= RETRIES {
        return Err(format!(
            "the server is throttling requests (429 Too Many Requests: {said}) and still was after {RETRIES} retries; try again later"
        ));
    }
    if wait > MAX_WAIT {
        return Err(format!(
            "the server is throttling requests (429 Too Many Requests: {said}) and asks to retry in {}s, longer than the {}s this command waits; try again later",
            wait.as_secs(),
            MAX_WAIT.as_secs()
        ));
    }
    Ok(wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttled(retry_after: u32) -> Status {
        let mut s = Status::failure("slow down", "TooManyRequests").with_code(429);
        s.details = Some(kube::core::response::StatusDetails {
            name: String::new(),
            group: String::new(),
            kind: String::new(),
            uid: String::new(),
            causes: Vec::new(),
            retry_after_seconds: retry_after,
        });
        s
    }

    #[test]
    fn retry_after_is_honoured_a_bounded_number_of_times() {
        assert_eq!(wait(&throttled(2), 0), Ok(Duration::from_secs(2)));
        assert_eq!(wait(&throttled(0), 2), Ok(DEFAULT_WAIT));
        let gave_up = wait(&throttled(1), RETRIES).unwrap_err();
        assert!(gave_up.contains("after 3 retries"), "{gave_up}");
        let too_long = wait(&throttled(3600), 0).unwrap_err();
        assert!(too_long.contains("retry in 3600s"), "{too_long}");
    }
}
