use std::process::ExitCode;

use anyhow::{Context, Result};
use pare_image::write::{WriteOptions, write_image};
use pare_image::{Compression, ImageRef, OpenOptions};

use crate::cli::{CompressionArg, CopyArgs, TextOrJson};
use crate::output;

pub fn run(args: CopyArgs, options: &OpenOptions) -> Result<ExitCode> {
    let source = super::open_source(&args.source, options)?;
    let destination = ImageRef::parse(&args.destination)?;
    let write_options = WriteOptions {
        compression: args.compression.map(|c| match c {
            CompressionArg::Gzip => Compression::Gzip,
            CompressionArg::Zstd => Compression::Zstd,
            CompressionArg::None => Compression::None,
        }),
        compression_level: args.compression_level,
        progress: options.progress.clone(),
        registry: options.registry.clone(),
        ..WriteOptions::default()
    };
    let written = write_image(&source, &destination, &write_options)
        .with_context(|| format!("copying {} to {destination}", source.reference()))?;
    match args.format {
        TextOrJson::Json => output::print_json(&written)?,
        TextOrJson::Text => output::print_text(&format!(
            "{}\n",
            output::escaped(&format!(
                "Wrote {} ({} layers, manifest {})",
                written.destination,
                written.layers.len(),
                written.manifest_digest
            ))
        ))?,
    }
    Ok(ExitCode::SUCCESS)
}
