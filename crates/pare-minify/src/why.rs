//! Why a path is in the new image: one enum from the plan to `--explain`,
//! rendered to English once, here. Reasons that differ only in the object
//! they name ("needed by /a", "needed by /b") are told apart by their
//! fields, so [`crate::Plan::explain`] can fold them into one line without
//! reading its own text back.

use std::fmt;

use pare_elf::Reason;

use crate::observed::ObservedHow;
use crate::rules::NSSWITCH;

/// Why a path is kept.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Why {
    /// A program the entry point runs (`argv[0]`, a `#!` interpreter, an
    /// `--include-bin`).
    EntryPoint,
    /// The program interpreter (`PT_INTERP`) of the object at `of`.
    Interpreter { of: String },
    /// `DT_NEEDED` entry `lib` of the object at `by`, found by the loader's
    /// rule `via` (`ld.so.cache`, `DT_RUNPATH`, …).
    Needed {
        lib: String,
        by: String,
        via: &'static str,
    },
    /// A symlink passed on the way to `target` (absolute).
    SymlinkTo { target: String },
    /// What the kept symlink `link` (inside a kept folder) points at.
    TargetOf { link: String },
    /// A rule for what the loader cannot see.
    Rule(Rule),
    /// `--include PATTERN`.
    Include { pattern: String },
    /// A traced process touched the path.
    Observed { how: ObservedHow, by: String },
    /// Not from the source: pare wrote the file for the new image.
    WrittenByPare(Generated),
}

/// The rules of [`crate::rules`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// `etc/nsswitch.conf`, kept with a glibc `libc.so.6`.
    NssConfig,
    /// A `libnss_*` module, for the databases naming its service.
    NssModule { databases: Vec<String> },
    /// `os-release`, for scanners.
    OsIdentity,
    /// The CA bundle a kept TLS library reads.
    CaCertificates { library: String },
    /// `etc/localtime`, `etc/timezone`.
    LocalTime,
    /// The zone the image's `TZ` names.
    Tz { zone: String },
    /// `--include-tz`.
    IncludeTz,
    /// `etc/ld.so.cache`, which found kept libraries: a `dlopen` by name
    /// reads it too.
    LoaderCache,
    /// Part of what the interpreter at `interpreter` loads at run time by
    /// its own rules (`what`: "standard library (sys.prefix /usr)",
    /// "@INC", "JRE home", …).
    InterpreterLibrary { interpreter: String, what: String },
    /// A library in `folder`, which the loader's configuration adds, kept
    /// because `program` imports `dlopen` (a plugin found by name).
    Plugin { folder: String, program: String },
    /// A folder every program may assume (`/tmp`, `/run`), kept empty.
    Skeleton,
    /// The locale `name` that the environment's `variable` names.
    Locale { name: String, variable: String },
    /// glibc's gconv converters, which `iconv_open` in `program` loads.
    Gconv { program: String },
    /// Data (conffiles, own folders) of `package`, which the kept server
    /// `program` belongs to (or a same-source dependency of it).
    PackageData { package: String, program: String },
    /// Named as a path in the kept configuration file `file` of a
    /// package's data.
    NamedInConfiguration { file: String },
    /// A kept object whose `DT_SONAME` is `lib`, which `to` needs and no
    /// search rule finds: loaded first (by path), it provides the name.
    ProvidesLibrary { lib: String, to: String },
    /// Named by an argument of the program at `program` (`argument`:
    /// the word or option, `/app/app.py`, `-m awslambdaric`, `-cp /app`).
    Argument { program: String, argument: String },
    /// A program the script at `script` runs by name (`command`: the
    /// command as the script writes it, `` `id` ``, `system("id")`).
    RunBy { script: String, command: String },
}

/// What pare wrote for the new image (package metadata and users).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Generated {
    /// `etc/passwd` and `etc/group` reduced.
    UsersAndGroups,
    /// `status.d/PACKAGE`.
    DpkgStatus { package: String },
    /// `status.d/PACKAGE.md5sums`.
    DpkgMd5sums { package: String },
    /// `lib/apk/db/installed` reduced.
    ApkDatabase,
    /// An `rpmdb.sqlite` reduced (or rewritten from Berkeley DB).
    RpmDatabase,
}

/// The kind of a reason that names one object among others: reasons of
/// one kind are folded into one line naming a few of their objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind<'a> {
    Needed { lib: &'a str, via: &'static str },
    Interpreter,
    SymlinkTo,
    TargetOf,
    Observed(ObservedHow),
}

impl Kind<'_> {
    /// The text before and after the object(s) named.
    pub(crate) fn around(&self) -> (String, String) {
        match self {
            Kind::Needed { lib, via } => {
                (format!("{lib} needed by "), format!(" (found via {via})"))
            }
            Kind::Interpreter => ("program interpreter of ".into(), String::new()),
            Kind::SymlinkTo => ("symlink on the way to ".into(), String::new()),
            Kind::TargetOf => ("target of the kept symlink ".into(), String::new()),
            Kind::Observed(how) => (format!("{how} by "), String::new()),
        }
    }
}

impl Why {
    /// The kind and the object named, for reasons that name one.
    pub(crate) fn object(&self) -> Option<(Kind<'_>, &str)> {
        match self {
            Why::Needed { lib, by, via } => Some((Kind::Needed { lib, via }, by)),
            Why::Interpreter { of } => Some((Kind::Interpreter, of)),
            Why::SymlinkTo { target } => Some((Kind::SymlinkTo, target)),
            Why::TargetOf { link } => Some((Kind::TargetOf, link)),
            Why::Observed { how, by } => Some((Kind::Observed(*how), by)),
            _ => None,
        }
    }
}

/// pare-elf's reasons, at the boundary.
impl From<&Reason> for Why {
    fn from(reason: &Reason) -> Why {
        match reason {
            Reason::EntryPoint => Why::EntryPoint,
            Reason::Interpreter(of) => Why::Interpreter { of: of.clone() },
            Reason::Needed { by, name, how } => Why::Needed {
                lib: name.clone(),
                by: by.clone(),
                via: how,
            },
            Reason::Link { to } => Why::SymlinkTo { target: to.clone() },
        }
    }
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((kind, object)) = self.object() {
            let (head, tail) = kind.around();
            return write!(f, "{head}{object}{tail}");
        }
        match self {
            Why::EntryPoint => f.write_str("entry point"),
            Why::Rule(rule) => rule.fmt(f),
            Why::Include { pattern } => write!(f, "--include {pattern}"),
            Why::WrittenByPare(what) => write!(f, "written by pare: {what}"),
            Why::Needed { .. }
            | Why::Interpreter { .. }
            | Why::SymlinkTo { .. }
            | Why::TargetOf { .. }
            | Why::Observed { .. } => unreachable!("rendered with their object above"),
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::NssConfig => f.write_str("glibc's name-service configuration"),
            Rule::NssModule { databases } => {
                write!(f, "NSS module for {} (/{NSSWITCH})", databases.join(", "))
            }
            Rule::OsIdentity => f.write_str("the OS identity scanners read"),
            Rule::CaCertificates { library } => write!(f, "CA certificates for {library}"),
            Rule::LocalTime => f.write_str("the local time zone"),
            Rule::Tz { zone } => write!(f, "TZ={zone} in the image's environment"),
            Rule::IncludeTz => f.write_str("--include-tz"),
            Rule::LoaderCache => f.write_str(
                "the loader's cache, which found kept libraries (dlopen by name reads it)",
            ),
            Rule::InterpreterLibrary { interpreter, what } => {
                write!(f, "{what} of {interpreter}")
            }
            Rule::Skeleton => f.write_str("a folder programs expect, kept empty"),
            Rule::Plugin { folder, program } => write!(
                f,
                "in {folder}, which the loader's configuration adds, for dlopen in {program}"
            ),
            Rule::Locale { name, variable } => {
                write!(
                    f,
                    "locale {name}, which {variable} in the image's environment names"
                )
            }
            Rule::Gconv { program } => {
                write!(f, "gconv converters, which iconv_open in {program} loads")
            }
            Rule::PackageData { package, program } => {
                write!(f, "data of package {package}, installed with {program}")
            }
            Rule::NamedInConfiguration { file } => write!(f, "named in {file}"),
            Rule::ProvidesLibrary { lib, to } => write!(
                f,
                "provides {lib} to {to}, which no search path finds (loaded first, by path)"
            ),
            Rule::Argument { program, argument } => {
                write!(f, "named by the argument {argument} of {program}")
            }
            Rule::RunBy { script, command } => write!(f, "run by {script} as `{command}`"),
        }
    }
}

impl fmt::Display for Generated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Generated::UsersAndGroups => {
                f.write_str("reduced to root, USER and the owners of kept files")
            }
            Generated::DpkgStatus { package } => write!(
                f,
                "dpkg status of {package}, which owns kept files, for scanners"
            ),
            Generated::DpkgMd5sums { package } => {
                write!(f, "md5sums of {package}'s kept files, for scanners")
            }
            Generated::ApkDatabase => {
                f.write_str("apk database of the packages that own kept files, for scanners")
            }
            Generated::RpmDatabase => {
                f.write_str("rpm database of the packages that own kept files, for scanners")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text `--explain` and `--report` have always shown, one row a
    /// variant: what users and scripts read must not drift.
    #[test]
    fn reasons_render_as_before() {
        let cases: Vec<(Why, &str)> = vec![
            (Why::EntryPoint, "entry point"),
            (
                Why::Interpreter {
                    of: "/bin/x".into(),
                },
                "program interpreter of /bin/x",
            ),
            (
                Why::Needed {
                    lib: "libc.so.6".into(),
                    by: "/bin/x".into(),
                    via: "ld.so.cache",
                },
                "libc.so.6 needed by /bin/x (found via ld.so.cache)",
            ),
            (
                Why::SymlinkTo {
                    target: "/usr/lib".into(),
                },
                "symlink on the way to /usr/lib",
            ),
            (
                Why::Rule(Rule::NssConfig),
                "glibc's name-service configuration",
            ),
            (
                Why::Rule(Rule::NssModule {
                    databases: vec!["passwd".into(), "group".into()],
                }),
                "NSS module for passwd, group (/etc/nsswitch.conf)",
            ),
            (Why::Rule(Rule::OsIdentity), "the OS identity scanners read"),
            (
                Why::Rule(Rule::CaCertificates {
                    library: "/usr/lib/libssl.so.3".into(),
                }),
                "CA certificates for /usr/lib/libssl.so.3",
            ),
            (Why::Rule(Rule::LocalTime), "the local time zone"),
            (
                Why::Rule(Rule::Tz {
                    zone: "Europe/Paris".into(),
                }),
                "TZ=Europe/Paris in the image's environment",
            ),
            (Why::Rule(Rule::IncludeTz), "--include-tz"),
            (
                Why::TargetOf {
                    link: "/usr/lib/jvm/jre/conf".into(),
                },
                "target of the kept symlink /usr/lib/jvm/jre/conf",
            ),
            (
                Why::Rule(Rule::InterpreterLibrary {
                    interpreter: "/usr/bin/python3.11".into(),
                    what: "standard library".into(),
                }),
                "standard library of /usr/bin/python3.11",
            ),
            (
                Why::Rule(Rule::Skeleton),
                "a folder programs expect, kept empty",
            ),
            (
                Why::Rule(Rule::Locale {
                    name: "C.UTF-8".into(),
                    variable: "LANG".into(),
                }),
                "locale C.UTF-8, which LANG in the image's environment names",
            ),
            (
                Why::Rule(Rule::Gconv {
                    program: "/usr/local/bin/textd".into(),
                }),
                "gconv converters, which iconv_open in /usr/local/bin/textd loads",
            ),
            (
                Why::Rule(Rule::PackageData {
                    package: "nginx-common".into(),
                    program: "/usr/sbin/nginx".into(),
                }),
                "data of package nginx-common, installed with /usr/sbin/nginx",
            ),
            (
                Why::Rule(Rule::NamedInConfiguration {
                    file: "/etc/nginx/sites-available/default".into(),
                }),
                "named in /etc/nginx/sites-available/default",
            ),
            (
                Why::Rule(Rule::ProvidesLibrary {
                    lib: "libjvm.so".into(),
                    to: "/jre/lib/libjava.so".into(),
                }),
                "provides libjvm.so to /jre/lib/libjava.so, which no search path finds (loaded first, by path)",
            ),
            (
                Why::Rule(Rule::Argument {
                    program: "/usr/bin/python3.11".into(),
                    argument: "/app/app.py".into(),
                }),
                "named by the argument /app/app.py of /usr/bin/python3.11",
            ),
            (
                Why::Rule(Rule::RunBy {
                    script: "/app/app.pl".into(),
                    command: "id -u".into(),
                }),
                "run by /app/app.pl as `id -u`",
            ),
            (
                Why::Include {
                    pattern: "/app/*.py".into(),
                },
                "--include /app/*.py",
            ),
            (
                Why::Observed {
                    how: ObservedHow::Opened,
                    by: "nginx (pid 7)".into(),
                },
                "opened by nginx (pid 7)",
            ),
            (
                Why::WrittenByPare(Generated::UsersAndGroups),
                "written by pare: reduced to root, USER and the owners of kept files",
            ),
            (
                Why::WrittenByPare(Generated::DpkgStatus {
                    package: "libc6".into(),
                }),
                "written by pare: dpkg status of libc6, which owns kept files, for scanners",
            ),
            (
                Why::WrittenByPare(Generated::DpkgMd5sums {
                    package: "libc6".into(),
                }),
                "written by pare: md5sums of libc6's kept files, for scanners",
            ),
            (
                Why::WrittenByPare(Generated::ApkDatabase),
                "written by pare: apk database of the packages that own kept files, for scanners",
            ),
            (
                Why::WrittenByPare(Generated::RpmDatabase),
                "written by pare: rpm database of the packages that own kept files, for scanners",
            ),
        ];
        for (why, text) in cases {
            assert_eq!(why.to_string(), text, "{why:?}");
        }
    }

    #[test]
    fn pare_elf_reasons_read_the_same_as_whys() {
        for reason in [
            Reason::EntryPoint,
            Reason::Interpreter("/bin/x".into()),
            Reason::Needed {
                by: "/bin/x".into(),
                name: "libm.so.6".into(),
                how: "DT_RUNPATH",
            },
            Reason::Link { to: "/usr".into() },
        ] {
            assert_eq!(Why::from(&reason).to_string(), reason.to_string());
        }
    }
}
