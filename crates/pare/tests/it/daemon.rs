//! The `docker-daemon:` transport against this machine's real Docker Engine:
//! images read from it equal the archives they were loaded from, images
//! written into it are what `docker image inspect` sees and they run, and
//! failures are one line with nothing left behind.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::*;
use crate::require;

/// A tag unique to this test process, removed from the Engine on drop.
struct Tag(String);

impl Tag {
    fn new(what: &str) -> Tag {
        Tag(format!("pare-it/daemon-{what}:{}", std::process::id()))
    }
}

impl Drop for Tag {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", "-f", &self.0]).output();
    }
}

fn engine_inspect(name: &str) -> Option<Value> {
    let out = Command::new("docker")
        .args(["image", "inspect", name])
        .output()
        .unwrap();
    if !out.status.success() {
        return None;
    }
    let all: Value = serde_json::from_slice(&out.stdout).unwrap();
    Some(all[0].clone())
}

fn engine_layers(found: &Value) -> Vec<String> {
    found["RootFS"]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect()
}

/// Runs pare with `TMPDIR` set to `tmp`; returns status code, stdout, stderr.
fn pare_in(tmp: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let out = pare()
        .args(args)
        .env("TMPDIR", tmp)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_empty(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        left.is_empty(),
        "left behind in {}: {left:?}",
        dir.display()
    );
}

/// An image loaded by `docker load` (Docker's own reader of the archive)
/// reads back from the Engine with the archive's config and diff_ids, which
/// are also what the Engine itself reports.
#[test]
fn daemon_source_reads_what_docker_load_loaded() {
    require!(docker());
    let archive = require!(test_image("busybox"));
    let tmp = tempfile::tempdir().unwrap();
    let tag = Tag::new("busybox");
    let named = tmp.path().join("named.tar");
    pare_ok(&[
        "copy",
        archive.to_str().unwrap(),
        &format!("docker-archive:{}:{}", named.display(), tag.0),
    ]);
    run("docker", &["load", "-i", named.to_str().unwrap()]);

    let from_archive = inspect_json(archive.to_str().unwrap());
    let from_engine = inspect_json(&format!("docker-daemon:{}", tag.0));
    assert_eq!(from_engine["config_digest"], from_archive["config_digest"]);
    assert_eq!(diff_ids(&from_engine), diff_ids(&from_archive));
    assert_eq!(from_engine["files"], from_archive["files"]);
    assert_eq!(from_engine["size_bytes"], from_archive["size_bytes"]);
    // The same Engine over TCP (`DOCKER_HOST=tcp://…`), through socat.
    if tool("socat").is_some() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut socat = Command::new("socat")
            .args([
                &format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"),
                "UNIX-CONNECT:/var/run/docker.sock",
            ])
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "socat did not listen");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let over_tcp = pare()
            .args([
                "inspect",
                "--format",
                "json",
                &format!("docker-daemon:{}", tag.0),
            ])
            .env("DOCKER_HOST", format!("tcp://127.0.0.1:{port}"))
            .output()
            .unwrap();
        let _ = socat.kill();
        let _ = socat.wait();
        assert!(
            over_tcp.status.success(),
            "{}",
            String::from_utf8_lossy(&over_tcp.stderr)
        );
        let over_tcp: Value = serde_json::from_slice(&over_tcp.stdout).unwrap();
        assert_eq!(over_tcp["config_digest"], from_archive["config_digest"]);
    }
    let found = engine_inspect(&tag.0).expect("loaded");
    assert_eq!(
        found["Id"].as_str(),
        from_engine["config_digest"].as_str(),
        "the image ID is the config digest"
    );
    assert_eq!(engine_layers(&found), diff_ids(&from_engine));
    // The SBOM of the Engine's image is the archive's.
    let sbom = |image: &str| pare_ok(&["sbom", "--format", "json", image]);
    let a: Value = serde_json::from_str(&sbom(archive.to_str().unwrap())).unwrap();
    let b: Value = serde_json::from_str(&sbom(&format!("docker-daemon:{}", tag.0))).unwrap();
    assert_eq!(a["packages"], b["packages"]);
    assert!(!a["packages"].as_array().unwrap().is_empty());
}

/// `pare copy` into the Engine gives the image ID the archive's config
/// digest promises, and copying it back out keeps every digest.
#[test]
fn daemon_destination_keeps_the_image_id_and_digests_round_trip() {
    require!(docker());
    let archive = require!(test_image("redis"));
    let tmp = tempfile::tempdir().unwrap();
    let tag = Tag::new("redis");
    let (code, _, stderr) = pare_in(
        tmp.path(),
        &[
            "copy",
            archive.to_str().unwrap(),
            &format!("docker-daemon:{}", tag.0),
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_empty(tmp.path());
    let from_archive = inspect_json(archive.to_str().unwrap());
    let found = engine_inspect(&tag.0).expect("loaded and tagged");
    assert_eq!(found["Id"].as_str(), from_archive["config_digest"].as_str());
    assert_eq!(engine_layers(&found), diff_ids(&from_archive));

    let layout = tmp.path().join("layout");
    let (code, _, stderr) = pare_in(
        tmp.path(),
        &[
            "copy",
            &format!("docker-daemon:{}", tag.0),
            &format!("oci:{}:back", layout.display()),
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let back = inspect_json(&format!("oci:{}:back", layout.display()));
    assert_eq!(back["config_digest"], from_archive["config_digest"]);
    assert_eq!(diff_ids(&back), diff_ids(&from_archive));
}

/// The promise: minify from the Engine into the Engine, and the
/// result answers real requests.
#[test]
fn daemon_minify_to_daemon_runs_and_answers() {
    require!(docker());
    let archive = require!(test_image("redis"));
    let source = Tag::new("redis-src");
    let minified = Tag::new("redis-min");
    pare_ok(&[
        "copy",
        archive.to_str().unwrap(),
        &format!("docker-daemon:{}", source.0),
    ]);
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, stderr) = pare_in(
        tmp.path(),
        &[
            "minify",
            "--static-only",
            &format!("docker-daemon:{}", source.0),
            "-o",
            &format!("docker-daemon:{}", minified.0),
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_empty(tmp.path());
    let found = engine_inspect(&minified.0).expect("minified image in the Engine");
    let before = engine_inspect(&source.0).unwrap();
    assert!(
        found["Size"].as_u64().unwrap() < before["Size"].as_u64().unwrap() / 2,
        "minified {} vs {}",
        found["Size"],
        before["Size"]
    );
    assert_redis_answers(&minified.0, "from-the-engine");
}

/// No Engine, no image, a load the Engine refuses: exit 1, one line that
/// says what and where, no temporary file left, nothing tagged.
#[test]
fn daemon_failures_are_one_line_and_leave_nothing() {
    require!(docker());
    let archive = require!(test_image("busybox"));
    let tmp = tempfile::tempdir().unwrap();

    let missing_image = format!("docker-daemon:pare-it/no-such-image:{}", std::process::id());
    let (code, stdout, stderr) = pare_in(tmp.path(), &["inspect", &missing_image], &[]);
    assert_eq!(code, Some(1));
    assert!(stdout.is_empty());
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("has no image"), "{stderr}");

    // A port nothing listens on (the discard port on loopback).
    let (code, _, stderr) = pare_in(
        tmp.path(),
        &["inspect", "docker-daemon:busybox"],
        &[("DOCKER_HOST", "tcp://127.0.0.1:9")],
    );
    assert_eq!(code, Some(1));
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("no Docker Engine answers at tcp://127.0.0.1:9"),
        "{stderr}"
    );
    let (code, _, stderr) = pare_in(
        tmp.path(),
        &["inspect", "docker-daemon:busybox"],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    );
    assert_eq!(code, Some(1));
    assert!(stderr.contains("no Docker Engine answers"), "{stderr}");

    // Docker refuses an upper-case repository name when it loads: the
    // failure is reported and nothing is tagged.
    let refused = format!("pare-it/Daemon-Upper:{}", std::process::id());
    let (code, _, stderr) = pare_in(
        tmp.path(),
        &[
            "copy",
            archive.to_str().unwrap(),
            &format!("docker-daemon:{refused}"),
        ],
        &[],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("did not load"), "{stderr}");
    assert!(engine_inspect(&refused).is_none());
    assert!(engine_inspect(&refused.to_lowercase()).is_none());
    assert_empty(tmp.path());

    // A digest names an image to read, not one to write.
    let (code, _, stderr) = pare_in(
        tmp.path(),
        &[
            "copy",
            archive.to_str().unwrap(),
            "docker-daemon:pare-it/x@sha256:0000000000000000000000000000000000000000000000000000000000000000",
        ],
        &[],
    );
    assert_eq!(code, Some(1));
    assert!(stderr.contains("digest names an image to read"), "{stderr}");
}

/// Progress bars are drawn on a terminal only: under a pseudo-terminal
/// (`script`) an export shows one; piped, or with `--quiet`, stderr stays
/// empty.
#[test]
fn daemon_progress_only_on_a_terminal() {
    require!(docker());
    require!(tool("script"));
    // Big enough (about 100 MB) that the export outlasts the first draw.
    let archive = require!(test_image("redis"));
    let tag = Tag::new("progress");
    pare_ok(&[
        "copy",
        archive.to_str().unwrap(),
        &format!("docker-daemon:{}", tag.0),
    ]);
    let pare_path = env!("CARGO_BIN_EXE_pare");
    let under_pty = |extra: &str| {
        // stdout goes to /dev/null, stderr to the pseudo-terminal `script`
        // records.
        let command = format!(
            "{pare_path} inspect {extra} docker-daemon:{} >/dev/null",
            tag.0
        );
        let out = Command::new("script")
            .args(["-q", "-e", "-c", &command, "/dev/null"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let drawn = under_pty("");
    assert!(drawn.contains("exporting docker-daemon:"), "{drawn:?}");
    let quiet = under_pty("--quiet");
    assert!(!quiet.contains("exporting"), "{quiet:?}");
    let piped = pare()
        .args(["inspect", &format!("docker-daemon:{}", tag.0)])
        .output()
        .unwrap();
    assert!(piped.status.success());
    assert!(
        piped.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&piped.stderr)
    );
}

/// What `docker save` writes on the containerd image store (Docker 29's
/// default; this machine's Engine 20.10 has the legacy store): an OCI
/// layout with the blobs as stored (gzip layers named by their compressed
/// digest) plus `manifest.json`, every member sorted by name, no
/// `repositories` (containerd's core/images/archive/exporter.go). Built
/// here from a gzip OCI layout the same way; pare reads it as the
/// archive it came from, and so does `docker load`.
#[test]
fn daemon_containerd_store_save_layout_reads() {
    let archive = require!(test_image("busybox"));
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    pare_ok(&[
        "copy",
        "--compression",
        "gzip",
        archive.to_str().unwrap(),
        &format!("oci:{}", layout.display()),
    ]);
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifest_digest = index["manifests"][0]["digest"].as_str().unwrap();
    let blob = |digest: &str| layout.join("blobs/sha256").join(&digest[7..]);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(blob(manifest_digest)).unwrap()).unwrap();
    let tag = Tag::new("containerd");
    let legacy = serde_json::json!([{
        "Config": format!("blobs/sha256/{}", &manifest["config"]["digest"].as_str().unwrap()[7..]),
        "RepoTags": [tag.0],
        "Layers": manifest["layers"].as_array().unwrap().iter()
            .map(|l| format!("blobs/sha256/{}", &l["digest"].as_str().unwrap()[7..]))
            .collect::<Vec<_>>(),
    }]);
    std::fs::write(layout.join("manifest.json"), legacy.to_string()).unwrap();
    let saved = tmp.path().join("containerd-save.tar");
    // Sorted member names, folders included, as containerd's writeTar.
    run(
        "tar",
        &[
            "--sort=name",
            "-C",
            layout.to_str().unwrap(),
            "-cf",
            saved.to_str().unwrap(),
            "blobs",
            "index.json",
            "manifest.json",
            "oci-layout",
        ],
    );
    let original = inspect_json(archive.to_str().unwrap());
    let read = inspect_json(&format!("docker-archive:{}", saved.display()));
    assert_eq!(read["config_digest"], original["config_digest"]);
    assert_eq!(diff_ids(&read), diff_ids(&original));
    assert_eq!(read["files"], original["files"]);
    assert!(
        read["layers"][0]["size"].as_u64() < original["layers"][0]["size"].as_u64(),
        "the layer is read compressed, as stored"
    );
    // The Engine loads it too, to the same image ID.
    require!(docker());
    run("docker", &["load", "-i", saved.to_str().unwrap()]);
    let found = engine_inspect(&tag.0).expect("loaded");
    assert_eq!(found["Id"], original["config_digest"]);
}
