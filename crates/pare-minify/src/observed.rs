//! What a traced run saw the application touch, as the plan takes it: each
//! path is kept with the symlinks on the way to it, a folder as an empty
//! folder (with its owner and mode; what is in it only where a file in it
//! was seen too), and nothing under `/proc`, `/sys` or `/dev`, which the
//! runtime mounts over the image's own.

use pare_image::paths;
use pare_image::tree::{FileTree, NodeKind};

use crate::plan::Plan;
use crate::why::Why;

/// Links followed from one observed path before giving up (the kernel's
/// `MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// Top-level folders a container runtime mounts its own file systems on.
const PSEUDO_FILE_SYSTEMS: &[&str] = &["proc", "sys", "dev"];

/// A path a traced process touched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    /// The absolute path in the image, as the process named it, resolved
    /// against its working directory or `dirfd` (symlinks not followed).
    pub path: String,
    pub how: ObservedHow,
    /// The process, as `--explain` names it: `nginx (pid 7)`.
    pub by: String,
}

/// What the process did with the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObservedHow {
    /// `open`ed (a file or a folder).
    Opened,
    /// `exec`uted.
    Executed,
    /// A folder whose entries were read.
    Listed,
    /// `stat`ed or `access`ed: looked up, not read.
    Stat,
    /// `readlink`ed.
    ReadLink,
    /// A folder something was created or written in: kept (empty unless
    /// files in it were seen too) so the application can write there again.
    WroteIn,
}

impl std::fmt::Display for ObservedHow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ObservedHow::Opened => "opened",
            ObservedHow::Executed => "executed",
            ObservedHow::Listed => "listed",
            ObservedHow::Stat => "looked up",
            ObservedHow::ReadLink => "read as a link",
            ObservedHow::WroteIn => "written in",
        })
    }
}

impl Plan {
    /// Keeps what `observed` names in `tree`: the symlinks on the way (also
    /// when they lead out of the image, as `/var/log/nginx/access.log ->
    /// /dev/stdout` does) and the path they end at, a folder without what
    /// is below it. False when nothing of it is in the image.
    pub fn add_observed(&mut self, tree: &FileTree, observed: &Observed) -> bool {
        let Followed { links, end, found } = follow(tree, &observed.path);
        let end = format!("/{end}");
        for link in &links {
            self.add(
                &format!("/{link}"),
                Why::SymlinkTo {
                    target: end.clone(),
                },
            );
        }
        if found {
            self.add(
                &end,
                Why::Observed {
                    how: observed.how,
                    by: observed.by.clone(),
                },
            );
        }
        found || !links.is_empty()
    }
}

/// Where a path leads, link by link.
struct Followed {
    /// The symlinks passed (relative paths), in the image.
    links: Vec<String>,
    /// The path reached (relative), real as far as the image goes.
    end: String,
    /// Whether `end` is in the image (and outside the runtime's mounts).
    found: bool,
}

/// Follows `path` (absolute) in `tree` as the kernel would, one link at a
/// time, so the links are known even when the last one leads out of the
/// image or into `/proc`, `/sys` or `/dev` (where [`FileTree::resolve_traced`]
/// would only fail).
fn follow(tree: &FileTree, path: &str) -> Followed {
    let mut links = Vec::new();
    let mut at = clean(path);
    for _ in 0..=MAX_LINKS {
        let name = paths::file_name(&at).to_string();
        if name.is_empty() || name == ".." {
            // The root, or a link to `..`: nothing left to follow by hand.
            let resolved = tree.resolve_traced(&at);
            let (end, passed) = resolved.unwrap_or_else(|_| (at.clone(), Vec::new()));
            links.extend(passed.into_iter().filter(|l| !is_pseudo(l)));
            let found = !end.is_empty() && !is_pseudo(&end) && tree.contains(&end);
            return Followed { links, end, found };
        }
        let Ok((dir, passed)) = tree.resolve_traced(paths::parent(&at)) else {
            return Followed {
                links,
                end: at,
                found: false,
            };
        };
        links.extend(passed.into_iter().filter(|l| !is_pseudo(l)));
        let here = paths::child(&dir, &name);
        let node = tree.get(&here).filter(|_| !is_pseudo(&here));
        match node.map(|n| &n.kind) {
            Some(NodeKind::Symlink(target)) => {
                links.push(here);
                // Not joined lexically: `..` after a link in the target is
                // the link's parent, which the next lookup finds.
                at = if target.starts_with('/') {
                    clean(target)
                } else {
                    clean(&format!("{dir}/{target}"))
                };
            }
            Some(_) => {
                return Followed {
                    links,
                    end: here,
                    found: true,
                };
            }
            None => {
                return Followed {
                    links,
                    end: here,
                    found: false,
                };
            }
        }
    }
    Followed {
        links,
        end: at,
        found: false,
    }
}

/// `path` relative, without empty or `.` components (`..` is left to the
/// tree, which knows where links lead).
fn clean(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    parts.join("/")
}

/// Whether a relative path is under `/proc`, `/sys` or `/dev`.
fn is_pseudo(rel: &str) -> bool {
    let top = rel.split('/').next().unwrap_or_default();
    PSEUDO_FILE_SYSTEMS.contains(&top)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pare_image::tree::{Content, DataSource, Node};

    fn node(kind: NodeKind) -> Node {
        Node {
            kind,
            ..Node::implicit_dir()
        }
    }

    /// A small nginx-like root.
    fn tree() -> FileTree {
        let mut t = FileTree::new();
        let file = |t: &mut FileTree, path: &str| {
            let id = t.add_content(Content {
                source: DataSource::Host("/dev/null".into()),
                size: 0,
            });
            t.insert(path.into(), node(NodeKind::File(id)));
        };
        let link = |t: &mut FileTree, path: &str, to: &str| {
            t.insert(path.into(), node(NodeKind::Symlink(to.into())));
        };
        file(&mut t, "usr/sbin/nginx");
        file(&mut t, "usr/lib/x86_64-linux-gnu/libc.so.6");
        link(&mut t, "lib", "usr/lib");
        file(&mut t, "etc/nginx/nginx.conf");
        file(&mut t, "usr/share/nginx/modules-available/mod-a.conf");
        file(&mut t, "usr/share/nginx/modules-available/mod-b.conf");
        link(
            &mut t,
            "etc/nginx/modules-enabled/50-mod-a.conf",
            "../../../usr/share/nginx/modules-available/mod-a.conf",
        );
        t.insert("var/lib/nginx/body".into(), Node::implicit_dir());
        file(&mut t, "var/lib/nginx/body/0000001");
        link(&mut t, "var/log/nginx/access.log", "/dev/stdout");
        link(&mut t, "dev/stdout", "/proc/self/fd/1");
        file(&mut t, "dev/null");
        link(&mut t, "var/run", "/run");
        t.insert("run".into(), Node::implicit_dir());
        link(&mut t, "etc/loop", "loop");
        t
    }

    /// What a row proves, what the process touched, what is kept and why.
    type Case = (
        &'static str,
        &'static [(&'static str, ObservedHow)],
        &'static [(&'static str, &'static str)],
    );

    #[test]
    fn observed_paths_are_kept_with_their_links_and_folders_empty() {
        use ObservedHow::*;
        let cases: &[Case] = &[
            (
                "a file opened is kept",
                &[("/etc/nginx/nginx.conf", Opened)],
                &[("/etc/nginx/nginx.conf", "opened by nginx (pid 7)")],
            ),
            (
                "a program executed is kept",
                &[("/usr/sbin/nginx", Executed)],
                &[("/usr/sbin/nginx", "executed by nginx (pid 7)")],
            ),
            (
                "a link to a file keeps both",
                &[("/etc/nginx/modules-enabled/50-mod-a.conf", Opened)],
                &[
                    (
                        "/etc/nginx/modules-enabled/50-mod-a.conf",
                        "symlink on the way to /usr/share/nginx/modules-available/mod-a.conf",
                    ),
                    (
                        "/usr/share/nginx/modules-available/mod-a.conf",
                        "opened by nginx (pid 7)",
                    ),
                ],
            ),
            (
                "a link in a parent folder is kept",
                &[("/lib/x86_64-linux-gnu/libc.so.6", Opened)],
                &[
                    (
                        "/lib",
                        "symlink on the way to /usr/lib/x86_64-linux-gnu/libc.so.6",
                    ),
                    (
                        "/usr/lib/x86_64-linux-gnu/libc.so.6",
                        "opened by nginx (pid 7)",
                    ),
                ],
            ),
            (
                "a folder listed is kept empty",
                &[("/usr/share/nginx/modules-available", Listed)],
                &[(
                    "/usr/share/nginx/modules-available",
                    "listed by nginx (pid 7)",
                )],
            ),
            (
                "a folder written in is kept empty, not with what the image had in it",
                &[("/var/lib/nginx/body", WroteIn)],
                &[("/var/lib/nginx/body", "written in by nginx (pid 7)")],
            ),
            (
                "a folder keeps the files in it that were seen too",
                &[
                    ("/usr/share/nginx/modules-available", Listed),
                    ("/usr/share/nginx/modules-available/mod-b.conf", Stat),
                ],
                &[
                    (
                        "/usr/share/nginx/modules-available",
                        "listed by nginx (pid 7)",
                    ),
                    (
                        "/usr/share/nginx/modules-available/mod-b.conf",
                        "looked up by nginx (pid 7)",
                    ),
                ],
            ),
            (
                "a link to a folder keeps the link and the empty folder",
                &[("/var/run", WroteIn)],
                &[
                    ("/run", "written in by nginx (pid 7)"),
                    ("/var/run", "symlink on the way to /run"),
                ],
            ),
            (
                "a link into /dev keeps the link only",
                &[("/var/log/nginx/access.log", Opened)],
                &[(
                    "/var/log/nginx/access.log",
                    "symlink on the way to /dev/stdout",
                )],
            ),
            (
                "/proc, /sys and /dev are the runtime's",
                &[
                    ("/dev/null", Opened),
                    ("/proc/self/status", Opened),
                    ("/sys/fs/cgroup", Listed),
                ],
                &[],
            ),
            (
                "a path the image lacks keeps nothing",
                &[("/etc/nginx/conf.d/default.conf", Stat), ("/nope/x", Stat)],
                &[],
            ),
            (
                "a symlink loop keeps only its link",
                &[("/etc/loop", Opened)],
                &[("/etc/loop", "symlink on the way to /etc/loop")],
            ),
        ];
        let tree = tree();
        for (case, seen, want) in cases {
            let mut plan = Plan::default();
            for (path, how) in *seen {
                plan.add_observed(
                    &tree,
                    &Observed {
                        path: path.to_string(),
                        how: *how,
                        by: "nginx (pid 7)".into(),
                    },
                );
            }
            let got: Vec<(String, String)> = plan
                .keep
                .keys()
                .flat_map(|p| plan.explain(p).into_iter().map(|w| (p.clone(), w)))
                .collect();
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(p, w)| (p.to_string(), w.to_string()))
                .collect();
            assert_eq!(got, want, "{case}");
        }
    }
}
