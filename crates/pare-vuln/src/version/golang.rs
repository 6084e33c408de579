//! Go module version ordering, as `golang.org/x/mod/semver` defines it.
//!
//! Go is strict where npm is loose: the `v` prefix is required, numbers have
//! no leading zeros, and the shorthands `v1` and `v1.2` (meaning `v1.0.0`,
//! `v1.2.0`) may carry neither a pre-release nor build metadata. Pseudo-
//! versions (`v0.0.0-20191109021931-daa7c04131f5`) need no special case:
//! their timestamp and hash are a pre-release, which orders them by time.
//! `+incompatible` is build metadata and so ignored for ordering.
//!
//! `semver.Compare` treats every invalid version as less than every valid
//! one and all invalid versions as equal; [`compare`] does the same, so an
//! OSV `Go` range reads here as it reads in Go's own tooling.

use std::cmp::Ordering;

/// Why a string is not a Go module version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Go module version {input:?}: {reason}")]
pub struct Error {
    /// The string as given.
    pub input: String,
    /// What was wrong.
    pub reason: &'static str,
}

/// A parsed Go module version, borrowing from its input.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version<'a> {
    major: &'a str,
    minor: &'a str,
    patch: &'a str,
    /// Pre-release identifiers without the leading `-`; empty for none.
    pre: Vec<&'a str>,
}

/// Digits without leading zeros compare by length, then lexically.
fn cmp_num(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn is_num(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// One pre-release identifier against another: numeric ones numerically and
/// below alphanumeric ones, alphanumeric ones in ASCII order.
fn cmp_ident(a: &str, b: &str) -> Ordering {
    match (is_num(a), is_num(b)) {
        (true, true) => cmp_num(a, b),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_num(self.major, other.major)
            .then_with(|| cmp_num(self.minor, other.minor))
            .then_with(|| cmp_num(self.patch, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (x, y) in self.pre.iter().zip(&other.pre) {
                        let o = cmp_ident(x, y);
                        if o != Ordering::Equal {
                            return o;
                        }
                    }
                    // All shared identifiers equal: more identifiers win.
                    self.pre.len().cmp(&other.pre.len())
                }
            })
    }
}

impl PartialOrd for Version<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A number as Go's `parseInt` accepts it: digits, no leading zero unless
/// the number is `0`.
fn take_num(s: &str) -> Option<(&str, &str)> {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    let (digits, rest) = s.split_at(n);
    if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    Some((digits, rest))
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// Parses a Go module version (`v` prefix required).
pub fn parse(input: &str) -> Result<Version<'_>, Error> {
    let fail = |reason| Error {
        input: input.to_owned(),
        reason,
    };
    let s = input
        .strip_prefix('v')
        .ok_or_else(|| fail("missing v prefix"))?;
    let (major, rest) = take_num(s).ok_or_else(|| fail("bad major version"))?;
    // Shorthands end right after the major or minor number: `v1-pre` and
    // `v1.2+meta` are invalid in Go, not read as `v1.0.0-pre`.
    if rest.is_empty() {
        return Ok(Version {
            major,
            minor: "0",
            patch: "0",
            pre: Vec::new(),
        });
    }
    let rest = rest
        .strip_prefix('.')
        .ok_or_else(|| fail("bad minor version"))?;
    let (minor, rest) = take_num(rest).ok_or_else(|| fail("bad minor version"))?;
    if rest.is_empty() {
        return Ok(Version {
            major,
            minor,
            patch: "0",
            pre: Vec::new(),
        });
    }
    let rest = rest
        .strip_prefix('.')
        .ok_or_else(|| fail("bad patch version"))?;
    let (patch, rest) = take_num(rest).ok_or_else(|| fail("bad patch version"))?;

    let (head, build) = match rest.split_once('+') {
        Some((h, b)) => (h, Some(b)),
        None => (rest, None),
    };
    if let Some(build) = build
        && build
            .split('.')
            .any(|id| id.is_empty() || !id.bytes().all(is_ident_char))
    {
        return Err(fail("bad build metadata"));
    }
    let mut pre = Vec::new();
    if !head.is_empty() {
        let p = head
            .strip_prefix('-')
            .ok_or_else(|| fail("unexpected text after patch"))?;
        for id in p.split('.') {
            // Build metadata may have leading zeros; pre-release numbers
            // may not (SemVer §9, enforced by Go).
            if id.is_empty()
                || !id.bytes().all(is_ident_char)
                || (is_num(id) && id.len() > 1 && id.starts_with('0'))
            {
                return Err(fail("bad pre-release"));
            }
            pre.push(id);
        }
    }
    Ok(Version {
        major,
        minor,
        patch,
        pre,
    })
}

/// Compares two Go module versions as `semver.Compare` does.
///
/// Never panics. An invalid version is less than every valid one, and all
/// invalid versions are equal to each other — Go's documented behaviour,
/// kept so that ranges read the same here as in Go. (Unlike the other
/// modules this is therefore a total preorder, not a total order on
/// strings: callers that need a strict order can break ties by bytes.)
pub fn compare(a: &str, b: &str) -> Ordering {
    match (parse(a), parse(b)) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => Ordering::Greater,
        (Err(_), Ok(_)) => Ordering::Less,
        (Err(_), Err(_)) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // golang/mod, semver/semver_test.go, `tests` table (commit
    // 8b446299501e373f4d7a7d8869d5646e9bfb2e96): input and canonical form,
    // "" for invalid. Rows are in increasing order, and `TestCompare`
    // checks every pair: equal canonical forms compare equal, otherwise the
    // earlier row is less. Licence: BSD-3-Clause, © 2018 The Go Authors.
    const GO_TESTS: &[(&str, &str)] = &[
        ("bad", ""),
        ("v1-alpha.beta.gamma", ""),
        ("v1-pre", ""),
        ("v1+meta", ""),
        ("v1-pre+meta", ""),
        ("v1.2-pre", ""),
        ("v1.2+meta", ""),
        ("v1.2-pre+meta", ""),
        ("v1.0.0-alpha", "v1.0.0-alpha"),
        ("v1.0.0-alpha.1", "v1.0.0-alpha.1"),
        ("v1.0.0-alpha.beta", "v1.0.0-alpha.beta"),
        ("v1.0.0-beta", "v1.0.0-beta"),
        ("v1.0.0-beta.2", "v1.0.0-beta.2"),
        ("v1.0.0-beta.11", "v1.0.0-beta.11"),
        ("v1.0.0-rc.1", "v1.0.0-rc.1"),
        ("v1", "v1.0.0"),
        ("v1.0", "v1.0.0"),
        ("v1.0.0", "v1.0.0"),
        ("v1.2", "v1.2.0"),
        ("v1.2.0", "v1.2.0"),
        ("v1.2.3-456", "v1.2.3-456"),
        ("v1.2.3-456.789", "v1.2.3-456.789"),
        ("v1.2.3-456-789", "v1.2.3-456-789"),
        ("v1.2.3-456a", "v1.2.3-456a"),
        ("v1.2.3-pre", "v1.2.3-pre"),
        ("v1.2.3-pre+meta", "v1.2.3-pre"),
        ("v1.2.3-pre.1", "v1.2.3-pre.1"),
        ("v1.2.3-zzz", "v1.2.3-zzz"),
        ("v1.2.3", "v1.2.3"),
        ("v1.2.3+meta", "v1.2.3"),
        ("v1.2.3+meta-pre", "v1.2.3"),
        ("v1.2.3+meta-pre.sha.256a", "v1.2.3"),
    ];

    // Same file, the explicit cases at the end of `TestCompare`.
    const GO_EXTRA: &[(&str, &str, Ordering)] = &[
        ("v1", "v1", Ordering::Equal),
        ("v2", "v1", Ordering::Greater),
        ("v1", "v2", Ordering::Less),
        ("v1.19", "v1.2", Ordering::Greater),
    ];

    #[test]
    fn go_is_valid() {
        for (input, canonical) in GO_TESTS {
            assert_eq!(parse(input).is_ok(), !canonical.is_empty(), "{input:?}");
        }
        assert_eq!(GO_TESTS.len(), 32);
    }

    #[test]
    fn go_compare_every_pair() {
        for (i, (a, ca)) in GO_TESTS.iter().enumerate() {
            for (j, (b, cb)) in GO_TESTS.iter().enumerate() {
                let want = if ca == cb { Ordering::Equal } else { i.cmp(&j) };
                assert_eq!(compare(a, b), want, "compare({a:?}, {b:?})");
            }
        }
        for (a, b, want) in GO_EXTRA {
            assert_eq!(compare(a, b), *want, "compare({a:?}, {b:?})");
        }
    }

    #[test]
    fn pseudo_versions_and_incompatible() {
        // Pseudo-versions order by their timestamp, below the release they
        // precede and above the tag they follow (v0.0.0-… forms, and the
        // vX.Y.(Z+1)-0.… form after vX.Y.Z).
        let chain = [
            "v0.0.0-20191109021931-daa7c04131f5",
            "v0.0.0-20200101000000-000000000000",
            "v0.1.0",
            "v0.1.1-0.20200101000000-abcdefabcdef",
            "v0.1.1-0.20210101000000-abcdefabcdef",
            "v0.1.1",
            "v2.0.0+incompatible",
            "v2.0.1-0.20220101000000-abcdefabcdef+incompatible",
            "v2.0.1+incompatible",
        ];
        for w in chain.windows(2) {
            assert_eq!(compare(w[0], w[1]), Ordering::Less, "{} < {}", w[0], w[1]);
        }
        assert_eq!(compare("v2.0.0+incompatible", "v2.0.0"), Ordering::Equal);
        // No overflow on huge numbers.
        assert_eq!(
            compare(
                "v1.340282366920938463463374607431768211457.0",
                "v1.340282366920938463463374607431768211456.0"
            ),
            Ordering::Greater
        );
        // Invalid: below valid, equal to each other.
        for bad in [
            "1.2.3",
            "v01.2.3",
            "v1.2.3-01",
            "v1.2.3.4",
            "",
            "v",
            "V1.2.3",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
            assert_eq!(compare(bad, "v0.0.0-0"), Ordering::Less, "{bad:?}");
            assert_eq!(compare(bad, "bad"), Ordering::Equal, "{bad:?}");
        }
    }
}
