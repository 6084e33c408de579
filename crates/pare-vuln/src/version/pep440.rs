//! pep440 version ordering.

use std::cmp::Ordering;

/// Compares two pep440 versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    a.cmp(b)
}
