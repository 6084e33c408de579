//! Matching a package [`Catalog`] against [`Advisories`]: what `pare scan`
//! reports, as Grype and Trivy users expect it.
//!
//! * Debian packages (`deb`, on an image whose os-release says Debian) are
//!   looked up by **source** package in the Debian security tracker, each
//!   source once, and every installed binary package of that source gets
//!   the source's findings (libc6 and libc-bin both get a glibc CVE), as
//!   Grype reports them. OSV records of `Debian:<VERSION_ID>` for the source
//!   are matched too.
//! * Alpine packages (`apk`) match OSV `Alpine:vMAJOR.MINOR` by origin.
//! * RPM packages match OSV `Rocky Linux:<major>` / `AlmaLinux:<major>` /
//!   `Red Hat:<major>` by name, on those distributions only.
//! * Language packages match OSV by their PURL type (pypi, npm, golang,
//!   cargo, maven, gem, composer, nuget).
//! * Anything else (binaries, unknown PURL types, OS packages of an
//!   unrecognised distribution) is not matched and counted as such in the
//!   [`Summary`]: silence about a package pare could not check must not
//!   read as "no vulnerabilities".
//!
//! Findings of one package that are the same vulnerability are merged: the
//! tracker's `CVE-…`, an OSV record listing it as an alias, and osv.dev's
//! Debian records, which name it as `upstream` (`DEBIAN-CVE-2024-2961`, and
//! `DSA-5673-1` whose upstream is `CVE-2024-2961` and
//! `DEBIAN-CVE-2024-2961`). An advisory whose `upstream` names several
//! vulnerabilities (a DSA or DLA fixing many CVEs) is not one vulnerability:
//! it is folded into the finding of each CVE it names (its id becomes an
//! alias of each, so a rule by the DSA id silences them all, a rule by one
//! CVE only that CVE), and stands as a finding of its own only for CVEs no
//! other finding covers, listed in [`Finding::upstream`]. Then
//! `ignore_unfixed` and the ignore rules move findings to
//! [`Scan::ignored`], each with its reason.
//!
//! Severity: OSV records are rated from their CVSS v3 vectors, tracker
//! records from their urgency, and most tracker records carry none (`not
//! yet assigned`): they are [`Severity::Unknown`], which no `--fail-on`
//! threshold is ever met by (as in Grype).

use std::collections::{BTreeSet, HashMap};

use pare_sbom::model::{Catalog, Distro, Package, PackageType};
use serde::Serialize;

use crate::advisories::{Advisories, LookupError};
use crate::ignore::{Date, IgnoreRule, IgnoreRules};
use crate::{cvss, debian, osv};

/// Grype's severity scale; [`Severity::Unknown`] sorts lowest.
///
/// `Unknown` is "not rated", not "harmless", yet as in Grype it never meets
/// a `--fail-on` threshold (it sorts below `Negligible`): a gate on
/// severity passes unrated findings. Expect many — the Debian security
/// tracker leaves most CVEs without an urgency (`not yet assigned`), and
/// OSV records with only CVSS v2/v4 vectors or none are unrated too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Unknown,
    Negligible,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Every severity, highest first (the order reports list them in).
    pub const ALL: [Severity; 6] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Negligible,
        Severity::Unknown,
    ];

    /// Grype's spelling (`Critical`, …, `Unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "Unknown",
            Severity::Negligible => "Negligible",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        }
    }

    /// Parses a severity name, in any case (`high`, `High`).
    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// From a CVSS v3 rating. A 0.0 score (rating None) is Negligible: the
    /// vector was assessed and found harmless, which is not "unknown".
    pub fn from_rating(r: cvss::Rating) -> Severity {
        match r {
            cvss::Rating::None => Severity::Negligible,
            cvss::Rating::Low => Severity::Low,
            cvss::Rating::Medium => Severity::Medium,
            cvss::Rating::High => Severity::High,
            cvss::Rating::Critical => Severity::Critical,
        }
    }

    /// From the Debian tracker's urgency. Most tracker records carry none
    /// (`not yet assigned`, or an end-of-life note): those are `Unknown`.
    pub fn from_urgency(u: debian::Urgency) -> Severity {
        match u {
            debian::Urgency::Unimportant => Severity::Negligible,
            debian::Urgency::Low => Severity::Low,
            debian::Urgency::Medium => Severity::Medium,
            debian::Urgency::High => Severity::High,
            debian::Urgency::NotYetAssigned | debian::Urgency::EndOfLife => Severity::Unknown,
        }
    }
}

impl Serialize for Severity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Grype's fix states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixState {
    /// A fixed version exists for this release (`fixed_version`).
    Fixed,
    /// No fix yet.
    NotFixed,
    /// The distribution decided not to fix (tracker `no-dsa`, `ignored`,
    /// `postponed`, `end-of-life`).
    WontFix,
}

/// One vulnerability in one installed package.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The advisory's id (`CVE-…` from the tracker, `PYSEC-…`, `GHSA-…`,
    /// `ALPINE-…` from OSV).
    pub id: String,
    /// Other ids of the same vulnerability (merged findings add theirs),
    /// including an OSV record's `upstream` ids when they name one
    /// vulnerability, and the ids of DSAs/DLAs folded into this finding.
    pub aliases: Vec<String>,
    /// Set only on a finding of an advisory covering several
    /// vulnerabilities (a DSA or DLA fixing many CVEs) that stands on its
    /// own: the `upstream` ids no other finding of the package covers.
    /// They are not aliases (not the same vulnerability as each other), so
    /// [`Finding::ids`] and ignore rules leave them out: a rule by one of
    /// these CVEs does not silence the advisory's other CVEs; a rule by
    /// the advisory's id does.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub upstream: Vec<String>,
    pub package: String,
    pub package_type: PackageType,
    pub purl: String,
    pub installed_version: String,
    pub fixed_version: Option<String>,
    pub state: FixState,
    pub severity: Severity,
    /// The highest CVSS v3 base score the advisory carries.
    pub cvss_score: Option<f64>,
    /// The vector `cvss_score` was computed from.
    pub cvss_vector: Option<String>,
    /// `debian-security-tracker` or `osv:<ecosystem>` (e.g. `osv:PyPI`,
    /// `osv:Alpine:v3.19`).
    pub source: String,
    /// The metadata file the package was read from.
    pub path: String,
    pub summary: Option<String>,
    pub layer: Option<usize>,
    /// The source package the advisory was matched on, when it is not the
    /// package itself (Debian `glibc` for `libc6`, Alpine origins).
    pub source_package: Option<String>,
}

impl Finding {
    /// The id and every alias.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    fn same_vulnerability(&self, other: &Finding) -> bool {
        self.ids()
            .any(|a| other.ids().any(|b| a.eq_ignore_ascii_case(b)))
    }
}

/// A finding set aside, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IgnoredFinding {
    pub finding: Finding,
    /// `no fix available (ignore_unfixed)` or the rule's reason and origin.
    pub reason: String,
}

/// Counts by severity; every key is always present.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BySeverity {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub negligible: usize,
    pub unknown: usize,
}

impl BySeverity {
    /// The count of one severity.
    pub fn get(&self, s: Severity) -> usize {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Negligible => self.negligible,
            Severity::Unknown => self.unknown,
        }
    }

    fn add(&mut self, s: Severity) {
        let slot = match s {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Negligible => &mut self.negligible,
            Severity::Unknown => &mut self.unknown,
        };
        *slot += 1;
    }
}

/// Totals of a scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Findings reported (ignored ones excluded).
    pub total: usize,
    pub by_severity: BySeverity,
    /// Findings with a fixed version.
    pub fixable: usize,
    pub ignored: usize,
    /// Packages in the catalog.
    pub packages: usize,
    /// Packages looked up in some advisory source.
    pub packages_matched: usize,
    /// Packages no advisory source covers (binaries, unknown PURL types,
    /// OS packages of an unrecognised distribution).
    pub packages_not_matched: usize,
}

/// The result of [`scan`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scan {
    /// Sorted by severity (highest first), package, id.
    pub findings: Vec<Finding>,
    pub ignored: Vec<IgnoredFinding>,
    pub summary: Summary,
    /// Rules whose `expires` day has come: they silenced nothing.
    pub expired_rules: Vec<IgnoreRule>,
}

/// What [`scan`] drops.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Set aside findings without a fixed version (Trivy's
    /// `--ignore-unfixed`, Grype's `--only-fixed`), won't-fix ones included.
    pub ignore_unfixed: bool,
    pub ignore: Option<IgnoreRules>,
    /// The day rule expiry is judged on; passed in so scans are
    /// reproducible.
    pub today: Date,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            ignore_unfixed: false,
            ignore: None,
            today: Date::today(),
        }
    }
}

/// Why a scan stopped.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The advisory store failed; a scan with holes would under-report.
    #[error("advisory lookup failed ({what}): {source}")]
    Lookup {
        what: String,
        #[source]
        source: LookupError,
    },
}

fn lookup<T>(what: impl FnOnce() -> String, r: Result<T, LookupError>) -> Result<T, ScanError> {
    r.map_err(|source| ScanError::Lookup {
        what: what(),
        source,
    })
}

/// The OS family whose advisories an image's OS packages use.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Os {
    /// Tracker release codename, and `Debian:<VERSION_ID>` when known.
    Debian {
        release: String,
        osv: Option<String>,
    },
    /// `Alpine:vX.Y`.
    Alpine(String),
    /// `Rocky Linux:9`, …
    Rpm(String),
    None,
}

/// Debian codenames by major version: distroless images carry only
/// `VERSION_ID`.
const DEBIAN_CODENAMES: &[(&str, &str)] = &[
    ("8", "jessie"),
    ("9", "stretch"),
    ("10", "buster"),
    ("11", "bullseye"),
    ("12", "bookworm"),
    ("13", "trixie"),
    ("14", "forky"),
];

fn major_minor(version_id: &str) -> Option<(u32, u32)> {
    let mut it = version_id.trim().split('.');
    let major = it.next()?.parse().ok()?;
    let minor: String = it
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

fn os_of(distro: Option<&Distro>) -> Os {
    let Some(d) = distro else { return Os::None };
    let id = d.id.trim().to_ascii_lowercase();
    let version_id = d
        .version_id
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let major = version_id.and_then(|v| v.split('.').next());
    let like_debian = d.id_like.iter().any(|l| l.eq_ignore_ascii_case("debian"));
    // Ubuntu says ID_LIKE=debian, but its packages are not Debian's: the
    // tracker's lines for Debian releases would give false verdicts.
    if id == "debian" || (like_debian && id != "ubuntu") {
        let codename = d
            .version_codename
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        let known = |c: &str| {
            DEBIAN_CODENAMES.iter().any(|(_, n)| *n == c) || c == "sid" || c == "unstable"
        };
        let release = match codename {
            Some(c) if id == "debian" || known(c) => Some(c.to_owned()),
            _ => major.and_then(|m| {
                DEBIAN_CODENAMES
                    .iter()
                    .find(|(v, _)| *v == m)
                    .map(|(_, n)| (*n).to_owned())
            }),
        };
        return match release {
            Some(release) => Os::Debian {
                release,
                osv: major
                    .filter(|m| m.bytes().all(|b| b.is_ascii_digit()))
                    .map(|m| format!("Debian:{m}")),
            },
            None => Os::None,
        };
    }
    if id == "alpine" {
        return match version_id.and_then(major_minor) {
            Some((a, b)) => Os::Alpine(format!("Alpine:v{a}.{b}")),
            None => Os::None,
        };
    }
    let base = match id.as_str() {
        "rocky" => "Rocky Linux",
        "almalinux" => "AlmaLinux",
        "rhel" => "Red Hat",
        _ => return Os::None,
    };
    match major.filter(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit())) {
        Some(m) => Os::Rpm(format!("{base}:{m}")),
        None => Os::None,
    }
}

/// The parts of a PURL matching needs: type, namespace, name (decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purl {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl Purl {
    /// Parses `pkg:type/namespace/name@version?qualifiers#subpath`;
    /// `None` for anything else.
    pub fn parse(s: &str) -> Option<Purl> {
        let rest = s.trim().strip_prefix("pkg:")?;
        let rest = rest.split_once('#').map_or(rest, |(a, _)| a);
        let rest = rest.split_once('?').map_or(rest, |(a, _)| a);
        let (path, version) = match rest.rsplit_once('@') {
            Some((p, v)) if !p.is_empty() && !p.ends_with('/') => (p, Some(percent_decode(v)?)),
            _ => (rest, None),
        };
        let path = path.trim_matches('/');
        let (kind, path) = path.split_once('/')?;
        let (namespace, name) = match path.rsplit_once('/') {
            Some((ns, n)) => {
                let ns: Option<Vec<String>> = ns.split('/').map(percent_decode).collect();
                (Some(ns?.join("/")), n)
            }
            None => (None, path),
        };
        let name = percent_decode(name)?;
        if kind.is_empty() || name.is_empty() {
            return None;
        }
        Some(Purl {
            kind: kind.to_ascii_lowercase(),
            namespace,
            name,
            version,
        })
    }
}

/// The semantic version the Go vulnerability database gives a toolchain
/// tag (its `cmd/vulnreport` `semverForGoVersion`): `go1.20` → `1.20.0`,
/// `go1.21rc2` → `1.21.0-rc.2`, `go1.19.8` → `1.19.8`. Releases before
/// Go 1.21 were tagged without a `.0`, and OSV `SEMVER` ranges cannot place
/// `1.20`; a GOEXPERIMENT suffix (`go1.20.1 X:boringcrypto`) is dropped.
/// `None` for anything else (`devel …`).
fn go_toolchain_semver(tag: &str) -> Option<String> {
    let tag = tag.split_whitespace().next()?;
    let rest = tag.strip_prefix("go")?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    // Split off a `beta`/`rc` pre-release.
    let (release, pre) = match ["beta", "rc"]
        .iter()
        .find_map(|k| rest.find(k).map(|i| (i, *k)))
    {
        Some((i, kind)) => {
            let n = &rest[i + kind.len()..];
            if !digits(n) {
                return None;
            }
            (&rest[..i], Some(format!("{kind}.{n}")))
        }
        None => (rest, None),
    };
    let parts: Vec<&str> = release.split('.').collect();
    if !(2..=3).contains(&parts.len()) || !parts.iter().all(|p| digits(p)) {
        return None;
    }
    let patch = parts.get(2).copied().unwrap_or("0");
    let mut out = format!("{}.{}.{patch}", parts[0], parts[1]);
    if let Some(pre) = pre {
        out.push('-');
        out.push_str(&pre);
    }
    Some(out)
}

/// Where one package is looked up: (OSV ecosystem, name, version).
fn language_query(p: &Package) -> Option<(String, String, String)> {
    let purl = Purl::parse(&p.purl)?;
    let ns = purl.namespace.as_deref().filter(|n| !n.is_empty());
    let joined = |sep: &str| match ns {
        Some(ns) => format!("{ns}{sep}{}", purl.name),
        None => purl.name.clone(),
    };
    let version = p.version.trim().to_owned();
    let (eco, name, version) = match purl.kind.as_str() {
        "pypi" => ("PyPI", purl.name.clone(), version),
        "npm" => ("npm", joined("/"), version),
        "cargo" => ("crates.io", purl.name.clone(), version),
        "maven" => ("Maven", joined(":"), version),
        "gem" => ("RubyGems", purl.name.clone(), version),
        "composer" => ("Packagist", joined("/"), version),
        "nuget" => ("NuGet", purl.name.clone(), version),
        "golang" => {
            let name = joined("/");
            // The Go vulnerability database's records use versions without
            // the `v` (SEMVER ranges); the toolchain is `stdlib`, which
            // Syft versions `go1.21.0`.
            let v = version.strip_prefix('v').unwrap_or(&version);
            let v = if name == "stdlib" {
                go_toolchain_semver(v)
                    .unwrap_or_else(|| v.strip_prefix("go").unwrap_or(v).to_owned())
            } else {
                v.to_owned()
            };
            if v.is_empty() || v.starts_with('(') {
                return None; // "(devel)": no version to compare
            }
            ("Go", name, v)
        }
        _ => return None,
    };
    (!version.is_empty()).then(|| (eco.to_owned(), name, version))
}

/// The severity and best CVSS v3 score of an OSV record for the package it
/// matched: the highest computed score among the record-level entries and
/// those of the matching `affected` entries. Only `CVSS_V3` is scored; a
/// record with only `CVSS_V4`/`CVSS_V2` (or none) is `Unknown` — pare does
/// not score those yet and will not guess from text.
fn osv_severity(
    a: &osv::Advisory,
    ecosystem: &str,
    name: &str,
) -> (Severity, Option<(cvss::Score, String)>) {
    let wanted = osv::normalize_name(ecosystem, name);
    let affected = a
        .affected
        .iter()
        .filter(|af| {
            af.package
                .as_ref()
                .is_some_and(|p| osv::normalize_name(ecosystem, &p.name) == wanted)
        })
        .flat_map(|af| af.severity.iter());
    let best = a
        .severity
        .iter()
        .chain(affected)
        .filter(|s| s.kind.eq_ignore_ascii_case("CVSS_V3"))
        .filter_map(|s| cvss::score(&s.score).ok().map(|sc| (sc, s.score.trim())))
        .max_by_key(|(sc, _)| sc.tenths);
    match best {
        Some((sc, v)) => (Severity::from_rating(sc.rating), Some((sc, v.to_owned()))),
        None => (Severity::Unknown, None),
    }
}

/// Finding fields that depend on the advisory only (shared by every binary
/// package of a Debian source).
#[derive(Debug, Clone)]
struct Hit {
    id: String,
    aliases: Vec<String>,
    upstream: Vec<String>,
    fixed_version: Option<String>,
    state: FixState,
    severity: Severity,
    cvss: Option<(f64, String)>,
    source: String,
    summary: Option<String>,
}

fn osv_hits(
    advisories: &dyn Advisories,
    ecosystem: &str,
    name: &str,
    version: &str,
) -> Result<Vec<Hit>, ScanError> {
    let base = ecosystem.split_once(':').map_or(ecosystem, |(b, _)| b);
    let records = lookup(|| format!("OSV {base} {name}"), advisories.osv(base, name))?;
    let mut hits = Vec::new();
    for a in &records {
        let Some(m) = osv::affects(a, ecosystem, name, version) else {
            continue;
        };
        let (severity, score) = osv_severity(a, ecosystem, name);
        let (aliases, upstream) = split_upstream(a);
        hits.push(Hit {
            id: a.id.clone(),
            aliases,
            upstream,
            state: if m.fixed.is_some() {
                FixState::Fixed
            } else {
                FixState::NotFixed
            },
            fixed_version: m.fixed,
            severity,
            cvss: score.map(|(s, v)| (s.value(), v)),
            source: format!("osv:{ecosystem}"),
            summary: a.summary.clone().filter(|s| !s.trim().is_empty()),
        });
    }
    Ok(hits)
}

/// The vulnerability an id names, for counting how many an `upstream` list
/// covers: osv.dev's per-CVE records of a distribution
/// (`DEBIAN-CVE-2024-2961`, `UBUNTU-CVE-…`, `ALPINE-CVE-…`) are exactly
/// their CVE; any other id is itself. Uppercased.
fn vulnerability_of(id: &str) -> String {
    let id = id.trim().to_ascii_uppercase();
    match id.find("-CVE-") {
        Some(i) if i > 0 && id[..i].bytes().all(|b| b.is_ascii_alphabetic()) => {
            id[i + 1..].to_owned()
        }
        _ => id,
    }
}

/// How many distinct vulnerabilities `ids` name.
fn vulnerabilities<'a>(ids: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    ids.into_iter().map(vulnerability_of).collect()
}

/// A record's (aliases, upstream) for its finding: `upstream` ids naming
/// one vulnerability (with the record's own id: `DEBIAN-CVE-X` → `CVE-X`,
/// `DSA-…` → `CVE-X`, `DEBIAN-CVE-X`) are other names of it and join the
/// aliases; naming several, they stay apart (see [`Finding::upstream`]).
fn split_upstream(a: &osv::Advisory) -> (Vec<String>, Vec<String>) {
    let mut aliases: Vec<String> = a.aliases.clone();
    let upstream: Vec<&String> = a
        .upstream
        .iter()
        .filter(|u| !u.trim().is_empty() && !u.eq_ignore_ascii_case(&a.id))
        .collect();
    if vulnerabilities(upstream.iter().map(|u| u.as_str())).len() > 1 {
        return (aliases, upstream.into_iter().cloned().collect());
    }
    for u in upstream {
        if !aliases.iter().any(|x| x.eq_ignore_ascii_case(u)) {
            aliases.push(u.clone());
        }
    }
    (aliases, Vec::new())
}

/// Lookups of the Debian tracker, each source and each CVE's advisories
/// once per scan.
struct DebianCache<'a> {
    advisories: &'a dyn Advisories,
    release: String,
    osv: Option<String>,
    by_source: HashMap<(String, String), Vec<Hit>>,
    dsas: HashMap<String, Vec<debian::Entry>>,
    cves: HashMap<String, Vec<debian::Entry>>,
}

impl DebianCache<'_> {
    fn hits(&mut self, source: &str, version: &str) -> Result<Vec<Hit>, ScanError> {
        let key = (source.to_owned(), version.to_owned());
        if let Some(h) = self.by_source.get(&key) {
            return Ok(h.clone());
        }
        if !self.cves.contains_key(source) {
            let entries = lookup(
                || format!("Debian tracker CVEs of {source}"),
                self.advisories.debian_cves(source),
            )?;
            self.cves.insert(source.to_owned(), entries);
        }
        let cves = self.cves.get(source).cloned().unwrap_or_default();
        let mut hits = Vec::new();
        for cve in &cves {
            // The advisories only matter when the CVE has no line of its own
            // for this release (verdict step 2); skip the lookup otherwise.
            let own_line = cve.annotations.iter().any(|a| {
                a.kind_of_line == debian::LineType::Package
                    && a.package.as_deref() == Some(source)
                    && a.release.as_deref() == Some(self.release.as_str())
            });
            let id = cve.header.id.clone();
            if !own_line && !self.dsas.contains_key(&id) {
                let dsas = lookup(
                    || format!("Debian advisories of {id}"),
                    self.advisories.debian_advisories(&id),
                )?;
                self.dsas.insert(id.clone(), dsas);
            }
            let dsas: &[debian::Entry] = if own_line {
                &[]
            } else {
                self.dsas.get(&id).map_or(&[], Vec::as_slice)
            };
            let debian::Verdict::Open {
                fixed_in,
                status,
                urgency,
                ..
            } = debian::verdict(cve, dsas, source, version, &self.release)
            else {
                continue;
            };
            use debian::OpenStatus as O;
            let state = match (&fixed_in, &status) {
                (Some(_), _) => FixState::Fixed,
                (None, O::NoDsa(_) | O::Ignored(_) | O::Postponed(_) | O::EndOfLife(_)) => {
                    FixState::WontFix
                }
                (None, _) => FixState::NotFixed,
            };
            hits.push(Hit {
                id,
                aliases: Vec::new(),
                upstream: Vec::new(),
                fixed_version: fixed_in,
                state,
                severity: Severity::from_urgency(urgency),
                cvss: None,
                source: "debian-security-tracker".into(),
                summary: cve
                    .header
                    .description
                    .clone()
                    .map(|d| d.trim().trim_matches(|c| c == '(' || c == ')').to_owned())
                    .filter(|d| !d.is_empty()),
            });
        }
        if let Some(eco) = self.osv.clone() {
            hits.extend(osv_hits(self.advisories, &eco, source, version)?);
        }
        self.by_source.insert(key, hits.clone());
        Ok(hits)
    }
}

fn finding(p: &Package, hit: Hit, source_package: Option<&str>) -> Finding {
    let (cvss_score, cvss_vector) = match hit.cvss {
        Some((s, v)) => (Some(s), Some(v)),
        None => (None, None),
    };
    Finding {
        id: hit.id,
        aliases: hit.aliases,
        upstream: hit.upstream,
        package: p.name.clone(),
        package_type: p.kind,
        purl: p.purl.clone(),
        installed_version: p.version.clone(),
        fixed_version: hit.fixed_version,
        state: hit.state,
        severity: hit.severity,
        cvss_score,
        cvss_vector,
        source: hit.source,
        path: p.found_at.clone(),
        summary: hit.summary,
        layer: p.layer,
        source_package: source_package.filter(|s| *s != p.name).map(str::to_owned),
    }
}

/// Merges findings of one package that are the same vulnerability. The
/// kept record is the one with a fixed version, else the higher severity,
/// else the first (the tracker's, for Debian); it takes the higher
/// severity and score of the two and every id as an alias.
///
/// Findings of advisories covering several vulnerabilities
/// ([`Finding::upstream`]) come last: each is folded into every finding
/// its upstream ids name, and kept, for the rest only, if some are left.
fn dedupe(findings: Vec<Finding>) -> Vec<Finding> {
    let (bundles, single): (Vec<Finding>, Vec<Finding>) =
        findings.into_iter().partition(|f| !f.upstream.is_empty());
    let mut out: Vec<Finding> = Vec::with_capacity(single.len() + bundles.len());
    for f in single {
        push_merged(&mut out, f, |_| true);
    }
    for mut bundle in bundles {
        let mut covered = BTreeSet::new();
        for f in out.iter_mut() {
            let named = f
                .ids()
                .any(|i| bundle.upstream.iter().any(|u| u.eq_ignore_ascii_case(i)));
            if named && f.upstream.is_empty() {
                covered.extend(vulnerabilities(f.ids()));
                fold(f, &bundle);
            }
        }
        bundle
            .upstream
            .retain(|u| !covered.contains(&vulnerability_of(u)));
        if bundle.upstream.is_empty() {
            continue;
        }
        if vulnerabilities(bundle.upstream.iter().map(String::as_str)).len() == 1 {
            // What is left is one vulnerability: the bundle is its finding.
            let rest = std::mem::take(&mut bundle.upstream);
            for u in rest {
                if !bundle.ids().any(|i| i.eq_ignore_ascii_case(&u)) {
                    bundle.aliases.push(u);
                }
            }
            bundle.aliases.sort();
            push_merged(&mut out, bundle, |_| true);
        } else {
            // Not with the findings it was just folded into (they now carry
            // its id): only with another record of the same advisory.
            push_merged(&mut out, bundle, |o| !o.upstream.is_empty());
        }
    }
    out
}

/// Adds `f` to `out`, merged with every finding of the same vulnerability
/// that `candidate` accepts.
fn push_merged(out: &mut Vec<Finding>, f: Finding, candidate: impl Fn(&Finding) -> bool) {
    let mut merged = f;
    // Merging can join two kept findings (A~B, B~C): repeat until none is
    // the same vulnerability.
    while let Some(i) = out
        .iter()
        .position(|o| candidate(o) && o.same_vulnerability(&merged))
    {
        let other = out.swap_remove(i);
        merged = merge(other, merged);
    }
    out.push(merged);
}

/// Folds the finding of an advisory covering several vulnerabilities into
/// the finding of one of them, which keeps its id: the advisory's id and
/// aliases become aliases, its fix counts when the finding has none.
fn fold(into: &mut Finding, bundle: &Finding) {
    for id in bundle.ids() {
        if !into.ids().any(|i| i.eq_ignore_ascii_case(id)) {
            into.aliases.push(id.to_owned());
        }
    }
    into.aliases.sort();
    if into.fixed_version.is_none() && bundle.fixed_version.is_some() {
        into.fixed_version = bundle.fixed_version.clone();
        into.state = bundle.state;
    }
    into.severity = into.severity.max(bundle.severity);
    if bundle.cvss_score > into.cvss_score {
        into.cvss_score = bundle.cvss_score;
        into.cvss_vector = bundle.cvss_vector.clone();
    }
    if into.summary.is_none() {
        into.summary = bundle.summary.clone();
    }
}

fn merge(a: Finding, b: Finding) -> Finding {
    let rank = |f: &Finding| (f.fixed_version.is_some(), f.severity);
    let (mut keep, other) = if rank(&b) > rank(&a) { (b, a) } else { (a, b) };
    let ids: BTreeSet<String> = keep
        .ids()
        .chain(other.ids())
        .filter(|i| !i.eq_ignore_ascii_case(&keep.id))
        .map(str::to_owned)
        .collect();
    keep.aliases = ids.into_iter().collect();
    let upstream: BTreeSet<String> = keep.upstream.drain(..).chain(other.upstream).collect();
    keep.upstream = upstream.into_iter().collect();
    keep.severity = keep.severity.max(other.severity);
    if other.cvss_score > keep.cvss_score {
        keep.cvss_score = other.cvss_score;
        keep.cvss_vector = other.cvss_vector;
    }
    if keep.summary.is_none() {
        keep.summary = other.summary;
    }
    keep
}

/// Findings sort by severity (highest first), then package, then id.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.package.cmp(&b.package))
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.installed_version.cmp(&b.installed_version))
            .then_with(|| a.path.cmp(&b.path))
    });
}

/// Matches every package of `catalog` against `advisories`. Lookups that
/// fail stop the scan ([`ScanError::Lookup`]); bad package data never
/// does (an unparsable version or PURL leaves that package unmatched or
/// matched by exact versions only).
pub fn scan(
    catalog: &Catalog,
    advisories: &dyn Advisories,
    options: &ScanOptions,
) -> Result<Scan, ScanError> {
    let os = os_of(catalog.distro.as_ref());
    let mut debian_cache = match &os {
        Os::Debian { release, osv } => Some(DebianCache {
            advisories,
            release: release.clone(),
            osv: osv.clone(),
            by_source: HashMap::new(),
            dsas: HashMap::new(),
            cves: HashMap::new(),
        }),
        _ => None,
    };
    let mut osv_cache: HashMap<(String, String, String), Vec<Hit>> = HashMap::new();
    let mut summary = Summary {
        packages: catalog.packages.len(),
        ..Summary::default()
    };
    let mut all = Vec::new();
    for p in &catalog.packages {
        let source = p
            .source
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(&p.name);
        let (hits, source_package) = match (p.kind, &os) {
            (PackageType::Deb, Os::Debian { .. }) => {
                let version = p
                    .source_version
                    .as_deref()
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .unwrap_or(&p.version);
                let Some(cache) = debian_cache.as_mut() else {
                    continue;
                };
                (cache.hits(source, version)?, Some(source))
            }
            (PackageType::Apk, Os::Alpine(eco)) => {
                let key = (eco.clone(), source.to_owned(), p.version.clone());
                (cached_osv(&mut osv_cache, advisories, key)?, Some(source))
            }
            (PackageType::Rpm, Os::Rpm(eco)) => {
                let key = (eco.clone(), p.name.clone(), p.version.clone());
                (cached_osv(&mut osv_cache, advisories, key)?, None)
            }
            // Binary packages are matched by their PURL like language
            // packages: pare has no package type for Java archives, so a
            // `pkg:maven/…` package is typed Binary; `pkg:generic/…` (what
            // the binary classifiers give) has no ecosystem and stays
            // unmatched below.
            (PackageType::Deb | PackageType::Apk | PackageType::Rpm, _) => {
                summary.packages_not_matched += 1;
                continue;
            }
            _ => match language_query(p) {
                Some(key) => (cached_osv(&mut osv_cache, advisories, key)?, None),
                None => {
                    summary.packages_not_matched += 1;
                    continue;
                }
            },
        };
        summary.packages_matched += 1;
        let findings = hits
            .into_iter()
            .map(|h| finding(p, h, source_package))
            .collect();
        all.extend(dedupe(findings));
    }

    let (rules, expired_rules) = match &options.ignore {
        Some(r) => {
            let (live, expired) = r.split_expired(options.today);
            (live, expired.into_iter().cloned().collect())
        }
        None => (Vec::new(), Vec::new()),
    };
    let mut findings = Vec::new();
    let mut ignored = Vec::new();
    for f in all {
        let names = || {
            [Some(f.package.as_str()), f.source_package.as_deref()]
                .into_iter()
                .flatten()
        };
        let reason = if let Some(rule) = rules.iter().find(|r| r.covers(f.ids(), names())) {
            Some(format!(
                "ignore rule {} ({}){}",
                rule.id,
                rule.origin,
                rule.reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ))
        } else if options.ignore_unfixed && f.fixed_version.is_none() {
            Some("no fix available (ignore_unfixed)".to_owned())
        } else {
            None
        };
        match reason {
            Some(reason) => ignored.push(IgnoredFinding { finding: f, reason }),
            None => findings.push(f),
        }
    }
    sort_findings(&mut findings);
    ignored.sort_by(|a, b| {
        (&a.finding.package, &a.finding.id).cmp(&(&b.finding.package, &b.finding.id))
    });
    summary.total = findings.len();
    summary.ignored = ignored.len();
    for f in &findings {
        summary.by_severity.add(f.severity);
        if f.fixed_version.is_some() {
            summary.fixable += 1;
        }
    }
    Ok(Scan {
        findings,
        ignored,
        summary,
        expired_rules,
    })
}

fn cached_osv(
    cache: &mut HashMap<(String, String, String), Vec<Hit>>,
    advisories: &dyn Advisories,
    key: (String, String, String),
) -> Result<Vec<Hit>, ScanError> {
    if let Some(h) = cache.get(&key) {
        return Ok(h.clone());
    }
    let hits = osv_hits(advisories, &key.0, &key.1, &key.2)?;
    cache.insert(key, hits.clone());
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distro(id: &str, like: &[&str], version_id: Option<&str>, codename: Option<&str>) -> Distro {
        Distro {
            id: id.into(),
            version_id: version_id.map(Into::into),
            version_codename: codename.map(Into::into),
            pretty_name: None,
            id_like: like.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn os_from_os_release() {
        let deb = |r: &str, o: Option<&str>| Os::Debian {
            release: r.into(),
            osv: o.map(Into::into),
        };
        let cases = [
            (
                distro("debian", &[], Some("12"), Some("bookworm")),
                deb("bookworm", Some("Debian:12")),
            ),
            (
                distro("debian", &[], Some("12"), None),
                deb("bookworm", Some("Debian:12")),
            ),
            (
                distro("debian", &[], Some("11"), None),
                deb("bullseye", Some("Debian:11")),
            ),
            (
                distro("debian", &[], Some("13"), None),
                deb("trixie", Some("Debian:13")),
            ),
            (
                distro("debian", &[], Some("10"), None),
                deb("buster", Some("Debian:10")),
            ),
            (
                distro("debian", &[], None, Some("trixie")),
                deb("trixie", None),
            ),
            (distro("debian", &[], None, None), Os::None),
            (
                distro("raspbian", &["debian"], Some("12"), Some("bookworm")),
                deb("bookworm", Some("Debian:12")),
            ),
            (
                distro("kali", &["debian"], Some("2024.1"), Some("kali-rolling")),
                Os::None,
            ),
            (
                distro("ubuntu", &["debian"], Some("22.04"), Some("jammy")),
                Os::None,
            ),
            (
                distro("alpine", &[], Some("3.19.1"), None),
                Os::Alpine("Alpine:v3.19".into()),
            ),
            (
                distro("alpine", &[], Some("3.20_alpha20240329"), None),
                Os::Alpine("Alpine:v3.20".into()),
            ),
            (distro("alpine", &[], Some("edge"), None), Os::None),
            (
                distro("rocky", &["rhel"], Some("9.3"), None),
                Os::Rpm("Rocky Linux:9".into()),
            ),
            (
                distro("almalinux", &["rhel"], Some("8.9"), None),
                Os::Rpm("AlmaLinux:8".into()),
            ),
            (distro("fedora", &[], Some("39"), None), Os::None),
        ];
        for (d, want) in cases {
            assert_eq!(os_of(Some(&d)), want, "{d:?}");
        }
        assert_eq!(os_of(None), Os::None);
    }

    #[test]
    fn purls() {
        let p = |k: &str, ns: Option<&str>, n: &str, v: Option<&str>| Purl {
            kind: k.into(),
            namespace: ns.map(Into::into),
            name: n.into(),
            version: v.map(Into::into),
        };
        let cases = [
            (
                "pkg:pypi/urllib3@1.26.4",
                Some(p("pypi", None, "urllib3", Some("1.26.4"))),
            ),
            (
                "pkg:npm/%40babel/core@7.0.0",
                Some(p("npm", Some("@babel"), "core", Some("7.0.0"))),
            ),
            (
                "pkg:golang/github.com/gin-gonic/gin@v1.9.0?type=module",
                Some(p(
                    "golang",
                    Some("github.com/gin-gonic"),
                    "gin",
                    Some("v1.9.0"),
                )),
            ),
            (
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                Some(p(
                    "maven",
                    Some("org.apache.logging.log4j"),
                    "log4j-core",
                    Some("2.14.1"),
                )),
            ),
            (
                "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12",
                Some(p("deb", Some("debian"), "libc6", Some("2.36-9"))),
            ),
            ("pkg:cargo/serde", Some(p("cargo", None, "serde", None))),
            ("pkg:generic", None),
            ("pkg:", None),
            ("npm/x@1", None),
            ("pkg:npm/%zz@1", None),
            ("pkg:npm/a@%", None),
            ("", None),
        ];
        for (s, want) in cases {
            assert_eq!(Purl::parse(s), want, "{s}");
        }
    }

    fn pkg(kind: PackageType, name: &str, version: &str, purl: &str) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            kind,
            purl: purl.into(),
            cpes: vec![],
            licenses: vec![],
            source: None,
            source_version: None,
            architecture: None,
            files: vec![],
            found_at: "/x".into(),
            layer: None,
        }
    }

    #[test]
    fn language_queries() {
        use PackageType as T;
        let q = |e: &str, n: &str, v: &str| Some((e.to_owned(), n.to_owned(), v.to_owned()));
        let cases = [
            (
                pkg(T::Python, "Jinja2", "2.11.2", "pkg:pypi/jinja2@2.11.2"),
                q("PyPI", "jinja2", "2.11.2"),
            ),
            (
                pkg(
                    T::Npm,
                    "@babel/core",
                    "7.0.0",
                    "pkg:npm/%40babel/core@7.0.0",
                ),
                q("npm", "@babel/core", "7.0.0"),
            ),
            (
                pkg(
                    T::GoModule,
                    "golang.org/x/net",
                    "v0.7.0",
                    "pkg:golang/golang.org/x/net@v0.7.0",
                ),
                q("Go", "golang.org/x/net", "0.7.0"),
            ),
            (
                pkg(
                    T::GoModule,
                    "stdlib",
                    "go1.21.0",
                    "pkg:golang/stdlib@go1.21.0",
                ),
                q("Go", "stdlib", "1.21.0"),
            ),
            (
                pkg(T::GoModule, "stdlib", "go1.20", "pkg:golang/stdlib@go1.20"),
                q("Go", "stdlib", "1.20.0"),
            ),
            (
                pkg(
                    T::GoModule,
                    "stdlib",
                    "go1.21rc2",
                    "pkg:golang/stdlib@go1.21rc2",
                ),
                q("Go", "stdlib", "1.21.0-rc.2"),
            ),
            (
                pkg(
                    T::GoModule,
                    "stdlib",
                    "go1.20.1 X:boringcrypto",
                    "pkg:golang/stdlib@go1.20.1",
                ),
                q("Go", "stdlib", "1.20.1"),
            ),
            (
                pkg(
                    T::GoModule,
                    "example.com/m",
                    "(devel)",
                    "pkg:golang/example.com/m@(devel)",
                ),
                None,
            ),
            (
                pkg(T::RustCrate, "serde", "1.0.0", "pkg:cargo/serde@1.0.0"),
                q("crates.io", "serde", "1.0.0"),
            ),
            (
                pkg(
                    T::Binary,
                    "log4j-core",
                    "2.14.1",
                    "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                ),
                q("Maven", "org.apache.logging.log4j:log4j-core", "2.14.1"),
            ),
            (
                pkg(T::Binary, "rails", "7.0.0", "pkg:gem/rails@7.0.0"),
                q("RubyGems", "rails", "7.0.0"),
            ),
            (
                pkg(
                    T::Binary,
                    "guzzle",
                    "7.0.0",
                    "pkg:composer/guzzlehttp/guzzle@7.0.0",
                ),
                q("Packagist", "guzzlehttp/guzzle", "7.0.0"),
            ),
            (
                pkg(
                    T::Binary,
                    "Newtonsoft.Json",
                    "12.0.1",
                    "pkg:nuget/Newtonsoft.Json@12.0.1",
                ),
                q("NuGet", "Newtonsoft.Json", "12.0.1"),
            ),
            (
                pkg(T::Binary, "python", "3.11", "pkg:generic/python@3.11"),
                None,
            ),
            (pkg(T::Python, "x", "", "pkg:pypi/x"), None),
            (pkg(T::Python, "x", "1", "not a purl"), None),
        ];
        for (p, want) in cases {
            assert_eq!(language_query(&p), want, "{}", p.purl);
        }
    }

    #[test]
    fn severities() {
        use debian::Urgency as U;
        for (u, s) in [
            (U::Unimportant, Severity::Negligible),
            (U::Low, Severity::Low),
            (U::Medium, Severity::Medium),
            (U::High, Severity::High),
            (U::NotYetAssigned, Severity::Unknown),
            (U::EndOfLife, Severity::Unknown),
        ] {
            assert_eq!(Severity::from_urgency(u), s, "{u:?}");
        }
        let mut sorted = Severity::ALL;
        sorted.sort();
        assert_eq!(sorted[0], Severity::Unknown);
        assert_eq!(sorted[5], Severity::Critical);
        assert!(Severity::Negligible < Severity::Low);
    }
}
