//! Rules that silence findings, as users write them for Grype and Trivy.
//!
//! Two formats are read:
//!
//! * YAML ([`Kind::Yaml`]), the shape of `.grype.yaml`'s `ignore:` list
//!   reduced to what a scan can check exactly:
//!
//!   ```yaml
//!   ignore:
//!     - id: CVE-2023-45853          # the finding's id or any alias
//!       package: zlib               # optional: package or source name
//!       reason: minizip is not used # required: the audit trail
//!       expires: 2025-01-01         # optional: from this day on, the rule is void
//!   ```
//!
//!   Trivy's `.trivyignore.yaml` spellings are accepted too: a top-level
//!   `vulnerabilities:` list, `statement` for `reason`, `expired_at` for
//!   `expires`; Grype's `vulnerability` for `id`, `package: {name: …}`.
//!   Any other key is refused rather than skipped: a Grype rule narrowed by
//!   `fix-state` or `version` would silence more than its author meant if
//!   the narrowing were dropped.
//! * Trivy's plain `.trivyignore` ([`Kind::TrivyIgnore`]): one id a line,
//!   optionally followed by `exp:YYYY-MM-DD`; `#` starts a comment.
//!
//! A rule whose `expires` date is today or earlier no longer applies and is
//! reported back (see [`IgnoreRules::split_expired`]), so forgotten
//! exceptions surface instead of hiding vulnerabilities forever.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_norway::Value;

/// Largest rules file accepted; real ones are a few KiB, and
/// `.pare-ignore.yaml` is read from the current folder, so from whatever
/// checkout CI runs in.
pub const MAX_RULES_BYTES: usize = 64 * 1024;

/// Longest vulnerability id or package name a rule may carry.
const MAX_FIELD_LEN: usize = 256;

/// A calendar day (proleptic Gregorian), the only precision rule expiry
/// needs. Ordering is chronological (fields compare year, month, day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

/// Why a date did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid date {0:?} (expected YYYY-MM-DD, a real calendar day)")]
pub struct DateError(pub String);

fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Date {
    /// A date from its parts, if it is a real calendar day.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month))
            .then_some(Date { year, month, day })
    }

    /// Parses exactly `YYYY-MM-DD` (ASCII digits, a real day).
    pub fn parse(s: &str) -> Result<Date, DateError> {
        let err = || DateError(s.chars().take(64).collect());
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(err());
        }
        let num = |r: std::ops::Range<usize>| -> Option<u16> {
            let part = &s[r];
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())
                .flatten()
        };
        let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
            return Err(err());
        };
        Date::new(y, m as u8, d as u8).ok_or_else(err)
    }

    /// The day `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`),
    /// `None` outside years 0..=9999.
    pub fn from_unix_days(days: i64) -> Option<Date> {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date::new(
            u16::try_from(year).ok().filter(|y| *y <= 9999)?,
            month as u8,
            day as u8,
        )
    }

    /// Today in UTC, from the system clock (1970-01-01 if the clock is
    /// before the epoch, which only a broken clock is).
    pub fn today() -> Date {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let days = i64::try_from(secs / 86_400).unwrap_or(0);
        Date::from_unix_days(days).unwrap_or(Date {
            year: 1970,
            month: 1,
            day: 1,
        })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The format of a rules file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `ignore:` (or Trivy's `vulnerabilities:`) list in YAML.
    Yaml,
    /// Trivy's line format.
    TrivyIgnore,
}

impl Kind {
    /// The format a file name implies: `.trivyignore` → [`Kind::TrivyIgnore`],
    /// `*.yaml`/`*.yml` → [`Kind::Yaml`].
    pub fn from_path(path: &std::path::Path) -> Option<Kind> {
        let name = path.file_name()?.to_str()?;
        if name == ".trivyignore" {
            return Some(Kind::TrivyIgnore);
        }
        let lower = name.to_ascii_lowercase();
        (lower.ends_with(".yaml") || lower.ends_with(".yml")).then_some(Kind::Yaml)
    }
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IgnoreRule {
    /// A vulnerability id, compared case-insensitively with the finding's
    /// id and aliases.
    pub id: String,
    /// Restricts the rule to the package of this name or source name.
    pub package: Option<String>,
    pub reason: Option<String>,
    /// From this day on, the rule no longer applies.
    pub expires: Option<Date>,
    /// Where the rule was written: `line N` or `entry N` (1-based).
    pub origin: String,
}

impl IgnoreRule {
    /// Whether the rule is void on `today`.
    pub fn expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|e| today >= e)
    }

    /// Whether the rule covers a vulnerability known as `ids` in a package
    /// named `names` (name and source name). Expiry is not checked here.
    pub fn covers<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
        mut names: impl Iterator<Item = &'a str>,
    ) -> bool {
        ids.into_iter().any(|id| id.eq_ignore_ascii_case(&self.id))
            && self
                .package
                .as_deref()
                .is_none_or(|p| names.any(|n| n == p))
    }
}

/// Why a rules file was refused; each names the line or entry at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IgnoreError {
    #[error("ignore rules are {len} bytes, more than the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    #[error("ignore rules are not UTF-8")]
    NotUtf8,
    #[error("ignore rules are not YAML: {0}")]
    Yaml(String),
    #[error("ignore rules: {0}")]
    Shape(&'static str),
    #[error("ignore rules, {at}: {what}")]
    Rule { at: String, what: String },
}

/// A parsed rules file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IgnoreRules {
    pub rules: Vec<IgnoreRule>,
}

impl IgnoreRules {
    /// Parses a rules file of `kind`.
    pub fn parse(bytes: &[u8], kind: Kind) -> Result<IgnoreRules, IgnoreError> {
        if bytes.len() > MAX_RULES_BYTES {
            return Err(IgnoreError::TooLarge {
                len: bytes.len(),
                max: MAX_RULES_BYTES,
            });
        }
        let text = std::str::from_utf8(bytes).map_err(|_| IgnoreError::NotUtf8)?;
        let rules = match kind {
            Kind::Yaml => parse_yaml(text)?,
            Kind::TrivyIgnore => parse_trivy(text)?,
        };
        Ok(IgnoreRules { rules })
    }

    /// The rules in force on `today` and those that expired.
    pub fn split_expired(&self, today: Date) -> (Vec<&IgnoreRule>, Vec<&IgnoreRule>) {
        self.rules.iter().partition(|r| !r.expired(today))
    }
}

fn check_field(at: &str, what: &str, value: &str) -> Result<String, IgnoreError> {
    let v = value.trim();
    if v.is_empty() || v.len() > MAX_FIELD_LEN || v.chars().any(char::is_whitespace) {
        return Err(IgnoreError::Rule {
            at: at.to_owned(),
            what: format!(
                "{what} must be 1 to {MAX_FIELD_LEN} characters without spaces, got {:?}",
                v.chars().take(64).collect::<String>()
            ),
        });
    }
    Ok(v.to_owned())
}

fn date_at(at: &str, s: &str) -> Result<Date, IgnoreError> {
    Date::parse(s.trim()).map_err(|e| IgnoreError::Rule {
        at: at.to_owned(),
        what: e.to_string(),
    })
}

fn parse_trivy(text: &str) -> Result<Vec<IgnoreRule>, IgnoreError> {
    let mut rules = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let at = format!("line {}", n + 1);
        let line = line.split_once('#').map_or(line, |(before, _)| before);
        let mut tokens = line.split_whitespace();
        let Some(id) = tokens.next() else { continue };
        let id = check_field(&at, "the id", id)?;
        let mut expires = None;
        for t in tokens {
            match t.strip_prefix("exp:") {
                Some(d) if expires.is_none() => expires = Some(date_at(&at, d)?),
                _ => {
                    return Err(IgnoreError::Rule {
                        at,
                        what: format!(
                            "unexpected {:?} (only `exp:YYYY-MM-DD` may follow the id)",
                            t.chars().take(64).collect::<String>()
                        ),
                    });
                }
            }
        }
        rules.push(IgnoreRule {
            id,
            package: None,
            reason: None,
            expires,
            origin: at,
        });
    }
    Ok(rules)
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_yaml(text: &str) -> Result<Vec<IgnoreRule>, IgnoreError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    // Deep nesting costs serde_norway minutes before its recursion limit
    // trips: refuse it first, in one linear pass.
    crate::yaml_guard::check(text.as_bytes()).map_err(|e| IgnoreError::Yaml(e.to_string()))?;
    let doc: Value = serde_norway::from_str(text).map_err(|e| IgnoreError::Yaml(e.to_string()))?;
    let Value::Mapping(top) = doc else {
        return Err(IgnoreError::Shape("the document is not a mapping"));
    };
    let list = match (top.get("ignore"), top.get("vulnerabilities")) {
        (Some(_), Some(_)) => {
            return Err(IgnoreError::Shape(
                "both `ignore` and `vulnerabilities` are given; use one",
            ));
        }
        (Some(v), None) | (None, Some(v)) => v,
        (None, None) => return Ok(Vec::new()),
    };
    let entries = match list {
        Value::Sequence(s) => s.as_slice(),
        Value::Null => &[],
        _ => return Err(IgnoreError::Shape("`ignore` is not a list")),
    };
    let mut rules = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let at = format!("entry {}", i + 1);
        let bad = |what: String| IgnoreError::Rule {
            at: at.clone(),
            what,
        };
        let Value::Mapping(map) = entry else {
            return Err(bad("not a mapping".into()));
        };
        let (mut id, mut package, mut reason, mut expires) = (None, None, None, None);
        for (k, v) in map {
            let key = k.as_str().unwrap_or("");
            match key {
                "id" | "vulnerability" => {
                    let s = scalar(v).ok_or_else(|| bad(format!("`{key}` is not text")))?;
                    id = Some(check_field(&at, "the id", &s)?);
                }
                "package" => {
                    let name = match v {
                        Value::Mapping(m) if m.len() == 1 => m.get("name").and_then(scalar),
                        other => scalar(other),
                    };
                    let name = name.ok_or_else(|| {
                        bad("`package` must be a name or `{name: …}` alone".into())
                    })?;
                    package = Some(check_field(&at, "the package", &name)?);
                }
                "reason" | "statement" => {
                    reason = Some(scalar(v).ok_or_else(|| bad(format!("`{key}` is not text")))?);
                }
                "expires" | "expired_at" => {
                    let s = scalar(v).ok_or_else(|| bad(format!("`{key}` is not a date")))?;
                    // Trivy writes `expired_at` as a full timestamp; its day is what counts.
                    let day = s.get(..10).unwrap_or(&s);
                    expires = Some(date_at(&at, day)?);
                }
                other => {
                    return Err(bad(format!(
                        "unsupported key {:?} (id, package, reason, expires)",
                        other.chars().take(64).collect::<String>()
                    )));
                }
            }
        }
        let id = id.ok_or_else(|| bad("no `id`".into()))?;
        let reason = reason.filter(|r| !r.trim().is_empty());
        if reason.is_none() {
            return Err(bad(format!("no `reason` for {id}")));
        }
        rules.push(IgnoreRule {
            id,
            package,
            reason,
            expires,
            origin: at,
        });
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: u16, m: u8, day: u8) -> Date {
        Date::new(y, m, day).unwrap()
    }

    #[test]
    fn dates() {
        for (s, want) in [
            ("2024-02-29", Some(d(2024, 2, 29))),
            ("2000-02-29", Some(d(2000, 2, 29))),
            ("1900-02-29", None),
            ("2023-02-29", None),
            ("2024-04-31", None),
            ("2024-13-01", None),
            ("2024-00-10", None),
            ("2024-1-01", None),
            ("2024/01/01", None),
            ("+024-01-01", None),
            ("2024-01-01T00:00:00Z", None),
            ("", None),
            ("２０２４-01-01", None),
        ] {
            assert_eq!(Date::parse(s).ok(), want, "{s}");
        }
        assert!(d(2024, 1, 31) < d(2024, 2, 1));
        assert!(d(2023, 12, 31) < d(2024, 1, 1));
        assert_eq!(d(2024, 3, 5).to_string(), "2024-03-05");
    }

    #[test]
    fn civil_from_days() {
        for (days, want) in [
            (0, Some(d(1970, 1, 1))),
            (59, Some(d(1970, 3, 1))),
            (11_016, Some(d(2000, 2, 29))),
            (19_782, Some(d(2024, 2, 29))),
            (20_089, Some(d(2025, 1, 1))), // checked with `date -u -d @$((20089*86400))`
            (-1, Some(d(1969, 12, 31))),
            (-719_529, None),
            (i64::MAX / 4, None),
        ] {
            assert_eq!(Date::from_unix_days(days), want, "{days}");
        }
        assert!(Date::today() >= d(2024, 1, 1));
    }

    #[test]
    fn trivyignore() {
        let text = "# accepted risks\nCVE-2023-1  \n\nCVE-2023-2 exp:2025-01-01 # until the rebuild\n  GHSA-xxxx-yyyy-zzzz\n";
        let rules = IgnoreRules::parse(text.as_bytes(), Kind::TrivyIgnore).unwrap();
        let got: Vec<_> = rules
            .rules
            .iter()
            .map(|r| (r.id.as_str(), r.expires, r.origin.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("CVE-2023-1", None, "line 2"),
                ("CVE-2023-2", Some(d(2025, 1, 1)), "line 4"),
                ("GHSA-xxxx-yyyy-zzzz", None, "line 5"),
            ]
        );
        for (text, at) in [
            ("CVE-1\nCVE-2 exp:2025-02-30\n", "line 2"),
            ("CVE-1 exp:soon\n", "line 1"),
            ("CVE-1 extra\n", "line 1"),
            ("CVE-1 exp:2025-01-01 exp:2025-01-02\n", "line 1"),
        ] {
            match IgnoreRules::parse(text.as_bytes(), Kind::TrivyIgnore) {
                Err(IgnoreError::Rule { at: got, .. }) => assert_eq!(got, at, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn yaml_rules() {
        let text = r#"
ignore:
  - id: CVE-2023-45853
    package: zlib
    reason: minizip is not shipped
    expires: 2025-06-30
  - vulnerability: GHSA-abcd-efgh-ijkl
    package: {name: urllib3}
    reason: "not reachable"
"#;
        let rules = IgnoreRules::parse(text.as_bytes(), Kind::Yaml)
            .unwrap()
            .rules;
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].package.as_deref(), Some("zlib"));
        assert_eq!(rules[0].expires, Some(d(2025, 6, 30)));
        assert_eq!(rules[1].id, "GHSA-abcd-efgh-ijkl");
        assert_eq!(rules[1].package.as_deref(), Some("urllib3"));

        let trivy = "vulnerabilities:\n  - id: CVE-1\n    statement: ok\n    expired_at: 2024-01-02T00:00:00Z\n";
        let rules = IgnoreRules::parse(trivy.as_bytes(), Kind::Yaml)
            .unwrap()
            .rules;
        assert_eq!(rules[0].expires, Some(d(2024, 1, 2)));

        for (text, want) in [
            ("", Ok(0)),
            ("ignore: []", Ok(0)),
            ("ignore:", Ok(0)),
            ("other: 1", Ok(0)),
            ("ignore:\n  - reason: x\n", Err("entry 1")),
            (
                "ignore:\n  - id: CVE-1\n    reason: x\n  - id: CVE-2\n    reason: y\n    expires: 2024-02-30\n",
                Err("entry 2"),
            ),
            ("ignore:\n  - id: CVE-1\n", Err("entry 1")),
            (
                "ignore:\n  - id: CVE-1\n    reason: x\n    fix-state: unknown\n",
                Err("entry 1"),
            ),
            ("ignore:\n  - id: CVE 1\n    reason: x\n", Err("entry 1")),
            ("ignore:\n  - [1, 2]\n", Err("entry 1")),
            ("ignore: 5", Err("shape")),
            ("- 1", Err("shape")),
            ("ignore: [unclosed", Err("yaml")),
        ] {
            let got = IgnoreRules::parse(text.as_bytes(), Kind::Yaml);
            match (want, got) {
                (Ok(n), Ok(r)) => assert_eq!(r.rules.len(), n, "{text}"),
                (Err("shape"), Err(IgnoreError::Shape(_))) => {}
                (Err("yaml"), Err(IgnoreError::Yaml(_))) => {}
                (Err(at), Err(IgnoreError::Rule { at: got, .. })) => assert_eq!(got, at, "{text}"),
                (want, got) => panic!("{text}: want {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn hostile_rules_files() {
        let big = vec![b'#'; MAX_RULES_BYTES + 1];
        assert!(matches!(
            IgnoreRules::parse(&big, Kind::TrivyIgnore),
            Err(IgnoreError::TooLarge { .. })
        ));
        assert_eq!(
            IgnoreRules::parse(b"\xff\xfe", Kind::Yaml),
            Err(IgnoreError::NotUtf8)
        );
        let deep = "[".repeat(10_000);
        assert!(IgnoreRules::parse(deep.as_bytes(), Kind::Yaml).is_err());
        // Deep nesting is refused by a linear pass before serde_norway
        // spends seconds on it (60,000 `[` cost it about 5 s), naming the
        // line; over the size limit, before reading at all.
        for text in [
            format!(
                "ignore:
  - id: CVE-1
    reason: {}",
                "[".repeat(60_000)
            ),
            format!(
                "ignore:
  - {}x
",
                "- ".repeat(30_000)
            ),
        ] {
            let started = std::time::Instant::now();
            match IgnoreRules::parse(text.as_bytes(), Kind::Yaml) {
                Err(IgnoreError::Yaml(e)) => {
                    assert!(e.contains("nested more than"), "{e}");
                    assert!(e.starts_with("line "), "{e}");
                }
                other => panic!("{other:?}"),
            }
            assert!(started.elapsed().as_secs_f64() < 2.0);
        }
        for text in ["[".repeat(200_000), "- ".repeat(200_000)] {
            assert!(matches!(
                IgnoreRules::parse(text.as_bytes(), Kind::Yaml),
                Err(IgnoreError::TooLarge { .. })
            ));
        }
        let long = format!("{}\n", "C".repeat(MAX_FIELD_LEN + 1));
        assert!(IgnoreRules::parse(long.as_bytes(), Kind::TrivyIgnore).is_err());
    }

    #[test]
    fn expiry_and_cover() {
        let rule = IgnoreRule {
            id: "CVE-2024-1".into(),
            package: Some("zlib".into()),
            reason: None,
            expires: Some(d(2025, 1, 1)),
            origin: "line 1".into(),
        };
        for (today, expired) in [
            (d(2024, 12, 31), false),
            (d(2025, 1, 1), true),
            (d(2026, 1, 1), true),
        ] {
            assert_eq!(rule.expired(today), expired, "{today}");
        }
        for (ids, names, want) in [
            (vec!["cve-2024-1"], vec!["zlib1g", "zlib"], true),
            (vec!["DEBIAN-X", "CVE-2024-1"], vec!["zlib"], true),
            (vec!["CVE-2024-1"], vec!["zlib1g"], false),
            (vec!["CVE-2024-2"], vec!["zlib"], false),
        ] {
            assert_eq!(
                rule.covers(ids.iter().copied(), names.iter().copied()),
                want,
                "{ids:?} {names:?}"
            );
        }
    }
}
