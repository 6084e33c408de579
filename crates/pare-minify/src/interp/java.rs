//! java: the JRE home the launcher loads from by path, and the class path
//! its arguments name.
//!
//! The `java` launcher finds the JRE from its own real path: the home is
//! the folder above its `bin/` (Debian's `/usr/bin/java` →
//! `/etc/alternatives/java` → `/usr/lib/jvm/java-17-openjdk-amd64/bin/java`;
//! Alpine's `/usr/lib/jvm/java-17-openjdk`; Temurin's `/opt/java/openjdk`).
//! From there it `dlopen`s the VM that `lib/jvm.cfg` chooses
//! (`lib/server/libjvm.so`), which loads `libjava.so` and the other
//! libraries of `lib/` by path, the class library from `lib/modules`, and
//! reads `conf/`, `lib/security/cacerts`, `lib/tzdb.dat`: none of it is an
//! ELF dependency the loader could follow (without it: `could not find
//! libjava.so`). So the home is kept whole, but for the VMs `jvm.cfg`
//! lists and does not choose (the launcher never loads another VM than the
//! one it picks), with the targets of its symlinks elsewhere in the image
//! (Debian: `conf/` → `/etc/java-17-openjdk`, `cacerts` →
//! `/etc/ssl/certs/java/cacerts`) and what its ELF files load. `JAVA_HOME`
//! is only a fallback: the launcher itself never reads it.
//!
//! Arguments: the class path (`-cp`/`-classpath`/`--class-path`, else
//! `CLASSPATH`, else the working directory) with folders, jars and `dir/*`
//! wildcards; `-jar app.jar` with its folder (the relative `Class-Path`
//! entries of its manifest live there; the jar itself is not read); the
//! module path; `-javaagent:`/`-agentpath:` files; options from
//! `JDK_JAVA_OPTIONS` and `JAVA_TOOL_OPTIONS`. An `@argfile` is kept but
//! not read: what it names is left to `--include`.

use std::collections::BTreeSet;

use pare_image::paths::file_name;
use pare_image::tree::{FileTree, NodeKind};

use crate::interp::common::{elf_files_below, is_system_folder, keep_loaded, lexical_absolute};
use crate::interp::{Context, Invocation, Undecided};
use crate::plan::Plan;
use crate::why::{Rule, Why};

/// A `jvm.cfg` larger than this is not read (the real ones are ~1 KiB).
const MAX_JVM_CFG: usize = 64 * 1024;
/// Symlinks followed out of the JRE home at most, folders' links included.
const MAX_LINKS: usize = 4096;
/// Options whose value is the next word.
const VALUE_OPTIONS: &[&str] = &[
    "--add-modules",
    "--limit-modules",
    "--add-exports",
    "--add-opens",
    "--add-reads",
    "--patch-module",
    "--enable-native-access",
    "--source",
    "-d",
    "--describe-module",
];
/// The launcher's options choosing a VM by its `jvm.cfg` name.
const VM_OPTIONS: &[&str] = &["-server", "-client", "-zero", "-minimal", "-core"];

/// Whether a program's real file name is this interpreter.
pub fn is(name: &str) -> bool {
    name == "java"
}

/// Files whose bytes this rule reads: `jvm.cfg` (Debian's `lib/jvm.cfg`
/// is a symlink to `/etc/java-17-openjdk/jvm-amd64.cfg`).
pub fn wants(path: &str) -> bool {
    let name = file_name(path);
    name == "jvm.cfg" || (name.starts_with("jvm-") && name.ends_with(".cfg"))
}

/// What one line of `jvm.cfg` says of a VM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VmKind {
    Known,
    /// The option is accepted and the default VM used instead.
    Ignore,
    AliasedTo(String),
    /// `WARN`, `ERROR`, `IF_SERVER_CLASS …`: used (or refused) as named.
    Other,
}

/// The VMs `jvm.cfg` lists, in order: `-server KNOWN`, `-client IGNORE`,
/// `-zero ALIASED_TO -server`; comments and malformed lines skipped.
pub fn parse_jvm_cfg(text: &str) -> Vec<(String, VmKind)> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or_default();
            let mut words = line.split_whitespace();
            let name = words.next()?.strip_prefix('-')?;
            if name.is_empty() || name.contains(['/', '.']) {
                return None;
            }
            let kind = match words.next() {
                Some("KNOWN") => VmKind::Known,
                Some("IGNORE") => VmKind::Ignore,
                Some("ALIASED_TO") => {
                    VmKind::AliasedTo(words.next()?.strip_prefix('-')?.to_string())
                }
                _ => VmKind::Other,
            };
            Some((name.to_string(), kind))
        })
        .collect()
}

/// The VM the launcher loads: the one `requested` (`server` of
/// `-server`) names, aliases followed, or the first `KNOWN` one. None
/// when that cannot be told (a VM `jvm.cfg` does not list).
pub fn chosen_vm(cfg: &[(String, VmKind)], requested: Option<&str>) -> Option<String> {
    let default = || {
        cfg.iter()
            .find(|(_, k)| *k == VmKind::Known)
            .map(|(n, _)| n.clone())
    };
    let Some(mut name) = requested.map(str::to_string) else {
        return default();
    };
    // Each alias step names another line; a loop ends after as many steps.
    for _ in 0..=cfg.len() {
        let (_, kind) = cfg.iter().find(|(n, _)| *n == name)?;
        match kind {
            VmKind::Known | VmKind::Other => return Some(name),
            VmKind::Ignore => return default(),
            VmKind::AliasedTo(to) => name = to.clone(),
        }
    }
    None
}

/// What the launcher's words ask for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JavaArgs {
    /// `-cp` and its spellings, as the option and its value (the last wins).
    pub class_path: Option<(String, String)>,
    /// Module path values (`-p`, `--module-path`, `--upgrade-module-path`).
    pub module_path: Vec<(String, String)>,
    /// `-jar FILE`.
    pub jar: Option<String>,
    /// The main class (or `-m` module), or a source file (`App.java`).
    pub main: Option<String>,
    /// `-javaagent:`/`-agentpath:` files (option, path).
    pub agents: Vec<(String, String)>,
    /// `-Xbootclasspath/a:` and `/p:` values.
    pub boot: Vec<(String, String)>,
    /// The VM asked for by name (`server`, or an `-XXaltjvm=` path).
    pub vm: Option<String>,
    /// `@argfiles`, read by the launcher and not here.
    pub argfiles: Vec<String>,
}

/// Reads the launcher's words up to the main class, the `-jar` file or
/// the `-m` module; what follows is the application's.
pub fn parse_args(words: &[String]) -> JavaArgs {
    let mut out = JavaArgs::default();
    let mut i = 0;
    let next = |i: &mut usize| {
        *i += 1;
        words.get(*i - 1).cloned()
    };
    while let Some(word) = next(&mut i) {
        let (name, inline) = match word.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (word.as_str(), None),
        };
        let value = |i: &mut usize| inline.clone().or_else(|| next(i));
        match name {
            "-cp" | "-classpath" | "--class-path" => {
                if let Some(v) = value(&mut i) {
                    out.class_path = Some((name.to_string(), v));
                }
            }
            "-p" | "--module-path" | "--upgrade-module-path" => {
                out.module_path
                    .extend(value(&mut i).map(|v| (name.into(), v)));
            }
            "-jar" => {
                out.jar = value(&mut i);
                break;
            }
            "-m" | "--module" => {
                out.main = value(&mut i);
                break;
            }
            _ if VALUE_OPTIONS.contains(&name) => {
                value(&mut i);
            }
            _ if VM_OPTIONS.contains(&name) => out.vm = Some(name[1..].to_string()),
            _ if word.len() > 1 && word.starts_with('@') => out.argfiles.push(word[1..].into()),
            _ => {
                if let Some(v) = word.strip_prefix("-XXaltjvm=") {
                    out.vm = Some(v.to_string());
                } else if let Some(rest) = ["-javaagent:", "-agentpath:"]
                    .iter()
                    .find_map(|o| Some((*o, word.strip_prefix(o)?)))
                {
                    // The path ends where the agent's options begin.
                    let path = rest.1.split('=').next().unwrap_or_default();
                    out.agents.push((rest.0.to_string(), path.to_string()));
                } else if let Some(rest) = ["-Xbootclasspath/a:", "-Xbootclasspath/p:"]
                    .iter()
                    .find_map(|o| Some((*o, word.strip_prefix(o)?)))
                {
                    out.boot.push((rest.0.to_string(), rest.1.to_string()));
                } else if !word.starts_with('-') {
                    out.main = Some(word.clone());
                    break;
                }
            }
        }
    }
    out
}

/// Keeps the JRE home and what the arguments name.
pub fn add(cx: &Context<'_>, invocation: &Invocation, plan: &mut Plan) -> Vec<Undecided> {
    let java = invocation.path.as_str();
    let mut undecided = Vec::new();
    let mut say = |message: String| {
        undecided.push(Undecided {
            program: java.to_string(),
            message,
        })
    };
    let words = |var: &str| -> Vec<String> {
        cx.config
            .var(var)
            .map(|o| o.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    };
    // JDK_JAVA_OPTIONS goes before the command line's words; the JVM reads
    // JAVA_TOOL_OPTIONS itself (agents, VM options).
    let mut launcher = words("JDK_JAVA_OPTIONS");
    launcher.extend(invocation.args.iter().cloned());
    let args = parse_args(&launcher);
    let tool = parse_args(&words("JAVA_TOOL_OPTIONS"));
    let tree = &cx.flat.tree;
    let home = home_of(&invocation.real)
        .filter(|h| is_home(tree, h))
        .or_else(|| cx.config.var("JAVA_HOME").map(|h| lexical_absolute("/", h)))
        .filter(|h| is_home(tree, h))
        .and_then(|h| real_home(tree, &h, plan));
    match &home {
        // A launcher in /bin with a class library in /lib would make the
        // whole image its home.
        Some(home) if is_system_folder(home) => say(format!(
            "the JRE home of {} would be the system folder {home}; give --include with what \
             it loads",
            invocation.real
        )),
        Some(home) => add_home(cx, java, home, args.vm.as_deref(), plan),
        None => say(format!(
            "no JRE home (lib/jvm.cfg or lib/modules) above {}; give --include with it",
            invocation.real
        )),
    }
    let before = plan.paths();
    add_class_path(cx, java, &args, &mut say, plan);
    for (option, path) in tool.agents.iter().chain(&args.agents) {
        let argument = format!("{option}{path}");
        keep_named(cx, java, path, &argument, &mut say, plan);
    }
    for file in &args.argfiles {
        let argument = format!("@{file}");
        keep_named(cx, java, file, &argument, &mut say, plan);
        say(format!(
            "{argument}: the options in this file are not read; give --include with the \
             class path it names"
        ));
    }
    // Agent libraries and JNI libraries in kept jars' folders load others.
    let added: Vec<String> = plan
        .paths()
        .difference(&before)
        .filter(|p| is_elf_file(cx, p))
        .cloned()
        .collect();
    keep_loaded(cx, plan, &added);
    undecided
}

/// The folder above the `bin/` holding the launcher at real path `real`.
fn home_of(real: &str) -> Option<String> {
    let bin = pare_image::paths::parent(real);
    let home = pare_image::paths::parent(bin);
    (file_name(bin) == "bin").then(|| if home.is_empty() { "/" } else { home }.to_string())
}

/// The real path of the home `dir` (`JAVA_HOME=/usr/lib/jvm/default-jvm`
/// is a symlink), keeping the links on the way.
fn real_home(tree: &FileTree, dir: &str, plan: &mut Plan) -> Option<String> {
    let (real, links) = tree.resolve_traced(dir.trim_start_matches('/')).ok()?;
    let real = format!("/{real}");
    for link in links {
        let target = real.clone();
        plan.add(&format!("/{link}"), Why::SymlinkTo { target });
    }
    Some(real)
}

/// Whether `dir` is a JRE home: a `jvm.cfg` or a class library in `lib/`.
fn is_home(tree: &FileTree, dir: &str) -> bool {
    jvm_cfg(tree, dir).is_some()
        || exists(tree, &format!("{dir}/lib/modules"))
        || exists(tree, &format!("{dir}/lib/rt.jar"))
}

/// Where `jvm.cfg` is in the home: `lib/` (Java 9+) or `lib/ARCH/` (8).
fn jvm_cfg(tree: &FileTree, home: &str) -> Option<String> {
    let lib = format!("{}/lib", home.trim_end_matches('/'));
    let direct = format!("{lib}/jvm.cfg");
    if exists(tree, &direct) {
        return Some(direct);
    }
    let lib = lib.trim_start_matches('/');
    tree.children(lib)
        .map(|(p, _)| format!("/{p}/jvm.cfg"))
        .find(|p| exists(tree, p))
}

/// Keeps the JRE home but the VMs `jvm.cfg` lists and does not choose,
/// the targets of its symlinks, and what its ELF files load.
fn add_home(cx: &Context<'_>, java: &str, home: &str, requested: Option<&str>, plan: &mut Plan) {
    let tree = &cx.flat.tree;
    let why = |what: String| {
        Why::Rule(Rule::InterpreterLibrary {
            interpreter: java.to_string(),
            what,
        })
    };
    // Manual pages are read by man(1), never by the JVM.
    let mut skipped: Vec<String> = vec![format!("{home}/man")];
    if let Some(cfg) = jvm_cfg(tree, home) {
        let text = cx
            .flat
            .read(cfg.trim_start_matches('/'))
            .ok()
            .flatten()
            .filter(|b| b.len() <= MAX_JVM_CFG)
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        let vms = text.as_deref().map(parse_jvm_cfg).unwrap_or_default();
        if let Some(chosen) = chosen_vm(&vms, requested) {
            let dir = pare_image::paths::parent(&cfg).to_string();
            skipped.extend(
                vms.iter()
                    .filter(|(n, _)| *n != chosen)
                    .map(|(n, _)| format!("{dir}/{n}")),
            );
            let what = format!("the VM {} chooses ({chosen})", relative(home, &cfg));
            plan.add_resolved(tree, &format!("{dir}/{chosen}"), why(what));
        }
    }
    let is_skipped = |p: &str| {
        skipped.iter().any(|s| {
            p.strip_prefix(s.as_str())
                .is_some_and(|r| r.is_empty() || r.starts_with('/'))
        })
    };
    let in_home = why(format!("JRE home {home}"));
    plan.add(home, in_home.clone());
    let mut links = Vec::new();
    for (path, node) in tree.descendants(home.trim_start_matches('/')) {
        let path = format!("/{path}");
        if is_skipped(&path) {
            continue;
        }
        if matches!(node.kind, NodeKind::Symlink(_)) {
            links.push(path.clone());
        }
        plan.add(&path, in_home.clone());
    }
    let mut objects: Vec<String> = elf_files_below(cx, home)
        .into_iter()
        .filter(|p| !is_skipped(p))
        .collect();
    objects.extend(follow_links(cx, java, home, links, plan));
    keep_loaded(cx, plan, &objects);
}

/// Keeps the targets of `links` outside `home`, and of the links inside
/// the folders they reach, at most [`MAX_LINKS`]; returns the ELF files
/// among what they kept.
fn follow_links(
    cx: &Context<'_>,
    java: &str,
    home: &str,
    mut links: Vec<String>,
    plan: &mut Plan,
) -> Vec<String> {
    let tree = &cx.flat.tree;
    let inside = |p: &str, dir: &str| {
        p.strip_prefix(dir)
            .is_some_and(|r| r.is_empty() || r.starts_with('/'))
    };
    let mut seen = BTreeSet::new();
    let mut objects = Vec::new();
    while let Some(link) = links.pop() {
        if seen.len() >= MAX_LINKS || !seen.insert(link.clone()) {
            continue;
        }
        let Ok(real) = tree.resolve(link.trim_start_matches('/'), true) else {
            continue;
        };
        let real = format!("/{real}");
        if inside(&real, home) || tree.get(real.trim_start_matches('/')).is_none() {
            continue;
        }
        let why = Why::Rule(Rule::InterpreterLibrary {
            interpreter: java.to_string(),
            what: format!("target of {link} in the JRE home"),
        });
        plan.add_resolved(tree, &link, why);
        if tree
            .get(real.trim_start_matches('/'))
            .is_some_and(|n| n.is_dir())
        {
            for (path, node) in tree.descendants(real.trim_start_matches('/')) {
                if matches!(node.kind, NodeKind::Symlink(_)) {
                    links.push(format!("/{path}"));
                }
            }
            objects.extend(elf_files_below(cx, &real));
        } else if is_elf_file(cx, &real) {
            objects.push(real);
        }
    }
    objects
}

/// Keeps the class path (or the `-jar` file), the module path and the
/// boot class path additions.
fn add_class_path(
    cx: &Context<'_>,
    java: &str,
    args: &JavaArgs,
    say: &mut impl FnMut(String),
    plan: &mut Plan,
) {
    let tree = &cx.flat.tree;
    if let Some(jar) = &args.jar {
        let argument = format!("-jar {jar}");
        if keep_named(cx, java, jar, &argument, say, plan) {
            // A manifest's Class-Path entries are relative to the jar.
            let folder = pare_image::paths::parent(&lexical_absolute(cx.workdir, jar)).to_string();
            let folder = if folder.is_empty() {
                "/".into()
            } else {
                folder
            };
            if !is_system_folder(&folder) {
                plan.add_resolved(tree, &folder, argument_why(java, &argument));
            }
        }
        return;
    }
    let mut paths: Vec<(String, String)> = args.module_path.clone();
    paths.extend(args.boot.iter().cloned());
    match (&args.class_path, cx.config.var("CLASSPATH")) {
        (Some(cp), _) => paths.push(cp.clone()),
        (None, Some(env)) => paths.push(("CLASSPATH=".into(), env.to_string())),
        // Without either, the class path is the working directory; a
        // module (-m) or a source file is found without it.
        (None, None) => {
            let module = args.main.as_deref().is_none_or(|m| m.ends_with(".java"))
                || !args.module_path.is_empty();
            if !module {
                paths.push(("default class path".into(), ".".into()));
            }
        }
    }
    for (option, value) in &paths {
        for entry in value.split(':') {
            let separator = if option.ends_with([':', '=', ' ']) {
                ""
            } else {
                " "
            };
            let argument = format!("{option}{separator}{value}");
            add_entry(cx, java, entry, &argument, say, plan);
        }
    }
    if let Some(source) = args.main.as_deref().filter(|m| m.ends_with(".java")) {
        keep_named(cx, java, source, source, say, plan);
    }
}

/// Keeps one class path entry: a folder (whole), a jar, or the jars of a
/// `dir/*` wildcard. A system folder (`/`, the default class path of an
/// image without a working directory) would keep everything: left to
/// `--include`.
fn add_entry(
    cx: &Context<'_>,
    java: &str,
    entry: &str,
    argument: &str,
    say: &mut impl FnMut(String),
    plan: &mut Plan,
) {
    let tree = &cx.flat.tree;
    let entry = if entry.is_empty() { "." } else { entry };
    let why = argument_why(java, argument);
    if let Some(dir) = entry
        .strip_suffix('*')
        .filter(|d| d.is_empty() || d.ends_with('/'))
    {
        let dir = lexical_absolute(cx.workdir, if dir.is_empty() { "." } else { dir });
        let Ok(real) = tree.resolve(dir.trim_start_matches('/'), true) else {
            return;
        };
        let jars: Vec<String> = tree
            .children(&real)
            .map(|(p, _)| format!("{dir}/{}", file_name(&p)))
            .filter(|p| p.ends_with(".jar") || p.ends_with(".JAR"))
            .collect();
        if jars.is_empty() {
            say(format!(
                "{argument}: no jar in {dir}; give --include with the classes"
            ));
        }
        for jar in jars {
            plan.add_resolved(tree, &jar, why.clone());
        }
        return;
    }
    let path = lexical_absolute(cx.workdir, entry);
    let real = tree
        .resolve(path.trim_start_matches('/'), true)
        .map(|r| format!("/{r}"))
        .unwrap_or_else(|_| path.clone());
    if is_system_folder(&real) {
        say(format!(
            "{argument}: class path entry {path} is a system folder; give --include with the \
             classes' folder"
        ));
        return;
    }
    if !plan.add_resolved(tree, &path, why) {
        say(format!(
            "{argument}: {path} is not in the image; give --include {path} if it comes at \
             run time"
        ));
    }
}

/// Keeps the file `name` (relative to the working directory) names;
/// false, said, when it is not there.
fn keep_named(
    cx: &Context<'_>,
    java: &str,
    name: &str,
    argument: &str,
    say: &mut impl FnMut(String),
    plan: &mut Plan,
) -> bool {
    let path = lexical_absolute(cx.workdir, name);
    let found = plan.add_resolved(&cx.flat.tree, &path, argument_why(java, argument));
    if !found {
        say(format!(
            "{argument}: {path} is not in the image; give --include {path} if it comes at run \
             time"
        ));
    }
    found
}

fn argument_why(java: &str, argument: &str) -> Why {
    Why::Rule(Rule::Argument {
        program: java.to_string(),
        argument: argument.to_string(),
    })
}

/// `path` relative to `home` (`lib/jvm.cfg`), for reasons.
fn relative<'a>(home: &str, path: &'a str) -> &'a str {
    path.strip_prefix(home)
        .map(|r| r.trim_start_matches('/'))
        .unwrap_or(path)
}

fn is_elf_file(cx: &Context<'_>, path: &str) -> bool {
    use pare_elf::search::Root;
    cx.root.elf(path).is_some()
}

fn exists(tree: &FileTree, path: &str) -> bool {
    tree.resolve(path.trim_start_matches('/'), true)
        .is_ok_and(|p| tree.get(&p).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::testimage::{F, assert_outcome, image, run};

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn jvm_cfg_is_captured_where_debian_and_others_put_it() {
        for (path, wanted) in [
            ("usr/lib/jvm/java-17-openjdk/lib/jvm.cfg", true),
            ("etc/java-17-openjdk/jvm-amd64.cfg", true),
            (
                "usr/lib/jvm/java-8-openjdk-amd64/jre/lib/amd64/jvm.cfg",
                true,
            ),
            (
                "usr/lib/jvm/java-17-openjdk-amd64/lib/jvm.cfg-default",
                false,
            ),
            ("etc/app.cfg", false),
        ] {
            assert_eq!(wants(path), wanted, "{path}");
        }
    }

    #[test]
    fn jvm_cfg_chooses_the_vm() {
        let debian = "# List of JVMs\n-server KNOWN\n-client IGNORE\n-zero KNOWN\n\
                      -cacao ALIASED_TO -zero\n-loop ALIASED_TO -loop\nbroken line\n-\n";
        let cfg = parse_jvm_cfg(debian);
        assert_eq!(cfg[0], ("server".to_string(), VmKind::Known));
        assert_eq!(
            cfg[3],
            ("cacao".to_string(), VmKind::AliasedTo("zero".into()))
        );
        assert_eq!(cfg.len(), 5);
        for (requested, chosen) in [
            (None, Some("server")),
            (Some("zero"), Some("zero")),
            (Some("client"), Some("server")),
            (Some("cacao"), Some("zero")),
            (Some("loop"), None),
            (Some("/opt/other/libjvm.so"), None),
        ] {
            assert_eq!(
                chosen_vm(&cfg, requested).as_deref(),
                chosen,
                "{requested:?}"
            );
        }
        let ignored_first = parse_jvm_cfg("-client IGNORE\n-server KNOWN\n");
        assert_eq!(chosen_vm(&ignored_first, None).as_deref(), Some("server"));
        assert_eq!(chosen_vm(&parse_jvm_cfg("\0\u{7f}garbage"), None), None);
    }

    #[test]
    fn arguments_name_the_class_path_and_what_the_launcher_loads() {
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        let cases: Vec<(&str, &[&str], JavaArgs)> = vec![
            (
                "-cp with options around it; the main class ends them",
                &["-Xmx1g", "-Dkey=value", "-cp", "/app", "Main", "-cp", "/x"],
                JavaArgs {
                    class_path: Some(pair("-cp", "/app")),
                    main: Some("Main".into()),
                    ..JavaArgs::default()
                },
            ),
            (
                "--class-path= and a module path, -m",
                &[
                    "--class-path=lib/*:classes",
                    "-p",
                    "mods",
                    "--add-modules",
                    "a,b",
                    "-m",
                    "app/app.Main",
                ],
                JavaArgs {
                    class_path: Some(pair("--class-path", "lib/*:classes")),
                    module_path: vec![pair("-p", "mods")],
                    main: Some("app/app.Main".into()),
                    ..JavaArgs::default()
                },
            ),
            (
                "-jar, agents, a VM and an argfile",
                &[
                    "-server",
                    "@/app/jvm.args",
                    "-javaagent:/otel/agent.jar=service=x",
                    "-agentpath:/opt/prof/libprof.so=start",
                    "-Xbootclasspath/a:/boot.jar",
                    "-jar",
                    "app.jar",
                    "--port",
                ],
                JavaArgs {
                    jar: Some("app.jar".into()),
                    agents: vec![
                        pair("-javaagent:", "/otel/agent.jar"),
                        pair("-agentpath:", "/opt/prof/libprof.so"),
                    ],
                    boot: vec![pair("-Xbootclasspath/a:", "/boot.jar")],
                    vm: Some("server".into()),
                    argfiles: words(&["/app/jvm.args"]),
                    ..JavaArgs::default()
                },
            ),
            (
                "a source file",
                &["Hello.java"],
                JavaArgs {
                    main: Some("Hello.java".into()),
                    ..JavaArgs::default()
                },
            ),
            ("a value missing at the end", &["-cp"], JavaArgs::default()),
        ];
        for (case, args, want) in cases {
            assert_eq!(parse_args(&words(args)), want, "{case}");
        }
    }

    const J: &str = "usr/lib/jvm/java-17-openjdk-amd64";

    /// Debian's openjdk-17-jre-headless, reduced: links into /etc, two
    /// VMs, an X11 library whose dependency the image lacks.
    fn debian() -> Vec<F> {
        vec![
            F::Link("usr/bin/java", "/etc/alternatives/java"),
            F::Link(
                "etc/alternatives/java",
                "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
            ),
            F::Elf("usr/lib/jvm/java-17-openjdk-amd64/bin/java", &["libz.so.1"]),
            F::Elf("usr/lib/jvm/java-17-openjdk-amd64/lib/libjava.so", &[]),
            F::Elf(
                "usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so",
                &["libstdc++.so.6"],
            ),
            F::Elf(
                "usr/lib/jvm/java-17-openjdk-amd64/lib/zero/libjvm.so",
                &["libffi.so.8"],
            ),
            F::Elf(
                "usr/lib/jvm/java-17-openjdk-amd64/lib/libawt_xawt.so",
                &["libX11.so.6"],
            ),
            F::Link(
                "usr/lib/jvm/java-17-openjdk-amd64/lib/jvm.cfg",
                "/etc/java-17-openjdk/jvm-amd64.cfg",
            ),
            F::File(
                "etc/java-17-openjdk/jvm-amd64.cfg",
                b"-server KNOWN\n-zero KNOWN\n",
            ),
            F::File("usr/lib/jvm/java-17-openjdk-amd64/lib/modules", b"jimage"),
            F::Link(
                "usr/lib/jvm/java-17-openjdk-amd64/conf",
                "/etc/java-17-openjdk",
            ),
            F::File("etc/java-17-openjdk/security/java.security", b"x"),
            F::Link(
                "etc/java-17-openjdk/accessibility.properties",
                "../../usr/share/jx/a",
            ),
            F::File("usr/share/jx/a", b"a"),
            F::Link(
                "usr/lib/jvm/java-17-openjdk-amd64/lib/security/cacerts",
                "/etc/ssl/certs/java/cacerts",
            ),
            F::File("etc/ssl/certs/java/cacerts", b"keystore"),
            F::Elf("usr/lib/x86_64-linux-gnu/libz.so.1", &[]),
            F::Elf("usr/lib/x86_64-linux-gnu/libstdc++.so.6", &[]),
            F::Elf("usr/lib/x86_64-linux-gnu/libffi.so.8", &[]),
            F::File("usr/share/doc/openjdk/README", b"doc"),
            F::File(
                "usr/lib/jvm/java-17-openjdk-amd64/man/man1/java.1.gz",
                b"man",
            ),
            F::File("app/Main.class", b"cafebabe"),
            F::File("app/util/Helper.class", b"cafebabe"),
        ]
    }

    struct Case {
        name: &'static str,
        files: Vec<F>,
        env: &'static [&'static str],
        workdir: &'static str,
        argv: &'static [&'static str],
        keep: Vec<String>,
        drop: Vec<String>,
        undecided: &'static [&'static str],
    }

    fn paths(p: &[&str]) -> Vec<String> {
        p.iter()
            .map(|p| p.replace("$J", &format!("/{J}")))
            .collect()
    }

    #[test]
    fn java_keeps_the_jre_home_and_the_class_path_in_each_layout() {
        let cases = vec![
            Case {
                name: "Debian: the home through alternatives, its links into /etc, -cp /app",
                files: debian(),
                env: &[],
                workdir: "/",
                argv: &["/usr/bin/java", "-Dx=y", "-cp", "/app", "Main"],
                keep: paths(&[
                    "$J/bin/java",
                    "$J/lib/libjava.so",
                    "$J/lib/server/libjvm.so",
                    "$J/lib/modules",
                    "$J/lib/jvm.cfg",
                    "$J/lib/libawt_xawt.so",
                    "/etc/java-17-openjdk/jvm-amd64.cfg",
                    "/etc/java-17-openjdk/security/java.security",
                    "/usr/share/jx/a",
                    "/etc/ssl/certs/java/cacerts",
                    "/usr/lib/x86_64-linux-gnu/libz.so.1",
                    "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
                    "/app/Main.class",
                    "/app/util/Helper.class",
                ]),
                drop: paths(&[
                    "$J/lib/zero/libjvm.so",
                    "/usr/lib/x86_64-linux-gnu/libffi.so.8",
                    "/usr/share/doc/openjdk/README",
                    "$J/man/man1/java.1.gz",
                ]),
                undecided: &[],
            },
            Case {
                name: "Debian: -zero keeps that VM instead",
                files: debian(),
                env: &[],
                workdir: "/app",
                argv: &["/usr/bin/java", "-zero", "Main"],
                keep: paths(&[
                    "$J/lib/zero/libjvm.so",
                    "/usr/lib/x86_64-linux-gnu/libffi.so.8",
                    "/app/Main.class",
                ]),
                drop: paths(&["$J/lib/server/libjvm.so"]),
                undecided: &[],
            },
            Case {
                name: "Alpine: -jar keeps the jar's folder, JAVA_TOOL_OPTIONS agent",
                files: vec![
                    F::Link("usr/bin/java", "../lib/jvm/default-jvm/bin/java"),
                    F::Link("usr/lib/jvm/default-jvm", "java-17-openjdk"),
                    F::Elf("usr/lib/jvm/java-17-openjdk/bin/java", &[]),
                    F::File(
                        "usr/lib/jvm/java-17-openjdk/lib/jvm.cfg",
                        b"-server KNOWN\n-client IGNORE\n",
                    ),
                    F::Elf("usr/lib/jvm/java-17-openjdk/lib/server/libjvm.so", &[]),
                    F::File("usr/lib/jvm/java-17-openjdk/lib/modules", b"jimage"),
                    F::File(
                        "usr/lib/jvm/java-17-openjdk/conf/security/java.security",
                        b"x",
                    ),
                    F::File("opt/app/app.jar", b"PK"),
                    F::File("opt/app/lib/dep.jar", b"PK"),
                    F::File("otel/agent.jar", b"PK"),
                ],
                env: &["JAVA_TOOL_OPTIONS=-javaagent:/otel/agent.jar"],
                workdir: "/opt/app",
                argv: &["/usr/bin/java", "-jar", "app.jar"],
                keep: paths(&[
                    "/usr/lib/jvm/default-jvm",
                    "/usr/lib/jvm/java-17-openjdk/lib/server/libjvm.so",
                    "/usr/lib/jvm/java-17-openjdk/conf/security/java.security",
                    "/opt/app/app.jar",
                    "/opt/app/lib/dep.jar",
                    "/otel/agent.jar",
                ]),
                drop: vec![],
                undecided: &[],
            },
            Case {
                name: "Temurin in /opt: CLASSPATH with a wildcard, an agent library",
                files: vec![
                    F::Elf("opt/java/openjdk/bin/java", &[]),
                    F::File("opt/java/openjdk/lib/jvm.cfg", b"-server KNOWN\n"),
                    F::Elf("opt/java/openjdk/lib/server/libjvm.so", &[]),
                    F::File("opt/java/openjdk/lib/modules", b"jimage"),
                    F::File("opt/java/openjdk/lib/security/cacerts", b"keystore"),
                    F::File("deps/a.jar", b"PK"),
                    F::File("deps/b.jar", b"PK"),
                    F::File("deps/readme.txt", b"r"),
                    F::File("classes/Main.class", b"c"),
                    F::Elf("prof/libprof.so", &["libunwind.so.8"]),
                    F::Elf("usr/lib/x86_64-linux-gnu/libunwind.so.8", &[]),
                ],
                env: &["CLASSPATH=/deps/*:/classes"],
                workdir: "/",
                argv: &[
                    "/opt/java/openjdk/bin/java",
                    "-agentpath:/prof/libprof.so",
                    "Main",
                ],
                keep: paths(&[
                    "/opt/java/openjdk/lib/security/cacerts",
                    "/opt/java/openjdk/lib/server/libjvm.so",
                    "/deps/a.jar",
                    "/deps/b.jar",
                    "/classes/Main.class",
                    "/prof/libprof.so",
                    "/usr/lib/x86_64-linux-gnu/libunwind.so.8",
                ]),
                drop: paths(&["/deps/readme.txt"]),
                undecided: &[],
            },
            Case {
                name: "JAVA_HOME when no home is above the launcher",
                files: vec![
                    F::Elf("usr/local/java", &[]),
                    F::File("opt/jre/lib/modules", b"jimage"),
                    F::Link("opt/jre-current", "jre"),
                    F::Dir("app"),
                ],
                env: &["JAVA_HOME=/opt/jre-current"],
                workdir: "/",
                argv: &["/usr/local/java", "-cp", "/app", "Main"],
                keep: paths(&["/opt/jre/lib/modules", "/opt/jre-current", "/app"]),
                drop: vec![],
                undecided: &[],
            },
            Case {
                name: "what cannot be decided is said, naming --include",
                files: vec![
                    F::Elf("opt/java/openjdk/bin/java", &[]),
                    F::File("opt/java/openjdk/lib/modules", b"jimage"),
                    F::File("app/jvm.args", b"-cp /elsewhere"),
                    F::File("etc/hosts", b"h"),
                ],
                env: &[],
                workdir: "/",
                argv: &[
                    "/opt/java/openjdk/bin/java",
                    "@/app/jvm.args",
                    "-javaagent:/nothere.jar",
                    "Main",
                ],
                keep: paths(&["/app/jvm.args", "/opt/java/openjdk/lib/modules"]),
                drop: paths(&["/etc/hosts"]),
                undecided: &["@/app/jvm.args", "--include /nothere.jar", "system folder"],
            },
            Case {
                name: "a launcher in /bin beside /lib/modules keeps no whole image",
                files: vec![
                    F::Elf("bin/java", &[]),
                    F::File("lib/modules", b"jimage"),
                    F::File("etc/hosts", b"h"),
                ],
                env: &[],
                workdir: "/",
                argv: &["/bin/java", "-version"],
                keep: vec![],
                drop: paths(&["/etc/hosts", "/lib/modules"]),
                undecided: &["system folder /"],
            },
        ];
        for case in cases {
            let flat = image(&case.files);
            let (plan, undecided) = run(&flat, case.env, case.workdir, case.argv, add);
            assert_outcome(
                case.name,
                &plan,
                &undecided,
                &case.keep,
                &case.drop,
                case.undecided,
            );
        }
    }
}
