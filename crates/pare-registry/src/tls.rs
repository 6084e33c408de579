//! TLS trust for registries: the system's roots plus a certificate directory.
//!
//! A certificate directory follows the Docker and containers convention
//! (`/etc/docker/certs.d/HOST:PORT`, `/etc/containers/certs.d/…`, skopeo's
//! `--cert-dir`): every `*.crt` holds CA certificates (PEM) trusted in
//! addition to the system's; a `NAME.cert` with its `NAME.key` is a client
//! certificate. A `.cert` without its `.key` (or the reverse) is an error, as
//! in Docker.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::pki_types::CertificateDer;
use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};

use crate::error::{Error, Result};

/// The largest certificate or key file read.
const MAX_PEM_BYTES: u64 = 1 << 20;

/// The system's CA certificates (`SSL_CERT_FILE`, `SSL_CERT_DIR`, the
/// distribution's bundle), loaded once a process.
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// The TLS configuration for one registry: system roots (Mozilla's bundled
/// ones when the system has none) plus `cert_dir`'s.
pub(crate) fn config_for(cert_dir: Option<&Path>) -> Result<TlsConfig> {
    let system = system_roots();
    let Some(dir) = cert_dir else {
        if system.is_empty() {
            return Ok(TlsConfig::builder().root_certs(RootCerts::WebPki).build());
        }
        return Ok(TlsConfig::builder()
            .root_certs(specific(system.iter().cloned()))
            .build());
    };
    let certs = CertDir::read(dir)?;
    let roots = specific(system.iter().cloned().chain(certs.cas));
    let mut builder = TlsConfig::builder().root_certs(roots);
    if let Some(client) = certs.client {
        builder = builder.client_cert(Some(client));
    }
    Ok(builder.build())
}

fn specific(certs: impl Iterator<Item = CertificateDer<'static>>) -> RootCerts {
    RootCerts::Specific(Arc::new(
        certs
            .map(|c| Certificate::from_der(c.as_ref()).to_owned())
            .collect(),
    ))
}

struct CertDir {
    cas: Vec<CertificateDer<'static>>,
    client: Option<ClientCert>,
}

impl CertDir {
    fn read(dir: &Path) -> Result<CertDir> {
        let bad = |reason: String| Error::CertDir {
            path: dir.to_path_buf(),
            reason,
        };
        let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| bad(e.to_string()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        names.sort();
        let ext = |p: &Path, want: &str| p.extension().is_some_and(|e| e == want);
        let mut cas = Vec::new();
        for path in names.iter().filter(|p| ext(p, "crt")) {
            let found = pem_certs(path)?;
            if found.is_empty() {
                return Err(bad(format!("{} holds no PEM certificate", path.display())));
            }
            let mut store = rustls::RootCertStore::empty();
            for cert in found {
                store
                    .add(cert.clone())
                    .map_err(|e| bad(format!("{}: {e}", path.display())))?;
                cas.push(cert);
            }
        }
        let mut client = None;
        for cert_path in names.iter().filter(|p| ext(p, "cert")) {
            let key_path = cert_path.with_extension("key");
            if !key_path.is_file() {
                return Err(bad(format!(
                    "client certificate {} has no key {}",
                    cert_path.display(),
                    key_path.display()
                )));
            }
            if client.is_none() {
                client = Some(client_cert(dir, cert_path, &key_path)?);
            }
        }
        for key_path in names.iter().filter(|p| ext(p, "key")) {
            if !key_path.with_extension("cert").is_file() {
                return Err(bad(format!(
                    "client key {} has no certificate {}",
                    key_path.display(),
                    key_path.with_extension("cert").display()
                )));
            }
        }
        Ok(CertDir { cas, client })
    }
}

fn read_pem(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let bad = |reason: String| Error::CertDir {
        path: path.to_path_buf(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(e.to_string()))?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(bad(format!("larger than {MAX_PEM_BYTES} bytes")));
    }
    Ok(bytes)
}

fn pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let bytes = read_pem(path)?;
    let mut out = Vec::new();
    for item in ureq::tls::parse_pem(&bytes) {
        match item {
            Ok(PemItem::Certificate(c)) => out.push(CertificateDer::from(c.der().to_vec())),
            Ok(_) => {}
            Err(e) => {
                return Err(Error::CertDir {
                    path: path.to_path_buf(),
                    reason: format!("invalid PEM: {e}"),
                });
            }
        }
    }
    Ok(out)
}

/// A client certificate pair, checked with rustls first: ureq would panic
/// on a key that does not fit.
fn client_cert(dir: &Path, cert_path: &Path, key_path: &Path) -> Result<ClientCert> {
    let bad = |reason: String| Error::CertDir {
        path: dir.to_path_buf(),
        reason,
    };
    let chain = pem_certs(cert_path)?;
    if chain.is_empty() {
        return Err(bad(format!("{} holds no certificate", cert_path.display())));
    }
    let key_bytes = read_pem(key_path)?;
    let key = PrivateKey::from_pem(&key_bytes)
        .map_err(|e| bad(format!("{}: {e}", key_path.display())))?;
    let key_der = {
        use rustls::pki_types::pem::PemObject as _;
        rustls::pki_types::PrivateKeyDer::from_pem_slice(&key_bytes)
            .map_err(|e| bad(format!("{}: {e}", key_path.display())))?
    };
    // The provider ureq itself falls back to (ring), to check the pair the
    // way ureq will use it.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_client_auth_cert(chain.clone(), key_der)
        .map_err(|e| {
            bad(format!(
                "{} and {} do not form a client certificate: {e}",
                cert_path.display(),
                key_path.display()
            ))
        })?;
    let chain: Vec<Certificate<'static>> = chain
        .iter()
        .map(|c| Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    Ok(ClientCert::new_with_certs(&chain, key.to_owned()))
}
