//! npm packages: every `package.json` in the image, as Syft 1.18's
//! `javascript-package-cataloger` reads them (anchore/syft v1.18.1,
//! `syft/pkg/cataloger/javascript/cataloger.go` `NewPackageCataloger`, glob
//! `**/package.json`; `parse_package_json.go` `parsePackageJSON`;
//! `package.go` `newPackageJSONPackage`, `packageURL`), then its compliance
//! rules (`internal/task/package_task_factory.go` `applyComplianceRules`,
//! `syft/cataloging/compliance.go` `DefaultComplianceConfig`):
//!
//! - Not only `node_modules`: Debian's modules in `/usr/share/nodejs`, an
//!   app's own manifest, private packages (`"private": true` is kept).
//! - A file holds one or more JSON documents, one package each; if any
//!   does not decode into Syft's struct (a syntax error, or a field of the
//!   wrong type such as `"private": "yes"`), the file gives none.
//! - A package whose name is empty or blank is dropped; one whose version
//!   is blank is kept as version `UNKNOWN`, its PURL written without one.
//! - The PURL's namespace is what comes before the first `/` of the name
//!   (`@babel/core` → `pkg:npm/%40babel/core@…`).
//! - Licenses: `license` as a string or as a `{type}` object; else the
//!   deprecated `licenses: [{type, url}]` list.
//!
//! Lock files (`package-lock.json`, `yarn.lock`, `pnpm-lock.yaml`) are
//! declarations, not installations: Syft reads them only for directory
//! scans, and pare, which reports what an image has installed, not at all.

pub(crate) mod gojson;

use pare_image::Flattened;
use pare_image::tree::NodeKind;
use serde_json::Value;

use crate::model::{Catalog, Distro, Package, PackageType};
use crate::purl;
use crate::read::{layer_of, read_text};
use gojson::Shape;

/// Syft's stand-in for a missing version (`cataloging.UnknownStubValue`).
pub const UNKNOWN: &str = "UNKNOWN";

/// Syft's compliance rules for a language package read from metadata: no
/// name drops it; no version becomes [`UNKNOWN`] (the PURL is built from
/// the version as written). Returns (name, version, PURL).
pub(crate) fn compliant_identity(
    name: &str,
    version: &str,
    purl: impl FnOnce(&str, &str) -> String,
) -> Option<(String, String, String)> {
    if name.trim().is_empty() {
        return None;
    }
    let purl = purl(name, version);
    let version = if version.trim().is_empty() {
        UNKNOWN
    } else {
        version
    };
    Some((name.to_string(), version.to_string(), purl))
}

/// Syft's `packageJSON` struct, field by field.
const PACKAGE_JSON: Shape = Shape::Struct(&[
    ("version", Shape::Str),
    ("latest", Shape::StrList),
    (
        "author",
        Shape::StrOrStruct(&[
            ("name", Shape::Str),
            ("email", Shape::Str),
            ("url", Shape::Str),
        ]),
    ),
    ("license", Shape::Any),
    ("licenses", Shape::Any),
    ("name", Shape::Str),
    ("homepage", Shape::Str),
    ("description", Shape::Str),
    ("dependencies", Shape::StrMap),
    ("repository", Shape::StrOrStrMap),
    ("private", Shape::Bool),
]);

/// Syft's `npmPackageLicense`.
const LICENSE: Shape = Shape::Struct(&[("type", Shape::Str), ("url", Shape::Str)]);

pub fn wants(path: &str) -> bool {
    pare_image::paths::file_name(path) == "package.json"
}

/// One `package.json` document, as much of it as the catalog keeps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub licenses: Vec<String>,
    pub private: bool,
}

/// The documents of a `package.json`, or why the file gives no package.
pub fn parse(text: &str) -> Result<Vec<Manifest>, String> {
    let mut manifests = Vec::new();
    for document in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        let value = document.map_err(|e| format!("invalid JSON: {e}"))?;
        if !gojson::fits(&value, PACKAGE_JSON) {
            return Err("a field has the wrong type for a package.json".into());
        }
        let empty = serde_json::Map::new();
        let object = value.as_object().unwrap_or(&empty);
        manifests.push(Manifest {
            name: gojson::string(object, "name"),
            version: gojson::string(object, "version"),
            licenses: licenses(object),
            private: gojson::field(object, "private").and_then(Value::as_bool) == Some(true),
        });
    }
    Ok(manifests)
}

/// `licensesFromJSON`: `license` when it is a string or an object (its
/// `type`), else the `licenses` list's types when every entry decodes.
fn licenses(object: &serde_json::Map<String, Value>) -> Vec<String> {
    let single = match gojson::field(object, "license") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) => Some(String::new()),
        Some(v) if v.is_object() && gojson::fits(v, LICENSE) => {
            v.as_object().map(|o| gojson::string(o, "type"))
        }
        _ => None,
    };
    let all = match single {
        Some(s) => vec![s],
        None => match gojson::field(object, "licenses") {
            Some(Value::Array(list)) if list.iter().all(|l| gojson::fits(l, LICENSE)) => list
                .iter()
                .map(|l| {
                    l.as_object()
                        .map(|o| gojson::string(o, "type"))
                        .unwrap_or_default()
                })
                .collect(),
            _ => Vec::new(),
        },
    };
    all.into_iter().filter(|l| !l.trim().is_empty()).collect()
}

/// The PURL Syft writes for an npm package: the namespace is what comes
/// before the name's first `/`.
pub fn purl(name: &str, version: &str) -> String {
    let (namespace, short) = match name.split_once('/') {
        Some((namespace, short)) => (Some(namespace), short),
        None => (None, name),
    };
    purl::build("npm", namespace, short, version, &[])
}

impl Manifest {
    /// The package Syft reports for this document (name, version, PURL),
    /// after its compliance rules; `None` when it drops it.
    pub fn identity(&self) -> Option<(String, String, String)> {
        compliant_identity(&self.name, &self.version, purl)
    }
}

pub fn catalog(flat: &Flattened, _distro: Option<&Distro>, out: &mut Catalog) {
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
        let documents = match parse(&text) {
            Ok(documents) => documents,
            Err(e) => {
                out.warnings.push(format!("/{path}: {e}"));
                continue;
            }
        };
        for manifest in documents {
            let Some(identity) = manifest.identity() else {
                continue; // workspace roots and test fixtures often have no name
            };
            out.packages.push(Package::declared_in(
                PackageType::Npm,
                identity,
                manifest.licenses,
                format!("/{path}"),
                layer_of(flat, &path),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Manifest {
        let mut all = parse(text).unwrap();
        assert_eq!(all.len(), 1, "{text}");
        all.remove(0)
    }

    #[test]
    fn every_package_json_is_wanted() {
        for path in [
            "usr/share/nodejs/acorn/package.json",
            "app/package.json",
            "package.json",
            "app/node_modules/@babel/core/package.json",
        ] {
            assert!(wants(path), "{path}");
        }
        for path in [
            "app/package-lock.json",
            "app/package.json.bak",
            "app/xpackage.json",
        ] {
            assert!(!wants(path), "{path}");
        }
    }

    #[test]
    fn identity_as_syft_writes_it() {
        let m = one(r#"{"name": "@babel/core", "version": "7.0.0"}"#);
        assert_eq!(
            m.identity().unwrap(),
            (
                "@babel/core".into(),
                "7.0.0".into(),
                "pkg:npm/%40babel/core@7.0.0".into()
            )
        );
        // Any text before a `/` is the namespace, scope or not.
        assert_eq!(purl("a/b/c", "1"), "pkg:npm/a/b/c@1");
        assert_eq!(purl("x y", "1+2"), "pkg:npm/x%20y@1%2B2");
    }

    #[test]
    fn compliance_drops_nameless_and_stubs_versionless() {
        assert_eq!(one(r#"{"version": "1.0.0"}"#).identity(), None);
        assert_eq!(one(r#"{"name": "  ", "version": "1"}"#).identity(), None);
        assert_eq!(
            one(r#"{"name": "app"}"#).identity().unwrap(),
            ("app".into(), "UNKNOWN".into(), "pkg:npm/app".into())
        );
        assert_eq!(
            one(r#"{"name": "app", "version": " "}"#)
                .identity()
                .unwrap()
                .1,
            "UNKNOWN"
        );
    }

    #[test]
    fn private_packages_are_kept() {
        let m = one(r#"{"name": "mine", "version": "0.1.0", "private": true}"#);
        assert!(m.private);
        assert!(m.identity().is_some());
    }

    #[test]
    fn a_field_of_the_wrong_type_loses_the_file() {
        for text in [
            r#"{"name": "a", "version": "1", "private": "true"}"#,
            r#"{"name": "a", "version": 1}"#,
            r#"{"name": "a", "version": "1", "dependencies": {"b": 2}}"#,
            r#"{"name": "a", "version": "1", "author": ["x"]}"#,
            r#"{"name": "a", "version": "1", "repository": {"url": "u", "x": {}}}"#,
            r#"{"name": "a", "version": "1", "Description": ["x"]}"#,
            r#"{"name": "a", "version": "1"} {"name": 2}"#,
            r#"{"name": "a", "version": "1"} trailing"#,
            r#"[{"name": "a", "version": "1"}]"#,
        ] {
            assert!(parse(text).is_err(), "{text}");
        }
        // What Go's decoder accepts.
        for text in [
            r#"{"name": "a", "version": "1", "author": {"name": "n", "extra": 1}}"#,
            r#"{"name": "a", "version": "1", "repository": "git://x", "private": null}"#,
            r#"{"name": "a", "version": "1", "license": 5, "latest": ["1", null]}"#,
        ] {
            assert!(parse(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn several_documents_or_none() {
        assert_eq!(parse("").unwrap(), []);
        assert_eq!(parse(" \n").unwrap(), []);
        let all = parse(r#"{"name": "a", "version": "1"}{"name": "b", "version": "2"}"#).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].name, "b");
        assert_eq!(one("null").identity(), None);
    }

    #[test]
    fn licenses_old_and_new() {
        let case =
            |body: &str| one(&format!(r#"{{"name": "a", "version": "1", {body}}}"#)).licenses;
        assert_eq!(case(r#""license": "MIT""#), ["MIT"]);
        assert_eq!(
            case(r#""license": {"type": "ISC", "url": "https://x"}"#),
            ["ISC"]
        );
        assert_eq!(
            case(r#""licenses": [{"type": "MIT", "url": "u"}, {"type": "Apache-2.0"}]"#),
            ["MIT", "Apache-2.0"]
        );
        // `license` wins over the deprecated list, whatever it holds.
        assert_eq!(
            case(r#""license": "BSD", "licenses": [{"type": "MIT"}]"#),
            ["BSD"]
        );
        // A `license` Syft cannot read sends it to the list.
        assert_eq!(
            case(r#""license": 5, "licenses": [{"type": "MIT"}]"#),
            ["MIT"]
        );
        let none: [&str; 0] = [];
        assert_eq!(case(r#""licenses": ["MIT"]"#), none);
        assert_eq!(case(r#""licenses": [{"type": 1}]"#), none);
        assert_eq!(
            case(r#""license": null, "licenses": [{"type": "MIT"}]"#),
            none
        );
    }
}
