//! Command-line targets: `NAME`, `pod/NAME`, and workloads (`deploy/NAME`, `sts/NAME`, …) in
//! kubectl's spellings. A workload stands for the pods its selector matches.

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    ReplicationController,
    Job,
    CronJob,
}

impl WorkloadKind {
    const ALL: [WorkloadKind; 7] = [
        WorkloadKind::Deployment,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
        WorkloadKind::ReplicaSet,
        WorkloadKind::ReplicationController,
        WorkloadKind::Job,
        WorkloadKind::CronJob,
    ];

    pub fn kind(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::ReplicationController => "ReplicationController",
            WorkloadKind::Job => "Job",
            WorkloadKind::CronJob => "CronJob",
        }
    }

    /// The workload kind an object's `kind` (or an ownerReference's) names.
    pub fn from_kind(kind: &str) -> Option<WorkloadKind> {
        WorkloadKind::ALL.into_iter().find(|k| k.kind() == kind)
    }

    /// The API group and the lower-case plural the API server serves the kind under (all are
    /// version v1).
    pub fn group_and_plural(self) -> (&'static str, &'static str) {
        match self {
            WorkloadKind::Deployment => ("apps", "deployments"),
            WorkloadKind::StatefulSet => ("apps", "statefulsets"),
            WorkloadKind::DaemonSet => ("apps", "daemonsets"),
            WorkloadKind::ReplicaSet => ("apps", "replicasets"),
            WorkloadKind::ReplicationController => ("", "replicationcontrollers"),
            WorkloadKind::Job => ("batch", "jobs"),
            WorkloadKind::CronJob => ("batch", "cronjobs"),
        }
    }

    /// The name the API server uses in messages (`deployments.apps "x" not found`).
    pub fn resource(self) -> String {
        match self.group_and_plural() {
            ("", plural) => plural.to_string(),
            (group, plural) => format!("{plural}.{group}"),
        }
    }

    /// How kubectl lets a command line name the kind, lower case.
    fn spellings(self) -> &'static [&'static str] {
        match self {
            WorkloadKind::Deployment => &[
                "deploy",
                "deployment",
                "deployments",
                "deployment.apps",
                "deployments.apps",
            ],
            WorkloadKind::StatefulSet => &[
                "sts",
                "statefulset",
                "statefulsets",
                "statefulset.apps",
                "statefulsets.apps",
            ],
            WorkloadKind::DaemonSet => &[
                "ds",
                "daemonset",
                "daemonsets",
                "daemonset.apps",
                "daemonsets.apps",
            ],
            WorkloadKind::ReplicaSet => &[
                "rs",
                "replicaset",
                "replicasets",
                "replicaset.apps",
                "replicasets.apps",
            ],
            WorkloadKind::ReplicationController => {
                &["rc", "replicationcontroller", "replicationcontrollers"]
            }
            WorkloadKind::Job => &["job", "jobs", "job.batch", "jobs.batch"],
            WorkloadKind::CronJob => &[
                "cj",
                "cronjob",
                "cronjobs",
                "cronjob.batch",
                "cronjobs.batch",
            ],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Pod(String),
    Workload(WorkloadKind, String),
}

impl Target {
    pub fn parse(text: &str) -> Result<Target> {
        let Some((kind, name)) = text.split_once('/') else {
            return valid_name(text, text).map(Target::Pod);
        };
        let name = valid_name(text, name)?;
        let spelled = kind.to_ascii_lowercase();
        if matches!(spelled.as_str(), "po" | "pod" | "pods") {
            return Ok(Target::Pod(name));
        }
        let Some(kind) = WorkloadKind::ALL
            .into_iter()
            .find(|k| k.spellings().contains(&spelled.as_str()))
        else {
            return Err(Error::Input(format!(
                "unknown target kind {spelled:?} in {text:?}: use a pod name, pod/NAME, deploy/NAME, sts/NAME, ds/NAME, rs/NAME, rc/NAME, job/NAME or cronjob/NAME"
            )));
        };
        Ok(Target::Workload(kind, name))
    }
}

fn valid_name(whole: &str, name: &str) -> Result<String> {
    if name.is_empty() || name.contains('/') {
        return Err(Error::Input(format!(
            "invalid target {whole:?}: expected NAME or KIND/NAME"
        )));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_spellings() {
        assert_eq!(Target::parse("web-0").unwrap(), Target::Pod("web-0".into()));
        assert_eq!(
            Target::parse("po/web-0").unwrap(),
            Target::Pod("web-0".into())
        );
        assert_eq!(
            Target::parse("deployment.apps/orders").unwrap(),
            Target::Workload(WorkloadKind::Deployment, "orders".into())
        );
        assert_eq!(
            Target::parse("cj/nightly").unwrap(),
            Target::Workload(WorkloadKind::CronJob, "nightly".into())
        );
        assert!(
            Target::parse("svc/db")
                .unwrap_err()
                .to_string()
                .contains("unknown target kind \"svc\"")
        );
        assert!(Target::parse("deploy/").is_err());
        assert_eq!(
            Target::parse("RC/legacy").unwrap(),
            Target::Workload(WorkloadKind::ReplicationController, "legacy".into())
        );
    }

    #[test]
    fn object_kinds_round_trip() {
        for kind in WorkloadKind::ALL {
            assert_eq!(WorkloadKind::from_kind(kind.kind()), Some(kind));
        }
        assert_eq!(WorkloadKind::from_kind("Pod"), None);
    }
}
