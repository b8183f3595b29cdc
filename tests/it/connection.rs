//! kubectl's connection flags (--server, --token, --as…, the TLS files, --cluster/--user) and
//! -v request logging, end to end against the stand-in, side by side with real kubectl where it
//! is installed, and flags refused by the commands they do not apply to.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::apiserver::{ApiServer, TlsKubeconfig, TlsOptions, unrelated_ca_pem};
use crate::harness::{self, Run, initctl, table};

fn seed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/apiserver/testdata/seed.json")
}

fn seeded(server: ApiServer) -> ApiServer {
    server.load_file(seed());
    server
}

/// `myapp-pod` of the seed shows its init progress in this run's table.
#[track_caller]
fn shows_myapp_pod(run: &Run) {
    let rows = table(run.ok());
    assert_eq!(rows[0][0], "myapp-pod", "{rows:?}");
    assert_eq!(rows[0][2], "Init:0/2", "{rows:?}");
}

/// `kubectl-initctl status myapp-pod -n seed --no-headers ARGS` with no kubeconfig at all.
fn status_without_kubeconfig(args: &[&str]) -> Run {
    let mut all = vec!["status", "myapp-pod", "-n", "seed", "--no-headers"];
    all.extend_from_slice(args);
    initctl(&all, None)
}

/// `kubectl ARGS` with nothing from the host (no kubeconfig unless ARGS name one).
fn kubectl(args: &[&str]) -> Option<Output> {
    let kubectl = harness::kubectl("the same flags with kubectl")?;
    let home = tempfile::tempdir().unwrap();
    Some(
        harness::scrubbed(&kubectl)
            .env("HOME", home.path())
            .env("KUBECACHEDIR", home.path().join("cache"))
            .args(args)
            .output()
            .expect("run kubectl"),
    )
}

#[track_caller]
fn kubectl_ok(args: &[&str]) -> Option<String> {
    let out = kubectl(args)?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "kubectl {args:?}: {stderr}");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn server_and_token_work_without_any_kubeconfig() {
    let server = seeded(ApiServer::start());
    server.require_token("flag-token");
    let url = server.url();
    shows_myapp_pod(&status_without_kubeconfig(&[
        "-s",
        &url,
        "--token",
        "flag-token",
    ]));
    let requests = server.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(r.authorization.as_deref(), Some("Bearer flag-token"));
    }
    // A server without a scheme is http:// when nothing asks for TLS (client-go's
    // DefaultServerURL).
    let bare = url.trim_start_matches("http://");
    shows_myapp_pod(&status_without_kubeconfig(&[
        "-s",
        bare,
        "--token",
        "flag-token",
    ]));
    // A wrong token is the server's 401, not a silently different credential.
    let run = status_without_kubeconfig(&["--server", &url, "--token", "wrong"]);
    assert!(run.one_error_line(1).contains("Unauthorized"), "{run:?}");
    // Without a server nothing says where to connect.
    let line = status_without_kubeconfig(&["--token", "flag-token"])
        .one_error_line(1)
        .to_string();
    assert!(line.contains("kubeconfig"), "{line}");
}

#[test]
fn impersonation_flags_are_sent_as_kubectl_sends_them() {
    let server = seeded(ApiServer::start());
    let kubeconfig = server.kubeconfig(Some("seed"));
    let flags = [
        "--as",
        "jane",
        "--as-group",
        "devs",
        "--as-group",
        "ops",
        "--as-uid",
        "1234",
    ];
    let mut args = vec!["status", "myapp-pod", "--no-headers"];
    args.extend_from_slice(&flags);
    shows_myapp_pod(&initctl(&args, Some(&kubeconfig)));
    let impersonation = |r: &crate::apiserver::Request| {
        (
            r.header_values("impersonate-user").join(","),
            r.header_values("impersonate-group").join(","),
            r.header_values("impersonate-uid").join(","),
        )
    };
    let ours: Vec<_> = server.requests().iter().map(impersonation).collect();
    let expected = (
        "jane".to_string(),
        "devs,ops".to_string(),
        "1234".to_string(),
    );
    assert!(!ours.is_empty());
    assert!(ours.iter().all(|h| *h == expected), "{ours:?}");

    server.clear_requests();
    let kubeconfig = kubeconfig.display().to_string();
    let mut args = vec!["--kubeconfig", &kubeconfig, "get", "pod", "myapp-pod"];
    args.extend_from_slice(&flags);
    if kubectl_ok(&args).is_some() {
        let pod_get = server
            .requests()
            .into_iter()
            .find(|r| r.path == "/api/v1/namespaces/seed/pods/myapp-pod")
            .expect("kubectl read the pod");
        assert_eq!(impersonation(&pod_get), expected, "kubectl sends the same");
    }
}

#[test]
fn cluster_and_user_pick_kubeconfig_entries_over_the_context() {
    let server = seeded(ApiServer::start());
    server.require_token("good-token");
    let dir = tempfile::tempdir().unwrap();
    // The current context points at a cluster nobody listens on, with a token the server refuses.
    let gone = ApiServer::start().url();
    let kubeconfig = write(
        dir.path(),
        "kubeconfig",
        &format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: gone\n  cluster:\n    server: {gone}\n- name: good\n  cluster:\n    server: {}\nusers:\n- name: bad\n  user:\n    token: bad-token\n- name: good\n  user:\n    token: good-token\ncontexts:\n- name: current\n  context:\n    cluster: gone\n    user: bad\n    namespace: seed\ncurrent-context: current\n",
            server.url()
        ),
    );
    let args = [
        "--kubeconfig",
        &kubeconfig,
        "--cluster",
        "good",
        "--user",
        "good",
    ];
    let mut ours = vec!["status", "myapp-pod", "--no-headers"];
    ours.extend_from_slice(&args);
    // The context's namespace still applies.
    shows_myapp_pod(&initctl(&ours, None));
    // (No kubectl run here: over plain http kubectl sends no credentials at all, see
    // docs/connection.md; the TLS tests below compare with kubectl.)

    // Names that are not in the kubeconfig are errors, as kubectl's.
    let run = initctl(
        &["status", "--kubeconfig", &kubeconfig, "--cluster", "nope"],
        None,
    );
    assert!(
        run.one_error_line(1)
            .contains("cluster \"nope\" does not exist"),
        "{run:?}"
    );
    let run = initctl(
        &["status", "--kubeconfig", &kubeconfig, "--user", "nobody"],
        None,
    );
    assert!(
        run.one_error_line(1)
            .contains("user \"nobody\" does not exist"),
        "{run:?}"
    );
    // --server replaces the context's cluster server; --token its user's token.
    let run = initctl(
        &[
            "status",
            "myapp-pod",
            "--no-headers",
            "--kubeconfig",
            &kubeconfig,
            "-s",
            &server.url(),
            "--token",
            "good-token",
        ],
        None,
    );
    shows_myapp_pod(&run);
}

#[test]
fn tls_flags_replace_the_kubeconfig_trust_as_kubectls_do() {
    let server = seeded(ApiServer::start_tls(TlsOptions::default()));
    server.require_token("tls-token");
    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.crt", &server.ca_pem());
    let url = server.url();
    // No kubeconfig: server, CA file and token from flags.
    let flags = [
        "-s",
        &url,
        "--certificate-authority",
        &ca,
        "--token",
        "tls-token",
    ];
    shows_myapp_pod(&status_without_kubeconfig(&flags));
    let mut theirs = vec!["get", "pod", "myapp-pod", "-n", "seed", "--no-headers"];
    theirs.extend_from_slice(&flags);
    if let Some(out) = kubectl_ok(&theirs) {
        assert!(out.starts_with("myapp-pod "), "{out}");
    }

    // A kubeconfig trusting the wrong CA: --certificate-authority or --insecure-skip-tls-verify
    // replace that trust (client-go: either override clears the kubeconfig's CA).
    let wrong_ca = server.kubeconfig_with(
        Some("seed"),
        &TlsKubeconfig {
            certificate_authority: Some(unrelated_ca_pem()),
            ..server.tls_kubeconfig()
        },
    );
    let wrong_ca = wrong_ca.display().to_string();
    for extra in [
        &["--certificate-authority", ca.as_str()][..],
        &["--insecure-skip-tls-verify"][..],
    ] {
        let mut args = vec![
            "status",
            "myapp-pod",
            "--no-headers",
            "--kubeconfig",
            &wrong_ca,
        ];
        args.extend_from_slice(extra);
        shows_myapp_pod(&initctl(&args, None));
        let mut theirs = vec![
            "--kubeconfig",
            &wrong_ca,
            "get",
            "pod",
            "myapp-pod",
            "--no-headers",
        ];
        theirs.extend_from_slice(extra);
        if let Some(out) = kubectl_ok(&theirs) {
            assert!(out.starts_with("myapp-pod "), "{extra:?}: {out}");
        }
    }
    let run = initctl(&["status", "myapp-pod", "--kubeconfig", &wrong_ca], None);
    assert!(
        run.one_error_line(1).contains("unknown authority"),
        "{run:?}"
    );

    // --tls-server-name: the certificate names localhost, not apiserver.example.
    let named = |name: &str| {
        let mut args = flags.to_vec();
        args.extend(["--tls-server-name", name]);
        status_without_kubeconfig(&args)
    };
    shows_myapp_pod(&named("localhost"));
    let run = named("apiserver.example");
    assert!(
        run.one_error_line(1).contains("apiserver.example"),
        "{run:?}"
    );
    for (name, works) in [("localhost", true), ("apiserver.example", false)] {
        let mut args = theirs.clone();
        args.extend(["--tls-server-name", name]);
        if let Some(out) = kubectl(&args) {
            assert_eq!(
                out.status.success(),
                works,
                "kubectl --tls-server-name {name}: {out:?}"
            );
        }
    }
}

#[test]
fn client_certificate_flags_authenticate() {
    let server = seeded(ApiServer::start_tls(TlsOptions { client_certs: true }));
    let dir = tempfile::tempdir().unwrap();
    let alice = server.client_cert("alice");
    let cert = write(dir.path(), "alice.crt", &alice.cert_pem);
    let key = write(dir.path(), "alice.key", &alice.key_pem);
    // The kubeconfig has neither a token nor a certificate: the flags are the credential.
    let kubeconfig = server.kubeconfig_with(
        Some("seed"),
        &TlsKubeconfig {
            token: None,
            client_cert: None,
            ..server.tls_kubeconfig()
        },
    );
    let kubeconfig = kubeconfig.display().to_string();
    let flags = [
        "--kubeconfig",
        &kubeconfig,
        "--client-certificate",
        &cert,
        "--client-key",
        &key,
    ];
    let mut ours = vec!["status", "myapp-pod", "--no-headers"];
    ours.extend_from_slice(&flags);
    shows_myapp_pod(&initctl(&ours, None));
    let requests = server.requests();
    assert!(!requests.is_empty());
    assert!(
        requests
            .iter()
            .all(|r| r.client_cert_user.as_deref() == Some("alice"))
    );
    let mut theirs = vec!["get", "pod", "myapp-pod", "--no-headers"];
    theirs.extend_from_slice(&flags);
    if let Some(out) = kubectl_ok(&theirs) {
        assert!(out.starts_with("myapp-pod "), "{out}");
    }
    // Without them: refused by the server.
    initctl(&["status", "myapp-pod", "--kubeconfig", &kubeconfig], None).one_error_line(1);
}

/// The `-v` lines of a stderr, without klog's header (`I1129 12:52:02.381617   4242 file:1] `).
fn log_messages(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.split_once("] ").map(|(_, m)| m.to_string()))
        .collect()
}

#[test]
fn v6_logs_one_line_per_request_as_kubectl_does() {
    let server = seeded(ApiServer::start());
    let kubeconfig = server.kubeconfig(Some("seed"));
    let run = initctl(&["status", "-v", "6"], Some(&kubeconfig));
    run.ok();
    // One line per request the server received, naming it exactly.
    let lines = log_messages(&run.stderr);
    let requests = server.requests();
    assert_eq!(lines.len(), requests.len(), "{}", run.stderr);
    for (line, r) in lines.iter().zip(&requests) {
        let sent = format!("GET {}{}?{} 200 OK in ", server.url(), r.path, r.raw_query);
        assert!(
            line.starts_with(&sent) && line.ends_with(" milliseconds"),
            "{line:?} for {sent:?}"
        );
    }
    assert_eq!(requests[0].path, "/api/v1/namespaces/seed/pods");
    // Every line has klog's form: severity, date, time, pid, source.
    for l in run.stderr.lines() {
        assert!(l.starts_with('I') && l.contains("] "), "{l}");
    }
    // Below 6 nothing is logged; --v=6 is the same flag.
    assert_eq!(
        initctl(&["status", "-v", "5"], Some(&kubeconfig)).stderr,
        ""
    );
    let long = initctl(&["status", "--v=6"], Some(&kubeconfig));
    assert_eq!(log_messages(&long.stderr).len(), 1, "{}", long.stderr);

    // The same facts as kubectl's line for the same request: verb, URL, status (kubectl >= 1.31
    // prints them as klog key/values, `"Response" verb="GET" url="…" status="200 OK"`).
    let pod = format!("{}/api/v1/namespaces/seed/pods/myapp-pod", server.url());
    let ours = initctl(&["status", "myapp-pod", "-v", "6"], Some(&kubeconfig));
    assert!(
        log_messages(&ours.stderr)
            .iter()
            .any(|l| l.starts_with(&format!("GET {pod} 200 OK in "))),
        "{}",
        ours.stderr
    );
    let kubeconfig = kubeconfig.display().to_string();
    if let Some(out) = kubectl(&[
        "--kubeconfig",
        &kubeconfig,
        "get",
        "pod",
        "myapp-pod",
        "-v=6",
    ]) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let theirs = format!("verb=\"GET\" url=\"{pod}\" status=\"200 OK\" milliseconds=");
        assert!(stderr.contains(&theirs), "{theirs} in\n{stderr}");
    }
}

#[test]
fn v8_logs_headers_with_the_token_masked() {
    let server = seeded(ApiServer::start());
    server.require_token("very-secret-token");
    let url = server.url();
    let run = status_without_kubeconfig(&[
        "-s",
        &url,
        "--token",
        "very-secret-token",
        "--as",
        "jane",
        "-v",
        "8",
    ]);
    shows_myapp_pod(&run);
    assert!(!run.stderr.contains("very-secret-token"), "{}", run.stderr);
    let lines = log_messages(&run.stderr);
    for expected in [
        format!("GET {url}/api/v1/namespaces/seed/pods/myapp-pod"),
        "Request Headers:".into(),
        "    Authorization: Bearer <masked>".into(),
        "    Impersonate-User: jane".into(),
        "Response Headers:".into(),
        "    Content-Type: application/json".into(),
    ] {
        assert!(lines.contains(&expected), "{expected:?} in\n{}", run.stderr);
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Response Status: 200 OK in ") && l.ends_with(" milliseconds")),
        "{}",
        run.stderr
    );
}

#[test]
fn flags_a_command_does_not_take_are_refused() {
    for args in [
        &["edit", "myapp-pod", "-l", "app=web"][..],
        &["edit", "myapp-pod", "-A"],
        &["restart", "myapp-pod", "-f", "pods.yaml"],
        &["check", "--context", "prod", "old.yaml", "new.yaml"],
        &["check", "-n", "shop", "old.yaml", "new.yaml"],
        &["version", "--kubeconfig", "kubeconfig"],
        &["explain", "--no-headers"],
        &["completion", "bash", "--server", "https://x"],
        // Offline input talks to no cluster: connection flags do not apply to it.
        &["status", "-f", "pods.yaml", "--context", "prod"],
        &["explain", "-f", "pods.yaml", "-v", "6"],
        // Before the command name too: the flag is checked against the command.
        &["--kubeconfig", "kubeconfig", "version"],
    ] {
        let run = initctl(args, None);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains("unexpected argument")
                || run.stderr.contains("cannot be used with"),
            "{args:?}: {}",
            run.stderr
        );
    }
    // Flags before the command name still work where they apply.
    let server = seeded(ApiServer::start());
    let kubeconfig = server.kubeconfig(None);
    shows_myapp_pod(&initctl(
        &["-n", "seed", "--no-headers", "status", "myapp-pod"],
        Some(&kubeconfig),
    ));
}

#[test]
fn help_groups_the_shared_flags_under_headings() {
    let text = initctl(&["status", "--help"], None).ok().to_string();
    let section = |heading: &str| -> &str {
        let start = text
            .find(&format!("\n{heading}:\n"))
            .unwrap_or_else(|| panic!("{heading} in\n{text}"));
        let rest = &text[start + 1..];
        &rest[..rest.find("\n\n").unwrap_or(rest.len())]
    };
    let connection = section("Connection");
    for flag in [
        "--kubeconfig <PATH>",
        "-s, --server <URL>",
        "--as-group <GROUP>",
        "--tls-server-name <NAME>",
        "--request-timeout <DURATION>",
        "-v, --v <N>",
    ] {
        assert!(connection.contains(flag), "{flag} in\n{connection}");
    }
    assert!(section("Scope").contains("-A, --all-namespaces"), "{text}");
    assert!(section("Output").contains("--no-headers"), "{text}");
    assert!(!section("Options").contains("--kubeconfig"), "{text}");
    // check takes no connection flags at all.
    let check = initctl(&["check", "--help"], None).ok().to_string();
    assert!(
        !check.contains("Connection:") && !check.contains("--kubeconfig"),
        "{check}"
    );
}

/// `kubectl-initctl ARGS` with an empty system trust store: SSL_CERT_FILE and SSL_CERT_DIR
/// (which the system root loader honours instead of /etc/ssl) name nothing.
fn without_system_roots(args: &[&str]) -> std::process::Output {
    harness::scrubbed(&harness::bin())
        .args(args)
        .env("SSL_CERT_FILE", "/nonexistent/ca-certificates.crt")
        .env("SSL_CERT_DIR", "/nonexistent/certs")
        .output()
        .expect("run kubectl-initctl")
}

#[test]
fn the_system_trust_store_is_read_only_for_https_without_a_ca() {
    // http://: no TLS, so no trust store is needed (it used to be read at every start).
    let plain = seeded(ApiServer::start());
    let kubeconfig = plain.kubeconfig(Some("seed")).display().to_string();
    let out = without_system_roots(&["status", "myapp-pod", "--kubeconfig", &kubeconfig]);
    assert!(out.status.success(), "{out:?}");

    // https:// with a CA, or skipping verification: the system roots are not used either.
    let tls = seeded(ApiServer::start_tls(TlsOptions::default()));
    let with_ca = tls.kubeconfig(Some("seed")).display().to_string();
    let out = without_system_roots(&["status", "myapp-pod", "--kubeconfig", &with_ca]);
    assert!(out.status.success(), "{out:?}");
    let url = tls.url();
    let bare = ["status", "myapp-pod", "-n", "seed", "-s", url.as_str()];
    let mut skip = bare.to_vec();
    skip.push("--insecure-skip-tls-verify");
    let out = without_system_roots(&skip);
    assert!(out.status.success(), "{out:?}");

    // https:// without a CA is where they are needed, and read.
    let out = without_system_roots(&bare);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("No CA certificates were loaded"),
        "{stderr}"
    );
}
