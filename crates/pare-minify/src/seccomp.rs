//! `--seccomp FILE`: a Docker/OCI seccomp profile that allows the system
//! calls the traced app made and nothing else, plus what the runtime itself
//! still calls after it has loaded the filter and before the app's own
//! `execve`, plus the few calls every process makes at exit and on signals
//! whether or not the trace happened to see them.
//!
//! The document has the shape of moby's `profiles/seccomp/default.json`
//! (`defaultAction`, `defaultErrnoRet`, `archMap`, `syscalls[].names`), so
//! `docker run --security-opt seccomp=FILE` and any OCI runtime that reads
//! that format take it as it is. Denied calls fail with `EPERM` (errno 1)
//! rather than killing the process: a program that probes for an optional
//! call (`close_range`, `faccessat2`, `clone3`…) falls back the way it
//! would on an older kernel, and one that really needs a missing call says
//! "Operation not permitted", which names the problem.

use std::collections::BTreeSet;
use std::str::FromStr;

use serde_json::{Value, json};

/// What runc's `runc init` calls between loading the container's filter
/// and `execve` of the app: the filter applies to these too, so a profile
/// without them stops the container before the app starts.
///
/// Where runc loads the filter depends on `no_new_privileges`
/// (runc `libcontainer/standard_init_linux.go`, `linuxStandardInit.Init`;
/// lines 190–305 at commit 76d9cf5 (1.5 development), lines 168–260 at
/// v1.1.5 (f19387a), the runc Debian 12 ships and Docker runs here):
/// with it, `seccomp.InitSeccomp` runs "as close to execve as possible",
/// after `finalizeNamespace`; without it — Docker's default, since loading
/// a filter without `no_new_privs` needs `CAP_SYS_ADMIN` — it runs *before*
/// `finalizeNamespace`, which then still drops capabilities and switches
/// user under the filter. This list covers the longer path, so one profile
/// serves both. The filter is loaded with `prctl(PR_SET_SECCOMP)` and no
/// `SECCOMP_FILTER_FLAG_TSYNC` (`patchbpf.sysSeccompSetFilter`, flags 0),
/// so it binds only runc's locked init thread, the one that calls execve.
///
/// Measured with Docker 20.10.24 and runc 1.1.5 (tests/seccomp_docker.rs
/// builds the image; each name was taken out of a `busybox true` profile
/// in turn): without no_new_privileges the container does not start
/// without any of capget, capset, chdir, close, execve, fstat, fstatfs,
/// futex (the Go runtime aborts), getcwd, getdents64, getppid, newfstatat,
/// openat, prctl, read, setgid, setgroups, setuid, write; with
/// `--security-opt no-new-privileges`, only close, execve, fstatfs, futex,
/// getdents64, openat and write are still called after the filter. The
/// rest of the list covers runc's other versions and fallbacks as read
/// from its source.
///
/// Names a given architecture does not have (`open` on aarch64) are left
/// out of that architecture's profile.
pub const RUNTIME_SYSCALLS: &[&str] = &[
    // finalizeNamespace → utils.CloseExecFrom: probes close_range with an
    // F_DUPFD_CLOEXEC copy of fd 0, else walks /proc/thread-self/fd
    // (pathrs-lite opens procfs with openat2 and checks it with fstatfs,
    // statx and readlinkat, falling back to openat when those are denied).
    "fcntl",
    "close_range",
    "close",
    "openat",
    "openat2",
    "open",
    "getdents64",
    "fstat",
    "newfstatat",
    "statx",
    "fstatfs",
    "readlinkat",
    // finalizeNamespace: chdir to the config's cwd, before and after the
    // user switch; verifyCwd's getcwd (CVE-2024-21626).
    "chdir",
    "getcwd",
    // capabilities.ApplyBoundingSet, SetKeepCaps, ClearKeepCaps, ApplyCaps:
    // prctl(PR_CAPBSET_DROP, PR_SET_KEEPCAPS, PR_CAP_AMBIENT), capget, capset.
    "prctl",
    "capget",
    "capset",
    // setupUser: fixStdioPermissions (fstat, fchown of fds 0–2), reads
    // /proc/self/setgroups (v1.1.5 also the image's /etc/passwd and
    // /etc/group), then setgroups, setgid, setuid. Through cgo these are
    // glibc's, which make every thread follow with SIGSETXID: tgkill, futex.
    "fchown",
    "read",
    "lseek",
    "setgroups",
    "setgid",
    "setuid",
    "setresgid",
    "setresuid",
    "tgkill",
    "futex",
    // pdeath.Restore (prctl, above); the reparenting check: getppid, and
    // kill(getpid(), SIGKILL) when the parent died.
    "getppid",
    "getpid",
    "kill",
    // exec.LookPath and system.Eaccess (v1.1.5): stat, faccessat2, falling
    // back to access(2) after comparing real and effective ids.
    "faccessat2",
    "faccessat",
    "access",
    "stat",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    // Closing the sync and log pipes: Go's poller deregisters them.
    "epoll_ctl",
    // The exec fifo: reopened through /proc/self/fd, one byte written.
    "write",
    // utils.UnsafeCloseFrom walks /proc/thread-self/fd again (calls above),
    // then linux.Exec / system.Exec: execve, retried on EINTR.
    "execve",
    // The Go runtime on the locked thread while it waits or allocates:
    // futex (above), nanosleep, sched_yield, mmap, munmap, madvise,
    // signal delivery (preemption is a SIGURG), the netpoller, the clock.
    "nanosleep",
    "sched_yield",
    "mmap",
    "munmap",
    "madvise",
    "rt_sigprocmask",
    "sigaltstack",
    "gettid",
    "epoll_pwait",
    "epoll_wait",
    "clock_gettime",
];

/// What any process may need at exit and on signals, whether or not the
/// trace saw it: a run that was never interrupted by a signal makes no
/// `rt_sigreturn`, a single-threaded run no `exit`, and a denied exit
/// leaves a process that cannot die.
pub const PROCESS_SYSCALLS: &[&str] = &[
    "exit",
    "exit_group",
    "rt_sigreturn",
    // The 32-bit spelling (arm, i386 sub-architectures).
    "sigreturn",
    // The kernel restarts a system call interrupted by a stopped-and-
    // continued signal through this one.
    "restart_syscall",
];

/// Why no profile could be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SeccompError {
    /// The image's architecture is not one pare has system call tables for.
    #[error(
        "no seccomp profile for architecture {0:?}: pare knows the system calls of amd64 (x86_64) and arm64 (aarch64)"
    )]
    UnsupportedArch(String),
    /// Observed names that are no system call of the architecture: a trace
    /// of another architecture, or a typo, would otherwise make a profile
    /// that silently allows nothing in their place.
    #[error("not system calls of {arch}: {}", names.join(", "))]
    UnknownSyscalls {
        arch: &'static str,
        names: Vec<String>,
    },
}

/// The architectures pare writes profiles for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    /// An image's architecture, as OCI (`amd64`, `arm64`) or the kernel
    /// (`x86_64`, `aarch64`) spells it.
    pub fn parse(text: &str) -> Result<Arch, SeccompError> {
        match text {
            "amd64" | "x86_64" | "x86-64" => Ok(Arch::X86_64),
            "arm64" | "arm64/v8" | "aarch64" => Ok(Arch::Aarch64),
            _ => Err(SeccompError::UnsupportedArch(text.to_string())),
        }
    }

    /// The kernel's name.
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }

    /// The name libseccomp (and so runc) knows this architecture's system
    /// call by, or `None` when it is none of this architecture's.
    ///
    /// The `syscalls` crate spells two aarch64 calls after the generic
    /// table's macro names, not the kernel's exported ones that libseccomp
    /// uses (checked against libseccomp 2.5.4's `scmp_sys_resolver` for
    /// every name of both tables): number 79 is `newfstatat`, number 84
    /// `sync_file_range`. A profile naming `fstatat` would be skipped by
    /// runc as unknown ("unknown seccomp syscall ignored") and deny the
    /// call. Both spellings are accepted here; the profile gets libseccomp's.
    pub fn canonical(self, name: &str) -> Option<&'static str> {
        match self {
            Arch::X86_64 => syscalls::x86_64::Sysno::from_str(name)
                .ok()
                .map(|s| s.name()),
            Arch::Aarch64 => match name {
                "newfstatat" | "fstatat" => Some("newfstatat"),
                "sync_file_range" | "sync_file_range2" => Some("sync_file_range"),
                _ => syscalls::aarch64::Sysno::from_str(name)
                    .ok()
                    .map(|s| s.name()),
            },
        }
    }
}

/// The system calls a profile for `observed` on `arch` allows: the
/// observed ones, [`RUNTIME_SYSCALLS`] and [`PROCESS_SYSCALLS`] where the
/// architecture has them; sorted, each once.
pub fn allowed(observed: &BTreeSet<String>, arch: &str) -> Result<BTreeSet<String>, SeccompError> {
    let arch = Arch::parse(arch)?;
    let mut names = BTreeSet::new();
    let mut unknown = Vec::new();
    for name in observed {
        match arch.canonical(name) {
            Some(known) => {
                names.insert(known.to_string());
            }
            None => unknown.push(name.clone()),
        }
    }
    if !unknown.is_empty() {
        return Err(SeccompError::UnknownSyscalls {
            arch: arch.name(),
            names: unknown,
        });
    }
    names.extend(
        RUNTIME_SYSCALLS
            .iter()
            .chain(PROCESS_SYSCALLS)
            .filter_map(|name| arch.canonical(name))
            .map(str::to_string),
    );
    Ok(names)
}

/// The profile document for `observed` system calls of an image of
/// architecture `arch` (see [`allowed`]).
///
/// `archMap` names both architectures with their compatibility
/// sub-architectures, as moby's default does: the runtime picks the entry
/// of the host it runs on, so a 32-bit helper the app runs is filtered by
/// the same names instead of getting past the filter. runc skips a name
/// libseccomp does not know for an architecture rather than failing.
pub fn profile(observed: &BTreeSet<String>, arch: &str) -> Result<Value, SeccompError> {
    let names: Vec<String> = allowed(observed, arch)?.into_iter().collect();
    Ok(json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "archMap": [
            {
                "architecture": "SCMP_ARCH_X86_64",
                "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            },
            {
                "architecture": "SCMP_ARCH_AARCH64",
                "subArchitectures": ["SCMP_ARCH_ARM"],
            },
        ],
        "syscalls": [
            {
                "names": names,
                "action": "SCMP_ACT_ALLOW",
            },
        ],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn names(profile: &Value) -> Vec<&str> {
        profile["syscalls"][0]["names"]
            .as_array()
            .expect("names")
            .iter()
            .map(|n| n.as_str().expect("a name is a string"))
            .collect()
    }

    #[test]
    fn the_document_has_moby_s_shape() {
        let p = profile(&set(&["read"]), "amd64").unwrap();
        let keys: Vec<&String> = p.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["archMap", "defaultAction", "defaultErrnoRet", "syscalls"]
        );
        assert_eq!(p["defaultAction"], "SCMP_ACT_ERRNO");
        assert_eq!(p["defaultErrnoRet"], 1);
        let arches: Vec<(&str, Vec<&str>)> = p["archMap"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let subs = a["subArchitectures"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap())
                    .collect();
                (a["architecture"].as_str().unwrap(), subs)
            })
            .collect();
        assert_eq!(
            arches,
            [
                ("SCMP_ARCH_X86_64", vec!["SCMP_ARCH_X86", "SCMP_ARCH_X32"]),
                ("SCMP_ARCH_AARCH64", vec!["SCMP_ARCH_ARM"]),
            ]
        );
        let rules = p["syscalls"].as_array().unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0]["action"], "SCMP_ACT_ALLOW");
        assert_eq!(
            rules[0].as_object().unwrap().len(),
            2,
            "names and action only"
        );
    }

    #[test]
    fn names_are_sorted_once_each_and_include_runtime_and_exit() {
        // (arch, observed, must be allowed, must not be)
        type Case<'a> = (&'a str, &'a [&'a str], &'a [&'a str], &'a [&'a str]);
        let cases: &[Case] = &[
            (
                "amd64",
                &["mkdir", "read", "read"],
                &[
                    "mkdir",
                    "execve",
                    "exit_group",
                    "rt_sigreturn",
                    "capset",
                    "open",
                ],
                &["sigreturn", "mkdirat", "socket"],
            ),
            (
                "x86_64",
                &[],
                &["execve", "exit", "restart_syscall", "futex"],
                &["mkdir"],
            ),
            (
                "arm64",
                &["mkdirat"],
                &["mkdirat", "execve", "newfstatat", "rt_sigreturn"],
                &["open", "mkdir", "stat", "sigreturn", "fstatat"],
            ),
            (
                "aarch64",
                &["fstatat", "sync_file_range2"],
                &["newfstatat", "sync_file_range"],
                &["fstatat", "sync_file_range2"],
            ),
        ];
        for (arch, observed, present, absent) in cases {
            let p = profile(&set(observed), arch).unwrap();
            let got = names(&p);
            let mut sorted = got.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(got, sorted, "{arch}: sorted and deduplicated");
            for name in *present {
                assert!(got.contains(name), "{arch}: {name} missing from {got:?}");
            }
            for name in *absent {
                assert!(
                    !got.contains(name),
                    "{arch}: {name} should not be in {got:?}"
                );
            }
        }
    }

    #[test]
    fn every_built_in_name_is_a_system_call_of_some_architecture() {
        // A typo in the built-in lists would silently allow nothing.
        for name in RUNTIME_SYSCALLS.iter().chain(PROCESS_SYSCALLS) {
            let known = [Arch::X86_64, Arch::Aarch64]
                .iter()
                .any(|a| a.canonical(name).is_some())
                // sigreturn is the 32-bit sub-architectures' spelling.
                || *name == "sigreturn";
            assert!(known, "{name}");
        }
        // execve and exit_group exist on both, so every profile has them.
        for arch in ["amd64", "arm64"] {
            let got = allowed(&BTreeSet::new(), arch).unwrap();
            assert!(
                got.contains("execve") && got.contains("exit_group"),
                "{arch}"
            );
        }
    }

    #[test]
    fn unknown_names_and_architectures_are_refused() {
        let cases: &[(&str, &[&str], SeccompError)] = &[
            (
                "amd64",
                &["read", "frobnicate", "mkdir "],
                SeccompError::UnknownSyscalls {
                    arch: "x86_64",
                    names: vec!["frobnicate".into(), "mkdir ".into()],
                },
            ),
            (
                // aarch64 has no open(2): a trace of another architecture.
                "arm64",
                &["open", "openat"],
                SeccompError::UnknownSyscalls {
                    arch: "aarch64",
                    names: vec!["open".into()],
                },
            ),
            (
                "amd64",
                &[""],
                SeccompError::UnknownSyscalls {
                    arch: "x86_64",
                    names: vec!["".into()],
                },
            ),
            (
                "riscv64",
                &["read"],
                SeccompError::UnsupportedArch("riscv64".into()),
            ),
            ("", &[], SeccompError::UnsupportedArch("".into())),
        ];
        for (arch, observed, want) in cases {
            assert_eq!(
                profile(&set(observed), arch).unwrap_err(),
                *want,
                "{arch} {observed:?}"
            );
        }
        let message = profile(&set(&["frobnicate"]), "amd64")
            .unwrap_err()
            .to_string();
        assert_eq!(message, "not system calls of x86_64: frobnicate");
    }
}
