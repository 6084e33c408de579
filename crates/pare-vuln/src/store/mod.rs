//! The advisory database: an SQLite file that `pare db import` and
//! `pare db update` fill and `pare scan` reads through [`Advisories`].
//!
//! Why SQLite: a scan looks up a few hundred packages among hundreds of
//! thousands of records; an index answers each in microseconds without
//! loading the records, and one transaction makes an import all-or-nothing
//! (a failed or interrupted import leaves the previous database exactly as
//! it was).
//!
//! Records are stored as JSON text keyed by ID:
//!
//! * OSV records as the canonical serialisation of [`osv::Advisory`] (the
//!   fields matching and reports use). YAML is converted through the typed
//!   record, not through an untyped value, because an unquoted YAML scalar
//!   loses its spelling untyped (`fixed: 1.10` would become the number 1.1);
//!   so a record's YAML and JSON forms store the same text.
//! * Debian tracker entries as [`debian::Entry`] JSON (the list rendering's
//!   key names), whichever input they came from ([`debian::dump`] converts
//!   the tracker's own JSON dump into entries).
//!
//! Index tables answer the three [`Advisories`] questions:
//! `osv_package(ecosystem_base, name_normalised, id)`,
//! `debian_package(source_package, cve)` and
//! `debian_xref(cve, advisory_id)`. Each record belongs to the source it was
//! last imported from; re-importing a source first removes that source's
//! records, so the database mirrors the source (records it dropped go too)
//! and importing the same source twice changes nothing.
//!
//! See [`Store::import`] for the inputs and their bounds.

mod detect;
mod import;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;

use crate::advisories::{Advisories, LookupError};
use crate::{debian, osv};

pub use detect::{SourceKind, is_zip};
pub use import::{
    ImportSummary, MAX_DUMP_PACKAGES_PER_ISSUE, MAX_FOLDER_FILES, MAX_ZIP_BYTES,
    MAX_ZIP_MEMBER_BYTES, MAX_ZIP_MEMBERS, MAX_ZIP_TOTAL_BYTES, SourceSummary, verify_zip,
};

/// The schema this code writes and reads. A database with a larger number
/// was written by a newer pare and is refused rather than misread.
pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources (
    location TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    records INTEGER NOT NULL,
    imported_at INTEGER NOT NULL
);
CREATE TABLE osv (id TEXT PRIMARY KEY, source TEXT NOT NULL, json TEXT NOT NULL);
CREATE INDEX osv_source ON osv (source);
CREATE TABLE osv_package (
    ecosystem_base TEXT NOT NULL,
    name_normalised TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (ecosystem_base, name_normalised, id)
) WITHOUT ROWID;
CREATE INDEX osv_package_id ON osv_package (id);
CREATE TABLE debian_entry (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('cve', 'advisory')),
    source TEXT NOT NULL,
    json TEXT NOT NULL
);
CREATE INDEX debian_entry_source ON debian_entry (source);
CREATE TABLE debian_package (
    source_package TEXT NOT NULL,
    cve TEXT NOT NULL,
    PRIMARY KEY (source_package, cve)
) WITHOUT ROWID;
CREATE INDEX debian_package_cve ON debian_package (cve);
CREATE TABLE debian_xref (
    cve TEXT NOT NULL,
    advisory_id TEXT NOT NULL,
    PRIMARY KEY (cve, advisory_id)
) WITHOUT ROWID;
CREATE INDEX debian_xref_advisory ON debian_xref (advisory_id);
";

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// [`Store::open_existing`] found no database.
    #[error(
        "no vulnerability database at {}; run `pare db import` or `pare db update`",
        .0.display()
    )]
    Missing(PathBuf),
    /// Creating the database's folder failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// SQLite refused (I/O error, corrupt file, locked).
    #[error("vulnerability database {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// Written by a newer pare.
    #[error(
        "vulnerability database {} has schema version {found}, newer than the {supported} this pare \
         knows; use a newer pare or remove the file and import again",
        path.display()
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    /// An SQLite file of something else.
    #[error("{} is not a pare vulnerability database: {reason}", path.display())]
    NotAStore { path: PathBuf, reason: String },
    /// A source could not be imported; nothing of this import was kept.
    #[error("{location}{}: {problem}", member.as_ref().map(|m| format!(" (member {m})")).unwrap_or_default())]
    Source {
        /// The file (inside a folder source, the file itself).
        location: PathBuf,
        /// The zip member, for an archive.
        member: Option<String>,
        problem: SourceProblem,
    },
    /// A stored record no longer parses (the file was edited or damaged).
    #[error("vulnerability database {}: stored record {id}: {reason}", path.display())]
    CorruptRecord {
        path: PathBuf,
        id: String,
        reason: String,
    },
}

/// What was wrong with a source.
#[derive(Debug, thiserror::Error)]
pub enum SourceProblem {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Osv(#[from] osv::OsvError),
    #[error("{0}")]
    Tracker(#[from] debian::ParseError),
    #[error("{0}")]
    Dump(#[from] debian::dump::DumpError),
    #[error("zip archive: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("{what} is larger than the {max}-byte limit")]
    TooLarge { what: &'static str, max: u64 },
    #[error("zip archive has {count} members, more than the {max} allowed")]
    TooManyMembers { count: usize, max: usize },
    #[error("zip member path leaves the archive (absolute or `..`)")]
    UnsafeMemberPath,
    #[error(
        "tracker dump lists issue {issue} under more than {max} packages; refused rather than \
         stored as one oversized entry"
    )]
    TooManyPackages { issue: String, max: usize },
    #[error("folder has more than {max} files")]
    TooManyFiles { max: usize },
    #[error("not a known advisory source: {0}")]
    Unknown(String),
    #[error("{0}")]
    Invalid(String),
}

/// An open advisory database.
pub struct Store {
    path: PathBuf,
    conn: Connection,
    /// Opened by [`Store::open`]: in WAL mode until dropped.
    writable: bool,
}

impl Drop for Store {
    /// A writer leaves the file in rollback-journal mode, so that readers
    /// ([`Store::open_existing`]) need no `-wal`/`-shm` files beside it and
    /// a database in a read-only place stays readable. Best effort: while
    /// another connection reads, the switch fails at once (no busy wait) and
    /// the file stays in WAL mode, which readers can still read.
    fn drop(&mut self) {
        if self.writable {
            let _ = self.conn.busy_timeout(std::time::Duration::ZERO);
            let _ = self
                .conn
                .pragma_update_and_check(None, "journal_mode", "DELETE", |_| Ok(()));
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// One imported source, as [`Store::status`] reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceStatus {
    pub location: String,
    pub kind: String,
    pub records: u64,
    /// Unix seconds.
    pub imported_at: i64,
    /// Of the source's bytes (for a folder, of each file's relative path
    /// and digest in path order).
    pub sha256: String,
}

/// What the database holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub path: PathBuf,
    pub schema: i64,
    pub sources: Vec<SourceStatus>,
    pub osv_records: u64,
    /// Records naming a package of each ecosystem (base name), by name.
    pub osv_by_ecosystem: Vec<(String, u64)>,
    pub debian_cves: u64,
    pub debian_advisories: u64,
    /// Unix seconds of the newest import, if any.
    pub last_import: Option<i64>,
}

impl Store {
    /// Opens the database at `path` for writing, creating it (and its parent
    /// folders) when absent. WAL mode while it is open: a scan can read
    /// while an import writes, and a commit costs one append instead of a
    /// rollback-journal copy; dropping the store turns it off again.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let conn = Connection::open(&path).map_err(|source| StoreError::Sqlite {
            path: path.clone(),
            source,
        })?;
        let mut store = Store {
            path,
            conn,
            writable: false,
        };
        store.settings()?;
        // Checked before anything is written: another program's database
        // is refused untouched.
        if !store.has_meta()? {
            store.refuse_foreign_tables()?;
            let r = store.conn.transaction().and_then(|tx| {
                tx.execute_batch(SCHEMA)?;
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema', ?1)",
                    [SCHEMA_VERSION.to_string()],
                )?;
                tx.commit()
            });
            store.sql(r)?;
        }
        store.check_schema()?;
        // NORMAL is durable at checkpoints and never corrupts in WAL mode.
        let r = store.conn.pragma_update(None, "journal_mode", "WAL");
        store.sql(r)?;
        let r = store.conn.pragma_update(None, "synchronous", "NORMAL");
        store.sql(r)?;
        store.writable = true;
        Ok(store)
    }

    /// Opens an existing database read-only, for lookups: nothing is
    /// written, no schema is created and no journal mode set, so the file
    /// (its bytes and its modification time) stays as it was, and a file
    /// the user cannot write opens too. [`StoreError::Missing`] when there
    /// is no file (a scan must not silently create an empty database and
    /// find nothing), [`StoreError::NotAStore`] when the file is not pare's
    /// (an empty file included). A store without sources opens; see
    /// [`Store::is_empty`].
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        if !path.is_file() {
            return Err(StoreError::Missing(path));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(&path, flags).map_err(|source| StoreError::Sqlite {
                path: path.clone(),
                source,
            })?;
        let store = Store {
            path,
            conn,
            writable: false,
        };
        store.settings()?;
        if !store.has_meta()? {
            store.refuse_foreign_tables()?;
            return Err(store.not_a_store("it has no tables"));
        }
        store.check_schema()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many sources were imported.
    pub fn source_count(&self) -> Result<u64, StoreError> {
        let r = self
            .conn
            .query_row("SELECT COUNT(*) FROM sources", [], |row| {
                row.get::<_, i64>(0)
            });
        Ok(self.sql(r)?.max(0) as u64)
    }

    /// Whether nothing was ever imported (a scan against it would find
    /// nothing and say so, wrongly reassuring).
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.source_count()? == 0)
    }

    /// The imported source at `path`, keyed as [`Store::import`] keys it
    /// (the absolute path).
    pub fn source(&self, path: &Path) -> Result<Option<SourceStatus>, StoreError> {
        let location = std::path::absolute(path)
            .map_err(|source| StoreError::Io {
                path: path.to_path_buf(),
                source,
            })?
            .to_string_lossy()
            .into_owned();
        let r = self
            .conn
            .query_row(
                "SELECT location, kind, records, imported_at, sha256 FROM sources \
                 WHERE location = ?1",
                [&location],
                |row| {
                    Ok(SourceStatus {
                        location: row.get(0)?,
                        kind: row.get(1)?,
                        records: row.get::<_, i64>(2)?.max(0) as u64,
                        imported_at: row.get(3)?,
                        sha256: row.get(4)?,
                    })
                },
            )
            .optional();
        self.sql(r)
    }

    fn sql<T>(&self, r: rusqlite::Result<T>) -> Result<T, StoreError> {
        r.map_err(|source| match source.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => StoreError::NotAStore {
                path: self.path.clone(),
                reason: "it is not an SQLite database".into(),
            },
            _ => StoreError::Sqlite {
                path: self.path.clone(),
                source,
            },
        })
    }

    fn not_a_store(&self, reason: &str) -> StoreError {
        StoreError::NotAStore {
            path: self.path.clone(),
            reason: reason.into(),
        }
    }

    /// Connection settings that write nothing.
    fn settings(&self) -> Result<(), StoreError> {
        // A scan waits for an import's commit rather than failing.
        let r = self.conn.busy_timeout(std::time::Duration::from_secs(30));
        self.sql(r)?;
        self.conn.set_prepared_statement_cache_capacity(64);
        Ok(())
    }

    fn has_meta(&self) -> Result<bool, StoreError> {
        let r = self
            .conn
            .query_row(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
                [],
                |row| row.get::<_, String>(0),
            )
            .optional();
        Ok(self.sql(r)?.is_some())
    }

    /// A database without pare's `meta` table but with tables is another
    /// program's.
    fn refuse_foreign_tables(&self) -> Result<(), StoreError> {
        let r = self.conn.query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |row| row.get::<_, i64>(0),
        );
        if self.sql(r)? > 0 {
            return Err(self.not_a_store("it has tables but no `meta` table"));
        }
        Ok(())
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        let found = self.schema()?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: self.path.clone(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found < SCHEMA_VERSION {
            return Err(self.not_a_store(&format!("unknown schema version {found}")));
        }
        Ok(())
    }

    fn schema(&self) -> Result<i64, StoreError> {
        let r = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |row| {
                row.get::<_, String>(0)
            })
            .optional();
        let value = self.sql(r)?;
        value
            .as_deref()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| StoreError::NotAStore {
                path: self.path.clone(),
                reason: format!("schema version {value:?} is not a number"),
            })
    }

    /// Imports `sources` in one transaction: every source is read and every
    /// record parsed before the commit, and any error (naming the file and,
    /// in an archive, the member) leaves the database as it was.
    ///
    /// A source is a file or a folder; a file's kind is decided by its
    /// content, not its name:
    ///
    /// * an OSV record, JSON or YAML (at most [`osv::MAX_RECORD_BYTES`]);
    /// * a zip archive of OSV JSON records, as osv.dev exports each
    ///   ecosystem (`…/PyPI/all.zip`): at most [`MAX_ZIP_MEMBERS`] members of
    ///   at most [`MAX_ZIP_MEMBER_BYTES`] each; paths with `..` or absolute
    ///   are refused; every member is read to its end so its CRC is checked;
    /// * a Debian tracker CVE/TEMP or DSA/DLA entry (`{"Header", "Annotations"}`,
    ///   as aquasecurity/vuln-list-debian renders the tracker's lists);
    /// * the tracker's own JSON dump (at most [`debian::dump::MAX_DUMP_BYTES`]),
    ///   streamed;
    /// * a folder, walked recursively without following symbolic links,
    ///   reading files named `*.json`, `*.yaml`, `*.yml` and `*.zip` and
    ///   skipping everything else (README, LICENSE, hidden files and folders).
    pub fn import(&mut self, sources: &[PathBuf]) -> Result<ImportSummary, StoreError> {
        import::import(self, sources)
    }

    /// What the database holds.
    pub fn status(&self) -> Result<Status, StoreError> {
        let r = (|| {
            let mut stmt = self.conn.prepare_cached(
                "SELECT location, kind, records, imported_at, sha256 FROM sources ORDER BY location",
            )?;
            let sources = stmt
                .query_map([], |row| {
                    Ok(SourceStatus {
                        location: row.get(0)?,
                        kind: row.get(1)?,
                        records: row.get::<_, i64>(2)?.max(0) as u64,
                        imported_at: row.get(3)?,
                        sha256: row.get(4)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let count = |sql: &str| -> rusqlite::Result<u64> {
                self.conn
                    .query_row(sql, [], |row| row.get::<_, i64>(0))
                    .map(|n| n.max(0) as u64)
            };
            let osv_records = count("SELECT COUNT(*) FROM osv")?;
            let debian_cves = count("SELECT COUNT(*) FROM debian_entry WHERE kind = 'cve'")?;
            let debian_advisories =
                count("SELECT COUNT(*) FROM debian_entry WHERE kind = 'advisory'")?;
            let mut stmt = self.conn.prepare_cached(
                "SELECT ecosystem_base, COUNT(DISTINCT id) FROM osv_package \
                 GROUP BY ecosystem_base ORDER BY ecosystem_base",
            )?;
            let osv_by_ecosystem = stmt
                .query_map([], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, i64>(1)?.max(0) as u64,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let last_import: Option<i64> =
                self.conn
                    .query_row("SELECT MAX(imported_at) FROM sources", [], |row| row.get(0))?;
            Ok((
                sources,
                osv_records,
                osv_by_ecosystem,
                debian_cves,
                debian_advisories,
                last_import,
            ))
        })();
        let (sources, osv_records, osv_by_ecosystem, debian_cves, debian_advisories, last_import) =
            self.sql(r)?;
        Ok(Status {
            path: self.path.clone(),
            schema: self.schema()?,
            sources,
            osv_records,
            osv_by_ecosystem,
            debian_cves,
            debian_advisories,
            last_import,
        })
    }

    fn query_json(
        &self,
        sql: &str,
        a: &str,
        b: Option<&str>,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let r = (|| {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let map = |row: &rusqlite::Row<'_>| Ok((row.get(0)?, row.get(1)?));
            match b {
                Some(b) => stmt.query_map(params![a, b], map)?.collect(),
                None => stmt.query_map(params![a], map)?.collect(),
            }
        })();
        self.sql(r)
    }

    fn entries(&self, rows: Vec<(String, String)>) -> Result<Vec<debian::Entry>, LookupError> {
        rows.into_iter()
            .map(|(id, json)| {
                serde_json::from_str(&json).map_err(|e| {
                    Box::new(StoreError::CorruptRecord {
                        path: self.path.clone(),
                        id,
                        reason: e.to_string(),
                    }) as LookupError
                })
            })
            .collect()
    }
}

/// An OSV ecosystem's base name (`Alpine:v3.19` → `Alpine`), as the index
/// keys records.
pub(crate) fn ecosystem_base(ecosystem: &str) -> &str {
    ecosystem
        .split_once(':')
        .map_or(ecosystem, |(b, _)| b)
        .trim()
}

impl Advisories for Store {
    fn osv(&self, ecosystem: &str, name: &str) -> Result<Vec<osv::Advisory>, LookupError> {
        let rows = self.query_json(
            "SELECT o.id, o.json FROM osv_package p JOIN osv o ON o.id = p.id \
             WHERE p.ecosystem_base = ?1 AND p.name_normalised = ?2 ORDER BY o.id",
            ecosystem_base(ecosystem),
            Some(&osv::normalize_name(ecosystem, name)),
        )?;
        rows.into_iter()
            .map(|(id, json)| {
                osv::parse(json.as_bytes(), osv::Format::Json).map_err(|e| {
                    Box::new(StoreError::CorruptRecord {
                        path: self.path.clone(),
                        id,
                        reason: e.to_string(),
                    }) as LookupError
                })
            })
            .collect()
    }

    fn debian_cves(&self, source_package: &str) -> Result<Vec<debian::Entry>, LookupError> {
        let rows = self.query_json(
            "SELECT e.id, e.json FROM debian_package p JOIN debian_entry e ON e.id = p.cve \
             WHERE p.source_package = ?1 ORDER BY e.id",
            source_package,
            None,
        )?;
        self.entries(rows)
    }

    fn debian_advisories(&self, cve: &str) -> Result<Vec<debian::Entry>, LookupError> {
        let rows = self.query_json(
            "SELECT e.id, e.json FROM debian_xref x JOIN debian_entry e ON e.id = x.advisory_id \
             WHERE x.cve = ?1 ORDER BY e.id",
            cve,
            None,
        )?;
        self.entries(rows)
    }
}
