//! The tracer: runs the sandbox's helper as a ptrace child of one thread
//! and follows every process and thread it starts (fork, vfork, clone,
//! exec), recording from the entry point's exec on:
//! - every path a process opens, executes, stats, reads as a link, looks
//!   for or writes, resolved against its working directory or the
//!   directory fd the call names, failed lookups included;
//! - every system call it makes;
//! - the user and group ids it switches to.
//!
//! Why ptrace (through `nix`) and not seccomp user notification: a
//! notification listener sees only the calls a filter routes to it and
//! must itself re-read the arguments racily; the seccomp profile pare
//! writes needs *every* call, and ptrace's `PTRACE_GET_SYSCALL_INFO`
//! gives number, arguments and result on every architecture alike.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use nix::sys::ptrace::{self, Options};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use serde::Serialize;

use crate::sandbox::{self, INIT_ARG, Message, Spec};

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("starting the sandbox: {0}")]
    Start(String),
    #[error("the sandbox failed to set up: {0}")]
    Setup(String),
    #[error("tracing: {0}")]
    Trace(String),
}

/// How a process used a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Use {
    /// Opened to read.
    Read,
    /// Executed.
    Exec,
    /// Looked at: stat, access, readlink, xattrs.
    Stat,
    /// Opened as a folder or made the working directory.
    List,
    /// Opened to write, changed (mode, owner, times) or renamed.
    Write,
    /// Made (a file, folder, link or node) or removed: its folder is
    /// written into.
    Create,
}

/// One path one process used.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Access {
    /// Absolute path inside the sandbox, as the process named it (joined
    /// to its working directory or dirfd; symlinks not resolved).
    pub path: String,
    #[serde(rename = "use")]
    pub how: Use,
    /// The system call.
    pub call: &'static str,
    pub pid: i32,
    /// The program the process was running when it made the call.
    pub program: String,
    /// The error the call failed with (`ENOENT`: looked for, not there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A process seen in the sandbox.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Process {
    pub pid: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<i32>,
    /// The programs it executed, in order.
    pub exe: Vec<String>,
    /// How it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

impl Process {
    /// `nginx (pid 7)`: the process as the report names it.
    pub fn name(&self) -> String {
        match self.exe.last() {
            Some(exe) => format!("{exe} (pid {})", self.pid),
            None => format!("pid {}", self.pid),
        }
    }
}

/// What a traced run recorded.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Trace {
    pub processes: Vec<Process>,
    pub accesses: Vec<Access>,
    /// System call names by the program that made them.
    pub syscalls: BTreeMap<String, BTreeSet<String>>,
    /// User and group ids processes switched to.
    pub uids: BTreeSet<u32>,
    pub gids: BTreeSet<u32>,
    /// How the entry point's process ended, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit: Option<String>,
    /// Stops handled: a measure of tracing overhead.
    pub stops: u64,
    /// More distinct accesses than [`MAX_ACCESSES`]: the rest were not
    /// recorded.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// Calls made in another architecture's convention (32-bit code):
    /// counted, not read.
    #[serde(skip_serializing_if = "is_zero")]
    pub foreign_calls: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Distinct (path, use, outcome) records kept, at most: a program that
/// stats random names must not fill pare's memory.
pub const MAX_ACCESSES: usize = 1_000_000;
/// Processes (and threads) a sandbox may start in one run before pare
/// stops it: a fork bomb ends here, not in the host's pid space.
pub const MAX_PROCESSES: usize = 20_000;

impl Trace {
    /// Every system call any process made.
    pub fn all_syscalls(&self) -> BTreeSet<String> {
        self.syscalls.values().flatten().cloned().collect()
    }

    /// The process with this pid.
    pub fn process(&self, pid: i32) -> Option<&Process> {
        self.processes.iter().find(|p| p.pid == pid)
    }
}

/// A sandbox that is set up and waiting for `go`, or running.
pub struct Running {
    socket: UnixDatagram,
    /// The container's pid 1, as pare sees it.
    pub pid: i32,
    /// The program it executes.
    pub program: String,
    netns: std::fs::File,
    alive: Arc<AtomicBool>,
    exit: Arc<Mutex<Option<String>>>,
    output: Arc<Mutex<Output>>,
    tracer: Option<JoinHandle<Result<Trace, TraceError>>>,
    /// The helper and the container's pid 1 as process descriptors: a kill
    /// by number could reach another process once these are reaped.
    handles: Vec<std::os::fd::OwnedFd>,
}

/// The app's stdout and stderr, interleaved, keeping the last bytes.
#[derive(Default)]
struct Output {
    bytes: Vec<u8>,
    dropped: u64,
}

const OUTPUT_KEPT: usize = 64 * 1024;

impl Output {
    fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
        if self.bytes.len() > OUTPUT_KEPT * 2 {
            let cut = self.bytes.len() - OUTPUT_KEPT;
            self.dropped += cut as u64;
            self.bytes.drain(..cut);
        }
    }
}

/// Starts `spec` in a new sandbox under the tracer and waits until its
/// root is built. `helper` is pare's own binary; `record` turns on
/// recording (off, the run is only supervised: a verify run).
pub fn start(spec: &Spec, helper: &Path, record: bool) -> Result<Running, TraceError> {
    let scratch = tempfile::Builder::new()
        .prefix("pare-spec")
        .tempfile()
        .map_err(|e| TraceError::Start(format!("spec file: {e}")))?;
    std::fs::write(
        scratch.path(),
        serde_json::to_vec(spec).expect("spec serialises"),
    )
    .map_err(|e| TraceError::Start(format!("spec file: {e}")))?;
    let (socket, theirs) =
        sandbox::socket_pair().map_err(|e| TraceError::Start(format!("socket pair: {e}")))?;
    let alive = Arc::new(AtomicBool::new(true));
    let exit = Arc::new(Mutex::new(None));
    let output = Arc::new(Mutex::new(Output::default()));
    let (started_tx, started_rx) = mpsc::channel();
    let (output_reader, output_writer) =
        std::io::pipe().map_err(|e| TraceError::Start(format!("output pipe: {e}")))?;
    let mut command = Command::new(helper);
    command
        .arg(INIT_ARG)
        .arg(scratch.path())
        .arg(theirs.as_raw_fd().to_string())
        .stdin(Stdio::null())
        // stdout and stderr share one pipe, as `2>&1` would: what the app
        // printed stays in the order it printed it.
        .stdout(Stdio::from(
            output_writer
                .try_clone()
                .map_err(|e| TraceError::Start(format!("output pipe: {e}")))?,
        ))
        .stderr(Stdio::from(output_writer))
        .env_clear();
    let tracer = {
        let (alive, exit, output) = (alive.clone(), exit.clone(), output.clone());
        std::thread::Builder::new()
            .name("pare-tracer".into())
            .spawn(move || {
                // The helper must be this thread's child: ptrace's tracer
                // is the thread that forked it.
                let child = match command.spawn() {
                    Ok(child) => child,
                    Err(e) => {
                        let _ = started_tx.send(Err(e.to_string()));
                        return Err(TraceError::Start(e.to_string()));
                    }
                };
                drop(theirs);
                // The command holds pare's copies of the pipe's write end:
                // gone, the reader sees the end when the app's are closed.
                drop(command);
                let stream = Box::new(output_reader) as Box<dyn Read + Send>;
                let (copied_tx, copied_rx) = mpsc::channel::<()>();
                std::thread::spawn(move || {
                    copy_output(stream, &output);
                    let _ = copied_tx.send(());
                });
                let helper = Pid::from_raw(child.id() as i32);
                let _ = started_tx.send(Ok(child.id() as i32));
                let result = Tracer::new(helper, record, alive.clone(), exit).run();
                alive.store(false, Ordering::SeqCst);
                // Every process is gone: the output ends as soon as the
                // reader has drained the pipe (bounded, in case something
                // untraced still holds it).
                let _ = copied_rx.recv_timeout(Duration::from_secs(2));
                // The helper was reaped by the loop; std's handle is done.
                std::mem::forget(child);
                drop(scratch);
                result
            })
            .map_err(|e| TraceError::Start(format!("tracer thread: {e}")))?
    };
    let helper = started_rx
        .recv()
        .map_err(|_| TraceError::Start("tracer thread ended".into()))?
        .map_err(|e| TraceError::Start(format!("running {}: {e}", helper.display())))?;
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| TraceError::Start(e.to_string()))?;
    let mut running = Running {
        socket,
        pid: 0,
        program: String::new(),
        netns: std::fs::File::open("/dev/null").expect("/dev/null opens"),
        alive,
        exit,
        output,
        tracer: Some(tracer),
        handles: raw::pidfd_open(helper).into_iter().collect(),
    };
    loop {
        let message = sandbox::receive(&running.socket);
        match message {
            Ok(Some(Message::Pid(pid))) => {
                running.pid = pid;
                running.handles.extend(raw::pidfd_open(pid));
                if !running.program.is_empty() {
                    break;
                }
            }
            // The helper's "pid" and the container's "ready" race: both
            // are needed, in either order.
            Ok(Some(Message::Ready(program))) => {
                running.program = program;
                if running.pid > 0 {
                    break;
                }
            }
            Ok(Some(Message::Error(e))) => {
                let output = running.output();
                let _ = running.finish();
                return Err(TraceError::Setup(with_output(e, &output)));
            }
            Ok(None) | Err(_) => {
                let output = running.output();
                let _ = running.finish();
                return Err(TraceError::Setup(with_output(
                    "the sandbox's helper ended before the container was ready".into(),
                    &output,
                )));
            }
        }
    }
    let netns = format!("/proc/{}/ns/net", running.pid);
    running.netns = std::fs::File::open(&netns)
        .map_err(|e| TraceError::Start(format!("opening {netns}: {e}")))?;
    Ok(running)
}

fn with_output(message: String, output: &str) -> String {
    let tail = output.trim();
    if tail.is_empty() {
        message
    } else {
        format!("{message}; it printed: {}", last_lines(tail, 5))
    }
}

/// The last `n` lines of `text`, joined by " | " so they stay one line.
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

fn copy_output(mut stream: Box<dyn Read + Send>, output: &Mutex<Output>) {
    let mut buf = [0u8; 8192];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        output.lock().expect("output lock").push(&buf[..n]);
    }
}

impl Running {
    /// Lets the container execute its entry point.
    pub fn go(&mut self) -> Result<(), TraceError> {
        sandbox::go(&self.socket).map_err(|e| TraceError::Start(format!("starting: {e}")))?;
        // The socket closes on a successful exec; an error comes first.
        match sandbox::receive(&self.socket) {
            Ok(Some(Message::Error(e))) => Err(TraceError::Setup(e)),
            _ => Ok(()),
        }
    }

    /// The container's network namespace.
    pub fn netns(&self) -> &std::fs::File {
        &self.netns
    }

    /// True while any of the app's processes runs (the entry point may
    /// have exited, leaving a daemon it started).
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// How the entry point ended, if it did.
    pub fn exit_status(&self) -> Option<String> {
        self.exit.lock().expect("exit lock").clone()
    }

    /// What the app printed so far (the last 64 KiB or more).
    pub fn output(&self) -> String {
        let output = self.output.lock().expect("output lock");
        String::from_utf8_lossy(&output.bytes).into_owned()
    }

    /// Kills everything in the sandbox and returns the trace and all the
    /// app printed (read to its end).
    pub fn stop(mut self) -> Result<(Trace, String), TraceError> {
        let trace = self.finish()?;
        Ok((trace, self.output()))
    }

    fn finish(&mut self) -> Result<Trace, TraceError> {
        for handle in self.handles.drain(..) {
            raw::pidfd_kill(&handle);
        }
        match self.tracer.take() {
            Some(handle) => handle
                .join()
                .map_err(|_| TraceError::Trace("the tracer thread panicked".into()))?,
            None => Err(TraceError::Trace("already stopped".into())),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.tracer.is_some() {
            let _ = self.finish();
        }
    }
}

/// Per-thread state of the tracer.
#[derive(Default)]
struct Tracee {
    /// Index into `Trace::processes`.
    process: usize,
    recording: bool,
    /// Seen its first stop (a new child starts stopped).
    started: bool,
    /// Its parent's fork event is handled (so `recording` is known).
    announced: bool,
    /// Part of the app: the entry point's process or one it started.
    app: bool,
    /// Path arguments read at syscall entry, finished at exit.
    pending: Vec<(String, Use, &'static str, String)>,
    /// The set-id call in progress and its ids.
    ids: Option<(bool, Vec<u32>)>,
    exec: Option<String>,
    nr: u64,
}

struct Tracer {
    helper: Pid,
    record: bool,
    alive: Arc<AtomicBool>,
    exit: Arc<Mutex<Option<String>>>,
    tracees: HashMap<Pid, Tracee>,
    trace: Trace,
    seen: HashSet<(String, Use, Option<String>)>,
    /// The container's pid 1 (the helper's child, pare's reaper).
    container: Option<Pid>,
    /// The entry point's process: the first to execute a program.
    app: Option<Pid>,
    /// Recorded processes still running.
    running: usize,
    calls: Vec<Option<&'static PathCall>>,
}

impl Tracer {
    fn new(
        helper: Pid,
        record: bool,
        alive: Arc<AtomicBool>,
        exit: Arc<Mutex<Option<String>>>,
    ) -> Self {
        Tracer {
            helper,
            record,
            alive,
            exit,
            tracees: HashMap::new(),
            trace: Trace::default(),
            seen: HashSet::new(),
            container: None,
            app: None,
            running: 0,
            calls: path_call_table(),
        }
    }

    fn run(mut self) -> Result<Trace, TraceError> {
        let options = Options::PTRACE_O_TRACESYSGOOD
            | Options::PTRACE_O_TRACEFORK
            | Options::PTRACE_O_TRACEVFORK
            | Options::PTRACE_O_TRACECLONE
            | Options::PTRACE_O_TRACEEXEC
            | Options::PTRACE_O_EXITKILL;
        // The helper's own SIGSTOP after PTRACE_TRACEME.
        loop {
            match raw::wait_for(self.helper) {
                Ok(raw::Status::Stopped(_, signal)) if signal == Signal::SIGSTOP as i32 => break,
                Ok(raw::Status::Exited(_, code)) => {
                    return Err(TraceError::Start(format!(
                        "the sandbox's helper exited with status {code} before it started"
                    )));
                }
                Ok(raw::Status::Signaled(_, signal)) => {
                    return Err(TraceError::Start(format!(
                        "the sandbox's helper was killed by signal {signal} before it started"
                    )));
                }
                Ok(_) => continue,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(TraceError::Start(format!("waiting for the helper: {e}"))),
            }
        }
        ptrace::setoptions(self.helper, options)
            .map_err(|e| TraceError::Start(format!("ptrace options: {e}")))?;
        let process = self.new_process(self.helper.as_raw(), None);
        self.tracees.insert(
            self.helper,
            Tracee {
                process,
                started: true,
                announced: true,
                ..Default::default()
            },
        );
        self.resume(self.helper, None);
        loop {
            let status = match raw::wait_any() {
                Ok(status) => status,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(nix::errno::Errno::ECHILD) => break,
                Err(e) => return Err(TraceError::Trace(format!("waitpid: {e}"))),
            };
            self.trace.stops += 1;
            self.handle(status);
        }
        self.alive.store(false, Ordering::SeqCst);
        Ok(self.trace)
    }

    fn new_process(&mut self, pid: i32, parent: Option<i32>) -> usize {
        self.trace.processes.push(Process {
            pid,
            parent,
            ..Default::default()
        });
        self.trace.processes.len() - 1
    }

    fn resume(&self, pid: Pid, signal: Option<Signal>) {
        self.resume_raw(pid, signal.map_or(0, |s| s as i32));
    }

    /// Resumes with a raw signal number: real-time signals (glibc's
    /// SIGSETXID for set*id in threaded programs, Go's preemption) have no
    /// `Signal` value but must still be delivered.
    fn resume_raw(&self, pid: Pid, signal: i32) {
        let recording = self.tracees.get(&pid).is_some_and(|t| t.recording);
        raw::resume(pid, recording, signal);
    }

    fn handle(&mut self, status: raw::Status) {
        match status {
            raw::Status::Exited(pid, code) => self.ended(pid, format!("exited with status {code}")),
            raw::Status::Signaled(pid, signal) => {
                let name = Signal::try_from(signal)
                    .map_or_else(|_| format!("signal {signal}"), |s| s.as_str().to_string());
                self.ended(pid, format!("killed by {name}"))
            }
            raw::Status::Syscall(pid) => {
                self.syscall_stop(pid);
                self.resume(pid, None);
            }
            raw::Status::Event(pid, event) => {
                self.event(pid, event);
                self.resume(pid, None);
            }
            raw::Status::Stopped(pid, signal) => {
                let tracee = self.tracees.entry(pid).or_default();
                if !tracee.started && signal == Signal::SIGSTOP as i32 {
                    // A new child's first stop: hold it until its parent's
                    // fork event says whether it is recorded.
                    tracee.started = true;
                    if tracee.announced {
                        self.resume(pid, None);
                    }
                    return;
                }
                // A group-stop has no siginfo: let it go on, never inject.
                let deliver = match ptrace::getsiginfo(pid) {
                    Ok(_) => signal,
                    Err(_) => 0,
                };
                self.resume_raw(pid, deliver);
            }
            raw::Status::Other => {}
        }
    }

    fn ended(&mut self, pid: Pid, how: String) {
        if let Some(tracee) = self.tracees.remove(&pid) {
            let process = &mut self.trace.processes[tracee.process];
            if process.pid == pid.as_raw() {
                process.end = Some(how.clone());
            }
            if tracee.recording || tracee.app {
                self.running = self.running.saturating_sub(1);
            }
        }
        if Some(pid) == self.app {
            *self.exit.lock().expect("exit lock") = Some(how.clone());
            self.trace.exit = Some(how);
        }
        // The app is gone when its last process is, or with pid 1.
        if (self.app.is_some() && self.running == 0) || Some(pid) == self.container {
            self.alive.store(false, Ordering::SeqCst);
        }
    }

    fn event(&mut self, pid: Pid, event: i32) {
        let Ok(message) = ptrace::getevent(pid) else {
            return;
        };
        match event {
            nix::libc::PTRACE_EVENT_FORK
            | nix::libc::PTRACE_EVENT_VFORK
            | nix::libc::PTRACE_EVENT_CLONE => {
                let child = Pid::from_raw(message as i32);
                let parent = self.tracees.get(&pid);
                let recording = parent.is_some_and(|p| p.recording);
                let app_child = parent.is_some_and(|p| p.app);
                // A thread shares its process's record.
                let thread = event == nix::libc::PTRACE_EVENT_CLONE
                    && thread_group(child).is_some_and(|tgid| tgid != child.as_raw());
                let parent_process = parent.map(|p| p.process);
                let process = match (thread, parent_process) {
                    (true, Some(index)) => index,
                    _ => {
                        let parent_pid = parent_process.map(|i| self.trace.processes[i].pid);
                        let index = self.new_process(child.as_raw(), parent_pid);
                        if let Some(i) = parent_process {
                            self.trace.processes[index].exe = self.trace.processes[i]
                                .exe
                                .last()
                                .cloned()
                                .into_iter()
                                .collect();
                        }
                        index
                    }
                };
                if pid == self.helper && self.container.is_none() {
                    self.container = Some(child);
                }
                if app_child {
                    self.running += 1;
                }
                let tracee = self.tracees.entry(child).or_default();
                tracee.process = process;
                tracee.recording = recording;
                tracee.app = app_child;
                tracee.announced = true;
                if tracee.started {
                    self.resume(child, None);
                }
                if self.trace.processes.len() > MAX_PROCESSES
                    && let Some(container) = self.container
                {
                    let _ = nix::sys::signal::kill(container, Signal::SIGKILL);
                    self.trace.exit = Some(format!(
                        "stopped by pare: more than {MAX_PROCESSES} processes"
                    ));
                }
            }
            nix::libc::PTRACE_EVENT_EXEC => {
                // A non-leader thread's exec takes over the leader's pid.
                let former = Pid::from_raw(message as i32);
                if former != pid
                    && let Some(old) = self.tracees.remove(&former)
                {
                    self.tracees.insert(pid, old);
                }
                let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
                    .map(|p| p.to_string_lossy().into_owned())
                    .ok();
                let first = self.app.is_none() && pid != self.helper && Some(pid) != self.container;
                if first {
                    self.app = Some(pid);
                }
                let record = self.record;
                let Some(tracee) = self.tracees.get_mut(&pid) else {
                    return;
                };
                if first {
                    tracee.app = true;
                    tracee.recording = record;
                    self.running += 1;
                }
                let exe = tracee.exec.take().or(exe).unwrap_or_default();
                let index = tracee.process;
                if tracee.recording {
                    let process = &mut self.trace.processes[index];
                    process.exe.push(exe);
                }
            }
            _ => {}
        }
    }

    fn syscall_stop(&mut self, pid: Pid) {
        let Some(info) = syscall_info(pid) else {
            return;
        };
        match info {
            SyscallStop::Foreign => {
                self.trace.foreign_calls += 1;
                if let Some(tracee) = self.tracees.get_mut(&pid) {
                    tracee.pending.clear();
                    tracee.ids = None;
                }
            }
            SyscallStop::Entry { nr, args } => self.entry(pid, nr, args),
            SyscallStop::Exit { rval, is_error } => self.exit(pid, rval, is_error),
        }
    }

    fn entry(&mut self, pid: Pid, nr: u64, args: [u64; 6]) {
        let name = syscalls::Sysno::new(nr as usize).map_or("unknown", |s| s.name());
        let Some(tracee) = self.tracees.get_mut(&pid) else {
            return;
        };
        tracee.nr = nr;
        tracee.pending.clear();
        tracee.ids = None;
        let process = &self.trace.processes[tracee.process];
        let exe = process.exe.last().cloned().unwrap_or_default();
        self.trace
            .syscalls
            .entry(exe.clone())
            .or_default()
            .insert(name.to_string());
        if let Some(ids) = set_id_args(name, &args, pid) {
            tracee.ids = Some(ids);
        }
        if let Some(how) = match name {
            "bind" => Some(Use::Create),
            "connect" | "sendto" => Some(Use::Stat),
            _ => None,
        } {
            // A unix socket's path: bind makes it (its folder must be
            // writable in the new image), connect looks it up.
            let (address, len) = if name == "sendto" {
                (args[4], args[5])
            } else {
                (args[1], args[2])
            };
            if let Some(path) = unix_socket_path(pid, address, len)
                && let Some(absolute) = absolute(pid, None, &path)
            {
                tracee.pending.push((absolute, how, name, exe.clone()));
            }
            return;
        }
        let Some(call) = self.calls.get(nr as usize).copied().flatten() else {
            return;
        };
        for &(dirfd, path_arg) in call.paths {
            let Some(path) = read_string(pid, args[path_arg]) else {
                continue;
            };
            if path.is_empty() {
                continue; // AT_EMPTY_PATH: the fd itself, already known.
            }
            let how = match call.flags {
                Some(flags_arg) => open_use(call.name, args[flags_arg], pid),
                None => call.how,
            };
            let Some(absolute) = absolute(pid, dirfd.map(|a| args[a] as i32), &path) else {
                continue;
            };
            if matches!(how, Use::Exec) {
                tracee.exec = Some(absolute.clone());
            }
            tracee.pending.push((absolute, how, call.name, exe.clone()));
        }
    }

    fn exit(&mut self, pid: Pid, rval: i64, is_error: bool) {
        let Some(tracee) = self.tracees.get_mut(&pid) else {
            return;
        };
        let pending = std::mem::take(&mut tracee.pending);
        let ids = tracee.ids.take();
        let process = tracee.process;
        if !is_error && let Some((group, ids)) = ids {
            let set = if group {
                &mut self.trace.gids
            } else {
                &mut self.trace.uids
            };
            set.extend(ids);
        }
        let error = is_error.then(|| errno_name(-rval));
        let pid_number = self.trace.processes[process].pid;
        for (path, how, call, program) in pending {
            if error.is_some()
                && matches!(how, Use::Exec)
                && let Some(t) = self.tracees.get_mut(&pid)
            {
                t.exec = None;
            }
            // One record a (path, use, outcome): the first process to do it.
            if self.seen.len() >= MAX_ACCESSES {
                self.trace.truncated = true;
                continue;
            }
            let key = (path.clone(), how, error.clone());
            if self.seen.insert(key) {
                self.trace.accesses.push(Access {
                    path,
                    how,
                    call,
                    pid: pid_number,
                    program,
                    error: error.clone(),
                });
            }
        }
    }
}

/// waitpid and ptrace resumption on raw numbers: nix's `WaitStatus`
/// refuses a stop by a real-time signal (EINVAL), which threaded and Go
/// programs receive routinely.
#[allow(unsafe_code)]
mod raw {
    use nix::libc;
    use nix::unistd::Pid;

    pub enum Status {
        Exited(Pid, i32),
        Signaled(Pid, i32),
        Syscall(Pid),
        Event(Pid, i32),
        Stopped(Pid, i32),
        Other,
    }

    /// Waits for any child or tracee of this thread.
    pub fn wait_any() -> nix::Result<Status> {
        wait(-1)
    }

    /// Waits for `pid`.
    pub fn wait_for(pid: Pid) -> nix::Result<Status> {
        wait(pid.as_raw())
    }

    fn wait(which: i32) -> nix::Result<Status> {
        let mut status = 0;
        // SAFETY: waitpid writes one int through the valid pointer.
        let pid = unsafe { libc::waitpid(which, &mut status, libc::__WALL | libc::__WNOTHREAD) };
        if pid < 0 {
            return Err(nix::errno::Errno::last());
        }
        let pid = Pid::from_raw(pid);
        Ok(if libc::WIFEXITED(status) {
            Status::Exited(pid, libc::WEXITSTATUS(status))
        } else if libc::WIFSIGNALED(status) {
            Status::Signaled(pid, libc::WTERMSIG(status))
        } else if libc::WIFSTOPPED(status) {
            let signal = libc::WSTOPSIG(status);
            let event = status >> 16;
            if signal == libc::SIGTRAP | 0x80 {
                Status::Syscall(pid)
            } else if event != 0 {
                Status::Event(pid, event)
            } else {
                Status::Stopped(pid, signal)
            }
        } else {
            Status::Other
        })
    }

    /// A process descriptor for `pid` (None when it is gone already).
    pub fn pidfd_open(pid: i32) -> Option<std::os::fd::OwnedFd> {
        use std::os::fd::FromRawFd;
        // SAFETY: pidfd_open takes a pid and flags, returns a new fd.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        // SAFETY: a non-negative result is a descriptor we now own.
        (fd >= 0).then(|| unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) })
    }

    /// SIGKILL through a process descriptor: a process already reaped is
    /// not there to kill, and no other process can be hit.
    pub fn pidfd_kill(handle: &std::os::fd::OwnedFd) {
        use std::os::fd::AsRawFd;
        // SAFETY: no pointers but a null siginfo, which the call allows.
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                handle.as_raw_fd(),
                libc::SIGKILL,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            );
        }
    }

    /// PTRACE_SYSCALL (recording) or PTRACE_CONT, delivering `signal`
    /// (0: none). A tracee that died meanwhile is no error.
    pub fn resume(pid: Pid, recording: bool, signal: i32) {
        let request = if recording {
            libc::PTRACE_SYSCALL
        } else {
            libc::PTRACE_CONT
        };
        // SAFETY: resuming takes no pointers; data is the signal number.
        unsafe {
            libc::ptrace(
                request,
                pid.as_raw(),
                std::ptr::null_mut::<libc::c_void>(),
                signal as usize as *mut libc::c_void,
            );
        }
    }
}

/// The errno's symbolic name (`ENOENT`), as strace prints it.
fn errno_name(code: i64) -> String {
    format!("{:?}", nix::errno::Errno::from_raw(code as i32))
}

enum SyscallStop {
    /// A call of another architecture than pare's (a 32-bit program on a
    /// 64-bit kernel): its numbers mean other calls.
    Foreign,
    Entry {
        nr: u64,
        args: [u64; 6],
    },
    Exit {
        rval: i64,
        is_error: bool,
    },
}

/// The audit architecture of pare's own system calls.
#[cfg(target_arch = "x86_64")]
const NATIVE_AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const NATIVE_AUDIT_ARCH: u32 = 0xC000_00B7;

#[allow(unsafe_code)]
fn syscall_info(pid: Pid) -> Option<SyscallStop> {
    let info = ptrace::syscall_info(pid).ok()?;
    match info.op {
        nix::libc::PTRACE_SYSCALL_INFO_ENTRY if info.arch != NATIVE_AUDIT_ARCH => {
            Some(SyscallStop::Foreign)
        }
        nix::libc::PTRACE_SYSCALL_INFO_ENTRY => {
            // SAFETY: op ENTRY says the kernel filled the `entry` member.
            let entry = unsafe { info.u.entry };
            Some(SyscallStop::Entry {
                nr: entry.nr,
                args: entry.args,
            })
        }
        nix::libc::PTRACE_SYSCALL_INFO_EXIT => {
            // SAFETY: op EXIT says the kernel filled the `exit` member.
            let exit = unsafe { info.u.exit };
            Some(SyscallStop::Exit {
                rval: exit.sval,
                is_error: exit.is_error != 0,
            })
        }
        _ => None,
    }
}

/// The ids a set*id call asks for (group?, ids), `-1` ("unchanged")
/// left out.
fn set_id_args(name: &str, args: &[u64; 6], pid: Pid) -> Option<(bool, Vec<u32>)> {
    let ids = |n: usize| -> Vec<u32> {
        args[..n]
            .iter()
            .map(|a| *a as u32)
            .filter(|id| *id != u32::MAX)
            .collect()
    };
    Some(match name {
        "setuid" | "setfsuid" => (false, ids(1)),
        "setreuid" => (false, ids(2)),
        "setresuid" => (false, ids(3)),
        "setgid" | "setfsgid" => (true, ids(1)),
        "setregid" => (true, ids(2)),
        "setresgid" => (true, ids(3)),
        "setgroups" => {
            let count = (args[0] as usize).min(256);
            let bytes = read_bytes(pid, args[1], count * 4)?;
            let groups = bytes
                .chunks_exact(4)
                .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            (true, groups)
        }
        _ => return None,
    })
}

/// How an open uses its path, from its flags.
fn open_use(call: &str, flags_arg: u64, pid: Pid) -> Use {
    let flags = if call == "openat2" {
        // struct open_how { u64 flags; … }: the flags come first.
        match read_bytes(pid, flags_arg, 8) {
            Some(b) => u64::from_ne_bytes(b.try_into().unwrap_or([0; 8])) as i32,
            None => 0,
        }
    } else {
        flags_arg as i32
    };
    use nix::libc::{O_ACCMODE, O_CREAT, O_DIRECTORY, O_RDONLY, O_TRUNC};
    if flags & (O_CREAT | O_TRUNC) != 0 {
        Use::Create
    } else if flags & O_ACCMODE != O_RDONLY {
        Use::Write
    } else if flags & O_DIRECTORY != 0 {
        Use::List
    } else {
        Use::Read
    }
}

/// The absolute path `path` names for process `pid`, relative paths
/// joined to its working directory (`AT_FDCWD`) or to what `dirfd` is.
/// Paths are as the process sees them: /proc links of a process in the
/// sandbox read from outside its mount namespace give paths from the
/// sandbox's root.
fn absolute(pid: Pid, dirfd: Option<i32>, path: &str) -> Option<String> {
    if path.starts_with('/') {
        return Some(path.to_string());
    }
    let base = match dirfd {
        Some(fd) if fd != nix::libc::AT_FDCWD => format!("/proc/{pid}/fd/{fd}"),
        _ => format!("/proc/{pid}/cwd"),
    };
    let base = std::fs::read_link(base).ok()?;
    let base = base.to_string_lossy();
    if !base.starts_with('/') {
        return None; // a socket or pipe, not a folder
    }
    Some(if base == "/" {
        format!("/{path}")
    } else {
        format!("{base}/{path}")
    })
}

/// The file path of a `sockaddr_un` (None for other families, unnamed
/// and abstract sockets).
fn unix_socket_path(pid: Pid, address: u64, len: u64) -> Option<String> {
    if address == 0 || !(3..=110).contains(&len) {
        return None;
    }
    let bytes = read_bytes(pid, address, len as usize)?;
    let family = u16::from_ne_bytes([bytes[0], bytes[1]]);
    if family != nix::libc::AF_UNIX as u16 || bytes[2] == 0 {
        return None;
    }
    let path = &bytes[2..];
    let end = path.iter().position(|b| *b == 0).unwrap_or(path.len());
    Some(String::from_utf8_lossy(&path[..end]).into_owned())
}

fn read_bytes(pid: Pid, address: u64, len: usize) -> Option<Vec<u8>> {
    use nix::sys::uio::{RemoteIoVec, process_vm_readv};
    let mut buf = vec![0u8; len];
    let remote = [RemoteIoVec {
        base: address as usize,
        len,
    }];
    let n = process_vm_readv(pid, &mut [std::io::IoSliceMut::new(&mut buf)], &remote).ok()?;
    (n == len).then_some(buf)
}

/// A NUL-terminated string of the tracee, read a page at a time (the
/// string may end just before an unmapped page); at most PATH_MAX.
fn read_string(pid: Pid, address: u64) -> Option<String> {
    use nix::sys::uio::{RemoteIoVec, process_vm_readv};
    if address == 0 {
        return None;
    }
    const PAGE: u64 = 4096;
    let mut out = Vec::new();
    let mut at = address;
    while out.len() < 4096 {
        let len = (PAGE - at % PAGE) as usize;
        let mut buf = vec![0u8; len];
        let remote = [RemoteIoVec {
            base: at as usize,
            len,
        }];
        let n = process_vm_readv(pid, &mut [std::io::IoSliceMut::new(&mut buf)], &remote).ok()?;
        if let Some(end) = buf[..n].iter().position(|b| *b == 0) {
            out.extend_from_slice(&buf[..end]);
            return Some(String::from_utf8_lossy(&out).into_owned());
        }
        out.extend_from_slice(&buf[..n]);
        at += n as u64;
        if n == 0 {
            return None;
        }
    }
    None
}

/// A system call that names paths: which arguments are (dirfd, path),
/// and how it uses them (or which argument holds open flags).
struct PathCall {
    name: &'static str,
    paths: &'static [(Option<usize>, usize)],
    how: Use,
    flags: Option<usize>,
}

const fn call(name: &'static str, paths: &'static [(Option<usize>, usize)], how: Use) -> PathCall {
    PathCall {
        name,
        paths,
        how,
        flags: None,
    }
}

const P0: &[(Option<usize>, usize)] = &[(None, 0)];
const P1: &[(Option<usize>, usize)] = &[(None, 1)];
const AT: &[(Option<usize>, usize)] = &[(Some(0), 1)];
const TWO: &[(Option<usize>, usize)] = &[(None, 0), (None, 1)];
const TWO_AT: &[(Option<usize>, usize)] = &[(Some(0), 1), (Some(2), 3)];

static PATH_CALLS: &[PathCall] = &[
    PathCall {
        name: "open",
        paths: P0,
        how: Use::Read,
        flags: Some(1),
    },
    PathCall {
        name: "openat",
        paths: AT,
        how: Use::Read,
        flags: Some(2),
    },
    PathCall {
        name: "openat2",
        paths: AT,
        how: Use::Read,
        flags: Some(2),
    },
    call("creat", P0, Use::Create),
    call("execve", P0, Use::Exec),
    call("execveat", AT, Use::Exec),
    call("stat", P0, Use::Stat),
    call("lstat", P0, Use::Stat),
    call("newfstatat", AT, Use::Stat),
    call("fstatat64", AT, Use::Stat),
    call("statx", AT, Use::Stat),
    call("access", P0, Use::Stat),
    call("faccessat", AT, Use::Stat),
    call("faccessat2", AT, Use::Stat),
    call("readlink", P0, Use::Stat),
    call("readlinkat", AT, Use::Stat),
    call("statfs", P0, Use::Stat),
    call("getxattr", P0, Use::Stat),
    call("lgetxattr", P0, Use::Stat),
    call("listxattr", P0, Use::Stat),
    call("llistxattr", P0, Use::Stat),
    call("chdir", P0, Use::List),
    call("chroot", P0, Use::List),
    call("mkdir", P0, Use::Create),
    call("mkdirat", AT, Use::Create),
    call("mknod", P0, Use::Create),
    call("mknodat", AT, Use::Create),
    call("unlink", P0, Use::Create),
    call("unlinkat", AT, Use::Create),
    call("rmdir", P0, Use::Create),
    call("rename", TWO, Use::Create),
    call("renameat", TWO_AT, Use::Create),
    call("renameat2", TWO_AT, Use::Create),
    call("link", TWO, Use::Create),
    call("linkat", TWO_AT, Use::Create),
    call("symlink", P1, Use::Create),
    call("symlinkat", &[(Some(1), 2)], Use::Create),
    call("chmod", P0, Use::Write),
    call("fchmodat", AT, Use::Write),
    call("chown", P0, Use::Write),
    call("lchown", P0, Use::Write),
    call("fchownat", AT, Use::Write),
    call("utimensat", AT, Use::Write),
    call("utimes", P0, Use::Write),
    call("utime", P0, Use::Write),
    call("truncate", P0, Use::Write),
    call("inotify_add_watch", P1, Use::Stat),
];

/// Path calls by system call number, for this architecture.
fn path_call_table() -> Vec<Option<&'static PathCall>> {
    let mut table: Vec<Option<&'static PathCall>> = vec![None; syscalls::Sysno::table_size()];
    for call in PATH_CALLS {
        if let Ok(sysno) = call.name.parse::<syscalls::Sysno>() {
            let nr = sysno.id() as usize;
            if nr < table.len() {
                table[nr] = Some(call);
            }
        }
    }
    table
}

/// A path's folder (`/a/b` → `/a`).
pub fn parent(path: &str) -> Option<&str> {
    let trimmed = path.trim_end_matches('/');
    let (head, _) = trimmed.rsplit_once('/')?;
    Some(if head.is_empty() { "/" } else { head })
}

/// The thread group (process) a thread belongs to.
fn thread_group(tid: Pid) -> Option<i32> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Tgid:"))
        .and_then(|t| t.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_call_is_a_system_call_of_this_architecture_or_an_old_name() {
        let table = path_call_table();
        let known: usize = table.iter().filter(|c| c.is_some()).count();
        // x86_64 has all but fstatat64 (a 32-bit name).
        assert!(known >= PATH_CALLS.len() - 6, "only {known} known");
        for name in ["openat", "execve", "newfstatat", "statx", "mkdirat"] {
            let nr = name.parse::<syscalls::Sysno>().unwrap().id() as usize;
            assert_eq!(table[nr].map(|c| c.name), Some(name));
        }
    }

    #[test]
    fn open_flags_say_how_a_path_is_used() {
        use nix::libc::*;
        let me = Pid::this();
        let table = [
            (O_RDONLY, Use::Read),
            (O_RDONLY | O_CLOEXEC, Use::Read),
            (O_RDONLY | O_DIRECTORY, Use::List),
            (O_WRONLY, Use::Write),
            (O_RDWR, Use::Write),
            (O_WRONLY | O_CREAT, Use::Create),
            (O_RDWR | O_TRUNC, Use::Create),
        ];
        for (flags, want) in table {
            assert_eq!(open_use("openat", flags as u64, me), want, "{flags:o}");
        }
    }

    #[test]
    fn parents() {
        assert_eq!(parent("/var/lib/nginx/body"), Some("/var/lib/nginx"));
        assert_eq!(parent("/run"), Some("/"));
        assert_eq!(parent("/"), None);
    }

    #[test]
    fn unix_socket_paths_are_read_from_sockaddr_un() {
        let table: &[(&[u8], Option<&str>)] = &[
            (b"/run/app.sock\0", Some("/run/app.sock")),
            (b"relative.sock\0", Some("relative.sock")),
            (b"\0abstract", None),
            (b"", None),
        ];
        for (path, want) in table {
            let mut address = (nix::libc::AF_UNIX as u16).to_ne_bytes().to_vec();
            address.extend_from_slice(path);
            let got = unix_socket_path(Pid::this(), address.as_ptr() as u64, address.len() as u64);
            assert_eq!(got.as_deref(), *want, "{path:?}");
        }
        // Another family is no path.
        let inet = [nix::libc::AF_INET as u8, 0, 0, 80, 127, 0, 0, 1];
        assert_eq!(unix_socket_path(Pid::this(), inet.as_ptr() as u64, 8), None);
    }

    #[test]
    fn strings_are_read_across_page_ends() {
        // Our own memory: a string placed to cross a page boundary.
        let mut block = vec![0u8; 3 * 4096];
        let base = block.as_ptr() as u64;
        let start = (4096 - base % 4096) as usize + 4096 - 3;
        block[start..start + 9].copy_from_slice(b"/etc/pass");
        block[start + 9] = 0;
        let read = read_string(Pid::this(), base + start as u64).unwrap();
        assert_eq!(read, "/etc/pass");
    }
}
