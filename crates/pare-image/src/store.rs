//! Where an image's files live: a folder or a tar archive.
//!
//! Both an OCI layout and a docker archive are "a set of named files"; the
//! readers above this module do not care whether those files are in a folder
//! (`oci:`) or packed in a tar (`docker-archive:`, `oci-archive:`). A tar is
//! indexed once by reading only its headers (seeking over the data), then any
//! member is read straight from the archive at its offset: nothing is
//! extracted and nothing is held in memory.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{FileExt, FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use crate::error::{Error, Result};
use crate::paths::{self, PathProblem};

/// A readable member: a stream and its size.
pub type Member = (Box<dyn Read + Send>, u64);

/// A set of named files that make up an image on disk.
pub trait Store: Send + Sync {
    /// Opens the member called `name` (a normalised relative path).
    fn open(&self, name: &str) -> Result<Member>;
    /// How errors name this store, e.g. the archive path.
    fn describe(&self) -> String;
    /// What `name` really is once links inside the store are followed:
    /// two names with the same identity are the same bytes.
    fn identity(&self, name: &str) -> Result<String> {
        checked_name(name, &self.describe())
    }
}

/// Flags every file pare reads from an image or a root is opened with:
/// never block (a FIFO would hold `open` forever), never keep the fd
/// across `exec`.
const READ_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_NONBLOCK)
    .union(OFlag::O_CLOEXEC);

/// Opens the regular file at `path` for reading, refusing anything else
/// (FIFO, device, socket, folder) and a symlink as the last component:
/// `O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC`, then `fstat` on the opened file,
/// so nothing can be swapped in between. The other components are
/// followed: use it for paths the user or the host chose (a `dir:` root's
/// files), and [`DirStore`] for paths an image chose. Returns the file and
/// its size.
pub fn open_regular(path: &Path) -> Result<(File, u64)> {
    open_checked(path, true)
}

/// Like [`open_regular`], following a symlink in the last component too:
/// for an archive the user named on the command line (`a.tar -> b.tar`).
pub fn open_regular_following(path: &Path) -> Result<(File, u64)> {
    open_checked(path, false)
}

fn open_checked(path: &Path, no_follow: bool) -> Result<(File, u64)> {
    let shown = path.display().to_string();
    // A look first, so a device is not even opened (opening some has side
    // effects); the check on the opened file below is the one that counts.
    let meta = if no_follow {
        std::fs::symlink_metadata(path)
    } else {
        std::fs::metadata(path)
    }
    .map_err(|e| Error::io(&shown, e))?;
    refuse_irregular(&shown, meta.file_type())?;
    let mut flags = READ_FLAGS;
    if no_follow {
        flags |= OFlag::O_NOFOLLOW;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() & !OFlag::O_RDONLY.bits())
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(code) if code == Errno::ELOOP as i32 => Error::NotRegularFile {
                path: shown.clone(),
                kind: "symlink",
            },
            _ => Error::io(&shown, e),
        })?;
    checked_file(file, &shown)
}

/// `fstat`s an opened file: its size when it is a regular file.
fn checked_file(file: File, shown: &str) -> Result<(File, u64)> {
    let meta = file.metadata().map_err(|e| Error::io(shown, e))?;
    refuse_irregular(shown, meta.file_type())?;
    Ok((file, meta.len()))
}

fn refuse_irregular(shown: &str, kind: std::fs::FileType) -> Result<()> {
    let name = if kind.is_file() {
        return Ok(());
    } else if kind.is_fifo() {
        "FIFO"
    } else if kind.is_dir() {
        "folder"
    } else if kind.is_symlink() {
        "symlink"
    } else if kind.is_char_device() {
        "character device"
    } else if kind.is_block_device() {
        "block device"
    } else if kind.is_socket() {
        "socket"
    } else {
        "special file"
    };
    Err(Error::NotRegularFile {
        path: shown.to_string(),
        kind: name,
    })
}

/// Members up to this many are indexed; more is not an image.
const MAX_ARCHIVE_MEMBERS: usize = 1_000_000;
/// Symlinks followed inside an archive before giving up.
const MAX_LINK_HOPS: usize = 16;

/// An image laid out in a folder (an OCI layout).
pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    pub fn new(root: &Path) -> Self {
        DirStore {
            root: root.to_path_buf(),
        }
    }
}

impl Store for DirStore {
    fn open(&self, name: &str) -> Result<Member> {
        let name = checked_name(name, &self.describe())?;
        let (file, size) = self.open_file(&name)?;
        Ok((Box::new(BufReader::with_capacity(256 * 1024, file)), size))
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

impl DirStore {
    /// Opens the regular file `name` (normalised, so it stays lexically
    /// inside the root) one component at a time, each relative to the
    /// folder opened before it and none followed if it is a symlink: a
    /// blob that links to `/etc/shadow`, or sits in a folder that does,
    /// is not read whatever its digest, and nothing can be swapped for a
    /// symlink between a check and the open. The root itself is the
    /// user's to name and may be reached through symlinks.
    fn open_file(&self, name: &str) -> Result<(File, u64)> {
        let context = format!("{}/{name}", self.root.display());
        let missing = || Error::Missing {
            what: member_label(name),
        };
        let fail = |at: &str, errno: Errno| -> Error {
            let shown = format!("{}/{at}", self.root.display());
            match errno {
                Errno::ENOENT => missing(),
                Errno::ELOOP => Error::malformed(shown, "is a symlink; refusing to follow it"),
                // `O_DIRECTORY | O_NOFOLLOW` on a symlink says ENOTDIR.
                Errno::ENOTDIR
                    if std::fs::symlink_metadata(&shown).is_ok_and(|m| m.is_symlink()) =>
                {
                    Error::malformed(shown, "is a symlink; refusing to follow it")
                }
                Errno::ENOTDIR => Error::malformed(shown, "is not a folder"),
                other => Error::io(shown, std::io::Error::from(other)),
            }
        };
        let mut dir: OwnedFd = nix::fcntl::open(
            &self.root,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::ENOTDIR => Error::malformed(self.describe(), "not a folder"),
            e => Error::io(self.root.display(), std::io::Error::from(e)),
        })?;
        let parts: Vec<&str> = name.split('/').collect();
        let (last, folders) = parts.split_last().expect("a checked name is not empty");
        let mut walked = String::new();
        for part in folders {
            walked = paths::child(&walked, part);
            dir = nix::fcntl::openat(
                &dir,
                *part,
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| fail(&walked, e))?;
        }
        // Look before opening, so a device is never opened at all.
        let stat = nix::sys::stat::fstatat(&dir, *last, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
            .map_err(|e| fail(name, e))?;
        let kind =
            nix::sys::stat::SFlag::from_bits_truncate(stat.st_mode) & nix::sys::stat::SFlag::S_IFMT;
        if kind == nix::sys::stat::SFlag::S_IFLNK {
            return Err(fail(name, Errno::ELOOP));
        }
        if kind != nix::sys::stat::SFlag::S_IFREG {
            return Err(Error::NotRegularFile {
                path: context,
                kind: match kind {
                    k if k == nix::sys::stat::SFlag::S_IFIFO => "FIFO",
                    k if k == nix::sys::stat::SFlag::S_IFDIR => "folder",
                    k if k == nix::sys::stat::SFlag::S_IFCHR => "character device",
                    k if k == nix::sys::stat::SFlag::S_IFBLK => "block device",
                    k if k == nix::sys::stat::SFlag::S_IFSOCK => "socket",
                    _ => "special file",
                },
            });
        }
        let fd = nix::fcntl::openat(&dir, *last, READ_FLAGS | OFlag::O_NOFOLLOW, Mode::empty())
            .map_err(|e| fail(name, e))?;
        checked_file(File::from(fd), &context)
    }
}

#[derive(Clone, Debug)]
enum ArchiveMember {
    Data { offset: u64, size: u64 },
    Link { target: String },
}

/// An image packed in a tar archive, indexed by member name.
pub struct TarStore {
    path: PathBuf,
    /// The archive, opened once: members are read from it at their offsets
    /// (`pread`), so the path is never opened again (it could be a FIFO by
    /// then) and readers on several threads do not share a file position.
    file: Arc<File>,
    members: HashMap<String, ArchiveMember>,
}

impl TarStore {
    /// Reads the headers of the archive at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let (file, _) = open_regular_following(path)?;
        TarStore::from_file(file, path)
    }

    /// Reads the headers of an archive already open as `file` (e.g. an
    /// unnamed temporary file holding an export); `shown` names it in
    /// messages.
    pub fn from_file(file: File, shown: &Path) -> Result<Self> {
        let path = shown;
        let shown = path.display().to_string();
        let file_len = file.metadata().map_err(|e| Error::io(&shown, e))?.len();
        // The headers are read from the start, wherever a writer left it.
        std::io::Seek::rewind(&mut &file).map_err(|e| Error::io(&shown, e))?;
        refuse_compressed(&file, &shown)?;
        let mut archive = tar::Archive::new(BufReader::new(&file));
        let mut members = HashMap::new();
        let entries = archive
            .entries_with_seek()
            .map_err(|e| Error::io(&shown, e))?;
        for entry in entries {
            let entry = entry
                .map_err(|e| Error::malformed(&shown, format!("corrupt or truncated tar: {e}")))?;
            if members.len() >= MAX_ARCHIVE_MEMBERS {
                return Err(Error::malformed(&shown, "too many members"));
            }
            let header = entry.header();
            let kind = header.entry_type();
            // Folders (`./`, `blobs/`) and anything else that holds no
            // bytes are not members: skipped before their name is read.
            if !matches!(
                kind,
                tar::EntryType::Regular
                    | tar::EntryType::Continuous
                    | tar::EntryType::Symlink
                    | tar::EntryType::Link
            ) {
                continue;
            }
            let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let name = checked_name(&raw_name, &shown)?;
            let member = match kind {
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let target = entry
                        .link_name_bytes()
                        .map(|t| String::from_utf8_lossy(&t).into_owned())
                        .unwrap_or_default();
                    let context = format!("{shown}: member {name:?}");
                    ArchiveMember::Link {
                        target: link_target(&name, &target, kind, &context)?,
                    }
                }
                _ => {
                    let offset = entry.raw_file_position();
                    let size = entry.size();
                    if offset.checked_add(size).is_none_or(|end| end > file_len) {
                        return Err(Error::malformed(
                            &shown,
                            format!("member {name:?} runs past the end: truncated archive"),
                        ));
                    }
                    ArchiveMember::Data { offset, size }
                }
            };
            members.insert(name, member);
        }
        Ok(TarStore {
            path: path.to_path_buf(),
            file: Arc::new(file),
            members,
        })
    }

    /// Whether the archive holds a member of that name.
    pub fn contains(&self, name: &str) -> bool {
        self.members.contains_key(name)
    }

    /// The data member `name` is, once links are followed, and its place.
    fn locate(&self, name: &str) -> Result<(String, u64, u64)> {
        let mut current = name.to_string();
        for _ in 0..MAX_LINK_HOPS {
            match self.members.get(&current) {
                Some(ArchiveMember::Data { offset, size }) => return Ok((current, *offset, *size)),
                Some(ArchiveMember::Link { target }) => current = target.clone(),
                None => {
                    return Err(Error::Missing {
                        what: format!("{}: {}", self.describe(), member_label(name)),
                    });
                }
            }
        }
        Err(Error::malformed(
            self.describe(),
            format!("member {name:?}: too many links"),
        ))
    }
}

/// An archive that is a compressed tar (`tar -czf`, `tar --zstd -cf`) is
/// refused by name: members are read in place at their offsets, which a
/// compressed stream does not have. (containers/image decompresses such
/// archives first; pare does not yet.)
pub(crate) fn refuse_compressed(file: &File, shown: &str) -> Result<()> {
    let mut magic = [0u8; 4];
    let n = file
        .read_at(&mut magic, 0)
        .map_err(|e| Error::io(shown, e))?;
    let kind = match &magic[..n] {
        [0x1f, 0x8b, ..] => "gzip",
        [0x28, 0xb5, 0x2f, 0xfd] => "zstd",
        _ => return Ok(()),
    };
    Err(Error::unsupported(
        shown,
        format!("a {kind}-compressed archive; decompress it first"),
    ))
}

/// Where a link member points, as a member name. A symlink resolves from
/// the link's folder (`manifest.json -> real.json` at the top,
/// `blobs/sha256/a -> ../other/a`); a hardlink names a member from the
/// archive root. Resolved lexically; refused only when it leaves the
/// archive or is absolute.
fn link_target(name: &str, target: &str, kind: tar::EntryType, context: &str) -> Result<String> {
    if kind == tar::EntryType::Link {
        return checked_name(target, context);
    }
    if target.starts_with('/') {
        return Err(Error::Escape {
            context: context.to_string(),
            path: target.to_string(),
        });
    }
    checked_name(&paths::child(paths::parent(name), target), context).map_err(|e| match e {
        // Name the link's own target, not the joined path.
        Error::Escape { context, .. } => Error::Escape {
            context,
            path: target.to_string(),
        },
        other => other,
    })
}

impl Store for TarStore {
    fn open(&self, name: &str) -> Result<Member> {
        let name = checked_name(name, &self.describe())?;
        let (_, offset, size) = self.locate(&name)?;
        let slice = FileSlice {
            file: self.file.clone(),
            pos: offset,
            end: offset + size,
        };
        Ok((Box::new(BufReader::with_capacity(256 * 1024, slice)), size))
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn identity(&self, name: &str) -> Result<String> {
        let name = checked_name(name, &self.describe())?;
        Ok(self.locate(&name)?.0)
    }
}

/// A range of a shared file, read with `pread`.
struct FileSlice {
    file: Arc<File>,
    pos: u64,
    end: u64,
}

impl Read for FileSlice {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.end.saturating_sub(self.pos);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "archive shrank while being read",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// How messages name a member: blobs by digest, other files by name.
fn member_label(name: &str) -> String {
    match name.strip_prefix("blobs/sha256/") {
        Some(hex) => format!("blob sha256:{hex}"),
        None => name.to_string(),
    }
}

/// Normalises a member name, refusing absolute names and `..` escapes.
pub(crate) fn checked_name(name: &str, context: &str) -> Result<String> {
    match paths::normalize(name) {
        Ok(n) if !n.is_empty() => Ok(n),
        Ok(_) => Err(Error::malformed(
            context,
            format!("empty member name {name:?}"),
        )),
        Err(PathProblem::Absolute | PathProblem::Escapes) => Err(Error::Escape {
            context: context.to_string(),
            path: name.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;
    use crate::testutil::{E, layer, oci_layout};
    use crate::{Image, ImageRef, Platform, Source};

    /// Runs `f` on its own thread and fails the test, instead of hanging
    /// it, when `f` has not returned within ten seconds.
    pub(crate) fn within<T: Send + 'static>(
        what: &str,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("{what}: still blocked after 10 s"))
    }

    fn mkfifo(path: &Path) {
        let _ = std::fs::remove_file(path);
        nix::unistd::mkfifo(path, Mode::S_IRUSR | Mode::S_IWUSR).unwrap();
    }

    /// Opens and flattens `reference`: the error, as the user sees it.
    fn open_and_flatten(reference: ImageRef) -> String {
        within(&reference.to_string(), move || {
            Source::open(&reference, &Platform::default())
                .and_then(|s| s.flatten().map(|_| ()))
                .expect_err("a FIFO was read as an image file")
                .to_string()
        })
    }

    /// Issue 10: a FIFO in an `oci:` folder blocked `File::open` forever
    /// (the regular-file check came after the open). Every file the reader
    /// opens is tried as a FIFO.
    #[test]
    fn fifo_in_each_position_of_an_oci_folder_is_refused_at_once() {
        let layers = [layer(&[E::File("etc/a", b"1")])];
        let probe = tempfile::tempdir().unwrap();
        let image = Image::open(&oci_layout(probe.path(), &layers), &Platform::default()).unwrap();
        let cases = [
            ("index.json".to_string(), "index.json"),
            ("oci-layout".to_string(), "oci-layout"),
            (
                image.manifest_digest.as_ref().unwrap().blob_path(),
                "manifest blob",
            ),
            (image.config_digest.blob_path(), "config blob"),
            (image.layers[0].member.clone(), "layer blob"),
        ];
        for (member, what) in cases {
            let dir = tempfile::tempdir().unwrap();
            let reference = oci_layout(dir.path(), &layers);
            let fifo = dir.path().join(&member);
            mkfifo(&fifo);
            let err = open_and_flatten(reference);
            assert!(
                err.contains("is a FIFO, not a regular file") && err.contains(&member),
                "{what}: {err}"
            );
        }
    }

    #[test]
    fn fifo_as_the_archive_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("image.tar");
        mkfifo(&fifo);
        let shown = fifo.display().to_string();
        let refused = format!("{shown} is a FIFO, not a regular file");
        let not_folder = format!("{shown}: not a folder");
        for (text, want) in [
            (format!("docker-archive:{shown}"), &refused),
            (format!("oci-archive:{shown}"), &refused),
            (shown.clone(), &refused),
            (format!("oci:{shown}"), &not_folder),
            (format!("dir:{shown}"), &not_folder),
        ] {
            let err = within(&text.clone(), move || {
                ImageRef::parse(&text)
                    .and_then(|r| Source::open(&r, &Platform::default()))
                    .err()
                    .map(|e| e.to_string())
            });
            assert_eq!(err.as_ref(), Some(want));
        }
    }

    #[test]
    fn open_regular_refuses_all_but_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str| dir.path().join(name);
        std::fs::write(at("file"), b"12345").unwrap();
        mkfifo(&at("fifo"));
        std::fs::create_dir(at("folder")).unwrap();
        std::os::unix::fs::symlink(at("file"), at("to-file")).unwrap();
        std::os::unix::fs::symlink(at("fifo"), at("to-fifo")).unwrap();
        let dev_null = Path::new("/dev/null").to_path_buf();
        // (path, open_regular, open_regular_following): Ok(size) or the kind.
        type Want = Result<u64, &'static str>;
        let cases: &[(PathBuf, Want, Want)] = &[
            (at("file"), Ok(5), Ok(5)),
            (at("fifo"), Err("FIFO"), Err("FIFO")),
            (at("folder"), Err("folder"), Err("folder")),
            (at("to-file"), Err("symlink"), Ok(5)),
            (at("to-fifo"), Err("symlink"), Err("FIFO")),
            (dev_null, Err("character device"), Err("character device")),
        ];
        for (path, plain, following) in cases {
            for (got, want) in [
                (open_regular(path), plain),
                (open_regular_following(path), following),
            ] {
                let got = within("open", move || match got {
                    Ok((_, size)) => Ok(size),
                    Err(Error::NotRegularFile { kind, .. }) => Err(kind),
                    Err(other) => panic!("{other}"),
                });
                assert_eq!(got, *want, "{}", path.display());
            }
        }
    }

    /// Symlinks inside an `oci:` folder are never followed, on any
    /// component: a blob or a `blobs/sha256` folder that links elsewhere.
    #[test]
    fn symlinks_inside_a_layout_are_refused() {
        let layers = [layer(&[E::File("etc/a", b"1")])];
        for (what, break_it) in [
            (
                "blob",
                Box::new(|dir: &Path, blob: &str| {
                    let real = dir.join("elsewhere");
                    std::fs::rename(dir.join(blob), &real).unwrap();
                    std::os::unix::fs::symlink(&real, dir.join(blob)).unwrap();
                }) as Box<dyn Fn(&Path, &str)>,
            ),
            (
                "folder",
                Box::new(|dir: &Path, _: &str| {
                    let real = dir.join("elsewhere");
                    std::fs::rename(dir.join("blobs/sha256"), &real).unwrap();
                    std::os::unix::fs::symlink(&real, dir.join("blobs/sha256")).unwrap();
                }),
            ),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let reference = oci_layout(dir.path(), &layers);
            let image = Image::open(&reference, &Platform::default()).unwrap();
            break_it(dir.path(), &image.layers[0].member);
            let Err(err) = image.flatten() else {
                panic!("{what}: followed a symlink")
            };
            let err = err.to_string();
            assert!(
                err.contains("is a symlink; refusing to follow it"),
                "{what}: {err}"
            );
        }
    }

    enum M<'a> {
        File(&'a str, &'a [u8]),
        Dir(&'a str),
        Sym(&'a str, &'a str),
        Hard(&'a str, &'a str),
    }

    fn archive(path: &Path, members: &[M]) {
        let mut b = tar::Builder::new(Vec::new());
        for m in members {
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o644);
            let (name, kind, data, link): (&str, _, &[u8], _) = match m {
                M::File(n, d) => (n, tar::EntryType::Regular, d, None),
                M::Dir(n) => (n, tar::EntryType::Directory, b"", None),
                M::Sym(n, t) => (n, tar::EntryType::Symlink, b"", Some(t)),
                M::Hard(n, t) => (n, tar::EntryType::Link, b"", Some(t)),
            };
            h.set_entry_type(kind);
            h.set_size(data.len() as u64);
            // Raw names: `tar` would refuse `../` targets and rewrite `./`.
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            if let Some(link) = link {
                h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
            }
            h.set_cksum();
            b.append(&h, data).unwrap();
        }
        std::fs::write(path, b.into_inner().unwrap()).unwrap();
    }

    /// Issue 10: a top-level symlink member with a relative target
    /// (`manifest.json -> real.json`) was refused as "escapes the root",
    /// and a `./` folder member as an empty name.
    #[test]
    fn top_level_relative_symlink_in_an_archive_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let tar = dir.path().join("a.tar");
        // (members, member to open, Ok(bytes) or a piece of the error)
        type Want = Result<&'static [u8], &'static str>;
        let cases: &[(&[M], &str, Want)] = &[
            (
                &[
                    M::File("real.json", b"[]"),
                    M::Sym("manifest.json", "real.json"),
                ],
                "manifest.json",
                Ok(b"[]"),
            ),
            (
                &[
                    M::File("real.json", b"[]"),
                    M::Sym("manifest.json", "./real.json"),
                ],
                "manifest.json",
                Ok(b"[]"),
            ),
            (
                &[
                    M::Dir("./"),
                    M::Dir("blobs/"),
                    M::File("blobs/other/abc", b"blob"),
                    M::Sym("blobs/sha256/abc", "../other/abc"),
                ],
                "blobs/sha256/abc",
                Ok(b"blob"),
            ),
            (
                &[M::File("./blobs/x", b"x"), M::Hard("y", "./blobs/x")],
                "y",
                Ok(b"x"),
            ),
            (
                &[M::Dir("./"), M::File("./index.json", b"{}")],
                "index.json",
                Ok(b"{}"),
            ),
            (
                &[M::Sym("manifest.json", "../outside.json")],
                "manifest.json",
                Err("\"../outside.json\" escapes the root"),
            ),
            (
                &[M::Sym("blobs/a", "../../etc/passwd")],
                "blobs/a",
                Err("\"../../etc/passwd\" escapes the root"),
            ),
            (
                &[M::Sym("manifest.json", "/etc/passwd")],
                "manifest.json",
                Err("\"/etc/passwd\" escapes the root"),
            ),
            (
                &[M::Sym("a", "b"), M::Sym("b", "a")],
                "a",
                Err("too many links"),
            ),
        ];
        for (members, name, want) in cases {
            archive(&tar, members);
            let got = TarStore::open(&tar).and_then(|store| {
                let (mut reader, size) = store.open(name)?;
                let mut bytes = Vec::new();
                reader.read_to_end(&mut bytes).unwrap();
                assert_eq!(bytes.len() as u64, size);
                Ok(bytes)
            });
            match (got, want) {
                (Ok(bytes), Ok(want)) => assert_eq!(bytes, *want, "{name}"),
                (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{name}: {e}"),
                (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
            }
        }
    }

    /// The same, end to end: a docker archive whose manifest.json and layer
    /// blob are symlinks, with folder members, opens and flattens.
    #[test]
    fn docker_archive_with_symlinked_manifest_and_blob_opens() {
        let layers = [layer(&[E::File("etc/a", b"1")])];
        let src = tempfile::tempdir().unwrap();
        let image = Image::open(&oci_layout(src.path(), &layers), &Platform::default()).unwrap();
        let config = std::fs::read(src.path().join(image.config_digest.blob_path())).unwrap();
        let hex = image.layers[0].digest.as_ref().unwrap().hex().to_string();
        let manifest = serde_json::json!([{
            "Config": image.config_digest.blob_path(),
            "RepoTags": ["x:1"],
            "Layers": [format!("blobs/sha256/{hex}")],
        }])
        .to_string();
        let other = format!("blobs/other/{hex}");
        let link = format!("blobs/sha256/{hex}");
        let target = format!("../other/{hex}");
        let config_path = image.config_digest.blob_path();
        let out = tempfile::tempdir().unwrap();
        let tar = out.path().join("img.tar");
        archive(
            &tar,
            &[
                M::Dir("./"),
                M::Dir("blobs/"),
                M::File(&config_path, &config),
                M::File(&other, &layers[0]),
                M::Sym(&link, &target),
                M::File("real.json", manifest.as_bytes()),
                M::Sym("manifest.json", "real.json"),
            ],
        );
        let reference = ImageRef::parse(tar.to_str().unwrap()).unwrap();
        assert!(matches!(reference, ImageRef::DockerArchive { .. }));
        let flat = Source::open(&reference, &Platform::default())
            .unwrap()
            .flatten()
            .unwrap();
        assert!(flat.tree.get("etc/a").is_some());
    }
}
