//! Version ordering, one module per ecosystem. Each exposes
//! `compare(a, b) -> Ordering` over version strings as its package
//! manager orders them; none panics on any input.

pub mod apk;
pub mod dpkg;
pub mod golang;
pub mod pep440;
pub mod rpm;
pub mod semver;
