//! Real PyPA advisory records (a subset copied into `tests/data/pypa-osv/`,
//! see `tests/data/README.md`) matched against old `urllib3` and `jinja2`
//! versions, with the IDs and fixes read from the records themselves; and
//! every record of the full reference set, when it is present, parsed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use pare_vuln::cvss;
use pare_vuln::osv::{self, Advisory, Format};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypa-osv/vulns")
}

fn load(package: &str) -> Vec<Advisory> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data().join(package))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).unwrap();
            osv::parse(&bytes, Format::Yaml).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        })
        .collect()
}

/// (record id, fixed version) of every record matching, sorted by id.
fn matches(advisories: &[Advisory], name: &str, version: &str) -> Vec<(String, Option<String>)> {
    let mut out: Vec<_> = advisories
        .iter()
        .filter_map(|a| osv::affects(a, "PyPI", name, version).map(|m| (a.id.clone(), m.fixed)))
        .collect();
    out.sort();
    out
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, Option<String>)> {
    let mut v: Vec<_> = expected
        .iter()
        .map(|(id, fixed)| ((*id).to_owned(), Some((*fixed).to_owned())))
        .collect();
    v.sort();
    v
}

#[test]
fn urllib3_records() {
    let all = load("urllib3");
    assert_eq!(all.len(), 11);
    // 1.26.4: fixed for PYSEC-2021-59 (introduced 1.26.0, fixed 1.26.4),
    // still affected by the @-backtracking fix of 1.26.5 and by the two
    // 2023 cookie/body-on-redirect records whose 1.x lines fixed in
    // 1.26.17 and 1.26.18 (their 2.0.x intervals do not apply).
    assert_eq!(
        matches(&all, "urllib3", "1.26.4"),
        pairs(&[
            ("PYSEC-2021-108", "1.26.5"),
            ("PYSEC-2023-192", "1.26.17"),
            ("PYSEC-2023-212", "1.26.18"),
        ])
    );
    // PEP 503 name spelling and a 2.0.x version inside the second interval.
    assert_eq!(
        matches(&all, "URLLib3", "2.0.5"),
        pairs(&[("PYSEC-2023-192", "2.0.6"), ("PYSEC-2023-212", "2.0.7")])
    );
    assert_eq!(
        matches(&all, "urllib3", "1.25.7"),
        pairs(&[
            // An ECOSYSTEM range fixed in 1.25.9 beside a GIT range.
            ("PYSEC-2020-148", "1.25.9"),
            ("PYSEC-2020-149", "1.25.8"),
            ("PYSEC-2021-108", "1.26.5"),
            ("PYSEC-2023-192", "1.26.17"),
            ("PYSEC-2023-212", "1.26.18"),
        ])
    );
    assert_eq!(
        matches(&all, "urllib3", "1.17"),
        pairs(&[
            ("PYSEC-2017-98", "1.18.1"),
            ("PYSEC-2018-32", "1.23"),
            ("PYSEC-2019-132", "1.24.3"),
            ("PYSEC-2019-133", "1.24.2"),
            ("PYSEC-2020-148", "1.25.9"),
            ("PYSEC-2021-108", "1.26.5"),
            ("PYSEC-2023-192", "1.26.17"),
            ("PYSEC-2023-207", "1.24.2"),
            ("PYSEC-2023-212", "1.26.18"),
        ])
    );
    // Recent versions are matched by none.
    for recent in ["1.26.20", "2.0.7", "2.2.3"] {
        assert_eq!(matches(&all, "urllib3", recent), [], "{recent}");
    }
    // Other packages never match urllib3's records.
    assert_eq!(matches(&all, "requests", "1.0"), []);
}

#[test]
fn jinja2_records() {
    let all = load("jinja2");
    assert_eq!(all.len(), 5);
    assert_eq!(
        matches(&all, "jinja2", "2.10"),
        pairs(&[("PYSEC-2019-217", "2.10.1"), ("PYSEC-2021-66", "2.11.3")])
    );
    assert_eq!(
        matches(&all, "Jinja2", "2.7.2"),
        pairs(&[
            ("PYSEC-2014-82", "2.7.3"),
            ("PYSEC-2019-217", "2.10.1"),
            ("PYSEC-2019-220", "2.8.1"),
            ("PYSEC-2021-66", "2.11.3"),
        ])
    );
    for recent in ["2.11.3", "3.1.4"] {
        assert_eq!(matches(&all, "jinja2", recent), [], "{recent}");
    }
}

#[test]
fn severity_is_computed_from_the_vector() {
    let all = load("urllib3");
    let a = all.iter().find(|a| a.id == "PYSEC-2023-207").unwrap();
    assert_eq!(
        a.aliases.first().map(String::as_str),
        Some("CVE-2018-25091")
    );
    assert_eq!(a.severity.len(), 1);
    assert_eq!(a.severity[0].kind, "CVSS_V3");
    let score = cvss::score(&a.severity[0].score).unwrap();
    assert_eq!(score.to_string(), "6.1 Medium");
}

/// Parses every record of the PyPA advisory database (all of it is in
/// `tests/data/pypa-osv`), scores every CVSS v3 vector in it, and says how
/// long that took.
#[test]
fn every_reference_record_parses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypa-osv/vulns");
    assert!(root.is_dir(), "{} is missing", root.display());
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if Format::from_path(&path).is_some() {
                files.push(path);
            }
        }
    }
    files.sort();
    let started = Instant::now();
    let mut bytes_total = 0usize;
    let mut cvss_scored = 0usize;
    let mut withdrawn = 0usize;
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        bytes_total += bytes.len();
        let format = Format::from_path(path).unwrap();
        let advisory =
            osv::parse(&bytes, format).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!advisory.id.is_empty(), "{}", path.display());
        withdrawn += usize::from(advisory.withdrawn.is_some());
        for s in advisory
            .severity
            .iter()
            .chain(advisory.affected.iter().flat_map(|a| a.severity.iter()))
        {
            if s.kind == "CVSS_V3" {
                cvss::score(&s.score).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                cvss_scored += 1;
            }
        }
    }
    let elapsed = started.elapsed();
    assert!(files.len() > 1000, "only {} records", files.len());
    println!(
        "parsed {} PyPA OSV records ({} KiB, {withdrawn} withdrawn, {cvss_scored} CVSS v3 vectors scored) in {:.3} s",
        files.len(),
        bytes_total / 1024,
        elapsed.as_secs_f64()
    );
    eprintln!(
        "parsed {} PyPA OSV records in {:.3} s",
        files.len(),
        elapsed.as_secs_f64()
    );
}
