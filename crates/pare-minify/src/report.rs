//! Before and after: size, files, packages and attack-surface findings of
//! the source and of the written image, and (with `--explain`) every kept
//! path with its reasons. The JSON shape is DESIGN.md's
//! `{before:{size_bytes, files, packages, findings, vulnerabilities?}, after:{…}, kept:[{path, reasons}]}`.

use std::collections::BTreeMap;

use pare_image::Flattened;
use serde::Serialize;

/// One side of the comparison.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// Regular-file bytes (a hardlinked file once).
    pub size_bytes: u64,
    /// Non-directory paths.
    pub files: u64,
    /// Packages the catalogers find (`pare sbom`).
    pub packages: usize,
    /// Attack-surface findings (`pare audit`) by kind.
    pub findings: BTreeMap<String, usize>,
    /// Known vulnerabilities (`pare scan`), when a database was given:
    /// see [`add_vulnerabilities`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vulnerabilities: Option<pare_vuln::scan::Summary>,
    /// The packages counted in `packages`, for the vulnerability scan.
    #[serde(skip)]
    pub catalog: pare_sbom::Catalog,
}

impl Summary {
    /// Measures a flattened image, flattened with [`flatten_options`].
    pub fn of(flat: &Flattened) -> Summary {
        let catalog = pare_sbom::catalog(flat);
        let report = pare_audit::audit(flat, &pare_audit::Catalog::builtin());
        let findings = report
            .summary
            .iter()
            .map(|(kind, count)| (kind.as_str().to_string(), *count))
            .collect();
        Summary {
            size_bytes: flat.tree.regular_bytes(),
            files: flat.tree.non_dir_count(),
            packages: catalog.packages.len(),
            findings,
            vulnerabilities: None,
            catalog,
        }
    }

    /// All findings.
    pub fn findings_total(&self) -> usize {
        self.findings.values().sum()
    }
}

/// What flattening must keep for [`Summary::of`]: the catalogers' files
/// and every scanner sbom and audit use.
pub fn flatten_options() -> pare_image::source::FlattenOptions {
    let mut options = pare_sbom::flatten_options();
    options.scanners.extend(pare_audit::scanners());
    options
}

/// The vulnerability scans of both sides (see [`add_vulnerabilities`]).
pub struct VulnerabilityScans {
    pub before: pare_vuln::scan::Scan,
    pub after: pare_vuln::scan::Scan,
}

/// Scans the packages of the source and of the written image (read back
/// from the destination, so what counts is what was written) and puts the
/// counts in `before.vulnerabilities` and `after.vulnerabilities`. The
/// minified image keeps the metadata of the packages it still holds, so its
/// count is what a scanner sees, not zero by blindness.
pub fn add_vulnerabilities(
    report: &mut Report,
    advisories: &dyn pare_vuln::advisories::Advisories,
    options: &pare_vuln::scan::ScanOptions,
) -> Result<VulnerabilityScans, pare_vuln::scan::ScanError> {
    let before = pare_vuln::scan::scan(&report.before.catalog, advisories, options)?;
    let after = pare_vuln::scan::scan(&report.after.catalog, advisories, options)?;
    report.before.vulnerabilities = Some(before.summary);
    report.after.vulnerabilities = Some(after.summary);
    Ok(VulnerabilityScans { before, after })
}

/// A kept path and why.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct KeptPath {
    pub path: String,
    pub reasons: Vec<String>,
}

/// A library nobody could find.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct MissingLibrary {
    pub name: String,
    pub needed_by: String,
}

/// The `--report` document.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub source: String,
    pub destination: String,
    pub manifest_digest: String,
    pub before: Summary,
    pub after: Summary,
    /// With `--explain`: every path of the new image and why it is there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept: Option<Vec<KeptPath>>,
    /// Paths `--exclude` removed.
    pub excluded: Vec<String>,
    /// Libraries not found (only with `--allow-missing`).
    pub missing: Vec<MissingLibrary>,
    /// What the reduced `etc/passwd` and `etc/group` kept and dropped.
    pub accounts: crate::rules::Accounts,
    /// The traced runs: what exercised the app and how it went, before
    /// and after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceSummary>,
}

/// The traced run in the report.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TraceSummary {
    /// False when nothing exercised the app (no probe, no exposed port):
    /// it only ran for the probe duration.
    pub exercised: bool,
    /// Probes on the original image.
    pub probes: Vec<pare_trace::probe::ProbeOutcome>,
    /// The same probes on the minified image (`--verify`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<Vec<pare_trace::probe::ProbeOutcome>>,
    /// Programs the traced processes executed.
    pub processes: Vec<String>,
    /// Distinct paths used, and those looked for and not found.
    pub paths_used: usize,
    pub paths_not_found: usize,
    /// System calls the app made (the seccomp profile's list).
    pub syscalls: Vec<String>,
    /// How the entry point ended during the traced run, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit: Option<String>,
    /// Traced run time, and stops the tracer handled.
    pub traced_ms: u128,
    pub tracer_stops: u64,
    /// The verify run's time (untraced, the same probes): beside
    /// `traced_ms`, what tracing costs the app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_ms: Option<u128>,
}
