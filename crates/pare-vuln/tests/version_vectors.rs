//! Upstream vectors for the dpkg, apk and rpm orderings, plus properties
//! every ordering must have (a sort or a range match relies on them).
//!
//! The data files are copied unchanged from their upstreams; see
//! `tests/data/README.md`. Each test checks every line and reports every
//! failing line with its number, so a regression shows all it breaks.

use std::cmp::Ordering;

use pare_vuln::version::{apk, dpkg, rpm};
use proptest::prelude::*;

const DPKG_VECTORS: &str = include_str!("data/dpkg-version-compare.txt");
const APK_VECTORS: &str = include_str!("data/apk-version.data");

fn ordering(n: i32) -> Ordering {
    n.cmp(&0)
}

/// Fails with every failing line, numbered from 1, and asserts that the
/// file had as many checked lines as expected, so a parser that silently
/// skips lines cannot pass.
fn report(name: &str, checked: usize, expected_checked: usize, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{name}: {} of {checked} lines fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(checked, expected_checked, "{name}: lines checked");
}

#[test]
fn dpkg_vectors() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (n, line) in DPKG_VECTORS.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let [a, b, expected] = fields[..] else {
            failures.push(format!("line {}: {line:?}: not `A B expected`", n + 1));
            continue;
        };
        checked += 1;
        let Ok(expected) = expected.parse::<i32>() else {
            failures.push(format!("line {}: {line:?}: bad expected value", n + 1));
            continue;
        };
        let got = dpkg::compare(a, b);
        if got != ordering(expected) {
            failures.push(format!("line {}: {line:?}: got {got:?}", n + 1));
        }
    }
    report("dpkg-version-compare.txt", checked, 43, &failures);
}

/// One line of apk-tools' `version.data`, judged as its `version_test.c`
/// judges it: `ver1 [!]op ver2` is a comparison, a lone `[!]version` a
/// validity check; `#` starts a comment.
fn apk_line_ok(line: &str) -> Option<bool> {
    let line = line.split('#').next().unwrap_or("").trim();
    if line.is_empty() {
        return None;
    }
    let fields: Vec<&str> = line.split(' ').collect();
    Some(match fields[..] {
        [a, op, b] => {
            let (invert, op) = match op.strip_prefix('!') {
                Some(op) => (true, op),
                None => (false, op),
            };
            let ord = apk::compare(a, b);
            let fuzzy = apk::fuzzy_match(a, b);
            let ok = match op {
                "<" => ord == Ordering::Less,
                ">" => ord == Ordering::Greater,
                "=" => ord == Ordering::Equal,
                "~" => fuzzy,
                "<~" => ord == Ordering::Less || fuzzy,
                ">~" => ord == Ordering::Greater || fuzzy,
                _ => return Some(false),
            };
            ok != invert
        }
        [v] => match v.strip_prefix('!') {
            Some(v) => !apk::is_valid(v),
            None => apk::is_valid(v),
        },
        _ => false,
    })
}

#[test]
fn apk_vectors() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (n, line) in APK_VECTORS.lines().enumerate() {
        match apk_line_ok(line) {
            None => {}
            Some(ok) => {
                checked += 1;
                if !ok {
                    failures.push(format!("line {}: {line:?}", n + 1));
                }
            }
        }
    }
    report("apk-version.data", checked, APK_CHECKED_LINES, &failures);
}

/// Lines of `apk-version.data` that are not blank or comments.
const APK_CHECKED_LINES: usize = 785;

/// rpm's own `rpmvercmp` cases, copied from rpm-software-management/rpm
/// `tests/rpmvercmp.at` @ a8f0192aee1c (the `RPMVERCMP(a, b, expected)`
/// lines), in their order.
const RPMVERCMP_CASES: &[(&str, &str, i32)] = &[
    ("1.0", "1.0", 0),
    ("1.0", "2.0", -1),
    ("2.0", "1.0", 1),
    ("2.0.1", "2.0.1", 0),
    ("2.0", "2.0.1", -1),
    ("2.0.1", "2.0", 1),
    ("2.0.1a", "2.0.1a", 0),
    ("2.0.1a", "2.0.1", 1),
    ("2.0.1", "2.0.1a", -1),
    ("5.5p1", "5.5p1", 0),
    ("5.5p1", "5.5p2", -1),
    ("5.5p2", "5.5p1", 1),
    ("5.5p10", "5.5p10", 0),
    ("5.5p1", "5.5p10", -1),
    ("5.5p10", "5.5p1", 1),
    ("10xyz", "10.1xyz", -1),
    ("10.1xyz", "10xyz", 1),
    ("xyz10", "xyz10", 0),
    ("xyz10", "xyz10.1", -1),
    ("xyz10.1", "xyz10", 1),
    ("xyz.4", "xyz.4", 0),
    ("xyz.4", "8", -1),
    ("8", "xyz.4", 1),
    ("xyz.4", "2", -1),
    ("2", "xyz.4", 1),
    ("5.5p2", "5.6p1", -1),
    ("5.6p1", "5.5p2", 1),
    ("5.6p1", "6.5p1", -1),
    ("6.5p1", "5.6p1", 1),
    ("6.0.rc1", "6.0", 1),
    ("6.0", "6.0.rc1", -1),
    ("10b2", "10a1", 1),
    ("10a2", "10b2", -1),
    ("1.0aa", "1.0aa", 0),
    ("1.0a", "1.0aa", -1),
    ("1.0aa", "1.0a", 1),
    ("10.0001", "10.0001", 0),
    ("10.0001", "10.1", 0),
    ("10.1", "10.0001", 0),
    ("10.0001", "10.0039", -1),
    ("10.0039", "10.0001", 1),
    ("4.999.9", "5.0", -1),
    ("5.0", "4.999.9", 1),
    ("20101121", "20101121", 0),
    ("20101121", "20101122", -1),
    ("20101122", "20101121", 1),
    ("2_0", "2_0", 0),
    ("2.0", "2_0", 0),
    ("2_0", "2.0", 0),
    ("a", "a", 0),
    ("a+", "a+", 0),
    ("a+", "a_", 0),
    ("a_", "a+", 0),
    ("+a", "+a", 0),
    ("+a", "_a", 0),
    ("_a", "+a", 0),
    ("+_", "+_", 0),
    ("_+", "+_", 0),
    ("_+", "_+", 0),
    ("+", "_", 0),
    ("_", "+", 0),
    ("1.0~rc1", "1.0~rc1", 0),
    ("1.0~rc1", "1.0", -1),
    ("1.0", "1.0~rc1", 1),
    ("1.0~rc1", "1.0~rc2", -1),
    ("1.0~rc2", "1.0~rc1", 1),
    ("1.0~rc1~git123", "1.0~rc1~git123", 0),
    ("1.0~rc1~git123", "1.0~rc1", -1),
    ("1.0~rc1", "1.0~rc1~git123", 1),
    ("1.0^", "1.0^", 0),
    ("1.0^", "1.0", 1),
    ("1.0", "1.0^", -1),
    ("1.0^git1", "1.0^git1", 0),
    ("1.0^git1", "1.0", 1),
    ("1.0", "1.0^git1", -1),
    ("1.0^git1", "1.0^git2", -1),
    ("1.0^git2", "1.0^git1", 1),
    ("1.0^git1", "1.01", -1),
    ("1.01", "1.0^git1", 1),
    ("1.0^20160101", "1.0^20160101", 0),
    ("1.0^20160101", "1.0.1", -1),
    ("1.0.1", "1.0^20160101", 1),
    ("1.0^20160101^git1", "1.0^20160101^git1", 0),
    ("1.0^20160102", "1.0^20160101^git1", 1),
    ("1.0^20160101^git1", "1.0^20160102", -1),
    ("1.0~rc1^git1", "1.0~rc1^git1", 0),
    ("1.0~rc1^git1", "1.0~rc1", 1),
    ("1.0~rc1", "1.0~rc1^git1", -1),
    ("1.0^git1~pre", "1.0^git1~pre", 0),
    ("1.0^git1", "1.0^git1~pre", 1),
    ("1.0^git1~pre", "1.0^git1", -1),
];

/// The same file's "oddities" (RhBug:811992, non-ASCII bytes as separators),
/// which it keeps commented out (`dnl`) to document current behaviour; rpm
/// still behaves so, and so must we.
const RPMVERCMP_ODDITIES: &[(&str, &str, i32)] = &[
    ("1b.fc17", "1b.fc17", 0),
    ("1b.fc17", "1.fc17", -1),
    ("1.fc17", "1b.fc17", 1),
    ("1g.fc17", "1g.fc17", 0),
    ("1g.fc17", "1.fc17", 1),
    ("1.fc17", "1g.fc17", -1),
    ("1.1.α", "1.1.α", 0),
    ("1.1.α", "1.1.β", 0),
    ("1.1.β", "1.1.α", 0),
    ("1.1.αα", "1.1.α", 0),
    ("1.1.α", "1.1.ββ", 0),
    ("1.1.ββ", "1.1.αα", 0),
];

#[test]
fn rpmvercmp_cases() {
    let mut failures = Vec::new();
    for (n, &(a, b, expected)) in RPMVERCMP_CASES.iter().chain(RPMVERCMP_ODDITIES).enumerate() {
        let got = rpm::rpmvercmp(a, b);
        if got != ordering(expected) {
            failures.push(format!("case {n}: ({a:?}, {b:?}, {expected}): got {got:?}"));
        }
        // Without `-` or `:` the full EVR order is rpmvercmp itself.
        let full = rpm::compare(a, b);
        if full != got {
            failures.push(format!("case {n}: ({a:?}, {b:?}): compare gave {full:?}"));
        }
    }
    let total = RPMVERCMP_CASES.len() + RPMVERCMP_ODDITIES.len();
    report("rpmvercmp.at", total, 103, &failures);
}

type Compare = fn(&str, &str) -> Ordering;

const ORDERS: [(&str, Compare); 4] = [
    ("dpkg", dpkg::compare),
    ("apk", apk::compare),
    ("rpm", rpm::compare),
    ("rpmvercmp", rpm::rpmvercmp),
];

/// Version-like strings: numbers, letters and every separator the three
/// formats give meaning to, so the generated triples hit epochs, suffixes,
/// revisions, `~` and `^`, not just noise.
fn version_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,3}(:)?[0-9]{1,3}([.][0-9]{1,2}){0,3}[a-c]?(_(alpha|beta|pre|rc|p|git)[0-9]?)?(~[0-9a-f]{1,3})?(-r?[0-9]{1,2})?",
        "[0-9a-c.~^_+:-]{0,10}",
        "[0-9]{1,2}([.~^_-][0-9a-b]{1,2}){0,4}",
    ]
}

/// Version-like strings mostly, arbitrary Unicode now and then.
fn any_version() -> impl Strategy<Value = String> {
    prop_oneof![4 => version_like(), 1 => any::<String>()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn reflexive(a in any_version()) {
        for (name, cmp) in ORDERS {
            prop_assert_eq!(cmp(&a, &a), Ordering::Equal, "{}", name);
        }
    }

    #[test]
    fn antisymmetric(a in any_version(), b in any_version()) {
        for (name, cmp) in ORDERS {
            prop_assert_eq!(cmp(&a, &b), cmp(&b, &a).reverse(), "{}", name);
        }
    }

    #[test]
    fn transitive(a in any_version(), b in any_version(), c in any_version()) {
        for (name, cmp) in ORDERS {
            // Every ordering of the triple: x <= y <= z must give x <= z,
            // strictly if either step is strict. (Not via sort: Rust's sort
            // may panic on a comparator that is not a total order.)
            let t = [a.as_str(), b.as_str(), c.as_str()];
            for (i, j, k) in [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)] {
                let (x, y, z) = (t[i], t[j], t[k]);
                let (xy, yz, xz) = (cmp(x, y), cmp(y, z), cmp(x, z));
                if xy != Ordering::Greater && yz != Ordering::Greater {
                    let want = if xy == Ordering::Less || yz == Ordering::Less {
                        Ordering::Less
                    } else {
                        Ordering::Equal
                    };
                    prop_assert_eq!(xz, want, "{}: {:?} {:?} {:?}", name, x, y, z);
                }
            }
        }
    }

    #[test]
    fn never_panics(a in any::<String>(), b in any_version()) {
        for (_, cmp) in ORDERS {
            let _ = cmp(&a, &b);
            let _ = cmp(&b, &a);
        }
        let _ = apk::is_valid(&a);
        let _ = apk::fuzzy_match(&a, &b);
        let _ = apk::fuzzy_match(&b, &a);
    }
}
