//! What the kubelet does before the shell runs: the container's environment and `$(VAR)`.

use k8s_openapi::api::core::v1::Container;

use super::Vars;

/// What [`container_env`] reads of each `env` entry, in order, and nothing else: its name, its
/// literal value, and the field a downward-API value comes from.
pub(super) fn env_entries(container: &Container) -> impl Iterator<Item = EnvEntry<'_>> {
    container.env.iter().flatten().map(|var| {
        let field = var.value_from.as_ref().and_then(|v| v.field_ref.as_ref());
        (
            var.name.as_str(),
            var.value.as_deref(),
            field.map(|f| f.field_path.as_str()),
        )
    })
}

/// An `env` entry's name, literal value and downward-API field.
pub(super) type EnvEntry<'a> = (&'a str, Option<&'a str>, Option<&'a str>);

/// The container's environment as far as it is knowable offline: literal values (themselves
/// `$(VAR)`-expanded against earlier entries, as the kubelet does) and the downward-API namespace.
pub(super) fn container_env(container: &Container, pod_namespace: &str) -> Vars {
    let mut env = Vars::new();
    for (name, value, field) in env_entries(container) {
        if let Some(value) = value {
            let value = kubelet_expand(value, &env);
            env.insert(name.to_string(), value);
        } else if field == Some("metadata.namespace") {
            env.insert(name.to_string(), pod_namespace.to_string());
        } else {
            // Set from a Secret, ConfigMap or another field: unknown here, and it must hide an
            // earlier literal of the same name.
            env.remove(name);
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
