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
use crate::scan::{ContentScanner, FileScan, Finding};
use crate::tree::{Content, ContentId, DataSource, FileTree, Node, NodeKind, ResolveError};

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";
/// Entries in one layer above this are refused: no real image comes close.
const MAX_LAYER_ENTRIES: usize = 5_000_000;
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

/// Captured files larger than this are refused: metadata is never this big.
pub const MAX_CAPTURED_FILE: u64 = 256 * 1024 * 1024;

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
/// layer order ([`Flattener::apply_parsed`]).
#[derive(Default)]
pub struct Flattener {
    pub(crate) parser: LayerParser,
    tree: FileTree,
    changes: Vec<LayerChanges>,
    content_layer: Vec<usize>,
    captured: std::collections::HashMap<ContentId, Captured>,
    found: std::collections::HashMap<ContentId, Vec<Finding>>,
}

/// Reads one layer's tar stream into a [`ParsedLayer`]: the entries'
/// headers, the bytes of captured files and what the scanners found.
/// Shared between threads, it holds only the capture predicate and the
/// scanners.
#[derive(Default)]
pub struct LayerParser {
    capture: Option<Box<CapturePredicate>>,
    scanners: Vec<Box<dyn ContentScanner>>,
}

/// One layer as read, not yet applied to a tree.
pub struct ParsedLayer {
    /// Entry counts filled in while reading; the rest when applied.
    changes: LayerChanges,
    pending: Vec<Pending>,
    whiteouts: Vec<String>,
    opaque_dirs: Vec<String>,
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

struct Pending {
    path: String,
    kind: PendingKind,
    node: Node,
    captured: Option<Vec<u8>>,
    found: Vec<Finding>,
}

/// What flattening keeps besides the tree: captured file versions and
/// scanners' findings, both by content id.
pub struct Extracts {
    pub captured: std::collections::HashMap<ContentId, Captured>,
    pub found: std::collections::HashMap<ContentId, Vec<Finding>>,
}

impl Flattener {
    pub fn new() -> Self {
        Flattener {
            tree: FileTree::new(),
            ..Default::default()
        }
    }

    /// A flattener that keeps the bytes of the files `capture` picks (every
    /// version of them, superseded ones included, with their layer).
    pub fn with_capture(capture: Box<CapturePredicate>) -> Self {
        let mut flattener = Flattener::new();
        flattener.parser.capture = Some(capture);
        flattener
    }

    /// Also runs `scanner` over the bytes of the regular files it picks
    /// (all scanners share one read of each file).
    pub fn scanning(mut self, scanner: Box<dyn ContentScanner>) -> Self {
        self.parser.scanners.push(scanner);
        self
    }

    /// Applies the next layer; `context` names it in errors.
    pub fn apply_layer(&mut self, reader: impl Read, context: &str) -> Result<()> {
        let parsed = self.parser.parse(reader, context)?;
        self.apply_parsed(parsed, context)
    }

    /// Applies the next layer, already read by [`LayerParser::parse`].
    pub fn apply_parsed(&mut self, parsed: ParsedLayer, context: &str) -> Result<()> {
        let layer = self.changes.len();
        let ParsedLayer {
            mut changes,
            pending,
            whiteouts,
            opaque_dirs,
        } = parsed;
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
}

impl ParsedLayer {
    /// A copy to apply once more, where a manifest lists the same blob
    /// again, so the blob is not read twice: the same entries and captured
    /// bytes. Scanners' findings cannot be copied: the copy has none, so
    /// apply copies at the earlier listings and this one, with its
    /// findings, at the last.
    pub fn replica(&self) -> ParsedLayer {
        ParsedLayer {
            changes: self.changes.clone(),
            pending: self
                .pending
                .iter()
                .map(|p| Pending {
                    path: p.path.clone(),
                    kind: p.kind.clone(),
                    node: p.node.clone(),
                    captured: p.captured.clone(),
                    found: Vec::new(),
                })
                .collect(),
            whiteouts: self.whiteouts.clone(),
            opaque_dirs: self.opaque_dirs.clone(),
        }
    }
}

impl LayerParser {
    /// Reads a layer's tar stream; `context` names it in errors. Needs
    /// nothing from other layers.
    pub fn parse(&self, reader: impl Read, context: &str) -> Result<ParsedLayer> {
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
            let captured = match (&kind, &self.capture) {
                (PendingKind::File { size, .. }, Some(capture)) if capture(&path, *size) => {
                    if *size > MAX_CAPTURED_FILE {
                        return Err(Error::malformed(
                            format!("{context}: entry {raw:?}"),
                            format!("{size} bytes is too large for a metadata file"),
                        ));
                    }
                    let mut bytes = Vec::with_capacity(*size as usize);
                    entry
                        .read_to_end(&mut bytes)
                        .map_err(|e| layer_error(context, e))?;
                    Some(bytes)
                }
                _ => None,
            };
            let scans: Vec<Box<dyn FileScan>> = match &kind {
                PendingKind::File { size, .. } => self
                    .scanners
                    .iter()
                    .filter_map(|scanner| scanner.start(&path, *size, node.mode))
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
            pending.push(Pending {
                path,
                kind,
                node,
                captured,
                found,
            });
        }
        Ok(ParsedLayer {
            changes,
            pending,
            whiteouts,
            opaque_dirs,
        })
    }
}

impl Flattener {
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
            captured,
            found,
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
                let id = self.tree.add_content(Content {
                    source: DataSource::Layer { layer, offset },
                    size,
                });
                if let Some(bytes) = captured {
                    let path = target.clone();
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
        let (tree, changes, _) = self.finish_with_extracts();
        (tree, changes)
    }

    /// Like [`Flattener::finish`], with the captured file versions and the
    /// scanners' findings.
    pub fn finish_with_extracts(self) -> (FileTree, Vec<LayerChanges>, Extracts) {
        let Flattener {
            tree,
            mut changes,
            content_layer,
            captured,
            found,
            ..
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
        (tree, changes, Extracts { captured, found })
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
}
