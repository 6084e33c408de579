//! apk version ordering.

use std::cmp::Ordering;

/// Compares two apk versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    a.cmp(b)
}
