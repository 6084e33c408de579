//! # pare-sbom
//!
//! Lists what is installed in an image, at Syft's level of detail: OS
//! packages (dpkg, apk, rpm), language packages (Python, npm, Ruby, PHP,
//! Java, .NET), Go modules and Rust crates compiled into binaries, the
//! distribution, and the files each package owns. Catalogers read a [`Flattened`] image whose metadata
//! files were captured, and whose executables were scanned, during the
//! single flattening pass (see [`flatten_options`]), so nothing is extracted
//! and layers are read once.
//!
//! Writers turn a [`Catalog`] into CycloneDX 1.6 or SPDX 2.3 JSON.

pub mod apk;
pub mod binary;
pub mod control;
pub mod cyclonedx;
pub mod dotnet;
pub mod dpkg;
pub mod executables;
pub mod golang;
pub mod java;
pub mod model;
pub mod npm;
pub mod osrelease;
pub mod php;
pub mod purl;
pub mod python;
mod read;
pub mod rpm;
pub mod ruby;
pub mod rust;
pub mod spdx;

use std::collections::BTreeMap;

use pare_image::Flattened;
use pare_image::flatten::CapturePredicate;
use pare_image::source::FlattenOptions;
use pare_image::tree::NodeKind;

pub use model::{Catalog, Distro, Package, PackageType};

const OS_RELEASE: [&str; 2] = ["etc/os-release", "usr/lib/os-release"];

/// One source of packages. Every cataloger is registered once, in
/// [`CATALOGERS`]: the capture predicate and [`catalog`] both come from
/// that table, so a cataloger cannot be wired into one and not the other.
pub struct Cataloger {
    /// Short name, for messages and docs.
    pub name: &'static str,
    /// Whether this cataloger reads the file at `path` (image-relative, no
    /// leading `/`); such files are captured while flattening.
    pub wants: fn(path: &str) -> bool,
    /// Adds what it finds to the catalog; problems go to its warnings.
    pub catalog: fn(flat: &Flattened, distro: Option<&Distro>, out: &mut Catalog),
}

/// Every cataloger, in the order they run. OS package databases come first
/// and the binary classifiers last, because a binary owned by a package found
/// earlier is left to that package.
pub const CATALOGERS: &[Cataloger] = &[
    Cataloger {
        name: "dpkg",
        wants: dpkg::wants,
        catalog: dpkg::catalog,
    },
    Cataloger {
        name: "apk",
        wants: apk::wants,
        catalog: apk::catalog,
    },
    Cataloger {
        name: "rpm",
        wants: rpm::wants,
        catalog: rpm::catalog,
    },
    Cataloger {
        name: "python",
        wants: python::wants,
        catalog: python::catalog,
    },
    Cataloger {
        name: "npm",
        wants: npm::wants,
        catalog: npm::catalog,
    },
    Cataloger {
        name: "ruby-gemspec",
        wants: ruby::wants,
        catalog: ruby::catalog,
    },
    Cataloger {
        name: "php-composer-and-pecl",
        wants: php::wants,
        catalog: php::catalog,
    },
    Cataloger {
        name: "dotnet",
        wants: dotnet::wants,
        catalog: dotnet::catalog,
    },
    Cataloger {
        name: "java",
        wants: java::wants,
        catalog: java::catalog,
    },
    Cataloger {
        name: "go-and-rust-binaries",
        // Reads what the executable scanner found, not captured files.
        wants: |_| false,
        catalog: compiled_in,
    },
    Cataloger {
        name: "binary-classifiers",
        wants: binary::wants,
        catalog: binary::catalog,
    },
];

/// The files the catalogers read, to capture while flattening.
pub fn capture_predicate() -> Box<CapturePredicate> {
    Box::new(|path: &str, _size: u64| {
        OS_RELEASE.contains(&path) || CATALOGERS.iter().any(|c| (c.wants)(path))
    })
}

/// What to keep while flattening for [`catalog`]: the metadata files, and
/// what executables embed.
pub fn flatten_options() -> FlattenOptions {
    FlattenOptions {
        capture: Some(capture_predicate()),
        scanners: vec![
            Box::new(executables::ExecutableScanner),
            Box::new(java::ArchiveScanner),
            Box::new(dotnet::PeScanner),
            Box::new(binary::ClassifierScanner::default()),
        ],
    }
}

/// Runs every cataloger over a flattened image.
pub fn catalog(flat: &Flattened) -> Catalog {
    let mut out = Catalog::default();
    for path in OS_RELEASE {
        if let Some(text) = read::read_text(flat, path, &mut out) {
            out.distro = osrelease::parse(&text);
            if out.distro.is_some() {
                break;
            }
        }
    }
    let distro = out.distro.clone();
    for cataloger in CATALOGERS {
        (cataloger.catalog)(flat, distro.as_ref(), &mut out);
    }
    if out.distro.is_none() {
        // A scratch image with only BusyBox is "busybox", as Syft says.
        if let Some(bb) = out
            .packages
            .iter()
            .find(|p| p.kind == PackageType::Binary && p.name == "busybox")
        {
            out.distro = Some(Distro {
                id: "busybox".into(),
                version_id: Some(bb.version.clone()),
                pretty_name: Some(format!("BusyBox v{}", bb.version)),
                ..Distro::default()
            });
        }
    }
    out.packages.sort_by(|a, b| {
        (a.kind, &a.name, &a.version, &a.found_at).cmp(&(b.kind, &b.name, &b.version, &b.found_at))
    });
    out
}

/// Go modules and Rust crates from what the executable scanner found; a
/// file hardlinked under several names is reported once, at its first name.
fn compiled_in(flat: &Flattened, _distro: Option<&Distro>, out: &mut Catalog) {
    let mut binaries: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (path, node) in flat.tree.iter() {
        if let NodeKind::File(id) = node.kind
            && flat.found::<executables::Embedded>(id).is_some()
        {
            binaries.entry(id).or_default().push(path);
        }
    }
    for (id, paths) in binaries {
        let Some(embedded) = flat.found::<executables::Embedded>(id) else {
            continue;
        };
        let path = format!("/{}", paths[0]);
        let layer = read::layer_of(flat, &paths[0]);
        if let Some(format) = embedded.foreign {
            let what = match (&embedded.go, &embedded.rust_audit) {
                (Some(_), _) => "Go build info",
                _ => "a Rust dependency list (cargo auditable)",
            };
            out.warnings.push(format!(
                "{path}: {format} executable with {what}: not read (pare reads ELF only)"
            ));
            continue;
        }
        if let Some(go) = &embedded.go {
            if go.legacy {
                out.warnings.push(format!(
                    "{path}: Go build info in the pre-1.18 layout is not read"
                ));
            } else {
                out.packages.extend(golang::packages(go, &path, layer));
            }
        }
        if let Some(json) = &embedded.rust_audit {
            match rust::packages(json, &path, layer) {
                Ok(packages) => out.packages.extend(packages),
                Err(e) => out.warnings.push(format!("{path}: {e}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The order CATALOGERS documents: OS databases first (what they own
    /// is left to them), the JVM reader before the classifiers (a
    /// classifier's hit inside a JVM installation gives way to it), the
    /// classifiers last; and one entry per name.
    #[test]
    fn catalogers_run_in_the_documented_order() {
        let names: Vec<&str> = CATALOGERS.iter().map(|c| c.name).collect();
        let at = |name: &str| names.iter().position(|n| *n == name).unwrap();
        assert_eq!(&names[..3], ["dpkg", "apk", "rpm"]);
        assert!(at("java") < at("binary-classifiers"));
        assert_eq!(names.last(), Some(&"binary-classifiers"));
        let unique: std::collections::BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }
}
