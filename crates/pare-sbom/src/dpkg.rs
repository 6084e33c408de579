//! Debian packages: `var/lib/dpkg/status`, distroless `status.d/` entries,
//! owned files from `info/*.list` / `*.md5sums`, licenses from
//! `usr/share/doc/*/copyright`.
//!
//! Package and architecture names become file names (`info/NAME:ARCH.list`
//! here, `status.d/NAME` in a minified image, on the host with
//! `--dockerfile`), so each is checked with [`check_name`] where it is
//! read: a record with a name that could not be a file name is skipped
//! with an [`InvalidName`] warning and never used.

use pare_image::Flattened;
use pare_image::tree::NodeKind;

use crate::control::{self, Paragraph};
use crate::model::{Catalog, Distro, Package, PackageType};
use crate::purl;
use crate::read::{layer_of, read_text};

const STATUS: &str = "var/lib/dpkg/status";
const STATUS_D: &str = "var/lib/dpkg/status.d";
const INFO: &str = "var/lib/dpkg/info";

/// Longest package or architecture name accepted: far above any real one
/// (Debian's longest are under 80), and short enough that
/// `NAME:ARCH.md5sums` stays within a file name's 255 bytes.
pub const MAX_NAME_BYTES: usize = 100;

/// Why a package or architecture name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("is empty")]
    Empty,
    #[error("is {0} bytes long, over {MAX_NAME_BYTES}")]
    TooLong(usize),
    #[error("starts with {}", shown(*.0))]
    BadStart(char),
    #[error("holds {}", shown(*.0))]
    BadCharacter(char),
    #[error("holds \"..\"")]
    DotDot,
}

/// `'c'`, or `U+XXXX` for a character that is not graphic ASCII.
fn shown(c: char) -> String {
    if c.is_ascii_graphic() {
        format!("'{c}'")
    } else {
        format!("U+{:04X}", c as u32)
    }
}

/// Checks a package or architecture name before it is used in a path.
/// Debian policy allows `[a-z0-9][a-z0-9+.-]+` for package names (and
/// `[a-z0-9-]+` for architectures); this accepts that, upper case letters
/// and single characters too (lenient, as old databases may hold them),
/// and nothing else: never `/`, NUL, a control character, `..`, or a
/// leading `-` or `.`.
pub fn check_name(name: &str) -> Result<(), NameError> {
    let first = name.chars().next().ok_or(NameError::Empty)?;
    if name.len() > MAX_NAME_BYTES {
        return Err(NameError::TooLong(name.len()));
    }
    if !first.is_ascii_alphanumeric() {
        return Err(NameError::BadStart(first));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-')))
    {
        return Err(NameError::BadCharacter(c));
    }
    if name.contains("..") {
        return Err(NameError::DotDot);
    }
    Ok(())
}

/// A database record skipped because a name in it cannot be used as (part
/// of) a file name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("/{file}:{line}: {field} \"{value}\" {problem}; record skipped")]
pub struct InvalidName {
    /// The database file (relative to the image root).
    pub file: String,
    /// The 1-based line where the record starts.
    pub line: usize,
    /// `Package` or `Architecture`.
    pub field: &'static str,
    pub value: String,
    pub problem: NameError,
}

/// The package name and architecture (empty when absent) of a record,
/// both checked with [`check_name`]; `None` without a `Package` field.
pub fn checked_names<'a>(
    p: &'a Paragraph,
    file: &str,
) -> Option<Result<(&'a str, &'a str), InvalidName>> {
    let name = p.get("Package")?;
    let arch = p.get("Architecture").unwrap_or_default();
    let invalid = |field, value: &str, problem| InvalidName {
        file: file.to_string(),
        line: p.line,
        field,
        value: value.to_string(),
        problem,
    };
    if let Err(problem) = check_name(name) {
        return Some(Err(invalid("Package", name, problem)));
    }
    if !arch.is_empty()
        && let Err(problem) = check_name(arch)
    {
        return Some(Err(invalid("Architecture", arch, problem)));
    }
    Some(Ok((name, arch)))
}

/// Whether the dpkg cataloger needs this file's bytes.
pub fn wants(path: &str) -> bool {
    path == STATUS
        || path.starts_with("var/lib/dpkg/status.d/")
        || (path.starts_with("var/lib/dpkg/info/")
            && (path.ends_with(".list") || path.ends_with(".md5sums")))
        || (path.starts_with("usr/share/doc/")
            && path.ends_with("/copyright")
            && path.matches('/').count() == 4)
}

pub fn catalog(flat: &Flattened, distro: Option<&Distro>, out: &mut Catalog) {
    if let Some(text) = read_text(flat, STATUS, out) {
        let history = status_history(flat);
        for paragraph in control::parse(&text) {
            if let Some(mut package) = package_from(&paragraph, STATUS, distro, out) {
                package.files = owned_files(flat, &package, None, out);
                package.licenses = licenses(flat, &package.name, out);
                package.layer = history.first_layer(&package.name, &package.version);
                out.packages.push(package);
            }
        }
    }
    // Distroless images keep one file per package instead of `status`.
    let entries: Vec<String> = flat
        .tree
        .children(STATUS_D)
        .filter(|(p, n)| matches!(n.kind, NodeKind::File(_)) && !p.ends_with(".md5sums"))
        .map(|(p, _)| p.to_string())
        .collect();
    for path in entries {
        let Some(text) = read_text(flat, &path, out) else {
            continue;
        };
        for paragraph in control::parse(&text) {
            if let Some(mut package) = package_from(&paragraph, &path, distro, out) {
                let md5sums = format!("{path}.md5sums");
                package.files = owned_files(flat, &package, Some(&md5sums), out);
                package.licenses = licenses(flat, &package.name, out);
                package.layer = layer_of(flat, &path);
                out.packages.push(package);
            }
        }
    }
}

/// The two names dpkg gives a package's `info/` file with extension `ext`
/// (`list`, `md5sums`): plain, and with `:ARCH` for Multi-Arch: same.
/// Empty when `name` or `arch` fails [`check_name`] (callers check names
/// where they read them; this is the second line of defence).
pub fn info_files(name: &str, arch: &str, ext: &str) -> Vec<String> {
    if check_name(name).is_err() || (!arch.is_empty() && check_name(arch).is_err()) {
        return Vec::new();
    }
    vec![
        format!("{INFO}/{name}.{ext}"),
        format!("{INFO}/{name}:{arch}.{ext}"),
    ]
}

/// Installed, by dpkg's status (deinstalled, half-installed and
/// config-files-only entries are not); distroless entries have no Status.
fn is_installed(p: &Paragraph) -> bool {
    p.get("Status")
        .is_none_or(|s| s.split_whitespace().last() == Some("installed"))
}

fn package_from(
    p: &Paragraph,
    path: &str,
    distro: Option<&Distro>,
    out: &mut Catalog,
) -> Option<Package> {
    let at = format!("/{path}:{}", p.line);
    let name = match checked_names(p, path) {
        None
        | Some(Err(InvalidName {
            problem: NameError::Empty,
            field: "Package",
            ..
        })) => {
            out.warnings
                .push(format!("{at}: entry without a Package field skipped"));
            return None;
        }
        Some(Err(invalid)) => {
            out.warnings.push(invalid.to_string());
            return None;
        }
        Some(Ok((name, _))) => name,
    };
    if !is_installed(p) {
        return None;
    }
    let Some(version) = p.get("Version").filter(|v| !v.is_empty()) else {
        out.warnings
            .push(format!("{at}: package {name} has no Version; skipped"));
        return None;
    };
    let architecture = p.get("Architecture").map(str::to_string);
    let (source, source_version) = match p.get("Source") {
        Some(source) => match source.split_once(' ') {
            Some((name, rest)) => (
                Some(name.to_string()),
                Some(
                    rest.trim()
                        .trim_start_matches('(')
                        .trim_end_matches(')')
                        .to_string(),
                ),
            ),
            None => (Some(source.to_string()), None),
        },
        None => (None, None),
    };
    let upstream = match (&source, &source_version) {
        (Some(s), Some(v)) => format!("{s}@{v}"),
        (Some(s), None) => s.clone(),
        _ => String::new(),
    };
    let namespace = distro.map_or("debian", |d| d.id.as_str());
    let purl = purl::build(
        "deb",
        Some(namespace),
        name,
        version,
        &[
            ("arch", architecture.clone().unwrap_or_default()),
            ("distro", distro.map(Distro::qualifier).unwrap_or_default()),
            ("upstream", upstream),
        ],
    );
    Some(Package {
        name: name.to_string(),
        version: version.to_string(),
        kind: PackageType::Deb,
        purl,
        cpes: purl::cpes(name, version),
        licenses: Vec::new(),
        source,
        source_version,
        architecture,
        files: Vec::new(),
        found_at: format!("/{path}"),
        layer: None,
    })
}

/// Files the package owns: every path of its md5sums (regular files, as
/// Syft lists them) and the non-folder paths of its `.list` that are in the
/// image (symlinks such as the loader's `/lib64/ld-linux-x86-64.so.2`).
fn owned_files(
    flat: &Flattened,
    package: &Package,
    md5sums: Option<&str>,
    out: &mut Catalog,
) -> Vec<String> {
    let arch = package.architecture.as_deref().unwrap_or("");
    let mut files = Vec::new();
    let sums =
        md5sums
            .map(str::to_string)
            .into_iter()
            .chain(info_files(&package.name, arch, "md5sums"));
    if let Some(text) = sums.into_iter().find_map(|s| read_text(flat, &s, out)) {
        files.extend(
            text.lines()
                .filter_map(|l| l.split_once("  ").map(|(_, p)| format!("/{}", p.trim()))),
        );
    }
    let lists = info_files(&package.name, arch, "list");
    if let Some(text) = lists.iter().find_map(|l| read_text(flat, l, out)) {
        let entries: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with('/') && l.len() > 1)
            .collect();
        // A path with others below it is a folder to dpkg, even where the
        // image has a symlink there (merged /usr: `/lib -> usr/lib`).
        let mut folders = std::collections::HashSet::new();
        for entry in &entries {
            let mut dir = *entry;
            while let Some((parent, _)) = dir.rsplit_once('/') {
                if !folders.insert(parent) {
                    break;
                }
                dir = parent;
            }
        }
        files.extend(
            entries
                .into_iter()
                .filter(|l| !folders.contains(l))
                .filter(|l| {
                    flat.tree
                        .resolve(&l[1..], false)
                        .ok()
                        .and_then(|p| flat.tree.get(&p))
                        .is_some_and(|n| !n.is_dir())
                })
                .map(str::to_string),
        );
    }
    files.sort();
    files.dedup();
    files
}

/// Declared licenses from a machine-readable (DEP-5) copyright file.
pub fn licenses(flat: &Flattened, name: &str, out: &mut Catalog) -> Vec<String> {
    let Some(text) = read_text(flat, &format!("usr/share/doc/{name}/copyright"), out) else {
        return Vec::new();
    };
    let mut found: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("License:"))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Each layer's version of `status`, to tell which layer brought a package.
struct StatusHistory {
    versions: Vec<(usize, std::collections::HashSet<(String, String)>)>,
}

fn status_history(flat: &Flattened) -> StatusHistory {
    let versions = flat
        .versions(STATUS)
        .into_iter()
        .map(|c| {
            let text = String::from_utf8_lossy(&c.bytes);
            let set = control::parse(&text)
                .iter()
                .filter(|p| is_installed(p))
                .filter_map(|p| {
                    Some((p.get("Package")?.to_string(), p.get("Version")?.to_string()))
                })
                .collect();
            (c.layer, set)
        })
        .collect();
    StatusHistory { versions }
}

impl StatusHistory {
    /// The earliest layer from which every later `status` lists the package
    /// at this version.
    fn first_layer(&self, name: &str, version: &str) -> Option<usize> {
        let key = (name.to_string(), version.to_string());
        let mut first = None;
        for (layer, set) in self.versions.iter().rev() {
            if set.contains(&key) {
                first = Some(*layer);
            } else {
                break;
            }
        }
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pare_image::{ImageRef, Platform, Source};

    #[test]
    fn names_that_could_leave_a_folder_are_refused() {
        let long = "a".repeat(MAX_NAME_BYTES + 1);
        for (name, want) in [
            ("libc6", Ok(())),
            ("libstdc++6", Ok(())),
            ("python3.11-minimal", Ok(())),
            ("amd64", Ok(())),
            ("musl-linux-amd64", Ok(())),
            ("0ad", Ok(())),
            ("R", Ok(())),
            ("Libfoo", Ok(())),
            ("", Err(NameError::Empty)),
            ("../../etc/x", Err(NameError::BadStart('.'))),
            ("..", Err(NameError::BadStart('.'))),
            (".hidden", Err(NameError::BadStart('.'))),
            ("-rf", Err(NameError::BadStart('-'))),
            ("+x", Err(NameError::BadStart('+'))),
            ("a/b", Err(NameError::BadCharacter('/'))),
            ("a..b", Err(NameError::DotDot)),
            ("nul\0", Err(NameError::BadCharacter('\0'))),
            ("esc\u{1b}[31m", Err(NameError::BadCharacter('\u{1b}'))),
            ("cr\r", Err(NameError::BadCharacter('\r'))),
            ("sp ace", Err(NameError::BadCharacter(' '))),
            ("colon:amd64", Err(NameError::BadCharacter(':'))),
            ("back\\slash", Err(NameError::BadCharacter('\\'))),
            ("caf\u{e9}", Err(NameError::BadCharacter('\u{e9}'))),
            (long.as_str(), Err(NameError::TooLong(MAX_NAME_BYTES + 1))),
        ] {
            assert_eq!(check_name(name), want, "{name:?}");
        }
    }

    #[test]
    fn records_with_hostile_names_are_skipped_with_a_warning() {
        let status = "\
Package: ../../../../../../tmp/pwned
Status: install ok installed
Version: 1

Package: libc6
Status: install ok installed
Architecture: amd64
Version: 2.36

Package: evil\u{1b}[31m
Status: install ok installed
Version: 1

Package: sneaky
Status: install ok installed
Architecture: ../../x
Version: 1
";
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let info = root.join("var/lib/dpkg/info");
        std::fs::create_dir_all(&info).unwrap();
        std::fs::write(root.join(STATUS), status).unwrap();
        std::fs::write(info.join("libc6:amd64.list"), "/lib/libc.so.6\n").unwrap();
        let reference = ImageRef::Dir { path: root };
        let flat = Source::open(&reference, &Platform::default())
            .unwrap()
            .flatten_with(crate::flatten_options())
            .unwrap();
        let catalog = crate::catalog(&flat);
        let names: Vec<&str> = catalog.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["libc6"]);
        let want = [
            "/var/lib/dpkg/status:1: Package \"../../../../../../tmp/pwned\" starts with '.'; record skipped",
            "/var/lib/dpkg/status:10: Package \"evil\u{1b}[31m\" holds U+001B; record skipped",
            "/var/lib/dpkg/status:14: Architecture \"../../x\" starts with '.'; record skipped",
        ];
        assert_eq!(catalog.warnings, want);
    }
}
