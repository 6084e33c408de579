use std::process::ExitCode;

use anyhow::{Context, Result};
use pare_audit::Catalog;
use pare_image::OpenOptions;
use pare_image::source::FlattenOptions;

use crate::cli::{AuditArgs, AuditFormat};
use crate::output;

/// Exit status when a `--fail-on` kind was found.
const POLICY_MATCHED: u8 = 3;

pub fn run(args: AuditArgs, options: &OpenOptions) -> Result<ExitCode> {
    let source = super::open_source(&args.image, options)?;
    let options = FlattenOptions {
        scanners: pare_audit::scanners(),
        ..FlattenOptions::default()
    };
    let flat = source
        .flatten_with(options)
        .with_context(|| format!("reading {}", source.reference()))?;
    let catalog = Catalog::builtin();
    let report = pare_audit::audit(&flat, &catalog);
    let text = match args.format {
        AuditFormat::Text => output::findings_table(&report),
        AuditFormat::Json => output::json_text(&report)?,
        AuditFormat::Sarif => output::json_text(&pare_audit::sarif::document(
            &report,
            &catalog,
            &args.image,
            env!("CARGO_PKG_VERSION"),
        ))?,
    };
    match &args.output {
        Some(path) => output::write_file_atomically(path, text.as_bytes())?,
        None => output::print_text(&text)?,
    }
    let matched = report.matching(&args.fail_on).count();
    if matched > 0 {
        let kinds: Vec<&str> = args.fail_on.iter().map(|k| k.as_str()).collect();
        output::note(format_args!(
            "{matched} findings of kind {} (--fail-on)",
            kinds.join(",")
        ));
        return Ok(ExitCode::from(POLICY_MATCHED));
    }
    Ok(ExitCode::SUCCESS)
}
