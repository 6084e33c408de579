//! Fixtures shared by the store, update, scan and report tests: the crate's real Debian
//! tracker and PyPA records, catalogs built in code, and the independent
//! JSON-schema validator (python-jsonschema).

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use pare_sbom::model::{Catalog, Distro, Package, PackageType};
use pare_vuln::advisories::InMemory;
use pare_vuln::debian;
use pare_vuln::osv::{self, Advisory, Format};

pub fn crate_data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    out.sort();
    out
}

/// Every tracker CVE record and DSA of `tests/data/debian-tracker`.
pub fn debian() -> InMemory {
    let dir = crate_data("debian-tracker");
    InMemory {
        osv: vec![],
        debian_cves: files(&dir.join("records"))
            .iter()
            .map(|p| debian::parse_cve(&std::fs::read(p).unwrap()).unwrap())
            .collect(),
        debian_advisories: files(&dir.join("dsa"))
            .iter()
            .map(|p| debian::parse_dsa(&std::fs::read(p).unwrap()).unwrap())
            .collect(),
    }
}

/// Every PyPA record (2661).
pub fn pypa() -> Vec<Advisory> {
    let mut out = Vec::new();
    for dir in files(&crate_data("pypa-osv/vulns")) {
        if !dir.is_dir() {
            continue; // .id-allocator
        }
        for p in files(&dir) {
            let bytes = std::fs::read(&p).unwrap();
            out.push(osv::parse(&bytes, Format::Yaml).unwrap());
        }
    }
    out
}

/// An OSV record from JSON text.
pub fn record(json: &str) -> Advisory {
    osv::parse(json.as_bytes(), Format::Json).unwrap()
}

pub fn distro(id: &str, version_id: Option<&str>, codename: Option<&str>) -> Distro {
    Distro {
        id: id.into(),
        version_id: version_id.map(Into::into),
        version_codename: codename.map(Into::into),
        pretty_name: None,
        id_like: vec![],
    }
}

pub fn package(
    kind: PackageType,
    name: &str,
    version: &str,
    source: Option<&str>,
    source_version: Option<&str>,
) -> Package {
    let purl = match kind {
        PackageType::Deb => format!("pkg:deb/debian/{name}@{version}?distro=debian-12"),
        PackageType::Apk => format!("pkg:apk/alpine/{name}@{version}"),
        PackageType::Python => format!("pkg:pypi/{}@{version}", name.to_lowercase()),
        PackageType::Binary => format!("pkg:generic/{name}@{version}"),
        _ => format!("pkg:generic/{name}@{version}"),
    };
    let found_at = match kind {
        PackageType::Deb => format!("/var/lib/dpkg/status.d/{name}"),
        PackageType::Apk => "/lib/apk/db/installed".to_owned(),
        PackageType::Python => {
            format!("/usr/lib/python3/dist-packages/{name}-{version}.dist-info/METADATA")
        }
        _ => format!("/usr/bin/{name}"),
    };
    Package {
        name: name.into(),
        version: version.into(),
        kind,
        purl,
        cpes: vec![],
        licenses: vec![],
        source: source.map(Into::into),
        source_version: source_version.map(Into::into),
        architecture: None,
        files: vec![],
        found_at,
        layer: Some(0),
    }
}

/// (binary package, source, installed version, source version): a
/// bookworm image whose versions put the tracker records in every case —
/// fixed (by release line, by DSA, implicitly by the unstable line), open
/// with an update, open without a fix, won't fix, not affected.
pub const BOOKWORM: &[(&str, Option<&str>, &str, Option<&str>)] = &[
    ("libc6", Some("glibc"), "2.36-9+deb12u4", None),
    ("libc-bin", Some("glibc"), "2.36-9+deb12u4", None),
    ("libssl3", Some("openssl"), "3.0.11-1~deb12u2", None),
    ("openssl", None, "3.0.11-1~deb12u2", None),
    ("curl", None, "7.88.1-10+deb12u5", None),
    ("libcurl4", Some("curl"), "7.88.1-10+deb12u5", None),
    ("zlib1g", Some("zlib"), "1:1.2.13.dfsg-1", None),
    ("tar", None, "1.34+dfsg-1.2+deb12u1", None),
    ("coreutils", None, "9.1-1", None),
    ("liblzma5", Some("xz-utils"), "5.4.1-0.2", None),
    ("perl-base", Some("perl"), "5.36.0-7+deb12u1", None),
    // A binNMU: the binary's version is not the source's.
    ("bash", None, "5.2.15-2+b2", Some("5.2.15-2")),
    ("libsystemd0", Some("systemd"), "252.22-1~deb12u1", None),
    ("apt", None, "2.6.1", None),
];

pub fn bookworm(distro_: Distro) -> Catalog {
    let mut packages: Vec<Package> = BOOKWORM
        .iter()
        .map(|(n, s, v, sv)| package(PackageType::Deb, n, v, *s, *sv))
        .collect();
    packages.push(package(PackageType::Binary, "node", "18.0.0", None, None));
    Catalog {
        distro: Some(distro_),
        packages,
        warnings: vec![],
    }
}

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A missing prerequisite: a failure in CI, a skip with a note elsewhere.
pub fn missing(what: &str) {
    assert!(!in_ci(), "prerequisite missing in CI: {what}");
    eprintln!("skipping: {what} is missing");
}

pub fn python_has(modules: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .status()
        .is_ok_and(|s| s.success())
}

/// Validates `document` against the schema at `tests/data/schemas/<schema>`
/// of the repository with python-jsonschema; `None` when skipped.
pub fn validate(schema: &str, document: &serde_json::Value) -> Option<Result<(), String>> {
    if !python_has("jsonschema, referencing") {
        missing("python jsonschema");
        return None;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::env::temp_dir().join(format!(
        "pare-vuln-{}-{}.json",
        std::process::id(),
        schema.replace('/', "_")
    ));
    std::fs::write(&doc, serde_json::to_vec_pretty(document).unwrap()).unwrap();
    let out = Command::new("python3")
        .arg(root.join("tests/tools/validate_json_schema.py"))
        .arg(pare_testkit::test_data(&format!("schemas/{schema}")))
        .arg(&doc)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&doc);
    Some(if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    })
}

// The store and update tests' fixtures.

pub fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

pub fn pypa_dir() -> PathBuf {
    data().join("pypa-osv")
}

/// The PyPA records of one package folder, as (file, bytes), sorted.
pub fn pypa_files(package: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(pypa_dir().join("vulns").join(package))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

/// A zip as osv.dev exports one ecosystem: flat `ID.json` members, deflated,
/// the JSON of each PyPA record of `packages`.
pub fn osv_zip(packages: &[&str]) -> Vec<u8> {
    let mut members = Vec::new();
    for package in packages {
        for (_, yaml) in pypa_files(package) {
            let advisory = osv::parse(&yaml, Format::Yaml).unwrap();
            let json = serde_json::to_vec_pretty(&advisory).unwrap();
            members.push((format!("{}.json", advisory.id), json));
        }
    }
    zip_of(&members, zip::CompressionMethod::Deflated)
}

pub fn zip_of(members: &[(String, Vec<u8>)], method: zip::CompressionMethod) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in members {
        w.start_file(name.as_str(), options).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}
