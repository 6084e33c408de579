//! Java packages against Syft 1.18 (issue 14): on the `javaapp` test image
//! (a fat jar nesting Debian's library jars under `BOOT-INF/lib`, a war
//! nesting jars under `WEB-INF/lib`, Debian's `/usr/share/java`, an
//! unowned JRE `release` file) and on the `java` image (Debian's OpenJDK:
//! its own jars; its `release` file owned by the deb, so no JVM package),
//! by type, name, version and PURL, and by how many packages each lists.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::*;
use crate::require;

/// (type, name, version, PURL).
type Id = PackageId;

const KINDS: [&str; 3] = ["java-archive", "jenkins-plugin", "binary"];

/// Known differences from Syft: (image, PURL, reason). None today.
const ALLOWED: &[(&str, &str, &str)] = &[];

/// Each package identity with how often it is listed (a jar nested in two
/// archives is listed twice, as Syft does).
fn counted(packages: &Value) -> BTreeMap<Id, usize> {
    let mut out = BTreeMap::new();
    for p in packages.as_array().unwrap() {
        if !KINDS.contains(&p["type"].as_str().unwrap_or("")) {
            continue;
        }
        let s = |k: &str| p[k].as_str().unwrap_or_default().to_string();
        *out.entry((s("type"), s("name"), s("version"), s("purl")))
            .or_default() += 1;
    }
    out
}

fn compare(image: &str) -> BTreeMap<Id, usize> {
    let archive = test_image(image).expect("checked by the caller");
    let reference = format!("docker-archive:{}", archive.display());
    let ours: Value =
        serde_json::from_str(&pare_ok(&["sbom", "--format", "json", &reference])).unwrap();
    let ours = counted(&ours["packages"]);
    let theirs: Value =
        serde_json::from_slice(&syft(&["-q", &reference, "-o", "json"]).stdout).unwrap();
    let theirs = counted(&theirs["artifacts"]);
    let allowed = |id: &Id| {
        ALLOWED
            .iter()
            .any(|(i, purl, _)| *i == image && *purl == id.3)
    };
    let differ: Vec<_> = ours
        .keys()
        .chain(theirs.keys())
        .filter(|id| ours.get(*id) != theirs.get(*id) && !allowed(id))
        .map(|id| (id, ours.get(id), theirs.get(id)))
        .collect();
    assert!(
        differ.is_empty(),
        "{image}: (package, pare's count, Syft's count) {differ:#?}"
    );
    ours
}

#[test]
fn sbom_java_packages_match_syft_on_the_javaapp_image() {
    require!(test_image("javaapp"));
    require!(tool("syft"));
    let ours = compare("javaapp");
    // What the image was built to hold, so the test cannot pass on an
    // image (or a pare) that lost them.
    for (name, version, purl) in [
        ("app", "1.0.0", "pkg:maven/app/app@1.0.0"),
        ("webapp", "2.1", "pkg:maven/webapp/webapp@2.1"),
        (
            "commons-lang3",
            "3.12.0",
            "pkg:maven/org.apache.commons/commons-lang3@3.12.0",
        ),
        (
            "guava",
            "31.1-jre",
            "pkg:maven/com.google.guava/guava@31.1-jre",
        ),
        (
            "jackson-core",
            "2.14.1",
            "pkg:maven/com.fasterxml.jackson.core/jackson-core@2.14.1",
        ),
    ] {
        let id = (
            "java-archive".to_string(),
            name.into(),
            version.into(),
            purl.into(),
        );
        assert!(ours.contains_key(&id), "{id:?} not in {ours:#?}");
    }
    // slf4j-api: in /usr/share/java, BOOT-INF/lib and WEB-INF/lib.
    let slf4j = (
        "java-archive".to_string(),
        "slf4j-api".to_string(),
        "1.7.32".to_string(),
        "pkg:maven/org.slf4j/slf4j-api@1.7.32".to_string(),
    );
    assert_eq!(ours.get(&slf4j), Some(&3), "{ours:#?}");
    assert!(
        ours.keys().any(|id| id.0 == "binary" && id.1 == "openjdk"),
        "the unowned JRE release file: {ours:#?}"
    );
}

#[test]
fn sbom_java_packages_match_syft_on_the_java_image() {
    require!(test_image("java"));
    require!(tool("syft"));
    let ours = compare("java");
    assert!(
        ours.keys().any(|id| id.1 == "jrt-fs"),
        "OpenJDK's own jrt-fs.jar: {ours:#?}"
    );
    assert!(
        !ours.keys().any(|id| id.0 == "binary"),
        "Debian's OpenJDK release file is the deb's: {ours:#?}"
    );
}

/// Hostile archives: one over the size read (a sparse file: no disk
/// used), and one that is no zip. Each is a warning; the SBOM is still
/// written.
#[test]
fn sbom_warns_on_java_archives_it_does_not_read() {
    let root = tempfile::tempdir().unwrap();
    let big = std::fs::File::create(root.path().join("big-1.0.jar")).unwrap();
    big.set_len(300 << 20).unwrap();
    std::fs::write(root.path().join("corrupt-1.0.war"), b"PK\x03\x04 not a zip").unwrap();
    let reference = format!("dir:{}", root.path().display());
    let doc: Value =
        serde_json::from_str(&pare_ok(&["sbom", "--format", "json", &reference])).unwrap();
    let warnings: Vec<&str> = doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for name in ["/big-1.0.jar", "/corrupt-1.0.war"] {
        assert!(
            warnings.iter().any(|w| w.starts_with(name)),
            "{name}: {warnings:#?}"
        );
    }
    assert!(counted(&doc["packages"]).is_empty(), "{doc:#}");
}
