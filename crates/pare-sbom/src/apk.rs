//! Alpine packages: `lib/apk/db/installed`, one lossless model used by the
//! cataloger here and by minify's reduction.
//!
//! The database is one record a package, records separated by a blank
//! line, each line `K:value` with a one-character key. Package fields come
//! first; `F:` starts a folder (its `M:`, `a:` and `Z:` lines follow), `R:`
//! a file in it (its own `a:` and `Z:` lines follow). A [`Record`] keeps
//! every line in order, each with the part of the package it describes, so
//! a reduced record is the original with the lines of dropped files and
//! folders left out, nothing rewritten.
//!
//! Where: Syft's glob `**/lib/apk/db/installed` (any folder, the root
//! included); the image's own database is [`INSTALLED`], the one minify
//! reduces.

use pare_image::Flattened;
use pare_image::tree::NodeKind;

use crate::model::{Catalog, Distro, Package, PackageType};
use crate::purl;
use crate::read::{layer_of, read_text};

pub const INSTALLED: &str = "lib/apk/db/installed";
/// Beside a database at `ROOT/lib/apk/db/installed`, the
/// `ROOT/etc/apk/repositories` that names the release when no os-release
/// does (as Syft looks for it).
const REPOSITORIES: &str = "etc/apk/repositories";

/// Whether `path` is `suffix` or ends with `/suffix` (a `**/suffix` glob).
fn under_any_folder(path: &str, suffix: &str) -> bool {
    path.strip_suffix(suffix)
        .is_some_and(|rest| rest.is_empty() || rest.ends_with('/'))
}

pub fn wants(path: &str) -> bool {
    under_any_folder(path, INSTALLED) || under_any_folder(path, REPOSITORIES)
}

/// The part of a record a line describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// The package itself (`P:`, `V:`, `D:`, …).
    Package,
    /// The folder of [`Record::folders`] at this index (`F:`, `M:`, …).
    Folder(usize),
    /// The file of [`Record::files`] at this index (`R:`, `a:`, `Z:`).
    File(usize),
    /// Neither a field nor blank: kept here, never written back.
    Junk,
}

/// One line of a record, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    pub owner: Owner,
}

impl Line {
    /// The key and value of a field line (the key may be any character).
    fn field(&self) -> Option<(char, &str)> {
        let mut chars = self.text.chars();
        match (chars.next(), chars.next()) {
            (Some(key), Some(':')) => Some((key, &self.text[key.len_utf8() + 1..])),
            _ => None,
        }
    }
}

/// A file a package installed: its folder (an index of
/// [`Record::folders`]; none before the first `F:`) and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    pub folder: Option<usize>,
    pub name: String,
}

/// One package record, losslessly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// 1-based place of the record in the database.
    pub index: usize,
    /// Every non-blank line, in order.
    pub lines: Vec<Line>,
    /// The `F:` folders, relative to the root.
    pub folders: Vec<String>,
    pub files: Vec<File>,
}

impl Record {
    /// The first field with `key`.
    pub fn get(&self, key: char) -> Option<&str> {
        self.lines
            .iter()
            .filter_map(Line::field)
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }

    /// A package: a record with a name and a version (`P:` and `V:`).
    pub fn is_package(&self) -> bool {
        self.get('P').is_some() && self.get('V').is_some()
    }

    /// The path of file `file` relative to the root.
    pub fn path(&self, file: &File) -> String {
        match file.folder.and_then(|f| self.folders.get(f)) {
            Some(folder) if !folder.is_empty() => format!("{folder}/{}", file.name),
            _ => file.name.clone(),
        }
    }

    /// Lines that are neither fields nor blank.
    pub fn junk(&self) -> usize {
        self.lines.iter().filter(|l| l.owner == Owner::Junk).count()
    }

    /// The record with only the files whose path (relative) `keep`
    /// accepts and the folders holding them, every other line as it was,
    /// in its place; `None` when no file is kept.
    pub fn reduced(&self, keep: impl Fn(&str) -> bool) -> Option<String> {
        let kept: Vec<bool> = self.files.iter().map(|f| keep(&self.path(f))).collect();
        if !kept.contains(&true) {
            return None;
        }
        let folders: std::collections::HashSet<usize> = self
            .files
            .iter()
            .zip(&kept)
            .filter(|(_, kept)| **kept)
            .filter_map(|(f, _)| f.folder)
            .collect();
        let lines: Vec<&str> = self
            .lines
            .iter()
            .filter(|l| match l.owner {
                Owner::Package => true,
                Owner::Folder(i) => folders.contains(&i),
                Owner::File(j) => kept[j],
                Owner::Junk => false,
            })
            .map(|l| l.text.as_str())
            .collect();
        Some(lines.join("\n"))
    }
}

/// Every record of an installed database; never fails (a record without
/// a name or version is left for the caller to report, see
/// [`Record::is_package`]).
pub fn parse_records(text: &str) -> Vec<Record> {
    let mut records = Vec::new();
    for (index, block) in text.split("\n\n").enumerate() {
        if block.trim().is_empty() {
            continue;
        }
        let mut record = Record {
            index: index + 1,
            lines: Vec::new(),
            folders: Vec::new(),
            files: Vec::new(),
        };
        let mut folder = None;
        let mut file = None;
        for text in block.lines().filter(|l| !l.trim().is_empty()) {
            let mut line = Line {
                text: text.to_string(),
                owner: Owner::Junk,
            };
            line.owner = match line.field() {
                None => Owner::Junk,
                Some(('F', value)) => {
                    record.folders.push(value.to_string());
                    folder = Some(record.folders.len() - 1);
                    file = None;
                    Owner::Folder(record.folders.len() - 1)
                }
                Some(('R', value)) => {
                    record.files.push(File {
                        folder,
                        name: value.to_string(),
                    });
                    file = Some(record.files.len() - 1);
                    Owner::File(record.files.len() - 1)
                }
                Some(('a' | 'Z', _)) => match (file, folder) {
                    (Some(j), _) => Owner::File(j),
                    (None, Some(i)) => Owner::Folder(i),
                    (None, None) => Owner::Package,
                },
                Some(('M', _)) => folder.map_or(Owner::Package, Owner::Folder),
                Some(_) => Owner::Package,
            };
            record.lines.push(line);
        }
        records.push(record);
    }
    records
}

pub fn catalog(flat: &Flattened, distro: Option<&Distro>, out: &mut Catalog) {
    let databases: Vec<String> = flat
        .tree
        .iter()
        .filter(|(p, n)| matches!(n.kind, NodeKind::File(_)) && under_any_folder(p, INSTALLED))
        .map(|(p, _)| p.to_string())
        .collect();
    for path in databases {
        let Some(text) = read_text(flat, &path, out) else {
            continue;
        };
        // Without an os-release, the release the repositories name.
        let root = &path[..path.len() - INSTALLED.len()];
        let from_repositories = match distro {
            Some(_) => None,
            None => read_text(flat, &format!("{root}{REPOSITORIES}"), out)
                .and_then(|text| release_from_repositories(&text)),
        };
        let distro = distro.or(from_repositories.as_ref());
        let layer = layer_of(flat, &path);
        out.packages.extend(
            parse_at(&text, &path, distro, &mut out.warnings)
                .into_iter()
                .map(|mut p| {
                    p.layer = layer;
                    p
                }),
        );
    }
}

/// The release named by the first `https://….alpinelinux.org/alpine/vX.Y/REPO`
/// line of an `etc/apk/repositories`, as Syft reads it (`edge` and
/// mirrors name none).
pub fn release_from_repositories(text: &str) -> Option<Distro> {
    static LINE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let line = LINE.get_or_init(|| {
        regex::Regex::new(r"(?m)^https://.*\.alpinelinux\.org/alpine/v([^/]+)/([a-zA-Z0-9_]+)$")
            .expect("a valid pattern")
    });
    let version = line.captures(text)?.get(1)?.as_str();
    Some(Distro {
        id: "alpine".into(),
        version_id: Some(version.to_string()),
        ..Distro::default()
    })
}

/// Licenses from an `L:` value, by Syft's rule: the whole value when it
/// is a valid SPDX expression (`MIT AND BSD-3-Clause`, `GPL-2.0-or-later`),
/// else each space-separated word (`MIT BSD GPL2+` is three).
pub fn licenses(value: &str) -> Vec<String> {
    if value.is_empty() {
        return Vec::new();
    }
    if is_spdx_expression(value) {
        return vec![value.to_string()];
    }
    value.split(' ').map(str::to_string).collect()
}

/// Whether `text` is an SPDX expression as Syft's validator (go-spdx)
/// takes one: identifiers from the SPDX list, deprecated ones too (the
/// `spdx` crate holds the list and the grammar), operators `AND`, `OR`,
/// `WITH` in upper case only. One difference remains: go-spdx matches
/// identifiers in any case, the `spdx` crate only in the list's case.
fn is_spdx_expression(text: &str) -> bool {
    let lower_operator = text.split([' ', '(', ')']).any(|word| {
        ["and", "or", "with"]
            .iter()
            .any(|op| word.eq_ignore_ascii_case(op) && word != op.to_ascii_uppercase())
    });
    if lower_operator {
        return false;
    }
    let mode = spdx::ParseMode {
        allow_slash_as_or_operator: false,
        allow_imprecise_license_names: false,
        allow_postfix_plus_on_gpl: true,
        allow_deprecated: true,
        allow_unknown: false,
    };
    spdx::Expression::parse_mode(text, mode).is_ok()
}

/// The packages of the installed database at [`INSTALLED`]; records that
/// are not packages become warnings.
pub fn parse(text: &str, distro: Option<&Distro>, warnings: &mut Vec<String>) -> Vec<Package> {
    parse_at(text, INSTALLED, distro, warnings)
}

/// [`parse`] for the database at `path`.
fn parse_at(
    text: &str,
    path: &str,
    distro: Option<&Distro>,
    warnings: &mut Vec<String>,
) -> Vec<Package> {
    let mut packages = Vec::new();
    for record in parse_records(text) {
        let (Some(name), Some(version)) = (record.get('P'), record.get('V')) else {
            warnings.push(format!(
                "/{path}: entry {} has no P:/V: fields ({} unreadable lines); skipped",
                record.index,
                record.junk()
            ));
            continue;
        };
        let files = record
            .files
            .iter()
            .map(|f| format!("/{}", record.path(f)))
            .collect();
        let arch = record.get('A').map(str::to_string);
        let origin = record.get('o').filter(|o| *o != name).unwrap_or("");
        let purl = purl::build(
            "apk",
            Some(&distro.map_or("alpine".to_string(), |d| d.id.to_lowercase())),
            name,
            version,
            &[
                ("arch", arch.clone().unwrap_or_default()),
                ("distro", distro.map(Distro::qualifier).unwrap_or_default()),
                ("upstream", origin.to_string()),
            ],
        );
        packages.push(Package {
            name: name.to_string(),
            version: version.to_string(),
            kind: PackageType::Apk,
            purl,
            cpes: purl::cpes(name, version),
            licenses: record.get('L').map(licenses).unwrap_or_default(),
            source: record.get('o').map(str::to_string),
            source_version: None,
            architecture: arch,
            files,
            found_at: format!("/{path}"),
            layer: None,
        });
    }
    packages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licenses_split_as_syft_splits_them() {
        for (value, want) in [
            ("MIT", &["MIT"][..]),
            ("GPL-2.0-or-later", &["GPL-2.0-or-later"]),
            ("MIT AND BSD-3-Clause", &["MIT AND BSD-3-Clause"]),
            (
                "(MIT OR Apache-2.0) AND Zlib",
                &["(MIT OR Apache-2.0) AND Zlib"],
            ),
            (
                "GPL-2.0+ WITH Classpath-exception-2.0",
                &["GPL-2.0+ WITH Classpath-exception-2.0"],
            ),
            ("MIT BSD GPL2+", &["MIT", "BSD", "GPL2+"]),
            ("MIT and BSD-3-Clause", &["MIT", "and", "BSD-3-Clause"]),
            (
                "GPL-2.0-only AND custom",
                &["GPL-2.0-only", "AND", "custom"],
            ),
            ("custom", &["custom"]),
            ("LicenseRef-x AND MIT", &["LicenseRef-x AND MIT"]),
            ("", &[]),
        ] {
            assert_eq!(licenses(value), want, "{value}");
        }
    }

    #[test]
    fn the_release_comes_from_the_repositories_without_os_release() {
        for (text, want) in [
            (
                "https://dl-cdn.alpinelinux.org/alpine/v3.19/main\nhttps://dl-cdn.alpinelinux.org/alpine/v3.19/community\n",
                Some("3.19"),
            ),
            ("http://dl-cdn.alpinelinux.org/alpine/v3.19/main\n", None),
            ("https://dl-cdn.alpinelinux.org/alpine/edge/main\n", None),
            ("https://mirror.example.org/alpine/v3.19/main\n", None),
            ("https://dl-cdn.alpinelinux.org/alpine/v3.19/main/x\n", None),
            ("", None),
        ] {
            let got = release_from_repositories(text);
            assert_eq!(
                got.as_ref().and_then(|d| d.version_id.as_deref()),
                want,
                "{text}"
            );
        }
    }

    #[test]
    fn databases_are_found_by_syfts_glob() {
        for (path, want) in [
            ("lib/apk/db/installed", true),
            ("chroot/lib/apk/db/installed", true),
            ("usr/lib/apk/db/installed", true),
            ("xlib/apk/db/installed", false),
            ("lib/apk/db/installed.old", false),
            ("etc/apk/repositories", true),
        ] {
            assert_eq!(wants(path), want, "{path}");
        }
    }

    #[test]
    fn lines_belong_to_the_package_folder_or_file_they_follow() {
        use Owner::*;
        for (name, record, want) in [
            (
                "package fields, a folder with its mode, files with theirs",
                "P:x\nV:1\nF:usr/bin\nM:0:0:755\nR:a\na:0:0:755\nZ:Q1a=\nR:b\nZ:Q1b=",
                &[
                    Package,
                    Package,
                    Folder(0),
                    Folder(0),
                    File(0),
                    File(0),
                    File(0),
                    File(1),
                    File(1),
                ][..],
            ),
            (
                "a file before any folder lives at the root",
                "P:x\nV:1\nR:top\nZ:Q1t=",
                &[Package, Package, File(0), File(0)],
            ),
            (
                "a new folder ends the last file's lines",
                "P:x\nF:a\nR:f\nF:b\nZ:Q1d=\nM:0:0:700",
                &[Package, Folder(0), File(0), Folder(1), Folder(1), Folder(1)],
            ),
            (
                "junk is kept apart, any character may be a key",
                "P:x\nnot a field\n\u{e9}:accent",
                &[Package, Junk, Package],
            ),
        ] {
            let records = parse_records(record);
            assert_eq!(records.len(), 1, "{name}");
            let owners: Vec<Owner> = records[0].lines.iter().map(|l| l.owner).collect();
            assert_eq!(owners, want, "{name}");
        }
    }

    #[test]
    fn a_reduced_record_is_the_original_without_the_dropped_files() {
        let record = "P:x\nV:1\nF:usr/bin\nM:0:0:755\nR:a\nZ:Q1a=\nR:b\nZ:Q1b=\nF:etc\nR:c\nZ:Q1c=";
        for (name, keep, want) in [
            (
                "one file of the first folder",
                &["usr/bin/b"][..],
                Some("P:x\nV:1\nF:usr/bin\nM:0:0:755\nR:b\nZ:Q1b="),
            ),
            (
                "a file of each folder",
                &["usr/bin/a", "etc/c"],
                Some("P:x\nV:1\nF:usr/bin\nM:0:0:755\nR:a\nZ:Q1a=\nF:etc\nR:c\nZ:Q1c="),
            ),
            (
                "only the second folder",
                &["etc/c"],
                Some("P:x\nV:1\nF:etc\nR:c\nZ:Q1c="),
            ),
            ("nothing kept", &["usr/bin/other"], None),
        ] {
            let records = parse_records(record);
            let got = records[0].reduced(|p| keep.contains(&p));
            assert_eq!(got.as_deref(), want, "{name}");
        }
    }
}
