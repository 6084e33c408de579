//! # pare-minify
//!
//! The multi-stage `FROM scratch` method, done exactly: from an image's
//! entry point, every file it needs by the dynamic loader's rules, then a
//! new image holding only those. This first part resolves entry points the
//! way a container runtime does ([`entry`]).

pub mod build;
pub mod entry;
pub mod metadata;
pub mod rules;

pub use entry::{EntryError, Program, Programs, resolve_entry};
