//! `pare db update`: download the advisory sources and import them.
//!
//! Each source is downloaded to `cache_dir/NAME.part`:
//!
//! * **resumable**: an existing `.part` is continued with
//!   `Range: bytes=N-` and `If-Range` (the ETag or Last-Modified the part
//!   was started with, kept in `NAME.part.meta`); `206` appends, `200` starts
//!   again from zero. A part without a validator is not resumed: without
//!   `If-Range` a changed file would be spliced onto the old one.
//! * **conditional**: when `NAME` was imported before, `If-None-Match` /
//!   `If-Modified-Since` with its validators (`NAME.meta`, which also holds
//!   the SHA-256 of the `NAME` they describe). They are sent only while
//!   `NAME` still has that digest (the cache is intact). A `304` imports
//!   nothing when the database's `sources` table holds `NAME` with that same
//!   digest; when it does not (the database was deleted, or an older copy
//!   restored), the cached `NAME` is verified and imported again
//!   ([`Outcome::Reimported`]) instead of trusting the validators alone.
//! * **bounded**: an `https://` source is never followed to `http://` (the
//!   agent is HTTPS-only), and each source has an overall deadline
//!   ([`UpdateOptions::deadline`]) across its attempts and their bodies.
//! * **verified**: the length against `Content-Length`/`Content-Range`, the
//!   MD5 in Google Cloud Storage's `x-goog-hash` (osv.dev's exports come
//!   from there), and a zip must open with every member's CRC correct.
//! * **retried**: connection errors, timeouts, cut-off bodies and `5xx`
//!   are retried [`UpdateOptions::retries`] times with doubling backoff; a
//!   cut-off body resumes where it stopped.
//!
//! Then every verified `.part` is renamed to `NAME` and all of them are
//! imported in ONE [`Store::import`], so the database changes atomically:
//! either every downloaded source is in, or (on any error) nothing changed.
//! `NAME.meta` is written only after the import committed, so a failed
//! import is downloaded again next time rather than skipped by a `304`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use sha2::Sha256;

use crate::store::{ImportSummary, Store, StoreError, is_zip, verify_zip};

/// One source to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateSource {
    /// File name in the cache folder (a plain name: no `/`, not hidden).
    pub name: String,
    /// `http://` or `https://`.
    pub url: String,
}

/// osv.dev's whole-ecosystem exports for the ecosystems pare scans, and the
/// Debian security tracker's JSON dump.
pub fn default_sources() -> Vec<UpdateSource> {
    let osv = |ecosystem: &str, name: &str| UpdateSource {
        name: format!("osv-{name}.zip"),
        url: format!("https://osv-vulnerabilities.storage.googleapis.com/{ecosystem}/all.zip"),
    };
    vec![
        osv("PyPI", "pypi"),
        osv("npm", "npm"),
        osv("Go", "go"),
        osv("crates.io", "crates-io"),
        osv("Maven", "maven"),
        osv("Alpine", "alpine"),
        osv("Debian", "debian"),
        UpdateSource {
            name: "debian-tracker.json".into(),
            url: "https://security-tracker.debian.org/tracker/data/json".into(),
        },
    ]
}

/// How downloads behave.
#[derive(Debug, Clone)]
pub struct UpdateOptions {
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of a response.
    pub read_timeout: Duration,
    /// Further attempts after a retryable failure.
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub backoff: Duration,
    /// Largest download accepted.
    pub max_bytes: u64,
    /// Longest time one source may take, all attempts, waits and bodies
    /// together (a server trickling bytes just fast enough to dodge
    /// `read_timeout` would otherwise hold the update for ever).
    pub deadline: Duration,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        UpdateOptions {
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            retries: 3,
            backoff: Duration::from_secs(1),
            max_bytes: 4 << 30,
            deadline: Duration::from_secs(30 * 60),
        }
    }
}

/// What [`update`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateSummary {
    pub sources: Vec<DownloadSummary>,
    /// `None` when nothing was downloaded (every source unchanged).
    pub import: Option<ImportSummary>,
}

/// One source's download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DownloadSummary {
    pub name: String,
    pub url: String,
    /// The cached file.
    pub path: PathBuf,
    pub outcome: Outcome,
}

/// Whether a source was downloaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// `bytes` is the file's size; `resumed_from` the bytes a `.part`
    /// already had (0 for a fresh download).
    Downloaded {
        bytes: u64,
        resumed_from: u64,
        attempts: u32,
    },
    /// The server answered `304 Not Modified` and the database holds the
    /// cached copy.
    NotModified,
    /// The server answered `304 Not Modified` but the database did not hold
    /// the cached copy (deleted, or an older one restored): the cached copy
    /// was verified and imported again.
    Reimported,
}

/// Why an update failed. The database is unchanged whenever one is
/// returned.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("source name {0:?} must be a plain file name")]
    BadName(String),
    #[error("{name} ({url}): {source}")]
    Http {
        name: String,
        url: String,
        #[source]
        source: ureq::Error,
    },
    #[error("{name} ({url}): HTTP status {status}")]
    Status {
        name: String,
        url: String,
        status: u16,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{name} ({url}): gave up after the {}-second deadline for one source; last error: {last}",
        limit.as_secs()
    )]
    Deadline {
        name: String,
        url: String,
        limit: Duration,
        last: String,
    },
    #[error("{name} ({url}): download refused: {reason}")]
    Verify {
        name: String,
        url: String,
        reason: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Validators of a download, kept beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Validators {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    /// Of the downloaded file these validators describe (hex); absent in a
    /// `.part.meta`, and in a `.meta` written by an older pare (then the
    /// cache is not trusted and the source is downloaded again).
    #[serde(default)]
    sha256: Option<String>,
}

impl Validators {
    fn read(path: &Path, url: &str) -> Option<Validators> {
        let bytes = fs::read(path).ok()?;
        serde_json::from_slice::<Validators>(&bytes)
            .ok()
            .filter(|v| v.url == url && (v.etag.is_some() || v.last_modified.is_some()))
    }

    fn write(&self, path: &Path) -> io::Result<()> {
        let json = serde_json::to_vec(self).map_err(io::Error::other)?;
        fs::write(path, json)
    }
}

/// Downloads `sources` into `cache_dir` and imports what changed into the
/// database at `store_path` (created if absent) in one transaction. See the
/// module documentation.
pub fn update(
    store_path: &Path,
    sources: &[UpdateSource],
    cache_dir: &Path,
    options: &UpdateOptions,
) -> Result<UpdateSummary, UpdateError> {
    for s in sources {
        let plain = !s.name.is_empty()
            && !s.name.starts_with('.')
            && !s.name.contains(['/', '\\', '\0'])
            && !s.name.ends_with(".part")
            && !s.name.ends_with(".meta");
        if !plain {
            return Err(UpdateError::BadName(s.name.clone()));
        }
    }
    fs::create_dir_all(cache_dir).map_err(|source| UpdateError::Io {
        path: cache_dir.to_path_buf(),
        source,
    })?;
    // Read-only, and closed before the import opens it for writing. A
    // database that does not open is treated as holding nothing: the import
    // below then says what is wrong with it.
    let existing = Store::open_existing(store_path).ok();
    let mut summaries = Vec::new();
    let mut fresh = Vec::new();
    let mut reimport = Vec::new();
    for source in sources {
        let files = Files::new(cache_dir, &source.name);
        let cached = intact_cache(&files, &source.url);
        let in_store = match (&cached, &existing) {
            (Some(v), Some(store)) => store
                .source(&files.done)?
                .is_some_and(|s| Some(&s.sha256) == v.sha256.as_ref()),
            _ => false,
        };
        let mut outcome = download(source, &files, cached.as_ref(), options)?;
        if let (Outcome::NotModified, None) = &outcome
            && !in_store
        {
            // 304 for a copy the database lacks: import it again if it is
            // still whole, else download it afresh.
            let whole = !is_zip_file(&files.done) || verify_zip(&files.done).is_ok();
            if whole {
                reimport.push(files.clone());
                outcome = (Outcome::Reimported, None);
            } else {
                let io = |source| UpdateError::Io {
                    path: files.meta.clone(),
                    source,
                };
                remove_if_present(&files.meta).map_err(io)?;
                outcome = download(source, &files, None, options)?;
            }
        }
        let (outcome, validators) = outcome;
        if let Some(v) = validators {
            fresh.push((files.clone(), v));
        }
        summaries.push(DownloadSummary {
            name: source.name.clone(),
            url: source.url.clone(),
            path: files.done.clone(),
            outcome,
        });
    }
    drop(existing);
    if fresh.is_empty() && reimport.is_empty() {
        return Ok(UpdateSummary {
            sources: summaries,
            import: None,
        });
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| UpdateError::Io { path, source }
    };
    for (files, _) in &fresh {
        // Forget the old validators first: if the import below fails, the
        // next update must download again rather than get a 304.
        remove_if_present(&files.meta).map_err(io(&files.meta))?;
        fs::rename(&files.part, &files.done).map_err(io(&files.done))?;
        remove_if_present(&files.part_meta).map_err(io(&files.part_meta))?;
    }
    let paths: Vec<PathBuf> = fresh
        .iter()
        .map(|(f, _)| f.done.clone())
        .chain(reimport.iter().map(|f| f.done.clone()))
        .collect();
    let import = Store::open(store_path)?.import(&paths)?;
    // Each file's digest as imported: the next update sends its validators
    // only while the cached file and the database both still have it.
    let digest_of = |files: &Files| -> Result<Option<String>, UpdateError> {
        let location = std::path::absolute(&files.done).map_err(io(&files.done))?;
        let location = location.to_string_lossy();
        Ok(import
            .sources
            .iter()
            .find(|s| s.location == location)
            .map(|s| s.sha256.clone()))
    };
    for (files, validators) in &fresh {
        let v = Validators {
            sha256: digest_of(files)?,
            ..validators.clone()
        };
        v.write(&files.meta).map_err(io(&files.meta))?;
    }
    Ok(UpdateSummary {
        sources: summaries,
        import: Some(import),
    })
}

/// The validators of `files.done` when the cached file still has the digest
/// they were written with.
fn intact_cache(files: &Files, url: &str) -> Option<Validators> {
    let v = Validators::read(&files.meta, url)?;
    let expected = v.sha256.as_deref()?;
    let mut hasher = <Sha256 as sha2::Digest>::new();
    let mut f = File::open(&files.done).ok()?;
    io::copy(&mut f, &mut hasher).ok()?;
    (hex::encode(sha2::Digest::finalize(hasher)) == expected).then_some(v)
}

fn is_zip_file(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && is_zip(&magic)
}

/// The agent for one source: HTTPS-only when the source is `https://`, so
/// that a redirect cannot downgrade it to plain HTTP.
fn agent_for(url: &str, options: &UpdateOptions) -> ureq::Agent {
    let https = url
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .https_only(https)
        .timeout_connect(Some(options.connect_timeout))
        .timeout_recv_response(Some(options.read_timeout))
        .timeout_per_read(Some(options.read_timeout))
        .user_agent(concat!("pare/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

#[derive(Debug, Clone)]
struct Files {
    done: PathBuf,
    meta: PathBuf,
    part: PathBuf,
    part_meta: PathBuf,
}

impl Files {
    fn new(dir: &Path, name: &str) -> Files {
        Files {
            done: dir.join(name),
            meta: dir.join(format!("{name}.meta")),
            part: dir.join(format!("{name}.part")),
            part_meta: dir.join(format!("{name}.part.meta")),
        }
    }
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// One attempt's failure: whether another attempt may succeed.
struct Attempt {
    error: Box<UpdateError>,
    retry: bool,
}

/// Downloads one source with retries, within [`UpdateOptions::deadline`].
/// The validators are `Some` when a new file was downloaded (to be
/// imported), `None` for a 304. `conditional`: the validators of the intact
/// cached copy, sent as `If-None-Match` / `If-Modified-Since`.
fn download(
    source: &UpdateSource,
    files: &Files,
    conditional: Option<&Validators>,
    options: &UpdateOptions,
) -> Result<(Outcome, Option<Validators>), UpdateError> {
    let agent = agent_for(&source.url, options);
    let started = Instant::now();
    let deadline = |last: &dyn std::fmt::Display| UpdateError::Deadline {
        name: source.name.clone(),
        url: source.url.clone(),
        limit: options.deadline,
        last: last.to_string(),
    };
    let mut attempts = 0u32;
    loop {
        let left = options.deadline.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(deadline(&"none"));
        }
        attempts += 1;
        match attempt(&agent, source, files, conditional, left, options) {
            Ok(Some((bytes, resumed_from, validators))) => {
                return Ok((
                    Outcome::Downloaded {
                        bytes,
                        resumed_from,
                        attempts,
                    },
                    Some(validators),
                ));
            }
            Ok(None) => return Ok((Outcome::NotModified, None)),
            Err(Attempt { error, retry }) => {
                if !retry || attempts > options.retries {
                    return Err(*error);
                }
                let factor = 1u32 << (attempts - 1).min(16);
                let wait = options.backoff.saturating_mul(factor);
                let left = options.deadline.saturating_sub(started.elapsed());
                if wait >= left {
                    return Err(deadline(&error));
                }
                std::thread::sleep(wait);
            }
        }
    }
}

type Downloaded = Option<(u64, u64, Validators)>;

fn attempt(
    agent: &ureq::Agent,
    source: &UpdateSource,
    files: &Files,
    conditional: Option<&Validators>,
    time_left: Duration,
    options: &UpdateOptions,
) -> Result<Downloaded, Attempt> {
    let (name, url) = (&source.name, &source.url);
    let fail = |error, retry| Attempt {
        error: Box::new(error),
        retry,
    };
    let io_at = |path: &Path, retry: bool| {
        let path = path.to_path_buf();
        move |source| Attempt {
            error: Box::new(UpdateError::Io { path, source }),
            retry,
        }
    };
    let verify = |reason: String| Attempt {
        error: Box::new(UpdateError::Verify {
            name: name.clone(),
            url: url.clone(),
            reason,
        }),
        retry: false,
    };

    let part_validators = Validators::read(&files.part_meta, url);
    let have = match (&part_validators, fs::metadata(&files.part)) {
        (Some(_), Ok(m)) if m.is_file() => m.len(),
        _ => 0,
    };
    // The body counts too: ureq's global timeout runs until it is read.
    let mut request = agent
        .get(url)
        .config()
        .timeout_global(Some(time_left))
        .build();
    let mut asked_if_changed = false;
    let mut ranged = false;
    if have > 0 {
        let v = part_validators.as_ref();
        let if_range = v.and_then(|v| v.etag.clone().or_else(|| v.last_modified.clone()));
        if let Some(if_range) = if_range {
            request = request
                .header("Range", format!("bytes={have}-"))
                .header("If-Range", if_range);
            ranged = true;
        }
    } else if let Some(v) = conditional {
        if let Some(etag) = &v.etag {
            request = request.header("If-None-Match", etag);
        }
        if let Some(lm) = &v.last_modified {
            request = request.header("If-Modified-Since", lm);
        }
        asked_if_changed = true;
    }

    let response = request.call().map_err(|e| {
        let retry = retryable(&e);
        fail(
            UpdateError::Http {
                name: name.clone(),
                url: url.clone(),
                source: e,
            },
            retry,
        )
    })?;
    let status = response.status().as_u16();
    let header = |h: &str| {
        response
            .headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let status_error = |retry| {
        fail(
            UpdateError::Status {
                name: name.clone(),
                url: url.clone(),
                status,
            },
            retry,
        )
    };
    // (append to the part, the part is already whole)
    let (append, whole) = match status {
        304 if asked_if_changed => return Ok(None),
        200 => (false, false),
        206 if ranged => {
            let start = header("content-range").and_then(|r| content_range(&r).map(|(s, _)| s));
            if start != Some(have) {
                // Not where the part ends: start again.
                let _ = fs::remove_file(&files.part);
                return Err(status_error(true));
            }
            (true, false)
        }
        416 if ranged => {
            // `bytes */TOTAL` equal to the part: it is whole already (an
            // earlier update stopped after it, before the import).
            let total = header("content-range").and_then(|r| {
                r.trim()
                    .strip_prefix("bytes */")
                    .and_then(|t| t.trim().parse::<u64>().ok())
            });
            if total != Some(have) {
                let _ = fs::remove_file(&files.part);
                let _ = fs::remove_file(&files.part_meta);
                return Err(status_error(true));
            }
            (true, true)
        }
        500..=599 => return Err(status_error(true)),
        _ => return Err(status_error(false)),
    };
    let expected_total = if whole {
        Some(have)
    } else if append {
        header("content-range").and_then(|r| content_range(&r).and_then(|(_, total)| total))
    } else {
        header("content-length").and_then(|l| l.trim().parse::<u64>().ok())
    };
    let goog_md5 = response
        .headers()
        .get_all("x-goog-hash")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|h| h.trim().strip_prefix("md5=").map(str::to_owned));
    let validators = if append {
        part_validators.unwrap_or_default()
    } else {
        let v = Validators {
            url: url.clone(),
            etag: header("etag"),
            last_modified: header("last-modified"),
            sha256: None,
        };
        // Before the body: a cut-off download can then resume.
        v.write(&files.part_meta)
            .map_err(io_at(&files.part_meta, false))?;
        v
    };

    if !whole {
        let mut out = OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(&files.part)
            .map_err(io_at(&files.part, false))?;
        let limit = options
            .max_bytes
            .saturating_sub(if append { have } else { 0 });
        let mut body = response
            .into_body()
            .into_with_config()
            .limit(limit)
            .reader();
        let copied = io::copy(&mut body, &mut out);
        out.flush().map_err(io_at(&files.part, false))?;
        drop(out);
        // A cut-off body keeps what arrived; the next attempt resumes it.
        copied.map_err(|e| {
            fail(
                UpdateError::Io {
                    path: files.part.clone(),
                    source: e,
                },
                true,
            )
        })?;
    }

    let len = fs::metadata(&files.part)
        .map_err(io_at(&files.part, false))?
        .len();
    let discard = |reason: String| {
        let _ = fs::remove_file(&files.part);
        let _ = fs::remove_file(&files.part_meta);
        verify(reason)
    };
    if let Some(total) = expected_total {
        if len < total {
            return Err(fail(
                UpdateError::Verify {
                    name: name.clone(),
                    url: url.clone(),
                    reason: format!("{len} of {total} bytes arrived"),
                },
                true,
            ));
        }
        if len > total {
            return Err(discard(format!(
                "{len} bytes, but the server announced {total}"
            )));
        }
    }
    if let Some(expected) = goog_md5 {
        let mut hasher = Md5::new();
        let mut f = File::open(&files.part).map_err(io_at(&files.part, false))?;
        io::copy(&mut f, &mut hasher).map_err(io_at(&files.part, false))?;
        let got = hasher.finalize();
        if base64_decode(&expected).as_deref() != Some(&got[..]) {
            return Err(discard(format!(
                "MD5 differs from the server's x-goog-hash md5={expected}"
            )));
        }
    }
    if is_zip_file(&files.part) {
        verify_zip(&files.part).map_err(|e| discard(e.to_string()))?;
    }
    Ok(Some((len, if append { have } else { 0 }, validators)))
}

fn retryable(e: &ureq::Error) -> bool {
    matches!(
        e,
        ureq::Error::Io(_)
            | ureq::Error::Timeout(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::Protocol(_)
    )
}

/// `bytes START-END/TOTAL` → (START, TOTAL unless `*`).
fn content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (start, _) = range.split_once('-')?;
    let start = start.trim().parse().ok()?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((start, total))
}

/// Standard base64 (with or without padding), as `x-goog-hash` writes it.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.trim().trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_sources_refuse_redirects_to_http() {
        let options = UpdateOptions::default();
        for (url, https_only) in [
            ("https://osv-vulnerabilities.storage.googleapis.com/x", true),
            ("HTTPS://example.org/x", true),
            ("http://127.0.0.1:8080/x", false),
        ] {
            assert_eq!(
                agent_for(url, &options).config().https_only(),
                https_only,
                "{url}"
            );
        }
        assert!(!retryable(&ureq::Error::RequireHttpsOnly(
            "http://x".into()
        )));
    }

    #[test]
    fn content_ranges() {
        for (value, expected) in [
            ("bytes 100-199/200", Some((100, Some(200)))),
            ("bytes 0-0/*", Some((0, None))),
            ("bytes */200", None),
            ("items 1-2/3", None),
            ("bytes x-1/2", None),
        ] {
            assert_eq!(content_range(value), expected, "{value}");
        }
    }

    #[test]
    fn base64() {
        for (s, expected) in [
            ("", Some(&b""[..])),
            ("TWFu", Some(b"Man")),
            ("TWE=", Some(b"Ma")),
            ("TQ==", Some(b"M")),
            // md5 of the empty string
            (
                "1B2M2Y8AsgTpgAmY7PhCfg==",
                Some(
                    &[
                        0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04, 0xe9, 0x80, 0x09, 0x98,
                        0xec, 0xf8, 0x42, 0x7e,
                    ][..],
                ),
            ),
            ("a*b", None),
        ] {
            assert_eq!(base64_decode(s).as_deref(), expected, "{s}");
        }
    }
}
