//! An image opened from a transport: verified manifest and config, and
//! layers that are streamed (never loaded) with their digests checked.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::{Condvar, Mutex, mpsc};

use oci_spec::image::ImageConfiguration;

use crate::compression::decompress;
use crate::digest::{Digest, VerifyingReader};
use crate::error::{Error, Result};
use crate::flatten::{Flattener, LayerChanges, LayerEvent, LayerParser, ParsedLayer};
use crate::limits::{self, Limits};
use crate::reference::{ImageRef, read_bounded};
use crate::store::{DirStore, Store, TarStore};
use crate::tree::FileTree;
use crate::{docker_archive, oci};

/// Layers read at once by [`Image::apply_layers`]; each holds up to a
/// 3 MB pipe and a few threads, so more would only cost memory.
const MAX_LAYER_READERS: usize = 4;

/// Entries read from layers past the one being applied that may wait to
/// be applied, all such layers together (a few tens of MB of headers and
/// captured metadata at most): a big layer read while the layers below it
/// are applied keeps its entries here instead of waiting its turn.
const EVENTS_AHEAD: usize = if cfg!(test) { 4096 } else { 1 << 17 };

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
    /// The limits it was opened with, and is read within.
    pub limits: Limits,
}

/// How to open an image: which platform of a multi-platform index, and
/// the limits to read it within.
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    pub platform: Platform,
    pub limits: Limits,
    /// Where a transfer before reading (an export from the Engine, a pull)
    /// reports how far it is.
    pub progress: crate::progress::ProgressSink,
    /// How to reach registries (`docker://`).
    pub registry: crate::registry::RegistryOptions,
}

impl Image {
    /// Opens an image from an archive or a layout; `dir:` and the network
    /// transports are handled by [`crate::Source`].
    pub fn open(reference: &ImageRef, platform: &Platform) -> Result<Self> {
        Image::open_with(
            reference,
            &OpenOptions {
                platform: platform.clone(),
                limits: Limits::default(),
                progress: Default::default(),
                registry: Default::default(),
            },
        )
    }

    /// [`Image::open`] with explicit options.
    pub fn open_with(reference: &ImageRef, options: &OpenOptions) -> Result<Self> {
        let OpenOptions {
            platform, limits, ..
        } = options;
        match reference {
            ImageRef::DockerArchive { path, name } => {
                let store = TarStore::open(path)?;
                docker_archive::open(reference.clone(), Box::new(store), name.as_deref(), limits)
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
                    limits,
                )
            }
            ImageRef::OciArchive { path, name } => {
                let store = TarStore::open(path)?;
                oci::open(
                    reference.clone(),
                    Box::new(store),
                    name.as_deref(),
                    platform,
                    limits,
                )
            }
            ImageRef::Dir { .. } => Err(Error::unsupported(
                reference.to_string(),
                "a root folder is not an image; open it as a Source",
            )),
            ImageRef::DockerDaemon { name } => crate::daemon::open(reference, name, options),
            ImageRef::Registry { reference: text } => {
                crate::registry::open(reference, text, options)
            }
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
                        writer
                            .fill_from(&mut decoded)
                            .map_err(|e| Error::io(&context, e))?;
                        Ok(())
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
        let mut flattener = Flattener::with_limits(self.limits.clone());
        self.apply_layers(&mut flattener)?;
        Ok(flattener.finish())
    }

    /// Feeds every layer, in order, to `flattener`.
    ///
    /// Layers are read (inflated, hashed, parsed, scanned) on up to as many
    /// threads as there are cores, and applied to the tree in order as
    /// their entries stream in: one layer's inflating alone cannot keep two
    /// cores busy. A free thread takes the layer applied next when nobody
    /// reads it yet, else the biggest unread one, so a big layer late in
    /// the manifest is not read alone at the end. What waits to be applied
    /// is only headers and captured metadata, never file bytes: a few
    /// batches of the layer applied next, and `EVENTS_AHEAD` entries of
    /// the layers past it, all together; a slow layer holds the others back
    /// instead of letting them pile up. A blob the manifest lists again is
    /// read once; its entries
    /// are applied again at each listing. The first failing layer in layer
    /// order is the error reported.
    pub fn apply_layers(&self, flattener: &mut Flattener) -> Result<()> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.apply_layers_on(flattener, cores.min(MAX_LAYER_READERS))
    }

    /// For each layer, the first layer that lists the same blob (itself
    /// when it is the first): a blob the manifest lists again is read once.
    pub(crate) fn first_listings(&self) -> Result<Vec<usize>> {
        let mut first_of: HashMap<String, usize> = HashMap::new();
        let mut first = Vec::with_capacity(self.layers.len());
        for (index, layer) in self.layers.iter().enumerate() {
            let key = match &layer.digest {
                Some(digest) => digest.to_string(),
                // Named by path: the same member, links followed.
                None => self.store.identity(&layer.member)?,
            };
            first.push(*first_of.entry(key).or_insert(index));
        }
        Ok(first)
    }

    /// [`Image::apply_layers`] with at most `workers` layers read at once.
    ///
    /// A blob listed more than once is read and parsed at its first
    /// listing only; later listings apply a copy of what was parsed
    /// ([`ParsedLayer::replica`]): the same operation as reading it again,
    /// and the tree a container would see (Docker extracts it again).
    /// Scanners' findings go with the last listing, whose files are the
    /// ones left visible.
    fn apply_layers_on(&self, flattener: &mut Flattener, workers: usize) -> Result<()> {
        let count = self.layers.len();
        let mut repeats = Repeats::new(self)?;
        let distinct: Vec<usize> = (0..count).filter(|&i| repeats.source(i) == i).collect();
        let workers = workers.clamp(1, distinct.len().max(1));
        // The biggest blobs are read first (longest job first): the time of
        // the whole is at least that of the biggest layer, and a big layer
        // last in the manifest would otherwise be read alone at the end.
        // Layers are still applied in order; one read early keeps its
        // entries waiting (see `Gate`).
        let mut by_size = distinct.clone();
        by_size.sort_by_key(|&i| std::cmp::Reverse(self.layers[i].size));
        let parser = std::mem::take(&mut flattener.parser);
        let gate = Gate::new(count);
        // One queue per layer; how much waits in it is bounded by `Gate`.
        // Each sender is taken by the thread that reads its layer and
        // dropped when it is done, even by a panic, so the receiving side
        // never waits on a layer nobody reads.
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..count)
            .map(|_| {
                let (tx, rx) = mpsc::channel::<Arrival>();
                (Mutex::new(Some(tx)), rx)
            })
            .unzip();
        let repeated: Vec<bool> = (0..count).map(|i| repeats.is_repeated(i)).collect();
        let applied = std::thread::scope(|scope| {
            for _ in 0..workers {
                let (parser, gate, distinct, by_size, senders, repeated) =
                    (&parser, &gate, &distinct, &by_size, &senders, &repeated);
                scope.spawn(move || {
                    while let Some(index) = gate.pick(distinct, by_size) {
                        let taken = senders[index]
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .take();
                        let Some(out) = taken else { break };
                        if !self.read_layer(parser, index, repeated[index], &out, gate) {
                            break; // the receiver is gone: a layer failed
                        }
                    }
                });
            }
            let result = (|| {
                for (wanted, arrivals) in receivers.iter().enumerate() {
                    let context = self.layer_context(wanted);
                    let source = repeats.source(wanted);
                    if source != wanted || repeats.is_repeated(wanted) {
                        let read = if source == wanted {
                            match arrivals.recv() {
                                Ok(Arrival::Whole(parsed)) => Some(parsed?),
                                _ => return Err(stopped(&context)),
                            }
                        } else {
                            None
                        };
                        let parsed = repeats.parsed_for(wanted, read, &context)?;
                        flattener.apply_parsed(parsed, &context)?;
                    } else {
                        flattener.begin_layer()?;
                        loop {
                            match arrivals.recv() {
                                Ok(Arrival::Batch(events)) => {
                                    gate.received(wanted, events.len());
                                    for event in events {
                                        if let Err(err) = flattener.apply_event(event, &context) {
                                            return Err(verdict_after(arrivals, err));
                                        }
                                    }
                                }
                                Ok(Arrival::End(read)) => {
                                    flattener.end_layer(read?)?;
                                    break;
                                }
                                _ => return Err(stopped(&context)),
                            }
                        }
                    }
                    gate.applied(wanted + 1);
                }
                Ok(())
            })();
            if result.is_err() {
                // No new layer is started; those being read stop at their
                // next batch.
                gate.stop();
            }
            drop(receivers);
            result
        });
        flattener.parser = parser;
        applied
    }

    /// Reads layer `index` into `out`: whole when its blob is listed again
    /// (it is applied more than once), else as batches of events. False
    /// once nobody receives any more.
    fn read_layer(
        &self,
        parser: &LayerParser,
        index: usize,
        whole: bool,
        out: &mpsc::Sender<Arrival>,
        gate: &Gate,
    ) -> bool {
        let context = self.layer_context(index);
        if whole {
            let parsed = self.with_layer(index, |tar| parser.parse(tar, &context));
            return out.send(Arrival::Whole(parsed)).is_ok();
        }
        let mut batch = Vec::with_capacity(BATCH);
        let read = self.with_layer(index, |tar| {
            let changes = parser.parse_into(tar, &context, &mut |event| {
                batch.push(event);
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    if !gate.may_send(index, full.len()) {
                        return Err(stopped(&context));
                    }
                    out.send(Arrival::Batch(full))
                        .map_err(|_| stopped(&context))?;
                }
                Ok(())
            })?;
            if !batch.is_empty() {
                if !gate.may_send(index, batch.len()) {
                    return Err(stopped(&context));
                }
                out.send(Arrival::Batch(std::mem::take(&mut batch)))
                    .map_err(|_| stopped(&context))?;
            }
            Ok(changes)
        });
        out.send(Arrival::End(read)).is_ok()
    }
}

/// Events read from a layer, in a batch so the queue costs one message per
/// few hundred entries.
const BATCH: usize = 512;

/// Batches a layer may have waiting to be applied.
const BATCHES_AHEAD: usize = 4;

/// What a reading thread hands over for one layer.
enum Arrival {
    Batch(Vec<LayerEvent>),
    /// The layer was read to its end (digest and diff_id checked), or not.
    End(Result<LayerChanges>),
    /// A layer applied more than once, read whole.
    Whole(Result<ParsedLayer>),
}

/// After applying a layer failed part-way: its reader's verdict on the
/// blob, once it has read it to the end, when the blob is not what its
/// descriptor says (its bad bytes are then the story, not what they did
/// to the tree); otherwise `err`.
fn verdict_after(arrivals: &mpsc::Receiver<Arrival>, err: Error) -> Error {
    loop {
        match arrivals.recv() {
            Ok(Arrival::Batch(_)) => continue,
            Ok(Arrival::End(Err(
                e @ (Error::DigestMismatch { .. } | Error::SizeMismatch { .. }),
            ))) => {
                return e;
            }
            _ => return err,
        }
    }
}

fn stopped(context: &str) -> Error {
    Error::malformed(context, "reading stopped: another layer failed")
}

/// The layers of an image that list a blob listed before them, and what
/// was parsed of such a blob until its last listing is applied.
pub(crate) struct Repeats {
    first: Vec<usize>,
    last: Vec<usize>,
    kept: HashMap<usize, ParsedLayer>,
}

impl Repeats {
    pub(crate) fn new(image: &Image) -> Result<Self> {
        let first = image.first_listings()?;
        let mut last: Vec<usize> = (0..first.len()).collect();
        for (index, &source) in first.iter().enumerate() {
            last[source] = index;
        }
        Ok(Repeats {
            first,
            last,
            kept: HashMap::new(),
        })
    }

    /// Whether layer `index`'s blob is listed more than once.
    pub(crate) fn is_repeated(&self, index: usize) -> bool {
        let source = self.first[index];
        source != index || self.last[source] != index
    }

    /// The layer whose blob is read for layer `index`: the first that
    /// lists it (`index` itself unless the blob was listed before).
    pub(crate) fn source(&self, index: usize) -> usize {
        self.first[index]
    }

    /// What to apply as layer `index` (layers taken in order): `read` is
    /// its blob as parsed when `index` is its source, `None` otherwise.
    /// The last listing of a blob gets the parse itself; the others get
    /// replicas.
    pub(crate) fn parsed_for(
        &mut self,
        index: usize,
        read: Option<ParsedLayer>,
        context: &str,
    ) -> Result<ParsedLayer> {
        let source = self.first[index];
        let is_last = self.last[source] == index;
        match read {
            Some(parsed) if is_last => Some(parsed),
            Some(parsed) => {
                let replica = parsed.replica();
                self.kept.insert(source, parsed);
                Some(replica)
            }
            None if is_last => self.kept.remove(&source),
            None => self.kept.get(&source).map(ParsedLayer::replica),
        }
        .ok_or_else(|| Error::malformed(context, "its blob was not read before"))
    }
}

/// Holds reading threads back so that what waits to be applied stays
/// bounded: the layer applied next may have `BATCHES_AHEAD` batches
/// waiting (its reader and the applier run side by side); layers past it
/// may have `EVENTS_AHEAD` entries waiting, all together. A reader past the
/// budget goes on anyway while the layer applied next has not started (all
/// threads would otherwise wait on each other): then what waits is bounded
/// only by the image's own `entries` limit, as the tree is.
struct Gate {
    state: Mutex<GateState>,
    moved: Condvar,
}

struct GateState {
    /// Layers applied so far: the one applied next is this index.
    applied: usize,
    stop: bool,
    started: Vec<bool>,
    /// Entries sent and not yet received, per layer and in all.
    waiting: Vec<usize>,
    waiting_in_all: usize,
}

impl Gate {
    fn new(layers: usize) -> Gate {
        Gate {
            state: Mutex::new(GateState {
                applied: 0,
                stop: false,
                started: vec![false; layers],
                waiting: vec![0; layers],
                waiting_in_all: 0,
            }),
            moved: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The layer a free reading thread reads next, marked as started: the
    /// first unread layer in order when it is the one applied next (so the
    /// applier never waits on a layer nobody reads), else the biggest
    /// unread one. None when all are taken, or to stop.
    fn pick(&self, in_order: &[usize], by_size: &[usize]) -> Option<usize> {
        let mut state = self.lock();
        if state.stop {
            return None;
        }
        let first = in_order.iter().copied().find(|&i| !state.started[i])?;
        let index = if first <= state.applied {
            first
        } else {
            by_size.iter().copied().find(|&i| !state.started[i])?
        };
        state.started[index] = true;
        Some(index)
    }

    /// Waits until layer `index` may send `events` more; false to stop.
    fn may_send(&self, index: usize, events: usize) -> bool {
        let mut state = self.lock();
        loop {
            if state.stop {
                return false;
            }
            let next = state.applied;
            let fits = if index == next {
                state.waiting[index] < BATCHES_AHEAD * BATCH
            } else {
                let ahead = state.waiting_in_all - state.waiting.get(next).copied().unwrap_or(0);
                ahead + events <= EVENTS_AHEAD || !state.started.get(next).copied().unwrap_or(true)
            };
            if fits {
                state.waiting[index] += events;
                state.waiting_in_all += events;
                return true;
            }
            state = self.moved.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The applier took `events` of layer `index`.
    fn received(&self, index: usize, events: usize) {
        let mut state = self.lock();
        state.waiting[index] -= events;
        state.waiting_in_all -= events;
        self.moved.notify_all();
    }

    fn applied(&self, layers: usize) {
        self.lock().applied = layers;
        self.moved.notify_all();
    }

    fn stop(&self) {
        self.lock().stop = true;
        self.moved.notify_all();
    }
}

/// Reads a small metadata blob by digest, checking size and digest.
pub(crate) fn read_blob(
    store: &dyn Store,
    digest: &Digest,
    size: u64,
    json_max: u64,
) -> Result<Vec<u8>> {
    limits::check(|| format!("blob {digest}"), "json-bytes", size, json_max)?;
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
    read_bounded(verifying, json_max, &format!("blob {digest}"))
}

/// Refuses an image that lists more layers than the layers limit, before
/// anything about its layers is read.
pub(crate) fn check_layer_count(count: usize, limits: &Limits, context: &str) -> Result<()> {
    limits::check(
        || format!("{context}: layers listed"),
        "layers",
        count as u64,
        limits.layers,
    )
}

/// Refuses layers that name the same blob with different diff_ids: one
/// of them is wrong, and a blob listed again is read only once.
pub(crate) fn check_repeated_blobs(
    store: &dyn Store,
    layers: &[Layer],
    config_digest: &Digest,
) -> Result<()> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, layer) in layers.iter().enumerate() {
        let key = match &layer.digest {
            Some(digest) => digest.to_string(),
            None => store.identity(&layer.member)?,
        };
        let earlier = *seen.entry(key).or_insert(index);
        if layers[earlier].diff_id != layer.diff_id {
            return Err(Error::malformed(
                format!("config {config_digest}"),
                format!(
                    "layers {} and {} are the same blob {} with different diff_ids ({} and {})",
                    earlier + 1,
                    index + 1,
                    layer.blob_name(),
                    layers[earlier].diff_id,
                    layer.diff_id
                ),
            ));
        }
    }
    Ok(())
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
pub(crate) mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::Source;
    use crate::testutil::{E, layer, oci_layout};
    use crate::tree::{Content, Node, NodeKind};
    use std::sync::atomic::Ordering;

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

    /// Counts how often each member of the store it wraps is opened.
    struct Counting {
        inner: Box<dyn Store>,
        opens: Arc<Mutex<HashMap<String, usize>>>,
    }

    impl Store for Counting {
        fn open(&self, name: &str) -> Result<crate::store::Member> {
            *self
                .opens
                .lock()
                .unwrap()
                .entry(name.to_string())
                .or_default() += 1;
            self.inner.open(name)
        }
        fn describe(&self) -> String {
            self.inner.describe()
        }
        fn identity(&self, name: &str) -> Result<String> {
            self.inner.identity(name)
        }
    }

    /// Wraps the store of `image` to count opens from now on.
    pub(crate) fn count_opens(image: &mut Image) -> Arc<Mutex<HashMap<String, usize>>> {
        let opens = Arc::new(Mutex::new(HashMap::new()));
        let inner = std::mem::replace(
            &mut image.store,
            Box::new(crate::store::DirStore::new(std::path::Path::new("/"))),
        );
        image.store = Box::new(Counting {
            inner,
            opens: opens.clone(),
        });
        opens
    }

    /// An OCI layout whose manifest lists `blobs` in the order `listing`
    /// gives, with the given diff_ids (by default each blob's digest).
    fn layout_listing(
        dir: &std::path::Path,
        blobs: &[Vec<u8>],
        listing: &[usize],
        diff_ids: Option<Vec<Digest>>,
    ) -> ImageRef {
        let dir_blobs = dir.join("blobs/sha256");
        std::fs::create_dir_all(&dir_blobs).unwrap();
        let put = |bytes: &[u8]| {
            let digest = Digest::of(bytes);
            std::fs::write(dir_blobs.join(digest.hex()), bytes).unwrap();
            serde_json::json!({"digest": digest.to_string(), "size": bytes.len()})
        };
        let descriptors: Vec<_> = blobs.iter().map(|b| put(b)).collect();
        let layers: Vec<_> = listing
            .iter()
            .map(|&i| {
                let mut d = descriptors[i].clone();
                d["mediaType"] = "application/vnd.oci.image.layer.v1.tar".into();
                d
            })
            .collect();
        let diff_ids =
            diff_ids.unwrap_or_else(|| listing.iter().map(|&i| Digest::of(&blobs[i])).collect());
        let config = serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        });
        let mut config_descriptor = put(config.to_string().as_bytes());
        config_descriptor["mediaType"] = "application/vnd.oci.image.config.v1+json".into();
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config_descriptor,
            "layers": layers,
        });
        let mut manifest_descriptor = put(manifest.to_string().as_bytes());
        manifest_descriptor["mediaType"] = "application/vnd.oci.image.manifest.v1+json".into();
        let index = serde_json::json!({"schemaVersion": 2, "manifests": [manifest_descriptor]});
        std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        ImageRef::Oci {
            dir: dir.to_path_buf(),
            name: None,
        }
    }

    /// A layer that gives another tree when applied twice: the second time
    /// `lib/x` is written through the `lib` symlink the first time made.
    fn not_idempotent() -> Vec<u8> {
        use E::*;
        layer(&[
            File("lib/x", b"x"),
            Dir("usr"),
            Dir("usr/lib"),
            Sym("lib", "usr/lib"),
        ])
    }

    /// Issue 10: a manifest listing the same blob many times had each
    /// listing inflated, hashed and parsed again. Now each distinct blob is
    /// read once, and the tree is still the one of applying every listing
    /// (Docker extracts a repeated layer again), including for layers that
    /// are not idempotent and repeats with other layers in between.
    #[test]
    fn same_blob_listed_again_is_read_once_with_the_tree_of_reading_it_again() {
        let mut blobs = ordered_layers();
        blobs.push(not_idempotent());
        let odd = blobs.len() - 1;
        // What makes skipping a repeat wrong: the second time differs.
        for (times, has) in [(1, false), (2, true)] {
            let mut flattener = Flattener::new();
            for _ in 0..times {
                flattener.apply_layer(&blobs[odd][..], "odd").unwrap();
            }
            assert_eq!(flattener.finish().0.get("usr/lib/x").is_some(), has);
        }
        let listings: &[&[usize]] = &[
            &[0, 0],
            &[0, 1, 0],
            &[odd, odd],
            &[odd, 0, odd, 1, odd],
            &[0, 1, 2, 1, 1, 3, 4, 5, 0, 1, 3],
        ];
        for listing in listings {
            let mut one_at_a_time = Flattener::new();
            for (n, &i) in listing.iter().enumerate() {
                one_at_a_time
                    .apply_layer(&blobs[i][..], &format!("layer {n}"))
                    .unwrap();
            }
            let want = outcome(one_at_a_time);
            let dir = tempfile::tempdir().unwrap();
            let reference = layout_listing(dir.path(), &blobs, listing, None);
            for workers in [1, 2, 4] {
                let mut image = Image::open(&reference, &Platform::default()).unwrap();
                let opens = count_opens(&mut image);
                let mut flattener = Flattener::new();
                image.apply_layers_on(&mut flattener, workers).unwrap();
                assert_eq!(outcome(flattener), want, "{listing:?}, {workers} workers");
                let opens = opens.lock().unwrap();
                let distinct: std::collections::HashSet<usize> = listing.iter().copied().collect();
                assert_eq!(opens.len(), distinct.len(), "{listing:?}: {opens:?}");
                assert!(opens.values().all(|&n| n == 1), "{listing:?}: {opens:?}");
            }
        }
    }

    /// `copy` of an image listing a blob again writes (and reads) it once,
    /// and lists it again in the manifest it writes.
    #[test]
    fn copy_writes_a_repeated_blob_once() {
        use crate::write::{WriteOptions, write_image};
        let blobs = [not_idempotent(), layer(&[E::File("b", b"2")])];
        let reads = |listing: &[usize], destination: &str| {
            let src = tempfile::tempdir().unwrap();
            let reference = layout_listing(src.path(), &blobs, listing, None);
            let mut image = Image::open(&reference, &Platform::default()).unwrap();
            let want = outcome({
                let mut f = Flattener::new();
                image.apply_layers(&mut f).unwrap();
                f
            });
            let opens = count_opens(&mut image);
            let out = tempfile::tempdir().unwrap();
            let target = ImageRef::parse(&format!(
                "{destination}:{}",
                out.path().join("copy").display()
            ))
            .unwrap();
            let written =
                write_image(&Source::Image(image), &target, &WriteOptions::default()).unwrap();
            // The copy flattens to the same tree, layer for layer.
            let copy = Image::open(&target, &Platform::default()).unwrap();
            let mut flattener = Flattener::new();
            copy.apply_layers(&mut flattener).unwrap();
            let (want_nodes, want_changes) = want;
            let (nodes, changes) = outcome(flattener);
            assert_eq!(changes, want_changes, "{listing:?} to {destination}");
            let paths = |n: &[(String, Node, Option<Content>)]| {
                n.iter().map(|(p, ..)| p.clone()).collect::<Vec<_>>()
            };
            assert_eq!(paths(&nodes), paths(&want_nodes));
            if destination == "oci" {
                let files = std::fs::read_dir(out.path().join("copy/blobs/sha256")).unwrap();
                // Config and manifest, and one blob per distinct layer.
                let distinct: std::collections::HashSet<_> = listing.iter().collect();
                assert_eq!(files.count(), 2 + distinct.len());
            }
            // Listed as often, the same blob where the source had it.
            assert_eq!(written.layers.len(), listing.len());
            for (i, a) in listing.iter().enumerate() {
                for (j, b) in listing.iter().enumerate() {
                    assert_eq!(written.layers[i] == written.layers[j], a == b);
                }
            }
            opens.lock().unwrap().clone()
        };
        for destination in ["oci", "docker-archive"] {
            let once = reads(&[0, 1], destination);
            let again = reads(&[0, 1, 0, 0, 1], destination);
            assert_eq!(again, once, "{destination}: blobs read again");
        }
    }

    /// The same blob listed with two different diff_ids cannot be both:
    /// refused when the image is opened.
    #[test]
    fn same_blob_with_different_diff_ids_is_refused_at_open() {
        let blobs = [layer(&[E::File("a", b"1")]), layer(&[E::File("b", b"2")])];
        let (a, b) = (Digest::of(&blobs[0]), Digest::of(&blobs[1]));
        let cases: &[(&[usize], Vec<Digest>, Option<&str>)] = &[
            (&[0, 0], vec![a.clone(), a.clone()], None),
            (&[0, 1, 0], vec![a.clone(), b.clone(), a.clone()], None),
            (
                &[0, 1, 0],
                vec![a.clone(), b.clone(), b.clone()],
                Some("layers 1 and 3 are the same blob"),
            ),
        ];
        for (listing, diff_ids, want) in cases {
            let dir = tempfile::tempdir().unwrap();
            let reference = layout_listing(dir.path(), &blobs, listing, Some(diff_ids.clone()));
            match (Image::open(&reference, &Platform::default()), want) {
                (Ok(_), None) => {}
                (Err(e), Some(want)) => assert!(e.to_string().contains(want), "{e}"),
                (Ok(_), Some(want)) => panic!("{listing:?}: accepted, want {want}"),
                (Err(e), None) => panic!("{listing:?}: {e}"),
            }
        }
    }

    /// A docker archive listing one layer member `times` times.
    fn docker_archive_listing(path: &std::path::Path, tar: &[u8], times: usize) -> ImageRef {
        let diff_id = Digest::of(tar).to_string();
        let config = serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": vec![diff_id; times]},
        })
        .to_string();
        let manifest = serde_json::json!([{
            "Config": "config.json",
            "RepoTags": null,
            "Layers": vec!["layer/layer.tar"; times],
        }])
        .to_string();
        let mut b = tar::Builder::new(Vec::new());
        for (name, bytes) in [
            ("config.json", config.as_bytes()),
            ("layer/layer.tar", tar),
            ("manifest.json", manifest.as_bytes()),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, bytes).unwrap();
        }
        std::fs::write(path, b.into_inner().unwrap()).unwrap();
        ImageRef::DockerArchive {
            path: path.to_path_buf(),
            name: None,
        }
    }

    /// Issue 10: Docker refuses more than 127 layers; pare took 50,000
    /// listings of one blob. More than the layers limit is refused at open,
    /// before any layer is read, in one line naming the limit.
    #[test]
    fn more_layers_than_the_limit_are_refused_at_open() {
        let blob = layer(&[E::File("a", b"1")]);
        let max = Limits::default().layers as usize;
        for times in [1, max, max + 1, 50_000] {
            let dir = tempfile::tempdir().unwrap();
            let oci = layout_listing(
                dir.path(),
                std::slice::from_ref(&blob),
                &vec![0; times],
                None,
            );
            let docker = docker_archive_listing(&dir.path().join("d.tar"), &blob, times);
            for reference in [oci, docker] {
                let started = std::time::Instant::now();
                let opened = Image::open(&reference, &Platform::default());
                assert!(started.elapsed().as_secs() < 5, "{times}: slow");
                match opened {
                    Ok(image) if times <= max => {
                        let (tree, changes) = image.flatten().unwrap();
                        assert_eq!(changes.len(), times);
                        assert!(tree.get("a").is_some());
                    }
                    Err(e) if times > max => {
                        let e = e.to_string();
                        assert!(
                            e.ends_with(&format!(
                                "layers listed: {times}, over the layers limit of 256 \
                                 (raise it with --limits layers=N)"
                            )),
                            "{e}"
                        );
                    }
                    Ok(_) => panic!("{reference}: {times} layers accepted"),
                    Err(e) => panic!("{reference}: {times} layers: {e}"),
                }
            }
        }
    }

    /// Records which layers were parsed while layer 1 was still being read.
    struct SlowFirst {
        parsed: Mutex<std::collections::BTreeSet<String>>,
        seen_while_slow: Mutex<Option<usize>>,
    }

    impl crate::scan::ContentScanner for SlowFirst {
        fn start(
            &self,
            path: &str,
            _size: u64,
            _mode: u32,
        ) -> Option<Box<dyn crate::scan::FileScan>> {
            if path == "layer0" {
                // Long enough for every other layer to be read, were the
                // readers let loose.
                std::thread::sleep(std::time::Duration::from_millis(400));
                *self.seen_while_slow.lock().unwrap() = Some(self.parsed.lock().unwrap().len());
            } else {
                self.parsed.lock().unwrap().insert(path.to_string());
            }
            None
        }
    }

    /// Issue 10: layers read behind a slow one piled up without bound.
    /// Now the entries read ahead of the layer being applied, all layers
    /// together, stay within `EVENTS_AHEAD` (and a batch per reader),
    /// however slow that layer is; and the slow first layer, the smallest,
    /// is read first although bigger ones are read biggest first.
    #[test]
    fn parsed_layers_waiting_behind_a_slow_one_are_bounded() {
        const PER_LAYER: usize = 600;
        let mut names: Vec<&'static str> = vec!["layer0"];
        let mut blobs = vec![layer(&[E::File("layer0", b"x")])];
        for l in 1..24 {
            let files: Vec<&'static str> = (0..PER_LAYER)
                .map(|i| &*Box::leak(format!("l{l}/f{i}").into_boxed_str()))
                .collect();
            let entries: Vec<E> = files.iter().map(|n| E::File(n, b"x")).collect();
            blobs.push(layer(&entries));
            names.extend(files);
        }
        let dir = tempfile::tempdir().unwrap();
        let image = Image::open(&oci_layout(dir.path(), &blobs), &Platform::default()).unwrap();
        for workers in [2, 4] {
            let scanner = Arc::new(SlowFirst {
                parsed: Mutex::default(),
                seen_while_slow: Mutex::default(),
            });
            let mut flattener = Flattener::new().scanning(Box::new(scanner.clone()));
            image.apply_layers_on(&mut flattener, workers).unwrap();
            let (tree, _) = flattener.finish();
            assert!(names.iter().all(|n| tree.get(n).is_some()));
            let ahead = scanner.seen_while_slow.lock().unwrap().unwrap();
            // Without the bound, all 23 × 600 entries.
            let bound = EVENTS_AHEAD + workers * (BATCH + 1);
            assert!(ahead <= bound, "{workers} workers: {ahead} read ahead");
            assert!(ahead < 23 * PER_LAYER);
            assert_eq!(scanner.parsed.lock().unwrap().len(), names.len() - 1);
        }
    }

    /// Counts, once layer 1's only file has been slow to read, how many
    /// files of the layers after it had been read.
    struct CountBehindSlow {
        read: std::sync::atomic::AtomicUsize,
        seen_while_slow: Mutex<Option<usize>>,
    }

    impl crate::scan::ContentScanner for CountBehindSlow {
        fn start(
            &self,
            path: &str,
            _size: u64,
            _mode: u32,
        ) -> Option<Box<dyn crate::scan::FileScan>> {
            if path == "slow" {
                std::thread::sleep(std::time::Duration::from_millis(400));
                *self.seen_while_slow.lock().unwrap() = Some(self.read.load(Ordering::SeqCst));
            } else {
                self.read.fetch_add(1, Ordering::SeqCst);
            }
            None
        }
    }

    /// Issue 10, within a layer: a big layer read behind a slow one was
    /// held whole until its turn. Its events now wait within the bound of
    /// entries read ahead: its reader stops once that is reached.
    #[test]
    fn events_of_a_big_layer_behind_a_slow_one_are_bounded() {
        const FILES: usize = 3 * EVENTS_AHEAD;
        let names: Vec<&'static str> = (0..FILES)
            .map(|i| &*Box::leak(format!("many/f{i}").into_boxed_str()))
            .collect();
        let many: Vec<E> = names.iter().map(|n| E::File(n, b"x")).collect();
        let blobs = vec![layer(&[E::File("slow", b"x")]), layer(&many)];
        let dir = tempfile::tempdir().unwrap();
        let image = Image::open(&oci_layout(dir.path(), &blobs), &Platform::default()).unwrap();
        let scanner = Arc::new(CountBehindSlow {
            read: Default::default(),
            seen_while_slow: Mutex::default(),
        });
        let mut flattener = Flattener::new().scanning(Box::new(scanner.clone()));
        image.apply_layers_on(&mut flattener, 2).unwrap();
        let (tree, _) = flattener.finish();
        assert!(names.iter().all(|n| tree.get(n).is_some()));
        let behind = scanner.seen_while_slow.lock().unwrap().unwrap();
        // The entries allowed ahead, the batch being filled, and the entry
        // whose send is waiting: nowhere near the whole layer.
        assert!(
            behind <= EVENTS_AHEAD + BATCH + 1,
            "{behind} of {FILES} read ahead"
        );
        assert_eq!(scanner.read.load(Ordering::SeqCst), FILES);
    }

    /// A blob that is not what its digest says is reported as such, even
    /// when its bad bytes fail to apply before the digest can be checked
    /// (at the end of the blob), with one reader or several.
    #[test]
    fn a_bad_blob_is_named_even_when_applying_it_fails_first() {
        use E::*;
        let good = layer(&[File("a", b"1")]);
        let mut bad = layer(&[Hard("x", "missing")]);
        bad.resize(good.len(), 0);
        let dir = tempfile::tempdir().unwrap();
        let reference = oci_layout(dir.path(), &[layer(&[File("base", b"0")]), good.clone()]);
        std::fs::write(dir.path().join(Digest::of(&good).blob_path()), &bad).unwrap();
        let image = Image::open(&reference, &Platform::default()).unwrap();
        for workers in [1, 2] {
            let err = image
                .apply_layers_on(&mut Flattener::new(), workers)
                .unwrap_err();
            assert!(
                matches!(err, Error::DigestMismatch { .. }),
                "{workers} workers: {err}"
            );
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
