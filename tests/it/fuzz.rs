//! Fuzzing by property test: the offline readers (status, explain and check reading `-f -`)
//! and the edit guard never panic, whatever bytes they are handed. Each reader answers with
//! output, or with one error line; a file error names its position (`<stdin>:LINE:COLUMN:`).
//!
//! The inputs are the fixture pods, as YAML and as JSON, mutated: truncated, bytes replaced
//! or inserted, odd unicode, deep nesting, huge numbers, YAML anchors and tags spliced in;
//! and plain random bytes. The guard gets realistic pods with random subtrees replaced.
//!
//! The case count is small by default so the suite stays fast; `INITCTL_FUZZ_CASES` raises it
//! for a long run (docs/fuzzing.md).

use std::sync::LazyLock;

use clap::Parser;
use initctl::change::guard::classify;
use initctl::{Environment, Error, cli::Cli};
use proptest::prelude::*;
use serde_json::Value;

use crate::harness;

/// Cases per property: `INITCTL_FUZZ_CASES`, else a number that keeps each property to a few
/// seconds in a debug build.
fn cases(default: u32) -> u32 {
    std::env::var("INITCTL_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The fixture pods' texts: every YAML file, and each one's first document as JSON.
static SEEDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut seeds = Vec::new();
    for dir in ["pods", "explain", "bad-input"] {
        let mut files: Vec<_> = std::fs::read_dir(harness::fixtures().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            if let Ok(value) = serde_saphyr::from_str::<Value>(&text) {
                seeds.push(serde_json::to_string_pretty(&value).unwrap());
            }
            seeds.push(text);
        }
    }
    assert!(seeds.len() > 40);
    seeds
});

/// Realistic pods for the guard, as JSON values.
static PODS: LazyLock<Vec<Value>> = LazyLock::new(|| {
    SEEDS
        .iter()
        .filter_map(|s| serde_json::from_str::<Value>(s).ok())
        .filter(|v| v["kind"] == "Pod")
        .collect()
});

/// Text spliced into inputs: what breaks readers.
const SPLICES: &[&str] = &[
    "\u{0}",
    "\u{feff}",
    "\u{202e}",
    "\u{1b}[31m",
    "💥",
    "\u{fffd}",
    "\t",
    "\r\n",
    "---\n",
    "...\n",
    "? ",
    ": ",
    "- ",
    "&a ",
    "*a",
    "<<: *a\n",
    "!!binary ",
    "!!str ",
    "!custom ",
    "|\n",
    ">-\n",
    "\"",
    "'",
    "{",
    "}",
    "[",
    "]",
    ",",
    "#",
    "%YAML 1.1\n",
    "1e999999",
    "-99999999999999999999999999999999999",
    "0x",
    ".nan",
    "~",
    "null",
    "n",
    "yes",
    "items: ",
    "kind: List\n",
    "kind: Pod\n",
    "metadata: {}\n",
];

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(prop::sample::Index),
    Replace(prop::sample::Index, u8),
    Insert(prop::sample::Index, &'static str),
    Nest(prop::sample::Index, usize, bool),
    Bytes(prop::sample::Index, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        (any::<prop::sample::Index>(), prop::sample::select(SPLICES))
            .prop_map(|(i, s)| Mutation::Insert(i, s)),
        (any::<prop::sample::Index>(), 1usize..400, any::<bool>())
            .prop_map(|(i, n, flow)| Mutation::Nest(i, n, flow)),
        (
            any::<prop::sample::Index>(),
            prop::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(i, b)| Mutation::Bytes(i, b)),
    ]
}

fn mutate(bytes: &mut Vec<u8>, m: &Mutation) {
    let at = |i: &prop::sample::Index, bytes: &Vec<u8>| i.index(bytes.len() + 1);
    match m {
        Mutation::Truncate(i) => bytes.truncate(at(i, bytes)),
        Mutation::Replace(i, b) => {
            if !bytes.is_empty() {
                let i = i.index(bytes.len());
                bytes[i] = *b;
            }
        }
        Mutation::Insert(i, s) => {
            let i = at(i, bytes);
            bytes.splice(i..i, s.bytes());
        }
        Mutation::Nest(i, n, flow) => {
            let i = at(i, bytes);
            let nest = if *flow {
                format!("{}1{}", "[".repeat(*n), "]".repeat(*n))
            } else {
                (0..*n).map(|d| format!("{}a:\n", " ".repeat(d))).collect()
            };
            bytes.splice(i..i, nest.bytes());
        }
        Mutation::Bytes(i, b) => {
            let i = at(i, bytes);
            bytes.splice(i..i, b.iter().copied());
        }
    }
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => (0..SEEDS.len(), prop::collection::vec(mutation(), 1..4)).prop_map(|(seed, ms)| {
            let mut bytes = SEEDS[seed].as_bytes().to_vec();
            for m in &ms {
                mutate(&mut bytes, m);
            }
            bytes
        }),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

fn environment() -> Environment {
    Environment {
        now: harness::NOW.parse().unwrap(),
        stdout_is_terminal: false,
        no_color: true,
        interactive: false,
        editor: None,
        shell: None,
        state_dir: None,
        columns: 80,
        unicode: false,
    }
}

/// Runs `kubectl-initctl ARGS` in this process with `input` on stdin, as the binary would.
fn run(args: &[&str], input: &[u8]) -> Result<(), Error> {
    let cli = Cli::try_parse_from(std::iter::once("kubectl-initctl").chain(args.iter().copied()))
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut stdin = input;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    runtime.block_on(initctl::run(
        cli,
        &environment(),
        &mut stdin,
        &mut out,
        &mut err,
    ))
}

/// Ok, or one error line; an error about the file names where in it.
fn answers_in_one_line(result: Result<(), Error>) -> Result<(), TestCaseError> {
    let Err(error) = result else {
        return Ok(());
    };
    let text = error.to_string();
    prop_assert!(
        !text.is_empty() && !text.contains('\n'),
        "one line: {text:?}"
    );
    if let Error::Parse {
        path, line, column, ..
    } = &error
    {
        prop_assert_eq!(path.as_str(), "<stdin>");
        prop_assert!(*line >= 1 && *column >= 1, "a position: {text:?}");
        prop_assert!(
            text.starts_with(&format!("<stdin>:{line}:{column}: ")),
            "{text:?}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(32),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn offline_readers_never_panic(bytes in input()) {
        answers_in_one_line(run(&["status", "-f", "-"], &bytes))?;
        answers_in_one_line(run(&["status", "-o", "json", "-f", "-"], &bytes))?;
        answers_in_one_line(run(&["explain", "-f", "-"], &bytes))?;
        let other = harness::fixtures().join("pods/completed.yaml");
        answers_in_one_line(run(&["check", "-", other.to_str().unwrap()], &bytes))?;
    }
}

/// Any JSON value, nested a little.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(vec!["busybox:1", "", "Always", "0", "-1", "9999999999"])
            .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replaces the node that `path` picks (each step an index into the children there).
fn replace_at(value: &mut Value, path: &[prop::sample::Index], with: Value) {
    let Some((step, rest)) = path.split_first() else {
        *value = with;
        return;
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            let key = map.keys().nth(step.index(map.len())).unwrap().clone();
            replace_at(map.get_mut(&key).unwrap(), rest, with);
        }
        Value::Array(items) if !items.is_empty() => {
            let i = step.index(items.len());
            replace_at(&mut items[i], rest, with);
        }
        _ => *value = with,
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_guard_never_panics_on_mutated_pods(
        pod in 0..PODS.len(),
        edits in prop::collection::vec(
            (prop::collection::vec(any::<prop::sample::Index>(), 0..7), json_value()),
            1..4,
        ),
    ) {
        let live = &PODS[pod];
        let mut edited = live.clone();
        for (path, with) in edits {
            replace_at(&mut edited, &path, with);
        }
        classify(live, &edited);
        classify(&edited, live);
        classify(&edited, &edited);
    }
}
