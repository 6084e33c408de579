//! The minify pipeline, from an opened source to a written image and its
//! report: [`minify`] runs it whole, for the CLI. Its steps are public so
//! a traced run can work between them: it runs the application after
//! [`prepare`] and hands what it saw to [`plan`] as
//! [`Request::observed`](crate::Request::observed).
//!
//! 1. [`prepare`]: one pass over the layers reads the tree, the files the
//!    plan and the before-summary read, and copies aside the bytes of
//!    files likely to be kept (spool scanning), so writing reads no layer
//!    again.
//! 2. [`plan`]: what to keep, and why.
//! 3. [`write()`]: the new tree, the package metadata and users pare writes,
//!    the new configuration and history, the Dockerfile, the image.
//! 4. [`summarize`]: the written image read back and measured, the report.
//!
//! Nothing here prints: warnings are data in the [`Outcome`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use pare_elf::image::ElfScanner;
use pare_image::spool::{Spool, SpoolScanner};
use std::io::Read;

use pare_image::tree::{FileTree, NodeKind};
use pare_image::write::open_content;
use pare_image::write::{WriteOptions, Written, write_built_image};
use pare_image::{Flattened, ImageRef, Platform, Source};
use pare_sbom::dpkg::InvalidName;

use crate::build::{add_new_files, kept_tree};
use crate::dockerfile::{DockerfileInput, UnsafeValue, dockerfile, keep_list};
use crate::metadata::{LeftOut, NewFile, apk_installed, dpkg_status_d, rpm_databases};
use crate::plan::{Plan, PlanError, Request, RunConfig, spool_candidates, wants};
use crate::report::{KeptPath, MissingLibrary, Report, Summary, flatten_options};
use crate::rules::{Accounts, WantedAccounts, users_and_groups};
use crate::why::{Generated, Rule, Why};

/// Manifest annotations naming the image a minified one was made from.
const BASE_NAME: &str = "org.opencontainers.image.base.name";
const BASE_DIGEST: &str = "org.opencontainers.image.base.digest";

/// Everything a minify run is asked for, beside the source itself.
#[derive(Clone, Debug)]
pub struct MinifyRequest {
    /// The source as the user named it: the report's `source`, the
    /// history's command line, and a `dir:` root's base name.
    pub source_name: String,
    pub destination: ImageRef,
    /// What to keep: overrides, includes and excludes, time zones, the
    /// shell, what a trace saw.
    pub plan: Request,
    /// Write the image even when a needed library is missing (a warning
    /// each instead of an error).
    pub allow_missing: bool,
    /// Where a multi-stage Dockerfile will be written (its context folder
    /// goes beside it): made only then.
    pub dockerfile: Option<PathBuf>,
    /// Every kept path with its reasons, in the report.
    pub explain: bool,
    /// File times in the new layer clamped to this (`SOURCE_DATE_EPOCH`).
    pub mtime_clamp: Option<u64>,
    /// The plan holds what a traced run saw (the history says so).
    pub traced: bool,
    /// Where writing to the Engine or a registry reports how far it is.
    pub progress: pare_image::ProgressSink,
    /// How to reach a `docker://` destination.
    pub registry: pare_image::RegistryOptions,
}

/// What a run made.
pub struct Outcome {
    pub plan: Plan,
    /// The destination written and its manifest digest.
    pub written: Written,
    /// The written image as read back, with its files' bytes (traced runs:
    /// the verify run extracts it).
    pub read_back: Option<ReadBack>,
    /// Before and after; with `explain`, every kept path and why.
    pub report: Report,
    /// With [`MinifyRequest::dockerfile`]: what to write there.
    pub dockerfile: Option<DockerfileOutput>,
    pub warnings: Vec<Warning>,
}

/// The Dockerfile and its context folder, to be written by the caller.
#[derive(Clone, Debug)]
pub struct DockerfileOutput {
    pub text: String,
    /// The context folder's name, beside the Dockerfile: `FILE.context`.
    pub context_dir: String,
    /// `keep.list` in the context folder: the kept paths of the source.
    pub keep_list: Vec<u8>,
    /// Files pare made (relative paths), under `root/` in the context.
    pub files: Vec<NewFile>,
}

/// Something the user should know about a run that still succeeded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Warning {
    /// A library nobody could find, with `allow_missing`.
    MissingLibrary { name: String, needed_by: String },
    /// A dpkg record whose name cannot be a file name: not carried over.
    SkippedRecord(InvalidName),
    /// A package database that could not be reduced.
    LeftOut(LeftOut),
    /// A rule that could not decide what a program needs.
    Undecided(crate::interp::Undecided),
}

impl Warning {
    /// The path (absolute) the warning is about.
    pub fn path(&self) -> String {
        match self {
            Warning::MissingLibrary { needed_by, .. } => needed_by.clone(),
            Warning::SkippedRecord(record) => format!("/{}", record.file),
            Warning::LeftOut(database) => format!("/{}", database.path),
            Warning::Undecided(undecided) => undecided.program.clone(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::MissingLibrary { name, needed_by } => {
                write!(f, "{name} needed by {needed_by} is missing")
            }
            Warning::SkippedRecord(record) => record.fmt(f),
            Warning::LeftOut(database) => database.fmt(f),
            Warning::Undecided(undecided) => undecided.fmt(f),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MinifyError {
    #[error("reading {reference}")]
    Read {
        reference: String,
        source: pare_image::Error,
    },
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(
        "{name} needed by {needed_by} is not in the image (--allow-missing writes the image anyway)"
    )]
    MissingLibrary { name: String, needed_by: String },
    #[error("a temporary folder")]
    Scratch(#[source] std::io::Error),
    #[error("writing package metadata and users")]
    NewFiles(#[source] std::io::Error),
    /// Reading the kept files the spool scan did not copy.
    #[error(transparent)]
    Spool(pare_image::Error),
    #[error(transparent)]
    Dockerfile(#[from] UnsafeValue),
    #[error("writing {destination}")]
    Write {
        destination: String,
        source: pare_image::Error,
    },
    #[error("reading back {destination}")]
    ReadBack {
        destination: String,
        source: pare_image::Error,
    },
}

/// Step 1: the source read once.
pub struct Prepared<'s> {
    pub source: &'s Source,
    /// The tree, with the files planning and the summaries read captured
    /// and the findings of the ELF, package and audit scanners.
    pub flat: Flattened,
    /// The image's configuration as the plan reads it.
    pub config: RunConfig,
    /// Copies of likely-kept files made while flattening (images only).
    spool: Option<Spool>,
}

impl Prepared<'_> {
    /// Copies every file of an image aside (a traced run extracts the
    /// whole root; writing then reads no layer again) and gives the copies.
    pub fn spool_everything(&mut self) -> Result<(), MinifyError> {
        if let (Source::Image(image), Some(spool)) = (self.source, &mut self.spool) {
            let all = pare_trace::materialise::layer_files(&self.flat.tree);
            spool
                .fill_missing(image, &all)
                .map_err(MinifyError::Spool)?;
        }
        Ok(())
    }

    /// The copies of file bytes made so far (images only).
    pub fn spool(&self) -> Option<&Spool> {
        self.spool.as_ref()
    }
}

/// Step 3: the image as written.
pub struct Built {
    pub written: Written,
    /// The new image's tree (pare's own files read from a scratch folder
    /// that lives as long as this).
    pub tree: FileTree,
    /// The files pare wrote into it, and why.
    pub new_files: Vec<(NewFile, Why)>,
    pub dockerfile: Option<DockerfileOutput>,
    pub warnings: Vec<Warning>,
    /// What the reduced passwd and group kept and dropped.
    pub accounts: Accounts,
    _scratch: tempfile::TempDir,
}

/// Minifies `source` as `request` asks: every step in turn.
pub fn minify(source: &Source, request: &MinifyRequest) -> Result<Outcome, MinifyError> {
    let mut prepared = prepare(source, request)?;
    let plan = plan(&prepared, request)?;
    let built = write(&mut prepared, &plan, request)?;
    summarize(&prepared, plan, built, request)
}

/// Step 1: flattens `source` in one pass that reads what planning and the
/// before/after summary need (package databases, ELF headers, BusyBox
/// signatures) and, for an image, copies aside the bytes of the files the
/// plan is likely to keep, so the kept files need no second read of their
/// layers.
pub fn prepare<'s>(
    source: &'s Source,
    request: &MinifyRequest,
) -> Result<Prepared<'s>, MinifyError> {
    // A traced run extracts every file: copied in this one pass, the layers
    // are never read a second time.
    let wanted = if request.traced {
        Box::new(|_: &str, _: u64| true)
    } else {
        spool_candidates(&request.plan)
    };
    let (spool_scanner, spool_copies) = SpoolScanner::new(wanted);
    let is_image = matches!(source, Source::Image(_));
    let mut options = flatten_options();
    let sbom = options.capture.take().expect("sbom captures metadata");
    options.capture = Some(Box::new(move |p: &str, size| {
        wants(p, size) || sbom(p, size)
    }));
    options.scanners.push(Box::new(ElfScanner));
    options.scanners.extend(crate::interp::scanners());
    if is_image {
        options.scanners.push(Box::new(spool_scanner));
    }
    let flat = source
        .flatten_with(options)
        .map_err(|e| MinifyError::Read {
            reference: source.reference().to_string(),
            source: e,
        })?;
    let spool = is_image.then(|| spool_copies.into_spool(&flat));
    Ok(Prepared {
        source,
        config: RunConfig::of(source.config()),
        flat,
        spool,
    })
}

/// Step 2: the plan, refused while a needed library is missing unless
/// `allow_missing`.
pub fn plan(prepared: &Prepared<'_>, request: &MinifyRequest) -> Result<Plan, MinifyError> {
    let plan = crate::plan::plan(&prepared.flat, &prepared.config, &request.plan)?;
    if let Some(missing) = plan.missing.first()
        && !request.allow_missing
    {
        return Err(MinifyError::MissingLibrary {
            name: missing.name.clone(),
            needed_by: missing.needed_by.clone(),
        });
    }
    Ok(plan)
}

/// Step 3: builds the new tree from `plan` with the files pare writes, the
/// configuration with the overrides made its own and one history entry,
/// and writes it to the destination. The Dockerfile is made (and refused,
/// for a hostile configuration) before anything is written.
pub fn write(
    prepared: &mut Prepared<'_>,
    plan: &Plan,
    request: &MinifyRequest,
) -> Result<Built, MinifyError> {
    let flat = &prepared.flat;
    let keep = plan.paths();
    let mut kept = kept_tree(flat, &keep, &plan.folders);
    let picked: Vec<String> = kept.tree.iter().map(|(p, _)| p.to_string()).collect();
    if let (Source::Image(image), Some(spool)) = (prepared.source, &mut prepared.spool) {
        spool
            .fill_missing(image, &kept.from_layers)
            .map_err(MinifyError::Spool)?;
    }
    let wanted = WantedAccounts {
        user: prepared.config.user.as_deref(),
        named: &plan.users,
        switched: Some(&request.plan.switched_ids),
        configs: kept_configurations(flat, plan, &kept.tree, prepared.spool.as_ref()),
        as_is: ["etc/passwd", "etc/group"]
            .into_iter()
            .filter(|p| is_included(plan, p))
            .map(str::to_string)
            .collect(),
    };
    let (new_files, warnings, accounts) = generated_files(flat, &kept.tree, &keep, &wanted);
    let scratch = tempfile::tempdir().map_err(MinifyError::Scratch)?;
    // The files pare writes are as old as the database they come from
    // (`status`, or a distroless source's `status.d`).
    let status_mtime = pare_sbom::dpkg::LAYOUTS
        .iter()
        .flat_map(|l| [l.status, l.status_d])
        .find_map(|p| flat.tree.get(p))
        .map_or(0, |n| n.mtime);
    let files: Vec<NewFile> = new_files.iter().map(|(f, _)| f.clone()).collect();
    add_new_files(&mut kept.tree, flat, &files, scratch.path(), status_mtime)
        .map_err(MinifyError::NewFiles)?;

    let made_by = match request.traced {
        true => format!("pare minify {}", request.source_name),
        false => format!("pare minify --static-only {}", request.source_name),
    };
    let mut config = prepared.source.config().clone();
    let mut runtime = config.config().clone().unwrap_or_default();
    // The overrides the image was minified for become its own.
    let (entrypoint, cmd) = request
        .plan
        .command(runtime.entrypoint().clone(), runtime.cmd().clone());
    runtime.set_entrypoint(entrypoint);
    runtime.set_cmd(cmd);
    config.set_config(Some(runtime.clone()));
    config.set_history(Some(vec![
        oci_spec::image::HistoryBuilder::default()
            .created_by(made_by.clone())
            .comment("rebuilt FROM scratch with what the entry point loads")
            .build()
            .expect("all fields optional"),
    ]));
    let base = base_name(prepared.source, &request.source_name);
    let mut options = WriteOptions {
        progress: request.progress.clone(),
        registry: request.registry.clone(),
        ..WriteOptions::default()
    };
    options
        .manifest_annotations
        .insert(BASE_NAME.into(), base.clone());
    if let Source::Image(image) = prepared.source
        && let Some(digest) = &image.manifest_digest
    {
        options
            .manifest_annotations
            .insert(BASE_DIGEST.into(), digest.to_string());
    }
    let dockerfile = match &request.dockerfile {
        Some(path) => {
            let context_dir = context_dir_name(path);
            let text = dockerfile(&DockerfileInput {
                from: &base,
                context_dir: &context_dir,
                config: &runtime,
                has_new_files: !files.is_empty(),
                made_by: &made_by,
            })?;
            let generated: BTreeSet<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
            let keep_list = keep_list(
                picked
                    .iter()
                    .map(String::as_str)
                    .filter(|p| !generated.contains(p)),
            );
            Some(DockerfileOutput {
                text,
                context_dir,
                keep_list,
                files: files.clone(),
            })
        }
        None => None,
    };
    let written = write_built_image(
        &kept.tree,
        prepared.spool.as_ref(),
        &config,
        request.mtime_clamp,
        &request.destination,
        &options,
    )
    .map_err(|e| MinifyError::Write {
        destination: request.destination.to_string(),
        source: e,
    })?;
    Ok(Built {
        written,
        tree: kept.tree,
        new_files,
        dockerfile,
        warnings,
        accounts,
        _scratch: scratch,
    })
}

/// Step 4: measures the written image as scanners will see it (read back)
/// against the source, and makes the report.
pub fn summarize(
    prepared: &Prepared<'_>,
    plan: Plan,
    built: Built,
    request: &MinifyRequest,
) -> Result<Outcome, MinifyError> {
    let (after, read_back) = after_summary(request, request.traced)?;
    let before = Summary::of(&prepared.flat);
    let kept = request.explain.then(|| {
        let mut explained: BTreeMap<String, Vec<String>> = plan
            .keep
            .keys()
            .filter(|p| built.tree.contains(p.trim_start_matches('/')))
            .map(|p| (p.clone(), plan.explain(p)))
            .collect();
        for ((path, _), why) in &built.new_files {
            explained.insert(format!("/{path}"), vec![why.to_string()]);
        }
        explained
            .into_iter()
            .map(|(path, reasons)| KeptPath { path, reasons })
            .collect()
    });
    let missing: Vec<MissingLibrary> = plan
        .missing
        .iter()
        .map(|m| MissingLibrary {
            name: m.name.clone(),
            needed_by: m.needed_by.clone(),
        })
        .collect();
    let mut warnings: Vec<Warning> = missing
        .iter()
        .map(|m| Warning::MissingLibrary {
            name: m.name.clone(),
            needed_by: m.needed_by.clone(),
        })
        .collect();
    warnings.extend(plan.undecided.iter().cloned().map(Warning::Undecided));
    warnings.extend(built.warnings);
    let report = Report {
        source: request.source_name.clone(),
        destination: built.written.destination.clone(),
        manifest_digest: built.written.manifest_digest.to_string(),
        before,
        after,
        kept,
        excluded: plan.excluded.clone(),
        missing,
        accounts: built.accounts,
        trace: None,
    };
    Ok(Outcome {
        plan,
        written: built.written,
        read_back,
        report,
        dockerfile: built.dockerfile,
        warnings,
    })
}

/// What pare writes beside the kept files, each with why: `passwd` and
/// `group` reduced to the users that matter, and the package metadata of
/// what survived; with the package databases' warnings.
fn generated_files(
    flat: &Flattened,
    kept: &FileTree,
    keep: &BTreeSet<String>,
    wanted: &WantedAccounts<'_>,
) -> (Vec<(NewFile, Why)>, Vec<Warning>, Accounts) {
    let (accounts_files, accounts) = users_and_groups(flat, kept, wanted);
    let mut files: Vec<(NewFile, Why)> = accounts_files
        .into_iter()
        .map(|file| (file, Why::WrittenByPare(Generated::UsersAndGroups)))
        .collect();
    let mut warnings = Vec::new();
    let (dpkg_files, skipped) = dpkg_status_d(flat, keep);
    warnings.extend(skipped.into_iter().map(Warning::SkippedRecord));
    for file in dpkg_files {
        let name = file.0.rsplit('/').next().unwrap_or_default();
        let what = match name.strip_suffix(".md5sums") {
            Some(package) => Generated::DpkgMd5sums {
                package: package.to_string(),
            },
            None => Generated::DpkgStatus {
                package: name.to_string(),
            },
        };
        files.push((file, Why::WrittenByPare(what)));
    }
    if let Some(file) = apk_installed(flat, keep) {
        files.push((file, Why::WrittenByPare(Generated::ApkDatabase)));
    }
    let (rpm_files, left_out) = rpm_databases(flat, keep);
    warnings.extend(left_out.into_iter().map(Warning::LeftOut));
    for file in rpm_files {
        files.push((file, Why::WrittenByPare(Generated::RpmDatabase)));
    }
    (files, warnings, accounts)
}

/// Whether `--include` named `path` (relative): the user's explicit
/// choice wins over pare's reduction.
fn is_included(plan: &Plan, path: &str) -> bool {
    plan.keep
        .get(&format!("/{path}"))
        .is_some_and(|whys| whys.iter().any(|w| matches!(w, Why::Include { .. })))
}

/// The texts of the application's kept configuration files (see
/// [`crate::rules::is_configuration`]: kept as its package's data, or
/// named by `--include`), each at most 256 KiB: what
/// [`crate::rules::names_in_config`] reads for users a server switches
/// to. The system's own files (`nsswitch.conf` names a `shadow`
/// database, not a group) are not the application's.
fn kept_configurations(
    flat: &Flattened,
    plan: &Plan,
    kept: &FileTree,
    spool: Option<&Spool>,
) -> Vec<String> {
    const MAX_BYTES: u64 = 256 * 1024;
    let mut texts = Vec::new();
    for (path, node) in kept.iter() {
        let NodeKind::File(id) = node.kind else {
            continue;
        };
        let content = kept.content(id);
        let the_apps = plan.keep.get(&format!("/{path}")).is_some_and(|whys| {
            whys.iter()
                .any(|w| matches!(w, Why::Include { .. } | Why::Rule(Rule::PackageData { .. })))
        });
        if !the_apps || !crate::rules::is_configuration(&path) || content.size > MAX_BYTES {
            continue;
        }
        let bytes = match flat.read(&path) {
            Ok(Some(bytes)) => bytes.into_owned(),
            _ => {
                let Ok(reader) = open_content(&content.source, content.size, spool, &path) else {
                    continue;
                };
                let mut bytes = Vec::new();
                if reader.take(MAX_BYTES).read_to_end(&mut bytes).is_err() {
                    continue;
                }
                bytes
            }
        };
        // Binary files name no user.
        if let Ok(text) = String::from_utf8(bytes) {
            texts.push(text);
        }
    }
    texts
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

/// `FILE.context`: the folder beside the Dockerfile with what it copies.
fn context_dir_name(dockerfile: &Path) -> String {
    let name = dockerfile
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "Dockerfile".into());
    format!("{name}.context")
}

/// The written image as read back: its tree, and (for a traced run) the
/// bytes of every file, so the verify run extracts it without a second
/// read.
pub struct ReadBack {
    pub flat: Flattened,
    pub spool: Option<Spool>,
}

/// Reads the written image back and measures it: what scanners will see.
/// With `keep`, every file's bytes are copied aside in the same pass and
/// the tree is kept.
fn after_summary(
    request: &MinifyRequest,
    keep: bool,
) -> Result<(Summary, Option<ReadBack>), MinifyError> {
    let destination = &request.destination;
    let read_back = |source| MinifyError::ReadBack {
        destination: destination.to_string(),
        source,
    };
    // Read back as written: the platform is the image's own, the registry
    // is reached as it was for writing.
    let options = pare_image::OpenOptions {
        platform: Platform::default(),
        limits: Default::default(),
        progress: request.progress.clone(),
        registry: request.registry.clone(),
    };
    let written = Source::open_with(destination, &options).map_err(read_back)?;
    let mut options = flatten_options();
    let (scanner, copies) = SpoolScanner::new(Box::new(|_: &str, _: u64| true));
    let is_image = matches!(written, Source::Image(_));
    if keep && is_image {
        options.scanners.push(Box::new(scanner));
    }
    let flat = written.flatten_with(options).map_err(read_back)?;
    let summary = Summary::of(&flat);
    let kept = keep.then(|| {
        let spool = is_image.then(|| copies.into_spool(&flat));
        ReadBack { flat, spool }
    });
    Ok((summary, kept))
}
