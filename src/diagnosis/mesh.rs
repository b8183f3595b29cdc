//! A service-mesh proxy that is a regular container (not a native sidecar) while the pod's
//! outbound traffic is already redirected to it: the proxy starts only after every init
//! container has finished, so an init container's connections are redirected to a port where
//! nothing listens yet and fail ("Connection refused", "Couldn't connect"), however ready the
//! Service they call is.
//!
//! Redirection starts with `istio-init` / `linkerd-init` (iptables, from their place in the
//! init sequence on) or, with the mesh's CNI plugin (`istio-validation`,
//! `linkerd-network-validator`), before any init container. Traffic of the proxy's own uid
//! (1337 for istio-proxy, 2102 for linkerd-proxy) and excluded ports / IP ranges is not
//! redirected.

use std::net::Ipv4Addr;

use k8s_openapi::api::core::v1::{Container, Pod, Service};

use super::related::Lookup;
use super::wait_for::{ServiceRef, WaitTarget};
use super::{Diagnosis, Finding, FindingCode, Severity, Stage, untrusted_all};
use crate::status::print_pod::is_sidecar;
use crate::util::sanitize::Untrusted;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MeshKind {
    Istio,
    Linkerd,
}

impl MeshKind {
    fn proxy(self) -> &'static str {
        match self {
            MeshKind::Istio => "istio-proxy",
            MeshKind::Linkerd => "linkerd-proxy",
        }
    }

    /// The proxy's uid, whose traffic the redirection leaves alone.
    fn proxy_uid(self) -> i64 {
        match self {
            MeshKind::Istio => 1337,
            MeshKind::Linkerd => 2102,
        }
    }
}

/// A mesh whose proxy cannot carry an init container's traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BlockingMesh {
    kind: MeshKind,
    /// Evidence: where the proxy is, and what redirects traffic to it.
    evidence: Vec<String>,
}

fn annotation<'a>(pod: &'a Pod, key: &str) -> Option<&'a str> {
    pod.metadata
        .annotations
        .as_ref()?
        .get(key)
        .map(String::as_str)
}

/// The mesh that blocks the init container at `index` (in `spec.initContainers`), if any.
pub(super) fn blocking_mesh(pod: &Pod, index: usize) -> Option<BlockingMesh> {
    let spec = pod.spec.as_ref()?;
    let inits = spec.init_containers.as_deref().unwrap_or_default();
    let kind_of = |name: &str| match name {
        "istio-proxy" | "istio-init" | "istio-validation" => Some(MeshKind::Istio),
        "linkerd-proxy" | "linkerd-init" | "linkerd-network-validator" => Some(MeshKind::Linkerd),
        _ => None,
    };
    // A native sidecar proxy placed before this init container carries its traffic.
    if inits[..index.min(inits.len())]
        .iter()
        .any(|c| is_sidecar(c) && matches!(c.name.as_str(), "istio-proxy" | "linkerd-proxy"))
    {
        return None;
    }
    let mut evidence = Vec::new();
    let mut kind = None;
    if let Some(proxy) = spec
        .containers
        .iter()
        .find(|c| matches!(c.name.as_str(), "istio-proxy" | "linkerd-proxy"))
    {
        kind = kind_of(&proxy.name);
        evidence.push(format!(
            "{} is a regular container ({}): it starts only after every init container has finished",
            proxy.name,
            proxy.image.as_deref().unwrap_or_default()
        ));
    }
    let mut redirect = false;
    for (i, c) in inits.iter().enumerate() {
        let position = format!("{}/{}", i + 1, inits.len());
        match c.name.as_str() {
            "istio-init" | "linkerd-init" if i < index => {
                redirect = true;
                kind = kind.or(kind_of(&c.name));
                evidence.push(format!(
                    "init container {} ({position}) ran before it and redirected the pod's outbound traffic to the proxy{}",
                    c.name,
                    redirect_args(c)
                ));
            }
            "istio-validation" | "linkerd-network-validator" => {
                redirect = true;
                kind = kind.or(kind_of(&c.name));
                evidence.push(format!(
                    "init container {} ({position}): the mesh's CNI plugin redirects the pod's traffic before any init container runs",
                    c.name
                ));
            }
            _ => {}
        }
    }
    if let Some(status) = annotation(pod, "sidecar.istio.io/status") {
        kind = kind.or(Some(MeshKind::Istio));
        evidence.push(format!("annotation sidecar.istio.io/status: {status}"));
    }
    let kind = kind?;
    // Injected but nothing redirects yet (istio-init after this init container): not the mesh.
    let redirect_after = inits[index.min(inits.len())..]
        .iter()
        .any(|c| matches!(c.name.as_str(), "istio-init" | "linkerd-init"));
    if !redirect && redirect_after {
        return None;
    }
    // A proxy neither in the containers nor a native sidecar: a native one after this init
    // container, or an annotation alone; say nothing rather than guess.
    if !evidence.iter().any(|e| e.contains("regular container")) && !redirect {
        return None;
    }
    Some(BlockingMesh { kind, evidence })
}

/// The iptables arguments that matter, from istio-init's / linkerd-init's command line.
fn redirect_args(c: &Container) -> String {
    let args: Vec<&String> = c
        .command
        .iter()
        .flatten()
        .chain(c.args.iter().flatten())
        .collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a.as_str() == flag)
            .and_then(|i| args.get(i + 1))
            .map(|v| v.as_str())
    };
    match (value("-p"), value("-u")) {
        (Some(port), Some(uid)) => format!(" (to port {port}, all uids but {uid})"),
        (Some(port), None) => format!(" (to port {port})"),
        _ => String::new(),
    }
}

/// The uid an init container runs as (its own securityContext, else the pod's).
fn run_as_user(pod: &Pod, c: &Container) -> Option<i64> {
    c.security_context
        .as_ref()
        .and_then(|s| s.run_as_user)
        .or_else(|| pod.spec.as_ref()?.security_context.as_ref()?.run_as_user)
}

/// Whether `port` is in a list like `8080,9000-9010` (`*` matches every port).
fn port_listed(list: &str, port: u16) -> bool {
    list.split(',').map(str::trim).any(|p| {
        if p == "*" {
            return true;
        }
        match p.split_once('-') {
            Some((lo, hi)) => matches!((lo.trim().parse::<u16>(), hi.trim().parse::<u16>()), (Ok(lo), Ok(hi)) if (lo..=hi).contains(&port)),
            None => p.parse::<u16>() == Ok(port),
        }
    })
}

/// Whether `ip` is in a list of IPv4 CIDRs like `10.96.0.0/12,10.0.0.1/32`.
fn ip_listed(list: &str, ip: Ipv4Addr) -> bool {
    list.split(',').map(str::trim).any(|cidr| {
        let (net, bits) = cidr.split_once('/').unwrap_or((cidr, "32"));
        let (Ok(net), Ok(bits)) = (net.parse::<Ipv4Addr>(), bits.parse::<u32>()) else {
            return false;
        };
        if bits > 32 {
            return false;
        }
        let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
        u32::from(net) & mask == u32::from(ip) & mask
    })
}

/// Why this init container's traffic to `target` is not redirected, if it is not.
fn exempt(
    d: &Diagnosis,
    mesh: &BlockingMesh,
    container: &Container,
    target: &WaitTarget,
    service: Option<&Service>,
) -> Option<String> {
    let pod = d.pod;
    if run_as_user(pod, container) == Some(mesh.kind.proxy_uid()) {
        return Some(format!("runs as uid {}", mesh.kind.proxy_uid()));
    }
    let ports = match mesh.kind {
        MeshKind::Istio => "traffic.sidecar.istio.io/excludeOutboundPorts",
        MeshKind::Linkerd => "config.linkerd.io/skip-outbound-ports",
    };
    if let (Some(list), Some(port)) = (annotation(pod, ports), target.port)
        && port_listed(list, port)
    {
        return Some(format!("{ports} lists {port}"));
    }
    let ranges = annotation(pod, "traffic.sidecar.istio.io/excludeOutboundIPRanges")
        .filter(|_| mesh.kind == MeshKind::Istio)?;
    let ip: Ipv4Addr = service?
        .spec
        .as_ref()?
        .cluster_ip
        .as_deref()?
        .parse()
        .ok()?;
    ip_listed(ranges, ip).then(|| format!("excludeOutboundIPRanges covers {ip}"))
}

/// Log lines that say a connection failed.
pub(super) fn connection_errors(log: &str) -> Vec<String> {
    const SIGNS: [&str; 9] = [
        "couldn't connect",
        "could not connect",
        "can't connect",
        "connection refused",
        "timed out",
        "no route to host",
        "connection reset",
        "failed to connect",
        "upstream connect error",
    ];
    let mut found: Vec<String> = Vec::new();
    for line in log.lines().rev() {
        let lower = line.to_lowercase();
        if SIGNS.iter().any(|s| lower.contains(s)) && !found.iter().any(|f| f == line.trim()) {
            found.push(line.trim().to_string());
            if found.len() == 2 {
                break;
            }
        }
    }
    found.reverse();
    found
}

/// What the init container calls and what its log shows, for one mesh finding.
pub(super) struct InitCall<'a> {
    pub container: &'a Container,
    /// "init container wait-config (2/3)"
    pub label: &'a str,
    pub target: &'a WaitTarget,
    /// The Service the target resolves to, if any.
    pub service: Option<&'a ServiceRef>,
    /// Evidence about the call already gathered (command, Service readiness).
    pub evidence: Vec<String>,
    /// Connection errors quoted from its log.
    pub errors: Vec<String>,
}

/// The finding when `mesh` holds up `call` (none when the call is exempt from redirection).
pub(super) fn finding(d: &mut Diagnosis, mesh: &BlockingMesh, call: InitCall) -> Option<Finding> {
    let service = call
        .service
        .and_then(|s| match d.related.services(&s.namespace) {
            Lookup::Got(list) => list
                .iter()
                .find(|x| x.metadata.name.as_deref() == Some(s.name.as_str()))
                .cloned(),
            _ => None,
        });
    if let Some(why) = exempt(d, mesh, call.container, call.target, service.as_ref()) {
        d.note(format!(
            "{} makes network calls in a meshed pod, but its traffic is not redirected ({why})",
            call.container.name
        ));
        return None;
    }
    let proxy = mesh.kind.proxy();
    let address = match call.target.port {
        Some(p) => format!("{}:{p}", call.target.host),
        None => call.target.host.clone(),
    };
    let mut evidence = call.evidence;
    evidence.extend(mesh.evidence.iter().cloned());
    evidence.extend(call.errors.iter().map(|e| format!("log: {e}")));
    let port = call
        .target
        .port
        .map(|p| p.to_string())
        .unwrap_or_else(|| "PORT".into());
    let ip = service
        .as_ref()
        .and_then(|s| s.spec.as_ref()?.cluster_ip.clone())
        .filter(|ip| ip.parse::<Ipv4Addr>().is_ok())
        .map(|ip| format!("{ip}/32"))
        .unwrap_or_else(|| "CIDR".into());
    let next = match mesh.kind {
        MeshKind::Istio => format!(
            "make istio-proxy a native sidecar, started before the init containers: annotate the pod template sidecar.istio.io/nativeSidecar: \"true\" (or set ENABLE_NATIVE_SIDECARS=true on istiod; Kubernetes 1.29+). Or keep the init container's traffic out of the proxy: traffic.sidecar.istio.io/excludeOutboundPorts: \"{port}\" or traffic.sidecar.istio.io/excludeOutboundIPRanges: \"{ip}\" (these apply to the app containers too), or run {} as uid 1337 (securityContext.runAsUser: 1337, istio-proxy's uid, which is never redirected)",
            call.container.name
        ),
        MeshKind::Linkerd => format!(
            "make linkerd-proxy a native sidecar: annotate the pod template config.beta.linkerd.io/proxy-enable-native-sidecar: \"true\" (Kubernetes 1.29+). Or skip the port: config.linkerd.io/skip-outbound-ports: \"{port}\", or run {} as the proxy's uid 2102 (securityContext.runAsUser: 2102)",
            call.container.name
        ),
    };
    Some(Finding {
        stage: Stage::Init,
        severity: Severity::Blocker,
        code: FindingCode::MeshProxyNotStarted,
        message: Untrusted::from(format!(
            "{} cannot reach {address}: the pod's traffic goes to {proxy}, which starts only after the init containers, so the init container's connections go nowhere",
            call.label
        )),
        evidence: untrusted_all(evidence),
        next: Untrusted::from(next),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusion_lists_read_as_the_mesh_reads_them() {
        assert!(port_listed("5432, 8080-8090", 8085));
        assert!(port_listed("*", 1));
        assert!(!port_listed("5432,8080-8090", 8091));
        assert!(!port_listed("", 80));
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert!(ip_listed("10.96.0.0/12", ip("10.96.37.118")));
        assert!(ip_listed("10.0.0.1/32, 10.96.37.118", ip("10.96.37.118")));
        assert!(!ip_listed("10.0.0.0/24", ip("10.96.37.118")));
        assert!(ip_listed("0.0.0.0/0", ip("1.2.3.4")));
        assert!(!ip_listed("10.0.0.0/33,garbage", ip("10.0.0.1")));
    }

    #[test]
    fn connection_errors_are_picked_from_the_log() {
        let log = "waiting for config\ncurl: (7) Failed to connect to config port 8888 after 0 ms: Couldn't connect to server\nwaiting for config\ncurl: (7) Failed to connect to config port 8888 after 0 ms: Couldn't connect to server\n";
        assert_eq!(
            connection_errors(log),
            [
                "curl: (7) Failed to connect to config port 8888 after 0 ms: Couldn't connect to server"
            ]
        );
        assert!(connection_errors("HTTP/1.1 404 Not Found\n").is_empty());
    }
}
