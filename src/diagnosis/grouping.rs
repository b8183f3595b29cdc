//! `explain` at scale: pods with the same top-level owner held up by the same thing are one
//! group, shown once (the owner, the count, a few names, the finding of one representative),
//! and the scope is tallied by stage and cause. Pure, and linear in the pods: one hash-map
//! pass, then a sort of the groups.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use super::{Explanation, FindingCode, Severity, Stage};
use crate::status::report::{self, Owner};
use crate::util::sanitize::Untrusted;

/// Pods of one owner, in one namespace, stopped by the same finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// The top-level owner (a Deployment rather than its ReplicaSet, a CronJob rather than its
    /// Job); a pod without a controller is its own owner (`kind: Pod`).
    pub owner: Owner,
    pub namespace: Untrusted,
    /// The lead finding's code (none when the pods have no finding).
    pub code: Option<FindingCode>,
    pub stage: Stage,
    /// The stage as the summary sentence says it (`Stuck in init`).
    #[serde(skip)]
    pub stage_phrase: &'static str,
    /// Pod names, sorted; the first is the representative whose evidence stands for the group.
    pub pods: Vec<Untrusted>,
    /// Indices of the pods into the explanations, in the order of `pods`.
    #[serde(skip)]
    pub members: Vec<usize>,
}

impl Group {
    /// The explanation whose findings and log stand for the whole group.
    pub fn representative(&self) -> usize {
        self.members[0]
    }
}

/// The scope in counts, for the summary that opens a multi-pod explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub explained: usize,
    /// Pods with a blocker (the rest have warnings or nothing to say).
    pub blocked: usize,
    /// Stage phrase → pods, most first.
    pub by_stage: Vec<(&'static str, usize)>,
    /// Lead finding's code → pods, most first (`None`: no finding).
    pub by_cause: Vec<(Option<FindingCode>, usize)>,
}

/// Groups `explanations` (one per pod of `pods`, in the same order), most pods first.
pub fn group(pods: &[Pod], explanations: &[Explanation], now: Timestamp) -> Vec<Group> {
    let mut index: HashMap<GroupKey, usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    for (i, (pod, e)) in pods.iter().zip(explanations).enumerate() {
        let owner = top_level_owner(pod, now).unwrap_or_else(|| Owner {
            kind: "Pod".into(),
            name: e.name.clone(),
        });
        let Placement { stage, lead } = placement(e);
        let key = GroupKey {
            namespace: e.namespace.raw().to_string(),
            owner_kind: owner.kind.raw().to_string(),
            owner_name: owner.name.raw().to_string(),
            code: lead.map(|(code, _)| code.as_str()),
            stage: stage.phrase(),
            cause: lead.map_or_else(String::new, |(_, message)| cause(message, e.name.raw())),
        };
        let slot = *index.entry(key).or_insert_with(|| {
            groups.push(Group {
                owner,
                namespace: e.namespace.clone(),
                code: lead.map(|(code, _)| code),
                stage,
                stage_phrase: stage.phrase(),
                pods: Vec::new(),
                members: Vec::new(),
            });
            groups.len() - 1
        });
        groups[slot].members.push(i);
    }
    for g in &mut groups {
        g.members
            .sort_by(|a, b| explanations[*a].name.raw().cmp(explanations[*b].name.raw()));
        g.pods = g
            .members
            .iter()
            .map(|m| explanations[*m].name.clone())
            .collect();
    }
    groups.sort_by(|a, b| {
        b.members.len().cmp(&a.members.len()).then_with(|| {
            (a.namespace.raw(), a.owner.kind.raw(), a.owner.name.raw())
                .cmp(&(b.namespace.raw(), b.owner.kind.raw(), b.owner.name.raw()))
                .then_with(|| {
                    explanations[a.members[0]]
                        .name
                        .raw()
                        .cmp(explanations[b.members[0]].name.raw())
                })
        })
    });
    groups
}

/// What of a pod's explanation [`group`] keys it by: its stage and its lead finding's code and
/// message. The rest of the key is the pod's own (namespace, owner, name).
#[derive(Clone, Copy, PartialEq)]
struct Placement<'e> {
    stage: Stage,
    lead: Option<(FindingCode, &'e str)>,
}

fn placement(e: &Explanation) -> Placement<'_> {
    Placement {
        stage: e.stage,
        lead: e.findings.first().map(|f| (f.code, f.message.raw())),
    }
}

/// Whether [`group`] places a pod explained as `before` and as `after` alike, so that when
/// this holds for every pod explained again, the groups found before stand.
pub fn placed_alike(before: &Explanation, after: &Explanation) -> bool {
    placement(before) == placement(after)
}

/// The pods' stages and lead causes, counted.
pub fn tally(explanations: &[Explanation]) -> Tally {
    let mut by_stage: Vec<(&'static str, usize)> = Vec::new();
    // Keyed by the code's name: the codes are compared, never hashed, elsewhere.
    let mut by_cause: HashMap<Option<&'static str>, (Option<FindingCode>, usize)> = HashMap::new();
    let mut blocked = 0;
    for e in explanations {
        let phrase = e.stage.phrase();
        match by_stage.iter_mut().find(|(s, _)| *s == phrase) {
            Some((_, n)) => *n += 1,
            None => by_stage.push((phrase, 1)),
        }
        let lead = e.findings.first();
        let code = lead.map(|f| f.code);
        by_cause
            .entry(code.map(FindingCode::as_str))
            .or_insert((code, 0))
            .1 += 1;
        if lead.is_some_and(|f| f.severity == Severity::Blocker) {
            blocked += 1;
        }
    }
    by_stage.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut by_cause: Vec<_> = by_cause.into_values().collect();
    by_cause.sort_by(|a, b| {
        b.1.cmp(&a.1).then_with(|| {
            a.0.map(FindingCode::as_str)
                .cmp(&b.0.map(FindingCode::as_str))
        })
    });
    Tally {
        explained: explanations.len(),
        blocked,
        by_stage,
        by_cause,
    }
}

#[derive(PartialEq, Eq, Hash)]
struct GroupKey {
    namespace: String,
    owner_kind: String,
    owner_name: String,
    code: Option<&'static str>,
    stage: &'static str,
    cause: String,
}

/// The owner users name: `status`'s (a Deployment rather than its ReplicaSet), and a CronJob
/// rather than one of its Jobs, so every run of a failing CronJob is one group.
pub fn top_level_owner(pod: &Pod, now: Timestamp) -> Option<Owner> {
    let owner = report::owner(pod)?;
    if owner.kind == "Job" {
        let created = pod.metadata.creation_timestamp.as_ref().map(|t| t.0);
        if let Some(cronjob) = cronjob_of_job(owner.name.raw(), created.unwrap_or(now)) {
            return Some(Owner {
                kind: "CronJob".into(),
                name: cronjob.into(),
            });
        }
    }
    Some(owner)
}

/// The CronJob controller names each Job `<cronjob>-<scheduled time in minutes since the
/// epoch>`, and the Job's pods are created after that time. A Job named so, whose number is a
/// minute at most a week before its pod was created, is taken for a CronJob's (a Job named
/// `backup-20261129` is not: that "minute" is in 2008). Reading the Job's own ownerReference
/// would cost a request per Job.
fn cronjob_of_job(job: &str, pod_created: Timestamp) -> Option<&str> {
    const WEEK_SECONDS: i64 = 7 * 24 * 3600;
    let (cronjob, minutes) = job.rsplit_once('-')?;
    if cronjob.is_empty() || minutes.is_empty() || !minutes.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let scheduled = minutes.parse::<i64>().ok()?.checked_mul(60)?;
    let lag = pod_created.as_second() - scheduled;
    // A minute of slack for clock skew between the controller and the API server.
    (-60..=WEEK_SECONDS).contains(&lag).then_some(cronjob)
}

/// A finding's cause as grouping compares it: its message with what differs between pods
/// stopped by the same thing masked — the pod's own name (a StatefulSet's `data-web-0` claim),
/// durations (`running for 14m`), counts (`restarted 12 times`, `0/5 nodes`) — while exit
/// codes, signals and ports, which tell causes apart, are kept.
fn cause(message: &str, pod: &str) -> String {
    let message = mask_name(message, pod);
    let mut out = String::with_capacity(message.len());
    let mut previous = "";
    for (i, word) in message.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let core = word.trim_matches(|c: char| "()[],;:.".contains(c));
        if !matches!(previous, "code" | "signal" | "port") && is_count_or_duration(core) {
            out.push_str(&word.replacen(core, "#", 1));
        } else {
            out.push_str(word);
        }
        previous = core;
    }
    out
}

/// `text` with each whole-word occurrence of `name` (not inside a longer word, though after a
/// `-` as in `data-web-0`) replaced by `<pod>`.
fn mask_name(text: &str, name: &str) -> String {
    if name.is_empty() {
        return text.to_string();
    }
    let alnum_at = |s: &str| s.chars().next().is_some_and(char::is_alphanumeric);
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for (at, _) in text.match_indices(name) {
        let end = at + name.len();
        let starts_word = !text[..at]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric);
        if at < done || !starts_word || alnum_at(&text[end..]) {
            continue;
        }
        out.push_str(&text[done..at]);
        out.push_str("<pod>");
        done = end;
    }
    out.push_str(&text[done..]);
    out
}

/// `12`, `0/5`, `14m`, `2d3h`: a number of things or a HumanDuration.
fn is_count_or_duration(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_digit())
        && word
            .chars()
            .all(|c| c.is_ascii_digit() || "/smhdy".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Finding;
    use serde_json::json;

    const NOW: &str = "2026-11-27T12:00:00Z";

    fn now() -> Timestamp {
        NOW.parse().unwrap()
    }

    fn pod(name: &str, owner: Option<(&str, &str)>, hash: Option<&str>) -> Pod {
        let mut meta = json!({"name": name, "namespace": "shop",
            "creationTimestamp": "2026-11-27T11:00:00Z", "labels": {}});
        if let Some((kind, owner)) = owner {
            meta["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": kind,
                "name": owner, "uid": "u", "controller": true}]);
        }
        if let Some(h) = hash {
            meta["labels"]["pod-template-hash"] = json!(h);
        }
        serde_json::from_value(json!({"metadata": meta})).unwrap()
    }

    fn explained(name: &str, code: Option<(FindingCode, &str)>) -> Explanation {
        Explanation {
            namespace: "shop".into(),
            name: name.into(),
            status: "Init:0/1".into(),
            stage: Stage::Init,
            stuck_for_seconds: Some(60),
            summary: "Stuck in init".into(),
            findings: code
                .into_iter()
                .map(|(code, message)| Finding {
                    severity: Severity::Blocker,
                    code,
                    message: message.into(),
                    evidence: vec!["evidence".into()],
                    next: "next".into(),
                    stage: Stage::Init,
                })
                .collect(),
            notes: Vec::new(),
        }
    }

    fn names(g: &Group) -> Vec<&str> {
        g.pods.iter().map(Untrusted::raw).collect()
    }

    #[test]
    fn pods_of_one_owner_with_one_cause_are_one_group_most_pods_first() {
        let missing = |age: &str| {
            format!(
                "init container init-db (1/1) has been running for {age}, waiting for Service db, which does not exist"
            )
        };
        let rs = Some(("ReplicaSet", "orders-5d8f"));
        let pods = [
            pod("orders-5d8f-b", rs, Some("5d8f")),
            pod("orders-5d8f-a", rs, Some("5d8f")),
            pod("orders-5d8f-c", rs, Some("5d8f")),
            pod("lonely", None, None),
            pod("web-0", Some(("StatefulSet", "web")), None),
        ];
        let explanations = [
            explained(
                "orders-5d8f-b",
                Some((FindingCode::ServiceMissing, &missing("14m"))),
            ),
            explained(
                "orders-5d8f-a",
                Some((FindingCode::ServiceMissing, &missing("2m10s"))),
            ),
            explained(
                "orders-5d8f-c",
                Some((FindingCode::ServiceMissing, &missing("3h"))),
            ),
            explained(
                "lonely",
                Some((FindingCode::ServiceMissing, &missing("14m"))),
            ),
            explained(
                "web-0",
                Some((
                    FindingCode::CrashLoopBackOff,
                    "init container init-x (1/1) keeps failing (exit code 1), restarted 4 times",
                )),
            ),
        ];
        let groups = group(&pods, &explanations, now());
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[0].owner.kind, "Deployment");
        assert_eq!(groups[0].owner.name, "orders");
        assert_eq!(
            names(&groups[0]),
            ["orders-5d8f-a", "orders-5d8f-b", "orders-5d8f-c"]
        );
        assert_eq!(
            groups[0].representative(),
            1,
            "the first by name stands for the group"
        );
        assert_eq!(groups[0].code, Some(FindingCode::ServiceMissing));
        // Ties: by namespace, owner kind and name.
        assert_eq!(
            (groups[1].owner.kind.raw(), names(&groups[1])),
            ("Pod", vec!["lonely"])
        );
        assert_eq!(groups[2].owner.kind, "StatefulSet");
    }

    #[test]
    fn another_cause_or_another_owner_is_another_group() {
        let rs = Some(("ReplicaSet", "orders-5d8f"));
        let pods = [
            pod("a", rs, Some("5d8f")),
            pod("b", rs, Some("5d8f")),
            pod("c", rs, Some("5d8f")),
            pod("d", Some(("ReplicaSet", "billing-77")), Some("77")),
            pod("e", rs, Some("5d8f")),
            pod("f", rs, Some("5d8f")),
        ];
        let pull = |image: &str| format!("init container init (1/1) cannot pull image {image}");
        let explanations = [
            explained(
                "a",
                Some((FindingCode::ImagePullFailed, &pull("busybox:1.28"))),
            ),
            explained(
                "b",
                Some((FindingCode::ImagePullFailed, &pull("busybox:1.29"))),
            ),
            explained(
                "c",
                Some((FindingCode::ImagePullFailed, &pull("busybox:1.28"))),
            ),
            explained(
                "d",
                Some((FindingCode::ImagePullFailed, &pull("busybox:1.28"))),
            ),
            explained(
                "e",
                Some((
                    FindingCode::CrashLoopBackOff,
                    "init container init (1/1) keeps failing (exit code 1), restarted 3 times",
                )),
            ),
            explained(
                "f",
                Some((
                    FindingCode::CrashLoopBackOff,
                    "init container init (1/1) keeps failing (exit code 2), restarted 3 times",
                )),
            ),
        ];
        let groups = group(&pods, &explanations, now());
        let shapes: Vec<(String, Vec<&str>)> = groups
            .iter()
            .map(|g| (g.owner.name.raw().to_string(), names(g)))
            .collect();
        assert_eq!(
            shapes,
            [
                ("orders".to_string(), vec!["a", "c"]),
                ("billing".to_string(), vec!["d"]),
                ("orders".to_string(), vec!["b"]),
                ("orders".to_string(), vec!["e"]),
                ("orders".to_string(), vec!["f"]),
            ],
            "another image, owner or exit code is another cause"
        );
    }

    #[test]
    fn pods_without_findings_group_by_owner_and_stage() {
        let sts = Some(("StatefulSet", "web"));
        let pods = [pod("web-0", sts, None), pod("web-1", sts, None)];
        let explanations = [explained("web-0", None), explained("web-1", None)];
        let groups = group(&pods, &explanations, now());
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].code, None);
        let doc = serde_json::to_value(&groups[0]).unwrap();
        assert_eq!(
            doc,
            json!({"owner": {"kind": "StatefulSet", "name": "web"}, "namespace": "shop",
                "code": null, "stage": "init", "pods": ["web-0", "web-1"]})
        );
    }

    #[test]
    fn causes_mask_durations_counts_and_the_pod_name_only() {
        assert_eq!(
            cause(
                "init container init-x (1/2) keeps failing (exit code 137), restarted 12 times",
                "p"
            ),
            "init container init-x (#) keeps failing (exit code 137), restarted # times"
        );
        assert_eq!(
            cause(
                "no node can run the pod (0/5 nodes): 3 Insufficient cpu; 2 node(s) had taint",
                "p"
            ),
            "no node can run the pod (# nodes): # Insufficient cpu; # node(s) had taint"
        );
        assert_eq!(
            cause("PersistentVolumeClaim(s) not bound: data-web-0", "web-0"),
            cause("PersistentVolumeClaim(s) not bound: data-web-1", "web-1"),
        );
        assert_eq!(
            cause(
                "waiting for db:5432 for 2d3h, image busybox:1.28 128Mi",
                "p"
            ),
            "waiting for db:5432 for #, image busybox:1.28 128Mi"
        );
        assert_eq!(cause("killed by signal 9", "p"), "killed by signal 9");
    }

    #[test]
    fn a_cronjobs_jobs_are_one_owner() {
        // 2026-11-27T11:00:00Z is minute 29929620 of the epoch.
        let created: Timestamp = "2026-11-27T11:00:00Z".parse().unwrap();
        assert_eq!(cronjob_of_job("backup-29929620", created), Some("backup"));
        assert_eq!(
            cronjob_of_job("nightly-report-29929560", created),
            Some("nightly-report")
        );
        assert_eq!(
            cronjob_of_job("backup-20261129", created),
            None,
            "a date, not a minute"
        );
        assert_eq!(
            cronjob_of_job("backup-29929680", created),
            None,
            "scheduled after the pod"
        );
        assert_eq!(cronjob_of_job("migrate", created), None);
        assert_eq!(cronjob_of_job("-29929620", created), None);
        let job_pod = pod(
            "backup-29929620-x7k2p",
            Some(("Job", "backup-29929620")),
            None,
        );
        let owner = top_level_owner(&job_pod, now()).unwrap();
        assert_eq!((owner.kind.raw(), owner.name.raw()), ("CronJob", "backup"));
        let plain = pod("migrate-x7k2p", Some(("Job", "migrate")), None);
        assert_eq!(top_level_owner(&plain, now()).unwrap().kind, "Job");
    }

    #[test]
    fn a_pod_explained_again_is_placed_alike_only_with_the_same_lead_and_stage() {
        let crash = Some((
            FindingCode::CrashLoopBackOff,
            "init container migrate exits 1",
        ));
        let before = explained("web-1", crash);
        // A log tail quoted as evidence, a note: the group stands.
        let mut quoted = before.clone();
        quoted.findings[0]
            .evidence
            .push("log: connection refused".into());
        quoted.notes.push("a note".into());
        assert!(placed_alike(&before, &quoted));
        // Another lead message, code or stage, or a lead found at all: grouped anew.
        let other_message = explained("web-1", Some((FindingCode::CrashLoopBackOff, "exits 2")));
        assert!(!placed_alike(&before, &other_message));
        let other_code = explained(
            "web-1",
            Some((
                FindingCode::ContainerFailed,
                "init container migrate exits 1",
            )),
        );
        assert!(!placed_alike(&before, &other_code));
        let mut other_stage = before.clone();
        other_stage.stage = Stage::Sidecar;
        assert!(!placed_alike(&before, &other_stage));
        assert!(!placed_alike(&explained("web-1", None), &before));
    }

    #[test]
    fn tally_counts_stages_and_lead_causes() {
        let mut waiting = explained("c", Some((FindingCode::WaitingForExternalHost, "waits")));
        waiting.findings[0].severity = Severity::Warning;
        let mut gated = explained("d", Some((FindingCode::SchedulingGated, "gated")));
        gated.stage = Stage::Gated;
        let t = tally(&[
            explained("a", Some((FindingCode::ServiceMissing, "x"))),
            explained("b", Some((FindingCode::ServiceMissing, "y"))),
            waiting,
            gated,
        ]);
        assert_eq!(t.explained, 4);
        assert_eq!(t.blocked, 3);
        assert_eq!(
            t.by_stage,
            [("Stuck in init", 3), ("Held by scheduling gates", 1)]
        );
        assert_eq!(
            t.by_cause,
            [
                (Some(FindingCode::ServiceMissing), 2),
                (Some(FindingCode::SchedulingGated), 1),
                (Some(FindingCode::WaitingForExternalHost), 1),
            ]
        );
    }
}
