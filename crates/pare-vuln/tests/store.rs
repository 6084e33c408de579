//! The SQLite advisory store against the in-memory oracle: every lookup of
//! the store equals what [`InMemory`] finds by scanning the records read
//! straight from the files with `osv::parse` / `debian::parse_*`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use common::{data, osv_zip, pypa_dir, pypa_files, zip_of};
use pare_vuln::advisories::{Advisories, InMemory};
use pare_vuln::debian::{self, Entry, Kind, OpenStatus, Urgency, Verdict, dump};
use pare_vuln::osv::{self, Advisory, Format};
use pare_vuln::store::{SourceProblem, Status, Store, StoreError};

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn by_id(mut v: Vec<Advisory>) -> Vec<Advisory> {
    v.sort_by(|a, b| a.id.cmp(&b.id));
    v
}

fn entries_by_id(mut v: Vec<Entry>) -> Vec<Entry> {
    v.sort_by(|a, b| a.header.id.cmp(&b.header.id));
    v
}

/// Every PyPA record file, parsed as the oracle reads it.
fn pypa_records() -> (Vec<PathBuf>, Vec<Advisory>) {
    let mut files = Vec::new();
    let mut stack = vec![pypa_dir().join("vulns")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if Format::from_path(&p).is_some() {
                files.push(p);
            }
        }
    }
    files.sort();
    let advisories = files
        .iter()
        .filter_map(|p| osv::parse(&std::fs::read(p).unwrap(), Format::Yaml).ok())
        .collect();
    (files, advisories)
}

/// (osv records, by ecosystem, debian CVEs, debian advisories, sources
/// without their import times)
type Counts = (
    u64,
    Vec<(String, u64)>,
    u64,
    u64,
    Vec<(String, String, u64, String)>,
);

/// Status without the import times, for comparing two imports.
fn counts(s: &Status) -> Counts {
    (
        s.osv_records,
        s.osv_by_ecosystem.clone(),
        s.debian_cves,
        s.debian_advisories,
        s.sources
            .iter()
            .map(|x| {
                (
                    x.location.clone(),
                    x.kind.clone(),
                    x.records,
                    x.sha256.clone(),
                )
            })
            .collect(),
    )
}

#[test]
fn pypa_folder_lookups_equal_the_in_memory_oracle() {
    let dir = temp();
    let mut store = Store::open(dir.path().join("db/pare.sqlite")).unwrap();
    let started = Instant::now();
    let summary = store.import(&[pypa_dir()]).unwrap();
    let elapsed = started.elapsed();
    eprintln!(
        "imported {} PyPA records in {:.2?} ({} build)",
        summary.osv_records,
        elapsed,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );

    let (files, records) = pypa_records();
    assert_eq!(files.len(), 2661);
    assert_eq!(records.len(), files.len(), "every record parses");
    let ids: BTreeSet<&str> = records.iter().map(|a| a.id.as_str()).collect();
    let status = store.status().unwrap();
    assert_eq!(summary.osv_records, records.len() as u64);
    assert_eq!(status.osv_records, ids.len() as u64);
    assert_eq!(
        status.osv_by_ecosystem,
        vec![("PyPI".to_owned(), ids.len() as u64)]
    );
    assert_eq!(status.sources.len(), 1);
    assert_eq!(status.sources[0].kind, "folder");
    assert_eq!(status.sources[0].records, records.len() as u64);

    let oracle = InMemory {
        osv: records,
        ..InMemory::default()
    };
    let mut names: Vec<String> = std::fs::read_dir(pypa_dir().join("vulns"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    // Every 20th package folder, and the ones the scan tests use, in
    // spellings PEP 503 folds together.
    let mut queries: Vec<String> = names.iter().step_by(20).cloned().collect();
    queries.extend(
        [
            "urllib3",
            "URLLib3",
            "jinja2",
            "Jinja2",
            "requests",
            "no-such-package",
        ]
        .map(String::from),
    );
    for name in &queries {
        let got = by_id(store.osv("PyPI", name).unwrap());
        let expected = by_id(oracle.osv("PyPI", name).unwrap());
        assert_eq!(got, expected, "{name}");
    }
    assert_eq!(store.osv("PyPI", "urllib3").unwrap().len(), 11);
    assert!(!store.osv("PyPI", "jinja2").unwrap().is_empty());
    // A release suffix in the query is ignored; another ecosystem finds nothing.
    assert_eq!(store.osv("PyPI:whatever", "urllib3").unwrap().len(), 11);
    assert!(store.osv("npm", "urllib3").unwrap().is_empty());
}

fn tracker_oracle() -> InMemory {
    let read = |sub: &str| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(data().join("debian-tracker").join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };
    InMemory {
        osv: Vec::new(),
        debian_cves: read("records")
            .iter()
            .map(|p| debian::parse_cve(&std::fs::read(p).unwrap()).unwrap())
            .collect(),
        debian_advisories: read("dsa")
            .iter()
            .map(|p| debian::parse_dsa(&std::fs::read(p).unwrap()).unwrap())
            .collect(),
    }
}

#[test]
fn tracker_records_lookups_equal_the_in_memory_oracle() {
    let dir = temp();
    let mut store = Store::open(dir.path().join("pare.sqlite")).unwrap();
    // The folder also holds FORMAT.md and SOURCES.md: skipped.
    let summary = store.import(&[data().join("debian-tracker")]).unwrap();
    let oracle = tracker_oracle();
    assert_eq!(summary.debian_cves, 46);
    assert_eq!(summary.debian_advisories, 6);
    let status = store.status().unwrap();
    assert_eq!((status.debian_cves, status.debian_advisories), (46, 6));

    let packages: BTreeSet<&str> = oracle
        .debian_cves
        .iter()
        .chain(&oracle.debian_advisories)
        .flat_map(|e| e.packages())
        .collect();
    assert!(packages.contains("glibc"));
    for package in packages.iter().copied().chain(["no-such-package"]) {
        assert_eq!(
            entries_by_id(store.debian_cves(package).unwrap()),
            entries_by_id(oracle.debian_cves(package).unwrap()),
            "{package}"
        );
    }
    let cves: BTreeSet<&str> = oracle
        .debian_cves
        .iter()
        .map(|e| e.header.id.as_str())
        .chain(oracle.debian_advisories.iter().flat_map(|e| e.xrefs()))
        .collect();
    for cve in cves {
        assert_eq!(
            entries_by_id(store.debian_advisories(cve).unwrap()),
            entries_by_id(oracle.debian_advisories(cve).unwrap()),
            "{cve}"
        );
    }
    assert_eq!(
        store.debian_cves("glibc").unwrap().len(),
        oracle.debian_cves("glibc").unwrap().len()
    );
    assert_eq!(
        store.debian_advisories("CVE-2023-4911").unwrap()[0]
            .header
            .id,
        "DSA-5514-1"
    );
}

/// The tracker records serialise back to the JSON they were read from.
#[test]
fn tracker_entries_round_trip_as_the_same_json() {
    for sub in ["records", "dsa"] {
        for e in std::fs::read_dir(data().join("debian-tracker").join(sub)).unwrap() {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let entry = debian::parse_cve(&bytes)
                .or_else(|_| debian::parse_dsa(&bytes))
                .unwrap();
            let original: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(
                serde_json::to_value(&entry).unwrap(),
                original,
                "{}",
                path.display()
            );
        }
    }
}

#[test]
fn importing_twice_changes_nothing() {
    let dir = temp();
    let mut store = Store::open(dir.path().join("pare.sqlite")).unwrap();
    let zip = dir.path().join("PyPI-all.zip");
    std::fs::write(&zip, osv_zip(&["jinja2", "requests"])).unwrap();
    let sources = vec![
        pypa_dir().join("vulns/urllib3"),
        zip,
        data().join("debian-tracker"),
        data().join("debian-tracker-json/dump.json"),
    ];
    let first = store.import(&sources).unwrap();
    let after_first = store.status().unwrap();
    let second = store.import(&sources).unwrap();
    let after_second = store.status().unwrap();
    assert_eq!(first, second);
    assert_eq!(counts(&after_first), counts(&after_second));
    assert_eq!(after_first.sources.len(), 4);
    // The dump's CVE-2023-4911 replaced the record file's (imported before it).
    assert!(after_second.debian_cves > 46);
}

#[test]
fn reimporting_a_source_drops_the_records_it_no_longer_has() {
    let dir = temp();
    let folder = dir.path().join("records");
    std::fs::create_dir(&folder).unwrap();
    for (path, bytes) in pypa_files("urllib3") {
        std::fs::write(folder.join(path.file_name().unwrap()), bytes).unwrap();
    }
    let mut store = Store::open(dir.path().join("pare.sqlite")).unwrap();
    store.import(std::slice::from_ref(&folder)).unwrap();
    assert_eq!(store.osv("PyPI", "urllib3").unwrap().len(), 11);
    std::fs::remove_file(folder.join("PYSEC-2021-108.yaml")).unwrap();
    store.import(std::slice::from_ref(&folder)).unwrap();
    let left = store.osv("PyPI", "urllib3").unwrap();
    assert_eq!(left.len(), 10);
    assert!(left.iter().all(|a| a.id != "PYSEC-2021-108"));
}

/// Each refused input: the error names the file (and member), and the
/// database is exactly as before.
#[test]
fn bad_sources_are_refused_and_change_nothing() {
    let dir = temp();
    let db = dir.path().join("pare.sqlite");
    let mut store = Store::open(&db).unwrap();
    store.import(&[pypa_dir().join("vulns/jinja2")]).unwrap();
    let before = store.status().unwrap();

    // A folder of good records and one corrupt YAML file.
    let folder = dir.path().join("mixed");
    std::fs::create_dir(&folder).unwrap();
    for (path, bytes) in pypa_files("urllib3") {
        std::fs::write(folder.join(path.file_name().unwrap()), bytes).unwrap();
    }
    std::fs::write(
        folder.join("PYSEC-9999-1.yaml"),
        "id: PYSEC-9999-1\naffected: [\n",
    )
    .unwrap();

    let good_zip = osv_zip(&["urllib3"]);
    let truncated = dir.path().join("truncated.zip");
    std::fs::write(&truncated, &good_zip[..good_zip.len() / 2]).unwrap();

    let record = pypa_files("urllib3").remove(0).1;
    let json = serde_json::to_vec(&osv::parse(&record, Format::Yaml).unwrap()).unwrap();
    let escape = dir.path().join("escape.zip");
    std::fs::write(
        &escape,
        zip_of(
            &[
                ("PYSEC-1.json".into(), json.clone()),
                ("../PYSEC-2.json".into(), json.clone()),
            ],
            zip::CompressionMethod::Deflated,
        ),
    )
    .unwrap();

    // A stored member with one byte of its data changed: only the CRC tells.
    let mut crc = zip_of(
        &[("PYSEC-1.json".into(), json.clone())],
        zip::CompressionMethod::Stored,
    );
    let at = crc.windows(4).position(|w| w == b"\"id\"").unwrap();
    crc[at + 1] = b'I';
    let bad_crc = dir.path().join("crc.zip");
    std::fs::write(&bad_crc, crc).unwrap();

    let dump = std::fs::read(data().join("debian-tracker-json/dump.json")).unwrap();
    let cut_dump = dir.path().join("dump.json");
    std::fs::write(&cut_dump, &dump[..dump.len() * 2 / 3]).unwrap();

    let bad_dsa = dir.path().join("DSA-1-1.json");
    std::fs::write(
        &bad_dsa,
        br#"{"Header": {"ID": "DSA-1-1"}, "Annotations": [{"Type": "package", "Kind": "fixed"}]}"#,
    )
    .unwrap();

    let unknown = dir.path().join("notes.json");
    std::fs::write(&unknown, b"[1, 2, 3]").unwrap();

    // (what, sources, text the error must contain)
    let cases: Vec<(&str, Vec<PathBuf>, Vec<String>)> = vec![
        (
            "corrupt YAML among good files",
            vec![pypa_dir().join("vulns/requests"), folder.clone()],
            vec![folder.join("PYSEC-9999-1.yaml").display().to_string()],
        ),
        (
            "truncated zip",
            vec![truncated.clone()],
            vec![truncated.display().to_string()],
        ),
        (
            "zip member leaving the archive",
            vec![escape.clone()],
            vec![escape.display().to_string(), "../PYSEC-2.json".into()],
        ),
        (
            "zip member with a wrong CRC",
            vec![bad_crc.clone()],
            vec![bad_crc.display().to_string(), "PYSEC-1.json".into()],
        ),
        (
            "truncated tracker dump",
            vec![cut_dump.clone()],
            vec![cut_dump.display().to_string()],
        ),
        (
            "malformed DSA",
            vec![bad_dsa.clone()],
            vec![bad_dsa.display().to_string()],
        ),
        (
            "not a known source",
            vec![unknown.clone()],
            vec![unknown.display().to_string()],
        ),
        (
            "missing source",
            vec![dir.path().join("absent.json")],
            vec!["absent.json".into()],
        ),
    ];
    for (what, sources, needles) in cases {
        let err = store.import(&sources).expect_err(what);
        assert!(matches!(err, StoreError::Source { .. }), "{what}: {err:?}");
        let message = err.to_string();
        for needle in needles {
            assert!(
                message.contains(&needle),
                "{what}: {message:?} lacks {needle:?}"
            );
        }
        assert_eq!(store.status().unwrap(), before, "{what}");
        // Reopened from disk too.
        assert_eq!(
            Store::open_existing(&db).unwrap().status().unwrap(),
            before,
            "{what}"
        );
    }
    let err = store.import(&[escape]).unwrap_err();
    assert!(matches!(
        err,
        StoreError::Source {
            problem: SourceProblem::UnsafeMemberPath,
            ..
        }
    ));
}

#[test]
fn a_zip_gives_the_same_advisories_as_the_folder() {
    let dir = temp();
    let zip = dir.path().join("all.zip");
    std::fs::write(&zip, osv_zip(&["urllib3", "jinja2"])).unwrap();
    let mut from_zip = Store::open(dir.path().join("a.sqlite")).unwrap();
    let summary = from_zip.import(std::slice::from_ref(&zip)).unwrap();
    assert_eq!(summary.sources[0].kind, "osv-zip");
    let mut from_folder = Store::open(dir.path().join("b.sqlite")).unwrap();
    from_folder
        .import(&[
            pypa_dir().join("vulns/urllib3"),
            pypa_dir().join("vulns/jinja2"),
        ])
        .unwrap();
    for name in ["urllib3", "jinja2"] {
        let z = from_zip.osv("PyPI", name).unwrap();
        assert!(!z.is_empty());
        assert_eq!(z, from_folder.osv("PyPI", name).unwrap(), "{name}");
    }
}

/// A record's YAML and its JSON (converted independently of the store,
/// through an untyped value) give identical stored advisories.
#[test]
fn yaml_and_json_of_a_record_give_the_same_advisories() {
    let dir = temp();
    let mut compared = 0;
    for (path, yaml) in pypa_files("urllib3")
        .into_iter()
        .chain(pypa_files("jinja2"))
    {
        let value: serde_json::Value = serde_norway::from_slice(&yaml).unwrap();
        let json = serde_json::to_vec_pretty(&value).unwrap();
        // Unquoted versions like `fixed: 1.10` lose their spelling through an
        // untyped value; only records where it does not are comparable.
        if osv::parse(&json, Format::Json).ok() != osv::parse(&yaml, Format::Yaml).ok() {
            continue;
        }
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        // Named against their kind: content decides, not the extension.
        let yaml_file = dir.path().join(format!("{stem}.from-yaml.txt"));
        let json_file = dir.path().join(format!("{stem}.from-json.txt"));
        std::fs::write(&yaml_file, &yaml).unwrap();
        std::fs::write(&json_file, &json).unwrap();
        let mut a = Store::open(dir.path().join(format!("{stem}-a.sqlite"))).unwrap();
        let mut b = Store::open(dir.path().join(format!("{stem}-b.sqlite"))).unwrap();
        assert_eq!(a.import(&[yaml_file]).unwrap().sources[0].kind, "osv-yaml");
        assert_eq!(b.import(&[json_file]).unwrap().sources[0].kind, "osv-json");
        let advisory = osv::parse(&yaml, Format::Yaml).unwrap();
        let name = &advisory.affected[0].package.as_ref().unwrap().name;
        let (x, y) = (a.osv("PyPI", name).unwrap(), b.osv("PyPI", name).unwrap());
        assert_eq!(x, vec![advisory.clone()]);
        assert_eq!(x, y, "{}", path.display());
        compared += 1;
    }
    assert!(compared >= 5, "{compared}");
}

/// Every (package, issue, release) of the dump fixture gets the verdict its
/// release states, read from the fixture as plain JSON.
#[test]
fn tracker_dump_verdicts_follow_its_releases() {
    let dir = temp();
    let mut store = Store::open(dir.path().join("pare.sqlite")).unwrap();
    let path = data().join("debian-tracker-json/dump.json");
    let summary = store.import(std::slice::from_ref(&path)).unwrap();
    assert_eq!(summary.sources[0].kind, "debian-tracker-dump");
    let bytes = std::fs::read(&path).unwrap();
    let oracle: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let issues: BTreeSet<&str> = oracle
        .as_object()
        .unwrap()
        .values()
        .flat_map(|v| v.as_object().unwrap().keys().map(String::as_str))
        .collect();
    assert_eq!(summary.debian_cves, issues.len() as u64);
    // In memory and in the store alike.
    assert_eq!(dump::parse(&bytes).unwrap().len(), issues.len());
    let merged = store.debian_cves("python3.12").unwrap();
    assert_eq!(merged.len(), 1);
    assert_eq!(
        merged[0].packages().collect::<Vec<_>>(),
        ["python3.11", "python3.11", "python3.12", "python3.12"]
    );

    let mut checked = 0;
    for (package, issues) in oracle.as_object().unwrap() {
        let entries = store.debian_cves(package).unwrap();
        for (id, issue) in issues.as_object().unwrap() {
            let entry = entries.iter().find(|e| &e.header.id == id).unwrap();
            let releases = issue["releases"].as_object().unwrap();
            let severity_of = |r: &serde_json::Value| {
                Urgency::parse(r["urgency"].as_str().unwrap_or("")).filter(|u| {
                    matches!(
                        u,
                        Urgency::Unimportant | Urgency::Low | Urgency::Medium | Urgency::High
                    )
                })
            };
            let sid_urgency = releases.get("sid").and_then(severity_of);
            for (release, r) in releases {
                let status = r["status"].as_str().unwrap();
                let fixed = r["fixed_version"].as_str().filter(|v| !v.is_empty());
                let nodsa = r["nodsa"].as_str().filter(|v| !v.is_empty());
                let urgency = if r["urgency"] == "end-of-life" && status == "open" {
                    Urgency::EndOfLife
                } else {
                    severity_of(r)
                        .or(sid_urgency)
                        .unwrap_or(Urgency::NotYetAssigned)
                };
                let at = |installed: &str| debian::verdict(entry, [], package, installed, release);
                let what = format!("{package} {id} {release}");
                // Only `resolved` reads `fixed_version` (see `debian::dump`).
                match (status, fixed) {
                    ("resolved", Some("0")) => {
                        assert!(matches!(at("0"), Verdict::NotAffected { .. }), "{what}");
                    }
                    ("undetermined", _) => {
                        assert!(matches!(at("0"), Verdict::NotAffected { .. }), "{what}");
                    }
                    ("resolved", Some(v)) => {
                        assert!(
                            matches!(at(v), Verdict::Fixed { ref version, .. } if version == v),
                            "{what}"
                        );
                        assert_eq!(
                            at("0"),
                            Verdict::Open {
                                fixed_in: Some(v.to_owned()),
                                unfixed: false,
                                status: OpenStatus::UpdateAvailable,
                                urgency,
                            },
                            "{what}"
                        );
                    }
                    ("open", _) => {
                        let reason = nodsa.map(String::from);
                        let expected_status = match r["nodsa_reason"].as_str() {
                            Some("ignored") => OpenStatus::Ignored(reason),
                            Some("postponed") => OpenStatus::Postponed(reason),
                            _ if r.get("nodsa").is_some() => OpenStatus::NoDsa(reason),
                            _ if urgency == Urgency::EndOfLife => OpenStatus::EndOfLife(None),
                            _ => OpenStatus::Unfixed,
                        };
                        for installed in ["0", "99:99"] {
                            assert_eq!(
                                at(installed),
                                Verdict::Open {
                                    fixed_in: None,
                                    unfixed: true,
                                    status: expected_status.clone(),
                                    urgency,
                                },
                                "{what}"
                            );
                        }
                    }
                    other => panic!("{what}: fixture state {other:?} not covered"),
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "{checked}");
    // The stored lines are the dump's, one per release.
    let zlib = &store.debian_cves("zlib").unwrap()[0];
    assert_eq!(zlib.annotations[0].kind, Some(Kind::Ignored));
    assert_eq!(zlib.annotations[0].release.as_deref(), Some("bookworm"));
    assert_eq!(zlib.annotations[1].release, None);
}

#[test]
fn file_kinds_are_decided_by_content() {
    let dir = temp();
    let mut store = Store::open(dir.path().join("pare.sqlite")).unwrap();
    let yaml = pypa_files("urllib3").remove(0).1;
    let json = serde_json::to_vec(&osv::parse(&yaml, Format::Yaml).unwrap()).unwrap();
    let record = std::fs::read(data().join("debian-tracker/dsa/DSA-5514-1.json")).unwrap();
    let dump = std::fs::read(data().join("debian-tracker-json/dump.json")).unwrap();
    // (file name, bytes, kind)
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("a.yaml", json.clone(), "osv-json"),
        ("b.json", yaml.clone(), "osv-yaml"),
        ("c", record, "debian-tracker-record"),
        ("d.zip", dump, "debian-tracker-dump"),
        ("e.json", osv_zip(&["jinja2"]), "osv-zip"),
    ];
    for (name, bytes, kind) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let summary = store.import(&[path]).unwrap();
        assert_eq!(summary.sources[0].kind, kind, "{name}");
    }
    assert_eq!(store.status().unwrap().sources.len(), 5);
}

#[test]
fn open_refuses_missing_and_newer_databases() {
    let dir = temp();
    let db = dir.path().join("nested/folders/pare.sqlite");
    let err = Store::open_existing(&db).unwrap_err();
    assert!(matches!(&err, StoreError::Missing(p) if p == &db));
    assert!(
        err.to_string()
            .contains("run `pare db import` or `pare db update`")
    );
    let store = Store::open(&db).unwrap();
    assert_eq!(
        store.status().unwrap().schema,
        pare_vuln::store::SCHEMA_VERSION
    );
    assert_eq!(store.status().unwrap().last_import, None);
    drop(store);
    assert!(Store::open_existing(&db).is_ok());

    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema'", [])
        .unwrap();
    drop(conn);
    let err = Store::open_existing(&db).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { found: 99, .. }),
        "{err}"
    );

    let other = dir.path().join("other.sqlite");
    let conn = rusqlite::Connection::open(&other).unwrap();
    conn.execute("CREATE TABLE t (x)", []).unwrap();
    drop(conn);
    assert!(matches!(
        Store::open(&other),
        Err(StoreError::NotAStore { .. })
    ));

    let junk = dir.path().join("junk.sqlite");
    std::fs::write(&junk, vec![b'x'; 4096]).unwrap();
    assert!(Store::open(&junk).is_err());
}

#[test]
fn folder_walk_skips_symlinks_hidden_and_other_files() {
    let dir = temp();
    let folder = dir.path().join("tree");
    std::fs::create_dir_all(folder.join("sub/.git")).unwrap();
    let (path, yaml) = pypa_files("urllib3").remove(0);
    std::fs::write(folder.join("sub").join(path.file_name().unwrap()), &yaml).unwrap();
    std::fs::write(folder.join("README.md"), "not a record").unwrap();
    std::fs::write(folder.join("LICENSE"), "not a record").unwrap();
    std::fs::write(folder.join("sub/.git/x.json"), "not a record").unwrap();
    std::fs::write(folder.join(".hidden.json"), "not a record").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(pypa_dir().join("vulns/jinja2"), folder.join("linked")).unwrap();
        std::os::unix::fs::symlink(Path::new("/nonexistent.json"), folder.join("dangling.json"))
            .unwrap();
    }
    let mut store = Store::open(dir.path().join("pare.sqlite")).unwrap();
    let summary = store.import(&[folder]).unwrap();
    assert_eq!(summary.osv_records, 1);
    assert!(store.osv("PyPI", "jinja2").unwrap().is_empty());
}

/// Regression: `open_existing` ran the schema DDL (and set WAL) on any
/// file, so `: > empty.db; pare scan --db empty.db` "found no
/// vulnerabilities" and the file grew. It now opens read-only: a file that
/// is not pare's is refused untouched, and a real database is read without
/// changing its bytes or modification time or creating `-wal`/`-shm` files
/// (which a read-only folder could not hold).
#[test]
fn open_existing_never_creates_the_schema_in_any_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp();
    let siblings = |db: &Path| {
        ["-wal", "-shm", "-journal"]
            .iter()
            .filter(|s| {
                let mut p = db.as_os_str().to_owned();
                p.push(s);
                Path::new(&p).exists()
            })
            .copied()
            .collect::<Vec<_>>()
    };

    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let err = Store::open_existing(&empty).unwrap_err();
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("is not a pare vulnerability database"),
        "{err}"
    );
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);
    assert!(siblings(&empty).is_empty());
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![b'x'; 4096]).unwrap();
    let err = Store::open_existing(&junk).unwrap_err();
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err}");

    // A database with the schema but no source is empty.
    let db = dir.path().join("pare.sqlite");
    let mut store = Store::open(&db).unwrap();
    assert!(store.is_empty().unwrap());
    store.import(&[pypa_dir().join("vulns/urllib3")]).unwrap();
    assert!(!store.is_empty().unwrap());
    assert_eq!(store.source_count().unwrap(), 1);
    drop(store);
    // The writer leaves the file in rollback-journal mode (header bytes 18
    // and 19 are 1; WAL is 2), with nothing beside it.
    let bytes = std::fs::read(&db).unwrap();
    assert_eq!(&bytes[18..20], &[1, 1]);
    assert!(siblings(&db).is_empty(), "{:?}", siblings(&db));

    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    let mtime = std::fs::metadata(&db).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let store = Store::open_existing(&db).unwrap();
    assert_eq!(store.osv("PyPI", "urllib3").unwrap().len(), 11);
    assert!(!store.is_empty().unwrap());
    assert!(siblings(&db).is_empty(), "{:?}", siblings(&db));
    drop(store);
    assert!(siblings(&db).is_empty(), "{:?}", siblings(&db));
    assert_eq!(std::fs::read(&db).unwrap(), bytes);
    assert_eq!(std::fs::metadata(&db).unwrap().modified().unwrap(), mtime);
}

/// A tracker dump listing one issue under `packages` packages, one release
/// each.
fn dump_with_one_issue_under(packages: usize) -> Vec<u8> {
    let mut out = String::from("{");
    for i in 0..packages {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            r#""p{i}": {{"CVE-2020-1": {{"description": "d", "releases": {{"sid": {{"status": "open", "urgency": "low"}}, "bookworm": {{"status": "resolved", "fixed_version": "1.{i}"}}}}}}}}"#
        ));
    }
    out.push('}');
    out.into_bytes()
}

/// Regression: each package naming an issue already stored re-read,
/// re-parsed and re-wrote the whole growing entry, so a 1.5 MB dump with
/// 20,000 packages all listing CVE-2020-1 took 4.5 minutes. Lines are now
/// set aside and appended once per issue, and an issue listed under more
/// than `MAX_DUMP_PACKAGES_PER_ISSUE` packages is refused.
#[test]
fn tracker_dump_import_is_linear_in_packages_per_issue() {
    let dir = temp();
    let max = pare_vuln::store::MAX_DUMP_PACKAGES_PER_ISSUE;

    let path = dir.path().join("wide.json");
    std::fs::write(&path, dump_with_one_issue_under(max)).unwrap();
    let mut store = Store::open(dir.path().join("pare.sqlite")).unwrap();
    let started = Instant::now();
    let summary = store.import(std::slice::from_ref(&path)).unwrap();
    let elapsed = started.elapsed();
    eprintln!("imported one issue under {max} packages in {elapsed:.2?}");
    assert!(elapsed.as_secs_f64() < 5.0, "{elapsed:?}");
    assert_eq!(summary.debian_cves, 1);
    let last = format!("p{}", max - 1);
    for package in ["p0", "p1", last.as_str()] {
        let entries = store.debian_cves(package).unwrap();
        assert_eq!(entries.len(), 1, "{package}");
        assert_eq!(entries[0].annotations.len(), 2 * max);
        // In the dump's order, as the in-memory reader merges them.
        assert_eq!(entries[0].packages().next(), Some("p0"));
        assert_eq!(entries[0].packages().last(), Some(last.as_str()));
    }
    assert_eq!(
        entries_by_id(store.debian_cves("p7").unwrap()),
        dump::parse(&std::fs::read(&path).unwrap()).unwrap()
    );

    // The reported case: 20,000 packages. Refused, quickly, and the
    // database keeps what it had.
    let before = store.status().unwrap();
    let hostile = dir.path().join("hostile.json");
    std::fs::write(&hostile, dump_with_one_issue_under(20_000)).unwrap();
    let started = Instant::now();
    let err = store.import(std::slice::from_ref(&hostile)).unwrap_err();
    let elapsed = started.elapsed();
    eprintln!("refused one issue under 20000 packages in {elapsed:.2?}");
    assert!(elapsed.as_secs_f64() < 5.0, "{elapsed:?}");
    assert!(
        err.to_string()
            .contains(&format!("CVE-2020-1 under more than {max} packages")),
        "{err}"
    );
    assert!(
        matches!(&err, StoreError::Source { location, .. } if location == &hostile),
        "{err}"
    );
    assert_eq!(counts(&store.status().unwrap()), counts(&before));
}
