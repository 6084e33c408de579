use std::process::ExitCode;

use anyhow::Result;
use pare_image::OpenOptions;
use pare_sbom::cyclonedx::Subject;

use crate::cli::{SbomArgs, SbomFormat};
use crate::output;

pub fn run(args: SbomArgs, options: &OpenOptions) -> Result<ExitCode> {
    let (_, digest, catalog) = super::catalog_of(&args.image, options)?;
    let subject = Subject {
        name: &args.image,
        digest: digest.as_deref(),
    };
    let text = match args.format {
        SbomFormat::Table => output::packages_table(&catalog),
        SbomFormat::Json => output::json_text(&catalog)?,
        SbomFormat::CyclonedxJson => {
            output::json_text(&pare_sbom::cyclonedx::document(&catalog, &subject))?
        }
        SbomFormat::SpdxJson => output::json_text(&pare_sbom::spdx::document(&catalog, &subject))?,
    };
    match &args.output {
        Some(path) => output::write_file_atomically(path, text.as_bytes())?,
        None => output::print_text(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}
