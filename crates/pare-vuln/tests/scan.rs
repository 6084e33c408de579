//! `scan` over catalogs built here, against the crate's real advisories
//! (Debian tracker records, the whole PyPA database) and small synthetic
//! OSV records for what the real data has no case of.

mod common;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

use common::*;
use pare_sbom::model::{Catalog, PackageType};
use pare_vuln::advisories::{Advisories, InMemory, LookupError};
use pare_vuln::debian::{self, Verdict};
use pare_vuln::ignore::{Date, IgnoreRules, Kind};
use pare_vuln::osv::Advisory;
use pare_vuln::scan::{Finding, FixState, ScanError, ScanOptions, Severity, scan};

fn options() -> ScanOptions {
    ScanOptions {
        ignore_unfixed: false,
        ignore: None,
        today: Date::new(2025, 1, 1).unwrap(),
    }
}

fn find<'a>(findings: &'a [Finding], package: &str, id: &str) -> Option<&'a Finding> {
    findings.iter().find(|f| f.package == package && f.id == id)
}

/// Counts the lookups a scan makes.
struct Counting {
    inner: InMemory,
    cves: RefCell<HashMap<String, usize>>,
    dsas: RefCell<usize>,
}

impl Advisories for Counting {
    fn osv(&self, e: &str, n: &str) -> Result<Vec<Advisory>, LookupError> {
        self.inner.osv(e, n)
    }
    fn debian_cves(&self, s: &str) -> Result<Vec<debian::Entry>, LookupError> {
        *self.cves.borrow_mut().entry(s.to_owned()).or_default() += 1;
        self.inner.debian_cves(s)
    }
    fn debian_advisories(&self, c: &str) -> Result<Vec<debian::Entry>, LookupError> {
        *self.dsas.borrow_mut() += 1;
        self.inner.debian_advisories(c)
    }
}

#[test]
fn debian_bookworm_findings_follow_tracker_verdicts() {
    let advisories = debian();
    for d in [
        distro("debian", Some("12"), Some("bookworm")),
        // distroless: no VERSION_CODENAME
        distro("debian", Some("12"), None),
    ] {
        let catalog = bookworm(d.clone());
        let got = scan(&catalog, &advisories, &options()).unwrap();

        // The oracle: debian::verdict on every record naming the source.
        let mut want = BTreeSet::new();
        for (bin, src, version, src_version) in BOOKWORM {
            let src = src.unwrap_or(bin);
            let v = src_version.unwrap_or(version);
            for cve in advisories
                .debian_cves
                .iter()
                .filter(|e| e.packages().any(|p| p == src))
            {
                if let Verdict::Open { fixed_in, .. } =
                    debian::verdict(cve, &advisories.debian_advisories, src, v, "bookworm")
                {
                    want.insert((bin.to_string(), cve.header.id.clone(), fixed_in));
                }
            }
        }
        let have: BTreeSet<_> = got
            .findings
            .iter()
            .map(|f| (f.package.clone(), f.id.clone(), f.fixed_version.clone()))
            .collect();
        assert_eq!(have, want, "{d:?}");
        assert!(
            got.findings
                .iter()
                .all(|f| f.source == "debian-security-tracker")
        );

        // Spot checks against SOURCES.md's table, per case.
        use FixState::*;
        let cases: &[(&str, &str, Option<&str>, FixState, Severity)] = &[
            // DSA-5673-1 fixed in deb12u6: both binaries of glibc get it.
            (
                "libc6",
                "CVE-2024-2961",
                Some("2.36-9+deb12u6"),
                Fixed,
                Severity::Unknown,
            ),
            (
                "libc-bin",
                "CVE-2024-2961",
                Some("2.36-9+deb12u6"),
                Fixed,
                Severity::Unknown,
            ),
            (
                "curl",
                "CVE-2024-2398",
                Some("7.88.1-10+deb12u6"),
                Fixed,
                Severity::Unknown,
            ),
            (
                "libcurl4",
                "CVE-2024-2398",
                Some("7.88.1-10+deb12u6"),
                Fixed,
                Severity::Unknown,
            ),
            (
                "liblzma5",
                "CVE-2025-31115",
                Some("5.4.1-1"),
                Fixed,
                Severity::Unknown,
            ),
            ("coreutils", "CVE-2016-2781", None, WontFix, Severity::Low),
            ("tar", "CVE-2005-2541", None, NotFixed, Severity::Negligible),
            ("tar", "CVE-2023-39804", None, WontFix, Severity::Unknown),
            ("libssl3", "CVE-2024-5535", None, WontFix, Severity::Unknown),
            (
                "zlib1g",
                "CVE-2023-45853",
                None,
                NotFixed,
                Severity::Unknown,
            ),
            ("apt", "CVE-2011-3374", None, NotFixed, Severity::Negligible),
        ];
        for (pkg, id, fixed, state, severity) in cases {
            let f = find(&got.findings, pkg, id).unwrap_or_else(|| panic!("{pkg} {id}"));
            assert_eq!(
                (f.fixed_version.as_deref(), f.state, f.severity),
                (*fixed, *state, *severity),
                "{pkg} {id}"
            );
        }
        let absent = [
            ("libc6", "CVE-2023-4911"),    // fixed via DSA-5514-1 (deb12u3)
            ("libc6", "CVE-2023-6246"),    // fixed via DSA-5611-1 (deb12u4)
            ("libc6", "CVE-2023-25139"),   // not affected
            ("curl", "CVE-2023-38545"),    // fixed via DSA-5523-1
            ("curl", "CVE-2024-0853"),     // not affected
            ("liblzma5", "CVE-2024-3094"), // not affected
            ("zlib1g", "CVE-2022-37434"),  // fixed implicitly (unstable line)
            ("bash", "CVE-2022-3715"),     // fixed implicitly, by the source version
            ("perl-base", "CVE-2023-47038"),
        ];
        for (pkg, id) in absent {
            assert!(find(&got.findings, pkg, id).is_none(), "{pkg} {id}");
        }
        let libc6 = find(&got.findings, "libc6", "CVE-2024-2961").unwrap();
        assert_eq!(libc6.source_package.as_deref(), Some("glibc"));
        assert_eq!(libc6.installed_version, "2.36-9+deb12u4");
        assert_eq!(libc6.path, "/var/lib/dpkg/status.d/libc6");
        assert!(libc6.summary.as_deref().unwrap().starts_with("The iconv()"));

        let s = got.summary;
        assert_eq!(s.packages, BOOKWORM.len() + 1);
        assert_eq!(s.packages_matched, BOOKWORM.len());
        assert_eq!(s.packages_not_matched, 1, "the binary");
        assert_eq!(s.total, got.findings.len());
        assert_eq!(
            s.fixable,
            got.findings
                .iter()
                .filter(|f| f.fixed_version.is_some())
                .count()
        );
        let by: usize = Severity::ALL.iter().map(|x| s.by_severity.get(*x)).sum();
        assert_eq!(by, s.total);
        // Sorted: severity descending, then package, then id.
        for w in got.findings.windows(2) {
            let key = |f: &Finding| {
                (
                    std::cmp::Reverse(f.severity),
                    f.package.clone(),
                    f.id.clone(),
                )
            };
            assert!(
                key(&w[0]) <= key(&w[1]),
                "{} {} before {} {}",
                w[0].package,
                w[0].id,
                w[1].package,
                w[1].id
            );
        }
    }
}

#[test]
fn each_source_package_is_looked_up_once() {
    let counting = Counting {
        inner: debian(),
        cves: RefCell::default(),
        dsas: RefCell::default(),
    };
    let catalog = bookworm(distro("debian", Some("12"), Some("bookworm")));
    scan(&catalog, &counting, &options()).unwrap();
    let cves = counting.cves.borrow();
    assert_eq!(cves.get("glibc"), Some(&1));
    assert_eq!(cves.get("curl"), Some(&1));
    assert!(cves.values().all(|n| *n == 1), "{cves:?}");
    // One DSA lookup per CVE at most, only for CVEs without a bookworm line.
    let records_of_sources: usize = counting
        .inner
        .debian_cves
        .iter()
        .filter(|e| cves.keys().any(|s| e.packages().any(|p| p == s)))
        .count();
    assert!(*counting.dsas.borrow() <= records_of_sources);
}

#[test]
fn os_packages_of_other_distributions_are_not_matched() {
    let advisories = debian();
    for d in [
        Some(distro("ubuntu", Some("22.04"), Some("jammy"))),
        Some(distro("fedora", Some("39"), None)),
        None,
    ] {
        let mut catalog = bookworm(distro("x", None, None));
        catalog.distro = d.clone();
        let got = scan(&catalog, &advisories, &options()).unwrap();
        assert!(got.findings.is_empty(), "{d:?}");
        assert_eq!(
            got.summary.packages_not_matched,
            catalog.packages.len(),
            "{d:?}"
        );
    }
}

#[test]
fn ignore_unfixed_sets_aside_findings_without_a_fix() {
    let advisories = debian();
    let catalog = bookworm(distro("debian", Some("12"), Some("bookworm")));
    let all = scan(&catalog, &advisories, &options()).unwrap();
    let fixed_only = scan(
        &catalog,
        &advisories,
        &ScanOptions {
            ignore_unfixed: true,
            ..options()
        },
    )
    .unwrap();
    assert!(!fixed_only.findings.is_empty());
    assert!(
        fixed_only
            .findings
            .iter()
            .all(|f| f.fixed_version.is_some())
    );
    assert_eq!(
        fixed_only.findings.len() + fixed_only.ignored.len(),
        all.findings.len()
    );
    assert!(
        fixed_only
            .ignored
            .iter()
            .all(|i| i.finding.fixed_version.is_none() && i.reason.contains("no fix available"))
    );
    assert_eq!(fixed_only.summary.ignored, fixed_only.ignored.len());
    assert_eq!(fixed_only.summary.fixable, all.summary.fixable);
}

#[test]
fn ignore_rules_apply_until_they_expire() {
    let advisories = debian();
    let catalog = bookworm(distro("debian", Some("12"), Some("bookworm")));
    let rules = "ignore:\n  - id: cve-2016-2781\n    reason: chroot is not used\n    expires: 2025-03-01\n  - id: CVE-2024-2961\n    package: glibc\n    reason: no iconv to ISO-2022-CN-EXT\n  - id: CVE-2023-45853\n    package: libc6\n    reason: wrong package, must not apply\n";
    let rules = IgnoreRules::parse(rules.as_bytes(), Kind::Yaml).unwrap();
    // (today, CVE-2016-2781 ignored?, expired rules)
    for (today, ignored, expired) in [
        (Date::new(2025, 2, 28).unwrap(), true, 0),
        (Date::new(2025, 3, 1).unwrap(), false, 1),
        (Date::new(2026, 1, 1).unwrap(), false, 1),
    ] {
        let got = scan(
            &catalog,
            &advisories,
            &ScanOptions {
                ignore: Some(rules.clone()),
                today,
                ..options()
            },
        )
        .unwrap();
        let in_ignored = |pkg: &str, id: &str| {
            got.ignored
                .iter()
                .any(|i| i.finding.package == pkg && i.finding.id == id)
        };
        assert_eq!(in_ignored("coreutils", "CVE-2016-2781"), ignored, "{today}");
        assert_eq!(
            find(&got.findings, "coreutils", "CVE-2016-2781").is_some(),
            !ignored
        );
        assert_eq!(got.expired_rules.len(), expired, "{today}");
        // `package: glibc` matches both binaries through their source.
        assert!(in_ignored("libc6", "CVE-2024-2961") && in_ignored("libc-bin", "CVE-2024-2961"));
        // A rule for another package does not apply.
        assert!(find(&got.findings, "zlib1g", "CVE-2023-45853").is_some());
        let reason = &got
            .ignored
            .iter()
            .find(|i| i.finding.package == "libc6")
            .unwrap()
            .reason;
        assert!(
            reason.contains("no iconv") && reason.contains("entry 2"),
            "{reason}"
        );
    }
    // .trivyignore with expiry
    let trivy = IgnoreRules::parse(b"CVE-2011-3374 exp:2025-01-02\n", Kind::TrivyIgnore).unwrap();
    for (today, ignored) in [((2025, 1, 1), true), ((2025, 1, 2), false)] {
        let got = scan(
            &catalog,
            &advisories,
            &ScanOptions {
                ignore: Some(trivy.clone()),
                today: Date::new(today.0, today.1, today.2).unwrap(),
                ..options()
            },
        )
        .unwrap();
        assert_eq!(got.ignored.len(), usize::from(ignored), "{today:?}");
    }
}

fn python_catalog(packages: &[(&str, &str)]) -> Catalog {
    Catalog {
        distro: None,
        packages: packages
            .iter()
            .map(|(n, v)| package(PackageType::Python, n, v, None, None))
            .collect(),
        warnings: vec![],
    }
}

#[test]
fn pypi_matches_agree_with_packaging_oracle() {
    let targets = [
        ("urllib3", "1.26.4"),
        ("Jinja2", "2.11.2"),
        ("requests", "2.25.1"),
    ];
    let advisories = InMemory {
        osv: pypa(),
        ..InMemory::default()
    };
    let got = scan(&python_catalog(&targets), &advisories, &options()).unwrap();
    assert_eq!(got.summary.packages_matched, 3);

    if !python_has("yaml") || !python_has("pip._vendor.packaging.version") {
        missing("python3 with PyYAML and pip");
        return;
    }
    // The repository's PyPI oracle (PyYAML and pip's vendored
    // `packaging`), shared with the CLI's tests on the pyold image.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/osv_pypi.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(crate_data("pypa-osv"))
        .args(targets.iter().map(|(n, v)| format!("{n}={v}")))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // name → id → fixed version.
    let mut oracle: BTreeMap<String, BTreeMap<String, Option<String>>> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let w: Vec<&str> = line.split(' ').collect();
        let fixed = (w[2] != "-").then(|| w[2].to_string());
        oracle
            .entry(w[0].to_string())
            .or_default()
            .insert(w[1].to_string(), fixed);
    }
    for (name, _) in targets {
        let want = &oracle[name];
        assert!(!want.is_empty(), "{name}: the oracle found nothing");
        let mine: Vec<&Finding> = got.findings.iter().filter(|f| f.package == name).collect();
        // Every reported id is the oracle's, with the oracle's fix…
        for f in &mine {
            assert_eq!(f.source, "osv:PyPI");
            assert_eq!(want.get(&f.id), Some(&f.fixed_version), "{name} {}", f.id);
        }
        // …and every oracle id is reported, or merged into a reported one
        // as an alias.
        let covered: BTreeSet<&str> = mine.iter().flat_map(|f| f.ids()).collect();
        for id in want.keys() {
            assert!(covered.contains(id.as_str()), "{name}: {id} missing");
        }
    }
    // The records the existing pypa_osv test pins, as a sanity anchor.
    assert!(find(&got.findings, "urllib3", "PYSEC-2021-108").is_some());
    assert!(find(&got.findings, "urllib3", "PYSEC-2021-59").is_none());
}

const CRITICAL: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";

fn pypi_record(
    id: &str,
    aliases: &[&str],
    record_sev: &[(&str, &str)],
    affected_sev: &[(&str, &str)],
    fixed: &str,
) -> Advisory {
    let sev = |s: &[(&str, &str)]| {
        serde_json::Value::Array(
            s.iter()
                .map(|(k, v)| serde_json::json!({"type": k, "score": v}))
                .collect(),
        )
    };
    record(
        &serde_json::json!({
            "id": id,
            "aliases": aliases,
            "summary": format!("summary of {id}"),
            "severity": sev(record_sev),
            "affected": [{
                "package": {"ecosystem": "PyPI", "name": "demo"},
                "severity": sev(affected_sev),
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
            }],
        })
        .to_string(),
    )
}

#[test]
fn severity_is_computed_from_cvss_v3_vectors() {
    let v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
    let medium = "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:U/C:L/I:L/A:N";
    // (record-level, affected-level, severity, score)
    type Entries<'a> = Vec<(&'a str, &'a str)>;
    let cases: Vec<(Entries, Entries, Severity, Option<f64>)> = vec![
        (
            vec![("CVSS_V3", CRITICAL)],
            vec![],
            Severity::Critical,
            Some(9.8),
        ),
        (
            vec![],
            vec![("CVSS_V3", CRITICAL)],
            Severity::Critical,
            Some(9.8),
        ),
        (
            vec![("CVSS_V3", medium)],
            vec![("CVSS_V3", CRITICAL)],
            Severity::Critical,
            Some(9.8),
        ),
        (
            vec![("CVSS_V3", medium)],
            vec![],
            Severity::Medium,
            Some(4.6),
        ),
        (vec![("CVSS_V4", v4)], vec![], Severity::Unknown, None),
        (
            vec![("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P")],
            vec![],
            Severity::Unknown,
            None,
        ),
        (
            vec![("CVSS_V3", "CVSS:3.1/AV:X")],
            vec![],
            Severity::Unknown,
            None,
        ),
        (vec![], vec![], Severity::Unknown, None),
    ];
    for (rec, aff, severity, score) in cases {
        let advisories = InMemory {
            osv: vec![pypi_record("PYSEC-1", &[], &rec, &aff, "2.0")],
            ..InMemory::default()
        };
        let got = scan(&python_catalog(&[("demo", "1.0")]), &advisories, &options()).unwrap();
        let f = &got.findings[0];
        assert_eq!(
            (f.severity, f.cvss_score),
            (severity, score),
            "{rec:?} {aff:?}"
        );
        assert_eq!(f.cvss_vector.is_some(), score.is_some());
    }
}

#[test]
fn same_vulnerability_under_several_ids_is_one_finding() {
    // PYSEC-1 ~ GHSA-1 (alias), GHSA-1 ~ CVE-1, and an unrelated PYSEC-9.
    let advisories = InMemory {
        osv: vec![
            pypi_record("PYSEC-1", &["GHSA-1"], &[], &[], "1.5"),
            pypi_record("GHSA-1", &["CVE-1"], &[("CVSS_V3", CRITICAL)], &[], "1.5"),
            pypi_record("OSV-1", &["CVE-1"], &[], &[], "1.2"),
            pypi_record("PYSEC-9", &[], &[], &[], "3.0"),
        ],
        ..InMemory::default()
    };
    let got = scan(&python_catalog(&[("demo", "1.0")]), &advisories, &options()).unwrap();
    assert_eq!(got.findings.len(), 2, "{:#?}", got.findings);
    let merged = &got.findings[0];
    assert_eq!(merged.id, "GHSA-1", "the critical one is kept");
    assert_eq!(merged.severity, Severity::Critical);
    assert_eq!(merged.aliases, ["CVE-1", "OSV-1", "PYSEC-1"]);
    assert_eq!(got.findings[1].id, "PYSEC-9");

    // The tracker's CVE and an OSV Debian:12 record naming it, as osv.dev's
    // Debian records do, as `upstream` (see tests/debian_osv.rs).
    let mut advisories = debian();
    advisories.osv.push(record(&serde_json::json!({
        "id": "DEBIAN-CVE-2024-2961",
        "upstream": ["CVE-2024-2961"],
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
        "affected": [{
            "package": {"ecosystem": "Debian:12", "name": "glibc"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.36-9+deb12u6"}]}],
        }],
    }).to_string()));
    let catalog = bookworm(distro("debian", Some("12"), Some("bookworm")));
    let got = scan(&catalog, &advisories, &options()).unwrap();
    for bin in ["libc6", "libc-bin"] {
        let of: Vec<&Finding> = got
            .findings
            .iter()
            .filter(|f| f.package == bin && f.ids().any(|i| i == "CVE-2024-2961"))
            .collect();
        assert_eq!(of.len(), 1, "{bin}: {of:#?}");
        let f = of[0];
        assert_eq!(f.fixed_version.as_deref(), Some("2.36-9+deb12u6"));
        assert_eq!(f.severity, Severity::High, "the higher severity of the two");
        assert!(f.ids().any(|i| i == "DEBIAN-CVE-2024-2961"));
    }
}

#[test]
fn alpine_records_match_their_release_only() {
    let advisories = InMemory {
        osv: vec![record(&serde_json::json!({
            "id": "ALPINE-CVE-2023-42363",
            "aliases": ["CVE-2023-42363"],
            "affected": [{
                "package": {"ecosystem": "Alpine:v3.19", "name": "busybox"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.36.1-r16"}]}],
            }],
        }).to_string())],
        ..InMemory::default()
    };
    // (VERSION_ID, busybox version, expected findings)
    for (version_id, version, want) in [
        ("3.19.1", "1.36.1-r15", 2),
        ("3.19.1", "1.36.1-r16", 0),
        ("3.19.1", "1.36.1-r19", 0),
        ("3.18.4", "1.36.1-r5", 0),
        ("3.20.0", "1.36.1-r15", 0),
    ] {
        let catalog = Catalog {
            distro: Some(distro("alpine", Some(version_id), None)),
            packages: vec![
                package(PackageType::Apk, "busybox", version, Some("busybox"), None),
                package(
                    PackageType::Apk,
                    "ssl_client",
                    version,
                    Some("busybox"),
                    None,
                ),
            ],
            warnings: vec![],
        };
        let got = scan(&catalog, &advisories, &options()).unwrap();
        assert_eq!(got.findings.len(), want, "{version_id} {version}");
        for f in &got.findings {
            assert_eq!(f.source, "osv:Alpine:v3.19");
            assert_eq!(f.fixed_version.as_deref(), Some("1.36.1-r16"));
        }
        assert_eq!(got.summary.packages_matched, 2);
    }
}

#[test]
fn a_failing_store_is_an_error() {
    struct Broken;
    impl Advisories for Broken {
        fn osv(&self, _: &str, _: &str) -> Result<Vec<Advisory>, LookupError> {
            Err("database is locked".into())
        }
        fn debian_cves(&self, _: &str) -> Result<Vec<debian::Entry>, LookupError> {
            Err("database is locked".into())
        }
        fn debian_advisories(&self, _: &str) -> Result<Vec<debian::Entry>, LookupError> {
            Err("database is locked".into())
        }
    }
    let catalogs = [
        bookworm(distro("debian", Some("12"), Some("bookworm"))),
        python_catalog(&[("demo", "1.0")]),
    ];
    for c in catalogs {
        match scan(&c, &Broken, &options()) {
            Err(e @ ScanError::Lookup { .. }) => assert!(e.to_string().contains("locked"), "{e}"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn hostile_package_data_does_not_panic() {
    let advisories = InMemory {
        osv: vec![pypi_record("PYSEC-1", &[], &[], &[], "2.0")],
        ..debian()
    };
    let weird = [
        "",
        " ",
        "😀",
        "1.0\0",
        "v",
        "%",
        "@",
        "1:",
        "-",
        &"9".repeat(10_000),
    ];
    for w in weird {
        let mut catalog = bookworm(distro("debian", Some(w), Some(w)));
        for p in &mut catalog.packages {
            p.version = w.to_owned();
            p.source_version = Some(w.to_owned());
        }
        catalog
            .packages
            .push(package(PackageType::Python, "demo", w, None, None));
        let mut odd = package(PackageType::Npm, w, w, None, None);
        odd.purl = format!("pkg:npm/{w}@{w}");
        catalog.packages.push(odd);
        let _ = scan(&catalog, &advisories, &options()).unwrap();
    }
}
