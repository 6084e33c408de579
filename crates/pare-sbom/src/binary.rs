//! Binary classifiers: programs identified by a version string in their
//! own bytes, as Syft v1.18.1's binary cataloger does, for software no
//! package database describes (python, node, redis, nginx, java, ruby, php,
//! busybox, openssl… copied into `/usr/local` or a scratch image).
//!
//! The classifiers are data, `data/classifiers.toml` (Syft's list, each
//! entry pointing at its line in Syft's `classifiers.go`); [`rules`] parses
//! them. How they run:
//!
//! * While the image is flattened, [`ClassifierScanner`] picks each regular
//!   file whose path matches a classifier's globs (or whose name matches a
//!   shared-library matcher's library pattern) and streams it through the
//!   regexes its matchers need ([`search`]: a bounded window, never the
//!   whole file), noting the first match of each, and for matchers that
//!   look at imported libraries, the file's ELF `DT_NEEDED` list.
//! * [`catalog`] then walks the final tree and evaluates each classifier's
//!   matcher over what was found, as Syft's evidence matchers do (first of
//!   `any`; `excluding` patterns veto; `shared_library` follows the
//!   imported libraries to every file so named in the image; a
//!   `path_template` regex is written from the file's path).
//! * Packages with the same name and version are one package with several
//!   locations (Syft merges them). A package any of whose files an OS
//!   package (dpkg, apk, rpm) owns is left to that package, as Syft's
//!   file-ownership-overlap rule does.
//!
//! Not like Syft: a symlink is classified by its name with its target's
//! bytes only when the target is an executable of at most 2 MiB some
//! classifier picks by its own name (see [`plan`]); shared libraries are
//! read from ELF files only (Syft also reads Mach-O and PE imports).

pub mod rules;
pub mod search;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use pare_image::Flattened;
use pare_image::scan::{ContentScanner, FileScan, Finding};
use pare_image::tree::NodeKind;

use crate::model::{Catalog, Distro, Package, PackageType};
use crate::purl;
use crate::read::layer_of;
pub use rules::rules;
use rules::{Leaf, LeafId, Matcher, Rules};
use search::{ElfImports, Groups, Probe, Search};

/// The classifiers scan during flattening and capture nothing.
pub fn wants(_path: &str) -> bool {
    false
}

/// What the scan found in one file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// Each searched leaf: its first match's named groups, or `None`.
    pub leaves: Vec<(LeafId, Option<Groups>)>,
    /// Imported libraries, when a matcher needed them and the file is ELF.
    pub imports: Option<Vec<String>>,
    /// The image's search budget ran out while this file was searched: a
    /// leaf without a match may be in the part not searched.
    pub cut_short: bool,
}

impl Evidence {
    fn leaf(&self, id: LeafId) -> Option<&Groups> {
        self.leaves.iter().find(|(l, _)| *l == id)?.1.as_ref()
    }
}

/// Regex work one image may cost, in bytes searched times regexes
/// searching them: the bound on time for hostile images (many or huge
/// files named like interpreters), some seconds of work. A real image
/// costs a few percent of it at most (the `fromsource` image, ten
/// runtimes: about 1.2 GB).
pub const SEARCH_BUDGET: u64 = 32 << 30;

/// The biggest executable searched for every classifier's regexes, ready
/// for links to it of other classifiers' names (see [`plan`]): multi-call
/// binaries (Debian's static BusyBox is 1.9 MiB, toybox less) fit; servers
/// and interpreters, whose links share their name's classifier, are not
/// searched for the rest, which was the better part of the time on images
/// full of runtimes (a bigger multi-call binary's links are missed).
pub const FOR_LINKS_MAX: u64 = 2 << 20;

/// Picks the files the classifiers look at and scans them, within one
/// [`SEARCH_BUDGET`] shared by the image's files.
pub struct ClassifierScanner {
    budget: Arc<AtomicU64>,
}

impl Default for ClassifierScanner {
    fn default() -> Self {
        ClassifierScanner::with_budget(SEARCH_BUDGET)
    }
}

impl ClassifierScanner {
    pub fn with_budget(budget: u64) -> Self {
        ClassifierScanner {
            budget: Arc::new(AtomicU64::new(budget)),
        }
    }
}

impl ContentScanner for ClassifierScanner {
    fn start(&self, path: &str, size: u64, mode: u32) -> Option<Box<dyn FileScan>> {
        let for_links = mode & 0o111 != 0 && size <= FOR_LINKS_MAX;
        let (probes, imports) = plan(rules(), path, for_links);
        (!probes.is_empty() || imports).then(|| {
            Box::new(ClassifierScan {
                search: Search::new(probes),
                imports: imports.then(ElfImports::default),
                budget: self.budget.clone(),
                cut_short: false,
            }) as Box<dyn FileScan>
        })
    }
}

struct ClassifierScan {
    search: Search,
    imports: Option<ElfImports>,
    budget: Arc<AtomicU64>,
    cut_short: bool,
}

impl FileScan for ClassifierScan {
    fn feed(&mut self, bytes: &[u8]) -> bool {
        let cost = bytes.len() as u64 * self.search.pending() as u64;
        let paid = self
            .budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(cost)
            })
            .is_ok();
        if !paid {
            self.budget.store(0, Ordering::Relaxed);
            self.cut_short = true;
            return false;
        }
        self.search.feed(bytes);
        if let Some(imports) = &mut self.imports {
            imports.feed(bytes);
        }
        // Imports need the dynamic segment, which may come late: read on.
        !self.search.done() || self.imports.is_some()
    }

    fn finish(self: Box<Self>) -> Option<Finding> {
        Some(Box::new(Evidence {
            leaves: self.search.finish(),
            imports: self.imports.and_then(ElfImports::finish),
            cut_short: self.cut_short,
        }))
    }
}

/// The regexes to search `path` (image-relative) for, and whether its
/// imported libraries are needed.
///
/// Syft globs symlinks too and reads their targets: BusyBox's `gzip` link
/// makes its gzip classifier read `/bin/busybox`. The scan sees a file
/// under its own path only, before any link to it may be known, so an
/// executable some classifier picks (BusyBox) is searched
/// for every classifier's regexes, ready for whatever links to it, when it
/// is at most [`FOR_LINKS_MAX`] bytes (`for_links`); other files are not
/// (reading every executable for every regex would cost more than the
/// whole SBOM), so a link of another classifier's name to them finds
/// nothing.
fn plan(rules: &Rules, path: &str, for_links: bool) -> (Vec<Probe>, bool) {
    let mut probes: Vec<Probe> = Vec::new();
    let mut imports = false;
    let real_path = format!("/{path}");
    let picked = rules.classifiers_for(path);
    let all: Vec<usize> = if for_links && !picked.is_empty() {
        (0..rules.classifiers.len()).collect()
    } else {
        picked
    };
    for index in all {
        collect(
            rules,
            &rules.classifiers[index].matcher,
            &real_path,
            &mut probes,
            &mut imports,
        );
    }
    let name = pare_image::paths::file_name(path);
    for (library, matcher) in &rules.libraries {
        if library.is_match(name) {
            let mut ignored = false;
            collect(rules, matcher, &real_path, &mut probes, &mut ignored);
        }
    }
    (probes, imports)
}

fn collect(rules: &Rules, m: &Matcher, path: &str, probes: &mut Vec<Probe>, imports: &mut bool) {
    let mut add = |leaf: LeafId, regex: regex::bytes::Regex, exists_only: bool| {
        if !probes.iter().any(|p| p.leaf == leaf) {
            probes.push(Probe {
                leaf,
                regex,
                exists_only,
            });
        }
    };
    match m {
        Matcher::Contents(leaf) => {
            if let Leaf::Extract(re) = &rules.leaves[*leaf] {
                add(*leaf, re.clone(), false);
            }
        }
        Matcher::PathTemplate { path: re, leaf } => {
            if let (Some(regex), Leaf::Template(_)) =
                (rendered(rules, re, *leaf, path), &rules.leaves[*leaf])
            {
                add(*leaf, regex, false);
            }
        }
        Matcher::Any(all) => {
            for m in all {
                collect(rules, m, path, probes, imports);
            }
        }
        Matcher::Excluding { patterns, matcher } => {
            for leaf in patterns {
                if let Leaf::Exists(re) = &rules.leaves[*leaf] {
                    add(*leaf, re.clone(), true);
                }
            }
            collect(rules, matcher, path, probes, imports);
        }
        Matcher::SharedLibrary { .. } => *imports = true,
    }
}

/// A path template's regex for `path`: the path regex's named groups, dots
/// escaped (Syft: "versions like 3.5 should not match any character"),
/// written into the template. `None` when the path does not match.
fn rendered(
    rules: &Rules,
    path_re: &regex::Regex,
    leaf: LeafId,
    path: &str,
) -> Option<regex::bytes::Regex> {
    let Leaf::Template(template) = &rules.leaves[leaf] else {
        return None;
    };
    let caps = path_re.captures(path)?;
    let values: Vec<(String, String)> = path_re
        .capture_names()
        .flatten()
        .map(|name| {
            let value = caps.name(name).map_or("", |m| m.as_str());
            (name.to_string(), value.replace('.', "\\."))
        })
        .collect();
    rules::bytes_regex(&rules::render(template, &values)).ok()
}

/// A version found by a matcher, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Found {
    version: String,
    update: String,
    /// The file matched first, then (for shared-library matchers) the
    /// library's files.
    locations: Vec<String>,
}

/// What the rest of the image offers a matcher: evidence of other files
/// and where files of a given name are.
trait Image {
    fn evidence_at(&self, path: &str) -> Option<&Evidence>;
    /// Image-relative paths of regular files named `name`.
    fn files_named(&self, name: &str) -> Vec<String>;
}

/// Runs matcher `m` on the file at `path` (image-relative).
fn evaluate(m: &Matcher, path: &str, evidence: &Evidence, image: &dyn Image) -> Vec<Found> {
    let real_path = format!("/{path}");
    let one = |groups: Option<&Groups>, compose: bool| -> Vec<Found> {
        groups
            .and_then(|g| version_of(g, compose))
            .map(|(version, update)| Found {
                version,
                update,
                locations: vec![path.to_string()],
            })
            .into_iter()
            .collect()
    };
    match m {
        Matcher::Contents(leaf) => one(evidence.leaf(*leaf), true),
        Matcher::PathTemplate { path: re, leaf } => {
            if re.is_match(&real_path) {
                one(evidence.leaf(*leaf), false)
            } else {
                Vec::new()
            }
        }
        Matcher::Any(all) => all
            .iter()
            .map(|m| evaluate(m, path, evidence, image))
            .find(|found| !found.is_empty())
            .unwrap_or_default(),
        Matcher::Excluding { patterns, matcher } => {
            if patterns.iter().any(|p| evidence.leaf(*p).is_some()) {
                Vec::new()
            } else {
                evaluate(matcher, path, evidence, image)
            }
        }
        Matcher::SharedLibrary { library, matcher } => {
            let mut found = Vec::new();
            for lib in evidence.imports.iter().flatten() {
                if !library.is_match(lib) {
                    continue;
                }
                for lib_path in image.files_named(lib) {
                    let Some(lib_evidence) = image.evidence_at(&lib_path) else {
                        continue;
                    };
                    for mut f in evaluate(matcher, &lib_path, lib_evidence, image) {
                        f.locations.insert(0, path.to_string());
                        found.push(f);
                    }
                }
            }
            found
        }
    }
}

/// The version (and CPE update) from a match's groups: `version`, or for
/// content matchers `major.minor.patch` as numbers, as Syft does.
fn version_of(groups: &Groups, compose: bool) -> Option<(String, String)> {
    let get = |name: &str| {
        groups
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let version = match get("version") {
        Some(v) => v.to_string(),
        None if compose => {
            let n = |name| get(name)?.parse::<u64>().ok();
            format!("{}.{}.{}", n("major")?, n("minor")?, n("patch")?)
        }
        None => return None,
    };
    Some((version, get("update").unwrap_or("").to_string()))
}

/// One package as Syft's classifier cataloger makes it.
#[derive(Debug)]
struct Classified {
    classifier: usize,
    found: Found,
}

/// The CPE template with the version and update filled in.
fn cpe(template: &str, version: &str, update: &str) -> String {
    let mut fields: Vec<String> = template.split(':').map(str::to_string).collect();
    fields.resize(13, "*".to_string());
    fields[5] = purl::cpe_escape(version);
    fields[6] = if update.is_empty() {
        "*".to_string()
    } else {
        purl::cpe_escape(update)
    };
    fields.join(":")
}

/// Every classifier over every file, in Syft's order (classifier by
/// classifier); packages of the same name and version merged. `paths` are
/// (path the globs see, the file's own path, its evidence).
fn classify(
    rules: &Rules,
    paths: &[(String, String, &Evidence)],
    image: &dyn Image,
) -> Vec<Classified> {
    let mut hits: Vec<(usize, &str, &Evidence)> = Vec::new();
    for (path, real, evidence) in paths {
        for index in rules.classifiers_for(path) {
            hits.push((index, real, evidence));
        }
    }
    hits.sort_by_key(|(index, _, _)| *index);
    let mut out: Vec<Classified> = Vec::new();
    for (index, path, evidence) in hits {
        for found in evaluate(&rules.classifiers[index].matcher, path, evidence, image) {
            let name = &rules.classifiers[index].package;
            match out.iter_mut().find(|c| {
                &rules.classifiers[c.classifier].package == name && c.found.version == found.version
            }) {
                Some(same) => {
                    for location in found.locations {
                        if !same.found.locations.contains(&location) {
                            same.found.locations.push(location);
                        }
                    }
                }
                None => out.push(Classified {
                    classifier: index,
                    found,
                }),
            }
        }
    }
    out
}

struct Tree<'a> {
    flat: &'a Flattened,
    by_name: HashMap<&'a str, Vec<String>>,
}

impl Image for Tree<'_> {
    fn evidence_at(&self, path: &str) -> Option<&Evidence> {
        let id = self.flat.tree.resolve_id(path, true).ok()??;
        match self.flat.tree.node(id).kind {
            NodeKind::File(content) => self.flat.found::<Evidence>(content),
            _ => None,
        }
    }

    fn files_named(&self, name: &str) -> Vec<String> {
        self.by_name.get(name).cloned().unwrap_or_default()
    }
}

pub fn catalog(flat: &Flattened, _distro: Option<&Distro>, out: &mut Catalog) {
    let rules = rules();
    // Every path that is, or links to, a scanned file: (path, the file's
    // own path — Syft's "real path" — and what its scan found).
    let mut paths: Vec<(String, String, &Evidence)> = Vec::new();
    for (path, node) in flat.tree.iter() {
        let real = match &node.kind {
            NodeKind::File(_) => path.clone(),
            NodeKind::Symlink(_) => match flat.tree.resolve(&path, true) {
                Ok(real) => real,
                Err(_) => continue,
            },
            _ => continue,
        };
        let evidence = match flat.tree.resolve_id(&real, false) {
            Ok(Some(id)) => match flat.tree.node(id).kind {
                NodeKind::File(content) => flat.found::<Evidence>(content),
                _ => None,
            },
            _ => None,
        };
        if let Some(evidence) = evidence {
            paths.push((path, real, evidence));
        }
    }
    let cut_short: Vec<&str> = paths
        .iter()
        .filter(|(path, real, e)| e.cut_short && path == real)
        .map(|(path, _, _)| path.as_str())
        .collect();
    if !cut_short.is_empty() {
        out.warnings.push(format!(
            "binary classifiers: the image's search budget ran out; {} file(s) searched in part, from /{}",
            cut_short.len(),
            cut_short[0]
        ));
    }
    let mut by_name: HashMap<&str, Vec<String>> = HashMap::new();
    for (path, real, _) in &paths {
        by_name
            .entry(pare_image::paths::file_name(path))
            .or_default()
            .push(real.clone());
    }
    let tree = Tree { flat, by_name };
    let classified = classify(rules, &paths, &tree);

    let owned = crate::read::owned_by_os_packages(flat, out);
    // The JVM installations the Java cataloger found (it runs before this
    // one, see CATALOGERS), by their folders.
    let jvm_dirs: Vec<String> = out
        .packages
        .iter()
        .filter(|p| crate::java::is_jvm_installation(p))
        .map(|p| {
            let at = p.found_at.trim_start_matches('/');
            at.rsplit_once('/').map_or("", |(d, _)| d).to_string()
        })
        .collect();
    for c in classified {
        let locations = &c.found.locations;
        if locations.iter().any(|l| owned.contains(l)) {
            continue;
        }
        // Syft's JVM overlap rule: a classifier's package inside a JVM
        // installation gives way to the installation.
        if locations
            .iter()
            .any(|l| jvm_dirs.iter().any(|d| l.starts_with(&format!("{d}/"))))
        {
            continue;
        }
        out.packages
            .push(package(rules, &c, layer_of(flat, &locations[0])));
    }
}

fn package(rules: &Rules, c: &Classified, layer: Option<usize>) -> Package {
    let classifier = &rules.classifiers[c.classifier];
    let version = c.found.version.clone();
    let files: Vec<String> = c.found.locations.iter().map(|l| format!("/{l}")).collect();
    Package {
        name: classifier.package.clone(),
        purl: purl::build(
            &classifier.purl_type,
            classifier.purl_namespace.as_deref(),
            &classifier.purl_name,
            &version,
            &[],
        ),
        cpes: classifier
            .cpes
            .iter()
            .map(|t| cpe(t, &version, &c.found.update))
            .collect(),
        version,
        kind: PackageType::Binary,
        licenses: Vec::new(),
        source: Some(classifier.class.clone()),
        source_version: None,
        architecture: None,
        found_at: files[0].clone(),
        files,
        layer,
    }
}

#[cfg(test)]
mod tests;
