//! The attack-surface catalog: a data file (`catalog.toml`, compiled in)
//! naming the programs an attacker uses, by kind, with severities and what
//! each can be abused for.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

/// The catalog that ships with pare.
pub const BUILTIN: &str = include_str!("../catalog.toml");

/// What a finding is about. Tool kinds come from the catalog; the last four
/// from file rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Shell,
    PackageManager,
    Busybox,
    Interpreter,
    Lolbin,
    NetworkTool,
    Compiler,
    Debugger,
    Setuid,
    Setgid,
    FileCapability,
    WorldWritable,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::Shell,
        Kind::PackageManager,
        Kind::Busybox,
        Kind::Interpreter,
        Kind::Lolbin,
        Kind::NetworkTool,
        Kind::Compiler,
        Kind::Debugger,
        Kind::Setuid,
        Kind::Setgid,
        Kind::FileCapability,
        Kind::WorldWritable,
    ];

    /// The name used in JSON, SARIF rule ids and `--fail-on`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Shell => "shell",
            Kind::PackageManager => "package-manager",
            Kind::Busybox => "busybox",
            Kind::Interpreter => "interpreter",
            Kind::Lolbin => "lolbin",
            Kind::NetworkTool => "network-tool",
            Kind::Compiler => "compiler",
            Kind::Debugger => "debugger",
            Kind::Setuid => "setuid",
            Kind::Setgid => "setgid",
            Kind::FileCapability => "file-capability",
            Kind::WorldWritable => "world-writable",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindInfo {
    pub severity: Severity,
    pub reason: String,
}

/// One catalog entry: programs of one kind that share severity and abuse.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub kind: Kind,
    pub names: Vec<String>,
    #[serde(default)]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub abuse: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    kinds: BTreeMap<Kind, KindInfo>,
    tools: Vec<Tool>,
}

/// A loaded catalog with its name index.
#[derive(Clone, Debug)]
pub struct Catalog {
    pub kinds: BTreeMap<Kind, KindInfo>,
    pub tools: Vec<Tool>,
    by_name: HashMap<String, usize>,
}

/// A program name matched in the catalog.
#[derive(Clone, Copy, Debug)]
pub struct Match<'a> {
    pub tool: &'a Tool,
    pub severity: Severity,
}

const ABUSES: &[&str] = &[
    "shell",
    "command",
    "reverse-shell",
    "bind-shell",
    "upload",
    "download",
    "file-read",
    "file-write",
    "library-load",
    "encode-decode",
];

impl Catalog {
    /// The catalog compiled into pare.
    pub fn builtin() -> Catalog {
        Catalog::parse(BUILTIN).expect("the built-in catalog is checked by a unit test")
    }

    /// Parses a catalog file; names must be unique, kinds described, and
    /// abuse values among the known categories.
    pub fn parse(text: &str) -> Result<Catalog, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut by_name = HashMap::new();
        for (index, tool) in file.tools.iter().enumerate() {
            if !file.kinds.contains_key(&tool.kind) {
                return Err(format!("kind {} has no [kinds] entry", tool.kind.as_str()));
            }
            if let Some(abuse) = tool.abuse.iter().find(|a| !ABUSES.contains(&a.as_str())) {
                return Err(format!("unknown abuse {abuse:?}"));
            }
            for name in &tool.names {
                if by_name.insert(name.clone(), index).is_some() {
                    return Err(format!("{name:?} is listed twice"));
                }
            }
        }
        Ok(Catalog {
            kinds: file.kinds,
            tools: file.tools,
            by_name,
        })
    }

    /// The entry a file name matches: exactly, with a version after it
    /// (`python3.11`, `gcc-12`), or with a GNU triplet before it.
    pub fn lookup(&self, file_name: &str) -> Option<Match<'_>> {
        let name = strip_triplet(file_name);
        let index = self
            .by_name
            .get(name)
            .or_else(|| self.by_name.get(strip_version(name)?))?;
        let tool = &self.tools[*index];
        let severity = tool
            .severity
            .unwrap_or_else(|| self.kinds[&tool.kind].severity);
        Some(Match { tool, severity })
    }

    /// The kind's description.
    pub fn reason(&self, kind: Kind) -> Option<&str> {
        self.kinds.get(&kind).map(|k| k.reason.as_str())
    }
}

/// `python3.11` → `python`, `gcc-12` → `gcc`; `None` without a version.
fn strip_version(name: &str) -> Option<&str> {
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    if stem.len() == name.len() || !name[stem.len()..].starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let stem = stem.strip_suffix('-').unwrap_or(stem);
    (!stem.is_empty()).then_some(stem)
}

/// `x86_64-linux-gnu-gcc-12` → `gcc-12`.
fn strip_triplet(name: &str) -> &str {
    for marker in ["-linux-gnu-", "-linux-gnueabihf-", "-linux-musl-"] {
        if let Some(at) = name.find(marker) {
            return &name[at + marker.len()..];
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalog_loads_and_covers_every_tool_kind() {
        let catalog = Catalog::builtin();
        for kind in &Kind::ALL[..8] {
            assert!(catalog.tools.iter().any(|t| t.kind == *kind), "{kind:?}");
        }
    }

    #[test]
    fn names_match_with_versions_and_triplets() {
        let catalog = Catalog::builtin();
        let cases = [
            ("bash", Some(Kind::Shell)),
            ("python3.11", Some(Kind::Interpreter)),
            ("python3", Some(Kind::Interpreter)),
            ("perl5.36.0", Some(Kind::Interpreter)),
            ("pip3", Some(Kind::PackageManager)),
            ("gcc-12", Some(Kind::Compiler)),
            ("x86_64-linux-gnu-gcc-12", Some(Kind::Compiler)),
            ("nc.openbsd", Some(Kind::Lolbin)),
            ("base64", Some(Kind::Lolbin)),
            ("bashbug", None),
            ("python-config", None),
            ("ls", None),
            ("3", None),
        ];
        for (name, want) in cases {
            assert_eq!(catalog.lookup(name).map(|m| m.tool.kind), want, "{name}");
        }
    }

    #[test]
    fn bad_catalogs_are_refused_with_the_reason() {
        let kinds = "[kinds.shell]\nseverity = \"high\"\nreason = \"r\"\n";
        let cases = [
            (
                format!("{kinds}[[tools]]\nkind = \"shell\"\nnames = [\"sh\", \"sh\"]\n"),
                "twice",
            ),
            (
                format!("{kinds}[[tools]]\nkind = \"lolbin\"\nnames = [\"x\"]\n"),
                "no [kinds]",
            ),
            (
                format!("{kinds}[[tools]]\nkind = \"shell\"\nnames = [\"x\"]\nabuse = [\"fly\"]\n"),
                "unknown abuse",
            ),
            (
                format!("{kinds}[[tools]]\nkind = \"shell\"\nname = \"x\"\n"),
                "unknown field",
            ),
        ];
        for (text, want) in cases {
            let err = Catalog::parse(&text).unwrap_err();
            assert!(err.contains(want), "{err}");
        }
    }
}
