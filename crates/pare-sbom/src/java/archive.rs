//! One Java archive (a zip), and the archives nested in it, read from
//! memory the way Syft 1.18's `archive_parser.go` reads them:
//!
//! * the main package comes from `META-INF/MANIFEST.MF` (none without
//!   one, none with two, none with a `Weave-Classes` entry): its name and
//!   version from the `pom.properties` whose artifact matches the file
//!   name (with its `pom.xml` beside it, if any), else from the manifest
//!   and the file name;
//! * every other `pom.properties` (with artifact and version) is a package
//!   of its own, unless it names the main package again, which then takes
//!   its name, version and group;
//! * nested archives (`*.jar`, `*.war`… anywhere inside) are read the same
//!   way, their packages added.
//!
//! Bounds (hostile archives): nesting depth, bytes of one metadata file,
//! bytes of one nested archive and all bytes inflated for one top-level
//! archive together. Past a bound, or for a malformed zip, a warning is
//! written and the rest is still read.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};

use zip::ZipArchive;

use super::filename::ArchiveFilename;
use super::group::group_id;
use super::manifest::{self, Manifest};
use super::pom::{self, PomProject, PomProperties};
use crate::PackageType;
use crate::purl;

/// The extensions Syft reads as Java archives (`archiveFormatGlobs`).
pub const EXTENSIONS: [&str; 10] = [
    ".jar", ".war", ".ear", ".par", ".sar", ".nar", ".jpi", ".hpi", ".kar", ".lpkg",
];

/// Whether a path names a Java archive (case-sensitive, as Syft's globs).
pub fn is_archive_name(path: &str) -> bool {
    EXTENSIONS.iter().any(|ext| path.ends_with(ext))
}

/// What may be read out of one top-level archive.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// Archives inside archives, levels below the top one.
    pub depth: usize,
    /// Bytes of one manifest, pom.properties or pom.xml.
    pub metadata_bytes: u64,
    /// Bytes of one nested archive (held in memory while it is read).
    pub nested_bytes: u64,
    /// Bytes inflated for one top-level archive, nested ones included.
    pub total_bytes: u64,
}

/// Real archives stay far inside these: a Spring Boot fat jar nests one
/// level, its libraries are a few MiB, metadata files a few KiB.
pub const BOUNDS: Bounds = Bounds {
    depth: 8,
    metadata_bytes: 4 << 20,
    nested_bytes: 256 << 20,
    total_bytes: 1 << 30,
};

/// A package found in an archive, ready for the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub name: String,
    pub version: String,
    pub kind: PackageType,
    pub purl: String,
    /// `archive.jar:BOOT-INF/lib/inner.jar`, as Syft's virtual path.
    pub virtual_path: String,
}

/// Everything read from one top-level archive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    pub packages: Vec<Found>,
    pub warnings: Vec<String>,
}

/// A package while its archive is read (Syft's package + JavaArchive
/// metadata, the parts that decide names and PURLs).
#[derive(Clone, Debug)]
struct JavaPackage {
    name: String,
    version: String,
    kind: PackageType,
    virtual_path: String,
    manifest: Option<Manifest>,
    properties: Option<PomProperties>,
    project: Option<PomProject>,
}

impl JavaPackage {
    fn group(&self) -> String {
        group_id(
            &self.name,
            self.properties.as_ref(),
            self.project.as_ref(),
            self.manifest.as_ref(),
        )
    }

    /// Syft's `finalizePackage`: the PURL (the name stands in for a
    /// missing group), and Jenkins plugins told by their group.
    fn finish(self) -> Found {
        let mut group = self.group();
        if group.is_empty() {
            group = self.name.clone();
        }
        let purl = purl::build("maven", Some(&group), &self.name, &self.version, &[]);
        let kind = if purl.contains("io.jenkins.plugins") || purl.contains("org.jenkins-ci.plugins")
        {
            PackageType::JenkinsPlugin
        } else {
            self.kind
        };
        Found {
            name: self.name,
            version: self.version,
            kind,
            purl,
            virtual_path: self.virtual_path,
        }
    }
}

/// Reads the archive whose bytes are `bytes`, at `virtual_path` (a path,
/// or `outer:inner` for nested ones).
pub fn read(virtual_path: &str, bytes: &[u8], bounds: &Bounds) -> Findings {
    let mut findings = Findings::default();
    let mut budget = bounds.total_bytes;
    read_nested(
        virtual_path,
        bytes,
        0,
        true,
        bounds,
        &mut budget,
        &mut findings,
    );
    findings
}

/// Reads the Java archives inside a plain zip (`*.zip`, Syft's
/// zip-wrapped archives, searched by default); the zip itself is no
/// package.
pub fn read_wrapped(virtual_path: &str, bytes: &[u8], bounds: &Bounds) -> Findings {
    let mut findings = Findings::default();
    let mut budget = bounds.total_bytes;
    read_nested(
        virtual_path,
        bytes,
        0,
        false,
        bounds,
        &mut budget,
        &mut findings,
    );
    findings
}

/// Reads one archive; `own` is whether it may be a package itself (false
/// for a zip that only wraps archives).
fn read_nested(
    virtual_path: &str,
    bytes: &[u8],
    depth: usize,
    own: bool,
    bounds: &Bounds,
    budget: &mut u64,
    findings: &mut Findings,
) {
    let mut archive = match ZipArchive::new(Cursor::new(bytes)) {
        Ok(a) => a,
        Err(e) => {
            findings
                .warnings
                .push(format!("{virtual_path}: not a readable Java archive: {e}"));
            return;
        }
    };
    let mut reader = Reader {
        archive: &mut archive,
        budget,
        warnings: Vec::new(),
    };
    // Names as Syft's zip manifest holds them: the last entry of a name wins.
    let entries: BTreeMap<String, usize> = reader
        .archive
        .file_names_raw()
        .enumerate()
        .map(|(i, name)| (String::from_utf8_lossy(name).into_owned(), i))
        .collect();
    // The file name Syft derives names from: the last element of the
    // virtual path.
    let file = ArchiveFilename::new(virtual_path.rsplit(':').next().unwrap_or(virtual_path));
    let kind = file.kind().unwrap_or(PackageType::JavaArchive);

    let mut packages = Vec::new();
    let (properties, projects) = if own {
        (
            properties_by_dir(&mut reader, &entries, bounds),
            projects_by_dir(&mut reader, &entries, bounds),
        )
    } else {
        Default::default()
    };
    let main = if own {
        main_package(
            &mut reader,
            &entries,
            &properties,
            &projects,
            virtual_path,
            &file,
            kind,
            bounds,
        )
    } else {
        Ok(None)
    };
    match main {
        Err(e) => {
            findings.warnings.push(format!("{virtual_path}: {e}"));
            findings.warnings.extend(
                reader
                    .warnings
                    .drain(..)
                    .map(|w| format!("{virtual_path}: {w}")),
            );
            return;
        }
        Ok(None) => {}
        Ok(Some(mut main)) => {
            for (dir, props) in &properties {
                let project = projects.get(dir).cloned();
                if let Some(aux) = maven_package(props, project, &mut main, virtual_path) {
                    packages.push(aux.finish());
                }
            }
            packages.insert(0, main.finish());
        }
    }

    let nested: Vec<(&String, usize)> = entries
        .iter()
        .filter(|(name, _)| is_archive_name(name))
        .map(|(n, &i)| (n, i))
        .collect();
    let mut inner = Vec::new();
    if !nested.is_empty() && depth >= bounds.depth {
        reader.warnings.push(format!(
            "archives nested deeper than {} levels are not read",
            bounds.depth
        ));
    } else {
        for (name, index) in nested {
            match reader.entry(index, bounds.nested_bytes) {
                Ok(Some(bytes)) => inner.push((format!("{virtual_path}:{name}"), bytes)),
                Ok(None) => {}
                Err(e) => reader.warnings.push(format!("{name}: {e}")),
            }
        }
    }
    let mut warnings = std::mem::take(&mut reader.warnings);
    drop(reader);
    findings.packages.extend(packages);
    findings
        .warnings
        .extend(warnings.drain(..).map(|w| format!("{virtual_path}: {w}")));
    for (path, bytes) in inner {
        read_nested(&path, &bytes, depth + 1, true, bounds, budget, findings);
    }
}

/// Reads entries within the byte budget.
struct Reader<'a, 'b> {
    archive: &'a mut ZipArchive<Cursor<&'b [u8]>>,
    budget: &'a mut u64,
    warnings: Vec<String>,
}

impl Reader<'_, '_> {
    /// The inflated bytes of entry `index`, at most `limit` of them;
    /// `None` for a folder.
    fn entry(&mut self, index: usize, limit: u64) -> Result<Option<Vec<u8>>, String> {
        let mut file = self.archive.by_index(index).map_err(|e| e.to_string())?;
        if file.is_dir() {
            return Ok(None);
        }
        let by_budget = *self.budget < limit;
        let limit = limit.min(*self.budget);
        let mut bytes = Vec::with_capacity(file.size().min(limit).min(1 << 20) as usize);
        let read = (&mut file)
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())? as u64;
        *self.budget -= read.min(*self.budget);
        if read > limit {
            return Err(if by_budget {
                "the archive inflates to more bytes than are read from one archive".to_string()
            } else {
                format!("larger than {limit} bytes, not read")
            });
        }
        Ok(Some(bytes))
    }

    /// An entry as text, a warning when it cannot be read.
    fn text(&mut self, name: &str, index: usize, limit: u64) -> Option<String> {
        match self.entry(index, limit) {
            Ok(bytes) => bytes.map(|b| String::from_utf8_lossy(&b).into_owned()),
            Err(e) => {
                self.warnings.push(format!("{name}: {e}"));
                None
            }
        }
    }
}

/// `/`-led, as Syft matches entry names.
fn normalized(name: &str) -> String {
    if name.starts_with('/') {
        name.to_string()
    } else {
        format!("/{name}")
    }
}

/// Go's `path.Dir` of an entry name, for pairing pom.properties with the
/// pom.xml beside it.
fn dir_of(name: &str) -> String {
    match name.rfind('/') {
        Some(0) => "/".to_string(),
        Some(i) => name[..i].to_string(),
        None => ".".to_string(),
    }
}

/// Every `*pom.properties` with an artifact and a version, by folder.
fn properties_by_dir(
    reader: &mut Reader,
    entries: &BTreeMap<String, usize>,
    bounds: &Bounds,
) -> BTreeMap<String, PomProperties> {
    let mut out = BTreeMap::new();
    for (name, &index) in entries
        .iter()
        .filter(|(n, _)| n.ends_with("pom.properties"))
    {
        let Some(text) = reader.text(name, index, bounds.metadata_bytes) else {
            continue;
        };
        match pom::parse_properties(&text) {
            Ok(p) if !p.version.is_empty() && !p.artifact_id.is_empty() => {
                out.insert(dir_of(name), p);
            }
            Ok(_) => {}
            Err(e) => reader.warnings.push(format!("{name}: {e}")),
        }
    }
    out
}

/// Every `*pom.xml` that reads, by folder.
fn projects_by_dir(
    reader: &mut Reader,
    entries: &BTreeMap<String, usize>,
    bounds: &Bounds,
) -> BTreeMap<String, PomProject> {
    let mut out = BTreeMap::new();
    for (name, &index) in entries.iter().filter(|(n, _)| n.ends_with("pom.xml")) {
        let Some(text) = reader.text(name, index, bounds.metadata_bytes) else {
            continue;
        };
        match pom::parse_xml(&text) {
            Some(p) => {
                out.insert(dir_of(name), p);
            }
            None => reader
                .warnings
                .push(format!("{name}: not a readable pom.xml")),
        }
    }
    out
}

/// Syft's `artifactIDMatchesFilename`.
fn artifact_matches_filename(artifact: &str, file_name: &str, artifacts: &BTreeSet<&str>) -> bool {
    if artifact.is_empty() || file_name.is_empty() {
        return false;
    }
    if artifacts.contains(file_name) {
        return artifact == file_name;
    }
    artifact.starts_with(file_name) || file_name.ends_with(artifact)
}

/// The package the manifest stands for; `Ok(None)` when there is none.
#[allow(clippy::too_many_arguments)]
fn main_package(
    reader: &mut Reader,
    entries: &BTreeMap<String, usize>,
    properties: &BTreeMap<String, PomProperties>,
    projects: &BTreeMap<String, PomProject>,
    virtual_path: &str,
    file: &ArchiveFilename,
    kind: PackageType,
    bounds: &Bounds,
) -> Result<Option<JavaPackage>, String> {
    let manifests: Vec<(&String, usize)> = entries
        .iter()
        .filter(|(n, _)| normalized(n) == "/META-INF/MANIFEST.MF")
        .map(|(n, &i)| (n, i))
        .collect();
    let (name, index) = match manifests.as_slice() {
        [] => return Ok(None),
        [one] => *one,
        _ => return Err("more than one META-INF/MANIFEST.MF".to_string()),
    };
    let text = match reader.entry(index, bounds.metadata_bytes) {
        Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        Ok(None) => return Ok(None),
        Err(e) => return Err(format!("{name}: {e}")),
    };
    let manifest = manifest::parse(&text);
    if manifest::get(&manifest.main, "Weave-Classes").is_some() {
        return Ok(None);
    }

    // Name and version: the pom.properties naming this file (with the
    // pom.xml beside it), else the manifest and the file name.
    let artifacts: BTreeSet<&str> = properties
        .values()
        .map(|p| p.artifact_id.as_str())
        .collect();
    let mut chosen: Option<&PomProperties> = None;
    let mut chosen_project: Option<&PomProject> = None;
    for (dir, props) in properties {
        if artifact_matches_filename(&props.artifact_id, &file.name, &artifacts) {
            chosen = Some(props);
            if let Some(project) = projects.get(dir) {
                chosen_project = Some(project);
                break;
            }
        }
    }
    let mut name = chosen.map(|p| p.artifact_id.clone()).unwrap_or_default();
    let mut version = chosen.map(|p| p.version.clone()).unwrap_or_default();
    if let Some(project) = chosen_project {
        let id = project.resolve_id();
        if name.is_empty() {
            name = id.artifact_id;
        }
        if version.is_empty() {
            version = id.version;
        }
    }
    if name.is_empty() {
        name = manifest::select_name(Some(&manifest), file);
    }
    if version.is_empty() {
        version = manifest::select_version(Some(&manifest), file);
    }
    Ok(Some(JavaPackage {
        name,
        version,
        kind,
        virtual_path: virtual_path.to_string(),
        manifest: Some(manifest),
        properties: None,
        project: None,
    }))
}

/// Syft's `newPackageFromMavenData`: the package one pom.properties names,
/// or `None` when it names the main package (which then learns its name,
/// version, type and, if it had none, its pom.properties).
fn maven_package(
    props: &PomProperties,
    project: Option<PomProject>,
    main: &mut JavaPackage,
    virtual_path: &str,
) -> Option<JavaPackage> {
    let main_group = main.group();
    let main_key = format!("{main_group}:{}:{}", main.name, main.version);
    let key = format!("{}:{}:{}", props.group_id, props.artifact_id, props.version);
    let path = if main_key == key {
        virtual_path.to_string()
    } else {
        format!("{virtual_path}:{}:{}", props.group_id, props.artifact_id)
    };
    let kind = if [
        "io.jenkins.plugins",
        "org.jenkins.plugins",
        "org.jenkins-ci.plugins",
        "io.jenkins-ci.plugins",
        "com.cloudbees.jenkins.plugins",
    ]
    .iter()
    .any(|g| props.group_id.starts_with(g))
        || props.group_id.contains(".jenkins.plugin")
    {
        PackageType::JenkinsPlugin
    } else {
        PackageType::JavaArchive
    };
    let package = JavaPackage {
        name: props.artifact_id.clone(),
        version: props.version.clone(),
        kind,
        virtual_path: path,
        manifest: None,
        properties: Some(props.clone()),
        project,
    };
    let same = format!("{}|{}|{}", package.group(), package.name, package.version)
        == format!("{main_group}|{}|{}", main.name, main.version)
        || package.virtual_path == main.virtual_path
        || (!props.artifact_id.is_empty() && main.name == props.artifact_id);
    if same {
        main.name = package.name;
        main.version = package.version;
        main.kind = package.kind;
        if main.properties.is_none() {
            main.properties = package.properties;
        }
        return None;
    }
    Some(package)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use zip::write::SimpleFileOptions;

    use super::*;

    /// A zip holding `files` (a name ending in `/` is a folder).
    pub(crate) fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes) in files {
            if name.ends_with('/') {
                w.add_directory(*name, SimpleFileOptions::default())
                    .unwrap();
            } else {
                w.start_file(*name, SimpleFileOptions::default()).unwrap();
                w.write_all(bytes).unwrap();
            }
        }
        w.finish().unwrap().into_inner()
    }

    fn ids(f: &Findings) -> Vec<(String, String, PackageType, String)> {
        let mut v: Vec<_> = f
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone(), p.kind, p.purl.clone()))
            .collect();
        v.sort();
        v
    }

    fn id(n: &str, v: &str, k: PackageType, p: &str) -> (String, String, PackageType, String) {
        (n.into(), v.into(), k, p.into())
    }

    const MF: &[u8] = b"Manifest-Version: 1.0\r\nCreated-By: test\r\n\r\n";

    #[test]
    fn pom_properties_name_the_main_package_and_others_are_their_own() {
        let jar = zip_of(&[
            ("META-INF/", b""),
            ("META-INF/MANIFEST.MF", MF),
            (
                "META-INF/maven/org.apache.commons/commons-lang3/pom.properties",
                b"groupId=org.apache.commons\nartifactId=commons-lang3\nversion=3.12.0\n",
            ),
            (
                "META-INF/maven/com.google/shaded/pom.properties",
                b"groupId=com.google\nartifactId=shaded\nversion=1\n",
            ),
            (
                "META-INF/maven/x/noversion/pom.properties",
                b"groupId=x\nartifactId=noversion\n",
            ),
        ]);
        let f = read("/usr/share/java/commons-lang3.jar", &jar, &BOUNDS);
        assert_eq!(
            ids(&f),
            vec![
                id(
                    "commons-lang3",
                    "3.12.0",
                    PackageType::JavaArchive,
                    "pkg:maven/org.apache.commons/commons-lang3@3.12.0"
                ),
                id(
                    "shaded",
                    "1",
                    PackageType::JavaArchive,
                    "pkg:maven/com.google/shaded@1"
                ),
            ]
        );
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    }

    #[test]
    fn without_maven_files_the_manifest_and_file_name_decide() {
        let jar = zip_of(&[(
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\nMain-Class: org.debian.security.UpdateCertificates\n",
        )]);
        let f = read(
            "/usr/share/ca-certificates-java/ca-certificates-java.jar",
            &jar,
            &BOUNDS,
        );
        assert_eq!(
            ids(&f),
            vec![id(
                "ca-certificates-java",
                "",
                PackageType::JavaArchive,
                "pkg:maven/org.debian.security.UpdateCertificates/ca-certificates-java"
            )]
        );
        let f = read(
            "/x/jrt-fs.jar",
            &zip_of(&[("META-INF/MANIFEST.MF", b"Implementation-Version: 17.0.19\n")]),
            &BOUNDS,
        );
        assert_eq!(
            ids(&f),
            vec![id(
                "jrt-fs",
                "17.0.19",
                PackageType::JavaArchive,
                "pkg:maven/jrt-fs/jrt-fs@17.0.19"
            )]
        );
        // No manifest: no main package; a Weave-Classes one is skipped.
        assert!(
            read("/x/a-1.jar", &zip_of(&[("a.class", b"")]), &BOUNDS)
                .packages
                .is_empty()
        );
        assert!(
            read(
                "/x/a-1.jar",
                &zip_of(&[("META-INF/MANIFEST.MF", b"Weave-Classes: x\n")]),
                &BOUNDS
            )
            .packages
            .is_empty()
        );
    }

    #[test]
    fn nested_archives_are_read_with_their_paths() {
        let lib = zip_of(&[
            ("META-INF/MANIFEST.MF", MF),
            (
                "META-INF/maven/org.slf4j/slf4j-api/pom.properties",
                b"groupId=org.slf4j\nartifactId=slf4j-api\nversion=1.7.32\n",
            ),
        ]);
        let plugin = zip_of(&[
            ("META-INF/MANIFEST.MF", MF),
            (
                "META-INF/maven/org.jenkins-ci.plugins/git/pom.properties",
                b"groupId=org.jenkins-ci.plugins\nartifactId=git\nversion=5\n",
            ),
        ]);
        let inner_fat = zip_of(&[
            ("META-INF/MANIFEST.MF", MF),
            ("lib/slf4j-api-1.7.32.jar", &lib),
        ]);
        let fat = zip_of(&[
            ("META-INF/MANIFEST.MF", b"Main-Class: com.example.Main\n"),
            ("BOOT-INF/lib/slf4j-api-1.7.32.jar", &lib),
            ("WEB-INF/plugins/git.hpi", &plugin),
            ("BOOT-INF/lib/broken.jar", b"not a zip"),
            ("nested/inner-2.war", &inner_fat),
        ]);
        let f = read("/app/app-1.0.jar", &fat, &BOUNDS);
        assert_eq!(
            ids(&f),
            vec![
                id(
                    "app",
                    "1.0",
                    PackageType::JavaArchive,
                    "pkg:maven/com.example.Main/app@1.0"
                ),
                id(
                    "git",
                    "5",
                    PackageType::JenkinsPlugin,
                    "pkg:maven/org.jenkins-ci.plugins/git@5"
                ),
                id(
                    "inner",
                    "2",
                    PackageType::JavaArchive,
                    "pkg:maven/inner/inner@2"
                ),
                id(
                    "slf4j-api",
                    "1.7.32",
                    PackageType::JavaArchive,
                    "pkg:maven/org.slf4j/slf4j-api@1.7.32"
                ),
                id(
                    "slf4j-api",
                    "1.7.32",
                    PackageType::JavaArchive,
                    "pkg:maven/org.slf4j/slf4j-api@1.7.32"
                ),
            ]
        );
        assert!(
            f.packages.iter().any(|p| p.virtual_path
                == "/app/app-1.0.jar:nested/inner-2.war:lib/slf4j-api-1.7.32.jar")
        );
        assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
        assert!(f.warnings[0].contains("broken.jar"), "{:?}", f.warnings);
    }

    #[test]
    fn bounds_stop_deep_nesting_and_bombs_with_warnings() {
        let mut jar = zip_of(&[("META-INF/MANIFEST.MF", MF)]);
        for level in 0..5 {
            jar = zip_of(&[
                ("META-INF/MANIFEST.MF", MF),
                (&format!("l{level}.jar"), &jar),
            ]);
        }
        let shallow = Bounds { depth: 2, ..BOUNDS };
        let f = read("/top.jar", &jar, &shallow);
        assert_eq!(f.packages.len(), 3);
        assert!(
            f.warnings
                .iter()
                .any(|w| w.contains("nested deeper than 2")),
            "{:?}",
            f.warnings
        );

        let zeros = vec![0u8; 1 << 20];
        let bomb = zip_of(&[
            ("META-INF/MANIFEST.MF", MF),
            ("a.jar", &zeros),
            ("b.jar", &zeros),
        ]);
        let tight = Bounds {
            total_bytes: (1 << 20) + 4096,
            ..BOUNDS
        };
        let f = read("/bomb.jar", &bomb, &tight);
        assert_eq!(f.packages.len(), 1);
        assert!(
            f.warnings.iter().any(|w| w.contains("more bytes than")),
            "{:?}",
            f.warnings
        );

        let small = Bounds {
            nested_bytes: 1000,
            ..BOUNDS
        };
        let f = read("/big.jar", &bomb, &small);
        assert!(
            f.warnings
                .iter()
                .any(|w| w.contains("larger than 1000 bytes")),
            "{:?}",
            f.warnings
        );
    }

    #[test]
    fn malformed_archives_give_warnings() {
        for bytes in [
            &b""[..],
            b"PK\x03\x04garbage",
            &zip_of(&[("a", b"b")])[..10],
        ] {
            let f = read("/x.jar", bytes, &BOUNDS);
            assert!(f.packages.is_empty());
            assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
        }
        let two = zip_of(&[("META-INF/MANIFEST.MF", MF), ("/META-INF/MANIFEST.MF", MF)]);
        let f = read("/x.jar", &two, &BOUNDS);
        assert!(f.packages.is_empty());
        assert!(f.warnings[0].contains("more than one"), "{:?}", f.warnings);
    }
}
