//! [`super::Store::import`]: reading sources into one transaction.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::detect::{SourceKind, classify};
use super::{SourceProblem, Store, StoreError, ecosystem_base};
use crate::debian::{self, dump};
use crate::osv;

/// Largest zip archive read (osv.dev's largest ecosystem export is a few
/// hundred MiB).
pub const MAX_ZIP_BYTES: u64 = 4 << 30;
/// Most members a zip archive may have (osv.dev's largest export has tens
/// of thousands).
pub const MAX_ZIP_MEMBERS: usize = 100_000;
/// Largest uncompressed member: the OSV record bound.
pub const MAX_ZIP_MEMBER_BYTES: u64 = osv::MAX_RECORD_BYTES as u64;
/// Most uncompressed bytes read from one archive, against members that each
/// stay under the member bound but add up to a zip bomb.
pub const MAX_ZIP_TOTAL_BYTES: u64 = 8 << 30;
/// Most packages the tracker dump may list one issue under. The dump repeats
/// an issue under each package it affects; real issues name a few dozen at
/// most, and each package's lines end up in the one stored entry that every
/// lookup of those packages parses, so a dump beyond this is refused rather
/// than stored.
pub const MAX_DUMP_PACKAGES_PER_ISSUE: usize = 5_000;
/// Most record files one folder source may hold.
pub const MAX_FOLDER_FILES: usize = 1_000_000;
const MAX_FOLDER_DEPTH: usize = 64;
/// Bytes [`classify`] looks at.
const PREFIX_BYTES: usize = 4096;

/// What one [`super::Store::import`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub sources: Vec<SourceSummary>,
    /// OSV records written (a record seen twice counts twice).
    pub osv_records: u64,
    /// Tracker CVE/TEMP entries written (the dump's issues once each).
    pub debian_cves: u64,
    /// Tracker DSA/DLA entries written.
    pub debian_advisories: u64,
}

/// One source of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceSummary {
    /// The absolute path, as the `sources` table keys it.
    pub location: String,
    pub kind: String,
    pub records: u64,
    pub sha256: String,
}

/// What [`walk_zip`] calls for each member.
type OnMember<'a> = dyn FnMut(&str, &[u8]) -> Result<(), Fail> + 'a;

/// An import failure before the file it concerns is known.
enum Fail {
    Sql(rusqlite::Error),
    Problem {
        member: Option<String>,
        problem: SourceProblem,
    },
}

impl From<rusqlite::Error> for Fail {
    fn from(e: rusqlite::Error) -> Self {
        Fail::Sql(e)
    }
}

impl<T: Into<SourceProblem>> From<T> for Fail {
    fn from(p: T) -> Self {
        Fail::Problem {
            member: None,
            problem: p.into(),
        }
    }
}

impl Fail {
    fn in_file(self, db: &Path, file: &Path) -> StoreError {
        match self {
            Fail::Sql(source) => StoreError::Sqlite {
                path: db.to_path_buf(),
                source,
            },
            Fail::Problem { member, problem } => StoreError::Source {
                location: file.to_path_buf(),
                member,
                problem,
            },
        }
    }

    fn in_member(self, member: &str) -> Fail {
        match self {
            Fail::Problem {
                member: None,
                problem,
            } => Fail::Problem {
                member: Some(member.to_owned()),
                problem,
            },
            other => other,
        }
    }
}

pub(super) fn import(store: &mut Store, sources: &[PathBuf]) -> Result<ImportSummary, StoreError> {
    let db = store.path.clone();
    let sql = |source| StoreError::Sqlite {
        path: db.clone(),
        source,
    };
    // Dropped without commit on every early return: rolled back.
    let tx = store.conn.transaction().map_err(sql)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let mut summary = ImportSummary::default();
    for source in sources {
        let absolute = std::path::absolute(source).map_err(|e| StoreError::Source {
            location: source.clone(),
            member: None,
            problem: e.into(),
        })?;
        let location = absolute.to_string_lossy().into_owned();
        let mut w = Writer {
            tx: &tx,
            location,
            records: 0,
            osv: 0,
            cves: 0,
            advisories: 0,
            dump_seen: HashMap::new(),
        };
        w.clear().map_err(sql)?;
        let meta = std::fs::metadata(&absolute).map_err(|e| StoreError::Source {
            location: absolute.clone(),
            member: None,
            problem: e.into(),
        })?;
        let (kind, sha256) = if meta.is_dir() {
            (SourceKind::Folder, import_folder(&mut w, &absolute, &db)?)
        } else {
            import_file(&mut w, &absolute).map_err(|f| f.in_file(&db, &absolute))?
        };
        let sha256 = hex::encode(sha256);
        tx.prepare_cached(
            "INSERT OR REPLACE INTO sources (location, kind, sha256, records, imported_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut s| {
            s.execute(params![
                w.location,
                kind.as_str(),
                sha256,
                i64::try_from(w.records).unwrap_or(i64::MAX),
                now
            ])
        })
        .map_err(sql)?;
        summary.osv_records += w.osv;
        summary.debian_cves += w.cves;
        summary.debian_advisories += w.advisories;
        summary.sources.push(SourceSummary {
            location: w.location.clone(),
            kind: kind.as_str().to_owned(),
            records: w.records,
            sha256,
        });
    }
    tx.commit().map_err(sql)?;
    Ok(summary)
}

/// Writes one source's records.
struct Writer<'t> {
    tx: &'t Transaction<'t>,
    location: String,
    records: u64,
    osv: u64,
    cves: u64,
    advisories: u64,
    /// Issues of the tracker dump already written by this source, with the
    /// number of packages seen listing each: the dump lists an issue under
    /// each package, and later ones are merged in by [`Writer::finish_dump`].
    dump_seen: HashMap<String, usize>,
}

impl Writer<'_> {
    /// Removes the records the source gave last time, so that the database
    /// mirrors it after the import.
    fn clear(&self) -> rusqlite::Result<()> {
        for sql in [
            "DELETE FROM osv_package WHERE id IN (SELECT id FROM osv WHERE source = ?1)",
            "DELETE FROM osv WHERE source = ?1",
            "DELETE FROM debian_package WHERE cve IN \
             (SELECT id FROM debian_entry WHERE source = ?1 AND kind = 'cve')",
            "DELETE FROM debian_xref WHERE advisory_id IN \
             (SELECT id FROM debian_entry WHERE source = ?1 AND kind = 'advisory')",
            "DELETE FROM debian_entry WHERE source = ?1",
        ] {
            self.tx.prepare_cached(sql)?.execute([&self.location])?;
        }
        Ok(())
    }

    fn put_osv(&mut self, a: &osv::Advisory) -> Result<(), Fail> {
        if a.id.trim().is_empty() {
            return Err(SourceProblem::Invalid("OSV record with an empty id".into()).into());
        }
        let json = serde_json::to_string(a)
            .map_err(|e| SourceProblem::Invalid(format!("{}: {e}", a.id)))?;
        let tx = self.tx;
        tx.prepare_cached("DELETE FROM osv_package WHERE id = ?1")?
            .execute([&a.id])?;
        tx.prepare_cached("INSERT OR REPLACE INTO osv (id, source, json) VALUES (?1, ?2, ?3)")?
            .execute(params![a.id, self.location, json])?;
        let mut index = tx.prepare_cached(
            "INSERT OR IGNORE INTO osv_package (ecosystem_base, name_normalised, id) \
             VALUES (?1, ?2, ?3)",
        )?;
        for package in a.affected.iter().filter_map(|x| x.package.as_ref()) {
            index.execute(params![
                ecosystem_base(&package.ecosystem),
                osv::normalize_name(&package.ecosystem, &package.name),
                a.id
            ])?;
        }
        self.records += 1;
        self.osv += 1;
        Ok(())
    }

    fn put_debian(&mut self, entry: &debian::Entry) -> Result<(), Fail> {
        let id = &entry.header.id;
        let is_cve = id.starts_with("CVE-") || id.starts_with("TEMP-");
        if !(is_cve || id.starts_with("DSA-") || id.starts_with("DLA-")) {
            return Err(SourceProblem::Invalid(format!("tracker entry with ID {id:?}")).into());
        }
        let json = serde_json::to_string(entry)
            .map_err(|e| SourceProblem::Invalid(format!("{id}: {e}")))?;
        let tx = self.tx;
        let (kind, delete) = if is_cve {
            ("cve", "DELETE FROM debian_package WHERE cve = ?1")
        } else {
            ("advisory", "DELETE FROM debian_xref WHERE advisory_id = ?1")
        };
        tx.prepare_cached(delete)?.execute([id])?;
        tx.prepare_cached(
            "INSERT OR REPLACE INTO debian_entry (id, kind, source, json) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![id, kind, self.location, json])?;
        self.index_debian(entry, is_cve)?;
        self.records += 1;
        if is_cve {
            self.cves += 1;
        } else {
            self.advisories += 1;
        }
        Ok(())
    }

    fn index_debian(&self, entry: &debian::Entry, is_cve: bool) -> rusqlite::Result<()> {
        let id = &entry.header.id;
        if is_cve {
            let mut s = self.tx.prepare_cached(
                "INSERT OR IGNORE INTO debian_package (source_package, cve) VALUES (?1, ?2)",
            )?;
            for package in entry.packages() {
                s.execute(params![package, id])?;
            }
        } else {
            let mut s = self.tx.prepare_cached(
                "INSERT OR IGNORE INTO debian_xref (cve, advisory_id) VALUES (?1, ?2)",
            )?;
            for cve in entry.xrefs() {
                s.execute(params![cve, id])?;
            }
        }
        Ok(())
    }

    /// One (package, issue) of the tracker dump. The first package of an
    /// issue is written as its entry; later ones are indexed at once and
    /// their lines set aside in a temporary table, to be appended in one
    /// pass by [`Writer::finish_dump`]. (Merging each into the stored entry
    /// as it came re-read and re-wrote the growing entry once per package:
    /// quadratic, minutes for one issue listed under 20,000 packages.)
    fn put_dump_part(&mut self, part: debian::Entry) -> Result<(), Fail> {
        let id = &part.header.id;
        let seen = self.dump_seen.entry(id.clone()).or_insert(0);
        *seen += 1;
        if *seen > MAX_DUMP_PACKAGES_PER_ISSUE {
            return Err(SourceProblem::TooManyPackages {
                issue: id.clone(),
                max: MAX_DUMP_PACKAGES_PER_ISSUE,
            }
            .into());
        }
        if *seen == 1 {
            return self.put_debian(&part);
        }
        self.index_debian(&part, true)?;
        let json = serde_json::to_string(&part)
            .map_err(|e| SourceProblem::Invalid(format!("{id}: {e}")))?;
        self.tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS dump_part \
             (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, json TEXT NOT NULL); \
             CREATE INDEX IF NOT EXISTS temp.dump_part_id ON dump_part (id, seq);",
        )?;
        self.tx
            .prepare_cached("INSERT INTO temp.dump_part (id, json) VALUES (?1, ?2)")?
            .execute(params![id, json])?;
        Ok(())
    }

    /// Appends the set-aside packages of each issue to its stored entry, in
    /// the dump's order: each entry is read and written once.
    fn finish_dump(&mut self) -> Result<(), Fail> {
        if !self.dump_seen.values().any(|&n| n > 1) {
            return Ok(());
        }
        let tx = self.tx;
        let mut parts = tx.prepare("SELECT id, json FROM temp.dump_part ORDER BY id, seq")?;
        let mut rows = parts.query([])?;
        let mut current: Option<debian::Entry> = None;
        let write = |entry: debian::Entry| -> Result<(), Fail> {
            let id = &entry.header.id;
            let json = serde_json::to_string(&entry)
                .map_err(|e| SourceProblem::Invalid(format!("{id}: {e}")))?;
            tx.prepare_cached("UPDATE debian_entry SET json = ?2 WHERE id = ?1")?
                .execute(params![id, json])?;
            Ok(())
        };
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            let json: String = row.get(1)?;
            let part: debian::Entry = serde_json::from_str(&json)
                .map_err(|e| SourceProblem::Invalid(format!("{id}: {e}")))?;
            if current.as_ref().is_some_and(|e| e.header.id != id) {
                write(current.take().expect("checked"))?;
            }
            let entry = match &mut current {
                Some(entry) => entry,
                None => current.insert(self.stored_entry(&id)?),
            };
            dump::merge(entry, part);
        }
        if let Some(entry) = current {
            write(entry)?;
        }
        drop(rows);
        drop(parts);
        tx.execute("DELETE FROM temp.dump_part", [])?;
        Ok(())
    }

    fn stored_entry(&self, id: &str) -> Result<debian::Entry, Fail> {
        let stored: Option<String> = self
            .tx
            .prepare_cached("SELECT json FROM debian_entry WHERE id = ?1")?
            .query_row([id], |row| row.get(0))
            .optional()?;
        let stored = stored.ok_or_else(|| {
            SourceProblem::Invalid(format!("{id}: merged issue missing from the database"))
        })?;
        Ok(serde_json::from_str(&stored)
            .map_err(|e| SourceProblem::Invalid(format!("{id}: {e}")))?)
    }

    /// One record file's bytes (a file, or a zip member).
    fn put_record(&mut self, bytes: &[u8], kind: SourceKind) -> Result<(), Fail> {
        match kind {
            SourceKind::OsvJson => self.put_osv(&osv::parse(bytes, osv::Format::Json)?),
            SourceKind::OsvYaml => self.put_osv(&osv::parse(bytes, osv::Format::Yaml)?),
            SourceKind::TrackerRecord => {
                let entry = match debian::parse_cve(bytes) {
                    Err(debian::ParseError::WrongKind { .. }) => debian::parse_dsa(bytes)?,
                    other => other?,
                };
                self.put_debian(&entry)
            }
            SourceKind::OsvZip | SourceKind::TrackerDump | SourceKind::Folder => {
                Err(SourceProblem::Unknown(format!("a {} inside an archive", kind.as_str())).into())
            }
        }
    }
}

/// Reads up to `n` bytes (fewer only at the end of the file).
fn read_prefix(f: &mut File, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    f.by_ref().take(n as u64).read_to_end(&mut buf)?;
    f.rewind()?;
    Ok(buf)
}

fn too_large(what: &'static str, max: u64) -> Fail {
    SourceProblem::TooLarge { what, max }.into()
}

/// Imports one file; returns its kind and the SHA-256 of its bytes.
fn import_file(w: &mut Writer<'_>, file: &Path) -> Result<(SourceKind, [u8; 32]), Fail> {
    let mut f = File::open(file)?;
    let len = f.metadata()?.len();
    let prefix = read_prefix(&mut f, PREFIX_BYTES)?;
    let kind = classify(&prefix).unwrap_or(SourceKind::OsvYaml);
    let sha = match kind {
        SourceKind::OsvZip => {
            if len > MAX_ZIP_BYTES {
                return Err(too_large("zip archive", MAX_ZIP_BYTES));
            }
            let sha = sha256_of(&mut f)?;
            f.rewind()?;
            walk_zip(f, &mut |name, bytes| match member_kind(name, bytes) {
                Some(kind) => w.put_record(bytes, kind),
                None => Ok(()),
            })?;
            sha
        }
        SourceKind::TrackerDump => {
            if len > dump::MAX_DUMP_BYTES {
                return Err(too_large("tracker JSON dump", dump::MAX_DUMP_BYTES));
            }
            let mut reader = Hashing {
                inner: BufReader::with_capacity(1 << 16, f),
                hasher: Sha256::new(),
                read: 0,
                max: dump::MAX_DUMP_BYTES,
            };
            dump::read(&mut reader, &mut |part| {
                w.put_dump_part(part).map_err(|f| match f {
                    Fail::Sql(e) => Box::new(e) as Box<dyn std::error::Error + Send + Sync>,
                    Fail::Problem { problem, .. } => Box::new(problem),
                })
            })?;
            w.finish_dump()?;
            reader.hasher.finalize().into()
        }
        SourceKind::OsvJson | SourceKind::OsvYaml | SourceKind::TrackerRecord => {
            let max = osv::MAX_RECORD_BYTES as u64;
            if len > max {
                return Err(too_large("record file", max));
            }
            let mut bytes = Vec::with_capacity(len as usize);
            f.take(max + 1).read_to_end(&mut bytes)?;
            if bytes.len() as u64 > max {
                return Err(too_large("record file", max));
            }
            w.put_record(&bytes, kind)?;
            Sha256::digest(&bytes).into()
        }
        SourceKind::Folder => unreachable_kind()?,
    };
    Ok((kind, sha))
}

fn unreachable_kind() -> Result<[u8; 32], Fail> {
    Err(SourceProblem::Unknown("a folder where a file was expected".into()).into())
}

/// The kind of a zip member, `None` for members that are not records (read
/// for their CRC, then skipped).
fn member_kind(name: &str, bytes: &[u8]) -> Option<SourceKind> {
    let lower = name.to_ascii_lowercase();
    let yaml = lower.ends_with(".yaml") || lower.ends_with(".yml");
    if !(yaml || lower.ends_with(".json")) {
        return None;
    }
    Some(classify(bytes).unwrap_or(SourceKind::OsvYaml))
}

/// Reads every member of a zip archive to its end (so the zip crate checks
/// its CRC-32), within the member, size and path bounds, giving each file
/// member's name and bytes to `f`. Errors carry the member's name.
fn walk_zip(file: File, f: &mut OnMember<'_>) -> Result<(), Fail> {
    let mut zip = zip::ZipArchive::new(BufReader::new(file))?;
    if zip.len() > MAX_ZIP_MEMBERS {
        return Err(SourceProblem::TooManyMembers {
            count: zip.len(),
            max: MAX_ZIP_MEMBERS,
        }
        .into());
    }
    let mut total = 0u64;
    let mut buf = Vec::new();
    for i in 0..zip.len() {
        let mut member = zip.by_index(i)?;
        let name = member
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("#{i}"));
        let at = |fail: Fail| fail.in_member(&name);
        if !safe_member_path(&name) || member.enclosed_name().is_none() {
            return Err(at(SourceProblem::UnsafeMemberPath.into()));
        }
        if member.is_dir() {
            continue;
        }
        if member.size() > MAX_ZIP_MEMBER_BYTES {
            return Err(at(too_large("zip member", MAX_ZIP_MEMBER_BYTES)));
        }
        buf.clear();
        (&mut member)
            .take(MAX_ZIP_MEMBER_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| at(e.into()))?;
        if buf.len() as u64 > MAX_ZIP_MEMBER_BYTES {
            return Err(at(too_large("zip member", MAX_ZIP_MEMBER_BYTES)));
        }
        total += buf.len() as u64;
        if total > MAX_ZIP_TOTAL_BYTES {
            return Err(at(too_large("zip archive's content", MAX_ZIP_TOTAL_BYTES)));
        }
        drop(member);
        f(&name, &buf).map_err(at)?;
    }
    Ok(())
}

/// Relative, without `..`, drive letters or NUL: the names osv.dev writes
/// (`PYSEC-2021-108.json`) and nothing that could mean another place.
fn safe_member_path(name: &str) -> bool {
    !name.is_empty()
        && !name.contains('\0')
        && !name.starts_with('/')
        && !name.starts_with('\\')
        && name.as_bytes().get(1).is_none_or(|&c| c != b':')
        && !name.split(['/', '\\']).any(|c| c == "..")
}

/// Checks that `path` is a zip archive whose members are all within the
/// bounds and pass their CRC check, without importing anything (`pare db
/// update` verifies a download before it replaces the cached copy).
pub fn verify_zip(path: &Path) -> Result<(), StoreError> {
    let db = Path::new("");
    let file = File::open(path).map_err(|e| Fail::from(e).in_file(db, path))?;
    walk_zip(file, &mut |_, _| Ok(())).map_err(|f| f.in_file(db, path))
}

fn sha256_of(f: &mut File) -> io::Result<[u8; 32]> {
    let mut hasher = Sha256::new();
    io::copy(&mut BufReader::with_capacity(1 << 16, f), &mut hasher)?;
    Ok(hasher.finalize().into())
}

/// Hashes what it reads, and refuses to read past `max` bytes.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    read: u64,
    max: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.max {
            return Err(io::Error::other(format!(
                "input is larger than the {}-byte limit",
                self.max
            )));
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Imports a folder's record files in path order; returns the SHA-256 of
/// each file's relative path and digest.
fn import_folder(w: &mut Writer<'_>, dir: &Path, db: &Path) -> Result<[u8; 32], StoreError> {
    let mut files = Vec::new();
    collect(dir, 0, &mut files).map_err(|b| {
        let (path, f) = *b;
        f.in_file(db, &path)
    })?;
    let mut hasher = Sha256::new();
    for file in files {
        let (_, sha) = import_file(w, &file).map_err(|f| f.in_file(db, &file))?;
        let relative = file.strip_prefix(dir).unwrap_or(&file);
        hasher.update(relative.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update(sha);
    }
    Ok(hasher.finalize().into())
}

/// Record files under `dir`, sorted, not following symbolic links, skipping
/// hidden entries and files of other extensions.
fn collect(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), Box<(PathBuf, Fail)>> {
    if depth > MAX_FOLDER_DEPTH {
        return Err(Box::new((
            dir.to_path_buf(),
            SourceProblem::Invalid(format!("folder nested deeper than {MAX_FOLDER_DEPTH}")).into(),
        )));
    }
    let at = |e: io::Error| Box::new((dir.to_path_buf(), Fail::from(e)));
    let mut entries = std::fs::read_dir(dir)
        .map_err(at)?
        .collect::<io::Result<Vec<_>>>()
        .map_err(at)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        // DirEntry::file_type does not follow symbolic links.
        let file_type = entry.file_type().map_err(at)?;
        let path = entry.path();
        if file_type.is_dir() {
            collect(&path, depth + 1, out)?;
        } else if file_type.is_file() && has_record_extension(&path) {
            if out.len() >= MAX_FOLDER_FILES {
                return Err(Box::new((
                    dir.to_path_buf(),
                    SourceProblem::TooManyFiles {
                        max: MAX_FOLDER_FILES,
                    }
                    .into(),
                )));
            }
            out.push(path);
        }
    }
    Ok(())
}

fn has_record_extension(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        matches!(
            e.to_ascii_lowercase().as_str(),
            "json" | "yaml" | "yml" | "zip"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_paths() {
        for (name, safe) in [
            ("PYSEC-2021-108.json", true),
            ("a/b.json", true),
            ("../x.json", false),
            ("a/../../x.json", false),
            ("a\\..\\x.json", false),
            ("/etc/passwd", false),
            ("C:x.json", false),
            ("", false),
            ("a\0b", false),
        ] {
            assert_eq!(safe_member_path(name), safe, "{name}");
        }
    }
}
