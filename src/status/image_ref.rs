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
    // (Byte searches: `explain` splits every container's two images each round, and str's
    // char searchers took several times as long.)
    let (name, digest) = match memchr::memchr(b'@', image.as_bytes()) {
        Some(at) => (&image[..at], Some(&image[at + 1..])),
        None => (image, None),
    };
    let last_slash = memchr::memrchr(b'/', name.as_bytes()).map_or(0, |i| i + 1);
    match memchr::memrchr(b':', &name.as_bytes()[last_slash..]) {
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

/// A reference in its fully qualified form (registry, repository, and tag or digest), kept as
/// the pieces of text it is made of and compared as the text they spell, never built: `explain`
/// asks it of every container of thousands of pods, each diagnosis round, and building the two
/// strings was most of the time drift detection took.
pub struct Normalized<'a> {
    /// Registry and path added in front, the repository, the tag and the digest, each with
    /// what separates it (empty when absent).
    pieces: [&'a str; 6],
}

impl Normalized<'_> {
    fn has_digest(&self) -> bool {
        !self.pieces[4].is_empty()
    }

    /// The same reference without its digest (with a digest only, the repository alone).
    fn without_digest(&self) -> Self {
        let [prefix, repo, colon, tag, ..] = self.pieces;
        Normalized {
            pieces: [prefix, repo, colon, tag, "", ""],
        }
    }
}

impl PartialEq for Normalized<'_> {
    /// The spelled-out texts compared run by run (as long as both current pieces go on), not
    /// byte by byte: byte iterators over the pieces cost about three thousand instructions a
    /// comparison.
    fn eq(&self, other: &Self) -> bool {
        let mut ours = self.pieces.iter().map(|p| p.as_bytes());
        let mut theirs = other.pieces.iter().map(|p| p.as_bytes());
        let (mut a, mut b): (&[u8], &[u8]) = (&[], &[]);
        loop {
            if a.is_empty() {
                match ours.next() {
                    Some(next) => a = next,
                    // Ours is spelled out: equal if theirs is too.
                    None => return b.is_empty() && theirs.all(<[u8]>::is_empty),
                }
                continue;
            }
            if b.is_empty() {
                match theirs.next() {
                    Some(next) => b = next,
                    None => return false,
                }
                continue;
            }
            let n = a.len().min(b.len());
            if a[..n] != b[..n] {
                return false;
            }
            (a, b) = (&a[n..], &b[n..]);
        }
    }
}

impl std::fmt::Display for Normalized<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.pieces.iter().try_for_each(|p| f.write_str(p))
    }
}

/// A reference in its fully qualified form: `busybox:1.28` → `docker.io/library/busybox:1.28`.
pub fn normalize(image: &str) -> Normalized<'_> {
    let Parts { repo, tag, digest } = split(image.trim());
    // The first path component, if there is more than one: a registry when it looks like a host.
    let first = memchr::memchr(b'/', repo.as_bytes()).map(|at| &repo[..at]);
    let has_registry = first
        .is_some_and(|first| first.contains('.') || first.contains(':') || first == "localhost");
    let (prefix, repo) = if has_registry {
        match repo.strip_prefix("index.docker.io/") {
            Some(rest) => ("docker.io/", rest),
            None => ("", repo),
        }
    } else if repo.contains('/') {
        ("docker.io/", repo)
    } else {
        ("docker.io/library/", repo)
    };
    let (colon, tag) = match (tag, digest) {
        (Some(t), _) => (":", t),
        (None, Some(_)) => ("", ""),
        (None, None) => (":", "latest"),
    };
    let (at, digest) = digest.map_or(("", ""), |d| ("@", d));
    Normalized {
        pieces: [prefix, repo, colon, tag, at, digest],
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
    if spec.has_digest() != ran.has_digest() {
        return Some(spec.without_digest() != ran.without_digest());
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
        for (image, full) in [
            ("busybox", "docker.io/library/busybox:latest"),
            ("busybox:1.28", "docker.io/library/busybox:1.28"),
            ("bitnami/redis:7", "docker.io/bitnami/redis:7"),
            ("localhost:5000/app", "localhost:5000/app:latest"),
            ("registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9"),
            (
                "ghcr.io/acme/migrate@sha256:abc",
                "ghcr.io/acme/migrate@sha256:abc",
            ),
        ] {
            assert_eq!(normalize(image).to_string(), full);
        }
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

    proptest::proptest! {
        /// However the same text is cut into pieces, the pieces compare as the text.
        #[test]
        fn pieces_compare_as_their_text(
            a in proptest::array::uniform6("[ab]{0,3}"),
            b in proptest::array::uniform6("[ab]{0,3}"),
        ) {
            let (ours, theirs) = (a.each_ref().map(String::as_str), b.each_ref().map(String::as_str));
            let same = Normalized { pieces: ours } == Normalized { pieces: theirs };
            proptest::prop_assert_eq!(same, a.concat() == b.concat());
        }
    }

    #[test]
    fn references_compare_as_the_text_they_spell() {
        let images = [
            "busybox",
            "busybox:latest",
            "library/busybox",
            "docker.io/library/busybox",
            "index.docker.io/library/busybox:latest",
            "docker.io/busybox",
            "bitnami/redis:7",
            "docker.io/bitnami/redis:7@sha256:aa",
            "localhost:5000/app",
            "localhost:5000/app:latest@sha256:aa",
            "app@sha256:aa",
            "app:@sha256:aa",
            "docker.io/library/app@sha256:aa",
            " busybox:1.28 ",
            "ghcr.io/acme/migrate",
            "ghcr.io/acme/migrate:",
            "a/b/c:d@e@f",
        ];
        for a in images {
            for b in images {
                let (na, nb) = (normalize(a), normalize(b));
                assert_eq!(na == nb, na.to_string() == nb.to_string(), "{a} / {b}");
                let text = |n: &Normalized| n.to_string();
                let cut = |s: String| s.split_once('@').map_or(s.clone(), |(n, _)| n.to_string());
                assert_eq!(
                    na.without_digest() == nb.without_digest(),
                    cut(text(&na)) == cut(text(&nb)),
                    "{a} / {b}"
                );
                assert_eq!(na.has_digest(), text(&na).contains('@'), "{a}");
            }
        }
    }
}
