//! Debian packages: `var/lib/dpkg/status`, distroless `status.d/` entries,
//! owned files from `info/*.list` / `*.md5sums`, licenses from
//! `usr/share/doc/*/copyright`.

use pare_image::Flattened;
use pare_image::tree::NodeKind;

use crate::control::{self, Paragraph};
use crate::model::{Catalog, Distro, Package, PackageType};
use crate::purl;
use crate::read::{layer_of, read_text};

const STATUS: &str = "var/lib/dpkg/status";
const STATUS_D: &str = "var/lib/dpkg/status.d";
const INFO: &str = "var/lib/dpkg/info";

/// Whether the dpkg cataloger needs this file's bytes.
pub fn wants(path: &str) -> bool {
    path == STATUS
        || path.starts_with("var/lib/dpkg/status.d/")
        || (path.starts_with("var/lib/dpkg/info/")
            && (path.ends_with(".list") || path.ends_with(".md5sums")))
        || (path.starts_with("usr/share/doc/")
            && path.ends_with("/copyright")
            && path.matches('/').count() == 4)
}

pub fn catalog(flat: &Flattened, distro: Option<&Distro>, out: &mut Catalog) {
    if let Some(text) = read_text(flat, STATUS, out) {
        let history = status_history(flat);
        for paragraph in control::parse(&text) {
            if let Some(mut package) = package_from(&paragraph, STATUS, distro, out) {
                package.files = owned_files(flat, &package, None, out);
                package.licenses = licenses(flat, &package.name, out);
                package.layer = history.first_layer(&package.name, &package.version);
                out.packages.push(package);
            }
        }
    }
    // Distroless images keep one file per package instead of `status`.
    let entries: Vec<String> = flat
        .tree
        .children(STATUS_D)
        .filter(|(p, n)| matches!(n.kind, NodeKind::File(_)) && !p.ends_with(".md5sums"))
        .map(|(p, _)| p.to_string())
        .collect();
    for path in entries {
        let Some(text) = read_text(flat, &path, out) else {
            continue;
        };
        for paragraph in control::parse(&text) {
            if let Some(mut package) = package_from(&paragraph, &path, distro, out) {
                let md5sums = format!("{path}.md5sums");
                package.files = owned_files(flat, &package, Some(&md5sums), out);
                package.licenses = licenses(flat, &package.name, out);
                package.layer = layer_of(flat, &path);
                out.packages.push(package);
            }
        }
    }
}

/// The two names dpkg gives a package's `info/` file with extension `ext`
/// (`list`, `md5sums`): plain, and with `:ARCH` for Multi-Arch: same.
pub fn info_files(name: &str, arch: &str, ext: &str) -> [String; 2] {
    [
        format!("{INFO}/{name}.{ext}"),
        format!("{INFO}/{name}:{arch}.{ext}"),
    ]
}

/// Installed, by dpkg's status (deinstalled, half-installed and
/// config-files-only entries are not); distroless entries have no Status.
fn is_installed(p: &Paragraph) -> bool {
    p.get("Status")
        .is_none_or(|s| s.split_whitespace().last() == Some("installed"))
}

fn package_from(
    p: &Paragraph,
    path: &str,
    distro: Option<&Distro>,
    out: &mut Catalog,
) -> Option<Package> {
    let at = format!("/{path}:{}", p.line);
    let Some(name) = p.get("Package").filter(|n| !n.is_empty()) else {
        out.warnings
            .push(format!("{at}: entry without a Package field skipped"));
        return None;
    };
    if !is_installed(p) {
        return None;
    }
    let Some(version) = p.get("Version").filter(|v| !v.is_empty()) else {
        out.warnings
            .push(format!("{at}: package {name} has no Version; skipped"));
        return None;
    };
    let architecture = p.get("Architecture").map(str::to_string);
    let (source, source_version) = match p.get("Source") {
        Some(source) => match source.split_once(' ') {
            Some((name, rest)) => (
                Some(name.to_string()),
                Some(
                    rest.trim()
                        .trim_start_matches('(')
                        .trim_end_matches(')')
                        .to_string(),
                ),
            ),
            None => (Some(source.to_string()), None),
        },
        None => (None, None),
    };
    let upstream = match (&source, &source_version) {
        (Some(s), Some(v)) => format!("{s}@{v}"),
        (Some(s), None) => s.clone(),
        _ => String::new(),
    };
    let namespace = distro.map_or("debian", |d| d.id.as_str());
    let purl = purl::build(
        "deb",
        Some(namespace),
        name,
        version,
        &[
            ("arch", architecture.clone().unwrap_or_default()),
            ("distro", distro.map(Distro::qualifier).unwrap_or_default()),
            ("upstream", upstream),
        ],
    );
    Some(Package {
        name: name.to_string(),
        version: version.to_string(),
        kind: PackageType::Deb,
        purl,
        cpes: purl::cpes(name, version),
        licenses: Vec::new(),
        source,
        source_version,
        architecture,
        files: Vec::new(),
        found_at: format!("/{path}"),
        layer: None,
    })
}

/// Files the package owns: every path of its md5sums (regular files, as
/// Syft lists them) and the non-folder paths of its `.list` that are in the
/// image (symlinks such as the loader's `/lib64/ld-linux-x86-64.so.2`).
fn owned_files(
    flat: &Flattened,
    package: &Package,
    md5sums: Option<&str>,
    out: &mut Catalog,
) -> Vec<String> {
    let arch = package.architecture.as_deref().unwrap_or("");
    let mut files = Vec::new();
    let sums =
        md5sums
            .map(str::to_string)
            .into_iter()
            .chain(info_files(&package.name, arch, "md5sums"));
    if let Some(text) = sums.into_iter().find_map(|s| read_text(flat, &s, out)) {
        files.extend(
            text.lines()
                .filter_map(|l| l.split_once("  ").map(|(_, p)| format!("/{}", p.trim()))),
        );
    }
    let lists = info_files(&package.name, arch, "list");
    if let Some(text) = lists.iter().find_map(|l| read_text(flat, l, out)) {
        let entries: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with('/') && l.len() > 1)
            .collect();
        // A path with others below it is a folder to dpkg, even where the
        // image has a symlink there (merged /usr: `/lib -> usr/lib`).
        let mut folders = std::collections::HashSet::new();
        for entry in &entries {
            let mut dir = *entry;
            while let Some((parent, _)) = dir.rsplit_once('/') {
                if !folders.insert(parent) {
                    break;
                }
                dir = parent;
            }
        }
        files.extend(
            entries
                .into_iter()
                .filter(|l| !folders.contains(l))
                .filter(|l| {
                    flat.tree
                        .resolve(&l[1..], false)
                        .ok()
                        .and_then(|p| flat.tree.get(&p))
                        .is_some_and(|n| !n.is_dir())
                })
                .map(str::to_string),
        );
    }
    files.sort();
    files.dedup();
    files
}

/// Declared licenses from a machine-readable (DEP-5) copyright file.
pub fn licenses(flat: &Flattened, name: &str, out: &mut Catalog) -> Vec<String> {
    let Some(text) = read_text(flat, &format!("usr/share/doc/{name}/copyright"), out) else {
        return Vec::new();
    };
    let mut found: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("License:"))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Each layer's version of `status`, to tell which layer brought a package.
struct StatusHistory {
    versions: Vec<(usize, std::collections::HashSet<(String, String)>)>,
}

fn status_history(flat: &Flattened) -> StatusHistory {
    let versions = flat
        .versions(STATUS)
        .into_iter()
        .map(|c| {
            let text = String::from_utf8_lossy(&c.bytes);
            let set = control::parse(&text)
                .iter()
                .filter(|p| is_installed(p))
                .filter_map(|p| {
                    Some((p.get("Package")?.to_string(), p.get("Version")?.to_string()))
                })
                .collect();
            (c.layer, set)
        })
        .collect();
    StatusHistory { versions }
}

impl StatusHistory {
    /// The earliest layer from which every later `status` lists the package
    /// at this version.
    fn first_layer(&self, name: &str, version: &str) -> Option<usize> {
        let key = (name.to_string(), version.to_string());
        let mut first = None;
        for (layer, set) in self.versions.iter().rev() {
            if set.contains(&key) {
                first = Some(*layer);
            } else {
                break;
            }
        }
        first
    }
}
