//! Python packages: `*.dist-info/METADATA` (+ `RECORD` for owned files) and
//! `*.egg-info/PKG-INFO` (or a bare `*.egg-info` file).

use pare_image::Flattened;
use pare_image::tree::NodeKind;

use crate::control;
use crate::model::{Catalog, Package, PackageType};
use crate::purl;
use crate::read::{layer_of, read_text};

pub fn wants(path: &str) -> bool {
    let parent = pare_image::paths::parent(path);
    (parent.ends_with(".dist-info") && (path.ends_with("/METADATA") || path.ends_with("/RECORD")))
        || (parent.ends_with(".egg-info") && path.ends_with("/PKG-INFO"))
        || path.ends_with(".egg-info")
}

pub fn catalog(flat: &Flattened, out: &mut Catalog) {
    let metadata: Vec<String> = flat
        .tree
        .iter()
        .filter(|(p, n)| matches!(n.kind, NodeKind::File(_)) && wants(p) && !p.ends_with("/RECORD"))
        .map(|(p, _)| p.to_string())
        .collect();
    for path in metadata {
        let Some(text) = read_text(flat, &path, out) else {
            continue;
        };
        // Headers end at the first blank line; the body is the description.
        let header = text.split("\n\n").next().unwrap_or("");
        let Some(fields) = control::parse(header).into_iter().next() else {
            out.warnings.push(format!("/{path}: empty metadata"));
            continue;
        };
        let (Some(name), Some(version)) = (fields.get("Name"), fields.get("Version")) else {
            out.warnings
                .push(format!("/{path}: no Name/Version; skipped"));
            continue;
        };
        let mut files = Vec::new();
        let dir = pare_image::paths::parent(&path);
        if dir.ends_with(".dist-info") {
            let site = pare_image::paths::parent(dir);
            if let Some(record) = read_text(flat, &format!("{dir}/RECORD"), out) {
                files = record
                    .lines()
                    .filter_map(|l| l.split(',').next())
                    .filter(|f| !f.is_empty())
                    .map(|f| format!("/{}", pare_image::paths::join_in_root(site, f)))
                    .collect();
            }
        }
        let licenses = fields
            .get("License")
            .filter(|l| !l.is_empty() && *l != "UNKNOWN");
        out.packages.push(Package {
            name: name.to_string(),
            version: version.to_string(),
            kind: PackageType::Python,
            purl: purl::build("pypi", None, &normalize_name(name), version, &[]),
            cpes: Vec::new(),
            licenses: licenses.map(|l| vec![l.to_string()]).unwrap_or_default(),
            source: None,
            source_version: None,
            architecture: None,
            files,
            found_at: format!("/{path}"),
            layer: layer_of(flat, &path),
        });
    }
}

/// PEP 503 normalisation, as PURLs for PyPI want it.
fn normalize_name(name: &str) -> String {
    let mut out = String::new();
    let mut last_sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !last_sep {
                out.push('-');
            }
            last_sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            last_sep = false;
        }
    }
    out
}
