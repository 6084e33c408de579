//! golang version ordering.

use std::cmp::Ordering;

/// Compares two golang versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    a.cmp(b)
}
