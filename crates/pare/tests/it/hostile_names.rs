//! Hostile names: file names, config strings and package-database names an
//! image chooses to attack the terminal or the file system of whoever runs
//! pare on it. Every text output must show them escaped as `ls -b` does,
//! JSON must carry them unchanged, SARIF URIs must be percent-encoded, and
//! no name read from a package database may become a path outside the
//! destination (in the image, or on the host with `--dockerfile`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::common::*;
use crate::require;

/// Setuid programs with hostile names, and how text output must show
/// them (written out by hand, independently of pare's escaping code).
const SETUID: &[(&str, &str)] = &[
    // Erase the line and return to its start: hides what came before.
    ("usr/bin/\x1b[2K\x1b[1Gok", "usr/bin/\\033[2K\\033[1Gok"),
    // A carriage return, to overwrite the HIGH line with something bland.
    (
        "usr/bin/su\rLOW   nothing here",
        "usr/bin/su\\rLOW   nothing here",
    ),
    // A line feed, to fake a row of its own.
    ("usr/bin/x\nLOW   fake-row", "usr/bin/x\\nLOW   fake-row"),
    // A window-title sequence ended by BEL, and a lone DEL.
    ("usr/bin/\x1b]0;owned\x07t", "usr/bin/\\033]0;owned\\at"),
    ("usr/bin/del\x7f", "usr/bin/del\\177"),
    // The C1 control CSI (U+009B, bytes C2 9B), then SGR red.
    ("usr/bin/csi\u{9b}31m", "usr/bin/csi\\302\\23331m"),
    // A right-to-left override (Trojan Source).
    ("usr/bin/\u{202e}txt.exe", "usr/bin/\\342\\200\\256txt.exe"),
    // Printable, but special in URIs and for escaping itself.
    ("usr/bin/my tool#1", "usr/bin/my tool#1"),
    ("usr/bin/back\\slash", "usr/bin/back\\\\slash"),
];

/// Package names in the dpkg database that are not file names. Each is
/// made so that `info/NAME.md5sums`, resolved inside the image (where `..`
/// stops at the root), is a real md5sums file listing the entry point: were
/// names used as paths, each package would own a kept file and get a
/// `status.d/NAME` entry. On the host, under the `--dockerfile` context's
/// `root/`, the `../` counts climb to the Dockerfile's folder (6), the work
/// folder above it (7), the snapshotted parent (8) and the temporary
/// folder above that (9), then write `var/lib/dpkg/info/pwned-N` there.
const HOSTILE_PACKAGES: &[&str] = &[
    "../../../../../../var/lib/dpkg/info/pwned-6",
    "../../../../../../../var/lib/dpkg/info/pwned-7",
    "../../../../../../../../var/lib/dpkg/info/pwned-8",
    "../../../../../../../../../var/lib/dpkg/info/pwned-9",
    "sub/../../../../../../../../../var/lib/dpkg/info/pwned-s",
    "/pwned-abs",
    "-rf",
    "evil\x1b[31mred",
];

/// The md5sums files the hostile names above lead to, in the image.
const HOSTILE_MD5SUMS: &[&str] = &[
    "var/lib/dpkg/info/pwned-6.md5sums",
    "var/lib/dpkg/info/pwned-7.md5sums",
    "var/lib/dpkg/info/pwned-8.md5sums",
    "var/lib/dpkg/info/pwned-9.md5sums",
    "var/lib/dpkg/info/pwned-s.md5sums",
    "var/lib/dpkg/info/pwned-abs.md5sums",
    "var/lib/dpkg/info/-rf.md5sums",
    "var/lib/dpkg/info/evil\x1b[31mred.md5sums",
];

const MD5SUMS: &str = "d41d8cd98f00b204e9800998ecf8427e  app/run\n";

/// One entry of a layer, its name written into the header byte for byte.
enum Entry {
    File(String, u32, Vec<u8>),
    Dir(String),
    Sym(String, String),
}

fn file(name: &str, mode: u32, data: &[u8]) -> Entry {
    Entry::File(name.to_string(), mode, data.to_vec())
}

fn layer(entries: &[Entry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for entry in entries {
        let (name, kind, mode, data, link) = match entry {
            Entry::File(n, m, d) => (n, tar::EntryType::Regular, *m, d.as_slice(), None),
            Entry::Dir(n) => (n, tar::EntryType::Directory, 0o755, &[][..], None),
            Entry::Sym(n, t) => (n, tar::EntryType::Symlink, 0o777, &[][..], Some(t)),
        };
        let mut h = tar::Header::new_gnu();
        let bytes = name.as_bytes();
        assert!(bytes.len() < 100, "test names stay short: {name:?}");
        h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
        if let Some(link) = link {
            h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The image config: `runtime` as its `config`, a hostile history line.
fn config(layer: &[u8], runtime: Value) -> Vec<u8> {
    json!({
        "architecture": "amd64",
        "os": "linux",
        "config": runtime,
        "history": [{"created_by": "/bin/sh -c #(nop) \x1b[8mhidden\x1b[0m\r\nADD x"}],
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", sha(layer))]},
    })
    .to_string()
    .into_bytes()
}

/// A `docker save` archive of one uncompressed layer.
fn docker_archive(path: &Path, layer: &[u8], runtime: Value) {
    let config = config(layer, runtime);
    let config_name = format!("{}.json", sha(&config));
    let layer_name = format!("{}/layer.tar", sha(layer));
    let manifest =
        json!([{"Config": config_name, "RepoTags": ["hostile:1"], "Layers": [layer_name]}]);
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    for (name, data) in [
        (config_name.as_str(), config.as_slice()),
        (layer_name.as_str(), layer),
        ("manifest.json", manifest.to_string().as_bytes()),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_path(name).unwrap();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.finish().unwrap();
}

/// An OCI image layout of one uncompressed layer.
fn oci_layout(dir: &Path, layer: &[u8], runtime: Value) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8], media_type: &str| {
        std::fs::write(blobs.join(sha(bytes)), bytes).unwrap();
        json!({"mediaType": media_type, "digest": format!("sha256:{}", sha(bytes)), "size": bytes.len()})
    };
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": put(&config(layer, runtime), "application/vnd.oci.image.config.v1+json"),
        "layers": [put(layer, "application/vnd.oci.image.layer.v1.tar")],
    });
    let manifest = put(
        manifest.to_string().as_bytes(),
        "application/vnd.oci.image.manifest.v1+json",
    );
    let index = json!({"schemaVersion": 2, "manifests": [manifest]});
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

/// The dpkg status: `good` owns the entry point, and so (through info
/// files placed where their names lead) does every hostile package.
fn dpkg_entries() -> Vec<Entry> {
    let mut status = String::from(
        "Package: good\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n\n\
         Package: good-arch\nStatus: install ok installed\nArchitecture: ../../../../../../arch-pwned\nVersion: 1\n\n",
    );
    for name in HOSTILE_PACKAGES {
        status.push_str(&format!(
            "Package: {name}\nStatus: install ok installed\nVersion: 1\n\n"
        ));
    }
    let mut entries = vec![
        Entry::Dir("var/lib/dpkg/info".into()),
        Entry::Dir("var/lib/dpkg/info/sub".into()),
        file("var/lib/dpkg/status", 0o644, status.as_bytes()),
        file("var/lib/dpkg/info/good.md5sums", 0o644, MD5SUMS.as_bytes()),
    ];
    for path in HOSTILE_MD5SUMS {
        entries.push(file(path, 0o644, MD5SUMS.as_bytes()));
    }
    entries
}

/// The hostile image: setuid files with hostile names (large, so that
/// `inspect` lists them), an entry point, a dpkg database, a looping link.
fn hostile_layer() -> Vec<u8> {
    let mut entries = vec![
        Entry::Dir("usr".into()),
        Entry::Dir("usr/bin".into()),
        Entry::Dir("app".into()),
        file("app/run", 0o755, b"not an ELF file, run as is\n"),
        Entry::Sym("app/loop".into(), "/app/loop".into()),
        Entry::Sym("app/a".into(), "b".into()),
        Entry::Sym("app/b".into(), "a".into()),
    ];
    for (name, _) in SETUID {
        entries.push(file(name, 0o4755, &[b'x'; 4096]));
    }
    entries.extend(dpkg_entries());
    layer(&entries)
}

fn hostile_runtime() -> Value {
    json!({
        "Entrypoint": ["/app/run"],
        "Env": ["PATH=/usr/bin", "TERM_TRICK=\x1b[41m\x1bc"],
        "User": "0\x1b[2J",
        "WorkingDir": "/app",
    })
}

/// Bytes a terminal would act on, found in `bytes` (line feeds excepted).
fn raw_controls(bytes: &[u8]) -> Vec<char> {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

/// Runs pare, asserting the exit status and that neither stream holds a
/// raw control character; returns (stdout, stderr).
fn run_pare(args: &[&str], status: i32) -> (String, String) {
    let out: Output = pare().args(args).output().expect("pare runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(
        out.status.code(),
        Some(status),
        "pare {args:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert_eq!(
        raw_controls(&out.stdout),
        Vec::<char>::new(),
        "stdout of {args:?}: {stdout}"
    );
    assert_eq!(
        raw_controls(&out.stderr),
        Vec::<char>::new(),
        "stderr of {args:?}: {stderr}"
    );
    (stdout, stderr)
}

/// The hostile image in both forms: (docker-archive:…, oci:…).
fn hostile_images(work: &Path) -> [String; 2] {
    hostile_images_with(work, hostile_runtime())
}

/// The hostile image with a config `runtime` (minify refuses a hostile
/// config for its Dockerfile, a check of its own).
fn hostile_images_with(work: &Path, runtime: Value) -> [String; 2] {
    let layer = hostile_layer();
    let archive = work.join("hostile.tar");
    docker_archive(&archive, &layer, runtime.clone());
    let layout = work.join("hostile-oci");
    oci_layout(&layout, &layer, runtime);
    [
        format!("docker-archive:{}", archive.display()),
        format!("oci:{}", layout.display()),
    ]
}

#[test]
fn inspect_text_escapes_names_and_config_json_keeps_them() {
    let work = tempfile::tempdir().unwrap();
    for image in hostile_images(work.path()) {
        let (text, _) = run_pare(&["inspect", "--top", "50", &image], 0);
        for (_, escaped) in SETUID {
            assert!(text.contains(&format!("/{escaped}\n")), "{escaped}: {text}");
        }
        for escaped in [
            "TERM_TRICK=\\033[41m\\033c",
            "User        0\\033[2J",
            "\\033[8mhidden\\033[0m\\r\\nADD x",
        ] {
            assert!(text.contains(escaped), "{escaped}: {text}");
        }
        // JSON carries the names exactly (serde escapes them as JSON).
        let (json, _) = run_pare(&["inspect", "--top", "50", "--format", "json", &image], 0);
        let json: Value = serde_json::from_str(&json).unwrap();
        let paths: BTreeSet<&str> = json["largest_files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        for (raw, _) in SETUID {
            assert!(paths.contains(format!("/{raw}").as_str()), "{raw:?}");
        }
        assert_eq!(json["config"]["user"], "0\x1b[2J");
    }
}

#[test]
fn audit_text_shows_every_setuid_line_escaped() {
    let work = tempfile::tempdir().unwrap();
    for image in hostile_images(work.path()) {
        let (text, _) = run_pare(&["audit", &image], 0);
        // One HIGH setuid row per file, each on a line of its own: a CR or
        // LF in a name can neither hide a row nor fake one.
        let high: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("HIGH") && l.contains("setuid"))
            .collect();
        assert_eq!(high.len(), SETUID.len(), "{text}");
        for (_, escaped) in SETUID {
            assert!(
                high.iter().any(|l| l.contains(&format!("/{escaped}"))),
                "{escaped}: {text}"
            );
        }
        assert!(!text.lines().any(|l| l.starts_with("LOW")), "{text}");

        let (json, _) = run_pare(&["audit", "--format", "json", &image], 0);
        let json: Value = serde_json::from_str(&json).unwrap();
        let paths: BTreeSet<&str> = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "setuid")
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        let want: BTreeSet<String> = SETUID.iter().map(|(raw, _)| format!("/{raw}")).collect();
        assert_eq!(paths, want.iter().map(String::as_str).collect());

        // The --fail-on note and exit status 3 as usual.
        let (_, stderr) = run_pare(&["audit", "--fail-on", "setuid", &image], 3);
        assert!(
            stderr.contains(&format!("{} findings of kind setuid", SETUID.len())),
            "{stderr}"
        );
    }
}

/// `%XX` decoded; `None` for a character a URI may not hold raw or a
/// malformed escape.
fn percent_decode(uri: &str) -> Option<String> {
    let mut bytes = Vec::new();
    let mut rest = uri.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            bytes.push(b);
            rest = tail;
        } else {
            return None;
        }
    }
    String::from_utf8(bytes).ok()
}

fn sarif(image: &str, out: &Path) -> Value {
    run_pare(
        &[
            "audit",
            "--format",
            "sarif",
            "-o",
            out.to_str().unwrap(),
            image,
        ],
        0,
    );
    serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap()
}

#[test]
fn sarif_uris_are_percent_encoded() {
    let work = tempfile::tempdir().unwrap();
    let [archive, _] = hostile_images(work.path());
    let sarif = sarif(&archive, &work.path().join("out.sarif"));
    let uris: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(uris.contains(&"usr/bin/my%20tool%231"), "{uris:?}");
    assert!(
        uris.contains(&"usr/bin/su%0DLOW%20%20%20nothing%20here"),
        "{uris:?}"
    );
    let decoded: BTreeSet<String> = uris
        .iter()
        .map(|u| percent_decode(u).unwrap_or_else(|| panic!("not percent-encoded: {u:?}")))
        .collect();
    for (raw, _) in SETUID {
        assert!(decoded.contains(*raw), "{raw:?} not among {decoded:?}");
    }
}

#[test]
fn sarif_with_hostile_names_is_valid_against_the_official_schema() {
    require!(jsonschema_available());
    let work = tempfile::tempdir().unwrap();
    let [archive, _] = hostile_images(work.path());
    let out = work.path().join("out.sarif");
    sarif(&archive, &out);
    let schema = schemas().join("sarif-schema-2.1.0.json");
    assert!(validate(&schema, &out), "SARIF invalid");
}

#[test]
fn sbom_skips_packages_whose_names_are_not_file_names() {
    let work = tempfile::tempdir().unwrap();
    let [archive, _] = hostile_images(work.path());
    let (table, stderr) = run_pare(&["sbom", &archive], 0);
    let names: Vec<&str> = table
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names, ["good"], "{table}");
    let warnings: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        warnings.len(),
        HOSTILE_PACKAGES.len() + 1,
        "one warning a skipped record: {stderr}"
    );
    assert!(
        warnings
            .iter()
            .all(|w| w.starts_with("pare: warning: /var/lib/dpkg/status:"))
    );
    assert!(
        stderr.contains("Package \"evil\\033[31mred\" holds U+001B; record skipped"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Architecture \"../../../../../../arch-pwned\" starts with '.'"),
        "{stderr}"
    );
}

/// Every path below `dir` (relative), folders included.
fn snapshot(dir: &Path) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.is_symlink() {
                stack.push(path.clone());
            }
            found.insert(path.strip_prefix(dir).unwrap().to_path_buf());
        }
    }
    found
}

#[test]
fn minify_never_turns_a_package_name_into_a_path() {
    // tmp/parent/work/out/Dockerfile: the hostile names aim at out/,
    // work/, parent/ (snapshotted) and tmp/ (checked by name).
    let tmp = tempfile::tempdir().unwrap();
    let parent = tmp.path().join("parent");
    let work = parent.join("work");
    let out = work.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let [archive, _] = hostile_images_with(
        &work,
        json!({"Entrypoint": ["/app/run"], "WorkingDir": "/app"}),
    );
    let before = snapshot(&parent);
    let dest = out.join("min.tar");
    let dockerfile = out.join("Dockerfile");
    let (text, stderr) = run_pare(
        &[
            "minify",
            "--static-only",
            &archive,
            "-o",
            &format!("docker-archive:{}", dest.display()),
            "--dockerfile",
            dockerfile.to_str().unwrap(),
        ],
        0,
    );
    assert!(text.contains("wrote "), "{text}");
    assert_eq!(
        stderr.lines().count(),
        HOSTILE_PACKAGES.len() + 1,
        "one warning a skipped record: {stderr}"
    );

    // Only the destination, the Dockerfile and its context are new.
    let after = snapshot(&parent);
    let new: Vec<String> = after
        .difference(&before)
        .map(|p| p.display().to_string())
        .collect();
    let context = "work/out/Dockerfile.context";
    let want: Vec<String> = [
        "work/out/Dockerfile",
        context,
        &format!("{context}/keep.list"),
        &format!("{context}/root"),
        &format!("{context}/root/var"),
        &format!("{context}/root/var/lib"),
        &format!("{context}/root/var/lib/dpkg"),
        &format!("{context}/root/var/lib/dpkg/status.d"),
        &format!("{context}/root/var/lib/dpkg/status.d/good"),
        &format!("{context}/root/var/lib/dpkg/status.d/good.md5sums"),
        "work/out/min.tar",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(new, want);
    assert!(!tmp.path().join("var").exists());
    assert!(!Path::new("/pwned-abs").exists());

    // In the image, status.d holds only the good package.
    let files = file_list(&format!("docker-archive:{}", dest.display()));
    let status_d: Vec<&str> = files
        .keys()
        .filter_map(|p| p.strip_prefix("/var/lib/dpkg/status.d/"))
        .collect();
    assert_eq!(status_d, ["good", "good.md5sums"]);
    assert!(!files.keys().any(|p| p.contains("pwned")), "{files:?}");
}

#[test]
fn a_looping_entry_point_is_named_as_a_loop() {
    let work = tempfile::tempdir().unwrap();
    let [archive, _] = hostile_images(work.path());
    for (entrypoint, looping) in [("/app/loop", "/app/loop"), ("./a", "/app/a")] {
        let dest = work.path().join("min.tar");
        let (_, stderr) = run_pare(
            &[
                "minify",
                "--static-only",
                &archive,
                "-o",
                &format!("docker-archive:{}", dest.display()),
                "--entrypoint",
                entrypoint,
            ],
            1,
        );
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        assert!(lines[0].starts_with("pare: error: "), "{stderr}");
        assert!(
            lines[0].contains(&format!("{looping} is a symlink loop")),
            "{stderr}"
        );
        assert!(!lines[0].contains("not in the image"), "{stderr}");
        assert!(!dest.exists());
    }
}

#[test]
fn an_error_quoting_a_hostile_name_stays_one_escaped_line() {
    let work = tempfile::tempdir().unwrap();
    let archive = work.path().join("missing-entry.tar");
    let layer = layer(&[file("app/run", 0o755, b"x")]);
    docker_archive(
        &archive,
        &layer,
        json!({"Entrypoint": ["/app/\x1b]0;owned\x07\r\nrun"]}),
    );
    let (_, stderr) = run_pare(
        &[
            "minify",
            "--static-only",
            &format!("docker-archive:{}", archive.display()),
            "-o",
            &format!("docker-archive:{}", work.path().join("min.tar").display()),
        ],
        1,
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("pare: error: "), "{stderr}");
    assert!(
        lines[0].contains("entry point \"/app/\\033]0;owned\\a\\r\\nrun\" is not in the image"),
        "{stderr}"
    );
}

#[test]
fn a_hostile_config_refused_for_the_dockerfile_is_one_escaped_line() {
    let work = tempfile::tempdir().unwrap();
    let [archive, _] = hostile_images(work.path());
    let out = work.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let (_, stderr) = run_pare(
        &[
            "minify",
            "--static-only",
            &archive,
            "-o",
            &format!("docker-archive:{}", out.join("min.tar").display()),
            "--dockerfile",
            out.join("Dockerfile").to_str().unwrap(),
        ],
        1,
    );
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("pare: warning: "))
        .collect();
    assert_eq!(
        errors,
        ["pare: error: the image's user \"0\\033[2J\" cannot be written to a Dockerfile safely"]
    );
    // Refused before anything was written.
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
}
