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
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

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
        let context = format!("{}/{name}", self.root.display());
        let name = checked_name(name, &self.describe())?;
        // Refuse symlinks on every component: a blob that links to
        // `/etc/shadow` must not be read, whatever its digest.
        let mut path = self.root.clone();
        for part in name.split('/') {
            path.push(part);
            let meta = std::fs::symlink_metadata(&path).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Error::Missing {
                    what: member_label(&name),
                },
                _ => Error::io(&context, e),
            })?;
            if meta.file_type().is_symlink() {
                return Err(Error::malformed(
                    context,
                    "is a symlink; refusing to follow it",
                ));
            }
        }
        let file = File::open(&path).map_err(|e| Error::io(&context, e))?;
        let meta = file.metadata().map_err(|e| Error::io(&context, e))?;
        if !meta.is_file() {
            return Err(Error::malformed(context, "not a regular file"));
        }
        Ok((
            Box::new(BufReader::with_capacity(256 * 1024, file)),
            meta.len(),
        ))
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
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
    members: HashMap<String, ArchiveMember>,
}

impl TarStore {
    /// Reads the headers of the archive at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let shown = path.display().to_string();
        let file = File::open(path).map_err(|e| Error::io(&shown, e))?;
        let file_len = file.metadata().map_err(|e| Error::io(&shown, e))?.len();
        let mut archive = tar::Archive::new(BufReader::new(file));
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
            let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let name = checked_name(&raw_name, &shown)?;
            let header = entry.header();
            let member = match header.entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
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
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let target = entry
                        .link_name_bytes()
                        .map(|t| String::from_utf8_lossy(&t).into_owned())
                        .unwrap_or_default();
                    // Symlinks resolve from the link's folder; hardlinks
                    // name a member from the archive root.
                    let joined = if header.entry_type() == tar::EntryType::Symlink {
                        if target.starts_with('/') {
                            return Err(Error::Escape {
                                context: format!("{shown}: member {name:?}"),
                                path: target,
                            });
                        }
                        format!("{}/{}", paths::parent(&name), target)
                    } else {
                        target.clone()
                    };
                    let target = checked_name(&joined, &format!("{shown}: member {name:?}"))?;
                    ArchiveMember::Link { target }
                }
                _ => continue,
            };
            members.insert(name, member);
        }
        Ok(TarStore {
            path: path.to_path_buf(),
            members,
        })
    }

    /// Whether the archive holds a member of that name.
    pub fn contains(&self, name: &str) -> bool {
        self.members.contains_key(name)
    }

    fn locate(&self, name: &str) -> Result<(u64, u64)> {
        let mut current = name.to_string();
        for _ in 0..MAX_LINK_HOPS {
            match self.members.get(&current) {
                Some(ArchiveMember::Data { offset, size }) => return Ok((*offset, *size)),
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

impl Store for TarStore {
    fn open(&self, name: &str) -> Result<Member> {
        let name = checked_name(name, &self.describe())?;
        let (offset, size) = self.locate(&name)?;
        let shown = self.describe();
        let mut file = File::open(&self.path).map_err(|e| Error::io(&shown, e))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io(&shown, e))?;
        Ok((
            Box::new(BufReader::with_capacity(256 * 1024, file).take(size)),
            size,
        ))
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
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
