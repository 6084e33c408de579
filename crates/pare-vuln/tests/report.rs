//! The renderings of a scan: Grype's table, the JSON contract, and SARIF,
//! CycloneDX and OpenVEX documents checked against their published schemas
//! by an independent validator (python-jsonschema).

mod common;

use common::*;
use pare_sbom::cyclonedx::Subject;
use pare_sbom::model::{Catalog, PackageType};
use pare_vuln::advisories::InMemory;
use pare_vuln::ignore::{Date, IgnoreRules, Kind};
use pare_vuln::report;
use pare_vuln::scan::{Scan, ScanOptions, scan};
use serde_json::Value;

const SUBJECT: Subject<'static> = Subject {
    name: "docker.io/library/app:1.0",
    digest: Some("sha256:0123abcd"),
};
const MINIFIED: Subject<'static> = Subject {
    name: "docker.io/library/app:1.0-pare",
    digest: Some("sha256:4567ef01"),
};

fn advisories() -> InMemory {
    let mut a = debian();
    a.osv.push(record(
        &serde_json::json!({
            "id": "PYSEC-2099-1",
            "aliases": ["CVE-2099-1", "GHSA-aaaa-bbbb-cccc"],
            "summary": "demo is badly broken",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{
                "package": {"ecosystem": "PyPI", "name": "demo"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1"}]}],
            }],
        })
        .to_string(),
    ));
    a
}

fn catalog() -> Catalog {
    let mut c = bookworm(distro("debian", Some("12"), Some("bookworm")));
    c.packages
        .push(package(PackageType::Python, "demo", "1.0", None, None));
    c
}

fn run(c: &Catalog) -> Scan {
    let rules = IgnoreRules::parse(
        b"CVE-2011-3374\nCVE-2020-0001 exp:2024-01-01\n",
        Kind::TrivyIgnore,
    )
    .unwrap();
    scan(
        c,
        &advisories(),
        &ScanOptions {
            ignore_unfixed: false,
            ignore: Some(rules),
            today: Date::new(2025, 1, 1).unwrap(),
        },
    )
    .unwrap()
}

#[test]
fn table_is_aligned_like_grype() {
    let s = run(&catalog());
    let text = report::table(&s);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].ends_with("SEVERITY"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), s.findings.len() + 2, "header, rows, summary");
    // Every column of every row starts where its header does.
    let starts: Vec<usize> = ["INSTALLED", "FIXED-IN", "TYPE", "VULNERABILITY", "SEVERITY"]
        .iter()
        .map(|h| lines[0].find(h).unwrap())
        .collect();
    for (row, f) in lines[1..=s.findings.len()].iter().zip(&s.findings) {
        let cells = [
            &f.installed_version,
            "",
            f.package_type.as_str(),
            &f.id,
            f.severity.as_str(),
        ];
        for (start, cell) in starts.iter().zip(cells) {
            if !cell.is_empty() {
                assert_eq!(&row[*start..*start + cell.len()], cell, "{row}");
            }
        }
    }
    let demo = lines.iter().find(|l| l.starts_with("demo ")).unwrap();
    assert!(demo.contains("1.1") && demo.contains("python") && demo.contains("Critical"));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("coreutils ") && l.contains("(won't fix)"))
    );
    // The critical finding comes first.
    assert!(lines[1].starts_with("demo "), "{}", lines[1]);
    let summary = lines.last().unwrap();
    assert!(
        summary.contains(&format!("{} vulnerabilities", s.summary.total)),
        "{summary}"
    );
    assert!(
        summary.contains("1 critical") && summary.contains("1 ignored"),
        "{summary}"
    );
    assert!(
        summary.contains("expired ignore rules: CVE-2020-0001"),
        "{summary}"
    );

    let empty = run(&Catalog::default());
    assert!(report::table(&empty).starts_with("No vulnerabilities found\n"));
}

#[test]
fn json_report_keeps_its_field_names() {
    let s = run(&catalog());
    let v = report::json(&s, &SUBJECT);
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), s.findings.len());
    for f in findings {
        for key in [
            "id",
            "aliases",
            "package",
            "installed_version",
            "fixed_version",
            "severity",
            "source",
            "path",
            "state",
            "cvss_score",
            "purl",
            "package_type",
            "summary",
            "layer",
        ] {
            assert!(f.get(key).is_some(), "{key} missing in {f}");
        }
    }
    let demo = findings.iter().find(|f| f["package"] == "demo").unwrap();
    assert_eq!(demo["severity"], "Critical");
    assert_eq!(demo["cvss_score"], 9.8);
    assert_eq!(demo["state"], "fixed");
    assert_eq!(demo["source"], "osv:PyPI");
    let wont = findings
        .iter()
        .find(|f| f["package"] == "coreutils")
        .unwrap();
    assert_eq!(wont["state"], "wont-fix");
    assert_eq!(wont["fixed_version"], Value::Null);
    let by = v["summary"]["by_severity"].as_object().unwrap();
    let keys: Vec<&str> = by.keys().map(String::as_str).collect();
    for k in ["critical", "high", "medium", "low", "negligible", "unknown"] {
        assert!(keys.contains(&k), "{k}");
    }
    assert_eq!(v["ignored"][0]["finding"]["id"], "CVE-2011-3374");
    assert!(
        v["ignored"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("line 1")
    );
    assert_eq!(v["expired_rules"][0]["id"], "CVE-2020-0001");
    assert_eq!(v["subject"]["digest"], "sha256:0123abcd");
}

#[test]
fn sarif_is_valid_and_rates_for_code_scanning() {
    let s = run(&catalog());
    let v = report::sarif(&s, &SUBJECT);
    if let Some(r) = validate("sarif-schema-2.1.0.json", &v) {
        r.unwrap();
    }
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), s.findings.len());
    let ids: std::collections::BTreeSet<&str> = s.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(rules.len(), ids.len(), "one rule per vulnerability id");
    for r in results {
        let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], r["ruleId"]);
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(!uri.starts_with('/'), "{uri}");
    }
    let demo = results
        .iter()
        .find(|r| r["ruleId"] == "PYSEC-2099-1")
        .unwrap();
    assert_eq!(demo["level"], "error");
    let rule = rules.iter().find(|r| r["id"] == "PYSEC-2099-1").unwrap();
    assert_eq!(rule["properties"]["security-severity"], "9.8");
    assert!(
        rule["help"]["text"]
            .as_str()
            .unwrap()
            .contains("CVE-2099-1")
    );
    // Debian urgency without CVSS: a stand-in score, a note for low ones.
    let low = results
        .iter()
        .find(|r| r["ruleId"] == "CVE-2016-2781")
        .unwrap();
    assert_eq!(low["level"], "note");
}

#[test]
fn cyclonedx_has_vulnerabilities_on_its_components() {
    let c = catalog();
    let s = run(&c);
    let v = report::cyclonedx(&c, &s, &SUBJECT);
    if let Some(r) = validate("cyclonedx-1.6/bom-1.6.schema.json", &v) {
        r.unwrap();
    }
    let refs: Vec<&str> = v["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    let vulns = v["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), s.findings.len());
    for vuln in vulns {
        let r = vuln["affects"][0]["ref"].as_str().unwrap();
        assert!(refs.contains(&r), "{r}");
    }
    let demo = vulns.iter().find(|v| v["id"] == "PYSEC-2099-1").unwrap();
    assert_eq!(demo["ratings"][0]["method"], "CVSSv31");
    assert_eq!(demo["ratings"][0]["score"], 9.8);
    assert_eq!(demo["ratings"][0]["severity"], "critical");
    assert_eq!(demo["recommendation"], "Upgrade demo to 1.1");
    assert_eq!(demo["references"].as_array().unwrap().len(), 2);
    let libc = vulns
        .iter()
        .find(|v| {
            v["id"] == "CVE-2024-2961" && v["affects"][0]["ref"].as_str().unwrap().contains("libc6")
        })
        .unwrap();
    assert_eq!(libc["source"]["name"], "Debian Security Tracker");
    assert_eq!(libc["ratings"][0]["method"], "other");
}

#[test]
fn openvex_states_what_minification_removed() {
    let full = catalog();
    let before = run(&full);
    // The minified image keeps glibc and demo, drops everything else.
    let mut small = full.clone();
    small
        .packages
        .retain(|p| ["libc6", "demo"].contains(&p.name.as_str()));
    let after = run(&small);
    let ts = "2025-01-01T00:00:00Z";
    let v = report::openvex(&before, &after, &SUBJECT, &MINIFIED, "pare test", ts);
    if let Some(r) = validate("openvex-0.2.0.json", &v) {
        r.unwrap();
    }
    assert_eq!(v["@context"], "https://openvex.dev/ns/v0.2.0");
    let statements = v["statements"].as_array().unwrap();
    assert_eq!(
        statements.len(),
        before.findings.len(),
        "one per (vulnerability, package)"
    );
    let product = report::image_purl(&MINIFIED);
    assert!(
        product.starts_with("pkg:oci/app@sha256%3A4567ef01"),
        "{product}"
    );
    let of = |id: &str, pkg: &str| {
        statements
            .iter()
            .find(|s| {
                s["vulnerability"]["name"] == id
                    && s["products"][0]["subcomponents"][0]["@id"]
                        .as_str()
                        .unwrap()
                        .contains(&format!("/{pkg}@"))
            })
            .unwrap_or_else(|| panic!("{id} {pkg}"))
    };
    let gone = of("CVE-2024-2961", "libc-bin");
    assert_eq!(gone["status"], "not_affected");
    assert_eq!(gone["justification"], "component_not_present");
    assert_eq!(gone["products"][0]["@id"], product.as_str());
    let kept = of("CVE-2024-2961", "libc6");
    assert_eq!(kept["status"], "affected");
    assert_eq!(kept["action_statement"], "Upgrade libc6 to 2.36-9+deb12u6");
    assert_eq!(of("PYSEC-2099-1", "demo")["status"], "affected");
    assert_eq!(of("CVE-2016-2781", "coreutils")["status"], "not_affected");

    // Deterministic: same inputs, same document; another time, another id.
    let again = report::openvex(&before, &after, &SUBJECT, &MINIFIED, "pare test", ts);
    assert_eq!(v, again);
    let later = report::openvex(
        &before,
        &after,
        &SUBJECT,
        &MINIFIED,
        "pare test",
        "2025-01-02T00:00:00Z",
    );
    assert_ne!(v["@id"], later["@id"]);
}
