//! The flattened file tree of an image: what a container would see.
//!
//! Paths are normalised relative names (`usr/bin/redis-server`; the root is
//! `""`). Regular files point at a [`Content`]: where their bytes are (a
//! layer and an offset in its uncompressed tar stream, or a host file), so
//! later stages can stream exactly those bytes without unpacking anything.
//! Hardlinked paths share one content.

use std::hash::{BuildHasher, Hash, Hasher};

use foldhash::fast::RandomState;
use std::path::PathBuf;
use std::sync::OnceLock;

use hashbrown::HashTable;

use crate::paths;

/// Index of a [`Content`] in [`FileTree::contents`].
pub type ContentId = usize;

/// Where a regular file's bytes live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataSource {
    /// In layer `layer`, at `offset` bytes into its uncompressed tar stream.
    Layer { layer: usize, offset: u64 },
    /// A file on the host (for `dir:` images).
    Host(PathBuf),
}

/// The bytes of a regular file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Content {
    pub source: DataSource,
    pub size: u64,
}

/// What kind of thing a path is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Dir,
    File(ContentId),
    Symlink(String),
    CharDevice { major: u32, minor: u32 },
    BlockDevice { major: u32, minor: u32 },
    Fifo,
}

/// One path of the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
    /// Permission bits including setuid, setgid and sticky (`0o7777`).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    /// Extended attributes, e.g. `security.capability`.
    pub xattrs: Vec<(String, Vec<u8>)>,
}

impl Node {
    /// A directory made up because a deeper entry needed it.
    pub fn implicit_dir() -> Self {
        Node {
            kind: NodeKind::Dir,
            mode: 0o755,
            uid: 0,
            gid: 0,
            mtime: 0,
            xattrs: Vec::new(),
        }
    }

    pub fn is_dir(&self) -> bool {
        matches!(self.kind, NodeKind::Dir)
    }
}

/// Why a path could not be resolved inside the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// A component does not exist.
    NotFound(String),
    /// A component that must be a folder is not one.
    NotADirectory(String),
    /// More symlinks than the hop limit (40 by default, as the kernel's
    /// ELOOP).
    TooManyLinks,
    /// The path, as resolved through symlinks, is deeper than the depth
    /// limit.
    TooDeep,
}

/// Symlinks followed before giving up, as Linux's `MAXSYMLINKS`.
const MAX_SYMLINKS: u64 = 40;

/// A path's handle in a [`FileTree`]; valid until that path is removed.
pub type NodeId = u32;

/// The root folder's id.
pub const ROOT: NodeId = 0;

/// "No node" in the sibling links.
const NONE: NodeId = NodeId::MAX;

/// One path of the tree as stored: its node, its name (a range of
/// [`FileTree::names`]) and its place among its siblings.
///
/// Paths are never stored whole: a path is its parent's id plus one name,
/// so a path `depth` components deep costs one slot, not `depth` strings
/// (an image with one entry 100,000 folders deep would otherwise need
/// memory in the square of the depth).
#[derive(Clone, Debug)]
struct Slot {
    node: Node,
    parent: NodeId,
    first_child: NodeId,
    next: NodeId,
    prev: NodeId,
    /// Where the name starts in [`FileTree::names`]; a tree holds at most
    /// 4 GiB of names (the tree-bytes limit keeps it far below).
    name_at: u32,
    name_len: u32,
    /// Layer bookkeeping for the flattener (see [`crate::flatten`]).
    marks: Marks,
}

/// What the flattener records on each path: the layer that last wrote it
/// (`layer`, 0 before any layer, and whether that write was an entry of its
/// own or a folder made up for a deeper one), and the last layer in which
/// nothing below it came from a lower layer (`fresh`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Marks {
    pub layer: u32,
    pub explicit: bool,
    /// Set once the path is removed (its slot is not reused).
    pub dead: bool,
    pub fresh: u32,
}

/// The merged view of an image's layers.
#[derive(Clone, Debug)]
pub struct FileTree {
    slots: Vec<Slot>,
    /// Every live path except the root, keyed by (parent id, name). The
    /// hasher is seeded per tree (foldhash: fast, and an image cannot
    /// choose names that collide without knowing the seed).
    index: HashTable<NodeId>,
    hasher: RandomState,
    /// The names of all slots, back to back.
    names: Vec<u8>,
    live: usize,
    contents: Vec<Content>,
    max_hops: u64,
    max_depth: u64,
    /// Every live id in path order, built on first use after a change.
    order: OnceLock<Vec<NodeId>>,
}

impl Default for FileTree {
    fn default() -> Self {
        FileTree::new()
    }
}

impl FileTree {
    /// A tree holding only the root folder.
    pub fn new() -> Self {
        FileTree {
            slots: vec![Slot {
                node: Node::implicit_dir(),
                parent: NONE,
                first_child: NONE,
                next: NONE,
                prev: NONE,
                name_at: 0,
                name_len: 0,
                marks: Marks::default(),
            }],
            index: HashTable::new(),
            hasher: RandomState::default(),
            names: Vec::new(),
            live: 1,
            contents: Vec::new(),
            max_hops: MAX_SYMLINKS,
            max_depth: u64::MAX,
            order: OnceLock::new(),
        }
    }

    /// Bounds path resolution: symlinks followed per path, and the depth of
    /// the path reached (both from [`crate::Limits`]).
    pub fn set_resolve_limits(&mut self, symlink_hops: u64, path_depth: u64) {
        self.max_hops = symlink_hops;
        self.max_depth = path_depth;
    }

    fn hash(&self, parent: NodeId, name: &[u8]) -> u64 {
        let mut h = self.hasher.build_hasher();
        parent.hash(&mut h);
        name.hash(&mut h);
        h.finish()
    }

    fn name_bytes(&self, id: NodeId) -> &[u8] {
        let slot = &self.slots[id as usize];
        &self.names[slot.name_at as usize..slot.name_at as usize + slot.name_len as usize]
    }

    /// The last component of `id`'s path (`""` for the root).
    pub fn name(&self, id: NodeId) -> &str {
        // Names only ever come in as `&str`, so the bytes are valid UTF-8.
        std::str::from_utf8(self.name_bytes(id)).unwrap_or_default()
    }

    /// The child called `name` of folder `dir`.
    pub fn child(&self, dir: NodeId, name: &str) -> Option<NodeId> {
        let hash = self.hash(dir, name.as_bytes());
        self.index
            .find(hash, |&id| {
                self.slots[id as usize].parent == dir && self.name_bytes(id) == name.as_bytes()
            })
            .copied()
    }

    /// The id of a path (no symlinks followed).
    pub fn lookup(&self, path: &str) -> Option<NodeId> {
        let mut id = ROOT;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            id = self.child(id, part)?;
        }
        Some(id)
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.slots[id as usize].node
    }

    pub(crate) fn marks(&self, id: NodeId) -> Marks {
        self.slots[id as usize].marks
    }

    pub(crate) fn marks_mut(&mut self, id: NodeId) -> &mut Marks {
        &mut self.slots[id as usize].marks
    }

    /// The folder holding `id` (`None` for the root).
    pub fn parent_of(&self, id: NodeId) -> Option<NodeId> {
        Some(self.slots[id as usize].parent).filter(|&p| p != NONE)
    }

    /// The full path of `id`.
    pub fn path_of(&self, id: NodeId) -> String {
        let mut parts = Vec::new();
        let mut at = id;
        while at != ROOT {
            parts.push(self.name(at));
            at = self.slots[at as usize].parent;
        }
        parts.reverse();
        parts.join("/")
    }

    /// The direct children of `dir`, unordered.
    pub fn child_ids(&self, dir: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        let mut at = self.slots[dir as usize].first_child;
        std::iter::from_fn(move || {
            let id = at;
            (id != NONE).then(|| {
                at = self.slots[id as usize].next;
                id
            })
        })
    }

    pub fn get(&self, path: &str) -> Option<&Node> {
        self.lookup(path).map(|id| self.node(id))
    }

    pub fn contains(&self, path: &str) -> bool {
        self.lookup(path).is_some()
    }

    /// Every live id in path order: a folder before what it holds, siblings
    /// sorted by name.
    fn ordered(&self) -> &[NodeId] {
        self.order.get_or_init(|| self.subtree_order(ROOT))
    }

    /// `top` and every id below it, in path order.
    fn subtree_order(&self, top: NodeId) -> Vec<NodeId> {
        let mut order = Vec::with_capacity(if top == ROOT { self.live } else { 16 });
        let mut stack = vec![top];
        let mut children = Vec::new();
        while let Some(id) = stack.pop() {
            order.push(id);
            children.clear();
            children.extend(self.child_ids(id));
            // Reversed, so the smallest name is popped first.
            children.sort_unstable_by(|&a, &b| self.name_bytes(b).cmp(self.name_bytes(a)));
            stack.extend_from_slice(&children);
        }
        order
    }

    /// Every live id in path order (a folder before what it holds).
    pub fn ids(&self) -> &[NodeId] {
        self.ordered()
    }

    /// One more than the largest id ever given out: a size for tables
    /// indexed by id.
    pub fn id_bound(&self) -> usize {
        self.slots.len()
    }

    /// Every path with its node, in path order (a folder before what it
    /// holds, siblings sorted by name).
    pub fn iter(&self) -> impl Iterator<Item = (String, &Node)> + '_ {
        self.walk(self.ordered().iter().copied())
    }

    /// Paths for a run of ids in path order (each id's parent precedes it).
    fn walk<'a>(
        &'a self,
        ids: impl IntoIterator<Item = NodeId> + 'a,
    ) -> impl Iterator<Item = (String, &'a Node)> + 'a {
        let mut path = String::new();
        // (id, length of `path` up to and including that folder)
        let mut stack: Vec<(NodeId, usize)> = Vec::new();
        ids.into_iter().map(move |id| {
            let parent = self.slots[id as usize].parent;
            while let Some(&(top, _)) = stack.last() {
                if top == parent {
                    break;
                }
                stack.pop();
            }
            match stack.last() {
                Some(&(_, len)) => {
                    path.truncate(len);
                    if len > 0 {
                        path.push('/');
                    }
                    path.push_str(self.name(id));
                }
                None if id == ROOT => path.clear(),
                // The first id of a subtree: its full path.
                None => path = self.path_of(id),
            }
            stack.push((id, path.len()));
            (path.clone(), self.node(id))
        })
    }

    /// Every live node with its id, in no particular order (cheaper than
    /// [`FileTree::iter`] when paths are not needed).
    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, &Node)> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.marks.dead)
            .map(|(id, s)| (id as NodeId, &s.node))
    }

    /// How many paths, the root included.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live <= 1
    }

    /// Bytes of names held (for the tree-bytes limit).
    pub fn name_bytes_held(&self) -> u64 {
        self.names.len() as u64
    }

    /// The contents table.
    pub fn contents(&self) -> &[Content] {
        &self.contents
    }

    pub fn content(&self, id: ContentId) -> &Content {
        &self.contents[id]
    }

    /// Registers a file's bytes and returns its id.
    pub fn add_content(&mut self, content: Content) -> ContentId {
        self.contents.push(content);
        self.contents.len() - 1
    }

    /// Size of a regular file (0 for anything else).
    pub fn file_size(&self, node: &Node) -> u64 {
        match node.kind {
            NodeKind::File(id) => self.contents[id].size,
            _ => 0,
        }
    }

    /// Inserts or replaces a node, creating missing parent folders. The
    /// caller has already resolved symlinks in the parent path. What was
    /// under a replaced path stays.
    pub fn insert(&mut self, path: String, node: Node) {
        let mut id = ROOT;
        let mut parts = path.split('/').filter(|p| !p.is_empty()).peekable();
        while let Some(part) = parts.next() {
            id = match self.child(id, part) {
                Some(child) => child,
                None if parts.peek().is_some() => self.add_child(id, part, Node::implicit_dir()),
                None => {
                    self.add_child(id, part, node);
                    return;
                }
            };
        }
        self.set_node(id, node);
    }

    /// Replaces the node of `id`, keeping what is below it.
    pub(crate) fn set_node(&mut self, id: NodeId, node: Node) {
        self.slots[id as usize].node = node;
    }

    /// Adds `name` to folder `dir` (which must not hold it yet).
    pub(crate) fn add_child(&mut self, dir: NodeId, name: &str, node: Node) -> NodeId {
        debug_assert!(self.child(dir, name).is_none());
        let id = self.slots.len() as NodeId;
        let first = self.slots[dir as usize].first_child;
        self.slots.push(Slot {
            node,
            parent: dir,
            first_child: NONE,
            next: first,
            prev: NONE,
            name_at: u32::try_from(self.names.len()).expect("tree names over 4 GiB"),
            name_len: name.len() as u32,
            marks: Marks::default(),
        });
        self.names.extend_from_slice(name.as_bytes());
        if first != NONE {
            self.slots[first as usize].prev = id;
        }
        self.slots[dir as usize].first_child = id;
        let hash = self.hash(dir, name.as_bytes());
        let (slots, names, hasher) = (&self.slots, &self.names, &self.hasher);
        self.index.insert_unique(hash, id, |&other| {
            let s = &slots[other as usize];
            let name = &names[s.name_at as usize..s.name_at as usize + s.name_len as usize];
            let mut h = hasher.build_hasher();
            s.parent.hash(&mut h);
            name.hash(&mut h);
            h.finish()
        });
        self.live += 1;
        self.order = OnceLock::new();
        id
    }

    /// Removes `id` (never the root) and everything under it; `visit` sees
    /// each removed node.
    pub(crate) fn remove_with(&mut self, id: NodeId, mut visit: impl FnMut(&Node)) {
        if id == ROOT || self.slots[id as usize].marks.dead {
            return;
        }
        // Unlink from the siblings; the subtree below dies with it.
        let Slot {
            parent, next, prev, ..
        } = self.slots[id as usize];
        if prev == NONE {
            self.slots[parent as usize].first_child = next;
        } else {
            self.slots[prev as usize].next = next;
        }
        if next != NONE {
            self.slots[next as usize].prev = prev;
        }
        let mut stack = vec![id];
        while let Some(at) = stack.pop() {
            stack.extend(self.child_ids(at));
            let hash = self.hash(self.slots[at as usize].parent, self.name_bytes(at));
            if let Ok(entry) = self.index.find_entry(hash, |&other| other == at) {
                entry.remove();
            }
            let slot = &mut self.slots[at as usize];
            slot.marks.dead = true;
            slot.first_child = NONE;
            visit(&slot.node);
            // The dead node keeps nothing alive.
            slot.node.xattrs = Vec::new();
            if let NodeKind::Symlink(target) = &mut slot.node.kind {
                *target = String::new();
            }
            self.live -= 1;
        }
        self.order = OnceLock::new();
    }

    /// The paths strictly inside folder `dir`, in order.
    pub fn descendants<'a>(&'a self, dir: &str) -> impl Iterator<Item = (String, &'a Node)> + 'a {
        let ids = match self.lookup(dir) {
            Some(id) => {
                let mut ids = self.subtree_order(id);
                ids.remove(0);
                ids
            }
            None => Vec::new(),
        };
        self.walk(ids)
    }

    /// The direct children of folder `dir`, sorted by name.
    pub fn children<'a>(&'a self, dir: &str) -> impl Iterator<Item = (String, &'a Node)> + 'a {
        let mut ids: Vec<NodeId> = self
            .lookup(dir)
            .map(|d| self.child_ids(d).collect())
            .unwrap_or_default();
        ids.sort_unstable_by(|&a, &b| self.name_bytes(a).cmp(self.name_bytes(b)));
        let dir = dir.to_string();
        ids.into_iter()
            .map(move |id| (paths::child(&dir, self.name(id)), self.node(id)))
    }

    /// Resolves a path inside the tree: every symlink on the way is followed
    /// within the image (`..` stops at the root, absolute targets start at
    /// the image root, never the host's). With `follow_last` false the last
    /// component is not followed, like `lstat`.
    pub fn resolve(&self, path: &str, follow_last: bool) -> Result<String, ResolveError> {
        self.resolve_inner(path, follow_last, false, None)
            .map(|at| self.show(&at))
    }

    /// Like [`FileTree::resolve`], but the id of the path reached (`None`
    /// when its last component does not exist): no path is built.
    pub fn resolve_id(
        &self,
        path: &str,
        follow_last: bool,
    ) -> Result<Option<NodeId>, ResolveError> {
        let at = self.resolve_inner(path, follow_last, false, None)?;
        Ok(at.missing.is_empty().then_some(at.id))
    }

    /// Like [`FileTree::resolve`] (every component followed), with the
    /// symlinks passed on the way, in order: what a copy must keep as
    /// symlinks for the path to work (`lib64/ld-linux-x86-64.so.2` passes
    /// `lib64` on a merged-/usr system, then the loader's own link).
    pub fn resolve_traced(&self, path: &str) -> Result<(String, Vec<String>), ResolveError> {
        let mut links = Vec::new();
        let resolved = self.resolve_inner(path, true, false, Some(&mut links))?;
        Ok((self.show(&resolved), links))
    }

    /// Resolves folder `dir` with every symlink followed, as when a layer
    /// adds `a/b/c` before or without `a/b`, and creates the folders that
    /// are missing (with `made` called on each); returns the folder's id.
    pub(crate) fn make_dirs(
        &mut self,
        dir: &str,
        mut made: impl FnMut(&mut Self, NodeId),
    ) -> Result<NodeId, ResolveError> {
        let At { mut id, missing } = self.resolve_inner(dir, true, true, None)?;
        if !self.node(id).is_dir() {
            return Err(ResolveError::NotADirectory(self.path_of(id)));
        }
        for name in missing {
            id = self.add_child(id, &name, Node::implicit_dir());
            made(self, id);
        }
        Ok(id)
    }

    fn show(&self, at: &At) -> String {
        let mut path = self.path_of(at.id);
        for name in &at.missing {
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(name);
        }
        path
    }

    fn resolve_inner(
        &self,
        path: &str,
        follow_last: bool,
        missing_is_dir: bool,
        mut trace: Option<&mut Vec<String>>,
    ) -> Result<At, ResolveError> {
        let mut pending: Vec<&str> = path
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .rev()
            .collect();
        // Where we are: an existing node, then names that do not exist
        // (only when `missing_is_dir`).
        let mut at = At {
            id: ROOT,
            missing: Vec::new(),
        };
        let mut depth = 0u64;
        let mut links = 0u64;
        while let Some(part) = pending.pop() {
            if part == ".." {
                if at.missing.pop().is_none() {
                    at.id = self.parent_of(at.id).unwrap_or(ROOT);
                }
                depth = depth.saturating_sub(1);
                continue;
            }
            depth += 1;
            if depth > self.max_depth {
                return Err(ResolveError::TooDeep);
            }
            let is_last = pending.is_empty();
            let found = if at.missing.is_empty() {
                self.child(at.id, part)
            } else {
                None
            };
            let Some(child) = found else {
                if missing_is_dir || is_last {
                    at.missing.push(part.to_string());
                    continue;
                }
                let mut shown = self.show(&at);
                shown = paths::child(&shown, part);
                return Err(ResolveError::NotFound(shown));
            };
            match &self.node(child).kind {
                NodeKind::Symlink(target) if !is_last || follow_last => {
                    links += 1;
                    if links > self.max_hops {
                        return Err(ResolveError::TooManyLinks);
                    }
                    if let Some(trace) = trace.as_deref_mut() {
                        trace.push(self.path_of(child));
                    }
                    depth -= 1;
                    if target.starts_with('/') {
                        at.id = ROOT;
                        depth = 0;
                    }
                    pending.extend(
                        target
                            .split('/')
                            .filter(|p| !p.is_empty() && *p != ".")
                            .rev(),
                    );
                }
                NodeKind::Dir => at.id = child,
                _ if is_last => at.id = child,
                _ => return Err(ResolveError::NotADirectory(self.path_of(child))),
            }
        }
        Ok(at)
    }

    /// Counts the non-directory paths (files, links, devices).
    pub fn non_dir_count(&self) -> u64 {
        self.nodes().filter(|(_, n)| !n.is_dir()).count() as u64
    }

    /// Sums regular-file sizes, counting hardlinked files once.
    pub fn regular_bytes(&self) -> u64 {
        let mut seen = vec![false; self.contents.len()];
        let mut total = 0;
        for (_, node) in self.nodes() {
            if let NodeKind::File(id) = node.kind
                && !std::mem::replace(&mut seen[id], true)
            {
                total += self.contents[id].size;
            }
        }
        total
    }
}

/// A resolved position: an existing node, then names below it that do not
/// exist yet.
struct At {
    id: NodeId,
    missing: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(kind: NodeKind) -> Node {
        Node {
            kind,
            ..Node::implicit_dir()
        }
    }

    fn sample() -> FileTree {
        let mut t = FileTree::new();
        t.insert("usr/lib/libc.so.6".into(), node(NodeKind::Fifo));
        t.insert("lib".into(), node(NodeKind::Symlink("usr/lib".into())));
        t.insert(
            "usr/bin/up".into(),
            node(NodeKind::Symlink("../lib".into())),
        );
        t.insert(
            "abs".into(),
            node(NodeKind::Symlink("/usr/../../../usr".into())),
        );
        t.insert("loop".into(), node(NodeKind::Symlink("loop".into())));
        t.insert("a-b".into(), node(NodeKind::Fifo));
        t
    }

    #[test]
    fn resolve_table() {
        let t = sample();
        let cases: &[(&str, bool, Result<&str, ResolveError>)] = &[
            ("lib/libc.so.6", true, Ok("usr/lib/libc.so.6")),
            ("usr/bin/up/libc.so.6", true, Ok("usr/lib/libc.so.6")),
            ("abs/lib", true, Ok("usr/lib")),
            ("lib", false, Ok("lib")),
            ("lib", true, Ok("usr/lib")),
            ("lib/missing", true, Ok("usr/lib/missing")),
            ("nope/x", true, Err(ResolveError::NotFound("nope".into()))),
            (
                "usr/lib/libc.so.6/x",
                true,
                Err(ResolveError::NotADirectory("usr/lib/libc.so.6".into())),
            ),
            ("loop/x", true, Err(ResolveError::TooManyLinks)),
        ];
        for (path, follow, want) in cases {
            assert_eq!(
                t.resolve(path, *follow).as_deref().map_err(Clone::clone),
                want.clone(),
                "{path}"
            );
        }
    }

    #[test]
    fn resolve_traced_lists_every_symlink_passed() {
        let t = sample();
        let cases: &[(&str, &str, &[&str])] = &[
            ("lib/libc.so.6", "usr/lib/libc.so.6", &["lib"]),
            ("usr/bin/up/libc.so.6", "usr/lib/libc.so.6", &["usr/bin/up"]),
            ("abs/bin/up", "usr/lib", &["abs", "usr/bin/up"]),
            ("usr/lib/libc.so.6", "usr/lib/libc.so.6", &[]),
        ];
        for (path, real, links) in cases {
            let (got, passed) = t.resolve_traced(path).unwrap();
            assert_eq!(
                (got.as_str(), passed),
                (*real, links.iter().map(|l| l.to_string()).collect()),
                "{path}"
            );
        }
    }

    #[test]
    fn descendants_do_not_leak_into_siblings() {
        let t = sample();
        let names: Vec<String> = t.descendants("usr").map(|(p, _)| p).collect();
        assert_eq!(
            names,
            ["usr/bin", "usr/bin/up", "usr/lib", "usr/lib/libc.so.6"]
        );
        let top: Vec<String> = t.children("").map(|(p, _)| p).collect();
        assert_eq!(top, ["a-b", "abs", "lib", "loop", "usr"]);
    }
}
