//! The `docker://` transport: images in a registry, through
//! [`pare_registry`]'s client.
//!
//! Reading: the registry is presented to the OCI layout reader as a
//! [`Store`]: `index.json` is one descriptor of the manifest the reference
//! names (fetched and checked against its digest), and every
//! `blobs/sha256/HEX` is fetched from the registry when it is opened,
//! streamed and checked (a nested manifest or index by the manifests
//! endpoint). So a registry image is read by the same code, with the same
//! checks, platform choice and limits, as a layout on disk, and its layers
//! stream straight into the flattening pass: nothing is stored locally.
//!
//! Writing: the image is written as an OCI layout in a temporary folder
//! (blobs kept byte for byte where the source's compression is the one
//! written, so digests are kept), then its blobs are pushed (those the
//! registry has are skipped, those of a source repository on the same
//! registry are mounted) and the manifest last, so a failure tags nothing.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use oci_spec::image::ImageManifest;
use pare_registry::{Client, ClientOptions, Credentials, Reference, Repository};

use crate::error::{Error, Result};
use crate::image::{Image, OpenOptions};
use crate::progress::ProgressSink;
use crate::reference::ImageRef;
use crate::store::{Member, Store};
use crate::write::Written;

/// Blobs uploaded at once.
const PARALLEL_PUSHES: usize = 4;

/// How to reach registries: the command line's `--creds`, `--cert-dir`
/// and `--insecure-registry`. Credentials not given here come from the
/// usual files (`REGISTRY_AUTH_FILE`, containers' `auth.json`, Docker's
/// `config.json` and its credential helpers).
#[derive(Clone, Debug, Default)]
pub struct RegistryOptions {
    /// `USER:PASSWORD`.
    pub creds: Option<String>,
    /// A folder of `*.crt` CA files (and an optional `*.cert`/`*.key`
    /// client pair), as skopeo's `--cert-dir`.
    pub cert_dir: Option<PathBuf>,
    /// Hosts (`HOST` or `HOST:PORT`) that may be reached over plain HTTP;
    /// loopback always may.
    pub insecure: Vec<String>,
}

impl RegistryOptions {
    fn client(&self) -> Result<Client> {
        let credentials = match &self.creds {
            Some(text) => Some(Credentials::parse_user_pass(text)?),
            None => None,
        };
        Ok(Client::new(
            ClientOptions::default()
                .credentials(credentials)
                .cert_dir(self.cert_dir.clone())
                .insecure_registries(self.insecure.clone()),
        ))
    }
}

/// A registry repository seen as an OCI layout.
struct RegistryStore {
    client: Arc<Client>,
    repository: Repository,
    shown: String,
    /// The made-up `index.json`: one descriptor, the manifest asked for.
    index: Vec<u8>,
    /// Manifests and indexes fetched so far, by digest.
    manifests: Mutex<HashMap<String, Arc<Vec<u8>>>>,
    progress: ProgressSink,
}

impl Store for RegistryStore {
    fn open(&self, name: &str) -> Result<Member> {
        if name == "index.json" {
            let bytes = self.index.clone();
            let size = bytes.len() as u64;
            return Ok((Box::new(Cursor::new(bytes)), size));
        }
        let missing = || Error::Missing {
            what: format!("{}: {name}", self.shown),
        };
        let hex = name.strip_prefix("blobs/sha256/").ok_or_else(missing)?;
        let digest =
            pare_registry::Digest::parse(&format!("sha256:{hex}")).map_err(|_| missing())?;
        let cached = self
            .manifests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&digest.to_string())
            .cloned();
        if let Some(bytes) = cached {
            let size = bytes.len() as u64;
            return Ok((Box::new(Cursor::new(bytes.to_vec())), size));
        }
        match self.client.get_blob(&self.repository, &digest, None) {
            Ok(blob) => {
                let size = blob.content_length().ok_or_else(|| {
                    Error::malformed(
                        format!("{}: blob {digest}", self.shown),
                        "the registry sent no Content-Length",
                    )
                })?;
                let task = self
                    .progress
                    .start(&format!("pulling {}", short(&digest)), Some(size));
                Ok((Box::new(Reporting::new(blob, task)), size))
            }
            // Registries serve manifests from the manifests endpoint only:
            // a nested index's child is fetched there.
            Err(pare_registry::Error::NotFound { .. }) => {
                let reference = Reference::with_digest(self.repository.clone(), digest.clone());
                let manifest = self.client.get_manifest(&reference)?;
                let bytes = Arc::new(manifest.bytes);
                self.manifests
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(digest.to_string(), bytes.clone());
                let size = bytes.len() as u64;
                Ok((Box::new(Cursor::new(bytes.to_vec())), size))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn describe(&self) -> String {
        self.shown.clone()
    }
}

/// `sha256:0123456789ab`: a blob as a progress line names it.
fn short(digest: &pare_registry::Digest) -> String {
    let text = digest.to_string();
    text.chars().take(19).collect()
}

/// A reader that reports its bytes to a progress task.
struct Reporting<R> {
    inner: R,
    task: Arc<dyn crate::progress::Task>,
    done: u64,
}

impl<R> Reporting<R> {
    fn new(inner: R, task: Arc<dyn crate::progress::Task>) -> Self {
        Reporting {
            inner,
            task,
            done: 0,
        }
    }
}

impl<R: Read> Read for Reporting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        if n == 0 {
            self.task.finish();
        } else {
            self.task.set(self.done);
        }
        Ok(n)
    }
}

impl<R> Drop for Reporting<R> {
    fn drop(&mut self) {
        self.task.finish();
    }
}

/// Opens the image `docker://TEXT` names.
pub(crate) fn open(reference: &ImageRef, text: &str, options: &OpenOptions) -> Result<Image> {
    let parsed = Reference::parse(text)?;
    let client = Arc::new(options.registry.client()?);
    let manifest = client.get_manifest(&parsed)?;
    if manifest.bytes.len() as u64 > options.limits.json_bytes {
        return Err(Error::Limit {
            context: format!("{reference}: manifest"),
            limit: "json-bytes",
            found: manifest.bytes.len() as u64,
            max: options.limits.json_bytes,
        });
    }
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": manifest.media_type,
            "digest": manifest.digest.to_string(),
            "size": manifest.bytes.len(),
            "annotations": { crate::oci::CONTAINERD_NAME: parsed.to_string() },
        }],
    });
    let mut manifests = HashMap::new();
    manifests.insert(manifest.digest.to_string(), Arc::new(manifest.bytes));
    let store = RegistryStore {
        client,
        repository: parsed.repository().clone(),
        shown: reference.to_string(),
        index: serde_json::to_vec(&index).expect("JSON values serialise"),
        manifests: Mutex::new(manifests),
        progress: options.progress.clone(),
    };
    crate::oci::open(
        reference.clone(),
        Box::new(store),
        None,
        &options.platform,
        &options.limits,
    )
}

/// The repository a source image came from, when it is a registry: blobs
/// pushed to another repository of the same registry are mounted from it.
pub(crate) fn source_repository(source: &ImageRef) -> Option<Repository> {
    match source {
        ImageRef::Registry { reference } => Reference::parse(reference)
            .ok()
            .map(|r| r.repository().clone()),
        _ => None,
    }
}

/// Writes an image to the registry: `write` writes it as an OCI layout at
/// the reference it is given, whose blobs and manifest are then pushed.
pub(crate) fn write(
    destination: &ImageRef,
    text: &str,
    registry: &RegistryOptions,
    progress: &ProgressSink,
    mount_from: Option<Repository>,
    write: impl FnOnce(&ImageRef) -> Result<Written>,
) -> Result<Written> {
    let parsed = Reference::parse(text)?;
    let client = registry.client()?;
    let staging = tempfile::Builder::new()
        .prefix(".pare-tmp-")
        .tempdir()
        .map_err(|e| Error::io("a temporary folder for the push", e))?;
    let layout = staging.path().join("layout");
    let mut written = write(&ImageRef::Oci {
        dir: layout.clone(),
        name: None,
    })?;
    let blob_path = |digest: &str| -> Result<PathBuf> {
        let hex = digest
            .strip_prefix("sha256:")
            .ok_or_else(|| Error::malformed(digest, "not a sha256 digest"))?;
        Ok(layout.join("blobs/sha256").join(hex))
    };
    let manifest_path = blob_path(&written.manifest_digest.to_string())?;
    let manifest_bytes =
        std::fs::read(&manifest_path).map_err(|e| Error::io(manifest_path.display(), e))?;
    let manifest: ImageManifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| Error::malformed("the written manifest", e.to_string()))?;
    let repository = parsed.repository();
    // Blobs go up a few at a time (each its own connection): one upload
    // stream does not fill the link or the registry's disk. The manifest
    // waits for all of them.
    let blobs: Vec<_> = manifest
        .layers()
        .iter()
        .chain(std::iter::once(manifest.config()))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let push_one = |descriptor: &oci_spec::image::Descriptor| -> Result<()> {
        let digest = pare_registry::Digest::parse(descriptor.digest().as_ref())?;
        let path = blob_path(descriptor.digest().as_ref())?;
        let size = descriptor.size();
        let task = progress.start(&format!("pushing {}", short(&digest)), Some(size));
        let open = || -> std::io::Result<Box<dyn Read>> {
            let file = std::fs::File::open(&path)?;
            Ok(Box::new(Reporting::new(file, task.clone())))
        };
        let pushed = client.push_blob(repository, &digest, size, &open, mount_from.as_ref());
        task.finish();
        pushed.map(|_| ()).map_err(Error::from)
    };
    let results: Vec<Result<()>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..PARALLEL_PUSHES.min(blobs.len()))
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(descriptor) = blobs.get(i) else {
                            return Ok(());
                        };
                        if let Err(e) = push_one(descriptor) {
                            // The others stop at their next blob.
                            next.store(blobs.len(), std::sync::atomic::Ordering::Relaxed);
                            return Err(e);
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join().unwrap_or_else(|_| {
                    Err(Error::malformed(
                        destination.to_string(),
                        "a push thread failed",
                    ))
                })
            })
            .collect()
    });
    for result in results {
        result?;
    }
    let media_type = manifest
        .media_type()
        .as_ref()
        .map_or(pare_registry::OCI_MANIFEST.to_string(), |m| m.to_string());
    client.put_manifest(&parsed, &manifest_bytes, &media_type)?;
    written.destination = destination.to_string();
    Ok(written)
}
