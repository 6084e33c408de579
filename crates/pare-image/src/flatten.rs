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

use std::collections::HashSet;
use std::io::Read;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::paths::{self, PathProblem};
use crate::tree::{Content, DataSource, FileTree, Node, NodeKind, ResolveError};

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";
/// Entries in one layer above this are refused: no real image comes close.
const MAX_LAYER_ENTRIES: usize = 5_000_000;
/// The kernel refuses larger extended attribute values.
const MAX_XATTR_VALUE: usize = 64 * 1024;

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

/// Builds a [`FileTree`] one layer at a time.
#[derive(Default)]
pub struct Flattener {
    tree: FileTree,
    changes: Vec<LayerChanges>,
    content_layer: Vec<usize>,
}

enum PendingKind {
    Dir,
    File { offset: u64, size: u64 },
    Hardlink(String),
    Symlink(String),
    Char(u32, u32),
    Block(u32, u32),
    Fifo,
}

struct Pending {
    path: String,
    kind: PendingKind,
    node: Node,
}

impl Flattener {
    pub fn new() -> Self {
        Flattener {
            tree: FileTree::new(),
            ..Default::default()
        }
    }

    /// Applies the next layer; `context` names it in errors.
    pub fn apply_layer(&mut self, reader: impl Read, context: &str) -> Result<()> {
        let layer = self.changes.len();
        let mut changes = LayerChanges::default();
        let mut pending = Vec::new();
        let mut whiteouts = Vec::new();
        let mut opaque_dirs = Vec::new();

        let mut archive = tar::Archive::new(reader);
        let entries = archive.entries().map_err(|e| Error::io(context, e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| layer_error(context, e))?;
            changes.entries += 1;
            if changes.entries as usize > MAX_LAYER_ENTRIES {
                return Err(Error::malformed(context, "too many entries"));
            }
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let path = layer_path(&raw, context)?;
            let name = paths::file_name(&path);
            if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
                if name == OPAQUE_MARKER {
                    opaque_dirs.push(paths::parent(&path).to_string());
                } else if !hidden.starts_with(WHITEOUT_PREFIX) && !hidden.is_empty() {
                    whiteouts.push(paths::child(paths::parent(&path), hidden));
                }
                // Other `.wh..wh.*` names are aufs bookkeeping: ignore.
                continue;
            }
            let header = entry.header();
            let node = Node {
                kind: NodeKind::Dir,
                mode: header.mode().map_err(|e| layer_error(context, e))? & 0o7777,
                uid: header.uid().unwrap_or(0),
                gid: header.gid().unwrap_or(0),
                mtime: header.mtime().unwrap_or(0),
                xattrs: read_xattrs(&mut entry, context)?,
            };
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
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default()
            };
            let kind = match header.entry_type() {
                tar::EntryType::Directory => PendingKind::Dir,
                tar::EntryType::Regular
                | tar::EntryType::Continuous
                | tar::EntryType::GNUSparse => PendingKind::File {
                    offset: entry.raw_file_position(),
                    size: entry.size(),
                },
                tar::EntryType::Link => PendingKind::Hardlink(layer_path(&link(), context)?),
                tar::EntryType::Symlink => PendingKind::Symlink(link()),
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
            pending.push(Pending { path, kind, node });
        }

        // Deletions see only the lower layers.
        for dir in &opaque_dirs {
            if let Ok(dir) = self.tree.resolve(dir, true)
                && self.tree.get(&dir).is_some_and(Node::is_dir)
            {
                let removed = self.tree.remove_descendants(&dir);
                changes.removed += count_non_dirs(&removed);
            }
        }
        for path in &whiteouts {
            let resolved = match self.tree.resolve(paths::parent(path), true) {
                Ok(dir) => paths::child(&dir, paths::file_name(path)),
                Err(_) => continue,
            };
            let removed = self.tree.remove_subtree(&resolved);
            changes.removed += count_non_dirs(&removed);
        }

        let mut touched = HashSet::new();
        for item in pending {
            self.add(layer, item, &mut changes, &mut touched, context)?;
        }
        self.changes.push(changes);
        Ok(())
    }

    fn add(
        &mut self,
        layer: usize,
        item: Pending,
        changes: &mut LayerChanges,
        touched: &mut HashSet<String>,
        context: &str,
    ) -> Result<()> {
        let Pending {
            path,
            kind,
            mut node,
        } = item;
        let entry_context = || format!("{context}: entry {path:?}");
        let target = if path.is_empty() {
            String::new()
        } else {
            let parent = self
                .tree
                .resolve_for_create(paths::parent(&path))
                .map_err(|e| resolve_error(entry_context(), e))?;
            paths::child(&parent, paths::file_name(&path))
        };
        node.kind = match kind {
            PendingKind::Dir => NodeKind::Dir,
            PendingKind::File { offset, size } => {
                changes.bytes += size;
                self.content_layer.push(layer);
                NodeKind::File(self.tree.add_content(Content {
                    source: DataSource::Layer { layer, offset },
                    size,
                }))
            }
            PendingKind::Hardlink(link) => {
                let resolved = self
                    .tree
                    .resolve(&link, false)
                    .map_err(|e| resolve_error(entry_context(), e))?;
                match self.tree.get(&resolved) {
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

        let existing = self.tree.get(&target);
        let is_dir = node.is_dir();
        let first_touch = touched.insert(target.clone());
        match existing {
            Some(old) if old.is_dir() && is_dir => {
                // Folder over folder: new metadata, contents stay.
                self.tree.insert(target, node);
                return Ok(());
            }
            Some(old) => {
                let old_is_dir = old.is_dir();
                let removed = self.tree.remove_subtree(&target);
                if first_touch {
                    // What sat below a replaced folder is removed; the path
                    // itself changed, appeared or vanished as a file.
                    changes.removed += count_non_dirs(&removed) - u64::from(!old_is_dir);
                    match (old_is_dir, is_dir) {
                        (false, false) => changes.changed += 1,
                        (false, true) => changes.removed += 1,
                        (true, false) => changes.added += 1,
                        (true, true) => {}
                    }
                }
            }
            None if first_touch && !is_dir => changes.added += 1,
            None => {}
        }
        self.tree.insert(target, node);
        Ok(())
    }

    /// The final tree and what each layer did.
    pub fn finish(self) -> (FileTree, Vec<LayerChanges>) {
        let Flattener {
            tree,
            mut changes,
            content_layer,
        } = self;
        let mut visible = vec![false; tree.contents().len()];
        for (_, node) in tree.iter() {
            if let NodeKind::File(id) = node.kind {
                visible[id] = true;
            }
        }
        for (id, seen) in visible.iter().enumerate() {
            if !seen {
                changes[content_layer[id]].wasted_bytes += tree.content(id).size;
            }
        }
        (tree, changes)
    }
}

fn count_non_dirs(removed: &[(String, Node)]) -> u64 {
    removed.iter().filter(|(_, n)| !n.is_dir()).count() as u64
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
        Error::Io { path, source } => {
            Error::malformed(path, format!("corrupt or truncated layer: {source}"))
        }
        other => other,
    }
}

fn resolve_error(context: String, err: ResolveError) -> Error {
    let message = match err {
        ResolveError::NotFound(p) => format!("{p:?} does not exist"),
        ResolveError::NotADirectory(p) => format!("parent {p:?} is not a folder"),
        ResolveError::TooManyLinks => "too many levels of symlinks".to_string(),
    };
    Error::malformed(context, message)
}

fn read_xattrs<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    context: &str,
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
