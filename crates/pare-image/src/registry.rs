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
//! written, so digests are kept); each layer blob is pushed as soon as it
//! is complete, while the next ones are written (those the registry has
//! are skipped, those of a source repository on the same registry are
//! mounted), and the manifest last, so a failure tags nothing.

use std::collections::{HashMap, HashSet};
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use oci_spec::image::ImageManifest;
use pare_registry::{Client, ClientOptions, Credentials, OpenBlob, Reference, Repository};

use crate::error::{Error, Result};
use crate::image::{Image, OpenOptions};
use crate::progress::ProgressSink;
use crate::reference::ImageRef;
use crate::store::{Member, Store};
use crate::write::{Announce, StagedBlob, Written};

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
        let cached = lock(&self.manifests).get(&digest.to_string()).cloned();
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
                lock(&self.manifests).insert(digest.to_string(), bytes.clone());
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
/// the reference it is given, announcing each layer blob as soon as it is
/// complete; those are pushed while the rest is still being written (as
/// skopeo compresses and uploads at once), the config and anything not
/// announced after, and the manifest last.
pub(crate) fn write(
    destination: &ImageRef,
    text: &str,
    registry: &RegistryOptions,
    progress: &ProgressSink,
    mount_from: Option<Repository>,
    write: impl FnOnce(&ImageRef, Announce) -> Result<Written>,
) -> Result<Written> {
    let parsed = Reference::parse(text)?;
    let client = registry.client()?;
    let staging = tempfile::Builder::new()
        .prefix(".pare-tmp-")
        .tempdir()
        .map_err(|e| Error::io("a temporary folder for the push", e))?;
    let layout = staging.path().join("layout");
    let repository = parsed.repository();
    let pushed: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    // Pushes one blob unless it went up already; `open` gives its bytes
    // from the start (again on a retry).
    let push = |digest: &str, size: u64, open: &OpenBlob<'_>| -> Result<()> {
        let digest = pare_registry::Digest::parse(digest)?;
        if !lock(&pushed).insert(digest.to_string()) {
            return Ok(());
        }
        let task = progress.start(&format!("pushing {}", short(&digest)), Some(size));
        let reporting = || -> std::io::Result<Box<dyn Read>> {
            Ok(Box::new(Reporting::new(open()?, task.clone())))
        };
        let result = client.push_blob(repository, &digest, size, &reporting, mount_from.as_ref());
        task.finish();
        result.map(|_| ()).map_err(Error::from)
    };
    // Layer blobs go up a few at a time (each its own connection) while
    // the writer goes on; the writer's end closes the queue.
    let (announce, announced) = std::sync::mpsc::channel::<StagedBlob>();
    let announced = Mutex::new(announced);
    // Once a push fails the others stop at their next blob: the push
    // has failed, and its error is the one reported.
    let failed = AtomicBool::new(false);
    let (written, early) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..PARALLEL_PUSHES)
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    loop {
                        let next = lock(&announced).recv();
                        let Ok(blob) = next else { return Ok(()) };
                        if failed.load(Ordering::Relaxed) {
                            return Ok(());
                        }
                        let file = blob.file;
                        let open = || -> std::io::Result<Box<dyn Read>> {
                            let mut again = file.try_clone()?;
                            again.seek(SeekFrom::Start(0))?;
                            Ok(Box::new(again))
                        };
                        if let Err(e) = push(&blob.digest.to_string(), blob.size, &open) {
                            failed.store(true, Ordering::Relaxed);
                            return Err(e);
                        }
                    }
                })
            })
            .collect();
        let written = write(
            &ImageRef::Oci {
                dir: layout.clone(),
                name: None,
            },
            announce,
        );
        let early: Vec<Result<()>> = workers
            .into_iter()
            .map(|w| {
                w.join().unwrap_or_else(|_| {
                    Err(Error::malformed(
                        destination.to_string(),
                        "a push thread failed",
                    ))
                })
            })
            .collect();
        (written, early)
    });
    let mut written = written?;
    for result in early {
        result?;
    }
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
    // The config, and any blob not announced (none today), before the
    // manifest that names them.
    for descriptor in manifest
        .layers()
        .iter()
        .chain(std::iter::once(manifest.config()))
    {
        let path = blob_path(descriptor.digest().as_ref())?;
        let open =
            || -> std::io::Result<Box<dyn Read>> { Ok(Box::new(std::fs::File::open(&path)?)) };
        push(descriptor.digest().as_ref(), descriptor.size(), &open)?;
    }
    let media_type = manifest
        .media_type()
        .as_ref()
        .map_or(pare_registry::OCI_MANIFEST.to_string(), |m| m.to_string());
    client.put_manifest(&parsed, &manifest_bytes, &media_type)?;
    written.destination = destination.to_string();
    Ok(written)
}

/// A lock that a panicked holder does not poison for the others (what it
/// guards stays consistent: a set insert, a queue receive).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::digest::Digest;
    use crate::registry_support::Registry;

    /// Writes a one-layer OCI layout holding `layer` at `dir`, as the real
    /// writer leaves it.
    fn layout_of(dir: &std::path::Path, layer: &[u8]) -> Written {
        let blobs = dir.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).unwrap();
        let put = |bytes: &[u8]| {
            let digest = Digest::of(bytes);
            std::fs::write(blobs.join(digest.hex()), bytes).unwrap();
            digest
        };
        let layer_digest = put(layer);
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [layer_digest.to_string()]},
        }))
        .unwrap();
        let config_digest = put(&config);
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": pare_registry::OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": config_digest.to_string(), "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": layer_digest.to_string(), "size": layer.len()}],
        }))
        .unwrap();
        let manifest_digest = put(&manifest);
        Written {
            destination: dir.display().to_string(),
            manifest_digest,
            config_digest,
            layers: vec![layer_digest],
        }
    }

    #[test]
    fn a_layer_is_pushed_while_the_rest_is_still_being_written() {
        let Some(registry) = Registry::plain() else {
            return;
        };
        let text = format!("{}/pipelined/app:1", registry.host());
        let destination = ImageRef::parse(&format!("docker://{text}")).unwrap();
        let reference = Reference::parse(&text).unwrap();
        let layer: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let digest = pare_registry::Digest::parse(&Digest::of(&layer).to_string()).unwrap();
        let client = RegistryOptions::default().client().unwrap();
        let written = write(
            &destination,
            &text,
            &RegistryOptions::default(),
            &ProgressSink::default(),
            None,
            |at, announce| {
                let ImageRef::Oci { dir, .. } = at else {
                    panic!("staged as {at}")
                };
                // The layer is complete: announce it, then wait for the
                // registry to have it before "writing" anything else. A
                // push that waited for the writer would never come.
                let staged = tempfile::tempfile().unwrap();
                std::io::Write::write_all(&mut &staged, &layer).unwrap();
                announce
                    .send(StagedBlob {
                        digest: Digest::of(&layer),
                        size: layer.len() as u64,
                        file: staged,
                    })
                    .unwrap();
                let deadline = Instant::now() + Duration::from_secs(60);
                while client
                    .blob_exists(reference.repository(), &digest)
                    .unwrap()
                    .is_none()
                {
                    assert!(
                        Instant::now() < deadline,
                        "the layer was not pushed while writing"
                    );
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(layout_of(dir, &layer))
            },
        )
        .unwrap();
        assert_eq!(written.destination, destination.to_string());
        // One upload of the layer (not a second one after the write), and
        // the image reads back whole.
        assert_eq!(
            registry.requests("PUT", "/v2/pipelined/app/blobs/uploads/"),
            2
        );
        let image = Image::open(&destination, &crate::image::Platform::default()).unwrap();
        assert_eq!(image.layers.len(), 1);
        assert_eq!(
            image.layers[0].digest.as_ref().map(|d| d.to_string()),
            Some(digest.to_string())
        );
    }
}
