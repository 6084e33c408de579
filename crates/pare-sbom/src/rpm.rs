//! RPM packages from every kind of rpm database Syft 1.18 reads: Berkeley
//! DB `Packages` (RHEL/CentOS ≤ 8, Amazon Linux 2), the "new database"
//! (ndb) `Packages.db` (SUSE), and `rpmdb.sqlite` (RHEL 9, Fedora ≥ 33),
//! this last with SQLite itself through rusqlite; and the
//! `container-manifest-2` text list of CBL-Mariner's distroless images.
//!
//! Where: Syft's glob `**/{var/lib,usr/share,usr/lib/sysimage}/rpm/
//! {Packages,Packages.db,rpmdb.sqlite}` (any depth, any of the three
//! names), and `**/var/lib/rpmmanifest/container-manifest-2`. As Syft (and
//! go-rpmdb, which it uses) does, the format of a database is told by its
//! content, not its name: SQLite's magic, else ndb's `RpmP`, else
//! Berkeley DB.
//!
//! Hand-written because no maintained Rust crate reads Berkeley DB or ndb:
//! only the small part of Berkeley DB's hash-database layout that rpm uses
//! is read (hash pages of key/value items, values that spill onto chains of
//! overflow pages); ndb is rpm's own simple slot table ([`ndb_values`]).
//! Each value is an rpm header blob whose tag index gives name, version,
//! release, epoch, arch, license, source rpm and the file list. Every
//! offset is bounds-checked: a corrupt database yields a warning, not a
//! panic.

use pare_image::Flattened;
use pare_image::tree::NodeKind;

use crate::model::{Catalog, Distro, Package, PackageType};
use crate::purl;
use crate::read::{layer_of, read_bytes, read_text};

mod ndb;
pub use ndb::values as ndb_values;
const NDB_MAGIC: &[u8] = ndb::MAGIC;

/// Berkeley DB databases at the root, which minify reduces.
pub const BDB_PATHS: [&str; 2] = ["var/lib/rpm/Packages", "usr/lib/sysimage/rpm/Packages"];
const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HASH: u8 = 13;
const PAGE_HASH_UNSORTED: u8 = 2;
const PAGE_OVERFLOW: u8 = 7;
const ITEM_KEYDATA: u8 = 1;
const ITEM_OFFPAGE: u8 = 3;
const PAGE_HEADER: usize = 26;
/// rpm headers above this are refused (real ones are well under 1 MiB).
const MAX_HEADER: usize = 64 * 1024 * 1024;

/// SQLite databases at the root, which minify reduces.
pub const SQLITE_PATHS: [&str; 2] = [
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
];

/// The folders of Syft's rpm database glob (`**/` before each).
const DB_FOLDERS: [&str; 3] = ["var/lib/rpm", "usr/share/rpm", "usr/lib/sysimage/rpm"];
/// The file names of Syft's rpm database glob.
const DB_NAMES: [&str; 3] = ["Packages", "Packages.db", "rpmdb.sqlite"];
/// CBL-Mariner's distroless package list (`**/` before it).
pub const MANIFEST: &str = "var/lib/rpmmanifest/container-manifest-2";

/// Whether `path` is `suffix` or ends with `/suffix` (a `**/suffix` glob).
fn under_any_folder(path: &str, suffix: &str) -> bool {
    path.strip_suffix(suffix)
        .is_some_and(|rest| rest.is_empty() || rest.ends_with('/'))
}

/// Whether `path` is an rpm database by Syft's glob.
pub fn is_database(path: &str) -> bool {
    let Some((folder, name)) = path.rsplit_once('/') else {
        return false;
    };
    DB_NAMES.contains(&name) && DB_FOLDERS.iter().any(|f| under_any_folder(folder, f))
}

pub fn wants(path: &str) -> bool {
    is_database(path) || under_any_folder(path, MANIFEST)
}

/// Reads every value (header blob) of one kind of rpm database.
type DatabaseReader = fn(&[u8]) -> Result<Vec<Vec<u8>>, String>;

pub fn catalog(flat: &Flattened, distro: Option<&Distro>, out: &mut Catalog) {
    let found: Vec<String> = flat
        .tree
        .iter()
        .filter(|(p, n)| matches!(n.kind, NodeKind::File(_)) && wants(p))
        .map(|(p, _)| p.to_string())
        .collect();
    for path in found {
        let layer = layer_of(flat, &path);
        if !is_database(&path) {
            let Some(text) = read_text(flat, &path, out) else {
                continue;
            };
            for mut p in manifest_packages(&text, &path, &mut out.warnings) {
                p.layer = layer;
                out.packages.push(p);
            }
            continue;
        }
        let Some(bytes) = read_bytes(flat, &path, out) else {
            continue;
        };
        match database_values(&bytes) {
            Ok(blobs) => {
                for (i, blob) in blobs.iter().enumerate().filter(|(_, b)| is_header(b)) {
                    match parse_header(blob) {
                        Ok(header) => {
                            if let Some(mut p) = header.into_package(&path, distro) {
                                p.layer = layer;
                                out.packages.push(p);
                            }
                        }
                        Err(e) => out.warnings.push(format!("/{path}: record {}: {e}", i + 1)),
                    }
                }
            }
            Err(e) => out.warnings.push(format!("/{path}: {e}")),
        }
    }
}

/// The reader for a database's bytes, told by its content as go-rpmdb
/// does: SQLite, else ndb, else Berkeley DB.
pub fn reader_for(db: &[u8]) -> DatabaseReader {
    if db.starts_with(b"SQLite format 3\0") {
        sqlite_values
    } else if db.starts_with(NDB_MAGIC) {
        ndb_values
    } else {
        values
    }
}

/// Every header blob of a database of any of the three kinds.
pub fn database_values(db: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    reader_for(db)(db)
}

/// Whether a database value is a package header: record 0 of a Berkeley
/// DB holds rpm's 4-byte instance counter instead.
pub fn is_header(blob: &[u8]) -> bool {
    blob.len() > 8
}

/// How long SQLite may work on one database from an image.
pub const SQLITE_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Opens an SQLite database that came out of an image, which is hostile
/// until proven otherwise: defensive mode (no writes to the schema tables
/// by SQL), nothing in its schema trusted (views and triggers cannot call
/// functions with side effects), and every statement interrupted once
/// `limit` has passed since opening (a view or trigger can loop).
pub fn open_untrusted_sqlite(
    path: &str,
    flags: rusqlite::OpenFlags,
    limit: std::time::Duration,
) -> Result<rusqlite::Connection, String> {
    use rusqlite::config::DbConfig;
    let error = |e: rusqlite::Error| format!("sqlite: {e}");
    let mut conn = rusqlite::Connection::open_with_flags(path, flags).map_err(error)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)
        .map_err(error)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)
        .map_err(error)?;
    let deadline = std::time::Instant::now() + limit;
    conn.progress_handler(10_000, Some(move || std::time::Instant::now() > deadline))
        .map_err(error)?;
    Ok(conn)
}

/// rpm's `Packages` must be a table: a view could compute anything.
pub fn require_packages_table(conn: &rusqlite::Connection) -> Result<(), String> {
    let kind: Option<String> = conn
        .query_row(
            "SELECT type FROM sqlite_master WHERE name = 'Packages'",
            [],
            |row| row.get(0),
        )
        .ok();
    match kind.as_deref() {
        Some("table") => Ok(()),
        Some(other) => Err(format!("Packages is a {other}, not a table")),
        None => Err("no Packages table".to_string()),
    }
}

/// Every header blob in an `rpmdb.sqlite` (table `Packages`, column
/// `blob`). SQLite needs a file: the bytes go to a private temporary one,
/// opened read-only.
pub fn sqlite_values(db: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    use rusqlite::OpenFlags;
    let mut file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    std::io::Write::write_all(&mut file, db).map_err(|e| e.to_string())?;
    // `immutable=1`: nothing else touches this copy, so SQLite needs no
    // locks and no `-shm`/`-wal` files (rpm keeps its database in WAL mode,
    // which a plain read-only open cannot read without them).
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let uri = format!("file:{}?immutable=1", file.path().display());
    let conn = open_untrusted_sqlite(&uri, flags, SQLITE_TIME_LIMIT)?;
    require_packages_table(&conn)?;
    let mut statement = conn
        .prepare("SELECT blob FROM Packages")
        .map_err(|e| format!("sqlite: {e}"))?;
    let rows = statement
        .query_map([], |row| row.get::<_, Vec<u8>>(0))
        .map_err(|e| format!("sqlite: {e}"))?;
    rows.map(|r| r.map_err(|e| format!("sqlite: {e}")))
        .collect()
}

fn u16_at(b: &[u8], at: usize, le: bool) -> Option<u16> {
    let s: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
    Some(if le {
        u16::from_le_bytes(s)
    } else {
        u16::from_be_bytes(s)
    })
}

fn u32_at(b: &[u8], at: usize, le: bool) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(if le {
        u32::from_le_bytes(s)
    } else {
        u32::from_be_bytes(s)
    })
}

/// Every value stored in a Berkeley DB hash database.
///
/// Work and memory stay linear in the database's size whatever it claims:
/// in a real database every byte belongs to at most one value, so values
/// that add up to more bytes than the file holds (items overlapping on a
/// page) are refused, and so is an overflow page reached twice (one chain
/// shared by many values, or a chain that loops). Without that, a file of
/// N bytes whose items all point at one long chain would assemble about
/// N²/12 bytes.
pub fn values(db: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let le = match (u32_at(db, 12, true), u32_at(db, 12, false)) {
        (Some(HASH_MAGIC), _) => true,
        (_, Some(HASH_MAGIC)) => false,
        _ => return Err("not a Berkeley DB hash database".into()),
    };
    let page_size = u32_at(db, 20, le).ok_or("truncated metadata page")? as usize;
    if !(512..=65_536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!("bad page size {page_size}"));
    }
    let pages = db.len() / page_size;
    let mut assembly = Assembly {
        claimed: vec![false; pages],
        left: db.len(),
    };
    let mut found = Vec::new();
    for n in 1..pages {
        let p = page_at(db, page_size, n).ok_or("truncated page")?;
        if p[25] != PAGE_HASH && p[25] != PAGE_HASH_UNSORTED {
            continue;
        }
        let entries = u16_at(p, 20, le).ok_or("bad page")? as usize;
        // Items are key, value, key, value…; values are the odd ones.
        for i in (1..entries).step_by(2) {
            let offset = u16_at(p, PAGE_HEADER + 2 * i, le).ok_or("bad item index")? as usize;
            let end = u16_at(p, PAGE_HEADER + 2 * (i - 1), le).ok_or("bad item index")? as usize;
            let item = p
                .get(offset..end.max(offset))
                .ok_or("item outside its page")?;
            match item.first() {
                Some(&ITEM_KEYDATA) => {
                    assembly.take(item.len() - 1)?;
                    found.push(item[1..].to_vec());
                }
                Some(&ITEM_OFFPAGE) => {
                    let start = u32_at(item, 4, le).ok_or("bad overflow item")? as usize;
                    let total = u32_at(item, 8, le).ok_or("bad overflow item")? as usize;
                    found.push(overflow(db, page_size, start, total, le, &mut assembly)?);
                }
                _ => {}
            }
        }
    }
    Ok(found)
}

/// Page `n` of the database, if the file holds all of it.
fn page_at(db: &[u8], page_size: usize, n: usize) -> Option<&[u8]> {
    let start = n.checked_mul(page_size)?;
    db.get(start..start.checked_add(page_size)?)
}

/// What assembling values has used up so far.
struct Assembly {
    /// Overflow pages already part of a value.
    claimed: Vec<bool>,
    /// Bytes the values may still add up to (the file's size at first).
    left: usize,
}

impl Assembly {
    fn take(&mut self, bytes: usize) -> Result<(), String> {
        self.left = self.left.checked_sub(bytes).ok_or(
            "values add up to more bytes than the database holds (overlapping items): refused",
        )?;
        Ok(())
    }

    fn claim(&mut self, page: usize) -> Result<(), String> {
        match self.claimed.get_mut(page) {
            Some(seen) if *seen => Err(format!(
                "overflow page {page} is reached twice (a shared or looping chain): refused"
            )),
            Some(seen) => {
                *seen = true;
                Ok(())
            }
            None => Err(format!("overflow page {page} outside the file")),
        }
    }
}

fn overflow(
    db: &[u8],
    page_size: usize,
    mut n: usize,
    total: usize,
    le: bool,
    assembly: &mut Assembly,
) -> Result<Vec<u8>, String> {
    if total > MAX_HEADER {
        return Err(format!("value of {total} bytes is too large"));
    }
    let mut out = Vec::with_capacity(total.min(assembly.left));
    while n != 0 && out.len() < total {
        assembly.claim(n)?;
        let p = page_at(db, page_size, n).ok_or("overflow page outside the file")?;
        if p[25] != PAGE_OVERFLOW {
            return Err(format!("page {n} is not an overflow page"));
        }
        let used = u16_at(p, 22, le).ok_or("bad overflow page")? as usize;
        let data = p
            .get(PAGE_HEADER..PAGE_HEADER + used)
            .ok_or("overflow data outside its page")?;
        assembly.take(data.len())?;
        out.extend_from_slice(data);
        n = u32_at(p, 16, le).ok_or("bad overflow page")? as usize;
    }
    if out.len() < total {
        return Err("overflow chain ends early".into());
    }
    out.truncate(total);
    Ok(out)
}

/// The fields of an rpm header that pare uses.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub version: String,
    pub release: String,
    pub epoch: Option<u32>,
    pub arch: String,
    pub license: String,
    pub source_rpm: String,
    pub files: Vec<String>,
}

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_LICENSE: u32 = 1014;
const TAG_ARCH: u32 = 1022;
const TAG_SOURCERPM: u32 = 1044;
const TAG_DIRINDEXES: u32 = 1116;
const TAG_BASENAMES: u32 = 1117;
const TAG_DIRNAMES: u32 = 1118;

/// rpm refuses headers with more index entries than this (`hdrchkTags`).
const MAX_TAGS: usize = 0x1_0000;

/// Parses an rpm header blob (index entries, then the data store).
///
/// Only the first entry of each tag is read: a tag repeated in every
/// index entry would otherwise re-read the whole store each time, work
/// quadratic in the header's size.
pub fn parse_header(blob: &[u8]) -> Result<Header, String> {
    let count = u32_at(blob, 0, false).ok_or("truncated header")? as usize;
    if count > MAX_TAGS {
        return Err(format!(
            "{count} index entries, over rpm's own limit of {MAX_TAGS}"
        ));
    }
    let store_len = u32_at(blob, 4, false).ok_or("truncated header")? as usize;
    let store_at = 8usize
        .checked_add(count.checked_mul(16).ok_or("bad index count")?)
        .ok_or("bad index count")?;
    let store = blob
        .get(store_at..store_at.checked_add(store_len).ok_or("bad store size")?)
        .ok_or("header shorter than its index says")?;
    let mut h = Header::default();
    let mut dir_indexes = Vec::new();
    let mut basenames = Vec::new();
    let mut dirnames = Vec::new();
    let mut read = std::collections::HashSet::new();
    for i in 0..count {
        let at = 8 + 16 * i;
        let tag = u32_at(blob, at, false).ok_or("bad index")?;
        if !read.insert(tag) {
            continue;
        }
        let kind = u32_at(blob, at + 4, false).ok_or("bad index")?;
        let offset = u32_at(blob, at + 8, false).ok_or("bad index")? as usize;
        let n = u32_at(blob, at + 12, false).ok_or("bad index")? as usize;
        let strings = || strings_at(store, offset, n);
        match (tag, kind) {
            (TAG_NAME, 6 | 9) => h.name = strings()?.swap_remove(0),
            (TAG_VERSION, 6 | 9) => h.version = strings()?.swap_remove(0),
            (TAG_RELEASE, 6 | 9) => h.release = strings()?.swap_remove(0),
            (TAG_ARCH, 6 | 9) => h.arch = strings()?.swap_remove(0),
            (TAG_LICENSE, 6 | 9) => h.license = strings()?.swap_remove(0),
            (TAG_SOURCERPM, 6 | 9) => h.source_rpm = strings()?.swap_remove(0),
            (TAG_EPOCH, 4) => h.epoch = u32_at(store, offset, false),
            (TAG_BASENAMES, 8) => basenames = strings()?,
            (TAG_DIRNAMES, 8) => dirnames = strings()?,
            (TAG_DIRINDEXES, 4) => {
                dir_indexes = (0..n)
                    .map(|k| u32_at(store, offset + 4 * k, false).map(|v| v as usize))
                    .collect::<Option<Vec<_>>>()
                    .ok_or("dirindexes outside the header")?;
            }
            _ => {}
        }
    }
    h.files = basenames
        .iter()
        .zip(&dir_indexes)
        .filter_map(|(base, dir)| dirnames.get(*dir).map(|d| format!("{d}{base}")))
        .collect();
    if h.name.is_empty() {
        return Err("header without a name".into());
    }
    // rpm writes `(none)` where a header has no source rpm or licence (an
    // imported key's `gpg-pubkey` entry); go-rpmdb, so Syft, reads none.
    for field in [&mut h.source_rpm, &mut h.license] {
        if field == "(none)" {
            field.clear();
        }
    }
    Ok(h)
}

/// `n` NUL-terminated strings starting at `offset`.
fn strings_at(store: &[u8], mut offset: usize, n: usize) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(n.min(65_536));
    for _ in 0..n.max(1) {
        let rest = store.get(offset..).ok_or("string outside the header")?;
        let len = rest
            .iter()
            .position(|b| *b == 0)
            .ok_or("unterminated string")?;
        out.push(String::from_utf8_lossy(&rest[..len]).into_owned());
        offset += len + 1;
    }
    Ok(out)
}

impl Header {
    /// A package, listed in an SBOM and carried by minify: every header
    /// with a name. The `gpg-pubkey` entries of imported signing keys are
    /// packages too, as `rpm -qa` and Syft 1.18 list them (they own no
    /// files, so minify's reduced databases drop them).
    pub fn is_package(&self) -> bool {
        !self.name.is_empty()
    }

    fn into_package(self, path: &str, distro: Option<&Distro>) -> Option<Package> {
        if !self.is_package() {
            return None;
        }
        let version = match self.epoch {
            Some(e) => format!("{e}:{}-{}", self.version, self.release),
            None => format!("{}-{}", self.version, self.release),
        };
        let purl = package_url(
            &self.name,
            &self.version,
            &self.release,
            self.epoch,
            &self.arch,
            &self.source_rpm,
            distro,
        );
        Some(Package {
            cpes: purl::cpes(&self.name, &version),
            name: self.name,
            version,
            kind: PackageType::Rpm,
            purl,
            licenses: if self.license.is_empty() {
                Vec::new()
            } else {
                vec![self.license]
            },
            source: (!self.source_rpm.is_empty()).then_some(self.source_rpm),
            source_version: None,
            architecture: Some(self.arch),
            files: self.files,
            found_at: format!("/{path}"),
            layer: None,
        })
    }
}

/// The PURL namespace of an rpm from a distribution with os-release `ID`
/// `id`, by Syft's rule: the ID as it is, except `rhel`, which is
/// `redhat` (what Red Hat's own advisories and every UBI image's PURLs
/// use); no distribution, no namespace.
pub fn namespace(distro: Option<&Distro>) -> &str {
    match distro.map(|d| d.id.as_str()) {
        Some("rhel") => "redhat",
        Some(id) => id,
        None => "",
    }
}

/// `pkg:rpm/NAMESPACE/NAME@VERSION-RELEASE?arch=…&epoch=…&upstream=…&distro=…`
/// as Syft writes it (the epoch is a qualifier, not part of the version).
fn package_url(
    name: &str,
    version: &str,
    release: &str,
    epoch: Option<u32>,
    arch: &str,
    source_rpm: &str,
    distro: Option<&Distro>,
) -> String {
    purl::build(
        "rpm",
        Some(namespace(distro)),
        name,
        &format!("{version}-{release}"),
        &[
            ("arch", arch.to_string()),
            ("epoch", epoch.map(|e| e.to_string()).unwrap_or_default()),
            ("upstream", source_rpm.to_string()),
            ("distro", distro.map(Distro::qualifier).unwrap_or_default()),
        ],
    )
}

/// The packages of a CBL-Mariner `container-manifest-2` (`rpm -qa` with a
/// tab-separated query format: name, version-release, install time, build
/// time, vendor, epoch, size, arch, epoch number, source rpm), by Syft's
/// rules: only newline-terminated lines count, a line needs ten fields and
/// a version-release with exactly one `-`, the epoch is the epoch number
/// unless the epoch field is `(none)`, and no distribution is used for the
/// PURL (Syft passes none for this file). Bad lines become warnings.
pub fn manifest_packages(text: &str, path: &str, warnings: &mut Vec<String>) -> Vec<Package> {
    let mut packages = Vec::new();
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    for (n, line) in complete.split('\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let problem = |what: &str| format!("/{path}:{}: {what}; line skipped", n + 1);
        if fields.len() < 10 {
            warnings.push(problem("fewer than ten tab-separated fields"));
            continue;
        }
        let Some((version, release)) = fields[1]
            .split_once('-')
            .filter(|(_, release)| !release.contains('-'))
        else {
            warnings.push(problem("a version without exactly one '-'"));
            continue;
        };
        let name = fields[0];
        if name.is_empty() {
            continue;
        }
        let epoch = match fields[8].parse::<u32>() {
            Ok(e) if fields[5] != "(none)" => Some(e),
            _ => None,
        };
        let header = Header {
            name: name.to_string(),
            version: version.to_string(),
            release: release.to_string(),
            epoch,
            arch: fields[7].to_string(),
            license: String::new(),
            source_rpm: fields[9].to_string(),
            files: Vec::new(),
        };
        packages.extend(header.into_package(path, None));
    }
    packages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_follow_syft() {
        let distro = |id: &str| Distro {
            id: id.into(),
            version_id: Some("9.4".into()),
            ..Distro::default()
        };
        for (id, want) in [
            (
                Some("rhel"),
                "pkg:rpm/redhat/bash@5.1-1?arch=x86_64&distro=rhel-9.4",
            ),
            (
                Some("centos"),
                "pkg:rpm/centos/bash@5.1-1?arch=x86_64&distro=centos-9.4",
            ),
            (
                Some("sles"),
                "pkg:rpm/sles/bash@5.1-1?arch=x86_64&distro=sles-9.4",
            ),
            (
                Some("amzn"),
                "pkg:rpm/amzn/bash@5.1-1?arch=x86_64&distro=amzn-9.4",
            ),
            (None, "pkg:rpm/bash@5.1-1?arch=x86_64"),
        ] {
            let d = id.map(distro);
            assert_eq!(
                package_url("bash", "5.1", "1", None, "x86_64", "", d.as_ref()),
                want
            );
        }
    }

    #[test]
    fn databases_and_manifests_are_found_by_syfts_globs() {
        for (path, want) in [
            ("var/lib/rpm/Packages", true),
            ("var/lib/rpm/Packages.db", true),
            ("var/lib/rpm/rpmdb.sqlite", true),
            ("usr/share/rpm/Packages", true),
            ("usr/lib/sysimage/rpm/Packages.db", true),
            ("chroot/var/lib/rpm/rpmdb.sqlite", true),
            ("var/lib/rpm/Packages.old", false),
            ("var/lib/rpm/Name", false),
            ("myvar/lib/rpm/Packages", false),
            ("lib/rpm/Packages", false),
            ("var/lib/rpmmanifest/container-manifest-2", true),
            ("x/var/lib/rpmmanifest/container-manifest-2", true),
            ("var/lib/rpmmanifest/container-manifest-1", false),
        ] {
            assert_eq!(wants(path), want, "{path}");
        }
    }

    #[test]
    fn manifest_lines_follow_syfts_rules() {
        let text = "glibc\t2.35-2.cm2\t1\t2\tMS\t(none)\t10\tx86_64\t0\tglibc-2.35-2.cm2.src.rpm\n\
                    epo\t1.0-1\t1\t2\tMS\t3\t10\tnoarch\t3\tepo-1.0-1.src.rpm\n\
                    short\t1.0-1\n\
                    dashes\t1.0-1-2\t1\t2\tMS\t(none)\t10\tx86_64\t0\ts.src.rpm\n\
                    \n\
                    unterminated\t1.0-1\t1\t2\tMS\t(none)\t10\tx86_64\t0\tu.src.rpm";
        let mut warnings = Vec::new();
        let got: Vec<(String, String, String)> = manifest_packages(text, MANIFEST, &mut warnings)
            .into_iter()
            .map(|p| (p.name, p.version, p.purl))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "glibc".to_string(),
                    "2.35-2.cm2".to_string(),
                    "pkg:rpm/glibc@2.35-2.cm2?arch=x86_64&upstream=glibc-2.35-2.cm2.src.rpm"
                        .to_string()
                ),
                (
                    "epo".to_string(),
                    "3:1.0-1".to_string(),
                    "pkg:rpm/epo@1.0-1?arch=noarch&epoch=3&upstream=epo-1.0-1.src.rpm".to_string()
                ),
            ]
        );
        assert_eq!(warnings.len(), 2, "{warnings:?}");
    }

    #[test]
    fn the_format_is_told_by_content() {
        let reader = |b: &[u8]| reader_for(b) as usize;
        assert_eq!(
            reader(b"SQLite format 3\0rest"),
            sqlite_values as DatabaseReader as usize
        );
        assert_eq!(
            reader(b"RpmP\0\0\0\0"),
            ndb_values as DatabaseReader as usize
        );
        assert_eq!(reader(b"\0\0\0\0"), values as DatabaseReader as usize);
    }

    #[test]
    fn a_query_that_never_ends_is_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loop.sqlite");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB);")
            .unwrap();
        drop(conn);
        let conn = open_untrusted_sqlite(
            &path.display().to_string(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            std::time::Duration::from_millis(200),
        )
        .unwrap();
        let started = std::time::Instant::now();
        let endless = conn.query_row(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n",
            [],
            |r| r.get::<_, i64>(0),
        );
        assert!(endless.is_err());
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
