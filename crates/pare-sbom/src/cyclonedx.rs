//! CycloneDX 1.6 JSON (<https://cyclonedx.org/docs/1.6/json/>).

use serde_json::{Value, json};

use crate::model::{Catalog, Package};

/// Describes the scanned image.
pub struct Subject<'a> {
    /// The image reference as given.
    pub name: &'a str,
    /// Its config digest, when it has one.
    pub digest: Option<&'a str>,
}

pub fn document(catalog: &Catalog, subject: &Subject<'_>) -> Value {
    let mut components: Vec<Value> = catalog.packages.iter().map(component).collect();
    if let Some(distro) = &catalog.distro {
        components.push(json!({
            "bom-ref": format!("os:{}", distro.qualifier()),
            "type": "operating-system",
            "name": distro.id,
            "version": distro.version_id.clone().unwrap_or_default(),
            "description": distro.pretty_name.clone().unwrap_or_default(),
        }));
    }
    let mut image = json!({
        "bom-ref": "image",
        "type": "container",
        "name": subject.name,
    });
    if let Some(digest) = subject.digest {
        image["version"] = json!(digest);
    }
    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", crate::spdx::uuid_of(catalog, subject.name)),
        "version": 1,
        "metadata": {
            "timestamp": crate::spdx::timestamp(),
            "tools": {"components": [{"type": "application", "name": "pare", "version": env!("CARGO_PKG_VERSION")}]},
            "component": image,
        },
        "components": components,
    })
}

fn component(p: &Package) -> Value {
    let mut c = json!({
        "bom-ref": bom_ref(p),
        "type": "library",
        "name": p.name,
        "version": p.version,
        "purl": p.purl,
    });
    if let Some(cpe) = p.cpes.first() {
        c["cpe"] = json!(cpe);
    }
    if !p.licenses.is_empty() {
        c["licenses"] = json!(
            p.licenses
                .iter()
                .map(|l| json!({"license": {"name": l}}))
                .collect::<Vec<_>>()
        );
    }
    let mut properties = vec![
        json!({"name": "pare:package:type", "value": p.kind.as_str()}),
        json!({"name": "pare:location:0:path", "value": p.found_at}),
    ];
    if let Some(layer) = p.layer {
        properties.push(json!({"name": "pare:layer", "value": layer.to_string()}));
    }
    if let Some(source) = &p.source {
        properties.push(json!({"name": "pare:package:source", "value": source}));
    }
    c["properties"] = json!(properties);
    c
}

/// Unique within a document: the PURL plus where the package was found.
pub fn bom_ref(p: &Package) -> String {
    format!("{}#{}", p.purl, p.found_at)
}
