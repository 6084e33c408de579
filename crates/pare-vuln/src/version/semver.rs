//! SemVer 2.0.0 precedence (semver.org §11), for npm and crates.io versions.
//!
//! Advisory data and package metadata carry versions in the forms their
//! tools accept, not only strict SemVer, so the parser is tolerant the way
//! node-semver's loose mode is: surrounding whitespace, a leading `v` or
//! `=` (`v1.2.3`, `= 1.2.3`), a missing minor or patch (read as 0), leading
//! zeros in numbers, and a pre-release directly after the patch (`1.2.3beta`).
//! Build metadata is parsed and ignored for ordering, as §10 requires.
//!
//! Numbers are digit strings without leading zeros compared by length then
//! lexically, so no number overflows.

use std::cmp::Ordering;

/// Why a string is not a (tolerantly read) SemVer version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid semver version {input:?}: {reason}")]
pub struct Error {
    /// The string as given.
    pub input: String,
    /// What was wrong.
    pub reason: &'static str,
}

/// One pre-release identifier. §11.4.3: numeric identifiers have lower
/// precedence than alphanumeric ones — declaration order says so.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Ident<'a> {
    /// Digits without leading zeros; ordered by (length, digits).
    Num(usize, &'a str),
    /// Compared lexically in ASCII order (§11.4.2).
    Alpha(&'a str),
}

/// A parsed version, borrowing from the input string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version<'a> {
    major: &'a str,
    minor: &'a str,
    patch: &'a str,
    pre: Vec<Ident<'a>>,
}

/// Digits without leading zeros (`"0"` stays `"0"`).
fn strip_zeros(digits: &str) -> &str {
    let t = digits.trim_start_matches('0');
    if t.is_empty() { "0" } else { t }
}

fn cmp_num(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_num(self.major, other.major)
            .then_with(|| cmp_num(self.minor, other.minor))
            .then_with(|| cmp_num(self.patch, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                // §11.3: a pre-release sorts before its release.
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                // §11.4: field by field; a longer list wins when all the
                // shared fields are equal — exactly slice ordering.
                (false, false) => self.pre.cmp(&other.pre),
            })
    }
}

impl PartialOrd for Version<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Splits off the leading ASCII digits.
fn take_digits(s: &str) -> (&str, &str) {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    s.split_at(n)
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// Parses a version tolerantly (see the module documentation).
pub fn parse(input: &str) -> Result<Version<'_>, Error> {
    let fail = |reason| Error {
        input: input.to_owned(),
        reason,
    };
    // node-semver's loose pattern starts with `[v=\s]*`.
    let s = input
        .trim()
        .trim_start_matches(|c: char| c == 'v' || c == 'V' || c == '=' || c.is_whitespace());

    let mut nums = ["0"; 3];
    let mut rest = s;
    for (i, slot) in nums.iter_mut().enumerate() {
        if i > 0 {
            // Missing minor or patch reads as 0 (`1`, `1.2`).
            match rest.strip_prefix('.') {
                Some(r) => rest = r,
                None => break,
            }
        }
        let (digits, r) = take_digits(rest);
        if digits.is_empty() {
            return Err(fail("expected a number"));
        }
        *slot = strip_zeros(digits);
        rest = r;
    }

    // Build metadata first: everything after the first `+` (§10), which is
    // checked for shape and then dropped.
    let (head, build) = match rest.split_once('+') {
        Some((h, b)) => (h, Some(b)),
        None => (rest, None),
    };
    if let Some(build) = build
        && build
            .split('.')
            .any(|id| id.is_empty() || !id.bytes().all(is_ident_char))
    {
        return Err(fail("invalid build metadata"));
    }

    let pre_text = match head.strip_prefix('-') {
        Some(p) => Some(p),
        // `1.2.3beta`: loose mode's optional hyphen, only before a letter so
        // that `1.2.3.4` stays invalid.
        None if head.bytes().next().is_some_and(|b| b.is_ascii_alphabetic()) => Some(head),
        None if head.is_empty() => None,
        None => return Err(fail("unexpected text after the version")),
    };
    let mut pre = Vec::new();
    if let Some(p) = pre_text {
        for id in p.split('.') {
            if id.is_empty() || !id.bytes().all(is_ident_char) {
                return Err(fail("invalid pre-release identifier"));
            }
            pre.push(if id.bytes().all(|b| b.is_ascii_digit()) {
                let d = strip_zeros(id);
                Ident::Num(d.len(), d)
            } else {
                Ident::Alpha(id)
            });
        }
    }

    Ok(Version {
        major: nums[0],
        minor: nums[1],
        patch: nums[2],
        pre,
    })
}

/// Compares two version strings by SemVer 2.0.0 precedence.
///
/// Never panics. Strings that are not versions even when read tolerantly
/// sort before every valid version (as Go's `semver.Compare` orders them)
/// and among themselves by their bytes, so the order is total.
pub fn compare(a: &str, b: &str) -> Ordering {
    match (parse(a), parse(b)) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => Ordering::Greater,
        (Err(_), Ok(_)) => Ordering::Less,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // semver.org, SemVer 2.0.0 §11 examples, in increasing precedence.
    // Licence: Creative Commons CC BY 3.0 (semver/semver, semver.md).
    const SEMVER_ORG_11_4: &[&str] = &[
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
    ];
    const SEMVER_ORG_11_2: &[&str] = &["1.0.0", "2.0.0", "2.1.0", "2.1.1"];

    // npm/node-semver, test/fixtures/comparisons.js (commit
    // 4dd65430d96b251f321297a1ee25c1e139fc4926): the first of each pair is
    // greater. Licence: ISC, © Isaac Z. Schlueter and Contributors.
    const NODE_SEMVER_GREATER: &[(&str, &str)] = &[
        ("0.0.0", "0.0.0-foo"),
        ("0.0.1", "0.0.0"),
        ("1.0.0", "0.9.9"),
        ("0.10.0", "0.9.0"),
        ("0.99.0", "0.10.0"),
        ("2.0.0", "1.2.3"),
        ("v0.0.0", "0.0.0-foo"),
        ("v0.0.1", "0.0.0"),
        ("v1.0.0", "0.9.9"),
        ("v0.10.0", "0.9.0"),
        ("v0.99.0", "0.10.0"),
        ("v2.0.0", "1.2.3"),
        ("0.0.0", "v0.0.0-foo"),
        ("0.0.1", "v0.0.0"),
        ("1.0.0", "v0.9.9"),
        ("0.10.0", "v0.9.0"),
        ("0.99.0", "v0.10.0"),
        ("2.0.0", "v1.2.3"),
        ("1.2.3", "1.2.3-asdf"),
        ("1.2.3", "1.2.3-4"),
        ("1.2.3", "1.2.3-4-foo"),
        ("1.2.3-5-foo", "1.2.3-5"),
        ("1.2.3-5", "1.2.3-4"),
        ("1.2.3-5-foo", "1.2.3-5-Foo"),
        ("3.0.0", "2.7.2+asdf"),
        ("1.2.3-a.10", "1.2.3-a.5"),
        ("1.2.3-a.b", "1.2.3-a.5"),
        ("1.2.3-a.b", "1.2.3-a"),
        ("1.2.3-a.b.c.10.d.5", "1.2.3-a.b.c.5.d.100"),
        ("1.2.3-r2", "1.2.3-r100"),
        ("1.2.3-r100", "1.2.3-R2"),
    ];

    // npm/node-semver, test/fixtures/equality.js (commit
    // 327272db85c81de538738247fa6133d3e7a96f55): each pair is equal.
    // Licence: ISC, as above.
    const NODE_SEMVER_EQUAL: &[(&str, &str)] = &[
        ("1.2.3", "v1.2.3"),
        ("1.2.3", "=1.2.3"),
        ("1.2.3", "v 1.2.3"),
        ("1.2.3", "= 1.2.3"),
        ("1.2.3", " v1.2.3"),
        ("1.2.3", " =1.2.3"),
        ("1.2.3", " v 1.2.3"),
        ("1.2.3", " = 1.2.3"),
        ("1.2.3-0", "v1.2.3-0"),
        ("1.2.3-0", "=1.2.3-0"),
        ("1.2.3-0", "v 1.2.3-0"),
        ("1.2.3-0", "= 1.2.3-0"),
        ("1.2.3-0", " v1.2.3-0"),
        ("1.2.3-0", " =1.2.3-0"),
        ("1.2.3-0", " v 1.2.3-0"),
        ("1.2.3-0", " = 1.2.3-0"),
        ("1.2.3-1", "v1.2.3-1"),
        ("1.2.3-1", "=1.2.3-1"),
        ("1.2.3-1", "v 1.2.3-1"),
        ("1.2.3-1", "= 1.2.3-1"),
        ("1.2.3-1", " v1.2.3-1"),
        ("1.2.3-1", " =1.2.3-1"),
        ("1.2.3-1", " v 1.2.3-1"),
        ("1.2.3-1", " = 1.2.3-1"),
        ("1.2.3-beta", "v1.2.3-beta"),
        ("1.2.3-beta", "=1.2.3-beta"),
        ("1.2.3-beta", "v 1.2.3-beta"),
        ("1.2.3-beta", "= 1.2.3-beta"),
        ("1.2.3-beta", " v1.2.3-beta"),
        ("1.2.3-beta", " =1.2.3-beta"),
        ("1.2.3-beta", " v 1.2.3-beta"),
        ("1.2.3-beta", " = 1.2.3-beta"),
        ("1.2.3-beta+build", " = 1.2.3-beta+otherbuild"),
        ("1.2.3+build", " = 1.2.3+otherbuild"),
        ("1.2.3-beta+build", "1.2.3-beta+otherbuild"),
        ("1.2.3+build", "1.2.3+otherbuild"),
        ("  v1.2.3+build", "1.2.3+otherbuild"),
    ];

    fn assert_increasing(list: &[&str]) {
        for (i, a) in list.iter().enumerate() {
            assert!(parse(a).is_ok(), "{a} should parse");
            for (j, b) in list.iter().enumerate() {
                assert_eq!(compare(a, b), i.cmp(&j), "compare({a:?}, {b:?})");
            }
        }
    }

    #[test]
    fn semver_org_precedence() {
        assert_increasing(SEMVER_ORG_11_4);
        assert_increasing(SEMVER_ORG_11_2);
    }

    #[test]
    fn node_semver_comparisons() {
        for (a, b) in NODE_SEMVER_GREATER {
            assert_eq!(compare(a, b), Ordering::Greater, "{a} > {b}");
            assert_eq!(compare(b, a), Ordering::Less, "{b} < {a}");
        }
        assert_eq!(NODE_SEMVER_GREATER.len(), 31);
    }

    #[test]
    fn node_semver_equality() {
        for (a, b) in NODE_SEMVER_EQUAL {
            assert!(parse(a).is_ok() && parse(b).is_ok(), "{a:?} {b:?}");
            assert_eq!(compare(a, b), Ordering::Equal, "{a:?} == {b:?}");
        }
        assert_eq!(NODE_SEMVER_EQUAL.len(), 37);
    }

    #[test]
    fn tolerant_forms_and_invalid_order() {
        for (a, b) in [
            ("1", "1.0.0"),
            ("1.2", "1.2.0"),
            ("01.02.03", "1.2.3"),
            ("1.2.3-beta.01", "1.2.3-beta.1"),
            ("1.2.3beta", "1.2.3-beta"),
            ("1.0-rc.1", "1.0.0-rc.1"),
        ] {
            assert_eq!(compare(a, b), Ordering::Equal, "{a} == {b}");
        }
        assert_eq!(
            compare(
                "1.2.340282366920938463463374607431768211457",
                "1.2.340282366920938463463374607431768211456"
            ),
            Ordering::Greater
        );
        for bad in [
            "",
            "x",
            "1.2.3.4",
            "1..2",
            "1.2.3-",
            "1.2.3-a..b",
            "1.2.3+",
            "1.2.3+a+b",
            "*",
            "1.x",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be invalid");
            assert_eq!(compare(bad, "0.0.0-0"), Ordering::Less, "{bad:?}");
        }
    }
}
