//! OSV advisory records (<https://ossf.github.io/osv-schema/>): parsing from
//! JSON or YAML, and deciding whether a package version is affected.
//!
//! Only the fields matching needs are modelled; everything else
//! (`references`, `credits`, `database_specific`, `ecosystem_specific`, …)
//! is ignored, so newer schema versions still parse.
//!
//! [`affects`] follows the schema's evaluation algorithm: a version is
//! affected if it is listed in `versions[]`, or if an `ECOSYSTEM` or
//! `SEMVER` range's events, sorted by the ecosystem's version order, leave
//! it inside an `introduced`…`fixed`/`last_affected` interval (and below
//! every `limit`). `GIT` ranges need a repository's history and never match
//! here. Withdrawn records never match.
//!
//! Ecosystem orderings: `PyPI` (PEP 440), `npm` and `crates.io` (SemVer),
//! `Go` (Go module semver, OSV's versions without the `v`), `Alpine:vX.Y`
//! (apk), `Debian:N` and `Ubuntu:…` (dpkg), `Red Hat`, `Rocky Linux`,
//! `AlmaLinux` (rpm), `Maven` ([`maven::compare`], Maven 3.6's
//! `ComparableVersion`). Other ecosystems are [`Unsupported`] for ranges and
//! match through their exact `versions[]` lists only.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::version;

/// Records larger than this are refused before parsing (the largest PyPA
/// record is under 100 KiB; osv.dev's largest are a few MiB).
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// A list that may be `null`: osv.dev's own converters write
/// `"versions": null` (its Alpine records do), which the schema's "may be
/// absent" covers in spirit; refusing the record would lose every range in
/// it.
fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// The serialisation of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// OSV's canonical form (osv.dev exports).
    Json,
    /// As the PyPA advisory database stores records.
    Yaml,
}

impl Format {
    /// The format a file name implies (`.json`, `.yaml`/`.yml`), if any.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "yaml" | "yml" => Some(Format::Yaml),
            _ => None,
        }
    }
}

/// Why a record did not parse.
#[derive(Debug, thiserror::Error)]
pub enum OsvError {
    /// Larger than [`MAX_RECORD_BYTES`].
    #[error("OSV record is {len} bytes, more than the {max}-byte limit")]
    TooLarge {
        /// The record's size.
        len: usize,
        /// [`MAX_RECORD_BYTES`].
        max: usize,
    },
    /// Not valid OSV JSON.
    #[error("invalid OSV JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Not valid OSV YAML.
    #[error("invalid OSV YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
    /// YAML nested too deeply, or with too many aliases, to parse in
    /// reasonable time ([`crate::yaml_guard`]).
    #[error("OSV YAML refused: {0}")]
    YamlGuard(#[from] crate::yaml_guard::GuardError),
    /// Parsed, but breaks a rule of the schema matching relies on.
    #[error("invalid OSV record {id:?}: {reason}")]
    Invalid {
        /// The record's `id`.
        id: String,
        /// What is wrong.
        reason: String,
    },
}

/// One OSV record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Advisory {
    /// E.g. `PYSEC-2021-108`, `GHSA-…`.
    pub id: String,
    /// Other IDs of the same vulnerability (CVE, GHSA, …).
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub aliases: Vec<String>,
    /// Ids this record is derived from (schema 1.6's `upstream`): osv.dev's
    /// Debian records name their CVE here, not in `aliases` —
    /// `DEBIAN-CVE-2024-2961` → `CVE-2024-2961`, and `DSA-5673-1` →
    /// `CVE-2024-2961`, `DEBIAN-CVE-2024-2961`. A DSA or DLA fixing several
    /// CVEs lists them all, so unlike `aliases` these are not all the same
    /// vulnerability ([`crate::scan`] tells the two cases apart).
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub upstream: Vec<String>,
    /// RFC 3339 time of the last change (required by the schema; kept as
    /// text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// RFC 3339 time of publication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Set when the record was withdrawn: it then never matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// One-line summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Longer description (Markdown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Severity vectors of the whole record.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub severity: Vec<Severity>,
    /// The affected packages.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub affected: Vec<Affected>,
}

/// A `severity[]` entry: `type` (`CVSS_V3`, `CVSS_V4`, `Ubuntu`, …) and
/// `score` (a vector for the CVSS types; see [`crate::cvss::score`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Severity {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The vector or label.
    pub score: String,
}

/// An `affected[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Affected {
    /// Which package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<Package>,
    /// Severity of this package only.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub severity: Vec<Severity>,
    /// Version ranges.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ranges: Vec<Range>,
    /// Exact affected versions.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub versions: Vec<String>,
}

/// `affected[].package`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Package {
    /// E.g. `PyPI`, `Debian:12`, `Alpine:v3.19`.
    pub ecosystem: String,
    /// The package's name in that ecosystem.
    pub name: String,
    /// Package URL, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// The kind of a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
pub enum RangeType {
    /// Versions in the ecosystem's own order.
    #[serde(rename = "ECOSYSTEM")]
    Ecosystem,
    /// SemVer 2.0.0 versions.
    #[serde(rename = "SEMVER")]
    Semver,
    /// Commit hashes: needs the repository, never matched here.
    #[serde(rename = "GIT")]
    Git,
    /// A type this version of the schema does not know: never matched.
    #[serde(other)]
    Unknown,
}

/// `affected[].ranges[]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Range {
    /// `ECOSYSTEM`, `SEMVER` or `GIT`.
    #[serde(rename = "type")]
    pub kind: RangeType,
    /// The events in the order given (evaluation sorts them).
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub events: Vec<Event>,
}

/// One event; the schema requires exactly one key, which
/// [`Event::kind`] checks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
pub struct Event {
    /// Start of an affected interval (`"0"`: from the beginning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    /// First unaffected version after an interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// Last affected version of an interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    /// Upper bound of the range's evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// What an event says, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind<'a> {
    /// `introduced`
    Introduced(&'a str),
    /// `fixed`
    Fixed(&'a str),
    /// `last_affected`
    LastAffected(&'a str),
    /// `limit`
    Limit(&'a str),
}

impl Event {
    /// The event's single key and value; `None` if it has none or several.
    pub fn kind(&self) -> Option<EventKind<'_>> {
        match (
            &self.introduced,
            &self.fixed,
            &self.last_affected,
            &self.limit,
        ) {
            (Some(v), None, None, None) => Some(EventKind::Introduced(v)),
            (None, Some(v), None, None) => Some(EventKind::Fixed(v)),
            (None, None, Some(v), None) => Some(EventKind::LastAffected(v)),
            (None, None, None, Some(v)) => Some(EventKind::Limit(v)),
            _ => None,
        }
    }
}

/// Parses one record. Refuses more than [`MAX_RECORD_BYTES`] with
/// [`OsvError::TooLarge`] before reading it, YAML nested too deeply or
/// with too many aliases with [`OsvError::YamlGuard`] before parsing it, and events that do not have
/// exactly one key with [`OsvError::Invalid`].
pub fn parse(bytes: &[u8], format: Format) -> Result<Advisory, OsvError> {
    if bytes.len() > MAX_RECORD_BYTES {
        return Err(OsvError::TooLarge {
            len: bytes.len(),
            max: MAX_RECORD_BYTES,
        });
    }
    let advisory: Advisory = match format {
        Format::Json => serde_json::from_slice(bytes)?,
        Format::Yaml => {
            crate::yaml_guard::check(bytes)?;
            serde_norway::from_slice(bytes)?
        }
    };
    for affected in &advisory.affected {
        for range in &affected.ranges {
            if range.events.iter().any(|e| e.kind().is_none()) {
                return Err(OsvError::Invalid {
                    id: advisory.id.clone(),
                    reason: "a range event must have exactly one of introduced, fixed, \
                             last_affected, limit"
                        .to_owned(),
                });
            }
        }
    }
    Ok(advisory)
}

/// A positive verdict of [`affects`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Match {
    /// The smallest `fixed` version greater than the installed one in a
    /// range that matched, if the record names one.
    pub fixed: Option<String>,
}

/// Why an ecosystem's ranges are not evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("OSV ecosystem {ecosystem:?}: ranges not evaluated ({reason})")]
pub struct Unsupported {
    /// The ecosystem as given.
    pub ecosystem: String,
    /// Why.
    pub reason: &'static str,
}

type Compare = fn(&str, &str) -> Ordering;

fn go_compare(a: &str, b: &str) -> Ordering {
    fn v(s: &str) -> std::borrow::Cow<'_, str> {
        if s.starts_with('v') {
            s.into()
        } else {
            format!("v{s}").into()
        }
    }
    version::golang::compare(&v(a), &v(b))
}

/// The base of an ecosystem name: `Debian:12` → `Debian`.
fn base(ecosystem: &str) -> &str {
    ecosystem
        .split_once(':')
        .map_or(ecosystem, |(b, _)| b)
        .trim()
}

/// The version order of an ecosystem's `ECOSYSTEM` ranges.
pub fn ordering(ecosystem: &str) -> Result<fn(&str, &str) -> Ordering, Unsupported> {
    let compare: Compare = match base(ecosystem) {
        "PyPI" => version::pep440::compare,
        "npm" | "crates.io" => version::semver::compare,
        "Go" => go_compare,
        "Alpine" => version::apk::compare,
        "Debian" | "Ubuntu" => version::dpkg::compare,
        "Red Hat" | "Rocky Linux" | "AlmaLinux" => version::rpm::compare,
        "Maven" => maven::compare,
        _ => {
            return Err(Unsupported {
                ecosystem: ecosystem.to_owned(),
                reason: "unknown ecosystem; only exact versions[] entries match",
            });
        }
    };
    Ok(compare)
}

/// Whether `version` is one the ecosystem's order can place; an unparsable
/// installed version is matched only by exact `versions[]` entries, never
/// by ranges (whose verdict on it would be arbitrary).
fn orderable(ecosystem: &str, version: &str) -> bool {
    match base(ecosystem) {
        "PyPI" => version::pep440::parse(version).is_ok(),
        "npm" | "crates.io" => version::semver::parse(version).is_ok(),
        "Go" => {
            let v = if version.starts_with('v') {
                version.to_owned()
            } else {
                format!("v{version}")
            };
            version::golang::parse(&v).is_ok()
        }
        "Maven" => !version.trim().is_empty() && version.len() <= maven::MAX_LEN,
        _ => !version.trim().is_empty(),
    }
}

/// A package name as its ecosystem compares names: PyPI by PEP 503
/// (lowercase, runs of `-`, `_`, `.` → `-`), crates.io case-insensitively
/// with `-` and `_` equal (as crates.io refuses names differing only so),
/// everything else exactly.
pub fn normalize_name(ecosystem: &str, name: &str) -> String {
    match base(ecosystem) {
        "PyPI" => {
            let mut out = String::with_capacity(name.len());
            let mut in_sep = false;
            for c in name.trim().chars() {
                if matches!(c, '-' | '_' | '.') {
                    if !in_sep {
                        out.push('-');
                    }
                    in_sep = true;
                } else {
                    out.extend(c.to_lowercase());
                    in_sep = false;
                }
            }
            out
        }
        "crates.io" => name.trim().to_ascii_lowercase().replace('_', "-"),
        _ => name.to_owned(),
    }
}

/// Whether a record's ecosystem covers the scanned one. The bases must be
/// equal; a record's release suffix (`Debian:12`, `Alpine:v3.19`) must
/// equal the scanned one's, and a record without a suffix covers every
/// release.
fn ecosystem_matches(record: &str, scanned: &str) -> bool {
    if base(record) != base(scanned) {
        return false;
    }
    match record.split_once(':') {
        None => true,
        Some((_, release)) => scanned
            .split_once(':')
            .is_some_and(|(_, r)| r.trim() == release.trim()),
    }
}

/// Whether `version` of package `name` in `ecosystem` is affected by the
/// advisory, and the fix if one is known. See the module documentation for
/// the algorithm; withdrawn records never match.
pub fn affects(advisory: &Advisory, ecosystem: &str, name: &str, version: &str) -> Option<Match> {
    if advisory.withdrawn.is_some() {
        return None;
    }
    let wanted = normalize_name(ecosystem, name);
    let compare = ordering(ecosystem).ok();
    let can_order = orderable(ecosystem, version);
    let mut affected_any = false;
    let mut best_fixed: Option<&str> = None;

    for affected in &advisory.affected {
        let Some(package) = &affected.package else {
            continue;
        };
        if !ecosystem_matches(&package.ecosystem, ecosystem)
            || normalize_name(ecosystem, &package.name) != wanted
        {
            continue;
        }
        let listed = affected.versions.iter().any(|v| {
            v == version
                || (can_order
                    && compare.is_some_and(|c| orderable(ecosystem, v) && c(v, version).is_eq()))
        });
        let mut in_range = false;
        let mut range_fixed: Option<&str> = None;
        for range in &affected.ranges {
            let cmp: Compare = match range.kind {
                RangeType::Ecosystem => match compare {
                    Some(c) => c,
                    None => continue,
                },
                RangeType::Semver => version::semver::compare,
                RangeType::Git | RangeType::Unknown => continue,
            };
            if !can_order && range.kind == RangeType::Ecosystem {
                continue;
            }
            if range.kind == RangeType::Semver && version::semver::parse(version).is_err() {
                continue;
            }
            if let Some(fixed) = evaluate(range, version, cmp) {
                in_range = true;
                if let Some(f) = fixed
                    && range_fixed.is_none_or(|b| cmp(f, b).is_lt())
                {
                    range_fixed = Some(f);
                }
            }
        }
        if listed || in_range {
            affected_any = true;
            // A version matched only by versions[] still gets the fix the
            // ranges name, if any lies above it.
            let fixed = if in_range {
                range_fixed
            } else {
                smallest_fix_above(&affected.ranges, version, compare, can_order)
            };
            if let Some(f) = fixed {
                let cmp = compare.unwrap_or(version::semver::compare);
                if best_fixed.is_none_or(|b| cmp(f, b).is_lt()) {
                    best_fixed = Some(f);
                }
            }
        }
    }
    affected_any.then(|| Match {
        fixed: best_fixed.map(str::to_owned),
    })
}

/// Evaluates one range: `None` if `version` is not affected by it, else
/// `Some(fixed)` with the smallest `fixed` event above `version`.
fn evaluate<'a>(range: &'a Range, version: &str, cmp: Compare) -> Option<Option<&'a str>> {
    let events: Vec<EventKind<'a>> = range.events.iter().filter_map(Event::kind).collect();
    let key = |e: &EventKind<'a>| match *e {
        EventKind::Introduced(v)
        | EventKind::Fixed(v)
        | EventKind::LastAffected(v)
        | EventKind::Limit(v) => v,
    };
    let limits: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            EventKind::Limit(v) => Some(*v),
            _ => None,
        })
        .collect();
    // A version at or above every limit is outside the range ("*" is no
    // limit at all).
    if !limits.is_empty() && !limits.iter().any(|l| *l == "*" || cmp(version, l).is_lt()) {
        return None;
    }
    // "0" sorts before everything; the sort is stable so ties keep the
    // record's order. Not `sort_by`: it may panic when a comparator is not
    // a total order, and Maven's own is not (see `maven`).
    let events = merge_sort(events, &|a, b| match (key(a), key(b)) {
        ("0", "0") => Ordering::Equal,
        ("0", _) => Ordering::Less,
        (_, "0") => Ordering::Greater,
        (x, y) => cmp(x, y),
    });
    let mut vulnerable = false;
    for event in &events {
        match *event {
            EventKind::Introduced(v) => {
                if v == "0" || cmp(version, v).is_ge() {
                    vulnerable = true;
                }
            }
            EventKind::Fixed(v) => {
                if cmp(version, v).is_ge() {
                    vulnerable = false;
                }
            }
            EventKind::LastAffected(v) => {
                if cmp(version, v).is_gt() {
                    vulnerable = false;
                }
            }
            EventKind::Limit(_) => {}
        }
    }
    if !vulnerable {
        return None;
    }
    let fixed = events
        .iter()
        .filter_map(|e| match e {
            EventKind::Fixed(v) if cmp(v, version).is_gt() => Some(*v),
            _ => None,
        })
        .min_by(|a, b| cmp(a, b));
    Some(fixed)
}

/// A stable merge sort that never panics, whatever the comparator does
/// (a comparator that is not a total order just yields some permutation).
fn merge_sort<T: Copy>(items: Vec<T>, compare: &dyn Fn(&T, &T) -> Ordering) -> Vec<T> {
    if items.len() <= 1 {
        return items;
    }
    let mut left = items;
    let right = left.split_off(left.len() / 2);
    let (left, right) = (merge_sort(left, compare), merge_sort(right, compare));
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if compare(&right[j], &left[i]).is_lt() {
            out.push(right[j]);
            j += 1;
        } else {
            out.push(left[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&left[i..]);
    out.extend_from_slice(&right[j..]);
    out
}

fn smallest_fix_above<'a>(
    ranges: &'a [Range],
    version: &str,
    compare: Option<Compare>,
    can_order: bool,
) -> Option<&'a str> {
    let cmp = compare?;
    if !can_order {
        return None;
    }
    ranges
        .iter()
        .filter(|r| r.kind == RangeType::Ecosystem)
        .flat_map(|r| r.events.iter())
        .filter_map(|e| match e.kind() {
            Some(EventKind::Fixed(v)) if cmp(v, version).is_gt() => Some(v),
            _ => None,
        })
        .min_by(|a, b| cmp(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(ecosystem: &str, name: &str, ranges: &str, versions: &str) -> String {
        format!(
            r#"{{"id":"TEST-1","modified":"2024-01-01T00:00:00Z","affected":[{{"package":{{"ecosystem":"{ecosystem}","name":"{name}"}},"ranges":[{ranges}],"versions":[{versions}]}}]}}"#
        )
    }

    fn eco(events: &str) -> String {
        format!(r#"{{"type":"ECOSYSTEM","events":[{events}]}}"#)
    }

    #[test]
    fn parses_json_and_yaml_alike() {
        let yaml = r#"
id: PYSEC-0000-1
aliases: [CVE-0000-1, GHSA-xxxx]
modified: "2024-01-01T00:00:00Z"
published: "2023-01-01T00:00:00Z"
summary: s
details: d
severity:
- type: CVSS_V3
  score: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H
affected:
- package: {ecosystem: PyPI, name: Foo_Bar, purl: pkg:pypi/foo-bar}
  ranges:
  - type: GIT
    repo: https://example.invalid/x
    events: [{introduced: "0"}, {fixed: abc}]
  - type: ECOSYSTEM
    events: [{introduced: "0"}, {fixed: "1.2"}]
  versions: ["1.0", "1.1"]
  database_specific: {anything: [1, 2]}
  ecosystem_specific: {x: y}
references: [{type: WEB, url: "https://example.invalid"}]
"#;
        let json = r#"{"id":"PYSEC-0000-1","aliases":["CVE-0000-1","GHSA-xxxx"],
            "modified":"2024-01-01T00:00:00Z","published":"2023-01-01T00:00:00Z",
            "summary":"s","details":"d",
            "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected":[{"package":{"ecosystem":"PyPI","name":"Foo_Bar","purl":"pkg:pypi/foo-bar"},
              "ranges":[{"type":"GIT","repo":"https://example.invalid/x","events":[{"introduced":"0"},{"fixed":"abc"}]},
                        {"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.2"}]}],
              "versions":["1.0","1.1"],"database_specific":{"anything":[1,2]},"ecosystem_specific":{"x":"y"}}],
            "references":[{"type":"WEB","url":"https://example.invalid"}],"schema_version":"1.6.0"}"#;
        let a = parse(yaml.as_bytes(), Format::Yaml).unwrap();
        let b = parse(json.as_bytes(), Format::Json).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.aliases, ["CVE-0000-1", "GHSA-xxxx"]);
        assert_eq!(a.affected[0].ranges[0].kind, RangeType::Git);
        assert_eq!(
            a.affected[0].ranges[1].events[1].kind(),
            Some(EventKind::Fixed("1.2"))
        );
        assert_eq!(a.severity[0].kind, "CVSS_V3");
        assert_eq!(a.details.as_deref(), Some("d"));
    }

    #[test]
    fn minimal_record_parses() {
        let a = parse(
            br#"{"id":"X","modified":"2024-01-01T00:00:00Z"}"#,
            Format::Json,
        )
        .unwrap();
        assert!(a.affected.is_empty() && a.withdrawn.is_none() && a.details.is_none());
    }

    #[test]
    fn hostile_input_is_a_typed_error() {
        let big = vec![b' '; MAX_RECORD_BYTES + 1];
        assert!(matches!(
            parse(&big, Format::Json),
            Err(OsvError::TooLarge { .. })
        ));
        assert!(matches!(
            parse(&big, Format::Yaml),
            Err(OsvError::TooLarge { .. })
        ));
        let bad: &[(&[u8], Format)] = &[
            (b"", Format::Json),
            (b"{", Format::Json),
            (b"[]", Format::Json),
            (b"{\"id\":1}", Format::Json),
            (b"\xff\xfe", Format::Json),
            (b"\xff\xfe", Format::Yaml),
            (b"", Format::Yaml),
            (b"id: [", Format::Yaml),
            (b"- a\n- b\n", Format::Yaml),
            (b"id: x\naffected: 3\n", Format::Yaml),
            // an event with two keys, and one with none
            (
                br#"{"id":"X","affected":[{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0","fixed":"1"}]}]}]}"#,
                Format::Json,
            ),
            (
                br#"{"id":"X","affected":[{"ranges":[{"type":"ECOSYSTEM","events":[{}]}]}]}"#,
                Format::Json,
            ),
            // deep nesting
            (&[b'['; 100_000], Format::Json),
            (&[b'['; 100_000], Format::Yaml),
        ];
        for (bytes, format) in bad {
            assert!(
                parse(bytes, *format).is_err(),
                "{:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(40)])
            );
        }
        // YAML alias expansion ("billion laughs"): ignored fields are
        // skipped without expanding, and a used one is refused, not
        // expanded (9^10 strings otherwise).
        let mut laughs = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for i in 1..10 {
            let prev = (b'a' + i - 1) as char;
            let cur = (b'a' + i) as char;
            laughs.push_str(&format!(
                "{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
            ));
        }
        let started = std::time::Instant::now();
        let ignored = format!("{laughs}id: X\n");
        assert!(parse(ignored.as_bytes(), Format::Yaml).is_ok());
        let used = format!("{laughs}id: X\naffected: [{{versions: *j}}]\n");
        assert!(parse(used.as_bytes(), Format::Yaml).is_err());
        assert!(started.elapsed().as_secs() < 5);
    }

    #[test]
    fn unknown_range_type_is_kept_and_never_matches() {
        let r = record(
            "npm",
            "x",
            r#"{"type":"FUTURE","events":[{"introduced":"0"}]}"#,
            "",
        );
        let a = parse(r.as_bytes(), Format::Json).unwrap();
        assert_eq!(a.affected[0].ranges[0].kind, RangeType::Unknown);
        assert_eq!(affects(&a, "npm", "x", "1.0.0"), None);
    }

    // (ecosystem, record name, ranges, versions, query eco, query name,
    //  installed version, expected: None = not affected, Some(fixed))
    type Case = (
        &'static str,
        &'static str,
        String,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        Option<Option<&'static str>>,
    );

    #[test]
    fn evaluation_table() {
        let simple = eco(r#"{"introduced":"0"},{"fixed":"1.26.5"}"#);
        let multi = eco(
            r#"{"introduced":"2.0.0"},{"fixed":"2.0.6"},{"introduced":"0"},{"fixed":"1.26.17"}"#,
        );
        let last = eco(r#"{"introduced":"1.0"},{"last_affected":"1.4"}"#);
        let limited = eco(r#"{"introduced":"1.0"},{"limit":"2.0"}"#);
        let cases: Vec<Case> = vec![
            (
                "PyPI",
                "urllib3",
                simple.clone(),
                "",
                "PyPI",
                "urllib3",
                "1.26.4",
                Some(Some("1.26.5")),
            ),
            (
                "PyPI",
                "urllib3",
                simple.clone(),
                "",
                "PyPI",
                "urllib3",
                "1.26.5",
                None,
            ),
            (
                "PyPI",
                "urllib3",
                simple.clone(),
                "",
                "PyPI",
                "urllib3",
                "2.0",
                None,
            ),
            // PEP 440 normalisation of versions: 1.26.5.0 == 1.26.5
            (
                "PyPI",
                "urllib3",
                simple.clone(),
                "",
                "PyPI",
                "urllib3",
                "1.26.5.0",
                None,
            ),
            (
                "PyPI",
                "urllib3",
                simple.clone(),
                "",
                "PyPI",
                "urllib3",
                "1.26.5rc1",
                Some(Some("1.26.5")),
            ),
            // PEP 503 names
            (
                "PyPI",
                "Foo.Bar__baz",
                simple.clone(),
                "",
                "PyPI",
                "foo-bar-BAZ",
                "1.0",
                Some(Some("1.26.5")),
            ),
            (
                "PyPI",
                "urllib3",
                simple.clone(),
                "",
                "PyPI",
                "urllib4",
                "1.0",
                None,
            ),
            (
                "PyPI",
                "urllib3",
                simple.clone(),
                "",
                "npm",
                "urllib3",
                "1.0.0",
                None,
            ),
            // unsorted events, two intervals; smallest fix above the version
            (
                "PyPI",
                "u",
                multi.clone(),
                "",
                "PyPI",
                "u",
                "1.26.4",
                Some(Some("1.26.17")),
            ),
            ("PyPI", "u", multi.clone(), "", "PyPI", "u", "1.26.17", None),
            (
                "PyPI",
                "u",
                multi.clone(),
                "",
                "PyPI",
                "u",
                "2.0.0",
                Some(Some("2.0.6")),
            ),
            ("PyPI", "u", multi.clone(), "", "PyPI", "u", "2.0.6", None),
            // last_affected: affected through it, no fix known
            (
                "PyPI",
                "p",
                last.clone(),
                "",
                "PyPI",
                "p",
                "1.4",
                Some(None),
            ),
            ("PyPI", "p", last.clone(), "", "PyPI", "p", "1.4.1", None),
            ("PyPI", "p", last.clone(), "", "PyPI", "p", "0.9", None),
            // limit
            (
                "PyPI",
                "p",
                limited.clone(),
                "",
                "PyPI",
                "p",
                "1.5",
                Some(None),
            ),
            ("PyPI", "p", limited.clone(), "", "PyPI", "p", "2.0", None),
            // versions[] only, and versions[] above the ranges' fix
            (
                "PyPI",
                "p",
                String::new(),
                r#""0.5","0.6""#,
                "PyPI",
                "p",
                "0.6",
                Some(None),
            ),
            (
                "PyPI",
                "p",
                String::new(),
                r#""0.5","0.6""#,
                "PyPI",
                "p",
                "0.6.0",
                Some(None),
            ),
            (
                "PyPI",
                "p",
                String::new(),
                r#""0.5","0.6""#,
                "PyPI",
                "p",
                "0.7",
                None,
            ),
            (
                "PyPI",
                "p",
                eco(r#"{"introduced":"0"},{"fixed":"2.0"}"#),
                r#""3.0""#,
                "PyPI",
                "p",
                "3.0",
                Some(None),
            ),
            // an unparsable installed version never falls into a range
            (
                "PyPI",
                "p",
                simple.clone(),
                "",
                "PyPI",
                "p",
                "not a version",
                None,
            ),
            (
                "PyPI",
                "p",
                simple.clone(),
                r#""not a version""#,
                "PyPI",
                "p",
                "not a version",
                Some(None),
            ),
            // npm / crates.io: semver
            (
                "npm",
                "lodash",
                eco(r#"{"introduced":"0"},{"fixed":"4.17.21"}"#),
                "",
                "npm",
                "lodash",
                "4.17.20",
                Some(Some("4.17.21")),
            ),
            (
                "npm",
                "lodash",
                eco(r#"{"introduced":"0"},{"fixed":"4.17.21"}"#),
                "",
                "npm",
                "lodash",
                "4.17.21",
                None,
            ),
            (
                "npm",
                "lodash",
                eco(r#"{"introduced":"0"},{"fixed":"4.17.21"}"#),
                "",
                "npm",
                "Lodash",
                "4.17.20",
                None,
            ),
            (
                "crates.io",
                "tokio_util",
                eco(r#"{"introduced":"0.1.0"},{"fixed":"0.7.1"}"#),
                "",
                "crates.io",
                "tokio-util",
                "0.7.0",
                Some(Some("0.7.1")),
            ),
            (
                "crates.io",
                "t",
                eco(r#"{"introduced":"1.0.0-alpha"},{"fixed":"1.0.0"}"#),
                "",
                "crates.io",
                "t",
                "1.0.0-beta.2",
                Some(Some("1.0.0")),
            ),
            // SEMVER range type
            (
                "npm",
                "x",
                r#"{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.3"}]}"#.to_owned(),
                "",
                "npm",
                "x",
                "1.2.2",
                Some(Some("1.2.3")),
            ),
            (
                "npm",
                "x",
                r#"{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.3"}]}"#.to_owned(),
                "",
                "npm",
                "x",
                "1.10.0",
                None,
            ),
            // Go: OSV versions carry no "v"
            (
                "Go",
                "golang.org/x/net",
                eco(r#"{"introduced":"0"},{"fixed":"0.17.0"}"#),
                "",
                "Go",
                "golang.org/x/net",
                "0.16.0",
                Some(Some("0.17.0")),
            ),
            (
                "Go",
                "golang.org/x/net",
                eco(r#"{"introduced":"0"},{"fixed":"0.17.0"}"#),
                "",
                "Go",
                "golang.org/x/net",
                "v0.17.0",
                None,
            ),
            (
                "Go",
                "m",
                eco(r#"{"introduced":"0"},{"fixed":"1.2.0"}"#),
                "",
                "Go",
                "m",
                "0.0.0-20191109021931-daa7c04131f5",
                Some(Some("1.2.0")),
            ),
            // Alpine per release, apk order
            (
                "Alpine:v3.19",
                "openssl",
                eco(r#"{"introduced":"0"},{"fixed":"3.1.4-r1"}"#),
                "",
                "Alpine:v3.19",
                "openssl",
                "3.1.4-r0",
                Some(Some("3.1.4-r1")),
            ),
            (
                "Alpine:v3.19",
                "openssl",
                eco(r#"{"introduced":"0"},{"fixed":"3.1.4-r1"}"#),
                "",
                "Alpine:v3.18",
                "openssl",
                "3.1.4-r0",
                None,
            ),
            (
                "Alpine:v3.19",
                "openssl",
                eco(r#"{"introduced":"0"},{"fixed":"3.1.4-r1"}"#),
                "",
                "Alpine:v3.19",
                "openssl",
                "3.1.4-r10",
                None,
            ),
            // Debian per release, dpkg order (epochs, ~)
            (
                "Debian:12",
                "openssl",
                eco(r#"{"introduced":"0"},{"fixed":"3.0.11-1~deb12u2"}"#),
                "",
                "Debian:12",
                "openssl",
                "3.0.11-1~deb12u1",
                Some(Some("3.0.11-1~deb12u2")),
            ),
            (
                "Debian:12",
                "openssl",
                eco(r#"{"introduced":"0"},{"fixed":"3.0.11-1~deb12u2"}"#),
                "",
                "Debian:12",
                "openssl",
                "3.0.11-1",
                None,
            ),
            (
                "Debian:12",
                "openssl",
                eco(r#"{"introduced":"0"},{"fixed":"1:1.0"}"#),
                "",
                "Debian:12",
                "openssl",
                "9.9",
                Some(Some("1:1.0")),
            ),
            (
                "Debian:12",
                "openssl",
                eco(r#"{"introduced":"0"},{"fixed":"1.0"}"#),
                "",
                "Debian:11",
                "openssl",
                "0.9",
                None,
            ),
            // Maven: ComparableVersion order, versions[] exact
            (
                "Maven",
                "org.x:y",
                eco(r#"{"introduced":"0"},{"fixed":"2.0"}"#),
                r#""1.0""#,
                "Maven",
                "org.x:y",
                "1.0",
                Some(Some("2.0")),
            ),
            (
                "Maven",
                "org.x:y",
                eco(r#"{"introduced":"0"},{"fixed":"2.0"}"#),
                r#""1.0""#,
                "Maven",
                "org.x:y",
                "1.5",
                Some(Some("2.0")),
            ),
            (
                "Maven",
                "org.x:y",
                eco(r#"{"introduced":"0"},{"fixed":"2.0"}"#),
                "",
                "Maven",
                "org.x:y",
                "2.0-SNAPSHOT",
                Some(Some("2.0")),
            ),
            (
                "Maven",
                "org.x:y",
                eco(r#"{"introduced":"0"},{"fixed":"2.0"}"#),
                "",
                "Maven",
                "org.x:y",
                "2.0.0",
                None,
            ),
            (
                "Maven",
                "org.x:y",
                eco(r#"{"introduced":"0"},{"fixed":"2.0"}"#),
                "",
                "Maven",
                "org.x:y",
                "2.0-sp1",
                None,
            ),
            (
                "Maven",
                "org.x:y",
                eco(r#"{"introduced":"0"},{"fixed":"2.0"}"#),
                "",
                "Maven",
                "org.x:y",
                "2.0-rc1",
                Some(Some("2.0")),
            ),
            // GIT ranges never match
            (
                "PyPI",
                "p",
                r#"{"type":"GIT","repo":"r","events":[{"introduced":"0"},{"fixed":"abc"}]}"#
                    .to_owned(),
                "",
                "PyPI",
                "p",
                "1.0",
                None,
            ),
        ];
        for (i, (reco, rname, ranges, versions, qeco, qname, qver, want)) in
            cases.into_iter().enumerate()
        {
            let json = record(reco, rname, &ranges, versions);
            let a = parse(json.as_bytes(), Format::Json).unwrap_or_else(|e| panic!("{i}: {e}"));
            let got = affects(&a, qeco, qname, qver).map(|m| m.fixed);
            let want = want.map(|f| f.map(str::to_owned));
            assert_eq!(got, want, "case {i}: {qeco} {qname} {qver} vs {json}");
        }
    }

    #[test]
    fn merge_sort_is_stable_and_survives_bad_comparators() {
        let v: Vec<(u8, char)> = vec![(2, 'a'), (1, 'b'), (2, 'c'), (1, 'd'), (0, 'e')];
        let sorted = merge_sort(v.clone(), &|a, b| a.0.cmp(&b.0));
        assert_eq!(sorted, [(0, 'e'), (1, 'b'), (1, 'd'), (2, 'a'), (2, 'c')]);
        // A comparator that is no order at all: a permutation, no panic.
        let weird = merge_sort((0..1000u32).collect(), &|a, b| {
            if (a ^ b) % 3 == 0 {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        });
        let mut back = weird.clone();
        back.sort_unstable();
        assert_eq!(back, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn withdrawn_never_matches() {
        let mut a = parse(
            record("PyPI", "p", &eco(r#"{"introduced":"0"}"#), "").as_bytes(),
            Format::Json,
        )
        .unwrap();
        assert!(affects(&a, "PyPI", "p", "1.0").is_some());
        a.withdrawn = Some("2024-01-01T00:00:00Z".to_owned());
        assert_eq!(affects(&a, "PyPI", "p", "1.0"), None);
    }

    #[test]
    fn ordering_reports_unsupported() {
        assert!(ordering("PyPI").is_ok());
        assert!(ordering("Debian:12").is_ok());
        assert!(ordering("Maven").is_ok());
        let e = ordering("Nonesuch").unwrap_err();
        assert!(e.to_string().contains("Nonesuch"), "{e}");
    }

    #[test]
    fn names() {
        assert_eq!(normalize_name("PyPI", "Jinja2"), "jinja2");
        assert_eq!(normalize_name("PyPI", "a._-B"), "a-b");
        assert_eq!(normalize_name("crates.io", "Tokio_Util"), "tokio-util");
        assert_eq!(normalize_name("Go", "Github.com/X"), "Github.com/X");
    }

    #[test]
    fn format_from_path() {
        use std::path::Path;
        assert_eq!(Format::from_path(Path::new("a/B.YAML")), Some(Format::Yaml));
        assert_eq!(Format::from_path(Path::new("a.yml")), Some(Format::Yaml));
        assert_eq!(Format::from_path(Path::new("a.json")), Some(Format::Json));
        assert_eq!(Format::from_path(Path::new("a")), None);
    }
}

/// Maven's version order, as `org.apache.maven.artifact.versioning.
/// ComparableVersion` (Maven 3.6) defines it: items split at `.`, `-` and
/// digit/letter transitions, a `-` or a transition opening a sub-list;
/// numbers compared as numbers; qualifiers `alpha` < `beta` < `milestone` <
/// `rc` < `snapshot` < `""` (release; `ga`, `final`) < `sp` < any other
/// (lexically); `a1`/`b1`/`m1` mean alpha/beta/milestone 1, `cr` means `rc`;
/// trailing zeros and release qualifiers of each list are dropped, so
/// `1` = `1.0` = `1-0` = `1-ga`. Case-insensitive. Only ASCII digits are
/// digits (Java also takes other Unicode digits).
///
/// Strings over [`maven::MAX_LEN`] bytes are not parsed (nesting would be
/// unbounded): they sort before every other version and bytewise among
/// themselves, so the order stays total.
pub mod maven {
    use std::cmp::Ordering;

    /// Longest version string ordered as a Maven version.
    pub const MAX_LEN: usize = 256;

    const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

    #[derive(Debug)]
    enum Item {
        /// Digits without leading zeros ("" is 0).
        Int(String),
        /// A qualifier after aliasing.
        Str(String),
        List(Vec<Item>),
    }

    fn comparable(q: &str) -> String {
        match QUALIFIERS.iter().position(|x| *x == q) {
            Some(i) => i.to_string(),
            None => format!("{}-{q}", QUALIFIERS.len()),
        }
    }

    fn is_null(item: &Item) -> bool {
        match item {
            Item::Int(d) => d.is_empty(),
            Item::Str(s) => s.is_empty(),
            Item::List(l) => l.is_empty(),
        }
    }

    fn parse_item(digit: bool, buf: &str, followed_by_digit: bool) -> Item {
        if digit {
            return Item::Int(buf.trim_start_matches('0').to_owned());
        }
        let expanded = match (followed_by_digit, buf) {
            (true, "a") => "alpha",
            (true, "b") => "beta",
            (true, "m") => "milestone",
            (_, "ga" | "final") => "",
            (_, "cr") => "rc",
            (_, other) => other,
        };
        Item::Str(expanded.to_owned())
    }

    fn normalize(list: &mut Vec<Item>) {
        let mut i = list.len();
        while i > 0 {
            i -= 1;
            if is_null(&list[i]) {
                list.remove(i);
            } else if !matches!(list[i], Item::List(_)) {
                break;
            }
        }
    }

    fn parse(version: &str) -> Item {
        let v: Vec<char> = version.to_lowercase().chars().collect();
        // The lists form a chain: each new list is appended to the current
        // one and becomes current, so keep them flat and nest at the end.
        let mut chain: Vec<Vec<Item>> = vec![Vec::new()];
        let mut digit = false;
        let mut start = 0;
        let text = |a: usize, b: usize| v[a..b].iter().collect::<String>();
        for (i, &c) in v.iter().enumerate() {
            let current = chain.len() - 1;
            if c == '.' || c == '-' {
                let item = if i == start {
                    Item::Int(String::new())
                } else {
                    parse_item(digit, &text(start, i), false)
                };
                chain[current].push(item);
                start = i + 1;
                if c == '-' {
                    chain.push(Vec::new());
                }
            } else if c.is_ascii_digit() {
                if !digit && i > start {
                    chain[current].push(parse_item(false, &text(start, i), true));
                    start = i;
                    chain.push(Vec::new());
                }
                digit = true;
            } else {
                if digit && i > start {
                    chain[current].push(parse_item(true, &text(start, i), false));
                    start = i;
                    chain.push(Vec::new());
                }
                digit = false;
            }
        }
        if v.len() > start {
            let last = chain.len() - 1;
            chain[last].push(parse_item(digit, &text(start, v.len()), false));
        }
        let mut inner: Option<Vec<Item>> = None;
        while let Some(mut list) = chain.pop() {
            if let Some(child) = inner.take() {
                list.push(Item::List(child));
            }
            normalize(&mut list);
            inner = Some(list);
        }
        Item::List(inner.unwrap_or_default())
    }

    fn cmp_num(a: &str, b: &str) -> Ordering {
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    }

    fn cmp(a: &Item, b: Option<&Item>) -> Ordering {
        match (a, b) {
            (Item::Int(d), None) => {
                if d.is_empty() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (Item::Int(x), Some(Item::Int(y))) => cmp_num(x, y),
            (Item::Int(_), Some(_)) => Ordering::Greater,
            (Item::Str(s), None) => comparable(s).as_str().cmp("5"),
            (Item::Str(_), Some(Item::Int(_) | Item::List(_))) => Ordering::Less,
            (Item::Str(s), Some(Item::Str(t))) => comparable(s).cmp(&comparable(t)),
            (Item::List(l), None) => l.first().map_or(Ordering::Equal, |f| cmp(f, None)),
            (Item::List(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::List(_), Some(Item::Str(_))) => Ordering::Greater,
            (Item::List(l), Some(Item::List(r))) => {
                for i in 0..l.len().max(r.len()) {
                    let o = match (l.get(i), r.get(i)) {
                        (Some(x), y) => cmp(x, y),
                        (None, Some(y)) => cmp(y, None).reverse(),
                        (None, None) => Ordering::Equal,
                    };
                    if o.is_ne() {
                        return o;
                    }
                }
                Ordering::Equal
            }
        }
    }

    /// Compares two Maven versions. Never panics.
    pub fn compare(a: &str, b: &str) -> Ordering {
        match (a.len() > MAX_LEN, b.len() > MAX_LEN) {
            (false, false) => cmp(&parse(a), Some(&parse(b))),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (true, true) => a.cmp(b),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::compare;

        // apache/maven maven-artifact ComparableVersionTest.java @
        // 09d64bdf5ceb55dcda36356a04f3723e6440b65e (Apache-2.0): each list
        // strictly increasing, and the equalities — less six that pinned
        // Maven 3.0's rule that a digit/letter transition equals `.`
        // (`1a` == `1.a`); since Maven 3.6 a transition opens a sub-list
        // like `-` does (`1a` == `1-a`, kept), which is what is implemented.
        const QUALIFIER_ORDER: &[&str] = &[
            "1-alpha2snapshot",
            "1-alpha2",
            "1-alpha-123",
            "1-beta-2",
            "1-beta123",
            "1-m2",
            "1-m11",
            "1-rc",
            "1-cr2",
            "1-rc123",
            "1-SNAPSHOT",
            "1",
            "1-sp",
            "1-sp2",
            "1-sp123",
            "1-abc",
            "1-def",
            "1-pom-1",
            "1-1-snapshot",
            "1-1",
            "1-2",
            "1-123",
        ];
        const NUMBER_ORDER: &[&str] = &[
            "2.0", "2-1", "2.0.a", "2.0.0.a", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b",
            "2.1-c", "2.1-1", "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11",
            "11.m2", "11.m11", "11", "11.a", "11b", "11c", "11m",
        ];
        const EQUAL: &[(&str, &str)] = &[
            ("1", "1"),
            ("1", "1.0"),
            ("1", "1.0.0"),
            ("1.0", "1.0.0"),
            ("1", "1-0"),
            ("1", "1.0-0"),
            ("1.0", "1.0-0"),
            ("1a", "1-a"),
            ("1a", "1.0-a"),
            ("1a", "1.0.0-a"),
            ("1x", "1-x"),
            ("1x", "1.0-x"),
            ("1x", "1.0.0-x"),
            ("1ga", "1"),
            ("1final", "1"),
            ("1cr", "1rc"),
            ("1a1", "1alpha1"),
            ("1b2", "1beta2"),
            ("1m3", "1milestone3"),
            ("1X", "1x"),
            ("1A", "1a"),
            ("1B", "1b"),
            ("1M", "1m"),
            ("1Ga", "1"),
            ("1GA", "1"),
            ("1Final", "1"),
            ("1FinaL", "1"),
            ("1FINAL", "1"),
            ("1Cr", "1Rc"),
            ("1cR", "1rC"),
            ("1m3", "1Milestone3"),
            ("1m3", "1MileStone3"),
            ("1m3", "1MILESTONE3"),
            (
                "1-abcdefghijklmnopqrstuvwxyz",
                "1-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            ),
        ];
        const LESS: &[(&str, &str)] = &[
            ("1", "2"),
            ("1.5", "2"),
            ("1", "2.5"),
            ("1.0", "1.1"),
            ("1.1", "1.2"),
            ("1.0.0", "1.1"),
            ("1.0.1", "1.1"),
            ("1.1", "1.2.0"),
            ("1.0-alpha-1", "1.0"),
            ("1.0-alpha-1", "1.0-alpha-2"),
            ("1.0-alpha-1", "1.0-beta-1"),
            ("1.0-beta-1", "1.0-SNAPSHOT"),
            ("1.0-SNAPSHOT", "1.0"),
            ("1.0-alpha-1-SNAPSHOT", "1.0-alpha-1"),
            ("1.0", "1.0-1"),
            ("1.0-1", "1.0-2"),
            ("1.0.0", "1.0-1"),
            ("2.0-1", "2.0.1"),
            ("2.0.1-klm", "2.0.1-lmn"),
            ("2.0.1", "2.0.1-xyz"),
            ("2.0.1", "2.0.1-123"),
            ("2.0.1-xyz", "2.0.1-123"),
            // beyond the upstream file: big numbers, leading zeros
            ("9", "12345678901234567890"),
            ("1.007", "1.8"),
        ];

        #[test]
        fn upstream_vectors() {
            for list in [QUALIFIER_ORDER, NUMBER_ORDER] {
                for (i, lo) in list.iter().enumerate() {
                    for hi in &list[i + 1..] {
                        assert!(compare(lo, hi).is_lt(), "{lo} < {hi}");
                        assert!(compare(hi, lo).is_gt(), "{hi} > {lo}");
                    }
                }
            }
            for (a, b) in EQUAL {
                assert!(compare(a, b).is_eq(), "{a} == {b}");
                assert!(compare(b, a).is_eq(), "{b} == {a}");
            }
            for (a, b) in LESS {
                assert!(compare(a, b).is_lt(), "{a} < {b}");
                assert!(compare(b, a).is_gt(), "{b} > {a}");
            }
        }

        #[test]
        fn hostile_lengths_do_not_recurse_deeply() {
            let long = "a1".repeat(100_000);
            assert!(compare(&long, "1").is_lt());
            assert!(compare(&long, &long).is_eq());
            let nested = "-".repeat(super::MAX_LEN);
            let _ = compare(&nested, "1");
            let _ = compare("", "");
        }
    }
}
