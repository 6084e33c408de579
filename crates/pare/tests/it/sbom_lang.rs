//! Language packages (npm, python) against Syft 1.18, by type, name,
//! version and PURL (issue 14): on the test images that have them, and on
//! a root folder of Syft's own cataloger fixtures through the CLI.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::common::*;
use crate::require;

/// (type, name, version, PURL).
type Id = PackageId;

fn pare_ids(reference: &str, kinds: &[&str]) -> (BTreeSet<Id>, Value) {
    let ours: Value =
        serde_json::from_str(&pare_ok(&["sbom", "--format", "json", reference])).unwrap();
    (package_ids(&ours["packages"], Some(kinds)), ours)
}

fn syft_ids(args: &[&str], kinds: &[&str]) -> BTreeSet<Id> {
    let theirs: Value = serde_json::from_slice(&syft(args).stdout).unwrap();
    package_ids(&theirs["artifacts"], Some(kinds))
}

fn assert_same(what: &str, ours: &BTreeSet<Id>, theirs: &BTreeSet<Id>) {
    assert_same_packages(what, ours, theirs, |_| false);
}

/// Debian's node modules live in `/usr/share/nodejs/*/package.json`, not
/// in a `node_modules` folder; Syft lists them (25 on this image), and so
/// must pare, with the same PURLs.
#[test]
fn sbom_npm_packages_match_syft_on_the_node_image() {
    let archive = require!(test_image("node"));
    require!(tool("syft"));
    let reference = format!("docker-archive:{}", archive.display());
    let (ours, doc) = pare_ids(&reference, &["npm"]);
    let theirs = syft_ids(&["-q", &reference, "-o", "json"], &["npm"]);
    assert_same("node", &ours, &theirs);
    assert!(ours.len() >= 20, "only {} npm packages", ours.len());
    let in_debian_tree = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "npm")
        .filter(|p| {
            p["found_at"].as_str().is_some_and(|f| {
                f.starts_with("/usr/share/nodejs/") && f.ends_with("/package.json")
            })
        })
        .count();
    assert!(
        in_debian_tree >= 20,
        "{in_debian_tree} in /usr/share/nodejs"
    );
    // The app's own manifest is a package too, as Syft reports it.
    let app = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["found_at"] == "/app/package.json")
        .expect("the app's /app/package.json is reported");
    assert_eq!(
        (app["name"].as_str(), app["version"].as_str()),
        (Some("pare-intl-demo"), Some("1.2.0"))
    );
}

/// The python packages (names normalised in names and PURLs) of the test
/// images that have some, as Syft lists them.
#[test]
fn sbom_python_packages_match_syft_with_purls() {
    require!(tool("syft"));
    for name in ["python", "pyold", "pylocal"] {
        let archive = require!(test_image(name));
        let reference = format!("docker-archive:{}", archive.display());
        let (ours, _) = pare_ids(&reference, &["python", "npm"]);
        let theirs = syft_ids(&["-q", &reference, "-o", "json"], &["python", "npm"]);
        assert_same(name, &ours, &theirs);
    }
}

/// Syft's python and npm fixtures in one root folder, through
/// `pare sbom dir:ROOT`. Syft's folder scans run its *declared* catalogers
/// (lock files), so it is asked for its image catalogers, which report
/// what is installed, as pare does for folders and images alike.
#[test]
fn sbom_lang_fixtures_in_a_root_folder_match_syft() {
    require!(tool("syft"));
    let fixtures =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../pare-sbom/tests/data/syft-fixtures");
    let root = tempfile::tempdir().unwrap();
    let place = |from: &str, to: &str| {
        let target = root.path().join(to);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(fixtures.join(from), &target).unwrap_or_else(|e| panic!("{from}: {e}"));
    };
    let site = "usr/lib/python3.11/site-packages";
    for f in [
        "dist-info/METADATA",
        "dist-info/RECORD",
        "dist-info/direct_url.json",
        "egg-info/PKG-INFO",
        "egg-info/RECORD",
        "malformed-record/dist-info/METADATA",
        "malformed-record/dist-info/RECORD",
        "no-version-py3.8.egg-info",
        "test.egg-info",
        "Python-2.7.egg-info",
        "glob-paths/site-packages/z.egg-info",
    ] {
        place(&format!("python/{f}"), &format!("{site}/{f}"));
    }
    place(
        "python/egg-info/PKG-INFO",
        &format!("{site}/requests-2.22.0-py3.11.egg/EGG-INFO/PKG-INFO"),
    );
    place("npm/pkg-json/package.json", "app/package.json");
    place(
        "npm/pkg-json/package-private.json",
        "usr/share/nodejs/npm/package.json",
    );
    place(
        "npm/pkg-json/package-repo-string.json",
        "usr/share/nodejs/function-bind/package.json",
    );
    place(
        "npm/pkg-lock/node_modules/@actions/core/package.json",
        "app/node_modules/@actions/core/package.json",
    );
    place("npm/corrupt/package.json", "srv/corrupt/package.json");
    place(
        "npm/pkg-json/package-partial.json",
        "srv/partial/package.json",
    );

    let dir = format!("dir:{}", root.path().display());
    let kinds = ["python", "npm"];
    let (ours, _) = pare_ids(&dir, &kinds);
    let theirs = syft_ids(
        &[
            "-q",
            "--override-default-catalogers",
            "image",
            &dir,
            "-o",
            "json",
        ],
        &kinds,
    );
    assert_same("fixtures", &ours, &theirs);
    for purl in [
        "pkg:npm/%40actions/core@1.6.0",
        "pkg:npm/function-bind@1.1.1",
        "pkg:pypi/no-version",
        "pkg:pypi/requests@2.22.0",
    ] {
        assert!(ours.iter().any(|p| p.3 == purl), "{purl}: {ours:#?}");
    }
}
