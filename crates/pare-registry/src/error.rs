//! The one error type of the crate: every variant names the registry host
//! (or the file) it concerns and renders as one line a user can act on.

use std::io;
use std::path::PathBuf;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong talking to a registry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not a `HOST/REPO[:TAG|@DIGEST]` reference.
    #[error("invalid image reference {reference:?}: {reason}")]
    InvalidReference { reference: String, reason: String },

    /// A digest that is not `sha256:` and 64 lowercase hex digits.
    #[error("invalid digest {digest:?}: {reason}")]
    InvalidDigest { digest: String, reason: String },

    /// No TCP connection (refused, unknown host, no route).
    #[error("cannot connect to registry {host}: {cause}")]
    Connect { host: String, cause: String },

    /// The TLS handshake failed (unknown issuer, wrong name, expired).
    #[error("TLS with registry {host} failed: {cause}")]
    Tls { host: String, cause: String },

    /// Nothing arrived in time.
    #[error("registry {host} timed out ({cause})")]
    Timeout { host: String, cause: String },

    /// The connection broke off in the middle of an exchange.
    #[error("registry {host} dropped the connection ({cause})")]
    Dropped { host: String, cause: String },

    /// Another HTTP-level failure (bad response, protocol error).
    #[error("talking to registry {host} failed: {cause}")]
    Transport { host: String, cause: String },

    /// The host would need plain HTTP, which is only for loopback hosts and
    /// the ones the caller lists as insecure.
    #[error(
        "registry {host}: refusing plain HTTP to {url} (allowed only for loopback hosts and --insecure-registry)"
    )]
    PlainHttpRefused { host: String, url: String },

    /// The credentials were refused, or there were none where some are needed.
    #[error("registry {host}: authentication required or refused: {detail}")]
    Unauthorized { host: String, detail: String },

    /// Authenticated, but not allowed.
    #[error("registry {host}: access denied: {detail}")]
    Denied { host: String, detail: String },

    /// A repository, tag, manifest or blob the registry does not have.
    #[error("registry {host}: {what} not found ({detail})")]
    NotFound {
        host: String,
        what: String,
        detail: String,
    },

    /// A status the protocol does not expect at this point.
    #[error("registry {host}: {request} answered {status}: {detail}")]
    Status {
        host: String,
        request: String,
        status: u16,
        detail: String,
    },

    /// A response that breaks the protocol (bad JSON, missing header).
    #[error("registry {host}: invalid response to {request}: {reason}")]
    InvalidResponse {
        host: String,
        request: String,
        reason: String,
    },

    /// Content whose sha256 is not the digest it was asked for by.
    #[error("{what}: content digest is {actual}, expected {expected}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },

    /// Content whose size is not the one its descriptor gives.
    #[error("{what}: {actual} bytes, expected {expected}")]
    SizeMismatch {
        what: String,
        expected: u64,
        actual: u64,
    },

    /// A response larger than this crate accepts for its kind.
    #[error("{what} is larger than the {limit}-byte limit")]
    TooLarge { what: String, limit: u64 },

    /// A credentials file or helper that could not be used.
    #[error("credentials from {source_name}: {reason}")]
    Credentials { source_name: String, reason: String },

    /// A certificate directory that could not be used.
    #[error("certificate directory {}: {reason}", path.display())]
    CertDir { path: PathBuf, reason: String },

    /// Reading the local bytes of a blob being pushed failed.
    #[error("reading {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// Whether trying again later may succeed: timeouts, dropped
    /// connections, 5xx and 429 answers.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Timeout { .. } | Error::Dropped { .. } => true,
            Error::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// The error carried by an `io::Error` from a [`crate::BlobReader`], if
    /// it is one of this crate's.
    pub fn from_io(error: &io::Error) -> Option<&Error> {
        error.get_ref()?.downcast_ref::<Error>()
    }

    pub(crate) fn into_io(self) -> io::Error {
        let kind = match &self {
            Error::DigestMismatch { .. } | Error::SizeMismatch { .. } => io::ErrorKind::InvalidData,
            Error::Timeout { .. } => io::ErrorKind::TimedOut,
            Error::Dropped { .. } => io::ErrorKind::ConnectionAborted,
            Error::TooLarge { .. } => io::ErrorKind::InvalidData,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, self)
    }
}
