//! Binary classifiers against Syft 1.18 (issue 14): the `binary` packages
//! (name, version, PURL) of images whose programs no package database
//! claims, compared with Syft run live on the same image.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::*;
use crate::require;

/// (name, version, PURL) of the `binary` packages.
type Id = (String, String, String);

fn binaries(packages: &Value) -> BTreeSet<Id> {
    packages
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "binary")
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap_or_default().to_string();
            (s("name"), s("version"), s("purl"))
        })
        .collect()
}

fn both(reference: &str) -> (BTreeSet<Id>, BTreeSet<Id>) {
    let ours: Value =
        serde_json::from_str(&pare_ok(&["sbom", "--format", "json", reference])).unwrap();
    let theirs: Value =
        serde_json::from_slice(&syft(&["-q", reference, "-o", "json"]).stdout).unwrap();
    (binaries(&ours["packages"]), binaries(&theirs["artifacts"]))
}

/// The programs copied into `/usr/local` of the `fromsource` image: pare
/// finds each one Syft finds, with the same version and PURL, and nothing
/// else. Syft 1.18.1 itself finds nothing in Debian's builds of node (the
/// version string is in libnode.so, which no classifier reads), redis
/// (Debian's build id does not have the shape Syft's regex wants) and ruby
/// (the version is in libruby-3.1.so.3.1, whose name Syft's `^libruby\.so`
/// does not match); its classifier's java/jre package gives way to the JVM
/// installation ("openjdk") its java-jvm-cataloger reads from `release`.
#[test]
fn sbom_binary_classifiers_match_syft_on_from_source_programs() {
    let archive = require!(test_image("fromsource"));
    require!(tool("syft"));
    let reference = format!("docker-archive:{}", archive.display());
    let (ours, theirs) = both(&reference);
    let missing: Vec<&Id> = theirs.difference(&ours).collect();
    let extra: Vec<&Id> = ours.difference(&theirs).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "Syft only {missing:#?}\npare only {extra:#?}"
    );
    let names: BTreeSet<&str> = ours.iter().map(|(n, _, _)| n.as_str()).collect();
    // What Syft 1.18.1 finds in Debian's builds (see above): if Syft
    // starts finding more, this says so and the README must follow.
    let syft_names: BTreeSet<&str> = theirs.iter().map(|(n, _, _)| n.as_str()).collect();
    for program in [
        "python", "nginx", "php-cli", "busybox", "openssl", "openjdk",
    ] {
        assert!(
            syft_names.contains(program),
            "Syft no longer finds {program}"
        );
        assert!(
            names.contains(program),
            "pare does not find {program}: {ours:#?}"
        );
    }
    for program in ["node", "redis", "ruby", "java/jre"] {
        assert!(
            !syft_names.contains(program),
            "Syft now finds {program}: update the README and this test"
        );
    }
    // Versions from the bytes, as Debian built them.
    for (name, version) in [
        ("python", "3.11.2"),
        ("busybox", "1.35.0"),
        ("nginx", "1.22.1"),
    ] {
        assert!(
            ours.iter().any(|(n, v, _)| n == name && v == version),
            "{name} {version}: {ours:#?}"
        );
    }
}

/// The other test images: a from-source python layout (pylocal), a scratch
/// BusyBox, and Debian-packaged programs whose binaries dpkg owns (left to
/// their packages by both).
#[test]
fn sbom_binary_classifiers_match_syft_on_the_other_images() {
    require!(tool("syft"));
    for name in ["pylocal", "busybox", "redis", "nginx", "java", "perl"] {
        let archive = require!(test_image(name));
        let reference = format!("docker-archive:{}", archive.display());
        let (ours, theirs) = both(&reference);
        assert_eq!(ours, theirs, "{name}");
        if name == "pylocal" || name == "busybox" {
            assert!(!ours.is_empty(), "{name}: no binary package");
        }
    }
}
