//! rpm version ordering: `rpmvercmp` (rpmio/rpmvercmp.cc) on each part of
//! `[epoch:]version[-release]`, split and combined as `rpmverParse` and
//! `rpmverCmp` do (rpmio/rpmver.cc), with rpm ≥ 4.15's caret
//! (rpm-software-management/rpm @ a8f0192aee1c).
//!
//! `rpmvercmp` drops every byte that is not an ASCII letter, digit, `~` or
//! `^` (so `1.0 == 1_0`, and non-ASCII letters are separators), then compares
//! what is left as a run of segments: `~` sorts before everything (even the
//! end), `^` after the end but before anything else, a digit segment beats a
//! letter segment, digit segments compare by value (leading zeros ignored,
//! no overflow), letter segments by bytes, and the side with segments left
//! over wins.
//!
//! EVR: the epoch is the leading digits when a `:` follows them (`:1` has
//! epoch 0); a missing epoch is 0. The release follows the last `-` after
//! the epoch. A missing release sorts before any release, even an empty one
//! (`1.0 < 1.0-`), as `rpmverCmp` orders them; rpm's dependency matching,
//! which lets a missing release match any, is not an ordering and is not
//! here.

use std::cmp::Ordering;

/// Compares two rpm `[epoch:]version[-release]` strings: `Less` when `a` is
/// older than `b`. Total on all strings and never panics.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ea, va, ra) = parse_evr(a);
    let (eb, vb, rb) = parse_evr(b);
    rpmvercmp(ea, eb)
        .then_with(|| rpmvercmp(va, vb))
        // `Option`'s order is rpm's `compare_values`: missing < present.
        .then_with(|| match (ra, rb) {
            (Some(x), Some(y)) => rpmvercmp(x, y),
            (x, y) => x.is_some().cmp(&y.is_some()),
        })
}

/// Splits `[epoch:]version[-release]` as rpm's `parseEVR`; the epoch is "0"
/// when missing or empty.
fn parse_evr(evr: &str) -> (&str, &str, Option<&str>) {
    let n = evr.bytes().take_while(u8::is_ascii_digit).count();
    let (epoch, rest) = match evr[n..].strip_prefix(':') {
        Some(rest) if n > 0 => (&evr[..n], rest),
        Some(rest) => ("0", rest),
        None => ("0", evr),
    };
    match rest.rsplit_once('-') {
        Some((version, release)) => (epoch, version, Some(release)),
        None => (epoch, rest, None),
    }
}

/// One segment as `rpmvercmp` sees it, declared from oldest to newest kind
/// at one position: `~` < end < `^` < letters < digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Segment<'a> {
    Tilde,
    End,
    Caret,
    Alpha(&'a [u8]),
    Digits(Digits<'a>),
}

/// A digit segment with its leading zeros dropped, so the derived order
/// (length, then bytes) is its value's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Digits<'a> {
    len: usize,
    digits: &'a [u8],
}

/// Splits one version or release into its segments, separators dropped.
fn segments(s: &str) -> impl Iterator<Item = Segment<'_>> {
    let s = s.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < s.len() && !(s[i].is_ascii_alphanumeric() || s[i] == b'~' || s[i] == b'^') {
            i += 1;
        }
        let start = i;
        let c = *s.get(i)?;
        i += 1;
        Some(match c {
            b'~' => Segment::Tilde,
            b'^' => Segment::Caret,
            c if c.is_ascii_digit() => {
                while s.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                let run = &s[start..i];
                let zeros = run.iter().take_while(|&&d| d == b'0').count();
                let digits = &run[zeros..];
                Segment::Digits(Digits {
                    len: digits.len(),
                    digits,
                })
            }
            _ => {
                while s.get(i).is_some_and(u8::is_ascii_alphabetic) {
                    i += 1;
                }
                Segment::Alpha(&s[start..i])
            }
        })
    })
    .chain(std::iter::once(Segment::End))
}

/// rpm's `rpmvercmp` on one part (epoch, version or release).
///
/// rpm walks both strings at once; comparing the two segment runs
/// lexicographically, ended by `End`, is the same decision: the first
/// position where the segments differ decides, in the order of [`Segment`].
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (mut sa, mut sb) = (segments(a), segments(b));
    loop {
        match (sa.next(), sb.next()) {
            (Some(x), Some(y)) => {
                let r = x.cmp(&y);
                if r != Ordering::Equal || x == Segment::End {
                    return r;
                }
            }
            // Each run ends with one `End`, compared above; not reached.
            _ => return Ordering::Equal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evr() {
        assert_eq!(compare("1:1.0-1", "2.0-1"), Ordering::Greater);
        assert_eq!(compare("0:1.0-1", "1.0-1"), Ordering::Equal);
        assert_eq!(compare(":1.0", "1.0"), Ordering::Equal);
        assert_eq!(compare("1.0-1", "1.0-2"), Ordering::Less);
        assert_eq!(compare("1.0", "1.0-1"), Ordering::Less);
        assert_eq!(compare("1.0", "1.0-"), Ordering::Less);
        assert_eq!(compare("1.0-1-2", "1.0-1-10"), Ordering::Less);
        // Not an epoch: letters before the colon.
        assert_eq!(compare("a:1", "a:1"), Ordering::Equal);
        assert_eq!(compare("10:1", "9:2"), Ordering::Greater);
        assert_eq!(compare("00010:1", "9:2"), Ordering::Greater);
    }

    #[test]
    fn no_overflow() {
        assert_eq!(
            rpmvercmp("1.99999999999999999999999", "1.100000000000000000000000"),
            Ordering::Less
        );
    }

    #[test]
    fn separators_and_non_ascii() {
        assert_eq!(rpmvercmp("1.0", "1_0"), Ordering::Equal);
        assert_eq!(rpmvercmp("1.0.", "1.0"), Ordering::Equal);
        assert_eq!(rpmvercmp("1.α", "1.β"), Ordering::Equal);
        assert_eq!(rpmvercmp("", "~"), Ordering::Greater);
        assert_eq!(rpmvercmp("", "^"), Ordering::Less);
    }
}
