//! Where matching looks advisories up.
//!
//! [`Advisories`] is the one seam between matching and storage: the SQLite
//! store implements it for `pare scan`, [`InMemory`] for tests and for
//! records read straight from files.

use crate::debian;
use crate::osv;

/// An error of the store behind [`Advisories`] (I/O, a corrupt database).
pub type LookupError = Box<dyn std::error::Error + Send + Sync>;

/// The advisories one package's matching needs.
pub trait Advisories {
    /// OSV records naming `name` in `ecosystem`.
    ///
    /// `ecosystem` is OSV's base name (`PyPI`, `npm`, `Go`, `crates.io`,
    /// `Maven`, `Alpine`, `Debian`, …) without a release suffix; records of
    /// every release (`Alpine:v3.19`, `Alpine:v3.20`) are returned and
    /// [`osv::affects`] picks. Names compare as [`osv::normalize_name`]
    /// normalises them.
    fn osv(&self, ecosystem: &str, name: &str) -> Result<Vec<osv::Advisory>, LookupError>;

    /// Debian security tracker CVE entries with a package line for the
    /// source package `source_package`.
    fn debian_cves(&self, source_package: &str) -> Result<Vec<debian::Entry>, LookupError>;

    /// DSA/DLA entries whose xref line lists `cve`.
    fn debian_advisories(&self, cve: &str) -> Result<Vec<debian::Entry>, LookupError>;
}

/// Advisories held in memory, looked up by scanning them all.
#[derive(Debug, Clone, Default)]
pub struct InMemory {
    pub osv: Vec<osv::Advisory>,
    pub debian_cves: Vec<debian::Entry>,
    pub debian_advisories: Vec<debian::Entry>,
}

fn base(ecosystem: &str) -> &str {
    ecosystem
        .split_once(':')
        .map_or(ecosystem, |(b, _)| b)
        .trim()
}

impl Advisories for InMemory {
    fn osv(&self, ecosystem: &str, name: &str) -> Result<Vec<osv::Advisory>, LookupError> {
        let wanted = osv::normalize_name(ecosystem, name);
        Ok(self
            .osv
            .iter()
            .filter(|a| {
                a.affected.iter().any(|affected| {
                    affected.package.as_ref().is_some_and(|p| {
                        base(&p.ecosystem) == base(ecosystem)
                            && osv::normalize_name(ecosystem, &p.name) == wanted
                    })
                })
            })
            .cloned()
            .collect())
    }

    fn debian_cves(&self, source_package: &str) -> Result<Vec<debian::Entry>, LookupError> {
        Ok(self
            .debian_cves
            .iter()
            .filter(|e| e.packages().any(|p| p == source_package))
            .cloned()
            .collect())
    }

    fn debian_advisories(&self, cve: &str) -> Result<Vec<debian::Entry>, LookupError> {
        Ok(self
            .debian_advisories
            .iter()
            .filter(|e| e.xrefs().any(|id| id == cve))
            .cloned()
            .collect())
    }
}
