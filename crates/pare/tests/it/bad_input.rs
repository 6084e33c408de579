//! Hostile and broken images: every one must give exit status 1, one clear
//! line on stderr naming what and where, no panic, and nothing written at
//! the destination.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::common::*;

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A layer tar with raw entry names (so `..` and `/` names can be made).
fn layer_tar(names: &[&str]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for name in names {
        append_raw(&mut b, name, b"hello\n");
    }
    b.into_inner().unwrap()
}

/// Appends a regular file whose name is written into the header as is
/// (the tar crate's own setters refuse `..` and absolute names).
fn append_raw<W: std::io::Write>(b: &mut tar::Builder<W>, name: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    b.append(&h, data).unwrap();
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// The parts of a one-layer image, each open to tampering before writing.
struct Parts {
    layer: Vec<u8>,
    config: serde_json::Value,
    layer_media_type: String,
}

impl Parts {
    fn new(names: &[&str]) -> Self {
        let layer = layer_tar(names);
        let config = json!({
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["/bin/true"]},
            "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", sha(&layer))]},
        });
        Parts {
            layer,
            config,
            layer_media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
        }
    }

    /// Writes an OCI layout; `tamper` may change files before returning.
    fn oci(&self, dir: &Path) -> PathBuf {
        let blobs = dir.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).unwrap();
        let put = |bytes: &[u8]| {
            let hex = sha(bytes);
            std::fs::write(blobs.join(&hex), bytes).unwrap();
            json!({"digest": format!("sha256:{hex}"), "size": bytes.len()})
        };
        let layer = gzip(&self.layer);
        let mut layer_desc = put(&layer);
        layer_desc["mediaType"] = json!(self.layer_media_type);
        let mut config_desc = put(self.config.to_string().as_bytes());
        config_desc["mediaType"] = json!("application/vnd.oci.image.config.v1+json");
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config_desc,
            "layers": [layer_desc],
        });
        let mut manifest_desc = put(manifest.to_string().as_bytes());
        manifest_desc["mediaType"] = json!("application/vnd.oci.image.manifest.v1+json");
        let index = json!({"schemaVersion": 2, "manifests": [manifest_desc]});
        std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        blobs.join(sha(&layer))
    }

    /// Writes a docker archive with the given members (name → bytes).
    fn docker_archive(&self, path: &Path, edit: impl FnOnce(&mut Vec<(String, Vec<u8>)>)) {
        let config = self.config.to_string().into_bytes();
        let config_name = format!("blobs/sha256/{}", sha(&config));
        let layer_name = format!("blobs/sha256/{}", sha(&self.layer));
        let manifest =
            json!([{"Config": config_name, "RepoTags": ["bad:1"], "Layers": [layer_name]}]);
        let mut members = vec![
            (config_name, config),
            (layer_name, self.layer.clone()),
            (
                "manifest.json".to_string(),
                manifest.to_string().into_bytes(),
            ),
        ];
        edit(&mut members);
        let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
        for (name, data) in members {
            append_raw(&mut b, &name, &data);
        }
        b.finish().unwrap();
    }
}

/// Runs `inspect` and `copy` to both kinds of destination on `source`,
/// expecting a clean failure that mentions `needle`.
fn assert_refused(source: &str, needle: &str) {
    let out_dir = tempfile::tempdir().unwrap();
    let destinations = [
        format!("oci:{}", out_dir.path().join("out-oci").display()),
        format!(
            "docker-archive:{}",
            out_dir.path().join("out.tar").display()
        ),
    ];
    let mut runs: Vec<Vec<String>> = vec![vec!["inspect".into(), source.into()]];
    for d in &destinations {
        runs.push(vec!["copy".into(), source.into(), d.clone()]);
    }
    for args in runs {
        let out = pare().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{args:?}: not one line: {stderr}"
        );
        assert!(stderr.starts_with("pare: error: "), "{args:?}: {stderr}");
        assert!(
            stderr.to_lowercase().contains(&needle.to_lowercase()),
            "{args:?}: {stderr:?} does not say {needle:?}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(out_dir.path()).unwrap().collect();
    assert!(
        left.is_empty(),
        "{source}: left {left:?} at the destination"
    );
}

#[test]
fn a_good_synthetic_image_is_accepted() {
    // The baseline the tampered cases start from must itself work.
    let dir = tempfile::tempdir().unwrap();
    let parts = Parts::new(&["etc/hello"]);
    parts.oci(&dir.path().join("oci"));
    parts.docker_archive(&dir.path().join("a.tar"), |_| {});
    for source in [
        format!("oci:{}", dir.path().join("oci").display()),
        format!("docker-archive:{}", dir.path().join("a.tar").display()),
    ] {
        let v = inspect_json(&source);
        assert_eq!(v["files"], 1, "{source}");
        assert_eq!(v["size_bytes"], 6, "{source}");
    }
}

/// Writes a docker archive of `parts` with `edit` applied to its members,
/// optionally corrupts the written file, and expects a refusal.
fn refuse_archive(
    parts: Parts,
    edit: impl FnOnce(&mut Vec<(String, Vec<u8>)>),
    corrupt: impl FnOnce(&Path),
    needle: &str,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.tar");
    parts.docker_archive(&path, edit);
    corrupt(&path);
    assert_refused(&format!("docker-archive:{}", path.display()), needle);
}

/// Writes an OCI layout of `parts`, lets `tamper` change the layer blob
/// file, and expects a refusal.
fn refuse_oci(parts: Parts, tamper: impl FnOnce(&Path), needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let layer = parts.oci(dir.path());
    tamper(&layer);
    assert_refused(&format!("oci:{}", dir.path().display()), needle);
}

fn hello() -> Parts {
    Parts::new(&["etc/hello"])
}

#[test]
fn truncated_archive() {
    // A big layer, so cutting the archive in half cuts into a member.
    let big_layer = |members: &mut Vec<(String, Vec<u8>)>| members[1].1 = vec![0; 64 * 1024];
    let cut = |path: &Path| {
        let bytes = std::fs::read(path).unwrap();
        std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
    };
    refuse_archive(hello(), big_layer, cut, "truncated");
}

#[test]
fn missing_blob() {
    refuse_oci(
        hello(),
        |layer| std::fs::remove_file(layer).unwrap(),
        "missing from the image",
    );
}

#[test]
fn wrong_layer_digest() {
    let flip = |layer: &Path| {
        let mut bytes = std::fs::read(layer).unwrap();
        let at = bytes.len() - 10;
        bytes[at] ^= 0xff;
        std::fs::write(layer, bytes).unwrap();
    };
    refuse_oci(hello(), flip, "digest mismatch");
}

#[test]
fn wrong_config_digest_in_docker_archive() {
    let other_config = |members: &mut Vec<(String, Vec<u8>)>| {
        members[0].1 =
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#
                .to_vec();
    };
    refuse_archive(hello(), other_config, |_| {}, "digest mismatch");
}

#[test]
fn wrong_diff_id() {
    let mut parts = hello();
    parts.config["rootfs"]["diff_ids"][0] = json!(format!("sha256:{}", "0".repeat(64)));
    refuse_oci(parts, |_| {}, "diff_id");
}

#[test]
fn non_json_manifest() {
    let garbage =
        |members: &mut Vec<(String, Vec<u8>)>| members[2].1 = b"this is not json".to_vec();
    refuse_archive(hello(), garbage, |_| {}, "manifest.json: invalid JSON");
}

#[test]
fn unknown_media_type() {
    let mut parts = hello();
    parts.layer_media_type = "application/x-not-a-layer".into();
    refuse_oci(parts, |_| {}, "unknown media type");
}

#[test]
fn dot_dot_names_in_a_layer() {
    refuse_oci(
        Parts::new(&["etc/ok", "../../../etc/evil"]),
        |_| {},
        "escapes the root",
    );
}

#[test]
fn absolute_names_in_a_layer() {
    refuse_archive(
        Parts::new(&["/etc/evil"]),
        |_| {},
        |_| {},
        "escapes the root",
    );
}

#[test]
fn manifest_json_pointing_outside_the_archive() {
    let outside = |members: &mut Vec<(String, Vec<u8>)>| {
        let manifest = json!([{"Config": members[0].0, "Layers": ["../../../../etc/passwd"]}]);
        members[2].1 = manifest.to_string().into_bytes();
    };
    refuse_archive(hello(), outside, |_| {}, "escapes the root");
}

#[test]
fn archive_member_named_outside() {
    let outside =
        |members: &mut Vec<(String, Vec<u8>)>| members.push(("../outside".into(), b"x".to_vec()));
    refuse_archive(hello(), outside, |_| {}, "escapes the root");
}

#[test]
fn blob_symlinked_out_of_the_layout() {
    let link = |layer: &Path| {
        std::fs::remove_file(layer).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", layer).unwrap();
    };
    refuse_oci(hello(), link, "symlink");
}

#[test]
fn not_an_image_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("random.bin");
    std::fs::write(&path, vec![0x5a; 4096]).unwrap();
    assert_refused(path.to_str().unwrap(), "random.bin");
    assert_refused(&format!("docker-archive:{}", path.display()), "random.bin");
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["inspect"],
        vec!["frobnicate"],
        vec!["inspect", "--format", "yaml", "x"],
    ] {
        let out = pare().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

/// Writes an OCI layout whose index points at a nested image index with
/// one image per platform; each image holds one file named after it.
fn multi_platform_layout(dir: &Path, platforms: &[(&str, &str)]) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8], media: &str| {
        let hex = sha(bytes);
        std::fs::write(blobs.join(&hex), bytes).unwrap();
        json!({"mediaType": media, "digest": format!("sha256:{hex}"), "size": bytes.len()})
    };
    let mut manifests = Vec::new();
    for (os, arch) in platforms {
        let name = format!("etc/built-for-{arch}");
        let parts = Parts::new(&[name.as_str()]);
        let mut config = parts.config.clone();
        config["architecture"] = json!(arch);
        config["os"] = json!(os);
        let layer = put(
            &gzip(&parts.layer),
            "application/vnd.oci.image.layer.v1.tar+gzip",
        );
        let config = put(
            config.to_string().as_bytes(),
            "application/vnd.oci.image.config.v1+json",
        );
        let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config, "layers": [layer]});
        let mut desc = put(
            manifest.to_string().as_bytes(),
            "application/vnd.oci.image.manifest.v1+json",
        );
        desc["platform"] = json!({"os": os, "architecture": arch});
        manifests.push(desc);
    }
    let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
    let mut top = put(
        index.to_string().as_bytes(),
        "application/vnd.oci.image.index.v1+json",
    );
    top["annotations"] = json!({"org.opencontainers.image.ref.name": "multi"});
    std::fs::write(
        dir.join("index.json"),
        json!({"schemaVersion": 2, "manifests": [top]}).to_string(),
    )
    .unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

#[test]
fn multi_platform_index_picks_linux_amd64_unless_told() {
    let dir = tempfile::tempdir().unwrap();
    multi_platform_layout(dir.path(), &[("linux", "arm64"), ("linux", "amd64")]);
    let source = format!("oci:{}:multi", dir.path().display());
    let largest =
        |v: &serde_json::Value| v["largest_files"][0]["path"].as_str().unwrap().to_string();
    let default = inspect_json(&source);
    assert_eq!(default["architecture"], "amd64");
    assert_eq!(largest(&default), "/etc/built-for-amd64");
    let arm: serde_json::Value = serde_json::from_str(&pare_ok(&[
        "inspect",
        "--platform",
        "linux/arm64",
        "--format",
        "json",
        &source,
    ]))
    .unwrap();
    assert_eq!(arm["architecture"], "arm64");
    assert_eq!(largest(&arm), "/etc/built-for-arm64");
    // A platform the index does not offer is an error that lists what it has.
    let out = pare()
        .args(["inspect", "--platform", "linux/s390x", &source])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("linux/arm64") && stderr.contains("linux/amd64"),
        "{stderr}"
    );
}
