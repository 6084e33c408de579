//! # pare-registry
//!
//! A blocking client for the OCI distribution API (the `docker://`
//! transport): what pare needs to pull and push images, written on `ureq`.
//!
//! Why not `oci-client` (docs/research/docker-daemon-and-registry.md §3):
//! it is async (tokio) in a synchronous code base; it cannot ask one token
//! for several scopes, so cross-repository mounts fail under token auth; it
//! loses the upload session of a refused mount (202); it has no retries, no
//! re-authentication on 401, no Docker `config.json` credentials, and its
//! TLS errors hide their cause. Everything pare needs is about ten
//! requests, each written here once.
//!
//! * [`Reference`] parses `HOST/REPO[:TAG|@DIGEST]` as Docker does.
//! * [`Client`] pings `/v2/`, follows the Bearer-token flow (one token for
//!   several scopes, cached, renewed once on 401) or basic auth, with
//!   credentials from [`ClientOptions::credentials`] or a
//!   [`CredentialStore`] (`auth.json`, `config.json`, credential helpers).
//! * TLS uses the system's roots plus a certificate directory; plain HTTP
//!   only for loopback hosts and an explicit insecure list.
//! * Manifests are kept as bytes (digests never change) and checked against
//!   their digest; blobs stream through a [`BlobReader`] that checks size
//!   and digest at EOF and never holds a blob in memory.
//! * Pushes skip blobs that exist, mount across repositories, upload in one
//!   streamed `PUT` or in chunks, and restart from a re-opened source on
//!   transient failures (timeouts, dropped connections, 5xx, 429).
//!
//! Every error is an [`Error`] that names the host and renders on one line.
//!
//! ```no_run
//! use pare_registry::{Client, ClientOptions, Reference};
//! use std::io::Read;
//!
//! let client = Client::new(ClientOptions::default());
//! let reference = Reference::parse("127.0.0.1:5000/app:1")?;
//! let manifest = client.get_manifest(&reference)?;
//! println!("{} {}", manifest.media_type, manifest.digest);
//! # let digest = manifest.digest.clone();
//! let mut blob = client.get_blob(reference.repository(), &digest, None)?;
//! std::io::copy(&mut blob, &mut std::io::sink())?;
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```

mod auth;
mod blob;
mod client;
mod credentials;
mod digest;
mod error;
mod manifest;
mod reference;
mod tls;

pub use auth::{Challenge, Scopes, parse_challenges};
pub use blob::{BlobReader, OpenBlob, PushOutcome};
pub use client::{Client, ClientOptions, MAX_SMALL_BODY_BYTES, Stats};
pub use credentials::{
    CredentialStore, Credentials, DEFAULT_HELPER_TIMEOUT, MAX_AUTH_FILE_BYTES,
    MAX_HELPER_OUTPUT_BYTES,
};
pub use digest::Digest;
pub use error::{Error, Result};
pub use manifest::{
    DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, MANIFEST_ACCEPT, MAX_MANIFEST_BYTES, Manifest,
    ManifestHead, OCI_INDEX, OCI_MANIFEST,
};
pub use reference::{DOCKER_HUB, DOCKER_HUB_API, Reference, Repository, api_host};
