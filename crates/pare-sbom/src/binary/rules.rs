//! The classifiers as data: `data/classifiers.toml` (Syft v1.18.1's list),
//! parsed and compiled once. A matcher is a tree whose leaves are regexes
//! over a file's bytes ([`Leaf`]); the streaming search finds each leaf's
//! first match while the file goes past, and [`super::evaluate`] combines
//! the leaves' results the way Syft's evidence matchers do.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;

const DATA: &str = include_str!("../../data/classifiers.toml");

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    matchers: BTreeMap<String, Spec>,
    classifier: Vec<ClassifierSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassifierSpec {
    class: String,
    source: String,
    globs: Vec<String>,
    package: String,
    purl: String,
    cpes: Vec<String>,
    matcher: Spec,
}

/// A matcher as written (see the data file's header).
#[derive(Deserialize, Clone, Debug)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Spec {
    Contents(String),
    PathTemplate {
        path: String,
        contents: String,
    },
    Any(Vec<Spec>),
    Excluding {
        patterns: Vec<String>,
        matcher: Box<Spec>,
    },
    SharedLibrary {
        library: String,
        matcher: Box<Spec>,
    },
    Named(String),
}

/// Index of a leaf in [`Rules::leaves`].
pub type LeafId = usize;

/// A regex searched for in a file's bytes.
#[derive(Debug)]
pub enum Leaf {
    /// Its first match with a non-empty named group gives the groups.
    Extract(regex::bytes::Regex),
    /// Only whether it matches anywhere.
    Exists(regex::bytes::Regex),
    /// An [`Leaf::Extract`] regex written from the file's path: the text
    /// with `{{ .name }}` placeholders.
    Template(String),
}

/// A compiled matcher.
#[derive(Clone, Debug)]
pub enum Matcher {
    /// The version from a leaf's first match (or major.minor.patch).
    Contents(LeafId),
    /// `path` must match the file's path; the leaf is a [`Leaf::Template`].
    PathTemplate { path: regex::Regex, leaf: LeafId },
    /// The first that finds something.
    Any(Vec<Matcher>),
    /// Nothing when any of `patterns` (all [`Leaf::Exists`]) matches.
    Excluding {
        patterns: Vec<LeafId>,
        matcher: Box<Matcher>,
    },
    /// `matcher` over the image's files named like an imported library
    /// that matches `library`.
    SharedLibrary {
        library: regex::Regex,
        matcher: Box<Matcher>,
    },
}

/// One classifier.
#[derive(Debug)]
pub struct Classifier {
    pub class: String,
    /// Where Syft defines it.
    pub source: String,
    pub package: String,
    pub purl_type: String,
    pub purl_namespace: Option<String>,
    pub purl_name: String,
    pub cpes: Vec<String>,
    pub matcher: Matcher,
}

/// Every classifier, compiled.
#[derive(Debug)]
pub struct Rules {
    pub classifiers: Vec<Classifier>,
    pub leaves: Vec<Leaf>,
    /// Every classifier's globs; [`Rules::glob_owner`] maps a glob to its
    /// classifier.
    globs: GlobSet,
    glob_owner: Vec<usize>,
    /// Library-name regexes of the shared-library matchers, with the
    /// matcher run on files so named.
    pub libraries: Vec<(regex::Regex, Matcher)>,
}

/// The rules of `data/classifiers.toml`, parsed on first use.
pub fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| Rules::parse(DATA).expect("data/classifiers.toml is valid (unit-tested)"))
}

impl Rules {
    /// Parses and compiles a rules file.
    pub fn parse(text: &str) -> Result<Rules, String> {
        let file: RulesFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut compiler = Compiler {
            named: &file.matchers,
            leaves: Vec::new(),
            leaf_ids: HashMap::new(),
            libraries: Vec::new(),
        };
        let mut classifiers = Vec::new();
        let mut globs = GlobSetBuilder::new();
        let mut glob_owner = Vec::new();
        for (index, spec) in file.classifier.iter().enumerate() {
            let matcher = compiler
                .compile(&spec.matcher, 0)
                .map_err(|e| format!("{}: {e}", spec.class))?;
            for glob in &spec.globs {
                globs.add(
                    GlobBuilder::new(glob)
                        .literal_separator(true)
                        .build()
                        .map_err(|e| format!("{}: {e}", spec.class))?,
                );
                glob_owner.push(index);
            }
            let (purl_type, purl_namespace, purl_name) =
                split_purl(&spec.purl).ok_or_else(|| format!("{}: bad PURL", spec.class))?;
            classifiers.push(Classifier {
                class: spec.class.clone(),
                source: spec.source.clone(),
                package: spec.package.clone(),
                purl_type,
                purl_namespace,
                purl_name,
                cpes: spec.cpes.clone(),
                matcher,
            });
        }
        Ok(Rules {
            classifiers,
            leaves: compiler.leaves,
            globs: globs.build().map_err(|e| e.to_string())?,
            glob_owner,
            libraries: compiler.libraries,
        })
    }

    /// The classifiers whose globs match `path` (image-relative, no leading
    /// `/`), in file order, each once.
    pub fn classifiers_for(&self, path: &str) -> Vec<usize> {
        let mut found: Vec<usize> = self
            .globs
            .matches(path)
            .into_iter()
            .map(|glob| self.glob_owner[glob])
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }
}

struct Compiler<'a> {
    named: &'a BTreeMap<String, Spec>,
    leaves: Vec<Leaf>,
    /// Leaves by kind and text, so a regex used twice is searched once.
    leaf_ids: HashMap<(u8, String), LeafId>,
    libraries: Vec<(regex::Regex, Matcher)>,
}

/// Named matchers may refer to others; deeper than this is a cycle.
const MAX_DEPTH: usize = 16;

impl Compiler<'_> {
    fn compile(&mut self, spec: &Spec, depth: usize) -> Result<Matcher, String> {
        if depth > MAX_DEPTH {
            return Err("matchers nest too deep (a cycle of named matchers?)".into());
        }
        Ok(match spec {
            Spec::Contents(re) => Matcher::Contents(self.leaf(0, re)?),
            Spec::PathTemplate { path, contents } => Matcher::PathTemplate {
                path: regex::Regex::new(path).map_err(|e| e.to_string())?,
                leaf: self.leaf(2, contents)?,
            },
            Spec::Any(specs) => Matcher::Any(
                specs
                    .iter()
                    .map(|s| self.compile(s, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            Spec::Excluding { patterns, matcher } => Matcher::Excluding {
                patterns: patterns
                    .iter()
                    .map(|p| self.leaf(1, p))
                    .collect::<Result<_, _>>()?,
                matcher: Box::new(self.compile(matcher, depth + 1)?),
            },
            Spec::SharedLibrary { library, matcher } => {
                let library = regex::Regex::new(library).map_err(|e| e.to_string())?;
                let matcher = self.compile(matcher, depth + 1)?;
                self.libraries.push((library.clone(), matcher.clone()));
                Matcher::SharedLibrary {
                    library,
                    matcher: Box::new(matcher),
                }
            }
            Spec::Named(name) => {
                let spec = self
                    .named
                    .get(name)
                    .ok_or_else(|| format!("no matcher named {name:?}"))?;
                self.compile(spec, depth + 1)?
            }
        })
    }

    /// The leaf for `text` of `kind` (0 extract, 1 exists, 2 template).
    fn leaf(&mut self, kind: u8, text: &str) -> Result<LeafId, String> {
        if let Some(id) = self.leaf_ids.get(&(kind, text.to_string())) {
            return Ok(*id);
        }
        let leaf = match kind {
            0 => Leaf::Extract(bytes_regex(text)?),
            1 => Leaf::Exists(bytes_regex(text)?),
            _ => {
                // Checked with a sample value so a broken template fails here.
                bytes_regex(&render(text, &[("version".into(), "1\\.2".into())]))?;
                Leaf::Template(text.to_string())
            }
        };
        self.leaves.push(leaf);
        self.leaf_ids
            .insert((kind, text.to_string()), self.leaves.len() - 1);
        Ok(self.leaves.len() - 1)
    }
}

/// A Go regex run over bytes as Go runs it over a binary's string: with
/// Unicode off, `.` and negated classes match any byte (Go reads an invalid
/// byte as one U+FFFD rune, which they match too) and `\d`, `\s`, `\w` are
/// ASCII, as in Go.
pub fn bytes_regex(text: &str) -> Result<regex::bytes::Regex, String> {
    regex::bytes::RegexBuilder::new(&format!("(?-u){text}"))
        // Bounds what a hostile rules file could make the compiler build.
        .size_limit(16 << 20)
        .build()
        .map_err(|e| e.to_string())
}

/// Fills `{{ .name }}` placeholders (Go template syntax, the only form
/// Syft's templates use) with `values`; an unknown name renders as Go's
/// `<no value>`.
pub fn render(template: &str, values: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = rest[open + 2..open + close].trim().trim_start_matches('.');
        match values.iter().find(|(k, _)| k == name) {
            Some((_, v)) => out.push_str(v),
            None => out.push_str("<no value>"),
        }
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    out
}

/// `pkg:TYPE/NAMESPACE/NAME@version` into its parts.
fn split_purl(purl: &str) -> Option<(String, Option<String>, String)> {
    let rest = purl.strip_prefix("pkg:")?;
    let rest = rest.split_once('@').map_or(rest, |(path, _)| path);
    let (kind, path) = rest.split_once('/')?;
    let (namespace, name) = match path.rsplit_once('/') {
        Some((ns, name)) => (Some(ns.to_string()), name),
        None => (None, path),
    };
    Some((kind.to_string(), namespace, name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syfts_list_parses_and_compiles() {
        let rules = rules();
        assert_eq!(
            rules.classifiers.len(),
            58,
            "Syft 1.18.1 has 58 classifiers"
        );
        // The libpython leaves are shared by python-binary and -lib.
        assert_eq!(rules.libraries.len(), 2);
        for c in &rules.classifiers {
            assert!(
                c.source.starts_with("syft v1.18.1 classifiers.go#L"),
                "{}",
                c.class
            );
        }
    }

    #[test]
    fn globs_pick_classifiers_by_file_name() {
        let rules = rules();
        let classes = |path: &str| -> Vec<&str> {
            rules
                .classifiers_for(path)
                .into_iter()
                .map(|i| rules.classifiers[i].class.as_str())
                .collect()
        };
        let cases: &[(&str, &[&str])] = &[
            ("usr/local/bin/python3.11", &["python-binary"]),
            ("python3", &["python-binary"]),
            ("usr/lib/libpython3.11.so.1.0", &["python-binary-lib"]),
            ("usr/local/bin/php", &["php-cli-binary"]),
            ("usr/sbin/php-fpm8.2", &["php-cli-binary", "php-fpm-binary"]),
            ("usr/bin/mariadb", &["mariadb-binary"]),
            (
                "lib/libstd-0123456789abcdef.so",
                &["rust-standard-library-linux"],
            ),
            ("lib/libstd-0123.so", &[]),
            ("usr/bin/python/x", &[]),
            ("usr/bin/notnode", &[]),
        ];
        for (path, want) in cases {
            assert_eq!(&classes(path), want, "{path}");
        }
        let java: Vec<&str> = classes("usr/local/openjdk-17/bin/java");
        assert_eq!(java.len(), 4);
    }

    #[test]
    fn templates_render_like_go_templates() {
        let values = [("version".to_string(), "3\\.11".to_string())];
        let cases = [
            ("a{{ .version }}b", "a3\\.11b"),
            ("{{.version}}", "3\\.11"),
            ("{{ .other }}", "<no value>"),
            ("no placeholder", "no placeholder"),
            ("unclosed {{ .version", "unclosed {{ .version"),
        ];
        for (template, want) in cases {
            assert_eq!(render(template, &values), want);
        }
    }

    #[test]
    fn purls_split_into_type_namespace_and_name() {
        let cases = [
            ("pkg:generic/python@version", ("generic", None, "python")),
            (
                "pkg:generic/java/jre@version",
                ("generic", Some("java"), "jre"),
            ),
            (
                "pkg:golang/github.com/hashicorp/consul@version",
                ("golang", Some("github.com/hashicorp"), "consul"),
            ),
        ];
        for (purl, (kind, ns, name)) in cases {
            let (k, n, m) = split_purl(purl).unwrap();
            assert_eq!((k.as_str(), n.as_deref(), m.as_str()), (kind, ns, name));
        }
        assert!(split_purl("generic/x").is_none());
    }

    #[test]
    fn bad_rules_are_errors_not_panics() {
        let cases = [
            "classifier = []\n[matchers.a]\nnamed = 'a'\n",
            "[[classifier]]\nclass='x'\nsource='s'\nglobs=['**/x']\npackage='x'\npurl='pkg:generic/x@version'\ncpes=[]\nmatcher.contents='('\n",
            "[[classifier]]\nclass='x'\nsource='s'\nglobs=['**/x']\npackage='x'\npurl='pkg:generic/x@version'\ncpes=[]\nmatcher.named='nope'\n",
            "[[classifier]]\nclass='x'\nsource='s'\nglobs=['**/x']\npackage='x'\npurl='x'\ncpes=[]\nmatcher.contents='a'\n",
            "[[classifier]]\nclass='x'\nsource='s'\nglobs=['**/x']\npackage='x'\npurl='pkg:generic/x@version'\ncpes=[]\nmatcher.unknown='a'\n",
        ];
        // The first one parses (the cycle is never used); the others fail.
        assert!(Rules::parse(cases[0]).is_ok());
        for case in &cases[1..] {
            assert!(Rules::parse(case).is_err(), "{case}");
        }
        let cycle = "[matchers.a]\nnamed = 'a'\n[[classifier]]\nclass='x'\nsource='s'\nglobs=['**/x']\npackage='x'\npurl='pkg:generic/x@version'\ncpes=[]\nmatcher.named='a'\n";
        assert!(Rules::parse(cycle).unwrap_err().contains("too deep"));
    }
}
