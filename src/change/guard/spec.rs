//! Every spec field other than the container lists: what a live pod may change, and how.

use serde_json::{Map, Value, json};

use super::server_view::View;
use super::{UPDATABLE_RULE, Verdicts, items, name_of, union_keys};

/// Every spec field other than the container lists.
pub(super) fn compare(old: &View, new: &View, found: &mut Verdicts) {
    let gated = old
        .spec_cmp
        .get("schedulingGates")
        .and_then(Value::as_array)
        .is_some_and(|g| !g.is_empty());
    for key in union_keys(&old.spec_cmp, &new.spec_cmp) {
        let (o, n) = (old.spec_cmp.get(key), new.spec_cmp.get(key));
        if key == "initContainers" || key == "containers" || o == n {
            continue;
        }
        let (o_shown, n_shown) = (old.spec_shown.get(key), new.spec_shown.get(key));
        let path = format!("spec.{key}");
        match key {
            "activeDeadlineSeconds" => active_deadline(o, n, o_shown, n_shown, found),
            "tolerations" => tolerations(o, n, o_shown, n_shown, found),
            "schedulingGates" => scheduling_gates(o, n, o_shown, n_shown, found),
            "terminationGracePeriodSeconds" => {
                let (o, n) = (o.and_then(Value::as_i64), n.and_then(Value::as_i64));
                if o.is_some_and(|o| o < 0) && n == Some(1) {
                    found.change(&path, o_shown, n_shown);
                } else {
                    let instead = found.recreate(
                        "the grace period is fixed for a live pod (only a negative one may be set to 1); for a single deletion pass --grace-period to kubectl delete",
                    );
                    found.reject(&path, UPDATABLE_RULE, o_shown, n_shown, instead);
                }
            }
            "nodeSelector" if gated => {
                let empty = Map::new();
                let o_map = o.and_then(Value::as_object).unwrap_or(&empty);
                let n_map = n.and_then(Value::as_object).unwrap_or(&empty);
                if o_map.iter().all(|(k, v)| n_map.get(k) == Some(v)) {
                    found.change(&path, o_shown, n_shown);
                } else {
                    found.reject(
                        &path,
                        "only additions to spec.nodeSelector are allowed (no mutations or deletions)",
                        o_shown,
                        n_shown,
                        "while the pod is gated, only add node selector entries; keep the existing ones".into(),
                    );
                }
            }
            "affinity" => affinity(old, new, gated, found),
            "ephemeralContainers" => found.reject(
                &path,
                UPDATABLE_RULE,
                o_shown,
                n_shown,
                "add an ephemeral container with kubectl debug (the ephemeralcontainers subresource); existing ones can never be changed or removed".into(),
            ),
            _ => {
                let why = match key {
                    "nodeName" => "the node is bound once, by the scheduler or at creation",
                    "nodeSelector" => "node selector entries can only be added while the pod has scheduling gates",
                    _ => "only the fields the server lists may change on a live pod",
                };
                let instead = found.recreate(why);
                found.reject(&path, UPDATABLE_RULE, o_shown, n_shown, instead);
            }
        }
    }
}

fn active_deadline(
    o: Option<&Value>,
    n: Option<&Value>,
    o_shown: Option<&Value>,
    n_shown: Option<&Value>,
    found: &mut Verdicts,
) {
    const PATH: &str = "spec.activeDeadlineSeconds";
    let (o, n) = (o.and_then(Value::as_i64), n.and_then(Value::as_i64));
    let rule = match (o, n) {
        // The update check allows 0..=MaxInt32; the spec check on every write requires ≥ 1.
        (_, Some(n)) if !(0..=i64::from(i32::MAX)).contains(&n) => {
            "must be between 0 and 2147483647, inclusive"
        }
        (_, Some(0)) => "must be between 1 and 2147483647, inclusive",
        (Some(o), Some(n)) if n > o => "must be less than or equal to previous value",
        (Some(_), None) => "must not update from a positive integer to nil value",
        (_, Some(_)) => {
            found.change(PATH, o_shown, n_shown);
            return;
        }
        // Present but not an integer: the server could not even decode it.
        (None, None) => UPDATABLE_RULE,
    };
    found.reject(
        PATH,
        rule,
        o_shown,
        n_shown,
        "set it only from unset to a positive value, or lower it".into(),
    );
}

/// `validateOnlyAddedTolerations`: every stored toleration must still be there, compared
/// without its `tolerationSeconds`.
fn tolerations(
    o: Option<&Value>,
    n: Option<&Value>,
    o_shown: Option<&Value>,
    n_shown: Option<&Value>,
    found: &mut Verdicts,
) {
    let strip = |list: Option<&Value>| -> Vec<Value> {
        list.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|t| {
                let mut t = t.clone();
                if let Some(m) = t.as_object_mut() {
                    m.shift_remove("tolerationSeconds");
                }
                t
            })
            .collect()
    };
    let (o_list, n_list) = (strip(o), strip(n));
    if o_list.iter().all(|t| n_list.contains(t)) {
        found.change("spec.tolerations", o_shown, n_shown);
    } else {
        found.reject(
            "spec.tolerations",
            "existing toleration can not be modified except its tolerationSeconds",
            o_shown,
            n_shown,
            "keep every existing toleration (only its tolerationSeconds may change) and add new ones beside them".into(),
        );
    }
}

/// `validateOnlyDeletedSchedulingGates`: gates can only be removed (in any order).
fn scheduling_gates(
    o: Option<&Value>,
    n: Option<&Value>,
    o_shown: Option<&Value>,
    n_shown: Option<&Value>,
    found: &mut Verdicts,
) {
    let names = |list: Option<&Value>| -> Vec<String> {
        list.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(name_of)
            .collect()
    };
    let old_names = names(o);
    let mut added = false;
    for (i, name) in names(n).into_iter().enumerate() {
        if !old_names.contains(&name) {
            added = true;
            found.reject(
                &format!("spec.schedulingGates[{i}].name"),
                &format!("only deletion is allowed, but found new scheduling gate '{name}'"),
                None,
                Some(&json!(name)),
                found.recreate("scheduling gates can only be removed from a pod"),
            );
        }
    }
    if !added {
        found.change("spec.schedulingGates", o_shown, n_shown);
    }
}

/// Pod (anti-)affinity is fixed; required node affinity may be narrowed while the pod is gated
/// (`validateNodeAffinityMutation`), and then the rest of node affinity may change with it.
fn affinity(old: &View, new: &View, gated: bool, found: &mut Verdicts) {
    let part = |v: &View, cmp: bool, key: &str| {
        let spec = if cmp { &v.spec_cmp } else { &v.spec_shown };
        spec.get("affinity").and_then(|a| a.get(key)).cloned()
    };
    let (o_aff, n_aff) = (
        old.spec_cmp.get("affinity").cloned().unwrap_or(json!({})),
        new.spec_cmp.get("affinity").cloned().unwrap_or(json!({})),
    );
    for key in union_keys(&o_aff, &n_aff) {
        if key == "nodeAffinity" || o_aff.get(key) == n_aff.get(key) {
            continue;
        }
        let instead =
            found.recreate("pod affinity and anti-affinity are fixed for a pod's lifetime");
        found.reject(
            &format!("spec.affinity.{key}"),
            UPDATABLE_RULE,
            part(old, false, key).as_ref(),
            part(new, false, key).as_ref(),
            instead,
        );
    }
    let (o_na, n_na) = (
        part(old, true, "nodeAffinity"),
        part(new, true, "nodeAffinity"),
    );
    if o_na == n_na {
        return;
    }
    const PATH: &str = "spec.affinity.nodeAffinity";
    let (o_shown, n_shown) = (
        part(old, false, "nodeAffinity"),
        part(new, false, "nodeAffinity"),
    );
    if !gated {
        let instead =
            found.recreate("node affinity can only be narrowed while the pod has scheduling gates");
        found.reject(
            PATH,
            UPDATABLE_RULE,
            o_shown.as_ref(),
            n_shown.as_ref(),
            instead,
        );
        return;
    }
    let terms = |na: &Option<Value>| -> Option<Vec<Value>> {
        let required = na
            .as_ref()?
            .get("requiredDuringSchedulingIgnoredDuringExecution")?;
        Some(items(required, "nodeSelectorTerms"))
    };
    let terms_path =
        format!("{PATH}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms");
    let instead = "while the pod is gated, only add match expressions or fields to the existing node selector terms";
    let before = found.violations.len();
    if let Some(old_terms) = terms(&o_na) {
        let new_terms = terms(&n_na).unwrap_or_default();
        if !old_terms.is_empty() && old_terms.len() != new_terms.len() {
            found.reject(
                &terms_path,
                "no additions/deletions to non-empty NodeSelectorTerms list are allowed",
                Some(&json!(old_terms)),
                Some(&json!(new_terms)),
                instead.into(),
            );
        } else {
            for (i, (o_term, n_term)) in old_terms.iter().zip(&new_terms).enumerate() {
                if !only_additions(o_term, n_term) {
                    found.reject(
                        &format!("{terms_path}[{i}]"),
                        "only additions are allowed (no mutations or deletions)",
                        Some(o_term),
                        Some(n_term),
                        instead.into(),
                    );
                }
            }
        }
    }
    if found.violations.len() == before {
        found.change(PATH, o_shown.as_ref(), n_shown.as_ref());
    }
}

/// `validateNodeSelectorTermHasOnlyAdditions`: each requirement list keeps its old entries as a
/// prefix; an empty term must stay empty.
fn only_additions(old: &Value, new: &Value) -> bool {
    let lists = ["matchExpressions", "matchFields"];
    if lists.iter().all(|l| items(old, l).is_empty())
        && lists.iter().any(|l| !items(new, l).is_empty())
    {
        return false;
    }
    lists.iter().all(|l| {
        let (o, n) = (items(old, l), items(new, l));
        n.len() >= o.len() && n[..o.len()] == o[..]
    })
}
