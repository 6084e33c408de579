//! The one error type of this crate.
//!
//! Every variant carries enough context to become a single clear line for the
//! user: *what* went wrong and *where* (which blob, which layer, which entry).

use std::io;

/// Everything that can go wrong while reading or writing an image.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An operating-system error while touching `path`.
    /// (The io::Error is part of the message, not a `source`, so the
    /// one-line report does not repeat it.)
    #[error("{path}: {error}")]
    Io { path: String, error: io::Error },
    /// A file the image's metadata refers to is not there.
    #[error("{what}: missing from the image")]
    Missing { what: String },
    /// The input is not what its format says it must be.
    #[error("{context}: {message}")]
    Malformed { context: String, message: String },
    /// A blob's bytes do not hash to the digest its descriptor promises.
    #[error("blob {blob}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        blob: String,
        expected: String,
        actual: String,
    },
    /// A blob is shorter or longer than its descriptor promises.
    #[error("blob {blob}: size mismatch: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        blob: String,
        expected: u64,
        actual: u64,
    },
    /// A path in the input points outside the image or the archive.
    #[error("{context}: path {path:?} escapes the root")]
    Escape { context: String, path: String },
    /// The input is valid but uses something pare does not handle.
    #[error("{context}: unsupported: {message}")]
    Unsupported { context: String, message: String },
    /// An image reference could not be understood.
    #[error("bad image reference {reference:?}: {message}")]
    Reference { reference: String, message: String },
    /// The input goes over one of the [`crate::limits::Limits`].
    #[error(
        "{context}: {found}, over the {limit} limit of {max} (raise it with --limits {limit}=N)"
    )]
    Limit {
        context: String,
        limit: &'static str,
        found: u64,
        max: u64,
    },
    /// The destination cannot be written.
    #[error("{path}: {message}")]
    Destination { path: String, message: String },
    /// Something that must be a regular file is not (a FIFO, a device, a
    /// symlink …); refused without reading from it, so it cannot block.
    #[error("{path} is a {kind}, not a regular file")]
    NotRegularFile { path: String, kind: &'static str },
    /// The Docker Engine could not be reached, or refused a save or a load.
    #[error(transparent)]
    Daemon(#[from] pare_daemon::Error),
    /// A registry could not be reached, refused a request, or sent a blob
    /// or manifest that does not match its digest.
    #[error(transparent)]
    Registry(#[from] pare_registry::Error),
}

impl Error {
    pub(crate) fn io(path: impl std::fmt::Display, source: io::Error) -> Self {
        // A verification failure travels through `io::Read` as an io::Error;
        // unwrap it so the user sees the blob, not a generic read error.
        if source
            .get_ref()
            .is_some_and(|e| e.is::<pare_registry::Error>())
        {
            let inner = source.into_inner().expect("checked above");
            return Error::Registry(*inner.downcast().expect("checked above"));
        }
        match source.get_ref().and_then(|e| e.downcast_ref::<Error>()) {
            Some(_) => *source
                .into_inner()
                .and_then(|e| e.downcast::<Error>().ok())
                .expect("checked above"),
            None => Error::Io {
                path: path.to_string(),
                error: source,
            },
        }
    }

    pub(crate) fn malformed(context: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Malformed {
            context: context.into(),
            message: message.into(),
        }
    }

    pub(crate) fn unsupported(context: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Unsupported {
            context: context.into(),
            message: message.into(),
        }
    }
}

/// Shorthand used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
