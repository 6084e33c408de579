//! RPM packages from the Berkeley DB `Packages` database (RHEL/CentOS ≤ 8,
//! Amazon Linux 2, older SUSE) and the sqlite `rpmdb.sqlite` (RHEL 9,
//! Fedora ≥ 33), read with SQLite itself through rusqlite.
//!
//! Hand-written because no maintained Rust crate reads either format: only
//! the small part of Berkeley DB's hash-database layout that rpm uses is
//! read (hash pages of key/value items, values that spill onto chains of
//! overflow pages), then each value is an rpm header blob whose tag index
//! gives name, version, release, epoch, arch, license, source rpm and the
//! file list. Every offset is bounds-checked: a corrupt database yields a
//! warning, not a panic.

use pare_image::Flattened;

use crate::model::{Catalog, Distro, Package, PackageType};
use crate::purl;
use crate::read::{layer_of, read_bytes};

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

pub const SQLITE_PATHS: [&str; 2] = [
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
];

pub fn wants(path: &str) -> bool {
    BDB_PATHS.contains(&path) || SQLITE_PATHS.contains(&path)
}

/// Reads every value (header blob) of one kind of rpm database.
type DatabaseReader = fn(&[u8]) -> Result<Vec<Vec<u8>>, String>;

pub fn catalog(flat: &Flattened, distro: Option<&Distro>, out: &mut Catalog) {
    let databases = BDB_PATHS
        .iter()
        .map(|p| (*p, values as DatabaseReader))
        .chain(
            SQLITE_PATHS
                .iter()
                .map(|p| (*p, sqlite_values as DatabaseReader)),
        );
    for (path, read_values) in databases {
        let Some(bytes) = read_bytes(flat, path, out) else {
            continue;
        };
        let layer = layer_of(flat, path);
        match read_values(&bytes) {
            Ok(blobs) => {
                for (i, blob) in blobs.iter().enumerate().filter(|(_, b)| is_header(b)) {
                    match parse_header(blob) {
                        Ok(header) => {
                            if let Some(mut p) = header.into_package(path, distro) {
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
    /// A package, listed in an SBOM and carried by minify: `gpg-pubkey`
    /// entries are keys, not software (Syft skips them too).
    pub fn is_package(&self) -> bool {
        self.name != "gpg-pubkey"
    }

    fn into_package(self, path: &str, distro: Option<&Distro>) -> Option<Package> {
        if !self.is_package() {
            return None;
        }
        let version = match self.epoch {
            Some(e) => format!("{e}:{}-{}", self.version, self.release),
            None => format!("{}-{}", self.version, self.release),
        };
        let purl = purl::build(
            "rpm",
            Some(distro.map_or("redhat", |d| d.id.as_str())),
            &self.name,
            &format!("{}-{}", self.version, self.release),
            &[
                ("arch", self.arch.clone()),
                (
                    "epoch",
                    self.epoch.map(|e| e.to_string()).unwrap_or_default(),
                ),
                ("upstream", self.source_rpm.clone()),
                ("distro", distro.map(Distro::qualifier).unwrap_or_default()),
            ],
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

#[cfg(test)]
mod tests {
    use super::*;

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
