//! rpm version ordering.

use std::cmp::Ordering;

/// Compares two rpm versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    a.cmp(b)
}
