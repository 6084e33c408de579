//! Blobs: streamed pulls checked at EOF, existence checks, and pushes
//! (skip when present, cross-repository mount, monolithic or chunked
//! upload, restarted from a re-opened source on transient failures).

use std::io::{self, Read};

use sha2::{Digest as _, Sha256};
use ureq::http::Method;

use crate::auth::Scopes;
use crate::client::{
    Call, CallBody, Client, Host, header, map_io, read_small, resolve_location, status_error,
    with_query,
};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::reference::Repository;

/// A blob being read from a registry. Yields the bytes as they arrive and
/// fails the read that reaches the end if their sha256 is not the digest
/// asked for, or their count is not the expected size. Errors are
/// `io::Error`s carrying an [`Error`] ([`Error::from_io`] gets it back).
pub struct BlobReader {
    inner: Box<dyn Read + Send>,
    hasher: Sha256,
    read: u64,
    expected_size: Option<u64>,
    content_length: Option<u64>,
    digest: Digest,
    what: String,
    host: String,
    done: bool,
}

impl BlobReader {
    /// The size the registry announced (`Content-Length`), if any.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// How many bytes were read so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    /// The digest the bytes are checked against.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    fn finish(&mut self) -> io::Result<()> {
        self.done = true;
        let expected = self.expected_size.or(self.content_length);
        if let Some(expected) = expected
            && expected != self.read
        {
            return Err(Error::SizeMismatch {
                what: self.what.clone(),
                expected,
                actual: self.read,
            }
            .into_io());
        }
        let actual = Digest::from_hasher(std::mem::take(&mut self.hasher));
        if actual != self.digest {
            return Err(Error::DigestMismatch {
                what: self.what.clone(),
                expected: self.digest.to_string(),
                actual: actual.to_string(),
            }
            .into_io());
        }
        Ok(())
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        match self.inner.read(buf) {
            Ok(0) => self.finish().map(|()| 0),
            Ok(n) => {
                self.read += n as u64;
                if let Some(expected) = self.expected_size
                    && self.read > expected
                {
                    self.done = true;
                    return Err(Error::SizeMismatch {
                        what: self.what.clone(),
                        expected,
                        actual: self.read,
                    }
                    .into_io());
                }
                self.hasher.update(&buf[..n]);
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                self.done = true;
                let of = match self.expected_size.or(self.content_length) {
                    Some(total) => format!("{} of {total}", self.read),
                    None => self.read.to_string(),
                };
                let error = match map_io(&self.host, e) {
                    Error::Dropped { host, cause } => Error::Dropped {
                        host,
                        cause: format!("{cause}, while reading {} after {of} bytes", self.what),
                    },
                    Error::Timeout { host, cause } => Error::Timeout {
                        host,
                        cause: format!("{cause}, while reading {} after {of} bytes", self.what),
                    },
                    Error::Transport { host, cause } => Error::Transport {
                        host,
                        cause: format!("{cause}, while reading {} after {of} bytes", self.what),
                    },
                    other => other,
                };
                Err(error.into_io())
            }
        }
    }
}

/// How a blob came to be in the destination repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushOutcome {
    /// It was there already: nothing was sent.
    Exists,
    /// The registry linked it from the source repository: nothing was sent.
    Mounted,
    /// Its bytes were uploaded (`attempts` ≥ 1 tells how many tries it took).
    Uploaded { attempts: u32 },
}

/// Opens the bytes of a blob being pushed, from the start, each time it is
/// called: a failed upload is restarted with a fresh reader.
pub type OpenBlob<'a> = dyn Fn() -> io::Result<Box<dyn Read + 'a>> + 'a;

impl Client {
    /// Starts reading blob `digest` of `repository`, following redirects to
    /// blob storage (without sending it the registry's credentials). The
    /// reader checks the size (`expected_size` or the `Content-Length`) and
    /// the digest at EOF. Retries cover getting the response; a connection
    /// lost mid-body is the reader's error.
    pub fn get_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        expected_size: Option<u64>,
    ) -> Result<BlobReader> {
        let host = self.host(repository.registry())?;
        let what = format!("blob {digest} of {repository}");
        let call = blob_call(
            &host,
            repository,
            digest,
            Method::GET,
            Scopes::pull(repository.name()),
        );
        let desc = call.describe();
        let response = self.send_following(&host, call)?;
        if !response.status().is_success() {
            return Err(status_error(&host, desc, &what, response));
        }
        let content_length =
            header(&response, "content-length").and_then(|l| l.parse::<u64>().ok());
        if let (Some(len), Some(want)) = (content_length, expected_size)
            && len != want
        {
            return Err(Error::SizeMismatch {
                what,
                expected: want,
                actual: len,
            });
        }
        Ok(BlobReader {
            inner: Box::new(response.into_body().into_reader()),
            hasher: Sha256::new(),
            read: 0,
            expected_size,
            content_length,
            digest: digest.clone(),
            what,
            host: host.name.clone(),
            done: false,
        })
    }

    /// Reads a small blob (an image config) whole, checked, up to `limit` bytes.
    pub fn get_blob_bytes(
        &self,
        repository: &Repository,
        digest: &Digest,
        limit: u64,
    ) -> Result<Vec<u8>> {
        let reader = self.get_blob(repository, digest, None)?;
        if let Some(len) = reader.content_length()
            && len > limit
        {
            return Err(Error::TooLarge {
                what: format!("blob {digest} of {repository}"),
                limit,
            });
        }
        let mut bytes = Vec::new();
        reader
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| io_to_error(e, &format!("blob {digest} of {repository}")))?;
        if bytes.len() as u64 > limit {
            return Err(Error::TooLarge {
                what: format!("blob {digest} of {repository}"),
                limit,
            });
        }
        Ok(bytes)
    }

    /// The size of blob `digest` in `repository`, or `None` when absent.
    pub fn blob_exists(&self, repository: &Repository, digest: &Digest) -> Result<Option<u64>> {
        self.blob_exists_with(repository, digest, Scopes::pull(repository.name()))
    }

    fn blob_exists_with(
        &self,
        repository: &Repository,
        digest: &Digest,
        scopes: Scopes,
    ) -> Result<Option<u64>> {
        let host = self.host(repository.registry())?;
        let call = blob_call(&host, repository, digest, Method::HEAD, scopes);
        let desc = call.describe();
        let response = self.send_following(&host, call)?;
        match response.status().as_u16() {
            200..=299 => Ok(Some(
                header(&response, "content-length")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(0),
            )),
            404 => Ok(None),
            _ => Err(status_error(
                &host,
                desc,
                &format!("blob {digest} of {repository}"),
                response,
            )),
        }
    }

    /// Makes blob `digest` (`size` bytes) present in `repository`:
    ///
    /// 1. nothing is sent if it is there already;
    /// 2. with `mount_from` (a repository on the same registry that has it),
    ///    a cross-repository mount is asked for, with one token covering
    ///    `pull,push` on the destination and `pull` on the source; a 202
    ///    answer (mount refused) continues as an upload in the session it opened;
    /// 3. otherwise the bytes from `open` are uploaded, in one streamed `PUT`
    ///    or in `PATCH` chunks (see [`crate::ClientOptions::chunk_size`]).
    ///
    /// Transient failures (timeouts, dropped connections, 5xx, 429) restart
    /// the upload with a fresh reader from `open`, up to the configured
    /// attempts. The bytes are hashed as they are sent: a source whose bytes
    /// do not match `digest` and `size` fails with [`Error::DigestMismatch`]
    /// or [`Error::SizeMismatch`].
    pub fn push_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        size: u64,
        open: &OpenBlob<'_>,
        mount_from: Option<&Repository>,
    ) -> Result<PushOutcome> {
        let host = self.host(repository.registry())?;
        let mount_from = mount_from.filter(|src| {
            src.api_host() == repository.api_host() && src.name() != repository.name()
        });
        let mut scopes = Scopes::push(repository.name());
        if let Some(src) = mount_from {
            scopes = scopes.with(src.name(), &["pull"]);
        }
        if self
            .blob_exists_with(repository, digest, scopes.clone())?
            .is_some()
        {
            return Ok(PushOutcome::Exists);
        }
        let uploads = format!("{}/v2/{}/blobs/uploads/", host.base, repository.name());
        let mut session = None;
        if let Some(src) = mount_from {
            let url = with_query(
                &with_query(&uploads, "mount", &digest.to_string()),
                "from",
                src.name(),
            );
            let call = Call {
                method: Method::POST,
                url,
                headers: vec![],
                body: CallBody::Empty,
                scopes: scopes.clone(),
                repository: repository.name(),
            };
            let desc = call.describe();
            let response = self.send(&host, call)?;
            match response.status().as_u16() {
                201 => return Ok(PushOutcome::Mounted),
                202 => session = Some(location(&host, &desc, &uploads, &response)?),
                // Not allowed to read the source: upload instead.
                401 | 403 | 404 => {
                    drop(response);
                }
                _ => {
                    return Err(status_error(
                        &host,
                        desc,
                        &format!("repository {repository}"),
                        response,
                    ));
                }
            }
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.upload_once(
                &host,
                repository,
                digest,
                size,
                open,
                &uploads,
                session.take(),
                &scopes,
            );
            match result {
                Ok(()) => return Ok(PushOutcome::Uploaded { attempts: attempt }),
                Err(e) if e.is_transient() && attempt < self.opts.attempts => {
                    self.stats()
                        .retries
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    std::thread::sleep(self.backoff(attempt));
                }
                Err(e) => return Err(e),
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn upload_once(
        &self,
        host: &Host,
        repository: &Repository,
        digest: &Digest,
        size: u64,
        open: &OpenBlob<'_>,
        uploads: &str,
        session: Option<String>,
        scopes: &Scopes,
    ) -> Result<()> {
        let what = format!("blob {digest} for {repository}");
        let call = |method: Method, url: String, headers, body| Call {
            method,
            url,
            headers,
            body,
            scopes: scopes.clone(),
            repository: repository.name(),
        };
        let mut location = match session {
            Some(l) => l,
            None => {
                let c = call(Method::POST, uploads.to_string(), vec![], CallBody::Empty);
                let desc = c.describe();
                let response = self.send(host, c)?;
                if response.status().as_u16() != 202 {
                    return Err(status_error(
                        host,
                        desc,
                        &format!("repository {repository}"),
                        response,
                    ));
                }
                location(host, &desc, uploads, &response)?
            }
        };
        let source = open().map_err(|e| Error::Io {
            what: what.clone(),
            source: e,
        })?;
        let mut hashing = Hashing {
            inner: source,
            hasher: Sha256::new(),
            count: 0,
            limit: 0,
            size,
            failed: None,
        };
        let octets = || vec![("content-type", "application/octet-stream".to_string())];
        let final_put = match self.opts.chunk_size {
            None => {
                let url = with_query(&location, "digest", &digest.to_string());
                let (desc, result) = self.send_stream(
                    host,
                    Method::PUT,
                    url,
                    octets(),
                    &mut hashing,
                    size,
                    scopes,
                    repository,
                );
                let response = result.map_err(|e| local_read_error(e, &mut hashing, &what))?;
                check_sent(&mut hashing, digest, size, &what)?;
                (desc, response)
            }
            Some(chunk) => {
                let mut offset = 0u64;
                while offset < size {
                    let len = chunk.min(size - offset);
                    let mut headers = octets();
                    headers.push(("content-range", format!("{}-{}", offset, offset + len - 1)));
                    let (desc, result) = self.send_stream(
                        host,
                        Method::PATCH,
                        location.clone(),
                        headers,
                        &mut hashing,
                        len,
                        scopes,
                        repository,
                    );
                    let response = result.map_err(|e| local_read_error(e, &mut hashing, &what))?;
                    if response.status().as_u16() != 202 {
                        return Err(status_error(
                            host,
                            desc,
                            &format!("upload to {repository}"),
                            response,
                        ));
                    }
                    location = self::location(host, &desc, &location, &response)?;
                    offset += len;
                }
                check_sent(&mut hashing, digest, size, &what)?;
                let url = with_query(&location, "digest", &digest.to_string());
                let c = call(Method::PUT, url, vec![], CallBody::Empty);
                let desc = c.describe();
                (desc, self.send(host, c)?)
            }
        };
        let (desc, response) = final_put;
        if response.status().as_u16() != 201 {
            return Err(status_error(
                host,
                desc,
                &format!("upload to {repository}"),
                response,
            ));
        }
        if let Some(said) = header(&response, "docker-content-digest")
            && said.starts_with("sha256:")
            && said != digest.to_string()
        {
            return Err(Error::DigestMismatch {
                what: format!("{what} as stored"),
                expected: digest.to_string(),
                actual: said,
            });
        }
        // Drain what is left so the connection can be reused.
        let _ = read_small(response, &host.name, 64 << 10);
        Ok(())
    }
}

impl Client {
    /// Sends `len` bytes of `source` as the body of one request.
    #[allow(clippy::too_many_arguments)]
    fn send_stream(
        &self,
        host: &Host,
        method: Method,
        url: String,
        headers: Vec<(&'static str, String)>,
        source: &mut Hashing<'_>,
        len: u64,
        scopes: &Scopes,
        repository: &Repository,
    ) -> (String, Result<ureq::http::Response<ureq::Body>>) {
        source.limit = source.count + len;
        let call = Call {
            method,
            url,
            headers,
            body: CallBody::Stream(source, len),
            scopes: scopes.clone(),
            repository: repository.name(),
        };
        let desc = call.describe();
        (desc, self.send(host, call))
    }
}

fn blob_call<'a>(
    host: &Host,
    repository: &'a Repository,
    digest: &Digest,
    method: Method,
    scopes: Scopes,
) -> Call<'a> {
    Call {
        method,
        url: format!("{}/v2/{}/blobs/{digest}", host.base, repository.name()),
        headers: vec![],
        body: CallBody::Empty,
        scopes,
        repository: repository.name(),
    }
}

/// The upload session URL of a 202.
fn location(
    host: &Host,
    desc: &str,
    base: &str,
    response: &ureq::http::Response<ureq::Body>,
) -> Result<String> {
    let loc = header(response, "location").ok_or_else(|| Error::InvalidResponse {
        host: host.name.clone(),
        request: desc.to_string(),
        reason: "202 without a Location".into(),
    })?;
    let url = resolve_location(base, &loc);
    // An upload session on another host gets no credentials (send_once
    // adds them only for the registry's host); plain HTTP stays refused.
    if url.starts_with("http://") && !host.base.starts_with("http://") {
        return Err(Error::PlainHttpRefused {
            host: host.name.clone(),
            url: url.split('?').next().unwrap_or(&url).to_string(),
        });
    }
    Ok(url)
}

/// Counts and hashes what is read from the local source, and ends each
/// request body at its limit. A source that fails or ends early is recorded
/// as a local failure: it must not be retried as if the network had failed
/// (and ureq would wait forever for the missing bytes of a short body).
struct Hashing<'a> {
    inner: Box<dyn Read + 'a>,
    hasher: Sha256,
    count: u64,
    /// The count at which the current request body ends.
    limit: u64,
    size: u64,
    failed: Option<io::Error>,
}

impl Read for Hashing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let remaining = self.limit.saturating_sub(self.count);
        if remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let max = buf
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        match self.inner.read(&mut buf[..max]) {
            Ok(0) => {
                let message = format!(
                    "the source ended after {} of {} bytes",
                    self.count, self.size
                );
                self.failed = Some(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    message.clone(),
                ));
                Err(io::Error::new(io::ErrorKind::UnexpectedEof, message))
            }
            Ok(n) => {
                self.hasher.update(&buf[..n]);
                self.count += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                self.failed = Some(io::Error::new(e.kind(), e.to_string()));
                Err(e)
            }
        }
    }
}

/// After a request body was sent: did the source give exactly the blob?
fn check_sent(hashing: &mut Hashing<'_>, digest: &Digest, size: u64, what: &str) -> Result<()> {
    if hashing.count != size {
        return Err(Error::SizeMismatch {
            what: format!("local {what}"),
            expected: size,
            actual: hashing.count,
        });
    }
    // A source longer than `size` is wrong too.
    let mut probe = [0u8; 1];
    if matches!(hashing.inner.read(&mut probe), Ok(n) if n > 0) {
        return Err(Error::SizeMismatch {
            what: format!("local {what}"),
            expected: size,
            actual: size + 1,
        });
    }
    let actual = Digest::from_hasher(std::mem::take(&mut hashing.hasher));
    if actual != *digest {
        return Err(Error::DigestMismatch {
            what: format!("local {what}"),
            expected: digest.to_string(),
            actual: actual.to_string(),
        });
    }
    Ok(())
}

/// A request that failed because the *source* failed is a local error,
/// never retried.
fn local_read_error(error: Error, hashing: &mut Hashing<'_>, what: &str) -> Error {
    match hashing.failed.take() {
        Some(source) => Error::Io {
            what: format!("local {what}"),
            source,
        },
        None => error,
    }
}

fn io_to_error(error: io::Error, what: &str) -> Error {
    match Error::from_io(&error) {
        Some(_) => match error.into_inner().map(|e| e.downcast::<Error>()) {
            Some(Ok(e)) => *e,
            _ => Error::Io {
                what: what.to_string(),
                source: io::Error::other("unknown"),
            },
        },
        None => Error::Io {
            what: what.to_string(),
            source: error,
        },
    }
}
