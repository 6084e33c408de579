//! Issue 14: image quirks that skopeo accepts and pare refused, made the
//! common way (GNU tar, skopeo) from the busybox test image and from other
//! tools' own test layouts (`crates/pare-image/tests/data`), each read by
//! `pare inspect` and checked against what skopeo reads from it.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::common::*;
use crate::require;

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../pare-image/tests/data")
        .join(name)
}

/// `skopeo copy -q FROM TO` with extra options.
fn skopeo_copy(options: &[&str], from: &str, to: &str) {
    let mut args = vec!["copy", "-q"];
    args.extend_from_slice(options);
    args.extend_from_slice(&[from, to]);
    run("skopeo", &args);
}

/// The digest of the manifest `skopeo inspect --raw` prints.
fn skopeo_raw_digest(reference: &str) -> String {
    sha256(&run("skopeo", &["inspect", "--raw", reference]).stdout)
}

/// The manifest `skopeo copy` reads for `reference` (after choosing from an
/// index), as the digest it writes into a fresh layout.
fn skopeo_chosen_digest(reference: &str) -> String {
    let out = tempfile::tempdir().unwrap();
    let layout = out.path().join("copy");
    skopeo_copy(&[], reference, &format!("oci:{}:x", layout.display()));
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The `.Digest` of `skopeo inspect`.
fn skopeo_inspect_digest(reference: &str) -> String {
    let out: Value =
        serde_json::from_slice(&run("skopeo", &["inspect", reference]).stdout).unwrap();
    out["Digest"].as_str().unwrap().to_string()
}

/// `tar -C dir -cf archive .`, GNU tar's members: `./`, `./index.json` …
fn gnu_tar(dir: &Path, archive: &Path) {
    run(
        "tar",
        &[
            "-C",
            dir.to_str().unwrap(),
            "-cf",
            archive.to_str().unwrap(),
            ".",
        ],
    );
    let listed = run("tar", &["-tf", archive.to_str().unwrap()]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(listed.lines().next(), Some("./"), "{listed}");
}

/// `pare inspect`'s failure: exit 1 and one line on stderr.
fn pare_refuses(reference: &str) -> String {
    let out = pare().args(["inspect", reference]).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{reference}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr.trim_end().to_string()
}

fn read_index(layout: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap()
}

fn write_index(layout: &Path, index: &Value) {
    std::fs::write(layout.join("index.json"), index.to_string()).unwrap();
}

/// Issue 14, `./` members: busybox as an OCI layout (skopeo) packed with
/// `tar -C layout -cf img.tar .` was refused; pare reads it, detected or
/// named, and agrees with skopeo on the manifest, config and diff_ids.
#[test]
fn dot_slash_oci_archive_from_gnu_tar_agrees_with_skopeo() {
    require!(tool("skopeo"));
    require!(tool("tar"));
    let archive = require!(test_image("busybox"));
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("layout");
    skopeo_copy(
        &[],
        &format!("docker-archive:{}", archive.display()),
        &format!("oci:{}:latest", layout.display()),
    );
    let packed = work.path().join("img.tar");
    gnu_tar(&layout, &packed);
    let named = format!("oci-archive:{}", packed.display());
    let want = skopeo_raw_digest(&named);
    assert_eq!(skopeo_inspect_digest(&named), want);
    let config: Value =
        serde_json::from_slice(&run("skopeo", &["inspect", "--config", &named]).stdout).unwrap();
    for reference in [
        named.clone(),
        format!("{named}:latest"),
        packed.display().to_string(),
    ] {
        let ours = inspect_json(&reference);
        assert_eq!(ours["transport"], "oci-archive", "{reference}");
        assert_eq!(ours["manifest_digest"], want.as_str(), "{reference}");
        assert_eq!(
            diff_ids(&ours),
            config["rootfs"]["diff_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        );
    }
    // The same files as the layout it was packed from.
    let from_dir = inspect_json(&format!("oci:{}:latest", layout.display()));
    let from_tar = inspect_json(&named);
    for key in ["files", "size_bytes", "config_digest"] {
        assert_eq!(from_tar[key], from_dir[key], "{key}");
    }
}

/// Issue 14, `./` members: the busybox `docker save` archive unpacked and
/// packed again with `tar -C dir -cf img.tar .`; pare reads it as skopeo
/// does (same config, same diff_ids) and as it reads the original.
#[test]
fn dot_slash_docker_archive_from_gnu_tar_agrees_with_skopeo() {
    require!(tool("skopeo"));
    require!(tool("tar"));
    let archive = require!(test_image("busybox"));
    let work = tempfile::tempdir().unwrap();
    let unpacked = work.path().join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    run(
        "tar",
        &[
            "-C",
            unpacked.to_str().unwrap(),
            "-xf",
            archive.to_str().unwrap(),
        ],
    );
    let packed = work.path().join("img.tar");
    gnu_tar(&unpacked, &packed);
    let named = format!("docker-archive:{}", packed.display());
    let raw: Value =
        serde_json::from_slice(&run("skopeo", &["inspect", "--raw", &named]).stdout).unwrap();
    let config: Value =
        serde_json::from_slice(&run("skopeo", &["inspect", "--config", &named]).stdout).unwrap();
    let original = inspect_json(&format!("docker-archive:{}", archive.display()));
    for reference in [named.clone(), packed.display().to_string()] {
        let ours = inspect_json(&reference);
        assert_eq!(ours["transport"], "docker-archive", "{reference}");
        assert_eq!(
            ours["config_digest"], raw["config"]["digest"],
            "{reference}"
        );
        let skopeo_ids: Vec<String> = config["rootfs"]["diff_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(diff_ids(&ours), skopeo_ids);
        for key in ["files", "size_bytes", "config_digest", "names"] {
            assert_eq!(ours[key], original[key], "{reference}: {key}");
        }
    }
}

/// Issue 14, an index entry with no platform gave "no image for
/// linux/amd64 (has: )". Busybox wrapped in an index whose one entry has
/// no platform (what go-containerregistry's test layout holds), and that
/// layout itself: pare reads the manifest skopeo copies
/// (`chooseInstance`'s fallback), plain and packed with GNU tar.
#[test]
fn index_entry_without_platform_agrees_with_skopeo() {
    require!(tool("skopeo"));
    require!(tool("tar"));
    let archive = require!(test_image("busybox"));
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("layout");
    skopeo_copy(
        &[],
        &format!("docker-archive:{}", archive.display()),
        &format!("oci:{}:plain", layout.display()),
    );
    let mut index = read_index(&layout);
    let mut entry = index["manifests"][0].clone();
    entry.as_object_mut().unwrap().remove("annotations");
    assert!(entry.get("platform").is_none());
    let nested = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [entry.clone()],
    })
    .to_string();
    let nested_digest = sha256(nested.as_bytes());
    std::fs::write(
        layout
            .join("blobs/sha256")
            .join(&nested_digest["sha256:".len()..]),
        &nested,
    )
    .unwrap();
    index["manifests"].as_array_mut().unwrap().push(json!({
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": nested_digest, "size": nested.len(),
        "annotations": {"org.opencontainers.image.ref.name": "wrapped"},
    }));
    write_index(&layout, &index);
    let packed = work.path().join("img.tar");
    gnu_tar(&layout, &packed);

    let want = entry["digest"].as_str().unwrap();
    let wrapped = format!("oci:{}:wrapped", layout.display());
    assert_eq!(skopeo_raw_digest(&wrapped), nested_digest);
    assert_eq!(skopeo_chosen_digest(&wrapped), want);
    for (reference, platform) in [
        (wrapped.clone(), "linux/amd64"),
        (wrapped.clone(), "linux/arm64"),
        (
            format!("oci-archive:{}:wrapped", packed.display()),
            "linux/amd64",
        ),
    ] {
        let ours: Value = serde_json::from_str(&pare_ok(&[
            "inspect",
            "--format",
            "json",
            "--platform",
            platform,
            &reference,
        ]))
        .unwrap();
        assert_eq!(ours["manifest_digest"], want, "{reference} {platform}");
    }
    let plain = inspect_json(&format!("oci:{}:plain", layout.display()));
    let ours = inspect_json(&wrapped);
    for key in ["files", "size_bytes", "config_digest"] {
        assert_eq!(ours[key], plain[key], "{key}");
    }

    // go-containerregistry's own layout: `3` is an index, `4` a manifest
    // list, each of one manifest without a platform; `1` that manifest.
    let ggcr = fixture("ggcr-test_index");
    let want = skopeo_raw_digest(&format!("oci:{}:1", ggcr.display()));
    assert_eq!(
        skopeo_chosen_digest(&format!("oci:{}:3", ggcr.display())),
        want
    );
    for name in ["1", "3", "4"] {
        let ours = inspect_json(&format!("oci:{}:{name}", ggcr.display()));
        assert_eq!(ours["manifest_digest"], want.as_str(), "{name}");
        assert!(ours["files"].as_u64().unwrap() > 0, "{name}");
    }
}

/// Issue 14, one ref name on two manifests: skopeo reads the first
/// (containers/image `getManifestDescriptor`), and so does pare; both
/// refuse a reference without a name. Busybox twice (recompressed, so
/// another manifest) with one name, and containers/image's own fixture.
#[test]
fn duplicate_ref_name_reads_what_skopeo_reads() {
    require!(tool("skopeo"));
    let archive = require!(test_image("busybox"));
    let work = tempfile::tempdir().unwrap();
    let layout = two_busyboxes(&archive, work.path());
    let mut index = read_index(&layout);
    for entry in index["manifests"].as_array_mut().unwrap() {
        entry["annotations"] = json!({"org.opencontainers.image.ref.name": "dup"});
    }
    write_index(&layout, &index);
    let first = index["manifests"][0]["digest"].as_str().unwrap();
    let dup = format!("oci:{}:dup", layout.display());
    assert_eq!(skopeo_inspect_digest(&dup), first);
    assert_eq!(inspect_json(&dup)["manifest_digest"], first);

    let no_name = format!("oci:{}", layout.display());
    let skopeo = std::process::Command::new("skopeo")
        .args(["inspect", &no_name])
        .output()
        .unwrap();
    assert!(!skopeo.status.success());
    let err = pare_refuses(&no_name);
    assert!(err.contains("holds 2 images: @0 "), "{err}");

    // containers/image's fixture: its layers are placeholders, so pare
    // inspect stops at the first image's layer (0c8b2636…, not the
    // second's fa00bb4e…), having chosen what skopeo chose.
    let cimage = fixture("cimage-two_identical_references");
    let reference = format!("oci:{}:1.0.0", cimage.display());
    assert_eq!(
        skopeo_inspect_digest(&reference),
        "sha256:49d1584496c6e196f512c4a9f52b17b187642269d84c044538523c5b69a660b3"
    );
    let err = pare_refuses(&reference);
    assert!(err.contains("sha256:0c8b263642b5"), "{err}");
}

/// A layout holding busybox twice, as `a/busybox:1` and `b/busybox:1`
/// (recompressed: another layer blob, another manifest).
fn two_busyboxes(archive: &Path, work: &Path) -> PathBuf {
    let layout = work.join("layout");
    let from = format!("docker-archive:{}", archive.display());
    skopeo_copy(&[], &from, &format!("oci:{}:a/busybox:1", layout.display()));
    skopeo_copy(
        &["--dest-compress-level", "1"],
        &from,
        &format!("oci:{}:b/busybox:1", layout.display()),
    );
    let index = read_index(&layout);
    let digests: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["digest"].as_str().unwrap())
        .collect();
    assert_eq!(digests.len(), 2);
    assert_ne!(digests[0], digests[1]);
    layout
}

/// Issue 14: a name that matches two images got a hint with the name
/// doubled (`oci:DIR:busybox:1:busybox:1`). Now one line, exit 1, says the
/// name is ambiguous, lists both images by position and digest, and shows
/// `@N` and the digest, which pick the image skopeo reads by its full name.
#[test]
fn ambiguous_name_error_names_the_images_and_the_way_out() {
    require!(tool("skopeo"));
    let archive = require!(test_image("busybox"));
    let work = tempfile::tempdir().unwrap();
    let layout = two_busyboxes(&archive, work.path());
    let index = read_index(&layout);
    let digest = |i: usize| {
        index["manifests"][i]["digest"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let shown = layout.display();

    let err = pare_refuses(&format!("oci:{shown}:busybox:1"));
    assert_eq!(
        err,
        format!(
            "pare: error: opening oci:{shown}:busybox:1: {shown}: index.json: \
             the name \"busybox:1\" is ambiguous: it names 2 images: \
             @0 {} (a/busybox:1), @1 {} (b/busybox:1); pick one by position or digest, \
             e.g. oci:{shown}:@0 or oci:{shown}:{}",
            digest(0),
            digest(1),
            digest(0)
        )
    );
    assert!(!err.contains("busybox:1:busybox:1"), "{err}");
    // skopeo knows only full ref names and refuses this one too.
    let skopeo = std::process::Command::new("skopeo")
        .args(["inspect", &format!("oci:{shown}:busybox:1")])
        .output()
        .unwrap();
    assert!(!skopeo.status.success());

    // The ways out, each the image skopeo reads under its full name.
    for (i, full) in ["a/busybox:1", "b/busybox:1"].iter().enumerate() {
        let want = skopeo_inspect_digest(&format!("oci:{shown}:{full}"));
        assert_eq!(want, digest(i));
        for name in [format!("@{i}"), digest(i), full.to_string()] {
            let ours = inspect_json(&format!("oci:{shown}:{name}"));
            assert_eq!(ours["manifest_digest"], want.as_str(), "{name}");
        }
    }
}
