//! The Debian security tracker's own JSON dump
//! (`https://security-tracker.debian.org/tracker/data/json`), read into the
//! same [`Entry`] values as the list renderings, so one [`super::verdict`]
//! serves both inputs.
//!
//! The dump is one object, source package → issue (`CVE-…`, `TEMP-…`) →
//! `{ "description", "scope", "debianbug", "releases": { codename → {
//! "status", "repositories", "fixed_version", "urgency", "nodsa",
//! "nodsa_reason" } } }`, as the tracker's `security_db.py` writes it. It is
//! large (well over 50 MiB), so [`read`] streams it one (package, issue) at
//! a time with typed structs, never building a `serde_json::Value` of the
//! whole, and gives each as a partial [`Entry`] holding that package's lines;
//! [`merge`] joins the partial entries of one issue (the store does that in
//! the database, [`parse`] in memory for small inputs).
//!
//! One release becomes one `package` line ([`release_line`]). The status
//! decides, and only `resolved` reads `fixed_version`:
//!
//! | dump | line |
//! |---|---|
//! | release `sid` | the line without `[release]` (unstable) |
//! | `resolved`, `fixed_version` `"0"` | `not-affected` |
//! | `resolved`, another `fixed_version` | `fixed` with that version |
//! | `resolved` without a version | `undetermined` (nothing to compare with; scanners that read the dump skip it too) |
//! | `open`, `nodsa_reason` `ignored` / `postponed` | those kinds, the `nodsa` text (if any) as the reason |
//! | `open`, `nodsa` present | `no-dsa`, the `nodsa` text as the reason |
//! | `open`, urgency `end-of-life` | `end-of-life` |
//! | `open` otherwise | `unfixed`, whatever `fixed_version` says |
//! | `undetermined` | `undetermined` |
//! | any other status | kept as an unknown kind, which [`super::verdict`] takes as vulnerable |
//!
//! Why the status and not `fixed_version` decides: the tracker writes the
//! dump in `bin/tracker_service.py` (security-tracker repository,
//! `TrackerService._get_json`, served as `data/json`), which sets `fixed_version` only in the branch
//! where the release's status is `resolved` (`st.vulnerable == 0`); for
//! `open` (1) and `undetermined` (2) it is left `None` and dropped by
//! `clean_dict`. The tracker's own reader, `bin/tracker_data.py`
//! (`Issue.get_status`), follows the same order: `resolved` → fixed in
//! `fixed_version`; else `nodsa_reason == "ignored"`; `undetermined`;
//! `nodsa` present → no-dsa; urgency `unimportant` / `end-of-life`; else
//! open. Grype's vunnel (`src/vunnel/providers/debian/parser.py`,
//! `_normalize_json`) and Clair (`quay/claircore` `debian/parser.go`) take
//! `fixed_version` whenever it is present, whatever the status; on the dump
//! the tracker writes that is the same rule, because `fixed_version` never
//! accompanies `open`. For a hand-made or future dump that pairs them,
//! `open` is trusted over the version: it says no repository of that
//! release (plain, `-security`, `-lts`) ships a fixed version yet, and
//! reporting the release fixed would hide the issue.
//! (Trivy does not read this dump: trivy-db reads vuln-list-debian's
//! renderings of `data/CVE/list`, which [`super::parse_cve`] reads.)
//!
//! `urgency` becomes the line's `Severity` when it is `unimportant`, `low`,
//! `medium` or `high` (the tracker's `*` marks dropped); `not yet assigned`
//! is what a line without a severity means already.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};

use super::{Annotation, Entry, Header, Kind, LineType, Urgency};

/// Largest dump [`read`] accepts (the real one is about a tenth of this).
pub const MAX_DUMP_BYTES: u64 = 512 << 20;

/// Why a dump was refused.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// Not JSON of the dump's shape, or cut short.
    #[error("tracker JSON dump is not valid JSON of the expected shape: {0}")]
    Json(#[from] serde_json::Error),
    /// What the caller's function returned for one entry.
    #[error("{0}")]
    Callback(Box<dyn std::error::Error + Send + Sync>),
}

#[derive(Deserialize)]
struct Issue {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    debianbug: Option<Bug>,
    #[serde(default)]
    releases: BTreeMap<String, Release>,
}

/// `debianbug` is a number; a string is tolerated rather than refusing the
/// whole dump over a field matching never reads.
#[derive(Deserialize)]
#[serde(untagged)]
enum Bug {
    Number(i64),
    #[allow(dead_code)]
    Text(String),
}

#[derive(Deserialize)]
struct Release {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    fixed_version: Option<String>,
    #[serde(default)]
    urgency: Option<String>,
    #[serde(default)]
    nodsa: Option<String>,
    #[serde(default)]
    nodsa_reason: Option<String>,
}

type Callback<'a> = dyn FnMut(Entry) -> Result<(), Box<dyn std::error::Error + Send + Sync>> + 'a;

/// Streams the dump from `reader`, calling `f` once per (source package,
/// issue) with an [`Entry`] whose `package` lines are that package's, one per
/// release. Stops at the first error, `f`'s included. Trailing bytes other
/// than whitespace are an error. The caller bounds the input's size (see
/// [`MAX_DUMP_BYTES`]).
pub fn read<R: Read>(
    reader: R,
    f: &mut dyn FnMut(Entry) -> Result<(), Box<dyn std::error::Error + Send + Sync>>,
) -> Result<(), DumpError> {
    let mut failed = None;
    let mut de = serde_json::Deserializer::from_reader(reader);
    let result = de::Deserializer::deserialize_map(
        &mut de,
        Packages {
            f,
            failed: &mut failed,
        },
    );
    if let Some(e) = failed {
        return Err(DumpError::Callback(e));
    }
    result?;
    de.end()?;
    Ok(())
}

/// Parses a whole dump held in memory into one [`Entry`] per issue, sorted
/// by ID, each with the lines of every package naming it.
pub fn parse(bytes: &[u8]) -> Result<Vec<Entry>, DumpError> {
    let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
    read(bytes, &mut |entry| {
        match entries.get_mut(&entry.header.id) {
            Some(existing) => merge(existing, entry),
            None => {
                entries.insert(entry.header.id.clone(), entry);
            }
        }
        Ok(())
    })?;
    Ok(entries.into_values().collect())
}

/// Appends `other`'s lines (another package's lines of the same issue) to
/// `into`.
pub fn merge(into: &mut Entry, other: Entry) {
    if into.header.description.is_none() {
        into.header.description = other.header.description;
    }
    into.annotations.extend(other.annotations);
}

struct Packages<'a, 'f> {
    f: &'a mut Callback<'f>,
    failed: &'a mut Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl<'de> Visitor<'de> for Packages<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of source packages")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(package) = map.next_key::<String>()? {
            map.next_value_seed(Issues {
                package: &package,
                f: &mut *self.f,
                failed: &mut *self.failed,
            })?;
        }
        Ok(())
    }
}

struct Issues<'a, 'f> {
    package: &'a str,
    f: &'a mut Callback<'f>,
    failed: &'a mut Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl<'de> DeserializeSeed<'de> for Issues<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Issues<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of issues")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(id) = map.next_key::<String>()? {
            let issue: Issue = map.next_value()?;
            if id.is_empty() || self.package.is_empty() {
                return Err(de::Error::custom("empty package or issue name"));
            }
            let entry = to_entry(self.package, id, issue);
            if let Err(e) = (self.f)(entry) {
                *self.failed = Some(e);
                return Err(de::Error::custom("stopped by the caller"));
            }
        }
        Ok(())
    }
}

fn nonempty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn to_entry(package: &str, id: String, issue: Issue) -> Entry {
    let bug_no = match issue.debianbug {
        Some(Bug::Number(n)) => Some(n),
        _ => None,
    };
    let annotations = issue
        .releases
        .iter()
        .map(|(codename, release)| {
            release_line(
                package,
                codename,
                release.status.as_deref().unwrap_or(""),
                release.fixed_version.as_deref(),
                release.urgency.as_deref(),
                release.nodsa.as_deref(),
                release.nodsa_reason.as_deref(),
                bug_no,
            )
        })
        .collect();
    Entry {
        header: Header {
            original: id.clone(),
            id,
            description: issue.description.filter(|d| !d.is_empty()),
        },
        annotations,
    }
}

/// The `package` line one release of the dump states (see the module
/// documentation's table).
#[allow(clippy::too_many_arguments)]
pub fn release_line(
    package: &str,
    codename: &str,
    status: &str,
    fixed_version: Option<&str>,
    urgency: Option<&str>,
    nodsa: Option<&str>,
    nodsa_reason: Option<&str>,
    bug_no: Option<i64>,
) -> Annotation {
    let urgency = nonempty(urgency).and_then(Urgency::parse);
    let severity = urgency
        .filter(|u| {
            matches!(
                u,
                Urgency::Unimportant | Urgency::Low | Urgency::Medium | Urgency::High
            )
        })
        .map(|u| u.as_str().to_owned());
    let release = (codename != "sid" && codename != "unstable").then(|| codename.to_owned());
    let fixed = nonempty(fixed_version);
    // Present, even empty: the tracker writes a `<no-dsa>` note's comment,
    // which may be blank.
    let nodsa_present = nodsa.is_some();
    let nodsa = nonempty(nodsa);
    let (kind, version, description) = match status {
        "resolved" => match fixed {
            Some("0") => (Kind::NotAffected, None, None),
            Some(v) => (Kind::Fixed, Some(v.to_owned()), None),
            None => (
                Kind::Undetermined,
                None,
                Some("resolved without a fixed version"),
            ),
        },
        "open" => match (nodsa, nonempty(nodsa_reason)) {
            (_, Some("ignored")) => (Kind::Ignored, None, nodsa),
            (_, Some("postponed")) => (Kind::Postponed, None, nodsa),
            (Some(_), _) => (Kind::NoDsa, None, nodsa),
            (None, _) if nodsa_present => (Kind::NoDsa, None, None),
            (None, _) if urgency == Some(Urgency::EndOfLife) => (Kind::EndOfLife, None, None),
            (None, _) => (Kind::Unfixed, None, None),
        },
        "undetermined" => (Kind::Undetermined, None, None),
        other => (Kind::Other(other.to_owned()), None, None),
    };
    let original = {
        let status_text = match (&kind, &version) {
            (_, Some(v)) => v.clone(),
            (k, None) => format!("<{}>", String::from(k.clone())),
        };
        let mut line = match &release {
            Some(r) => format!("[{r}] - {package} {status_text}"),
            None => format!("- {package} {status_text}"),
        };
        let inner = description.or(severity.as_deref());
        if let Some(inner) = inner {
            line.push_str(&format!(" ({inner})"));
        }
        line
    };
    Annotation {
        original,
        kind_of_line: LineType::Package,
        release,
        package: Some(package.to_owned()),
        kind: Some(kind),
        version,
        description: description.map(str::to_owned),
        severity,
        bug_no,
        bugs: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_status_decides_and_only_resolved_reads_fixed_version() {
        // (codename, status, fixed_version, urgency, nodsa, nodsa_reason) → (release, kind, version, description, severity)
        type Case<'a> = (
            (
                &'a str,
                &'a str,
                Option<&'a str>,
                Option<&'a str>,
                Option<&'a str>,
                Option<&'a str>,
            ),
            (
                Option<&'a str>,
                Kind,
                Option<&'a str>,
                Option<&'a str>,
                Option<&'a str>,
            ),
        );
        let cases: Vec<Case> = vec![
            (
                ("sid", "resolved", Some("1.2-3"), Some("low**"), None, None),
                (None, Kind::Fixed, Some("1.2-3"), None, Some("low")),
            ),
            (
                (
                    "bookworm",
                    "resolved",
                    Some("0"),
                    Some("not yet assigned"),
                    None,
                    None,
                ),
                (Some("bookworm"), Kind::NotAffected, None, None, None),
            ),
            (
                (
                    "bookworm",
                    "open",
                    Some("1.2-3+deb12u1"),
                    Some("high"),
                    None,
                    None,
                ),
                // `open` is never fixed, whatever `fixed_version` says.
                (Some("bookworm"), Kind::Unfixed, None, None, Some("high")),
            ),
            (
                ("bookworm", "open", Some("0"), None, None, None),
                (Some("bookworm"), Kind::Unfixed, None, None, None),
            ),
            (
                // A `<no-dsa>` note without a comment.
                ("bookworm", "open", None, None, Some(""), None),
                (Some("bookworm"), Kind::NoDsa, None, None, None),
            ),
            (
                ("bookworm", "open", None, None, None, Some("ignored")),
                (Some("bookworm"), Kind::Ignored, None, None, None),
            ),
            (
                ("bookworm", "undetermined", Some("1.2-3"), None, None, None),
                (Some("bookworm"), Kind::Undetermined, None, None, None),
            ),
            (
                ("bookworm", "weird", Some("1.2-3"), None, None, None),
                (
                    Some("bookworm"),
                    Kind::Other("weird".into()),
                    None,
                    None,
                    None,
                ),
            ),
            (
                ("bookworm", "open", None, Some("unimportant"), None, None),
                (
                    Some("bookworm"),
                    Kind::Unfixed,
                    None,
                    None,
                    Some("unimportant"),
                ),
            ),
            (
                (
                    "bookworm",
                    "open",
                    Some(""),
                    None,
                    Some("Minor issue"),
                    Some(""),
                ),
                (
                    Some("bookworm"),
                    Kind::NoDsa,
                    None,
                    Some("Minor issue"),
                    None,
                ),
            ),
            (
                (
                    "bookworm",
                    "open",
                    None,
                    None,
                    Some("Minor issue"),
                    Some("ignored"),
                ),
                (
                    Some("bookworm"),
                    Kind::Ignored,
                    None,
                    Some("Minor issue"),
                    None,
                ),
            ),
            (
                (
                    "bookworm",
                    "open",
                    None,
                    None,
                    Some("later"),
                    Some("postponed"),
                ),
                (Some("bookworm"), Kind::Postponed, None, Some("later"), None),
            ),
            (
                ("buster", "open", None, Some("end-of-life"), None, None),
                (Some("buster"), Kind::EndOfLife, None, None, None),
            ),
            (
                ("trixie", "undetermined", None, Some("medium"), None, None),
                (
                    Some("trixie"),
                    Kind::Undetermined,
                    None,
                    None,
                    Some("medium"),
                ),
            ),
            (
                ("trixie", "resolved", None, None, None, None),
                (
                    Some("trixie"),
                    Kind::Undetermined,
                    None,
                    Some("resolved without a fixed version"),
                    None,
                ),
            ),
            (
                ("trixie", "weird", None, None, None, None),
                (
                    Some("trixie"),
                    Kind::Other("weird".into()),
                    None,
                    None,
                    None,
                ),
            ),
        ];
        for ((codename, status, fixed, urgency, nodsa, reason), expected) in cases {
            let line = release_line("p", codename, status, fixed, urgency, nodsa, reason, None);
            let got = (
                line.release.as_deref(),
                line.kind.clone().unwrap(),
                line.version.as_deref(),
                line.description.as_deref(),
                line.severity.as_deref(),
            );
            assert_eq!(got, expected, "{codename} {status} {fixed:?}");
        }
    }

    #[test]
    fn merges_packages_of_one_issue_and_refuses_bad_input() {
        let dump = br#"{
          "a": {"CVE-1": {"description": "d", "debianbug": 5,
                 "releases": {"sid": {"status": "open", "urgency": "low"}}}},
          "b": {"CVE-1": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "0"}}},
                "TEMP-0000000-ABCDEF": {"releases": {}}}
        }"#;
        let entries = parse(dump).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].header.id, "CVE-1");
        assert_eq!(entries[0].packages().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(entries[0].annotations[0].bug_no, Some(5));
        assert_eq!(entries[0].header.description.as_deref(), Some("d"));
        for bad in [
            &br#"{"a": {"CVE-1": {"releases": {"sid": {"status": "open"}}}}"#[..],
            br#"{"a": []}"#,
            br#"[]"#,
            br#"{"a": {"CVE-1": {"releases": {"sid": {"status": 5}}}}}"#,
            br#"{"a": {}} trailing"#,
            br#"{"": {"CVE-1": {}}}"#,
            b"",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
