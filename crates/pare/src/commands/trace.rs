//! `pare trace`: run an image in the sandbox and show what it used.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use pare_image::OpenOptions;
use pare_minify::{Request, RunConfig};
use pare_trace::run::RunRequest;

use crate::cli::{TraceArgs, TraceFormat};
use crate::output;

pub fn run(args: TraceArgs, options: &OpenOptions) -> Result<ExitCode> {
    let source = super::open_source(&args.image, options)?;
    let config = RunConfig::of(source.config());
    let flat = source
        .flatten()
        .with_context(|| format!("reading {}", source.reference()))?;
    let scratch =
        pare_trace::materialise::scratch_root(pare_trace::materialise::tree_bytes(&flat.tree))
            .context("a temporary folder")?;
    pare_trace::materialise::materialise_source(
        &source,
        &flat.tree,
        scratch.path(),
        &options.limits,
    )
    .with_context(|| format!("extracting {}", source.reference()))?;
    let overrides = Request {
        entrypoint: args.entrypoint.clone(),
        cmd: args.cmd.clone(),
        ..Request::default()
    };
    let request = RunRequest {
        argv: config.argv(&overrides),
        env: config.env.clone(),
        workdir: config.working_dir.clone().unwrap_or_default(),
        user: config.user.clone(),
        record: true,
        helper: std::env::current_exe().context("finding pare's own binary")?,
        join_netns: None,
    };
    let duration = Duration::try_from_secs_f64(args.probe_duration).map_err(|_| {
        anyhow::anyhow!(
            "--probe-duration {}: not a number of seconds",
            args.probe_duration
        )
    })?;
    let (outcome, ()) = pare_trace::run::run(
        scratch.path(),
        &request,
        |_| Ok(()),
        |running| {
            let deadline = std::time::Instant::now() + duration;
            while running.is_alive() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        },
    )?;
    match args.format {
        TraceFormat::Json => {
            #[derive(serde::Serialize)]
            struct Shown<'a> {
                program: &'a str,
                #[serde(skip_serializing_if = "Option::is_none")]
                exit: Option<&'a str>,
                output: &'a str,
                elapsed_ms: u128,
                #[serde(flatten)]
                trace: &'a pare_trace::tracer::Trace,
            }
            let shown = Shown {
                program: &outcome.program,
                exit: outcome.exit.as_deref(),
                output: &outcome.output,
                elapsed_ms: outcome.elapsed.as_millis(),
                trace: &outcome.trace,
            };
            output::print_text(&output::json_text(&shown)?)
        }
        TraceFormat::Text => {
            let rows: Vec<Vec<String>> = outcome
                .trace
                .accesses
                .iter()
                .map(|a| {
                    vec![
                        a.path.clone(),
                        format!("{:?}", a.how).to_lowercase(),
                        a.call.to_string(),
                        a.pid.to_string(),
                        a.error.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            let mut text = output::table(&["PATH", "USE", "CALL", "PID", "ERROR"], &rows);
            text.push_str(&format!(
                "\n{} processes, {} system calls, {} stops; entry point {}\n",
                outcome.trace.processes.len(),
                outcome.trace.all_syscalls().len(),
                outcome.trace.stops,
                outcome
                    .exit
                    .as_deref()
                    .unwrap_or("still running when stopped"),
            ));
            output::print_text(&text)
        }
    }?;
    Ok(ExitCode::SUCCESS)
}
