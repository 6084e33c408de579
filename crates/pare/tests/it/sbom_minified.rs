//! What a minified image says it holds: `pare sbom` and Syft 1.18 list the
//! same packages (type, name, version, and the PURLs Syft and pare both
//! build) on every test image minified statically, and a distroless-style
//! source (packages only in `var/lib/dpkg/status.d/`) keeps the packages
//! of what it keeps (issue 12: it kept `/usr/bin/true` and no package).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::common::*;
use crate::require;
use crate::sbom::triples;

/// (type, name, version) of each package.
type Triples = BTreeSet<(String, String, String)>;

/// The test images whose entry point a static minify handles today, with
/// the flags that entry point needs (nothing here is about packages).
const IMAGES: &[(&str, &[&str])] = &[
    ("redis", &[]),
    ("nginx", &[]),
    ("python", &[]),
    ("node", &[]),
    ("apps", &[]),
    ("busybox", &[]),
    ("cplugins", &[]),
    ("lambda", &[]),
    // docker-entrypoint.sh is a /bin/sh script.
    ("redis-gosu", &["--keep-shell"]),
    ("ctext", &[]),
    ("java", &[]),
    ("pylocal", &[]),
    ("perl", &[]),
];

/// Minifications run at once: each is mostly one core's work (CI has two).
const WORKERS: usize = 2;

/// `pare sbom --format json` of `reference`.
fn pare_sbom(reference: &str) -> Value {
    serde_json::from_str(&pare_ok(&["sbom", "--format", "json", reference])).unwrap()
}

/// Syft's packages of `reference`.
fn syft_packages(reference: &str) -> Value {
    let syft: Value =
        serde_json::from_slice(&syft(&["-q", reference, "-o", "json"]).stdout).unwrap();
    syft["artifacts"].clone()
}

/// How pare and Syft differ on one image: empty when they agree on every
/// package, and on the PURL of every package whose PURL both build.
fn differences(ours: &Value, theirs: &Value) -> Vec<String> {
    let ours_set = triples(&ours["packages"], "type");
    let syft_set = triples(theirs, "type");
    let mut found: Vec<String> = syft_set
        .difference(&ours_set)
        .map(|p| format!("Syft only: {p:?}"))
        .chain(
            ours_set
                .difference(&syft_set)
                .map(|p| format!("pare only: {p:?}")),
        )
        .collect();
    let key = |p: &Value| (p["type"].clone(), p["name"].clone(), p["version"].clone());
    for theirs in theirs.as_array().unwrap().iter().filter(|p| {
        ["deb", "apk", "go-module", "rust-crate"].contains(&p["type"].as_str().unwrap_or(""))
    }) {
        let mine = ours["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| key(q) == key(theirs));
        if let Some(mine) = mine
            && mine["purl"] != theirs["purl"]
        {
            found.push(format!(
                "PURL {} here, {} in Syft",
                mine["purl"], theirs["purl"]
            ));
        }
    }
    found
}

/// The OS packages (deb, apk, rpm) among `packages`.
fn os_packages(packages: &Triples) -> usize {
    packages
        .iter()
        .filter(|(kind, _, _)| ["deb", "apk", "rpm"].contains(&kind.as_str()))
        .count()
}

/// Minifies `archive` statically into `work` with `extra` flags; the
/// minified image's `pare sbom`, Syft's packages, and the source's
/// packages by `pare sbom`.
fn minify_and_list(work: &Path, archive: &Path, extra: &[&str]) -> (Value, Value, Triples) {
    let layout = work.join("min");
    let mut args = vec!["minify", "--static-only", archive.to_str().unwrap(), "-o"];
    let destination = format!("oci:{}:min", layout.display());
    args.push(&destination);
    args.extend_from_slice(extra);
    pare_ok(&args);
    let source = pare_sbom(&format!("docker-archive:{}", archive.display()));
    let ours = pare_sbom(&format!("oci:{}", layout.display()));
    let theirs = syft_packages(&format!("oci-dir:{}", layout.display()));
    (ours, theirs, triples(&source["packages"], "type"))
}

#[test]
fn sbom_of_every_statically_minified_test_image_matches_syft() {
    require!(tool("syft"));
    let mut archives = Vec::new();
    for (name, extra) in IMAGES {
        archives.push((*name, require!(test_image(name)), *extra));
    }
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                while let Some((name, archive, extra)) =
                    archives.get(next.fetch_add(1, Ordering::SeqCst))
                {
                    let work = tempfile::tempdir().unwrap();
                    let (ours, theirs, source) = minify_and_list(work.path(), archive, extra);
                    let mut found = differences(&ours, &theirs);
                    // A source with OS packages keeps those of what it keeps
                    // (the entry point's own C library, at least).
                    let kept = triples(&ours["packages"], "type");
                    if os_packages(&source) > 0 && os_packages(&kept) == 0 {
                        found.push(format!(
                            "no OS package left of the source's {}",
                            os_packages(&source)
                        ));
                    }
                    if !found.is_empty() {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{name}: {}", found.join("; ")));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A package of the distroless-style root: its `status.d` entry, and the
/// files of the root its md5sums name.
struct Entry {
    name: &'static str,
    paragraph: &'static str,
    files: &'static [&'static str],
}

/// Distroless writes one `status.d/NAME` a package (copied from the
/// `.deb`'s control file, so without `Status`) and `NAME.md5sums` beside it.
const DISTROLESS: &[Entry] = &[
    Entry {
        name: "coreutils",
        paragraph: "Package: coreutils\nVersion: 9.1-1\nArchitecture: amd64\n\
                    Maintainer: Michael Stone <mstone@debian.org>\n\
                    Source: coreutils\nDescription: GNU core utilities\n \
                    This package contains the basic file, shell and text manipulation\n \
                    utilities which are expected to exist on every operating system.\n",
        files: &["usr/bin/true"],
    },
    Entry {
        name: "libc6",
        paragraph: "Package: libc6\nVersion: 2.36-9+deb12u10\nArchitecture: amd64\n\
                    Multi-Arch: same\nSource: glibc\nDescription: GNU C Library: Shared libraries\n",
        files: &[
            "lib/x86_64-linux-gnu/libc.so.6",
            "lib64/ld-linux-x86-64.so.2",
        ],
    },
    // Owns a file of the root that /usr/bin/true does not need.
    Entry {
        name: "tzdata",
        paragraph: "Package: tzdata\nVersion: 2025b-0+deb12u1\nArchitecture: all\n",
        files: &["usr/share/zoneinfo/UTC"],
    },
];

/// The `md5sum` line of each file of `root`.
fn md5sums(root: &Path, files: &[&str]) -> String {
    files
        .iter()
        .map(|f| {
            let out = run("md5sum", &[root.join(f).to_str().unwrap()]);
            let hash = String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .next()
                .unwrap()
                .to_string();
            format!("{hash}  {f}\n")
        })
        .collect()
}

/// (deb, name, version) of `entry`, read from its own paragraph.
fn triple(entry: &Entry) -> (String, String, String) {
    let version = entry
        .paragraph
        .lines()
        .find_map(|l| l.strip_prefix("Version: "))
        .unwrap();
    ("deb".into(), entry.name.into(), version.into())
}

#[test]
fn distroless_style_source_keeps_the_packages_of_what_it_keeps() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    glibc_root(&root, &[("/usr/bin/true", "usr/bin/true")]);
    // As distroless ships it (its PURLs name the distribution).
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "PRETTY_NAME=\"Distroless\"\nNAME=\"Debian GNU/Linux\"\nID=\"debian\"\n\
         VERSION_ID=\"12\"\nVERSION=\"Debian GNU/Linux 12 (bookworm)\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("usr/share/zoneinfo")).unwrap();
    std::fs::write(root.join("usr/share/zoneinfo/UTC"), "TZif2").unwrap();
    let status_d = root.join("var/lib/dpkg/status.d");
    std::fs::create_dir_all(&status_d).unwrap();
    for entry in DISTROLESS {
        std::fs::write(status_d.join(entry.name), entry.paragraph).unwrap();
        std::fs::write(
            status_d.join(format!("{}.md5sums", entry.name)),
            md5sums(&root, entry.files),
        )
        .unwrap();
    }
    let source = format!("dir:{}", root.display());
    let all: Triples = DISTROLESS.iter().map(triple).collect();
    assert_eq!(triples(&pare_sbom(&source)["packages"], "type"), all);

    let out = work.path().join("min.tar");
    pare_ok(&[
        "minify",
        "--static-only",
        &source,
        "--entrypoint",
        "/usr/bin/true",
        "-o",
        &format!("docker-archive:{}:min", out.display()),
    ]);
    let minified = format!("docker-archive:{}", out.display());
    let files = file_list(&minified);
    assert!(files.contains_key("/usr/bin/true"));
    assert!(!files.contains_key("/usr/share/zoneinfo/UTC"));
    let want: Triples = DISTROLESS
        .iter()
        .filter(|e| e.files.iter().any(|f| files.contains_key(&format!("/{f}"))))
        .map(triple)
        .collect();
    let ours = pare_sbom(&minified);
    assert_eq!(triples(&ours["packages"], "type"), want);
    // Each entry is carried byte for byte, its md5sums reduced to kept files.
    for entry in DISTROLESS.iter().filter(|e| want.contains(&triple(e))) {
        let carried =
            file_from_docker_archive(&out, &format!("var/lib/dpkg/status.d/{}", entry.name));
        assert_eq!(String::from_utf8(carried).unwrap(), entry.paragraph);
    }
    if tool("syft").is_some() {
        let theirs = syft_packages(&minified);
        assert_eq!(differences(&ours, &theirs), Vec::<String>::new());
        assert_eq!(triples(&theirs, "type"), want);
    }
}
