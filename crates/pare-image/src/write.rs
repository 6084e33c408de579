//! Writing images: OCI layouts, OCI archives and docker archives.
//!
//! Everything is staged in a temporary folder next to the destination and
//! moved into place only when complete, so a failure (a bad blob found
//! half-way, a full disk) leaves nothing at the destination.
//!
//! The docker-archive writer is hand-written (no crate writes this layout).
//! It writes what Docker 25 and later write with `docker save`: an OCI
//! layout (`oci-layout`, `index.json`, `blobs/sha256/…`) plus the
//! `manifest.json` that `docker load` reads, with uncompressed layers.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::compression::{Compression, Compressor, sniff_stream};
use crate::digest::{Digest, HashingWriter};
use crate::error::{Error, Result};
use crate::flatten::Flattener;
use crate::image::{Image, Repeats, TeeReader};
use crate::oci::{CONTAINERD_NAME, REF_NAME};
use crate::reference::ImageRef;
use crate::source::Source;
use crate::spool::Spool;
use crate::store::open_regular;
use crate::tree::{DataSource, FileTree, NodeKind};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// How to write.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// Layer compression; by default gzip for OCI, none for docker archives
    /// (what `docker save` and skopeo write).
    pub compression: Option<Compression>,
    /// Level of the layers compressed here (`Compression::levels`);
    /// `None` for the compressor's default. Blobs copied byte for byte
    /// keep theirs.
    pub compression_level: Option<u32>,
    /// Annotations of the written manifest (e.g. `org.opencontainers.image.base.name`).
    pub manifest_annotations: std::collections::BTreeMap<String, String>,
    /// Where a transfer after writing (a load into the Engine, a push)
    /// reports how far it is.
    pub progress: crate::progress::ProgressSink,
    /// How to reach registries (`docker://`).
    pub registry: crate::registry::RegistryOptions,
}

/// What was written.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Written {
    pub destination: String,
    pub manifest_digest: Digest,
    pub config_digest: Digest,
    pub layers: Vec<Digest>,
}

/// A layer blob complete in the staging folder, handed to whoever wants
/// to send it on while the rest is written (a push): open, so it stays
/// readable when the staging folder is moved into place.
pub(crate) struct StagedBlob {
    pub digest: Digest,
    pub size: u64,
    pub file: File,
}

/// Where [`StagedBlob`]s are announced.
pub(crate) type Announce = std::sync::mpsc::Sender<StagedBlob>;

/// A blob written to the staging folder.
#[derive(Clone)]
struct Blob {
    digest: Digest,
    size: u64,
    media_type: String,
}

/// A destination made ready: the staging folder every blob goes to first.
struct Prepared {
    target: PathBuf,
    name: Option<String>,
    archive: Format,
    compression: Compression,
    parent: PathBuf,
    staging: tempfile::TempDir,
    layout: Layout,
    shown: String,
    manifest_annotations: std::collections::BTreeMap<String, String>,
}

/// Checks `destination` and stages beside it; each layer blob is
/// announced to `announce` once complete.
fn prepare(
    destination: &ImageRef,
    options: &WriteOptions,
    announce: Option<Announce>,
) -> Result<Prepared> {
    let (target, name, archive) = match destination {
        ImageRef::DockerArchive { path, name } => (path, name, Format::DockerArchive),
        ImageRef::Oci { dir, name } => (dir, name, Format::OciDir),
        ImageRef::OciArchive { path, name } => (path, name, Format::OciArchive),
        other => {
            return Err(Error::unsupported(
                other.to_string(),
                format!("writing to the {} transport", other.transport()),
            ));
        }
    };
    // `@N` picks an image to read by position; written, it would become a
    // name that reads back as a position (c/image's docker/archive/dest.go
    // refuses it the same way: "must not contain a manifest index").
    if let Some(name) = name.as_deref().filter(|n| n.starts_with('@')) {
        return Err(Error::Reference {
            reference: destination.to_string(),
            message: format!("{name}: a position picks an image to read; name the image to write"),
        });
    }
    let shown = target.display().to_string();
    let compression = options.compression.unwrap_or(match archive {
        Format::DockerArchive => Compression::None,
        _ => Compression::Gzip,
    });
    if let Some(level) = options.compression_level
        && !compression.has_level(level)
    {
        let message = match compression.levels() {
            None => {
                format!("compression level {level} for uncompressed layers (choose gzip or zstd)")
            }
            Some(levels) => format!(
                "compression level {level} for {} layers (from {} to {})",
                format!("{compression:?}").to_lowercase(),
                levels.start(),
                levels.end()
            ),
        };
        return Err(Error::unsupported(destination.to_string(), message));
    }
    if archive == Format::OciDir && target.exists() {
        let empty = fs::read_dir(target)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty {
            return Err(Error::Destination {
                path: shown,
                message: "already exists; remove it first or name a new folder".into(),
            });
        }
    }
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| Error::io(parent.display(), e))?;
    let staging = tempfile::Builder::new()
        .prefix(".pare-tmp-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io(parent.display(), e))?;
    let layout = Layout::new(staging.path(), announce, options.compression_level)?;
    Ok(Prepared {
        target: target.clone(),
        name: name.clone(),
        archive,
        compression,
        parent,
        staging,
        layout,
        shown,
        manifest_annotations: options.manifest_annotations.clone(),
    })
}

/// Writes `source` to `destination`.
pub fn write_image(
    source: &Source,
    destination: &ImageRef,
    options: &WriteOptions,
) -> Result<Written> {
    write_image_announcing(source, destination, options, None)
}

/// [`write_image`], announcing each layer blob as it is complete.
fn write_image_announcing(
    source: &Source,
    destination: &ImageRef,
    options: &WriteOptions,
    announce: Option<Announce>,
) -> Result<Written> {
    if let ImageRef::DockerDaemon { name } = destination {
        return crate::daemon::write(destination, name, &options.progress, |archive| {
            write_image(source, archive, options)
        });
    }
    if let ImageRef::Registry { reference } = destination {
        let mount_from = crate::registry::source_repository(source.reference());
        return crate::registry::write(
            destination,
            reference,
            &options.registry,
            &options.progress,
            mount_from,
            |layout, announce| write_image_announcing(source, layout, options, Some(announce)),
        );
    }
    let prepared = prepare(destination, options, announce)?;
    let (layout, compression) = (&prepared.layout, prepared.compression);
    let (config_bytes, layers) = match source {
        Source::Image(image) => {
            let mut layers: Vec<Blob> = Vec::new();
            let mut flattener = Flattener::with_limits(image.limits.clone());
            // A blob listed again is written (and read) once; its parse is
            // applied again, so the layers are checked as a whole.
            let mut repeats = Repeats::new(image)?;
            for index in 0..image.layers.len() {
                let context = image.layer_context(index);
                let source = repeats.source(index);
                let read = if source == index {
                    // A blob applied once streams into the tree as it is
                    // copied; one applied again is kept whole to replay.
                    let whole = repeats.is_repeated(index);
                    let mut parsed = None;
                    let blob = layout.copy_layer(image, index, compression, &mut |tar| {
                        if whole {
                            parsed = Some(flattener.parser.parse(tar, &context)?);
                            Ok(())
                        } else {
                            flattener.apply_layer(tar, &context)
                        }
                    })?;
                    layers.push(blob);
                    if !whole {
                        continue;
                    }
                    Some(parsed.ok_or_else(|| Error::malformed(&context, "layer not parsed"))?)
                } else {
                    layers.push(layers[source].clone());
                    None
                };
                let parsed = repeats.parsed_for(index, read, &context)?;
                flattener.apply_parsed(parsed, &context)?;
            }
            (image.config_bytes.clone(), layers)
        }
        Source::Root { reference, config } => {
            let ImageRef::Dir { path } = reference else {
                unreachable!("a Root source is always dir:")
            };
            let (tree, _) = crate::rootfs::read_root(path)?;
            let (blob, diff_id) =
                layout.write_layer(compression, |out| write_layer_tar(&tree, out, None))?;
            let mut config = config.clone();
            config.rootfs_mut().diff_ids_mut().push(diff_id.to_string());
            config.set_history(Some(vec![
                oci_spec::image::HistoryBuilder::default()
                    .created_by(format!("pare copy {reference}"))
                    .build()
                    .expect("all fields optional"),
            ]));
            let bytes = serde_json::to_vec(&config).expect("config serialises");
            (bytes, vec![blob])
        }
    };
    let source_name = match source {
        Source::Image(image) => image.names.first().cloned(),
        Source::Root { .. } => None,
    };
    finish(prepared, destination, &config_bytes, layers, source_name)
}

/// Writes a new one-layer image: `tree` as its layer (file bytes from
/// `spool` or the host), `config` with that layer's diff_id added.
pub fn write_built_image(
    tree: &FileTree,
    spool: Option<&Spool>,
    config: &oci_spec::image::ImageConfiguration,
    mtime_clamp: Option<u64>,
    destination: &ImageRef,
    options: &WriteOptions,
) -> Result<Written> {
    let built = Built {
        tree,
        spool,
        config,
        mtime_clamp,
    };
    write_built(&built, destination, options, None)
}

/// The image [`write_built_image`] writes.
struct Built<'a> {
    tree: &'a FileTree,
    spool: Option<&'a Spool>,
    config: &'a oci_spec::image::ImageConfiguration,
    mtime_clamp: Option<u64>,
}

/// [`write_built_image`], announcing the layer blob when it is complete.
fn write_built(
    built: &Built<'_>,
    destination: &ImageRef,
    options: &WriteOptions,
    announce: Option<Announce>,
) -> Result<Written> {
    if let ImageRef::DockerDaemon { name } = destination {
        return crate::daemon::write(destination, name, &options.progress, |archive| {
            write_built(built, archive, options, None)
        });
    }
    if let ImageRef::Registry { reference } = destination {
        return crate::registry::write(
            destination,
            reference,
            &options.registry,
            &options.progress,
            None,
            |layout, announce| write_built(built, layout, options, Some(announce)),
        );
    }
    let prepared = prepare(destination, options, announce)?;
    let (blob, diff_id) = prepared.layout.write_layer(prepared.compression, |out| {
        write_layer_tar_from(built.tree, out, built.mtime_clamp, built.spool)
    })?;
    let mut config = built.config.clone();
    config.rootfs_mut().set_diff_ids(vec![diff_id.to_string()]);
    let bytes = serde_json::to_vec(&config).expect("config serialises");
    finish(prepared, destination, &bytes, vec![blob], None)
}

/// Writes config, manifest and index, and moves the result into place.
fn finish(
    prepared: Prepared,
    destination: &ImageRef,
    config_bytes: &[u8],
    layers: Vec<Blob>,
    source_name: Option<String>,
) -> Result<Written> {
    let Prepared {
        target,
        name,
        archive,
        parent,
        staging,
        layout,
        shown,
        manifest_annotations,
        ..
    } = prepared;
    let target = &target;
    let config = layout.put_bytes(config_bytes, OCI_CONFIG)?;
    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(&config),
        "layers": layers.iter().map(descriptor).collect::<Vec<_>>(),
    });
    if !manifest_annotations.is_empty() {
        manifest["annotations"] = json!(manifest_annotations);
    }
    let manifest = layout.put_bytes(&to_json(&manifest), OCI_MANIFEST)?;

    let name = name.clone().or(source_name);
    let mut manifest_entry = descriptor(&manifest);
    if let Some(name) = &name {
        let mut annotations = serde_json::Map::new();
        if archive == Format::DockerArchive {
            annotations.insert(CONTAINERD_NAME.into(), json!(full_docker_name(name)));
            annotations.insert(REF_NAME.into(), json!(tag_of(&full_docker_name(name))));
        } else {
            annotations.insert(REF_NAME.into(), json!(name));
        }
        manifest_entry["annotations"] = serde_json::Value::Object(annotations);
    }
    let index = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [manifest_entry],
    });
    layout.put_file("index.json", &to_json(&index))?;
    layout.put_file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    if archive == Format::DockerArchive {
        let tags: Vec<String> = name.iter().map(|n| full_docker_name(n)).collect();
        let docker_manifest = json!([{
            "Config": config.digest.blob_path(),
            "RepoTags": if tags.is_empty() { serde_json::Value::Null } else { json!(tags) },
            "Layers": layers.iter().map(|l| l.digest.blob_path()).collect::<Vec<_>>(),
        }]);
        layout.put_file("manifest.json", &to_json(&docker_manifest))?;
    }

    match archive {
        Format::OciDir => {
            let kept = staging.keep();
            if let Err(e) = fs::rename(&kept, target) {
                let _ = fs::remove_dir_all(&kept);
                return Err(Error::io(&shown, e));
            }
        }
        Format::DockerArchive | Format::OciArchive => {
            let tmp = tempfile::Builder::new()
                .prefix(".pare-tmp-")
                .tempfile_in(&parent)
                .map_err(|e| Error::io(parent.display(), e))?;
            let mut out = BufWriter::with_capacity(1 << 20, tmp);
            pack_folder(staging.path(), &mut out).map_err(|e| Error::io(&shown, e))?;
            let tmp = out
                .into_inner()
                .map_err(|e| Error::io(&shown, e.into_error()))?;
            tmp.as_file().sync_all().map_err(|e| Error::io(&shown, e))?;
            tmp.persist(target)
                .map_err(|e| Error::io(&shown, e.error))?;
        }
    }
    Ok(Written {
        destination: destination.to_string(),
        manifest_digest: manifest.digest,
        config_digest: config.digest,
        layers: layers.into_iter().map(|l| l.digest).collect(),
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    DockerArchive,
    OciDir,
    OciArchive,
}

fn descriptor(blob: &Blob) -> serde_json::Value {
    json!({"mediaType": blob.media_type, "digest": blob.digest.to_string(), "size": blob.size})
}

fn to_json(value: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON values serialise")
}

/// `redis` → `redis:latest`, as Docker names images in RepoTags.
fn full_docker_name(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') || last.contains('@') {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

fn tag_of(name: &str) -> &str {
    let last = name.rsplit('/').next().unwrap_or(name);
    last.rsplit_once(':').map_or("latest", |(_, tag)| tag)
}

/// The staging folder, laid out as an OCI image layout.
struct Layout {
    root: PathBuf,
    blobs: PathBuf,
    /// Told of every streamed (layer) blob once it is complete.
    announce: Option<Announce>,
    /// Level of the layers compressed here.
    level: Option<u32>,
}

impl Layout {
    fn new(root: &Path, announce: Option<Announce>, level: Option<u32>) -> Result<Self> {
        let blobs = root.join("blobs/sha256");
        fs::create_dir_all(&blobs).map_err(|e| Error::io(blobs.display(), e))?;
        Ok(Layout {
            root: root.to_path_buf(),
            blobs,
            announce,
            level,
        })
    }

    fn put_file(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.root.join(name);
        fs::write(&path, bytes).map_err(|e| Error::io(path.display(), e))
    }

    fn put_bytes(&self, bytes: &[u8], media_type: &str) -> Result<Blob> {
        let digest = Digest::of(bytes);
        let path = self.blobs.join(digest.hex());
        fs::write(&path, bytes).map_err(|e| Error::io(path.display(), e))?;
        Ok(Blob {
            digest,
            size: bytes.len() as u64,
            media_type: media_type.to_string(),
        })
    }

    /// Streams a blob into the layout through `fill`, naming it by digest.
    fn put_stream(
        &self,
        media_type: &str,
        fill: impl FnOnce(&mut HashingWriter<BufWriter<File>>) -> Result<()>,
    ) -> Result<Blob> {
        let tmp = tempfile::NamedTempFile::new_in(&self.blobs)
            .map_err(|e| Error::io(self.blobs.display(), e))?;
        let file = tmp
            .reopen()
            .map_err(|e| Error::io(tmp.path().display(), e))?;
        let mut out = HashingWriter::new(BufWriter::with_capacity(1 << 20, file));
        fill(&mut out)?;
        let (digest, size, buffered) = out.finish();
        let file = buffered
            .into_inner()
            .map_err(|e| Error::io(tmp.path().display(), e.into_error()))?;
        let path = self.blobs.join(digest.hex());
        tmp.persist(&path)
            .map_err(|e| Error::io(path.display(), e.error))?;
        if let Some(announce) = &self.announce {
            // Nobody listening any more (a push failed) is the listener's
            // story, told when the write is done.
            let _ = announce.send(StagedBlob {
                digest: digest.clone(),
                size,
                file,
            });
        }
        Ok(Blob {
            digest,
            size,
            media_type: media_type.to_string(),
        })
    }

    /// Writes an uncompressed layer tar produced by `produce`, compressed
    /// as asked; returns the blob and the diff_id.
    fn write_layer(
        &self,
        compression: Compression,
        produce: impl FnOnce(&mut dyn Write) -> Result<()>,
    ) -> Result<(Blob, Digest)> {
        let mut diff_id = None;
        let blob = self.put_stream(compression.oci_layer_media_type(), |out| {
            let compressor = Compressor::with_level(out, compression, self.level)
                .map_err(|e| Error::io("compressor", e))?;
            let mut tar = HashingWriter::new(compressor);
            produce(&mut tar)?;
            let (digest, _, compressor) = tar.finish();
            compressor
                .finish()
                .map_err(|e| Error::io("compressor", e))?;
            diff_id = Some(digest);
            Ok(())
        })?;
        Ok((blob, diff_id.expect("set by the closure")))
    }

    /// Copies layer `index` of `image`: byte for byte when it already has
    /// the wanted compression, otherwise decompressed and compressed again.
    /// Either way the uncompressed tar goes through `read` on the way (the
    /// caller parses it), so a hostile layer is refused, and its digest and
    /// diff_id are checked.
    fn copy_layer(
        &self,
        image: &Image,
        index: usize,
        compression: Compression,
        read: &mut dyn FnMut(&mut dyn Read) -> Result<()>,
    ) -> Result<Blob> {
        let context = image.layer_context(index);
        let (have, _) = sniff_stream(&mut image.layer_blob(index)?, &context)?;
        if have == compression {
            return self.put_stream(compression.oci_layer_media_type(), |out| {
                image.with_layer_tee(index, Some(out), |tar| read(tar))
            });
        }
        let (written, _) = self.write_layer(compression, |out| {
            image.with_layer(index, |tar| {
                let mut tee = TeeReader {
                    inner: tar,
                    tee: Some(out),
                };
                read(&mut tee)?;
                io::copy(&mut tee, &mut io::sink()).map_err(|e| Error::io(&context, e))?;
                Ok(())
            })
        })?;
        Ok(written)
    }
}

/// Writes `tree` as a layer tar: sorted paths, numeric owners, hardlinks
/// for paths that share content, xattrs as PAX records. Only host-backed
/// contents can be written yet. `mtime_clamp` caps timestamps (for
/// reproducible output).
pub fn write_layer_tar(
    tree: &FileTree,
    out: &mut dyn Write,
    mtime_clamp: Option<u64>,
) -> Result<()> {
    write_layer_tar_from(tree, out, mtime_clamp, None)
}

/// Like [`write_layer_tar`], reading files that live in layers from `spool`.
pub fn write_layer_tar_from(
    tree: &FileTree,
    out: &mut dyn Write,
    mtime_clamp: Option<u64>,
    spool: Option<&Spool>,
) -> Result<()> {
    let mut builder = tar::Builder::new(out);
    let mut first_path: Vec<Option<String>> = vec![None; tree.contents().len()];
    for (path, node) in tree.iter() {
        if path.is_empty() {
            continue;
        }
        let context = || format!("/{path}");
        let mut header = tar::Header::new_gnu();
        header.set_mode(node.mode);
        header.set_uid(node.uid);
        header.set_gid(node.gid);
        header.set_mtime(mtime_clamp.map_or(node.mtime, |c| node.mtime.min(c)));
        header.set_size(0);
        if !node.xattrs.is_empty() {
            let keys: Vec<String> = node
                .xattrs
                .iter()
                .map(|(k, _)| format!("SCHILY.xattr.{k}"))
                .collect();
            let records = keys
                .iter()
                .zip(&node.xattrs)
                .map(|(k, (_, v))| (k.as_str(), v.as_slice()));
            builder
                .append_pax_extensions(records)
                .map_err(|e| Error::io(context(), e))?;
        }
        let result = match &node.kind {
            NodeKind::Dir => {
                header.set_entry_type(tar::EntryType::Directory);
                builder.append_data(&mut header, format!("{path}/"), io::empty())
            }
            NodeKind::File(id) => {
                if let Some(first) = &first_path[*id] {
                    header.set_entry_type(tar::EntryType::Link);
                    builder.append_link(&mut header, &path, first)
                } else {
                    first_path[*id] = Some(path.to_string());
                    let content = tree.content(*id);
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_size(content.size);
                    let reader = open_content(&content.source, content.size, spool, &context())?;
                    builder.append_data(&mut header, &path, reader)
                }
            }
            NodeKind::Symlink(target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                builder.append_link(&mut header, &path, target)
            }
            NodeKind::CharDevice { major, minor } | NodeKind::BlockDevice { major, minor } => {
                header.set_entry_type(if matches!(node.kind, NodeKind::CharDevice { .. }) {
                    tar::EntryType::Char
                } else {
                    tar::EntryType::Block
                });
                header
                    .set_device_major(*major)
                    .map_err(|e| Error::io(context(), e))?;
                header
                    .set_device_minor(*minor)
                    .map_err(|e| Error::io(context(), e))?;
                builder.append_data(&mut header, &path, io::empty())
            }
            NodeKind::Fifo => {
                header.set_entry_type(tar::EntryType::Fifo);
                builder.append_data(&mut header, &path, io::empty())
            }
        };
        result.map_err(|e| Error::io(context(), e))?;
    }
    builder.finish().map_err(|e| Error::io("layer", e))?;
    Ok(())
}

/// Opens a file's bytes, insisting on exactly `size` of them: a file that
/// grows or shrinks while being copied would corrupt the tar.
pub fn open_content(
    source: &DataSource,
    size: u64,
    spool: Option<&Spool>,
    context: &str,
) -> Result<Box<dyn Read>> {
    match source {
        DataSource::Host(path) => {
            let (file, len) = open_regular(path)?;
            if len != size {
                return Err(Error::malformed(
                    path.display().to_string(),
                    "changed while being read",
                ));
            }
            Ok(Box::new(ExactReader {
                inner: io::BufReader::with_capacity(256 * 1024, file).take(size),
                remaining: size,
            }))
        }
        DataSource::Layer { layer, offset } => match spool {
            Some(spool) => spool.open(*layer, *offset, context),
            None => Err(Error::unsupported(
                context,
                "writing a file that lives in a layer without its bytes spooled",
            )),
        },
    }
}

/// Fails instead of ending early when the source runs short.
struct ExactReader<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> Read for ExactReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.remaining > 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file shrank while being read",
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Packs the staging folder into a tar: sorted, fixed owner, mode and time,
/// so the same image gives the same archive.
fn pack_folder(root: &Path, out: &mut dyn Write) -> io::Result<()> {
    let mut builder = tar::Builder::new(out);
    let mut stack = vec![PathBuf::new()];
    let mut files = Vec::new();
    while let Some(rel) = stack.pop() {
        let mut entries: Vec<_> = fs::read_dir(root.join(&rel))?.collect::<io::Result<_>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let child = rel.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                files.push((child.clone(), true));
                stack.push(child);
            } else {
                files.push((child, false));
            }
        }
    }
    files.sort();
    for (rel, is_dir) in files {
        let mut header = tar::Header::new_ustar();
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        if is_dir {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
            builder.append_data(&mut header, format!("{}/", rel.display()), io::empty())?;
        } else {
            let file = File::open(root.join(&rel))?;
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(0o644);
            header.set_size(file.metadata()?.len());
            builder.append_data(
                &mut header,
                &rel,
                io::BufReader::with_capacity(1 << 20, file),
            )?;
        }
    }
    builder.finish()
}
