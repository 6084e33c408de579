//! The sandbox: a container built by pare itself, no daemon.
//!
//! Why not youki's `libcontainer`: it starts the container's process from
//! its own intermediate process after a cgroup and state-directory set-up,
//! so pare could only attach to it from outside after the fact (missing
//! the first exec's loader opens) and would carry cgroups, a state store
//! and an OCI runtime spec it does not need. pare needs one thing those
//! runtimes do not give: the process must be a ptrace child of pare's
//! tracer thread from its first instruction. The set-up itself is the
//! same short sequence runc and youki make, written against [`Sys`] so its
//! order is tested without root.
//!
//! Three processes:
//! - pare's tracer thread spawns **the helper**, pare's own binary run as
//!   `pare __sandbox-init SPEC FD`, which asks to be traced, stops, then
//!   unshares the mount, UTS, IPC, network and PID namespaces (and the user
//!   namespace when not root) and forks;
//! - **the container** (pid 1 in the new PID namespace, traced from birth)
//!   builds its root ([`container_setup`]), reports `ready` over the
//!   socket FD, waits for `go`, then executes the entry point;
//! - pare meanwhile opens the container's network namespace (probes and
//!   the Lambda runtime API live there) and lets it go.
//!
//! Everything dies with pare: the traced processes by `PTRACE_O_EXITKILL`,
//! the helper by `PR_SET_PDEATHSIG`, and the rest with pid 1 of the
//! namespace.

use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;
use nix::sys::resource::Resource;
use serde::{Deserialize, Serialize};

use crate::sys::{Linux, Sys, SysResult, under};

/// The hidden subcommand the helper runs as.
pub const INIT_ARG: &str = "__sandbox-init";

/// How to run one process in the sandbox: what a container runtime reads
/// from an image's config, resolved to numbers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Spec {
    /// The materialised root, a folder pare owns.
    pub root: PathBuf,
    pub argv: Vec<String>,
    pub env: Vec<String>,
    /// The working directory inside the root (made when missing, as
    /// runtimes do).
    pub cwd: String,
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub hostname: String,
    /// (resource name, soft, hard), applied before exec.
    pub rlimits: Vec<(String, u64, u64)>,
    /// The name the old root is moved to during pivot_root: random, made
    /// by pare, so neither the image nor a running app can take it first.
    #[serde(default)]
    pub put_old: String,
    /// Join this network namespace (`/proc/PID/ns/net` of a running
    /// sandbox) instead of making a new one: a probe command reaches the
    /// app on its loopback.
    #[serde(default)]
    pub join_netns: Option<PathBuf>,
}

/// The limits a sandboxed app runs with: no core dumps, bounded file
/// sizes and open files, as a cautious runtime sets them.
pub fn default_rlimits() -> Vec<(String, u64, u64)> {
    vec![
        ("RLIMIT_CORE".into(), 0, 0),
        ("RLIMIT_NOFILE".into(), 65536, 65536),
        ("RLIMIT_FSIZE".into(), 4 << 30, 4 << 30),
        ("RLIMIT_NPROC".into(), 4096, 4096),
    ]
}

fn resource(name: &str) -> Option<Resource> {
    Some(match name {
        "RLIMIT_CORE" => Resource::RLIMIT_CORE,
        "RLIMIT_NOFILE" => Resource::RLIMIT_NOFILE,
        "RLIMIT_FSIZE" => Resource::RLIMIT_FSIZE,
        "RLIMIT_NPROC" => Resource::RLIMIT_NPROC,
        "RLIMIT_AS" => Resource::RLIMIT_AS,
        "RLIMIT_CPU" => Resource::RLIMIT_CPU,
        _ => return None,
    })
}

/// Device nodes bound from the host into the fresh /dev: the set every
/// OCI runtime provides.
pub const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];

/// Parts of /proc a container must not write (they reach the host kernel).
const PROC_READ_ONLY: &[&str] = &[
    "/proc/sys",
    "/proc/sysrq-trigger",
    "/proc/irq",
    "/proc/bus",
    "/proc/fs",
];
/// Files of /proc hidden behind /dev/null, as Docker masks them.
const PROC_MASKED: &[&str] = &[
    "/proc/kcore",
    "/proc/keys",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/latency_stats",
    "/proc/sched_debug",
];
/// Folders of /proc hidden behind an empty read-only tmpfs (Docker's
/// masked folders): they reach host hardware.
const PROC_MASKED_FOLDERS: &[&str] = &["/proc/acpi", "/proc/scsi", "/proc/asound"];

/// Builds the container's root from inside its new mount namespace:
/// private propagation, the root bound onto itself, pivot_root into it
/// (the old root under `put_old`, a fresh name pare made), a fresh /proc
/// with the host-reaching parts read-only or masked, a minimal /dev, the
/// old root detached, the hostname, loopback, resource limits, the
/// working directory, then capabilities dropped and the user switched.
/// Everything after pivot_root names paths inside the new root, where an
/// image's symlinks cannot point out of it.
pub fn container_setup(sys: &dyn Sys, spec: &Spec, put_old: &str) -> SysResult {
    sys.mount(
        None,
        Path::new("/"),
        None,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None,
    )?;
    let root = spec.root.to_string_lossy();
    sys.mount(
        Some(&root),
        &spec.root,
        None,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None,
    )?;
    sys.chdir(&spec.root)?;
    sys.mkdir_new(&under(&spec.root, put_old), 0o700)?;
    sys.pivot_root(&spec.root, &under(&spec.root, put_old))?;
    sys.chdir(Path::new("/"))?;
    let old = |p: &str| format!("/{put_old}{p}");

    sys.mkdir(Path::new("/proc"), 0o555)?;
    let hardened = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    sys.mount(
        Some("proc"),
        Path::new("/proc"),
        Some("proc"),
        hardened,
        None,
    )?;

    sys.mkdir(Path::new("/dev"), 0o755)?;
    sys.mount(
        Some("tmpfs"),
        Path::new("/dev"),
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
        Some("mode=755,size=65536k"),
    )?;
    for device in DEVICES {
        let target = PathBuf::from(format!("/dev/{device}"));
        sys.write_file(&target, b"", 0o666)?;
        sys.mount(
            Some(&old(&format!("/dev/{device}"))),
            &target,
            None,
            MsFlags::MS_BIND,
            None,
        )?;
    }
    sys.mkdir(Path::new("/dev/pts"), 0o755)?;
    sys.mount(
        Some("devpts"),
        Path::new("/dev/pts"),
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620"),
    )?;
    sys.symlink("pts/ptmx", Path::new("/dev/ptmx"))?;
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        sys.symlink(target, &PathBuf::from(format!("/dev/{name}")))?;
    }
    sys.mkdir(Path::new("/dev/shm"), 0o1777)?;
    sys.mount(
        Some("shm"),
        Path::new("/dev/shm"),
        Some("tmpfs"),
        hardened,
        Some("mode=1777,size=65536k"),
    )?;

    for path in PROC_READ_ONLY {
        let path = Path::new(path);
        // Absent on some kernels; binding what is not there is no error.
        if sys
            .mount(
                Some(&path.to_string_lossy()),
                path,
                None,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None,
            )
            .is_ok()
        {
            sys.mount(
                None,
                path,
                None,
                MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_REC,
                None,
            )?;
        }
    }
    // Masks: what a kernel does not have is not there to mask.
    for path in PROC_MASKED {
        let _ = sys.mount(
            Some("/dev/null"),
            Path::new(path),
            None,
            MsFlags::MS_BIND,
            None,
        );
    }
    for path in PROC_MASKED_FOLDERS {
        let _ = sys.mount(
            Some("tmpfs"),
            Path::new(path),
            Some("tmpfs"),
            MsFlags::MS_RDONLY,
            Some("size=0"),
        );
    }

    sys.umount(Path::new(&format!("/{put_old}")), MntFlags::MNT_DETACH)?;
    sys.rmdir(Path::new(&format!("/{put_old}")))?;

    sys.sethostname(&spec.hostname)?;
    if spec.join_netns.is_none() {
        sys.loopback_up()?;
    }
    for (name, soft, hard) in &spec.rlimits {
        if let Some(resource) = resource(name) {
            sys.setrlimit(resource, *soft, *hard)?;
        }
    }
    make_dirs(sys, &spec.cwd)?;
    sys.chdir(Path::new(&spec.cwd))?;
    sys.drop_capabilities()?;
    sys.set_ids(spec.uid, spec.gid, &spec.groups)?;
    sys.no_new_privs()
}

/// `mkdir -p` inside the new root.
fn make_dirs(sys: &dyn Sys, path: &str) -> SysResult {
    let mut at = PathBuf::from("/");
    for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
        at.push(part);
        sys.mkdir(&at, 0o755)?;
    }
    Ok(())
}

/// Finds `program` the way runc does: a name with a slash as it is
/// (against the working directory), else the first executable regular
/// file of that name on the environment's PATH.
pub fn find_program(program: &str, env: &[String]) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    path.split(':').filter(|d| !d.is_empty()).find_map(|dir| {
        let candidate = Path::new(dir).join(program);
        let meta = std::fs::metadata(&candidate).ok()?;
        (meta.is_file() && meta.permissions().mode() & 0o111 != 0).then_some(candidate)
    })
}

/// What the helper and the container say to pare over the socket.
#[derive(Debug, PartialEq, Eq)]
pub enum Message {
    /// The helper forked the container: its pid as pare sees it.
    Pid(i32),
    /// The container is built and will execute this program on `go`.
    Ready(String),
    /// Set-up failed; the sandbox is gone.
    Error(String),
}

impl Message {
    pub fn parse(text: &str) -> Option<Message> {
        let (word, rest) = text.split_once(' ').unwrap_or((text, ""));
        match word {
            "pid" => rest.trim().parse().ok().map(Message::Pid),
            "ready" => Some(Message::Ready(rest.to_string())),
            "error" => Some(Message::Error(rest.to_string())),
            _ => None,
        }
    }
}

fn send(socket: &UnixDatagram, text: &str) {
    // Best effort: a gone pare means the sandbox dies anyway.
    let _ = socket.send(text.as_bytes());
}

/// The helper's main, run as `pare __sandbox-init SPEC_FILE FD` (args
/// after the subcommand). Never returns.
pub fn init_main(args: &[String]) -> ! {
    let code = match init(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("pare sandbox: {message}");
            127
        }
    };
    std::process::exit(code)
}

fn init(args: &[String]) -> Result<i32, String> {
    use nix::sys::wait::{WaitStatus, waitpid};
    use nix::unistd::{ForkResult, fork};
    let [spec_path, fd] = args else {
        return Err(format!("usage: pare {INIT_ARG} SPEC FD"));
    };
    let fd: i32 = fd.parse().map_err(|_| format!("bad socket fd {fd:?}"))?;
    let parent = nix::unistd::getppid();
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL).map_err(|e| e.to_string())?;
    if nix::unistd::getppid() != parent {
        return Err("pare exited before the sandbox started".into());
    }
    // SAFETY of ownership: pare passed this fd for this process alone.
    let socket = socket_from_fd(fd);
    let spec: Spec = std::fs::read(spec_path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        .map_err(|e| format!("reading {spec_path}: {e}"))?;
    // Out of pare's session and process group, away from its terminal:
    // `kill(0, …)` from the app must not reach pare or its shell.
    nix::unistd::setsid().map_err(|e| format!("setsid: {e}"))?;
    // Traced from here: the tracer sets its options at this stop.
    nix::sys::ptrace::traceme().map_err(|e| format!("ptrace(TRACEME): {e}"))?;
    nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP).map_err(|e| e.to_string())?;

    let rootless = !nix::unistd::geteuid().is_root();
    let (uid, gid) = (nix::unistd::geteuid(), nix::unistd::getegid());
    let mut flags = CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWPID;
    match &spec.join_netns {
        Some(path) => {
            let joined = std::fs::File::open(path)
                .map_err(|e| e.to_string())
                .and_then(|ns| {
                    nix::sched::setns(ns, CloneFlags::CLONE_NEWNET).map_err(|e| e.to_string())
                });
            if let Err(e) = joined {
                let message = format!("joining {}: {e}", path.display());
                send(&socket, &format!("error {message}"));
                return Err(message);
            }
        }
        None => flags |= CloneFlags::CLONE_NEWNET,
    }
    if rootless {
        flags |= CloneFlags::CLONE_NEWUSER;
    }
    if let Err(e) = nix::sched::unshare(flags) {
        let message = format!("unshare namespaces: {e}");
        send(&socket, &format!("error {message}"));
        return Err(message);
    }
    if rootless {
        // Root inside maps to the user who ran pare, and only that user.
        let maps = [
            ("/proc/self/setgroups", "deny".to_string()),
            ("/proc/self/uid_map", format!("0 {uid} 1")),
            ("/proc/self/gid_map", format!("0 {gid} 1")),
        ];
        for (file, text) in maps {
            if let Err(e) = std::fs::write(file, text) {
                let message = format!("writing {file}: {e}");
                send(&socket, &format!("error {message}"));
                return Err(message);
            }
        }
    }
    // SAFETY: this process is single-threaded (the helper's main runs
    // before anything starts a thread), so the child may do anything.
    #[allow(unsafe_code)]
    let forked = unsafe { fork() };
    match forked.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
            Ok(container_main(socket, &spec))
        }
        ForkResult::Parent { child } => {
            send(&socket, &format!("pid {child}"));
            drop(socket);
            loop {
                match waitpid(child, None) {
                    Ok(WaitStatus::Exited(_, code)) => return Ok(code),
                    Ok(WaitStatus::Signaled(_, signal, _)) => return Ok(128 + signal as i32),
                    Ok(_) => continue,
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => return Err(format!("waiting for the container: {e}")),
                }
            }
        }
    }
}

#[allow(unsafe_code)]
fn socket_from_fd(fd: i32) -> UnixDatagram {
    // SAFETY: pare created this fd for the helper and passed its number;
    // nothing else in this process owns it.
    UnixDatagram::from(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The container side: build the root, report, wait for `go`, execute.
fn container_main(socket: UnixDatagram, spec: &Spec) -> i32 {
    let socket = &socket;
    if let Err(e) = container_setup(&Linux, spec, &spec.put_old) {
        send(socket, &format!("error {e}"));
        return 126;
    }
    let Some(program) = spec.argv.first().and_then(|p| find_program(p, &spec.env)) else {
        let name = spec.argv.first().cloned().unwrap_or_default();
        send(
            socket,
            &format!("error {name:?}: not found on the image's PATH"),
        );
        return 127;
    };
    let shown = program.to_string_lossy().into_owned();
    send(socket, &format!("ready {shown}"));
    let mut go = [0u8; 8];
    match socket.recv(&mut go) {
        Ok(n) if &go[..n] == b"go" => {}
        _ => return 125,
    }
    // Nothing of pare's reaches the app: descriptors pare inherited (a
    // directory handed down by a CI runner would be a way out of the
    // root), pare's session keyring, and pid 1's memory.
    close_on_exec_all();
    Linux.new_session_keyring().ok();
    let _ = nix::sys::prctl::set_dumpable(false);
    // Built here, installed in the entry point's process just before it
    // executes (pid 1, pare's reaper, makes none of the denied calls).
    let filter = match crate::filter::programs() {
        Ok(programs) => programs,
        Err(e) => {
            send(socket, &format!("error seccomp filter: {e}"));
            return 126;
        }
    };
    // Pid 1 stays pare's: it reaps orphans and keeps the namespace alive
    // while any process runs, so an app that forks into the background
    // and exits (a classic daemon) is still followed, as under
    // `docker run --init`.
    // SAFETY: single-threaded (the helper never starts threads).
    #[allow(unsafe_code)]
    let forked = unsafe { nix::unistd::fork() };
    match forked {
        Ok(nix::unistd::ForkResult::Child) => {
            let cstr = |s: &str| CString::new(s.as_bytes()).unwrap_or_default();
            let path = cstr(&shown);
            let argv: Vec<CString> = spec.argv.iter().map(|a| cstr(a)).collect();
            let env: Vec<CString> = spec.env.iter().map(|e| cstr(e)).collect();
            if let Err(e) = filter.iter().try_for_each(|p| seccompiler::apply_filter(p)) {
                send(socket, &format!("error installing the seccomp filter: {e}"));
                std::process::exit(126)
            }
            let Err(e) = nix::unistd::execve(&path, &argv, &env);
            send(socket, &format!("error exec {shown}: {e}"));
            std::process::exit(127)
        }
        Ok(nix::unistd::ForkResult::Parent { child }) => {
            // pare learns that the exec worked when the socket closes:
            // pid 1 must not hold it open (the entry point's copy still
            // reports an exec failure). It exits from here, so the closed
            // descriptor is never dropped again.
            let _ = nix::unistd::close(std::os::fd::AsRawFd::as_raw_fd(socket));
            std::process::exit(reap(child))
        }
        Err(e) => {
            send(socket, &format!("error fork: {e}"));
            125
        }
    }
}

/// Marks every open descriptor but stdin, stdout and stderr close-on-exec
/// (read from /proc/self/fd, the container's own /proc by now).
fn close_on_exec_all() {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let fds: Vec<i32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|fd| *fd > 2)
        .collect();
    for fd in fds {
        // SAFETY-free: fcntl on a number that may already be closed (the
        // directory's own descriptor) just fails.
        let _ = nix::fcntl::fcntl(
            unsafe_borrow(fd),
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
        );
    }
}

#[allow(unsafe_code)]
fn unsafe_borrow(fd: i32) -> std::os::fd::BorrowedFd<'static> {
    // SAFETY: used only for one fcntl(F_SETFD) on a descriptor number read
    // from /proc/self/fd; a number closed meanwhile makes fcntl fail with
    // EBADF, nothing worse.
    unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }
}

/// Pid 1's loop: reaps every process until none is left, then exits with
/// the entry point's status.
fn reap(entry_point: nix::unistd::Pid) -> i32 {
    use nix::sys::wait::{WaitStatus, waitpid};
    let mut status = 0;
    loop {
        match waitpid(None, None) {
            Ok(WaitStatus::Exited(pid, code)) if pid == entry_point => status = code,
            Ok(WaitStatus::Signaled(pid, signal, _)) if pid == entry_point => {
                status = 128 + signal as i32
            }
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return status,
        }
    }
}

/// pare's end of the helper's socket, and the number the helper gets.
pub fn socket_pair() -> std::io::Result<(UnixDatagram, OwnedFd)> {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
    // The helper's end must survive exec (no CLOEXEC); it is made, passed
    // and closed by the one thread that spawns the helper.
    let (ours, theirs) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::empty(),
    )?;
    nix::fcntl::fcntl(
        &ours,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    )?;
    Ok((UnixDatagram::from(ours), theirs))
}

/// Reads one message from the helper or the container.
pub fn receive(socket: &UnixDatagram) -> std::io::Result<Option<Message>> {
    let mut buf = [0u8; 4096];
    let n = socket.recv(&mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    Ok(Message::parse(&String::from_utf8_lossy(&buf[..n])))
}

/// Says `go` to the container.
pub fn go(socket: &UnixDatagram) -> std::io::Result<()> {
    socket.send(b"go").map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Recorder;

    fn spec() -> Spec {
        Spec {
            root: PathBuf::from("/tmp/r/root"),
            argv: vec!["nginx".into()],
            env: vec!["PATH=/usr/bin".into()],
            cwd: "/var/www".into(),
            uid: 33,
            gid: 33,
            groups: vec![33],
            hostname: "pare".into(),
            rlimits: vec![("RLIMIT_CORE".into(), 0, 0)],
            join_netns: None,
            put_old: "old".into(),
        }
    }

    #[test]
    fn set_up_pivots_before_mounting_anything_inside_the_root() {
        let recorder = Recorder::default();
        container_setup(&recorder, &spec(), "old").unwrap();
        let calls = recorder.calls.borrow();
        let at = |prefix: &str| {
            calls
                .iter()
                .position(|c| c.starts_with(prefix))
                .unwrap_or_else(|| panic!("no call {prefix} in {calls:#?}"))
        };
        assert_eq!(calls[0], "mount none / - MS_REC|MS_PRIVATE");
        assert!(at("pivot_root /tmp/r/root /tmp/r/root/old") < at("mount proc /proc proc"));
        assert!(at("mount proc") < at("mount tmpfs /dev tmpfs"));
        assert!(at("mount /old/dev/null /dev/null") < at("umount /old"));
        assert!(at("umount /old") < at("sethostname pare"));
        // Capabilities go before the user switch (which needs CAP_SETUID),
        // no_new_privs last.
        assert!(at("drop_capabilities") < at("set_ids 33 33 [33]"));
        assert_eq!(calls.last().unwrap(), "no_new_privs");
        assert!(at("mkdir /var/www") < at("chdir /var/www"));
    }

    #[test]
    fn every_host_reaching_part_of_proc_is_read_only() {
        let recorder = Recorder::default();
        container_setup(&recorder, &spec(), "old").unwrap();
        let calls = recorder.calls.borrow();
        for path in PROC_READ_ONLY {
            assert!(
                calls
                    .iter()
                    .any(|c| c.starts_with(&format!("mount none {path} -"))
                        && c.contains("MS_RDONLY")),
                "{path} not remounted read-only: {calls:#?}"
            );
        }
    }

    #[test]
    fn a_failed_step_stops_the_set_up_there() {
        let recorder = Recorder {
            fail_on: Some("pivot_root".into()),
            ..Default::default()
        };
        let err = container_setup(&recorder, &spec(), "old").unwrap_err();
        assert_eq!(err.call, "pivot_root");
        assert!(
            recorder
                .calls
                .borrow()
                .last()
                .unwrap()
                .starts_with("pivot_root")
        );
    }

    #[test]
    fn messages_parse() {
        let table = [
            ("pid 42", Some(Message::Pid(42))),
            (
                "ready /usr/sbin/nginx",
                Some(Message::Ready("/usr/sbin/nginx".into())),
            ),
            (
                "error mount /proc: EPERM",
                Some(Message::Error("mount /proc: EPERM".into())),
            ),
            ("pid x", None),
            ("hello", None),
        ];
        for (text, want) in table {
            assert_eq!(Message::parse(text), want, "{text}");
        }
    }
}
