//! dpkg version ordering, as `dpkg --compare-versions` and `Dpkg::Version`
//! order Debian package versions.
//!
//! A version is `[epoch:]upstream[-revision]`: the epoch ends at the first
//! `:`, the revision starts after the last `-` (so upstream may contain
//! hyphens). Epochs compare as numbers, then upstream and revision with
//! dpkg's `verrevcmp` (lib/dpkg/version.c): alternating runs of non-digits
//! and digits, where in non-digit runs `~` sorts before everything (even
//! the end of the string), letters sort before non-letters, and digit runs
//! compare as numbers. A missing epoch is 0 and a missing revision is "",
//! which `verrevcmp` treats like "0".
//!
//! What dpkg rejects, we still order, because a scanner must never panic on
//! an odd string in a package database:
//!
//! * An epoch that is empty or not all ASCII digits (`a:1`, `:1`): dpkg
//!   refuses such a version. We call it *invalid* and sort every invalid
//!   version before every valid one, invalid ones among themselves by their
//!   bytes. That keeps the order total without inventing a meaning.
//! * An epoch larger than dpkg's `INT_MAX` limit is compared by its value
//!   anyway (digit strings, no overflow).
//! * An empty revision (`1.0-`) and characters dpkg warns about are
//!   compared by `verrevcmp` as they stand.
//! * Bytes above 0x7f sort as dpkg sorts them where `char` is unsigned: after
//!   letters, with the other non-letters, by value.

use std::cmp::Ordering;

/// Compares two dpkg versions: `Less` when `a` is older than `b`.
///
/// Total on all strings (see the module docs for versions dpkg rejects)
/// and never panics.
pub fn compare(a: &str, b: &str) -> Ordering {
    match (parse(a), parse(b)) {
        (Some(va), Some(vb)) => cmp_digits(va.epoch.as_bytes(), vb.epoch.as_bytes())
            .then_with(|| verrevcmp(va.upstream, vb.upstream))
            .then_with(|| verrevcmp(va.revision, vb.revision)),
        // Invalid before valid, so the order stays total (module docs).
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// A version split as dpkg's `parseversion` splits it.
struct Version<'a> {
    /// The epoch's digits; "" when there is no epoch (numerically 0).
    epoch: &'a str,
    upstream: &'a str,
    /// "" when there is no `-`; `verrevcmp` makes "" equal to "0".
    revision: &'a str,
}

/// Splits `[epoch:]upstream[-revision]`; `None` when the epoch is empty or
/// not a number, which dpkg rejects.
fn parse(v: &str) -> Option<Version<'_>> {
    // dpkg trims surrounding whitespace before parsing.
    let v = v.trim_matches(|c: char| c.is_ascii_whitespace());
    let (epoch, rest) = match v.split_once(':') {
        Some((e, rest)) => {
            if e.is_empty() || !e.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            (e, rest)
        }
        None => ("", v),
    };
    let (upstream, revision) = rest.rsplit_once('-').unwrap_or((rest, ""));
    Some(Version {
        epoch,
        upstream,
        revision,
    })
}

/// Compares two strings of ASCII digits by value, without overflow: strip
/// leading zeros, then the longer is larger, then the first differing digit
/// decides. "" is 0.
fn cmp_digits(a: &[u8], b: &[u8]) -> Ordering {
    let strip = |s: &[u8]| -> usize { s.iter().take_while(|&&c| c == b'0').count() };
    let (a, b) = (&a[strip(a)..], &b[strip(b)..]);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// dpkg's `order()`: the weight of one byte of a non-digit run, 0 standing
/// for both a digit and the end of the string.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`: compares one upstream version or one revision.
fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let non_digit = |s: &[u8], k: usize| s.get(k).is_some_and(|c| !c.is_ascii_digit());
    let digit = |s: &[u8], k: usize| s.get(k).is_some_and(u8::is_ascii_digit);
    while i < a.len() || j < b.len() {
        // The non-digit run, byte by byte; the end of a string weighs like a
        // digit (0), so `~` sorts before the end and anything else after it.
        while non_digit(a, i) || non_digit(b, j) {
            let (ac, bc) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            // Equal weights here mean two equal non-digit bytes: one side
            // is a non-digit, whose weight is never 0.
            i += 1;
            j += 1;
        }
        // The digit run, by value.
        let start_a = i;
        while digit(a, i) {
            i += 1;
        }
        let start_b = j;
        while digit(b, j) {
            j += 1;
        }
        let ord = cmp_digits(&a[start_a..i], &b[start_b..j]);
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_sorts_before_the_end() {
        assert_eq!(compare("1.0~rc1", "1.0"), Ordering::Less);
        assert_eq!(compare("1.0~~", "1.0~"), Ordering::Less);
        assert_eq!(compare("1.0~", "1.0"), Ordering::Less);
    }

    #[test]
    fn letters_before_non_letters() {
        assert_eq!(compare("1.0a", "1.0+"), Ordering::Less);
        assert_eq!(compare("1.0a", "1.0"), Ordering::Greater);
    }

    #[test]
    fn digits_compare_by_value_without_overflow() {
        let big = "1.123456789012345678901234567890";
        let bigger = "1.123456789012345678901234567891";
        assert_eq!(compare(big, bigger), Ordering::Less);
        assert_eq!(compare("1.0009", "1.9"), Ordering::Equal);
        assert_eq!(
            compare("99999999999999999999999:1", "2:1"),
            Ordering::Greater
        );
    }

    #[test]
    fn epoch_and_revision() {
        assert_eq!(compare("1:1.0", "2.0"), Ordering::Greater);
        assert_eq!(compare("0:1.0", "1.0"), Ordering::Equal);
        assert_eq!(compare("1.0-1", "1.0-0"), Ordering::Greater);
        // The revision starts at the last hyphen.
        assert_eq!(compare("1.0-2-1", "1.0-10-1"), Ordering::Less);
        assert_eq!(compare("1.0", "1.0-0"), Ordering::Equal);
        // Upstream may hold a colon once there is an epoch.
        assert_eq!(compare("1:2:3", "1:2:3"), Ordering::Equal);
    }

    #[test]
    fn invalid_epochs_sort_first_by_bytes() {
        assert_eq!(compare("a:1", "0"), Ordering::Less);
        assert_eq!(compare(":1", "0~"), Ordering::Less);
        assert_eq!(compare("a:1", "b:1"), Ordering::Less);
        assert_eq!(compare("a:1", "a:1"), Ordering::Equal);
        assert_eq!(compare("0", "x:9"), Ordering::Greater);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for s in ["", ":", "-", "~", "é:1", "1:é-ü", "\u{0}", "1-", "--"] {
            let _ = compare(s, "1.0");
            let _ = compare("1.0", s);
        }
    }
}
