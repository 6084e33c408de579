//! Path-safe extraction of an image's root: the only place pare writes an
//! image's files to disk, and only into a fresh folder it made.
//!
//! Every entry is made relative to an open descriptor of its folder
//! (`mkdirat`, `openat` with `O_EXCL | O_NOFOLLOW`, `symlinkat`), walking
//! the flattened tree, whose folders are always folders: no path is ever
//! resolved through a symlink of the image, so nothing lands outside the
//! root, whatever the image's links and names say. Device nodes are not
//! made (the sandbox gives its own /dev).

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use nix::fcntl::{AtFlags, OFlag, openat};
use nix::sys::stat::{Mode, fchmod, mkdirat};
use pare_image::spool::Spool;
use pare_image::tree::{FileTree, NodeKind};

#[derive(Debug, thiserror::Error)]
pub enum MaterialiseError {
    #[error(transparent)]
    Limit(pare_image::Error),
    #[error("extracting /{path}: {message}")]
    Entry { path: String, message: String },
    #[error("reading the bytes of /{path}: {source}")]
    Content {
        path: String,
        source: pare_image::Error,
    },
}

/// What extraction did not reproduce.
#[derive(Debug, Default)]
pub struct Materialised {
    /// Device nodes left out (the sandbox's /dev replaces them).
    pub devices_skipped: usize,
    pub files: usize,
    pub bytes: u64,
}

fn entry_error(path: &str, what: impl std::fmt::Display) -> MaterialiseError {
    MaterialiseError::Entry {
        path: path.to_string(),
        message: what.to_string(),
    }
}

/// Extracts `tree` into the empty folder `dest`: files from `spool` (or
/// the host for `dir:` sources), owners, modes and file times as the
/// image has them (owners only when pare runs as root).
pub fn materialise(
    tree: &FileTree,
    spool: Option<&Spool>,
    dest: &Path,
    limits: &pare_image::Limits,
) -> Result<Materialised, MaterialiseError> {
    check_extract_limit(tree, limits)?;
    let root_fd = open_dir_at(None, dest).map_err(|e| entry_error("", e))?;
    let as_root = nix::unistd::geteuid().is_root();
    let mut stack: Vec<(String, OwnedFd)> = vec![(String::new(), root_fd)];
    // Folder modes last: a read-only folder must still receive its files.
    let mut folders: Vec<(String, u32)> = Vec::new();
    let mut first_path: Vec<Option<String>> = vec![None; tree.contents().len()];
    let mut done = Materialised::default();
    for (path, node) in tree.iter() {
        if path.is_empty() {
            folders.push((String::new(), node.mode));
            continue;
        }
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        if name.is_empty() || name == "." || name == ".." {
            return Err(entry_error(&path, "not a plain name"));
        }
        while stack.last().is_some_and(|(p, _)| p != parent) {
            stack.pop();
        }
        let Some((_, dir)) = stack.last() else {
            return Err(entry_error(&path, "its folder was not extracted first"));
        };
        let dir = dir.try_clone().map_err(|e| entry_error(&path, e))?;
        let owner = |fd: &dyn Fn() -> nix::Result<()>| -> Result<(), MaterialiseError> {
            match fd() {
                Ok(()) => Ok(()),
                Err(_) if !as_root => Ok(()),
                Err(e) => Err(entry_error(&path, format!("chown: {e}"))),
            }
        };
        let uid = Some(nix::unistd::Uid::from_raw(node.uid as u32));
        let gid = Some(nix::unistd::Gid::from_raw(node.gid as u32));
        match &node.kind {
            NodeKind::Dir => {
                mkdirat(&dir, name, Mode::from_bits_truncate(0o700))
                    .map_err(|e| entry_error(&path, format!("mkdir: {e}")))?;
                let fd =
                    open_dir_at(Some(&dir), Path::new(name)).map_err(|e| entry_error(&path, e))?;
                owner(&|| nix::unistd::fchown(&fd, uid, gid))?;
                folders.push((path.clone(), node.mode));
                stack.push((path.clone(), fd));
            }
            NodeKind::File(id) => {
                if let Some(first) = &first_path[*id] {
                    nix::unistd::linkat(
                        nix::fcntl::AT_FDCWD,
                        dest.join(first).as_path(),
                        &dir,
                        name,
                        AtFlags::empty(),
                    )
                    .map_err(|e| entry_error(&path, format!("link to /{first}: {e}")))?;
                    continue;
                }
                first_path[*id] = Some(path.clone());
                let fd = openat(
                    &dir,
                    name,
                    OFlag::O_CREAT
                        | OFlag::O_EXCL
                        | OFlag::O_WRONLY
                        | OFlag::O_NOFOLLOW
                        | OFlag::O_CLOEXEC,
                    Mode::from_bits_truncate(0o600),
                )
                .map_err(|e| entry_error(&path, format!("create: {e}")))?;
                let content = tree.content(*id);
                if content.size == 0 {
                    // Nothing to copy (and nothing was spooled for it).
                    owner(&|| nix::unistd::fchown(&fd, uid, gid))?;
                    fchmod(&fd, Mode::from_bits_truncate(node.mode & 0o7777))
                        .map_err(|e| entry_error(&path, format!("chmod: {e}")))?;
                    done.files += 1;
                    continue;
                }
                let mut reader = pare_image::write::open_content(
                    &content.source,
                    content.size,
                    spool,
                    &format!("/{path}"),
                )
                .map_err(|source| MaterialiseError::Content {
                    path: path.clone(),
                    source,
                })?;
                let mut file = File::from(fd);
                io::copy(&mut reader, &mut file).map_err(|e| entry_error(&path, e))?;
                owner(&|| nix::unistd::fchown(file.as_fd(), uid, gid))?;
                // After chown, which clears set-id bits.
                fchmod(file.as_fd(), Mode::from_bits_truncate(node.mode & 0o7777))
                    .map_err(|e| entry_error(&path, format!("chmod: {e}")))?;
                let time = nix::sys::time::TimeSpec::new(node.mtime as i64, 0);
                let _ = nix::sys::stat::futimens(file.as_fd(), &time, &time);
                done.files += 1;
                done.bytes += content.size;
            }
            NodeKind::Symlink(target) => {
                nix::unistd::symlinkat(target.as_str(), &dir, name)
                    .map_err(|e| entry_error(&path, format!("symlink: {e}")))?;
                owner(&|| {
                    nix::unistd::fchownat(&dir, name, uid, gid, AtFlags::AT_SYMLINK_NOFOLLOW)
                })?;
            }
            NodeKind::Fifo => {
                nix::unistd::mkfifoat(&dir, name, Mode::from_bits_truncate(node.mode & 0o777))
                    .map_err(|e| entry_error(&path, format!("mkfifo: {e}")))?;
            }
            NodeKind::CharDevice { .. } | NodeKind::BlockDevice { .. } => done.devices_skipped += 1,
        }
    }
    drop(stack);
    for (path, mode) in folders.iter().rev() {
        let at = dest.join(path);
        let fd = open_dir_at(None, &at).map_err(|e| entry_error(path, e))?;
        fchmod(&fd, Mode::from_bits_truncate(mode & 0o7777))
            .map_err(|e| entry_error(path, format!("chmod: {e}")))?;
    }
    Ok(done)
}

fn open_dir_at(dir: Option<&OwnedFd>, path: &Path) -> nix::Result<OwnedFd> {
    let flags = OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_RDONLY | OFlag::O_CLOEXEC;
    match dir {
        Some(dir) => openat(dir, path, flags, Mode::empty()),
        None => nix::fcntl::open(path, flags, Mode::empty()),
    }
}

/// Writes `bytes` as `root/DIR/NAME` (e.g. `etc/hosts`) without following
/// any link of the image: a folder on the way that is not a real folder
/// leaves the file unwritten (false); a link or file at the name is
/// replaced.
pub fn write_into_root(root: &Path, relative: &str, bytes: &[u8]) -> io::Result<bool> {
    let mut parts: Vec<&str> = relative.split('/').filter(|p| !p.is_empty()).collect();
    let Some(name) = parts.pop() else {
        return Ok(false);
    };
    let mut dir = open_dir_at(None, root)?;
    for part in parts {
        match open_dir_at(Some(&dir), Path::new(part)) {
            Ok(fd) => dir = fd,
            Err(nix::errno::Errno::ENOENT) => {
                mkdirat(&dir, part, Mode::from_bits_truncate(0o755))?;
                dir = open_dir_at(Some(&dir), Path::new(part))?;
            }
            Err(nix::errno::Errno::ELOOP | nix::errno::Errno::ENOTDIR) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
    }
    match nix::unistd::unlinkat(&dir, name, nix::unistd::UnlinkatFlags::NoRemoveDir) {
        Ok(()) | Err(nix::errno::Errno::ENOENT) => {}
        Err(nix::errno::Errno::EISDIR) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    let fd = openat(
        &dir,
        name,
        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o644),
    )?;
    io::Write::write_all(&mut File::from(fd), bytes)?;
    Ok(true)
}

/// Refuses a tree with more paths than a traced run extracts.
pub fn check_extract_limit(
    tree: &FileTree,
    limits: &pare_image::Limits,
) -> Result<(), MaterialiseError> {
    pare_image::limits::check(
        || "extracting the image's root for a traced run (--static-only extracts nothing)",
        "extract-entries",
        tree.len() as u64,
        limits.extract_entries,
    )
    .map_err(MaterialiseError::Limit)
}

/// The (layer, offset, size) of every file of `tree` that lives in a
/// layer: what [`Spool::fill`] must copy for a whole-root extraction.
pub fn layer_files(tree: &FileTree) -> Vec<(usize, u64, u64)> {
    tree.contents()
        .iter()
        .filter_map(|c| match c.source {
            pare_image::DataSource::Layer { .. } if c.size == 0 => None,
            pare_image::DataSource::Layer { layer, offset } => Some((layer, offset, c.size)),
            pare_image::DataSource::Host(_) => None,
        })
        .collect()
}

/// Extracts a source's flattened root into `dest`: an image's files
/// copied out of their layers (read again, verified again), a folder's
/// read from the host.
pub fn materialise_source(
    source: &pare_image::Source,
    tree: &FileTree,
    dest: &Path,
    limits: &pare_image::Limits,
) -> Result<Materialised, MaterialiseError> {
    check_extract_limit(tree, limits)?;
    let spool = match source {
        pare_image::Source::Image(image) => {
            Some(Spool::fill(image, &layer_files(tree)).map_err(|source| {
                MaterialiseError::Content {
                    path: String::new(),
                    source,
                }
            })?)
        }
        pare_image::Source::Root { .. } => None,
    };
    materialise(tree, spool.as_ref(), dest, limits)
}

/// A materialised root's place: `root/` inside a private (0700) folder,
/// so that the image's setuid files are out of other users' reach however
/// open the image's own root folder is.
pub struct ScratchRoot {
    dir: tempfile::TempDir,
    root: std::path::PathBuf,
}

impl ScratchRoot {
    /// The root folder itself.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Removes it now (on drop otherwise).
    pub fn close(self) -> io::Result<()> {
        self.dir.close()
    }
}

/// Where roots are materialised: `PARE_SCRATCH` when set; else shared
/// memory (`/dev/shm`) when it has room for `bytes` twice over (the root
/// is transient, and a disk file system can make each created file cost
/// half a millisecond: seconds for an interpreter's thousands); else the
/// temporary folder.
pub fn scratch_base(bytes: u64) -> std::path::PathBuf {
    if let Some(dir) = std::env::var_os("PARE_SCRATCH") {
        return dir.into();
    }
    let shm = Path::new("/dev/shm");
    let room = nix::sys::statvfs::statvfs(shm)
        .map(|s| s.blocks_available() * s.fragment_size())
        .unwrap_or(0);
    let writable = nix::unistd::access(shm, nix::unistd::AccessFlags::W_OK).is_ok();
    if writable && room > bytes.saturating_mul(2).saturating_add(256 << 20) {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// Roots left by a pare that was killed (no cleanup runs on SIGKILL),
/// removed once their process is gone.
fn sweep(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("pare-root-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let gone = !Path::new(&format!("/proc/{pid}")).exists();
        if gone && entry.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A fresh folder for a materialised root of about `bytes`, named after
/// this process, in [`scratch_base`]; stale roots are swept first.
pub fn scratch_root(bytes: u64) -> io::Result<ScratchRoot> {
    let base = scratch_base(bytes);
    sweep(&base);
    if base != std::env::temp_dir() {
        sweep(&std::env::temp_dir());
    }
    let dir = tempfile::Builder::new()
        .prefix(&format!("pare-root-{}-", std::process::id()))
        .tempdir_in(base)?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
    }
    let root = dir.path().join("root");
    std::fs::create_dir(&root)?;
    Ok(ScratchRoot { dir, root })
}

/// The bytes of a tree's regular files (each content once).
pub fn tree_bytes(tree: &FileTree) -> u64 {
    tree.contents().iter().map(|c| c.size).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writing_into_the_root_never_follows_the_images_links() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        // etc is a link out of the root: nothing is written there.
        std::os::unix::fs::symlink(outside.path(), root.path().join("etc")).unwrap();
        assert!(!write_into_root(root.path(), "etc/hosts", b"x").unwrap());
        assert!(!outside.path().join("hosts").exists());
        // A link at the name itself is replaced, not written through.
        std::fs::remove_file(root.path().join("etc")).unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        let victim = outside.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        std::os::unix::fs::symlink(&victim, root.path().join("etc/resolv.conf")).unwrap();
        assert!(
            write_into_root(root.path(), "etc/resolv.conf", b"nameserver 127.0.0.1\n").unwrap()
        );
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert_eq!(
            std::fs::read(root.path().join("etc/resolv.conf")).unwrap(),
            b"nameserver 127.0.0.1\n"
        );
    }
}
