//! # pare-testkit
//!
//! What every crate's tests need to reach the real world the same way: the
//! test images `tests/images/build.sh` caches, the repository's test data,
//! and prerequisites (a tool, root) that skip a test locally but fail it
//! under `CI=true`, where a missing prerequisite is a broken machine, never
//! a reason to pass. Dev-dependency only.

use std::path::{Path, PathBuf};

/// The images tests/images/build.sh makes for pare's readers: the suites
/// that check every image (inspect's counts, sbom's parity) walk these.
pub const TEST_IMAGES: &[&str] = &["debian", "redis", "nginx", "python", "busybox", "apps"];

/// The workloads tests/images/build.sh makes for minify's traced run: each
/// answers real requests with code or data it loads only at run time (node
/// with ICU, redis behind a gosu entry point, an AWS Lambda function, C
/// programs using dlopen, a locale and an iconv module).
pub const TRACE_IMAGES: &[&str] = &["node", "redis-gosu", "lambda", "cplugins"];

/// Whether a missing prerequisite must fail the test.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A missing prerequisite: a panic in CI, a skip (with a note) elsewhere.
pub fn missing(what: &str) -> Option<()> {
    if in_ci() {
        panic!("prerequisite missing in CI: {what}");
    }
    eprintln!("skipping: {what} is missing");
    None
}

/// Where the cached test images live (`PARE_TEST_IMAGES` overrides).
pub fn test_images_dir() -> PathBuf {
    std::env::var_os("PARE_TEST_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/pare-test-images/v1"))
}

/// A cached test image (a `docker save` archive), or a skip.
pub fn test_image(name: &str) -> Option<PathBuf> {
    let path = test_images_dir().join(format!("{name}.tar"));
    if path.is_file() {
        return Some(path);
    }
    missing(&format!(
        "test image {} (run tests/images/build.sh)",
        path.display()
    ))?;
    None
}

/// A command on PATH, or a skip.
pub fn tool(name: &str) -> Option<()> {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()));
    if found {
        Some(())
    } else {
        missing(&format!("command {name}"))
    }
}

/// A file of the repository's own test data (`tests/data`, origins and
/// licences in its README): the suite needs nothing beside the clone.
pub fn test_data(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(relative)
}
