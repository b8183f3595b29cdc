//! HTTPS mode of the stand-in: the same router behind rustls, with a CA and a serving
//! certificate (for `127.0.0.1` and `localhost`) minted at start, and optionally client
//! certificates checked the way kube-apiserver's x509 authenticator checks them.
//!
//! kube-apiserver asks for a client certificate without requiring one (Go's
//! `tls.RequestClientCert`): the handshake succeeds either way, and the certificate is verified
//! afterwards by the authenticator, so a missing or foreign certificate ends in a 401
//! `Unauthorized` Status (when no other credential authenticates), never in a TLS alert. The
//! verifier below reproduces that split: the handshake only checks that the client holds the
//! certificate's key, and [`Acceptor::accept`] verifies the chain against the CA.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    DigitallySignedStruct, DistinguishedName as HintName, RootCertStore, SignatureScheme,
};
use tokio_rustls::TlsAcceptor;

use super::ApiServer;

/// How `ApiServer::start_tls` serves.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Authenticate with client certificates signed by the server's CA (mTLS): the user is the
    /// certificate's CN, and a request with neither a valid certificate nor the token set by
    /// `require_token` gets 401 `Unauthorized`.
    pub client_certs: bool,
}

/// A client certificate and its key, as PEM (what `client-certificate-data` and
/// `client-key-data` hold, base64-encoded).
#[derive(Debug, Clone)]
pub struct ClientCert {
    pub user: String,
    pub cert_pem: String,
    pub key_pem: String,
}

/// The TLS-related keys of a kubeconfig for the HTTPS server; each field is one kubeconfig key
/// (left out when `None`/`false`). `ApiServer::tls_kubeconfig` gives the working defaults, and
/// tests change fields to build the variants users have (no CA + insecure, a wrong CA, …).
#[derive(Debug, Clone, Default)]
pub struct TlsKubeconfig {
    /// PEM of the CA to trust: `certificate-authority-data`.
    pub certificate_authority: Option<String>,
    pub insecure_skip_tls_verify: bool,
    pub tls_server_name: Option<String>,
    pub token: Option<String>,
    /// `client-certificate-data` and `client-key-data`.
    pub client_cert: Option<ClientCert>,
}

/// Users by client-certificate DER, shared by `Tls` (which mints) and `Acceptor` (which looks up).
type Users = Arc<Mutex<HashMap<Vec<u8>, String>>>;

/// What the TLS layer established about a connection, for the handler's authentication.
#[derive(Debug, Clone, Default)]
pub(super) struct Peer {
    /// The server authenticates with client certificates, so anonymous requests are refused.
    pub certs_required: bool,
    /// The CN of a client certificate that verified against the CA.
    pub user: Option<String>,
}

/// The server's key material, kept by `ApiServer` to write kubeconfigs and mint client certs.
pub(super) struct Tls {
    ca: CertifiedIssuer<'static, KeyPair>,
    /// Users by client-certificate DER. The CA key never leaves this struct, so every certificate
    /// that verifies against the CA was minted by `client_cert` and is listed here; looking the
    /// CN up avoids an X.509 parser just to read it back.
    users: Users,
    default_client: Option<ClientCert>,
}

/// The per-connection half, moved into the server thread.
#[derive(Clone)]
pub(super) struct Acceptor {
    acceptor: TlsAcceptor,
    client_auth: Option<(Arc<dyn ClientCertVerifier>, Users)>,
}

impl Acceptor {
    /// Completes the handshake and authenticates the client certificate, if any. `None` when
    /// the handshake fails (the client gave up, e.g. because it does not trust the CA).
    pub(super) async fn accept(
        &self,
        stream: tokio::net::TcpStream,
    ) -> Option<(tokio_rustls::server::TlsStream<tokio::net::TcpStream>, Peer)> {
        let stream = self.acceptor.accept(stream).await.ok()?;
        let mut peer = Peer::default();
        if let Some((verifier, users)) = &self.client_auth {
            peer.certs_required = true;
            let chain = stream.get_ref().1.peer_certificates().unwrap_or_default();
            if let Some((end_entity, intermediates)) = chain.split_first()
                && verifier
                    .verify_client_cert(end_entity, intermediates, UnixTime::now())
                    .is_ok()
            {
                peer.user = lock(users).get(end_entity.as_ref()).cloned();
            }
        }
        Some((stream, peer))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A self-signed CA that can sign serving and client certificates.
fn new_ca(common_name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // Go's verifier (kubectl) refuses a CA whose key usage does not allow signing certificates.
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().expect("CA key");
    CertifiedIssuer::self_signed(params, key).expect("self-signed CA")
}

/// The PEM of a fresh CA that signed nothing the server presents: a kubeconfig trusting it
/// must fail verification.
pub fn unrelated_ca_pem() -> String {
    new_ca("unrelated-ca").pem()
}

fn leaf(
    ca: &CertifiedIssuer<'static, KeyPair>,
    sans: &[&str],
    cn: &str,
    usage: ExtendedKeyUsagePurpose,
) -> (rcgen::Certificate, KeyPair) {
    let sans: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
    // `new` turns "127.0.0.1" into an IP SAN and "localhost" into a DNS SAN.
    let mut params = CertificateParams::new(sans).expect("certificate params");
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![usage];
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().expect("leaf key");
    let cert = params.signed_by(&key, ca).expect("sign certificate");
    (cert, key)
}

fn der_key(key: &KeyPair) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()))
}

/// Asks for a client certificate and checks only that the client holds its key; the chain is
/// verified after the handshake (see the module doc).
#[derive(Debug)]
struct RequestClientCert(Arc<dyn ClientCertVerifier>);

impl ClientCertVerifier for RequestClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[HintName] {
        self.0.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

impl Tls {
    fn new(options: TlsOptions) -> (Tls, Acceptor) {
        let ca = new_ca("stand-in-ca");
        let (serving, serving_key) = leaf(
            &ca,
            &["127.0.0.1", "localhost"],
            "kube-apiserver",
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let users = Arc::new(Mutex::new(HashMap::new()));
        let client_auth = options.client_certs.then(|| {
            let mut roots = RootCertStore::empty();
            roots.add(ca.der().clone()).expect("CA as trust anchor");
            let verifier: Arc<dyn ClientCertVerifier> =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                    .build()
                    .expect("client certificate verifier");
            (verifier, users.clone())
        });
        let builder = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("protocol versions");
        let builder = match &client_auth {
            Some((verifier, _)) => {
                builder.with_client_cert_verifier(Arc::new(RequestClientCert(verifier.clone())))
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(vec![serving.der().clone()], der_key(&serving_key))
            .expect("serving certificate");
        // The router speaks HTTP/1.1 only; kubectl offers h2 too and must not pick it.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let mut tls = Tls {
            ca,
            users,
            default_client: None,
        };
        if options.client_certs {
            tls.default_client = Some(tls.mint("stand-in"));
        }
        let acceptor = Acceptor {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            client_auth,
        };
        (tls, acceptor)
    }

    fn mint(&self, user: &str) -> ClientCert {
        let (cert, key) = leaf(&self.ca, &[], user, ExtendedKeyUsagePurpose::ClientAuth);
        lock(&self.users).insert(cert.der().to_vec(), user.to_string());
        ClientCert {
            user: user.to_string(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

impl ApiServer {
    /// The stand-in over HTTPS (`url()` is `https://127.0.0.1:<port>`); `kubeconfig*` trust its
    /// CA and, with `client_certs`, carry a client certificate for user `stand-in`.
    pub fn start_tls(options: TlsOptions) -> ApiServer {
        let (tls, acceptor) = Tls::new(options);
        ApiServer::launch(Some((tls, acceptor)))
    }

    fn tls(&self) -> &Tls {
        self.tls
            .as_ref()
            .expect("a TLS method on a plain-HTTP stand-in: use ApiServer::start_tls")
    }

    /// The PEM of the CA that signed the serving certificate (and client certificates).
    pub fn ca_pem(&self) -> String {
        self.tls().ca.pem()
    }

    /// A client certificate for `user` (its CN) signed by the server's CA.
    pub fn client_cert(&self, user: &str) -> ClientCert {
        self.tls().mint(user)
    }

    /// The kubeconfig settings that work: the CA, the token (as `kubeconfig_yaml` picks it) and,
    /// for mTLS, the client certificate of user `stand-in`.
    pub fn tls_kubeconfig(&self) -> TlsKubeconfig {
        let tls = self.tls();
        TlsKubeconfig {
            certificate_authority: Some(tls.ca.pem()),
            insecure_skip_tls_verify: false,
            tls_server_name: None,
            token: Some(self.token_for_kubeconfig()),
            client_cert: tls.default_client.clone(),
        }
    }

    /// A kubeconfig (cluster, user and current context `stand-in`) with these TLS settings.
    pub fn kubeconfig_yaml_with(&self, namespace: Option<&str>, tls: &TlsKubeconfig) -> String {
        let mut cluster = format!("    server: {}\n", self.url());
        if let Some(ca) = &tls.certificate_authority {
            let _ = writeln!(
                cluster,
                "    certificate-authority-data: {}",
                BASE64.encode(ca)
            );
        }
        if tls.insecure_skip_tls_verify {
            cluster.push_str("    insecure-skip-tls-verify: true\n");
        }
        if let Some(name) = &tls.tls_server_name {
            let _ = writeln!(cluster, "    tls-server-name: {name}");
        }
        let mut user = String::new();
        if let Some(token) = &tls.token {
            let _ = writeln!(user, "    token: {token}");
        }
        if let Some(client) = &tls.client_cert {
            let _ = writeln!(
                user,
                "    client-certificate-data: {}\n    client-key-data: {}",
                BASE64.encode(&client.cert_pem),
                BASE64.encode(&client.key_pem)
            );
        }
        let user = if user.is_empty() {
            "  user: {}\n".to_string()
        } else {
            format!("  user:\n{user}")
        };
        let ns = namespace
            .map(|ns| format!("    namespace: {ns}\n"))
            .unwrap_or_default();
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: stand-in\n  cluster:\n{cluster}users:\n- name: stand-in\n{user}contexts:\n- name: stand-in\n  context:\n    cluster: stand-in\n    user: stand-in\n{ns}current-context: stand-in\npreferences: {{}}\n"
        )
    }

    /// Writes `kubeconfig_yaml_with` to a fresh file in the server's tempdir.
    pub fn kubeconfig_with(&self, namespace: Option<&str>, tls: &TlsKubeconfig) -> PathBuf {
        self.write_kubeconfig(&self.kubeconfig_yaml_with(namespace, tls))
    }
}
