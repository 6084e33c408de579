//! # pare-minify
//!
//! The multi-stage `FROM scratch` method, done exactly: from an image's
//! entry point, every file it needs by the dynamic loader's rules, then a
//! new image holding only those: entry points resolved the way a container
//! runtime does ([`entry`]), the [`plan`] of what to keep and why, the
//! rules for what the loader cannot see ([`rules`]), package metadata for
//! what survived ([`metadata`]), the new tree ([`build`]), the equivalent
//! multi-stage Dockerfile ([`dockerfile`]) and the before/after [`report`].

pub mod build;
pub mod dockerfile;
pub mod entry;
pub mod metadata;
pub mod plan;
pub mod report;
pub mod rules;

pub use entry::{EntryError, Program, Programs, resolve_entry};
pub use plan::{Plan, PlanError, Request, RunConfig, plan};
