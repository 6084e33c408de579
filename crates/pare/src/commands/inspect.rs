use std::process::ExitCode;

use anyhow::{Context, Result};
use pare_image::OpenOptions;

use crate::cli::{InspectArgs, TextOrJson};
use crate::output;

pub fn run(args: InspectArgs, options: &OpenOptions) -> Result<ExitCode> {
    let source = super::open_source(&args.image, options)?;
    let report = pare_image::inspect::inspect(&source, args.top)
        .with_context(|| format!("reading {}", source.reference()))?;
    match args.format {
        TextOrJson::Json => output::print_json(&report)?,
        TextOrJson::Text => output::print_text(&output::inspection_text(&report))?,
    }
    Ok(ExitCode::SUCCESS)
}
