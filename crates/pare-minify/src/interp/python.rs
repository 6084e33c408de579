//! python: its standard library, site-packages and what its arguments
//! name, found as CPython finds them (`Modules/getpath.py`), without
//! running it.
//!
//! CPython's prefix is the first folder, going up from the folder its real
//! binary lies in, that holds the landmark `lib/pythonX.Y/os.py` (so
//! Debian's `/usr/bin/python3.11` finds `/usr`, a from-source
//! `/usr/local/bin/python3.11` finds `/usr/local`, and the same binary
//! copied elsewhere finds its new home); `PYTHONHOME` replaces the search.
//! `X.Y` comes from the binary's name (`python3.11`) or the `libpythonX.Y`
//! it links (Alpine's `python3`), else from the `lib/pythonX.Y` folders the
//! search meets. A virtual environment (`pyvenv.cfg` beside or above the
//! program as invoked) adds its own site-packages; `site` adds the user
//! site, Debian's `dist-packages` and what `.pth` files name.
//!
//! Scripts are read for the programs they run by name (`subprocess.run(["id"])`,
//! `os.system("id")`): a literal first word is kept, found in `PATH`.

use pare_elf::search::Root;

use crate::interp::common::{self, Command};
use crate::interp::{Context, Invocation, Undecided};
use crate::plan::Plan;
use crate::why::{Rule, Why};

/// Lines of one `.pth` file read at most (site.py reads them all; real
/// ones have a few).
const MAX_PTH_LINES: usize = 1024;

/// Whether a program's real file name is this interpreter: `python`,
/// `python3`, `python3.11` (not `python3-config`).
pub fn is(name: &str) -> bool {
    name.strip_prefix("python")
        .is_some_and(|v| v.is_empty() || is_version(v))
}

/// `3`, `3.11`: digits and dots, starting with a digit.
fn is_version(v: &str) -> bool {
    v.starts_with(|c: char| c.is_ascii_digit()) && v.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// Files whose bytes this rule reads: `.pth` files of site folders and the
/// scripts an application is likely to start with (read for the programs
/// they run).
pub fn wants(path: &str) -> bool {
    let parent = pare_image::paths::file_name(pare_image::paths::parent(path));
    (path.ends_with(".pth") && matches!(parent, "site-packages" | "dist-packages"))
        || common::is_app_script(path, ".py")
}

/// What the arguments ask python to run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Run {
    /// A script (or a folder or zip with `__main__.py`).
    Script(String),
    /// `-m NAME`.
    Module(String),
    /// `-c CODE`.
    Command,
    /// `-` or nothing: code from standard input.
    #[default]
    Stdin,
}

/// The options that change what python loads, and what it runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Args {
    pub run: Run,
    /// `-E` or `-I`: `PYTHON*` variables are ignored.
    pub ignore_env: bool,
    /// `-I`: neither the script's folder nor the working directory is put
    /// on `sys.path`, and no user site.
    pub isolated: bool,
    /// `-s` (or `-I`): no user site-packages.
    pub no_user_site: bool,
    /// `-O`/`-OO`: `.opt-1.pyc`/`.opt-2.pyc` files are read.
    pub optimize: bool,
}

/// Parses python's command line (the words after `argv[0]`): options
/// until the script, `-m`, `-c` or `-`; flags may be bundled (`-uB`) and
/// `-W`/`-X`/`-m`/`-c` take the rest of the word or the next one.
pub fn parse_args(args: &[String]) -> Args {
    let mut out = Args::default();
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        if arg == "-" {
            return out;
        }
        if arg == "--" {
            if let Some(script) = args.get(i + 1) {
                out.run = Run::Script(script.clone());
            }
            return out;
        }
        if let Some(long) = arg.strip_prefix("--") {
            // `--check-hash-based-pycs MODE` is the one long option with a
            // value; the others (`--version`, `--help`) run nothing.
            i += if long == "check-hash-based-pycs" {
                2
            } else {
                1
            };
            continue;
        }
        let Some(flags) = arg.strip_prefix('-') else {
            out.run = Run::Script(arg.clone());
            return out;
        };
        for (at, flag) in flags.char_indices() {
            let rest = &flags[at + flag.len_utf8()..];
            match flag {
                'c' => {
                    out.run = Run::Command;
                    return out;
                }
                'm' => {
                    let name = if rest.is_empty() {
                        args.get(i + 1).cloned()
                    } else {
                        Some(rest.to_string())
                    };
                    if let Some(name) = name {
                        out.run = Run::Module(name);
                    }
                    return out;
                }
                'W' | 'X' => {
                    if rest.is_empty() {
                        i += 1;
                    }
                    break;
                }
                'E' => out.ignore_env = true,
                'I' => {
                    out.ignore_env = true;
                    out.isolated = true;
                    out.no_user_site = true;
                }
                's' => out.no_user_site = true,
                'O' => out.optimize = true,
                _ => {}
            }
        }
        i += 1;
    }
    out
}

/// Where python's library is: `prefix/lib/pythonVERSION` and the same
/// below `exec_prefix` (extension modules).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Home {
    pub prefix: String,
    pub exec_prefix: String,
    pub version: String,
}

/// `3.11` from a binary's name (`python3.11`).
pub fn version_of_name(name: &str) -> Option<String> {
    let v = name.strip_prefix("python")?;
    (is_version(v) && v.contains('.')).then(|| v.to_string())
}

/// `3.11` from the `libpython3.11.so.1.0` (or `libpython3.8m.so`) a binary
/// links.
pub fn version_of_needed(needed: &[String]) -> Option<String> {
    needed.iter().find_map(|lib| {
        let rest = lib.strip_prefix("libpython")?;
        let v: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let v = v.trim_end_matches('.');
        (is_version(v) && v.contains('.')).then(|| v.to_string())
    })
}

/// The `pythonX.Y` folder names in a `lib` folder's listing.
fn versions_listed(names: &[String]) -> Vec<String> {
    names.iter().filter_map(|n| version_of_name(n)).collect()
}

/// CPython's search for its home: `PYTHONHOME` (`prefix[:exec_prefix]`)
/// when set, else the first folder up from the real binary's that has the
/// landmark `lib/pythonVERSION/os.py`. `version` when known, else each
/// `pythonX.Y` folder met on the way.
pub fn find_home(
    cx: &Context<'_>,
    real: &str,
    version: Option<&str>,
    pythonhome: Option<&str>,
) -> Option<Home> {
    let versions = |dir: &str| -> Vec<String> {
        match version {
            Some(v) => vec![v.to_string()],
            None => versions_listed(&common::list(cx, &format!("{dir}/lib"))),
        }
    };
    if let Some(home) = pythonhome.filter(|h| !h.is_empty()) {
        let (prefix, exec_prefix) = home.split_once(':').unwrap_or((home, home));
        let prefix = prefix.trim_end_matches('/').to_string();
        let version = versions(&prefix).into_iter().next()?;
        return Some(Home {
            exec_prefix: exec_prefix.trim_end_matches('/').to_string(),
            prefix,
            version,
        });
    }
    let mut dir = common::folder(real);
    loop {
        let at = if dir == "/" { "" } else { dir };
        for v in versions(at) {
            if common::is_file(cx, &format!("{at}/lib/python{v}/os.py"))
                || common::is_file(cx, &format!("{at}/lib/python{v}/os.pyc"))
            {
                return Some(Home {
                    prefix: dir.to_string(),
                    exec_prefix: dir.to_string(),
                    version: v,
                });
            }
        }
        if dir == "/" {
            return None;
        }
        dir = common::folder(dir);
    }
}

/// What the standard library folder keeps out, given a path below it:
/// the test suite, IDLE, Tk (a GUI toolkit, headless in a container, whose
/// `_tkinter` would pull in Tk and X11), the turtle demos and ensurepip's
/// bundled pip (only `python -m venv` reads it); site folders, kept for
/// their own reason; and the `-O` bytecode unless python is optimizing.
/// Plain `__pycache__` stays: without it every start compiles the whole
/// library again, and a read-only root cannot cache it.
pub fn skipped_in_stdlib(below: &str, optimize: bool) -> bool {
    let first = below.split('/').next().unwrap_or_default();
    matches!(
        first,
        "test"
            | "idlelib"
            | "tkinter"
            | "turtledemo"
            | "ensurepip"
            | "site-packages"
            | "dist-packages"
    ) || (first == "lib-dynload" && pare_image::paths::file_name(below).starts_with("_tkinter"))
        || skipped_bytecode(below, optimize)
}

/// `-O`/`-OO` bytecode when python does not optimize.
fn skipped_bytecode(below: &str, optimize: bool) -> bool {
    !optimize && (below.ends_with(".opt-1.pyc") || below.ends_with(".opt-2.pyc"))
}

/// The folders a `.pth` file adds to `sys.path`: each line that is not a
/// comment or an `import` line, relative to the site folder it lies in.
pub fn parse_pth(text: &str, site: &str) -> Vec<String> {
    text.lines()
        .take(MAX_PTH_LINES)
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|l| !l.starts_with("import ") && !l.starts_with("import\t"))
        .map(|l| common::absolute(site, l))
        .collect()
}

/// Keeps the interpreter's library and what its arguments name.
pub fn add(cx: &Context<'_>, invocation: &Invocation, plan: &mut Plan) -> Vec<Undecided> {
    let args = parse_args(&invocation.args);
    let env = |name: &str| {
        (!args.ignore_env)
            .then(|| cx.config.var(name))
            .flatten()
            .filter(|v| !v.is_empty())
    };
    let program = invocation.real.as_str();
    let mut undecided = Vec::new();
    let mut objects = Vec::new();
    let optimize = args.optimize || env("PYTHONOPTIMIZE").is_some();
    let name = pare_image::paths::file_name(program);
    let needed = cx
        .root
        .elf(program)
        .map(|info| info.needed)
        .unwrap_or_default();
    let version = version_of_name(name).or_else(|| version_of_needed(&needed));
    let Some(home) = find_home(cx, program, version.as_deref(), env("PYTHONHOME")) else {
        undecided.push(Undecided {
            program: program.to_string(),
            message: "no standard library (lib/pythonX.Y/os.py) above the binary or in \
                      PYTHONHOME; keep it with --include PATH"
                .to_string(),
        });
        return undecided;
    };
    let library = |what: String| {
        Why::Rule(Rule::InterpreterLibrary {
            interpreter: program.to_string(),
            what,
        })
    };
    let mut path = Vec::new();
    for entry in common::path_list(env("PYTHONPATH")) {
        let entry = common::absolute(cx.workdir, entry);
        plan.add_resolved(&cx.flat.tree, &entry, library("PYTHONPATH entry".into()));
        path.push(entry);
    }
    let stdlib_why = library(format!("standard library (prefix {})", home.prefix));
    let skip = |below: &str| skipped_in_stdlib(below, optimize);
    for stdlib in stdlib_folders(&home) {
        if common::keep_folder(cx, plan, &stdlib, &stdlib_why, &skip, &mut objects) {
            path.push(stdlib.clone());
            path.push(format!("{stdlib}/lib-dynload"));
        }
    }
    keep_time_zones(cx, &home, env("PYTHONTZPATH"), plan, &library);
    let zip = format!(
        "{}/lib/python{}.zip",
        home.prefix,
        home.version.replace('.', "")
    );
    plan.add_resolved(&cx.flat.tree, &zip, stdlib_why.clone());
    let sites = keep_sites(cx, invocation, &home, &args, plan, &mut objects);
    keep_pth_entries(cx, &sites, plan, &library);
    path.extend(sites);
    match &args.run {
        Run::Script(script) => {
            undecided.extend(common::keep_script(cx, program, script, plan));
            let at = common::absolute(cx.workdir, script);
            if let Ok(Some(text)) = cx.flat.read(at.trim_start_matches('/')) {
                let commands = commands(&String::from_utf8_lossy(&text));
                undecided.extend(common::keep_commands(cx, &at, &commands, plan));
            }
        }
        Run::Module(module) => {
            // `-m` puts the working directory first; Lambda's runtime adds
            // its task folder.
            let mut search = Vec::new();
            if !args.isolated {
                search.push(cx.workdir.to_string());
            }
            search.extend(cx.config.var("LAMBDA_TASK_ROOT").map(str::to_string));
            search.extend(path);
            undecided.extend(keep_module(
                cx,
                program,
                module,
                &search,
                plan,
                &mut objects,
            ));
        }
        Run::Command | Run::Stdin => {}
    }
    common::keep_loaded(cx, plan, &objects);
    undecided
}

/// Where `zoneinfo` looks for time zones unless `PYTHONTZPATH` says
/// (CPython's default `TZPATH`, which Debian and Alpine keep).
const TZPATH: &[&str] = &[
    "/usr/share/zoneinfo",
    "/usr/lib/zoneinfo",
    "/usr/share/lib/zoneinfo",
    "/etc/zoneinfo",
];

/// The time zone database, when the standard library has `zoneinfo`: a
/// program reads the zones its data names (`ZoneInfo("Europe/Paris")`),
/// which no rule can know beforehand (the system's `--include-tz`
/// question, settled for python by what its library promises).
fn keep_time_zones(
    cx: &Context<'_>,
    home: &Home,
    tzpath: Option<&str>,
    plan: &mut Plan,
    library: &dyn Fn(String) -> Why,
) {
    let has_zoneinfo = stdlib_folders(home)
        .iter()
        .any(|dir| common::is_file(cx, &format!("{dir}/zoneinfo/__init__.py")));
    if !has_zoneinfo {
        return;
    }
    // zoneinfo ignores relative entries of PYTHONTZPATH.
    let dirs: Vec<&str> = match tzpath {
        Some(value) => common::path_list(Some(value))
            .into_iter()
            .filter(|d| d.starts_with('/'))
            .collect(),
        None => TZPATH.to_vec(),
    };
    for dir in dirs {
        let why = library("time zone database zoneinfo reads (TZPATH)".into());
        plan.add_resolved(&cx.flat.tree, dir, why);
    }
}

/// `prefix/lib/pythonX.Y`, and the same below `exec_prefix` and below
/// `lib64` (Fedora's platlibdir), where they differ.
fn stdlib_folders(home: &Home) -> Vec<String> {
    let mut out = Vec::new();
    for base in [&home.prefix, &home.exec_prefix] {
        for lib in ["lib", "lib64"] {
            let base = base.trim_end_matches('/');
            let dir = format!("{base}/{lib}/python{}", home.version);
            if !out.contains(&dir) {
                out.push(dir);
            }
        }
    }
    out
}

/// Keeps the site folders `site` would add: site-packages below the
/// prefix, Debian's `dist-packages` (also `/usr/local`'s, which Debian's
/// site adds for `/usr`), a virtual environment's and the user's. Returns
/// those that exist.
fn keep_sites(
    cx: &Context<'_>,
    invocation: &Invocation,
    home: &Home,
    args: &Args,
    plan: &mut Plan,
    objects: &mut Vec<String>,
) -> Vec<String> {
    let program = invocation.real.as_str();
    let v = &home.version;
    let major = v.split('.').next().unwrap_or(v);
    let mut candidates = Vec::new();
    for base in [&home.prefix, &home.exec_prefix] {
        let base = base.trim_end_matches('/');
        for lib in ["lib", "lib64"] {
            candidates.push(format!("{base}/{lib}/python{v}/site-packages"));
            candidates.push(format!("{base}/{lib}/python{v}/dist-packages"));
            candidates.push(format!("{base}/{lib}/python{major}/dist-packages"));
        }
        candidates.push(format!("{base}/local/lib/python{v}/dist-packages"));
        candidates.push(format!("{base}/local/lib/python{v}/site-packages"));
    }
    if let Some(venv) = virtual_env(cx, &invocation.path) {
        plan.add_resolved(
            &cx.flat.tree,
            &format!("{venv}/pyvenv.cfg"),
            Why::Rule(Rule::InterpreterLibrary {
                interpreter: program.to_string(),
                what: format!("virtual environment {venv}"),
            }),
        );
        for lib in ["lib", "lib64"] {
            candidates.push(format!("{venv}/{lib}/python{v}/site-packages"));
        }
    }
    let user_site = !args.no_user_site
        && (args.ignore_env || cx.config.var("PYTHONNOUSERSITE").is_none_or(str::is_empty));
    if user_site {
        let base = (!args.ignore_env)
            .then(|| cx.config.var("PYTHONUSERBASE"))
            .flatten()
            .map(str::to_string)
            .or_else(|| home_folder(cx).map(|h| format!("{h}/.local")));
        if let Some(base) = base {
            candidates.push(format!("{base}/lib/python{v}/site-packages"));
        }
    }
    let mut kept = Vec::new();
    let why = Why::Rule(Rule::InterpreterLibrary {
        interpreter: program.to_string(),
        what: "site-packages".into(),
    });
    let skip = |below: &str| skipped_bytecode(below, args.optimize);
    for dir in candidates {
        if kept.contains(&dir) {
            continue;
        }
        if common::keep_folder(cx, plan, &dir, &why, &skip, objects) {
            kept.push(dir);
        }
    }
    kept
}

/// The user's home, for the user site: `HOME` in the image's environment,
/// else root's when the image runs as root.
fn home_folder(cx: &Context<'_>) -> Option<String> {
    if let Some(home) = cx.config.var("HOME").filter(|h| h.starts_with('/')) {
        return Some(home.trim_end_matches('/').to_string());
    }
    let user = cx.config.user.as_deref().unwrap_or_default();
    let user = user.split(':').next().unwrap_or_default();
    matches!(user, "" | "root" | "0").then(|| "/root".to_string())
}

/// The virtual environment a program invoked at `path` runs in: the
/// folder holding `pyvenv.cfg`, beside the program or one up (`venv/bin/python`).
fn virtual_env(cx: &Context<'_>, path: &str) -> Option<String> {
    let bin = common::folder(path);
    [bin, common::folder(bin)]
        .into_iter()
        .find(|dir| common::is_file(cx, &format!("{}/pyvenv.cfg", dir.trim_end_matches('/'))))
        .map(|dir| dir.trim_end_matches('/').to_string())
}

/// Keeps what the `.pth` files of the site folders add to `sys.path`
/// (editable installs point into the application's source this way).
fn keep_pth_entries(
    cx: &Context<'_>,
    sites: &[String],
    plan: &mut Plan,
    library: &dyn Fn(String) -> Why,
) {
    for site in sites {
        for name in common::list(cx, site) {
            if !name.ends_with(".pth") {
                continue;
            }
            let at = format!("{site}/{name}");
            let Ok(Some(text)) = cx.flat.read(at.trim_start_matches('/')) else {
                continue;
            };
            for entry in parse_pth(&String::from_utf8_lossy(&text), site) {
                plan.add_resolved(&cx.flat.tree, &entry, library(format!("path in {at}")));
            }
        }
    }
}

/// Keeps the top-level package or module `-m NAME` imports, from the first
/// folder of `search` that has it; an [`Undecided`] when none does.
fn keep_module(
    cx: &Context<'_>,
    program: &str,
    module: &str,
    search: &[String],
    plan: &mut Plan,
    objects: &mut Vec<String>,
) -> Option<Undecided> {
    let top = module.split('.').next().unwrap_or(module);
    let why = Why::Rule(Rule::Argument {
        program: program.to_string(),
        argument: format!("-m {module}"),
    });
    for dir in search {
        let Some(found) = find_module(cx, dir, top) else {
            continue;
        };
        plan.add_resolved(&cx.flat.tree, &found, why);
        if cx.root.elf(&found).is_some() {
            objects.push(found);
        }
        return None;
    }
    Some(Undecided {
        program: program.to_string(),
        message: format!(
            "module {module} (-m) is in none of {}; keep it with --include PATH",
            search.join(", ")
        ),
    })
}

/// `dir/NAME` (a package), `dir/NAME.py`, `.pyc` or an extension module
/// `dir/NAME.*.so`.
fn find_module(cx: &Context<'_>, dir: &str, name: &str) -> Option<String> {
    if name.is_empty() || name.contains('/') {
        return None;
    }
    let dir = dir.trim_end_matches('/');
    let package = format!("{dir}/{name}");
    if common::is_dir(cx, &package) {
        return Some(package);
    }
    common::list(cx, dir)
        .into_iter()
        .find(|file| {
            file.strip_prefix(name).is_some_and(|rest| {
                rest == ".py" || rest == ".pyc" || (rest.starts_with('.') && rest.ends_with(".so"))
            })
        })
        .map(|file| format!("{dir}/{file}"))
}

/// The calls that run a program, and how each passes it.
const CALLS: &[(&str, CallKind)] = &[
    ("subprocess.run", CallKind::Subprocess),
    ("subprocess.call", CallKind::Subprocess),
    ("subprocess.check_call", CallKind::Subprocess),
    ("subprocess.check_output", CallKind::Subprocess),
    ("subprocess.Popen", CallKind::Subprocess),
    ("subprocess.getoutput", CallKind::Shell),
    ("subprocess.getstatusoutput", CallKind::Shell),
    ("os.system", CallKind::Shell),
    ("os.popen", CallKind::Shell),
    ("os.execvp", CallKind::Exec),
    ("os.execlp", CallKind::Exec),
    ("os.execvpe", CallKind::Exec),
    ("os.execlpe", CallKind::Exec),
];

#[derive(Clone, Copy, Debug)]
enum CallKind {
    /// `args` as a list (the program first) or a string (the program, or a
    /// shell command with `shell=True`).
    Subprocess,
    /// A command line for `/bin/sh -c`.
    Shell,
    /// The program's name.
    Exec,
}

/// Bytes of a call's arguments read at most.
const MAX_CALL: usize = 4096;

/// The programs a python script runs with a literal name: the first
/// argument of the [`CALLS`] when it is a string or a list starting with
/// one. Comments are skipped; names built at run time are not seen.
pub fn commands(text: &str) -> Vec<Command> {
    let mut out = Vec::new();
    for (call, kind) in CALLS {
        let needle = format!("{call}(");
        let mut from = 0;
        while let Some(found) = text[from..].find(&needle) {
            let start = from + found;
            from = start + needle.len();
            let before = text[..start].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                continue;
            }
            let line = &text[text[..start].rfind('\n').map_or(0, |i| i + 1)..start];
            if line.trim_start().starts_with('#') {
                continue;
            }
            let end = (from + MAX_CALL).min(text.len());
            let end = (from..=end)
                .rev()
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(from);
            if let Some(command) = call_command(&text[from..end], *kind) {
                out.push(command);
            }
        }
    }
    out
}

/// The command of one call, from the text after its `(`.
fn call_command(args: &str, kind: CallKind) -> Option<Command> {
    let args = args.trim_start();
    let first = match args.strip_prefix(['[', '(']) {
        Some(rest) => python_string(rest.trim_start())?,
        None => python_string(args)?,
    };
    let shell = match kind {
        CallKind::Shell => true,
        CallKind::Exec => false,
        CallKind::Subprocess => {
            let call: String = args
                .chars()
                .take_while(|c| *c != ')')
                .filter(|c| !c.is_whitespace())
                .collect();
            call.contains("shell=True")
        }
    };
    // Without a shell the string (or the list's first) is the program's
    // name, whole; with one, the command line's first word.
    let program = if shell {
        first.split_whitespace().next().unwrap_or_default()
    } else {
        first.as_str()
    };
    let program = if is_plain_word(program) { program } else { "" };
    Some(Command {
        program: program.to_string(),
        shell,
        text: first.clone(),
    })
}

/// A program name or path with nothing the shell or a template expands.
fn is_plain_word(word: &str) -> bool {
    !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._+-".contains(&b))
}

/// The value of the python string literal `text` starts with (prefixes
/// `r`, `b`, `u`, `f`; single or triple quotes; escapes kept as written),
/// None when it does not start with one.
fn python_string(text: &str) -> Option<String> {
    let quote_at = text.find(['\'', '"'])?;
    let prefix = &text[..quote_at];
    if prefix.len() > 2 || !prefix.chars().all(|c| "rRbBuUfF".contains(c)) {
        return None;
    }
    let quote = &text[quote_at..quote_at + 1];
    let body = &text[quote_at + 1..];
    let (close, body) = match body.strip_prefix(&quote.repeat(2)) {
        Some(rest) => (quote.repeat(3), rest),
        None => (quote.to_string(), body),
    };
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((at, c)) = chars.next() {
        if body[at..].starts_with(close.as_str()) {
            return Some(out);
        }
        if c == '\\' {
            chars.next();
            continue;
        }
        if c == '\n' && close.len() == 1 {
            return None;
        }
        out.push(c);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn interpreter_names() {
        for (name, is_python) in [
            ("python", true),
            ("python3", true),
            ("python3.11", true),
            ("python2.7", true),
            ("python3-config", false),
            ("python3.11-config", false),
            ("pythonw", false),
            ("ipython3", false),
        ] {
            assert_eq!(is(name), is_python, "{name}");
        }
    }

    #[test]
    fn arguments_say_what_runs() {
        let script = |s: &str| Run::Script(s.into());
        let module = |s: &str| Run::Module(s.into());
        let table: &[(&str, &[&str], Run)] = &[
            ("a script", &["/app/app.py", "-v"], script("/app/app.py")),
            ("flags before it", &["-u", "-B", "app.py"], script("app.py")),
            ("bundled flags", &["-uBs", "app.py"], script("app.py")),
            (
                "-W takes the next word",
                &["-W", "ignore", "app.py"],
                script("app.py"),
            ),
            (
                "-X with its value attached",
                &["-Xdev", "app.py"],
                script("app.py"),
            ),
            (
                "-X then a value",
                &["-X", "utf8", "app.py"],
                script("app.py"),
            ),
            (
                "-m then a name",
                &["-m", "http.server", "80"],
                module("http.server"),
            ),
            (
                "-m attached",
                &["-mawslambdaric", "h"],
                module("awslambdaric"),
            ),
            ("-m bundled", &["-um", "pkg.main"], module("pkg.main")),
            ("-c", &["-c", "print(1)", "x.py"], Run::Command),
            ("stdin", &["-", "x.py"], Run::Stdin),
            ("nothing", &["-u"], Run::Stdin),
            ("-- ends options", &["--", "-x.py"], script("-x.py")),
            (
                "a long option",
                &["--check-hash-based-pycs", "never", "a.py"],
                script("a.py"),
            ),
        ];
        for (case, args, run) in table {
            assert_eq!(parse_args(&words(args)).run, *run, "{case}");
        }
        let isolated = parse_args(&words(&["-I", "a.py"]));
        assert!(isolated.ignore_env && isolated.isolated && isolated.no_user_site);
        assert!(parse_args(&words(&["-OO", "a.py"])).optimize);
        assert!(parse_args(&words(&["-E", "a.py"])).ignore_env);
        assert!(!parse_args(&words(&["-W", "E", "a.py"])).ignore_env);
    }

    #[test]
    fn versions_from_names_and_linked_libraries() {
        assert_eq!(version_of_name("python3.11").as_deref(), Some("3.11"));
        assert_eq!(version_of_name("python3"), None);
        let needed = |l: &[&str]| words(l);
        for (libs, want) in [
            (&["libpython3.11.so.1.0", "libc.so.6"][..], Some("3.11")),
            (&["libpython3.8m.so"], Some("3.8")),
            (&["libc.so.6"], None),
        ] {
            assert_eq!(
                version_of_needed(&needed(libs)).as_deref(),
                want,
                "{libs:?}"
            );
        }
    }

    #[test]
    fn the_standard_library_keeps_what_programs_import() {
        for (below, optimize, skipped) in [
            ("os.py", false, false),
            ("json/__init__.py", false, false),
            (
                "lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so",
                false,
                false,
            ),
            (
                "lib-dynload/_tkinter.cpython-311-x86_64-linux-gnu.so",
                false,
                true,
            ),
            ("test/test_os.py", false, true),
            ("tkinter/__init__.py", false, true),
            ("idlelib/idle.py", false, true),
            ("ensurepip/_bundled/pip.whl", false, true),
            ("site-packages/x.py", false, true),
            ("__pycache__/os.cpython-311.pyc", false, false),
            ("__pycache__/os.cpython-311.opt-1.pyc", false, true),
            ("__pycache__/os.cpython-311.opt-1.pyc", true, false),
            ("unittest/test/x.py", false, false),
        ] {
            assert_eq!(skipped_in_stdlib(below, optimize), skipped, "{below}");
        }
    }

    #[test]
    fn hostile_scripts_never_panic() {
        let sample = "import os, subprocess # é\nsubprocess.run(['id', \"€\"], shell=True)\n\
            os.system(r'''ls -l''')\nos.execvp(b\"x\", [])\nsubprocess.Popen(f'{x}')\n";
        for text in common::testing::hostile_texts(sample) {
            let _ = commands(&text);
        }
        assert_eq!(commands(sample).len(), 4);
    }

    #[test]
    fn pth_files_name_folders() {
        let text = "# a comment\n/app/src\n\nimport _virtualenv\n../shared\nlocal\n";
        assert_eq!(
            parse_pth(text, "/usr/lib/python3/dist-packages"),
            [
                "/app/src",
                "/usr/lib/python3/dist-packages/../shared",
                "/usr/lib/python3/dist-packages/local"
            ]
        );
    }

    #[test]
    fn literal_programs_in_scripts() {
        let command = |program: &str, shell, text: &str| Command {
            program: program.into(),
            shell,
            text: text.into(),
        };
        let table: &[(&str, &str, &[Command])] = &[
            (
                "a list",
                "out = subprocess.run([\"id\", \"-u\"], capture_output=True)",
                &[command("id", false, "id")],
            ),
            (
                "a string without a shell is the program",
                "subprocess.check_output('id')",
                &[command("id", false, "id")],
            ),
            (
                "a string with words and no shell names no program",
                "subprocess.call(\"id -u\")",
                &[command("", false, "id -u")],
            ),
            (
                "shell=True runs /bin/sh",
                "subprocess.run(\"id -u | cat\", shell=True)",
                &[command("id", true, "id -u | cat")],
            ),
            (
                "os.system always runs /bin/sh",
                "os.system('id')",
                &[command("id", true, "id")],
            ),
            (
                "exec by name",
                "os.execvp(\"gunicorn\", [\"gunicorn\"])",
                &[command("gunicorn", false, "gunicorn")],
            ),
            (
                "a name built at run time",
                "subprocess.run([tool, \"-v\"])\nsubprocess.run(f\"{tool}\")",
                &[command("", false, "{tool}")],
            ),
            ("a comment", "  # os.system('id')\n", &[]),
            ("another module's function", "myos.system('id')", &[]),
            ("an unterminated string", "os.system('id", &[]),
        ];
        for (case, text, want) in table {
            assert_eq!(commands(text), *want, "{case}");
        }
    }

    const DEBIAN: &[(&str, &str)] = &[
        ("usr/bin/python3", "-> python3.11"),
        ("usr/bin/python3.11", "x"),
        ("usr/bin/id", "x"),
        ("usr/lib/python3.11/os.py", "x"),
        ("usr/lib/python3.11/json/__init__.py", "x"),
        ("usr/lib/python3.11/zoneinfo/__init__.py", "x"),
        ("usr/share/zoneinfo/Europe/Paris", "x"),
        (
            "usr/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so",
            "x",
        ),
        ("usr/lib/python3.11/test/test_os.py", "x"),
        (
            "usr/lib/python3.11/sitecustomize.py",
            "-> /etc/python3.11/sitecustomize.py",
        ),
        ("etc/python3.11/sitecustomize.py", "x"),
        ("usr/lib/python3/dist-packages/requests/__init__.py", "x"),
        ("usr/lib/python3/dist-packages/app.pth", "/opt/src\n"),
        ("opt/src/mylib/__init__.py", "x"),
        (
            "app/app.py",
            "import subprocess\nsubprocess.run(['id', '-u'])\n",
        ),
        ("app/util.py", "x"),
    ];

    const ALPINE: &[(&str, &str)] = &[
        ("usr/bin/python3", "-> python3.11"),
        ("usr/bin/python3.11", "x"),
        ("usr/lib/python3.11/os.py", "x"),
        ("usr/share/zoneinfo/UTC", "x"),
        ("usr/lib/python3.11/site-packages/flask/__init__.py", "x"),
        (
            "usr/lib/python3.11/site-packages/flask/__pycache__/a.cpython-311.opt-1.pyc",
            "x",
        ),
        (
            "usr/lib/python3.11/site-packages/flask/__pycache__/a.cpython-311.pyc",
            "x",
        ),
        ("srv/main.py", "import os\nos.system('id')\n"),
        ("usr/bin/id", "x"),
    ];

    const LOCAL: &[(&str, &str)] = &[
        ("usr/local/bin/python3", "-> python3.11"),
        ("usr/local/bin/python3.11", "x"),
        ("usr/local/lib/python3.11/os.py", "x"),
        ("usr/local/lib/python3.11/idlelib/idle.py", "x"),
        (
            "usr/local/lib/python3.11/site-packages/gunicorn/__init__.py",
            "x",
        ),
        ("usr/lib/python3.11/os.py", "x"),
        ("app/myapp/__init__.py", "x"),
        ("app/myapp/__main__.py", "x"),
        ("app/.venv/bin/python", "-> /usr/local/bin/python3.11"),
        ("app/.venv/pyvenv.cfg", "home = /usr/local/bin\n"),
        (
            "app/.venv/lib/python3.11/site-packages/django/__init__.py",
            "x",
        ),
        ("opt/extra/x.py", "x"),
    ];

    #[test]
    fn layouts() {
        let python3 = ("/usr/bin/python3", "/usr/bin/python3.11");
        let local = ("/usr/local/bin/python3", "/usr/local/bin/python3.11");
        let venv = ("/app/.venv/bin/python", "/usr/local/bin/python3.11");
        use common::testing::Layout;
        let table = [
            Layout {
                case: "Debian: stdlib, dist-packages, .pth, the script's folder and programs",
                files: DEBIAN,
                env: &[],
                workdir: "/",
                program: python3,
                words: &["/app/app.py"],
                kept: &[
                    (
                        "/usr/lib/python3.11/os.py",
                        "standard library (prefix /usr) of /usr/bin/python3.11",
                    ),
                    ("/usr/lib/python3.11/json/__init__.py", "standard library"),
                    (
                        "/usr/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so",
                        "standard library",
                    ),
                    ("/etc/python3.11/sitecustomize.py", "standard library"),
                    (
                        "/usr/lib/python3/dist-packages/requests/__init__.py",
                        "site-packages of /usr/bin/python3.11",
                    ),
                    (
                        "/opt/src/mylib/__init__.py",
                        "path in /usr/lib/python3/dist-packages/app.pth",
                    ),
                    (
                        "/app/app.py",
                        "named by the argument /app/app.py of /usr/bin/python3.11",
                    ),
                    ("/app/util.py", "named by the argument /app/app.py"),
                    ("/usr/bin/id", "run by /app/app.py as `id`"),
                    (
                        "/usr/share/zoneinfo/Europe/Paris",
                        "time zone database zoneinfo reads",
                    ),
                ],
                dropped: &["/usr/lib/python3.11/test/test_os.py"],
                undecided: None,
            },
            Layout {
                case: "Alpine: site-packages below the stdlib, no -O bytecode, os.system needs a shell",
                files: ALPINE,
                env: &[],
                workdir: "/srv",
                program: python3,
                words: &["-u", "main.py"],
                kept: &[
                    (
                        "/usr/lib/python3.11/os.py",
                        "standard library (prefix /usr)",
                    ),
                    (
                        "/usr/lib/python3.11/site-packages/flask/__init__.py",
                        "site-packages",
                    ),
                    (
                        "/usr/lib/python3.11/site-packages/flask/__pycache__/a.cpython-311.pyc",
                        "site-packages",
                    ),
                    ("/srv/main.py", "named by the argument main.py"),
                    ("/usr/bin/id", "run by /srv/main.py as `id`"),
                ],
                dropped: &[
                    "/usr/lib/python3.11/site-packages/flask/__pycache__/a.cpython-311.opt-1.pyc",
                ],
                undecided: Some("through /bin/sh (shell syntax); keep the shell with --keep-shell"),
            },
            Layout {
                case: "/usr/local: its own prefix, -m from the working directory, PYTHONPATH",
                files: LOCAL,
                env: &["PYTHONPATH=/opt/extra"],
                workdir: "/app",
                program: local,
                words: &["-m", "myapp.cli"],
                kept: &[
                    (
                        "/usr/local/lib/python3.11/os.py",
                        "standard library (prefix /usr/local) of /usr/local/bin/python3.11",
                    ),
                    (
                        "/usr/local/lib/python3.11/site-packages/gunicorn/__init__.py",
                        "site-packages",
                    ),
                    (
                        "/app/myapp/__main__.py",
                        "named by the argument -m myapp.cli",
                    ),
                    ("/opt/extra/x.py", "PYTHONPATH entry"),
                ],
                dropped: &[
                    "/usr/lib/python3.11/os.py",
                    "/usr/local/lib/python3.11/idlelib/idle.py",
                ],
                undecided: None,
            },
            Layout {
                case: "a virtual environment's site-packages",
                files: LOCAL,
                env: &[],
                workdir: "/",
                program: venv,
                words: &["-m", "django"],
                kept: &[
                    ("/app/.venv/pyvenv.cfg", "virtual environment /app/.venv"),
                    (
                        "/app/.venv/lib/python3.11/site-packages/django/__init__.py",
                        "named by the argument -m django",
                    ),
                    ("/usr/local/lib/python3.11/os.py", "prefix /usr/local"),
                ],
                dropped: &["/app/myapp/__init__.py"],
                undecided: None,
            },
            Layout {
                case: "PYTHONHOME replaces the search",
                files: LOCAL,
                env: &["PYTHONHOME=/usr"],
                workdir: "/",
                program: local,
                words: &["-c", "pass"],
                kept: &[(
                    "/usr/lib/python3.11/os.py",
                    "standard library (prefix /usr)",
                )],
                dropped: &["/usr/local/lib/python3.11/os.py"],
                undecided: None,
            },
            Layout {
                case: "-E ignores PYTHONHOME",
                files: LOCAL,
                env: &["PYTHONHOME=/usr"],
                workdir: "/",
                program: local,
                words: &["-E", "-c", "pass"],
                kept: &[("/usr/local/lib/python3.11/os.py", "prefix /usr/local")],
                dropped: &["/usr/lib/python3.11/os.py"],
                undecided: None,
            },
            Layout {
                case: "a module nowhere",
                files: LOCAL,
                env: &[],
                workdir: "/app",
                program: local,
                words: &["-m", "nothere"],
                kept: &[],
                dropped: &[],
                undecided: Some("module nothere (-m) is in none of /app, "),
            },
            Layout {
                case: "a script not in the image",
                files: ALPINE,
                env: &[],
                workdir: "/",
                program: python3,
                words: &["/app/gone.py"],
                kept: &[],
                dropped: &[],
                undecided: Some("the script /app/gone.py is not in the image"),
            },
            Layout {
                case: "no standard library",
                files: &[("usr/bin/python3.11", "x")],
                env: &[],
                workdir: "/",
                program: ("/usr/bin/python3.11", "/usr/bin/python3.11"),
                words: &[],
                kept: &[],
                dropped: &[],
                undecided: Some("no standard library"),
            },
        ];
        common::testing::check(&table, add);
    }
}
