//! Reading a plain root folder (`dir:PATH`, `dir:/` included) into a
//! [`FileTree`] without copying anything.
//!
//! Symlinks are recorded, never followed. Pseudo filesystems mounted inside
//! the folder (`/proc`, `/sys`, cgroups, …) are kept as empty folders, as an
//! image would have them: their contents are the kernel's, not the image's.
//! Extended attributes are read as a layer would carry them (file
//! capabilities among them), except SELinux labels, which belong to the
//! host's policy, not to the image.

use std::collections::HashMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::paths;
use crate::tree::{Content, DataSource, FileTree, Node, NodeKind};

/// What reading a root folder skipped.
#[derive(Debug, Default)]
pub struct RootWarnings {
    /// Paths that could not be read, with why.
    pub unreadable: Vec<(PathBuf, String)>,
    /// Pseudo filesystems whose contents were not read.
    pub pseudo_mounts: Vec<PathBuf>,
    /// Sockets, which images cannot hold.
    pub sockets: u64,
}

/// Reads the folder at `root` into a tree.
pub fn read_root(root: &Path) -> Result<(FileTree, RootWarnings)> {
    let shown = root.display().to_string();
    let meta = std::fs::symlink_metadata(root).map_err(|e| Error::io(&shown, e))?;
    if !meta.is_dir() {
        return Err(Error::malformed(shown, "not a folder"));
    }
    let mut tree = FileTree::new();
    tree.insert(String::new(), node_from(&meta, NodeKind::Dir));
    let mut warnings = RootWarnings::default();
    let mut inodes: HashMap<(u64, u64), usize> = HashMap::new();
    let mut stack = vec![(root.to_path_buf(), String::new(), meta.dev())];
    while let Some((dir, rel, dev)) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                warnings.unreadable.push((dir, e.to_string()));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    warnings.unreadable.push((dir.clone(), e.to_string()));
                    continue;
                }
            };
            let host = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = paths::child(&rel, &name);
            let meta = match std::fs::symlink_metadata(&host) {
                Ok(meta) => meta,
                Err(e) => {
                    warnings.unreadable.push((host, e.to_string()));
                    continue;
                }
            };
            let file_type = meta.file_type();
            let kind = if file_type.is_dir() {
                if meta.dev() != dev && is_pseudo_fs(&host) {
                    warnings.pseudo_mounts.push(host.clone());
                } else {
                    stack.push((host.clone(), path.clone(), meta.dev()));
                }
                NodeKind::Dir
            } else if file_type.is_file() {
                let key = (meta.dev(), meta.ino());
                let id = match (meta.nlink() > 1).then(|| inodes.get(&key)).flatten() {
                    Some(id) => *id,
                    None => {
                        let id = tree.add_content(Content {
                            source: DataSource::Host(host.clone()),
                            size: meta.len(),
                        });
                        if meta.nlink() > 1 {
                            inodes.insert(key, id);
                        }
                        id
                    }
                };
                NodeKind::File(id)
            } else if file_type.is_symlink() {
                match std::fs::read_link(&host) {
                    Ok(target) => NodeKind::Symlink(target.to_string_lossy().into_owned()),
                    Err(e) => {
                        warnings.unreadable.push((host, e.to_string()));
                        continue;
                    }
                }
            } else if file_type.is_char_device() || file_type.is_block_device() {
                let rdev = meta.rdev();
                let (major, minor) = (
                    nix::sys::stat::major(rdev) as u32,
                    nix::sys::stat::minor(rdev) as u32,
                );
                if file_type.is_char_device() {
                    NodeKind::CharDevice { major, minor }
                } else {
                    NodeKind::BlockDevice { major, minor }
                }
            } else if file_type.is_fifo() {
                NodeKind::Fifo
            } else {
                warnings.sockets += 1;
                continue;
            };
            let mut node = node_from(&meta, kind);
            node.xattrs = read_xattrs(&host, &mut warnings);
            tree.insert(path, node);
        }
    }
    Ok((tree, warnings))
}

/// Attributes a host file carries that an image layer would (symlinks not
/// followed); unreadable ones are warned about, oversized ones skipped
/// like the kernel would refuse them.
fn read_xattrs(host: &Path, warnings: &mut RootWarnings) -> Vec<(String, Vec<u8>)> {
    const SKIPPED: &[&str] = &["security.selinux"];
    let names = match xattr::list(host) {
        Ok(names) => names,
        // Filesystems without xattrs (and symlinks on some) say so.
        Err(e) if e.raw_os_error() == Some(nix::errno::Errno::ENOTSUP as i32) => return Vec::new(),
        Err(e) => {
            warnings
                .unreadable
                .push((host.to_path_buf(), format!("xattrs: {e}")));
            return Vec::new();
        }
    };
    let mut xattrs = Vec::new();
    for name in names {
        let name = name.to_string_lossy().into_owned();
        if SKIPPED.contains(&name.as_str()) {
            continue;
        }
        match xattr::get(host, &name) {
            Ok(Some(value)) if value.len() <= crate::flatten::MAX_XATTR_VALUE => {
                xattrs.push((name, value))
            }
            Ok(_) => {}
            Err(e) => warnings
                .unreadable
                .push((host.to_path_buf(), format!("xattr {name}: {e}"))),
        }
    }
    xattrs.sort();
    xattrs
}

fn node_from(meta: &std::fs::Metadata, kind: NodeKind) -> Node {
    Node {
        kind,
        mode: meta.mode() & 0o7777,
        uid: u64::from(meta.uid()),
        gid: u64::from(meta.gid()),
        mtime: meta.mtime().max(0) as u64,
        xattrs: Vec::new(),
    }
}

/// Filesystems whose files are made up by the kernel.
fn is_pseudo_fs(path: &Path) -> bool {
    use nix::sys::statfs::{
        BPF_FS_MAGIC, CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, DEBUGFS_MAGIC, DEVPTS_SUPER_MAGIC,
        HUGETLBFS_MAGIC, PROC_SUPER_MAGIC, SECURITYFS_MAGIC, SYSFS_MAGIC, TRACEFS_MAGIC, statfs,
    };
    let Ok(stat) = statfs(path) else {
        return true;
    };
    let kind = stat.filesystem_type();
    [
        PROC_SUPER_MAGIC,
        SYSFS_MAGIC,
        CGROUP_SUPER_MAGIC,
        CGROUP2_SUPER_MAGIC,
        DEBUGFS_MAGIC,
        TRACEFS_MAGIC,
        SECURITYFS_MAGIC,
        DEVPTS_SUPER_MAGIC,
        BPF_FS_MAGIC,
        HUGETLBFS_MAGIC,
    ]
    .contains(&kind)
}
