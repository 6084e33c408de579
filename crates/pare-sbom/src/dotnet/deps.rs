//! `*.deps.json`, the dependency manifest `dotnet build`/`publish` writes
//! beside an application, read as Syft 1.18's `dotnet-deps-cataloger`
//! reads it (anchore/syft v1.18.1, `syft/pkg/cataloger/dotnet/
//! parse_dotnet_deps.go`, `package.go`).
//!
//! - The first JSON document of the file is decoded into Syft's structs
//!   (`runtimeTarget.name`; `targets`: target → library →
//!   `dependencies` (strings), `runtime` (objects); `libraries`: key →
//!   `type`, `path`, `sha512`, `hashPath` strings). A value of another type
//!   anywhere in them fails the whole file, as Go's decoder does.
//! - The root project's name is the file name without `.deps.json`; its
//!   package is the library of `"type": "project"` with that name. No such
//!   library: the file gives nothing.
//! - Every library is a package: `NAME/VERSION` split at `/` (a third part
//!   is dropped), type `dotnet`, PURL `pkg:nuget/NAME@VERSION`; the root
//!   once. Then Syft's compliance rule: no name, no package; no version,
//!   `UNKNOWN`.
//! - A library key without `/` makes Syft's parser index past the end of
//!   a Go slice: the panic fails Syft's whole run (exit 1, no SBOM). pare
//!   drops that file only, with a [`DepsError::SyftPanics`].

use serde_json::Value;

use crate::npm::gojson::{self, Shape};

/// Syft's `dotnetDeps`.
const DEPS: Shape = Shape::Struct(&[
    ("runtimeTarget", Shape::Struct(&[("name", Shape::Str)])),
    (
        "targets",
        Shape::Map(&Shape::Map(&Shape::Struct(&[
            ("dependencies", Shape::StrMap),
            ("runtime", Shape::Map(&Shape::Struct(&[]))),
        ]))),
    ),
    (
        "libraries",
        Shape::Map(&Shape::Struct(&[
            ("type", Shape::Str),
            ("path", Shape::Str),
            ("sha512", Shape::Str),
            ("hashPath", Shape::Str),
        ])),
    ),
]);

/// Why a deps file gives no package.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DepsError {
    #[error("not a deps.json Syft can decode")]
    Undecodable,
    #[error("no project library named {0:?} (the file's name)")]
    NoRoot(String),
    #[error("library {0:?} has no \"/\": Syft 1.18 fails its whole scan on it")]
    SyftPanics(String),
}

/// The root project's name from the file's path (Syft's
/// `getDepsJSONFilePrefix`): the last path element, after any `\`, without
/// `.deps.json`; `None` when that is empty.
pub fn root_name(path: &str) -> Option<&str> {
    let stem = path.strip_suffix(".deps.json")?;
    let name = stem.rsplit(['/', '\\']).next().unwrap_or(stem);
    (!name.is_empty()).then_some(name)
}

/// The (name, version) packages of the deps file at `path` (root project
/// first, then every other library by key), before the compliance rule.
pub fn packages(path: &str, bytes: &[u8]) -> Result<Vec<(String, String)>, DepsError> {
    let doc = serde_json::Deserializer::from_slice(bytes)
        .into_iter::<Value>()
        .next()
        .and_then(Result::ok)
        .ok_or(DepsError::Undecodable)?;
    if !gojson::fits(&doc, DEPS) {
        return Err(DepsError::Undecodable);
    }
    let empty = serde_json::Map::new();
    let libraries = doc
        .as_object()
        .and_then(|o| gojson::field(o, "libraries"))
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    // Go sorts nothing before it splits every key: any key without `/`
    // panics, whichever comes first.
    let mut split = Vec::with_capacity(libraries.len());
    for (key, library) in libraries {
        let mut parts = key.split('/');
        let name = parts.next().unwrap_or_default();
        let Some(version) = parts.next() else {
            return Err(DepsError::SyftPanics(key.clone()));
        };
        let kind = library
            .as_object()
            .map(|l| gojson::string(l, "type"))
            .unwrap_or_default();
        split.push((key.as_str(), name, version, kind));
    }
    let root_name = root_name(path).ok_or_else(|| DepsError::NoRoot(String::new()))?;
    // Syft keeps the last match of a Go map walk (random order); pare the
    // last by key.
    let root = split
        .iter()
        .filter(|(_, name, _, kind)| kind == "project" && *name == root_name)
        .max_by_key(|(key, ..)| *key)
        .map(|(_, name, version, _)| (name.to_string(), version.to_string()))
        .ok_or_else(|| DepsError::NoRoot(root_name.to_string()))?;
    split.sort_by_key(|(key, ..)| *key);
    let mut found = vec![root.clone()];
    for (_, name, version, _) in &split {
        if (*name, *version) != (root.0.as_str(), root.1.as_str()) {
            found.push((name.to_string(), version.to_string()));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps(libraries: &str) -> String {
        format!(
            r#"{{"runtimeTarget": {{"name": ".NETCoreApp,Version=v8.0"}}, "targets": {{".NETCoreApp,Version=v8.0": {{"App/1.0.0": {{"dependencies": {{"Serilog": "3.1.1"}}, "runtime": {{"App.dll": {{}}}}}}}}}}, "libraries": {{{libraries}}}}}"#
        )
    }

    const APP: &str = r#""App/1.0.0": {"type": "project", "serviceable": false, "sha512": ""}"#;
    const SERILOG: &str = r#""Serilog/3.1.1": {"type": "package", "serviceable": true, "sha512": "sha512-x", "path": "serilog/3.1.1", "hashPath": "serilog.3.1.1.nupkg.sha512"}"#;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    /// One row per rule: (case, file path, contents, expected packages or
    /// error).
    #[test]
    fn deps_table() {
        type Want = Result<Vec<(String, String)>, DepsError>;
        let table: Vec<(&str, &str, String, Want)> = vec![
            (
                "root and a package",
                "/app/App.deps.json",
                deps(&format!("{APP}, {SERILOG}")),
                Ok(pairs(&[("App", "1.0.0"), ("Serilog", "3.1.1")])),
            ),
            (
                "root named by the file, not the first project",
                "/app/App.deps.json",
                deps(&format!(
                    r#""Lib/2.0.0": {{"type": "project"}}, {APP}, {SERILOG}"#
                )),
                Ok(pairs(&[
                    ("App", "1.0.0"),
                    ("Lib", "2.0.0"),
                    ("Serilog", "3.1.1"),
                ])),
            ),
            (
                "no project of the file's name",
                "/app/Other.deps.json",
                deps(&format!("{APP}, {SERILOG}")),
                Err(DepsError::NoRoot("Other".into())),
            ),
            (
                "a key without a slash",
                "/app/App.deps.json",
                deps(&format!(r#"{APP}, "Broken": {{"type": "package"}}"#)),
                Err(DepsError::SyftPanics("Broken".into())),
            ),
            (
                "wrong type in a library",
                "/app/App.deps.json",
                deps(&format!(r#"{APP}, "X/1": {{"sha512": 1}}"#)),
                Err(DepsError::Undecodable),
            ),
            (
                "runtime entries must be objects",
                "/app/App.deps.json",
                r#"{"targets": {"t": {"App/1.0.0": {"runtime": {"App.dll": "x"}}}}, "libraries": {"App/1.0.0": {"type": "project"}}}"#.into(),
                Err(DepsError::Undecodable),
            ),
            (
                "keys in any case, nulls, a third part, trailing text",
                "C:\\app\\App.deps.json",
                r#"{"LIBRARIES": {"App/1.0.0/x": {"Type": "project"}, "A/": null, "/9": {}}} trailing"#.into(),
                Ok(pairs(&[("App", "1.0.0"), ("", "9"), ("A", "")])),
            ),
            ("not JSON", "/a/App.deps.json", "bogus deps.json".into(), Err(DepsError::Undecodable)),
            ("empty", "/a/App.deps.json", String::new(), Err(DepsError::Undecodable)),
            (
                "nameless file",
                "/a/.deps.json",
                deps(APP),
                Err(DepsError::NoRoot(String::new())),
            ),
        ];
        for (case, path, text, want) in table {
            assert_eq!(packages(path, text.as_bytes()), want, "{case}");
        }
    }

    #[test]
    fn root_names() {
        assert_eq!(
            root_name("/srv/app/TestLibrary.deps.json"),
            Some("TestLibrary")
        );
        assert_eq!(root_name("a\\b\\c.deps.json"), Some("c"));
        assert_eq!(root_name("/srv/.deps.json"), None);
        assert_eq!(root_name("/srv/x.json"), None);
    }
}
