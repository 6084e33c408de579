//! osv.dev's Debian records next to the Debian security tracker: osv.dev
//! names the CVE of a `DEBIAN-CVE-…`, `DSA-…` or `DLA-…` record under
//! `upstream`, not `aliases`, and a DSA/DLA fixing several CVEs lists them
//! all. Each CVE must still be one finding per binary package, silenced by
//! one ignore rule.
//!
//! The `DLA-*.json` files under `tests/data/osv-ecosystems/Debian/` are
//! real osv.dev records (see `tests/data/README.md`); the glibc records of
//! the tests below are written here in their shape (the stored copies of
//! osv.dev's `DEBIAN-CVE-2024-2961` and `DSA-5673-1` could not be found),
//! with the fixed versions of the tracker's own `DSA-5673-1` and
//! `DSA-5611-1` entries in `tests/data/debian-tracker/dsa/`.

mod common;

use common::*;
use pare_sbom::model::{Catalog, PackageType};
use pare_vuln::advisories::InMemory;
use pare_vuln::ignore::{Date, IgnoreRules, Kind};
use pare_vuln::osv::{self, Advisory, Format};
use pare_vuln::scan::{Finding, Scan, ScanOptions, scan};

fn options(ignore: Option<&str>) -> ScanOptions {
    ScanOptions {
        ignore_unfixed: false,
        ignore: ignore.map(|r| IgnoreRules::parse(r.as_bytes(), Kind::Yaml).unwrap()),
        today: Date::new(2025, 1, 1).unwrap(),
    }
}

fn real(id: &str) -> Advisory {
    let path = crate_data(&format!("osv-ecosystems/Debian/{id}.json"));
    osv::parse(&std::fs::read(&path).unwrap(), Format::Json).unwrap()
}

/// A record in the shape of osv.dev's Debian export: the CVEs under
/// `upstream` (a DSA also names the `DEBIAN-CVE-…` records), the source
/// package with an `arch=source` PURL, one fix per release.
fn debian_record(id: &str, upstream: &[&str], fixes: &[(&str, &str)]) -> Advisory {
    let affected: Vec<serde_json::Value> = fixes
        .iter()
        .map(|(release, fixed)| {
            serde_json::json!({
                "package": {"ecosystem": release, "name": "glibc", "purl": "pkg:deb/debian/glibc?arch=source"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
            })
        })
        .collect();
    record(
        &serde_json::json!({
            "id": id,
            "upstream": upstream,
            "summary": "glibc - security update",
            "affected": affected,
        })
        .to_string(),
    )
}

fn glibc_records() -> Vec<Advisory> {
    vec![
        debian_record(
            "DEBIAN-CVE-2024-2961",
            &["CVE-2024-2961"],
            &[
                ("Debian:11", "2.31-13+deb11u9"),
                ("Debian:12", "2.36-9+deb12u6"),
            ],
        ),
        debian_record(
            "DSA-5673-1",
            &["CVE-2024-2961", "DEBIAN-CVE-2024-2961"],
            &[
                ("Debian:11", "2.31-13+deb11u9"),
                ("Debian:12", "2.36-9+deb12u6"),
            ],
        ),
        debian_record(
            "DEBIAN-CVE-2023-6246",
            &["CVE-2023-6246"],
            &[("Debian:12", "2.36-9+deb12u4")],
        ),
        // Three CVEs; the tracker fixtures hold a record of the first only.
        debian_record(
            "DSA-5611-1",
            &[
                "CVE-2023-6246",
                "CVE-2023-6779",
                "CVE-2023-6780",
                "DEBIAN-CVE-2023-6246",
                "DEBIAN-CVE-2023-6779",
                "DEBIAN-CVE-2023-6780",
            ],
            &[("Debian:12", "2.36-9+deb12u4")],
        ),
    ]
}

/// bookworm with glibc 2.36-9+deb12u3: open for CVE-2024-2961 (fixed in
/// deb12u6) and DSA-5611-1 (deb12u4), fixed for CVE-2023-4911 (deb12u3).
fn glibc_catalog() -> Catalog {
    Catalog {
        distro: Some(distro("debian", Some("12"), Some("bookworm"))),
        packages: ["libc6", "libc-bin"]
            .iter()
            .map(|b| package(PackageType::Deb, b, "2.36-9+deb12u3", Some("glibc"), None))
            .collect(),
        warnings: vec![],
    }
}

/// The findings of `bin` known as `id` (ids or upstream).
fn naming<'a>(findings: &'a [Finding], bin: &str, id: &str) -> Vec<&'a Finding> {
    findings
        .iter()
        .filter(|f| f.package == bin)
        .filter(|f| {
            f.ids()
                .chain(f.upstream.iter().map(String::as_str))
                .any(|i| i == id)
        })
        .collect()
}

fn run(advisories: &InMemory, rules: Option<&str>) -> Scan {
    scan(&glibc_catalog(), advisories, &options(rules)).unwrap()
}

#[test]
fn debian_osv_records_naming_the_cve_as_upstream_are_one_finding() {
    let mut advisories = debian();
    advisories.osv.extend(glibc_records());
    let got = run(&advisories, None);
    for bin in ["libc6", "libc-bin"] {
        // The tracker's CVE, the DEBIAN-CVE record and the DSA: one finding.
        let of = naming(&got.findings, bin, "CVE-2024-2961");
        assert_eq!(of.len(), 1, "{bin}: {of:#?}");
        let f = of[0];
        assert_eq!(f.id, "CVE-2024-2961", "the tracker's id is kept");
        assert_eq!(f.source, "debian-security-tracker");
        assert_eq!(f.aliases, ["DEBIAN-CVE-2024-2961", "DSA-5673-1"]);
        assert_eq!(f.fixed_version.as_deref(), Some("2.36-9+deb12u6"));
        assert!(f.upstream.is_empty());

        // DSA-5611-1 fixes three CVEs: it joins the finding of the one the
        // tracker has, and stands for the two others, which are not merged
        // into it (nor into each other).
        let of = naming(&got.findings, bin, "CVE-2023-6246");
        assert_eq!(of.len(), 1, "{bin}: {of:#?}");
        assert_eq!(of[0].id, "CVE-2023-6246");
        assert_eq!(of[0].aliases, ["DEBIAN-CVE-2023-6246", "DSA-5611-1"]);
        assert_eq!(of[0].fixed_version.as_deref(), Some("2.36-9+deb12u4"));
        let dsa: Vec<&Finding> = got
            .findings
            .iter()
            .filter(|f| f.package == bin && f.id == "DSA-5611-1")
            .collect();
        assert_eq!(dsa.len(), 1, "{bin}: {:#?}", got.findings);
        assert_eq!(
            dsa[0].upstream,
            [
                "CVE-2023-6779",
                "CVE-2023-6780",
                "DEBIAN-CVE-2023-6779",
                "DEBIAN-CVE-2023-6780"
            ]
        );
        assert!(dsa[0].aliases.is_empty());
        for cve in ["CVE-2023-6779", "CVE-2023-6780"] {
            assert_eq!(naming(&got.findings, bin, cve).len(), 1, "{bin} {cve}");
        }
        // Fixed in the installed version: no finding, whatever the source.
        assert!(naming(&got.findings, bin, "CVE-2023-4911").is_empty());
    }
    // No two findings of a package share an id, but for the DSA standing
    // for the CVEs nobody else covers, whose id the findings it was folded
    // into carry too.
    let single: Vec<&Finding> = got
        .findings
        .iter()
        .filter(|f| f.upstream.is_empty())
        .collect();
    for f in &single {
        for g in single.iter().filter(|g| g.package == f.package) {
            if !std::ptr::eq(f, g) {
                assert!(!f.ids().any(|i| g.ids().any(|j| i == j)), "{f:#?} {g:#?}");
            }
        }
    }

    // One rule by the CVE silences every copy of it, and nothing else.
    let silenced = run(
        &advisories,
        Some("ignore:\n  - id: CVE-2024-2961\n    reason: no iconv\n"),
    );
    for bin in ["libc6", "libc-bin"] {
        assert!(naming(&silenced.findings, bin, "CVE-2024-2961").is_empty());
        assert!(naming(&silenced.findings, bin, "DEBIAN-CVE-2024-2961").is_empty());
        assert!(naming(&silenced.findings, bin, "DSA-5673-1").is_empty());
        assert!(!naming(&silenced.findings, bin, "CVE-2023-6246").is_empty());
    }
    assert_eq!(silenced.ignored.len(), 2, "{:#?}", silenced.ignored);
    assert_eq!(silenced.findings.len(), got.findings.len() - 2);

    // A rule by one CVE of a DSA does not silence its other CVEs; a rule by
    // the DSA silences every finding it was folded into, and itself.
    let one = run(
        &advisories,
        Some("ignore:\n  - id: CVE-2023-6246\n    reason: r\n"),
    );
    assert_eq!(one.ignored.len(), 2);
    for bin in ["libc6", "libc-bin"] {
        assert_eq!(naming(&one.findings, bin, "CVE-2023-6779").len(), 1);
    }
    let dsa = run(
        &advisories,
        Some("ignore:\n  - id: dsa-5611-1\n    reason: r\n"),
    );
    assert_eq!(dsa.ignored.len(), 4, "{:#?}", dsa.ignored);
    for bin in ["libc6", "libc-bin"] {
        for cve in ["CVE-2023-6246", "CVE-2023-6779", "DSA-5611-1"] {
            assert!(naming(&dsa.findings, bin, cve).is_empty(), "{bin} {cve}");
        }
        assert_eq!(naming(&dsa.findings, bin, "CVE-2024-2961").len(), 1);
    }
}

#[test]
fn osv_debian_records_alone_are_one_finding_per_cve() {
    // Without the tracker: DEBIAN-CVE and DSA share only their upstream.
    let advisories = InMemory {
        osv: glibc_records(),
        ..InMemory::default()
    };
    let got = run(&advisories, None);
    for bin in ["libc6", "libc-bin"] {
        let of = naming(&got.findings, bin, "CVE-2024-2961");
        assert_eq!(of.len(), 1, "{bin}: {of:#?}");
        assert!(of[0].ids().any(|i| i == "CVE-2024-2961"));
        assert!(of[0].ids().any(|i| i == "DSA-5673-1"));
        assert!(of[0].ids().any(|i| i == "DEBIAN-CVE-2024-2961"));
        assert_eq!(naming(&got.findings, bin, "CVE-2023-6246").len(), 1);
        assert_eq!(naming(&got.findings, bin, "CVE-2023-6780").len(), 1);
    }
    let silenced = run(
        &advisories,
        Some("ignore:\n  - id: CVE-2024-2961\n    reason: r\n"),
    );
    assert_eq!(silenced.ignored.len(), 2);
    for bin in ["libc6", "libc-bin"] {
        assert!(naming(&silenced.findings, bin, "CVE-2024-2961").is_empty());
    }
}

#[test]
fn real_osv_debian_records_keep_their_upstream() {
    let dla = real("DLA-3012-1");
    assert_eq!(dla.upstream, ["CVE-2022-29824", "DEBIAN-CVE-2022-29824"]);
    assert!(dla.aliases.is_empty());
    // Stored advisories are serialised: `upstream` must survive the trip.
    let json = serde_json::to_vec(&dla).unwrap();
    assert_eq!(osv::parse(&json, Format::Json).unwrap(), dla);
    assert!(serde_json::from_slice::<serde_json::Value>(&json).unwrap()["upstream"].is_array());

    let kernel = real("DLA-3623-1");
    assert_eq!(kernel.upstream.len(), 44);
    for id in ["DLA-3008-1", "DLA-3022-1"] {
        assert_eq!(real(id).upstream.len(), 2, "{id}");
    }
    let null = record(r#"{"id": "X-1", "upstream": null}"#);
    assert!(null.upstream.is_empty());

    // stretch's libxml2 before DLA-3012-1's fix, with a per-CVE record of
    // the same CVE next to it: one finding, known by all three ids.
    let per_cve = record(
        &serde_json::json!({
            "id": "DEBIAN-CVE-2022-29824",
            "upstream": ["CVE-2022-29824"],
            "affected": [{
                "package": {"ecosystem": "Debian:9", "name": "libxml2"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.9.4+dfsg1-2.2+deb9u7"}]}],
            }],
        })
        .to_string(),
    );
    let advisories = InMemory {
        osv: vec![dla, per_cve],
        ..InMemory::default()
    };
    let catalog = Catalog {
        distro: Some(distro("debian", Some("9"), Some("stretch"))),
        packages: vec![package(
            PackageType::Deb,
            "libxml2",
            "2.9.4+dfsg1-2.2+deb9u6",
            None,
            None,
        )],
        warnings: vec![],
    };
    let got = scan(&catalog, &advisories, &options(None)).unwrap();
    assert_eq!(got.findings.len(), 1, "{:#?}", got.findings);
    let f = &got.findings[0];
    for id in ["CVE-2022-29824", "DEBIAN-CVE-2022-29824", "DLA-3012-1"] {
        assert!(f.ids().any(|i| i == id), "{id}: {f:#?}");
    }
    assert_eq!(f.fixed_version.as_deref(), Some("2.9.4+dfsg1-2.2+deb9u7"));
    let silenced = scan(
        &catalog,
        &advisories,
        &options(Some("ignore:\n  - id: CVE-2022-29824\n    reason: r\n")),
    )
    .unwrap();
    assert!(silenced.findings.is_empty());
}
