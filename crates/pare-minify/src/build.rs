//! The new image: every kept path with the folders above it, nodes (mode,
//! owner, times, links) exactly as in the source, written as one layer
//! `FROM scratch` with the source's configuration.

use std::collections::{BTreeSet, HashMap};

use pare_image::Flattened;
use pare_image::paths;
use pare_image::tree::{Content, ContentId, DataSource, FileTree, Node, NodeKind};

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
    for folder in folders {
        let rel = folder.trim_start_matches('/');
        if let Some(node) = flat.tree.get(rel).filter(|n| n.is_dir()) {
            insert_with_parents(&mut tree, flat, rel, node.clone());
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
        insert_with_parents(&mut tree, flat, rel, node);
    }
    Kept { tree, from_layers }
}

/// Inserts `node` at `rel` and any folder above it that is not there yet
/// (as the source has it, or a plain 0755 folder).
fn insert_with_parents(tree: &mut FileTree, flat: &Flattened, rel: &str, node: Node) {
    let mut parent = paths::parent(rel);
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
    tree.insert(rel.to_string(), node);
}

/// Whether `rel` is a plain relative path (`a/b/c`): no empty, `.` or
/// `..` component, no leading `/`, no NUL. The paths of new files hold
/// names read from package databases; each is asserted to be plain before
/// it is used, in the image and on the host (`--dockerfile`).
pub fn is_plain_relative(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.contains('\0')
        && rel
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// Adds files made for the new image (package metadata): written under
/// `scratch` (a temporary folder) and read from there when the layer is
/// written; 0644 root-owned, with `mtime`. A path that is not
/// [plain](is_plain_relative) is refused (`InvalidInput`).
pub fn add_new_files(
    tree: &mut FileTree,
    flat: &Flattened,
    files: &[(String, Vec<u8>)],
    scratch: &std::path::Path,
    mtime: u64,
) -> std::io::Result<()> {
    if let Some((rel, _)) = files.iter().find(|(rel, _)| !is_plain_relative(rel)) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("refusing to add \"{rel}\": not a plain relative path"),
        ));
    }
    for (index, (rel, bytes)) in files.iter().enumerate() {
        let host = scratch.join(index.to_string());
        std::fs::write(&host, bytes)?;
        let id = tree.add_content(Content {
            source: DataSource::Host(host),
            size: bytes.len() as u64,
        });
        let node = Node {
            kind: NodeKind::File(id),
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime,
            xattrs: Vec::new(),
        };
        insert_with_parents(tree, flat, rel, node);
    }
    Ok(())
}

/// Size and file count of a tree, as `inspect` counts them.
pub fn totals(tree: &FileTree) -> (u64, u64) {
    (tree.regular_bytes(), tree.non_dir_count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_relative_paths() {
        for (path, plain) in [
            ("var/lib/dpkg/status.d/libc6", true),
            ("var/lib/dpkg/status.d/libc6.md5sums", true),
            ("a", true),
            ("a..b/c", true),
            ("", false),
            ("/etc/passwd", false),
            ("var/lib/dpkg/status.d/../../../../x", false),
            ("var/lib/dpkg/status.d/..", false),
            ("./x", false),
            ("a//b", false),
            ("a/", false),
            ("a\0b", false),
        ] {
            assert_eq!(is_plain_relative(path), plain, "{path:?}");
        }
    }
}
