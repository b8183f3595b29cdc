//! The startup timelines of a workload's pods → per step: how many pods had it, p50 / p95 / max
//! duration, and how many pods failed at it at least once. Pure.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::status::startup_timeline::{StartupTimeline, StepKind, StepState, container_key};
use crate::util::sanitize::Untrusted;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    pub p50: f64,
    pub p95: f64,
    pub max: f64,
}

impl Spread {
    /// Nearest-rank percentiles (the value at rank ⌈p·n⌉), so every number is one a pod had.
    fn of(mut values: Vec<f64>) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let r = (p * values.len() as f64).ceil() as usize;
            values[r.clamp(1, values.len()) - 1]
        };
        Some(Spread {
            p50: rank(0.50),
            p95: rank(0.95),
            max: values[values.len() - 1],
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepStats {
    pub key: String,
    pub kind: StepKind,
    pub subject: Untrusted,
    /// Pods that reached this step.
    pub pods: usize,
    /// Pods still in this step.
    pub running: usize,
    /// Pods where it failed at least once (a failed or restarted run, a failed pull).
    pub failed: usize,
    pub seconds: Spread,
    /// This step's share of all the pods' startup time together (percent; a container's earlier
    /// runs count with it).
    pub share_percent: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartupAggregate {
    pub pods: usize,
    /// Pods Ready now.
    pub ready: usize,
    /// Creation → Ready (or → now while not Ready), per pod.
    pub total_seconds: Option<Spread>,
    pub steps: Vec<StepStats>,
    /// The step with the largest share of all the pods' startup time.
    pub biggest: Option<String>,
    pub notes: Vec<String>,
}

/// Per step across `timelines`, in the order the steps happen (by their mean place in the pods'
/// sequences).
pub fn aggregate(timelines: &[StartupTimeline]) -> StartupAggregate {
    struct Acc {
        kind: StepKind,
        subject: Untrusted,
        durations: Vec<f64>,
        /// Where the step stands in each pod's sequence.
        offsets: Vec<f64>,
        running: usize,
        failed: usize,
    }
    let mut by_key: BTreeMap<String, Acc> = BTreeMap::new();
    let mut earlier: BTreeMap<String, f64> = BTreeMap::new();
    for t in timelines {
        let mut failed_keys: Vec<String> = Vec::new();
        for (position, s) in t.steps.iter().enumerate() {
            let failed = s.state == StepState::Failed || s.restarts > 0;
            let counted_as = container_key(&s.key);
            if counted_as != s.key {
                // An earlier run: a failure of the container, and time it took.
                *earlier.entry(counted_as.clone()).or_default() += s.duration_seconds;
                if failed {
                    failed_keys.push(counted_as);
                }
                continue;
            }
            let acc = by_key.entry(s.key.clone()).or_insert_with(|| Acc {
                kind: s.kind,
                subject: s.subject.clone(),
                durations: Vec::new(),
                offsets: Vec::new(),
                running: 0,
                failed: 0,
            });
            acc.durations.push(s.duration_seconds);
            acc.offsets.push(position as f64);
            acc.running += usize::from(s.state == StepState::Running);
            if failed {
                failed_keys.push(s.key.clone());
            }
        }
        failed_keys.sort();
        failed_keys.dedup();
        for key in failed_keys {
            if let Some(acc) = by_key.get_mut(&key) {
                acc.failed += 1;
            }
        }
    }
    let all_time: f64 = timelines.iter().map(|t| t.total_seconds).sum();
    let mut steps: Vec<(f64, StepStats)> = by_key
        .into_iter()
        .filter_map(|(key, acc)| {
            let share = if all_time > 0.0 {
                let took = acc.durations.iter().sum::<f64>() + earlier.get(&key).unwrap_or(&0.0);
                (took / all_time * 100.0).round() as u32
            } else {
                0
            };
            let offset = acc.offsets.iter().sum::<f64>() / acc.offsets.len() as f64;
            Some((
                offset,
                StepStats {
                    key,
                    kind: acc.kind,
                    subject: acc.subject,
                    pods: acc.durations.len(),
                    running: acc.running,
                    failed: acc.failed,
                    seconds: Spread::of(acc.durations)?,
                    share_percent: share.min(100),
                },
            ))
        })
        .collect();
    steps.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.kind.cmp(&b.1.kind)));
    let steps: Vec<StepStats> = steps.into_iter().map(|(_, s)| s).collect();
    let biggest = steps
        .iter()
        .filter(|s| s.share_percent > 0)
        .max_by_key(|s| s.share_percent)
        .map(|s| s.key.clone());
    let mut notes: Vec<String> = timelines.iter().flat_map(|t| t.notes.clone()).collect();
    notes.sort();
    notes.dedup();
    StartupAggregate {
        pods: timelines.len(),
        ready: timelines.iter().filter(|t| t.ready_at.is_some()).count(),
        total_seconds: Spread::of(timelines.iter().map(|t| t.total_seconds).collect()),
        steps,
        biggest,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let s = Spread::of((1..=20).map(f64::from).collect()).unwrap();
        assert_eq!((s.p50, s.p95, s.max), (10.0, 19.0, 20.0));
        let one = Spread::of(vec![7.0]).unwrap();
        assert_eq!((one.p50, one.p95, one.max), (7.0, 7.0, 7.0));
        assert!(Spread::of(Vec::new()).is_none());
    }
}
