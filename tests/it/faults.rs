//! The fault matrix: servers that trickle, never answer, loop, close watches at once, expire
//! continue tokens and watches, throttle, cut answers off or send garbage; kubeconfigs that
//! are broken or name broken credential plugins. For each, the real binary ends in bounded
//! time with one clear line (or recovers, where kubectl does), and never panics.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::apiserver::{ApiServer, Fault};
use crate::harness::{self, Run, initctl, table};

fn seeded() -> ApiServer {
    let server = ApiServer::start();
    server.load_file(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/apiserver/testdata/seed.json"),
    );
    server
}

/// `kubectl-initctl ARGS` with a kubeconfig and extra environment, timed.
fn run_env(args: &[&str], kubeconfig: &Path, env: &[(&str, &str)]) -> (Run, Duration) {
    let mut cmd = harness::scrubbed(&harness::bin());
    cmd.args(args).env("KUBECONFIG", kubeconfig);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let out = cmd.output().expect("run kubectl-initctl");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    (run, started.elapsed())
}

fn timed(args: &[&str], kubeconfig: &Path) -> (Run, Duration) {
    run_env(args, kubeconfig, &[])
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A kubeconfig for `server` with a token user.
fn kubeconfig_for(dir: &Path, server: &str) -> PathBuf {
    write(
        dir,
        "kubeconfig",
        &format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n    namespace: seed\nusers:\n- name: u\n  user:\n    token: stand-in-token\ncurrent-context: c\n"
        ),
    )
}

/// Starts `status -w`, with stdout read line by line.
fn watch(
    args: &[&str],
    kubeconfig: &Path,
) -> (Child, std::io::Lines<BufReader<std::process::ChildStdout>>) {
    let mut child = harness::scrubbed(&harness::bin())
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

fn watch_requests(server: &ApiServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| {
            r.query
                .get("watch")
                .is_some_and(|w| w == "true" || w == "1")
        })
        .count()
}

fn pod(ns: &str, name: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": "2026-11-27T11:00:00Z"},
        "spec": {"containers": [{"name": "app", "image": "busybox"}]},
        "status": {"phase": "Running"}})
}

// ---- 1. kubeconfigs that used to reach a panic ----

#[test]
fn a_server_without_scheme_is_read_as_kubectl_reads_it() {
    let server = seeded();
    let dir = tempfile::tempdir().unwrap();
    let addr = server.url().trim_start_matches("http://").to_string();
    let kubeconfig = kubeconfig_for(dir.path(), &addr);
    let (run, _) = timed(&["status", "myapp-pod", "--no-headers"], &kubeconfig);
    assert_eq!(table(run.ok())[0][2], "Init:0/2", "{}", run.stderr);
    // kubectl reads the same kubeconfig the same way (http://, as there is no TLS material).
    if let Some(kubectl) = harness::kubectl("the scheme-less server with kubectl") {
        let out = harness::scrubbed(&kubectl)
            .args(["get", "pod", "myapp-pod", "-o", "name"])
            .env("KUBECONFIG", &kubeconfig)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(stdout.trim(), "pod/myapp-pod", "{out:?}");
    }
}

#[test]
fn a_server_without_scheme_is_https_when_the_cluster_has_a_ca() {
    let server = ApiServer::start_tls(crate::apiserver::TlsOptions {
        client_certs: false,
    });
    server.load_file(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/apiserver/testdata/seed.json"),
    );
    let text = server
        .kubeconfig_yaml(Some("seed"))
        .replace(&server.url(), &server.url().replace("https://", ""));
    assert!(!text.contains("https://"), "{text}");
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = write(dir.path(), "kubeconfig", &text);
    let (run, _) = timed(&["status", "myapp-pod", "--no-headers"], &kubeconfig);
    assert_eq!(table(run.ok())[0][2], "Init:0/2", "{}", run.stderr);
}

#[test]
fn no_server_url_reaches_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    for server in [
        "https://",
        "http://",
        "/only/a/path",
        "ftp://127.0.0.1:1",
        "'http://[::1'",
        "'::::'",
        "'127.0.0.1:1/prefix'",
        "''",
        "http://127.0.0.1:99999",
        "'https://127.0.0.1:1?x=1#frag'",
    ] {
        let (run, took) = timed(
            &["status", "--request-timeout", "2s"],
            &kubeconfig_for(dir.path(), server),
        );
        let line = run.one_error_line(1);
        assert!(took < Duration::from_secs(8), "{server}: took {took:?}");
        assert!(!line.contains("panicked"), "{server}: {line}");
    }
}

mod shapes {
    use super::*;
    use proptest::prelude::*;

    fn scalar() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("".to_string()),
            Just("~".to_string()),
            Just("[]".to_string()),
            Just("{}".to_string()),
            Just("12".to_string()),
            Just("\"\\x00\"".to_string()),
            "[a-z:/.]{0,12}".prop_map(|s| format!("'{s}'")),
        ]
    }

    /// A value for `server:` or `proxy-url:`: loopback, or garbage that can name no host, so
    /// no case ever resolves a name or leaves the machine.
    fn address() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("".to_string()),
            Just("~".to_string()),
            Just("[]".to_string()),
            Just("12".to_string()),
            Just("'127.0.0.1:1'".to_string()),
            Just("http://127.0.0.1:1".to_string()),
            Just("https://localhost:1".to_string()),
            Just("'[::1]:1'".to_string()),
            Just("socks5://127.0.0.1:1".to_string()),
            "[:/]{0,12}".prop_map(|s| format!("'{s}'")),
            "[:/]{0,6}".prop_map(|s| format!("'http{s}127.0.0.1:1'")),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        /// Kubeconfigs of every shape: fields missing, of the wrong type, or odd; always an
        /// answer in bounded time with no panic (loopback hosts only).
        #[test]
        fn no_kubeconfig_shape_reaches_a_panic(
            server in address(), cluster_name in scalar(), user in scalar(),
            context in scalar(), current in scalar(), ca in scalar(), insecure in scalar(),
            drop_users in any::<bool>(), proxy in address(), tls_name in scalar(),
            exec in prop::option::of(prop_oneof![
                Just("no-such-credential-plugin"), Just("''"), Just("~"), Just("/nonexistent/plugin"),
            ]),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let users = match (drop_users, exec) {
                (true, _) => String::new(),
                (false, None) => format!("users:\n- name: u\n  user:\n    token: {user}\n"),
                (false, Some(cmd)) => format!(
                    "users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {cmd}\n      interactiveMode: Never\n"
                ),
            };
            let text = format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: {cluster_name}\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\n    insecure-skip-tls-verify: {insecure}\n    proxy-url: {proxy}\n    tls-server-name: {tls_name}\ncontexts:\n- name: c\n  context:\n    cluster: {context}\n    user: u\n{users}current-context: {current}\n"
            );
            let path = write(dir.path(), "kubeconfig", &text);
            let (run, took) = timed(&["status", "--request-timeout", "2s"], &path);
            prop_assert!(!run.stderr.contains("panicked"), "{}\n{}", text, run.stderr);
            prop_assert!(run.code == 0 || run.code == 1, "{}\n{}", text, run.stderr);
            prop_assert!(took < Duration::from_secs(8), "{text}: {took:?}");
        }
    }
}

// ---- 2, 3. bounded requests ----

#[test]
fn request_timeout_bounds_a_trickled_body() {
    let server = seeded();
    server.fault(Fault::trickle("/pods", Duration::from_millis(200)));
    let (run, took) = timed(
        &["status", "--request-timeout", "2s"],
        &server.kubeconfig(Some("seed")),
    );
    let line = run.one_error_line(1);
    assert!(line.contains("--request-timeout 2s"), "{line}");
    assert!(took < Duration::from_secs(6), "took {took:?}");
}

/// A TCP listener that accepts connections and never answers; dropped = closed.
struct Silent {
    addr: String,
    _listener: TcpListener,
}

fn silent() -> Silent {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let accepting = listener.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        while let Ok((conn, _)) = accepting.accept() {
            held.push(conn);
        }
    });
    Silent {
        addr,
        _listener: listener,
    }
}

#[test]
fn a_server_that_never_answers_is_given_up_on_after_the_idle_bound() {
    let silent = silent();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = kubeconfig_for(dir.path(), &format!("http://{}", silent.addr));
    for args in [
        &["status"][..],
        &["explain", "myapp-pod"][..],
        &["status", "myapp-pod", "-w"][..],
    ] {
        let (run, took) = run_env(args, &kubeconfig, &[("KUBECTL_INITCTL_IDLE_TIMEOUT", "1s")]);
        let line = run.one_error_line(1);
        assert!(line.contains("--request-timeout"), "{args:?}: {line}");
        assert!(line.contains("sent nothing for 1s"), "{args:?}: {line}");
        assert!(took < Duration::from_secs(6), "{args:?}: took {took:?}");
    }
}

// ---- 4, 6. pagination ----

#[test]
fn a_looping_continue_token_stops_with_a_clear_error() {
    let server = seeded();
    server.fault(Fault::loop_continue("/pods"));
    let (run, took) = timed(&["status"], &server.kubeconfig(Some("seed")));
    let line = run.one_error_line(1);
    assert!(line.contains("continue token"), "{line}");
    assert!(took < Duration::from_secs(6));
    let lists = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/pods"))
        .count();
    assert!(lists <= 3, "{lists} LIST requests");
}

#[test]
fn an_expired_continue_token_lists_again_and_prints_each_pod_once() {
    let server = ApiServer::start();
    for i in 0..520 {
        server.insert(pod("big", &format!("pod-{i:04}")));
    }
    server.fault(
        Fault {
            message: Some("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.".into()),
            ..Fault::error("continue=", 410)
        }
        .times(1),
    );
    let (run, _) = timed(&["status", "--no-headers"], &server.kubeconfig(Some("big")));
    let rows = table(run.ok());
    let mut names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names.len(), 520, "every pod once");
    names.dedup();
    assert_eq!(names.len(), 520, "no pod twice");
    let firsts = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/pods") && !r.query.contains_key("continue"))
        .count();
    assert_eq!(firsts, 2, "the list started over once");
    // The same for the document: each pod once.
    server.fault(
        Fault {
            reason: Some("Expired".into()),
            ..Fault::error("continue=", 410)
        }
        .times(1),
    );
    let (json_run, _) = timed(&["status", "-o", "json"], &server.kubeconfig(Some("big")));
    let doc: serde_json::Value = serde_json::from_str(json_run.ok()).unwrap();
    let mut names: Vec<&str> = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 520, "-o json: every pod once");
    assert_eq!(doc["items"].as_array().unwrap().len(), 520);
}

// ---- 5. watches ----

#[test]
fn a_watch_that_closes_at_once_is_reopened_with_a_backoff() {
    let server = seeded();
    server.fault(Fault::drop_watch("watch=", 0));
    let (mut child, mut lines) = watch(
        &["status", "myapp-pod", "-w", "--no-headers"],
        &server.kubeconfig(Some("seed")),
    );
    assert!(lines.next().unwrap().unwrap().contains("Init:0/2"));
    std::thread::sleep(Duration::from_secs(3));
    let _ = child.kill();
    let _ = child.wait();
    let watches = watch_requests(&server);
    // 250 ms, 500 ms, 1 s, 2 s: at most 5 opens in 3 s (it used to be thousands).
    assert!(
        (2..=6).contains(&watches),
        "{watches} watch requests in 3 s"
    );
}

#[test]
fn an_idle_watch_outlives_the_idle_bound() {
    let server = seeded();
    let mut child = harness::scrubbed(&harness::bin())
        .args(["status", "myapp-pod", "-w", "--no-headers"])
        .env("KUBECONFIG", server.kubeconfig(Some("seed")))
        .env("KUBECTL_INITCTL_IDLE_TIMEOUT", "1s")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(lines.next().unwrap().unwrap().contains("Init:0/2"));
    // Nothing happens for longer than the bound: the watch is kept (re-opened), not ended.
    std::thread::sleep(Duration::from_millis(2500));
    if child.try_wait().unwrap().is_some() {
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        panic!("the watch ended: {err}");
    }
    let mut pod = server.get("v1", "Pod", Some("seed"), "myapp-pod").unwrap();
    pod["metadata"]["labels"]["touched"] = json!("yes");
    server.push_watch_event("MODIFIED", pod);
    let after = lines.next().unwrap().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(after.contains("myapp-pod"), "{after}");
}

fn expired_watch_recovers(fault: Fault) {
    let server = seeded();
    server.fault(fault);
    let (mut child, mut lines) = watch(
        &["status", "myapp-pod", "-w", "--no-headers"],
        &server.kubeconfig(Some("seed")),
    );
    assert!(lines.next().unwrap().unwrap().contains("Init:0/2"));
    // The re-list finds the pod unchanged, so prints nothing; the watch goes on from there.
    let deadline = Instant::now() + Duration::from_secs(10);
    while watch_requests(&server) < 2 {
        assert!(Instant::now() < deadline, "the watch was not re-opened");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut pod = server.get("v1", "Pod", Some("seed"), "myapp-pod").unwrap();
    pod["metadata"]["labels"]["touched"] = json!("yes");
    server.push_watch_event("MODIFIED", pod);
    // The very next line is the change: the unchanged pod was not printed again.
    let after = lines.next().unwrap().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(after.contains("myapp-pod"), "{after}");
    let lists = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/pods") && !r.query.contains_key("watch"))
        .count();
    assert!(lists >= 1, "listed again");
}

#[test]
fn a_watch_expired_in_the_stream_lists_again() {
    expired_watch_recovers(
        Fault::watch_line(
            "watch=",
            r#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (9)","reason":"Expired","code":410}}"#,
        )
        .times(1),
    );
}

#[test]
fn a_watch_refused_as_gone_lists_again() {
    expired_watch_recovers(Fault::error("watch=", 410).times(1));
}

#[test]
fn a_watch_refused_as_gone_is_listed_again_while_others_are_fine() {
    let server = seeded();
    // Only the first watch opened (myapp-pod's) is refused; web-0's is served.
    server.fault(Fault::error("watch=", 410).times(1));
    let (mut child, mut lines) = watch(
        &["status", "myapp-pod", "web-0", "-w", "--no-headers"],
        &server.kubeconfig(Some("seed")),
    );
    let started = Instant::now();
    let rows: Vec<String> = (0..2).map(|_| lines.next().unwrap().unwrap()).collect();
    assert!(
        rows[0].starts_with("myapp-pod") && rows[1].starts_with("web-0"),
        "{rows:?}"
    );
    // Re-listed at once (the pod is unchanged, so nothing is printed), and watched again.
    let relisted = |server: &ApiServer| {
        server.requests().iter().any(|r| {
            r.path.ends_with("/pods")
                && !r.query.contains_key("watch")
                && r.query
                    .get("fieldSelector")
                    .is_some_and(|f| f.contains("myapp-pod"))
        })
    };
    while !relisted(&server) || watch_requests(&server) < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "re-listed at once"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut pod = server.get("v1", "Pod", Some("seed"), "myapp-pod").unwrap();
    pod["metadata"]["labels"]["touched"] = json!("yes");
    server.push_watch_event("MODIFIED", pod);
    let after = lines.next().unwrap().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(after.starts_with("myapp-pod"), "followed again: {after}");
}

// ---- 7. credential plugins ----

fn plugin_kubeconfig(server: &ApiServer, dir: &Path, script: &str) -> PathBuf {
    let plugin = write(dir, "cred-plugin", script);
    std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    exec_kubeconfig(server, dir, &plugin.display().to_string())
}

fn exec_kubeconfig(server: &ApiServer, dir: &Path, command: &str) -> PathBuf {
    let text = server.kubeconfig_yaml(Some("seed"));
    let user_start = text.find("  user:\n").unwrap();
    let user_end = text[user_start..].find("contexts:").unwrap() + user_start;
    let exec_user = format!(
        "  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {command}\n      interactiveMode: Never\n"
    );
    write(
        dir,
        "kubeconfig",
        &format!("{}{}{}", &text[..user_start], exec_user, &text[user_end..]),
    )
}

#[test]
fn a_hanging_credential_plugin_is_bounded_and_named() {
    let server = seeded();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = plugin_kubeconfig(&server, dir.path(), "#!/bin/sh\nexec sleep 30\n");
    let (run, took) = timed(&["status", "--request-timeout", "2s"], &kubeconfig);
    let line = run.one_error_line(1);
    assert!(line.contains("cred-plugin"), "{line}");
    assert!(line.contains("did not finish within 2s"), "{line}");
    assert!(took < Duration::from_secs(6), "took {took:?}");
    let (run, took) = run_env(
        &["status"],
        &kubeconfig,
        &[("KUBECTL_INITCTL_IDLE_TIMEOUT", "1s")],
    );
    let line = run.one_error_line(1);
    assert!(line.contains("--request-timeout"), "{line}");
    assert!(took < Duration::from_secs(6), "took {took:?}");
}

#[test]
fn a_credential_plugin_that_hangs_on_refresh_is_bounded() {
    let server = seeded();
    server.require_token("from-exec-plugin");
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran-once");
    // The first run gives an expired token; kube runs the plugin again at the first request,
    // and that run hangs.
    let script = format!(
        "#!/bin/sh\nif [ -e {m} ]; then exec sleep 30; fi\ntouch {m}\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"from-exec-plugin\",\"expirationTimestamp\":\"2020-01-01T00:00:00Z\"}}}}'\n",
        m = marker.display()
    );
    let kubeconfig = plugin_kubeconfig(&server, dir.path(), &script);
    let (run, took) = run_env(
        &["status"],
        &kubeconfig,
        &[("KUBECTL_INITCTL_IDLE_TIMEOUT", "1s")],
    );
    let line = run.one_error_line(1);
    assert!(marker.exists(), "the plugin ran");
    assert!(line.contains("--request-timeout"), "{line}");
    assert!(took < Duration::from_secs(6), "took {took:?}");
}

#[test]
fn a_failing_credential_plugin_says_who_failed_and_why() {
    let server = seeded();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = plugin_kubeconfig(
        &server,
        dir.path(),
        "#!/bin/sh\necho 'error: you must log in first' >&2\nexit 3\n",
    );
    let (run, _) = timed(&["status"], &kubeconfig);
    let line = run.one_error_line(1);
    assert!(line.contains("cred-plugin"), "{line}");
    assert!(line.contains("exit status 3"), "{line}");
    assert!(line.contains("you must log in first"), "{line}");
    assert!(!line.contains("KUBERNETES_EXEC_INFO"), "{line}");
    assert!(!line.contains("Output {"), "{line}");

    let missing = exec_kubeconfig(&server, dir.path(), "no-such-credential-plugin");
    let (run, _) = timed(&["status"], &missing);
    let line = run.one_error_line(1);
    assert!(line.contains("\"no-such-credential-plugin\""), "{line}");
    assert!(line.contains("not found"), "{line}");
}

// ---- 8. throttling ----

#[test]
fn retry_after_is_honoured_a_few_times_then_fails_clearly() {
    let server = seeded();
    server.fault(Fault::throttle("/pods", 1).times(2));
    let kubeconfig = server.kubeconfig(Some("seed"));
    let (ok, took) = timed(&["status", "myapp-pod", "--no-headers"], &kubeconfig);
    assert_eq!(table(ok.ok())[0][2], "Init:0/2");
    assert!(took >= Duration::from_secs(2), "waited as asked: {took:?}");

    let server = seeded();
    server.fault(Fault::throttle("/pods", 1));
    let (run1, took) = timed(&["status"], &server.kubeconfig(Some("seed")));
    let line = run1.one_error_line(1);
    assert!(
        line.contains("429") && line.contains("after 3 retries"),
        "{line}"
    );
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert_eq!(server.requests().len(), 4, "one request and three retries");

    let server = seeded();
    server.fault(Fault::throttle("/pods", 3600));
    let (run2, took) = timed(&["status"], &server.kubeconfig(Some("seed")));
    let line = run2.one_error_line(1);
    assert!(line.contains("retry in 3600s"), "{line}");
    assert!(took < Duration::from_secs(3), "no hour-long wait: {took:?}");
}

// ---- 9. one clear line per connection failure ----

#[test]
fn a_cut_off_answer_is_not_called_unreachable() {
    let server = seeded();
    server.fault(Fault::truncate("/pods"));
    let (run, _) = timed(&["status"], &server.kubeconfig(Some("seed")));
    let line = run.one_error_line(1);
    assert!(line.contains("cut off"), "{line}");
    assert!(!line.contains("unable to connect"), "{line}");
}

#[test]
fn a_malformed_watch_event_is_named_as_such() {
    let server = seeded();
    server.fault(Fault::watch_line("watch=", r#"{"hello":"world"}"#));
    let (run, took) = timed(
        &["status", "myapp-pod", "-w", "--no-headers"],
        &server.kubeconfig(Some("seed")),
    );
    let line = run.one_error_line(1);
    assert!(line.contains("watch event"), "{line}");
    assert!(line.contains("could not be read"), "{line}");
    assert!(!line.contains("answered 0"), "{line}");
    assert!(took < Duration::from_secs(6));
    let garbage = seeded();
    garbage.fault(Fault::watch_line("watch=", "not json at all"));
    let (run, _) = timed(
        &["status", "myapp-pod", "-w"],
        &garbage.kubeconfig(Some("seed")),
    );
    assert!(
        run.one_error_line(1).contains("could not be read"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_garbage_kubeconfig_is_named_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "garbage-config",
        "apiVersion: v1\nclusters:\n- name: c\n  cluster: [unclosed\n",
    );
    let (run, _) = timed(&["status"], &path);
    let line = run.one_error_line(1);
    assert!(line.contains(&format!("{}:", path.display())), "{line}");
    assert!(
        line.split(&format!("{}:", path.display()))
            .nth(1)
            .is_some_and(|rest| rest.split(':').take(2).all(|n| n.parse::<u64>().is_ok())),
        "line:column: {line}"
    );
    let explicit = initctl(&["status", "--kubeconfig", path.to_str().unwrap()], None);
    assert!(explicit.one_error_line(1).contains("garbage-config"));
    let shape = write(dir.path(), "wrong-shape", "clusters: 12\n");
    let (run, _) = timed(&["status"], &shape);
    assert!(
        run.one_error_line(1).contains("wrong-shape"),
        "{}",
        run.stderr
    );
    let server = seeded();
    let (run, _) = timed(
        &["status", "--context", "nope"],
        &server.kubeconfig(Some("seed")),
    );
    let line = run.one_error_line(1);
    assert!(line.contains("kubeconfig-"), "names the file: {line}");
    assert!(line.contains(r#"context "nope" does not exist"#), "{line}");
}

#[test]
fn https_against_a_plain_http_server_says_so() {
    let server = seeded();
    let dir = tempfile::tempdir().unwrap();
    let https = server.url().replace("http://", "https://");
    let path = write(
        dir.path(),
        "kubeconfig",
        &format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {https}\n    insecure-skip-tls-verify: true\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: t\ncurrent-context: c\n"
        ),
    );
    let (run, _) = timed(&["status"], &path);
    let line = run.one_error_line(1);
    assert!(line.contains("does not speak TLS"), "{line}");
    assert!(line.contains(&server.url()), "suggests http://: {line}");
    assert!(!line.contains("InvalidContentType"), "{line}");
}
