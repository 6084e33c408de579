//! `pare inspect` on the real test images, checked against independent
//! readers: skopeo converts, umoci unpacks, and the unpacked root is counted
//! by walking it.

use std::path::Path;

use crate::common::*;
use crate::require;

/// Unpacks `archive` with skopeo + umoci (neither shares code with pare).
fn skopeo_umoci_unpack(archive: &Path, work: &Path) -> std::path::PathBuf {
    let layout = work.join("oci");
    run(
        "skopeo",
        &[
            "copy",
            "-q",
            &format!("docker-archive:{}", archive.display()),
            &format!("oci:{}:img", layout.display()),
        ],
    );
    umoci_unpack(&layout, "img", &work.join("bundle"))
}

#[test]
fn inspect_counts_match_umoci_unpack_on_every_test_image() {
    require!(tool("skopeo"));
    require!(tool("umoci"));
    for &name in TEST_IMAGES {
        let archive = require!(test_image(name));
        let work = tempfile::tempdir().unwrap();
        let rootfs = skopeo_umoci_unpack(&archive, work.path());
        let (want_files, want_bytes) = count_unpacked(&rootfs);

        let ours = inspect_json(&format!("docker-archive:{}", archive.display()));
        assert_eq!(ours["files"].as_u64().unwrap(), want_files, "{name}: files");
        assert_eq!(
            ours["size_bytes"].as_u64().unwrap(),
            want_bytes,
            "{name}: bytes"
        );

        // The same numbers through pare's OCI reader and its dir: reader.
        let via_oci = inspect_json(&format!("oci:{}:img", work.path().join("oci").display()));
        assert_eq!(via_oci["files"], ours["files"], "{name}: oci files");
        assert_eq!(
            via_oci["size_bytes"], ours["size_bytes"],
            "{name}: oci bytes"
        );
        assert_eq!(diff_ids(&via_oci), diff_ids(&ours), "{name}: diff_ids");
        let via_dir = inspect_json(&format!("dir:{}", rootfs.display()));
        assert_eq!(via_dir["files"], ours["files"], "{name}: dir files");
        assert_eq!(
            via_dir["size_bytes"], ours["size_bytes"],
            "{name}: dir bytes"
        );
    }
}

#[test]
fn inspect_json_has_the_contract_fields_and_the_config() {
    require!(tool("skopeo"));
    let archive = require!(test_image("redis"));
    let reference = format!("docker-archive:{}", archive.display());
    let ours = inspect_json(&reference);
    for key in ["reference", "config", "layers", "files", "size_bytes"] {
        assert!(ours.get(key).is_some(), "missing {key}");
    }
    for key in [
        "entrypoint",
        "cmd",
        "env",
        "user",
        "workdir",
        "exposed_ports",
    ] {
        assert!(ours["config"].get(key).is_some(), "missing config.{key}");
    }
    for layer in ours["layers"].as_array().unwrap() {
        for key in [
            "digest", "diff_id", "size", "files", "added", "changed", "removed",
        ] {
            assert!(layer.get(key).is_some(), "missing layers[].{key}");
        }
    }
    // The config as skopeo reads it.
    let config: serde_json::Value =
        serde_json::from_slice(&run("skopeo", &["inspect", "--config", &reference]).stdout)
            .unwrap();
    assert_eq!(ours["config"]["cmd"], config["config"]["Cmd"]);
    assert_eq!(ours["config"]["env"], config["config"]["Env"]);
    assert_eq!(ours["config"]["workdir"], config["config"]["WorkingDir"]);
    assert_eq!(
        ours["config"]["exposed_ports"],
        serde_json::json!(["6379/tcp"])
    );
    let skopeo_ids: Vec<String> = config["rootfs"]["diff_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(diff_ids(&ours), skopeo_ids);
}

#[test]
fn inspect_reports_whiteouts_and_wasted_bytes_of_a_multi_layer_image() {
    let archive = require!(test_image("redis"));
    let ours = inspect_json(&format!("docker-archive:{}", archive.display()));
    let layers = ours["layers"].as_array().unwrap();
    assert!(layers.len() >= 3, "redis has base, COPY and RUN layers");
    // The RUN layer deletes the COPY layer's .debs and the base's docs.
    let run_layer = &layers[2];
    assert!(run_layer["removed"].as_u64().unwrap() > 10, "{run_layer}");
    assert!(run_layer["added"].as_u64().unwrap() > 10, "{run_layer}");
    // The .debs copied in layer 2 and deleted in layer 3 are wasted.
    assert_eq!(layers[1]["wasted_bytes"], layers[1]["bytes"]);
    assert!(ours["wasted_bytes"].as_u64().unwrap() >= layers[1]["bytes"].as_u64().unwrap());
    let largest = ours["largest_files"].as_array().unwrap();
    assert!(
        largest.iter().any(
            |f| f["path"] == "/usr/bin/redis-check-rdb" || f["path"] == "/usr/bin/redis-server"
        )
    );
}

#[test]
fn inspect_text_is_a_readable_table() {
    let archive = require!(test_image("redis"));
    let text = pare_ok(&["inspect", archive.to_str().unwrap()]);
    for needle in [
        "Image",
        "LAYER",
        "DIFF_ID",
        "WASTED",
        "Largest files",
        "redis-server",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn inspect_dir_matches_an_independent_walk() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    std::fs::create_dir_all(r.join("usr/bin")).unwrap();
    std::fs::write(r.join("usr/bin/tool"), vec![7u8; 1000]).unwrap();
    std::fs::hard_link(r.join("usr/bin/tool"), r.join("usr/bin/tool2")).unwrap();
    std::os::unix::fs::symlink("usr/bin", r.join("bin")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/outside", r.join("dangling")).unwrap();
    std::fs::write(r.join("empty"), b"").unwrap();
    let (files, bytes) = count_unpacked(r);
    let ours = inspect_json(&format!("dir:{}", r.display()));
    assert_eq!(ours["files"].as_u64().unwrap(), files);
    assert_eq!(ours["size_bytes"].as_u64().unwrap(), bytes);
    assert_eq!((files, bytes), (5, 1000));
}
