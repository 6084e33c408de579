//! A .NET assembly's name and version from its version resource strings,
//! by Syft 1.18's rules (anchore/syft v1.18.1,
//! `syft/pkg/cataloger/dotnet/parse_dotnet_portable_executable.go`:
//! `findName`, `findVersion`, `extractVersion`, `spaceNormalize`,
//! `keepGreaterSemanticVersion`).
//!
//! - **Name**: the first non-blank of `ProductName`, `FileDescription`,
//!   `InternalName`, `OriginalFilename`; for Microsoft's files (company or
//!   product name containing "microsoft", any case) `FileDescription`,
//!   `InternalName`, `OriginalFilename`, `ProductName`, as Microsoft's
//!   product name is something broad like "Microsoft® .NET Framework".
//!   The value is space-normalised: trimmed, runs of ASCII white space and
//!   no-break spaces made one space, control characters removed.
//! - **Version**: `ProductVersion` and `FileVersion`, each cut after its
//!   leading words once a word without a digit follows one with
//!   (`4.7.3190.0 built by: NET472REL1LAST_C` → `4.7.3190.0`). When both
//!   parse as versions (hashicorp's go-version, Anchore's fork) and differ,
//!   the greater wins; when only the product version parses, it wins.
//!   Otherwise the one with more `.`/`,` runs, preferring the product
//!   version on a tie; else whichever has a digit; else the product
//!   version. No name or no version: no package.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

/// The version resource strings of one file, key to value.
pub type Strings = BTreeMap<String, String>;

/// Syft's package name for these strings, or `None` when every field it
/// tries is blank.
pub fn name(strings: &Strings) -> Option<String> {
    let get = |k: &str| strings.get(k).map(String::as_str).unwrap_or("");
    let fields: [&str; 4] = if is_microsoft(strings) {
        [
            "FileDescription",
            "InternalName",
            "OriginalFilename",
            "ProductName",
        ]
    } else {
        [
            "ProductName",
            "FileDescription",
            "InternalName",
            "OriginalFilename",
        ]
    };
    fields
        .iter()
        .map(|f| space_normalize(get(f)))
        .find(|v| !v.is_empty())
}

fn is_microsoft(strings: &Strings) -> bool {
    ["CompanyName", "ProductName"].iter().any(|k| {
        strings
            .get(*k)
            .is_some_and(|v| v.to_lowercase().contains("microsoft"))
    })
}

/// Go's `regexp` `\s` (ASCII only: tab, newline, form feed, carriage
/// return, space; not vertical tab) and the no-break space.
fn is_go_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' ' | '\u{a0}')
}

/// Syft's `spaceNormalize`. `strings.TrimSpace` trims Unicode white space,
/// as Rust's `trim` does.
pub fn space_normalize(value: &str) -> String {
    let collapse = |s: &str| {
        let mut out = String::with_capacity(s.len());
        let mut in_space = false;
        for c in s.chars() {
            if is_go_space(c) {
                if !in_space {
                    out.push(' ');
                }
                in_space = true;
            } else {
                out.push(c);
                in_space = false;
            }
        }
        out
    };
    let value = value.trim();
    if value.is_empty() {
        return String::new();
    }
    let spaced = collapse(value);
    let printable: String = spaced.chars().filter(|c| *c > '\x1f').collect();
    collapse(&printable).trim().to_string()
}

fn has_digit(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
}

/// Runs of `.` and `,` (Syft's `punctuationCount`).
fn punctuation_runs(s: &str) -> usize {
    let mut runs = 0;
    let mut inside = false;
    for c in s.chars() {
        let p = c == '.' || c == ',';
        if p && !inside {
            runs += 1;
        }
        inside = p;
    }
    runs
}

/// Syft's `extractVersion`: the leading words, up to the first word with
/// no digit after one with a digit, joined by one space.
pub fn extract_version(version: &str) -> String {
    let mut out = String::new();
    for (i, word) in version.split_whitespace().enumerate() {
        if has_digit(&out) && !has_digit(word) {
            return out;
        }
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Syft's version for these strings, or `None` when it is empty.
pub fn version(strings: &Strings) -> Option<String> {
    let get = |k: &str| strings.get(k).map(String::as_str).unwrap_or("");
    let product = extract_version(get("ProductVersion"));
    let file = extract_version(get("FileVersion"));
    let chosen = match keep_greater(&product, &file) {
        Some(v) => v,
        None => {
            let (pd, fd) = (punctuation_runs(&product), punctuation_runs(&file));
            if has_digit(&product) && pd >= fd {
                product
            } else if has_digit(&file) && fd > 0 {
                file
            } else if has_digit(&product) {
                product
            } else if has_digit(&file) {
                file
            } else {
                product
            }
        }
    };
    (!chosen.is_empty()).then_some(chosen)
}

/// Syft's `keepGreaterSemanticVersion`: `None` where it returns "".
fn keep_greater(product: &str, file: &str) -> Option<String> {
    let p = GoVersion::parse(product)?;
    let Some(f) = GoVersion::parse(file) else {
        return Some(product.to_string());
    };
    match f.compare(&p) {
        Ordering::Equal => None,
        Ordering::Greater => Some(file.to_string()),
        Ordering::Less => Some(product.to_string()),
    }
}

/// A version as hashicorp's go-version reads it (Anchore's fork at
/// `18adb9c`, which Syft 1.18 pins): numeric segments, padded to three,
/// then a pre-release and build metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoVersion {
    segments: Vec<i64>,
    pre: String,
    metadata: String,
}

/// go-version's `VersionRegexpRaw`, anchored as `NewVersion` uses it. The
/// `regex` crate and Go's RE2 both take the leftmost-first match with the
/// same capture preferences, so the groups are go-version's.
static GO_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^v?([0-9]+(\.[0-9]+)*?)",
        r"(-([0-9]+[0-9A-Za-z\-~]*(\.[0-9A-Za-z\-~]+)*)|(-?([A-Za-z\-~]+[0-9A-Za-z\-~]*(\.[0-9A-Za-z\-~]+)*)))?",
        r"(\+([0-9A-Za-z\-~]+(\.[0-9A-Za-z\-~]+)*))?",
        r"?$"
    ))
    .expect("go-version's pattern")
});

impl GoVersion {
    /// `version.NewVersion`; `None` where it returns an error (no match,
    /// or a segment beyond `i64`).
    pub fn parse(v: &str) -> Option<GoVersion> {
        let caps = GO_VERSION.captures(v)?;
        let mut segments = caps[1]
            .split('.')
            .map(|s| s.parse::<i64>().ok())
            .collect::<Option<Vec<i64>>>()?;
        while segments.len() < 3 {
            segments.push(0);
        }
        let group = |i: usize| caps.get(i).map_or("", |m| m.as_str()).to_string();
        let mut pre = group(7);
        if pre.is_empty() {
            pre = group(4);
        }
        Some(GoVersion {
            segments,
            pre,
            metadata: group(10),
        })
    }

    /// go-version's `String`: segments, `-pre`, `+metadata`.
    fn canonical(&self) -> String {
        let mut s = self
            .segments
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(".");
        if !self.pre.is_empty() {
            s.push('-');
            s.push_str(&self.pre);
        }
        if !self.metadata.is_empty() {
            s.push('+');
            s.push_str(&self.metadata);
        }
        s
    }

    /// go-version's `Compare`.
    pub fn compare(&self, other: &GoVersion) -> Ordering {
        if self.canonical() == other.canonical() {
            return Ordering::Equal;
        }
        if self.segments == other.segments {
            return match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_prereleases(&self.pre, &other.pre),
            };
        }
        let (a, b) = (&self.segments, &other.segments);
        for i in 0..a.len().max(b.len()) {
            if i >= a.len() {
                return if b[i..].iter().all(|s| *s == 0) {
                    Ordering::Equal
                } else {
                    Ordering::Less
                };
            }
            if i >= b.len() {
                return if a[i..].iter().all(|s| *s == 0) {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                };
            }
            match a[i].cmp(&b[i]) {
                Ordering::Equal => continue,
                o => return o,
            }
        }
        Ordering::Equal
    }
}

fn compare_prereleases(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or("");
        let y = b.get(i).copied().unwrap_or("");
        match compare_part(x, y) {
            Ordering::Equal => continue,
            o => return o,
        }
    }
    Ordering::Equal
}

/// go-version's `comparePart`, including its ordering of two numeric
/// parts by value and of a numeric part below a textual one.
fn compare_part(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (ai, bi) = (a.parse::<i64>().ok(), b.parse::<i64>().ok());
    if a.is_empty() {
        return Ordering::Less;
    }
    if b.is_empty() {
        return Ordering::Greater;
    }
    match (ai, bi) {
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) if a > b => Ordering::Greater,
        (Some(x), Some(y)) if x > y => Ordering::Greater,
        _ => Ordering::Less,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(pairs: &[(&str, &str)]) -> Strings {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Cases from Syft's `TestParseDotnetPortableExecutable` (v1.18.1),
    /// the expected name and version as Syft's test states them.
    #[test]
    fn name_and_version_table() {
        /// (case, strings, name, version).
        type Row<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, &'a str);
        let table: &[Row] = &[
            (
                "microsoft: file description first, version cut at words",
                &[
                    (
                        "InternalName",
                        "Microsoft.IdentityModel.Clients.ActiveDirectory.Platform.dll",
                    ),
                    ("FileVersion", "3.14.40721.0918    xxxfffdddjjjj"),
                    ("FileDescription", "Active Directory Authentication Library"),
                    ("ProductName", "Active Directory Authentication Library"),
                    ("CompanyName", "Microsoft Corporation"),
                    ("ProductVersion", "c61f043686a544863efc014114c42e844f905336"),
                ],
                "Active Directory Authentication Library",
                "3.14.40721.0918",
            ),
            (
                "no-break spaces and control characters normalised",
                &[
                    ("CompanyName", "Microsoft Corporation"),
                    ("FileDescription", "äbFile\u{a0}\u{1}Versi on"),
                    (
                        "FileVersion",
                        "4.6.25512.01 built by: dlab-DDVSOWINAGE016. Commit Hash: d0d5c7b4",
                    ),
                    ("ProductName", "Microsoft® .NET Framework"),
                    (
                        "ProductVersion",
                        "4.6.25512.01 built by: dlab-DDVSOWINAGE016. Commit Hash: d0d5c7b4",
                    ),
                ],
                "äbFile Versi on",
                "4.6.25512.01",
            ),
            (
                "System.Data.Linq.dll",
                &[
                    ("CompanyName", "Microsoft Corporation"),
                    ("FileDescription", "System.Data.Linq.dll"),
                    ("FileVersion", "4.7.3190.0 built by: NET472REL1LAST_C"),
                    ("ProductName", "Microsoft® .NET Framework"),
                    ("ProductVersion", "4.7.3190.0"),
                ],
                "System.Data.Linq.dll",
                "4.7.3190.0",
            ),
            (
                "not microsoft: product name first",
                &[
                    ("CompanyName", "curl, https://curl.se/"),
                    ("FileDescription", "The curl executable"),
                    ("FileVersion", "8.4.0"),
                    ("InternalName", "curl"),
                    ("ProductName", "The curl executable"),
                    ("ProductVersion", "8.4.0"),
                ],
                "The curl executable",
                "8.4.0",
            ),
            (
                "blank product name and description: internal name",
                &[
                    ("FileDescription", ""),
                    ("FileVersion", "8.0.1"),
                    ("InternalName", "Prometheus.AspNetCore.dll"),
                    ("ProductName", ""),
                    ("ProductVersion", "8.0.1"),
                ],
                "Prometheus.AspNetCore.dll",
                "8.0.1",
            ),
            (
                "commas kept",
                &[
                    ("FileVersion", "1, 0, 0, 0"),
                    ("ProductName", "Hidden Input"),
                    ("ProductVersion", "1, 0, 0, 0"),
                ],
                "Hidden Input",
                "1, 0, 0, 0",
            ),
            (
                "more precise product version",
                &[
                    ("FileDescription", "Better version"),
                    ("FileVersion", "80.1.7"),
                    ("ProductVersion", "80.1.7.92"),
                ],
                "Better version",
                "80.1.7.92",
            ),
            (
                "more precise file version",
                &[
                    ("FileDescription", "Better version"),
                    ("FileVersion", "80.1.7.92"),
                    ("ProductVersion", "80.1.7"),
                ],
                "Better version",
                "80.1.7.92",
            ),
            (
                "greater product version with metadata",
                &[
                    ("FileDescription", "x"),
                    ("FileVersion", "3.0.0.0"),
                    ("ProductVersion", "3.0.1+b86b61bf"),
                ],
                "x",
                "3.0.1+b86b61bf",
            ),
            (
                "greater file version with metadata",
                &[
                    ("FileDescription", "x"),
                    ("FileVersion", "3.0.1+b86b61bf"),
                    ("ProductVersion", "3.0.0"),
                ],
                "x",
                "3.0.1+b86b61bf",
            ),
            (
                "file version not a version",
                &[
                    ("FileDescription", "x"),
                    ("FileVersion", "A"),
                    ("ProductVersion", "3.0.1+b86"),
                ],
                "x",
                "3.0.1+b86",
            ),
            (
                "product version not a version",
                &[
                    ("FileDescription", "x"),
                    ("FileVersion", "3.0.1+b86"),
                    ("ProductVersion", "A"),
                ],
                "x",
                "3.0.1+b86",
            ),
            (
                "equal versions: the one with more parts",
                &[
                    ("FileDescription", "x"),
                    ("FileVersion", "3.0.0.0"),
                    ("ProductVersion", "3.0.0"),
                ],
                "x",
                "3.0.0.0",
            ),
            (
                "not microsoft, product version greater than the file version",
                &[
                    ("CompanyName", "Mono development team"),
                    ("FileDescription", "Mono.Posix.dll"),
                    ("FileVersion", "4.0.0.0"),
                    ("ProductName", "Mono Common Language Infrastructure"),
                    ("ProductVersion", "4.0.30319.17020"),
                ],
                "Mono Common Language Infrastructure",
                "4.0.30319.17020",
            ),
        ];
        for (case, pairs, want_name, want_version) in table {
            let s = strings(pairs);
            assert_eq!(name(&s).as_deref(), Some(*want_name), "{case}");
            assert_eq!(version(&s).as_deref(), Some(*want_version), "{case}");
        }
    }

    #[test]
    fn blank_names_and_versions_give_none() {
        assert_eq!(name(&strings(&[("ProductName", " \t ")])), None);
        assert_eq!(name(&strings(&[])), None);
        assert_eq!(version(&strings(&[("FileVersion", "  ")])), None);
        // A version without digits is still a version (Syft's last case).
        assert_eq!(
            version(&strings(&[("ProductVersion", "Release")])).as_deref(),
            Some("Release")
        );
    }

    #[test]
    fn extract_version_table() {
        for (input, want) in [
            ("1, 0, 0, 0", "1, 0, 0, 0"),
            ("Release 73", "Release 73"),
            ("4.7.4076.0 built by: NET472REL1LAST_B", "4.7.4076.0"),
            ("  1.0\u{a0}\u{a0}beta ", "1.0"),
            ("", ""),
        ] {
            assert_eq!(extract_version(input), want, "{input:?}");
        }
    }

    #[test]
    fn space_normalize_table() {
        for (input, want) in [
            (" some \tspaces\n\t\t \n\rapart\n", "some spaces apart"),
            (
                "\rsöme \u{1}¡nvalid\t characters\n",
                "söme ¡nvalid characters",
            ),
            // Vertical tab is no `\s` in Go's regexp: removed as a control
            // character, not made a space.
            ("a\x0bb", "ab"),
            ("a \x01 b", "a b"),
            ("\u{2003}x\u{2003}", "x"),
        ] {
            assert_eq!(space_normalize(input), want, "{input:?}");
        }
    }

    #[test]
    fn go_version_ordering_table() {
        use Ordering::*;
        for (a, b, want) in [
            ("1.0", "1.0.0", Equal),
            ("1.0.0.0", "1.0.0", Equal),
            ("1.0.0.1", "1.0.0", Greater),
            ("1.2", "1.10", Less),
            ("v1.2.3", "1.2.3", Equal),
            ("1.0.0-beta", "1.0.0", Less),
            ("1.0.0-beta.2", "1.0.0-beta.10", Less),
            ("1.0.0-alpha", "1.0.0-1", Greater),
            ("1.0.0+a", "1.0.0+b", Equal),
            ("4.0.30319.17020", "4.0.0.0", Greater),
        ] {
            let (x, y) = (GoVersion::parse(a).unwrap(), GoVersion::parse(b).unwrap());
            assert_eq!(x.compare(&y), want, "{a} vs {b}");
        }
        for bad in [
            "",
            "A",
            "1..2",
            "1.0 beta",
            "99999999999999999999",
            "c61f0436",
        ] {
            assert!(GoVersion::parse(bad).is_none(), "{bad}");
        }
        let v = GoVersion::parse("1.2rc1.x+m.1").unwrap();
        assert_eq!((v.pre.as_str(), v.metadata.as_str()), ("rc1.x", "m.1"));
    }
}
