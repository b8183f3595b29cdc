//! Running the commands: one verification run under `/usr/bin/time` (stdout kept, peak RSS,
//! server requests), then hyperfine for wall and CPU time.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

/// One command of the comparison.
pub struct Case {
    pub label: String,
    pub argv: Vec<String>,
}

/// What one verification run left behind.
pub struct Checked {
    pub stdout: String,
    pub peak_rss_kb: u64,
    pub requests: u64,
}

#[derive(Default, Clone)]
pub struct Figures {
    pub wall_median_s: f64,
    pub wall_min_s: f64,
    pub cpu_s: f64,
    pub peak_rss_kb: u64,
    pub requests: u64,
}

pub struct Env {
    pub kubeconfig: PathBuf,
    pub home: PathBuf,
    pub work: PathBuf,
}

impl Env {
    fn apply(&self, cmd: &mut Command) {
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("LANG", "C.UTF-8")
            // A 50k-pod dump as kubectl writes it (4-space indents) is ~1.4 GB, over the
            // product's default 1 GiB input limit.
            .env("KUBECTL_INITCTL_MAX_INPUT_BYTES", "8000000000");
    }
}

/// Runs `case` once under `/usr/bin/time`, stdout to a file, and reads both back.
pub fn verify_run(env: &Env, case: &Case, requests: &AtomicU64) -> Checked {
    let out_path = env.work.join("stdout");
    let time_path = env.work.join("time");
    let before = requests.load(Ordering::SeqCst);
    let mut cmd = Command::new("/usr/bin/time");
    env.apply(&mut cmd);
    cmd.arg("-f")
        .arg("%e %U %S %M")
        .arg("-o")
        .arg(&time_path)
        .args(&case.argv)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(Stdio::piped());
    let out = cmd.output().expect("run /usr/bin/time");
    let after = requests.load(Ordering::SeqCst);
    let time = std::fs::read_to_string(&time_path).unwrap_or_default();
    // GNU time prefixes "Command exited with non-zero status N" when it fails.
    let fields: Vec<&str> = time.lines().last().unwrap_or_default().split(' ').collect();
    if !out.status.success() {
        abort(&format!(
            "{} failed ({}): {}",
            case.label,
            time.trim(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Checked {
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        peak_rss_kb: fields.get(3).and_then(|f| f.parse().ok()).unwrap_or(0),
        requests: after - before,
    }
}

/// hyperfine's median/min wall and mean user+sys CPU over `runs` runs (stdout to /dev/null).
pub fn hyperfine(env: &Env, case: &Case, runs: usize) -> (f64, f64, f64) {
    let json_path = env.work.join("hyperfine.json");
    let command_line = case
        .argv
        .iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new("hyperfine");
    env.apply(&mut cmd);
    let status = cmd
        .args(["-N", "--style", "none", "--warmup", "0", "--runs"])
        .arg(runs.max(1).to_string())
        .arg("--export-json")
        .arg(&json_path)
        .arg(&command_line)
        .stdout(Stdio::null())
        .status()
        .expect("run hyperfine");
    if !status.success() {
        abort(&format!("hyperfine failed for {}", case.label));
    }
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).expect("hyperfine json"))
            .expect("hyperfine json");
    let r = &doc["results"][0];
    let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
    (f("median"), f("min"), f("user") + f("system"))
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

pub fn abort(message: &str) -> ! {
    eprintln!("\nbenchmark aborted: {message}");
    std::process::exit(1);
}

/// Table lines split into cells (kubectl and initctl pad columns with three spaces).
pub fn cells(line: &str) -> Vec<String> {
    line.split("   ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// READY/STATUS/RESTARTS per (namespace, name) of a table with a NAMESPACE column; rows
/// indented (initctl's `-o wide` init-container lines) and repeated headers are skipped.
pub fn columns_by_pod(
    text: &str,
    label: &str,
) -> std::collections::BTreeMap<(String, String), [String; 3]> {
    let mut lines = text.lines();
    let header = cells(lines.next().unwrap_or_default());
    let at = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| abort(&format!("{label}: no {name} column in {header:?}")))
    };
    let (ns, name, ready, status, restarts) = (
        at("NAMESPACE"),
        at("NAME"),
        at("READY"),
        at("STATUS"),
        at("RESTARTS"),
    );
    let mut rows = std::collections::BTreeMap::new();
    for line in lines {
        if line.starts_with(' ') || line.starts_with("NAMESPACE") || line.is_empty() {
            continue;
        }
        let c = cells(line);
        if c.len() != header.len() {
            abort(&format!(
                "{label}: row {line:?} does not fit the header {header:?}"
            ));
        }
        let key = (c[ns].clone(), c[name].clone());
        let value = [c[ready].clone(), c[status].clone(), c[restarts].clone()];
        if rows.insert(key, value).is_some() {
            abort(&format!("{label}: a pod printed twice: {line:?}"));
        }
    }
    rows
}

pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    })
}

pub fn require(program: &str, hint: &str) -> PathBuf {
    if Path::new(program).is_absolute() && Path::new(program).is_file() {
        return program.into();
    }
    which(program).unwrap_or_else(|| abort(&format!("{program} is not installed ({hint})")))
}
