//! Shared by the tests that compare pare with Syft 1.18 on Syft's own
//! cataloger fixtures (`syft_fixtures_*.rs`): a root folder is cataloged
//! both as the folder and as a docker archive packed from it, and Syft is
//! run on that archive. Syft is compared on the image, not the folder: for
//! a folder Syft runs its *declared* catalogers (lock files) instead of its
//! *installed* ones, while pare reports what is installed in either.

#![allow(dead_code)]

pub mod pe_build;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use pare_image::{ImageRef, Platform, Source};
use pare_sbom::{Catalog, Package};
use serde_json::Value;

/// (type, name, version, PURL): what the parity tests compare.
pub type Id = (String, String, String, String);

pub fn id(kind: &str, name: &str, version: &str, purl: &str) -> Id {
    (kind.into(), name.into(), version.into(), purl.into())
}

pub fn package_id(p: &Package) -> Id {
    (
        p.kind.as_str().to_string(),
        p.name.clone(),
        p.version.clone(),
        p.purl.clone(),
    )
}

pub fn artifact_id(a: &Value) -> Id {
    let s = |k: &str| a[k].as_str().unwrap_or_default().to_string();
    (s("type"), s("name"), s("version"), s("purl"))
}

/// A root folder's catalogs, from the folder and from an image of it.
pub struct Cataloged {
    pub from_dir: Catalog,
    pub from_image: Catalog,
    /// The docker archive packed from the folder, for Syft; removed when
    /// this value is dropped.
    pub archive: PathBuf,
    _work: tempfile::TempDir,
}

/// Catalogs `root` as a `dir:` source, then packs it into a docker archive
/// with pare's writer and catalogs that.
pub fn catalog_root(root: &Path) -> Cataloged {
    let reference = ImageRef::Dir { path: root.into() };
    let source = Source::open(&reference, &Platform::default()).unwrap();
    let flat = source.flatten_with(pare_sbom::flatten_options()).unwrap();
    let from_dir = pare_sbom::catalog(&flat);

    let work = tempfile::tempdir().unwrap();
    let archive_path = work.path().join("image.tar");
    let archive = ImageRef::DockerArchive {
        path: archive_path.clone(),
        name: None,
    };
    pare_image::write::write_image(&source, &archive, &Default::default()).unwrap();
    let image = Source::open(&archive, &Platform::default()).unwrap();
    let flat = image.flatten_with(pare_sbom::flatten_options()).unwrap();
    Cataloged {
        from_dir,
        from_image: pare_sbom::catalog(&flat),
        archive: archive_path,
        _work: work,
    }
}

/// Every artifact Syft lists for the docker archive at `archive`, or
/// `None` when `syft` is missing (a skip locally, a failure under
/// `CI=true`, by `pare_testkit::tool`).
pub fn syft_artifacts(archive: &Path) -> Option<Vec<Value>> {
    syft_artifacts_of(&format!("docker-archive:{}", archive.display()))
}

/// Every artifact Syft lists for `source` (`docker-archive:…`, `dir:…`)
/// with its default catalogers for that kind of source; `None` as
/// [`syft_artifacts`].
pub fn syft_artifacts_of(source: &str) -> Option<Vec<Value>> {
    pare_testkit::tool("syft")?;
    let out = Command::new("syft")
        .args(["-q", source, "-o", "json"])
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "syft: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    Some(doc["artifacts"].as_array().cloned().unwrap_or_default())
}

/// What pare and Syft say of one tree: pare's packages (the same from the
/// folder and from the image, or the comparison fails), Syft's for the
/// image when `syft` is there, and pare's warnings.
pub struct Compared {
    pub pare: BTreeSet<Id>,
    pub syft: Option<BTreeSet<Id>>,
    pub warnings: Vec<String>,
}

/// Catalogs `root` (see [`catalog_root`]) and asks Syft for the artifacts
/// `syft_keeps` selects.
pub fn compare_root(root: &Path, syft_keeps: impl Fn(&Value) -> bool) -> Compared {
    let cataloged = catalog_root(root);
    let ids = |c: &Catalog| -> BTreeSet<Id> { c.packages.iter().map(package_id).collect() };
    assert_eq!(
        ids(&cataloged.from_image),
        ids(&cataloged.from_dir),
        "image and folder disagree"
    );
    let syft = syft_artifacts(&cataloged.archive).map(|artifacts| {
        artifacts
            .iter()
            .filter(|a| syft_keeps(a))
            .map(artifact_id)
            .collect()
    });
    Compared {
        pare: ids(&cataloged.from_dir),
        syft,
        warnings: cataloged.from_dir.warnings,
    }
}

/// What pare and Syft say of one tree seen as each kind of source: as an
/// image (Syft's image catalogers) and as a root folder (Syft's directory
/// catalogers, `syft dir:`), for the catalogers whose rules differ by
/// kind (.NET's deps files).
pub struct ComparedByKind {
    pub image: Compared,
    pub dir: Compared,
}

/// Catalogs `root` as a folder and as an image of it (see
/// [`catalog_root`]), and asks Syft about each, keeping the artifacts
/// `syft_keeps` selects.
pub fn compare_root_by_kind(root: &Path, syft_keeps: impl Fn(&Value) -> bool) -> ComparedByKind {
    let cataloged = catalog_root(root);
    let ids = |c: &Catalog| -> BTreeSet<Id> { c.packages.iter().map(package_id).collect() };
    let syft = |source: String| {
        syft_artifacts_of(&source).map(|artifacts| {
            artifacts
                .iter()
                .filter(|a| syft_keeps(a))
                .map(artifact_id)
                .collect()
        })
    };
    ComparedByKind {
        image: Compared {
            pare: ids(&cataloged.from_image),
            syft: syft(format!("docker-archive:{}", cataloged.archive.display())),
            warnings: cataloged.from_image.warnings.clone(),
        },
        dir: Compared {
            pare: ids(&cataloged.from_dir),
            syft: syft(format!("dir:{}", root.display())),
            warnings: cataloged.from_dir.warnings.clone(),
        },
    }
}

/// Fails unless pare's and Syft's packages for `tree` are the same, apart
/// from `allowed` differences: (tree, PURL, reason).
pub fn assert_parity(tree: &str, compared: &Compared, allowed: &[(&str, &str, &str)]) {
    let Some(syft) = &compared.syft else {
        return;
    };
    let allowed = |id: &Id| {
        allowed
            .iter()
            .any(|(t, purl, _)| *t == tree && *purl == id.3)
    };
    let missing: Vec<_> = syft
        .difference(&compared.pare)
        .filter(|id| !allowed(id))
        .collect();
    let extra: Vec<_> = compared
        .pare
        .difference(syft)
        .filter(|id| !allowed(id))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{tree}: missing {missing:#?}\nextra {extra:#?}\nwarnings {:#?}",
        compared.warnings
    );
}

/// Every file under `tests/data/syft-fixtures/DIR` for each of `dirs`, as
/// paths relative to `syft-fixtures/`: what an `every_fixture_is_used`
/// test compares with the files its trees use.
pub fn fixture_files(dirs: &[&str]) -> BTreeSet<String> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/syft-fixtures");
    let mut present = BTreeSet::new();
    let mut stack: Vec<PathBuf> = dirs.iter().map(|d| base.join(d)).collect();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(&base).unwrap();
                present.insert(relative.to_string_lossy().into_owned());
            }
        }
    }
    present
}

/// Where a file of a test root comes from.
pub enum Src {
    /// A committed Syft fixture, under `tests/data/syft-fixtures`.
    Fixture(&'static str),
    /// These bytes.
    Bytes(Vec<u8>),
    /// A symlink to this target.
    Link(&'static str),
}

/// A file of a test root holding `text` (reads like the variants it
/// stands beside in the tables).
#[allow(non_snake_case)]
pub fn Text(text: impl Into<String>) -> Src {
    Src::Bytes(text.into().into_bytes())
}

/// A committed Syft fixture's path.
pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/syft-fixtures")
        .join(relative)
}

/// Lays `files` out under `root`.
pub fn build(root: &Path, files: &[(String, Src)]) {
    for (path, src) in files {
        let target = root.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        match src {
            Src::Fixture(f) => {
                std::fs::copy(fixture(f), &target).unwrap_or_else(|e| panic!("{f}: {e}"));
            }
            Src::Bytes(b) => std::fs::write(&target, b).unwrap(),
            Src::Link(to) => std::os::unix::fs::symlink(to, &target).unwrap(),
        }
    }
}
