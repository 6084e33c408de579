//! Registry credentials: explicit `USER:PASS`, containers' `auth.json` and
//! Docker's `config.json`, with their credential helpers.
//!
//! Hand-written rather than the `docker_credential` crate: that crate runs
//! helpers with `wait_with_output` (no time limit, unbounded output), reads
//! one file at a time, and has no containers-style `host/namespace` keys.
//! The lookup follows containers/image (skopeo, podman):
//!
//! 1. `$REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`;
//! 2. `$XDG_CONFIG_HOME/containers/auth.json` (`~/.config/…`);
//! 3. `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
//!
//! In each file, in this order: `credHelpers[registry]`; the most specific
//! `auths` key (`host/ns/repo`, then `host/ns`, then `host`; keys written as
//! URLs, such as Docker Hub's `https://index.docker.io/v1/`, count by host);
//! then `credsStore`. The first file that knows the registry wins. An explicit
//! `--creds` (given to the client directly) wins over all files.

use std::collections::HashMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::reference::DOCKER_HUB;

/// The largest credentials file read (they hold a few keys).
pub const MAX_AUTH_FILE_BYTES: u64 = 1 << 20;
/// The most a credential helper may print.
pub const MAX_HELPER_OUTPUT_BYTES: u64 = 64 << 10;
/// How long a credential helper may run.
pub const DEFAULT_HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// What a registry is authenticated with.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A user name and password (or a personal access token as password).
    Basic { username: String, password: String },
    /// An identity token (OAuth2 refresh token): Docker's `identitytoken`,
    /// or what a helper returns with the user name `<token>`.
    IdentityToken(String),
}

impl Credentials {
    /// Parses `--creds USER:PASS` (the password may contain `:`).
    pub fn parse_user_pass(text: &str) -> Result<Self> {
        match text.split_once(':') {
            Some((user, pass)) if !user.is_empty() => Ok(Credentials::Basic {
                username: user.to_string(),
                password: pass.to_string(),
            }),
            _ => Err(Error::Credentials {
                source_name: "--creds".into(),
                reason: "expected USER:PASSWORD".into(),
            }),
        }
    }

    pub(crate) fn basic_header(&self) -> Option<String> {
        match self {
            Credentials::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            Credentials::IdentityToken(_) => None,
        }
    }
}

// Never print a secret, even in debug output.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Basic { username, .. } => {
                write!(
                    f,
                    "Basic {{ username: {username:?}, password: <redacted> }}"
                )
            }
            Credentials::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
        }
    }
}

/// Where credentials are looked up: an ordered list of auth files.
#[derive(Clone, Debug)]
pub struct CredentialStore {
    files: Vec<PathBuf>,
    helper_timeout: Duration,
    helper_dirs: Option<Vec<PathBuf>>,
}

impl CredentialStore {
    /// The files containers/image and Docker read, from the environment.
    pub fn from_env() -> Self {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let home = env("HOME");
        let mut files = Vec::new();
        if let Some(file) = env("REGISTRY_AUTH_FILE") {
            files.push(file);
        } else if let Some(run) = env("XDG_RUNTIME_DIR") {
            files.push(run.join("containers/auth.json"));
        }
        if let Some(config) =
            env("XDG_CONFIG_HOME").or_else(|| home.as_ref().map(|h| h.join(".config")))
        {
            files.push(config.join("containers/auth.json"));
        }
        if let Some(docker) =
            env("DOCKER_CONFIG").or_else(|| home.as_ref().map(|h| h.join(".docker")))
        {
            files.push(docker.join("config.json"));
        }
        CredentialStore::with_files(files)
    }

    /// Exactly these files, in this order (missing ones are skipped).
    pub fn with_files(files: Vec<PathBuf>) -> Self {
        CredentialStore {
            files,
            helper_timeout: DEFAULT_HELPER_TIMEOUT,
            helper_dirs: None,
        }
    }

    /// No credentials from anywhere.
    pub fn empty() -> Self {
        CredentialStore::with_files(Vec::new())
    }

    /// How long a credential helper may run before it is killed.
    pub fn helper_timeout(mut self, timeout: Duration) -> Self {
        self.helper_timeout = timeout;
        self
    }

    /// Look for `docker-credential-*` helpers only in these directories
    /// (default: `PATH`).
    pub fn helper_dirs(mut self, dirs: Vec<PathBuf>) -> Self {
        self.helper_dirs = Some(dirs);
        self
    }

    /// The files consulted, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The credentials for `repository` on `registry` (as references name
    /// it, e.g. `docker.io`), or `None` when no file knows the registry.
    pub fn lookup(&self, registry: &str, repository: &str) -> Result<Option<Credentials>> {
        for file in &self.files {
            let Some(config) = read_auth_file(file)? else {
                continue;
            };
            if let Some(found) = self.lookup_in(&config, file, registry, repository)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    fn lookup_in(
        &self,
        config: &AuthFile,
        file: &Path,
        registry: &str,
        repository: &str,
    ) -> Result<Option<Credentials>> {
        let registry = normalize_registry(registry);
        if let Some(helper) = config
            .cred_helpers
            .iter()
            .find(|(k, _)| normalize_key(k) == registry)
            .map(|(_, v)| v)
        {
            return self.run_helper(helper, &registry);
        }
        let entries: HashMap<String, &AuthEntry> = config
            .auths
            .iter()
            .map(|(k, v)| (normalize_key(k), v))
            .collect();
        let full = format!("{registry}/{repository}");
        let mut key = full.as_str();
        loop {
            if let Some(entry) = entries.get(key)
                && let Some(credentials) = entry.credentials(file, key)?
            {
                return Ok(Some(credentials));
            }
            match key.rsplit_once('/') {
                Some((parent, _)) => key = parent,
                None => break,
            }
        }
        match config.creds_store.as_deref() {
            Some(store) if !store.is_empty() => self.run_helper(store, &registry),
            _ => Ok(None),
        }
    }
}

#[derive(Deserialize, Default)]
struct AuthFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: HashMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

impl AuthEntry {
    fn credentials(&self, file: &Path, key: &str) -> Result<Option<Credentials>> {
        if let Some(token) = self.identitytoken.as_deref().filter(|t| !t.is_empty()) {
            return Ok(Some(Credentials::IdentityToken(token.to_string())));
        }
        if let Some(auth) = self.auth.as_deref().filter(|a| !a.is_empty()) {
            let bad = |reason: &str| Error::Credentials {
                source_name: file.display().to_string(),
                reason: format!("auths[{key:?}].auth {reason}"),
            };
            let decoded = base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT
                .decode(auth.trim())
                .map_err(|_| bad("is not base64"))?;
            let decoded = String::from_utf8(decoded).map_err(|_| bad("is not UTF-8"))?;
            let (username, password) = decoded
                .split_once(':')
                .ok_or_else(|| bad("is not USER:PASSWORD"))?;
            return Ok(Some(Credentials::Basic {
                username: username.to_string(),
                password: password.to_string(),
            }));
        }
        match (&self.username, &self.password) {
            (Some(u), Some(p)) if !u.is_empty() => Ok(Some(Credentials::Basic {
                username: u.clone(),
                password: p.clone(),
            })),
            _ => Ok(None),
        }
    }
}

fn read_auth_file(path: &Path) -> Result<Option<AuthFile>> {
    let bad = |reason: String| Error::Credentials {
        source_name: path.display().to_string(),
        reason,
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(e.to_string())),
    };
    let mut bytes = Vec::new();
    file.take(MAX_AUTH_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(e.to_string()))?;
    if bytes.len() as u64 > MAX_AUTH_FILE_BYTES {
        return Err(bad(format!("larger than {MAX_AUTH_FILE_BYTES} bytes")));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Some(AuthFile::default()));
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| bad(format!("not a credentials file: {e}")))
}

/// Docker Hub under all its names.
fn normalize_registry(registry: &str) -> String {
    match registry {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => DOCKER_HUB.into(),
        other => other.to_string(),
    }
}

/// An `auths`/`credHelpers` key in its canonical form: a key written as a
/// URL counts by its host (Docker's rule); a bare key keeps its path
/// (containers' `host/namespace` keys).
fn normalize_key(key: &str) -> String {
    let trimmed = key.trim_end_matches('/');
    let key = match trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
    {
        Some(rest) => rest.split('/').next().unwrap_or(rest),
        None => trimmed,
    };
    match key.split_once('/') {
        Some((host, path)) => format!("{}/{path}", normalize_registry(host)),
        None => normalize_registry(key),
    }
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

impl CredentialStore {
    fn run_helper(&self, name: &str, registry: &str) -> Result<Option<Credentials>> {
        let program = format!("docker-credential-{name}");
        let path = match &self.helper_dirs {
            None => PathBuf::from(&program),
            Some(dirs) => dirs
                .iter()
                .map(|d| d.join(&program))
                .find(|p| p.is_file())
                .unwrap_or_else(|| PathBuf::from("/nonexistent").join(&program)),
        };
        run_helper(name, &path, registry, self.helper_timeout)
    }
}

/// Runs `docker-credential-NAME get` with the server on stdin: bounded
/// output, killed after `timeout`. A helper that does not know the server
/// ("credentials not found") gives `None`.
fn run_helper(
    name: &str,
    path: &Path,
    registry: &str,
    timeout: Duration,
) -> Result<Option<Credentials>> {
    let program = format!("docker-credential-{name}");
    let fail = |reason: String| Error::Credentials {
        source_name: program.clone(),
        reason,
    };
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(fail(format!("invalid helper name {name:?}")));
    }
    // Docker stores Hub credentials under its v1 URL; helpers expect it.
    let server = if registry == DOCKER_HUB {
        "https://index.docker.io/v1/".to_string()
    } else {
        registry.to_string()
    };
    let mut child = Command::new(path)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => fail("not found on PATH".into()),
            _ => fail(e.to_string()),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading closes the pipe: not an error
        // by itself, its exit status says what happened.
        let _ = stdin.write_all(server.as_bytes());
    }
    // Each pipe is read on its own thread, at most the limit plus one byte;
    // a helper that prints more is killed rather than left blocked.
    let overflow = Arc::new(AtomicBool::new(false));
    let bounded = |pipe: Option<Box<dyn Read + Send>>| {
        let overflow = overflow.clone();
        std::thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(pipe) = pipe {
                let _ = pipe.take(MAX_HELPER_OUTPUT_BYTES + 1).read_to_end(&mut out);
            }
            if out.len() as u64 > MAX_HELPER_OUTPUT_BYTES {
                overflow.store(true, Ordering::Relaxed);
            }
            out
        })
    };
    let stdout = bounded(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = bounded(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait().map_err(|e| fail(e.to_string()))? {
            Some(status) => break status,
            None if overflow.load(Ordering::Relaxed) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!(
                    "printed more than {MAX_HELPER_OUTPUT_BYTES} bytes"
                )));
            }
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!("no answer within {timeout:?}")));
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if stdout.len() as u64 > MAX_HELPER_OUTPUT_BYTES {
        return Err(fail(format!(
            "printed more than {MAX_HELPER_OUTPUT_BYTES} bytes"
        )));
    }
    let text = String::from_utf8_lossy(&stdout);
    if !status.success() {
        if text.to_ascii_lowercase().contains("credentials not found") {
            return Ok(None);
        }
        let said = [text.trim(), String::from_utf8_lossy(&stderr).trim()]
            .into_iter()
            .find(|s| !s.is_empty())
            .and_then(|s| s.lines().next())
            .unwrap_or("")
            .chars()
            .take(200)
            .collect::<String>();
        return Err(fail(format!("failed ({status}): {said}")));
    }
    let answer: HelperAnswer =
        serde_json::from_str(&text).map_err(|e| fail(format!("invalid answer: {e}")))?;
    Ok(Some(if answer.username == "<token>" {
        Credentials::IdentityToken(answer.secret)
    } else {
        Credentials::Basic {
            username: answer.username,
            password: answer.secret,
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_key_table() {
        for (key, want) in [
            ("https://index.docker.io/v1/", "docker.io"),
            ("index.docker.io", "docker.io"),
            ("docker.io", "docker.io"),
            ("http://127.0.0.1:5000", "127.0.0.1:5000"),
            ("https://reg.example/v2/", "reg.example"),
            ("quay.io/org/repo", "quay.io/org/repo"),
            ("quay.io/org/", "quay.io/org"),
        ] {
            assert_eq!(normalize_key(key), want, "{key}");
        }
    }

    #[test]
    fn user_pass_table() {
        assert_eq!(
            Credentials::parse_user_pass("u:p:q").unwrap(),
            Credentials::Basic {
                username: "u".into(),
                password: "p:q".into()
            }
        );
        assert!(Credentials::parse_user_pass("nouser").is_err());
        assert!(Credentials::parse_user_pass(":p").is_err());
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credentials::parse_user_pass("alice:s3cret").unwrap();
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(!format!("{:?}", Credentials::IdentityToken("tok".into())).contains("tok"));
    }
}
