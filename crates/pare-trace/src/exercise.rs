//! Exercising the app while it is traced (and again, untraced, to verify
//! the minified image): the user's probes, or by default a wait on each
//! exposed port with `GET /` where it speaks HTTP; with neither, the app
//! simply runs for the probe duration.

use std::fs::File;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::lambda::RuntimeApi;
use crate::probe::{self, Connector, Probe, ProbeOutcome};
use crate::run::{RunOutcome, RunRequest, in_netns, run};
use crate::tracer::{Running, TraceError, last_lines};

/// Where pare serves the Lambda runtime API on the function's loopback:
/// the port AWS's runtime interface emulator uses, fixed so that the
/// function's environment names it before the namespace exists.
pub const LAMBDA_API_PORT: u16 = 9001;

/// Exposed ports probed by default, at most (in port order).
pub const MAX_EXPOSED_PROBES: usize = 16;

/// Sockets made inside a running sandbox's network namespace.
pub struct NetnsConnector {
    netns: File,
}

impl NetnsConnector {
    pub fn new(netns: &File) -> io::Result<Self> {
        Ok(NetnsConnector {
            netns: netns.try_clone()?,
        })
    }

    fn listen_on(&self, port: u16) -> io::Result<TcpListener> {
        in_netns(&self.netns, move || {
            TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        })
    }
}

impl Connector for NetnsConnector {
    fn connect(&self, port: u16, timeout: Duration) -> io::Result<TcpStream> {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let timeout = timeout.max(Duration::from_millis(1));
        in_netns(&self.netns, move || {
            TcpStream::connect_timeout(&address, timeout)
        })
    }

    fn listen(&self) -> io::Result<TcpListener> {
        self.listen_on(0)
    }
}

/// How to exercise the app.
#[derive(Clone, Debug)]
pub struct Exercise {
    pub probes: Vec<Probe>,
    /// The image's exposed TCP ports: the default probes.
    pub exposed_ports: Vec<u16>,
    /// How long the app runs when nothing exercises it.
    pub duration: Duration,
    /// How long each probe may take (waiting for a port included).
    pub timeout: Duration,
    /// The root probe commands run from: the original image's, so the
    /// minified one needs none of the probe's tools.
    pub probe_root: PathBuf,
    /// Whether the probe root has `/bin/sh` (resolved inside the image):
    /// probe commands run under it, else split on spaces and run as is.
    pub probe_shell: bool,
    /// Exposed ports known to speak HTTP (from the original run): on
    /// these, the verify run insists on an HTTP answer, where a first run
    /// only detects one.
    pub http_ports: Vec<u16>,
}

/// How a run under probes went.
#[derive(Debug)]
pub struct Exercised {
    pub run: RunOutcome,
    pub probes: Vec<ProbeOutcome>,
    /// False when nothing exercised the app (no probe, no exposed port).
    pub exercised: bool,
    /// Exposed ports that answered HTTP.
    pub http_ports: Vec<u16>,
}

impl Exercised {
    /// The probes that failed.
    pub fn failed(&self) -> Vec<&ProbeOutcome> {
        self.probes.iter().filter(|p| !p.passed).collect()
    }

    /// The app's last lines of output and how it ended, for a message.
    pub fn app_said(&self) -> String {
        let mut said = match &self.run.exit {
            Some(exit) => format!("the app {exit}"),
            None => "the app was still running".to_string(),
        };
        let tail = last_lines(&self.run.output, 5);
        if !tail.is_empty() {
            said.push_str(&format!("; it printed: {tail}"));
        }
        said
    }
}

/// The environment AWS's runtime gives a function, beside the API's
/// address.
fn lambda_env() -> Vec<String> {
    [
        format!("AWS_LAMBDA_RUNTIME_API=127.0.0.1:{LAMBDA_API_PORT}"),
        "AWS_LAMBDA_FUNCTION_NAME=pare-probe".into(),
        "AWS_LAMBDA_FUNCTION_VERSION=$LATEST".into(),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512".into(),
        "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/pare-probe".into(),
        "AWS_LAMBDA_LOG_STREAM_NAME=pare".into(),
        "AWS_REGION=us-east-1".into(),
        "AWS_DEFAULT_REGION=us-east-1".into(),
    ]
    .into()
}

/// Runs the app in `root` and exercises it.
pub fn exercise(
    root: &Path,
    request: &RunRequest,
    how: &Exercise,
) -> Result<Exercised, TraceError> {
    let events: Vec<serde_json::Value> = how
        .probes
        .iter()
        .filter_map(|p| match p {
            Probe::Lambda(l) => Some(l.event.clone()),
            _ => None,
        })
        .collect();
    let mut request = request.clone();
    if !events.is_empty() {
        for var in lambda_env() {
            let name = var.split('=').next().unwrap_or_default().to_string();
            if !request
                .env
                .iter()
                .any(|e| e.starts_with(&format!("{name}=")))
            {
                request.env.push(var);
            }
        }
    }
    let api = std::cell::RefCell::new(None);
    let (run, (probes, exercised, http_ports)) = run(
        root,
        &request,
        |running| {
            if !events.is_empty() {
                let listener = NetnsConnector::new(running.netns())
                    .and_then(|c| c.listen_on(LAMBDA_API_PORT))
                    .map_err(|e| format!("serving the Lambda runtime API: {e}"))?;
                let served = RuntimeApi::serve(listener, events.clone(), how.timeout)
                    .map_err(|e| format!("serving the Lambda runtime API: {e}"))?;
                *api.borrow_mut() = Some(served);
            }
            Ok(())
        },
        |running| probe_all(running, &request, how, api.borrow_mut().take()),
    )?;
    Ok(Exercised {
        run,
        probes,
        exercised,
        http_ports,
    })
}

fn probe_all(
    running: &Running,
    request: &RunRequest,
    how: &Exercise,
    api: Option<RuntimeApi>,
) -> (Vec<ProbeOutcome>, bool, Vec<u16>) {
    let is_alive = || running.is_alive();
    let connector = match NetnsConnector::new(running.netns()) {
        Ok(c) => c,
        Err(e) => {
            let outcome = ProbeOutcome {
                probe: "network namespace".into(),
                passed: false,
                detail: e.to_string(),
            };
            return (vec![outcome], true, Vec::new());
        }
    };
    let mut outcomes = Vec::new();
    let mut lambda_names = Vec::new();
    for probe in &how.probes {
        match probe {
            Probe::Http(http) => outcomes.push(probe::run_http_probe(
                &connector,
                http,
                how.timeout,
                &is_alive,
            )),
            Probe::Cmd(cmd) => {
                // A client probe is a readiness check too: the exposed
                // ports first, then the command until it passes, the app
                // dies or the time is up.
                let started = Instant::now();
                for port in how.exposed_ports.iter().take(MAX_EXPOSED_PROBES) {
                    let left = how.timeout.saturating_sub(started.elapsed());
                    let _ = probe::wait_for_port(&connector, *port, left, &is_alive);
                }
                let outcome = loop {
                    if !running.is_alive() {
                        break ProbeOutcome {
                            probe: format!("--probe-cmd {}", cmd.0),
                            passed: false,
                            detail: "the app exited before the command could reach it".into(),
                        };
                    }
                    let outcome = run_command_probe(running, request, how, &cmd.0);
                    if outcome.passed || !running.is_alive() || started.elapsed() >= how.timeout {
                        break outcome;
                    }
                    std::thread::sleep(Duration::from_millis(250));
                };
                outcomes.push(outcome);
            }
            Probe::Lambda(_) => lambda_names.push(probe.describe()),
        }
    }
    if let Some(api) = api {
        let invocations = api.wait_while(&is_alive);
        for (invocation, name) in invocations.iter().zip(&lambda_names) {
            outcomes.push(invocation.probe_outcome(name));
        }
    }
    let mut http_ports = Vec::new();
    if how.probes.is_empty() {
        // One deadline for all ports, and only the first few: an image
        // that exposes thousands must not hold pare for days.
        let deadline = Instant::now() + how.timeout;
        for &port in how.exposed_ports.iter().take(MAX_EXPOSED_PROBES) {
            let left = deadline.saturating_duration_since(Instant::now());
            let how = &Exercise {
                timeout: left,
                ..how.clone()
            };
            let name = format!("port {port} (exposed)");
            let outcome = if how.http_ports.contains(&port) {
                let get = probe::HttpProbe {
                    port,
                    path: "/".into(),
                };
                let outcome = probe::run_http_probe(&connector, &get, how.timeout, &is_alive);
                ProbeOutcome {
                    probe: name,
                    ..outcome
                }
            } else {
                probe::run_port_probe(&connector, port, how.timeout, &is_alive)
            };
            // run_port_probe's detail starts with the GET it made when the
            // port spoke HTTP.
            if outcome.passed && outcome.detail.starts_with("GET ") {
                http_ports.push(port);
            }
            outcomes.push(outcome);
        }
    }
    let exercised = !how.probes.is_empty() || !how.exposed_ports.is_empty();
    if !exercised {
        let deadline = Instant::now() + how.duration;
        while running.is_alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    (outcomes, exercised, http_ports)
}

/// `--probe-cmd`: the command runs in a second sandbox made from the
/// original image's root, in the app's network namespace, untraced (what
/// it touches is never kept). It passes when it exits with status 0.
fn run_command_probe(
    running: &Running,
    request: &RunRequest,
    how: &Exercise,
    command: &str,
) -> ProbeOutcome {
    let name = format!("--probe-cmd {command}");
    let argv: Vec<String> = if how.probe_shell {
        vec!["/bin/sh".into(), "-c".into(), command.into()]
    } else {
        command.split_whitespace().map(str::to_string).collect()
    };
    let probe_request = RunRequest {
        argv,
        env: request.env.clone(),
        workdir: "/".into(),
        user: None,
        record: false,
        helper: request.helper.clone(),
        // The namespace pare holds open, by pare's own descriptor: a pid
        // number could name another process once the app's is reaped.
        join_netns: Some(PathBuf::from(format!(
            "/proc/{}/fd/{}",
            std::process::id(),
            std::os::fd::AsRawFd::as_raw_fd(running.netns())
        ))),
    };
    let timeout = how.timeout;
    let result = run(
        &how.probe_root,
        &probe_request,
        |_| Ok(()),
        |probe| {
            let deadline = Instant::now() + timeout;
            while probe.is_alive() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            probe.is_alive()
        },
    );
    match result {
        Ok((outcome, still_running)) => {
            let said = last_lines(&outcome.output, 3);
            let passed = !still_running && outcome.exit.as_deref() == Some("exited with status 0");
            let how_it_ended = if still_running {
                format!("no exit within {}s", timeout.as_secs())
            } else {
                outcome.exit.unwrap_or_else(|| "ended".into())
            };
            ProbeOutcome {
                probe: name,
                passed,
                detail: if said.is_empty() {
                    how_it_ended
                } else {
                    format!("{how_it_ended}: {said}")
                },
            }
        }
        Err(e) => ProbeOutcome {
            probe: name,
            passed: false,
            detail: e.to_string(),
        },
    }
}
