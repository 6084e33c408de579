//! `pare audit` on the real test images: what it must find, BusyBox by
//! content wherever it hides, SARIF against the official schema, and the
//! `--fail-on` exit status.

use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::common::*;
use crate::require;

fn audit_json(image: &str) -> Value {
    serde_json::from_str(&pare_ok(&["audit", "--format", "json", image])).unwrap()
}

/// (kind, name, via) of the finding at `path`, for every finding there.
fn at(report: &Value, path: &str) -> Vec<(String, String, Option<String>)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == path)
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["name"].as_str().unwrap().to_string(),
                f["via"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn has(report: &Value, path: &str, kind: &str, name: &str, via: Option<&str>) -> bool {
    at(report, path).contains(&(kind.into(), name.into(), via.map(str::to_string)))
}

#[test]
fn audit_finds_the_debian_base_attack_surface() {
    let archive = require!(test_image("debian"));
    let report = audit_json(archive.to_str().unwrap());
    let wanted = [
        ("/usr/bin/base64", "lolbin", "base64"),
        ("/usr/bin/apt", "package-manager", "apt"),
        ("/usr/bin/dpkg", "package-manager", "dpkg"),
        ("/usr/bin/bash", "shell", "bash"),
        ("/usr/bin/dash", "shell", "dash"),
        ("/usr/bin/perl", "interpreter", "perl"),
        ("/usr/bin/su", "setuid", "su"),
        ("/usr/bin/mount", "setuid", "mount"),
        ("/usr/bin/passwd", "setuid", "passwd"),
    ];
    for (path, kind, name) in wanted {
        assert!(
            has(&report, path, kind, name, None),
            "{path}: {:?}",
            at(&report, path)
        );
    }
    // sh is dash: one finding, with sh among its links.
    assert!(at(&report, "/usr/bin/sh").is_empty());
    let dash = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "/usr/bin/dash")
        .unwrap();
    assert!(
        dash["links"]
            .as_array()
            .unwrap()
            .contains(&"/usr/bin/sh".into()),
        "{dash}"
    );
    // The summary counts the findings.
    let findings = report["findings"].as_array().unwrap();
    for (kind, count) in report["summary"].as_object().unwrap() {
        let n = findings.iter().filter(|f| f["kind"] == *kind).count();
        assert_eq!(count.as_u64().unwrap() as usize, n, "{kind}");
    }
}

#[test]
fn audit_finds_busybox_and_its_applets_via_it() {
    let archive = require!(test_image("busybox"));
    let report = audit_json(archive.to_str().unwrap());
    assert!(has(&report, "/bin/busybox", "busybox", "busybox", None));
    let via = Some("/bin/busybox");
    for (path, kind, name) in [
        ("/bin/sh", "shell", "sh"),
        ("/usr/bin/wget", "lolbin", "wget"),
        ("/usr/bin/nc", "lolbin", "nc"),
        ("/bin/base64", "lolbin", "base64"),
    ] {
        assert!(
            has(&report, path, kind, name, via),
            "{path}: {:?}",
            at(&report, path)
        );
    }
    // Applets the catalog does not list (ls) are not findings of their own.
    assert!(at(&report, "/bin/ls").is_empty());
}

#[test]
fn audit_finds_busybox_renamed_under_an_unrelated_path() {
    let archive = require!(test_image("busybox"));
    let busybox = file_from_docker_archive(&archive, "bin/busybox");
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    let helper = root.join("opt/vendor/lib/helper");
    std::fs::create_dir_all(helper.parent().unwrap()).unwrap();
    std::fs::create_dir_all(root.join("usr/local/bin")).unwrap();
    std::fs::create_dir_all(root.join("opt/vendor/bin")).unwrap();
    std::fs::write(&helper, &busybox).unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("/opt/vendor/lib/helper", root.join("usr/local/bin/sh")).unwrap();
    std::os::unix::fs::symlink(
        "../../../opt/vendor/lib/helper",
        root.join("usr/local/bin/wget"),
    )
    .unwrap();
    std::fs::hard_link(&helper, root.join("opt/vendor/bin/base64")).unwrap();
    // A script merely named like a tool's applet is no BusyBox.
    std::fs::write(
        root.join("opt/vendor/lib/notes"),
        "#!/bin/sh\necho BusyBox v1.0\n",
    )
    .unwrap();

    // As a folder, and as an image whose layer streams past the scanner.
    let oci = work.path().join("oci");
    let dir_ref = format!("dir:{}", root.display());
    pare_ok(&["copy", &dir_ref, &format!("oci:{}", oci.display())]);
    for image in [dir_ref, format!("oci:{}", oci.display())] {
        let report = audit_json(&image);
        let via = Some("/opt/vendor/lib/helper");
        assert!(
            has(
                &report,
                "/opt/vendor/lib/helper",
                "busybox",
                "busybox",
                None
            ),
            "{image}: {report}"
        );
        assert!(
            has(&report, "/usr/local/bin/sh", "shell", "sh", via),
            "{image}"
        );
        assert!(
            has(&report, "/usr/local/bin/wget", "lolbin", "wget", via),
            "{image}"
        );
        assert!(
            has(&report, "/opt/vendor/bin/base64", "lolbin", "base64", via),
            "{image}"
        );
        assert!(at(&report, "/opt/vendor/lib/notes").is_empty(), "{image}");
    }
}

#[test]
fn audit_sarif_is_valid_against_the_official_schema() {
    require!(jsonschema_available());
    let schema = schemas().join("sarif-schema-2.1.0.json");
    let work = tempfile::tempdir().unwrap();
    for name in ["debian", "busybox"] {
        let archive = require!(test_image(name));
        let out = work.path().join(format!("{name}.sarif"));
        pare_ok(&[
            "audit",
            "--format",
            "sarif",
            "-o",
            out.to_str().unwrap(),
            archive.to_str().unwrap(),
        ]);
        assert!(validate(&schema, &out), "{name}: SARIF invalid");
        let sarif: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        let report = audit_json(archive.to_str().unwrap());
        assert_eq!(
            sarif["runs"][0]["results"].as_array().unwrap().len(),
            report["findings"].as_array().unwrap().len(),
            "{name}: one result per finding"
        );
        // The validator can fail: a log without its version is refused.
        let mut broken = sarif.clone();
        broken.as_object_mut().unwrap().remove("version");
        let broken_path = work.path().join("broken.sarif");
        std::fs::write(&broken_path, broken.to_string()).unwrap();
        assert!(!validate(&schema, &broken_path));
    }
}

#[test]
fn audit_fail_on_exits_3_only_when_a_kind_matches() {
    let archive = require!(test_image("debian"));
    let image = archive.to_str().unwrap();
    let out = pare()
        .args(["audit", "--fail-on", "compiler,shell", image])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("/usr/bin/bash"));
    let out = pare()
        .args(["audit", "--fail-on", "compiler,debugger", image])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = pare()
        .args(["audit", "--fail-on", "spaceship", image])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown kind"));
}

/// A regression test for a limit noted at issue 4: a root folder's file
/// capabilities were not read, so `audit dir:` missed them.
#[test]
fn audit_of_a_root_folder_sees_file_capabilities() {
    require!(root());
    require!(tool("setcap"));
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("usr/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/usr/bin/true", bin.join("pinger")).unwrap();
    std::fs::copy("/usr/bin/true", bin.join("plain")).unwrap();
    run(
        "setcap",
        &["cap_net_raw+ep", bin.join("pinger").to_str().unwrap()],
    );
    let report = audit_json(&format!("dir:{}", dir.path().display()));
    let found: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "file-capability")
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["path"], "/usr/bin/pinger");
    assert!(
        found[0]["reason"].as_str().unwrap().contains("cap_net_raw"),
        "{}",
        found[0]
    );
}
