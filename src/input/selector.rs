//! Label and field selectors: parsed as kubectl and the API server parse them, so that offline
//! (`-f`) input is filtered exactly as a cluster would filter it, and workload selectors can be
//! turned into the `labelSelector` query a LIST sends.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    requirements: Vec<Requirement>,
    /// The text it was parsed from, if it was: that is what goes to the server, as kubectl sends
    /// `-l` verbatim (a server's error message then quotes the selector as the user typed it).
    typed: Option<String>,
}

impl Selector {
    pub fn parse(text: &str) -> Result<Selector, Error> {
        let bad = |why: &str| Error::Input(format!("invalid label selector {text:?}: {why}"));
        let mut reqs = Vec::new();
        for term in split_top_level(text) {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            let req = if let Some(key) = term.strip_prefix('!') {
                Requirement::DoesNotExist(valid_key(key.trim()).ok_or_else(|| bad("bad key"))?)
            } else if let Some((k, v)) = term.split_once("!=") {
                Requirement::NotEquals(
                    valid_key(k.trim()).ok_or_else(|| bad("bad key"))?,
                    v.trim().into(),
                )
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                Requirement::Equals(
                    valid_key(k.trim()).ok_or_else(|| bad("bad key"))?,
                    v.trim().into(),
                )
            } else if let Some((k, values)) = set_term(term, " notin ") {
                Requirement::NotIn(
                    valid_key(k).ok_or_else(|| bad("bad key"))?,
                    values.ok_or_else(|| bad("expected (a,b)"))?,
                )
            } else if let Some((k, values)) = set_term(term, " in ") {
                Requirement::In(
                    valid_key(k).ok_or_else(|| bad("bad key"))?,
                    values.ok_or_else(|| bad("expected (a,b)"))?,
                )
            } else {
                Requirement::Exists(valid_key(term).ok_or_else(|| bad("bad key"))?)
            };
            reqs.push(req);
        }
        Ok(Selector {
            requirements: reqs,
            typed: Some(text.to_string()),
        })
    }

    /// A workload's `spec.selector`; `None` (no selector) matches nothing, as the API server treats it.
    pub fn from_label_selector(sel: &LabelSelector) -> Selector {
        let mut reqs: Vec<Requirement> = sel
            .match_labels
            .iter()
            .flatten()
            .map(|(k, v)| Requirement::Equals(k.clone(), v.clone()))
            .collect();
        for expr in sel.match_expressions.iter().flatten() {
            let values = expr.values.clone().unwrap_or_default();
            let key = expr.key.clone();
            reqs.push(match expr.operator.as_str() {
                "In" => Requirement::In(key, values),
                "NotIn" => Requirement::NotIn(key, values),
                "Exists" => Requirement::Exists(key),
                _ => Requirement::DoesNotExist(key),
            });
        }
        Selector {
            requirements: reqs,
            typed: None,
        }
    }

    /// Both selectors' requirements; rendered in the server's canonical syntax.
    pub fn and(mut self, other: Selector) -> Selector {
        self.requirements.extend(other.requirements);
        self.typed = None;
        self
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k));
        self.requirements.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v),
            Requirement::NotEquals(k, v) => get(k) != Some(v),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.contains(x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.contains(x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
        })
    }

    /// The `labelSelector` value a request carries: the text as typed, else [`Self::to_query`].
    pub fn wire_text(&self) -> String {
        match &self.typed {
            Some(typed) => typed.clone(),
            None => self.to_query(),
        }
    }

    /// The selector in the server's canonical syntax.
    pub fn to_query(&self) -> String {
        self.requirements
            .iter()
            .map(|r| match r {
                Requirement::Equals(k, v) => format!("{k}={v}"),
                Requirement::NotEquals(k, v) => format!("{k}!={v}"),
                Requirement::In(k, vs) => format!("{k} in ({})", vs.join(",")),
                Requirement::NotIn(k, vs) => format!("{k} notin ({})", vs.join(",")),
                Requirement::Exists(k) => k.clone(),
                Requirement::DoesNotExist(k) => format!("!{k}"),
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn valid_key(key: &str) -> Option<String> {
    let ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    ok.then(|| key.to_string())
}

fn set_term<'a>(term: &'a str, op: &str) -> Option<(&'a str, Option<Vec<String>>)> {
    let (key, rest) = term.split_once(op)?;
    let rest = rest.trim();
    let values = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .map(|inner| {
            inner
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect()
        });
    Some((key.trim(), values))
}

/// Splits on commas that are not inside an `in (a,b)` value list.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// A field selector: `key=value`, `key==value`, `key!=value`, comma-joined. Evaluated here for
/// offline input; a cluster gets the text as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSelector {
    /// (field path, whether it must equal or differ, value)
    terms: Vec<(String, bool, String)>,
    typed: String,
}

impl FieldSelector {
    pub fn parse(text: &str) -> Result<FieldSelector, Error> {
        let mut terms = Vec::new();
        for term in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (key, equal, value) = if let Some((k, v)) = term.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (k, true, v)
            } else {
                return Err(Error::Input(format!(
                    "invalid field selector {text:?}: {term:?} is not key=value"
                )));
            };
            terms.push((key.trim().to_string(), equal, value.trim().to_string()));
        }
        Ok(FieldSelector {
            terms,
            typed: text.to_string(),
        })
    }

    /// The `fieldSelector` value a request carries: the text as typed.
    pub fn wire_text(&self) -> String {
        self.typed.clone()
    }

    /// Evaluates against a JSON object with the dotted field paths the server supports for pods
    /// (`metadata.name`, `metadata.namespace`, `spec.nodeName`, `status.phase`, …).
    pub fn matches(&self, obj: &serde_json::Value) -> Result<bool, Error> {
        for (key, equal, value) in &self.terms {
            if !matches!(
                key.as_str(),
                "metadata.name"
                    | "metadata.namespace"
                    | "spec.nodeName"
                    | "spec.restartPolicy"
                    | "spec.schedulerName"
                    | "spec.serviceAccountName"
                    | "spec.hostNetwork"
                    | "status.phase"
                    | "status.podIP"
                    | "status.nominatedNodeName"
            ) {
                return Err(Error::Input(format!(
                    "field label not supported: {key} (pods support metadata.name, metadata.namespace, spec.nodeName, spec.restartPolicy, spec.schedulerName, spec.serviceAccountName, spec.hostNetwork, status.phase, status.podIP, status.nominatedNodeName)"
                )));
            }
            let actual = key
                .split('.')
                .try_fold(obj, |v, part| v.get(part))
                .map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default();
            if (actual == *value) != *equal {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_every_operator() {
        let s = Selector::parse("app=web,tier!=cache,env in (prod, staging),!canary,team").unwrap();
        assert!(s.matches(Some(&labels(&[
            ("app", "web"),
            ("env", "prod"),
            ("team", "a")
        ]))));
        assert!(!s.matches(Some(&labels(&[
            ("app", "web"),
            ("env", "dev"),
            ("team", "a")
        ]))));
        assert!(!s.matches(Some(&labels(&[
            ("app", "web"),
            ("env", "prod"),
            ("team", "a"),
            ("canary", "1")
        ]))));
        assert_eq!(
            s.to_query(),
            "app=web,tier!=cache,env in (prod,staging),!canary,team"
        );
        assert!(Selector::parse("app in prod").is_err());
    }

    #[test]
    fn requests_carry_a_typed_selector_as_typed() {
        let typed = Selector::parse("app == web, tier").unwrap();
        assert_eq!(typed.wire_text(), "app == web, tier");
        assert_eq!(typed.to_query(), "app=web,tier");
        let workload = Selector::parse("team=a").unwrap().and(typed);
        assert_eq!(workload.wire_text(), "team=a,app=web,tier");
        let fields = FieldSelector::parse("status.phase==Pending").unwrap();
        assert_eq!(fields.wire_text(), "status.phase==Pending");
    }

    #[test]
    fn field_selector_on_pods() {
        let pod = serde_json::json!({"metadata": {"name": "a"}, "status": {"phase": "Pending"}});
        assert!(
            FieldSelector::parse("status.phase=Pending")
                .unwrap()
                .matches(&pod)
                .unwrap()
        );
        assert!(
            !FieldSelector::parse("status.phase!=Pending")
                .unwrap()
                .matches(&pod)
                .unwrap()
        );
        assert!(
            FieldSelector::parse("spec.bogus=1")
                .unwrap()
                .matches(&pod)
                .is_err()
        );
    }
}
