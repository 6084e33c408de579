//! Debian security tracker records and the status they give one release.
//!
//! The input is the JSON rendering of one entry of the tracker's text lists
//! (`data/CVE/list`, `data/DSA/list`) as aquasecurity/vuln-list-debian
//! publishes it under `tracker/CVE/…` and `tracker/DSA/…`: a [`Header`] and
//! its [`Annotation`]s in list order. Keys are Go's (`Header`, `Original`,
//! `Kind`, …); empty values are omitted, so every field but the header's
//! `ID` is optional here. See `tests/data/debian-tracker/FORMAT.md`.
//!
//! [`verdict`] derives the status of one (CVE, source package) for one
//! release in the tracker's precedence (FORMAT.md section 5, as trivy-db
//! implements it):
//!
//! 1. the CVE's `[release]` line for the package;
//! 2. otherwise a DSA/DLA whose xref lists the CVE and which has a
//!    `[release]` line for the package (the earliest such fixed version);
//! 3. otherwise the unstable line (no `[release]`): `not-affected` holds for
//!    every release, `<unfixed>` is open, `fixed V` is compared with the
//!    installed version, `<removed>` is not applicable.
//!
//! Lines of other releases (including `experimental`) never count.
//! Versions compare with [`crate::version::dpkg::compare`], never as text.

pub mod dump;

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::version::dpkg;

/// Largest record [`parse_cve`] and [`parse_dsa`] accept. Real entries are
/// a few KiB; the largest in the tracker are far below this.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// Why a record was refused.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The input is larger than [`MAX_RECORD_BYTES`].
    #[error("tracker record is {len} bytes, more than the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    /// Not JSON of the record's shape.
    #[error("tracker record is not valid JSON of the expected shape: {0}")]
    Json(#[from] serde_json::Error),
    /// A CVE file where a DSA was expected, or the other way round.
    #[error("expected a {expected} record, found header ID {id:?}")]
    WrongKind { expected: &'static str, id: String },
    /// A `package` annotation without what every such line has.
    #[error("{id}: annotation {index}: {what}")]
    Malformed {
        id: String,
        index: usize,
        what: &'static str,
    },
}

/// One tracker entry: a CVE (`CVE-…`, `TEMP-…`) or an advisory (`DSA-…`,
/// `DLA-…`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Entry {
    #[serde(rename = "Header")]
    pub header: Header,
    #[serde(rename = "Annotations", default, skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<Annotation>,
}

impl Entry {
    /// The source packages its `package` lines name (each once per line).
    pub fn packages(&self) -> impl Iterator<Item = &str> {
        self.annotations.iter().filter_map(|a| {
            (a.kind_of_line == LineType::Package)
                .then_some(a.package.as_deref())
                .flatten()
        })
    }

    /// The IDs its `xref` lines list: advisories in a CVE entry, CVEs in an
    /// advisory.
    pub fn xrefs(&self) -> impl Iterator<Item = &str> {
        self.annotations
            .iter()
            .filter(|a| a.kind_of_line == LineType::Xref)
            .flat_map(|a| a.bugs.iter().map(String::as_str))
    }
}

/// The entry's header line.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Header {
    /// The header line as in the list file.
    #[serde(rename = "Original", default, skip_serializing_if = "String::is_empty")]
    pub original: String,
    /// `CVE-YYYY-NNNN`, `DSA-NNNN-N`, …
    #[serde(rename = "ID")]
    pub id: String,
    /// The rest of the header line, when there is one.
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
}

/// One indented line of the entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Annotation {
    /// The trimmed line.
    #[serde(rename = "Original", default, skip_serializing_if = "String::is_empty")]
    pub original: String,
    #[serde(rename = "Type")]
    pub kind_of_line: LineType,
    /// Codename of the release the line is about; `None` means unstable.
    #[serde(rename = "Release", default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// Debian source package.
    #[serde(rename = "Package", default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Status, on `package` lines.
    #[serde(rename = "Kind", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// Fixed version, on `fixed` lines.
    #[serde(rename = "Version", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Free text: the reason of `no-dsa`, `not-affected`, … or a NOTE/TODO.
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// `unimportant`, `low`, `medium` or `high`, when the line states it.
    #[serde(rename = "Severity", default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(rename = "BugNo", default, skip_serializing_if = "Option::is_none")]
    pub bug_no: Option<i64>,
    /// On `xref` lines: the DSA/DLA IDs (CVE files) or CVE IDs (DSA files).
    #[serde(rename = "Bugs", default, skip_serializing_if = "Vec::is_empty")]
    pub bugs: Vec<String>,
}

/// The annotation's `Type`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(from = "String", into = "String")]
pub enum LineType {
    Package,
    Xref,
    Note,
    Todo,
    Reserved,
    Rejected,
    NotForUs,
    Other(String),
}

impl From<String> for LineType {
    fn from(s: String) -> Self {
        match s.as_str() {
            "package" => Self::Package,
            "xref" => Self::Xref,
            "NOTE" => Self::Note,
            "TODO" => Self::Todo,
            "RESERVED" => Self::Reserved,
            "REJECTED" => Self::Rejected,
            "NOT-FOR-US" => Self::NotForUs,
            _ => Self::Other(s),
        }
    }
}

/// A `package` line's status (`Kind`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(from = "String", into = "String")]
pub enum Kind {
    Fixed,
    Unfixed,
    NotAffected,
    NoDsa,
    Ignored,
    Postponed,
    Removed,
    EndOfLife,
    Itp,
    Undetermined,
    Other(String),
}

impl From<LineType> for String {
    fn from(t: LineType) -> String {
        match t {
            LineType::Package => "package".into(),
            LineType::Xref => "xref".into(),
            LineType::Note => "NOTE".into(),
            LineType::Todo => "TODO".into(),
            LineType::Reserved => "RESERVED".into(),
            LineType::Rejected => "REJECTED".into(),
            LineType::NotForUs => "NOT-FOR-US".into(),
            LineType::Other(s) => s,
        }
    }
}

impl From<Kind> for String {
    fn from(k: Kind) -> String {
        match k {
            Kind::Fixed => "fixed".into(),
            Kind::Unfixed => "unfixed".into(),
            Kind::NotAffected => "not-affected".into(),
            Kind::NoDsa => "no-dsa".into(),
            Kind::Ignored => "ignored".into(),
            Kind::Postponed => "postponed".into(),
            Kind::Removed => "removed".into(),
            Kind::EndOfLife => "end-of-life".into(),
            Kind::Itp => "itp".into(),
            Kind::Undetermined => "undetermined".into(),
            Kind::Other(s) => s,
        }
    }
}

impl From<String> for Kind {
    fn from(s: String) -> Self {
        match s.as_str() {
            "fixed" => Self::Fixed,
            "unfixed" => Self::Unfixed,
            "not-affected" => Self::NotAffected,
            "no-dsa" => Self::NoDsa,
            "ignored" => Self::Ignored,
            "postponed" => Self::Postponed,
            "removed" => Self::Removed,
            "end-of-life" => Self::EndOfLife,
            "itp" => Self::Itp,
            "undetermined" => Self::Undetermined,
            _ => Self::Other(s),
        }
    }
}

/// The tracker's urgency. The list format only carries `unimportant`,
/// `low`, `medium`, `high` (a line's `Severity`); `not yet assigned` is what
/// a line without one means, `end-of-life` what an `<end-of-life>` line
/// means. The tracker's `*`/`**` suffixes are accepted and dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Urgency {
    NotYetAssigned,
    EndOfLife,
    Unimportant,
    Low,
    Medium,
    High,
}

impl Urgency {
    /// Parses a tracker urgency string; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().trim_end_matches('*') {
            "not yet assigned" => Some(Self::NotYetAssigned),
            "end-of-life" => Some(Self::EndOfLife),
            "unimportant" => Some(Self::Unimportant),
            "low" => Some(Self::Low),
            "medium" => Some(Self::Medium),
            "high" => Some(Self::High),
            _ => None,
        }
    }

    /// The tracker's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotYetAssigned => "not yet assigned",
            Self::EndOfLife => "end-of-life",
            Self::Unimportant => "unimportant",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// Parses one CVE entry (header ID `CVE-…` or `TEMP-…`).
pub fn parse_cve(bytes: &[u8]) -> Result<Entry, ParseError> {
    parse(bytes, "CVE", &["CVE-", "TEMP-"])
}

/// Parses one advisory entry (header ID `DSA-…` or `DLA-…`).
pub fn parse_dsa(bytes: &[u8]) -> Result<Entry, ParseError> {
    parse(bytes, "DSA/DLA", &["DSA-", "DLA-"])
}

fn parse(bytes: &[u8], expected: &'static str, prefixes: &[&str]) -> Result<Entry, ParseError> {
    if bytes.len() > MAX_RECORD_BYTES {
        return Err(ParseError::TooLarge {
            len: bytes.len(),
            max: MAX_RECORD_BYTES,
        });
    }
    let entry: Entry = serde_json::from_slice(bytes)?;
    let id = &entry.header.id;
    if !prefixes.iter().any(|p| id.starts_with(p)) {
        return Err(ParseError::WrongKind {
            expected,
            id: id.clone(),
        });
    }
    for (index, a) in entry.annotations.iter().enumerate() {
        if a.kind_of_line != LineType::Package {
            continue;
        }
        let malformed = |what| ParseError::Malformed {
            id: id.clone(),
            index,
            what,
        };
        if a.package.as_deref().is_none_or(str::is_empty) {
            return Err(malformed("package line without a package"));
        }
        match &a.kind {
            None => return Err(malformed("package line without a status (Kind)")),
            Some(Kind::Fixed) if a.version.as_deref().is_none_or(str::is_empty) => {
                return Err(malformed("fixed line without a version"));
            }
            Some(_) => {}
        }
    }
    Ok(entry)
}

/// The status of one (CVE, source package, installed version) in one release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The installed version is at or after `version`, the fix.
    Fixed { version: String, via: FixedVia },
    /// Vulnerable.
    Open {
        /// The release's fixed version, when the release has one that is not
        /// installed yet (an update is available).
        fixed_in: Option<String>,
        /// The release has no fixed version (`fixed_in.is_none()`): what
        /// `--ignore-unfixed` drops.
        unfixed: bool,
        /// Which tracker status made it open.
        status: OpenStatus,
        /// The urgency of the line that decided, else of the package's
        /// unstable line, else `not yet assigned` (`end-of-life` for an
        /// `<end-of-life>` line).
        urgency: Urgency,
    },
    /// Not vulnerable, or the record does not concern this package.
    NotAffected { reason: NotAffectedReason },
}

/// Where a fixed version came from (precedence steps 1–3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FixedVia {
    /// The CVE's `[release]` line.
    ReleaseLine,
    /// The `[release]` line of this advisory (DSA/DLA ID).
    Advisory(String),
    /// The unstable line, by version comparison (the "implicit fixed" case).
    Unstable,
}

/// Why a verdict is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenStatus {
    /// The release (or advisory) has a fix; the installed version is older.
    UpdateAvailable,
    /// `<unfixed>`: no fix yet.
    Unfixed,
    /// `<no-dsa>` (reason): no advisory planned.
    NoDsa(Option<String>),
    /// `<ignored>` (reason): will not be fixed.
    Ignored(Option<String>),
    /// `<postponed>` (reason): fix deferred.
    Postponed(Option<String>),
    /// `<end-of-life>` (reason): out of security support.
    EndOfLife(Option<String>),
    /// No release line; unstable is fixed in this version, which is newer
    /// than the installed one, and the release has no fix of its own.
    FixedOnlyInUnstable(String),
    /// A status this code does not know, taken as vulnerable.
    Unknown(String),
}

/// Why a verdict is not affected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAffectedReason {
    /// `<not-affected>` (reason), on the release line or, for every
    /// release, on the unstable line.
    NotAffected(Option<String>),
    /// `<removed>` or `<itp>`: the package is not (or no longer) in the
    /// archive.
    NotInArchive,
    /// `<undetermined>`: trivy-db skips these, and so do we.
    Undetermined,
    /// The record has no line for this package that applies to the release.
    NotListed,
}

/// Is `release` unstable, whose status the line without `[release]` gives?
fn is_unstable(release: &str) -> bool {
    release.eq_ignore_ascii_case("sid") || release.eq_ignore_ascii_case("unstable")
}

fn package_lines<'a>(entry: &'a Entry, package: &'a str) -> impl Iterator<Item = &'a Annotation> {
    entry.annotations.iter().filter(move |a| {
        a.kind_of_line == LineType::Package && a.package.as_deref() == Some(package)
    })
}

fn line_urgency(a: &Annotation) -> Option<Urgency> {
    a.severity.as_deref().and_then(Urgency::parse)
}

/// Derives the status of the CVE `cve` for `source_package` at
/// `installed_version` in `release` (a codename as in os-release's
/// `VERSION_CODENAME`, e.g. `bookworm`; `sid`/`unstable` select the line
/// without `[release]`).
///
/// `advisories` are DSA/DLA entries; only those whose xref lists the CVE
/// are used, so passing more is harmless. `installed_version` should be the
/// **source** package's version (dpkg's `Source: name (version)` when it
/// differs from the binary's); for the unstable fallback it plays the part
/// of the release's source version `B` in FORMAT.md.
pub fn verdict<'a>(
    cve: &Entry,
    advisories: impl IntoIterator<Item = &'a Entry>,
    source_package: &str,
    installed_version: &str,
    release: &str,
) -> Verdict {
    let unstable_line = package_lines(cve, source_package).find(|a| a.release.is_none());
    let fallback_urgency = unstable_line.and_then(line_urgency);
    let urgency_of = |a: &Annotation| {
        line_urgency(a)
            .or(fallback_urgency)
            .unwrap_or(Urgency::NotYetAssigned)
    };

    // 1. The release line (for unstable, the line without `[release]`).
    let release_line = if is_unstable(release) {
        unstable_line
    } else {
        package_lines(cve, source_package).find(|a| a.release.as_deref() == Some(release))
    };
    if let Some(line) = release_line {
        return from_line(
            line,
            installed_version,
            FixedVia::ReleaseLine,
            urgency_of(line),
            false,
        );
    }

    // 2. An advisory's release line.
    if !is_unstable(release) {
        let cve_id = cve.header.id.as_str();
        let mut best: Option<(&str, &str)> = None;
        for adv in advisories {
            let lists_cve = adv
                .annotations
                .iter()
                .any(|a| a.kind_of_line == LineType::Xref && a.bugs.iter().any(|b| b == cve_id));
            if !lists_cve {
                continue;
            }
            let fixed = package_lines(adv, source_package).find_map(|a| {
                (a.release.as_deref() == Some(release) && a.kind == Some(Kind::Fixed))
                    .then_some(a.version.as_deref())
                    .flatten()
            });
            if let Some(v) = fixed {
                // The earliest advisory that fixed it; later ones (regression
                // updates) list the CVE again with newer versions.
                if best.is_none_or(|(b, _)| dpkg::compare(v, b) == Ordering::Less) {
                    best = Some((v, adv.header.id.as_str()));
                }
            }
        }
        if let Some((version, id)) = best {
            return fixed_or_update(
                version,
                installed_version,
                FixedVia::Advisory(id.into()),
                urgency_of_none(fallback_urgency),
            );
        }
    }

    // 3. The unstable line, for a release without its own line.
    match unstable_line {
        Some(line) => from_line(
            line,
            installed_version,
            FixedVia::Unstable,
            urgency_of(line),
            true,
        ),
        None => Verdict::NotAffected {
            reason: NotAffectedReason::NotListed,
        },
    }
}

fn urgency_of_none(fallback: Option<Urgency>) -> Urgency {
    fallback.unwrap_or(Urgency::NotYetAssigned)
}

/// The verdict one `package` line gives. `implicit`: the line is the
/// unstable line standing in for a release without a line of its own, so a
/// fix that is not installed is not the release's fix.
fn from_line(
    line: &Annotation,
    installed: &str,
    via: FixedVia,
    urgency: Urgency,
    implicit: bool,
) -> Verdict {
    let reason = || line.description.clone();
    let open = |status| Verdict::Open {
        fixed_in: None,
        unfixed: true,
        status,
        urgency,
    };
    match line.kind.as_ref() {
        Some(Kind::Fixed) => match line.version.as_deref() {
            Some(v) if implicit && dpkg::compare(installed, v) == Ordering::Less => {
                open(OpenStatus::FixedOnlyInUnstable(v.to_owned()))
            }
            Some(v) => fixed_or_update(v, installed, via, urgency),
            // parse_* refuse this; a hand-built entry is taken as unfixed.
            None => open(OpenStatus::Unknown("fixed without a version".into())),
        },
        Some(Kind::NotAffected) => Verdict::NotAffected {
            reason: NotAffectedReason::NotAffected(reason()),
        },
        Some(Kind::Removed | Kind::Itp) => Verdict::NotAffected {
            reason: NotAffectedReason::NotInArchive,
        },
        Some(Kind::Undetermined) => Verdict::NotAffected {
            reason: NotAffectedReason::Undetermined,
        },
        Some(Kind::Unfixed) => open(OpenStatus::Unfixed),
        Some(Kind::NoDsa) => open(OpenStatus::NoDsa(reason())),
        Some(Kind::Ignored) => open(OpenStatus::Ignored(reason())),
        Some(Kind::Postponed) => open(OpenStatus::Postponed(reason())),
        Some(Kind::EndOfLife) => Verdict::Open {
            fixed_in: None,
            unfixed: true,
            status: OpenStatus::EndOfLife(reason()),
            urgency: Urgency::EndOfLife,
        },
        Some(Kind::Other(k)) => open(OpenStatus::Unknown(k.clone())),
        None => open(OpenStatus::Unknown(String::new())),
    }
}

fn fixed_or_update(version: &str, installed: &str, via: FixedVia, urgency: Urgency) -> Verdict {
    if dpkg::compare(installed, version) == Ordering::Less {
        Verdict::Open {
            fixed_in: Some(version.to_owned()),
            unfixed: false,
            status: OpenStatus::UpdateAvailable,
            urgency,
        }
    } else {
        Verdict::Fixed {
            version: version.to_owned(),
            via,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `package` line: `(release, package, kind, version_or_reason, severity)`.
    type Line = (
        Option<&'static str>,
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
    );

    fn entry(id: &str, xref: &[&str], lines: &[Line]) -> Entry {
        let mut annotations = Vec::new();
        if !xref.is_empty() {
            annotations.push(Annotation {
                original: String::new(),
                kind_of_line: LineType::Xref,
                release: None,
                package: None,
                kind: None,
                version: None,
                description: None,
                severity: None,
                bug_no: None,
                bugs: xref.iter().map(|s| (*s).to_owned()).collect(),
            });
        }
        for &(release, package, kind, text, severity) in lines {
            let kind = Kind::from(kind.to_owned());
            let fixed = kind == Kind::Fixed;
            annotations.push(Annotation {
                original: String::new(),
                kind_of_line: LineType::Package,
                release: release.map(str::to_owned),
                package: Some(package.to_owned()),
                version: text.filter(|_| fixed).map(str::to_owned),
                description: text.filter(|_| !fixed).map(str::to_owned),
                kind: Some(kind),
                severity: severity.map(str::to_owned),
                bug_no: None,
                bugs: Vec::new(),
            });
        }
        Entry {
            header: Header {
                original: id.to_owned(),
                id: id.to_owned(),
                description: None,
            },
            annotations,
        }
    }

    fn fixed(v: &str, via: FixedVia) -> Verdict {
        Verdict::Fixed {
            version: v.to_owned(),
            via,
        }
    }

    fn open(fixed_in: Option<&str>, status: OpenStatus, urgency: Urgency) -> Verdict {
        Verdict::Open {
            fixed_in: fixed_in.map(str::to_owned),
            unfixed: fixed_in.is_none(),
            status,
            urgency,
        }
    }

    fn not_affected(reason: NotAffectedReason) -> Verdict {
        Verdict::NotAffected { reason }
    }

    const BW: Option<&str> = Some("bookworm");

    #[test]
    fn derivation_rules() {
        use FixedVia::*;
        use NotAffectedReason as N;
        use OpenStatus as O;
        use Urgency as U;
        // (what, CVE lines, installed, release, expected)
        let cases: Vec<(&str, Vec<Line>, &str, &str, Verdict)> = vec![
            (
                "release line fixed, installed equal",
                vec![
                    (None, "p", "fixed", Some("2.0-1"), None),
                    (BW, "p", "fixed", Some("1.0-1+deb12u1"), None),
                ],
                "1.0-1+deb12u1",
                "bookworm",
                fixed("1.0-1+deb12u1", ReleaseLine),
            ),
            (
                "release line fixed, installed newer",
                vec![(BW, "p", "fixed", Some("1.0-1+deb12u1"), None)],
                "1.0-1+deb12u2",
                "bookworm",
                fixed("1.0-1+deb12u1", ReleaseLine),
            ),
            (
                "release line fixed, installed older: update available",
                vec![(BW, "p", "fixed", Some("1.0-1+deb12u1"), Some("low"))],
                "1.0-1",
                "bookworm",
                open(Some("1.0-1+deb12u1"), O::UpdateAvailable, U::Low),
            ),
            (
                "release line wins over the unstable line",
                vec![
                    (None, "p", "fixed", Some("0.1-1"), None),
                    (BW, "p", "no-dsa", Some("Minor issue"), None),
                ],
                "9.9-9",
                "bookworm",
                open(
                    None,
                    O::NoDsa(Some("Minor issue".into())),
                    U::NotYetAssigned,
                ),
            ),
            (
                "ignored keeps the unstable line's severity",
                vec![
                    (None, "p", "fixed", Some("9.4-1"), Some("low")),
                    (BW, "p", "ignored", Some("Minor issue"), None),
                ],
                "9.1-1",
                "bookworm",
                open(None, O::Ignored(Some("Minor issue".into())), U::Low),
            ),
            (
                "postponed",
                vec![(BW, "p", "postponed", Some("later"), None)],
                "1",
                "bookworm",
                open(None, O::Postponed(Some("later".into())), U::NotYetAssigned),
            ),
            (
                "end-of-life",
                vec![(BW, "p", "end-of-life", Some("eol"), None)],
                "1",
                "bookworm",
                open(None, O::EndOfLife(Some("eol".into())), U::EndOfLife),
            ),
            (
                "not-affected on the release line",
                vec![
                    (None, "p", "fixed", Some("5.6.1+really5.4.5-1"), None),
                    (
                        BW,
                        "p",
                        "not-affected",
                        Some("Vulnerable code not present"),
                        None,
                    ),
                ],
                "5.4.1-0.2",
                "bookworm",
                not_affected(N::NotAffected(Some("Vulnerable code not present".into()))),
            ),
            (
                "not-affected on the unstable line covers every release",
                vec![(None, "p", "not-affected", Some("introduced in 2.37"), None)],
                "2.36-9",
                "bookworm",
                not_affected(N::NotAffected(Some("introduced in 2.37".into()))),
            ),
            (
                "unstable unfixed, unimportant",
                vec![(None, "p", "unfixed", None, Some("unimportant"))],
                "1.34+dfsg-1",
                "bookworm",
                open(None, O::Unfixed, U::Unimportant),
            ),
            (
                "unstable fixed, installed at the fix: implicit fixed",
                vec![(None, "p", "fixed", Some("6.4-3"), None)],
                "6.4-3",
                "bookworm",
                fixed("6.4-3", Unstable),
            ),
            (
                "unstable fixed, installed newer: implicit fixed",
                vec![(None, "p", "fixed", Some("6.4-3"), None)],
                "6.4-4",
                "bookworm",
                fixed("6.4-3", Unstable),
            ),
            (
                "unstable fixed, installed older: open, no release fix",
                vec![(None, "p", "fixed", Some("1:1.3.dfsg-2"), None)],
                "1:1.2.13.dfsg-1",
                "bookworm",
                open(
                    None,
                    O::FixedOnlyInUnstable("1:1.3.dfsg-2".into()),
                    U::NotYetAssigned,
                ),
            ),
            (
                "epoch beats a larger upstream",
                vec![(None, "p", "fixed", Some("1:1.2.11.dfsg-4.1"), None)],
                "1.3-1",
                "bookworm",
                open(
                    None,
                    O::FixedOnlyInUnstable("1:1.2.11.dfsg-4.1".into()),
                    U::NotYetAssigned,
                ),
            ),
            (
                "epoch: installed with epoch beats fix without",
                vec![(None, "p", "fixed", Some("9.9-1"), None)],
                "1:0.1-1",
                "bookworm",
                fixed("9.9-1", Unstable),
            ),
            (
                "tilde sorts before the release: ~deb12u1 < -1",
                vec![(BW, "p", "fixed", Some("3.0.13-1"), None)],
                "3.0.13-1~deb12u1",
                "bookworm",
                open(Some("3.0.13-1"), O::UpdateAvailable, U::NotYetAssigned),
            ),
            (
                "versions compare as dpkg does, not as text",
                vec![(None, "p", "fixed", Some("1.9.3-2"), None)],
                "1.10.0-1",
                "bookworm",
                fixed("1.9.3-2", Unstable),
            ),
            (
                "removed",
                vec![(None, "p", "removed", None, None)],
                "1",
                "bookworm",
                not_affected(N::NotInArchive),
            ),
            (
                "undetermined is skipped as trivy-db does",
                vec![(None, "p", "undetermined", None, None)],
                "1",
                "bookworm",
                not_affected(N::Undetermined),
            ),
            (
                "unknown status is taken as vulnerable",
                vec![(BW, "p", "mystery", None, None)],
                "1",
                "bookworm",
                open(None, O::Unknown("mystery".into()), U::NotYetAssigned),
            ),
            (
                "other releases and experimental never count",
                vec![
                    (Some("experimental"), "p", "fixed", Some("3.0-1"), None),
                    (Some("bullseye"), "p", "not-affected", None, None),
                    (None, "p", "unfixed", None, None),
                ],
                "1",
                "bookworm",
                open(None, O::Unfixed, U::NotYetAssigned),
            ),
            (
                "other packages in the file never count",
                vec![
                    (None, "q", "unfixed", None, None),
                    (BW, "q", "fixed", Some("1"), None),
                ],
                "1",
                "bookworm",
                not_affected(N::NotListed),
            ),
            (
                "sid: the line without [release] is the release line",
                vec![
                    (None, "p", "fixed", Some("2.0-1"), None),
                    (BW, "p", "no-dsa", None, None),
                ],
                "1.0-1",
                "sid",
                open(Some("2.0-1"), O::UpdateAvailable, U::NotYetAssigned),
            ),
            (
                "unstable is sid",
                vec![(None, "p", "fixed", Some("2.0-1"), None)],
                "2.0-1",
                "unstable",
                fixed("2.0-1", ReleaseLine),
            ),
        ];
        for (what, lines, installed, release, expected) in cases {
            let cve = entry("CVE-2000-0001", &[], &lines);
            let got = verdict(&cve, [], "p", installed, release);
            assert_eq!(got, expected, "{what}");
        }
    }

    #[test]
    fn dsa_line() {
        use OpenStatus as O;
        let cve = entry(
            "CVE-2023-4911",
            &["DSA-5514-1"],
            &[(None, "glibc", "fixed", Some("2.37-12"), None)],
        );
        let dsa = entry(
            "DSA-5514-1",
            &["CVE-2023-4911"],
            &[
                (
                    Some("bullseye"),
                    "glibc",
                    "fixed",
                    Some("2.31-13+deb11u7"),
                    None,
                ),
                (BW, "glibc", "fixed", Some("2.36-9+deb12u3"), None),
            ],
        );
        // A later advisory re-listing the CVE with a newer version: the earliest fix counts.
        let regression = entry(
            "DSA-5514-2",
            &["CVE-2023-4911"],
            &[(BW, "glibc", "fixed", Some("2.36-9+deb12u4"), None)],
        );
        let other = entry(
            "DSA-9999-1",
            &["CVE-2000-0001"],
            &[(BW, "glibc", "fixed", Some("2.36-9+deb12u1"), None)],
        );
        let advisories = [other, regression, dsa];
        let cases: Vec<(&str, &str, Verdict)> = vec![
            (
                "2.36-9+deb12u3",
                "bookworm",
                fixed("2.36-9+deb12u3", FixedVia::Advisory("DSA-5514-1".into())),
            ),
            (
                "2.36-9+deb12u7",
                "bookworm",
                fixed("2.36-9+deb12u3", FixedVia::Advisory("DSA-5514-1".into())),
            ),
            (
                "2.36-9+deb12u2",
                "bookworm",
                open(
                    Some("2.36-9+deb12u3"),
                    O::UpdateAvailable,
                    Urgency::NotYetAssigned,
                ),
            ),
            // bullseye's own DSA line
            (
                "2.31-13+deb11u7",
                "bullseye",
                fixed("2.31-13+deb11u7", FixedVia::Advisory("DSA-5514-1".into())),
            ),
            // no DSA line for trixie: the unstable line decides
            ("2.37-12", "trixie", fixed("2.37-12", FixedVia::Unstable)),
        ];
        for (installed, release, expected) in cases {
            assert_eq!(
                verdict(&cve, &advisories, "glibc", installed, release),
                expected,
                "{installed} {release}"
            );
        }
        // A CVE release line wins over the DSA.
        let with_line = entry(
            "CVE-2023-4911",
            &["DSA-5514-1"],
            &[(BW, "glibc", "not-affected", None, None)],
        );
        assert!(matches!(
            verdict(&with_line, &advisories, "glibc", "0", "bookworm"),
            Verdict::NotAffected { .. }
        ));
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        let big = vec![b' '; MAX_RECORD_BYTES + 1];
        assert!(matches!(parse_cve(&big), Err(ParseError::TooLarge { .. })));
        let deep = "[".repeat(100_000);
        assert!(matches!(
            parse_cve(deep.as_bytes()),
            Err(ParseError::Json(_))
        ));
        for bad in [
            &b""[..],
            b"null",
            b"{}",
            b"{\"Header\":{}}",
            b"{\"Header\":{\"ID\":5}}",
            b"{\"Header\":{\"ID\":\"CVE-1\"},\"Annotations\":[{}]}",
            b"{\"Header\":{\"ID\":\"CVE-1\"},\"Annotations\":[{\"Type\":\"package\",\"BugNo\":1e400}]}",
            b"\xff\xfe",
        ] {
            assert!(parse_cve(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let malformed = [
            r#"{"Header":{"ID":"CVE-1"},"Annotations":[{"Type":"package","Kind":"fixed"}]}"#,
            r#"{"Header":{"ID":"CVE-1"},"Annotations":[{"Type":"package","Package":"p","Kind":"fixed"}]}"#,
            r#"{"Header":{"ID":"CVE-1"},"Annotations":[{"Type":"package","Package":"p"}]}"#,
        ];
        for m in malformed {
            assert!(
                matches!(parse_cve(m.as_bytes()), Err(ParseError::Malformed { .. })),
                "{m}"
            );
        }
        let dsa = r#"{"Header":{"ID":"DSA-1-1"}}"#;
        assert!(matches!(
            parse_cve(dsa.as_bytes()),
            Err(ParseError::WrongKind { .. })
        ));
        assert!(parse_dsa(dsa.as_bytes()).is_ok());
        let cve = r#"{"Header":{"ID":"CVE-1"},"Annotations":[{"Type":"weird","Line":3}]}"#;
        assert!(matches!(
            parse_dsa(cve.as_bytes()),
            Err(ParseError::WrongKind { .. })
        ));
        assert!(parse_cve(cve.as_bytes()).is_ok());
    }

    #[test]
    fn urgency_strings() {
        for (s, u) in [
            ("not yet assigned", Some(Urgency::NotYetAssigned)),
            ("end-of-life", Some(Urgency::EndOfLife)),
            ("unimportant", Some(Urgency::Unimportant)),
            ("low", Some(Urgency::Low)),
            ("low**", Some(Urgency::Low)),
            ("medium*", Some(Urgency::Medium)),
            ("high", Some(Urgency::High)),
            ("critical", None),
            ("", None),
        ] {
            assert_eq!(Urgency::parse(s), u, "{s}");
            if let Some(u) = u {
                assert_eq!(Urgency::parse(u.as_str()), Some(u));
            }
        }
    }

    proptest::proptest! {
        /// Arbitrary bytes, and arbitrary record-shaped JSON, never panic the
        /// parser, and whatever parses never panics the verdict.
        #[test]
        fn no_panics_on_hostile_input(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512),
            kind in "[a-z-]{0,12}",
            release in proptest::option::of("[a-z]{0,8}"),
            version in "\\PC{0,12}",
            severity in "\\PC{0,8}",
            installed in "\\PC{0,12}",
            query_release in "[a-z]{0,8}",
        ) {
            let _ = parse_cve(&bytes);
            let _ = parse_dsa(&bytes);
            let line = serde_json::json!({
                "Type": "package", "Release": release, "Package": "p",
                "Kind": kind, "Version": version, "Severity": severity,
            });
            let cve = serde_json::json!({
                "Header": {"ID": "CVE-1"},
                "Annotations": [line.clone(), {"Type": "xref", "Bugs": ["DSA-1"]}],
            });
            let dsa = serde_json::json!({
                "Header": {"ID": "DSA-1"},
                "Annotations": [{"Type": "xref", "Bugs": ["CVE-1"]}, line],
            });
            let cve = serde_json::to_vec(&cve).unwrap_or_default();
            let dsa = serde_json::to_vec(&dsa).unwrap_or_default();
            if let (Ok(c), Ok(d)) = (parse_cve(&cve), parse_dsa(&dsa)) {
                let _ = verdict(&c, [&d], "p", &installed, &query_release);
            }
        }
    }
}
