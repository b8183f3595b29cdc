//! Volume reasons the scheduler gives that the claim alone does not explain: a bound volume
//! whose node affinity no node satisfies, and a claim of a class without a provisioner
//! (`kubernetes.io/no-provisioner`, local volumes) for which nobody created a volume.

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};

use super::FitReason;
use crate::diagnosis::related::Lookup;
use crate::diagnosis::{Diagnosis, Finding, FindingCode, Severity, Stage, untrusted_all};
use crate::util::quantity::Quantity;
use crate::util::sanitize::Untrusted;

/// The provisioner of classes whose volumes are created by hand.
const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";

/// The pod's claims, as found in its namespace (a claim not found is left out).
fn pod_claims(d: &mut Diagnosis) -> Vec<PersistentVolumeClaim> {
    let names = super::findings::claim_names(d);
    let ns = d.namespace().to_string();
    match d.related.claims(&ns) {
        Lookup::Got(claims) => claims
            .iter()
            .filter(|c| names.iter().any(|n| c.metadata.name.as_deref() == Some(n)))
            .cloned()
            .collect(),
        Lookup::Unavailable(why) => {
            let why = why.to_string();
            d.note(format!("cannot check PersistentVolumeClaims: {why}"));
            Vec::new()
        }
        Lookup::Unfetched => Vec::new(),
    }
}

/// A PersistentVolume's required node affinity, as `key op [values]` terms joined by `or`.
fn affinity_text(pv: &PersistentVolume) -> Option<String> {
    let terms = &pv
        .spec
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required
        .as_ref()?
        .node_selector_terms;
    let text: Vec<String> = terms
        .iter()
        .map(|t| {
            t.match_expressions
                .iter()
                .flatten()
                .map(|e| {
                    format!(
                        "{} {} [{}]",
                        e.key,
                        e.operator,
                        e.values.clone().unwrap_or_default().join(", ")
                    )
                })
                .collect::<Vec<_>>()
                .join(" and ")
        })
        .collect();
    Some(text.join(" or "))
}

/// `node(s) had volume node affinity conflict`: the bound volumes' node affinity, and which
/// nodes' labels fail it.
pub(super) fn volume_node_affinity(d: &mut Diagnosis, reason: &FitReason) {
    let claims = pod_claims(d);
    let mut evidence = vec![format!("scheduler: {} {}", reason.count, reason.text)];
    let mut volumes = Vec::new();
    if claims.iter().any(|c| {
        c.spec
            .as_ref()
            .and_then(|s| s.volume_name.as_ref())
            .is_some()
    }) {
        match d.related.persistent_volumes() {
            Lookup::Got(pvs) => {
                for c in &claims {
                    let Some(vol) = c.spec.as_ref().and_then(|s| s.volume_name.clone()) else {
                        continue;
                    };
                    let claim = c.metadata.name.clone().unwrap_or_default();
                    let pv = pvs
                        .iter()
                        .find(|p| p.metadata.name.as_deref() == Some(&vol));
                    match pv.and_then(affinity_text) {
                        Some(aff) => {
                            evidence.push(format!(
                                "claim {claim} is bound to PersistentVolume {vol}, which only nodes with {aff} can use"
                            ));
                            volumes.push(format!("{vol} ({aff})"));
                        }
                        None => evidence
                            .push(format!("claim {claim} is bound to PersistentVolume {vol}")),
                    }
                }
            }
            Lookup::Unavailable(why) => {
                let why = why.to_string();
                d.note(format!("cannot check PersistentVolumes: {why}"));
            }
            Lookup::Unfetched => {}
        }
    }
    let message = if volumes.is_empty() {
        format!(
            "{} node(s) cannot reach the pod's volumes (volume node affinity conflict)",
            reason.count
        )
    } else {
        format!(
            "{} node(s) cannot reach the pod's volume {}: no node that fits the pod is in that place",
            reason.count,
            volumes.join(", ")
        )
    };
    d.findings.push(Finding {
        stage: Stage::Unschedulable,
        severity: Severity::Blocker,
        code: FindingCode::VolumeNodeAffinityConflict,
        message: Untrusted::from(message),
        evidence: untrusted_all(evidence),
        next: Untrusted::from("a bound volume stays where it was created (its zone or node): add a node there that can take the pod (capacity, taints, selector), or, if the data can go, delete the claim so a new volume is provisioned where the pod can run (a StorageClass with volumeBindingMode: WaitForFirstConsumer avoids this)"),
    });
}

fn access_modes(c: &PersistentVolumeClaim) -> Vec<String> {
    c.spec
        .as_ref()
        .and_then(|s| s.access_modes.clone())
        .unwrap_or_default()
}

fn requested(c: &PersistentVolumeClaim) -> Option<String> {
    c.spec
        .as_ref()?
        .resources
        .as_ref()?
        .requests
        .as_ref()?
        .get("storage")
        .map(|q| q.0.clone())
}

/// Whether an Available volume could take the claim: same class, enough capacity, the modes.
fn fits(pv: &PersistentVolume, class: &str, size: Option<&str>, modes: &[String]) -> bool {
    let Some(spec) = pv.spec.as_ref() else {
        return false;
    };
    let available = pv.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Available");
    let same_class = spec.storage_class_name.as_deref().unwrap_or_default() == class;
    let pv_modes = spec.access_modes.clone().unwrap_or_default();
    let big_enough = match (
        size.and_then(|s| Quantity::parse(s).ok()),
        spec.capacity
            .as_ref()
            .and_then(|c| c.get("storage"))
            .and_then(|q| Quantity::try_from(q).ok()),
    ) {
        (Some(want), Some(has)) => has >= want,
        _ => true,
    };
    available && same_class && big_enough && modes.iter().all(|m| pv_modes.contains(m))
}

/// The volumes of `class`, each as `name phase[ to namespace/claim]`.
fn volumes_of_class(pvs: &[PersistentVolume], class: &str) -> Vec<String> {
    pvs.iter()
        .filter(|pv| {
            pv.spec
                .as_ref()
                .and_then(|s| s.storage_class_name.as_deref())
                == Some(class)
        })
        .map(|pv| {
            let phase = pv
                .status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_default();
            let to = pv
                .spec
                .as_ref()
                .and_then(|s| s.claim_ref.as_ref())
                .map(|r| {
                    format!(
                        " to {}/{}",
                        r.namespace.clone().unwrap_or_default(),
                        r.name.clone().unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            format!(
                "{} {phase}{to}",
                pv.metadata.name.clone().unwrap_or_default()
            )
        })
        .collect()
}

/// Unbound claims of a `kubernetes.io/no-provisioner` class with no Available volume that fits:
/// pushes the finding and returns true; false when this is not the case (or cannot be told).
pub(super) fn no_provisioner(
    d: &mut Diagnosis,
    reason: &FitReason,
    unbound: &[PersistentVolumeClaim],
) -> bool {
    let with_class: Vec<(&PersistentVolumeClaim, String)> = unbound
        .iter()
        .filter_map(|c| Some((c, c.spec.as_ref()?.storage_class_name.clone()?)))
        .collect();
    if with_class.is_empty() {
        return false;
    }
    let classes = match d.related.storage_classes() {
        Lookup::Got(classes) => classes.clone(),
        Lookup::Unavailable(why) => {
            let why = why.to_string();
            d.note(format!("cannot check StorageClasses: {why}"));
            return false;
        }
        Lookup::Unfetched => return false,
    };
    let local: Vec<&(&PersistentVolumeClaim, String)> = with_class
        .iter()
        .filter(|(_, class)| {
            classes.iter().any(|sc| {
                sc.metadata.name.as_deref() == Some(class.as_str())
                    && sc.provisioner == NO_PROVISIONER
            })
        })
        .collect();
    if local.is_empty() {
        return false;
    }
    let pvs = match d.related.persistent_volumes() {
        Lookup::Got(pvs) => pvs.clone(),
        Lookup::Unavailable(why) => {
            let why = why.to_string();
            d.note(format!("cannot check PersistentVolumes: {why}"));
            Vec::new()
        }
        Lookup::Unfetched => return false,
    };
    let mut evidence = vec![format!("scheduler: {}", reason.text)];
    let mut wanting = Vec::new();
    let mut next = Vec::new();
    for (claim, class) in local {
        let name = claim.metadata.name.clone().unwrap_or_default();
        let size = requested(claim);
        let modes = access_modes(claim);
        if pvs
            .iter()
            .any(|pv| fits(pv, class, size.as_deref(), &modes))
        {
            continue;
        }
        let of_class = volumes_of_class(&pvs, class);
        let size = size.unwrap_or_else(|| "any size".into());
        evidence.push(format!(
            "claim {name}: storageClassName {class} (provisioner {NO_PROVISIONER}), requests {size}, accessModes {}",
            modes.join(", ")
        ));
        evidence.push(format!(
            "PersistentVolumes of class {class}: {}",
            if of_class.is_empty() {
                "none".to_string()
            } else {
                of_class.join(", ")
            }
        ));
        wanting.push(format!(
            "{name} (class {class}, {size}, {})",
            modes.join(", ")
        ));
        next.push(format!("a PersistentVolume with storageClassName {class}, capacity at least {size} and accessModes {}", modes.join(", ")));
    }
    if wanting.is_empty() {
        return false;
    }
    d.findings.push(Finding {
        stage: Stage::Unschedulable,
        severity: Severity::Blocker,
        code: FindingCode::NoPersistentVolumeForClaim,
        message: Untrusted::from(format!(
            "no PersistentVolume can bind claim {}: its class has no provisioner, so volumes must be created by hand",
            wanting.join("; ")
        )),
        evidence: untrusted_all(evidence),
        next: Untrusted::from(format!(
            "create {} (for a local volume, with nodeAffinity naming the node that holds the disk), or run a local volume provisioner for the class, or use a class with a dynamic provisioner",
            next.join("; ")
        )),
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn volume(class: &str, size: &str, modes: &[&str], phase: &str) -> PersistentVolume {
        serde_json::from_value(json!({
            "metadata": {"name": "pv"},
            "spec": {"storageClassName": class, "capacity": {"storage": size}, "accessModes": modes},
            "status": {"phase": phase}
        }))
        .unwrap()
    }

    #[test]
    fn a_volume_fits_a_claim_by_class_size_modes_and_availability() {
        let rwo = ["ReadWriteOnce".to_string()];
        let pv = volume("local", "100Gi", &["ReadWriteOnce"], "Available");
        assert!(fits(&pv, "local", Some("100Gi"), &rwo));
        assert!(fits(&pv, "local", Some("50G"), &rwo));
        assert!(!fits(&pv, "local", Some("200Gi"), &rwo), "too small");
        assert!(!fits(&pv, "other", Some("1Gi"), &rwo), "another class");
        assert!(
            !fits(&pv, "local", Some("1Gi"), &["ReadWriteMany".to_string()]),
            "a mode it lacks"
        );
        let bound = volume("local", "100Gi", &["ReadWriteOnce"], "Bound");
        assert!(!fits(&bound, "local", Some("1Gi"), &rwo), "taken");
    }
}
