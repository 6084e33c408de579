//! The files a Syft glob finds in an image, symlinks included.
//!
//! Syft matches its globs against every path by which a file can be
//! reached, through symlinked files and folders, and reports each file
//! once, at its real path: a gemspec linked into `specifications/`, or a
//! `specifications` folder that is itself a link, is found. pare's tree
//! lists real files; this adds the links (one level of symlinked folder:
//! a link inside a linked folder is not followed).

use std::collections::BTreeSet;

use pare_image::Flattened;
use pare_image::paths::file_name;
use pare_image::tree::NodeKind;

/// The files reachable by a path that `matches`, each once: (that path,
/// the file's real path), no leading `/`. `name_may_match` is a cheap test on
/// a file's own name, true whenever a path ending in it may match.
pub(crate) fn files(
    flat: &Flattened,
    name_may_match: fn(&str) -> bool,
    matches: fn(&str) -> bool,
) -> Vec<(String, String)> {
    let tree = &flat.tree;
    let mut seen = BTreeSet::new();
    let mut found = Vec::new();
    let mut add = |id, access: String, real: String, found: &mut Vec<(String, String)>| {
        if seen.insert(id) {
            found.push((access, real));
        }
    };
    let mut links: Vec<String> = Vec::new();
    let mut named: Vec<(String, u32)> = Vec::new();
    for (path, node) in tree.iter() {
        match &node.kind {
            NodeKind::File(_) => {
                if name_may_match(file_name(&path))
                    && let Some(id) = tree.lookup(&path)
                {
                    if matches(&path) {
                        add(id, path.clone(), path.clone(), &mut found);
                    }
                    named.push((path, id));
                }
            }
            NodeKind::Symlink(_) => links.push(path),
            _ => {}
        }
    }
    // Links are resolved only when they can lead somewhere: a link named
    // like a wanted file, or any link when some file has a wanted name (it
    // may be a folder above it). Most images have neither.
    let mut folder_links: Vec<(String, String)> = Vec::new();
    for path in links {
        if named.is_empty() && !name_may_match(file_name(&path)) {
            continue;
        }
        let Ok(Some(id)) = tree.resolve_id(&path, true) else {
            continue; // dangling, or a loop
        };
        match tree.node(id).kind {
            NodeKind::File(_) if matches(&path) => {
                add(id, path.clone(), tree.path_of(id), &mut found);
            }
            NodeKind::Dir => folder_links.push((path, tree.path_of(id))),
            _ => {}
        }
    }
    for (link, target) in &folder_links {
        for (path, id) in &named {
            let Some(rest) = path
                .strip_prefix(target.as_str())
                .and_then(|r| r.strip_prefix('/'))
                .filter(|_| !target.is_empty())
                .or_else(|| target.is_empty().then_some(path.as_str()))
            else {
                continue;
            };
            let access = format!("{link}/{rest}");
            if matches(&access) {
                add(*id, access, path.clone(), &mut found);
            }
        }
    }
    found
}
