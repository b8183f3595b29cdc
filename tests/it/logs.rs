//! `kubectl initctl logs`: the init containers' logs in order under their headers, a workload's
//! stuck pod, `--previous`, `--tail`/`--since`/`--timestamps`, logs that cannot be read, and
//! `-f` following one container after the other as the pod progresses — through the binary
//! against the stand-in server (pods from tests/fixtures/startup).

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::apiserver::{ApiServer, Fault};
use crate::harness::{self, bin, initctl, kubectl, kubectl_initctl, scrubbed};

const STUCK: &str = "orders-7d9c8b6f5-w7xj9";

fn serve() -> ApiServer {
    let server = ApiServer::start();
    server.load_file(harness::fixtures().join("startup/orders.json"));
    server.set_log(
        "shop",
        STUCK,
        "init-config",
        false,
        "copied 4 files to /config\nconfig ready\n",
    );
    server.set_log(
        "shop",
        STUCK,
        "log-shipper",
        false,
        "[2026/11/27 11:55:12] [ info] [fluent bit] version=3.1.9\n",
    );
    server.set_log(
        "shop",
        STUCK,
        "init-migrate",
        false,
        "migrate: connecting to postgres:5432\nmigrate: applying 0042_add_order_index.sql\n",
    );
    server.set_log(
        "shop",
        STUCK,
        "init-migrate",
        true,
        "migrate: connecting to postgres:5432\nmigrate: error: dial tcp 10.96.0.17:5432: connect: connection refused\n",
    );
    server
}

fn log_requests(server: &ApiServer) -> Vec<crate::apiserver::Request> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/log"))
        .collect()
}

const ALL: &str = "\
==> init-config (1/3) terminated: Completed, exit 0, ran 3s <==
copied 4 files to /config
config ready
==> log-shipper (2/3) [sidecar] running for 4m48s <==
[2026/11/27 11:55:12] [ info] [fluent bit] version=3.1.9
==> init-migrate (3/3) running for 90s, 2 restarts <==
migrate: connecting to postgres:5432
migrate: applying 0042_add_order_index.sql
";

#[test]
fn each_init_container_in_order_under_a_header_saying_how_it_stands() {
    let server = serve();
    let run = initctl(&["logs", STUCK], Some(&server.kubeconfig(Some("shop"))));
    assert_eq!(run.ok(), ALL);
    let asked: Vec<String> = log_requests(&server)
        .iter()
        .map(|r| r.query["container"].clone())
        .collect();
    assert_eq!(asked, ["init-config", "log-shipper", "init-migrate"]);
}

#[test]
fn a_workload_picks_its_pod_stuck_in_init_and_says_so() {
    let server = serve();
    let run = initctl(
        &["logs", "deploy/orders"],
        Some(&server.kubeconfig(Some("shop"))),
    );
    assert_eq!(run.ok(), ALL);
    // zq8rt is newer but Ready: the stuck one is picked.
    assert_eq!(
        run.stderr,
        format!("Found 3 pods, using pod/{STUCK} (stuck in init)\n")
    );
}

#[test]
fn previous_shows_the_last_terminated_run() {
    let server = serve();
    let run = initctl(
        &["logs", STUCK, "init-migrate", "--previous"],
        Some(&server.kubeconfig(Some("shop"))),
    );
    assert_eq!(
        run.ok(),
        "==> init-migrate (3/3) previous run: Error, exit 1, ran 40s, 2 restarts <==\n\
         migrate: connecting to postgres:5432\n\
         migrate: error: dial tcp 10.96.0.17:5432: connect: connection refused\n"
    );
    let asked = log_requests(&server);
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].query["previous"], "true");
}

/// The stuck pod one step earlier: the sidecar cannot pull its image, init-migrate has not
/// started. The app container waits too, so plain `kubectl logs` has nothing to show.
fn not_started_yet(server: &ApiServer) {
    let mut pod = server.get("v1", "Pod", Some("shop"), STUCK).unwrap();
    let statuses = pod["status"]["initContainerStatuses"]
        .as_array_mut()
        .unwrap();
    statuses[1]["state"] = json!({"waiting": {"reason": "ImagePullBackOff",
        "message": "Back-off pulling image \"fluent/fluent-bit:3.1\""}});
    statuses[1]["started"] = json!(false);
    statuses[1]["ready"] = json!(false);
    statuses[2] = json!({"name": "init-migrate", "image": "registry.example.com/orders-migrate:2.4.1",
        "imageID": "", "ready": false, "restartCount": 0, "started": false,
        "state": {"waiting": {"reason": "PodInitializing"}}, "lastState": {}});
    server.insert(pod);
}

#[test]
fn containers_that_have_not_started_are_said_so_and_not_asked_for() {
    let server = serve();
    not_started_yet(&server);
    let kubeconfig = server.kubeconfig(Some("shop"));
    let run = initctl(&["logs", STUCK], Some(&kubeconfig));
    assert_eq!(
        run.ok(),
        "==> init-config (1/3) terminated: Completed, exit 0, ran 3s <==\n\
         copied 4 files to /config\n\
         config ready\n\
         ==> log-shipper (2/3) [sidecar] waiting: ImagePullBackOff <==\n\
         (no log: it is waiting to start: ImagePullBackOff)\n\
         ==> init-migrate (3/3) not started yet <==\n\
         (no log: it has not started yet)\n"
    );
    assert_eq!(log_requests(&server).len(), 1, "only init-config has a log");

    // Plain kubectl logs fails on this pod unless it is told a container name.
    let Some(kubectl) = kubectl("kubectl logs on a pod in init") else {
        return;
    };
    let plain = scrubbed(&kubectl)
        .env("KUBECONFIG", &kubeconfig)
        .args(["logs", STUCK])
        .output()
        .unwrap();
    assert_eq!(plain.status.code(), Some(1));
    let said = String::from_utf8_lossy(&plain.stderr);
    assert_eq!(
        said.trim_end(),
        format!(
            "Defaulted container \"orders\" out of: orders, init-config (init), log-shipper (init), init-migrate (init)\n\
             Error from server (BadRequest): container \"orders\" in pod \"{STUCK}\" is waiting to start: PodInitializing"
        )
    );
}

#[test]
fn tail_since_and_timestamps_are_passed_on_as_kubectl_passes_them() {
    let server = serve();
    let now = k8s_openapi::jiff::Timestamp::now();
    let old = (now - k8s_openapi::jiff::SignedDuration::from_hours(2)).to_string();
    let recent = (now - k8s_openapi::jiff::SignedDuration::from_secs(10)).to_string();
    server.set_timed_log(
        "shop",
        STUCK,
        "init-config",
        &[
            (&old, "copied 4 files to /config"),
            (&recent, "config ready"),
        ],
    );
    let kubeconfig = server.kubeconfig(Some("shop"));
    let run = initctl(
        &[
            "logs",
            STUCK,
            "init-config",
            "--since",
            "5m",
            "--timestamps",
        ],
        Some(&kubeconfig),
    );
    let out = run.ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[1].ends_with(" config ready"), "{out}");
    let stamp: k8s_openapi::jiff::Timestamp = lines[1].split(' ').next().unwrap().parse().unwrap();
    assert_eq!(stamp.to_string(), recent);
    let asked = log_requests(&server);
    assert_eq!(asked[0].query["sinceSeconds"], "300");
    assert_eq!(asked[0].query["timestamps"], "true");

    let run = initctl(
        &["logs", STUCK, "init-migrate", "--tail", "1"],
        Some(&kubeconfig),
    );
    assert_eq!(
        run.ok(),
        "==> init-migrate (3/3) running for 90s, 2 restarts <==\n\
         migrate: applying 0042_add_order_index.sql\n"
    );
    assert_eq!(log_requests(&server)[1].query["tailLines"], "1");

    let run = initctl(&["logs", STUCK, "--since", "5"], Some(&kubeconfig));
    assert!(run.one_error_line(1).contains("a unit is required"));
}

#[test]
fn a_log_that_cannot_be_read_is_one_line_and_fails_only_when_none_can() {
    let server = serve();
    server.fault(Fault::error(&format!("/pods/{STUCK}/log"), 500).times(1));
    let kubeconfig = server.kubeconfig(Some("shop"));
    let run = initctl(&["logs", STUCK], Some(&kubeconfig));
    let out = run.ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "==> init-config (1/3) terminated: Completed, exit 0, ran 3s <=="
    );
    assert!(lines[1].starts_with("(no log: "), "{out}");
    assert_eq!(
        &out[out.find("==> log-shipper").unwrap()..],
        &ALL[ALL.find("==> log-shipper").unwrap()..]
    );

    server.forbid("get", "pods/log", None);
    let run = initctl(&["logs", STUCK], Some(&kubeconfig));
    assert_eq!(
        run.one_error_line(1),
        format!("error: no log could be read from pod/{STUCK}")
    );
    assert!(
        run.stdout
            .contains("(no log: pods/log is not readable: forbidden)"),
        "{}",
        run.stdout
    );
}

#[test]
fn hostile_log_lines_are_escaped_and_cut() {
    let server = serve();
    let long = "x".repeat(5000);
    server.set_log(
        "shop",
        STUCK,
        "init-config",
        false,
        &format!("\u{1b}[2Jcleared\n{long}\n"),
    );
    let run = initctl(
        &["logs", STUCK, "init-config"],
        Some(&server.kubeconfig(Some("shop"))),
    );
    let out = run.ok();
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(out.contains("\\u{1b}[2Jcleared"), "{out}");
    assert!(out.contains("… [cut: 904 more characters]"), "{out}");
}

/// Lines of a running command's stdout, as they come.
struct Follower {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Follower {
    fn start(args: &[&str], kubeconfig: &std::path::Path) -> Follower {
        Follower::start_with(args, kubeconfig, &[])
    }

    fn start_with(args: &[&str], kubeconfig: &std::path::Path, env: &[(&str, &str)]) -> Follower {
        let mut child = scrubbed(&bin())
            .envs(env.iter().copied())
            .env("KUBECONFIG", kubeconfig)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Follower {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (at most 20 s) for a line; everything up to it is kept in `seen`.
    #[track_caller]
    fn wait_for(&mut self, text: &str) {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(20)) {
                Ok(line) => {
                    let found = line == text;
                    self.seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(_) => {
                    let _ = self.child.kill();
                    panic!("no line {text:?}; so far:\n{}", self.seen.join("\n"));
                }
            }
        }
    }
}

fn set_init(pod: &mut Value, index: usize, status: Value) {
    pod["status"]["initContainerStatuses"][index] = status;
}

fn init_status(name: &str, image: &str, state: Value) -> Value {
    json!({"name": name, "image": image, "imageID": "", "ready": false, "restartCount": 0,
           "started": state.get("running").is_some(), "state": state, "lastState": {}})
}

#[test]
fn follow_moves_on_to_the_next_init_container_and_ends_when_init_completes() {
    let server = ApiServer::start();
    server.load_file(harness::fixtures().join("startup/orders.json"));
    // The stuck pod as it was at 11:55:06: init-config running, the others not started.
    let mut pod = server.get("v1", "Pod", Some("shop"), STUCK).unwrap();
    let (busybox, fluent, migrate) = (
        "busybox:1.36",
        "fluent/fluent-bit:3.1",
        "registry.example.com/orders-migrate:2.4.1",
    );
    let waiting = json!({"waiting": {"reason": "PodInitializing"}});
    set_init(
        &mut pod,
        0,
        init_status(
            "init-config",
            busybox,
            json!({"running": {"startedAt": "2026-11-27T11:55:06Z"}}),
        ),
    );
    set_init(
        &mut pod,
        1,
        init_status("log-shipper", fluent, waiting.clone()),
    );
    set_init(
        &mut pod,
        2,
        init_status("init-migrate", migrate, waiting.clone()),
    );
    server.insert(pod.clone());
    server.set_log("shop", STUCK, "init-config", false, "copying /config-src\n");

    let kubeconfig = server.kubeconfig(Some("shop"));
    let mut f = Follower::start(&["logs", STUCK, "-f"], &kubeconfig);
    f.wait_for("copying /config-src");
    server.append_log("shop", STUCK, "init-config", "config ready");
    f.wait_for("config ready");

    // init-config ends; the sidecar runs; init-migrate is not started yet: the follow of
    // init-config ends, and the pod is watched until init-migrate runs.
    let done = |started: &str, finished: &str| {
        json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started,
            "finishedAt": finished, "containerID": "containerd://0c1d"}})
    };
    set_init(
        &mut pod,
        0,
        init_status(
            "init-config",
            busybox,
            done("2026-11-27T11:55:06Z", "2026-11-27T11:55:09Z"),
        ),
    );
    set_init(
        &mut pod,
        1,
        init_status(
            "log-shipper",
            fluent,
            json!({"running": {"startedAt": "2026-11-27T11:55:12Z"}}),
        ),
    );
    server.set_log(
        "shop",
        STUCK,
        "log-shipper",
        false,
        "[fluent bit] started\n",
    );
    server.push_watch_event("MODIFIED", pod.clone());
    f.wait_for("[fluent bit] started");

    std::thread::sleep(Duration::from_millis(300));
    server.set_log(
        "shop",
        STUCK,
        "init-migrate",
        false,
        "migrate: connecting\n",
    );
    set_init(
        &mut pod,
        2,
        init_status(
            "init-migrate",
            migrate,
            json!({"running": {"startedAt": "2026-11-27T11:55:13Z"}}),
        ),
    );
    server.push_watch_event("MODIFIED", pod.clone());
    f.wait_for("migrate: connecting");
    server.append_log(
        "shop",
        STUCK,
        "init-migrate",
        "migrate: 42 migrations applied",
    );
    f.wait_for("migrate: 42 migrations applied");

    set_init(
        &mut pod,
        2,
        init_status(
            "init-migrate",
            migrate,
            done("2026-11-27T11:55:13Z", "2026-11-27T11:59:58Z"),
        ),
    );
    server.push_watch_event("MODIFIED", pod.clone());
    let status = f.child.wait_timeout_secs(20);
    assert_eq!(
        status,
        Some(0),
        "exit when init completes: {}",
        f.seen.join("\n")
    );
    assert_eq!(
        f.seen,
        [
            "==> init-config (1/3) running for 4m54s <==",
            "copying /config-src",
            "config ready",
            "==> log-shipper (2/3) [sidecar] running for 4m48s <==",
            "[fluent bit] started",
            "==> init-migrate (3/3) running for 4m47s <==",
            "migrate: connecting",
            "migrate: 42 migrations applied",
        ]
    );
}

trait WaitTimeout {
    fn wait_timeout_secs(&mut self, secs: u64) -> Option<i32>;
}

impl WaitTimeout for std::process::Child {
    /// The exit code, or None (after killing it) if it was still running after `secs`.
    fn wait_timeout_secs(&mut self, secs: u64) -> Option<i32> {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.kill();
        None
    }
}

#[test]
fn through_kubectl_plugin_discovery() {
    let server = serve();
    let Some(run) = kubectl_initctl(&["logs", STUCK], &server.kubeconfig(Some("shop"))) else {
        return;
    };
    assert_eq!(run.ok(), ALL);
}

#[test]
fn logs_and_timeline_complete_pods_like_the_other_commands() {
    let server = serve();
    let kubeconfig = server.kubeconfig(Some("shop"));
    for command in ["logs", "timeline"] {
        let run = initctl(
            &["__complete", "--", command, "orders-7d9c8b6f5-w"],
            Some(&kubeconfig),
        );
        let out = run.ok();
        assert_eq!(out.lines().next(), Some(STUCK), "{command}: {out}");
        assert_eq!(
            out.lines().last(),
            Some(":4"),
            "{command}: no file names: {out}"
        );
        let run = initctl(&["__complete", "--", command, "deploy/"], Some(&kubeconfig));
        assert!(
            run.ok().starts_with("deploy/orders\n"),
            "{command}: {}",
            run.stdout
        );
    }
    // The container after the pod: never file names.
    let run = initctl(&["__complete", "--", "logs", STUCK, ""], Some(&kubeconfig));
    assert_eq!(run.ok(), ":4\n");
}

#[test]
fn all_containers_continues_into_the_app_containers() {
    let server = serve();
    let run = initctl(
        &["logs", STUCK, "--all-containers"],
        Some(&server.kubeconfig(Some("shop"))),
    );
    assert_eq!(
        run.ok(),
        format!(
            "{ALL}==> orders (app 1/1) not started yet <==\n(no log: it has not started yet)\n"
        )
    );
}

#[test]
fn usage_errors_exit_2_and_offline_input_is_refused() {
    let server = serve();
    let kubeconfig = server.kubeconfig(Some("shop"));
    for args in [
        &["logs", STUCK, "-f", "--previous"][..],
        &["logs", STUCK, "--filename", "dump.yaml"][..],
    ] {
        let run = initctl(args, Some(&kubeconfig));
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
    }
    // Typed before the command, -f cannot be moved behind `logs`, where it means --follow:
    // offline input is refused as a usage error, never taken for a pod name.
    let dump = harness::fixtures().join("startup/orders.json");
    let run = initctl(&["-f", dump.to_str().unwrap(), "logs", STUCK], None);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("error: unexpected argument '-f' found"),
        "{}",
        run.stderr
    );
}

#[test]
fn follow_shows_a_failed_run_then_the_restarted_one_under_a_new_header() {
    let server = serve();
    let mut pod = server.get("v1", "Pod", Some("shop"), STUCK).unwrap();
    let migrate = "registry.example.com/orders-migrate:2.4.1";
    let mut status = init_status(
        "init-migrate",
        migrate,
        json!({"running": {"startedAt": "2026-11-27T11:59:00Z"}}),
    );
    set_init(&mut pod, 2, status.clone());
    server.insert(pod.clone());
    server.set_log(
        "shop",
        STUCK,
        "init-migrate",
        false,
        "migrate: connecting\n",
    );

    let mut f = Follower::start(&["logs", STUCK, "-f"], &server.kubeconfig(Some("shop")));
    f.wait_for("migrate: connecting");
    let first_run = json!({"terminated": {"exitCode": 1, "reason": "Error",
        "startedAt": "2026-11-27T11:59:00Z", "finishedAt": "2026-11-27T11:59:30Z",
        "containerID": "containerd://9f8e"}});
    status["state"] = first_run.clone();
    set_init(&mut pod, 2, status.clone());
    server.push_watch_event("MODIFIED", pod.clone());
    std::thread::sleep(Duration::from_millis(300));
    status["state"] = json!({"waiting": {"reason": "CrashLoopBackOff",
        "message": "back-off 10s restarting failed container=init-migrate"}});
    status["lastState"] = first_run;
    status["restartCount"] = json!(1);
    set_init(&mut pod, 2, status.clone());
    server.push_watch_event("MODIFIED", pod.clone());
    std::thread::sleep(Duration::from_millis(300));
    server.set_log("shop", STUCK, "init-migrate", false, "migrate: retry ok\n");
    status["state"] = json!({"running": {"startedAt": "2026-11-27T11:59:45Z"}});
    status["started"] = json!(true);
    set_init(&mut pod, 2, status.clone());
    server.push_watch_event("MODIFIED", pod.clone());
    f.wait_for("migrate: retry ok");
    status["state"] = json!({"terminated": {"exitCode": 0, "reason": "Completed",
        "startedAt": "2026-11-27T11:59:45Z", "finishedAt": "2026-11-27T11:59:58Z",
        "containerID": "containerd://7a6b"}});
    set_init(&mut pod, 2, status);
    server.push_watch_event("MODIFIED", pod);
    assert_eq!(
        f.child.wait_timeout_secs(20),
        Some(0),
        "{}",
        f.seen.join("\n")
    );
    let tail = &f.seen[f.seen.len() - 4..];
    assert_eq!(
        tail,
        [
            "==> init-migrate (3/3) running for 60s <==",
            "migrate: connecting",
            "==> init-migrate (3/3) running for 15s, 1 restart <==",
            "migrate: retry ok",
        ],
        "{}",
        f.seen.join("\n")
    );
}

#[test]
fn a_follow_broken_by_silence_resumes_after_its_last_line_without_repeating_it() {
    let server = serve();
    let now = k8s_openapi::jiff::Timestamp::now();
    let earlier = |s: i64| (now - k8s_openapi::jiff::SignedDuration::from_secs(s)).to_string();
    let (t1, t2) = (earlier(5), earlier(4));
    server.set_timed_log(
        "shop",
        STUCK,
        "init-migrate",
        &[
            (&t1, "migrate: connecting"),
            (&t2, "migrate: waiting for lock"),
        ],
    );
    // A read that gets nothing for 1 s breaks (the client's idle bound, 60 s by default).
    let mut f = Follower::start_with(
        &["logs", STUCK, "init-migrate", "-f"],
        &server.kubeconfig(Some("shop")),
        &[("KUBECTL_INITCTL_IDLE_TIMEOUT", "1s")],
    );
    f.wait_for("migrate: waiting for lock");
    std::thread::sleep(Duration::from_millis(2500));
    server.append_log("shop", STUCK, "init-migrate", "migrate: lock acquired");
    f.wait_for("migrate: lock acquired");
    let mut pod = server.get("v1", "Pod", Some("shop"), STUCK).unwrap();
    pod["status"]["initContainerStatuses"][2]["state"] = json!({"terminated": {"exitCode": 0,
        "reason": "Completed", "startedAt": "2026-11-27T11:58:30Z",
        "finishedAt": "2026-11-27T11:59:58Z", "containerID": "containerd://7a6b"}});
    server.push_watch_event("MODIFIED", pod);
    assert_eq!(
        f.child.wait_timeout_secs(20),
        Some(0),
        "{}",
        f.seen.join("\n")
    );
    assert_eq!(
        f.seen,
        [
            "==> init-migrate (3/3) running for 90s, 2 restarts <==",
            "migrate: connecting",
            "migrate: waiting for lock",
            "migrate: lock acquired",
        ]
    );
    let resumed: Vec<_> = log_requests(&server)
        .into_iter()
        .filter(|r| r.query.contains_key("sinceTime"))
        .collect();
    assert!(!resumed.is_empty(), "re-opened after the last line's time");
    let since: k8s_openapi::jiff::Timestamp = resumed[0].query["sinceTime"].parse().unwrap();
    let last: k8s_openapi::jiff::Timestamp = t2.parse().unwrap();
    assert_eq!(
        since.as_second(),
        last.as_second(),
        "from the last line's second"
    );
}
