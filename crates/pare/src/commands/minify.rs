use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use pare_image::{ImageRef, OpenOptions};
use pare_minify::report::{Report, Summary};
use pare_minify::traced::{TraceOptions, minify_traced};
use pare_minify::{DockerfileOutput, MinifyRequest, Request};
use pare_trace::probe::Probe;
use std::collections::BTreeSet;
use std::time::Duration;

use crate::cli::MinifyArgs;
use crate::output;

pub fn run(args: MinifyArgs, options: &OpenOptions) -> Result<ExitCode> {
    let probes: Vec<Probe> = args
        .probe_http
        .iter()
        .chain(&args.probe_cmd)
        .chain(&args.probe_lambda)
        .cloned()
        .collect();
    if args.static_only && (!probes.is_empty() || args.seccomp.is_some() || args.verify) {
        bail!("--static-only runs nothing: probes, --verify and --seccomp need the traced run");
    }
    let seconds = |value: f64, name: &str| -> Result<Duration> {
        Duration::try_from_secs_f64(value)
            .map_err(|_| anyhow::anyhow!("{name} {value}: not a number of seconds"))
    };
    let duration = seconds(args.probe_duration, "--probe-duration")?;
    let timeout = seconds(args.probe_timeout, "--probe-timeout")?;
    let static_only = args.static_only;
    let verify = !args.no_verify;
    let seccomp = args.seccomp.clone();
    // Opened first: a database named but missing is a usage error to see
    // before a long minify, not after it.
    let store = vulnerability_database(args.db.as_deref(), args.vex.is_some())?;
    // Read before anything is written, so a bad rules file fails the run
    // instead of leaving an image without its report.
    let ignore = match &store {
        Some(_) => super::scan::read_ignore_file(None)?,
        None => None,
    };
    let vex = args.vex.clone();
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
            include_package_data: args.include_package_data,
            keep_shell: args.keep_shell,
            observed: Vec::new(),
            switched_ids: Default::default(),
        },
        allow_missing: args.allow_missing,
        dockerfile: args.dockerfile.clone(),
        explain: args.explain,
        mtime_clamp: std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|v| v.parse().ok()),
        traced: !static_only,
        progress: options.progress.clone(),
        registry: options.registry.clone(),
    };
    let source = super::open_source(&args.image, options)?;
    let mut outcome = if static_only {
        pare_minify::minify(&source, &request)?
    } else {
        let trace = TraceOptions {
            probes,
            duration,
            timeout,
            verify,
            helper: std::env::current_exe().context("finding pare's own binary")?,
        };
        let traced = minify_traced(&source, &request, &trace)?;
        if let Some(path) = &seccomp {
            let observed: BTreeSet<String> = traced
                .original
                .run
                .trace
                .all_syscalls()
                .into_iter()
                .filter(|s| s != "unknown")
                .collect();
            let profile = pare_minify::seccomp::profile(&observed, std::env::consts::ARCH)
                .context("making the seccomp profile")?;
            output::write_file_atomically(path, output::json_text(&profile)?.as_bytes())?;
        }
        let foreign = traced.original.run.trace.foreign_calls;
        if foreign > 0 {
            output::warning(format_args!(
                "{foreign} system calls of 32-bit code were not read: paths they used may be \
                 missing (--include them)"
            ));
        }
        if !traced.original.exercised {
            output::warning(format_args!(
                "nothing exercised the app (no probe, no exposed port): it ran for {}s; \
                 --probe-http, --probe-cmd or --probe-lambda make the trace see what requests use",
                duration.as_secs_f64()
            ));
        }
        traced.outcome
    };
    for warning in &outcome.warnings {
        output::warning(warning);
    }
    if let (Some(path), Some(dockerfile)) = (&args.dockerfile, &outcome.dockerfile) {
        write_dockerfile(path, dockerfile)?;
    }
    if let Some(store) = &store {
        let options = pare_vuln::scan::ScanOptions {
            ignore_unfixed: false,
            ignore,
            today: pare_vuln::ignore::Date::today(),
        };
        let scans = pare_minify::report::add_vulnerabilities(&mut outcome.report, store, &options)
            .context("counting known vulnerabilities")?;
        super::scan::expired_rule_warnings(&scans.before);
        if let Some(path) = &vex {
            let source_digest = super::config_digest(&source);
            let before = pare_sbom::cyclonedx::Subject {
                name: &outcome.report.source,
                digest: source_digest.as_deref(),
            };
            let after = pare_sbom::cyclonedx::Subject {
                name: &outcome.report.destination,
                digest: Some(&outcome.report.manifest_digest),
            };
            let document = pare_vuln::report::openvex(
                &scans.before,
                &scans.after,
                &before,
                &after,
                "pare",
                &pare_sbom::spdx::timestamp(),
            );
            output::write_file_atomically(path, output::json_text(&document)?.as_bytes())?;
        }
    }
    let report = &outcome.report;
    if let Some(path) = &args.report {
        output::write_file_atomically(path, output::json_text(report)?.as_bytes())?;
    }
    let mut text = comparison_table(report);
    text.push_str(&accounts_lines(&report.accounts));
    if let Some(trace) = &report.trace {
        text.push('\n');
        text.push_str(&probe_table(trace));
    }
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

/// What the reduced passwd and group dropped, one line each, naming the
/// flag that keeps the image's file instead: a user the app needs and pare
/// dropped is seen here, not in a failing `getpwnam` in production.
fn accounts_lines(accounts: &pare_minify::rules::Accounts) -> String {
    const SHOWN: usize = 4;
    let line = |what: &str, kept: &[String], dropped: &[String], file: &str| {
        if dropped.is_empty() {
            return String::new();
        }
        let mut named = dropped[..dropped.len().min(SHOWN)].join(", ");
        if dropped.len() > SHOWN {
            named.push_str(&format!(" and {} more", dropped.len() - SHOWN));
        }
        let line = output::escaped(&format!(
            "{file}: kept {what} {}; dropped {} ({named}); --include {file} keeps the image's file",
            kept.join(", "),
            dropped.len(),
        ));
        format!("{line}\n")
    };
    let mut text = String::from("\n");
    text.push_str(&line(
        "users",
        &accounts.users_kept,
        &accounts.users_dropped,
        "/etc/passwd",
    ));
    text.push_str(&line(
        "groups",
        &accounts.groups_kept,
        &accounts.groups_dropped,
        "/etc/group",
    ));
    if text.len() == 1 { String::new() } else { text }
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
/// Each probe's result on the original and on the minified image.
fn probe_table(trace: &pare_minify::report::TraceSummary) -> String {
    let shown = |p: &pare_trace::probe::ProbeOutcome| {
        format!("{}: {}", if p.passed { "pass" } else { "FAIL" }, p.detail)
    };
    let mut rows: Vec<Vec<String>> = trace
        .probes
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let after = trace
                .verified
                .as_ref()
                .and_then(|v| v.get(i))
                .map_or_else(|| "not verified".to_string(), shown);
            vec![p.probe.clone(), shown(p), after]
        })
        .collect();
    if rows.is_empty() {
        rows.push(vec![
            "(none: the app only ran)".into(),
            trace.exit.clone().unwrap_or_else(|| "kept running".into()),
            if trace.verified.is_some() {
                "kept running".into()
            } else {
                "not verified".into()
            },
        ]);
    }
    let mut text = output::table(&["PROBE", "ORIGINAL", "MINIFIED"], &rows);
    text.push_str(&format!(
        "traced {} programs, {} paths used, {} looked for and not found, {} system calls\n",
        trace.processes.len(),
        trace.paths_used,
        trace.paths_not_found,
        trace.syscalls.len()
    ));
    text
}

/// The database to count vulnerabilities with: the one `--db` names (which
/// must exist), else `pare scan`'s default when it exists; none otherwise,
/// unless `--vex` needs one.
fn vulnerability_database(
    given: Option<&Path>,
    required: bool,
) -> Result<Option<pare_vuln::store::Store>> {
    if given.is_some() || required {
        return super::db::open_existing(given).map(Some);
    }
    let path = super::db::database_path(None)?;
    if !path.exists() {
        return Ok(None);
    }
    super::db::open_existing(Some(&path)).map(Some)
}

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
    if let (Some(before), Some(after)) = (&before.vulnerabilities, &after.vulnerabilities) {
        rows.push(vec![
            "vulnerabilities".to_string(),
            before.total.to_string(),
            after.total.to_string(),
        ]);
        for severity in pare_vuln::scan::Severity::ALL.iter() {
            let count = |s: &pare_vuln::scan::Summary| s.by_severity.get(*severity);
            if count(before) + count(after) > 0 {
                rows.push(vec![
                    format!("  {}", severity.as_str().to_lowercase()),
                    count(before).to_string(),
                    count(after).to_string(),
                ]);
            }
        }
    }
    output::table(&["", "BEFORE", "AFTER"], &rows)
}
