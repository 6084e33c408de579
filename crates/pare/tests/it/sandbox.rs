//! pare's sandbox holds what it runs: the traced program cannot write
//! outside its root, reach any address but its own loopback, see or
//! signal pare, or outlive it; a program that forks into the background
//! and exits is still followed. Each test runs hostile shell commands
//! from the BusyBox test image through `pare trace`.

use std::net::TcpListener;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;
use crate::require;

/// `pare trace` of `script` under /bin/sh in the BusyBox image, for
/// `seconds` at most: the command, for tests to run or spawn.
fn trace_command(busybox: &std::path::Path, script: &str, seconds: &str) -> std::process::Command {
    let mut command = pare();
    command.args([
        "trace",
        &format!("docker-archive:{}", busybox.display()),
        "--entrypoint",
        "/bin/sh",
        "--cmd",
        "-c",
        "--cmd",
        script,
        "--probe-duration",
        seconds,
        "--format",
        "json",
    ]);
    command
}

/// Runs `script` under /bin/sh in the BusyBox image in pare's sandbox;
/// returns `pare trace --format json`.
fn trace_script(script: &str, seconds: &str) -> Value {
    let busybox = test_image("busybox").expect("busybox image");
    let out = trace_command(&busybox, script, seconds)
        .output()
        .expect("pare runs");
    assert!(
        out.status.success(),
        "pare trace failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("trace JSON")
}

fn output_of(trace: &Value) -> String {
    trace["output"].as_str().unwrap_or_default().to_string()
}

#[test]
fn sandbox_cannot_write_outside_its_root() {
    require!(root());
    require!(test_image("busybox"));
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    let v = victim.display();
    // Every way out this image's tools offer; each prints ESCAPED when it
    // works.
    let script = format!(
        "echo pwned > {v} && echo ESCAPED-write-path; \
         echo pwned > /../../..{v} && echo ESCAPED-dotdot; \
         busybox mount -t tmpfs none /mnt 2>/dev/null && echo ESCAPED-mount; \
         busybox mknod /tmp/disk b 8 0 2>/dev/null && echo ESCAPED-mknod; \
         v=$(cat /proc/sys/vm/overcommit_memory); echo $v > /proc/sys/vm/overcommit_memory 2>/dev/null && echo ESCAPED-proc-sys; \
         busybox ls /proc/1/root{v} 2>/dev/null && echo ESCAPED-proc-root; \
         busybox mkdir -p /x && busybox chroot /x /bin/sh -c true 2>/dev/null; \
         busybox ls {parent} 2>/dev/null | busybox grep -q victim && echo ESCAPED-see-host; \
         echo done",
        parent = outside.path().display()
    );
    let trace = trace_script(&script, "5");
    let output = output_of(&trace);
    assert!(output.contains("done"), "the script did not run: {trace}");
    assert!(!output.contains("ESCAPED"), "escaped the sandbox: {output}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    // The write landed inside the sandbox's own root, where the trace saw
    // it.
    let accesses = trace["accesses"].as_array().unwrap();
    assert!(
        accesses
            .iter()
            .any(|a| a["path"] == victim.display().to_string() && a["use"] == "create"),
        "{trace}"
    );
}

#[test]
fn sandbox_denies_namespaces_keyrings_and_bpf() {
    require!(root());
    require!(test_image("busybox"));
    // Without pare's seccomp filter the first two work: the sandbox's root
    // lacks CAP_SYS_ADMIN, but an unprivileged user namespace needs none
    // and hands the app a full capability set inside it. (Keyrings and
    // bpf have no BusyBox applet: the filter's unit tests make those
    // calls.)
    let script = "busybox unshare --help >/dev/null 2>&1 && echo have-unshare; \
         busybox unshare -U true 2>&1 && echo ESCAPED-userns; \
         busybox unshare -U -r -m true 2>&1 && echo ESCAPED-userns-mount; \
         echo done";
    let trace = trace_script(script, "5");
    let output = output_of(&trace);
    assert!(output.contains("done"), "the script did not run: {trace}");
    assert!(
        output.contains("have-unshare"),
        "no unshare applet: {output}"
    );
    assert!(!output.contains("ESCAPED"), "escaped the sandbox: {output}");
    assert!(output.contains("Operation not permitted"), "{output}");
}

/// An address of this machine that is not loopback.
fn host_address() -> Option<String> {
    let out = std::process::Command::new("hostname")
        .arg("-I")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split_whitespace()
        .find(|a| a.contains('.') && !a.starts_with("127."))
        .map(str::to_string)
}

#[test]
fn sandbox_reaches_only_its_own_loopback() {
    require!(root());
    require!(test_image("busybox"));
    let Some(address) = host_address() else {
        assert!(!in_ci(), "this machine has no non-loopback address");
        return;
    };
    let listener = TcpListener::bind("0.0.0.0:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let script = format!(
        "busybox nc -w 2 {address} {port} </dev/null && echo ESCAPED-host; \
         busybox nc -w 2 127.0.0.1 {port} </dev/null && echo ESCAPED-host-loopback; \
         busybox ip addr 2>/dev/null | busybox grep -c 'inet ' ; echo done"
    );
    let trace = trace_script(&script, "8");
    let output = output_of(&trace);
    assert!(output.contains("done"), "{trace}");
    assert!(!output.contains("ESCAPED"), "reached the host: {output}");
    assert!(
        listener.accept().is_err(),
        "a connection reached the host's listener"
    );
}

#[test]
fn sandbox_hides_pare_and_a_kill_of_everything_leaves_it_standing() {
    require!(root());
    require!(test_image("busybox"));
    // kill -9 -1 signals every process the sender can see: only the
    // sandbox's own (pid 1, the shell, and the pipeline's three); kill 0
    // signals the sender's process group: not pare's.
    // The test's own pid (pare's parent) is not a process in there: no
    // signal, no /proc entry, so nothing to ptrace either.
    let me = std::process::id();
    let script = format!(
        "busybox kill -0 {me} 2>/dev/null && echo ESCAPED-signal; \
         busybox cat /proc/{me}/status 2>/dev/null | busybox grep -q Name && echo ESCAPED-proc; \
         echo pids: $(busybox ls /proc | busybox grep -c '^[0-9]'); \
         busybox kill -STOP 0; busybox kill -9 0; busybox kill -9 -1; echo survived"
    );
    let trace = trace_script(&script, "5");
    let output = output_of(&trace);
    assert!(!output.contains("ESCAPED"), "{output}");
    let pids: usize = output
        .split("pids:")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no pid count in {output:?}"));
    assert!(pids <= 5, "the sandbox sees {pids} processes: {output}");
}

/// Everything in the places pare materialises roots (shared memory, or
/// the temporary folder).
fn scratch_folders() -> Vec<std::path::PathBuf> {
    [std::env::temp_dir(), "/dev/shm".into()]
        .iter()
        .filter_map(|base| std::fs::read_dir(base).ok())
        .flat_map(|entries| entries.flatten().map(|e| e.path()))
        .collect()
}

/// Processes whose argv is exactly `argv`.
fn processes_with(argv: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if text.trim_end() == argv {
            found.push(pid);
        }
    }
    found
}

#[test]
fn sandbox_dies_with_pare() {
    require!(root());
    let busybox = require!(test_image("busybox"));
    let mut child = trace_command(&busybox, "busybox sleep 4242 & busybox sleep 4343", "120")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while processes_with("busybox sleep 4343").is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the app never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let killed = Instant::now();
    while !(processes_with("busybox sleep 4242").is_empty()
        && processes_with("busybox sleep 4343").is_empty())
    {
        assert!(
            killed.elapsed() < Duration::from_secs(5),
            "the sandbox outlived pare: {:?}",
            processes_with("busybox sleep 4242")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The next run removes the root the killed one left behind.
    let pid = child.id();
    trace_script("true", "1");
    let left: Vec<String> = scratch_folders()
        .into_iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("pare-root-{pid}-")))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn sandbox_follows_a_daemon_that_forks_and_exits() {
    require!(root());
    require!(test_image("busybox"));
    let trace = trace_script(
        "(busybox sleep 0.5; busybox cat /etc/daemon-marker) & echo parent-exits",
        // The run ends when the last process does; this only bounds it.
        "20",
    );
    let entry_exit = trace["exit"].as_str().unwrap_or_default();
    assert_eq!(entry_exit, "exited with status 0", "{trace}");
    let accesses = trace["accesses"].as_array().unwrap();
    let looked = accesses
        .iter()
        .find(|a| a["path"] == "/etc/daemon-marker")
        .unwrap_or_else(|| panic!("the background child was not followed: {trace}"));
    assert_eq!(looked["error"], "ENOENT");
}

#[test]
fn sandbox_runs_rootless_in_a_user_namespace() {
    require!(root());
    require!(tool("setpriv"));
    let busybox = require!(test_image("busybox"));
    // pare, the image and a scratch folder that the unprivileged user can
    // reach, then pare run as `nobody`.
    let work = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let binary = work.path().join("pare");
    std::fs::copy(env!("CARGO_BIN_EXE_pare"), &binary).unwrap();
    let image = work.path().join("busybox.tar");
    std::fs::copy(&busybox, &image).unwrap();
    std::fs::set_permissions(&image, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = std::process::Command::new("setpriv")
        .args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            "--",
        ])
        .arg(&binary)
        .args([
            "trace",
            &format!("docker-archive:{}", image.display()),
            "--entrypoint",
            "/bin/sh",
            "--cmd",
            "-c",
            "--cmd",
            "busybox id -u; busybox cat /etc/rootless-marker; echo done",
            "--probe-duration",
            "5",
            "--format",
            "json",
        ])
        .env("TMPDIR", work.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let trace: Value = serde_json::from_slice(&out.stdout).unwrap();
    let output = output_of(&trace);
    // Root inside its own user namespace, traced like any other run.
    assert!(
        output.starts_with("0\n") && output.contains("done"),
        "{output}"
    );
    assert!(
        trace["accesses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["path"] == "/etc/rootless-marker" && a["error"] == "ENOENT"),
        "{trace}"
    );
}

#[test]
fn sandbox_gets_none_of_pares_inherited_descriptors() {
    require!(root());
    let busybox = require!(test_image("busybox"));
    // A CI runner that leaks a directory descriptor must not hand the app
    // the host's file system.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), "host").unwrap();
    let dir = std::fs::File::open(outside.path()).unwrap();
    let script = "busybox ls /proc/self/fd/; busybox cat /proc/self/fd/*/secret 2>/dev/null && echo ESCAPED; echo done";
    let mut command = trace_command(&busybox, script, "5");
    // The descriptor stays open (no close-on-exec) in pare, as a careless
    // parent would leave it.
    let raw = std::os::fd::AsRawFd::as_raw_fd(&dir);
    nix::fcntl::fcntl(
        &dir,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    )
    .unwrap();
    let out = command.output().unwrap();
    drop(dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace: Value = serde_json::from_slice(&out.stdout).unwrap();
    let output = output_of(&trace);
    assert!(output.contains("done"), "{output}");
    assert!(
        !output.contains("ESCAPED"),
        "fd {raw} reached the app: {output}"
    );
}

#[test]
fn the_materialised_root_is_private_to_pare() {
    require!(root());
    let busybox = require!(test_image("busybox"));
    // While the app runs, the folder holding its root admits no one else.
    let mut child = trace_command(&busybox, "busybox sleep 4545", "60")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let folder = loop {
        let found = scratch_folders().into_iter().find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("pare-root-{}-", child.id()))
        });
        if let Some(path) = found {
            break path;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("no root folder appeared");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&folder).unwrap().permissions().mode() & 0o777;
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(mode, 0o700, "{}", folder.display());
}
