//! Debian packages: one lossless model of dpkg's database, read once and
//! used by the cataloger here and by minify's reduction, so the two can
//! never disagree on what a database says or which files a package owns.
//!
//! Where the databases are, by Syft 1.18's globs: `**/lib/dpkg/status`
//! (one paragraph a package; the owned files in `info/NAME[:ARCH].md5sums`,
//! `.list` and `.conffiles` beside it), `**/lib/dpkg/status.d/*`
//! (distroless images: each file one or more paragraphs, the package's
//! `HASH  PATH` lines in `status.d/NAME[:ARCH].md5sums`), and OpenWrt's
//! `**/lib/opkg/status` and `**/lib/opkg/info/*.control` (the same format).
//! `**/` is any folder, the root included: `var/lib/dpkg`, `usr/lib/dpkg`,
//! `lib/dpkg`, a chroot's. [`Database::read`] reads the image's own
//! databases (under `var/lib` and `usr/lib`, which minify rewrites);
//! [`Database::read_everywhere`] every one Syft's globs find, for the
//! SBOM. Licenses come from `usr/share/doc/*/copyright`.
//!
//! Lossless: a [`Record`] keeps its paragraph's bytes exactly as dpkg
//! wrote them and its fields in order, and its listings as read, so minify
//! copies the records it keeps verbatim. Whether a record is an installed
//! package is decided in one place, [`Record::is_package`].
//!
//! Package and architecture names become file names (`info/NAME:ARCH.list`
//! here, `status.d/NAME` in a minified image, on the host with
//! `--dockerfile`), so each is checked with [`check_name`] where it is
//! read: a record with a name that could not be a file name is skipped
//! with an [`InvalidName`] warning and never used.

use std::collections::HashMap;
use std::fmt;

use pare_image::Flattened;
use pare_image::tree::{FileTree, NodeKind};

use crate::control::{self, Paragraph};
use crate::model::{Catalog, Distro, Package, PackageType};
use crate::purl;
use crate::read::{layer_of, read_text};

/// Where one dpkg database lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The `status` file: every package dpkg knows, one paragraph each.
    pub status: &'static str,
    /// The distroless folder used instead: a file per package (or more).
    pub status_d: &'static str,
    /// `NAME[:ARCH].list` and `.md5sums` of the packages in `status`.
    pub info: &'static str,
}

/// Every place a dpkg database is read from, Debian's first.
pub const LAYOUTS: [Layout; 2] = [
    Layout {
        status: "var/lib/dpkg/status",
        status_d: "var/lib/dpkg/status.d",
        info: "var/lib/dpkg/info",
    },
    Layout {
        status: "usr/lib/dpkg/status",
        status_d: "usr/lib/dpkg/status.d",
        info: "usr/lib/dpkg/info",
    },
];

/// Where minify writes the records it keeps, as distroless images do.
pub const STATUS_D: &str = LAYOUTS[0].status_d;

/// Longest package or architecture name accepted: far above any real one
/// (Debian's longest are under 80), and short enough that
/// `NAME:ARCH.md5sums` stays within a file name's 255 bytes.
pub const MAX_NAME_BYTES: usize = 100;

/// Why a package or architecture name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("is empty")]
    Empty,
    #[error("is {0} bytes long, over {MAX_NAME_BYTES}")]
    TooLong(usize),
    #[error("starts with {}", shown(*.0))]
    BadStart(char),
    #[error("holds {}", shown(*.0))]
    BadCharacter(char),
    #[error("holds \"..\"")]
    DotDot,
}

/// `'c'`, or `U+XXXX` for a character that is not graphic ASCII.
fn shown(c: char) -> String {
    if c.is_ascii_graphic() {
        format!("'{c}'")
    } else {
        format!("U+{:04X}", c as u32)
    }
}

/// Checks a package or architecture name before it is used in a path.
/// Debian policy allows `[a-z0-9][a-z0-9+.-]+` for package names (and
/// `[a-z0-9-]+` for architectures); this accepts that, upper case letters,
/// single characters and `_` too (lenient, as old databases may hold them;
/// opkg's architectures are `x86_64`, `mips_24kc`), and nothing else: never `/`, NUL, a control character, `..`, or a
/// leading `-` or `.`.
pub fn check_name(name: &str) -> Result<(), NameError> {
    let first = name.chars().next().ok_or(NameError::Empty)?;
    if name.len() > MAX_NAME_BYTES {
        return Err(NameError::TooLong(name.len()));
    }
    if !first.is_ascii_alphanumeric() {
        return Err(NameError::BadStart(first));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-' | '_')))
    {
        return Err(NameError::BadCharacter(c));
    }
    if name.contains("..") {
        return Err(NameError::DotDot);
    }
    Ok(())
}

/// A database record skipped because a name in it cannot be used as (part
/// of) a file name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("/{file}:{line}: {field} \"{value}\" {problem}; record skipped")]
pub struct InvalidName {
    /// The database file (relative to the image root).
    pub file: String,
    /// The 1-based line where the record starts.
    pub line: usize,
    /// `Package` or `Architecture`.
    pub field: &'static str,
    pub value: String,
    pub problem: NameError,
}

/// The package name and architecture (empty when absent) of a record,
/// both checked with [`check_name`]; `None` without a `Package` field.
pub fn checked_names<'a>(
    p: &'a Paragraph,
    file: &str,
) -> Option<Result<(&'a str, &'a str), InvalidName>> {
    let name = p.get("Package")?;
    let arch = p.get("Architecture").unwrap_or_default();
    let invalid = |field, value: &str, problem| InvalidName {
        file: file.to_string(),
        line: p.line,
        field,
        value: value.to_string(),
        problem,
    };
    if let Err(problem) = check_name(name) {
        return Some(Err(invalid("Package", name, problem)));
    }
    if !arch.is_empty()
        && let Err(problem) = check_name(arch)
    {
        return Some(Err(invalid("Architecture", arch, problem)));
    }
    Some(Ok((name, arch)))
}

/// What kind of database file a record was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A `status` file.
    Status,
    /// A file in a `status.d` folder.
    StatusD,
    /// An opkg `info/NAME.control` file (no listings are read for it).
    OpkgControl,
}

/// A file listing what a package installed, as read: `.md5sums` (`HASH
/// PATH` lines, paths relative to the root) or `.list` (absolute paths).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    /// Where it was read (relative to the root).
    pub path: String,
    pub text: String,
}

impl Listing {
    /// Each `HASH  PATH` line of an `.md5sums` listing, as written, with
    /// its path (relative, as listed).
    pub fn md5sums(&self) -> impl Iterator<Item = (&str, &str)> {
        self.text
            .lines()
            .filter_map(|line| line.split_once("  ").map(|(_, path)| (line, path.trim())))
    }

    /// The absolute paths of a `.list` listing, as written (`/.` too).
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.text
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with('/') && l.len() > 1)
    }
}

/// One paragraph of a dpkg database, losslessly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The database file it was read from (relative to the root).
    pub file: String,
    pub origin: Origin,
    /// Its fields in order, and the line where it starts.
    pub paragraph: Paragraph,
    /// The paragraph's bytes exactly as written (lines with their ends).
    pub text: Vec<u8>,
    /// `Package`, checked with [`check_name`].
    pub name: String,
    /// `Architecture` (empty when absent), checked with [`check_name`].
    pub arch: String,
    /// Its `.md5sums`, read for packages ([`Record::is_package`]) only.
    pub md5sums: Option<Listing>,
    /// Its `info/*.list`, read for packages only.
    pub list: Option<Listing>,
    /// Its `info/*.conffiles` (one path a line), read for packages only.
    pub conffiles: Option<Listing>,
}

impl Record {
    /// Installed, by dpkg's status: deinstalled, half-installed and
    /// config-files-only entries are not; distroless entries have no
    /// `Status` and are.
    pub fn is_installed(&self) -> bool {
        is_installed(&self.paragraph)
    }

    /// `Version`, when not empty.
    pub fn version(&self) -> Option<&str> {
        self.paragraph.get("Version").filter(|v| !v.is_empty())
    }

    /// An installed package, listed in an SBOM and carried by minify: the
    /// one rule both follow. One without a `Version` is still a package,
    /// as Syft lists it (version `UNKNOWN`, a PURL without version).
    pub fn is_package(&self) -> bool {
        self.is_installed()
    }

    /// Files the package owns, absolute, sorted: every path of its md5sums
    /// (regular files, as Syft lists them) and the non-folder paths of its
    /// `.list` that are in `tree` (symlinks such as the loader's
    /// `/lib64/ld-linux-x86-64.so.2`, conffiles).
    pub fn owned_files(&self, tree: &FileTree) -> Vec<String> {
        let mut files: Vec<String> = self
            .md5sums
            .iter()
            .flat_map(Listing::md5sums)
            .map(|(_, path)| format!("/{path}"))
            .collect();
        if let Some(list) = &self.list {
            let entries: Vec<&str> = list.paths().collect();
            // A path with others below it is a folder to dpkg, even where the
            // image has a symlink there (merged /usr: `/lib -> usr/lib`).
            let mut folders = std::collections::HashSet::new();
            for entry in &entries {
                let mut dir = *entry;
                while let Some((parent, _)) = dir.rsplit_once('/') {
                    if !folders.insert(parent) {
                        break;
                    }
                    dir = parent;
                }
            }
            files.extend(
                entries
                    .into_iter()
                    .filter(|l| !folders.contains(l))
                    .filter(|l| {
                        tree.resolve(&l[1..], false)
                            .ok()
                            .and_then(|p| tree.get(&p))
                            .is_some_and(|n| !n.is_dir())
                    })
                    .map(str::to_string),
            );
        }
        // Configuration files, as Syft adds them: the status paragraph's
        // `Conffiles` and the `info/*.conffiles` listing, always.
        files.extend(self.conffile_paths());
        files.sort();
        files.dedup();
        files
    }

    /// The configuration files the paragraph's `Conffiles` field and the
    /// `info/*.conffiles` listing name, absolute, in that order: the first
    /// word of each line (`PATH [MD5 [obsolete]]`), `/` added when missing,
    /// as Syft reads them.
    pub fn conffile_paths(&self) -> Vec<String> {
        let field = self.paragraph.get("Conffiles").unwrap_or_default();
        let listed = self.conffiles.as_ref().map_or("", |l| l.text.as_str());
        field
            .lines()
            .chain(listed.lines())
            .filter_map(|line| line.split_whitespace().next())
            .map(|path| match path.starts_with('/') {
                true => path.to_string(),
                false => format!("/{path}"),
            })
            .collect()
    }
}

/// Installed, by dpkg's status (see [`Record::is_installed`]).
fn is_installed(p: &Paragraph) -> bool {
    p.get("Status")
        .is_none_or(|s| s.split_whitespace().last() == Some("installed"))
}

/// Something in a database that could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A paragraph without a `Package` field.
    NoPackage {
        file: String,
        line: usize,
    },
    InvalidName(InvalidName),
    /// A database file or listing that could not be read.
    Unreadable {
        path: String,
        error: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NoPackage { file, line } => {
                write!(f, "/{file}:{line}: entry without a Package field skipped")
            }
            Problem::InvalidName(invalid) => invalid.fmt(f),
            Problem::Unreadable { path, error } => write!(f, "/{path}: {error}"),
        }
    }
}

/// The records of one database file's bytes (`file` names it in
/// problems), listings not yet attached. Never fails: what cannot be used
/// becomes a [`Problem`].
pub fn parse(file: &str, origin: Origin, bytes: &[u8], problems: &mut Vec<Problem>) -> Vec<Record> {
    let mut records = Vec::new();
    for paragraph in control::parse_bytes(bytes) {
        let (name, arch) = match checked_names(&paragraph, file) {
            None
            | Some(Err(InvalidName {
                problem: NameError::Empty,
                field: "Package",
                ..
            })) => {
                problems.push(Problem::NoPackage {
                    file: file.to_string(),
                    line: paragraph.line,
                });
                continue;
            }
            Some(Err(invalid)) => {
                problems.push(Problem::InvalidName(invalid));
                continue;
            }
            Some(Ok((name, arch))) => (name.to_string(), arch.to_string()),
        };
        let record = Record {
            file: file.to_string(),
            origin,
            text: bytes[paragraph.span.clone()].to_vec(),
            paragraph,
            name,
            arch,
            md5sums: None,
            list: None,
            conffiles: None,
        };
        records.push(record);
    }
    records
}

/// Every dpkg database of an image (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct Database {
    /// Every record with usable names, in the order read.
    pub records: Vec<Record>,
    pub problems: Vec<Problem>,
}

impl Database {
    /// Reads the image's own databases, those of [`LAYOUTS`], and the
    /// listings of each package, from what the flattening captured (see
    /// [`wants`]): what minify reduces.
    pub fn read(flat: &Flattened) -> Database {
        let mut db = Database::default();
        for layout in LAYOUTS {
            let folder = layout.status.trim_end_matches("/status");
            db.read_folder(flat, folder, Kind::Dpkg);
        }
        db
    }

    /// Reads every database Syft's globs find (see the module docs): the
    /// image's own first, then others (a chroot's, opkg's) in path order.
    pub fn read_everywhere(flat: &Flattened) -> Database {
        let mut db = Database::read(flat);
        let own: Vec<&str> = LAYOUTS
            .iter()
            .map(|l| l.status.trim_end_matches("/status"))
            .collect();
        let mut folders = std::collections::BTreeSet::new();
        for (path, node) in flat.tree.iter() {
            if !matches!(node.kind, NodeKind::File(_)) {
                continue;
            }
            if let Some(found) = database_folder(&path)
                && !(found.1 == Kind::Dpkg && own.contains(&found.0.as_str()))
            {
                folders.insert(found);
            }
        }
        for (folder, kind) in folders {
            db.read_folder(flat, &folder, kind);
        }
        db
    }

    /// Reads the database in `folder` (`…/lib/dpkg` or `…/lib/opkg`).
    fn read_folder(&mut self, flat: &Flattened, folder: &str, kind: Kind) {
        let status = format!("{folder}/status");
        let status_d = format!("{folder}/status.d");
        let info = format!("{folder}/info");
        let mut files = Vec::new();
        if flat.tree.get(&status).is_some() {
            files.push((status, Origin::Status));
        }
        let (listed, origin) = match kind {
            Kind::Dpkg => (&status_d, Origin::StatusD),
            Kind::Opkg => (&info, Origin::OpkgControl),
        };
        files.extend(
            flat.tree
                .children(listed)
                .filter(|(p, n)| {
                    matches!(n.kind, NodeKind::File(_))
                        && match origin {
                            Origin::OpkgControl => p.ends_with(".control"),
                            _ => !p.ends_with(".md5sums"),
                        }
                })
                .map(|(p, _)| (p, origin)),
        );
        for (file, origin) in files {
            let Some(bytes) = self.bytes(flat, &file) else {
                continue;
            };
            let mut records = parse(&file, origin, &bytes, &mut self.problems);
            if origin != Origin::OpkgControl {
                for record in records.iter_mut().filter(|r| r.is_package()) {
                    let (name, arch) = (&record.name, &record.arch);
                    if origin == Origin::StatusD {
                        // Beside a status.d entry by package name, as Syft
                        // looks (a file may hold several packages); a
                        // distroless database has no `info` folder, and
                        // Syft reads none for it.
                        let beside = info_files(&status_d, name, arch, "md5sums");
                        record.md5sums = self.listing(flat, beside.into_iter());
                        continue;
                    }
                    let sums = info_files(&info, name, arch, "md5sums");
                    record.md5sums = self.listing(flat, sums.into_iter());
                    let lists = info_files(&info, name, arch, "list");
                    record.list = self.listing(flat, lists.into_iter());
                    let conffiles = info_files(&info, name, arch, "conffiles");
                    record.conffiles = self.listing(flat, conffiles.into_iter());
                }
            }
            self.records.extend(records);
        }
    }

    /// The records that are installed packages ([`Record::is_package`]).
    pub fn packages(&self) -> impl Iterator<Item = &Record> {
        self.records.iter().filter(|r| r.is_package())
    }

    /// The bytes of `path`; a read error becomes a problem.
    fn bytes<'a>(&mut self, flat: &'a Flattened, path: &str) -> Option<std::borrow::Cow<'a, [u8]>> {
        match flat.read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                self.problems.push(Problem::Unreadable {
                    path: path.to_string(),
                    error: e.to_string(),
                });
                None
            }
        }
    }

    /// The first of `candidates` in the image.
    fn listing(
        &mut self,
        flat: &Flattened,
        candidates: impl Iterator<Item = String>,
    ) -> Option<Listing> {
        for path in candidates {
            if let Some(bytes) = self.bytes(flat, &path) {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                return Some(Listing { path, text });
            }
        }
        None
    }
}

/// dpkg's or opkg's database folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Dpkg,
    Opkg,
}

/// Whether `path` is `suffix` or ends with `/suffix` (a `**/suffix` glob).
fn under_any_folder(path: &str, suffix: &str) -> bool {
    path.strip_suffix(suffix)
        .is_some_and(|rest| rest.is_empty() || rest.ends_with('/'))
}

/// The database folder a file of Syft's globs belongs to:
/// `**/lib/dpkg/status`, `**/lib/dpkg/status.d/*`, `**/lib/opkg/status`,
/// `**/lib/opkg/info/*.control`.
fn database_folder(path: &str) -> Option<(String, Kind)> {
    let (parent, name) = path.rsplit_once('/')?;
    if name == "status" {
        if under_any_folder(parent, "lib/dpkg") {
            return Some((parent.to_string(), Kind::Dpkg));
        }
        if under_any_folder(parent, "lib/opkg") {
            return Some((parent.to_string(), Kind::Opkg));
        }
    }
    if under_any_folder(parent, "lib/dpkg/status.d") {
        let folder = parent.strip_suffix("/status.d")?;
        return Some((folder.to_string(), Kind::Dpkg));
    }
    if name.ends_with(".control") && under_any_folder(parent, "lib/opkg/info") {
        let folder = parent.strip_suffix("/info")?;
        return Some((folder.to_string(), Kind::Opkg));
    }
    None
}

/// Whether the dpkg cataloger needs this file's bytes: the databases of
/// Syft's globs, the listings in the `info` folder beside each, and the
/// copyright files.
pub fn wants(path: &str) -> bool {
    if database_folder(path).is_some() {
        return true;
    }
    let listing = [".list", ".md5sums", ".conffiles"]
        .iter()
        .any(|ext| path.ends_with(ext));
    if listing
        && let Some((parent, _)) = path.rsplit_once('/')
        && (under_any_folder(parent, "lib/dpkg/info") || under_any_folder(parent, "lib/opkg/info"))
    {
        return true;
    }
    path.starts_with("usr/share/doc/")
        && path.ends_with("/copyright")
        && path.matches('/').count() == 4
}

pub fn catalog(flat: &Flattened, distro: Option<&Distro>, out: &mut Catalog) {
    let db = Database::read_everywhere(flat);
    out.warnings
        .extend(db.problems.iter().map(Problem::to_string));
    let mut histories: HashMap<&str, StatusHistory> = HashMap::new();
    for record in db.packages() {
        let mut package = package_from(record, distro);
        package.files = record.owned_files(&flat.tree);
        package.licenses = licenses(flat, &package.name, out);
        package.layer = match record.origin {
            Origin::Status => histories
                .entry(&record.file)
                .or_insert_with(|| status_history(flat, &record.file))
                .first_layer(&package.name, &package.version),
            Origin::StatusD | Origin::OpkgControl => layer_of(flat, &record.file),
        };
        out.packages.push(package);
    }
}

/// The two names dpkg gives a package's file with extension `ext` (`list`,
/// `md5sums`) in `info`: plain, and with `:ARCH` for Multi-Arch: same.
/// Empty when `name` or `arch` fails [`check_name`] (callers check names
/// where they read them; this is the second line of defence).
pub fn info_files(info: &str, name: &str, arch: &str, ext: &str) -> Vec<String> {
    if check_name(name).is_err() || (!arch.is_empty() && check_name(arch).is_err()) {
        return Vec::new();
    }
    vec![
        format!("{info}/{name}.{ext}"),
        format!("{info}/{name}:{arch}.{ext}"),
    ]
}

/// The catalog's package for a record that [`Record::is_package`].
fn package_from(record: &Record, distro: Option<&Distro>) -> Package {
    let p = &record.paragraph;
    let name = record.name.as_str();
    let version = record.version().unwrap_or(crate::npm::UNKNOWN);
    let architecture = p.get("Architecture").map(str::to_string);
    let (source, source_version) = match p.get("Source") {
        Some(source) => match source.split_once(' ') {
            Some((name, rest)) => (
                Some(name.to_string()),
                Some(
                    rest.trim()
                        .trim_start_matches('(')
                        .trim_end_matches(')')
                        .to_string(),
                ),
            ),
            None => (Some(source.to_string()), None),
        },
        None => (None, None),
    };
    let upstream = match (&source, &source_version) {
        (Some(s), Some(v)) => format!("{s}@{v}"),
        (Some(s), None) => s.clone(),
        _ => String::new(),
    };
    let namespace = distro.map_or("debian", |d| d.id.as_str());
    let purl = purl::build(
        "deb",
        Some(namespace),
        name,
        record.version().unwrap_or_default(),
        &[
            ("arch", architecture.clone().unwrap_or_default()),
            ("distro", distro.map(Distro::qualifier).unwrap_or_default()),
            ("upstream", upstream),
        ],
    );
    Package {
        name: name.to_string(),
        version: version.to_string(),
        kind: PackageType::Deb,
        purl,
        cpes: purl::cpes(name, version),
        licenses: Vec::new(),
        source,
        source_version,
        architecture,
        files: Vec::new(),
        found_at: format!("/{}", record.file),
        layer: None,
    }
}

/// Declared licenses from a machine-readable (DEP-5) copyright file.
pub fn licenses(flat: &Flattened, name: &str, out: &mut Catalog) -> Vec<String> {
    let Some(text) = read_text(flat, &format!("usr/share/doc/{name}/copyright"), out) else {
        return Vec::new();
    };
    let mut found: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("License:"))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Each layer's version of `status`, to tell which layer brought a package.
struct StatusHistory {
    versions: Vec<(usize, std::collections::HashSet<(String, String)>)>,
}

fn status_history(flat: &Flattened, status: &str) -> StatusHistory {
    let versions = flat
        .versions(status)
        .into_iter()
        .map(|c| {
            let set = parse(status, Origin::Status, &c.bytes, &mut Vec::new())
                .into_iter()
                .filter(Record::is_package)
                .filter_map(|r| Some((r.version()?.to_string(), r.name)))
                .map(|(version, name)| (name, version))
                .collect();
            (c.layer, set)
        })
        .collect();
    StatusHistory { versions }
}

impl StatusHistory {
    /// The earliest layer from which every later `status` lists the package
    /// at this version.
    fn first_layer(&self, name: &str, version: &str) -> Option<usize> {
        let key = (name.to_string(), version.to_string());
        let mut first = None;
        for (layer, set) in self.versions.iter().rev() {
            if set.contains(&key) {
                first = Some(*layer);
            } else {
                break;
            }
        }
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pare_image::{ImageRef, Platform, Source};

    #[test]
    fn names_that_could_leave_a_folder_are_refused() {
        let long = "a".repeat(MAX_NAME_BYTES + 1);
        for (name, want) in [
            ("libc6", Ok(())),
            ("libstdc++6", Ok(())),
            ("python3.11-minimal", Ok(())),
            ("amd64", Ok(())),
            ("musl-linux-amd64", Ok(())),
            ("0ad", Ok(())),
            ("R", Ok(())),
            ("Libfoo", Ok(())),
            ("", Err(NameError::Empty)),
            ("../../etc/x", Err(NameError::BadStart('.'))),
            ("..", Err(NameError::BadStart('.'))),
            (".hidden", Err(NameError::BadStart('.'))),
            ("-rf", Err(NameError::BadStart('-'))),
            ("+x", Err(NameError::BadStart('+'))),
            ("a/b", Err(NameError::BadCharacter('/'))),
            ("a..b", Err(NameError::DotDot)),
            ("nul\0", Err(NameError::BadCharacter('\0'))),
            ("esc\u{1b}[31m", Err(NameError::BadCharacter('\u{1b}'))),
            ("cr\r", Err(NameError::BadCharacter('\r'))),
            ("sp ace", Err(NameError::BadCharacter(' '))),
            ("colon:amd64", Err(NameError::BadCharacter(':'))),
            ("x86_64", Ok(())),
            ("back\\slash", Err(NameError::BadCharacter('\\'))),
            ("caf\u{e9}", Err(NameError::BadCharacter('\u{e9}'))),
            (long.as_str(), Err(NameError::TooLong(MAX_NAME_BYTES + 1))),
        ] {
            assert_eq!(check_name(name), want, "{name:?}");
        }
    }

    #[test]
    fn which_records_are_packages_is_decided_once() {
        for (name, paragraph, installed, package) in [
            (
                "installed",
                "Package: a\nStatus: install ok installed\nVersion: 1\n",
                true,
                true,
            ),
            (
                "distroless: no Status",
                "Package: a\nVersion: 1\n",
                true,
                true,
            ),
            (
                "removed, config files left",
                "Package: a\nStatus: deinstall ok config-files\nVersion: 1\n",
                false,
                false,
            ),
            (
                "half-installed",
                "Package: a\nStatus: install reinstreq half-installed\nVersion: 1\n",
                false,
                false,
            ),
            (
                "not installed",
                "Package: a\nStatus: purge ok not-installed\n",
                false,
                false,
            ),
            (
                "installed without a version (Syft lists it, UNKNOWN)",
                "Package: a\nStatus: install ok installed\n",
                true,
                true,
            ),
            ("empty version", "Package: a\nVersion:\n", true, true),
        ] {
            let records = parse("s", Origin::Status, paragraph.as_bytes(), &mut Vec::new());
            assert_eq!(records.len(), 1, "{name}");
            assert_eq!(records[0].is_installed(), installed, "{name}");
            assert_eq!(records[0].is_package(), package, "{name}");
        }
    }

    #[test]
    fn records_keep_their_bytes_and_problems_say_where() {
        let db = b"Package: a\r\nVersion: 1\r\nDescription: caf\xe9\r\n more\r\n\r\n\
Version: 2\n\nPackage: b\nStatus: install ok installed\n\nPackage: c\nArchitecture: a/b\n";
        let mut problems = Vec::new();
        let records = parse(
            "var/lib/dpkg/status.d/x",
            Origin::StatusD,
            db,
            &mut problems,
        );
        let texts: Vec<&[u8]> = records.iter().map(|r| r.text.as_slice()).collect();
        assert_eq!(
            texts,
            [
                &b"Package: a\r\nVersion: 1\r\nDescription: caf\xe9\r\n more\r\n"[..],
                b"Package: b\nStatus: install ok installed\n",
            ]
        );
        let fields: Vec<&str> = records[0]
            .paragraph
            .fields
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(fields, ["Package", "Version", "Description"]);
        let problems: Vec<String> = problems.iter().map(Problem::to_string).collect();
        assert_eq!(
            problems,
            [
                "/var/lib/dpkg/status.d/x:6: entry without a Package field skipped",
                "/var/lib/dpkg/status.d/x:11: Architecture \"a/b\" holds '/'; record skipped",
            ]
        );
    }

    #[test]
    fn listings_give_lines_and_paths_as_written() {
        let sums = Listing {
            path: "s.md5sums".into(),
            text: "d41d  usr/bin/true\nno separator\n0cc1  usr/share/a b\n".into(),
        };
        let lines: Vec<(&str, &str)> = sums.md5sums().collect();
        assert_eq!(
            lines,
            [
                ("d41d  usr/bin/true", "usr/bin/true"),
                ("0cc1  usr/share/a b", "usr/share/a b")
            ]
        );
        let list = Listing {
            path: "x.list".into(),
            text: "/.\n/usr\n/usr/bin/true\nrelative\n".into(),
        };
        assert_eq!(
            list.paths().collect::<Vec<_>>(),
            ["/.", "/usr", "/usr/bin/true"]
        );
    }

    #[test]
    fn the_files_of_every_database_layout_are_captured() {
        for (path, want) in [
            ("var/lib/dpkg/status", true),
            ("usr/lib/dpkg/status", true),
            ("var/lib/dpkg/status-old", false),
            ("var/lib/dpkg/status.d/libc6", true),
            ("var/lib/dpkg/status.d/libc6.md5sums", true),
            ("usr/lib/dpkg/status.d/libc6", true),
            ("var/lib/dpkg/status.dx/libc6", false),
            ("var/lib/dpkg/info/libc6:amd64.list", true),
            ("usr/lib/dpkg/info/libc6.md5sums", true),
            ("var/lib/dpkg/info/libc6.postinst", false),
            ("usr/share/doc/libc6/copyright", true),
            ("usr/share/doc/libc6/examples/copyright", false),
            // Syft's `**/lib/dpkg/…` and opkg globs: any folder above.
            ("lib/dpkg/status", true),
            ("srv/chroot/var/lib/dpkg/status", true),
            ("srv/chroot/var/lib/dpkg/status.d/x", true),
            ("srv/chroot/var/lib/dpkg/status.d/x/y", false),
            ("var/lib/dpkg/info/libc6.conffiles", true),
            ("mylib/dpkg/status", false),
            ("usr/lib/opkg/status", true),
            ("usr/lib/opkg/info/busybox.control", true),
            ("usr/lib/opkg/info/busybox.list", true),
            ("usr/lib/opkg/info/busybox.postinst", false),
        ] {
            assert_eq!(wants(path), want, "{path}");
        }
    }

    #[test]
    fn conffiles_come_from_the_field_and_the_listing_as_syft_reads_them() {
        let mut records = parse(
            "var/lib/dpkg/status",
            Origin::Status,
            b"Package: a\nVersion: 1\nConffiles:\n /etc/a.conf 0123\n /etc/old.conf 4567 obsolete\n",
            &mut Vec::new(),
        );
        records[0].conffiles = Some(Listing {
            path: "var/lib/dpkg/info/a.conffiles".into(),
            text: "/etc/a.conf\netc/relative.conf\n\n".into(),
        });
        assert_eq!(
            records[0].conffile_paths(),
            [
                "/etc/a.conf",
                "/etc/old.conf",
                "/etc/a.conf",
                "/etc/relative.conf"
            ]
        );
    }

    #[test]
    fn a_database_under_usr_lib_is_read_as_syft_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let info = root.join("usr/lib/dpkg/info");
        std::fs::create_dir_all(&info).unwrap();
        std::fs::create_dir_all(root.join("usr/bin")).unwrap();
        std::fs::write(root.join("usr/bin/true"), "x").unwrap();
        std::fs::write(
            root.join(LAYOUTS[1].status),
            "Package: coreutils\nStatus: install ok installed\nVersion: 9.1-1\n",
        )
        .unwrap();
        std::fs::write(info.join("coreutils.md5sums"), "d41d  usr/bin/true\n").unwrap();
        let reference = ImageRef::Dir { path: root };
        let flat = Source::open(&reference, &Platform::default())
            .unwrap()
            .flatten_with(crate::flatten_options())
            .unwrap();
        let catalog = crate::catalog(&flat);
        let found: Vec<(&str, &str, &[String])> = catalog
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.found_at.as_str(), p.files.as_slice()))
            .collect();
        assert_eq!(
            found,
            [(
                "coreutils",
                "/usr/lib/dpkg/status",
                &["/usr/bin/true".to_string()][..]
            )]
        );
    }

    #[test]
    fn a_status_d_root_is_read_with_the_md5sums_beside_each_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let status_d = root.join(STATUS_D);
        std::fs::create_dir_all(&status_d).unwrap();
        std::fs::create_dir_all(root.join("usr/bin")).unwrap();
        std::fs::write(root.join("usr/bin/true"), "x").unwrap();
        std::fs::write(
            status_d.join("coreutils"),
            "Package: coreutils\nVersion: 9.1-1\nArchitecture: amd64\n",
        )
        .unwrap();
        std::fs::write(status_d.join("coreutils.md5sums"), "d41d  usr/bin/true\n").unwrap();
        // Two packages in one file: each has its own md5sums, by name.
        std::fs::write(
            status_d.join("two"),
            "Package: libc6\nVersion: 2.36\n\nPackage: tzdata\nVersion: 2024a\n",
        )
        .unwrap();
        std::fs::write(status_d.join("libc6.md5sums"), "beef  usr/lib/libc.so.6\n").unwrap();
        let reference = ImageRef::Dir { path: root };
        let flat = Source::open(&reference, &Platform::default())
            .unwrap()
            .flatten_with(crate::flatten_options())
            .unwrap();
        let db = Database::read(&flat);
        assert!(db.problems.is_empty(), "{:?}", db.problems);
        let found: Vec<(&str, &str, Vec<String>)> = db
            .packages()
            .map(|r| (r.name.as_str(), r.file.as_str(), r.owned_files(&flat.tree)))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "coreutils",
                    "var/lib/dpkg/status.d/coreutils",
                    vec!["/usr/bin/true".to_string()]
                ),
                (
                    "libc6",
                    "var/lib/dpkg/status.d/two",
                    vec!["/usr/lib/libc.so.6".to_string()]
                ),
                ("tzdata", "var/lib/dpkg/status.d/two", vec![]),
            ]
        );
        let catalog = crate::catalog(&flat);
        let names: Vec<&str> = catalog.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["coreutils", "libc6", "tzdata"]);
    }

    #[test]
    fn records_with_hostile_names_are_skipped_with_a_warning() {
        let status = "\
Package: ../../../../../../tmp/pwned
Status: install ok installed
Version: 1

Package: libc6
Status: install ok installed
Architecture: amd64
Version: 2.36

Package: evil\u{1b}[31m
Status: install ok installed
Version: 1

Package: sneaky
Status: install ok installed
Architecture: ../../x
Version: 1
";
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let info = root.join("var/lib/dpkg/info");
        std::fs::create_dir_all(&info).unwrap();
        std::fs::write(root.join(LAYOUTS[0].status), status).unwrap();
        std::fs::write(info.join("libc6:amd64.list"), "/lib/libc.so.6\n").unwrap();
        let reference = ImageRef::Dir { path: root };
        let flat = Source::open(&reference, &Platform::default())
            .unwrap()
            .flatten_with(crate::flatten_options())
            .unwrap();
        let catalog = crate::catalog(&flat);
        let names: Vec<&str> = catalog.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["libc6"]);
        let want = [
            "/var/lib/dpkg/status:1: Package \"../../../../../../tmp/pwned\" starts with '.'; record skipped",
            "/var/lib/dpkg/status:10: Package \"evil\u{1b}[31m\" holds U+001B; record skipped",
            "/var/lib/dpkg/status:14: Architecture \"../../x\" starts with '.'; record skipped",
        ];
        assert_eq!(catalog.warnings, want);
    }
}
