//! The `docker://` transport end to end, against real servers started on
//! loopback by pare-registry's test support: Debian's `docker-registry`
//! (plain; TLS with htpasswd; token auth behind a token server), a proxy
//! that cuts connections, and this machine's Docker Engine pulling what
//! pare pushed.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::*;
use crate::require;

#[path = "../../../pare-registry/tests/support/mod.rs"]
mod support;

use support::{Cut, PASSWORD, Proxy, Registry, USER};

/// Runs pare with no credentials of this machine's user (auth files
/// pointed at an empty folder) and `TMPDIR` in `tmp`; returns status,
/// stdout and stderr.
fn pare_isolated(tmp: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let home = tmp.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let scratch = tmp.join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let out = pare()
        .args(args)
        .env("TMPDIR", &scratch)
        .env("HOME", &home)
        .env("DOCKER_CONFIG", &home)
        .env("REGISTRY_AUTH_FILE", home.join("auth.json"))
        .env("XDG_RUNTIME_DIR", &home)
        .env("XDG_CONFIG_HOME", &home)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(result: (Option<i32>, String, String)) -> String {
    assert_eq!(result.0, Some(0), "pare failed: {}", result.2);
    result.1
}

/// `pare copy --format json SOURCE DESTINATION`, which must succeed: what
/// it says was written.
fn copy_json(tmp: &Path, source: &str, destination: &str) -> Value {
    let written = ok(pare_isolated(
        tmp,
        &["copy", "--format", "json", source, destination],
    ));
    serde_json::from_str(&written).unwrap()
}

/// Exit 1 and one line on stderr; returns the line.
fn one_line_failure(result: (Option<i32>, String, String)) -> String {
    let (code, stdout, stderr) = result;
    assert_eq!(code, Some(1), "expected a failure: {stdout}{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    stderr
}

/// The registry has no such image: exit 1, one line saying so.
fn assert_not_in_registry(tmp: &Path, args: &[&str]) {
    let line = one_line_failure(pare_isolated(tmp, args));
    assert!(
        line.contains("not found") || line.contains("unknown"),
        "{line}"
    );
}

fn scratch_is_empty(tmp: &Path) {
    let left: Vec<_> = std::fs::read_dir(tmp.join("scratch"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

fn inspect(tmp: &Path, image: &str, extra: &[&str]) -> Value {
    let mut args = vec!["inspect", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(image);
    serde_json::from_str(&ok(pare_isolated(tmp, &args))).unwrap()
}

/// A pushed image is what the Engine pulls (same image ID), reads back with
/// the archive's digests and packages, copies between repositories with
/// its manifest digest kept (by mount), and a second push uploads nothing.
#[test]
fn registry_push_pull_keeps_digests_and_skips_what_is_there() {
    let registry = require!(Registry::plain());
    require!(docker());
    let archive = require!(test_image("redis"));
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let image = format!("docker://{}/pare/redis:1", registry.host());
    let written = copy_json(tmp, archive.to_str().unwrap(), &image);
    scratch_is_empty(tmp);
    let from_archive = inspect(tmp, archive.to_str().unwrap(), &[]);
    let from_registry = inspect(tmp, &image, &[]);
    assert_eq!(
        from_registry["config_digest"],
        from_archive["config_digest"]
    );
    assert_eq!(diff_ids(&from_registry), diff_ids(&from_archive));
    assert_eq!(from_registry["manifest_digest"], written["manifest_digest"]);
    assert_eq!(from_registry["files"], from_archive["files"]);

    // The Engine pulls it (loopback registries are insecure by default) to
    // the image ID the config digest promises.
    let pulled = format!("{}/pare/redis:1", registry.host());
    run("docker", &["pull", "-q", &pulled]);
    let id = run(
        "docker",
        &["image", "inspect", "--format", "{{.Id}}", &pulled],
    );
    assert_eq!(
        String::from_utf8_lossy(&id.stdout).trim(),
        from_archive["config_digest"].as_str().unwrap()
    );
    // What the Engine pushes (Docker v2 schema 2, its own gzip layers)
    // reads back as the same image.
    let pushed_by_docker = format!("{}/pare/redis-docker:1", registry.host());
    run("docker", &["tag", &pulled, &pushed_by_docker]);
    run("docker", &["push", &pushed_by_docker]);
    let _ = Command::new("docker")
        .args(["rmi", "-f", &pulled, &pushed_by_docker])
        .output();
    let from_docker = inspect(tmp, &format!("docker://{pushed_by_docker}"), &[]);
    assert_eq!(from_docker["config_digest"], from_archive["config_digest"]);
    assert_eq!(diff_ids(&from_docker), diff_ids(&from_archive));
    assert_eq!(from_docker["files"], from_archive["files"]);
    assert!(
        from_docker["layers"][0]["media_type"]
            .as_str()
            .unwrap()
            .starts_with("application/vnd.docker.image.rootfs.diff.tar"),
        "{from_docker}"
    );

    // The same image again: every blob is there, nothing is uploaded.
    let uploads = |r: &Registry| r.requests("PUT", "/v2/pare/redis/blobs/uploads/");
    let before = uploads(&registry);
    assert!(before > 0);
    ok(pare_isolated(
        tmp,
        &["copy", archive.to_str().unwrap(), &image],
    ));
    assert_eq!(uploads(&registry), before, "a second push uploaded blobs");

    // To another repository of the same registry: mounted, not uploaded,
    // and the manifest digest is kept.
    let copy = format!("docker://{}/pare/redis-copy:1", registry.host());
    let copied = copy_json(tmp, &image, &copy);
    assert_eq!(copied["manifest_digest"], written["manifest_digest"]);
    assert_eq!(
        registry.requests("PUT", "/v2/pare/redis-copy/blobs/uploads/"),
        0
    );
    assert!(
        registry.requests("POST", "/v2/pare/redis-copy/blobs/uploads/?from=") > 0
            || registry.requests("POST", "/v2/pare/redis-copy/blobs/uploads/?mount=") > 0
    );

    // Packages read from the registry are the archive's.
    let sbom = |image: &str| -> Value {
        serde_json::from_str(&ok(pare_isolated(
            tmp,
            &["sbom", "--format", "json", image],
        )))
        .unwrap()
    };
    assert_eq!(
        sbom(&image)["packages"],
        sbom(archive.to_str().unwrap())["packages"]
    );
}

/// The promise: minify from a registry into the registry; the
/// Engine pulls the result and it answers.
#[test]
fn registry_minify_to_registry_runs_and_answers() {
    let registry = require!(Registry::plain());
    require!(docker());
    let archive = require!(test_image("redis"));
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let source = format!("docker://{}/pare/app:1", registry.host());
    let minified = format!("docker://{}/pare/app:1-min", registry.host());
    ok(pare_isolated(
        tmp,
        &["copy", archive.to_str().unwrap(), &source],
    ));
    ok(pare_isolated(
        tmp,
        &["minify", "--static-only", &source, "-o", &minified],
    ));
    scratch_is_empty(tmp);
    let pulled = format!("{}/pare/app:1-min", registry.host());
    run("docker", &["pull", "-q", &pulled]);
    assert_redis_answers(&pulled, "from-the-registry");
    let _ = Command::new("docker").args(["rmi", "-f", &pulled]).output();
}

/// Token auth: `--creds` pushes and pulls; wrong or no credentials fail on
/// one line and tag nothing.
#[test]
fn registry_token_auth_and_refusals() {
    let registry = require!(Registry::token());
    let archive = require!(test_image("busybox"));
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let creds = format!("{USER}:{PASSWORD}");
    let image = format!("docker://{}/pare/bb:1", registry.host());
    ok(pare_isolated(
        tmp,
        &["copy", "--creds", &creds, archive.to_str().unwrap(), &image],
    ));
    let read = inspect(tmp, &image, &["--creds", &creds]);
    assert_eq!(
        diff_ids(&read),
        diff_ids(&inspect(tmp, archive.to_str().unwrap(), &[]))
    );

    let other = format!("docker://{}/pare/bb-wrong:1", registry.host());
    let line = one_line_failure(pare_isolated(
        tmp,
        &[
            "copy",
            "--creds",
            &format!("{USER}:wrong"),
            archive.to_str().unwrap(),
            &other,
        ],
    ));
    assert!(line.contains(&registry.host()), "{line}");
    let line = one_line_failure(pare_isolated(
        tmp,
        &["copy", archive.to_str().unwrap(), &other],
    ));
    assert!(line.contains("auth"), "{line}");
    // Nothing was tagged by either attempt.
    assert_not_in_registry(tmp, &["inspect", "--creds", &creds, &other]);
    scratch_is_empty(tmp);
}

/// TLS with a self-signed CA and htpasswd: works with `--cert-dir`, and
/// without it fails naming the unknown issuer.
#[test]
fn registry_tls_needs_its_cert_dir() {
    let registry = require!(Registry::tls_basic());
    let archive = require!(test_image("busybox"));
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let support::Auth::TlsBasic(pki) = &registry.auth else {
        unreachable!()
    };
    let certs = pki.cert_dir();
    let creds = format!("{USER}:{PASSWORD}");
    let image = format!("docker://{}/pare/tls:1", registry.host());
    ok(pare_isolated(
        tmp,
        &[
            "copy",
            "--creds",
            &creds,
            "--cert-dir",
            certs.to_str().unwrap(),
            archive.to_str().unwrap(),
            &image,
        ],
    ));
    let read = inspect(
        tmp,
        &image,
        &["--creds", &creds, "--cert-dir", certs.to_str().unwrap()],
    );
    assert_eq!(read["transport"], "docker");
    let line = one_line_failure(pare_isolated(tmp, &["inspect", "--creds", &creds, &image]));
    assert!(line.contains("UnknownIssuer"), "{line}");
}

/// A connection cut mid-blob on a pull, a blob whose stored bytes were
/// changed, an unknown repository: exit 1, one line; a push whose upload
/// is cut once is retried and lands intact; one cut every time tags
/// nothing.
#[test]
fn registry_cut_connections_corrupt_blobs_and_unknown_repositories() {
    let registry = require!(Registry::plain());
    let archive = require!(test_image("redis"));
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let image = format!("docker://{}/pare/cut:1", registry.host());
    ok(pare_isolated(
        tmp,
        &["copy", archive.to_str().unwrap(), &image],
    ));

    // Pull through a proxy that cuts the first big response half-way.
    let proxy = Proxy::start(registry.port, Cut::Download(4 << 20), 1);
    let through = format!("docker://{}/pare/cut:1", proxy.host());
    let line = one_line_failure(pare_isolated(tmp, &["inspect", &through]));
    assert!(
        line.contains("dropped") || line.contains("connection"),
        "{line}"
    );
    scratch_is_empty(tmp);

    // Push through a proxy that cuts the first big upload: retried.
    let proxy = Proxy::start(registry.port, Cut::Upload(4 << 20), 1);
    let retried = format!("docker://{}/pare/retried:1", proxy.host());
    ok(pare_isolated(
        tmp,
        &["copy", archive.to_str().unwrap(), &retried],
    ));
    assert!(proxy.cuts.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    let back = inspect(
        tmp,
        &format!("docker://{}/pare/retried:1", registry.host()),
        &[],
    );
    assert_eq!(
        diff_ids(&back),
        diff_ids(&inspect(tmp, archive.to_str().unwrap(), &[]))
    );

    // Every upload cut: the push fails and the tag is not there.
    let proxy = Proxy::start(registry.port, Cut::Upload(1 << 20), 1000);
    let never = format!("docker://{}/pare/never:1", proxy.host());
    one_line_failure(pare_isolated(
        tmp,
        &["copy", archive.to_str().unwrap(), &never],
    ));
    assert_not_in_registry(
        tmp,
        &[
            "inspect",
            &format!("docker://{}/pare/never:1", registry.host()),
        ],
    );
    scratch_is_empty(tmp);

    // A stored layer changed on the registry's disk.
    let read = inspect(tmp, &image, &[]);
    let biggest = read["layers"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|l| l["size"].as_u64().unwrap_or(0))
        .unwrap();
    let digest = pare_registry::Digest::parse(biggest["digest"].as_str().unwrap()).unwrap();
    let file = registry.blob_file(&digest);
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&file, bytes).unwrap();
    let line = one_line_failure(pare_isolated(tmp, &["inspect", &image]));
    assert!(line.contains("digest"), "{line}");

    assert_not_in_registry(
        tmp,
        &[
            "inspect",
            &format!("docker://{}/pare/no-such-repo:1", registry.host()),
        ],
    );
    scratch_is_empty(tmp);
}

/// Progress bars for pulls and pushes under a pseudo-terminal only.
#[test]
fn registry_progress_only_on_a_terminal() {
    let registry = require!(Registry::plain());
    require!(tool("script"));
    let archive = require!(test_image("redis"));
    let tmp = tempfile::tempdir().unwrap();
    let image = format!("docker://{}/pare/progress:1", registry.host());
    let pare_path = env!("CARGO_BIN_EXE_pare");
    let under_pty = |command: String| {
        let out = Command::new("script")
            .args(["-q", "-e", "-c", &command, "/dev/null"])
            .env("DOCKER_CONFIG", tmp.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let pushed = under_pty(format!(
        "{pare_path} copy {} {image} >/dev/null",
        archive.display()
    ));
    assert!(pushed.contains("pushing sha256:"), "{pushed:?}");
    let pulled = under_pty(format!("{pare_path} inspect {image} >/dev/null"));
    assert!(pulled.contains("pulling sha256:"), "{pulled:?}");
    let quiet = under_pty(format!("{pare_path} inspect --quiet {image} >/dev/null"));
    assert!(!quiet.contains("pulling"), "{quiet:?}");
    let piped = pare().args(["inspect", &image]).output().unwrap();
    assert!(piped.status.success());
    assert!(piped.stderr.is_empty());
}

/// A multi-platform index in the registry: `--platform` picks its entry (a
/// variant included), the default is linux/amd64, and a platform it does
/// not list is one line naming the ones it has.
#[test]
fn registry_index_resolves_by_platform() {
    let registry = require!(Registry::plain());
    let archive = require!(test_image("busybox"));
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let single = format!("docker://{}/pare/multi:amd64", registry.host());
    let written = copy_json(tmp, archive.to_str().unwrap(), &single);
    let manifest_digest = written["manifest_digest"].as_str().unwrap();
    let client = pare_registry::Client::new(support::options());
    let manifest = client
        .get_manifest(&pare_registry::Reference::parse(&single["docker://".len()..]).unwrap())
        .unwrap();
    // Both entries name the same manifest: what is checked is the choice.
    let entry = |platform: Value| {
        serde_json::json!({
            "mediaType": manifest.media_type,
            "digest": manifest_digest,
            "size": manifest.bytes.len(),
            "platform": platform,
        })
    };
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": pare_registry::OCI_INDEX,
        "manifests": [
            entry(serde_json::json!({"os": "linux", "architecture": "arm64", "variant": "v8"})),
            entry(serde_json::json!({"os": "linux", "architecture": "amd64"})),
        ],
    });
    let bytes = serde_json::to_vec(&index).unwrap();
    let tagged = format!("{}/pare/multi:all", registry.host());
    client
        .put_manifest(
            &pare_registry::Reference::parse(&tagged).unwrap(),
            &bytes,
            pare_registry::OCI_INDEX,
        )
        .unwrap();
    let image = format!("docker://{tagged}");
    let by_default = inspect(tmp, &image, &[]);
    assert_eq!(by_default["manifest_digest"], manifest_digest);
    let arm = inspect(tmp, &image, &["--platform", "linux/arm64/v8"]);
    assert_eq!(arm["manifest_digest"], manifest_digest);
    let line = one_line_failure(pare_isolated(
        tmp,
        &["inspect", "--platform", "linux/s390x", &image],
    ));
    assert!(line.contains("no image for linux/s390x"), "{line}");
    assert!(line.contains("linux/arm64"), "{line}");
}
