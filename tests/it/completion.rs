//! Shell completion and the other outputs derived from the clap definition: the
//! `completion SHELL` scripts, the `__complete` answers kubectl (>= 1.26) reads through the
//! kubectl_complete-initctl helper (pod names from the stand-in server, `KIND/` prefixes, flag
//! values), real kubectl's plugin completion, `--help` examples on every command, and the man
//! pages in docs/man, which must be exactly what the CLI renders now.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::apiserver::ApiServer;
use crate::harness::{self, initctl};

fn seeded() -> (ApiServer, PathBuf) {
    let server = ApiServer::start();
    server.load_file(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/apiserver/testdata/seed.json"),
    );
    let kubeconfig = server.kubeconfig(Some("seed"));
    (server, kubeconfig)
}

/// `kubectl-initctl __complete WORDS…`: the candidates (without descriptions) and the directive.
fn complete(words: &[&str], kubeconfig: Option<&Path>) -> (Vec<String>, u32) {
    let mut args = vec!["__complete", "--"];
    args.extend_from_slice(words);
    let run = initctl(&args, kubeconfig);
    let out = run.ok();
    assert_eq!(run.stderr, "", "completion never writes to stderr");
    parse_cobra(out)
}

/// cobra's format: one candidate per line (`name<TAB>description` allowed), `:<directive>` last.
fn parse_cobra(out: &str) -> (Vec<String>, u32) {
    let mut lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    let directive = lines
        .pop()
        .and_then(|l| l.strip_prefix(':'))
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("no :<directive> last line in {out:?}"));
    let candidates = lines
        .iter()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    (candidates, directive)
}

const NO_SPACE: u32 = 2;
const NO_FILE_COMP: u32 = 4;

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

const KINDS: [&str; 8] = [
    "pod/", "deploy/", "sts/", "ds/", "rs/", "rc/", "job/", "cronjob/",
];

#[test]
fn completion_scripts_are_printed_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F _kubectl_initctl"),
        ("zsh", "#compdef kubectl-initctl"),
        ("fish", "complete -c kubectl-initctl"),
        (
            "powershell",
            "Register-ArgumentCompleter -Native -CommandName 'kubectl-initctl'",
        ),
    ] {
        let run = initctl(&["completion", shell], None);
        let script = run.ok();
        assert!(
            script.contains(marker),
            "{shell}: no {marker:?} in\n{script}"
        );
        for command in ["status", "explain", "version", "completion"] {
            assert!(script.contains(command), "{shell} script lacks {command}");
        }
        assert!(
            !script.contains("__complete") && !script.contains("__man"),
            "{shell}: hidden commands leak into the script"
        );
    }
    let run = initctl(&["completion", "tcsh"], None);
    assert_eq!(
        run.code, 2,
        "unknown shell is a usage error: {}",
        run.stderr
    );
}

#[test]
fn bash_script_completes_commands_and_output_formats() {
    // Sourced into a real bash and driven the way bash's programmable completion calls it.
    let Ok(script) = String::from_utf8(
        harness::scrubbed(&harness::bin())
            .args(["completion", "bash"])
            .output()
            .unwrap()
            .stdout,
    ) else {
        panic!("script is not utf-8")
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kubectl-initctl.bash");
    std::fs::write(&file, script).unwrap();
    let drive = |words: &str| -> String {
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source {file}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
                 COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; \
                 _kubectl_initctl kubectl-initctl \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
                 printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                file = file.display()
            ))
            .output()
            .expect("bash is installed");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let commands = drive("kubectl-initctl st");
    assert_eq!(commands.trim(), "status", "{commands}");
    let formats = drive("kubectl-initctl status -o ''");
    let mut formats: Vec<&str> = formats.lines().collect();
    formats.sort();
    assert_eq!(
        formats,
        [
            "custom-columns=",
            "json",
            "jsonpath-as-json=",
            "jsonpath=",
            "name",
            "wide",
            "yaml"
        ]
    );
}

#[test]
fn complete_offers_commands_flags_and_their_values() {
    // Commands: every visible one, none of the hidden helpers, no file names.
    let (commands, directive) = complete(&[""], None);
    for c in ["status", "explain", "version", "completion"] {
        assert!(commands.contains(&c.to_string()), "{commands:?}");
    }
    assert!(
        !commands.iter().any(|c| c.starts_with("__")),
        "{commands:?}"
    );
    assert_eq!(directive, NO_FILE_COMP);
    assert_eq!(complete(&["ex"], None).0, ["explain"]);

    // Flags of the command, globals included; `--` offers only long ones.
    let (flags, _) = complete(&["status", "--w"], None);
    assert_eq!(flags, ["--watch"]);
    let (flags, _) = complete(&["status", "-"], None);
    for f in [
        "-o",
        "--output",
        "-n",
        "--namespace",
        "-w",
        "--selector",
        "--help",
    ] {
        assert!(flags.contains(&f.to_string()), "{f} missing from {flags:?}");
    }
    let (flags, _) = complete(&["explain", "--"], None);
    assert!(flags.iter().all(|f| f.starts_with("--")), "{flags:?}");
    assert!(flags.contains(&"--tail".to_string()));

    // -o values per command, in every spelling of the flag.
    assert_eq!(
        complete(&["status", "-o", ""], None),
        (
            strings(&[
                "wide",
                "json",
                "yaml",
                "name",
                "jsonpath=",
                "jsonpath-as-json=",
                "custom-columns="
            ]),
            NO_FILE_COMP
        )
    );
    assert_eq!(complete(&["explain", "-o", ""], None).0, ["json", "yaml"]);
    assert_eq!(
        complete(&["status", "--output=y"], None).0,
        ["--output=yaml"]
    );
    assert_eq!(
        complete(&["--color", ""], None).0,
        ["auto", "always", "never"]
    );
    assert_eq!(
        complete(&["completion", ""], None).0,
        ["bash", "zsh", "fish", "powershell"]
    );
    // A path flag leaves the shell to complete file names (directive 0).
    assert_eq!(complete(&["status", "-f", ""], None), (vec![], 0));
    // Nothing follows `version`.
    assert_eq!(complete(&["version", ""], None), (vec![], NO_FILE_COMP));
}

#[test]
fn complete_targets_are_pods_of_the_namespace_and_kind_prefixes() {
    let (server, kubeconfig) = seeded();

    // The context's namespace (seed): its pods, then the KIND/ prefixes.
    let (candidates, directive) = complete(&["status", ""], Some(&kubeconfig));
    let mut expected = strings(&["myapp-pod", "web-0", "web-1"]);
    expected.extend(strings(&KINDS));
    assert_eq!(candidates, expected);
    assert_eq!(directive, NO_FILE_COMP);
    let pod_lists: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/api/v1/namespaces/seed/pods")
        .collect();
    assert_eq!(pod_lists.len(), 1, "one pods LIST");

    // Typed prefix, and a second target position.
    assert_eq!(
        complete(&["explain", "myapp-pod", "w"], Some(&kubeconfig)).0,
        ["web-0", "web-1"]
    );

    // -n (before or after the command) picks the namespace.
    assert_eq!(
        complete(&["-n", "other", "status", "b"], Some(&kubeconfig)).0,
        ["batch-x"]
    );
    assert_eq!(
        complete(&["status", "--namespace=other", ""], Some(&kubeconfig)).0[0],
        "batch-x"
    );

    // Only prefixes match: no space after them, so the name can follow.
    assert_eq!(
        complete(&["status", "de"], Some(&kubeconfig)),
        (strings(&["deploy/"]), NO_FILE_COMP | NO_SPACE)
    );

    // After KIND/, the objects of that kind, in the spelling typed.
    assert_eq!(
        complete(&["status", "deploy/"], Some(&kubeconfig)).0,
        ["deploy/orders"]
    );
    assert_eq!(
        complete(&["status", "deployment/o"], Some(&kubeconfig)).0,
        ["deployment/orders"]
    );
    assert_eq!(
        complete(&["status", "job/"], Some(&kubeconfig)).0,
        ["job/seed-db"]
    );
    assert_eq!(
        complete(&["status", "pod/web"], Some(&kubeconfig)).0,
        ["pod/web-0", "pod/web-1"]
    );
    assert_eq!(
        complete(&["status", "svc/"], Some(&kubeconfig)),
        (vec![], NO_FILE_COMP)
    );

    // -n values: the cluster's namespaces.
    assert!(
        complete(&["status", "-n", ""], Some(&kubeconfig))
            .0
            .contains(&"seed".to_string())
    );
    // --context values: the kubeconfig's contexts, without a request.
    assert_eq!(
        complete(&["--context", ""], Some(&kubeconfig)).0,
        ["stand-in"]
    );
    // --cluster and --user values: the kubeconfig's entries; the TLS files are paths.
    assert_eq!(
        complete(&["status", "--cluster", ""], Some(&kubeconfig)).0,
        ["stand-in"]
    );
    assert_eq!(
        complete(&["explain", "--user=s"], Some(&kubeconfig)).0,
        ["--user=stand-in"]
    );
    assert_eq!(
        complete(&["status", "--client-key", ""], Some(&kubeconfig)),
        (vec![], 0)
    );
    // A command without connection flags offers none.
    let (flags, _) = complete(&["check", "--"], None);
    assert!(!flags.iter().any(|f| f == "--kubeconfig"), "{flags:?}");
}

#[test]
fn complete_without_a_usable_cluster_offers_prefixes_and_never_fails() {
    // Forbidden: no pods, still the prefixes, exit 0, nothing on stderr.
    let (server, kubeconfig) = seeded();
    server.forbid("list", "pods", Some("seed"));
    assert_eq!(
        complete(&["status", ""], Some(&kubeconfig)),
        (strings(&KINDS), NO_FILE_COMP | NO_SPACE)
    );

    // Unreachable: a port nothing listens on any more.
    let gone = ApiServer::start().kubeconfig_yaml(Some("seed"));
    let dead = tempfile::tempdir().unwrap();
    let config = dead.path().join("kubeconfig");
    std::fs::write(&config, gone).unwrap();
    assert_eq!(
        complete(&["status", "web"], Some(&config)),
        (vec![], NO_FILE_COMP)
    );

    // No kubeconfig at all.
    let missing = dead.path().join("missing");
    assert_eq!(
        complete(&["status", "pod/"], Some(&missing)),
        (vec![], NO_FILE_COMP)
    );
}

#[test]
fn kubectl_completes_plugin_arguments_through_the_helper() {
    let Some(kubectl) = harness::kubectl("kubectl's plugin completion") else {
        return;
    };
    let (_server, kubeconfig) = seeded();
    // A PATH like a user's after installing: the plugin and the helper script from scripts/.
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(harness::bin(), bin.path().join("kubectl-initctl")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/kubectl_complete-initctl"),
        bin.path().join("kubectl_complete-initctl"),
    )
    .unwrap();
    let path = std::env::join_paths(std::iter::once(bin.path().to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let kubectl_complete = |words: &[&str]| {
        let out = harness::scrubbed(&kubectl)
            .env("PATH", &path)
            .env("HOME", bin.path())
            .env("KUBECONFIG", &kubeconfig)
            .arg("__complete")
            .args(words)
            .output()
            .unwrap();
        assert!(out.status.success());
        parse_cobra(&String::from_utf8_lossy(&out.stdout))
    };
    // kubectl lists the plugin itself, then hands everything after it to the helper.
    assert!(
        kubectl_complete(&["initc"])
            .0
            .contains(&"initctl".to_string())
    );
    assert_eq!(kubectl_complete(&["initctl", "sta"]).0, ["status"]);
    let (candidates, directive) = kubectl_complete(&["initctl", "status", "web"]);
    assert_eq!(candidates, ["web-0", "web-1"]);
    assert_eq!(directive, NO_FILE_COMP);
    assert_eq!(
        kubectl_complete(&["initctl", "explain", "-o", ""]).0,
        ["json", "yaml"]
    );
}

/// The visible commands, as `__complete` lists them (so new commands are covered automatically),
/// less `help`, which shows the others' help rather than having its own.
fn commands() -> Vec<String> {
    let mut commands = complete(&[""], None).0;
    assert!(commands.iter().any(|c| c == "help"), "{commands:?}");
    commands.retain(|c| c != "help");
    commands
}

#[test]
fn help_command_shows_the_help_of_a_command() {
    for command in commands() {
        let help = initctl(&["help", &command], None);
        let flag = initctl(&[&command, "--help"], None);
        assert_eq!(
            help.ok(),
            flag.ok(),
            "`help {command}` is `{command} --help`"
        );
    }
}

#[test]
fn every_command_has_help_with_examples() {
    for command in commands() {
        let help = initctl(&[&command, "--help"], None);
        let text = help.ok();
        assert!(
            text.contains("Examples:") && text.contains(&format!("kubectl initctl {command}")),
            "`kubectl initctl {command} --help` needs an Examples: section using `kubectl initctl {command}`:\n{text}"
        );
    }
}

#[test]
fn man_pages_are_generated_from_the_cli() {
    let fresh = tempfile::tempdir().unwrap();
    initctl(&["__man", fresh.path().to_str().unwrap()], None).ok();
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/man");
    let list = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                    .filter(|n| n.ends_with(".1"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    let stale = "docs/man is out of date with the CLI; regenerate it with scripts/gen-man.sh \
                 (cargo run -- __man docs/man after removing docs/man/*.1)";
    assert_eq!(list(&committed), list(fresh.path()), "{stale}");
    for name in list(fresh.path()) {
        let want = std::fs::read_to_string(fresh.path().join(&name)).unwrap();
        let have = std::fs::read_to_string(committed.join(&name)).unwrap();
        assert!(have == want, "{stale}: {name} differs");
    }
    // One page per visible command, and the main page lists them.
    let main = std::fs::read_to_string(fresh.path().join("kubectl-initctl.1")).unwrap();
    for command in commands() {
        assert!(
            fresh
                .path()
                .join(format!("kubectl-initctl-{command}.1"))
                .is_file(),
            "page for {command}"
        );
        assert!(main.contains(&command), "main page lists {command}");
    }
    assert!(!main.contains("__complete"), "hidden commands stay out");
}
