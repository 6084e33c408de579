//! semver version ordering.

use std::cmp::Ordering;

/// Compares two semver versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    a.cmp(b)
}
