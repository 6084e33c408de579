//! Alpine packages: `lib/apk/db/installed` (one paragraph a package of
//! one-letter fields; `F:` names a folder, the `R:` lines after it its files).

use pare_image::Flattened;

use crate::model::{Catalog, Distro, Package, PackageType};
use crate::purl;
use crate::read::{layer_of, read_text};

pub const INSTALLED: &str = "lib/apk/db/installed";

pub fn wants(path: &str) -> bool {
    path == INSTALLED
}

pub fn catalog(flat: &Flattened, distro: Option<&Distro>, out: &mut Catalog) {
    let Some(text) = read_text(flat, INSTALLED, out) else {
        return;
    };
    let layer = layer_of(flat, INSTALLED);
    out.packages.extend(
        parse(&text, distro, &mut out.warnings)
            .into_iter()
            .map(|mut p| {
                p.layer = layer;
                p
            }),
    );
}

/// Parses an installed database; bad paragraphs become warnings.
pub fn parse(text: &str, distro: Option<&Distro>, warnings: &mut Vec<String>) -> Vec<Package> {
    let mut packages = Vec::new();
    for (index, block) in text.split("\n\n").enumerate() {
        if block.trim().is_empty() {
            continue;
        }
        let mut fields: Vec<(char, &str)> = Vec::new();
        let mut junk = 0;
        for line in block.lines() {
            let mut chars = line.chars();
            match (chars.next(), chars.next()) {
                // The key may be any character, ASCII or not.
                (Some(key), Some(':')) => fields.push((key, &line[key.len_utf8() + 1..])),
                _ if line.trim().is_empty() => {}
                _ => junk += 1,
            }
        }
        let get = |k: char| fields.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
        let (Some(name), Some(version)) = (get('P'), get('V')) else {
            warnings.push(format!(
                "/{INSTALLED}: entry {} has no P:/V: fields ({junk} unreadable lines); skipped",
                index + 1
            ));
            continue;
        };
        let mut files = Vec::new();
        let mut folder = "";
        for (key, value) in &fields {
            match key {
                'F' => folder = value,
                'R' if folder.is_empty() => files.push(format!("/{value}")),
                'R' => files.push(format!("/{folder}/{value}")),
                _ => {}
            }
        }
        let arch = get('A').map(str::to_string);
        let origin = get('o').filter(|o| *o != name).unwrap_or("");
        let purl = purl::build(
            "apk",
            Some(distro.map_or("alpine", |d| d.id.as_str())),
            name,
            version,
            &[
                ("arch", arch.clone().unwrap_or_default()),
                ("distro", distro.map(Distro::qualifier).unwrap_or_default()),
                ("upstream", origin.to_string()),
            ],
        );
        packages.push(Package {
            name: name.to_string(),
            version: version.to_string(),
            kind: PackageType::Apk,
            purl,
            cpes: purl::cpes(name, version),
            licenses: get('L').map(|l| vec![l.to_string()]).unwrap_or_default(),
            source: get('o').map(str::to_string),
            source_version: None,
            architecture: arch,
            files,
            found_at: format!("/{INSTALLED}"),
            layer: None,
        });
    }
    packages
}
