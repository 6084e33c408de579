//! The package model every later stage (minify, scan, compare) uses.

use serde::Serialize;

/// Which ecosystem a package belongs to (Syft's type names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackageType {
    Deb,
    Apk,
    Rpm,
    Python,
    Npm,
    Gem,
    PhpComposer,
    PhpPecl,
    GoModule,
    RustCrate,
    JavaArchive,
    JenkinsPlugin,
    Dotnet,
    Binary,
}

impl PackageType {
    /// The name Syft prints in its `type` column.
    pub fn as_str(self) -> &'static str {
        match self {
            PackageType::Deb => "deb",
            PackageType::Apk => "apk",
            PackageType::Rpm => "rpm",
            PackageType::Python => "python",
            PackageType::Npm => "npm",
            PackageType::Gem => "gem",
            PackageType::PhpComposer => "php-composer",
            PackageType::PhpPecl => "php-pecl",
            PackageType::GoModule => "go-module",
            PackageType::RustCrate => "rust-crate",
            PackageType::JavaArchive => "java-archive",
            PackageType::JenkinsPlugin => "jenkins-plugin",
            PackageType::Dotnet => "dotnet",
            PackageType::Binary => "binary",
        }
    }
}

/// One installed package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    #[serde(rename = "type")]
    pub kind: PackageType,
    /// Package URL, as the PURL spec and Syft write it.
    pub purl: String,
    pub cpes: Vec<String>,
    /// Declared licenses, as written by the package.
    pub licenses: Vec<String>,
    /// The source package, for OS packages built from one.
    pub source: Option<String>,
    pub source_version: Option<String>,
    pub architecture: Option<String>,
    /// Files the package owns, absolute paths inside the image.
    pub files: Vec<String>,
    /// The metadata file this package was read from.
    pub found_at: String,
    /// The layer (0-based) from which on the package is present unchanged;
    /// `None` for root folders.
    pub layer: Option<usize>,
}

impl Package {
    /// A package described by the metadata file at `found_at` (absolute), as
    /// language ecosystems install them: no source package, architecture,
    /// CPEs or owned files.
    pub fn declared_in(
        kind: PackageType,
        (name, version, purl): (String, String, String),
        licenses: Vec<String>,
        found_at: String,
        layer: Option<usize>,
    ) -> Package {
        Package {
            name,
            version,
            kind,
            purl,
            cpes: Vec::new(),
            licenses,
            source: None,
            source_version: None,
            architecture: None,
            files: Vec::new(),
            found_at,
            layer,
        }
    }

    /// A package compiled into the binary at `path` (absolute): it owns
    /// that file and was found there.
    #[allow(clippy::too_many_arguments)]
    pub fn in_binary(
        kind: PackageType,
        name: String,
        version: String,
        purl: String,
        cpes: Vec<String>,
        licenses: Vec<String>,
        architecture: Option<String>,
        path: &str,
        layer: Option<usize>,
    ) -> Package {
        Package {
            name,
            version,
            kind,
            purl,
            cpes,
            licenses,
            source: None,
            source_version: None,
            architecture,
            files: vec![path.to_string()],
            found_at: path.to_string(),
            layer,
        }
    }
}

/// The operating system an image says it is (`etc/os-release`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Distro {
    pub id: String,
    pub version_id: Option<String>,
    pub version_codename: Option<String>,
    pub pretty_name: Option<String>,
    pub id_like: Vec<String>,
}

impl Distro {
    /// `debian-12`, the PURL `distro` qualifier.
    pub fn qualifier(&self) -> String {
        match &self.version_id {
            Some(v) => format!("{}-{v}", self.id),
            None => self.id.clone(),
        }
    }
}

/// Everything the catalogers found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Catalog {
    pub distro: Option<Distro>,
    pub packages: Vec<Package>,
    /// Problems met on the way (corrupt entries, unreadable files).
    pub warnings: Vec<String>,
}
