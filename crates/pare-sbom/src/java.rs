//! Java packages, as Syft 1.18's `java-archive-cataloger` and
//! `java-jvm-cataloger` report them.
//!
//! **Archives** (`*.jar *.war *.ear *.par *.sar *.nar *.jpi *.hpi *.kar
//! *.lpkg`, names matched case-sensitively as Syft's globs do) are zips,
//! and a zip's table of contents sits at its end, so an archive cannot be
//! read as it streams past. [`ArchiveScanner`] holds one archive's bytes
//! while the flattening pass streams it (at most [`ARCHIVE_BYTES`]; a
//! larger archive is skipped with a warning), reads it with the `zip`
//! crate as soon as it has ended, and keeps only the packages found
//! ([`archive::Findings`]), so memory is one archive per flattening
//! thread, never the layer. Nested archives (Spring Boot's
//! `BOOT-INF/lib/*.jar`, a war's `WEB-INF/lib`, an ear's modules) are
//! read from memory within [`archive::BOUNDS`] (depth, bytes of one
//! nested archive, bytes inflated in all). Names, versions, groups and
//! PURLs (`pkg:maven/GROUP/ARTIFACT@VERSION`) follow Syft's rules, in
//! [`archive`], [`manifest`], [`filename`], [`pom`] and [`group`].
//! Packages are of type `java-archive`, or `jenkins-plugin` for `.hpi`/
//! `.jpi` files and Jenkins plugin groups. Licences and CPEs are not
//! produced yet (Syft reads licences from the manifest, `pom.xml` and
//! licence files; neither asks Maven Central by default).
//!
//! Java archives inside plain zips (`*.zip`) are read too, as Syft does
//! by default (its "indexed archives"); the zip itself is no package.
//! Archives inside tar files are not (Syft's "unindexed archives", off by
//! default).
//!
//! **JVM installations**: a `release` file with `JAVA_VERSION` or
//! `JAVA_RUNTIME_VERSION` is a `binary` package ([`jvm`]), unless an OS
//! package owns that file (Syft then drops it, as it drops every binary
//! package whose file an OS package owns: Debian's OpenJDK is reported as
//! its deb only).

pub mod archive;
pub mod filename;
pub mod group;
pub mod jvm;
pub mod manifest;
pub mod pom;

use pare_image::Flattened;
use pare_image::scan::{ContentScanner, FileScan, Finding};
use pare_image::tree::NodeKind;

use crate::model::{Catalog, Distro, Package, PackageType};
use crate::read::layer_of;

/// Bytes of one top-level archive held in memory while it is read; a
/// larger archive is not read, and the catalog says so in a warning.
/// Spring Boot fat jars are tens of MiB, rarely over 200.
pub const ARCHIVE_BYTES: u64 = 256 << 20;

/// Nothing is captured: archives and JVM `release` files are scanned by
/// [`ArchiveScanner`], which bounds what it holds of each (a captured file
/// over the metadata limit would stop the whole run, and any file may be
/// named `release`).
pub fn wants(_path: &str) -> bool {
    false
}

fn is_release(path: &str) -> bool {
    pare_image::paths::file_name(path) == "release"
}

/// Holds each Java archive while it streams past and reads it at its end;
/// reads the first [`jvm::MAX_RELEASE_BYTES`] of each `release` file.
pub struct ArchiveScanner;

impl ContentScanner for ArchiveScanner {
    fn start(&self, path: &str, size: u64, _mode: u32) -> Option<Box<dyn FileScan>> {
        if is_release(path) {
            return Some(Box::new(ReleaseScan::default()));
        }
        let wrapper = path.ends_with(".zip");
        if !wrapper && !archive::is_archive_name(path) {
            return None;
        }
        let path = format!("/{}", path.trim_start_matches('/'));
        let bytes = (size <= ARCHIVE_BYTES).then(|| Vec::with_capacity(size as usize));
        Some(Box::new(ArchiveScan {
            path,
            bytes,
            size,
            wrapper,
        }))
    }
}

/// One archive's bytes, as they stream past.
struct ArchiveScan {
    path: String,
    /// `None` for an archive over the bound.
    bytes: Option<Vec<u8>>,
    size: u64,
    /// A `*.zip`: only the archives inside it are read.
    wrapper: bool,
}

impl FileScan for ArchiveScan {
    fn feed(&mut self, chunk: &[u8]) -> bool {
        let Some(bytes) = &mut self.bytes else {
            return false;
        };
        if (bytes.len() + chunk.len()) as u64 > ARCHIVE_BYTES {
            // A file that grew past its declared size (a live root folder).
            self.size = (bytes.len() + chunk.len()) as u64;
            self.bytes = None;
            return false;
        }
        bytes.extend_from_slice(chunk);
        true
    }

    fn finish(self: Box<Self>) -> Option<Finding> {
        let findings = match &self.bytes {
            Some(bytes) if self.wrapper => {
                archive::read_wrapped(&self.path, bytes, &archive::BOUNDS)
            }
            Some(bytes) => archive::read(&self.path, bytes, &archive::BOUNDS),
            None => archive::Findings {
                packages: Vec::new(),
                warnings: vec![format!(
                    "{}: a Java archive of {} bytes, over the {ARCHIVE_BYTES} read; its packages are not listed",
                    self.path, self.size
                )],
            },
        };
        Some(Box::new(findings))
    }
}

/// The head of a `release` file.
#[derive(Default)]
struct ReleaseScan {
    bytes: Vec<u8>,
}

impl FileScan for ReleaseScan {
    fn feed(&mut self, chunk: &[u8]) -> bool {
        let room = jvm::MAX_RELEASE_BYTES - self.bytes.len();
        self.bytes
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
        self.bytes.len() < jvm::MAX_RELEASE_BYTES
    }

    fn finish(self: Box<Self>) -> Option<Finding> {
        let release = jvm::parse(&String::from_utf8_lossy(&self.bytes))?;
        Some(Box::new(release))
    }
}

/// Adds the packages of Java archives and JVM installations.
pub fn catalog(flat: &Flattened, _distro: Option<&Distro>, out: &mut Catalog) {
    archives(flat, out);
    jvms(flat, out);
}

fn archives(flat: &Flattened, out: &mut Catalog) {
    for (path, node) in flat.tree.iter() {
        let NodeKind::File(id) = node.kind else {
            continue;
        };
        let Some(findings) = flat.found::<archive::Findings>(id) else {
            continue;
        };
        let at = format!("/{path}");
        let layer = layer_of(flat, &path);
        out.warnings.extend(findings.warnings.iter().cloned());
        for found in &findings.packages {
            // Syft drops nameless packages and writes "UNKNOWN" for a
            // missing version (its PURL has none).
            if found.name.is_empty() {
                continue;
            }
            let version = if found.version.is_empty() {
                crate::npm::UNKNOWN.to_string()
            } else {
                found.version.clone()
            };
            out.packages.push(Package::in_binary(
                found.kind,
                found.name.clone(),
                version,
                found.purl.clone(),
                Vec::new(),
                Vec::new(),
                None,
                &at,
                layer,
            ));
        }
    }
}

/// Whether `package` is a JVM installation this cataloger reported (from its
/// `release` file); the binary classifiers leave what is inside one to it.
pub fn is_jvm_installation(package: &Package) -> bool {
    package.kind == PackageType::Binary && is_release(&package.found_at)
}

fn jvms(flat: &Flattened, out: &mut Catalog) {
    // Owned paths as the image resolves them (merged /usr).
    let owned = crate::read::owned_by_os_packages(flat, out);
    let files: Vec<String> = flat
        .tree
        .iter()
        .filter(|(_, node)| matches!(node.kind, NodeKind::File(_)))
        .map(|(path, _)| path)
        .collect();
    for (path, node) in flat.tree.iter() {
        let NodeKind::File(id) = node.kind else {
            continue;
        };
        let Some(release) = flat.found::<jvm::Release>(id) else {
            continue;
        };
        if owned.contains(path.as_str()) {
            continue;
        }
        let dir = match path.rfind('/') {
            Some(i) => &path[..i + 1],
            None => "",
        };
        let installed: Vec<String> = files
            .iter()
            .filter(|f| f.starts_with(dir))
            .map(|f| format!("/{f}"))
            .collect();
        let has_jdk = installed.iter().any(|f| f.ends_with("bin/javac"));
        let at = format!("/{path}");
        let version = jvm::version(release);
        let (vendor, product) = jvm::vendor_product(release, &at, has_jdk);
        let mut package = Package::in_binary(
            PackageType::Binary,
            product.to_string(),
            if version.is_empty() {
                crate::npm::UNKNOWN.to_string()
            } else {
                version.clone()
            },
            jvm::purl(release, vendor, product, &version),
            Vec::new(),
            Vec::new(),
            None,
            &at,
            layer_of(flat, &path),
        );
        package.files = installed;
        out.packages.push(package);
    }
}

#[cfg(test)]
mod tests {
    use pare_image::scan::scan_reader;

    use super::*;

    fn scan(path: &str, bytes: &[u8]) -> Option<Finding> {
        let scan = ArchiveScanner.start(path, bytes.len() as u64, 0o644)?;
        scan_reader(bytes, scan).unwrap()
    }

    #[test]
    fn release_files_are_read_up_to_syfts_bound() {
        let release = b"IMPLEMENTOR=\"Debian\"\nJAVA_VERSION=\"17.0.15\"\n";
        let found = scan("usr/lib/jvm/x/release", release).unwrap();
        assert_eq!(
            found.downcast_ref::<jvm::Release>().unwrap().java_version,
            "17.0.15"
        );
        // Past the bound nothing more is read: a key there is not seen.
        let mut long = vec![b'#'; jvm::MAX_RELEASE_BYTES];
        long.extend_from_slice(b"\nJAVA_VERSION=\"1\"\n");
        assert!(scan("opt/release", &long).is_none());
        assert!(scan("etc/release", b"PRETTY_NAME=x\n").is_none());
        assert!(scan("etc/os-release", b"JAVA_VERSION=1\n").is_none());
    }

    #[test]
    fn archives_over_the_bound_are_a_warning_without_being_held() {
        let scan = ArchiveScanner
            .start("srv/huge.jar", ARCHIVE_BYTES + 1, 0o644)
            .unwrap();
        let found = scan_reader(&b"PK"[..], scan).unwrap().unwrap();
        let findings = found.downcast_ref::<archive::Findings>().unwrap();
        assert!(findings.packages.is_empty());
        assert!(findings.warnings[0].starts_with("/srv/huge.jar: a Java archive of"));
        assert!(ArchiveScanner.start("srv/huge.JAR", 10, 0o644).is_none());
    }
}
