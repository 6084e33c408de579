//! Python packages, as Syft 1.18's `python-installed-package-cataloger`
//! finds them (anchore/syft v1.18.1, `syft/pkg/cataloger/python/`):
//!
//! - Metadata files (`cataloger.go` `NewInstalledPackageCataloger`): a
//!   file named `*.egg-info`, and `METADATA` in a folder named `*dist-info`
//!   or `*DIST-INFO`, `PKG-INFO` in one named `*egg-info` or `*EGG-INFO`
//!   (so an egg installed as a folder, `foo-1.0-py3.11.egg/EGG-INFO/PKG-INFO`,
//!   counts too). The globs are case-sensitive.
//! - Headers as [`metadata`] reads them. No `Name`: no package; the name
//!   `Python` (Python 2.7's own `Python-2.7.egg-info`) is the runtime, not
//!   a package (`parse_wheel_egg.go` `parseWheelOrEgg`).
//! - The name is normalised for both the name and the PURL (`package.go`
//!   `normalize`: runs of `-`, `_`, `.` become one `-`, then lower case:
//!   `PyYAML` → `pyyaml`, `zope.interface` → `zope-interface`).
//! - No version: `UNKNOWN` (Syft's compliance rule), the PURL without one.
//! - Owned files from `RECORD` beside the metadata ([`record`]), or, when it
//!   gives none, `installed-files.txt` (paths relative to that folder).
//! - `direct_url.json` beside the metadata: a VCS install adds the PURL
//!   qualifier `vcs_url=VCS+URL@COMMIT` (`purlQualifiersForPackage`); a
//!   file that does not decode into Syft's struct loses the package.
//! - Licenses (`findLicenses`): `License-Expression`, else `License`, else
//!   the file `License-File` names, beside the metadata, recognised when it
//!   is one of a few common licence texts (Syft runs a full classifier).

mod metadata;
mod record;

use pare_image::Flattened;
use pare_image::paths::{file_name, join_in_root, parent};
use pare_image::tree::NodeKind;
use serde_json::Value;

use crate::model::{Catalog, Distro, Package, PackageType};
use crate::npm::gojson::{self, Shape};
use crate::purl;
use crate::read::{layer_of, read_bytes, read_text};

pub use metadata::Metadata;
pub use record::record_paths;

/// Syft's `directURLOrigin` struct.
const DIRECT_URL: Shape = Shape::Struct(&[
    ("url", Shape::Str),
    (
        "vcs_info",
        Shape::Struct(&[
            ("commit_id", Shape::Str),
            ("vcs", Shape::Str),
            ("requested_revision", Shape::Str),
        ]),
    ),
    ("archive_info", Shape::Struct(&[("hash", Shape::Str)])),
    ("dir_info", Shape::Struct(&[("editable", Shape::Bool)])),
]);

/// Whether `path` is a metadata file Syft's globs match.
pub fn is_metadata(path: &str) -> bool {
    let name = file_name(path);
    let dir = file_name(parent(path));
    name.ends_with(".egg-info")
        || (name == "METADATA" && (dir.ends_with("dist-info") || dir.ends_with("DIST-INFO")))
        || (name == "PKG-INFO" && (dir.ends_with("egg-info") || dir.ends_with("EGG-INFO")))
}

fn is_metadata_dir(dir: &str) -> bool {
    ["dist-info", "DIST-INFO", "egg-info", "EGG-INFO"]
        .iter()
        .any(|s| dir.ends_with(s))
}

/// The files to capture: metadata, and what is read beside it in its
/// folder (`RECORD`, `installed-files.txt`, `direct_url.json`, licence
/// files). For a bare `foo.egg-info` file Syft looks for those in the
/// folder the file is in; pare does not capture them there, so in images
/// (not root folders, which are read directly) such a package has no
/// owned files and no VCS qualifier.
pub fn wants(path: &str) -> bool {
    if is_metadata(path) {
        return true;
    }
    let name = file_name(path);
    let dir = parent(path);
    if is_metadata_dir(file_name(dir)) {
        return ["RECORD", "installed-files.txt", "direct_url.json"].contains(&name)
            || looks_like_license(name);
    }
    // PEP 639 puts licence files in `licenses/` of the metadata folder.
    file_name(dir) == "licenses" && is_metadata_dir(file_name(parent(dir)))
}

fn looks_like_license(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["LICEN", "COPYING", "NOTICE", "COPYRIGHT"]
        .iter()
        .any(|p| upper.starts_with(p))
}

/// PEP 503 normalisation as Syft does it, for names and PURLs alike.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::new();
    let mut last_sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !last_sep {
                out.push('-');
            }
            last_sep = true;
        } else {
            // Go's strings.ToLower maps rune to rune.
            out.push(c.to_lowercase().next().unwrap_or(c));
            last_sep = false;
        }
    }
    out
}

/// The VCS a package was installed from (`direct_url.json`), as the PURL
/// qualifier Syft writes; `Err` when the file does not decode.
pub fn vcs_url(direct_url: &str) -> Result<Option<String>, String> {
    let value: Value =
        serde_json::from_str(direct_url).map_err(|e| format!("direct_url.json: {e}"))?;
    if !gojson::fits(&value, DIRECT_URL) {
        return Err("direct_url.json: a field has the wrong type".into());
    }
    let Some(object) = value.as_object() else {
        return Ok(None);
    };
    let empty = serde_json::Map::new();
    let vcs_info = gojson::field(object, "vcs_info")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let vcs = gojson::string(vcs_info, "vcs");
    if vcs.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "{vcs}+{}@{}",
        gojson::string(object, "url"),
        gojson::string(vcs_info, "commit_id")
    )))
}

/// The PURL Syft writes for a Python package (its name normalised).
pub fn purl(name: &str, version: &str, vcs_url: Option<&str>) -> String {
    let qualifiers: Vec<(&str, String)> = vcs_url
        .map(|v| vec![("vcs_url", v.to_string())])
        .unwrap_or_default();
    purl::build("pypi", None, &normalize_name(name), version, &qualifiers)
}

pub fn catalog(flat: &Flattened, _distro: Option<&Distro>, out: &mut Catalog) {
    let metadata: Vec<String> = flat
        .tree
        .iter()
        .filter(|(p, n)| matches!(n.kind, NodeKind::File(_)) && is_metadata(p))
        .map(|(p, _)| p.to_string())
        .collect();
    for path in metadata {
        if let Some(package) = package(flat, &path, out) {
            out.packages.push(package);
        }
    }
}

fn package(flat: &Flattened, path: &str, out: &mut Catalog) -> Option<Package> {
    let text = read_text(flat, path, out)?;
    let fields = match metadata::parse(&text) {
        Ok(fields) => fields,
        Err(e) => {
            out.warnings.push(format!("/{path}: {e}"));
            return None;
        }
    };
    if fields.name.is_empty() {
        out.warnings.push(format!("/{path}: no Name; skipped"));
        return None;
    }
    if fields.name == "Python" {
        return None; // the runtime itself
    }
    let dir = parent(path);
    let bare_egg_info = file_name(path).ends_with(".egg-info");
    let site = if bare_egg_info { dir } else { parent(dir) };
    let beside = |name: &str| pare_image::paths::child(dir, name);

    // RECORD's entries (paths from the site folder), or when it has none,
    // installed-files.txt's (paths from the metadata's folder).
    let record = read_bytes(flat, &beside("RECORD"), out)
        .map(|bytes| record::record_paths(&bytes))
        .unwrap_or_default();
    let mut files: Vec<String> = if !record.is_empty() {
        record
            .iter()
            .filter(|f| !f.is_empty())
            .map(|f| format!("/{}", join_in_root(site, f)))
            .collect()
    } else {
        read_text(flat, &beside("installed-files.txt"), out)
            .map(|text| {
                record::installed_files(&text)
                    .iter()
                    .filter(|f| !f.is_empty())
                    .map(|f| format!("/{}", join_in_root(dir, f)))
                    .collect()
            })
            .unwrap_or_default()
    };
    files.dedup();

    let vcs = match read_text(flat, &beside("direct_url.json"), out).map(|t| vcs_url(&t)) {
        None => None,
        Some(Ok(vcs)) => vcs,
        Some(Err(e)) => {
            out.warnings.push(format!("/{dir}/{e}; package skipped"));
            return None;
        }
    };

    let name = normalize_name(&fields.name);
    let purl = purl(&name, &fields.version, vcs.as_deref());
    let version = if fields.version.is_empty() {
        crate::npm::UNKNOWN.to_string()
    } else {
        fields.version.clone()
    };
    Some(Package {
        name,
        version,
        kind: PackageType::Python,
        purl,
        cpes: Vec::new(),
        licenses: licenses(flat, dir, &fields, out),
        source: None,
        source_version: None,
        architecture: None,
        files,
        found_at: format!("/{path}"),
        layer: layer_of(flat, path),
    })
}

/// `findLicenses`: the expression, else the `License` header, else the
/// text of the `License-File`.
fn licenses(flat: &Flattened, dir: &str, fields: &Metadata, out: &mut Catalog) -> Vec<String> {
    let declared = if !fields.license_expression.is_empty() {
        &fields.license_expression
    } else {
        &fields.license
    };
    if !declared.is_empty() {
        return if declared == "UNKNOWN" {
            Vec::new()
        } else {
            vec![declared.clone()]
        };
    }
    if fields.license_file.is_empty() {
        return Vec::new();
    }
    let path = join_in_root(dir, &fields.license_file);
    read_text(flat, &path, out)
        .and_then(|text| identify_license(&text))
        .map(|id| vec![id.to_string()])
        .unwrap_or_default()
}

/// The SPDX id of a few common licence texts, by phrases only they have.
pub fn identify_license(text: &str) -> Option<&'static str> {
    let flat: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    let has = |p: &str| flat.contains(p);
    if has("apache license") && has("version 2.0") {
        Some("Apache-2.0")
    } else if has("mozilla public license version 2.0")
        || has("mozilla public license, version 2.0")
    {
        Some("MPL-2.0")
    } else if has("permission is hereby granted, free of charge, to any person obtaining a copy")
        && has("the above copyright notice and this permission notice shall be included")
    {
        Some("MIT")
    } else if has(
        "permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is hereby granted",
    ) {
        Some("ISC")
    } else if has(
        "redistribution and use in source and binary forms, with or without modification, are permitted",
    ) {
        if has("neither the name") || has("may not be used to endorse or promote") {
            Some("BSD-3-Clause")
        } else {
            Some("BSD-2-Clause")
        }
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalised_as_syft_does() {
        for (name, want) in [
            ("PyYAML", "pyyaml"),
            ("zope.interface", "zope-interface"),
            ("typing_extensions", "typing-extensions"),
            ("a.-_b", "a-b"),
            ("Ünicode", "ünicode"),
        ] {
            assert_eq!(normalize_name(name), want);
        }
        assert_eq!(purl("PyYAML", "6.0.1", None), "pkg:pypi/pyyaml@6.0.1");
        assert_eq!(purl("x", "", None), "pkg:pypi/x");
    }

    #[test]
    fn metadata_globs() {
        for path in [
            "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA",
            "site/foo.egg-info",
            "site/foo.egg-info/PKG-INFO",
            "site/foo-1.0-py3.11.egg/EGG-INFO/PKG-INFO",
            "site/x.DIST-INFO/METADATA",
            "site/dist-info/METADATA",
            "site/egg-info/PKG-INFO",
        ] {
            assert!(is_metadata(path), "{path}");
        }
        for path in [
            "site/foo.dist-info/PKG-INFO",
            "site/foo.Dist-Info/METADATA",
            "site/foo.egg/PKG-INFO",
            "site/foo.dist-info/RECORD",
        ] {
            assert!(!is_metadata(path), "{path}");
        }
        assert!(wants("site/foo.dist-info/RECORD"));
        assert!(wants("site/foo.egg-info/installed-files.txt"));
        assert!(wants("site/foo.dist-info/direct_url.json"));
        assert!(wants("site/foo.dist-info/LICENSE.txt"));
        assert!(wants("site/foo.dist-info/licenses/LICENSE"));
        assert!(!wants("site/RECORD"));
        assert!(!wants("site/foo.dist-info/top_level.txt"));
    }

    #[test]
    fn direct_url_vcs_qualifier() {
        let text = r#"{"url": "https://github.com/python-test/test.git", "vcs_info": {"commit_id": "aaaa", "vcs": "git"}}"#;
        let vcs = vcs_url(text).unwrap().unwrap();
        assert_eq!(vcs, "git+https://github.com/python-test/test.git@aaaa");
        assert_eq!(
            purl("test", "1.0", Some(&vcs)),
            "pkg:pypi/test@1.0?vcs_url=git%2Bhttps://github.com/python-test/test.git%40aaaa"
        );
        assert_eq!(
            vcs_url(r#"{"url": "file:///src", "dir_info": {"editable": true}}"#).unwrap(),
            None
        );
        assert!(vcs_url(r#"{"dir_info": {"editable": "yes"}}"#).is_err());
        assert!(vcs_url("").is_err());
        assert!(vcs_url("[]").is_err());
    }

    #[test]
    fn licence_texts() {
        assert_eq!(
            identify_license(
                "Permission is hereby granted, free of charge, to any person obtaining a copy\nof this software ... The above copyright notice and this permission notice shall be included in all"
            ),
            Some("MIT")
        );
        assert_eq!(
            identify_license(
                "                                 Apache License\n                           Version 2.0, January 2004"
            ),
            Some("Apache-2.0")
        );
        assert_eq!(identify_license("All rights reserved."), None);
    }
}
