//! # pare-audit
//!
//! Names what an attacker who reaches a shell in a container would use: the
//! shells, package managers, multi-call binaries, interpreters,
//! living-off-the-land binaries, network tools, compilers and debuggers of a
//! [catalog](catalog) (a data file), and files that grant more than they
//! should (setuid, setgid, file capabilities, world-writable).
//!
//! Tools are found by file name in program folders (any `bin` or `sbin`:
//! `/usr/bin`, `/usr/local/sbin`, `/opt/jdk/bin` …, so a cron script or an
//! apt method named `dpkg` or `ftp` is not taken for the tool) and, for
//! BusyBox and toybox, by content anywhere
//! ([`multicall`], a scanner run during the one flattening pass): a renamed
//! BusyBox is still BusyBox, and each link to it is reported as the applet
//! it names, `via` the binary. A tool reached through symlinks or hardlinks
//! is reported once, at the file, with its other names in `links`.

pub mod capability;
pub mod catalog;
pub mod multicall;
pub mod sarif;

use std::collections::{BTreeMap, HashSet};

use pare_image::Flattened;
use pare_image::paths::file_name;
use pare_image::scan::ContentScanner;
use pare_image::tree::{ContentId, Node, NodeKind};
use serde::Serialize;

pub use catalog::{Catalog, Kind, Severity};
use multicall::{MultiCall, MultiCallScanner};

/// One thing an attacker could use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Absolute path inside the image.
    pub path: String,
    pub kind: Kind,
    /// The program's name (for a BusyBox applet, the applet's).
    pub name: String,
    pub severity: Severity,
    pub reason: String,
    /// For a multi-call applet link: the binary that answers to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// Other paths of the same file (hardlinks, symlinks to it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    /// What the program can be abused for (GTFOBins function names).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub abuse: Vec<String>,
}

/// Every finding, sorted by path and kind, and how many of each kind.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub summary: BTreeMap<Kind, usize>,
}

impl Report {
    /// Findings of any of `kinds`.
    pub fn matching<'a>(&'a self, kinds: &'a [Kind]) -> impl Iterator<Item = &'a Finding> {
        self.findings.iter().filter(|f| kinds.contains(&f.kind))
    }
}

/// The scanners [`audit`] needs run while flattening.
pub fn scanners() -> Vec<Box<dyn ContentScanner>> {
    vec![Box::new(MultiCallScanner)]
}

/// Audits a flattened image against `catalog`.
pub fn audit(flat: &Flattened, catalog: &Catalog) -> Report {
    let mut findings = tool_findings(flat, catalog);
    findings.extend(file_rule_findings(flat));
    findings.sort_by(|a, b| (&a.path, a.kind).cmp(&(&b.path, b.kind)));
    let mut summary = BTreeMap::new();
    for finding in &findings {
        *summary.entry(finding.kind).or_insert(0) += 1;
    }
    Report { findings, summary }
}

/// An executable file and every path that reaches it.
struct Program {
    /// Its own paths (more than one when hardlinked), sorted.
    paths: Vec<String>,
    /// Symlinks that resolve to it, sorted.
    links: Vec<String>,
}

fn tool_findings(flat: &Flattened, catalog: &Catalog) -> Vec<Finding> {
    let mut programs: BTreeMap<ContentId, Program> = BTreeMap::new();
    for (path, node) in flat.tree.iter() {
        if let NodeKind::File(id) = node.kind
            && node.mode & 0o111 != 0
        {
            programs
                .entry(id)
                .or_insert_with(|| Program {
                    paths: Vec::new(),
                    links: Vec::new(),
                })
                .paths
                .push(path);
        }
    }
    for (path, node) in flat.tree.iter() {
        if !matches!(node.kind, NodeKind::Symlink(_)) {
            continue;
        }
        let Ok(Some(target)) = flat.tree.resolve_id(&path, true) else {
            continue; // dangling or looping: nothing runs through it
        };
        if let NodeKind::File(id) = &flat.tree.node(target).kind
            && let Some(program) = programs.get_mut(id)
        {
            program.links.push(path);
        }
    }
    let mut out = Vec::new();
    for (id, program) in &programs {
        let multicall = flat.found::<MultiCall>(*id).map(|m| m.name).or_else(|| {
            program.paths.iter().find_map(|p| {
                catalog
                    .lookup(file_name(p))
                    .filter(|m| m.tool.kind == Kind::Busybox)
                    .map(|_| file_name(p))
            })
        });
        match multicall {
            Some(name) => multicall_findings(program, name, catalog, &mut out),
            None => out.extend(program_finding(program, catalog)),
        }
    }
    out
}

/// The multi-call binary itself, and each link to it whose applet name is
/// in the catalog, `via` the binary.
fn multicall_findings(program: &Program, name: &str, catalog: &Catalog, out: &mut Vec<Finding>) {
    // Among hardlinks, the binary is the path named for it, else one not
    // named like an applet (`helper` rather than `base64`).
    let is_applet_name = |p: &&String| {
        catalog
            .lookup(file_name(p))
            .is_some_and(|m| m.tool.kind != Kind::Busybox)
    };
    let main = program
        .paths
        .iter()
        .find(|p| file_name(p) == name)
        .or_else(|| program.paths.iter().find(|p| !is_applet_name(p)))
        .unwrap_or(&program.paths[0]);
    let applet_links: Vec<&String> = program
        .paths
        .iter()
        .filter(|p| *p != main)
        .chain(&program.links)
        .collect();
    let severity = catalog
        .lookup(name)
        .map(|m| m.severity)
        .unwrap_or(Severity::High);
    out.push(Finding {
        path: format!("/{main}"),
        kind: Kind::Busybox,
        name: name.to_string(),
        severity,
        reason: format!(
            "{}; {} applet links here",
            catalog
                .reason(Kind::Busybox)
                .unwrap_or("a multi-call binary"),
            applet_links.len()
        ),
        via: None,
        links: Vec::new(),
        abuse: Vec::new(),
    });
    for link in applet_links {
        let applet = file_name(link);
        let Some(found) = catalog
            .lookup(applet)
            .filter(|m| m.tool.kind != Kind::Busybox)
        else {
            continue; // an applet the catalog does not list (ls, cat …)
        };
        out.push(Finding {
            path: format!("/{link}"),
            kind: found.tool.kind,
            name: applet.to_string(),
            severity: found.severity,
            reason: format!("{}, as a {name} applet", tool_reason(catalog, found.tool)),
            via: Some(format!("/{main}")),
            links: Vec::new(),
            abuse: found.tool.abuse.clone(),
        });
    }
}

/// One finding for a program, named by its own paths first, then by the
/// symlinks to it (`awk -> /etc/alternatives/awk -> mawk` is awk).
fn program_finding(program: &Program, catalog: &Catalog) -> Option<Finding> {
    let (named_by, found) = program
        .paths
        .iter()
        .chain(&program.links)
        .filter(|p| in_program_folder(p))
        .find_map(|p| catalog.lookup(file_name(p)).map(|m| (p, m)))?;
    let path = if program.paths.contains(named_by) {
        named_by
    } else {
        &program.paths[0]
    };
    let links = program
        .paths
        .iter()
        .chain(&program.links)
        .filter(|p| *p != path)
        .map(|p| format!("/{p}"))
        .collect();
    Some(Finding {
        path: format!("/{path}"),
        kind: found.tool.kind,
        name: file_name(named_by).to_string(),
        severity: found.severity,
        reason: tool_reason(catalog, found.tool),
        via: None,
        links,
        abuse: found.tool.abuse.clone(),
    })
}

/// Whether `path` sits in a folder of programs: one named `bin` or `sbin`.
fn in_program_folder(path: &str) -> bool {
    matches!(file_name(pare_image::paths::parent(path)), "bin" | "sbin")
}

fn tool_reason(catalog: &Catalog, tool: &catalog::Tool) -> String {
    let reason = catalog.reason(tool.kind).unwrap_or_default();
    if tool.abuse.is_empty() {
        reason.to_string()
    } else {
        format!("{reason} ({})", tool.abuse.join(", "))
    }
}

/// setuid, setgid, file capabilities and world-writable paths; a hardlinked
/// file once, at its first path.
fn file_rule_findings(flat: &Flattened) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (path, node) in flat.tree.iter() {
        let is_file = match node.kind {
            NodeKind::File(id) => {
                if !seen.insert(id) {
                    continue;
                }
                true
            }
            NodeKind::Dir => false,
            _ => continue, // symlinks are 0777 by nature; devices are not files
        };
        let finding = |kind, severity, reason: String| Finding {
            path: format!("/{path}"),
            kind,
            name: file_name(&path).to_string(),
            severity,
            reason,
            via: None,
            links: Vec::new(),
            abuse: Vec::new(),
        };
        if is_file && node.mode & 0o4000 != 0 {
            out.push(finding(
                Kind::Setuid,
                Severity::High,
                format!(
                    "set-user-ID: runs as its owner (uid {}) whoever starts it",
                    node.uid
                ),
            ));
        }
        if is_file && node.mode & 0o2000 != 0 {
            out.push(finding(
                Kind::Setgid,
                Severity::Medium,
                format!(
                    "set-group-ID: runs with group {} whoever starts it",
                    node.gid
                ),
            ));
        }
        if is_file && let Some(caps) = file_capabilities(node) {
            out.push(finding(
                Kind::FileCapability,
                Severity::High,
                format!("gains capabilities when run: {caps}"),
            ));
        }
        if node.mode & 0o002 != 0 && (is_file || node.mode & 0o1000 == 0) {
            let reason = if is_file {
                "writable by every user: anyone can change what it holds or runs"
            } else {
                "a folder every user can write to, without the sticky bit: anyone can replace what is in it"
            };
            out.push(finding(
                Kind::WorldWritable,
                Severity::Medium,
                reason.into(),
            ));
        }
    }
    out
}

fn file_capabilities(node: &Node) -> Option<String> {
    let (_, value) = node
        .xattrs
        .iter()
        .find(|(name, _)| name == "security.capability")?;
    Some(capability::describe(value))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use pare_image::tree::{Content, DataSource, FileTree};
    use pare_image::{Flattened, rootfs::RootWarnings};

    use super::*;

    /// One entry of a test tree.
    enum E {
        /// An executable (0755) file; files with the same content share it
        /// (hardlinks).
        Exe(&'static str, &'static str),
        File(&'static str, u32),
        Dir(&'static str, u32),
        Link(&'static str, &'static str),
        Caps(&'static str, Vec<u8>),
        /// An executable whose content the scanner found to be BusyBox.
        BusyBox(&'static str),
    }

    fn flattened(entries: &[E]) -> Flattened {
        let mut tree = FileTree::new();
        let mut ids: HashMap<&str, ContentId> = HashMap::new();
        let mut found: HashMap<ContentId, Vec<pare_image::scan::Finding>> = HashMap::new();
        let node = |kind, mode| Node {
            kind,
            mode,
            uid: 0,
            gid: 0,
            mtime: 0,
            xattrs: Vec::new(),
        };
        let mut content = |tree: &mut FileTree, key: &'static str| {
            *ids.entry(key).or_insert_with(|| {
                tree.add_content(Content {
                    source: DataSource::Layer {
                        layer: 0,
                        offset: 0,
                    },
                    size: 1,
                })
            })
        };
        for entry in entries {
            match entry {
                E::Exe(path, content_key) => {
                    let id = content(&mut tree, content_key);
                    tree.insert(path.to_string(), node(NodeKind::File(id), 0o755));
                }
                E::File(path, mode) => {
                    let id = content(&mut tree, path);
                    tree.insert(path.to_string(), node(NodeKind::File(id), *mode));
                }
                E::Dir(path, mode) => tree.insert(path.to_string(), node(NodeKind::Dir, *mode)),
                E::Link(path, target) => tree.insert(
                    path.to_string(),
                    node(NodeKind::Symlink(target.to_string()), 0o777),
                ),
                E::Caps(path, value) => {
                    let id = content(&mut tree, path);
                    let mut n = node(NodeKind::File(id), 0o755);
                    n.xattrs.push(("security.capability".into(), value.clone()));
                    tree.insert(path.to_string(), n);
                }
                E::BusyBox(path) => {
                    let id = content(&mut tree, path);
                    tree.insert(path.to_string(), node(NodeKind::File(id), 0o755));
                    found.insert(id, vec![Box::new(MultiCall { name: "busybox" })]);
                }
            }
        }
        Flattened {
            tree,
            layers: Vec::new(),
            warnings: RootWarnings::default(),
            captured: HashMap::new(),
            found,
        }
    }

    /// (path, kind, name, via) of every finding.
    fn summary(entries: &[E]) -> Vec<(String, &'static str, String, Option<String>)> {
        audit(&flattened(entries), &Catalog::builtin())
            .findings
            .into_iter()
            .map(|f| (f.path, f.kind.as_str(), f.name, f.via))
            .collect()
    }

    fn f(
        path: &str,
        kind: &'static str,
        name: &str,
    ) -> (String, &'static str, String, Option<String>) {
        (path.into(), kind, name.into(), None)
    }

    fn via(
        path: &str,
        kind: &'static str,
        name: &str,
        via: &str,
    ) -> (String, &'static str, String, Option<String>) {
        (path.into(), kind, name.into(), Some(via.into()))
    }

    #[test]
    fn audit_rules() {
        use E::*;
        let caps = {
            let mut v = 0x0200_0001u32.to_le_bytes().to_vec();
            for w in [1u32 << 13, 0, 0, 0] {
                v.extend(w.to_le_bytes());
            }
            v
        };
        type Case = (
            &'static str,
            Vec<E>,
            Vec<(String, &'static str, String, Option<String>)>,
        );
        let cases: Vec<Case> = vec![
            (
                "a symlink to a listed tool is reported once, at the file",
                vec![Exe("usr/bin/dash", "dash"), Link("usr/bin/sh", "dash")],
                vec![f("/usr/bin/dash", "shell", "dash")],
            ),
            (
                "a tool is named by a link when the file's own name is not listed",
                vec![
                    Exe("usr/bin/bwk", "bwk"),
                    Link("etc/alternatives/awk", "/usr/bin/bwk"),
                    Link("usr/bin/awk", "/etc/alternatives/awk"),
                ],
                vec![f("/usr/bin/bwk", "lolbin", "awk")],
            ),
            (
                "hardlinks are one file: the first listed name wins",
                vec![
                    Exe("usr/bin/perl", "perl"),
                    Exe("usr/bin/perl5.36.0", "perl"),
                ],
                vec![f("/usr/bin/perl", "interpreter", "perl")],
            ),
            (
                "names count only in program folders",
                vec![
                    Exe("etc/cron.daily/dpkg", "cron"),
                    Exe("usr/lib/apt/methods/ftp", "method"),
                    Exe("opt/jdk/bin/javac", "javac"),
                ],
                vec![f("/opt/jdk/bin/javac", "compiler", "javac")],
            ),
            (
                "a file that is not executable is not a tool",
                vec![File("usr/bin/bash", 0o644)],
                vec![],
            ),
            (
                "BusyBox by content, renamed and elsewhere; applets via it",
                vec![
                    BusyBox("opt/vendor/helper"),
                    Link("usr/local/bin/sh", "/opt/vendor/helper"),
                    Link("usr/local/bin/wget", "../../../opt/vendor/helper"),
                    Link("usr/local/bin/ls", "/opt/vendor/helper"),
                    Exe("opt/vendor/nc", "opt/vendor/helper"),
                ],
                vec![
                    f("/opt/vendor/helper", "busybox", "busybox"),
                    via("/opt/vendor/nc", "lolbin", "nc", "/opt/vendor/helper"),
                    via("/usr/local/bin/sh", "shell", "sh", "/opt/vendor/helper"),
                    via(
                        "/usr/local/bin/wget",
                        "lolbin",
                        "wget",
                        "/opt/vendor/helper",
                    ),
                ],
            ),
            (
                // Regression: the hardlink named base64 sorted first and was
                // taken for the binary, hiding the base64 applet.
                "among hardlinks, the BusyBox binary is the one not named like an applet",
                vec![
                    BusyBox("opt/z/helper"),
                    Exe("opt/a/bin/base64", "opt/z/helper"),
                ],
                vec![
                    via("/opt/a/bin/base64", "lolbin", "base64", "/opt/z/helper"),
                    f("/opt/z/helper", "busybox", "busybox"),
                ],
            ),
            (
                "a dangling link is nothing",
                vec![Link("usr/bin/bash", "/nowhere")],
                vec![],
            ),
            (
                "setuid, setgid and world-writable files; a sticky folder is fine",
                vec![
                    File("usr/bin/su", 0o4755),
                    File("usr/bin/chage", 0o2755),
                    File("etc/shadow-copy", 0o666),
                    Dir("tmp", 0o1777),
                    Dir("var/drop", 0o777),
                ],
                vec![
                    f("/etc/shadow-copy", "world-writable", "shadow-copy"),
                    f("/usr/bin/chage", "setgid", "chage"),
                    f("/usr/bin/su", "setuid", "su"),
                    f("/var/drop", "world-writable", "drop"),
                ],
            ),
            (
                "file capabilities from the layer's xattr",
                vec![Caps("usr/bin/ping", caps)],
                vec![
                    f("/usr/bin/ping", "network-tool", "ping"),
                    f("/usr/bin/ping", "file-capability", "ping"),
                ],
            ),
        ];
        for (name, entries, want) in cases {
            assert_eq!(summary(&entries), want, "{name}");
        }
    }

    #[test]
    fn summary_counts_each_kind_and_reasons_say_why() {
        use E::*;
        let report = audit(
            &flattened(&[
                Exe("bin/bash", "bash"),
                Exe("bin/dash", "dash"),
                Caps(
                    "usr/bin/ping",
                    vec![
                        1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                    ],
                ),
            ]),
            &Catalog::builtin(),
        );
        assert_eq!(report.summary[&Kind::Shell], 2);
        assert_eq!(report.summary[&Kind::FileCapability], 1);
        let ping = report
            .findings
            .iter()
            .find(|f| f.kind == Kind::FileCapability)
            .unwrap();
        assert!(ping.reason.contains("cap_net_raw"), "{}", ping.reason);
    }
}
