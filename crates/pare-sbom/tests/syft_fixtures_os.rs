//! Syft's own apk, dpkg and rpm cataloger fixtures (and go-rpmdb's ndb
//! database), copied byte for byte into `tests/data/syft-fixtures`
//! (origin in `tests/data/README.md`), plus variants written here, placed
//! where Syft's globs look in root folders with an os-release, and
//! cataloged by pare both as the folder and as an image packed from it.
//! The packages (type, name, version, PURL) must be those Syft 1.18
//! reports for that image, apart from the differences listed in
//! [`ALLOWED`] with their reasons; for dpkg, each package's owned files
//! too (Syft's `metadata.files`: md5sums and conffiles).
//!
//! A missing `syft` skips the comparison locally and fails it under
//! `CI=true`; what does not need Syft is checked anyway.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use pare_image::{ImageRef, Platform, Source};

mod common;

use common::{Id, Src, Src::Fixture, Text, build, fixture, id};

/// Known differences from Syft: (tree, package name, reason). Each is
/// also in README.md's list of differences.
const ALLOWED: &[(&str, &str, &str)] = &[
    (
        "dpkg-variants",
        "gone",
        "dpkg says it is removed (`deinstall ok config-files`): pare lists \
         installed packages only, Syft every paragraph",
    ),
    (
        "dpkg-variants",
        "never",
        "dpkg says it is not installed: pare lists installed packages only",
    ),
    (
        "dpkg-variants",
        "dup",
        "a field repeated in a paragraph: Syft's parser stops with an error \
         and the whole file gives nothing; pare reads the paragraph (the \
         first value counts)",
    ),
    (
        "apk-no-release",
        "musl",
        "a database with neither os-release nor an Alpine repository URL: \
         pare writes pkg:apk/alpine/…, Syft no PURL at all",
    ),
];

fn file(path: &str, src: Src) -> (String, Src) {
    (path.to_string(), src)
}

const ALPINE: &str = "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.12.0\n";
const DEBIAN: &str =
    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n";
const RHEL: &str =
    "NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"9.4\"\n";
const SLES: &str = "NAME=\"SLES\"\nID=\"sles\"\nID_LIKE=\"suse\"\nVERSION_ID=\"15.3\"\n";

/// The apk fixtures, each as a database where Syft's `**/lib/apk/db/installed`
/// finds it: one at the root, the others in folders below.
fn apk_upstream() -> Vec<(String, Src)> {
    let mut files = vec![
        file("etc/os-release", Text(ALPINE)),
        file(
            "lib/apk/db/installed",
            Fixture("apk/multiple-2/lib/apk/db/installed"),
        ),
    ];
    for name in [
        "base",
        "empty-deps-and-provides",
        "extra-file-attributes",
        "single",
    ] {
        files.push((
            format!("srv/{name}/lib/apk/db/installed"),
            Fixture(leak(format!("apk/{name}"))),
        ));
    }
    for name in ["corrupt", "glob-paths", "multiple-1"] {
        let db = format!("{name}/lib/apk/db/installed");
        files.push((format!("srv/{db}"), Fixture(leak(format!("apk/{db}")))));
    }
    files
}

/// No os-release: the release comes from `etc/apk/repositories` beside a
/// database, or is unknown.
fn apk_no_release() -> Vec<(String, Src)> {
    vec![
        file("lib/apk/db/installed", Fixture("apk/base")),
        file(
            "etc/apk/repositories",
            Text(
                "https://dl-cdn.alpinelinux.org/alpine/v3.12/main\nhttps://dl-cdn.alpinelinux.org/alpine/v3.12/community\n",
            ),
        ),
        file(
            "chroot/lib/apk/db/installed",
            Text("P:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\n"),
        ),
    ]
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The dpkg fixtures: Syft's image-dpkg (status with info files), its
/// distroless image (status.d with md5sums), every status.d sample in one
/// status.d folder, the glob-path stubs under a folder, and the info files
/// for packages of a `usr/lib/dpkg/status` written here.
fn dpkg_upstream() -> Vec<(String, Src)> {
    let mut files = vec![file("etc/os-release", Text(DEBIAN))];
    for path in [
        "var/lib/dpkg/status",
        "var/lib/dpkg/info/libpam-runtime.conffiles",
        "var/lib/dpkg/info/libpam-runtime.md5sums",
        "var/lib/dpkg/info/libpam-runtime.preinst",
        "usr/share/doc/libpam-runtime/copyright",
    ] {
        files.push((
            path.to_string(),
            Fixture(leak(format!("dpkg/image-dpkg/{path}"))),
        ));
    }
    for path in [
        "var/lib/dpkg/status.d/libsqlite3-0",
        "var/lib/dpkg/status.d/libsqlite3-0.md5sums",
        "var/lib/dpkg/status.d/libsqlite3-0.preinst",
        "usr/share/doc/libsqlite3-0/copyright",
    ] {
        files.push((
            path.to_string(),
            Fixture(leak(format!("dpkg/image-distroless-deb/{path}"))),
        ));
    }
    for name in [
        "coreutils-relationships",
        "corrupt",
        "doc-examples",
        "empty",
        "installed-size-4KB",
        "libpam-runtime",
        "multiple",
        "single",
    ] {
        let path = format!("var/lib/dpkg/status.d/{name}");
        files.push((path.clone(), Fixture(leak(format!("dpkg/{path}")))));
    }
    for path in [
        "usr/lib/dpkg/status",
        "usr/lib/dpkg/status.d/pkg-1.0",
        "usr/lib/opkg/info/pkg-1.0.control",
        "usr/lib/opkg/status",
        "var/lib/dpkg/status",
        "var/lib/dpkg/status.d/pkg-1.0",
    ] {
        files.push((
            format!("srv/glob-paths/{path}"),
            Fixture(leak(format!("dpkg/glob-paths/{path}"))),
        ));
    }
    files.extend([
        file(
            "usr/lib/dpkg/status",
            Text(
                "Package: util-linux\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.38.1-5+b1\n\n\
                 Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n",
            ),
        ),
        file(
            "usr/lib/dpkg/info/util-linux.conffiles",
            Fixture("dpkg/info/util-linux.conffiles"),
        ),
        file(
            "usr/lib/dpkg/info/zlib1g:amd64.md5sums",
            Fixture("dpkg/info/zlib1g.md5sums"),
        ),
    ]);
    files
}

/// What Syft's rules decide beyond the fixtures: removed and version-less
/// paragraphs, `Conffiles` with obsolete entries, databases in a chroot
/// and at `lib/dpkg`, opkg's status and control files.
fn dpkg_variants() -> Vec<(String, Src)> {
    vec![
        file("etc/os-release", Text(DEBIAN)),
        file(
            "var/lib/dpkg/status",
            Text(
                "Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\nArchitecture: amd64\n\n\
                 Package: nover\nStatus: install ok installed\nArchitecture: amd64\n\n\
                 Package: ok\nStatus: install ok installed\nVersion: 2.0+b1\nArchitecture: amd64\nSource: oksrc (1.9)\n\
                 Conffiles:\n /etc/ok.conf 0123\n /etc/ok/old.conf 4567 obsolete\n\n\
                 Package: never\nStatus: purge ok not-installed\nArchitecture: amd64\n",
            ),
        ),
        file("var/lib/dpkg/info/ok.md5sums", Text("d41d  usr/bin/ok\n")),
        file(
            "var/lib/dpkg/info/ok.conffiles",
            Text("/etc/ok.conf\n/etc/ok/extra.conf\n"),
        ),
        file(
            "var/lib/dpkg/status.d/dup",
            Text("Package: dup\nVersion: 1.0\nVersion: 2.0\n"),
        ),
        file(
            "srv/chroot/var/lib/dpkg/status",
            Text("Package: nested\nStatus: install ok installed\nVersion: 3.0\n"),
        ),
        file(
            "lib/dpkg/status",
            Text("Package: bare\nStatus: install ok installed\nVersion: 4.0\n"),
        ),
        file(
            "usr/lib/opkg/status",
            Text(
                "Package: busybox\nVersion: 1.36.1-1\nArchitecture: x86_64\nStatus: install user installed\n",
            ),
        ),
        file(
            "usr/lib/opkg/info/libc.control",
            Text("Package: libc\nVersion: 1.2.4-4\nArchitecture: x86_64\n"),
        ),
    ]
}

/// The rpm fixtures under a RHEL os-release: Syft's Berkeley DB
/// `Packages`, the same under `usr/share/rpm`, go-rpmdb's SUSE ndb
/// `Packages.db`, and Syft's CBL-Mariner manifest.
fn rpm_upstream() -> Vec<(String, Src)> {
    vec![
        file("etc/os-release", Text(RHEL)),
        file("var/lib/rpm/Packages", Fixture("rpm/Packages")),
        file("srv/chroot/usr/share/rpm/Packages", Fixture("rpm/Packages")),
        file(
            "usr/lib/sysimage/rpm/Packages.db",
            Fixture("rpm/go-rpmdb/sle15-bci/Packages.db"),
        ),
        file(
            "var/lib/rpmmanifest/container-manifest-2",
            Fixture("rpm/container-manifest-2"),
        ),
    ]
}

/// The ndb database where SUSE has it, under SUSE's os-release; and the
/// Berkeley DB without any os-release (no namespace).
fn rpm_variants() -> Vec<(String, Src)> {
    vec![
        file("etc/os-release", Text(SLES)),
        file(
            "var/lib/rpm/Packages.db",
            Fixture("rpm/go-rpmdb/sle15-bci/Packages.db"),
        ),
        // A Berkeley DB under an ndb name, and stubs that are no database.
        file("usr/share/rpm/Packages.db", Fixture("rpm/Packages")),
        file("srv/stub/var/lib/rpm/rpmdb.sqlite", Text("bogus")),
        file("srv/stub/var/lib/rpm/Packages", Text("")),
    ]
}

fn rpm_no_release() -> Vec<(String, Src)> {
    vec![file("var/lib/rpm/Packages", Fixture("rpm/Packages"))]
}

/// What one tool said of a tree: its packages, and each dpkg package's
/// owned files (by type, name, version).
#[derive(Default)]
struct Found {
    ids: BTreeSet<Id>,
    deb_files: BTreeMap<(String, String), BTreeSet<String>>,
}

fn from_pare(catalog: &pare_sbom::Catalog) -> Found {
    let mut found = Found::default();
    for p in &catalog.packages {
        let kind = p.kind.as_str().to_string();
        if !matches!(kind.as_str(), "apk" | "deb" | "rpm") {
            continue;
        }
        if kind == "deb" {
            found
                .deb_files
                .entry((p.name.clone(), p.version.clone()))
                .or_default()
                .extend(p.files.iter().cloned());
        }
        found
            .ids
            .insert((kind, p.name.clone(), p.version.clone(), p.purl.clone()));
    }
    found
}

struct Compared {
    pare: Found,
    syft: Option<Found>,
    warnings: Vec<String>,
}

fn compare(files: &[(String, Src)]) -> Compared {
    let root = tempfile::tempdir().unwrap();
    build(root.path(), files);
    compare_root(root.path())
}

fn compare_root(root: &Path) -> Compared {
    let cataloged = common::catalog_root(root);
    let (dir, img) = (
        from_pare(&cataloged.from_dir),
        from_pare(&cataloged.from_image),
    );
    assert_eq!(img.ids, dir.ids, "image and folder disagree");
    assert_eq!(img.deb_files, dir.deb_files, "image and folder disagree");
    let syft = common::syft_artifacts(&cataloged.archive).map(|a| syft_found(&a));
    Compared {
        pare: dir,
        syft,
        warnings: cataloged.from_dir.warnings,
    }
}

fn syft_found(artifacts: &[serde_json::Value]) -> Found {
    let mut found = Found::default();
    for a in artifacts {
        let s = |k: &str| a[k].as_str().unwrap_or_default().to_string();
        if !matches!(s("type").as_str(), "apk" | "deb" | "rpm") {
            continue;
        }
        if s("type") == "deb" {
            let files = a["metadata"]["files"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f["path"].as_str())
                .map(str::to_string);
            found
                .deb_files
                .entry((s("name"), s("version")))
                .or_default()
                .extend(files);
        }
        found
            .ids
            .insert((s("type"), s("name"), s("version"), s("purl")));
    }
    found
}

/// Checks pare against Syft for `tree`, allowing only [`ALLOWED`].
fn assert_parity(tree: &str, compared: &Compared) {
    let Some(syft) = &compared.syft else {
        return;
    };
    eprintln!(
        "{tree}: pare {} packages, syft {}",
        compared.pare.ids.len(),
        syft.ids.len()
    );
    let allowed = |name: &str| ALLOWED.iter().any(|(t, n, _)| *t == tree && *n == name);
    let missing: Vec<_> = syft
        .ids
        .difference(&compared.pare.ids)
        .filter(|id| !allowed(&id.1))
        .collect();
    let extra: Vec<_> = compared
        .pare
        .ids
        .difference(&syft.ids)
        .filter(|id| !allowed(&id.1))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{tree}: missing {missing:#?}\nextra {extra:#?}\nwarnings {:#?}",
        compared.warnings
    );
    for (key, files) in &compared.pare.deb_files {
        if allowed(&key.0) {
            continue;
        }
        assert_eq!(
            Some(files),
            syft.deb_files.get(key),
            "{tree}: files of {key:?}"
        );
    }
    // Every allowance is still needed: the difference is really there.
    for (t, name, _) in ALLOWED.iter().filter(|(t, _, _)| *t == tree) {
        let pare = compared.pare.ids.iter().filter(|id| id.1 == *name);
        let syft = syft.ids.iter().filter(|id| id.1 == *name);
        assert_ne!(
            pare.collect::<Vec<_>>(),
            syft.collect::<Vec<_>>(),
            "{t}: {name} is allowed to differ but does not"
        );
    }
}

fn names(found: &Found, kind: &str) -> BTreeSet<String> {
    found
        .ids
        .iter()
        .filter(|id| id.0 == kind)
        .map(|id| id.1.clone())
        .collect()
}

#[test]
fn apk_fixtures_match_syft() {
    let c = compare(&apk_upstream());
    assert_parity("apk-upstream", &c);
    for want in [
        id(
            "apk",
            "alpine-baselayout",
            "3.2.0-r6",
            "pkg:apk/alpine/alpine-baselayout@3.2.0-r6?arch=x86_64&distro=alpine-3.12.0",
        ),
        id(
            "apk",
            "libc-utils",
            "0.7.2-r3",
            "pkg:apk/alpine/libc-utils@0.7.2-r3?arch=x86_64&distro=alpine-3.12.0&upstream=libc-dev",
        ),
    ] {
        assert!(
            c.pare.ids.contains(&want),
            "{want:?} not in {:#?}",
            c.pare.ids
        );
    }
    // Every database below the root is read (Syft's `**/` glob).
    assert!(names(&c.pare, "apk").contains("musl-utils"));
}

#[test]
fn apk_release_from_repositories_matches_syft() {
    let c = compare(&apk_no_release());
    assert_parity("apk-no-release", &c);
    assert!(
        c.pare.ids.contains(&id(
            "apk",
            "alpine-baselayout",
            "3.2.0-r6",
            "pkg:apk/alpine/alpine-baselayout@3.2.0-r6?arch=x86_64&distro=alpine-3.12",
        )),
        "{:#?}",
        c.pare.ids
    );
}

#[test]
fn apk_licenses_split_as_syft_splits_them() {
    let root = tempfile::tempdir().unwrap();
    build(root.path(), &apk_upstream());
    let source = Source::open(
        &ImageRef::Dir {
            path: root.path().into(),
        },
        &Platform::default(),
    )
    .unwrap();
    let catalog = pare_sbom::catalog(&source.flatten_with(pare_sbom::flatten_options()).unwrap());
    let licenses = |name: &str| -> Vec<String> {
        let p = catalog.packages.iter().find(|p| p.name == name).unwrap();
        p.licenses.clone()
    };
    // `L:MIT BSD GPL2+` is no SPDX expression: three licences.
    assert_eq!(licenses("musl-utils"), ["MIT", "BSD", "GPL2+"]);
    // `L:MPL-2.0 AND MIT` is one: kept whole.
    assert_eq!(licenses("ca-certificates-bundle"), ["MPL-2.0 AND MIT"]);
}

#[test]
fn dpkg_fixtures_match_syft() {
    let c = compare(&dpkg_upstream());
    assert_parity("dpkg-upstream", &c);
    let deb = names(&c.pare, "deb");
    for name in [
        "libpam-runtime",
        "libsqlite3-0",
        "coreutils",
        "util-linux",
        "zlib1g",
    ] {
        assert!(deb.contains(name), "{name} not in {deb:?}");
    }
    // Conffiles are owned files: from the status paragraph, and from
    // info/NAME.conffiles.
    let files = |name: &str| {
        c.pare
            .deb_files
            .iter()
            .find(|((n, _), _)| n == name)
            .map(|(_, f)| f.clone())
            .unwrap_or_default()
    };
    assert!(files("libpam-runtime").contains("/etc/pam.conf"));
    assert!(files("util-linux").contains("/etc/default/hwclock"));
}

#[test]
fn dpkg_variants_match_syft() {
    let c = compare(&dpkg_variants());
    assert_parity("dpkg-variants", &c);
    let want: BTreeSet<Id> = [
        id(
            "deb",
            "ok",
            "2.0+b1",
            "pkg:deb/debian/ok@2.0%2Bb1?arch=amd64&distro=debian-12&upstream=oksrc%401.9",
        ),
        id(
            "deb",
            "nover",
            "UNKNOWN",
            "pkg:deb/debian/nover?arch=amd64&distro=debian-12",
        ),
        id(
            "deb",
            "dup",
            "1.0",
            "pkg:deb/debian/dup@1.0?distro=debian-12",
        ),
        id(
            "deb",
            "nested",
            "3.0",
            "pkg:deb/debian/nested@3.0?distro=debian-12",
        ),
        id(
            "deb",
            "bare",
            "4.0",
            "pkg:deb/debian/bare@4.0?distro=debian-12",
        ),
        id(
            "deb",
            "busybox",
            "1.36.1-1",
            "pkg:deb/debian/busybox@1.36.1-1?arch=x86_64&distro=debian-12",
        ),
        id(
            "deb",
            "libc",
            "1.2.4-4",
            "pkg:deb/debian/libc@1.2.4-4?arch=x86_64&distro=debian-12",
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(c.pare.ids, want);
    let ok: BTreeSet<String> = [
        "/etc/ok.conf",
        "/etc/ok/extra.conf",
        "/etc/ok/old.conf",
        "/usr/bin/ok",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    assert_eq!(
        c.pare.deb_files[&("ok".to_string(), "2.0+b1".to_string())],
        ok
    );
}

#[test]
fn rpm_fixtures_match_syft() {
    let c = compare(&rpm_upstream());
    assert_parity("rpm-upstream", &c);
    // RHEL's ID is `rhel`; its PURL namespace is `redhat`.
    assert!(
        c.pare
            .ids
            .iter()
            .filter(|id| id.0 == "rpm" && id.3.contains("distro=rhel-9.4"))
            .all(|id| id.3.starts_with("pkg:rpm/redhat/")),
        "{:#?}",
        c.pare.ids
    );
    assert!(names(&c.pare, "rpm").contains("dive"), "Berkeley DB");
    assert!(names(&c.pare, "rpm").contains("rpm-ndb"), "ndb");
    assert!(
        names(&c.pare, "rpm").contains("mariner-release"),
        "manifest"
    );
}

#[test]
fn rpm_variants_match_syft() {
    let c = compare(&rpm_variants());
    assert_parity("rpm-variants", &c);
    assert!(
        c.pare
            .ids
            .iter()
            .any(|id| id.1 == "rpm-ndb" && id.3.starts_with("pkg:rpm/sles/")),
        "{:#?}",
        c.pare.ids
    );
    let c = compare(&rpm_no_release());
    assert_parity("rpm-no-release", &c);
    assert!(
        c.pare
            .ids
            .iter()
            .all(|id| id.3.starts_with("pkg:rpm/dive@")),
        "{:#?}",
        c.pare.ids
    );
}

/// A signing key imported by the real `rpmkeys` into a fresh database (the
/// `gpg-pubkey` entry every RHEL image has): Syft lists it as a package.
#[test]
fn rpm_signing_keys_match_syft() {
    if pare_testkit::tool("rpmkeys").is_none() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let dbpath = root.path().join("var/lib/rpm");
    std::fs::create_dir_all(&dbpath).unwrap();
    let out = Command::new("rpmkeys")
        .arg("--dbpath")
        .arg(&dbpath)
        .arg("--import")
        .arg(fixture("rpm/keys/debian-12-archive.asc"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The image root: the os-release and the database rpm wrote.
    let image_root = root.path().join("image");
    build(&image_root, &[file("etc/os-release", Text(RHEL))]);
    std::fs::create_dir_all(image_root.join("var/lib/rpm")).unwrap();
    for entry in std::fs::read_dir(&dbpath).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_owned();
        std::fs::copy(&path, image_root.join("var/lib/rpm").join(name)).unwrap();
    }
    let c = compare_root(&image_root);
    assert_parity("rpm-keys", &c);
    assert_eq!(
        c.pare.ids,
        [id(
            "rpm",
            "gpg-pubkey",
            "8783d481-63ceb953",
            "pkg:rpm/redhat/gpg-pubkey@8783d481-63ceb953?distro=rhel-9.4",
        )]
        .into_iter()
        .collect()
    );
}

/// ndb and Berkeley DB give rpm's own answer for the real databases: the
/// counts the fixtures' makers list (the 35 packages of go-rpmdb's
/// `SLE15WithNDB` test case, the one of Syft's `TestParseRpmDB`).
#[test]
fn real_rpm_databases_read_in_full() {
    for (path, want) in [
        ("rpm/go-rpmdb/sle15-bci/Packages.db", 35),
        ("rpm/Packages", 1),
    ] {
        let bytes = std::fs::read(fixture(path)).unwrap();
        let headers: Vec<_> = pare_sbom::rpm::database_values(&bytes)
            .unwrap()
            .iter()
            .filter(|b| pare_sbom::rpm::is_header(b))
            .map(|b| pare_sbom::rpm::parse_header(b).unwrap())
            .collect();
        assert_eq!(headers.len(), want, "{path}");
    }
}

/// Every fixture file the README names is used by a tree above.
#[test]
fn every_fixture_is_used() {
    let mut used: BTreeSet<String> = BTreeSet::new();
    for (_, src) in apk_upstream()
        .into_iter()
        .chain(apk_no_release())
        .chain(dpkg_upstream())
        .chain(dpkg_variants())
        .chain(rpm_upstream())
        .chain(rpm_variants())
        .chain(rpm_no_release())
    {
        if let Fixture(f) = src {
            used.insert(f.to_string());
        }
    }
    used.insert("rpm/go-rpmdb/LICENSE".into());
    used.insert("rpm/keys/debian-12-archive.asc".into());
    assert_eq!(used, common::fixture_files(&["apk", "dpkg", "rpm"]));
}
