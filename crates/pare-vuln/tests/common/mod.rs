//! Helpers shared by the store and update tests.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

use pare_vuln::osv::{self, Format};

pub fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

pub fn pypa() -> PathBuf {
    data().join("pypa-osv")
}

/// The PyPA records of one package folder, as (file, bytes), sorted.
pub fn pypa_files(package: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(pypa().join("vulns").join(package))
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
