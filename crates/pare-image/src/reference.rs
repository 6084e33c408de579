//! Image references in the skopeo/containers syntax (`transport:details`).

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Where an image lives, as named on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageRef {
    /// `docker-archive:PATH[:NAME[:TAG]|:@INDEX]`: a `docker save` tarball.
    DockerArchive { path: PathBuf, name: Option<String> },
    /// `oci:DIR[:REF|:@N|:sha256:HEX]`: an OCI image layout folder; the
    /// image is picked by ref name, position in `index.json` or manifest
    /// digest (see `oci::select`).
    Oci { dir: PathBuf, name: Option<String> },
    /// `oci-archive:PATH[:REF|:@N|:sha256:HEX]`: an OCI image layout packed
    /// in a tar (member names may start with `./`, as `tar -C DIR -cf A .`
    /// writes them).
    OciArchive { path: PathBuf, name: Option<String> },
    /// `dir:PATH`: a plain root filesystem folder.
    Dir { path: PathBuf },
    /// `docker-daemon:NAME[:TAG]`: the local Docker Engine.
    DockerDaemon { name: String },
    /// `docker://HOST/REPO[:TAG|@DIGEST]`: a registry.
    Registry { reference: String },
}

const TRANSPORTS: &[&str] = &[
    "docker-archive:",
    "oci-archive:",
    "oci:",
    "dir:",
    "docker-daemon:",
    "docker://",
];

impl ImageRef {
    /// Parses a reference; a string without a known transport is a path whose
    /// kind is detected by looking at it (see [`ImageRef::detect`]).
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |message: &str| Error::Reference {
            reference: text.to_string(),
            message: message.to_string(),
        };
        let Some(transport) = TRANSPORTS.iter().find(|t| text.starts_with(**t)) else {
            if text.is_empty() {
                return Err(bad("empty"));
            }
            return Self::detect(Path::new(text));
        };
        let rest = &text[transport.len()..];
        if rest.is_empty() {
            return Err(bad("nothing after the transport"));
        }
        // Like skopeo, the first colon separates the path from the name,
        // so a name may itself hold a colon (`NAME:TAG`).
        let (path, name) = match rest.split_once(':') {
            Some((path, name)) if !name.is_empty() => (path, Some(name.to_string())),
            Some((path, _)) => (path, None),
            None => (rest, None),
        };
        if path.is_empty() {
            return Err(bad("empty path"));
        }
        let path = PathBuf::from(path);
        Ok(match *transport {
            "docker-archive:" => ImageRef::DockerArchive { path, name },
            "oci-archive:" => ImageRef::OciArchive { path, name },
            "oci:" => ImageRef::Oci { dir: path, name },
            "dir:" => ImageRef::Dir {
                path: PathBuf::from(rest),
            },
            "docker-daemon:" => ImageRef::DockerDaemon {
                name: rest.to_string(),
            },
            _ => ImageRef::Registry {
                reference: rest.to_string(),
            },
        })
    }

    /// Decides what a bare path holds: a folder with `oci-layout` is an OCI
    /// layout, any other folder a root filesystem; a tar with `manifest.json`
    /// is a docker archive, one with only `index.json` an OCI archive.
    pub fn detect(path: &Path) -> Result<Self> {
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| Error::io(&shown, e))?;
        if meta.is_dir() {
            return Ok(if path.join("oci-layout").is_file() {
                ImageRef::Oci {
                    dir: path.to_path_buf(),
                    name: None,
                }
            } else {
                ImageRef::Dir {
                    path: path.to_path_buf(),
                }
            });
        }
        // The path may be anything; a FIFO must not hold us at `open`.
        let (file, _) = crate::store::open_regular_following(path)?;
        crate::store::refuse_compressed(&file, &shown)?;
        let mut has_manifest = false;
        let mut has_index = false;
        let mut archive = tar::Archive::new(file);
        let entries = archive.entries().map_err(|e| Error::io(&shown, e))?;
        // Only top-level metadata files matter; stop after a bounded look.
        for entry in entries.take(100_000) {
            let entry = entry.map_err(|_| {
                Error::malformed(
                    &shown,
                    "not a folder, and unreadable as a tar archive (corrupt or truncated?)",
                )
            })?;
            // Named as the archive reader names members (`./index.json`,
            // `.//index.json` are `index.json`), like c/image's `path.Clean`.
            let raw = entry.path_bytes();
            let name = crate::paths::normalize(&String::from_utf8_lossy(&raw)).unwrap_or_default();
            has_manifest |= name == "manifest.json";
            has_index |= name == "index.json";
            if has_manifest {
                break;
            }
        }
        match (has_manifest, has_index) {
            (true, _) => Ok(ImageRef::DockerArchive {
                path: path.to_path_buf(),
                name: None,
            }),
            (false, true) => Ok(ImageRef::OciArchive {
                path: path.to_path_buf(),
                name: None,
            }),
            _ => Err(Error::malformed(
                shown,
                "tar holds neither manifest.json nor index.json: not an image archive",
            )),
        }
    }

    /// The transport name, as in the reference syntax.
    pub fn transport(&self) -> &'static str {
        match self {
            ImageRef::DockerArchive { .. } => "docker-archive",
            ImageRef::Oci { .. } => "oci",
            ImageRef::OciArchive { .. } => "oci-archive",
            ImageRef::Dir { .. } => "dir",
            ImageRef::DockerDaemon { .. } => "docker-daemon",
            ImageRef::Registry { .. } => "docker",
        }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let with_name = |f: &mut fmt::Formatter<'_>, t: &str, p: &Path, n: &Option<String>| {
            write!(f, "{t}:{}", p.display())?;
            match n {
                Some(n) => write!(f, ":{n}"),
                None => Ok(()),
            }
        };
        match self {
            ImageRef::DockerArchive { path, name } => with_name(f, "docker-archive", path, name),
            ImageRef::Oci { dir, name } => with_name(f, "oci", dir, name),
            ImageRef::OciArchive { path, name } => with_name(f, "oci-archive", path, name),
            ImageRef::Dir { path } => write!(f, "dir:{}", path.display()),
            ImageRef::DockerDaemon { name } => write!(f, "docker-daemon:{name}"),
            ImageRef::Registry { reference } => write!(f, "docker://{reference}"),
        }
    }
}

/// Reads at most `limit` bytes; metadata files larger than that are refused
/// rather than loaded, so a hostile image cannot exhaust memory.
pub(crate) fn read_bounded(mut reader: impl Read, limit: u64, what: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    (&mut reader)
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(what, e))?;
    if buf.len() as u64 > limit {
        return Err(Error::malformed(
            what,
            format!("larger than the {limit}-byte limit for metadata"),
        ));
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_transports() {
        let cases: &[(&str, ImageRef)] = &[
            (
                "docker-archive:/tmp/a.tar",
                ImageRef::DockerArchive {
                    path: "/tmp/a.tar".into(),
                    name: None,
                },
            ),
            (
                "docker-archive:a.tar:redis:7",
                ImageRef::DockerArchive {
                    path: "a.tar".into(),
                    name: Some("redis:7".into()),
                },
            ),
            (
                "oci:/x/y:latest",
                ImageRef::Oci {
                    dir: "/x/y".into(),
                    name: Some("latest".into()),
                },
            ),
            (
                "oci-archive:o.tar",
                ImageRef::OciArchive {
                    path: "o.tar".into(),
                    name: None,
                },
            ),
            ("dir:/", ImageRef::Dir { path: "/".into() }),
            (
                "docker-daemon:redis:7",
                ImageRef::DockerDaemon {
                    name: "redis:7".into(),
                },
            ),
            (
                "docker://127.0.0.1:5000/r:1",
                ImageRef::Registry {
                    reference: "127.0.0.1:5000/r:1".into(),
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(&ImageRef::parse(text).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn rejects_empty_parts() {
        for text in ["", "oci:", "docker-archive::x"] {
            assert!(ImageRef::parse(text).is_err(), "{text:?} accepted");
        }
    }

    #[test]
    fn detects_folders() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(matches!(
            ImageRef::parse(tmp.path().to_str().unwrap()).unwrap(),
            ImageRef::Dir { .. }
        ));
        std::fs::write(tmp.path().join("oci-layout"), "{}").unwrap();
        assert!(matches!(
            ImageRef::parse(tmp.path().to_str().unwrap()).unwrap(),
            ImageRef::Oci { .. }
        ));
    }
}
