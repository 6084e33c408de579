//! An image opened from a transport: verified manifest and config, and
//! layers that are streamed (never loaded) with their digests checked.

use std::io::{Read, Write};

use oci_spec::image::ImageConfiguration;

use crate::compression::decompress;
use crate::digest::{Digest, VerifyingReader};
use crate::error::{Error, Result};
use crate::flatten::{Flattener, LayerChanges};
use crate::reference::{ImageRef, read_bounded};
use crate::store::{DirStore, Store, TarStore};
use crate::tree::FileTree;
use crate::{docker_archive, oci};

/// Manifests, indexes and configs larger than this are refused.
pub(crate) const MAX_METADATA_BYTES: u64 = 16 * 1024 * 1024;

/// The OS, architecture and variant an image is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Default for Platform {
    /// `linux/amd64`, what a multi-platform index is read as unless told.
    fn default() -> Self {
        Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        }
    }
}

impl Platform {
    /// Parses `os/arch[/variant]`.
    pub fn parse(text: &str) -> Result<Self> {
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: None,
            }),
            [os, arch, variant] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: Some(variant.to_string()),
            }),
            _ => Err(Error::malformed(
                format!("platform {text:?}"),
                "expected OS/ARCH[/VARIANT], e.g. linux/amd64",
            )),
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// One layer of an image.
#[derive(Clone, Debug)]
pub struct Layer {
    /// Where its blob is in the store.
    pub member: String,
    /// The blob's digest, when the layout names it (a legacy docker archive
    /// does not; its layers are then checked by diff_id alone).
    pub digest: Option<Digest>,
    /// The digest of the uncompressed tar, from the config's `rootfs`.
    pub diff_id: Digest,
    /// The blob's size in bytes.
    pub size: u64,
    /// The media type the manifest declares, if any.
    pub media_type: Option<String>,
}

impl Layer {
    /// How messages name this layer's blob.
    pub fn blob_name(&self) -> String {
        match &self.digest {
            Some(d) => d.to_string(),
            None => self.member.clone(),
        }
    }
}

/// An image read from an archive or a layout.
pub struct Image {
    /// The reference it was opened from.
    pub reference: ImageRef,
    pub(crate) store: Box<dyn Store>,
    /// The manifest's digest, when the transport has a manifest.
    pub manifest_digest: Option<Digest>,
    /// The config blob as stored (kept byte for byte by `copy`).
    pub config_bytes: Vec<u8>,
    pub config_digest: Digest,
    pub config: ImageConfiguration,
    pub layers: Vec<Layer>,
    /// Names the source gives the image (RepoTags or OCI ref names).
    pub names: Vec<String>,
}

impl Image {
    /// Opens an image from an archive or a layout; `dir:` and the network
    /// transports are handled by [`crate::Source`].
    pub fn open(reference: &ImageRef, platform: &Platform) -> Result<Self> {
        match reference {
            ImageRef::DockerArchive { path, name } => {
                let store = TarStore::open(path)?;
                docker_archive::open(reference.clone(), Box::new(store), name.as_deref())
            }
            ImageRef::Oci { dir, name } => {
                let store = DirStore::new(dir);
                if !dir.join("oci-layout").is_file() {
                    return Err(Error::malformed(
                        dir.display().to_string(),
                        "not an OCI image layout (no oci-layout file)",
                    ));
                }
                oci::open(
                    reference.clone(),
                    Box::new(store),
                    name.as_deref(),
                    platform,
                )
            }
            ImageRef::OciArchive { path, name } => {
                let store = TarStore::open(path)?;
                oci::open(
                    reference.clone(),
                    Box::new(store),
                    name.as_deref(),
                    platform,
                )
            }
            ImageRef::Dir { .. } => Err(Error::unsupported(
                reference.to_string(),
                "a root folder is not an image; open it as a Source",
            )),
            ImageRef::DockerDaemon { .. } | ImageRef::Registry { .. } => Err(Error::unsupported(
                reference.to_string(),
                format!(
                    "the {} transport is not implemented yet",
                    reference.transport()
                ),
            )),
        }
    }

    /// How messages name layer `index`: its 1-based position and its blob.
    pub fn layer_context(&self, index: usize) -> String {
        format!("layer {} ({})", index + 1, self.layers[index].blob_name())
    }

    /// Opens the raw (possibly compressed) blob of layer `index`, checking
    /// its size and, as it is read to the end, its digest.
    pub fn layer_blob(&self, index: usize) -> Result<VerifyingReader<Box<dyn Read + Send>>> {
        let layer = &self.layers[index];
        let (reader, size) = self.store.open(&layer.member)?;
        if size != layer.size {
            return Err(Error::SizeMismatch {
                blob: layer.blob_name(),
                expected: layer.size,
                actual: size,
            });
        }
        Ok(VerifyingReader::new(
            reader,
            layer.blob_name(),
            layer.digest.clone(),
            Some(layer.size),
        ))
    }

    /// Streams layer `index` as an uncompressed tar to `read`, then checks
    /// the blob digest and the diff_id. A digest error is reported in
    /// preference to whatever the reader made of the bad bytes.
    pub fn with_layer<T>(
        &self,
        index: usize,
        read: impl FnOnce(&mut dyn Read) -> Result<T>,
    ) -> Result<T> {
        self.with_layer_tee(index, None, read)
    }

    /// Like [`Image::with_layer`], and every raw blob byte read is also
    /// written to `tee` (to copy a blob while checking what is inside it).
    ///
    /// Two threads share the work: one reads the blob, hashes it and
    /// inflates it; the caller's thread hashes the uncompressed stream and
    /// runs `read`. Errors are ranked: a blob that does not match its
    /// digest or size first, then a stream that cannot be decompressed,
    /// then whatever `read` made of it.
    pub fn with_layer_tee<T>(
        &self,
        index: usize,
        tee: Option<&mut (dyn Write + Send)>,
        read: impl FnOnce(&mut dyn Read) -> Result<T>,
    ) -> Result<T> {
        let layer = &self.layers[index];
        // A compressed blob (its digest is known and is not its diff_id) is
        // hashed on a third thread, so the reading thread's time goes to
        // inflating, the bottleneck. Other blobs are hashed where they are
        // read: there the extra copy would cost more than it frees.
        let compressed = layer.digest.as_ref() != Some(&layer.diff_id);
        let mut blob = self.layer_blob(index)?;
        if compressed && layer.digest.is_some() {
            blob = blob.hashing_on_helper_thread();
        }
        let context = self.layer_context(index);
        let (mut writer, pipe_reader) = crate::pipe::pipe();
        std::thread::scope(|scope| {
            let producer = scope.spawn(|| -> Result<()> {
                let (decoded, drained) = {
                    let mut raw = TeeReader {
                        inner: &mut blob,
                        tee: tee.map(|t| t as &mut dyn Write),
                    };
                    let decoded = (|| {
                        let mut decoded = decompress(&mut raw, &context)?;
                        std::io::copy(&mut decoded, &mut writer)
                            .map_err(|e| Error::io(&context, e))?;
                        writer.flush().map_err(|e| Error::io(&context, e))
                    })();
                    drop(writer); // the consumer sees the end of the stream
                    // Whatever follows the compressed stream still belongs
                    // to the blob, and its digest is the most specific verdict.
                    let drained = std::io::copy(&mut raw, &mut std::io::sink())
                        .map_err(|e| Error::io(layer.blob_name(), e));
                    (decoded, drained)
                };
                match blob.finish() {
                    Err(e) => Err(e),
                    Ok(_) => decoded.and(drained.map(|_| ())),
                }
            });
            // An uncompressed blob whose digest is its diff_id is checked
            // once, by the blob reader.
            let expected =
                (layer.digest.as_ref() != Some(&layer.diff_id)).then(|| layer.diff_id.clone());
            let mut tar = VerifyingReader::new(
                pipe_reader,
                format!(
                    "layer {} uncompressed (diff_id {})",
                    index + 1,
                    layer.diff_id
                ),
                expected,
                None,
            );
            let consumed = match read(&mut tar) {
                Ok(value) => tar.finish().map(|_| value),
                Err(err) => Err(tar.failure().unwrap_or(err)),
            };
            drop(tar); // a producer still writing sees a broken pipe
            let produced = producer
                .join()
                .unwrap_or_else(|_| Err(Error::malformed(&context, "reader thread failed")));
            match (produced, consumed) {
                (Err(e @ (Error::DigestMismatch { .. } | Error::SizeMismatch { .. })), _) => Err(e),
                (Err(Error::Io { error, .. }), consumed)
                    if error.kind() == std::io::ErrorKind::BrokenPipe =>
                {
                    // The consumer stopped first; its error is the story.
                    consumed.and(Err(Error::malformed(&context, "stream ended early")))
                }
                (Err(e), _) => Err(e),
                (Ok(()), consumed) => consumed,
            }
        })
    }

    /// Applies every layer in order: the file tree a container would see,
    /// and what each layer changed.
    pub fn flatten(&self) -> Result<(FileTree, Vec<LayerChanges>)> {
        let mut flattener = Flattener::new();
        self.apply_layers(&mut flattener)?;
        Ok(flattener.finish())
    }

    /// Feeds every layer, in order, to `flattener`.
    pub fn apply_layers(&self, flattener: &mut Flattener) -> Result<()> {
        for index in 0..self.layers.len() {
            let context = self.layer_context(index);
            self.with_layer(index, |tar| flattener.apply_layer(tar, &context))?;
        }
        Ok(())
    }
}

/// Reads a small metadata blob by digest, checking size and digest.
pub(crate) fn read_blob(store: &dyn Store, digest: &Digest, size: u64) -> Result<Vec<u8>> {
    if size > MAX_METADATA_BYTES {
        return Err(Error::malformed(
            format!("blob {digest}"),
            format!("{size} bytes is too large for metadata"),
        ));
    }
    let (reader, actual) = store.open(&digest.blob_path())?;
    if actual != size {
        return Err(Error::SizeMismatch {
            blob: digest.to_string(),
            expected: size,
            actual,
        });
    }
    let verifying =
        VerifyingReader::new(reader, digest.to_string(), Some(digest.clone()), Some(size));
    read_bounded(verifying, MAX_METADATA_BYTES, &format!("blob {digest}"))
}

/// Parses a config and checks it describes a container image.
pub(crate) fn parse_config(bytes: &[u8], digest: &Digest) -> Result<ImageConfiguration> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::malformed(format!("config {digest}"), format!("invalid JSON: {e}")))
}

/// The diff_ids of a config, parsed, one per layer.
pub(crate) fn diff_ids(
    config: &ImageConfiguration,
    digest: &Digest,
    layers: usize,
) -> Result<Vec<Digest>> {
    let ids = config.rootfs().diff_ids();
    if ids.len() != layers {
        return Err(Error::malformed(
            format!("config {digest}"),
            format!("{} diff_ids for {layers} layers", ids.len()),
        ));
    }
    ids.iter().map(|id| Digest::parse(id)).collect()
}

/// Passes reads through and copies every byte read to `tee`.
pub(crate) struct TeeReader<'a, R> {
    pub(crate) inner: R,
    pub(crate) tee: Option<&'a mut dyn Write>,
}

impl<R: Read> Read for TeeReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(tee) = self.tee.as_mut() {
            tee.write_all(&buf[..n])?;
        }
        Ok(n)
    }
}
