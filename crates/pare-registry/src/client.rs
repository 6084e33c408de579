//! The client: per-registry connection state (scheme, TLS, challenge,
//! tokens), one request with authentication, retries and error mapping.

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use ureq::http::{self, Response};
use ureq::{Body, SendBody};

use crate::auth::{Challenge, Scopes, TokenResponse, parse_challenges};
use crate::credentials::{CredentialStore, Credentials};
use crate::error::{Error, Result};
use crate::reference::api_host;

/// The most bytes of an error or token body read.
pub const MAX_SMALL_BODY_BYTES: u64 = 1 << 20;
/// How many redirects a GET follows (blob storage redirects once).
const MAX_REDIRECTS: usize = 5;

/// How a [`Client`] connects, authenticates and retries.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub(crate) credentials: Option<Credentials>,
    pub(crate) store: CredentialStore,
    pub(crate) cert_dir: Option<PathBuf>,
    pub(crate) certs_d: Vec<PathBuf>,
    pub(crate) insecure: Vec<String>,
    pub(crate) connect_timeout: Duration,
    pub(crate) read_timeout: Duration,
    pub(crate) attempts: u32,
    pub(crate) backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) chunk_size: Option<u64>,
    pub(crate) user_agent: String,
}

impl Default for ClientOptions {
    /// Credentials from the environment's auth files, system TLS roots plus
    /// `/etc/containers/certs.d/HOST` or `/etc/docker/certs.d/HOST`, 30 s to
    /// connect, 60 s without a byte, 4 attempts from 500 ms backoff,
    /// monolithic uploads.
    fn default() -> Self {
        ClientOptions {
            credentials: None,
            store: CredentialStore::from_env(),
            cert_dir: None,
            certs_d: vec![
                PathBuf::from("/etc/containers/certs.d"),
                PathBuf::from("/etc/docker/certs.d"),
            ],
            insecure: Vec::new(),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            attempts: 4,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
            chunk_size: None,
            user_agent: concat!("pare-registry/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

impl ClientOptions {
    /// Explicit credentials (`--creds`) for every registry this client
    /// talks to; they win over every auth file.
    pub fn credentials(mut self, credentials: Option<Credentials>) -> Self {
        self.credentials = credentials;
        self
    }

    /// Where credentials are looked up when none are given explicitly.
    pub fn credential_store(mut self, store: CredentialStore) -> Self {
        self.store = store;
        self
    }

    /// A certificate directory for every registry (`--cert-dir`); without
    /// one, `<certs.d>/HOST[:PORT]` is used when it exists.
    pub fn cert_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.cert_dir = dir;
        self
    }

    /// The `certs.d` roots searched for a per-host certificate directory.
    pub fn certs_d(mut self, roots: Vec<PathBuf>) -> Self {
        self.certs_d = roots;
        self
    }

    /// Hosts (`HOST` or `HOST:PORT`) that may be reached over plain HTTP,
    /// besides loopback ones (`--insecure-registry`).
    pub fn insecure_registries(mut self, hosts: Vec<String>) -> Self {
        self.insecure = hosts;
        self
    }

    /// How long a TCP and TLS connection may take.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a connection may stay silent (any read or write).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Attempts per request (at least 1) and the first backoff, doubled each
    /// time up to 10 s.
    pub fn retries(mut self, attempts: u32, backoff: Duration) -> Self {
        self.attempts = attempts.max(1);
        self.backoff = backoff;
        self
    }

    /// Upload blobs in `PATCH` chunks of this size (`None`: one streamed
    /// `PUT`, the default).
    pub fn chunk_size(mut self, size: Option<u64>) -> Self {
        self.chunk_size = size.map(|s| s.max(1));
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }
}

/// Counters of what a client did, for progress lines and tests.
#[derive(Debug, Default)]
pub struct Stats {
    /// HTTP requests sent, retries and token requests included.
    pub requests: AtomicU64,
    /// Requests sent again after a transient failure.
    pub retries: AtomicU64,
    /// Token requests sent to a token server.
    pub token_requests: AtomicU64,
}

/// A blocking client for the OCI distribution API. Cheap to share between
/// threads (`&Client` is `Sync`): per-registry state is behind locks.
pub struct Client {
    pub(crate) opts: ClientOptions,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
    stats: Stats,
}

/// What the `/v2/` ping told about a registry.
pub(crate) struct Host {
    /// The API host and port (`registry-1.docker.io`, `127.0.0.1:5000`).
    pub name: String,
    /// The registry as references name it (for credentials).
    registry: String,
    /// `https://NAME` or `http://NAME`.
    pub base: String,
    agent: ureq::Agent,
    /// From the ping; a registry whose `/v2/` is open may still ask for
    /// credentials on a repository, which sets it then.
    auth: Mutex<HostAuth>,
    credentials: Mutex<HashMap<String, Option<Credentials>>>,
    tokens: Mutex<Vec<Token>>,
}

#[derive(Clone)]
enum HostAuth {
    None,
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

struct Token {
    scopes: Scopes,
    value: String,
    expires: Instant,
}

/// The body of one request.
pub(crate) enum CallBody<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// Streamed with this Content-Length; cannot be sent twice.
    Stream(&'a mut dyn Read, u64),
}

/// One request to a registry.
pub(crate) struct Call<'a> {
    pub method: http::Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: CallBody<'a>,
    /// The access the request needs (for bearer tokens).
    pub scopes: Scopes,
    /// Which repository's credentials apply.
    pub repository: &'a str,
}

impl Call<'_> {
    pub fn describe(&self) -> String {
        let path = self
            .url
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
            .unwrap_or(&self.url);
        let path = path.split('?').next().unwrap_or(path);
        format!("{} {path}", self.method)
    }
}

impl Client {
    /// A client with these options. Nothing is contacted until a request.
    pub fn new(opts: ClientOptions) -> Self {
        Client {
            opts,
            hosts: Mutex::new(HashMap::new()),
            stats: Stats::default(),
        }
    }

    /// What this client did so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Whether `host` (`NAME[:PORT]`) may be reached over plain HTTP:
    /// loopback addresses, `localhost`, and the insecure list.
    pub fn plain_http_allowed(&self, host: &str) -> bool {
        let bare = strip_port(host);
        let loopback = bare.eq_ignore_ascii_case("localhost")
            || bare
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        loopback
            || self
                .opts
                .insecure
                .iter()
                .any(|h| h.eq_ignore_ascii_case(host) || h.eq_ignore_ascii_case(bare))
    }

    /// The state of `registry`, pinging it the first time.
    pub(crate) fn host(&self, registry: &str) -> Result<Arc<Host>> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(host) = hosts.get(registry) {
            return Ok(host.clone());
        }
        let host = Arc::new(self.connect(registry)?);
        hosts.insert(registry.to_string(), host.clone());
        Ok(host)
    }

    fn agent_for(&self, name: &str) -> Result<ureq::Agent> {
        let dir = match &self.opts.cert_dir {
            Some(dir) => Some(dir.clone()),
            None => self
                .opts
                .certs_d
                .iter()
                .map(|root| root.join(name))
                .find(|d| d.is_dir()),
        };
        let tls = crate::tls::config_for(dir.as_deref())?;
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .tls_config(tls)
            .user_agent(&self.opts.user_agent)
            .timeout_connect(Some(self.opts.connect_timeout))
            .timeout_per_read(Some(self.opts.read_timeout))
            .timeout_per_write(Some(self.opts.read_timeout))
            .build();
        Ok(ureq::Agent::new_with_config(config))
    }

    /// Finds the scheme and authentication of a registry with `GET /v2/`:
    /// HTTPS first; plain HTTP after it only for hosts allowed it.
    fn connect(&self, registry: &str) -> Result<Host> {
        let name = api_host(registry).to_string();
        let agent = self.agent_for(&name)?;
        // Where plain HTTP is allowed, a failed HTTPS probe is most likely a
        // plain server: one try, then plain HTTP with the usual retries.
        let plain_allowed = self.plain_http_allowed(&name);
        let https_attempts = if plain_allowed { 1 } else { self.opts.attempts };
        let https = self.ping(&agent, &name, "https", https_attempts);
        let (base, response) = match https {
            Ok(r) => (format!("https://{name}"), r),
            Err(https_error) if plain_allowed => {
                match self.ping(&agent, &name, "http", self.opts.attempts) {
                    Ok(r) if matches!(r.status().as_u16(), 200 | 401) => {
                        (format!("http://{name}"), r)
                    }
                    _ => return Err(https_error),
                }
            }
            Err(e) => return Err(e),
        };
        let auth = match response.status().as_u16() {
            200..=299 => HostAuth::None,
            401 => match auth_of(&response) {
                Some(auth) => auth,
                None => {
                    return Err(Error::InvalidResponse {
                        host: name,
                        request: "GET /v2/".into(),
                        reason: "401 without a Bearer or Basic challenge".into(),
                    });
                }
            },
            status => {
                let detail = error_detail(response);
                return Err(Error::Status {
                    host: name,
                    request: "GET /v2/".into(),
                    status,
                    detail: format!("not a distribution API endpoint ({detail})"),
                });
            }
        };
        Ok(Host {
            name,
            registry: registry.to_string(),
            base,
            agent,
            auth: Mutex::new(auth),
            credentials: Mutex::new(HashMap::new()),
            tokens: Mutex::new(Vec::new()),
        })
    }

    fn ping(
        &self,
        agent: &ureq::Agent,
        name: &str,
        scheme: &str,
        attempts: u32,
    ) -> Result<Response<Body>> {
        let url = format!("{scheme}://{name}/v2/");
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let request = http::Request::get(&url)
                .body(SendBody::none())
                .map_err(|e| transport(name, e.to_string()))?;
            let result = agent.run(request).map_err(|e| map_ureq(name, e));
            match result {
                Ok(r) if transient_status(r.status().as_u16()) && attempt < attempts => {}
                Err(e) if e.is_transient() && attempt < attempts => {}
                other => return other,
            }
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(self.backoff(attempt));
        }
    }

    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.opts
            .backoff
            .saturating_mul(factor)
            .min(self.opts.max_backoff)
    }

    fn credentials_for(&self, host: &Host, repository: &str) -> Result<Option<Credentials>> {
        if let Some(c) = &self.opts.credentials {
            return Ok(Some(c.clone()));
        }
        let mut cache = host.credentials.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = cache.get(repository) {
            return Ok(found.clone());
        }
        let found = self.opts.store.lookup(&host.registry, repository)?;
        cache.insert(repository.to_string(), found.clone());
        Ok(found)
    }

    /// The `Authorization` value for a request needing `scopes`.
    fn authorization(
        &self,
        host: &Host,
        scopes: &Scopes,
        repository: &str,
    ) -> Result<Option<String>> {
        let auth = host.auth.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match &auth {
            HostAuth::None => Ok(None),
            HostAuth::Basic => match self.credentials_for(host, repository)? {
                Some(c) => Ok(c.basic_header()),
                None => Err(Error::Unauthorized {
                    host: host.name.clone(),
                    detail: "the registry asks for a user name and password and none were found (--creds or an auth file)".into(),
                }),
            },
            HostAuth::Bearer { realm, service } => {
                let now = Instant::now();
                {
                    let tokens = host.tokens.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(t) = tokens
                        .iter()
                        .find(|t| t.expires > now && t.scopes.covers(scopes))
                    {
                        return Ok(Some(format!("Bearer {}", t.value)));
                    }
                }
                let (value, lifetime) = self.fetch_token(host, realm, service.as_deref(), scopes, repository)?;
                let mut tokens = host.tokens.lock().unwrap_or_else(|e| e.into_inner());
                tokens.retain(|t| t.expires > now);
                tokens.push(Token {
                    scopes: scopes.clone(),
                    value: value.clone(),
                    // Renew a little before the server's deadline.
                    expires: now + lifetime.saturating_sub(Duration::from_secs(10)),
                });
                Ok(Some(format!("Bearer {value}")))
            }
        }
    }

    fn forget_tokens(&self, host: &Host, scopes: &Scopes) {
        let mut tokens = host.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.retain(|t| !t.scopes.covers(scopes));
    }

    /// The bearer-token flow: `GET realm?service=&scope=…` (several scopes
    /// in one request) with basic credentials, or the OAuth2 refresh-token
    /// `POST` for an identity token.
    fn fetch_token(
        &self,
        host: &Host,
        realm: &str,
        service: Option<&str>,
        scopes: &Scopes,
        repository: &str,
    ) -> Result<(String, Duration)> {
        let realm_host = url_authority(realm).unwrap_or_default().to_string();
        let request_name = format!(
            "token request to {}",
            realm.split('?').next().unwrap_or(realm)
        );
        if realm.starts_with("http://") && !self.plain_http_allowed(&realm_host) {
            return Err(Error::PlainHttpRefused {
                host: host.name.clone(),
                url: realm.to_string(),
            });
        }
        if !realm.starts_with("https://") && !realm.starts_with("http://") {
            return Err(Error::InvalidResponse {
                host: host.name.clone(),
                request: "GET /v2/".into(),
                reason: format!("token realm {realm:?} is not an HTTP URL"),
            });
        }
        let credentials = self.credentials_for(host, repository)?;
        let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
        let mut params: Vec<String> = Vec::new();
        if let Some(service) = service {
            params.push(format!("service={}", enc(service)));
        }
        params.extend(
            scopes
                .to_params()
                .iter()
                .map(|s| format!("scope={}", enc(s))),
        );
        let mut attempt = 0;
        let response = loop {
            attempt += 1;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            self.stats.token_requests.fetch_add(1, Ordering::Relaxed);
            let request = match &credentials {
                Some(Credentials::IdentityToken(refresh)) => {
                    let mut form = params.clone();
                    form.push("grant_type=refresh_token".into());
                    form.push(format!("refresh_token={}", enc(refresh)));
                    form.push("client_id=pare".into());
                    let body = form.join("&");
                    http::Request::post(realm)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .header("content-length", body.len().to_string())
                        .body(SendBody::from_owned_reader(io::Cursor::new(
                            body.into_bytes(),
                        )))
                }
                other => {
                    let sep = if realm.contains('?') { '&' } else { '?' };
                    let url = if params.is_empty() {
                        realm.to_string()
                    } else {
                        format!("{realm}{sep}{}", params.join("&"))
                    };
                    let mut b = http::Request::get(url);
                    if let Some(header) = other.as_ref().and_then(Credentials::basic_header) {
                        b = b.header("authorization", header);
                    }
                    b.body(SendBody::none())
                }
            }
            .map_err(|e| transport(&realm_host, e.to_string()))?;
            match host
                .agent
                .run(request)
                .map_err(|e| map_ureq(&realm_host, e))
            {
                Ok(r) if transient_status(r.status().as_u16()) && attempt < self.opts.attempts => {}
                Err(e) if e.is_transient() && attempt < self.opts.attempts => {}
                Ok(r) => break r,
                Err(e) => return Err(e),
            }
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(self.backoff(attempt));
        };
        let status = response.status().as_u16();
        match status {
            200..=299 => {}
            401 | 403 => {
                let detail = error_detail(response);
                let who = if credentials.is_some() {
                    "refused the credentials"
                } else {
                    "refused anonymous access (no credentials found)"
                };
                return Err(Error::Unauthorized {
                    host: host.name.clone(),
                    detail: format!("token server {realm_host} {who}: {detail}"),
                });
            }
            _ => {
                return Err(Error::Status {
                    host: realm_host,
                    request: request_name,
                    status,
                    detail: error_detail(response),
                });
            }
        }
        let bytes = read_small(response, &realm_host, MAX_SMALL_BODY_BYTES)?;
        serde_json::from_slice::<TokenResponse>(&bytes)
            .ok()
            .and_then(TokenResponse::into_token)
            .ok_or_else(|| Error::InvalidResponse {
                host: realm_host,
                request: request_name,
                reason: "no token in the answer".into(),
            })
    }

    /// Sends `call` once, with the host's authorization when the URL is on
    /// the registry's host. Redirects are returned, not followed.
    fn send_once(
        &self,
        host: &Host,
        call: &mut Call<'_>,
        authorization: Option<&str>,
    ) -> Result<Response<Body>> {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let target = url_authority(&call.url).unwrap_or(&host.name).to_string();
        let mut builder = http::Request::builder()
            .method(call.method.clone())
            .uri(&call.url);
        for (name, value) in &call.headers {
            builder = builder.header(*name, value);
        }
        if let Some(auth) = authorization.filter(|_| target.eq_ignore_ascii_case(&host.name)) {
            builder = builder.header("authorization", auth);
        }
        let needs_length = matches!(
            call.method,
            http::Method::POST | http::Method::PUT | http::Method::PATCH
        );
        let bad = |e: http::Error| transport(&target, e.to_string());
        // One `run` per arm: `SendBody` is invariant in its lifetime.
        let result = match &mut call.body {
            CallBody::Empty => {
                if needs_length {
                    builder = builder.header("content-length", "0");
                }
                host.agent.run(builder.body(SendBody::none()).map_err(bad)?)
            }
            CallBody::Bytes(bytes) => host.agent.run(
                builder
                    .header("content-length", bytes.len().to_string())
                    .body(SendBody::from_owned_reader(io::Cursor::new(bytes.to_vec())))
                    .map_err(bad)?,
            ),
            CallBody::Stream(reader, len) => host.agent.run(
                builder
                    .header("content-length", len.to_string())
                    .body(SendBody::from_reader(&mut **reader))
                    .map_err(bad)?,
            ),
        };
        result.map_err(|e| map_ureq(&target, e))
    }

    /// Sends `call` with authentication: a 401 renews the token once (with
    /// the challenge's scope added); transient failures are retried with
    /// backoff when the body can be sent again.
    pub(crate) fn send(&self, host: &Host, mut call: Call<'_>) -> Result<Response<Body>> {
        let replayable = !matches!(call.body, CallBody::Stream(..));
        let mut attempt = 0;
        let mut renewed = false;
        loop {
            attempt += 1;
            let auth = self.authorization(host, &call.scopes, call.repository)?;
            let result = self.send_once(host, &mut call, auth.as_deref());
            let can_retry = replayable && attempt < self.opts.attempts;
            match result {
                Ok(r) if r.status().as_u16() == 401 && !renewed && self.learn_auth(host, &r) => {
                    renewed = true;
                    attempt -= 1;
                    let extra = challenge_scopes(&r);
                    self.forget_tokens(host, &call.scopes);
                    call.scopes = call.scopes.union(&extra);
                    if !replayable {
                        return Ok(r);
                    }
                    continue;
                }
                Ok(r) if transient_status(r.status().as_u16()) && can_retry => {}
                Err(e) if e.is_transient() && can_retry => {}
                other => return other,
            }
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(self.backoff(attempt));
        }
    }

    /// After a 401: whether asking again may help. A bearer host gets a new
    /// token; a host whose `/v2/` was open learns the challenge now.
    fn learn_auth(&self, host: &Host, response: &Response<Body>) -> bool {
        let mut auth = host.auth.lock().unwrap_or_else(|e| e.into_inner());
        match &*auth {
            HostAuth::Bearer { .. } => true,
            HostAuth::Basic => false,
            HostAuth::None => match auth_of(response) {
                Some(learned) => {
                    *auth = learned;
                    true
                }
                None => false,
            },
        }
    }

    /// A GET or HEAD that follows redirects: to another host without the
    /// `Authorization` header (blob storage such as S3 gets only its signed
    /// URL), and to plain HTTP only where plain HTTP is allowed.
    pub(crate) fn send_following(&self, host: &Host, mut call: Call<'_>) -> Result<Response<Body>> {
        let method = call.method.clone();
        let mut response = self.send(host, call_clone_empty(&call))?;
        for _ in 0..MAX_REDIRECTS {
            if !response.status().is_redirection() {
                return Ok(response);
            }
            let Some(location) = header(&response, "location") else {
                return Ok(response);
            };
            let next = resolve_location(&call.url, &location);
            if next.starts_with("http://") {
                let authority = url_authority(&next).unwrap_or_default();
                if !self.plain_http_allowed(authority) {
                    return Err(Error::PlainHttpRefused {
                        host: host.name.clone(),
                        url: next.split('?').next().unwrap_or(&next).to_string(),
                    });
                }
            }
            call.url = next;
            call.method = method.clone();
            response = self.send(host, call_clone_empty(&call))?;
        }
        Err(Error::InvalidResponse {
            host: host.name.clone(),
            request: call.describe(),
            reason: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }
}

fn call_clone_empty<'a>(call: &Call<'a>) -> Call<'a> {
    Call {
        method: call.method.clone(),
        url: call.url.clone(),
        headers: call.headers.clone(),
        body: CallBody::Empty,
        scopes: call.scopes.clone(),
        repository: call.repository,
    }
}

/// How a 401 asks to authenticate: Bearer (with a realm) first, then Basic.
fn auth_of(response: &Response<Body>) -> Option<HostAuth> {
    let challenges: Vec<Challenge> = response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(parse_challenges)
        .collect();
    if let Some(bearer) = challenges
        .iter()
        .find(|c| c.is_bearer() && c.param("realm").is_some())
    {
        return Some(HostAuth::Bearer {
            realm: bearer.param("realm").unwrap_or_default().to_string(),
            service: bearer.param("service").map(str::to_string),
        });
    }
    challenges
        .iter()
        .any(Challenge::is_basic)
        .then_some(HostAuth::Basic)
}

/// The scopes a 401's challenge asks for (`scope="repository:a:pull repository:b:pull"`).
fn challenge_scopes(response: &Response<Body>) -> Scopes {
    let mut scopes = Scopes::none();
    for challenge in response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(parse_challenges)
        .filter(Challenge::is_bearer)
    {
        for scope in challenge.param("scope").unwrap_or_default().split(' ') {
            let Some((kind, rest)) = scope.split_once(':') else {
                continue;
            };
            let Some((name, actions)) = rest.rsplit_once(':') else {
                continue;
            };
            if kind == "repository" && !name.is_empty() {
                let actions: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
                scopes = scopes.with(name, &actions);
            }
        }
    }
    scopes
}

pub(crate) fn transient_status(status: u16) -> bool {
    status == 429 || (500..=599).contains(&status)
}

pub(crate) fn header(response: &Response<Body>, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn transport(host: &str, cause: String) -> Error {
    Error::Transport {
        host: host.to_string(),
        cause,
    }
}

/// `host[:port]` of an `http(s)://` URL.
pub(crate) fn url_authority(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    // Never a user-info part: it would be a credential in a URL.
    Some(authority.rsplit('@').next().unwrap_or(authority))
}

/// A `Location` header resolved against the URL it answered.
pub(crate) fn resolve_location(base_url: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_string();
    }
    let scheme = base_url.split("://").next().unwrap_or("https");
    if let Some(rest) = location.strip_prefix("//") {
        return format!("{scheme}://{rest}");
    }
    let authority = url_authority(base_url).unwrap_or_default();
    if location.starts_with('/') {
        format!("{scheme}://{authority}{location}")
    } else {
        let path_end = base_url.rfind('/').unwrap_or(base_url.len());
        format!("{}/{location}", &base_url[..path_end])
    }
}

/// `url` with `key=value` added to its query.
pub(crate) fn with_query(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{sep}{key}={}",
        utf8_percent_encode(value, NON_ALPHANUMERIC)
    )
}

fn strip_port(host: &str) -> &str {
    if host.parse::<IpAddr>().is_ok() {
        return host;
    }
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Reads a small body (a token, a manifest, an error) up to `limit` bytes.
pub(crate) fn read_small(response: Response<Body>, host: &str, limit: u64) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| map_io(host, e))?;
    if bytes.len() as u64 > limit {
        return Err(Error::TooLarge {
            what: format!("a response from registry {host}"),
            limit,
        });
    }
    Ok(bytes)
}

/// The registry's explanation of an error answer: the distribution error
/// codes and messages, else the first line of the body, on one line.
pub(crate) fn error_detail(response: Response<Body>) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<One>,
    }
    #[derive(serde::Deserialize)]
    struct One {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let status = response.status();
    let mut bytes = Vec::new();
    let _ = response
        .into_body()
        .into_reader()
        .take(64 << 10)
        .read_to_end(&mut bytes);
    let text = match serde_json::from_slice::<Errors>(&bytes) {
        Ok(e) if !e.errors.is_empty() => e
            .errors
            .iter()
            .map(|e| match (e.code.is_empty(), e.message.is_empty()) {
                (false, false) => format!("{}: {}", e.code, e.message),
                (false, true) => e.code.clone(),
                _ => e.message.clone(),
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or_default()
            .to_string(),
    };
    let text: String = text.chars().filter(|c| !c.is_control()).take(300).collect();
    if text.is_empty() {
        status.to_string()
    } else {
        text
    }
}

/// A non-success answer as an error.
pub(crate) fn status_error(
    host: &Host,
    call_desc: String,
    what: &str,
    response: Response<Body>,
) -> Error {
    let status = response.status().as_u16();
    // A 401 or 403 says why in its challenge (`error="insufficient_scope"`),
    // which is all a HEAD answer has.
    let challenge_error = response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(parse_challenges)
        .find_map(|c| c.param("error").map(str::to_string));
    let mut detail = error_detail(response);
    if let Some(reason) = challenge_error.filter(|r| !detail.contains(r.as_str())) {
        detail = format!("{detail} ({reason})");
    }
    let host = host.name.clone();
    match status {
        401 => Error::Unauthorized { host, detail },
        403 => Error::Denied { host, detail },
        404 => Error::NotFound {
            host,
            what: what.to_string(),
            detail,
        },
        _ => Error::Status {
            host,
            request: call_desc,
            status,
            detail,
        },
    }
}

/// A ureq failure as this crate's error, naming the host and the cause.
pub(crate) fn map_ureq(host: &str, error: ureq::Error) -> Error {
    let host = host.to_string();
    match error {
        ureq::Error::Io(e) => map_io(&host, e),
        ureq::Error::Timeout(t) => Error::Timeout {
            host,
            cause: format!("{t}"),
        },
        ureq::Error::HostNotFound => Error::Connect {
            host,
            cause: "host not found".into(),
        },
        ureq::Error::ConnectionFailed => Error::Connect {
            host,
            cause: "connection failed".into(),
        },
        ureq::Error::Rustls(e) => Error::Tls {
            host,
            cause: e.to_string(),
        },
        ureq::Error::Tls(e) => Error::Tls {
            host,
            cause: e.to_string(),
        },
        ureq::Error::BodyExceedsLimit(limit) => Error::TooLarge {
            what: format!("a response from registry {host}"),
            limit,
        },
        other => Error::Transport {
            host,
            cause: other.to_string(),
        },
    }
}

/// An I/O failure on a registry connection, classified: refused,
/// timed out, dropped, or (inside ureq) a TLS or protocol error.
pub(crate) fn map_io(host: &str, error: io::Error) -> Error {
    use io::ErrorKind as K;
    if let Some(inner) = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<ureq::Error>())
    {
        // ureq wraps its own errors in io::Error on the body path.
        let kind = error.kind();
        let owned = match inner {
            ureq::Error::Io(e) => Some(io::Error::new(e.kind(), e.to_string())),
            _ => None,
        };
        if let Some(e) = owned {
            return map_io(host, e);
        }
        return match inner {
            ureq::Error::Timeout(t) => Error::Timeout {
                host: host.to_string(),
                cause: t.to_string(),
            },
            ureq::Error::Rustls(e) => Error::Tls {
                host: host.to_string(),
                cause: e.to_string(),
            },
            _ if kind == K::UnexpectedEof => Error::Dropped {
                host: host.to_string(),
                cause: inner.to_string(),
            },
            _ => Error::Transport {
                host: host.to_string(),
                cause: inner.to_string(),
            },
        };
    }
    if let Some(tls) = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        return Error::Tls {
            host: host.to_string(),
            cause: tls.to_string(),
        };
    }
    let host = host.to_string();
    let cause = error.to_string();
    match error.kind() {
        K::ConnectionRefused | K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable => {
            Error::Connect { host, cause }
        }
        K::TimedOut | K::WouldBlock => Error::Timeout { host, cause },
        K::ConnectionReset
        | K::ConnectionAborted
        | K::BrokenPipe
        | K::UnexpectedEof
        | K::NotConnected => Error::Dropped { host, cause },
        _ => Error::Transport { host, cause },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_table() {
        let client = Client::new(
            ClientOptions::default()
                .credential_store(CredentialStore::empty())
                .insecure_registries(vec!["reg.lan:5000".into(), "other.lan".into()]),
        );
        for (host, allowed) in [
            ("127.0.0.1:5000", true),
            ("127.8.9.1", true),
            ("localhost:5000", true),
            ("LOCALHOST", true),
            ("[::1]:5000", true),
            ("::1", true),
            ("reg.lan:5000", true),
            ("reg.lan:5001", false),
            ("other.lan:443", true),
            ("10.0.0.1:5000", false),
            ("128.0.0.1", false),
            ("localhost.evil.com", false),
            ("registry-1.docker.io", false),
        ] {
            assert_eq!(client.plain_http_allowed(host), allowed, "{host}");
        }
    }

    #[test]
    fn location_table() {
        let base = "https://r:5000/v2/a/blobs/uploads/";
        for (loc, want) in [
            (
                "/v2/a/blobs/uploads/u?_state=x",
                "https://r:5000/v2/a/blobs/uploads/u?_state=x",
            ),
            (
                "https://s3.example/bucket/x?sig=1",
                "https://s3.example/bucket/x?sig=1",
            ),
            ("//cdn.example/x", "https://cdn.example/x"),
            ("u1", "https://r:5000/v2/a/blobs/uploads/u1"),
        ] {
            assert_eq!(resolve_location(base, loc), want, "{loc}");
        }
    }

    #[test]
    fn authority_table() {
        for (url, want) in [
            ("https://h:1/x", Some("h:1")),
            ("http://u:p@h/x", Some("h")),
            ("https://h?x", Some("h")),
            ("h/x", None),
        ] {
            assert_eq!(url_authority(url), want, "{url}");
        }
    }

    #[test]
    fn query_is_encoded() {
        assert_eq!(
            with_query("http://h/u?_state=a", "digest", "sha256:ab"),
            "http://h/u?_state=a&digest=sha256%3Aab"
        );
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let c = Client::new(
            ClientOptions::default()
                .credential_store(CredentialStore::empty())
                .retries(10, Duration::from_millis(100)),
        );
        let got: Vec<u128> = (1..=10).map(|a| c.backoff(a).as_millis()).collect();
        assert_eq!(
            got,
            [100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000, 10000]
        );
    }
}
