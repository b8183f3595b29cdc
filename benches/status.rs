//! `cargo bench --bench status`: wall-clock figures for docs/benchmarks.md. Runs the release
//! binary against the stand-in API server on loopback (the same one the tests use), next to
//! `kubectl get pods` on the same server when kubectl is installed. Not a test: it asserts
//! nothing and never runs in CI.

#[allow(dead_code, unused_imports)]
#[path = "../tests/it/apiserver/mod.rs"]
mod apiserver;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const RUNS: usize = 15;

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_kubectl-initctl")
}

/// Median and minimum wall time of `RUNS` runs of a command (stdout discarded).
fn measure(label: &str, make: &dyn Fn() -> Command) -> (Duration, Duration) {
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let status = make()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run");
        times.push(start.elapsed());
        assert!(status.success(), "{label} failed");
    }
    times.sort();
    let (median, min) = (times[RUNS / 2], times[0]);
    println!(
        "{label:<58} median {:>8.1} ms   min {:>8.1} ms",
        ms(median),
        ms(min)
    );
    (median, min)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn pods(n: usize) -> Vec<Value> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pods/init-1of2.yaml"),
    )
    .unwrap();
    let template: Value = serde_saphyr::from_str(&text).unwrap();
    (0..n)
        .map(|i| {
            let mut pod = template.clone();
            pod["metadata"]["name"] = json!(format!("bench-{i:05}"));
            pod["metadata"]["namespace"] = json!("bench");
            pod["metadata"]["uid"] = json!(format!("00000000-0000-4000-8000-{i:012}"));
            pod
        })
        .collect()
}

fn main() {
    let home = tempfile::tempdir().unwrap();
    let with_env = |cmd: &mut Command, kubeconfig: &Path| {
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("KUBECONFIG", kubeconfig);
    };
    println!("kubectl-initctl benchmarks ({RUNS} runs each; release build)\n");
    measure("startup: kubectl-initctl version", &|| {
        let mut c = Command::new(binary());
        c.arg("version");
        c
    });
    let kubectl = which("kubectl");
    for n in [100, 2000] {
        let server = apiserver::ApiServer::start();
        server.insert(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}}),
        );
        let all = pods(n);
        for pod in &all {
            server.insert(pod.clone());
        }
        let kubeconfig = server.kubeconfig(Some("bench"));
        println!();
        measure(&format!("{n} pods: kubectl-initctl status"), &|| {
            let mut c = Command::new(binary());
            c.arg("status");
            with_env(&mut c, &kubeconfig);
            c
        });
        measure(
            &format!("{n} pods: kubectl-initctl status -o wide"),
            &|| {
                let mut c = Command::new(binary());
                c.args(["status", "-o", "wide"]);
                with_env(&mut c, &kubeconfig);
                c
            },
        );
        measure(
            &format!("{n} pods: kubectl-initctl explain (events, services)"),
            &|| {
                let mut c = Command::new(binary());
                c.args(["explain", "--tail", "0"]);
                with_env(&mut c, &kubeconfig);
                c
            },
        );
        if let Some(kubectl) = &kubectl {
            measure(
                &format!("{n} pods: kubectl get pods (same server)"),
                &|| {
                    let mut c = Command::new(kubectl);
                    c.args(["get", "pods"]);
                    with_env(&mut c, &kubeconfig);
                    c
                },
            );
        }
        let dump = home.path().join(format!("dump-{n}.json"));
        std::fs::write(
            &dump,
            json!({"apiVersion": "v1", "kind": "List", "items": all}).to_string(),
        )
        .unwrap();
        measure(
            &format!("{n} pods: kubectl-initctl status -f (offline JSON)"),
            &|| {
                let mut c = Command::new(binary());
                c.args(["status", "-f"]).arg(&dump);
                c
            },
        );
    }
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|p| p.join(name))
        .find(|p| p.is_file())
}
