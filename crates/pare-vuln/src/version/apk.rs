//! apk version ordering, as apk-tools' `apk_version_compare` orders Alpine
//! package versions (src/version.c, alpinelinux/apk-tools @ 90b974fd8510).
//!
//! A valid version is `digit{.digit}...{letter}{_suf{#}}...{~hash}{-r#}`.
//! apk reads it as a run of tokens and compares the two runs token by
//! token while both have the same kind of token:
//!
//! * numbers by value, except a dotted number with a leading zero on either
//!   side, which compares as a string (Gentoo's rule: `1.01 < 1.1`);
//! * one lowercase letter by its byte;
//! * suffixes `_alpha < _beta < _pre < _rc < (none) < _cvs < _svn < _git <
//!   _hg < _p`, then the suffix's number;
//! * `~hash` as a string; `-rN` by value.
//!
//! Where the kinds first differ, a pre-release suffix (`_alpha` … `_rc`) is
//! older than anything; otherwise the version that still has a more
//! significant token is newer (digit > letter > suffix > suffix number >
//! hash > revision > end > invalid).
//!
//! Invalid versions are not rejected: apk stops reading at the first token
//! that breaks the grammar and treats that spot as an "invalid" token, which
//! sorts below the end of a valid version; two versions that turn invalid at
//! the same token are equal from there on. So `1.0 < 1.0bc` (the vector
//! file's "invalid. do string sort" is an old comment: apk-tools no longer
//! sorts such strings as strings). Numbers compare by value without the
//! `u64` wrap-around apk-tools would have on more than 19 digits.

use std::cmp::Ordering;

/// Compares two apk versions: `Less` when `a` is older than `b`.
///
/// Total on all strings and never panics; invalid versions are ordered as
/// apk-tools orders them (module docs).
pub fn compare(a: &str, b: &str) -> Ordering {
    compare_fuzzy(a, b, false)
}

/// Whether `a` matches `b` under apk's fuzzy `~` operator: equal, or equal
/// on every token `b` has (`3.6.9 ~ 3.6`, `3.6_pre1 ~ 3.6`).
///
/// apk's `<~` is `compare(a, b) == Less || fuzzy_match(a, b)`, and `>~`
/// likewise with `Greater`.
pub fn fuzzy_match(a: &str, b: &str) -> bool {
    compare_fuzzy(a, b, true) == Ordering::Equal
}

/// Whether `v` is a valid apk version (`apk_version_validate`).
pub fn is_valid(v: &str) -> bool {
    let mut t = Tokens::new(v);
    loop {
        match t.next_token() {
            Token::End => return true,
            Token::Invalid => return false,
            _ => {}
        }
    }
}

/// One token of a version. The variants are declared in apk's order of
/// token kinds, which decides the comparison where two versions' kinds
/// first differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// The leading number: always first, compared by value.
    InitialDigit(&'a str),
    /// A number after a `.`.
    Digit(&'a str),
    Letter(u8),
    Suffix(Suffix),
    SuffixNo(&'a str),
    CommitHash(&'a str),
    RevisionNo(&'a str),
    End,
    Invalid,
}

impl Token<'_> {
    /// apk's `enum PARTS` value: a larger kind is a less significant token,
    /// so the version whose token has the larger kind is the older.
    fn kind(&self) -> u8 {
        match self {
            Token::InitialDigit(_) => 0,
            Token::Digit(_) => 1,
            Token::Letter(_) => 2,
            Token::Suffix(_) => 3,
            Token::SuffixNo(_) => 4,
            Token::CommitHash(_) => 5,
            Token::RevisionNo(_) => 6,
            Token::End => 7,
            Token::Invalid => 8,
        }
    }
}

/// Version suffixes in apk's order; `None` (no suffix) sits between the
/// pre-release ones and the post-release ones and is never a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Suffix {
    Alpha,
    Beta,
    Pre,
    Rc,
    None,
    Cvs,
    Svn,
    Git,
    Hg,
    P,
}

impl Suffix {
    fn parse(s: &str) -> Option<Suffix> {
        Some(match s {
            "alpha" => Suffix::Alpha,
            "beta" => Suffix::Beta,
            "pre" => Suffix::Pre,
            "rc" => Suffix::Rc,
            "cvs" => Suffix::Cvs,
            "svn" => Suffix::Svn,
            "git" => Suffix::Git,
            "hg" => Suffix::Hg,
            "p" => Suffix::P,
            _ => return None,
        })
    }

    fn is_prerelease(self) -> bool {
        self < Suffix::None
    }
}

/// apk's tokenizer (`token_first` / `token_next`): yields tokens, then
/// `End` or `Invalid` for ever.
struct Tokens<'a> {
    rest: &'a str,
    /// The kind of the previous token, `None` before the first; the grammar
    /// allows a token only after certain kinds.
    prev: Option<u8>,
    /// Sticky once reached, like apk's loop which stops there.
    done: Option<Token<'a>>,
}

impl<'a> Tokens<'a> {
    fn new(v: &'a str) -> Self {
        Tokens {
            rest: v,
            prev: None,
            done: None,
        }
    }

    /// Takes the leading ASCII digits of `rest`; `None` if there are none.
    fn digits(&mut self) -> Option<&'a str> {
        let n = self.rest.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let (d, rest) = self.rest.split_at(n);
        self.rest = rest;
        Some(d)
    }

    fn next_token(&mut self) -> Token<'a> {
        if let Some(t) = self.done {
            return t;
        }
        let t = self.read().unwrap_or(Token::Invalid);
        if matches!(t, Token::End | Token::Invalid) {
            self.done = Some(t);
        }
        self.prev = Some(t.kind());
        t
    }

    /// Reads one token; `None` where the grammar breaks.
    fn read(&mut self) -> Option<Token<'a>> {
        const DIGIT: u8 = 1;
        const SUFFIX: u8 = 3;
        const SUFFIX_NO: u8 = 4;
        const COMMIT_HASH: u8 = 5;
        const REVISION_NO: u8 = 6;

        let Some(prev) = self.prev else {
            return self.digits().map(Token::InitialDigit);
        };
        let Some(&first) = self.rest.as_bytes().first() else {
            return Some(Token::End);
        };
        match first {
            b'a'..=b'z' => {
                if prev > DIGIT {
                    return None;
                }
                self.rest = &self.rest[1..];
                Some(Token::Letter(first))
            }
            b'.' | b'0'..=b'9' => {
                if first == b'.' {
                    if prev > DIGIT {
                        return None;
                    }
                    self.rest = &self.rest[1..];
                }
                // Digits continue a number only after a number (a dotted
                // one) or after a suffix (its number).
                let make: fn(&'a str) -> Token<'a> = match prev {
                    0 | DIGIT => Token::Digit,
                    SUFFIX => Token::SuffixNo,
                    _ => return None,
                };
                self.digits().map(make)
            }
            b'_' => {
                if prev > SUFFIX_NO {
                    return None;
                }
                let body = &self.rest[1..];
                let n = body.bytes().take_while(u8::is_ascii_lowercase).count();
                let (name, rest) = body.split_at(n);
                self.rest = rest;
                Suffix::parse(name).map(Token::Suffix)
            }
            b'~' => {
                if prev >= COMMIT_HASH {
                    return None;
                }
                let body = &self.rest[1..];
                let n = body
                    .bytes()
                    .take_while(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
                    .count();
                if n == 0 {
                    return None;
                }
                let (hash, rest) = body.split_at(n);
                self.rest = rest;
                Some(Token::CommitHash(hash))
            }
            b'-' => {
                if prev >= REVISION_NO {
                    return None;
                }
                self.rest = self.rest.strip_prefix("-r")?;
                self.digits().map(Token::RevisionNo)
            }
            _ => None,
        }
    }
}

/// Compares two digit strings by value: longer (after leading zeros) is
/// larger, then the first differing digit. Exact for any length.
fn cmp_number(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// apk's `token_cmp`, for two tokens of the same kind.
fn token_cmp(a: &Token<'_>, b: &Token<'_>) -> Ordering {
    match (a, b) {
        // Gentoo's rule: a leading zero on either side makes both strings.
        (Token::Digit(x), Token::Digit(y)) if x.starts_with('0') || y.starts_with('0') => {
            x.as_bytes().cmp(y.as_bytes())
        }
        (Token::Digit(x), Token::Digit(y))
        | (Token::InitialDigit(x), Token::InitialDigit(y))
        | (Token::SuffixNo(x), Token::SuffixNo(y))
        | (Token::RevisionNo(x), Token::RevisionNo(y)) => cmp_number(x, y),
        (Token::Letter(x), Token::Letter(y)) => x.cmp(y),
        (Token::Suffix(x), Token::Suffix(y)) => x.cmp(y),
        (Token::CommitHash(x), Token::CommitHash(y)) => x.as_bytes().cmp(y.as_bytes()),
        _ => Ordering::Equal,
    }
}

/// apk's `apk_version_compare_fuzzy`.
fn compare_fuzzy(a: &str, b: &str, fuzzy: bool) -> Ordering {
    let (mut ta, mut tb) = (Tokens::new(a), Tokens::new(b));
    let (mut x, mut y) = (ta.next_token(), tb.next_token());
    // Walk while both have a token of the same kind.
    while x.kind() == y.kind() && !matches!(x, Token::End | Token::Invalid) {
        let r = token_cmp(&x, &y);
        if r != Ordering::Equal {
            return r;
        }
        x = ta.next_token();
        y = tb.next_token();
    }
    // Both ended, or both broke the grammar at the same token.
    if x.kind() == y.kind() {
        return Ordering::Equal;
    }
    // Fuzzy: `a` matches when it has every token `b` has.
    if fuzzy && y == Token::End {
        return Ordering::Equal;
    }
    // A pre-release suffix is older than whatever the other side has.
    if matches!(x, Token::Suffix(s) if s.is_prerelease()) {
        return Ordering::Less;
    }
    if matches!(y, Token::Suffix(s) if s.is_prerelease()) {
        return Ordering::Greater;
    }
    // Otherwise the more significant token (smaller kind) is newer.
    y.kind().cmp(&x.kind())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes() {
        assert_eq!(compare("1.0_rc1", "1.0"), Ordering::Less);
        assert_eq!(compare("1.0_p1", "1.0"), Ordering::Greater);
        assert_eq!(compare("1.0_alpha", "1.0_beta"), Ordering::Less);
        assert_eq!(compare("1.0_git1", "1.0_hg1"), Ordering::Less);
        assert_eq!(compare("1.0_pre2", "1.0_pre10"), Ordering::Less);
    }

    #[test]
    fn leading_zero_is_a_string() {
        assert_eq!(compare("1.01", "1.1"), Ordering::Less);
        assert_eq!(compare("1.010", "1.09"), Ordering::Less);
        assert_eq!(compare("01", "1"), Ordering::Equal);
    }

    #[test]
    fn revision_and_big_numbers() {
        assert_eq!(compare("1.0-r10", "1.0-r9"), Ordering::Greater);
        assert_eq!(
            compare("1.99999999999999999999999", "1.100000000000000000000000"),
            Ordering::Less
        );
    }

    #[test]
    fn invalid_sorts_below_end() {
        assert!(!is_valid("1.0bc"));
        assert_eq!(compare("1.0", "1.0bc"), Ordering::Less);
        assert_eq!(compare("1.0bc", "1.0bd"), Ordering::Equal);
        assert_eq!(compare("", "0"), Ordering::Less);
        assert_eq!(compare("", "a"), Ordering::Equal);
    }

    #[test]
    fn validity() {
        for v in ["1", "1.2.3a_alpha1_p2~abc-r3", "0.1_pre2~1234abcd"] {
            assert!(is_valid(v), "{v}");
        }
        for v in ["", "a", "1.", "1-r", "1_", "1~", "1A", "1.0-r1-r2", "1é"] {
            assert!(!is_valid(v), "{v}");
        }
    }
}
