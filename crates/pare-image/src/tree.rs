//! The flattened file tree of an image: what a container would see.
//!
//! Paths are normalised relative names (`usr/bin/redis-server`; the root is
//! `""`). Regular files point at a [`Content`]: where their bytes are (a
//! layer and an offset in its uncompressed tar stream, or a host file), so
//! later stages can stream exactly those bytes without unpacking anything.
//! Hardlinked paths share one content.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::PathBuf;

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
    /// More than 40 symlinks, as the kernel's ELOOP.
    TooManyLinks,
}

/// Symlinks followed before giving up, as Linux's `MAXSYMLINKS`.
const MAX_SYMLINKS: usize = 40;

/// The merged view of an image's layers.
#[derive(Clone, Debug, Default)]
pub struct FileTree {
    nodes: BTreeMap<String, Node>,
    contents: Vec<Content>,
}

impl FileTree {
    /// A tree holding only the root folder.
    pub fn new() -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert(String::new(), Node::implicit_dir());
        FileTree {
            nodes,
            contents: Vec::new(),
        }
    }

    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    pub fn contains(&self, path: &str) -> bool {
        self.nodes.contains_key(path)
    }

    /// Every path with its node, sorted (a folder before what it holds).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.nodes.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// How many paths, the root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.len() <= 1
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
    /// caller has already resolved symlinks in the parent path.
    pub fn insert(&mut self, path: String, node: Node) {
        self.ensure_dirs(paths::parent(&path));
        self.nodes.insert(path, node);
    }

    fn ensure_dirs(&mut self, dir: &str) {
        if self.nodes.contains_key(dir) {
            return;
        }
        let mut at = 0;
        loop {
            let end = dir[at..].find('/').map_or(dir.len(), |i| at + i);
            self.nodes
                .entry(dir[..end].to_string())
                .or_insert_with(Node::implicit_dir);
            if end == dir.len() {
                break;
            }
            at = end + 1;
        }
    }

    /// The paths strictly inside folder `dir`, in order.
    pub fn descendants<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a str, &'a Node)> + 'a {
        let (lo, hi) = subtree_bounds(dir);
        self.nodes
            .range::<String, _>((lo, hi))
            .map(|(k, v)| (k.as_str(), v))
    }

    /// The direct children of folder `dir`.
    pub fn children<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = (&'a str, &'a Node)> + 'a {
        let depth = if dir.is_empty() { 0 } else { dir.len() + 1 };
        self.descendants(dir)
            .filter(move |(path, _)| !path[depth..].contains('/'))
    }

    /// Removes `path` and everything under it; returns what was removed.
    pub fn remove_subtree(&mut self, path: &str) -> Vec<(String, Node)> {
        let mut removed = self.remove_descendants(path);
        if !path.is_empty()
            && let Some(node) = self.nodes.remove(path)
        {
            removed.insert(0, (path.to_string(), node));
        }
        removed
    }

    /// Removes everything under folder `dir`, keeping `dir` itself.
    pub fn remove_descendants(&mut self, dir: &str) -> Vec<(String, Node)> {
        let keys: Vec<String> = self.descendants(dir).map(|(k, _)| k.to_string()).collect();
        keys.into_iter()
            .filter_map(|k| self.nodes.remove(&k).map(|n| (k, n)))
            .collect()
    }

    /// Resolves a path inside the tree: every symlink on the way is followed
    /// within the image (`..` stops at the root, absolute targets start at
    /// the image root, never the host's). With `follow_last` false the last
    /// component is not followed, like `lstat`.
    pub fn resolve(&self, path: &str, follow_last: bool) -> Result<String, ResolveError> {
        self.resolve_inner(path, follow_last, false, None)
    }

    /// Like [`FileTree::resolve`] (every component followed), with the
    /// symlinks passed on the way, in order: what a copy must keep as
    /// symlinks for the path to work (`lib64/ld-linux-x86-64.so.2` passes
    /// `lib64` on a merged-/usr system, then the loader's own link).
    pub fn resolve_traced(&self, path: &str) -> Result<(String, Vec<String>), ResolveError> {
        let mut links = Vec::new();
        let resolved = self.resolve_inner(path, true, false, Some(&mut links))?;
        Ok((resolved, links))
    }

    /// Like [`FileTree::resolve`] with every component followed, but a
    /// missing folder is assumed (it will be created), as when a layer adds
    /// `a/b/c` before or without `a/b`.
    pub fn resolve_for_create(&self, dir: &str) -> Result<String, ResolveError> {
        let resolved = self.resolve_inner(dir, true, true, None)?;
        match self.nodes.get(&resolved) {
            Some(node) if !node.is_dir() => Err(ResolveError::NotADirectory(resolved)),
            _ => Ok(resolved),
        }
    }

    fn resolve_inner(
        &self,
        path: &str,
        follow_last: bool,
        missing_is_dir: bool,
        mut trace: Option<&mut Vec<String>>,
    ) -> Result<String, ResolveError> {
        let mut pending: Vec<String> = path
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .rev()
            .map(str::to_string)
            .collect();
        let mut resolved = String::new();
        let mut links = 0;
        while let Some(part) = pending.pop() {
            if part == ".." {
                resolved = paths::parent(&resolved).to_string();
                continue;
            }
            let candidate = paths::child(&resolved, &part);
            let is_last = pending.is_empty();
            match self.nodes.get(&candidate) {
                None if missing_is_dir => resolved = candidate,
                None if is_last => return Ok(candidate),
                None => return Err(ResolveError::NotFound(candidate)),
                Some(node) => match &node.kind {
                    NodeKind::Symlink(target) if !is_last || follow_last => {
                        links += 1;
                        if links > MAX_SYMLINKS {
                            return Err(ResolveError::TooManyLinks);
                        }
                        if let Some(trace) = trace.as_deref_mut() {
                            trace.push(candidate.clone());
                        }
                        if target.starts_with('/') {
                            resolved.clear();
                        }
                        pending.extend(
                            target
                                .split('/')
                                .filter(|p| !p.is_empty() && *p != ".")
                                .rev()
                                .map(str::to_string),
                        );
                    }
                    NodeKind::Dir => resolved = candidate,
                    _ if is_last => resolved = candidate,
                    _ => return Err(ResolveError::NotADirectory(candidate)),
                },
            }
        }
        Ok(resolved)
    }

    /// Counts the non-directory paths (files, links, devices).
    pub fn non_dir_count(&self) -> u64 {
        self.nodes.values().filter(|n| !n.is_dir()).count() as u64
    }

    /// Sums regular-file sizes, counting hardlinked files once.
    pub fn regular_bytes(&self) -> u64 {
        let mut seen = vec![false; self.contents.len()];
        let mut total = 0;
        for node in self.nodes.values() {
            if let NodeKind::File(id) = node.kind
                && !std::mem::replace(&mut seen[id], true)
            {
                total += self.contents[id].size;
            }
        }
        total
    }
}

fn subtree_bounds(dir: &str) -> (Bound<String>, Bound<String>) {
    if dir.is_empty() {
        // Everything but the root itself.
        return (Bound::Excluded(String::new()), Bound::Unbounded);
    }
    // "dir/" .. "dir0": '0' is the byte after '/', so this range is exactly
    // the names that start with "dir/".
    (
        Bound::Included(format!("{dir}/")),
        Bound::Excluded(format!("{dir}0")),
    )
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
        let names: Vec<&str> = t.descendants("usr").map(|(p, _)| p).collect();
        assert_eq!(
            names,
            ["usr/bin", "usr/bin/up", "usr/lib", "usr/lib/libc.so.6"]
        );
        let top: Vec<&str> = t.children("").map(|(p, _)| p).collect();
        assert_eq!(top, ["a-b", "abs", "lib", "loop", "usr"]);
    }
}
