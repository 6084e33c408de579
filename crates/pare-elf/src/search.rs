//! The dynamic loader's search, done inside an image root (never the
//! host's), and the closure of everything an entry point loads.
//!
//! Hand-written: these are glibc's rules (`elf/dl-load.c`), which no crate
//! models. For a `DT_NEEDED` name without a slash the loader tries, in order:
//! the `DT_RPATH` of the requesting object and of each object that loaded it
//! (only when the requester has no `DT_RUNPATH`), `LD_LIBRARY_PATH`, the
//! requester's `DT_RUNPATH`, `etc/ld.so.cache`, then the default folders. A
//! candidate of the wrong class or machine is skipped, as the loader does.
//! `$ORIGIN` is the folder of the object whose path list it is in; `$LIB`
//! and `$PLATFORM` depend on the glibc build and the CPU, so every value
//! they can take is tried.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::elf::ElfInfo;
use crate::ldcache::{LdCache, flags_for};

/// The image root as the loader sees it.
pub trait Root {
    /// Resolves `path` (absolute) following every symlink inside the root:
    /// the real path and the symlinks passed on the way, or `None` when
    /// nothing is there.
    fn resolve(&self, path: &str) -> Option<(String, Vec<String>)>;
    /// The loader's view of the regular file at real path `path`; `None`
    /// when it is not an ELF file (or not a regular file).
    fn elf(&self, path: &str) -> Option<ElfInfo>;
}

/// Why a file is needed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    EntryPoint,
    /// The program interpreter of the object at this path.
    Interpreter(String),
    /// `DT_NEEDED` of the object at this path, found by `how`.
    Needed {
        by: String,
        name: String,
        how: &'static str,
    },
    /// A symlink passed on the way to a kept file.
    Link {
        to: String,
    },
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::EntryPoint => write!(f, "entry point"),
            Reason::Interpreter(by) => write!(f, "program interpreter of {by}"),
            Reason::Needed { by, name, how } => {
                write!(f, "{name} needed by {by} (found via {how})")
            }
            Reason::Link { to } => write!(f, "symlink on the way to {to}"),
        }
    }
}

/// A library nobody could find.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing {
    pub name: String,
    pub needed_by: String,
}

/// What the entry points load: every path to keep (files and the symlinks
/// leading to them) with why, and what could not be found.
#[derive(Clone, Debug, Default)]
pub struct Closure {
    pub keep: BTreeMap<String, BTreeSet<Reason>>,
    pub missing: Vec<Missing>,
}

/// The loader's configuration inside one image.
pub struct Loader<'a> {
    root: &'a dyn Root,
    cache: Option<LdCache>,
    /// `LD_LIBRARY_PATH` from the image's environment.
    library_path: Vec<String>,
    /// Folders tried after the cache: the multiarch, lib64 and plain ones.
    defaults: Vec<String>,
}

/// GNU triplets for `$LIB` and the multiarch default folders.
fn triplet(machine: u16, is_64: bool) -> Option<&'static str> {
    match (machine, is_64) {
        (62, true) => Some("x86_64-linux-gnu"),
        (183, true) => Some("aarch64-linux-gnu"),
        (3, false) => Some("i386-linux-gnu"),
        (40, false) => Some("arm-linux-gnueabihf"),
        _ => None,
    }
}

/// Every value `$PLATFORM` can take for a machine (AT_PLATFORM; glibc on
/// x86-64 reports `haswell` or `xeon_phi` on CPUs that have them).
fn platforms(machine: u16) -> &'static [&'static str] {
    match machine {
        62 => &["x86_64", "haswell", "xeon_phi"],
        183 => &["aarch64"],
        3 => &["i686", "i586", "i386"],
        _ => &[],
    }
}

impl<'a> Loader<'a> {
    /// `cache` is the image's `etc/ld.so.cache`, if it has a readable one;
    /// `library_path` its `LD_LIBRARY_PATH`; `conf_dirs` the folders of
    /// `etc/ld.so.conf(.d)`, tried after the defaults for a stale cache.
    pub fn new(
        root: &'a dyn Root,
        cache: Option<LdCache>,
        library_path: Vec<String>,
        conf_dirs: Vec<String>,
    ) -> Self {
        Loader {
            root,
            cache,
            library_path,
            defaults: conf_dirs,
        }
    }

    fn default_dirs(&self, info: &ElfInfo) -> Vec<String> {
        let mut dirs = Vec::new();
        if let Some(t) = triplet(info.machine, info.is_64) {
            dirs.push(format!("/lib/{t}"));
            dirs.push(format!("/usr/lib/{t}"));
        }
        if info.is_64 {
            dirs.extend(["/lib64".into(), "/usr/lib64".into()]);
        }
        dirs.extend(["/lib".into(), "/usr/lib".into()]);
        dirs.extend(self.defaults.iter().cloned());
        dirs
    }

    /// Expands `$ORIGIN`, `$LIB` and `$PLATFORM` (also as `${…}`) in one
    /// path-list entry of the object whose folder is `origin`.
    fn expand(&self, entry: &str, origin: &str, info: &ElfInfo) -> Vec<String> {
        let mut out = vec![
            entry
                .replace("${ORIGIN}", origin)
                .replace("$ORIGIN", origin),
        ];
        let libs: Vec<String> = triplet(info.machine, info.is_64)
            .map(|t| format!("lib/{t}"))
            .into_iter()
            .chain(["lib64".into(), "lib".into()])
            .collect();
        for (token, values) in [
            ("LIB", libs),
            (
                "PLATFORM",
                platforms(info.machine)
                    .iter()
                    .map(|p| p.to_string())
                    .collect(),
            ),
        ] {
            let (plain, braced) = (format!("${token}"), format!("${{{token}}}"));
            out = out
                .into_iter()
                .flat_map(|p| {
                    if p.contains(&plain) || p.contains(&braced) {
                        values
                            .iter()
                            .map(|v| p.replace(&braced, v).replace(&plain, v))
                            .collect::<Vec<_>>()
                    } else {
                        vec![p]
                    }
                })
                .collect();
        }
        out
    }

    /// Finds `name` for the object `by` (real path `by_path`): the real
    /// path, the symlinks on the way, and which rule found it.
    fn find(
        &self,
        name: &str,
        by_path: &str,
        by: &ElfInfo,
        rpath_chain: &[String],
    ) -> Option<(String, Vec<String>, &'static str)> {
        if name.contains('/') {
            let path = if name.starts_with('/') {
                name.to_string()
            } else {
                format!("{}/{name}", parent(by_path))
            };
            return self.try_path(&path, by).map(|(p, l)| (p, l, "path"));
        }
        let origin = parent(by_path);
        let mut lists: Vec<(Vec<String>, &'static str)> = Vec::new();
        if by.runpath.is_empty() {
            lists.push((rpath_chain.to_vec(), "DT_RPATH"));
        }
        lists.push((self.library_path.clone(), "LD_LIBRARY_PATH"));
        let runpath = by
            .runpath
            .iter()
            .flat_map(|e| self.expand(e, origin, by))
            .collect();
        lists.push((runpath, "DT_RUNPATH"));
        for (dirs, how) in lists {
            for dir in dirs {
                if let Some((p, l)) = self.try_path(&format!("{dir}/{name}"), by) {
                    return Some((p, l, how));
                }
            }
        }
        if let Some(cache) = &self.cache {
            for path in cache.lookup(name, flags_for(by.machine, by.is_64)) {
                if let Some((p, l)) = self.try_path(path, by) {
                    return Some((p, l, "ld.so.cache"));
                }
            }
        }
        for dir in self.default_dirs(by) {
            if let Some((p, l)) = self.try_path(&format!("{dir}/{name}"), by) {
                return Some((p, l, "default folders"));
            }
        }
        None
    }

    /// A candidate counts only if it is an ELF object of the requester's
    /// class and machine.
    fn try_path(&self, path: &str, by: &ElfInfo) -> Option<(String, Vec<String>)> {
        let (real, links) = self.root.resolve(&normalize(path))?;
        let info = self.root.elf(&real)?;
        (info.is_64 == by.is_64 && info.machine == by.machine).then_some((real, links))
    }

    /// What `dlopen(name)` called from the object at real path `by` finds:
    /// the same search as for its `DT_NEEDED` entries, without an
    /// inherited RPATH chain (the real path, the symlinks on the way, and
    /// which rule found it). glibc loads NSS modules this way.
    pub fn dlopen(&self, name: &str, by: &str) -> Option<(String, Vec<String>, &'static str)> {
        let info = self.root.elf(by)?;
        self.find(name, by, &info, &self.own_rpath(by, &info))
    }

    /// The object's own DT_RPATH, expanded; none when it has a DT_RUNPATH,
    /// which makes the loader ignore DT_RPATH.
    fn own_rpath(&self, path: &str, info: &ElfInfo) -> Vec<String> {
        if !info.runpath.is_empty() {
            return Vec::new();
        }
        info.rpath
            .iter()
            .flat_map(|e| self.expand(e, parent(path), info))
            .collect()
    }

    /// Everything `entry_points` (absolute paths) load, recursively.
    pub fn closure(&self, entry_points: &[String]) -> Closure {
        let mut out = Closure::default();
        // (real path, its RPATH chain as inherited by what it loads)
        let mut queue: VecDeque<(String, Vec<String>)> = VecDeque::new();
        let mut seen = BTreeSet::new();
        let keep = |out: &mut Closure, path: &str, reason: Reason| {
            out.keep.entry(path.to_string()).or_default().insert(reason);
        };
        for entry in entry_points {
            let Some((real, links)) = self.root.resolve(entry) else {
                out.missing.push(Missing {
                    name: entry.clone(),
                    needed_by: "entry point".into(),
                });
                continue;
            };
            for link in links {
                keep(&mut out, &link, Reason::Link { to: real.clone() });
            }
            keep(&mut out, &real, Reason::EntryPoint);
            if seen.insert(real.clone()) {
                queue.push_back((real, Vec::new()));
            }
        }
        while let Some((path, inherited)) = queue.pop_front() {
            let Some(info) = self.root.elf(&path) else {
                continue; // data or a script: nothing the loader reads
            };
            // This object's RPATH applies before what it inherited.
            let mut chain = self.own_rpath(&path, &info);
            chain.extend(inherited);
            let mut found = Vec::new();
            if let Some(interp) = &info.interpreter {
                match self.root.resolve(interp) {
                    Some((real, links)) => {
                        found.push((real, links, Reason::Interpreter(path.clone())))
                    }
                    None => out.missing.push(Missing {
                        name: interp.clone(),
                        needed_by: path.clone(),
                    }),
                }
            }
            for name in &info.needed {
                match self.find(name, &path, &info, &chain) {
                    Some((real, links, how)) => found.push((
                        real,
                        links,
                        Reason::Needed {
                            by: path.clone(),
                            name: name.clone(),
                            how,
                        },
                    )),
                    None => out.missing.push(Missing {
                        name: name.clone(),
                        needed_by: path.clone(),
                    }),
                }
            }
            for (real, links, reason) in found {
                for link in links {
                    keep(&mut out, &link, Reason::Link { to: real.clone() });
                }
                keep(&mut out, &real, reason);
                if seen.insert(real.clone()) {
                    queue.push_back((real, chain.clone()));
                }
            }
        }
        out
    }
}

fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(at) => &path[..at],
    }
}

/// Lexically cleans `a//b/./c` (`..` is left to the root's resolver).
fn normalize(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A made-up root: files with their ELF info, and symlinks.
    #[derive(Default)]
    struct FakeRoot {
        files: BTreeMap<String, Option<ElfInfo>>,
        links: BTreeMap<String, String>,
    }

    /// Lexical clean-up with `..` (fine for these made-up roots).
    fn clean(path: &str) -> String {
        let mut parts: Vec<&str> = Vec::new();
        for part in path.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                other => parts.push(other),
            }
        }
        format!("/{}", parts.join("/"))
    }

    impl Root for FakeRoot {
        fn resolve(&self, path: &str) -> Option<(String, Vec<String>)> {
            let mut path = clean(path);
            let mut passed = Vec::new();
            for _ in 0..40 {
                // Resolve the first component that is a link, prefix first.
                let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
                let mut changed = false;
                for i in 1..=parts.len() {
                    let prefix = format!("/{}", parts[..i].join("/"));
                    if let Some(target) = self.links.get(&prefix) {
                        passed.push(prefix.clone());
                        let base = if target.starts_with('/') {
                            target.clone()
                        } else {
                            format!("{}/{target}", parent(&prefix))
                        };
                        path = clean(&format!("{base}/{}", parts[i..].join("/")));
                        changed = true;
                        break;
                    }
                }
                if !changed {
                    return self.files.contains_key(&path).then_some((path, passed));
                }
            }
            None
        }

        fn elf(&self, path: &str) -> Option<ElfInfo> {
            self.files.get(path).cloned().flatten()
        }
    }

    fn elf(needed: &[&str]) -> ElfInfo {
        ElfInfo {
            is_64: true,
            machine: 62,
            needed: needed.iter().map(|s| s.to_string()).collect(),
            dynamic: true,
            ..ElfInfo::default()
        }
    }

    fn kept(closure: &Closure) -> Vec<&str> {
        closure.keep.keys().map(String::as_str).collect()
    }

    #[test]
    fn runpath_with_origin_and_merged_usr_links() {
        let mut root = FakeRoot::default();
        let mut app = elf(&["libapp.so.1", "libc.so.6"]);
        app.interpreter = Some("/lib64/ld-linux-x86-64.so.2".into());
        app.runpath = vec!["$ORIGIN/../lib".into()];
        root.files.insert("/opt/app/bin/app".into(), Some(app));
        root.files
            .insert("/opt/app/lib/libapp.so.1".into(), Some(elf(&[])));
        root.files
            .insert("/usr/lib/x86_64-linux-gnu/libc.so.6".into(), Some(elf(&[])));
        root.files.insert(
            "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2".into(),
            Some(elf(&[])),
        );
        root.links.insert("/lib".into(), "usr/lib".into());
        root.links.insert("/lib64".into(), "usr/lib64".into());
        root.links.insert(
            "/usr/lib64/ld-linux-x86-64.so.2".into(),
            "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2".into(),
        );
        root.files.insert("/usr/lib64/.keep".into(), None);
        let loader = Loader::new(&root, None, Vec::new(), Vec::new());
        let closure = loader.closure(&["/opt/app/bin/app".into()]);
        assert!(closure.missing.is_empty(), "{:?}", closure.missing);
        assert_eq!(
            kept(&closure),
            [
                "/lib",
                "/lib64",
                "/opt/app/bin/app",
                "/opt/app/lib/libapp.so.1",
                "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                "/usr/lib/x86_64-linux-gnu/libc.so.6",
                "/usr/lib64/ld-linux-x86-64.so.2",
            ]
        );
        let reasons = &closure.keep["/opt/app/lib/libapp.so.1"];
        assert!(reasons.iter().any(|r| matches!(
            r,
            Reason::Needed {
                how: "DT_RUNPATH",
                ..
            }
        )));
    }

    #[test]
    fn the_cache_comes_before_default_folders_and_wrong_machines_are_skipped() {
        let mut root = FakeRoot::default();
        root.files
            .insert("/bin/app".into(), Some(elf(&["libz.so.1"])));
        let mut arm = elf(&[]);
        arm.machine = 183;
        root.files.insert("/opt/z/libz.so.1".into(), Some(arm));
        root.files
            .insert("/opt/z64/libz.so.1".into(), Some(elf(&[])));
        root.files
            .insert("/lib/x86_64-linux-gnu/libz.so.1".into(), Some(elf(&[])));
        let cache = crate::ldcache::tests::build(&[
            ("libz.so.1", "/opt/z/libz.so.1", 0x0303, 0),
            ("libz.so.1", "/opt/z64/libz.so.1", 0x0303, 0),
        ]);
        let cache = LdCache::parse(&cache).unwrap();
        let closure =
            Loader::new(&root, Some(cache), Vec::new(), Vec::new()).closure(&["/bin/app".into()]);
        assert_eq!(kept(&closure), ["/bin/app", "/opt/z64/libz.so.1"]);
    }

    #[test]
    fn rpath_is_inherited_but_ignored_beside_runpath_and_missing_is_reported() {
        let mut root = FakeRoot::default();
        let mut app = elf(&["liba.so"]);
        app.rpath = vec!["/opt/r".into()];
        root.files.insert("/bin/app".into(), Some(app));
        // liba finds libb through the executable's RPATH ...
        root.files
            .insert("/opt/r/liba.so".into(), Some(elf(&["libb.so", "libc.so"])));
        root.files.insert("/opt/r/libb.so".into(), Some(elf(&[])));
        // ... but a library with a RUNPATH does not use inherited RPATHs.
        let mut libc = elf(&["libgone.so"]);
        libc.runpath = vec!["/nowhere".into()];
        root.files.insert("/usr/lib/libc.so".into(), Some(libc));
        let closure =
            Loader::new(&root, None, Vec::new(), Vec::new()).closure(&["/bin/app".into()]);
        assert_eq!(
            kept(&closure),
            [
                "/bin/app",
                "/opt/r/liba.so",
                "/opt/r/libb.so",
                "/usr/lib/libc.so"
            ]
        );
        assert_eq!(
            closure.missing,
            [Missing {
                name: "libgone.so".into(),
                needed_by: "/usr/lib/libc.so".into()
            }]
        );
    }

    #[test]
    fn lib_and_platform_expand_to_every_value_they_can_take() {
        let root = FakeRoot::default();
        let loader = Loader::new(&root, None, Vec::new(), Vec::new());
        let expanded = loader.expand("/opt/$LIB/${PLATFORM}", "/x", &elf(&[]));
        assert!(expanded.contains(&"/opt/lib/x86_64-linux-gnu/x86_64".to_string()));
        assert!(expanded.contains(&"/opt/lib64/haswell".to_string()));
        assert_eq!(
            loader.expand("$ORIGIN/../lib", "/opt/app/bin", &elf(&[])),
            ["/opt/app/bin/../lib"]
        );
    }
}
