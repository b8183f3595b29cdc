//! The krew manifest rules: what validate-krew-manifest (krew-index CI) checks without
//! installing, plus the review conventions krew-index maintainers ask for. Each assertion
//! message starts with the rule's name, so a test can tell which rule refused a manifest.

use std::path::Path;

use serde_json::Value;

use super::platforms;

/// `<os,arch>` pairs validate-krew-manifest accepts (cmd/validate-krew-manifest/main.go).
const SUPPORTED: [(&str, &str); 11] = [
    ("windows", "386"),
    ("windows", "amd64"),
    ("windows", "arm64"),
    ("linux", "386"),
    ("linux", "amd64"),
    ("linux", "arm"),
    ("linux", "arm64"),
    ("linux", "ppc64le"),
    ("darwin", "386"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
];

/// Go's `\w`: ASCII letters, digits and underscore.
fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// k8s.io/apimachinery ParseSemantic after krew's own check for the leading `v`:
/// MAJOR.MINOR.PATCH (no leading zeros), optional -prerelease and +build.
pub(super) fn is_krew_semver(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let (rest, build) = match rest.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (rest, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let numeric = |n: &str| {
        !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) && (n == "0" || !n.starts_with('0'))
    };
    let idents = |s: &str| {
        s.split('.')
            .all(|i| !i.is_empty() && i.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    };
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| numeric(p))
        && pre.is_none_or(idents)
        && build.is_none_or(idents)
}

pub(super) fn selector_matches(selector: &Value, os: &str, arch: &str) -> bool {
    let label = |key: &str| match key {
        "os" => Some(os),
        "arch" => Some(arch),
        _ => None,
    };
    let labels_ok = selector["matchLabels"].as_object().is_none_or(|m| {
        m.iter()
            .all(|(k, v)| label(k).is_some_and(|l| Some(l) == v.as_str()))
    });
    let expressions_ok = selector["matchExpressions"].as_array().is_none_or(|exprs| {
        exprs.iter().all(|e| {
            let key = e["key"].as_str().unwrap_or_default();
            let values: Vec<&str> = e["values"]
                .as_array()
                .map(|v| v.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let have = label(key);
            match e["operator"].as_str().unwrap_or_default() {
                "In" => have.is_some_and(|h| values.contains(&h)),
                "NotIn" => have.is_none_or(|h| !values.contains(&h)),
                "Exists" => have.is_some(),
                "DoesNotExist" => have.is_none(),
                other => panic!("rule selector: unknown operator {other:?}"),
            }
        })
    });
    labels_ok && expressions_ok
}

/// Every rule validate-krew-manifest applies without installing (plus the review conventions
/// krew-index maintainers ask for), for the manifest file at `path`.
pub(super) fn assert_manifest_rules(path: &Path, m: &Value) {
    let file = path.file_name().unwrap().to_string_lossy().to_string();
    assert_header_rules(&file, m);
    assert_description_rules(&m["spec"]);
    assert_version_rules(&m["spec"]);
    let platforms = platforms(m);
    assert!(!platforms.is_empty(), "rule platforms-required");
    for (i, p) in platforms.iter().enumerate() {
        let what = format!("platforms[{i}]");
        assert_platform_rules(&what, p);
        assert_selector_rules(&what, &p["selector"]);
    }
    assert_no_overlapping_platforms(platforms);
}

/// File name, apiVersion, kind and metadata.name.
fn assert_header_rules(file: &str, m: &Value) {
    assert!(
        file.ends_with(".yaml"),
        "rule manifest-extension: {file} must end in .yaml"
    );
    assert_eq!(
        m["apiVersion"], "krew.googlecontainertools.github.com/v1alpha2",
        "rule apiVersion"
    );
    assert_eq!(m["kind"], "Plugin", "rule kind");

    let name = m["metadata"]["name"].as_str().unwrap_or_default();
    assert!(
        !name.is_empty() && name.chars().all(|c| is_word(c) || c == '-'),
        "rule name-format (^[\\w-]+$): {name:?}"
    );
    let reserved = [
        "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
        "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ];
    assert!(
        !reserved.contains(&name.to_ascii_uppercase().as_str()),
        "rule name-not-windows-reserved: {name}"
    );
    assert_eq!(
        file.strip_suffix(".yaml"),
        Some(name),
        "rule name-matches-file: metadata.name must equal the file name"
    );
    assert!(
        !name.starts_with("kubectl"),
        "rule naming-guide: krew prepends kubectl- itself ({name})"
    );
}

/// shortDescription and description.
fn assert_description_rules(spec: &Value) {
    let short = spec["shortDescription"].as_str().unwrap_or_default();
    assert!(!short.is_empty(), "rule shortDescription-required");
    assert!(
        !short.contains('\n') && !short.contains('\r'),
        "rule shortDescription-no-line-breaks: {short:?}"
    );
    assert!(
        short.chars().count() <= 50,
        "rule shortDescription-max-50 (krew search truncates at 50): {} chars: {short:?}",
        short.chars().count()
    );

    let description = spec["description"].as_str().unwrap_or_default();
    assert!(!description.trim().is_empty(), "rule description-required");
    for line in description.lines() {
        assert!(
            line.chars().count() <= 80,
            "rule description-wrapped-at-80: {line:?}"
        );
        let t = line.trim_start();
        assert!(
            !(t.starts_with("- ")
                || t.starts_with("* ")
                || t.starts_with('$')
                || t.starts_with("kubectl ")
                || t.contains(" --")),
            "rule description-no-usage-lists (no commands or options; that is --help's job): {line:?}"
        );
    }
}

fn assert_version_rules(spec: &Value) {
    let version = spec["version"].as_str().unwrap_or_default();
    assert!(!version.is_empty(), "rule version-required");
    assert!(
        version.starts_with('v'),
        "rule version-v-prefix: {version:?} not starting with 'v'"
    );
    assert!(
        is_krew_semver(version),
        "rule version-semver: {version:?} is not vMAJOR.MINOR.PATCH[-pre][+build]"
    );
}

/// uri, sha256, bin and files of one platform.
fn assert_platform_rules(what: &str, p: &Value) {
    for field in ["uri", "sha256", "bin"] {
        assert!(
            p[field].as_str().is_some_and(|s| !s.is_empty()),
            "rule platform-{field}-required: {what}"
        );
    }
    let sha = p["sha256"].as_str().unwrap();
    assert!(
        sha.len() == 64
            && sha
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "rule sha256-lowercase-hex (^[a-f0-9]{{64}}$): {what}: {sha:?}"
    );
    if let Some(files) = p.get("files") {
        let files = files.as_array().expect("files is a list");
        assert!(
            !files.is_empty(),
            "rule files-not-empty (leave it out instead): {what}"
        );
        for f in files {
            assert!(
                f["from"].as_str().is_some_and(|s| !s.is_empty())
                    && f["to"].as_str().is_some_and(|s| !s.is_empty()),
                "rule files-from-to: {what}: {f}"
            );
        }
    }
    let bin = p["bin"].as_str().unwrap();
    assert!(
        !bin.starts_with('/') && !Path::new(bin).components().any(|c| c.as_os_str() == ".."),
        "rule bin-inside-install-dir: {what}: {bin:?}"
    );
}

/// A platform's selector: present, only os/arch, matching a supported platform.
fn assert_selector_rules(what: &str, selector: &Value) {
    let keys: Vec<&str> = selector
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert!(
        !keys.is_empty(),
        "rule selector-required (non-nil, non-empty): {what}"
    );
    for (field, empty) in [
        (
            "matchLabels",
            selector["matchLabels"].as_object().map(|o| o.is_empty()),
        ),
        (
            "matchExpressions",
            selector["matchExpressions"]
                .as_array()
                .map(|a| a.is_empty()),
        ),
    ] {
        assert_ne!(empty, Some(true), "rule selector-no-empty-{field}: {what}");
    }
    let mut label_keys: Vec<String> = selector["matchLabels"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    label_keys.extend(
        selector["matchExpressions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["key"].as_str().map(str::to_string)),
    );
    for key in &label_keys {
        assert!(
            key == "os" || key == "arch",
            "rule selector-keys-os-arch-only: {what}: {key:?}"
        );
    }
    assert!(
        SUPPORTED
            .iter()
            .any(|(os, arch)| selector_matches(selector, os, arch)),
        "rule selector-matches-a-supported-platform: {what}: {selector}"
    );
}

/// No two platforms match the same `<os,arch>`; on Windows the bin is an .exe.
fn assert_no_overlapping_platforms(platforms: &[Value]) {
    for (os, arch) in SUPPORTED {
        let matching: Vec<usize> = platforms
            .iter()
            .enumerate()
            .filter(|(_, p)| selector_matches(&p["selector"], os, arch))
            .map(|(i, _)| i)
            .collect();
        assert!(
            matching.len() <= 1,
            "rule no-overlapping-selectors: {os}/{arch} is matched by platforms {matching:?}"
        );
        if os == "windows" {
            for i in matching {
                let bin = platforms[i]["bin"].as_str().unwrap();
                assert!(
                    bin.ends_with(".exe"),
                    "rule windows-bin-exe (krew links only .exe on Windows): {bin}"
                );
            }
        }
    }
}
