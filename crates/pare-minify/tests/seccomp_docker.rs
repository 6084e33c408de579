//! `pare_minify::seccomp::profile` against the real consumer: Docker's
//! `--security-opt seccomp=FILE`, with runc loading the filter. The image is
//! built here from Debian's busybox-static (one static binary, so the only
//! system calls are busybox's own and the runtime's). Needs a running Docker
//! Engine and busybox-static: skipped locally without them, a failure under
//! CI=true.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pare_minify::seccomp::{Arch, profile};
use pare_testkit::{missing, tool};

const IMAGE: &str = "pare-test/seccomp-busybox:latest";

/// What a static glibc program like busybox calls to start, read its
/// arguments, make a folder and exit, by reasoning about glibc's static
/// start-up (TLS, robust futexes, rseq, the stack limit, /proc/self/exe for
/// busybox's applet lookup, random bytes for the stack protector) and the
/// calls busybox's applets make — generous on purpose: the test is about
/// what the profile adds and what it leaves out, not about busybox.
const GENEROUS: &[&str] = &[
    "execve",
    "arch_prctl",
    "set_tid_address",
    "set_robust_list",
    "rseq",
    "brk",
    "mmap",
    "munmap",
    "mprotect",
    "prlimit64",
    "readlink",
    "readlinkat",
    "getrandom",
    "uname",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getpid",
    "getppid",
    "prctl",
    "ioctl",
    "read",
    "write",
    "writev",
    "openat",
    "close",
    "newfstatat",
    "fstat",
    "stat",
    "lstat",
    "statx",
    "lseek",
    "fcntl",
    "rt_sigaction",
    "rt_sigprocmask",
    "umask",
    "getcwd",
    "exit_group",
];

fn docker() -> Option<()> {
    tool("docker")?;
    let ok = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Some(())
    } else {
        missing("a running Docker Engine")
    }
}

/// Debian's static busybox, as `dpkg -L busybox-static` lists it.
fn busybox_static() -> Option<PathBuf> {
    let listed = Command::new("dpkg")
        .args(["-L", "busybox-static"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let found = listed
        .lines()
        .map(PathBuf::from)
        .find(|p| p.file_name().is_some_and(|n| n == "busybox") && p.is_file());
    if found.is_none() {
        missing("busybox-static (apt-get install busybox-static)")?;
    }
    found
}

/// A one-binary image: /bin/busybox and an empty /tmp.
fn build_image(busybox: &Path, dir: &Path) {
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    std::fs::copy(busybox, root.join("bin/busybox")).unwrap();
    let archive = dir.join("root.tar");
    let tar = Command::new("tar")
        .args(["--owner=0", "--group=0", "-cf"])
        .arg(&archive)
        .arg("-C")
        .arg(&root)
        .args(["bin", "tmp"])
        .status()
        .unwrap();
    assert!(tar.success(), "tar");
    let import = Command::new("docker")
        .arg("import")
        .arg(&archive)
        .arg(IMAGE)
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "docker import: {}",
        String::from_utf8_lossy(&import.stderr)
    );
}

fn run(dir: &Path, names: &[&str], tag: &str, argv: &[&str]) -> Output {
    run_with(dir, names, tag, &[], argv)
}

fn run_with(dir: &Path, names: &[&str], tag: &str, options: &[&str], argv: &[&str]) -> Output {
    // Names the host's architecture lacks (readlink on arm64) are dropped,
    // as the tracer would never have seen them there.
    let arch = Arch::parse(std::env::consts::ARCH).expect("a host pare supports");
    let observed: BTreeSet<String> = names
        .iter()
        .filter(|n| arch.canonical(n).is_some())
        .map(|n| n.to_string())
        .collect();
    let document = profile(&observed, std::env::consts::ARCH).unwrap();
    let file = dir.join(format!("{tag}.json"));
    std::fs::write(&file, serde_json::to_vec_pretty(&document).unwrap()).unwrap();
    Command::new("docker")
        .args(["run", "--rm", "--network", "none", "--security-opt"])
        .arg(format!("seccomp={}", file.display()))
        .args(options)
        .arg(IMAGE)
        .args(argv)
        .output()
        .unwrap()
}

fn describe(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn docker_runs_busybox_under_the_profile_and_the_profile_denies_what_it_lacks() {
    if docker().is_none() {
        return;
    }
    let Some(busybox) = busybox_static() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    build_image(&busybox, dir.path());

    // The app's calls plus what the profile adds for runc start the app.
    let out = run(dir.path(), GENEROUS, "true", &["/bin/busybox", "true"]);
    assert!(out.status.success(), "busybox true: {}", describe(&out));

    // runc loads the filter later with no_new_privileges: that path too.
    let out = run_with(
        dir.path(),
        GENEROUS,
        "true-nnp",
        &["--security-opt", "no-new-privileges"],
        &["/bin/busybox", "true"],
    );
    assert!(
        out.status.success(),
        "busybox true, no-new-privileges: {}",
        describe(&out)
    );

    // With mkdir allowed, mkdir works: the failure below is the filter's.
    let with_mkdir: Vec<&str> = GENEROUS
        .iter()
        .copied()
        .chain(["mkdir", "mkdirat"])
        .collect();
    let out = run(
        dir.path(),
        &with_mkdir,
        "mkdir",
        &["/bin/busybox", "mkdir", "/tmp/x"],
    );
    assert!(
        out.status.success(),
        "busybox mkdir allowed: {}",
        describe(&out)
    );

    // Without it, the call fails with EPERM (defaultErrnoRet 1), named.
    let out = run(
        dir.path(),
        GENEROUS,
        "no-mkdir",
        &["/bin/busybox", "mkdir", "/tmp/x"],
    );
    assert!(
        !out.status.success(),
        "busybox mkdir denied: {}",
        describe(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Operation not permitted"),
        "busybox mkdir denied: {}",
        describe(&out)
    );
}
