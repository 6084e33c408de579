use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use pare_image::{ImageRef, OpenOptions};
use pare_minify::report::{Report, Summary};
use pare_minify::{DockerfileOutput, MinifyRequest, Request};

use crate::cli::MinifyArgs;
use crate::output;

pub fn run(args: MinifyArgs, options: &OpenOptions) -> Result<ExitCode> {
    if !args.static_only {
        bail!("only --static-only is built yet (the traced run is still to come)");
    }
    let request = MinifyRequest {
        source_name: args.image.clone(),
        destination: ImageRef::parse(&args.output)?,
        plan: Request {
            entrypoint: args.entrypoint,
            cmd: args.cmd,
            include_bin: args.include_bin,
            include: args.include,
            exclude: args.exclude,
            include_tz: args.include_tz,
            keep_shell: args.keep_shell,
            observed: Vec::new(),
        },
        allow_missing: args.allow_missing,
        dockerfile: args.dockerfile.clone(),
        explain: args.explain,
        mtime_clamp: std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|v| v.parse().ok()),
    };
    let source = super::open_source(&args.image, options)?;
    let outcome = pare_minify::minify(&source, &request)?;
    for warning in &outcome.warnings {
        output::warning(warning);
    }
    if let (Some(path), Some(dockerfile)) = (&args.dockerfile, &outcome.dockerfile) {
        write_dockerfile(path, dockerfile)?;
    }
    let report = &outcome.report;
    if let Some(path) = &args.report {
        output::write_file_atomically(path, output::json_text(report)?.as_bytes())?;
    }
    let mut text = comparison_table(report);
    if let Some(kept) = &report.kept {
        text.push('\n');
        let rows: Vec<Vec<String>> = kept
            .iter()
            .map(|k| vec![k.path.clone(), k.reasons.join("; ")])
            .collect();
        text.push_str(&output::table(&["KEPT", "WHY"], &rows));
    }
    let written = &outcome.written;
    text.push_str(&format!(
        "\n{}\n",
        output::escaped(&format!(
            "wrote {} ({})",
            written.destination, written.manifest_digest
        ))
    ));
    output::print_text(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the Dockerfile and its context folder (the keep list and the
/// files pare made), replacing an older context folder of the same name.
fn write_dockerfile(path: &Path, dockerfile: &DockerfileOutput) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let context = parent.join(&dockerfile.context_dir);
    if context.exists() {
        std::fs::remove_dir_all(&context)
            .with_context(|| format!("replacing {}", context.display()))?;
    }
    let root = context.join("root");
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    std::fs::write(context.join("keep.list"), &dockerfile.keep_list)
        .with_context(|| format!("writing {}", context.display()))?;
    for (rel, bytes) in &dockerfile.files {
        // Names from package databases are in these paths: never let one
        // climb out of the context folder on the host.
        anyhow::ensure!(
            pare_minify::build::is_plain_relative(rel),
            "refusing to write \"{rel}\" under {}: not a plain relative path",
            root.display()
        );
        let file = root.join(rel);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&file, bytes).with_context(|| format!("writing {}", file.display()))?;
    }
    output::write_file_atomically(path, dockerfile.text.as_bytes())
}

/// BEFORE/AFTER rows: size, files, packages, then findings by kind.
fn comparison_table(report: &Report) -> String {
    let (before, after) = (&report.before, &report.after);
    let mut rows = vec![
        vec![
            "size".to_string(),
            output::human_bytes(before.size_bytes),
            output::human_bytes(after.size_bytes),
        ],
        vec![
            "files".to_string(),
            before.files.to_string(),
            after.files.to_string(),
        ],
        vec![
            "packages".to_string(),
            before.packages.to_string(),
            after.packages.to_string(),
        ],
        vec![
            "findings".to_string(),
            before.findings_total().to_string(),
            after.findings_total().to_string(),
        ],
    ];
    for kind in pare_audit::Kind::ALL {
        let count = |s: &Summary| s.findings.get(kind.as_str()).copied().unwrap_or(0);
        if count(before) + count(after) > 0 {
            rows.push(vec![
                format!("  {}", kind.as_str()),
                count(before).to_string(),
                count(after).to_string(),
            ]);
        }
    }
    output::table(&["", "BEFORE", "AFTER"], &rows)
}
