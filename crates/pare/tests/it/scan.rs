//! `pare db` and `pare scan` on the real test images, with the reference
//! advisories (crates/pare-vuln/tests/data): the Debian security tracker
//! records and the whole PyPA advisory database.
//!
//! The oracles are independent of pare: the installed packages come from
//! the image's own `dpkg-query` (run by Docker) and its own python's
//! `importlib.metadata`; Debian verdicts are derived in SOURCES.md's way
//! with `dpkg --compare-versions`; PyPI ranges are evaluated with pip's
//! vendored `packaging`; the `apps` image's Go toolchain (`stdlib`) against
//! real golang/vulndb records, with the Go oracle of pare-vuln's ecosystem
//! tests (`golang.org/x/mod/semver`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::*;
use crate::require;

fn advisories(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../pare-vuln/tests/data")
        .join(name)
}

/// A database holding the reference advisories, imported by `pare db`.
fn reference_database(dir: &Path) -> PathBuf {
    let db = dir.join("vulns.db");
    let tracker = advisories("debian-tracker");
    let pypa = advisories("pypa-osv");
    pare_ok(&[
        "db",
        "import",
        "--db",
        db.to_str().unwrap(),
        tracker.join("records").to_str().unwrap(),
        tracker.join("dsa").to_str().unwrap(),
        pypa.to_str().unwrap(),
    ]);
    db
}

fn scan_json(db: &Path, image: &str, extra: &[&str]) -> Value {
    let mut args = vec!["scan", "--db", db.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    args.push(image);
    serde_json::from_str(&pare_ok(&args)).expect("scan JSON")
}

/// `docker load`s a test image archive and returns its tag.
fn loaded(name: &str, archive: &Path) -> String {
    run("docker", &["load", "-q", "-i", archive.to_str().unwrap()]);
    format!("pare-test/{name}:bookworm")
}

/// The image's own dpkg: binary package → (source package, source version).
fn dpkg_sources(tag: &str) -> BTreeMap<String, (String, String)> {
    let out = run(
        "docker",
        &[
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "dpkg-query",
            tag,
            "-W",
            "-f",
            "${db:Status-Abbrev}\t${binary:Package}\t${source:Package}\t${source:Version}\n",
        ],
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("ii"))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            // `binary:Package` carries `:amd64` for Multi-Arch: same.
            let binary = f[1].split(':').next().unwrap().to_string();
            (binary, (f[2].to_string(), f[3].to_string()))
        })
        .collect()
}

/// `dpkg --compare-versions A ge B`, by the host's dpkg.
fn dpkg_at_least(a: &str, b: &str) -> bool {
    Command::new("dpkg")
        .args(["--compare-versions", a, "ge", b])
        .status()
        .unwrap()
        .success()
}

/// The package lines of a tracker record: (release or None for sid,
/// package, kind, version).
fn package_lines(record: &Value) -> Vec<(Option<String>, String, String, Option<String>)> {
    record["Annotations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["Type"] == "package")
        .map(|a| {
            (
                a["Release"].as_str().map(str::to_string),
                a["Package"].as_str().unwrap().to_string(),
                a["Kind"].as_str().unwrap().to_string(),
                a["Version"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Expected {
    Fixed,
    Open,
    NotAffected,
}

/// SOURCES.md's derivation for bookworm: the `[bookworm]` line; else a DSA
/// whose xref lists the CVE and has a `[bookworm]` fixed line; else the sid
/// line, compared with the installed source version.
fn expected(cve: &Value, dsas: &[Value], package: &str, installed: &str) -> Expected {
    let from = |kind: &str, version: Option<&str>| match (kind, version) {
        ("fixed", Some(v)) if dpkg_at_least(installed, v) => Expected::Fixed,
        ("fixed", _) => Expected::Open,
        ("not-affected" | "removed" | "itp" | "undetermined", _) => Expected::NotAffected,
        _ => Expected::Open,
    };
    let lines = package_lines(cve);
    if let Some((_, _, kind, version)) = lines
        .iter()
        .find(|(r, p, _, _)| r.as_deref() == Some("bookworm") && p == package)
    {
        return from(kind, version.as_deref());
    }
    let id = cve["Header"]["ID"].as_str().unwrap();
    let via_dsa = dsas
        .iter()
        .filter(|d| {
            d["Annotations"].as_array().unwrap().iter().any(|a| {
                a["Type"] == "xref"
                    && a["Bugs"]
                        .as_array()
                        .is_some_and(|b| b.iter().any(|b| b == id))
            })
        })
        .flat_map(package_lines)
        .filter(|(r, p, k, _)| r.as_deref() == Some("bookworm") && p == package && k == "fixed")
        .filter_map(|(_, _, _, v)| v)
        .next();
    if let Some(version) = via_dsa {
        return from("fixed", Some(&version));
    }
    match lines
        .iter()
        .find(|(r, p, _, _)| r.is_none() && p == package)
    {
        Some((_, _, kind, version)) => from(kind, version.as_deref()),
        None => Expected::NotAffected,
    }
}

fn read_records(dir: &Path) -> Vec<Value> {
    let mut records: Vec<Value> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .collect();
    records.sort_by_key(|r| r["Header"]["ID"].as_str().unwrap().to_string());
    records
}

/// (package, id) of every finding of a scan.
fn findings(scan: &Value) -> BTreeSet<(String, String)> {
    scan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["package"].as_str().unwrap().to_string(),
                f["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_debian_tracker_verdict_on_the_test_images_is_the_one_derived_from_their_packages() {
    require!(docker());
    let tmp = tempfile::tempdir().unwrap();
    let db = reference_database(tmp.path());
    let tracker = advisories("debian-tracker");
    let cves = read_records(&tracker.join("records"));
    let dsas = read_records(&tracker.join("dsa"));
    assert_eq!(cves.len(), 46);
    let mut checked = BTreeMap::<&str, usize>::new();
    for name in [
        "debian", "redis", "nginx", "python", "node", "perl", "pyold",
    ] {
        let archive = require!(test_image(name));
        let tag = loaded(name, &archive);
        let installed = dpkg_sources(&tag);
        let scan = scan_json(&db, archive.to_str().unwrap(), &[]);
        let found = findings(&scan);
        for cve in &cves {
            let id = cve["Header"]["ID"].as_str().unwrap();
            for (binary, (source, version)) in &installed {
                if !package_lines(cve).iter().any(|(_, p, _, _)| p == source) {
                    continue;
                }
                let want = expected(cve, &dsas, source, version);
                let reported = found.contains(&(binary.clone(), id.to_string()));
                assert_eq!(
                    reported,
                    want == Expected::Open,
                    "{name}: {id} for {binary} (source {source} {version}): expected {want:?}, \
                     pare {}",
                    if reported { "reports it" } else { "does not" }
                );
                *checked
                    .entry(match want {
                        Expected::Fixed => "fixed",
                        Expected::Open => "open",
                        Expected::NotAffected => "not affected",
                    })
                    .or_default() += 1;
            }
        }
        // Nothing reported that no record for the package's source gives.
        for (binary, id) in &found {
            if id.starts_with("CVE-") && installed.contains_key(binary) {
                let source = &installed[binary].0;
                assert!(
                    cves.iter().any(|c| c["Header"]["ID"] == id.as_str()
                        && package_lines(c).iter().any(|(_, p, _, _)| p == source)),
                    "{name}: {id} reported for {binary}, whose source {source} no record names"
                );
            }
        }
    }
    eprintln!("verdicts checked: {checked:?}");
    // Every kind of verdict was met on real packages.
    for kind in ["fixed", "open", "not affected"] {
        assert!(
            checked.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} verdict: {checked:?}"
        );
    }
}

/// The versions the image's own python sees for `names`.
fn python_versions(tag: &str, names: &[&str]) -> BTreeMap<String, String> {
    let script =
        format!("import importlib.metadata as m\nfor n in {names:?}:\n    print(n, m.version(n))");
    let out = run(
        "docker",
        &[
            "run",
            "--rm",
            "--network",
            "none",
            tag,
            "python3",
            "-c",
            &script,
        ],
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (n, v) = l.split_once(' ').unwrap();
            (n.to_string(), v.to_string())
        })
        .collect()
}

/// The PyPA records that affect each (name, version), by pip's vendored
/// `packaging` (crates/pare-vuln/tests/oracles/osv_pypi.py): name → IDs.
fn pypi_oracle(installed: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../pare-vuln/tests/oracles/osv_pypi.py");
    let mut args = vec![
        script.to_str().unwrap().to_string(),
        advisories("pypa-osv").to_str().unwrap().to_string(),
    ];
    args.extend(installed.iter().map(|(n, v)| format!("{n}={v}")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run("python3", &args);
    let mut ids = BTreeMap::<String, BTreeSet<String>>::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let mut words = line.split(' ');
        let (name, id) = (words.next().unwrap(), words.next().unwrap());
        ids.entry(name.to_string())
            .or_default()
            .insert(id.to_string());
    }
    ids
}

#[test]
fn old_pip_installed_packages_get_the_pypa_records_that_affect_them() {
    require!(docker());
    let archive = require!(test_image("pyold"));
    let tag = loaded("pyold", &archive);
    let tmp = tempfile::tempdir().unwrap();
    let db = reference_database(tmp.path());
    let scan = scan_json(&db, archive.to_str().unwrap(), &[]);
    let names = ["urllib3", "jinja2", "requests"];
    let versions = python_versions(&tag, &names);
    let oracle = pypi_oracle(&versions);
    for name in names {
        let version = &versions[name];
        let expected = oracle.get(name).cloned().unwrap_or_default();
        let reported: BTreeSet<String> = scan["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["package"].as_str().unwrap().eq_ignore_ascii_case(name))
            .map(|f| {
                assert_eq!(f["installed_version"], version.as_str());
                assert!(f["path"].as_str().unwrap().contains("dist-packages"), "{f}");
                f["id"].as_str().unwrap().to_string()
            })
            .collect();
        assert!(
            !expected.is_empty(),
            "{name} {version}: the oracle found nothing"
        );
        assert_eq!(reported, expected, "{name} {version}");
    }
    // Known records of these releases, named so a regression reads plainly.
    let ids: BTreeSet<&str> = scan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains("PYSEC-2021-108"),
        "urllib3 1.26.4, CVE-2021-33503"
    );
    assert!(
        ids.contains("PYSEC-2021-66"),
        "jinja2 2.11.2, CVE-2020-28493"
    );
}

#[test]
fn minified_redis_drops_the_records_of_packages_it_dropped_and_keeps_those_of_its_libraries() {
    let archive = require!(test_image("redis"));
    let tmp = tempfile::tempdir().unwrap();
    let db = reference_database(tmp.path());
    let out = tmp.path().join("min.tar");
    let report = tmp.path().join("report.json");
    let vex = tmp.path().join("vex.json");
    let printed = pare_ok(&[
        "minify",
        "--static-only",
        "--db",
        db.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "--vex",
        vex.to_str().unwrap(),
        archive.to_str().unwrap(),
        "-o",
        &format!("docker-archive:{}", out.display()),
    ]);
    assert!(printed.contains("vulnerabilities"), "{printed}");

    let before = scan_json(&db, archive.to_str().unwrap(), &[]);
    let after = scan_json(&db, out.to_str().unwrap(), &[]);
    let of = |scan: &Value, package: &str| -> BTreeSet<String> {
        findings(scan)
            .into_iter()
            .filter(|(p, _)| p == package)
            .map(|(_, id)| id)
            .collect()
    };
    // Dropped: their records were reported before and are gone.
    for package in ["apt", "tar", "coreutils", "perl-base"] {
        assert!(of(&after, package).is_empty(), "{package} still reported");
    }
    for package in ["apt", "tar", "coreutils"] {
        assert!(
            !of(&before, package).is_empty(),
            "{package} had no finding before"
        );
    }
    // Kept: the same records as before, not zero by blindness.
    for package in ["libc6", "libssl3"] {
        assert_eq!(of(&after, package), of(&before, package), "{package}");
    }
    assert!(
        !of(&after, "libssl3").is_empty(),
        "libssl3 CVE-2024-5535 (postponed)"
    );

    // The report counts what the scans say.
    let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(
        report["before"]["vulnerabilities"]["total"],
        before["summary"]["total"]
    );
    assert_eq!(
        report["after"]["vulnerabilities"]["total"],
        after["summary"]["total"]
    );
    assert!(
        report["after"]["vulnerabilities"]["total"].as_u64()
            < report["before"]["vulnerabilities"]["total"].as_u64()
    );

    // OpenVEX: what minification removed is not_affected, component_not_present.
    let vex: Value = serde_json::from_slice(&std::fs::read(&vex).unwrap()).unwrap();
    let statements = vex["statements"].as_array().unwrap();
    let removed: BTreeSet<&str> = statements
        .iter()
        .filter(|s| s["status"] == "not_affected")
        .map(|s| {
            assert_eq!(s["justification"], "component_not_present");
            s["vulnerability"]["name"].as_str().unwrap()
        })
        .collect();
    assert!(
        removed.contains("CVE-2011-3374"),
        "apt's record: {removed:?}"
    );
    assert!(!removed.contains("CVE-2024-5535"), "libssl3 is kept");
}

#[test]
fn fail_on_exits_3_at_or_above_the_threshold_and_ignores_apply_until_they_expire() {
    let archive = require!(test_image("redis"));
    let tmp = tempfile::tempdir().unwrap();
    let db = reference_database(tmp.path());
    let image = archive.to_str().unwrap();
    let scan = scan_json(&db, image, &[]);
    let severities: BTreeSet<String> = scan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap().to_lowercase())
        .collect();
    let status = |args: &[&str]| {
        let mut all = vec!["scan", "--db", db.to_str().unwrap()];
        all.extend_from_slice(args);
        all.push(image);
        pare().args(&all).output().unwrap().status.code()
    };
    // The tracker's unimportant urgency is Grype's negligible: the lowest.
    assert!(severities.contains("negligible"), "{severities:?}");
    assert_eq!(status(&["--fail-on", "negligible"]), Some(3));
    // `unknown` is the lowest: any finding meets it.
    assert_eq!(status(&["--fail-on", "unknown"]), Some(3));
    if !severities.contains("critical") {
        assert_eq!(status(&["--fail-on", "critical"]), Some(0));
    }

    // An ignore rule removes a finding until its expiry date.
    let rules = tmp.path().join("ignore.yaml");
    let write_rules = |expires: &str| {
        std::fs::write(
            &rules,
            format!(
                "ignore:\n  - id: CVE-2011-3374\n    reason: apt is not run\n    expires: {expires}\n"
            ),
        )
        .unwrap()
    };
    write_rules("2999-01-01");
    let ignored = scan_json(&db, image, &["--ignore-file", rules.to_str().unwrap()]);
    let ids = |scan: &Value| -> BTreeSet<String> {
        findings(scan).into_iter().map(|(_, id)| id).collect()
    };
    assert!(ids(&scan).contains("CVE-2011-3374"));
    assert!(!ids(&ignored).contains("CVE-2011-3374"));
    assert!(
        ignored["ignored"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i.to_string().contains("apt is not run"))
    );
    write_rules("2000-01-01");
    let expired = pare()
        .args([
            "scan",
            "--db",
            db.to_str().unwrap(),
            "--format",
            "json",
            "--ignore-file",
        ])
        .arg(&rules)
        .arg(image)
        .output()
        .unwrap();
    assert!(expired.status.success());
    let expired_scan: Value = serde_json::from_slice(&expired.stdout).unwrap();
    assert!(
        ids(&expired_scan).contains("CVE-2011-3374"),
        "an expired rule no longer applies"
    );
    assert!(String::from_utf8_lossy(&expired.stderr).contains("expired"));

    // --ignore-unfixed leaves out what has no fix (apt's <unfixed>).
    let fixable = scan_json(&db, image, &["--ignore-unfixed"]);
    assert!(!ids(&fixable).contains("CVE-2011-3374"));
}

#[test]
fn sarif_and_cyclonedx_of_a_scan_are_valid_against_their_schemas() {
    require!(jsonschema_available());
    let archive = require!(test_image("pyold"));
    let tmp = tempfile::tempdir().unwrap();
    let db = reference_database(tmp.path());
    for (format, schema) in [
        ("sarif", schemas().join("sarif-schema-2.1.0.json")),
        (
            "cyclonedx-json",
            schemas().join("cyclonedx-1.6/bom-1.6.schema.json"),
        ),
    ] {
        let out = tmp.path().join(format!("scan.{format}.json"));
        pare_ok(&[
            "scan",
            "--db",
            db.to_str().unwrap(),
            "--format",
            format,
            "-o",
            out.to_str().unwrap(),
            archive.to_str().unwrap(),
        ]);
        assert!(validate(&schema, &out), "{format} is not valid");
        let document: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        let text = document.to_string();
        assert!(
            text.contains("PYSEC-2021-108"),
            "{format} lacks urllib3's record"
        );
    }
}

#[test]
fn scan_without_a_database_says_how_to_make_one() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("none.db");
    let out = pare()
        .args(["scan", "--db", missing.to_str().unwrap(), "dir:/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("pare db import"), "{stderr}");
    assert!(!missing.exists(), "scan created a database");
}

#[test]
fn an_empty_or_foreign_file_as_the_database_is_refused_untouched() {
    // A failed download or a wrong --db must never read as a clean scan.
    let tmp = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("empty.db", &b""[..]),
        ("junk.db", &b"not a database at all\n"[..]),
    ] {
        let db = tmp.path().join(name);
        std::fs::write(&db, bytes).unwrap();
        let out = pare()
            .args([
                "scan",
                "--db",
                db.to_str().unwrap(),
                "dir:/nonexistent-root",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("not a pare vulnerability database"),
            "{name}: {stderr}"
        );
        assert_eq!(std::fs::read(&db).unwrap(), bytes, "{name} was changed");
    }
}

#[test]
fn db_import_is_idempotent_and_a_corrupt_source_leaves_the_database_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let db = reference_database(tmp.path());
    let status = || -> Value {
        serde_json::from_str(&pare_ok(&[
            "db",
            "status",
            "--format",
            "json",
            "--db",
            db.to_str().unwrap(),
        ]))
        .unwrap()
    };
    let first = status();
    assert_eq!(first["debian_cves"], 46);
    assert!(first["osv_records"].as_u64().unwrap() > 2000);
    reference_database(tmp.path());
    let second = status();
    for key in ["osv_records", "debian_cves", "debian_advisories"] {
        assert_eq!(first[key], second[key], "{key}");
    }

    // A folder of good records and one truncated one: nothing is imported.
    let mixed = tmp.path().join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    let good = std::fs::read(advisories("pypa-osv/vulns/urllib3/PYSEC-2021-108.yaml")).unwrap();
    std::fs::write(
        mixed.join("NEW-1.yaml"),
        String::from_utf8_lossy(&good).replace("PYSEC-2021-108", "PARE-TEST-1"),
    )
    .unwrap();
    let truncated = std::fs::read(advisories("debian-tracker/records/CVE-2023-4911.json")).unwrap();
    std::fs::write(
        mixed.join("CVE-2099-1.json"),
        &truncated[..truncated.len() / 2],
    )
    .unwrap();
    let out = pare()
        .args(["db", "import", "--db", db.to_str().unwrap()])
        .arg(&mixed)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("CVE-2099-1.json"),
        "names the bad file: {stderr}"
    );
    assert_eq!(
        status()["sources"],
        second["sources"],
        "the database changed"
    );
    assert_eq!(
        status()["osv_records"],
        second["osv_records"],
        "the database changed"
    );
}

#[test]
fn db_update_downloads_from_a_server_on_loopback_and_imports() {
    require!(tool("python3"));
    let tmp = tempfile::tempdir().unwrap();
    // An osv.dev-style export: a zip of ID.json members, made by python's zipfile.
    let served = tmp.path().join("served");
    std::fs::create_dir_all(served.join("PyPI")).unwrap();
    let zip = served.join("PyPI/all.zip");
    let pypa = advisories("pypa-osv/vulns/jinja2");
    run(
        "python3",
        &[
            "-c",
            "import sys, zipfile, pathlib, json\n\
             z = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED)\n\
             import importlib\n\
             for p in sorted(pathlib.Path(sys.argv[2]).glob('*.yaml')):\n\
             \x20   z.writestr(p.stem + '.yaml', p.read_bytes())\n\
             z.close()",
            zip.to_str().unwrap(),
            pypa.to_str().unwrap(),
        ],
    );
    let port = test_port() + 7;
    let mut server = Command::new("python3")
        .args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &port.to_string(),
            "--directory",
        ])
        .arg(&served)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    connect(port);
    let db = tmp.path().join("vulns.db");
    let out = pare()
        .args(["db", "update", "--db", db.to_str().unwrap(), "--source"])
        .arg(format!("PyPI=http://127.0.0.1:{port}/PyPI/all.zip"))
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: Value = serde_json::from_str(&pare_ok(&[
        "db",
        "status",
        "--format",
        "json",
        "--db",
        db.to_str().unwrap(),
    ]))
    .unwrap();
    let expected = std::fs::read_dir(&pypa).unwrap().count() as u64;
    assert_eq!(status["osv_records"], expected);
}

/// The Go oracle of pare-vuln's ecosystem tests (`tests/oracles/osv_go.go`:
/// the OSV range walk with the Go team's `golang.org/x/mod/semver`) run
/// on one `stdlib` version: (record id, fixed version) of every record
/// of `dir` affecting it.
fn go_stdlib_oracle(dir: &Path, version: &str) -> Option<BTreeSet<(String, String)>> {
    let x_mod = Path::new("/usr/share/gocode/src/golang.org/x/mod/semver/semver.go");
    let go_ok = Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !go_ok || !x_mod.exists() {
        missing("the Go toolchain with golang.org/x/mod (golang-golang-x-mod-dev)")?;
    }
    let tmp = tempfile::tempdir().unwrap();
    let program = tmp.path().join("osv_go.go");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../pare-vuln/tests/oracles/osv_go.go"),
        &program,
    )
    .unwrap();
    let mut child = Command::new("go")
        .arg("run")
        .arg(&program)
        .arg(dir)
        .env("GO111MODULE", "off")
        .env("GOPATH", "/usr/share/gocode")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "")
        .env("GOCACHE", tmp.path().join("cache"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("stdlib\t{version}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the Go oracle failed");
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f[2].to_string(), f[3].to_string())
            })
            .collect(),
    )
}

#[test]
fn go_binaries_of_the_apps_image_get_the_stdlib_records_the_go_oracle_names() {
    let archive = require!(test_image("apps"));
    let go = advisories("osv-ecosystems/Go");
    let expected = require!(go_stdlib_oracle(&go, "go1.19.8"));
    assert!(!expected.is_empty(), "the Go oracle found nothing");
    let tmp = tempfile::tempdir().unwrap();
    let db = reference_database(tmp.path());
    pare_ok(&[
        "db",
        "import",
        "--db",
        db.to_str().unwrap(),
        go.to_str().unwrap(),
    ]);
    let scan = scan_json(&db, archive.to_str().unwrap(), &[]);
    // stdlib findings by the binary they were found in.
    let mut by_path: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for f in scan["findings"].as_array().unwrap() {
        if f["package"] != "stdlib" {
            continue;
        }
        assert_eq!(f["installed_version"], "go1.19.8", "{f}");
        let path = f["path"].as_str().expect("a path").to_string();
        let fixed = f["fixed_version"].as_str().expect("a fixed version");
        by_path
            .entry(path)
            .or_default()
            .insert((f["id"].as_str().unwrap().to_string(), fixed.to_string()));
    }
    // Both Go programs of the image: the test's own and Debian's registry.
    assert!(
        by_path.contains_key("/usr/local/bin/pare-go-hello"),
        "{by_path:?}"
    );
    assert!(
        by_path.contains_key("/usr/bin/docker-registry"),
        "{by_path:?}"
    );
    for (path, got) in &by_path {
        assert_eq!(got, &expected, "{path}");
    }
    // The records chosen not to affect go1.19.8 (fixed in it, in 1.19.1,
    // introduced in 1.21) stayed out.
    for id in ["GO-2023-1705", "GO-2022-0988", "GO-2023-2044"] {
        assert!(!expected.iter().any(|(i, _)| i == id), "{id}");
    }
}

#[test]
fn minify_with_a_bad_ignore_file_fails_before_writing_anything() {
    let archive = require!(test_image("redis"));
    let tmp = tempfile::tempdir().unwrap();
    let db = reference_database(tmp.path());
    // The default rules file of the folder pare runs in.
    let work = tmp.path().join("checkout");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(
        work.join(".pare-ignore.yaml"),
        "ignore:\n  - reason: no id\n",
    )
    .unwrap();
    let out_dir = tmp.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = pare()
        .current_dir(&work)
        .args(["minify", "--static-only", "--db", db.to_str().unwrap()])
        .arg(&archive)
        .arg("-o")
        .arg(format!(
            "docker-archive:{}",
            out_dir.join("min.tar").display()
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(".pare-ignore.yaml"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(&out_dir).unwrap().count(),
        0,
        "something was written"
    );
}
