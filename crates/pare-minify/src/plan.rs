//! The plan: every path of the source image the new image keeps, each with
//! the reasons it is kept. Built from the entry points' closure by the
//! loader's rules, then the rules for what the loader cannot see (NSS
//! modules, CA certificates, time zone data, the OS identity) and the
//! user's `--include`/`--exclude`, and what a traced run saw the
//! application touch ([`Observed`]).

use std::collections::{BTreeMap, BTreeSet};

use globset::{GlobBuilder, GlobMatcher};
use pare_elf::image::ImageRoot;
use pare_elf::search::{Closure, Missing, Reason, Root};
use pare_elf::{LdCache, Loader};
use pare_image::Flattened;
use pare_image::tree::{FileTree, NodeKind};

use crate::entry::{DEFAULT_PATH, EntryError, resolve_entry};
use crate::observed::Observed;
use crate::rules;
use crate::why::{Kind, Rule, Why};

/// What the user asked for, beside the image's own configuration.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// Replaces the image's Entrypoint (and drops its Cmd unless `cmd`).
    pub entrypoint: Option<String>,
    /// Replaces the image's Cmd.
    pub cmd: Vec<String>,
    /// Extra programs kept with what they load.
    pub include_bin: Vec<String>,
    /// Extra paths kept: files, folders (with everything below) or globs.
    pub include: Vec<String>,
    /// Globs of paths never kept (a folder's pattern covers what is below).
    pub exclude: Vec<String>,
    /// Keep the time zone database.
    pub include_tz: bool,
    /// Keep the shell a script entry point runs under.
    pub keep_shell: bool,
    /// Keep the data of the entry point's packages even when the image
    /// exposes no port (see [`crate::package_data`]).
    pub include_package_data: bool,
    /// Paths a traced run saw the application touch.
    pub observed: Vec<Observed>,
    /// User and group ids a traced run saw processes switch to: kept in
    /// the reduced passwd and group files.
    pub switched_ids: (BTreeSet<u32>, BTreeSet<u32>),
}

impl Request {
    /// An image's Entrypoint and Cmd after `--entrypoint` and `--cmd`, as
    /// `docker run` applies them: a new Entrypoint drops the image's Cmd.
    /// What the plan runs and what the new image's configuration says.
    pub fn command(
        &self,
        entrypoint: Option<Vec<String>>,
        cmd: Option<Vec<String>>,
    ) -> (Option<Vec<String>>, Option<Vec<String>>) {
        match &self.entrypoint {
            Some(new) => (
                Some(vec![new.clone()]),
                (!self.cmd.is_empty()).then(|| self.cmd.clone()),
            ),
            None if !self.cmd.is_empty() => (entrypoint, Some(self.cmd.clone())),
            None => (entrypoint, cmd),
        }
    }
}

/// The image configuration the plan reads.
#[derive(Clone, Debug, Default)]
pub struct RunConfig {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    /// `ExposedPorts` (`80/tcp`): the image is a server.
    pub exposed_ports: Vec<String>,
}

impl RunConfig {
    /// The parts of an image's configuration the plan reads.
    pub fn of(image: &oci_spec::image::ImageConfiguration) -> RunConfig {
        let runtime = image.config().clone().unwrap_or_default();
        RunConfig {
            entrypoint: runtime.entrypoint().clone().unwrap_or_default(),
            cmd: runtime.cmd().clone().unwrap_or_default(),
            env: runtime.env().clone().unwrap_or_default(),
            working_dir: runtime.working_dir().clone(),
            user: runtime.user().clone(),
            exposed_ports: runtime.exposed_ports().clone().unwrap_or_default(),
        }
    }

    /// The value of `name` in the environment.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find_map(|e| e.strip_prefix(name)?.strip_prefix('='))
    }

    /// The working directory, `/` when unset.
    pub fn workdir(&self) -> String {
        self.working_dir
            .clone()
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| "/".into())
    }

    /// What a runtime runs: Entrypoint + Cmd, with the request's overrides
    /// (an `--entrypoint` drops the image's Cmd, as `docker run` does).
    pub fn argv(&self, request: &Request) -> Vec<String> {
        let (entrypoint, cmd) =
            request.command(Some(self.entrypoint.clone()), Some(self.cmd.clone()));
        entrypoint.into_iter().chain(cmd).flatten().collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Entry(#[from] EntryError),
    #[error("--include-bin {name}: {source}")]
    IncludeBin { name: String, source: EntryError },
    #[error("--include {pattern}: nothing in the image matches")]
    IncludeMatchesNothing { pattern: String },
    #[error("{option} {pattern}: {message}")]
    BadPattern {
        option: &'static str,
        pattern: String,
        message: String,
    },
}

/// Paths the new image keeps, with why.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Absolute paths of the source image and the reasons for each.
    pub keep: BTreeMap<String, BTreeSet<Why>>,
    /// Folders kept even if empty (the working directory).
    pub folders: Vec<String>,
    /// Libraries nobody could find, and who needs them.
    pub missing: Vec<Missing>,
    /// Paths `--exclude` took out of the plan.
    pub excluded: Vec<String>,
    /// The programs the entry point runs (`argv[0]` and `#!` interpreters).
    pub programs: Vec<String>,
    /// Users (`name[:group]`) a wrapper in the entry point switches to
    /// (`gosu redis …`): kept in the reduced passwd and group.
    pub users: Vec<String>,
    /// What a rule could not decide, each naming the flag that settles it.
    pub undecided: Vec<crate::interp::Undecided>,
}

/// Configuration files under `etc/` at most this big are captured for
/// the rules that read them (paths and users a server's configuration
/// names): Debian's whole `/etc` is about 1 MB.
pub const CONFIGURATION_CAPTURE_BYTES: u64 = 64 * 1024;

/// Files whose bytes planning reads, to capture while flattening.
pub fn wants(path: &str, size: u64) -> bool {
    (path.starts_with("etc/") && size <= CONFIGURATION_CAPTURE_BYTES)
        || path == "etc/ld.so.cache"
        || path == "etc/ld.so.conf"
        || path.starts_with("etc/ld.so.conf.d/")
        || path == rules::NSSWITCH
        || rules::wants(path)
        || (size <= crate::interp::MAX_READ && crate::interp::wants(path))
}

impl Plan {
    /// Keeps `path` (absolute) for `why`.
    pub fn add(&mut self, path: &str, why: Why) {
        self.keep.entry(path.to_string()).or_default().insert(why);
    }

    /// Keeps every path of a loader closure with its reasons.
    fn add_closure(&mut self, closure: &Closure) {
        self.add_closure_reasons(closure, |_| true);
    }

    /// Keeps what a closure of objects kept for reasons of their own (an
    /// NSS module, an included plugin) loads: every reason but "entry
    /// point", which the closure gives the objects themselves.
    pub fn add_loaded(&mut self, closure: &Closure) {
        self.add_closure_reasons(closure, |r| *r != Reason::EntryPoint);
    }

    fn add_closure_reasons(&mut self, closure: &Closure, wanted: impl Fn(&Reason) -> bool) {
        for (path, reasons) in &closure.keep {
            for reason in reasons.iter().filter(|r| wanted(r)) {
                self.add(path, Why::from(reason));
            }
        }
    }

    /// Keeps what `path` (absolute) names in `tree`: the symlinks on the way,
    /// the file, or a folder with everything below it. False when nothing
    /// is there.
    pub fn add_resolved(&mut self, tree: &FileTree, path: &str, why: Why) -> bool {
        let Ok((real, links)) = tree.resolve_traced(path.trim_start_matches('/')) else {
            return false;
        };
        let Some(node) = tree.get(&real) else {
            return false;
        };
        for link in links {
            self.add(
                &format!("/{link}"),
                Why::SymlinkTo {
                    target: format!("/{real}"),
                },
            );
        }
        let mut links_below = Vec::new();
        if node.is_dir() {
            let below: Vec<(String, bool)> = tree
                .descendants(&real)
                .map(|(p, n)| (format!("/{p}"), matches!(n.kind, NodeKind::Symlink(_))))
                .collect();
            for (p, is_link) in below {
                self.add(&p, why.clone());
                if is_link {
                    links_below.push(p);
                }
            }
        }
        self.add(&format!("/{real}"), why);
        for link in links_below {
            self.add_link_target(tree, &link);
        }
        true
    }

    /// Keeps what a kept symlink inside a kept folder points at, elsewhere
    /// in the image (a JRE's `conf` → `/etc/java-17-openjdk`, nginx's
    /// `modules-enabled/*` → `modules-available/…`): a folder kept whole
    /// must not hold links that dangle. A target already kept is not
    /// walked again, so link cycles end; a link that dangled in the source
    /// dangles in the result too.
    fn add_link_target(&mut self, tree: &FileTree, link: &str) {
        let Ok(target) = tree.resolve(link.trim_start_matches('/'), true) else {
            return;
        };
        if self.keep.contains_key(&format!("/{target}")) {
            return;
        }
        let why = Why::TargetOf {
            link: link.to_string(),
        };
        self.add_resolved(tree, link, why);
    }

    /// The reasons for `path`, as a person reads them: reasons of one
    /// kind that differ only in the object they name ("needed by /a",
    /// "needed by /b") are one line naming a few of them. Reasons without
    /// an object come first, then those lines; each in the order of its
    /// text, as `--explain` has always listed them.
    pub fn explain(&self, path: &str) -> Vec<String> {
        const SHOWN: usize = 2;
        let Some(whys) = self.keep.get(path) else {
            return Vec::new();
        };
        let mut whys: Vec<(String, &Why)> = whys.iter().map(|w| (w.to_string(), w)).collect();
        whys.sort_by(|a, b| a.0.cmp(&b.0));
        whys.dedup_by(|a, b| a.0 == b.0);
        let mut plain = Vec::new();
        let mut groups: BTreeMap<Kind<'_>, Vec<&str>> = BTreeMap::new();
        for (text, why) in &whys {
            match why.object() {
                Some((kind, object)) => groups.entry(kind).or_default().push(object),
                None => plain.push(text.clone()),
            }
        }
        let mut lines: Vec<((String, String), String)> = groups
            .into_iter()
            .map(|(kind, objects)| {
                let (head, tail) = kind.around();
                let mut named = objects[..objects.len().min(SHOWN)].join(", ");
                if objects.len() > SHOWN {
                    named.push_str(&format!(" and {} more", objects.len() - SHOWN));
                }
                let line = format!("{head}{named}{tail}");
                ((head, tail), line)
            })
            .collect();
        lines.sort_by(|a, b| a.0.cmp(&b.0));
        plain.extend(lines.into_iter().map(|(_, line)| line));
        plain
    }

    /// The kept glibc `libc.so.6`, if any: what loads NSS modules and
    /// gconv converters by name.
    pub fn kept_glibc(&self) -> Option<String> {
        self.keep
            .keys()
            .find(|p| pare_image::paths::file_name(p) == "libc.so.6")
            .cloned()
    }

    /// The kept paths.
    pub fn paths(&self) -> BTreeSet<String> {
        self.keep.keys().cloned().collect()
    }
}

/// Works out the plan for `flat` run as `config` says, with `request`.
pub fn plan(flat: &Flattened, config: &RunConfig, request: &Request) -> Result<Plan, PlanError> {
    let root = ImageRoot { flat };
    let path = config.var("PATH").unwrap_or(DEFAULT_PATH);
    let workdir = config.workdir();
    let argv = config.argv(request);
    let mut programs: Vec<String> =
        resolve_entry(&root, &argv, path, &workdir, request.keep_shell)?
            .into_iter()
            .map(|p| p.path)
            .collect();
    for name in &request.include_bin {
        let found = resolve_entry(
            &root,
            std::slice::from_ref(name),
            path,
            &workdir,
            request.keep_shell,
        )
        .map_err(|source| PlanError::IncludeBin {
            name: name.clone(),
            source,
        })?;
        programs.extend(found.into_iter().map(|p| p.path));
    }
    let cache = flat
        .read("etc/ld.so.cache")
        .ok()
        .flatten()
        .and_then(|bytes| LdCache::parse(&bytes).ok());
    let library_path: Vec<String> = config
        .var("LD_LIBRARY_PATH")
        .map(|p| {
            p.split(':')
                .filter(|d| !d.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let read = |path: &str| {
        let bytes = flat.read(path.trim_start_matches('/')).ok().flatten()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    };
    let list = |dir: &str| -> Vec<String> {
        let Ok(dir) = flat.tree.resolve(dir.trim_start_matches('/'), true) else {
            return Vec::new();
        };
        flat.tree
            .children(&dir)
            .map(|(path, _)| pare_image::paths::file_name(&path).to_string())
            .collect()
    };
    let conf_dirs = pare_elf::ldconf::conf_dirs(&read, &list);
    let loader = Loader::new(&root, cache, library_path, conf_dirs.clone());
    let closure = loader.closure(&programs);

    let mut plan = Plan {
        folders: vec![workdir.clone()],
        missing: closure.missing.clone(),
        programs,
        users: crate::entry::wrapper_users(&argv),
        ..Plan::default()
    };
    plan.add_closure(&closure);
    // Included ELF files (a Python extension module, a plugin) load
    // libraries too; the rules below then see those as well.
    let included = add_includes(&flat.tree, &request.include, &mut plan)?;
    let objects: Vec<String> = included
        .into_iter()
        .filter(|p| !plan.programs.contains(p) && root.elf(p).is_some())
        .collect();
    let loaded = loader.closure(&objects);
    plan.add_loaded(&loaded);
    // Libraries found through the loader's cache: the cache goes with them,
    // so what the kept programs dlopen by name is found the same way.
    let via_cache = [&closure, &loaded].iter().any(|c| {
        c.keep.values().flatten().any(
            |r| matches!(r, pare_elf::search::Reason::Needed { how, .. } if *how == "ld.so.cache"),
        )
    });
    if via_cache {
        plan.add_resolved(&flat.tree, "/etc/ld.so.cache", Why::Rule(Rule::LoaderCache));
    }
    plan.missing.extend(loaded.missing);
    let invocations = crate::interp::invocations(&root, &argv, path, &workdir);
    let cx = crate::interp::Context {
        flat,
        root: &root,
        config,
        path,
        workdir: &workdir,
        loader: &loader,
        keep_shell: request.keep_shell,
    };
    // A traced run saw what each program read: the rules that know
    // programs keep whole libraries, data folders and converter sets
    // because they cannot see, and would undo its savings.
    let is_static = request.observed.is_empty();
    if is_static {
        plan.undecided = crate::interp::add(&cx, &invocations, &mut plan);
    }
    for observed in &request.observed {
        plan.add_observed(&flat.tree, observed);
    }
    rules::add_nss_modules(flat, &loader, &mut plan);
    rules::add_os_release(&flat.tree, &mut plan);
    rules::add_skeleton(&flat.tree, &mut plan);
    rules::add_ca_certificates(&flat.tree, &mut plan);
    rules::add_time_zones(&flat.tree, config.var("TZ"), request.include_tz, &mut plan);
    if is_static && (request.include_package_data || !config.exposed_ports.is_empty()) {
        let installed = crate::package_data::installed(flat);
        let programs: Vec<String> = invocations.iter().map(|i| i.real.clone()).collect();
        crate::package_data::add_package_data(&flat.tree, &installed, &programs, &read, &mut plan);
    }
    if is_static {
        rules::add_plugin_folders(&flat.tree, &root, &loader, &conf_dirs, &mut plan);
        let locales = crate::locale::add_locales(&flat.tree, &root, &config.env, &mut plan);
        plan.undecided.extend(locales);
        crate::locale::add_gconv(&flat.tree, &root, &loader, &config.env, &mut plan);
    }
    settle_provided(&root, &mut plan);
    apply_excludes(&request.exclude, &mut plan)?;
    Ok(plan)
}

/// A needed library no search rule finds, but whose name a kept object
/// has as its `DT_SONAME` (the JVM's `libjava.so` needs `libjvm.so`, which
/// the `java` launcher loads by path from `lib/server/` before it): glibc
/// reuses an object already loaded under that name, so it is provided,
/// not missing. The provider says so in `--explain`.
fn settle_provided(root: &dyn Root, plan: &mut Plan) {
    let kept: Vec<String> = plan.keep.keys().cloned().collect();
    let mut missing = Vec::new();
    for m in std::mem::take(&mut plan.missing) {
        let provider = kept.iter().find(|path| {
            root.elf(path)
                .and_then(|info| info.soname)
                .is_some_and(|soname| soname == m.name)
        });
        match provider {
            Some(path) => plan.add(
                path,
                Why::Rule(Rule::ProvidesLibrary {
                    lib: m.name.clone(),
                    to: m.needed_by.clone(),
                }),
            ),
            None => missing.push(m),
        }
    }
    plan.missing = missing;
}

/// Files worth copying aside while the layers stream past, before the plan
/// is known (see `pare_image::spool::SpoolScanner`, which also copies every
/// ELF file): what the rules keep (configuration under `etc`, the OS
/// identity, time zones, CA certificates) and what `--include` names. A
/// kept file not picked here costs a second read of its layer, nothing
/// worse.
pub fn spool_candidates(request: &Request) -> Box<pare_image::spool::SpoolPredicate> {
    const RULE_FOLDERS: &[&str] = &[
        "etc/",
        "usr/share/zoneinfo/",
        "usr/share/ca-certificates/",
        "usr/lib/ssl/",
        "usr/lib/os-release",
    ];
    let mut plain = Vec::new();
    let mut globs = Vec::new();
    for pattern in &request.include {
        if is_glob(pattern) {
            // A bad pattern is reported by `plan`; here it only picks nothing.
            globs.extend(glob("--include", pattern).ok());
        } else {
            plain.push(pattern.trim_matches('/').to_string());
        }
    }
    Box::new(move |path: &str, _size| {
        RULE_FOLDERS.iter().any(|f| path.starts_with(f))
            || plain.iter().any(|p| {
                path.strip_prefix(p.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
            || (!globs.is_empty() && {
                let absolute = format!("/{path}");
                globs.iter().any(|g| g.is_match(&absolute))
            })
    })
}

/// Whether a pattern uses glob syntax (else it is a plain path).
fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '[', '{'])
}

/// A glob over absolute paths: `*` stays within one folder, `**` crosses.
fn glob(option: &'static str, pattern: &str) -> Result<GlobMatcher, PlanError> {
    let absolute = format!("/{}", pattern.trim_start_matches('/'));
    GlobBuilder::new(&absolute)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| PlanError::BadPattern {
            option,
            pattern: pattern.to_string(),
            message: e.kind().to_string(),
        })
}

/// `--include`: each pattern must match something in the image. Returns
/// the regular files it added (absolute real paths).
fn add_includes(
    tree: &FileTree,
    patterns: &[String],
    plan: &mut Plan,
) -> Result<Vec<String>, PlanError> {
    let before: BTreeSet<String> = plan.keep.keys().cloned().collect();
    for pattern in patterns {
        let why = Why::Include {
            pattern: pattern.clone(),
        };
        let found = if is_glob(pattern) {
            let matcher = glob("--include", pattern)?;
            let matched: Vec<String> = tree
                .iter()
                .map(|(p, _)| format!("/{p}"))
                .filter(|p| matcher.is_match(p))
                .collect();
            for path in &matched {
                plan.add_resolved(tree, path, why.clone());
            }
            !matched.is_empty()
        } else {
            plan.add_resolved(tree, pattern, why)
        };
        if !found {
            return Err(PlanError::IncludeMatchesNothing {
                pattern: pattern.clone(),
            });
        }
    }
    Ok(plan
        .keep
        .keys()
        .filter(|p| !before.contains(*p))
        .filter(|p| {
            tree.get(p.trim_start_matches('/'))
                .is_some_and(|n| matches!(n.kind, NodeKind::File(_)))
        })
        .cloned()
        .collect())
}

/// `--exclude`: drops every kept path a pattern matches, or that lies
/// below a folder a pattern matches.
fn apply_excludes(patterns: &[String], plan: &mut Plan) -> Result<(), PlanError> {
    let matchers = patterns
        .iter()
        .map(|p| glob("--exclude", p))
        .collect::<Result<Vec<_>, _>>()?;
    if matchers.is_empty() {
        return Ok(());
    }
    let excluded = |path: &str| {
        let mut at = path;
        loop {
            if matchers.iter().any(|m| m.is_match(at)) {
                return true;
            }
            match at.rfind('/') {
                Some(0) | None => return false,
                Some(i) => at = &at[..i],
            }
        }
    };
    let gone: Vec<String> = plan.keep.keys().filter(|p| excluded(p)).cloned().collect();
    for path in &gone {
        plan.keep.remove(path);
    }
    plan.excluded = gone;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(paths: &[&str]) -> Plan {
        let mut plan = Plan::default();
        for p in paths {
            plan.add(p, Why::EntryPoint);
        }
        plan
    }

    /// A tree of files and symlinks (`path -> target`).
    fn tree_of(entries: &[&str]) -> FileTree {
        use pare_image::DataSource;
        use pare_image::tree::{Content, Node};
        let mut tree = FileTree::new();
        for entry in entries {
            let kind = match entry.split_once(" -> ") {
                Some((_, to)) => NodeKind::Symlink(to.into()),
                None => NodeKind::File(tree.add_content(Content {
                    source: DataSource::Host("/dev/null".into()),
                    size: 0,
                })),
            };
            let path = entry.split(" -> ").next().unwrap();
            let node = Node {
                kind,
                ..Node::implicit_dir()
            };
            tree.insert(path.into(), node);
        }
        tree
    }

    #[test]
    fn links_inside_a_kept_folder_keep_their_targets() {
        let tree = tree_of(&[
            "etc/nginx/nginx.conf",
            "etc/nginx/modules-enabled/50-a.conf -> /usr/share/nginx/modules-available/a.conf",
            "usr/share/nginx/modules-available/a.conf",
            "usr/share/nginx/modules-available/b.conf",
            "usr/lib/jvm/jre/conf -> /etc/java-17",
            "usr/lib/jvm/jre/lib/cacerts -> ../../../../../etc/ssl/java/cacerts",
            "etc/java-17/security/java.security",
            "etc/java-17/jre -> /usr/lib/jvm/jre",
            "etc/ssl/java/cacerts",
            "usr/lib/jvm/jre/loop -> loop",
            "usr/lib/jvm/jre/gone -> /nowhere",
        ]);
        /// What a row proves, the folder kept, paths that must be kept
        /// (with the reason's text), paths that must not.
        type Case = (
            &'static str,
            &'static str,
            &'static [(&'static str, &'static str)],
            &'static [&'static str],
        );
        let cases: &[Case] = &[
            (
                "a link to a file elsewhere keeps the file, not its siblings",
                "/etc/nginx",
                &[(
                    "/usr/share/nginx/modules-available/a.conf",
                    "target of the kept symlink /etc/nginx/modules-enabled/50-a.conf",
                )],
                &["/usr/share/nginx/modules-available/b.conf"],
            ),
            (
                "a link to a folder keeps the folder, and links in it are followed (a cycle ends)",
                "/usr/lib/jvm/jre",
                &[
                    (
                        "/etc/java-17/security/java.security",
                        "target of the kept symlink /usr/lib/jvm/jre/conf",
                    ),
                    (
                        "/etc/ssl/java/cacerts",
                        "target of the kept symlink /usr/lib/jvm/jre/lib/cacerts",
                    ),
                ],
                &["/nowhere", "/etc/nginx/nginx.conf"],
            ),
        ];
        for (case, folder, kept, not_kept) in cases {
            let mut plan = Plan::default();
            let why = Why::Include {
                pattern: folder.to_string(),
            };
            assert!(plan.add_resolved(&tree, folder, why), "{case}");
            for (path, reason) in *kept {
                assert!(
                    plan.explain(path).iter().any(|r| r == reason),
                    "{case}: {path}: {:?}",
                    plan.explain(path)
                );
            }
            for path in *not_kept {
                assert!(!plan.keep.contains_key(*path), "{case}: {path}");
            }
        }
    }

    #[test]
    fn a_library_no_search_finds_is_provided_by_a_kept_object_with_its_soname() {
        use pare_elf::ElfInfo;
        /// Kept objects and their sonames.
        struct Sonames(&'static [(&'static str, &'static str)]);
        impl Root for Sonames {
            fn resolve(&self, path: &str) -> Option<(String, Vec<String>)> {
                Some((path.to_string(), Vec::new()))
            }
            fn elf(&self, path: &str) -> Option<ElfInfo> {
                let (_, soname) = self.0.iter().find(|(p, _)| *p == path)?;
                Some(ElfInfo {
                    is_64: true,
                    machine: 62,
                    interpreter: None,
                    needed: Vec::new(),
                    rpath: Vec::new(),
                    runpath: Vec::new(),
                    soname: Some(soname.to_string()),
                    dynamic: true,
                    ..ElfInfo::default()
                })
            }
        }
        let root = Sonames(&[
            ("/jre/lib/server/libjvm.so", "libjvm.so"),
            ("/opt/libfoo.so", "libbar.so.1"),
        ]);
        // What a row proves, the missing library, whether it is settled.
        let cases = [
            (
                "a kept object with that soname provides it",
                "libjvm.so",
                true,
            ),
            ("a file name is not a soname", "libfoo.so", false),
            ("nothing provides it", "libnone.so.2", false),
        ];
        for (case, name, settled) in cases {
            let mut plan = plan_of(&["/jre/lib/server/libjvm.so", "/opt/libfoo.so"]);
            plan.missing = vec![Missing {
                name: name.into(),
                needed_by: "/jre/lib/libjava.so".into(),
            }];
            settle_provided(&root, &mut plan);
            assert_eq!(plan.missing.is_empty(), settled, "{case}");
            let provides = plan
                .explain("/jre/lib/server/libjvm.so")
                .iter()
                .any(|r| r.starts_with(&format!("provides {name} to /jre/lib/libjava.so")));
            assert_eq!(provides, settled && name == "libjvm.so", "{case}");
        }
    }

    #[test]
    fn excludes_match_paths_and_what_is_below_matched_folders() {
        let all = [
            "/usr/bin/redis-server",
            "/usr/share/doc/redis/copyright",
            "/usr/share/doc/libc6/changelog.gz",
            "/usr/lib/x86_64-linux-gnu/libssl.so.3",
            "/etc/ssl/certs/ca-certificates.crt",
        ];
        let cases: &[(&[&str], &[&str])] = &[
            (
                &["/usr/share/doc"],
                &[
                    "/usr/share/doc/redis/copyright",
                    "/usr/share/doc/libc6/changelog.gz",
                ],
            ),
            (
                &["/usr/share/doc/*/changelog.gz"],
                &["/usr/share/doc/libc6/changelog.gz"],
            ),
            (&["**/*.so.*"], &["/usr/lib/x86_64-linux-gnu/libssl.so.3"]),
            // `*` does not cross folders.
            (&["/usr/*"], &all[..4]),
            (&["/usr/*/redis-server"], &["/usr/bin/redis-server"]),
            (&["etc/ssl"], &["/etc/ssl/certs/ca-certificates.crt"]),
            (&["/nothing/here"], &[]),
        ];
        for (patterns, gone) in cases {
            let mut plan = plan_of(&all);
            let patterns: Vec<String> = patterns.iter().map(|s| s.to_string()).collect();
            apply_excludes(&patterns, &mut plan).unwrap();
            let mut want: Vec<String> = gone.iter().map(|s| s.to_string()).collect();
            want.sort();
            assert_eq!(plan.excluded, want, "{patterns:?}");
            assert_eq!(plan.keep.len(), all.len() - want.len(), "{patterns:?}");
        }
    }

    #[test]
    fn explanations_group_reasons_that_name_different_objects() {
        let mut plan = Plan::default();
        let needed = |by: &str, via| Why::Needed {
            lib: "libc.so.6".into(),
            by: by.into(),
            via,
        };
        for by in ["/a", "/b", "/c"] {
            plan.add("/lib/libc.so.6", needed(by, "ld.so.cache"));
        }
        plan.add("/lib/libc.so.6", needed("/d", "DT_RUNPATH"));
        plan.add(
            "/lib/libc.so.6",
            Why::Include {
                pattern: "/lib".into(),
            },
        );
        for to in ["/usr/lib/x", "/usr/lib/y"] {
            plan.add("/lib", Why::SymlinkTo { target: to.into() });
        }
        for by in ["nginx (pid 8)", "nginx (pid 7)"] {
            let how = crate::ObservedHow::Opened;
            plan.add("/etc/nginx.conf", Why::Observed { how, by: by.into() });
        }
        assert_eq!(
            plan.explain("/lib/libc.so.6"),
            [
                "--include /lib",
                "libc.so.6 needed by /d (found via DT_RUNPATH)",
                "libc.so.6 needed by /a, /b and 1 more (found via ld.so.cache)",
            ]
        );
        assert_eq!(
            plan.explain("/lib"),
            ["symlink on the way to /usr/lib/x, /usr/lib/y"]
        );
        assert_eq!(
            plan.explain("/etc/nginx.conf"),
            ["opened by nginx (pid 7), nginx (pid 8)"]
        );
        assert!(plan.explain("/nothing").is_empty());
    }

    #[test]
    fn spool_candidates_are_rule_files_and_includes() {
        let picks = spool_candidates(&Request {
            include: vec!["/usr/lib/python3.11".into(), "/app/*.py".into()],
            ..Request::default()
        });
        for (path, picked) in [
            ("etc/nsswitch.conf", true),
            ("usr/share/zoneinfo/Europe/Paris", true),
            ("usr/lib/python3.11/os.py", true),
            ("usr/lib/python3.11", true),
            ("usr/lib/python3.110/x", false),
            ("app/app.py", true),
            ("app/data/x.py", false),
            ("usr/share/doc/x", false),
        ] {
            assert_eq!(picks(path, 1), picked, "{path}");
        }
    }

    #[test]
    fn a_bad_glob_is_a_clear_error() {
        let err = apply_excludes(&["/usr/[lib".to_string()], &mut Plan::default()).unwrap_err();
        assert!(
            err.to_string().starts_with("--exclude /usr/[lib: "),
            "{err}"
        );
    }

    #[test]
    fn argv_follows_docker_run_overrides() {
        let config = RunConfig {
            entrypoint: vec!["/entry".into(), "-x".into()],
            cmd: vec!["serve".into()],
            ..RunConfig::default()
        };
        let argv = |entrypoint: Option<&str>, cmd: &[&str]| {
            config.argv(&Request {
                entrypoint: entrypoint.map(str::to_string),
                cmd: cmd.iter().map(|s| s.to_string()).collect(),
                ..Request::default()
            })
        };
        assert_eq!(argv(None, &[]), ["/entry", "-x", "serve"]);
        assert_eq!(argv(None, &["run"]), ["/entry", "-x", "run"]);
        assert_eq!(argv(Some("/other"), &[]), ["/other"]);
        assert_eq!(argv(Some("/other"), &["a"]), ["/other", "a"]);
    }

    #[test]
    fn the_new_config_takes_the_overrides_and_keeps_what_they_leave() {
        let words = |w: &[&str]| Some(w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        type Command = (Option<Vec<String>>, Option<Vec<String>>);
        /// What it proves, --entrypoint, --cmd, the image's, the new one.
        type Case = (
            &'static str,
            Option<&'static str>,
            &'static [&'static str],
            Command,
            Command,
        );
        let cases: Vec<Case> = vec![
            (
                "no override leaves an unset Cmd unset",
                None,
                &[],
                (words(&["/entry"]), None),
                (words(&["/entry"]), None),
            ),
            (
                "no override leaves an empty Cmd empty",
                None,
                &[],
                (None, words(&[])),
                (None, words(&[])),
            ),
            (
                "--cmd replaces Cmd only",
                None,
                &["run"],
                (words(&["/entry"]), words(&["serve"])),
                (words(&["/entry"]), words(&["run"])),
            ),
            (
                "--entrypoint drops the image's Cmd",
                Some("/other"),
                &[],
                (words(&["/entry"]), words(&["serve"])),
                (words(&["/other"]), None),
            ),
            (
                "--entrypoint with --cmd",
                Some("/other"),
                &["a"],
                (None, None),
                (words(&["/other"]), words(&["a"])),
            ),
        ];
        for (case, entrypoint, cmd, image, want) in cases {
            let request = Request {
                entrypoint: entrypoint.map(str::to_string),
                cmd: cmd.iter().map(|s| s.to_string()).collect(),
                ..Request::default()
            };
            assert_eq!(request.command(image.0, image.1), want, "{case}");
        }
    }
}
