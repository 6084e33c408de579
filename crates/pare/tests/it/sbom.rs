//! `pare sbom` against Syft 1.18 on the real test images, and its
//! CycloneDX and SPDX output against the official schemas.

use std::collections::BTreeSet;

use crate::common::*;
use crate::require;

/// Package types pare catalogs today.
pub(crate) const SUPPORTED: &[&str] = &[
    "deb",
    "apk",
    "rpm",
    "python",
    "npm",
    "go-module",
    "rust-crate",
    "binary",
];

pub(crate) fn triples(
    packages: &serde_json::Value,
    kind_key: &str,
) -> BTreeSet<(String, String, String)> {
    packages
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[kind_key].as_str().unwrap().to_string(),
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .filter(|(kind, _, _)| SUPPORTED.contains(&kind.as_str()))
        .collect()
}

#[test]
fn sbom_matches_syft_on_every_test_image() {
    require!(tool("syft"));
    for &name in TEST_IMAGES {
        let archive = require!(test_image(name));
        let reference = format!("docker-archive:{}", archive.display());
        let ours: serde_json::Value =
            serde_json::from_str(&pare_ok(&["sbom", "--format", "json", &reference])).unwrap();
        let syft: serde_json::Value =
            serde_json::from_slice(&syft(&["-q", &reference, "-o", "json"]).stdout).unwrap();
        let ours_set = triples(&ours["packages"], "type");
        let syft_set = triples(&syft["artifacts"], "type");
        let missing: Vec<_> = syft_set.difference(&ours_set).collect();
        let extra: Vec<_> = ours_set.difference(&syft_set).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{name}: missing {missing:?}, extra {extra:?}"
        );
        if !["busybox", "apps"].contains(&name) {
            assert!(
                ours_set.len() > 80,
                "{name}: only {} packages",
                ours_set.len()
            );
        }
        // PURLs agree too, package by package.
        for p in
            syft["artifacts"].as_array().unwrap().iter().filter(|p| {
                ["deb", "go-module", "rust-crate"].contains(&p["type"].as_str().unwrap())
            })
        {
            let mine = ours["packages"]
                .as_array()
                .unwrap()
                .iter()
                .find(|q| {
                    q["type"] == p["type"] && q["name"] == p["name"] && q["version"] == p["version"]
                })
                .unwrap();
            assert_eq!(mine["purl"], p["purl"], "{name}: {}", p["name"]);
        }
    }
}

/// The compiled-in packages of the apps image, named independently of
/// Syft (which could regress with pare): from the sources in tests/images.
#[test]
fn sbom_reads_go_build_info_and_cargo_auditable_data_in_any_layout() {
    let archive = require!(test_image("apps"));
    let work = tempfile::tempdir().unwrap();
    let oci = format!("oci:{}", work.path().join("oci").display());
    pare_ok(&["copy", archive.to_str().unwrap(), &oci]);
    for reference in [format!("docker-archive:{}", archive.display()), oci] {
        let ours: serde_json::Value =
            serde_json::from_str(&pare_ok(&["sbom", "--format", "json", &reference])).unwrap();
        let found = |kind: &str, name: &str| -> Vec<(String, String)> {
            ours["packages"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["type"] == kind && p["name"] == name)
                .map(|p| {
                    (
                        p["version"].as_str().unwrap().to_string(),
                        p["found_at"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        };
        let hello = "/usr/local/bin/pare-go-hello".to_string();
        // The main module's version comes from -ldflags "-X main.version=1.4.2".
        assert_eq!(
            found("go-module", "github.com/pare-test/hello"),
            [("v1.4.2".into(), hello.clone())]
        );
        assert_eq!(
            found("go-module", "github.com/pkg/errors"),
            [("v0.9.1".into(), hello)]
        );
        let stdlib = found("go-module", "stdlib");
        assert_eq!(stdlib.len(), 2, "one per Go binary: {stdlib:?}");
        assert!(
            stdlib.iter().all(|(v, _)| v.starts_with("go1.")),
            "{stdlib:?}"
        );
        // Debian's GOPATH build: the version is the one the binary holds.
        let registry = found("go-module", "github.com/docker/distribution/cmd/registry");
        assert!(
            registry.len() == 1 && registry[0].0.starts_with("v2.8"),
            "{registry:?}"
        );
        let rust = "/usr/local/bin/pare-rust-hello".to_string();
        assert_eq!(
            found("rust-crate", "pare-rust-hello"),
            [("0.3.1".into(), rust.clone())]
        );
        assert_eq!(found("rust-crate", "itoa").len(), 1);
        assert_eq!(found("rust-crate", "itoa")[0].1, rust);
    }
}

#[test]
fn sbom_knows_which_layer_brought_a_package() {
    let archive = require!(test_image("redis"));
    let ours: serde_json::Value = serde_json::from_str(&pare_ok(&[
        "sbom",
        "--format",
        "json",
        archive.to_str().unwrap(),
    ]))
    .unwrap();
    let layer_of = |name: &str| {
        ours["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()["layer"]
            .as_u64()
    };
    assert_eq!(layer_of("libc6"), Some(0), "from the debootstrap base");
    assert_eq!(layer_of("redis-server"), Some(2), "from the RUN layer");
    let libc = ours["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "libc6")
        .unwrap();
    let files: Vec<&str> = libc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(files.contains(&"/lib64/ld-linux-x86-64.so.2"), "{files:?}");
}

#[test]
fn cyclonedx_and_spdx_are_valid_against_the_official_schemas() {
    require!(jsonschema_available());
    let archive = require!(test_image("python"));
    let work = tempfile::tempdir().unwrap();
    let cases = [
        (
            "cyclonedx-json",
            schemas().join("cyclonedx-1.6/bom-1.6.schema.json"),
        ),
        ("spdx-json", schemas().join("spdx-2.3-schema.json")),
    ];
    for (format, schema) in cases {
        let out = work.path().join(format!("{format}.json"));
        pare_ok(&[
            "sbom",
            "--format",
            format,
            "-o",
            out.to_str().unwrap(),
            archive.to_str().unwrap(),
        ]);
        assert!(validate(&schema, &out), "{format} is not valid");
        // The validator is not a rubber stamp: a broken document fails.
        let mut doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        match format {
            "cyclonedx-json" => doc["components"][0]["type"] = serde_json::json!("not-a-type"),
            _ => doc["packages"][1]["filesAnalyzed"] = serde_json::json!("not a boolean"),
        }
        let broken = work.path().join("broken.json");
        std::fs::write(&broken, doc.to_string()).unwrap();
        assert!(
            !validate(&schema, &broken),
            "{format}: broken document accepted"
        );
    }
}

#[test]
fn sbom_table_lists_names_versions_and_types() {
    let archive = require!(test_image("debian"));
    let text = pare_ok(&["sbom", archive.to_str().unwrap()]);
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("NAME") && first.contains("VERSION") && first.contains("TYPE"));
    assert!(
        text.lines()
            .any(|l| l.starts_with("libc6 ") && l.ends_with("deb")),
        "{text}"
    );
}
