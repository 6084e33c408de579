//! dpkg version ordering.

use std::cmp::Ordering;

/// Compares two dpkg versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    a.cmp(b)
}
