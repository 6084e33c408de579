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

/// Files whose bytes planning reads, to capture while flattening (`size`
/// bytes long).
pub fn wants(path: &str, size: u64) -> bool {
    path == "etc/ld.so.cache"
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
        if node.is_dir() {
            let below: Vec<String> = tree
                .descendants(&real)
                .map(|(p, _)| format!("/{p}"))
                .collect();
            for p in below {
                self.add(&p, why.clone());
            }
        }
        self.add(&format!("/{real}"), why);
        true
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
    let loader = Loader::new(&root, cache, library_path, conf_dirs);
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
    // A traced run saw what each interpreter read; the rules, which keep
    // whole libraries because they cannot see, would undo its savings.
    if request.observed.is_empty() {
        plan.undecided = crate::interp::add(&cx, &invocations, &mut plan);
    }
    for observed in &request.observed {
        plan.add_observed(&flat.tree, observed);
    }
    rules::add_nss_modules(flat, &loader, &mut plan);
    rules::add_os_release(&flat.tree, &mut plan);
    rules::add_ca_certificates(&flat.tree, &mut plan);
    rules::add_time_zones(&flat.tree, config.var("TZ"), request.include_tz, &mut plan);
    apply_excludes(&request.exclude, &mut plan)?;
    Ok(plan)
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
