//! glibc's run-time data, which no `DT_NEEDED` names: the locale the
//! configuration's `LC_ALL`, `LC_*` or `LANG` names (`setlocale(LC_ALL,
//! "")` reads it from `/usr/lib/locale`), and the gconv converters
//! `iconv_open` loads by the names in `gconv-modules`. Without them a
//! program still starts and answers, wrongly: `setlocale` falls back to
//! "C" and `iconv_open` fails, both without a crash.

use std::collections::BTreeSet;

use pare_elf::Loader;
use pare_elf::search::Root;
use pare_image::tree::FileTree;

use crate::interp::Undecided;
use crate::plan::Plan;
use crate::why::{Rule, Why};

/// Where glibc looks for locales when `LOCPATH` is unset.
pub const LOCALE_DIR: &str = "/usr/lib/locale";
/// The archive `locale-gen` writes, read before the folders.
pub const LOCALE_ARCHIVE: &str = "/usr/lib/locale/locale-archive";
/// Names glibc expands before looking a locale up.
pub const LOCALE_ALIAS: &str = "/usr/share/locale/locale.alias";

/// The locale variables in glibc's order of precedence.
const LOCALE_VARIABLES: &[&str] = &[
    "LC_ALL",
    "LC_CTYPE",
    "LC_NUMERIC",
    "LC_TIME",
    "LC_COLLATE",
    "LC_MONETARY",
    "LC_MESSAGES",
    "LC_PAPER",
    "LC_NAME",
    "LC_ADDRESS",
    "LC_TELEPHONE",
    "LC_MEASUREMENT",
    "LC_IDENTIFICATION",
    "LANG",
];

/// The locales an environment (`NAME=VALUE` words) names, each with the
/// variable naming it: "C" and "POSIX" are built into glibc and need no
/// file; a name with a slash is a path glibc refuses from the environment.
pub fn named_locales(env: &[String]) -> Vec<(String, String)> {
    let mut named: Vec<(String, String)> = Vec::new();
    for variable in LOCALE_VARIABLES {
        let value = env
            .iter()
            .find_map(|e| e.strip_prefix(variable)?.strip_prefix('='));
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            continue;
        };
        if matches!(value, "C" | "POSIX") || value.contains('/') {
            continue;
        }
        if !named.iter().any(|(_, n)| n == value) {
            named.push((variable.to_string(), value.to_string()));
        }
    }
    named
}

/// glibc's normalised codeset (`_nl_normalize_codeset`): letters and
/// digits only, lower case, and "iso" before a codeset of digits only
/// (`UTF-8` → `utf8`, `8859-1` → `iso88591`).
pub fn normalize_codeset(codeset: &str) -> String {
    let kept: String = codeset
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if !kept.is_empty() && kept.chars().all(|c| c.is_ascii_digit()) {
        format!("iso{kept}")
    } else {
        kept
    }
}

/// The folder names glibc tries for a locale name
/// (`language[_territory][.codeset][@modifier]`), most specific first:
/// the name with its codeset normalised, as given, then with parts left
/// out (`_nl_make_l10nflist`).
pub fn locale_candidates(name: &str) -> Vec<String> {
    let (rest, modifier) = match name.split_once('@') {
        Some((r, m)) => (r, Some(m)),
        None => (name, None),
    };
    let (rest, codeset) = match rest.split_once('.') {
        Some((r, c)) => (r, Some(c)),
        None => (rest, None),
    };
    let (language, territory) = match rest.split_once('_') {
        Some((l, t)) => (l, Some(t)),
        None => (rest, None),
    };
    let join = |territory: Option<&str>, codeset: Option<&str>, modifier: Option<&str>| {
        let mut out = language.to_string();
        if let Some(t) = territory {
            out.push('_');
            out.push_str(t);
        }
        if let Some(c) = codeset {
            out.push('.');
            out.push_str(c);
        }
        if let Some(m) = modifier {
            out.push('@');
            out.push_str(m);
        }
        out
    };
    let normalized = codeset.map(normalize_codeset);
    let mut candidates = Vec::new();
    for modifier in [modifier, None] {
        for territory in [territory, None] {
            for codeset in [normalized.as_deref(), codeset, None] {
                let candidate = join(territory, codeset, modifier);
                if !candidates.contains(&candidate) {
                    candidates.push(candidate);
                }
            }
        }
    }
    candidates
}

/// Keeps the locale data the configuration's environment names: the
/// first folder glibc would find for each name (under each `LOCPATH`
/// folder, else `/usr/lib/locale`), or the locale archive when no folder
/// holds it, and `locale.alias`. When no variable names a locale, the
/// image has compiled locales and a kept program calls `setlocale`, the
/// locale it asks for in code cannot be known: that is said, with the
/// flag that keeps them.
pub fn add_locales(
    tree: &FileTree,
    root: &dyn Root,
    env: &[String],
    plan: &mut Plan,
) -> Vec<Undecided> {
    let locpath = env
        .iter()
        .find_map(|e| e.strip_prefix("LOCPATH="))
        .filter(|p| !p.is_empty());
    let folders: Vec<String> = match locpath {
        Some(path) => path.split(':').map(str::to_string).collect(),
        None => vec![LOCALE_DIR.to_string()],
    };
    let exists = |path: &str| {
        tree.resolve(path.trim_start_matches('/'), true)
            .is_ok_and(|p| tree.get(&p).is_some())
    };
    let named = named_locales(env);
    for (variable, name) in &named {
        let why = Why::Rule(Rule::Locale {
            name: name.clone(),
            variable: variable.clone(),
        });
        let folder = folders.iter().find_map(|dir| {
            locale_candidates(name)
                .into_iter()
                .map(|c| format!("{}/{c}", dir.trim_end_matches('/')))
                .find(|p| exists(p))
        });
        match folder {
            Some(folder) => {
                plan.add_resolved(tree, &folder, why.clone());
            }
            // The archive is read only without LOCPATH.
            None if locpath.is_none() && exists(LOCALE_ARCHIVE) => {
                plan.add_resolved(tree, LOCALE_ARCHIVE, why.clone());
            }
            None => {}
        }
        plan.add_resolved(tree, LOCALE_ALIAS, why);
    }
    if !named.is_empty() || !exists(LOCALE_ARCHIVE) {
        return Vec::new();
    }
    let caller = plan.keep.keys().find(|path| {
        root.elf(path).is_some_and(|info| {
            !is_glibc(info.soname.as_deref())
                && info
                    .watched_symbols
                    .iter()
                    .any(|s| s == "setlocale" || s == "newlocale")
        })
    });
    match caller {
        Some(program) => vec![Undecided {
            program: program.clone(),
            message: format!(
                "calls setlocale, and the image has compiled locales ({LOCALE_ARCHIVE}) that no \
                 LANG or LC_* in its configuration names: a locale named in code is not kept \
                 (--include {LOCALE_ARCHIVE} keeps them)"
            ),
        }],
        None => Vec::new(),
    }
}

/// Whether a soname is one of glibc's own libraries, which define the
/// watched functions rather than call them.
fn is_glibc(soname: Option<&str>) -> bool {
    soname.is_some_and(|s| s.starts_with("libc.so") || s.starts_with("ld-linux"))
}

/// Keeps glibc's gconv converters when a kept object imports
/// `iconv_open`: the `gconv` folder beside the kept `libc.so.6` (where
/// glibc is built to look: `/usr/lib/x86_64-linux-gnu/gconv` on Debian,
/// `/usr/lib64/gconv` on Fedora), and those `GCONV_PATH` names, whole:
/// which charsets a program converts is known only when it runs. Each
/// module's own libraries come too.
pub fn add_gconv(
    tree: &FileTree,
    root: &dyn Root,
    loader: &Loader<'_>,
    env: &[String],
    plan: &mut Plan,
) {
    let Some(libc) = plan.kept_glibc() else {
        return;
    };
    // Programs only: libraries import iconv_open for what programs rarely
    // ask of them (libstdc++'s codecvt facets), and every C++ program
    // would keep 8 MB of converters for it.
    let user = plan.keep.keys().find(|path| {
        root.elf(path).is_some_and(|info| {
            info.soname.is_none() && info.watched_symbols.iter().any(|s| s == "iconv_open")
        })
    });
    let Some(user) = user.cloned() else {
        return;
    };
    let Some((real_libc, _)) = root.resolve(&libc) else {
        return;
    };
    let beside = format!("{}/gconv", pare_image::paths::parent(&real_libc));
    let mut folders = vec![beside];
    if let Some(path) = env.iter().find_map(|e| e.strip_prefix("GCONV_PATH=")) {
        folders.extend(
            path.split(':')
                .filter(|p| p.starts_with('/'))
                .map(str::to_string),
        );
    }
    let before: BTreeSet<String> = plan.keep.keys().cloned().collect();
    for folder in folders {
        let why = Why::Rule(Rule::Gconv {
            program: user.clone(),
        });
        plan.add_resolved(tree, &folder, why);
    }
    let modules: Vec<String> = plan
        .keep
        .keys()
        .filter(|p| !before.contains(*p) && p.ends_with(".so") && root.elf(p).is_some())
        .cloned()
        .collect();
    plan.add_loaded(&loader.closure(&modules));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_environment_names_locales_in_glibc_order() {
        /// The environment, and the (variable, locale) pairs it names.
        type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);
        let cases: &[Case] = &[
            (&["LANG=C.UTF-8"], &[("LANG", "C.UTF-8")]),
            (&["LANG=C", "LC_ALL=POSIX"], &[]),
            (
                &[
                    "LANG=en_US.UTF-8",
                    "LC_ALL=de_DE.UTF-8",
                    "LC_TIME=de_DE.UTF-8",
                ],
                &[("LC_ALL", "de_DE.UTF-8"), ("LANG", "en_US.UTF-8")],
            ),
            (&["LANG=", "PATH=/bin", "LANGUAGE=fr"], &[]),
            (&["LANG=../../etc/evil"], &[]),
        ];
        for (env, want) in cases {
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(v, n)| (v.to_string(), n.to_string()))
                .collect();
            assert_eq!(named_locales(&words(env)), want, "{env:?}");
        }
    }

    /// A tree of files, and the watched symbols of the ELF files among them.
    struct Image {
        tree: FileTree,
        elves: Vec<(&'static str, &'static [&'static str])>,
    }

    impl Root for Image {
        fn resolve(&self, path: &str) -> Option<(String, Vec<String>)> {
            let (real, links) = self
                .tree
                .resolve_traced(path.trim_start_matches('/'))
                .ok()?;
            Some((
                format!("/{real}"),
                links.iter().map(|l| format!("/{l}")).collect(),
            ))
        }
        fn elf(&self, path: &str) -> Option<pare_elf::ElfInfo> {
            let (_, symbols) = self.elves.iter().find(|(p, _)| *p == path)?;
            // Libraries have their file name as soname, programs none.
            let name = pare_image::paths::file_name(path);
            Some(pare_elf::ElfInfo {
                watched_symbols: words(symbols),
                soname: name.contains(".so").then(|| name.to_string()),
                ..pare_elf::ElfInfo::default()
            })
        }
    }

    fn image(files: &[&str], elves: Vec<(&'static str, &'static [&'static str])>) -> Image {
        use pare_image::DataSource;
        use pare_image::tree::{Content, Node, NodeKind};
        let mut tree = FileTree::new();
        for path in files {
            let id = tree.add_content(Content {
                source: DataSource::Host("/dev/null".into()),
                size: 0,
            });
            let node = Node {
                kind: NodeKind::File(id),
                ..Node::implicit_dir()
            };
            tree.insert(path.to_string(), node);
        }
        Image { tree, elves }
    }

    #[test]
    fn the_named_locale_is_kept_where_glibc_finds_it() {
        let files = [
            "usr/lib/locale/C.utf8/LC_CTYPE",
            "usr/lib/locale/locale-archive",
            "usr/share/locale/locale.alias",
            "opt/locales/fr_FR.utf8/LC_CTYPE",
            "app/server",
        ];
        /// What a row proves, the environment, paths kept, paths not
        /// kept, whether a rule could not decide.
        type Case = (
            &'static str,
            &'static [&'static str],
            &'static [&'static str],
            &'static [&'static str],
            bool,
        );
        let cases: &[Case] = &[
            (
                "a folder holding the locale is kept, not the archive",
                &["LANG=C.UTF-8"],
                &[
                    "/usr/lib/locale/C.utf8/LC_CTYPE",
                    "/usr/share/locale/locale.alias",
                ],
                &["/usr/lib/locale/locale-archive"],
                false,
            ),
            (
                "a locale no folder holds is in the archive",
                &["LC_ALL=de_DE.UTF-8"],
                &["/usr/lib/locale/locale-archive"],
                &["/usr/lib/locale/C.utf8/LC_CTYPE"],
                false,
            ),
            (
                "LOCPATH is searched instead, and the archive is not read",
                &["LANG=fr_FR.UTF-8", "LOCPATH=/opt/locales"],
                &["/opt/locales/fr_FR.utf8/LC_CTYPE"],
                &["/usr/lib/locale/locale-archive"],
                false,
            ),
            (
                "no locale named while the program calls setlocale: said, nothing kept",
                &["PATH=/bin"],
                &[],
                &[
                    "/usr/lib/locale/locale-archive",
                    "/usr/lib/locale/C.utf8/LC_CTYPE",
                ],
                true,
            ),
        ];
        for (case, env, kept, not_kept, undecided) in cases {
            let image = image(&files, vec![("/app/server", &["setlocale"])]);
            let mut plan = Plan::default();
            plan.add("/app/server", Why::EntryPoint);
            let said = add_locales(&image.tree, &image, &words(env), &mut plan);
            for path in *kept {
                assert!(plan.keep.contains_key(*path), "{case}: {path} not kept");
            }
            for path in *not_kept {
                assert!(!plan.keep.contains_key(*path), "{case}: {path} kept");
            }
            assert_eq!(!said.is_empty(), *undecided, "{case}: {said:?}");
            if let Some(said) = said.first() {
                assert!(
                    said.message
                        .contains("--include /usr/lib/locale/locale-archive"),
                    "{said}"
                );
            }
        }
    }

    #[test]
    fn gconv_comes_with_a_program_that_imports_iconv_open() {
        let files = [
            "usr/lib/x86_64-linux-gnu/libc.so.6",
            "usr/lib/x86_64-linux-gnu/gconv/gconv-modules",
            "usr/lib/x86_64-linux-gnu/gconv/IBM037.so",
            "app/conv",
            "app/libcodecvt.so.6",
            "app/plain",
        ];
        for (program, symbols, kept) in [
            ("/app/conv", &["iconv_open"][..], true),
            ("/app/plain", &["setlocale"][..], false),
            // A library's import (libstdc++'s codecvt) is not the program's.
            ("/app/libcodecvt.so.6", &["iconv_open"][..], false),
        ] {
            let image = image(
                &files,
                vec![
                    (program, symbols),
                    (
                        "/usr/lib/x86_64-linux-gnu/libc.so.6",
                        &["iconv_open", "setlocale"],
                    ),
                ],
            );
            let mut plan = Plan::default();
            plan.add(program, Why::EntryPoint);
            plan.add("/usr/lib/x86_64-linux-gnu/libc.so.6", Why::EntryPoint);
            let loader = Loader::new(&image, None, Vec::new(), Vec::new());
            add_gconv(&image.tree, &image, &loader, &[], &mut plan);
            for path in [
                "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules",
                "/usr/lib/x86_64-linux-gnu/gconv/IBM037.so",
            ] {
                assert_eq!(plan.keep.contains_key(path), kept, "{program}: {path}");
            }
        }
    }

    #[test]
    fn codesets_normalise_as_glibc_does() {
        for (codeset, want) in [
            ("UTF-8", "utf8"),
            ("utf8", "utf8"),
            ("8859-1", "iso88591"),
            ("ISO-8859-15", "iso885915"),
            ("", ""),
        ] {
            assert_eq!(normalize_codeset(codeset), want, "{codeset}");
        }
    }

    #[test]
    fn locale_folders_are_tried_most_specific_first() {
        assert_eq!(locale_candidates("C.UTF-8"), ["C.utf8", "C.UTF-8", "C"]);
        assert_eq!(
            locale_candidates("de_DE.UTF-8@euro"),
            [
                "de_DE.utf8@euro",
                "de_DE.UTF-8@euro",
                "de_DE@euro",
                "de.utf8@euro",
                "de.UTF-8@euro",
                "de@euro",
                "de_DE.utf8",
                "de_DE.UTF-8",
                "de_DE",
                "de.utf8",
                "de.UTF-8",
                "de",
            ]
        );
        assert_eq!(locale_candidates("fr"), ["fr"]);
    }
}
