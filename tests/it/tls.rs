//! TLS kubeconfigs end to end (client certificates and insecure-skip-tls-verify in the
//! kubeconfig work as they do for kubectl): the real binary,
//! and real kubectl where installed, against the stand-in served over HTTPS.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::apiserver::{ApiServer, TlsKubeconfig, TlsOptions, unrelated_ca_pem};
use crate::harness::{self, initctl, table};

/// An HTTPS stand-in with the selftest seed (namespace `seed`, `myapp-pod` in `Init:0/2`).
fn seeded(options: TlsOptions) -> ApiServer {
    let server = ApiServer::start_tls(options);
    server.load_file(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/apiserver/testdata/seed.json"),
    );
    server
}

fn https() -> ApiServer {
    seeded(TlsOptions::default())
}

fn mtls() -> ApiServer {
    seeded(TlsOptions { client_certs: true })
}

/// `status myapp-pod` works and shows the seeded pod's init progress.
#[track_caller]
fn status_works(kubeconfig: &Path) {
    let run = initctl(&["status", "myapp-pod", "--no-headers"], Some(kubeconfig));
    let rows = table(run.ok());
    assert_eq!(rows[0][0], "myapp-pod");
    assert_eq!(rows[0][2], "Init:0/2");
}

#[test]
fn ca_verified_https_with_a_token() {
    let server = https();
    assert!(
        server.url().starts_with("https://127.0.0.1:"),
        "{}",
        server.url()
    );
    server.require_token("tls-token");
    let kubeconfig = server.kubeconfig(Some("seed"));
    let text = std::fs::read_to_string(&kubeconfig).unwrap();
    assert!(text.contains("certificate-authority-data: "), "{text}");
    assert!(!text.contains("insecure-skip-tls-verify"), "{text}");
    status_works(&kubeconfig);
    let requests = server.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(
            r.authorization.as_deref(),
            Some("Bearer tls-token"),
            "{} {}",
            r.method,
            r.path
        );
    }
}

#[test]
fn a_ca_that_did_not_sign_the_server_certificate_is_one_clear_error() {
    let server = https();
    let kubeconfig = server.kubeconfig_with(
        Some("seed"),
        &TlsKubeconfig {
            certificate_authority: Some(unrelated_ca_pem()),
            ..server.tls_kubeconfig()
        },
    );
    let run = initctl(&["status", "myapp-pod"], Some(&kubeconfig));
    let line = run.one_error_line(1);
    assert_eq!(
        line,
        format!(
            "error: unable to connect to the server at {}: the server's certificate could not be verified: it is signed by an unknown authority (not by the certificate-authority the kubeconfig trusts)",
            server.url()
        )
    );
    // The handshake failed: no request was ever decoded.
    assert!(server.requests().is_empty());
}

#[test]
fn insecure_skip_tls_verify_without_a_ca() {
    let server = https();
    let kubeconfig = server.kubeconfig_with(
        Some("seed"),
        &TlsKubeconfig {
            certificate_authority: None,
            insecure_skip_tls_verify: true,
            ..server.tls_kubeconfig()
        },
    );
    status_works(&kubeconfig);
}

#[test]
fn tls_server_name_picks_the_name_the_certificate_is_checked_against() {
    let server = https();
    let named = |name: &str| {
        server.kubeconfig_with(
            Some("seed"),
            &TlsKubeconfig {
                tls_server_name: Some(name.into()),
                ..server.tls_kubeconfig()
            },
        )
    };
    // The URL names 127.0.0.1; the certificate is checked against `localhost`, which it also has.
    status_works(&named("localhost"));
    let line = initctl(&["status", "myapp-pod"], Some(&named("apiserver.example")))
        .one_error_line(1)
        .to_string();
    assert!(line.contains("certificate"), "{line}");
    assert!(line.contains("apiserver.example"), "{line}");
}

#[test]
fn client_certificates_authenticate_and_their_absence_is_refused() {
    let server = mtls();
    let alice = server.client_cert("alice");
    let with_cert = server.kubeconfig_with(
        Some("seed"),
        &TlsKubeconfig {
            token: None,
            client_cert: Some(alice),
            ..server.tls_kubeconfig()
        },
    );
    status_works(&with_cert);
    let requests = server.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(
            r.client_cert_user.as_deref(),
            Some("alice"),
            "{} {}",
            r.method,
            r.path
        );
        assert_eq!(r.authorization, None);
    }

    // A token the server does not know is no credential: 401, as kube-apiserver answers.
    server.clear_requests();
    let without_cert = server.kubeconfig_with(
        Some("seed"),
        &TlsKubeconfig {
            client_cert: None,
            ..server.tls_kubeconfig()
        },
    );
    let run = initctl(&["status", "myapp-pod"], Some(&without_cert));
    let line = run.one_error_line(1);
    assert_eq!(
        line,
        "error: You must be logged in to the server (Unauthorized): the server accepted none of the kubeconfig's credentials"
    );
    let requests = server.requests();
    assert!(
        !requests.is_empty(),
        "refused after the handshake, not in it"
    );
    assert!(requests.iter().all(|r| r.client_cert_user.is_none()));

    // A certificate from another CA is no credential either (checked after the handshake, as
    // kube-apiserver's x509 authenticator does).
    let foreign = ApiServer::start_tls(TlsOptions { client_certs: true }).client_cert("mallory");
    let foreign_cert = server.kubeconfig_with(
        Some("seed"),
        &TlsKubeconfig {
            client_cert: Some(foreign),
            ..server.tls_kubeconfig()
        },
    );
    initctl(&["status", "myapp-pod"], Some(&foreign_cert)).one_error_line(1);

    // Client certificates and tokens are alternatives: a required token still authenticates.
    server.require_token("tls-token");
    let token_only = server.kubeconfig_with(
        Some("seed"),
        &TlsKubeconfig {
            client_cert: None,
            ..server.tls_kubeconfig()
        },
    );
    status_works(&token_only);
}

/// `kubectl ARGS` with only this kubeconfig, or None where kubectl is not installed.
#[track_caller]
fn kubectl(args: &[&str], kubeconfig: &PathBuf) -> Option<Output> {
    let kubectl = harness::kubectl("the kubectl run over TLS")?;
    let home = tempfile::tempdir().unwrap();
    Some(
        harness::scrubbed(&kubectl)
            .env("HOME", home.path())
            .env("KUBECONFIG", kubeconfig)
            .args(args)
            .output()
            .expect("run kubectl"),
    )
}

#[test]
fn kubectl_accepts_the_same_tls_kubeconfigs() {
    let server = https();
    server.require_token("tls-token");
    let Some(out) = kubectl(&["get", "pods"], &server.kubeconfig(Some("seed"))) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("myapp-pod ")),
        "{stdout}"
    );

    let insecure = server.kubeconfig_with(
        Some("seed"),
        &TlsKubeconfig {
            certificate_authority: None,
            insecure_skip_tls_verify: true,
            ..server.tls_kubeconfig()
        },
    );
    let out = kubectl(&["get", "pods"], &insecure).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let wrong_ca = server.kubeconfig_with(
        Some("seed"),
        &TlsKubeconfig {
            certificate_authority: Some(unrelated_ca_pem()),
            ..server.tls_kubeconfig()
        },
    );
    let out = kubectl(&["get", "pods"], &wrong_ca).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("certificate signed by unknown authority"),
        "{stderr}"
    );
}

#[test]
fn kubectl_authenticates_with_the_client_certificate() {
    let server = mtls();
    let bob = server.client_cert("bob");
    let kubeconfig = server.kubeconfig_with(
        Some("seed"),
        &TlsKubeconfig {
            token: None,
            client_cert: Some(bob),
            ..server.tls_kubeconfig()
        },
    );
    let Some(out) = kubectl(&["get", "pods"], &kubeconfig) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let requests = server.requests();
    assert!(!requests.is_empty());
    assert!(
        requests
            .iter()
            .all(|r| r.client_cert_user.as_deref() == Some("bob"))
    );

    let without_cert = server.kubeconfig_with(
        Some("seed"),
        &TlsKubeconfig {
            client_cert: None,
            ..server.tls_kubeconfig()
        },
    );
    let out = kubectl(&["get", "pods"], &without_cert).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("You must be logged in to the server"),
        "{stderr}"
    );
}

#[test]
fn kubeconfig_yaml_carries_the_ca_and_client_certificate_as_base64_pem() {
    use base64::Engine as _;
    let server = ApiServer::start_tls(TlsOptions { client_certs: true });
    let text = server.kubeconfig_yaml(None);
    let field = |key: &str| {
        let line = text
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
            .unwrap_or_else(|| panic!("{key} in\n{text}"))
            .to_string();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(line)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(field("certificate-authority-data"), server.ca_pem());
    assert!(field("client-certificate-data").starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(field("client-key-data").starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(text.contains(&format!("server: {}\n", server.url())));
    let defaults = server.tls_kubeconfig();
    assert_eq!(
        defaults.client_cert.map(|c| c.user).as_deref(),
        Some("stand-in")
    );
}
