//! Entry points resolved the way a container runtime starts them: argv is
//! `Entrypoint` + `Cmd` (or the overrides); `argv[0]` with a slash is a path
//! (relative to `WorkingDir`), without one it is searched in the image's
//! `PATH`. A script's `#!` interpreter is followed (`/usr/bin/env NAME`
//! searches `PATH` for `NAME`), and an interpreter that is a shell is
//! refused: keeping a shell is what minifying is meant to avoid.

use pare_audit::{Catalog, Kind};
use pare_elf::image::ImageRoot;
use pare_elf::search::Root;
use pare_image::tree::ResolveError;

/// `PATH` when the image's environment has none (Docker's default).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// `#!` chains longer than this are refused (Linux allows 4 levels).
pub(crate) const MAX_INTERPRETERS: usize = 4;

/// What a runtime would execute, and how it got there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// The path as found (before symlinks).
    pub path: String,
    /// How it was reached: `argv[0]`, or the interpreter of a script.
    pub role: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EntryError {
    #[error("the image has no entry point or command (give --entrypoint or --cmd)")]
    Empty,
    #[error("entry point \"{name}\" is not in the image (searched {searched})")]
    NotFound { name: String, searched: String },
    /// Following the symlinks of `path` never reaches a file (`/app ->
    /// /app`, `a -> b -> a`, or more links than the kernel follows): the
    /// runtime's exec would fail with ELOOP.
    #[error("entry point {path} is a symlink loop: following its links never reaches a file")]
    SymlinkLoop { path: String },
    #[error("entry point {path} is not an executable file")]
    NotExecutable { path: String },
    #[error(
        "{script} is a script run by the shell {shell}; keeping a shell needs --keep-shell or a traced run"
    )]
    ShellScript { script: String, shell: String },
    #[error("{script}: #! interpreters nest too deeply")]
    TooDeep { script: String },
}

/// What entry-point resolution needs from the image.
pub trait Programs {
    /// The real path of `path` (symlinks followed inside the image).
    fn real_path(&self, path: &str) -> Option<String>;
    fn is_executable(&self, real: &str) -> bool;
    /// The `#!` line of a script, without `#!`.
    fn shebang(&self, real: &str) -> Option<String>;
    /// Whether `path` does not resolve because its symlinks loop (or are
    /// too many to follow), rather than because something is missing.
    fn is_symlink_loop(&self, path: &str) -> bool;
}

impl Programs for ImageRoot<'_> {
    fn real_path(&self, path: &str) -> Option<String> {
        Root::resolve(self, path).map(|(real, _)| real)
    }
    fn is_executable(&self, real: &str) -> bool {
        ImageRoot::is_executable(self, real)
    }
    fn shebang(&self, real: &str) -> Option<String> {
        ImageRoot::shebang(self, real).map(str::to_string)
    }
    fn is_symlink_loop(&self, path: &str) -> bool {
        matches!(
            self.flat.tree.resolve(path.trim_start_matches('/'), true),
            Err(ResolveError::TooManyLinks)
        )
    }
}

/// The programs `argv` runs in the image: the entry point, then each `#!`
/// interpreter in turn, then, when the entry point is a wrapper that runs
/// the program named after it (`tini --`, `dumb-init`, `gosu USER`,
/// `su-exec USER`, `setpriv …`, `env NAME=VALUE…`), that program in the
/// same way. `path` is the image's `PATH`, `workdir` its `WorkingDir`.
pub fn resolve_entry(
    image: &dyn Programs,
    argv: &[String],
    path: &str,
    workdir: &str,
    keep_shell: bool,
) -> Result<Vec<Program>, EntryError> {
    let mut programs = resolve_one(image, argv, path, workdir, keep_shell)?;
    let mut argv = argv;
    for _ in 0..MAX_WRAPPERS {
        let wrapper = argv
            .first()
            .map(|a| pare_image::paths::file_name(a).to_string());
        let Some(wrapper) = wrapper else { break };
        let Some(rest) = wrapped(&wrapper, &argv[1..]) else {
            break;
        };
        let more = resolve_one(image, rest, path, workdir, keep_shell)?;
        programs.extend(more.into_iter().map(|p| Program {
            role: format!("{} (run by {wrapper})", p.role),
            ..p
        }));
        argv = rest;
    }
    Ok(programs)
}

/// The users wrappers in `argv` switch to (`gosu USER`, `su-exec USER`).
pub fn wrapper_users(argv: &[String]) -> Vec<String> {
    let mut users = Vec::new();
    let mut argv = argv;
    for _ in 0..MAX_WRAPPERS {
        let Some(first) = argv.first() else { break };
        let name = pare_image::paths::file_name(first);
        if matches!(name, "gosu" | "su-exec")
            && let Some(user) = argv.get(1)
        {
            users.push(user.clone());
        }
        match wrapped(name, &argv[1..]) {
            Some(rest) => argv = rest,
            None => break,
        }
    }
    users
}

/// Wrappers run inside one another at most this deep (`tini -- gosu …`).
pub(crate) const MAX_WRAPPERS: usize = 4;

/// The command a wrapper runs, from the arguments after its own name: what
/// follows `--` for tini; after the user for gosu and su-exec; after the
/// options (and their values) for dumb-init and setpriv; after options and
/// `NAME=VALUE` words for env. None when `name` is no wrapper or names no
/// program.
pub fn wrapped<'a>(name: &str, args: &'a [String]) -> Option<&'a [String]> {
    let rest: &[String] = match name {
        "tini" | "tini-static" | "catatonit" => match args.iter().position(|a| a == "--") {
            Some(i) => &args[i + 1..],
            None => skip_options(args, &["-p", "-e"]),
        },
        "dumb-init" => skip_options(args, &["-r", "--rewrite"]),
        "gosu" | "su-exec" => args.get(1..)?,
        "setpriv" => skip_options(
            args,
            &[
                "--reuid",
                "--regid",
                "--ruid",
                "--rgid",
                "--euid",
                "--egid",
                "--groups",
                "--inh-caps",
                "--ambient-caps",
                "--bounding-set",
                "--securebits",
                "--pdeathsig",
                "--selinux-label",
                "--apparmor-profile",
                "--landlock-access",
                "--landlock-rule",
            ],
        ),
        "env" => {
            let after = skip_options(args, &["-u", "--unset", "-C", "--chdir", "-S"]);
            let start = after
                .iter()
                .position(|a| !a.contains('='))
                .unwrap_or(after.len());
            &after[start..]
        }
        _ => return None,
    };
    (!rest.is_empty()).then_some(rest)
}

/// `args` after the leading options: words starting with `-` (a `--`
/// ends them), and the value after each option in `with_value` given
/// without `=`.
fn skip_options<'a>(args: &'a [String], with_value: &[&str]) -> &'a [String] {
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        if arg == "--" {
            return &args[i + 1..];
        }
        if !arg.starts_with('-') || arg == "-" {
            break;
        }
        i += 1;
        if with_value.contains(&arg.as_str()) {
            i += 1;
        }
    }
    args.get(i..).unwrap_or_default()
}

/// The programs of one command: argv[0] and its `#!` interpreters.
fn resolve_one(
    image: &dyn Programs,
    argv: &[String],
    path: &str,
    workdir: &str,
    keep_shell: bool,
) -> Result<Vec<Program>, EntryError> {
    let first = argv.first().ok_or(EntryError::Empty)?;
    let mut programs = Vec::new();
    let mut current = find(image, first, path, workdir)?;
    let mut role = "argv[0]".to_string();
    let catalog = Catalog::builtin();
    for _ in 0..=MAX_INTERPRETERS {
        let real = image.real_path(&current).unwrap_or_else(|| current.clone());
        if !image.is_executable(&real) {
            return Err(EntryError::NotExecutable { path: current });
        }
        programs.push(Program {
            path: current.clone(),
            role: role.clone(),
        });
        let Some(line) = image.shebang(&real) else {
            return Ok(programs);
        };
        let mut words = line.split_whitespace();
        let Some(interpreter) = words.next() else {
            return Err(EntryError::NotExecutable { path: current });
        };
        // `#!/usr/bin/env NAME`: env, then NAME from PATH.
        let mut next = vec![interpreter.to_string()];
        if pare_image::paths::file_name(interpreter) == "env"
            && let Some(name) = words.find(|w| !w.starts_with('-'))
        {
            next.push(name.to_string());
        }
        let shell = next.iter().find(|p| {
            catalog
                .lookup(pare_image::paths::file_name(p))
                .is_some_and(|m| m.tool.kind == Kind::Shell)
        });
        if let Some(shell) = shell
            && !keep_shell
        {
            return Err(EntryError::ShellScript {
                script: current,
                shell: shell.clone(),
            });
        }
        let script = current.clone();
        if next.len() == 2 {
            let env = find(image, &next[0], path, workdir)?;
            programs.push(Program {
                path: env,
                role: format!("#! of {script}"),
            });
        }
        current = find(image, next.last().expect("one or two"), path, workdir)?;
        role = format!("#! interpreter of {script}");
    }
    Err(EntryError::TooDeep {
        script: programs.last().map(|p| p.path.clone()).unwrap_or_default(),
    })
}

/// `name` as the runtime finds it: a path (relative to `workdir`), or the
/// first executable file of that name in `path`.
pub(crate) fn find(
    image: &dyn Programs,
    name: &str,
    path: &str,
    workdir: &str,
) -> Result<String, EntryError> {
    if name.contains('/') {
        let joined = if name.starts_with('/') {
            name.to_string()
        } else {
            format!("{}/{name}", workdir.trim_end_matches('/'))
        };
        // `./x` and `a//b` are cleaned; `..` is left to the image's resolver.
        let parts: Vec<&str> = joined
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        let full = format!("/{}", parts.join("/"));
        return match image.real_path(&full) {
            Some(_) => Ok(full),
            None if image.is_symlink_loop(&full) => Err(EntryError::SymlinkLoop { path: full }),
            None => Err(EntryError::NotFound {
                name: name.to_string(),
                searched: full,
            }),
        };
    }
    // A looping candidate is passed over, as runc's PATH lookup does; it is
    // named if nothing else is found.
    let mut looping = None;
    for dir in path.split(':').filter(|d| d.starts_with('/')) {
        let candidate = format!("{}/{name}", dir.trim_end_matches('/'));
        match image.real_path(&candidate) {
            Some(real) if image.is_executable(&real) => return Ok(candidate),
            None if looping.is_none() && image.is_symlink_loop(&candidate) => {
                looping = Some(candidate);
            }
            _ => {}
        }
    }
    Err(match looping {
        Some(path) => EntryError::SymlinkLoop { path },
        None => EntryError::NotFound {
            name: name.to_string(),
            searched: format!("PATH={path}"),
        },
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// path → (executable, #! line); symlinks as path → target.
    #[derive(Default)]
    struct Fake {
        files: BTreeMap<&'static str, (bool, Option<&'static str>)>,
        links: BTreeMap<&'static str, &'static str>,
    }

    impl Programs for Fake {
        fn real_path(&self, path: &str) -> Option<String> {
            let path = self.links.get(path).copied().unwrap_or(path);
            self.files.contains_key(path).then(|| path.to_string())
        }
        fn is_executable(&self, real: &str) -> bool {
            self.files.get(real).is_some_and(|f| f.0)
        }
        fn shebang(&self, real: &str) -> Option<String> {
            self.files.get(real).and_then(|f| f.1).map(str::to_string)
        }
        fn is_symlink_loop(&self, path: &str) -> bool {
            // Follows links (up to 40, as the kernel) until a non-link.
            let mut at = path;
            for _ in 0..40 {
                match self.links.get(at) {
                    Some(next) => at = next,
                    None => return false,
                }
            }
            true
        }
    }

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    fn fake() -> Fake {
        let mut f = Fake::default();
        f.files.insert("/usr/bin/redis-check-rdb", (true, None));
        f.links
            .insert("/usr/bin/redis-server", "/usr/bin/redis-check-rdb");
        f.files.insert("/usr/bin/python3.11", (true, None));
        f.links.insert("/usr/bin/python3", "/usr/bin/python3.11");
        f.files.insert("/usr/bin/env", (true, None));
        f.files.insert("/usr/bin/dash", (true, None));
        f.links.insert("/bin/sh", "/usr/bin/dash");
        f.files
            .insert("/app/run.py", (true, Some("/usr/bin/env python3 -u")));
        f.files.insert("/app/start.sh", (true, Some("/bin/sh -e")));
        f.files.insert("/app/data.txt", (false, None));
        f
    }

    #[test]
    fn entry_points_resolve_like_a_runtime() {
        let f = fake();
        let paths = |words: &[&str], keep_shell| {
            resolve_entry(&f, &argv(words), DEFAULT_PATH, "/app", keep_shell)
                .map(|p| p.into_iter().map(|p| p.path).collect::<Vec<_>>())
        };
        assert_eq!(
            paths(&["redis-server"], false),
            Ok(vec!["/usr/bin/redis-server".to_string()])
        );
        assert_eq!(
            paths(&["./run.py"], false),
            Ok(argv(&["/app/run.py", "/usr/bin/env", "/usr/bin/python3"]))
        );
        assert_eq!(
            paths(&["/app/start.sh"], false),
            Err(EntryError::ShellScript {
                script: "/app/start.sh".into(),
                shell: "/bin/sh".into()
            })
        );
        assert_eq!(
            paths(&["/app/start.sh"], true),
            Ok(argv(&["/app/start.sh", "/bin/sh"]))
        );
        assert!(matches!(
            paths(&["nginx"], false),
            Err(EntryError::NotFound { .. })
        ));
        assert!(matches!(
            paths(&["/app/data.txt"], false),
            Err(EntryError::NotExecutable { .. })
        ));
        assert_eq!(paths(&[], false), Err(EntryError::Empty));
    }

    #[test]
    fn wrappers_run_the_program_named_after_them() {
        type Case<'a> = (&'a str, &'a [&'a str], Option<&'a [&'a str]>);
        let table: &[Case] = &[
            ("tini", &["--", "greetd", "8084"], Some(&["greetd", "8084"])),
            (
                "tini",
                &["-s", "--", "redis-server"],
                Some(&["redis-server"]),
            ),
            ("tini", &["-g", "redis-server"], Some(&["redis-server"])),
            (
                "dumb-init",
                &["--rewrite", "15:2", "nginx"],
                Some(&["nginx"]),
            ),
            ("dumb-init", &["--single-child", "nginx"], Some(&["nginx"])),
            (
                "gosu",
                &["redis", "redis-server", "--port", "1"],
                Some(&["redis-server", "--port", "1"]),
            ),
            ("su-exec", &["nobody:nogroup", "app"], Some(&["app"])),
            (
                "setpriv",
                &["--reuid", "1000", "--regid=1000", "--clear-groups", "app"],
                Some(&["app"]),
            ),
            (
                "env",
                &["-i", "A=1", "B=2", "python3", "-m", "x"],
                Some(&["python3", "-m", "x"]),
            ),
            ("env", &["A=1"], None),
            ("gosu", &["redis"], None),
            ("tini", &["--"], None),
            ("nginx", &["-g", "daemon off;"], None),
        ];
        for (name, args, want) in table {
            let args = argv(args);
            let got = wrapped(name, &args).map(|r| r.to_vec());
            assert_eq!(got, want.map(argv), "{name} {args:?}");
        }
    }

    #[test]
    fn the_users_wrappers_switch_to_are_named() {
        let table: &[(&[&str], &[&str])] = &[
            (&["gosu", "redis", "redis-server"], &["redis"]),
            (
                &["/sbin/tini", "--", "su-exec", "app:app", "run"],
                &["app:app"],
            ),
            (&["tini", "--", "gosu", "a", "gosu", "b", "x"], &["a", "b"]),
            (&["redis-server", "gosu"], &[]),
        ];
        for (words, want) in table {
            assert_eq!(wrapper_users(&argv(words)), argv(want), "{words:?}");
        }
    }

    #[test]
    fn a_wrapped_program_is_kept_with_its_interpreters() {
        let mut f = fake();
        f.files.insert("/usr/bin/tini", (true, None));
        f.files.insert("/usr/sbin/gosu", (true, None));
        let got = resolve_entry(
            &f,
            &argv(&["tini", "--", "gosu", "redis", "./run.py"]),
            DEFAULT_PATH,
            "/app",
            false,
        )
        .unwrap();
        let paths: Vec<&str> = got.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/usr/bin/tini",
                "/usr/sbin/gosu",
                "/app/run.py",
                "/usr/bin/env",
                "/usr/bin/python3"
            ]
        );
        assert_eq!(got[1].role, "argv[0] (run by tini)");
        assert!(got[2].role.ends_with("(run by gosu)"), "{}", got[2].role);
        // A wrapped program that is not there is named.
        assert!(matches!(
            resolve_entry(
                &f,
                &argv(&["tini", "--", "nothere"]),
                DEFAULT_PATH,
                "/",
                false
            ),
            Err(EntryError::NotFound { .. })
        ));
    }

    #[test]
    fn symlink_loops_are_named_not_missing() {
        let mut f = fake();
        f.links.insert("/app/self", "/app/self");
        f.links.insert("/app/a", "/app/b");
        f.links.insert("/app/b", "/app/a");
        f.links.insert("/usr/local/bin/tool", "/usr/local/bin/tool");
        let first = |words: &[&str]| {
            resolve_entry(&f, &argv(words), DEFAULT_PATH, "/app", false).map(|p| p[0].path.clone())
        };
        for (argv0, looping) in [
            ("/app/self", "/app/self"),
            ("./self", "/app/self"),
            ("/app/a", "/app/a"),
            ("./b", "/app/b"),
            ("tool", "/usr/local/bin/tool"),
        ] {
            assert_eq!(
                first(&[argv0]),
                Err(EntryError::SymlinkLoop {
                    path: looping.to_string()
                }),
                "{argv0}"
            );
        }
        let message = first(&["/app/self"]).unwrap_err().to_string();
        assert!(message.contains("/app/self is a symlink loop"), "{message}");
        // A looping candidate early in PATH does not hide a real program
        // later in it.
        assert_eq!(
            first(&["redis-server"]),
            Ok("/usr/bin/redis-server".to_string())
        );
        // Missing stays missing.
        assert!(matches!(
            first(&["/app/nothing"]),
            Err(EntryError::NotFound { .. })
        ));
    }
}
