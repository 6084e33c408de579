//! ruby: its library (`rubylibdir`, `rubyarchdir`, site and vendor
//! folders, gems) and the script it runs.
//!
//! ruby compiles its folders in (`RbConfig`); they are read from the
//! absolute paths among the strings of the binary and the `libruby` it
//! links that name folders of the image, and completed from the layout
//! every build shares: `PREFIX/lib/ruby/X.Y.0` (PREFIX the folder above the
//! real binary's; `X.Y` from the binary's name, `ruby3.1`, or its
//! `libruby`), the arch folder beside `libruby` (Debian's
//! `/usr/lib/x86_64-linux-gnu/ruby/3.1.0`), the gem folders, and what
//! `GEM_HOME`, `GEM_PATH`, `BUNDLE_PATH`, `BUNDLE_APP_CONFIG`, `RUBYLIB` and
//! `-I` name.

use pare_elf::search::Root;

use crate::interp::common;
use crate::interp::{Context, Invocation, Undecided};
use crate::plan::Plan;
use crate::why::{Rule, Why};

/// Whether a program's real file name is this interpreter: `ruby`,
/// `ruby3.1`.
pub fn is(name: &str) -> bool {
    name.strip_prefix("ruby")
        .is_some_and(|v| v.is_empty() || is_version(v))
}

/// Digits and dots, starting with a digit.
fn is_version(v: &str) -> bool {
    v.starts_with(|c: char| c.is_ascii_digit()) && v.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// Files whose bytes this rule reads: ruby's binaries and `libruby` (for
/// the folders compiled in).
pub fn wants(path: &str) -> bool {
    let name = pare_image::paths::file_name(path);
    let in_bin = pare_image::paths::file_name(pare_image::paths::parent(path)).ends_with("bin");
    (in_bin && is(name)) || name.starts_with("libruby")
}

/// What ruby's command line says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Args {
    /// The script, unless the program comes from `-e` or standard input.
    pub script: Option<String>,
    /// `-S`: the script is looked up in `PATH`.
    pub script_in_path: bool,
    /// `-C DIR`: the folder ruby changes to before reading the script.
    pub chdir: Option<String>,
    /// `-I` folders.
    pub include: Vec<String>,
}

/// Parses ruby's command line (the words after `argv[0]`): switches may
/// be bundled (`-wd`); `-e`, `-I`, `-r`, `-C` and `-E` take the rest of
/// the word or the next one; `-x`, `-W`, `-T`, `-0`, `-F`, `-K` and `-l`
/// the rest of the word; long options (`--enable=…`) stand alone.
pub fn parse_args(args: &[String]) -> Args {
    let mut out = Args::default();
    let mut code = false;
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        if arg == "--" {
            out.script = args.get(i + 1).cloned();
            break;
        }
        if arg == "-" {
            break;
        }
        if arg.starts_with("--") {
            i += 1;
            continue;
        }
        let Some(switches) = arg.strip_prefix('-') else {
            out.script = Some(arg.clone());
            break;
        };
        for (at, switch) in switches.char_indices() {
            let rest = &switches[at + switch.len_utf8()..];
            match switch {
                'e' | 'I' | 'r' | 'C' | 'E' => {
                    let value = if rest.is_empty() {
                        i += 1;
                        args.get(i).cloned()
                    } else {
                        Some(rest.to_string())
                    };
                    match switch {
                        'e' => code = true,
                        'I' => out.include.extend(value),
                        'C' => out.chdir = value,
                        _ => {}
                    }
                    break;
                }
                'x' | 'W' | 'T' | '0' | 'F' | 'K' | 'l' => break,
                'S' => out.script_in_path = true,
                _ => {}
            }
        }
        i += 1;
    }
    if code {
        out.script = None;
    }
    out
}

/// `3.1` from a binary's name (`ruby3.1`).
pub fn version_of_name(name: &str) -> Option<String> {
    let v = name.strip_prefix("ruby")?;
    (is_version(v) && v.contains('.')).then(|| major_minor(v))
}

/// `3.1` from the `libruby` a binary links: Debian's `libruby3.1.so.3.1`,
/// `libruby-3.1.so`, or the plain `libruby.so.3.2` of Alpine and of builds
/// from source.
pub fn version_of_needed(needed: &[String]) -> Option<String> {
    needed.iter().find_map(|lib| {
        let rest = lib.strip_prefix("libruby")?;
        let rest = rest.trim_start_matches('-');
        let v = match rest.strip_prefix(".so.") {
            Some(after) => after,
            None => rest.split(".so").next()?,
        };
        (is_version(v) && v.contains('.')).then(|| major_minor(v))
    })
}

/// `3.1` of `3.1.2`.
fn major_minor(v: &str) -> String {
    v.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// The `X.Y.0` folder names in a listing.
fn api_versions(names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|n| n.ends_with(".0") && n.split('.').count() == 3 && is_version(n))
        .cloned()
        .collect()
}

/// The folders ruby's library lives in, for a binary whose prefix is
/// `prefix`, linking a `libruby` in the folder `libdir` (if any), of API
/// version `api` (`3.1.0`).
pub fn library_folders(prefix: &str, libdir: Option<&str>, api: &str) -> Vec<String> {
    let prefix = prefix.trim_end_matches('/');
    let mut out = vec![
        format!("{prefix}/lib/ruby/{api}"),
        format!("{prefix}/lib/ruby/site_ruby"),
        format!("{prefix}/lib/ruby/vendor_ruby"),
        format!("{prefix}/lib/ruby/gems/{api}"),
        // Debian: `gem install`'s folder and the packaged gems.
        format!("/var/lib/gems/{api}"),
        format!("{prefix}/share/rubygems-integration"),
    ];
    if let Some(libdir) = libdir {
        for under in [
            format!("ruby/{api}"),
            "ruby/vendor_ruby".to_string(),
            "ruby/site_ruby".to_string(),
            format!("rubygems-integration/{api}"),
        ] {
            out.push(format!("{libdir}/{under}"));
        }
    }
    out
}

/// Keeps the interpreter's library and what its arguments name.
pub fn add(cx: &Context<'_>, invocation: &Invocation, plan: &mut Plan) -> Vec<Undecided> {
    let args = parse_args(&invocation.args);
    let program = invocation.real.as_str();
    let mut undecided = Vec::new();
    let mut objects = Vec::new();
    let why = |what: String| {
        Why::Rule(Rule::InterpreterLibrary {
            interpreter: program.to_string(),
            what,
        })
    };
    let keep_all = |_: &str| false;
    let prefix = common::folder(common::folder(program));
    let needed = cx.root.elf(program).map(|i| i.needed).unwrap_or_default();
    let libruby = needed
        .iter()
        .filter(|l| l.starts_with("libruby"))
        .find_map(|l| cx.loader.dlopen(l, program).map(|(real, ..)| real));
    let version = version_of_name(pare_image::paths::file_name(program))
        .or_else(|| version_of_needed(&needed));
    let apis = match &version {
        Some(v) => vec![format!("{v}.0")],
        None => api_versions(&common::list(cx, &format!("{prefix}/lib/ruby"))),
    };
    let mut folders: Vec<String> = compiled_folders(cx, program, libruby.as_deref());
    for api in &apis {
        let libdir = libruby.as_deref().map(common::folder);
        folders.extend(library_folders(prefix, libdir, api));
    }
    let mut kept_library = false;
    let mut seen = Vec::new();
    for dir in folders {
        if seen.contains(&dir) {
            continue;
        }
        let what = format!("library (prefix {prefix})");
        kept_library |= common::keep_folder(cx, plan, &dir, &why(what), &keep_all, &mut objects);
        seen.push(dir);
    }
    if !kept_library {
        undecided.push(Undecided {
            program: program.to_string(),
            message: format!(
                "no rubylibdir (lib/ruby/X.Y.0) under {prefix} nor in the binary; keep ruby's \
                 library with --include PATH"
            ),
        });
    }
    for var in [
        "GEM_HOME",
        "GEM_PATH",
        "BUNDLE_PATH",
        "BUNDLE_APP_CONFIG",
        "RUBYLIB",
    ] {
        for dir in common::path_list(cx.config.var(var)) {
            let dir = common::absolute(cx.workdir, dir);
            let what = format!("{var} entry");
            common::keep_folder(cx, plan, &dir, &why(what), &keep_all, &mut objects);
        }
    }
    let workdir = match &args.chdir {
        Some(dir) => common::absolute(cx.workdir, dir),
        None => cx.workdir.to_string(),
    };
    for dir in &args.include {
        let dir = common::absolute(&workdir, dir);
        let why = Why::Rule(Rule::Argument {
            program: program.to_string(),
            argument: format!("-I{dir}"),
        });
        common::keep_folder(cx, plan, &dir, &why, &keep_all, &mut objects);
    }
    if let Some(script) = &args.script {
        // The word as written unless `-S` or `-C` move it.
        let script = if args.script_in_path {
            crate::entry::find(cx.root, script, cx.path, &workdir).unwrap_or(script.clone())
        } else if args.chdir.is_some() {
            common::absolute(&workdir, script)
        } else {
            script.clone()
        };
        undecided.extend(common::keep_script(cx, program, &script, plan));
    }
    common::keep_loaded(cx, plan, &objects);
    undecided
}

/// The folders compiled into the binary and its `libruby` that exist.
fn compiled_folders(cx: &Context<'_>, program: &str, libruby: Option<&str>) -> Vec<String> {
    let bytes: Vec<_> = [Some(program), libruby]
        .into_iter()
        .flatten()
        .filter_map(|b| cx.flat.read(b.trim_start_matches('/')).ok().flatten())
        .collect();
    let mut out: Vec<String> = Vec::new();
    for bytes in &bytes {
        for path in common::binary_paths(bytes) {
            let path = path.to_string();
            if path.contains("ruby") && !out.contains(&path) && common::is_dir(cx, &path) {
                out.push(path);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn interpreter_names_and_versions() {
        for (name, want) in [
            ("ruby", true),
            ("ruby3.1", true),
            ("ruby-3.1", false),
            ("rubocop", false),
        ] {
            assert_eq!(is(name), want, "{name}");
        }
        assert_eq!(version_of_name("ruby3.1").as_deref(), Some("3.1"));
        assert_eq!(version_of_name("ruby"), None);
        for (lib, want) in [
            ("libruby3.1.so.3.1", Some("3.1")),
            ("libruby-3.1.so", Some("3.1")),
            ("libruby.so.3.2", Some("3.2")),
            ("libruby.so.3.2.2", Some("3.2")),
            ("libruby.so", None),
            ("libc.so.6", None),
        ] {
            assert_eq!(version_of_needed(&words(&[lib])).as_deref(), want, "{lib}");
        }
    }

    #[test]
    fn arguments_say_what_runs() {
        /// What it proves, the words, the script, -I folders, -C folder.
        type Case<'a> = (
            &'a str,
            &'a [&'a str],
            Option<&'a str>,
            &'a [&'a str],
            Option<&'a str>,
        );
        let table: &[Case] = &[
            (
                "a script",
                &["/app/app.rb", "a"],
                Some("/app/app.rb"),
                &[],
                None,
            ),
            ("-w", &["-w", "app.rb"], Some("app.rb"), &[], None),
            (
                "-I and -r",
                &["-Ilib", "-r", "json", "app.rb"],
                Some("app.rb"),
                &["lib"],
                None,
            ),
            (
                "-C",
                &["-C", "/srv", "app.rb"],
                Some("app.rb"),
                &[],
                Some("/srv"),
            ),
            ("-e", &["-e", "puts 1"], None, &[], None),
            (
                "long options",
                &["--disable=gems", "--jit", "app.rb"],
                Some("app.rb"),
                &[],
                None,
            ),
            ("-W level", &["-W0", "app.rb"], Some("app.rb"), &[], None),
        ];
        for (case, args, script, include, chdir) in table {
            let got = parse_args(&words(args));
            assert_eq!(got.script.as_deref(), *script, "{case}");
            assert_eq!(got.include, words(include), "{case}");
            assert_eq!(got.chdir.as_deref(), *chdir, "{case}");
        }
        assert!(parse_args(&words(&["-S", "rake"])).script_in_path);
    }

    #[test]
    fn folders_of_each_layout() {
        let debian = library_folders("/usr", Some("/usr/lib/x86_64-linux-gnu"), "3.1.0");
        for dir in [
            "/usr/lib/ruby/3.1.0",
            "/usr/lib/x86_64-linux-gnu/ruby/3.1.0",
            "/usr/lib/ruby/vendor_ruby",
            "/var/lib/gems/3.1.0",
            "/usr/share/rubygems-integration",
        ] {
            assert!(debian.iter().any(|d| d == dir), "{dir} in {debian:?}");
        }
        let local = library_folders("/usr/local", Some("/usr/local/lib"), "3.2.0");
        for dir in [
            "/usr/local/lib/ruby/3.2.0",
            "/usr/local/lib/ruby/gems/3.2.0",
        ] {
            assert!(local.iter().any(|d| d == dir), "{dir} in {local:?}");
        }
        assert_eq!(
            api_versions(&words(&["3.2.0", "site_ruby", "gems", "3.1", "x.0"])),
            ["3.2.0"]
        );
    }

    const DEBIAN: &[(&str, &str)] = &[
        ("usr/bin/ruby", "-> ruby3.1"),
        (
            "usr/bin/ruby3.1",
            "\0/usr/lib/x86_64-linux-gnu/ruby/3.1.0\0/usr/lib/ruby/3.1.0\0",
        ),
        ("usr/lib/ruby/3.1.0/json.rb", "x"),
        ("usr/lib/ruby/2.7.0/old.rb", "x"),
        ("usr/lib/x86_64-linux-gnu/ruby/3.1.0/socket.so", "x"),
        (
            "usr/lib/ruby/vendor_ruby/rubygems/defaults/operating_system.rb",
            "x",
        ),
        ("var/lib/gems/3.1.0/gems/sinatra-3.0/lib/sinatra.rb", "x"),
        (
            "usr/share/rubygems-integration/all/specifications/rack.gemspec",
            "x",
        ),
        ("app/app.rb", "x"),
        ("app/views/index.erb", "x"),
    ];

    const ALPINE: &[(&str, &str)] = &[
        ("usr/bin/ruby", "x"),
        ("usr/lib/ruby/3.2.0/json.rb", "x"),
        ("usr/lib/ruby/3.2.0/x86_64-linux-musl/socket.so", "x"),
        ("usr/lib/ruby/gems/3.2.0/gems/rack/lib/rack.rb", "x"),
        ("srv/config.ru", "x"),
    ];

    const LOCAL: &[(&str, &str)] = &[
        ("usr/local/bin/ruby", "x"),
        ("usr/local/lib/ruby/3.2.0/json.rb", "x"),
        ("usr/local/lib/ruby/site_ruby/3.2.0/x.rb", "x"),
        ("usr/local/bundle/gems/rack-3.0/lib/rack.rb", "x"),
        ("usr/local/bundle/config", "x"),
        ("usr/lib/ruby/3.1.0/json.rb", "x"),
        ("srv/app.rb", "x"),
        ("srv/lib/helper.rb", "x"),
    ];

    #[test]
    fn layouts() {
        use common::testing::Layout;
        let local = ("/usr/local/bin/ruby", "/usr/local/bin/ruby");
        let table = [
            Layout {
                case: "Debian: rubylibdir, archdir from the binary, vendor, gems, the script's folder",
                files: DEBIAN,
                env: &[],
                workdir: "/app",
                program: ("/usr/bin/ruby", "/usr/bin/ruby3.1"),
                words: &["app.rb"],
                kept: &[
                    (
                        "/usr/lib/ruby/3.1.0/json.rb",
                        "library (prefix /usr) of /usr/bin/ruby3.1",
                    ),
                    ("/usr/lib/x86_64-linux-gnu/ruby/3.1.0/socket.so", "library"),
                    (
                        "/usr/lib/ruby/vendor_ruby/rubygems/defaults/operating_system.rb",
                        "library",
                    ),
                    (
                        "/var/lib/gems/3.1.0/gems/sinatra-3.0/lib/sinatra.rb",
                        "library",
                    ),
                    (
                        "/usr/share/rubygems-integration/all/specifications/rack.gemspec",
                        "library",
                    ),
                    ("/app/views/index.erb", "named by the argument app.rb"),
                ],
                dropped: &["/usr/lib/ruby/2.7.0/old.rb"],
                undecided: None,
            },
            Layout {
                case: "Alpine: the version from the library folder",
                files: ALPINE,
                env: &[],
                workdir: "/srv",
                program: ("/usr/bin/ruby", "/usr/bin/ruby"),
                words: &["-w", "config.ru"],
                kept: &[
                    ("/usr/lib/ruby/3.2.0/json.rb", "library (prefix /usr)"),
                    ("/usr/lib/ruby/3.2.0/x86_64-linux-musl/socket.so", "library"),
                    ("/usr/lib/ruby/gems/3.2.0/gems/rack/lib/rack.rb", "library"),
                    ("/srv/config.ru", "named by the argument"),
                ],
                dropped: &[],
                undecided: None,
            },
            Layout {
                case: "/usr/local with GEM_HOME and BUNDLE_APP_CONFIG, -C",
                files: LOCAL,
                env: &[
                    "GEM_HOME=/usr/local/bundle",
                    "BUNDLE_APP_CONFIG=/usr/local/bundle",
                ],
                workdir: "/",
                program: local,
                words: &["-C", "/srv", "app.rb"],
                kept: &[
                    (
                        "/usr/local/lib/ruby/3.2.0/json.rb",
                        "library (prefix /usr/local)",
                    ),
                    ("/usr/local/lib/ruby/site_ruby/3.2.0/x.rb", "library"),
                    (
                        "/usr/local/bundle/gems/rack-3.0/lib/rack.rb",
                        "GEM_HOME entry",
                    ),
                    ("/srv/lib/helper.rb", "named by the argument /srv/app.rb"),
                ],
                dropped: &["/usr/lib/ruby/3.1.0/json.rb"],
                undecided: None,
            },
            Layout {
                case: "no library",
                files: &[("usr/bin/ruby", "x")],
                env: &[],
                workdir: "/",
                program: ("/usr/bin/ruby", "/usr/bin/ruby"),
                words: &["-e", "1"],
                kept: &[],
                dropped: &[],
                undecided: Some("no rubylibdir"),
            },
        ];
        common::testing::check(&table, add);
    }
}
