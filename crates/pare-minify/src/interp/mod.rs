//! Interpreters: what an interpreter loads that the loader cannot see (its
//! own library, where the interpreter says it lives) and the files its
//! arguments name (`python3 /app/app.py`, `java -cp /app Main`). One
//! module a language, each with the same three functions: [`python::is`]
//! (is this program that interpreter), `add` (keep its library and what
//! its arguments name, with reasons) and `wants` (files whose bytes the
//! module reads, captured while the layers stream past).
//!
//! A rule that cannot decide (a module it cannot find, a class path it
//! cannot read) says so as an [`Undecided`]: one line naming the flag that
//! would fix it, so an image is never broken without a word.

mod common;
pub mod java;
pub mod node;
pub mod perl;
pub mod python;
pub mod ruby;
#[cfg(test)]
mod testimage;

use std::fmt;

use pare_elf::Loader;
use pare_elf::image::ImageRoot;
use pare_image::Flattened;
use pare_image::scan::ContentScanner;

use crate::entry::{self, Programs};
use crate::plan::{Plan, RunConfig};

/// What the interpreter rules read.
pub struct Context<'a> {
    pub flat: &'a Flattened,
    pub root: &'a ImageRoot<'a>,
    pub config: &'a RunConfig,
    /// The image's `PATH` (Docker's default when unset).
    pub path: &'a str,
    /// The working directory, `/` when unset.
    pub workdir: &'a str,
    /// The loader's search, for what kept extension modules and programs
    /// load.
    pub loader: &'a Loader<'a>,
    /// `--keep-shell`: a command a script runs through `/bin/sh` keeps it.
    pub keep_shell: bool,
}

/// One program the entry point runs, with the words it is given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// The path as found (`/usr/bin/python3`), before symlinks.
    pub path: String,
    /// Its real path in the image (`/usr/bin/python3.11`).
    pub real: String,
    /// The words after `argv[0]`: for a `#!` interpreter, the line's
    /// argument (if any), the script's path, then the script's arguments,
    /// as the kernel passes them.
    pub args: Vec<String>,
}

/// A rule that could not decide what to keep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Undecided {
    /// The program whose rule could not decide.
    pub program: String,
    /// What is unknown and the flag that would settle it, one line.
    pub message: String,
}

impl fmt::Display for Undecided {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.program, self.message)
    }
}

/// A language's rule: keeps what one invocation needs.
type AddRule = fn(&Context<'_>, &Invocation, &mut Plan) -> Vec<Undecided>;

/// Bytes of one file the interpreter rules read at most: perl's binary
/// and libruby are under 5 MB, scripts far less. A bigger file is not
/// captured (an image's file names are not to be trusted with memory, and
/// capturing past the metadata limits fails the whole read); the rule that
/// wanted it keeps less (perl's `@INC` unread is an [`Undecided`]).
pub const MAX_READ: u64 = 16 * 1024 * 1024;

/// Files whose bytes the interpreter rules read, to capture while
/// flattening.
pub fn wants(path: &str) -> bool {
    python::wants(path)
        || perl::wants(path)
        || node::wants(path)
        || ruby::wants(path)
        || java::wants(path)
}

/// Keeps what each interpreter among `invocations` needs beside its ELF
/// closure; returns what no rule could decide.
pub fn add(cx: &Context<'_>, invocations: &[Invocation], plan: &mut Plan) -> Vec<Undecided> {
    let mut undecided = Vec::new();
    for invocation in invocations {
        let name = pare_image::paths::file_name(&invocation.real);
        let rule: Option<AddRule> = if python::is(name) {
            Some(python::add)
        } else if perl::is(name) {
            Some(perl::add)
        } else if node::is(name) {
            Some(node::add)
        } else if ruby::is(name) {
            Some(ruby::add)
        } else if java::is(name) {
            Some(java::add)
        } else {
            None
        };
        if let Some(rule) = rule {
            undecided.extend(rule(cx, invocation, plan));
        }
    }
    undecided
}

/// Scanners whose findings the interpreter rules read (strings in
/// binaries too large to capture whole): flattening runs them with the
/// others.
pub fn scanners() -> Vec<Box<dyn ContentScanner>> {
    vec![Box::new(node::StringScanner)]
}

/// Every program `argv` runs with its words: `argv[0]`, each `#!`
/// interpreter of a script (given the script's path and arguments), and
/// what wrappers (`tini --`, `gosu USER`, …) run, the same way. Names that
/// do not resolve are skipped: [`entry::resolve_entry`] has already said
/// why.
pub fn invocations(
    image: &dyn Programs,
    argv: &[String],
    path: &str,
    workdir: &str,
) -> Vec<Invocation> {
    let mut out = Vec::new();
    let mut argv: Vec<String> = argv.to_vec();
    for _ in 0..entry::MAX_WRAPPERS {
        let Some(first) = argv.first().cloned() else {
            break;
        };
        let mut words = argv[1..].to_vec();
        let mut name = first;
        for _ in 0..=entry::MAX_INTERPRETERS {
            let Ok(found) = entry::find(image, &name, path, workdir) else {
                break;
            };
            let real = image.real_path(&found).unwrap_or_else(|| found.clone());
            out.push(Invocation {
                path: found.clone(),
                real: real.clone(),
                args: words.clone(),
            });
            let Some(line) = image.shebang(&real) else {
                break;
            };
            // The kernel passes the interpreter, the line's one argument
            // (everything after the first word), then the script.
            let line = line.trim();
            let (interpreter, argument) = match line.split_once([' ', '\t']) {
                Some((i, a)) => (i, Some(a.trim())),
                None => (line, None),
            };
            let mut next = argument
                .filter(|a| !a.is_empty())
                .map(|a| vec![a.to_string()])
                .unwrap_or_default();
            next.push(found);
            next.extend(words);
            // `#!/usr/bin/env NAME`: env's words, split as `env -S` would
            // not be needed for the common one-word case.
            if pare_image::paths::file_name(interpreter) == "env" {
                let split: Vec<String> = next[0].split_whitespace().map(str::to_string).collect();
                let mut rest = split;
                rest.extend(next.into_iter().skip(1));
                let env_words = rest.clone();
                out.push(Invocation {
                    path: interpreter.to_string(),
                    real: image
                        .real_path(interpreter)
                        .unwrap_or_else(|| interpreter.to_string()),
                    args: env_words.clone(),
                });
                match entry::wrapped("env", &env_words) {
                    Some(run) => {
                        name = run[0].clone();
                        words = run[1..].to_vec();
                    }
                    None => break,
                }
                continue;
            }
            name = interpreter.to_string();
            words = next;
        }
        let wrapper = pare_image::paths::file_name(&argv[0]).to_string();
        match entry::wrapped(&wrapper, &argv[1..]) {
            Some(rest) => argv = rest.to_vec(),
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// An image as entry resolution sees it: path → (real path,
    /// executable, `#!` line).
    struct Fake(BTreeMap<&'static str, (&'static str, bool, Option<&'static str>)>);

    impl Programs for Fake {
        fn real_path(&self, path: &str) -> Option<String> {
            self.0.get(path).map(|(real, ..)| real.to_string())
        }
        fn is_executable(&self, real: &str) -> bool {
            self.0.values().any(|(r, x, _)| *r == real && *x)
        }
        fn shebang(&self, real: &str) -> Option<String> {
            self.0
                .values()
                .find(|(r, ..)| *r == real)
                .and_then(|(_, _, s)| s.map(str::to_string))
        }
        fn is_symlink_loop(&self, _: &str) -> bool {
            false
        }
    }

    #[test]
    fn invocations_follow_scripts_env_and_wrappers() {
        let image = Fake(BTreeMap::from([
            ("/usr/bin/python3", ("/usr/bin/python3.11", true, None)),
            ("/usr/bin/python3.11", ("/usr/bin/python3.11", true, None)),
            ("/usr/bin/env", ("/usr/bin/env", true, None)),
            ("/usr/bin/tini", ("/usr/bin/tini", true, None)),
            (
                "/app/run.py",
                ("/app/run.py", true, Some("/usr/bin/env python3")),
            ),
            ("/app/x.pl", ("/app/x.pl", true, Some("/usr/bin/perl -w"))),
            ("/usr/bin/perl", ("/usr/bin/perl", true, None)),
        ]));
        let path = "/usr/bin";
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let of = |argv: &[&str]| -> Vec<(String, Vec<String>)> {
            invocations(&image, &words(argv), path, "/app")
                .into_iter()
                .map(|i| (i.real, i.args))
                .collect()
        };
        assert_eq!(
            of(&["python3", "/app/app.py", "-v"]),
            [("/usr/bin/python3.11".into(), words(&["/app/app.py", "-v"]))]
        );
        assert_eq!(
            of(&["./run.py", "serve"]),
            [
                ("/app/run.py".into(), words(&["serve"])),
                (
                    "/usr/bin/env".into(),
                    words(&["python3", "/app/run.py", "serve"])
                ),
                (
                    "/usr/bin/python3.11".into(),
                    words(&["/app/run.py", "serve"])
                ),
            ]
        );
        assert_eq!(
            of(&["/app/x.pl", "a"]),
            [
                ("/app/x.pl".into(), words(&["a"])),
                ("/usr/bin/perl".into(), words(&["-w", "/app/x.pl", "a"])),
            ]
        );
        assert_eq!(
            of(&["tini", "--", "python3", "-m", "http.server"]),
            [
                (
                    "/usr/bin/tini".into(),
                    words(&["--", "python3", "-m", "http.server"])
                ),
                ("/usr/bin/python3.11".into(), words(&["-m", "http.server"])),
            ]
        );
        assert!(of(&["nothere"]).is_empty());
    }
}
