//! Manifests: GET and HEAD by tag or digest, PUT of raw bytes.
//!
//! Bytes are never re-serialised: the digest of a manifest is the digest of
//! its bytes, so what is pulled is kept byte for byte and what is pushed is
//! exactly what the caller wrote.

use ureq::http::Method;

use crate::auth::Scopes;
use crate::client::{Call, CallBody, Client, header, read_small, status_error};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::reference::Reference;

/// The largest manifest accepted (Docker and containerd use 4 MiB too).
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// The manifest media types asked for, indexes first (a multi-platform
/// image is chosen from by the caller).
pub const MANIFEST_ACCEPT: &[&str] = &[
    OCI_INDEX,
    DOCKER_MANIFEST_LIST,
    OCI_MANIFEST,
    DOCKER_MANIFEST,
];

/// A manifest as the registry holds it.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// The exact bytes (their sha256 is `digest`).
    pub bytes: Vec<u8>,
    /// The media type, from `Content-Type` or else the JSON's `mediaType`.
    pub media_type: String,
    /// The digest of `bytes`, checked against the reference or the
    /// registry's `Docker-Content-Digest`.
    pub digest: Digest,
}

/// What a HEAD of a manifest tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestHead {
    /// `Docker-Content-Digest`, when the registry sent a valid one.
    pub digest: Option<Digest>,
    /// `Content-Type`, without parameters.
    pub media_type: Option<String>,
    /// `Content-Length`.
    pub size: Option<u64>,
}

impl Client {
    fn manifest_call<'a>(
        &self,
        reference: &'a Reference,
        method: Method,
        scopes: Scopes,
    ) -> Call<'a> {
        Call {
            method,
            url: String::new(),
            headers: vec![("accept", MANIFEST_ACCEPT.join(", "))],
            body: CallBody::Empty,
            scopes,
            repository: reference.repository().name(),
        }
    }

    fn manifest_url(base: &str, reference: &Reference) -> String {
        format!(
            "{base}/v2/{}/manifests/{}",
            reference.repository().name(),
            reference.manifest_ref()
        )
    }

    /// Fetches a manifest (or index) by tag or digest, checks its digest and
    /// size. A missing repository or tag is [`Error::NotFound`].
    pub fn get_manifest(&self, reference: &Reference) -> Result<Manifest> {
        let host = self.host(reference.repository().registry())?;
        let mut call = self.manifest_call(
            reference,
            Method::GET,
            Scopes::pull(reference.repository().name()),
        );
        call.url = Self::manifest_url(&host.base, reference);
        let desc = call.describe();
        let response = self.send_following(&host, call)?;
        if !response.status().is_success() {
            return Err(status_error(
                &host,
                desc,
                &format!("manifest {reference}"),
                response,
            ));
        }
        let what = format!("manifest {reference}");
        if let Some(len) = header(&response, "content-length").and_then(|l| l.parse::<u64>().ok())
            && len > MAX_MANIFEST_BYTES
        {
            return Err(Error::TooLarge {
                what,
                limit: MAX_MANIFEST_BYTES,
            });
        }
        let content_type = header(&response, "content-type").map(|t| media_type_of(&t));
        let header_digest = header(&response, "docker-content-digest");
        let bytes = read_small(response, &host.name, MAX_MANIFEST_BYTES).map_err(|e| match e {
            Error::TooLarge { limit, .. } => Error::TooLarge {
                what: what.clone(),
                limit,
            },
            other => other,
        })?;
        let digest = Digest::of(&bytes);
        let expected = match reference.digest() {
            Some(d) => Some(d.to_string()),
            None => header_digest.filter(|d| d.starts_with("sha256:")),
        };
        if let Some(expected) = expected
            && expected != digest.to_string()
        {
            return Err(Error::DigestMismatch {
                what,
                expected,
                actual: digest.to_string(),
            });
        }
        let media_type = content_type
            .filter(|t| MANIFEST_ACCEPT.contains(&t.as_str()))
            .or_else(|| sniff_media_type(&bytes))
            .ok_or_else(|| Error::InvalidResponse {
                host: host.name.clone(),
                request: desc,
                reason: "a manifest without a known media type".into(),
            })?;
        Ok(Manifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// HEADs a manifest: `None` when the registry does not have it.
    pub fn head_manifest(&self, reference: &Reference) -> Result<Option<ManifestHead>> {
        let host = self.host(reference.repository().registry())?;
        let mut call = self.manifest_call(
            reference,
            Method::HEAD,
            Scopes::pull(reference.repository().name()),
        );
        call.url = Self::manifest_url(&host.base, reference);
        let desc = call.describe();
        let response = self.send_following(&host, call)?;
        match response.status().as_u16() {
            200..=299 => Ok(Some(ManifestHead {
                digest: header(&response, "docker-content-digest")
                    .and_then(|d| Digest::parse(&d).ok()),
                media_type: header(&response, "content-type").map(|t| media_type_of(&t)),
                size: header(&response, "content-length").and_then(|l| l.parse().ok()),
            })),
            404 => Ok(None),
            _ => Err(status_error(
                &host,
                desc,
                &format!("manifest {reference}"),
                response,
            )),
        }
    }

    /// Uploads `bytes` as the manifest `reference` names (a tag, or the
    /// digest of the bytes) with `media_type`. Returns the digest of the
    /// bytes; the registry's `Docker-Content-Digest`, when sent, must agree.
    pub fn put_manifest(
        &self,
        reference: &Reference,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Digest> {
        let digest = Digest::of(bytes);
        if bytes.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(Error::TooLarge {
                what: format!("manifest for {reference}"),
                limit: MAX_MANIFEST_BYTES,
            });
        }
        if let Some(want) = reference.digest()
            && *want != digest
        {
            return Err(Error::DigestMismatch {
                what: format!("manifest for {reference}"),
                expected: want.to_string(),
                actual: digest.to_string(),
            });
        }
        let host = self.host(reference.repository().registry())?;
        let call = Call {
            method: Method::PUT,
            url: Self::manifest_url(&host.base, reference),
            headers: vec![("content-type", media_type.to_string())],
            body: CallBody::Bytes(bytes),
            scopes: Scopes::push(reference.repository().name()),
            repository: reference.repository().name(),
        };
        let desc = call.describe();
        let response = self.send(&host, call)?;
        if !response.status().is_success() {
            return Err(status_error(
                &host,
                desc,
                &format!("repository {}", reference.repository()),
                response,
            ));
        }
        if let Some(said) = header(&response, "docker-content-digest")
            && said.starts_with("sha256:")
            && said != digest.to_string()
        {
            return Err(Error::DigestMismatch {
                what: format!("manifest stored as {reference}"),
                expected: digest.to_string(),
                actual: said,
            });
        }
        Ok(digest)
    }
}

/// `application/x; charset=…` → `application/x`.
fn media_type_of(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The `mediaType` field of a manifest, for registries that answer with a
/// generic `Content-Type`.
fn sniff_media_type(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        manifests: Option<serde::de::IgnoredAny>,
    }
    let probe: Probe = serde_json::from_slice(bytes).ok()?;
    match probe.media_type {
        Some(t) if MANIFEST_ACCEPT.contains(&t.as_str()) => Some(t),
        Some(_) => None,
        // OCI allows leaving mediaType out; an index has `manifests`.
        None if probe.manifests.is_some() => Some(OCI_INDEX.into()),
        None => Some(OCI_MANIFEST.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_table() {
        for (json, want) in [
            (
                format!(r#"{{"mediaType":"{DOCKER_MANIFEST}"}}"#),
                Some(DOCKER_MANIFEST),
            ),
            (
                r#"{"schemaVersion":2,"manifests":[]}"#.to_string(),
                Some(OCI_INDEX),
            ),
            (
                r#"{"schemaVersion":2,"layers":[]}"#.to_string(),
                Some(OCI_MANIFEST),
            ),
            (r#"{"mediaType":"text/html"}"#.to_string(), None),
            ("not json".to_string(), None),
        ] {
            assert_eq!(sniff_media_type(json.as_bytes()).as_deref(), want, "{json}");
        }
    }

    #[test]
    fn media_type_drops_parameters() {
        assert_eq!(
            media_type_of("Application/JSON; charset=utf-8"),
            "application/json"
        );
    }
}
