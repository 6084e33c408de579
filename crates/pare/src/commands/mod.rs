//! One module a command; each turns parsed arguments into library calls.

use std::process::ExitCode;

use anyhow::{Context, Result};
use pare_image::{ImageRef, Platform, Source};

use crate::cli::{Cli, Command};

mod audit;
mod copy;
mod inspect;
mod minify;
mod sbom;

pub fn run(cli: Cli) -> Result<ExitCode> {
    let platform = Platform::parse(&cli.platform)?;
    match cli.command {
        Command::Inspect(args) => inspect::run(args, &platform),
        Command::Copy(args) => copy::run(args, &platform),
        Command::Sbom(args) => sbom::run(args, &platform),
        Command::Audit(args) => audit::run(args, &platform),
        Command::Minify(args) => minify::run(args, &platform),
    }
}

/// Parses and opens an image reference, naming it in any error.
pub fn open_source(text: &str, platform: &Platform) -> Result<Source> {
    let reference = ImageRef::parse(text)?;
    Source::open(&reference, platform).with_context(|| format!("opening {reference}"))
}
