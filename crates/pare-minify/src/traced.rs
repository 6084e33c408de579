//! Traced minify: the image's root materialised, its entry point run in
//! pare's sandbox under the tracer and exercised by probes, what it
//! touched added to the static plan, the new image written, then run
//! again with the same probes to prove it still works (`--verify`).
//!
//! The plan is the static closure ∪ the traced paths ∪ the includes:
//! every path a process opened, executed, looked up or listed (a folder
//! kept empty), the folders it wrote in (empty, with owner and mode), the
//! symlinks on the way, each executed program's own loader closure (the
//! kernel maps its interpreter without a system call the tracer sees),
//! and the users and groups processes switched to.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use pare_image::Source;
use pare_trace::exercise::{Exercise, Exercised, exercise};
use pare_trace::materialise::{check_extract_limit, materialise, scratch_root, tree_bytes};
use pare_trace::probe::{Probe, ProbeOutcome};
use pare_trace::run::RunRequest;
use pare_trace::tracer::{Trace, Use, parent};

use crate::observed::{Observed, ObservedHow};
use crate::pipeline::{
    MinifyError, MinifyRequest, Outcome, ReadBack, plan, prepare, summarize, write,
};

/// How to run and exercise the app.
#[derive(Clone, Debug)]
pub struct TraceOptions {
    pub probes: Vec<Probe>,
    /// How long the app runs when nothing exercises it.
    pub duration: Duration,
    /// How long each probe may take.
    pub timeout: Duration,
    /// Run the probes again on the written image.
    pub verify: bool,
    /// pare's own binary (the sandbox's helper).
    pub helper: PathBuf,
}

/// What a traced minify made and saw.
pub struct TracedOutcome {
    pub outcome: Outcome,
    /// The run on the original image.
    pub original: Exercised,
    /// The run on the minified image, with `verify`.
    pub verified: Option<Exercised>,
}

#[derive(Debug, thiserror::Error)]
pub enum TracedError {
    #[error(transparent)]
    Minify(#[from] MinifyError),
    #[error("extracting the image's root for the traced run")]
    Materialise(#[source] pare_trace::materialise::MaterialiseError),
    #[error("a temporary folder for the image's root")]
    Scratch(#[source] std::io::Error),
    #[error(
        "the app used more than {} distinct paths: a plan from part of them would be wrong",
        pare_trace::tracer::MAX_ACCESSES
    )]
    TraceTooLarge,
    #[error("running the original image")]
    Trace(#[source] pare_trace::tracer::TraceError),
    #[error("running the minified image")]
    VerifyRun(#[source] pare_trace::tracer::TraceError),
    #[error("the minified image was not read back, so it cannot be verified")]
    NotReadBack,
    #[error(
        "{probe} fails on the original image ({detail}); {app}: fix the probe or the image first"
    )]
    ProbeFailsOnOriginal {
        probe: String,
        detail: String,
        app: String,
    },
    #[error(
        "--verify: {what} on the minified image ({detail}); {app} (the image is written; --include what it needs)"
    )]
    Broken {
        what: String,
        detail: String,
        app: String,
    },
}

/// The image's exposed TCP ports (`8080/tcp`, `8080`), in order.
pub fn exposed_ports(source: &Source) -> Vec<u16> {
    let mut ports: Vec<u16> = source
        .config()
        .config()
        .as_ref()
        .and_then(|c| c.exposed_ports().clone())
        .unwrap_or_default()
        .iter()
        .filter_map(|p| {
            let (port, proto) = p.split_once('/').unwrap_or((p.as_str(), "tcp"));
            (proto == "tcp").then(|| port.parse().ok()).flatten()
        })
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// Minifies `source` from a traced, exercised run.
pub fn minify_traced(
    source: &Source,
    request: &MinifyRequest,
    options: &TraceOptions,
) -> Result<TracedOutcome, TracedError> {
    let mut prepared = prepare(source, request)?;
    let limits = match source {
        Source::Image(image) => image.limits.clone(),
        Source::Root { .. } => pare_image::Limits::default(),
    };
    check_extract_limit(&prepared.flat.tree, &limits).map_err(TracedError::Materialise)?;
    let original_root =
        scratch_root(tree_bytes(&prepared.flat.tree)).map_err(TracedError::Scratch)?;
    prepared.spool_everything()?;
    materialise(
        &prepared.flat.tree,
        prepared.spool(),
        original_root.path(),
        &limits,
    )
    .map_err(TracedError::Materialise)?;

    let run = RunRequest {
        argv: prepared.config.argv(&request.plan),
        env: prepared.config.env.clone(),
        workdir: prepared.config.workdir(),
        user: prepared.config.user.clone(),
        record: true,
        helper: options.helper.clone(),
        join_netns: None,
    };
    let how = Exercise {
        probes: options.probes.clone(),
        exposed_ports: exposed_ports(source),
        duration: options.duration,
        timeout: options.timeout,
        probe_root: original_root.path().to_path_buf(),
        probe_shell: names_a_file(&prepared.flat.tree, "/bin/sh"),
        http_ports: Vec::new(),
    };
    let original = exercise(original_root.path(), &run, &how).map_err(TracedError::Trace)?;
    if original.run.trace.truncated {
        return Err(TracedError::TraceTooLarge);
    }
    if let Some(failed) = original.failed().first() {
        return Err(TracedError::ProbeFailsOnOriginal {
            probe: failed.probe.clone(),
            detail: failed.detail.clone(),
            app: original.app_said(),
        });
    }

    let mut request = request.clone();
    request.traced = true;
    add_trace(&mut request, &original.run.trace, &prepared.flat.tree);
    let plan = plan(&prepared, &request)?;
    let built = write(&mut prepared, &plan, &request)?;
    let outcome = summarize(&prepared, plan, built, &request)?;

    let mut outcome = outcome;
    outcome.report.trace = Some(summary(&original));
    let verified = if options.verify {
        let how = Exercise {
            http_ports: original.http_ports.clone(),
            ..how
        };
        let again = verify(outcome.read_back.as_ref(), &run, &how, &limits)?;
        // The copies are done with.
        outcome.read_back = None;
        check(&original, &again)?;
        if let Some(trace) = &mut outcome.report.trace {
            trace.verified = Some(again.probes.clone());
            trace.verified_ms = Some(again.run.elapsed.as_millis());
        }
        Some(again)
    } else {
        None
    };
    Ok(TracedOutcome {
        outcome,
        original,
        verified,
    })
}

fn summary(run: &Exercised) -> crate::report::TraceSummary {
    let trace = &run.run.trace;
    let used: BTreeSet<&str> = trace
        .accesses
        .iter()
        .filter(|a| a.error.is_none())
        .map(|a| a.path.as_str())
        .collect();
    let not_found: BTreeSet<&str> = trace
        .accesses
        .iter()
        .filter(|a| a.error.as_deref() == Some("ENOENT"))
        .map(|a| a.path.as_str())
        .filter(|p| !used.contains(p))
        .collect();
    let programs: BTreeSet<String> = trace
        .processes
        .iter()
        .flat_map(|p| p.exe.iter().cloned())
        .filter(|e| !e.is_empty())
        .collect();
    crate::report::TraceSummary {
        exercised: run.exercised,
        probes: run.probes.clone(),
        verified: None,
        processes: programs.into_iter().collect(),
        paths_used: used.len(),
        paths_not_found: not_found.len(),
        syscalls: trace
            .all_syscalls()
            .into_iter()
            .filter(|s| s != "unknown")
            .collect(),
        exit: run.run.exit.clone(),
        traced_ms: run.run.elapsed.as_millis(),
        tracer_stops: trace.stops,
        verified_ms: None,
    }
}

/// Runs the written image, as read back (digests verified) in the
/// summary's pass, with the same probes, untraced.
fn verify(
    read_back: Option<&ReadBack>,
    run: &RunRequest,
    how: &Exercise,
    limits: &pare_image::Limits,
) -> Result<Exercised, TracedError> {
    let Some(read_back) = read_back else {
        return Err(TracedError::NotReadBack);
    };
    let tree = &read_back.flat.tree;
    let root = scratch_root(tree_bytes(tree)).map_err(TracedError::Scratch)?;
    materialise(tree, read_back.spool.as_ref(), root.path(), limits)
        .map_err(TracedError::Materialise)?;
    let run = RunRequest {
        record: false,
        ..run.clone()
    };
    exercise(root.path(), &run, how).map_err(TracedError::VerifyRun)
}

/// Fails, naming what broke, when the minified image does not do what the
/// original did: a probe that passed fails, or an app that kept running
/// (or exited cleanly) does not.
fn check(original: &Exercised, again: &Exercised) -> Result<(), TracedError> {
    for (before, after) in original.probes.iter().zip(&again.probes) {
        if before.passed && !after.passed {
            return Err(broken(after, again));
        }
    }
    let ran_on = original.run.exit.is_none();
    match (&original.run.exit, &again.run.exit) {
        (None, Some(exit)) => Err(TracedError::Broken {
            what: format!("the app {exit} where the original kept running"),
            detail: format!("after {:.1}s", again.run.elapsed.as_secs_f64()),
            app: again.app_said(),
        }),
        (Some(before), Some(after)) if !ran_on && before != after => Err(TracedError::Broken {
            what: format!("the app {after} where the original {before}"),
            detail: format!("after {:.1}s", again.run.elapsed.as_secs_f64()),
            app: again.app_said(),
        }),
        _ => Ok(()),
    }
}

fn broken(after: &ProbeOutcome, again: &Exercised) -> TracedError {
    TracedError::Broken {
        what: format!("{} fails", after.probe),
        detail: after.detail.clone(),
        app: again.app_said(),
    }
}

/// Adds what the trace saw to the plan's request: observed paths, the
/// programs executed (for their loader closure), the ids switched to.
fn add_trace(request: &mut MinifyRequest, trace: &Trace, tree: &pare_image::FileTree) {
    let name = |access: &pare_trace::tracer::Access| {
        if access.program.is_empty() {
            format!("pid {}", access.pid)
        } else {
            format!("{} (pid {})", access.program, access.pid)
        }
    };
    let mut executed = BTreeSet::new();
    for access in &trace.accesses {
        // /proc, /sys and /dev are the plan's to leave out (observed.rs).
        if access.error.is_some() {
            continue;
        }
        let by = name(access);
        let how = match access.how {
            Use::Read => ObservedHow::Opened,
            Use::Exec => {
                executed.insert(access.path.clone());
                ObservedHow::Executed
            }
            Use::Stat => ObservedHow::Stat,
            Use::List => ObservedHow::Listed,
            Use::Write | Use::Create => {
                // The folder it wrote in, kept (empty) so it can again;
                // the path itself only if the image has it.
                if let Some(folder) = parent(&access.path) {
                    request.plan.observed.push(Observed {
                        path: folder.to_string(),
                        how: ObservedHow::WroteIn,
                        by: by.clone(),
                    });
                }
                ObservedHow::Opened
            }
        };
        request.plan.observed.push(Observed {
            path: access.path.clone(),
            how,
            by,
        });
    }
    for program in executed {
        if names_a_file(tree, &program) && !request.plan.include_bin.contains(&program) {
            // A script the app ran needs its interpreter: the trace shows
            // it runs, so the shell is kept with it.
            request.plan.keep_shell = true;
            request.plan.include_bin.push(program);
        }
    }
    request.plan.switched_ids.0.extend(&trace.uids);
    request.plan.switched_ids.1.extend(&trace.gids);
}

/// Whether `path` (absolute) leads, through the image's links, to
/// something that is not a folder.
fn names_a_file(tree: &pare_image::FileTree, path: &str) -> bool {
    tree.resolve(path.trim_start_matches('/'), true)
        .ok()
        .and_then(|real| tree.get(&real).map(|n| !n.is_dir()))
        .unwrap_or(false)
}
