//! `HOST/REPO[:TAG|@DIGEST]` references, normalised as Docker does.
//!
//! The grammar and Docker Hub's normalisation (`nginx` → `docker.io/library/nginx:latest`,
//! `index.docker.io` → `docker.io`) come from `oci-spec`'s distribution `Reference`,
//! a port of distribution's own `reference` package. This module adds what a client
//! needs on top: the API host (`registry-1.docker.io` for Docker Hub), bracketed IPv6
//! hosts (`[::1]:5000/repo`, which oci-spec's pattern lacks), and a checked [`Digest`].

use std::fmt;
use std::str::FromStr;

use crate::digest::Digest;
use crate::error::Error;

/// Docker Hub's name in references.
pub const DOCKER_HUB: &str = "docker.io";
/// The host that serves Docker Hub's distribution API.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// A repository on a registry: where blobs and manifests live.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Repository {
    registry: String,
    name: String,
}

impl Repository {
    /// A repository from its parts, as a parsed reference would give them.
    pub fn new(registry: impl Into<String>, name: impl Into<String>) -> Self {
        Repository {
            registry: registry.into(),
            name: name.into(),
        }
    }

    /// The registry as references name it (`docker.io`, `127.0.0.1:5000`).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The host (and port) the distribution API is reached at.
    pub fn api_host(&self) -> &str {
        api_host(&self.registry)
    }

    /// The repository's path on the registry (`library/nginx`).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.name)
    }
}

/// A parsed, normalised image reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    repository: Repository,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses `[HOST[:PORT]/]REPO[:TAG][@DIGEST]` (no transport prefix).
    /// A reference with neither tag nor digest gets the tag `latest`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidReference {
            reference: text.chars().take(300).collect(),
            reason,
        };
        // oci-spec's pattern has no bracketed IPv6 host: parse the rest
        // under a stand-in host and put the real one back.
        let (bracketed, parse_text) = match text.strip_prefix('[') {
            Some(_) => {
                let (host, rest) = text
                    .split_once('/')
                    .ok_or_else(|| invalid("no repository after the host".into()))?;
                check_bracketed_host(host).map_err(invalid)?;
                (Some(host), format!("localhost/{rest}"))
            }
            None => (None, text.to_string()),
        };
        let parsed = oci_spec::distribution::Reference::from_str(&parse_text)
            .map_err(|e| invalid(e.to_string()))?;
        let digest = parsed
            .digest()
            .map(Digest::parse)
            .transpose()
            .map_err(|e| invalid(e.to_string()))?;
        // oci-spec takes `UPPER/x` as a Docker Hub path; Docker refuses it.
        if parsed.repository().bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(invalid("repository name must be lowercase".into()));
        }
        let registry = bracketed.unwrap_or(parsed.registry()).to_string();
        Ok(Reference {
            repository: Repository::new(registry, parsed.repository()),
            tag: parsed.tag().map(str::to_string),
            digest,
        })
    }

    /// A reference to `digest` in `repository`.
    pub fn with_digest(repository: Repository, digest: Digest) -> Self {
        Reference {
            repository,
            tag: None,
            digest: Some(digest),
        }
    }

    /// A reference to `tag` in `repository`.
    pub fn with_tag(repository: Repository, tag: impl Into<String>) -> Self {
        Reference {
            repository,
            tag: Some(tag.into()),
            digest: None,
        }
    }

    /// The repository the reference is in.
    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// The tag, if the reference has one.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if the reference pins one.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What goes after `/manifests/`: the digest when there is one (it wins
    /// over a tag, as with Docker), else the tag.
    pub fn manifest_ref(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(digest), _) => digest.to_string(),
            (None, Some(tag)) => tag.clone(),
            (None, None) => "latest".to_string(),
        }
    }
}

impl FromStr for Reference {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Reference::parse(s)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// The API host of a registry name: Docker Hub's is not its name.
pub fn api_host(registry: &str) -> &str {
    if registry == DOCKER_HUB || registry == "index.docker.io" {
        DOCKER_HUB_API
    } else {
        registry
    }
}

fn check_bracketed_host(host: &str) -> Result<(), String> {
    let (address, port) = host
        .strip_prefix('[')
        .and_then(|h| h.split_once(']'))
        .ok_or("unclosed '[' in the host")?;
    address
        .parse::<std::net::Ipv6Addr>()
        .map_err(|_| format!("{address:?} is not an IPv6 address"))?;
    match port {
        "" => Ok(()),
        p => match p.strip_prefix(':').map(str::parse::<u16>) {
            Some(Ok(_)) => Ok(()),
            _ => Err(format!("bad port {p:?}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_table() {
        let d = format!("sha256:{}", "b".repeat(64));
        let with_digest = format!("127.0.0.1:5000/a/b@{d}");
        let both = format!("ghcr.io/o/r:1@{d}");
        // (input, registry, api host, repository, tag, manifest ref)
        type Row<'a> = (&'a str, &'a str, &'a str, &'a str, Option<&'a str>, String);
        let rows: &[Row] = &[
            (
                "nginx",
                "docker.io",
                "registry-1.docker.io",
                "library/nginx",
                Some("latest"),
                "latest".into(),
            ),
            (
                "nginx:1.25",
                "docker.io",
                "registry-1.docker.io",
                "library/nginx",
                Some("1.25"),
                "1.25".into(),
            ),
            (
                "user/app",
                "docker.io",
                "registry-1.docker.io",
                "user/app",
                Some("latest"),
                "latest".into(),
            ),
            (
                "index.docker.io/nginx",
                "docker.io",
                "registry-1.docker.io",
                "library/nginx",
                Some("latest"),
                "latest".into(),
            ),
            (
                "docker.io/library/nginx",
                "docker.io",
                "registry-1.docker.io",
                "library/nginx",
                Some("latest"),
                "latest".into(),
            ),
            (
                "localhost/app",
                "localhost",
                "localhost",
                "app",
                Some("latest"),
                "latest".into(),
            ),
            (
                "localhost:5000/app:v1",
                "localhost:5000",
                "localhost:5000",
                "app",
                Some("v1"),
                "v1".into(),
            ),
            (
                "127.0.0.1:5000/pare/x:t",
                "127.0.0.1:5000",
                "127.0.0.1:5000",
                "pare/x",
                Some("t"),
                "t".into(),
            ),
            (
                &with_digest,
                "127.0.0.1:5000",
                "127.0.0.1:5000",
                "a/b",
                None,
                d.clone(),
            ),
            (&both, "ghcr.io", "ghcr.io", "o/r", Some("1"), d.clone()),
            (
                "[::1]:5000/app:2",
                "[::1]:5000",
                "[::1]:5000",
                "app",
                Some("2"),
                "2".into(),
            ),
        ];
        for (input, registry, host, repo, tag, mref) in rows {
            let r = Reference::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(r.repository().registry(), *registry, "{input}");
            assert_eq!(r.repository().api_host(), *host, "{input}");
            assert_eq!(r.repository().name(), *repo, "{input}");
            assert_eq!(r.tag(), *tag, "{input}");
            assert_eq!(&r.manifest_ref(), mref, "{input}");
        }
    }

    #[test]
    fn invalid_table() {
        for input in [
            "",
            "UPPER/case",
            "a/b:",
            "a@sha256:abc",
            "a@md5:0123456789abcdef0123456789abcdef",
            "[::1/x",
            "[zz]:5000/x",
            "[::1]:99999/x",
            "[::1]:5000",
            "a b",
        ] {
            let err = Reference::parse(input).expect_err(input);
            assert!(
                matches!(err, Error::InvalidReference { .. }),
                "{input}: {err}"
            );
        }
    }

    #[test]
    fn display_round_trips() {
        for text in ["127.0.0.1:5000/a/b:1", "docker.io/library/nginx:latest"] {
            assert_eq!(Reference::parse(text).unwrap().to_string(), text);
        }
    }
}
