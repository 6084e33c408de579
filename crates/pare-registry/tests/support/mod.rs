//! Real servers for the registry tests, all on loopback ports picked at run
//! time: Debian's `docker-registry` (plain, TLS + htpasswd, token auth), a
//! small token server issuing ES256 JWTs with `x5c` (what distribution 2.8
//! accepts, docs/research/docker-daemon-and-registry.md §4), and a TCP proxy
//! that cuts connections mid-transfer. Every server stops when dropped.

#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use pare_registry::{ClientOptions, CredentialStore, Credentials, Digest};

pub const USER: &str = "alice";
pub const PASSWORD: &str = "s3cret";
/// The identity (refresh) token the test token server takes for alice.
pub const REFRESH_TOKEN: &str = "refresh-alice";
const SERVICE: &str = "pare-test-registry";
const ISSUER: &str = "pare-test-issuer";

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Client options for tests: no auth files of the machine's user, fast retries.
pub fn options() -> ClientOptions {
    ClientOptions::default()
        .credential_store(CredentialStore::empty())
        .certs_d(vec![])
        .retries(4, Duration::from_millis(50))
        .connect_timeout(Duration::from_secs(5))
        .read_timeout(Duration::from_secs(20))
}

pub fn alice() -> Option<Credentials> {
    Some(Credentials::Basic {
        username: USER.into(),
        password: PASSWORD.into(),
    })
}

/// Deterministic pseudo-random bytes (xorshift), so blobs do not compress
/// and every run pushes the same digests.
pub fn blob(len: usize, seed: u64) -> Vec<u8> {
    // Mixed so that no two seeds share a stream.
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A small image: a config and two layers, with its Docker v2 manifest.
pub struct TestImage {
    pub config: Vec<u8>,
    pub layers: Vec<Vec<u8>>,
    pub manifest: Vec<u8>,
}

impl TestImage {
    pub fn new(seed: u64) -> Self {
        let config = format!(
            r#"{{"architecture":"amd64","os":"linux","config":{{}},"rootfs":{{"type":"layers","diff_ids":[]}},"seed":{seed}}}"#
        )
        .into_bytes();
        let layers = vec![blob(1_500_000, seed), blob(300_000, seed + 1)];
        let layer_json: Vec<String> = layers
            .iter()
            .map(|l| {
                format!(
                    r#"{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":{},"digest":"{}"}}"#,
                    l.len(),
                    Digest::of(l)
                )
            })
            .collect();
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":{},"digest":"{}"}},"layers":[{}]}}"#,
            config.len(),
            Digest::of(&config),
            layer_json.join(",")
        )
        .into_bytes();
        TestImage {
            config,
            layers,
            manifest,
        }
    }

    /// Every blob: config first, then the layers.
    pub fn blobs(&self) -> Vec<&[u8]> {
        std::iter::once(self.config.as_slice())
            .chain(self.layers.iter().map(Vec::as_slice))
            .collect()
    }
}

/// A certificate authority and a server certificate for 127.0.0.1.
pub struct Pki {
    pub dir: PathBuf,
    pub ca_pem: String,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Pki {
    pub fn new(dir: &Path) -> Pki {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "pare test CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "127.0.0.1");
        let cert = params.signed_by(&key, &issuer).unwrap();
        let server_cert = dir.join("server.crt");
        let server_key = dir.join("server.key");
        std::fs::write(&server_cert, cert.pem()).unwrap();
        std::fs::write(&server_key, key.serialize_pem()).unwrap();
        Pki {
            dir: dir.to_path_buf(),
            ca_pem: ca_cert.pem(),
            server_cert,
            server_key,
            issuer,
        }
    }

    /// The CA as a file (for the registry's `clientcas`).
    pub fn ca_file(&self) -> PathBuf {
        let path = self.dir.join("ca.pem");
        std::fs::write(&path, &self.ca_pem).unwrap();
        path
    }

    /// A client certificate signed by the CA, as `client.cert` and
    /// `client.key` in `dir` (the certs.d convention).
    pub fn client_pair(&self, dir: &Path) {
        use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair};
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "pare test client");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        std::fs::write(dir.join("client.cert"), cert.pem()).unwrap();
        std::fs::write(dir.join("client.key"), key.serialize_pem()).unwrap();
    }

    /// A `--cert-dir` holding the CA as `ca.crt`.
    pub fn cert_dir(&self) -> PathBuf {
        let dir = self.dir.join("certs.d");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ca.crt"), &self.ca_pem).unwrap();
        dir
    }
}

pub enum Auth {
    None,
    /// TLS with this PKI and htpasswd basic auth for alice.
    TlsBasic(Pki),
    /// Bearer tokens from this token server.
    Token(TokenServer),
    /// TLS with this PKI, and client certificates signed by its CA required.
    TlsClientCert(Pki),
}

/// A running `docker-registry serve`.
pub struct Registry {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    log: PathBuf,
    pub auth: Auth,
}

impl Registry {
    /// Whether the registry can run here (else skip, or fail in CI).
    fn available() -> Option<()> {
        pare_testkit::tool("docker-registry")
    }

    pub fn plain() -> Option<Registry> {
        Self::available()?;
        Some(Self::start(tempfile::tempdir().unwrap(), Auth::None))
    }

    pub fn tls_basic() -> Option<Registry> {
        Self::available()?;
        pare_testkit::tool("htpasswd")?;
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::new(dir.path());
        Some(Self::start(dir, Auth::TlsBasic(pki)))
    }

    pub fn tls_client_cert() -> Option<Registry> {
        Self::available()?;
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::new(dir.path());
        Some(Self::start(dir, Auth::TlsClientCert(pki)))
    }

    pub fn token() -> Option<Registry> {
        Self::available()?;
        let dir = tempfile::tempdir().unwrap();
        let server = TokenServer::start(dir.path());
        Some(Self::start(dir, Auth::Token(server)))
    }

    fn start(dir: tempfile::TempDir, auth: Auth) -> Registry {
        let port = free_port();
        let root = dir.path();
        let mut config = format!(
            "version: 0.1\nlog: {{level: info}}\nstorage: {{filesystem: {{rootdirectory: {}}}, delete: {{enabled: true}}}}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            root.join("data").display()
        );
        match &auth {
            Auth::None => {}
            Auth::TlsBasic(pki) => {
                let out = Command::new("htpasswd")
                    .args(["-Bbn", USER, PASSWORD])
                    .output()
                    .expect("run htpasswd");
                assert!(out.status.success(), "htpasswd failed");
                std::fs::write(root.join("htpasswd"), &out.stdout).unwrap();
                config += &format!(
                    "  tls: {{certificate: {}, key: {}}}\nauth:\n  htpasswd: {{realm: pare-test, path: {}}}\n",
                    pki.server_cert.display(),
                    pki.server_key.display(),
                    root.join("htpasswd").display()
                );
            }
            Auth::TlsClientCert(pki) => {
                config += &format!(
                    "  tls:\n    certificate: {}\n    key: {}\n    clientcas: [{}]\n",
                    pki.server_cert.display(),
                    pki.server_key.display(),
                    pki.ca_file().display()
                );
            }
            Auth::Token(server) => {
                config += &format!(
                    "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
                    server.port,
                    server.bundle.display()
                );
            }
        }
        let config_path = root.join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = root.join("registry.log");
        let log_file = std::fs::File::create(&log).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .expect("start docker-registry");
        let mut registry = Registry {
            child,
            port,
            dir,
            log,
            auth,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = registry.child.try_wait() {
                panic!("docker-registry exited ({status}):\n{}", registry.log());
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not listen:\n{}",
                registry.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// How many requests the access log shows with this method and path
    /// prefix (`"PUT /v2/a/blobs/uploads/`).
    pub fn requests(&self, method: &str, path_prefix: &str) -> usize {
        let needle = format!("\"{method} {path_prefix}");
        self.log().lines().filter(|l| l.contains(&needle)).count()
    }

    /// The file the registry stores a blob's bytes in.
    pub fn blob_file(&self, digest: &Digest) -> PathBuf {
        let hex = digest.hex();
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the token server was asked.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    pub account: Option<String>,
    pub scopes: Vec<String>,
}

/// A token server for distribution's token auth: `GET /token?service=&scope=…`
/// with optional basic auth; alice gets every action asked for, anyone else
/// with a wrong password a 401, anonymous callers a token granting nothing.
pub struct TokenServer {
    pub port: u16,
    pub bundle: PathBuf,
    pub requests: Arc<Mutex<Vec<TokenRequest>>>,
    stop: Arc<AtomicBool>,
}

struct Signer {
    key: ring::signature::EcdsaKeyPair,
    cert_der: Vec<u8>,
}

impl TokenServer {
    pub fn start(dir: &Path) -> TokenServer {
        use rcgen::{CertificateParams, DnType, KeyPair};
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "pare test token signer");
        let cert = params.self_signed(&key).unwrap();
        let bundle = dir.join("token-bundle.pem");
        std::fs::write(&bundle, cert.pem()).unwrap();
        let rng = ring::rand::SystemRandom::new();
        let signer = Arc::new(Signer {
            key: ring::signature::EcdsaKeyPair::from_pkcs8(
                &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &key.serialize_der(),
                &rng,
            )
            .unwrap(),
            cert_der: cert.der().to_vec(),
        });
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        {
            let requests = requests.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let _ = stream.set_nonblocking(false);
                            let _ = serve_token(stream, &signer, &requests);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            });
        }
        TokenServer {
            port,
            bundle,
            requests,
            stop,
        }
    }

    pub fn requests(&self) -> Vec<TokenRequest> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve_token(
    stream: TcpStream,
    signer: &Signer,
    log: &Mutex<Vec<TokenRequest>>,
) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let target = line.split(' ').nth(1).unwrap_or("").to_string();
    let mut authorization = None;
    let mut content_length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            if name.eq_ignore_ascii_case("authorization") {
                authorization = Some(value.trim().to_string());
            }
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.trim().parse().unwrap_or(0).min(64 << 10);
            }
        }
    }
    // The OAuth2 form (`grant_type=refresh_token`) comes as a POST body.
    let mut form = vec![0u8; content_length];
    reader.read_exact(&mut form)?;
    let form = String::from_utf8_lossy(&form).into_owned();
    let query = if line.starts_with("POST") {
        form.as_str()
    } else {
        target.split_once('?').map(|(_, q)| q).unwrap_or("")
    };
    let refresh = query
        .split('&')
        .find_map(|p| p.strip_prefix("refresh_token="))
        .map(|v| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        });
    let mut scopes = Vec::new();
    for pair in query.split('&') {
        if let Some(("scope", v)) = pair.split_once('=') {
            let v = percent_encoding::percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned();
            scopes.extend(v.split(' ').filter(|s| !s.is_empty()).map(str::to_string));
        }
    }
    let account = match refresh.as_deref() {
        Some(REFRESH_TOKEN) => Some(format!("{USER}:{PASSWORD}")),
        Some(_) => Some("refresh:invalid".to_string()),
        None => authorization
            .as_deref()
            .and_then(|a| a.strip_prefix("Basic "))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .and_then(|b| String::from_utf8(b).ok()),
    };
    log.lock().unwrap().push(TokenRequest {
        account: account
            .as_ref()
            .map(|a| a.split(':').next().unwrap_or("").to_string()),
        scopes: scopes.clone(),
    });
    let mut out = stream;
    let granted = match account.as_deref() {
        Some(a) if a == format!("{USER}:{PASSWORD}") => scopes.clone(),
        Some(_) => {
            let body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#;
            return write!(
                out,
                "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
        None => Vec::new(),
    };
    let access: Vec<String> = granted
        .iter()
        .filter_map(|s| {
            let (kind, rest) = s.split_once(':')?;
            let (name, actions) = rest.rsplit_once(':')?;
            let actions: Vec<String> = actions.split(',').map(|a| format!("{a:?}")).collect();
            Some(format!(
                r#"{{"type":"{kind}","name":"{name}","actions":[{}]}}"#,
                actions.join(",")
            ))
        })
        .collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = format!(
        r#"{{"typ":"JWT","alg":"ES256","x5c":["{}"]}}"#,
        base64::engine::general_purpose::STANDARD.encode(&signer.cert_der)
    );
    let claims = format!(
        r#"{{"iss":"{ISSUER}","sub":"{}","aud":"{SERVICE}","exp":{},"nbf":{},"iat":{now},"jti":"{now}-{}","access":[{}]}}"#,
        account
            .as_deref()
            .map(|a| a.split(':').next().unwrap_or(""))
            .unwrap_or(""),
        now + 300,
        now - 10,
        log.lock().unwrap().len(),
        access.join(",")
    );
    let signing_input = format!("{}.{}", b64.encode(header), b64.encode(claims));
    let signature = signer
        .key
        .sign(&ring::rand::SystemRandom::new(), signing_input.as_bytes())
        .unwrap();
    let jwt = format!("{signing_input}.{}", b64.encode(signature.as_ref()));
    let body = format!(r#"{{"token":"{jwt}","access_token":"{jwt}","expires_in":300}}"#);
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// A loopback TCP proxy in front of a server that, for the first `times`
/// connections that carry more than `after` bytes in one direction, cuts
/// them there (both sockets shut down).
pub struct Proxy {
    pub port: u16,
    pub cuts: Arc<AtomicUsize>,
    pub bytes_up: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

#[derive(Clone, Copy)]
pub enum Cut {
    /// Cut responses (server → client) after this many bytes.
    Download(u64),
    /// Cut requests (client → server) after this many bytes.
    Upload(u64),
    Never,
}

impl Proxy {
    pub fn start(upstream_port: u16, cut: Cut, times: usize) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let cuts = Arc::new(AtomicUsize::new(0));
        let bytes_up = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (cuts, bytes_up, stop) = (cuts.clone(), bytes_up.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Ok((client, _)) = listener.accept() else {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    let _ = client.set_nonblocking(false);
                    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream_port)) else {
                        continue;
                    };
                    let (down_limit, up_limit) = match cut {
                        Cut::Download(n) => (Some(n), None),
                        Cut::Upload(n) => (None, Some(n)),
                        Cut::Never => (None, None),
                    };
                    let budget = Arc::new((cuts.clone(), times));
                    pump(
                        server.try_clone().unwrap(),
                        client.try_clone().unwrap(),
                        down_limit,
                        budget.clone(),
                        None,
                    );
                    pump(client, server, up_limit, budget, Some(bytes_up.clone()));
                }
            });
        }
        Proxy {
            port,
            cuts,
            bytes_up,
            stop,
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    limit: Option<u64>,
    budget: Arc<(Arc<AtomicUsize>, usize)>,
    counter: Option<Arc<AtomicU64>>,
) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 << 10];
        let mut total = 0u64;
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            total += n as u64;
            if let Some(c) = &counter {
                c.fetch_add(n as u64, Ordering::Relaxed);
            }
            if let Some(limit) = limit
                && total > limit
            {
                let (cuts, times) = &*budget;
                let ok = cuts
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| {
                        (c < *times).then_some(c + 1)
                    })
                    .is_ok();
                if ok {
                    // Forward up to the limit, then drop both sides.
                    let keep = n - (total - limit) as usize;
                    let _ = to.write_all(&buf[..keep]);
                    let _ = to.shutdown(Shutdown::Both);
                    let _ = from.shutdown(Shutdown::Both);
                    return;
                }
            }
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}

/// A request a [`FakeServer`] received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP answer of a [`FakeServer`].
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn new(status: u16) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Answer {
        self.headers.push((name.to_string(), value.into()));
        self
    }
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Answer {
        self.body = body.into();
        self
    }
}

type Handler = dyn Fn(&Seen, usize) -> Answer + Send + Sync;

/// A scripted HTTP/1.1 server, for what a real registry cannot be made to
/// do on demand: answer 503 or 429, redirect blobs to storage on another
/// host, send a wrong digest header or an oversized manifest. The handler
/// gets each request and its index (0-based, over the server's life).
pub struct FakeServer {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl FakeServer {
    pub fn start(handler: impl Fn(&Seen, usize) -> Answer + Send + Sync + 'static) -> FakeServer {
        let handler: Arc<Handler> = Arc::new(handler);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (seen, stop) = (seen.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Ok((stream, _)) = listener.accept() else {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    let _ = stream.set_nonblocking(false);
                    let (seen, handler) = (seen.clone(), handler.clone());
                    std::thread::spawn(move || {
                        let _ = serve_fake(stream, &seen, &*handler);
                    });
                }
            });
        }
        FakeServer { port, seen, stop }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve_fake(stream: TcpStream, seen: &Mutex<Vec<Seen>>, handler: &Handler) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    let request = Seen {
        method,
        target,
        headers,
    };
    if let Some(len) = request
        .header("content-length")
        .and_then(|l| l.parse::<u64>().ok())
    {
        io::copy(&mut (&mut reader).take(len), &mut io::sink())?;
    }
    let index = {
        let mut seen = seen.lock().unwrap();
        seen.push(request.clone());
        seen.len() - 1
    };
    let answer = handler(&request, index);
    let mut out = stream;
    let mut head = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", answer.status);
    if !answer
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-length"))
    {
        head += &format!("Content-Length: {}\r\n", answer.body.len());
    }
    for (name, value) in &answer.headers {
        head += &format!("{name}: {value}\r\n");
    }
    head += "\r\n";
    out.write_all(head.as_bytes())?;
    if request.method != "HEAD" {
        out.write_all(&answer.body)?;
    }
    out.flush()
}
