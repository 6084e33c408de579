//! What the rules of several languages share: the script an interpreter is
//! given and its folder, library folders kept whole (with the libraries
//! their ELF extension modules load), the absolute paths compiled into an
//! interpreter's binary, and the programs a script runs by name.

use pare_elf::search::Root;
use pare_image::tree::NodeKind;

use crate::interp::{Context, Undecided};
use crate::plan::Plan;
use crate::why::{Rule, Why};

/// Folders a script may sit in whose other files are not the script's
/// own: keeping the folder for the script's sake would keep the system.
const SYSTEM_FOLDERS: &[&str] = &[
    "/",
    "/bin",
    "/sbin",
    "/lib",
    "/etc",
    "/tmp",
    "/var",
    "/opt",
    "/home",
    "/usr",
    "/usr/bin",
    "/usr/sbin",
    "/usr/lib",
    "/usr/share",
    "/usr/local",
    "/usr/local/bin",
    "/usr/local/sbin",
    "/usr/local/lib",
    "/usr/local/share",
    "/lib64",
    "/usr/lib64",
    "/root",
    "/var/lib",
    "/run",
    "/mnt",
    "/media",
];

/// The longest path read from a binary's strings (PATH_MAX is 4096; the
/// paths an interpreter compiles in are far shorter, and a hostile binary
/// must not make us hold long runs).
const MAX_STRING_PATH: usize = 512;

/// Paths read from one binary at most: a real interpreter has a few dozen.
const MAX_STRING_PATHS: usize = 4096;

/// Components of the path of a script read for the programs it runs, at
/// most (`usr/src/app/main.py`): entry scripts sit near the root, and
/// reading every file of a deep source tree would cost memory for nothing.
const MAX_SCRIPT_DEPTH: usize = 4;

/// Whether the file at `path` (relative) with extension `ext` may be an
/// application's script, worth capturing while the layers stream past to
/// read the programs it runs: shallow, and outside the folders where
/// languages keep their libraries.
pub fn is_app_script(path: &str, ext: &str) -> bool {
    const LIBRARIES: &[&str] = &[
        "usr/lib/",
        "usr/lib64/",
        "usr/share/",
        "usr/local/lib/",
        "lib/",
    ];
    const PACKAGES: &[&str] = &[
        "site-packages",
        "dist-packages",
        "node_modules",
        "vendor",
        ".venv",
    ];
    path.ends_with(ext)
        && path.split('/').count() <= MAX_SCRIPT_DEPTH
        && !LIBRARIES.iter().any(|l| path.starts_with(l))
        && !path.split('/').any(|part| PACKAGES.contains(&part))
}

/// `word` (a path a program was given) as an absolute, clean path: relative
/// to `workdir`, `.` and empty components dropped (`..` is left to the
/// image's resolver, which knows where symlinks lead).
pub fn absolute(workdir: &str, word: &str) -> String {
    let joined = if word.starts_with('/') {
        word.to_string()
    } else {
        format!("{}/{word}", workdir.trim_end_matches('/'))
    };
    let parts: Vec<&str> = joined
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

/// `name` as an absolute path with `.` and `..` applied to the words
/// (never above the root), as Node's `path.resolve` and the JVM's class
/// path do, relative to `workdir`.
pub fn lexical_absolute(workdir: &str, name: &str) -> String {
    format!("/{}", pare_image::paths::join_in_root(workdir, name))
}

/// The folder of an absolute path (`/` for a file at the root).
pub fn folder(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// Whether a script's folder is one the system owns.
pub fn is_system_folder(dir: &str) -> bool {
    let dir = match dir.trim_end_matches('/') {
        "" => "/",
        d => d,
    };
    SYSTEM_FOLDERS.contains(&dir)
}

/// The real absolute path `path` names in the image, if anything.
pub fn real(cx: &Context<'_>, path: &str) -> Option<String> {
    let tree = &cx.flat.tree;
    let real = tree.resolve(path.trim_start_matches('/'), true).ok()?;
    tree.get(&real)?;
    Some(format!("/{real}"))
}

/// Whether `path` names a folder in the image (symlinks followed).
pub fn is_dir(cx: &Context<'_>, path: &str) -> bool {
    let tree = &cx.flat.tree;
    tree.resolve(path.trim_start_matches('/'), true)
        .ok()
        .and_then(|real| tree.get(&real).map(|n| n.is_dir()))
        .unwrap_or(false)
}

/// Whether `path` names a regular file in the image (symlinks followed).
pub fn is_file(cx: &Context<'_>, path: &str) -> bool {
    let tree = &cx.flat.tree;
    tree.resolve(path.trim_start_matches('/'), true)
        .ok()
        .and_then(|real| tree.get(&real).map(|n| matches!(n.kind, NodeKind::File(_))))
        .unwrap_or(false)
}

/// The names in the folder `dir` (symlinks followed), none if it is not one.
pub fn list(cx: &Context<'_>, dir: &str) -> Vec<String> {
    let tree = &cx.flat.tree;
    let Ok(real) = tree.resolve(dir.trim_start_matches('/'), true) else {
        return Vec::new();
    };
    tree.children(&real)
        .map(|(p, _)| pare_image::paths::file_name(&p).to_string())
        .collect()
}

/// The script an interpreter was given (`word`, relative to the working
/// directory) and, when the folder it really lies in is not the system's,
/// that folder: the modules, templates and data beside a script are the
/// application's (Python puts the folder first on `sys.path`). An
/// [`Undecided`] when the script is not in the image.
pub fn keep_script(
    cx: &Context<'_>,
    program: &str,
    word: &str,
    plan: &mut Plan,
) -> Option<Undecided> {
    let path = absolute(cx.workdir, word);
    let why = Why::Rule(Rule::Argument {
        program: program.to_string(),
        argument: word.to_string(),
    });
    if !plan.add_resolved(&cx.flat.tree, &path, why.clone()) {
        return Some(Undecided {
            program: program.to_string(),
            message: format!(
                "the script {path} is not in the image; if it comes at run time, \
                 keep what it needs with --include PATH"
            ),
        });
    }
    let real = real(cx, &path).unwrap_or(path);
    let dir = folder(&real);
    if !is_dir(cx, &real) && !is_system_folder(dir) {
        plan.add_resolved(&cx.flat.tree, dir, why);
    }
    None
}

/// Keeps the folder `dir` (symlinks on the way, everything below but what
/// `skip` refuses, given the path below `dir`) and what its symlinks point
/// to. ELF files kept are pushed on `objects`, whose closure
/// [`keep_loaded`] adds. False when there is no such folder.
pub fn keep_folder(
    cx: &Context<'_>,
    plan: &mut Plan,
    dir: &str,
    why: &Why,
    skip: &dyn Fn(&str) -> bool,
    objects: &mut Vec<String>,
) -> bool {
    let tree = &cx.flat.tree;
    let Ok((real, links)) = tree.resolve_traced(dir.trim_start_matches('/')) else {
        return false;
    };
    if !tree.get(&real).is_some_and(|n| n.is_dir()) {
        return false;
    }
    for link in links {
        let target = format!("/{real}");
        plan.add(&format!("/{link}"), Why::SymlinkTo { target });
    }
    plan.add(&format!("/{real}"), why.clone());
    let mut linked = Vec::new();
    for (path, node) in tree.descendants(&real) {
        let below = path
            .strip_prefix(real.as_str())
            .map(|p| p.trim_start_matches('/'))
            .unwrap_or(&path);
        if skip(below) {
            continue;
        }
        let absolute = format!("/{path}");
        match &node.kind {
            NodeKind::File(_) if cx.root.elf(&absolute).is_some() => objects.push(absolute.clone()),
            // Debian links files of a library to /etc and to other
            // packages' folders: a link kept without its target is broken.
            NodeKind::Symlink(_) => linked.push(absolute.clone()),
            _ => {}
        }
        plan.add(&absolute, why.clone());
    }
    for link in linked {
        plan.add_resolved(tree, &link, why.clone());
    }
    true
}

/// Keeps what the ELF `objects` (extension modules, programs) load.
/// A library none of them finds is not reported: the source image lacks it
/// too, and the module that needs it fails there the same way.
pub fn keep_loaded(cx: &Context<'_>, plan: &mut Plan, objects: &[String]) {
    if objects.is_empty() {
        return;
    }
    let closure = cx.loader.closure(objects);
    plan.add_loaded(&closure);
}

/// The ELF files below folder `dir` (absolute, real) in the image.
pub fn elf_files_below(cx: &Context<'_>, dir: &str) -> Vec<String> {
    cx.flat
        .tree
        .descendants(dir.trim_start_matches('/'))
        .filter(|(_, node)| matches!(node.kind, pare_image::NodeKind::File(_)))
        .map(|(path, _)| format!("/{path}"))
        .filter(|path| cx.root.elf(path).is_some())
        .collect()
}

/// The absolute paths compiled into a binary: NUL-terminated strings made
/// only of path characters that start with `/`. Interpreters keep their
/// library folders this way (perl's `@INC`, ruby's `rubylibdir`).
pub fn binary_paths(bytes: &[u8]) -> Vec<&str> {
    let is_path_byte = |b: u8| b.is_ascii_alphanumeric() || b"/._+-".contains(&b);
    let mut out = Vec::new();
    for run in bytes.split(|b| *b == 0) {
        if run.len() < 2 || run.len() > MAX_STRING_PATH || run[0] != b'/' {
            continue;
        }
        if !run.iter().all(|b| is_path_byte(*b)) {
            continue;
        }
        // All ASCII: the check above admits nothing else.
        if let Ok(text) = std::str::from_utf8(run)
            && !out.contains(&text)
        {
            out.push(text);
            if out.len() == MAX_STRING_PATHS {
                break;
            }
        }
    }
    out
}

/// A program a script runs, as written in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// The program's name or path (`id`, `/usr/bin/id`); empty when the
    /// command's first word is not literal.
    pub program: String,
    /// Whether the command runs through `/bin/sh` (shell metacharacters,
    /// `os.system`, `shell=True`).
    pub shell: bool,
    /// The command as written, for reasons and messages.
    pub text: String,
}

/// Commands shown in one message at most.
const SHOWN_COMMANDS: usize = 3;

/// Keeps each program `script` runs (found in the image's `PATH`, with
/// what it loads). A command that needs `/bin/sh` keeps the shell only
/// with `--keep-shell`, else it is an [`Undecided`]: a shell is what
/// minifying is meant to drop. A program not in the image is left alone:
/// it fails in the source image the same way.
pub fn keep_commands(
    cx: &Context<'_>,
    script: &str,
    commands: &[Command],
    plan: &mut Plan,
) -> Vec<Undecided> {
    let mut objects = Vec::new();
    let mut by_shell = Vec::new();
    for command in commands {
        let mut names = Vec::new();
        if !command.program.is_empty() {
            names.push(command.program.as_str());
        }
        if command.shell {
            if cx.keep_shell {
                names.push("/bin/sh");
            } else if !by_shell.contains(&command.text.as_str()) {
                by_shell.push(command.text.as_str());
            }
        }
        for name in names {
            let Ok(found) = crate::entry::find(cx.root, name, cx.path, cx.workdir) else {
                continue;
            };
            let why = Why::Rule(Rule::RunBy {
                script: script.to_string(),
                command: command.text.clone(),
            });
            plan.add_resolved(&cx.flat.tree, &found, why);
            objects.push(found);
        }
    }
    keep_loaded(cx, plan, &objects);
    if by_shell.is_empty() {
        return Vec::new();
    }
    let mut named: Vec<String> = by_shell
        .iter()
        .take(SHOWN_COMMANDS)
        .map(|c| format!("`{c}`"))
        .collect();
    if by_shell.len() > SHOWN_COMMANDS {
        named.push(format!("{} more", by_shell.len() - SHOWN_COMMANDS));
    }
    vec![Undecided {
        program: script.to_string(),
        message: format!(
            "runs {} through /bin/sh (shell syntax); keep the shell with --keep-shell",
            named.join(", ")
        ),
    }]
}

/// The entries of a `:`-separated list variable, empty ones dropped.
pub fn path_list(value: Option<&str>) -> Vec<&str> {
    value
        .map(|v| v.split(':').filter(|e| !e.is_empty()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_folders_are_not_kept_for_a_script() {
        for (dir, system) in [
            ("/", true),
            ("", true),
            ("/usr/bin", true),
            ("/usr/local/bin/", true),
            ("/app", false),
            ("/srv/app", false),
            ("/usr/src/app", false),
        ] {
            assert_eq!(is_system_folder(dir), system, "{dir}");
        }
    }

    #[test]
    fn words_become_clean_absolute_paths() {
        for (workdir, word, want) in [
            ("/app", "app.py", "/app/app.py"),
            ("/app/", "./x/../y.pl", "/app/x/../y.pl"),
            ("/", "run.rb", "/run.rb"),
            ("/app", "/srv//main.py", "/srv/main.py"),
        ] {
            assert_eq!(absolute(workdir, word), want, "{workdir} {word}");
        }
        assert_eq!(folder("/app/app.py"), "/app");
        assert_eq!(folder("/app.py"), "/");
    }

    #[test]
    fn binary_paths_are_whole_c_strings() {
        let bytes = b"\x7fELF\0/usr/share/perl/5.36\0Can't locate /x in @INC\0/etc/perl\0\
            /\0/usr/lib/\xff\0/usr/lib/x86_64-linux-gnu/perl-base\0/etc/perl\0";
        assert_eq!(
            binary_paths(bytes),
            [
                "/usr/share/perl/5.36",
                "/etc/perl",
                "/usr/lib/x86_64-linux-gnu/perl-base"
            ]
        );
        let long = [b"/".as_slice(), &[b'a'; MAX_STRING_PATH]].concat();
        assert!(binary_paths(&long).is_empty());
    }
}

/// Synthetic images for the rules' tests: a root folder holding the
/// files given, flattened with the ELF scanner as minify flattens.
#[cfg(test)]
pub(crate) mod testing {
    use std::os::unix::fs::PermissionsExt;

    use pare_elf::Loader;
    use pare_elf::image::{ElfScanner, ImageRoot};
    use pare_image::source::FlattenOptions;
    use pare_image::{Flattened, ImageRef, Platform, Source};

    use crate::interp::{Context, Invocation, Undecided};
    use crate::plan::{Plan, RunConfig};

    /// Scripts no parser may panic on: every prefix of `sample` (cut
    /// inside strings, quotes, here-documents and multibyte characters)
    /// and pseudo-random text over the characters parsers care about.
    pub fn hostile_texts(sample: &str) -> Vec<String> {
        let mut out: Vec<String> = sample
            .char_indices()
            .map(|(i, _)| sample[..i].to_string())
            .collect();
        let alphabet: Vec<char> = "\"'`$@%#=~!|-<>()[]{}/\\\n ,;:qxsytrmeoprnmbé€"
            .chars()
            .collect();
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..2000 {
            let mut text = String::new();
            for _ in 0..(state % 64) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            out.push(text);
        }
        out
    }

    /// One rule's result on an image.
    pub struct Outcome {
        pub plan: Plan,
        pub undecided: Vec<Undecided>,
    }

    impl Outcome {
        /// Whether the plan keeps `path`.
        pub fn keeps(&self, path: &str) -> bool {
            self.plan.keep.contains_key(path)
        }

        /// The `--explain` lines of `path`.
        pub fn why(&self, path: &str) -> String {
            self.plan.explain(path).join("; ")
        }
    }

    /// An image of `files` (relative path, content; a content `-> TARGET`
    /// is a symlink; files in `bin` folders are executable), run as
    /// `argv` (the interpreter's path and real path, then its words)
    /// with `env`, through `rule`.
    pub fn run(
        files: &[(&str, &str)],
        env: &[&str],
        workdir: &str,
        program: (&str, &str),
        words: &[&str],
        rule: super::super::AddRule,
    ) -> Outcome {
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in files {
            let at = dir.path().join(path);
            std::fs::create_dir_all(at.parent().unwrap()).unwrap();
            match content.strip_prefix("-> ") {
                Some(target) => std::os::unix::fs::symlink(target, &at).unwrap(),
                None if path.ends_with('/') => std::fs::create_dir_all(&at).unwrap(),
                None => {
                    std::fs::write(&at, content).unwrap();
                    let mode = if path.contains("bin/") { 0o755 } else { 0o644 };
                    std::fs::set_permissions(&at, std::fs::Permissions::from_mode(mode)).unwrap();
                }
            }
        }
        let reference = ImageRef::Dir {
            path: dir.path().to_path_buf(),
        };
        let flat: Flattened = Source::open(&reference, &Platform::default())
            .unwrap()
            .flatten_with(FlattenOptions {
                capture: None,
                scanners: vec![Box::new(ElfScanner)],
            })
            .unwrap();
        let root = ImageRoot { flat: &flat };
        let loader = Loader::new(&root, None, Vec::new(), Vec::new());
        let config = RunConfig {
            env: env.iter().map(|e| e.to_string()).collect(),
            working_dir: Some(workdir.to_string()),
            ..RunConfig::default()
        };
        let cx = Context {
            flat: &flat,
            root: &root,
            config: &config,
            path: crate::entry::DEFAULT_PATH,
            workdir,
            loader: &loader,
            keep_shell: env.contains(&"KEEP_SHELL=1"),
        };
        let invocation = Invocation {
            path: program.0.to_string(),
            real: program.1.to_string(),
            args: words.iter().map(|w| w.to_string()).collect(),
        };
        let mut plan = Plan::default();
        let undecided = rule(&cx, &invocation, &mut plan);
        Outcome { plan, undecided }
    }
    /// One layout: what it proves, the image, its environment, working
    /// directory, the interpreter as invoked and real, its words; paths
    /// kept with a part of their reason, paths not kept, and a part of
    /// the undecided message if one is expected.
    pub struct Layout {
        pub case: &'static str,
        pub files: &'static [(&'static str, &'static str)],
        pub env: &'static [&'static str],
        pub workdir: &'static str,
        pub program: (&'static str, &'static str),
        pub words: &'static [&'static str],
        pub kept: &'static [(&'static str, &'static str)],
        pub dropped: &'static [&'static str],
        pub undecided: Option<&'static str>,
    }

    /// Runs `rule` on each layout and checks what it kept, why, what it
    /// did not keep and what it could not decide.
    pub fn check(table: &[Layout], rule: super::super::AddRule) {
        for layout in table {
            let got = run(
                layout.files,
                layout.env,
                layout.workdir,
                layout.program,
                layout.words,
                rule,
            );
            let case = layout.case;
            for (path, why) in layout.kept {
                assert!(
                    got.keeps(path),
                    "{case}: {path} not kept: {:?}",
                    got.plan.paths()
                );
                assert!(
                    got.why(path).contains(why),
                    "{case}: {path}: {}",
                    got.why(path)
                );
            }
            for path in layout.dropped {
                assert!(!got.keeps(path), "{case}: {path} kept: {}", got.why(path));
            }
            let messages: Vec<String> = got.undecided.iter().map(|u| u.to_string()).collect();
            match layout.undecided {
                Some(part) => assert!(
                    messages.iter().any(|m| m.contains(part)),
                    "{case}: {messages:?}"
                ),
                None => assert!(messages.is_empty(), "{case}: {messages:?}"),
            }
        }
    }
}
