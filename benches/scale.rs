//! `bash benches/scale.sh` (or `cargo bench --bench scale`): issue 10's comparison at cluster
//! scale, documented in docs/benchmarks.md. For each pod count (`SCALES`, default
//! 1000,10000,50000) it starts a fast kube-apiserver stand-in (scale/server.rs) holding that many
//! realistic pods (scale/pods.rs), verifies every command's output (row counts; READY / STATUS /
//! RESTARTS of every pod equal to `kubectl get pods -A`'s, or it aborts), then times each command
//! with hyperfine and prints one markdown table with the ratios to the floor (one curl process
//! fetching the same pages) and to `kubectl get pods -A`. Not a test; never run in CI.

#[allow(dead_code)]
#[path = "../tests/it/apiserver/table.rs"]
mod table;

#[path = "scale/measure.rs"]
mod measure;
#[path = "scale/pods.rs"]
mod pods;
#[path = "scale/server.rs"]
mod server;

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use measure::{Case, Env, Figures, abort, columns_by_pod, require};

/// Rows per LIST page: what kubectl (`--chunk-size` default) and initctl ask for.
const PAGE: usize = 500;

fn main() {
    let scales: Vec<usize> = std::env::var("SCALES")
        .unwrap_or_else(|_| "1000,10000,50000".into())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .unwrap_or_else(|_| abort("SCALES: numbers, e.g. 1000,10000"))
        })
        .collect();
    let initctl = std::env::var("INITCTL_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_kubectl-initctl").to_string());
    let kubectl = require("kubectl", "the comparison runs the real kubectl");
    let curl = require("curl", "the floor is a curl of the same pages");
    require("hyperfine", "apt-get install -y hyperfine");
    require("/usr/bin/time", "GNU time: apt-get install -y time");
    print_setup(&initctl, &kubectl);

    let mut all = Vec::new();
    for n in scales {
        let rows = measure_scale(n, &initctl, &kubectl, &curl);
        all.extend(rows);
    }
    println!("\n## Results\n");
    print_table(&all);
}

fn print_setup(initctl: &str, kubectl: &Path) {
    let run = |cmd: &mut Command| {
        cmd.output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let dir = env!("CARGO_MANIFEST_DIR");
    // The product's code: the last commit that touched src/ (dev-dependencies and benches
    // change Cargo.toml without changing the binary).
    let commit = run(Command::new("git").args([
        "-C",
        dir,
        "log",
        "-1",
        "--format=%h %cs %s",
        "--",
        "src",
        "build.rs",
    ]));
    let head = run(Command::new("git").args(["-C", dir, "log", "-1", "--format=%h"]));
    let dirty =
        run(Command::new("git").args(["-C", dir, "status", "--porcelain", "src", "Cargo.toml"]));
    let kubectl_version = run(Command::new(kubectl).args(["version", "--client", "-o", "json"]));
    let kubectl_version: Value = serde_json::from_str(&kubectl_version).unwrap_or_default();
    println!("initctl:  {initctl}");
    println!("HEAD:     {head}");
    println!(
        "src at:   {commit}{}",
        if dirty.is_empty() {
            ""
        } else {
            " (with uncommitted changes)"
        }
    );
    println!(
        "kubectl:  {}",
        kubectl_version["clientVersion"]["gitVersion"]
    );
    println!(
        "cores:    {}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "load:     {} (1/5/15 min; other work on the machine skews every figure)",
        load()
    );
}

fn load() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split(' ').take(3).collect::<Vec<_>>().join(" ")
}

struct Row {
    pods: usize,
    label: String,
    figures: Figures,
}

fn runs_for(n: usize) -> usize {
    std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(if n <= 10_000 { 5 } else { 3 })
}

/// SKIP: whether `label` contains one of its comma-separated words.
fn skipped(label: &str) -> bool {
    let skip = std::env::var("SKIP").unwrap_or_default();
    skip.split(',').any(|w| !w.is_empty() && label.contains(w))
}

fn write_dumps(pods: &[Value], dir: &Path) -> (PathBuf, PathBuf) {
    let list = json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": pods});
    let json_path = dir.join("dump.json");
    // `kubectl get pods -A -o json > dump.json`: four-space indents.
    let file = BufWriter::new(std::fs::File::create(&json_path).expect("dump.json"));
    let mut ser = serde_json::Serializer::with_formatter(
        file,
        serde_json::ser::PrettyFormatter::with_indent(b"    "),
    );
    serde::Serialize::serialize(&list, &mut ser).expect("write dump.json");
    ser.into_inner().flush().expect("flush");
    let yaml_path = dir.join("dump.yaml");
    if skipped("yaml") {
        return (json_path, yaml_path);
    }
    let mut file = BufWriter::new(std::fs::File::create(&yaml_path).expect("dump.yaml"));
    serde_saphyr::to_io_writer(&mut file, &list).expect("write dump.yaml");
    file.flush().expect("flush");
    (json_path, yaml_path)
}

fn kubeconfig(dir: &Path, addr: std::net::SocketAddr) -> PathBuf {
    let path = dir.join("kubeconfig");
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: bench\n  cluster:\n    server: http://{addr}\n\
         users:\n- name: bench\n  user: {{}}\ncontexts:\n- name: bench\n  context:\n    cluster: bench\n    user: bench\n    namespace: default\n\
         current-context: bench\n"
    );
    std::fs::write(&path, text).expect("kubeconfig");
    path
}

/// Walks the pod LIST with curl as any client would (following `continue`), checking that the
/// pages hold every pod once; returns the page URLs for the floor.
fn walk_pages(curl: &Path, base: &str, n: usize) -> Vec<String> {
    let mut urls = Vec::new();
    let mut url = format!("{base}/api/v1/pods?limit={PAGE}");
    let mut seen = 0;
    loop {
        let out = Command::new(curl)
            .args([
                "-sS",
                "--fail",
                "--compressed",
                "-H",
                "Accept: application/json",
                &url,
            ])
            .output()
            .expect("curl");
        let page: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| abort(&format!("page {url}: {e}")));
        seen += page["items"].as_array().map_or(0, Vec::len);
        urls.push(url.clone());
        match page["metadata"]["continue"].as_str() {
            Some(token) => url = format!("{base}/api/v1/pods?limit={PAGE}&continue={token}"),
            None => break,
        }
    }
    if seen != n {
        abort(&format!("the LIST pages hold {seen} pods, not {n}"));
    }
    urls
}

fn cases(
    initctl: &str,
    kubectl: &Path,
    curl: &Path,
    urls: &[String],
    dumps: &(PathBuf, PathBuf),
) -> Vec<Case> {
    let case = |label: &str, argv: Vec<String>| Case {
        label: label.into(),
        argv,
    };
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let with = |program: &str, args: &[&str]| {
        let mut v = vec![program.to_string()];
        v.extend(s(args));
        v
    };
    let k = kubectl.to_string_lossy().to_string();
    let mut floor = vec![curl.to_string_lossy().to_string()];
    floor.extend(s(&[
        "--compressed",
        "-sS",
        "--fail",
        "-H",
        "Accept: application/json",
    ]));
    for url in urls {
        floor.extend([url.clone(), "-o".into(), "/dev/null".into()]);
    }
    let (json_dump, yaml_dump) = (dumps.0.to_string_lossy(), dumps.1.to_string_lossy());
    vec![
        case("floor: curl --compressed, same pages", floor),
        case("`status -A`", with(initctl, &["status", "-A"])),
        case(
            "`status -A -o wide`",
            with(initctl, &["status", "-A", "-o", "wide"]),
        ),
        case(
            "`status -A -o json`",
            with(initctl, &["status", "-A", "-o", "json"]),
        ),
        case("`explain -A`", with(initctl, &["explain", "-A"])),
        case(
            "`status -f dump.json` (offline)",
            // Offline ages are as of the newest time in the input unless --as-of says otherwise;
            // `now` makes the rows those of the online listing, which they are checked against.
            with(initctl, &["status", "-f", &json_dump, "--as-of", "now"]),
        ),
        case(
            "`status -f dump.yaml` (offline)",
            with(initctl, &["status", "-f", &yaml_dump, "--as-of", "now"]),
        ),
        case(
            "`kubectl get pods -A` (Table)",
            with(&k, &["get", "pods", "-A"]),
        ),
        case(
            "`kubectl get pods -A --chunk-size=0`",
            with(&k, &["get", "pods", "-A", "--chunk-size=0"]),
        ),
    ]
}

type Columns = BTreeMap<(String, String), [String; 3]>;

/// Checks one command's output; the kubectl Table's columns are the reference.
fn verify(label: &str, stdout: &str, n: usize, reference: &mut Option<Columns>) {
    if label.starts_with("floor") {
        return;
    }
    if label.contains("-o json") {
        let doc: Value =
            serde_json::from_str(stdout).unwrap_or_else(|e| abort(&format!("{label}: {e}")));
        let count = doc["items"].as_array().map_or(0, Vec::len);
        if count != n {
            abort(&format!("{label}: {count} items, not {n}"));
        }
        return;
    }
    if label.contains("explain") {
        if stdout.trim().is_empty() {
            abort(&format!("{label}: printed nothing"));
        }
        return;
    }
    let rows = columns_by_pod(stdout, label);
    if rows.len() != n {
        abort(&format!("{label}: {} rows, not {n}", rows.len()));
    }
    match reference {
        None => *reference = Some(rows),
        Some(reference) => {
            let differing: Vec<String> = reference
                .iter()
                .filter(|(k, v)| rows.get(*k) != Some(v))
                .take(5)
                .map(|((ns, name), v)| {
                    format!(
                        "{ns}/{name}: {v:?} vs {:?}",
                        rows.get(&(ns.clone(), name.clone()))
                    )
                })
                .collect();
            if !differing.is_empty() {
                abort(&format!(
                    "{label}: READY/STATUS/RESTARTS differ from kubectl's:\n{}",
                    differing.join("\n")
                ));
            }
        }
    }
}

fn measure_scale(n: usize, initctl: &str, kubectl: &Path, curl: &Path) -> Vec<Row> {
    let work = tempfile::tempdir().expect("tempdir");
    let home = work.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    eprintln!("\n== {n} pods: generating");
    let pods = pods::cluster(n);
    let dumps = write_dumps(&pods, work.path());
    let cluster = server::Cluster::new(&pods);
    drop(pods);
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len()) as f64 / 1e6;
    eprintln!(
        "   {:.1} KiB per pod as a LIST item; dump.json {:.0} MB, dump.yaml {:.0} MB",
        cluster.encoded_bytes() as f64 / n as f64 / 1024.0,
        size(&dumps.0),
        size(&dumps.1)
    );
    let srv = server::start(cluster);
    let base = format!("http://{}", srv.addr);
    let env = Env {
        kubeconfig: kubeconfig(work.path(), srv.addr),
        home,
        work: work.path().to_path_buf(),
    };
    let urls = walk_pages(curl, &base, n);
    if std::env::var_os("SCALE_HOLD").is_some() {
        // For profiling by hand: the server stays up with its kubeconfig and dumps until killed.
        eprintln!(
            "   holding: KUBECONFIG={} dumps in {}",
            env.kubeconfig.display(),
            env.work.display()
        );
        loop {
            std::thread::park();
        }
    }
    let runs = runs_for(n);
    // kubectl's Table is the reference, so it is checked first.
    let mut order = cases(initctl, kubectl, curl, &urls, &dumps);
    // SKIP=yaml,explain: leave out the commands whose label contains one of these words (the
    // kubectl Table and the floor, the references, always run).
    order.retain(|c| {
        c.label.starts_with("floor")
            || c.label.starts_with("`kubectl get pods -A` (Table)")
            || !skipped(&c.label)
    });
    order.sort_by_key(|c| !c.label.starts_with("`kubectl get pods -A`"));
    let mut reference = None;
    let mut rows = Vec::new();
    for case in &order {
        eprintln!("   {}: verifying", case.label);
        let checked = measure::verify_run(&env, case, &srv.requests);
        verify(&case.label, &checked.stdout, n, &mut reference);
        if case.label.starts_with("floor") && checked.requests != urls.len() as u64 {
            abort(&format!(
                "the floor made {} requests for {} pages",
                checked.requests,
                urls.len()
            ));
        }
        eprintln!("   {}: timing ({runs} runs)", case.label);
        let (median, min, cpu) = measure::hyperfine(&env, case, runs);
        rows.push(Row {
            pods: n,
            label: case.label.clone(),
            figures: Figures {
                wall_median_s: median,
                wall_min_s: min,
                cpu_s: cpu,
                peak_rss_kb: checked.peak_rss_kb,
                requests: checked.requests,
            },
        });
    }
    // Back to the documented order (floor first) for the table.
    let position = |label: &str| {
        cases(initctl, kubectl, curl, &[], &dumps)
            .iter()
            .position(|c| c.label == label)
    };
    rows.sort_by_key(|r| position(&r.label));
    println!(
        "\n{n} pods, {runs} timed runs per command, load {} at the end:\n",
        load()
    );
    print_table(&rows);
    rows
}

fn human_time(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

fn human_rss(kb: u64) -> String {
    if kb >= 1024 * 1024 {
        format!("{:.1} GB", kb as f64 / 1024.0 / 1024.0)
    } else {
        format!("{} MB", kb / 1024)
    }
}

fn print_table(rows: &[Row]) {
    println!(
        "| pods | command | wall (median) | wall (min) | CPU user+sys | peak RSS | requests | × floor | × kubectl |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let same = |prefix: &str| {
            rows.iter()
                .find(|r| r.pods == row.pods && r.label.starts_with(prefix))
                .map(|r| r.figures.wall_median_s)
        };
        let ratio = |base: Option<f64>| {
            base.map_or("—".into(), |b| {
                format!("{:.2}", row.figures.wall_median_s / b)
            })
        };
        let f = &row.figures;
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.pods,
            row.label,
            human_time(f.wall_median_s),
            human_time(f.wall_min_s),
            human_time(f.cpu_s),
            human_rss(f.peak_rss_kb),
            f.requests,
            ratio(same("floor")),
            ratio(same("`kubectl get pods -A` (Table)")),
        );
    }
}
