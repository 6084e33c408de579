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
        progress: crate::progress::sink(cli.quiet),
        registry: pare_image::RegistryOptions {
            creds: cli.creds.clone(),
            cert_dir: cli.cert_dir.clone(),
            insecure: cli.insecure_registry.clone(),
        },
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

/// Opens an image and catalogs its packages (`pare sbom`'s reading, which
/// `scan` shares), printing the catalogers' warnings; returns the source
/// with its config digest, for the documents that name the image.
pub fn catalog_of(
    text: &str,
    options: &OpenOptions,
) -> Result<(Source, Option<String>, pare_sbom::Catalog)> {
    let source = open_source(text, options)?;
    let flat = source
        .flatten_with(pare_sbom::flatten_options())
        .with_context(|| format!("reading {}", source.reference()))?;
    let catalog = pare_sbom::catalog(&flat);
    for warning in &catalog.warnings {
        crate::output::warning(warning);
    }
    let digest = config_digest(&source);
    Ok((source, digest, catalog))
}

/// The image's config digest; a root folder has none.
pub fn config_digest(source: &Source) -> Option<String> {
    match source {
        Source::Image(image) => Some(image.config_digest.to_string()),
        Source::Root { .. } => None,
    }
}

/// Parses and opens an image reference, naming it in any error.
pub fn open_source(text: &str, options: &OpenOptions) -> Result<Source> {
    let reference = ImageRef::parse(text)?;
    Source::open_with(&reference, options).with_context(|| format!("opening {reference}"))
}
