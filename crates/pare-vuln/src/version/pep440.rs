//! PEP 440 version ordering, as the `packaging` library (pypa/packaging,
//! `packaging.version.Version`) parses and orders versions. PyPI advisories
//! (OSV `PyPI` ranges) are written against that implementation, so it is the
//! reference rather than the PEP's prose where the two differ.
//!
//! The parser is hand-written over `&str` and follows `VERSION_PATTERN`
//! section by section (epoch, release, pre, post, dev, local), each optional
//! section trying to match and leaving the position untouched when it does
//! not — which is all the backtracking that pattern ever needs, because its
//! separators are optional and its sections are tried in a fixed order.
//!
//! Numbers are kept as digit strings without leading zeros and compared by
//! length, then lexically, so `1.99999999999999999999999999999` neither
//! overflows nor loses precision.

use std::cmp::Ordering;
use std::fmt;

/// Why a string is not a PEP 440 version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid PEP 440 version {input:?}: {reason}")]
pub struct Error {
    /// The string as given.
    pub input: String,
    /// What was wrong, for the one line a user sees.
    pub reason: &'static str,
}

/// A non-negative integer of any size: its ASCII digits without leading
/// zeros (`"0"` for zero). Ordering by length first is numeric ordering
/// precisely because leading zeros are gone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Num(String);

impl Num {
    fn new(digits: &str) -> Num {
        let trimmed = digits.trim_start_matches('0');
        Num(if trimmed.is_empty() {
            "0".to_owned()
        } else {
            trimmed.to_owned()
        })
    }

    fn zero() -> Num {
        Num("0".to_owned())
    }

    fn is_zero(&self) -> bool {
        self.0 == "0"
    }
}

impl Ord for Num {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for Num {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Pre-release kind after normalisation; declaration order is PEP 440's
/// order (`a` < `b` < `rc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum PreKind {
    Alpha,
    Beta,
    Rc,
}

/// One dot-separated part of a local version. `packaging` keys a numeric
/// part as `(int, "")` and a string part as `(-inf, str)`, so every string
/// part sorts before every numeric one: declaration order says exactly that.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum LocalPart {
    Str(String),
    Num(Num),
}

/// A parsed PEP 440 version. Equality and ordering are PEP 440's (so
/// `1.0 == 1.0.0` and `1.0c1 == 1.0rc1`); [`fmt::Display`] gives the
/// normalised form `packaging` prints.
#[derive(Debug, Clone)]
pub struct Version {
    epoch: Num,
    release: Vec<Num>,
    pre: Option<(PreKind, Num)>,
    post: Option<Num>,
    dev: Option<Num>,
    local: Option<Vec<LocalPart>>,
}

/// `packaging`'s `_cmpkey` pre-release component. `NegInf` lets a bare
/// dev release (`1.0.dev0`) sort before every pre-release of the same
/// release; `PosInf` puts a final release after its pre-releases.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum PreKey<'a> {
    NegInf,
    Pre(PreKind, &'a Num),
    PosInf,
}

impl Version {
    /// The release without trailing zeros: `1.0.0` and `1` are the same
    /// release (`packaging` strips them in its sort key the same way).
    fn release_key(&self) -> &[Num] {
        let end = self
            .release
            .iter()
            .rposition(|n| !n.is_zero())
            .map_or(0, |i| i + 1);
        &self.release[..end]
    }

    fn pre_key(&self) -> PreKey<'_> {
        match (&self.pre, &self.post, &self.dev) {
            (None, None, Some(_)) => PreKey::NegInf,
            (None, _, _) => PreKey::PosInf,
            (Some((kind, n)), _, _) => PreKey::Pre(*kind, n),
        }
    }

    /// `None` sorts first: no post release is older than `.post0`.
    fn post_key(&self) -> Option<&Num> {
        self.post.as_ref()
    }

    /// No dev release sorts after every dev release (`1.0.dev9 < 1.0`), so
    /// the key flips `Option`'s usual order.
    fn dev_key(&self) -> (bool, Option<&Num>) {
        (self.dev.is_none(), self.dev.as_ref())
    }

    /// `None` sorts first: `1.0 < 1.0+anything`.
    fn local_key(&self) -> Option<&[LocalPart]> {
        self.local.as_deref()
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| self.release_key().cmp(other.release_key()))
            .then_with(|| self.pre_key().cmp(&other.pre_key()))
            .then_with(|| self.post_key().cmp(&other.post_key()))
            .then_with(|| self.dev_key().cmp(&other.dev_key()))
            .then_with(|| self.local_key().cmp(&other.local_key()))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.epoch.is_zero() {
            write!(f, "{}!", self.epoch)?;
        }
        for (i, n) in self.release.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{n}")?;
        }
        if let Some((kind, n)) = &self.pre {
            let label = match kind {
                PreKind::Alpha => "a",
                PreKind::Beta => "b",
                PreKind::Rc => "rc",
            };
            write!(f, "{label}{n}")?;
        }
        if let Some(n) = &self.post {
            write!(f, ".post{n}")?;
        }
        if let Some(n) = &self.dev {
            write!(f, ".dev{n}")?;
        }
        if let Some(parts) = &self.local {
            f.write_str("+")?;
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    f.write_str(".")?;
                }
                match part {
                    LocalPart::Str(s) => f.write_str(s)?,
                    LocalPart::Num(n) => write!(f, "{n}")?,
                }
            }
        }
        Ok(())
    }
}

/// A byte cursor over the (ASCII-only, once trimmed) version text.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn digits(&mut self) -> Option<&'a str> {
        let rest = self.rest();
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        self.pos += n;
        Some(&rest[..n])
    }

    /// One optional `-`, `_` or `.` — the separators PEP 440 normalises away.
    fn separator(&mut self) {
        if matches!(self.peek(), Some(b'-' | b'_' | b'.')) {
            self.pos += 1;
        }
    }

    /// The first of `words` the text continues with, case-insensitively.
    /// Callers list longer spellings before their prefixes (`preview`
    /// before `pre`) exactly as `VERSION_PATTERN`'s alternations do.
    fn keyword<T: Copy>(&mut self, words: &[(&str, T)]) -> Option<T> {
        let rest = self.rest().as_bytes();
        for (word, value) in words {
            if rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word.as_bytes())
            {
                self.pos += word.len();
                return Some(*value);
            }
        }
        None
    }
}

const PRE_WORDS: &[(&str, PreKind)] = &[
    ("alpha", PreKind::Alpha),
    ("a", PreKind::Alpha),
    ("beta", PreKind::Beta),
    ("b", PreKind::Beta),
    ("preview", PreKind::Rc),
    ("pre", PreKind::Rc),
    ("c", PreKind::Rc),
    ("rc", PreKind::Rc),
];

const POST_WORDS: &[(&str, ())] = &[("post", ()), ("rev", ()), ("r", ())];

const DEV_WORDS: &[(&str, ())] = &[("dev", ())];

/// Parses a version the way `packaging.version.Version` does: surrounding
/// whitespace and a `v` prefix are allowed, letters are case-insensitive,
/// separators between sections are optional, and spellings are normalised
/// (`alpha`→`a`, `c`/`pre`/`preview`→`rc`, `r`/`rev`/`1.0-1`→`post`).
pub fn parse(input: &str) -> Result<Version, Error> {
    let fail = |reason| Error {
        input: input.to_owned(),
        reason,
    };
    // `packaging` calls Python's `str.strip()`, whose whitespace is Unicode
    // White_Space (what `char::is_whitespace` tests) plus the ASCII
    // separators U+001C..U+001F.
    let s = input.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c));
    if !s.is_ascii() {
        // Everything after trimming must be ASCII: `packaging` rejects
        // non-ASCII digits and letters (its pattern is ASCII-only).
        return Err(fail("non-ASCII character"));
    }
    let mut c = Cursor { s, pos: 0 };
    if matches!(c.peek(), Some(b'v' | b'V')) {
        c.pos += 1;
    }

    // Epoch: digits followed by `!`; otherwise those digits are the release.
    let start = c.pos;
    let epoch = match c.digits() {
        Some(d) if c.peek() == Some(b'!') => {
            c.pos += 1;
            Num::new(d)
        }
        _ => {
            c.pos = start;
            Num::zero()
        }
    };

    // Release: N(.N)* — a dot only continues it when a digit follows, so
    // `1.0.post1` leaves `.post1` for the post section.
    let mut release = vec![Num::new(
        c.digits().ok_or_else(|| fail("no release number"))?,
    )];
    while c.peek() == Some(b'.') && c.rest().as_bytes().get(1).is_some_and(u8::is_ascii_digit) {
        c.pos += 1;
        release.push(Num::new(c.digits().unwrap_or("0")));
    }

    let pre = optional(&mut c, |c| {
        c.separator();
        let kind = c.keyword(PRE_WORDS)?;
        c.separator();
        Some((kind, c.digits().map_or_else(Num::zero, Num::new)))
    });

    let post = optional(&mut c, |c| {
        // The implicit form `1.0-1`: a hyphen and a number, nothing else.
        if c.peek() == Some(b'-') {
            c.pos += 1;
            if let Some(d) = c.digits() {
                return Some(Num::new(d));
            }
            c.pos -= 1;
        }
        c.separator();
        c.keyword(POST_WORDS)?;
        c.separator();
        Some(c.digits().map_or_else(Num::zero, Num::new))
    });

    let dev = optional(&mut c, |c| {
        c.separator();
        c.keyword(DEV_WORDS)?;
        c.separator();
        Some(c.digits().map_or_else(Num::zero, Num::new))
    });

    let local = if c.peek() == Some(b'+') {
        c.pos += 1;
        Some(parse_local(c.rest()).ok_or_else(|| fail("invalid local version"))?)
    } else if c.pos < s.len() {
        return Err(fail("unexpected text after the version"));
    } else {
        None
    };

    Ok(Version {
        epoch,
        release,
        pre,
        post,
        dev,
        local,
    })
}

/// Runs one optional section; on failure the cursor goes back to where the
/// section began, as a regex's `(...)?` would.
fn optional<'a, T>(
    c: &mut Cursor<'a>,
    section: impl FnOnce(&mut Cursor<'a>) -> Option<T>,
) -> Option<T> {
    let start = c.pos;
    let found = section(c);
    if found.is_none() {
        c.pos = start;
    }
    found
}

/// `[a-z0-9]+([-_.][a-z0-9]+)*`, lower-cased, each all-digit part a number.
fn parse_local(s: &str) -> Option<Vec<LocalPart>> {
    s.split(['-', '_', '.'])
        .map(|part| {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_alphanumeric()) {
                None
            } else if part.bytes().all(|b| b.is_ascii_digit()) {
                Some(LocalPart::Num(Num::new(part)))
            } else {
                Some(LocalPart::Str(part.to_ascii_lowercase()))
            }
        })
        .collect()
}

/// Compares two version strings in PEP 440 order.
///
/// Never panics. Strings that are not PEP 440 versions sort after every
/// valid version (an advisory range can never be satisfied by them by
/// accident at the low end), and among themselves by their bytes, so the
/// result is a total order whatever the input.
pub fn compare(a: &str, b: &str) -> Ordering {
    match (parse(a), parse(b)) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // From pypa/packaging, tests/test_version.py, `VERSIONS` ("This list must
    // be in the correct sorting order"), commit 0345ccd3d1e5b0e14b84de4fb6bca0b82f7145e3.
    // Licence: Apache-2.0 OR BSD-2-Clause (dual), © Donald Stufft and
    // individual contributors.
    const PACKAGING_VERSIONS: &[&str] = &[
        // Implicit epoch of 0
        "1.0.dev0",
        "1.0.dev456",
        "1.0.dev456+local",
        "1.0a0",
        "1.0a0.post0.dev0",
        "1.0a0.post0",
        "1.0a1.dev1",
        "1.0a1.dev1+local",
        "1.0a1",
        "1.0a1+local",
        "1.0b0",
        "1.0b1.dev456",
        "1.0b2",
        "1.0b2.post345.dev456",
        "1.0b2.post345",
        "1.0b2-346",
        "1.0rc0",
        "1.0rc1.dev1",
        "1.0c1",
        "1.0rc2",
        "1.0",
        "1.0.post0.dev0",
        "1.0.post0",
        "1.0.post456.dev34",
        "1.0.post456",
        "1.0.post456+local",
        "1.0.1.dev1",
        "1.0.1a1",
        "1.0.1",
        "1.0.1+local",
        "1.0.1.post1",
        "1.1.dev1",
        "1.2+a",
        "1.2+abc",
        "1.2+abcdef",
        "1.2+def",
        "1.2+0",
        "1.2+1",
        "1.2+1.abc",
        "1.2+1.1",
        "1.2+1.1.0",
        "1.2+2",
        "1.2+123",
        "1.2+123456",
        "1.2.r32+123456",
        "1.2.rev33+123456",
        // Explicit epoch of 1
        "1!1.0.dev0",
        "1!1.0.dev456",
        "1!1.0.dev456+local",
        "1!1.0a0",
        "1!1.0a0.post0.dev0",
        "1!1.0a0.post0",
        "1!1.0a1.dev1",
        "1!1.0a1.dev1+local",
        "1!1.0a1",
        "1!1.0a1+local",
        "1!1.0b0",
        "1!1.0b1.dev456",
        "1!1.0b2",
        "1!1.0b2.post345.dev456",
        "1!1.0b2.post345",
        "1!1.0b2-346",
        "1!1.0rc0",
        "1!1.0rc1.dev1",
        "1!1.0c1",
        "1!1.0rc2",
        "1!1.0",
        "1!1.0.post0.dev0",
        "1!1.0.post0",
        "1!1.0.post456.dev34",
        "1!1.0.post456",
        "1!1.0.post456+local",
        "1!1.0.1.dev1",
        "1!1.0.1a1",
        "1!1.0.1",
        "1!1.0.1+local",
        "1!1.0.1.post1",
        "1!1.1.dev1",
        "1!1.2+a",
        "1!1.2+abc",
        "1!1.2+abcdef",
        "1!1.2+def",
        "1!1.2+0",
        "1!1.2+1",
        "1!1.2+1.abc",
        "1!1.2+1.1",
        "1!1.2+1.1.0",
        "1!1.2+2",
        "1!1.2+123",
        "1!1.2+123456",
        "1!1.2.r32+123456",
        "1!1.2.rev33+123456",
    ];

    // Same file, `test_invalid_versions`.
    const PACKAGING_INVALID: &[&str] = &[
        "french toast",
        "1.0+a+",
        "1.0++",
        "1.0+_foobar",
        "1.0+foo&asd",
        "1.0+1+1",
        "1. 0",
        "1 .0",
        "1. 0a1",
        "1 .0a1",
        "1.0 a1",
        "1.0a 1",
        "\u{660}\u{661}\u{662}.\u{663}\u{664}\u{665}.\u{666}\u{667}\u{668}\u{669}",
        ".",
        "..",
        "1..0",
        "1.0.",
        ".1.0",
        "1..2.3",
        "1.0+\u{130}",
    ];

    // Same file, `test_normalized_versions`: (input, normalised form).
    const PACKAGING_NORMALIZED: &[(&str, &str)] = &[
        ("1.0dev", "1.0.dev0"),
        ("1.0.dev", "1.0.dev0"),
        ("1.0dev1", "1.0.dev1"),
        ("1.0-dev", "1.0.dev0"),
        ("1.0-dev1", "1.0.dev1"),
        ("1.0DEV", "1.0.dev0"),
        ("1.0.DEV", "1.0.dev0"),
        ("1.0DEV1", "1.0.dev1"),
        ("1.0.DEV1", "1.0.dev1"),
        ("1.0-DEV", "1.0.dev0"),
        ("1.0-DEV1", "1.0.dev1"),
        ("1.0a", "1.0a0"),
        ("1.0.a", "1.0a0"),
        ("1.0.a1", "1.0a1"),
        ("1.0-a", "1.0a0"),
        ("1.0-a1", "1.0a1"),
        ("1.0alpha", "1.0a0"),
        ("1.0.alpha", "1.0a0"),
        ("1.0.alpha1", "1.0a1"),
        ("1.0-alpha", "1.0a0"),
        ("1.0-alpha1", "1.0a1"),
        ("1.0A", "1.0a0"),
        ("1.0.A", "1.0a0"),
        ("1.0.A1", "1.0a1"),
        ("1.0-A", "1.0a0"),
        ("1.0-A1", "1.0a1"),
        ("1.0ALPHA", "1.0a0"),
        ("1.0.ALPHA", "1.0a0"),
        ("1.0.ALPHA1", "1.0a1"),
        ("1.0-ALPHA", "1.0a0"),
        ("1.0-ALPHA1", "1.0a1"),
        ("1.0b", "1.0b0"),
        ("1.0.b", "1.0b0"),
        ("1.0.b1", "1.0b1"),
        ("1.0-b", "1.0b0"),
        ("1.0-b1", "1.0b1"),
        ("1.0beta", "1.0b0"),
        ("1.0.beta", "1.0b0"),
        ("1.0.beta1", "1.0b1"),
        ("1.0-beta", "1.0b0"),
        ("1.0-beta1", "1.0b1"),
        ("1.0B", "1.0b0"),
        ("1.0.B", "1.0b0"),
        ("1.0.B1", "1.0b1"),
        ("1.0-B", "1.0b0"),
        ("1.0-B1", "1.0b1"),
        ("1.0BETA", "1.0b0"),
        ("1.0.BETA", "1.0b0"),
        ("1.0.BETA1", "1.0b1"),
        ("1.0-BETA", "1.0b0"),
        ("1.0-BETA1", "1.0b1"),
        ("1.0c", "1.0rc0"),
        ("1.0.c", "1.0rc0"),
        ("1.0.c1", "1.0rc1"),
        ("1.0-c", "1.0rc0"),
        ("1.0-c1", "1.0rc1"),
        ("1.0rc", "1.0rc0"),
        ("1.0.rc", "1.0rc0"),
        ("1.0.rc1", "1.0rc1"),
        ("1.0-rc", "1.0rc0"),
        ("1.0-rc1", "1.0rc1"),
        ("1.0C", "1.0rc0"),
        ("1.0.C", "1.0rc0"),
        ("1.0.C1", "1.0rc1"),
        ("1.0-C", "1.0rc0"),
        ("1.0-C1", "1.0rc1"),
        ("1.0RC", "1.0rc0"),
        ("1.0.RC", "1.0rc0"),
        ("1.0.RC1", "1.0rc1"),
        ("1.0-RC", "1.0rc0"),
        ("1.0-RC1", "1.0rc1"),
        ("1.0post", "1.0.post0"),
        ("1.0.post", "1.0.post0"),
        ("1.0post1", "1.0.post1"),
        ("1.0-post", "1.0.post0"),
        ("1.0-post1", "1.0.post1"),
        ("1.0POST", "1.0.post0"),
        ("1.0.POST", "1.0.post0"),
        ("1.0POST1", "1.0.post1"),
        ("1.0r", "1.0.post0"),
        ("1.0rev", "1.0.post0"),
        ("1.0.POST1", "1.0.post1"),
        ("1.0.r1", "1.0.post1"),
        ("1.0.rev1", "1.0.post1"),
        ("1.0-POST", "1.0.post0"),
        ("1.0-POST1", "1.0.post1"),
        ("1.0-5", "1.0.post5"),
        ("1.0-r5", "1.0.post5"),
        ("1.0-rev5", "1.0.post5"),
        ("1.0+AbC", "1.0+abc"),
        ("1.01", "1.1"),
        ("1.0a05", "1.0a5"),
        ("1.0b07", "1.0b7"),
        ("1.0c056", "1.0rc56"),
        ("1.0rc09", "1.0rc9"),
        ("1.0.post000", "1.0.post0"),
        ("1.1.dev09000", "1.1.dev9000"),
        ("00!1.2", "1.2"),
        ("0100!0.0", "100!0.0"),
        ("v1.0", "1.0"),
        ("   v1.0\t\n", "1.0"),
        ("\u{202f}1.0\t\u{2029}\n ", "1.0"),
    ];

    #[test]
    fn packaging_versions_are_in_order() {
        for v in PACKAGING_VERSIONS {
            assert!(parse(v).is_ok(), "{v} should parse");
        }
        // Every pair, as packaging's own comparison tests do: index order
        // is version order, and no two entries of the list are equal.
        for (i, a) in PACKAGING_VERSIONS.iter().enumerate() {
            for (j, b) in PACKAGING_VERSIONS.iter().enumerate() {
                assert_eq!(compare(a, b), i.cmp(&j), "compare({a:?}, {b:?})");
            }
        }
        assert_eq!(PACKAGING_VERSIONS.len(), 92);
    }

    #[test]
    fn packaging_invalid_versions_are_refused() {
        for v in PACKAGING_INVALID {
            assert!(parse(v).is_err(), "{v:?} should be invalid");
        }
        assert_eq!(PACKAGING_INVALID.len(), 20);
    }

    #[test]
    fn packaging_normalisation() {
        for (input, normalised) in PACKAGING_NORMALIZED {
            let v = parse(input).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(v.to_string(), *normalised, "{input:?}");
            assert_eq!(compare(input, normalised), Ordering::Equal, "{input:?}");
        }
    }

    #[test]
    fn brief_cases() {
        let chain = [
            "1.0.dev0",
            "1.0a1.dev0",
            "1.0a1",
            "1.0a1.post0.dev0",
            "1.0a1.post0",
            "1.0b1",
            "1.0rc1",
            "1.0",
            "1.0.post0.dev0",
            "1.0.post0",
        ];
        for w in chain.windows(2) {
            assert_eq!(compare(w[0], w[1]), Ordering::Less, "{} < {}", w[0], w[1]);
        }
        for (a, b) in [
            ("1.0", "1.0.0"),
            ("1", "1.0.0.0"),
            ("1.0rc1", "1.0c1"),
            ("1.0pre1", "1.0preview1"),
            ("1.0-1", "1.0.post1"),
            ("1.0_a_1", "1.0a1"),
            ("1.0+ABC.5", "1.0+abc-5"),
        ] {
            assert_eq!(compare(a, b), Ordering::Equal, "{a} == {b}");
        }
        // Numbers far beyond u64/u128 stay exact.
        assert_eq!(
            compare(
                "1.100000000000000000000000000000000000000001",
                "1.100000000000000000000000000000000000000000"
            ),
            Ordering::Greater
        );
        assert_eq!(
            compare("1.0000000000000000000000000000000000000000002", "1.2"),
            Ordering::Equal
        );
        // Invalid versions: after every valid one, then by bytes.
        assert_eq!(compare("lolwat", "99999!9"), Ordering::Greater);
        assert_eq!(compare("abc", "abd"), Ordering::Less);
        assert_eq!(compare("", "0"), Ordering::Greater);
        // Python's strip() also removes the ASCII separators U+001C..U+001F.
        assert_eq!(compare("\u{1f}1.0\u{1c}", "1.0"), Ordering::Equal);
    }
}
