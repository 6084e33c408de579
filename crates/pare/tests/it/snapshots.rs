//! Snapshots (insta) of every report format pare writes, so that a change in
//! any output shows up in review as a diff of `tests/it/snapshots/*.snap`.
//!
//! The input is a root folder assembled from committed real data (Syft's
//! dpkg, Python and npm fixtures, Debian's advisories and the PyPA records
//! of pare-vuln's tests), not a test image: the test images are built from
//! the live Debian mirror, so their package versions move with every
//! bookworm point release and an exact snapshot of them would fail on the
//! next machine for reasons unrelated to pare. Everything that could vary
//! between runs is pinned (SOURCE_DATE_EPOCH) or replaced: the temporary
//! folder's path becomes `[ROOT]`.
//!
//! After an intended change: `cargo insta review` (or `INSTA_UPDATE=always`
//! and inspect `git diff`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::common::pare;

/// A root folder with one package of each kind pare-sbom reads here and the
/// tools pare-audit names, from committed data.
struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    db: PathBuf,
}

fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

fn put(root: &Path, path: &str, bytes: &[u8], mode: u32) {
    let to = root.join(path);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::write(&to, bytes).unwrap();
    std::fs::set_permissions(&to, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn copy(root: &Path, path: &str, from: &str) {
    put(root, path, &std::fs::read(repo(from)).unwrap(), 0o644);
}

/// Debian 12's `/usr/lib/os-release` (base-files 12.4+deb12u5).
const OS_RELEASE: &str = r#"PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
"#;

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    put(&root, "usr/lib/os-release", OS_RELEASE.as_bytes(), 0o644);
    let dbs = "tests/data/package-dbs/syft__pkg__cataloger__debian__testdata__";
    copy(
        &root,
        "var/lib/dpkg/status.d/libsqlite3-0",
        &format!("{dbs}image-distroless-deb__var__lib__dpkg__status.d__libsqlite3-0"),
    );
    copy(
        &root,
        "var/lib/dpkg/status.d/coreutils",
        &format!("{dbs}var__lib__dpkg__status.d__coreutils-relationships"),
    );
    let python = "crates/pare-sbom/tests/data/syft-fixtures/python/dist-info";
    let site = "usr/lib/python3/dist-packages/Pygments-2.6.1.dist-info";
    for name in ["METADATA", "RECORD", "top_level.txt", "direct_url.json"] {
        copy(
            &root,
            &format!("{site}/{name}"),
            &format!("{python}/{name}"),
        );
    }
    copy(
        &root,
        "app/package.json",
        "crates/pare-sbom/tests/data/syft-fixtures/npm/pkg-json/package.json",
    );
    // Tools pare-audit names by file name in a program folder; the bytes do
    // not matter for those rules.
    put(&root, "bin/sh", b"#!placeholder\n", 0o755);
    put(&root, "usr/bin/apt-get", b"placeholder\n", 0o755);
    put(&root, "usr/bin/curl", b"placeholder\n", 0o755);
    put(&root, "usr/bin/passwd", b"placeholder\n", 0o4755);
    put(&root, "etc/world-writable.conf", b"x\n", 0o666);
    std::os::unix::fs::symlink("sh", root.join("bin/dash")).unwrap();

    let db = dir.path().join("vulns.db");
    let vuln_data = repo("crates/pare-vuln/tests/data");
    let out = pare()
        .args(["db", "import", "--db"])
        .arg(&db)
        .arg(vuln_data.join("debian-tracker/records"))
        .arg(vuln_data.join("debian-tracker/dsa"))
        .arg(vuln_data.join("pypa-osv"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Fixture {
        _dir: dir,
        root,
        db,
    }
}

/// pare's stdout for `args` on the fixture, with its path replaced.
fn output(fixture: &Fixture, args: &[&str]) -> String {
    let image = format!("dir:{}", fixture.root.display());
    let args: Vec<String> = args
        .iter()
        .map(|a| match *a {
            "IMAGE" => image.clone(),
            "DB" => fixture.db.display().to_string(),
            other => other.to_string(),
        })
        .collect();
    let out = pare()
        .args(&args)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    // 0, or 3 when a --fail-on threshold is met; never a failure.
    assert!(
        out.status.code() == Some(0),
        "pare {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout)
        .unwrap()
        .replace(&fixture.root.display().to_string(), "[ROOT]");
    redact_document_ids(&text)
}

/// The document UUID (CycloneDX serialNumber, SPDX namespace) is derived
/// from the image's name, here a temporary path: `[UUID]` in snapshots.
fn redact_document_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = ["urn:uuid:", "/spdx/"]
        .iter()
        .filter_map(|m| rest.find(m).map(|i| i + m.len()))
        .min()
    {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let id_len = 36;
        let is_uuid = rest.len() >= id_len
            && rest[..id_len]
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == '-');
        if is_uuid {
            out.push_str("[UUID]");
            rest = &rest[id_len..];
        }
    }
    out.push_str(rest);
    out
}

/// Every format of every reporting command, one snapshot each.
const CASES: &[(&str, &[&str])] = &[
    ("inspect_text", &["inspect", "IMAGE"]),
    ("inspect_json", &["inspect", "--format", "json", "IMAGE"]),
    ("sbom_table", &["sbom", "IMAGE"]),
    ("sbom_json", &["sbom", "--format", "json", "IMAGE"]),
    (
        "sbom_cyclonedx",
        &["sbom", "--format", "cyclonedx-json", "IMAGE"],
    ),
    ("sbom_spdx", &["sbom", "--format", "spdx-json", "IMAGE"]),
    ("audit_text", &["audit", "IMAGE"]),
    ("audit_json", &["audit", "--format", "json", "IMAGE"]),
    ("audit_sarif", &["audit", "--format", "sarif", "IMAGE"]),
    ("scan_table", &["scan", "--db", "DB", "IMAGE"]),
    (
        "scan_json",
        &["scan", "--db", "DB", "--format", "json", "IMAGE"],
    ),
    (
        "scan_sarif",
        &["scan", "--db", "DB", "--format", "sarif", "IMAGE"],
    ),
    (
        "scan_cyclonedx",
        &["scan", "--db", "DB", "--format", "cyclonedx-json", "IMAGE"],
    ),
];

#[test]
fn every_report_format_matches_its_snapshot() {
    let fixture = fixture();
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots");
    settings.bind(|| {
        for (name, args) in CASES {
            let text = output(&fixture, args);
            assert!(!text.trim().is_empty(), "{name}: no output");
            insta::assert_snapshot!(*name, text);
        }
    });
}

/// The snapshots say something only if the fixture holds what each
/// cataloger, rule and advisory source reads; checked without snapshots so
/// that an accepted snapshot cannot hide a fixture that lost its point.
#[test]
fn snapshot_fixture_exercises_every_kind_of_finding() {
    let fixture = fixture();
    let sbom: serde_json::Value =
        serde_json::from_str(&output(&fixture, &["sbom", "--format", "json", "IMAGE"])).unwrap();
    let text = sbom.to_string();
    for purl in [
        "pkg:deb/debian/libsqlite3-0@",
        "pkg:deb/debian/coreutils@",
        "pkg:pypi/pygments@2.6.1",
        "pkg:npm/",
    ] {
        assert!(text.contains(purl), "no {purl} in the fixture's SBOM");
    }
    let audit = output(&fixture, &["audit", "--format", "json", "IMAGE"]);
    for kind in ["shell", "package-manager", "setuid", "world-writable"] {
        assert!(audit.contains(kind), "no {kind} finding: {audit}");
    }
    let scan = output(
        &fixture,
        &["scan", "--db", "DB", "--format", "json", "IMAGE"],
    );
    assert!(scan.contains("PYSEC-"), "no PyPA finding: {scan}");
}
