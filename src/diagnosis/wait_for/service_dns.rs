//! Which Kubernetes Service a host name reaches through cluster DNS.

use std::net::IpAddr;

use super::ServiceRef;

/// The Service a host name reaches through cluster DNS from a pod in `pod_namespace`, or `None` for
/// names that are not cluster Services (IPs, external domains, localhost).
///
/// Assumes `dnsPolicy: ClusterFirst` with the cluster domain `cluster.local`, i.e. the search path
/// `<ns>.svc.cluster.local svc.cluster.local cluster.local`. Uppercase is folded; every label must be
/// a DNS-1123 label.
///
/// - `NAME` → `NAME` in the pod's namespace;
/// - `NAME.NS`, `NAME.NS.svc`, `NAME.NS.svc.cluster.local` → `NAME` in `NS`; a trailing dot makes a
///   name absolute (no search path), so only the full `….svc.cluster.local.` form is accepted with it;
/// - `POD.NAME.NS.svc[.cluster.local]` and `POD.NAME.NS` (a pod's name under a headless Service, as
///   StatefulSets use) → the Service `NAME` in `NS`;
/// - `a.b` is ambiguous: the search path makes it Service `a` in namespace `b`, but it may also be a
///   domain, or pod `a` behind headless Service `b` in the pod's own namespace (tried first by the
///   resolver). It is read as a StatefulSet pod when `a` is `<prefix>-<ordinal>` and `b` starts with
///   that prefix (`web-0.web`, `mysql-0.mysql-headless`), as a domain (→ `None`) when `b` is a
///   well-known top-level domain (`WELL_KNOWN_TLDS`), and as Service `a` in namespace `b` otherwise.
///   The same TLD rule applies to `a.b.c`;
/// - `localhost`, `*.localhost`, IP addresses (and names ending in a numeric label, which the
///   resolver reads as IPv4 shorthand), and anything longer that is not a `.svc` form → `None`.
pub fn resolve_service(host: &str, pod_namespace: &str) -> Option<ServiceRef> {
    let host = host.trim().to_ascii_lowercase();
    let (name, absolute) = match host.strip_suffix('.') {
        Some(name) => (name, true),
        None => (host.as_str(), false),
    };
    if name.parse::<IpAddr>().is_ok() {
        return None;
    }
    let labels: Vec<&str> = name.split('.').collect();
    if !labels.iter().all(|l| is_dns1123_label(l)) {
        return None;
    }
    let last = *labels.last()?;
    if last == "localhost" || last.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let service = |name: &str, namespace: &str| {
        Some(ServiceRef {
            name: name.to_string(),
            namespace: namespace.to_string(),
        })
    };
    let in_svc_zone = |rest: &[&str]| match rest {
        [name, ns] | [_, name, ns] => service(name, ns),
        _ => None,
    };
    match labels.as_slice() {
        [rest @ .., "svc", "cluster", "local"] => in_svc_zone(rest),
        _ if absolute => None,
        [name] => service(name, pod_namespace),
        [rest @ .., "svc"] => in_svc_zone(rest),
        [pod, name] if is_statefulset_pod(pod, name) => service(name, pod_namespace),
        [_, tld] | [_, _, tld] if WELL_KNOWN_TLDS.contains(tld) => None,
        [name, ns] | [_, name, ns] => service(name, ns),
        _ => None,
    }
}

/// Top-level domains that make `a.b` / `a.b.c` read as an outside domain rather than a Service in a
/// namespace. Deliberately small: generic and common country TLDs, and the private suffixes that
/// corporate networks use.
const WELL_KNOWN_TLDS: &[&str] = &[
    "com",
    "net",
    "org",
    "edu",
    "gov",
    "mil",
    "int",
    "info",
    "biz",
    "io",
    // Not "dev" (nor "test"): they are common namespace names, and `db.dev` in a cluster is far
    // more often Service db in namespace dev than a public domain.
    "app",
    "cloud",
    "co",
    "ai",
    "me",
    "sh",
    "tech",
    "xyz",
    "uk",
    "de",
    "eu",
    "us",
    "fr",
    "nl",
    "jp",
    "cn",
    "ru",
    "internal",
    "local",
    "localdomain",
    "corp",
    "lan",
    "home",
    "intranet",
    "arpa",
    "example",
];

fn is_dns1123_label(label: &str) -> bool {
    let b = label.as_bytes();
    (1..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// `web-0` under `web`, `mysql-2` under `mysql-headless`: a StatefulSet pod's stable DNS name.
fn is_statefulset_pod(pod: &str, service: &str) -> bool {
    pod.rsplit_once('-').is_some_and(|(prefix, ordinal)| {
        !ordinal.is_empty()
            && ordinal.bytes().all(|b| b.is_ascii_digit())
            && service.starts_with(prefix)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(name: &str, namespace: &str) -> Option<ServiceRef> {
        Some(ServiceRef {
            name: name.into(),
            namespace: namespace.into(),
        })
    }

    #[test]
    fn resolves_short_and_qualified_names() {
        assert_eq!(
            resolve_service("myservice", "seed"),
            svc("myservice", "seed")
        );
        assert_eq!(
            resolve_service("MyService", "seed"),
            svc("myservice", "seed")
        );
        assert_eq!(resolve_service("db.data", "seed"), svc("db", "data"));
        assert_eq!(resolve_service("db.data.svc", "seed"), svc("db", "data"));
        assert_eq!(
            resolve_service("db.data.svc.cluster.local", "seed"),
            svc("db", "data")
        );
        assert_eq!(
            resolve_service("db.data.svc.cluster.local.", "seed"),
            svc("db", "data")
        );
    }

    #[test]
    fn resolves_statefulset_pod_names() {
        assert_eq!(
            resolve_service("web-0.web.shop.svc.cluster.local", "x"),
            svc("web", "shop")
        );
        assert_eq!(
            resolve_service("web-0.web.shop.svc", "x"),
            svc("web", "shop")
        );
        assert_eq!(resolve_service("web-0.web.shop", "x"), svc("web", "shop"));
        assert_eq!(resolve_service("web-0.web", "x"), svc("web", "x"));
        assert_eq!(
            resolve_service("mysql-1.mysql-headless", "x"),
            svc("mysql-headless", "x")
        );
    }

    #[test]
    fn two_label_names_are_namespaces_unless_tld() {
        assert_eq!(resolve_service("redis.cache", "x"), svc("redis", "cache"));
        assert_eq!(resolve_service("example.com", "x"), None);
        assert_eq!(resolve_service("cluster.local", "x"), None);
        assert_eq!(resolve_service("db.internal.corp", "x"), None);
        assert_eq!(resolve_service("api.github.com", "x"), None);
        assert_eq!(resolve_service("a.b.c.d", "x"), None);
    }

    #[test]
    fn not_services() {
        for host in [
            "localhost",
            "LOCALHOST",
            "app.localhost",
            "127.0.0.1",
            "10.96.0.10",
            "127.1",
            "::1",
            "[::1]",
            "myservice.",
            "db.data.svc.",
            "bad_name",
            "-bad",
            "$DB_HOST",
            "",
            "ns.svc.cluster.local",
        ] {
            assert_eq!(resolve_service(host, "x"), None, "{host}");
        }
    }
}
