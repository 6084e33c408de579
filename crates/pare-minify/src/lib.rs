//! # pare-minify
//!
//! The multi-stage `FROM scratch` method, done exactly: from an image's
//! entry point, every file it needs by the dynamic loader's rules, then a
//! new image holding only those: entry points resolved the way a container
//! runtime does ([`entry`]), the [plan](mod@plan) of what to keep and [`why`], the
//! rules for what the loader cannot see ([`rules`]), what a traced run saw
//! ([`observed`]), package metadata for what survived ([`metadata`]), the
//! new tree ([`build`]), the equivalent multi-stage Dockerfile
//! ([`dockerfile`]) and the before/after [`report`]. [`minify`] runs it all
//! ([`pipeline`] has its steps).

pub mod build;
pub mod dockerfile;
pub mod entry;
pub mod interp;
pub mod locale;
pub mod metadata;
pub mod observed;
pub mod package_data;
pub mod pipeline;
pub mod plan;
pub mod report;
pub mod rules;
pub mod seccomp;
pub mod traced;
pub mod why;

pub use entry::{EntryError, Program, Programs, resolve_entry};
pub use observed::{Observed, ObservedHow};
pub use pipeline::{DockerfileOutput, MinifyError, MinifyRequest, Outcome, Warning, minify};
pub use plan::{Plan, PlanError, Request, RunConfig, plan};
pub use why::{Generated, Rule, Why};
