//! One run of an app in the sandbox, from a materialised root to a
//! trace: the runtime files a container gets (/etc/hosts, resolv.conf,
//! hostname), the image's USER resolved against its own passwd and group
//! files, start, the caller's exercise of the app (probes), stop.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::materialise::write_into_root;
use crate::sandbox::{Spec, default_rlimits};
use crate::tracer::{self, Running, Trace, TraceError};

/// The hostname the app sees.
pub const HOSTNAME: &str = "pare-sandbox";

/// What to run and how.
#[derive(Clone, Debug)]
pub struct RunRequest {
    pub argv: Vec<String>,
    pub env: Vec<String>,
    pub workdir: String,
    /// The image's `USER` (`name`, `uid`, `name:group`, `uid:gid`).
    pub user: Option<String>,
    /// Record paths and system calls (off for a verify run).
    pub record: bool,
    /// pare's own binary, which runs the sandbox's helper.
    pub helper: PathBuf,
    /// Join this network namespace instead of making one.
    pub join_netns: Option<PathBuf>,
}

/// How a run went.
#[derive(Debug)]
pub struct RunOutcome {
    pub trace: Trace,
    /// What the app printed (the last 64 KiB at least).
    pub output: String,
    /// How the entry point ended, when it ended before pare stopped it.
    pub exit: Option<String>,
    /// The program the entry point resolved to.
    pub program: String,
    /// Wall time from `go` to stop.
    pub elapsed: Duration,
}

/// Writes what every runtime gives a container: its name on loopback, no
/// name servers (there is no network), its hostname.
pub fn prepare_root(root: &Path) -> std::io::Result<()> {
    let hosts = format!(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{HOSTNAME}\n"
    );
    write_into_root(root, "etc/hosts", hosts.as_bytes())?;
    write_into_root(root, "etc/resolv.conf", b"nameserver 127.0.0.1\n")?;
    write_into_root(root, "etc/hostname", format!("{HOSTNAME}\n").as_bytes())?;
    Ok(())
}

/// Resolves a config's `USER` against the image's passwd and group texts
/// as runc does: names looked up, numbers taken as they are, the primary
/// group from passwd unless given, supplementary groups from group.
pub fn resolve_user(
    user: Option<&str>,
    passwd: &str,
    group: &str,
) -> Result<(u32, u32, Vec<u32>), String> {
    let user = user.filter(|u| !u.is_empty()).unwrap_or("0");
    let (name, group_name) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let entry = passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() >= 4 && (fields[0] == name || fields[2] == name)).then(|| {
            (
                fields[0].to_string(),
                fields[2].parse::<u32>().ok(),
                fields[3].parse::<u32>().ok(),
            )
        })
    });
    let (user_name, uid, primary) = match (entry, name.parse::<u32>()) {
        (Some((n, Some(uid), gid)), _) => (Some(n), uid, gid),
        (_, Ok(uid)) => (None, uid, None),
        _ => return Err(format!("user {name:?} is not in the image's /etc/passwd")),
    };
    let gid = match group_name {
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => group
                .lines()
                .find_map(|line| {
                    let fields: Vec<&str> = line.split(':').collect();
                    (fields.len() >= 3 && fields[0] == g).then(|| fields[2].parse().ok())?
                })
                .ok_or_else(|| format!("group {g:?} is not in the image's /etc/group"))?,
        },
        None => primary.unwrap_or(0),
    };
    let mut groups = vec![gid];
    if let Some(user_name) = user_name {
        for line in group.lines() {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() >= 4
                && fields[3].split(',').any(|m| m == user_name)
                && let Ok(g) = fields[2].parse::<u32>()
                && !groups.contains(&g)
            {
                groups.push(g);
            }
        }
    }
    Ok((uid, gid, groups))
}

/// Reads `root/RELATIVE` without following any link (a link in the way
/// reads as absent): the image's own passwd, never the host's.
pub fn read_in_root(root: &Path, relative: &str) -> Option<String> {
    use nix::fcntl::{OFlag, open, openat};
    use nix::sys::stat::Mode;
    // Non-blocking: a FIFO named passwd must not hang pare.
    let flags = OFlag::O_NOFOLLOW | OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
    let mut fd = open(root, flags | OFlag::O_DIRECTORY, Mode::empty()).ok()?;
    let parts: Vec<&str> = relative.split('/').filter(|p| !p.is_empty()).collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let f = if last {
            flags
        } else {
            flags | OFlag::O_DIRECTORY
        };
        fd = openat(&fd, *part, f, Mode::empty()).ok()?;
    }
    let file = std::fs::File::from(fd);
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(file, 1 << 20), &mut text).ok()?;
    Some(text)
}

/// Runs the request in `root` (materialised, then given the runtime
/// files), calls `exercise` with the running app, then stops it.
pub fn run<T>(
    root: &Path,
    request: &RunRequest,
    before_start: impl FnOnce(&Running) -> Result<(), String>,
    exercise: impl FnOnce(&Running) -> T,
) -> Result<(RunOutcome, T), TraceError> {
    prepare_root(root).map_err(|e| TraceError::Start(format!("writing /etc/hosts: {e}")))?;
    let passwd = read_in_root(root, "etc/passwd").unwrap_or_default();
    let group = read_in_root(root, "etc/group").unwrap_or_default();
    let (mut uid, mut gid, mut groups) =
        resolve_user(request.user.as_deref(), &passwd, &group).map_err(TraceError::Start)?;
    if !nix::unistd::geteuid().is_root() {
        // Rootless: the user namespace maps only the caller, as root.
        (uid, gid, groups) = (0, 0, Vec::new());
    }
    let spec = Spec {
        root: root.to_path_buf(),
        argv: request.argv.clone(),
        env: request.env.clone(),
        cwd: if request.workdir.is_empty() {
            "/".into()
        } else {
            request.workdir.clone()
        },
        uid,
        gid,
        groups,
        hostname: HOSTNAME.into(),
        rlimits: default_rlimits(),
        put_old: format!(".pare-old-root-{:016x}", random()),
        join_netns: request.join_netns.clone(),
    };
    if spec.argv.is_empty() {
        return Err(TraceError::Start(
            "the image has no entry point or command to run".into(),
        ));
    }
    let mut running = tracer::start(&spec, &request.helper, request.record)?;
    before_start(&running).map_err(TraceError::Start)?;
    let started = std::time::Instant::now();
    running.go()?;
    let exercised = exercise(&running);
    let elapsed = started.elapsed();
    let exit = running.exit_status();
    let program = running.program.clone();
    let (trace, output) = running.stop()?;
    Ok((
        RunOutcome {
            trace,
            output,
            exit,
            program,
            elapsed,
        },
        exercised,
    ))
}

/// A random number, for names nobody can guess ahead.
fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}

/// Runs `work` on a thread that joined the network namespace `netns`:
/// sockets it makes live there (a socket keeps the namespace it was made
/// in), so probes reach the app on its own loopback.
pub fn in_netns<T: Send + 'static>(
    netns: &std::fs::File,
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    let netns = netns.try_clone()?;
    std::thread::spawn(move || {
        nix::sched::setns(netns, nix::sched::CloneFlags::CLONE_NEWNET)?;
        work()
    })
    .join()
    .map_err(|_| std::io::Error::other("the network namespace thread panicked"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nredis:x:100:101::/var/lib/redis:/usr/sbin/nologin\n";
    const GROUP: &str = "root:x:0:\nwww-data:x:33:\nredis:x:101:\nadm:x:4:redis,www-data\n";

    #[test]
    fn users_resolve_as_runc_resolves_them() {
        type Ids = Result<(u32, u32, Vec<u32>), ()>;
        let table: &[(Option<&str>, Ids)] = &[
            (None, Ok((0, 0, vec![0]))),
            (Some(""), Ok((0, 0, vec![0]))),
            (Some("www-data"), Ok((33, 33, vec![33, 4]))),
            (Some("redis"), Ok((100, 101, vec![101, 4]))),
            (Some("redis:root"), Ok((100, 0, vec![0, 4]))),
            (Some("1000"), Ok((1000, 0, vec![0]))),
            (Some("1000:1000"), Ok((1000, 1000, vec![1000]))),
            (Some("33"), Ok((33, 33, vec![33, 4]))),
            (Some("nobody"), Err(())),
            (Some("redis:nogroup"), Err(())),
        ];
        for (user, want) in table {
            let got = resolve_user(*user, PASSWD, GROUP).map_err(|_| ());
            assert_eq!(&got, want, "{user:?}");
        }
    }

    #[test]
    fn the_images_passwd_is_read_without_following_links() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.path().join("etc/passwd")).unwrap();
        assert_eq!(read_in_root(root.path(), "etc/passwd"), None);
        std::fs::write(root.path().join("etc/group"), GROUP).unwrap();
        assert_eq!(
            read_in_root(root.path(), "etc/group").as_deref(),
            Some(GROUP)
        );
    }
}
