//! `kubectl initctl timeline`: a pod's startup as steps on one time axis, a workload's as
//! per-step percentiles, online against the stand-in server and offline from the same dump
//! (tests/fixtures/startup, made by tests/fixtures/tools/gen_startup.py).

use std::path::PathBuf;

use serde_json::Value;

use crate::apiserver::ApiServer;
use crate::harness::{self, Run, bin, initctl, kubectl_initctl, scrubbed};

const READY: &str = "orders-7d9c8b6f5-k4m2p";
const STUCK: &str = "orders-7d9c8b6f5-w7xj9";

fn dump() -> PathBuf {
    harness::fixtures().join("startup/orders.json")
}

fn serve() -> ApiServer {
    let server = ApiServer::start();
    server.load_file(dump());
    server
}

/// `timeline ARGS` with a locale (None: unset, the C locale) and COLUMNS.
fn timeline(args: &[&str], kubeconfig: Option<&std::path::Path>, lang: Option<&str>) -> Run {
    let mut cmd = scrubbed(&bin());
    cmd.arg("timeline").args(args).env("COLUMNS", "100");
    if let Some(lang) = lang {
        cmd.env("LANG", lang);
    }
    if let Some(k) = kubeconfig {
        cmd.env("KUBECONFIG", k);
    }
    Run::from(cmd.output().expect("run kubectl-initctl"))
}

fn rows(text: &str) -> Vec<&str> {
    text.lines()
        .skip_while(|l| !l.starts_with("STEP"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect()
}

#[test]
fn a_pods_steps_in_order_with_offsets_durations_and_the_biggest_contributor() {
    let server = serve();
    let run = timeline(
        &["-n", "shop", READY],
        Some(&server.kubeconfig(Some("shop"))),
        Some("C.UTF-8"),
    );
    let out = run.ok();
    assert!(
        out.starts_with(&format!("pod/{READY}: Ready after 4m12s")),
        "{out}"
    );
    let rows = rows(out);
    let names: Vec<String> = rows
        .iter()
        .map(|r| r.split("   ").next().unwrap().trim().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "scheduled",
            "sandbox ready",
            "pull busybox:1.36",
            "init-config",
            "pull fluent-bit:3.1",
            "log-shipper [sidecar]",
            "pull orders-migrate:2.4.1",
            "init-migrate (previous run)",
            "init-migrate",
            "pull orders:2.4.1",
            "containers started",
            "ready",
        ],
        "{out}"
    );
    let row = |name: &str| {
        *rows
            .iter()
            .find(|r| r.starts_with(&format!("{name}  ")))
            .unwrap()
    };
    // The pull time is Pulled's "in 8.4s", finer than the events' seconds.
    assert!(
        row("pull orders-migrate:2.4.1").contains("+12s     8.4s"),
        "{out}"
    );
    assert!(
        row("init-migrate (previous run)").contains("41s")
            && row("init-migrate (previous run)").contains("exit 1"),
        "{out}"
    );
    assert!(
        row("init-migrate").contains("+72s     2m19s")
            && row("init-migrate").ends_with("1 restart"),
        "{out}"
    );
    assert!(
        row("pull busybox:1.36").contains("already present"),
        "{out}"
    );
    // Bars on one axis: the failed run (░) ends before the successful one (█) starts.
    let failed = row("init-migrate (previous run)");
    let ok = row("init-migrate");
    let column = |row: &str, c: char, last: bool| {
        let mut at = row
            .chars()
            .enumerate()
            .filter(|(_, x)| *x == c)
            .map(|(i, _)| i);
        if last { at.last() } else { at.next() }.unwrap()
    };
    assert!(column(failed, '░', true) < column(ok, '█', false), "{out}");
    // The axis spans the width: its header line ends at column 100 with the total.
    let axis = out.lines().find(|l| l.starts_with("STEP")).unwrap();
    assert_eq!(axis.chars().count(), 100, "{out}");
    assert!(axis.ends_with("4m12s"), "{out}");
    assert!(
        out.contains("Biggest contributor: init-migrate: 71% of 4m12s"),
        "{out}"
    );
}

#[test]
fn offline_from_a_dump_reads_as_online_and_ascii_off_a_utf8_locale() {
    let server = serve();
    let online = timeline(
        &["-n", "shop", READY],
        Some(&server.kubeconfig(Some("shop"))),
        None,
    );
    let file = dump();
    let offline = timeline(
        &["-n", "shop", READY, "-f", file.to_str().unwrap()],
        None,
        None,
    );
    assert_eq!(online.ok(), offline.ok());
    let out = offline.ok();
    assert!(
        !out.contains('█') && out.contains('#') && out.contains("xxx"),
        "ASCII bars: {out}"
    );
}

#[test]
fn a_stuck_pod_shows_its_runs_from_events_and_says_what_is_missing_without_events() {
    let file = dump();
    let run = timeline(
        &["-n", "shop", STUCK, "-f", file.to_str().unwrap()],
        None,
        None,
    );
    let out = run.ok();
    assert!(
        out.starts_with(&format!("pod/{STUCK}: not Ready, 5m since creation")),
        "{out}"
    );
    // Started events (count 3) date the first run, before lastState's: they are shown as such.
    assert!(
        out.contains("init-migrate (earlier runs)   +13s     117s"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("init-migrate  ") && l.contains("90s") && l.contains('=')),
        "running: {out}"
    );
    assert!(
        out.contains("Biggest contributor: init-migrate: 82% of 5m"),
        "{out}"
    );

    let bare = harness::fixtures().join("startup/orders-no-events.json");
    let out = timeline(
        &["-n", "shop", STUCK, "-f", bare.to_str().unwrap()],
        None,
        None,
    );
    let out = out.ok();
    assert!(!out.contains("pull "), "no pulls are invented: {out}");
    assert!(out.contains("note: events not available (the input files hold no Event objects): image pulls not shown"), "{out}");
}

#[test]
fn a_workload_aggregates_its_pods_per_step() {
    let server = serve();
    let run = timeline(
        &["-n", "shop", "deploy/orders"],
        Some(&server.kubeconfig(Some("shop"))),
        None,
    );
    let out = run.ok();
    assert!(
        out.starts_with("deploy/orders: 3 pods, 2 Ready; startup p50 4m12s, p95 5m, max 5m"),
        "{out}"
    );
    let table = harness::table(
        &out.lines()
            .skip(2)
            .take_while(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let row = |name: &str| {
        table
            .iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("{name}: {out}"))
            .clone()
    };
    assert_eq!(
        table[0],
        ["STEP", "PODS", "P50", "P95", "MAX", "FAILED", "SHARE"]
    );
    // init-migrate: 139 s (ready pod), 40 s (fast pod), 90 s so far (stuck pod); two failed.
    assert_eq!(
        row("init-migrate")[1..6],
        ["3", "90s", "2m19s", "2m19s", "2"]
    );
    assert_eq!(row("ready")[1..6], ["2", "14s", "39s", "39s", "0"]);
    assert_eq!(
        row("pull orders-migrate:2.4.1")[1..6],
        ["3", "0s", "8.4s", "8.4s", "0"]
    );
    assert!(
        out.contains("Biggest contributor: init-migrate: 76% of all startup time (p50 90s)"),
        "{out}"
    );
}

#[test]
fn json_documents_for_a_pod_and_a_workload() {
    let server = serve();
    let run = initctl(
        &["timeline", "-n", "shop", READY, "-o", "json"],
        Some(&server.kubeconfig(Some("shop"))),
    );
    let doc: Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(doc["apiVersion"], "initctl/v1");
    assert_eq!(doc["kind"], "StartupTimeline");
    assert_eq!(doc["totalSeconds"], 252.0);
    assert_eq!(doc["readyAt"], "2026-11-27T11:44:12Z");
    assert_eq!(doc["biggest"]["subject"], "init-migrate");
    assert_eq!(doc["biggest"]["percent"], 71);
    let pull = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "pull/init-migrate")
        .unwrap();
    assert_eq!(pull["image"], "registry.example.com/orders-migrate:2.4.1");
    assert_eq!(pull["durationSeconds"], 8.4);
    assert_eq!(pull["kind"], "pull");

    let run = initctl(
        &["timeline", "-n", "shop", "deploy/orders", "-o", "yaml"],
        Some(&server.kubeconfig(Some("shop"))),
    );
    let doc: Value = serde_saphyr::from_str(run.ok()).unwrap();
    assert_eq!(doc["kind"], "StartupTimelineList");
    assert_eq!(doc["items"].as_array().unwrap().len(), 3);
    let step = doc["aggregate"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "init/init-migrate")
        .unwrap();
    assert_eq!(step["failed"], 2);
    assert_eq!(step["seconds"]["max"], 139.0);
}

#[test]
fn events_forbidden_narrow_the_answer() {
    let server = serve();
    server.forbid("list", "events", None);
    let run = initctl(
        &["timeline", "-n", "shop", READY],
        Some(&server.kubeconfig(Some("shop"))),
    );
    let out = run.ok();
    assert!(
        out.contains("note: events not available (events in shop are not readable: forbidden)"),
        "{out}"
    );
    assert!(out.contains("init-migrate (previous run)"), "{out}");
}

#[test]
fn through_kubectl_plugin_discovery() {
    let server = serve();
    let Some(run) = kubectl_initctl(
        &["timeline", "-n", "shop", READY],
        &server.kubeconfig(Some("shop")),
    ) else {
        return;
    };
    assert!(
        run.ok()
            .contains("Biggest contributor: init-migrate: 71% of 4m12s")
    );
}

#[test]
fn colours_follow_the_color_flag() {
    let file = dump();
    let path = file.to_str().unwrap();
    let plain = initctl(&["timeline", "-n", "shop", READY, "-f", path], None);
    assert!(!plain.ok().contains('\u{1b}'), "off a terminal: no colour");
    let coloured = initctl(
        &[
            "timeline", "-n", "shop", READY, "-f", path, "--color", "always",
        ],
        None,
    );
    let out = coloured.ok();
    // The failed run red, the biggest contributor bold.
    assert!(out.contains("\u{1b}[31m\u{1b}[1mxxx"), "{out:?}");
    assert!(
        out.contains("\u{1b}[1minit-migrate: 71% of 4m12s\u{1b}[0m"),
        "{out:?}"
    );
}
