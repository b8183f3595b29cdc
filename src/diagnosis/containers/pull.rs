//! Images that cannot be pulled: why (credentials, a missing image, the network, a bad name)
//! and whether the pod's pull secrets exist.

use crate::diagnosis::untrusted_all;
use crate::util::sanitize::Untrusted;
use k8s_openapi::api::core::v1::Event;

use super::{DiagnosedContainer, latest};
use crate::diagnosis::related::{Lookup, event_line};
use crate::diagnosis::{Diagnosis, Finding, FindingCode, Severity, Stage};

pub(super) fn image_pull(
    d: &mut Diagnosis,
    stage: Stage,
    container: &DiagnosedContainer,
    reason: &str,
    state: String,
    events: &[&Event],
) {
    let image = container.spec.image.clone().unwrap_or_default();
    let mut evidence = vec![state];
    let pulls = latest(events, &["Failed"], 2);
    evidence.extend(pulls.iter().map(|e| event_line(e)));
    let text: String = pulls
        .iter()
        .filter_map(|e| e.message.clone())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        + &container
            .status
            .state
            .as_ref()
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.message.clone())
            .unwrap_or_default()
            .to_lowercase();
    let missing_secrets = check_pull_secrets(d, &mut evidence);
    let cause = PullCause::of(&text);
    let ns = d.namespace().to_string();
    let next = if reason == "InvalidImageName" {
        format!("fix the image reference {image:?}: it is not a valid image name")
    } else if !missing_secrets.is_empty() {
        format!(
            "create the pull secret {} in {ns} (kubectl create secret docker-registry {} -n {ns} --docker-server=… --docker-username=… --docker-password=…), or point imagePullSecrets at one that exists",
            missing_secrets.join(", "),
            missing_secrets[0]
        )
    } else if cause == PullCause::RateLimited {
        format!(
            "the registry of {image} is rate-limiting pulls (HTTP 429): authenticate the pulls with an imagePullSecret for that registry (anonymous pulls share the node's IP limit), pull through a mirror or pull-through cache, or wait for the limit window to pass; the kubelet keeps retrying with back-off"
        )
    } else if cause == PullCause::Credentials {
        "the registry refused the credentials: check imagePullSecrets (or the service account's) for this registry".into()
    } else if cause == PullCause::NoSuchImage {
        format!("check the image name and tag: the registry does not have {image:?}")
    } else {
        "check that the node can reach the registry and that the image exists; the kubelet keeps retrying with back-off".into()
    };
    let (code, message) = if reason == "InvalidImageName" {
        (
            FindingCode::InvalidImageName,
            format!("{} has an invalid image name {image:?}", container.label),
        )
    } else if !missing_secrets.is_empty() {
        (
            FindingCode::ImagePullSecretMissing,
            format!(
                "{} cannot pull {image}: pull secret {} does not exist",
                container.label,
                missing_secrets.join(", ")
            ),
        )
    } else if cause == PullCause::RateLimited {
        (
            FindingCode::ImagePullRateLimited,
            format!(
                "{} cannot pull image {image}: the registry's pull rate limit is exhausted (429 Too Many Requests)",
                container.label
            ),
        )
    } else {
        (
            FindingCode::ImagePullFailed,
            format!("{} cannot pull image {image}", container.label),
        )
    };
    d.findings.push(Finding {
        stage,
        severity: Severity::Blocker,
        code,
        message: Untrusted::from(message),
        evidence: untrusted_all(evidence),
        next: Untrusted::from(next),
    });
}

/// What the registry's answer says, read from the pull errors (lowercased).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PullCause {
    /// HTTP 429 from the registry (Docker Hub's `toomanyrequests`, others' `429 Too Many
    /// Requests`): the image exists and the credentials may be fine.
    RateLimited,
    Credentials,
    NoSuchImage,
    /// Anything else: the network, the registry, a rate limit…
    Other,
}

impl PullCause {
    fn of(text: &str) -> PullCause {
        let says = |keys: &[&str]| keys.iter().any(|k| text.contains(k));
        if says(&["toomanyrequests", "too many requests", "rate limit"]) {
            PullCause::RateLimited
        } else if says(&[
            "unauthorized",
            "no basic auth",
            "authentication required",
            "denied",
            "403 forbidden",
            "401",
        ]) {
            PullCause::Credentials
        } else if says(&[
            "not found",
            "manifest unknown",
            "does not exist",
            "name unknown",
        ]) {
            PullCause::NoSuchImage
        } else {
            PullCause::Other
        }
    }
}

/// Evidence on the pod's imagePullSecrets (whether each exists, once the Secrets are fetched);
/// returns those that do not exist.
fn check_pull_secrets(d: &mut Diagnosis, evidence: &mut Vec<String>) -> Vec<String> {
    let pull_secrets: Vec<String> = d
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.image_pull_secrets.as_ref())
        .map(|l| l.iter().map(|r| r.name.clone()).collect())
        .unwrap_or_default();
    let mut missing_secrets = Vec::new();
    if pull_secrets.is_empty() {
        evidence.push("imagePullSecrets: none".into());
        return missing_secrets;
    }
    let ns = d.namespace().to_string();
    match d.related.secrets(&ns) {
        Lookup::Got(names) => {
            for s in &pull_secrets {
                if names.contains(s) {
                    evidence.push(format!("imagePullSecrets: {s} (exists)"));
                } else {
                    evidence.push(format!("imagePullSecrets: {s} (does not exist in {ns})"));
                    missing_secrets.push(s.clone());
                }
            }
        }
        Lookup::Unavailable(why) => {
            evidence.push(format!("imagePullSecrets: {}", pull_secrets.join(", ")));
            let why = why.to_string();
            d.note(format!("cannot check that the pull secrets exist: {why}"));
        }
        Lookup::Unfetched => {}
    }
    missing_secrets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_errors_are_read_for_their_cause() {
        let cause = |text: &str| PullCause::of(&text.to_lowercase());
        assert_eq!(
            cause("failed to authorize: 401 Unauthorized"),
            PullCause::Credentials
        );
        assert_eq!(
            cause("pull access denied for private/app, repository does not exist"),
            PullCause::Credentials
        );
        assert_eq!(
            cause("registry.example.com/app:v9: not found"),
            PullCause::NoSuchImage
        );
        assert_eq!(cause("manifest unknown"), PullCause::NoSuchImage);
        assert_eq!(
            cause(
                "429 Too Many Requests - Server message: toomanyrequests: You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit"
            ),
            PullCause::RateLimited
        );
        assert_eq!(
            cause(
                "unexpected status from GET request to https://quay.io/v2/x/manifests/1: 429 Too Many Requests"
            ),
            PullCause::RateLimited
        );
        assert_eq!(
            cause("dial tcp 10.0.0.1:443: i/o timeout"),
            PullCause::Other
        );
    }
}
