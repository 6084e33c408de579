//! The `dotnet` test image (tests/images/dotnet: Debian's Mono class
//! libraries and C# compiler, an app compiled with mcs, an App.deps.json)
//! against Syft 1.18: as the image (`syft docker-archive:`, every package
//! type) and as a root folder of its files (`syft dir:`, .NET packages:
//! Syft reads deps files for folders only). A missing image or `syft`
//! skips locally and fails under `CI=true`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use pare_image::{ImageRef, Platform, Source};
use serde_json::Value;

mod common;

use common::{Compared, Id, artifact_id, id, package_id};

/// Known differences from Syft on this image: none.
const ALLOWED: &[(&str, &str, &str)] = &[];

fn catalog(reference: &ImageRef) -> pare_sbom::Catalog {
    let source = Source::open(reference, &Platform::default()).unwrap();
    let flat = source.flatten_with(pare_sbom::flatten_options()).unwrap();
    pare_sbom::catalog(&flat)
}

fn ids(catalog: &pare_sbom::Catalog, kind: Option<&str>) -> BTreeSet<Id> {
    catalog
        .packages
        .iter()
        .filter(|p| kind.is_none_or(|k| p.kind.as_str() == k))
        .map(package_id)
        .collect()
}

fn syft(source: &str, kind: Option<&str>) -> Option<BTreeSet<Id>> {
    let artifacts = common::syft_artifacts_of(source)?;
    Some(
        artifacts
            .iter()
            .filter(|a| kind.is_none_or(|k| a["type"] == k))
            .map(artifact_id)
            .collect(),
    )
}

fn nuget(name: &str, version: &str) -> Id {
    let purl = format!(
        "pkg:nuget/{}@{}",
        name.replace(' ', "%20").replace('#', "%23"),
        version
    );
    id("dotnet", name, version, &purl)
}

#[test]
fn dotnet_image_matches_syft() {
    let Some(archive) = pare_testkit::test_image("dotnet") else {
        return;
    };
    let reference = ImageRef::DockerArchive {
        path: archive.clone(),
        name: None,
    };
    let ours = catalog(&reference);
    let compared = Compared {
        pare: ids(&ours, None),
        syft: syft(&format!("docker-archive:{}", archive.display()), None),
        warnings: ours.warnings.clone(),
    };
    common::assert_parity("dotnet-image", &compared, ALLOWED);

    let dotnet = ids(&ours, Some("dotnet"));
    for want in [
        // Compiled here by mcs from the assembly attributes: the product
        // name, and the file version (1.4.0.0 against the informational
        // 1.4.0+commit: equal as versions, more parts wins).
        nuget("Pare.Hello", "1.4.0.0"),
        // No product: the title (FileDescription), the greater version.
        nuget("Pare Greeting Library", "2.1.0.17"),
        // Mono's own: ProductName where it has one, else FileDescription.
        nuget("Mono Common Language Infrastructure", "4.6.57.0"),
        nuget("Mono C# Compiler", "4.6.57.0"),
        nuget("Mono.Posix.dll", "4.0.0.0"),
    ] {
        assert!(dotnet.contains(&want), "{want:?} not in {dotnet:#?}");
    }
    // One package per PE file, the GAC's files once (the 4.5 folder's
    // symlinks lead to them), none from the deps file.
    let files: Vec<&str> = ours
        .packages
        .iter()
        .filter(|p| p.kind.as_str() == "dotnet")
        .map(|p| p.found_at.as_str())
        .collect();
    assert!(files.len() >= 15, "{files:#?}");
    assert!(
        files
            .iter()
            .all(|f| !f.starts_with("/usr/lib/mono/4.5/System"))
    );
    assert!(files.contains(&"/srv/app/Hello.exe"));
    assert!(!files.iter().any(|f| f.ends_with(".deps.json")));
}

/// The image's layers unpacked into a folder with `tar` (whiteout files
/// stay as files: none is a `.dll`, `.exe` or deps file).
fn unpack(archive: &Path, root: &Path) {
    let manifest = Command::new("tar")
        .args(["-xOf", &archive.display().to_string(), "manifest.json"])
        .output()
        .unwrap();
    assert!(manifest.status.success());
    let manifest: Value = serde_json::from_slice(&manifest.stdout).unwrap();
    for layer in manifest[0]["Layers"].as_array().unwrap() {
        let status = Command::new("sh")
            .args([
                "-c",
                "tar -xOf \"$1\" \"$2\" | tar -x -C \"$3\" --no-same-owner",
                "unpack",
                &archive.display().to_string(),
                layer.as_str().unwrap(),
                &root.display().to_string(),
            ])
            .status()
            .unwrap();
        assert!(status.success(), "{layer}");
    }
}

#[test]
fn dotnet_image_files_as_a_folder_match_syft() {
    let Some(archive) = pare_testkit::test_image("dotnet") else {
        return;
    };
    if pare_testkit::tool("tar").is_none() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    unpack(&archive, root.path());
    let ours = catalog(&ImageRef::Dir {
        path: root.path().into(),
    });
    let compared = Compared {
        pare: ids(&ours, Some("dotnet")),
        syft: syft(&format!("dir:{}", root.path().display()), Some("dotnet")),
        warnings: ours.warnings.clone(),
    };
    common::assert_parity("dotnet-dir", &compared, ALLOWED);
    // The deps file's libraries now, beside the PE files.
    for want in [
        nuget("App", "1.4.0"),
        nuget("Newtonsoft.Json", "13.0.3"),
        nuget("Serilog", "3.1.1"),
        nuget("Greeting", "2.1.0"),
        nuget("Pare.Hello", "1.4.0.0"),
    ] {
        assert!(compared.pare.contains(&want), "{want:?}");
    }
}
