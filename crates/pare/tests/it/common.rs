//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

pub use pare_testkit::{TEST_IMAGES, TRACE_IMAGES, in_ci, missing, test_image, tool};

/// Skips (locally) or fails (in CI) for a missing prerequisite.
#[macro_export]
macro_rules! require {
    ($e:expr) => {
        match $e {
            Some(v) => v,
            None => return,
        }
    };
}

/// A running Docker Engine, or a skip.
pub fn docker() -> Option<()> {
    tool("docker")?;
    let ok = Command::new("docker")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Some(())
    } else {
        missing("a running Docker Engine")
    }
}

pub fn pare() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pare"))
}

/// Runs pare, insisting on success; returns stdout.
pub fn pare_ok(args: &[&str]) -> String {
    let out = pare().args(args).output().expect("pare runs");
    assert!(
        out.status.success(),
        "pare {args:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// `pare inspect --format json`.
pub fn inspect_json(image: &str) -> Value {
    serde_json::from_str(&pare_ok(&["inspect", "--format", "json", image])).expect("JSON")
}

/// Runs an external command, insisting on success.
pub fn run(program: &str, args: &[&str]) -> Output {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Independent count of an unpacked root: non-directory entries, and
/// regular-file bytes with each inode counted once (what `find ! -type d`
/// and `du`-style hardlink dedup give).
pub fn count_unpacked(root: &Path) -> (u64, u64) {
    let mut files = 0;
    let mut bytes = 0;
    let mut seen = HashSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let meta = std::fs::symlink_metadata(entry.path()).unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
                continue;
            }
            files += 1;
            if meta.is_file() && seen.insert((meta.dev(), meta.ino())) {
                bytes += meta.len();
            }
        }
    }
    (files, bytes)
}

/// Unpacks image `layout:tag` with umoci into `bundle`; returns its rootfs.
pub fn umoci_unpack(layout: &Path, tag: &str, bundle: &Path) -> PathBuf {
    let image = format!("{}:{tag}", layout.display());
    run(
        "umoci",
        &["unpack", "--image", &image, bundle.to_str().unwrap()],
    );
    bundle.join("rootfs")
}

/// The diff_ids pare reports for an image.
pub fn diff_ids(inspection: &Value) -> Vec<String> {
    inspection["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["diff_id"].as_str().unwrap().to_string())
        .collect()
}

/// Names of leftovers a failed write might leave in `dir`.
pub fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".pare-tmp"))
        .collect()
}

/// The reference JSON schemas (CycloneDX, SPDX, SARIF).
pub fn schemas() -> PathBuf {
    pare_testkit::test_data("schemas")
}

/// Whether `document` is valid against `schema`, by python-jsonschema.
pub fn validate(schema: &Path, document: &Path) -> bool {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/tools/validate_json_schema.py");
    std::process::Command::new("python3")
        .arg(script)
        .arg(schema)
        .arg(document)
        .status()
        .unwrap()
        .success()
}

/// python-jsonschema, or a skip.
pub fn jsonschema_available() -> Option<()> {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import jsonschema, referencing"])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Some(())
    } else if in_ci() {
        panic!("prerequisite missing in CI: python jsonschema");
    } else {
        eprintln!("skipping: python jsonschema is missing");
        None
    }
}

/// A container started by a test, removed when the test ends.
pub struct Container(pub String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["rm", "-f", &self.0])
            .output();
    }
}

/// Sends one RESP command and reads one reply line.
pub fn redis_call(stream: &mut TcpStream, args: &[&str]) -> String {
    let mut request = format!("*{}\r\n", args.len());
    for a in args {
        request.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    stream.write_all(request.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    if line.starts_with('$') && !line.starts_with("$-1") {
        let mut value = String::new();
        reader.read_line(&mut value).unwrap();
        return value.trim_end().to_string();
    }
    line.trim_end().to_string()
}

pub fn connect(port: u16) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => {
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                return s;
            }
            Err(e) if Instant::now() > deadline => panic!("nothing listened on {port}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// `docker load`s `archive` (which must name `tagged`), checks redis in it
/// answers, and removes the image.
pub fn assert_loaded_redis_answers(archive: &Path, tagged: &str, value: &str) {
    let loaded = run("docker", &["load", "-i", archive.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&loaded.stdout).contains(tagged));
    assert_redis_answers(tagged, value);
    let _ = Command::new("docker").args(["rmi", "-f", tagged]).output();
}

/// Runs the loaded image `tagged` as redis on a loopback port (host
/// networking) and checks it answers PING, SET and GET.
pub fn assert_redis_answers(tagged: &str, value: &str) {
    let port = test_port();
    let args = [
        "redis-server",
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
    ];
    let _container = start_container(tagged, &[], &args);
    assert_redis_answers_on(port, value);
}

/// Starts `docker run -d --network host OPTIONS IMAGE ARGS`; removed when
/// the returned value is dropped.
pub fn start_container(image: &str, options: &[&str], args: &[&str]) -> Container {
    let mut command = vec!["run", "-d", "--network", "host"];
    command.extend_from_slice(options);
    command.push(image);
    command.extend_from_slice(args);
    let id = run("docker", &command);
    Container(String::from_utf8_lossy(&id.stdout).trim().to_string())
}

/// A loopback port for this test process's server.
pub fn test_port() -> u16 {
    20000 + (std::process::id() % 20000) as u16
}

/// Checks redis on a loopback port answers PING, SET and GET.
pub fn assert_redis_answers_on(port: u16, value: &str) {
    let mut redis = connect(port);
    assert_eq!(redis_call(&mut redis, &["PING"]), "+PONG");
    assert_eq!(redis_call(&mut redis, &["SET", "pare", value]), "+OK");
    assert_eq!(redis_call(&mut redis, &["GET", "pare"]), value);
}

/// Root, which namespaces and chroot need, or a skip.
pub fn root() -> Option<()> {
    let uid = run("id", &["-u"]);
    if String::from_utf8_lossy(&uid.stdout).trim() == "0" {
        Some(())
    } else {
        missing("root")
    }
}

/// A program run by [`run_chrooted`]; killed (with its namespace) on drop.
pub struct Chrooted(std::process::Child);

impl Drop for Chrooted {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The tests' chroot-and-namespaces runner: runs `argv` inside `rootfs`
/// the way a container engine would, without one: new mount, UTS, IPC and
/// PID namespaces (`unshare`, the program is PID 1 and dies with the
/// runner), its own /proc, the root changed to `rootfs` (`chroot`), the
/// host's network.
pub fn run_chrooted(rootfs: &Path, argv: &[&str]) -> Chrooted {
    // /proc as a runtime mounts it (glibc reads /proc/self/exe to expand
    // $ORIGIN), private to the new mount namespace.
    let proc_dir = rootfs.join("proc");
    std::fs::create_dir_all(&proc_dir).unwrap();
    let child = Command::new("unshare")
        .args([
            "--mount",
            "--uts",
            "--ipc",
            "--pid",
            "--fork",
            "--kill-child",
        ])
        .arg(format!("--mount-proc={}", proc_dir.display()))
        .arg("chroot")
        .arg(rootfs)
        .args(argv)
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("unshare runs");
    Chrooted(child)
}

impl Chrooted {
    /// Waits for the program to end (it must succeed); its output.
    pub fn wait_output(mut self) -> String {
        let mut out = String::new();
        if let Some(stdout) = self.0.stdout.as_mut() {
            stdout.read_to_string(&mut out).unwrap();
        }
        let status = self.0.wait().unwrap();
        assert!(status.success(), "{status}: {out}");
        out
    }
}

/// Every path of an image's flattened tree with what it is: kind, size or
/// link target, mode and owner.
pub fn file_list(image: &str) -> std::collections::BTreeMap<String, String> {
    use pare_image::{ImageRef, NodeKind, Platform, Source};
    let reference = ImageRef::parse(image).unwrap();
    let flat = Source::open(&reference, &Platform::default())
        .unwrap()
        .flatten()
        .unwrap();
    flat.tree
        .iter()
        .map(|(path, node)| {
            let what = match &node.kind {
                NodeKind::File(id) => format!("file {}", flat.tree.content(*id).size),
                NodeKind::Dir => "dir".to_string(),
                NodeKind::Symlink(target) => format!("symlink -> {target}"),
                other => format!("{other:?}"),
            };
            let mode = format!("{:o} {}:{}", node.mode, node.uid, node.gid);
            (format!("/{path}"), format!("{what} {mode}"))
        })
        .collect()
}

/// Syft without its update check (no network here).
pub fn syft(args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new("syft")
        .args(args)
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "syft {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The bytes of `member` from the layers of a `docker save` archive.
pub fn file_from_docker_archive(archive: &Path, member: &str) -> Vec<u8> {
    let open = || tar::Archive::new(std::fs::File::open(archive).unwrap());
    let mut manifest = String::new();
    let mut outer = open();
    for entry in outer.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_str() == Some("manifest.json") {
            entry.read_to_string(&mut manifest).unwrap();
        }
    }
    let manifest: Value = serde_json::from_str(&manifest).unwrap();
    let layers: Vec<String> = manifest[0]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    let mut found = None;
    let mut outer = open();
    for entry in outer.entries().unwrap() {
        let entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        if !layers.contains(&name) {
            continue;
        }
        let mut layer = tar::Archive::new(entry);
        for file in layer.entries().unwrap() {
            let mut file = file.unwrap();
            if file.path().unwrap().to_str() == Some(member) {
                let mut bytes = Vec::new();
                file.read_to_end(&mut bytes).unwrap();
                found = Some(bytes);
            }
        }
    }
    found.unwrap_or_else(|| panic!("{member} not in {}", archive.display()))
}

/// `GET path` on a loopback port (retried until the server listens);
/// the body of a 200 answer.
pub fn http_get(port: u16, path: &str) -> String {
    let mut stream = connect(port);
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    assert!(head.starts_with("HTTP/1.0 200"), "{head}");
    body.to_string()
}

/// A root folder at `root` holding host programs at the given places and
/// the C library and loader they need (nothing else: no ld.so.cache).
pub fn glibc_root(root: &Path, programs: &[(&str, &str)]) {
    let libc = [
        (
            "/lib/x86_64-linux-gnu/libc.so.6",
            "lib/x86_64-linux-gnu/libc.so.6",
        ),
        ("/lib64/ld-linux-x86-64.so.2", "lib64/ld-linux-x86-64.so.2"),
    ];
    for (from, to) in programs.iter().chain(libc.iter()) {
        std::fs::create_dir_all(root.join(to).parent().unwrap()).unwrap();
        std::fs::copy(from, root.join(to)).unwrap();
    }
}

/// A test image minified with `pare minify --static-only` and running in
/// the Docker Engine: the container and its image go when this is dropped.
pub struct ServedImage {
    /// `--explain`'s output of the minify.
    pub explained: String,
    /// The loopback port the container's port is published on.
    pub port: u16,
    /// The minified image's size in bytes, as `docker save` wrote it.
    pub bytes: u64,
    tagged: String,
    container: Option<Container>,
}

impl Drop for ServedImage {
    fn drop(&mut self) {
        drop(self.container.take());
        let _ = Command::new("docker")
            .args(["rmi", "-f", &self.tagged])
            .output();
    }
}

/// Minifies the test image `image` statically with `extra` options and
/// `--explain`, loads the result as `tagged`, and runs it with
/// `container_port` published on a loopback port (`docker run OPTIONS`).
/// None when the image or Docker is missing (a failure in CI).
pub fn serve_static_minified(
    image: &str,
    tagged: &str,
    container_port: u16,
    extra: &[&str],
    options: &[&str],
) -> Option<ServedImage> {
    docker()?;
    let archive = crate::common::test_image(image)?;
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("min.tar");
    let destination = format!("docker-archive:{}:{tagged}", out.display());
    let mut args = vec![
        "minify",
        "--static-only",
        archive.to_str().unwrap(),
        "-o",
        &destination,
        "--explain",
    ];
    args.extend_from_slice(extra);
    let explained = pare_ok(&args);
    let bytes = std::fs::metadata(&out).unwrap().len();
    run("docker", &["load", "-i", out.to_str().unwrap()]);
    let port = test_port();
    let mapping = format!("127.0.0.1:{port}:{container_port}");
    let mut command = vec!["run", "-d", "-p", &mapping];
    command.extend_from_slice(options);
    command.push(tagged);
    let id = run("docker", &command);
    let container = Container(String::from_utf8_lossy(&id.stdout).trim().to_string());
    Some(ServedImage {
        explained,
        port,
        bytes,
        tagged: tagged.to_string(),
        container: Some(container),
    })
}

impl ServedImage {
    /// The container's output so far (for failure messages).
    pub fn logs(&self) -> String {
        let Some(container) = &self.container else {
            return String::new();
        };
        let out = Command::new("docker")
            .args(["logs", &container.0])
            .output()
            .unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// The whole answer (status line, headers, body) to `GET path`,
    /// retried for 30 s until one comes (Docker's proxy accepts before
    /// the server listens); panics with the container's logs if none does.
    pub fn get(&self, path: &str) -> String {
        http_answer(self.port, path).unwrap_or_else(|| {
            panic!(
                "no answer to GET {path}; the container said:\n{}",
                self.logs()
            )
        })
    }

    /// The `--explain` line of `path`, which must be kept.
    pub fn explained(&self, path: &str) -> &str {
        self.explained
            .lines()
            .find(|l| l.split_whitespace().next() == Some(path))
            .unwrap_or_else(|| panic!("{path} was not kept:\n{}", self.explained))
    }
}

/// The whole answer (status line, headers, body) to `GET path` on a
/// loopback port, retried for 30 s until one comes (Docker's proxy
/// accepts, and resets, before the server listens); None if none does.
pub fn http_answer(port: u16, path: &str) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let attempt = TcpStream::connect(("127.0.0.1", port)).and_then(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(10)))?;
            write!(
                s,
                "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            )?;
            let mut text = String::new();
            s.read_to_string(&mut text)?;
            Ok(text)
        });
        match attempt {
            Ok(text) if !text.is_empty() => return Some(text),
            _ if Instant::now() > deadline => return None,
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// A package as the Syft parity tests compare it: type, name, version, PURL.
pub type PackageId = (String, String, String, String);

/// The packages (pare's `packages` or Syft's `artifacts`) of the given
/// types (all when `None`), as compared with Syft.
pub fn package_ids(
    packages: &Value,
    kinds: Option<&[&str]>,
) -> std::collections::BTreeSet<PackageId> {
    packages
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| kinds.is_none_or(|k| k.contains(&p["type"].as_str().unwrap_or(""))))
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap_or_default().to_string();
            (s("type"), s("name"), s("version"), s("purl"))
        })
        .collect()
}

/// pare's and Syft's packages are the same, but for the `allowed` ones
/// (each a difference the README documents).
pub fn assert_same_packages(
    what: &str,
    ours: &std::collections::BTreeSet<PackageId>,
    theirs: &std::collections::BTreeSet<PackageId>,
    allowed: impl Fn(&PackageId) -> bool,
) {
    let missing: Vec<_> = theirs.difference(ours).filter(|i| !allowed(i)).collect();
    let extra: Vec<_> = ours.difference(theirs).filter(|i| !allowed(i)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: Syft only {missing:#?}\npare only {extra:#?}"
    );
}
