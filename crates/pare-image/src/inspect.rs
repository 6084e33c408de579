//! What `pare inspect` reports: config, layers and what each changed, counts,
//! wasted bytes and the largest files and folders. A plain data model;
//! rendering is the binary's job.

use serde::Serialize;

use crate::digest::Digest;
use crate::error::Result;
use crate::source::Source;
use crate::tree::{FileTree, NodeKind};

#[derive(Debug, Serialize)]
pub struct Inspection {
    pub reference: String,
    pub transport: String,
    pub names: Vec<String>,
    pub manifest_digest: Option<Digest>,
    pub config_digest: Option<Digest>,
    pub os: String,
    pub architecture: String,
    pub config: ConfigSummary,
    pub layers: Vec<LayerSummary>,
    /// Non-directory paths in the flattened tree.
    pub files: u64,
    pub directories: u64,
    /// Regular-file bytes, a hardlinked file counted once.
    pub size_bytes: u64,
    /// Bytes the layers carry that the final tree does not show.
    pub wasted_bytes: u64,
    pub largest_files: Vec<PathSize>,
    pub largest_directories: Vec<PathSize>,
    /// Things skipped while reading a root folder.
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ConfigSummary {
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub exposed_ports: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct LayerSummary {
    pub digest: Option<Digest>,
    pub diff_id: Digest,
    /// The blob's size as stored.
    pub size: u64,
    pub media_type: Option<String>,
    pub created_by: Option<String>,
    /// Non-directory entries in the layer.
    pub files: u64,
    pub entries: u64,
    /// Regular-file bytes in the layer.
    pub bytes: u64,
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
    pub wasted_bytes: u64,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct PathSize {
    pub path: String,
    pub size: u64,
}

/// Reads and flattens `source`, and summarises it; `top` bounds the
/// largest-files and largest-folders lists.
pub fn inspect(source: &Source, top: usize) -> Result<Inspection> {
    let flat = source.flatten()?;
    let config = source.config();
    let runtime = config.config().clone().unwrap_or_default();
    let tree = &flat.tree;

    let layers = match source {
        Source::Image(image) => {
            let created_by: Vec<Option<String>> = config
                .history()
                .iter()
                .flatten()
                .filter(|h| !h.empty_layer().unwrap_or(false))
                .map(|h| h.created_by().clone())
                .collect();
            image
                .layers
                .iter()
                .zip(&flat.layers)
                .enumerate()
                .map(|(i, (layer, changes))| LayerSummary {
                    digest: layer.digest.clone(),
                    diff_id: layer.diff_id.clone(),
                    size: layer.size,
                    media_type: layer.media_type.clone(),
                    created_by: created_by.get(i).cloned().flatten(),
                    files: changes.files,
                    entries: changes.entries,
                    bytes: changes.bytes,
                    added: changes.added,
                    changed: changes.changed,
                    removed: changes.removed,
                    wasted_bytes: changes.wasted_bytes,
                })
                .collect()
        }
        Source::Root { .. } => Vec::new(),
    };
    let (manifest_digest, config_digest, names) = match source {
        Source::Image(image) => (
            image.manifest_digest.clone(),
            Some(image.config_digest.clone()),
            image.names.clone(),
        ),
        Source::Root { .. } => (None, None, Vec::new()),
    };
    let mut warnings = Vec::new();
    for (path, why) in &flat.warnings.unreadable {
        warnings.push(format!("{}: unreadable: {why}", path.display()));
    }
    for path in &flat.warnings.pseudo_mounts {
        warnings.push(format!(
            "{}: pseudo filesystem, contents skipped",
            path.display()
        ));
    }
    if flat.warnings.sockets > 0 {
        warnings.push(format!("{} sockets skipped", flat.warnings.sockets));
    }

    Ok(Inspection {
        reference: source.reference().to_string(),
        transport: source.reference().transport().to_string(),
        names,
        manifest_digest,
        config_digest,
        os: config.os().to_string(),
        architecture: config.architecture().to_string(),
        config: ConfigSummary {
            entrypoint: runtime.entrypoint().clone(),
            cmd: runtime.cmd().clone(),
            env: runtime.env().clone().unwrap_or_default(),
            user: runtime.user().clone().filter(|u| !u.is_empty()),
            workdir: runtime.working_dir().clone().filter(|w| !w.is_empty()),
            exposed_ports: runtime.exposed_ports().clone().unwrap_or_default(),
        },
        wasted_bytes: flat.layers.iter().map(|l| l.wasted_bytes).sum(),
        layers,
        files: tree.non_dir_count(),
        directories: tree
            .nodes()
            .filter(|(id, n)| n.is_dir() && *id != crate::tree::ROOT)
            .count() as u64,
        size_bytes: tree.regular_bytes(),
        largest_files: largest_files(tree, top),
        largest_directories: largest_directories(tree, top),
        warnings,
    })
}

fn largest_files(tree: &FileTree, top: usize) -> Vec<PathSize> {
    let files: Vec<(u64, u32)> = tree
        .nodes()
        .filter_map(|(id, node)| match node.kind {
            NodeKind::File(content) => Some((tree.content(content).size, id)),
            _ => None,
        })
        .collect();
    top_paths(tree, files, top)
}

/// The `top` largest of `sized`, ties broken by path. Paths are made only
/// for the few shown and, one at a time, for the ties at the cut (an image
/// of a million empty files is a million ties).
fn top_paths(tree: &FileTree, mut sized: Vec<(u64, u32)>, top: usize) -> Vec<PathSize> {
    if top == 0 || sized.is_empty() {
        return Vec::new();
    }
    sized.sort_unstable_by_key(|d| std::cmp::Reverse(d.0));
    let cut = sized[top.min(sized.len()) - 1].0;
    let shown_path = |id: u32| format!("/{}", tree.path_of(id));
    let mut shown: Vec<PathSize> = sized
        .iter()
        .take_while(|d| d.0 > cut)
        .map(|&(size, id)| PathSize {
            path: shown_path(id),
            size,
        })
        .collect();
    // The smallest paths among the ties, kept in a max-heap of the room.
    let room = top - shown.len();
    let mut ties: std::collections::BinaryHeap<String> = std::collections::BinaryHeap::new();
    for &(_, id) in sized[shown.len()..].iter().take_while(|d| d.0 == cut) {
        let path = shown_path(id);
        if ties.len() < room {
            ties.push(path);
        } else if ties.peek().is_some_and(|worst| path < *worst) {
            ties.pop();
            ties.push(path);
        }
    }
    shown.extend(ties.into_iter().map(|path| PathSize { path, size: cut }));
    shown.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
    shown
}

/// Folders by the regular-file bytes below them (each path counted, so a
/// folder's total is what `du --count-links` would say).
fn largest_directories(tree: &FileTree, top: usize) -> Vec<PathSize> {
    // Children come after their folder in path order, so one pass backwards
    // adds every total into its parent: linear in the paths, whatever the
    // depth.
    let mut totals = vec![0u64; tree.id_bound()];
    for &id in tree.ids().iter().rev() {
        let own = tree.file_size(tree.node(id));
        let total = totals[id as usize] + own;
        if let Some(parent) = tree.parent_of(id) {
            totals[parent as usize] += total;
        }
        totals[id as usize] = total;
    }
    let dirs: Vec<(u64, u32)> = tree
        .ids()
        .iter()
        .filter(|&&id| id != crate::tree::ROOT && tree.node(id).is_dir() && totals[id as usize] > 0)
        .map(|&id| (totals[id as usize], id))
        .collect();
    top_paths(tree, dirs, top)
}
