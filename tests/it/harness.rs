//! Running the real binary: directly, or as `kubectl initctl` through kubectl's own plugin
//! discovery. Every run gets a scrubbed environment (no host kubeconfig, colour or clock leaks).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The clock every test pins (KUBECTL_INITCTL_NOW), matching tests/fixtures/pods/expected.yaml.
pub const NOW: &str = "2026-11-27T12:00:00Z";

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kubectl-initctl"))
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts exit 0 and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Asserts a failure with exactly one `error: …` line on stderr, and returns that line.
    #[track_caller]
    pub fn one_error_line(&self, code: i32) -> &str {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line on stderr, got:\n{}", self.stderr);
        assert!(lines[0].starts_with("error: "), "{}", lines[0]);
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        lines[0]
    }
}

/// A command with nothing inherited from the host but PATH.
pub fn scrubbed(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir().join("initctl-test-home"))
        .env("KUBECTL_INITCTL_NOW", NOW)
        .stdin(Stdio::null());
    cmd
}

/// `kubectl-initctl ARGS` with an optional kubeconfig.
pub fn initctl(args: &[&str], kubeconfig: Option<&Path>) -> Run {
    let mut cmd = scrubbed(&bin());
    cmd.args(args);
    if let Some(k) = kubeconfig {
        cmd.env("KUBECONFIG", k);
    }
    Run::from(cmd.output().expect("run kubectl-initctl"))
}

/// `kubectl-initctl ARGS` with `input` on stdin.
pub fn initctl_stdin(args: &[&str], input: &str) -> Run {
    let mut cmd = scrubbed(&bin());
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn kubectl-initctl");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    Run::from(child.wait_with_output().unwrap())
}

/// Set to `1` (CI does) and a missing kubectl fails the tests that run it instead of letting
/// them skip that part: where kubectl belongs to the machine, a skip would hide a broken setup.
pub const REQUIRE_KUBECTL: &str = "INITCTL_REQUIRE_KUBECTL";

/// The `kubectl` on PATH, for tests that run the real one. Where it is not installed: None,
/// with a note that the test skips `what`; with INITCTL_REQUIRE_KUBECTL=1, a test failure.
/// Every kubectl lookup of the suite goes through here.
#[track_caller]
pub fn kubectl(what: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("kubectl"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os(REQUIRE_KUBECTL).is_none_or(|v| v != "1"),
            "kubectl is not on PATH, and {REQUIRE_KUBECTL}=1 requires it (without it this test \
             skips {what}): install kubectl, or unset {REQUIRE_KUBECTL} to allow the skip"
        );
        eprintln!("note: kubectl not installed; skipping {what}");
    }
    found
}

/// `kubectl initctl ARGS`: kubectl finds the plugin on PATH, as it does for users.
/// None (with a note) where kubectl is not installed, see `kubectl`.
#[track_caller]
pub fn kubectl_initctl(args: &[&str], kubeconfig: &Path) -> Option<Run> {
    let kubectl = kubectl("the plugin-discovery run")?;
    let bin_dir = bin().parent().unwrap().to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut cmd = scrubbed(&kubectl);
    cmd.env("PATH", path)
        .env("HOME", home.path())
        .env("KUBECONFIG", kubeconfig)
        .arg("initctl")
        .args(args);
    Some(Run::from(cmd.output().expect("run kubectl")))
}

/// Table rows split into cells (columns are separated by at least three spaces).
pub fn table(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| !l.starts_with("  "))
        .map(|l| {
            l.split("   ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect()
        })
        .collect()
}

/// Text without its escape sequences (colours, cursor moves), as a reader sees it.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
