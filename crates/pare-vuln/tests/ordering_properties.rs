//! Order laws for every version comparator this crate exposes: matching an
//! advisory range sorts and bisects versions, which is only sound if
//! `compare` is a total preorder — reflexive, antisymmetric, transitive —
//! and never panics, whatever text a package database hands us.
//!
//! Each comparator gets three input strategies: version-like strings from a
//! regex with small numbers (so equal and adjacent versions are common and
//! the laws are exercised on the interesting cases), near-misses drawn from
//! the characters versions use (mostly invalid, exercising the documented
//! order of invalid strings), and arbitrary Unicode strings.

use std::cmp::Ordering;

use pare_vuln::version::{golang, pep440, semver};
use proptest::prelude::*;

/// The three laws over one triple, with the failing law named.
fn check_laws(cmp: fn(&str, &str) -> Ordering, a: &str, b: &str, c: &str) {
    for x in [a, b, c] {
        assert_eq!(cmp(x, x), Ordering::Equal, "reflexivity: {x:?}");
    }
    for (x, y) in [(a, b), (b, c), (a, c)] {
        assert_eq!(cmp(x, y), cmp(y, x).reverse(), "antisymmetry: {x:?} {y:?}");
    }
    // Transitivity in every arrangement of the triple: x <= y <= z implies
    // x <= z, strictly if either step is strict.
    for (x, y, z) in [
        (a, b, c),
        (a, c, b),
        (b, a, c),
        (b, c, a),
        (c, a, b),
        (c, b, a),
    ] {
        let (xy, yz, xz) = (cmp(x, y), cmp(y, z), cmp(x, z));
        if xy != Ordering::Greater && yz != Ordering::Greater {
            let want = if xy == Ordering::Equal { yz } else { xy };
            assert_eq!(xz, want, "transitivity: {x:?} {y:?} {z:?}");
        }
    }
}

fn near_miss() -> impl Strategy<Value = String> {
    "[0-9a-zA-Z.+!_= -]{0,12}"
}

/// Strings PEP 440 (as `packaging` reads it) accepts, with small numbers.
const PEP440_GRAMMAR: &str = "[vV]?([0-2]!)?0?[0-2](\\.0?[0-2]){0,3}([-_.]?(a|b|c|rc|alpha|beta|pre|preview|RC)[0-2]?)?(\\.post[0-2]?|-[0-2]|[-.]?r(ev)?[0-2])?([-.]?dev[0-2]?)?(\\+[a-c0-2]{1,2}([-_.][a-c0-2]{1,2}){0,2})?";

fn pep440_like() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => PEP440_GRAMMAR,
        1 => near_miss(),
        1 => any::<String>(),
    ]
}

fn semver_like() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[v= ]{0,2}0?[0-2](\\.0?[0-2](\\.0?[0-2])?)?(-(0?[0-2]|[a-cA-C-]{1,2})(\\.(0?[0-2]|[a-c-]{1,2})){0,2})?(\\+[0-9a-z]{1,3})?",
        1 => near_miss(),
        1 => any::<String>(),
    ]
}

fn golang_like() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "v?0?[0-2](\\.0?[0-2](\\.0?[0-2](-(0?[0-2]|[a-c-]{1,2})(\\.(0?[0-2]|[a-c-]{1,2})){0,2})?)?)?(\\+(incompatible|[0-9a-z]{1,3}))?",
        1 => near_miss(),
        1 => any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn pep440_is_a_total_preorder(a in pep440_like(), b in pep440_like(), c in pep440_like()) {
        check_laws(pep440::compare, &a, &b, &c);
    }

    #[test]
    fn semver_is_a_total_preorder(a in semver_like(), b in semver_like(), c in semver_like()) {
        check_laws(semver::compare, &a, &b, &c);
    }

    #[test]
    fn golang_is_a_total_preorder(a in golang_like(), b in golang_like(), c in golang_like()) {
        check_laws(golang::compare, &a, &b, &c);
    }

    /// Parsing never panics on any string.
    #[test]
    fn parsers_never_panic(s in any::<String>(), t in near_miss()) {
        for x in [&s, &t] {
            let _ = pep440::parse(x);
            let _ = semver::parse(x);
            let _ = golang::parse(x);
        }
    }

    /// Everything the PEP 440 grammar generates parses: the properties
    /// above are not vacuously about invalid strings.
    #[test]
    fn pep440_grammar_parses(a in PEP440_GRAMMAR) {
        prop_assert!(pep440::parse(&a).is_ok(), "{:?}", a);
    }

    /// A PEP 440 version equals its own normalised form, and normalising is
    /// idempotent: the Display output is what packaging would print.
    #[test]
    fn pep440_normal_form_round_trips(a in pep440_like()) {
        if let Ok(v) = pep440::parse(&a) {
            let normal = v.to_string();
            prop_assert_eq!(pep440::compare(&a, &normal), Ordering::Equal);
            let again = pep440::parse(&normal).map(|w| w.to_string());
            prop_assert_eq!(again.as_deref(), Ok(normal.as_str()));
        }
    }
}
