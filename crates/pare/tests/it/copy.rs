//! `pare copy` between transports, checked by skopeo, umoci and Docker.

use std::path::Path;

use sha2::{Digest as _, Sha256};

use crate::common::*;
use crate::require;

fn archive_ref(path: &Path) -> String {
    format!("docker-archive:{}", path.display())
}

#[test]
fn docker_archive_to_oci_to_docker_archive_keeps_config_and_diff_ids() {
    require!(tool("skopeo"));
    require!(tool("umoci"));
    let archive = require!(test_image("redis"));
    let work = tempfile::tempdir().unwrap();
    let oci = work.path().join("oci");
    let back = work.path().join("back.tar");
    let original = inspect_json(&archive_ref(&archive));

    pare_ok(&[
        "copy",
        &archive_ref(&archive),
        &format!("oci:{}:redis", oci.display()),
    ]);
    pare_ok(&[
        "copy",
        &format!("oci:{}:redis", oci.display()),
        &archive_ref(&back),
    ]);

    for copy in [format!("oci:{}:redis", oci.display()), archive_ref(&back)] {
        let copied = inspect_json(&copy);
        assert_eq!(copied["config_digest"], original["config_digest"], "{copy}");
        assert_eq!(diff_ids(&copied), diff_ids(&original), "{copy}");
        assert_eq!(copied["files"], original["files"], "{copy}");
        assert_eq!(copied["size_bytes"], original["size_bytes"], "{copy}");
    }

    // skopeo reads pare's layout and sees the same config and layers.
    let seen: serde_json::Value = serde_json::from_slice(
        &run(
            "skopeo",
            &["inspect", &format!("oci:{}:redis", oci.display())],
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(
        seen["Layers"].as_array().unwrap().len(),
        diff_ids(&original).len()
    );
    let config = run(
        "skopeo",
        &[
            "inspect",
            "--raw",
            "--config",
            &format!("oci:{}:redis", oci.display()),
        ],
    )
    .stdout;
    let config_digest = format!("sha256:{}", hex::encode(Sha256::digest(&config)));
    assert_eq!(config_digest, original["config_digest"].as_str().unwrap());
    // umoci validates and unpacks it.
    run(
        "umoci",
        &["stat", "--image", &format!("{}:redis", oci.display())],
    );
    let rootfs = umoci_unpack(&oci, "redis", &work.path().join("bundle"));
    let (files, bytes) = count_unpacked(&rootfs);
    assert_eq!(files, original["files"].as_u64().unwrap());
    assert_eq!(bytes, original["size_bytes"].as_u64().unwrap());
}

#[test]
fn zstd_and_oci_archive_round_trip() {
    require!(tool("skopeo"));
    let archive = require!(test_image("python"));
    let work = tempfile::tempdir().unwrap();
    let original = inspect_json(&archive_ref(&archive));
    let zstd = work.path().join("zstd");
    pare_ok(&[
        "copy",
        "--compression",
        "zstd",
        &archive_ref(&archive),
        &format!("oci:{}", zstd.display()),
    ]);
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(zstd.join("index.json")).unwrap()).unwrap();
    let manifest_digest = index["manifests"][0]["digest"].as_str().unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(zstd.join("blobs/sha256").join(&manifest_digest[7..])).unwrap(),
    )
    .unwrap();
    for layer in manifest["layers"].as_array().unwrap() {
        assert_eq!(
            layer["mediaType"],
            "application/vnd.oci.image.layer.v1.tar+zstd"
        );
    }
    run("skopeo", &["inspect", &format!("oci:{}", zstd.display())]);

    let packed = work.path().join("image.oci.tar");
    pare_ok(&[
        "copy",
        &format!("oci:{}", zstd.display()),
        &format!("oci-archive:{}", packed.display()),
    ]);
    run(
        "skopeo",
        &["inspect", &format!("oci-archive:{}", packed.display())],
    );
    for copy in [
        format!("oci:{}", zstd.display()),
        format!("oci-archive:{}", packed.display()),
    ] {
        let copied = inspect_json(&copy);
        assert_eq!(copied["config_digest"], original["config_digest"]);
        assert_eq!(diff_ids(&copied), diff_ids(&original));
        assert_eq!(copied["files"], original["files"]);
    }
    // A bare path is detected as the kind of archive it is.
    let detected = inspect_json(packed.to_str().unwrap());
    assert_eq!(detected["transport"], "oci-archive");
}

#[test]
fn copy_is_byte_for_byte_reproducible() {
    let archive = require!(test_image("busybox"));
    let work = tempfile::tempdir().unwrap();
    let mut sums = Vec::new();
    for i in 0..2 {
        for (kind, name) in [("docker-archive", "a.tar"), ("oci-archive", "o.tar")] {
            let out = work.path().join(format!("{i}-{name}"));
            pare_ok(&[
                "copy",
                &archive_ref(&archive),
                &format!("{kind}:{}", out.display()),
            ]);
            sums.push((kind, Sha256::digest(std::fs::read(&out).unwrap())));
        }
    }
    assert_eq!(sums[0], sums[2]);
    assert_eq!(sums[1], sums[3]);
}

#[test]
fn legacy_docker_archive_layout_is_read() {
    let archive = require!(test_image("redis"));
    let work = tempfile::tempdir().unwrap();
    let legacy = work.path().join("legacy.tar");
    write_legacy_archive(&archive, &legacy);
    let original = inspect_json(&archive_ref(&archive));
    let old = inspect_json(&archive_ref(&legacy));
    assert_eq!(old["config_digest"], original["config_digest"]);
    assert_eq!(diff_ids(&old), diff_ids(&original));
    assert_eq!(old["files"], original["files"]);
    assert_eq!(old["size_bytes"], original["size_bytes"]);
    assert!(
        old["layers"][0]["digest"].is_null(),
        "legacy layers carry no digest"
    );
}

/// Repacks a Docker 25+ archive the way Docker before 25 wrote it:
/// `<id>/layer.tar`, `<id>/VERSION`, `<id>/json`, `<config-hex>.json`.
fn write_legacy_archive(modern: &Path, out: &Path) {
    let unpacked = tempfile::tempdir().unwrap();
    tar::Archive::new(std::fs::File::open(modern).unwrap())
        .unpack(unpacked.path())
        .unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(unpacked.path().join("manifest.json")).unwrap())
            .unwrap();
    let entry = &manifest[0];
    let mut builder = tar::Builder::new(std::fs::File::create(out).unwrap());
    let config_path = entry["Config"].as_str().unwrap();
    let config = std::fs::read(unpacked.path().join(config_path)).unwrap();
    let config_hex = hex::encode(Sha256::digest(&config));
    append(&mut builder, &format!("{config_hex}.json"), &config);
    let mut layers = Vec::new();
    for (i, layer) in entry["Layers"].as_array().unwrap().iter().enumerate() {
        let id = hex::encode(Sha256::digest(format!("layer-{i}")));
        let path = unpacked.path().join(layer.as_str().unwrap());
        let mut header = tar::Header::new_gnu();
        header.set_size(std::fs::metadata(&path).unwrap().len());
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(
                &mut header,
                format!("{id}/layer.tar"),
                std::fs::File::open(&path).unwrap(),
            )
            .unwrap();
        append(&mut builder, &format!("{id}/VERSION"), b"1.0");
        append(
            &mut builder,
            &format!("{id}/json"),
            format!("{{\"id\":\"{id}\"}}").as_bytes(),
        );
        layers.push(format!("{id}/layer.tar"));
    }
    let legacy_manifest = serde_json::json!([{
        "Config": format!("{config_hex}.json"),
        "RepoTags": entry["RepoTags"],
        "Layers": layers,
    }]);
    append(
        &mut builder,
        "manifest.json",
        legacy_manifest.to_string().as_bytes(),
    );
    builder.finish().unwrap();
}

fn append(builder: &mut tar::Builder<std::fs::File>, name: &str, data: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append_data(&mut header, name, data).unwrap();
}

#[test]
fn dir_source_becomes_a_loadable_image() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(root.path().join("etc/hostname"), b"pare\n").unwrap();
    std::os::unix::fs::symlink("etc/hostname", root.path().join("name")).unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("dir.tar");
    pare_ok(&[
        "copy",
        &format!("dir:{}", root.path().display()),
        &archive_ref(&out),
    ]);
    let copied = inspect_json(&archive_ref(&out));
    let (files, bytes) = count_unpacked(root.path());
    assert_eq!(copied["files"].as_u64().unwrap(), files);
    assert_eq!(copied["size_bytes"].as_u64().unwrap(), bytes);
    assert_eq!(copied["layers"].as_array().unwrap().len(), 1);
}

#[test]
fn docker_loads_and_runs_a_copied_redis_image() {
    require!(docker());
    let archive = require!(test_image("redis"));
    let work = tempfile::tempdir().unwrap();
    let oci = work.path().join("oci");
    let tagged = "pare-test/redis-copied:it";
    let out = work.path().join("copied.tar");
    pare_ok(&[
        "copy",
        &archive_ref(&archive),
        &format!("oci:{}", oci.display()),
    ]);
    pare_ok(&[
        "copy",
        &format!("oci:{}", oci.display()),
        &format!("docker-archive:{}:{tagged}", out.display()),
    ]);
    assert_loaded_redis_answers(&out, tagged, "copied");
}

#[test]
fn compression_level_trades_size_and_keeps_the_image() {
    let archive = require!(test_image("busybox"));
    let work = tempfile::tempdir().unwrap();
    let original = inspect_json(&archive_ref(&archive));
    let layer_bytes = |layout: &std::path::Path| -> u64 {
        let copied = inspect_json(&format!("oci:{}", layout.display()));
        assert_eq!(copied["config_digest"], original["config_digest"]);
        assert_eq!(diff_ids(&copied), diff_ids(&original));
        assert_eq!(copied["files"], original["files"]);
        copied["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["size"].as_u64().unwrap())
            .sum()
    };
    let mut sizes = Vec::new();
    for (kind, level) in [("gzip", "1"), ("gzip", "9"), ("zstd", "1"), ("zstd", "19")] {
        let out = work.path().join(format!("{kind}-{level}"));
        pare_ok(&[
            "copy",
            "--compression",
            kind,
            "--compression-level",
            level,
            &archive_ref(&archive),
            &format!("oci:{}", out.display()),
        ]);
        sizes.push(layer_bytes(&out));
    }
    assert!(
        sizes[1] < sizes[0],
        "gzip 9 not smaller than gzip 1: {sizes:?}"
    );
    assert!(
        sizes[3] < sizes[2],
        "zstd 19 not smaller than zstd 1: {sizes:?}"
    );
    // A level the compression does not have: one line, nothing written.
    for (kind, level) in [("gzip", "10"), ("gzip", "0"), ("zstd", "20"), ("none", "1")] {
        // In a folder that does not exist yet: not even it is made.
        let out = work
            .path()
            .join(format!("bad-{kind}-{level}"))
            .join("image");
        let done = pare()
            .args(["copy", "--compression", kind, "--compression-level", level])
            .arg(archive_ref(&archive))
            .arg(format!("oci:{}", out.display()))
            .output()
            .unwrap();
        assert_eq!(done.status.code(), Some(1), "{kind} {level}");
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!("compression level {level}")),
            "{stderr}"
        );
        let folder = out.parent().unwrap();
        assert!(!folder.exists(), "{kind} {level} made {}", folder.display());
    }
    assert!(
        leftovers(work.path()).is_empty(),
        "{:?}",
        leftovers(work.path())
    );
}
