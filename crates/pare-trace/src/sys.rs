//! The system calls the sandbox makes while it builds a container, behind a
//! small trait (as youki does), so the order and arguments of the set-up
//! can be tested without root: [`Linux`] makes them, [`Recorder`] writes
//! them down.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags};

/// A failed system call: which one, on what, and the kernel's answer.
#[derive(Debug, thiserror::Error)]
#[error("{call} {what}: {errno}")]
pub struct SysError {
    pub call: &'static str,
    pub what: String,
    pub errno: nix::errno::Errno,
}

pub type SysResult<T = ()> = Result<T, SysError>;

fn fail(
    call: &'static str,
    what: impl std::fmt::Display,
) -> impl FnOnce(nix::errno::Errno) -> SysError {
    let what = what.to_string();
    move |errno| SysError { call, what, errno }
}

/// The capabilities a root process keeps in the sandbox: Docker's default
/// set without CAP_MKNOD (Docker keeps it but relies on the devices cgroup,
/// which pare does not set up) and without CAP_NET_RAW (only loopback).
pub const KEPT_CAPABILITIES: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// What building a container asks of the kernel.
pub trait Sys {
    fn mount(
        &self,
        source: Option<&str>,
        target: &Path,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> SysResult;
    fn umount(&self, target: &Path, flags: MntFlags) -> SysResult;
    fn pivot_root(&self, new_root: &Path, put_old: &Path) -> SysResult;
    fn chdir(&self, path: &Path) -> SysResult;
    fn mkdir(&self, path: &Path, mode: u32) -> SysResult;
    /// Makes a folder that must not exist yet.
    fn mkdir_new(&self, path: &Path, mode: u32) -> SysResult;
    fn rmdir(&self, path: &Path) -> SysResult;
    /// Creates (or truncates) a file with these bytes.
    fn write_file(&self, path: &Path, bytes: &[u8], mode: u32) -> SysResult;
    fn symlink(&self, target: &str, link: &Path) -> SysResult;
    fn sethostname(&self, name: &str) -> SysResult;
    /// Brings the loopback interface of the current network namespace up.
    fn loopback_up(&self) -> SysResult;
    /// Switches to these ids (supplementary groups first, then gid, uid).
    fn set_ids(&self, uid: u32, gid: u32, groups: &[u32]) -> SysResult;
    /// Keeps only [`KEPT_CAPABILITIES`] (bounding, permitted, effective,
    /// inheritable) so that even root in the sandbox cannot mount, load
    /// modules or make device nodes.
    fn drop_capabilities(&self) -> SysResult;
    fn no_new_privs(&self) -> SysResult;
    fn setrlimit(&self, resource: nix::sys::resource::Resource, soft: u64, hard: u64) -> SysResult;
}

/// The real kernel.
pub struct Linux;

impl Sys for Linux {
    fn mount(
        &self,
        source: Option<&str>,
        target: &Path,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> SysResult {
        nix::mount::mount(source, target, fstype, flags, data)
            .map_err(fail("mount", target.display()))
    }

    fn umount(&self, target: &Path, flags: MntFlags) -> SysResult {
        nix::mount::umount2(target, flags).map_err(fail("umount", target.display()))
    }

    fn pivot_root(&self, new_root: &Path, put_old: &Path) -> SysResult {
        nix::unistd::pivot_root(new_root, put_old).map_err(fail("pivot_root", new_root.display()))
    }

    fn chdir(&self, path: &Path) -> SysResult {
        nix::unistd::chdir(path).map_err(fail("chdir", path.display()))
    }

    fn mkdir(&self, path: &Path, mode: u32) -> SysResult {
        match nix::unistd::mkdir(path, nix::sys::stat::Mode::from_bits_truncate(mode)) {
            Ok(()) | Err(nix::errno::Errno::EEXIST) => Ok(()),
            Err(e) => Err(fail("mkdir", path.display())(e)),
        }
    }

    fn mkdir_new(&self, path: &Path, mode: u32) -> SysResult {
        nix::unistd::mkdir(path, nix::sys::stat::Mode::from_bits_truncate(mode))
            .map_err(fail("mkdir", path.display()))
    }

    fn rmdir(&self, path: &Path) -> SysResult {
        std::fs::remove_dir(path).map_err(|e| SysError {
            call: "rmdir",
            what: path.display().to_string(),
            errno: nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0)),
        })
    }

    fn write_file(&self, path: &Path, bytes: &[u8], mode: u32) -> SysResult {
        use std::os::unix::fs::OpenOptionsExt;
        let io = |e: std::io::Error| SysError {
            call: "write",
            what: path.display().to_string(),
            errno: nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0)),
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(path)
            .map_err(io)?;
        std::io::Write::write_all(&mut file, bytes).map_err(io)
    }

    fn symlink(&self, target: &str, link: &Path) -> SysResult {
        nix::unistd::symlinkat(target, nix::fcntl::AT_FDCWD, link)
            .map_err(fail("symlink", link.display()))
    }

    fn sethostname(&self, name: &str) -> SysResult {
        nix::unistd::sethostname(name).map_err(fail("sethostname", name))
    }

    fn loopback_up(&self) -> SysResult {
        loopback::up().map_err(fail("ioctl(SIOCSIFFLAGS)", "lo"))
    }

    fn set_ids(&self, uid: u32, gid: u32, groups: &[u32]) -> SysResult {
        use nix::unistd::{Gid, Uid};
        let groups: Vec<Gid> = groups.iter().map(|g| Gid::from_raw(*g)).collect();
        match nix::unistd::setgroups(&groups) {
            Ok(()) => {}
            // A rootless sandbox's user namespace denies setgroups: it
            // has one group, and the process already holds only it.
            Err(nix::errno::Errno::EPERM)
                if std::fs::read_to_string("/proc/self/setgroups")
                    .is_ok_and(|s| s.trim() == "deny") => {}
            Err(e) => return Err(fail("setgroups", format!("{groups:?}"))(e)),
        }
        let gid = Gid::from_raw(gid);
        nix::unistd::setresgid(gid, gid, gid).map_err(fail("setresgid", gid))?;
        let uid = Uid::from_raw(uid);
        nix::unistd::setresuid(uid, uid, uid).map_err(fail("setresuid", uid))
    }

    fn drop_capabilities(&self) -> SysResult {
        caps_set::keep_only(KEPT_CAPABILITIES)
    }

    fn no_new_privs(&self) -> SysResult {
        nix::sys::prctl::set_no_new_privs().map_err(fail("prctl(PR_SET_NO_NEW_PRIVS)", ""))
    }

    fn setrlimit(&self, resource: nix::sys::resource::Resource, soft: u64, hard: u64) -> SysResult {
        // Limits only ever lower what pare itself runs with: raising a
        // hard limit needs privileges a CI container may not have.
        let (_, current_hard) = nix::sys::resource::getrlimit(resource)
            .map_err(fail("getrlimit", format!("{resource:?}")))?;
        let hard = hard.min(current_hard);
        nix::sys::resource::setrlimit(resource, soft.min(hard), hard)
            .map_err(fail("setrlimit", format!("{resource:?}")))
    }
}

mod caps_set {
    use super::{SysError, SysResult};
    use caps::{CapSet, Capability};

    fn err(call: &'static str) -> impl Fn(caps::errors::CapsError) -> SysError {
        move |e| SysError {
            call,
            what: e.to_string(),
            errno: nix::errno::Errno::last(),
        }
    }

    pub fn keep_only(kept: &[&str]) -> SysResult {
        let kept: caps::CapsHashSet = kept
            .iter()
            .filter_map(|name| name.parse::<Capability>().ok())
            .collect();
        // The bounding set first (needs CAP_SETPCAP, still held), then the
        // process's own sets; ambient is cleared by lowering inheritable.
        for cap in caps::all() {
            if !kept.contains(&cap) {
                caps::drop(None, CapSet::Bounding, cap).map_err(err("drop bounding capability"))?;
            }
        }
        let inheritable: caps::CapsHashSet = caps::read(None, CapSet::Inheritable)
            .map_err(err("read capabilities"))?
            .intersection(&kept)
            .copied()
            .collect();
        caps::set(None, CapSet::Inheritable, &inheritable).map_err(err("set inheritable"))?;
        let held = caps::read(None, CapSet::Permitted).map_err(err("read capabilities"))?;
        let now: caps::CapsHashSet = held.intersection(&kept).copied().collect();
        caps::set(None, CapSet::Effective, &now).map_err(err("set effective"))?;
        caps::set(None, CapSet::Permitted, &now).map_err(err("set permitted"))
    }
}

impl Linux {
    /// Joins a new, empty session keyring, as runc does, so the app cannot
    /// read the keys of the session pare runs in.
    #[allow(unsafe_code)]
    pub fn new_session_keyring(&self) -> SysResult {
        const KEYCTL_JOIN_SESSION_KEYRING: nix::libc::c_long = 1;
        // SAFETY: keyctl(JOIN_SESSION_KEYRING, NULL) takes no memory from
        // us (a null name makes an anonymous keyring).
        let r = unsafe {
            nix::libc::syscall(
                nix::libc::SYS_keyctl,
                KEYCTL_JOIN_SESSION_KEYRING,
                std::ptr::null::<nix::libc::c_char>(),
            )
        };
        if r < 0 {
            return Err(fail("keyctl(JOIN_SESSION_KEYRING)", "")(
                nix::errno::Errno::last(),
            ));
        }
        Ok(())
    }
}

/// Loopback up by `SIOCSIFFLAGS`: no crate offers this one ioctl without
/// an async netlink stack, and it is two calls.
#[allow(unsafe_code)]
mod loopback {
    use nix::libc;
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, socket};
    use std::os::fd::AsRawFd;

    nix::ioctl_read_bad!(get_flags, libc::SIOCGIFFLAGS, libc::ifreq);
    nix::ioctl_write_ptr_bad!(set_flags, libc::SIOCSIFFLAGS, libc::ifreq);

    pub fn up() -> nix::Result<()> {
        let sock = socket(
            AddressFamily::Inet,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC,
            None,
        )?;
        // SAFETY: ifreq is plain old data; all-zero is a valid value.
        let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
        for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
            *slot = *byte as libc::c_char;
        }
        // SAFETY: the fd is an open socket and `request` a valid ifreq
        // naming an interface; the kernel fills the flags union member.
        unsafe { get_flags(sock.as_raw_fd(), &mut request) }?;
        // SAFETY: SIOCGIFFLAGS filled ifru_flags, the member read here.
        unsafe {
            request.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        }
        // SAFETY: as above; the kernel only reads the request.
        unsafe { set_flags(sock.as_raw_fd(), &request) }?;
        Ok(())
    }
}

/// One recorded call, as [`Recorder`] writes it: `"mount proc /proc proc"`.
pub type Call = String;

/// Writes calls down instead of making them, for tests of the set-up
/// sequence; `fail_on` makes the first call starting with it fail.
#[derive(Default)]
pub struct Recorder {
    pub calls: RefCell<Vec<Call>>,
    pub fail_on: Option<String>,
}

impl Recorder {
    fn record(&self, call: &'static str, text: String) -> SysResult {
        let line = format!("{call} {text}").trim_end().to_string();
        let failing = self.fail_on.as_deref().is_some_and(|f| line.starts_with(f));
        self.calls.borrow_mut().push(line.clone());
        if failing {
            return Err(SysError {
                call,
                what: text,
                errno: nix::errno::Errno::EPERM,
            });
        }
        Ok(())
    }
}

fn show(path: &Path) -> String {
    path.display().to_string()
}

impl Sys for Recorder {
    fn mount(
        &self,
        source: Option<&str>,
        target: &Path,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> SysResult {
        let mut text = format!(
            "{} {} {}",
            source.unwrap_or("none"),
            show(target),
            fstype.unwrap_or("-")
        );
        let names: Vec<&str> = flags.iter_names().map(|(n, _)| n).collect();
        if !names.is_empty() {
            text.push_str(&format!(" {}", names.join("|")));
        }
        if let Some(data) = data {
            text.push_str(&format!(" {data}"));
        }
        self.record("mount", text)
    }
    fn umount(&self, target: &Path, _flags: MntFlags) -> SysResult {
        self.record("umount", show(target))
    }
    fn pivot_root(&self, new_root: &Path, put_old: &Path) -> SysResult {
        self.record(
            "pivot_root",
            format!("{} {}", show(new_root), show(put_old)),
        )
    }
    fn chdir(&self, path: &Path) -> SysResult {
        self.record("chdir", show(path))
    }
    fn mkdir(&self, path: &Path, mode: u32) -> SysResult {
        self.record("mkdir", format!("{} {mode:o}", show(path)))
    }
    fn mkdir_new(&self, path: &Path, mode: u32) -> SysResult {
        self.record("mkdir", format!("{} {mode:o}", show(path)))
    }
    fn rmdir(&self, path: &Path) -> SysResult {
        self.record("rmdir", show(path))
    }
    fn write_file(&self, path: &Path, bytes: &[u8], mode: u32) -> SysResult {
        self.record(
            "write",
            format!("{} {mode:o} {} bytes", show(path), bytes.len()),
        )
    }
    fn symlink(&self, target: &str, link: &Path) -> SysResult {
        self.record("symlink", format!("{target} {}", show(link)))
    }
    fn sethostname(&self, name: &str) -> SysResult {
        self.record("sethostname", name.to_string())
    }
    fn loopback_up(&self) -> SysResult {
        self.record("loopback_up", String::new())
    }
    fn set_ids(&self, uid: u32, gid: u32, groups: &[u32]) -> SysResult {
        self.record("set_ids", format!("{uid} {gid} {groups:?}"))
    }
    fn drop_capabilities(&self) -> SysResult {
        self.record("drop_capabilities", String::new())
    }
    fn no_new_privs(&self) -> SysResult {
        self.record("no_new_privs", String::new())
    }
    fn setrlimit(&self, resource: nix::sys::resource::Resource, soft: u64, hard: u64) -> SysResult {
        self.record("setrlimit", format!("{resource:?} {soft} {hard}"))
    }
}

/// A path under `base`, for set-up steps that name places in the new root.
pub fn under(base: &Path, path: &str) -> PathBuf {
    base.join(path.trim_start_matches('/'))
}
