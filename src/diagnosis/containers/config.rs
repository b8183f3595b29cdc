//! CreateContainerConfigError: the ConfigMaps, Secrets and keys the container's env refers to,
//! checked against what exists.

use crate::diagnosis::untrusted_all;
use crate::util::sanitize::Untrusted;
use k8s_openapi::api::core::v1::Container;

use super::DiagnosedContainer;
use crate::diagnosis::related::Lookup;
use crate::diagnosis::{Diagnosis, Finding, FindingCode, Severity, Stage};

/// A reference from env/envFrom to a ConfigMap or Secret (and key).
struct EnvRef {
    kind: &'static str,
    name: String,
    key: Option<String>,
    optional: bool,
}

fn env_refs(c: &Container) -> Vec<EnvRef> {
    let mut refs = Vec::new();
    for e in c.env.iter().flatten() {
        let Some(from) = &e.value_from else { continue };
        if let Some(r) = &from.config_map_key_ref {
            refs.push(EnvRef {
                kind: "ConfigMap",
                name: r.name.clone(),
                key: Some(r.key.clone()),
                optional: r.optional == Some(true),
            });
        }
        if let Some(r) = &from.secret_key_ref {
            refs.push(EnvRef {
                kind: "Secret",
                name: r.name.clone(),
                key: Some(r.key.clone()),
                optional: r.optional == Some(true),
            });
        }
    }
    for f in c.env_from.iter().flatten() {
        if let Some(r) = &f.config_map_ref {
            refs.push(EnvRef {
                kind: "ConfigMap",
                name: r.name.clone(),
                key: None,
                optional: r.optional == Some(true),
            });
        }
        if let Some(r) = &f.secret_ref {
            refs.push(EnvRef {
                kind: "Secret",
                name: r.name.clone(),
                key: None,
                optional: r.optional == Some(true),
            });
        }
    }
    refs
}

pub(super) fn config_error(
    d: &mut Diagnosis,
    stage: Stage,
    container: &DiagnosedContainer,
    message: &str,
    state: String,
) {
    let ns = d.namespace().to_string();
    let mut evidence = vec![state];
    let mut missing = Vec::new();
    for r in env_refs(container.spec).into_iter().filter(|r| !r.optional) {
        let problem = match r.kind {
            "ConfigMap" => match d.related.config_maps(&ns) {
                Lookup::Got(cms) => match cms
                    .iter()
                    .find(|cm| cm.metadata.name.as_deref() == Some(&r.name))
                {
                    None => Some(format!("ConfigMap {} does not exist in {ns}", r.name)),
                    Some(cm) => r
                        .key
                        .as_ref()
                        .filter(|k| {
                            !cm.data.as_ref().is_some_and(|m| m.contains_key(*k))
                                && !cm.binary_data.as_ref().is_some_and(|m| m.contains_key(*k))
                        })
                        .map(|k| format!("ConfigMap {} has no key {k}", r.name)),
                },
                Lookup::Unavailable(why) => {
                    let why = why.to_string();
                    d.note(format!("cannot check ConfigMaps: {why}"));
                    None
                }
                Lookup::Unfetched => None,
            },
            _ => match d.related.secrets(&ns) {
                Lookup::Got(names) => (!names.contains(&r.name))
                    .then(|| format!("Secret {} does not exist in {ns}", r.name)),
                Lookup::Unavailable(why) => {
                    let why = why.to_string();
                    d.note(format!("cannot check Secrets: {why}"));
                    None
                }
                Lookup::Unfetched => None,
            },
        };
        if let Some(p) = problem {
            evidence.push(format!("{p} (referenced by {}'s env)", container.spec.name));
            missing.push(p);
        }
    }
    let headline = if missing.is_empty() {
        (message).to_string()
    } else {
        missing.join("; ")
    };
    d.findings.push(Finding {
        stage,
        severity: Severity::Blocker,
        code: FindingCode::CreateContainerConfigError,
        message: Untrusted::from(format!("{} cannot be configured: {headline}", container.label)),
        evidence: untrusted_all(evidence),
        next: Untrusted::from("create the missing ConfigMap/Secret (or key) in the pod's namespace, or mark the reference optional: the kubelet retries on its own once it exists"),
    });
}
