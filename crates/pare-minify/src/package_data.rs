//! Package-aware data: what a kept program's package installed beside it
//! that no loader rule sees — its configuration (`/etc/nginx`), data
//! (`/usr/share/nginx`) and state folders (`/var/lib/nginx`,
//! `/var/log/nginx`). A server reads them as it starts, so they are kept
//! when the image exposes a port (or with `--include-package-data`), each
//! with its package named in `--explain`.
//!
//! The packages considered are the program's own and those of its direct
//! dependencies built from the same source (`nginx` depends on
//! `nginx-common`, whose `Source:` is `nginx`): distributions split a
//! program's data into such packages. Of each, what is kept:
//! - its conffiles, except those read by other programs (init scripts,
//!   logrotate, firewall profiles: [`FOR_OTHER_PROGRAMS`]);
//! - its own folders: those it lists that no other package lists, whose
//!   parent is shared, under the places programs keep data ([`DATA_ROOTS`]),
//!   whole, as the image has them (files added later by the image's
//!   build, like nginx's `sites-enabled/default` link, come too).
//!
//! Documentation, manual pages and editor support are never data.

use std::collections::{BTreeMap, BTreeSet};

use pare_image::tree::FileTree;

use crate::plan::Plan;
use crate::why::{Rule, Why};

/// One installed package as its database describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Installed {
    pub name: String,
    /// The source package it was built from (its own name when unset).
    pub source: String,
    /// Names of the packages it depends on directly (every alternative).
    pub depends: Vec<String>,
    /// Every path it lists, folders too (absolute).
    pub listed: Vec<String>,
    /// Its configuration files (absolute).
    pub conffiles: Vec<String>,
}

/// Where programs keep their configuration, data and state.
pub const DATA_ROOTS: &[&str] = &[
    "/etc",
    "/usr/share",
    "/usr/lib",
    "/usr/local/share",
    "/usr/local/etc",
    "/var/lib",
    "/var/log",
    "/var/cache",
    "/var/www",
    "/srv",
    "/opt",
];

/// Folders (below the data roots) that other programs read, or that hold
/// no data: never kept by this rule.
pub const FOR_OTHER_PROGRAMS: &[&str] = &[
    "/etc/init.d",
    "/etc/init",
    "/etc/rc0.d",
    "/etc/rc1.d",
    "/etc/rc2.d",
    "/etc/rc3.d",
    "/etc/rc4.d",
    "/etc/rc5.d",
    "/etc/rc6.d",
    "/etc/rcS.d",
    "/etc/default",
    "/etc/logrotate.d",
    "/etc/cron.d",
    "/etc/cron.daily",
    "/etc/cron.hourly",
    "/etc/cron.weekly",
    "/etc/cron.monthly",
    "/etc/ufw",
    "/etc/bash_completion.d",
    "/etc/apparmor.d",
    "/etc/systemd",
    "/etc/update-motd.d",
    "/etc/X11",
    "/etc/xdg",
    "/usr/lib/systemd",
    "/usr/lib/tmpfiles.d",
    "/usr/lib/sysusers.d",
    "/usr/lib/binfmt.d",
    "/usr/lib/sysctl.d",
    "/usr/lib/modules-load.d",
    "/usr/lib/udev",
    "/etc/binfmt.d",
    "/etc/sysctl.d",
    "/etc/modprobe.d",
    "/etc/udev",
    "/usr/share/doc",
    "/usr/share/doc-base",
    "/usr/share/man",
    "/usr/share/info",
    "/usr/share/lintian",
    "/usr/share/bug",
    "/usr/share/bash-completion",
    "/usr/share/zsh",
    "/usr/share/fish",
    "/usr/share/vim",
    "/usr/share/apport",
    "/usr/share/menu",
    "/usr/share/applications",
    "/usr/share/icons",
    "/usr/share/pixmaps",
    "/usr/share/locale",
    "/usr/share/gtk-doc",
    "/usr/share/polkit-1",
    "/usr/share/dbus-1",
];

/// Whether `path` is in (or is) a folder of [`FOR_OTHER_PROGRAMS`].
fn for_other_programs(path: &str) -> bool {
    FOR_OTHER_PROGRAMS.iter().any(|dir| {
        path.strip_prefix(dir)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// Whether `path` lies strictly below one of the [`DATA_ROOTS`].
fn below_a_data_root(path: &str) -> bool {
    DATA_ROOTS.iter().any(|root| {
        path.strip_prefix(root)
            .is_some_and(|rest| rest.len() > 1 && rest.starts_with('/'))
    })
}

/// The packages that own `path` (as listed, or by its real path in
/// `tree`: merged /usr lists `/bin/x` for `/usr/bin/x`).
pub fn owners<'a>(packages: &'a [Installed], tree: &FileTree, path: &str) -> Vec<&'a Installed> {
    let real = |p: &str| {
        tree.resolve(p.trim_start_matches('/'), true)
            .map(|r| format!("/{r}"))
            .ok()
    };
    let wanted = real(path).unwrap_or_else(|| path.to_string());
    packages
        .iter()
        .filter(|p| {
            p.listed.iter().any(|listed| {
                listed == path || listed == &wanted || real(listed).as_deref() == Some(&wanted)
            })
        })
        .collect()
}

/// A package and its direct dependencies built from the same source.
pub fn same_source<'a>(packages: &'a [Installed], package: &'a Installed) -> Vec<&'a Installed> {
    let mut out = vec![package];
    for name in &package.depends {
        if let Some(dep) = packages
            .iter()
            .find(|p| &p.name == name && p.source == package.source && p.name != package.name)
            && !out.iter().any(|p| p.name == dep.name)
        {
            out.push(dep);
        }
    }
    out
}

/// What `package` installed as data: its conffiles and its own folders
/// (see the module's comment). `listers` counts, for every listed path,
/// the packages listing it; `is_dir` tells the image's folders (an empty
/// one, like `/var/lib/nginx`, has nothing listed below it).
pub fn data_paths(
    package: &Installed,
    listers: &BTreeMap<&str, usize>,
    is_dir: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let listed: BTreeSet<&str> = package.listed.iter().map(String::as_str).collect();
    let mut out: Vec<String> = package
        .conffiles
        .iter()
        .filter(|c| !for_other_programs(c))
        .cloned()
        .collect();
    for path in &listed {
        let own = listers.get(path).copied().unwrap_or(0) <= 1;
        let parent = pare_image::paths::parent(path);
        let parent_shared =
            !listed.contains(parent) || listers.get(parent).copied().unwrap_or(0) > 1;
        if own
            && parent_shared
            && is_dir(path)
            && below_a_data_root(path)
            && !for_other_programs(path)
        {
            out.push(path.to_string());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The installed dpkg packages, as pare-sbom's one model of the
/// database reads them (`status`, `status.d`, under `var/lib` or
/// `usr/lib`): what `pare sbom` lists is what this rule sees.
pub fn installed_dpkg(flat: &pare_image::Flattened) -> Vec<Installed> {
    let database = pare_sbom::dpkg::Database::read(flat);
    database
        .packages()
        .map(|record| {
            let paragraph = &record.paragraph;
            // `Source: name (version)` when the versions differ.
            let source = paragraph
                .get("Source")
                .and_then(|s| s.split_whitespace().next())
                .unwrap_or(&record.name)
                .to_string();
            let depends = ["Pre-Depends", "Depends"]
                .iter()
                .filter_map(|f| paragraph.get(f))
                .flat_map(|d| d.split([',', '|']))
                .filter_map(|d| d.split_whitespace().next())
                .map(|d| d.split(':').next().unwrap_or(d).to_string())
                .collect();
            let conffiles = paragraph
                .get("Conffiles")
                .map(|c| {
                    c.lines()
                        .filter_map(|l| l.split_whitespace().next())
                        .filter(|p| p.starts_with('/'))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            // Distroless entries have no `.list`: their md5sums name files.
            let listed = match &record.list {
                Some(list) => list.paths().map(str::to_string).collect(),
                None => record
                    .md5sums
                    .iter()
                    .flat_map(|m| m.md5sums())
                    .map(|(_, path)| format!("/{path}"))
                    .collect(),
            };
            Installed {
                name: record.name.clone(),
                source,
                depends,
                listed,
                conffiles,
            }
        })
        .collect()
}

/// The installed packages of every database the image has (dpkg, apk,
/// rpm).
pub fn installed(flat: &pare_image::Flattened) -> Vec<Installed> {
    let mut all = installed_dpkg(flat);
    if let Ok(Some(db)) = flat.read(pare_sbom::apk::INSTALLED) {
        all.extend(installed_apk(&String::from_utf8_lossy(&db)));
    }
    all.extend(installed_rpm(&rpm_headers(flat)));
    all
}

/// The package headers of the image's rpm database (sqlite first, as rpm
/// reads it; else Berkeley DB), through pare-sbom's readers and rules.
fn rpm_headers(flat: &pare_image::Flattened) -> Vec<pare_sbom::rpm::Header> {
    use pare_sbom::rpm;
    let sqlite = rpm::SQLITE_PATHS.iter().map(|p| {
        (
            *p,
            rpm::sqlite_values as fn(&[u8]) -> Result<Vec<Vec<u8>>, String>,
        )
    });
    let bdb = rpm::BDB_PATHS
        .iter()
        .map(|p| (*p, rpm::values as fn(&[u8]) -> Result<Vec<Vec<u8>>, String>));
    for (path, read_values) in sqlite.chain(bdb) {
        let Ok(Some(bytes)) = flat.read(path) else {
            continue;
        };
        let Ok(blobs) = read_values(&bytes) else {
            continue;
        };
        return blobs
            .iter()
            .filter(|b| rpm::is_header(b))
            .filter_map(|b| rpm::parse_header(b).ok())
            .filter(rpm::Header::is_package)
            .collect();
    }
    Vec::new()
}

/// The source package's name in an rpm's `SOURCERPM`
/// (`nginx-1.20.1-14.el9.src.rpm` → `nginx`): version and release are
/// the last two dash-separated words.
pub fn rpm_source_name(source_rpm: &str) -> Option<&str> {
    let stem = source_rpm
        .strip_suffix(".src.rpm")
        .or_else(|| source_rpm.strip_suffix(".nosrc.rpm"))?;
    let (rest, _release) = stem.rsplit_once('-')?;
    let (name, _version) = rest.rsplit_once('-')?;
    (!name.is_empty()).then_some(name)
}

/// rpm packages as [`Installed`]: the headers list every path (folders
/// too), and no package names (rpm requires capabilities), so a package's
/// dependencies here are the other packages built from its source rpm
/// (`nginx-core` and `nginx-filesystem` from `nginx`).
pub fn installed_rpm(headers: &[pare_sbom::rpm::Header]) -> Vec<Installed> {
    let source = |h: &pare_sbom::rpm::Header| {
        rpm_source_name(&h.source_rpm)
            .unwrap_or(&h.name)
            .to_string()
    };
    headers
        .iter()
        .map(|h| Installed {
            name: h.name.clone(),
            source: source(h),
            depends: headers
                .iter()
                .filter(|o| o.name != h.name && source(o) == source(h))
                .map(|o| o.name.clone())
                .collect(),
            listed: h.files.clone(),
            conffiles: Vec::new(),
        })
        .collect()
}

/// The packages of Alpine's `lib/apk/db/installed`, as pare-sbom's model
/// reads it: `o:` is the origin (source) package, `D:` the dependencies
/// (versions and `so:`/`cmd:` provides dropped), `F:` folders and `R:`
/// files what it lists. apk has no conffiles: its data is its folders.
pub fn installed_apk(text: &str) -> Vec<Installed> {
    pare_sbom::apk::parse_records(text)
        .iter()
        .filter(|record| record.is_package())
        .map(|record| {
            let name = record.get('P').unwrap_or_default().to_string();
            let mut listed: Vec<String> = record.folders.iter().map(|f| format!("/{f}")).collect();
            listed.extend(record.files.iter().map(|f| format!("/{}", record.path(f))));
            Installed {
                source: record.get('o').unwrap_or(&name).to_string(),
                depends: record
                    .get('D')
                    .unwrap_or_default()
                    .split_whitespace()
                    .filter(|d| !d.contains(':') && !d.starts_with('!'))
                    .map(|d| {
                        d.split(['<', '>', '=', '~'])
                            .next()
                            .unwrap_or(d)
                            .to_string()
                    })
                    .collect(),
                name,
                listed,
                conffiles: Vec::new(),
            }
        })
        .collect()
}

/// Keeps the data of the packages that own `programs` (and their
/// same-source dependencies), each path with its package and program,
/// then what their configuration files name (see [`named_paths`]).
/// `read` gives a file's text when planning has it.
pub fn add_package_data(
    tree: &FileTree,
    packages: &[Installed],
    programs: &[String],
    read: &dyn Fn(&str) -> Option<String>,
    plan: &mut Plan,
) {
    let mut listers: BTreeMap<&str, usize> = BTreeMap::new();
    for package in packages {
        let unique: BTreeSet<&str> = package.listed.iter().map(String::as_str).collect();
        for path in unique {
            *listers.entry(path).or_default() += 1;
        }
    }
    let real = |path: &str| {
        tree.resolve(path.trim_start_matches('/'), true)
            .ok()
            .filter(|real| tree.get(real).is_some())
    };
    let is_dir = |path: &str| {
        real(path)
            .and_then(|real| tree.get(&real).map(|n| n.is_dir()))
            .unwrap_or(false)
    };
    for program in programs {
        for owner in owners(packages, tree, program) {
            for package in same_source(packages, owner) {
                let why = Why::Rule(Rule::PackageData {
                    package: package.name.clone(),
                    program: program.clone(),
                });
                let data = data_paths(package, &listers, &is_dir);
                for path in &data {
                    plan.add_resolved(tree, path, why.clone());
                }
                let configs = package
                    .conffiles
                    .iter()
                    .filter(|c| data.iter().any(|d| c.starts_with(d.as_str())));
                for config in configs {
                    let Some(text) = read(config) else { continue };
                    for named in named_paths(&text) {
                        let shared = listers.get(named.as_str()).copied().unwrap_or(0) > 1;
                        if shared
                            || !below_a_data_root(&named)
                            || for_other_programs(&named)
                            || real(&named).is_none()
                        {
                            continue;
                        }
                        let why = Why::Rule(Rule::NamedInConfiguration {
                            file: config.clone(),
                        });
                        plan.add_resolved(tree, &named, why);
                    }
                }
            }
        }
    }
}

/// The absolute paths a configuration file names outside comments, as
/// words (`root /var/www/html;`, `DocumentRoot "/srv/www"`,
/// `dir=/var/lib/app`): a server serves and writes where its
/// configuration says, which its package may not list (nginx's
/// `/var/www/html` is made by its install script). Globs are left out.
pub fn named_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in crate::rules::configuration_lines(text) {
        let words = line
            .split(|c: char| c.is_whitespace() || matches!(c, '=' | '"' | '\'' | ',' | '(' | ')'));
        for word in words {
            let word = word
                .trim_end_matches([';', ':', '{', '}'])
                .trim_end_matches('/');
            let plain = word.starts_with('/')
                && word.len() > 1
                && !word.contains(['*', '?', '[', '$', '%'])
                && !word.split('/').any(|c| c == "..");
            if plain && !out.iter().any(|o| o == word) {
                out.push(word.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(
        name: &str,
        source: &str,
        depends: &[&str],
        listed: &[&str],
        conffiles: &[&str],
    ) -> Installed {
        let own = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Installed {
            name: name.into(),
            source: source.into(),
            depends: own(depends),
            listed: own(listed),
            conffiles: own(conffiles),
        }
    }

    /// nginx as Debian bookworm splits it, with libc beside.
    fn nginx() -> Vec<Installed> {
        vec![
            package(
                "nginx",
                "nginx",
                &["libc6", "nginx-common", "iproute2"],
                &[
                    "/.",
                    "/usr",
                    "/usr/sbin",
                    "/usr/sbin/nginx",
                    "/usr/share",
                    "/usr/share/doc",
                    "/usr/share/doc/nginx",
                    "/usr/share/doc/nginx/copyright",
                ],
                &[],
            ),
            package(
                "nginx-common",
                "nginx",
                &["debconf"],
                &[
                    "/.",
                    "/etc",
                    "/etc/default",
                    "/etc/default/nginx",
                    "/etc/init.d",
                    "/etc/init.d/nginx",
                    "/etc/nginx",
                    "/etc/nginx/nginx.conf",
                    "/etc/nginx/sites-enabled",
                    "/etc/ufw",
                    "/etc/ufw/applications.d",
                    "/etc/ufw/applications.d/nginx",
                    "/usr",
                    "/usr/share",
                    "/usr/share/nginx",
                    "/usr/share/nginx/html",
                    "/usr/share/nginx/html/index.html",
                    "/usr/share/vim",
                    "/usr/share/vim/addons",
                    "/usr/share/vim/addons/nginx.vim",
                    "/var",
                    "/var/lib",
                    "/var/lib/nginx",
                    "/var/log",
                    "/var/log/nginx",
                ],
                &[
                    "/etc/default/nginx",
                    "/etc/init.d/nginx",
                    "/etc/nginx/nginx.conf",
                    "/etc/ufw/applications.d/nginx",
                ],
            ),
            package(
                "libc6",
                "glibc",
                &[],
                &[
                    "/.",
                    "/etc",
                    "/etc/ld.so.conf.d",
                    "/etc/ld.so.conf.d/x86_64-linux-gnu.conf",
                    "/usr",
                    "/usr/lib",
                    "/usr/lib/x86_64-linux-gnu",
                    "/usr/lib/x86_64-linux-gnu/libc.so.6",
                    "/usr/share",
                    "/usr/share/doc",
                ],
                &[],
            ),
            package(
                "iproute2",
                "iproute2",
                &[],
                &[
                    "/.",
                    "/etc",
                    "/etc/iproute2",
                    "/etc/iproute2/rt_tables",
                    "/usr",
                    "/usr/share",
                ],
                &["/etc/iproute2/rt_tables"],
            ),
            package(
                "debconf",
                "debconf",
                &[],
                &[
                    "/.",
                    "/etc",
                    "/etc/debconf.conf",
                    "/var",
                    "/var/cache",
                    "/var/cache/debconf",
                    "/var/cache/debconf/x",
                ],
                &["/etc/debconf.conf"],
            ),
            // /var/log is listed by others too: shared.
            package(
                "base-files",
                "base-files",
                &[],
                &[
                    "/.",
                    "/var",
                    "/var/log",
                    "/var/lib",
                    "/usr/share",
                    "/usr/share/doc",
                    "/usr/share/vim",
                    "/etc",
                    "/etc/default",
                    "/etc/init.d",
                    "/etc/ufw",
                    "/usr/share/vim/addons",
                ],
                &[],
            ),
        ]
    }

    #[test]
    fn alpine_packages_list_their_folders_origin_and_dependencies() {
        let db = "C:Q1abc=\nP:nginx\nV:1.24.0-r15\no:nginx\n\
            D:so:libc.musl-x86_64.so.1 nginx-common>=1.24 pcre2 !nginx-mod\n\
            F:usr/sbin\nR:nginx\nF:etc/nginx\nR:nginx.conf\nF:var/lib/nginx\n\n\
            P:nginx-common\nV:1.24.0-r15\no:nginx\nF:usr/share/nginx/html\nR:index.html\n\n\
            P:broken\n";
        let got = installed_apk(db);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].name, "nginx");
        assert_eq!(got[0].source, "nginx");
        assert_eq!(got[0].depends, ["nginx-common", "pcre2"]);
        assert_eq!(
            got[0].listed,
            [
                "/usr/sbin",
                "/etc/nginx",
                "/var/lib/nginx",
                "/usr/sbin/nginx",
                "/etc/nginx/nginx.conf"
            ]
        );
        assert_eq!(
            got[1].listed,
            ["/usr/share/nginx/html", "/usr/share/nginx/html/index.html"]
        );
    }

    #[test]
    fn rpm_packages_are_related_by_their_source_rpm() {
        for (rpm, want) in [
            ("nginx-1.20.1-14.el9_2.1.src.rpm", Some("nginx")),
            ("python3.11-3.11.5-1.el9.src.rpm", Some("python3.11")),
            ("glibc-2.34-60.el9.nosrc.rpm", Some("glibc")),
            ("nginx.src.rpm", None),
            ("", None),
        ] {
            assert_eq!(rpm_source_name(rpm), want, "{rpm}");
        }
        let header = |name: &str, source: &str, files: &[&str]| pare_sbom::rpm::Header {
            name: name.into(),
            version: "1".into(),
            release: "1".into(),
            epoch: None,
            arch: "x86_64".into(),
            license: String::new(),
            source_rpm: source.into(),
            files: files.iter().map(|f| f.to_string()).collect(),
        };
        let got = installed_rpm(&[
            header(
                "nginx-core",
                "nginx-1.20.1-14.el9.src.rpm",
                &["/usr/sbin/nginx"],
            ),
            header(
                "nginx-filesystem",
                "nginx-1.20.1-14.el9.src.rpm",
                &["/etc/nginx", "/etc/nginx/conf.d"],
            ),
            header(
                "glibc",
                "glibc-2.34-60.el9.src.rpm",
                &["/usr/lib64/libc.so.6"],
            ),
        ]);
        assert_eq!(got[0].depends, ["nginx-filesystem"]);
        assert_eq!(got[0].source, "nginx");
        assert!(got[2].depends.is_empty());
        assert_eq!(got[1].listed, ["/etc/nginx", "/etc/nginx/conf.d"]);
    }

    #[test]
    fn configuration_names_paths_as_words() {
        let cases: &[(&str, &[&str])] = &[
            ("\troot /var/www/html;\n", &["/var/www/html"]),
            ("DocumentRoot \"/srv/www/\"\n", &["/srv/www"]),
            (
                "dir=/var/lib/app\n# pidfile /run/x.pid\n",
                &["/var/lib/app"],
            ),
            ("include /etc/nginx/conf.d/*.conf;\n", &[]),
            ("alias /a/../../etc/shadow;\nlog /var/log/$name;\n", &[]),
            ("return 301 https://example.com/x;\n", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(named_paths(text), *want, "{text:?}");
        }
    }

    #[test]
    fn a_program_keeps_its_and_its_same_source_dependencies_data() {
        let packages = nginx();
        let mut listers: BTreeMap<&str, usize> = BTreeMap::new();
        for p in &packages {
            for path in p.listed.iter().collect::<BTreeSet<_>>() {
                *listers.entry(path.as_str()).or_default() += 1;
            }
        }
        let owner = &packages[0];
        let related: Vec<&str> = same_source(&packages, owner)
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(
            related,
            ["nginx", "nginx-common"],
            "libc6 and iproute2 are other sources"
        );
        // What a row proves, the package, its data.
        let cases: &[(&str, &Installed, &[&str])] = &[
            (
                "a program's own package has only docs: nothing",
                &packages[0],
                &[],
            ),
            (
                "conffiles for other programs and editor support are left; own folders kept",
                &packages[1],
                &[
                    "/etc/nginx",
                    "/etc/nginx/nginx.conf",
                    "/usr/share/nginx",
                    "/var/lib/nginx",
                    "/var/log/nginx",
                ],
            ),
            (
                "a library's conf folder is shared with nobody but sits in /etc: kept",
                &packages[2],
                &["/etc/ld.so.conf.d"],
            ),
        ];
        // Folders: what another listed path lies below, and the empty ones.
        let is_dir = |path: &str| {
            ["/var/lib/nginx", "/var/log/nginx"].contains(&path)
                || packages
                    .iter()
                    .flat_map(|p| &p.listed)
                    .any(|l| l.starts_with(&format!("{path}/")))
        };
        for (case, package, want) in cases {
            assert_eq!(data_paths(package, &listers, &is_dir), *want, "{case}");
        }
    }
}
