//! Real OSV records of the Go, crates.io, npm, Maven and Alpine ecosystems
//! (`tests/data/osv-ecosystems/`, origins in `tests/data/README.md`)
//! matched by `scan()` — against `InMemory` and against a `Store` that
//! imported the folder — for package versions at, just below and just above
//! every event of every record, and compared with an independent oracle:
//!
//! * Go: `tests/oracles/osv_go.go`, run with the installed Go toolchain and
//!   the Go team's `golang.org/x/mod/semver` (Debian golang-golang-x-mod-dev);
//! * npm, crates.io: `tests/oracles/osv_semver.js`, npm's own `semver`
//!   package (Debian node-semver) judging each interval as a range;
//! * Maven: Maven's `ComparableVersion` (the installed maven-artifact jar,
//!   through `tests/oracles/MavenOrder.java`) orders the versions, and the
//!   records are walked here from their raw JSON (not pare's parser);
//! * Alpine: no apk here; the order is pare's apk order, which
//!   `version_vectors.rs` checks against apk-tools' own vectors, and what is
//!   tested is release matching (`Alpine:v3.16` records against v3.16 and
//!   v3.17 images).
//!
//! A missing oracle fails the test in CI and skips it elsewhere.

mod common;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{crate_data, distro, in_ci, package};
use pare_sbom::model::{Catalog, Package, PackageType};
use pare_vuln::advisories::{Advisories, InMemory};
use pare_vuln::osv::{self, Format};
use pare_vuln::scan::{ScanOptions, scan};
use pare_vuln::store::Store;
use serde_json::Value;

/// (package name, installed version) → {(record id, fixed version)}.
type Verdicts = BTreeMap<(String, String), BTreeSet<(String, Option<String>)>>;

fn missing(what: &str) {
    assert!(!in_ci(), "oracle missing in CI: {what}");
    eprintln!("skipping: {what} is missing");
}

fn folder(ecosystem: &str) -> PathBuf {
    crate_data("osv-ecosystems").join(ecosystem)
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    out.sort();
    out
}

/// The records as plain JSON, for the oracles (never pare's parser).
fn raw(ecosystem: &str) -> Vec<Value> {
    files(&folder(ecosystem))
        .iter()
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .collect()
}

fn in_memory(ecosystem: &str) -> InMemory {
    InMemory {
        osv: files(&folder(ecosystem))
            .iter()
            .map(|p| {
                osv::parse(&std::fs::read(p).unwrap(), Format::Json)
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            })
            .collect(),
        ..InMemory::default()
    }
}

/// `(affected ecosystem, name)` → every event value and listed version.
fn boundaries(records: &[Value]) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut out: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for r in records {
        for a in r["affected"].as_array().unwrap() {
            let key = (
                a["package"]["ecosystem"].as_str().unwrap().to_owned(),
                a["package"]["name"].as_str().unwrap().to_owned(),
            );
            let slot = out.entry(key).or_default();
            for rg in a["ranges"].as_array().into_iter().flatten() {
                for e in rg["events"].as_array().unwrap() {
                    for (_, v) in e.as_object().unwrap() {
                        slot.insert(v.as_str().unwrap().to_owned());
                    }
                }
            }
            for v in a["versions"].as_array().into_iter().flatten() {
                slot.insert(v.as_str().unwrap().to_owned());
            }
        }
    }
    out
}

/// `v`, and `v` with its last number one lower and one higher (the build
/// metadata, `+…`, kept aside): 1.19.9 → 1.19.8, 1.19.10; 2.0-beta9 →
/// 2.0-beta8, 2.0-beta10; 0.6.21-r0 → 0.6.21-r1 (and 0.6.20-r0: the last
/// number that can go down).
fn around(v: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::from([v.to_owned()]);
    if v == "0" {
        return out;
    }
    let (body, build) = match v.split_once('+') {
        Some((b, m)) => (b, format!("+{m}")),
        None => (v, String::new()),
    };
    let bytes = body.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            runs.push((start, i));
        } else {
            i += 1;
        }
    }
    let with = |(s, e): (usize, usize), n: u64| format!("{}{n}{}{build}", &body[..s], &body[e..]);
    if let Some(&last) = runs.last() {
        let n: u64 = body[last.0..last.1].parse().unwrap_or(0);
        out.insert(with(last, n + 1));
        if let Some(&down) = runs.iter().rev().find(|(s, e)| body[*s..*e] != *"0") {
            let n: u64 = body[down.0..down.1].parse().unwrap_or(1);
            out.insert(with(down, n - 1));
        }
    }
    out
}

/// SemVer neighbours too: the release of a pre-release, and the lowest
/// pre-release of a release (1.2.3-0).
fn around_semver(v: &str) -> BTreeSet<String> {
    let mut out = around(v);
    if v == "0" {
        return out;
    }
    let core = v.split(['-', '+']).next().unwrap();
    out.insert(core.to_owned());
    out.insert(format!("{core}-0"));
    out
}

fn findings_of(catalog: &Catalog, advisories: &dyn Advisories) -> Verdicts {
    let result = scan(catalog, advisories, &ScanOptions::default()).unwrap();
    assert!(result.ignored.is_empty());
    let mut out = Verdicts::new();
    for f in result.findings {
        assert!(f.source.starts_with("osv:"), "{f:?}");
        out.entry((f.package.clone(), f.installed_version.clone()))
            .or_default()
            .insert((f.id, f.fixed_version));
    }
    out
}

/// Scans `catalog` against the folder's records in memory and in a store
/// that imported the folder; both must give `expected`.
fn check(ecosystem: &str, catalog: &Catalog, expected: &Verdicts) {
    let memory = findings_of(catalog, &in_memory(ecosystem));
    assert_eq!(
        &memory,
        expected,
        "{ecosystem}: scan (InMemory) differs from the oracle\n{}",
        diff(&memory, expected)
    );
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("pare.sqlite")).unwrap();
    store.import(&[folder(ecosystem)]).unwrap();
    let stored = findings_of(catalog, &store);
    assert_eq!(
        &stored,
        expected,
        "{ecosystem}: scan (Store) differs from the oracle\n{}",
        diff(&stored, expected)
    );
}

fn diff(got: &Verdicts, want: &Verdicts) -> String {
    let keys: BTreeSet<_> = got.keys().chain(want.keys()).collect();
    let mut out = String::new();
    for k in keys {
        let (g, w) = (got.get(k), want.get(k));
        if g != w {
            out += &format!("{k:?}: scan {g:?}, oracle {w:?}\n");
        }
    }
    out
}

/// Parses the oracles' "name\tversion\tID\tfixed" lines.
fn verdicts(stdout: &str) -> Verdicts {
    let mut out = Verdicts::new();
    for line in stdout.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 4, "{line}");
        let fixed = (f[3] != "-").then(|| f[3].to_owned());
        out.entry((f[0].to_owned(), f[1].to_owned()))
            .or_default()
            .insert((f[2].to_owned(), fixed));
    }
    out
}

fn run(mut cmd: Command, stdin: &str) -> String {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn queries(packages: &[Package]) -> String {
    packages
        .iter()
        .map(|p| format!("{}\t{}\n", p.name, p.version))
        .collect()
}

fn language(kind: PackageType, name: &str, version: &str, purl: String) -> Package {
    Package {
        purl,
        found_at: format!("/app/{name}"),
        ..package(kind, name, version, None, None)
    }
}

fn catalog(packages: Vec<Package>) -> Catalog {
    Catalog {
        distro: None,
        packages,
        warnings: vec![],
    }
}

// ---- Go ------------------------------------------------------------------

const GO_MOD: &str = "/usr/share/gocode/src/golang.org/x/mod/semver/semver.go";

/// The Go oracle's verdicts for `packages`, `None` when it cannot run.
fn go_oracle(packages: &[Package]) -> Option<Verdicts> {
    let go_ok = Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !go_ok || !Path::new(GO_MOD).exists() {
        missing("the Go toolchain with golang.org/x/mod (golang-go, golang-golang-x-mod-dev)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("osv_go.go");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/osv_go.go"),
        &program,
    )
    .unwrap();
    let mut cmd = Command::new("go");
    cmd.arg("run")
        .arg(&program)
        .arg(folder("Go"))
        // GOPATH mode over Debian's source tree: no module download.
        .env("GO111MODULE", "off")
        .env("GOPATH", "/usr/share/gocode")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "")
        .env("GOCACHE", dir.path().join("cache"));
    Some(verdicts(&run(cmd, &queries(packages))))
}

/// Toolchain tags around a stdlib boundary: 1.19.9 → go1.19.9, go1.19.8,
/// go1.19.10; 1.20.0 → go1.20 (how Go tagged x.y.0 before 1.21) and
/// go1.20.0; 1.21.0-rc.4 → go1.21rc4, rc3, rc5; 1.20.0-0 → go1.20rc1.
fn stdlib_tags(v: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if v == "0" {
        return out;
    }
    let (core, pre) = v.split_once('-').map_or((v, None), |(c, p)| (c, Some(p)));
    let mut it = core.split('.').map(|n| n.parse::<u64>().unwrap());
    let (x, y, z) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
    let tag = |z: u64| {
        if z == 0 {
            vec![format!("go{x}.{y}"), format!("go{x}.{y}.0")]
        } else {
            vec![format!("go{x}.{y}.{z}")]
        }
    };
    match pre {
        None => {
            for z in [z.saturating_sub(1), z, z + 1] {
                out.extend(tag(z));
            }
        }
        Some(p) => {
            let n: u64 = p.rsplit('.').next().unwrap().parse().unwrap_or(0);
            let kind = p.split('.').next().unwrap();
            let kind = if kind == "rc" || kind == "beta" {
                kind
            } else {
                "rc"
            };
            for n in [n.saturating_sub(1).max(1), n, n + 1] {
                out.insert(format!("go{x}.{y}{kind}{n}"));
            }
        }
    }
    out
}

fn go_packages() -> Vec<Package> {
    let mut packages = Vec::new();
    for ((eco, name), values) in boundaries(&raw("Go")) {
        assert_eq!(eco, "Go");
        let mut versions = BTreeSet::new();
        if name == "stdlib" {
            versions.insert("go1.19.8".to_owned()); // the apps test image's
            for v in &values {
                versions.extend(stdlib_tags(v));
            }
        } else {
            versions.insert("v2.8.2+ds1".to_owned()); // Debian's docker-registry
            for v in &values {
                versions.extend(around_semver(v).into_iter().map(|v| format!("v{v}")));
            }
            versions.remove("v0");
        }
        for v in versions {
            let purl = format!("pkg:golang/{name}@{}", v.replace('+', "%2B"));
            packages.push(language(PackageType::GoModule, &name, &v, purl));
        }
    }
    packages
}

#[test]
fn go_records_match_as_the_go_oracle_says() {
    let packages = go_packages();
    let Some(expected) = go_oracle(&packages) else {
        return;
    };
    // The oracle found the cases the records were chosen for.
    let stdlib = |v: &str| expected.get(&("stdlib".to_owned(), v.to_owned()));
    let at_image = stdlib("go1.19.8").expect("go1.19.8 is affected");
    assert!(at_image.contains(&("GO-2023-1751".into(), Some("1.19.9".into()))));
    assert!(
        !at_image
            .iter()
            .any(|(id, _)| id == "GO-2023-1705" || id == "GO-2022-0988")
    );
    assert!(stdlib("go1.21.0").is_some());
    check("Go", &catalog(packages), &expected);
}

/// Regression: Go tagged the first release of a minor version `go1.20`
/// (no `.0`) until Go 1.21, and pre-releases `go1.21rc2`. pare queried
/// `1.20` and `1.21rc2`, which no OSV `SEMVER` range can place, so every
/// stdlib record was silently missed for those toolchains.
#[test]
fn go_toolchain_tags_without_a_patch_number_match_stdlib_records() {
    let advisories = in_memory("Go");
    let packages: Vec<Package> = ["go1.20", "go1.21rc3", "go1.20.1 X:boringcrypto"]
        .iter()
        .map(|v| {
            language(
                PackageType::GoModule,
                "stdlib",
                v,
                format!("pkg:golang/stdlib@{}", v.split(' ').next().unwrap()),
            )
        })
        .collect();
    let found = findings_of(&catalog(packages), &advisories);
    let ids = |v: &str| -> BTreeSet<(String, Option<String>)> {
        found
            .get(&("stdlib".to_owned(), v.to_owned()))
            .cloned()
            .unwrap_or_default()
    };
    // go1.20 = 1.20.0: inside GO-2023-1705's 1.20.0-0..1.20.3, past
    // GO-2023-2375's fix in 1.20.0.
    assert!(ids("go1.20").contains(&("GO-2023-1705".into(), Some("1.20.3".into()))));
    assert!(!ids("go1.20").iter().any(|(id, _)| id == "GO-2023-2375"));
    // go1.21rc3 = 1.21.0-rc.3: before GO-2023-1987's fix in 1.21.0-rc.4.
    assert!(ids("go1.21rc3").contains(&("GO-2023-1987".into(), Some("1.21.0-rc.4".into()))));
    assert!(
        ids("go1.20.1 X:boringcrypto").contains(&("GO-2023-1705".into(), Some("1.20.3".into())))
    );
}

// ---- npm and crates.io ----------------------------------------------------

fn node_oracle(ecosystem: &str, packages: &[Package]) -> Option<Verdicts> {
    let node_ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node_ok || !Path::new("/usr/share/nodejs/semver/package.json").exists() {
        missing("node with npm's semver package (nodejs, node-semver)");
        return None;
    }
    let mut cmd = Command::new("node");
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/osv_semver.js"))
        .arg(folder(ecosystem))
        .arg(ecosystem)
        .env("NODE_PATH", "/usr/share/nodejs");
    Some(verdicts(&run(cmd, &queries(packages))))
}

fn semver_packages(ecosystem: &str, kind: PackageType, purl_type: &str) -> Vec<Package> {
    let mut packages = Vec::new();
    for ((eco, name), values) in boundaries(&raw(ecosystem)) {
        assert_eq!(eco, ecosystem);
        let versions: BTreeSet<String> = values
            .iter()
            .flat_map(|v| around_semver(v))
            .filter(|v| v != "0")
            .collect();
        for v in versions {
            let purl = format!("pkg:{purl_type}/{name}@{v}");
            packages.push(language(kind, &name, &v, purl));
        }
    }
    packages
}

#[test]
fn npm_records_match_as_npm_semver_says() {
    let packages = semver_packages("npm", PackageType::Npm, "npm");
    let Some(expected) = node_oracle("npm", &packages) else {
        return;
    };
    // ua-parser-js: of the releases, the three hijacked versions only
    // (0.7.30-0 and the like sort below the fixes, so they are affected).
    let hijacked: Vec<&String> = expected
        .keys()
        .filter(|(n, v)| n == "ua-parser-js" && !v.contains('-'))
        .map(|(_, v)| v)
        .collect();
    assert_eq!(hijacked, ["0.7.29", "0.8.0", "1.0.0"]);
    check("npm", &catalog(packages), &expected);
}

#[test]
fn crates_io_records_match_as_npm_semver_says() {
    let packages = semver_packages("crates.io", PackageType::RustCrate, "cargo");
    let Some(expected) = node_oracle("crates.io", &packages) else {
        return;
    };
    // Pre-releases on both sides of a bound: lettre's 0.10.0-alpha.1 ..
    // 0.10.0-rc.3, actix-http's fix in 2.0.0-alpha.1.
    assert!(expected.contains_key(&("lettre".to_owned(), "0.10.0-rc.2".to_owned())));
    assert!(!expected.contains_key(&("lettre".to_owned(), "0.10.0-rc.3".to_owned())));
    assert!(expected.contains_key(&("actix-http".to_owned(), "2.0.0-alpha.0".to_owned())));
    assert!(!expected.contains_key(&("actix-http".to_owned(), "2.0.0-alpha.1".to_owned())));
    check("crates.io", &catalog(packages), &expected);
}

// ---- Maven and Alpine: orders from outside, ranges walked here --------------

/// The records affecting `version` of `name`, walking each range's events
/// in `cmp`'s order (OSV's evaluation), with the fix that closes the
/// interval holding it; `release` picks the affected entries.
fn walk(
    records: &[Value],
    release: &str,
    name: &str,
    version: &str,
    cmp: &dyn Fn(&str, &str) -> Ordering,
) -> BTreeSet<(String, Option<String>)> {
    let order = |a: &str, b: &str| match (a, b) {
        ("0", "0") => Ordering::Equal,
        ("0", _) => Ordering::Less,
        (_, "0") => Ordering::Greater,
        _ => cmp(a, b),
    };
    let mut out = BTreeSet::new();
    for r in records {
        let (mut affected, mut best): (bool, Option<String>) = (false, None);
        for a in r["affected"].as_array().unwrap() {
            if a["package"]["ecosystem"] != release || a["package"]["name"] != name {
                continue;
            }
            for l in a["versions"].as_array().into_iter().flatten() {
                affected |= order(l.as_str().unwrap(), version).is_eq();
            }
            for rg in a["ranges"].as_array().into_iter().flatten() {
                let mut events: Vec<(&str, &str)> = rg["events"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|e| e.as_object().unwrap().iter())
                    .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
                    .collect();
                events.sort_by(|a, b| order(a.1, b.1));
                for (i, (kind, v)) in events.iter().enumerate() {
                    if *kind != "introduced" || order(version, v).is_lt() {
                        continue;
                    }
                    let end = events[i + 1..].iter().find(|(k, _)| *k != "introduced");
                    let inside = match end {
                        Some(("fixed", f)) => order(version, f).is_lt(),
                        Some(("last_affected", l)) => order(version, l).is_le(),
                        _ => true,
                    };
                    if inside {
                        affected = true;
                        if let Some(("fixed", f)) = end
                            && best.as_deref().is_none_or(|b| order(f, b).is_lt())
                        {
                            best = Some((*f).to_owned());
                        }
                    }
                }
            }
        }
        if affected {
            out.insert((r["id"].as_str().unwrap().to_owned(), best));
        }
    }
    out
}

fn maven_jar() -> Option<PathBuf> {
    [
        "/usr/share/maven/lib/maven-artifact-3.x.jar",
        "/usr/share/java/maven3-artifact.jar",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// Maven's `ComparableVersion` order of every pair of `versions`.
fn maven_order(versions: &BTreeSet<String>) -> Option<BTreeMap<(String, String), Ordering>> {
    let java_ok = Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    let Some(jar) = maven_jar().filter(|_| java_ok) else {
        missing("java with Maven's maven-artifact jar (maven, openjdk-17-jdk-headless)");
        return None;
    };
    let pairs: Vec<(String, String)> = versions
        .iter()
        .flat_map(|a| versions.iter().map(move |b| (a.clone(), b.clone())))
        .collect();
    let input: String = pairs.iter().map(|(a, b)| format!("{a}\t{b}\n")).collect();
    let mut cmd = Command::new("java");
    cmd.arg("-cp")
        .arg(jar)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/MavenOrder.java"));
    let out = run(cmd, &input);
    let signs: Vec<&str> = out.lines().collect();
    assert_eq!(signs.len(), pairs.len());
    Some(
        pairs
            .into_iter()
            .zip(signs)
            .map(|(p, s)| (p, s.parse::<i32>().unwrap().cmp(&0)))
            .collect(),
    )
}

/// Regression: pare has no package type for Java archives, so Maven
/// packages are typed `Binary`, and `scan()` skipped every `Binary`
/// package before looking at its PURL: no Maven record could ever match.
#[test]
fn binary_packages_with_a_maven_purl_are_matched() {
    let p = language(
        PackageType::Binary,
        "org.apache.logging.log4j:log4j-core",
        "2.14.1",
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1".into(),
    );
    let generic = language(
        PackageType::Binary,
        "python",
        "3.11.2",
        "pkg:generic/python@3.11.2".into(),
    );
    let result = scan(
        &catalog(vec![p, generic]),
        &in_memory("Maven"),
        &ScanOptions::default(),
    )
    .unwrap();
    let ids: Vec<(&str, Option<&str>)> = result
        .findings
        .iter()
        .map(|f| (f.id.as_str(), f.fixed_version.as_deref()))
        .collect();
    assert_eq!(ids, [("GHSA-jfh8-c2jp-5v3q", Some("2.15.0"))]);
    assert_eq!(result.summary.packages_matched, 1);
    assert_eq!(result.summary.packages_not_matched, 1);
}

#[test]
fn maven_records_match_as_maven_comparable_version_says() {
    let records = raw("Maven");
    let mut packages = Vec::new();
    let mut all = BTreeSet::new();
    for ((eco, name), values) in boundaries(&records) {
        assert_eq!(eco, "Maven");
        let versions: BTreeSet<String> = values
            .iter()
            .flat_map(|v| around(v))
            .filter(|v| v != "0")
            .collect();
        all.extend(values.iter().filter(|v| *v != "0").cloned());
        all.extend(versions.iter().cloned());
        let (group, artifact) = name.split_once(':').unwrap();
        for v in versions {
            let purl = format!("pkg:maven/{group}/{artifact}@{v}");
            packages.push(language(PackageType::Binary, &name, &v, purl));
        }
    }
    let Some(order) = maven_order(&all) else {
        return;
    };
    let cmp = |a: &str, b: &str| order[&(a.to_owned(), b.to_owned())];
    let mut expected = Verdicts::new();
    for p in &packages {
        let hits = walk(&records, "Maven", &p.name, &p.version, &cmp);
        if !hits.is_empty() {
            expected.insert((p.name.clone(), p.version.clone()), hits);
        }
    }
    // Maven's order put the boundaries where the records mean them.
    let log4j = |v: &str| {
        expected.contains_key(&(
            "org.apache.logging.log4j:log4j-core".to_owned(),
            v.to_owned(),
        ))
    };
    assert!(log4j("2.0-beta9") && !log4j("2.0-beta8") && log4j("2.14.0") && !log4j("2.15.0"));
    assert!(expected.contains_key(&(
        "com.guicedee.services:log4j-core".to_owned(),
        "1.2.1.2-jre17".to_owned()
    )));
    check("Maven", &catalog(packages), &expected);
}

#[test]
fn alpine_records_match_their_own_release_only() {
    let records = raw("Alpine");
    let cmp = |a: &str, b: &str| pare_vuln::version::apk::compare(a, b);
    let mut any_match = BTreeMap::new();
    for version_id in ["3.8.5", "3.12.12", "3.16.9", "3.17.10", "3.19.1"] {
        let (major, minor) = {
            let mut it = version_id.split('.');
            (it.next().unwrap(), it.next().unwrap())
        };
        let release = format!("Alpine:v{major}.{minor}");
        let mut packages = Vec::new();
        for ((_, name), values) in boundaries(&records) {
            let versions: BTreeSet<String> = values
                .iter()
                .flat_map(|v| around(v))
                .filter(|v| v != "0")
                .collect();
            for v in versions {
                packages.push(package(PackageType::Apk, &name, &v, None, None));
            }
        }
        let mut expected = Verdicts::new();
        for p in &packages {
            let hits = walk(&records, &release, &p.name, &p.version, &cmp);
            if !hits.is_empty() {
                expected.insert((p.name.clone(), p.version.clone()), hits);
            }
        }
        any_match.insert(version_id, !expected.is_empty());
        let catalog = Catalog {
            distro: Some(distro("alpine", Some(version_id), None)),
            packages,
            warnings: vec![],
        };
        check("Alpine", &catalog, &expected);
    }
    // Records of v3.8-v3.16 only: the later releases get nothing, even for
    // versions below every fix.
    assert_eq!(
        any_match,
        BTreeMap::from([
            ("3.8.5", true),
            ("3.12.12", true),
            ("3.16.9", true),
            ("3.17.10", false),
            ("3.19.1", false),
        ])
    );
}

/// Regression: osv.dev's own Alpine converter writes `"versions": null`;
/// pare refused the whole record ("invalid type: null, expected a
/// sequence"), and with it every range of every release in it.
#[test]
fn osv_dev_records_with_null_versions_parse() {
    let path = folder("Alpine").join("CVE-2012-2812.json");
    let bytes = std::fs::read(&path).unwrap();
    assert!(String::from_utf8_lossy(&bytes).contains("\"versions\": null"));
    let a = osv::parse(&bytes, Format::Json).unwrap();
    assert_eq!(a.affected.len(), 5);
    assert!(a.affected.iter().all(|af| af.versions.is_empty()));
    assert!(osv::affects(&a, "Alpine:v3.12", "libexif", "0.6.20-r0").is_some());
}

#[test]
fn every_record_parses_and_the_store_imports_each() {
    for eco in ["Go", "crates.io", "npm", "Maven", "Alpine"] {
        let n = files(&folder(eco)).len();
        assert_eq!(in_memory(eco).osv.len(), n, "{eco}");
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("pare.sqlite")).unwrap();
        store.import(&[folder(eco)]).unwrap();
        for r in raw(eco) {
            let a = &r["affected"][0]["package"];
            let base = a["ecosystem"].as_str().unwrap().split(':').next().unwrap();
            let got = store.osv(base, a["name"].as_str().unwrap()).unwrap();
            assert!(got.iter().any(|g| g.id == r["id"]), "{eco} {}", r["id"]);
        }
    }
}
