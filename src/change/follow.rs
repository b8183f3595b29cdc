//! `--wait`: follow new pods through init until they are Ready, fail, or time runs out. Polls
//! rather than watches, so a dropped watch or a transient server error cannot end the wait.

use crate::util::sanitize::Untrusted;
use std::io::Write;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;

use serde_json::Value;

use crate::cluster::{Cluster, Kind, owner, pod_query};
use crate::error::{Error, Result};
use crate::input::target::WorkloadKind;
use crate::status::print_pod;

/// What to follow.
pub(crate) enum Followed {
    Pod {
        namespace: String,
        name: String,
    },
    /// New pods of a workload: `expected` of them that did not exist before (`existing` uids),
    /// running `images` (container name → image).
    Selected {
        namespace: String,
        labels: String,
        expected: Option<i32>,
        images: Vec<(String, String)>,
        existing: Vec<String>,
    },
}

/// The pods that are to replace others: matched by `labels`, and not among `existing` (the
/// uids of the pods the selector matches before the change).
pub(super) struct Replacements {
    namespace: String,
    labels: String,
    existing: Vec<String>,
}

impl Replacements {
    /// For a rollout of the workload's template: the pods its selector matches.
    pub(super) async fn of_workload(
        cluster: &Cluster,
        namespace: &str,
        kind: WorkloadKind,
        name: &str,
    ) -> Result<Replacements> {
        let workload = cluster
            .get_json(Kind::Workload(kind), namespace, name)
            .await?;
        let labels = pod_query::pod_selector(kind, &workload)
            .map(|s| s.to_query())
            .unwrap_or_default();
        Replacements::matching(cluster, namespace, labels).await
    }

    /// For a deleted pod: its controller's next pods, whatever their template revision.
    pub(super) async fn of_pod(
        cluster: &Cluster,
        namespace: &str,
        pod: &Value,
    ) -> Result<Replacements> {
        Replacements::matching(cluster, namespace, owner::replacement_selector(pod)).await
    }

    async fn matching(cluster: &Cluster, namespace: &str, labels: String) -> Result<Replacements> {
        let page = cluster
            .list_pods_page(Some(namespace), Some(&labels), None, None)
            .await?;
        let existing = page
            .pods
            .into_iter()
            .filter_map(|p| p.metadata.uid)
            .collect();
        Ok(Replacements {
            namespace: namespace.to_string(),
            labels,
            existing,
        })
    }

    /// Follow `expected` of them (one if unknown), running `images` (none: any).
    pub(super) fn followed(self, expected: Option<i32>, images: Vec<(String, String)>) -> Followed {
        Followed::Selected {
            namespace: self.namespace,
            labels: self.labels,
            expected,
            images,
            existing: self.existing,
        }
    }
}

const POLL: Duration = Duration::from_millis(500);
/// Consecutive failed polls before the wait gives up.
const MAX_ERRORS: u32 = 20;

fn failed(pod: &Pod) -> bool {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Failed")
}

fn runs_images(pod: &Pod, images: &[(String, String)]) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return false;
    };
    images.iter().all(|(name, image)| {
        spec.init_containers
            .iter()
            .flatten()
            .chain(spec.containers.iter())
            .any(|c| &c.name == name && c.image.as_deref() == Some(image.as_str()))
    })
}

fn line(pods: &[Pod]) -> String {
    if pods.is_empty() {
        return "waiting for the pod to appear".into();
    }
    pods.iter()
        .map(|p| {
            // The spinner draws straight to the terminal, past main's guard: escape here.
            format!(
                "pod/{} {}",
                Untrusted::from(p.metadata.name.clone().unwrap_or_default()),
                Untrusted::from(print_pod::summarize(p).status)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The followed pods as they are now: the pod, or the new pods of the selector.
async fn followed_now(cluster: &Cluster, what: &Followed) -> Result<Vec<Pod>> {
    match what {
        Followed::Pod { namespace, name } => cluster
            .find_pod(namespace, name)
            .await
            .map(|p| p.into_iter().collect()),
        Followed::Selected {
            namespace,
            labels,
            images,
            existing,
            ..
        } => cluster
            .list_pods_page(Some(namespace), Some(labels), None, None)
            .await
            .map(|page| {
                page.pods
                    .into_iter()
                    .filter(|p| {
                        p.metadata.deletion_timestamp.is_none()
                            && !p
                                .metadata
                                .uid
                                .as_ref()
                                .is_some_and(|u| existing.contains(u))
                            && runs_images(p, images)
                    })
                    .collect()
            }),
    }
}

pub(super) async fn follow(
    cluster: &Cluster,
    what: &Followed,
    timeout: Duration,
    terminal: bool,
    err: &mut dyn Write,
) -> Result<()> {
    let spinner = terminal.then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last = String::new();
    let mut errors = 0;
    let outcome = loop {
        let pods = followed_now(cluster, what).await;
        let pods: Vec<Pod> = match pods {
            Ok(p) => {
                errors = 0;
                p
            }
            Err(e) => {
                errors += 1;
                if errors >= MAX_ERRORS {
                    break Err(e);
                }
                Vec::new()
            }
        };
        let now = line(&pods);
        if now != last {
            match &spinner {
                Some(bar) => bar.set_message(now.clone()),
                None => {
                    let _ = writeln!(err, "{now}");
                }
            }
            last = now;
        }
        let expected = match what {
            Followed::Pod { .. } => 1,
            Followed::Selected { expected, .. } => expected.unwrap_or(1).max(1) as usize,
        };
        if let Some(p) = pods.iter().find(|p| failed(p)) {
            break Err(Error::Input(format!(
                "pod/{} failed: {}",
                p.metadata.name.clone().unwrap_or_default(),
                print_pod::summarize(p).status
            )));
        }
        if pods.len() >= expected && pods.iter().all(|p| print_pod::has_condition(p, "Ready")) {
            break Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            break Err(Error::Input(format!(
                "timed out after {}s waiting for Ready: {last}",
                timeout.as_secs()
            )));
        }
        tokio::time::sleep(POLL).await;
    };
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    if outcome.is_ok() {
        let _ = writeln!(err, "{last}: ready");
    }
    outcome
}
