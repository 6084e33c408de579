//! Syft's Java cataloger fixtures. Syft builds its jar fixtures from
//! source with Makefiles; what is committed here is only the small real
//! files inside them (manifests, `pom.properties`, `pom.xml`, JVM
//! `release` files; origin in `tests/data/README.md`). This test zips them
//! into archives (also nested ones, and broken ones), places them in a
//! root folder, catalogs it with pare as the folder and as an image packed
//! from it, and compares the Java packages (type, name, version, PURL,
//! and how often each is listed)
//! with what Syft 1.18 reports for that image, apart from [`ALLOWED`].
//! A missing `syft` skips the comparison locally and fails it under
//! `CI=true`; what does not need Syft is checked anyway.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;

mod common;

use common::{Id, id};

const KINDS: [&str; 3] = ["java-archive", "jenkins-plugin", "binary"];

/// Known differences from Syft: (PURL, reason). None today.
const ALLOWED: &[(&str, &str)] = &[];

fn fixture(relative: &str) -> Vec<u8> {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/syft-fixtures/java")
        .join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A zip of `files`; `stored` keeps entries uncompressed (as Spring Boot
/// stores nested jars).
fn zip_of(files: &[(&str, Vec<u8>)], stored: bool) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = if stored {
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored)
    } else {
        SimpleFileOptions::default()
    };
    for (name, bytes) in files {
        w.start_file(*name, options).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// The files of one of Syft's `jar-metadata` fixture folders, as entries.
fn metadata_entries(dir: &str, files: &[&str]) -> Vec<(&'static str, Vec<u8>)> {
    files
        .iter()
        .map(|f| {
            let name: &'static str = Box::leak(f.to_string().into_boxed_str());
            (name, fixture(&format!("jar-metadata/{dir}/{f}")))
        })
        .collect()
}

fn opensaml() -> Vec<u8> {
    let mut entries = metadata_entries(
        "opensaml-core-3.4.6",
        &[
            "META-INF/MANIFEST.MF",
            "META-INF/maven/org.opensaml/opensaml-core/pom.properties",
            "META-INF/maven/org.opensaml/opensaml-core/pom.xml",
        ],
    );
    entries.push((
        "org/opensaml/core/Version.class",
        b"\xca\xfe\xba\xbe".to_vec(),
    ));
    zip_of(&entries, false)
}

fn jenkins_gradle() -> Vec<u8> {
    zip_of(
        &metadata_entries("jenkins-plugins/gradle/2.11", &["META-INF/MANIFEST.MF"]),
        false,
    )
}

fn spring_instrumentation() -> Vec<u8> {
    zip_of(
        &metadata_entries(
            "spring-instrumentation-4.3.0-1.0",
            &["META-INF/MANIFEST.MF"],
        ),
        false,
    )
}

/// The root folder: archives at the paths images have them.
fn tree() -> Vec<(String, Vec<u8>)> {
    let manifest = |name: &str| fixture(&format!("manifest/{name}"));
    let pom = |name: &str| fixture(&format!("pom/{name}"));
    let lib = |mf: Vec<u8>, props: Vec<u8>| {
        zip_of(
            &[
                ("META-INF/MANIFEST.MF", mf),
                (
                    "META-INF/maven/org.anchore/example-java-app-maven/pom.properties",
                    props,
                ),
            ],
            false,
        )
    };
    let fat = zip_of(
        &[
            ("META-INF/MANIFEST.MF", manifest("extra-info")),
            ("BOOT-INF/lib/opensaml-core-3.4.6.jar", opensaml()),
            ("BOOT-INF/lib/gradle.hpi", jenkins_gradle()),
            (
                "BOOT-INF/lib/example-java-app-maven-0.1.0.jar",
                lib(manifest("standard-info"), pom("small.pom.properties")),
            ),
            ("BOOT-INF/lib/not-a-zip.jar", b"plain text".to_vec()),
        ],
        true,
    );
    let war = zip_of(
        &[
            ("META-INF/MANIFEST.MF", manifest("small")),
            (
                "WEB-INF/lib/spring-instrumentation-4.3.0-1.0.jar",
                spring_instrumentation(),
            ),
            (
                "WEB-INF/lib/example-java-app-maven.jar",
                lib(manifest("continuation"), pom("extra.pom.properties")),
            ),
        ],
        false,
    );
    let ear = zip_of(
        &[
            ("web.war", war.clone()),
            ("lib/opensaml-core-3.4.6.jar", opensaml()),
        ],
        false,
    );
    vec![
        ("opt/app/opensaml-core-3.4.6.jar".into(), opensaml()),
        ("opt/jenkins/plugins/gradle.jpi".into(), jenkins_gradle()),
        (
            "opt/newrelic/spring-instrumentation-4.3.0-1.0.jar".into(),
            spring_instrumentation(),
        ),
        ("srv/app-1.2.3.jar".into(), fat),
        ("srv/web-7.war".into(), war),
        ("srv/bundle.ear".into(), ear),
        (
            "usr/share/java/version-with-date.jar".into(),
            zip_of(
                &[("META-INF/MANIFEST.MF", manifest("version-with-date"))],
                false,
            ),
        ),
        (
            "usr/share/java/colons-1.0.jar".into(),
            lib(
                manifest("leading-space"),
                pom("colon-delimited.pom.properties"),
            ),
        ),
        (
            "usr/share/java/equals-in-values.jar".into(),
            lib(
                manifest("extra-empty-lines"),
                pom("equals-delimited-with-colons.pom.properties"),
            ),
        ),
        (
            "usr/share/java/corrupt.jar".into(),
            b"PK\x03\x04 not really".to_vec(),
        ),
        (
            "opt/dist/bundle-9.zip".into(),
            zip_of(
                &[
                    ("META-INF/MANIFEST.MF", manifest("standard-info")),
                    ("plugins/gradle.hpi", jenkins_gradle()),
                    ("lib/opensaml-core-3.4.6.jar", opensaml()),
                ],
                false,
            ),
        ),
        ("opt/dist/not-a-zip.zip".into(), b"plain".to_vec()),
        (
            "usr/lib/jvm/jdk-1.8-oracle-x64/release".into(),
            fixture("jvm-installs/oracle-jdk-se-8/usr/lib/jvm/jdk-1.8-oracle-x64/release"),
        ),
        (
            "usr/lib/jvm/jdk-1.8-oracle-x64/bin/javac".into(),
            fixture("jvm-installs/oracle-jdk-se-8/usr/lib/jvm/jdk-1.8-oracle-x64/bin/javac"),
        ),
        (
            "opt/jvm/openjdk/release".into(),
            fixture("jvm-installs/valid-post-jep223/jvm/openjdk/release"),
        ),
    ]
}

/// Each identity with how often it is listed (an archive nested in two
/// places is listed twice, by Syft too).
fn counted(ids: impl Iterator<Item = Id>) -> BTreeMap<Id, usize> {
    let mut out = BTreeMap::new();
    for id in ids {
        *out.entry(id).or_default() += 1;
    }
    out
}

fn ids(catalog: &pare_sbom::Catalog) -> BTreeMap<Id, usize> {
    counted(
        catalog
            .packages
            .iter()
            .filter(|p| KINDS.contains(&p.kind.as_str()))
            .map(common::package_id),
    )
}

fn syft_ids(artifacts: &[serde_json::Value]) -> BTreeMap<Id, usize> {
    counted(
        artifacts
            .iter()
            .filter(|a| KINDS.contains(&a["type"].as_str().unwrap_or("")))
            .map(common::artifact_id),
    )
}

#[test]
fn java_fixtures_match_syft() {
    let root = tempfile::tempdir().unwrap();
    for (path, bytes) in tree() {
        let target = root.path().join(&path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(&target, bytes).unwrap();
    }
    let cataloged = common::catalog_root(root.path());
    let (from_dir, from_image) = (&cataloged.from_dir, &cataloged.from_image);
    let counts = ids(from_dir);
    assert_eq!(ids(from_image), counts, "image and folder disagree");
    let pare: BTreeSet<Id> = counts.keys().cloned().collect();

    // Checked without Syft: what Syft's own tests expect of these files.
    for want in [
        id(
            "java-archive",
            "opensaml-core",
            "3.4.6",
            "pkg:maven/org.opensaml/opensaml-core@3.4.6",
        ),
        id(
            "jenkins-plugin",
            "gradle",
            "2.11",
            "pkg:maven/org.jenkins-ci.plugins/gradle@2.11",
        ),
        id(
            "binary",
            "jdk",
            "1.8.0_411-b25",
            "pkg:generic/oracle/jdk@1.8.0_411-b25",
        ),
        id(
            "binary",
            "openjdk",
            "21.0.4+7-LTS",
            "pkg:generic/oracle/openjdk@21.0.4%2B7-LTS?repository_url=https://github.com/adoptium/jdk21u.git",
        ),
    ] {
        assert!(pare.contains(&want), "{want:?} not in {pare:#?}");
    }
    // The newrelic instrumentation jar (Weave-Classes) is no package.
    assert!(!pare.iter().any(|p| p.1.contains("spring")), "{pare:#?}");
    for broken in ["corrupt.jar", "not-a-zip.jar", "not-a-zip.zip"] {
        assert!(
            from_dir.warnings.iter().any(|w| w.contains(broken)),
            "{broken}: {:#?}",
            from_dir.warnings
        );
    }

    let Some(artifacts) = common::syft_artifacts(&cataloged.archive) else {
        return;
    };
    let syft = syft_ids(&artifacts);
    eprintln!(
        "pare {} Java packages, Syft {}",
        counts.values().sum::<usize>(),
        syft.values().sum::<usize>()
    );
    let allowed = |id: &Id| ALLOWED.iter().any(|(purl, _)| *purl == id.3);
    let differ: Vec<_> = counts
        .keys()
        .chain(syft.keys())
        .filter(|id| counts.get(*id) != syft.get(*id) && !allowed(id))
        .map(|id| (id, counts.get(id), syft.get(id)))
        .collect();
    assert!(
        differ.is_empty(),
        "(package, pare's count, Syft's count) {differ:#?}\nwarnings {:#?}",
        from_dir.warnings
    );
    assert!(syft.len() >= 10, "{syft:#?}");
}
