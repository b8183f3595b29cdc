//! The krew package. `validate-krew-manifest` (krew-index CI) and `kubectl krew` are not available
//! here, so their rules are checked one by one (each assertion names the rule; the rules are
//! those of kubernetes-sigs/krew `internal/index/validation/validate.go` and
//! `cmd/validate-krew-manifest`), and `kubectl krew install --manifest=… --archive=…` is
//! emulated on the archive scripts/package.sh builds: pick the linux/amd64 platform by its
//! selector, verify the sha256, extract, apply `files`, link `bin`, run it, and find it through
//! kubectl's plugin discovery.
//!
//! The committed krew/initctl.yaml is .krew.yaml rendered for the current version; until the
//! release archives exist its sha256 fields are the 0000… placeholder (see docs/install.md), so
//! for it only the format of sha256 is checked, while the manifest rendered for the locally built
//! archive is checked completely, install included.

mod rules;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::harness;
use rules::{assert_manifest_rules, is_krew_semver, selector_matches};

const PLACEHOLDER_SHA: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The names krew accepts as the license file, compared case-insensitively.
const LICENSE_NAMES: [&str; 8] = [
    "license",
    "license.txt",
    "license.md",
    "licenses",
    "licenses.txt",
    "licenses.md",
    "copying",
    "copying.txt",
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn version() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

fn load_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn platforms(m: &Value) -> &Vec<Value> {
    m["spec"]["platforms"]
        .as_array()
        .expect("spec.platforms is a list")
}

/// Runs a script from scripts/ and returns its stdout (it must succeed).
fn script(name: &str, args: &[&str]) -> String {
    let out = Command::new("bash")
        .arg(repo().join("scripts").join(name))
        .args(args)
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "scripts/{name} {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn sha256_of(path: &Path) -> String {
    let run = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .arg(path)
            .output()
            .ok()
            .filter(|o| o.status.success())
    };
    let out = run("sha256sum", &[])
        .or_else(|| run("shasum", &["-a", "256"]))
        .expect("sha256sum or shasum is installed");
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

/// The project's own conventions on top of krew's: the version is Cargo.toml's, every platform
/// release.yml builds is listed, and each uri names the asset package.sh makes for it.
fn assert_project_conventions(m: &Value) {
    assert_eq!(
        m["spec"]["version"].as_str(),
        Some(version().as_str()),
        "spec.version must be v + the Cargo.toml version"
    );
    let mut listed = BTreeSet::new();
    for p in platforms(m) {
        let labels = &p["selector"]["matchLabels"];
        let (os, arch) = (
            labels["os"].as_str().expect("matchLabels.os"),
            labels["arch"].as_str().expect("matchLabels.arch"),
        );
        let ext = if os == "windows" { "zip" } else { "tar.gz" };
        let asset = format!("kubectl-initctl_{}_{os}_{arch}.{ext}", version());
        let uri = p["uri"].as_str().unwrap();
        assert_eq!(
            uri,
            format!(
                "https://github.com/kubectl-initctl/kubectl-initctl/releases/download/{}/{asset}",
                version()
            ),
            "uri of {os}/{arch}"
        );
        let exe = if os == "windows" { ".exe" } else { "" };
        assert_eq!(
            p["bin"].as_str(),
            Some(format!("kubectl-initctl{exe}").as_str())
        );
        listed.insert(format!("{os}/{arch}"));
    }
    let expected: BTreeSet<String> = [
        "darwin/amd64",
        "darwin/arm64",
        "linux/amd64",
        "linux/arm64",
        "windows/amd64",
    ]
    .map(str::to_string)
    .into();
    assert_eq!(listed, expected, "platforms in the manifest");
}

// ---------------------------------------------------------------------------------------------

#[test]
fn committed_manifest_follows_every_krew_rule() {
    let path = repo().join("krew/initctl.yaml");
    let m = load_yaml(&path);
    assert_manifest_rules(&path, &m);
    assert_project_conventions(&m);
}

#[test]
fn committed_manifest_is_the_template_rendered_for_this_version() {
    // The sha256 values are the one thing allowed to differ: placeholders before the release,
    // the real ones if the released manifest is copied back.
    let mask = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| match l.trim_start().strip_prefix("sha256: ") {
                Some(_) => "sha256: *".to_string(),
                None => l.to_string(),
            })
            .collect()
    };
    let rendered = script("render-krew-manifest.sh", &["--allow-missing"]);
    let committed = std::fs::read_to_string(repo().join("krew/initctl.yaml")).unwrap();
    assert_eq!(
        mask(&committed),
        mask(&rendered),
        "krew/initctl.yaml is stale; regenerate it with\n  scripts/render-krew-manifest.sh --allow-missing > krew/initctl.yaml"
    );
}

#[test]
fn release_bot_template_has_the_bot_placeholders_for_every_platform() {
    // krew-release-bot fills uri and sha256 only where the template asks it to, with
    // {{addURIAndSha "URL" .TagName | indent 6 }} at the column of `bin:`; a plain `uri:` line
    // would ship a stale sha to krew-index.
    let template = std::fs::read_to_string(repo().join(".krew.yaml")).unwrap();
    let lines: Vec<&str> = template.lines().collect();
    let calls: Vec<(usize, &str)> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains("addURIAndSha"))
        .map(|(i, l)| (i, *l))
        .collect();
    assert_eq!(calls.len(), 5, "one addURIAndSha per platform");
    for (i, line) in calls {
        assert!(
            line.trim_start().starts_with("{{addURIAndSha \"https://")
                && line.trim_end().ends_with("\" .TagName | indent 6 }}")
                && line.matches("{{ .TagName }}").count() == 2,
            "bot call shape: {line}"
        );
        let bin = lines[i + 1];
        assert!(bin.trim_start().starts_with("bin: "), "bin follows: {bin}");
        assert_eq!(
            line.len() - line.trim_start().len(),
            bin.len() - bin.trim_start().len(),
            "addURIAndSha at the column of bin:"
        );
    }
    assert!(
        !template.contains("sha256:"),
        "no hard-coded sha256 in .krew.yaml"
    );
    assert!(
        template.contains("version: {{ .TagName }}"),
        "tags are v-prefixed, so the version is the tag as is"
    );
}

#[test]
fn release_workflow_builds_every_platform_the_manifest_lists() {
    let workflow = load_yaml(&repo().join(".github/workflows/release.yml"));
    let targets: BTreeSet<String> = workflow["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .expect("jobs.build.strategy.matrix.include")
        .iter()
        .map(|e| e["target"].as_str().expect("target").to_string())
        .collect();
    let expected: BTreeSet<String> = [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ]
    .map(str::to_string)
    .into();
    assert_eq!(targets, expected);
    let text = std::fs::read_to_string(repo().join(".github/workflows/release.yml")).unwrap();
    assert!(
        text.contains("scripts/package.sh"),
        "archives come from package.sh"
    );
    assert!(
        text.contains("rajatjindal/krew-release-bot"),
        "krew update step"
    );
    for secret in text.match_indices("secrets.").map(|(i, _)| &text[i..]) {
        assert!(
            secret.starts_with("secrets.GITHUB_TOKEN"),
            "no secret beyond GITHUB_TOKEN: {}",
            secret.lines().next().unwrap()
        );
    }
}

/// Where `kubectl krew install` would put things, under a temporary KREW_ROOT.
struct KrewInstall {
    root: tempfile::TempDir,
    install_dir: PathBuf,
    link: PathBuf,
}

/// `kubectl krew install --manifest=MANIFEST --archive=ARCHIVE` for os/arch, as
/// internal/installation/install.go does it.
fn krew_install(manifest: &Path, archive: &Path, os: &str, arch: &str) -> KrewInstall {
    let m = load_yaml(manifest);
    let name = m["metadata"]["name"].as_str().unwrap();
    let version = m["spec"]["version"].as_str().unwrap();
    // The first platform whose selector matches this machine (krew: GetMatchingPlatform).
    let platform = platforms(&m)
        .iter()
        .find(|p| selector_matches(&p["selector"], os, arch))
        .unwrap_or_else(|| panic!("rule install: no platform matches {os}/{arch}"));
    // --archive replaces the download, never the sha256 check.
    assert_eq!(
        sha256_of(archive),
        platform["sha256"].as_str().unwrap(),
        "rule install-sha256: the archive's sha256 must equal the manifest's"
    );

    let root = tempfile::tempdir().unwrap();
    let extract = root.path().join("download");
    std::fs::create_dir_all(&extract).unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(archive)
        .arg("-C")
        .arg(&extract)
        .status()
        .unwrap();
    assert!(status.success(), "extract {}", archive.display());

    // files: default [{from: "*", to: "."}]; each `from` glob is moved under install_dir/`to`.
    let install_dir = root.path().join("store").join(name).join(version);
    std::fs::create_dir_all(&install_dir).unwrap();
    let default_files = serde_json::json!([{"from": "*", "to": "."}]);
    let files = platform.get("files").unwrap_or(&default_files);
    for op in files.as_array().unwrap() {
        let from = op["from"].as_str().unwrap();
        let to = install_dir.join(op["to"].as_str().unwrap());
        std::fs::create_dir_all(&to).unwrap();
        let matches: Vec<PathBuf> = if from == "*" {
            std::fs::read_dir(&extract)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect()
        } else {
            vec![extract.join(from)]
                .into_iter()
                .filter(|p| p.exists())
                .collect()
        };
        assert!(
            !matches.is_empty(),
            "rule files: {from:?} matches nothing in the archive"
        );
        for src in matches {
            std::fs::rename(&src, to.join(src.file_name().unwrap())).unwrap();
        }
    }

    // "can't create symbolic link, source binary … cannot be found in extracted archive"
    let bin = install_dir.join(platform["bin"].as_str().unwrap());
    assert!(
        bin.is_file(),
        "rule bin-exists: {} is not in the installed files",
        bin.display()
    );
    let mode = std::fs::metadata(&bin).unwrap().permissions().mode();
    assert!(mode & 0o111 != 0, "rule bin-executable: mode {mode:o}");

    // validate-krew-manifest: a license file among the installed files.
    let installed: Vec<String> = std::fs::read_dir(&install_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(
        installed
            .iter()
            .any(|f| LICENSE_NAMES.contains(&f.to_ascii_lowercase().as_str())),
        "rule license-in-archive: installed files {installed:?}"
    );

    // krew links kubectl-<name, dashes as underscores> in KREW_ROOT/bin.
    let bin_dir = root.path().join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let link = bin_dir.join(format!("kubectl-{}", name.replace('-', "_")));
    std::os::unix::fs::symlink(&bin, &link).unwrap();
    KrewInstall {
        root,
        install_dir,
        link,
    }
}

#[test]
fn packaged_archive_installs_like_kubectl_krew_install() {
    let dist = tempfile::tempdir().unwrap();
    let dist_path = dist.path().to_str().unwrap();
    // The binary under test, packaged by the script's own staging and naming (see package.sh
    // --binary for why the test does not let it run cargo).
    let printed = script(
        "package.sh",
        &[
            "--out-dir",
            dist_path,
            "--binary",
            harness::bin().to_str().unwrap(),
        ],
    );
    let archive = PathBuf::from(printed.lines().last().unwrap());
    let name = format!("kubectl-initctl_{}_linux_amd64.tar.gz", version());
    assert_eq!(archive, dist.path().join(&name), "archive name and place");

    // Flat archive root: exactly the binary, the license and the completion helper.
    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(&archive)
        .output()
        .unwrap();
    let entries: BTreeSet<String> = String::from_utf8(listing.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        entries,
        ["LICENSE", "kubectl-initctl", "kubectl_complete-initctl"]
            .map(str::to_string)
            .into(),
        "archive entries"
    );

    // The .sha256 next to it is what the release publishes and render-krew-manifest reads.
    let sum_file = std::fs::read_to_string(dist.path().join(format!("{name}.sha256"))).unwrap();
    assert_eq!(sum_file, format!("{}  {name}\n", sha256_of(&archive)));

    // The manifest for this archive, rendered the way the release renders it.
    let manifest = dist.path().join("initctl.yaml");
    let rendered = script(
        "render-krew-manifest.sh",
        &["--dist", dist_path, "--allow-missing"],
    );
    std::fs::write(&manifest, rendered).unwrap();
    let m = load_yaml(&manifest);
    assert_manifest_rules(&manifest, &m);
    assert_project_conventions(&m);
    let linux_amd64 = platforms(&m)
        .iter()
        .find(|p| selector_matches(&p["selector"], "linux", "amd64"))
        .unwrap();
    assert_ne!(
        linux_amd64["sha256"], PLACEHOLDER_SHA,
        "the real sha was filled in"
    );

    let install = krew_install(&manifest, &archive, "linux", "amd64");
    assert!(
        install
            .install_dir
            .join("kubectl_complete-initctl")
            .is_file()
    );

    // The linked plugin runs, and says which version and commit it is.
    let out = Command::new(&install.link).arg("version").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.starts_with(&format!(
            "kubectl-initctl {}\ngit commit: ",
            env!("CARGO_PKG_VERSION")
        )),
        "{stdout}"
    );

    assert_caveat_links_the_completion_helper(&m, &install);
    assert_kubectl_finds_the_plugin(&install);
}

/// The manifest's caveats (printed by `kubectl krew install`) tell how to put the completion
/// helper on PATH; their shell lines, run against this install, really link it.
#[track_caller]
fn assert_caveat_links_the_completion_helper(m: &Value, install: &KrewInstall) {
    let caveats = m["spec"]["caveats"].as_str().expect("spec.caveats");
    assert!(caveats.contains("kubectl_complete-initctl"), "{caveats}");
    // The command is the block indented under the prose.
    let command: Vec<&str> = caveats
        .lines()
        .filter(|l| l.starts_with("  "))
        .map(str::trim)
        .collect();
    assert!(!command.is_empty(), "no command in the caveats: {caveats}");
    let status = Command::new("sh")
        .arg("-c")
        .arg(command.join("\n"))
        .env("KREW_ROOT", install.root.path())
        .status()
        .unwrap();
    assert!(status.success(), "caveats' command failed: {command:?}");
    let link = install.root.path().join("bin/kubectl_complete-initctl");
    let target = std::fs::canonicalize(&link).expect("the caveats' link resolves");
    assert_eq!(
        target,
        std::fs::canonicalize(install.install_dir.join("kubectl_complete-initctl")).unwrap()
    );
}

/// kubectl finds the plugin where krew put it, as users run it.
#[track_caller]
fn assert_kubectl_finds_the_plugin(install: &KrewInstall) {
    let Some(kubectl) = harness::kubectl("the plugin-discovery part") else {
        return;
    };
    let path = std::env::join_paths(std::iter::once(install.root.path().join("bin")).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let run = |args: &[&str]| {
        let out = harness::scrubbed(&kubectl)
            .env("PATH", &path)
            .env("HOME", install.root.path())
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let (ok, list) = run(&["plugin", "list", "--name-only"]);
    assert!(list.lines().any(|l| l == "kubectl-initctl"), "{ok} {list}");
    let (ok, version_out) = run(&["initctl", "version"]);
    assert!(
        ok && version_out.starts_with("kubectl-initctl "),
        "{version_out}"
    );
}

#[test]
fn krew_semver_rule_matches_parse_semantic() {
    for good in [
        "v0.1.0",
        "v1.22.333",
        "v1.0.0-rc.1",
        "v1.0.0+build.5",
        "v0.0.0",
    ] {
        assert!(is_krew_semver(good), "{good}");
    }
    for bad in [
        "0.1.0",
        "v1.0",
        "v01.0.0",
        "v1.0.0-",
        "V1.0.0",
        "v1.0.0-rc..1",
        "",
    ] {
        assert!(!is_krew_semver(bad), "{bad}");
    }
}

/// One way to break a manifest.
type Breakage<'a> = &'a dyn Fn(&mut Value);

/// The validator itself must fail where validate-krew-manifest would: each broken copy of the
/// committed manifest is refused by the named rule.
#[test]
fn broken_manifests_are_refused_by_the_named_rule() {
    let path = repo().join("krew/initctl.yaml");
    let good = load_yaml(&path);
    let refused_by = |edit: &dyn Fn(&mut Value)| -> String {
        let mut m = good.clone();
        edit(&mut m);
        let result = std::panic::catch_unwind(|| assert_manifest_rules(&path, &m));
        let panic = result.expect_err("the broken manifest was accepted");
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    };
    let cases: [(&str, Breakage); 6] = [
        ("rule no-overlapping-selectors", &|m| {
            m["spec"]["platforms"][1]["selector"] = serde_json::json!(
                {"matchExpressions": [{"key": "os", "operator": "In", "values": ["darwin"]}]});
        }),
        ("rule sha256-lowercase-hex", &|m| {
            m["spec"]["platforms"][0]["sha256"] = "AB".repeat(32).into();
        }),
        ("rule shortDescription-max-50", &|m| {
            m["spec"]["shortDescription"] = "x".repeat(51).into();
        }),
        ("rule version-v-prefix", &|m| {
            m["spec"]["version"] = "0.1.0".into()
        }),
        ("rule selector-keys-os-arch-only", &|m| {
            m["spec"]["platforms"][0]["selector"]["matchLabels"]["libc"] = "musl".into();
        }),
        ("rule name-matches-file", &|m| {
            m["metadata"]["name"] = "init-ctl".into()
        }),
    ];
    for (rule, edit) in cases {
        let message = refused_by(edit);
        assert!(message.contains(rule), "expected {rule}, got: {message}");
    }
}

/// Packages `binary` for `target` into a fresh directory and returns the archive's bytes.
fn package_bytes(binary: &Path, target: &str, epoch: &str) -> (Vec<u8>, tempfile::TempDir) {
    let dist = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(repo().join("scripts/package.sh"))
        .args(["--target", target, "--out-dir"])
        .arg(dist.path())
        .arg("--binary")
        .arg(binary)
        .env("SOURCE_DATE_EPOCH", epoch)
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "package.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let archive = PathBuf::from(printed.lines().last().unwrap());
    (std::fs::read(&archive).unwrap(), dist)
}

/// Release archives are reproducible: the same binary packaged twice gives the same bytes, however
/// the staged files' mtimes differ (the commit time is stamped on every entry), for the tar.gz and
/// the Windows zip alike; entries are sorted and owned by 0:0.
#[test]
fn packaging_twice_gives_byte_identical_archives() {
    // A small stand-in binary: the archive format is under test, not the program (and gzip of
    // the 250 MB debug binary would cost seconds per run).
    let work = tempfile::tempdir().unwrap();
    let binary = work.path().join("kubectl-initctl");
    std::fs::write(&binary, b"#!/bin/sh\necho stand-in\n").unwrap();
    let epoch = "1764331200"; // 2025-11-28T12:00:00Z
    for target in ["x86_64-unknown-linux-gnu", "x86_64-pc-windows-msvc"] {
        let set_mtime = |secs: u64| {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
            std::fs::File::options()
                .write(true)
                .open(&binary)
                .unwrap()
                .set_modified(t)
                .unwrap();
        };
        set_mtime(1_000_000_000);
        let (first, _a) = package_bytes(&binary, target, epoch);
        set_mtime(1_700_000_000);
        let (second, dist) = package_bytes(&binary, target, epoch);
        assert!(
            first == second,
            "{target}: packaging twice gave different archives"
        );
        if target.contains("linux") {
            // GNU tar's verbose listing: mode, owner/group, size, date, time, name.
            let archive = std::fs::read_dir(dist.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.to_string_lossy().ends_with(".tar.gz"))
                .unwrap();
            let listing = Command::new("tar")
                .args(["--numeric-owner", "--full-time", "--utc", "-tvzf"])
                .arg(&archive)
                .output()
                .unwrap();
            assert!(listing.status.success());
            let listing = String::from_utf8(listing.stdout).unwrap();
            let rows: Vec<Vec<&str>> = listing
                .lines()
                .map(|l| l.split_whitespace().collect())
                .collect();
            let names: Vec<&str> = rows.iter().map(|r| r[5]).collect();
            assert_eq!(
                names,
                ["LICENSE", "kubectl-initctl", "kubectl_complete-initctl"],
                "sorted entries"
            );
            for row in &rows {
                assert_eq!(row[1], "0/0", "numeric owner 0: {row:?}");
                assert_eq!(
                    (row[3], row[4]),
                    ("2025-11-28", "12:00:00"),
                    "SOURCE_DATE_EPOCH as mtime: {row:?}"
                );
            }
        }
    }
}
