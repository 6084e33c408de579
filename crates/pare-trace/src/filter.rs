//! The sandbox's seccomp filter: a short deny list, installed in the
//! entry point's process just before it executes the image's code.
//!
//! Capabilities and `no_new_privs` already close what needs privilege;
//! this closes the kernel surface an unprivileged process still reaches
//! and an app never needs, following Docker's default profile (moby
//! `profiles/seccomp/default.json`): the keyrings (`keyctl`, `add_key`,
//! `request_key`), `bpf`, `userfaultfd`, `perf_event_open`, io_uring,
//! module and kexec loading, `open_by_handle_at`, port I/O, swap,
//! `reboot`, mounting, and above all new namespaces (`unshare`, `setns`,
//! `clone` with a `CLONE_NEW*` flag): an unprivileged user namespace
//! hands the app a full capability set over fresh kernel objects, the
//! root of most container escapes of recent years.
//!
//! Everything else is allowed: a deny list, not an allow list, because
//! pare runs apps it has never seen and a filter that breaks one is worse
//! than none. Denied calls fail with `EPERM`, which apps already handle
//! (it is what they get without the capability), and the filter returns
//! errors only (no `SECCOMP_RET_TRACE` or user notification), so pare's
//! ptrace tracer sees the process as before. `clone3` fails with `ENOSYS`
//! instead, as under Docker: its flags sit in memory a filter cannot
//! read, and on `ENOSYS` glibc and musl fall back to `clone`, whose flags
//! argument the filter checks.
//!
//! Built for the native architecture only (x86_64 and aarch64; elsewhere
//! there is no filter, see [`programs`]). seccompiler's programs kill a
//! process making a system call of another architecture (an i386
//! `int 0x80` on x86_64), so such calls cannot slip past the deny list;
//! an i386 binary in an amd64 image therefore does not run in the
//! sandbox. On x86_64 the x32 ABI (numbers with bit 30 set, the same
//! audit architecture) is refused with `ENOSYS`, as on a kernel without
//! it: otherwise `keyctl | 0x40000000` would be a way round the list.

use std::collections::BTreeMap;

use nix::libc;
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

/// Denied outright with `EPERM`: the name (for documentation and tests)
/// and the native number.
pub const DENIED: &[(&str, libc::c_long)] = &[
    ("keyctl", libc::SYS_keyctl),
    ("add_key", libc::SYS_add_key),
    ("request_key", libc::SYS_request_key),
    ("bpf", libc::SYS_bpf),
    ("userfaultfd", libc::SYS_userfaultfd),
    ("perf_event_open", libc::SYS_perf_event_open),
    ("io_uring_setup", libc::SYS_io_uring_setup),
    ("io_uring_enter", libc::SYS_io_uring_enter),
    ("io_uring_register", libc::SYS_io_uring_register),
    ("kexec_load", libc::SYS_kexec_load),
    ("kexec_file_load", libc::SYS_kexec_file_load),
    ("init_module", libc::SYS_init_module),
    ("finit_module", libc::SYS_finit_module),
    ("delete_module", libc::SYS_delete_module),
    ("open_by_handle_at", libc::SYS_open_by_handle_at),
    ("name_to_handle_at", libc::SYS_name_to_handle_at),
    #[cfg(target_arch = "x86_64")]
    ("iopl", libc::SYS_iopl),
    #[cfg(target_arch = "x86_64")]
    ("ioperm", libc::SYS_ioperm),
    ("swapon", libc::SYS_swapon),
    ("swapoff", libc::SYS_swapoff),
    ("reboot", libc::SYS_reboot),
    ("mount", libc::SYS_mount),
    ("umount2", libc::SYS_umount2),
    ("pivot_root", libc::SYS_pivot_root),
    // The newer mount API, the same power as `mount`.
    ("open_tree", libc::SYS_open_tree),
    ("move_mount", libc::SYS_move_mount),
    ("fsopen", libc::SYS_fsopen),
    ("fsconfig", libc::SYS_fsconfig),
    ("fsmount", libc::SYS_fsmount),
    ("fspick", libc::SYS_fspick),
    ("mount_setattr", libc::SYS_mount_setattr),
    ("setns", libc::SYS_setns),
    ("unshare", libc::SYS_unshare),
];

/// The `clone` flags that make a new namespace; `clone` with any of them
/// fails with `EPERM`. (`CLONE_NEWTIME` is only for `unshare` and
/// `clone3`: in `clone`'s flags its bit is part of the exit signal.)
pub const CLONE_NAMESPACE_FLAGS: &[libc::c_int] = &[
    libc::CLONE_NEWNS,
    libc::CLONE_NEWCGROUP,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
];

/// The native architecture, when pare builds a filter for it.
fn native_arch() -> Option<TargetArch> {
    if cfg!(target_arch = "x86_64") {
        Some(TargetArch::x86_64)
    } else if cfg!(target_arch = "aarch64") {
        Some(TargetArch::aarch64)
    } else {
        // No filter on other architectures: the sandbox runs there with
        // capabilities and no_new_privs only.
        None
    }
}

/// The filter as BPF programs, to install in order (each with
/// `seccomp(SET_MODE_FILTER)`; the kernel runs them all and the
/// strongest answer wins, so they compose). Two because a seccompiler
/// filter has one action on a match: the `EPERM` list, then `clone3`'s
/// `ENOSYS`. Empty on an architecture pare has no filter for.
// `c_long` is `i64` where there is a filter, `i32` on 32-bit targets.
#[allow(clippy::useless_conversion)]
pub fn programs() -> Result<Vec<BpfProgram>, seccompiler::Error> {
    let Some(arch) = native_arch() else {
        return Ok(Vec::new());
    };
    let mut denied: BTreeMap<i64, Vec<SeccompRule>> = DENIED
        .iter()
        .map(|&(_, nr)| (i64::from(nr), Vec::new()))
        .collect();
    // Rules of one call are alternatives: any namespace bit set matches.
    // Arg 0 is the flags on both x86_64 and aarch64.
    let clone_rules = CLONE_NAMESPACE_FLAGS
        .iter()
        .map(|&flag| {
            let flag = u64::from(flag.cast_unsigned());
            let set = SeccompCondition::new(
                0,
                SeccompCmpArgLen::Qword,
                SeccompCmpOp::MaskedEq(flag),
                flag,
            )?;
            SeccompRule::new(vec![set])
        })
        .collect::<Result<Vec<_>, _>>()?;
    denied.insert(i64::from(libc::SYS_clone), clone_rules);
    let eperm = SeccompFilter::new(
        denied,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM.cast_unsigned()),
        arch,
    )?;

    let clone3 = SeccompFilter::new(
        BTreeMap::from([(i64::from(libc::SYS_clone3), Vec::new())]),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS.cast_unsigned()),
        arch,
    )?;
    let mut clone3: BpfProgram = clone3.try_into()?;
    if arch == TargetArch::x86_64 {
        refuse_x32(&mut clone3);
    }
    Ok(vec![eperm.try_into()?, clone3])
}

/// Inserts, right after seccompiler's architecture check (load the
/// architecture, jump over the kill when native, kill), a refusal with
/// `ENOSYS` of every x32 system call: seccompiler compares the number
/// only, and an x32 call of a denied number would match nothing.
fn refuse_x32(program: &mut BpfProgram) {
    use seccompiler::sock_filter;
    // BPF_LD | BPF_W | BPF_ABS, the first two being 0.
    const BPF_LD_W_ABS: u16 = 0x20;
    const BPF_JMP_JSET_K: u16 = 0x05 | 0x40;
    const BPF_RET_K: u16 = 0x06;
    const X32_SYSCALL_BIT: u32 = 0x4000_0000;
    let check = [
        // seccomp_data.nr, at offset 0.
        sock_filter {
            code: BPF_LD_W_ABS,
            jt: 0,
            jf: 0,
            k: 0,
        },
        sock_filter {
            code: BPF_JMP_JSET_K,
            jt: 0,
            jf: 1,
            k: X32_SYSCALL_BIT,
        },
        sock_filter {
            code: BPF_RET_K,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ERRNO | libc::ENOSYS.cast_unsigned(),
        },
    ];
    // The architecture check is three instructions; its jump lands on
    // the fourth, which is now this check. Jumps are relative and none
    // crosses the insertion point, so the rest is unchanged.
    program.splice(3..3, check);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_builds_for_the_native_architecture() {
        let programs = programs().unwrap();
        if native_arch().is_none() {
            assert!(programs.is_empty());
            return;
        }
        assert_eq!(programs.len(), 2);
        for program in &programs {
            // seccomp refuses a program longer than BPF_MAXINSNS.
            assert!(
                !program.is_empty() && program.len() < 4096,
                "{}",
                program.len()
            );
        }
    }

    #[test]
    fn the_deny_list_covers_namespaces_keyrings_and_bpf() {
        let names: Vec<&str> = DENIED.iter().map(|(name, _)| *name).collect();
        for name in [
            "unshare",
            "setns",
            "keyctl",
            "add_key",
            "bpf",
            "io_uring_setup",
        ] {
            assert!(names.contains(&name), "{name}");
        }
        let mut numbers: Vec<_> = DENIED.iter().map(|(_, nr)| nr).collect();
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), DENIED.len(), "a number listed twice");
        assert!(CLONE_NAMESPACE_FLAGS.contains(&libc::CLONE_NEWUSER));
    }

    /// Installs the filter in a thread of its own (a filter without
    /// TSYNC binds the calling thread only, and dies with it) and makes
    /// denied and allowed calls there.
    #[test]
    #[allow(unsafe_code)]
    fn denied_calls_fail_and_the_rest_work() {
        if native_arch().is_none() {
            return;
        }
        let errno = |r: libc::c_long| {
            if r == -1 {
                std::io::Error::last_os_error().raw_os_error()
            } else {
                None
            }
        };
        let results = std::thread::spawn(move || {
            nix::sys::prctl::set_no_new_privs().unwrap();
            for program in programs().unwrap() {
                seccompiler::apply_filter(&program).unwrap();
            }
            // SAFETY: none of these calls takes memory from us (null
            // pointers and integers only); the denied ones never run.
            unsafe {
                [
                    errno(libc::syscall(libc::SYS_unshare, libc::CLONE_NEWUSER)),
                    errno(libc::syscall(libc::SYS_keyctl, 0, 0, 0, 0, 0)),
                    errno(libc::syscall(libc::SYS_bpf, 0, 0, 0)),
                    errno(libc::syscall(libc::SYS_clone3, 0, 0)),
                    // clone with CLONE_NEWUSER: refused before it forks.
                    errno(libc::syscall(
                        libc::SYS_clone,
                        libc::CLONE_NEWUSER | libc::SIGCHLD,
                        0,
                        0,
                        0,
                        0,
                    )),
                    errno(libc::syscall(libc::SYS_getpid)),
                ]
            }
        })
        .join()
        .unwrap();
        let eperm = Some(libc::EPERM);
        assert_eq!(
            results,
            [eperm, eperm, eperm, Some(libc::ENOSYS), eperm, None],
            "unshare, keyctl, bpf, clone3, clone(NEWUSER), getpid"
        );
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn x32_calls_are_refused_after_the_architecture_check() {
        let programs = programs().unwrap();
        let clone3 = &programs[1];
        // The architecture check jumps over the kill onto the x32 check.
        assert_eq!(clone3[1].jt, 1);
        assert_eq!(clone3[2].k, libc::SECCOMP_RET_KILL_PROCESS);
        assert_eq!(clone3[4].k, 0x4000_0000);
        assert_eq!(clone3[5].k, libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32);
    }
}
