//! Rust crates compiled into binaries built with `cargo auditable`: its
//! JSON dependency list (found by [`crate::executables`]). As Syft, every
//! runtime package is reported, the root crate included; build-time
//! dependencies (`"kind": "build"`) are not in the binary and are left out.

use serde::Deserialize;

use crate::model::{Package, PackageType};
use crate::purl;

#[derive(Deserialize)]
struct VersionInfo {
    packages: Vec<AuditPackage>,
}

#[derive(Deserialize)]
struct AuditPackage {
    name: String,
    version: String,
    #[serde(default)]
    kind: Option<String>,
}

/// The packages of one binary at `path` (absolute), or why the data is bad.
pub fn packages(json: &[u8], path: &str, layer: Option<usize>) -> Result<Vec<Package>, String> {
    let info: VersionInfo =
        serde_json::from_slice(json).map_err(|e| format!("invalid cargo-auditable data: {e}"))?;
    Ok(info
        .packages
        .into_iter()
        .filter(|p| p.kind.as_deref().unwrap_or("runtime") == "runtime" && !p.name.is_empty())
        .map(|p| {
            let purl = purl::build("cargo", None, &p.name, &p.version, &[]);
            let cpe = format!(
                "cpe:2.3:a:{0}:{0}:{1}:*:*:*:*:*:*:*",
                purl::cpe_escape(&p.name),
                purl::cpe_escape(&p.version)
            );
            Package::in_binary(
                PackageType::RustCrate,
                p.name,
                p.version,
                purl,
                vec![cpe],
                Vec::new(),
                None,
                path,
                layer,
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn runtime_packages_with_the_root_and_without_build_dependencies() {
        let json = br#"{"packages":[{"name":"itoa","version":"1.0.19","source":"crates.io"},
            {"name":"cc","version":"1.0.0","source":"crates.io","kind":"build"},
            {"name":"hello","version":"0.3.1","source":"local","dependencies":[0],"root":true}],"format":1}"#;
        let packages = super::packages(json, "/usr/bin/hello", Some(2)).unwrap();
        let got: Vec<_> = packages
            .iter()
            .map(|p| (&p.name[..], &p.purl[..]))
            .collect();
        assert_eq!(
            got,
            [
                ("itoa", "pkg:cargo/itoa@1.0.19"),
                ("hello", "pkg:cargo/hello@0.3.1")
            ]
        );
        assert!(super::packages(b"{\"packages\":[", "/x", None).is_err());
    }
}
