//! The `docker-daemon:` transport: images in the local Docker Engine.
//!
//! Reading: the Engine's `docker save` stream goes into one unnamed
//! temporary file, then is read as any docker archive (every blob and
//! diff_id checked). Why a copy: the Engine sends layers in the order of a
//! hash, not base to top (measured on every store, see
//! `docs/research/docker-daemon-and-registry.md`), so applying them while
//! they arrive would mean holding all but the base in memory; and the
//! legacy store itself writes the whole export to a temporary folder before
//! the first byte. skopeo and Syft spool the same way. The file has no name
//! (`O_TMPFILE`), so nothing is left behind however pare ends.
//!
//! Writing: the image is written as a docker archive (Docker 25's layout,
//! which every Engine loads) to a temporary folder and streamed into `docker
//! load`. The Engine loads and tags nothing unless the whole archive
//! arrives and checks out, so a failure leaves no half-written image.

use std::io::{BufWriter, Write};
use std::path::Path;

use pare_daemon::Engine;

use crate::error::{Error, Result};
use crate::image::{Image, OpenOptions};
use crate::reference::ImageRef;
use crate::store::TarStore;
use crate::write::Written;

/// Bytes a save may take beyond the uncompressed-layers limit: configs,
/// manifests, tar headers.
const EXPORT_OVERHEAD: u64 = 64 << 20;

/// Opens image `name` of the Engine `DOCKER_HOST` names.
pub(crate) fn open(reference: &ImageRef, name: &str, options: &OpenOptions) -> Result<Image> {
    let shown = reference.to_string();
    let engine = Engine::connect()?;
    let file = tempfile::tempfile().map_err(|e| Error::io("a temporary file for the export", e))?;
    let limit = options
        .limits
        .uncompressed_bytes
        .saturating_add(EXPORT_OVERHEAD);
    {
        let mut out = BufWriter::with_capacity(1 << 20, &file);
        let progress = options.progress.start(&format!("exporting {shown}"), None);
        let exported = engine.export(name, &mut out, limit, &mut |n| progress.set(n));
        progress.finish();
        exported?;
        out.flush()
            .map_err(|e| Error::io("a temporary file for the export", e))?;
    }
    let store = TarStore::from_file(file, Path::new(&shown))?;
    // The export holds the one image asked for; its RepoTags may be empty
    // (an image named by ID) or differ in form (`nginx` → `nginx:latest`).
    crate::docker_archive::open(reference.clone(), Box::new(store), None, &options.limits)
}

/// What `docker-daemon:NAME` names as a destination: `NAME:TAG`, `latest`
/// when no tag is given, as `docker tag` does. A digest cannot be written.
pub(crate) fn destination_tag(reference: &ImageRef, name: &str) -> Result<String> {
    if name.contains('@') {
        return Err(Error::Reference {
            reference: reference.to_string(),
            message: "a digest names an image to read; name the image to write as NAME[:TAG]"
                .into(),
        });
    }
    let last = name.rsplit('/').next().unwrap_or(name);
    Ok(if last.contains(':') {
        name.to_string()
    } else {
        format!("{name}:latest")
    })
}

/// Writes an image into the Engine: `write` writes it as a docker archive
/// to the reference it is given, which is then loaded.
pub(crate) fn write(
    destination: &ImageRef,
    name: &str,
    progress: &crate::progress::ProgressSink,
    write: impl FnOnce(&ImageRef) -> Result<Written>,
) -> Result<Written> {
    let tag = destination_tag(destination, name)?;
    // Connect first: no Engine, no point in writing the archive.
    let engine = Engine::connect()?;
    let staging = tempfile::Builder::new()
        .prefix(".pare-tmp-")
        .tempdir()
        .map_err(|e| Error::io("a temporary folder for the load", e))?;
    let archive_path = staging.path().join("image.tar");
    let archive = ImageRef::DockerArchive {
        path: archive_path.clone(),
        name: Some(tag.clone()),
    };
    let mut written = write(&archive)?;
    let (file, size) = crate::store::open_regular(&archive_path)?;
    let task = progress.start(&format!("loading into {destination}"), Some(size));
    let shared = task.clone();
    let lines = engine.load(Box::new(file), Box::new(move |n| shared.set(n)));
    task.finish();
    let lines = lines?;
    let expected = format!("Loaded image: {tag}");
    if !lines.contains(&expected) {
        return Err(Error::Daemon(pare_daemon::Error::Load {
            host: engine.host().to_string(),
            message: format!("expected {expected:?}, it said {:?}", lines.join("; ")),
        }));
    }
    written.destination = destination.to_string();
    Ok(written)
}
