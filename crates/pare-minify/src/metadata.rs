//! Package metadata for what survived, the way distroless images carry it,
//! so Syft, Grype and Trivy still see what is inside a minified image: for
//! every Debian package that owns a kept file, its own paragraph (from
//! `status` or a `status.d` entry, copied byte for byte) as
//! `var/lib/dpkg/status.d/<name>` and its md5sums reduced to the kept files
//! as `status.d/<name>.md5sums`. Packages with no kept file disappear.
//! Alpine's `lib/apk/db/installed` is reduced the same way: the packages
//! that own kept files, each listing only those files.
//! An rpm database becomes an `rpmdb.sqlite` holding the headers of the
//! packages that own kept files: a sqlite source with every other
//! package's rows deleted from every table, a Berkeley DB `Packages`
//! (which nothing here can write) rewritten as sqlite beside it, with the
//! `Name` and `Basenames` indexes `rpm -q` and `rpm -qf` use.
//!
//! Every database is read through `pare-sbom`'s model of it, the one `pare
//! sbom` catalogs with: what is a package, and which files it owns, is
//! decided there, so the reduction and the SBOM of its result agree.

use std::collections::{BTreeMap, BTreeSet};

use pare_image::Flattened;
use pare_image::tree::NodeKind;
use pare_sbom::{apk, dpkg};

pub use pare_sbom::dpkg::STATUS_D;

/// A file to add to the new image: its path (relative) and bytes.
pub type NewFile = (String, Vec<u8>);

/// A package database whose metadata could not be carried over.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("/{path}: {problem}; package metadata left out")]
pub struct LeftOut {
    /// The database (relative to the root).
    pub path: String,
    pub problem: String,
}

impl LeftOut {
    fn new(path: &str, problem: String) -> LeftOut {
        LeftOut {
            path: path.to_string(),
            problem,
        }
    }
}

/// Whether `path` (as a package database lists it) is kept, directly or
/// through symlinks in its parents (merged /usr).
fn resolves_to_kept(flat: &Flattened, kept: &BTreeSet<String>, path: &str) -> bool {
    let rel = path.trim_start_matches('/');
    kept.contains(&format!("/{rel}"))
        || flat
            .tree
            .resolve(rel, true)
            .is_ok_and(|real| kept.contains(&format!("/{real}")))
}

/// `lib/apk/db/installed` reduced to the packages owning kept files, each
/// with only its kept files (`F:` folders holding them, their `M:` lines,
/// the `R:` files with their `a:` and `Z:` lines), every other line as it
/// was. `None` without a database or when no package owns a kept file.
pub fn apk_installed(flat: &Flattened, kept: &BTreeSet<String>) -> Option<NewFile> {
    let db = flat.read(apk::INSTALLED).ok().flatten()?;
    let db = String::from_utf8_lossy(&db);
    let mut out = String::new();
    for record in apk::parse_records(&db).iter().filter(|r| r.is_package()) {
        if let Some(reduced) = record.reduced(|path| resolves_to_kept(flat, kept, path)) {
            out.push_str(&reduced);
            out.push_str("\n\n");
        }
    }
    (!out.is_empty()).then(|| (apk::INSTALLED.to_string(), out.into_bytes()))
}

/// rpm's index tables (rpm's `sqlite.c` creates the same); keys of the
/// last three are blobs.
const RPM_INDEXES: &[&str] = &[
    "Name",
    "Basenames",
    "Group",
    "Requirename",
    "Providename",
    "Conflictname",
    "Obsoletename",
    "Triggername",
    "Dirnames",
    "Installtid",
    "Sigmd5",
    "Sha1header",
    "Filetriggername",
    "Transfiletriggername",
    "Recommendname",
    "Suggestname",
    "Supplementname",
    "Enhancename",
];

/// The rpm databases reduced to the packages that own kept files (see the
/// module docs); problems are returned as warnings, never fatal.
pub fn rpm_databases(flat: &Flattened, kept: &BTreeSet<String>) -> (Vec<NewFile>, Vec<LeftOut>) {
    use pare_sbom::rpm;
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    let owns_kept = |blob: &[u8]| {
        rpm::is_header(blob)
            && rpm::parse_header(blob)
                .ok()
                .filter(rpm::Header::is_package)
                .is_some_and(|h| h.files.iter().any(|f| resolves_to_kept(flat, kept, f)))
    };
    for path in rpm::SQLITE_PATHS {
        let Ok(Some(bytes)) = flat.read(path) else {
            continue;
        };
        match reduce_rpm_sqlite(&bytes, &owns_kept) {
            Ok(Some(reduced)) => files.push((path.to_string(), reduced)),
            Ok(None) => {}
            Err(problem) => warnings.push(LeftOut::new(path, problem)),
        }
    }
    for path in rpm::BDB_PATHS {
        let Ok(Some(bytes)) = flat.read(path) else {
            continue;
        };
        let sqlite_path = format!("{}/rpmdb.sqlite", pare_image::paths::parent(path));
        if files.iter().any(|(p, _)| *p == sqlite_path) {
            continue; // the sqlite database beside it is what rpm reads
        }
        let kept_blobs: Vec<Vec<u8>> = match rpm::values(&bytes) {
            Ok(blobs) => blobs.into_iter().filter(|b| owns_kept(b)).collect(),
            Err(e) => {
                warnings.push(LeftOut::new(path, e.to_string()));
                continue;
            }
        };
        if kept_blobs.is_empty() {
            continue;
        }
        match new_rpm_sqlite(&kept_blobs) {
            Ok(db) => files.push((sqlite_path, db)),
            Err(problem) => warnings.push(LeftOut::new(path, problem)),
        }
    }
    (files, warnings)
}

fn sqlite_error(e: rusqlite::Error) -> String {
    format!("sqlite: {e}")
}

/// Deletes every package `keep` refuses from a copy of an `rpmdb.sqlite`
/// (rows of the index tables too); `None` when no package is left.
fn reduce_rpm_sqlite(db: &[u8], keep: &dyn Fn(&[u8]) -> bool) -> Result<Option<Vec<u8>>, String> {
    let file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    std::fs::write(file.path(), db).map_err(|e| e.to_string())?;
    let conn = pare_sbom::rpm::open_untrusted_sqlite(
        &file.path().display().to_string(),
        rusqlite::OpenFlags::default(),
        pare_sbom::rpm::SQLITE_TIME_LIMIT,
    )?;
    pare_sbom::rpm::require_packages_table(&conn)?;
    // The image's triggers must not run on the deletes below.
    let triggers: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(sqlite_error)?;
    for trigger in &triggers {
        conn.execute_batch(&format!(
            "DROP TRIGGER \"{}\"",
            trigger.replace('"', "\"\"")
        ))
        .map_err(sqlite_error)?;
    }
    // rpm keeps its database in WAL mode: write it back as one plain file.
    conn.pragma_update(None, "journal_mode", "DELETE")
        .map_err(sqlite_error)?;
    let mut gone = Vec::new();
    let mut left = 0;
    {
        let mut rows = conn
            .prepare("SELECT hnum, blob FROM Packages")
            .map_err(sqlite_error)?;
        let rows = rows
            .query_map([], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
            })
            .map_err(sqlite_error)?;
        for row in rows {
            let (hnum, blob) = row.map_err(sqlite_error)?;
            if keep(&blob) {
                left += 1;
            } else {
                gone.push(hnum);
            }
        }
    }
    if left == 0 {
        return Ok(None);
    }
    let mut tables: Vec<String> = conn
        // SQLite's own tables (sequence, statistics) hold no packages.
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(sqlite_error)?;
    // The index tables refer to Packages: their rows go first.
    tables.sort_by_key(|t| t == "Packages");
    for table in &tables {
        // Table names come from the database itself: quoted, never trusted.
        let statement = format!(
            "DELETE FROM \"{}\" WHERE hnum = ?1",
            table.replace('"', "\"\"")
        );
        let mut delete = conn.prepare(&statement).map_err(sqlite_error)?;
        for hnum in &gone {
            delete.execute([hnum]).map_err(sqlite_error)?;
        }
    }
    conn.execute_batch("VACUUM").map_err(sqlite_error)?;
    drop(conn);
    std::fs::read(file.path())
        .map(Some)
        .map_err(|e| e.to_string())
}

/// A new `rpmdb.sqlite` with rpm's schema holding `blobs`, indexed by name
/// and file basename.
fn new_rpm_sqlite(blobs: &[Vec<u8>]) -> Result<Vec<u8>, String> {
    let file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let conn = rusqlite::Connection::open(file.path()).map_err(sqlite_error)?;
    conn.execute_batch(
        "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL)",
    )
    .map_err(sqlite_error)?;
    for (i, index) in RPM_INDEXES.iter().enumerate() {
        let key = if i >= RPM_INDEXES.len() - 3 {
            "BLOB"
        } else {
            "TEXT"
        };
        conn.execute_batch(&format!(
            "CREATE TABLE '{index}' (key '{key}' NOT NULL, hnum INTEGER NOT NULL, \
             idx INTEGER NOT NULL, FOREIGN KEY (hnum) REFERENCES 'Packages'(hnum)); \
             CREATE INDEX '{index}_key_idx' ON '{index}'(key ASC);"
        ))
        .map_err(sqlite_error)?;
    }
    for blob in blobs {
        let header = pare_sbom::rpm::parse_header(blob)?;
        conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [blob])
            .map_err(sqlite_error)?;
        let hnum = conn.last_insert_rowid();
        conn.execute(
            "INSERT INTO Name (key, hnum, idx) VALUES (?1, ?2, 0)",
            rusqlite::params![header.name, hnum],
        )
        .map_err(sqlite_error)?;
        for (idx, path) in header.files.iter().enumerate() {
            conn.execute(
                "INSERT INTO Basenames (key, hnum, idx) VALUES (?1, ?2, ?3)",
                rusqlite::params![pare_image::paths::file_name(path), hnum, idx as i64],
            )
            .map_err(sqlite_error)?;
        }
    }
    drop(conn);
    std::fs::read(file.path()).map_err(|e| e.to_string())
}

/// The path of a new file named after a package (`status.d/NAME`, its
/// `.md5sums`), asserting the name is one [`dpkg::check_name`] accepts:
/// the records were checked where they were read, and a name that became
/// `..` or `a/b` here would write outside `status.d`.
fn status_d_path(name: &str, suffix: &str) -> Option<String> {
    dpkg::check_name(name).ok()?;
    Some(format!("{STATUS_D}/{name}{suffix}"))
}

/// Whether `path` (absolute, as a package lists it) is a kept file of the
/// new image: itself, or through symlinks in its parents (merged /usr),
/// its last component not followed (a package owning the link
/// `libfoo.so -> libfoo.so.1` does not own the library). A symlink to a
/// folder is a folder to dpkg (`/lib` on a merged-/usr system is listed by
/// every library package) and never counts.
fn is_kept_file(flat: &Flattened, kept: &BTreeSet<String>, path: &str) -> bool {
    if kept.contains(path) && !is_link_to_folder(flat, path) {
        return true;
    }
    let Ok(real) = flat.tree.resolve(path.trim_start_matches('/'), false) else {
        return false;
    };
    kept.contains(&format!("/{real}")) && !is_link_to_folder(flat, &real)
}

fn is_link_to_folder(flat: &Flattened, path: &str) -> bool {
    let rel = path.trim_start_matches('/');
    flat.tree
        .get(rel)
        .is_some_and(|n| matches!(n.kind, NodeKind::Symlink(_)))
        && flat
            .tree
            .resolve(rel, true)
            .ok()
            .and_then(|real| flat.tree.get(&real).map(|n| n.is_dir()))
            .unwrap_or(false)
}

/// `status.d` entries for the packages that own a kept path, and warnings
/// for records skipped (a package name that cannot be a file name).
/// `kept` holds absolute paths of the new image. Packages are what
/// [`dpkg::Database`] says they are, from `status` or `status.d` alike;
/// a name found more than once (Multi-Arch: same, or in two databases)
/// gets one entry holding each kept paragraph.
pub fn dpkg_status_d(
    flat: &Flattened,
    kept: &BTreeSet<String>,
) -> (Vec<NewFile>, Vec<dpkg::InvalidName>) {
    let db = dpkg::Database::read(flat);
    let warnings = db
        .problems
        .iter()
        .filter_map(|p| match p {
            dpkg::Problem::InvalidName(invalid) => Some(invalid.clone()),
            _ => None,
        })
        .collect();
    // name → (its kept paragraphs, their kept md5sums lines), by name.
    let mut entries: BTreeMap<&str, (Vec<u8>, String)> = BTreeMap::new();
    for record in db.packages() {
        let owned = record.owned_files(&flat.tree);
        if !owned.iter().any(|path| is_kept_file(flat, kept, path)) {
            continue;
        }
        let (paragraphs, sums) = entries.entry(&record.name).or_default();
        if !paragraphs.is_empty() {
            paragraphs.push(b'\n');
        }
        // The paragraph exactly as dpkg wrote it.
        paragraphs.extend_from_slice(&record.text);
        if !record.text.ends_with(b"\n") {
            paragraphs.push(b'\n');
        }
        for (line, path) in record.md5sums.iter().flat_map(dpkg::Listing::md5sums) {
            if is_kept_file(flat, kept, &format!("/{path}")) {
                sums.push_str(line);
                sums.push('\n');
            }
        }
    }
    let mut out = Vec::new();
    for (name, (paragraphs, sums)) in entries {
        let (Some(entry), Some(sums_path)) =
            (status_d_path(name, ""), status_d_path(name, ".md5sums"))
        else {
            continue; // unreachable: the model accepted the name
        };
        out.push((entry, paragraphs));
        if !sums.is_empty() {
            out.push((sums_path, sums.into_bytes()));
        }
    }
    (out, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pare_image::{ImageRef, Platform, Source};

    /// A root folder holding `files` (relative path, bytes), flattened.
    fn root_with(dir: &std::path::Path, files: &[(&str, &[u8])]) -> Flattened {
        root_with_links(dir, files, &[])
    }

    /// [`root_with`], and `links` (relative path, target).
    fn root_with_links(
        dir: &std::path::Path,
        files: &[(&str, &[u8])],
        links: &[(&str, &str)],
    ) -> Flattened {
        for (path, bytes) in files {
            let at = dir.join(path);
            std::fs::create_dir_all(at.parent().unwrap()).unwrap();
            std::fs::write(at, bytes).unwrap();
        }
        for (path, target) in links {
            let at = dir.join(path);
            std::fs::create_dir_all(at.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink(target, at).unwrap();
        }
        let reference = ImageRef::Dir {
            path: dir.to_path_buf(),
        };
        Source::open(&reference, &Platform::default())
            .unwrap()
            .flatten()
            .unwrap()
    }

    /// Syft's own test database: bash, busybox-binsh, musl, readline, ….
    fn apk_db() -> Vec<u8> {
        let name = "syft__pkg__cataloger__alpine__testdata__multiple-1__lib__apk__db__installed";
        let path = pare_testkit::test_data(&format!("package-dbs/{name}"));
        std::fs::read(path).unwrap()
    }

    /// One case of [`dpkg_status_d`]: a root, what is kept, what is written.
    struct DpkgCase {
        name: &'static str,
        files: &'static [(&'static str, &'static str)],
        links: &'static [(&'static str, &'static str)],
        kept: &'static [&'static str],
        want: &'static [(&'static str, &'static str)],
    }

    #[test]
    fn dpkg_owners_of_kept_files_are_carried_verbatim() {
        const SD: &str = "var/lib/dpkg/status.d";
        let cases = [
            DpkgCase {
                name: "distroless source: status.d entry and md5sums carried, byte for byte",
                files: &[
                    (
                        "var/lib/dpkg/status.d/coreutils",
                        "Package: coreutils\nVersion: 9.1-1\nX-Odd:  kept  as is \n",
                    ),
                    (
                        "var/lib/dpkg/status.d/coreutils.md5sums",
                        "aa  usr/bin/true\nbb  usr/bin/false\n",
                    ),
                    (
                        "var/lib/dpkg/status.d/tzdata",
                        "Package: tzdata\nVersion: 2024a-0\n",
                    ),
                    (
                        "var/lib/dpkg/status.d/tzdata.md5sums",
                        "cc  usr/share/zoneinfo/UTC\n",
                    ),
                    ("usr/bin/true", "t"),
                    ("usr/bin/false", "f"),
                    ("usr/share/zoneinfo/UTC", "z"),
                ],
                links: &[],
                kept: &["/usr/bin/true"],
                want: &[
                    (
                        "coreutils",
                        "Package: coreutils\nVersion: 9.1-1\nX-Odd:  kept  as is \n",
                    ),
                    ("coreutils.md5sums", "aa  usr/bin/true\n"),
                ],
            },
            DpkgCase {
                name: "status source: the installed owner only, removed packages never",
                files: &[
                    (
                        "var/lib/dpkg/status",
                        "Package: old\nStatus: deinstall ok config-files\nVersion: 1\n\n\
                         Package: coreutils\nStatus: install ok installed\nVersion: 9.1-1\n",
                    ),
                    ("var/lib/dpkg/info/old.md5sums", "aa  usr/bin/true\n"),
                    ("var/lib/dpkg/info/coreutils.md5sums", "aa  usr/bin/true\n"),
                    ("usr/bin/true", "t"),
                ],
                links: &[],
                kept: &["/usr/bin/true"],
                want: &[
                    (
                        "coreutils",
                        "Package: coreutils\nStatus: install ok installed\nVersion: 9.1-1\n",
                    ),
                    ("coreutils.md5sums", "aa  usr/bin/true\n"),
                ],
            },
            DpkgCase {
                name: "a package owning only a kept link survives, without md5sums",
                files: &[
                    (
                        "var/lib/dpkg/status",
                        "Package: redis-server\nVersion: 7\n\nPackage: redis-tools\nVersion: 7\n",
                    ),
                    (
                        "var/lib/dpkg/info/redis-server.list",
                        "/usr\n/usr/bin\n/usr/bin/redis-server\n",
                    ),
                    (
                        "var/lib/dpkg/info/redis-tools.md5sums",
                        "aa  usr/bin/redis-check-rdb\n",
                    ),
                    ("usr/bin/redis-check-rdb", "r"),
                ],
                links: &[("usr/bin/redis-server", "redis-check-rdb")],
                kept: &["/usr/bin/redis-server", "/usr/bin/redis-check-rdb"],
                want: &[
                    ("redis-server", "Package: redis-server\nVersion: 7\n"),
                    ("redis-tools", "Package: redis-tools\nVersion: 7\n"),
                    ("redis-tools.md5sums", "aa  usr/bin/redis-check-rdb\n"),
                ],
            },
            DpkgCase {
                name: "a link to a kept library does not carry its -dev package",
                files: &[
                    (
                        "var/lib/dpkg/status",
                        "Package: libfoo1\nVersion: 1\n\nPackage: libfoo-dev\nVersion: 1\n",
                    ),
                    (
                        "var/lib/dpkg/info/libfoo1.md5sums",
                        "aa  usr/lib/libfoo.so.1\n",
                    ),
                    ("var/lib/dpkg/info/libfoo-dev.list", "/usr/lib/libfoo.so\n"),
                    ("usr/lib/libfoo.so.1", "l"),
                ],
                links: &[("usr/lib/libfoo.so", "libfoo.so.1")],
                kept: &["/usr/lib/libfoo.so.1"],
                want: &[
                    ("libfoo1", "Package: libfoo1\nVersion: 1\n"),
                    ("libfoo1.md5sums", "aa  usr/lib/libfoo.so.1\n"),
                ],
            },
            DpkgCase {
                name: "merged /usr: a path listed under /lib is kept under /usr/lib; the /lib link owns nothing",
                files: &[
                    (
                        "var/lib/dpkg/status",
                        "Package: libc6\nVersion: 2.36\n\nPackage: base\nVersion: 1\n",
                    ),
                    ("var/lib/dpkg/info/libc6.md5sums", "aa  lib/x/libc.so.6\n"),
                    ("var/lib/dpkg/info/base.list", "/lib\n"),
                    ("usr/lib/x/libc.so.6", "c"),
                ],
                links: &[("lib", "usr/lib")],
                kept: &["/lib", "/usr/lib/x/libc.so.6"],
                want: &[
                    ("libc6", "Package: libc6\nVersion: 2.36\n"),
                    ("libc6.md5sums", "aa  lib/x/libc.so.6\n"),
                ],
            },
            DpkgCase {
                name: "one name twice (Multi-Arch: same) gives one entry with both paragraphs",
                files: &[
                    (
                        "var/lib/dpkg/status",
                        "Package: libc6\nArchitecture: amd64\nVersion: 2.36\n\n\
                         Package: libc6\nArchitecture: i386\nVersion: 2.36",
                    ),
                    (
                        "var/lib/dpkg/info/libc6:amd64.md5sums",
                        "aa  usr/lib/x86_64/libc.so.6\n",
                    ),
                    (
                        "var/lib/dpkg/info/libc6:i386.md5sums",
                        "bb  usr/lib/i386/libc.so.6\n",
                    ),
                    ("usr/lib/x86_64/libc.so.6", "6"),
                    ("usr/lib/i386/libc.so.6", "3"),
                ],
                links: &[],
                kept: &["/usr/lib/x86_64/libc.so.6", "/usr/lib/i386/libc.so.6"],
                want: &[
                    (
                        "libc6",
                        "Package: libc6\nArchitecture: amd64\nVersion: 2.36\n\n\
                         Package: libc6\nArchitecture: i386\nVersion: 2.36\n",
                    ),
                    (
                        "libc6.md5sums",
                        "aa  usr/lib/x86_64/libc.so.6\nbb  usr/lib/i386/libc.so.6\n",
                    ),
                ],
            },
        ];
        for case in cases {
            let dir = tempfile::tempdir().unwrap();
            let files: Vec<(&str, &[u8])> =
                case.files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
            let flat = root_with_links(dir.path(), &files, case.links);
            let kept: BTreeSet<String> = case.kept.iter().map(|p| p.to_string()).collect();
            let (written, warnings) = dpkg_status_d(&flat, &kept);
            assert!(warnings.is_empty(), "{}: {warnings:?}", case.name);
            let got: Vec<(String, String)> = written
                .into_iter()
                .map(|(p, b)| (p, String::from_utf8(b).unwrap()))
                .collect();
            let want: Vec<(String, String)> = case
                .want
                .iter()
                .map(|(n, t)| (format!("{SD}/{n}"), t.to_string()))
                .collect();
            assert_eq!(got, want, "{}", case.name);
        }
    }

    #[test]
    fn dpkg_names_that_are_not_file_names_never_become_paths() {
        // Each package owns the kept /app/run through its md5sums; only
        // libc6's name may become a file under status.d.
        let status = "\
Package: libc6
Status: install ok installed
Architecture: amd64
Version: 2.36

Package: ../../../../../../tmp/pwned
Status: install ok installed
Version: 1

Package: a/b
Status: install ok installed
Version: 1
";
        let dir = tempfile::tempdir().unwrap();
        let sums: &[u8] = b"d41d8cd98f00b204e9800998ecf8427e  app/run\n";
        let flat = root_with(
            dir.path(),
            &[
                ("var/lib/dpkg/status", status.as_bytes()),
                ("app/run", b"x"),
                ("var/lib/dpkg/info/libc6:amd64.md5sums", sums),
                // Where `info/NAME.md5sums` would lead if names were paths.
                ("tmp/pwned.md5sums", sums),
                ("var/lib/dpkg/info/a/b.md5sums", sums),
            ],
        );
        let kept: BTreeSet<String> = ["/app/run".to_string()].into();
        let (files, warnings) = dpkg_status_d(&flat, &kept);
        let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "var/lib/dpkg/status.d/libc6",
                "var/lib/dpkg/status.d/libc6.md5sums"
            ]
        );
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        let warnings: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
        assert!(warnings[0].starts_with("/var/lib/dpkg/status:6: Package \"../../"));
        assert!(warnings[1].starts_with("/var/lib/dpkg/status:10: Package \"a/b\" holds '/'"));
    }

    #[test]
    fn an_rpm_sqlite_database_from_an_image_cannot_fight_back() {
        let dir = tempfile::tempdir().unwrap();
        let make = |name: &str, schema: &str| {
            let path = dir.path().join(name);
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(schema).unwrap();
            drop(conn);
            std::fs::read(path).unwrap()
        };
        // A trigger that puts back every deleted package.
        let db = make(
            "trigger.sqlite",
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);
             INSERT INTO Packages (blob) VALUES (x'6b656570'), (x'64726f70'), (x'64726f70');
             CREATE TRIGGER undelete AFTER DELETE ON Packages
                 BEGIN INSERT INTO Packages (blob) VALUES (old.blob); END;",
        );
        let keep = |blob: &[u8]| blob == b"keep";
        let reduced = reduce_rpm_sqlite(&db, &keep).unwrap().unwrap();
        let out = dir.path().join("out.sqlite");
        std::fs::write(&out, reduced).unwrap();
        let conn = rusqlite::Connection::open(&out).unwrap();
        let blobs: Vec<Vec<u8>> = conn
            .prepare("SELECT blob FROM Packages")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(blobs, [b"keep".to_vec()]);
        // Packages as a view that never ends: refused, not run.
        let db = make(
            "view.sqlite",
            "CREATE VIEW Packages AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)
                 SELECT i AS hnum, zeroblob(16) AS blob FROM n;",
        );
        let err = reduce_rpm_sqlite(&db, &keep).unwrap_err();
        assert!(err.contains("not a table"), "{err}");
        assert!(
            pare_sbom::rpm::sqlite_values(&db)
                .unwrap_err()
                .contains("not a table")
        );
    }

    #[test]
    fn apk_database_keeps_only_owners_of_kept_files_and_only_those_files() {
        let db = apk_db();
        let dir = tempfile::tempdir().unwrap();
        let flat = root_with(dir.path(), &[("lib/apk/db/installed", &db)]);
        let kept: BTreeSet<String> = ["/lib/ld-musl-x86_64.so.1".to_string()].into();
        let (path, bytes) = apk_installed(&flat, &kept).unwrap();
        assert_eq!(path, "lib/apk/db/installed");
        let text = String::from_utf8(bytes).unwrap();
        let packages: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("P:")).collect();
        assert_eq!(packages, ["musl"]);
        let files: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("F:") || l.starts_with("R:"))
            .collect();
        assert_eq!(files, ["F:lib", "R:ld-musl-x86_64.so.1"]);
        // The file's mode and checksum lines come along, the other file's not.
        assert!(
            text.contains("R:ld-musl-x86_64.so.1\na:0:0:755\nZ:Q1+zEJiG53Cxy7DkV5oZQqeWnzybY=\n")
        );
        assert!(!text.contains("Q17yJ3JFNypA4mxhJJr0ou6CzsJVI="));
        // The reduced database still parses, as Syft and pare sbom read it.
        let mut warnings = Vec::new();
        let parsed = apk::parse(&text, None, &mut warnings);
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].name, "musl");
        assert!(warnings.is_empty(), "{warnings:?}");

        let nothing: BTreeSet<String> = ["/usr/bin/other".to_string()].into();
        assert!(apk_installed(&flat, &nothing).is_none());
    }
}
