//! The new image: every kept path with the folders above it, nodes (mode,
//! owner, times, links) exactly as in the source, written as one layer
//! `FROM scratch` with the source's configuration.

use std::collections::{BTreeSet, HashMap};

use pare_image::Flattened;
use pare_image::paths;
use pare_image::tree::{ContentId, DataSource, FileTree, Node, NodeKind};

/// The tree of the minified image.
pub struct Kept {
    pub tree: FileTree,
    /// (layer, offset, size) of every kept file that lives in a layer.
    pub from_layers: Vec<(usize, u64, u64)>,
}

/// Builds the new tree from `keep` (absolute paths of the source image;
/// symlinks are kept as symlinks, not followed) and `folders` (kept as
/// folders if the source has them, e.g. the working directory).
pub fn kept_tree(flat: &Flattened, keep: &BTreeSet<String>, folders: &[String]) -> Kept {
    let mut tree = FileTree::new();
    let mut ids: HashMap<ContentId, ContentId> = HashMap::new();
    let mut from_layers = Vec::new();
    let add_parents = |tree: &mut FileTree, path: &str| {
        let mut parent = paths::parent(path);
        let mut missing = Vec::new();
        while !parent.is_empty() && !tree.contains(parent) {
            missing.push(parent.to_string());
            parent = paths::parent(parent);
        }
        for dir in missing.into_iter().rev() {
            let node = match flat.tree.get(&dir) {
                Some(node) if node.is_dir() => node.clone(),
                _ => Node::implicit_dir(),
            };
            tree.insert(dir, node);
        }
    };
    for folder in folders {
        let rel = folder.trim_start_matches('/');
        if let Some(node) = flat.tree.get(rel).filter(|n| n.is_dir()) {
            add_parents(&mut tree, rel);
            tree.insert(rel.to_string(), node.clone());
        }
    }
    for path in keep {
        let rel = path.trim_start_matches('/');
        let Some(node) = flat.tree.get(rel) else {
            continue;
        };
        let mut node = node.clone();
        if let NodeKind::File(old) = node.kind {
            let new = *ids.entry(old).or_insert_with(|| {
                let content = flat.tree.content(old).clone();
                if let DataSource::Layer { layer, offset } = content.source {
                    from_layers.push((layer, offset, content.size));
                }
                tree.add_content(content)
            });
            node.kind = NodeKind::File(new);
        }
        add_parents(&mut tree, rel);
        tree.insert(rel.to_string(), node);
    }
    Kept { tree, from_layers }
}

/// Size and file count of a tree, as `inspect` counts them.
pub fn totals(tree: &FileTree) -> (u64, u64) {
    (tree.regular_bytes(), tree.non_dir_count())
}
