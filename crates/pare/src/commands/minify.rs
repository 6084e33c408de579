use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use pare_elf::image::ElfScanner;
use pare_image::spool::SpoolScanner;
use pare_image::write::{WriteOptions, write_built_image};
use pare_image::{Flattened, ImageRef, OpenOptions, Platform, Source};
use pare_minify::build::{add_new_files, kept_tree};
use pare_minify::dockerfile::{DockerfileInput, dockerfile, keep_list};
use pare_minify::metadata::NewFile;
use pare_minify::report::{KeptPath, MissingLibrary, Report, Summary};
use pare_minify::{Request, RunConfig};

use crate::cli::MinifyArgs;
use crate::output;

/// Manifest annotations naming the image a minified one was made from.
const BASE_NAME: &str = "org.opencontainers.image.base.name";
const BASE_DIGEST: &str = "org.opencontainers.image.base.digest";

pub fn run(args: MinifyArgs, options: &OpenOptions) -> Result<ExitCode> {
    if !args.static_only {
        bail!("only --static-only is built yet (the traced run is still to come)");
    }
    let destination = ImageRef::parse(&args.output)?;
    let source = super::open_source(&args.image, options)?;
    let config = source.config().clone();
    let runtime = config.config().clone().unwrap_or_default();
    let run_config = RunConfig {
        entrypoint: runtime.entrypoint().clone().unwrap_or_default(),
        cmd: runtime.cmd().clone().unwrap_or_default(),
        env: runtime.env().clone().unwrap_or_default(),
        working_dir: runtime.working_dir().clone(),
        user: runtime.user().clone(),
    };
    let request = Request {
        entrypoint: args.entrypoint.clone(),
        cmd: args.cmd.clone(),
        include_bin: args.include_bin.clone(),
        include: args.include.clone(),
        exclude: args.exclude.clone(),
        include_tz: args.include_tz,
        keep_shell: args.keep_shell,
    };

    let (spool_scanner, spool_copies) =
        SpoolScanner::new(pare_minify::plan::spool_candidates(&request));
    // One pass reads what planning needs and what the before/after
    // summary needs (package databases, ELF headers, BusyBox signatures).
    let flat = source
        .flatten_with({
            let mut options = pare_minify::report::flatten_options();
            let sbom = options.capture.take().expect("sbom captures metadata");
            options.capture = Some(Box::new(move |p: &str, size| {
                pare_minify::plan::wants(p) || sbom(p, size)
            }));
            options.scanners.push(Box::new(ElfScanner));
            if matches!(source, Source::Image(_)) {
                // Candidates' bytes copied aside in this same pass, so the
                // kept files need no second read of their layers.
                options.scanners.push(Box::new(spool_scanner));
            }
            options
        })
        .with_context(|| format!("reading {}", source.reference()))?;
    let plan = pare_minify::plan(&flat, &run_config, &request)?;
    if let Some(missing) = plan.missing.first()
        && !args.allow_missing
    {
        bail!(
            "{} needed by {} is not in the image (--allow-missing writes the image anyway)",
            missing.name,
            missing.needed_by
        );
    }
    for missing in &plan.missing {
        output::warning(format_args!(
            "{} needed by {} is missing",
            missing.name, missing.needed_by
        ));
    }

    let keep = plan.paths();
    let mut kept = kept_tree(&flat, &keep, &plan.folders);
    let picked: Vec<String> = kept.tree.iter().map(|(p, _)| p.to_string()).collect();
    let mut new_files: Vec<(NewFile, String)> =
        pare_minify::rules::users_and_groups(&flat, &kept.tree, runtime.user().as_deref())
            .into_iter()
            .map(|file| {
                let why = "reduced to root, USER and the owners of kept files".to_string();
                (file, why)
            })
            .collect();
    let (dpkg_files, dpkg_warnings) = pare_minify::metadata::dpkg_status_d(&flat, &keep);
    for warning in dpkg_warnings {
        output::warning(warning);
    }
    for file in dpkg_files {
        let package = file.0.rsplit('/').next().unwrap_or_default();
        let why = match package.strip_suffix(".md5sums") {
            Some(name) => format!("md5sums of {name}'s kept files, for scanners"),
            None => format!("dpkg status of {package}, which owns kept files, for scanners"),
        };
        new_files.push((file, why));
    }
    if let Some(file) = pare_minify::metadata::apk_installed(&flat, &keep) {
        let why = "apk database of the packages that own kept files, for scanners".to_string();
        new_files.push((file, why));
    }
    let (rpm_files, rpm_warnings) = pare_minify::metadata::rpm_databases(&flat, &keep);
    for warning in rpm_warnings {
        output::warning(warning);
    }
    for file in rpm_files {
        let why = "rpm database of the packages that own kept files, for scanners".to_string();
        new_files.push((file, why));
    }
    let scratch = tempfile::tempdir().context("a temporary folder")?;
    let status_mtime = flat.tree.get("var/lib/dpkg/status").map_or(0, |n| n.mtime);
    let files: Vec<NewFile> = new_files.iter().map(|(f, _)| f.clone()).collect();
    add_new_files(&mut kept.tree, &flat, &files, scratch.path(), status_mtime)
        .context("writing package metadata and users")?;

    let spool = match &source {
        Source::Image(image) => {
            let mut spool = spool_copies.into_spool(&flat);
            spool.fill_missing(image, &kept.from_layers)?;
            Some(spool)
        }
        Source::Root { .. } => None,
    };
    let made_by = format!("pare minify --static-only {}", args.image);
    let mut new_config = config.clone();
    let mut new_runtime = runtime.clone();
    // The overrides the image was minified for become its own, as
    // `docker run --entrypoint` applies them: a new Entrypoint drops Cmd.
    if let Some(entrypoint) = &args.entrypoint {
        new_runtime.set_entrypoint(Some(vec![entrypoint.clone()]));
        new_runtime.set_cmd((!args.cmd.is_empty()).then(|| args.cmd.clone()));
    } else if !args.cmd.is_empty() {
        new_runtime.set_cmd(Some(args.cmd.clone()));
    }
    new_config.set_config(Some(new_runtime.clone()));
    new_config.set_history(Some(vec![
        oci_spec::image::HistoryBuilder::default()
            .created_by(made_by.clone())
            .comment("rebuilt FROM scratch with what the entry point loads")
            .build()
            .expect("all fields optional"),
    ]));
    let clamp = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.parse().ok());
    let mut options = WriteOptions::default();
    options
        .manifest_annotations
        .insert(BASE_NAME.into(), base_name(&source, &args.image));
    if let Source::Image(image) = &source
        && let Some(digest) = &image.manifest_digest
    {
        options
            .manifest_annotations
            .insert(BASE_DIGEST.into(), digest.to_string());
    }
    // The Dockerfile is made (and refused, for a hostile config) before
    // anything is written.
    let dockerfile_text = match &args.dockerfile {
        Some(path) => Some(dockerfile(&DockerfileInput {
            from: &base_name(&source, &args.image),
            context_dir: &context_dir_name(path),
            config: &new_runtime,
            has_new_files: !files.is_empty(),
            made_by: &made_by,
        })?),
        None => None,
    };
    let written = write_built_image(
        &kept.tree,
        spool.as_ref(),
        &new_config,
        clamp,
        &destination,
        &options,
    )
    .with_context(|| format!("writing {destination}"))?;

    if let (Some(path), Some(text)) = (&args.dockerfile, &dockerfile_text) {
        write_dockerfile(path, text, &picked, &files)?;
    }

    // The after side is measured on the image as written, read back.
    let after = after_summary(&destination)?;
    let before = Summary::of(&flat);
    let mut explained: BTreeMap<String, Vec<String>> = plan
        .keep
        .iter()
        .filter(|(p, _)| kept.tree.contains(p.trim_start_matches('/')))
        .map(|(p, _)| (p.clone(), plan.explain(p)))
        .collect();
    for ((path, _), why) in &new_files {
        explained.insert(format!("/{path}"), vec![format!("written by pare: {why}")]);
    }
    let report = Report {
        source: args.image.clone(),
        destination: written.destination.clone(),
        manifest_digest: written.manifest_digest.to_string(),
        before,
        after,
        kept: args.explain.then(|| {
            explained
                .iter()
                .map(|(path, reasons)| KeptPath {
                    path: path.clone(),
                    reasons: reasons.clone(),
                })
                .collect()
        }),
        excluded: plan.excluded.clone(),
        missing: plan
            .missing
            .iter()
            .map(|m| MissingLibrary {
                name: m.name.clone(),
                needed_by: m.needed_by.clone(),
            })
            .collect(),
    };
    if let Some(path) = &args.report {
        output::write_file_atomically(path, output::json_text(&report)?.as_bytes())?;
    }
    let mut text = comparison_table(&report);
    if args.explain {
        text.push('\n');
        let rows: Vec<Vec<String>> = explained
            .iter()
            .map(|(path, reasons)| vec![path.clone(), reasons.join("; ")])
            .collect();
        text.push_str(&output::table(&["KEPT", "WHY"], &rows));
    }
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

/// How the new image names its base, and how a Dockerfile's `FROM` does:
/// the source's first name (RepoTags or OCI ref name), else the reference.
fn base_name(source: &Source, reference: &str) -> String {
    match source {
        Source::Image(image) => image
            .names
            .first()
            .cloned()
            .unwrap_or_else(|| reference.to_string()),
        Source::Root { .. } => reference.to_string(),
    }
}

/// Reads the written image back and measures it: what scanners will see.
fn after_summary(destination: &ImageRef) -> Result<Summary> {
    let written = Source::open(destination, &Platform::default())
        .with_context(|| format!("reading back {destination}"))?;
    let flat: Flattened = written
        .flatten_with(pare_minify::report::flatten_options())
        .with_context(|| format!("reading back {destination}"))?;
    Ok(Summary::of(&flat))
}

/// `FILE.context`: the folder beside the Dockerfile with what it copies.
fn context_dir_name(dockerfile: &Path) -> String {
    let name = dockerfile
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "Dockerfile".into());
    format!("{name}.context")
}

/// Writes the Dockerfile and its context folder (the keep list and the
/// files pare made), replacing an older context folder of the same name.
fn write_dockerfile(path: &Path, text: &str, picked: &[String], files: &[NewFile]) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let context = parent.join(context_dir_name(path));
    if context.exists() {
        std::fs::remove_dir_all(&context)
            .with_context(|| format!("replacing {}", context.display()))?;
    }
    let root = context.join("root");
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let generated: BTreeSet<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    let list = keep_list(
        picked
            .iter()
            .map(String::as_str)
            .filter(|p| !generated.contains(p)),
    );
    std::fs::write(context.join("keep.list"), list)
        .with_context(|| format!("writing {}", context.display()))?;
    for (rel, bytes) in files {
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
    output::write_file_atomically(path, text.as_bytes())
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
