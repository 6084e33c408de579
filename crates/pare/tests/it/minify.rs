//! `pare minify --static-only` on the real redis image: the result runs and
//! answers, holds nothing an attacker wants, and is reproducible.

use serde_json::Value;

use crate::common::*;
use crate::require;

#[test]
fn minified_redis_runs_answers_and_is_small_and_reproducible() {
    require!(docker());
    let archive = require!(test_image("redis"));
    let work = tempfile::tempdir().unwrap();
    let tagged = "pare-test/redis-minified:it";
    let first = work.path().join("min1.tar");
    let second = work.path().join("min2.tar");
    for out in [&first, &second] {
        pare_ok(&[
            "minify",
            "--static-only",
            archive.to_str().unwrap(),
            "-o",
            &format!("docker-archive:{}:{tagged}", out.display()),
        ]);
    }
    // Two runs, the same bytes.
    assert_eq!(
        std::fs::read(&first).unwrap(),
        std::fs::read(&second).unwrap()
    );

    let minified = inspect_json(first.to_str().unwrap());
    let size = minified["size_bytes"].as_u64().unwrap();
    assert!(size <= 20_000_000, "{size} bytes");
    assert_eq!(minified["layers"].as_array().unwrap().len(), 1);
    // The configuration is carried over.
    assert_eq!(minified["config"]["workdir"], "/data");
    assert_eq!(minified["config"]["cmd"][0], "redis-server");

    let json = |command: &str| -> Value {
        serde_json::from_str(&pare_ok(&[
            command,
            "--format",
            "json",
            first.to_str().unwrap(),
        ]))
        .unwrap()
    };
    let audit = json("audit");
    for finding in audit["findings"].as_array().unwrap() {
        let kind = finding["kind"].as_str().unwrap();
        assert!(
            !["shell", "package-manager", "busybox"].contains(&kind) && finding["name"] != "base64",
            "{finding}"
        );
    }

    // Scanners still see what is inside: the packages that own kept files.
    let ours = json("sbom");
    let names = |packages: &Value| -> Vec<String> {
        packages
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };
    let mut listed = vec![("pare", names(&ours["packages"]))];
    if tool("syft").is_some() {
        let reference = format!("docker-archive:{}", first.display());
        let syft: Value =
            serde_json::from_slice(&syft(&["-q", &reference, "-o", "json"]).stdout).unwrap();
        listed.push(("syft", names(&syft["artifacts"])));
    }
    for (who, packages) in listed {
        // redis-server owns only the kept symlink /usr/bin/redis-server.
        for present in ["libc6", "libssl3", "redis-server"] {
            assert!(packages.iter().any(|p| p == present), "{who}: {packages:?}");
        }
        for gone in ["bash", "apt", "dpkg"] {
            assert!(!packages.iter().any(|p| p == gone), "{who}: {packages:?}");
        }
    }

    assert_loaded_redis_answers(&first, tagged, "minified");
}

#[test]
fn minify_explains_what_it_cannot_do() {
    let archive = require!(test_image("redis"));
    let work = tempfile::tempdir().unwrap();
    let dest = format!("oci:{}", work.path().join("out").display());
    let cases: &[(&[&str], &str)] = &[
        (&["--entrypoint", "/usr/bin/not-here"], "not in the image"),
        (&["--entrypoint", "/etc/passwd"], "not an executable"),
        (&[], "only --static-only"),
    ];
    for (extra, message) in cases {
        let mut args = vec!["minify", archive.to_str().unwrap(), "-o", &dest];
        if !extra.is_empty() {
            args.push("--static-only");
        }
        args.extend_from_slice(extra);
        let out = pare().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(!work.path().join("out").exists(), "nothing written");
    }
}

#[test]
fn minify_keeps_the_users_the_image_names_and_ca_certificates_for_tls() {
    let archive = require!(test_image("python"));
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("min.tar");
    // openssl links libssl: the CA bundle must come along.
    pare_ok(&[
        "minify",
        "--static-only",
        "--include-bin",
        "openssl",
        archive.to_str().unwrap(),
        "-o",
        &format!("docker-archive:{}", out.display()),
    ]);
    let text = |member: &str| String::from_utf8(file_from_docker_archive(&out, member)).unwrap();
    // USER nobody, and root who owns every kept file; nobody else.
    let users: Vec<String> = text("etc/passwd")
        .lines()
        .map(|l| l.split(':').next().unwrap().to_string())
        .collect();
    assert_eq!(users, ["root", "nobody"]);
    let groups: Vec<String> = text("etc/group")
        .lines()
        .map(|l| l.split(':').next().unwrap().to_string())
        .collect();
    assert_eq!(groups, ["root", "nogroup"]);
    assert!(text("etc/ssl/certs/ca-certificates.crt").contains("BEGIN CERTIFICATE"));
}
