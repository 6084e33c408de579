//! pare's integration tests: one binary, shared helpers in `common`.
//!
//! Tests that need the real test images, Docker, skopeo or umoci skip with a
//! message when those are missing on a developer's machine, and fail when
//! `CI=true`: CI must never pass by skipping.

mod audit;
mod bad_input;
mod common;
mod copy;
mod daemon;
mod hostile;
mod hostile_names;
mod inspect;
mod minify;
mod quirks;
mod registry;
mod sandbox;
mod sbom;
mod sbom_classifiers;
mod sbom_java;
mod sbom_lang;
mod sbom_minified;
mod sbom_more;
mod scan;
mod snapshots;
mod static_interpreters;
mod static_runtimes;
mod trace_images;
mod traced;
