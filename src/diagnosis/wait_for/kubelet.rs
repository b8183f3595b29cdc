//! What the kubelet does before the shell runs: the container's environment and `$(VAR)`.

use k8s_openapi::api::core::v1::Container;

use super::Vars;

/// The container's environment as far as it is knowable offline: literal values (themselves
/// `$(VAR)`-expanded against earlier entries, as the kubelet does) and the downward-API namespace.
pub(super) fn container_env(container: &Container, pod_namespace: &str) -> Vars {
    let mut env = Vars::new();
    for var in container.env.iter().flatten() {
        let field = var
            .value_from
            .as_ref()
            .and_then(|from| from.field_ref.as_ref())
            .map(|field| field.field_path.as_str());
        if let Some(value) = &var.value {
            let value = kubelet_expand(value, &env);
            env.insert(var.name.clone(), value);
        } else if field == Some("metadata.namespace") {
            env.insert(var.name.clone(), pod_namespace.to_string());
        } else {
            // Set from a Secret, ConfigMap or another field: unknown here, and it must hide an
            // earlier literal of the same name.
            env.remove(&var.name);
        }
    }
    env
}

/// The kubelet's `$(VAR)` expansion (k8s.io/kubernetes third_party/forked/golang/expansion):
/// `$$` is a literal `$`, an unknown or unterminated reference stays as written.
pub(super) fn kubelet_expand(input: &str, env: &Vars) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some((name, tail)) = after
            .strip_prefix('(')
            .and_then(|inner| inner.split_once(')'))
        {
            match env.get(name) {
                Some(value) => out.push_str(value),
                None => {
                    out.push_str("$(");
                    out.push_str(name);
                    out.push(')');
                }
            }
            rest = tail;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubelet_expansion_rules() {
        let env = Vars::from([("A".into(), "x".into())]);
        assert_eq!(
            kubelet_expand("$(A)-$(B)-$$(A)-$$-$(A", &env),
            "x-$(B)-$(A)-$-$(A"
        );
        assert_eq!(kubelet_expand("cost $5", &env), "cost $5");
    }
}
