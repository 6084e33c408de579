//! node: what Node.js loads by its own rules, and the files its arguments
//! name.
//!
//! Node finds JavaScript three ways the loader cannot see:
//! - **Built-in modules a distribution moved out of the binary.** Debian's
//!   `libnode` loads acorn, undici and cjs-module-lexer from
//!   `/usr/share/nodejs/…` and fails with `Cannot load externalized
//!   builtin` without them. Their paths are C strings in `libnode` (or
//!   `node`), and Debian's `node_relative_path` build setting (the global
//!   module folders below the prefix) is a line of the `process.config`
//!   JSON embedded next to them. `libnode` is tens of megabytes, too big to
//!   capture whole, so [`StringScanner`] reads those strings while the
//!   layers stream past, holding one line at a time.
//! - **Global module folders:** `$PREFIX/lib/node` (upstream; `PREFIX` is
//!   the folder above the real binary's `bin/`), or instead the folders of
//!   `node_relative_path` (Debian), `$HOME/.node_modules`,
//!   `$HOME/.node_libraries`, and `NODE_PATH`. npm's global folder
//!   (`/usr/local/lib/node_modules`, Alpine's `/usr/lib/node_modules`) is
//!   not among them: `require` never searches it unless `NODE_PATH` names
//!   it, so keeping it would keep npm and nothing the application loads.
//! - **The application:** the script (`node /app/server.js`, relative to
//!   the working directory, or a folder with `package.json` `main`), its
//!   folder and its package's (the nearest folder above with a
//!   `package.json`) unless system folders (files it requires), and the
//!   `node_modules` folder and `package.json` of every folder above it (the
//!   resolution `require` and `import` follow). Modules preloaded with
//!   `-r`/`--require`/`--import`/`--loader` (also from `NODE_OPTIONS`) are
//!   found the same way from the working directory.

use pare_elf::search::Root;
use pare_image::paths::file_name;
use pare_image::scan::{ContentScanner, FileScan, Finding};
use pare_image::tree::{FileTree, NodeKind};

use crate::interp::common::{is_system_folder, keep_loaded, lexical_absolute};
use crate::interp::{Context, Invocation, Undecided};
use crate::plan::Plan;
use crate::why::{Rule, Why};

/// A line of printable bytes longer than this is no path or setting Node
/// reads (Linux paths stop at 4096 bytes): skipped, not buffered.
const MAX_LINE: usize = 4096;
/// Strings kept from one binary at most (Debian's libnode has five
/// built-in paths): a hostile binary cannot make the finding grow.
const MAX_FOUND: usize = 64;
/// A `package.json` larger than this is not parsed for `main`.
const MAX_PACKAGE_JSON: usize = 1024 * 1024;
/// Extensions `require` tries after the exact name, in its order (and the
/// ES module ones a main script may have).
const EXTENSIONS: &[&str] = &[".js", ".json", ".node", ".mjs", ".cjs"];
/// Options whose value may be the next word (`--require x`); every other
/// option takes its value after `=` or none.
const VALUE_OPTIONS: &[&str] = &[
    "-r",
    "--require",
    "--import",
    "--loader",
    "--experimental-loader",
    "-e",
    "--eval",
    "-p",
    "--print",
    "-C",
    "--conditions",
    "--input-type",
    "--title",
    "--env-file",
    "--icu-data-dir",
    "--openssl-config",
    "--inspect-port",
    "--debug-port",
    "--redirect-warnings",
    "--unhandled-rejections",
    "--diagnostic-dir",
    "--report-dir",
    "--report-directory",
    "--report-filename",
    "--report-signal",
    "--heapsnapshot-signal",
    "--secure-heap",
    "--secure-heap-min",
    "--stack-trace-limit",
    "--disable-warning",
    "--dns-result-order",
    "--experimental-policy",
    "--policy-integrity",
    "--max-http-header-size",
    "--tls-cipher-list",
    "--cpu-prof-dir",
    "--cpu-prof-name",
    "--heap-prof-dir",
    "--heap-prof-name",
    "--trace-event-categories",
    "--trace-event-file-pattern",
    "--watch-path",
    "--experimental-default-type",
    "--max-old-space-size",
    "--max-semi-space-size",
    "--stack-size",
];
/// Options naming a module Node loads before the script.
const PRELOAD_OPTIONS: &[&str] = &[
    "-r",
    "--require",
    "--import",
    "--loader",
    "--experimental-loader",
];
/// Options naming a file or folder Node reads.
const FILE_OPTIONS: &[&str] = &[
    "--env-file",
    "--icu-data-dir",
    "--openssl-config",
    "--experimental-policy",
];

/// Whether a program's real file name is this interpreter.
pub fn is(name: &str) -> bool {
    matches!(name, "node" | "nodejs")
}

/// Files whose bytes this rule reads: an application's `package.json` (for
/// `main`). Those inside module folders are never read, so thousands of
/// them are not captured.
pub fn wants(path: &str) -> bool {
    file_name(path) == "package.json"
        && !path
            .split('/')
            .any(|c| c == "node_modules" || c == "nodejs")
}

/// What [`StringScanner`] read in a node binary or `libnode`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeStrings {
    /// Absolute paths of externalised built-in modules
    /// (`/usr/share/nodejs/acorn/dist/acorn.js`).
    pub builtins: Vec<String>,
    /// The global module folders relative to the prefix, from the embedded
    /// `"node_relative_path"` setting (`lib/x86_64-linux-gnu/nodejs`).
    pub relative_paths: Vec<String>,
}

impl NodeStrings {
    /// Takes what one line of printable bytes says, if anything.
    pub fn take(&mut self, line: &str) {
        let line = line.trim();
        if is_builtin_path(line) {
            if self.builtins.len() < MAX_FOUND && !self.builtins.iter().any(|b| b == line) {
                self.builtins.push(line.to_string());
            }
        } else if let Some(value) = setting(line, "node_relative_path") {
            for rel in value.split(':').filter(|r| is_relative_path(r)) {
                if self.relative_paths.len() < MAX_FOUND {
                    self.relative_paths.push(rel.to_string());
                }
            }
        }
    }

    /// What `bytes` hold, read as [`StringScanner`] reads a file.
    pub fn parse(bytes: &[u8]) -> NodeStrings {
        let mut scan = StringScan::default();
        scan.feed(bytes);
        scan.end_line();
        scan.found
    }
}

/// An absolute path to a `.js` file, as a C string holds it (no spaces,
/// quotes or format directives; nothing climbing with `..`).
fn is_builtin_path(line: &str) -> bool {
    line.len() > 4
        && line.starts_with('/')
        && line.ends_with(".js")
        && !line.contains(|c: char| c.is_whitespace() || "\"'%*?<>|\\".contains(c))
        && !line.split('/').any(|c| c == "..")
}

/// A relative path with no `..` (a module folder below the prefix).
fn is_relative_path(path: &str) -> bool {
    !path.is_empty() && !path.starts_with('/') && !path.split('/').any(|c| c == "..")
}

/// The string value of a `"key": "value",` line of embedded JSON.
fn setting<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line
        .strip_prefix('"')?
        .strip_prefix(key)?
        .strip_prefix('"')?;
    let value = rest.trim_start().strip_prefix(':')?.trim();
    let value = value.trim_end_matches(',').trim_end();
    value.strip_prefix('"')?.strip_suffix('"')
}

/// Reads [`NodeStrings`] from `libnode.so*` and executables named `node`
/// or `nodejs`: every file it picks gets a finding (maybe empty), so the
/// rule can tell "nothing there" from "never read".
pub struct StringScanner;

impl ContentScanner for StringScanner {
    fn start(&self, path: &str, _size: u64, mode: u32) -> Option<Box<dyn FileScan>> {
        let name = file_name(path);
        let wanted = name.starts_with("libnode.so") || (is(name) && mode & 0o111 != 0);
        wanted.then(|| Box::new(StringScan::default()) as Box<dyn FileScan>)
    }
}

/// One file's scan: the current line of printable bytes (at most
/// [`MAX_LINE`]) and what the lines so far said.
#[derive(Default)]
struct StringScan {
    line: Vec<u8>,
    /// The current line grew past [`MAX_LINE`]: skipped when it ends.
    long: bool,
    found: NodeStrings,
}

impl StringScan {
    fn end_line(&mut self) {
        if !self.long
            && let Ok(text) = std::str::from_utf8(&self.line)
        {
            self.found.take(text);
        }
        self.line.clear();
        self.long = false;
    }
}

impl FileScan for StringScan {
    fn feed(&mut self, bytes: &[u8]) -> bool {
        for &b in bytes {
            if (0x20..0x7f).contains(&b) || b == b'\t' {
                if self.line.len() < MAX_LINE {
                    self.line.push(b);
                } else {
                    self.long = true;
                }
            } else if !self.line.is_empty() || self.long {
                self.end_line();
            }
        }
        true
    }

    fn finish(mut self: Box<Self>) -> Option<Finding> {
        self.end_line();
        Some(Box::new(self.found) as Finding)
    }
}

/// What node's words ask for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeArgs {
    /// Modules loaded before the script: (option, module).
    pub preload: Vec<(String, String)>,
    /// Files and folders options name: (option, path).
    pub files: Vec<(String, String)>,
    /// The script, unless the code comes from `-e`/`-p`, stdin or a REPL.
    pub script: Option<String>,
}

/// Reads node's words: options (with values after `=` or, for
/// [`VALUE_OPTIONS`], as the next word) up to the script; what follows
/// the script is the script's.
pub fn parse_args(words: &[String]) -> NodeArgs {
    let mut out = NodeArgs::default();
    let mut eval = false;
    let mut i = 0;
    while let Some(word) = words.get(i) {
        i += 1;
        if word == "--" {
            out.script = words.get(i).cloned();
            break;
        }
        if word == "-" {
            break; // the script is stdin
        }
        if !word.starts_with('-') {
            out.script = Some(word.clone());
            break;
        }
        let (name, inline) = match word.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (word.as_str(), None),
        };
        let value = match inline {
            Some(v) => Some(v),
            None if VALUE_OPTIONS.contains(&name) => {
                i += 1;
                words.get(i - 1).cloned()
            }
            None => None,
        };
        match (name, value) {
            ("-e" | "--eval" | "-p" | "--print", _) => eval = true,
            (n, Some(v)) if PRELOAD_OPTIONS.contains(&n) => out.preload.push((n.into(), v)),
            (n, Some(v)) if FILE_OPTIONS.contains(&n) => out.files.push((n.into(), v)),
            _ => {}
        }
    }
    if eval {
        // With -e the words after the options are the code's arguments.
        out.script = None;
    }
    out
}

/// Keeps node's own module folders and what its arguments name.
pub fn add(cx: &Context<'_>, invocation: &Invocation, plan: &mut Plan) -> Vec<Undecided> {
    let mut undecided = Vec::new();
    let node = invocation.path.as_str();
    let mut say = |message: String| {
        undecided.push(Undecided {
            program: node.to_string(),
            message,
        })
    };
    let globals = add_library(cx, invocation, plan, &mut say);
    let options = cx
        .config
        .var("NODE_OPTIONS")
        .map(|o| o.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .unwrap_or_default();
    let from_env = parse_args(&options);
    let args = parse_args(&invocation.args);
    let tree = &cx.flat.tree;
    let before = plan.paths();
    for (option, module) in from_env.preload.iter().chain(&args.preload) {
        let argument = format!("{option} {module}");
        if !add_module(cx, node, module, &argument, &globals, plan) {
            say(format!(
                "{argument}: the module is not in the image; give --include with its folder"
            ));
        }
    }
    for (option, path) in from_env.files.iter().chain(&args.files) {
        let argument = format!("{option}={path}");
        let path = lexical_absolute(cx.workdir, path);
        if is_system_folder(&path) {
            say(format!(
                "{argument}: {path} is a system folder; give --include with what it needs"
            ));
            continue;
        }
        let why = Why::Rule(Rule::Argument {
            program: node.to_string(),
            argument,
        });
        plan.add_resolved(tree, &path, why);
    }
    match &args.script {
        Some(script) => match find_script(cx, &lexical_absolute(cx.workdir, script)) {
            Some(file) => add_app(cx, node, script, &file, plan),
            None => {
                let path = lexical_absolute(cx.workdir, script);
                say(format!(
                    "the script {script} is not in the image; give --include {path} if it \
                     comes at run time"
                ));
            }
        },
        // Code from -e or stdin requires from the working directory.
        None => add_search_path(cx, node, "the working directory", cx.workdir, plan),
    }
    // Native addons (`.node` files) are ELF objects that load libraries.
    let added: Vec<String> = plan
        .paths()
        .difference(&before)
        .filter(|p| p.ends_with(".node") && cx.root.elf(p).is_some())
        .cloned()
        .collect();
    keep_loaded(cx, plan, &added);
    undecided
}

/// Keeps the built-in modules and global module folders the node binary
/// and its `libnode` name; returns the global folders (absolute).
fn add_library(
    cx: &Context<'_>,
    invocation: &Invocation,
    plan: &mut Plan,
    say: &mut impl FnMut(String),
) -> Vec<String> {
    let tree = &cx.flat.tree;
    let interpreter = invocation.path.clone();
    let why = |what: &str| {
        Why::Rule(Rule::InterpreterLibrary {
            interpreter: interpreter.clone(),
            what: what.to_string(),
        })
    };
    let libnode: Vec<String> = plan
        .keep
        .keys()
        .filter(|p| file_name(p).starts_with("libnode.so") && is_file(tree, p))
        .cloned()
        .collect();
    let mut strings = NodeStrings::default();
    let mut read = false;
    for binary in std::iter::once(&invocation.real).chain(&libnode) {
        if let Some(found) = found_strings(cx, binary) {
            read = true;
            strings.builtins.extend(found.builtins.iter().cloned());
            strings
                .relative_paths
                .extend(found.relative_paths.iter().cloned());
        }
    }
    if !read && !libnode.is_empty() {
        say(format!(
            "could not read which built-in modules {} loads from files; give --include with \
             them (Debian: /usr/share/nodejs)",
            libnode[0]
        ));
    }
    for builtin in &strings.builtins {
        plan.add_resolved(tree, builtin, why("externalised built-in module"));
    }
    let prefix = prefix(&invocation.real);
    let mut globals: Vec<String> = if strings.relative_paths.is_empty() {
        vec![lexical_absolute(prefix, "lib/node")]
    } else {
        strings
            .relative_paths
            .iter()
            .map(|rel| lexical_absolute(prefix, rel))
            .collect()
    };
    if let Some(home) = home(cx) {
        globals.push(lexical_absolute(&home, ".node_modules"));
        globals.push(lexical_absolute(&home, ".node_libraries"));
    }
    for folder in &globals {
        plan.add_resolved(tree, folder, why("global module folder"));
    }
    let node_path = cx.config.var("NODE_PATH").unwrap_or_default();
    for folder in node_path.split(':').filter(|f| !f.is_empty()) {
        let folder = lexical_absolute(cx.workdir, folder);
        // `NODE_PATH=/usr/lib` would keep a whole system folder.
        if is_system_folder(&folder) {
            say(format!(
                "NODE_PATH names the system folder {folder}; give --include with the modules"
            ));
            continue;
        }
        plan.add_resolved(tree, &folder, why("NODE_PATH folder"));
        globals.push(folder);
    }
    globals
}

/// What the scanner read in the file at `path` (absolute, real).
fn found_strings<'a>(cx: &Context<'a>, path: &str) -> Option<&'a NodeStrings> {
    let node = cx.flat.tree.get(path.trim_start_matches('/'))?;
    let NodeKind::File(id) = node.kind else {
        return None;
    };
    cx.flat.found::<NodeStrings>(id)
}

/// The prefix of a node binary at real path `real`: the folder above its
/// `bin/` (`/usr/local/bin/node` → `/usr/local`), as Node computes it from
/// `process.execPath`.
fn prefix(real: &str) -> &str {
    let parent = pare_image::paths::parent(real);
    let above = pare_image::paths::parent(parent);
    if above.is_empty() { "/" } else { above }
}

/// The home folder Node's global paths start from: `HOME`, else root's
/// when the image runs as root.
fn home(cx: &Context<'_>) -> Option<String> {
    if let Some(home) = cx.config.var("HOME").filter(|h| h.starts_with('/')) {
        return Some(home.to_string());
    }
    let user = cx.config.user.as_deref().unwrap_or_default();
    matches!(user, "" | "root" | "0" | "0:0" | "root:root").then(|| "/root".to_string())
}

/// The file Node runs for the script path `path` (absolute): the file, the
/// file with one of [`EXTENSIONS`], or a folder's `package.json` `main`
/// or `index` file, as `Module._findPath` tries them.
fn find_script(cx: &Context<'_>, path: &str) -> Option<String> {
    let tree = &cx.flat.tree;
    if let Some(file) = with_extensions(tree, path) {
        return Some(file);
    }
    if !is_dir(tree, path) {
        return None;
    }
    let package = format!("{}/package.json", path.trim_end_matches('/'));
    let main = cx
        .flat
        .read(package.trim_start_matches('/'))
        .ok()
        .flatten()
        .and_then(|bytes| package_main(&bytes));
    if let Some(main) = main {
        let main = lexical_absolute(path.trim_start_matches('/'), &main);
        if let Some(file) = with_extensions(tree, &main) {
            return Some(file);
        }
        if let Some(file) = index(tree, &main) {
            return Some(file);
        }
    }
    index(tree, path)
}

/// `path` or `path` with one of [`EXTENSIONS`], if a file.
fn with_extensions(tree: &FileTree, path: &str) -> Option<String> {
    std::iter::once(String::new())
        .chain(EXTENSIONS.iter().map(|e| e.to_string()))
        .map(|ext| format!("{path}{ext}"))
        .find(|p| is_file(tree, p))
}

/// A folder's `index.js` (or `.json`, `.node`).
fn index(tree: &FileTree, dir: &str) -> Option<String> {
    ["index.js", "index.json", "index.node"]
        .iter()
        .map(|name| format!("{}/{name}", dir.trim_end_matches('/')))
        .find(|p| is_file(tree, p))
}

/// The `main` of a `package.json` (untrusted: bounded, and only a plain
/// relative or absolute path).
pub fn package_main(bytes: &[u8]) -> Option<String> {
    if bytes.len() > MAX_PACKAGE_JSON {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let main = json.get("main")?.as_str()?.trim();
    (!main.is_empty() && !main.contains('\0') && main.len() <= MAX_LINE).then(|| main.to_string())
}

/// Keeps the script `file` (found for the word `script`), its folder
/// unless a system folder, and its module search path.
fn add_app(cx: &Context<'_>, node: &str, script: &str, file: &str, plan: &mut Plan) {
    let tree = &cx.flat.tree;
    let why = Why::Rule(Rule::Argument {
        program: node.to_string(),
        argument: script.to_string(),
    });
    plan.add_resolved(tree, file, why.clone());
    // Node runs the real path of the main module: `require('./x')` and the
    // module search start from its folder.
    let real = tree
        .resolve(file.trim_start_matches('/'), true)
        .map(|r| format!("/{r}"))
        .unwrap_or_else(|_| file.to_string());
    let folder = parent(&real);
    if !is_system_folder(&folder) {
        plan.add_resolved(tree, &folder, why.clone());
    }
    // The package the script belongs to (`node src/index.js` requiring
    // `../config/x.json`): the nearest folder above with a package.json.
    let package = ancestors(&folder)
        .into_iter()
        .take_while(|f| !is_system_folder(f) && file_name(f) != "node_modules")
        .find(|f| is_file(tree, &join(f, "package.json")));
    if let Some(package) = package {
        plan.add_resolved(tree, &package, why);
    }
    add_search_path(cx, node, script, &folder, plan);
}

/// Keeps the `node_modules` folder and `package.json` of `dir` and every
/// folder above it: where `require` and `import` look, and the package
/// scopes (`"type"`, `"exports"`) Node reads on the way.
fn add_search_path(cx: &Context<'_>, node: &str, from: &str, dir: &str, plan: &mut Plan) {
    let tree = &cx.flat.tree;
    let why = Why::Rule(Rule::InterpreterLibrary {
        interpreter: node.to_string(),
        what: format!("module search path (from {from})"),
    });
    for folder in ancestors(dir) {
        if file_name(&folder) != "node_modules" {
            plan.add_resolved(tree, &join(&folder, "node_modules"), why.clone());
        }
        plan.add_resolved(tree, &join(&folder, "package.json"), why.clone());
    }
}

/// Keeps a preloaded module: a path (relative to the working directory)
/// as a script, a package name as the `node_modules` folder (or global
/// folder) that has it. False when nothing is found.
fn add_module(
    cx: &Context<'_>,
    node: &str,
    module: &str,
    argument: &str,
    globals: &[String],
    plan: &mut Plan,
) -> bool {
    let tree = &cx.flat.tree;
    let module = module.strip_prefix("file://").unwrap_or(module);
    if module.starts_with("node:") {
        return true; // built into node
    }
    if module.starts_with('/') || module.starts_with("./") || module.starts_with("../") {
        let Some(file) = find_script(cx, &lexical_absolute(cx.workdir, module)) else {
            return false;
        };
        add_app(cx, node, argument, &file, plan);
        return true;
    }
    let Some(package) = package_name(module) else {
        return false;
    };
    let why = Why::Rule(Rule::Argument {
        program: node.to_string(),
        argument: argument.to_string(),
    });
    let folders = ancestors(cx.workdir)
        .into_iter()
        .filter(|f| file_name(f) != "node_modules")
        .map(|f| join(&f, "node_modules"))
        .chain(globals.iter().cloned());
    for folder in folders {
        if exists(tree, &join(&folder, package)) {
            // The whole folder: the module requires its own dependencies,
            // installed beside it.
            plan.add_resolved(tree, &folder, why);
            return true;
        }
    }
    false
}

/// The package a bare specifier names: `x` of `x/y`, `@s/x` of `@s/x/y`.
fn package_name(spec: &str) -> Option<&str> {
    let mut parts = spec.splitn(3, '/');
    let first = parts.next().filter(|p| !p.is_empty() && *p != "..")?;
    if first.starts_with('@') {
        let second = parts.next().filter(|p| !p.is_empty() && *p != "..")?;
        return Some(&spec[..first.len() + 1 + second.len()]);
    }
    Some(first)
}

/// `dir` and every folder above it, up to `/`.
fn ancestors(dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = format!("/{}", dir.trim_matches('/'));
    loop {
        out.push(at.clone());
        if at == "/" {
            return out;
        }
        at = parent(&at);
    }
}

/// The parent folder of an absolute path (`/` for top-level names).
fn parent(path: &str) -> String {
    match path.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) | None => "/".into(),
        Some((dir, _)) => dir.into(),
    }
}

/// `dir/name` for an absolute `dir`.
fn join(dir: &str, name: &str) -> String {
    format!("{}/{name}", dir.trim_end_matches('/'))
}

fn exists(tree: &FileTree, path: &str) -> bool {
    tree.resolve(path.trim_start_matches('/'), true)
        .is_ok_and(|p| tree.get(&p).is_some())
}

fn is_file(tree: &FileTree, path: &str) -> bool {
    tree.resolve(path.trim_start_matches('/'), true)
        .ok()
        .and_then(|p| tree.get(&p).map(|n| matches!(n.kind, NodeKind::File(_))))
        .unwrap_or(false)
}

fn is_dir(tree: &FileTree, path: &str) -> bool {
    tree.resolve(path.trim_start_matches('/'), true)
        .ok()
        .and_then(|p| tree.get(&p).map(|n| n.is_dir()))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::testimage::{F, assert_outcome, image, run, with_finding};

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn strings_are_read_from_libnode_bytes_whatever_the_chunks() {
        let mut bytes =
            b"\x7fELF\x02\x01\0\0Cannot load externalized builtin: \"%s:%s\".\0".to_vec();
        bytes.extend_from_slice(b"/usr/share/nodejs/acorn/dist/acorn.js\0\x01");
        bytes.extend_from_slice(b"/usr/share/nodejs/undici/undici-fetch.js\0");
        // Hostile or irrelevant strings: climbing, spaces, a format.
        bytes.extend_from_slice(b"/usr/share/../../etc/x.js\0/a b.js\0/%s.js\0.js\0");
        // A line too long to be a path, then the embedded config.
        bytes.extend(std::iter::repeat_n(b'a', MAX_LINE + 10));
        bytes.extend_from_slice(b"/usr/too/long.js\0");
        bytes.extend_from_slice(
            b"{\n  \"node_prefix\": \"/usr\",\n  \"node_relative_path\": \
              \"lib/x86_64-linux-gnu/nodejs:share/nodejs:/abs:../up\",\n}\0",
        );
        let want = NodeStrings {
            builtins: words(&[
                "/usr/share/nodejs/acorn/dist/acorn.js",
                "/usr/share/nodejs/undici/undici-fetch.js",
            ]),
            relative_paths: words(&["lib/x86_64-linux-gnu/nodejs", "share/nodejs"]),
        };
        assert_eq!(NodeStrings::parse(&bytes), want);
        for chunk in [1, 7, 4096] {
            let mut scan = StringScanner
                .start("usr/lib/libnode.so.108", bytes.len() as u64, 0o644)
                .unwrap();
            for piece in bytes.chunks(chunk) {
                scan.feed(piece);
            }
            let found = scan.finish().unwrap();
            assert_eq!(found.downcast_ref::<NodeStrings>(), Some(&want), "{chunk}");
        }
        // Only node binaries and libnode are read.
        for (path, mode, read) in [
            ("usr/bin/node", 0o755, true),
            ("usr/local/bin/nodejs", 0o755, true),
            ("usr/share/doc/node", 0o644, false),
            ("usr/lib/x86_64-linux-gnu/libnode.so.108", 0o644, true),
            ("usr/lib/libnodes.so", 0o755, false),
        ] {
            assert_eq!(
                StringScanner.start(path, 10, mode).is_some(),
                read,
                "{path}"
            );
        }
    }

    #[test]
    fn arguments_name_the_script_and_preloads() {
        let pre = |o: &str, m: &str| (o.to_string(), m.to_string());
        let cases: Vec<(&str, &[&str], NodeArgs)> = vec![
            (
                "a script and its own arguments",
                &["/app/server.js", "-r", "x"],
                NodeArgs {
                    script: Some("/app/server.js".into()),
                    ..NodeArgs::default()
                },
            ),
            (
                "options before the script, with values after = or apart",
                &[
                    "--max-old-space-size=512",
                    "--max-old-space-size",
                    "512",
                    "-r",
                    "dotenv/config",
                    "--require=./setup.js",
                    "--import",
                    "tsx",
                    "--experimental-vm-modules",
                    "--env-file=.env",
                    "server.js",
                ],
                NodeArgs {
                    preload: vec![
                        pre("-r", "dotenv/config"),
                        pre("--require", "./setup.js"),
                        pre("--import", "tsx"),
                    ],
                    files: vec![pre("--env-file", ".env")],
                    script: Some("server.js".into()),
                },
            ),
            (
                "-- ends the options",
                &["--", "-weird.js"],
                NodeArgs {
                    script: Some("-weird.js".into()),
                    ..NodeArgs::default()
                },
            ),
            (
                "eval has no script",
                &["-e", "require('x')", "arg"],
                NodeArgs::default(),
            ),
            ("stdin has no script", &["-", "arg"], NodeArgs::default()),
            ("a value missing at the end", &["-r"], NodeArgs::default()),
        ];
        for (case, args, want) in cases {
            assert_eq!(parse_args(&words(args)), want, "{case}");
        }
    }

    #[test]
    fn only_applications_package_json_is_captured() {
        // Module folders hold thousands (and the hostile corpus 64 MiB
        // ones): never captured, never read.
        for (path, wanted) in [
            ("app/package.json", true),
            ("home/node/app/package.json", true),
            ("app/node_modules/x/package.json", false),
            ("usr/lib/node_modules/p1/package.json", false),
            ("usr/share/nodejs/acorn/package.json", false),
            ("app/package.json.bak", false),
        ] {
            assert_eq!(wants(path), wanted, "{path}");
        }
    }

    #[test]
    fn package_main_is_read_from_untrusted_json() {
        for (json, main) in [
            (
                &br#"{"name":"app","main":"src/main.js"}"#[..],
                Some("src/main.js"),
            ),
            (br#"{"main":""}"#, None),
            (br#"{"main":["x"]}"#, None),
            (br#"{"main":"a\u0000b"}"#, None),
            (b"not json", None),
            (&[b'['; 100_000][..], None),
        ] {
            assert_eq!(package_main(json).as_deref(), main);
        }
    }

    /// One layout: its files, what the scanner read in which binary, the
    /// environment, working directory and argv; what must be kept, what
    /// must not, and words each undecided line holds.
    struct Case {
        name: &'static str,
        files: Vec<F>,
        strings: Vec<(&'static str, NodeStrings)>,
        env: &'static [&'static str],
        workdir: &'static str,
        argv: &'static [&'static str],
        keep: &'static [&'static str],
        drop: &'static [&'static str],
        undecided: &'static [&'static str],
    }

    fn debian_strings() -> NodeStrings {
        NodeStrings {
            builtins: words(&[
                "/usr/share/nodejs/acorn/dist/acorn.js",
                "/usr/share/nodejs/cjs-module-lexer/lexer.js",
            ]),
            relative_paths: words(&["lib/x86_64-linux-gnu/nodejs", "share/nodejs"]),
        }
    }

    fn debian() -> Vec<F> {
        vec![
            F::Elf("usr/bin/node", &["libnode.so.108"]),
            F::Link("usr/bin/nodejs", "node"),
            F::Elf("usr/lib/x86_64-linux-gnu/libnode.so.108", &[]),
            F::File("usr/share/nodejs/acorn/dist/acorn.js", b"acorn"),
            F::File("usr/share/nodejs/acorn/package.json", b"{}"),
            F::File("usr/share/nodejs/cjs-module-lexer/lexer.js", b"lexer"),
            F::File("usr/share/doc/nodejs/README", b"doc"),
            F::File("app/server.js", b"require('./lib/db')"),
            F::File("app/lib/db.js", b"db"),
            F::File("app/package.json", br#"{"main":"server.js"}"#),
            F::File("app/node_modules/express/index.js", b"express"),
            F::File("node_modules/shared/index.js", b"shared"),
            F::File("srv/other/x.js", b"x"),
        ]
    }

    #[test]
    fn node_keeps_its_modules_and_the_application_in_each_layout() {
        let cases = vec![
            Case {
                name: "Debian: builtins and global folders from libnode's strings",
                files: debian(),
                strings: vec![
                    ("usr/bin/node", NodeStrings::default()),
                    ("usr/lib/x86_64-linux-gnu/libnode.so.108", debian_strings()),
                ],
                env: &[],
                workdir: "/",
                argv: &["/usr/bin/nodejs", "/app/server.js"],
                keep: &[
                    "/usr/share/nodejs/acorn/dist/acorn.js",
                    "/usr/share/nodejs/cjs-module-lexer/lexer.js",
                    "/usr/share/nodejs/acorn/package.json",
                    "/app/server.js",
                    "/app/lib/db.js",
                    "/app/package.json",
                    "/app/node_modules/express/index.js",
                    "/node_modules/shared/index.js",
                ],
                drop: &["/usr/share/doc/nodejs/README", "/srv/other/x.js"],
                undecided: &[],
            },
            Case {
                name: "Debian: a libnode nobody read is said",
                files: debian(),
                strings: vec![],
                env: &[],
                workdir: "/",
                argv: &["/usr/bin/node", "/app/server.js"],
                keep: &["/app/server.js"],
                drop: &["/usr/share/nodejs/acorn/dist/acorn.js"],
                undecided: &["libnode.so.108", "--include"],
            },
            Case {
                name: "Alpine: a relative script, npm's folder left out",
                files: vec![
                    F::Elf("usr/bin/node", &[]),
                    F::File("usr/lib/node_modules/npm/index.js", b"npm"),
                    F::File("usr/lib/node/global.js", b"g"),
                    F::File("srv/app/server.js", b"s"),
                    F::File("srv/app/routes.js", b"r"),
                ],
                strings: vec![("usr/bin/node", NodeStrings::default())],
                env: &[],
                workdir: "/srv/app",
                argv: &["/usr/bin/node", "server"],
                keep: &[
                    "/srv/app/server.js",
                    "/srv/app/routes.js",
                    "/usr/lib/node/global.js",
                ],
                drop: &["/usr/lib/node_modules/npm/index.js"],
                undecided: &[],
            },
            Case {
                name: "/usr/local: node . with package.json main, -r, NODE_PATH, HOME",
                files: vec![
                    F::Elf("usr/local/bin/node", &[]),
                    F::File("usr/local/lib/node_modules/npm/index.js", b"npm"),
                    F::File("app/package.json", br#"{"main":"src/main"}"#),
                    F::File("app/src/main.js", b"m"),
                    F::File("app/config/default.json", b"{}"),
                    F::File("app/node_modules/dotenv/config.js", b"d"),
                    F::File("app/node_modules/dotenv/package.json", b"{}"),
                    F::File("opt/mods/x.js", b"x"),
                    F::File("home/node/.node_modules/y.js", b"y"),
                    F::File("app/.env", b"A=1"),
                ],
                strings: vec![("usr/local/bin/node", NodeStrings::default())],
                env: &[
                    "NODE_PATH=/opt/mods:",
                    "HOME=/home/node",
                    "NODE_OPTIONS=--require dotenv/config",
                ],
                workdir: "/app",
                argv: &["/usr/local/bin/node", "--env-file=.env", "."],
                keep: &[
                    "/app/src/main.js",
                    "/app/config/default.json",
                    "/app/package.json",
                    "/app/node_modules/dotenv/config.js",
                    "/opt/mods/x.js",
                    "/home/node/.node_modules/y.js",
                    "/app/.env",
                ],
                drop: &["/usr/local/lib/node_modules/npm/index.js"],
                undecided: &[],
            },
            Case {
                name: "a script in a system folder is kept alone",
                files: vec![
                    F::Elf("usr/local/bin/node", &[]),
                    F::File("usr/local/bin/tool.js", b"t"),
                    F::File("usr/local/bin/other", b"o"),
                ],
                strings: vec![("usr/local/bin/node", NodeStrings::default())],
                env: &[],
                workdir: "/",
                argv: &["/usr/local/bin/node", "/usr/local/bin/tool.js"],
                keep: &["/usr/local/bin/tool.js"],
                drop: &["/usr/local/bin/other"],
                undecided: &[],
            },
            Case {
                name: "what is not there, or a system folder, is said, naming --include",
                files: vec![
                    F::Elf("usr/local/bin/node", &[]),
                    F::File("usr/lib/os-release", b"ID=x"),
                ],
                strings: vec![("usr/local/bin/node", NodeStrings::default())],
                env: &["NODE_PATH=/usr/lib"],
                workdir: "/app",
                argv: &[
                    "/usr/local/bin/node",
                    "--icu-data-dir=/",
                    "-r",
                    "missing-mod",
                    "nothere.js",
                ],
                keep: &[],
                drop: &["/usr/lib/os-release"],
                undecided: &[
                    "missing-mod",
                    "--include /app/nothere.js",
                    "NODE_PATH names the system folder /usr/lib",
                    "--icu-data-dir=/: / is a system folder",
                ],
            },
        ];
        for case in cases {
            let mut flat = image(&case.files);
            for (path, strings) in case.strings {
                with_finding(&mut flat, path, Box::new(strings));
            }
            let (plan, undecided) = run(&flat, case.env, case.workdir, case.argv, add);
            assert_outcome(
                case.name,
                &plan,
                &undecided,
                case.keep,
                case.drop,
                case.undecided,
            );
        }
    }
}
