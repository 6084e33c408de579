//! npm packages: `package.json` files with a name and a version.

use pare_image::Flattened;
use pare_image::tree::NodeKind;

use crate::model::{Catalog, Package, PackageType};
use crate::purl;
use crate::read::{layer_of, read_text};

pub fn wants(path: &str) -> bool {
    path.ends_with("/package.json") && path.contains("node_modules/")
}

pub fn catalog(flat: &Flattened, out: &mut Catalog) {
    let manifests: Vec<String> = flat
        .tree
        .iter()
        .filter(|(p, n)| matches!(n.kind, NodeKind::File(_)) && wants(p))
        .map(|(p, _)| p.to_string())
        .collect();
    for path in manifests {
        let Some(text) = read_text(flat, &path, out) else {
            continue;
        };
        let value: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                out.warnings.push(format!("/{path}: invalid JSON: {e}"));
                continue;
            }
        };
        let (Some(name), Some(version)) = (value["name"].as_str(), value["version"].as_str())
        else {
            continue; // test fixtures and workspace roots have none
        };
        let (namespace, short) = match name.split_once('/') {
            Some((scope, short)) if scope.starts_with('@') => (Some(scope), short),
            _ => (None, name),
        };
        let license = match &value["license"] {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Object(o) => o
                .get("type")
                .and_then(|t| t.as_str())
                .map(|t| vec![t.to_string()])
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        out.packages.push(Package {
            name: name.to_string(),
            version: version.to_string(),
            kind: PackageType::Npm,
            purl: purl::build("npm", namespace, short, version, &[]),
            cpes: Vec::new(),
            licenses: license,
            source: None,
            source_version: None,
            architecture: None,
            files: Vec::new(),
            found_at: format!("/{path}"),
            layer: layer_of(flat, &path),
        });
    }
}
