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

    /// The lower-case plural the API server uses in paths and messages (`deployments.apps "x" not found`).
    pub fn resource(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployments.apps",
            WorkloadKind::StatefulSet => "statefulsets.apps",
            WorkloadKind::DaemonSet => "daemonsets.apps",
            WorkloadKind::ReplicaSet => "replicasets.apps",
            WorkloadKind::ReplicationController => "replicationcontrollers",
            WorkloadKind::Job => "jobs.batch",
            WorkloadKind::CronJob => "cronjobs.batch",
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
        let kind = match kind.to_ascii_lowercase().as_str() {
            "po" | "pod" | "pods" => return Ok(Target::Pod(name)),
            "deploy" | "deployment" | "deployments" | "deployment.apps" | "deployments.apps" => {
                WorkloadKind::Deployment
            }
            "sts" | "statefulset" | "statefulsets" | "statefulset.apps" | "statefulsets.apps" => {
                WorkloadKind::StatefulSet
            }
            "ds" | "daemonset" | "daemonsets" | "daemonset.apps" | "daemonsets.apps" => {
                WorkloadKind::DaemonSet
            }
            "rs" | "replicaset" | "replicasets" | "replicaset.apps" | "replicasets.apps" => {
                WorkloadKind::ReplicaSet
            }
            "rc" | "replicationcontroller" | "replicationcontrollers" => {
                WorkloadKind::ReplicationController
            }
            "job" | "jobs" | "job.batch" | "jobs.batch" => WorkloadKind::Job,
            "cj" | "cronjob" | "cronjobs" | "cronjob.batch" | "cronjobs.batch" => {
                WorkloadKind::CronJob
            }
            other => {
                return Err(Error::Input(format!(
                    "unknown target kind {other:?} in {text:?}: use a pod name, pod/NAME, deploy/NAME, sts/NAME, ds/NAME, rs/NAME, rc/NAME, job/NAME or cronjob/NAME"
                )));
            }
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
    }
}
