//! An image opened from a transport: verified manifest and config, and
//! layers that are streamed (never loaded) with their digests checked.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};

use oci_spec::image::ImageConfiguration;

use crate::compression::decompress;
use crate::digest::{Digest, VerifyingReader};
use crate::error::{Error, Result};
use crate::flatten::{Flattener, LayerChanges};
use crate::reference::{ImageRef, read_bounded};
use crate::store::{DirStore, Store, TarStore};
use crate::tree::FileTree;
use crate::{docker_archive, oci};

/// Layers read at once by [`Image::apply_layers`]; each holds up to a
/// 2 MB pipe and a few threads, so more would only cost memory.
const MAX_LAYER_READERS: usize = 4;

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
                match store.open("oci-layout") {
                    Ok(_) => {}
                    Err(Error::Missing { .. }) => {
                        return Err(Error::malformed(
                            dir.display().to_string(),
                            "not an OCI image layout (no oci-layout file)",
                        ));
                    }
                    Err(e) => return Err(e),
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
        if layer.digest.is_none() {
            // A legacy `<id>/layer.tar`: its stream is checked against the
            // diff_id below; hashing the blob too would check nothing.
            blob = blob.size_only();
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
                match blob.check() {
                    Err(e) => Err(e),
                    Ok(()) => decoded.and(drained.map(|_| ())),
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
    ///
    /// Layers are read (inflated, hashed, parsed, scanned) on up to as many
    /// threads as there are cores, each taking the next unread layer, and
    /// applied to the tree in order as they arrive: one layer's inflating
    /// alone cannot keep two cores busy. What waits to be applied is only
    /// headers and captured metadata, never file bytes. The first failing
    /// layer in layer order is the error reported.
    pub fn apply_layers(&self, flattener: &mut Flattener) -> Result<()> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.apply_layers_on(flattener, cores.min(MAX_LAYER_READERS))
    }

    /// [`Image::apply_layers`] with at most `workers` layers read at once.
    fn apply_layers_on(&self, flattener: &mut Flattener, workers: usize) -> Result<()> {
        let count = self.layers.len();
        let workers = workers.min(count);
        if workers <= 1 {
            for index in 0..count {
                let context = self.layer_context(index);
                self.with_layer(index, |tar| flattener.apply_layer(tar, &context))?;
            }
            return Ok(());
        }
        let parser = std::mem::take(&mut flattener.parser);
        let next = AtomicUsize::new(0);
        let applied = std::thread::scope(|scope| {
            let (done, arrivals) = std::sync::mpsc::channel();
            for _ in 0..workers {
                let done = done.clone();
                let (parser, next) = (&parser, &next);
                scope.spawn(move || {
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        if index >= count {
                            break;
                        }
                        let context = self.layer_context(index);
                        let parsed = self.with_layer(index, |tar| parser.parse(tar, &context));
                        // The receiver is gone once a layer failed: stop.
                        if done.send((index, parsed)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(done);
            let mut waiting = std::collections::BTreeMap::new();
            let mut wanted = 0;
            for (index, parsed) in arrivals {
                waiting.insert(index, parsed);
                while let Some(parsed) = waiting.remove(&wanted) {
                    let applied = parsed.and_then(|parsed| {
                        flattener.apply_parsed(parsed, &self.layer_context(wanted))
                    });
                    if let Err(err) = applied {
                        // No new layer is started; those being read finish.
                        next.store(count, Ordering::Relaxed);
                        return Err(err);
                    }
                    wanted += 1;
                }
            }
            Ok(())
        });
        flattener.parser = parser;
        applied
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{E, layer, oci_layout};
    use crate::tree::{Content, Node, NodeKind};

    /// Every (path, node, content) of a tree, and what each layer did.
    type Outcome = (Vec<(String, Node, Option<Content>)>, Vec<LayerChanges>);

    fn outcome(flattener: Flattener) -> Outcome {
        let (tree, changes) = flattener.finish();
        let nodes = tree
            .iter()
            .map(|(path, node)| {
                let content = match node.kind {
                    NodeKind::File(id) => Some(tree.content(id).clone()),
                    _ => None,
                };
                (path.to_string(), node.clone(), content)
            })
            .collect();
        (nodes, changes)
    }

    fn big(size: usize) -> &'static [u8] {
        Box::leak(vec![7u8; size].into_boxed_slice())
    }

    /// Layers whose meaning depends on their order: whiteouts, an opaque
    /// folder, a symlinked parent, hardlinks into a lower layer.
    fn ordered_layers() -> Vec<Vec<u8>> {
        use E::*;
        vec![
            layer(&[
                Dir("usr"),
                Dir("usr/lib"),
                Sym("lib", "usr/lib"),
                File("etc/a", b"1"),
            ]),
            layer(&[
                File("lib/x.so", big(3 << 20)),
                File("etc/b", b"2"),
                Dir("opt"),
            ]),
            layer(&[
                Whiteout("etc/a"),
                File("opt/keep", b"3"),
                Hard("opt/link", "etc/b"),
            ]),
            layer(&[Opaque("opt"), File("opt/new", b"4"), File("etc/a", b"5")]),
            layer(&[File("lib/x.so", b"small now"), Whiteout("etc/b")]),
            layer(&[
                Hard("etc/c", "opt/new"),
                Sym("bin", "usr/bin"),
                Dir("usr/bin"),
            ]),
        ]
    }

    #[test]
    fn layers_read_at_once_give_the_tree_of_one_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let layers = ordered_layers();
        let image = Image::open(&oci_layout(dir.path(), &layers), &Platform::default()).unwrap();
        let mut one_at_a_time = Flattener::new();
        for (index, tar) in layers.iter().enumerate() {
            one_at_a_time
                .apply_layer(&tar[..], &format!("layer {index}"))
                .unwrap();
        }
        let want = outcome(one_at_a_time);
        for workers in [1, 2, 3, 6] {
            let mut flattener = Flattener::new();
            image.apply_layers_on(&mut flattener, workers).unwrap();
            assert_eq!(outcome(flattener), want, "{workers} workers");
        }
    }

    #[test]
    fn first_failing_layer_in_order_is_the_error() {
        use E::*;
        // Layer 2 is slow to read and bad; layer 3 is quick and bad too:
        // layer 3's error arrives first but layer 2's is the one reported.
        // Layer 4 fails only when applied (a hardlink to nothing).
        let layers = vec![
            layer(&[File("a", b"1")]),
            layer(&[File("big", big(8 << 20)), File("../escape2", b"x")]),
            layer(&[File("../escape3", b"x")]),
            layer(&[Hard("x", "missing")]),
        ];
        let dir = tempfile::tempdir().unwrap();
        let image = Image::open(&oci_layout(dir.path(), &layers), &Platform::default()).unwrap();
        for workers in [1, 2, 4] {
            let err = image
                .apply_layers_on(&mut Flattener::new(), workers)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("layer 2") && err.contains("escape2"),
                "{workers}: {err}"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let image = Image::open(
            &oci_layout(
                dir.path(),
                &[layers[0].clone(), layers[3].clone(), layers[2].clone()],
            ),
            &Platform::default(),
        )
        .unwrap();
        let err = image
            .apply_layers_on(&mut Flattener::new(), 3)
            .unwrap_err()
            .to_string();
        assert!(err.contains("layer 2") && err.contains("missing"), "{err}");
    }
}
