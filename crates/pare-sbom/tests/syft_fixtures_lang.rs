//! Syft's own python and npm cataloger fixtures (copied byte for byte into
//! `tests/data/syft-fixtures`, origin in `tests/data/README.md`), plus
//! variants built here, placed in root folders and cataloged by pare both
//! as the folder and as an image packed from it; the packages (type, name,
//! version, PURL) must be those Syft 1.18 reports for that image, apart
//! from the differences listed in [`ALLOWED`] with their reasons.
//!
//! Syft is compared on the image, not the folder: for a folder Syft runs
//! its *declared* catalogers (lock files, `requirements.txt`) instead of
//! its *installed* ones (every `package.json`), while pare reports what is
//! installed in either. A missing `syft` skips the comparison locally and
//! fails it under `CI=true`; what does not need Syft is checked anyway.

use std::collections::BTreeSet;

use pare_image::{ImageRef, Platform, Source};

mod common;

use common::{Compared, Id, Src, Src::Fixture, Text, build, id};

/// Known differences from Syft: (tree, PURL, reason). None today.
const ALLOWED: &[(&str, &str, &str)] = &[];

const SITE: &str = "usr/lib/python3.11/site-packages";

/// Every python fixture, at its upstream path below a site-packages folder.
const PYTHON_FIXTURES: &[&str] = &[
    "Python-2.7.egg-info",
    "casesensitive/DIST-INFO/METADATA",
    "casesensitive/DIST-INFO/RECORD",
    "casesensitive/DIST-INFO/direct_url.json",
    "casesensitive/DIST-INFO/top_level.txt",
    "casesensitive/EGG-INFO/PKG-INFO",
    "casesensitive/EGG-INFO/PKG-INFO-INVALID",
    "casesensitive/EGG-INFO/RECORD",
    "casesensitive/EGG-INFO/top_level.txt",
    "dist-info/METADATA",
    "dist-info/RECORD",
    "dist-info/direct_url.json",
    "dist-info/top_level.txt",
    "egg-info/PKG-INFO",
    "egg-info/PKG-INFO-INVALID",
    "egg-info/RECORD",
    "egg-info/top_level.txt",
    "empty-1.0.0-py3.8.egg-info",
    "glob-paths/site-packages/v.DIST-INFO/METADATA",
    "glob-paths/site-packages/w.EGG-INFO/PKG-INFO",
    "glob-paths/site-packages/x.dist-info/METADATA",
    "glob-paths/site-packages/y.egg-info/PKG-INFO",
    "glob-paths/site-packages/z.egg-info",
    "installed-files/installed-files.txt",
    "malformed-record/dist-info/METADATA",
    "malformed-record/dist-info/RECORD",
    "no-version-py3.8.egg-info",
    "partial.dist-info/METADATA",
    "test.egg-info",
];

fn python_upstream() -> Vec<(String, Src)> {
    PYTHON_FIXTURES
        .iter()
        .map(|f| (format!("{SITE}/{f}"), Fixture(leak(format!("python/{f}")))))
        .collect()
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Python as images have it: an egg installed as a folder, names to
/// normalise, and what loses a package.
fn python_variants() -> Vec<(String, Src)> {
    let egg = "usr/local/lib/python3.11/site-packages/requests-2.22.0-py3.11.egg/EGG-INFO";
    let dist = "usr/lib/python3/dist-packages";
    vec![
        (
            format!("{egg}/PKG-INFO"),
            Fixture("python/egg-info/PKG-INFO"),
        ),
        (
            format!("{egg}/installed-files.txt"),
            Fixture("python/installed-files/installed-files.txt"),
        ),
        (
            format!("{dist}/PyYAML-6.0.1.dist-info/METADATA"),
            Text("Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0.1\nLicense: MIT\n"),
        ),
        (
            format!("{dist}/zope.interface-6.1.dist-info/METADATA"),
            Text("Metadata-Version: 2.1\nName: zope.interface\nVersion: 6.1\n"),
        ),
        (
            format!("{dist}/odd-4.0.dist-info/METADATA"),
            Text("Name: Typing__Extensions..Odd\nVersion: 4.0\n"),
        ),
        (
            format!("{dist}/vcs-1.0.dist-info/METADATA"),
            Text("Name: Vcs_Pkg\nVersion: 1.0\n"),
        ),
        (
            format!("{dist}/vcs-1.0.dist-info/direct_url.json"),
            Text(
                r#"{"url": "https://example.org/a b.git", "vcs_info": {"vcs": "git", "commit_id": "0123abc", "requested_revision": "main"}}"#,
            ),
        ),
        (
            format!("{dist}/conflicted-2.0.dist-info/METADATA"),
            Text("Name: conflicted\nVersion: 2.0\n"),
        ),
        (
            format!("{dist}/conflicted-2.0.dist-info/RECORD"),
            Text("<<<<<<< HEAD\nconflicted/__init__.py,sha256=x,1\n=======\n>>>>>>> abc\n"),
        ),
        // Lost: a direct_url.json of the wrong shape, a single
        // requires-dist under a key Syft does not collect, a continuation
        // before any header, and Python itself.
        (
            format!("{dist}/broken-1.0.dist-info/METADATA"),
            Text("Name: broken\nVersion: 1.0\n"),
        ),
        (
            format!("{dist}/broken-1.0.dist-info/direct_url.json"),
            Text(r#"{"url": "file:///src", "dir_info": {"editable": "yes"}}"#),
        ),
        (
            format!("{dist}/lower-1.0.dist-info/METADATA"),
            Text("Name: lower\nVersion: 1.0\nrequires-dist: x\n"),
        ),
        (
            format!("{dist}/indented-1.0.dist-info/METADATA"),
            Text(" \nName: indented\nVersion: 1.0\n"),
        ),
        (
            format!("{dist}/Python-3.11.dist-info/METADATA"),
            Text("Name: Python\nVersion: 3.11\n"),
        ),
        (
            format!("{dist}/Nover.dist-info/METADATA"),
            Text("Name: Nover\n"),
        ),
    ]
}

/// Every npm fixture, each as an installed package's `package.json`.
fn npm_upstream() -> Vec<(String, Src)> {
    let mut files: Vec<(String, Src)> = [
        "package-author-non-standard",
        "package-license-object",
        "package-license-objects",
        "package-malformed-license",
        "package-nested-author",
        "package-no-license",
        "package-partial",
        "package-private",
        "package-repo-string",
    ]
    .iter()
    .map(|stem| {
        (
            format!("usr/share/nodejs/{stem}/package.json"),
            Fixture(leak(format!("npm/pkg-json/{stem}.json"))),
        )
    })
    .collect();
    files.extend([
        (
            "app/package.json".to_string(),
            Fixture("npm/pkg-json/package.json"),
        ),
        (
            "app/node_modules/@actions/core/package.json".to_string(),
            Fixture("npm/pkg-lock/node_modules/@actions/core/package.json"),
        ),
        (
            "app/node_modules/cowsay/package.json".to_string(),
            Fixture("npm/pkg-lock/node_modules/cowsay/package.json"),
        ),
        (
            "usr/lib/node_modules/corrupt/package.json".to_string(),
            Fixture("npm/corrupt/package.json"),
        ),
        (
            "srv/empty/package.json".to_string(),
            Fixture("npm/glob-paths/src/package.json"),
        ),
    ]);
    files
}

fn npm_variants() -> Vec<(String, Src)> {
    let at = |dir: &str| format!("usr/share/nodejs/{dir}/package.json");
    vec![
        (
            at("multi"),
            Text(r#"{"name": "first", "version": "1.0.0"} {"name": "second", "version": "2.0.0"}"#),
        ),
        (
            at("wrong-type"),
            Text(r#"{"name": "wrong-type", "version": "1.0.0", "private": "yes"}"#),
        ),
        (at("no-version"), Text(r#"{"name": "no-version"}"#)),
        (
            at("blank-name"),
            Text(r#"{"name": " ", "version": "1.0.0"}"#),
        ),
        (
            at("upper-keys"),
            Text(r#"{"NAME": "upper-keys", "Version": "3.0.0"}"#),
        ),
        (
            at("slash"),
            Text(r#"{"name": "plain/sub", "version": "1.0.0"}"#),
        ),
        (
            at("scoped"),
            Text(
                r#"{"name": "@scope/pkg", "version": "1.0.0+build.1", "license": {"type": "MIT"}}"#,
            ),
        ),
        (
            "srv/app/package.json".to_string(),
            Text(r#"{"name": "my-app", "version": "0.1.0", "private": true}"#),
        ),
        (
            "srv/app/node_modules/dep/package.json".to_string(),
            Text(
                r#"{"name": "dep", "version": "4.5.6", "licenses": [{"type": "BSD-3-Clause", "url": "u"}]}"#,
            ),
        ),
        (
            "srv/app/package-lock.json".to_string(),
            Text(
                r#"{"name": "my-app", "lockfileVersion": 3, "packages": {"node_modules/locked": {"version": "9.9.9"}}}"#,
            ),
        ),
    ]
}

fn compare(files: &[(String, Src)]) -> Compared {
    let root = tempfile::tempdir().unwrap();
    build(root.path(), files);
    common::compare_root(root.path(), |a| a["type"] == "python" || a["type"] == "npm")
}

/// Checks pare against Syft for `tree`, allowing only [`ALLOWED`].
fn assert_parity(tree: &str, compared: &Compared) {
    common::assert_parity(tree, compared, ALLOWED);
}

#[test]
fn python_fixtures_match_syft() {
    let c = compare(&python_upstream());
    assert_parity("python-upstream", &c);
    for want in [
        id("python", "pygments", "2.6.1", "pkg:pypi/pygments@2.6.1"),
        id(
            "python",
            "pygments",
            "2.6.1",
            "pkg:pypi/pygments@2.6.1?vcs_url=git%2Bhttps://github.com/python-test/test.git%40aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ),
        id("python", "requests", "2.22.0", "pkg:pypi/requests@2.22.0"),
        id("python", "no-version", "UNKNOWN", "pkg:pypi/no-version"),
    ] {
        assert!(c.pare.contains(&want), "{want:?} not in {:#?}", c.pare);
    }
    assert!(
        !c.pare.iter().any(|p| p.1 == "python" || p.1 == "Python"),
        "Python 2.7's own egg-info is the runtime: {:#?}",
        c.pare
    );
}

#[test]
fn python_variants_match_syft() {
    let c = compare(&python_variants());
    assert_parity("python-variants", &c);
    let want: BTreeSet<Id> = [
        id("python", "requests", "2.22.0", "pkg:pypi/requests@2.22.0"),
        id("python", "pyyaml", "6.0.1", "pkg:pypi/pyyaml@6.0.1"),
        id(
            "python",
            "zope-interface",
            "6.1",
            "pkg:pypi/zope-interface@6.1",
        ),
        id(
            "python",
            "typing-extensions-odd",
            "4.0",
            "pkg:pypi/typing-extensions-odd@4.0",
        ),
        id(
            "python",
            "vcs-pkg",
            "1.0",
            "pkg:pypi/vcs-pkg@1.0?vcs_url=git%2Bhttps://example.org/a%20b.git%400123abc",
        ),
        id("python", "conflicted", "2.0", "pkg:pypi/conflicted@2.0"),
        id("python", "nover", "UNKNOWN", "pkg:pypi/nover"),
    ]
    .into_iter()
    .collect();
    assert_eq!(c.pare, want);
}

#[test]
fn python_owned_files_from_record_and_installed_files() {
    let root = tempfile::tempdir().unwrap();
    build(root.path(), &python_variants());
    build(root.path(), &python_upstream());
    let source = Source::open(
        &ImageRef::Dir {
            path: root.path().into(),
        },
        &Platform::default(),
    )
    .unwrap();
    let catalog = pare_sbom::catalog(&source.flatten_with(pare_sbom::flatten_options()).unwrap());
    let files = |found_at: &str| -> Vec<String> {
        catalog
            .packages
            .iter()
            .find(|p| p.found_at == found_at)
            .unwrap_or_else(|| panic!("nothing at {found_at}"))
            .files
            .clone()
    };
    // A merge-conflicted RECORD: only its well-formed lines (paths from
    // the folder holding the metadata folder).
    let site = format!("/{SITE}/malformed-record");
    assert_eq!(
        files(&format!("{site}/dist-info/METADATA")),
        [
            format!("{site}/flask/json/tag.py"),
            "/usr/lib/python3.11/Scripts/flask.exe".to_string(),
            format!("{site}/Flask-1.0.2.dist-info/INSTALLER"),
        ]
    );
    // The first line a conflict marker: no line has the first one's width.
    assert_eq!(
        files("/usr/lib/python3/dist-packages/conflicted-2.0.dist-info/METADATA"),
        Vec::<String>::new()
    );
    // An egg folder without RECORD: installed-files.txt, beside PKG-INFO.
    let egg = "/usr/local/lib/python3.11/site-packages/requests-2.22.0-py3.11.egg";
    assert_eq!(
        files(&format!("{egg}/EGG-INFO/PKG-INFO")),
        [
            format!("{egg}/__pycache__/dicttoxml.cpython-36.pyc"),
            format!("{egg}/dicttoxml.py"),
            format!("{egg}/EGG-INFO/PKG-INFO"),
            format!("{egg}/EGG-INFO/SOURCES.txt"),
            format!("{egg}/EGG-INFO/dependency_links.txt"),
            format!("{egg}/EGG-INFO/top_level.txt"),
        ]
    );
    // License-Expression / License / the License-File's text.
    let pyyaml = catalog
        .packages
        .iter()
        .find(|p| p.name == "pyyaml")
        .unwrap();
    assert_eq!(pyyaml.licenses, ["MIT"]);
}

#[test]
fn npm_fixtures_match_syft() {
    let c = compare(&npm_upstream());
    assert_parity("npm-upstream", &c);
    for want in [
        id("npm", "npm", "6.14.6", "pkg:npm/npm@6.14.6"),
        id(
            "npm",
            "@actions/core",
            "1.6.0",
            "pkg:npm/%40actions/core@1.6.0",
        ),
    ] {
        assert!(c.pare.contains(&want), "{want:?} not in {:#?}", c.pare);
    }
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("corrupt/package.json")),
        "{:?}",
        c.warnings
    );
}

#[test]
fn npm_variants_match_syft() {
    let c = compare(&npm_variants());
    assert_parity("npm-variants", &c);
    let want: BTreeSet<Id> = [
        id("npm", "first", "1.0.0", "pkg:npm/first@1.0.0"),
        id("npm", "second", "2.0.0", "pkg:npm/second@2.0.0"),
        id("npm", "no-version", "UNKNOWN", "pkg:npm/no-version"),
        id("npm", "upper-keys", "3.0.0", "pkg:npm/upper-keys@3.0.0"),
        id("npm", "plain/sub", "1.0.0", "pkg:npm/plain/sub@1.0.0"),
        id(
            "npm",
            "@scope/pkg",
            "1.0.0+build.1",
            "pkg:npm/%40scope/pkg@1.0.0%2Bbuild.1",
        ),
        id("npm", "my-app", "0.1.0", "pkg:npm/my-app@0.1.0"),
        id("npm", "dep", "4.5.6", "pkg:npm/dep@4.5.6"),
    ]
    .into_iter()
    .collect();
    assert_eq!(c.pare, want);
}

/// Every fixture file the README names is used by a tree above.
#[test]
fn every_fixture_is_used() {
    let mut used: BTreeSet<String> = BTreeSet::new();
    for (_, src) in python_upstream()
        .into_iter()
        .chain(python_variants())
        .chain(npm_upstream())
        .chain(npm_variants())
    {
        if let Fixture(f) = src {
            used.insert(f.to_string());
        }
    }
    // The other catalogers' fixtures are syft_fixtures_os.rs's (apk,
    // dpkg, rpm) and syft_fixtures_more.rs's (Ruby, PHP, .NET).
    assert_eq!(used, common::fixture_files(&["python", "npm"]));
}
