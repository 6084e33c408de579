//! The real package databases in `tests/data/package-dbs` (Syft's own
//! test fixtures), placed at their image paths in a root folder and
//! cataloged. Corrupt samples must give warnings and partial results.

use std::path::{Path, PathBuf};

use pare_image::{ImageRef, Platform, Source};
use pare_sbom::{Catalog, PackageType};

fn reference(name: &str) -> PathBuf {
    pare_testkit::test_data(&format!("package-dbs/{name}"))
}

/// Catalogs a root folder holding `files` (image path ← reference sample).
fn catalog_of(files: &[(&str, &str)]) -> Catalog {
    let root = tempfile::tempdir().unwrap();
    for (path, sample) in files {
        let target = root.path().join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(reference(sample), &target).unwrap_or_else(|e| panic!("{sample}: {e}"));
    }
    catalog_root(root.path())
}

/// Catalogs a root folder as `pare sbom dir:ROOT` would, and checks that
/// the same folder packed into an image (where catalogers only see files
/// captured during flattening) gives the same packages.
fn catalog_root(root: &Path) -> Catalog {
    let reference = ImageRef::Dir { path: root.into() };
    let source = Source::open(&reference, &Platform::default()).unwrap();
    let flat = source.flatten_with(pare_sbom::flatten_options()).unwrap();
    let from_dir = pare_sbom::catalog(&flat);

    let work = tempfile::tempdir().unwrap();
    let archive = ImageRef::DockerArchive {
        path: work.path().join("image.tar"),
        name: None,
    };
    pare_image::write::write_image(&source, &archive, &Default::default()).unwrap();
    let image = Source::open(&archive, &Platform::default()).unwrap();
    let flat = image.flatten_with(pare_sbom::flatten_options()).unwrap();
    let from_image = pare_sbom::catalog(&flat);
    let names = |c: &Catalog| -> Vec<(String, String, Vec<String>)> {
        c.packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone(), p.files.clone()))
            .collect()
    };
    assert_eq!(
        names(&from_image),
        names(&from_dir),
        "image and folder disagree"
    );
    assert_eq!(from_image.distro, from_dir.distro);
    from_dir
}

#[test]
fn distroless_status_d_entry_with_md5sums() {
    let c = catalog_of(&[
        (
            "var/lib/dpkg/status.d/libsqlite3-0",
            "syft__pkg__cataloger__debian__testdata__image-distroless-deb__var__lib__dpkg__status.d__libsqlite3-0",
        ),
        (
            "var/lib/dpkg/status.d/libsqlite3-0.md5sums",
            "syft__pkg__cataloger__debian__testdata__image-distroless-deb__var__lib__dpkg__status.d__libsqlite3-0.md5sums",
        ),
    ]);
    assert_eq!(c.packages.len(), 1, "{c:?}");
    let p = &c.packages[0];
    assert_eq!(
        (p.name.as_str(), p.version.as_str(), p.kind),
        ("libsqlite3-0", "3.34.1-3", PackageType::Deb)
    );
    assert_eq!(
        p.purl,
        "pkg:deb/debian/libsqlite3-0@3.34.1-3?arch=arm64&upstream=sqlite3"
    );
    assert_eq!(p.files.len(), 6);
    assert!(
        p.files
            .contains(&"/usr/lib/aarch64-linux-gnu/libsqlite3.so.0.8.6".to_string())
    );
}

#[test]
fn deinstalled_entries_are_skipped() {
    let c = catalog_of(&[(
        "var/lib/dpkg/status",
        "syft__pkg__cataloger__debian__testdata__var__lib__dpkg__status.d__deinstall",
    )]);
    let names: Vec<&str> = c.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["linux-image-6.14.0-1012-aws"]);
}

#[test]
fn several_packages_in_one_status_file() {
    let c = catalog_of(&[(
        "var/lib/dpkg/status",
        "syft__pkg__cataloger__debian__testdata__var__lib__dpkg__status.d__coreutils-relationships",
    )]);
    let text = std::fs::read_to_string(reference(
        "syft__pkg__cataloger__debian__testdata__var__lib__dpkg__status.d__coreutils-relationships",
    ))
    .unwrap();
    assert_eq!(
        c.packages.len(),
        text.lines().filter(|l| l.starts_with("Package:")).count()
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let libc = c.packages.iter().find(|p| p.name == "libc6").unwrap();
    assert_eq!(libc.source.as_deref(), Some("glibc"));
}

#[test]
fn entries_without_a_name_are_skipped_and_without_a_version_unknown() {
    let c = catalog_of(&[(
        "var/lib/dpkg/status",
        "syft__pkg__cataloger__debian__testdata__var__lib__dpkg__status.d__multiple",
    )]);
    // As Syft 1.18: a paragraph without Version is a package, `UNKNOWN`.
    let found: Vec<(&str, &str)> = c
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("no-version", "UNKNOWN"),
            ("tzdata", "2020a-0+deb10u1"),
            ("util-linux", "2.33.1-0.1")
        ]
    );
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
}

#[test]
fn corrupt_dpkg_entry_warns_without_packages() {
    let c = catalog_of(&[(
        "var/lib/dpkg/status.d/corrupt",
        "syft__pkg__cataloger__debian__testdata__var__lib__dpkg__status.d__corrupt",
    )]);
    assert!(c.packages.is_empty());
    assert!(!c.warnings.is_empty());
}

#[test]
fn apk_databases_with_files() {
    for (sample, min) in [
        (
            "syft__pkg__cataloger__alpine__testdata__multiple-1__lib__apk__db__installed",
            2,
        ),
        (
            "syft__pkg__cataloger__alpine__testdata__multiple-2__lib__apk__db__installed",
            2,
        ),
        (
            "cmd__syft__internal__test__integration__testdata__image-pkg-coverage__pkgs__lib__apk__db__installed",
            1,
        ),
    ] {
        let text = std::fs::read_to_string(reference(sample)).unwrap();
        let want = text.lines().filter(|l| l.starts_with("P:")).count();
        let c = catalog_of(&[("lib/apk/db/installed", sample)]);
        assert_eq!(c.packages.len(), want, "{sample}");
        assert!(c.packages.len() >= min);
        assert!(
            c.packages
                .iter()
                .all(|p| p.kind == PackageType::Apk && p.purl.starts_with("pkg:apk/alpine/"))
        );
    }
    let bash = catalog_of(&[(
        "lib/apk/db/installed",
        "syft__pkg__cataloger__alpine__testdata__multiple-1__lib__apk__db__installed",
    )]);
    let bash = bash.packages.iter().find(|p| p.name == "bash").unwrap();
    assert_eq!(bash.purl, "pkg:apk/alpine/bash@5.2.21-r0?arch=x86_64");
    assert_eq!(bash.licenses, ["GPL-3.0-or-later"]);
}

#[test]
fn corrupt_apk_database_gives_partial_results() {
    let c = catalog_of(&[(
        "lib/apk/db/installed",
        "syft__pkg__cataloger__alpine__testdata__corrupt__lib__apk__db__installed",
    )]);
    assert!(!c.warnings.is_empty(), "the corrupt paragraph is reported");
    let names: Vec<&str> = c.packages.iter().map(|p| p.name.as_str()).collect();
    assert!(names.contains(&"alpine-baselayout-data"), "{names:?}");
    let data = c
        .packages
        .iter()
        .find(|p| p.name == "alpine-baselayout-data")
        .unwrap();
    assert!(
        data.files.contains(&"/etc/fstab".to_string()),
        "{:?}",
        data.files
    );
}

#[test]
fn os_release_gives_the_distro_qualifier() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("usr/lib")).unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(
        root.path().join("usr/lib/os-release"),
        "ID=debian\nVERSION_ID=\"12\"\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("../usr/lib/os-release", root.path().join("etc/os-release"))
        .unwrap();
    let distro = catalog_root(root.path()).distro.unwrap();
    assert_eq!(distro.qualifier(), "debian-12");
}

/// What the real `rpm` tool reads from a Berkeley DB `Packages` file:
/// `NAME VERSION-RELEASE ARCH FILE…` lines.
fn rpm_oracle(sample: &str) -> Option<Vec<String>> {
    let found = std::process::Command::new("rpm")
        .arg("--version")
        .output()
        .is_ok();
    if !found {
        pare_testkit::missing("rpm")?;
    }
    let dbpath = tempfile::tempdir().unwrap();
    std::fs::copy(reference(sample), dbpath.path().join("Packages")).unwrap();
    let out = std::process::Command::new("rpm")
        .arg("--dbpath")
        .arg(dbpath.path())
        .args([
            "--define",
            "_db_backend bdb_ro",
            "-qa",
            "--qf",
            "%{NAME} %{VERSION}-%{RELEASE} %{ARCH}[ %{FILENAMES}]\\n",
        ])
        .output()
        .unwrap();
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    Some(lines)
}

/// pare's packages in the oracle's `NAME VERSION-RELEASE ARCH FILE…` form.
fn rpm_lines(c: &Catalog) -> Vec<String> {
    let mut lines: Vec<String> = c
        .packages
        .iter()
        .map(|p| {
            let arch = p.architecture.as_deref().unwrap_or("");
            let mut line = format!("{} {} {arch}", p.name, p.version);
            for f in &p.files {
                line.push(' ');
                line.push_str(f);
            }
            line
        })
        .collect();
    lines.sort();
    lines
}

#[test]
fn rpm_berkeley_db_matches_the_rpm_tool() {
    for sample in [
        "syft__pkg__cataloger__redhat__testdata__Packages",
        "cmd__syft__internal__test__integration__testdata__image-pkg-coverage__pkgs__var__lib__rpm__Packages",
    ] {
        let Some(want) = rpm_oracle(sample) else {
            return;
        };
        assert!(!want.is_empty(), "{sample}: rpm read nothing");
        let c = catalog_of(&[("var/lib/rpm/Packages", sample)]);
        assert!(c.warnings.is_empty(), "{sample}: {:?}", c.warnings);
        assert_eq!(rpm_lines(&c), want, "{sample}");
        assert!(c.packages.iter().all(|p| p.purl.starts_with("pkg:rpm/")));
    }
}

#[test]
fn corrupt_rpm_databases_warn_and_never_panic() {
    let good = std::fs::read(reference(
        "syft__pkg__cataloger__redhat__testdata__Packages",
    ))
    .unwrap();
    // Truncations and single-byte flips across the whole file.
    let mut variants: Vec<Vec<u8>> = (0..good.len())
        .step_by(509)
        .map(|n| good[..n].to_vec())
        .collect();
    for at in (0..good.len()).step_by(97) {
        let mut bad = good.clone();
        bad[at] ^= 0xa5;
        variants.push(bad);
    }
    for bad in variants {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("var/lib/rpm")).unwrap();
        std::fs::write(root.path().join("var/lib/rpm/Packages"), &bad).unwrap();
        let _ = catalog_root(root.path()); // must return, whatever it finds
    }
}

#[test]
fn rpm_sqlite_database_made_by_rpm_matches_the_rpm_tool() {
    let sample = "syft__pkg__cataloger__redhat__testdata__Packages";
    let Some(want) = rpm_oracle(sample) else {
        return;
    };
    // Let the real rpm convert the Berkeley DB sample to rpmdb.sqlite.
    let bdb = tempfile::tempdir().unwrap();
    std::fs::copy(reference(sample), bdb.path().join("Packages")).unwrap();
    let exported = std::process::Command::new("rpmdb")
        .arg("--dbpath")
        .arg(bdb.path())
        .args(["--define", "_db_backend bdb_ro", "--exportdb"])
        .output()
        .unwrap();
    assert!(exported.status.success());
    let root = tempfile::tempdir().unwrap();
    let dbpath = root.path().join("var/lib/rpm");
    std::fs::create_dir_all(&dbpath).unwrap();
    let mut import = std::process::Command::new("rpmdb")
        .arg("--dbpath")
        .arg(&dbpath)
        .args(["--define", "_db_backend sqlite", "--importdb"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(import.stdin.as_mut().unwrap(), &exported.stdout).unwrap();
    drop(import.stdin.take());
    assert!(import.wait().unwrap().success());
    assert!(dbpath.join("rpmdb.sqlite").is_file());
    let c = catalog_root(root.path());
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(rpm_lines(&c), want);
}

/// A regression test: on merged-/usr roots dpkg names `/bin/busybox` what
/// lives at `usr/bin/busybox`; the BusyBox classifier must see that a
/// package owns it, and still report a BusyBox no package owns.
#[test]
fn busybox_owned_by_a_package_through_a_symlinked_bin_is_not_reported() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    std::fs::create_dir_all(r.join("usr/bin")).unwrap();
    std::os::unix::fs::symlink("usr/bin", r.join("bin")).unwrap();
    std::fs::write(
        r.join("usr/bin/busybox"),
        b"ELF...BusyBox v1.35.0 (Debian)...",
    )
    .unwrap();
    std::fs::create_dir_all(r.join("opt/tool")).unwrap();
    std::fs::write(r.join("opt/tool/busybox"), b"BusyBox v1.36.1 multi-call").unwrap();
    std::fs::create_dir_all(r.join("var/lib/dpkg/info")).unwrap();
    std::fs::write(
        r.join("var/lib/dpkg/status"),
        "Package: busybox-static\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.35.0-4\n",
    )
    .unwrap();
    std::fs::write(
        r.join("var/lib/dpkg/info/busybox-static.list"),
        "/.\n/bin\n/bin/busybox\n",
    )
    .unwrap();
    let c = catalog_root(r);
    let found: Vec<(&str, &str, &str)> = c
        .packages
        .iter()
        .map(|p| (p.kind.as_str(), p.name.as_str(), p.found_at.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("deb", "busybox-static", "/var/lib/dpkg/status"),
            ("binary", "busybox", "/opt/tool/busybox")
        ]
    );
    assert_eq!(c.packages[1].version, "1.36.1");
}
