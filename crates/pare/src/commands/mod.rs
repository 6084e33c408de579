//! One module a command; each turns parsed arguments into library calls.

use std::process::ExitCode;

use anyhow::{Context, Result};
use pare_image::{ImageRef, Limits, OpenOptions, Platform, Source};

use crate::cli::{Cli, Command};

mod audit;
mod copy;
mod db;
mod inspect;
mod minify;
mod sbom;
mod scan;
mod trace;

pub fn run(cli: Cli) -> Result<ExitCode> {
    let mut limits = Limits::default();
    if let Some(spec) = &cli.limits {
        limits.apply(spec)?;
    }
    let platform = &OpenOptions {
        platform: Platform::parse(&cli.platform)?,
        limits,
    };
    match cli.command {
        Command::Inspect(args) => inspect::run(args, platform),
        Command::Copy(args) => copy::run(args, platform),
        Command::Sbom(args) => sbom::run(args, platform),
        Command::Audit(args) => audit::run(args, platform),
        Command::Minify(args) => minify::run(*args, platform),
        Command::Trace(args) => trace::run(args, platform),
        Command::Scan(args) => scan::run(args, platform),
        Command::Db(args) => db::run(args),
    }
}

/// Parses and opens an image reference, naming it in any error.
pub fn open_source(text: &str, options: &OpenOptions) -> Result<Source> {
    let reference = ImageRef::parse(text)?;
    Source::open_with(&reference, options).with_context(|| format!("opening {reference}"))
}
