//! `pare minify --static-only` on the real redis image: the result runs and
//! answers, holds nothing an attacker wants, and is reproducible.

use std::path::Path;
use std::process::Command;

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
        minify(
            archive.to_str().unwrap(),
            &format!("docker-archive:{}:{tagged}", out.display()),
            &[],
        );
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
        (&["--probe-http", "6379"], "--static-only runs nothing"),
        (
            &["--include", "/not/here"],
            "--include /not/here: nothing in the image matches",
        ),
        (&["--exclude", "/usr/[lib"], "--exclude /usr/[lib: "),
        (
            &["--entrypoint", "/usr/bin/zcat"],
            "/usr/bin/zcat is a script run by the shell /bin/sh",
        ),
    ];
    for (extra, message) in cases {
        let mut args = vec![
            "minify",
            archive.to_str().unwrap(),
            "-o",
            &dest,
            "--static-only",
        ];
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
    minify(
        archive.to_str().unwrap(),
        &format!("docker-archive:{}", out.display()),
        &["--include-bin", "openssl"],
    );
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

#[test]
fn minified_redis_runs_in_a_chroot_with_namespaces() {
    require!(root());
    require!(tool("unshare"));
    require!(tool("umoci"));
    let archive = require!(test_image("redis"));
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("min");
    minify(
        archive.to_str().unwrap(),
        &format!("oci:{}:min", layout.display()),
        &[],
    );
    let rootfs = umoci_unpack(&layout, "min", &work.path().join("bundle"));
    // The image's own command, as its config gives it.
    let config = inspect_json(&format!("oci:{}", layout.display()));
    let mut argv: Vec<String> = config["config"]["cmd"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    assert_eq!(argv[0], "redis-server");
    let port = test_port().to_string();
    argv.extend(["--port", &port, "--bind", "127.0.0.1", "--save", ""].map(String::from));
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let _redis = run_chrooted(&rootfs, &argv);
    assert_redis_answers_on(test_port(), "chrooted");
}

#[test]
fn minify_dockerfile_is_hadolint_clean_and_builds_the_same_files() {
    require!(docker());
    require!(tool("hadolint"));
    let archive = require!(test_image("redis"));
    let work = tempfile::tempdir().unwrap();
    let pared = work.path().join("min.tar");
    let dockerfile = work.path().join("Dockerfile.min");
    minify(
        archive.to_str().unwrap(),
        &format!("docker-archive:{}", pared.display()),
        &["--dockerfile", dockerfile.to_str().unwrap()],
    );
    let text = std::fs::read_to_string(&dockerfile).unwrap();
    assert!(
        text.contains("FROM pare-test/redis:bookworm AS source\n"),
        "{text}"
    );
    let lint = Command::new("hadolint").arg(&dockerfile).output().unwrap();
    assert!(
        lint.status.success(),
        "hadolint: {}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );

    // Build it the way a team would, from the source image in the engine.
    run("docker", &["load", "-i", archive.to_str().unwrap()]);
    let tagged = format!("pare-test/redis-dockerfile:{}", std::process::id());
    let built = Command::new("docker")
        .args(["build", "-q", "-t", &tagged, "-f"])
        .arg(&dockerfile)
        .arg(work.path())
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let saved = work.path().join("built.tar");
    run("docker", &["save", "-o", saved.to_str().unwrap(), &tagged]);
    let _ = Command::new("docker").args(["rmi", "-f", &tagged]).output();

    let ours = file_list(&format!("docker-archive:{}", pared.display()));
    let theirs = file_list(&format!("docker-archive:{}", saved.display()));
    let paths = |list: &std::collections::BTreeMap<String, String>| -> Vec<String> {
        list.keys().cloned().collect()
    };
    assert_eq!(paths(&theirs), paths(&ours));
    // The same kinds, sizes, link targets, modes and owners, except that
    // `COPY` makes the folders it creates itself root:root 0755.
    for (path, what) in &ours {
        if !what.starts_with("dir") {
            assert_eq!(&theirs[path], what, "{path}");
        }
    }
}

#[test]
fn minify_report_counts_before_and_after_and_explains_each_kept_path() {
    let archive = require!(test_image("redis"));
    let work = tempfile::tempdir().unwrap();
    // An OCI source has a manifest, so the result can name its digest.
    let source = format!("oci:{}", work.path().join("src").display());
    pare_ok(&["copy", archive.to_str().unwrap(), &source]);
    let out = work.path().join("min");
    let report_path = work.path().join("report.json");
    let printed = minify(
        &source,
        &format!("oci:{}", out.display()),
        &["--report", report_path.to_str().unwrap(), "--explain"],
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    let minified = format!("oci:{}", out.display());

    // Each side agrees with what inspect, sbom and audit say of that image.
    for (side, image) in [("before", source.as_str()), ("after", minified.as_str())] {
        let inspected = inspect_json(image);
        assert_eq!(report[side]["files"], inspected["files"], "{side}");
        assert_eq!(
            report[side]["size_bytes"], inspected["size_bytes"],
            "{side}"
        );
        let sbom: Value =
            serde_json::from_str(&pare_ok(&["sbom", "--format", "json", image])).unwrap();
        assert_eq!(
            report[side]["packages"].as_u64().unwrap() as usize,
            sbom["packages"].as_array().unwrap().len(),
            "{side}"
        );
        let audit: Value =
            serde_json::from_str(&pare_ok(&["audit", "--format", "json", image])).unwrap();
        assert_eq!(report[side]["findings"], audit["summary"], "{side}");
    }
    assert!(report["before"]["findings"]["shell"].as_u64().unwrap() >= 2);
    assert!(report["after"]["findings"].get("shell").is_none());
    assert!(
        report["after"]["packages"].as_u64().unwrap()
            < report["before"]["packages"].as_u64().unwrap()
    );
    for row in [
        "size",
        "files",
        "packages",
        "findings",
        "  shell",
        "  package-manager",
    ] {
        assert!(
            printed.lines().any(|l| l.starts_with(row)),
            "{row}: {printed}"
        );
    }

    // Every path of the new image is explained.
    let kept: std::collections::BTreeMap<String, Vec<String>> = report["kept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let reasons = k["reasons"].as_array().unwrap();
            assert!(!reasons.is_empty(), "{k}");
            (
                k["path"].as_str().unwrap().to_string(),
                reasons
                    .iter()
                    .map(|r| r.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    for (path, what) in file_list(&minified) {
        if !what.starts_with("dir") {
            assert!(kept.contains_key(&path), "{path} is not explained");
        }
    }
    let has = |path: &str, reason: &str| {
        kept.get(path)
            .is_some_and(|reasons| reasons.iter().any(|r| r.contains(reason)))
    };
    assert!(has("/usr/bin/redis-check-rdb", "entry point"));
    assert!(has(
        "/usr/lib/x86_64-linux-gnu/libssl.so.3",
        "needed by /usr/bin/redis-check-rdb"
    ));
    assert!(has(
        "/usr/lib/x86_64-linux-gnu/libnss_files.so.2",
        "NSS module for passwd"
    ));
    assert!(has("/etc/nsswitch.conf", "name-service"));
    assert!(has("/var/lib/dpkg/status.d/libc6", "dpkg status of libc6"));

    // The new manifest names its base.
    let index: Value =
        serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
    let digest = index["manifests"][0]["digest"].as_str().unwrap();
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(out.join("blobs/sha256").join(&digest["sha256:".len()..])).unwrap(),
    )
    .unwrap();
    let annotations = &manifest["annotations"];
    assert_eq!(
        annotations["org.opencontainers.image.base.name"],
        "pare-test/redis:bookworm"
    );
    assert_eq!(
        annotations["org.opencontainers.image.base.digest"],
        inspect_json(&source)["manifest_digest"]
    );
}

#[test]
fn minified_python_app_serves_with_includes_time_zones_and_excludes() {
    require!(docker());
    let archive = require!(test_image("python"));
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("min.tar");
    let tagged = format!("pare-test/python-minified:{}", std::process::id());
    // The interpreter's stdlib and the app are data the loader cannot see:
    // included by hand (a traced run finds them by itself).
    minify(
        archive.to_str().unwrap(),
        &format!("docker-archive:{}:{tagged}", out.display()),
        &[
            "--include",
            "/usr/lib/python3.11",
            "--include",
            "/app/*.py",
            "--include-tz",
            "--exclude",
            "**/__pycache__",
            "--exclude",
            "/usr/lib/python3.11/{test,idlelib,tkinter}",
        ],
    );
    let files = file_list(&format!("docker-archive:{}", out.display()));
    assert!(files.contains_key("/app/app.py"));
    assert!(files.contains_key("/usr/share/zoneinfo/Europe/Paris"));
    assert!(
        !files
            .keys()
            .any(|p| p.contains("__pycache__") || p.starts_with("/usr/lib/python3.11/test/"))
    );
    // _ssl and _sqlite3 are extension modules: their libraries came along.
    assert!(files.contains_key("/usr/lib/x86_64-linux-gnu/libsqlite3.so.0"));
    assert!(files.contains_key("/usr/lib/x86_64-linux-gnu/libssl.so.3"));
    assert!(!files.contains_key("/bin/sh") && !files.contains_key("/usr/bin/dash"));

    run("docker", &["load", "-i", out.to_str().unwrap()]);
    let port = test_port();
    let _container = start_container(&tagged, &["-e", &format!("PORT={port}")], &[]);
    let body = http_get(port, "/pare");
    let _ = Command::new("docker").args(["rmi", "-f", &tagged]).output();
    let answer: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(answer["path"], "/pare");
    assert_eq!(answer["visits"], 1);
    assert!(answer["ca_certs"].as_u64().unwrap() > 0, "{answer}");
    assert_eq!(answer["paris_utc_offset"], 7200.0);
    assert!(answer["openssl"].as_str().unwrap().starts_with("OpenSSL 3"));
}

#[test]
fn minify_refuses_a_missing_library_unless_allowed() {
    // A root folder holding `ls` and the C library but not libselinux.
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    glibc_root(&root, &[("/usr/bin/ls", "bin/ls")]);
    let dest = work.path().join("out");
    let args = |extra: &[&'static str]| -> Vec<String> {
        let mut args: Vec<String> = ["minify", "--static-only", "--entrypoint", "/bin/ls"]
            .map(String::from)
            .to_vec();
        args.push(format!("dir:{}", root.display()));
        args.extend(["-o".to_string(), format!("oci:{}", dest.display())]);
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let refused = pare().args(args(&[])).output().unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("libselinux.so.1 needed by /bin/ls is not in the image"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!dest.exists());

    let allowed = pare().args(args(&["--allow-missing"])).output().unwrap();
    let stderr = String::from_utf8_lossy(&allowed.stderr);
    assert!(allowed.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: libselinux.so.1 needed by /bin/ls is missing"),
        "{stderr}"
    );
    let minified = format!("oci:{}", dest.display());
    let files = file_list(&minified);
    assert!(files.contains_key("/bin/ls") && files.contains_key("/lib/x86_64-linux-gnu/libc.so.6"));
    // The entry point it was minified for is the image's own now.
    assert_eq!(
        inspect_json(&minified)["config"]["entrypoint"],
        serde_json::json!(["/bin/ls"])
    );
}

#[test]
fn minify_keeps_apk_metadata_for_what_survives() {
    require!(tool("umoci"));
    // A root folder with an Alpine-style package database: coreutils owns
    // `true`, a libc package the C library and loader, apk-tools `apk`.
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    glibc_root(&root, &[("/usr/bin/true", "usr/bin/true")]);
    std::fs::create_dir_all(root.join("sbin")).unwrap();
    std::fs::write(root.join("sbin/apk"), "#!/bin/false\n").unwrap();
    let paragraph = |name: &str, folder: &str, files: &[&str]| {
        let mut text = format!("P:{name}\nV:1.0-r0\nA:x86_64\nL:MIT\no:{name}\nF:{folder}\n");
        for file in files {
            text.push_str(&format!(
                "R:{file}\na:0:0:755\nZ:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
            ));
        }
        text
    };
    let db = [
        paragraph("coreutils", "usr/bin", &["true", "false"]),
        paragraph(
            "libc-test",
            "lib/x86_64-linux-gnu",
            &["libc.so.6", "libm.so.6"],
        ),
        paragraph("apk-tools", "sbin", &["apk"]),
    ]
    .join("\n");
    std::fs::create_dir_all(root.join("lib/apk/db")).unwrap();
    std::fs::write(root.join("lib/apk/db/installed"), db).unwrap();

    let (rootfs, ours, syft) = minify_root_and_list_packages(work.path(), &root, "/usr/bin/true");
    assert!(!rootfs.join("sbin/apk").exists());
    assert_eq!(ours, ["coreutils", "libc-test"]);
    if let Some(syft) = syft {
        assert_eq!(syft, ours);
    }
}

/// `pare minify --static-only SOURCE -o DEST EXTRA…`, insisting on success.
fn minify(source: &str, dest: &str, extra: &[&str]) -> String {
    let mut args = vec!["minify", "--static-only", source, "-o", dest];
    args.extend_from_slice(extra);
    pare_ok(&args)
}

/// The names of the packages `rpm -qa` lists in the database at `dbpath`.
fn rpm_query_all(dbpath: &Path) -> Vec<String> {
    let out = run(
        "rpm",
        &[
            "--dbpath",
            dbpath.to_str().unwrap(),
            "-qa",
            "--qf",
            "%{NAME}\\n",
        ],
    );
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

/// Minifies `root` (a `dir:` folder) with `entrypoint`, unpacks the result
/// and returns (its rootfs, pare sbom's package names, Syft's).
fn minify_root_and_list_packages(
    work: &Path,
    root: &Path,
    entrypoint: &str,
) -> (std::path::PathBuf, Vec<String>, Option<Vec<String>>) {
    let layout = work.join("min");
    minify(
        &format!("dir:{}", root.display()),
        &format!("oci:{}:min", layout.display()),
        &["--entrypoint", entrypoint],
    );
    let sorted = |names: &Value| -> Vec<String> {
        let mut names: Vec<String> = names
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    };
    let image = format!("oci:{}", layout.display());
    let ours: Value =
        serde_json::from_str(&pare_ok(&["sbom", "--format", "json", &image])).unwrap();
    let theirs = tool("syft").map(|()| {
        let syft: Value = serde_json::from_slice(
            &syft(&["-q", &format!("oci-dir:{}", layout.display()), "-o", "json"]).stdout,
        )
        .unwrap();
        sorted(&syft["artifacts"])
    });
    let rootfs = umoci_unpack(&layout, "min", &work.join("bundle"));
    (rootfs, sorted(&ours["packages"]), theirs)
}

#[test]
fn minify_keeps_rpm_metadata_for_what_survives_from_rpms_own_database() {
    require!(root());
    require!(tool("rpmbuild"));
    require!(tool("umoci"));
    // Two real rpm packages, installed by rpm into a root: pare-alpha owns
    // a program (the host's `true`), pare-beta a file nothing needs.
    let work = tempfile::tempdir().unwrap();
    let top = work.path().join("rpmbuild");
    for (name, install) in [
        ("alpha", "cp /usr/bin/true %{buildroot}/usr/bin/pare-alpha"),
        ("beta", "echo beta > %{buildroot}/usr/bin/pare-beta"),
    ] {
        let spec = work.path().join(format!("{name}.spec"));
        std::fs::write(
            &spec,
            format!(
                "Name: pare-{name}\nVersion: 1.0\nRelease: 1\nSummary: pare test\nLicense: MIT\n\
                 BuildArch: x86_64\n%define debug_package %{{nil}}\n%global __os_install_post %{{nil}}\n\
                 %description\npare test\n%install\nmkdir -p %{{buildroot}}/usr/bin\n{install}\n\
                 %files\n/usr/bin/pare-{name}\n"
            ),
        )
        .unwrap();
        run(
            "rpmbuild",
            &[
                "--define",
                &format!("_topdir {}", top.display()),
                "-bb",
                spec.to_str().unwrap(),
            ],
        );
    }
    let root = work.path().join("root");
    glibc_root(&root, &[]);
    let rpms: Vec<String> = ["alpha", "beta"]
        .iter()
        .map(|n| format!("{}/RPMS/x86_64/pare-{n}-1.0-1.x86_64.rpm", top.display()))
        .collect();
    let mut install = vec![
        "--root",
        root.to_str().unwrap(),
        "--dbpath",
        "/var/lib/rpm",
        "--define",
        "_db_backend sqlite",
        "-i",
        "--nodeps",
        "--noscripts",
    ];
    install.extend(rpms.iter().map(String::as_str));
    run("rpm", &install);
    let installed = root.join("var/lib/rpm");
    assert_eq!(rpm_query_all(&installed), ["pare-alpha", "pare-beta"]);

    let (rootfs, ours, syft) =
        minify_root_and_list_packages(work.path(), &root, "/usr/bin/pare-alpha");
    assert!(!rootfs.join("usr/bin/pare-beta").exists());
    // rpm itself, pare and Syft read the reduced database alike.
    assert_eq!(rpm_query_all(&rootfs.join("var/lib/rpm")), ["pare-alpha"]);
    assert_eq!(ours, ["pare-alpha"]);
    if let Some(syft) = syft {
        assert_eq!(syft, ours);
    }
}

#[test]
fn minify_rewrites_a_berkeley_rpm_database_as_sqlite_for_what_survives() {
    require!(tool("rpm"));
    require!(tool("umoci"));
    // Syft's Berkeley DB sample: one package, dive, owning /usr/local/bin/dive.
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    glibc_root(&root, &[("/usr/bin/true", "usr/local/bin/dive")]);
    std::fs::create_dir_all(root.join("var/lib/rpm")).unwrap();
    std::fs::copy(
        pare_testkit::test_data("package-dbs/syft__pkg__cataloger__redhat__testdata__Packages"),
        root.join("var/lib/rpm/Packages"),
    )
    .unwrap();
    let (rootfs, ours, syft) =
        minify_root_and_list_packages(work.path(), &root, "/usr/local/bin/dive");
    let dbpath = rootfs.join("var/lib/rpm");
    assert!(dbpath.join("rpmdb.sqlite").is_file());
    assert!(!dbpath.join("Packages").exists());
    assert_eq!(rpm_query_all(&dbpath), ["dive"]);
    // The Basenames index answers "which package owns this file".
    let owner = run(
        "rpm",
        &[
            "--dbpath",
            dbpath.to_str().unwrap(),
            "-qf",
            "/usr/local/bin/dive",
            "--qf",
            "%{NAME}",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&owner.stdout), "dive");
    assert_eq!(ours, ["dive"]);
    if let Some(syft) = syft {
        assert_eq!(syft, ours);
    }
}

#[test]
fn minify_follows_runpath_with_origin_in_a_real_binary_and_it_runs() {
    require!(root());
    require!(tool("gcc"));
    require!(tool("umoci"));
    // A program built by the real toolchain with RUNPATH $ORIGIN/../lib,
    // and a decoy of its library in a default folder, which the loader
    // must not pick (RUNPATH comes first).
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    glibc_root(&root, &[]);
    let src = work.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(root.join("opt/app/bin")).unwrap();
    std::fs::create_dir_all(root.join("opt/app/lib")).unwrap();
    let library = |message: &str, at: &str| {
        let c = src.join(format!("{message}.c"));
        std::fs::write(
            &c,
            format!("#include <stdio.h>\nvoid greet(void) {{ puts(\"{message}\"); }}\n"),
        )
        .unwrap();
        let out = root.join(at);
        run(
            "gcc",
            &[
                "-shared",
                "-fPIC",
                "-Wl,-soname,libgreet.so.1",
                "-o",
                out.to_str().unwrap(),
                c.to_str().unwrap(),
            ],
        );
    };
    library("hello from origin", "opt/app/lib/libgreet.so.1");
    library("decoy", "lib/x86_64-linux-gnu/libgreet.so.1");
    std::fs::write(
        src.join("app.c"),
        "void greet(void);\nint main(void) { greet(); return 0; }\n",
    )
    .unwrap();
    let app = root.join("opt/app/bin/app");
    let source = src.join("app.c");
    let libs = format!("-L{}", root.join("opt/app/lib").display());
    run(
        "gcc",
        &[
            "-o",
            app.to_str().unwrap(),
            source.to_str().unwrap(),
            &libs,
            "-l:libgreet.so.1",
            "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib",
        ],
    );

    let layout = work.path().join("min");
    let report = work.path().join("report.json");
    minify(
        &format!("dir:{}", root.display()),
        &format!("oci:{}:min", layout.display()),
        &[
            "--entrypoint",
            "/opt/app/bin/app",
            "--explain",
            "--report",
            report.to_str().unwrap(),
        ],
    );
    let files = file_list(&format!("oci:{}", layout.display()));
    assert!(files.contains_key("/opt/app/lib/libgreet.so.1"));
    assert!(
        !files.contains_key("/lib/x86_64-linux-gnu/libgreet.so.1"),
        "the decoy"
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let reasons = report["kept"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["path"] == "/opt/app/lib/libgreet.so.1")
        .map(|k| k["reasons"].to_string())
        .unwrap();
    assert!(reasons.contains("found via DT_RUNPATH"), "{reasons}");

    let rootfs = umoci_unpack(&layout, "min", &work.path().join("bundle"));
    let ran = run_chrooted(&rootfs, &["/opt/app/bin/app"]).wait_output();
    assert_eq!(ran, "hello from origin\n");
}

#[test]
fn static_minify_keeps_the_program_a_wrapper_runs() {
    // `gosu USER PROGRAM…` runs PROGRAM: the static plan keeps both
    // (before, only gosu was kept and the image could not start).
    require!(docker());
    let archive = require!(test_image("redis-gosu"));
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("min.tar");
    let tagged = "pare-test/redis-gosu-static:it";
    minify(
        archive.to_str().unwrap(),
        &format!("docker-archive:{}:{tagged}", out.display()),
        &[
            "--entrypoint",
            "gosu",
            "--cmd",
            "redis",
            "--cmd",
            "redis-server",
        ],
    );
    let files = file_list(&format!("docker-archive:{}", out.display()));
    for kept in [
        "/usr/sbin/gosu",
        "/usr/bin/redis-server",
        "/usr/bin/redis-check-rdb",
    ] {
        assert!(files.contains_key(kept), "{kept} missing");
    }
    let loaded = run("docker", &["load", "-i", out.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&loaded.stdout).contains(tagged));
    let port = test_port();
    let _container = start_container(
        tagged,
        &[],
        &[
            "redis",
            "redis-server",
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ],
    );
    assert_redis_answers_on(port, "wrapped");
    drop(_container);
    let _ = Command::new("docker").args(["rmi", "-f", tagged]).output();
}

#[test]
fn static_minify_keeps_the_loader_cache_so_a_plugin_loads_by_name() {
    // plugind dlopens "libgreet.so" by name, found through ld.so.cache in
    // the folder /etc/ld.so.conf.d/greet.conf adds: with no --include, the
    // plugin (and what it loads, libz) and the cache must come (the cache
    // was dropped, and the server answered 500; the plugin needed
    // --include).
    let served = require!(serve_static_minified(
        "cplugins",
        "pare-test/plugind-static:it",
        8086,
        &[],
        &[],
    ));
    let cache = served.explained("/etc/ld.so.cache");
    assert!(cache.contains("the loader's cache"), "{cache}");
    let plugin = served.explained("/usr/local/lib/greet/libgreet.so");
    assert!(
        plugin.contains(
            "which the loader's configuration adds, for dlopen in /usr/local/bin/plugind"
        ),
        "{plugin}"
    );
    let answer = served.get("/");
    assert!(answer.contains("hello from libgreet"), "{answer}");
}

#[test]
fn an_included_passwd_is_kept_as_the_image_has_it_and_a_reduced_group_says_what_it_dropped() {
    // `--include /etc/passwd` was silently replaced by pare's reduced
    // file: users named only in the app's configuration were lost.
    let archive = require!(test_image("redis"));
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("min.tar");
    let report = work.path().join("report.json");
    let text = minify(
        archive.to_str().unwrap(),
        &format!("docker-archive:{}:pare-test/passwd:it", out.display()),
        &[
            "--include",
            "/etc/passwd",
            "--report",
            report.to_str().unwrap(),
        ],
    );
    let source_passwd = file_from_docker_archive(&archive, "etc/passwd");
    assert_eq!(
        file_from_docker_archive(&out, "etc/passwd"),
        source_passwd,
        "the included passwd changed"
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let accounts = &report["accounts"];
    assert_eq!(accounts["kept_as_is"], serde_json::json!(["/etc/passwd"]));
    assert_eq!(accounts["users_dropped"], serde_json::json!([]));
    // group was not included: reduced, and what it dropped is named, with
    // every group of the source either kept or dropped.
    let source_groups: Vec<String> =
        String::from_utf8(file_from_docker_archive(&archive, "etc/group"))
            .unwrap()
            .lines()
            .map(|l| l.split(':').next().unwrap().to_string())
            .collect();
    let listed = |key: &str| -> Vec<String> {
        accounts[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let (kept, dropped) = (listed("groups_kept"), listed("groups_dropped"));
    assert!(
        kept.contains(&"root".to_string()) && !dropped.is_empty(),
        "{accounts}"
    );
    let mut all: Vec<String> = kept.iter().chain(&dropped).cloned().collect();
    all.sort();
    let mut want = source_groups.clone();
    want.sort();
    assert_eq!(all, want);
    let line = text
        .lines()
        .find(|l| l.starts_with("/etc/group: kept groups "))
        .unwrap_or_else(|| panic!("no line for the reduced group:\n{text}"));
    assert!(
        line.ends_with("--include /etc/group keeps the image's file"),
        "{line}"
    );
    assert!(!text.contains("/etc/passwd: kept"), "{text}");
}

#[test]
fn static_minify_keeps_the_locale_lang_names_and_the_converters_iconv_loads() {
    // textd takes its locale from LANG=C.UTF-8 and converts with an iconv
    // module: both are data glibc loads by name at run time. Without them
    // it answered 200 with wrong text (setlocale fell back to C, mbstowcs
    // failed), no warning given.
    require!(docker());
    let original = require!(test_image("ctext"));
    run("docker", &["load", "-i", original.to_str().unwrap()]);
    let source = start_container("pare-test/ctext:bookworm", &[], &["21088"]);
    let want = http_get(21088, "/");
    drop(source);
    assert!(want.contains("locale: C.UTF-8\n"), "{want}");
    assert!(
        !want.contains("failed") && !want.contains("characters: -1"),
        "{want}"
    );
    let served = require!(serve_static_minified(
        "ctext",
        "pare-test/ctext-static:it",
        8088,
        &[],
        &[],
    ));
    let answer = served.get("/");
    let (_, body) = answer.split_once("\r\n\r\n").unwrap_or_default();
    assert_eq!(body, want, "the minified textd answers otherwise");
    for (path, reason) in [
        (
            "/usr/lib/locale/C.utf8/LC_CTYPE",
            "locale C.UTF-8, which LANG",
        ),
        (
            "/usr/lib/x86_64-linux-gnu/gconv/IBM037.so",
            "gconv converters, which iconv_open in /usr/local/bin/textd loads",
        ),
    ] {
        let line = served
            .explained
            .lines()
            .find(|l| l.starts_with(path))
            .unwrap_or_else(|| panic!("{path} not kept:\n{}", served.explained));
        assert!(line.contains(reason), "{line}");
    }
}

#[test]
fn static_minify_of_nginx_keeps_its_package_data_and_the_user_its_configuration_names() {
    // nginx needs what nginx-common installed (/etc/nginx), the folders its
    // configuration names (/var/www/html, made by the install script) and
    // the user it names (`user www-data;`): it needed three --include
    // flags, and the passwd reduction dropped www-data without a word.
    let archive = require!(test_image("nginx"));
    let index = file_from_docker_archive(&archive, "var/www/html/index.html");
    let served = require!(serve_static_minified(
        "nginx",
        "pare-test/nginx-static:it",
        80,
        &[],
        &[],
    ));
    let answer = served.get("/");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or_default();
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "{answer}\n{}",
        served.logs()
    );
    assert_eq!(body.as_bytes(), index);
    let explained = &served.explained;
    for (path, reason) in [
        (
            "/etc/nginx/nginx.conf",
            "data of package nginx-common, installed with /usr/sbin/nginx",
        ),
        (
            "/var/www/html/index.html",
            "named in /etc/nginx/sites-available/default",
        ),
        ("/run", "a folder programs expect"),
    ] {
        let line = explained
            .lines()
            .find(|l| l.split_whitespace().next() == Some(path))
            .unwrap_or_else(|| panic!("{path} not kept:\n{explained}"));
        assert!(line.contains(reason), "{line}");
    }
    let users = explained
        .lines()
        .find(|l| l.starts_with("/etc/passwd: kept users "))
        .unwrap_or_else(|| panic!("no passwd line:\n{explained}"));
    assert!(users.contains("www-data"), "{users}");
    // Documentation and other programs' files of the same packages stay out.
    for gone in [
        "/usr/share/doc/nginx",
        "/etc/init.d/nginx",
        "/etc/logrotate.d/nginx",
    ] {
        assert!(!explained.contains(&format!("\n{gone}")), "{gone} kept");
    }
}

#[test]
fn package_data_is_kept_for_a_server_or_when_asked() {
    // The lambda image exposes no port: its interpreter's package data
    // (python3.11's /etc/python3.11) is kept only with the flag.
    let archive = require!(test_image("lambda"));
    let work = tempfile::tempdir().unwrap();
    let explain = |flags: &[&str]| {
        let out = work.path().join("min");
        let _ = std::fs::remove_dir_all(&out);
        let mut args = vec!["--explain"];
        args.extend_from_slice(flags);
        minify(
            archive.to_str().unwrap(),
            &format!("oci:{}:x", out.display()),
            &args,
        )
    };
    let package_data = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.contains("data of package"))
            .map(|l| l.split_whitespace().next().unwrap().to_string())
            .collect()
    };
    assert_eq!(package_data(&explain(&[])), Vec::<String>::new());
    let kept = package_data(&explain(&["--include-package-data"]));
    assert!(kept.iter().any(|p| p == "/etc/python3.11"), "{kept:?}");
    // Never what other programs read, nor documentation.
    for path in &kept {
        assert!(
            !path.starts_with("/usr/share/doc") && !path.starts_with("/usr/lib/binfmt.d"),
            "{path}"
        );
    }
}
