//! Applies layer tar streams, in order, to a [`FileTree`], following the
//! OCI image spec's layer rules:
//!
//! * `.wh.NAME` removes `NAME` (and all below it) as it stood in *lower*
//!   layers; `.wh..wh..opq` hides every lower entry of its folder. Entries of
//!   the same layer are never hidden by that layer's whiteouts, so a layer's
//!   deletions are applied before its additions.
//! * A later entry for the same path wins; a folder over a folder keeps what
//!   is inside, anything else replaces what was there.
//! * Parent paths are resolved through symlinks already in the tree, scoped to
//!   the image root (containerd's and umoci's behaviour), so a layer that
//!   writes `lib/x.so` over a lower `lib -> usr/lib` lands in `usr/lib`.
//! * Hardlinks share their target's content; a hardlink to a symlink is a
//!   second symlink.
//!
//! Nothing is extracted: only headers are read, and each regular file
//! records the offset of its bytes in the uncompressed layer stream.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::limits::{self, Limits};
use crate::paths::{self, PathProblem};
use crate::scan::{ContentScanner, FileScan, Finding};
use crate::targuard::TarGuard;
use crate::tree::{Content, ContentId, DataSource, FileTree, Node, NodeId, NodeKind, ResolveError};

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";
/// The kernel refuses larger extended attribute values.
pub(crate) const MAX_XATTR_VALUE: usize = 64 * 1024;

/// What one layer did to the tree below it. Counts are of non-directory
/// paths; bytes are regular-file bytes.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct LayerChanges {
    /// Entries in the layer's tar, whiteouts included.
    pub entries: u64,
    /// Non-directory entries (whiteouts excluded).
    pub files: u64,
    /// Regular-file bytes the layer carries.
    pub bytes: u64,
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
    /// Bytes this layer carries that nobody sees in the final tree
    /// (overwritten or deleted later, or duplicated within the layer).
    pub wasted_bytes: u64,
}

/// Decides which regular files to keep the bytes of while flattening:
/// given the entry's path and size, true to capture it. Used for package
/// databases and other metadata, never for bulk data.
pub type CapturePredicate = dyn Fn(&str, u64) -> bool + Send + Sync;

/// The bytes of one captured file version, and the path it was written at.
#[derive(Clone, Debug)]
pub struct Captured {
    pub path: String,
    pub layer: usize,
    pub bytes: Vec<u8>,
}

/// Builds a [`FileTree`] one layer at a time.
///
/// Applying a layer has two halves: reading its tar ([`LayerParser`], which
/// needs nothing from the layers below, so several layers can be read at
/// once on different threads) and applying what was read to the tree, in
/// layer order. What is read is a stream of [`LayerEvent`]s, applied as
/// they come: a layer is never held whole, only its headers in flight.
///
/// Whiteouts hide only what lower layers put there, wherever they stand in
/// their own layer's tar: each path remembers the layer that last wrote it,
/// and a whiteout removes only what is older (see [`FileTree`]'s marks).
pub struct Flattener {
    pub(crate) parser: LayerParser,
    /// The parser's limits, also while the parser is lent out.
    limits: Limits,
    tree: FileTree,
    changes: Vec<LayerChanges>,
    captured: HashMap<ContentId, Captured>,
    found: HashMap<ContentId, Vec<Finding>>,
    /// The layer being applied, if one was begun and not ended.
    current: Option<LayerChanges>,
    /// Entries applied so far in the image, folders made up included.
    entries: u64,
    /// Bytes of symlink targets and xattrs held in the tree.
    held_bytes: u64,
    /// Set once applying failed: the tree is then half-made.
    failed: bool,
}

impl Default for Flattener {
    fn default() -> Self {
        Flattener::new()
    }
}

/// Reads one layer's tar stream into [`LayerEvent`]s: the entries'
/// headers, the bytes of captured files and what the scanners found.
/// Shared between threads, it holds only the limits, the capture predicate
/// and the scanners.
pub struct LayerParser {
    limits: Limits,
    capture: Option<Box<CapturePredicate>>,
    scanners: Vec<Box<dyn ContentScanner>>,
    /// Uncompressed bytes read from the image's layers so far.
    uncompressed: Arc<AtomicU64>,
    /// Bytes of captured files so far.
    captured_bytes: Arc<AtomicU64>,
}

impl Default for LayerParser {
    fn default() -> Self {
        LayerParser::new(Limits::default())
    }
}

/// One thing a layer does, in its tar's order.
pub enum LayerEvent {
    /// An entry to add or replace.
    Entry(Box<PendingEntry>),
    /// `.wh.NAME`: the path `NAME` stands for.
    Whiteout(String),
    /// `.wh..wh..opq`: the folder it is in.
    Opaque(String),
}

/// One layer as read, not yet applied to a tree.
pub struct ParsedLayer {
    /// Entry counts filled in while reading; the rest when applied.
    changes: LayerChanges,
    events: Vec<LayerEvent>,
}

#[derive(Clone)]
enum PendingKind {
    Dir,
    File { offset: u64, size: u64 },
    Hardlink(String),
    Symlink(String),
    Char(u32, u32),
    Block(u32, u32),
    Fifo,
}

/// An entry read from a layer, waiting to be applied.
pub struct PendingEntry {
    path: String,
    kind: PendingKind,
    node: Node,
    captured: Option<Vec<u8>>,
    found: Vec<Finding>,
}

/// What flattening keeps besides the tree: captured file versions and
/// scanners' findings, both by content id.
pub struct Extracts {
    pub captured: HashMap<ContentId, Captured>,
    pub found: HashMap<ContentId, Vec<Finding>>,
}

impl Flattener {
    /// A flattener within the default [`Limits`].
    pub fn new() -> Self {
        Flattener::with_limits(Limits::default())
    }

    /// A flattener within `limits`.
    pub fn with_limits(limits: Limits) -> Self {
        let mut tree = FileTree::new();
        tree.set_resolve_limits(limits.symlink_hops, limits.path_depth);
        Flattener {
            parser: LayerParser::new(limits.clone()),
            limits,
            tree,
            changes: Vec::new(),
            captured: HashMap::new(),
            found: HashMap::new(),
            current: None,
            entries: 0,
            held_bytes: 0,
            failed: false,
        }
    }

    /// Keeps the bytes of the files `capture` picks (every version of them,
    /// superseded ones included, with their layer).
    pub fn capturing(mut self, capture: Box<CapturePredicate>) -> Self {
        self.parser.capture = Some(capture);
        self
    }

    /// A flattener that keeps the bytes of the files `capture` picks.
    pub fn with_capture(capture: Box<CapturePredicate>) -> Self {
        Flattener::new().capturing(capture)
    }

    /// Also runs `scanner` over the bytes of the regular files it picks
    /// (all scanners share one read of each file).
    pub fn scanning(mut self, scanner: Box<dyn ContentScanner>) -> Self {
        self.parser.scanners.push(scanner);
        self
    }

    fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Applies the next layer; `context` names it in errors.
    pub fn apply_layer(&mut self, reader: impl Read, context: &str) -> Result<()> {
        self.begin_layer()?;
        let parser = std::mem::take(&mut self.parser);
        let read = parser.parse_into(reader, context, &mut |event| {
            self.apply_event(event, context)
        });
        self.parser = parser;
        match read {
            Ok(changes) => self.end_layer(changes),
            Err(err) => Err(self.fail(err)),
        }
    }

    /// Applies the next layer, already read by [`LayerParser::parse`].
    pub fn apply_parsed(&mut self, parsed: ParsedLayer, context: &str) -> Result<()> {
        self.begin_layer()?;
        for event in parsed.events {
            self.apply_event(event, context)?;
        }
        self.end_layer(parsed.changes)
    }

    /// Starts the next layer, for [`Flattener::apply_event`].
    pub fn begin_layer(&mut self) -> Result<()> {
        if self.failed || self.current.is_some() {
            return Err(Error::malformed(
                format!("layer {}", self.changes.len() + 1),
                "a layer was left half-applied",
            ));
        }
        self.current = Some(LayerChanges::default());
        Ok(())
    }

    /// Ends the layer begun last; `read` is what the parser counted.
    pub fn end_layer(&mut self, read: LayerChanges) -> Result<()> {
        let Some(mut changes) = self.current.take().filter(|_| !self.failed) else {
            return Err(Error::malformed("layers", "no layer was begun"));
        };
        changes.entries = read.entries;
        changes.files = read.files;
        self.changes.push(changes);
        Ok(())
    }

    fn fail(&mut self, err: Error) -> Error {
        self.failed = true;
        err
    }

    /// The stamp of the layer being applied: 1 for the first layer, so that
    /// 0 means "before any layer".
    fn stamp(&self) -> u32 {
        (self.changes.len() + 1) as u32
    }

    /// Applies one event of the layer begun last.
    pub fn apply_event(&mut self, event: LayerEvent, context: &str) -> Result<()> {
        if self.current.is_none() || self.failed {
            return Err(self.fail(Error::malformed(context, "no layer was begun")));
        }
        let applied = match event {
            LayerEvent::Entry(entry) => self.add(*entry, context),
            LayerEvent::Whiteout(path) => {
                self.whiteout(&path);
                Ok(())
            }
            LayerEvent::Opaque(dir) => {
                self.opaque(&dir);
                Ok(())
            }
        };
        applied.map_err(|err| self.fail(err))
    }

    fn changes(&mut self) -> &mut LayerChanges {
        self.current.as_mut().expect("checked by apply_event")
    }

    /// `.wh.NAME`: removes what lower layers put at `path`.
    fn whiteout(&mut self, path: &str) {
        let Some(id) = self
            .tree
            .resolve_id(paths::parent(path), true)
            .ok()
            .flatten()
            .and_then(|dir| self.tree.child(dir, paths::file_name(path)))
        else {
            return;
        };
        let removed = self.hide_lower(id);
        self.changes().removed += removed;
    }

    /// `.wh..wh..opq`: removes what lower layers put inside folder `dir`.
    fn opaque(&mut self, dir: &str) {
        let Some(id) = self
            .tree
            .resolve_id(dir, true)
            .ok()
            .flatten()
            .filter(|&id| self.tree.node(id).is_dir())
        else {
            return;
        };
        let children: Vec<NodeId> = self.tree.child_ids(id).collect();
        let mut removed = 0;
        for child in children {
            removed += self.hide_lower(child);
        }
        let stamp = self.stamp();
        self.tree.marks_mut(id).fresh = stamp;
        self.changes().removed += removed;
    }

    /// Removes whatever at and below `top` came from lower layers, keeping
    /// what this layer wrote (and the folders that hold it). Returns the
    /// non-folders removed. A subtree is walked once per layer: afterwards
    /// it is marked fresh (nothing lower below it).
    fn hide_lower(&mut self, top: NodeId) -> u64 {
        let stamp = self.stamp();
        let mut removed = 0;
        let mut stack = vec![(top, false)];
        while let Some((id, children_done)) = stack.pop() {
            let marks = self.tree.marks(id);
            if marks.fresh == stamp {
                continue;
            }
            if !self.tree.node(id).is_dir() {
                self.tree
                    .remove_with(id, |n| removed += u64::from(!n.is_dir()));
                continue;
            }
            if !children_done {
                stack.push((id, true));
                stack.extend(self.tree.child_ids(id).map(|c| (c, false)));
                continue;
            }
            let written_here = marks.layer == stamp && marks.explicit;
            if written_here || self.tree.child_ids(id).next().is_some() {
                if marks.layer != stamp {
                    // The lower folder is gone; this layer's entries below
                    // it imply a plain one.
                    self.tree.set_node(id, Node::implicit_dir());
                }
                let marks = self.tree.marks_mut(id);
                marks.layer = stamp;
                marks.fresh = stamp;
            } else {
                self.tree.remove_with(id, |_| {});
            }
        }
        removed
    }

    fn add(&mut self, item: PendingEntry, context: &str) -> Result<()> {
        let PendingEntry {
            path,
            kind,
            mut node,
            captured,
            found,
        } = item;
        let entry_context = || format!("{context}: entry {path:?}");
        let stamp = self.stamp();
        self.count_entries(1, context)?;
        let parent = if path.is_empty() {
            None
        } else {
            let mut made = 0;
            let parent = self
                .tree
                .make_dirs(paths::parent(&path), |tree, id| {
                    made += 1;
                    *tree.marks_mut(id) = crate::tree::Marks {
                        layer: stamp,
                        explicit: false,
                        dead: false,
                        fresh: stamp,
                    };
                })
                .map_err(|e| resolve_error(entry_context(), e))?;
            self.count_entries(made, context)?;
            Some(parent)
        };
        let layer = self.changes.len();
        node.kind = match kind {
            PendingKind::Dir => NodeKind::Dir,
            PendingKind::File { offset, size } => {
                self.changes().bytes += size;
                let id = self.tree.add_content(Content {
                    source: DataSource::Layer { layer, offset },
                    size,
                });
                if let Some(bytes) = captured {
                    let path = match parent {
                        Some(dir) => paths::child(&self.tree.path_of(dir), paths::file_name(&path)),
                        None => String::new(),
                    };
                    self.captured.insert(id, Captured { path, layer, bytes });
                }
                if !found.is_empty() {
                    self.found.insert(id, found);
                }
                NodeKind::File(id)
            }
            PendingKind::Hardlink(link) => {
                let resolved = self
                    .tree
                    .resolve_id(&link, false)
                    .map_err(|e| resolve_error(entry_context(), e))?;
                match resolved.map(|id| self.tree.node(id)) {
                    Some(existing) if !existing.is_dir() => {
                        // A hardlink is the same inode: same kind, mode, owner.
                        node = existing.clone();
                        node.kind.clone()
                    }
                    Some(_) => {
                        return Err(Error::malformed(
                            entry_context(),
                            format!("hardlink to folder {link:?}"),
                        ));
                    }
                    None => {
                        return Err(Error::malformed(
                            entry_context(),
                            format!("hardlink to missing {link:?}"),
                        ));
                    }
                }
            }
            PendingKind::Symlink(target) => NodeKind::Symlink(target),
            PendingKind::Char(major, minor) => NodeKind::CharDevice { major, minor },
            PendingKind::Block(major, minor) => NodeKind::BlockDevice { major, minor },
            PendingKind::Fifo => NodeKind::Fifo,
        };
        self.hold(&node, context)?;

        let Some(parent) = parent else {
            // The entry for the root itself (`./`).
            if !node.is_dir() {
                return Err(Error::malformed(
                    entry_context(),
                    "the image root must be a folder, not a file or a symlink",
                ));
            }
            self.tree.set_node(crate::tree::ROOT, node);
            return Ok(());
        };
        let name = paths::file_name(&path);
        let is_dir = node.is_dir();
        let Some(old) = self.tree.child(parent, name) else {
            let id = self.tree.add_child(parent, name, node);
            self.mark_written(id, stamp);
            if !is_dir {
                self.changes().added += 1;
            }
            return Ok(());
        };
        let marks = self.tree.marks(old);
        let first_touch = !(marks.layer == stamp && marks.explicit);
        let old_is_dir = self.tree.node(old).is_dir();
        if old_is_dir && is_dir {
            // Folder over folder: new metadata, contents stay.
            self.tree.set_node(old, node);
            let marks = self.tree.marks_mut(old);
            marks.layer = stamp;
            marks.explicit = true;
            return Ok(());
        }
        let mut removed = 0;
        self.tree
            .remove_with(old, |n| removed += u64::from(!n.is_dir()));
        let id = self.tree.add_child(parent, name, node);
        self.mark_written(id, stamp);
        if first_touch {
            // What sat below a replaced folder is removed; the path itself
            // changed, appeared or vanished as a file.
            let changes = self.changes();
            changes.removed += removed - u64::from(!old_is_dir);
            match (old_is_dir, is_dir) {
                (false, false) => changes.changed += 1,
                (false, true) => changes.removed += 1,
                (true, false) => changes.added += 1,
                (true, true) => {}
            }
        }
        Ok(())
    }

    fn mark_written(&mut self, id: NodeId, stamp: u32) {
        *self.tree.marks_mut(id) = crate::tree::Marks {
            layer: stamp,
            explicit: true,
            dead: false,
            fresh: stamp,
        };
    }

    fn count_entries(&mut self, more: u64, context: &str) -> Result<()> {
        self.entries += more;
        limits::check(
            || format!("{context}: entries in the image"),
            "entries",
            self.entries,
            self.limits().entries,
        )
    }

    /// Counts what `node` keeps in the tree against the tree-bytes limit.
    fn hold(&mut self, node: &Node, context: &str) -> Result<()> {
        if let NodeKind::Symlink(target) = &node.kind {
            self.held_bytes += target.len() as u64;
        }
        for (name, value) in &node.xattrs {
            self.held_bytes += (name.len() + value.len()) as u64;
        }
        limits::check(
            || format!("{context}: names, link targets and xattrs"),
            "tree-bytes",
            self.held_bytes + self.tree.name_bytes_held(),
            // The tree addresses its names with 32 bits, whatever the limit.
            self.limits().tree_bytes.min(u64::from(u32::MAX) / 2),
        )
    }

    /// The final tree and what each layer did.
    pub fn finish(self) -> (FileTree, Vec<LayerChanges>) {
        let (tree, changes, _) = self.finish_with_extracts();
        (tree, changes)
    }

    /// Like [`Flattener::finish`], with the captured file versions and the
    /// scanners' findings. After a failed layer the tree is what was
    /// applied before the failure.
    pub fn finish_with_extracts(self) -> (FileTree, Vec<LayerChanges>, Extracts) {
        let Flattener {
            tree,
            mut changes,
            captured,
            found,
            ..
        } = self;
        let mut visible = vec![false; tree.contents().len()];
        for (_, node) in tree.nodes() {
            if let NodeKind::File(id) = node.kind {
                visible[id] = true;
            }
        }
        for (id, seen) in visible.iter().enumerate() {
            // Contents of a layer that failed half-way have no changes row.
            let content = tree.content(id);
            if let DataSource::Layer { layer, .. } = content.source
                && let Some(layer) = changes.get_mut(layer)
                && !seen
            {
                layer.wasted_bytes += tree.content(id).size;
            }
        }
        (tree, changes, Extracts { captured, found })
    }
}

impl ParsedLayer {
    /// A copy to apply once more, where a manifest lists the same blob
    /// again, so the blob is not read twice: the same entries and captured
    /// bytes. Scanners' findings cannot be copied: the copy has none, so
    /// apply copies at the earlier listings and this one, with its
    /// findings, at the last.
    pub fn replica(&self) -> ParsedLayer {
        let events = self
            .events
            .iter()
            .map(|event| match event {
                LayerEvent::Entry(p) => LayerEvent::Entry(Box::new(PendingEntry {
                    path: p.path.clone(),
                    kind: p.kind.clone(),
                    node: p.node.clone(),
                    captured: p.captured.clone(),
                    found: Vec::new(),
                })),
                LayerEvent::Whiteout(path) => LayerEvent::Whiteout(path.clone()),
                LayerEvent::Opaque(dir) => LayerEvent::Opaque(dir.clone()),
            })
            .collect();
        ParsedLayer {
            changes: self.changes.clone(),
            events,
        }
    }
}

impl LayerParser {
    /// A parser within `limits`.
    pub fn new(limits: Limits) -> Self {
        LayerParser {
            limits,
            capture: None,
            scanners: Vec::new(),
            uncompressed: Arc::default(),
            captured_bytes: Arc::default(),
        }
    }

    /// Reads a layer's tar stream whole; `context` names it in errors.
    /// Needs nothing from other layers.
    pub fn parse(&self, reader: impl Read, context: &str) -> Result<ParsedLayer> {
        let mut events = Vec::new();
        let changes = self.parse_into(reader, context, &mut |event| {
            events.push(event);
            Ok(())
        })?;
        Ok(ParsedLayer { changes, events })
    }

    /// Reads a layer's tar stream, handing each event to `sink` as it is
    /// read; returns the layer's entry counts.
    pub fn parse_into(
        &self,
        reader: impl Read,
        context: &str,
        sink: &mut dyn FnMut(LayerEvent) -> Result<()>,
    ) -> Result<LayerChanges> {
        let mut changes = LayerChanges::default();
        let guarded = TarGuard::new(
            reader,
            context,
            self.limits.header_bytes,
            self.limits.uncompressed_bytes,
            self.uncompressed.clone(),
        );
        let mut archive = tar::Archive::new(guarded);
        let entries = archive.entries().map_err(|e| Error::io(context, e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| layer_error(context, e))?;
            changes.entries += 1;
            limits::check(
                || format!("{context}: entries in the layer"),
                "entries",
                changes.entries,
                self.limits.entries,
            )?;
            let raw_bytes = entry.path_bytes();
            self.check_path(context, &raw_bytes)?;
            let raw = String::from_utf8_lossy(&raw_bytes).into_owned();
            let path = layer_path(&raw, context)?;
            let name = paths::file_name(&path);
            if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
                if name == OPAQUE_MARKER {
                    sink(LayerEvent::Opaque(paths::parent(&path).to_string()))?;
                } else if !hidden.starts_with(WHITEOUT_PREFIX) && !matches!(hidden, "" | "." | "..")
                {
                    sink(LayerEvent::Whiteout(paths::child(
                        paths::parent(&path),
                        hidden,
                    )))?;
                }
                // Other `.wh..wh.*` names are aufs bookkeeping, and `.wh.`,
                // `.wh..`, `.wh...` name nothing a layer can hold: ignore.
                continue;
            }
            let header = entry.header();
            let mut node = Node {
                kind: NodeKind::Dir,
                mode: header.mode().map_err(|e| layer_error(context, e))? & 0o7777,
                uid: header.uid().unwrap_or(0),
                gid: header.gid().unwrap_or(0),
                mtime: header.mtime().unwrap_or(0),
                xattrs: Vec::new(),
            };
            node.xattrs = read_xattrs(&mut entry, context, &raw)?;
            let header = entry.header();
            let device = || {
                (
                    header.device_major().ok().flatten().unwrap_or(0),
                    header.device_minor().ok().flatten().unwrap_or(0),
                )
            };
            let link = || {
                entry
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default()
            };
            let kind = match header.entry_type() {
                tar::EntryType::Directory => PendingKind::Dir,
                tar::EntryType::Regular | tar::EntryType::Continuous => PendingKind::File {
                    offset: entry.raw_file_position(),
                    size: entry.size(),
                },
                tar::EntryType::GNUSparse => {
                    return Err(Error::unsupported(
                        format!("{context}: entry {raw:?}"),
                        "sparse file (GNU sparse format); re-save the image without sparse files",
                    ));
                }
                tar::EntryType::Link => {
                    let target = link();
                    self.check_path(context, &target)?;
                    PendingKind::Hardlink(layer_path(&String::from_utf8_lossy(&target), context)?)
                }
                tar::EntryType::Symlink => {
                    let target = link();
                    self.check_link_target(context, &raw, &target)?;
                    PendingKind::Symlink(String::from_utf8_lossy(&target).into_owned())
                }
                tar::EntryType::Char => {
                    let (ma, mi) = device();
                    PendingKind::Char(ma, mi)
                }
                tar::EntryType::Block => {
                    let (ma, mi) = device();
                    PendingKind::Block(ma, mi)
                }
                tar::EntryType::Fifo => PendingKind::Fifo,
                tar::EntryType::XGlobalHeader => continue,
                other => {
                    return Err(Error::unsupported(
                        format!("{context}: entry {raw:?}"),
                        format!("tar entry type {other:?}"),
                    ));
                }
            };
            if !matches!(kind, PendingKind::Dir) {
                changes.files += 1;
            }
            let captured = match (&kind, &self.capture) {
                (PendingKind::File { size, .. }, Some(capture)) if capture(&path, *size) => {
                    Some(self.capture_bytes(&mut entry, *size, context, &raw)?)
                }
                _ => None,
            };
            let scans: Vec<Box<dyn FileScan>> = match &kind {
                PendingKind::File { size, .. } => self
                    .scanners
                    .iter()
                    .filter_map(|scanner| {
                        scanner.start_within(&path, *size, node.mode, &self.limits)
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let found = match (scans.is_empty(), &captured) {
                (true, _) => Vec::new(),
                (false, Some(bytes)) => crate::scan::scan_bytes(bytes, scans),
                (false, None) => {
                    crate::scan::scan_all(&mut entry, scans).map_err(|e| layer_error(context, e))?
                }
            };
            sink(LayerEvent::Entry(Box::new(PendingEntry {
                path,
                kind,
                node,
                captured,
                found,
            })))?;
        }
        Ok(changes)
    }

    /// Checks a name from a layer against the path limits.
    fn check_path(&self, context: &str, raw: &[u8]) -> Result<()> {
        let at = || format!("{context}: entry {:?}", short(raw));
        limits::check(at, "path-bytes", raw.len() as u64, self.limits.path_bytes)?;
        let mut depth = 0u64;
        for part in raw.split(|&b| b == b'/').filter(|p| !p.is_empty()) {
            depth += 1;
            limits::check(at, "name-bytes", part.len() as u64, self.limits.name_bytes)?;
        }
        limits::check(at, "path-depth", depth, self.limits.path_depth)
    }

    fn check_link_target(&self, context: &str, raw: &str, target: &[u8]) -> Result<()> {
        limits::check(
            || format!("{context}: entry {raw:?}: link target"),
            "path-bytes",
            target.len() as u64,
            self.limits.path_bytes,
        )
    }

    /// Reads a captured file's bytes within the metadata limits.
    fn capture_bytes<R: Read>(
        &self,
        entry: &mut tar::Entry<'_, R>,
        size: u64,
        context: &str,
        raw: &str,
    ) -> Result<Vec<u8>> {
        let at = format!("{context}: entry {raw:?}");
        limits::check(
            || &at,
            "metadata-file-bytes",
            size,
            self.limits.metadata_file_bytes,
        )?;
        let total = self.captured_bytes.fetch_add(size, Ordering::Relaxed) + size;
        limits::check(
            || format!("{at}: metadata captured in all"),
            "metadata-bytes",
            total,
            self.limits.metadata_bytes,
        )?;
        let mut bytes = Vec::with_capacity(size as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| layer_error(context, e))?;
        Ok(bytes)
    }
}

/// A name cut for messages: the limits refuse names of any length, and the
/// message must stay one readable line.
fn short(raw: &[u8]) -> String {
    const SHOWN: usize = 80;
    let text = String::from_utf8_lossy(&raw[..raw.len().min(SHOWN)]).into_owned();
    if raw.len() > SHOWN {
        format!("{text}… ({} bytes)", raw.len())
    } else {
        text
    }
}

fn layer_path(raw: &str, context: &str) -> Result<String> {
    paths::normalize(raw).map_err(|problem| match problem {
        PathProblem::Absolute | PathProblem::Escapes => Error::Escape {
            context: context.to_string(),
            path: raw.to_string(),
        },
    })
}

fn layer_error(context: &str, err: std::io::Error) -> Error {
    match Error::io(context, err) {
        Error::Io { path, error } => {
            Error::malformed(path, format!("corrupt or truncated layer: {error}"))
        }
        other => other,
    }
}

fn resolve_error(context: String, err: ResolveError) -> Error {
    let message = match err {
        ResolveError::NotFound(p) => format!("{p:?} does not exist"),
        ResolveError::NotADirectory(p) => format!("parent {p:?} is not a folder"),
        ResolveError::TooManyLinks => "too many levels of symlinks, over the symlink-hops limit \
                                       (raise it with --limits symlink-hops=N)"
            .to_string(),
        ResolveError::TooDeep => "resolves deeper than the path-depth limit \
                                  (raise it with --limits path-depth=N)"
            .to_string(),
    };
    Error::malformed(context, message)
}

fn read_xattrs<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    context: &str,
    raw: &str,
) -> Result<Vec<(String, Vec<u8>)>> {
    let Some(extensions) = entry
        .pax_extensions()
        .map_err(|e| layer_error(context, e))?
    else {
        return Ok(Vec::new());
    };
    let mut xattrs = Vec::new();
    for ext in extensions {
        let ext = ext.map_err(|e| layer_error(context, e))?;
        let Ok(key) = ext.key() else { continue };
        if key.starts_with("GNU.sparse.") {
            // PAX sparse files (GNU formats 0.x and 1.0) name a made-up
            // `GNUSparseFile.NNN/…` path and hold a map before the data.
            return Err(Error::unsupported(
                format!("{context}: entry {raw:?}"),
                "sparse file (GNU PAX sparse format); re-save the image without sparse files",
            ));
        }
        if let Some(name) = key.strip_prefix("SCHILY.xattr.") {
            let value = ext.value_bytes();
            if value.len() > MAX_XATTR_VALUE {
                return Err(Error::malformed(context, format!("xattr {name} too large")));
            }
            xattrs.push((name.to_string(), value.to_vec()));
        }
    }
    Ok(xattrs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{E, layer};

    /// What a path must be after flattening.
    #[derive(Debug)]
    enum Want {
        File(&'static [u8]),
        Dir,
        Sym(&'static str),
        Absent,
    }

    /// A named case: the layers, and what paths must be afterwards.
    type Case = (&'static str, Vec<Vec<E>>, Vec<(&'static str, Want)>);

    fn flatten(layers: &[Vec<E>]) -> Result<(FileTree, Vec<LayerChanges>)> {
        let mut f = Flattener::new();
        for (i, entries) in layers.iter().enumerate() {
            let bytes = layer(entries);
            f.apply_layer(&bytes[..], &format!("layer {i}"))?;
        }
        Ok(f.finish())
    }

    /// Reads a file's bytes back out of the test layers by its offset.
    fn bytes_of(layers: &[Vec<E>], tree: &FileTree, node: &Node) -> Vec<u8> {
        let NodeKind::File(id) = node.kind else {
            panic!("not a file")
        };
        let content = tree.content(id);
        let DataSource::Layer { layer: l, offset } = content.source else {
            panic!("not in a layer")
        };
        let raw = layer(&layers[l]);
        raw[offset as usize..(offset + content.size) as usize].to_vec()
    }

    #[test]
    fn flattening_rules() {
        use E::*;
        let cases: Vec<Case> = vec![
            (
                "whiteout removes a lower file",
                vec![
                    vec![File("a/x", b"1"), File("a/y", b"2")],
                    vec![Whiteout("a/x")],
                ],
                vec![("a/x", Want::Absent), ("a/y", Want::File(b"2"))],
            ),
            (
                "whiteout removes a lower folder and all below it",
                vec![
                    vec![File("a/b/c", b"1"), File("a/b/d/e", b"2")],
                    vec![Whiteout("a/b")],
                ],
                vec![
                    ("a/b", Want::Absent),
                    ("a/b/d/e", Want::Absent),
                    ("a", Want::Dir),
                ],
            ),
            (
                "whiteout does not hide an entry of its own layer",
                vec![
                    vec![File("x", b"old")],
                    vec![File("x", b"new"), Whiteout("x")],
                ],
                vec![("x", Want::File(b"new"))],
            ),
            (
                "opaque folder hides lower entries, keeps its own layer's",
                vec![
                    vec![
                        File("d/old", b"1"),
                        File("d/sub/deep", b"2"),
                        File("other", b"3"),
                    ],
                    vec![Dir("d"), File("d/new", b"4"), Opaque("d")],
                ],
                vec![
                    ("d/old", Want::Absent),
                    ("d/sub", Want::Absent),
                    ("d/new", Want::File(b"4")),
                    ("other", Want::File(b"3")),
                ],
            ),
            (
                "later duplicate wins within a layer and across layers",
                vec![
                    vec![File("f", b"one"), File("f", b"two")],
                    vec![File("g", b"a")],
                    vec![File("g", b"b")],
                ],
                vec![("f", Want::File(b"two")), ("g", Want::File(b"b"))],
            ),
            (
                "hardlink shares its target's bytes, even after the target is deleted",
                vec![
                    vec![File("bin/a", b"data"), Hard("bin/b", "bin/a")],
                    vec![Whiteout("bin/a")],
                ],
                vec![("bin/a", Want::Absent), ("bin/b", Want::File(b"data"))],
            ),
            (
                "hardlink to a symlink is a symlink",
                vec![vec![Sym("s", "target"), Hard("h", "s")]],
                vec![("h", Want::Sym("target"))],
            ),
            (
                "entries under a lower symlinked folder land in its target",
                vec![
                    vec![Dir("usr/lib"), Sym("lib", "usr/lib")],
                    vec![File("lib/x.so", b"elf")],
                ],
                vec![
                    ("usr/lib/x.so", Want::File(b"elf")),
                    ("lib", Want::Sym("usr/lib")),
                ],
            ),
            (
                "absolute symlinked folder stays inside the image",
                vec![
                    vec![Dir("real"), Sym("etc", "/../../real")],
                    vec![File("etc/conf", b"c")],
                ],
                vec![("real/conf", Want::File(b"c"))],
            ),
            (
                "a folder over a symlink replaces the symlink",
                vec![
                    vec![Sym("d", "elsewhere")],
                    vec![Dir("d"), File("d/f", b"1")],
                ],
                vec![("d", Want::Dir), ("d/f", Want::File(b"1"))],
            ),
            (
                "a file replaces a lower folder and its contents",
                vec![vec![File("p/q", b"1")], vec![File("p", b"now a file")]],
                vec![("p", Want::File(b"now a file")), ("p/q", Want::Absent)],
            ),
            (
                "a whiteout after this layer's own entries still hides only lower ones",
                vec![
                    vec![File("a/x", b"1"), File("b", b"2")],
                    vec![
                        File("a/y", b"3"),
                        Whiteout("a"),
                        File("b", b"4"),
                        Whiteout("b"),
                    ],
                ],
                vec![
                    ("a/x", Want::Absent),
                    ("a/y", Want::File(b"3")),
                    ("b", Want::File(b"4")),
                ],
            ),
            (
                "an opaque marker before this layer's own entries",
                vec![
                    vec![File("d/old", b"1")],
                    vec![Opaque("d"), File("d/new", b"2"), Opaque("d")],
                ],
                vec![("d/old", Want::Absent), ("d/new", Want::File(b"2"))],
            ),
            (
                "a whiteout through a symlinked folder hides the target's entry",
                vec![
                    vec![
                        File("real/f", b"1"),
                        File("real/g", b"2"),
                        Sym("link", "real"),
                    ],
                    vec![Whiteout("link/f")],
                ],
                vec![
                    ("real/f", Want::Absent),
                    ("real/g", Want::File(b"2")),
                    ("link", Want::Sym("real")),
                ],
            ),
            (
                "whiteouts named `.wh.`, `.wh..` and `.wh...` remove nothing",
                vec![
                    vec![File("a/f", b"1")],
                    vec![Whiteout("a/"), Whiteout("a/."), Whiteout("a/..")],
                ],
                vec![("a/f", Want::File(b"1")), ("a", Want::Dir)],
            ),
            (
                "missing parents are made; whiteout of nothing is harmless",
                vec![
                    vec![File("deep/er/file", b"z")],
                    vec![Whiteout("never/was")],
                ],
                vec![("deep/er", Want::Dir), ("deep/er/file", Want::File(b"z"))],
            ),
        ];
        for (name, layers, wants) in cases {
            let (tree, _) = flatten(&layers).unwrap_or_else(|e| panic!("{name}: {e}"));
            for (path, want) in wants {
                let node = tree.get(path);
                match (&want, node) {
                    (Want::Absent, None) => {}
                    (Want::Dir, Some(n)) if n.is_dir() => {}
                    (
                        Want::Sym(t),
                        Some(Node {
                            kind: NodeKind::Symlink(s),
                            ..
                        }),
                    ) if s == t => {}
                    (Want::File(b), Some(n)) if matches!(n.kind, NodeKind::File(_)) => {
                        assert_eq!(bytes_of(&layers, &tree, n), *b, "{name}: {path}");
                    }
                    _ => panic!("{name}: {path}: want {want:?}, got {node:?}"),
                }
            }
        }
    }

    #[test]
    fn counts_hardlinks_once_and_attributes_waste() {
        use E::*;
        let layers = vec![
            vec![
                File("a", b"12345"),
                Hard("b", "a"),
                File("c", b"xx"),
                File("c", b"yyy"),
            ],
            vec![Whiteout("c"), File("d", b"1")],
        ];
        let (tree, changes) = flatten(&layers).unwrap();
        assert_eq!(tree.non_dir_count(), 3); // a, b, d
        assert_eq!(tree.regular_bytes(), 6); // a/b once + d
        assert_eq!(changes[0].wasted_bytes, 5); // both versions of c
        assert_eq!(changes[1].removed, 1);
        assert_eq!(changes[1].added, 1);
        assert_eq!(changes[0].files, 4);
    }

    #[test]
    fn records_devices_fifos_and_xattrs() {
        use E::*;
        let layers = vec![vec![
            Char("dev/null", 1, 3),
            Fifo("run/pipe"),
            WithXattr("usr/bin/ping", "security.capability", b"\x01\x02"),
        ]];
        let (tree, _) = flatten(&layers).unwrap();
        assert_eq!(
            tree.get("dev/null").unwrap().kind,
            NodeKind::CharDevice { major: 1, minor: 3 }
        );
        assert_eq!(tree.get("run/pipe").unwrap().kind, NodeKind::Fifo);
        assert_eq!(
            tree.get("usr/bin/ping").unwrap().xattrs,
            vec![("security.capability".to_string(), b"\x01\x02".to_vec())]
        );
    }

    #[test]
    fn refuses_hostile_names() {
        use E::*;
        let cases: Vec<(&str, Vec<E>)> = vec![
            ("dot-dot entry", vec![File("../../etc/evil", b"x")]),
            ("absolute entry", vec![File("/etc/evil", b"x")]),
            ("dot-dot hardlink", vec![Hard("x", "../../etc/shadow")]),
            ("hardlink to nothing", vec![Hard("x", "missing")]),
            (
                "entry below a file",
                vec![File("f", b"1"), File("f/g", b"2")],
            ),
        ];
        for (name, entries) in cases {
            assert!(flatten(&[entries]).is_err(), "{name} accepted");
        }
    }

    #[test]
    fn the_root_must_stay_a_folder() {
        use E::*;
        for entries in [
            vec![Sym(".", "usr")],
            vec![Sym("./", "/")],
            vec![File(".", b"x")],
        ] {
            let err = flatten(&[vec![File("usr/f", b"1")], entries]).unwrap_err();
            assert!(err.to_string().contains("root must be a folder"), "{err}");
        }
        let (tree, _) = flatten(&[vec![Dir("."), File("f", b"1")]]).unwrap();
        assert!(tree.get("f").is_some());
    }

    #[test]
    fn limits_refuse_with_their_names() {
        use E::*;
        let cases: Vec<(&str, Vec<E>, &str)> = vec![
            (
                "entries=3",
                vec![File("a/b/c", b"1"), File("d", b"2")],
                "entries",
            ),
            ("path-bytes=8", vec![File("abcd/efghi", b"1")], "path-bytes"),
            ("path-depth=2", vec![File("a/b/c", b"1")], "path-depth"),
            ("name-bytes=3", vec![File("abcd", b"1")], "name-bytes"),
            ("path-bytes=8", vec![Sym("s", "/123456789")], "path-bytes"),
            ("tree-bytes=10", vec![Sym("s", "0123456789a")], "tree-bytes"),
            (
                "symlink-hops=1",
                vec![Sym("a", "b"), Sym("b", "c"), Dir("c"), File("a/f", b"1")],
                "symlink-hops",
            ),
            (
                "header-bytes=100",
                vec![WithXattr("f", "user.big", &[b'x'; 200])],
                "header-bytes",
            ),
            (
                "uncompressed-bytes=2K",
                vec![File("f", &[0; 4096])],
                "uncompressed-bytes",
            ),
        ];
        for (spec, entries, name) in cases {
            let mut limits = Limits::default();
            limits.apply(spec).unwrap();
            let mut f = Flattener::with_limits(limits);
            let Err(err) = f.apply_layer(&layer(&entries)[..], "layer 1") else {
                panic!("{spec}: accepted");
            };
            let err = err.to_string();
            assert!(err.contains(name), "{spec}: {err}");
            assert!(
                err.contains("--limits") || name == "symlink-hops",
                "{spec}: {err}"
            );
        }
    }

    #[test]
    fn deep_paths_cost_linear_memory() {
        // 20,000 folders deep with `path-depth` lifted: one slot each, and
        // the names once, where one string per ancestor prefix would hold
        // 20,000²/2 × 2 bytes (400 MB).
        let depth = 20_000;
        let mut tar = tar::Builder::new(Vec::new());
        let path = "a/".repeat(depth) + "f";
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, &path, &b"x"[..]).unwrap();
        let bytes = tar.into_inner().unwrap();
        let mut limits = Limits::default();
        limits.apply("path-depth=none,path-bytes=none").unwrap();
        let mut f = Flattener::with_limits(limits.clone());
        f.apply_layer(&bytes[..], "layer 1").unwrap();
        let (tree, _) = f.finish();
        assert_eq!(tree.len(), depth + 2);
        assert!(tree.name_bytes_held() <= (depth + 1) as u64);
        assert_eq!(tree.iter().last().map(|(p, _)| p.len()), Some(path.len()));
        // With the default limits the same layer is one clear line.
        let err = Flattener::new()
            .apply_layer(&bytes[..], "layer 1")
            .unwrap_err();
        assert!(
            err.to_string().contains("path-bytes limit of 4096"),
            "{err}"
        );
    }

    #[test]
    fn sparse_files_are_one_clear_line() {
        // A PAX 1.0 sparse file as GNU tar writes it: the real name in
        // GNU.sparse.name, a made-up one in the header.
        let mut b = tar::Builder::new(Vec::new());
        b.append_pax_extensions([
            ("GNU.sparse.major", &b"1"[..]),
            ("GNU.sparse.minor", b"0"),
            ("GNU.sparse.name", b"big.img"),
            ("GNU.sparse.realsize", b"1048576"),
        ])
        .unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_size(512);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, "GNUSparseFile.0/big.img", &[b'0'; 512][..])
            .unwrap();
        let err = Flattener::new()
            .apply_layer(&b.into_inner().unwrap()[..], "layer 1")
            .unwrap_err();
        assert!(err.to_string().contains("sparse file"), "{err}");
    }

    #[test]
    fn finish_after_a_failed_layer_does_not_panic() {
        use E::*;
        let mut f = Flattener::new();
        f.apply_layer(&layer(&[File("a", b"1")])[..], "layer 1")
            .unwrap();
        let bad = layer(&[File("b", b"22"), File("b/c", b"3")]);
        assert!(f.apply_layer(&bad[..], "layer 2").is_err());
        // Nothing more can be applied, and finishing is safe.
        assert!(
            f.apply_layer(&layer(&[File("z", b"")])[..], "layer 3")
                .is_err()
        );
        let (tree, changes) = f.finish();
        assert_eq!(changes.len(), 1);
        assert!(tree.get("a").is_some());
    }
}
