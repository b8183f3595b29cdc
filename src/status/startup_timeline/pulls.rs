//! Image pulls from the kubelet's events: Pulling → Pulled (its "in 1.2s" finer than the events'
//! seconds), failed pulls counted; and the event times and container names they carry.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::jiff::Timestamp;

use super::{Builder, Span, StepKind, StepState};
use crate::util::duration::go_duration_seconds;

pub(super) fn first_time(e: &Event) -> Option<Timestamp> {
    e.first_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.last_timestamp.as_ref().map(|t| t.0))
}

fn last_time(e: &Event) -> Option<Timestamp> {
    e.series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref())
        .map(|t| t.0)
        .or_else(|| e.last_timestamp.as_ref().map(|t| t.0))
        .or_else(|| first_time(e))
}

/// `spec.initContainers{init-migrate}` → ("init-migrate").
pub(super) fn container_of(e: &Event) -> Option<&str> {
    let path = e.involved_object.field_path.as_deref()?;
    let inner = path.split_once('{')?.1.strip_suffix('}')?;
    Some(inner)
}

/// One pull row per container whose image the kubelet pulled (or found present): from the
/// Pulling event to the Pulled event, its duration taken from Pulled's "in 1.2s" when given.
pub(super) fn pulls(b: &mut Builder, pod: &Pod, events: &[&Event]) {
    let mut order: Vec<&str> = Vec::new();
    let mut by_container: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for e in events {
        let reason = e.reason.as_deref().unwrap_or_default();
        if !matches!(reason, "Pulling" | "Pulled" | "Failed" | "BackOff") {
            continue;
        }
        let Some(c) = container_of(e) else { continue };
        if reason == "Failed" || reason == "BackOff" {
            let msg = e.message.as_deref().unwrap_or_default();
            if !msg.contains("pull") {
                continue;
            }
        }
        if !order.contains(&c) {
            order.push(c);
        }
        by_container.entry(c).or_default().push(e);
    }
    let image_of = |name: &str| -> String {
        let spec = pod.spec.as_ref();
        spec.into_iter()
            .flat_map(|s| s.init_containers.iter().flatten().chain(&s.containers))
            .find(|c| c.name == name)
            .and_then(|c| c.image.clone())
            .unwrap_or_default()
    };
    for c in order {
        let evs = &by_container[c];
        let find = |r: &str| {
            evs.iter()
                .filter(|e| e.reason.as_deref() == Some(r))
                .max_by_key(|e| last_time(e))
        };
        let pulling = find("Pulling");
        let pulled = find("Pulled");
        let failed = evs
            .iter()
            .filter(|e| e.reason.as_deref() != Some("Pulling"))
            .filter(|e| e.reason.as_deref() != Some("Pulled"))
            .map(|e| e.count.unwrap_or(1).max(1))
            .sum::<i32>();
        let message = pulled
            .and_then(|e| e.message.as_deref())
            .unwrap_or_default();
        let present = message.contains("already present");
        let Some(start) = pulling
            .and_then(|e| last_time(e))
            .or_else(|| pulled.and_then(|e| last_time(e)))
        else {
            continue;
        };
        let end = pulled.and_then(|e| last_time(e)).filter(|t| *t >= start);
        let mut span = Span::new(start, end.or(present.then_some(start)));
        span.exact_seconds = pulled.and_then(|e| pulled_in(e.message.as_deref()?));
        if present {
            span.note = Some("already present".into());
            span.exact_seconds = Some(0.0);
        } else if end.is_none() && failed > 0 {
            span.state = StepState::Failed;
            span.note = Some(format!("{failed} failed pulls"));
        } else if failed > 0 {
            span.note = Some(format!("after {failed} failed pulls"));
        }
        span.restarts = failed;
        // The image's last path segment: the registry and repository path rarely fit a row
        // (documents carry `image` whole).
        let image = image_of(c);
        let short = image.rsplit('/').next().unwrap_or(&image);
        let subject = format!("pull {short}");
        span.image = Some(image.clone());
        b.push(StepKind::Pull, &subject, format!("pull/{c}"), span);
    }
}

/// The pull time in a Pulled message: `Successfully pulled image "x" in 1.2s (1.2s including
/// waiting)` — the first duration (the pull itself; the one in brackets adds queueing).
fn pulled_in(message: &str) -> Option<f64> {
    let rest = message.split_once("\" in ")?.1;
    let word = rest.split_whitespace().next()?;
    go_duration_seconds(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_time_is_the_first_duration_of_a_pulled_message() {
        let m = r#"Successfully pulled image "registry.example.com/orders-migrate:2.4.1" in 1m2.5s (1m30s including waiting). Image size: 48213004 bytes."#;
        assert_eq!(pulled_in(m), Some(62.5));
        assert_eq!(
            pulled_in(
                r#"Successfully pulled image "busybox:1.36" in 512ms (512ms including waiting)"#
            ),
            Some(0.512)
        );
        assert_eq!(
            pulled_in(r#"Container image "busybox:1.36" already present on machine"#),
            None
        );
    }
}
