//! `ENGINES_JSON=dump.json cargo bench --bench engines`: what the reading engines this project is
//! built on cost by themselves, on one thread, on issue 10's offline dump (`benches/scale.rs`
//! writes it; `SCALE_HOLD=1` keeps it). These are the floors under the targets issue 10 leaves
//! unmet (docs/benchmarks.md, "Engine floors"): what no change to our own code can go below
//! while these engines do the reading.
//!
//! - serde_json checking the dump's text, nothing kept (`IgnoredAny`);
//! - serde-saphyr reading the same pods written as YAML into JSON values (what the product reads
//!   them into; `IgnoredAny` was no faster), with the budget the product gives a text that size
//!   (`src/input/yaml.rs`): each pod as a document of its own
//!   (what the product parses, on every core, once `input/yaml_split.rs` has cut a
//!   `kubectl -o yaml` list at its items), and the whole list as one document (once: it takes
//!   longer than the pods apart); the YAML is made here from the JSON, not timed;
//! - serde_json typing each Pod of the dump as k8s-openapi's `Pod`, without its managedFields
//!   (what `explain -A` does for each pod it explains; the texts made here, not timed), and
//!   how many of the pods `explain -A` would pick by the first rule of
//!   `diagnosis::needs_explaining` (not Succeeded, and not Running with Ready true).
//!
//! Each is run `RUNS` times (default 3); the minimum is printed. Not a test; never run in CI.

use std::time::Instant;

use k8s_openapi::api::core::v1::Pod;
use serde::de::IgnoredAny;
use serde_json::Value;

fn main() {
    let Some(path) = std::env::var_os("ENGINES_JSON") else {
        eprintln!(
            "ENGINES_JSON=path/to/dump.json: a `kind: List` of pods as `kubectl get pods -A -o json` \
             writes it (benches/scale.rs writes one: SCALE_HOLD=1 SCALES=10000 bash benches/scale.sh)"
        );
        std::process::exit(2);
    };
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let text = std::fs::read(&path).expect("read ENGINES_JSON");
    let list: Value = serde_json::from_slice(&text).expect("ENGINES_JSON is JSON");
    let items = list["items"].as_array().expect("a List with items");
    let yaml = serde_saphyr::to_string(&list).expect("the list as YAML");
    let yaml_items: Vec<String> = items
        .iter()
        .map(|item| serde_saphyr::to_string(item).expect("a pod as YAML"))
        .collect();
    let pods: Vec<String> = items
        .iter()
        .map(|item| {
            let mut pod = item.clone();
            if let Some(meta) = pod.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("managedFields");
            }
            serde_json::to_string(&pod).expect("a pod as JSON")
        })
        .collect();
    let picked = items.iter().filter(|p| would_explain(p)).count();
    let mb = |n: usize| n as f64 / 1e6;
    println!(
        "{} pods; JSON {:.0} MB, YAML {:.0} MB, pods without managedFields {:.0} MB compact; \
         {picked} pods explain -A would pick; min of {runs} runs, one thread:\n",
        items.len(),
        mb(text.len()),
        mb(yaml.len()),
        mb(pods.iter().map(String::len).sum())
    );
    println!("| engine, work | time | per pod |");
    println!("|---|---:|---:|");
    let row = |what: &str, seconds: f64, per: usize| {
        println!(
            "| {what} | {:.0} ms | {:.1} µs |",
            seconds * 1e3,
            seconds * 1e6 / per as f64
        );
    };
    let n = items.len();
    row(
        "serde_json checks the JSON dump (`IgnoredAny`)",
        fastest(runs, || {
            serde_json::from_slice::<IgnoredAny>(&text).expect("JSON");
        }),
        n,
    );
    row(
        "serde-saphyr reads each pod's YAML document (to a JSON value, the product's budget)",
        fastest(runs, || {
            for doc in &yaml_items {
                std::hint::black_box(
                    serde_saphyr::from_str_with_options::<Value>(doc, yaml_options(doc))
                        .expect("YAML"),
                );
            }
        }),
        n,
    );
    row(
        "serde-saphyr reads the YAML dump as one document (to a JSON value; one run)",
        fastest(1, || {
            std::hint::black_box(
                serde_saphyr::from_str_with_options::<Value>(&yaml, yaml_options(&yaml))
                    .expect("YAML"),
            );
        }),
        n,
    );
    let typed = fastest(runs, || {
        for pod in &pods {
            std::hint::black_box(serde_json::from_str::<Pod>(pod).expect("a Pod"));
        }
    });
    row(
        "serde_json types every Pod (k8s-openapi `Pod`, no managedFields)",
        typed,
        n,
    );
    println!(
        "\nTyping the {picked} pods explain -A picks: {:.0} ms on one thread.",
        typed * 1e3 * picked as f64 / n as f64
    );
}

/// The least time `work` took in `runs` runs.
fn fastest(runs: usize, mut work: impl FnMut()) -> f64 {
    (0..runs.max(1))
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// The budget `src/input/yaml.rs` gives a text of this size, and its duplicate-key policy.
fn yaml_options(text: &str) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = budget.max_nodes.max(text.len());
    budget.max_events = budget.max_events.max(2 * text.len());
    budget.max_documents = budget.max_documents.max(text.len());
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(text.len());
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    options
}

/// `diagnosis::needs_explaining`'s first rule, on the JSON: not finished, and not Running with
/// Ready true (the harness's pods have no deletion times or image drift, its other rules).
fn would_explain(pod: &Value) -> bool {
    let status = &pod["status"];
    let phase = status["phase"].as_str().unwrap_or_default();
    let ready = status["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    });
    phase != "Succeeded" && !(phase == "Running" && ready)
}
