//! Binary classifiers: programs identified by a version string in their
//! own bytes, as Syft's binary cataloger does, for software no package
//! database describes (e.g. a static BusyBox copied into a scratch image).
//! A program owned by an OS package is left to that package.

use std::collections::HashSet;

use pare_image::Flattened;
use pare_image::tree::NodeKind;

use crate::model::{Catalog, Distro, Package, PackageType};
use crate::purl;
use crate::read::{layer_of, read_bytes};

/// One kind of program: its usual file names and the bytes before its version.
struct Classifier {
    class: &'static str,
    file_names: &'static [&'static str],
    version_prefix: &'static [u8],
    package: &'static str,
    cpe_vendor: &'static str,
}

const CLASSIFIERS: &[Classifier] = &[Classifier {
    class: "busybox-binary",
    file_names: &["busybox"],
    version_prefix: b"BusyBox v",
    package: "busybox",
    cpe_vendor: "busybox",
}];

/// Whether a classifier wants this file's bytes.
pub fn wants(path: &str) -> bool {
    let name = pare_image::paths::file_name(path);
    CLASSIFIERS.iter().any(|c| c.file_names.contains(&name))
}

pub fn catalog(flat: &Flattened, _distro: Option<&Distro>, out: &mut Catalog) {
    // Owned paths as the image resolves them: on merged-/usr systems dpkg
    // says `/bin/busybox` for the file at `usr/bin/busybox`.
    let owned: HashSet<String> = out
        .packages
        .iter()
        .flat_map(|p| p.files.iter())
        .flat_map(|f| {
            let path = f.trim_start_matches('/');
            [Some(path.to_string()), flat.tree.resolve(path, true).ok()]
        })
        .flatten()
        .collect();
    let mut found = Vec::new();
    for (path, node) in flat.tree.iter() {
        let path = path.as_str();
        if !matches!(node.kind, NodeKind::File(_)) || !wants(path) || owned.contains(path) {
            continue;
        }
        let name = pare_image::paths::file_name(path);
        for c in CLASSIFIERS.iter().filter(|c| c.file_names.contains(&name)) {
            let Some(bytes) = read_bytes(flat, path, out) else {
                continue;
            };
            let Some(version) = version_after(&bytes, c.version_prefix) else {
                continue;
            };
            found.push(Package {
                name: c.package.to_string(),
                purl: purl::build("generic", None, c.package, &version, &[]),
                cpes: vec![format!(
                    "cpe:2.3:a:{}:{}:{}:*:*:*:*:*:*:*",
                    c.cpe_vendor,
                    c.package,
                    purl::cpe_escape(&version)
                )],
                version,
                kind: PackageType::Binary,
                licenses: Vec::new(),
                source: Some(c.class.to_string()),
                source_version: None,
                architecture: None,
                files: vec![format!("/{path}")],
                found_at: format!("/{path}"),
                layer: layer_of(flat, path),
            });
        }
    }
    out.packages.extend(found);
}

/// The `[0-9.]+` version right after the first `prefix` followed by a digit.
pub fn version_after(bytes: &[u8], prefix: &[u8]) -> Option<String> {
    let mut start = 0;
    while let Some(at) = find(&bytes[start..], prefix) {
        let from = start + at + prefix.len();
        let version: String = bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit() || **b == b'.')
            .map(|b| *b as char)
            .collect();
        let version = version.trim_end_matches('.').to_string();
        if version.contains('.') {
            return Some(version);
        }
        start = from;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_version_after_the_prefix() {
        let bytes = b"\0BusyBox v\0junk BusyBox v1.35.0 (Debian 1:1.35.0-4+b3) multi-call";
        assert_eq!(
            super::version_after(bytes, b"BusyBox v").as_deref(),
            Some("1.35.0")
        );
        assert_eq!(super::version_after(b"nothing here", b"BusyBox v"), None);
    }
}
