//! Container image references, compared the way the runtime reports them: the kubelet's
//! `status.image` is the normalised reference (`busybox:1.28` → `docker.io/library/busybox:1.28`),
//! so drift detection must normalise the spec's image the same way before comparing.

/// An image reference split as the kubelet's `ParseImageName` splits it: the tag is the part
/// after the last `:` of the last path segment (so a registry's host:port is not a tag), the
/// digest what follows `@`.
pub struct Parts<'a> {
    pub repo: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

pub fn split(image: &str) -> Parts<'_> {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    match name[last_slash..].rfind(':') {
        Some(i) => Parts {
            repo: &name[..last_slash + i],
            tag: Some(&name[last_slash + i + 1..]),
            digest,
        },
        None => Parts {
            repo: name,
            tag: None,
            digest,
        },
    }
}

/// The tag the API server's defaulting sees (`latest` decides imagePullPolicy Always):
/// `latest` when there is neither tag nor digest, empty with a digest only.
pub fn tag(image: &str) -> &str {
    let parts = split(image);
    match (parts.tag, parts.digest) {
        (Some(t), _) => t,
        (None, Some(_)) => "",
        (None, None) => "latest",
    }
}

/// A reference in its fully qualified form: registry, repository, and tag or digest.
pub fn normalize(image: &str) -> String {
    let Parts { repo, tag, digest } = split(image.trim());
    let first = repo.split('/').next().unwrap_or_default();
    let has_registry =
        repo.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let mut full = if has_registry {
        repo.to_string()
    } else if repo.contains('/') {
        format!("docker.io/{repo}")
    } else {
        format!("docker.io/library/{repo}")
    };
    if let Some(full_repo) = full.strip_prefix("index.docker.io/") {
        full = format!("docker.io/{full_repo}");
    }
    match (tag, digest) {
        (Some(t), Some(d)) => format!("{full}:{t}@{d}"),
        (Some(t), None) => format!("{full}:{t}"),
        (None, Some(d)) => format!("{full}@{d}"),
        (None, None) => format!("{full}:latest"),
    }
}

/// Whether the image a container ran differs from the one its spec names now.
/// `None` when the status cannot tell (no status image, or only an opaque image ID).
pub fn drifted(spec_image: &str, ran_image: Option<&str>, image_id: Option<&str>) -> Option<bool> {
    let ran = ran_image.filter(|s| !s.is_empty())?;
    // Some runtimes report a bare content ID when a pod was started by digest; compare digests.
    if ran.starts_with("sha256:") {
        let spec_digest = spec_image.split_once('@').map(|(_, d)| d)?;
        let id_digest = image_id.and_then(|id| id.rsplit_once('@').map(|(_, d)| d));
        return Some(Some(spec_digest) != id_digest && spec_digest != ran);
    }
    let spec = normalize(spec_image);
    let ran = normalize(ran);
    if spec == ran {
        return Some(false);
    }
    // The status may carry a tag where the spec pinned tag@digest (or the other way round).
    let without_digest = |s: &str| {
        s.split_once('@')
            .map_or(s.to_string(), |(n, _)| n.to_string())
    };
    if spec.contains('@') != ran.contains('@') {
        return Some(without_digest(&spec) != without_digest(&ran));
    }
    Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_follow_parse_image_name() {
        assert_eq!(tag("busybox"), "latest");
        assert_eq!(tag("busybox:1.36"), "1.36");
        assert_eq!(tag("localhost:5000/app"), "latest");
        assert_eq!(tag("localhost:5000/app:v2"), "v2");
        assert_eq!(tag("app@sha256:abc"), "");
        assert_eq!(tag("app:latest@sha256:abc"), "latest");
    }

    #[test]
    fn normalizes_docker_hub_shorthand() {
        assert_eq!(normalize("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(normalize("busybox:1.28"), "docker.io/library/busybox:1.28");
        assert_eq!(normalize("bitnami/redis:7"), "docker.io/bitnami/redis:7");
        assert_eq!(normalize("localhost:5000/app"), "localhost:5000/app:latest");
        assert_eq!(
            normalize("registry.k8s.io/pause:3.9"),
            "registry.k8s.io/pause:3.9"
        );
        assert_eq!(
            normalize("ghcr.io/acme/migrate@sha256:abc"),
            "ghcr.io/acme/migrate@sha256:abc"
        );
    }

    #[test]
    fn drift_ignores_normalization_but_not_tags() {
        assert_eq!(
            drifted("busybox:1.28", Some("docker.io/library/busybox:1.28"), None),
            Some(false)
        );
        assert_eq!(
            drifted("busybox:1.36", Some("docker.io/library/busybox:1.28"), None),
            Some(true)
        );
        assert_eq!(drifted("busybox", None, None), None);
        assert_eq!(
            drifted(
                "app@sha256:aa",
                Some("sha256:ff"),
                Some("docker.io/library/app@sha256:aa")
            ),
            Some(false)
        );
    }
}
